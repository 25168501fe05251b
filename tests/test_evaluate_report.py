"""evaluate --report DIR and evaluate of several models, two classes and more: the curves by hand, the files,
the page, the refusals."""

from __future__ import annotations

import errno
import json
import os
import struct
import sys
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from conftest import NEGATIVE, POSITIVE, THREE, TOY, TOY_OVERRIDES, assert_close, toy_rows, write_csv
from sentiment_rnn.cli import cli
from sentiment_rnn.evaluation import binary_metrics, evaluate_models, metric_rows, roc_auc

FIGURES = ["confusion.png", "histogram.png", "reliability.png", "roc.png"]
REPORT_FILES = sorted(["index.html", "manifest.json", "report.json", *FIGURES])  # manifest: what the tool wrote


def run(*args, **kwargs):
    return CliRunner().invoke(cli, [str(arg) for arg in args], **kwargs)


def test_curves_by_hand():
    # probabilities 0.05 0.15 0.15 0.55 0.95 1.0 for labels 0 0 1 0 1 1
    result = binary_metrics(np.array([0, 0, 1, 0, 1, 1]), np.array([0.05, 0.15, 0.15, 0.55, 0.95, 1.0]))
    curves = result.curves
    # ECE bins of width 0.1: [0, .1) holds 0.05; [.1, .2) 0.15 twice; [.5, .6) 0.55; [.9, 1] 0.95 and 1.0
    assert curves.bin_counts.tolist() == [1, 2, 0, 0, 0, 1, 0, 0, 0, 2]
    assert curves.bin_labels.tolist() == [0, 1, 0, 0, 0, 0, 0, 0, 0, 2]
    assert curves.bin_probabilities == pytest.approx([0.05, 0.3, 0, 0, 0, 0.55, 0, 0, 0, 1.95])
    # histogram bins of width 0.05: 0.05 -> bin 1, 0.15 -> bin 3, 0.55 -> bin 11, 0.95 and 1.0 -> bin 19
    negatives, positives = np.zeros(20, int), np.zeros(20, int)
    negatives[[1, 3, 11]] = 1
    positives[3], positives[19] = 1, 2
    assert curves.histogram.tolist() == [negatives.tolist(), positives.tolist()]
    # thresholds from the top: 1.0 (tp 1), 0.95 (tp 2), 0.55 (fp 1), 0.15 (tp 3, fp 2), 0.05 (fp 3)
    false_positive_rate, true_positive_rate = curves.rocs["positive"]
    assert false_positive_rate == pytest.approx([0, 0, 0, 1 / 3, 2 / 3, 1])
    assert true_positive_rate == pytest.approx([0, 1 / 3, 2 / 3, 2 / 3, 1, 1])
    assert binary_metrics(np.array([1, 1]), np.array([0.2, 0.9])).curves.rocs == {
        "positive": None
    }  # one class: no curve


@given(st.lists(st.tuples(st.booleans(), st.sampled_from([0.0, 0.2, 0.5, 0.7, 1.0])), min_size=2, max_size=30))
def test_the_area_under_the_roc_curve_is_the_auc(pairs):
    labels = np.array([label for label, _ in pairs], dtype=int)
    scores = np.array([score for _, score in pairs])
    result = binary_metrics(labels, scores)
    if result.roc_auc is None:
        assert result.curves.rocs == {"positive": None}
        return
    false_positive_rate, true_positive_rate = result.curves.rocs["positive"]
    area = float(np.sum(np.diff(false_positive_rate) * (true_positive_rate[1:] + true_positive_rate[:-1]) / 2))
    assert area == pytest.approx(roc_auc(labels, scores), abs=1e-12)  # the trapezoids count ties one half too
    assert result.curves.histogram.sum(axis=1).tolist() == [int((labels == 0).sum()), int((labels == 1).sum())]


class Links(HTMLParser):
    """Every ``src`` and ``href`` of a page, and the text of each table row (cells stripped)."""

    def __init__(self):
        super().__init__()
        self.sources, self.targets, self.rows, self.row = [], [], [], None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if "src" in attributes:
            self.sources.append(attributes["src"])
        if "href" in attributes:
            self.targets.append(attributes["href"])
        if tag == "tr":
            self.row = []
        elif tag in ("td", "th") and self.row is not None:
            self.row.append("")

    def handle_endtag(self, tag):
        if tag == "tr":
            self.rows.append(self.row)
            self.row = None

    def handle_data(self, data):
        if self.row:
            self.row[-1] += data


