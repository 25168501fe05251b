"""The NumPy models: the recurrent model and the bag-of-words baseline, from token ids or raw text.

Shapes are given per method; probabilities are float64 arrays of shape (n,)
(of class 1, for a two-class model's sigmoid head) or (n, N) (every class, for
a softmax head over N > 2 classes).

Longer than 400 lines because the recurrent model's three views (whole texts in
batches, per token, streamed) and the bag-of-words baseline share its vocabulary
here, for both kinds of head; the baseline would be the first to move out.
"""

from __future__ import annotations

import array
import functools
from collections.abc import Iterable, Sequence

import numpy as np

from sentiment_rnn.config import POOLINGS
from sentiment_rnn.engine.cells import (
    RecurrentLayer,
    State,
    StepInputs,
    as_float32,
    dense,
    head_probabilities,
    pool_over_time,
    reverse_each,
    single_threaded_blas,
)
from sentiment_rnn.engine.encoding import TokenTable, encode_texts
from sentiment_rnn.engine.threads import in_threads
from sentiment_rnn.errors import SentimentError
from sentiment_rnn.text import OOV_TOKEN, TEXT_END, token_ngrams, tokenize_batch, tokenize_py

DEFAULT_BATCH_SIZE = 1024
TEXT_END_ID = -1  # the id lookups give text.TEXT_END
INPUT_TABLE_FROM_TOKENS = 4096
BATCH_TOKENS = 1 << 17  # token positions (B x T) per forward pass at most, unless one text is longer
# Until a vocabulary's TokenTable is built, fewer texts take the dict: building it for 20k tokens
# costs 10-30 ms, as much as a thousand texts by the dict, and a cold predict of one text needs none.
TOKEN_TABLE_FROM_TEXTS = 256

# ---------------------------------------------------------------- the models


class Vocabulary:
    """Token -> id, as ``TextVectorization`` maps it: unknown tokens get the id of ``[UNK]``."""

    def __init__(self, tokens: Sequence[str]):
        self.tokens = list(tokens)
        self.ids = _IdTable(zip(self.tokens, range(len(self.tokens))))
        self.oov_id = self.ids.oov_id = self.ids.get(OOV_TOKEN, 1)
        self.ids[TEXT_END] = TEXT_END_ID  # tokenize_batch's end of a text (never a real token)

    def __len__(self) -> int:
        return len(self.tokens)

    def encode(self, tokens: Iterable[str]) -> list[int]:
        return list(map(self.ids.__getitem__, tokens))

    def unknown(self, tokens: Iterable[str]) -> list[bool]:
        """For each token, whether it is outside the vocabulary (read as ``[UNK]``)."""
        return [token not in self.ids for token in tokens]

    @property
    def has_table(self) -> bool:
        """Whether ``table`` is built (or found impossible): encoding then costs nothing more to set up."""
        return "table" in self.__dict__

    @functools.cached_property
    def table(self) -> TokenTable | None:
        """The tokens as an ``encoding.TokenTable`` (built on first use), or None if two share a key.

        Its lookups give each token's id, as ``ids`` does; keys are shared by
        duplicate tokens (``ids`` keeps the last one's id) or, rarely, by two
        long tokens: then ``NumpyRecurrentEngine.encode`` uses ``ids``.
        """
        return TokenTable.build(self.tokens)


class _IdTable(dict):
    """A dict whose missing keys map to ``oov_id`` (looked up at C speed through ``__getitem__``)."""

    oov_id = 1

    def __missing__(self, token: str) -> int:
        return self.oov_id


