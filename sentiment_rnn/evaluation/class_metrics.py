"""Metrics of a model with more than two classes: accuracy, per-class and macro precision, recall and F1,
the N x N confusion matrix, average recall, top-class ECE, Brier over all classes and, for numeric
(ordinal) classes such as stars, the mean absolute error.

Computed with NumPy from class indices and probabilities (n, N), batch by batch,
so they can be checked by hand on tiny inputs; no scikit-learn needed.
``evaluation.run`` measures two-class models with ``evaluation.metrics`` and hands models of more
classes to :class:`ClassMetricsAccumulator`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sentiment_rnn.calibration import ECE_BINS, calibration_bin_sums, ece_from_bin_sums
from sentiment_rnn.data.labels import is_ordinal
from sentiment_rnn.errors import SentimentError


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
    undefined) and ``support`` (examples of that class). The macro averages
    are the unweighted means over the classes that occur as a label or a
    prediction (as scikit-learn's ``average="macro"``); ``average_recall`` is the macro
    recall (SemEval-2017 Task 4's official measure). ``ece`` is the top class's,
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

    @property
    def average_recall(self) -> float:
        return self.macro_recall

    def to_dict(self, with_errors: bool = False) -> dict:
        result = {
            "classes": list(self.classes),
            "accuracy": self.accuracy,
            "average_recall": self.macro_recall,
            "macro_precision": self.macro_precision,
            "macro_recall": self.macro_recall,
            "macro_f1": self.macro_f1,
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

    Keeps the confusion counts, calibration sums and at most ``errors`` mistakes,
    so memory does not grow with the number of examples.
    """

    def __init__(self, classes: tuple[str, ...], errors: int = 0):
        self.classes = tuple(classes)
        self.errors = errors
        self.confusion = np.zeros((len(classes), len(classes)), np.int64)
        self.bin_correct_sums = np.zeros(ECE_BINS)  # top-class calibration: per confidence bin
        self.bin_confidence_sums = np.zeros(ECE_BINS)
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
        per_class = {
            name: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
            for name, p, r, f, s in zip(self.classes, precision, recall, f1, actual)
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
        )


def class_metrics(labels, probabilities, classes: tuple[str, ...]) -> ClassEvaluation:
    """:class:`ClassEvaluation` of probabilities (n, N) against class indices (n,) of ``classes``."""
    metrics = ClassMetricsAccumulator(classes)
    metrics.add(labels, probabilities)
    return metrics.result()


def class_report(result: ClassEvaluation, errors: int = 0) -> str:
    """``evaluate``'s table of an N-class result: the figures, each class's, the confusion, the surest mistakes."""
    lines = [f"{'n':<16}{result.n}"]
    figures = [("accuracy", result.accuracy), ("average_recall", result.macro_recall)]
    figures += [("macro_precision", result.macro_precision), ("macro_f1", result.macro_f1)]
    figures += [("mae", result.mae)] if result.mae is not None else []
    figures += [("ece", result.ece), ("brier", result.brier)]
    figures += [("oov_rate", result.oov_rate)] if result.oov_rate is not None else []
    lines += [f"{name:<16}{value:.4f}" for name, value in figures]
    width = max(len("class"), *(len(name) for name in result.classes))
    lines += ["", f"{'class':<{width}}  precision  recall  f1      support"]
    for name, row in result.per_class.items():
        lines.append(
            f"{name:<{width}}  {row['precision']:<9.4f}  {row['recall']:<6.4f}  {row['f1']:<6.4f}  {row['support']}"
        )
    cells = [[str(count) for count in row] for row in result.confusion]
    column = max(len(name) for name in result.classes)
    column = max(column, *(len(cell) for row in cells for cell in row))
    lines += ["", "confusion (rows: true class, columns: predicted)"]
    lines.append(" " * width + "".join(f"  {name:>{column}}" for name in result.classes))
    for name, row in zip(result.classes, cells):
        lines.append(f"{name:<{width}}" + "".join(f"  {cell:>{column}}" for cell in row))
    if errors:
        lines.append(f"Most confidently wrong ({len(result.errors)} of {result.wrong}):")
        for mistake in result.errors:
            lines.append(
                f"  true {mistake.label}  predicted {mistake.predicted} {mistake.probability:.4f}  {mistake.text}"
            )
    return "\n".join(lines)