def parse_page(path: Path) -> Links:
    links = Links()
    links.feed(path.read_text(encoding="utf-8"))
    return links


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


@pytest.fixture
def tiny_model(tiny_run):
    return tiny_run.model_dir


def test_report_writes_its_files_and_the_page_links_them(tiny_model, tiny_csv, tmp_path):
    report = tmp_path / "report"
    plain = run("evaluate", "--model", tiny_model, "--data", tiny_csv)
    result = run("evaluate", "--model", tiny_model, "--data", tiny_csv, "--report", report)
    assert result.exit_code == 0, result.output
    assert result.stdout == plain.stdout  # the report changes nothing printed on stdout
    assert result.stderr == f"Report written to {report / 'index.html'}\n"
    assert sorted(os.listdir(report)) == REPORT_FILES
    assert sorted(os.listdir(tmp_path)) == ["report", "tiny.csv"]  # no lock, no staging left beside it
    sizes = {name: png_size(report / name) for name in FIGURES}  # inches x 100 dpi, one panel per model
    assert sizes == {"reliability.png": (630, 675), "roc.png": (540, 540)} | {
        name: (450, 450) for name in ("confusion.png", "histogram.png")
    }
    page = parse_page(report / "index.html")
    assert page.sources == ["reliability.png", "roc.png", "confusion.png", "histogram.png"]
    assert page.targets == ["report.json", *page.sources]  # relative links only: the page works opened from disk
    data = json.loads((report / "report.json").read_text(encoding="utf-8"))
    assert (data["report_format"], data["data"], data["threshold"]) == (1, str(tiny_csv), 0.5)
    (model,) = data["models"]
    assert model["model"] == str(tiny_model)
    printed = dict(line.split(None, 1) for line in plain.stdout.splitlines())
    table = {row[0]: row[1:] for row in page.rows if row and row[0] in printed}
    assert table == {label: [value] for label, value in printed.items()}  # the page shows the printed numbers
    assert page.rows[0] == ["metric", str(tiny_model)]
    assert printed["accuracy"] == f"{model['accuracy']:.4f}" and printed["n"] == "12" == str(model["n"])
    shown = [row for row in page.rows if row and row[0] in ("negative", "positive")]
    assert shown == [
        [label, f"{mistake['probability']:.4f}", mistake["text"]]
        for mistake in model["errors"]
        for label in ["positive" if mistake["label"] else "negative"]
    ]
    assert len(model["errors"]) == min(10, model["confusion"][0][1] + model["confusion"][1][0])


def test_report_escapes_every_text(tiny_model, tmp_path):
    model = tmp_path / "a<b>&c"
    os.symlink(tiny_model, model)
    # the labels are the opposite of what the texts say, so the model gets them wrong and the page lists them
    rows = [('<script>alert("x")</script> I like this phone & the battery is great', 0), ("awful sound", 1)]
    data = write_csv(tmp_path / "tricky.csv", rows)
    result = run("evaluate", "--model", model, "--data", data, "--report", tmp_path / "report", "--errors", "2")
    assert result.exit_code == 0, result.output
    html = (tmp_path / "report" / "index.html").read_text(encoding="utf-8")
    assert "<script>" not in html and "a<b>" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; I like this phone &amp; the battery is great" in html
    assert f"<th>{str(model).replace('&', '&amp;').replace('<', '&lt;').replace('>', '&gt;')}</th>" in html
    texts = [
        row[2]
        for row in parse_page(tmp_path / "report" / "index.html").rows
        if len(row) == 3 and row[0] != "true label"
    ]
    assert sorted(texts) == sorted(text for text, _ in rows)


