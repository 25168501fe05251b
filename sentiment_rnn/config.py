"""Configuration: frozen dataclasses per section, loaded from TOML and validated.

A config file has the sections ``[data]``, ``[tokenizer]``, ``[model]`` and
``[train]``; every key is optional and defaults to the values below. Keys use
the Keras argument names where one exists, so they pass straight through.
Unknown sections or keys, values of the wrong type and values out of range are
errors, never silently ignored.

Longer than 400 lines because the checks of data.sources and of the label mapping live
beside the dataclasses they validate; a config/ package is the next step if it grows.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
import os
import tomllib
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sentiment_rnn import safe_read
from sentiment_rnn.errors import SentimentError

CELLS = ("simple", "gru", "lstm")
MERGE_MODES = ("concat", "sum", "mul", "ave")
POOLINGS = ("last", "max", "mean", "concat")
SCHEDULES = ("constant", "one-cycle")
MODEL_KINDS = ("rnn", "bow", "hybrid", "lm")  # "lm": the language model sentiment-rnn pretrain trains
DISTRIBUTE_CHOICES = ("none", "mirrored", "multi-worker")
CALIBRATIONS = ("temperature", "platt")  # train.calibration: see sentiment_rnn.training.temperature
MAX_SEED = 2**32 - 1  # NumPy's and TensorFlow's seeds are 32-bit
MAX_DEPTH = 64  # model.layers, model.hidden_layers, model.ngrams: more would take minutes just to build
CLASS_WEIGHTS = ("none", "balanced")  # train.class_weight: see sentiment_rnn.training.fit.class_weights
MAX_ENSEMBLE = 32  # train.ensemble: more members cost as many trainings and add next to nothing
ON_EMPTY_CHOICES = ("skip", "error")
TABLE_FORMATS = ("csv", "tsv", "jsonl", "glue")  # data.format values with a header row and columns
LINE_FORMATS = ("fasttext", "label-text")  # one labelled example a line
FORMATS = (*TABLE_FORMATS, *LINE_FORMATS, "imdb")  # what sentiment_rnn.data.read_dataset reads
IMDB_SPLITS = ("train", "test")


@dataclass(frozen=True)
class DataConfig:
    path: str = ""  # data file, directory or tarball; "" means the built-in corpus
    text_column: str = "text"  # column holding the text
    label_column: str = "label"  # column holding the labels (0/1, pos/neg, stars, negative/neutral/positive, ...)
    encoding: str = "utf-8"  # text encoding of the file, e.g. "cp1252"
    format: str = "auto"  # one of FORMATS, or "auto" to guess from the path
    split: str = ""  # IMDB layout only: "train" or "test"
    pos: str = ""  # a file of positive texts, one a line (with neg, instead of path)
    neg: str = ""  # a file of negative texts, one a line (with pos, instead of path)
    streaming: bool = False  # read the file as a tf.data stream, never whole in memory (sentiment_rnn.streaming)
    shuffle_buffer: int = 10000  # streaming only: rows held in the shuffle buffer
    vocabulary_sample: int = 0  # streaming only: adapt the vocabulary on about this many rows; 0 = all
    on_empty: str = "skip"  # rows with missing or blank text: "skip" (and count) or "error"
    skip_every: int = 0  # drop rows i % skip_every == 0 (0-based; e.g. 10: MR's test tenth); 0 = keep all
    sources: tuple[DataConfig, ...] = ()  # several datasets in one run ([[data.sources]] tables), instead of path
    positive: str = ""  # labels that mean positive, comma-separated, e.g. "4,5"; "" = the built-in labels
    negative: str = ""  # labels that mean negative, e.g. "1,2"; rows with other labels are skipped and counted
    labels: str = ""  # the classes in order, e.g. "negative,neutral,positive"; "" = learned from the data
    label_map: str = ""  # labels grouped into classes, e.g. "1,2=negative;3=neutral;4,5=positive"; others skipped
    test_path: str = ""  # a held-out test file (same format and columns as path), measured once after training


# The [data] keys a [[data.sources]] table may set: what names one dataset and how to read it.
SOURCE_KEYS = (
    "path",
    "text_column",
    "label_column",
    "encoding",
    "format",
    "split",
    "pos",
    "neg",
    "on_empty",
    "skip_every",
)


@dataclass(frozen=True)
class TokenizerConfig:
    max_tokens: int = 20000  # vocabulary size, including padding and [UNK]
    output_sequence_length: int = 0  # truncate/pad every text to this many tokens; 0 = no limit


@dataclass(frozen=True)
class ModelConfig:
    kind: str = "rnn"  # "rnn" (recurrent), "bow" (bag-of-words dense baseline) or "hybrid" (rnn + wide n-grams)
    output_dim: int = 64  # embedding size
    embeddings: str = ""  # GloVe/word2vec text file to initialise the embedding from; "" = random
    cell: str = "simple"  # "simple" (SimpleRNN), "gru" or "lstm"
    layers: int = 1  # stacked recurrent layers
    units: int = 64  # hidden state size of each recurrent layer (per direction)
    dropout: float = 0.0  # dropout on each recurrent layer's inputs
    recurrent_dropout: float = 0.0  # dropout on the recurrent state
    bidirectional: bool = False  # read the text forwards and backwards
    merge_mode: str = "concat"  # how the two directions combine: concat, sum, mul, ave
    pooling: str = "last"  # what the head reads: "last" state, the "max" or "mean" of the top layer over time, or "concat" (all three)
    stateful: bool = False  # save a fixed-batch model that carries state across calls
    stateful_batch_size: int = 1  # the fixed batch size of a stateful model
    return_sequences: bool = False  # save the many-to-many view: a probability after every token
    hidden_units: int = 64  # bag-of-words baseline: size of each dense hidden layer
    hidden_layers: int = 1  # bag-of-words baseline: number of dense hidden layers
    ngrams: int = 1  # bag-of-words baseline and hybrid wide branch: 1 = unigrams, 2 = unigrams and bigrams, ...
    wide_max_tokens: int = 100000  # hybrid: n-gram vocabulary size of the wide branch, including [UNK]
    wide_alpha: float = 1.0  # hybrid: smoothing count of the log-count ratios (Wang & Manning 2012)
    wide_scale: float = 1.0  # hybrid: the wide weights start at wide_scale x the log-count ratios
    init_from: str = ""  # a language model directory (sentiment-rnn pretrain) to start from; "" = random


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 15  # upper bound; early stopping usually ends sooner
    batch_size: int = 32  # examples per gradient step
    learning_rate: float = 0.003  # Adam step size
    clipnorm: float = 1.0  # gradient norm clipping; keeps SimpleRNN from blowing up
    validation_split: float = 0.1  # fraction held out for validation and early stopping
    test_split: float = 0.0  # fraction held out (seeded) as a test part early stopping never sees; 0 = none
    patience: int = 3  # epochs without val_loss improvement before stopping
    seed: int = 42  # shuffling, split and initialisation; same seed, same model on CPU
    steps_per_epoch: int = 0  # batches per epoch; 0 = one pass over the training data
    bucket_by_length: bool = False  # batch texts of similar token counts together (less padding)
    steps_per_execution: int = 1  # training steps per call of the compiled step (Keras); more = less Python per step
    distribute: str = "none"  # "none", "mirrored" (local devices) or "multi-worker" (TF_CONFIG cluster)
    calibrate: bool = True  # fit a temperature on the validation split after training (sentiment_rnn.calibration)
    calibration: str = "temperature"  # "temperature" (one T) or "platt" (a scale per branch and a bias)
    ensemble: int = 1  # models trained on the same split from different seeds; they answer with their mean probability
    ema: float = 0.0  # momentum of a moving average of the weights (Adam use_ema), e.g. 0.999; 0 = off
    schedule: str = "constant"  # learning rate: "constant", or "one-cycle" (10% warm-up, then a cosine down)
    discriminative: float = 1.0  # each layer group below the head learns this many times slower (ULMFiT: 2.6)
    gradual_unfreezing: bool = False  # epoch 1 trains the head only, each next epoch one layer group more
    class_weight: str = "none"  # "balanced": each class's examples weigh n / (classes x its count) in the loss
    bptt: int = 70  # language model: tokens per training window (truncated backpropagation through time)
    sampled_softmax: int = 512  # language model: words sampled per step for the softmax; 0 = the full softmax


@dataclass(frozen=True)
class Config:
    data: DataConfig = field(default_factory=DataConfig)
    tokenizer: TokenizerConfig = field(default_factory=TokenizerConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)


SECTIONS: dict[str, type] = typing.get_type_hints(Config)


@functools.cache
def section_types(section: str) -> dict[str, Any]:
    """The declared type of each key of a config section, e.g. ``{"epochs": int, ...}`` for "train".

    Cached: resolving the annotations evaluates each of them, and a config has about 50 keys.
    """
    return typing.get_type_hints(SECTIONS[section])


def load_config(
    path: str | Path | None = None, overrides: list[str] | tuple[str, ...] = (), inside: str | Path | None = None
) -> Config:
    """Read a TOML config (or the defaults), apply ``section.key=value`` overrides, validate.

    Args:
        path: a TOML file, or None for the defaults. It is read through ``safe_read``: a regular
            file of at most 4 MiB (a FIFO, a device or a directory is refused, never waited on).
        overrides: strings such as ``"train.epochs=3"``; values are parsed as TOML
            values, so ``model.cell=gru`` and ``model.cell="gru"`` both work.
        inside: the model directory holding ``path`` (no symlink is followed below it).

    Raises:
        SentimentError: unreadable file, bad TOML, unknown key, wrong type or value.
    """
    raw: dict[str, Any] = {}
    if path is not None:
        path = Path(path)
        if not os.path.lexists(path):
            raise SentimentError(f"Config file {path} does not exist: check the --config path.")
        fix = "pass a readable UTF-8 TOML file to --config" if inside is None else "restore it, or retrain the model"
        text = safe_read.read_text(path, safe_read.CONFIG, fix, inside=inside)
        try:
            raw = tomllib.loads(text)
        except (tomllib.TOMLDecodeError, ValueError) as exc:  # ValueError: an integer of over 4,300 digits
            raise SentimentError(f"Config file {path} is not valid TOML ({exc}): fix the syntax.") from None
        except RecursionError:
            raise SentimentError(f"Config file {path} is nested too deeply to be a config: fix the syntax.") from None
    for override in overrides:
        section, key, value = parse_override(override)
        if section not in SECTIONS:
            raise SentimentError(f"Unknown config section [{section}] in --set: expected one of {', '.join(SECTIONS)}.")
        _checked_value(section, key, value, "--set")
        raw.setdefault(section, {})
        if not isinstance(raw[section], dict):
            raise SentimentError(f"Config section [{section}] must be a table, got {raw[section]!r}.")
        raw[section][key] = value
    return config_from_dict(raw, source=str(path) if path else "the config")


def options_as_overrides(options: dict[str, Any]) -> list[str]:
    """Command-line options as ``section.key=value`` overrides: the given ones (not None), values in TOML syntax.

    Example: ``{"train.epochs": 3, "data.path": None}`` -> ``["train.epochs=3"]``.
    """
    return [f"{key}={json.dumps(value)}" for key, value in options.items() if value is not None]


def parse_override(override: str) -> tuple[str, str, Any]:
    """Split ``"section.key=value"`` into its parts, parsing value as a TOML value."""
    name, sep, value_text = override.partition("=")
    section, dot, key = name.strip().partition(".")
    if not sep or not dot or not section or not key:
        raise SentimentError(
            f"Override {override!r} is not of the form section.key=value: write e.g. --set train.epochs=3."
        )
    value_text = value_text.strip()
    try:
        value = tomllib.loads(f"v = {value_text}")["v"]
    except (tomllib.TOMLDecodeError, ValueError, RecursionError):  # ValueError: an integer of over 4,300 digits
        value = value_text  # a bare word such as gru is taken as a string
    return section, key, value


def config_from_dict(raw: dict[str, Any], source: str = "the config") -> Config:
    """Build a validated Config from nested dicts (as read from TOML)."""
    sections = {}
    for section_name, values in raw.items():
        if section_name not in SECTIONS:
            raise SentimentError(
                f"Unknown config section [{section_name}] in {source}: expected one of {', '.join(SECTIONS)}."
            )
        if not isinstance(values, dict):
            raise SentimentError(f"Config section [{section_name}] in {source} must be a table.")
        checked = {key: _checked_value(section_name, key, value, source) for key, value in values.items()}
        sections[section_name] = SECTIONS[section_name](**checked)
    config = Config(**sections)
    validate(config)
    return config


def _checked_value(section: str, key: str, value: Any, source: str) -> Any:
    """``value`` for ``section.key`` (a known section), converted int -> float where a float is expected."""
    types = section_types(section)
    if key not in types:
        raise SentimentError(f"Unknown config key {section}.{key} in {source}: expected one of {', '.join(types)}.")
    if (section, key) == ("data", "sources"):
        return _checked_sources(value, source)
    return _check_type(f"{section}.{key}", value, types[key], source)


def _checked_sources(value: Any, source: str) -> tuple[DataConfig, ...]:
    """``data.sources`` as read (a list of tables, or of DataConfigs) as a tuple of DataConfigs, each checked."""
    if not isinstance(value, list | tuple) or not all(isinstance(item, dict | DataConfig) for item in value):
        raise SentimentError(
            f"Config key data.sources in {source} must be a list of tables ([[data.sources]] with path = ...), "
            f"got {value!r}."
        )
    checked = []
    for number, item in enumerate(value, 1):
        if isinstance(item, DataConfig):
            checked.append(item)
            continue
        for key in item:
            if key not in SOURCE_KEYS:
                raise SentimentError(
                    f"Unknown key {key!r} in source {number} of data.sources in {source}: "
                    f"expected one of {', '.join(SOURCE_KEYS)}."
                )
        values = {key: _checked_value("data", key, entry, source) for key, entry in item.items()}
        checked.append(DataConfig(**values))
    return tuple(checked)


MAX_INT = 2**63 - 1  # the largest integer a config key takes (64 bits); sizes are bounded further by validate()


def _check_type(name: str, value: Any, expected: type, source: str) -> Any:
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value) if abs(value) <= MAX_INT else math.inf
    if expected is not bool and isinstance(value, bool) or not isinstance(value, expected):
        shown = repr(value) if len(repr(value)) <= 80 else repr(value)[:77] + "..."
        raise SentimentError(
            f"Config key {name} in {source} must be of type {expected.__name__}, got {type(value).__name__} {shown}."
        )
    if expected is float and not math.isfinite(value):
        raise SentimentError(f"Config key {name} in {source} must be a finite number, got {value!r}.")
    if expected is int and not -MAX_INT <= value <= MAX_INT:
        raise SentimentError(
            f"Config key {name} in {source} must be an integer of at most 64 bits, got one of {value.bit_length():,} bits."
        )
    return value


def validate(config: Config) -> None:
    """Check value ranges and combinations; raise SentimentError naming the key."""
    d, m, t, tok = config.data, config.model, config.train, config.tokenizer

    def require(ok: bool, key: str, expected: str, value: Any) -> None:
        if not ok:
            raise SentimentError(f"Config key {key} must be {expected}, got {value!r}.")

    named = [("data", d), *((f"data.sources[{i}]", s) for i, s in enumerate(d.sources, 1))]
    for section_name, section in [*named, ("tokenizer", tok), ("model", m), ("train", t)]:
        for key, value in vars(section).items():
            if isinstance(value, str) and "\0" in value:
                raise SentimentError(
                    f"Config key {section_name}.{key} holds a NUL byte (\\0), which no path or name can: remove it."
                )
    for number, data in enumerate((d, *d.sources)):
        where = "data" if not number else f"data.sources[{number}]"  # numbered from 1, as people count
        require(
            data.format in ("auto", *FORMATS), f"{where}.format", f"auto or one of {', '.join(FORMATS)}", data.format
        )
        require(data.split in ("", *IMDB_SPLITS), f"{where}.split", '"", "train" or "test"', data.split)
        require(data.on_empty in ON_EMPTY_CHOICES, f"{where}.on_empty", "skip or error", data.on_empty)
        require(data.skip_every >= 0, f"{where}.skip_every", "0 or more", data.skip_every)
        if number and not (data.path or data.pos or data.neg):
            raise SentimentError(f"Config table {where} names no data: give it path = ..., or pos = ... and neg = ....")
    if d.sources and (d.path or d.pos or d.neg):
        raise SentimentError(
            "Config sets data.path (or data.pos/neg) and data.sources: name the data once, as one path "
            "or as a list of [[data.sources]]."
        )
    validate_labels(d)
    if d.sources and d.streaming:
        raise SentimentError(
            "Config sets data.streaming with data.sources: streaming reads one file; set data.streaming = false."
        )
    require(m.kind in MODEL_KINDS, "model.kind", f"one of {', '.join(MODEL_KINDS)}", m.kind)
    require(m.cell in CELLS, "model.cell", f"one of {', '.join(CELLS)}", m.cell)
    require(m.pooling in POOLINGS, "model.pooling", f"one of {', '.join(POOLINGS)}", m.pooling)
    require(m.merge_mode in MERGE_MODES, "model.merge_mode", f"one of {', '.join(MERGE_MODES)}", m.merge_mode)
    for key in ("output_dim", "layers", "units", "stateful_batch_size", "hidden_units", "ngrams", "wide_max_tokens"):
        require(getattr(m, key) >= 1, f"model.{key}", "at least 1", getattr(m, key))
    require(m.hidden_layers >= 0, "model.hidden_layers", "0 or more", m.hidden_layers)
    for key in ("layers", "hidden_layers", "ngrams"):  # each one a layer (or an n-gram size) built in Python
        require(getattr(m, key) <= MAX_DEPTH, f"model.{key}", f"at most {MAX_DEPTH}", getattr(m, key))
    for key in ("dropout", "recurrent_dropout"):
        require(0.0 <= getattr(m, key) < 1.0, f"model.{key}", "in [0, 1)", getattr(m, key))
    require(m.wide_alpha > 0, "model.wide_alpha", "positive", m.wide_alpha)
    require(m.wide_scale >= 0, "model.wide_scale", "0 or more", m.wide_scale)
    if m.kind == "hybrid":
        validate_hybrid(config)
    if m.embeddings and m.kind == "bow":
        raise SentimentError(
            "Config sets model.embeddings for the bag-of-words model, which has no embedding layer: "
            'use model.kind = "rnn" or drop model.embeddings.'
        )
    if m.stateful and m.bidirectional:
        raise SentimentError(
            "Config sets both model.stateful and model.bidirectional: a stateful model streams text "
            "forwards across calls, but the backward pass needs the whole text at once. "
            "Set one of them to false."
        )
    if m.stateful and m.pooling != "last":
        raise SentimentError(
            f"Config sets model.stateful with model.pooling = {m.pooling!r}: a stateful model carries only "
            'the recurrent state from call to call. Set model.stateful = false or model.pooling = "last".'
        )
    require(tok.max_tokens >= 3, "tokenizer.max_tokens", "at least 3", tok.max_tokens)
    require(
        tok.output_sequence_length >= 0, "tokenizer.output_sequence_length", "0 or more", tok.output_sequence_length
    )
    for key in ("epochs", "batch_size", "patience"):
        require(getattr(t, key) >= 1, f"train.{key}", "at least 1", getattr(t, key))
    require(t.learning_rate > 0, "train.learning_rate", "positive", t.learning_rate)
    require(t.clipnorm > 0, "train.clipnorm", "positive", t.clipnorm)
    require(0.0 <= t.ema < 1.0, "train.ema", "in [0, 1)", t.ema)
    require(t.schedule in SCHEDULES, "train.schedule", f"one of {', '.join(SCHEDULES)}", t.schedule)
    require(t.discriminative >= 1.0, "train.discriminative", "at least 1", t.discriminative)
    if t.gradual_unfreezing and t.distribute != "none":
        raise SentimentError(
            f'Config sets train.gradual_unfreezing with train.distribute = "{t.distribute}": the distributed '
            'loop does not thaw layers epoch by epoch. Set train.gradual_unfreezing = false or train.distribute = "none".'
        )
    if t.ema and t.distribute != "none":
        raise SentimentError(
            f'Config sets train.ema = {t.ema} with train.distribute = "{t.distribute}": the distributed loop '
            'does not swap the averaged weights in. Set train.ema = 0 or train.distribute = "none".'
        )
    require(0.0 < t.validation_split < 0.5, "train.validation_split", "in (0, 0.5)", t.validation_split)
    require(0.0 <= t.test_split < 0.5, "train.test_split", "in [0, 0.5)", t.test_split)
    require(t.calibration in CALIBRATIONS, "train.calibration", f"one of {', '.join(CALIBRATIONS)}", t.calibration)
    require(t.class_weight in CLASS_WEIGHTS, "train.class_weight", f"one of {', '.join(CLASS_WEIGHTS)}", t.class_weight)
    if t.class_weight != "none" and (d.streaming or t.distribute != "none"):
        key, value = ("data.streaming", "true") if d.streaming else ("train.distribute", f'"{t.distribute}"')
        raise SentimentError(
            f'Config sets train.class_weight = "{t.class_weight}" with {key} = {value}: the classes are weighed '
            f'by their counts in an in-memory training split on one device. Set train.class_weight = "none".'
        )
    if t.test_split and d.test_path:
        raise SentimentError(
            "Config sets both train.test_split and data.test_path: hold out a part of the data "
            "(--test-split) or test on a file (--test-data), not both."
        )
    if t.test_split and d.streaming:
        raise SentimentError(
            "Config sets train.test_split with data.streaming: a streamed file cannot be held out in part; "
            "pass a separate test file with --test-data."
        )
    require(0 <= t.seed <= MAX_SEED, "train.seed", f"from 0 to {MAX_SEED}", t.seed)
    require(t.bptt >= 2, "train.bptt", "at least 2", t.bptt)
    require(
        0 <= t.sampled_softmax < tok.max_tokens or m.kind != "lm" and t.sampled_softmax >= 0,
        "train.sampled_softmax",
        f"0 (the full softmax) or fewer than tokenizer.max_tokens = {tok.max_tokens}",
        t.sampled_softmax,
    )
    if m.kind == "lm":
        validate_language_model(config)
    if m.init_from and m.kind == "bow":
        raise SentimentError(
            'Config sets model.init_from with model.kind = "bow": only a recurrent classifier (model.kind = "rnn" '
            'or "hybrid") or a language model goes on from a language model. Drop model.init_from.'
        )
    if m.init_from and m.bidirectional:
        raise SentimentError(
            "Config sets model.init_from with model.bidirectional: the language model read forwards only, "
            "so it has no backward layers to give. Set model.bidirectional = false."
        )
    require(1 <= t.ensemble <= MAX_ENSEMBLE, "train.ensemble", f"from 1 to {MAX_ENSEMBLE}", t.ensemble)
    if t.ensemble > 1:
        validate_ensemble(config)
    require(t.steps_per_epoch >= 0, "train.steps_per_epoch", "0 or more", t.steps_per_epoch)
    require(t.steps_per_execution >= 1, "train.steps_per_execution", "at least 1", t.steps_per_execution)
    if t.steps_per_epoch % t.steps_per_execution:
        raise SentimentError(
            f"Config sets train.steps_per_epoch = {t.steps_per_epoch}, not a multiple of train.steps_per_execution "
            f"= {t.steps_per_execution}: an epoch's last call would run into the next epoch's batches. Set "
            "train.steps_per_epoch to a multiple of it."
        )
    require(
        t.distribute in DISTRIBUTE_CHOICES, "train.distribute", f"one of {', '.join(DISTRIBUTE_CHOICES)}", t.distribute
    )
    require(d.vocabulary_sample >= 0, "data.vocabulary_sample", "0 or more", d.vocabulary_sample)
    require(d.shuffle_buffer >= 1, "data.shuffle_buffer", "at least 1", d.shuffle_buffer)
    if t.bucket_by_length and tok.output_sequence_length:
        raise SentimentError(
            "Config sets train.bucket_by_length with tokenizer.output_sequence_length = "
            f"{tok.output_sequence_length}: every batch is padded to that length, so grouping by length saves "
            "nothing. Set tokenizer.output_sequence_length = 0 or train.bucket_by_length = false."
        )


def validate_labels(data: DataConfig) -> None:
    """Check ``data.labels``, ``data.label_map`` and ``data.positive``/``negative`` and that they agree."""
    from sentiment_rnn.data.labels import DEFAULT_CLASSES, label_scheme, parse_classes, parse_label_map

    if (data.positive or data.negative) and data.label_map:
        raise SentimentError(
            "Config sets data.positive/negative and data.label_map: both group labels into classes; "
            "use --label-map alone (e.g. '1,2=negative;4,5=positive')."
        )
    classes = parse_classes(data.labels) if data.labels else None
    if (data.positive or data.negative) and classes not in (None, DEFAULT_CLASSES):
        raise SentimentError(
            f"Config sets data.positive/negative with data.labels = {data.labels!r}: --positive and --negative "
            "make the classes negative and positive; for other classes use --label-map."
        )
    if data.label_map and classes is not None:
        named = parse_label_map(data.label_map)[1]
        if set(named) != set(classes):
            raise SentimentError(
                f"--label-map {data.label_map!r} makes the classes {', '.join(named)}, but --labels names "
                f"{', '.join(classes)}: name the same classes in both (--labels only orders them)."
            )
    label_scheme(data)  # the maps themselves


def validate_ensemble(config: Config) -> None:
    """Refuse what ``train.ensemble`` above 1 cannot do: saved stateful or per-token views, streams, distribution."""
    m, t = config.model, config.train
    for key, on in (
        ("model.stateful", m.stateful),
        ("model.return_sequences", m.return_sequences),
        ("data.streaming", config.data.streaming),
        ("train.distribute", t.distribute != "none"),
    ):
        if on:
            value = f'"{t.distribute}"' if key == "train.distribute" else "true"
            fix = 'train.distribute = "none"' if key == "train.distribute" else f"{key} = false"
            raise SentimentError(
                f"Config sets {key} = {value} with train.ensemble = {t.ensemble}: an ensemble is trained one "
                f"member after another on one in-memory split and saved as plain models. Set {fix} or "
                "train.ensemble = 1."
            )


def validate_hybrid(config: Config) -> None:
    """Refuse what ``model.kind = "hybrid"`` cannot do: saved stateful or per-token views, streamed data, distribution."""
    m = config.model
    for key, on in (("model.stateful", m.stateful), ("model.return_sequences", m.return_sequences)):
        if on:
            raise SentimentError(
                f'Config sets {key} with model.kind = "hybrid": a hybrid is saved as its whole-text model only '
                "(predict --per-token and --stream give its views, carrying the n-grams seen beside the state). "
                f'Set {key} = false or model.kind = "rnn".'
            )
    if config.data.streaming:
        raise SentimentError(
            'Config sets data.streaming with model.kind = "hybrid": the log-count ratios of its wide branch are '
            'counted over the training split in memory. Set data.streaming = false or model.kind = "rnn".'
        )
    if config.train.distribute != "none":
        raise SentimentError(
            f'Config sets train.distribute = "{config.train.distribute}" with model.kind = "hybrid", which '
            'trains on one device only. Set train.distribute = "none" or model.kind = "rnn".'
        )


def validate_language_model(config: Config) -> None:
    """Refuse what ``model.kind = "lm"`` cannot be: it reads forwards, one token stream, and predicts words."""
    m = config.model
    for key, on in (
        ("model.bidirectional", m.bidirectional),
        ("model.stateful", m.stateful),
        ("model.return_sequences", m.return_sequences),
        ("model.embeddings", bool(m.embeddings)),
        ("train.ensemble", config.train.ensemble > 1),
        ("train.ema", config.train.ema > 0),
        ("train.discriminative", config.train.discriminative != 1.0),
        ("train.gradual_unfreezing", config.train.gradual_unfreezing),
        ("data.streaming", config.data.streaming),
    ):
        if on:
            raise SentimentError(
                f'Config sets {key} with model.kind = "lm": a language model reads its text forwards as one '
                f"stream (always streamed, never an ensemble) and guesses the next word. Drop {key}."
            )
    if m.pooling != "last":
        raise SentimentError(
            f'Config sets model.pooling = "{m.pooling}" with model.kind = "lm": a language model guesses after '
            'every word and pools nothing. Set model.pooling = "last".'
        )


def with_classes(config: Config, classes: tuple[str, ...]) -> Config:
    """``config`` once its data is read: the classes found written into ``data.labels``, so the saved config
    rebuilds the model (its head's width); the default negative/positive stay unnamed, as before."""
    from sentiment_rnn.data.labels import DEFAULT_CLASSES, classes_of

    names = ",".join(classes)
    unnamed = not config.data.labels and tuple(classes) == DEFAULT_CLASSES == classes_of(config.data)
    return config if unnamed or config.data.labels == names else replace(config, data={"labels": names})


def replace(config: Config, **sections: dict[str, Any]) -> Config:
    """Return a copy of config with some keys changed, e.g. ``replace(c, train={"epochs": 3})``."""
    raw = to_dict(config)
    for section, values in sections.items():
        raw[section].update(values)
    return config_from_dict(raw)


def to_dict(config: Config) -> dict[str, dict[str, Any]]:
    """The config as nested dicts; ``data.sources`` as a list of dicts of their :data:`SOURCE_KEYS`."""
    raw = dataclasses.asdict(config)
    raw["data"]["sources"] = [{key: source[key] for key in SOURCE_KEYS} for source in raw["data"]["sources"]]
    return raw


def to_toml(config: Config) -> str:
    """Serialize a Config as TOML (sections of str, int, float and bool; ``data.sources`` as ``[[data.sources]]``)."""
    lines = []
    for section, values in to_dict(config).items():
        lines.append(f"[{section}]")
        tables = values.pop("sources", ())
        for key, value in values.items():
            lines.append(f"{key} = {toml_value(value)}")
        lines.append("")
        for table in tables:
            lines.append(f"[[{section}.sources]]")
            lines += [f"{key} = {toml_value(value)}" for key, value in table.items()]
            lines.append("")
    return "\n".join(lines)


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{escaped}"'
    return repr(value)
