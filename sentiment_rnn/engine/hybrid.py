"""The NumPy hybrid model: the recurrent engine and a wide n-gram branch, their logits summed.

Shapes, for n texts: wide logits (n,) = multi-hot n-grams (n, V) @ wide kernel (V, 1),
computed without building the multi-hot vectors; the recurrent engine adds them to its
head's logits before the sigmoid: probability (n,) float64. With N > 2 classes the
kernel is (V, N), the logits (n, N), and a softmax gives (n, N).
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterator, Sequence

import numpy as np

from sentiment_rnn.engine.cells import as_float32
from sentiment_rnn.engine.models import DEFAULT_BATCH_SIZE, NumpyRecurrentEngine, Vocabulary
from sentiment_rnn.engine.ngrams import NgramTable
from sentiment_rnn.errors import SentimentError
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
    bidirectional = False  # a whole-text model either way: it cannot stream

    def __init__(self, recurrent: NumpyRecurrentEngine, wide_vocabulary: WideVocabulary, ngrams: int, wide_kernel):
        self.recurrent = recurrent
        self.vocabulary = recurrent.vocabulary
        self.wide_vocabulary = wide_vocabulary
        self.ngrams = ngrams
        (self.wide_kernel,) = as_float32(wide_kernel)

    def tokens(self, text: str) -> list[str]:
        """The tokens the recurrent branch reads (see ``NumpyRecurrentEngine.tokens``)."""
        return self.recurrent.tokens(text)

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

    def per_token(self, text: str):
        raise SentimentError(HYBRID_VIEW_ERROR)

    def stream(self, id_chunks):
        raise SentimentError(HYBRID_VIEW_ERROR)

    def stream_reader(self):
        raise SentimentError(HYBRID_VIEW_ERROR)


def _pairs(columns: list[list[int]], start: int) -> tuple[int, np.ndarray, np.ndarray]:
    """(stop, rows, columns) of texts ``start``, ... given each one's n-gram columns: distinct, ascending."""
    distinct = [sorted(set(text_columns)) for text_columns in columns]
    rows = np.repeat(np.arange(len(distinct)), [len(text_columns) for text_columns in distinct])
    flat = np.fromiter((c for text_columns in distinct for c in text_columns), dtype=np.int64, count=len(rows))
    return start + len(distinct), rows, flat


HYBRID_VIEW_ERROR = (
    "The hybrid model's wide n-gram branch reads the whole text at once, so it has no per-token or "
    'streaming view: use a recurrent model (model.kind = "rnn").'
)
