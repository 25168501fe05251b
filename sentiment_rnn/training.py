"""Fit a model from config and write its model directory."""

from __future__ import annotations

import contextlib
import csv
import hashlib
import json
import os
import shutil
import signal
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sentiment_rnn import artifact, plots, progress
from sentiment_rnn.config import Config, to_dict, to_toml
from sentiment_rnn.data import Dataset, dataset_from_config
from sentiment_rnn.errors import SentimentError


@dataclass(frozen=True)
class Split:
    """A dataset cut in two by a seeded shuffle: ``train`` to fit, ``validation`` to stop and report."""

    train: Dataset  # or, streaming, a streaming.StreamPart with the same len()
    validation: Dataset


@dataclass
class TrainResult:
    """What ``train`` produced: the model directory, its metrics and the fitted model."""

    out_dir: Path
    metrics: dict[str, float]
    epochs_run: int
    best_epoch: int
    model: Any
    split: Split
    skipped: int = 0  # rows of the data skipped for missing or blank text
    plot: Path | None = None  # training.png in out_dir, or None when matplotlib is not installed


def load_training_data(config: Config) -> Dataset:
    """The dataset ``config.data`` names, or the built-in corpus when its path is empty."""
    return dataset_from_config(config.data)


def split_dataset(dataset: Dataset, validation_split: float, seed: int) -> Split:
    """Shuffle with ``seed`` and hold out ``validation_split`` of the rows (at least one)."""
    n = len(dataset)
    n_validation = max(1, round(n * validation_split))
    if n - n_validation < 2:
        raise SentimentError(
            f"{dataset.source} has only {n} usable rows: training needs at least 3 (2 to fit, 1 to validate)."
        )
    order = np.random.default_rng(seed).permutation(n)

    def subset(indices: np.ndarray) -> Dataset:
        return Dataset([dataset.texts[i] for i in indices], dataset.labels[indices], dataset.source)

    return Split(train=subset(order[n_validation:]), validation=subset(order[:n_validation]))


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and TensorFlow, and make TensorFlow's ops deterministic on CPU."""
    from sentiment_rnn.tf_setup import import_keras

    keras = import_keras()
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


def example_stream(dataset, shuffle_seed: int | None = None):
    """The unbatched ``tf.data`` stream of (text () string, label () float32) pairs.

    Args:
        dataset: a Dataset in memory, or one side of a streamed file (``streaming.StreamPart``).
        shuffle_seed: shuffle (re-drawn every epoch) with this seed; None keeps the order.
    """
    import tensorflow as tf

    from sentiment_rnn.streaming import StreamPart

    if isinstance(dataset, StreamPart):
        return dataset.examples(shuffle_seed)
    examples = tf.data.Dataset.from_tensor_slices(
        (tf.constant(dataset.texts, dtype=tf.string), dataset.labels.astype(np.float32))
    )
    if shuffle_seed is not None:
        examples = examples.shuffle(len(dataset), seed=shuffle_seed, reshuffle_each_iteration=True)
    return examples


def string_dataset(dataset, batch_size: int, shuffle_seed: int | None = None, bucket_by_length: bool = False):
    """A ``tf.data`` pipeline of (text (B,) string, label (B,) float32) batches.

    Args:
        dataset, shuffle_seed: as for :func:`example_stream`.
        batch_size: texts per batch.
        bucket_by_length: group texts of similar token counts (see ``streaming.batch_examples``).
    """
    import tensorflow as tf

    from sentiment_rnn.streaming import batch_examples

    examples = example_stream(dataset, shuffle_seed)
    return batch_examples(examples, batch_size, bucket_by_length).prefetch(tf.data.AUTOTUNE)


def adapt_tokenizer(tokenizer, train_data) -> None:
    """Adapt the tokenizer's vocabulary on the training data (a streamed file was adapted while read)."""
    vocabulary = getattr(train_data, "vocabulary", None)
    if vocabulary is not None:
        tokenizer.set_vocabulary(vocabulary)
    else:
        tokenizer.adapt(string_dataset(train_data, 1024).map(lambda text, label: text))


