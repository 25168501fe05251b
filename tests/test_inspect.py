"""inspect: what a model directory holds and how it was made, as text and as JSON."""

from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner

from sentiment_rnn.cli import cli
from sentiment_rnn.config import ModelConfig, load_config, to_dict
from sentiment_rnn.inspection import architecture_summary, describe, layer_summary

FIXED_META = {
    "created": "2026-01-02T03:04:05+00:00",
    "package_version": "0.1.0",
    "versions": {"python": "3.11.7", "tensorflow": "2.21.0", "keras": "3.15.1", "numpy": "2.4.6"},
}
FIXED_METRICS = {"accuracy": 0.6666666865348816, "auc": 0.75, "loss": 0.6543210744857788, "n": 3}


@pytest.fixture
def fixed_model_dir(tiny_run, tmp_path):
    """A copy of the tiny model whose date, versions and metrics are fixed, so the output is exact."""
    directory = tmp_path / "model"
    shutil.copytree(tiny_run.model_dir, directory)
    meta = json.loads((directory / "meta.json").read_text())
    meta.update(FIXED_META)
    meta["data"].update(source="reviews.csv", best_epoch=2, epochs_run=2)
    (directory / "meta.json").write_text(json.dumps(meta))
    (directory / "metrics.json").write_text(json.dumps(FIXED_METRICS))
    return directory


def test_inspect_prints_the_whole_story(fixed_model_dir):
    result = CliRunner().invoke(cli, ["inspect", "--model", str(fixed_model_dir)])
    assert result.exit_code == 0, result.output
    config_lines = [f"  {line}" if line else "" for line in (fixed_model_dir / "config.toml").read_text().splitlines()]
    size = sum(path.stat().st_size for path in fixed_model_dir.iterdir())
    expected = [
        f"Model directory  {fixed_model_dir}",
        "Created          2026-01-02T03:04:05+00:00 by sentiment-rnn 0.1.0 (model format 1)",
        "Libraries        Python 3.11.7, TensorFlow 2.21.0, Keras 3.15.1, NumPy 2.4.6",
        "Architecture     SimpleRNN, 1 layer of 8 units, embedding size 8",
        "Parameters       337 (337 trainable)",
        f"Size on disk     {size:,} bytes ({size / 1e6:.1f} MB) in 9 files",
        "Vocabulary       24 tokens (tokenizer.max_tokens = 20000)",
        "Sequence length  no limit (each batch padded to its longest text)",
        "Training data    reviews.csv",
        "Labels           0/1, true/false, pos/neg or positive/negative",
        "Rows             12 (6 positive, 6 negative), 0 skipped",
        "Split            9 training, 3 validation; best epoch 2 of 2",
        "Validation       accuracy 0.6667, AUC 0.7500, loss 0.6543 on 3 examples",
        "",
        "Layers",
        "  name         type       output shape     parameters",
        "  embedding    Embedding  (None, None, 8)         192",
        "  recurrent_0  SimpleRNN  (None, 8)               136",
        "  head         Dense      (None, 1)                 9",
        "",
        "Config",
        *config_lines,
    ]
    assert result.output == "\n".join(expected) + "\n"
    keras = CliRunner().invoke(cli, ["inspect", "--model", str(fixed_model_dir), "--engine", "keras"])
    assert keras.exit_code == 0, keras.output
    keras_table = [
        "  name               type               output shape     parameters",
        "  text               InputLayer         (None,)                   0",
        "  tokenizer          TextVectorization  (None, None)              0",
        "  at_least_one_step  AtLeastOneStep     (None, None)              0",
        "  embedding          Embedding          (None, None, 8)         192",
        "  recurrent_0        SimpleRNN          (None, 8)               136",
        "  head               Dense              (None, 1)                 9",
    ]
    table = expected.index("Layers") + 1
    assert keras.output == "\n".join([*expected[:table], *keras_table, *expected[table + 4 :]]) + "\n"


def test_inspect_json_is_the_description(fixed_model_dir):
    result = CliRunner().invoke(cli, ["inspect", "--model", str(fixed_model_dir), "--json"])
    assert result.exit_code == 0, result.output
    description = json.loads(result.output)
    assert description == json.loads(json.dumps(describe(fixed_model_dir)))
    assert description["versions"] == {"sentiment_rnn": "0.1.0", **FIXED_META["versions"]}
    assert description["layers"] == [
        {"name": "embedding", "type": "Embedding", "output_shape": [None, None, 8], "parameters": 192},
        {"name": "recurrent_0", "type": "SimpleRNN", "output_shape": [None, 8], "parameters": 136},
        {"name": "head", "type": "Dense", "output_shape": [None, 1], "parameters": 9},
    ]
    assert (description["vocabulary_size"], description["sequence_length"]) == (24, 0)
    assert description["data"]["labels"] == {"positive": 6, "negative": 6}
    assert description["metrics"] == FIXED_METRICS
    assert description["config"] == to_dict(load_config(fixed_model_dir / "config.toml"))


