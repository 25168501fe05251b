"""Fuzzing: damaged model directories, damaged resume state, arbitrary option values.

Every run must end in exit 0 with a valid answer, or exit 1 (2 for a usage
error) with one ``Error:`` line: never a traceback. The commands run in
process through CliRunner on one tiny model trained per session, so the
whole module stays within about a minute on two cores.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import MODEL_DIRECTORY_FILES, NEGATIVE, POSITIVE, TINY_OVERRIDES, write_csv
from sentiment_rnn.cli import cli


def truncate(path: Path, other: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])


def flip_bytes(path: Path, other: Path) -> None:
    data = bytearray(path.read_bytes())
    for position in range(len(data) // 7, len(data), max(1, len(data) // 5)):  # a few bytes across the file
        data[position] ^= 0xFF
    path.write_bytes(bytes(data))


def replace_with_other(path: Path, other: Path) -> None:
    path.write_bytes(other.read_bytes())


def delete(path: Path, other: Path) -> None:
    path.unlink()


DAMAGES = {"truncate": truncate, "flip": flip_bytes, "replace": replace_with_other, "delete": delete}


def assert_answer_or_one_error(result, *, usage: bool = False) -> None:
    """Exit 0, or exit 1 (2 for a usage error) whose output ends in one ``Error:`` line; never a traceback."""
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    if result.exit_code == 0:
        return
    lines = result.output.rstrip("\n").split("\n")  # only real newlines: a value may hold \x1e and the like
    lines = [line for line in lines if not line.startswith("Warning: ")]  # a warning (unknown words) may come first
    if usage and result.exit_code == 2:
        assert lines and lines[-1].startswith("Error: "), result.output
        return
    assert result.exit_code == 1, result.output
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output


@pytest.fixture(scope="module")
def labelled(tmp_path_factory) -> Path:
    rows = [(t, 1) for t in POSITIVE] + [(t, 0) for t in NEGATIVE]
    return write_csv(tmp_path_factory.mktemp("fuzz-data") / "test.csv", rows)


def model_commands(model: Path, labelled: Path, scratch: Path) -> list[list[str]]:
    return [
        ["predict", "--model", str(model), "good phone", "bad screen"],
        ["predict", "--model", str(model), "--engine", "keras", "good phone"],
        ["evaluate", "--model", str(model), "--data", str(labelled), "--json"],
        ["inspect", "--model", str(model), "--json"],
        ["export", "--model", str(model), "--format", "numpy", "--out", str(scratch / "export")],
    ]


@pytest.mark.parametrize("damage", sorted(DAMAGES))
@pytest.mark.parametrize("name", MODEL_DIRECTORY_FILES)  # the files a (non-hybrid) train writes
def test_a_damaged_model_directory_is_an_answer_or_one_error(tiny_run, labelled, tmp_path, name, damage):
    model = shutil.copytree(tiny_run.model_dir, tmp_path / "model")
    other = model / ("meta.json" if name != "meta.json" else "vocabulary.json")
    DAMAGES[damage](model / name, other)
    for args in model_commands(model, labelled, tmp_path):
        result = CliRunner().invoke(cli, args)
        assert_answer_or_one_error(result)
        if result.exit_code == 0 and args[0] == "predict":
            for line in result.output.splitlines():
                if line.startswith("Warning: "):  # a damaged vocabulary may leave words unknown, and say so
                    continue
                label, probability, _ = line.split(maxsplit=2)
                assert label in ("positive", "negative") and 0.0 <= float(probability) <= 1.0
        if result.exit_code == 0 and args[0] == "evaluate":
            assert json.loads(result.output)["n"] == len(POSITIVE) + len(NEGATIVE)
        shutil.rmtree(tmp_path / "export", ignore_errors=True)
    assert not any(p.name.startswith(".") for p in tmp_path.iterdir())  # no lock, staging or backup left


class StopAfterFirstEpoch:
    """A Keras callback (built lazily) that interrupts training once the first epoch's checkpoint is saved."""

    @staticmethod
    def make():
        from sentiment_rnn.tf_setup import import_keras

        keras = import_keras()

        class Stop(keras.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                raise KeyboardInterrupt

        return Stop()


RESUME_OVERRIDES = [*TINY_OVERRIDES, "train.patience=5"]


@pytest.fixture(scope="module")
def interrupted(tmp_path_factory, labelled) -> Path:
    """The directory of a run interrupted after its first epoch: data, and the backup ``.out.backup``."""
    from sentiment_rnn.config import load_config
    from sentiment_rnn.training.run import train

    root = tmp_path_factory.mktemp("interrupted")
    config = load_config(overrides=[*RESUME_OVERRIDES, f"data.path={str(labelled)!r}"])
    with pytest.raises(KeyboardInterrupt):
        train(config, root / "out", verbose=0, callbacks=[StopAfterFirstEpoch.make()])
    assert (root / ".out.backup" / "epoch-0001" / "state.json").is_file()
    return root


RESUME_FILES = ["run.json", "epoch-0001/state.json", "epoch-0001/state.weights.h5", "epoch-0001/best_weights.npz"]


@pytest.mark.parametrize("damage", sorted(DAMAGES))
@pytest.mark.parametrize("name", RESUME_FILES)
def test_damaged_resume_state_is_an_answer_or_one_error(interrupted, labelled, tmp_path, name, damage):
    backup = shutil.copytree(interrupted / ".out.backup", tmp_path / ".out.backup")
    DAMAGES[damage](backup / name, backup / ("epoch-0001/state.json" if name == "run.json" else "run.json"))
    args = ["train", "--data", str(labelled), "--out", str(tmp_path / "out"), "--resume", "--quiet"]
    result = CliRunner().invoke(cli, [*args, *(a for o in RESUME_OVERRIDES for a in ("--set", o))])
    assert_answer_or_one_error(result)
    if result.exit_code == 0:
        assert result.output.startswith(f"Saved model to {tmp_path / 'out'}: ")
    else:
        assert result.output.startswith("Error: "), result.output
        assert "without --resume" in result.output
        assert not (tmp_path / "out").exists()


# Any character but surrogates and newlines (a path holding a newline prints on two lines, rightly).
texts = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\n\r"), max_size=30)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=texts, encoding=texts, value=texts, threshold=texts)
def test_arbitrary_option_values_are_an_answer_or_one_error(tiny_run, tmp_path, path, encoding, value, threshold):
    model = str(tiny_run.model_dir)
    missing = str(tmp_path / "missing.csv")  # train stops at the data at the latest, never trains
    runs = [
        ["predict", "--model", path, "good"],
        ["predict", "--model", model, "--threshold", threshold, "good"],
        ["evaluate", "--model", model, "--data", path or "x", "--encoding", encoding or "x"],
        ["train", "--data", missing, "--out", str(tmp_path / "m"), "--set", f"train.epochs={value}"],
        ["train", "--data", missing, "--out", str(tmp_path / "m"), "--set", f"data.encoding={value}"],
        ["train", "--data", missing, "--out", str(tmp_path / "m"), "--set", value],
    ]
    for args in runs:
        result = CliRunner().invoke(cli, args)
        assert_answer_or_one_error(result, usage=True)
