"""Keras knows the number of steps of every epoch: a bar with a total, no "Unknown", no "ran out of data"."""

from __future__ import annotations

import contextlib
import io
import warnings

import pytest

from conftest import NEGATIVE, POSITIVE, TINY_OVERRIDES, write_csv
from sentiment_rnn.config import load_config
from sentiment_rnn.presets import preset_names
from sentiment_rnn.training.pipeline import (
    batch_count,
    split_dataset,
    training_batches,
    training_input,
    validation_batches,
)

# Texts of 1 to 40 tokens, so length buckets get full and partial batches.
VARIED = [(" ".join([word] * n), n % 2) for n in range(1, 41) for word in ("good", "bad")]


def varied_rows():
    return [(text, label) for text, label in VARIED] + [(t, 1) for t in POSITIVE] + [(t, 0) for t in NEGATIVE]


@pytest.mark.parametrize("streaming", [False, True])
@pytest.mark.parametrize("bucket", [False, True])
def test_epoch_steps_is_the_number_of_batches_training_yields(tmp_path, streaming, bucket):
    from sentiment_rnn.data.formats import read_dataset
    from sentiment_rnn.data.stream import open_stream
    from sentiment_rnn.models import make_tokenizer

    data = write_csv(tmp_path / "varied.csv", varied_rows())
    config = load_config(
        overrides=[
            *TINY_OVERRIDES,
            f"data.path={str(data)!r}",
            f"data.streaming={str(streaming).lower()}",
            f"train.bucket_by_length={str(bucket).lower()}",
            "train.batch_size=5",
        ]
    )
    if streaming:
        _, train_part, validation_part = open_stream(config, make_tokenizer(config))
    else:
        split = split_dataset(read_dataset(data), 0.25, 42)
        train_part, validation_part = split.train, split.validation
    validation = validation_batches(config, validation_part)
    assert int(validation.cardinality()) == sum(1 for _ in validation) == batch_count(validation_part, 256, bucket)
    batches = training_batches(config, train_part)
    counted = sum(1 for _ in batches)
    assert batch_count(train_part, 5, bucket) == int(batches.cardinality()) == counted  # the bar's total
    if bucket:
        assert counted > -(-len(train_part) // 5)  # each bucket ends in its own partial batch
    else:
        assert counted == -(-len(train_part) // 5)


def tiny_preset(preset, data):
    from sentiment_rnn.presets import preset_path

    tiny = [*TINY_OVERRIDES, "train.epochs=2", "train.patience=5", f"data.path={str(data)!r}"]
    tiny += ["model.layers=1", "model.units=4", "model.output_dim=4", "data.pos=''", "data.neg=''", "data.sources=[]"]
    return load_config(preset_path(preset), tiny)


@pytest.mark.parametrize("preset", preset_names())
def test_every_shipped_config_gives_keras_inputs_of_known_length(tmp_path, preset):
    from sentiment_rnn.data.formats import read_dataset

    config = tiny_preset(preset, write_csv(tmp_path / "varied.csv", varied_rows()))
    split = split_dataset(read_dataset(config.data.path), config.train.validation_split, config.train.seed)
    batches, steps = training_input(config, split.train, first_epoch=0)
    one_pass = batch_count(split.train, config.train.batch_size, config.train.bucket_by_length)
    if steps is None:  # one tf.data pass an epoch: Keras reads the total from its cardinality
        assert int(batches.cardinality()) == one_pass
    else:  # all epochs in one pipeline, which Keras reads steps at a time
        assert steps == one_pass and sum(1 for _ in batches) == one_pass * config.train.epochs
    assert int(validation_batches(config, split.validation).cardinality()) == batch_count(
        split.validation, 256, config.train.bucket_by_length
    )


def test_a_shipped_config_trains_with_a_total_and_no_warning(tmp_path):
    from sentiment_rnn.data.formats import read_dataset
    from sentiment_rnn.training.run import train

    config = tiny_preset("mr", write_csv(tmp_path / "varied.csv", varied_rows()))
    assert config.train.bucket_by_length
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.ExitStack() as stack:
        stack.enter_context(contextlib.redirect_stdout(stdout))
        stack.enter_context(contextlib.redirect_stderr(stderr))
        caught = stack.enter_context(warnings.catch_warnings(record=True))
        warnings.simplefilter("always")
        train(config, tmp_path / "model", verbose=1)
    shown = stderr.getvalue()
    split = split_dataset(read_dataset(config.data.path), config.train.validation_split, config.train.seed)
    steps = batch_count(split.train, config.train.batch_size, bucket_by_length=True)
    assert "Unknown" not in shown and "ran out of data" not in shown
    assert [str(w.message) for w in caught if "ran out of data" in str(w.message)] == []
    assert shown.count(f"{steps}/{steps}") >= 2  # the bar reaches its total in both epochs
