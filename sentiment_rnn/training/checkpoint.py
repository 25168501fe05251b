"""Checkpoints and resume: the whole training state saved after every epoch, and checked before resuming.

The backup ``.NAME.backup`` is a tree the tool owns by its manifest (see
``artifact.ownership``): it is created exclusively, each epoch is staged
under a name the manifest records first, and it is removed only when
everything in it is the tool's. Everything read back (``run.json``,
``state.json``, the weights) is read through ``safe_read`` and checked
(types, ranges, finite numbers) before a value is used.
"""

from __future__ import annotations

import errno
import functools
import io
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from sentiment_rnn import jsondoc, safe_read
from sentiment_rnn.artifact import ownership
from sentiment_rnn.artifact.files import write_json
from sentiment_rnn.errors import SentimentError
from sentiment_rnn.finite import check_finite

CHECKPOINT_WEIGHTS = "state.weights.h5"  # model weights and optimizer state (Keras save_weights)
CHECKPOINT_BEST = "best_weights.npz"  # early stopping's best weights so far
CHECKPOINT_STATE = "state.json"  # epochs done, early stopping counters, history so far
CHECKPOINT_RUN = "run.json"  # what the run was started with: config and a digest of its data


def latest_checkpoint(backup: Path) -> Path | None:
    """The newest complete ``epoch-NNNN`` directory in ``backup``, or None."""
    complete = [
        d for d in backup.glob("epoch-*") if ownership.is_real_directory(d) and os.path.lexists(d / CHECKPOINT_STATE)
    ]
    return max(complete, key=lambda d: d.name) if complete else None


def read_checkpoint_json(file: Path, backup: Path, schema: jsondoc.Schema) -> Any:
    """A JSON file of the backup, read through ``safe_read`` (no link, a size cap, a depth cap) and checked."""
    return safe_read.read_json(file, safe_read.MODEL_JSON, RESUME_FIX, schema, inside=backup)


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

        def restore(self, checkpoint: Path, epochs: int) -> int:
            """Load the model, optimizer and RNG state of ``checkpoint``; return the epochs it completed.

            ``epochs`` is the run's ``train.epochs``: a state claiming more is damaged.

            Raises:
                SentimentError: any of its files is damaged, truncated or of the wrong shape.
            """
            model = self.model
            if not model.optimizer.built:
                model.optimizer.build(model.trainable_variables)
            backup = checkpoint.parent
            state = checked_state(read_checkpoint_json(checkpoint / CHECKPOINT_STATE, backup, STATE_SCHEMA), epochs)
            try:
                best = None
                if os.path.lexists(checkpoint / CHECKPOINT_BEST):
                    data = safe_read.read_bytes(checkpoint / CHECKPOINT_BEST, safe_read.WEIGHTS, RESUME_FIX, backup)
                    with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
                        best = [arrays[f"arr_{i}"] for i in range(len(arrays.files))]
                    expected = [tuple(v.shape) for v in model.weights]
                    if [tuple(a.shape) for a in best] != expected:
                        raise ValueError("the best weights do not fit the model")
                    check_finite(dict(enumerate(best)), checkpoint / CHECKPOINT_BEST, RESUME_FIX)
                seeds = _seed_states(model)
                if len(state["seed_states"]) != len(seeds):
                    raise ValueError("the dropout states do not fit the model")
                safe_read.open_file(checkpoint / CHECKPOINT_WEIGHTS, safe_read.WEIGHTS, RESUME_FIX, backup).close()
                model.load_weights(checkpoint / CHECKPOINT_WEIGHTS)
                check_finite(
                    {v.path: np.asarray(v) for v in model.trainable_variables},
                    checkpoint / CHECKPOINT_WEIGHTS,
                    RESUME_FIX,
                )
                for variable, value in zip(seeds, state["seed_states"]):
                    variable.assign(np.asarray(value, dtype=variable.dtype).reshape(variable.shape))
            except SentimentError:
                raise
            except Exception as exc:  # h5py, NumPy and Keras raise many types for a damaged file
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
            """Write the state after ``epochs_done`` finished epochs to ``backup/epoch-NNNN``, then drop older ones.

            The epoch is staged under a fresh name, which the backup's manifest
            records (with the final name) before anything is created, renamed
            into place, and recorded with its digests once complete.
            """
            stopping = self.early_stopping
            backup = self.backup
            final = f"epoch-{epochs_done:04d}"
            staging = backup / ownership.fresh_name(f".{final}.tmp-")
            older = [d for d in backup.glob("epoch-*") if d.name != final]
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
            try:
                check_space_for_progress(backup, self.model, epochs_done)
                ownership.write_manifest(backup, pending=(staging.name, final))
                staging.mkdir()
                self.model.save_weights(staging / CHECKPOINT_WEIGHTS)
                if stopping.best_weights is not None:
                    np.savez(staging / CHECKPOINT_BEST, *stopping.best_weights)
                write_json(staging / CHECKPOINT_STATE, state)
                ownership.remove_tree(backup / final)  # the manifest named it: a kill after a rename left it
                os.rename(staging, backup / final)
                for directory in older:
                    ownership.remove_tree(directory)
                ownership.write_manifest(backup, paths=[final])
            except OSError as exc:
                ownership.remove_tree(staging)
                if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
                    raise no_space_for_progress(backup, epochs_done) from None
                raise

    return EpochCheckpoint


