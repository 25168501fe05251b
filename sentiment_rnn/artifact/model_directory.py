"""Opening a model directory: its config and metadata checked, ``model.keras`` and the NumPy engine loaded on demand.

Loading keeps Keras's ``safe_mode`` on: no code from the directory is run, and
a model file whose architecture disagrees with ``config.toml`` is refused.
An ensemble (``train.ensemble`` above 1) opens its members, each a model
directory of its own under ``members/``; its Keras model and NumPy engine
answer with the members' mean probability.
A NumPy export (``export --format numpy``, ``meta.json`` says ``"exported_as":
"numpy"``) opens the same way but has no ``model.keras``: only its NumPy
engine runs, and asking for the Keras model is a one-line error.
"""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sentiment_rnn import jsondoc, safe_read
from sentiment_rnn.artifact.files import (
    CONFIG_FILE,
    CORRUPT_DIRECTORY_FIX,
    EXPORTED_AS,
    FORMAT_VERSION,
    MEMBERS_DIR,
    META_FILE,
    META_SCHEMA,
    METRICS_FILE,
    METRICS_SCHEMA,
    MODEL_FILE,
    NUMPY_EXPORT,
    VOCABULARY_FILE,
    WEIGHTS_FILE,
    check_architecture_matches_config,
    check_format_version,
    member_path,
    read_json,
    retrain_command,
)
from sentiment_rnn.bundled import DEFAULT_BUNDLED_MODEL, locate
from sentiment_rnn.config import Config, load_config, to_dict, toml_value
from sentiment_rnn.data.labels import classes_of
from sentiment_rnn.errors import SentimentError
from sentiment_rnn.version import __version__


@dataclass(frozen=True)
class ModelIdentity:
    """Which model answers, as every answer names it (``predict --json``'s ``model``, the API, the page).

    ``name`` is the bundled model's name or the directory's; ``kind`` is
    ``model.kind`` (``rnn``, ``hybrid``, ``bow`` or ``lm``); ``path`` the directory as
    opened; ``bundled`` whether it is a model shipped inside the package;
    ``members`` the number of an ensemble's members (0 for one model).
    """

    name: str
    kind: str
    path: str
    bundled: bool
    members: int = 0

    def to_dict(self) -> dict[str, Any]:
        """``{"name", "kind", "bundled", "path"}``, and ``"members"`` for an ensemble."""
        found = {"name": self.name, "kind": self.kind, "bundled": self.bundled, "path": self.path}
        return {**found, "members": self.members} if self.members else found


@dataclass
class ModelDirectory:
    """What a model directory holds, read and checked; ``model`` and ``numpy_engine`` are loaded on demand.

    ``bundled`` is the name of the bundled model it is (``"reviews-en"``), or None;
    ``members`` an ensemble's member directories, in order (empty for one model).
    """

    path: Path
    config: Config
    meta: dict[str, Any]
    bundled: str | None = None
    members: tuple[ModelDirectory, ...] = ()
    _model: Any = None
    _numpy_engine: Any = None

    @property
    def numpy_export(self) -> bool:
        """Whether this is a NumPy export: weights for the NumPy engine, no ``model.keras``."""
        return exported_for_numpy(self.meta) and not (self.path / MODEL_FILE).is_file()

    @property
    def model(self):
        """The Keras model (imports TensorFlow).

        Raises:
            SentimentError: for a NumPy export, which has no ``model.keras``.
        """
        if self._model is None:
            if self.numpy_export:
                raise numpy_export_error(self.path, "pass the model directory it was exported from")
            if self.members:
                from sentiment_rnn.models import ensemble_model

                self._model = ensemble_model([member.model for member in self.members])
            else:
                self._model = load_keras_model(self.path, self.config)
        return self._model

    @property
    def numpy_engine(self):
        """The NumPy engine (see ``sentiment_rnn.engine``; no TensorFlow)."""
        if self._numpy_engine is None:
            if self.members:
                from sentiment_rnn.engine.ensemble import NumpyEnsembleEngine

                self._numpy_engine = NumpyEnsembleEngine([member.numpy_engine for member in self.members])
            else:
                from sentiment_rnn.artifact.engine_files import load_engine

                self._numpy_engine = load_engine(self.path, self.config)
        return self._numpy_engine

    @property
    def classes(self) -> tuple[str, ...]:
        """The model's classes, index = class (``("negative", "positive")`` unless ``data.labels`` names others)."""
        return classes_of(self.config.data)

    @property
    def identity(self) -> ModelIdentity:
        """Which model this is (see :class:`ModelIdentity`)."""
        name = self.bundled or self.path.resolve().name
        return ModelIdentity(name, self.config.model.kind, str(self.path), self.bundled is not None, len(self.members))

    def metrics(self) -> dict[str, Any]:
        """``metrics.json``, checked (an object, numbers where numbers are read)."""
        return read_json(self.path / METRICS_FILE, schema=METRICS_SCHEMA)

    def vocabulary(self) -> list[str]:
        """``vocabulary.json``: a list of strings."""
        return read_json(self.path / VOCABULARY_FILE, schema=jsondoc.ListOf(jsondoc.STRING), kind=safe_read.VOCABULARY)


