"""SentimentClassifier: a scikit-learn-style estimator around ``train`` and ``predict``, for notebooks.

It follows scikit-learn's conventions without depending on it: every
constructor argument is an explicit keyword stored as given (so ``clone``,
``get_params`` and ``set_params`` work), learned state ends in ``_``, and
``predict_proba`` returns shape (n, N) for N classes (two or more), columns
in ``classes_`` order. It runs
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

from sentiment_rnn.data.labels import DEFAULT_CLASSES
from sentiment_rnn.errors import SentimentError

MAX_SAVED_CLASSES = 10_000  # labels in a saved estimator's classes.json: more is a damaged or hostile file

# The constructor's parameters, in order: scikit-learn reads them from here (get_params) and clone rebuilds.
PARAMETERS = ("config", "overrides", "cell", "layers", "units", "epochs", "seed", "verbose")


class SentimentClassifier:
    """A recurrent sentiment classifier on raw texts: fit(texts, labels), predict, predict_proba, score.

    Args:
        config: a TOML config file (e.g. ``configs/mr.toml``); None for the defaults, the small model of
            ``configs/default.toml`` (not ``train --data``'s finetune preset: a cross-validation fits
            many models; ``presets.preset_path("finetune")`` starts each from reviews-lm).
        overrides: ``"section.key=value"`` strings, as ``train --set`` takes.
        cell, layers, units, epochs, seed: shortcuts for ``model.cell``,
            ``model.layers``, ``model.units``, ``train.epochs`` and
            ``train.seed``; None leaves the config's value.
        verbose: Keras ``fit`` verbosity (0: silent).

    Attributes (after ``fit`` or ``load``):
        classes_: the labels, sorted; with two, ``classes_[1]`` is the positive class (a sigmoid
            head); with more, the model has a softmax head over them in this order.
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
            classifier_tags=ClassifierTags(multi_class=True),
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
        """Train on texts ``X`` (n,) and labels ``y`` (n,) of two or more classes; returns self.

        Two classes give the two-class model (a sigmoid head); more give a softmax head,
        its classes named by the labels as text (``data.labels`` of the saved config).

        Raises:
            SentimentError: bad config, one class only, labels that cannot name classes (two that differ
                only in case, or holding ``,``), too few rows; ValueError: X and y lengths differ.
        """
        from sentiment_rnn.data.dataset import Dataset
        from sentiment_rnn.training.run import train

        texts = _texts(X)
        labels = np.asarray(y)
        if labels.ndim != 1 or len(labels) != len(texts):
            raise ValueError(f"X has {len(texts)} texts but y has shape {labels.shape}: give one label per text.")
        classes, index = np.unique(labels, return_inverse=True)
        if len(classes) < 2:
            raise SentimentError(
                f"y holds {len(classes)} classes ({', '.join(map(str, classes[:5]))}): a classifier needs at least two."
            )
        config = self.load_config()
        names = DEFAULT_CLASSES if len(classes) == 2 else class_names(classes)
        dataset = Dataset(texts, index.astype(np.int32), "SentimentClassifier.fit", classes=names)
        directory = Path(tempfile.mkdtemp(prefix="sentiment-rnn-estimator-"))
        weakref.finalize(self, shutil.rmtree, directory, True)
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
        """Probabilities (n, N) float64, column k for ``classes_[k]`` (two classes: column 1 is positive)."""
        from sentiment_rnn.inference import predict_proba

        texts = _texts(X)
        probabilities = predict_proba(self._directory(), texts)
        if probabilities.ndim == 2:
            return probabilities
        return np.stack([1.0 - probabilities, probabilities], axis=1).reshape(len(texts), 2)

    def predict(self, X) -> np.ndarray:
        """The label (n,) of each text: the most probable class (two classes: ``classes_[1]`` from 0.5 on)."""
        probabilities = self.predict_proba(X)
        if probabilities.shape[1] == 2:
            return self.classes_[(probabilities[:, 1] >= 0.5).astype(int)]
        return self.classes_[np.argmax(probabilities, axis=1)]

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
        if os.path.lexists(classes_file):  # saved with the estimator: any labels it was fitted on
            classes = read_json(classes_file, schema=jsondoc.ListOf(jsondoc.ANYTHING, max_items=MAX_SAVED_CLASSES))
            if len(classes) < 2 or not all(isinstance(c, str | int | float) for c in classes):
                raise SentimentError(f"{classes_file} does not hold the model's labels: save the estimator again.")
            estimator.classes_ = np.array(classes)
        else:  # a model directory from train: its classes, [0, 1] for negative/positive
            estimator.classes_ = np.array([0, 1] if directory.classes == DEFAULT_CLASSES else directory.classes)
        estimator.model_dir_ = directory.path
        estimator._opened = directory
        return estimator


CLASSES_FILE = "classes.json"  # the estimator's labels (classes_), in class order, in a saved model directory


def class_names(classes: np.ndarray) -> tuple[str, ...]:
    """The names of more than two classes (``data.labels``): each label as text, as labels are compared.

    Raises:
        SentimentError: two labels with one name (``"A"`` and ``"a"``), or a label holding ``,``.
    """
    from sentiment_rnn.data.labels import label_key

    names = tuple(label_key(_plain(c)) for c in classes)
    if len(set(names)) < len(names) or any("," in name or not name for name in names):
        raise SentimentError(
            f"y's labels {', '.join(repr(_plain(c)) for c in classes[:5])}... cannot name classes: they must differ in more "
            "than case and spacing, be non-empty and hold no comma."
        )
    return names


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
