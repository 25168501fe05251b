"""Faults of the machine and the process: a full disk, a closed pipe, a config too large, NUL bytes, FIFOs."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import TINY_OVERRIDES, write_csv
from sentiment_rnn.cli import cli

ROOT = Path(__file__).resolve().parent.parent
TRAIN = ["--quiet", "--epochs", "1", *(arg for o in TINY_OVERRIDES for arg in ("--set", o))]


def no_space(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


@pytest.fixture
def data(tmp_path) -> Path:
    return write_csv(tmp_path / "d.csv", [("good phone", 1), ("bad phone", 0), ("great", 1), ("awful", 0)] * 3)


@pytest.mark.parametrize(
    "writer",
    [
        "sentiment_rnn.training.write.write_training_plot",  # the plot
        "sentiment_rnn.training.write.write_engine_files",  # the NumPy weights
        "sentiment_rnn.training.write.write_json",  # metrics, vocabulary, meta
    ],
)
def test_a_full_disk_while_saving_is_one_line_and_keeps_the_previous_model(
    tmp_path, data, tiny_run, monkeypatch, writer
):
    import shutil

    out = shutil.copytree(tiny_run.model_dir, tmp_path / "out")
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    if writer.endswith("write_engine_files"):
        import sentiment_rnn.artifact.engine_files as engine_files

        monkeypatch.setattr(engine_files, "write_engine_files", no_space)
    else:
        module, name = writer.rsplit(".", 1)
        monkeypatch.setattr(
            sys.modules[module] if module in sys.modules else __import__(module, fromlist=[name]), name, no_space
        )
    result = CliRunner().invoke(cli, ["train", "--data", str(data), "--out", str(out), *TRAIN])
    assert isinstance(result.exception, SystemExit), result.exception
    assert (result.exit_code, result.output) == (
        1,
        f"Error: Cannot write {out}: the disk is full (no space left on device); {out} was not changed; "
        "free some space or choose another --out.\n",
    )
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    # No staging directory or lock left; the finished epoch stays backed up, so --resume can finish it.
    assert sorted(p.name for p in tmp_path.iterdir()) == [".out.backup", "d.csv", "out"]


def test_a_full_disk_for_predict_output_is_one_line(tiny_run, tmp_path):
    texts = tmp_path / "texts.txt"
    texts.write_text("good phone\n" * 50)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with open("/dev/full", "w") as full:
        run = subprocess.run(
            [
                sys.executable,
                "-m",
                "sentiment_rnn",
                "predict",
                "--model",
                str(tiny_run.model_dir),
                "--file",
                str(texts),
            ],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            timeout=120,
        )
    assert (run.returncode, run.stderr) == (
        1,
        "Error: Cannot write the output (No space left on device): free some space or write it elsewhere.\n",
    )


def test_a_closed_pipe_ends_quietly(tiny_run, tmp_path):
    texts = tmp_path / "big.txt"
    texts.write_text("good phone\n" * 200_000)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [
        sys.executable,
        "-m",
        "sentiment_rnn",
        "predict",
        "--model",
        str(tiny_run.model_dir),
        "--file",
        str(texts),
    ]
    producer = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    first = producer.stdout.readline()  # as `head -1` does: one line, then the pipe is closed
    producer.stdout.close()
    _, stderr = producer.communicate(timeout=300)
    assert first.startswith(b"positive") or first.startswith(b"negative")
    assert (producer.returncode, stderr) == (1, b"")


def test_a_config_too_large_is_refused_with_the_numbers_before_building(monkeypatch, data, tmp_path):
    pages = {"SC_AVPHYS_PAGES": 262_144, "SC_PAGE_SIZE": 4096}  # 1 GiB free
    monkeypatch.setattr(os, "sysconf", lambda name: pages[name])
    args = ["train", "--data", str(data), "--out", str(tmp_path / "m"), "--set", "model.units=100000", "--quiet"]
    result = CliRunner().invoke(cli, args)
    assert (result.exit_code, result.output) == (
        1,
        "Error: This config needs 10,007,880,001 parameters (model.units = 100000, model.output_dim = 64, "
        "model.layers = 1, tokenizer.max_tokens = 20000): about 149.1 GiB to train, but 1.0 GiB of memory "
        "is free; lower those keys.\n",
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.csv"]


def test_a_nul_byte_in_an_argument_is_one_line():
    result = CliRunner().invoke(cli, ["predict", "--model", "a\0b", "good"])
    assert (result.exit_code, result.output) == (
        1,
        "Error: An argument holds a NUL byte (\\0), which no path or option can: remove it.\n",
    )


def test_imdb_directories_read_regular_files_inside_the_tree_only(tmp_path):
    from sentiment_rnn.config import load_config
    from sentiment_rnn.training.pipeline import load_training_data

    root = tmp_path / "aclImdb"
    for label, text in (("pos", "a great film"), ("neg", "an awful film")):
        (root / "train" / label).mkdir(parents=True)
        (root / "train" / label / "0_9.txt").write_text(text)
    outside = tmp_path / "secret.txt"
    outside.write_text("root:x:0:0")
    (root / "train" / "pos" / "passwd.txt").symlink_to(outside)
    os.mkfifo(root / "train" / "neg" / "fifo.txt")  # reading it would block forever
    (root / "train" / "pos" / "linked").symlink_to(tmp_path, target_is_directory=True)
    config = load_config(overrides=[f"data.path={str(root)!r}", "data.split='train'"])
    dataset = load_training_data(config)
    assert sorted(dataset.texts) == ["a great film", "an awful film"]


def test_one_very_long_text_is_warned_about_with_the_cap_to_set():
    from sentiment_rnn.config import load_config
    from sentiment_rnn.training.pipeline import long_text_warning

    texts = ["a fine phone"] * 200 + ["word " * 200_000]
    assert long_text_warning(texts, load_config()) == (
        "Warning: the longest text has about 200,001 words, 66,667 times the median (3); every batch holding it "
        "is padded to its length, which makes training very slow: cap texts with --set "
        "tokenizer.output_sequence_length=100."
    )
    assert long_text_warning(texts, load_config(overrides=["tokenizer.output_sequence_length=200"])) is None
    assert long_text_warning(["a fine phone"] * 200, load_config()) is None
