"""The terminal report of compare-bow: every line fits in :data:`WIDTH` columns.

Prose is wrapped; data files are named by their file name ("built-in
heldout.csv" for the files shipped with sentiment-rnn), never by a full path;
the seed table is split into blocks of columns, and long sentences in lists
are shortened with "...". The ``--json`` output keeps every path and text whole.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from sentiment_rnn.compare.bags import SAME_NGRAMS, TOO_WEAK, UNSEEN_NGRAMS, labelled_right
from sentiment_rnn.compare.results import VALIDATION_SPLIT, Comparison, SentenceResult
from sentiment_rnn.data.dataset import corpus_file
from sentiment_rnn.data.labels import DEFAULT_THRESHOLD, label_name
from sentiment_rnn.text import ngram_name

WIDTH = 100  # columns of every line of the report
SOURCE_WIDTH = 40  # a data source's name in a table row, at most

BUILTIN_PAIRS_NOTE = (
    "These are the built-in contrast pairs: product reviews (phones, laptops, cameras and the like) "
    "written for this project, not texts from {data}; pass --pairs FILE (columns pair_id,text,label) "
    "for pairs like your own data."
)

# ---------------------------------------------------------------- the report


def _count(k: int, noun: str) -> str:
    return f"{k} {noun}{'' if k == 1 else 's'}"


def _verdict(probability: float, label: int) -> str:
    return "right" if labelled_right(label, probability) else "WRONG"


def _wrapped(text: str, indent: str = "") -> list[str]:
    """``text`` as lines of at most WIDTH columns; lines after the first start with ``indent``."""
    return textwrap.wrap(text, WIDTH, subsequent_indent=indent, break_long_words=False, break_on_hyphens=False)


def _clipped(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters, ending in "..." when cut."""
    return text if len(text) <= width else text[: max(width - 3, 0)].rstrip() + "..."


def source_name(source: str) -> str:
    """How the report names a data source: its file name, "built-in NAME" for the shipped corpus files.

    A source read from several files (``a.csv + b.csv``) names each; an IMDB
    source keeps its split (``aclImdb (test)``).
    """
    shipped = corpus_file("").resolve()
    names = []
    for part in source.split(" + "):
        path = Path(part)
        names.append(f"built-in {path.name}" if path.parent.resolve() == shipped else path.name or part)
    return " + ".join(names)


def _seed_table(texts: list[str], columns: list[str], bags: list[list[int]]) -> list[str]:
    """The multi-hot table of the seed sentences, in blocks of as many columns as fit in WIDTH."""
    width = max(len(text) for text in texts)
    column_widths = [max(len(name), 1) for name in columns]
    blocks: list[list[int]] = [[]]
    used = width
    for index, column_width in enumerate(column_widths):
        if blocks[-1] and used + 2 + column_width > WIDTH:
            blocks.append([])
            used = width
        blocks[-1].append(index)
        used += 2 + column_width
    lines = []
    for block in blocks:
        lines.append((" " * width + "".join("  " + columns[i].rjust(column_widths[i]) for i in block)).rstrip())
        for text, bag in zip(texts, bags):
            lines.append(text.ljust(width) + "".join("  " + str(bag[i]).rjust(column_widths[i]) for i in block))
    return lines


def _pair_lines(sentences: tuple[SentenceResult, ...]) -> list[str]:
    """One pair as label, RNN probability and text: one line if it fits, else one line per sentence."""
    cells = [f"{label_name(s.label)[:3]} {s.rnn:.2f} {s.text}" for s in sentences]
    line = "  " + "  |  ".join(cells)
    if len(line) <= WIDTH:
        return [line]
    return ["  " + _clipped(cells[0], WIDTH - 2), "  | " + _clipped(cells[1], WIDTH - 4)]


