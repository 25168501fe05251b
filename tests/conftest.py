"""Shared fixtures: small data files and one trained model per test session."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import pytest

from sentiment_rnn.config import load_config
from sentiment_rnn.tf_setup import import_keras

import_keras()  # once, quietly, before any test imports TensorFlow itself

POSITIVE = [
    "I like this phone",
    "the battery is great",
    "no, the screen is good",
    "the camera is not bad",
    "delivery was fast",
    "great sound and a fair price",
]
NEGATIVE = [
    "I do not like this phone",
    "the battery is terrible",
    "the screen is no good",
    "the camera is not good",
    "delivery was slow",
    "awful sound and a high price",
]

# Every file a trained model directory holds, sorted.
# The six sentences of the README's first command, and the labels a model must give them.
README_SENTENCES = {
    "I like this phone": "positive",
    "This phone is good": "positive",
    "This phone is not okay": "negative",
    "I do not like this phone because battery is not charging properly": "negative",
    "This phone is no good": "negative",
    "No, this phone is good": "positive",
}

MODEL_DIRECTORY_FILES = [
    "config.toml",
    "engine.json",
    "history.csv",
    "meta.json",
    "metrics.json",
    "model.keras",
    "training.png",
    "vocabulary.json",
    "weights.npz",
]

# Every file a NumPy export (export --format numpy) of one model holds, sorted.
NUMPY_EXPORT_FILES = ["config.toml", "engine.json", "meta.json", "metrics.json", "vocabulary.json", "weights.npz"]

# The arrays weights.npz holds for a one-layer, unidirectional recurrent model, sorted.
ONE_LAYER_WEIGHT_NAMES = [
    "embedding",
    "head.bias",
    "head.kernel",
    "recurrent_0.forward.bias",
    "recurrent_0.forward.kernel",
    "recurrent_0.forward.recurrent_kernel",
]

TINY_OVERRIDES = [
    "model.output_dim=8",
    "model.units=8",
    "train.epochs=2",
    "train.batch_size=8",
    "train.validation_split=0.25",
]


def tiny_split():
    """POSITIVE and NEGATIVE twice over, split 3:1 with seed 42: a training.pipeline Split for fit()."""
    import numpy as np

    from sentiment_rnn.data.dataset import Dataset
    from sentiment_rnn.training.pipeline import split_dataset

    texts = [*POSITIVE, *NEGATIVE] * 2
    labels = np.array(([1] * len(POSITIVE) + [0] * len(NEGATIVE)) * 2)
    return split_dataset(Dataset(texts, labels, "tiny"), 0.25, 42)


def write_csv(path: Path, rows: list[tuple], header: tuple = ("text", "label")) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture
def tiny_csv(tmp_path: Path) -> Path:
    """Twelve labelled sentences, balanced."""
    return write_csv(tmp_path / "tiny.csv", [(t, 1) for t in POSITIVE] + [(t, 0) for t in NEGATIVE])


@pytest.fixture
def tiny_config():
    return load_config(overrides=TINY_OVERRIDES)


@pytest.fixture(scope="session")
def trained(tmp_path_factory):
    """The default architecture trained on the built-in corpus, once per session.

    Returns the TrainResult; its ``out_dir`` is a complete model directory.
    """
    from sentiment_rnn.training.run import train

    out = tmp_path_factory.mktemp("models") / "default"
    return train(load_config(), out, verbose=0)


@pytest.fixture(scope="session")
def model_dir(trained) -> Path:
    return trained.out_dir


@dataclass
class TinyRun:
    """A tiny model trained once per session, with what training printed."""

    result: object  # TrainResult
    stdout: str
    stderr: str

    @property
    def model_dir(self) -> Path:
        return self.result.out_dir


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory) -> TinyRun:
    """TINY_OVERRIDES trained on the twelve sentences with ``verbose=1``, stdout and stderr captured."""
    import contextlib
    import io

    from sentiment_rnn.training.run import train

    root = tmp_path_factory.mktemp("tiny")
    data = write_csv(root / "tiny.csv", [(t, 1) for t in POSITIVE] + [(t, 0) for t in NEGATIVE])
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        result = train(load_config(overrides=TINY_OVERRIDES + [f"data.path={str(data)!r}"]), root / "model", verbose=1)
    return TinyRun(result, stdout.getvalue(), stderr.getvalue())
