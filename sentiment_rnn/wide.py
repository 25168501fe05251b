"""The hybrid model's wide branch: a multi-hot n-gram vectorizer and NBSVM's log-count ratios.

The wide branch is a linear layer over the multi-hot vector of a text's 1- to
``model.ngrams``-grams: one weight per n-gram, (V, 1), no bias (for N > 2
classes one per n-gram and class, (V, N), the ratios of each class against the rest). Its weights
start at ``model.wide_scale`` times the log-count ratios of the n-grams,
counted on the training split only (Wang & Manning 2012, "Baselines and
Bigrams"), so from the first step it is a naive-Bayes classifier that
training then corrects, next to the recurrent branch (``models.build_hybrid``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sentiment_rnn.config import Config

WIDE_TOKENIZER_LAYER = "wide_tokenizer"  # the multi-hot n-gram vectorizer of the wide branch
WIDE_LAYER = "wide"  # the wide branch's linear layer, one weight per n-gram, no bias
ADAPT_BATCH = 1024  # texts per batch while adapting the vocabulary
COUNT_BATCH = 256  # texts per (batch, V) multi-hot block while counting


def make_wide_tokenizer(config: Config):
    """The unadapted wide vectorizer: multi-hot 1- to ``model.ngrams``-grams, ``model.wide_max_tokens`` of them."""
    from sentiment_rnn.text import make_vectorizer

    return make_vectorizer(
        config.model.wide_max_tokens, output_mode="multi_hot", ngrams=config.model.ngrams, name=WIDE_TOKENIZER_LAYER
    )


def adapted_wide_tokenizer(config: Config, texts: Sequence[str]):
    """:func:`make_wide_tokenizer` adapted on ``texts`` (the training split): the most frequent n-grams."""
    import tensorflow as tf

    tokenizer = make_wide_tokenizer(config)
    tokenizer.adapt(tf.data.Dataset.from_tensor_slices(tf.constant(list(texts), tf.string)).batch(ADAPT_BATCH))
    return tokenizer


def wide_layer(units: int = 1):
    """The wide branch's ``Dense(units)`` without bias, its weights zero until set (multi-hot (B, V) -> (B, units))."""
    import keras

    return keras.layers.Dense(units, use_bias=False, kernel_initializer="zeros", name=WIDE_LAYER)


def log_count_ratios(wide_tokenizer, texts: Sequence[str], labels, alpha: float, units: int = 1) -> np.ndarray:
    """NBSVM's log-count ratios of every n-gram of an adapted multi-hot vectorizer: (V,) float64, or (V, units).

    ``r = log(p / |p|_1) - log(q / |q|_1)``, where ``p`` is ``alpha`` plus the number of positive
    texts holding the n-gram and ``q`` the same over negative texts: positive for n-grams of
    positive texts, negative for those of negative ones, near 0 for n-grams as common in both.
    With ``units`` > 1 (N classes), column k is the ratio of class k's texts against all others'.

    Args:
        wide_tokenizer: the adapted wide vectorizer.
        texts: the training texts (n,), and ``labels`` their classes (n,); never validation or test data.
        alpha: the smoothing count (``model.wide_alpha``), > 0.
        units: 1 for two classes (0/1 labels), else the number of classes.
    """
    import tensorflow as tf

    labels = np.asarray(labels, np.int64)
    classes = 2 if units == 1 else units
    counts = np.zeros((classes, wide_tokenizer.vocabulary_size()))  # (classes, V): texts of each class holding it
    for start in range(0, len(texts), COUNT_BATCH):
        multi_hot = wide_tokenizer(tf.constant(list(texts[start : start + COUNT_BATCH])))  # (b, V)
        one_hot = np.eye(classes, dtype=np.float32)[labels[start : start + COUNT_BATCH]].T  # (classes, b)
        counts += tf.matmul(tf.constant(one_hot), tf.cast(multi_hot, tf.float32)).numpy()
    if units == 1:
        q, p = counts + alpha
        return np.log(p / p.sum()) - np.log(q / q.sum())
    p = counts + alpha  # (N, V)
    q = counts.sum(axis=0, keepdims=True) - counts + alpha  # every other class's texts
    return (np.log(p / p.sum(axis=1, keepdims=True)) - np.log(q / q.sum(axis=1, keepdims=True))).T  # (V, N)
