"""The NumPy hybrid model: the recurrent engine and a wide n-gram branch, their logits summed.

Shapes, for n texts: wide logits (n,) = multi-hot n-grams (n, V) @ wide kernel (V, 1),
computed without building the multi-hot vectors; the recurrent engine adds them to its
head's logits before the sigmoid: probability (n,) float64. With N > 2 classes the
kernel is (V, N), the logits (n, N), and a softmax gives (n, N).

Read in order, the model has a probability after every token t too:

    p(t) = sigmoid(recurrent(t) + ngrams(t) + bias)

``recurrent(t)`` is the head's kernel times what it reads after token t (as in the
recurrent model's per-token view), ``bias`` the head's bias, and ``ngrams(t)`` the
wide logit of the text so far: the kernel rows of the distinct n-grams ending at or
before t, each counted the first time it appears (the multi-hot vector of the
prefix), unknown ones once as ``[UNK]``. After the last token it is the whole
text's answer. With N > 2 classes each term is a vector (N,) of the classes' logits
and a softmax takes the sigmoid's place. A calibration fitted at training time is
folded into these weights (``training.temperature``), so the three terms are
calibrated as they stand. A stream carries the n-grams seen (a set of columns, at
most V) and the last ``ngrams - 1`` tokens beside the recurrent state (:class:`RunningNgrams`).
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from sentiment_rnn.engine.cells import as_float32, sigmoid, softmax
from sentiment_rnn.engine.models import DEFAULT_BATCH_SIZE, NumpyRecurrentEngine, StreamReader, Vocabulary
from sentiment_rnn.engine.ngrams import NgramTable
from sentiment_rnn.text import OOV_TOKEN, token_ngrams, tokenize_py

# Fewer texts take the dict: building the table of a 100k-entry vocabulary (0.11 s) costs about
# as much as 3,000 texts by the dict (36 us a text); once built it is kept for every later batch.
NGRAM_TABLE_FROM_TEXTS = 2048
# Until the dict is built, a batch of at most this many n-grams searches the vocabulary's bytes
# instead: 0.02-0.6 ms an n-gram (150k entries), against about 40 ms to build the dict.
SEARCH_UP_TO_NGRAMS = 64


class WideVocabulary:
    """A hybrid model's n-grams, index = row of the wide kernel, kept as the bytes of ``wide_vocabulary.txt``.

    A few n-grams are looked up by searching those bytes (:meth:`search`), so a
    cold ``predict`` of one text builds no list or dict of 100k+ strings;
    ``vocabulary`` (the strings and their dict) is built on first use, for more texts.

    Args:
        lines: every n-gram followed by ``b"\\n"``, in UTF-8 (surrogates passed through),
            all distinct and without a newline: what :meth:`from_grams` makes of a list.
    """

    def __init__(self, lines: bytes):
        self._lines = b"\n" + lines  # every entry is b"\n" + its bytes + b"\n"
        self._newline = np.frombuffer(self._lines, dtype=np.uint8) == 0x0A  # bool (len(_lines),)
        self.size = int(np.count_nonzero(self._newline)) - 1
        if lines.startswith(f"{OOV_TOKEN}\n".encode()):  # as every model's: no search needed
            self.oov_id = 0
        else:
            (oov,) = self.search([OOV_TOKEN], -1)
            self.oov_id = 1 if oov < 0 else oov  # as Vocabulary does

    @classmethod
    def from_grams(cls, grams: Sequence[str]) -> WideVocabulary:
        return cls("".join(gram + "\n" for gram in grams).encode("utf-8", "surrogatepass"))

    def __len__(self) -> int:
        return self.size

    @property
    def lines(self) -> bytes:
        """The bytes ``wide_vocabulary.txt`` holds: every n-gram followed by a newline."""
        return self._lines[1:]

    @property
    def has_dict(self) -> bool:
        """Whether ``vocabulary`` is built (then looking n-grams up in its dict is cheaper than :meth:`search`)."""
        return "vocabulary" in self.__dict__

    @functools.cached_property
    def vocabulary(self) -> Vocabulary:
        """The n-grams as a :class:`Vocabulary` (their list and dict), built on first use."""
        return Vocabulary(self._lines[1:-1].decode("utf-8", "surrogatepass").split("\n") if self.size else [])

    def search(self, grams: Sequence[str], default: int | None = None) -> list[int]:
        """Each n-gram's index (it holds no newline), or ``default`` (None: ``oov_id``) when none has its bytes."""
        find = self._lines.find
        offsets = [find(b"\n" + gram.encode("utf-8", "surrogatepass") + b"\n") for gram in grams]
        # An entry's index is the number of newlines before its leading one: count them from one found
        # entry to the next, so the bytes are scanned once, up to the last entry found.
        found = sorted({offset for offset in offsets if offset >= 0})
        segments = [int(np.count_nonzero(self._newline[a:b])) for a, b in zip([0, *found[:-1]], found)]
        index = dict(zip(found, itertools.accumulate(segments)))
        missing = self.oov_id if default is None else default
        return [index.get(offset, missing) for offset in offsets]


