"""The NumPy engine's files in a model directory: ``weights.npz`` (the arrays) and ``engine.json``.

``config.toml`` is the one record of the architecture: the engine is built
from it and the arrays. ``engine.json`` is derived from it (written for
readers outside sentiment-rnn, see docs/model-directory.md); loading refuses
one that disagrees with it, as it refuses arrays whose shapes do not fit it.
Writing takes the arrays out of a trained Keras model.

Longer than 400 lines because it writes, reads and checks the arrays of every model kind
(rnn, bow, hybrid) against config.toml in one place; split it by kind if it grows further.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sentiment_rnn import safe_read
from sentiment_rnn.artifact.files import (
    CONFIG_FILE,
    ENGINE_FILE,
    LEGACY_WIDE_VOCABULARY_FILE,
    VOCABULARY_FILE,
    WEIGHTS_FILE,
    WIDE_VOCABULARY_FILE,
    check_architecture_matches_config,
    check_format_version,
    config_value,
    read_json,
    retrain_command,
    write_json,
)
from sentiment_rnn.artifact.npz_headers import read_arrays, read_headers
from sentiment_rnn.config import Config, load_config
from sentiment_rnn.data.labels import classes_of, output_units, parse_classes
from sentiment_rnn.engine.cells import CELL_CLASSES, RecurrentLayer
from sentiment_rnn.engine.hybrid import NumpyHybridEngine, WideVocabulary
from sentiment_rnn.engine.language import NumpyLanguageModel
from sentiment_rnn.engine.models import NumpyBagOfWordsEngine, NumpyEngine, NumpyRecurrentEngine, Vocabulary
from sentiment_rnn.errors import SentimentError
from sentiment_rnn.text import OOV_TOKEN, PADDING_TOKEN

# 2 added model.pooling (a file without it pools "last"); 3 keeps a hybrid's n-grams in
# wide_vocabulary.txt, one a line, with their digest (2 kept them in wide_vocabulary.json);
# 4 names the classes ("classes", data.labels): a softmax head over more than two, or two named
# otherwise than negative/positive. A model of the default two classes is still written as format 3.
ENGINE_FORMAT_VERSION = 4
TWO_CLASS_ENGINE_FORMAT = 3
CLASSES_KEY = "classes"
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
RECORDED_KEYS["hybrid"] = (*RECORDED_KEYS["rnn"], "model.ngrams")
RECORDED_KEYS["lm"] = ("model.cell", "model.layers", "model.units")
FORMAT_1_DEFAULTS = {"pooling": "last"}  # what engine format 1 left out, as it was read
FIX = "retrain the model with `sentiment-rnn train`, or pass --engine keras"  # a classifier's (engine_fix)
HOLDER = "the weights have"  # how a refusal names weights.npz's side


def engine_fix(config: Config | None) -> str:
    """How to fix a damaged NumPy engine file of a model of ``config``'s kind: the end of a refusal.

    A classifier's is :data:`FIX`. A language model's names ``pretrain``, and not ``--engine keras``: its
    engine is also read by ``train --init-from`` and ``pretrain --init-from``, which have no such option.
    """
    if config is not None and config.model.kind == "lm":
        return f"retrain the language model with {retrain_command(config)}"
    return FIX


# The names of the arrays in weights.npz (its format: they never change).
EMBEDDING_WEIGHTS = "embedding"
HEAD_WEIGHTS = "head"
WIDE_WEIGHTS = "wide.kernel"  # hybrid: the wide branch's (V, 1) weights
OUTPUT_BIAS_WEIGHTS = "output_bias"  # language model: the next word's bias (V,), beside the tied embedding
PROJECTION_WEIGHTS = "projection"  # language model: the top state mapped to the embedding's size
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
    directions = ("forward", "backward") if architecture.get("bidirectional") else ("forward",)
    cells = [recurrent_weights(i, direction) for i in range(architecture["layers"]) for direction in directions]
    if architecture["kind"] == "lm":
        return [
            EMBEDDING_WEIGHTS,
            OUTPUT_BIAS_WEIGHTS,
            *(f"{cell}.{name}" for cell in cells for name in CELL_WEIGHTS),
            *(f"{PROJECTION_WEIGHTS}.{name}" for name in DENSE_WEIGHTS),
        ]
    return [
        EMBEDDING_WEIGHTS,
        *(f"{cell}.{name}" for cell in cells for name in CELL_WEIGHTS),
        *(f"{HEAD_WEIGHTS}.{name}" for name in DENSE_WEIGHTS),
        *([WIDE_WEIGHTS] if architecture["kind"] == "hybrid" else []),
    ]


# ---------------------------------------------------------------- writing


def architecture_of(config: Config) -> dict[str, Any]:
    """What ``engine.json`` records: the format version, the kind and its :data:`RECORDED_KEYS` from ``config``,
    and the classes when ``data.labels`` names them (format 4; else format 3, as before classes)."""
    recorded = {key.split(".")[1]: config_value(config, key) for key in RECORDED_KEYS[config.model.kind]}
    if not config.data.labels:
        return {"format_version": TWO_CLASS_ENGINE_FORMAT, "kind": config.model.kind, **recorded}
    classes = list(parse_classes(config.data.labels))
    return {"format_version": ENGINE_FORMAT_VERSION, "kind": config.model.kind, **recorded, CLASSES_KEY: classes}


def weights_of(model, model_config) -> dict[str, np.ndarray]:
    """The arrays of a built Keras model (from ``models.build_model``) with ``[model]`` section ``model_config``, by name.

    Names (:func:`weight_names`): ``embedding``; ``recurrent_<i>.<forward|backward>.<kernel|recurrent_kernel|bias>``;
    ``hidden_<i>.<kernel|bias>``; ``head.<kernel|bias>``; ``wide.kernel``.
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
        embedding = model.get_layer(EMBEDDING_LAYER).get_weights()
        arrays[EMBEDDING_WEIGHTS] = np.asarray(embedding[0], dtype=np.float32)
        if model_config.kind == "lm":
            arrays[OUTPUT_BIAS_WEIGHTS] = np.asarray(embedding[1], dtype=np.float32)
        for index in range(model_config.layers):
            if model_config.bidirectional:
                wrapper = model.get_layer(bidirectional_layer_name(index))
                add(recurrent_weights(index, "forward"), wrapper.forward_layer)
                add(recurrent_weights(index, "backward"), wrapper.backward_layer)
            else:
                add(recurrent_weights(index, "forward"), model.get_layer(recurrent_layer_name(index)))
    if model_config.kind == "lm":
        from sentiment_rnn.models import PROJECTION_LAYER

        add(PROJECTION_WEIGHTS, model.get_layer(PROJECTION_LAYER))
        return arrays
    add(HEAD_WEIGHTS, model.get_layer(HEAD_LAYER))
    if model_config.kind == "hybrid":
        from sentiment_rnn.wide import WIDE_LAYER

        add(WIDE_LAYER, model.get_layer(WIDE_LAYER))
    return arrays