class NumpyRecurrentEngine:
    """Embedding, recurrent layers, pooling over time and sigmoid head of a ``kind = "rnn"`` model, in NumPy.

    Shapes, for B texts of at most T tokens: token ids (B, T) -> embeddings
    (B, T, output_dim) -> each layer (B, T, width) -> top layer (B, width)
    (its last state, or with ``pooling`` "max"/"mean" its outputs pooled over
    each text's tokens) -> probability (B,), or with a softmax head of N
    classes (``head_kernel`` (width, N)) probabilities (B, N).
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
        (self.embedding,) = as_float32(embedding)
        self.layers = layers
        self.head_kernel, self.head_bias = as_float32(head_kernel, head_bias)
        self.output_sequence_length = output_sequence_length
        self._input_tables: list[np.ndarray] | None = None

    @property
    def bidirectional(self) -> bool:
        return any(layer.backward is not None for layer in self.layers)

    @property
    def head_units(self) -> int:
        """1 for a sigmoid head (two classes), N for a softmax head over N classes."""
        return self.head_kernel.shape[1]

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
        offsets: np.ndarray | None = None,
        head: bool = True,
    ) -> tuple[np.ndarray, list[list[State]]]:
        """The forward pass on padded token ids (B, T), rows sorted longest first.

        Args:
            ids: int array (B, T); steps at or after a row's length are ignored.
            lengths: int array (B,), non-increasing.
            state: per layer, the state to start from (default zeros); it is
                updated in place and returned, so a stream can carry it on.
            return_sequences: give the probability after every step (B, T)
                instead of after each row's last token (B,) (with N classes: (B, T, N), (B, N)).
            offsets: float32 (B,) (or (B, N)) added to each row's logits before the sigmoid
                (or softmax): the hybrid model's wide branch; None adds nothing.
            head: False gives what the head reads instead of the probabilities:
                (B, width), or with ``return_sequences`` (B, T, width).

        Returns:
            (probabilities float32 (or the head's input), final state).
        """
        state = state if state is not None else self.initial_state(len(ids))
        x, projected = None, None
        if ids.size >= INPUT_TABLE_FROM_TOKENS:
            tables = self.input_tables()
            projected = [StepInputs(tables[0], ids)]
            if len(tables) > 1:
                projected.append(StepInputs(tables[1], reverse_each(ids, lengths)))
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
        if not head:
            return x, final_states
        logits = dense(x, self.head_kernel, self.head_bias)  # (B, K), or (B, T, K)
        if offsets is not None:
            logits = logits + offsets.reshape(len(offsets), -1)
        return head_probabilities(logits), final_states

    def input_tables(self) -> list[np.ndarray]:
        """The first layer's input projection of every embedding row, (vocabulary, k) per cell; computed once.

        Projecting is linear, so projecting the embedding table once and then
        looking rows up equals looking up embeddings and projecting them: it
        saves one matrix product per token for large batches.
        """
        if self._input_tables is None:
            self._input_tables = [cell.project(self.embedding) for cell in self.layers[0].cells]
        return self._input_tables

    def predict_ids(
        self,
        flat_ids: np.ndarray,
        lengths: np.ndarray,
        batch_size: int = DEFAULT_BATCH_SIZE,
        offsets: np.ndarray | None = None,
    ) -> np.ndarray:
        """Probabilities (n,) (or (n, N)) float64 for n texts' token ids laid end to end (see :meth:`encode`).

        Texts are batched by length (longest first), so a batch holds little
        padding, and a batch holds at most ``batch_size`` texts and about
        ``BATCH_TOKENS`` token positions (fewer texts when they are long), so
        the (B, T, units) arrays stay a few tens of MB for any text length.
        Batches run on several threads (``engine.threads``).
        ``offsets`` (n,) (or (n, N)) float32, if given, is added to each text's logits (see :meth:`run`).
        """
        starts = np.cumsum(lengths) - lengths
        order = np.argsort(-lengths, kind="stable")
        result = np.empty((len(lengths),) if self.head_units == 1 else (len(lengths), self.head_units))
        batches, start = [], 0
        while start < len(order):
            longest = int(lengths[order[start]])
            batches.append(order[start : start + max(1, min(batch_size, BATCH_TOKENS // max(longest, 1)))])
            start += len(batches[-1])

        def predict_batch(rows: np.ndarray) -> None:
            batch_lengths = lengths[rows]
            steps = np.arange(int(batch_lengths[0]))
            index = starts[rows][:, None] + steps[None, :]  # (B, T) positions in flat_ids
            padding = steps[None, :] >= batch_lengths[:, None]
            ids = np.where(padding, 0, flat_ids[np.where(padding, 0, index)]) if len(steps) else index
            row_offsets = None if offsets is None else offsets[rows]
            result[rows], _ = self.run(ids, batch_lengths, offsets=row_offsets)

        with single_threaded_blas(min(len(lengths), batch_size)):
            in_threads(predict_batch, batches)
        return result

    def predict_proba(self, texts: Iterable[str], batch_size: int = DEFAULT_BATCH_SIZE) -> np.ndarray:
        """Probabilities of positive, (n,) float64 (with N classes, of each class: (n, N))."""
        flat, lengths = self.encode(texts)
        return self.predict_ids(flat, lengths, batch_size)

    def encode(self, texts: Iterable[str]) -> tuple[np.ndarray, np.ndarray]:
        """All texts' token ids end to end, int64 (total,), and each text's token count, int64 (n,).

        Only the ids are kept (8 bytes a token), never the token strings: the
        texts are split and looked up as UTF-8 bytes with array operations
        (``engine.encoding``), the same ids as ``token_ids`` text by text.
        Should the vocabulary have no ``table`` (two tokens share a key, see
        ``Vocabulary.table``), or fewer than ``TOKEN_TABLE_FROM_TEXTS`` texts
        come before it is built, a list is tokenized in one batch
        (``text.tokenize_batch``) and looked up with one ``map`` over the dict.
        """
        texts = texts if isinstance(texts, list) else list(texts)
        use_table = self.vocabulary.has_table or len(texts) >= TOKEN_TABLE_FROM_TEXTS
        table = self.vocabulary.table if use_table else None
        if table is not None:
            return encode_texts(texts, table, self.vocabulary.oov_id, self.output_sequence_length)
        tokens = tokenize_batch(texts)
        if tokens is not None:
            ids = np.array(list(map(self.vocabulary.ids.__getitem__, tokens)), dtype=np.int64)
            ends = np.flatnonzero(ids == TEXT_END_ID)
            lengths = np.diff(ends, prepend=-1) - 1
            keep = ids != TEXT_END_ID
            if self.output_sequence_length:
                position = np.arange(len(ids)) - np.repeat(ends - lengths, lengths + 1)
                keep &= position < self.output_sequence_length
                lengths = np.minimum(lengths, self.output_sequence_length)
            return ids[keep], lengths
        lookup = self.vocabulary.ids.__getitem__
        flat, lengths = array.array("q"), array.array("q")
        for text in texts:
            tokens = self.tokens(text)
            flat.extend(map(lookup, tokens))
            lengths.append(len(tokens))
        return np.frombuffer(flat, dtype=np.int64), np.frombuffer(lengths, dtype=np.int64)

    def unknown_counts(self, texts: Iterable[str]) -> tuple[np.ndarray, np.ndarray]:
        """Per text, the tokens read that are outside the vocabulary and all tokens read: two int64 (n,).

        The tokens are those :meth:`encode` gives (truncated to ``output_sequence_length`` if set).
        """
        flat, lengths = self.encode(texts)
        return count_per_text(flat == self.vocabulary.oov_id, lengths), lengths

    def per_token(self, text: str) -> tuple[list[str], np.ndarray]:
        """The many-to-many view: the tokens read and the probability after each one, (n_tokens,) (or (n_tokens, N))."""
        tokens = self.tokens(text)
        ids = np.array([self.vocabulary.encode(tokens)], dtype=np.int64).reshape(1, len(tokens))
        probabilities, _ = self.run(ids, np.array([len(tokens)]), return_sequences=True)
        return tokens, probabilities[0].astype(np.float64)

    def step_logits(self, text: str) -> tuple[list[str], np.ndarray]:
        """The tokens read and, after each, the head's logit without its bias: (n_tokens,) float64
        (with N classes, each class's: (n_tokens, N)).

        That is the head's kernel times what it reads after the token (the
        state, or the pooling over the tokens so far), the recurrent branch's
        share of a hybrid model's logit (see ``engine.hybrid``).
        """
        tokens = self.tokens(text)
        kernel = self.head_kernel.astype(np.float64)  # (width, K)
        if tokens:
            ids = np.array([self.vocabulary.encode(tokens)], dtype=np.int64)
            features, _ = self.run(ids, np.array([len(tokens)]), return_sequences=True, head=False)  # (1, T, width)
            logits = features[0].astype(np.float64) @ kernel  # (T, K)
        else:
            logits = np.zeros((0, kernel.shape[1]))
        return tokens, logits[:, 0] if self.head_units == 1 else logits

    def stream(self, id_chunks: Iterable[Sequence[int]]) -> tuple[float, int]:
        """Read one long text in chunks of token ids, carrying the state from chunk to chunk.

        Returns:
            (probability after the last token (a float, or (N,) for N classes), number of tokens read).
            For a unidirectional model this equals reading the text in one go (to float32 rounding).

        Raises SentimentError for a bidirectional or pooled model.
        """
        reader = self.stream_reader()
        for chunk in id_chunks:
            reader.read(chunk)
        return reader.probability(), reader.tokens

    def stream_reader(self) -> StreamReader:
        """A :class:`StreamReader` at the start of a text; SentimentError for a bidirectional or pooled model."""
        if self.bidirectional:
            raise SentimentError(BIDIRECTIONAL_STREAM_ERROR)
        if self.pooling != "last":
            raise SentimentError(POOLING_STREAM_ERROR)
        return StreamReader(self)


class StreamReader:
    """One text read chunk by chunk through a unidirectional, last-state engine, the state carried between chunks."""

    def __init__(self, engine: NumpyRecurrentEngine):
        self.engine = engine
        self.state = engine.initial_state(1)
        self.tokens = 0  # token ids read so far

    def read(self, chunk: Sequence[int]) -> None:
        """Read the next chunk of token ids (any length, empty included)."""
        if len(chunk):
            ids = np.asarray(chunk, dtype=np.int64).reshape(1, -1)
            with single_threaded_blas(len(chunk)):
                _, self.state = self.engine.run(ids, np.array([ids.shape[1]]), self.state)
            self.tokens += ids.shape[1]

    def read_tokens(self, tokens: Sequence[str]) -> None:
        """Read the next chunk of tokens (strings), as :meth:`read` reads their ids."""
        self.read(self.engine.vocabulary.encode(tokens))

    def features(self) -> np.ndarray:
        """What the head reads after the tokens so far: the top layer's output state, (1, units) float32."""
        return self.state[-1][0][0]  # top layer, forward cell, output state

    def probability(self) -> float | np.ndarray:
        """The probability of positive after the tokens read so far (with N classes, of each: (N,) float64)."""
        probabilities = head_probabilities(dense(self.features(), self.engine.head_kernel, self.engine.head_bias))[0]
        return float(probabilities) if np.ndim(probabilities) == 0 else probabilities.astype(np.float64)


POOLING_STREAM_ERROR = (
    "Cannot stream a model that pools over time (model.pooling): only models that read the last state "
    "carry everything they need from chunk to chunk; predict it in one go (without --stream)."
)
BIDIRECTIONAL_STREAM_ERROR = (
    "Cannot stream a bidirectional model: its backward pass reads the text from the end, "
    "so it needs the whole text at once; predict it in one go (without --stream)."
)


class NumpyBagOfWordsEngine:
    """The ``kind = "bow"`` baseline in NumPy: multi-hot (B, vocabulary) -> relu layers -> sigmoid (B,) (or softmax (B, N)).

    The multi-hot vector is never built: the first layer adds up the kernel
    rows of the distinct n-grams present (same result, far less memory).
    Texts with the same bag get bit-for-bit the same answer within a call, and
    alone in any two calls: the rows are added in ascending id order, and a
    batch runs each distinct bag through the layers once. (In batches of other
    sizes the hidden layers' matrix products may round differently: equal to 1e-6.)
    """

    kind = "bow"
    bidirectional = False

    def __init__(self, vocabulary: Vocabulary, ngrams: int, dense_layers: list[tuple[np.ndarray, np.ndarray]]):
        self.vocabulary = vocabulary
        self.ngrams = ngrams
        self.dense_layers = [tuple(as_float32(kernel, bias)) for kernel, bias in dense_layers]

    def tokens(self, text: str) -> list[str]:
        """The words of the text (its unigrams)."""
        return tokenize_py(text)

    def grams(self, text: str) -> list[str]:
        """The text's 1- to ``ngrams``-grams, as the Keras baseline's ``TextVectorization`` forms them."""
        return token_ngrams(tokenize_py(text), self.ngrams)

    def unknown_counts(self, texts: Iterable[str]) -> tuple[np.ndarray, np.ndarray]:
        """Per text, its words outside the vocabulary and all its words: two int64 (n,)."""
        words = [self.tokens(text) for text in texts]
        unknown = [sum(self.vocabulary.unknown(text_words)) for text_words in words]
        return np.array(unknown, dtype=np.int64), np.array([len(w) for w in words], dtype=np.int64)

    def predict_proba(self, texts: Sequence[str], batch_size: int = DEFAULT_BATCH_SIZE) -> np.ndarray:
        """Probabilities of positive, (n,) float64 (with N classes, of each class: (n, N))."""
        with single_threaded_blas(len(texts)):
            batches = [self._predict_batch(texts[s : s + batch_size]) for s in range(0, len(texts), batch_size)]
        units = self.dense_layers[-1][0].shape[1]
        empty = np.zeros(0) if units == 1 else np.zeros((0, units))
        return np.concatenate(batches).astype(np.float64) if batches else empty

    def _predict_batch(self, texts: Sequence[str]) -> np.ndarray:
        (first_kernel, first_bias), *rest = self.dense_layers
        bags = [tuple(sorted(set(self.vocabulary.encode(self.grams(text))))) for text in texts]
        distinct = {bag: row for row, bag in enumerate(dict.fromkeys(bags))}
        x = multi_hot_product(list(distinct), first_kernel)
        x += first_bias
        for kernel, bias in rest:
            x = dense(np.maximum(x, 0), kernel, bias)
        return head_probabilities(x)[[distinct[bag] for bag in bags]]

    def per_token(self, text: str):
        raise SentimentError(BOW_VIEW_ERROR)

    def stream(self, id_chunks):
        raise SentimentError(BOW_VIEW_ERROR)

    def stream_reader(self):
        raise SentimentError(BOW_VIEW_ERROR)


def count_per_text(flags: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """How many of each text's entries are set: ``flags`` (total,) bool laid end to end, ``lengths`` (n,) -> (n,) int64."""
    rows = np.repeat(np.arange(len(lengths)), lengths)
    return np.bincount(rows[flags], minlength=len(lengths)).astype(np.int64)


def multi_hot_product(bags: Sequence[Sequence[int]], kernel: np.ndarray) -> np.ndarray:
    """The multi-hot vectors of B bags of n-gram ids (B, V) times ``kernel`` (V, k), without building them: (B, k) float32.

    Each bag holds distinct ids (unknown n-grams once, as ``[UNK]``); its kernel rows are added one at
    a time in the bag's order, so equal bags in the same order give bit-for-bit equal rows.
    """
    rows = np.repeat(np.arange(len(bags)), [len(ids) for ids in bags])
    columns = np.fromiter((i for ids in bags for i in ids), dtype=np.int64, count=len(rows))
    x = np.zeros((len(bags), kernel.shape[1]), np.float32)
    np.add.at(x, rows, kernel[columns])
    return x


BOW_VIEW_ERROR = (
    "The bag-of-words model reads no order, so it has no per-token or streaming view: "
    'use a recurrent or hybrid model (model.kind = "rnn" or "hybrid").'
)

NumpyEngine = NumpyRecurrentEngine | NumpyBagOfWordsEngine
