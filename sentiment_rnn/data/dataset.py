"""A labelled dataset in memory, its label counts, and the files of the built-in corpus."""

from __future__ import annotations

import dataclasses
import importlib.resources
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sentiment_rnn.data.labels import DEFAULT_CLASSES, class_counts
from sentiment_rnn.errors import SentimentError

BUILTIN_CORPUS = "reviews.csv"


@dataclass(frozen=True)
class Dataset:
    """Texts with their labels, one class each.

    Attributes:
        texts: the texts, one string each.
        labels: int array of shape (n,), the class of each text: an index into ``classes``
            (for the default two, 1 = positive, 0 = negative).
        source: where the data came from, for messages and the model's metadata.
        skipped: rows dropped because their text was missing or blank.
        parts: for data read from several sources, each one's summary
            (``{"source", "rows", "skipped", "labels"}``, see ``data.sources``); () for one source.
        other_labels: rows dropped because a label mapping (``--positive``/``--negative``) left their label out.
        row_sources: for data read from several sources, int array (n,): the index in ``parts`` of each
            row's source; None for one source.
        classes: the class names, index = class (``("negative", "positive")`` unless the data or config
            names others).
    """

    texts: list[str]
    labels: np.ndarray
    source: str
    skipped: int = 0
    parts: tuple[dict, ...] = ()
    other_labels: int = 0
    row_sources: np.ndarray | None = None
    classes: tuple[str, ...] = DEFAULT_CLASSES

    def __len__(self) -> int:
        return len(self.texts)

    def label_counts(self) -> dict[str, int]:
        """Examples per class, by name (``{"positive": p, "negative": n}`` for the default two)."""
        return class_counts(self.labels, self.classes)

    def subset(self, indices) -> Dataset:
        """The rows at ``indices`` (int array), with their labels and sources; ``parts`` and counts are not kept."""
        indices = np.asarray(indices, dtype=np.int64)
        sources = None if self.row_sources is None else self.row_sources[indices]
        return Dataset(
            [self.texts[i] for i in indices],
            self.labels[indices],
            self.source,
            row_sources=sources,
            classes=self.classes,
        )

    def with_classes(self, classes: tuple[str, ...]) -> Dataset:
        """The same rows labelled by ``classes`` (which must hold each of this dataset's classes), matched by name.

        Raises:
            SentimentError: a class of this dataset that ``classes`` lacks.
        """
        if tuple(classes) == self.classes:
            return self
        missing = [name for name in self.classes if name not in classes]
        if missing:
            raise SentimentError(
                f"{self.source} has the class {missing[0]!r}, which is not one of {', '.join(classes)}: "
                "name every class with --labels, or group labels with --label-map."
            )
        index = np.array([classes.index(name) for name in self.classes], dtype=np.int64)
        labels = index[self.labels] if len(self.labels) else self.labels.astype(np.int64)
        return dataclasses.replace(self, labels=labels.astype(self.labels.dtype), classes=tuple(classes))


def corpus_file(name: str) -> Path:
    """Path of a file shipped in the built-in corpus (the repository's ``data/``)."""
    return Path(str(importlib.resources.files("sentiment_rnn.corpus").joinpath(name)))