def training_batches(config: Config, train_data):
    """The shuffled (and maybe length-bucketed) training batches; endless when ``train.steps_per_epoch`` is set."""
    batches = string_dataset(
        train_data, config.train.batch_size, config.train.seed, bucket_by_length=config.train.bucket_by_length
    )
    return batches.repeat() if config.train.steps_per_epoch else batches


def validation_batches(config: Config, validation_data):
    """The validation batches: 256 texts each, grouped by length too when ``train.bucket_by_length`` is set."""
    return string_dataset(validation_data, 256, bucket_by_length=config.train.bucket_by_length)


def training_input(config: Config, train_data, first_epoch: int):
    """(batches, steps per epoch) for ``fit`` from epoch ``first_epoch`` on.

    In-memory data: :func:`epoch_batches`, so a resumed run sees the batches an
    uninterrupted one would. Streamed data, ``train.bucket_by_length`` or
    ``train.steps_per_epoch``: :func:`training_batches` (a ``tf.data`` shuffle;
    a resumed run continues from the saved weights but sees other batches).
    """
    train = config.train
    if isinstance(train_data, Dataset) and not train.bucket_by_length and not train.steps_per_epoch:
        batches = epoch_batches(train_data, train.batch_size, train.seed, first_epoch, train.epochs)
        return batches, steps_per_epoch(len(train_data), train.batch_size)
    return training_batches(config, train_data), train.steps_per_epoch or None


def epoch_batches(dataset: Dataset, batch_size: int, seed: int, first_epoch: int, epochs: int):
    """The training batches of epochs ``first_epoch .. epochs - 1``, one epoch after the other.

    Epoch ``e`` visits the rows in a permutation drawn from ``(seed, e)`` alone,
    so a run resumed at epoch ``e`` sees exactly the batches an uninterrupted
    run would have seen. Read it with ``steps_per_epoch = steps_per_epoch(n, batch_size)``.

    Returns:
        A ``tf.data`` pipeline of (text (B,) string, label (B,) float32) batches.
    """
    import tensorflow as tf

    n = len(dataset)
    orders = np.stack(
        [np.random.default_rng([seed, epoch]).permutation(n) for epoch in range(first_epoch, epochs)]
    ).reshape(-1, n)  # (epochs - first_epoch, n)
    texts = tf.constant(dataset.texts, dtype=tf.string)
    labels = tf.constant(dataset.labels.astype(np.float32))
    ds = tf.data.Dataset.from_tensor_slices(orders)
    ds = ds.flat_map(lambda order: tf.data.Dataset.from_tensor_slices(order).batch(batch_size))
    ds = ds.map(lambda indices: (tf.gather(texts, indices), tf.gather(labels, indices)))
    return ds.prefetch(tf.data.AUTOTUNE)


