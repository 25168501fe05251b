"""The terminal report of compare-bow."""

from __future__ import annotations

from sentiment_rnn.compare.bags import SAME_NGRAMS, TOO_WEAK, UNSEEN_NGRAMS, labelled_right
from sentiment_rnn.compare.results import VALIDATION_SPLIT, Comparison
from sentiment_rnn.data.labels import DEFAULT_THRESHOLD, label_name
from sentiment_rnn.text import ngram_name

# ---------------------------------------------------------------- the report


def _count(k: int, noun: str) -> str:
    return f"{k} {noun}{'' if k == 1 else 's'}"


def _verdict(probability: float, label: int) -> str:
    return "right" if labelled_right(label, probability) else "WRONG"


def render(comparison: Comparison, max_listed: int = 10) -> str:
    """The terminal report: the seed table, held-out accuracy, the contrast set, what n-grams miss."""
    c = comparison
    seed = c.seed
    lines = [f"Bag of words ({ngram_name(c.ngrams)}) against the RNN", ""]

    lines.append("1. The seed example: what the bag-of-words baseline sees")
    width = max(len(s.text) for s in seed.sentences)
    column_widths = [max(len(name), 1) for name in seed.columns]
    lines.append(" " * (width + 2) + "  ".join(name.rjust(w) for name, w in zip(seed.columns, column_widths)))
    for sentence, bag in zip(seed.sentences, seed.bags):
        cells = "  ".join(str(v).rjust(w) for v, w in zip(bag, column_widths))
        lines.append(f"{sentence.text.ljust(width)}  {cells}")
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
    lines.append(
        f"Difference between the two probabilities: bag of words {bow_difference}, "
        f"RNN {seed.rnn_difference:.4f} ({rnn_verdict})."
    )
    lecture = seed.lecture
    lines.append(
        f'The lecture writes "{lecture.text}": "," is a token of its own, so its bag also holds ",". '
        f"Bag of words {lecture.bow:.4f} {_verdict(lecture.bow, lecture.label)}, "
        f"RNN {lecture.rnn:.4f} {_verdict(lecture.rnn, lecture.label)}."
    )
    lines.append("")

    lines.append(f"2. Accuracy on held-out sentences (probability >= {DEFAULT_THRESHOLD} counts as positive)")
    if c.training is not None:
        lines.append(
            f"Both models trained on the same {c.training['train_rows']} sentences of {c.training['source']} "
            f"with seed {c.training['seed']}."
        )
    else:
        lines.append(f"Models from {c.models['rnn']} (RNN) and {c.models['bow']} (bag of words).")
    if c.heldout:
        source_width = max(len(a.source) for a in c.heldout)
        lines.append(f"{'':{source_width}}  {'n':>6}  {'bag of words':>12}  {'RNN':>6}")
        for a in c.heldout:
            lines.append(f"{a.source.ljust(source_width)}  {a.n:>6}  {a.bow:>12.3f}  {a.rnn:>6.3f}")
    if any(a.source.startswith(VALIDATION_SPLIT) for a in c.heldout):
        lines.append("The validation split is held out from fitting, but it chooses the early-stopping epoch.")
    lines.extend(c.notes)
    lines.append("")

    contrast = c.contrast
    n = len(contrast.pairs)
    lines.append(f"3. Contrast set: {n} pairs of sentences with opposite labels ({contrast.source})")
    lines.append(f"{'':12}  {'sentence accuracy':>17}  {'pair accuracy':>13}")
    for model, name in (("bow", "bag of words"), ("rnn", "RNN")):
        lines.append(f"{name:12}  {contrast.sentence_accuracy(model):>17.3f}  {contrast.pair_accuracy(model):>13.3f}")
    equal = contrast.equal_bags
    if equal == 0:
        lines.append("The baseline's multi-hot vectors differ within every pair.")
    else:
        lines.append(
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
        lines.append(
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
            lines.append("  " + "  |  ".join(f"{label_name(s.label)[:3]} {s.rnn:.2f} {s.text}" for s in p.sentences))
        if len(rnn_wrong) > max_listed:
            lines.append(f"  ... and {len(rnn_wrong) - max_listed} more (--json lists every pair)")

    if c.ngrams >= 2:
        lines.append("")
        unseparated = [p for p in contrast.pairs if p.unseparated is not None]
        lines.append(
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
            lines.append(f"{len(group)} pairs: {title}")
            for p in group[:max_listed]:
                texts = " / ".join(s.text for s in p.sentences)
                lines.append(f"  {texts}: {p.unseparated.explain(c.ngrams)}")
            if len(group) > max_listed:
                lines.append(f"  ... and {len(group) - max_listed} more (--json lists every pair)")
    return "\n".join(lines)
