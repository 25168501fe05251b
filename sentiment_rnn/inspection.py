"""Describe a model directory: what it holds and how it was made.

:func:`describe` gathers everything into one JSON-ready dict, read from
``meta.json``, ``config.toml``, ``metrics.json``, ``vocabulary.json`` and the
layers of ``weights.npz`` (shapes and parameter counts from its array headers
and ``config.toml``, without TensorFlow; ``engine="keras"`` lists the Keras
layers of ``model.keras`` instead); :func:`format_description` lays it out for a person.
"""

from __future__ import annotations

import math
import os
import stat
from pathlib import Path
from typing import Any

from sentiment_rnn.artifact.files import BUILD_FILE, BUILD_SCHEMA, read_json
from sentiment_rnn.artifact.model_directory import ModelDirectory, open_model_dir
from sentiment_rnn.bundled import BUNDLED_MODELS
from sentiment_rnn.config import ModelConfig, config_from_dict, to_dict, to_toml
from sentiment_rnn.data.labels import DEFAULT_CLASSES, is_ordinal, output_units
from sentiment_rnn.inference import check_engine, keras_model
from sentiment_rnn.models import KERAS_CELL_NAMES
from sentiment_rnn.text import ngram_name


def describe(model_dir: str | Path | ModelDirectory, engine: str = "numpy") -> dict[str, Any]:
    """Everything known about a model directory, as a JSON-ready dict.

    Keys: ``path``, ``bundled`` (the bundled model's name, or None),
    ``format_version``, ``created``, ``versions`` (package and library
    versions that wrote it), ``size`` (``bytes`` on disk and ``files``),
    ``architecture`` (a one-line summary and parameter counts), ``layers``
    (name, type, output shape, parameters: per group of arrays of
    ``weights.npz`` (see :func:`engine_layers`), read without TensorFlow; with
    ``engine="keras"``, per Keras layer of ``model.keras``),
    ``vocabulary_size``, ``sequence_length`` (0 = no limit), ``data``
    (training data source, or ``sources`` one by one, rows, label balance,
    split, epochs), ``metrics`` (validation metrics of the restored weights),
    ``build`` (the ``build.json`` a build recipe wrote: command, wall time,
    machine, date; None without one), ``classes`` (the model's classes in
    order: more than two is a softmax head) and ``config``; for a NumPy export also
    ``exported_as`` (``"numpy"``).

    Raises:
        SentimentError: the directory is missing, incomplete or unreadable;
            ``engine="keras"`` for a NumPy export, which has no ``model.keras``.
    """
    check_engine(engine)
    directory = model_dir if isinstance(model_dir, ModelDirectory) else open_model_dir(model_dir)
    meta = directory.meta
    if engine == "keras":
        model = keras_model(directory)
        layers = [layer_summary(layer) for layer in model.layers]
        trainable = sum(math.prod(variable.shape) for variable in model.trainable_weights)
    else:
        if directory.members:  # each member's layers, named member_N/...
            layers = [
                {**layer, "name": f"member_{number}/{layer['name']}"}
                for number, member in enumerate(directory.members, start=1)
                for layer in engine_layers(member)
            ]
        else:
            layers = engine_layers(directory)
        trainable = sum(layer["parameters"] for layer in layers)  # weights.npz holds the trainable weights only
    build_file = directory.path / BUILD_FILE
    build = None
    if os.path.lexists(build_file):
        build = read_json(build_file, f"remove {BUILD_FILE} or rebuild the model", BUILD_SCHEMA)
    description = {
        "path": str(directory.path),
        "bundled": directory.bundled,
        "format_version": meta["format_version"],
        "created": meta.get("created", "unknown"),
        "versions": {"sentiment_rnn": meta.get("package_version", "unknown"), **meta.get("versions", {})},
        "size": size_on_disk(directory.path),
        "architecture": {
            "summary": architecture_summary(directory.config.model)
            + (f", a softmax head over {len(directory.classes)} classes" if len(directory.classes) > 2 else "")
            + (f"; an ensemble of {len(directory.members)}, mean probability" if directory.members else ""),
            "parameters": sum(layer["parameters"] for layer in layers),
            "trainable_parameters": trainable,
        },
        "layers": layers,
        "vocabulary_size": len(directory.vocabulary()),
        "sequence_length": directory.config.tokenizer.output_sequence_length,
        "data": meta.get("data", {}),
        "metrics": directory.metrics(),
        "build": build if isinstance(build, dict) else None,
        "classes": list(directory.classes),
        "config": to_dict(directory.config),
    }
    if directory.numpy_export:
        description["exported_as"] = meta["exported_as"]
    return description


