"""SentimentClassifier: scikit-learn's estimator rules, cross_val_score and a Pipeline on a tiny fixture."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import NEGATIVE, PATHS_ATOL, POSITIVE
from sentiment_rnn.errors import SentimentError
from sentiment_rnn.estimator import SentimentClassifier

sklearn = pytest.importorskip("sklearn")  # in the test extra; not a runtime dependency

TINY = ["model.output_dim=8", "train.batch_size=8", "train.validation_split=0.25"]
TEXTS = np.array(POSITIVE + NEGATIVE, dtype=object)
LABELS = np.array(["pos"] * len(POSITIVE) + ["neg"] * len(NEGATIVE))


def tiny_classifier(**params):
    return SentimentClassifier(overrides=TINY, units=8, epochs=2, seed=3, **params)


def test_constructor_follows_scikit_learn_rules():
    from sklearn.base import clone

    clf = tiny_classifier(cell="gru")
    assert clf.get_params() == {
        "config": None,
        "overrides": TINY,
        "cell": "gru",
        "layers": None,
        "units": 8,
        "epochs": 2,
        "seed": 3,
        "verbose": 0,
    }
    copy = clone(clf)
    assert copy is not clf and copy.get_params() == clf.get_params()
    assert clf.set_params(cell="lstm", units=4) is clf and (clf.cell, clf.units) == ("lstm", 4)
    with pytest.raises(ValueError, match="Invalid parameter 'size'"):
        clf.set_params(size=3)
    assert sklearn.base.is_classifier(clf)


def test_fit_predict_proba_score_save_load(tmp_path):
    clf = tiny_classifier().fit(list(TEXTS), LABELS)
    assert clf.classes_.tolist() == ["neg", "pos"]
    proba = clf.predict_proba(TEXTS[:3])
    assert proba.shape == (3, 2) and proba.dtype == np.float64
    assert np.allclose(proba.sum(axis=1), 1.0)
    predicted = clf.predict(TEXTS)
    assert predicted.shape == (12,) and set(predicted) <= {"neg", "pos"}
    assert predicted.tolist() == np.where(clf.predict_proba(TEXTS)[:, 1] >= 0.5, "pos", "neg").tolist()
    assert clf.score(TEXTS, LABELS) == float(np.mean(predicted == LABELS))
    saved = clf.save(tmp_path / "saved")
    loaded = SentimentClassifier.load(saved)
    assert loaded.classes_.tolist() == ["neg", "pos"]
    # the saved copy and the fitted model: two paths (see PATHS_ATOL)
    np.testing.assert_allclose(loaded.predict_proba(TEXTS), clf.predict_proba(TEXTS), rtol=0, atol=PATHS_ATOL)
    # the saved directory is a model directory like any other
    from sentiment_rnn import predict

    # two texts here, three in proba's batch: two paths (see PATHS_ATOL)
    assert [p.probability for p in predict(saved, list(TEXTS[:2]))] == pytest.approx(
        proba[:2, 1].tolist(), rel=0, abs=PATHS_ATOL
    )
    with pytest.raises(SentimentError, match="already exists: save to a new path"):
        clf.save(saved)


def test_errors_say_what_to_do():
    with pytest.raises(SentimentError, match=r"^This SentimentClassifier is not fitted yet: call fit"):
        SentimentClassifier().predict(["good"])
    with pytest.raises(SentimentError, match=r"^y holds 1 classes \(pos\): a classifier needs at least two\.$"):
        tiny_classifier().fit(["a", "b", "c"], ["pos"] * 3)
    with pytest.raises(ValueError, match=r"^X has 2 texts but y has shape \(3,\)"):
        tiny_classifier().fit(["a", "b"], [0, 1, 0])


def test_cross_val_score_and_a_pipeline():
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    folds = StratifiedKFold(n_splits=2, shuffle=True, random_state=0)
    scores = cross_val_score(tiny_classifier(), TEXTS, LABELS, cv=folds, error_score="raise")
    assert scores.shape == (2,) and all(0.0 <= s <= 1.0 for s in scores)
    shout = FunctionTransformer(lambda texts: np.array([t.upper() for t in texts], dtype=object))
    pipeline = make_pipeline(shout, tiny_classifier()).fit(TEXTS, LABELS)
    assert pipeline.predict_proba(TEXTS[:4]).shape == (4, 2)
    assert pipeline.score(TEXTS, LABELS) == pipeline[-1].score(shout.transform(TEXTS), LABELS)
