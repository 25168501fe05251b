"""Faults: interrupted and killed training, resume, concurrent runs, NaN loss, stale files.

The interruption tests run the real command in a subprocess, through
PAUSING_TRAIN: it wraps the checkpoint callback so that the process stops
itself (SIGSTOP) at a chosen batch; the test then signals it from outside
(SIGINT, SIGKILL) at exactly that point, so nothing depends on timing.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from conftest import TINY_OVERRIDES, assert_printed_close, interrupt_at, lock_held_elsewhere, tiny_split, write_csv
from sentiment_rnn.artifact import atomic
from sentiment_rnn.artifact.atomic import staged_directory
from sentiment_rnn.artifact.lock import backup_path, target_lock
from sentiment_rnn.artifact.model_directory import open_model_dir
from sentiment_rnn.cli import cli
from sentiment_rnn.config import load_config
from sentiment_rnn.errors import SentimentError
from sentiment_rnn.training.backup import prepare_backup
from sentiment_rnn.training.pipeline import load_training_data, split_dataset
from sentiment_rnn.training.run import train

ROOT = Path(__file__).resolve().parent.parent
WORDS = "good bad not no phone battery screen great awful fine like hate the is".split()
OVERRIDES = [
    "model.output_dim=4",
    "model.units=4",
    "model.dropout=0.2",
    "train.epochs=4",
    "train.batch_size=8",
    "train.patience=10",
    "train.validation_split=0.2",
]


def synthetic_csv(path: Path, rows: int = 80) -> Path:
    rng = random.Random(0)
    texts = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 6))) for _ in range(rows)]
    return write_csv(path, [(t, int(("good" in t or "great" in t) != ("not" in t))) for t in texts])


PREVIOUS_META = '{"format_version": 1, "package_version": "0.1.0", "note": "the previous model"}'


def snapshot(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


# `python -c PAUSING_TRAIN E:B ARGS...` runs `sentiment-rnn ARGS...` and stops itself (SIGSTOP) after
# batch B (0-based) of the epoch that follows E finished epochs; `E:end` right after epoch E's checkpoint is saved.
PAUSING_TRAIN = """
    import os, signal, sys
    from sentiment_rnn.cli import cli
    from sentiment_rnn.training.checkpoint import epoch_checkpoint_class

    pause_at = sys.argv.pop(1)
    # Ctrl-C as in a terminal, however the tests were started: a command a script runs in the background
    # (`cmd &`) ignores SIGINT, its children inherit that, and Python then installs no handler of its own
    signal.signal(signal.SIGINT, signal.default_int_handler)
    checkpoint = epoch_checkpoint_class()
    on_train_batch_end, save = checkpoint.on_train_batch_end, checkpoint.save

    def pause_if_there(epochs_done, batch):
        if pause_at == f"{epochs_done}:{batch}":
            os.kill(os.getpid(), signal.SIGSTOP)

    def on_train_batch_end_then_pause(self, batch, logs=None):
        on_train_batch_end(self, batch, logs)
        pause_if_there(len(self.history), batch)

    def save_then_pause(self, epochs_done):
        save(self, epochs_done)
        pause_if_there(epochs_done, "end")

    checkpoint.on_train_batch_end, checkpoint.save = on_train_batch_end_then_pause, save_then_pause
    cli(sys.argv[1:], prog_name="sentiment-rnn")
