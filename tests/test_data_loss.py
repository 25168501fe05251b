"""Writing commands never delete a file they did not write, and a symlinked --out is one directory."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import TINY_OVERRIDES, write_csv
from sentiment_rnn.artifact.atomic import backup_path, lock_path
from sentiment_rnn.cli import cli

USER_FILE = b"my notes, not a model\n"
TRAIN = ["--quiet", "--epochs", "1", *(arg for o in TINY_OVERRIDES for arg in ("--set", o))]


def snapshot(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


@pytest.fixture
def data(tmp_path) -> Path:
    rows = [("good phone", 1), ("bad phone", 0), ("great screen", 1), ("awful screen", 0)] * 3
    return write_csv(tmp_path / "reviews.csv", rows)


def user_directory(tmp_path: Path) -> Path:
    """A directory holding the user's data and notes, as in `mkdir mydata && cp reviews.csv notes.txt mydata/`."""
    directory = tmp_path / "mydata"
    directory.mkdir()
    (directory / "notes.txt").write_bytes(USER_FILE)
    write_csv(directory / "reviews.csv", [("good", 1), ("bad", 0)])
    return directory


def test_train_refuses_a_directory_it_did_not_write(tmp_path, data):
    directory = user_directory(tmp_path)
    before = snapshot(tmp_path)
    result = CliRunner().invoke(cli, ["train", "--data", str(data), "--out", str(directory), *TRAIN])
    assert (result.exit_code, result.output) == (
        1,
        f"Error: {directory} already exists and is not a sentiment-rnn model directory: "
        "pass a new path to --out (nothing in it was changed).\n",
    )
    assert snapshot(tmp_path) == before  # byte for byte, and no lock, backup or staging left
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mydata", "reviews.csv"]


def test_train_refuses_a_model_directory_holding_a_users_file(tmp_path, data, tiny_run):
    out = tmp_path / "model"
    shutil.copytree(tiny_run.model_dir, out)
    (out / "notes.txt").write_bytes(USER_FILE)
    before = snapshot(tmp_path)
    result = CliRunner().invoke(cli, ["train", "--data", str(data), "--out", str(out), *TRAIN])
    assert (result.exit_code, result.output) == (
        1,
        f"Error: {out} holds files sentiment-rnn did not write (notes.txt): "
        "move them out or pass a new path to --out (nothing was changed).\n",
    )
    assert snapshot(tmp_path) == before


def test_train_refuses_the_working_directory_however_it_is_spelt(tmp_path, data, monkeypatch):
    monkeypatch.chdir(user_directory(tmp_path))
    before = snapshot(tmp_path)
    for spelling in (os.getcwd(), str(tmp_path)):
        result = CliRunner().invoke(cli, ["train", "--data", str(data), "--out", spelling, *TRAIN])
        assert result.exit_code == 1
        assert result.output == (
            f"Error: Output path {spelling} is the working directory or holds it: pass a new directory name to --out.\n"
        )
    assert snapshot(tmp_path) == before


def test_export_never_replaces_a_directory(tmp_path, tiny_run):
    directory = user_directory(tmp_path)
    before = snapshot(tmp_path)
    for export_format in ("numpy", "savedmodel"):
        args = ["export", "--model", str(tiny_run.model_dir), "--format", export_format, "--out", str(directory)]
        result = CliRunner().invoke(cli, args)
        assert (result.exit_code, result.output) == (
            1,
            f"Error: Export directory {directory} already exists: choose a new --out or remove it first.\n",
        )
    assert snapshot(tmp_path) == before


def test_a_symlinked_out_is_the_directory_it_points_to(tmp_path, data):
    real = tmp_path / "real"
    real.mkdir()
    alias = tmp_path / "alias"
    alias.symlink_to(real)
    assert lock_path(alias) == lock_path(real) == tmp_path / ".real.lock"  # one lock for both names
    assert backup_path(alias) == tmp_path / ".real.backup"
    result = CliRunner().invoke(cli, ["train", "--data", str(data), "--out", str(alias), *TRAIN])
    assert result.exit_code == 0, result.output
    assert alias.is_symlink() and alias.resolve() == real.resolve()
    assert (real / "meta.json").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["alias", "real", "reviews.csv"]  # no .alias.tmp-*


def test_a_failed_run_leaves_no_backup(tmp_path, data):
    """A run that fails before its first epoch (here: a bad embeddings file) has nothing to resume."""
    (tmp_path / "vectors.txt").write_text("not a vector file\n")
    args = [
        "train",
        "--data",
        str(data),
        "--out",
        str(tmp_path / "m"),
        *TRAIN,
        "--embeddings",
        str(tmp_path / "vectors.txt"),
    ]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1
    assert result.output.startswith("Error: ") and result.output.count("\n") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["reviews.csv", "vectors.txt"]
