"""The bad-input table in docs/errors.md, row by row, and arbitrary text into predict.

Each row of the table names a case, the command and its exact output and exit
code. The test builds the case's files in an empty directory, runs the command
there through the CLI and compares: the docs are the expected values, so they
cannot drift from the code.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import write_csv
from sentiment_rnn.cli import cli

DOC = Path(__file__).resolve().parent.parent / "docs" / "errors.md"
GOOD_ROWS = [("good phone", 1), ("bad phone", 0), ("great screen", 1), ("awful screen", 0)]


@dataclass(frozen=True)
class Row:
    case: str
    command: str
    output: str
    exit_code: int


def documented_rows() -> list[Row]:
    """The rows of every table in docs/errors.md whose first cell is a `case`."""
    rows = []
    for line in DOC.read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 5 and re.fullmatch(r"`[a-z0-9-]+`", cells[0]):
            case, _, command, output, exit_code = cells
            assert command.startswith("`") and command.endswith("`"), line
            assert output.startswith("``") and output.endswith("``"), line
            rows.append(Row(case.strip("`"), command.strip("`"), output[2:-2].strip(), int(exit_code)))
    return rows


def copy_model(name: str):
    """A case that copies the session's trained model to ``name`` and lets ``change`` damage it."""

    def decorate(change):
        def setup(cwd: Path, request) -> None:
            shutil.copytree(request.getfixturevalue("model_dir"), cwd / name)
            change(cwd / name)

        return setup

    return decorate


def copy_language_model(name: str):
    """A case that copies the session's tiny language model (``tiny_lm``) to ``name`` and lets ``change`` damage it."""

    def decorate(change):
        def setup(cwd: Path, request) -> None:
            shutil.copytree(request.getfixturevalue("tiny_lm")[0], cwd / name)
            change(cwd / name)

        return setup

    return decorate


def _swap_two_lm_tokens(directory: Path) -> None:
    tokens = json.loads((directory / "vocabulary.json").read_text())
    tokens[2], tokens[3] = tokens[3], tokens[2]
    (directory / "vocabulary.json").write_text(json.dumps(tokens))


def with_model_and_language_model(cwd: Path, request) -> None:
    """The session's trained classifier as ``model`` and its tiny language model as ``lm``."""
    shutil.copytree(request.getfixturevalue("model_dir"), cwd / "model")
    shutil.copytree(request.getfixturevalue("tiny_lm")[0], cwd / "lm")


def with_model(setup):
    def with_model_copy(cwd: Path, request) -> None:
        shutil.copytree(request.getfixturevalue("model_dir"), cwd / "model")
        setup(cwd)

    return with_model_copy


def _newer(directory: Path) -> None:
    meta = json.loads((directory / "meta.json").read_text())
    meta.update(format_version=meta["format_version"] + 1, package_version="9.0.0")
    (directory / "meta.json").write_text(json.dumps(meta))


