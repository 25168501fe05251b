"""The hybrid model's wide branch: a multi-hot n-gram vectorizer and NBSVM's log-count ratios.

The wide branch is a linear layer over the multi-hot vector of a text's 1- to
``model.ngrams``-grams: one weight per n-gram, (V, 1), no bias (for N > 2
classes one per n-gram and class, (V, N), the ratios of each class against the rest). Its weights
start at ``model.wide_scale`` times the log-count ratios of the n-grams,
counted on the training split only (Wang & Manning 2012, "Baselines and
Bigrams"), so from the first step it is a naive-Bayes classifier that
training then corrects, next to the recurrent branch (``models.build_hybrid``).
Read in order, its logit after each token is that of the n-grams so far
(:class:`RunningWideLogit`, the Keras twin of ``engine.hybrid.RunningNgrams``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sentiment_rnn.config import Config

WIDE_TOKENIZER_LAYER = "wide_tokenizer"  # the multi-hot n-gram vectorizer of the wide branch
WIDE_LAYER = "wide"  # the wide branch's linear layer, one weight per n-gram, no bias
ADAPT_BATCH = 1024  # texts per batch while adapting the vocabulary
COUNT_BATCH = 256  # texts per (batch, V) multi-hot block while counting
RUNNING_VALUES = 1 << 22  # multi-hot values (tokens x V) per block while reading in order: 16 MB as float32


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


class RunningWideLogit:
    """A hybrid Keras model's wide logit of a text read token by token, through its own wide vectorizer and layer.

    After each token it is the wide layer applied to the multi-hot vector of every
    n-gram ending at or before that token: the prefix's multi-hot vector, so
    after the last token the whole text's wide logit. For each token the
    vectorizer reads a window, the token and the ``ngrams - 1`` before it joined
    by spaces (the tokenizer splits them back into the same tokens); the window's
    multi-hot vector holds every n-gram ending at the token (and some ending
    before it, already seen), and OR-ed into the carried vector of the n-grams
    seen, (V,) bool, it gives the prefix's. Tokens are read in blocks of
    ``RUNNING_VALUES // V``, so memory does not grow with the text.

    Args:
        model: a hybrid model (built or loaded), with its wide vectorizer and wide layer.
        ngrams: its ``model.ngrams``.
    """

    def __init__(self, model, ngrams: int):
        self.vectorizer = model.get_layer(WIDE_TOKENIZER_LAYER)
        self.layer = model.get_layer(WIDE_LAYER)
        self.ngrams = ngrams
        self.seen = np.zeros(self.vectorizer.vocabulary_size(), dtype=bool)
        self.tail: list[str] = []  # the last ngrams - 1 tokens read
        units = self.layer.units  # 1, or N > 2 classes
        self.logit: float | np.ndarray = 0.0 if units == 1 else np.zeros(units)

    def read(self, tokens: Sequence[str]) -> np.ndarray:
        """Read the next tokens; the wide logit after each of them, (len(tokens),) float64 (N > 2 classes:
        (len(tokens), N), and ``logit`` is (N,))."""
        import tensorflow as tf

        window = [*self.tail, *tokens]
        texts = [
            " ".join(window[max(end - self.ngrams + 1, 0) : end + 1]) for end in range(len(self.tail), len(window))
        ]
        self.tail = window[len(window) - self.ngrams + 1 :] if self.ngrams > 1 else []
        rows = max(1, RUNNING_VALUES // len(self.seen))
        units = np.size(self.logit)
        logits = [np.zeros((0, units))]
        for start in range(0, len(texts), rows):
            multi_hot = np.asarray(self.vectorizer(tf.constant(texts[start : start + rows]))) > 0  # (b, V)
            multi_hot[0] |= self.seen
            running = np.logical_or.accumulate(multi_hot, axis=0)  # (b, V): the n-grams up to each token
            self.seen = running[-1]
            logits.append(np.asarray(self.layer(running.astype(np.float32)), dtype=np.float64))  # (b, K)
        logits = np.concatenate(logits)
        logits = logits[:, 0] if units == 1 else logits
        if len(logits):
            self.logit = float(logits[-1]) if units == 1 else logits[-1]
        return logits
