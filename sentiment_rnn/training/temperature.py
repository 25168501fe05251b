"""Calibrating a trained model: fit a temperature on the validation split and fold it into the head.

The head computes p = sigmoid(h . w + b) from the features h of the layer
below it. Dividing its kernel w and bias b by T gives p = sigmoid(z / T) with
the same logit z: the calibrated model is an ordinary model, so the Keras
model, the NumPy engine (``weights.npz``), the per-token and stateful views
and every export apply the temperature alike, and directories written
before calibration existed load as they always did.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sentiment_rnn.calibration import brier_score, expected_calibration_error, fit_temperature, sigmoid


def head_logits(model, batches) -> tuple[np.ndarray, np.ndarray]:
    """(logits (n,) float64, labels (n,) float64) of the model's head on ``batches`` of (text (B,), label (B,)).

    The logits are computed in float64 from the head's input features, so
    saturated probabilities (0.0 or 1.0 in float32) keep their logit.
    """
    from sentiment_rnn.models import HEAD_LAYER
    from sentiment_rnn.tf_setup import import_keras

    keras = import_keras()
    head = model.get_layer(HEAD_LAYER)
    features = keras.Model(model.inputs, head.input)
    kernel, bias = (np.asarray(w, dtype=np.float64) for w in head.get_weights())
    logits, labels = [], []
    for texts, batch_labels in batches:
        h = np.asarray(features(texts, training=False), dtype=np.float64)  # (B, features)
        logits.append((h @ kernel + bias)[:, 0])
        labels.append(np.asarray(batch_labels, dtype=np.float64))
    return np.concatenate(logits), np.concatenate(labels)


def calibrate(model, batches) -> dict[str, Any]:
    """Fit a temperature on ``batches`` (the validation split), divide the model's head by it, and report.

    Returns:
        ``{"temperature": T, "ece": ..., "brier": ..., "ece_uncalibrated": ..., "brier_uncalibrated": ...}``,
        measured on the same batches (ECE over 10 equal-width bins).
    """
    from sentiment_rnn.models import HEAD_LAYER

    logits, labels = head_logits(model, batches)
    temperature = fit_temperature(logits, labels)
    head = model.get_layer(HEAD_LAYER)
    head.set_weights([np.asarray(w, dtype=np.float32) / np.float32(temperature) for w in head.get_weights()])
    before, after = sigmoid(logits), sigmoid(logits / temperature)
    return {
        "temperature": temperature,
        "ece": expected_calibration_error(labels, after),
        "brier": brier_score(labels, after),
        "ece_uncalibrated": expected_calibration_error(labels, before),
        "brier_uncalibrated": brier_score(labels, before),
    }


def calibration_report(model, batches) -> dict[str, Any]:
    """ECE and Brier score of the model as it is (no temperature fitted: ``train.calibrate = false``)."""
    logits, labels = head_logits(model, batches)
    probabilities = sigmoid(logits)
    return {
        "temperature": 1.0,
        "ece": expected_calibration_error(labels, probabilities),
        "brier": brier_score(labels, probabilities),
    }
