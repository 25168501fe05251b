"""The report's four figures, one or more models in each: calibration, ROC, confusion, probabilities by class.

Each function takes ``{model name: Evaluation}`` (in the order to draw) and
returns a matplotlib Figure on the non-interactive Agg canvas, drawn without
pyplot (see ``sentiment_rnn.plots``). Everything drawn comes from the
evaluation's counts (``Evaluation.curves``), so a figure of a million
examples costs what one of a hundred does. Calibration and ROC overlay the
models on one pair of axes; confusion and the histogram give each model a
panel of its own.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from sentiment_rnn.calibration import ECE_BINS
from sentiment_rnn.data.labels import label_name
from sentiment_rnn.evaluation.metrics import HISTOGRAM_BINS, Evaluation

PANEL_INCHES = 4.5  # width and height of one panel
PANELS_PER_ROW = 3
DPI = 100
NAME_CHARACTERS = 32  # a longer model name is shown by its end, e.g. "…/runs/2024/my-model"


def short(name: str) -> str:
    """``name`` as a legend or a title shows it: whole up to :data:`NAME_CHARACTERS`, else "…" and its end."""
    return name if len(name) <= NAME_CHARACTERS else "…" + name[-(NAME_CHARACTERS - 1) :]


def new_figure(width: float, height: float):
    """A constrained-layout Figure of ``width`` x ``height`` inches at :data:`DPI`, on an Agg canvas."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def panels(count: int):
    """A figure with ``count`` square panels, at most :data:`PANELS_PER_ROW` a row; returns (figure, axes list)."""
    columns = min(count, PANELS_PER_ROW)
    rows = math.ceil(count / columns)
    figure = new_figure(PANEL_INCHES * columns, PANEL_INCHES * rows)
    axes = np.atleast_1d(figure.subplots(rows, columns, squeeze=False)).ravel()
    for unused in axes[count:]:
        unused.set_visible(False)
    return figure, list(axes[:count])


def reliability_figure(results: Mapping[str, Evaluation]):
    """The reliability diagram: per probability bin, the share of positives against the mean probability.

    The bins are the ECE's (``ECE_BINS`` equal-width bins of [0, 1]); a
    calibrated model's points lie on the diagonal, and the ECE is the mean
    vertical distance to it, weighted by the examples in each bin (lower
    panel). Empty bins are not drawn.
    """
    figure = new_figure(PANEL_INCHES * 1.4, PANEL_INCHES * 1.5)
    top, bottom = figure.subplots(2, 1, height_ratios=[3, 1], sharex=True)
    top.plot([0, 1], [0, 1], color="grey", linestyle="--", label="perfectly calibrated")
    edges = np.linspace(0.0, 1.0, ECE_BINS + 1)
    for name, result in results.items():
        curves = result.curves
        filled = curves.bin_counts > 0
        counts = curves.bin_counts[filled]
        top.plot(
            curves.bin_probabilities[filled] / counts,
            curves.bin_labels[filled] / counts,
            "-o",
            markersize=4,
            label=f"{short(name)} (ECE {result.ece:.4f})",
        )
        bottom.stairs(curves.bin_counts, edges, label=short(name))
    top.set(xlim=(0, 1), ylim=(-0.02, 1.02), ylabel="share positive", title="Calibration (reliability diagram)")
    top.grid(alpha=0.3)
    top.legend(loc="upper left")
    bottom.set(xlabel="predicted probability of positive", ylabel="examples")
    bottom.grid(alpha=0.3)
    return figure


def roc_figure(results: Mapping[str, Evaluation]):
    """The ROC curve of each model (true against false positive rate as the threshold falls), AUC in the legend."""
    figure = new_figure(PANEL_INCHES * 1.2, PANEL_INCHES * 1.2)
    axes = figure.subplots()
    axes.plot([0, 1], [0, 1], color="grey", linestyle="--", label="chance")
    for name, result in results.items():
        if result.curves.roc is None:
            axes.plot([], [], " ", label=f"{short(name)}: one class only, no curve")
            continue
        false_positive_rate, true_positive_rate = result.curves.roc
        axes.plot(false_positive_rate, true_positive_rate, label=f"{short(name)} (AUC {result.roc_auc:.4f})")
    axes.set(xlim=(0, 1), ylim=(0, 1.01), xlabel="false positive rate", ylabel="true positive rate", title="ROC curve")
    axes.grid(alpha=0.3)
    axes.legend(loc="lower right")
    return figure


def confusion_figure(results: Mapping[str, Evaluation]):
    """One 2 x 2 confusion matrix per model: counts, and each row's share (rows: true label; columns: predicted)."""
    figure, axes_list = panels(len(results))
    names = [label_name(0), label_name(1)]
    for axes, (name, result) in zip(axes_list, results.items()):
        counts = np.array(result.confusion)
        totals = counts.sum(axis=1, keepdims=True)
        shares = np.divide(counts, totals, out=np.zeros(counts.shape), where=totals > 0)
        axes.imshow(shares, cmap="Blues", vmin=0, vmax=1)
        for row in range(2):
            for column in range(2):
                color = "white" if shares[row, column] > 0.5 else "black"
                text = f"{counts[row, column]:,}\n{shares[row, column]:.1%}"
                axes.text(column, row, text, ha="center", va="center", color=color, fontsize=12)
        axes.set_xticks([0, 1], names)
        axes.set_yticks([0, 1], names)
        axes.set(xlabel="predicted", ylabel="true", title=f"{short(name)}: accuracy {result.accuracy:.4f}")
    figure.suptitle("Confusion matrix")
    return figure


def histogram_figure(results: Mapping[str, Evaluation], threshold: float):
    """Per model, how the predicted probabilities of the negative and of the positive examples are spread.

    ``HISTOGRAM_BINS`` equal-width bins of [0, 1], one outline per true class,
    the decision threshold marked: the further apart the two humps, the better
    the model separates the classes.
    """
    figure, axes_list = panels(len(results))
    edges = np.linspace(0.0, 1.0, HISTOGRAM_BINS + 1)
    for axes, (name, result) in zip(axes_list, results.items()):
        histogram = result.curves.histogram
        for label, color in ((0, "tab:red"), (1, "tab:blue")):
            axes.stairs(histogram[label], edges, fill=True, alpha=0.4, color=color, label=f"true {label_name(label)}")
        axes.axvline(threshold, color="grey", linestyle="--", label=f"threshold {threshold:g}")
        axes.set(xlim=(0, 1), xlabel="predicted probability of positive", ylabel="examples", title=short(name))
        axes.grid(alpha=0.3)
        axes.legend(loc="best")
    figure.suptitle("Predicted probability by true class")
    return figure
