"""The NumPy engine's files in a model directory: ``weights.npz`` (the arrays) and ``engine.json``.

``config.toml`` is the one record of the architecture: the engine is built
from it and the arrays. ``engine.json`` is derived from it (written for
readers outside sentiment-rnn, see docs/model-directory.md); loading refuses
one that disagrees with it, as it refuses arrays whose shapes do not fit it.
Writing takes the arrays out of a trained Keras model.
"""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sentiment_rnn.artifact.files import (
    CONFIG_FILE,
    ENGINE_FILE,
    VOCABULARY_FILE,
    WEIGHTS_FILE,
    check_architecture_matches_config,
    check_format_version,
    config_value,
    read_json,
    write_json,
)
from sentiment_rnn.config import Config, load_config
from sentiment_rnn.engine.cells import CELL_CLASSES, RecurrentLayer
from sentiment_rnn.engine.models import NumpyBagOfWordsEngine, NumpyEngine, NumpyRecurrentEngine, Vocabulary
from sentiment_rnn.errors import SentimentError

ENGINE_FORMAT_VERSION = 2  # 2 added model.pooling (a file without it pools "last")
# The config keys engine.json records besides its format_version and kind, per kind, in the file's order;
# the file names each by its part after the dot.
RECORDED_KEYS = {
    "rnn": (
        "model.cell",
        "model.layers",
        "model.units",
        "model.bidirectional",
        "model.merge_mode",
        "model.pooling",
        "tokenizer.output_sequence_length",
    ),
    "bow": ("model.ngrams", "model.hidden_layers"),
}
FORMAT_1_DEFAULTS = {"pooling": "last"}  # what engine format 1 left out, as it was read
FIX = "retrain the model with `sentiment-rnn train`, or pass --engine keras"
HOLDER = "the weights have"  # how a refusal names weights.npz's side

# The names of the arrays in weights.npz (its format: they never change).
EMBEDDING_WEIGHTS = "embedding"
HEAD_WEIGHTS = "head"
CELL_WEIGHTS = ("kernel", "recurrent_kernel", "bias")  # after a recurrent cell's prefix
DENSE_WEIGHTS = ("kernel", "bias")  # after a dense layer's prefix


def recurrent_weights(index: int, direction: str) -> str:
    """The prefix of recurrent layer ``index``'s ``"forward"`` or ``"backward"`` cell: ``recurrent_<i>.<direction>``."""
    return f"recurrent_{index}.{direction}"


def hidden_weights(index: int) -> str:
    """The prefix of the bag-of-words baseline's hidden layer ``index``: ``hidden_<i>``."""
    return f"hidden_{index}"


def weight_names(architecture: dict[str, Any]) -> list[str]:
    """The names of the arrays ``weights.npz`` holds for an architecture as ``engine.json`` records it.

    Raises:
        KeyError, TypeError: an architecture without the keys (or types) this needs.
    """
    if architecture["kind"] == "bow":
        layers = [hidden_weights(i) for i in range(architecture["hidden_layers"])] + [HEAD_WEIGHTS]
        return [f"{layer}.{name}" for layer in layers for name in DENSE_WEIGHTS]
    directions = ("forward", "backward") if architecture["bidirectional"] else ("forward",)
    cells = [recurrent_weights(i, direction) for i in range(architecture["layers"]) for direction in directions]
    return [
        EMBEDDING_WEIGHTS,
        *(f"{cell}.{name}" for cell in cells for name in CELL_WEIGHTS),
        *(f"{HEAD_WEIGHTS}.{name}" for name in DENSE_WEIGHTS),
    ]


# ---------------------------------------------------------------- writing


def architecture_of(config: Config) -> dict[str, Any]:
    """What ``engine.json`` records: the format version, the kind and its :data:`RECORDED_KEYS` from ``config``."""
    recorded = {key.split(".")[1]: config_value(config, key) for key in RECORDED_KEYS[config.model.kind]}
    return {"format_version": ENGINE_FORMAT_VERSION, "kind": config.model.kind, **recorded}


