"""Tampered NumPy-engine files: every array header is checked before an array is read, and the vocabulary too."""

from __future__ import annotations

import io
import json
import shutil
import zipfile

import numpy as np
import pytest
from click.testing import CliRunner

from sentiment_rnn.cli import cli

FIX = "retrain the model with `sentiment-rnn train`, or pass --engine keras."


@pytest.fixture
def copy(tiny_run, tmp_path):
    return shutil.copytree(tiny_run.model_dir, tmp_path / "model")


def predict(directory, engine: str = "numpy"):
    return CliRunner().invoke(cli, ["predict", "--model", str(directory), "--engine", engine, "good phone"])


def rewrite_weights(directory, change) -> None:
    """Rewrite weights.npz member by member: ``change(name, bytes) -> bytes`` (name without .npy)."""
    path = directory / "weights.npz"
    with zipfile.ZipFile(path) as archive:
        members = {info.filename: archive.read(info) for info in archive.infolist()}
    with zipfile.ZipFile(path, "w") as archive:
        for filename, data in members.items():
            archive.writestr(filename, change(filename[: -len(".npy")], data))


def npy(header: dict, payload: bytes = b"") -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, header)
    return buffer.getvalue() + payload


def array_bytes(array) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=True)
    return buffer.getvalue()


def assert_refused(result, message: str) -> None:
    assert isinstance(result.exception, SystemExit), result.exception
    assert (result.exit_code, result.output) == (1, f"Error: {message}\n")


def test_a_header_claiming_a_huge_array_is_refused_without_allocating(copy):
    huge = {"descr": "<f4", "fortran_order": False, "shape": (16_000_000_000, 8)}  # 477 GiB of float32
    rewrite_weights(copy, lambda name, data: npy(huge) if name == "embedding" else data)
    vocabulary = len(json.loads((copy / "vocabulary.json").read_text()))
    assert_refused(
        predict(copy),
        f"{copy / 'weights.npz'}: array 'embedding' has shape (16000000000, 8), but config.toml and the "
        f"{vocabulary} tokens of vocabulary.json need ({vocabulary}, 8): {FIX}",
    )


def test_a_wrong_shape_is_refused_naming_the_array(copy):
    rewrite_weights(copy, lambda name, data: array_bytes(np.zeros((3,), "<f4")) if name == "head.bias" else data)
    assert_refused(
        predict(copy),
        f"{copy / 'weights.npz'}: array 'head.bias' has shape (3,), but config.toml and the "
        f"{len(json.loads((copy / 'vocabulary.json').read_text()))} tokens of vocabulary.json need (1,): {FIX}",
    )


@pytest.mark.parametrize(
    "member, reason",
    [
        (array_bytes(np.array([{"a": 1}], dtype=object)), "head.bias.npy holds object values, not float32"),
        (array_bytes(np.zeros((1,), "<f8")), "head.bias.npy holds float64 values, not float32"),
        (
            b"\x93NUMPY\x01\x00" + (20_000).to_bytes(2, "little") + b" " * 20_000,
            "head.bias.npy has a header over 10,000 bytes",
        ),
    ],
    ids=["pickled-object", "float64", "huge-header"],
)
def test_pickles_other_dtypes_and_huge_headers_are_refused(copy, member, reason):
    rewrite_weights(copy, lambda name, data: member if name == "head.bias" else data)
    result = predict(copy)
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert result.output.startswith(f"Error: {copy / 'weights.npz'} is damaged (")
    assert reason in result.output and result.output.endswith(f"{FIX}\n")
    assert result.output.count("\n") == 1


@pytest.mark.parametrize(
    "vocabulary, problem",
    [
        ({"": 0, "[UNK]": 1}, "it is not a list of strings"),
        ([0, 1, 2], "it is not a list of strings"),
        (["good", "[UNK]"], "it does not start with ['', '[UNK]']"),
        (["", "[UNK]", "good", "good"], "it lists a token twice"),
    ],
    ids=["dict", "numbers", "no-padding", "duplicate"],
)
def test_a_vocabulary_that_is_not_one_is_refused(copy, vocabulary, problem):
    (copy / "vocabulary.json").write_text(json.dumps(vocabulary))
    assert_refused(predict(copy), f"{copy / 'vocabulary.json'} is not a vocabulary ({problem}): {FIX}")


