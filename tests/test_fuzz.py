"""Fuzzing: damaged model directories (classifiers' and language models'), damaged resume state, arbitrary
option values, data lines (tables' and pretrain's one text a line) and server requests.

Every run must end in exit 0 with a valid answer, or exit 1 (2 for a usage
error) with one ``Error:`` line: never a traceback. The commands run in
process through CliRunner on one tiny model and one tiny language model
trained per run, so the whole module stays within about a minute and a half
on two cores.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import MODEL_DIRECTORY_FILES, NEGATIVE, POSITIVE, TINY_LM, TINY_OVERRIDES, write_csv
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


@settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", 60)),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
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


# ---------------------------------------------------------------- property-based fuzz (hypothesis)
# Over what a hostile user controls: a model directory's files (their type, size, kind and JSON shape), a
# language model directory's, data lines, and server requests. Each runs a few dozen examples (seconds), in CI.

SECRET = "hunter2-secret"  # in a file outside the model directory: it must never be shown
json_leaves = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12)
JSON_KEYS = ["format_version", "package_version", "data", "rows", "labels", "positive", "sources", "accuracy"]
JSON_KEYS += ["auc", "n", "test", "kind", "cell", "layers", "units", "vocabulary_sha256", "entries", "command"]
json_values = st.recursive(
    json_leaves,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(JSON_KEYS) | st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=16,
)
FUZZED_FILES = ["meta.json", "metrics.json", "engine.json", "vocabulary.json", "config.toml", "build.json"]
FUZZED_FILES += ["manifest.json", "weights.npz", "model.keras", "history.csv"]
file_changes = st.one_of(
    st.tuples(st.just("json"), json_values),  # a whole document of any shape
    st.tuples(st.just("patch"), st.sampled_from(JSON_KEYS), json_values),  # one key of the real document
    st.tuples(st.just("deep"), st.integers(65, 20_000)),  # nested deeper than the cap
    st.tuples(st.just("bytes"), st.binary(max_size=120)),
    st.tuples(st.just("large")),  # one byte over its kind's cap (a sparse file)
    st.tuples(st.sampled_from(["fifo", "directory", "symlink", "device", "missing"])),
)


def change_file(path: Path, change: tuple, outside: Path) -> None:
    """Make ``path`` (a file of a model directory) what ``change`` says."""
    from sentiment_rnn import safe_read

    kind = change[0]
    original = path.read_bytes() if path.is_file() else b"{}"
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)
    if kind == "json":
        path.write_text(json.dumps(change[1]))
    elif kind == "patch":
        try:
            document = json.loads(original)
        except ValueError:
            document = {}
        if isinstance(document, dict):
            document[change[1]] = change[2]
        path.write_text(json.dumps(document))
    elif kind == "deep":
        path.write_text("[" * change[1] + "]" * change[1])
    elif kind == "bytes":
        path.write_bytes(change[1])
    elif kind == "large":
        with path.open("wb") as handle:
            handle.truncate(safe_read.MODEL_JSON.max_bytes + 1)
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "directory":
        path.mkdir()
        (path / "notes.txt").write_text(SECRET)
    elif kind == "symlink":
        path.symlink_to(outside)
    elif kind == "device":
        path.symlink_to("/dev/zero")


@settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", 40)),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(name=st.sampled_from(FUZZED_FILES), change=file_changes)
def test_fuzz_model_directory_files(tiny_run, tmp_path_factory, name, change):
    root = tmp_path_factory.mktemp("fuzz-model")
    model = shutil.copytree(tiny_run.model_dir, root / "model")
    outside = root / "secret.json"
    outside.write_text(json.dumps({"accuracy": 0.5, "command": SECRET, "format_version": 1}))
    change_file(model / name, change, outside)
    for args in (["predict", "--model", str(model), "good phone"], ["inspect", "--model", str(model), "--json"]):
        result = CliRunner().invoke(cli, args)
        assert_answer_or_one_error(result)
        assert SECRET not in result.output
        if result.exit_code == 0 and args[0] == "inspect":
            json.loads(result.output, parse_constant=lambda constant: pytest.fail(f"{constant} in --json"))


# A language model directory (what `pretrain` writes): the same changes to its files, read by every command
# that reads one: guess (both engines), inspect, and the two --init-from (train's and pretrain's).
LM_FILES = [name for name in FUZZED_FILES if name != "build.json"]
LM_TEXT = "the phone ___ good"
CLASSIFIER_FROM_LM = ["model.cell=gru", "model.units=24", "model.output_dim=12", "tokenizer.max_tokens=64"]


@settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", 30)),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(name=st.sampled_from(LM_FILES), change=file_changes)
def test_fuzz_language_model_directory_files(tiny_lm, tmp_path_factory, name, change):
    from sentiment_rnn.config import load_config
    from sentiment_rnn.errors import SentimentError
    from sentiment_rnn.pretrained import open_language_model

    root = tmp_path_factory.mktemp("fuzz-lm")
    model = shutil.copytree(tiny_lm[0], root / "lm")
    outside = root / "secret.json"
    outside.write_text(json.dumps({"accuracy": 0.5, "command": SECRET, "format_version": 1}))
    (root / "one.txt").write_text("a single text\n")  # too little to pretrain on: pretrain stops once it is read
    change_file(model / name, change, outside)
    pretrain = ["pretrain", *(a for o in TINY_LM for a in ("--set", o)), "--data", str(root / "one.txt")]
    for args in (
        ["guess", "--model", str(model), "--json", LM_TEXT],
        ["guess", "--model", str(model), "--engine", "keras", "--json", LM_TEXT],
        ["inspect", "--model", str(model), "--json"],
        [*pretrain, "--init-from", str(model), "--out", str(root / "more")],
    ):
        result = CliRunner().invoke(cli, args)
        assert_answer_or_one_error(result)
        assert SECRET not in result.output and "sentiment-rnn train`" not in result.output
        if result.exit_code == 0:
            document = json.loads(result.output, parse_constant=lambda constant: pytest.fail(f"{constant} in --json"))
            if args[0] == "guess":
                assert [guess["word"] for guess in document["guesses"]] and all(
                    0.0 <= guess["probability"] <= 1.0 for guess in document["guesses"]
                )
        if args[0] == "pretrain":  # never trains: the language model is refused, or then the text is too little
            assert result.exit_code == 1, result.output
            assert str(model) in result.output or "one.txt holds 1 non-blank text(s)" in result.output, result.output
    config = load_config(overrides=[*CLASSIFIER_FROM_LM, f"model.init_from={str(model)!r}"])
    try:  # what train --init-from reads (its tokenizer's vocabulary, then its first layers' weights)
        engine = open_language_model(config)
    except SentimentError as exc:
        assert "\n" not in str(exc) and str(exc).endswith(".") and SECRET not in str(exc), str(exc)
    else:
        assert len(engine.vocabulary.tokens) <= 64 and engine.embedding.shape[1] == 12
    assert sorted(p.name for p in root.iterdir()) == ["lm", "one.txt", "secret.json"]  # nothing written beside


data_lines = st.lists(
    st.one_of(
        st.text(st.characters(exclude_categories=("Cs",)), max_size=30),
        st.sampled_from(
            [
                "text,label",
                "text\tlabel",
                '"a, b",1',
                '"never closed,1',
                '{"text": "good", "label": 1}',
                '{"text": ["x"], "label": {"y": 2}}',
                "[1, 2]",
                "[" * 70 + "]" * 70,
                "__label__1 good",
                "__label__0 __label__1 two labels",
                "1 good",
                "x" * 5000,
                '{"text": "ok", "label": ' + "9" * 5000 + "}",
            ]
        ),
        json_values.map(json.dumps),
    ),
    max_size=8,
)


@settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", 60)),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    lines=data_lines,
    tail=st.binary(max_size=12),
    fmt=st.sampled_from(["csv", "tsv", "jsonl", "fasttext", "label-text", "glue"]),
    encoding=st.sampled_from(["utf-8", "cp1252", "latin-1"]),
)
def test_fuzz_data_lines(tmp_path_factory, lines, tail, fmt, encoding):
    from sentiment_rnn.config import DataConfig
    from sentiment_rnn.data import read_dataset
    from sentiment_rnn.data.batches import read_batches
    from sentiment_rnn.errors import SentimentError

    path = tmp_path_factory.mktemp("fuzz-data") / f"data.{fmt}"
    path.write_bytes("\n".join(lines).encode("utf-8", "surrogatepass") + tail)
    readers = [
        lambda: read_dataset(path, format=fmt, encoding=encoding),
        lambda: list(read_batches(DataConfig(path=str(path), format=fmt, encoding=encoding), labelled=True)),
        lambda: list(read_batches(DataConfig(path=str(path), format=fmt, encoding=encoding), labelled=False)),
    ]
    for read in readers:
        try:
            read()
        except SentimentError as exc:
            assert "\n" not in str(exc) and str(exc).endswith("."), str(exc)


@settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", 60)),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    lines=data_lines,
    tail=st.binary(max_size=12),
    packing=st.sampled_from(["plain", "gzip", "gzip-cut", "not-gzip"]),
    encoding=st.sampled_from(["utf-8", "cp1252", "latin-1"]),
)
def test_fuzz_pretrain_lines(tmp_path_factory, lines, tail, packing, encoding):
    """pretrain's reader of one text a line, plain or .gz: the texts the lines hold, or one line saying why not."""
    import gzip

    from sentiment_rnn.data.imdb import HTML_BREAK
    from sentiment_rnn.data.unlabelled import TextFiles
    from sentiment_rnn.errors import SentimentError
    from sentiment_rnn.text import tokenize_py

    raw = "\n".join(lines).encode("utf-8", "surrogatepass") + tail
    packed = {"plain": raw, "gzip": gzip.compress(raw), "not-gzip": raw}.get(packing, gzip.compress(raw)[:-9])
    path = tmp_path_factory.mktemp("fuzz-lines") / ("texts.txt" if packing == "plain" else "texts.txt.gz")
    path.write_bytes(packed)
    try:  # what the file holds, read the obvious way: one text a line, blank lines skipped
        texts = [line.decode(encoding).strip() for line in raw.split(b"\n")]
        expected = [HTML_BREAK.sub(" ", text) for text in texts if text]
    except UnicodeDecodeError:
        expected = None
    files = TextFiles((str(path),), encoding=encoding)
    readers = {
        "texts": lambda: list(files.texts()),
        "tokens": lambda: [tokens for block in files.token_blocks() for tokens in block],
        "digest": files.digest,  # --resume's record of the input
    }
    readable = expected is not None and packing in ("plain", "gzip")
    for what, read in readers.items():
        try:
            found = read()
        except SentimentError as exc:
            assert "\n" not in str(exc) and str(exc).endswith("."), str(exc)
            assert not readable, f"{what}: {exc}"
            continue
        if what == "texts" and readable:
            assert found == expected
        elif what == "tokens" and readable:
            assert found == [tokenize_py(text) for text in expected]
        elif what == "digest":
            assert len(found) == 64