RESUME_FIX = "train again without --resume to start over"
STATE_SCHEMA = jsondoc.Object(  # what state.json holds
    {
        "epochs_done": jsondoc.Scalar("integer", 1, 2**31 - 1),
        "stopped": jsondoc.BOOLEAN,
        "wait": jsondoc.INTEGER,
        "best": jsondoc.Nullable(jsondoc.NUMBER),
        "best_epoch": jsondoc.INTEGER,
        "stopped_epoch": jsondoc.INTEGER,
        "seed_states": jsondoc.ListOf(jsondoc.ANYTHING),
        "history": jsondoc.ListOf(jsondoc.Object(values=jsondoc.NUMBER)),
    },
    required=("epochs_done", "stopped", "wait", "best", "best_epoch", "stopped_epoch", "seed_states", "history"),
)


def checked_state(state: dict[str, Any], epochs: int) -> dict[str, Any]:
    """``state`` (a state.json :data:`STATE_SCHEMA` accepted) if its counts fit a run of ``epochs`` epochs.

    Raises:
        SentimentError: more epochs done than the run has, a history whose length is not ``epochs_done``,
            an empty history row, or counters beyond the epochs done.
    """
    done = state["epochs_done"]
    problem = None
    if done > epochs:
        raise SentimentError(
            f"The saved progress {CHECKPOINT_STATE} is damaged or of a longer run ({done} epochs done, train.epochs "
            f"= {epochs}): resume with --epochs {done} or more, or {RESUME_FIX}."
        )
    if len(state["history"]) != done or not all(state["history"]):
        problem = "a history that does not match its epochs"
    elif not (state["wait"] <= done and state["best_epoch"] <= done and state["stopped_epoch"] <= done):
        problem = "early-stopping counters beyond the epochs done"
    if problem is not None:
        raise SentimentError(f"The saved progress {CHECKPOINT_STATE} is damaged ({problem}): {RESUME_FIX}.")
    return state


def damaged_progress(where: Path, exc: Exception) -> SentimentError:
    """The refusal to resume from saved progress (a checkpoint or run.json in ``where``) that cannot be read."""
    reason = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
    return SentimentError(
        f"The saved progress in {where} is damaged ({reason}): train again without --resume to start over."
    )


def check_space_for_progress(backup: Path, model, epochs_done: int) -> None:
    """Refuse to save an epoch's progress that the free space of ``backup``'s disk cannot hold.

    The weights are written by HDF5, which can crash the process on a full
    disk instead of raising: the space is checked before, from the number of
    weights (each saved with Adam's two moments, and once more as the best
    weights), with a margin.

    Raises:
        SentimentError: not enough space (see :func:`no_space_for_progress`).
    """
    weights = sum(int(np.prod(v.shape)) for v in model.weights)
    needed = weights * 4 * PROGRESS_COPIES + PROGRESS_MARGIN
    try:
        free = shutil.disk_usage(backup).free
    except OSError:
        return
    if free < needed:
        raise no_space_for_progress(backup, epochs_done)


PROGRESS_COPIES = 5  # float32 copies of the weights in an epoch's progress: weights, 2 moments, best, slack
PROGRESS_MARGIN = 1 << 20


def no_space_for_progress(backup: Path, epochs_done: int) -> SentimentError:
    return SentimentError(
        f"Cannot save the progress of epoch {epochs_done} in {backup}: the disk is full (no space left on device); "
        "the model directory was not changed; free some space and train again."
    )
