"""The report's page, ``index.html``: the metrics side by side, the figures and the worst errors.

One HTML file with its style inline and no script: it shows the PNG files
beside it by relative links, so the directory can be opened from disk,
copied or served as it is. Every text that comes from outside (model names,
the data's name, the texts of the errors) is HTML-escaped.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape

from sentiment_rnn.data.labels import label_name
from sentiment_rnn.evaluation.metrics import Evaluation
from sentiment_rnn.evaluation.table import metric_rows

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

# (file, title, caption) of each figure, in page order
FIGURE_CAPTIONS = [
    (
        "reliability.png",
        "Calibration",
        "Per bin of predicted probability, the share of texts that are positive: on the diagonal, a model "
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
        "How the predicted probabilities of the negative and of the positive texts are spread.",
    ),
]


def report_page(
    results: Mapping[str, Evaluation], data: str, threshold: float, created: str, version: str, errors: int
) -> str:
    """The HTML of ``index.html``.

    Args:
        results: each model's name (as given to --model) and its evaluation on ``data``, in column order.
        data: what was evaluated on, e.g. ``test.csv``.
        threshold: the decision threshold the metrics used.
        created: when the report was written (ISO 8601).
        version: the sentiment-rnn version that wrote it.
        errors: how many of each model's surest mistakes to list.
    """
    names = list(results)
    n = next(iter(results.values())).n
    models = ", ".join(names)
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
        f'<p class="about">{n:,} labelled texts, threshold {threshold:g}; written {escape(created)} by '
        f'sentiment-rnn {escape(version)}. The same numbers for programs: <a href="report.json">report.json</a>.</p>',
        "<h2>Metrics</h2>",
        *metrics_table(results),
        "<h2>Figures</h2>",
    ]
    for file, title, caption in FIGURE_CAPTIONS:
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


def metrics_table(results: Mapping[str, Evaluation]) -> list[str]:
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


def mistakes_table(name: str, result: Evaluation, errors: int) -> list[str]:
    """A heading and the ``errors`` texts ``name`` got wrong most confidently (or a line saying there are none)."""
    shown = result.errors[:errors]
    lines = [f"<h3>{escape(name)}: {len(shown)} of {result.wrong:,} wrong, surest first</h3>"]
    if not shown:
        return lines + ["<p>No text was labelled wrongly.</p>" if not result.wrong else "<p>None listed.</p>"]
    lines += [
        '<table class="errors">',
        "<thead><tr><th>true label</th><th>p(positive)</th><th>text</th></tr></thead>",
        "<tbody>",
    ]
    lines += [
        f'<tr><td>{label_name(m.label)}</td><td class="number">{m.probability:.4f}</td><td>{escape(m.text)}</td></tr>'
        for m in shown
    ]
    return lines + ["</tbody>", "</table>"]
