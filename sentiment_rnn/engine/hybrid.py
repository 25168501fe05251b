"""The NumPy hybrid model: the recurrent engine and a wide n-gram branch, their logits summed.

Shapes, for n texts: wide logits (n,) = multi-hot n-grams (n, V) @ wide kernel (V, 1),
computed without building the multi-hot vectors; the recurrent engine adds them to its
head's logits before the sigmoid: probability (n,) float64.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sentiment_rnn.engine.cells import as_float32, single_threaded_blas
from sentiment_rnn.engine.models import DEFAULT_BATCH_SIZE, NumpyRecurrentEngine, Vocabulary, multi_hot_product
from sentiment_rnn.errors import SentimentError
from sentiment_rnn.text import token_ngrams, tokenize_py


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

    def wide_logits(self, texts: Sequence[str], batch_size: int = DEFAULT_BATCH_SIZE) -> np.ndarray:
        """The wide branch's logit of every text, (n,) float32."""
        logits = np.zeros(len(texts), np.float32)
        with single_threaded_blas(len(texts)):
            for start in range(0, len(texts), batch_size):
                batch = [self.grams(text) for text in texts[start : start + batch_size]]
                logits[start : start + len(batch)] = multi_hot_product(batch, self.wide_vocabulary, self.wide_kernel)[
                    :, 0
                ]
        return logits

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