@pytest.fixture(scope="module")
def served(tiny_run):
    pytest.importorskip("starlette")
    from starlette.testclient import TestClient

    from sentiment_rnn.serve import create_app
    from sentiment_rnn.serve.api import Limits

    return TestClient(create_app(tiny_run.model_dir, limits=Limits(max_texts=5, max_bytes=20_000, max_tokens=300)))


request_bodies = st.one_of(
    st.binary(max_size=100),
    json_values.map(lambda value: json.dumps(value).encode()),
    st.fixed_dictionaries(
        {"texts": st.lists(st.text(max_size=200), max_size=7)},
        optional={"per_token": json_leaves, "threshold": json_leaves, "extra": json_leaves},
    ).map(lambda body: json.dumps(body).encode("utf-8", "surrogatepass")),
)


@settings(max_examples=int(os.environ.get("FUZZ_EXAMPLES", 60)), deadline=None)
@given(body=request_bodies)
def test_fuzz_server_requests(served, body):
    response = served.post("/predict", content=body, headers={"content-type": "application/json"})
    assert response.status_code in (200, 400, 413), response.text
    answer = json.loads(response.text, parse_constant=lambda constant: pytest.fail(f"{constant} in a response"))
    if response.status_code == 200:
        texts = json.loads(body)["texts"]
        assert len(answer["predictions"]) == len(texts)
        assert all(0.0 <= p["probability"] <= 1.0 for p in answer["predictions"])
    else:
        assert list(answer) == ["error"] and "\n" not in answer["error"]
    assert served.get("/healthz").status_code == 200


