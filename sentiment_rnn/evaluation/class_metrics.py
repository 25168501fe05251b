"""Metrics of a model with more than two classes: accuracy, per-class and macro precision, recall and F1,
the N x N confusion matrix, average recall, each class's ROC AUC against the rest and their mean, top-class
ECE, Brier over all classes and, for numeric (ordinal) classes such as stars, the mean absolute error; and
what the report's figures draw of them (``metrics.Curves``).

Computed with NumPy from class indices and probabilities (n, N), batch by batch,
so they can be checked by hand on tiny inputs; no scikit-learn needed.
``evaluation.run`` measures two-class models with ``evaluation.metrics`` and hands models of more
classes to :class:`ClassMetricsAccumulator`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sentiment_rnn.calibration import ECE_BINS, calibration_bin_index, calibration_bin_sums, ece_from_bin_sums
from sentiment_rnn.data.labels import is_ordinal
from sentiment_rnn.errors import SentimentError
from sentiment_rnn.evaluation.metrics import HISTOGRAM_BINS, Curves, ScoreCounts


@dataclass(frozen=True)
class ClassMistake:
    """One wrongly labelled example: its text, true class, the class predicted and that class's probability."""

    text: str
    label: str
    predicted: str
    probability: float

    def to_dict(self) -> dict:
        return {"text": self.text, "label": self.label, "predicted": self.predicted, "probability": self.probability}


@dataclass(frozen=True)
class ClassEvaluation:
    """N-class metrics of one model on one dataset.

    ``confusion[i][j]`` counts examples of class i predicted as class j (rows:
    true, columns: predicted, both in ``classes`` order). ``per_class`` holds,
    for each class by name, its ``precision``, ``recall``, ``f1`` (0.0 when
    undefined), ``roc_auc`` (of its probability, the class against the rest;
    None when the data holds that class only or none of it) and ``support``
    (examples of that class). The macro averages
    are the unweighted means over the classes that occur as a label or a
    prediction (as scikit-learn's ``average="macro"``); ``average_recall`` is the macro
    recall (SemEval-2017 Task 4's official measure). ``roc_auc`` is the mean of the
    classes' defined ROC AUCs (scikit-learn's ``multi_class="ovr"``, ``average="macro"``), None when
    none is defined. ``ece`` is the top class's,
    ``brier`` the squared error summed over the classes (in [0, 2]); ``mae`` is
    the mean absolute difference between the predicted and the true class as
    numbers, for numeric classes only (else None).
    """

    classes: tuple[str, ...]
    n: int
    accuracy: float
    per_class: dict[str, dict[str, float]]
    macro_precision: float
    macro_recall: float
    macro_f1: float
    confusion: list[list[int]]
    ece: float
    brier: float
    mae: float | None = None
    errors: list[ClassMistake] = field(default_factory=list)
    wrong: int = 0  # how many examples are misclassified; ``errors`` holds the surest of them
    oov_rate: float | None = None  # share of the tokens read that are outside the vocabulary; None: not measured
    roc_auc: float | None = None  # the mean of the classes' ROC AUCs against the rest
    curves: Curves | None = field(default=None, compare=False, repr=False)  # for the figures of a report

    @property
    def average_recall(self) -> float:
        return self.macro_recall

    @property
    def roc_aucs(self) -> dict[str, float | None]:
        """The ROC AUC of each curve of ``curves.rocs``: each class's against the rest."""
        return {name: self.per_class[name]["roc_auc"] for name in self.classes}

    def to_dict(self, with_errors: bool = False) -> dict:
        result = {
            "classes": list(self.classes),
            "accuracy": self.accuracy,
            "average_recall": self.macro_recall,
            "macro_precision": self.macro_precision,
            "macro_recall": self.macro_recall,
            "macro_f1": self.macro_f1,
            "roc_auc": self.roc_auc,
            "per_class": self.per_class,
            "n": self.n,
            "confusion": self.confusion,
            "ece": self.ece,
            "brier": self.brier,
            "mae": self.mae,
            "oov_rate": self.oov_rate,
        }
        if with_errors:
            result["errors"] = [mistake.to_dict() for mistake in self.errors]
        return result


