"""predict --data (score a table, streamed) and predict --file in batches: exact output, errors, nothing half-written."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from conftest import PATHS_ATOL, assert_close, assert_printed_close, write_csv
from sentiment_rnn import scoring
from sentiment_rnn.cli import cli
from sentiment_rnn.data import batches
from sentiment_rnn.inference import predict

ROWS = [("I like this phone", "a"), ("", "b"), ("the battery is terrible, awful", "c")]


@pytest.fixture
def reviews(tmp_path):
    return write_csv(tmp_path / "reviews.csv", ROWS, header=("body", "id"))


def expected_probabilities(model_dir):
    return {p.text: p for p in predict(model_dir, [ROWS[0][0], ROWS[2][0]])}


def test_predict_data_keeps_columns_and_adds_label_and_probability(model_dir, reviews, tmp_path):
    out = tmp_path / "scored.csv"
    result = CliRunner().invoke(
        cli,
        ["predict", "--model", str(model_dir), "--data", str(reviews), "--text-column", "body", "--output", str(out)],
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == f"Scored 3 rows into {out} (1 with empty text got no prediction).\n"
    first, third = (expected_probabilities(model_dir)[ROWS[i][0]] for i in (0, 2))
    # the table's probabilities (rounded to 6 decimals) and predict's are two paths: see assert_printed_close
    assert_printed_close(
        out.read_text(encoding="utf-8"),
        "body,id,label,probability,oov_rate\n"
        f"I like this phone,a,{first.label},{round(first.probability, 6)},{round(first.oov_rate, 6)}\n"
        ",b,,,\n"
        f'"the battery is terrible, awful",c,{third.label},{round(third.probability, 6)},{round(third.oov_rate, 6)}\n',
        fixed=False,
    )
    assert [p.name for p in tmp_path.iterdir()] == sorted(p.name for p in tmp_path.iterdir())  # no temporary left
    assert sorted(p.name for p in tmp_path.iterdir()) == ["reviews.csv", "scored.csv"]


def test_predict_data_jsonl_and_tsv_by_suffix_and_stdout(model_dir, reviews, tmp_path):
    base = ["predict", "--model", str(model_dir), "--data", str(reviews), "--text-column", "body"]
    first = expected_probabilities(model_dir)[ROWS[0][0]]
    CliRunner().invoke(cli, [*base, "--output", str(tmp_path / "s.jsonl")])
    records = [json.loads(line) for line in (tmp_path / "s.jsonl").read_text(encoding="utf-8").splitlines()]
    # rounded to 6 decimals from another path than predict's (see PATHS_ATOL)
    assert records[0]["probability"] == round(records[0]["probability"], 6)
    assert_close(
        records[0],
        {
            "body": ROWS[0][0],
            "id": "a",
            "label": first.label,
            "probability": first.probability,
            "oov_rate": round(first.oov_rate, 6),
        },
        atol=PATHS_ATOL + 5e-7,
    )
    assert records[1] == {"body": "", "id": "b", "label": "", "probability": None, "oov_rate": None}
    CliRunner().invoke(cli, [*base, "--output", str(tmp_path / "s.tsv")])
    assert_printed_close(
        "\n".join((tmp_path / "s.tsv").read_text(encoding="utf-8").splitlines()[:3]),
        f"body\tid\tlabel\tprobability\toov_rate\nI like this phone\ta\t{first.label}\t{round(first.probability, 6)}"
        f"\t{round(first.oov_rate, 6)}\n\tb\t\t\t",
        fixed=False,
    )
    piped = CliRunner().invoke(cli, [*base, "--output-format", "jsonl"])
    assert piped.exit_code == 0
    assert piped.stdout == (tmp_path / "s.jsonl").read_text(encoding="utf-8")
    assert piped.stderr == "1 of 3 rows had empty text and got no prediction.\n"


def test_predict_data_names_its_columns_apart_from_a_label_column(model_dir, tmp_path):
    data = write_csv(tmp_path / "labelled.csv", [("I like this phone", 1)])
    result = CliRunner().invoke(cli, ["predict", "--model", str(model_dir), "--data", str(data)])
    assert result.stdout.splitlines()[0] == "text,label,predicted_label,predicted_probability,predicted_oov_rate"


def test_predict_data_streams_in_batches_with_the_same_result(model_dir, reviews, tmp_path, monkeypatch):
    rows = [(f"phone number {i} is {'good' if i % 2 else 'bad'}", i) for i in range(7)] + [("", 7)]
    data = write_csv(tmp_path / "many.csv", rows, header=("text", "id"))
    args = ["predict", "--model", str(model_dir), "--data", str(data)]
    whole = CliRunner().invoke(cli, args)
    monkeypatch.setattr(batches, "BATCH_ROWS", 3)
    monkeypatch.setattr(batches.read_batches, "__defaults__", (3,))
    chunked = CliRunner().invoke(cli, args)
    assert whole.exit_code == chunked.exit_code == 0
    # batches of 3 rows and one batch are two paths through the engine: see assert_printed_close
    assert_printed_close(chunked.stdout, whole.stdout, fixed=False)
    assert len(whole.stdout.splitlines()) == 9


def test_predict_data_failure_leaves_no_file(model_dir, tmp_path, monkeypatch):
    data = tmp_path / "broken.csv"
    data.write_text("text\n" + "".join(f"fine {i}\n" for i in range(5)) + '"never closed\n', encoding="utf-8")
    monkeypatch.setattr(batches.read_batches, "__defaults__", (2,))  # the first rows are written before the error
    out = tmp_path / "scored.csv"
    result = CliRunner().invoke(cli, ["predict", "--model", str(model_dir), "--data", str(data), "--output", str(out)])
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: {data}")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.csv"]


@pytest.mark.parametrize(
    "extra, message",
    [
        (
            ["--output", "scored.txt"],
            "Error: Cannot tell the output format of scored.txt from its suffix .txt: "
            "name it .csv, .tsv or .jsonl, or pass --output-format csv, tsv or jsonl.\n",
        ),
        (
            ["--text-column", "body"],
            "has no text column 'body' (columns: text, label): name the right one with --text-column.\n",
        ),
        (
            ["--output", "no/such/dir/x.csv"],
            "Error: Cannot write no/such/dir/x.csv: the directory no/such/dir does not exist; create it first.\n",
        ),
    ],
)
def test_predict_data_errors(model_dir, tmp_path, extra, message):
    data = write_csv(tmp_path / "d.csv", [("I like this phone", 1)])
    result = CliRunner().invoke(cli, ["predict", "--model", str(model_dir), "--data", str(data), *extra])
    assert result.exit_code == 1
    assert result.output.startswith("Error: ") and result.output.endswith(message)
    assert len(result.output.splitlines()) == 1


def test_output_without_data_is_refused(model_dir):
    result = CliRunner().invoke(cli, ["predict", "--model", str(model_dir), "--output", "x.csv", "hello"])
    assert result.exit_code == 1
    assert result.output == "Error: --output and --output-format apply to --data only: add --data FILE or drop them.\n"


def test_format_lines_matches_json_dumps_and_the_text_layout():
    texts = ['say "hi"\tthen é \\ 👍', "plain"]
    probabilities = np.array([0.5, 0.12345678901234], dtype=np.float64)
    rates = np.array([2 / 3, 0.0])
    as_json = scoring.format_lines(texts, probabilities, 0.5, as_json=True, oov_rates=rates).splitlines()
    assert as_json == [
        json.dumps({"text": t, "label": label, "probability": float(p), "oov_rate": float(r)}, ensure_ascii=False)
        for t, label, p, r in zip(texts, ["positive", "negative"], probabilities, rates)
    ]
    assert scoring.format_lines(texts, probabilities, 0.5, as_json=False) == (
        f"positive  0.5000  {texts[0]}\nnegative  0.1235  plain\n"
    )


def test_predict_file_is_written_in_batches(model_dir, tmp_path, monkeypatch):
    lines = [f"line {i} is {'good' if i % 3 else 'bad'}" for i in range(10)]
    (tmp_path / "in.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    args = ["predict", "--model", str(model_dir), "--file", str(tmp_path / "in.txt")]
    whole = CliRunner().invoke(cli, args)
    monkeypatch.setattr(scoring, "LINE_BATCH", 3)
    writes = []
    real = scoring.format_lines
    monkeypatch.setattr(scoring, "format_lines", lambda *a, **k: writes.append(len(a[0])) or real(*a, **k))
    chunked = CliRunner().invoke(cli, args)
    assert writes == [3, 3, 3, 1]
    assert_printed_close(chunked.stdout, whole.stdout)  # batches of 3 lines and one batch: two paths
    assert [line[18:] for line in whole.stdout.splitlines()] == lines


def test_empty_file_is_refused(model_dir, tmp_path):
    (tmp_path / "empty.txt").write_text("", encoding="utf-8")
    result = CliRunner().invoke(cli, ["predict", "--model", str(model_dir), "--file", str(tmp_path / "empty.txt")])
    assert result.exit_code == 1
    assert result.output == f"Error: {tmp_path / 'empty.txt'} holds no lines: give one text a line.\n"


def test_predict_data_warns_once_about_rows_whose_words_are_mostly_unknown(model_dir, tmp_path):
    rows = [("I like this phone", 1), ("zut alors quelle horreur", 2), ("", 3), ("Ce produit est excellent", 4)]
    data = write_csv(tmp_path / "mixed.csv", rows, header=("text", "id"))
    result = CliRunner().invoke(cli, ["predict", "--model", str(model_dir), "--data", str(data)])
    assert result.exit_code == 0, result.output
    assert [line.rsplit(",", 1)[1] for line in result.stdout.splitlines()] == ["oov_rate", "0.0", "1.0", "", "0.75"]
    assert result.stderr == (
        "1 of 4 rows had empty text and got no prediction.\n"
        "Warning: 2 of 3 texts have most of their words outside the model's vocabulary (read as [UNK]), so their "
        "answers say little (the oov_rate column gives each row's share); a model trained on such text (its "
        "language, its domain) would know them.\n"
    )
