"""Small untrained models with random weights, and model directories holding them.

Training is slow and its weights are not the point when two engines are
compared: random weights of a useful size (not saturating the sigmoid) test
every product and gate. The model directory has the files ``train`` writes.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from sentiment_rnn.artifact.engine_files import write_engine_files
from sentiment_rnn.artifact.files import CONFIG_FILE, META_FILE, MODEL_FILE, VOCABULARY_FILE, meta_for, write_json
from sentiment_rnn.config import load_config, to_toml
from sentiment_rnn.models import TOKENIZER_LAYER, build_model, make_tokenizer
from sentiment_rnn.wide import adapted_wide_tokenizer

VOCABULARY_TEXTS = [
    "this phone is no good",
    "no, this phone is good",
    "the battery is not bad at all",
    "I don't like the screen; it's awful!",
    "écran très bien 👍 super",
    "great sound and a fair price",
]
SMALL = ["model.output_dim=5", "model.units=4", "model.hidden_units=6"]


@functools.cache
def randomized_model(*overrides: str, seed: int = 0):
    """(Keras model, config) for a small config with ``overrides``, every weight drawn from N(0, 0.8^2).

    Cached: the same overrides give the same model object.
    """
    import tensorflow as tf

    config = load_config(overrides=[*SMALL, *overrides])
    tokenizer = make_tokenizer(config)
    tokenizer.adapt(tf.constant(VOCABULARY_TEXTS))
    wide_tokenizer = adapted_wide_tokenizer(config, VOCABULARY_TEXTS) if config.model.kind == "hybrid" else None
    model = build_model(config, tokenizer, wide_tokenizer)
    rng = np.random.default_rng(seed)
    model.set_weights([rng.normal(0.0, 0.8, np.shape(w)).astype("float32") for w in model.get_weights()])
    return model, config


def write_model_dir(model, config, path: Path) -> Path:
    """Write the files of a model directory (as ``train`` does, without metrics or history)."""
    path.mkdir(parents=True)
    model.save(path / MODEL_FILE)
    (path / CONFIG_FILE).write_text(to_toml(config), encoding="utf-8")
    write_json(path / VOCABULARY_FILE, list(model.get_layer(TOKENIZER_LAYER).get_vocabulary()))
    write_json(path / META_FILE, meta_for(config, {}))
    write_engine_files(model, config, path)
    return path