@dataclass(frozen=True)
class TokenParts:
    """A hybrid model's per-token view, term by term: after token t, p(t) = sigmoid(recurrent + ngrams + bias).

    Args:
        tokens: the tokens read: all of the text's (the wide branch reads them all; past
            ``tokenizer.output_sequence_length`` the recurrent term keeps its last value).
        probabilities: (n_tokens,) float64, the probability of positive after each token.
        recurrent: (n_tokens,) float64, the recurrent branch's logit after each token, bias apart.
        ngrams: (n_tokens,) float64, the wide logit of the n-grams ending at or before each token.
        bias: the head's bias, in the same logit units.

    With N > 2 classes every term has a last axis of N, the classes' logits: the three
    arrays are (n_tokens, N), ``bias`` is (N,) and p(t) = softmax(recurrent + ngrams + bias).
    For an ensemble each term is the members' mean, and ``probabilities`` the mean of theirs
    (so there the terms do not add up to it exactly).
    """

    tokens: list[str]
    probabilities: np.ndarray
    recurrent: np.ndarray
    ngrams: np.ndarray
    bias: float | np.ndarray

    @classmethod
    def mean(cls, views: Sequence[TokenParts]) -> TokenParts:
        """An ensemble's view: the members' views of one text, averaged term by term."""
        bias = np.mean([view.bias for view in views], axis=0)
        return cls(
            views[0].tokens,
            *(
                np.mean([getattr(view, name) for view in views], axis=0)
                for name in ("probabilities", "recurrent", "ngrams")
            ),
            float(bias) if np.ndim(bias) == 0 else bias,
        )


def answer_of(logits: np.ndarray, units: int) -> np.ndarray:
    """The probabilities from summed logits: their sigmoid for ``units`` 1 (logits (...,), two classes), else the
    softmax over the last axis (logits (..., N))."""
    return sigmoid(logits) if units == 1 else softmax(logits)