def render(comparison: Comparison, max_listed: int = 10) -> str:
    """The terminal report: the seed table, held-out accuracy, the contrast set, what n-grams miss."""
    c = comparison
    seed = c.seed
    lines = [f"Bag of words ({ngram_name(c.ngrams)}) against the RNN", ""]
    if len(c.classes) > 2:
        lines += _wrapped(
            f"Both models have {len(c.classes)} classes ({', '.join(c.classes)}); in 1 and 3 each model's "
            "probability is its expected place among them, 0 (the first) to 1 (the last), read as positive from 0.5."
        )
        lines.append("")

    lines.append("1. The seed example: what the bag-of-words baseline sees")
    width = max(len(s.text) for s in seed.sentences)
    lines += _seed_table([s.text for s in seed.sentences], seed.columns, seed.bags)
    others = seed.vocabulary_size - len(seed.columns)
    if seed.bags_equal:
        lines.append(f"The two multi-hot vectors are identical (the other {others} vocabulary entries are 0 in both),")
        lines.append("so the baseline must give both sentences the same probability.")
    else:
        lines.append(f"The two multi-hot vectors differ (the other {others} vocabulary entries are 0 in both):")
        lines.append(f"with {ngram_name(c.ngrams)} the baseline sees some local order.")
    lines.append("")
    lines.append(f"{'':{width}}  {'label':8}  {'bag of words':>12}  {'RNN':>6}")
    for s in seed.sentences:
        lines.append(
            f"{s.text.ljust(width)}  {label_name(s.label):8}  {s.bow:>6.4f} {_verdict(s.bow, s.label):>5}  "
            f"{s.rnn:.4f} {_verdict(s.rnn, s.label)}"
        )
    rnn_verdict = "both right" if seed.rnn_both_right() else "not both right"
    bow_difference = "exactly 0.0" if seed.bow_difference == 0.0 else f"{seed.bow_difference:.4g}"
    lines += _wrapped(
        f"Difference between the two probabilities: bag of words {bow_difference}, "
        f"RNN {seed.rnn_difference:.4f} ({rnn_verdict})."
    )
    lecture = seed.lecture
    lines += _wrapped(
        f'The course lecture notes this tool grew from write "{lecture.text}", with a comma: "," is a token '
        f'of its own, so its bag also holds ",". Bag of words {lecture.bow:.4f} {_verdict(lecture.bow, lecture.label)}, '
        f"RNN {lecture.rnn:.4f} {_verdict(lecture.rnn, lecture.label)}."
    )
    lines.append("")

    if len(c.classes) > 2:
        lines.append(f"2. Accuracy on held-out texts (the most probable of the classes {', '.join(c.classes)})")
    else:
        lines.append(f"2. Accuracy on held-out texts (probability >= {DEFAULT_THRESHOLD} counts as positive)")
    if c.training is not None:
        lines += _wrapped(
            f"Both models trained on the same {c.training['train_rows']} texts of "
            f"{source_name(c.training['source'])} with seed {c.training['seed']}."
        )
    else:
        lines += _wrapped(f"Models from {c.models['rnn']} (RNN) and {c.models['bow']} (bag of words).")
    if c.heldout:
        names = [_clipped(source_name(a.source), SOURCE_WIDTH) for a in c.heldout]
        source_width = max(len(name) for name in names)
        lines.append(f"{'':{source_width}}  {'n':>6}  {'bag of words':>12}  {'RNN':>6}")
        for name, a in zip(names, c.heldout):
            lines.append(f"{name.ljust(source_width)}  {a.n:>6}  {a.bow:>12.3f}  {a.rnn:>6.3f}")
    if any(a.source.startswith(VALIDATION_SPLIT) for a in c.heldout):
        lines.append("The validation split is held out from fitting, but it chooses the early-stopping epoch.")
    for note in c.notes:
        lines += _wrapped(note)
    lines.append("")

    contrast = c.contrast
    n = len(contrast.pairs)
    lines += _wrapped(f"3. Contrast set: {n} pairs of sentences with opposite labels ({source_name(contrast.source)})")
    if contrast.builtin and not c.builtin_corpus:
        data = source_name(c.training["source"]) if c.training is not None else "the models' training data"
        lines += _wrapped(BUILTIN_PAIRS_NOTE.format(data=data))
    lines.append(f"{'':12}  {'sentence accuracy':>17}  {'pair accuracy':>13}")
    for model, name in (("bow", "bag of words"), ("rnn", "RNN")):
        lines.append(f"{name:12}  {contrast.sentence_accuracy(model):>17.3f}  {contrast.pair_accuracy(model):>13.3f}")
    equal = contrast.equal_bags
    if equal == 0:
        lines.append("The baseline's multi-hot vectors differ within every pair.")
    else:
        lines += _wrapped(
            f"The baseline's multi-hot vectors are identical within {equal} of {n} pairs: there its two "
            "probabilities are equal, so it labels exactly one sentence of each such pair right."
        )
    if 0 < n - equal and c.ngrams == 1:
        counts: dict[str, int] = {}
        for pair in contrast.pairs:
            for gram in pair.bag_difference:
                counts[gram] = counts.get(gram, 0) + 1
        ranked = sorted(counts.items(), key=lambda item: -item[1])[:8]
        listed = ", ".join(f'"{gram}" ({_count(k, "pair")})' for gram, k in ranked)
        lines += _wrapped(
            f"In the other {_count(n - equal, 'pair')} the bags differ, in {listed}: those tokens, not the order "
            "of the words, are what the baseline can tell the two sentences apart by."
        )
    if equal == n:
        lines.append(
            f"Its pair accuracy is therefore 0 by construction, and measured: {contrast.pair_accuracy('bow'):.3f}."
        )
    rnn_wrong = [p for p in contrast.pairs if any(_verdict(s.rnn, s.label) == "WRONG" for s in p.sentences)]
    if rnn_wrong:
        lines.append(f"Pairs the RNN does not get both right ({len(rnn_wrong)}), as label, RNN probability, text:")
        for p in rnn_wrong[:max_listed]:
            lines += _pair_lines(p.sentences)
        if len(rnn_wrong) > max_listed:
            lines.append(f"  ... and {len(rnn_wrong) - max_listed} more (--json lists every pair)")

    if c.ngrams >= 2:
        lines.append("")
        unseparated = [p for p in contrast.pairs if p.unseparated is not None]
        lines += _wrapped(
            f"4. What {ngram_name(c.ngrams)} still cannot separate: {len(unseparated)} of {n} pairs "
            "not both right under the baseline"
        )
        for reason, title in (
            (SAME_NGRAMS, f"the same {ngram_name(c.ngrams)} in both sentences (order differs only beyond them)"),
            (UNSEEN_NGRAMS, "the n-grams that differ were never seen in training, so both become [UNK]"),
            (TOO_WEAK, "the bags differ, but the learned weights do not flip the label"),
        ):
            group = [p for p in unseparated if p.unseparated.reason == reason]
            if not group:
                continue
            lines += _wrapped(f"{len(group)} pairs: {title}")
            for p in group[:max_listed]:
                texts = " / ".join(_clipped(s.text, 40) for s in p.sentences)
                lines += _wrapped(f"  {texts}: {p.unseparated.explain(c.ngrams)}", indent="    ")
            if len(group) > max_listed:
                lines.append(f"  ... and {len(group) - max_listed} more (--json lists every pair)")
    return "\n".join(lines)
