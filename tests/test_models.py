"""The recurrent model: masking, stacking, bidirectional, stateful and per-token views."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import PATHS_ATOL
from sentiment_rnn.config import load_config
from sentiment_rnn.errors import SentimentError
from sentiment_rnn.inference import keras_predict_proba
from sentiment_rnn.models import build_model, make_tokenizer, recurrent_layer_name, with_view

VOCABULARY_TEXTS = ["this phone is no good", "no , this phone is good", "the battery is not bad at all"]
SENTENCE = "no, this phone is good"
LONG = "the battery is not bad at all and this phone is good " * 6


def build(*overrides, **view):
    import tensorflow as tf

    config = load_config(overrides=["model.output_dim=6", "model.units=5", *overrides])
    tokenizer = make_tokenizer(config)
    tokenizer.adapt(tf.constant(VOCABULARY_TEXTS))
    return build_model(config, tokenizer, **view), config


ARCHITECTURES = [
    [],
    ["model.cell=gru"],
    ["model.cell=lstm"],
    ["model.layers=3"],
    ["model.bidirectional=true"],
    ["model.bidirectional=true", "model.merge_mode=sum", "model.cell=gru", "model.layers=2"],
]


@pytest.mark.parametrize("overrides", ARCHITECTURES, ids=lambda o: " ".join(o) or "default")
def test_prediction_does_not_depend_on_padding(overrides):
    import tensorflow as tf

    model, config = build(*overrides)
    alone = keras_predict_proba(model, [SENTENCE])[0]
    beside_long = keras_predict_proba(model, [SENTENCE, LONG, ""])[0]
    trailing_spaces = keras_predict_proba(model, [SENTENCE + "        "])[0]
    padded = build(*overrides, "tokenizer.output_sequence_length=40")[0]
    padded.set_weights(model.get_weights())
    assert padded.get_layer("tokenizer")(tf.constant([SENTENCE])).shape == (1, 40)
    padded_longer = keras_predict_proba(padded, [SENTENCE])[0]
    assert abs(alone - beside_long) < 1e-6
    assert abs(alone - trailing_spaces) < 1e-6
    assert abs(alone - padded_longer) < 1e-6


def test_stacked_layers_return_sequences_below_the_top():
    model, _ = build("model.layers=3")
    flags = [model.get_layer(recurrent_layer_name(i)).return_sequences for i in range(3)]
    assert flags == [True, True, False]
    assert model.output.shape == (None, 1)


def test_per_token_view_ends_at_the_many_to_one_probability():
    import tensorflow as tf

    model, config = build("model.layers=2")
    per_token = with_view(model, config.model, return_sequences=True)
    steps = np.asarray(per_token(tf.constant([SENTENCE, LONG])))
    assert steps.shape[0] == 2 and steps.shape[2] == 1
    n_tokens = len("no , this phone is good".split())
    # The first text is padded to the second's length; masked steps repeat the last real one.
    np.testing.assert_allclose(steps[0, n_tokens - 1 :, 0], steps[0, n_tokens - 1, 0], atol=1e-7)
    np.testing.assert_allclose(
        keras_predict_proba(per_token, [SENTENCE]), keras_predict_proba(model, [SENTENCE]), atol=1e-6
    )


@pytest.mark.parametrize("cell", ["simple", "gru", "lstm"])
def test_stateful_streaming_equals_one_shot(cell):
    import tensorflow as tf

    from sentiment_rnn.models import reset_states

    model, config = build(f"model.cell={cell}", "model.layers=2")
    stateful = with_view(model, config.model, stateful=True, batch_size=1)
    one_shot = keras_predict_proba(model, [LONG])[0]
    chunks = [
        "the battery is not bad at",
        "all and this phone",
        "is good " + LONG[len("the battery is not bad at all and this phone is good ") :],
    ]
    assert " ".join(chunks).split() == LONG.split()
    reset_states(stateful)
    for chunk in chunks:
        streamed = float(stateful(tf.constant([chunk]))[0, 0])
    assert abs(streamed - one_shot) < 1e-6
    reset_states(stateful)
    first_chunk_again = float(stateful(tf.constant([chunks[0]]))[0, 0])
    assert abs(first_chunk_again - keras_predict_proba(model, [chunks[0]])[0]) < 1e-6


def test_stateful_bidirectional_is_refused():
    model, config = build("model.bidirectional=true")
    with pytest.raises(SentimentError, match="A stateful model cannot be bidirectional"):
        with_view(model, config.model, stateful=True)


def test_simple_rnn_computes_the_classic_recurrence():
    """With constant weights, the model's output is sigmoid(V s(T) + c), s(t) = tanh(U x(t) + W s(t-1) + b)."""
    import tensorflow as tf

    model, _ = build("model.units=3", "model.output_dim=2")
    embedding = model.get_layer("embedding")
    rnn = model.get_layer(recurrent_layer_name(0))
    head = model.get_layer("head")
    table = np.arange(embedding.input_dim * 2, dtype="float32").reshape(-1, 2) / 50.0
    U = np.array([[0.1, -0.2, 0.3], [0.05, 0.4, -0.1]], dtype="float32")  # (input, units)
    W = np.full((3, 3), 0.2, dtype="float32")
    b = np.array([0.01, 0.02, -0.03], dtype="float32")
    V, c = np.array([[0.5], [-0.25], [1.0]], dtype="float32"), np.array([0.1], dtype="float32")
    embedding.set_weights([table])
    rnn.set_weights([U, W, b])
    head.set_weights([V, c])
    ids = np.asarray(model.get_layer("tokenizer")(tf.constant([SENTENCE])))[0]
    state = np.zeros(3)
    for token_id in ids:
        state = np.tanh(table[token_id] @ U + state @ W + b)
    expected = 1.0 / (1.0 + np.exp(-(state @ V + c)))
    assert abs(keras_predict_proba(model, [SENTENCE])[0] - expected[0]) < 1e-6


def test_bag_of_words_model_gives_same_words_the_same_answer():
    model, _ = build("model.kind=bow")
    from sentiment_rnn.compare.bags import predict_one_by_one

    texts = ["this phone is no good", "no this phone is good"]
    a, b = keras_predict_proba(model, texts)
    assert a == pytest.approx(b, rel=0, abs=PATHS_ATOL)  # in one batch, rows 0 and 1 may be summed apart
    alone_a, alone_b = predict_one_by_one(model, texts)
    assert alone_a == alone_b  # alone, an equal multi-hot vector goes through the same arithmetic
