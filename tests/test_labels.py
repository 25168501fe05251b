"""The two classes' names and the one decision threshold."""

from __future__ import annotations

import numpy as np

from sentiment_rnn.data.labels import DEFAULT_THRESHOLD, is_positive, label_for, label_name


def test_label_names():
    assert (label_name(1), label_name(0)) == ("positive", "negative")


def test_a_probability_at_the_threshold_counts_as_positive():
    assert DEFAULT_THRESHOLD == 0.5
    assert [label_for(p) for p in (0.0, 0.4999, 0.5, 1.0)] == ["negative", "negative", "positive", "positive"]
    assert (label_for(0.6, threshold=0.7), label_for(0.7, threshold=0.7)) == ("negative", "positive")
    assert is_positive(np.array([0.2, 0.5, 0.9])).tolist() == [False, True, True]
