"""Save and load a model directory, atomically, with a format version.

A model directory holds:
    model.keras      the end-to-end Keras model (raw strings in, probability out)
    config.toml      the resolved config it was trained with
    vocabulary.json  the tokenizer's vocabulary, index = token id
    metrics.json     validation metrics of the restored (best) weights
    history.csv      per-epoch training and validation metrics
    meta.json        format version, package version, date, training data summary

Saving writes everything to a temporary directory beside the target and
renames it into place only when complete, so an interrupted or failed run
never leaves a half-written directory and never damages the one that was there.
Loading keeps Keras's ``safe_mode`` on: no code from the directory is run.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sentiment_rnn import __version__
from sentiment_rnn.config import Config, load_config
from sentiment_rnn.errors import SentimentError

FORMAT_VERSION = 1
MODEL_FILE = "model.keras"
CONFIG_FILE = "config.toml"
VOCABULARY_FILE = "vocabulary.json"
METRICS_FILE = "metrics.json"
HISTORY_FILE = "history.csv"
META_FILE = "meta.json"


@contextlib.contextmanager
def staged_directory(target: str | Path) -> Iterator[Path]:
    """Yield a fresh temporary directory that replaces ``target`` on success.

    On any exception (including KeyboardInterrupt) the temporary directory is
    removed and ``target`` is left as it was.
    """
    target = Path(target)
    parent = target.parent if str(target.parent) else Path(".")
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SentimentError(f"Cannot create {parent} ({exc.strerror}): choose another --out.") from None
    if target.exists() and not target.is_dir():
        raise SentimentError(f"Output path {target} exists and is not a directory: choose another --out.")
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=parent))
    try:
        yield staging
        _replace_directory(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _replace_directory(staging: Path, target: Path) -> None:
    """Move ``staging`` to ``target``; an existing target is swapped out, then removed."""
    if target.exists():
        retired = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
        os.rename(target, retired / target.name)
        os.rename(staging, target)
        shutil.rmtree(retired, ignore_errors=True)
    else:
        os.rename(staging, target)


def write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def meta_for(config: Config, dataset_summary: dict[str, Any]) -> dict[str, Any]:
    import datetime

    return {
        "format_version": FORMAT_VERSION,
        "package_version": __version__,
        "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "model_kind": config.model.kind,
        "data": dataset_summary,
    }


@dataclass
class ModelDirectory:
    """What a model directory holds, read and checked; ``model`` is loaded on demand."""

    path: Path
    config: Config
    meta: dict[str, Any]
    _model: Any = None

    @property
    def model(self):
        if self._model is None:
            self._model = load_keras_model(self.path)
        return self._model

    def metrics(self) -> dict[str, Any]:
        return _read_json(self.path / METRICS_FILE, self.path)

    def vocabulary(self) -> list[str]:
        return _read_json(self.path / VOCABULARY_FILE, self.path)


def open_model_dir(path: str | Path) -> ModelDirectory:
    """Check a model directory and read its config and metadata (without TensorFlow).

    Raises:
        SentimentError: missing or empty directory, missing files, a newer format.
    """
    path = Path(path)
    retrain = "train one with `sentiment-rnn train --out DIR` or pass --model DIR"
    if not path.exists():
        raise SentimentError(f"Model directory {path} does not exist: {retrain}.")
    if not path.is_dir():
        raise SentimentError(f"Model path {path} is not a directory: {retrain}.")
    meta_path = path / META_FILE
    if not meta_path.exists():
        raise SentimentError(f"{path} is not a sentiment-rnn model directory (no {META_FILE}): {retrain}.")
    meta = _read_json(meta_path, path)
    version = meta.get("format_version") if isinstance(meta, dict) else None
    if not isinstance(version, int):
        raise SentimentError(f"{meta_path} has no valid format_version: the directory is corrupt; retrain the model.")
    if version > FORMAT_VERSION:
        raise SentimentError(
            f"{path} has model format {version} (written by sentiment-rnn {meta.get('package_version', '?')}), "
            f"but this sentiment-rnn {__version__} reads format {FORMAT_VERSION} at most: upgrade sentiment-rnn."
        )
    for name in (MODEL_FILE, CONFIG_FILE):
        if not (path / name).is_file():
            raise SentimentError(f"{path} is missing {name}: the directory is incomplete; retrain the model.")
    config = load_config(path / CONFIG_FILE)
    return ModelDirectory(path, config, meta)


def load_keras_model(path: Path):
    """Load ``model.keras`` in safe mode; a corrupt file becomes a SentimentError."""
    from sentiment_rnn.text import register_keras_objects
    from sentiment_rnn.tf_setup import import_keras

    keras = import_keras()
    register_keras_objects()
    try:
        return keras.saving.load_model(path / MODEL_FILE, safe_mode=True)
    except Exception:  # Keras raises many types for a damaged archive
        raise SentimentError(
            f"Cannot load {path / MODEL_FILE}: the file is damaged or not a sentiment-rnn model; "
            "retrain it with `sentiment-rnn train`."
        ) from None


def _read_json(file: Path, directory: Path) -> Any:
    try:
        return json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SentimentError(f"{directory} is missing {file.name}: retrain the model.") from None
    except (OSError, ValueError) as exc:
        raise SentimentError(f"{file} is unreadable ({exc}): the directory is corrupt; retrain the model.") from None
