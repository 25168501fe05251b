"""predict with the NumPy engine: --engine, --per-token, --stream, --chunk-tokens, and forward-demo."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from model_factory import randomized_model, write_model_dir

from conftest import ONE_LAYER_WEIGHT_NAMES, assert_printed_close
from sentiment_rnn.artifact.engine_files import architecture_of, load_engine, vocabulary_digest
from sentiment_rnn.artifact.files import CONFIG_FILE, ENGINE_FILE, MODEL_FILE, WEIGHTS_FILE
from sentiment_rnn.cli import cli
from sentiment_rnn.config import load_config
from sentiment_rnn.engine.models import BIDIRECTIONAL_STREAM_ERROR, BOW_VIEW_ERROR, POOLING_STREAM_ERROR
from sentiment_rnn.inference import predict, predict_stream

ROOT = Path(__file__).resolve().parent.parent
TEXTS = ["No, this phone is good", "This phone is no good", "", "🙂 unknownword"]
DOCUMENT = "".join(
    f"The battery is not bad at all, {i}; I don't like\u2028the screen. Écran très bien! " for i in range(12)
)


def run(*args, input=None):
    return CliRunner().invoke(cli, [str(a) for a in args], input=input)


def assert_user_error(result, message: str):
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert result.output == f"Error: {message}\n"


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict[str, Path]:
    """Model directories of small random models: GRU stack, bidirectional LSTM, bag-of-words, truncating, pooled."""
    root = tmp_path_factory.mktemp("engine-models")
    architectures = {
        "gru": ("model.cell=gru", "model.layers=2"),
        "bidirectional": ("model.cell=lstm", "model.bidirectional=true"),
        "bow": ("model.kind=bow", "model.ngrams=2"),
        "truncating": ("model.cell=simple", "tokenizer.output_sequence_length=4"),
        "pooled": ("model.cell=gru", "model.pooling=max"),
        "concat-pooled": ("model.cell=gru", "model.pooling=concat"),
    }
    return {
        name: write_model_dir(*randomized_model(*overrides), root / name) for name, overrides in architectures.items()
    }


def json_rows(result) -> list[dict]:
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


def lines(*texts: str) -> str:
    """``texts`` as the lines of a file, for ``predict --file -`` (a text argument may not be empty; a line may)."""
    return "".join(f"{text}\n" for text in texts)


@pytest.mark.parametrize("name", ["gru", "bidirectional", "bow", "truncating", "pooled", "concat-pooled"])
def test_numpy_is_the_default_and_agrees_with_keras(models, name):
    numpy_rows = json_rows(run("predict", "--model", models[name], "--json", "--file", "-", input=lines(*TEXTS)))
    keras_rows = json_rows(
        run("predict", "--model", models[name], "--json", "--engine", "keras", "--file", "-", input=lines(*TEXTS))
    )
    assert [row["text"] for row in numpy_rows] == TEXTS
    for mine, theirs in zip(numpy_rows, keras_rows):
        assert abs(mine["probability"] - theirs["probability"]) < 1e-5
        # shares of the same token counts, counted by the vectorized encoder and by the pure-Python tokenizer
        assert mine["oov_rate"] == pytest.approx(theirs["oov_rate"], abs=1e-12)
    assert numpy_rows[2]["oov_rate"] == 0.0 and numpy_rows[3]["oov_rate"] == 1.0  # "" has no tokens; both unknown
    plain = run("predict", "--model", models[name], "--file", "-", input=lines(*TEXTS))
    assert plain.stdout == "".join(f"{r['label']:<8}  {r['probability']:.4f}  {r['text']}\n" for r in numpy_rows)


def test_trained_model_directory_holds_the_engine_files(model_dir, tmp_path):
    engine_json = json.loads((model_dir / ENGINE_FILE).read_text())
    assert engine_json == {
        "format_version": 3,
        "kind": "rnn",
        "cell": "simple",
        "layers": 1,
        "units": 64,
        "bidirectional": False,
        "merge_mode": "concat",
        "pooling": "last",
        "output_sequence_length": 0,
        "vocabulary_sha256": vocabulary_digest(json.loads((model_dir / "vocabulary.json").read_text())),
    }
    with np.load(model_dir / WEIGHTS_FILE, allow_pickle=False) as weights:
        assert sorted(weights.files) == ONE_LAYER_WEIGHT_NAMES
    texts = ["I like this phone", "This phone is no good", "No, this phone is good", "", "qwerty"]
    by_numpy = [p.probability for p in predict(model_dir, texts)]
    by_keras = [p.probability for p in predict(model_dir, texts, engine="keras")]
    np.testing.assert_allclose(by_numpy, by_keras, atol=1e-5, rtol=0)
    # A directory written before pooling existed (engine format 1, no "pooling") reads the last state.
    import shutil

    old = shutil.copytree(model_dir, tmp_path / "format-1")
    del engine_json["pooling"]
    (old / ENGINE_FILE).write_text(json.dumps({**engine_json, "format_version": 1}))
    assert [p.probability for p in predict(old, texts)] == by_numpy


@pytest.mark.parametrize(
    "args",
    [
        ["No, this phone is good", "--file", "LINES"],
        ["--per-token", "--json", "No, this phone is good"],
        ["--stream", "DOCUMENT", "--chunk-tokens", "5"],
    ],
    ids=["predict", "per-token", "stream"],
)
def test_numpy_engine_never_imports_tensorflow(models, tmp_path, args):
    document = tmp_path / "document.txt"
    document.write_text(DOCUMENT, encoding="utf-8")
    (tmp_path / "lines.txt").write_text(lines("This phone is no good", "", "🙂 unknownword"), encoding="utf-8")
    args = [{"DOCUMENT": str(document), "LINES": str(tmp_path / "lines.txt")}.get(a, a) for a in args]
    code = (
        "import sys\nfrom sentiment_rnn.cli import cli\n"
        "try:\n    cli(sys.argv[1:])\nexcept SystemExit as exit:\n    assert exit.code in (0, None), exit.code\n"
        "print(sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, "predict", "--model", str(models["gru"]), *args],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    ).stdout
    assert out.splitlines()[-1] == "[]"
    assert len(out.splitlines()) > 1


def test_per_token_prints_each_token_with_its_probability_and_a_bar(models):
    engine = load_engine(models["gru"])
    result = run(
        "predict", "--model", models["gru"], "--per-token", "--file", "-", input=lines("No, this phone is good", "")
    )
    assert result.exit_code == 0, result.output
    tokens, probabilities = engine.per_token("No, this phone is good")
    assert tokens == ["no", ",", "this", "phone", "is", "good"]
    overall = engine.predict_proba(["No, this phone is good", ""])
    label = "positive" if overall[0] >= 0.5 else "negative"
    empty_label = "positive" if overall[1] >= 0.5 else "negative"
    expected = [f"{label:<8}  {overall[0]:.4f}  No, this phone is good"]
    expected += [f"  {t:<5}  {p:.4f}  {'#' * round(p * 20)}".rstrip() for t, p in zip(tokens, probabilities)]
    expected += [f"{empty_label:<8}  {overall[1]:.4f}  "]
    assert result.stdout.splitlines() == expected
    assert abs(probabilities[-1] - overall[0]) < 1e-6  # a unidirectional model ends on its answer


@pytest.mark.parametrize("name", ["bidirectional", "pooled"])
def test_per_token_json_lists_tokens_and_agrees_with_keras(models, name):
    texts = ["No, this phone is good", "the battery is not bad at all"]
    mine = json_rows(run("predict", "--model", models[name], "--per-token", "--json", *texts))
    theirs = json_rows(run("predict", "--model", models[name], "--per-token", "--json", "--engine", "keras", *texts))
    assert [row["text"] for row in mine] == texts
    assert [[t["token"] for t in row["tokens"]] for row in mine] == [
        ["no", ",", "this", "phone", "is", "good"],
        ["the", "battery", "is", "not", "bad", "at", "all"],
    ]
    for a, b in zip(mine, theirs):
        assert [t["token"] for t in a["tokens"]] == [t["token"] for t in b["tokens"]]
        np.testing.assert_allclose(
            [t["probability"] for t in a["tokens"]], [t["probability"] for t in b["tokens"]], atol=1e-5
        )
        assert abs(a["probability"] - b["probability"]) < 1e-5


def test_per_token_shows_the_truncated_tokens(models):
    rows = json_rows(run("predict", "--model", models["truncating"], "--per-token", "--json", "a b c d e f"))
    assert [t["token"] for t in rows[0]["tokens"]] == ["a", "b", "c", "d"]


def test_stream_equals_one_shot_and_prints_one_line(models, tmp_path):
    document = tmp_path / "document.txt"
    document.write_text(DOCUMENT, encoding="utf-8")
    one_shot = load_engine(models["gru"]).predict_proba([DOCUMENT])[0]
    n_tokens = len(load_engine(models["gru"]).tokens(DOCUMENT))
    result = run("predict", "--model", models["gru"], "--stream", document, "--chunk-tokens", "7")
    label = "positive" if one_shot >= 0.5 else "negative"
    n_chunks = -(-n_tokens // 7)
    # streamed in chunks of 7 tokens and read in one go: two paths (see assert_printed_close)
    assert_printed_close(
        result.output, f"{label:<8}  {one_shot:.4f}  {document} ({n_tokens} tokens in {n_chunks} chunks)\n"
    )
    row = json_rows(run("predict", "--model", models["gru"], "--stream", "-", "--json", input=DOCUMENT))[0]
    assert row == {
        "source": "<stdin>",
        "label": label,
        "probability": row["probability"],
        "tokens": n_tokens,
        "chunks": 1,
        "model": {"name": "gru", "kind": "rnn", "bundled": False, "path": str(models["gru"])},
    }
    assert abs(row["probability"] - one_shot) < 1e-6


def test_keras_stream_carries_the_state_of_a_stateful_model(models):
    one_shot = predict(models["gru"], [DOCUMENT], engine="keras")[0].probability
    streamed = predict_stream(models["gru"], io.StringIO(DOCUMENT), chunk_tokens=40, engine="keras")
    assert streamed.chunks == -(-streamed.tokens // 40) and streamed.chunks > 2
    assert abs(streamed.probability - one_shot) < 1e-5


def test_stream_stops_at_the_output_sequence_length(models):
    one_shot = predict(models["truncating"], [DOCUMENT])[0].probability
    for engine in ("numpy", "keras"):
        streamed = predict_stream(models["truncating"], io.StringIO(DOCUMENT), chunk_tokens=3, engine=engine)
        assert (streamed.tokens, streamed.chunks) == (4, 2)
        assert abs(streamed.probability - one_shot) < 1e-5


def test_view_errors(models, tmp_path):
    document = tmp_path / "document.txt"
    document.write_text(DOCUMENT, encoding="utf-8")
    for engine in ("numpy", "keras"):
        assert_user_error(
            run("predict", "--model", models["bidirectional"], "--stream", document, "--engine", engine),
            BIDIRECTIONAL_STREAM_ERROR,
        )
        assert_user_error(
            run("predict", "--model", models["pooled"], "--stream", document, "--engine", engine),
            POOLING_STREAM_ERROR,
        )
    assert_user_error(run("predict", "--model", models["bow"], "--per-token", "good"), BOW_VIEW_ERROR)
    assert_user_error(run("predict", "--model", models["bow"], "--stream", document), BOW_VIEW_ERROR)


def test_option_errors(models, tmp_path):
    document = tmp_path / "document.txt"
    document.write_text(DOCUMENT, encoding="utf-8")
    gru = models["gru"]
    assert_user_error(
        run("predict", "--model", gru, "--stream", document, "good"),
        "--stream reads one document on its own: pass texts or --file, or --stream, not both.",
    )
    assert_user_error(
        run("predict", "--model", gru, "--stream", document, "--per-token"),
        "--per-token cannot be combined with --stream: a stream prints one result for the whole document.",
    )
    assert_user_error(
        run("predict", "--model", gru, "--chunk-tokens", "5", "good"),
        "--chunk-tokens applies to --stream only: add --stream FILE or drop --chunk-tokens.",
    )
    latin = tmp_path / "latin.txt"
    latin.write_bytes(b"caf\xe9 " * 10)
    assert_user_error(
        run("predict", "--model", gru, "--stream", latin), f"{latin} is not valid UTF-8: convert it to UTF-8 first."
    )
    result = run("predict", "--model", gru, "--engine", "tensorflow", "good")
    assert result.exit_code == 2 and "'tensorflow' is not one of 'numpy', 'keras'" in result.output


def test_missing_or_damaged_engine_files(models, tmp_path):
    import shutil

    copy = shutil.copytree(models["gru"], tmp_path / "copy")
    (copy / WEIGHTS_FILE).write_bytes((copy / WEIGHTS_FILE).read_bytes()[:100])
    assert_user_error(
        run("predict", "--model", copy, "good"),
        f"{copy / WEIGHTS_FILE} is damaged (File is not a zip file): retrain the model with `sentiment-rnn train`, "
        "or pass --engine keras.",
    )
    assert run("predict", "--model", copy, "--engine", "keras", "good").exit_code == 0
    (copy / WEIGHTS_FILE).unlink()
    assert_user_error(
        run("predict", "--model", copy, "good"),
        f"{copy} has no weights.npz, which the NumPy engine needs: retrain the model with `sentiment-rnn train`, "
        "or pass --engine keras.",
    )
    other = shutil.copytree(models["bow"], tmp_path / "other")
    shutil.copy(models["gru"] / ENGINE_FILE, other / ENGINE_FILE)
    result = run("predict", "--model", other, "good")
    assert result.exit_code == 1
    assert result.output == (
        f"Error: {other / CONFIG_FILE} does not match {other / ENGINE_FILE}: the config says model.kind = 'bow' "
        "but engine.json has 'rnn'; restore the config.toml it was trained with, or retrain the model.\n"
    )


def test_the_engine_is_built_from_config_toml_and_engine_json_must_agree_with_it(models, tmp_path):
    import shutil

    gru = models["gru"]
    recorded = json.loads((gru / ENGINE_FILE).read_text())
    assert recorded == {
        **architecture_of(load_config(gru / CONFIG_FILE)),
        "vocabulary_sha256": vocabulary_digest(json.loads((gru / "vocabulary.json").read_text())),
    }
    # An edited engine.json is refused, naming the file and the key as for an edited config.toml.
    copy = shutil.copytree(gru, tmp_path / "edited-engine")
    (copy / ENGINE_FILE).write_text(json.dumps({**recorded, "cell": "simple"}))
    assert_user_error(
        run("predict", "--model", copy, "good"),
        f"{copy / CONFIG_FILE} does not match {copy / ENGINE_FILE}: the config says model.cell = 'gru' but "
        "engine.json has 'simple'; restore the config.toml it was trained with, or retrain the model.",
    )
    # What only the arrays' shapes tell (the embedding size here) is checked against config.toml too.
    copy = shutil.copytree(gru, tmp_path / "edited-config")
    config = copy / CONFIG_FILE
    config.write_text(config.read_text().replace("\noutput_dim = 5\n", "\noutput_dim = 6\n"))
    assert_user_error(
        run("predict", "--model", copy, "good"),
        f"{config} does not match {copy / WEIGHTS_FILE}: the config says model.output_dim = 6 but "
        "the weights have 5; restore the config.toml it was trained with, or retrain the model.",
    )
    # The merge mode of a model that reads one way changes nothing, for either engine.
    copy = shutil.copytree(gru, tmp_path / "merge-mode")
    config = copy / CONFIG_FILE
    config.write_text(config.read_text().replace('merge_mode = "concat"', 'merge_mode = "sum"'))
    for engine in ("numpy", "keras"):
        assert run("predict", "--model", copy, "--engine", engine, "good").exit_code == 0


def test_a_newer_or_missing_engine_format_is_refused(models, tmp_path):
    import shutil

    copy = shutil.copytree(models["gru"], tmp_path / "newer")
    engine_json = json.loads((copy / ENGINE_FILE).read_text())
    (copy / ENGINE_FILE).write_text(json.dumps({**engine_json, "format_version": 5}))
    assert_user_error(
        run("predict", "--model", copy, "good"),
        f"{copy / ENGINE_FILE} has engine format 5, but this sentiment-rnn reads format 4 at most: "
        "upgrade sentiment-rnn, or pass --engine keras.",
    )
    del engine_json["format_version"]
    (copy / ENGINE_FILE).write_text(json.dumps(engine_json))
    assert_user_error(
        run("predict", "--model", copy, "good"),
        f"{copy / ENGINE_FILE} has no valid format_version: retrain the model with `sentiment-rnn train`, "
        "or pass --engine keras.",
    )


@pytest.mark.parametrize("engine", ["numpy", "keras"])
def test_a_config_whose_pooling_disagrees_with_the_weights_is_refused(models, tmp_path, engine):
    import shutil

    copy = shutil.copytree(models["pooled"], tmp_path / "copy")
    config = copy / CONFIG_FILE
    config.write_text(config.read_text().replace('pooling = "max"', 'pooling = "last"'))
    saved = ENGINE_FILE if engine == "numpy" else MODEL_FILE  # the pooling is recorded in engine.json
    holder = "engine.json has" if engine == "numpy" else "the model has"
    assert_user_error(
        run("predict", "--model", copy, "--engine", engine, "good"),
        f"{config} does not match {copy / saved}: the config says model.pooling = 'last' but {holder} 'max'; "
        "restore the config.toml it was trained with, or retrain the model.",
    )


FORWARD_DEMO = """\
vocabulary h, e, l, o (one-hot x); s(t) = tanh(U x(t) + W s(t-1) + b), s(0) = 0
t=1  x = 'h'
  U x(t)         = [0.287027, 0.902874, 0.537524]
  W s(t-1) + b   = [0.567001, 0.567001, 0.567001]
  s(t)           = [0.693168, 0.899554, 0.802119]
