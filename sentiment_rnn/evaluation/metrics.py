"""The metrics of probabilities against labels: accuracy, precision, recall, F1, ROC AUC, confusion, calibration.

They are computed here with NumPy from labels and probabilities, so they can
be checked by hand on tiny inputs; no scikit-learn needed. The accumulator
counts data seen batch by batch, with memory that does not grow with it,
including what the report's figures draw (:class:`Curves`). A model of more than two
classes is measured by ``evaluation.class_metrics`` (macro and per-class
figures, an N x N confusion, average recall, MAE).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sentiment_rnn.calibration import ECE_BINS, calibration_bin_index, calibration_bin_sums, ece_from_bin_sums
from sentiment_rnn.data.dataset import Dataset
from sentiment_rnn.data.labels import DEFAULT_CLASSES, DEFAULT_THRESHOLD, is_positive
from sentiment_rnn.errors import SentimentError

HISTOGRAM_BINS = 20  # equal-width bins of [0, 1] in the probability histogram by class


@dataclass(frozen=True)
class Mistake:
    """One wrongly labelled example: its text, true label (1/0) and predicted probability of positive."""

    text: str
    label: int
    probability: float

    @property
    def confidence(self) -> float:
        """How sure the model was of the wrong label, in [0.5, 1] at threshold 0.5."""
        return self.probability if self.label == 0 else 1.0 - self.probability

    def to_dict(self) -> dict:
        return {"text": self.text, "label": self.label, "probability": self.probability}


@dataclass(frozen=True)
class Curves:
    """What the report's figures draw, counted over all the data seen (memory does not grow with it).

    The same fields serve both kinds of model. A two-class model is drawn by
    its probability of positive (class 1); a model of N > 2 classes by the
    probability of its top class (calibration) and of the true class (histogram),
    and by one ROC curve per class against the rest.

    Attributes:
        bin_counts: examples per calibration bin, shape (ECE_BINS,): the equal-width bins of the ECE
            (``calibration.calibration_bin_index``) of the probability of positive, or of the top class.
        bin_labels: per bin, the sum of the 0/1 labels (ECE_BINS,): over ``bin_counts``, the share positive;
            for N classes the number of right answers, so the share right.
        bin_probabilities: per bin, the sum of the probabilities (ECE_BINS,); over ``bin_counts``, their mean.
        histogram: shape (classes, HISTOGRAM_BINS), one row per true class: how many of its examples fall in
            each equal-width bin of [0, 1] (the last bin holds 1.0), by their probability of positive (two
            classes) or of their true class (N classes).
        rocs: per class, in class order, its ROC curve against the rest: (false positive rate, true positive
            rate), two arrays (k + 1,) from (0, 0) to (1, 1), one point per distinct score taken as the
            threshold, highest first (exact up to :class:`ScoreCounts`' limit); None when the data holds that
            class only or none of it. Two classes: the positive class only. The area under each curve is its
            ROC AUC (``roc_aucs`` of the evaluation).
    """

    bin_counts: np.ndarray
    bin_labels: np.ndarray
    bin_probabilities: np.ndarray
    histogram: np.ndarray
    rocs: dict[str, tuple[np.ndarray, np.ndarray] | None]


@dataclass(frozen=True)
class Evaluation:
    """Binary classification metrics of one model on one dataset.

    ``confusion`` is ``[[tn, fp], [fn, tp]]`` (rows: true label 0, 1; columns:
    predicted 0, 1). Precision, recall and F1 are 0.0 when undefined (nothing
    predicted or nothing actually positive); ``roc_auc`` is None when the data
    holds a single class. ``classes`` names class 0 and class 1 (the model's).
    """

    n: int
    accuracy: float
    precision: float
    recall: float
    f1: float
    roc_auc: float | None
    confusion: list[list[int]]
    errors: list[Mistake] = field(default_factory=list)
    wrong: int = 0  # how many examples are misclassified; ``errors`` holds the surest of them
    ece: float = 0.0  # expected calibration error, 10 equal-width bins (sentiment_rnn.calibration)
    brier: float = 0.0  # mean squared error of the probabilities against the 0/1 labels
    oov_rate: float | None = None  # share of the tokens read that are outside the vocabulary; None: not measured
    curves: Curves | None = field(default=None, compare=False, repr=False)  # for the figures of a report
    classes: tuple[str, ...] = DEFAULT_CLASSES  # the names of class 0 and class 1

    @property
    def roc_aucs(self) -> dict[str, float | None]:
        """The ROC AUC of each curve of ``curves.rocs``: the positive class's, ``roc_auc``."""
        return {self.classes[1]: self.roc_auc}

    def to_dict(self, with_errors: bool = False) -> dict:
        result = {
            "accuracy": self.accuracy,
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
            "roc_auc": self.roc_auc,
            "n": self.n,
            "confusion": self.confusion,
            "ece": self.ece,
            "brier": self.brier,
            "oov_rate": self.oov_rate,
        }
        if with_errors:
            result["errors"] = [mistake.to_dict() for mistake in self.errors]
        return result


def roc_auc(labels: np.ndarray, scores: np.ndarray) -> float | None:
    """Area under the ROC curve by the rank (Mann-Whitney U) formula.

    AUC = (R_pos - n_pos (n_pos + 1) / 2) / (n_pos n_neg), where R_pos is the
    sum of the positives' ranks among all scores (1-based, ties get the mean
    of the ranks they span). Equals the probability that a random positive
    scores above a random negative, ties counting one half.

    Args:
        labels: shape (n,), 1 = positive, 0 = negative.
        scores: shape (n,), higher = more positive.

    Returns:
        The AUC in [0, 1], or None when only one class is present.
    """
    counts = ScoreCounts()
    counts.add(np.asarray(labels), np.asarray(scores, dtype=np.float64))
    return counts.auc()


class ScoreCounts:
    """How many positives and negatives got each distinct score: the ROC AUC of data seen in batches.

    Memory grows with the number of distinct scores, not with the examples,
    and is bounded: while there are at most ``max_values`` (2^16) distinct
    scores the AUC is exact; beyond that every score is rounded down to a
    multiple of 2^-16 (about 1.5e-5), so at most 2^16 + 1 entries remain and only
    pairs of examples whose scores differ by less than that count as ties
    (half a win) instead of a win. New batches wait in a buffer that is
    merged into the sorted table once it is as large as the table.
    """

    def __init__(self, merge_from: int = 1 << 14, max_values: int = 1 << 16):
        self.merge_from = merge_from  # pending scores that trigger a merge, at least
        self.max_values = max_values
        self.grid = 0  # 0: exact scores; else scores are rounded down to multiples of 1 / grid
        self.values = np.zeros(0)  # sorted distinct scores (k,)
        self.counts = np.zeros((0, 2), np.int64)  # (k, 2): negatives, positives with that score
        self.pending: list[tuple[np.ndarray, np.ndarray]] = []
        self.pending_size = 0

    def add(self, labels: np.ndarray, scores: np.ndarray) -> None:
        """Count scores (n,) of examples with 0/1 labels (n,)."""
        self.pending.append((np.asarray(labels).astype(bool), np.asarray(scores, dtype=np.float64)))
        self.pending_size += len(scores)
        if self.pending_size >= max(len(self.values), self.merge_from):
            self._merge()

    def _merge(self) -> None:
        if not self.pending:
            return
        labels = np.concatenate([p[0] for p in self.pending])
        scores = np.concatenate([p[1] for p in self.pending])
        self.pending, self.pending_size = [], 0
        self._combine(self._snapped(scores), np.stack([~labels, labels], axis=1).astype(np.int64))

    def _combine(self, values: np.ndarray, weights: np.ndarray) -> None:
        """Add ``weights`` (n, 2) at scores ``values`` (n,) to the table."""
        self.values, inverse = np.unique(np.concatenate([self.values, values]), return_inverse=True)
        weights = np.concatenate([self.counts, weights])
        inverse = inverse.reshape(-1)
        self.counts = np.stack(
            [np.bincount(inverse, weights[:, k], minlength=len(self.values)) for k in (0, 1)], axis=1
        ).astype(np.int64)
        if len(self.values) > self.max_values and not self.grid:  # from now on, round to the grid
            self.grid = self.max_values
            values, weights = self.values, self.counts
            self.values, self.counts = values[:0], weights[:0]
            self._combine(self._snapped(values), weights)

    def _snapped(self, scores: np.ndarray) -> np.ndarray:
        return np.floor(scores * self.grid) / self.grid if self.grid else scores

    def auc(self) -> float | None:
        """The AUC of everything added (see :func:`roc_auc`), or None when only one class was seen."""
        self._merge()
        negatives, positives = self.counts[:, 0], self.counts[:, 1]
        n_neg, n_pos = int(negatives.sum()), int(positives.sum())
        if n_pos == 0 or n_neg == 0:
            return None
        group = negatives + positives
        mean_rank = np.cumsum(group) - (group - 1) / 2.0  # 1-based mean rank of each group of equal scores
        rank_sum = float((mean_rank * positives).sum())
        return float((rank_sum - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))

    def roc(self) -> tuple[np.ndarray, np.ndarray] | None:
        """The ROC curve of everything added: (false positive rates, true positive rates), see ``Curves.rocs``."""
        self._merge()
        negatives, positives = self.counts[::-1, 0], self.counts[::-1, 1]  # highest score first
        n_neg, n_pos = int(negatives.sum()), int(positives.sum())
        if n_pos == 0 or n_neg == 0:
            return None
        return (
            np.concatenate([[0.0], np.cumsum(negatives) / n_neg]),
            np.concatenate([[0.0], np.cumsum(positives) / n_pos]),
        )


def binary_metrics(labels: np.ndarray, probabilities: np.ndarray, threshold: float = DEFAULT_THRESHOLD) -> Evaluation:
    """Metrics of probabilities (shape (n,), of positive) against 0/1 labels (shape (n,))."""
    labels = np.asarray(labels).astype(np.int64)
    probabilities = np.asarray(probabilities, dtype=np.float64)
    if labels.shape != probabilities.shape or labels.ndim != 1:
        raise ValueError(f"labels {labels.shape} and probabilities {probabilities.shape} must be equal 1-D shapes")
    metrics = MetricsAccumulator(threshold)
    metrics.add(labels, probabilities)
    return metrics.result()


class MetricsAccumulator:
    """The metrics of :func:`binary_metrics`, and the surest mistakes, over data seen batch by batch.

    Keeps the confusion counts, a :class:`ScoreCounts` and at most ``errors``
    mistakes, so memory does not grow with the number of examples.
    """

    def __init__(self, threshold: float = DEFAULT_THRESHOLD, errors: int = 0, classes=DEFAULT_CLASSES):
        self.threshold = threshold
        self.classes = tuple(classes)
        self.errors = errors
        self.confusion = np.zeros((2, 2), np.int64)  # [[tn, fp], [fn, tp]]
        self.scores = ScoreCounts()
        self.mistakes: list[Mistake] = []
        self.bin_label_sums = np.zeros(ECE_BINS)  # calibration: per probability bin, labels and probabilities summed
        self.bin_probability_sums = np.zeros(ECE_BINS)
        self.bin_counts = np.zeros(ECE_BINS, np.int64)
        self.histogram = np.zeros((2, HISTOGRAM_BINS), np.int64)  # rows: true label 0, 1
        self.squared_error = 0.0  # the Brier score's numerator
        self.tokens: int | None = None  # tokens read and how many are outside the vocabulary; None: not counted
        self.unknown_tokens = 0

    def add(self, labels: np.ndarray, probabilities: np.ndarray, texts=None) -> None:
        """Add a batch: 0/1 labels (n,), probabilities of positive (n,), and the texts (n) when mistakes are kept."""
        labels = np.asarray(labels).astype(np.int64)
        predicted = is_positive(probabilities, self.threshold).astype(np.int64)
        np.add.at(self.confusion, (labels, predicted), 1)
        self.scores.add(labels, probabilities)
        label_sums, probability_sums = calibration_bin_sums(labels, probabilities)
        self.bin_label_sums += label_sums
        self.bin_probability_sums += probability_sums
        self.bin_counts += np.bincount(calibration_bin_index(probabilities), minlength=ECE_BINS)
        np.add.at(self.histogram, (labels, calibration_bin_index(probabilities, HISTOGRAM_BINS)), 1)
        self.squared_error += float(np.sum((np.asarray(probabilities, dtype=np.float64) - labels) ** 2))
        if self.errors and texts is not None:
            wrong = np.flatnonzero(predicted != labels)
            self.mistakes += [Mistake(texts[i], int(labels[i]), float(probabilities[i])) for i in wrong]
            self.mistakes.sort(key=lambda mistake: -mistake.confidence)  # stable: ties keep data order
            del self.mistakes[self.errors :]

    def add_tokens(self, unknown: int, total: int) -> None:
        """Count a batch's tokens: ``unknown`` of the ``total`` read are outside the vocabulary."""
        self.unknown_tokens += unknown
        self.tokens = (self.tokens or 0) + total

    def result(self) -> Evaluation:
        (tn, fp), (fn, tp) = (int(v) for v in self.confusion[0]), (int(v) for v in self.confusion[1])
        n = tn + fp + fn + tp
        if n == 0:
            raise SentimentError("No examples to evaluate: give data with at least one labelled text.")
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return Evaluation(
            n=n,
            accuracy=(tp + tn) / n,
            precision=precision,
            recall=recall,
            f1=f1,
            roc_auc=self.scores.auc(),
            confusion=[[tn, fp], [fn, tp]],
            errors=list(self.mistakes),
            wrong=fp + fn,
            ece=ece_from_bin_sums(self.bin_label_sums, self.bin_probability_sums, n),
            brier=self.squared_error / n,
            oov_rate=None if self.tokens is None else self.unknown_tokens / self.tokens if self.tokens else 0.0,
            curves=Curves(
                bin_counts=self.bin_counts.copy(),
                bin_labels=self.bin_label_sums.copy(),
                bin_probabilities=self.bin_probability_sums.copy(),
                histogram=self.histogram.copy(),
                rocs={self.classes[1]: self.scores.roc()},
            ),
            classes=self.classes,
        )


def most_confident_mistakes(
    dataset: Dataset, probabilities: np.ndarray, count: int, threshold: float = DEFAULT_THRESHOLD
) -> list[Mistake]:
    """The ``count`` wrongly labelled examples the model was surest of, surest first (ties: data order)."""
    predicted = is_positive(probabilities, threshold)
    wrong = np.flatnonzero(predicted != dataset.labels.astype(bool))
    mistakes = [Mistake(dataset.texts[i], int(dataset.labels[i]), float(probabilities[i])) for i in wrong]
    mistakes.sort(key=lambda mistake: -mistake.confidence)  # stable: equal confidence keeps data order
    return mistakes[:count]
