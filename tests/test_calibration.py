"""Calibration: ECE and Brier score by hand, the temperature fit, and the temperature folded into the head."""

from __future__ import annotations

import json

import numpy as np
import pytest
from model_factory import randomized_model

from sentiment_rnn.calibration import (
    brier_score,
    expected_calibration_error,
    fit_temperature,
    log_loss_at,
    platt_targets,
    sigmoid,
)
from sentiment_rnn.config import load_config
from sentiment_rnn.inference import predict


def test_expected_calibration_error_by_hand():
    # bin [0.1, 0.2): 0.1, 0.15 with labels 0, 1 -> |1 - 0.25| = 0.75 over 2 of 4 examples
    # bin [0.9, 1.0]: 0.9, 1.0 with labels 1, 1 -> |2 - 1.9| = 0.1 over 2 of 4 examples
    labels = np.array([0, 1, 1, 1])
    probabilities = np.array([0.1, 0.15, 0.9, 1.0])
    assert expected_calibration_error(labels, probabilities) == pytest.approx((0.75 + 0.1) / 4)
    assert expected_calibration_error(np.array([1, 0]), np.array([1.0, 0.0])) == 0.0
    assert expected_calibration_error(np.array([1, 0]), np.array([0.5, 0.5])) == 0.0  # one bin, mean 0.5 = rate 0.5
    assert expected_calibration_error(np.array([]), np.array([])) == 0.0


def test_platt_targets_by_hand():
    # 2 positives -> 3/4, 1 negative -> 1/3
    assert platt_targets(np.array([1, 0, 1])).tolist() == [0.75, 1 / 3, 0.75]


def test_brier_score_by_hand():
    assert brier_score(np.array([1, 0, 1]), np.array([0.8, 0.4, 1.0])) == pytest.approx((0.04 + 0.16 + 0.0) / 3)


def test_log_loss_at_is_the_binary_cross_entropy():
    logits, labels = np.array([2.0, -1.0, 0.0]), np.array([1, 1, 0])
    p = sigmoid(logits / 2.0)
    expected = -np.mean(labels * np.log(p) + (1 - labels) * np.log(1 - p))
    assert log_loss_at(logits, labels, 2.0) == pytest.approx(expected)
    assert sigmoid(np.array([-1000.0, 0.0, 1000.0])).tolist() == [0.0, 0.5, 1.0]


def test_fit_temperature_finds_the_minimum_of_the_log_loss():
    rng = np.random.default_rng(0)
    logits = rng.normal(0.0, 6.0, 2000)
    labels = (rng.random(2000) < sigmoid(logits / 3.0)).astype(float)  # an overconfident model: true T = 3
    temperature = fit_temperature(logits, labels)
    targets = platt_targets(labels)  # what the fit is measured against
    best = log_loss_at(logits, targets, temperature)
    assert 2.5 < temperature < 3.5
    assert best <= log_loss_at(logits, targets, temperature * 1.01)
    assert best <= log_loss_at(logits, targets, temperature / 1.01)
    assert fit_temperature(np.zeros(3), np.array([1, 0, 1])) == 1.0


def test_calibrate_divides_the_head_by_the_temperature_in_both_engines():
    import tensorflow as tf

    from sentiment_rnn.artifact.engine_files import engine_from_keras
    from sentiment_rnn.models import HEAD_LAYER, build_model
    from sentiment_rnn.training.temperature import calibrate, head_logits

    model, config = randomized_model("model.cell=gru")
    copy = build_model(config, model.get_layer("tokenizer"))
    copy.set_weights(model.get_weights())
    texts = ["this phone is no good", "no, this phone is good", "great sound", "awful screen", "fair price"]
    batches = tf.data.Dataset.from_tensor_slices((texts, [0.0, 1.0, 1.0, 0.0, 1.0])).batch(2)
    logits, labels = head_logits(copy, batches)
    assert labels.tolist() == [0.0, 1.0, 1.0, 0.0, 1.0]
    report = calibrate(copy, batches)
    temperature = report["temperature"]
    assert temperature == fit_temperature(logits, labels)
    kernel, bias = model.get_layer(HEAD_LAYER).get_weights()
    new_kernel, new_bias = copy.get_layer(HEAD_LAYER).get_weights()
    np.testing.assert_allclose(new_kernel, kernel / temperature, rtol=1e-6)
    np.testing.assert_allclose(new_bias, bias / temperature, rtol=1e-6)
    by_keras = np.asarray(copy(tf.constant(texts)))[:, 0]
    np.testing.assert_allclose(by_keras, sigmoid(logits / temperature), atol=1e-5)
    np.testing.assert_allclose(engine_from_keras(copy, config).predict_proba(texts), by_keras, atol=1e-5)
    calibrated = sigmoid(logits / temperature)
    assert report["ece"] == expected_calibration_error(labels, calibrated)
    assert report["brier"] == brier_score(labels, calibrated)
    assert report["ece_uncalibrated"] == expected_calibration_error(labels, sigmoid(logits))


def test_train_calibrates_by_default_and_records_it(tiny_run):
    metrics = json.loads((tiny_run.model_dir / "metrics.json").read_text())
    assert set(metrics) >= {"temperature", "ece", "brier", "ece_uncalibrated", "brier_uncalibrated"}
    assert metrics["temperature"] > 0 and 0 <= metrics["ece"] <= 1 and 0 <= metrics["brier"] <= 1
    by_numpy = [p.probability for p in predict(tiny_run.model_dir, ["good", "bad"])]
    by_keras = [p.probability for p in predict(tiny_run.model_dir, ["good", "bad"], engine="keras")]
    np.testing.assert_allclose(by_numpy, by_keras, atol=1e-5)


def test_calibrate_false_keeps_the_head(tmp_path, tiny_csv):
    from conftest import TINY_OVERRIDES
    from sentiment_rnn.training.run import train

    config = load_config(overrides=[*TINY_OVERRIDES, f"data.path={str(tiny_csv)!r}", "train.calibrate=false"])
    result = train(config, tmp_path / "m", verbose=0)
    assert result.metrics["temperature"] == 1.0
    assert "ece_uncalibrated" not in result.metrics
    assert 0 <= result.metrics["ece"] <= 1


def test_a_perfectly_separated_validation_split_does_not_drive_the_temperature_to_zero():
    logits = np.array([3.0, 5.0, 4.0, -3.0, -6.0, -4.0])
    labels = np.array([1, 1, 1, 0, 0, 0])
    temperature = fit_temperature(logits, labels)
    # smoothed targets 4/5 and 1/5: sigmoid(3 / T) should come out near 0.8, far from 1.0
    assert 1.5 < temperature < 4.0
    assert sigmoid(np.array([5.0 / temperature]))[0] < 0.95