def engine_layers(directory: ModelDirectory) -> list[dict[str, Any]]:
    """The layers of one model, as :func:`layer_summary` gives them, from ``weights.npz`` and ``config.toml``.

    One row per group of arrays (``embedding``, ``recurrent_<i>``,
    ``hidden_<i>``, ``head``, ``wide``), in that order, with the output shape
    the config gives and the parameters the array headers count (the arrays
    themselves are not read). The NumPy engine is loaded first, so every file
    is checked before anything is shown. No TensorFlow.
    """
    from sentiment_rnn.artifact.engine_files import engine_fix
    from sentiment_rnn.artifact.files import WEIGHTS_FILE
    from sentiment_rnn.artifact.npz_headers import read_headers

    directory.numpy_engine  # noqa: B018 - loading checks every file against config.toml
    m = directory.config.model
    parameters: dict[str, int] = {}
    for name, (shape, _) in read_headers(directory.path / WEIGHTS_FILE, engine_fix(directory.config)).items():
        group = name.split(".")[0]
        parameters[group] = parameters.get(group, 0) + math.prod(shape)
    width = m.units * (2 if m.bidirectional and m.merge_mode == "concat" else 1)
    cell = KERAS_CELL_NAMES[m.cell]
    rows = []
    if m.kind != "bow":
        rows.append(("embedding", "Embedding", [None, None, m.output_dim]))
        for index in range(m.layers):
            sequences = index < m.layers - 1 or m.pooling != "last"
            shape = [None, None, width] if sequences else [None, width]
            rows.append((f"recurrent_{index}", f"Bidirectional({cell})" if m.bidirectional else cell, shape))
    else:
        rows += [(f"hidden_{index}", "Dense", [None, m.hidden_units]) for index in range(m.hidden_layers)]
    units = output_units(directory.classes)
    rows.append(("head", "Dense", [None, units]))
    if m.kind == "hybrid":
        rows.append(("wide", "Dense", [None, units]))
    return [
        {"name": name, "type": kind, "output_shape": shape, "parameters": parameters.get(name, 0)}
        for name, kind, shape in rows
    ]


def size_on_disk(path: Path) -> dict[str, int]:
    """``{"bytes": total size of the regular files under path, "files": their count}``; links are not followed."""
    sizes = []
    for directory, _, files in os.walk(path, followlinks=False):
        for name in files:
            status = os.lstat(os.path.join(directory, name))
            if stat.S_ISREG(status.st_mode):
                sizes.append(status.st_size)
    return {"bytes": sum(sizes), "files": len(sizes)}


def layer_summary(layer) -> dict[str, Any]:
    """Name, type (``Bidirectional(GRU)`` for a wrapper), output shape and parameter count of a Keras layer."""
    kind = type(layer).__name__
    if kind == "Bidirectional":
        kind = f"Bidirectional({type(layer.forward_layer).__name__})"
    shape = layer.output.shape
    return {
        "name": layer.name,
        "type": kind,
        "output_shape": [None if size is None else int(size) for size in shape],
        "parameters": int(layer.count_params()) if layer.weights else 0,
    }


def _epochs_line(data: dict[str, Any]) -> str:
    """``best epoch 3 of 5``; for an ensemble, each member's: ``best epochs 3, 2, 4 of 5, 4, 6``."""
    members = data.get("members")
    if not members:
        return f"best epoch {data.get('best_epoch', '?')} of {data.get('epochs_run', '?')}"
    best = ", ".join(str(m.get("best_epoch", "?")) for m in members)
    run = ", ".join(str(m.get("epochs_run", "?")) for m in members)
    return f"best epochs {best} of {run}"


def architecture_summary(model: ModelConfig) -> str:
    """One line, e.g. ``SimpleRNN, 1 layer of 64 units, embedding size 64``."""
    if model.kind == "bow":
        return (
            f"bag of words ({ngram_name(model.ngrams, name_bigrams=False)}), {model.hidden_layers} dense "
            f"{_plural(model.hidden_layers, 'layer')} of {model.hidden_units} units"
        )
    parts = [f"{KERAS_CELL_NAMES[model.cell]}, {model.layers} {_plural(model.layers, 'layer')} of {model.units} units"]
    if model.kind == "lm":
        parts.insert(0, "language model (the next word after every token)")
        parts.append(f"embedding size {model.output_dim}, tied to the softmax over the vocabulary")
        return ", ".join(parts)
    if model.bidirectional:
        parts.append(f"bidirectional (merge_mode {model.merge_mode})")
    if model.pooling != "last":
        parts.append(f"{model.pooling} pooling over time" + (" (last output, max, mean)" * (model.pooling == "concat")))
    parts.append(f"embedding size {model.output_dim}")
    if model.kind == "hybrid":
        parts.append(f"plus a wide branch of {ngram_name(model.ngrams)} (at most {model.wide_max_tokens:,})")
    if model.dropout or model.recurrent_dropout:
        parts.append(f"dropout {model.dropout}, recurrent_dropout {model.recurrent_dropout}")
    if model.stateful:
        parts.append(f"saved stateful (batch of {model.stateful_batch_size})")
    if model.return_sequences:
        parts.append("saved per-token (return_sequences)")
    return ", ".join(parts)


