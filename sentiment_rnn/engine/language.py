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


def picked_log_probabilities(logits: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """log softmax(logits)[target] for each position: logits (..., V) float32, targets (...) int -> (...) float64.

    The normalizer is summed in float64 from float32 exponentials: no (..., V) float64 array is made.
    """
    top = logits.max(axis=-1, keepdims=True)
    normalizer = np.log(np.exp(logits - top).sum(axis=-1, dtype=np.float64))
    picked = np.take_along_axis(logits, targets[..., None], axis=-1)[..., 0]
    return (picked - top[..., 0]).astype(np.float64) - normalizer


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
        return self.run(ids)[0]

    def run(self, ids: np.ndarray, state: list[list[State]] | None = None) -> tuple[np.ndarray, list[list[State]]]:
        """:meth:`hidden` from ``state`` (per layer, as returned here; default zeros), and the state after the last token.

        A state of one row is read by every row of ``ids`` (the same text before each of them).
        """
        ids = np.asarray(ids, dtype=np.int64)
        lengths = np.full(len(ids), ids.shape[1])
        if state is not None:
            state = [
                [tuple(np.repeat(s, len(ids), axis=0) if len(s) == 1 else s.copy() for s in cell) for cell in layer]
                for layer in state
            ]
        else:
            state = self.initial_state(len(ids))
        final = []
        with single_threaded_blas(len(ids)):
            x = self.embedding[ids]
            for layer, layer_state in zip(self.layers, state):
                x, after = layer.run(x, lengths, layer_state, return_sequences=True)
                final.append(after)
            return dense(x, self.projection_kernel, self.projection_bias), final

    def logits(self, hidden: np.ndarray) -> np.ndarray:
        """The next word's logits from projected states: (..., D) -> (..., V) float32.

        One matrix product over all the states: a (B, T, D) operand would make NumPy multiply B times, each
        reading the whole (V, D) embedding again (about 8 times slower for a 20,000-word model).
        """
        flat = hidden.reshape(-1, hidden.shape[-1]) @ self.embedding.T + self.output_bias
        return flat.reshape(*hidden.shape[:-1], flat.shape[-1])

    def log_probabilities(self, hidden: np.ndarray) -> np.ndarray:
        """The next word's log-probabilities from projected states: (..., D) -> (..., V) float64."""
        return log_softmax(self.logits(hidden))

    def next_word_log_probabilities(self, ids: np.ndarray) -> np.ndarray:
        """After every token of each row: ids (B, T) -> (B, T, V) float64."""
        return self.log_probabilities(self.hidden(ids))
