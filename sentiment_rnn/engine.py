"""A NumPy forward pass of a trained model: the same probabilities as Keras, without TensorFlow.

Loading TensorFlow costs about 3 s; the forward pass of a trained recurrent
model is a few matrix products per token. This module does that pass in NumPy
from two plain files that ``train`` writes beside ``model.keras``
(``weights.npz``, ``engine.json``) and the vocabulary (``vocabulary.json``).

There is one implementation of the recurrence, :func:`recurrence`, and one
step function per cell, in the Keras 3 weight layout (``kernel`` (input, k),
``recurrent_kernel`` (units, k), ``bias``):

    SimpleRNN  s(t) = tanh(U x(t) + W s(t-1) + b)                       k = units
    GRU        z, r = sigmoid(...), h~ = tanh(x_h + r * (W_h s + b_h)),  k = 3 units,
               s(t) = z * s(t-1) + (1 - z) * h~  (``reset_after=True``, bias (2, 3 units))
    LSTM       i, f, o = sigmoid(...), c(t) = f c(t-1) + i tanh(...),    k = 4 units,
               s(t) = o * tanh(c(t))

Everything else (stacked layers, bidirectional merging, the sigmoid head, the
per-token view, streaming with a carried state, the ``forward-demo``) calls
these. Padding is handled as Keras masks it: a text's state stops changing
after its last token, so each text in a batch is read over exactly its own
tokens (rows sorted by length, the loop at step t updates only the rows still
running).

The bag-of-words baseline has its NumPy twin too (:class:`BagOfWordsEngine`).
Arrays are float32, as in Keras; probabilities are returned as float64.
"""

from __future__ import annotations

import array
import contextlib
import functools
import json
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sentiment_rnn.config import POOLINGS
from sentiment_rnn.errors import SentimentError
from sentiment_rnn.text import OOV_TOKEN, tokenize_py

ENGINE_FORMAT_VERSION = 2  # 2 added model.pooling (a file without it pools "last")
DEFAULT_BATCH_SIZE = 1024
SINGLE_THREAD_FROM_ROWS = 256
INPUT_TABLE_FROM_TOKENS = 4096

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
        self.kernel, self.recurrent_kernel, self.bias = _float32(kernel, recurrent_kernel, bias)
        self.units = self.recurrent_kernel.shape[0]

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
        self.kernel, self.recurrent_kernel, self.bias = _float32(kernel, recurrent_kernel, bias)
        if self.bias.shape != (2, self.kernel.shape[1]):
            raise SentimentError(
                f"GRU bias has shape {self.bias.shape}, expected (2, {self.kernel.shape[1]}) (reset_after=True): "
                "retrain the model with this version of sentiment-rnn."
            )
        self.units = self.recurrent_kernel.shape[0]

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
        self.kernel, self.recurrent_kernel, self.bias = _float32(kernel, recurrent_kernel, bias)
        self.units = self.recurrent_kernel.shape[0]

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


def _float32(*arrays) -> list[np.ndarray]:
    return [np.ascontiguousarray(a, dtype=np.float32) for a in arrays]


# ---------------------------------------------------------------- the recurrence