def weights_of(model, model_config) -> dict[str, np.ndarray]:
    """The arrays of a built Keras model (from ``models.build_model``) with ``[model]`` section ``model_config``, by name.

    Names (:func:`weight_names`): ``embedding``; ``recurrent_<i>.<forward|backward>.<kernel|recurrent_kernel|bias>``;
    ``hidden_<i>.<kernel|bias>``; ``head.<kernel|bias>``.
    """
    from sentiment_rnn.models import (
        EMBEDDING_LAYER,
        HEAD_LAYER,
        bidirectional_layer_name,
        hidden_layer_name,
        recurrent_layer_name,
    )

    arrays: dict[str, np.ndarray] = {}

    def add(prefix: str, layer) -> None:
        names = [variable.path.rsplit("/", 1)[-1] for variable in layer.weights]
        for name, value in zip(names, layer.get_weights()):
            arrays[f"{prefix}.{name}"] = np.asarray(value, dtype=np.float32)

    if model_config.kind == "bow":
        for index in range(model_config.hidden_layers):
            add(hidden_weights(index), model.get_layer(hidden_layer_name(index)))
    else:
        arrays[EMBEDDING_WEIGHTS] = np.asarray(model.get_layer(EMBEDDING_LAYER).get_weights()[0], dtype=np.float32)
        for index in range(model_config.layers):
            if model_config.bidirectional:
                wrapper = model.get_layer(bidirectional_layer_name(index))
                add(recurrent_weights(index, "forward"), wrapper.forward_layer)
                add(recurrent_weights(index, "backward"), wrapper.backward_layer)
            else:
                add(recurrent_weights(index, "forward"), model.get_layer(recurrent_layer_name(index)))
    add(HEAD_WEIGHTS, model.get_layer(HEAD_LAYER))
    return arrays


def write_weights(model, model_config, path: Path) -> None:
    """Write :func:`weights_of` a built Keras model to ``path`` as ``.npz`` (float32 arrays, no pickle)."""
    np.savez(path, **weights_of(model, model_config))


def write_engine_files(model, config: Config, directory: str | Path) -> None:
    """Write ``weights.npz`` and ``engine.json`` for a trained model into ``directory``."""
    directory = Path(directory)
    write_weights(model, config.model, directory / WEIGHTS_FILE)
    write_json(directory / ENGINE_FILE, architecture_of(config))


# ---------------------------------------------------------------- reading


def build_engine(config: Config, arrays: dict[str, np.ndarray], vocabulary: Sequence[str]) -> NumpyEngine:
    """The NumPy engine of the architecture ``config`` describes, holding the named ``arrays``.

    Args:
        config: the model's config (the architecture: ``[model]`` and the tokenizer's sequence length).
        arrays: the weights, named as in ``weights.npz`` (see :func:`weight_names`).
        vocabulary: the tokenizer's vocabulary, index = token id.

    Raises:
        KeyError, ValueError, TypeError: missing or inconsistent arrays (see :func:`load_engine`).
    """
    m = config.model
    words = Vocabulary(vocabulary)
    if m.kind == "bow":
        names = [hidden_weights(i) for i in range(m.hidden_layers)] + [HEAD_WEIGHTS]
        return NumpyBagOfWordsEngine(words, m.ngrams, [(arrays[f"{n}.kernel"], arrays[f"{n}.bias"]) for n in names])
    cell_class = CELL_CLASSES[m.cell]

    def cell(index: int, direction: str):
        prefix = recurrent_weights(index, direction)
        return cell_class(*(arrays[f"{prefix}.{name}"] for name in CELL_WEIGHTS))

    layers = [
        RecurrentLayer(cell(index, "forward"), cell(index, "backward") if m.bidirectional else None, m.merge_mode)
        for index in range(m.layers)
    ]
    return NumpyRecurrentEngine(
        words,
        arrays[EMBEDDING_WEIGHTS],
        layers,
        arrays[f"{HEAD_WEIGHTS}.kernel"],
        arrays[f"{HEAD_WEIGHTS}.bias"],
        config.tokenizer.output_sequence_length,
        m.pooling,
    )


