"""The NumPy engine's files in a model directory: ``engine.json`` (the architecture) and ``weights.npz``.

Writing takes the arrays out of a trained Keras model; reading builds an
engine (``sentiment_rnn.engine``) from them and checks it against ``config.toml``.
"""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sentiment_rnn.artifact.files import (
    ENGINE_FILE,
    VOCABULARY_FILE,
    WEIGHTS_FILE,
    check_architecture_matches_config,
    check_format_version,
    read_json,
    write_json,
)
from sentiment_rnn.engine.cells import CELL_CLASSES, MERGES, Cell, RecurrentLayer
from sentiment_rnn.engine.models import NumpyBagOfWordsEngine, NumpyEngine, NumpyRecurrentEngine, Vocabulary
from sentiment_rnn.errors import SentimentError

ENGINE_FORMAT_VERSION = 2  # 2 added model.pooling (a file without it pools "last")

# The names of the arrays in weights.npz (its format: they never change).
EMBEDDING_WEIGHTS = "embedding"
HEAD_WEIGHTS = "head"


def recurrent_weights(index: int, direction: str) -> str:
    """The prefix of recurrent layer ``index``'s ``"forward"`` or ``"backward"`` cell: ``recurrent_<i>.<direction>``."""
    return f"recurrent_{index}.{direction}"


def hidden_weights(index: int) -> str:
    """The prefix of the bag-of-words baseline's hidden layer ``index``: ``hidden_<i>``."""
    return f"hidden_{index}"


# ---------------------------------------------------------------- files


def architecture_of(config) -> dict[str, Any]:
    """What ``engine.json`` records about a model: the architecture the weights need."""
    m = config.model
    if m.kind == "bow":
        return {
            "format_version": ENGINE_FORMAT_VERSION,
            "kind": "bow",
            "ngrams": m.ngrams,
            "hidden_layers": m.hidden_layers,
        }
    return {
        "format_version": ENGINE_FORMAT_VERSION,
        "kind": "rnn",
        "cell": m.cell,
        "layers": m.layers,
        "units": m.units,
        "bidirectional": m.bidirectional,
        "merge_mode": m.merge_mode,
        "pooling": m.pooling,
        "output_sequence_length": config.tokenizer.output_sequence_length,
    }


