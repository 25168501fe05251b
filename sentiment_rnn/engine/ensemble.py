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

from sentiment_rnn.engine.hybrid import TokenParts
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

    def unknown_counts(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Per text, its tokens outside the (shared) vocabulary and all its tokens: two int64 (n,)."""
        return self.members[0].unknown_counts(texts)

    def predict_proba(self, texts: Sequence[str], batch_size: int = DEFAULT_BATCH_SIZE) -> np.ndarray:
        """The mean over the members of their probabilities of positive, (n,) float64."""
        texts = list(texts)
        return np.mean([member.predict_proba(texts, batch_size=batch_size) for member in self.members], axis=0)

    def per_token(self, text: str) -> tuple[list[str], np.ndarray]:
        """The tokens read and, after each, the members' mean probability: (n_tokens,) float64."""
        views = [member.per_token(text) for member in self.members]
        return views[0][0], np.mean([probabilities for _, probabilities in views], axis=0)

    def per_token_parts(self, text: str) -> TokenParts:
        """For an ensemble of hybrids: the members' mean probability after each token and the means of its terms.

        The members average probabilities, so the mean terms do not add up to the
        mean probability exactly.
        """
        return TokenParts.mean([member.per_token_parts(text) for member in self.members])

    def stream(self, id_chunks: Iterable[Sequence[int]]) -> tuple[float, int]:
        """Read one long text in chunks through every member at once; (mean probability at the end, tokens read).

        Each chunk is read once and given to every member's reader, so memory stays
        flat in the text's length as for one model.

        Raises:
            SentimentError: when the members cannot stream (bidirectional, pooled, bag of words).
        """
        readers = [member.stream_reader() for member in self.members]
        for chunk in id_chunks:
            for reader in readers:
                reader.read(chunk)
        mean = np.mean([reader.probability() for reader in readers], axis=0)
        return (float(mean) if np.ndim(mean) == 0 else mean), readers[0].tokens

    def stream_reader(self) -> MeanStreamReader:
        """The members' stream readers behind one reader (see :class:`MeanStreamReader`)."""
        return MeanStreamReader([member.stream_reader() for member in self.members])


class MeanStreamReader:
    """Several stream readers of one text as one: each chunk of tokens goes to every reader; the mean answer.

    Args:
        readers: readers with ``read_tokens(tokens)``, ``probability()``, ``tokens``
            and, for hybrids, ``parts()`` (either engine's: NumPy or Keras).
    """

    def __init__(self, readers: Sequence):
        self.readers = list(readers)

    @property
    def tokens(self) -> int:
        return self.readers[0].tokens

    def read_tokens(self, tokens: Sequence[str]) -> None:
        for reader in self.readers:
            reader.read_tokens(tokens)

    def probability(self) -> float | np.ndarray:
        """The readers' mean probability: of positive, or with N > 2 classes of each, (N,)."""
        mean = np.mean([reader.probability() for reader in self.readers], axis=0)
        return float(mean) if np.ndim(mean) == 0 else mean

    def parts(self) -> tuple:
        """The mean of the readers' (recurrent, ngrams, bias) terms (hybrid readers only): floats, or (N,) each."""
        means = [np.mean([reader.parts()[k] for reader in self.readers], axis=0) for k in range(3)]
        return tuple(float(mean) if np.ndim(mean) == 0 else mean for mean in means)