def recurrence(
    cell: Cell, projected: np.ndarray, lengths: np.ndarray, state: State, return_sequences: bool = False
) -> tuple[np.ndarray | None, State]:
    """Run a cell over a batch of sequences: the one time loop of the engine.

    Args:
        cell: the cell whose ``step`` is applied.
        projected: ``cell.project`` of the inputs, (B, T, k); rows sorted by
            length, longest first; steps at or after a row's length are padding.
        lengths: int array (B,), non-increasing.
        state: the initial state, a tuple of (B, units) arrays (they may be written to).
        return_sequences: also return the output after every step.

    Returns:
        (outputs (B, T, units) float32 or None, final state). Padding steps
        leave a row's state untouched (Keras masking); their outputs are zero.
    """
    batch, steps = projected.shape[:2]
    outputs = np.zeros((batch, steps, cell.units), np.float32) if return_sequences else None
    running = np.count_nonzero(lengths[:, None] > np.arange(steps)[None, :], axis=0)  # (T,) rows still running
    for t in range(steps):
        n = int(running[t])
        if n == 0:
            break
        if n == batch:
            new_state = cell.step(projected[:, t], state)
            state = new_state
        else:
            new_state = cell.step(projected[:n, t], tuple(s[:n] for s in state))
            for old, new in zip(state, new_state):
                old[:n] = new
        if outputs is not None:
            outputs[:n, t] = new_state[0]
    return outputs, state


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

    ``mode`` is "max" or "mean". The running pooling at step t covers steps 0..t
    (padding steps repeat the last real step's value). A row of length 0 pools
    to zeros. Matches ``models.time_pooling_layer``.
    """
    valid = np.arange(x.shape[1])[None, :] < lengths[:, None]  # (B, T)
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

    def initial_state(self, batch: int) -> list[State]:
        cells = [self.forward] if self.backward is None else [self.forward, self.backward]
        return [cell.initial_state(batch) for cell in cells]

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
        projected: list[np.ndarray] | None = None,
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


# ---------------------------------------------------------------- the models


class Vocabulary:
    """Token -> id, as ``TextVectorization`` maps it: unknown tokens get the id of ``[UNK]``."""

    def __init__(self, tokens: Sequence[str]):
        self.tokens = list(tokens)
        self.ids = _IdTable({token: index for index, token in enumerate(self.tokens)})
        self.oov_id = self.ids.oov_id = self.ids.get(OOV_TOKEN, 1)

    def __len__(self) -> int:
        return len(self.tokens)

    def encode(self, tokens: Iterable[str]) -> list[int]:
        return list(map(self.ids.__getitem__, tokens))


class _IdTable(dict):
    """A dict whose missing keys map to ``oov_id`` (looked up at C speed through ``__getitem__``)."""

    oov_id = 1

    def __missing__(self, token: str) -> int:
        return self.oov_id


class RecurrentEngine:
    """Embedding, recurrent layers, pooling over time and sigmoid head of a ``kind = "rnn"`` model, in NumPy.

    Shapes, for B texts of at most T tokens: token ids (B, T) -> embeddings
    (B, T, output_dim) -> each layer (B, T, width) -> top layer (B, width)
    (its last state, or with ``pooling`` "max"/"mean" its outputs pooled over
    each text's tokens) -> probability (B,).
    """

    kind = "rnn"

    def __init__(
        self,
        vocabulary: Vocabulary,
        embedding: np.ndarray,
        layers: list[RecurrentLayer],
        head_kernel: np.ndarray,
        head_bias: np.ndarray,
        output_sequence_length: int = 0,
        pooling: str = "last",
    ):
        if pooling not in POOLINGS:
            raise ValueError(f"unknown pooling {pooling!r}")
        self.vocabulary = vocabulary
        self.pooling = pooling
        (self.embedding,) = _float32(embedding)
        self.layers = layers
        self.head_kernel, self.head_bias = _float32(head_kernel, head_bias)
        self.output_sequence_length = output_sequence_length
        self._input_tables: list[np.ndarray] | None = None

    @property
    def bidirectional(self) -> bool:
        return any(layer.backward is not None for layer in self.layers)

    def tokens(self, text: str) -> list[str]:
        """The tokens the model reads, truncated to ``output_sequence_length`` if set."""
        tokens = tokenize_py(text)
        return tokens[: self.output_sequence_length] if self.output_sequence_length else tokens

    def token_ids(self, text: str) -> list[int]:
        return self.vocabulary.encode(self.tokens(text))

    def initial_state(self, batch: int = 1) -> list[list[State]]:
        """Zero states for every layer, as :meth:`run` takes and returns them."""
        return [layer.initial_state(batch) for layer in self.layers]

    def run(
        self,
        ids: np.ndarray,
        lengths: np.ndarray,
        state: list[list[State]] | None = None,
        return_sequences: bool = False,
    ) -> tuple[np.ndarray, list[list[State]]]:
        """The forward pass on padded token ids (B, T), rows sorted longest first.

        Args:
            ids: int array (B, T); steps at or after a row's length are ignored.
            lengths: int array (B,), non-increasing.
            state: per layer, the state to start from (default zeros); it is
                updated in place and returned, so a stream can carry it on.
            return_sequences: give the probability after every step (B, T)
                instead of after each row's last token (B,).

        Returns:
            (probabilities float32, final state).
        """
        state = state if state is not None else self.initial_state(len(ids))
        x, projected = None, None
        if ids.size >= INPUT_TABLE_FROM_TOKENS:
            tables = self.input_tables()
            projected = [tables[0][ids]] + ([tables[1][reverse_each(ids, lengths)]] if len(tables) > 1 else [])
        else:
            x = self.embedding[ids]
        pooled = self.pooling != "last"
        final_states = []
        for index, layer in enumerate(self.layers):
            is_top = index == len(self.layers) - 1
            x, layer_state = layer.run(
                x,
                lengths,
                state[index],
                return_sequences=return_sequences or pooled or not is_top,
                projected=projected,
            )
            projected = None
            final_states.append(layer_state)
        if pooled:
            x = pool_over_time(x, lengths, self.pooling, running=return_sequences)
        return dense(x, self.head_kernel, self.head_bias, "sigmoid")[..., 0], final_states

    def input_tables(self) -> list[np.ndarray]:
        """The first layer's input projection of every embedding row, (vocabulary, k) per cell; computed once.

        Projecting is linear, so projecting the embedding table once and then
        looking rows up equals looking up embeddings and projecting them: it
        saves one matrix product per token for large batches.
        """
        if self._input_tables is None:
            first = self.layers[0]
            cells = [first.forward] if first.backward is None else [first.forward, first.backward]
            self._input_tables = [cell.project(self.embedding) for cell in cells]
        return self._input_tables

    def predict_ids(
        self, flat_ids: np.ndarray, lengths: np.ndarray, batch_size: int = DEFAULT_BATCH_SIZE
    ) -> np.ndarray:
        """Probabilities (n,) float64 for n texts' token ids laid end to end (see :meth:`encode`).

        Texts are batched by length (longest first), so a batch holds little padding.
        """
        starts = np.cumsum(lengths) - lengths
        order = np.argsort(-lengths, kind="stable")
        result = np.empty(len(lengths))
        with single_threaded_blas(len(lengths)):
            for start in range(0, len(order), batch_size):
                rows = order[start : start + batch_size]
                batch_lengths = lengths[rows]
                steps = np.arange(batch_lengths[0] if len(rows) else 0)
                index = starts[rows][:, None] + steps[None, :]  # (B, T) positions in flat_ids
                padding = steps[None, :] >= batch_lengths[:, None]
                ids = np.where(padding, 0, flat_ids[np.where(padding, 0, index)]) if len(steps) else index
                result[rows], _ = self.run(ids, batch_lengths)
        return result

    def predict_proba(self, texts: Iterable[str], batch_size: int = DEFAULT_BATCH_SIZE) -> np.ndarray:
        """Probabilities of positive, (n,) float64."""
        flat, lengths = self.encode(texts)
        return self.predict_ids(flat, lengths, batch_size)

    def encode(self, texts: Iterable[str]) -> tuple[np.ndarray, np.ndarray]:
        """All texts' token ids end to end, int64 (total,), and each text's token count, int64 (n,).

        Only the ids are kept (8 bytes a token), never all the token strings.
        """
        lookup = self.vocabulary.ids.__getitem__
        flat, lengths = array.array("q"), array.array("q")
        for text in texts:
            tokens = self.tokens(text)
            flat.extend(map(lookup, tokens))
            lengths.append(len(tokens))
        return np.frombuffer(flat, dtype=np.int64), np.frombuffer(lengths, dtype=np.int64)

    def per_token(self, text: str) -> tuple[list[str], np.ndarray]:
        """The many-to-many view: the tokens read and the probability after each one, (n_tokens,) float64."""
        tokens = self.tokens(text)
        ids = np.array([self.vocabulary.encode(tokens)], dtype=np.int64).reshape(1, len(tokens))
        probabilities, _ = self.run(ids, np.array([len(tokens)]), return_sequences=True)
        return tokens, probabilities[0].astype(np.float64)

    def stream(self, id_chunks: Iterable[Sequence[int]]) -> tuple[float, int]:
        """Read one long text in chunks of token ids, carrying the state from chunk to chunk.

        Returns:
            (probability after the last token, number of tokens read). For a
            unidirectional model this equals reading the text in one go.

        Raises:
            SentimentError: for a bidirectional model.
        """
        if self.bidirectional:
            raise SentimentError(BIDIRECTIONAL_STREAM_ERROR)
        if self.pooling != "last":
            raise SentimentError(POOLING_STREAM_ERROR)
        state = self.initial_state(1)
        count = 0
        for chunk in id_chunks:
            if len(chunk):
                ids = np.asarray(chunk, dtype=np.int64).reshape(1, -1)
                with single_threaded_blas(len(chunk)):
                    _, state = self.run(ids, np.array([ids.shape[1]]), state)
                count += ids.shape[1]
        top = state[-1][0][0]  # top layer, forward cell, output state: (1, units)
        return float(dense(top, self.head_kernel, self.head_bias, "sigmoid")[0, 0]), count


POOLING_STREAM_ERROR = (
    "Cannot stream a model that pools over time (model.pooling): only models that read the last state "
    "carry everything they need from chunk to chunk; predict it in one go (without --stream)."
)
BIDIRECTIONAL_STREAM_ERROR = (
    "Cannot stream a bidirectional model: its backward pass reads the text from the end, "
    "so it needs the whole text at once; predict it in one go (without --stream)."
)


class BagOfWordsEngine:
    """The ``kind = "bow"`` baseline in NumPy: multi-hot (B, vocabulary) -> relu layers -> sigmoid (B,).

    The multi-hot vector is never built: the first layer adds up the kernel
    rows of the distinct n-grams present (same result, far less memory).
    """

    kind = "bow"
    bidirectional = False

    def __init__(self, vocabulary: Vocabulary, ngrams: int, dense_layers: list[tuple[np.ndarray, np.ndarray]]):
        self.vocabulary = vocabulary
        self.ngrams = ngrams
        self.dense_layers = [tuple(_float32(kernel, bias)) for kernel, bias in dense_layers]

    def grams(self, text: str) -> list[str]:
        """Unigrams, then bigrams, ... up to ``ngrams``, joined by a space as ``TextVectorization`` does."""
        tokens = tokenize_py(text)
        grams = list(tokens)
        for n in range(2, self.ngrams + 1):
            grams.extend(" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
        return grams

    def predict_proba(self, texts: Sequence[str], batch_size: int = DEFAULT_BATCH_SIZE) -> np.ndarray:
        """Probabilities of positive, (n,) float64."""
        with single_threaded_blas(len(texts)):
            batches = [self._predict_batch(texts[s : s + batch_size]) for s in range(0, len(texts), batch_size)]
        return np.concatenate(batches).astype(np.float64) if batches else np.zeros(0)

    def _predict_batch(self, texts: Sequence[str]) -> np.ndarray:
        (first_kernel, first_bias), *rest = self.dense_layers
        id_sets = [set(self.vocabulary.encode(self.grams(text))) for text in texts]
        rows = np.repeat(np.arange(len(texts)), [len(ids) for ids in id_sets])
        columns = np.fromiter((i for ids in id_sets for i in ids), dtype=np.int64, count=len(rows))
        x = np.zeros((len(texts), first_kernel.shape[1]), np.float32)
        np.add.at(x, rows, first_kernel[columns])  # = multi-hot (B, vocabulary) @ first_kernel
        x += first_bias
        for kernel, bias in rest:
            x = dense(np.maximum(x, 0), kernel, bias)
        return sigmoid(x[:, 0])

    def per_token(self, text: str):
        raise SentimentError(BOW_VIEW_ERROR)

    def stream(self, id_chunks):
        raise SentimentError(BOW_VIEW_ERROR)


BOW_VIEW_ERROR = (
    "The bag-of-words model reads no order, so it has no per-token or streaming view: "
    'use a recurrent model (model.kind = "rnn").'
)

Engine = RecurrentEngine | BagOfWordsEngine


# ---------------------------------------------------------------- files


def architecture_of(config) -> dict[str, Any]:
    """What ``engine.json`` records about a model: the architecture the weights need."""
    m = config.model
    if m.kind == "bow":
        return {
            "format_version": ENGINE_FORMAT_VERSION,
            "kind": "bow",
            "ngrams": m.ngrams,
            "hidden_layers": m.hidden_layers,
        }
    return {
        "format_version": ENGINE_FORMAT_VERSION,
        "kind": "rnn",
        "cell": m.cell,
        "layers": m.layers,
        "units": m.units,
        "bidirectional": m.bidirectional,
        "merge_mode": m.merge_mode,
        "pooling": m.pooling,
        "output_sequence_length": config.tokenizer.output_sequence_length,
    }


def weights_of(model, model_config) -> dict[str, np.ndarray]:
    """The arrays of a built Keras model (from ``models.build_model``) with ``[model]`` section ``model_config``, by name.

    Names: ``embedding``; ``recurrent_<i>.<forward|backward>.<kernel|recurrent_kernel|bias>``;
    ``hidden_<i>.<kernel|bias>``; ``head.<kernel|bias>``.
    """
    from sentiment_rnn.models import EMBEDDING_LAYER, HEAD_LAYER, recurrent_layer_name

    arrays: dict[str, np.ndarray] = {}

    def add(prefix: str, layer) -> None:
        names = [variable.path.rsplit("/", 1)[-1] for variable in layer.weights]
        for name, value in zip(names, layer.get_weights()):
            arrays[f"{prefix}.{name}"] = np.asarray(value, dtype=np.float32)

    if model_config.kind == "bow":
        for index in range(model_config.hidden_layers):
            add(f"hidden_{index}", model.get_layer(f"hidden_{index}"))
    else:
        arrays["embedding"] = np.asarray(model.get_layer(EMBEDDING_LAYER).get_weights()[0], dtype=np.float32)
        for index in range(model_config.layers):
            name = recurrent_layer_name(index)
            if model_config.bidirectional:
                wrapper = model.get_layer(f"bidirectional_{index}")
                add(f"{name}.forward", wrapper.forward_layer)
                add(f"{name}.backward", wrapper.backward_layer)
            else:
                add(f"{name}.forward", model.get_layer(name))
    add("head", model.get_layer(HEAD_LAYER))
    return arrays


def write_engine_files(model, config, directory: str | Path) -> None:
    """Write ``weights.npz`` and ``engine.json`` for a trained model into ``directory``."""
    from sentiment_rnn import artifact

    directory = Path(directory)
    np.savez(directory / artifact.WEIGHTS_FILE, **weights_of(model, config.model))
    artifact.write_json(directory / artifact.ENGINE_FILE, architecture_of(config))


def build_engine(architecture: dict[str, Any], arrays: dict[str, np.ndarray], vocabulary: Sequence[str]) -> Engine:
    """An engine from an architecture (as in ``engine.json``), named arrays and the vocabulary.

    Raises:
        KeyError, ValueError, TypeError: missing or inconsistent entries (see :func:`load_engine`).
    """
    words = Vocabulary(vocabulary)
    if architecture["kind"] == "bow":
        names = [f"hidden_{i}" for i in range(int(architecture["hidden_layers"]))] + ["head"]
        return BagOfWordsEngine(
            words, int(architecture["ngrams"]), [(arrays[f"{n}.kernel"], arrays[f"{n}.bias"]) for n in names]
        )
    if architecture["kind"] != "rnn":
        raise ValueError(f"unknown model kind {architecture['kind']!r}")
    cell_class = CELL_CLASSES[architecture["cell"]]
    if architecture["bidirectional"] and architecture["merge_mode"] not in MERGES:
        raise ValueError(f"unknown merge mode {architecture['merge_mode']!r}")

    def cell(prefix: str) -> Cell:
        return cell_class(arrays[f"{prefix}.kernel"], arrays[f"{prefix}.recurrent_kernel"], arrays[f"{prefix}.bias"])

    layers = []
    for index in range(int(architecture["layers"])):
        prefix = f"recurrent_{index}"
        backward = cell(f"{prefix}.backward") if architecture["bidirectional"] else None
        layers.append(RecurrentLayer(cell(f"{prefix}.forward"), backward, architecture["merge_mode"]))
    return RecurrentEngine(
        words,
        arrays["embedding"],
        layers,
        arrays["head.kernel"],
        arrays["head.bias"],
        int(architecture.get("output_sequence_length", 0)),
        architecture.get("pooling", "last"),
    )


def load_engine(directory: str | Path, config=None) -> Engine:
    """Read ``engine.json``, ``weights.npz`` (no pickle) and ``vocabulary.json`` from a model directory.

    Args:
        directory: the model directory.
        config: its ``config.toml`` (a Config), to check the weights against; None skips the check.

    Raises:
        SentimentError: missing files (a directory written before the NumPy
            engine existed), damaged files, a newer engine format, or weights
            that disagree with ``config``.
    """
    from sentiment_rnn import artifact

    directory = Path(directory)
    fix = "retrain the model with `sentiment-rnn train`, or pass --engine keras"
    for name in (artifact.ENGINE_FILE, artifact.WEIGHTS_FILE, artifact.VOCABULARY_FILE):
        if not (directory / name).is_file():
            raise SentimentError(f"{directory} has no {name}, which the NumPy engine needs: {fix}.")
    engine_file, weights_file = directory / artifact.ENGINE_FILE, directory / artifact.WEIGHTS_FILE
    architecture = _read_json(engine_file, fix)
    vocabulary = _read_json(directory / artifact.VOCABULARY_FILE, fix)
    version = architecture.get("format_version") if isinstance(architecture, dict) else None
    if not isinstance(version, int):
        raise SentimentError(f"{engine_file} has no valid format_version: {fix}.")
    if version > ENGINE_FORMAT_VERSION:
        raise SentimentError(
            f"{engine_file} has engine format {version}, but this sentiment-rnn reads format "
            f"{ENGINE_FORMAT_VERSION} at most: upgrade sentiment-rnn, or pass --engine keras."
        )
    try:
        with np.load(weights_file, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise SentimentError(f"{weights_file} is damaged ({type(exc).__name__}): {fix}.") from None
    try:
        engine = build_engine(architecture, arrays, vocabulary)
    except (KeyError, ValueError, TypeError, IndexError) as exc:
        raise SentimentError(
            f"{weights_file} does not fit {artifact.ENGINE_FILE} ({type(exc).__name__}: {exc}): {fix}."
        ) from None
    if config is not None:
        check_engine_matches_config(engine, config, directory)
    return engine


def engine_architecture(engine: Engine) -> dict[str, Any]:
    """The config keys an engine's weights determine, as ``{"section.key": value}``."""
    if isinstance(engine, BagOfWordsEngine):
        facts: dict[str, Any] = {"model.kind": "bow", "model.hidden_layers": len(engine.dense_layers) - 1}
        if len(engine.dense_layers) > 1:
            facts["model.hidden_units"] = engine.dense_layers[0][0].shape[1]
        facts["model.ngrams"] = engine.ngrams
        return facts
    top = engine.layers[-1]
    facts = {
        "model.kind": "rnn",
        "model.output_dim": engine.embedding.shape[1],
        "model.layers": len(engine.layers),
        "model.bidirectional": top.backward is not None,
    }
    if top.backward is not None:
        facts["model.merge_mode"] = top.merge_mode
    cell_names = {cell_class: name for name, cell_class in CELL_CLASSES.items()}
    facts["model.cell"] = cell_names[type(top.forward)]
    facts["model.units"] = top.forward.units
    facts["model.pooling"] = engine.pooling
    facts["tokenizer.output_sequence_length"] = engine.output_sequence_length
    return facts


def check_engine_matches_config(engine: Engine, config, directory: Path) -> None:
    """Refuse weights that disagree with the config.toml beside them (an edited or mixed-up directory)."""
    from sentiment_rnn import artifact

    artifact.check_architecture_matches_config(
        engine_architecture(engine), config, directory, artifact.WEIGHTS_FILE, "the weights have"
    )


def _read_json(file: Path, fix: str) -> Any:
    try:
        return json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SentimentError(f"{file} is unreadable ({exc}): {fix}.") from None


def engine_from_keras(model, config, vocabulary: Sequence[str] | None = None) -> Engine:
    """An engine holding the weights of a built Keras model, without writing files (for tests and comparisons)."""
    from sentiment_rnn.models import TOKENIZER_LAYER

    if vocabulary is None:
        vocabulary = model.get_layer(TOKENIZER_LAYER).get_vocabulary()
    return build_engine(architecture_of(config), weights_of(model, config.model), vocabulary)


# ---------------------------------------------------------------- streaming input


def text_blocks(source, block_chars: int = 1 << 16) -> Iterator[str]:
    """Read a text file object in blocks that end at a token boundary.

    Each block but the last ends just after a separator (a character the
    tokenizer turns into a space), so tokenizing the blocks one by one gives
    the same tokens as tokenizing the whole text. A block longer than
    ``block_chars`` is only ever held when the text has no separator for that
    long (one giant token).
    """
    from sentiment_rnn.text import last_separator

    carry: list[str] = []  # text read since the last separator
    while True:
        block = source.read(block_chars)
        if not block:
            break
        cut = last_separator(block) + 1
        if cut == 0:
            carry.append(block)
            continue
        yield "".join(carry) + block[:cut]
        carry = [block[cut:]]
    if any(carry):
        yield "".join(carry)


def token_chunks(tokens: Iterable[str], chunk_tokens: int, limit: int = 0) -> Iterator[list[str]]:
    """Group tokens into lists of ``chunk_tokens``; stop after ``limit`` tokens if it is positive."""
    chunk: list[str] = []
    count = 0
    for token in tokens:
        if limit and count >= limit:
            break
        chunk.append(token)
        count += 1
        if len(chunk) == chunk_tokens:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def stream_tokens(source, block_chars: int = 1 << 16) -> Iterator[str]:
    """The tokens of a text file object, read block by block (see :func:`text_blocks`)."""
    for block in text_blocks(source, block_chars):
        yield from tokenize_py(block)


# ---------------------------------------------------------------- the worked example

DEMO_LETTERS = ("h", "e", "l", "o")
DEMO_U = np.array(
    [
        [0.287027, 0.84606, 0.572392, 0.486813],
        [0.902874, 0.871522, 0.691079, 0.18998],
        [0.537524, 0.09224, 0.558159, 0.491528],
    ]
)  # (units 3, letters 4): column j is U x for the j-th letter
DEMO_W = 0.427043  # the scalar recurrent weight: W s = 0.427043 * s, i.e. W = 0.427043 * I
DEMO_B = 0.567001  # the same bias for every unit
DEMO_V = np.array(
    [
        [0.37168, 0.974829459, 0.830034886],
        [0.39141, 0.282585823, 0.659835709],
        [0.64985, 0.09821557, 0.334287084],
        [0.91266, 0.32581642, 0.144630018],
    ]
)  # (letters 4, units 3)


@dataclass(frozen=True)
class DemoStep:
    """One step of the worked example; every vector has shape (3,)."""

    letter: str
    previous_state: np.ndarray
    input_term: np.ndarray  # U x(t)
    recurrent_term: np.ndarray  # W s(t-1) + b
    state: np.ndarray  # s(t)


@dataclass(frozen=True)
class Demo:
    """The worked example: the steps, then the scores V s(T) (4,) and their softmax (4,)."""

    steps: list[DemoStep]
    scores: np.ndarray
    probabilities: np.ndarray


def demo_cell() -> SimpleRNNCell:
    """The worked example's SimpleRNN cell in Keras layout: kernel U^T (4, 3), W * I (3, 3), bias (3,)."""
    return SimpleRNNCell(DEMO_U.T, DEMO_W * np.eye(3), np.full(3, DEMO_B))


def forward_demo(letters: str = "he") -> Demo:
    """Read one-hot letters from {h, e, l, o} with the engine's SimpleRNN cell, one step at a time.

    Raises:
        SentimentError: an empty text or a letter outside {h, e, l, o}.
    """
    unknown = sorted(set(letters) - set(DEMO_LETTERS))
    if not letters or unknown:
        raise SentimentError(f"The demo reads letters from {{h, e, l, o}}, got {letters!r}: pass e.g. --text hell.")
    cell = demo_cell()
    one_hot = np.eye(len(DEMO_LETTERS), dtype=np.float32)
    state = cell.initial_state(1)
    steps = []
    for letter in letters:
        x = one_hot[DEMO_LETTERS.index(letter)][None, :]  # (1, 4)
        input_term = cell.project(x, with_bias=False)
        new_state = cell.step(cell.project(x), state)
        steps.append(DemoStep(letter, state[0][0], input_term[0], cell.recurrent_term(state[0])[0], new_state[0][0]))
        state = new_state
    scores = dense(state[0], DEMO_V.T.astype(np.float32), np.zeros(4, np.float32))[0]
    return Demo(steps, scores, softmax(scores))
