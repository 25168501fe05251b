"""The results laid out for people and programs: the table ``evaluate`` prints, one column per model, and its JSON.

Models of more than two classes get ``class_metrics.class_report`` each, one after the other.
"""

from __future__ import annotations

from collections.abc import Mapping

from sentiment_rnn.data.labels import label_name
from sentiment_rnn.evaluation.class_metrics import ClassEvaluation, class_report
from sentiment_rnn.evaluation.metrics import Evaluation


def metric_rows(result: Evaluation) -> list[tuple[str, str]]:
    """The printed metrics of one evaluation as (name, value) pairs, e.g. ("accuracy", "0.9700"), in table order."""
    (tn, fp), (fn, tp) = result.confusion
    rows = [("n", str(result.n))]
    rows += [(name, f"{getattr(result, name):.4f}") for name in ("accuracy", "precision", "recall", "f1")]
    rows.append(("roc_auc", "n/a (one class only)" if result.roc_auc is None else f"{result.roc_auc:.4f}"))
    rows += [(name, f"{getattr(result, name):.4f}") for name in ("ece", "brier")]
    rows.append(("oov_rate", "n/a" if result.oov_rate is None else f"{result.oov_rate:.4f}"))
    rows.append(("confusion", f"tn {tn}  fp {fp}  fn {fn}  tp {tp}"))
    return rows


def format_evaluations(results: Mapping[str, Evaluation | ClassEvaluation], errors: int = 0) -> str:
    """The metrics as the evaluate command prints them: one model as ``name value`` lines; several side by side.

    Args:
        results: each model's name (as given to --model) and its evaluation, in column order.
        errors: how many of each model's surest mistakes to list after the table.

    Returns:
        Text ending in a newline. Several models get a header row ``model``
        naming each column; every column is as wide as its longest cell.
        Models of more than two classes get their tables one after the other,
        each after a line ``model NAME`` when there are several.
    """
    names = list(results)
    if any(isinstance(result, ClassEvaluation) for result in results.values()):
        reports = [class_report(result, errors) for result in results.values()]
        if len(names) > 1:
            reports = [f"model {name}\n{report}" for name, report in zip(names, reports)]
        return "\n\n".join(reports) + "\n"
    columns = [metric_rows(results[name]) for name in names]
    labels = [label for label, _ in columns[0]]
    if len(names) == 1:
        lines = [f"{label:<10} {value}" for label, value in columns[0]]
    else:
        table = [["model", *names]] + [[label, *(column[i][1] for column in columns)] for i, label in enumerate(labels)]
        widths = [max(len(row[k]) for row in table) for k in range(1, len(names) + 1)]
        lines = [
            (f"{row[0]:<10} " + "  ".join(f"{cell:<{width}}" for cell, width in zip(row[1:], widths))).rstrip()
            for row in table
        ]
    if errors:
        for name in names:
            result = results[name]
            of = "" if len(names) == 1 else f" of {name}"
            lines.append(f"Most confidently wrong{of} ({len(result.errors[:errors])} of {result.wrong}):")
            for mistake in result.errors[:errors]:
                truth = label_name(mistake.label)
                lines.append(f"  true {truth:<8}  p(positive) {mistake.probability:.4f}  {mistake.text}")
    return "\n".join(lines) + "\n"


def evaluations_as_json(
    results: Mapping[str, Evaluation | ClassEvaluation], with_errors: bool = False
) -> dict | list[dict]:
    """What evaluate --json prints: one model's ``to_dict``; for several, a list of them, each with its ``model``."""
    if len(results) == 1:
        (result,) = results.values()
        return result.to_dict(with_errors=with_errors)
    return [{"model": name, **result.to_dict(with_errors=with_errors)} for name, result in results.items()]
