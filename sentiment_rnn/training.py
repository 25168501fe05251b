"""Fit a model from config and write its model directory."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sentiment_rnn import artifact
from sentiment_rnn.config import Config, to_toml
from sentiment_rnn.data import Dataset, builtin_corpus, read_dataset
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


def load_training_data(config: Config) -> Dataset:
    """The dataset ``config.data`` names, or the built-in corpus when its path is empty."""
    if not config.data.path:
        return builtin_corpus()
    return read_dataset(
        config.data.path,
        text_column=config.data.text_column,
        label_column=config.data.label_column,
        encoding=config.data.encoding,
    )


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


def training_callbacks(config: Config, history_csv: Path | None = None) -> list:
    """The Keras callbacks of every ``fit``: early stopping with the best weights restored, NaN stop, CSV log."""
    from sentiment_rnn.tf_setup import import_keras

    keras = import_keras()
    callbacks = [
        keras.callbacks.EarlyStopping(monitor="val_loss", patience=config.train.patience, restore_best_weights=True),
        keras.callbacks.TerminateOnNaN(),
    ]
    if history_csv is not None:
        callbacks.append(keras.callbacks.CSVLogger(str(history_csv)))
    return callbacks


def fit(config: Config, split: Split, history_csv: Path | None = None, verbose: int | str = "auto"):
    """Adapt the tokenizer and fit the configured model on ``split``.

    Returns:
        (model, keras History). The model holds the best weights by validation loss.

    Raises:
        SentimentError: when the loss becomes NaN (the last good weights are kept).
    """
    from sentiment_rnn.models import build_model, compile_model, make_tokenizer

    if config.train.distribute != "none":
        from sentiment_rnn.distributed import fit_distributed

        return fit_distributed(config, split, history_csv=history_csv, verbose=verbose)
    seed_everything(config.train.seed)
    tokenizer = make_tokenizer(config)
    adapt_tokenizer(tokenizer, split.train)
    model = build_model(config, tokenizer, stateful=False, return_sequences=False)
    compile_model(model, config)
    history = model.fit(
        training_batches(config, split.train),
        validation_data=string_dataset(split.validation, 256),
        epochs=config.train.epochs,
        steps_per_epoch=config.train.steps_per_epoch or None,
        callbacks=training_callbacks(config, history_csv),
        verbose=verbose,
    )
    if any(np.isnan(loss) for loss in history.history.get("loss", [])):
        raise SentimentError(
            "Training diverged (the loss became NaN): lower train.learning_rate or train.clipnorm and retrain."
        )
    return model, history


def distributed_output(config: Config, out_dir: Path):
    """``artifact.staged_directory(out_dir)``; a multi-worker run's non-chief workers get a scratch directory."""
    if config.train.distribute == "multi-worker":
        from sentiment_rnn.distributed import worker_output

        return worker_output(out_dir)
    return artifact.staged_directory(out_dir)


def train(
    config: Config, out_dir: str | Path, dataset: Dataset | None = None, verbose: int | str = "auto"
) -> TrainResult:
    """Train the configured model and write its model directory atomically.

    Args:
        config: the full config; ``config.data`` names the data unless ``dataset`` is given.
        out_dir: the model directory to create or replace.
        dataset: data to use instead of ``config.data``.
        verbose: Keras ``fit`` verbosity (``"auto"``: a progress bar; 0: silent).

    Returns:
        A TrainResult with the validation metrics of the restored best weights.
    """
    from sentiment_rnn.models import TOKENIZER_LAYER, with_view

    if config.train.distribute != "none":
        from sentiment_rnn.distributed import make_strategy

        make_strategy(config.train.distribute)  # before any TensorFlow op: collectives are set up at start-up
    if dataset is None and config.data.streaming:
        from sentiment_rnn.models import make_tokenizer
        from sentiment_rnn.streaming import open_stream

        dataset, train_part, validation_part = open_stream(config, make_tokenizer(config))
        split = Split(train=train_part, validation=validation_part)
    else:
        dataset = dataset if dataset is not None else load_training_data(config)
        split = split_dataset(dataset, config.train.validation_split, config.train.seed)
    out_dir = Path(out_dir)
    with distributed_output(config, out_dir) as staging:
        model, history = fit(config, split, history_csv=staging / artifact.HISTORY_FILE, verbose=verbose)
        evaluation = model.evaluate(string_dataset(split.validation, 256), verbose=0, return_dict=True)
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
    return TrainResult(out_dir, metrics, len(val_losses), best_epoch, model, split)