def steps_per_epoch(n: int, batch_size: int) -> int:
    return -(-n // batch_size)


class TrainingDiverged(SentimentError):
    """The loss became NaN or infinite; ``epoch`` is 1-based."""

    def __init__(self, epoch: int):
        self.epoch = epoch
        super().__init__(
            f"Training diverged at epoch {epoch} (the loss became NaN): "
            "lower train.learning_rate or train.clipnorm and retrain."
        )


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


def _checkpoint_class():
    from sentiment_rnn.tf_setup import import_keras

    keras = import_keras()

    class EpochCheckpoint(keras.callbacks.Callback):
        """After every finished epoch, save the whole training state to ``backup/epoch-NNNN``.

        The state is the model and optimizer variables, the dropout RNG states,
        early stopping's counters and best weights, and the history so far. It
        is written to a temporary directory and renamed, so a kill at any moment
        leaves the previous epoch's state complete. ``restore`` loads it back.
        A loss that is not finite stops training after its batch; that epoch is
        not saved and ``diverged_epoch`` is set.
        """

        def __init__(self, backup: Path | None, early_stopping):
            super().__init__()
            self.backup = backup
            self.early_stopping = early_stopping
            self.history: list[dict[str, float]] = []
            self.restored_state: dict[str, Any] | None = None
            self.restored_best: list[np.ndarray] | None = None
            self.diverged_epoch: int | None = None

        def restore(self, checkpoint: Path) -> int:
            """Load the model, optimizer and RNG state of ``checkpoint``; return the epochs it completed."""
            model = self.model
            if not model.optimizer.built:
                model.optimizer.build(model.trainable_variables)
            model.load_weights(checkpoint / CHECKPOINT_WEIGHTS)
            state = json.loads((checkpoint / CHECKPOINT_STATE).read_text(encoding="utf-8"))
            for variable, value in zip(_seed_states(model), state["seed_states"]):
                variable.assign(np.asarray(value, dtype=variable.dtype))
            if (checkpoint / CHECKPOINT_BEST).is_file():
                with np.load(checkpoint / CHECKPOINT_BEST, allow_pickle=False) as arrays:
                    self.restored_best = [arrays[f"arr_{i}"] for i in range(len(arrays.files))]
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
            logs = {key: float(value) for key, value in (logs or {}).items()}
            finite = all(np.isfinite(logs.get(key, 0.0)) for key in ("loss", "val_loss"))
            if self.diverged_epoch is not None or not finite:
                self.diverged_epoch = epoch + 1
                self.model.stop_training = True
                return
            self.history.append(logs)
            if self.backup is not None:
                self._save(epoch + 1)

        def _save(self, epochs_done: int) -> None:
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
            artifact.write_json(staging / CHECKPOINT_STATE, state)
            shutil.rmtree(final, ignore_errors=True)
            os.rename(staging, final)
            for older in self.backup.glob("epoch-*"):
                if older != final:
                    shutil.rmtree(older, ignore_errors=True)
            _pause_for_tests(epochs_done, None)

        def on_train_batch_end(self, batch, logs=None):
            loss = (logs or {}).get("loss")
            if loss is not None and not np.isfinite(float(loss)):  # stop now, quietly (TerminateOnNaN prints)
                self.diverged_epoch = len(self.history) + 1
                self.model.stop_training = True
            _pause_for_tests(len(self.history), batch)

    return EpochCheckpoint


PAUSE_ENV = "SENTIMENT_RNN_TEST_PAUSE_AT"


def _pause_for_tests(epochs_done: int, batch: int | None) -> None:
    """Stop this process (SIGSTOP) at a point a test names, so the test can kill it there.

    ``SENTIMENT_RNN_TEST_PAUSE_AT="E:B"`` pauses after batch B (0-based) of the
    epoch that follows E finished epochs; ``"E:end"`` right after epoch E's
    checkpoint is saved. Unset, this does nothing.
    """
    wanted = os.environ.get(PAUSE_ENV)
    if wanted and wanted == f"{epochs_done}:{'end' if batch is None else batch}":
        os.kill(os.getpid(), signal.SIGSTOP)


def write_history_csv(path: Path, history: list[dict[str, float]]) -> None:
    """Per-epoch metrics as CSV, columns ``epoch`` then the metric names sorted (as Keras CSVLogger)."""
    keys = sorted({key for row in history for key in row})
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["epoch", *keys])
        for epoch, row in enumerate(history):
            writer.writerow([epoch, *(row.get(key, "") for key in keys)])


def build_training_model(config: Config, tokenizer):
    """The model to train on ``tokenizer``; its embedding starts from ``model.embeddings`` when that is set."""
    from sentiment_rnn.models import build_model

    model = build_model(config, tokenizer, stateful=False, return_sequences=False)
    if config.model.embeddings:
        from sentiment_rnn.embeddings import initialise_embedding
        from sentiment_rnn.models import EMBEDDING_LAYER

        initialise_embedding(model.get_layer(EMBEDDING_LAYER), tokenizer.get_vocabulary(), config.model.embeddings)
    return model