def open_model_dir(path: str | Path) -> ModelDirectory:
    """Check a model directory and read its config and metadata (without TensorFlow).

    Args:
        path: a model directory, or the name of a bundled model (``"reviews-en"``);
            an existing path always wins over a name (see ``sentiment_rnn.bundled``).

    Raises:
        SentimentError: missing or empty directory, missing files, a newer format.
    """
    path, bundled = locate(path)
    names = f"--model {DEFAULT_BUNDLED_MODEL}"
    retrain = f"train one with `sentiment-rnn train --out DIR`, or pass --model DIR or {names} (the bundled model)"
    if not path.exists():
        raise SentimentError(f"Model directory {path} does not exist: {retrain}.")
    if not path.is_dir():
        raise SentimentError(f"Model path {path} is not a directory: {retrain}.")
    meta_path = path / META_FILE
    if not os.path.lexists(meta_path):
        if (path / WEIGHTS_FILE).is_file() and (path / CONFIG_FILE).is_file():
            raise SentimentError(
                f"{path} looks like a NumPy export written by an older sentiment-rnn (no {META_FILE}): "
                "export the model directory again with `sentiment-rnn export --format numpy`."
            )
        raise SentimentError(f"{path} is not a sentiment-rnn model directory (no {META_FILE}): {retrain}.")
    meta = read_json(meta_path)
    check_format_version(
        meta,
        meta_path,
        FORMAT_VERSION,
        CORRUPT_DIRECTORY_FIX,
        lambda version: (
            f"{path} has model format {version} (written by sentiment-rnn {meta.get('package_version', '?')}), "
            f"but this sentiment-rnn {__version__} reads format {FORMAT_VERSION} at most: upgrade sentiment-rnn."
        ),
    )
    problem = META_SCHEMA.problem(meta)
    if problem is not None:
        raise SentimentError(f"{meta_path} is damaged ({problem}): {CORRUPT_DIRECTORY_FIX}.")
    if not os.path.lexists(path / CONFIG_FILE):
        raise incomplete_error(path, CONFIG_FILE)
    config = load_config(path / CONFIG_FILE, inside=path)
    if config.train.ensemble > 1:
        return ModelDirectory(path, config, meta, bundled, open_members(path, config))
    if not exported_for_numpy(meta) and not os.path.lexists(path / MODEL_FILE):
        raise incomplete_error(path, MODEL_FILE)
    return ModelDirectory(path, config, meta, bundled)


def incomplete_error(path: Path, missing: str) -> SentimentError:
    return SentimentError(f"{path} is missing {missing}: the directory is incomplete; retrain the model.")


def open_members(path: Path, config: Config) -> tuple[ModelDirectory, ...]:
    """Open the ``config.train.ensemble`` members of the ensemble in ``path``, checked against its config.

    Raises:
        SentimentError: a member missing, itself an ensemble, or with another
            tokenizer or model config than the ensemble's (an edited or mixed-up directory).
    """
    members = []
    expected = to_dict(config)
    for number in range(1, config.train.ensemble + 1):
        where = member_path(path, number)
        for directory in (path / MEMBERS_DIR, where):
            if os.path.islink(directory):
                raise SentimentError(
                    f"{directory} is a symlink, and no link is followed inside a model directory: "
                    f"{CORRUPT_DIRECTORY_FIX}."
                )
        if not os.path.lexists(where / META_FILE):
            raise incomplete_error(path, f"{MEMBERS_DIR}/{number}")
        member = open_model_dir(where)
        found = to_dict(member.config)
        differing = [
            f"{section}.{key} = {toml_value(found[section][key])} against {toml_value(value)}"
            for section in ("tokenizer", "model")
            for key, value in expected[section].items()
            if found[section][key] != value
        ]
        if member.members or differing:
            what = "is an ensemble itself" if member.members else f"differs from the ensemble's config ({differing[0]})"
            raise SentimentError(f"{where} {what}: the ensemble's directory was edited or mixed up; retrain the model.")
        members.append(member)
    return tuple(members)


def exported_for_numpy(meta: dict[str, Any]) -> bool:
    """Whether ``meta`` (a ``meta.json``) is that of a NumPy export, which ships no ``model.keras``."""
    return meta.get(EXPORTED_AS) == NUMPY_EXPORT


def numpy_export_error(path: Path, fix: str) -> SentimentError:
    """The refusal to load the Keras model of a NumPy export; ``fix`` says what to do instead."""
    return SentimentError(f"{path} is a NumPy export (no {MODEL_FILE}), which only the NumPy engine runs: {fix}.")


