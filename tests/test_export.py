"""export: a TF SavedModel that serves the same probabilities, and a NumPy bundle that runs without TensorFlow."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from conftest import ONE_LAYER_WEIGHT_NAMES
from sentiment_rnn.cli import cli
from sentiment_rnn.export import export_model
from sentiment_rnn.inference import keras_predict_proba

ROOT = Path(__file__).resolve().parent.parent
TEXTS = ["I like this phone", "the battery is terrible", "No, this phone is good", "", "zebra unseen words"]


def run(*args):
    return CliRunner().invoke(cli, list(args))


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
    assert sorted(p.name for p in out.iterdir()) == ["config.toml", "engine.json", "vocabulary.json", "weights.npz"]
    for name in ("config.toml", "vocabulary.json"):
        assert (out / name).read_bytes() == (tiny_run.model_dir / name).read_bytes()
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
    assert sorted(p.name for p in (tmp_path / "bundle").iterdir()) == [
        "config.toml",
        "engine.json",
        "vocabulary.json",
        "weights.npz",
    ]
    assert (tmp_path / "bundle" / "weights.npz").read_bytes() == (model_dir / "weights.npz").read_bytes()
    assert (tmp_path / "bundle" / "engine.json").read_text() == '{"engine": "test"}\n'


def test_numpy_export_writes_the_weights_of_a_model_directory_without_them(tiny_run, tmp_path):
    model_dir = shutil.copytree(tiny_run.model_dir, tmp_path / "old")
    (model_dir / "weights.npz").unlink()
    export_model(model_dir, tmp_path / "bundle", "numpy")
    with np.load(tmp_path / "bundle" / "weights.npz") as written, np.load(tiny_run.model_dir / "weights.npz") as saved:
        assert sorted(written) == sorted(saved) == ONE_LAYER_WEIGHT_NAMES
        for name in ONE_LAYER_WEIGHT_NAMES:
            np.testing.assert_array_equal(written[name], saved[name])


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