def fit(
    config: Config,
    split: Split,
    history_csv: Path | None = None,
    verbose: int | str = "auto",
    backup: Path | None = None,
    callbacks: Sequence[Any] = (),
):
    """Adapt the tokenizer and fit the configured model on ``split``.

    Args:
        verbose: Keras ``fit`` verbosity; its progress bar goes to stderr, so
            stdout carries only results.
        callbacks: extra Keras callbacks (e.g. ``TensorBoard``), run after the
            built-in early stopping and checkpoint.
        backup: a directory for per-epoch checkpoints. If it already holds one,
            training resumes after its last completed epoch, with the model,
            optimizer, early stopping and history as they were.

    Returns:
        (model, keras History). The model holds the best weights by validation
        loss; the History covers every epoch, including those before a resume.

    Raises:
        TrainingDiverged: when the loss becomes NaN.
    """
    from sentiment_rnn.models import compile_model, make_tokenizer
    from sentiment_rnn.tf_setup import import_keras

    if config.train.distribute != "none":
        from sentiment_rnn.distributed import fit_distributed

        return fit_distributed(config, split, history_csv=history_csv, verbose=verbose)
    keras = import_keras()
    seed_everything(config.train.seed)
    tokenizer = make_tokenizer(config)
    progress.note(f"Adapting the tokenizer on {len(split.train):,} texts", quiet=not verbose)
    adapt_tokenizer(tokenizer, split.train)
    model = build_training_model(config, tokenizer)
    compile_model(model, config)
    early_stopping = keras.callbacks.EarlyStopping(
        monitor="val_loss", patience=config.train.patience, restore_best_weights=True
    )
    checkpoint = _checkpoint_class()(backup, early_stopping)
    checkpoint.set_model(model)
    first_epoch = 0
    latest = latest_checkpoint(backup) if backup is not None else None
    if latest is not None:
        first_epoch = checkpoint.restore(latest)
        if checkpoint.restored_state["stopped"]:
            first_epoch = config.train.epochs
    history = keras.callbacks.History()
    if first_epoch < config.train.epochs:
        batches, steps = training_input(config, split.train, first_epoch)
        with contextlib.redirect_stdout(sys.stderr):  # Keras prints its progress bar to stdout
            history = model.fit(
                batches,
                steps_per_epoch=steps,
                validation_data=validation_batches(config, split.validation),
                initial_epoch=first_epoch,
                shuffle=False,  # the batches are already shuffled
                epochs=config.train.epochs,
                callbacks=[early_stopping, checkpoint, *callbacks],
                verbose=verbose,
            )
    elif checkpoint.restored_best is not None:  # the backed-up run had finished: take its best weights
        model.set_weights(checkpoint.restored_best)
    if checkpoint.diverged_epoch is not None:
        raise TrainingDiverged(checkpoint.diverged_epoch)
    history.history = {key: [row[key] for row in checkpoint.history] for key in checkpoint.history[0]}
    history.epoch = list(range(len(checkpoint.history)))
    if history_csv is not None:
        write_history_csv(history_csv, checkpoint.history)
    return model, history


def data_digest(split: Split) -> str:
    """A SHA-256 of the split's texts and labels, to check a resumed run reads the same data.

    For a streamed file, of its path, size and modification time (reading it again would take a pass).
    """
    digest = hashlib.sha256()
    if not isinstance(split.train, Dataset):  # streamed: the file as it is on disk, not read again
        source = split.train.source.path
        stat = source.stat()
        digest.update(f"{source.resolve()}\t{stat.st_size}\t{stat.st_mtime_ns}".encode("utf-8", "surrogatepass"))
        return digest.hexdigest()
    for part in (split.train, split.validation):
        for text, label in zip(part.texts, part.labels):
            digest.update(f"{int(label)}\t{len(text)}\t{text}\n".encode("utf-8", "surrogatepass"))
        digest.update(b"--\n")
    return digest.hexdigest()


