"""A classifier's start from a language model (``model.init_from``, ``train --init-from DIR``), and a language
model's (``pretrain --init-from DIR``: it goes on learning, e.g. on the text of the task at hand).

The classifier takes the language model's vocabulary (its tokenizer is set to
it, not adapted), its embedding and its recurrent layers, bottom up; the
pooling, the head (and a hybrid's wide branch) start fresh. Training then
fine-tunes all of them on the labelled data. The architecture must match the
language model's: the same ``model.cell``, ``model.units`` and
``model.output_dim``, no more recurrent layers than it has, read forwards.
"""

from __future__ import annotations

from typing import Any

from sentiment_rnn.config import Config, toml_value
from sentiment_rnn.errors import SentimentError

MATCHED_KEYS = ("cell", "units", "output_dim")  # [model] keys a classifier shares with its language model


def open_language_model(config: Config):
    """The NumPy engine of the language model ``config.model.init_from`` names, checked against ``config``.

    Raises:
        SentimentError: no such directory, not a language model, or an architecture that differs
            (the message names the keys to set).
    """
    from sentiment_rnn.artifact.model_directory import open_model_dir

    directory = open_model_dir(config.model.init_from)
    theirs = directory.config.model
    if theirs.kind != "lm":
        raise SentimentError(
            f"model.init_from = {toml_value(config.model.init_from)} is a {theirs.kind} classifier, not a language model: "
            "pass a directory written by `sentiment-rnn pretrain` (or reviews-lm)."
        )
    ours = config.model
    differing = [
        f"model.{key} = {toml_value(getattr(theirs, key))}"
        for key in MATCHED_KEYS
        if getattr(ours, key) != getattr(theirs, key)
    ]
    if differing:
        raise SentimentError(
            f"The classifier's architecture differs from the language model in {directory.path}: set "
            f"{', '.join(differing)} (--set), or use the finetune preset (--config configs/finetune.toml)."
        )
    if ours.kind == "lm" and ours.layers != theirs.layers:
        raise SentimentError(
            f"model.layers = {ours.layers}, but the language model in {directory.path} has {theirs.layers}: a "
            f"language model goes on with all of its layers; set model.layers = {theirs.layers}."
        )
    if ours.layers > theirs.layers:
        raise SentimentError(
            f"model.layers = {ours.layers}, but the language model in {directory.path} has {theirs.layers}: "
            f"set model.layers to {theirs.layers} or fewer."
        )
    engine = directory.numpy_engine
    if config.tokenizer.max_tokens < len(engine.vocabulary):
        raise SentimentError(
            f"tokenizer.max_tokens = {config.tokenizer.max_tokens} is smaller than the vocabulary of the language "
            f"model in {directory.path} ({len(engine.vocabulary)} tokens), which the classifier takes: set "
            f"tokenizer.max_tokens = {len(engine.vocabulary)}."
        )
    return engine


def started_from(config: Config) -> dict[str, Any] | None:
    """meta.json's ``started_from``: the language model ``model.init_from`` names, whether it is a bundled one,
    and when it was created (which build of it: reviews-lm is rebuilt from time to time); None without one.

    Example: ``{"model": "reviews-lm", "bundled": true, "created": "2026-12-08T00:28:43+00:00"}``.
    """
    from sentiment_rnn.artifact.model_directory import open_model_dir

    if not config.model.init_from:
        return None
    directory = open_model_dir(config.model.init_from)
    return {
        "model": config.model.init_from,
        "bundled": directory.bundled is not None,
        "created": directory.meta.get("created", "unknown"),
    }


def start_from_language_model(model, config: Config) -> None:
    """With ``model.init_from`` set, set a built classifier's embedding and recurrent layers to the language model's.

    The classifier's tokenizer must hold the language model's vocabulary
    (``training.pipeline.adapt_tokenizer`` sets it), so the embedding rows line up.
    Without ``model.init_from``, nothing is done.
    """
    from sentiment_rnn.models import EMBEDDING_LAYER, recurrent_layer_name

    if not config.model.init_from:
        return
    language_model = open_language_model(config)
    model.get_layer(EMBEDDING_LAYER).set_weights([language_model.embedding])
    for index in range(config.model.layers):
        cell = language_model.layers[index].forward
        model.get_layer(recurrent_layer_name(index)).set_weights([cell.kernel, cell.recurrent_kernel, cell.bias])


def continue_language_model(network, config: Config) -> None:
    """With ``model.init_from`` set, set a language model's every weight to the language model's it names.

    ``network`` is built from ``config`` (``models.build_language_model``) over that model's vocabulary.
    """
    from sentiment_rnn.models import EMBEDDING_LAYER, PROJECTION_LAYER, recurrent_layer_name

    if not config.model.init_from:
        return
    source = open_language_model(config)
    network.get_layer(EMBEDDING_LAYER).set_weights([source.embedding, source.output_bias])
    for index, layer in enumerate(source.layers):
        cell = layer.forward
        network.get_layer(recurrent_layer_name(index)).set_weights([cell.kernel, cell.recurrent_kernel, cell.bias])
    network.get_layer(PROJECTION_LAYER).set_weights([source.projection_kernel, source.projection_bias])
