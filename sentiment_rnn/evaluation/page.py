"""The report's page, ``index.html``: the metrics side by side, each class's (N classes), the figures and the
worst errors.

One HTML file with its style inline and no script: it shows the PNG files
beside it by relative links, so the directory can be opened from disk,
copied or served as it is. Every text that comes from outside (model names,
the data's name, the texts of the errors) is HTML-escaped.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape

from sentiment_rnn.evaluation.class_metrics import ClassEvaluation
from sentiment_rnn.evaluation.metrics import Evaluation
from sentiment_rnn.evaluation.table import CLASS_COLUMNS, class_rows, metric_rows

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 72em; padding: 0 1em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border-bottom: 1px solid #ddd; padding: 0.3em 0.8em; text-align: left; vertical-align: top; }
table.metrics td { font-family: ui-monospace, monospace; }
td.number { font-family: ui-monospace, monospace; text-align: right; }
figure { display: inline-block; margin: 0 1em 1em 0; vertical-align: top; }
img { max-width: 100%; border: 1px solid #eee; }
figcaption { max-width: 40em; color: #555; }
.about { color: #555; }
""".strip()

FIGURE_FILES = ["reliability.png", "roc.png", "confusion.png", "histogram.png"]  # in page order


def figure_captions(classes: tuple[str, ...]) -> list[tuple[str, str, str]]:
    """(file, title, caption) of each figure, in page order, for models of ``classes``."""
    if len(classes) == 2:
        positive = classes[1]
        return [
            (
                "reliability.png",
                "Calibration",
                f"Per bin of predicted probability, the share of texts that are {positive}: on the diagonal, a model "
                "means what it says. The ECE is the mean distance to the diagonal, weighted by the texts in each bin.",
            ),
            (
                "roc.png",
                "ROC curve",
                "True against false positive rate as the threshold falls from 1 to 0; the area under it is the ROC AUC.",
            ),
            (
                "confusion.png",
                "Confusion matrix",
                "Rows: the true label; columns: the predicted one; each cell's count and share of its row.",
            ),
            (
                "histogram.png",
                "Probabilities by class",
                f"How the predicted probabilities of the {classes[0]} and of the {positive} texts are spread.",
            ),
        ]
    return [
        (
            "reliability.png",
            "Calibration",
            "Per bin of the probability of the class answered (the top class), the share of texts answered right: "
            "on the diagonal, a model means what it says. The ECE is the mean distance to the diagonal, weighted "
            "by the texts in each bin.",
        ),
        (
            "roc.png",
            "ROC curves",
            "For each class against the rest, true against false positive rate as a threshold on that class's "
            "probability falls from 1 to 0; the area under each is the class's ROC AUC (roc_auc is their mean).",
        ),
        (
            "confusion.png",
            "Confusion matrix",
            "Rows: the true class; columns: the predicted one; each cell's count and share of its row.",
        ),
        (
            "histogram.png",
            "Probability of the true class",
            "How the probabilities the model gives each text's true class are spread, the classes stacked: "
            f"below 1/{len(classes)} a text is never answered right, above 1/2 always.",
        ),
    ]


