"""The files of a model directory: their names, the format version, JSON in and out, the metadata.

A model directory holds:
    model.keras      the end-to-end Keras model (raw strings in, probability out)
    config.toml      the resolved config it was trained with
    vocabulary.json  the tokenizer's vocabulary, index = token id
    metrics.json     validation metrics of the restored (best) weights
    history.csv      per-epoch training and validation metrics
    training.png     the training curve (only when matplotlib is installed)
    meta.json        format version, package and library versions, date, training data summary
    weights.npz      the same weights as plain NumPy arrays, for the NumPy engine (loaded without pickle)
    engine.json      the architecture the NumPy engine needs (cell, layers, units, bidirectional, ...)
    wide_vocabulary.txt   hybrid models only: the wide branch's n-grams, one a line, index = multi-hot column
                          (wide_vocabulary.json, a JSON list, in directories of engine format 2 and before)
    members/1, 2, ...  an ensemble (train.ensemble > 1) only: one complete model directory per member; the
                     ensemble's own model.keras, weights.npz and engine.json are its members', so it has
                     none, and its metrics.json measures the members' mean probability
    build.json       optional, written by a build recipe (benchmarks/build_reviews_en.py), not by train:
                     the command that built the model, its wall time, the machine and the date
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sentiment_rnn import jsondoc, safe_read
from sentiment_rnn.config import Config
from sentiment_rnn.errors import SentimentError
from sentiment_rnn.version import __version__

FORMAT_VERSION = 1
MODEL_FILE = "model.keras"
CONFIG_FILE = "config.toml"
VOCABULARY_FILE = "vocabulary.json"
METRICS_FILE = "metrics.json"
HISTORY_FILE = "history.csv"
META_FILE = "meta.json"
WEIGHTS_FILE = "weights.npz"
ENGINE_FILE = "engine.json"
WIDE_VOCABULARY_FILE = "wide_vocabulary.txt"
LEGACY_WIDE_VOCABULARY_FILE = "wide_vocabulary.json"  # what engine format 2 and before wrote instead
PLOT_FILE = "training.png"
# meta.json's key in a NumPy export (export --format numpy): the directory holds no model.keras.
EXPORTED_AS = "exported_as"
NUMPY_EXPORT = "numpy"
BUILD_FILE = "build.json"
MEMBERS_DIR = "members"  # an ensemble's member model directories: members/1, members/2, ...
# Every file train writes into a model directory: a directory holding anything else is never replaced.
MODEL_DIRECTORY_FILES = frozenset(
    {
        MODEL_FILE,
        CONFIG_FILE,
        VOCABULARY_FILE,
        METRICS_FILE,
        HISTORY_FILE,
        META_FILE,
        WEIGHTS_FILE,
        ENGINE_FILE,
        PLOT_FILE,
        WIDE_VOCABULARY_FILE,
        LEGACY_WIDE_VOCABULARY_FILE,
        MEMBERS_DIR,
        BUILD_FILE,  # a rebuild replaces a built model directory; the recipe writes build.json again
    }
)

# What the JSON files of a model directory may hold, checked before any field is used (keys not named
# here are not read). meta.json's format_version is checked by check_format_version.
_LABELS = jsondoc.Object({"positive": jsondoc.INTEGER, "negative": jsondoc.INTEGER})
_SOURCE = jsondoc.OneOf(  # a classifier's: what each source gave; a language model's: each file's path
    (
        jsondoc.Object(
            {"source": jsondoc.STRING, "rows": jsondoc.INTEGER, "skipped": jsondoc.INTEGER, "labels": _LABELS}
        ),
        jsondoc.STRING,
    )
)
_EPOCHS = jsondoc.Object({"epochs_run": jsondoc.INTEGER, "best_epoch": jsondoc.INTEGER})
META_SCHEMA = jsondoc.Object(
    {
        "package_version": jsondoc.STRING,
        "created": jsondoc.STRING,
        "model_kind": jsondoc.STRING,
        "exported_as": jsondoc.STRING,
        "versions": jsondoc.Object(values=jsondoc.STRING),
        "started_from": jsondoc.Object(
            {"model": jsondoc.STRING, "bundled": jsondoc.BOOLEAN, "created": jsondoc.STRING}
        ),
        "data": jsondoc.Object(
            {
                "source": jsondoc.STRING,
                "rows": jsondoc.INTEGER,
                "skipped": jsondoc.INTEGER,
                "other_labels": jsondoc.INTEGER,
                "label_mapping": jsondoc.Nullable(
                    jsondoc.Object(
                        {"positive": jsondoc.STRING, "negative": jsondoc.STRING}, required=("positive", "negative")
                    )
                ),
                "labels": _LABELS,
                "train_rows": jsondoc.INTEGER,
                "validation_rows": jsondoc.INTEGER,
                "test_rows": jsondoc.INTEGER,
                "epochs_run": jsondoc.INTEGER,
                "best_epoch": jsondoc.INTEGER,
                "sources": jsondoc.ListOf(_SOURCE),
                "members": jsondoc.ListOf(_EPOCHS),
                **dict.fromkeys(
                    ("train_texts", "train_tokens", "heldout_texts", "heldout_tokens", "heldout_every"),
                    jsondoc.INTEGER,
                ),
                "unknown_share": jsondoc.NUMBER,
                "tokens_per_second": jsondoc.NUMBER,
            }
        ),
    }
)
_MEASURED = {
    name: jsondoc.ANY_NUMBER
    for name in ("loss", "accuracy", "auc", "ece", "brier", "ece_before", "brier_before", "perplexity")
}
METRICS_SCHEMA = jsondoc.Object(
    {
        **_MEASURED,
        "n": jsondoc.INTEGER,
        "texts": jsondoc.INTEGER,  # a language model's held-out texts and tokens
        "tokens": jsondoc.INTEGER,
        "member_accuracy": jsondoc.ListOf(jsondoc.ANY_NUMBER),
        "test": jsondoc.Object({**_MEASURED, "n": jsondoc.INTEGER, "source": jsondoc.STRING}),
    }
)
BUILD_SCHEMA = jsondoc.Object(
    {
        "command": jsondoc.STRING,
        "wall_seconds": jsondoc.NUMBER,
        "machine": jsondoc.STRING,
        "date": jsondoc.STRING,
    }
)


def member_path(directory: Path, number: int) -> Path:
    """The model directory of an ensemble's member ``number`` (1 = first): ``members/NUMBER``."""
    return directory / MEMBERS_DIR / str(number)