@pytest.mark.parametrize("change", ["shorter", "longer"])
def test_a_shorter_or_longer_vocabulary_is_refused(copy, change):
    """Even in a directory written before engine.json recorded the vocabulary's digest: by the shapes."""
    engine = json.loads((copy / "engine.json").read_text())
    del engine["vocabulary_sha256"]
    (copy / "engine.json").write_text(json.dumps(engine))
    vocabulary = json.loads((copy / "vocabulary.json").read_text())
    vocabulary = vocabulary[:-3] if change == "shorter" else [*vocabulary, "extra1", "extra2"]
    (copy / "vocabulary.json").write_text(json.dumps(vocabulary))
    result = predict(copy)
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: {copy / 'weights.npz'}: array 'embedding' has shape (")
    assert f"the {len(vocabulary)} tokens of vocabulary.json need ({len(vocabulary)}, 8)" in result.output


def test_a_reordered_vocabulary_is_refused_so_the_engines_never_disagree(copy):
    vocabulary = json.loads((copy / "vocabulary.json").read_text())
    vocabulary[2], vocabulary[3] = vocabulary[3], vocabulary[2]
    (copy / "vocabulary.json").write_text(json.dumps(vocabulary))
    assert_refused(
        predict(copy),
        f"{copy / 'vocabulary.json'} is not the vocabulary the model was trained with (its digest differs "
        f"from engine.json's): restore it, {FIX}",
    )
    assert predict(copy, "keras").exit_code == 0  # Keras reads its own vocabulary, inside model.keras


def test_a_changed_cell_in_engine_json_is_blamed_on_engine_json(copy):
    engine = json.loads((copy / "engine.json").read_text())
    (copy / "engine.json").write_text(json.dumps({**engine, "cell": "lstm"}))
    assert_refused(
        predict(copy),
        f"{copy / 'config.toml'} does not match {copy / 'engine.json'}: the config says model.cell = 'simple' "
        "but engine.json has 'lstm'; restore the config.toml it was trained with, or retrain the model.",
    )


def test_a_damaged_or_truncated_weights_file_is_refused(copy):
    path = copy / "weights.npz"
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        member = archive.getinfo("embedding.npy")
    data[member.header_offset + 200] ^= 0xFF  # a byte of the embedding's values, past every header
    path.write_bytes(bytes(data))
    result = predict(copy)
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: {path} is damaged (") and result.output.endswith(f"): {FIX}\n")
    assert "CRC-32" in result.output and "embedding.npy" in result.output  # read by zipfile or from the map
    path.write_bytes(bytes(data[: len(data) // 2]))
    result = predict(copy)
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: {path} is damaged (") and result.output.endswith(f"): {FIX}\n")


def test_a_compressed_weights_file_gives_the_same_answers(copy):
    expected = predict(copy).output
    path = copy / "weights.npz"
    with np.load(path) as archive:
        arrays = {name: archive[name] for name in archive.files}
    np.savez_compressed(path, **arrays)
    with zipfile.ZipFile(path) as archive:
        assert {info.compress_type for info in archive.infolist()} == {zipfile.ZIP_DEFLATED}
    assert predict(copy).output == expected


def with_nan(directory, name: str = "head.bias") -> None:
    """Rewrite weights.npz with one NaN in the array ``name`` (a finite-looking file otherwise)."""
    with np.load(directory / "weights.npz") as saved:
        arrays = {key: saved[key] for key in saved.files}
    arrays[name] = arrays[name].copy()
    arrays[name].flat[0] = np.nan
    np.savez(directory / "weights.npz", **arrays)


NAN_MESSAGE = "holds a value that is not finite (NaN or infinity) in 'head.bias': the weights are damaged; " + FIX


@pytest.mark.parametrize(
    "args",
    [["predict", "good phone"], ["predict", "--per-token", "good phone"], ["predict", "--json", "good phone"]],
    ids=["predict", "per-token", "json"],
)
def test_weights_that_are_not_finite_are_refused_when_loaded_never_printed_as_nan(copy, args):
    with_nan(copy)
    result = CliRunner().invoke(cli, [args[0], "--model", str(copy), *args[1:]])
    assert_refused(result, f"{copy / 'weights.npz'} {NAN_MESSAGE}")
    assert "nan" not in result.output.replace("NaN", "")


def test_evaluate_and_serve_refuse_weights_that_are_not_finite(copy, tmp_path):
    from conftest import NEGATIVE, POSITIVE, write_csv

    with_nan(copy)
    data = write_csv(tmp_path / "test.csv", [(t, 1) for t in POSITIVE] + [(t, 0) for t in NEGATIVE])
    result = CliRunner().invoke(cli, ["evaluate", "--model", str(copy), "--data", str(data), "--json"])
    assert_refused(result, f"{copy / 'weights.npz'} {NAN_MESSAGE}")
    pytest.importorskip("starlette")
    result = CliRunner().invoke(cli, ["serve", "--model", str(copy), "--port", "0"])
    assert_refused(result, f"{copy / 'weights.npz'} {NAN_MESSAGE}")


def test_a_keras_model_with_weights_that_are_not_finite_is_refused(copy):
    from sentiment_rnn.artifact.model_directory import load_keras_model

    model = load_keras_model(copy)
    head = model.get_layer("head")
    head.set_weights([np.full_like(w, np.nan) for w in head.get_weights()])
    model.save(copy / "model.keras")
    assert_refused(
        predict(copy, "keras"),
        f"{copy / 'model.keras'} holds a value that is not finite (NaN or infinity) in 'head/kernel': the weights "
        "are damaged; retrain it with `sentiment-rnn train`.",
    )


def test_a_probability_that_is_not_a_number_is_never_printed(copy, monkeypatch):
    """Finite weights can still overflow; whatever the engine answers is checked before it is printed."""
    from sentiment_rnn.engine.models import NumpyRecurrentEngine

    monkeypatch.setattr(
        NumpyRecurrentEngine, "predict_proba", lambda self, texts, batch_size=0: np.array([0.3, np.nan])
    )
    assert_refused(
        CliRunner().invoke(cli, ["predict", "--model", str(copy), "--json", "good", "bad"]),
        f"{copy / 'weights.npz'} gives a probability that is not a number for text 2: its weights are damaged or "
        "out of range; retrain the model with `sentiment-rnn train`.",
    )


@pytest.mark.parametrize("name", ["metrics.json", "build.json"])
def test_a_file_linked_out_of_the_model_directory_is_never_shown_or_served(copy, tmp_path, name):
    secret = tmp_path / "secret.json"
    secret.write_text('{"accuracy": 0.5, "command": "the password is hunter2"}')
    (copy / name).unlink(missing_ok=True)
    (copy / name).symlink_to(secret)
    refusal = f"{copy / name} is a symlink, and no link is followed inside a model directory: " + (
        "the directory is corrupt; retrain the model."
        if name == "metrics.json"
        else f"remove {name} or rebuild the model."
    )
    for args in (["inspect", "--model", str(copy)], ["inspect", "--model", str(copy), "--json"]):
        assert_refused(CliRunner().invoke(cli, args), refusal)
    pytest.importorskip("starlette")
    from starlette.testclient import TestClient

    from sentiment_rnn.serve import create_app

    response = TestClient(create_app(copy)).get("/model")
    assert (response.status_code, response.json()) == (500, {"error": refusal})
    assert "hunter2" not in response.text


def test_a_crafted_model_keras_with_a_huge_sequence_length_is_refused_before_keras_builds_it(copy):
    path = copy / "model.keras"
    with zipfile.ZipFile(path) as archive:
        members = {info.filename: archive.read(info) for info in archive.infolist()}
    config = json.loads(members["config.json"])
    text = json.dumps(config).replace('"output_sequence_length": null', '"output_sequence_length": 1000000000', 1)
    assert text != json.dumps(config)
    members["config.json"] = text.encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    assert_refused(
        predict(copy, "keras"),
        f"{path} does not match {copy / 'config.toml'}: a layer has output_sequence_length = 1,000,000,000, more than "
        "config.toml allows; restore the model.keras it was trained with, or retrain the model.",
    )


def test_a_file_that_cannot_be_read_is_called_unreadable_not_damaged(copy, monkeypatch):
    """A permission error names the permissions, not damage (run as any user: os.open is made to refuse)."""
    import errno
    import os

    from sentiment_rnn import safe_read

    real_open = os.open

    def refusing(path, flags, *args, **kwargs):
        if str(path).endswith("vocabulary.json"):
            raise PermissionError(errno.EACCES, "Permission denied")
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(safe_read.os, "open", refusing)
    assert_refused(
        predict(copy),
        f"{copy / 'vocabulary.json'} is not readable (Permission denied): check its permissions.",
    )