def report_page(
    results: Mapping[str, Evaluation | ClassEvaluation],
    data: str,
    threshold: float,
    created: str,
    version: str,
    errors: int,
) -> str:
    """The HTML of ``index.html``.

    Args:
        results: each model's name (as given to --model) and its evaluation on ``data``, in column order
            (the models share their classes).
        data: what was evaluated on, e.g. ``test.csv``.
        threshold: the decision threshold the metrics used (two-class models only).
        created: when the report was written (ISO 8601).
        version: the sentiment-rnn version that wrote it.
        errors: how many of each model's surest mistakes to list.
    """
    names = list(results)
    first = next(iter(results.values()))
    classes = first.classes
    models = ", ".join(names)
    if len(classes) == 2:
        decision = f"threshold {threshold:g}"
    else:
        decision = f"{len(classes)} classes ({', '.join(classes)}), each text answered with its most probable"
    lines = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>sentiment-rnn evaluation: {escape(models)} on {escape(data)}</title>",
        f"<style>\n{STYLE}\n</style>",
        "</head>",
        "<body>",
        f"<h1>{escape(models)} on {escape(data)}</h1>",
        f'<p class="about">{first.n:,} labelled texts, {escape(decision)}; written {escape(created)} by '
        f'sentiment-rnn {escape(version)}. The same numbers for programs: <a href="report.json">report.json</a>.</p>',
        "<h2>Metrics</h2>",
        *metrics_table(results),
    ]
    class_results = {name: result for name, result in results.items() if isinstance(result, ClassEvaluation)}
    if class_results:
        lines.append("<h2>Per class</h2>")
        for name, result in class_results.items():
            lines += class_table(name, result)
    lines.append("<h2>Figures</h2>")
    for file, title, caption in figure_captions(classes):
        lines += [
            f'<figure id="{file.removesuffix(".png")}">',
            f'<a href="{file}"><img src="{file}" alt="{escape(title)} of {escape(models)}"></a>',
            f"<figcaption><strong>{escape(title)}.</strong> {escape(caption)}</figcaption>",
            "</figure>",
        ]
    lines.append("<h2>Worst errors</h2>")
    for name, result in results.items():
        lines += mistakes_table(name, result, errors)
    lines += ["</body>", "</html>", ""]
    return "\n".join(lines)


def metrics_table(results: Mapping[str, Evaluation | ClassEvaluation]) -> list[str]:
    """The metrics as ``evaluate`` prints them (``metric_rows``), one column per model."""
    columns = [metric_rows(result) for result in results.values()]
    head = "".join(f"<th>{escape(name)}</th>" for name in results)
    rows = [
        f"<tr><th>{escape(label)}</th>" + "".join(f"<td>{escape(column[i][1])}</td>" for column in columns) + "</tr>"
        for i, (label, _) in enumerate(columns[0])
    ]
    return ['<table class="metrics">', f"<thead><tr><th>metric</th>{head}</tr></thead>", "<tbody>", *rows] + [
        "</tbody>",
        "</table>",
    ]


def class_table(name: str, result: ClassEvaluation) -> list[str]:
    """A heading and each class's figures as ``evaluate`` prints them (``class_rows``), a row per class."""
    head = "".join(f"<th>{escape(column)}</th>" for column in CLASS_COLUMNS)
    rows = [
        f"<tr><th>{escape(row[0])}</th>"
        + "".join(f'<td class="number">{escape(cell)}</td>' for cell in row[1:])
        + "</tr>"
        for row in class_rows(result)
    ]
    return [
        f"<h3>{escape(name)}</h3>",
        '<table class="classes">',
        f"<thead><tr>{head}</tr></thead>",
        "<tbody>",
        *rows,
        "</tbody>",
        "</table>",
    ]


def mistakes_table(name: str, result: Evaluation | ClassEvaluation, errors: int) -> list[str]:
    """A heading and the ``errors`` texts ``name`` got wrong most confidently (or a line saying there are none).

    Each row gives the true class, then the probability of positive (two
    classes) or the class predicted and its probability (N classes), then the text.
    """
    shown = result.errors[:errors]
    lines = [f"<h3>{escape(name)}: {len(shown)} of {result.wrong:,} wrong, surest first</h3>"]
    if not shown:
        return lines + ["<p>No text was labelled wrongly.</p>" if not result.wrong else "<p>None listed.</p>"]
    if isinstance(result, ClassEvaluation):
        columns = ["true label", "predicted", "p(predicted)", "text"]
        rows = [[m.label, m.predicted, f"{m.probability:.4f}", m.text] for m in shown]
    else:
        columns = ["true label", f"p({result.classes[1]})", "text"]
        rows = [[result.classes[m.label], f"{m.probability:.4f}", m.text] for m in shown]
    numbers = len(columns) - 2  # the column of the probability
    lines += [
        '<table class="errors">',
        "<thead><tr>" + "".join(f"<th>{escape(column)}</th>" for column in columns) + "</tr></thead>",
        "<tbody>",
    ]
    lines += [
        "<tr>"
        + "".join(
            f'<td class="number">{escape(cell)}</td>' if index == numbers else f"<td>{escape(cell)}</td>"
            for index, cell in enumerate(row)
        )
        + "</tr>"
        for row in rows
    ]
    return lines + ["</tbody>", "</table>"]
