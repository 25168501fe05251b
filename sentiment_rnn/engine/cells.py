"""The recurrence in NumPy: activations, one step function per cell, the loop over time, layers.

Weights are in the Keras 3 layout (see the package docstring); arrays are float32.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from sentiment_rnn.errors import SentimentError

SINGLE_THREAD_FROM_ROWS = 256

State = tuple[np.ndarray, ...]


def sigmoid(x: np.ndarray) -> np.ndarray:
    """The logistic function, written with tanh so it never overflows."""
    return 0.5 + 0.5 * np.tanh(0.5 * x)


def softmax(x: np.ndarray) -> np.ndarray:
    """Softmax over the last axis."""
    shifted = np.exp(x - x.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


ACTIVATIONS = {
    "linear": lambda x: x,
    "relu": lambda x: np.maximum(x, 0),
    "sigmoid": sigmoid,
    "softmax": softmax,
    "tanh": np.tanh,
}


def dense(x: np.ndarray, kernel: np.ndarray, bias: np.ndarray, activation: str = "linear") -> np.ndarray:
    """A Keras ``Dense`` layer: ``activation(x @ kernel + bias)``, x (..., input), kernel (input, output)."""
    return ACTIVATIONS[activation](x @ kernel + bias)


def head_probabilities(logits: np.ndarray) -> np.ndarray:
    """The head's answer from its logits (..., K): for K = 1 (two classes) the sigmoid, the probability of
    class 1, shape (...); for K > 1 classes the softmax over them, shape (..., K)."""
    return sigmoid(logits[..., 0]) if logits.shape[-1] == 1 else softmax(logits)


@contextlib.contextmanager
def single_threaded_blas(rows: int = SINGLE_THREAD_FROM_ROWS) -> Iterator[None]:
    """Run BLAS (NumPy's matrix products) on one thread while the block runs, for ``rows`` >= 256 texts.

    A recurrent step multiplies (B, units) by (units, units): far too small
    for threads to pay. OpenBLAS starts them anyway for large B, and on a
    busy machine its threads wait for each other: measured 10 to 25 times
    slower than one thread on 2 shared cores. Below 256 rows nothing is done
    (OpenBLAS stays single-threaded there, and importing threadpoolctl would
    cost more than it saves).
    """
    if rows < SINGLE_THREAD_FROM_ROWS:
        yield
        return
    with _blas_controller().limit(limits=1, user_api="blas"):
        yield


@functools.cache
def _blas_controller():
    """threadpoolctl's view of the loaded BLAS libraries (finding them is the slow part: done once)."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


# ---------------------------------------------------------------- the cells


class SimpleRNNCell:
    """``s(t) = tanh(U x(t) + W s(t-1) + b)``; kernel = U (input, units), recurrent_kernel = W (units, units)."""

    def __init__(self, kernel: np.ndarray, recurrent_kernel: np.ndarray, bias: np.ndarray):
        self.kernel, self.recurrent_kernel, self.bias = as_float32(kernel, recurrent_kernel, bias)
        self.units = self.recurrent_kernel.shape[0]

    @staticmethod
    def weight_shapes(inputs: int, units: int) -> tuple[tuple[int, ...], ...]:
        """The shapes of (kernel, recurrent_kernel, bias) for ``inputs`` features and ``units``."""
        return (inputs, units), (units, units), (units,)

    def project(self, x: np.ndarray, with_bias: bool = True) -> np.ndarray:
        """``U x(t) + b`` for every step at once (``U x(t)`` without the bias): x (..., input) -> (..., units)."""
        return x @ self.kernel + self.bias if with_bias else x @ self.kernel

    def recurrent_term(self, state: np.ndarray) -> np.ndarray:
        """``W s(t-1) + b``: (B, units) -> (B, units), as the worked example shows it."""
        return state @ self.recurrent_kernel + self.bias

    def step(self, projected: np.ndarray, state: State) -> State:
        """One step: projected ``U x(t) + b`` (B, units) and state ``(s(t-1),)`` -> ``(s(t),)``."""
        z = state[0] @ self.recurrent_kernel
        z += projected
        return (np.tanh(z, out=z),)

    def initial_state(self, batch: int) -> State:
        return (np.zeros((batch, self.units), np.float32),)


class GRUCell:
    """Keras 3 GRU with ``reset_after=True``: gates in the order z (update), r (reset), h (candidate).

    kernel (input, 3 units), recurrent_kernel (units, 3 units), bias (2, 3 units):
    row 0 is added to the input projection, row 1 to the recurrent one.
    """

    def __init__(self, kernel: np.ndarray, recurrent_kernel: np.ndarray, bias: np.ndarray):
        self.kernel, self.recurrent_kernel, self.bias = as_float32(kernel, recurrent_kernel, bias)
        if self.bias.shape != (2, self.kernel.shape[1]):
            raise SentimentError(
                f"GRU bias has shape {self.bias.shape}, expected (2, {self.kernel.shape[1]}) (reset_after=True): "
                "retrain the model with this version of sentiment-rnn."
            )
        self.units = self.recurrent_kernel.shape[0]

    @staticmethod
    def weight_shapes(inputs: int, units: int) -> tuple[tuple[int, ...], ...]:
        """The shapes of (kernel, recurrent_kernel, bias) for ``inputs`` features and ``units``."""
        return (inputs, 3 * units), (units, 3 * units), (2, 3 * units)

    def project(self, x: np.ndarray) -> np.ndarray:
        return x @ self.kernel + self.bias[0]

    def step(self, projected: np.ndarray, state: State) -> State:
        (previous,) = state
        u = self.units
        inner = previous @ self.recurrent_kernel + self.bias[1]
        gates = sigmoid(projected[:, : 2 * u] + inner[:, : 2 * u])
        update, reset = gates[:, :u], gates[:, u:]
        candidate = np.tanh(projected[:, 2 * u :] + reset * inner[:, 2 * u :])
        return (update * previous + (1.0 - update) * candidate,)

    def initial_state(self, batch: int) -> State:
        return (np.zeros((batch, self.units), np.float32),)


class LSTMCell:
    """Keras 3 LSTM: gates in the order i (input), f (forget), c (candidate), o (output).

    kernel (input, 4 units), recurrent_kernel (units, 4 units), bias (4 units,).
    The state is ``(h, c)``; the output is h.
    """

    def __init__(self, kernel: np.ndarray, recurrent_kernel: np.ndarray, bias: np.ndarray):
        self.kernel, self.recurrent_kernel, self.bias = as_float32(kernel, recurrent_kernel, bias)
        self.units = self.recurrent_kernel.shape[0]

    @staticmethod
    def weight_shapes(inputs: int, units: int) -> tuple[tuple[int, ...], ...]:
        """The shapes of (kernel, recurrent_kernel, bias) for ``inputs`` features and ``units``."""
        return (inputs, 4 * units), (units, 4 * units), (4 * units,)

    def project(self, x: np.ndarray) -> np.ndarray:
        return x @ self.kernel + self.bias

    def step(self, projected: np.ndarray, state: State) -> State:
        previous_h, previous_c = state
        u = self.units
        z = projected + previous_h @ self.recurrent_kernel
        input_forget = sigmoid(z[:, : 2 * u])
        carry = input_forget[:, u:] * previous_c + input_forget[:, :u] * np.tanh(z[:, 2 * u : 3 * u])
        return (sigmoid(z[:, 3 * u :]) * np.tanh(carry), carry)

    def initial_state(self, batch: int) -> State:
        return (np.zeros((batch, self.units), np.float32), np.zeros((batch, self.units), np.float32))


CELL_CLASSES = {"simple": SimpleRNNCell, "gru": GRUCell, "lstm": LSTMCell}
Cell = SimpleRNNCell | GRUCell | LSTMCell


def as_float32(*arrays) -> list[np.ndarray]:
    return [np.ascontiguousarray(a, dtype=np.float32) for a in arrays]


# ---------------------------------------------------------------- the recurrence


def recurrence(
    cell: Cell,
    projected: np.ndarray | StepInputs,
    lengths: np.ndarray,
    state: State,
    return_sequences: bool = False,
) -> tuple[np.ndarray | None, State]:
    """Run a cell over a batch of sequences: the one time loop of the engine.

    Args:
        cell: the cell whose ``step`` is applied.
        projected: ``cell.project`` of the inputs, (B, T, k), or the same as
            :class:`StepInputs` (looked up step by step); rows sorted by
            length, longest first; steps at or after a row's length are padding.
        lengths: int array (B,), non-increasing.
        state: the initial state, a tuple of (B, units) arrays (they may be written to).
        return_sequences: also return the output after every step.

    Returns:
        (outputs (B, T, units) float32 or None, final state). Padding steps
        leave a row's state untouched (Keras masking); their outputs are zero.
    """
    batch, steps = projected.shape[:2]
    inputs = projected.rows if isinstance(projected, StepInputs) else lambda t, n: projected[:n, t]
    outputs = np.zeros((batch, steps, cell.units), np.float32) if return_sequences else None
    running = np.count_nonzero(lengths[:, None] > np.arange(steps)[None, :], axis=0)  # (T,) rows still running
    for t in range(steps):
        n = int(running[t])
        if n == 0:
            break
        if n == batch:
            new_state = cell.step(inputs(t, n), state)
            state = new_state
        else:
            new_state = cell.step(inputs(t, n), tuple(s[:n] for s in state))
            for old, new in zip(state, new_state):
                old[:n] = new
        if outputs is not None:
            outputs[:n, t] = new_state[0]
    return outputs, state


class StepInputs:
    """A cell's projected inputs (B, T, k) looked up one step at a time: rows of a table by token id.

    Looking up the rows of step t just before it runs keeps them in the cache
    (a whole (B, T, k) array is written to memory first and read back), and
    reads each step's rows contiguously.

    Args:
        table: (vocabulary, k) float32, the projection of every token (``NumpyRecurrentEngine.input_tables``).
        ids: int (B, T), the token ids.
    """

    def __init__(self, table: np.ndarray, ids: np.ndarray):
        self.table = table
        self.ids_by_step = np.ascontiguousarray(ids.T)  # (T, B)
        self.shape = (ids.shape[0], ids.shape[1], table.shape[1])

    def rows(self, t: int, n: int) -> np.ndarray:
        """The projected inputs of step t for the first n rows: (n, k) float32."""
        return self.table[self.ids_by_step[t, :n]]


def reverse_each(x: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Reverse each row's first ``lengths[i]`` steps, leaving its padding in place: x (B, T, ...) -> same shape.

    Applying it twice gives x back.
    """
    steps = np.arange(x.shape[1])[None, :]
    index = np.where(steps < lengths[:, None], lengths[:, None] - 1 - steps, steps)
    index = index.reshape(index.shape + (1,) * (x.ndim - 2))
    return np.take_along_axis(x, index, axis=1)


def pool_over_time(x: np.ndarray, lengths: np.ndarray, mode: str, running: bool = False) -> np.ndarray:
    """Pool x (B, T, W) over each row's first ``lengths[i]`` steps: (B, W), or with ``running`` (B, T, W).

    ``mode`` is "max", "mean", or "concat": the output at the last step, the
    maximum and the mean side by side, (B, 3W) (or (B, T, 3W)). The running
    pooling at step t covers steps 0..t (padding steps repeat the last real
    step's value). A row of length 0 pools to zeros. Matches
    ``models.time_pooling_layer``.
    """
    if mode == "concat":
        return np.concatenate([pool_over_time(x, lengths, part, running) for part in ("last", "max", "mean")], axis=-1)
    valid = np.arange(x.shape[1])[None, :] < lengths[:, None]  # (B, T)
    if mode == "last":
        if x.shape[1] == 0:  # no step at all: every row pools to zeros
            return np.zeros(x.shape if running else (x.shape[0], x.shape[2]), np.float32)
        last = np.maximum(lengths - 1, 0)[:, None]  # (B, 1)
        index = np.minimum(np.arange(x.shape[1])[None, :], last) if running else last
        picked = np.take_along_axis(x, index[..., None], axis=1) * (lengths > 0)[:, None, None]
        return (picked if running else picked[:, 0]).astype(np.float32)
    if mode == "mean":
        weights = valid[..., None].astype(np.float32)
        if running:
            return np.cumsum(x * weights, axis=1) / np.maximum(np.cumsum(weights, axis=1), 1.0)
        return (x * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1.0)
    filled = np.where(valid[..., None], x, -np.inf).astype(np.float32)
    pooled = np.maximum.accumulate(filled, axis=1) if running else filled.max(axis=1, initial=-np.inf)
    return np.where(np.isfinite(pooled), pooled, 0.0).astype(np.float32)


MERGES = {
    "concat": lambda f, b: np.concatenate([f, b], axis=-1),
    "sum": lambda f, b: f + b,
    "mul": lambda f, b: f * b,
    "ave": lambda f, b: (f + b) / 2,
}


@dataclass
class RecurrentLayer:
    """One recurrent layer: a forward cell and, if bidirectional, a backward cell and a merge mode."""

    forward: Cell
    backward: Cell | None = None
    merge_mode: str = "concat"

    @property
    def cells(self) -> list[Cell]:
        """The forward cell, then the backward one if there is one."""
        return [self.forward] if self.backward is None else [self.forward, self.backward]

    def initial_state(self, batch: int) -> list[State]:
        return [cell.initial_state(batch) for cell in self.cells]

    def project(self, x: np.ndarray, lengths: np.ndarray) -> list[np.ndarray]:
        """Each cell's input projection of x (B, T, input): forwards, and backwards with each row reversed."""
        if self.backward is None:
            return [self.forward.project(x)]
        return [self.forward.project(x), self.backward.project(reverse_each(x, lengths))]

    def run(
        self,
        x: np.ndarray | None,
        lengths: np.ndarray,
        state: list[State] | None = None,
        return_sequences: bool = False,
        projected: list[np.ndarray | StepInputs] | None = None,
    ) -> tuple[np.ndarray, list[State]]:
        """Read x (B, T, input) (rows sorted longest first) from ``state`` (default zeros).

        ``projected`` may give :meth:`project` of x, already computed (x is then unused).

        Returns:
            (output, final state): output is (B, T, width) with ``return_sequences``,
            else the output after each row's last token (B, width); width is
            ``units``, or ``2 units`` for a concatenating bidirectional layer.
        """
        state = state if state is not None else self.initial_state(len(lengths))
        projected = self.project(x, lengths) if projected is None else projected
        forward_outputs, forward_state = recurrence(self.forward, projected[0], lengths, state[0], return_sequences)
        if self.backward is None:
            return (forward_outputs if return_sequences else forward_state[0]), [forward_state]
        backward_outputs, backward_state = recurrence(self.backward, projected[1], lengths, state[1], return_sequences)
        if return_sequences:
            merged = MERGES[self.merge_mode](forward_outputs, reverse_each(backward_outputs, lengths))
        else:
            merged = MERGES[self.merge_mode](forward_state[0], backward_state[0])
        return merged, [forward_state, backward_state]
