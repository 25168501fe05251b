"""Writing commands never delete a file they did not write, and a symlinked --out is one directory."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import TINY_OVERRIDES, write_csv
from sentiment_rnn.artifact.lock import backup_path, lock_path
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


@pytest.mark.parametrize(
    "reading",
    [
        ["--data", "fifo.csv"],  # read first, it would be the error: "... is a FIFO (named pipe) ..."
        ["--data", "fifo.csv", "--set", "data.streaming=true"],
        ["--data", "reviews.csv", "--test-data", "fifo.csv"],
    ],
    ids=["data", "streamed-data", "test-data"],
)
def test_a_refused_out_is_refused_before_any_data_is_read(tmp_path, data, tiny_run, monkeypatch, reading):
    monkeypatch.chdir(tmp_path)
    os.mkfifo(tmp_path / "fifo.csv")
    mine = user_directory(tmp_path)
    model = shutil.copytree(tiny_run.model_dir, tmp_path / "model")
    (model / "notes.txt").write_bytes(USER_FILE)
    before = snapshot(tmp_path / "mydata"), snapshot(model)
    refusals = {
        "mydata": "Error: mydata already exists and is not a sentiment-rnn model directory: pass a new path to "
        "--out (nothing in it was changed).\n",
        "model": "Error: model holds files sentiment-rnn did not write (notes.txt): move them out or pass a new path "
        "to --out (nothing was changed).\n",
        "reviews.csv": "Error: Output path reviews.csv exists and is not a directory: choose another --out.\n",
    }
    for out, refusal in refusals.items():
        result = CliRunner().invoke(cli, ["train", *reading, "--out", out, *TRAIN])
        assert (result.exit_code, result.output) == (1, refusal)
    assert (snapshot(mine), snapshot(model)) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fifo.csv", "model", "mydata", "reviews.csv"]


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


def refused(out: Path, shown: str) -> str:
    return (
        f"Error: {out} holds files sentiment-rnn did not write ({shown}): "
        "move them out or pass a new path to --out (nothing was changed).\n"
    )


@pytest.mark.parametrize("manifest", [True, False], ids=["with-manifest", "older-without-manifest"])
@pytest.mark.parametrize(
    "plant, shown",
    [
        (lambda out: (out / "members" / "1").mkdir(parents=True), "members/"),
        (lambda out: (out / "logs").mkdir(), "logs/"),
        (lambda out: ((out / "training.png").unlink(), (out / "training.png").mkdir()), "training.png (a directory"),
        (
            lambda out: ((out / "history.csv").unlink(), (out / "history.csv").symlink_to(out.parent / "reviews.csv")),
            "history.csv (a symlink",
        ),
    ],
    ids=["subdirectory", "logs", "directory-named-like-a-file", "symlink"],
)
def test_train_refuses_anything_of_the_users_anywhere_in_the_tree(tmp_path, data, tiny_run, manifest, plant, shown):
    out = shutil.copytree(tiny_run.model_dir, tmp_path / "model")
    if not manifest:
        (out / "manifest.json").unlink()
    plant(out)
    for directory in out.rglob("*"):
        if directory.is_dir() and not directory.is_symlink():
            (directory / "notes.txt").write_bytes(USER_FILE)  # the user's file inside their directory
    before = snapshot(tmp_path)
    result = CliRunner().invoke(cli, ["train", "--data", str(data), "--out", str(out), *TRAIN])
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: {out} holds files sentiment-rnn did not write ({shown}")
    assert result.output.endswith("): move them out or pass a new path to --out (nothing was changed).\n")
    assert snapshot(tmp_path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model", "reviews.csv"]


def test_train_refuses_a_file_of_an_ensemble_member_and_a_changed_file(tmp_path, data, tiny_run):
    out = tmp_path / "model"
    shutil.copytree(tiny_run.model_dir, out)
    with (out / "config.toml").open("a") as config:
        config.write("# my notes about this run\n")
    before = snapshot(tmp_path)
    result = CliRunner().invoke(cli, ["train", "--data", str(data), "--out", str(out), *TRAIN])
    assert (result.exit_code, result.output) == (1, refused(out, "config.toml (changed since sentiment-rnn wrote it)"))
    assert snapshot(tmp_path) == before


def test_a_model_directory_without_a_manifest_is_replaced_when_it_holds_only_the_old_files(tmp_path, data, tiny_run):
    out = shutil.copytree(tiny_run.model_dir, tmp_path / "model")
    (out / "manifest.json").unlink()  # as sentiment-rnn wrote it before manifests (and the bundled reviews-en)
    result = CliRunner().invoke(cli, ["predict", "--model", str(out), "good phone"])
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(cli, ["train", "--data", str(data), "--out", str(out), *TRAIN])
    assert result.exit_code == 0, result.output
    assert (out / "manifest.json").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model", "reviews.csv"]


def test_train_never_removes_sibling_directories_that_look_like_its_own(tmp_path, data):
    out = tmp_path / "model"
    for name in (".model.backup", ".model.tmp-mine", ".model.old-mine"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "notes.txt").write_bytes(USER_FILE)
    before = snapshot(tmp_path)
    result = CliRunner().invoke(cli, ["train", "--data", str(data), "--out", str(out), *TRAIN])
    assert (result.exit_code, result.output) == (
        1,
        f"Error: {tmp_path / '.model.backup'} holds files sentiment-rnn did not write (notes.txt): move them out "
        "or remove it, then train again (nothing was changed).\n",
    )
    assert snapshot(tmp_path) == before
    shutil.rmtree(tmp_path / ".model.backup")
    result = CliRunner().invoke(cli, ["train", "--data", str(data), "--out", str(out), *TRAIN])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == [".model.old-mine", ".model.tmp-mine", "model", "reviews.csv"]
    assert (tmp_path / ".model.tmp-mine" / "notes.txt").read_bytes() == USER_FILE


@pytest.mark.parametrize("name", [".model.lock", ".model.backup"])
def test_a_symlink_where_a_lock_or_backup_goes_is_an_error_never_a_target(tmp_path, data, name):
    victim = tmp_path / "victim.txt"
    victim.write_bytes(USER_FILE)
    (tmp_path / name).symlink_to(victim if name.endswith("lock") else tmp_path / "elsewhere")
    (tmp_path / "elsewhere").mkdir()
    before = snapshot(tmp_path)
    result = CliRunner().invoke(cli, ["train", "--data", str(data), "--out", str(tmp_path / "model"), *TRAIN])
    what = "the lock of" if name.endswith("lock") else "the progress of"
    where = tmp_path / "model" if name.endswith("lock") else tmp_path / "model"
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: {tmp_path / name} is a symlink where sentiment-rnn keeps {what} {where}")
    assert result.output.endswith(
        "remove it and train again.\n" if name.endswith("backup") else "remove it and run again.\n"
    )
    assert snapshot(tmp_path) == before
    assert (tmp_path / name).is_symlink()


def test_a_lock_file_that_is_not_the_tools_is_left_alone(tmp_path, data):
    (tmp_path / ".model.lock").write_bytes(USER_FILE)
    result = CliRunner().invoke(cli, ["train", "--data", str(data), "--out", str(tmp_path / "model"), *TRAIN])
    assert (result.exit_code, result.output) == (
        1,
        f"Error: {tmp_path / '.model.lock'} is not a lock file sentiment-rnn wrote: remove it if no sentiment-rnn "
        f"run is writing {tmp_path / 'model'}, and run again.\n",
    )
    assert (tmp_path / ".model.lock").read_bytes() == USER_FILE


def test_tensorboard_logs_inside_out_are_refused_before_training(tmp_path, data, tiny_run):
    out = shutil.copytree(tiny_run.model_dir, tmp_path / "model")
    before = snapshot(tmp_path)
    logs = out / "logs"
    result = CliRunner().invoke(
        cli, ["train", "--data", str(data), "--out", str(out), "--tensorboard", str(logs), *TRAIN]
    )
    assert (result.exit_code, result.output) == (
        1,
        f"Error: --tensorboard {logs} is inside --out {out}, which is replaced when the model is written: pass a "
        "directory outside it, e.g. --tensorboard logs.\n",
    )
    assert snapshot(tmp_path) == before


def test_a_read_only_model_directory_is_not_replaced(tmp_path, data, tiny_run):
    out = shutil.copytree(tiny_run.model_dir, tmp_path / "model")
    out.chmod(0o555)
    try:
        before = snapshot(tmp_path)
        result = CliRunner().invoke(cli, ["train", "--data", str(data), "--out", str(out), *TRAIN])
        assert (result.exit_code, result.output) == (
            1,
            f"Error: {out} is read-only: make it writable (chmod u+w) to replace it, or pass a new path to --out "
            "(nothing was changed).\n",
        )
        assert snapshot(tmp_path) == before
    finally:
        out.chmod(0o755)


def test_predict_output_keeps_the_permissions_of_the_file_it_replaces(tmp_path, data, tiny_run):
    scored = tmp_path / "scored.csv"
    scored.write_text("old\n")
    scored.chmod(0o600)
    args = ["predict", "--model", str(tiny_run.model_dir), "--data", str(data), "--output", str(scored)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert os.stat(scored).st_mode & 0o777 == 0o600
    assert scored.read_text().startswith("text,label,predicted_label,predicted_probability,predicted_oov_rate\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["reviews.csv", "scored.csv"]


def test_a_full_disk_while_writing_predict_output_leaves_no_temporary_file(tmp_path, data, tiny_run, monkeypatch):
    import errno

    import sentiment_rnn.scoring as scoring

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(scoring, "_write_frame", full)
    scored = tmp_path / "scored.csv"
    args = ["predict", "--model", str(tiny_run.model_dir), "--data", str(data), "--output", str(scored)]
    result = CliRunner().invoke(cli, args)
    assert (result.exit_code, result.output) == (
        1,
        f"Error: Cannot write {scored}: the disk is full (no space left on device); {scored} was not written; "
        "free some space or choose another --output.\n",
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["reviews.csv"]