"""


def start_training(cwd: Path, *extra: str, pause_at: str | None = None) -> subprocess.Popen:
    command = [sys.executable, "-m", "sentiment_rnn"]
    if pause_at is not None:
        command = [sys.executable, "-c", textwrap.dedent(PAUSING_TRAIN), pause_at]
    args = [*command, "train", "--data", "d.csv", "--out", "out", "--quiet", *extra]
    for override in OVERRIDES:
        args += ["--set", override]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(args, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_until_paused(process: subprocess.Popen) -> None:
    _, status = os.waitpid(process.pid, os.WUNTRACED)
    assert os.WIFSTOPPED(status), process.communicate()


def weights_of(model_dir: Path) -> list[np.ndarray]:
    return open_model_dir(model_dir).model.get_weights()


def test_interrupt_kill_and_resume_end_at_the_uninterrupted_weights(tmp_path, monkeypatch):
    synthetic_csv(tmp_path / "d.csv")
    config = load_config(overrides=[*OVERRIDES, f"data.path={str(tmp_path / 'd.csv')!r}"])
    reference = train(config, tmp_path / "reference", verbose=0)
    assert reference.epochs_run == 4
    out = tmp_path / "out"
    shutil.copytree(tmp_path / "reference", out)
    previous = snapshot(out)

    # Ctrl-C in the middle of epoch 2: exit 130, the old model untouched, epoch 1 backed up.
    run = start_training(tmp_path, pause_at="1:2")
    wait_until_paused(run)
    os.kill(run.pid, signal.SIGINT)
    os.kill(run.pid, signal.SIGCONT)
    stdout, stderr = run.communicate(timeout=120)
    assert run.returncode == 130, stderr
    assert stderr.endswith("Interrupted: out was not changed; to continue, run the same command with --resume.\n")
    assert snapshot(out) == previous
    assert sorted(p.name for p in tmp_path.iterdir()) == [".out.backup", "d.csv", "out", "reference"]
    assert sorted(p.name for p in (tmp_path / ".out.backup").iterdir()) == ["epoch-0001", "manifest.json", "run.json"]

    # Resumed, then killed (SIGKILL) in the middle of epoch 3; meanwhile a second run is refused.
    run = start_training(tmp_path, "--resume", pause_at="2:1")
    wait_until_paused(run)
    second = CliRunner().invoke(cli, ["train", "--data", str(tmp_path / "d.csv"), "--out", str(out)])
    assert second.exit_code == 1
    assert second.output == (
        f"Error: Another sentiment-rnn run (pid {run.pid}) is writing {out}: "
        "wait for it to finish or choose another --out.\n"
    )
    run.kill()
    run.wait(timeout=60)
    assert snapshot(out) == previous
    assert all(np.array_equal(a, b) for a, b in zip(weights_of(out), reference.model.get_weights()))
    leftovers = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".out.tmp-"))
    assert len(leftovers) == 1  # a kill -9 cannot clean up: the next run does
    assert sorted(p.name for p in (tmp_path / ".out.backup").iterdir()) == ["epoch-0002", "manifest.json", "run.json"]

    # Resumed to the end: the weights and history of the uninterrupted run, nothing left over. No signal
    # is sent and the backup on disk is all it resumes from, so it runs here, sparing an interpreter's start.
    monkeypatch.chdir(tmp_path)
    args = ["train", "--data", "d.csv", "--out", "out", "--quiet", "--resume"]
    resumed_run = CliRunner().invoke(cli, [*args, *(arg for override in OVERRIDES for arg in ("--set", override))])
    assert resumed_run.exit_code == 0, resumed_run.output
    assert resumed_run.stdout.startswith("Saved model to out: ")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.csv", "out", "reference"]
    resumed = weights_of(out)
    expected = reference.model.get_weights()
    assert len(resumed) == len(expected)
    for got, want in zip(resumed, expected):
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-7)
    # the losses of two trainings (their weights agree to 1e-7 above): the same epochs and metrics, to 1e-6
    history, reference_history = (
        path.read_text() for path in (out / "history.csv", tmp_path / "reference" / "history.csv")
    )
    assert_printed_close(history, reference_history, fixed=False)


def test_resume_refuses_another_config(tmp_path):
    data = synthetic_csv(tmp_path / "d.csv", rows=20)
    config = load_config(overrides=[*OVERRIDES, f"data.path={str(data)!r}"])
    out = tmp_path / "out"
    split = split_dataset(load_training_data(config), config.train.validation_split, config.train.seed)
    prepare_backup(backup_path(out), config, split, resume=False, out_dir=out)  # as an interrupted run left it
    args = ["train", "--data", str(data), "--out", str(out), "--resume"]
    args += [arg for override in OVERRIDES for arg in ("--set", override)]
    result = CliRunner().invoke(cli, [*args, "--set", "model.units=5"])
    assert result.exit_code == 1
    assert result.output == (
        f"Error: Cannot resume {out}: the interrupted run had model.units = 4, this one 5; "
        "resume with the same config and data, or train without --resume.\n"
    )
    data.write_text(data.read_text().replace("good", "fine"))
    result = CliRunner().invoke(cli, args)
    assert result.output == (
        f"Error: Cannot resume {out}: the training data changed since the interrupted run; "
        "resume with the same data, or train without --resume.\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == [".out.backup", "d.csv"]


def test_nan_loss_stops_with_a_clear_message_and_keeps_the_previous_model(tmp_path, tiny_csv):
    out = tmp_path / "out"
    out.mkdir()
    (out / "meta.json").write_text(PREVIOUS_META)
    (out / "config.toml").write_text("")
    args = ["train", "--data", str(tiny_csv), "--out", str(out), "--quiet"]
    args += ["--set", "model.units=4", "--set", "train.learning_rate=3e38", "--set", "train.clipnorm=1e30"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1
    assert result.output == (
        "Error: Training diverged at epoch 1 (the loss became NaN): lower train.learning_rate or "
        f"train.clipnorm and retrain; the model in {out} is unchanged.\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "tiny.csv"]  # no backup, no staging
    assert snapshot(out) == {"config.toml": b"", "meta.json": PREVIOUS_META.encode()}


def test_nan_loss_under_a_strategy_stops_with_the_same_message(tmp_path, tiny_csv):
    out = tmp_path / "out"
    overrides = ["model.units=4", "train.learning_rate=3e38", "train.clipnorm=1e30", "train.distribute=mirrored"]
    config = load_config(overrides=[*overrides, f"data.path={str(tiny_csv)!r}"])
    with pytest.raises(SentimentError) as info:
        train(config, out, verbose=0)
    assert str(info.value) == (
        "Training diverged at epoch 1 (the loss became NaN): lower train.learning_rate or "
        f"train.clipnorm and retrain; nothing was written to {out}."
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny.csv"]


def test_a_loss_or_validation_loss_that_is_not_finite_is_divergence_at_its_epoch():
    from sentiment_rnn.errors import TrainingDiverged
    from sentiment_rnn.training.callbacks import divergence_check

    check = divergence_check()
    check.on_epoch_begin(2)
    check.on_train_batch_end(0, {"loss": 0.7})
    check.on_epoch_end(2, {"loss": 0.7, "val_loss": 0.6})  # finite: nothing happens
    with pytest.raises(TrainingDiverged) as in_a_batch:
        check.on_train_batch_end(1, {"loss": float("inf")})
    with pytest.raises(TrainingDiverged) as at_the_end:
        check.on_epoch_end(2, {"loss": 0.7, "val_loss": float("nan")})
    assert in_a_batch.value.epoch == at_the_end.value.epoch == 3


def test_a_held_lock_refuses_a_second_writer_naming_its_pid(tmp_path):
    target = tmp_path / "model"
    with lock_held_elsewhere(target) as holder:
        with pytest.raises(SentimentError) as info:
            with staged_directory(target):
                pass
        assert str(info.value) == (
            f"Another sentiment-rnn run (pid {holder.pid}) is writing {target}: "
            "wait for it to finish or choose another --out."
        )
    with staged_directory(target) as staging:  # released on exit
        (staging / "meta.json").write_text("new")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def test_the_next_writer_cleans_up_after_a_killed_one(tmp_path):
    """A kill between the two renames of a save strands the old directory in .NAME.old-*: it is put back.

    The killed writer's lock file records what it was creating; exactly that is removed, and a directory
    of the user's that merely looks alike is kept.
    """
    target = tmp_path / "model"
    stranded = tmp_path / ".model.old-0a1b2c3d" / "model"
    stranded.mkdir(parents=True)
    (stranded / "meta.json").write_text("old")
    (tmp_path / ".model.tmp-12345678").mkdir()
    (tmp_path / ".model.tmp-12345678" / "model.keras").write_text("half written")
    (tmp_path / ".model.tmp-mine").mkdir()
    (tmp_path / ".model.tmp-mine" / "notes.txt").write_text("mine")
    (tmp_path / ".model.lock").write_text("999999999\n.model.tmp-12345678\n.model.old-0a1b2c3d\n")  # a dead pid
    with target_lock(target):
        assert (target / "meta.json").read_text() == "old"
        assert sorted(p.name for p in tmp_path.iterdir()) == [".model.lock", ".model.tmp-mine", "model"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [".model.tmp-mine", "model"]
    assert (tmp_path / ".model.tmp-mine" / "notes.txt").read_text() == "mine"


@pytest.mark.parametrize("atomic_exchange", [True, False])
def test_replacing_a_directory_with_and_without_atomic_exchange(tmp_path, monkeypatch, atomic_exchange):
    if not atomic_exchange:
        monkeypatch.setattr(atomic, "_exchange", lambda first, second: False)
    target = tmp_path / "model"
    target.mkdir()
    (target / "meta.json").write_text('{"format_version": 1, "package_version": "0.1.0"}')
    (target / "config.toml").write_text("")
    with staged_directory(target) as staging:
        (staging / "meta.json").write_text("new")
    assert sorted(snapshot(tmp_path)) == ["model/manifest.json", "model/meta.json"]
    assert snapshot(tmp_path)["model/meta.json"] == b"new"


def test_sigterm_interrupts_training_like_ctrl_c_and_the_handler_is_restored():
    from sentiment_rnn.cli import _sigterm_as_interrupt

    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(KeyboardInterrupt):
        with _sigterm_as_interrupt():
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(10)  # interrupted at once by the handler
    assert signal.getsignal(signal.SIGTERM) is before


@pytest.fixture(scope="module")
def interrupted_run(tmp_path_factory):
    """(data, root): a run into root/out stopped by Ctrl-C after its first epoch; its backup holds epoch 1."""
    from sentiment_rnn.tf_setup import import_keras

    keras = import_keras()
    root = tmp_path_factory.mktemp("interrupted")
    data = synthetic_csv(root / "d.csv", rows=20)
    config = load_config(overrides=[*OVERRIDES, f"data.path={str(data)!r}"])
    stop = keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: (_ for _ in ()).throw(KeyboardInterrupt))
    with pytest.raises(KeyboardInterrupt):
        train(config, root / "out", verbose=0, callbacks=[stop])
    return data, root


def resume_args(data: Path, out: Path) -> list[str]:
    return ["train", "--data", str(data), "--out", str(out), "--resume", *(a for o in OVERRIDES for a in ("--set", o))]


@pytest.mark.parametrize(
    "change, message",
    [
        (
            {"best": float("nan")},  # Python writes NaN for a float NaN; JSON has none
            "{state} is damaged (best is nan, expected a finite number): train again without --resume to start over.",
        ),
        (
            {"epochs_done": 99, "history": [{"loss": 0.5}] * 99},
            "The saved progress state.json is damaged or of a longer run (99 epochs done, train.epochs = 4): "
            "resume with --epochs 99 or more, or train again without --resume to start over.",
        ),
        (
            {"wait": 7},
            "The saved progress state.json is damaged (early-stopping counters beyond the epochs done): train again "
            "without --resume to start over.",
        ),
    ],
    ids=["best-nan", "epochs-beyond", "counter-beyond"],
)
def test_tampered_resume_state_is_refused(interrupted_run, tmp_path, change, message):
    import hashlib
    import json

    data, root = interrupted_run
    backup = shutil.copytree(root / ".out.backup", tmp_path / ".out.backup")
    state_file = backup / "epoch-0001" / "state.json"
    state_file.write_text(json.dumps({**json.loads(state_file.read_text()), **change}))
    manifest = json.loads(
        (backup / "manifest.json").read_text()
    )  # as the tool would record it: only the content is wrong
    manifest["entries"]["epoch-0001/state.json"].update(
        size=state_file.stat().st_size, sha256=hashlib.sha256(state_file.read_bytes()).hexdigest()
    )
    (backup / "manifest.json").write_text(json.dumps(manifest))
    result = CliRunner().invoke(cli, resume_args(data, tmp_path / "out"))
    assert isinstance(result.exception, SystemExit), result.exception
    assert (result.exit_code, result.output) == (1, "Error: " + message.format(state=state_file) + "\n")
    assert not (tmp_path / "out").exists()


def test_a_users_file_in_the_backup_is_neither_resumed_from_nor_deleted(interrupted_run, tmp_path):
    data, root = interrupted_run
    backup = shutil.copytree(root / ".out.backup", tmp_path / ".out.backup")
    (backup / "notes.txt").write_text("mine")
    result = CliRunner().invoke(cli, resume_args(data, tmp_path / "out"))
    assert result.output == (
        f"Error: {backup} holds files sentiment-rnn did not write (notes.txt): they are not saved progress; move them "
        "out, or train again without --resume to start over.\n"
    )
    fresh = [arg for arg in resume_args(data, tmp_path / "out") if arg != "--resume"]
    result = CliRunner().invoke(cli, fresh)
    assert result.output == (
        f"Error: {backup} holds files sentiment-rnn did not write (notes.txt): move them out or remove it, then "
        "train again (nothing was changed).\n"
    )
    assert (backup / "notes.txt").read_text() == "mine"


def test_a_full_disk_before_an_epochs_progress_is_one_line_and_leaves_nothing(tmp_path, monkeypatch):
    """HDF5 can crash on a full disk: the space is checked before each epoch's progress is written."""
    import collections

    import sentiment_rnn.training.checkpoint as checkpoint

    data = synthetic_csv(tmp_path / "d.csv", rows=20)
    out = tmp_path / "out"
    out.mkdir()
    (out / "meta.json").write_text(PREVIOUS_META)
    (out / "config.toml").write_text("")
    usage = collections.namedtuple("usage", "total used free")
    monkeypatch.setattr(checkpoint.shutil, "disk_usage", lambda path: usage(1 << 30, 1 << 30, 1000))
    args = ["train", "--data", str(data), "--out", str(out), "--quiet", *(a for o in OVERRIDES for a in ("--set", o))]
    result = CliRunner().invoke(cli, args)
    assert (result.exit_code, result.output) == (
        1,
        f"Error: Cannot save the progress of epoch 1 in {tmp_path / '.out.backup'}: the disk is full (no space left "
        "on device); the model directory was not changed; free some space and train again.\n",
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.csv", "out"]  # no staging, lock or backup left
    assert snapshot(out) == {"config.toml": b"", "meta.json": PREVIOUS_META.encode()}


def test_fit_makes_its_backup_at_a_new_path_and_refuses_one_it_cannot_make_or_does_not_own(tmp_path):
    """A library caller's ``fit(..., backup=PATH)``: a new PATH is made as train makes its backup, and resumed from."""
    from sentiment_rnn.training.backup import backup_foreign_entries
    from sentiment_rnn.training.fit import fit

    config, split = load_config(overrides=[*TINY_OVERRIDES, "train.patience=5"]), tiny_split()
    backup = tmp_path / "progress"
    with pytest.raises(KeyboardInterrupt):
        fit(config, split, verbose=0, backup=backup, callbacks=[interrupt_at(1)])
    assert sorted(p.name for p in backup.iterdir()) == ["epoch-0001", "manifest.json", "run.json"]
    assert backup_foreign_entries(backup) == []  # all of it the tool's, by its manifest
    history = fit(config, split, verbose=0, backup=backup).history  # goes on after epoch 1
    assert len(history.history["loss"]) == 2

    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "epoch-notes").mkdir()  # named as the tool names an epoch: never removed as an older one
    (mine / "epoch-notes" / "notes.txt").write_text("mine")
    (tmp_path / "link").symlink_to(mine)
    (tmp_path / "file").write_text("mine")
    refusals = {
        tmp_path / "missing" / "progress": f"Cannot make the backup directory {tmp_path / 'missing' / 'progress'} "
        "(No such file or directory): pass a new path in a directory that exists and is writable, or backup=None.",
        mine: f"The backup {mine} holds files sentiment-rnn did not write (epoch-notes/notes.txt): pass a new path, "
        "which fit makes, or backup=None (nothing was changed).",
        tmp_path / "link": f"The backup {tmp_path / 'link'} is a symlink (no link is followed, no file replaced): "
        "pass a new path, which fit makes, or backup=None.",
        tmp_path / "file": f"The backup {tmp_path / 'file'} is not a directory (no link is followed, no file "
        "replaced): pass a new path, which fit makes, or backup=None.",
    }
    before = snapshot(tmp_path)
    for path, message in refusals.items():
        with pytest.raises(SentimentError) as info:
            fit(config, split, verbose=0, backup=path)
        assert str(info.value) == message
    assert snapshot(tmp_path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "link", "mine", "progress"]