def as_model_directory(model_dir: str | Path | ModelDirectory) -> ModelDirectory:
    """``model_dir`` as it is when already opened, else :func:`open_model_dir` of it."""
    return model_dir if isinstance(model_dir, ModelDirectory) else open_model_dir(model_dir)


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
    _check_archive(path / MODEL_FILE, path, config)
    if config is not None:
        from sentiment_rnn.budget import KERAS_BATCH_SIZE, check_prediction_fits

        check_prediction_fits(config, KERAS_BATCH_SIZE, path / MODEL_FILE)
    try:
        model = keras.saving.load_model(path / MODEL_FILE, safe_mode=True)
    except Exception as exc:  # Keras raises many types for a damaged archive
        if "safe_mode" in str(exc):
            raise SentimentError(
                f"Refusing to load {path / MODEL_FILE}: it contains code (such as a Lambda layer), which "
                f"sentiment-rnn never runs; retrain the model with {retrain_command(config)}."
            ) from None
        raise damaged_model_error(path / MODEL_FILE, config) from None
    if config is not None:
        check_model_matches_config(model, config, path)
    from sentiment_rnn.finite import check_finite

    check_finite({variable.path: variable.numpy() for variable in model.weights}, path / MODEL_FILE, keras_fix(config))
    return model


def keras_fix(config: Config | None) -> str:
    """How to fix a damaged ``model.keras`` of a model of ``config``'s kind: the end of a refusal."""
    return f"retrain it with {retrain_command(config)}"


KERAS_CONFIG_BYTES = 16 * safe_read.MiB  # a model.keras's config.json is a few KB
# The sizes in a Keras layer's config that allocate memory, and the config.toml key bounding each.
SIZED_KEYS = ("units", "output_dim", "input_dim", "output_sequence_length", "max_tokens")


def _check_archive(file: Path, path: Path, config: Config | None = None) -> None:
    """Refuse a ``.keras`` file that is not a regular file, not a complete zip archive, fails its CRC checks,
    or whose layers' sizes exceed what ``config`` (the directory's config.toml) allows: before Keras builds a layer."""
    with safe_read.open_file(file, safe_read.WEIGHTS, keras_fix(config), inside=path) as handle:
        try:
            with zipfile.ZipFile(handle) as archive:
                damaged = archive.testzip()
                info = archive.getinfo("config.json")
                if info.file_size > KERAS_CONFIG_BYTES:
                    raise ValueError("config.json is too large")
                layers = jsondoc.loads(archive.read(info))
        except (OSError, zipfile.BadZipFile, EOFError, KeyError, ValueError):
            damaged = "the archive"
    if damaged is not None:
        raise damaged_model_error(file, config)
    if config is not None:
        check_layer_sizes(layers, config, file)


def check_layer_sizes(document, config: Config, file: Path) -> None:
    """Refuse a model.keras whose layers claim a size (units, sequence length, vocabulary) above config.toml's."""
    m, tokenizer = config.model, config.tokenizer
    bounds = {
        "units": max(m.units, m.hidden_units, 1),
        "output_dim": m.output_dim,
        "input_dim": max(tokenizer.max_tokens, m.wide_max_tokens),
        "output_sequence_length": tokenizer.output_sequence_length or None,
        "max_tokens": max(tokenizer.max_tokens, m.wide_max_tokens),
    }
    stack = [document]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key, value in item.items():
                bound = bounds.get(key, -1)
                if key in bounds and isinstance(value, int) and (bound is None or value > bound):
                    raise SentimentError(
                        f"{file} does not match {file.parent / CONFIG_FILE}: a layer has {key} = {value:,}, more than "
                        f"config.toml allows; restore the model.keras it was trained with, or retrain the model."
                    )
                stack.append(value)
        elif isinstance(item, list):
            stack.extend(item)


def damaged_model_error(file: Path, config: Config | None = None) -> SentimentError:
    """The refusal of a ``model.keras`` (of a model of ``config``'s kind) that Keras cannot load or that is not
    a complete archive."""
    return SentimentError(f"Cannot load {file}: the file is damaged or not a sentiment-rnn model; {keras_fix(config)}.")


def check_model_matches_config(model, config: Config, path: Path) -> None:
    """Refuse a model whose layers disagree with the config.toml beside it (an edited or mixed-up directory)."""
    from sentiment_rnn.models import HEAD_LAYER, head_units, model_architecture

    check_architecture_matches_config(model_architecture(model), config, path, MODEL_FILE, "the model has")
    if config.model.kind == "lm":  # a language model's head is its tied embedding, over the vocabulary
        return
    units, expected = model.get_layer(HEAD_LAYER).units, head_units(config)
    if units != expected:
        classes = classes_of(config.data)
        raise SentimentError(
            f"{path / CONFIG_FILE} does not match {path / MODEL_FILE}: the config names {len(classes)} classes "
            f"({', '.join(classes)}), a head of {expected} outputs, but the model's head has {units}; restore the "
            "config.toml it was trained with, or retrain the model."
        )
