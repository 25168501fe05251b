"""The report directory: what it holds, how it is recognised, and writing it whole.

A report directory holds ``index.html``, the four figures,
``report.json`` (the numbers for programs, and the marker that says this
tool wrote the directory) and ``manifest.json`` (``artifact.ownership``). It is written like a model directory
(``artifact.atomic.staged_directory``): into a temporary directory beside
it, renamed into place when complete, so a failure leaves nothing
half-written and an older report as it was. An existing directory is
replaced only when it is empty or a report holding nothing but these files;
anything else is the user's and is refused before any work is done.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from sentiment_rnn import safe_read
from sentiment_rnn.artifact.atomic import DirectoryKind, check_target, staged_directory
from sentiment_rnn.data.labels import DEFAULT_THRESHOLD
from sentiment_rnn.errors import SentimentError
from sentiment_rnn.evaluation import figures
from sentiment_rnn.evaluation.class_metrics import ClassEvaluation
from sentiment_rnn.evaluation.metrics import Evaluation
from sentiment_rnn.evaluation.page import FIGURE_FILES, report_page
from sentiment_rnn.evaluation.run import check_same_classes, data_name, evaluate_models
from sentiment_rnn.plots import require_matplotlib
from sentiment_rnn.version import __version__

INDEX_FILE = "index.html"
REPORT_FILE = "report.json"  # the numbers, and the marker of a report directory
REPORT_FORMAT = 1
REPORT_ERRORS = 10  # the worst errors listed per model when --errors does not say


def is_report_directory(directory: Path) -> bool:
    """Whether ``directory`` was written by ``evaluate --report``: its ``report.json`` is an object with an int
    ``report_format``."""
    try:
        report = safe_read.read_json(directory / REPORT_FILE, safe_read.MODEL_JSON, "", inside=directory)
    except SentimentError:
        return False
    return isinstance(report, dict) and isinstance(report.get("report_format"), int)


REPORT_DIRECTORY = DirectoryKind(
    "sentiment-rnn evaluation report",
    frozenset({INDEX_FILE, REPORT_FILE, *FIGURE_FILES}),
    is_report_directory,
    option="--report",
)


def check_report_target(out_dir: str | Path) -> Path:
    """Refuse, before any evaluation, a report that cannot be written: no matplotlib, or a directory of the user's.

    Returns:
        The directory the report will be written to (a symlink's target).
    """
    require_matplotlib("evaluate --report")
    return check_target(out_dir, REPORT_DIRECTORY)


def write_report(
    out_dir: str | Path,
    results: Mapping[str, Evaluation | ClassEvaluation],
    data: str,
    threshold: float = DEFAULT_THRESHOLD,
    errors: int = REPORT_ERRORS,
) -> Path:
    """Write a report directory for evaluations of one or more models on the same data.

    Args:
        out_dir: the directory to write (replacing an earlier report there).
        results: each model's name and its evaluation (with ``curves``, as
            ``evaluate``, ``evaluate_data`` and ``evaluate_models`` return it),
            in column order; two-class or of more classes, the same classes for every model.
        data: what was evaluated on, for the page's title, e.g. ``test.csv``.
        threshold: the decision threshold the evaluations used (two-class models; ``report.json`` holds
            null for more classes).
        errors: how many of each model's surest mistakes to list (at most those it kept).

    Returns:
        The path of ``index.html``.

    Raises:
        SentimentError: no matplotlib; models of different classes; ``out_dir`` is a file or a directory this
            tool did not write as a report; another run is writing it; the disk is full.
    """
    check_report_target(out_dir)
    classes = check_same_classes({name: result.classes for name, result in results.items()})
    created = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    drawings: dict[str, Callable] = {
        "reliability.png": figures.reliability_figure,
        "roc.png": figures.roc_figure,
        "confusion.png": figures.confusion_figure,
        "histogram.png": lambda r: figures.histogram_figure(r, threshold),
    }
    report = {
        "report_format": REPORT_FORMAT,
        "package_version": __version__,
        "created": created,
        "data": data,
        "threshold": threshold if len(classes) == 2 else None,
        "models": [{"model": name, **result.to_dict(with_errors=True)} for name, result in results.items()],
    }
    page = report_page(results, data, threshold, created, __version__, errors)
    with staged_directory(out_dir, REPORT_DIRECTORY) as staging:
        for file in FIGURE_FILES:
            drawings[file](results).savefig(staging / file)
        (staging / REPORT_FILE).write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        (staging / INDEX_FILE).write_text(page, encoding="utf-8")
    return Path(out_dir) / INDEX_FILE


def evaluate_to_report(
    out_dir: str | Path,
    model_dirs: Sequence[str | Path],
    data_config,
    errors: int = REPORT_ERRORS,
    threshold: float = DEFAULT_THRESHOLD,
    on_progress: Callable[[int], None] | None = None,
) -> dict[str, Evaluation]:
    """``evaluate_models`` and :func:`write_report` in one: what ``evaluate --report DIR`` does.

    The report's target is checked before the data is read, so a directory
    of the user's (or a missing matplotlib) is refused at once.

    Returns:
        Each model's name (``str`` of its entry in ``model_dirs``) and its evaluation.
    """
    check_report_target(out_dir)
    results = evaluate_models(model_dirs, data_config, errors, threshold, on_progress)
    write_report(out_dir, results, data_name(data_config), threshold, errors)
    return results
