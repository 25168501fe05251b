"""The word-guessing game, played by a language model (``sentiment-rnn guess``).

With a blank (two or more underscores, ``___``) the model fills it in: every
candidate word w is scored with the whole sentence, the words after the blank
too, ``log P(w, after | before) = log P(w | before) + sum_j log P(after_j | before, w, after_<j)``
(the text's end counts as one more word after the blank), and the
probabilities are these scores' softmax over the candidates. The candidates
are the :data:`CANDIDATES` words most probable after the words before the
blank: a word the model gives less than that has no chance with the rest.
Without a blank it guesses the next word, with the model's own probabilities.

A bag of words cannot play: it sees the words, not their order. ``sorted_words``
shows what it sees (the words sorted, the blank kept where it was), and the same
model guessing on that text shows what is lost.

Both engines give the same probabilities (to 1e-5; so the same words in the same
order, but for two words that tie to that precision): the NumPy engine
(``engine.language.NumpyLanguageModel``) by default, Keras with ``engine="keras"``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

import numpy as np

from sentiment_rnn.engine.language import log_softmax, picked_log_probabilities
from sentiment_rnn.errors import SentimentError
from sentiment_rnn.text import tokenize_py

BLANK = re.compile(r"_{2,}")  # the blank to fill in: two or more underscores
CANDIDATES = 1000  # words scored with the whole sentence
BATCH_ROWS = 256  # candidate sentences per forward pass
BOUNDARY_ID, UNKNOWN_ID = 0, 1  # the text boundary (before and after every text) and [UNK]: never guessed
ENGINES = ("numpy", "keras")


@dataclass
class Guess:
    word: str
    probability: float


@dataclass
class Guesses:
    """A language model's guesses for one text."""

    text: str
    blank: bool  # True: guesses for the blank; False: for the next word
    guesses: list[Guess]
    unknown: list[str] = field(default_factory=list)  # words of the text outside the model's vocabulary

    def to_dict(self) -> dict:
        return {
            "text": self.text,
            "blank": self.blank,
            "guesses": [{"word": g.word, "probability": g.probability} for g in self.guesses],
            "unknown_words": self.unknown,
        }


class KerasLanguageModel:
    """The Keras model of a language model directory with the NumPy engine's ``hidden`` and ``logits``."""

    def __init__(self, model):
        from sentiment_rnn.models import EMBEDDING_LAYER, PROJECTION_LAYER
        from sentiment_rnn.tf_setup import import_keras

        keras = import_keras()
        self.hidden_model = keras.Model(model.input, model.get_layer(PROJECTION_LAYER).output)
        self.embedding = model.get_layer(EMBEDDING_LAYER)

    def hidden(self, ids: np.ndarray) -> np.ndarray:
        """ids (B, T) int -> the projected top states (B, T, D) float32."""
        return np.asarray(self.hidden_model(np.asarray(ids, dtype=np.int32), training=False))

    def logits(self, hidden: np.ndarray) -> np.ndarray:
        """(..., D) -> the next word's logits (..., V) float32 (the softmax is taken in NumPy, as the engine's)."""
        return np.asarray(self.embedding(hidden, reverse=True))


def language_model(model_dir, engine: str = "numpy"):
    """(vocabulary tokens, engine) of a language model directory (or a bundled one's name).

    Raises:
        SentimentError: not a model directory, not a language model, an unknown engine.
    """
    from sentiment_rnn.artifact.model_directory import as_model_directory

    if engine not in ENGINES:
        raise SentimentError(f"Unknown engine {engine!r}: use one of {', '.join(ENGINES)}.")
    directory = as_model_directory(model_dir)
    if directory.config.model.kind != "lm":
        raise SentimentError(
            f"{directory.path} is a {directory.config.model.kind} classifier, not a language model: guess needs one "
            "written by `sentiment-rnn pretrain` (or --model reviews-lm)."
        )
    if engine == "keras":
        runner = KerasLanguageModel(directory.model)
        return keras_vocabulary(directory, runner.embedding.input_dim), runner
    runner = directory.numpy_engine
    return runner.vocabulary.tokens, runner


def keras_vocabulary(directory, rows: int) -> list[str]:
    """The vocabulary of a language model directory's ``model.keras``, whose embedding has ``rows`` rows (token ids).

    The Keras model reads token ids: ``vocabulary.json`` names them, so it is checked as the NumPy engine checks
    it (distinct strings, padding and ``[UNK]`` first, the digest ``engine.json`` recorded when there is one:
    the same tokens in another order would name other words), and must name every row, no more.

    Raises:
        SentimentError: a vocabulary that is not one, not the one written with the model, or of another size
            than the embedding.
    """
    from sentiment_rnn.artifact.engine_files import VOCABULARY_DIGEST, checked_vocabulary, engine_fix
    from sentiment_rnn.artifact.files import ENGINE_FILE, MODEL_FILE, VOCABULARY_FILE, read_json

    file, engine_file = directory.path / VOCABULARY_FILE, directory.path / ENGINE_FILE
    recorded = read_json(engine_file, engine_fix(directory.config)) if os.path.lexists(engine_file) else {}
    digest = recorded.get(VOCABULARY_DIGEST) if isinstance(recorded, dict) else None
    tokens = checked_vocabulary(file, directory.config, digest)
    if len(tokens) != rows:
        raise SentimentError(
            f"{file} holds {len(tokens):,} tokens, but the embedding of {directory.path / MODEL_FILE} has {rows:,} "
            f"rows: restore it, or {engine_fix(directory.config)}."
        )
    return tokens