t=2  x = 'e'
  U x(t)         = [0.846060, 0.871522, 0.092240]
  W s(t-1) + b   = [0.863014, 0.951149, 0.909540]
  s(t)           = [0.936534, 0.949104, 0.762341]
output after 'e':
  V s            = [1.906075, 1.137792, 0.956664, 1.274228]
  softmax(V s)   = [0.419747, 0.194682, 0.162429, 0.223141]  (h, e, l, o)
  most likely next letter: 'h' (untrained weights)
"""


def test_forward_demo_prints_the_worked_example():
    result = run("forward-demo")
    assert result.exit_code == 0
    # float32 arithmetic printed to 6 decimals: another CPU's vector instructions may round tanh or exp
    # differently in the last bit, enough to flip a 6th decimal on a boundary (0.802118|9 is one)
    assert_printed_close(result.output, FORWARD_DEMO)
    assert_user_error(
        run("forward-demo", "--text", "help"),
        "The demo reads letters from {h, e, l, o}, got 'help': pass e.g. --text hell.",
    )


def test_per_token_marks_the_tokens_outside_the_vocabulary(models):
    engine = load_engine(models["gru"])
    result = run("predict", "--model", models["gru"], "--per-token", "zyzzyva phone")
    assert result.exit_code == 0, result.output
    tokens, probabilities = engine.per_token("zyzzyva phone")
    lines = result.output.splitlines()
    assert lines[1] == f"? zyzzyva  {probabilities[0]:.4f}  {'#' * round(probabilities[0] * 20)}".rstrip()
    assert lines[2] == f"  phone    {probabilities[1]:.4f}  {'#' * round(probabilities[1] * 20)}".rstrip()
    assert lines[3] == "  (? = not in the vocabulary: read as [UNK])"
    rows = json_rows(run("predict", "--model", models["gru"], "--per-token", "--json", "zyzzyva phone"))
    assert [(t["token"], t["unknown"]) for t in rows[0]["tokens"]] == [("zyzzyva", True), ("phone", False)]


def test_predict_json_oov_gives_each_texts_unknown_tokens(models):
    rows = json_rows(
        run(
            "predict",
            "--model",
            models["gru"],
            "--json",
            "--oov",
            "--file",
            "-",
            input=lines("zyzzyva phone quux", "good", ""),
        )
    )
    assert [(row["oov_rate"], row["unknown_tokens"]) for row in rows] == [
        (2 / 3, ["zyzzyva", "quux"]),
        (0.0, []),
        (0.0, []),
    ]
    refused = run("predict", "--model", models["gru"], "--oov", "good")
    assert (refused.exit_code, refused.output) == (1, "Error: --oov adds keys to the JSON output: add --json.\n")
