"""The training step: it sees token ids the input pipeline made, and runs train.steps_per_execution at a call."""

from __future__ import annotations

import numpy as np
import pytest
from model_factory import VOCABULARY_TEXTS, randomized_model

from conftest import TINY_OVERRIDES, tiny_split
from sentiment_rnn.config import load_config
from sentiment_rnn.errors import SentimentError
from sentiment_rnn.training.pipeline import steps_per_epoch


@pytest.mark.parametrize("kind", ["rnn", "bow", "hybrid"])
def test_the_token_id_view_on_tokenized_batches_gives_the_end_to_end_probabilities(kind):
    import tensorflow as tf

    from sentiment_rnn.models import token_id_model, vectorizer_layers
    from sentiment_rnn.training.pipeline import tokenized

    model, _ = randomized_model(f"model.kind={kind!r}")
    texts = [*VOCABULARY_TEXTS, "", "words it never saw"]
    batches = tf.data.Dataset.from_tensor_slices((texts, np.zeros(len(texts), np.float32))).batch(len(texts))
    [(inputs, labels)] = list(tokenized(batches, vectorizer_layers(model)))
    assert labels.shape == (len(texts),)
    expected = model(tf.constant(texts)).numpy()
    np.testing.assert_array_equal(token_id_model(model)(inputs).numpy(), expected)


def test_the_token_id_view_shares_the_weights_of_the_end_to_end_model():
    from sentiment_rnn.models import token_id_model

    model, _ = randomized_model("model.kind='rnn'")
    view = token_id_model(model)
    assert [id(v) for v in view.trainable_variables] == [id(v) for v in model.trainable_variables]
    assert view.input.dtype == "int64" and model.input.dtype == "string"


@pytest.mark.parametrize("per_execution", [1, 3])
def test_an_epoch_runs_each_of_its_batches_once_whatever_the_steps_per_execution(per_execution):
    from sentiment_rnn.training.fit import fit

    split = tiny_split()
    steps = steps_per_epoch(len(split.train), 5)
    assert steps % 3  # the last call of an epoch has fewer steps than the others
    config = load_config(
        overrides=[
            *TINY_OVERRIDES,
            "train.batch_size=5",
            f"train.steps_per_execution={per_execution}",
            "train.epochs=2",
            "train.patience=5",
        ]
    )
    model, history, _ = fit(config, split, verbose=0)
    assert int(model.optimizer.iterations) == 2 * steps
    assert len(history.history["val_loss"]) == 2
    assert model.input.dtype == "string"  # the returned model is the end-to-end one


def test_steps_per_execution_with_a_fixed_epoch_length():
    from sentiment_rnn.training.fit import fit

    config = load_config(
        overrides=[*TINY_OVERRIDES, "train.steps_per_execution=2", "train.steps_per_epoch=4", "train.epochs=2"]
    )
    model = fit(config, tiny_split(), verbose=0).model
    assert int(model.optimizer.iterations) == 8


def test_steps_per_execution_must_be_at_least_one():
    with pytest.raises(SentimentError) as info:
        load_config(overrides=["train.steps_per_execution=0"])
    assert str(info.value) == "Config key train.steps_per_execution must be at least 1, got 0."


def test_a_fixed_epoch_length_must_be_a_multiple_of_the_steps_per_execution():
    with pytest.raises(SentimentError) as info:
        load_config(overrides=["train.steps_per_execution=4", "train.steps_per_epoch=10"])
    assert str(info.value) == (
        "Config sets train.steps_per_epoch = 10, not a multiple of train.steps_per_execution = 4: an epoch's "
        "last call would run into the next epoch's batches. Set train.steps_per_epoch to a multiple of it."
    )


def test_resume_is_refused_with_several_steps_per_execution(tmp_path):
    from click.testing import CliRunner

    from sentiment_rnn.cli import cli

    result = CliRunner().invoke(
        cli, ["train", "--set", "train.steps_per_execution=2", "--resume", "--out", str(tmp_path / "model")]
    )
    assert result.exit_code == 1
    assert result.output == (
        "Error: --resume does not work with train.steps_per_execution above 1 (the batch order after an "
        "interruption would differ from an uninterrupted run): train again without --resume.\n"
    )
    assert not (tmp_path / "model").exists()
