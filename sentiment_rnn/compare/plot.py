"""compare-bow's contrast plot: each contrast pair's two probabilities under the baseline and the RNN.

Needs matplotlib, as every figure (see ``sentiment_rnn.plots``).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from sentiment_rnn.data.labels import DEFAULT_THRESHOLD
from sentiment_rnn.plots import check_plot_path, require_matplotlib

if TYPE_CHECKING:
    from sentiment_rnn.compare.results import Comparison, PairResult


def write_contrast_plot(comparison: Comparison, path: str | Path) -> Path:
    """Draw each contrast pair's two probabilities under both models and write a PNG atomically.

    One panel per model; x = the pairs (sorted by the RNN's gap), y = the
    probability of positive; each pair is a vertical line from its negative
    sentence (red) to its positive one (green). A pair is right when green is
    above 0.5 and red below. Identical bags put both at one point, drawn as
    green inside red. The PNG is 1210 x 715 pixels.
    """
    require_matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from sentiment_rnn.text import ngram_name

    path = check_plot_path(path)
    contrast = comparison.contrast
    positive = {m: np.array([_member(p, 1, m) for p in contrast.pairs]) for m in ("bow", "rnn")}
    negative = {m: np.array([_member(p, 0, m) for p in contrast.pairs]) for m in ("bow", "rnn")}
    order = np.argsort(positive["rnn"] - negative["rnn"], kind="stable")
    x = np.arange(len(order))
    figure = Figure(figsize=(11, 6.5), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots(2, 1, sharex=True, sharey=True)
    titles = {
        "bow": f"Bag of words ({ngram_name(comparison.ngrams)})",
        "rnn": "Recurrent network (reads the words in order)",
    }
    for ax, model in zip(axes, ("bow", "rnn")):
        pos, neg = positive[model][order], negative[model][order]
        ax.axhspan(DEFAULT_THRESHOLD, 1.0, color="#e8f5e9", zorder=0)
        ax.axhspan(0.0, DEFAULT_THRESHOLD, color="#ffebee", zorder=0)
        ax.axhline(DEFAULT_THRESHOLD, color="0.4", linewidth=0.8, linestyle="--", zorder=1)
        ax.vlines(x, np.minimum(pos, neg), np.maximum(pos, neg), color="0.55", linewidth=1, zorder=2)
        ax.scatter(x, neg, s=44, color="#c62828", label="negative sentence", zorder=3)
        ax.scatter(x, pos, s=14, color="#2e7d32", label="positive sentence", zorder=4)  # inside red when equal
        ax.set_ylim(-0.03, 1.03)
        ax.set_xlim(-1, len(order))
        ax.set_xticks([])
        ax.set_ylabel("P(positive)")
        ax.text(1.005, 0.75, "says\npositive", transform=ax.transAxes, va="center", fontsize=9, color="#2e7d32")
        ax.text(1.005, 0.25, "says\nnegative", transform=ax.transAxes, va="center", fontsize=9, color="#c62828")
        ax.set_title(
            f"{titles[model]}: pair accuracy {contrast.pair_accuracy(model):.2f}, "
            f"sentence accuracy {contrast.sentence_accuracy(model):.2f}",
            loc="left",
            fontsize=11,
        )
    if contrast.equal_bags:
        axes[0].set_xlabel(
            f"{contrast.equal_bags} of {len(order)} pairs have identical bags: their two sentences get one "
            "probability, one dot (green inside red)",
            fontsize=9,
        )
    axes[0].legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), ncol=2, fontsize=9, frameon=False)
    axes[1].set_xlabel(
        f"{len(order)} contrast pairs (same words, opposite labels), sorted by the RNN's gap; "
        "a pair is right when green is in the green band and red in the red band"
    )
    figure.suptitle('Same words, opposite meaning: "This phone is no good" vs "No this phone is good"', fontsize=13)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".png", dir=path.parent)
    os.close(descriptor)
    try:
        figure.savefig(temporary, format="png", dpi=110)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    return path


def _member(pair: PairResult, label: int, model: str) -> float:
    return next(getattr(s, model) for s in pair.sentences if s.label == label)