def format_description(description: dict[str, Any]) -> str:
    """The description as aligned text: a summary, the layer table and the config."""
    d = description
    versions = d["versions"]
    libraries = ", ".join(
        f"{label} {versions[key]}"
        for key, label in (("python", "Python"), ("tensorflow", "TensorFlow"), ("keras", "Keras"), ("numpy", "NumPy"))
        if key in versions
    )
    architecture = d["architecture"]
    data = d["data"]
    metrics = d["metrics"]
    rows = [("Model directory", d["path"] + (" (a NumPy export: no model.keras)" if d.get("exported_as") else ""))]
    if d.get("bundled"):
        name = d["bundled"]
        rows.append(("Bundled model", f"{name} ({BUNDLED_MODELS.get(name, 'shipped with sentiment-rnn')}), read-only"))
    rows += [
        (
            "Created",
            f"{d['created']} by sentiment-rnn {versions['sentiment_rnn']} (model format {d['format_version']})",
        ),
        ("Libraries", libraries or "unknown (written before versions were recorded)"),
        ("Architecture", architecture["summary"]),
        ("Parameters", f"{architecture['parameters']:,} ({architecture['trainable_parameters']:,} trainable)"),
    ]
    if "size" in d:
        size = d["size"]
        rows.append(
            (
                "Size on disk",
                f"{size['bytes']:,} bytes ({size['bytes'] / 1e6:.1f} MB) in {size['files']} "
                f"{_plural(size['files'], 'file')}",
            )
        )
    rows += [
        (
            "Vocabulary",
            f"{d['vocabulary_size']:,} tokens (tokenizer.max_tokens = {d['config']['tokenizer']['max_tokens']})",
        ),
    ]
    if d["config"]["model"]["kind"] == "lm":
        rows += _language_model_rows(data, metrics)
    else:
        rows += _classifier_rows(d, data, metrics)
    rows += _build_rows(d.get("build"))
    width = max(len(label) for label, _ in rows)
    lines = [f"{label:<{width}}  {value}" for label, value in rows]
    table = [("name", "type", "output shape", "parameters")] + [
        (
            layer["name"],
            layer["type"],
            str(tuple(layer["output_shape"])),
            f"{layer['parameters']:,}",
        )
        for layer in d["layers"]
    ]
    widths = [max(len(row[i]) for row in table) for i in range(4)]
    lines += ["", "Layers"]
    lines += [
        f"  {name:<{widths[0]}}  {kind:<{widths[1]}}  {shape:<{widths[2]}}  {params:>{widths[3]}}"
        for name, kind, shape, params in table
    ]
    lines += ["", "Config"]
    lines += [f"  {line}" if line else "" for line in _config_toml(d["config"]).splitlines()]
    return "\n".join(lines).rstrip("\n") + "\n"


def _classifier_rows(d: dict[str, Any], data: dict[str, Any], metrics: dict[str, Any]) -> list[tuple[str, str]]:
    """A classifier's rows: its sequence length, training data, labels, split and validation (and test) metrics."""
    sequence = d["sequence_length"]
    labels = data.get("labels", {})
    init_from = d["config"]["model"].get("init_from")
    rows = [
        ("Sequence length", f"{sequence} tokens" if sequence else "no limit (each batch padded to its longest text)"),
        *([("Started from", f"the language model {init_from} (model.init_from)")] if init_from else []),
        *_training_data_rows(data),
        ("Labels", _label_mapping_line(data, d.get("classes", list(DEFAULT_CLASSES)))),
        ("Rows", f"{data.get('rows', 0):,} ({_class_counts(labels)}), {data.get('skipped', 0):,} skipped"),
        (
            "Split",
            f"{data.get('train_rows', 0):,} training, {data.get('validation_rows', 0):,} validation"
            + (f", {data['test_rows']:,} test; " if data.get("test_rows") else "; ")
            + _epochs_line(data),
        ),
        (
            "Validation",
            f"accuracy {metrics.get('accuracy', float('nan')):.4f}, {_auc_part(metrics, d)}"
            + _calibration_part(metrics)
            + f"loss {metrics.get('loss', float('nan')):.4f} on {metrics.get('n', 0):,} examples",
        ),
    ]
    test = metrics.get("test")
    if isinstance(test, dict):
        rows.append(
            (
                "Test",
                f"accuracy {test.get('accuracy', float('nan')):.4f}, {_auc_part(test, d)}"
                f"loss {test.get('loss', float('nan')):.4f} on {test.get('n', 0):,} held-out examples",
            )
        )
    return rows