def _truncate(directory: Path) -> None:
    data = (directory / "model.keras").read_bytes()
    (directory / "model.keras").write_bytes(data[: len(data) // 2])


def _edit_units(directory: Path) -> None:
    config = (directory / "config.toml").read_text()
    assert "\nunits = 64\n" in config
    (directory / "config.toml").write_text(config.replace("\nunits = 64\n", "\nunits = 32\n"))


def _truncate_weights(directory: Path) -> None:
    data = (directory / "weights.npz").read_bytes()
    (directory / "weights.npz").write_bytes(data[: len(data) // 2])


def _bidirectional_model(cwd: Path) -> None:
    from model_factory import randomized_model, write_model_dir

    write_model_dir(*randomized_model("model.bidirectional=true"), cwd / "bidir")
    (cwd / "long.txt").write_text("good " * 100)


def bundled_models(holding_a_model: bool):
    """A case whose bundled models' directory is ``bundled/`` in the cwd: empty, or holding a copy of the model."""

    def setup(cwd: Path, request) -> None:
        from sentiment_rnn import bundled

        (cwd / "bundled").mkdir()
        if holding_a_model:
            shutil.copytree(request.getfixturevalue("model_dir"), cwd / "bundled" / "reviews-en")
        request.getfixturevalue("monkeypatch").setattr(bundled, "bundled_root", lambda: cwd / "bundled")

    return setup


def _ensemble_missing_a_member(cwd: Path, request) -> None:
    """An ensemble of two whose second member was deleted: the session's model as member 1."""
    model = request.getfixturevalue("model_dir")
    shutil.copytree(model, cwd / "ensemble" / "members" / "1")
    shutil.copy(model / "meta.json", cwd / "ensemble" / "meta.json")
    config = (model / "config.toml").read_text()
    assert "\nensemble = 1\n" in config
    (cwd / "ensemble" / "config.toml").write_text(config.replace("\nensemble = 1\n", "\nensemble = 2\n"))


THREE_ROWS = [("good", "positive"), ("bad", "negative"), ("ok", "neutral")] * 2


def _three_class_model(cwd: Path) -> None:
    """A model of the classes negative, neutral, positive (random weights) in ``three``."""
    from model_factory import randomized_model, write_model_dir

    write_model_dir(*randomized_model('data.labels="negative,neutral,positive"'), cwd / "three")


def _report_with_a_foreign_file(cwd: Path) -> None:
    """``report/``: an earlier report's marker and page, and a file of the user's."""
    write_csv(cwd / "good.csv", GOOD_ROWS)
    (cwd / "report").mkdir()
    (cwd / "report" / "report.json").write_text('{"report_format": 1}')
    (cwd / "report" / "index.html").write_text("<!DOCTYPE html>")
    (cwd / "report" / "notes.txt").write_text("mine")


def _model_reading_reviews(cwd: Path) -> None:
    """``review-model``: the session's model, as if trained on a file whose text column is ``review``."""
    write_csv(cwd / "good.csv", GOOD_ROWS)
    shutil.copytree(cwd / "model", cwd / "review-model")
    config = (cwd / "review-model" / "config.toml").read_text()
    assert 'text_column = "text"' in config
    (cwd / "review-model" / "config.toml").write_text(config.replace('text_column = "text"', 'text_column = "review"'))


def _lambda_model(directory: Path) -> None:
    from sentiment_rnn.tf_setup import import_keras

    keras = import_keras()
    model = keras.Sequential([keras.Input(shape=(1,)), keras.layers.Lambda(lambda x: x * 2)])
    model.save(directory / "model.keras")


SETUPS = {
    "missing-path": lambda cwd: None,
    "directory": lambda cwd: (cwd / "folder.csv").mkdir(),
    "empty-file": lambda cwd: (cwd / "empty.csv").write_bytes(b""),
    "header-only": lambda cwd: (cwd / "header.csv").write_text("text,label\n"),
    "no-text-column": lambda cwd: write_csv(cwd / "reviews.csv", GOOD_ROWS, header=("review", "label")),
    "no-label-column": lambda cwd: write_csv(cwd / "stars.csv", GOOD_ROWS, header=("text", "stars")),
    "unknown-label": lambda cwd: write_csv(cwd / "labels.csv", [("good", 1), ("bad", 0), ("meh", 3)]),
    "missing-label": lambda cwd: (cwd / "short.csv").write_text("text,label\ngood,1\nbad\n"),
    "single-class": lambda cwd: write_csv(cwd / "positive.csv", [("good", 1), ("great", 1), ("fine", 1)]),
    "empty-text-refused": lambda cwd: write_csv(cwd / "blanks.csv", [("good", 1), ("", 0), ("bad", 0)]),
    "all-texts-empty": lambda cwd: write_csv(cwd / "blank.csv", [("", 1), ("  ", 0), ("\t", 1)]),
    "undecodable": lambda cwd: (cwd / "latin1.csv").write_bytes(b"text,label\ncaf\xe9,1\nbad,0\n"),
    "unknown-encoding": lambda cwd: write_csv(cwd / "good.csv", GOOD_ROWS),
    "ragged": lambda cwd: (cwd / "ragged.csv").write_text("text,label\ngood,1\nbad, really bad,0,x\n"),
    "one-50mb-line": lambda cwd: (cwd / "oneline.csv").write_bytes(b"a" * 50_000_000),
    "unknown-suffix": lambda cwd: (cwd / "reviews.txt").write_text("text,label\ngood,1\n"),
    "broken-jsonl": lambda cwd: (cwd / "broken.jsonl").write_text('{"text": "good", "label": 1}\n{"text": oops\n'),
    "unknown-key-file": lambda cwd: (cwd / "unknown.toml").write_text("[train]\nepoch = 3\n"),
    "unknown-key-set": lambda cwd: None,
    "unknown-section": lambda cwd: None,
    "wrong-type-file": lambda cwd: (cwd / "typo.toml").write_text('[train]\nepochs = "ten"\n'),
    "wrong-type-set": lambda cwd: None,
    "out-of-range": lambda cwd: None,
    "bad-override": lambda cwd: None,
    "invalid-toml": lambda cwd: (cwd / "broken.toml").write_text("[train\nepochs = 3\n"),
    "missing-config": lambda cwd: None,
    "hybrid-stateful": lambda cwd: None,
    "hybrid-streaming": lambda cwd: None,
    "tune-out-is-a-directory": lambda cwd: (cwd / "results").mkdir(),
    "source-unknown-key": lambda cwd: (cwd / "sources.toml").write_text(
        '[[data.sources]]\npath = "a.csv"\nstreaming = true\n'
    ),
    "source-and-path": lambda cwd: (cwd / "both.toml").write_text(
        '[data]\npath = "a.csv"\n[[data.sources]]\npath = "b.csv"\n'
    ),
    "source-without-data": lambda cwd: (cwd / "nodata.toml").write_text('[[data.sources]]\nformat = "csv"\n'),
    "out-is-a-file": lambda cwd: (write_csv(cwd / "good.csv", GOOD_ROWS), (cwd / "notes.txt").write_text("x")),
    "nothing-to-resume": lambda cwd: write_csv(cwd / "good.csv", GOOD_ROWS),
    "out-is-cwd": lambda cwd: write_csv(cwd / "good.csv", GOOD_ROWS),
    "model-missing": lambda cwd: None,
    "model-empty": lambda cwd: (cwd / "empty").mkdir(),
    "model-is-a-file": lambda cwd: (cwd / "model.txt").write_text("x"),
    "newer-format": copy_model("newer")(_newer),
    "corrupt-meta": copy_model("corrupt")(lambda d: (d / "meta.json").write_text("not json")),
    "model-file-missing": copy_model("incomplete")(lambda d: (d / "model.keras").unlink()),
    "truncated-model": copy_model("truncated")(_truncate),
    "config-mismatch": copy_model("edited")(_edit_units),
    "code-in-model": copy_model("lambda")(_lambda_model),
    "weights-missing": copy_model("old")(lambda d: (d / "weights.npz").unlink()),
    "truncated-weights": copy_model("cut")(_truncate_weights),
    "config-mismatch-weights": copy_model("edited")(_edit_units),
    "stream-bidirectional": _bidirectional_model,
    "no-text": with_model(lambda cwd: None),
    "text-file-undecodable": with_model(lambda cwd: (cwd / "latin1.txt").write_bytes(b"caf\xe9\n")),
    "threshold-out-of-range": with_model(lambda cwd: None),
    "not-a-text-encoding": lambda cwd: write_csv(cwd / "good.csv", GOOD_ROWS),
    "utf16-bom": lambda cwd: (cwd / "utf16.csv").write_bytes("text,label\ngood,1\nbad,0\n".encode("utf-16")),
    "data-symlink-loop": lambda cwd: (cwd / "loop.csv").symlink_to("loop.csv"),
    "nul-in-config": lambda cwd: (cwd / "nul.toml").write_text('[data]\npath = "a\\u0000b"\n'),
    "out-not-a-model": lambda cwd: (
        write_csv(cwd / "good.csv", GOOD_ROWS),
        (cwd / "mydata").mkdir(),
        (cwd / "mydata" / "notes.txt").write_text("mine"),
    ),
    "out-refused-before-data": lambda cwd: (
        os.mkfifo(cwd / "fifo.csv"),
        (cwd / "mydata").mkdir(),
        (cwd / "mydata" / "notes.txt").write_text("mine"),
    ),
    "resume-bucketing": lambda cwd: write_csv(cwd / "good.csv", GOOD_ROWS),
    "damaged-resume-state": lambda cwd: (
        write_csv(cwd / "good.csv", GOOD_ROWS),
        (cwd / ".sentiment-model.backup").mkdir(),
        (cwd / ".sentiment-model.backup" / "run.json").write_text("{"),
    ),
    "vocabulary-not-a-list": copy_model("vocab")(lambda d: (d / "vocabulary.json").write_text('{"good": 2}')),
    "text-file-missing": with_model(lambda cwd: None),
    "text-file-empty": with_model(lambda cwd: (cwd / "empty.txt").write_bytes(b"")),
    "output-suffix": with_model(lambda cwd: write_csv(cwd / "reviews.csv", GOOD_ROWS)),
    "output-directory-missing": with_model(lambda cwd: write_csv(cwd / "reviews.csv", GOOD_ROWS)),
    "output-without-data": with_model(lambda cwd: None),
    "data-and-texts": with_model(lambda cwd: write_csv(cwd / "reviews.csv", GOOD_ROWS)),
    "data-ragged": with_model(lambda cwd: (cwd / "ragged.csv").write_text("text,label\ngood,1\nbad, really bad,0,x\n")),
    "serve-model-missing": lambda cwd: None,
    "serve-bow-model-is-rnn": with_model(lambda cwd: None),
    "serve-lm-model-is-a-classifier": with_model(lambda cwd: None),
    "serve-bow-beside-a-language-model": with_model_and_language_model,
    "plot-no-history": copy_model("old")(lambda d: (d / "history.csv").unlink()),
    "plot-not-png": with_model(lambda cwd: None),
    "bundled-missing": bundled_models(holding_a_model=False),
    "plot-bundled": bundled_models(holding_a_model=True),
    "mapping-one-side": lambda cwd: write_csv(cwd / "good.csv", GOOD_ROWS),
    "mapping-overlap": lambda cwd: write_csv(cwd / "good.csv", GOOD_ROWS),
    "mapping-matches-nothing": lambda cwd: write_csv(cwd / "good.csv", GOOD_ROWS),
    "test-split-and-file": lambda cwd: write_csv(cwd / "good.csv", GOOD_ROWS),
    "test-data-missing": lambda cwd: write_csv(cwd / "good.csv", GOOD_ROWS),
    "ensemble-streaming": lambda cwd: None,
    "ema-distributed": lambda cwd: None,
    "resume-ensemble": lambda cwd: write_csv(cwd / "good.csv", GOOD_ROWS),
    "ensemble-member-missing": _ensemble_missing_a_member,
    "pretrain-too-little-text": lambda cwd: (cwd / "few.txt").write_text("one text\n"),
    "pretrain-too-short-for-a-batch": lambda cwd: (cwd / "short.txt").write_text("good phone\n" * 100),
    "pretrain-not-lm": lambda cwd: (cwd / "few.txt").write_text("one text\n"),
    "guess-not-lm": with_model(lambda cwd: None),
    "predict-language-model": copy_language_model("lm")(lambda d: None),
    "init-from-classifier": with_model(lambda cwd: write_csv(cwd / "good.csv", GOOD_ROWS)),
    "init-from-bow": lambda cwd: None,
    "lm-bidirectional": lambda cwd: None,
    "lm-weights-damaged": copy_language_model("lm")(_truncate_weights),
    "lm-model-damaged": copy_language_model("lm")(_truncate),
    "lm-vocabulary-swapped": copy_language_model("lm")(_swap_two_lm_tokens),
    "labels-empty-class": lambda cwd: write_csv(cwd / "good.csv", GOOD_ROWS),
    "labels-twice": lambda cwd: write_csv(cwd / "good.csv", GOOD_ROWS),
    "label-map-malformed": lambda cwd: write_csv(cwd / "good.csv", GOOD_ROWS),
    "label-map-overlap": lambda cwd: write_csv(cwd / "good.csv", GOOD_ROWS),
    "labels-disagree-with-map": lambda cwd: write_csv(cwd / "good.csv", GOOD_ROWS),
    "label-map-and-positive": lambda cwd: write_csv(cwd / "good.csv", GOOD_ROWS),
    "label-not-a-class": lambda cwd: write_csv(
        cwd / "mixed.csv", [("good phone", "positive"), ("bad phone", "negative"), ("ok phone", "mixed")]
    ),
    "class-without-examples": lambda cwd: write_csv(cwd / "two.csv", [("good", "positive"), ("bad", "negative")]),
    "one-learned-class": lambda cwd: write_csv(cwd / "neutral.csv", [("ok", "neutral"), ("fine", "neutral")]),
    "platt-many-classes": lambda cwd: write_csv(cwd / "three.csv", THREE_ROWS),
    "threshold-many-classes": lambda cwd: _three_class_model(cwd),
    "evaluate-other-classes": lambda cwd: (_three_class_model(cwd), write_csv(cwd / "three.csv", THREE_ROWS)),
    "evaluate-models-other-classes": with_model(
        lambda cwd: (_three_class_model(cwd), write_csv(cwd / "good.csv", GOOD_ROWS))
    ),
    "report-not-ours": with_model(
        lambda cwd: (
            write_csv(cwd / "good.csv", GOOD_ROWS),
            (cwd / "mydata").mkdir(),
            (cwd / "mydata" / "notes.txt").write_text("mine"),
        )
    ),
    "report-foreign-files": with_model(_report_with_a_foreign_file),
    "report-is-a-file": with_model(
        lambda cwd: (write_csv(cwd / "good.csv", GOOD_ROWS), (cwd / "notes.txt").write_text("x"))
    ),
    "report-is-cwd": with_model(lambda cwd: write_csv(cwd / "good.csv", GOOD_ROWS)),
    "evaluate-model-twice": with_model(lambda cwd: write_csv(cwd / "good.csv", GOOD_ROWS)),
    "evaluate-models-read-differently": with_model(_model_reading_reviews),
}


def _nan_weights(directory: Path) -> None:
    import numpy as np

    with np.load(directory / "weights.npz") as saved:
        arrays = {name: saved[name] for name in saved.files}
    arrays["head.bias"] = np.array([np.nan], dtype=np.float32)
    np.savez(directory / "weights.npz", **arrays)


def _huge_tar_member(cwd: Path) -> None:
    import gzip
    import io
    import tarfile

    info = tarfile.TarInfo("aclImdb/train/pos/0_9.txt")
    info.size = 1 << 30  # claims 1 GiB; refused from the header, the data is never read
    header = io.BytesIO(info.tobuf(format=tarfile.GNU_FORMAT)).getvalue()
    (cwd / "imdb.tar.gz").write_bytes(gzip.compress(header + b"\0" * 4096))


def _symlink_out(name: str):
    def change(directory: Path) -> None:
        (directory.parent / "secret.json").write_text('{"accuracy": 0.5}')
        (directory / name).unlink(missing_ok=True)
        (directory / name).symlink_to(directory.parent / "secret.json")

    return change


def _fifo(name: str):
    def change(directory: Path) -> None:
        (directory / name).unlink()
        os.mkfifo(directory / name)

    return change


def _with_user_directory(cwd: Path, request) -> None:
    write_csv(cwd / "good.csv", GOOD_ROWS)
    shutil.copytree(request.getfixturevalue("model_dir"), cwd / "model")
    (cwd / "model" / "logs").mkdir()
    (cwd / "model" / "logs" / "notes.txt").write_text("mine")


def _read_only_model(cwd: Path, request) -> None:
    write_csv(cwd / "good.csv", GOOD_ROWS)
    shutil.copytree(request.getfixturevalue("model_dir"), cwd / "model")
    (cwd / "model").chmod(0o555)
    request.addfinalizer(lambda: (cwd / "model").chmod(0o755))


def _model_and_data(cwd: Path, request) -> None:
    write_csv(cwd / "good.csv", GOOD_ROWS)
    shutil.copytree(request.getfixturevalue("model_dir"), cwd / "model")


SETUPS.update(
    {
        "out-holds-a-users-directory": _with_user_directory,
        "out-read-only": _read_only_model,
        "tensorboard-inside-out": _model_and_data,
        "lock-is-a-symlink": lambda cwd: (
            write_csv(cwd / "good.csv", GOOD_ROWS),
            (cwd / "victim.txt").write_text("mine"),
            (cwd / ".sentiment-model.lock").symlink_to("victim.txt"),
        ),
        "backup-not-the-tools": lambda cwd: (
            write_csv(cwd / "good.csv", GOOD_ROWS),
            (cwd / ".sentiment-model.backup").mkdir(),
            (cwd / ".sentiment-model.backup" / "notes.txt").write_text("mine"),
        ),
        "config-is-a-fifo": lambda cwd: os.mkfifo(cwd / "config.toml"),
        "data-is-a-fifo": lambda cwd: os.mkfifo(cwd / "fifo.csv"),
        "data-line-not-an-object": lambda cwd: (cwd / "array.jsonl").write_text(
            '{"text": "good", "label": 1}\n["bad", 0]\n'
        ),
        "data-line-too-deep": lambda cwd: (cwd / "deep.jsonl").write_text(
            '{"text": "good", "label": 1}\n{"text": ' + "[" * 100 + "]" * 100 + "}\n"
        ),
        "encoding-not-ascii": lambda cwd: write_csv(cwd / "good.csv", GOOD_ROWS),
        "seed-too-large": lambda cwd: write_csv(cwd / "good.csv", GOOD_ROWS),
        "layers-too-many": lambda cwd: None,
        "tar-member-too-large": _huge_tar_member,
        "model-file-is-a-symlink": copy_model("linked")(_symlink_out("metrics.json")),
        "model-file-is-a-fifo": copy_model("piped")(_fifo("meta.json")),
        "meta-wrong-type": copy_model("typed")(
            lambda d: (d / "meta.json").write_text('{"format_version": 1, "package_version": "0.1", "data": []}')
        ),
        "meta-too-deep": copy_model("deep")(lambda d: (d / "meta.json").write_text("[" * 1000 + "]" * 1000)),
        "weights-not-finite": copy_model("nan")(_nan_weights),
        "export-weights-not-finite": copy_model("nan")(_nan_weights),
        "file-is-a-device": with_model(lambda cwd: None),
    }
)
NEEDS_REQUEST = {"out-holds-a-users-directory", "out-read-only", "tensorboard-inside-out", "model-file-is-a-symlink"}
NEEDS_REQUEST |= {"model-file-is-a-fifo", "meta-wrong-type", "meta-too-deep", "weights-not-finite"}
NEEDS_REQUEST |= {"export-weights-not-finite", "file-is-a-device"}
NEEDS_REQUEST |= {"newer-format", "corrupt-meta", "model-file-missing", "truncated-model", "config-mismatch"}
NEEDS_REQUEST |= {"code-in-model", "no-text", "text-file-undecodable", "threshold-out-of-range"}
NEEDS_REQUEST |= {"weights-missing", "truncated-weights", "config-mismatch-weights", "serve-bow-model-is-rnn"}
NEEDS_REQUEST |= {"text-file-empty", "output-suffix", "output-directory-missing", "output-without-data"}
NEEDS_REQUEST |= {"data-and-texts", "data-ragged", "vocabulary-not-a-list", "text-file-missing"}
NEEDS_REQUEST |= {"guess-not-lm", "init-from-classifier", "lm-weights-damaged", "lm-model-damaged"}
NEEDS_REQUEST |= {"lm-vocabulary-swapped", "predict-language-model"}
NEEDS_REQUEST |= {"plot-no-history", "plot-not-png", "bundled-missing", "plot-bundled", "ensemble-member-missing"}
NEEDS_REQUEST |= {"report-not-ours", "report-foreign-files", "report-is-a-file", "report-is-cwd"}
NEEDS_REQUEST |= {"evaluate-model-twice", "evaluate-models-read-differently", "evaluate-models-other-classes"}
NEEDS_REQUEST |= {"serve-lm-model-is-a-classifier", "serve-bow-beside-a-language-model"}
ROWS = documented_rows()


def files_under(directory: Path) -> dict[str, int]:
    return {str(p.relative_to(directory)): p.lstat().st_size for p in sorted(directory.rglob("*"))}


def test_the_table_documents_every_case_exactly_once():
    cases = [row.case for row in ROWS]
    assert len(cases) == len(set(cases))
    assert set(cases) == set(SETUPS)


@pytest.mark.parametrize("row", ROWS, ids=[row.case for row in ROWS])
def test_documented_error(row, tmp_path, monkeypatch, request):
    monkeypatch.chdir(tmp_path)
    if row.case in NEEDS_REQUEST:
        SETUPS[row.case](tmp_path, request)
    else:
        SETUPS[row.case](tmp_path)
    before = files_under(tmp_path)
    program, *args = shlex.split(row.command)
    assert program == "sentiment-rnn"
    result = CliRunner().invoke(cli, args)
    assert isinstance(result.exception, SystemExit), result.exception  # no traceback
    assert (result.exit_code, result.output) == (row.exit_code, row.output + "\n")
    assert files_under(tmp_path) == before  # nothing written, nothing left behind


def test_empty_texts_are_skipped_and_counted_by_default(tmp_path):
    rows = [("good phone", 1), ("", 0), ("bad phone", 0), ("   ", 1), ("great screen", 1), ("awful screen", 0)]
    data = write_csv(tmp_path / "blanks.csv", rows)
    args = ["train", "--data", str(data), "--out", str(tmp_path / "m"), "--quiet", "--epochs", "1"]
    result = CliRunner().invoke(cli, [*args, "--set", "model.units=4", "--set", "train.validation_split=0.25"])
    assert result.exit_code == 0, result.output
    first, second = result.output.splitlines()
    assert first == "Skipped 2 rows with empty text (--on-empty error refuses them)."
    assert second.startswith(f"Saved model to {tmp_path / 'm'}: ")
    assert json.loads((tmp_path / "m" / "meta.json").read_text())["data"]["skipped"] == 2


def predict_keras(directory, texts: list[str]) -> list[float]:
    from sentiment_rnn.inference import predict

    return [p.probability for p in predict(directory, texts, engine="keras")]


def predict_numpy(directory, texts: list[str]) -> list[float]:
    from sentiment_rnn.inference import predict

    return [p.probability for p in predict(directory, texts, engine="numpy")]


ENGINES = {"keras": predict_keras, "numpy": predict_numpy}  # each: (opened model directory, texts) -> probabilities


@pytest.fixture(scope="module")
def opened_model(model_dir):
    from sentiment_rnn.artifact.model_directory import open_model_dir

    directory = open_model_dir(model_dir)
    assert directory.model is not None  # loaded once for the whole module
    return directory


@pytest.mark.parametrize("engine", sorted(ENGINES))
@settings(max_examples=50, deadline=None)
@given(texts=st.lists(st.text(max_size=200), min_size=1, max_size=4))
def test_any_unicode_gets_a_probability(opened_model, engine, texts):
    """Arbitrary Unicode, batched and alone, gets a probability in [0, 1], the same either way."""
    batched = ENGINES[engine](opened_model, texts)
    alone = [ENGINES[engine](opened_model, [text])[0] for text in texts]
    assert len(batched) == len(texts)
    for together, single in zip(batched, alone):
        assert 0.0 <= together <= 1.0
        assert together == pytest.approx(single, abs=1e-6)
