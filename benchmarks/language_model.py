"""A language model's held-out perplexity beside a Kneser-Ney trigram model of the same tokens, in one run,
and the notes' word-guessing sentence.

Run from the repository root, with the datasets in ../shared/datasets:

    python benchmarks/language_model.py --model sentiment_rnn/bundled/reviews-lm [--texts 500]

The text is the one the language model was trained on (the sources in its meta.json), split as
`pretrain` split it: one text in N held out. The trigram model is counted here on the training texts'
tokens with the model's own vocabulary (other words are [UNK]), each text between two boundary tokens,
as the language model reads it. Both are scored on the same --texts held-out texts (the first of
them, in reading order), each text on its own from the text boundary: every token and the text's end.

The trigram model is interpolated Kneser-Ney (Kneser & Ney 1995; Chen & Goodman 1998) with one
discount D = 0.75 per order, written here in a few lines; its unigram level is the continuation
count with add-one smoothing, so no word has probability 0.

Writes benchmarks/results/language_model.md.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sentiment_rnn.artifact.model_directory import open_model_dir  # noqa: E402
from sentiment_rnn.data.unlabelled import TextFiles, encoded_texts  # noqa: E402
from sentiment_rnn.guessing import guess, sorted_words  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "language_model.md"
DISCOUNT = 0.75
FRANCE = "I went to France last year, there the people speak the ___ language"


class KneserNeyTrigram:
    """Interpolated Kneser-Ney over token ids; a text is [0, 0, w1 .. wn, 0] (0 = the text boundary)."""

    def __init__(self, texts, vocabulary_size: int):
        self.size = vocabulary_size
        self.trigrams: Counter = Counter()
        for ids in texts:
            padded = [0, 0, *ids, 0]
            self.trigrams.update(zip(padded, padded[1:], padded[2:]))
        self.context = Counter()  # c(u v .)
        self.context_types = Counter()  # N1+(u v .)
        self.middle = Counter()  # N1+(. v w): distinct u before v w
        for (u, v, w), count in self.trigrams.items():
            self.context[u, v] += count
            self.context_types[u, v] += 1
            self.middle[v, w] += 1
        self.middle_total = Counter()  # N1+(. v .)
        self.middle_types = Counter()  # N1+(v .) among the continuation counts
        self.left = Counter()  # N1+(. w): distinct v before w
        for (v, w), count in self.middle.items():
            self.middle_total[v] += count
            self.middle_types[v] += 1
            self.left[w] += 1
        self.left_total = sum(self.left.values())

    def unigram(self, w: int) -> float:
        return (self.left[w] + 1) / (self.left_total + self.size)

    def bigram(self, v: int, w: int) -> float:
        total = self.middle_total[v]
        if not total:
            return self.unigram(w)
        return (max(self.middle[v, w] - DISCOUNT, 0) + DISCOUNT * self.middle_types[v] * self.unigram(w)) / total

    def probability(self, u: int, v: int, w: int) -> float:
        total = self.context[u, v]
        if not total:
            return self.bigram(v, w)
        seen = max(self.trigrams[u, v, w] - DISCOUNT, 0)
        return (seen + DISCOUNT * self.context_types[u, v] * self.bigram(v, w)) / total

    def log_likelihood(self, ids: list[int]) -> float:
        """Natural log-probability of a text's tokens and its end."""
        padded = [0, 0, *ids, 0]
        return sum(math.log(self.probability(u, v, w)) for u, v, w in zip(padded, padded[1:], padded[2:]))


def recurrent_log_likelihood(engine, ids: list[int]) -> float:
    """The language model's natural log-probability of a text's tokens and its end, read from the boundary."""
    row = np.array([[0, *ids]])
    log_probs = engine.next_word_log_probabilities(row)[0]  # (n + 1, V)
    return float(log_probs[np.arange(len(ids) + 1), [*ids, 0]].sum())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="sentiment_rnn/bundled/reviews-lm", help="a language model directory")
    parser.add_argument("--texts", type=int, default=500, help="held-out texts scored by both models")
    args = parser.parse_args()
    load = os.getloadavg()
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    directory = open_model_dir(args.model)
    data = directory.meta["data"]
    files = TextFiles(tuple(data["sources"]))
    every = data["heldout_every"]
    vocabulary = directory.vocabulary()
    clock = time.perf_counter()
    trigram = KneserNeyTrigram(encoded_texts(files, vocabulary, every, heldout=False), len(vocabulary))
    counted = time.perf_counter() - clock
    engine = directory.numpy_engine
    held_out = []
    for ids in encoded_texts(files, vocabulary, every, heldout=True):
        held_out.append(ids)
        if len(held_out) == args.texts:
            break
    tokens = sum(len(ids) + 1 for ids in held_out)
    recurrent = -sum(recurrent_log_likelihood(engine, ids) for ids in held_out) / tokens
    counted_model = -sum(trigram.log_likelihood(ids) for ids in held_out) / tokens
    in_order = guess(directory, FRANCE, k=5)
    sorted_text = sorted_words(FRANCE)
    bag = guess(directory, sorted_text, k=5)
    command = f"python benchmarks/language_model.py --model {args.model} --texts {args.texts}"
    metrics = directory.metrics()
    lines = [
        "# Language model: held-out perplexity beside a Kneser-Ney trigram model, and the word-guessing game",
        "",
        f"Command: `{command}`; {started}; {platform.machine()}, {os.cpu_count()} CPUs; load average at the start "
        f"{load[0]:.2f}, {load[1]:.2f}, {load[2]:.2f}.",
        "",
        f"Text: {', '.join(data['sources'])}; one text in {every} held out, as `pretrain` held it out. The "
        f"trigram model is counted on the {data['train_texts']:,} training texts ({data['train_tokens']:,} tokens, "
        f"{len(trigram.trigrams):,} distinct trigrams, {counted:.0f} s) with the language model's "
        f"{len(vocabulary):,}-word vocabulary; both score the first {len(held_out):,} held-out texts "
        f"({tokens:,} tokens with each text's end), each text read on its own from the text boundary.",
        "",
        "| model | held-out perplexity |",
        "|---|---|",
        f"| {args.model} (GRU language model) | {math.exp(recurrent):.1f} |",
        f"| interpolated Kneser-Ney trigram, D = {DISCOUNT} | {math.exp(counted_model):.1f} |",
        "",
        f"(`pretrain`'s own figure over all {metrics.get('texts', 0):,} held-out texts, the state carried from "
        f"text to text: {metrics.get('perplexity', float('nan')):.1f}.)",
        "",
        f'`sentiment-rnn guess --model {args.model} "{FRANCE}"`:',
        "",
        "| rank | in order | probability | the words sorted | probability |",
        "|---|---|---|---|---|",
        *(
            f"| {rank} | {a.word} | {a.probability:.4f} | {b.word} | {b.probability:.4f} |"
            for rank, (a, b) in enumerate(zip(in_order.guesses, bag.guesses), start=1)
        ),
        "",
        f"The sorted version is `{sorted_text}`: what a bag of words sees.",
        "",
    ]
    RESULTS.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))
    print(json.dumps({"recurrent": math.exp(recurrent), "trigram": math.exp(counted_model)}))


if __name__ == "__main__":
    main()
