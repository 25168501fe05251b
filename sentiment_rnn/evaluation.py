"""Measure a saved model on labelled data: accuracy, precision, recall, F1, ROC AUC, confusion, calibration.

The metrics are computed here with NumPy from labels and probabilities, so
they can be checked by hand on tiny inputs; no scikit-learn needed.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sentiment_rnn.calibration import brier_score, expected_calibration_error
from sentiment_rnn.data.dataset import Dataset
from sentiment_rnn.data.labels import DEFAULT_THRESHOLD, is_positive
from sentiment_rnn.errors import SentimentError


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
class Evaluation:
    """Binary classification metrics of one model on one dataset.

    ``confusion`` is ``[[tn, fp], [fn, tp]]`` (rows: true label 0, 1; columns:
    predicted 0, 1). Precision, recall and F1 are 0.0 when undefined (nothing
    predicted or nothing actually positive); ``roc_auc`` is None when the data
    holds a single class.
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
    labels = np.asarray(labels).astype(bool)
    scores = np.asarray(scores, dtype=np.float64)
    n_pos = int(labels.sum())
    n_neg = len(labels) - n_pos
    if n_pos == 0 or n_neg == 0:
        return None
    _, inverse, counts = np.unique(scores, return_inverse=True, return_counts=True)
    last_rank = np.cumsum(counts)  # 1-based rank of the last member of each group of equal scores
    mean_rank = last_rank - (counts - 1) / 2.0
    rank_sum = mean_rank[inverse][labels].sum()
    return float((rank_sum - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def binary_metrics(labels: np.ndarray, probabilities: np.ndarray, threshold: float = DEFAULT_THRESHOLD) -> Evaluation:
    """Metrics of probabilities (shape (n,), of positive) against 0/1 labels (shape (n,))."""
    labels = np.asarray(labels).astype(np.int64)
    probabilities = np.asarray(probabilities, dtype=np.float64)
    if labels.shape != probabilities.shape or labels.ndim != 1:
        raise ValueError(f"labels {labels.shape} and probabilities {probabilities.shape} must be equal 1-D shapes")
    if len(labels) == 0:
        raise SentimentError("No examples to evaluate: give data with at least one labelled text.")
    predicted = is_positive(probabilities, threshold).astype(np.int64)
    tp = int(np.sum((predicted == 1) & (labels == 1)))
    tn = int(np.sum((predicted == 0) & (labels == 0)))
    fp = int(np.sum((predicted == 1) & (labels == 0)))
    fn = int(np.sum((predicted == 0) & (labels == 1)))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Evaluation(
        n=len(labels),
        accuracy=(tp + tn) / len(labels),
        precision=precision,
        recall=recall,
        f1=f1,
        roc_auc=roc_auc(labels, probabilities),
        confusion=[[tn, fp], [fn, tp]],
        wrong=fp + fn,
        ece=expected_calibration_error(labels, probabilities),
        brier=brier_score(labels, probabilities),
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


def evaluate(model_dir, dataset: Dataset, errors: int = 0, threshold: float = DEFAULT_THRESHOLD) -> Evaluation:
    """Predict every text of ``dataset`` with the model in ``model_dir`` and measure the result.

    Args:
        model_dir: a model directory (path or opened ``ModelDirectory``).
        dataset: the labelled texts.
        errors: how many of the most confidently wrong examples to keep in ``errors``.
        threshold: probabilities at or above it count as positive.
    """
    from sentiment_rnn import inference
    from sentiment_rnn.artifact.model_directory import as_model_directory

    if errors < 0:
        raise SentimentError(f"--errors must be 0 or more, got {errors}.")
    directory = as_model_directory(model_dir)
    predictions = inference.predict(directory, dataset.texts, threshold=threshold)
    probabilities = np.array([p.probability for p in predictions], dtype=np.float64)
    result = binary_metrics(dataset.labels, probabilities, threshold)
    result = dataclasses.replace(result, oov_rate=oov_rate(directory.numpy_engine, dataset.texts))
    if errors:
        result = _with_errors(result, most_confident_mistakes(dataset, probabilities, errors, threshold))
    return result


def evaluate_data(
    model_dir: str | Path, data_config, errors: int = 0, threshold: float = DEFAULT_THRESHOLD
) -> Evaluation:
    """Read the dataset a ``[data]`` config section names and :func:`evaluate` the model on it.

    One class only is allowed here (ROC AUC is then None).
    """
    from sentiment_rnn.artifact.model_directory import open_model_dir
    from sentiment_rnn.data.formats import dataset_from_config

    if not (data_config.path or data_config.pos or data_config.neg or data_config.sources):
        raise SentimentError("No data to evaluate: pass --data PATH, or --pos FILE and --neg FILE.")
    directory = open_model_dir(model_dir)  # fail on a bad model directory before reading big data
    dataset = dataset_from_config(data_config, require_both_classes=False)
    return evaluate(directory, dataset, errors=errors, threshold=threshold)


def oov_rate(engine, texts) -> float:
    """The share of the tokens the NumPy ``engine`` reads in ``texts`` that are outside its vocabulary (0.0: none read)."""
    unknown = total = 0
    for text in texts:
        flags = engine.vocabulary.unknown(engine.tokens(text))
        unknown += sum(flags)
        total += len(flags)
    return unknown / total if total else 0.0


def _with_errors(result: Evaluation, mistakes: list[Mistake]) -> Evaluation:
    return dataclasses.replace(result, errors=mistakes)
