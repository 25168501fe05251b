"""Save and load a model directory, atomically, with a format version.

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

Saving writes everything to a temporary directory beside the target and
renames it into place only when complete, so an interrupted or failed run
never leaves a half-written directory and never damages the one that was there.
While a run writes ``NAME``, it holds an exclusive lock on ``.NAME.lock``
beside it, so a second run into the same directory is refused; whoever takes
the lock first removes what killed runs left behind (``.NAME.tmp-*``) and puts
back a directory a kill caught in the middle of the final swap.

Loading keeps Keras's ``safe_mode`` on: no code from the directory is run, and
a model file whose architecture disagrees with ``config.toml`` is refused.
"""

from __future__ import annotations

import contextlib
import ctypes
import glob
import json
import os
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sentiment_rnn import __version__
from sentiment_rnn.config import Config, load_config
from sentiment_rnn.errors import SentimentError

try:
    import fcntl
except ImportError:  # Windows: no flock
    fcntl = None

FORMAT_VERSION = 1
MODEL_FILE = "model.keras"
CONFIG_FILE = "config.toml"
VOCABULARY_FILE = "vocabulary.json"
METRICS_FILE = "metrics.json"
HISTORY_FILE = "history.csv"
META_FILE = "meta.json"
WEIGHTS_FILE = "weights.npz"
ENGINE_FILE = "engine.json"


@contextlib.contextmanager
def staged_directory(target: str | Path) -> Iterator[Path]:
    """Yield a fresh temporary directory that replaces ``target`` on success.

    On any exception (including KeyboardInterrupt) the temporary directory is
    removed and ``target`` is left as it was. The target's lock is held
    throughout (see :func:`target_lock`).
    """
    target = Path(target)
    with target_lock(target):
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=_parent(target)))
        try:
            yield staging
            _replace_directory(staging, target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)


def _replace_directory(staging: Path, target: Path) -> None:
    """Move ``staging`` to ``target``; an existing target is swapped out, then removed.

    On Linux the two directories are exchanged in one atomic ``renameat2``
    call. Elsewhere the old one is first renamed to ``.NAME.old-*``; a kill
    between the two renames leaves it there, and the next run that takes the
    lock puts it back (see :func:`_recover_and_clean`).
    """
    if target.exists() and _exchange(staging, target):
        shutil.rmtree(staging, ignore_errors=True)  # now holds the old directory
    elif target.exists():
        retired = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
        os.rename(target, retired / target.name)
        os.rename(staging, target)
        shutil.rmtree(retired, ignore_errors=True)
    else:
        os.rename(staging, target)


def _exchange(first: Path, second: Path) -> bool:
    """Atomically swap two paths with Linux ``renameat2(RENAME_EXCHANGE)``; False where unsupported."""
    at_fdcwd, rename_exchange = -100, 2
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    result = renameat2(at_fdcwd, os.fsencode(first), at_fdcwd, os.fsencode(second), rename_exchange)
    return result == 0


def _parent(target: Path) -> Path:
    return target.parent if str(target.parent) else Path(".")


def lock_path(target: str | Path) -> Path:
    """The lock file of a model directory: ``.NAME.lock`` beside it."""
    target = Path(target)
    return _parent(target) / f".{target.name}.lock"


def backup_path(target: str | Path) -> Path:
    """Where training keeps its per-epoch backup for ``--resume``: ``.NAME.backup`` beside the target."""
    target = Path(target)
    return _parent(target) / f".{target.name}.backup"


_held_locks: dict[Path, int] = {}


