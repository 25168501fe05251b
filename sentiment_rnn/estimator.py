"""SentimentClassifier: a scikit-learn-style estimator around ``train`` and ``predict``, for notebooks.

It follows scikit-learn's conventions without depending on it: every
constructor argument is an explicit keyword stored as given (so ``clone``,
``get_params`` and ``set_params`` work), learned state ends in ``_``, and
``predict_proba`` returns shape (n, 2), columns in ``classes_`` order. It runs
in ``cross_val_score``, ``GridSearchCV`` and a ``Pipeline`` when scikit-learn is
installed.

Example::

    from sentiment_rnn import SentimentClassifier
    clf = SentimentClassifier(epochs=5, cell="gru").fit(texts, labels)
    clf.predict(["No this phone is good"]), clf.predict_proba(["great"])  # (1,), (1, 2)
    clf.save("my-model")                                                   # a model directory
    SentimentClassifier.load("my-model").score(test_texts, test_labels)    # accuracy
"""

from __future__ import annotations

import os
import shutil
import tempfile
import weakref
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sentiment_rnn.errors import SentimentError

# The constructor's parameters, in order: scikit-learn reads them from here (get_params) and clone rebuilds.
PARAMETERS = ("config", "overrides", "cell", "layers", "units", "epochs", "seed", "verbose")