def _language_model_rows(data: dict[str, Any], metrics: dict[str, Any]) -> list[tuple[str, str]]:
    """A language model's rows: the text it read and its held-out perplexity."""
    sources = data.get("sources") if isinstance(data.get("sources"), list) else []
    return [
        ("Training text", ", ".join(map(str, sources)) or str(data.get("source", "unknown"))),
        (
            "Tokens",
            f"{data.get('train_tokens', 0):,} in {data.get('train_texts', 0):,} texts "
            f"({data.get('unknown_share', 0):.1%} outside the vocabulary); {_epochs_line(data)}, "
            f"{data.get('tokens_per_second', 0):,.0f} tokens/s",
        ),
        (
            "Held out",
            f"perplexity {metrics.get('perplexity', float('nan')):.2f}, loss {metrics.get('loss', float('nan')):.4f} "
            f"on {metrics.get('tokens', 0):,} tokens of {metrics.get('texts', 0):,} texts (one text in "
            f"{data.get('heldout_every', '?')})",
        ),
    ]


def _training_data_rows(data: dict[str, Any]) -> list[tuple[str, str]]:
    """The "Training data" row: the source, or with several sources, one row for each under a count."""
    sources = data.get("sources")
    if not isinstance(sources, list) or not sources:
        return [("Training data", data.get("source", "unknown"))]
    rows = [("Training data", f"{len(sources)} {_plural(len(sources), 'source')}")]
    for part in sources:
        part = part if isinstance(part, dict) else {"source": part}
        line = f"{part.get('source', 'unknown')}: {part.get('rows', 0):,} rows"
        rows.append(("", f"  {line} ({_class_counts(part.get('labels', {}))}), {part.get('skipped', 0):,} skipped"))
    return rows


def _class_counts(labels: dict[str, int]) -> str:
    """``1,995 positive, 1,995 negative`` (as meta.json's ``labels`` counts them), for any classes."""
    labels = labels if set(labels) - {"positive", "negative"} else {"positive": 0, "negative": 0, **labels}
    return ", ".join(f"{count:,} {name}" for name, count in labels.items())


def _auc_part(metrics: dict[str, Any], description: dict[str, Any]) -> str:
    """``AUC 0.9711, `` for a two-class model; a model of more classes has none."""
    if len(description.get("classes", DEFAULT_CLASSES)) > 2:
        return ""
    return f"AUC {metrics.get('auc', float('nan')):.4f}, "


def _calibration_part(metrics: dict[str, Any]) -> str:
    """``ECE 0.0123, Brier 0.0456, `` when metrics.json records them (models trained before calibration do not)."""
    parts = [f"{label} {metrics[key]:.4f}, " for key, label in (("ece", "ECE"), ("brier", "Brier")) if key in metrics]
    return "".join(parts)


def _build_rows(build: dict[str, Any] | None) -> list[tuple[str, str]]:
    """The rows of build.json: the command that built the model, and its wall time, machine and date."""
    if not build:
        return []
    rows = [("Built with", str(build.get("command", "unknown")))]
    wall = build.get("wall_seconds")
    took = f"{wall / 60:.1f} minutes ({wall:,.0f} s)" if isinstance(wall, int | float) else "unknown wall time"
    where = ", ".join(str(build[key]) for key in ("machine", "date") if build.get(key))
    rows.append(("Build time", f"{took} on {where}" if where else took))
    return rows


def _label_mapping_line(data: dict[str, Any], classes: list[str]) -> str:
    """How the training data's labels became the classes, e.g. ``positive 4, 5; negative 1, 2; ...``."""
    mapping = data.get("label_mapping")
    other = data.get("other_labels", 0)
    if data.get("label_map"):
        return (
            f"{', '.join(classes)} by --label-map '{data['label_map']}'; "
            f"{other:,} {_plural(other, 'row')} with other labels skipped"
        )
    if tuple(classes) != DEFAULT_CLASSES:
        return (
            f"{', '.join(classes)} ({len(classes)} classes{', in numeric order' if is_ordinal(tuple(classes)) else ''})"
        )
    if not mapping:
        return "0/1, true/false, pos/neg or positive/negative"
    names = {side: ", ".join(label.strip() for label in mapping[side].split(",")) for side in ("positive", "negative")}
    return (
        f"positive {names['positive']}; negative {names['negative']}; "
        f"{other:,} {_plural(other, 'row')} with other labels skipped"
    )


def _config_toml(config: dict[str, dict[str, Any]]) -> str:
    return to_toml(config_from_dict(config))


def _plural(count: int, word: str) -> str:
    return word if count == 1 else word + "s"
