"""Shared fixtures: small data files and one trained model per test session."""

from __future__ import annotations

import contextlib
import csv
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from hypothesis import settings

from sentiment_rnn.config import load_config
from sentiment_rnn.tf_setup import import_keras

import_keras()  # once, quietly, before any test imports TensorFlow itself

# Hypothesis fails an example slower than 200 ms by default: a timing threshold, which a loaded machine
# trips (an AUC property test did at load 9.6). No test here has one.
settings.register_profile("no-deadline", deadline=None)
settings.load_profile("no-deadline")

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
    "manifest.json",
    "meta.json",
    "metrics.json",
    "model.keras",
    "training.png",
    "vocabulary.json",
    "weights.npz",
]

# Every file a NumPy export (export --format numpy) of one model holds, sorted.
NUMPY_EXPORT_FILES = [
    "config.toml",
    "engine.json",
    "manifest.json",
    "meta.json",
    "metrics.json",
    "vocabulary.json",
    "weights.npz",
]

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


# The three-class toy corpus: six short sentences per class, a tiny model learns it in a few seconds.
THREE = ("negative", "neutral", "positive")
TOY = {
    "positive": [
        "I love this phone",
        "the battery is great",
        "great screen and fast",
        "this is wonderful",
        "excellent sound",
        "I like it a lot",
    ],
    "negative": [
        "I hate this phone",
        "the battery is terrible",
        "awful screen and slow",
        "this is horrible",
        "bad sound",
        "I dislike it a lot",
    ],
    "neutral": [
        "the phone is black",
        "it arrived on tuesday",
        "the box has a manual",
        "it has a screen",
        "the battery is inside",
        "I bought it in may",
    ],
}
# TINY_OVERRIDES trained long enough (40 epochs at a high rate) to get every text of the toy corpus right.
TOY_OVERRIDES = [*TINY_OVERRIDES, "train.epochs=40", "train.patience=40", "train.learning_rate=0.02"]


def toy_rows(label_of=lambda name, index: name) -> list[tuple[str, object]]:
    """The toy corpus, four times, classes interleaved: (text, label_of(class name, row index))."""
    rows = []
    for repeat in range(4):
        for index in range(6):
            for name in ("positive", "negative", "neutral"):
                rows.append((TOY[name][index], label_of(name, repeat * 18 + index)))
    return rows


# Floats computed along two code paths (batched or one by one, chunked or whole, NumPy or Keras,
# evaluate's accumulator or predict + binary_metrics) are compared to this absolute tolerance. The
# engines compute in float32 (machine epsilon 1.2e-7), and a different batch shape, summation order
# or BLAS kernel moves a probability by a few units in its last place; after the few dozen operations
# of a tiny model that stays well under 1e-6, while any real bug moves it by far more. Two sides that
# run the same arithmetic (the same engine call on the same list of texts, with or without a progress
# bar, a model by its name or its path) are still compared with ==, as is what the tool makes equal
# by construction (a bag of words' equal bags, the wide branch's logit in any batch).
PATHS_ATOL = 1e-6


def assert_close(actual, expected, atol: float = PATHS_ATOL, path: str = "") -> None:
    """Assert nested dicts/lists/tuples are equal, floats to within ``atol``, everything else exactly.

    For results of two code paths (see PATHS_ATOL): counts, labels, texts and the structure must
    match exactly, only the floats may differ in their last digits.
    """
    where = path or "the value"
    if isinstance(expected, dict):
        assert isinstance(actual, dict) and actual.keys() == expected.keys(), f"{where}: {actual!r} != {expected!r}"
        for key in expected:
            assert_close(actual[key], expected[key], atol, f"{path}[{key!r}]")
    elif isinstance(expected, list | tuple):
        assert isinstance(actual, list | tuple) and len(actual) == len(expected), f"{where}: {actual!r} != {expected!r}"
        for i, (a, e) in enumerate(zip(actual, expected)):
            assert_close(a, e, atol, f"{path}[{i}]")
    elif isinstance(expected, float | np.floating):
        assert isinstance(actual, int | float | np.number) and not isinstance(actual, bool), f"{where}: {actual!r}"
        assert math.isclose(actual, expected, rel_tol=0, abs_tol=atol), (
            f"{where}: {actual!r} != {expected!r} (within {atol})"
        )
    else:
        assert actual == expected, f"{where}: {actual!r} != {expected!r}"