def prepare_backup(backup: Path, config: Config, split: Split, resume: bool, out_dir: Path) -> None:
    """Start a fresh backup, or check that the one to resume was made with the same config and data."""
    run = {"config": to_dict(config), "data_sha256": data_digest(split)}
    if not resume:
        shutil.rmtree(backup, ignore_errors=True)
        backup.mkdir()
        artifact.write_json(backup / CHECKPOINT_RUN, run)
        return
    if not (backup / CHECKPOINT_RUN).is_file():
        raise SentimentError(
            f"Nothing to resume for {out_dir}: no interrupted run was found ({backup} does not exist); "
            "train without --resume."
        )
    previous = json.loads((backup / CHECKPOINT_RUN).read_text(encoding="utf-8"))
    for section, values in run["config"].items():
        if section == "data":
            continue  # where the data comes from may be spelt differently; the digest checks its content
        for key, value in values.items():
            before = previous["config"].get(section, {}).get(key)
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
def training_run(out_dir: Path, config: Config, split: Split, resume: bool) -> Iterator[Path]:
    """Lock ``out_dir`` and yield its backup directory, fresh or checked for ``resume``.

    The backup is removed when the body succeeds or diverges (a resumed
    diverged run would diverge again) and kept after any other failure or
    interruption, for ``--resume``.
    """
    backup = artifact.backup_path(out_dir)
    with artifact.target_lock(out_dir):
        prepare_backup(backup, config, split, resume, out_dir)
        try:
            yield backup
        except TrainingDiverged as exc:
            shutil.rmtree(backup, ignore_errors=True)
            kept = f"the model in {out_dir} is unchanged" if out_dir.exists() else f"nothing was written to {out_dir}"
            raise SentimentError(f"{str(exc)[:-1]}; {kept}.") from None
        shutil.rmtree(backup, ignore_errors=True)


def distributed_output(config: Config, out_dir: Path):
    """``artifact.staged_directory(out_dir)``; a multi-worker run's non-chief workers get a scratch directory."""
    if config.train.distribute == "multi-worker":
        from sentiment_rnn.distributed import worker_output

        return worker_output(out_dir)
    return artifact.staged_directory(out_dir)


def run_and_backup(config: Config, out_dir: Path, split: Split, resume: bool):
    """:func:`training_run` (lock and per-epoch backup); a multi-worker run's non-chief workers neither lock nor back up."""
    if config.train.distribute == "multi-worker":
        from sentiment_rnn.distributed import is_chief

        if not is_chief():
            return contextlib.nullcontext(None)
    return training_run(out_dir, config, split, resume)