class NumpyHybridEngine:
    """The ``kind = "hybrid"`` model in NumPy: ``sigmoid(recurrent head logit + wide logit)``, (n,) float64.

    Args:
        recurrent: the recurrent branch, with its head (a linear ``Dense(1)``: the engine adds the
            wide logit before its sigmoid).
        wide_vocabulary: the wide vectorizer's n-grams, index = column of the multi-hot vector.
        ngrams: the longest n-gram (``model.ngrams``).
        wide_kernel: (V, 1) float32, one weight per n-gram (with N > 2 classes (V, N), one per n-gram and class).
    """

    kind = "hybrid"

    def __init__(self, recurrent: NumpyRecurrentEngine, wide_vocabulary: WideVocabulary, ngrams: int, wide_kernel):
        self.recurrent = recurrent
        self.vocabulary = recurrent.vocabulary
        self.wide_vocabulary = wide_vocabulary
        self.ngrams = ngrams
        (self.wide_kernel,) = as_float32(wide_kernel)

    @property
    def bidirectional(self) -> bool:
        return self.recurrent.bidirectional

    def tokens(self, text: str) -> list[str]:
        """The tokens the recurrent branch reads (see ``NumpyRecurrentEngine.tokens``)."""
        return self.recurrent.tokens(text)

    def unknown_counts(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Per text, the recurrent branch's tokens outside its vocabulary and all of them: two int64 (n,)."""
        return self.recurrent.unknown_counts(texts)

    def grams(self, text: str) -> list[str]:
        """The text's 1- to ``ngrams``-grams, as the wide ``TextVectorization`` forms them."""
        return token_ngrams(tokenize_py(text), self.ngrams)

    @functools.cached_property
    def ngram_table(self) -> NgramTable | None:
        """The wide vocabulary as an ``engine.ngrams.NgramTable`` (built on first use), or None: use the dict."""
        return NgramTable.build(self.wide_vocabulary.vocabulary.tokens, self.ngrams, self.wide_vocabulary.oov_id)

    def wide_logits(self, texts: Sequence[str], batch_size: int = DEFAULT_BATCH_SIZE) -> np.ndarray:
        """The wide branch's logit of every text, (n,) float32 ((n, N) for N classes): the kernel rows of its
        distinct n-grams, summed.

        From ``NGRAM_TABLE_FROM_TEXTS`` texts on, the n-grams' columns come from
        ``ngram_table`` (array operations, a chunk of texts at a time); fewer
        texts (or no table) take the n-gram strings and the dict, ``batch_size``
        texts at a time, or while the dict is not built and they have at most
        ``SEARCH_UP_TO_NGRAMS`` n-grams, ``WideVocabulary.search``. All give
        each text's columns in ascending order and sum them in float64, so a
        text's logit does not depend on its batch.
        """
        texts = texts if isinstance(texts, list) else list(texts)
        table = self.ngram_table if len(texts) >= NGRAM_TABLE_FROM_TEXTS else None
        if table is not None:
            pairs = table.columns(texts)
        else:
            pairs = self._searched_columns(texts) or self._dict_columns(texts, batch_size)
        units = self.wide_kernel.shape[1]
        logits = np.zeros((len(texts), units), np.float32)
        for start, stop, rows, columns in pairs:
            weights = self.wide_kernel[columns].astype(np.float64)  # (m, units)
            for unit in range(units):
                logits[start:stop, unit] = np.bincount(rows, weights=weights[:, unit], minlength=stop - start)
        return logits[:, 0] if units == 1 else logits

    def _dict_columns(self, texts: list[str], batch_size: int) -> Iterator[tuple[int, int, np.ndarray, np.ndarray]]:
        """What ``NgramTable.columns`` yields, from ``token_ngrams`` strings and the dict, ``batch_size`` texts at a time."""
        encode = self.wide_vocabulary.vocabulary.encode
        for start in range(0, len(texts), batch_size):
            yield start, *_pairs([encode(self.grams(text)) for text in texts[start : start + batch_size]], start)

    def _searched_columns(self, texts: list[str]) -> list[tuple[int, int, np.ndarray, np.ndarray]] | None:
        """What ``NgramTable.columns`` yields, by ``WideVocabulary.search``; None for too many n-grams or a built dict."""
        if self.wide_vocabulary.has_dict:
            return None
        grams, count = [], 0
        for text in texts:
            grams.append(self.grams(text))
            count += len(grams[-1])
            if count > SEARCH_UP_TO_NGRAMS:
                return None
        return [(0, *_pairs([self.wide_vocabulary.search(text_grams) for text_grams in grams], 0))]

    def predict_proba(self, texts: Sequence[str], batch_size: int = DEFAULT_BATCH_SIZE) -> np.ndarray:
        """Probabilities of positive, (n,) float64 (with N classes, of each class: (n, N))."""
        texts = list(texts)
        flat, lengths = self.recurrent.encode(texts)
        return self.recurrent.predict_ids(flat, lengths, batch_size, offsets=self.wide_logits(texts, batch_size))

    def columns(self, grams: Sequence[str]) -> list[int]:
        """Each n-gram's column of the wide kernel (``oov_id`` for an unknown one).

        While the dict is not built, a few n-grams are searched in the
        vocabulary's bytes (see :meth:`wide_logits`).
        """
        if not self.wide_vocabulary.has_dict and len(grams) <= SEARCH_UP_TO_NGRAMS:
            return self.wide_vocabulary.search(grams)
        return self.wide_vocabulary.vocabulary.encode(grams)

    def head_bias(self) -> float | np.ndarray:
        """The head's bias as a float64, (N,) with N > 2 classes."""
        bias = self.recurrent.head_bias.astype(np.float64)
        return float(bias[0]) if len(bias) == 1 else bias

    def per_token_parts(self, text: str) -> TokenParts:
        """The probability after each of the text's tokens and its three terms (see the module docstring)."""
        tokens = tokenize_py(text)
        _, recurrent = self.recurrent.step_logits(text)  # (L,) or (L, N): at most output_sequence_length tokens
        if 0 < len(recurrent) < len(tokens):  # the recurrent branch stopped reading: its term stays
            recurrent = np.concatenate([recurrent, np.repeat(recurrent[-1:], len(tokens) - len(recurrent), axis=0)])
        ngrams = RunningNgrams(self).read(tokens)
        bias = self.head_bias()
        probabilities = answer_of(recurrent + ngrams + bias, self.recurrent.head_units)
        return TokenParts(tokens, probabilities, recurrent, ngrams, bias)

    def per_token(self, text: str) -> tuple[list[str], np.ndarray]:
        """The many-to-many view: the tokens read and the probability after each one, (n_tokens,) float64
        (with N classes, each class's: (n_tokens, N))."""
        parts = self.per_token_parts(text)
        return parts.tokens, parts.probabilities

    def stream_reader(self) -> HybridStreamReader:
        """A :class:`HybridStreamReader` at the start of a text; SentimentError for a bidirectional or pooled model."""
        return HybridStreamReader(self)


class RunningNgrams:
    """The wide logit of a text read token by token: the multi-hot vector of the tokens so far times the kernel.

    After each token it is the sum of the kernel rows of the distinct columns of
    every n-gram ending at or before it, each counted the first time it appears
    (unknown n-grams once, as ``[UNK]``): after the last token, the whole text's
    ``NumpyHybridEngine.wide_logits``. It carries the columns seen (at most the
    wide vocabulary's size) and the last ``ngrams - 1`` tokens, so memory does not
    grow with the text. With N > 2 classes the logits are the classes', (N,) after each token.
    """

    def __init__(self, engine: NumpyHybridEngine):
        self.engine = engine
        self.seen: set[int] = set()
        self.tail: list[str] = []  # the last ngrams - 1 tokens read: the n-grams ending next start there
        self.sums = np.zeros(engine.wide_kernel.shape[1])  # (K,) float64: the kernel rows of the columns seen

    @property
    def logit(self) -> float | np.ndarray:
        """The wide logit of the tokens read so far: a float, or (N,) float64 with N > 2 classes."""
        return float(self.sums[0]) if len(self.sums) == 1 else self.sums.copy()

    def read(self, tokens: Sequence[str]) -> np.ndarray:
        """Read the next tokens; the wide logit after each of them, (len(tokens),) float64 ((len(tokens), N))."""
        n = self.engine.ngrams
        window = [*self.tail, *tokens]
        ends = range(len(self.tail), len(window))  # window positions of the new tokens
        grams = [" ".join(window[end - size + 1 : end + 1]) for end in ends for size in range(1, min(n, end + 1) + 1)]
        columns = iter(self.engine.columns(grams))
        kernel = self.engine.wide_kernel
        logits = np.empty((len(tokens), len(self.sums)))
        for index, end in enumerate(ends):
            for column in itertools.islice(columns, min(n, end + 1)):
                if column not in self.seen:
                    self.seen.add(column)
                    self.sums += kernel[column].astype(np.float64)
            logits[index] = self.sums
        self.tail = window[len(window) - n + 1 :] if n > 1 else []
        return logits[:, 0] if len(self.sums) == 1 else logits


class HybridStreamReader:
    """One text read chunk by chunk through a hybrid engine: the recurrent state and the n-grams seen, carried.

    The recurrent branch streams as the recurrent model does (unidirectional,
    last-state only) and stops after ``tokenizer.output_sequence_length``
    tokens, if set; the wide branch reads every token.

    Raises:
        SentimentError: for a bidirectional or pooled recurrent branch.
    """

    def __init__(self, engine: NumpyHybridEngine):
        self.engine = engine
        self.recurrent: StreamReader = engine.recurrent.stream_reader()
        self.ngrams = RunningNgrams(engine)
        self.tokens = 0  # tokens read so far

    def read_tokens(self, tokens: Sequence[str]) -> None:
        """Read the next chunk of tokens (any length, empty included)."""
        limit = self.engine.recurrent.output_sequence_length
        room = max(limit - self.recurrent.tokens, 0) if limit else len(tokens)
        self.recurrent.read_tokens(tokens[:room])
        self.ngrams.read(tokens)
        self.tokens += len(tokens)

    def parts(self) -> tuple:
        """(recurrent, ngrams, bias): the terms of the logit after the tokens read so far (floats; with N > 2
        classes, (N,) float64 each)."""
        kernel = self.engine.recurrent.head_kernel.astype(np.float64)  # (width, K)
        recurrent = self.recurrent.features()[0].astype(np.float64) @ kernel  # (K,)
        recurrent = float(recurrent[0]) if len(recurrent) == 1 else recurrent
        return recurrent, self.ngrams.logit, self.engine.head_bias()

    def probability(self) -> float | np.ndarray:
        """The probability of positive after the tokens read so far (with N > 2 classes, of each: (N,))."""
        answer = answer_of(np.asarray(sum(self.parts()), dtype=np.float64), self.engine.recurrent.head_units)
        return float(answer) if np.ndim(answer) == 0 else answer


def _pairs(columns: list[list[int]], start: int) -> tuple[int, np.ndarray, np.ndarray]:
    """(stop, rows, columns) of texts ``start``, ... given each one's n-gram columns: distinct, ascending."""
    distinct = [sorted(set(text_columns)) for text_columns in columns]
    rows = np.repeat(np.arange(len(distinct)), [len(text_columns) for text_columns in distinct])
    flat = np.fromiter((c for text_columns in distinct for c in text_columns), dtype=np.int64, count=len(rows))
    return start + len(distinct), rows, flat