def continuation_scores(runner, prefix: list[int], continuations: np.ndarray) -> np.ndarray:
    """log P(continuation | prefix) of each row of continuations (n, S) int: (n,) float64.

    The NumPy engine reads the prefix once and every continuation from its state; the Keras model
    (no state to start from) reads each prefix + continuation whole: the same products.
    """
    scores = np.empty(len(continuations))
    if hasattr(runner, "run"):
        before, state = runner.run(np.array([prefix]))
    for first in range(0, len(continuations), BATCH_ROWS):
        batch = continuations[first : first + BATCH_ROWS]
        if hasattr(runner, "run"):
            after, _ = runner.run(batch[:, :-1], state)
            hidden = np.concatenate([np.repeat(before[:, -1:], len(batch), axis=0), after], axis=1)  # (B, S, D)
        else:
            rows = np.concatenate([np.repeat([prefix], len(batch), axis=0), batch[:, :-1]], axis=1)
            hidden = runner.hidden(rows)[:, len(prefix) - 1 :]  # (B, S, D): the states before each scored token
        scores[first : first + len(batch)] = picked_log_probabilities(runner.logits(hidden), batch).sum(axis=1)
    return scores


def guess(model_dir, text: str, k: int = 5, engine: str = "numpy", candidates: int = CANDIDATES) -> Guesses:
    """The ``k`` most probable words for the blank in ``text`` (or, without one, for the word after it).

    Args:
        model_dir: a language model directory (``sentiment-rnn pretrain``), a bundled one's name, or an
            opened ``ModelDirectory``.
        text: a sentence; a run of two or more underscores marks the blank (the first, if several).
        k: how many guesses, most probable first.
        engine: ``"numpy"`` (no TensorFlow) or ``"keras"``.
        candidates: with a blank, how many words are scored with the whole sentence.

    Raises:
        SentimentError: an empty text, k below 1, a model that is not a language model.
    """
    if k < 1:
        raise SentimentError(f"--k must be at least 1, got {k}.")
    if not guessable(text):
        raise SentimentError("The text is empty: give a sentence, with ___ where a word is missing.")
    tokens, runner = language_model(model_dir, engine)
    ids = {token: index for index, token in enumerate(tokens)}
    parts = BLANK.split(text, maxsplit=1)
    before, after = tokenize_py(parts[0]), tokenize_py(parts[1]) if len(parts) > 1 else []
    unknown = sorted({token for token in before + after if token not in ids})
    prefix = [BOUNDARY_ID, *(ids.get(token, UNKNOWN_ID) for token in before)]
    first = log_softmax(runner.logits(runner.hidden(np.array([prefix]))[:, -1]))[0]  # (V,) log P(w | before)
    first[[BOUNDARY_ID, UNKNOWN_ID]] = -np.inf
    if len(parts) == 1:
        best = np.argsort(-first, kind="stable")[:k]
        return Guesses(text, False, [Guess(tokens[i], float(np.exp(first[i]))) for i in best], unknown)
    suffix = [*(ids.get(token, UNKNOWN_ID) for token in after), BOUNDARY_ID]
    pool = np.argsort(-first, kind="stable")[: max(candidates, k)]
    pool = pool[np.isfinite(first[pool])]
    continuations = np.array([[word, *suffix] for word in pool], dtype=np.int64)
    scores = continuation_scores(runner, prefix, continuations)
    probabilities = np.exp(scores - scores.max())
    probabilities /= probabilities.sum()
    best = np.argsort(-probabilities, kind="stable")[:k]
    return Guesses(text, True, [Guess(tokens[pool[i]], float(probabilities[i])) for i in best], unknown)


def guessable(text: str) -> bool:
    """Whether ``text`` gives the game something to play on: a blank, or at least one word to guess after."""
    return bool(BLANK.search(text) or tokenize_py(text))


def sorted_words(text: str) -> str:
    """What a bag of words sees of ``text``: its tokens sorted, the blank (if any) kept at its place among them.

    "I like Thai food so it is ___" -> "food i is it like so thai ___".
    """
    parts = BLANK.split(text, maxsplit=1)
    before, after = tokenize_py(parts[0]), tokenize_py(parts[1]) if len(parts) > 1 else []
    words = sorted(before + after)
    if len(parts) == 1:
        return " ".join(words)
    return " ".join([*words[: len(before)], "___", *words[len(before) :]])
