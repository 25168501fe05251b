"""The command line: help, exact output, exit codes and one-line errors."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from conftest import MODEL_DIRECTORY_FILES, README_SENTENCES, TINY_OVERRIDES, write_csv
from sentiment_rnn.cli import cli
from sentiment_rnn.version import __version__


def run(*args, input=None):
    return CliRunner().invoke(cli, list(args), input=input)


def assert_user_error(result, message: str):
    """A user error: exit code 1, exactly one line 'Error: message', no traceback."""
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert result.output == f"Error: {message}\n"


def test_every_command_has_help_with_an_example():
    for name, command in cli.commands.items():
        result = run(name, "--help")
        assert result.exit_code == 0
        assert command.help and "Example usage:" in result.output, name
    assert "Example usage:" in run("--help").output


def test_version():
    assert run("--version").output == f"sentiment-rnn, version {__version__}\n"


def test_help_does_not_import_tensorflow():
    import subprocess
    import sys

    code = "import sys; from sentiment_rnn.cli import cli; sys.argv=['x','--help']\ntry: cli()\nexcept SystemExit: pass\nprint('tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().endswith("False")


def test_predict_prints_label_and_probability(model_dir):
    result = run("predict", "--model", str(model_dir), *README_SENTENCES)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert len(lines) == len(README_SENTENCES)
    for line, (text, label) in zip(lines, README_SENTENCES.items()):
        match = re.fullmatch(r"(positive|negative) +(\d\.\d{4})  (.*)", line)
        assert match, line
        assert (match[1], match[3]) == (label, text)


def test_default_model_gets_the_lecture_sentences_right(model_dir):
    result = run("predict", "--model", str(model_dir), "--json", *README_SENTENCES)
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert [row["text"] for row in rows] == list(README_SENTENCES)
    assert [row["label"] for row in rows] == list(README_SENTENCES.values())
    assert all(set(row) == {"text", "label", "probability"} and 0.0 <= row["probability"] <= 1.0 for row in rows)


def test_predict_file_and_stdin_and_threshold(model_dir, tmp_path):
    texts = ["I like this phone", "", "This phone is no good"]
    (tmp_path / "in.txt").write_text("\n".join(texts) + "\n", encoding="utf-8")
    from_file = run("predict", "--model", str(model_dir), "--json", "--file", str(tmp_path / "in.txt"))
    from_stdin = run("predict", "--model", str(model_dir), "--json", "--file", "-", input="\n".join(texts) + "\n")
    piped = run("predict", "--model", str(model_dir), "--json", input="\n".join(texts) + "\n")
    assert from_file.exit_code == 0 and from_file.output == from_stdin.output == piped.output
    rows = [json.loads(line) for line in from_file.output.splitlines()]
    assert [row["text"] for row in rows] == texts
    everything_positive = run("predict", "--model", str(model_dir), "--json", "--threshold", "0", *texts)
    assert {json.loads(line)["label"] for line in everything_positive.output.splitlines()} == {"positive"}


def test_predict_errors(model_dir, tmp_path):
    missing = tmp_path / "nothing"
    assert_user_error(
        run("predict", "--model", str(missing), "good"),
        f"Model directory {missing} does not exist: train one with `sentiment-rnn train --out DIR`, "
        "or pass --model DIR or --model reviews-en (the bundled model).",
    )
    empty = tmp_path / "empty"
    empty.mkdir()
    assert_user_error(
        run("predict", "--model", str(empty), "good"),
        f"{empty} is not a sentiment-rnn model directory (no meta.json): "
        "train one with `sentiment-rnn train --out DIR`, or pass --model DIR or --model reviews-en "
        "(the bundled model).",
    )
    assert_user_error(
        run("predict", "--model", str(model_dir)),
        'No text to predict: pass texts as arguments (predict "great phone"), use --file, or pipe them in.',
    )
    assert_user_error(
        run("predict", "--model", str(model_dir), "--threshold", "2", "x"),
        "Threshold 2.0 is outside [0, 1]: pass e.g. --threshold 0.5.",
    )
    latin = tmp_path / "latin.txt"
    latin.write_bytes(b"caf\xe9\n")
    assert_user_error(
        run("predict", "--model", str(model_dir), "--file", str(latin)),
        f"{latin} is not valid UTF-8: convert it to UTF-8 first.",
    )


def test_train_writes_a_model_directory(tiny_csv, tmp_path):
    out = tmp_path / "model"
    args = ["train", "--data", str(tiny_csv), "--out", str(out), "--quiet", "--seed", "3"]
    for override in TINY_OVERRIDES:
        args += ["--set", override]
    result = run(*args)
    assert result.exit_code == 0, result.output
    assert re.fullmatch(
        rf"Saved model to {re.escape(str(out))}: validation accuracy \d\.\d{{3}}, AUC \d\.\d{{3}}, "
        r"ECE \d\.\d{3}, Brier \d\.\d{3} on 3 examples "
        r"\(best epoch [12] of 2\)\.\n",
        result.output,
    ), result.output
    assert sorted(p.name for p in out.iterdir()) == MODEL_DIRECTORY_FILES
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model", "tiny.csv"]  # no staging left behind
    meta = json.loads((out / "meta.json").read_text())
    assert meta["data"]["rows"] == 12 and meta["data"]["labels"] == {"positive": 6, "negative": 6}
    assert "seed = 3" in (out / "config.toml").read_text()
    assert run("predict", "--model", str(out), "good").exit_code == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--set", "model.cell=transformer"],
            "Config key model.cell must be one of simple, gru, lstm, got 'transformer'.",
        ),
        (["--set", "train.epochs=two"], "Config key train.epochs in --set must be of type int, got str 'two'."),
        (["--set", "model.size=3"], None),
        (["--config", "nowhere.toml"], "Config file nowhere.toml does not exist: check the --config path."),
    ],
)
def test_train_config_errors(args, message, tmp_path):
    result = run("train", "--out", str(tmp_path / "m"), *args)
    if message is None:
        assert result.exit_code == 1 and result.output.startswith("Error: Unknown config key model.size in --set")
    else:
        assert_user_error(result, message)
    assert not (tmp_path / "m").exists()


def test_train_data_errors_leave_nothing_on_disk(tmp_path):
    bad_labels = write_csv(tmp_path / "bad.csv", [("a", 1), ("b", "maybe")])
    result = run("train", "--data", str(bad_labels), "--labels", "negative,positive", "--out", str(tmp_path / "m"))
    assert_user_error(
        result,
        f"{bad_labels}, row 2: label 'maybe' is not binary; use 0/1, true/false, pos/neg or positive/negative, or map labels with --positive and --negative (e.g. --positive 4,5 --negative 1,2).",
    )
    one_class = write_csv(tmp_path / "one.csv", [("a", 1), ("b", 1), ("c", 1)])
    assert_user_error(
        run("train", "--data", str(one_class), "--out", str(tmp_path / "m")),
        f"{one_class} holds only positive examples: a classifier needs both positive and negative ones.",
    )
    wrong_column = write_csv(tmp_path / "col.csv", [("a", 1), ("b", 0)], header=("review", "label"))
    assert_user_error(
        run("train", "--data", str(wrong_column), "--out", str(tmp_path / "m")),
        f"{wrong_column} has no text column 'text' (columns: review, label): name the right one with --text-column.",
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv", "col.csv", "one.csv"]
