"""Faults of the machine and the process: a full disk, a closed pipe, a config too large, NUL bytes, FIFOs."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import TINY_OVERRIDES, write_csv
from sentiment_rnn.cli import cli
from sentiment_rnn.config import load_config

ROOT = Path(__file__).resolve().parent.parent
TRAIN = ["--quiet", "--epochs", "1", *(arg for o in TINY_OVERRIDES for arg in ("--set", o))]


def no_space(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


@pytest.fixture
def data(tmp_path) -> Path:
    return write_csv(tmp_path / "d.csv", [("good phone", 1), ("bad phone", 0), ("great", 1), ("awful", 0)] * 3)


@pytest.mark.parametrize(
    "writer",
    [
        "sentiment_rnn.training.write.write_training_plot",  # the plot
        "sentiment_rnn.training.write.write_engine_files",  # the NumPy weights
        "sentiment_rnn.training.write.write_json",  # metrics, vocabulary, meta
    ],
)
def test_a_full_disk_while_saving_is_one_line_and_keeps_the_previous_model(
    tmp_path, data, tiny_run, monkeypatch, writer
):
    import shutil

    out = shutil.copytree(tiny_run.model_dir, tmp_path / "out")
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    if writer.endswith("write_engine_files"):
        import sentiment_rnn.artifact.engine_files as engine_files

        monkeypatch.setattr(engine_files, "write_engine_files", no_space)
    else:
        module, name = writer.rsplit(".", 1)
        monkeypatch.setattr(
            sys.modules[module] if module in sys.modules else __import__(module, fromlist=[name]), name, no_space
        )
    result = CliRunner().invoke(cli, ["train", "--data", str(data), "--out", str(out), *TRAIN])
    assert isinstance(result.exception, SystemExit), result.exception
    assert (result.exit_code, result.output) == (
        1,
        f"Error: Cannot write {out}: the disk is full (no space left on device); {out} was not changed; "
        "free some space or choose another --out.\n",
    )
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    # No staging directory or lock left; the finished epoch stays backed up, so --resume can finish it.
    assert sorted(p.name for p in tmp_path.iterdir()) == [".out.backup", "d.csv", "out"]


def test_a_full_disk_for_predict_output_is_one_line(tiny_run, tmp_path):
    texts = tmp_path / "texts.txt"
    texts.write_text("good phone\n" * 50)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with open("/dev/full", "w") as full:
        run = subprocess.run(
            [
                sys.executable,
                "-m",
                "sentiment_rnn",
                "predict",
                "--model",
                str(tiny_run.model_dir),
                "--file",
                str(texts),
            ],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            timeout=120,
        )
    assert (run.returncode, run.stderr) == (
        1,
        "Error: Cannot write the output (No space left on device): free some space or write it elsewhere.\n",
    )


def test_a_closed_pipe_ends_quietly(tiny_run, tmp_path):
    texts = tmp_path / "big.txt"
    texts.write_text("good phone\n" * 200_000)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [
        sys.executable,
        "-m",
        "sentiment_rnn",
        "predict",
        "--model",
        str(tiny_run.model_dir),
        "--file",
        str(texts),
    ]
    producer = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    first = producer.stdout.readline()  # as `head -1` does: one line, then the pipe is closed
    producer.stdout.close()
    _, stderr = producer.communicate(timeout=300)
    assert first.startswith(b"positive") or first.startswith(b"negative")
    assert (producer.returncode, stderr) == (1, b"")


def test_a_config_too_large_is_refused_with_the_numbers_before_building(monkeypatch, data, tmp_path):
    pages = {"SC_AVPHYS_PAGES": 262_144, "SC_PAGE_SIZE": 4096}  # 1 GiB free
    monkeypatch.setattr(os, "sysconf", lambda name: pages[name])
    args = ["train", "--data", str(data), "--out", str(tmp_path / "m"), "--set", "model.units=100000", "--quiet"]
    result = CliRunner().invoke(cli, args)
    assert (result.exit_code, result.output) == (
        1,
        "Error: This config needs 10,007,880,001 parameters (model.units = 100000, model.output_dim = 64, "
        "model.layers = 1, tokenizer.max_tokens = 20000): about 149.1 GiB to train, but 1.0 GiB of memory "
        "is free; lower those keys.\n",
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.csv"]


def test_a_nul_byte_in_an_argument_is_one_line():
    result = CliRunner().invoke(cli, ["predict", "--model", "a\0b", "good"])
    assert (result.exit_code, result.output) == (
        1,
        "Error: An argument holds a NUL byte (\\0), which no path or option can: remove it.\n",
    )


def test_imdb_directories_read_regular_files_inside_the_tree_only(tmp_path):
    from sentiment_rnn.config import load_config
    from sentiment_rnn.training.pipeline import load_training_data

    root = tmp_path / "aclImdb"
    for label, text in (("pos", "a great film"), ("neg", "an awful film")):
        (root / "train" / label).mkdir(parents=True)
        (root / "train" / label / "0_9.txt").write_text(text)
    outside = tmp_path / "secret.txt"
    outside.write_text("root:x:0:0")
    (root / "train" / "pos" / "passwd.txt").symlink_to(outside)
    os.mkfifo(root / "train" / "neg" / "fifo.txt")  # reading it would block forever
    (root / "train" / "pos" / "linked").symlink_to(tmp_path, target_is_directory=True)
    config = load_config(overrides=[f"data.path={str(root)!r}", "data.split='train'"])
    dataset = load_training_data(config)
    assert sorted(dataset.texts) == ["a great film", "an awful film"]


def test_a_very_long_text_is_cut_for_training_and_the_warning_shows_without_a_terminal(tmp_path):
    rows = [("a fine phone", 1), ("an awful phone", 0)] * 6 + [("good " * 200_000, 1)]  # a 1 MB text
    data = write_csv(tmp_path / "long.csv", rows)
    args = ["train", "--data", str(data), "--out", str(tmp_path / "m"), "--epochs", "1", "--set", "model.units=4"]
    result = CliRunner().invoke(cli, [*args, "--set", "model.output_dim=4"])  # stderr is no terminal here
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if not line.startswith("Warning: validation AUC")]
    warning, saved = lines  # (a 4-unit model on 12 rows may also be told it learned little)
    assert warning == (
        "Warning: 1 text is longer than 10,000 tokens (the longest has 200,000, the median text about 3 words): "
        "training reads the first 10,000 tokens of each, and every batch holding one is padded to that length, "
        "which is slow; choose the cap with --set tokenizer.output_sequence_length=100."
    )
    assert saved.startswith(f"Saved model to {tmp_path / 'm'}: ")
    quiet = CliRunner().invoke(cli, [*args, "--set", "model.output_dim=4", "--quiet", "--out", str(tmp_path / "q")])
    assert quiet.exit_code == 0 and quiet.output.startswith(f"Saved model to {tmp_path / 'q'}: "), quiet.output


def test_training_texts_are_cut_to_the_cap_in_tokens():
    from sentiment_rnn.budget import cap_training_texts
    from sentiment_rnn.text import tokenize_py

    texts = ["short text", "a,b;c " * 10, "x" * 50]
    capped, cut, longest = cap_training_texts(texts, 8)
    assert (cut, longest) == (1, 50)
    assert capped[0] == "short text" and capped[2] == "x" * 50  # one token of 50 characters: not cut
    assert tokenize_py(capped[1]) == tokenize_py(texts[1])[:8]


@pytest.mark.parametrize("kind", ["bow", "hybrid"])
def test_the_token_cap_cuts_token_ids_never_a_multi_hot_row(tmp_path, data, monkeypatch, kind):
    """A multi-hot row (B, V) is as wide as its vocabulary: cutting it to the cap broke every bag of words
    and hybrid whose vocabulary is wider than the cap (SST-5's hybrid: 99,840 n-grams against 10,000)."""
    from sentiment_rnn.training.run import train

    monkeypatch.setattr("sentiment_rnn.budget.MAX_TRAINING_TOKENS", 2)  # narrower than every vocabulary
    overrides = [*TINY_OVERRIDES, f"data.path={str(data)!r}", f"model.kind={kind!r}", "model.ngrams=2"]
    result = train(load_config(overrides=overrides), tmp_path / "m", verbose=0, quiet=True)
    assert result.epochs_run == 2


def one_line_error(result) -> str:
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == 1 and result.output.count("\n") == 1, result.output
    return result.output


@pytest.mark.parametrize("name", ["meta.json", "metrics.json", "vocabulary.json", "config.toml"])
def test_a_fifo_in_a_model_directory_is_refused_never_waited_on(tiny_run, tmp_path, name):
    import shutil

    model = shutil.copytree(tiny_run.model_dir, tmp_path / "model")
    (model / name).unlink()
    os.mkfifo(model / name)
    commands = [["inspect", "--model", str(model)]]
    if name != "metrics.json":  # predict does not read metrics.json
        commands.append(["predict", "--model", str(model), "good"])
    for args in commands:
        output = one_line_error(CliRunner().invoke(cli, args))
        assert output.startswith(f"Error: {model / name} is a FIFO (named pipe), not a regular file: "), output


@pytest.mark.parametrize("name", ["meta.json", "metrics.json", "vocabulary.json"])
@pytest.mark.parametrize("device", ["/dev/urandom", "/dev/zero"])
def test_a_device_linked_into_a_model_directory_is_refused(tiny_run, tmp_path, device, name):
    import shutil

    model = shutil.copytree(tiny_run.model_dir, tmp_path / "model")
    (model / name).unlink()
    (model / name).symlink_to(device)
    fix = "retrain the model with `sentiment-rnn train`, or pass --engine keras" if name == "vocabulary.json" else None
    commands = [["inspect", "--model", str(model)]]
    if name != "metrics.json":  # predict does not read metrics.json
        commands.append(["predict", "--model", str(model), "good"])
    for args in commands:
        assert one_line_error(CliRunner().invoke(cli, args)) == (
            f"Error: {model / name} is a symlink, and no link is followed inside a model directory: "
            f"{fix or 'the directory is corrupt; retrain the model'}.\n"
        )


def test_a_fifo_or_device_as_config_or_data_is_named_for_what_it_is(tmp_path, data):
    os.mkfifo(tmp_path / "config.toml")
    output = one_line_error(CliRunner().invoke(cli, ["train", "--config", str(tmp_path / "config.toml")]))
    assert output == (
        f"Error: {tmp_path / 'config.toml'} is a FIFO (named pipe), not a regular file: pass a readable UTF-8 "
        "TOML file to --config.\n"
    )
    output = one_line_error(CliRunner().invoke(cli, ["train", "--config", "/dev/urandom"]))
    assert (
        output == "Error: /dev/urandom is a device, not a regular file: pass a readable UTF-8 TOML file to --config.\n"
    )
    os.mkfifo(tmp_path / "fifo.csv")
    output = one_line_error(CliRunner().invoke(cli, ["train", "--data", str(tmp_path / "fifo.csv")]))
    assert (
        output
        == f"Error: Data path {tmp_path / 'fifo.csv'} is a FIFO (named pipe), not a regular file: pass a csv file.\n"
    )
    output = one_line_error(CliRunner().invoke(cli, ["train", "--data", "/dev/zero", "--format", "csv"]))
    assert output == "Error: Data path /dev/zero is a device, not a regular file: pass a csv file.\n"


def test_predict_file_refuses_a_device_and_a_line_that_never_ends(tiny_run, tmp_path):
    model = str(tiny_run.model_dir)
    output = one_line_error(CliRunner().invoke(cli, ["predict", "--model", model, "--file", "/dev/zero"]))
    assert output == (
        "Error: Cannot read --file /dev/zero: it is a device, not a file of texts; pass a file, or - for standard "
        "input.\n"
    )
    endless = tmp_path / "endless.txt"
    endless.write_bytes(b"good phone\n" + b"a" * (16 * 1024 * 1024 + 10))
    output = one_line_error(CliRunner().invoke(cli, ["predict", "--model", model, "--file", str(endless)]))
    assert output == (
        f"Error: {endless}, line 2 is longer than 16,777,216 characters: predict reads one text a line; split it, "
        "or read one long document with --stream.\n"
    )


def test_a_tar_member_too_large_is_refused_from_its_header(tmp_path):
    import gzip
    import io
    import tarfile

    from sentiment_rnn.errors import SentimentError
    from sentiment_rnn.training.pipeline import load_training_data

    info = tarfile.TarInfo("aclImdb/train/pos/0_9.txt")
    info.size = 1 << 30  # claims 1 GiB; the data is never read
    buffer = io.BytesIO()
    buffer.write(info.tobuf(format=tarfile.GNU_FORMAT))
    (tmp_path / "imdb.tar.gz").write_bytes(gzip.compress(buffer.getvalue() + b"\0" * 4096))
    config = load_config(overrides=[f"data.path={str(tmp_path / 'imdb.tar.gz')!r}", "data.split='train'"])
    with pytest.raises(SentimentError) as refused:
        load_training_data(config)
    assert str(refused.value) == (
        f"{tmp_path / 'imdb.tar.gz'}: aclImdb/train/pos/0_9.txt is 1,073,741,824 bytes, more than the 16 MiB a "
        "review may hold: remove it from the archive."
    )


@pytest.mark.parametrize(
    "override, message",
    [
        ("model.layers=100000", "Config key model.layers must be at most 64, got 100000."),
        ("train.seed=4294967296", "Config key train.seed must be from 0 to 4294967295, got 4294967296."),
        ("train.learning_rate=inf", "Config key train.learning_rate in --set must be a finite number, got inf."),
    ],
)
def test_config_values_that_cost_memory_or_overflow_are_refused_with_one_line(data, tmp_path, override, message):
    args = ["train", "--data", str(data), "--out", str(tmp_path / "m"), "--set", override]
    assert one_line_error(CliRunner().invoke(cli, args)) == f"Error: {message}\n"
    assert one_line_error(CliRunner().invoke(cli, ["train", "--seed", "4294967296", "--out", str(tmp_path / "m")]))


def test_a_sequence_length_that_does_not_fit_is_refused_before_building(data, tmp_path, monkeypatch):
    pages = {"SC_AVPHYS_PAGES": 262_144, "SC_PAGE_SIZE": 4096}  # 1 GiB free
    monkeypatch.setattr(os, "sysconf", lambda name: pages[name])
    args = ["train", "--data", str(data), "--out", str(tmp_path / "m"), "--quiet"]
    result = CliRunner().invoke(cli, [*args, "--set", "tokenizer.output_sequence_length=1000000000"])
    assert one_line_error(result) == (
        "Error: This config needs 1,288,321 parameters (model.units = 64, model.output_dim = 64, model.layers = 1, "
        "tokenizer.max_tokens = 20000) and batches of 32 texts of 1,000,000,000 tokens (train.batch_size, "
        "tokenizer.output_sequence_length): about 45,776.4 GiB to train, but 1.0 GiB of memory is free; lower those "
        "keys.\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.csv"]


def strict_json(line: str):
    """``json.loads`` as RFC 8259 has it: NaN and Infinity are not JSON."""
    import json

    def refuse(constant):
        raise ValueError(f"{constant} is not JSON")

    return json.loads(line, parse_constant=refuse)


@pytest.mark.parametrize("encoding", ["utf-8", "cp1252", "ascii"])
def test_json_is_valid_and_text_is_printed_whatever_the_input_bytes_and_stdout_encoding(tiny_run, encoding):
    # (an empty text is refused in one line: tests/test_cli.py)
    texts = [b"good phone", "\U0001f600 caf\u00e9 \u4e2d\u6587".encode(), b"bad \xff\xfe screen", b"a good screen"]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONIOENCODING": encoding}
    base = [sys.executable, "-m", "sentiment_rnn", "predict", "--model", str(tiny_run.model_dir)]
    for extra in (["--json"], ["--json", "--oov"], []):
        run = subprocess.run([*base, *extra, *texts], capture_output=True, env=env, timeout=120)
        assert run.returncode == 0, run.stderr
        warnings = run.stderr.decode(encoding).splitlines()  # the emoji and Chinese words are unknown: said once
        assert warnings == [
            "Warning: 1 of 4 texts has most of its words outside the model's vocabulary (read as [UNK]), "
            "so its answer says little (--json gives each text's oov_rate); a model trained on such text "
            "(its language, its domain) would know them."
        ], run.stderr
        lines = run.stdout.decode(encoding).splitlines()
        assert len(lines) == len(texts)
        if extra:
            answers = [strict_json(line) for line in lines]
            assert [a["label"] in ("positive", "negative") for a in answers] == [True] * len(texts)
            assert answers[1]["text"] == "\U0001f600 caf\u00e9 \u4e2d\u6587"
            assert answers[2]["text"] == "bad \udcff\udcfe screen"  # undecodable bytes, escaped as JSON allows


def test_inspect_json_holds_no_nan_even_when_a_metric_is_not_a_number(tiny_run, tmp_path):
    import json
    import shutil

    model = shutil.copytree(tiny_run.model_dir, tmp_path / "model")
    metrics = json.loads((model / "metrics.json").read_text())
    (model / "metrics.json").write_text(json.dumps({**metrics, "auc": float("nan")}))  # as Python writes NaN
    result = CliRunner().invoke(cli, ["inspect", "--model", str(model), "--json"])
    assert result.exit_code == 0, result.output
    assert strict_json(result.output)["metrics"]["auc"] is None


@pytest.mark.parametrize(
    "name, content, problem",
    [
        ("meta.json", "[" * 100_000 + "]" * 100_000, "is unreadable (nested deeper than 64 levels)"),
        (
            "meta.json",
            '{"format_version": 1, "package_version": "0.1", "data": {"rows": "many"}}',
            "is damaged (data.rows is a string, expected an integer)",
        ),
        ("metrics.json", '{"accuracy": "high"}', "is damaged (accuracy is a string, expected a number)"),
        ("metrics.json", "[1, 2]", "is damaged (the document is a list, expected an object)"),
        ("build.json", '{"wall_seconds": [1]}', "is damaged (wall_seconds is a list, expected a number)"),
    ],
    ids=["deep-meta", "meta-type", "metrics-type", "metrics-list", "build-type"],
)
def test_wrong_json_in_a_model_directory_is_one_line_under_inspect(tiny_run, tmp_path, name, content, problem):
    import shutil

    model = shutil.copytree(tiny_run.model_dir, tmp_path / "model")
    (model / name).write_text(content)
    output = one_line_error(CliRunner().invoke(cli, ["inspect", "--model", str(model)]))
    assert output.startswith(f"Error: {model / name} {problem}: "), output


@pytest.mark.parametrize("streaming", [False, True], ids=["in-memory", "streaming"])
@pytest.mark.parametrize(
    "line, message",
    [
        ('[["a"], 1]', "line 3: not a JSON object; write one JSON object per line."),
        (
            '{"text": ' + "[" * 5000 + "]" * 5000 + ', "label": 1}',
            "line 3: not valid JSON (nested deeper than 64 levels); write one JSON object per line.",
        ),
        (
            '{"text": "fine", "label": ' + "1" * 5000 + "}",
            "line 3: not valid JSON (a number of over 4,300 digits); write one JSON object per line.",
        ),
    ],
    ids=["array", "deep", "long-number"],
)
def test_json_lines_that_are_no_records_are_one_line(tmp_path, streaming, line, message):
    path = tmp_path / "d.jsonl"
    good = '{"text": "good phone", "label": 1}\n{"text": "bad phone", "label": 0}\n'
    path.write_text(good + line + "\n" + good * 3)
    args = ["train", "--data", str(path), "--out", str(tmp_path / "m"), "--quiet"]
    if streaming:
        args += ["--set", "data.streaming=true"]
    output = one_line_error(CliRunner().invoke(cli, args))
    if streaming:  # the stream names the line, as the in-memory reader does, in its own words
        assert output == f"Error: {path}, line 3 is not valid JSON Lines: one JSON object per line.\n"
    else:
        assert output == f"Error: {path}, {message}\n"


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-32", "punycode", "undefined", "idna"])
def test_encodings_that_do_not_keep_ascii_are_refused_with_one_line(data, tmp_path, encoding):
    import codecs

    args = ["train", "--data", str(data), "--out", str(tmp_path / "m"), "--encoding", encoding]
    assert one_line_error(CliRunner().invoke(cli, args)) == (
        f"Error: {encoding!r} ({codecs.lookup(encoding).name}) does not keep ASCII text as ASCII bytes, which the "
        "readers need to find lines and columns: convert the file to UTF-8 (e.g. iconv -f utf-16 -t utf-8) and "
        "pass --encoding utf-8.\n"
    )
