"""Training data as tf.data batches: the seeded split, shuffling, length buckets, the epoch order a resume replays.

Length bucketing (``train.bucket_by_length = true``) groups texts of similar
token counts into batches (``tf.data.Dataset.bucket_by_sequence_length``), so a
batch is padded to its own longest text and short texts do not wait on long
ones. Padding is masked in the model, so only speed changes, not what a text
gets as its prediction.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sentiment_rnn.config import Config
from sentiment_rnn.data.dataset import Dataset
from sentiment_rnn.data.formats import dataset_from_config
from sentiment_rnn.data.stream import READ_BATCH, StreamPart
from sentiment_rnn.errors import SentimentError
from sentiment_rnn.text import token_counts

# Token-count limits of the length buckets: a batch holds texts within one interval,
# so it is padded by at most about a quarter of its length.
BUCKET_BOUNDARIES = (
    *(2, 3, 4, 5, 6, 7, 8, 10, 12, 14, 16, 20, 24, 28, 32, 40, 48, 56, 64, 80, 96, 112, 128),
    *(160, 192, 224, 256, 320, 384, 448, 512, 640, 768, 896, 1024),
)
BUCKETED_BATCH_SHUFFLE = 32  # batches shuffled after bucketing, so lengths do not come in runs

LabelledTexts = Dataset | StreamPart  # texts and labels in memory, or one side of a streamed file


@dataclass(frozen=True)
class Split:
    """Labelled texts cut in two by a seeded shuffle: ``train`` to fit, ``validation`` to stop and report.

    Both sides are Datasets in memory, or both the StreamParts of one streamed file.
    """

    train: LabelledTexts
    validation: LabelledTexts


def load_training_data(config: Config) -> Dataset:
    """The dataset ``config.data`` names, or the built-in corpus when its path is empty."""
    return dataset_from_config(config.data)


def read_test_data(config: Config) -> Dataset:
    """The test file ``data.test_path`` names, read with the data options of the training data (both classes not required)."""
    import dataclasses

    data = dataclasses.replace(config.data, path=config.data.test_path, pos="", neg="", streaming=False)
    return dataset_from_config(data, require_both_classes=False)


def hold_out_test(dataset: Dataset, test_split: float, seed: int) -> tuple[Dataset, Dataset]:
    """(the rest, the test part): ``test_split`` of the rows (at least one), drawn with ``seed`` before any other split.

    The draw is salted, so the test part is not the validation split of the same seed.
    """
    n = len(dataset)
    n_test = max(1, round(n * test_split))
    if n - n_test < 3:
        raise SentimentError(
            f"{dataset.source} has only {n} usable rows: with a test part it needs at least 4 "
            "(2 to fit, 1 to validate, 1 to test)."
        )
    order = np.random.default_rng([seed, 7357]).permutation(n)  # 7357: "test"
    return dataset.subset(np.sort(order[n_test:])), dataset.subset(np.sort(order[:n_test]))


def split_dataset(dataset: Dataset, validation_split: float, seed: int) -> Split:
    """Shuffle with ``seed`` and hold out ``validation_split`` of the rows (at least one)."""
    n = len(dataset)
    n_validation = max(1, round(n * validation_split))
    if n - n_validation < 2:
        raise SentimentError(
            f"{dataset.source} has only {n} usable rows: training needs at least 3 (2 to fit, 1 to validate)."
        )
    order = np.random.default_rng(seed).permutation(n)
    return Split(train=dataset.subset(order[n_validation:]), validation=dataset.subset(order[:n_validation]))


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and TensorFlow, and make TensorFlow's ops deterministic on CPU."""
    from sentiment_rnn.tf_setup import import_keras

    keras = import_keras()
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


def example_stream(dataset: LabelledTexts, shuffle_seed: int | None = None):
    """The unbatched ``tf.data`` stream of (text () string, label () float32) pairs.

    Args:
        dataset: a Dataset in memory, or one side of a streamed file.
        shuffle_seed: shuffle (re-drawn every epoch) with this seed; None keeps the order.
    """
    import tensorflow as tf

    if isinstance(dataset, StreamPart):
        return dataset.examples(shuffle_seed)
    examples = tf.data.Dataset.from_tensor_slices(
        (tf.constant(dataset.texts, dtype=tf.string), dataset.labels.astype(np.float32))
    )
    if shuffle_seed is not None:
        examples = examples.shuffle(len(dataset), seed=shuffle_seed, reshuffle_each_iteration=True)
    return examples


