"""The results laid out for people and programs: the table ``evaluate`` prints, one column per model, and its JSON.

Models of more than two classes share the table's figures (one column per
model) and add, per model, each class's figures and the N x N confusion.
"""

from __future__ import annotations

from collections.abc import Mapping

from sentiment_rnn.evaluation.class_metrics import ClassEvaluation
from sentiment_rnn.evaluation.metrics import Evaluation

LABEL_WIDTH = 10  # the label column of the table is at least this wide, then one space


def auc_text(auc: float | None, undefined: str = "n/a (one class only)") -> str:
    """A ROC AUC as printed: four decimals, or ``undefined`` when the data holds one class only."""
    return undefined if auc is None else f"{auc:.4f}"


def metric_rows(result: Evaluation | ClassEvaluation) -> list[tuple[str, str]]:
    """The printed figures of one evaluation as (name, value) pairs, e.g. ("accuracy", "0.9700"), in table order.

    The rows of ``evaluate``'s table and of the report page's: the same names,
    in the same order, for every model of the same classes.
    """
    rows = [("n", str(result.n))]
    if isinstance(result, ClassEvaluation):
        figures = ("accuracy", "average_recall", "macro_precision", "macro_f1")
        rows += [(name, f"{getattr(result, name):.4f}") for name in figures]
        rows.append(("roc_auc", auc_text(result.roc_auc)))
        rows += [("mae", f"{result.mae:.4f}")] if result.mae is not None else []
    else:
        rows += [(name, f"{getattr(result, name):.4f}") for name in ("accuracy", "precision", "recall", "f1")]
        rows.append(("roc_auc", auc_text(result.roc_auc)))
    rows += [(name, f"{getattr(result, name):.4f}") for name in ("ece", "brier")]
    rows.append(("oov_rate", "n/a" if result.oov_rate is None else f"{result.oov_rate:.4f}"))
    if not isinstance(result, ClassEvaluation):
        (tn, fp), (fn, tp) = result.confusion
        rows.append(("confusion", f"tn {tn}  fp {fp}  fn {fn}  tp {tp}"))
    return rows


CLASS_COLUMNS = ["class", "precision", "recall", "f1", "roc_auc", "support"]


def class_rows(result: ClassEvaluation) -> list[list[str]]:
    """Each class's printed figures, one row per class in class order, cells as :data:`CLASS_COLUMNS` names them."""
    return [
        [
            name,
            *(f"{figures[key]:.4f}" for key in ("precision", "recall", "f1")),
            auc_text(figures["roc_auc"], "n/a"),
            str(figures["support"]),
        ]
        for name, figures in result.per_class.items()
    ]


def class_lines(result: ClassEvaluation) -> list[str]:
    """The lines of an N-class evaluation under the figures: each class's figures, then the confusion matrix."""
    table = [CLASS_COLUMNS, *class_rows(result)]
    widths = [max(len(row[k]) for row in table) for k in range(len(CLASS_COLUMNS))]
    lines = ["  ".join(f"{cell:<{width}}" for cell, width in zip(row, widths)).rstrip() for row in table]
    width = widths[0]
    cells = [[str(count) for count in row] for row in result.confusion]
    column = max(len(name) for name in result.classes)
    column = max(column, *(len(cell) for row in cells for cell in row))
    lines += ["", "confusion (rows: true class, columns: predicted)"]
    lines.append(" " * width + "".join(f"  {name:>{column}}" for name in result.classes))
    for name, row in zip(result.classes, cells):
        lines.append(f"{name:<{width}}" + "".join(f"  {cell:>{column}}" for cell in row))
    return lines


def mistake_lines(result: Evaluation | ClassEvaluation, errors: int) -> list[str]:
    """The ``errors`` texts the model got wrong most confidently, one line each (after a heading line)."""
    shown = result.errors[:errors]
    if isinstance(result, ClassEvaluation):
        return [f"  true {m.label}  predicted {m.predicted} {m.probability:.4f}  {m.text}" for m in shown]
    positive = result.classes[1]
    return [f"  true {result.classes[m.label]:<8}  p({positive}) {m.probability:.4f}  {m.text}" for m in shown]


def format_evaluations(results: Mapping[str, Evaluation | ClassEvaluation], errors: int = 0) -> str:
    """The metrics as the evaluate command prints them: one model as ``name value`` lines; several side by side.

    Args:
        results: each model's name (as given to --model) and its evaluation, in column order (the models
            share their classes).
        errors: how many of each model's surest mistakes to list after the table.

    Returns:
        Text ending in a newline. Several models get a header row ``model``
        naming each column; every column is as wide as its longest cell.
        Models of more than two classes then get each class's figures and the
        confusion matrix, each model's after a line ``model NAME`` when there are several.
    """
    names = list(results)
    columns = [metric_rows(results[name]) for name in names]
    labels = [label for label, _ in columns[0]]
    label_width = max(LABEL_WIDTH, *(len(label) for label in labels))
    if len(names) == 1:
        lines = [f"{label:<{label_width}} {value}" for label, value in columns[0]]
    else:
        table = [["model", *names]] + [[label, *(column[i][1] for column in columns)] for i, label in enumerate(labels)]
        widths = [max(len(row[k]) for row in table) for k in range(1, len(names) + 1)]
        lines = [
            (
                f"{row[0]:<{label_width}} " + "  ".join(f"{cell:<{width}}" for cell, width in zip(row[1:], widths))
            ).rstrip()
            for row in table
        ]
    for name in names:
        if isinstance(results[name], ClassEvaluation):
            lines += ["", *([f"model {name}"] if len(names) > 1 else []), *class_lines(results[name])]
    if errors:
        for name in names:
            result = results[name]
            of = "" if len(names) == 1 else f" of {name}"
            lines.append(f"Most confidently wrong{of} ({len(result.errors[:errors])} of {result.wrong}):")
            lines += mistake_lines(result, errors)
    return "\n".join(lines) + "\n"


def evaluations_as_json(
    results: Mapping[str, Evaluation | ClassEvaluation], with_errors: bool = False
) -> dict | list[dict]:
    """What evaluate --json prints: one model's ``to_dict``; for several, a list of them, each with its ``model``."""
    if len(results) == 1:
        (result,) = results.values()
        return result.to_dict(with_errors=with_errors)
    return [{"model": name, **result.to_dict(with_errors=with_errors)} for name, result in results.items()]
