"""train --test-split / --test-data: a seeded held-out test part that early stopping never sees."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from click.testing import CliRunner

from conftest import NEGATIVE, POSITIVE, TINY_OVERRIDES, write_csv
from sentiment_rnn.cli import cli
from sentiment_rnn.data.formats import read_dataset
from sentiment_rnn.training.pipeline import hold_out_test, split_dataset

EXTRA_POSITIVE = ["a lovely phone", "the keys are nice", "fast and good", "I love the screen"]
EXTRA_NEGATIVE = ["a horrid phone", "the keys are stiff", "slow and bad", "I hate the screen"]


@pytest.fixture
def data_csv(tmp_path):
    rows = [(t, 1) for t in POSITIVE + EXTRA_POSITIVE] + [(t, 0) for t in NEGATIVE + EXTRA_NEGATIVE]
    return write_csv(tmp_path / "twenty.csv", rows)


def test_the_test_part_is_seeded_and_disjoint_from_training_and_validation(data_csv):
    dataset = read_dataset(data_csv)
    rest, test = hold_out_test(dataset, 0.2, seed=42)
    again_rest, again_test = hold_out_test(dataset, 0.2, seed=42)
    assert (len(rest), len(test)) == (16, 4)
    assert test.texts == again_test.texts and rest.texts == again_rest.texts
    assert hold_out_test(dataset, 0.2, seed=1)[1].texts != test.texts
    split = split_dataset(rest, 0.25, seed=42)
    assert not set(test.texts) & (set(split.train.texts) | set(split.validation.texts))
    assert sorted(test.texts + split.train.texts + split.validation.texts) == sorted(dataset.texts)
    assert np.array_equal(np.sort(np.concatenate([test.labels, rest.labels])), np.sort(dataset.labels))


def train_args(data_csv, out, *extra):
    args = ["train", "--data", str(data_csv), "--out", str(out), "--quiet", *extra]
    for override in TINY_OVERRIDES:
        args += ["--set", override]
    return args


def test_test_split_is_reported_in_the_summary_metrics_and_inspect(data_csv, tmp_path):
    out = tmp_path / "model"
    result = CliRunner().invoke(cli, train_args(data_csv, out, "--test-split", "0.2"))
    assert result.exit_code == 0, result.output
    saved, tested = result.output.splitlines()
    assert saved.startswith(f"Saved model to {out}: ") and " on 4 examples " in saved  # 16 rows, 0.25 validation
    assert re.fullmatch(r"Test: accuracy \d\.\d{3}, AUC \d\.\d{3} on 4 held-out examples\.", tested), tested
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics["test"]) == {"accuracy", "auc", "loss", "n", "source"}
    assert (metrics["test"]["n"], metrics["test"]["source"]) == (4, "test_split")
    assert f"{metrics['test']['accuracy']:.3f}" in tested
    meta = json.loads((out / "meta.json").read_text())["data"]
    assert (meta["rows"], meta["train_rows"], meta["validation_rows"], meta["test_rows"]) == (20, 12, 4, 4)
    shown = CliRunner().invoke(cli, ["inspect", "--model", str(out)]).output
    assert "\nSplit            12 training, 4 validation, 4 test; best epoch " in shown
    assert re.search(
        r"\nTest             accuracy \d\.\d{4}, AUC \d\.\d{4}, loss \d\.\d{4} on 4 held-out examples\n", shown
    )


def test_test_data_is_a_separate_file_read_like_data(data_csv, tmp_path):
    test_file = write_csv(tmp_path / "test.csv", [("I like the phone", 1), ("I hate the phone", 0), ("", 1)])
    out = tmp_path / "model"
    result = CliRunner().invoke(cli, train_args(data_csv, out, "--test-data", str(test_file)))
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1].endswith(" on 2 held-out examples.")
    metrics = json.loads((out / "metrics.json").read_text())
    assert (metrics["test"]["n"], metrics["test"]["source"]) == (2, str(test_file))
    assert json.loads((out / "meta.json").read_text())["data"]["train_rows"] == 15  # all 20 rows but validation


@pytest.mark.parametrize(
    "extra, message",
    [
        (
            ["--test-split", "0.1", "--test-data", "t.csv"],
            "Config sets both train.test_split and data.test_path: hold out a part of the data "
            "(--test-split) or test on a file (--test-data), not both.",
        ),
        (
            ["--test-split", "0.1", "--set", "data.streaming=true"],
            "Config sets train.test_split with data.streaming: a streamed file cannot be held out in part; "
            "pass a separate test file with --test-data.",
        ),
        (["--test-data", "missing.csv"], "Data file missing.csv does not exist: check the path."),
    ],
)
def test_bad_test_options_are_one_line_errors(data_csv, tmp_path, monkeypatch, extra, message):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, train_args(data_csv, tmp_path / "m", *extra))
    assert (result.exit_code, result.output) == (1, f"Error: {message}\n")
    assert not (tmp_path / "m").exists()


def test_test_split_out_of_range_is_a_usage_error(data_csv, tmp_path):
    result = CliRunner().invoke(cli, train_args(data_csv, tmp_path / "m", "--test-split", "0.5"))
    assert result.exit_code == 2
    assert "Error: Invalid value for '--test-split': 0.5 is not in the range 0.0<=x<0.5." in result.output