def load_engine(directory: str | Path, config: Config | None = None) -> NumpyEngine:
    """The NumPy engine of a model directory: built from ``config.toml`` and ``weights.npz`` (read without pickle).

    Args:
        directory: a model directory, or a ``numpy`` export of one.
        config: its ``config.toml``, already read; None reads it.

    Raises:
        SentimentError: missing files (a directory written before the NumPy
            engine existed), damaged files, a newer engine format, an
            ``engine.json`` that disagrees with ``config.toml`` or with the
            arrays, or arrays whose shapes disagree with ``config.toml``.
    """
    directory = Path(directory)
    needed = (ENGINE_FILE, WEIGHTS_FILE, VOCABULARY_FILE) + (() if config is not None else (CONFIG_FILE,))
    for name in needed:
        if not (directory / name).is_file():
            raise SentimentError(f"{directory} has no {name}, which the NumPy engine needs: {FIX}.")
    config = config if config is not None else load_config(directory / CONFIG_FILE)
    engine_file, weights_file = directory / ENGINE_FILE, directory / WEIGHTS_FILE
    recorded = read_json(engine_file, FIX)
    vocabulary = read_json(directory / VOCABULARY_FILE, FIX)
    check_format_version(
        recorded,
        engine_file,
        ENGINE_FORMAT_VERSION,
        FIX,
        lambda version: (
            f"{engine_file} has engine format {version}, but this sentiment-rnn reads format "
            f"{ENGINE_FORMAT_VERSION} at most: upgrade sentiment-rnn, or pass --engine keras."
        ),
    )
    try:
        with np.load(weights_file, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise SentimentError(f"{weights_file} is damaged ({type(exc).__name__}): {FIX}.") from None

    def does_not_fit(exc: Exception) -> SentimentError:
        return SentimentError(f"{weights_file} does not fit {ENGINE_FILE} ({type(exc).__name__}: {exc}): {FIX}.")

    try:
        described = recorded_architecture(recorded)
        missing = [name for name in weight_names(recorded) if name not in arrays]
    except (KeyError, ValueError, TypeError) as exc:
        raise does_not_fit(exc) from None
    if missing:
        raise does_not_fit(KeyError(missing[0]))
    check_architecture_matches_config(described, config, directory, WEIGHTS_FILE, HOLDER)
    try:
        engine = build_engine(config, arrays, vocabulary)
    except (KeyError, ValueError, TypeError, IndexError) as exc:
        raise does_not_fit(exc) from None
    check_architecture_matches_config(weights_architecture(engine), config, directory, WEIGHTS_FILE, HOLDER)
    return engine


def recorded_architecture(recorded: dict[str, Any]) -> dict[str, Any]:
    """What an ``engine.json`` says, as ``{"section.key": value}`` (what the config it was derived from said).

    A format 1 file reads as format 2 would say it; ``merge_mode`` counts only
    for a bidirectional model, as it does for the Keras model.

    Raises:
        KeyError, ValueError: a file without a key it should have, or of an unknown kind.
    """
    kind = recorded["kind"]
    if kind not in RECORDED_KEYS:
        raise ValueError(f"unknown model kind {kind!r}")
    recorded = {**FORMAT_1_DEFAULTS, **recorded}
    facts = {"model.kind": kind, **{key: recorded[key.split(".")[1]] for key in RECORDED_KEYS[kind]}}
    if kind == "rnn" and not facts["model.bidirectional"]:
        del facts["model.merge_mode"]
    return facts


def weights_architecture(engine: NumpyEngine) -> dict[str, Any]:
    """The config keys only the arrays' shapes tell, as ``{"section.key": value}`` (the rest came from the config)."""
    if isinstance(engine, NumpyBagOfWordsEngine):
        hidden = engine.dense_layers[:-1]
        return {"model.hidden_units": hidden[0][0].shape[1]} if hidden else {}
    return {"model.output_dim": engine.embedding.shape[1], "model.units": engine.layers[-1].forward.units}


def engine_from_keras(model, config, vocabulary: Sequence[str] | None = None) -> NumpyEngine:
    """An engine holding the weights of a built Keras model, without writing files (for tests and comparisons)."""
    from sentiment_rnn.models import TOKENIZER_LAYER

    if vocabulary is None:
        vocabulary = model.get_layer(TOKENIZER_LAYER).get_vocabulary()
    return build_engine(config, weights_of(model, config.model), vocabulary)