def write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def write_vocabulary(path: Path, tokens: list[str]) -> None:
    """A vocabulary as one JSON array on one line: indented, each token costs 5 bytes more (a 150k list, 0.75 MB)."""
    path.write_text(json.dumps(tokens, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")


def meta_for(
    config: Config, dataset_summary: dict[str, Any], started_from: dict[str, Any] | None = None
) -> dict[str, Any]:
    """meta.json: the format, who wrote it and when, the data summary and, for a model that started from a
    language model, which one (``pretrained.started_from``)."""
    import datetime

    return {
        "format_version": FORMAT_VERSION,
        "package_version": __version__,
        "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "model_kind": config.model.kind,
        "versions": library_versions(),
        "data": dataset_summary,
        **({"started_from": started_from} if started_from is not None else {}),
    }


def library_versions() -> dict[str, str]:
    """Versions of Python and the libraries that wrote (and can read) a model directory."""
    import platform
    from importlib.metadata import PackageNotFoundError, version

    versions = {"python": platform.python_version()}
    for name in ("tensorflow", "keras", "numpy"):
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def config_value(config: Config, name: str) -> Any:
    """The value of the config key ``name``, written ``"section.key"`` (e.g. ``"model.units"``)."""
    section, key = name.split(".")
    return getattr(getattr(config, section), key)


def check_architecture_matches_config(
    architecture: dict[str, Any], config: Config, path: Path, file_name: str, holder: str
) -> None:
    """Compare ``{"section.key": value}`` read off a saved file with ``config``; raise on the first difference.

    Args:
        architecture: values read from the saved weights, keyed like config keys.
        config: the config.toml of the model directory ``path``.
        file_name: the saved file the values came from, for the message.
        holder: how the message names that file's side, e.g. "the model has".
    """
    for name, actual in architecture.items():
        expected = config_value(config, name)
        if expected != actual:
            raise SentimentError(
                f"{path / CONFIG_FILE} does not match {path / file_name}: the config says {name} = "
                f"{expected!r} but {holder} {actual!r}; restore the config.toml it was trained with, "
                "or retrain the model."
            )


CORRUPT_DIRECTORY_FIX = "the directory is corrupt; retrain the model"


def retrain_command(config: Config | None) -> str:
    """The command that writes a model directory of ``config``'s kind again, for the end of a refusal:
    ``sentiment-rnn pretrain`` for a language model (``model.kind = "lm"``), ``sentiment-rnn train`` otherwise."""
    return "`sentiment-rnn pretrain`" if config is not None and config.model.kind == "lm" else "`sentiment-rnn train`"


def read_json(
    file: Path,
    fix: str = CORRUPT_DIRECTORY_FIX,
    schema: jsondoc.Schema | None = None,
    kind: safe_read.Kind = safe_read.MODEL_JSON,
) -> Any:
    """The parsed JSON of a file of a model directory, read through ``safe_read`` (no link, caps, ``schema``).

    Args:
        file: the file, inside its model directory.
        fix: how to fix a damaged file: the end of the message.
        schema: what the document must be; None checks nothing but that it is JSON.

    Raises:
        SentimentError: the file is missing (its directory is named), not a regular file, a symlink,
            too large, unreadable, not JSON, or not what ``schema`` accepts.
    """
    if not os.path.lexists(file):
        raise SentimentError(f"{file.parent} is missing {file.name}: retrain the model.")
    return safe_read.read_json(file, kind, fix, schema, inside=file.parent)


def is_model_directory(directory: Path) -> bool:
    """Whether ``directory`` was written by ``train``: its marker ``meta.json`` is an object with an int
    ``format_version`` and a ``package_version``, beside a ``config.toml`` (both regular files, no links)."""
    try:
        meta = safe_read.read_json(directory / META_FILE, safe_read.MODEL_JSON, "", inside=directory)
    except SentimentError:
        return False
    config = directory / CONFIG_FILE
    return (
        isinstance(meta, dict)
        and isinstance(meta.get("format_version"), int)
        and "package_version" in meta
        and config.is_file()
        and not config.is_symlink()
    )


def check_format_version(data: Any, file: Path, newest: int, fix: str, newer: Callable[[int], str]) -> int:
    """The ``format_version`` recorded in ``data`` (the JSON of ``file``), if this sentiment-rnn reads it.

    Args:
        data: the parsed JSON of ``file``; a valid one is an object with an int ``format_version``.
        newest: the newest format this version of sentiment-rnn reads.
        fix: how to fix a file without a valid version: the end of the message.
        newer: the message refusing a version above ``newest``, given that version.

    Raises:
        SentimentError: no valid version, or a newer one.
    """
    version = data.get("format_version") if isinstance(data, dict) else None
    if not isinstance(version, int):
        raise SentimentError(f"{file} has no valid format_version: {fix}.")
    if version > newest:
        raise SentimentError(newer(version))
    return version