def test_several_models_side_by_side(tiny_model, tiny_csv, tmp_path):
    alone = {
        name: run("evaluate", "--model", name, "--data", tiny_csv, "--json") for name in (tiny_model, "reviews-en")
    }
    together = run("evaluate", "--model", tiny_model, "--model", "reviews-en", "--data", tiny_csv, "--json")
    assert together.exit_code == 0, together.output
    # the same batches through the same models: the same numbers, exactly
    assert json.loads(together.stdout) == [
        {"model": str(tiny_model), **json.loads(alone[tiny_model].stdout)},
        {"model": "reviews-en", **json.loads(alone["reviews-en"].stdout)},
    ]
    table = run("evaluate", "--model", tiny_model, "--model", "reviews-en", "--data", tiny_csv, "--errors", "1")
    assert table.exit_code == 0, table.output
    lines = table.stdout.splitlines()
    width = len(str(tiny_model))  # the model's column is as wide as its widest cell: the path of the model
    assert width > len("tn 12  fp 12  fn 12  tp 12")
    assert lines[0] == f"model      {str(tiny_model):<{width}}  reviews-en"
    singles = {
        name: run("evaluate", "--model", name, "--data", tiny_csv, "--errors", "1").stdout.splitlines()
        for name in (tiny_model, "reviews-en")
    }
    for row, first, second in zip(lines[1:11], singles[tiny_model], singles["reviews-en"]):
        label, mine, theirs = first[:11], first[11:], second[11:]
        assert second[:11] == label
        assert row == f"{label}{mine:<{width}}  {theirs}"
    assert lines[11:] == [
        line.replace("Most confidently wrong", f"Most confidently wrong of {name}")
        for name in (tiny_model, "reviews-en")
        for line in singles[name][10:]
    ]
    report = tmp_path / "both"
    drawn = run("evaluate", "--model", tiny_model, "--model", "reviews-en", "--data", tiny_csv, "--report", report)
    assert drawn.exit_code == 0, drawn.output
    assert png_size(report / "confusion.png") == png_size(report / "histogram.png") == (900, 450)  # a panel each
    page = parse_page(report / "index.html")
    assert page.rows[0] == ["metric", str(tiny_model), "reviews-en"]
    assert page.rows[2] == ["accuracy", *(f"{json.loads(alone[m].stdout)['accuracy']:.4f}" for m in alone)]


def test_evaluate_models_reads_the_data_once(tiny_model, tiny_csv, monkeypatch):
    from sentiment_rnn.config import load_config
    from sentiment_rnn.data import batches

    read = []
    original = batches.read_batches
    monkeypatch.setattr(batches, "read_batches", lambda *a, **k: read.append(1) or original(*a, **k))
    config = load_config(overrides=[f"data.path={str(tiny_csv)!r}"]).data
    results = evaluate_models([tiny_model, "reviews-en"], config)
    assert list(results) == [str(tiny_model), "reviews-en"] and read == [1]
    assert [result.n for result in results.values()] == [12, 12]


def test_the_model_variable_names_the_model_to_evaluate(tiny_model, tiny_csv, monkeypatch):
    monkeypatch.setenv("SENTIMENT_RNN_MODEL", str(tiny_model))
    by_variable = run("evaluate", "--data", tiny_csv)
    assert by_variable.exit_code == 0, by_variable.output
    assert by_variable.stdout == run("evaluate", "--model", tiny_model, "--data", tiny_csv).stdout


def test_a_second_report_replaces_the_first(tiny_model, tiny_csv, tmp_path):
    report = tmp_path / "report"
    assert run("evaluate", "--model", tiny_model, "--data", tiny_csv, "--report", report).exit_code == 0
    again = run("evaluate", "--model", tiny_model, "--data", tiny_csv, "--report", report, "--threshold", "0.7", "-q")
    assert (again.exit_code, again.stderr) == (0, "")
    assert sorted(os.listdir(report)) == REPORT_FILES
    assert json.loads((report / "report.json").read_text())["threshold"] == 0.7
    assert "threshold 0.7;" in (report / "index.html").read_text()


def test_a_full_disk_leaves_the_earlier_report(tiny_model, tiny_csv, tmp_path, monkeypatch):
    from matplotlib.figure import Figure

    report = tmp_path / "report"
    assert run("evaluate", "--model", tiny_model, "--data", tiny_csv, "--report", report).exit_code == 0
    before = {name: (report / name).read_bytes() for name in REPORT_FILES}

    def full(self, path, **kwargs):
        Path(path).write_bytes(b"\x89PNG half")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Figure, "savefig", full)
    result = run("evaluate", "--model", tiny_model, "--data", tiny_csv, "--report", report)
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        f"Error: Cannot write {report}: the disk is full (no space left on device); {report} was not changed; "
        "free some space or choose another --report.\n"
    )
    assert {name: (report / name).read_bytes() for name in REPORT_FILES} == before
    assert sorted(os.listdir(tmp_path)) == ["report", "tiny.csv"]


