"""Figures: the training curve, ``training.png`` (loss and accuracy per epoch,
best epoch marked), and what every figure needs (matplotlib, a .png path).
compare-bow's contrast plot is drawn by ``sentiment_rnn.compare.plot``.

Plotting is optional: it needs matplotlib (``pip install 'sentiment-rnn[plot]'``).
Without it :func:`write_training_plot` returns False and training goes on.
The figure is drawn on matplotlib's non-interactive Agg canvas, without pyplot,
so it never opens a window or changes the caller's matplotlib backend.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

from sentiment_rnn.errors import SentimentError

PLOT_FILE = "training.png"
MISSING_HINT = (
    "training.png not written: plotting needs matplotlib; install it with pip install 'sentiment-rnn[plot]', "
    "then draw it with sentiment-rnn plot --model DIR."
)


def plotting_available() -> bool:
    """True when matplotlib can be imported."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def read_history(history_csv: str | Path, text: str | None = None) -> dict[str, list[float]]:
    """Read a Keras ``CSVLogger`` file (or its ``text``, already read) into {column: values per epoch}, epochs in
    file order."""
    import io

    if text is None:
        text = Path(history_csv).read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
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
    """Two panels, loss and accuracy (a language model: perplexity) per epoch, training and validation, best epoch marked.

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
    second = "perplexity" if "perplexity" in history else "accuracy"  # a language model's, or a classifier's
    for axes, metric, title in zip(figure.subplots(1, 2), ("loss", second), ("Loss", second.capitalize())):
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


def require_matplotlib(what: str = "--plot") -> None:
    """Raise a one-line SentimentError when matplotlib (the ``plot`` extra) is missing; ``what`` needs it."""
    if not plotting_available():
        raise SentimentError(
            f"{what} needs matplotlib, which is not installed: pip install 'sentiment-rnn[plot]' "
            "(or pip install matplotlib)."
        )


def check_plot_path(path: str | Path, option: str = "--plot", example: str = "compare.png") -> Path:
    """Refuse a plot path that is not a .png in an existing directory, before any training."""
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise SentimentError(f"{option} writes a PNG image, got {path}: name the file with .png, e.g. {example}.")
    if not path.parent.is_dir():
        raise SentimentError(f"Directory {path.parent} does not exist: create it or choose another {option} path.")
    return path


def redraw_training_plot(model_dir: str | Path, png: str | Path | None = None) -> Path:
    """Draw ``training.png`` again from a model directory's ``history.csv`` (e.g. after installing matplotlib).

    Args:
        model_dir: a model directory written by ``train``.
        png: where to write the image; default ``MODEL_DIR/training.png``.

    Returns:
        The path written. The image is written beside it first and renamed into
        place, so a failure never leaves half an image.

    Raises:
        SentimentError: no matplotlib, not a model directory, no or unreadable
            ``history.csv``, a bad ``png`` path, no ``png`` for a bundled (read-only) model.
    """
    from sentiment_rnn import safe_read
    from sentiment_rnn.artifact import ownership
    from sentiment_rnn.artifact.atomic import replaced_file
    from sentiment_rnn.artifact.files import HISTORY_FILE
    from sentiment_rnn.artifact.model_directory import open_model_dir

    require_matplotlib("sentiment-rnn plot")
    directory = open_model_dir(model_dir)
    if directory.bundled is not None and png is None:
        raise SentimentError(
            f"{directory.bundled} is a bundled model, which is read-only: pass --out curve.png to draw it elsewhere."
        )
    into_model = png is None
    png = check_plot_path(directory.path / PLOT_FILE if png is None else png, "--out", "curve.png")
    history_csv = directory.path / HISTORY_FILE
    if not os.path.lexists(history_csv):
        raise SentimentError(
            f"{directory.path} has no {HISTORY_FILE} to draw from: it was not written by train; "
            "train the model again to get its curve."
        )
    fix = "train the model again to get its curve"
    text = safe_read.read_text(history_csv, safe_read.HISTORY, fix, inside=directory.path)
    try:
        history = read_history(history_csv, text)
    except (ValueError, TypeError, csv.Error) as exc:
        raise SentimentError(f"{history_csv} is damaged ({type(exc).__name__}): {fix}.") from None
    if not history.get("loss"):
        raise SentimentError(f"{history_csv} holds no epochs: train the model again to get its curve.")
    best_epoch = directory.meta.get("data", {}).get("best_epoch")
    if not isinstance(best_epoch, int):
        losses = history.get("val_loss") or history["loss"]
        best_epoch = losses.index(min(losses)) + 1
    if into_model:  # the model directory's own training.png: replaced only if it is the tool's
        ownership.check_replaceable_file(directory.path, PLOT_FILE)
    with replaced_file(png, binary=True) as handle:
        training_figure(history, best_epoch).savefig(handle, format="png")
    if into_model:
        ownership.record_file(directory.path, PLOT_FILE)
    return png
