"""Length bucketing of training batches: every example once, similar lengths per batch, seeded order."""

from __future__ import annotations

import numpy as np

from sentiment_rnn.data import Dataset
from sentiment_rnn.training import LENGTH_BUCKETS, string_dataset


def batches(dataset: Dataset, seed: int) -> list[list[str]]:
    pipeline = string_dataset(dataset, batch_size=4, shuffle_seed=seed, bucket_by_length=True)
    return [[t.decode() for t in texts.numpy()] for texts, _ in pipeline]


def bucket_of(text: str) -> int:
    return int(np.searchsorted(LENGTH_BUCKETS, len(text.split()), side="right"))


def test_bucketed_batches_hold_every_example_once_and_similar_lengths():
    texts = [" ".join(["w"] * n) + f" #{i}" for i, n in enumerate([1, 2, 3, 9, 10, 12, 20, 40, 70, 2, 5, 11, 13])]
    dataset = Dataset(texts, np.arange(len(texts)) % 2, "test")
    first = batches(dataset, seed=1)
    assert sorted(t for batch in first for t in batch) == sorted(texts)
    assert all(len({bucket_of(t) for t in batch}) == 1 for batch in first)
    assert all(len(batch) <= 4 for batch in first)
    assert batches(dataset, seed=1) == first
    pipeline = string_dataset(dataset, batch_size=4, shuffle_seed=1, bucket_by_length=True)
    assert int(pipeline.cardinality()) == len(first)  # known up front: Keras runs every epoch to its end