def test_without_matplotlib_the_report_is_refused_in_one_line(tiny_model, tiny_csv, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if not installed
    result = run("evaluate", "--model", tiny_model, "--data", tiny_csv, "--report", tmp_path / "report")
    assert (result.exit_code, result.output) == (
        1,
        "Error: evaluate --report needs matplotlib, which is not installed: pip install 'sentiment-rnn[plot]' "
        "(or pip install matplotlib).\n",
    )
    assert not (tmp_path / "report").exists()
    assert run("evaluate", "--model", tiny_model, "--data", tiny_csv).exit_code == 0  # the rest needs no matplotlib


def test_the_report_takes_its_rows_from_the_printed_table():
    result = binary_metrics(np.array([0, 1, 1]), np.array([0.2, 0.4, 0.9]))
    assert metric_rows(result) == [
        ("n", "3"),
        ("accuracy", "0.6667"),
        ("precision", "1.0000"),
        ("recall", "0.5000"),
        ("f1", "0.6667"),
        ("roc_auc", "1.0000"),
        ("ece", f"{result.ece:.4f}"),
        ("brier", f"{(0.2**2 + 0.6**2 + 0.1**2) / 3:.4f}"),
        ("oov_rate", "n/a"),
        ("confusion", "tn 1  fp 0  fn 1  tp 1"),
    ]


def test_several_models_read_the_data_alike_or_are_refused(tiny_model, tiny_csv, tmp_path):
    import shutil

    other = tmp_path / "other"
    shutil.copytree(tiny_model, other)
    config = (other / "config.toml").read_text(encoding="utf-8")
    (other / "config.toml").write_text(config.replace('text_column = "text"', 'text_column = "review"'))
    args = ["evaluate", "--model", tiny_model, "--model", other, "--data", tiny_csv]
    refused = run(*args)
    assert (refused.exit_code, refused.output) == (
        1,
        f'Error: --model {tiny_model} and --model {other} were trained on data read differently (data.text_column "text" '
        'and "review"): pass --text-column to say how to read the data.\n',
    )
    assert run(*args, "--text-column", "text").exit_code == 0
    assert len(NEGATIVE + POSITIVE) == 12


def test_figures_draw_each_model_and_say_when_there_is_no_curve():
    from sentiment_rnn.evaluation.figures import confusion_figure, histogram_figure, reliability_figure, roc_figure

    both = binary_metrics(np.array([0, 1, 1]), np.array([0.2, 0.4, 0.9]))
    one_class = binary_metrics(np.array([1, 1]), np.array([0.2, 0.9]))
    long_name = "/home/someone/experiments/2024/run-42/my-model"
    results = {"both": both, long_name: one_class}
    (axes,) = roc_figure(results).axes
    assert [text.get_text() for text in axes.get_legend().get_texts()] == [
        "chance",
        "both (AUC 1.0000)",
        "…xperiments/2024/run-42/my-model: one class only, no curve",  # long names keep their end
    ]
    fpr, tpr = axes.get_lines()[1].get_data()
    assert (list(fpr), list(tpr)) == ([0, 0, 0, 1], [0, 0.5, 1, 1])  # 0.9 and 0.4 are positives, 0.2 the negative
    top, _ = reliability_figure(results).axes
    both_points = top.get_lines()[1]
    assert list(both_points.get_xdata()) == pytest.approx([0.2, 0.4, 0.9])  # one text in each bin: its probability
    assert list(both_points.get_ydata()) == [0, 1, 1]
    assert [a.get_title() for a in confusion_figure(results).axes if a.get_visible()] == [
        "both: accuracy 0.6667",
        "…xperiments/2024/run-42/my-model: accuracy 0.5000",
    ]
    assert len([a for a in histogram_figure(results, 0.5).axes if a.get_visible()]) == 2


def test_a_report_on_one_class_is_written(tiny_model, tmp_path):
    data = write_csv(tmp_path / "positive.csv", [(text, 1) for text in POSITIVE])
    result = run("evaluate", "--model", tiny_model, "--data", data, "--report", tmp_path / "report")
    assert result.exit_code == 0, result.output
    assert sorted(os.listdir(tmp_path / "report")) == REPORT_FILES
    assert "<tr><th>roc_auc</th><td>n/a (one class only)</td></tr>" in (tmp_path / "report" / "index.html").read_text()


def test_a_report_json_that_is_a_fifo_or_a_link_does_not_make_a_report_directory(tmp_path):
    from sentiment_rnn.evaluation.report import is_report_directory

    real = tmp_path / "real"
    real.mkdir()
    (real / "report.json").write_text('{"report_format": 1}', encoding="utf-8")
    assert is_report_directory(real)
    linked = tmp_path / "linked"
    linked.mkdir()
    (linked / "report.json").symlink_to(real / "report.json")  # a valid report elsewhere: not this directory's
    assert not is_report_directory(linked)
    fifo = tmp_path / "fifo"
    fifo.mkdir()
    os.mkfifo(fifo / "report.json")  # read with open() this would block forever
    assert not is_report_directory(fifo)


# ---------------------------------------------------------------- more than two classes

TOY_CLASS = {text: name for name, texts in TOY.items() for text in texts}
# Three texts of the toy corpus under another class's label: a model right on every toy text gets these three wrong.
MOVED = {"I love this phone": "neutral", "the battery is terrible": "positive", "the box has a manual": "negative"}


@pytest.fixture(scope="module")
def three_class(tmp_path_factory):
    """(model, data): a model trained on the three-class toy corpus, and the corpus once with :data:`MOVED`."""
    from sentiment_rnn.config import load_config
    from sentiment_rnn.training.run import train

    root = tmp_path_factory.mktemp("three")
    corpus = write_csv(root / "toy.csv", toy_rows())
    config = load_config(overrides=[f"data.path={json.dumps(str(corpus))}", *TOY_OVERRIDES])
    model = train(config, root / "three", verbose=0).out_dir
    rows = [(text, MOVED.get(text, label)) for text, label in toy_rows()[:18]]  # each text once
    return model, write_csv(root / "moved.csv", rows)


def test_a_three_class_report_draws_every_class(three_class, tmp_path):
    model, data = three_class
    report = tmp_path / "report"
    plain = run("evaluate", "--model", model, "--data", data)
    result = run("evaluate", "--model", model, "--data", data, "--report", report)
    assert result.exit_code == 0, result.output
    assert result.stdout == plain.stdout  # the report changes nothing printed on stdout
    assert result.stderr == f"Report written to {report / 'index.html'}\n"
    assert sorted(os.listdir(report)) == REPORT_FILES
    assert sorted(os.listdir(tmp_path)) == ["report"]
    sizes = {name: png_size(report / name) for name in FIGURES}  # ROC: a panel per class, against the rest
    assert sizes == {"reliability.png": (630, 675), "roc.png": (1350, 450)} | {
        name: (450, 450) for name in ("confusion.png", "histogram.png")
    }
    written = json.loads((report / "report.json").read_text(encoding="utf-8"))
    assert (written["report_format"], written["data"], written["threshold"]) == (1, str(data), None)  # no threshold
    (measured,) = written["models"]
    assert (measured["model"], measured["classes"], measured["n"]) == (str(model), list(THREE), 18)
    assert measured["confusion"] == [[5, 1, 0], [0, 5, 1], [1, 0, 5]]  # rows: true class; each moved text is wrong
    page = parse_page(report / "index.html")
    assert page.sources == ["reliability.png", "roc.png", "confusion.png", "histogram.png"]
    assert page.targets == ["report.json", *page.sources]
    # the page shows the numbers evaluate prints: the figures, then each class's
    figures, per_class, confusion = plain.stdout.split("\n\n")
    assert page.rows[0] == ["metric", str(model)]
    printed = [line.split(None, 1) for line in figures.splitlines()]
    assert [row[0] for row in printed] == [
        *("n", "accuracy", "average_recall", "macro_precision", "macro_f1", "roc_auc", "ece", "brier", "oov_rate")
    ]
    assert page.rows[1 : 1 + len(printed)] == printed
    classes = [line.split() for line in per_class.splitlines()]
    assert classes[0] == ["class", "precision", "recall", "f1", "roc_auc", "support"]
    start = page.rows.index(classes[0])
    assert page.rows[start : start + 4] == classes
    assert [row[-1] for row in classes[1:]] == ["6", "6", "6"]
    assert confusion.splitlines()[2:] == [
        "negative         5         1         0",
        "neutral          0         5         1",
        "positive         1         0         5",
    ]
    # the worst errors: true and predicted class, the predicted class's probability, surest first
    errors = [row for row in page.rows if len(row) == 4]
    assert errors[0] == ["true label", "predicted", "p(predicted)", "text"]
    assert errors[1:] == [
        [m["label"], m["predicted"], f"{m['probability']:.4f}", m["text"]] for m in measured["errors"]
    ]
    assert sorted((text, true, predicted) for true, predicted, _, text in errors[1:]) == sorted(
        (text, moved, TOY_CLASS[text]) for text, moved in MOVED.items()
    )
    probabilities = [m["probability"] for m in measured["errors"]]
    assert probabilities == sorted(probabilities, reverse=True)
    html = (report / "index.html").read_text(encoding="utf-8")
    assert (
        '<p class="about">18 labelled texts, 3 classes (negative, neutral, positive), each text answered with its '
        "most probable; written "
    ) in html
    assert "<h3>" + str(model).replace("&", "&amp;") + ": 3 of 3 wrong, surest first</h3>" in html
    assert "below 1/3 a text is never answered right, above 1/2 always." in html


def test_a_three_class_report_agrees_with_predict(three_class, tmp_path):
    from sklearn.metrics import roc_auc_score

    from sentiment_rnn.evaluation import class_metrics

    model, data = three_class
    result = run("evaluate", "--model", model, "--data", data, "--report", tmp_path / "report", "-q")
    assert result.exit_code == 0, result.output
    (measured,) = json.loads((tmp_path / "report" / "report.json").read_text(encoding="utf-8"))["models"]
    rows = [(text, MOVED.get(text, label)) for text, label in toy_rows()[:18]]
    answers = run("predict", "--model", model, "--json", *(text for text, _ in rows))
    assert answers.exit_code == 0, answers.output
    probabilities = np.array(
        [[json.loads(line)["probabilities"][name] for name in THREE] for line in answers.stdout.splitlines()]
    )
    labels = np.array([THREE.index(label) for _, label in rows])
    # evaluate's batches and predict's answers are two code paths, scikit-learn a third: floats to PATHS_ATOL
    by_scikit_learn = {name: roc_auc_score(labels == k, probabilities[:, k]) for k, name in enumerate(THREE)}
    assert_close({name: measured["per_class"][name]["roc_auc"] for name in THREE}, by_scikit_learn)
    assert_close(measured["roc_auc"], float(roc_auc_score(labels, probabilities, multi_class="ovr")))
    expected = class_metrics(labels, probabilities, THREE).to_dict()
    del expected["oov_rate"]  # predict's probabilities alone hold no token counts
    assert_close({key: measured[key] for key in expected}, expected)


def test_three_class_models_side_by_side(three_class, tmp_path):
    import shutil

    model, data = three_class
    other = tmp_path / "again"
    shutil.copytree(model, other)  # the same model by another name: the same answers
    singles = {name: run("evaluate", "--model", name, "--data", data, "--errors", "1") for name in (model, other)}
    together = run("evaluate", "--model", model, "--model", other, "--data", data, "--errors", "1")
    assert together.exit_code == 0, together.output
    alone = singles[model].stdout.splitlines()
    figures, wrong = alone.index(""), next(i for i, line in enumerate(alone) if line.startswith("Most confidently"))
    width = len(str(model))  # the model's column is as wide as its widest cell: its path
    expected = [f"{'model':<15} {str(model):<{width}}  {other}"]
    expected += [f"{line[:16]}{line[16:]:<{width}}  {line[16:]}" for line in alone[:figures]]
    for name in (model, other):  # each model's classes and confusion, after its name
        expected += ["", f"model {name}", *singles[name].stdout.splitlines()[figures + 1 : wrong]]
    for name in (model, other):
        single = singles[name].stdout.splitlines()[wrong:]
        expected += [single[0].replace("Most confidently wrong", f"Most confidently wrong of {name}"), *single[1:]]
    assert together.stdout.splitlines() == expected
    assert alone[wrong:] == ["Most confidently wrong (1 of 3):", alone[wrong + 1]]
    as_json = run("evaluate", "--model", model, "--model", other, "--data", data, "--json")
    one = json.loads(run("evaluate", "--model", model, "--data", data, "--json").stdout)
    assert json.loads(as_json.stdout) == [{"model": str(model), **one}, {"model": str(other), **one}]
    report = tmp_path / "both"
    drawn = run("evaluate", "--model", model, "--model", other, "--data", data, "--report", report)
    assert drawn.exit_code == 0, drawn.output
    sizes = {name: png_size(report / name) for name in FIGURES}  # a panel per model, and per class for ROC
    assert sizes == {"reliability.png": (630, 675), "roc.png": (1350, 450)} | {
        name: (900, 450) for name in ("confusion.png", "histogram.png")
    }
    page = parse_page(report / "index.html")
    assert page.rows[0] == ["metric", str(model), str(other)]
    assert page.rows.count(["class", "precision", "recall", "f1", "roc_auc", "support"]) == 2  # one table per model


@pytest.mark.parametrize("report", [False, True])
def test_a_two_class_model_beside_a_three_class_one_is_refused_in_one_line(three_class, tiny_model, tmp_path, report):
    model, data = three_class
    extra = ["--report", tmp_path / "report"] if report else []
    for first, second in ((tiny_model, model), (model, tiny_model)):
        result = run("evaluate", "--model", first, "--model", second, "--data", data, *extra)
        classes = {tiny_model: "negative, positive", model: "negative, neutral, positive"}
        assert (result.exit_code, result.output) == (
            1,
            f"Error: --model {first} and --model {second} have different classes ({classes[first]} and "
            f"{classes[second]}): evaluate them one at a time.\n",
        )
    assert os.listdir(tmp_path) == []  # no report begun


def test_class_curves_by_hand():
    from sentiment_rnn.evaluation import class_metrics

    labels = np.array([0, 0, 1, 2, 2, 2])
    probabilities = np.array(
        [[0.7, 0.2, 0.1], [0.3, 0.6, 0.1], [0.1, 0.8, 0.1], [0.2, 0.2, 0.6], [0.5, 0.1, 0.4], [0.0, 0.1, 0.9]]
    )  # predicted: 0, 1, 1, 2, 0, 2 with probability 0.7 0.6 0.8 0.6 0.5 0.9; right: yes no yes yes no yes
    curves = class_metrics(labels, probabilities, ("a", "b", "c")).curves
    # the top class's probability in ECE bins of width 0.1: 0.5 -> bin 5, 0.6 twice -> 6, 0.7 -> 7, 0.8 -> 8, 0.9 -> 9
    assert curves.bin_counts.tolist() == [0, 0, 0, 0, 0, 1, 2, 1, 1, 1]
    assert curves.bin_labels.tolist() == [0, 0, 0, 0, 0, 0, 1, 1, 1, 1]  # the right answers in each bin
    assert curves.bin_probabilities == pytest.approx([0, 0, 0, 0, 0, 0.5, 1.2, 0.7, 0.8, 0.9])
    # the true class's probability in bins of width 0.05: a: 0.7 -> 14, 0.3 -> 6; b: 0.8 -> 16; c: 0.6 0.4 0.9
    histogram = np.zeros((3, 20), int)
    histogram[0, [14, 6]] = 1
    histogram[1, 16] = 1
    histogram[2, [12, 8, 18]] = 1
    assert curves.histogram.tolist() == histogram.tolist()
    # a against the rest: 0.7 (a) 0.5 0.3 (a) 0.2 0.1 0.0 from the top
    fpr, tpr = curves.rocs["a"]
    assert (fpr.tolist(), tpr.tolist()) == ([0, 0, 0.25, 0.25, 0.5, 0.75, 1], [0, 0.5, 0.5, 1, 1, 1, 1])
    fpr, tpr = curves.rocs["b"]  # 0.8 (b), then 0.6, 0.2 twice, 0.1 twice
    assert (fpr.tolist(), tpr.tolist()) == ([0, 0, 0.2, 0.6, 1], [0, 1, 1, 1, 1])
    fpr, tpr = curves.rocs["c"]  # 0.9 0.6 0.4 (all c), then 0.1 three times
    assert fpr.tolist() == [0, 0, 0, 0, 1] and tpr == pytest.approx([0, 1 / 3, 2 / 3, 1, 1])
    absent = class_metrics(np.array([0, 2]), probabilities[[0, 5]], ("a", "b", "c"))
    assert absent.curves.rocs["b"] is None and absent.roc_aucs == {"a": 1.0, "b": None, "c": 1.0}
    assert absent.roc_auc == 1.0  # the mean over the classes with a curve


@given(
    st.lists(
        st.tuples(st.integers(0, 2), st.tuples(*[st.integers(1, 4)] * 3)),  # a label, and weights made probabilities
        min_size=2,
        max_size=30,
    )
)
def test_each_class_curve_encloses_its_auc(pairs):
    from sklearn.metrics import roc_auc_score

    from sentiment_rnn.evaluation import class_metrics

    labels = np.array([label for label, _ in pairs])
    weights = np.array([weight for _, weight in pairs], dtype=float)
    probabilities = weights / weights.sum(axis=1, keepdims=True)  # few distinct values: many ties
    result = class_metrics(labels, probabilities, ("a", "b", "c"))
    for index, name in enumerate(("a", "b", "c")):
        members = labels == index
        if members.all() or not members.any():
            assert result.curves.rocs[name] is None and result.roc_aucs[name] is None
            continue
        fpr, tpr = result.curves.rocs[name]
        area = float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))
        assert area == pytest.approx(result.roc_aucs[name], abs=1e-12)  # the trapezoids count ties one half too
        # scikit-learn computes it another way: the same to the last digits
        assert result.roc_aucs[name] == pytest.approx(roc_auc_score(members, probabilities[:, index]), abs=1e-12)
    assert result.curves.histogram.sum(axis=1).tolist() == np.bincount(labels, minlength=3).tolist()
    assert result.curves.bin_counts.sum() == len(labels)


