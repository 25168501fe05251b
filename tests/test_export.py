"""export: a TF SavedModel that serves the same probabilities, and a NumPy bundle that runs without TensorFlow."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from conftest import NUMPY_EXPORT_FILES, ONE_LAYER_WEIGHT_NAMES, TINY_OVERRIDES, assert_close, assert_printed_close
from sentiment_rnn.cli import cli
from sentiment_rnn.export import export_model
from sentiment_rnn.inference import keras_predict_proba

ROOT = Path(__file__).resolve().parent.parent
TEXTS = ["I like this phone", "the battery is terrible", "No, this phone is good", "", "zebra unseen words"]


def run(*args, input=None):
    return CliRunner().invoke(cli, list(args), input=input)


def lines(*texts: str) -> str:
    """``texts`` as the lines of a file, for ``predict --file -`` (a text argument may not be empty; a line may)."""
    return "".join(f"{text}\n" for text in texts)


def test_savedmodel_serves_the_models_probabilities(tiny_run, tmp_path):
    import tensorflow as tf

    out = tmp_path / "serving" / "1"
    result = run("export", "--model", str(tiny_run.model_dir), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert result.output == f"Exported {tiny_run.model_dir} as savedmodel to {out}.\n"
    assert (out / "saved_model.pb").is_file()
    served = tf.saved_model.load(str(out))
    probabilities = served.serve(tf.constant(TEXTS)).numpy()[:, 0]
    np.testing.assert_allclose(probabilities, keras_predict_proba(tiny_run.result.model, TEXTS), rtol=1e-5, atol=1e-6)
    signature = served.signatures["serving_default"]
    (output,) = signature(tf.constant(TEXTS)).values()
    np.testing.assert_allclose(output.numpy()[:, 0], probabilities, rtol=1e-6)
    assert sorted(p.name for p in out.parent.iterdir()) == ["1"]  # no staging left behind


def test_numpy_bundle_holds_weights_vocabulary_and_config(tiny_run, tmp_path):
    out = tmp_path / "bundle"
    result = run("export", "--model", str(tiny_run.model_dir), "--format", "numpy", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == NUMPY_EXPORT_FILES
    for name in ("config.toml", "vocabulary.json", "metrics.json", "engine.json", "weights.npz"):
        assert (out / name).read_bytes() == (tiny_run.model_dir / name).read_bytes()
    meta = json.loads((tiny_run.model_dir / "meta.json").read_text(encoding="utf-8"))
    assert json.loads((out / "meta.json").read_text(encoding="utf-8")) == {**meta, "exported_as": "numpy"}
    model = tiny_run.result.model
    with np.load(out / "weights.npz") as weights:
        assert sorted(weights) == ONE_LAYER_WEIGHT_NAMES
        np.testing.assert_array_equal(weights["embedding"], model.get_layer("embedding").get_weights()[0])
        kernel, recurrent_kernel, bias = model.get_layer("recurrent_0").get_weights()
        np.testing.assert_array_equal(weights["recurrent_0.forward.recurrent_kernel"], recurrent_kernel)
        np.testing.assert_array_equal(weights["head.kernel"], model.get_layer("head").get_weights()[0])


def documented_numpy_forward_pass():
    """The ``predict_numpy`` function from docs/model-directory.md, executed."""
    text = (ROOT / "docs" / "model-directory.md").read_text()
    (block,) = [b for b in re.findall(r"```python\n(.*?)```", text, re.S) if "def predict_numpy" in b]
    namespace: dict = {}
    exec(block.split("\nprint(")[0], namespace)
    return namespace["predict_numpy"]


def test_the_documented_numpy_forward_pass_gives_the_models_probabilities(tiny_run, tmp_path):
    export_model(tiny_run.model_dir, tmp_path / "bundle", "numpy")
    predict_numpy = documented_numpy_forward_pass()
    by_numpy = [predict_numpy(str(tmp_path / "bundle"), text) for text in TEXTS]
    np.testing.assert_allclose(by_numpy, keras_predict_proba(tiny_run.result.model, TEXTS), rtol=1e-5, atol=1e-6)


def test_numpy_export_copies_the_engine_files_when_the_model_has_them(tiny_run, tmp_path):
    model_dir = tmp_path / "model"
    shutil.copytree(tiny_run.model_dir, model_dir)
    np.savez(model_dir / "weights.npz", marker=np.arange(3))
    (model_dir / "engine.json").write_text('{"engine": "test"}\n')
    export_model(model_dir, tmp_path / "bundle", "numpy")
    assert sorted(p.name for p in (tmp_path / "bundle").iterdir()) == NUMPY_EXPORT_FILES
    assert (tmp_path / "bundle" / "weights.npz").read_bytes() == (model_dir / "weights.npz").read_bytes()
    assert (tmp_path / "bundle" / "engine.json").read_text() == '{"engine": "test"}\n'


def test_numpy_export_writes_the_engine_files_of_a_model_directory_without_them(tiny_run, tmp_path):
    """A directory written before the NumPy engine existed exports to a bundle that predict reads."""
    model_dir = shutil.copytree(tiny_run.model_dir, tmp_path / "old")
    (model_dir / "weights.npz").unlink()
    (model_dir / "engine.json").unlink()
    export_model(model_dir, tmp_path / "bundle", "numpy")
    with np.load(tmp_path / "bundle" / "weights.npz") as written, np.load(tiny_run.model_dir / "weights.npz") as saved:
        assert sorted(written) == sorted(saved) == ONE_LAYER_WEIGHT_NAMES
        for name in ONE_LAYER_WEIGHT_NAMES:
            np.testing.assert_array_equal(written[name], saved[name])
    assert (tmp_path / "bundle" / "engine.json").read_bytes() == (tiny_run.model_dir / "engine.json").read_bytes()
    by_bundle = run("predict", "--model", str(tmp_path / "bundle"), "--json", "--file", "-", input=lines(*TEXTS))
    assert by_bundle.exit_code == 0, by_bundle.output
    by_source = run("predict", "--model", str(tiny_run.model_dir), "--json", "--file", "-", input=lines(*TEXTS))
    bundle = {"name": "bundle", "kind": "rnn", "bundled": False, "path": str(tmp_path / "bundle")}
    # the export and its source: two paths (see PATHS_ATOL); each answer names its own directory
    assert_close(
        [json.loads(line) for line in by_bundle.stdout.splitlines()],
        [{**json.loads(line), "model": bundle} for line in by_source.stdout.splitlines()],
    )


def test_export_never_replaces_an_existing_directory(tiny_run, tmp_path):
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "keep.txt").write_text("mine")
    result = run("export", "--model", str(tiny_run.model_dir), "--format", "numpy", "--out", str(tmp_path / "taken"))
    assert result.exit_code == 1
    assert result.output == (
        f"Error: Export directory {tmp_path / 'taken'} already exists: choose a new --out or remove it first.\n"
    )
    assert [p.name for p in (tmp_path / "taken").iterdir()] == ["keep.txt"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "onnx"], "Invalid value for '--format': 'onnx' is not one of 'savedmodel', 'numpy'."),
        ([], "Missing option '--out'."),
    ],
)
def test_export_usage_errors(args, message, tiny_run):
    result = run("export", "--model", str(tiny_run.model_dir), *args)
    assert result.exit_code == 2
    assert result.output.endswith(f"Error: {message}\n")


def test_export_from_a_missing_model_directory(tmp_path):
    result = run("export", "--model", str(tmp_path / "none"), "--out", str(tmp_path / "out"))
    assert result.exit_code == 1
    assert result.output == (
        f"Error: Model directory {tmp_path / 'none'} does not exist: "
        "train one with `sentiment-rnn train --out DIR`, or pass --model DIR or --model reviews-en "
        "(the bundled model).\n"
    )
    assert not (tmp_path / "out").exists()


def test_a_stateful_model_is_served_as_its_stateless_twin(tiny_csv, tmp_path):
    import tensorflow as tf

    from conftest import TINY_OVERRIDES
    from sentiment_rnn.artifact.model_directory import open_model_dir
    from sentiment_rnn.config import load_config
    from sentiment_rnn.training.run import train

    overrides = [*TINY_OVERRIDES, f"data.path={str(tiny_csv)!r}", "model.stateful=true", "train.epochs=1"]
    train(load_config(overrides=overrides), tmp_path / "stateful", verbose=0)
    export_model(tmp_path / "stateful", tmp_path / "served", "savedmodel")
    served = tf.saved_model.load(str(tmp_path / "served"))  # keep it referenced while its functions run
    probabilities = served.serve(tf.constant(TEXTS)).numpy()[:, 0]
    stateful = open_model_dir(tmp_path / "stateful").model  # batch of 1, state reset before each text
    np.testing.assert_allclose(probabilities, keras_predict_proba(stateful, TEXTS), rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------- the bundle is a model directory for the NumPy engine


def predicted(model_dir, texts: list[str]) -> list[float]:
    """The probabilities `predict --json` prints for ``texts``."""
    result = run("predict", "--model", str(model_dir), "--json", "--file", "-", input=lines(*texts))
    assert result.exit_code == 0, result.output
    return [json.loads(line)["probability"] for line in result.stdout.splitlines()]


# Architectures the documented code must run: cells, layers, directions, merge modes, pooling, a length cap, kinds.
ARCHITECTURES = [
    ("model.cell=simple",),
    ("model.cell=gru", "model.layers=2", "model.bidirectional=true", "model.pooling=max"),
    ("model.cell=lstm", "model.layers=2", "model.bidirectional=true", "model.merge_mode=sum"),
    ("model.cell=simple", "model.bidirectional=true", "model.merge_mode=mul", "model.pooling=mean"),
    ("model.cell=gru", "model.bidirectional=true", "model.merge_mode=ave"),
    ("model.cell=lstm", "model.pooling=mean", "tokenizer.output_sequence_length=3"),
    ("model.cell=simple", "model.layers=3", "model.pooling=max"),
    ("model.kind=hybrid", "model.cell=gru", "model.ngrams=2"),
    ("model.kind=hybrid", "model.cell=lstm", "model.bidirectional=true", "model.pooling=max"),
    ("model.kind=bow", "model.ngrams=2", "model.hidden_layers=2"),
    ("model.kind=bow", "model.hidden_layers=0"),
]
MORE_TEXTS = [*TEXTS, "the screen is no good, not good at all", "great sound and a fair price but awful battery"]


@pytest.mark.parametrize("overrides", ARCHITECTURES, ids=lambda overrides: ",".join(overrides))
def test_the_documented_forward_pass_gives_predicts_probabilities_for_every_architecture(overrides, tmp_path):
    """Random weights of a useful size (model_factory) exercise every gate; predict reads the bundle itself."""
    from model_factory import randomized_model, write_model_dir

    model, config = randomized_model(*overrides)
    model_dir = write_model_dir(model, config, tmp_path / "model")
    export_model(model_dir, tmp_path / "bundle", "numpy")
    by_predict = predicted(tmp_path / "bundle", MORE_TEXTS)
    np.testing.assert_allclose(by_predict, keras_predict_proba(model, MORE_TEXTS), rtol=1e-5, atol=1e-6)
    predict_numpy = documented_numpy_forward_pass()
    by_documented_code = [predict_numpy(str(tmp_path / "bundle"), text) for text in MORE_TEXTS]
    np.testing.assert_allclose(by_documented_code, by_predict, rtol=1e-5, atol=1e-6)


@pytest.fixture(scope="module")
def bigru(tmp_path_factory):
    """A tiny trained two-layer bidirectional GRU with max pooling, and its NumPy export made by the command."""
    from conftest import NEGATIVE, POSITIVE, write_csv
    from sentiment_rnn.config import load_config
    from sentiment_rnn.training.run import train

    root = tmp_path_factory.mktemp("bigru")
    data = write_csv(root / "tiny.csv", [(t, 1) for t in POSITIVE] + [(t, 0) for t in NEGATIVE])
    architecture = ["model.cell=gru", "model.layers=2", "model.bidirectional=true", "model.pooling=max"]
    overrides = [*TINY_OVERRIDES, *architecture, f"data.path={str(data)!r}"]
    train(load_config(overrides=overrides), root / "model", verbose=0)
    result = run("export", "--model", str(root / "model"), "--format", "numpy", "--out", str(root / "bundle"))
    assert result.exit_code == 0, result.output
    return root


def test_a_trained_bidirectional_gru_with_max_pooling_runs_from_its_bundle(bigru):
    model_dir, bundle = bigru / "model", bigru / "bundle"
    by_model_dir = predicted(model_dir, MORE_TEXTS)
    assert_close(predicted(bundle, MORE_TEXTS), by_model_dir)  # the same files, the same engine: PATHS_ATOL
    predict_numpy = documented_numpy_forward_pass()
    by_documented_code = [predict_numpy(str(bundle), text) for text in MORE_TEXTS]
    np.testing.assert_allclose(by_documented_code, by_model_dir, rtol=1e-5, atol=1e-6)
    evaluated = run("evaluate", "--model", str(bundle), "--data", str(bigru / "tiny.csv"))
    assert evaluated.exit_code == 0, evaluated.output
    of_model_dir = run("evaluate", "--model", str(model_dir), "--data", str(bigru / "tiny.csv")).output
    assert_printed_close(evaluated.output, of_model_dir)  # the export and its source: two paths


def test_inspect_describes_a_bundle_from_its_weights(bigru):
    model_dir, bundle = bigru / "model", bigru / "bundle"
    result = run("inspect", "--model", str(bundle))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    of_model_dir = run("inspect", "--model", str(model_dir)).output.splitlines()
    assert lines[0] == f"Model directory  {bundle} (a NumPy export: no model.keras)"
    size_row = next(i for i, line in enumerate(lines) if line.startswith("Size on disk"))
    files = [f for f in bundle.iterdir() if f.is_file()]
    total = sum(f.stat().st_size for f in files)
    assert lines[size_row] == f"Size on disk     {total:,} bytes ({total / 1e6:.1f} MB) in {len(files)} files"
    # created, libraries, architecture, parameters, data, metrics: as of the model directory, but for the size
    without_size = lines[1:size_row] + lines[size_row + 1 : 13]
    assert without_size == of_model_dir[1:size_row] + of_model_dir[size_row + 1 : 13]
    parameters_row = next(i for i, line in enumerate(lines) if line.startswith("Parameters       "))
    assert lines[parameters_row] == of_model_dir[parameters_row]
    table = lines.index("Layers")
    vocabulary = len(json.loads((bundle / "vocabulary.json").read_text(encoding="utf-8")))
    embedding, gru_0, gru_1, head = (
        vocabulary * 8,
        2 * 3 * (8 * 8 + 8 * 8 + 2 * 8),
        2 * 3 * (16 * 8 + 8 * 8 + 2 * 8),
        17,
    )
    rows = [
        ("embedding", "Embedding", "(None, None, 8)", embedding),
        ("recurrent_0", "Bidirectional(GRU)", "(None, None, 16)", gru_0),
        ("recurrent_1", "Bidirectional(GRU)", "(None, None, 16)", gru_1),
        ("head", "Dense", "(None, 1)", head),
    ]
    assert lines[table + 1 : table + 6] == [
        "  name         type                output shape      parameters",
        *(f"  {name:<11}  {kind:<18}  {shape:<16}  {count:>10,}" for name, kind, shape, count in rows),
    ]
    assert sum(count for *_, count in rows) == int(lines[parameters_row].split()[1].replace(",", ""))
    description = json.loads(run("inspect", "--model", str(bundle), "--json").output)
    assert description["exported_as"] == "numpy" and "exported_as" not in json.loads(
        run("inspect", "--model", str(model_dir), "--json").output
    )


def test_what_needs_the_keras_model_is_refused_for_a_bundle_in_one_line(bigru, tmp_path):
    bundle = bigru / "bundle"
    result = run("predict", "--model", str(bundle), "--engine", "keras", "No, this phone is good")
    assert result.exit_code == 1
    assert result.output == (
        f"Error: {bundle} is a NumPy export (no model.keras), which only the NumPy engine runs: "
        "drop --engine keras, or pass the model directory it was exported from.\n"
    )
    result = run("export", "--model", str(bundle), "--out", str(tmp_path / "served"))
    assert result.exit_code == 1
    assert result.output == (
        f"Error: {bundle} is a NumPy export (no model.keras), which only the NumPy engine runs: "
        "export the model directory it was exported from.\n"
    )
    assert list(tmp_path.iterdir()) == []
    again = run("export", "--model", str(bundle), "--format", "numpy", "--out", str(tmp_path / "copy"))
    assert again.exit_code == 0, again.output
    assert sorted(p.name for p in (tmp_path / "copy").iterdir()) == NUMPY_EXPORT_FILES


def test_a_bundle_from_an_older_version_says_to_export_again(bigru, tmp_path):
    old = shutil.copytree(bigru / "bundle", tmp_path / "old-bundle")
    (old / "meta.json").unlink()
    result = run("predict", "--model", str(old), "good")
    assert result.exit_code == 1
    assert result.output == (
        f"Error: {old} looks like a NumPy export written by an older sentiment-rnn (no meta.json): "
        "export the model directory again with `sentiment-rnn export --format numpy`.\n"
    )
