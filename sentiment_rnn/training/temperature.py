"""Calibrating a trained model: fit a map of its logit on the validation split and fold it into the weights.

The head computes p = sigmoid(h . w + b) from the features h of the layer
below it. ``train.calibration`` picks the map, fitted on the validation split
(:mod:`sentiment_rnn.calibration`):

- ``"temperature"``: p = sigmoid(z / T), one T > 0 for the whole logit z.
  Dividing the head's kernel and bias (and a hybrid's wide kernel) by T
  gives it, and no decision changes.
- ``"platt"``: Platt scaling on the logit's pieces. For ``rnn`` and ``bow``
  models p = sigmoid(a z + b). For a hybrid, whose logit is the recurrent
  head's r plus the wide branch's w, p = sigmoid(a_w w + a_r r + b). The two
  branches get their own scale because they err differently: the wide branch
  sums one log-count ratio per n-gram, so on a long review it adds up
  hundreds of correlated ratios as if they were independent evidence (naive
  Bayes' overconfidence, growing with length), while on a short phrase the
  recurrent branch carries most of the logit. One temperature fitted on a
  split of mostly phrases leaves long reviews overconfident; a scale per
  branch can soften the wide branch without softening the phrases. The map
  is folded in as the wide kernel a_w k, the head's kernel a_r w and bias
  a_r b_head + b. No term grows with the text's length (such as a shift per
  n-gram): fitted on the few long texts of a validation split, it would
  move the decisions of long reviews from other domains.

Either way the calibrated model is an ordinary model: the Keras model, the
NumPy engine (``weights.npz``), the per-token and stateful views and every
export apply it alike, and directories written before calibration existed
load as they always did.

A softmax head (more than two classes) takes a temperature only: p =
softmax(z / T) over the N logits (for a hybrid, the head's plus the wide
branch's), fitted on the validation split's cross-entropy and folded in the
same way; no decision changes.

When the validation split knows each text's source (several ``[[data.sources]]``),
every source weighs the same in a Platt fit (``calibration.source_weights``): a split
of 3,000 short phrases and 200 long reviews otherwise calibrates for phrases. A
temperature keeps the plain mean: one number cannot suit both, and weighing the
sources alike only moves the phrases' error to the other side (reviews-en's
validation split: ECE of its SST-2 part 0.017 plain, 0.040 weighted).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sentiment_rnn.calibration import (
    brier_score,
    expected_calibration_error,
    fit_platt,
    fit_softmax_temperature,
    fit_temperature,
    multiclass_brier_score,
    sigmoid,
    softmax,
    source_weights,
    top_class_ece,
)


def wide_layer_of(model):
    """A hybrid model's wide layer (its logit is added to the head's), or None for other kinds."""
    from sentiment_rnn.wide import WIDE_LAYER

    return next((layer for layer in model.layers if layer.name == WIDE_LAYER), None)


def branch_logits(model, batches):
    """Per batch of (text (B,), label (B,)): (the recurrent or bag-of-words head's logits (B, K) float64,
    a hybrid's wide logits (B, K) or None, the labels (B,)); K = 1 for a sigmoid head, N for a softmax one.

    Computed in float64 from the head's input features, so saturated probabilities
    (0.0 or 1.0 in float32) keep their logits.
    """
    from sentiment_rnn.models import HEAD_LAYER
    from sentiment_rnn.tf_setup import import_keras

    keras = import_keras()
    head = model.get_layer(HEAD_LAYER)
    wide = wide_layer_of(model)
    features = keras.Model(model.inputs, [head.input, wide.output] if wide is not None else head.input)
    kernel, bias = (np.asarray(w, dtype=np.float64) for w in head.get_weights())
    for texts, batch_labels in batches:
        outputs = features(texts, training=False)
        outputs = outputs if wide is not None else [outputs]  # a one-output Model returns the tensor itself
        h, *rest = (np.asarray(x, dtype=np.float64) for x in outputs)  # (B, features), then (B, K) for a hybrid
        yield h @ kernel + bias, rest[0] if rest else None, np.asarray(batch_labels, dtype=np.float64)


def logit_pieces(model, batches) -> tuple[np.ndarray, np.ndarray]:
    """(pieces (n, k) float64, labels (n,) float64) of a sigmoid head's logit on ``batches`` of (text (B,), label (B,)).

    k = 1 for ``rnn`` and ``bow`` models: the head's logit z. k = 2 for a hybrid: the wide
    branch's logit w and the recurrent head's logit r; the logit is w + r.
    """
    pieces, labels = [], []
    for recurrent, wide, batch_labels in branch_logits(model, batches):
        pieces.append(np.column_stack([wide[:, 0], recurrent[:, 0]]) if wide is not None else recurrent)
        labels.append(batch_labels)
    return np.concatenate(pieces), np.concatenate(labels)


def class_logits(model, batches) -> tuple[np.ndarray, np.ndarray]:
    """(logits (n, N) float64, class indices (n,) int64) of a softmax head on ``batches``: every branch summed."""
    logits, labels = [], []
    for recurrent, wide, batch_labels in branch_logits(model, batches):
        logits.append(recurrent if wide is None else recurrent + wide)
        labels.append(batch_labels.astype(np.int64))
    return np.concatenate(logits), np.concatenate(labels)


def is_softmax(model) -> bool:
    """Whether the model ends in a softmax over more than two classes (not a one-unit sigmoid)."""
    return model.output.shape[-1] > 1


def logits_of(pieces: np.ndarray) -> np.ndarray:
    """The model's logit (n,) from :func:`logit_pieces`: z, or w + r for a hybrid."""
    return pieces.sum(axis=1)


def head_logits(model, batches) -> tuple[np.ndarray, np.ndarray]:
    """(logits (n,) float64, labels (n,) float64) of the model on ``batches``: the pre-sigmoid sum of every branch."""
    pieces, labels = logit_pieces(model, batches)
    return logits_of(pieces), labels


def fold_temperature(model, temperature: float) -> None:
    """Divide every term of the model's logit by ``temperature``: the head's kernel and bias, a hybrid's wide kernel."""
    from sentiment_rnn.models import HEAD_LAYER

    for layer in (model.get_layer(HEAD_LAYER), wide_layer_of(model)):
        if layer is not None:
            layer.set_weights([np.asarray(w, dtype=np.float32) / np.float32(temperature) for w in layer.get_weights()])


def fold_platt(model, coefficients: np.ndarray) -> None:
    """Fold Platt coefficients into the weights: (a, b) for ``rnn``/``bow``, (a_w, a_r, b) for a hybrid."""
    from sentiment_rnn.models import HEAD_LAYER

    head = model.get_layer(HEAD_LAYER)
    wide = wide_layer_of(model)
    if wide is not None:
        a_wide, scale, shift = coefficients
        (wide_kernel,) = (np.asarray(w, dtype=np.float64) for w in wide.get_weights())
        wide.set_weights([(a_wide * wide_kernel).astype(np.float32)])
    else:
        scale, shift = coefficients
    kernel, bias = (np.asarray(w, dtype=np.float64) for w in head.get_weights())
    head.set_weights([(scale * kernel).astype(np.float32), (scale * bias + shift).astype(np.float32)])


def platt_logits(pieces: np.ndarray, coefficients: np.ndarray) -> np.ndarray:
    """The calibrated logit (n,): pieces (n, k) @ a + b."""
    return pieces @ coefficients[:-1] + coefficients[-1]


PLATT_NAMES = {1: ("scale", "bias"), 2: ("wide_scale", "recurrent_scale", "bias")}


def calibrate(model, batches, method: str = "temperature", sources=None) -> dict[str, Any]:
    """Fit ``method``'s map on ``batches`` (the validation split), fold it into the model, and report.

    Args:
        model: the trained Keras model; its weights are changed in place.
        batches: (text (B,), label (B,)) batches of the validation split, in a fixed order.
        method: ``"temperature"`` or ``"platt"`` (``train.calibration``; see the module docstring).
        sources: shape (n,), each validation text's source in the order of ``batches``, or None.
            Given, every source weighs the same in a Platt fit, and each one's ECE is reported.

    Returns:
        ``{"calibration": method, "temperature": T}`` or ``{"calibration": "platt", "platt": {name: value}}``,
        with ``"ece", "brier", "ece_uncalibrated", "brier_uncalibrated"`` measured on the same batches
        (ECE over 10 equal-width bins, every text counted once), and with ``sources``, ``"ece_by_source"``:
        the calibrated ECE of each source's texts, by source index.
    """
    if is_softmax(model):
        return calibrate_softmax(model, batches, method)
    pieces, labels = logit_pieces(model, batches)
    # a Platt fit weighs every source the same; one temperature cannot serve them all (module docstring)
    weights = None if sources is None or method == "temperature" else source_weights(sources)
    before = sigmoid(logits_of(pieces))
    if method == "temperature":
        temperature = fit_temperature(logits_of(pieces), labels, weights=weights)
        fold_temperature(model, temperature)
        after = sigmoid(logits_of(pieces) / temperature)
        fitted: dict[str, Any] = {"temperature": temperature}
    elif method == "platt":
        coefficients = fit_platt(pieces, labels, weights)
        fold_platt(model, coefficients)
        after = sigmoid(platt_logits(pieces, coefficients))
        fitted = {"platt": dict(zip(PLATT_NAMES[pieces.shape[1]], map(float, coefficients), strict=True))}
    else:
        raise ValueError(f"calibration method must be 'temperature' or 'platt', got {method!r}")
    report = {
        "calibration": method,
        **fitted,
        "ece": expected_calibration_error(labels, after),
        "brier": brier_score(labels, after),
        "ece_uncalibrated": expected_calibration_error(labels, before),
        "brier_uncalibrated": brier_score(labels, before),
    }
    if sources is not None:
        sources = np.asarray(sources)
        report["ece_by_source"] = {
            str(s): expected_calibration_error(labels[sources == s], after[sources == s]) for s in np.unique(sources)
        }
    return report


def calibrate_softmax(model, batches, method: str = "temperature") -> dict[str, Any]:
    """Fit a temperature on ``batches`` for a softmax head, fold it in, and report as :func:`calibrate` does.

    ECE is the top class's, Brier is summed over the classes (``sentiment_rnn.calibration``).
    """
    if method != "temperature":
        raise ValueError(f"a softmax head takes calibration method 'temperature', got {method!r}")
    logits, labels = class_logits(model, batches)
    temperature = fit_softmax_temperature(logits, labels)
    fold_temperature(model, temperature)
    before, after = softmax(logits), softmax(logits / temperature)
    return {
        "calibration": method,
        "temperature": temperature,
        "ece": top_class_ece(labels, after),
        "brier": multiclass_brier_score(labels, after),
        "ece_uncalibrated": top_class_ece(labels, before),
        "brier_uncalibrated": multiclass_brier_score(labels, before),
    }


VALIDATION_BATCH = 256  # texts per batch while calibrating, as validation_batches


def calibration_input(config, validation) -> tuple[Any, np.ndarray | None]:
    """(batches, sources) to calibrate on: the validation split, and each text's source in batch order, or None.

    A split that knows its texts' sources (``Dataset.row_sources``) is batched in order of word
    count, so batches hold little padding and the order is known; any other split is batched as
    for validation (``train.bucket_by_length`` may reorder it, which no fit without sources minds).
    """
    from sentiment_rnn.data.dataset import Dataset
    from sentiment_rnn.training.pipeline import text_batches, validation_batches

    if not isinstance(validation, Dataset) or validation.row_sources is None:
        return validation_batches(config, validation), None
    words = np.fromiter((text.count(" ") for text in validation.texts), dtype=np.int64, count=len(validation))
    ordered = validation.subset(np.argsort(words, kind="stable"))
    return text_batches(ordered, VALIDATION_BATCH), ordered.row_sources


def calibration_report(model, batches) -> dict[str, Any]:
    """ECE and Brier score of the model as it is (no temperature fitted: ``train.calibrate = false``)."""
    if is_softmax(model):
        logits, labels = class_logits(model, batches)
        probabilities = softmax(logits)
        return {
            "temperature": 1.0,
            "ece": top_class_ece(labels, probabilities),
            "brier": multiclass_brier_score(labels, probabilities),
        }
    logits, labels = head_logits(model, batches)
    probabilities = sigmoid(logits)
    return {
        "temperature": 1.0,
        "ece": expected_calibration_error(labels, probabilities),
        "brier": brier_score(labels, probabilities),
    }