@pytest.fixture(scope="module")
def guessing(tiny_lm):
    """The tiny language model served alone, with limits that let a blank with a few words after it through."""
    pytest.importorskip("starlette")
    from starlette.testclient import TestClient

    from sentiment_rnn.serve import create_app
    from sentiment_rnn.serve.api import Limits

    return TestClient(create_app(tiny_lm[0], limits=Limits(max_texts=5, max_bytes=20_000, max_tokens=200_000)))


guess_texts = st.text(max_size=80) | st.builds("{} ___ {}".format, st.text(max_size=40), st.text(max_size=12))
guess_bodies = st.one_of(
    st.binary(max_size=100),
    json_values.map(lambda value: json.dumps(value).encode()),
    st.fixed_dictionaries(
        {"texts": st.lists(guess_texts, max_size=7)},
        optional={"k": json_leaves | st.integers(1, 100), "extra": json_leaves},
    ).map(lambda body: json.dumps(body).encode("utf-8", "surrogatepass")),
)


@settings(max_examples=int(os.environ.get("FUZZ_EXAMPLES", 60)), deadline=None)
@given(body=guess_bodies)
def test_fuzz_guess_requests(guessing, body):
    response = guessing.post("/guess", content=body, headers={"content-type": "application/json"})
    assert response.status_code in (200, 400, 413), response.text
    answer = json.loads(response.text, parse_constant=lambda constant: pytest.fail(f"{constant} in a response"))
    if response.status_code == 200:
        request = json.loads(body)
        assert len(answer["guesses"]) == len(request["texts"])
        for guessed in answer["guesses"]:
            assert 1 <= len(guessed["guesses"]) <= request.get("k", 5)
            assert all(0.0 <= g["probability"] <= 1.0 for g in guessed["guesses"])
    else:
        assert list(answer) == ["error"] and "\n" not in answer["error"]
    assert guessing.get("/healthz").status_code == 200
