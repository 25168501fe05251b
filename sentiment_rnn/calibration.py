"""Calibration: how far probabilities are from the frequencies they claim, and the maps that close the gap.

A model is calibrated when, of the texts it gives probability p, a share p is
positive. Temperature scaling (Guo et al. 2017) divides the head's logit z by
one number T > 0 fitted on held-out data: p = sigmoid(z / T). The decision at
p = 0.5 (z = 0), and so accuracy and ROC AUC, do not change; only how sure the
model says it is.

Platt scaling (Platt 1999) fits a logistic regression of the label on the
model's own scores: p = sigmoid(a . x + b), with x one or more linear pieces
of the logit (``training.temperature`` uses the hybrid model's two branches).
It can move the decision a little, and so accuracy, where one temperature
cannot fit every kind of text.

Both fits take per-example weights; :func:`source_weights` gives each source of
a validation split the same total weight, so the split's largest source does
not set the calibration of the others.

For more than two classes (a softmax head), the probabilities are (n, N) and
the labels class indices (n,): the ECE is that of the top class (its
probability against whether it is right, Guo et al. 2017), the Brier score
sums the squared error over all N classes (Brier 1950; in [0, 2]), and the
temperature divides the N logits.

Everything here is NumPy on arrays of shape (n,) (or (n, N)), so it can be checked by hand.
"""

from __future__ import annotations

import numpy as np

ECE_BINS = 10  # equal-width probability bins of the expected calibration error
TEMPERATURE_RANGE = (0.02, 50.0)  # the temperatures fit_temperature searches


def calibration_bin_sums(labels, probabilities, bins: int = ECE_BINS) -> tuple[np.ndarray, np.ndarray]:
    """Per bin of [0, 1], the sum of the 0/1 labels and the sum of the probabilities that fall in it: two (bins,) arrays.

    Bin b holds the probabilities in [b / bins, (b + 1) / bins); the last bin also holds 1.0.
    Sums over batches add up, so the ECE of data seen batch by batch is
    ``ece_from_bin_sums`` of the summed arrays.
    """
    labels = np.asarray(labels, dtype=np.float64)
    probabilities = np.asarray(probabilities, dtype=np.float64)
    index = calibration_bin_index(probabilities, bins)
    return (
        np.bincount(index, weights=labels, minlength=bins),
        np.bincount(index, weights=probabilities, minlength=bins),
    )


def calibration_bin_index(probabilities, bins: int = ECE_BINS) -> np.ndarray:
    """The bin of each probability (n,) in [0, 1]: b for [b / bins, (b + 1) / bins), the last bin for 1.0; int64 (n,)."""
    probabilities = np.asarray(probabilities, dtype=np.float64)
    return np.minimum((probabilities * bins).astype(np.int64), bins - 1)


def ece_from_bin_sums(label_sums: np.ndarray, probability_sums: np.ndarray, n: int) -> float:
    """ECE = sum over bins b of (n_b / n) * |mean label in b - mean probability in b| = sum |label - probability sums| / n."""
    return float(np.abs(label_sums - probability_sums).sum() / n) if n else 0.0


def expected_calibration_error(labels, probabilities, bins: int = ECE_BINS) -> float:
    """ECE of probabilities of positive against 0/1 labels, over ``bins`` equal-width bins of [0, 1].

    Args:
        labels: shape (n,), 1 = positive, 0 = negative.
        probabilities: shape (n,), in [0, 1].

    Returns:
        The ECE in [0, 1]; 0.0 for no examples.
    """
    return ece_from_bin_sums(*calibration_bin_sums(labels, probabilities, bins), len(labels))


def brier_score(labels, probabilities) -> float:
    """Mean squared difference between probability of positive and 0/1 label (shapes (n,)), in [0, 1]."""
    labels = np.asarray(labels, dtype=np.float64)
    probabilities = np.asarray(probabilities, dtype=np.float64)
    return float(np.mean((probabilities - labels) ** 2)) if len(labels) else 0.0