def weights_of(model, model_config) -> dict[str, np.ndarray]:
    """The arrays of a built Keras model (from ``models.build_model``) with ``[model]`` section ``model_config``, by name.

    Names: ``embedding``; ``recurrent_<i>.<forward|backward>.<kernel|recurrent_kernel|bias>``;
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


def write_engine_files(model, config, directory: str | Path) -> None:
    """Write ``weights.npz`` and ``engine.json`` for a trained model into ``directory``."""

    directory = Path(directory)
    np.savez(directory / WEIGHTS_FILE, **weights_of(model, config.model))
    write_json(directory / ENGINE_FILE, architecture_of(config))


def build_engine(architecture: dict[str, Any], arrays: dict[str, np.ndarray], vocabulary: Sequence[str]) -> NumpyEngine:
    """An engine from an architecture (as in ``engine.json``), named arrays and the vocabulary.

    Raises:
        KeyError, ValueError, TypeError: missing or inconsistent entries (see :func:`load_engine`).
    """
    words = Vocabulary(vocabulary)
    if architecture["kind"] == "bow":
        names = [hidden_weights(i) for i in range(int(architecture["hidden_layers"]))] + [HEAD_WEIGHTS]
        return NumpyBagOfWordsEngine(
            words, int(architecture["ngrams"]), [(arrays[f"{n}.kernel"], arrays[f"{n}.bias"]) for n in names]
        )
    if architecture["kind"] != "rnn":
        raise ValueError(f"unknown model kind {architecture['kind']!r}")
    cell_class = CELL_CLASSES[architecture["cell"]]
    if architecture["bidirectional"] and architecture["merge_mode"] not in MERGES:
        raise ValueError(f"unknown merge mode {architecture['merge_mode']!r}")

    def cell(prefix: str) -> Cell:
        return cell_class(arrays[f"{prefix}.kernel"], arrays[f"{prefix}.recurrent_kernel"], arrays[f"{prefix}.bias"])

    layers = []
    for index in range(int(architecture["layers"])):
        backward = cell(recurrent_weights(index, "backward")) if architecture["bidirectional"] else None
        layers.append(RecurrentLayer(cell(recurrent_weights(index, "forward")), backward, architecture["merge_mode"]))
    return NumpyRecurrentEngine(
        words,
        arrays[EMBEDDING_WEIGHTS],
        layers,
        arrays[f"{HEAD_WEIGHTS}.kernel"],
        arrays[f"{HEAD_WEIGHTS}.bias"],
        int(architecture.get("output_sequence_length", 0)),
        architecture.get("pooling", "last"),
    )


def load_engine(directory: str | Path, config=None) -> NumpyEngine:
    """Read ``engine.json``, ``weights.npz`` (no pickle) and ``vocabulary.json`` from a model directory.

    Args:
        directory: the model directory.
        config: its ``config.toml`` (a Config), to check the weights against; None skips the check.

    Raises:
        SentimentError: missing files (a directory written before the NumPy
            engine existed), damaged files, a newer engine format, or weights
            that disagree with ``config``.
    """

    directory = Path(directory)
    fix = "retrain the model with `sentiment-rnn train`, or pass --engine keras"
    for name in (ENGINE_FILE, WEIGHTS_FILE, VOCABULARY_FILE):
        if not (directory / name).is_file():
            raise SentimentError(f"{directory} has no {name}, which the NumPy engine needs: {fix}.")
    engine_file, weights_file = directory / ENGINE_FILE, directory / WEIGHTS_FILE
    architecture = read_json(engine_file, fix)
    vocabulary = read_json(directory / VOCABULARY_FILE, fix)
    check_format_version(
        architecture,
        engine_file,
        ENGINE_FORMAT_VERSION,
        fix,
        lambda version: (
            f"{engine_file} has engine format {version}, but this sentiment-rnn reads format "
            f"{ENGINE_FORMAT_VERSION} at most: upgrade sentiment-rnn, or pass --engine keras."
        ),
    )
    try:
        with np.load(weights_file, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise SentimentError(f"{weights_file} is damaged ({type(exc).__name__}): {fix}.") from None
    try:
        engine = build_engine(architecture, arrays, vocabulary)
    except (KeyError, ValueError, TypeError, IndexError) as exc:
        raise SentimentError(
            f"{weights_file} does not fit {ENGINE_FILE} ({type(exc).__name__}: {exc}): {fix}."
        ) from None
    if config is not None:
        check_engine_matches_config(engine, config, directory)
    return engine


def engine_architecture(engine: NumpyEngine) -> dict[str, Any]:
    """The config keys an engine's weights determine, as ``{"section.key": value}``."""
    if isinstance(engine, NumpyBagOfWordsEngine):
        facts: dict[str, Any] = {"model.kind": "bow", "model.hidden_layers": len(engine.dense_layers) - 1}
        if len(engine.dense_layers) > 1:
            facts["model.hidden_units"] = engine.dense_layers[0][0].shape[1]
        facts["model.ngrams"] = engine.ngrams
        return facts
    top = engine.layers[-1]
    facts = {
        "model.kind": "rnn",
        "model.output_dim": engine.embedding.shape[1],
        "model.layers": len(engine.layers),
        "model.bidirectional": top.backward is not None,
    }
    if top.backward is not None:
        facts["model.merge_mode"] = top.merge_mode
    cell_names = {cell_class: name for name, cell_class in CELL_CLASSES.items()}
    facts["model.cell"] = cell_names[type(top.forward)]
    facts["model.units"] = top.forward.units
    facts["model.pooling"] = engine.pooling
    facts["tokenizer.output_sequence_length"] = engine.output_sequence_length
    return facts


def check_engine_matches_config(engine: NumpyEngine, config, directory: Path) -> None:
    """Refuse weights that disagree with the config.toml beside them (an edited or mixed-up directory)."""

    check_architecture_matches_config(engine_architecture(engine), config, directory, WEIGHTS_FILE, "the weights have")


def engine_from_keras(model, config, vocabulary: Sequence[str] | None = None) -> NumpyEngine:
    """An engine holding the weights of a built Keras model, without writing files (for tests and comparisons)."""
    from sentiment_rnn.models import TOKENIZER_LAYER

    if vocabulary is None:
        vocabulary = model.get_layer(TOKENIZER_LAYER).get_vocabulary()
    return build_engine(architecture_of(config), weights_of(model, config.model), vocabulary)
