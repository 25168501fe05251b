"""Predict with a saved model directory."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sentiment_rnn.artifact import ModelDirectory, open_model_dir
from sentiment_rnn.errors import SentimentError


@dataclass(frozen=True)
class Prediction:
    """One text's prediction: ``probability`` of positive in [0, 1] and the thresholded label."""

    text: str
    probability: float
    label: str

    def to_dict(self) -> dict:
        return {"text": self.text, "label": self.label, "probability": self.probability}


def label_for(probability: float, threshold: float = 0.5) -> str:
    return "positive" if probability >= threshold else "negative"


def check_threshold(threshold: float) -> None:
    if not 0.0 <= threshold <= 1.0:
        raise SentimentError(f"Threshold {threshold} is outside [0, 1]: pass e.g. --threshold 0.5.")


def predict(
    model_dir: str | Path | ModelDirectory,
    texts: Iterable[str],
    threshold: float = 0.5,
    batch_size: int = 256,
) -> list[Prediction]:
    """Label texts with the model in ``model_dir``.

    Args:
        model_dir: a model directory (path or opened).
        texts: the texts; any string, including empty ones.
        threshold: probabilities at or above it are ``positive``.
        batch_size: texts per forward pass.
    """
    check_threshold(threshold)
    directory = model_dir if isinstance(model_dir, ModelDirectory) else open_model_dir(model_dir)
    texts = list(texts)
    probabilities = predict_proba(directory.model, texts, batch_size=batch_size)
    return [Prediction(t, float(p), label_for(float(p), threshold)) for t, p in zip(texts, probabilities)]


def predict_proba(model, texts: list[str], batch_size: int = 256) -> np.ndarray:
    """Probabilities of positive, shape (n,) float64, for any view of a trained model.

    Texts are grouped by length to save padding; padding is masked, so the
    grouping does not change any probability. A stateful model (fixed batch)
    gets its state reset before each batch; a per-token model (output
    (B, T, 1)) is read at its last step, which masking makes the last real token.
    """
    import tensorflow as tf

    from sentiment_rnn.models import reset_states

    if not texts:
        return np.zeros(0)
    fixed_batch = model.inputs[0].shape[0]
    batch_size = fixed_batch or batch_size
    order = np.argsort([len(t) for t in texts], kind="stable")
    result = np.empty(len(texts))
    for start in range(0, len(texts), batch_size):
        indices = order[start : start + batch_size]
        batch = [texts[i] for i in indices]
        if fixed_batch:
            batch += [""] * (fixed_batch - len(batch))
            reset_states(model)
        output = np.asarray(model(tf.constant(batch, dtype=tf.string), training=False))
        if output.ndim == 3:  # per-token view: (B, T, 1)
            output = output[:, -1, :]
        result[indices] = output[: len(indices), 0]
    return result
