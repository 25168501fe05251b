"""An ensemble in NumPy: several engines of one vocabulary answering as one, with their mean probability.

Averaging the members' probabilities (not their logits) is the usual deep
ensemble (Lakshminarayanan et al. 2017): each member is calibrated on its own
at training time, and the mean of calibrated probabilities stays a probability
of the same scale. Every probability here is float64 of shape (n,), as each
member's engine gives it (or (n, N) for N classes).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from sentiment_rnn.engine.models import DEFAULT_BATCH_SIZE


class NumpyEnsembleEngine:
    """The members' NumPy engines (recurrent, hybrid or bag of words) behind one engine's interface.

    The members share the tokenizer's vocabulary (they are trained on one
    split); ``vocabulary`` and ``tokens`` are the first member's.
    """

    def __init__(self, members: Sequence):
        if not members:
            raise ValueError("an ensemble needs at least one member")
        self.members = list(members)
        self.kind = self.members[0].kind
        self.vocabulary = self.members[0].vocabulary

    def tokens(self, text: str) -> list[str]:
        return self.members[0].tokens(text)

    def predict_proba(self, texts: Sequence[str], batch_size: int = DEFAULT_BATCH_SIZE) -> np.ndarray:
        """The mean over the members of their probabilities of positive, (n,) float64."""
        texts = list(texts)
        return np.mean([member.predict_proba(texts, batch_size=batch_size) for member in self.members], axis=0)

    def per_token(self, text: str) -> tuple[list[str], np.ndarray]:
        """The tokens read and, after each, the members' mean probability: (n_tokens,) float64."""
        views = [member.per_token(text) for member in self.members]
        return views[0][0], np.mean([probabilities for _, probabilities in views], axis=0)

    def stream(self, id_chunks: Iterable[Sequence[int]]) -> tuple[float, int]:
        """Read one long text in chunks through every member at once; (mean probability at the end, tokens read).

        Each chunk is read once and given to every member's reader, so memory stays
        flat in the text's length as for one model.

        Raises:
            SentimentError: when the members cannot stream (bidirectional, pooled, hybrid, bag of words).
        """
        readers = [member.stream_reader() for member in self.members]
        for chunk in id_chunks:
            for reader in readers:
                reader.read(chunk)
        mean = np.mean([reader.probability() for reader in readers], axis=0)
        return (float(mean) if np.ndim(mean) == 0 else mean), readers[0].tokens