def test_inspect_a_directory_that_is_not_a_model(tmp_path):
    result = CliRunner().invoke(cli, ["inspect", "--model", str(tmp_path)])
    assert result.exit_code == 1
    assert result.output == (
        f"Error: {tmp_path} is not a sentiment-rnn model directory (no meta.json): "
        "train one with `sentiment-rnn train --out DIR`, or pass --model DIR or --model reviews-en "
        "(the bundled model).\n"
    )


@pytest.mark.parametrize(
    ("keys", "summary"),
    [
        ({}, "SimpleRNN, 1 layer of 64 units, embedding size 64"),
        (
            {"cell": "gru", "layers": 2, "units": 32, "bidirectional": True, "merge_mode": "sum"},
            "GRU, 2 layers of 32 units, bidirectional (merge_mode sum), embedding size 64",
        ),
        (
            {"cell": "gru", "bidirectional": True, "pooling": "max"},
            "GRU, 1 layer of 64 units, bidirectional (merge_mode concat), max pooling over time, embedding size 64",
        ),
        (
            {"cell": "lstm", "dropout": 0.2, "stateful": True, "stateful_batch_size": 4},
            "LSTM, 1 layer of 64 units, embedding size 64, dropout 0.2, recurrent_dropout 0.0, "
            "saved stateful (batch of 4)",
        ),
        (
            {"return_sequences": True},
            "SimpleRNN, 1 layer of 64 units, embedding size 64, saved per-token (return_sequences)",
        ),
        ({"kind": "bow", "ngrams": 2, "hidden_layers": 2}, "bag of words (1- to 2-grams), 2 dense layers of 64 units"),
    ],
)
def test_architecture_summary(keys, summary):
    assert architecture_summary(ModelConfig(**keys)) == summary


def test_layer_summary_names_the_wrapped_cell():
    import keras

    inputs = keras.Input(shape=(5, 3))
    layer = keras.layers.Bidirectional(keras.layers.GRU(4), name="bidirectional_0")
    keras.Model(inputs, layer(inputs))
    assert layer_summary(layer) == {
        "name": "bidirectional_0",
        "type": "Bidirectional(GRU)",
        "output_shape": [None, 8],
        "parameters": 2 * 3 * (3 * 4 + 4 * 4 + 2 * 4),
    }


def test_inspect_a_model_written_before_versions_were_recorded(fixed_model_dir):
    meta = json.loads((fixed_model_dir / "meta.json").read_text())
    del meta["versions"]
    (fixed_model_dir / "meta.json").write_text(json.dumps(meta))
    result = CliRunner().invoke(cli, ["inspect", "--model", str(fixed_model_dir)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[2] == "Libraries        unknown (written before versions were recorded)"


def test_inspect_reads_the_layers_without_tensorflow(fixed_model_dir):
    import subprocess
    import sys

    code = (
        "import sys\nfrom sentiment_rnn.cli import cli\n"
        "try:\n    cli(sys.argv[1:])\nexcept SystemExit as exit:\n    assert exit.code in (0, None), exit.code\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras')))"
    )
    for args in (["inspect"], ["inspect", "--json"]):
        out = subprocess.run(
            [sys.executable, "-c", code, *args, "--model", str(fixed_model_dir)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert out.splitlines()[-1] == "[]"
        assert "recurrent_0" in out


@pytest.mark.parametrize(
    "overrides",
    [
        ("model.cell=gru", "model.layers=2", "model.bidirectional=true", "model.merge_mode=concat"),
        ("model.cell=lstm", "model.pooling=mean"),
        ("model.kind=bow", "model.ngrams=2", "model.hidden_layers=2"),
        ("model.kind=hybrid", "model.cell=gru", "model.ngrams=2"),
    ],
    ids=["stacked-bigru", "pooled-lstm", "bow", "hybrid"],
)
def test_the_layers_of_weights_npz_count_the_parameters_of_model_keras(overrides, tmp_path):
    from model_factory import randomized_model, write_model_dir

    directory = write_model_dir(*randomized_model(*overrides), tmp_path / "model")
    (directory / "metrics.json").write_text(json.dumps(FIXED_METRICS))
    mine, theirs = describe(directory), describe(directory, engine="keras")
    assert mine["architecture"] == theirs["architecture"]  # the summary and both parameter counts
    # the same layers with weights, in order (Keras names a bidirectional layer bidirectional_<i>, not recurrent_<i>)
    assert [(layer["type"], layer["output_shape"], layer["parameters"]) for layer in mine["layers"]] == [
        (layer["type"], layer["output_shape"], layer["parameters"]) for layer in theirs["layers"] if layer["parameters"]
    ]