class SentimentClassifier:
    """A recurrent sentiment classifier on raw texts: fit(texts, labels), predict, predict_proba, score.

    Args:
        config: a TOML config file (e.g. ``configs/mr.toml``); None for the defaults.
        overrides: ``"section.key=value"`` strings, as ``train --set`` takes.
        cell, layers, units, epochs, seed: shortcuts for ``model.cell``,
            ``model.layers``, ``model.units``, ``train.epochs`` and
            ``train.seed``; None leaves the config's value.
        verbose: Keras ``fit`` verbosity (0: silent).

    Attributes (after ``fit`` or ``load``):
        classes_: the two labels, sorted; ``classes_[1]`` is the positive class.
        model_dir_: the model directory the estimator predicts with.
    """

    def __init__(
        self,
        config: str | Path | None = None,
        overrides: Sequence[str] = (),
        cell: str | None = None,
        layers: int | None = None,
        units: int | None = None,
        epochs: int | None = None,
        seed: int | None = None,
        verbose: int = 0,
    ):
        self.config = config
        self.overrides = overrides
        self.cell = cell
        self.layers = layers
        self.units = units
        self.epochs = epochs
        self.seed = seed
        self.verbose = verbose

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor's arguments by name (scikit-learn's estimator API)."""
        return {name: getattr(self, name) for name in PARAMETERS}

    def set_params(self, **params: Any) -> SentimentClassifier:
        """Set constructor arguments by name; unknown names raise ValueError, as in scikit-learn."""
        for name, value in params.items():
            if name not in PARAMETERS:
                raise ValueError(f"Invalid parameter {name!r} for SentimentClassifier: expected one of {PARAMETERS}.")
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        given = ", ".join(
            f"{name}={value!r}" for name, value in self.get_params().items() if value not in (None, (), 0)
        )
        return f"SentimentClassifier({given})"

    def __sklearn_tags__(self):
        """scikit-learn >= 1.6 asks an estimator for its tags: a classifier of 1-D string input."""
        from sklearn.utils import ClassifierTags, InputTags, Tags, TargetTags

        return Tags(
            estimator_type="classifier",
            target_tags=TargetTags(required=True),
            classifier_tags=ClassifierTags(multi_class=False),
            input_tags=InputTags(one_d_array=True, two_d_array=False, string=True),
        )

    def load_config(self):
        """The Config this estimator trains with: ``config``, then ``overrides``, then the shortcuts."""
        from sentiment_rnn.config import load_config, options_as_overrides

        shortcuts = {
            "model.cell": self.cell,
            "model.layers": self.layers,
            "model.units": self.units,
            "train.epochs": self.epochs,
            "train.seed": self.seed,
        }
        return load_config(self.config, [*self.overrides, *options_as_overrides(shortcuts)])

    def fit(self, X, y) -> SentimentClassifier:
        """Train on texts ``X`` (n,) and labels ``y`` (n,) of exactly two classes; returns self.

        Raises:
            SentimentError: bad config, not two classes, too few rows; ValueError: X and y lengths differ.
        """
        from sentiment_rnn.data.dataset import Dataset
        from sentiment_rnn.training.run import train

        texts = _texts(X)
        labels = np.asarray(y)
        if labels.ndim != 1 or len(labels) != len(texts):
            raise ValueError(f"X has {len(texts)} texts but y has shape {labels.shape}: give one label per text.")
        classes = np.unique(labels)
        if len(classes) != 2:
            raise SentimentError(
                f"y holds {len(classes)} classes ({', '.join(map(str, classes[:5]))}): a binary classifier needs two."
            )
        config = self.load_config()
        directory = Path(tempfile.mkdtemp(prefix="sentiment-rnn-estimator-"))
        weakref.finalize(self, shutil.rmtree, directory, True)
        dataset = Dataset(texts, (labels == classes[1]).astype(np.int32), "SentimentClassifier.fit")
        train(config, directory / "model", dataset=dataset, verbose=self.verbose)
        self.classes_ = classes
        self.model_dir_ = directory / "model"
        self._opened = None
        return self

    def _directory(self):
        from sentiment_rnn.artifact.model_directory import open_model_dir

        if not hasattr(self, "model_dir_"):
            raise SentimentError("This SentimentClassifier is not fitted yet: call fit(texts, labels) or load(path).")
        if getattr(self, "_opened", None) is None:
            self._opened = open_model_dir(self.model_dir_)
        return self._opened

    def predict_proba(self, X) -> np.ndarray:
        """Probabilities (n, 2) float64: column 0 for ``classes_[0]``, column 1 for ``classes_[1]`` (positive)."""
        from sentiment_rnn.inference import predict

        texts = _texts(X)
        positive = np.array([p.probability for p in predict(self._directory(), texts)], dtype=np.float64)
        return np.stack([1.0 - positive, positive], axis=1).reshape(len(texts), 2)

    def predict(self, X) -> np.ndarray:
        """The label (n,) of each text: ``classes_[1]`` where the probability of positive is 0.5 or more."""
        positive = self.predict_proba(X)[:, 1] >= 0.5
        return self.classes_[positive.astype(int)]

    def score(self, X, y) -> float:
        """Accuracy on texts ``X`` and labels ``y``, as scikit-learn's classifiers score."""
        return float(np.mean(self.predict(X) == np.asarray(y)))

    def save(self, path: str | Path) -> Path:
        """Write the fitted model as a model directory at ``path`` (a new path), usable by every command."""
        from sentiment_rnn.artifact.atomic import staged_directory
        from sentiment_rnn.artifact.files import write_json

        source = self._directory().path
        path = Path(path)
        if path.exists():
            raise SentimentError(f"{path} already exists: save to a new path, or remove it first.")
        with staged_directory(path) as staging:
            shutil.copytree(source, staging, dirs_exist_ok=True)
            write_json(staging / CLASSES_FILE, [_plain(c) for c in self.classes_])
        return path

    @classmethod
    def load(cls, path: str | Path) -> SentimentClassifier:
        """A fitted estimator predicting with the model directory at ``path`` (from ``save`` or ``train``).

        ``path`` may also be a bundled model's name, ``"reviews-en"`` (an existing path wins over the name).
        """
        from sentiment_rnn import jsondoc
        from sentiment_rnn.artifact.files import read_json
        from sentiment_rnn.artifact.model_directory import open_model_dir

        directory = open_model_dir(path)
        estimator = cls()
        classes_file = directory.path / CLASSES_FILE
        classes = [0, 1]
        if os.path.lexists(classes_file):
            classes = read_json(classes_file, schema=jsondoc.ListOf(jsondoc.ANYTHING, max_items=2))
            if len(classes) != 2 or not all(isinstance(c, str | int | float) for c in classes):
                raise SentimentError(f"{classes_file} does not hold two labels: save the estimator again.")
        estimator.classes_ = np.array(classes)
        estimator.model_dir_ = directory.path
        estimator._opened = directory
        return estimator


CLASSES_FILE = "classes.json"  # the estimator's two labels, [negative, positive], in a saved model directory


def _texts(X) -> list[str]:
    """Texts from a list, a NumPy array (n,) or (n, 1), or a pandas Series/one-column DataFrame."""
    array = np.asarray(X, dtype=object)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        raise ValueError(f"X must be one text per row, shape (n,) or (n, 1); got shape {array.shape}.")
    return ["" if text is None else str(text) for text in array]


def _plain(value):
    """A NumPy scalar as the Python value JSON can hold."""
    return value.item() if hasattr(value, "item") else value