def sigmoid(z: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-z)), elementwise, without overflow."""
    z = np.asarray(z, dtype=np.float64)
    return np.exp(-np.logaddexp(0.0, -z))


def log_loss_at(logits: np.ndarray, labels: np.ndarray, temperature: float, weights=None) -> float:
    """Mean binary cross-entropy of sigmoid(logits / temperature) against labels in [0, 1] (shapes (n,)), in nats.

    With ``weights`` (n,), the weighted mean.
    """
    z = np.asarray(logits, dtype=np.float64) / temperature
    y = np.asarray(labels, dtype=np.float64)
    # -[y log s(z) + (1 - y) log(1 - s(z))] = log(1 + e^z) - y z, computed stably
    return float(np.average(np.logaddexp(0.0, z) - y * z, weights=weights))


def source_weights(sources) -> np.ndarray:
    """One weight per example, (n,) float64, so that every source's examples weigh the same in total; mean 1.

    Args:
        sources: shape (n,), any labels of where each example came from (e.g. the index of its data source).

    Example: sources ``[0, 0, 0, 1]`` give weights ``[2/3, 2/3, 2/3, 2]``: each source sums to 2.
    """
    sources = np.asarray(sources)
    if len(sources) == 0:
        return np.ones(0)
    _, index, counts = np.unique(sources, return_inverse=True, return_counts=True)
    return len(sources) / (len(counts) * counts[index].astype(np.float64))


def platt_targets(labels) -> np.ndarray:
    """Platt's (1999) smoothed targets: (n_pos + 1) / (n_pos + 2) for positives, 1 / (n_neg + 2) for negatives.

    Fitting to them instead of 0/1 keeps a validation split the model gets
    all right from driving the temperature to 0 (every probability 0.0 or 1.0).
    """
    labels = np.asarray(labels, dtype=np.float64)
    positives = labels.sum()
    negatives = len(labels) - positives
    return np.where(labels > 0.5, (positives + 1) / (positives + 2), 1 / (negatives + 2))


def fit_temperature(logits, labels, iterations: int = 200, weights=None) -> float:
    """The temperature T in :data:`TEMPERATURE_RANGE` that minimises the log loss of sigmoid(logits / T).

    The loss is taken against :func:`platt_targets` of the labels. It is
    convex in 1 / T, so a ternary search on 1 / T finds the minimum;
    ``iterations`` steps narrow the interval by (2/3)^iterations.

    Args:
        logits: the head's pre-sigmoid outputs, shape (n,).
        labels: 0/1, shape (n,).
        weights: per-example weights of the loss, shape (n,) (e.g. :func:`source_weights`); None: all 1.

    Returns:
        T > 0 (1.0 when all logits are 0, where every T gives the same loss).
    """
    logits = np.asarray(logits, dtype=np.float64)
    labels = platt_targets(labels) if len(logits) else labels
    if len(logits) == 0 or not np.any(logits):
        return 1.0
    low, high = 1.0 / TEMPERATURE_RANGE[1], 1.0 / TEMPERATURE_RANGE[0]  # the range of 1 / T
    for _ in range(iterations):
        a, b = low + (high - low) / 3, high - (high - low) / 3
        if log_loss_at(logits, labels, 1.0 / a, weights) <= log_loss_at(logits, labels, 1.0 / b, weights):
            high = b
        else:
            low = a
    return float(2.0 / (low + high))


def fit_platt(features, labels, weights=None, iterations: int = 100) -> np.ndarray:
    """The coefficients (a_1, ..., a_k, b) minimising the log loss of sigmoid(features @ a + b).

    The loss is taken against :func:`platt_targets` of the labels, weighted by
    ``weights``. It is convex in (a, b); Newton's method from a = 1, b = 0
    (the model as it is), halving a step that would raise the loss, stops
    when a step changes no coefficient by more than 1e-10 or after
    ``iterations`` steps.

    Args:
        features: shape (n, k), the pieces of each example's logit (k = 1: the logit itself).
        labels: 0/1, shape (n,).
        weights: per-example weights of the loss, shape (n,); None: all 1.

    Returns:
        (k + 1,) float64: a_1 .. a_k, then b. For no examples, the start (all a 1, b 0).
    """
    x = np.asarray(features, dtype=np.float64)
    x = np.column_stack([x, np.ones(len(x))])  # (n, k + 1): the bias is the last column
    coefficients = np.concatenate([np.ones(x.shape[1] - 1), [0.0]])
    if len(x) == 0:
        return coefficients
    targets = platt_targets(labels)
    weights = np.ones(len(x)) if weights is None else np.asarray(weights, dtype=np.float64)
    weights = weights / weights.sum()

    def loss(c: np.ndarray) -> float:
        z = x @ c
        return float(np.sum(weights * (np.logaddexp(0.0, z) - targets * z)))

    current = loss(coefficients)
    for _ in range(iterations):
        p = sigmoid(x @ coefficients)
        gradient = x.T @ (weights * (p - targets))  # (k + 1,)
        hessian = (x * (weights * p * (1.0 - p))[:, None]).T @ x  # (k + 1, k + 1)
        step = np.linalg.lstsq(hessian + 1e-12 * np.eye(len(gradient)), gradient, rcond=None)[0]
        for _ in range(50):  # halve the step until the loss does not rise
            trial = coefficients - step
            if loss(trial) <= current:
                break
            step = step / 2
        else:
            break
        coefficients, current = trial, loss(trial)
        if np.max(np.abs(step)) < 1e-10:
            break
    return coefficients


def softmax(z: np.ndarray) -> np.ndarray:
    """Softmax over the last axis, in float64."""
    z = np.asarray(z, dtype=np.float64)
    shifted = np.exp(z - z.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def top_class(probabilities) -> tuple[np.ndarray, np.ndarray]:
    """(predicted class (n,), its probability (n,)) of probabilities (n, N)."""
    probabilities = np.asarray(probabilities, dtype=np.float64)
    predicted = np.argmax(probabilities, axis=1)
    return predicted, probabilities[np.arange(len(predicted)), predicted]


def top_class_ece(labels, probabilities, bins: int = ECE_BINS) -> float:
    """ECE of the top class: its probability (n,) against whether it is the label (n,), over ``bins`` bins.

    Args:
        labels: class indices (n,).
        probabilities: (n, N), rows summing to 1.
    """
    predicted, confidence = top_class(probabilities)
    return expected_calibration_error(predicted == np.asarray(labels), confidence, bins)


def multiclass_brier_score(labels, probabilities) -> float:
    """Mean over examples of sum over the N classes of (probability - [class is the label])^2, in [0, 2].

    Args:
        labels: class indices (n,).
        probabilities: (n, N).
    """
    probabilities = np.asarray(probabilities, dtype=np.float64)
    if len(probabilities) == 0:
        return 0.0
    one_hot = np.eye(probabilities.shape[1])[np.asarray(labels, dtype=np.int64)]
    return float(np.mean(np.sum((probabilities - one_hot) ** 2, axis=1)))


def smoothed_targets(labels, classes: int) -> np.ndarray:
    """Platt's smoothed targets for ``classes`` classes, (n, classes): (n_c + 1) / (n_c + 2) for the label c,
    the rest 1 / (n_c + 2) shared evenly by the other classes (n_c: the examples of class c).

    For two classes this is :func:`platt_targets` (its column 1).
    """
    labels = np.asarray(labels, dtype=np.int64)
    counts = np.bincount(labels, minlength=classes).astype(np.float64)
    right = (counts[labels] + 1) / (counts[labels] + 2)  # (n,)
    targets = np.repeat(((1 - right) / (classes - 1))[:, None], classes, axis=1)
    targets[np.arange(len(labels)), labels] = right
    return targets


def softmax_log_loss_at(logits: np.ndarray, targets: np.ndarray, temperature: float) -> float:
    """Mean cross-entropy of softmax(logits / temperature) (n, N) against targets (n, N) summing to 1, in nats."""
    z = np.asarray(logits, dtype=np.float64) / temperature
    top = z.max(axis=1, keepdims=True)
    log_normalizer = top[:, 0] + np.log(np.exp(z - top).sum(axis=1))
    return float(np.mean(log_normalizer - np.sum(targets * z, axis=1)))


def fit_softmax_temperature(logits, labels, iterations: int = 200) -> float:
    """The temperature T in :data:`TEMPERATURE_RANGE` minimising the cross-entropy of softmax(logits / T).

    As :func:`fit_temperature`, for logits (n, N) and class indices (n,), against
    :func:`smoothed_targets`: the loss is convex in 1 / T, found by a ternary search.
    """
    logits = np.asarray(logits, dtype=np.float64)
    if len(logits) == 0 or not np.any(logits - logits.mean(axis=1, keepdims=True)):
        return 1.0
    targets = smoothed_targets(labels, logits.shape[1])
    low, high = 1.0 / TEMPERATURE_RANGE[1], 1.0 / TEMPERATURE_RANGE[0]
    for _ in range(iterations):
        a, b = low + (high - low) / 3, high - (high - low) / 3
        if softmax_log_loss_at(logits, targets, 1.0 / a) <= softmax_log_loss_at(logits, targets, 1.0 / b):
            high = b
        else:
            low = a
    return float(2.0 / (low + high))