def text_batches(
    dataset: LabelledTexts, batch_size: int, shuffle_seed: int | None = None, bucket_by_length: bool = False
):
    """A ``tf.data`` pipeline of (text (B,) string, label (B,) float32) batches, of known cardinality.

    Args:
        dataset, shuffle_seed: as for :func:`example_stream`.
        batch_size: texts per batch.
        bucket_by_length: group texts of similar token counts (see :func:`batch_examples`).
    """
    import tensorflow as tf

    examples = example_stream(dataset, shuffle_seed)
    batches = batch_examples(examples, batch_size, bucket_by_length)
    # Tell tf.data (and so Keras's bar) how many batches a pass holds: the bar has a total from
    # epoch 1, and Keras never runs into the end of an input of unknown length (and warns).
    batches = batches.apply(tf.data.experimental.assert_cardinality(batch_count(dataset, batch_size, bucket_by_length)))
    return batches.prefetch(tf.data.AUTOTUNE)


def tokenized(batches, vectorizers, cap: int | None = None):
    """Map (text (B,) string, label (B,)) batches to (what the vectorizers output, label (B,)).

    The tokenizing that the end-to-end model does in its first layers, done in the
    input pipeline instead (parallel to the training step), for the model's
    token-id view (``models.token_id_model``). With one vectorizer the input is
    its output, token ids (B, T) int64 (bag of words: multi-hot (B, V)); with
    several (hybrid), the tuple of their outputs in ``models.vectorizer_layers`` order.
    ``cap``: token ids beyond the first ``cap`` of each text are dropped (a stream's
    texts, which are not cut in memory; see ``budget.MAX_TRAINING_TOKENS``).
    """
    import tensorflow as tf

    sequences = tuple(vectorizer.get_config()["output_mode"] == "int" for vectorizer in vectorizers)

    def vectorize(text, label):
        outputs = tuple(vectorizer(text) for vectorizer in vectorizers)
        if cap is not None:  # token ids only: a multi-hot row (B, V) is as wide as its vocabulary
            outputs = tuple(out[:, :cap] if sequence else out for out, sequence in zip(outputs, sequences))
        return (outputs if len(outputs) > 1 else outputs[0]), label

    return batches.map(vectorize, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


def adapt_tokenizer(tokenizer, train_data: LabelledTexts, config: Config | None = None) -> None:
    """Adapt the tokenizer's vocabulary on the training data (a streamed file was adapted while read).

    With ``model.init_from``, the vocabulary is the language model's instead, so its embedding rows fit.
    """
    if config is not None and config.model.init_from:
        from sentiment_rnn.pretrained import open_language_model

        tokenizer.set_vocabulary(open_language_model(config).vocabulary.tokens)
    elif isinstance(train_data, StreamPart):
        tokenizer.set_vocabulary(train_data.vocabulary)
    else:
        tokenizer.adapt(text_batches(train_data, 1024).map(lambda text, label: text))


def training_batches(config: Config, train_data: LabelledTexts):
    """The shuffled (and maybe length-bucketed) training batches; endless when ``train.steps_per_epoch`` is set."""
    batches = text_batches(
        train_data, config.train.batch_size, config.train.seed, bucket_by_length=config.train.bucket_by_length
    )
    return batches.repeat() if config.train.steps_per_epoch else batches


def validation_batches(config: Config, validation_data: LabelledTexts):
    """The validation batches: 256 texts each, grouped by length too when ``train.bucket_by_length`` is set."""
    return text_batches(validation_data, 256, bucket_by_length=config.train.bucket_by_length)


def training_input(config: Config, train_data: LabelledTexts, first_epoch: int):
    """(batches, steps per epoch) for ``fit`` from epoch ``first_epoch`` on.

    In-memory data: :func:`epoch_batches`, so a resumed run sees the batches an
    uninterrupted one would. Streamed data, ``train.bucket_by_length``,
    ``train.steps_per_epoch`` or ``train.steps_per_execution`` above 1:
    :func:`training_batches` (a ``tf.data`` shuffle; a resumed run continues
    from the saved weights but sees other batches). Several steps per call
    need an input that ends with each epoch (or an epoch a multiple of them):
    Keras's last call of an epoch takes batches until it has run them all.
    """
    train = config.train
    exact = not train.bucket_by_length and not train.steps_per_epoch and train.steps_per_execution == 1
    if isinstance(train_data, Dataset) and exact:
        batches = epoch_batches(train_data, train.batch_size, train.seed, first_epoch, train.epochs)
        return batches, steps_per_epoch(len(train_data), train.batch_size)
    return training_batches(config, train_data), train.steps_per_epoch or None


def epoch_steps(config: Config, train_data: LabelledTexts) -> int:
    """Batches in one training epoch: ``train.steps_per_epoch``, or one pass over ``train_data`` (:func:`batch_count`)."""
    train = config.train
    return train.steps_per_epoch or batch_count(train_data, train.batch_size, train.bucket_by_length)


def batch_count(dataset: LabelledTexts, batch_size: int, bucket_by_length: bool = False) -> int:
    """Batches in one pass over ``dataset`` as :func:`text_batches` makes them.

    Without length buckets: ``ceil(rows / batch_size)``. With them, every
    bucket ends in its own partial batch, so it is the sum over buckets of
    ``ceil(texts in the bucket / batch_size)``, from the token counts of the
    texts (in memory: counted here; streamed: counted in the reading pass).
    """
    if not bucket_by_length:
        return steps_per_epoch(len(dataset), batch_size)
    if isinstance(dataset, StreamPart):
        lengths, counts = np.arange(len(dataset.length_counts)), np.asarray(dataset.length_counts)
    else:
        lengths = np.concatenate(
            [
                [0],
                *(token_counts(dataset.texts[i : i + READ_BATCH]).numpy() for i in range(0, len(dataset), READ_BATCH)),
            ]
        )
        counts = np.ones_like(lengths)
        counts[0] = 0
    buckets = np.searchsorted(BUCKET_BOUNDARIES, lengths, side="right")  # as bucket_by_sequence_length assigns
    per_bucket = np.bincount(buckets, weights=counts, minlength=len(BUCKET_BOUNDARIES) + 1).astype(np.int64)
    return int(sum(steps_per_epoch(int(n), batch_size) for n in per_bucket))


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
    """Batches of ``batch_size`` in one pass over ``n`` examples (the last one may be smaller)."""
    return -(-n // batch_size)


def batch_examples(examples, batch_size: int, bucket_by_length: bool = False):
    """Batch a stream of ``(text, label)`` pairs, optionally grouping texts of similar length.

    Args:
        examples: unbatched ``tf.data`` of (text () string, label () float32).
        batch_size: texts per batch (the last batch of each bucket may be smaller).
        bucket_by_length: group by token count into the :data:`BUCKET_BOUNDARIES`
            intervals; a batch is emitted when its bucket is full, then batches are
            shuffled within a buffer of :data:`BUCKETED_BATCH_SHUFFLE` (seeded by the
            global seed that ``seed_everything`` sets).

    Returns:
        ``tf.data`` of (text (B,) string, label (B,) float32).
    """
    import tensorflow as tf

    if not bucket_by_length:
        return examples.batch(batch_size)
    with_lengths = (
        examples.batch(READ_BATCH)
        .map(lambda text, label: (text, label, token_counts(text)), num_parallel_calls=tf.data.AUTOTUNE)
        .unbatch()
    )
    grouped = with_lengths.bucket_by_sequence_length(
        lambda text, label, length: length,
        bucket_boundaries=list(BUCKET_BOUNDARIES),
        bucket_batch_sizes=[batch_size] * (len(BUCKET_BOUNDARIES) + 1),
        no_padding=True,
    )
    # Buckets fill at different rates and flush in bucket order at the end of the
    # data: shuffling whole batches keeps steps on short and long texts interleaved.
    return grouped.map(lambda text, label, length: (text, label)).shuffle(BUCKETED_BATCH_SHUFFLE)
