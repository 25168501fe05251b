"""A labelled dataset in memory, its label counts, and the files of the built-in corpus."""

from __future__ import annotations

import importlib.resources
from dataclasses import dataclass
from pathlib import Path

import numpy as np

BUILTIN_CORPUS = "reviews.csv"


@dataclass(frozen=True)
class Dataset:
    """Texts with binary labels.

    Attributes:
        texts: the texts, one string each.
        labels: int array of shape (n,), 1 = positive, 0 = negative.
        source: where the data came from, for messages and the model's metadata.
        skipped: rows dropped because their text was missing or blank.
        parts: for data read from several sources, each one's summary
            (``{"source", "rows", "skipped", "labels"}``, see ``data.sources``); () for one source.
        other_labels: rows dropped because a label mapping (``--positive``/``--negative``) left their label out.
        row_sources: for data read from several sources, int array (n,): the index in ``parts`` of each
            row's source; None for one source.
    """

    texts: list[str]
    labels: np.ndarray
    source: str
    skipped: int = 0
    parts: tuple[dict, ...] = ()
    other_labels: int = 0
    row_sources: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.texts)

    def label_counts(self) -> dict[str, int]:
        return label_counts(int(self.labels.sum()), len(self.labels))

    def subset(self, indices) -> Dataset:
        """The rows at ``indices`` (int array), with their labels and sources; ``parts`` and counts are not kept."""
        indices = np.asarray(indices, dtype=np.int64)
        sources = None if self.row_sources is None else self.row_sources[indices]
        return Dataset([self.texts[i] for i in indices], self.labels[indices], self.source, row_sources=sources)


def label_counts(positives: int, rows: int) -> dict[str, int]:
    """How many of ``rows`` examples are positive and negative, ``positives`` of them labelled 1."""
    return {"positive": positives, "negative": rows - positives}


def corpus_file(name: str) -> Path:
    """Path of a file shipped in the built-in corpus (the repository's ``data/``)."""
    return Path(str(importlib.resources.files("sentiment_rnn.corpus").joinpath(name)))
