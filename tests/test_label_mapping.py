"""Labels other than 0/1: --positive 4,5 --negative 1,2 (or data.positive/negative), other labels skipped and counted."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from conftest import NEGATIVE, POSITIVE, TINY_OVERRIDES, write_csv
from sentiment_rnn.cli import cli
from sentiment_rnn.config import load_config
from sentiment_rnn.data.formats import dataset_from_config, read_dataset
from sentiment_rnn.data.labels import label_mapping
from sentiment_rnn.errors import SentimentError

MIDDLING = ["it is a phone", "the box was brown", "okay I guess"]


def stars_rows():
    """Six 4-5 star texts, six 1-2 star texts and three 3-star texts, interleaved."""
    rows = []
    for i, (good, bad) in enumerate(zip(POSITIVE, NEGATIVE)):
        rows += [(good, 4 + i % 2), (bad, 1 + i % 2)]
        if i < len(MIDDLING):
            rows.append((MIDDLING[i], 3))
    return rows


@pytest.fixture
def stars_csv(tmp_path):
    return write_csv(tmp_path / "stars.csv", stars_rows(), header=("text", "stars"))


def test_label_mapping_table():
    assert label_mapping("4,5", " 1 , 2") == {"4": 1, "5": 1, "1": 0, "2": 0}
    assert label_mapping("Good", "BAD") == {"good": 1, "bad": 0}
    assert label_mapping("", "") is None


def test_rows_with_other_labels_are_skipped_and_counted(stars_csv):
    dataset = read_dataset(stars_csv, label_column="stars", labels=label_mapping("4,5", "1,2"))
    assert (len(dataset), dataset.other_labels, dataset.skipped) == (12, 3, 0)
    assert dataset.texts[:2] == [POSITIVE[0], NEGATIVE[0]]
    assert dataset.labels.tolist() == [1, 0] * 6
    assert "it is a phone" not in dataset.texts
    fasttext = stars_csv.parent / "stars.ft"
    fasttext.write_text("".join(f"__label__{label} {text}\n" for text, label in stars_rows()), encoding="utf-8")
    from_lines = read_dataset(fasttext, labels=label_mapping("4,5", "1,2"))
    assert (from_lines.texts, from_lines.labels.tolist(), from_lines.other_labels) == (
        dataset.texts,
        dataset.labels.tolist(),
        3,
    )


def test_streaming_maps_and_counts_labels_as_the_in_memory_reader_does(stars_csv):
    from sentiment_rnn.data.stream import open_stream
    from sentiment_rnn.models import make_tokenizer

    keys = [f"data.path={str(stars_csv)!r}", "data.label_column='stars'", "data.positive='4,5'", "data.negative='1,2'"]
    config = load_config(overrides=[*keys, "train.validation_split=0.25"])
    summary, train_part, validation_part = open_stream(config, make_tokenizer(config))
    in_memory = dataset_from_config(config.data)
    assert (summary.rows, summary.positives, summary.other_labels) == (12, 6, 3)
    assert len(train_part) + len(validation_part) == len(in_memory) == 12
    streamed = sorted(
        (text.decode(), int(label))
        for part in (train_part, validation_part)
        for text, label in part.examples().as_numpy_iterator()
    )
    assert streamed == sorted(zip(in_memory.texts, in_memory.labels.tolist()))


def test_train_with_a_mapping_saves_it_and_inspect_shows_it(stars_csv, tmp_path):
    out = tmp_path / "model"
    args = ["train", "--data", str(stars_csv), "--label-column", "stars", "--positive", "4,5", "--negative", "1,2"]
    args += ["--out", str(out), "--quiet"]
    for override in TINY_OVERRIDES:
        args += ["--set", override]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    first, second = result.output.splitlines()
    assert first == "Skipped 3 rows with labels outside --positive and --negative."
    assert second.startswith(f"Saved model to {out}: validation accuracy ")
    meta = json.loads((out / "meta.json").read_text())["data"]
    assert (meta["rows"], meta["other_labels"], meta["labels"]) == (12, 3, {"positive": 6, "negative": 6})
    assert meta["label_mapping"] == {"positive": "4,5", "negative": "1,2"}
    assert 'positive = "4,5"\nnegative = "1,2"\n' in (out / "config.toml").read_text()
    shown = CliRunner().invoke(cli, ["inspect", "--model", str(out)]).output
    assert "\nLabels           positive 4, 5; negative 1, 2; 3 rows with other labels skipped\n" in shown

    evaluated = CliRunner().invoke(
        cli,
        ["evaluate", "--model", str(out), "--data", str(stars_csv), "--label-column", "stars", "--json"]
        + ["--positive", "4,5", "--negative", "1,2"],
    )
    assert evaluated.exit_code == 0, evaluated.output
    assert json.loads(evaluated.output)["n"] == 12
    inherited = CliRunner().invoke(cli, ["evaluate", "--model", str(out), "--data", str(stars_csv), "--json"])
    assert inherited.exit_code == 0, inherited.output  # the model's label column and mapping
    assert json.loads(inherited.output) == json.loads(evaluated.output)


def test_the_mapping_as_config_keys(stars_csv, tmp_path):
    keys = ["data.label_column='stars'", "data.positive='5, 4'", "data.negative='2,1'"]
    config = load_config(overrides=[*keys, f"data.path={str(stars_csv)!r}"])
    dataset = dataset_from_config(config.data)
    assert (len(dataset), int(dataset.labels.sum()), dataset.other_labels) == (12, 6, 3)


def run(*args):
    return CliRunner().invoke(cli, list(args))


@pytest.mark.parametrize(
    "positive, negative, message",
    [
        (
            "4,5",
            "",
            "--positive was given without --negative: name the labels of both classes, "
            "e.g. --positive 4,5 --negative 1,2.",
        ),
        ("4,,5", "1", "--positive '4,,5' has an empty label: list labels separated by commas, e.g. --positive 4,5."),
        ("4,5", "5,1", "Label '5' is in both --positive and --negative: put each label in one of them."),
        ("7", "8", "has no rows with a label in --positive or --negative (15 rows have other labels): "),
    ],
)
def test_bad_mappings_are_one_line_errors(stars_csv, tmp_path, positive, negative, message):
    args = ["train", "--data", str(stars_csv), "--label-column", "stars", "--out", str(tmp_path / "m")]
    args += ["--positive", positive] + (["--negative", negative] if negative else [])
    result = run(*args)
    assert result.exit_code == 1
    if message.startswith("has no rows"):
        message = f"{stars_csv} {message}list the labels the file uses."
    assert result.output == f"Error: {message}\n"
    assert not (tmp_path / "m").exists()


def test_the_mapping_does_not_apply_to_data_labelled_by_file(tmp_path):
    (tmp_path / "p.txt").write_text("good\n")
    (tmp_path / "n.txt").write_text("bad\n")
    with pytest.raises(SentimentError) as error:
        read_dataset(pos=tmp_path / "p.txt", neg=tmp_path / "n.txt", labels=label_mapping("1", "0"))
    assert str(error.value) == (
        "--positive/--negative map labels read from a file, not --pos/--neg files, which label by file: drop them."
    )