@contextlib.contextmanager
def target_lock(target: str | Path) -> Iterator[None]:
    """Hold the exclusive lock of ``target`` (``flock`` on ``.NAME.lock``), re-entrant in one process.

    ``target`` must be a directory or not exist. The lock file holds the
    owner's pid and is removed on release; the kernel releases the lock of a
    killed process, so a stale file never blocks. Where ``fcntl`` is missing
    (Windows), nothing is locked.

    Raises:
        SentimentError: another process holds the lock, or the parent directory cannot be created.
    """
    target = Path(target)
    parent = _parent(target)
    if target.name in ("", ".", ".."):
        raise SentimentError(f"Output path {target} names no directory: pass a new directory name to --out.")
    if target.exists() and not target.is_dir():
        raise SentimentError(f"Output path {target} exists and is not a directory: choose another --out.")
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SentimentError(f"Cannot create {parent} ({exc.strerror}): choose another --out.") from None
    path = lock_path(target)
    key = path.resolve()
    if key in _held_locks:
        _held_locks[key] += 1
        try:
            yield
        finally:
            _held_locks[key] -= 1
        return
    descriptor = _acquire(path, target)
    _held_locks[key] = 1
    try:
        _recover_and_clean(target)
        yield
    finally:
        del _held_locks[key]
        with contextlib.suppress(OSError):
            os.unlink(path)
        os.close(descriptor)


def _acquire(path: Path, target: Path) -> int:
    """Open and flock ``path``; retry if a finishing owner unlinked it between our open and flock."""
    while True:
        try:
            descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise SentimentError(
                f"Cannot create the lock file {path} ({exc.strerror}): choose another --out."
            ) from None
        if fcntl is None:
            return descriptor
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = os.read(descriptor, 32).decode("ascii", "replace").strip() or "unknown"
            os.close(descriptor)
            raise SentimentError(
                f"Another sentiment-rnn run (pid {owner}) is writing {target}: "
                "wait for it to finish or choose another --out."
            ) from None
        try:
            current = os.stat(path).st_ino
        except FileNotFoundError:
            current = None
        if current == os.fstat(descriptor).st_ino:
            os.ftruncate(descriptor, 0)
            os.write(descriptor, f"{os.getpid()}\n".encode("ascii"))
            return descriptor
        os.close(descriptor)


def _recover_and_clean(target: Path) -> None:
    """Under the lock: put back a directory stranded mid-swap, remove staging left by killed runs."""
    pattern = f".{glob.escape(target.name)}"
    parent = _parent(target)
    retired = sorted(parent.glob(pattern + ".old-*"))
    if not target.exists():
        for directory in retired:
            if (directory / target.name).is_dir():
                os.rename(directory / target.name, target)
                break
    for stale in [*parent.glob(pattern + ".tmp-*"), *retired]:
        shutil.rmtree(stale, ignore_errors=True)


