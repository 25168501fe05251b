"""Checkpoints and resume: the whole training state saved after every epoch, and checked before resuming."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from sentiment_rnn.artifact.atomic import backup_path, check_replaceable, real_target, target_lock
from sentiment_rnn.artifact.files import write_json
from sentiment_rnn.config import Config, to_dict
from sentiment_rnn.data.checks import hash_contents
from sentiment_rnn.data.stream import StreamPart
from sentiment_rnn.errors import SentimentError, TrainingDiverged
from sentiment_rnn.training.pipeline import Split

CHECKPOINT_WEIGHTS = "state.weights.h5"  # model weights and optimizer state (Keras save_weights)
CHECKPOINT_BEST = "best_weights.npz"  # early stopping's best weights so far
CHECKPOINT_STATE = "state.json"  # epochs done, early stopping counters, history so far
CHECKPOINT_RUN = "run.json"  # what the run was started with: config and a digest of its data


def latest_checkpoint(backup: Path) -> Path | None:
    """The newest complete ``epoch-NNNN`` directory in ``backup``, or None."""
    complete = [d for d in backup.glob("epoch-*") if (d / CHECKPOINT_STATE).is_file()]
    return max(complete, key=lambda d: d.name) if complete else None


def _seed_states(model) -> list:
    """The dropout RNG states (SeedGenerator variables) that ``save_weights`` leaves out."""
    return [v for v in model.non_trainable_variables if "seed_generator" in v.path]


@functools.cache
def epoch_checkpoint_class():
    """The ``EpochCheckpoint`` callback class, built on first use so that importing this module needs no Keras."""
    from sentiment_rnn.tf_setup import import_keras

    keras = import_keras()

    class EpochCheckpoint(keras.callbacks.Callback):
        """After every finished epoch, save the whole training state to ``backup/epoch-NNNN``.

        The state is the model and optimizer variables, the dropout RNG states,
        early stopping's counters and best weights, and the history so far. It
        is written to a temporary directory and renamed, so a kill at any moment
        leaves the previous epoch's state complete. ``restore`` loads it back.
        Without a backup directory it only keeps the history. Place it after the
        divergence check, so that a diverged epoch never reaches it.
        """

        def __init__(self, backup: Path | None, early_stopping):
            super().__init__()
            self.backup = backup
            self.early_stopping = early_stopping
            self.history: list[dict[str, float]] = []  # the metrics of every finished epoch, one dict each
            self.restored_state: dict[str, Any] | None = None
            self.restored_best: list[np.ndarray] | None = None

        def restore(self, checkpoint: Path) -> int:
            """Load the model, optimizer and RNG state of ``checkpoint``; return the epochs it completed.

            Raises:
                SentimentError: any of its files is damaged, truncated or of the wrong shape.
            """
            model = self.model
            if not model.optimizer.built:
                model.optimizer.build(model.trainable_variables)
            try:
                state = checked_state(json.loads((checkpoint / CHECKPOINT_STATE).read_text(encoding="utf-8")))
                best = None
                if (checkpoint / CHECKPOINT_BEST).is_file():
                    with np.load(checkpoint / CHECKPOINT_BEST, allow_pickle=False) as arrays:
                        best = [arrays[f"arr_{i}"] for i in range(len(arrays.files))]
                    expected = [tuple(v.shape) for v in model.weights]
                    if [tuple(a.shape) for a in best] != expected:
                        raise ValueError("the best weights do not fit the model")
                seeds = _seed_states(model)
                if len(state["seed_states"]) != len(seeds):
                    raise ValueError("the dropout states do not fit the model")
                model.load_weights(checkpoint / CHECKPOINT_WEIGHTS)
                for variable, value in zip(seeds, state["seed_states"]):
                    variable.assign(np.asarray(value, dtype=variable.dtype).reshape(variable.shape))
            except Exception as exc:  # h5py, NumPy, JSON and Keras raise many types for a damaged file
                raise damaged_progress(checkpoint, exc) from None
            self.restored_best = best
            self.history = state["history"]
            self.restored_state = state
            return state["epochs_done"]

        def on_train_begin(self, logs=None):
            state = self.restored_state
            if state is not None:  # early stopping has just reset itself: give it back its counters
                stopping = self.early_stopping
                stopping.wait, stopping.best = state["wait"], state["best"]
                stopping.best_epoch, stopping.stopped_epoch = state["best_epoch"], state["stopped_epoch"]
                stopping.best_weights = self.restored_best

        def on_epoch_end(self, epoch, logs=None):
            self.history.append({key: float(value) for key, value in (logs or {}).items()})
            if self.backup is not None:
                self.save(epoch + 1)

        def save(self, epochs_done: int) -> None:
            """Write the state after ``epochs_done`` finished epochs to ``backup/epoch-NNNN``, then drop older ones."""
            stopping = self.early_stopping
            final = self.backup / f"epoch-{epochs_done:04d}"
            staging = self.backup / f".epoch-{epochs_done:04d}.tmp"
            shutil.rmtree(staging, ignore_errors=True)
            staging.mkdir(parents=True)
            self.model.save_weights(staging / CHECKPOINT_WEIGHTS)
            if stopping.best_weights is not None:
                np.savez(staging / CHECKPOINT_BEST, *stopping.best_weights)
            state = {
                "epochs_done": epochs_done,
                "stopped": bool(self.model.stop_training),
                "wait": stopping.wait,
                "best": None if stopping.best is None else float(stopping.best),
                "best_epoch": stopping.best_epoch,
                "stopped_epoch": stopping.stopped_epoch,
                "seed_states": [np.asarray(v).tolist() for v in _seed_states(self.model)],
                "history": self.history,
            }
            write_json(staging / CHECKPOINT_STATE, state)
            shutil.rmtree(final, ignore_errors=True)
            os.rename(staging, final)
            for older in self.backup.glob("epoch-*"):
                if older != final:
                    shutil.rmtree(older, ignore_errors=True)

    return EpochCheckpoint


STATE_TYPES = {  # what state.json holds: key -> the types its value may have
    "epochs_done": int,
    "stopped": bool,
    "wait": int,
    "best": (float, int, type(None)),
    "best_epoch": int,
    "stopped_epoch": int,
    "seed_states": list,
    "history": list,
}


def checked_state(state: Any) -> dict[str, Any]:
    """``state`` (the parsed state.json) if it has every key of :data:`STATE_TYPES` with its type.

    Raises:
        ValueError: a missing key, a wrong type, or a history whose length is not ``epochs_done``.
    """
    if not isinstance(state, dict):
        raise ValueError(f"{CHECKPOINT_STATE} is not an object")
    for key, types in STATE_TYPES.items():
        if not isinstance(state.get(key), types):
            raise ValueError(f"{CHECKPOINT_STATE} has no valid {key}")
    history = state["history"]
    if (
        state["epochs_done"] < 1
        or len(history) != state["epochs_done"]
        or not all(
            isinstance(row, dict) and row and all(isinstance(v, (int, float)) for v in row.values()) for row in history
        )
    ):
        raise ValueError(f"{CHECKPOINT_STATE} has a history that does not match its epochs")
    return state


def damaged_progress(where: Path, exc: Exception) -> SentimentError:
    """The refusal to resume from saved progress (a checkpoint or run.json in ``where``) that cannot be read."""
    reason = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
    return SentimentError(
        f"The saved progress in {where} is damaged ({reason}): train again without --resume to start over."
    )


def data_digest(split: Split) -> str:
    """A SHA-256 of the split's texts and labels, to check a resumed run reads the same data.

    For a streamed file, of its bytes as they are on disk (``data.checks.hash_contents``), not parsed again.
    """
    digest = hashlib.sha256()
    if isinstance(split.train, StreamPart):
        hash_contents(digest, split.train.source.path)
        return digest.hexdigest()
    for part in (split.train, split.validation):
        for text, label in zip(part.texts, part.labels):
            digest.update(f"{int(label)}\t{len(text)}\t{text}\n".encode("utf-8", "surrogatepass"))
        digest.update(b"--\n")
    return digest.hexdigest()


# Keys a resumed run may change: how many epochs to run in all (more to go on, as many as are done to stop there).
RESUMABLE_CHANGES = {("train", "epochs")}


def prepare_backup(
    backup: Path, config: Config, split: Split | None, resume: bool, out_dir: Path, digest: str | None = None
) -> None:
    """Start a fresh backup, or check that the one to resume was made with the same config and data.

    The data are told by ``digest`` when given, else by :func:`data_digest` of ``split``.
    """
    run = {"config": to_dict(config), "data_sha256": digest or data_digest(split)}
    if not resume:
        shutil.rmtree(backup, ignore_errors=True)
        backup.mkdir()
        write_json(backup / CHECKPOINT_RUN, run)
        return
    if not (backup / CHECKPOINT_RUN).is_file():
        raise SentimentError(
            f"Nothing to resume for {out_dir}: no interrupted run was found ({backup} does not exist); "
            "train without --resume."
        )
    try:
        previous = json.loads((backup / CHECKPOINT_RUN).read_text(encoding="utf-8"))
        if not (isinstance(previous.get("config"), dict) and isinstance(previous.get("data_sha256"), str)):
            raise ValueError(f"{CHECKPOINT_RUN} has no config and data digest")
        if not all(isinstance(values, dict) for values in previous["config"].values()):
            raise ValueError(f"{CHECKPOINT_RUN} has a malformed config")
    except (OSError, ValueError, AttributeError) as exc:
        raise damaged_progress(backup, exc) from None
    defaults = to_dict(Config())  # a key an older version did not write: that run had its default
    for section, values in run["config"].items():
        if section == "data":
            continue  # where the data comes from may be spelt differently; the digest checks its content
        for key, value in values.items():
            if (section, key) in RESUMABLE_CHANGES:
                continue
            before = previous["config"].get(section, {}).get(key, defaults[section][key])
            if before != value:
                raise SentimentError(
                    f"Cannot resume {out_dir}: the interrupted run had {section}.{key} = {before!r}, this one "
                    f"{value!r}; resume with the same config and data, or train without --resume."
                )
    if previous["data_sha256"] != run["data_sha256"]:
        raise SentimentError(
            f"Cannot resume {out_dir}: the training data changed since the interrupted run; "
            "resume with the same data, or train without --resume."
        )


@contextlib.contextmanager
def locked_backup(
    out_dir: Path, config: Config, split: Split | None, resume: bool, digest: str | None = None
) -> Iterator[Path]:
    """Lock ``out_dir`` and yield its backup directory, fresh or checked for ``resume`` (data as in :func:`prepare_backup`).

    The backup is removed when the body succeeds or diverges (a resumed
    diverged run would diverge again) and kept after any other failure or
    interruption, for ``--resume``.
    """
    backup = backup_path(out_dir)
    with target_lock(out_dir):
        check_replaceable(real_target(out_dir))  # before anything is written beside it
        prepare_backup(backup, config, split, resume, out_dir, digest)
        try:
            yield backup
        except TrainingDiverged as exc:
            shutil.rmtree(backup, ignore_errors=True)
            kept = f"the model in {out_dir} is unchanged" if out_dir.exists() else f"nothing was written to {out_dir}"
            raise SentimentError(f"{str(exc)[:-1]}; {kept}.") from None
        except Exception:  # a failure before the first epoch finished leaves nothing to resume
            if latest_checkpoint(backup) is None:
                shutil.rmtree(backup, ignore_errors=True)
            raise
        shutil.rmtree(backup, ignore_errors=True)