def train(
    config: Config,
    out_dir: str | Path,
    dataset: Dataset | None = None,
    verbose: int | str = "auto",
    resume: bool = False,
    callbacks: Sequence[Any] = (),
) -> TrainResult:
    """Train the configured model and write its model directory atomically.

    While training, ``out_dir`` is locked (a second run into it is refused) and
    every finished epoch is backed up in ``.NAME.backup`` beside it; an
    interrupted run continues from there with ``resume=True`` and ends at the
    weights an uninterrupted run would have reached. The backup is removed
    once the model directory is written, or when training diverges.

    Args:
        config: the full config; ``config.data`` names the data unless ``dataset`` is given.
        out_dir: the model directory to create or replace.
        dataset: data to use instead of ``config.data``.
        verbose: Keras ``fit`` verbosity (``"auto"``: a progress bar; 0: silent).
            Progress and status lines go to stderr, and only when it is a terminal.
        resume: continue the interrupted run into ``out_dir`` (same config and data).
        callbacks: extra Keras callbacks for ``fit``, e.g. :func:`tensorboard_callback`.

    Returns:
        A TrainResult with the validation metrics of the restored best weights;
        ``plot`` is the written ``training.png``, or None without matplotlib.

    Raises:
        SentimentError: bad data, another run writing ``out_dir``, nothing to
            resume, or a diverged run (``out_dir`` is then left as it was).
    """
    from sentiment_rnn.engine import write_engine_files
    from sentiment_rnn.models import TOKENIZER_LAYER, with_view

    if config.train.distribute != "none":
        from sentiment_rnn.distributed import make_strategy

        if resume:
            raise SentimentError(
                f"--resume does not work with train.distribute = {config.train.distribute}: "
                "train again without --resume."
            )
        make_strategy(config.train.distribute)  # before any TensorFlow op: collectives are set up at start-up
    if dataset is None and config.data.streaming:
        from sentiment_rnn.models import make_tokenizer
        from sentiment_rnn.streaming import open_stream

        progress.note(f"Streaming {config.data.path or 'the built-in corpus'}", quiet=not verbose)
        dataset, train_part, validation_part = open_stream(config, make_tokenizer(config))
        split = Split(train=train_part, validation=validation_part)
    else:
        if dataset is None:
            data = config.data
            what = data.path or (f"{data.pos} + {data.neg}" if data.pos or data.neg else "the built-in corpus")
            progress.note(f"Reading {what}", quiet=not verbose)
            dataset = load_training_data(config)
        split = split_dataset(dataset, config.train.validation_split, config.train.seed)
    out_dir = Path(out_dir)
    with (
        run_and_backup(config, out_dir, split, resume) as backup,
        distributed_output(config, out_dir) as staging,
    ):
        model, history = fit(
            config,
            split,
            history_csv=staging / artifact.HISTORY_FILE,
            verbose=verbose,
            backup=backup,
            callbacks=callbacks,
        )
        evaluation = model.evaluate(validation_batches(config, split.validation), verbose=0, return_dict=True)
        metrics = {name: float(value) for name, value in evaluation.items()}
        metrics["n"] = len(split.validation)
        val_losses = history.history["val_loss"]
        best_epoch = int(np.argmin(val_losses)) + 1
        saved = model
        if config.model.kind == "rnn" and (config.model.stateful or config.model.return_sequences):
            saved = with_view(
                model,
                config.model,
                stateful=config.model.stateful,
                batch_size=config.model.stateful_batch_size,
                return_sequences=config.model.return_sequences,
            )
        saved.save(staging / artifact.MODEL_FILE)
        (staging / artifact.CONFIG_FILE).write_text(to_toml(config), encoding="utf-8")
        artifact.write_json(staging / artifact.VOCABULARY_FILE, list(model.get_layer(TOKENIZER_LAYER).get_vocabulary()))
        artifact.write_json(staging / artifact.METRICS_FILE, metrics)
        write_engine_files(model, config, staging)
        summary = {
            "source": dataset.source,
            "rows": len(dataset),
            "skipped": dataset.skipped,
            "labels": dataset.label_counts(),
            "train_rows": len(split.train),
            "validation_rows": len(split.validation),
            "epochs_run": len(val_losses),
            "best_epoch": best_epoch,
        }
        artifact.write_json(staging / artifact.META_FILE, artifact.meta_for(config, summary))
        plotted = plots.write_training_plot(staging / artifact.HISTORY_FILE, staging / plots.PLOT_FILE, best_epoch)
    plot = out_dir / plots.PLOT_FILE if plotted else None
    return TrainResult(out_dir, metrics, len(val_losses), best_epoch, model, split, dataset.skipped, plot)


def tensorboard_callback(log_dir: str | Path):
    """Keras's ``TensorBoard`` callback writing to ``log_dir`` (per-epoch scalars and the graph).

    Raises:
        SentimentError: when the ``tensorboard`` package, which writes the logs, is not installed.
    """
    import importlib.util

    if importlib.util.find_spec("tensorboard") is None:
        raise SentimentError(
            "--tensorboard needs the tensorboard package: install it with pip install 'sentiment-rnn[tensorboard]'."
        )
    from sentiment_rnn.tf_setup import import_keras

    return import_keras().callbacks.TensorBoard(log_dir=str(log_dir))
