"""The NumPy hybrid model: the recurrent engine and a wide n-gram branch, their logits summed.

Shapes, for n texts: wide logits (n,) = multi-hot n-grams (n, V) @ wide kernel (V, 1),
computed without building the multi-hot vectors; the recurrent engine adds them to its
head's logits before the sigmoid: probability (n,) float64.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence

import numpy as np

from sentiment_rnn.engine.cells import as_float32
from sentiment_rnn.engine.models import DEFAULT_BATCH_SIZE, NumpyRecurrentEngine, Vocabulary
from sentiment_rnn.engine.ngrams import NgramTable
from sentiment_rnn.errors import SentimentError
from sentiment_rnn.text import token_ngrams, tokenize_py

# Fewer texts take the dict: building the table of a 100k-entry vocabulary (0.11 s) costs about
# as much as 3,000 texts by the dict (36 us a text); once built it is kept for every later batch.
NGRAM_TABLE_FROM_TEXTS = 2048


class NumpyHybridEngine:
    """The ``kind = "hybrid"`` model in NumPy: ``sigmoid(recurrent head logit + wide logit)``, (n,) float64.

    Args:
        recurrent: the recurrent branch, with its head (a linear ``Dense(1)``: the engine adds the
            wide logit before its sigmoid).
        wide_vocabulary: the wide vectorizer's n-grams, index = column of the multi-hot vector.
        ngrams: the longest n-gram (``model.ngrams``).
        wide_kernel: (V, 1) float32, one weight per n-gram.
    """

    kind = "hybrid"
    bidirectional = False  # a whole-text model either way: it cannot stream

    def __init__(self, recurrent: NumpyRecurrentEngine, wide_vocabulary: Vocabulary, ngrams: int, wide_kernel):
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
        return NgramTable.build(self.wide_vocabulary.tokens, self.ngrams, self.wide_vocabulary.oov_id)

    def wide_logits(self, texts: Sequence[str], batch_size: int = DEFAULT_BATCH_SIZE) -> np.ndarray:
        """The wide branch's logit of every text, (n,) float32: the kernel rows of its distinct n-grams, summed.

        From ``NGRAM_TABLE_FROM_TEXTS`` texts on, the n-grams' columns come from
        ``ngram_table`` (array operations, a chunk of texts at a time); fewer
        texts (or no table) take the n-gram strings and the dict, ``batch_size``
        texts at a time. Both give each text's columns in ascending order and
        sum them in float64, so a text's logit does not depend on its batch.
        """
        texts = texts if isinstance(texts, list) else list(texts)
        table = self.ngram_table if len(texts) >= NGRAM_TABLE_FROM_TEXTS else None
        pairs = table.columns(texts) if table is not None else self._dict_columns(texts, batch_size)
        logits = np.zeros(len(texts), np.float32)
        for start, stop, rows, columns in pairs:
            weights = self.wide_kernel[columns, 0].astype(np.float64)
            logits[start:stop] = np.bincount(rows, weights=weights, minlength=stop - start)
        return logits

    def _dict_columns(self, texts: list[str], batch_size: int) -> Iterator[tuple[int, int, np.ndarray, np.ndarray]]:
        """What ``NgramTable.columns`` yields, from ``token_ngrams`` strings and the dict, ``batch_size`` texts at a time."""
        for start in range(0, len(texts), batch_size):
            batch = [
                sorted(set(self.wide_vocabulary.encode(self.grams(text)))) for text in texts[start : start + batch_size]
            ]
            rows = np.repeat(np.arange(len(batch)), [len(columns) for columns in batch])
            columns = np.fromiter((c for text_columns in batch for c in text_columns), dtype=np.int64, count=len(rows))
            yield start, start + len(batch), rows, columns

    def predict_proba(self, texts: Sequence[str], batch_size: int = DEFAULT_BATCH_SIZE) -> np.ndarray:
        """Probabilities of positive, (n,) float64."""
        texts = list(texts)
        flat, lengths = self.recurrent.encode(texts)
        return self.recurrent.predict_ids(flat, lengths, batch_size, offsets=self.wide_logits(texts, batch_size))

    def per_token(self, text: str):
        raise SentimentError(HYBRID_VIEW_ERROR)

    def stream(self, id_chunks):
        raise SentimentError(HYBRID_VIEW_ERROR)


HYBRID_VIEW_ERROR = (
    "The hybrid model's wide n-gram branch reads the whole text at once, so it has no per-token or "
    'streaming view: use a recurrent model (model.kind = "rnn").'
)