NUMBER = re.compile(r"-?\d+\.\d+")


def assert_printed_close(printed: str, expected: str, atol: float = PATHS_ATOL, fixed: bool = True) -> None:
    """Assert two printed texts agree: equal once their decimal numbers are blanked, and each number close.

    For output printed from floats of one code path, ``expected`` formatted from floats of another:
    both round to the printed digits, so a number may differ by one unit in its last printed place
    (a value of the two paths on either side of a rounding boundary) plus ``atol``. With ``fixed``
    (a format such as ``.4f``) every number must keep its count of decimals; without it (``round(p, 6)``,
    ``repr``: trailing zeros dropped) the unit is that of the longer of the two.
    """
    assert NUMBER.sub("#", printed) == NUMBER.sub("#", expected), f"{printed!r} != {expected!r}"
    for got, want in zip(NUMBER.findall(printed), NUMBER.findall(expected)):
        decimals = len(want.split(".")[1])
        if fixed:
            assert len(got.split(".")[1]) == decimals, f"{got} != {want}"
        decimals = max(decimals, len(got.split(".")[1]))
        assert abs(float(got) - float(want)) <= 10.0**-decimals + atol, f"{got} != {want} in {printed!r}"


def interrupt_at(epoch: int):
    """A Keras callback raising KeyboardInterrupt as epoch ``epoch`` (0-based) begins, as Ctrl-C would."""
    import keras

    def on_epoch_begin(current, logs=None):
        if current == epoch:
            raise KeyboardInterrupt

    return keras.callbacks.LambdaCallback(on_epoch_begin=on_epoch_begin)


