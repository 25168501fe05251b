"""The report's four figures, one or more models in each: calibration, ROC, confusion, probabilities by class.

Each function takes ``{model name: evaluation}`` (in the order to draw; the
models share their classes) and returns a matplotlib Figure on the
non-interactive Agg canvas, drawn without pyplot (see ``sentiment_rnn.plots``).
Everything drawn comes from the evaluation's counts (``curves``, a
``metrics.Curves``), so a figure of a million examples costs what one of a
hundred does. Both kinds of model go through the same functions: a two-class
model is drawn by its probability of positive, a model of more classes by
its top class's probability (calibration), its true class's (histogram) and
one ROC curve per class against the rest. Calibration and ROC overlay the
models on one pair of axes (one per class for ROC of N classes); confusion
and the histogram give each model a panel of its own.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from sentiment_rnn.calibration import ECE_BINS
from sentiment_rnn.evaluation.class_metrics import ClassEvaluation
from sentiment_rnn.evaluation.metrics import HISTOGRAM_BINS, Evaluation

PANEL_INCHES = 4.5  # width and height of one panel
PANELS_PER_ROW = 3
DPI = 100
NAME_CHARACTERS = 32  # a longer model name is shown by its end, e.g. "…/runs/2024/my-model"
CLASSES_PER_PANEL = 4  # a confusion matrix of more classes gets a larger panel, so its cells stay legible

Results = Mapping[str, Evaluation | ClassEvaluation]


def short(name: str) -> str:
    """``name`` as a legend or a title shows it: whole up to :data:`NAME_CHARACTERS`, else "…" and its end."""
    return name if len(name) <= NAME_CHARACTERS else "…" + name[-(NAME_CHARACTERS - 1) :]


def classes_of(results: Results) -> tuple[str, ...]:
    """The classes the models share (the first model's)."""
    return next(iter(results.values())).classes


def new_figure(width: float, height: float):
    """A constrained-layout Figure of ``width`` x ``height`` inches at :data:`DPI`, on an Agg canvas."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def panels(count: int, inches: float = PANEL_INCHES):
    """A figure with ``count`` square panels of ``inches``, at most :data:`PANELS_PER_ROW` a row; (figure, axes list)."""
    columns = min(count, PANELS_PER_ROW)
    rows = math.ceil(count / columns)
    figure = new_figure(inches * columns, inches * rows)
    axes = np.atleast_1d(figure.subplots(rows, columns, squeeze=False)).ravel()
    for unused in axes[count:]:
        unused.set_visible(False)
    return figure, list(axes[:count])


def reliability_figure(results: Results):
    """The reliability diagram: per probability bin, the share of positives (or of right answers) against the mean
    probability.

    The bins are the ECE's (``ECE_BINS`` equal-width bins of [0, 1]) of the
    probability of positive, or for N classes of the top class (the
    probability of the class answered, against whether it is right); a
    calibrated model's points lie on the diagonal, and the ECE is the mean
    vertical distance to it, weighted by the examples in each bin (lower
    panel). Empty bins are not drawn.
    """
    classes = classes_of(results)
    two = len(classes) == 2
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
    title = "Calibration (reliability diagram)" if two else "Calibration of the top class (reliability diagram)"
    top.set(xlim=(0, 1), ylim=(-0.02, 1.02), ylabel=f"share {classes[1]}" if two else "share right", title=title)
    top.grid(alpha=0.3)
    top.legend(loc="upper left")
    xlabel = f"predicted probability of {classes[1]}" if two else "probability of the class answered (the top class)"
    bottom.set(xlabel=xlabel, ylabel="examples")
    bottom.grid(alpha=0.3)
    return figure


def roc_figure(results: Results):
    """The ROC curve of each model (true against false positive rate as the threshold falls), AUC in the legend.

    Two classes: one pair of axes, positive against negative. N classes: a
    panel per class, that class against the rest (its probability as the
    score), the models overlaid in each.
    """
    rocs = list(next(iter(results.values())).curves.rocs)
    if len(rocs) == 1:
        figure = new_figure(PANEL_INCHES * 1.2, PANEL_INCHES * 1.2)
        axes_list, titles = [figure.subplots()], ["ROC curve"]
    else:
        figure, axes_list = panels(len(rocs))
        titles = [f"{name} against the rest" for name in rocs]
        figure.suptitle("ROC curves, each class against the rest")
    for axes, curve, title in zip(axes_list, rocs, titles):
        axes.plot([0, 1], [0, 1], color="grey", linestyle="--", label="chance")
        for name, result in results.items():
            roc = result.curves.rocs[curve]
            if roc is None:
                why = "one class only" if len(rocs) == 1 else f"no {curve} or nothing else"
                axes.plot([], [], " ", label=f"{short(name)}: {why}, no curve")
                continue
            false_positive_rate, true_positive_rate = roc
            axes.plot(
                false_positive_rate, true_positive_rate, label=f"{short(name)} (AUC {result.roc_aucs[curve]:.4f})"
            )
        axes.set(xlim=(0, 1), ylim=(0, 1.01), xlabel="false positive rate", ylabel="true positive rate", title=title)
        axes.grid(alpha=0.3)
        axes.legend(loc="lower right")
    return figure


def confusion_figure(results: Results):
    """One N x N confusion matrix per model: counts, and each row's share (rows: true class; columns: predicted).

    The cells are shaded by the row's share, so a class the model confuses
    shows whatever its size; each cell gives its count and that share.
    """
    classes = classes_of(results)
    size = len(classes)
    figure, axes_list = panels(len(results), PANEL_INCHES * max(1.0, size / CLASSES_PER_PANEL))
    fontsize = 12 if size <= CLASSES_PER_PANEL else 9
    ticks = list(range(size))
    for axes, (name, result) in zip(axes_list, results.items()):
        counts = np.array(result.confusion)
        totals = counts.sum(axis=1, keepdims=True)
        shares = np.divide(counts, totals, out=np.zeros(counts.shape), where=totals > 0)
        axes.imshow(shares, cmap="Blues", vmin=0, vmax=1)
        for row in ticks:
            for column in ticks:
                color = "white" if shares[row, column] > 0.5 else "black"
                text = f"{counts[row, column]:,}\n{shares[row, column]:.1%}"
                axes.text(column, row, text, ha="center", va="center", color=color, fontsize=fontsize)
        axes.set_xticks(ticks, classes, rotation=0 if size <= CLASSES_PER_PANEL else 30)
        axes.set_yticks(ticks, classes)
        axes.set(xlabel="predicted", ylabel="true", title=f"{short(name)}: accuracy {result.accuracy:.4f}")
    figure.suptitle("Confusion matrix")
    return figure


def histogram_figure(results: Results, threshold: float):
    """Per model, how the predicted probabilities of each true class's examples are spread.

    ``HISTOGRAM_BINS`` equal-width bins of [0, 1]. Two classes: the
    probability of positive, one shaded outline per true class and the
    decision threshold marked; the further apart the two humps, the better the
    model separates the classes. N classes: the probability of the true class,
    the classes stacked (so none hides another); what lies to the left is
    what the model does not recognise (below 1/N a text is never answered
    right, above 1/2 always), and a class's colour there names it.
    """
    classes = classes_of(results)
    two = len(classes) == 2
    figure, axes_list = panels(len(results))
    edges = np.linspace(0.0, 1.0, HISTOGRAM_BINS + 1)
    colors = ["tab:red", "tab:blue"] if two else [f"C{index % 10}" for index in range(len(classes))]
    for axes, (name, result) in zip(axes_list, results.items()):
        histogram = result.curves.histogram
        if two:
            for label, color in enumerate(colors):
                axes.stairs(histogram[label], edges, fill=True, alpha=0.4, color=color, label=f"true {classes[label]}")
            axes.axvline(threshold, color="grey", linestyle="--", label=f"threshold {threshold:g}")
        else:
            tops = np.cumsum(histogram, axis=0)  # (classes, bins): the stack's top after each class
            for label, color in enumerate(colors):
                bottom = tops[label - 1] if label else np.zeros(HISTOGRAM_BINS)
                axes.stairs(tops[label], edges, baseline=bottom, fill=True, color=color, label=f"true {classes[label]}")
            axes.axvline(1 / len(classes), color="grey", linestyle=":", label=f"1/{len(classes)}: never right below")
            axes.axvline(0.5, color="grey", linestyle="--", label="1/2: always right above")
        xlabel = f"predicted probability of {classes[1]}" if two else "predicted probability of the true class"
        axes.set(xlim=(0, 1), xlabel=xlabel, ylabel="examples", title=short(name))
        axes.grid(alpha=0.3)
        axes.legend(loc="best")
    figure.suptitle("Predicted probability by true class" if two else "Predicted probability of the true class")
    return figure
