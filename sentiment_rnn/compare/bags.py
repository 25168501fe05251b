"""Bags of n-grams: what the baseline sees of a text, the accuracy arithmetic, and why a pair stays unseparated."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from sentiment_rnn.data.labels import DEFAULT_THRESHOLD, is_positive, predicted_classes
from sentiment_rnn.text import ngram_name, token_ngrams, tokenize_py

OOV_INDEX = 0  # where a multi-hot vectorizer puts every n-gram outside its vocabulary ("[UNK]")

# Why a bag-of-words model does not separate a pair (see ``why_not_separated``).
SAME_NGRAMS = "same_ngrams"
UNSEEN_NGRAMS = "unseen_ngrams"
TOO_WEAK = "too_weak"


# ---------------------------------------------------------------- accuracy arithmetic


def positive_score(probabilities) -> np.ndarray:
    """How positive each answer is, in [0, 1]: (n,) probabilities of positive as they are; for a model of
    N > 2 classes, (n, N), the expected place among its classes from the first (0) to the last (1),
    ``probabilities @ linspace(0, 1, N)``: for negative, neutral, positive ``p(neutral) / 2 + p(positive)``.

    Texts with the same bag get the same probabilities, hence the same score: the seed example and the
    contrast pairs read every model through it.
    """
    probabilities = np.asarray(probabilities, dtype=np.float64)
    if probabilities.ndim < 2:
        return probabilities
    return probabilities @ np.linspace(0.0, 1.0, probabilities.shape[-1])


def labelled_right(labels, probabilities, threshold: float = DEFAULT_THRESHOLD) -> np.ndarray:
    """Where a model's probabilities give the true labels: bool, the shape of ``labels``.

    Args:
        labels: 0/1 labels, any shape (or one int).
        probabilities: probabilities of positive, the same shape.
    """
    return np.asarray(is_positive(np.asarray(probabilities), threshold) == (np.asarray(labels) == 1))


def sentence_accuracy(labels: np.ndarray, probabilities: np.ndarray, threshold: float = DEFAULT_THRESHOLD) -> float:
    """Fraction of sentences labelled right.

    Args:
        labels: 0/1 labels, any shape.
        probabilities: probabilities of positive, the same shape.
    """
    return float(np.mean(labelled_right(labels, probabilities, threshold)))


def class_accuracy(labels, probabilities) -> float:
    """Fraction of texts labelled right: class indices (n,) against probabilities (n,) of positive (from 0.5 on)
    or (n, N) of N > 2 classes (the most probable)."""
    return float(np.mean(predicted_classes(probabilities) == np.asarray(labels)))


def pair_accuracy(labels: np.ndarray, probabilities: np.ndarray, threshold: float = DEFAULT_THRESHOLD) -> float:
    """Fraction of pairs with both sentences labelled right.

    Args:
        labels: 0/1 labels, shape (pairs, 2).
        probabilities: probabilities of positive, shape (pairs, 2).
    """
    return float(np.mean(np.all(labelled_right(labels, probabilities, threshold), axis=1)))


# ---------------------------------------------------------------- bags of n-grams


def ngrams_of(text: str, ngrams: int) -> set[str]:
    """The set of 1- to ``ngrams``-grams of a text, as the baseline's ``TextVectorization`` forms them.

    The tokens come from the project's tokenizer (``tokenize_py``, the twin of
    the model's own standardize); see ``text.token_ngrams``.
    """
    return set(token_ngrams(tokenize_py(text), ngrams))


def bag_indices(text: str, vocabulary: dict[str, int], ngrams: int) -> frozenset[int]:
    """The indices set to 1 in the text's multi-hot vector (out-of-vocabulary n-grams set index 0)."""
    return frozenset(vocabulary.get(gram, OOV_INDEX) for gram in ngrams_of(text, ngrams))


@dataclass(frozen=True)
class Unseparated:
    """Why the baseline did not label both sentences of a pair right.

    ``reason`` is SAME_NGRAMS (the two texts have the same set of n-grams),
    UNSEEN_NGRAMS (every n-gram that differs is outside the vocabulary, so both
    become [UNK] and the vectors are identical) or TOO_WEAK (the vectors differ,
    in ``only_first``/``only_second`` in-vocabulary n-grams, but not enough to
    put the two probabilities on opposite sides of the threshold, 0.5).
    """

    reason: str
    only_first: tuple[str, ...] = ()
    only_second: tuple[str, ...] = ()
    unseen: tuple[str, ...] = ()

    def explain(self, ngrams: int) -> str:
        if self.reason == SAME_NGRAMS:
            return f"same {ngram_name(ngrams, unigrams='words')}: identical bags, so identical probabilities"
        if self.reason == UNSEEN_NGRAMS:
            return f"differ only in {_quoted(self.unseen)}, never seen in training ([UNK]): identical bags"
        return (
            f"bags differ ({_quoted(self.only_first)} / {_quoted(self.only_second)}) but not enough to flip the label"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "reason": self.reason,
            "only_first": list(self.only_first),
            "only_second": list(self.only_second),
            "unseen": list(self.unseen),
        }


def _quoted(grams: tuple[str, ...]) -> str:
    return ", ".join(f'"{g}"' for g in grams) if grams else "nothing"


def why_not_separated(first: str, second: str, vocabulary: dict[str, int], ngrams: int) -> Unseparated:
    """Explain, from the tokenizer's output, why a bag-of-words model gave a pair one label.

    Args:
        first, second: the pair's texts.
        vocabulary: n-gram -> index of the baseline's multi-hot vectorizer.
        ngrams: the largest n the vectorizer forms.
    """
    grams_first, grams_second = ngrams_of(first, ngrams), ngrams_of(second, ngrams)
    if grams_first == grams_second:
        return Unseparated(SAME_NGRAMS)
    differing = grams_first ^ grams_second
    seen = sorted(g for g in differing if g in vocabulary)
    if bag_indices(first, vocabulary, ngrams) == bag_indices(second, vocabulary, ngrams):
        return Unseparated(UNSEEN_NGRAMS, unseen=tuple(sorted(differing - set(seen))))
    return Unseparated(
        TOO_WEAK,
        only_first=tuple(g for g in seen if g in grams_first),
        only_second=tuple(g for g in seen if g in grams_second),
    )


# ---------------------------------------------------------------- the models' side


def multi_hot(bow_model, texts: list[str]) -> np.ndarray:
    """The baseline tokenizer's multi-hot vectors, shape (len(texts), vocabulary) float32."""
    import tensorflow as tf

    from sentiment_rnn.models import TOKENIZER_LAYER

    return np.asarray(bow_model.get_layer(TOKENIZER_LAYER)(tf.constant(texts, dtype=tf.string)))


def predict_one_by_one(model, texts: list[str]) -> np.ndarray:
    """Probabilities of positive (for N > 2 classes, :func:`positive_score`), shape (n,) float64, each text
    run alone through the model.

    Alone, equal inputs go through exactly the same arithmetic, so equal
    multi-hot vectors give bit-for-bit equal probabilities (in a batch, a row's
    position can change the order of floating-point sums).
    """
    import tensorflow as tf

    answers = [np.asarray(model(tf.constant([text]), training=False), dtype=np.float64)[0] for text in texts]
    return np.array(
        [float(answer[0]) if len(answer) == 1 else float(positive_score(answer[None])[0]) for answer in answers]
    )


def vocabulary_index(bow_model) -> dict[str, int]:
    from sentiment_rnn.models import TOKENIZER_LAYER

    return {str(gram): index for index, gram in enumerate(bow_model.get_layer(TOKENIZER_LAYER).get_vocabulary())}
