"""Several datasets read as one: every source's rows in turn, and what each contributed.

A ``[data]`` config section with ``[[data.sources]]`` tables names several
datasets, each read with its own options (format, columns, encoding, split,
``skip_every``); ``formats.dataset_from_config`` reads each and joins them here.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sentiment_rnn.data.dataset import Dataset


def every_but(dataset: Dataset, n: int) -> Dataset:
    """``dataset`` without its rows i % n == 0 (0-based, in reading order); ``n = 0`` keeps every row.

    Example: MR's standard split trains on ``every_but(mr, 10)`` and tests on the rest.
    """
    if n <= 0:
        return dataset
    kept = [i for i in range(len(dataset)) if i % n]
    return Dataset(
        [dataset.texts[i] for i in kept],
        dataset.labels[kept],
        dataset.source,
        dataset.skipped,
        other_labels=dataset.other_labels,
        classes=dataset.classes,
    )


def source_summary(dataset: Dataset) -> dict:
    """What one source contributed, as ``meta.json`` records it: source, rows, skipped, labels."""
    return {
        "source": dataset.source,
        "rows": len(dataset),
        "skipped": dataset.skipped,
        "labels": dataset.label_counts(),
    }


def join(datasets: Sequence[Dataset]) -> Dataset:
    """The rows of ``datasets`` one after the other; ``source`` joins their names with " + ", ``parts`` lists each.

    ``row_sources`` says which of ``datasets`` each row came from (its index). Every dataset
    is labelled by the same classes (``formats.resolve_classes`` makes them so).
    """
    classes = datasets[0].classes
    if any(dataset.classes != classes for dataset in datasets):
        raise ValueError(f"joined datasets must have the same classes, got {[d.classes for d in datasets]}")
    return Dataset(
        [text for dataset in datasets for text in dataset.texts],
        np.concatenate([dataset.labels for dataset in datasets]).astype(np.int64),
        " + ".join(dataset.source for dataset in datasets),
        sum(dataset.skipped for dataset in datasets),
        tuple(source_summary(dataset) for dataset in datasets),
        sum(dataset.other_labels for dataset in datasets),
        np.repeat(np.arange(len(datasets)), [len(dataset) for dataset in datasets]),
        classes,
    )
