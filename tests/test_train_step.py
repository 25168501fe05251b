"""The training step: it sees token ids the input pipeline made."""

from __future__ import annotations

import numpy as np
import pytest
from model_factory import VOCABULARY_TEXTS, randomized_model


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
