"""model.kind = "hybrid": the recurrent branch and a wide NBSVM-style n-gram branch into one sigmoid."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from model_factory import SMALL, randomized_model, write_model_dir

from conftest import NEGATIVE, PATHS_ATOL, POSITIVE, TINY_OVERRIDES, write_csv
from sentiment_rnn.artifact.engine_files import engine_from_keras, load_engine
from sentiment_rnn.artifact.files import (
    CONFIG_FILE,
    ENGINE_FILE,
    LEGACY_WIDE_VOCABULARY_FILE,
    META_FILE,
    VOCABULARY_FILE,
    WEIGHTS_FILE,
    WIDE_VOCABULARY_FILE,
    member_path,
    meta_for,
    write_json,
)
from sentiment_rnn.cli import cli
from sentiment_rnn.config import load_config, to_toml
from sentiment_rnn.data.dataset import Dataset
from sentiment_rnn.engine.hybrid import RunningNgrams
from sentiment_rnn.engine.models import BIDIRECTIONAL_STREAM_ERROR
from sentiment_rnn.inference import predict, predict_per_token, predict_stream
from sentiment_rnn.models import build_training_model, make_tokenizer, model_architecture
from sentiment_rnn.text import tokenize_py
from sentiment_rnn.wide import WIDE_LAYER, RunningWideLogit, adapted_wide_tokenizer, log_count_ratios

TEXTS = ["No, this phone is good", "This phone is no good", "", "🙂 unknownword", "the battery is not bad at all"]
ARCHITECTURES = {
    "gru": ("model.kind=hybrid", "model.ngrams=2", "model.cell=gru"),
    "bidirectional-max": ("model.kind=hybrid", "model.cell=lstm", "model.bidirectional=true", "model.pooling=max"),
    "simple-trigrams": ("model.kind=hybrid", "model.ngrams=3", "tokenizer.output_sequence_length=3"),
}


def run(*args, input=None):
    return CliRunner().invoke(cli, [str(a) for a in args], input=input)


def lines(*texts: str) -> str:
    """``texts`` as the lines of a file, for ``predict --file -`` (a text argument may not be empty; a line may)."""
    return "".join(f"{text}\n" for text in texts)


def assert_user_error(result, message: str):
    assert result.exit_code == 1, result.output
    assert result.output == f"Error: {message}\n"


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("hybrid-models")
    return {name: write_model_dir(*randomized_model(*o), root / name) for name, o in ARCHITECTURES.items()}


def test_log_count_ratios_are_nbsvms():
    config = load_config(overrides=["model.kind=hybrid", "model.ngrams=2"])
    texts = ["good film", "good good", "bad film", "not good"]
    labels = [1, 1, 0, 0]
    tokenizer = adapted_wide_tokenizer(config, texts)
    vocabulary = tokenizer.get_vocabulary()
    ratios = dict(zip(vocabulary, log_count_ratios(tokenizer, texts, labels, alpha=1.0)))
    # Texts holding each n-gram (once per text), plus alpha = 1, over the class's total (V + sum of counts).
    size = len(vocabulary)  # [UNK] good film bad not "good film" "good good" "bad film" "not good"
    assert size == 9
    p_total = size + 2 + 1 + 1 + 1  # positive texts hold good twice, film, "good film", "good good"
    q_total = size + 6  # negative ones: bad, film, "bad film", not, good, "not good"
    assert ratios["good"] == pytest.approx(np.log(3 / p_total) - np.log(2 / q_total))
    assert ratios["bad"] == pytest.approx(np.log(1 / p_total) - np.log(2 / q_total))
    assert ratios["film"] == pytest.approx(np.log(2 / p_total) - np.log(2 / q_total))
    assert ratios["good good"] == pytest.approx(np.log(2 / p_total) - np.log(1 / q_total))
    assert ratios["[UNK]"] == pytest.approx(np.log(1 / p_total) - np.log(1 / q_total))


def test_wide_weights_start_at_the_scaled_ratios_of_the_training_split():
    config = load_config(overrides=["model.kind=hybrid", "model.wide_scale=0.5", *TINY_OVERRIDES[:2]])
    train = Dataset(POSITIVE + NEGATIVE, np.array([1] * 6 + [0] * 6), "tiny")
    tokenizer = make_tokenizer(config)
    tokenizer.adapt(train.texts)
    model = build_training_model(config, tokenizer, train)
    wide = model.get_layer("wide_tokenizer")
    expected = 0.5 * log_count_ratios(wide, train.texts, train.labels, 1.0)
    np.testing.assert_allclose(model.get_layer(WIDE_LAYER).get_weights()[0][:, 0], expected, rtol=1e-6)
    assert model_architecture(model)["model.kind"] == "hybrid"


@pytest.mark.parametrize("name", list(ARCHITECTURES))
def test_numpy_engine_agrees_with_keras(models, name):
    rows = {}
    for engine in ("numpy", "keras"):
        result = run(
            "predict", "--model", models[name], "--json", "--engine", engine, "--file", "-", input=lines(*TEXTS)
        )
        assert result.exit_code == 0, result.output
        rows[engine] = [json.loads(line) for line in result.stdout.splitlines()]
    assert [row["text"] for row in rows["numpy"]] == TEXTS
    for mine, theirs in zip(rows["numpy"], rows["keras"]):
        assert abs(mine["probability"] - theirs["probability"]) < 1e-5
    probabilities = [row["probability"] for row in rows["numpy"]]
    assert len(set(probabilities)) == len(TEXTS)  # random weights of a useful size: nothing saturates


def test_the_wide_branch_counts_each_ngram_once_and_unknown_ones_as_unk(models):
    model, config = randomized_model(*ARCHITECTURES["gru"])
    engine = engine_from_keras(model, config)
    vocabulary = engine.wide_vocabulary.vocabulary.tokens
    kernel = engine.wide_kernel[:, 0]
    (logit,) = engine.wide_logits(["good good zzz"])
    expected = kernel[vocabulary.index("good")] + kernel[vocabulary.index("[UNK]")]  # "good good", "good zzz": unknown
    assert logit == pytest.approx(expected, abs=1e-6)


def json_rows(result) -> list[dict]:
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]  # stderr may warn of unknown words


VIEW_TEXTS = ["No, this phone is good", "good good zzz good", "the battery is not bad at all, not bad", ""]


@pytest.mark.parametrize("name", list(ARCHITECTURES))
def test_per_token_terms_agree_between_engines_and_end_at_the_answer(models, name):
    rows = {
        engine: json_rows(
            run(
                "predict",
                "--model",
                models[name],
                "--per-token",
                "--json",
                "--engine",
                engine,
                "--file",
                "-",
                input=lines(*VIEW_TEXTS),
            )
        )
        for engine in ("numpy", "keras")
    }
    for mine, theirs in zip(rows["numpy"], rows["keras"], strict=True):
        assert [t["token"] for t in mine["tokens"]] == [t["token"] for t in theirs["tokens"]]
        assert [t["token"] for t in mine["tokens"]] == tokenize_py(mine["text"])  # the wide branch reads them all
        assert mine["bias"] == pytest.approx(theirs["bias"], abs=1e-6)  # the same float32 weight, read twice
        for key in ("probability", "recurrent", "ngrams"):  # two code paths in float32: 1e-5
            np.testing.assert_allclose([t[key] for t in mine["tokens"]], [t[key] for t in theirs["tokens"]], atol=1e-5)
        for row in (mine, theirs):
            terms = np.array([[t["recurrent"] + t["ngrams"] + row["bias"], t["probability"]] for t in row["tokens"]])
            if len(terms):  # the terms add up to each step's logit, and the last step is the whole text's answer
                np.testing.assert_allclose(1 / (1 + np.exp(-terms[:, 0])), terms[:, 1], atol=1e-12)
                assert abs(terms[-1, 1] - row["probability"]) < 1e-5
        assert mine["model"] == {"name": name, "kind": "hybrid", "bundled": False, "path": str(models[name])}


def test_the_running_ngrams_are_each_prefixs_multi_hot_logit(models):
    model, config = randomized_model(*ARCHITECTURES["simple-trigrams"])
    engine = engine_from_keras(model, config)
    text = "no , this phone is good , good good zzz this phone is good yyy zzz"
    tokens = text.split()
    prefixes = [" ".join(tokens[: end + 1]) for end in range(len(tokens))]
    # the whole-text wide branch (NgramTable or dict) of every prefix: 1e-6 for its float32 result
    expected = engine.wide_logits(prefixes)
    np.testing.assert_allclose(RunningNgrams(engine).read(tokens), expected, atol=1e-6)
    for chunk in (1, 2, 5):  # read in pieces: the n-grams across a cut are found, none counted twice
        running = RunningNgrams(engine)
        pieces = [running.read(tokens[start : start + chunk]) for start in range(0, len(tokens), chunk)]
        np.testing.assert_allclose(np.concatenate(pieces), expected, atol=1e-6)
    keras_running = RunningWideLogit(model, config.model.ngrams)
    pieces = [keras_running.read(tokens[start : start + 4]) for start in range(0, len(tokens), 4)]
    np.testing.assert_allclose(np.concatenate(pieces), expected, atol=1e-5)


def test_each_ngram_counts_the_first_time_it_appears(models):
    model, config = randomized_model(*ARCHITECTURES["gru"])
    engine = engine_from_keras(model, config)
    vocabulary = engine.wide_vocabulary.vocabulary.tokens
    kernel = engine.wide_kernel[:, 0].astype(np.float64)
    good, unknown = kernel[vocabulary.index("good")], kernel[vocabulary.index("[UNK]")]
    assert "good good" not in vocabulary
    # good; then "good good" (unknown: [UNK] once); then "zzz" and "good zzz" (unknown, [UNK] already counted)
    np.testing.assert_allclose(
        engine.per_token_parts("good good zzz").ngrams, [good, good + unknown, good + unknown], atol=1e-12
    )


def test_per_token_prints_the_terms_of_each_step(models):
    engine = load_engine(models["gru"])
    result = run("predict", "--model", models["gru"], "--per-token", "No, this phone is good")
    assert result.exit_code == 0, result.output
    parts = engine.per_token_parts("No, this phone is good")
    (whole,) = engine.predict_proba(["No, this phone is good"])
    label = "positive" if whole >= 0.5 else "negative"
    assert result.output.splitlines() == [
        f"{label:<8}  {whole:.4f}  No, this phone is good",
        f"  {'':<5}  {'':6}  {'':20}  {'recurrent':>9}  {'n-grams':>9}",
        *(
            f"  {token:<5}  {p:.4f}  {'#' * round(p * 20):<20}  {r:+9.3f}  {n:+9.3f}"
            for token, p, r, n in zip(parts.tokens, parts.probabilities, parts.recurrent, parts.ngrams)
        ),
        f"  (each branch's log-odds so far; probability = sigmoid(recurrent + n-grams + bias), bias {parts.bias:+.3f})",
    ]


@pytest.mark.parametrize("name", ["gru", "simple-trigrams"])
def test_stream_carries_the_ngrams_beside_the_state_in_both_engines(models, name):
    document = "".join(f"The battery is not bad at all, {i % 3}; good good phone. " for i in range(6))
    (whole,) = predict(models[name], [document])
    parts = {}
    for engine in ("numpy", "keras"):
        streamed = predict_stream(models[name], io.StringIO(document), chunk_tokens=4, engine=engine)
        assert (streamed.tokens, streamed.chunks) == (len(tokenize_py(document)), -(-len(tokenize_py(document)) // 4))
        assert abs(streamed.probability - whole.probability) < 1e-5  # float32 along two paths
        recurrent, ngrams, bias = streamed.parts
        assert 1 / (1 + np.exp(-(recurrent + ngrams + bias))) == pytest.approx(streamed.probability, abs=1e-12)
        parts[engine] = streamed.parts
    np.testing.assert_allclose(parts["numpy"], parts["keras"], atol=1e-5)
    row = json_rows(run("predict", "--model", models[name], "--stream", "-", "--json", input=document))[0]
    assert list(row) == ["source", "label", "probability", "tokens", "chunks", "recurrent", "ngrams", "bias", "model"]


def test_a_bidirectional_hybrid_is_read_per_token_but_not_streamed(models, tmp_path):
    document = tmp_path / "document.txt"
    document.write_text("this phone is good " * 20, encoding="utf-8")
    for engine in ("numpy", "keras"):
        assert_user_error(
            run("predict", "--model", models["bidirectional-max"], "--stream", document, "--engine", engine),
            BIDIRECTIONAL_STREAM_ERROR,
        )


@pytest.fixture(scope="module")
def hybrid_ensemble(tmp_path_factory) -> Path:
    """Two random hybrids of one vocabulary (seeds 0 and 1) laid out as `train --ensemble 2` writes them."""
    root = tmp_path_factory.mktemp("hybrid-ensemble") / "ensemble"
    for number in (1, 2):
        member = write_model_dir(*randomized_model(*ARCHITECTURES["gru"], seed=number - 1), member_path(root, number))
    config = load_config(overrides=[*SMALL, *ARCHITECTURES["gru"], "train.ensemble=2"])
    (root / CONFIG_FILE).write_text(to_toml(config), encoding="utf-8")
    shutil.copy(member / VOCABULARY_FILE, root / VOCABULARY_FILE)
    write_json(root / META_FILE, meta_for(config, {}))
    return root


def test_an_ensemble_of_hybrids_reads_per_token_and_streams_as_its_members_mean(hybrid_ensemble):
    text = "No, this phone is good, good good"
    members = [predict_per_token(member_path(hybrid_ensemble, number), [text])[0] for number in (1, 2)]
    document = "the battery is not bad at all, good good phone. " * 5
    (whole,) = predict(hybrid_ensemble, [document])
    for engine in ("numpy", "keras"):
        (view,) = predict_per_token(hybrid_ensemble, [text], engine=engine)
        assert view.model.members == 2 and view.model.kind == "hybrid"
        assert [token for token, _ in view.tokens] == [token for token, _ in members[0].tokens]
        mean = np.mean([[p for _, p in member.tokens] for member in members], axis=0)
        np.testing.assert_allclose([p for _, p in view.tokens], mean, atol=1e-5)  # float32 along two paths
        for name in ("recurrent", "ngrams"):
            np.testing.assert_allclose(getattr(view, name), np.mean([getattr(m, name) for m in members], 0), atol=1e-5)
        assert view.bias == pytest.approx(np.mean([m.bias for m in members]), abs=1e-6)
        streamed = predict_stream(hybrid_ensemble, io.StringIO(document), chunk_tokens=3, engine=engine)
        assert streamed.tokens == len(tokenize_py(document))
        assert abs(streamed.probability - whole.probability) < 1e-5


FIX = "retrain the model with `sentiment-rnn train`, or pass --engine keras."


def without_wide_digest(directory: Path, **changes) -> None:
    """Rewrite engine.json without its wide_vocabulary_sha256 (as engine format 2 wrote it), with ``changes``."""
    engine = json.loads((directory / ENGINE_FILE).read_text())
    del engine["wide_vocabulary_sha256"]
    (directory / ENGINE_FILE).write_text(json.dumps({**engine, **changes}))


def test_missing_edited_or_malformed_wide_vocabulary_is_refused(models, tmp_path):
    copy = shutil.copytree(models["gru"], tmp_path / "copy")
    lines = (copy / WIDE_VOCABULARY_FILE).read_bytes()
    assert lines.startswith(b"[UNK]\n") and lines.endswith(b"\n")
    (copy / WIDE_VOCABULARY_FILE).unlink()
    assert_user_error(
        run("predict", "--model", copy, "good"), f"{copy} is missing {WIDE_VOCABULARY_FILE}: retrain the model."
    )
    assert run("predict", "--model", copy, "--engine", "keras", "good").exit_code == 0
    (copy / WIDE_VOCABULARY_FILE).write_bytes(lines.replace(b"\ngood\n", b"\ngold\n"))
    assert_user_error(
        run("predict", "--model", copy, "good"),
        f"{copy / WIDE_VOCABULARY_FILE} is not the n-grams the model was trained with (its digest differs from "
        f"{ENGINE_FILE}'s): restore it, {FIX}",
    )
    without_wide_digest(copy)  # then every line is checked
    (copy / WIDE_VOCABULARY_FILE).write_bytes(b"[UNK]\ngood\n")
    result = run("predict", "--model", copy, "good")
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: {copy / WEIGHTS_FILE}: array 'wide.kernel' has shape (")
    assert f"but config.toml and the 2 n-grams of {WIDE_VOCABULARY_FILE} need (2, 1)" in result.output
    malformed = f"{copy / WIDE_VOCABULARY_FILE} is not a list of distinct n-grams, one a line, starting with '[UNK]': "
    for bad in (b"good\n[UNK]\n", b"[UNK]\ngood", b"[UNK]\ngood\ngood\n", b"[UNK]\n\xff\n", b""):
        (copy / WIDE_VOCABULARY_FILE).write_bytes(bad)
        assert_user_error(run("predict", "--model", copy, "good"), malformed + FIX)
    (copy / WIDE_VOCABULARY_FILE).write_bytes(lines)  # every line right again, no digest: answers
    assert run("predict", "--model", copy, "good").exit_code == 0


def test_a_directory_of_engine_format_2_reads_its_wide_vocabulary_json(models, tmp_path):
    old = shutil.copytree(models["gru"], tmp_path / "old")
    grams = (old / WIDE_VOCABULARY_FILE).read_text(encoding="utf-8").splitlines()
    (old / WIDE_VOCABULARY_FILE).unlink()
    (old / LEGACY_WIDE_VOCABULARY_FILE).write_text(json.dumps(grams), encoding="utf-8")
    without_wide_digest(old, format_version=2)
    expected = run("predict", "--model", models["gru"], "--json", "--file", "-", input=lines(*TEXTS))
    assert expected.exit_code == 0
    assert [{**row, "model": None} for row in json_rows(expected)] == [
        {**row, "model": None}
        for row in json_rows(run("predict", "--model", old, "--json", "--file", "-", input=lines(*TEXTS)))
    ]
    for bad in (["good", "[UNK]"], ["[UNK]", "good", "good"], ["[UNK]", "a\nb"], {"[UNK]": 0}):
        (old / LEGACY_WIDE_VOCABULARY_FILE).write_text(json.dumps(bad))
        assert_user_error(
            run("predict", "--model", old, "good"),
            f"{old / LEGACY_WIDE_VOCABULARY_FILE} is not a list of distinct n-grams starting with '[UNK]': {FIX}",
        )


def test_an_edited_ngrams_in_config_toml_is_refused(models, tmp_path):
    copy = shutil.copytree(models["gru"], tmp_path / "edited")
    config = (copy / CONFIG_FILE).read_text().replace("ngrams = 2", "ngrams = 1")
    (copy / CONFIG_FILE).write_text(config)
    result = run("predict", "--model", copy, "--engine", "keras", "good")
    assert result.exit_code == 1
    assert "the config says model.ngrams = 1 but the model has 2" in result.output


def test_train_predict_evaluate_inspect_export(tmp_path):
    data = write_csv(tmp_path / "tiny.csv", [(t, 1) for t in POSITIVE] + [(t, 0) for t in NEGATIVE])
    out = tmp_path / "model"
    sets = [f"--set={o}" for o in [*TINY_OVERRIDES, "model.kind=hybrid", "model.ngrams=2"]]
    result = run("train", "--data", data, "--out", out, "--quiet", *sets)
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"Saved model to {out}: validation accuracy ")
    assert json.loads((out / ENGINE_FILE).read_text())["kind"] == "hybrid"
    assert (out / WIDE_VOCABULARY_FILE).read_text().split("\n")[:1] == ["[UNK]"]
    texts = ["the battery is great", "the battery is terrible"]
    numpy_rows = [json.loads(line) for line in run("predict", "--model", out, "--json", *texts).stdout.splitlines()]
    keras = run("predict", "--model", out, "--json", "--engine", "keras", *texts)
    for mine, theirs in zip(numpy_rows, map(json.loads, keras.stdout.splitlines())):
        assert abs(mine["probability"] - theirs["probability"]) < 1e-5
    evaluation = run("evaluate", "--model", out, "--data", data, "--json")
    assert evaluation.exit_code == 0, evaluation.output
    assert json.loads(evaluation.output)["n"] == 12
    inspected = run("inspect", "--model", out)
    assert inspected.exit_code == 0, inspected.output
    assert "plus a wide branch of unigrams and bigrams (at most 100,000)" in inspected.output
    assert "  wide         Dense" in inspected.output  # the layers of weights.npz
    exported = tmp_path / "bundle"
    assert run("export", "--model", out, "--format", "numpy", "--out", exported).exit_code == 0
    assert (exported / WIDE_VOCABULARY_FILE).is_file()
    bundle = load_engine(exported).predict_proba(texts)
    # the export and its source: two paths (see PATHS_ATOL)
    np.testing.assert_allclose(bundle, [row["probability"] for row in numpy_rows], rtol=0, atol=PATHS_ATOL)


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        (
            "model.stateful=true",
            'Config sets model.stateful with model.kind = "hybrid": a hybrid is saved as its whole-text model only '
            "(predict --per-token and --stream give its views, carrying the n-grams seen beside the state). "
            'Set model.stateful = false or model.kind = "rnn".',
        ),
        (
            "data.streaming=true",
            'Config sets data.streaming with model.kind = "hybrid": the log-count ratios of its wide branch are '
            'counted over the training split in memory. Set data.streaming = false or model.kind = "rnn".',
        ),
    ],
)
def test_hybrid_config_errors(tmp_path, setting, message):
    result = run("train", "--out", tmp_path / "m", "--set", "model.kind=hybrid", "--set", setting)
    assert_user_error(result, message)
    assert not (tmp_path / "m").exists()