def wide_vocabulary_of(model) -> list[str]:
    """The n-grams of a built hybrid model's wide vectorizer, index = multi-hot column."""
    from sentiment_rnn.wide import WIDE_TOKENIZER_LAYER

    return [str(gram) for gram in model.get_layer(WIDE_TOKENIZER_LAYER).get_vocabulary()]


def write_weights(model, model_config, path: Path) -> None:
    """Write :func:`weights_of` a built Keras model to ``path`` as ``.npz`` (float32 arrays, no pickle)."""
    np.savez(path, **weights_of(model, model_config))


def write_engine_files(model, config: Config, directory: str | Path, vocabulary: Sequence[str] | None = None) -> None:
    """Write ``weights.npz`` and ``engine.json`` (and a hybrid's ``wide_vocabulary.txt``) into ``directory``.

    ``vocabulary`` is the model's (a language model has no tokenizer layer); None reads the tokenizer's.

    ``engine.json`` also records :func:`vocabulary_digest` of the model's
    vocabulary (and the SHA-256 of ``wide_vocabulary.txt``), so that an edited
    vocabulary is refused by the NumPy engine instead of answering differently
    from the Keras model.
    """
    from sentiment_rnn.models import TOKENIZER_LAYER

    directory = Path(directory)
    write_weights(model, config.model, directory / WEIGHTS_FILE)
    if vocabulary is None:
        vocabulary = list(model.get_layer(TOKENIZER_LAYER).get_vocabulary())
    recorded = {**architecture_of(config), VOCABULARY_DIGEST: vocabulary_digest(vocabulary)}
    if config.model.kind == "hybrid":
        lines = WideVocabulary.from_grams(wide_vocabulary_of(model)).lines
        (directory / WIDE_VOCABULARY_FILE).write_bytes(lines)
        recorded[WIDE_VOCABULARY_DIGEST] = wide_vocabulary_digest(lines)
    write_json(directory / ENGINE_FILE, recorded)