class ClassMetricsAccumulator:
    """The metrics of :class:`ClassEvaluation`, and the surest mistakes, over data seen batch by batch.

    Keeps the confusion counts, calibration sums, a histogram, a ``metrics.ScoreCounts`` per class (its
    probability, the class against the rest) and at most ``errors`` mistakes, so memory does not grow with
    the number of examples.
    """

    def __init__(self, classes: tuple[str, ...], errors: int = 0):
        self.classes = tuple(classes)
        self.errors = errors
        self.confusion = np.zeros((len(classes), len(classes)), np.int64)
        self.bin_correct_sums = np.zeros(ECE_BINS)  # top-class calibration: per confidence bin
        self.bin_confidence_sums = np.zeros(ECE_BINS)
        self.bin_counts = np.zeros(ECE_BINS, np.int64)
        self.histogram = np.zeros((len(classes), HISTOGRAM_BINS), np.int64)  # p(true class), a row per true class
        self.scores = [ScoreCounts() for _ in classes]  # each class against the rest: its probability
        self.squared_error = 0.0  # the Brier score's numerator
        self.absolute_error = 0.0  # the MAE's numerator (numeric classes)
        self.values = np.array([float(name) for name in classes]) if is_ordinal(self.classes) else None
        self.mistakes: list[ClassMistake] = []
        self.tokens: int | None = None
        self.unknown_tokens = 0

    def add(self, labels: np.ndarray, probabilities: np.ndarray, texts=None) -> None:
        """Add a batch: class indices (n,), probabilities (n, N), and the texts (n) when mistakes are kept."""
        labels = np.asarray(labels).astype(np.int64)
        probabilities = np.asarray(probabilities, dtype=np.float64).reshape(len(labels), len(self.classes))
        predicted = np.argmax(probabilities, axis=1)
        confidence = probabilities[np.arange(len(labels)), predicted]
        np.add.at(self.confusion, (labels, predicted), 1)
        correct_sums, confidence_sums = calibration_bin_sums(predicted == labels, confidence)
        self.bin_correct_sums += correct_sums
        self.bin_confidence_sums += confidence_sums
        self.bin_counts += np.bincount(calibration_bin_index(confidence), minlength=ECE_BINS)
        truth = probabilities[np.arange(len(labels)), labels]
        np.add.at(self.histogram, (labels, calibration_bin_index(truth, HISTOGRAM_BINS)), 1)
        for index, scores in enumerate(self.scores):
            scores.add(labels == index, probabilities[:, index])
        one_hot = np.eye(len(self.classes))[labels]
        self.squared_error += float(np.sum((probabilities - one_hot) ** 2))
        if self.values is not None:
            self.absolute_error += float(np.sum(np.abs(self.values[predicted] - self.values[labels])))
        if self.errors and texts is not None:
            wrong = np.flatnonzero(predicted != labels)
            self.mistakes += [
                ClassMistake(texts[i], self.classes[labels[i]], self.classes[predicted[i]], float(confidence[i]))
                for i in wrong
            ]
            self.mistakes.sort(key=lambda mistake: -mistake.probability)  # stable: ties keep data order
            del self.mistakes[self.errors :]

    def add_tokens(self, unknown: int, total: int) -> None:
        """Count a batch's tokens: ``unknown`` of the ``total`` read are outside the vocabulary."""
        self.unknown_tokens += unknown
        self.tokens = (self.tokens or 0) + total

    def result(self) -> ClassEvaluation:
        n = int(self.confusion.sum())
        if n == 0:
            raise SentimentError("No examples to evaluate: give data with at least one labelled text.")
        right = np.diag(self.confusion).astype(np.float64)
        predicted, actual = self.confusion.sum(axis=0), self.confusion.sum(axis=1)
        precision = np.divide(right, predicted, out=np.zeros_like(right), where=predicted > 0)
        recall = np.divide(right, actual, out=np.zeros_like(right), where=actual > 0)
        both = precision + recall
        f1 = np.divide(2 * precision * recall, both, out=np.zeros_like(right), where=both > 0)
        seen = (actual > 0) | (predicted > 0)  # the classes the macro averages are over
        aucs = [scores.auc() for scores in self.scores]
        defined = [auc for auc in aucs if auc is not None]
        per_class = {
            name: {"precision": float(p), "recall": float(r), "f1": float(f), "roc_auc": auc, "support": int(s)}
            for name, p, r, f, auc, s in zip(self.classes, precision, recall, f1, aucs, actual)
        }
        return ClassEvaluation(
            classes=self.classes,
            n=n,
            accuracy=float(right.sum() / n),
            per_class=per_class,
            macro_precision=float(precision[seen].mean()),
            macro_recall=float(recall[seen].mean()),
            macro_f1=float(f1[seen].mean()),
            confusion=self.confusion.tolist(),
            ece=ece_from_bin_sums(self.bin_correct_sums, self.bin_confidence_sums, n),
            brier=self.squared_error / n,
            mae=None if self.values is None else self.absolute_error / n,
            errors=list(self.mistakes),
            wrong=n - int(right.sum()),
            oov_rate=None if self.tokens is None else self.unknown_tokens / self.tokens if self.tokens else 0.0,
            roc_auc=float(np.mean(defined)) if defined else None,
            curves=Curves(
                bin_counts=self.bin_counts.copy(),
                bin_labels=self.bin_correct_sums.copy(),
                bin_probabilities=self.bin_confidence_sums.copy(),
                histogram=self.histogram.copy(),
                rocs={name: scores.roc() for name, scores in zip(self.classes, self.scores)},
            ),
        )


def class_metrics(labels, probabilities, classes: tuple[str, ...]) -> ClassEvaluation:
    """:class:`ClassEvaluation` of probabilities (n, N) against class indices (n,) of ``classes``."""
    metrics = ClassMetricsAccumulator(classes)
    metrics.add(labels, probabilities)
    return metrics.result()
