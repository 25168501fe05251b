"""The NumPy language model: the recurrence with a softmax over the vocabulary for a head.

The same cells and loop as the classifiers (``cells``); after each token the
top state s(t) is projected to the embedding's size and multiplied by the
embedding matrix itself (tied weights), giving the next word's logits:

    x(t) = E[id(t)]                       (D,)
    s(t) = cell(x(t), s(t-1))             (units,)   e.g. tanh(U x(t) + W s(t-1) + b)
    h(t) = P s(t) + c                     (D,)
    P(next word | words up to t) = softmax(E h(t) + output_bias)    (V,)

Id 0 stands between texts (a text starts after it and ends with it); id 1 is ``[UNK]``.
"""

from __future__ import annotations

import numpy as np

from sentiment_rnn.engine.cells import RecurrentLayer, State, as_float32, dense, single_threaded_blas


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """log softmax over the last axis, in float64: (..., V) -> (..., V)."""
    logits = logits.astype(np.float64)
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


class NumpyLanguageModel:
    """A ``kind = "lm"`` model in NumPy: token ids (B, T) -> the next word's log-probabilities (B, T, V)."""

    kind = "lm"

    def __init__(
        self,
        vocabulary,
        embedding: np.ndarray,
        output_bias: np.ndarray,
        layers: list[RecurrentLayer],
        projection_kernel: np.ndarray,
        projection_bias: np.ndarray,
    ):
        self.vocabulary = vocabulary
        self.embedding, self.output_bias = as_float32(embedding, output_bias)
        self.layers = layers
        self.projection_kernel, self.projection_bias = as_float32(projection_kernel, projection_bias)

    def initial_state(self, batch: int = 1) -> list[list[State]]:
        return [layer.initial_state(batch) for layer in self.layers]

    def hidden(self, ids: np.ndarray) -> np.ndarray:
        """The projected top state after every token, from the zero state: ids (B, T) int -> (B, T, D) float32.

        Every row has all T tokens (no padding): rows of one call are the same length.
        """
        ids = np.asarray(ids, dtype=np.int64)
        lengths = np.full(len(ids), ids.shape[1])
        with single_threaded_blas(len(ids)):
            x = self.embedding[ids]
            for layer in self.layers:
                x, _ = layer.run(x, lengths, return_sequences=True)
            return dense(x, self.projection_kernel, self.projection_bias)

    def log_probabilities(self, hidden: np.ndarray) -> np.ndarray:
        """The next word's log-probabilities from projected states: (..., D) -> (..., V) float64."""
        return log_softmax(hidden @ self.embedding.T + self.output_bias)

    def next_word_log_probabilities(self, ids: np.ndarray) -> np.ndarray:
        """After every token of each row: ids (B, T) -> (B, T, V) float64."""
        return self.log_probabilities(self.hidden(ids))
