"""Fit a model from config and write its model directory."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sentiment_rnn import artifact
from sentiment_rnn.config import Config, to_toml
from sentiment_rnn.data import Dataset, dataset_from_config
from sentiment_rnn.errors import SentimentError


@dataclass(frozen=True)
class Split:
    """A dataset cut in two by a seeded shuffle: ``train`` to fit, ``validation`` to stop and report."""

    train: Dataset
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


LENGTH_BUCKETS = (8, 16, 32, 64, 128, 256, 512)  # word-count boundaries for bucket_by_length


def string_dataset(dataset: Dataset, batch_size: int, shuffle_seed: int | None = None, bucket_by_length: bool = False):
    """A ``tf.data`` pipeline of (text (B,) string, label (B,) float32) batches.

    With ``bucket_by_length``, each batch takes texts of similar word count
    (boundaries ``LENGTH_BUCKETS``), so little time goes to masked padding;
    batches still come in a seeded random order.
    """
    import tensorflow as tf

    texts = tf.constant(dataset.texts, dtype=tf.string)
    labels = dataset.labels.astype(np.float32)
    if not bucket_by_length:
        ds = tf.data.Dataset.from_tensor_slices((texts, labels))
        if shuffle_seed is not None:
            ds = ds.shuffle(len(dataset), seed=shuffle_seed, reshuffle_each_iteration=True)
        return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)
    # Word counts are computed here, so the number of batches is known: each bucket
    # gives ceil(its size / batch_size) batches, whatever the order. Keras needs that
    # number to run every epoch to its end.
    word_counts = np.array([len(text.split()) for text in dataset.texts], dtype=np.int32)
    bucket_sizes = np.bincount(np.searchsorted(LENGTH_BUCKETS, word_counts, side="right"))
    n_batches = int(np.sum(-(-bucket_sizes // batch_size)))
    ds = tf.data.Dataset.from_tensor_slices((texts, labels, word_counts))
    if shuffle_seed is not None:
        ds = ds.shuffle(len(dataset), seed=shuffle_seed, reshuffle_each_iteration=True)
    ds = ds.bucket_by_sequence_length(
        element_length_func=lambda text, label, count: count,
        bucket_boundaries=list(LENGTH_BUCKETS),
        bucket_batch_sizes=[batch_size] * (len(LENGTH_BUCKETS) + 1),
    )
    ds = ds.map(lambda text, label, count: (text, label))
    ds = ds.apply(tf.data.experimental.assert_cardinality(n_batches))
    return ds.prefetch(tf.data.AUTOTUNE)


def fit(config: Config, split: Split, history_csv: Path | None = None, verbose: int | str = "auto"):
    """Adapt the tokenizer and fit the configured model on ``split``.

    Returns:
        (model, keras History). The model holds the best weights by validation loss.

    Raises:
        SentimentError: when the loss becomes NaN (the last good weights are kept).
    """
    from sentiment_rnn.models import build_model, compile_model, make_tokenizer
    from sentiment_rnn.tf_setup import import_keras

    keras = import_keras()
    seed_everything(config.train.seed)
    tokenizer = make_tokenizer(config)
    tokenizer.adapt(string_dataset(split.train, 1024).map(lambda text, label: text))
    model = build_model(config, tokenizer, stateful=False, return_sequences=False)
    if config.model.embeddings:
        from sentiment_rnn.embeddings import initialise_embedding
        from sentiment_rnn.models import EMBEDDING_LAYER

        initialise_embedding(model.get_layer(EMBEDDING_LAYER), tokenizer.get_vocabulary(), config.model.embeddings)
    compile_model(model, config)
    callbacks = [
        keras.callbacks.EarlyStopping(monitor="val_loss", patience=config.train.patience, restore_best_weights=True),
        keras.callbacks.TerminateOnNaN(),
    ]
    if history_csv is not None:
        callbacks.append(keras.callbacks.CSVLogger(str(history_csv)))
    history = model.fit(
        string_dataset(
            split.train,
            config.train.batch_size,
            shuffle_seed=config.train.seed,
            bucket_by_length=config.train.bucket_by_length,
        ),
        validation_data=string_dataset(split.validation, 256),
        epochs=config.train.epochs,
        shuffle=False,  # the tf.data pipeline shuffles, seeded
        callbacks=callbacks,
        verbose=verbose,
    )
    if any(np.isnan(loss) for loss in history.history.get("loss", [])):
        raise SentimentError(
            "Training diverged (the loss became NaN): lower train.learning_rate or train.clipnorm and retrain."
        )
    return model, history


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

    dataset = dataset if dataset is not None else load_training_data(config)
    split = split_dataset(dataset, config.train.validation_split, config.train.seed)
    out_dir = Path(out_dir)
    with artifact.staged_directory(out_dir) as staging:
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
