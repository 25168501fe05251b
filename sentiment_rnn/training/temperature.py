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


def wide_layer_of(model):
    """A hybrid model's wide layer (its logit is added to the head's), or None for other kinds."""
    from sentiment_rnn.wide import WIDE_LAYER

    return next((layer for layer in model.layers if layer.name == WIDE_LAYER), None)


def head_logits(model, batches) -> tuple[np.ndarray, np.ndarray]:
    """(logits (n,) float64, labels (n,) float64) of the model's head on ``batches`` of (text (B,), label (B,)).

    The logits are computed in float64 from the head's input features, so
    saturated probabilities (0.0 or 1.0 in float32) keep their logit.
    """
    from sentiment_rnn.models import HEAD_LAYER
    from sentiment_rnn.tf_setup import import_keras

    keras = import_keras()
    head = model.get_layer(HEAD_LAYER)
    wide = wide_layer_of(model)  # a hybrid model adds its wide branch's logit (B, 1) to the head's
    features = keras.Model(model.inputs, [head.input, wide.output] if wide is not None else head.input)
    kernel, bias = (np.asarray(w, dtype=np.float64) for w in head.get_weights())
    logits, labels = [], []
    for texts, batch_labels in batches:
        outputs = features(texts, training=False)
        h, wide_logit = outputs if wide is not None else (outputs, 0.0)  # (B, features), (B, 1) or 0
        h, wide_logit = np.asarray(h, dtype=np.float64), np.asarray(wide_logit, dtype=np.float64)
        logits.append((h @ kernel + bias + wide_logit)[:, 0])
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
    for layer in (model.get_layer(HEAD_LAYER), wide_layer_of(model)):
        if layer is not None:  # every term of the logit is divided, so the logit is
            layer.set_weights([np.asarray(w, dtype=np.float32) / np.float32(temperature) for w in layer.get_weights()])
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