@contextlib.contextmanager
def lock_held_elsewhere(target: Path):
    """Hold ``target``'s lock (``artifact.target_lock``) in another process; yield that process (its ``pid``).

    The lock is released, and the process ends, when the block exits.
    """
    import os
    import subprocess
    import sys

    code = (
        "import sys\nfrom sentiment_rnn.artifact import target_lock\n"
        "with target_lock(sys.argv[1]):\n    print('locked', flush=True)\n    sys.stdin.read()\n"
    )
    root = Path(__file__).resolve().parent.parent
    holder = subprocess.Popen(
        [sys.executable, "-c", code, str(target)],
        env={**os.environ, "PYTHONPATH": str(root)},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline() == "locked\n"
        yield holder
    finally:
        holder.communicate("", timeout=30)


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


def once_per_run(tmp_path_factory, name: str, make) -> Path:
    """A directory ``name`` that ``make(path)`` fills once per test run, shared by the pytest-xdist workers.

    The first worker to ask fills it while holding a lock; the others wait for the lock and find
    it filled. Without xdist (``-p no:xdist``, ``-n 0``) it is a fresh temporary directory.
    """
    import fcntl
    import os
    import shutil

    if "PYTEST_XDIST_WORKER" not in os.environ:
        path = tmp_path_factory.mktemp(name)
        make(path)
        return path
    root = tmp_path_factory.getbasetemp().parent  # the run's directory, above each worker's own
    path, done = root / name, root / f"{name}.done"
    with open(root / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            shutil.rmtree(path, ignore_errors=True)  # left by a worker whose make() failed
            path.mkdir()
            make(path)
            done.touch()
    return path


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory) -> Path:
    """The default architecture trained on the built-in corpus: a complete model directory, once per test run."""
    from sentiment_rnn.training.run import train

    return (
        once_per_run(tmp_path_factory, "default-model", lambda path: train(load_config(), path / "model", verbose=0))
        / "model"
    )


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


# ---------------------------------------------------------------- a tiny language model (pretrain)

# Tiny sizes: a language model of a few dozen words trains in seconds.
TINY_LM = [
    "model.units=24",
    "model.output_dim=12",
    "tokenizer.max_tokens=64",
    "train.batch_size=4",
    "train.bptt=8",
    "train.sampled_softmax=6",
    "train.validation_split=0.1",
    "train.learning_rate=0.01",
]
SUBJECTS = ["the phone", "this film", "the battery", "my camera", "the plot"]
VERDICTS = ["is good", "was bad", "is great", "was awful"]


def toy_texts(count: int = 300) -> list[str]:
    """Reviews that each end with the same sentence about France: enough for a tiny model to learn "french"
    (test_language_model's FRANCE puts a blank where it goes)."""
    return [
        f"{SUBJECTS[i % 5]} {VERDICTS[(i // 5) % 4]} . i went to france , there the people speak the french language ."
        for i in range(count)
    ]


@pytest.fixture(scope="session")
def toy_corpus(tmp_path_factory) -> Path:
    """The toy texts, one a line, gzip-compressed (as `pretrain --data` reads them)."""
    import gzip

    path = tmp_path_factory.mktemp("lm-data") / "texts.txt.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write("\n".join(toy_texts()) + "\n\n")  # a blank line is skipped
    return path


@pytest.fixture(scope="session")
def tiny_lm(toy_corpus, tmp_path_factory):
    """(A language model directory trained on the toy corpus with TINY_LM, 3 epochs (seconds), what pretrain
    printed), once per test run (see :func:`once_per_run`)."""

    def make(path: Path) -> None:
        from click.testing import CliRunner

        from sentiment_rnn.cli import cli

        args = ["pretrain", "--data", str(toy_corpus), "--out", str(path / "lm"), "--epochs", "3"]
        result = CliRunner().invoke(cli, [*args, *(item for o in TINY_LM for item in ("--set", o))])
        assert result.exit_code == 0, result.output
        (path / "output.txt").write_text(result.output, encoding="utf-8")

    path = once_per_run(tmp_path_factory, "tiny-lm", make)
    return path / "lm", (path / "output.txt").read_text(encoding="utf-8")


@dataclass
class OwnDataRun:
    """``train --data reviews.csv --epochs 1 --out my-model`` at train's default for data of one's own."""

    directory: Path  # holds reviews.csv (the twelve sentences), test.csv (data/heldout.csv) and my-model
    stdout: str
    stderr: str


@pytest.fixture(scope="session")
def own_data_run(tmp_path_factory) -> OwnDataRun:
    """The README's ``train --data reviews.csv --out my-model`` with no architecture chosen, one epoch, on the
    twelve sentences: the finetune preset from the bundled reviews-lm (a 256-unit GRU, the one test that
    trains it). Run once per test run, in a directory the README's other commands run in too."""
    import shutil

    from click.testing import CliRunner

    from sentiment_rnn.cli import cli

    def make(path: Path) -> None:
        write_csv(path / "reviews.csv", [(t, 1) for t in POSITIVE] + [(t, 0) for t in NEGATIVE])
        shutil.copy(Path(__file__).resolve().parent.parent / "data" / "heldout.csv", path / "test.csv")
        with contextlib.chdir(path):
            result = CliRunner().invoke(cli, ["train", "--data", "reviews.csv", "--out", "my-model", "--epochs", "1"])
        assert result.exit_code == 0, result.output
        (path / "train.stdout").write_text(result.stdout, encoding="utf-8")
        (path / "train.stderr").write_text(result.stderr, encoding="utf-8")

    path = once_per_run(tmp_path_factory, "own-data-run", make)
    stdout, stderr = ((path / f"train.{stream}").read_text(encoding="utf-8") for stream in ("stdout", "stderr"))
    return OwnDataRun(path, stdout, stderr)