def test_a_report_of_star_ratings_from_python(tmp_path):
    from sentiment_rnn.errors import SentimentError
    from sentiment_rnn.evaluation import binary_metrics, class_metrics, write_report

    stars = ("1", "2", "3", "4", "5")
    labels = np.arange(20) % 5
    probabilities = np.full((20, 5), 0.1)
    probabilities[np.arange(20), (labels + (np.arange(20) % 4 == 0)) % 5] = 0.6  # every fourth text a star up
    result = class_metrics(labels, probabilities, stars)
    assert metric_rows(result) == [
        ("n", "20"),
        ("accuracy", "0.7500"),
        ("average_recall", "0.7500"),
        ("macro_precision", "0.7500"),
        ("macro_f1", "0.7500"),
        ("roc_auc", f"{result.roc_auc:.4f}"),
        ("mae", "0.4000"),  # texts 0, 4, 8, 12, 16 one star up, text 4's 5 round to 1: (4 x 1 + 4) / 20
        ("ece", f"{result.ece:.4f}"),
        ("brier", f"{result.brier:.4f}"),
        ("oov_rate", "n/a"),
    ]
    page = write_report(tmp_path / "report", {"stars": result}, "stars.csv", errors=0)
    assert page == tmp_path / "report" / "index.html"
    assert sorted(os.listdir(tmp_path / "report")) == REPORT_FILES
    assert png_size(tmp_path / "report" / "confusion.png") == (562, 562)  # five classes: a larger panel
    assert "<tr><th>mae</th><td>0.4000</td></tr>" in page.read_text(encoding="utf-8")
    with pytest.raises(SentimentError) as error:
        write_report(
            tmp_path / "mixed", {"stars": result, "two": binary_metrics(np.array([0, 1]), np.array([0.2, 0.7]))}, "x"
        )
    assert str(error.value) == (
        "--model stars and --model two have different classes (1, 2, 3, 4, 5 and negative, positive): "
        "evaluate them one at a time."
    )
    assert not (tmp_path / "mixed").exists()


