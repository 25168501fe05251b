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
    assert all(set(row) == {"text", "label", "probability", "oov_rate", "model"} for row in rows)
    assert rows[0]["model"] == {"name": model_dir.name, "kind": "rnn", "bundled": False, "path": str(model_dir)}
    assert all(0.0 <= row["probability"] <= 1.0 and 0.0 <= row["oov_rate"] <= 0.5 for row in rows)
    assert result.stderr == ""  # most words known: no warning


def test_predict_refuses_an_empty_text_argument_but_answers_empty_lines(model_dir):
    for args, number, what in ((["", "good"], 1, "empty"), (["good", "  "], 2, "blank")):
        assert_user_error(
            run("predict", "--model", str(model_dir), *args),
            f"Text {number} of the arguments is {what}: it has no words, so no sentiment to predict; pass some "
            'words, e.g. predict "great phone".',
        )
    assert run("predict", "--model", str(model_dir), "--per-token", "").exit_code == 1
    lines = run("predict", "--model", str(model_dir), "--file", "-", input="good\n\n")
    assert lines.exit_code == 0 and len(lines.stdout.splitlines()) == 2  # a file's empty line is answered


def test_predict_warns_once_when_most_words_of_texts_are_unknown(model_dir):
    texts = ["Ce produit est excellent", "I like this phone", "zut alors"]
    result = run("predict", "--model", str(model_dir), "--json", *texts)
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [row["oov_rate"] for row in rows] == [0.75, 0.0, 1.0]  # "excellent" is a known word
    warning = (
        "Warning: 2 of 3 texts have most of their words outside the model's vocabulary (read as [UNK]), so their "
        "answers say little (--json gives each text's oov_rate); a model trained on such text (its language, its "
        "domain) would know them.\n"
    )
    assert result.stderr == warning
    plain = run("predict", "--model", str(model_dir), "--quiet", *texts)
    assert plain.stderr == warning and len(plain.stdout.splitlines()) == 3
    per_token = run("predict", "--model", str(model_dir), "--per-token", texts[0])
    assert per_token.stderr == (
        "Warning: The text has most of its words outside the model's vocabulary (read as [UNK]), so its answer "
        "says little (--json gives each text's oov_rate); a model trained on such text (its language, its domain) "
        "would know them.\n"
    )
    one = run("predict", "--model", str(model_dir), *texts[:2])
    assert one.stderr.startswith("Warning: 1 of 2 texts has most of its words outside")
    keras = run("predict", "--model", str(model_dir), "--engine", "keras", "--json", *texts)
    assert [json.loads(line)["oov_rate"] for line in keras.stdout.splitlines()] == [
        0.75,
        0.0,
        1.0,
    ]  # "excellent" is a known word
    assert keras.stderr == warning


def test_predict_file_and_stdin_and_threshold(model_dir, tmp_path):
    texts = ["I like this phone", "", "This phone is no good"]
    (tmp_path / "in.txt").write_text("\n".join(texts) + "\n", encoding="utf-8")
    from_file = run("predict", "--model", str(model_dir), "--json", "--file", str(tmp_path / "in.txt"))
    from_stdin = run("predict", "--model", str(model_dir), "--json", "--file", "-", input="\n".join(texts) + "\n")
    piped = run("predict", "--model", str(model_dir), "--json", input="\n".join(texts) + "\n")
    assert from_file.exit_code == 0 and from_file.output == from_stdin.output == piped.output
    rows = [json.loads(line) for line in from_file.output.splitlines()]
    assert [row["text"] for row in rows] == texts
    everything_positive = run("predict", "--model", str(model_dir), "--json", "--threshold", "0", texts[0], texts[2])
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


def test_training_that_learned_little_ends_with_a_warning_saying_what_helps(tmp_path):
    from sentiment_rnn.training.run import learned_little

    same_words = write_csv(tmp_path / "same.csv", [("the phone", i % 2) for i in range(16)])  # nothing to learn
    args = ["train", "--data", str(same_words), "--out", str(tmp_path / "model")]
    for override in TINY_OVERRIDES:
        args += ["--set", override]
    result = run(*args)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"Saved model to {tmp_path / 'model'}: validation accuracy ")
    assert ", AUC 0.500, " in result.stdout  # one answer for every row: no order at all
    assert result.stderr == (
        "Warning: validation AUC 0.500 is under 0.6: this model learned little from the data. What usually helps: a "
        "config made for real text (sentiment-rnn init-config --preset imdb-hybrid > real.toml, then train --config "
        "real.toml), more epochs (--epochs 30), or starting from a pretrained language model (train --init-from).\n"
    )
    quiet = run(*args, "--quiet")
    assert quiet.exit_code == 0 and quiet.stderr == ""
    assert learned_little({"auc": 0.6}) is None and learned_little({"auc": float("nan")}) is None
    assert learned_little({"auc": 0.599}).startswith("Warning: validation AUC 0.599 is under 0.6: ")
