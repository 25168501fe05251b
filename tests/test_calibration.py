"""Calibration: ECE and Brier score by hand, the temperature fit, and the temperature folded into the head."""

from __future__ import annotations

import json

import numpy as np
import pytest
from model_factory import randomized_model

from sentiment_rnn.calibration import (
    brier_score,
    expected_calibration_error,
    fit_platt,
    fit_temperature,
    log_loss_at,
    platt_targets,
    sigmoid,
    source_weights,
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


def test_source_weights_give_every_source_the_same_total():
    weights = source_weights(np.array([0, 0, 0, 1]))
    np.testing.assert_allclose(weights, [2 / 3, 2 / 3, 2 / 3, 2])
    np.testing.assert_allclose(source_weights(np.array(["a", "b", "b"])), [1.5, 0.75, 0.75])
    assert source_weights(np.array([], dtype=np.int64)).shape == (0,)


def test_the_fits_minimise_the_weighted_log_loss():
    logits = np.array([2.0, -1.0, 0.5, -3.0, 1.5])
    labels = np.array([1, 0, 0, 0, 1])
    weights = np.array([4.0, 1, 1, 1, 1])
    targets = platt_targets(labels)
    temperature = fit_temperature(logits, labels, weights=weights)
    best = log_loss_at(logits, targets, temperature, weights)
    assert best <= log_loss_at(logits, targets, temperature * 1.01, weights)
    assert best <= log_loss_at(logits, targets, temperature / 1.01, weights)
    assert temperature != pytest.approx(fit_temperature(logits, labels))
    assert fit_temperature(logits, labels, weights=2 * weights) == pytest.approx(temperature)
    (a, b) = fit_platt(logits[:, None], labels, weights)
    for step in (1e-4, -1e-4):
        assert log_loss_at(a * logits + b, targets, 1.0, weights) <= log_loss_at(
            (a + step) * logits + b, targets, 1.0, weights
        )
        assert log_loss_at(a * logits + b, targets, 1.0, weights) <= log_loss_at(
            a * logits + b + step, targets, 1.0, weights
        )


def test_fit_platt_finds_the_minimum_of_the_log_loss():
    rng = np.random.default_rng(0)
    features = rng.normal(0.0, 2.0, (400, 2))
    labels = (rng.random(400) < sigmoid(features @ [1.5, -0.5] + 0.3)).astype(int)
    coefficients = fit_platt(features, labels)
    targets = platt_targets(labels)

    def loss(c):
        z = features @ c[:2] + c[2]
        return np.mean(np.logaddexp(0.0, z) - targets * z)

    for i in range(3):  # no coordinate step lowers the loss
        for step in (1e-4, -1e-4):
            assert loss(coefficients) <= loss(coefficients + step * np.eye(3)[i])
    np.testing.assert_allclose(coefficients, [1.5, -0.5, 0.3], atol=0.4)
    np.testing.assert_array_equal(fit_platt(np.zeros((0, 2)), np.array([])), [1.0, 1.0, 0.0])


def test_platt_on_an_rnn_scales_and_shifts_the_head_in_both_engines():
    import tensorflow as tf

    from sentiment_rnn.artifact.engine_files import engine_from_keras
    from sentiment_rnn.models import build_model
    from sentiment_rnn.training.temperature import calibrate, head_logits

    model, config = randomized_model("model.cell=gru")
    copy = build_model(config, model.get_layer("tokenizer"))
    copy.set_weights(model.get_weights())
    batches = tf.data.Dataset.from_tensor_slices((CALIBRATION_TEXTS, CALIBRATION_LABELS)).batch(2)
    logits, labels = head_logits(copy, batches)
    report = calibrate(copy, batches, method="platt")
    a, b = fit_platt(logits[:, None], labels)
    assert (report["calibration"], report["platt"]) == ("platt", {"scale": a, "bias": b})
    by_keras = np.asarray(copy(tf.constant(CALIBRATION_TEXTS)))[:, 0]
    np.testing.assert_allclose(by_keras, sigmoid(a * logits + b), atol=1e-5)
    np.testing.assert_allclose(engine_from_keras(copy, config).predict_proba(CALIBRATION_TEXTS), by_keras, atol=1e-5)
    assert report["ece"] == expected_calibration_error(labels, sigmoid(a * logits + b))


def test_platt_on_a_hybrid_scales_each_branch_in_both_engines():
    import tensorflow as tf

    from sentiment_rnn.artifact.engine_files import engine_from_keras
    from sentiment_rnn.models import build_model
    from sentiment_rnn.training.temperature import calibrate, logit_pieces
    from sentiment_rnn.wide import WIDE_LAYER, WIDE_TOKENIZER_LAYER

    model, config = randomized_model("model.kind=hybrid", "model.ngrams=2", "model.cell=gru")
    copy = build_model(config, model.get_layer("tokenizer"), model.get_layer(WIDE_TOKENIZER_LAYER))
    copy.set_weights(model.get_weights())
    batches = tf.data.Dataset.from_tensor_slices((CALIBRATION_TEXTS, CALIBRATION_LABELS)).batch(2)
    pieces, labels = logit_pieces(copy, batches)  # (n, 2): wide logit, recurrent logit
    engine = engine_from_keras(model, config)
    np.testing.assert_allclose(pieces[:, 0], engine.wide_logits(CALIBRATION_TEXTS), atol=1e-5)
    by_keras = np.asarray(model(tf.constant(CALIBRATION_TEXTS)))[:, 0]
    np.testing.assert_allclose(sigmoid(pieces.sum(axis=1)), by_keras, atol=1e-5)
    sources = np.array([0, 0, 0, 1, 1, 1, 1])
    report = calibrate(copy, batches, method="platt", sources=sources)
    coefficients = fit_platt(pieces, labels, source_weights(sources))
    assert report["platt"] == dict(zip(("wide_scale", "recurrent_scale", "bias"), coefficients))
    (kernel,) = model.get_layer(WIDE_LAYER).get_weights()
    (new_kernel,) = copy.get_layer(WIDE_LAYER).get_weights()
    np.testing.assert_allclose(new_kernel, coefficients[0] * kernel, rtol=1e-5, atol=1e-7)
    calibrated = sigmoid(pieces @ coefficients[:2] + coefficients[2])
    by_keras = np.asarray(copy(tf.constant(CALIBRATION_TEXTS)))[:, 0]
    np.testing.assert_allclose(by_keras, calibrated, atol=1e-5)
    np.testing.assert_allclose(engine_from_keras(copy, config).predict_proba(CALIBRATION_TEXTS), by_keras, atol=1e-5)
    assert set(report["ece_by_source"]) == {"0", "1"}
    assert report["ece_by_source"]["1"] == expected_calibration_error(labels[3:], calibrated[3:])


def test_a_temperature_weighs_every_validation_text_alike_even_with_sources():
    import tensorflow as tf

    from sentiment_rnn.models import build_model
    from sentiment_rnn.training.temperature import calibrate, head_logits

    model, config = randomized_model("model.cell=gru")
    copy = build_model(config, model.get_layer("tokenizer"))
    copy.set_weights(model.get_weights())
    batches = tf.data.Dataset.from_tensor_slices((CALIBRATION_TEXTS, CALIBRATION_LABELS)).batch(2)
    logits, labels = head_logits(copy, batches)
    report = calibrate(copy, batches, sources=np.array([0, 0, 0, 0, 0, 0, 1]))
    assert report["temperature"] == fit_temperature(logits, labels)
    assert set(report["ece_by_source"]) == {"0", "1"}


CALIBRATION_TEXTS = [
    "this phone is no good",
    "no, this phone is good",
    "great sound",
    "awful screen",
    "fair price",
    "",
    "zzz unknownword qqq",
]
CALIBRATION_LABELS = [0.0, 1.0, 1.0, 0.0, 1.0, 0.0, 1.0]


def test_a_joined_dataset_knows_each_rows_source_through_the_split():
    from sentiment_rnn.data.dataset import Dataset
    from sentiment_rnn.data.sources import join
    from sentiment_rnn.training.pipeline import split_dataset

    one = Dataset([f"one {i}" for i in range(6)], np.array([1, 0] * 3), "one")
    two = Dataset([f"two {i}" for i in range(4)], np.array([1, 0] * 2), "two")
    joined = join([one, two])
    np.testing.assert_array_equal(joined.row_sources, [0] * 6 + [1] * 4)
    split = split_dataset(joined, 0.3, seed=0)
    for part in (split.train, split.validation):
        assert [text.split()[0] for text in part.texts] == [("one", "two")[s] for s in part.row_sources]
    assert split_dataset(one, 0.3, seed=0).validation.row_sources is None


def test_train_weighs_each_source_and_reports_its_ece(tmp_path):
    from conftest import NEGATIVE, POSITIVE, TINY_OVERRIDES, write_csv
    from sentiment_rnn.training.run import train

    one = write_csv(tmp_path / "one.csv", [(t, 1) for t in POSITIVE[:4]] + [(t, 0) for t in NEGATIVE[:4]])
    two = write_csv(tmp_path / "two.csv", [(t, 1) for t in POSITIVE[4:]] + [(t, 0) for t in NEGATIVE[4:]])
    sources = f"data.sources=[{{path={str(one)!r}}}, {{path={str(two)!r}}}]"
    overrides = [*TINY_OVERRIDES, "train.validation_split=0.4", "train.bucket_by_length=true", sources]
    result = train(load_config(overrides=[*overrides, "train.calibration='platt'"]), tmp_path / "m", verbose=0)
    metrics = json.loads((tmp_path / "m" / "metrics.json").read_text())
    assert metrics["calibration"] == "platt" and set(metrics["platt"]) == {"scale", "bias"}
    validation_sources = {str(s) for s in result.split.validation.row_sources}
    assert set(metrics["ece_by_source"]) == validation_sources == {"0", "1"}
    by_numpy = [p.probability for p in predict(tmp_path / "m", ["good", "bad"])]
    by_keras = [p.probability for p in predict(tmp_path / "m", ["good", "bad"], engine="keras")]
    np.testing.assert_allclose(by_numpy, by_keras, atol=1e-5)


def test_an_unknown_calibration_is_refused():
    from sentiment_rnn.errors import SentimentError

    with pytest.raises(SentimentError, match="train.calibration"):
        load_config(overrides=["train.calibration='isotonic'"])
