"""Figures: the training curve, ``training.png`` (loss and accuracy per epoch,
best epoch marked), and compare-bow's contrast plot (each contrast pair's two
probabilities under the bag-of-words baseline and the RNN).

Plotting is optional: it needs matplotlib (``pip install 'sentiment-rnn[plot]'``).
Without it :func:`write_training_plot` returns False and training goes on.
The figure is drawn on matplotlib's non-interactive Agg canvas, without pyplot,
so it never opens a window or changes the caller's matplotlib backend.
"""

from __future__ import annotations

import csv
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from sentiment_rnn.errors import SentimentError

if TYPE_CHECKING:
    from sentiment_rnn.compare import Comparison, PairResult

PLOT_FILE = "training.png"
MISSING_HINT = "training.png not written: plotting needs matplotlib; install it with pip install 'sentiment-rnn[plot]'."


def plotting_available() -> bool:
    """True when matplotlib can be imported."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def read_history(history_csv: str | Path) -> dict[str, list[float]]:
    """Read a Keras ``CSVLogger`` file into {column: values per epoch}, epochs in file order."""
    with Path(history_csv).open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    columns = rows[0].keys() if rows else []
    return {column: [float(row[column]) for row in rows] for column in columns}


def write_training_plot(history_csv: str | Path, png: str | Path, best_epoch: int) -> bool:
    """Draw :func:`training_figure` for a ``history.csv`` into ``png`` (1200 x 450 pixels).

    Returns:
        True if the image was written, False if matplotlib is not installed.
    """
    if not plotting_available():
        return False
    training_figure(read_history(history_csv), best_epoch).savefig(png)
    return True


def training_figure(history: dict[str, list[float]], best_epoch: int):
    """Two panels, loss and accuracy per epoch, training and validation, best epoch marked.

    Args:
        history: per-epoch values by Keras metric name (``loss``, ``val_loss``,
            ``accuracy``, ``val_accuracy``), as :func:`read_history` returns.
        best_epoch: the epoch (counting from 1) whose weights were restored;
            drawn as a dashed vertical line on both panels.

    Returns:
        A matplotlib Figure on an Agg canvas, 12 x 4.5 inches at 100 dpi.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    epochs = list(range(1, len(history.get("loss", [])) + 1))
    figure = Figure(figsize=(12, 4.5), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    for axes, metric, title in zip(figure.subplots(1, 2), ("loss", "accuracy"), ("Loss", "Accuracy")):
        for prefix, name, style in (("", "training", "-o"), ("val_", "validation", "-s")):
            if prefix + metric in history:
                axes.plot(epochs, history[prefix + metric], style, markersize=4, label=name)
        axes.axvline(best_epoch, color="grey", linestyle="--", label=f"restored best epoch ({best_epoch})")
        axes.set_title(title)
        axes.set_xlabel("epoch")
        axes.set_ylabel(metric)
        axes.xaxis.get_major_locator().set_params(integer=True)
        axes.grid(alpha=0.3)
        axes.legend()
    figure.suptitle("sentiment-rnn training")
    return figure


def require_matplotlib() -> None:
    """Raise a one-line SentimentError when matplotlib (the ``plot`` extra) is missing."""
    if not plotting_available():
        raise SentimentError(
            "--plot needs matplotlib, which is not installed: pip install 'sentiment-rnn[plot]' "
            "(or pip install matplotlib)."
        )


def check_plot_path(path: str | Path) -> Path:
    """Refuse a plot path that is not a .png in an existing directory, before any training."""
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise SentimentError(f"--plot writes a PNG image, got {path}: name the file with .png, e.g. compare.png.")
    if not path.parent.is_dir():
        raise SentimentError(f"Directory {path.parent} does not exist: create it or choose another --plot path.")
    return path


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

    from sentiment_rnn.compare import ngram_name

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
        ax.axhspan(0.5, 1.0, color="#e8f5e9", zorder=0)
        ax.axhspan(0.0, 0.5, color="#ffebee", zorder=0)
        ax.axhline(0.5, color="0.4", linewidth=0.8, linestyle="--", zorder=1)
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