def write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def meta_for(config: Config, dataset_summary: dict[str, Any]) -> dict[str, Any]:
    import datetime

    return {
        "format_version": FORMAT_VERSION,
        "package_version": __version__,
        "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "model_kind": config.model.kind,
        "versions": library_versions(),
        "data": dataset_summary,
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


@dataclass
class ModelDirectory:
    """What a model directory holds, read and checked; ``model`` and ``engine`` are loaded on demand."""

    path: Path
    config: Config
    meta: dict[str, Any]
    _model: Any = None
    _engine: Any = None

    @property
    def model(self):
        """The Keras model (imports TensorFlow)."""
        if self._model is None:
            self._model = load_keras_model(self.path, self.config)
        return self._model

    @property
    def engine(self):
        """The NumPy engine (see ``sentiment_rnn.engine``; no TensorFlow)."""
        if self._engine is None:
            from sentiment_rnn.engine import load_engine

            self._engine = load_engine(self.path, self.config)
        return self._engine

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


def load_keras_model(path: Path, config: Config | None = None):
    """Load ``model.keras`` in safe mode and check it against ``config`` (the directory's config.toml).

    Raises:
        SentimentError: a damaged archive, a model that carries code (a Lambda
            layer or other unsafe object, which safe mode refuses), or an
            architecture that disagrees with ``config``.
    """
    from sentiment_rnn.models import register_keras_objects
    from sentiment_rnn.tf_setup import import_keras

    keras = import_keras()
    register_keras_objects()
    _check_archive(path / MODEL_FILE)
    try:
        model = keras.saving.load_model(path / MODEL_FILE, safe_mode=True)
    except Exception as exc:  # Keras raises many types for a damaged archive
        if "safe_mode" in str(exc):
            raise SentimentError(
                f"Refusing to load {path / MODEL_FILE}: it contains code (such as a Lambda layer), which "
                "sentiment-rnn never runs; retrain the model with `sentiment-rnn train`."
            ) from None
        raise SentimentError(
            f"Cannot load {path / MODEL_FILE}: the file is damaged or not a sentiment-rnn model; "
            "retrain it with `sentiment-rnn train`."
        ) from None
    if config is not None:
        check_model_matches_config(model, config, path)
    return model


def _check_archive(file: Path) -> None:
    """Refuse a ``.keras`` file that is not a complete zip archive or fails its CRC checks."""
    try:
        with zipfile.ZipFile(file) as archive:
            damaged = archive.testzip()
    except (OSError, zipfile.BadZipFile, EOFError):
        damaged = "the archive"
    if damaged is not None:
        raise SentimentError(
            f"Cannot load {file}: the file is damaged or not a sentiment-rnn model; "
            "retrain it with `sentiment-rnn train`."
        )


def model_architecture(model) -> dict[str, Any]:
    """The config keys a built or loaded model's layers determine, as ``{"section.key": value}``."""
    from sentiment_rnn.models import EMBEDDING_LAYER, POOLING_LAYER, TOKENIZER_LAYER

    layers = {layer.name: layer for layer in model.layers}
    facts: dict[str, Any] = {}
    if TOKENIZER_LAYER in layers:
        tokenizer = layers[TOKENIZER_LAYER].get_config()
        facts["tokenizer.max_tokens"] = tokenizer.get("max_tokens")
    if EMBEDDING_LAYER not in layers:
        facts["model.kind"] = "bow"
        hidden = [layer for name, layer in layers.items() if name.startswith("hidden_")]
        facts["model.hidden_layers"] = len(hidden)
        if hidden:
            facts["model.hidden_units"] = hidden[0].units
        return facts
    facts["model.kind"] = "rnn"
    facts["model.output_dim"] = layers[EMBEDDING_LAYER].output_dim
    stack = [layer for name, layer in layers.items() if name.startswith(("recurrent_", "bidirectional_"))]
    facts["model.layers"] = len(stack)
    if stack:
        top = stack[-1]
        facts["model.bidirectional"] = hasattr(top, "forward_layer")
        if facts["model.bidirectional"]:
            facts["model.merge_mode"] = top.merge_mode
            top = top.forward_layer
        facts["model.cell"] = {"SimpleRNN": "simple", "GRU": "gru", "LSTM": "lstm"}.get(type(top).__name__)
        facts["model.units"] = top.units
    facts["model.pooling"] = layers[POOLING_LAYER].mode if POOLING_LAYER in layers else "last"
    return facts


def check_model_matches_config(model, config: Config, path: Path) -> None:
    """Refuse a model whose layers disagree with the config.toml beside it (an edited or mixed-up directory)."""
    check_architecture_matches_config(model_architecture(model), config, path, MODEL_FILE, "the model has")


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
    sections = {"model": config.model, "tokenizer": config.tokenizer}
    for name, actual in architecture.items():
        section, key = name.split(".")
        expected = getattr(sections[section], key)
        if expected != actual:
            raise SentimentError(
                f"{path / CONFIG_FILE} does not match {path / file_name}: the config says {name} = "
                f"{expected!r} but {holder} {actual!r}; restore the config.toml it was trained with, "
                "or retrain the model."
            )


def _read_json(file: Path, directory: Path) -> Any:
    try:
        return json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SentimentError(f"{directory} is missing {file.name}: retrain the model.") from None
    except (OSError, ValueError) as exc:
        raise SentimentError(f"{file} is unreadable ({exc}): the directory is corrupt; retrain the model.") from None