def test_class_figures_draw_a_panel_per_class_and_stack_the_classes():
    from sentiment_rnn.evaluation import class_metrics
    from sentiment_rnn.evaluation.figures import confusion_figure, histogram_figure, reliability_figure, roc_figure

    probabilities = np.array([[0.7, 0.2, 0.1], [0.3, 0.6, 0.1], [0.1, 0.8, 0.1], [0.2, 0.2, 0.6]])
    every = class_metrics(np.array([0, 0, 1, 2]), probabilities, THREE)  # AUCs: 1, 1, 1
    no_neutral = class_metrics(np.array([0, 0, 2, 2]), probabilities, THREE)
    results = {"every": every, "no neutral": no_neutral}
    roc = roc_figure(results)
    assert [axes.get_title() for axes in roc.axes if axes.get_visible()] == [
        f"{name} against the rest" for name in THREE
    ]
    legends = [[text.get_text() for text in axes.get_legend().get_texts()] for axes in roc.axes]
    assert legends[1] == ["chance", "every (AUC 1.0000)", "no neutral: no neutral or nothing else, no curve"]
    assert legends[2] == ["chance", "every (AUC 1.0000)", f"no neutral (AUC {no_neutral.roc_aucs['positive']:.4f})"]
    confusion = [axes for axes in confusion_figure(results).axes if axes.get_visible() and axes.get_title()]
    assert [label.get_text() for label in confusion[0].get_xticklabels()] == list(THREE)
    assert [text.get_text() for text in confusion[1].texts][:3] == ["1\n50.0%", "1\n50.0%", "0\n0.0%"]
    top, _ = reliability_figure(results).axes
    assert (top.get_ylabel(), top.get_title()) == ("share right", "Calibration of the top class (reliability diagram)")
    panel = histogram_figure(results, 0.5).axes[0]
    stairs = [patch.get_data() for patch in panel.patches]  # one per class, each on the ones before
    assert len(stairs) == 3
    assert stairs[-1].values.tolist() == every.curves.histogram.sum(axis=0).tolist()  # the top: every text
    assert [stair.baseline.tolist() for stair in stairs[1:]] == [stair.values.tolist() for stair in stairs[:-1]]
    assert [text.get_text() for text in panel.get_legend().get_texts()] == [
        "true negative",
        "true neutral",
        "true positive",
        "1/3: never right below",
        "1/2: always right above",
    ]