VOCABULARY_DIGEST = "vocabulary_sha256"  # the engine.json key; files written before it existed lack it
WIDE_VOCABULARY_DIGEST = "wide_vocabulary_sha256"  # of wide_vocabulary.txt's bytes (engine format 3 on)


def vocabulary_digest(vocabulary: Sequence[str]) -> str:
    """The SHA-256 (hex) of a vocabulary as its tokens joined by newlines, UTF-8 (surrogates passed through)."""
    return hashlib.sha256("\n".join(vocabulary).encode("utf-8", "surrogatepass")).hexdigest()


def wide_vocabulary_digest(lines: bytes) -> str:
    """The SHA-256 (hex) of ``wide_vocabulary.txt``'s bytes (``WideVocabulary.lines``)."""
    return hashlib.sha256(lines).hexdigest()


# ---------------------------------------------------------------- reading


def build_engine(
    config: Config,
    arrays: dict[str, np.ndarray],
    vocabulary: Sequence[str],
    wide_vocabulary: Sequence[str] | WideVocabulary | None = None,
) -> NumpyEngine | NumpyHybridEngine:
    """The NumPy engine of the architecture ``config`` describes, holding the named ``arrays``.

    Args:
        config: the model's config (the architecture: ``[model]`` and the tokenizer's sequence length).
        arrays: the weights, named as in ``weights.npz`` (see :func:`weight_names`).
        vocabulary: the tokenizer's vocabulary, index = token id.
        wide_vocabulary: a hybrid model's n-grams, index = row of ``wide.kernel`` (a list or as read from its file).

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
    if m.kind == "lm":
        return NumpyLanguageModel(
            words,
            arrays[EMBEDDING_WEIGHTS],
            arrays[OUTPUT_BIAS_WEIGHTS],
            layers,
            arrays[f"{PROJECTION_WEIGHTS}.kernel"],
            arrays[f"{PROJECTION_WEIGHTS}.bias"],
        )
    recurrent = NumpyRecurrentEngine(
        words,
        arrays[EMBEDDING_WEIGHTS],
        layers,
        arrays[f"{HEAD_WEIGHTS}.kernel"],
        arrays[f"{HEAD_WEIGHTS}.bias"],
        config.tokenizer.output_sequence_length,
        m.pooling,
    )
    if m.kind != "hybrid":
        return recurrent
    if isinstance(wide_vocabulary, list):
        wide_vocabulary = WideVocabulary.from_grams(wide_vocabulary)
    if not isinstance(wide_vocabulary, WideVocabulary):
        raise TypeError(f"a hybrid model needs its wide vocabulary as a list, got {type(wide_vocabulary).__name__}")
    kernel = arrays[WIDE_WEIGHTS]
    units = recurrent.head_units
    if kernel.shape != (len(wide_vocabulary), units):
        raise ValueError(f"{WIDE_WEIGHTS} has shape {kernel.shape}, expected ({len(wide_vocabulary)}, {units})")
    return NumpyHybridEngine(recurrent, wide_vocabulary, m.ngrams, kernel)


def load_engine(directory: str | Path, config: Config | None = None) -> NumpyEngine | NumpyHybridEngine:
    """The NumPy engine of a model directory: built from ``config.toml`` and ``weights.npz`` (read without pickle).

    Everything is checked before an array is read: ``engine.json`` against
    ``config.toml``, ``vocabulary.json`` (a list of distinct strings, padding
    and ``[UNK]`` first), and every ``.npy`` header in ``weights.npz`` (float32,
    no objects, a small header, the shape :func:`expected_shapes` gives for the
    config and the vocabulary's size). A tampered file is refused, never
    allocated or answered from.

    Args:
        directory: a model directory, or a ``numpy`` export of one.
        config: its ``config.toml``, already read; None reads it.

    Raises:
        SentimentError: missing files (a directory written before the NumPy
            engine existed), damaged files, a newer engine format, an
            ``engine.json`` that disagrees with ``config.toml``, a vocabulary or
            arrays that disagree with it.
    """
    directory = Path(directory)
    if config is None:
        if not os.path.lexists(directory / CONFIG_FILE):
            raise SentimentError(f"{directory} has no {CONFIG_FILE}, which the NumPy engine needs: {FIX}.")
        config = load_config(directory / CONFIG_FILE, inside=directory)
    fix = engine_fix(config)
    for name in (ENGINE_FILE, WEIGHTS_FILE, VOCABULARY_FILE):
        if not os.path.lexists(directory / name):
            raise SentimentError(f"{directory} has no {name}, which the NumPy engine needs: {fix}.")
    engine_file, weights_file = directory / ENGINE_FILE, directory / WEIGHTS_FILE
    recorded = read_json(engine_file, fix)
    check_format_version(
        recorded,
        engine_file,
        ENGINE_FORMAT_VERSION,
        fix,
        lambda version: (
            f"{engine_file} has engine format {version}, but this sentiment-rnn reads format "
            f"{ENGINE_FORMAT_VERSION} at most: upgrade sentiment-rnn, or pass --engine keras."
        ),
    )
    try:
        described = recorded_architecture(recorded)
    except (KeyError, ValueError, TypeError) as exc:
        raise SentimentError(f"{engine_file} is damaged ({type(exc).__name__}: {exc}): {fix}.") from None
    headers = read_headers(weights_file, fix)
    shown = {name: shape for name, (shape, _) in headers.items()}
    check_architecture_matches_config(shape_architecture(config, shown), config, directory, WEIGHTS_FILE, HOLDER)
    check_architecture_matches_config(described, config, directory, ENGINE_FILE, "engine.json has")
    vocabulary = checked_vocabulary(directory / VOCABULARY_FILE, config, recorded.get(VOCABULARY_DIGEST))
    wide_vocabulary = checked_wide_vocabulary(directory, config, recorded.get(WIDE_VOCABULARY_DIGEST))
    expected = expected_shapes(config, len(vocabulary), len(wide_vocabulary or ()))
    for name, shape in expected.items():
        if name not in headers:
            raise SentimentError(f"{weights_file} has no array {name!r}, which config.toml needs: {fix}.")
        if headers[name][0] != shape:
            sized_by = (
                f"the {len(wide_vocabulary or ())} n-grams of {WIDE_VOCABULARY_FILE}"
                if name == WIDE_WEIGHTS
                else f"the {len(vocabulary)} tokens of {VOCABULARY_FILE}"
            )
            raise SentimentError(
                f"{weights_file}: array {name!r} has shape {headers[name][0]}, but config.toml and "
                f"{sized_by} need {shape}: {fix}."
            )
    extra = sorted(set(headers) - set(expected))
    if extra:
        raise SentimentError(f"{weights_file} holds an array {extra[0]!r} this model does not have: {fix}.")
    arrays = read_arrays(weights_file, fix)
    from sentiment_rnn.finite import check_finite

    check_finite(arrays, weights_file, fix)
    return build_engine(config, arrays, vocabulary, wide_vocabulary)


def checked_wide_vocabulary(directory: Path, config: Config, digest: str | None = None) -> WideVocabulary | None:
    """A hybrid model's n-grams, if they are distinct strings starting with ``[UNK]``; None for other kinds.

    They are read from ``wide_vocabulary.txt`` (one a line), or from the JSON list
    ``wide_vocabulary.json`` of a directory written before it. A ``.txt`` whose
    bytes have the SHA-256 ``digest`` (engine.json's, written with it) is the
    one the model was trained with, checked then: only its start and end are
    looked at, so loading it costs no parsing. Without a digest every line is checked.

    Raises:
        SentimentError: a hybrid model without either file, a file that is no such list, or whose digest differs.
    """
    if config.model.kind != "hybrid":
        return None
    fix = engine_fix(config)
    file = directory / WIDE_VOCABULARY_FILE
    if not os.path.lexists(file) and os.path.lexists(directory / LEGACY_WIDE_VOCABULARY_FILE):
        file = directory / LEGACY_WIDE_VOCABULARY_FILE
        grams = read_json(file, fix, kind=safe_read.WIDE_VOCABULARY)
        distinct = isinstance(grams, list) and set(map(type, grams)) <= {str} and len(set(grams)) == len(grams)
        if not distinct or grams[:1] != [OOV_TOKEN] or any("\n" in gram for gram in grams):
            raise SentimentError(f"{file} is not a list of distinct n-grams starting with '[UNK]': {fix}.")
        return WideVocabulary.from_grams(grams)
    if not os.path.lexists(file):
        raise SentimentError(f"{directory} is missing {file.name}: retrain the model.")
    lines = safe_read.read_bytes(file, safe_read.WIDE_VOCABULARY, fix, inside=directory)
    if digest is not None and digest != wide_vocabulary_digest(lines):
        raise SentimentError(
            f"{file} is not the n-grams the model was trained with (its digest differs from {ENGINE_FILE}'s): "
            f"restore it, {fix}."
        )
    well_formed = lines.startswith(f"{OOV_TOKEN}\n".encode()) and lines.endswith(b"\n")
    wide = WideVocabulary(lines)
    if well_formed and digest is None:
        try:
            well_formed = len(set(wide.vocabulary.tokens)) == len(wide)
        except UnicodeDecodeError:
            well_formed = False
    if not well_formed:
        raise SentimentError(f"{file} is not a list of distinct n-grams, one a line, starting with '[UNK]': {fix}.")
    return wide


def checked_vocabulary(file: Path, config: Config, digest: str | None = None) -> list[str]:
    """The vocabulary in ``file`` if it is a list of distinct strings that starts as the model kind's does.

    A recurrent model's starts ``["", "[UNK]"]`` (padding, then unknown); a
    bag of words' starts ``["[UNK]"]``. One whose :func:`vocabulary_digest` is
    ``digest`` (engine.json's) is the one written with the model, distinct by
    construction: it is not searched for duplicates again. Its length is
    checked against the arrays by :func:`load_engine`.

    Raises:
        SentimentError: anything else (a dict, numbers, duplicates, a wrong start, another digest).
    """
    fix = engine_fix(config)
    vocabulary = read_json(file, fix, kind=safe_read.VOCABULARY)
    start = [OOV_TOKEN] if config.model.kind == "bow" else [PADDING_TOKEN, OOV_TOKEN]
    problem, recorded = None, False
    if not isinstance(vocabulary, list) or not set(map(type, vocabulary)) <= {str}:
        problem = "it is not a list of strings"
    elif vocabulary[: len(start)] != start:
        problem = f"it does not start with {start!r}"
    else:
        recorded = digest is not None and digest == vocabulary_digest(vocabulary)
        if not recorded and len(set(vocabulary)) != len(vocabulary):
            problem = "it lists a token twice"
    if problem:
        raise SentimentError(f"{file} is not a vocabulary ({problem}): {fix}.")
    if digest is not None and not recorded:
        raise SentimentError(
            f"{file} is not the vocabulary the model was trained with "
            f"(its digest differs from {ENGINE_FILE}'s): restore it, {fix}."
        )
    return vocabulary


def expected_shapes(config: Config, vocabulary_size: int, wide_size: int = 0) -> dict[str, tuple[int, ...]]:
    """The shape of every array ``weights.npz`` holds for ``config`` and a vocabulary of ``vocabulary_size`` tokens.

    Recurrent: ``embedding`` (V, output_dim); each cell's kernel, recurrent
    kernel and bias (see ``weight_shapes`` of the cell classes), the input of
    layer i > 0 being the merged width of layer i - 1; ``head`` (width, K), (K,)
    (3 width with ``pooling = "concat"``). Bag of words: ``hidden_<i>`` (V or hidden_units, hidden_units); ``head`` (last width, K), (K,).
    Hybrid: the recurrent arrays and ``wide.kernel`` (``wide_size`` n-grams, K).
    K is 1 for two classes (a sigmoid head), N for N > 2 classes (a softmax head).
    Language model: the recurrent arrays without ``head``; ``output_bias`` (V,), ``projection`` (units, output_dim), (output_dim,).
    """
    m = config.model
    units = output_units(classes_of(config.data))
    shapes: dict[str, tuple[int, ...]] = {}
    if m.kind == "bow":
        width = vocabulary_size
        for index in range(m.hidden_layers):
            shapes[f"{hidden_weights(index)}.kernel"] = (width, m.hidden_units)
            shapes[f"{hidden_weights(index)}.bias"] = (m.hidden_units,)
            width = m.hidden_units
    else:
        shapes[EMBEDDING_WEIGHTS] = (vocabulary_size, m.output_dim)
        directions = ("forward", "backward") if m.bidirectional else ("forward",)
        width = m.output_dim
        for index in range(m.layers):
            for direction in directions:
                cell = CELL_CLASSES[m.cell].weight_shapes(width, m.units)
                for name, shape in zip(CELL_WEIGHTS, cell):
                    shapes[f"{recurrent_weights(index, direction)}.{name}"] = shape
            width = m.units * (2 if m.bidirectional and m.merge_mode == "concat" else 1)
    if m.kind == "lm":
        shapes[OUTPUT_BIAS_WEIGHTS] = (vocabulary_size,)
        shapes[f"{PROJECTION_WEIGHTS}.kernel"] = (width, m.output_dim)
        shapes[f"{PROJECTION_WEIGHTS}.bias"] = (m.output_dim,)
        return shapes
    pooled = 3 if m.kind != "bow" and m.pooling == "concat" else 1  # the last output, max and mean side by side
    shapes[f"{HEAD_WEIGHTS}.kernel"] = (width * pooled, units)
    shapes[f"{HEAD_WEIGHTS}.bias"] = (units,)
    if m.kind == "hybrid":
        shapes[WIDE_WEIGHTS] = (wide_size, units)
    return shapes


def shape_architecture(config: Config, shapes: dict[str, tuple[int, ...]]) -> dict[str, Any]:
    """The config keys the arrays' shapes tell (sizes), as ``{"section.key": value}``, from the headers alone."""
    if config.model.kind == "bow":
        first = shapes.get(f"{hidden_weights(0)}.kernel")
        return {"model.hidden_units": first[1]} if config.model.hidden_layers and first and len(first) == 2 else {}
    facts = {}
    embedding = shapes.get(EMBEDDING_WEIGHTS)
    if embedding and len(embedding) == 2:
        facts["model.output_dim"] = embedding[1]
    recurrent = shapes.get(f"{recurrent_weights(config.model.layers - 1, 'forward')}.recurrent_kernel")
    if recurrent and len(recurrent) == 2:
        facts["model.units"] = recurrent[0]
    return facts


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
    classes = recorded.get(CLASSES_KEY, [])
    if not isinstance(classes, list) or not all(isinstance(name, str) for name in classes):
        raise TypeError(f"{CLASSES_KEY} must be a list of strings, got {classes!r}")
    facts["data.labels"] = ",".join(classes)
    if kind in ("rnn", "hybrid") and not facts["model.bidirectional"]:
        del facts["model.merge_mode"]
    return facts


def engine_from_keras(model, config, vocabulary: Sequence[str] | None = None) -> NumpyEngine | NumpyHybridEngine:
    """An engine holding the weights of a built Keras model, without writing files (for tests and comparisons)."""
    from sentiment_rnn.models import TOKENIZER_LAYER

    if vocabulary is None:
        vocabulary = model.get_layer(TOKENIZER_LAYER).get_vocabulary()
    wide_vocabulary = wide_vocabulary_of(model) if config.model.kind == "hybrid" else None
    return build_engine(config, weights_of(model, config.model), vocabulary, wide_vocabulary)
