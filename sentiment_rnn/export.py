"""Export a model directory for use elsewhere: a TF SavedModel, or a NumPy weights bundle.

``savedmodel``: Keras ``model.export(..., format="tf_saved_model")``, the format
TensorFlow Serving loads. Its ``serve`` endpoint (signature ``serving_default``)
takes a 1-D string tensor of raw texts and returns the probabilities of
positive, shape (B, 1) (or (B, T, 1), one per token, for a per-token model);
the tokenizer is inside. A stateful model is exported as its stateless twin,
with the same weights: a server answers each request on its own.

``numpy``: everything needed to run the model without TensorFlow:
    weights.npz      the weights (see below)
    engine.json      the NumPy engine's description of the architecture
    vocabulary.json  the tokenizer's vocabulary; index = token id (0 padding, 1 [UNK])
    config.toml      the config the model was trained with (architecture, tokenizer)
    meta.json        the model directory's, with ``"exported_as": "numpy"``
    metrics.json     the model directory's validation metrics
    (and a hybrid model's wide_vocabulary.txt)
An ensemble's export holds its own config, vocabulary, metrics and meta, and
each member's export under ``members/N``.
It is a model directory without ``model.keras``: ``predict``, ``evaluate``,
``inspect`` and ``serve`` read it with the NumPy engine. When the model
directory already holds ``weights.npz`` and ``engine.json`` (written at
training time for the NumPy engine) they are copied as they are; otherwise
they are written from the Keras model in the same layout (see
``artifact.engine_files.weights_of``), e.g. ``embedding``,
``recurrent_0.forward.kernel``, ``head.bias``.

The export directory is written atomically and never replaces an existing one.
It ships only what it verified: the model directory is opened with the checks
of ``predict`` (the NumPy engine loaded: shapes, digests, finite weights; the
Keras model for a SavedModel), and every file copied is read through
``safe_read`` (no symlink, no FIFO, a size cap) and written from those bytes.
"""

from __future__ import annotations

import os
from pathlib import Path

from sentiment_rnn import safe_read
from sentiment_rnn.artifact.files import (
    CONFIG_FILE,
    ENGINE_FILE,
    EXPORTED_AS,
    LEGACY_WIDE_VOCABULARY_FILE,
    META_FILE,
    METRICS_FILE,
    NUMPY_EXPORT,
    VOCABULARY_FILE,
    WEIGHTS_FILE,
    WIDE_VOCABULARY_FILE,
    member_path,
    write_json,
)
from sentiment_rnn.artifact.model_directory import (  # light: no locks or staging
    ModelDirectory,
    numpy_export_error,
    open_model_dir,
)
from sentiment_rnn.errors import SentimentError

EXPORT_FORMATS = ("savedmodel", "numpy")


def export_model(model_dir: str | Path | ModelDirectory, out_dir: str | Path, format: str = "savedmodel") -> Path:
    """Export the model in ``model_dir`` to the new directory ``out_dir`` in ``format``.

    Args:
        model_dir: a model directory written by ``train``.
        out_dir: the export directory to create; it must not exist yet.
        format: ``savedmodel`` (TensorFlow Serving) or ``numpy`` (weights bundle).

    Returns:
        ``out_dir`` as a Path.

    Raises:
        SentimentError: unknown format, existing ``out_dir``, unreadable model directory.
    """
    if format not in EXPORT_FORMATS:
        raise SentimentError(f"Unknown export format {format!r}: choose one of {', '.join(EXPORT_FORMATS)}.")
    out_dir = Path(out_dir)
    if out_dir.exists():
        raise SentimentError(f"Export directory {out_dir} already exists: choose a new --out or remove it first.")
    from sentiment_rnn.artifact.atomic import staged_directory  # only when exporting

    directory = model_dir if isinstance(model_dir, ModelDirectory) else open_model_dir(model_dir)
    if format == "savedmodel" and directory.numpy_export:
        raise numpy_export_error(directory.path, "export the model directory it was exported from")
    with staged_directory(out_dir) as staging:
        if format == "savedmodel":
            _export_savedmodel(directory, staging)
        else:
            _export_numpy(directory, staging)
    return out_dir


def _export_savedmodel(directory: ModelDirectory, staging: Path) -> None:
    from sentiment_rnn.tf_setup import native_stderr_silenced

    model = directory.model
    if directory.config.model.stateful:  # a server answers each request on its own: no state across calls
        from sentiment_rnn.models import with_view

        model = with_view(model, directory.config.model, return_sequences=directory.config.model.return_sequences)
    with native_stderr_silenced():  # TensorFlow's C++ layer logs while tracing
        model.export(str(staging), format="tf_saved_model", verbose=False)


# How each copied file is read: its kind (size cap) in safe_read.
COPIED_KINDS = {
    VOCABULARY_FILE: safe_read.VOCABULARY,
    CONFIG_FILE: safe_read.CONFIG,
    METRICS_FILE: safe_read.MODEL_JSON,
    WEIGHTS_FILE: safe_read.WEIGHTS,
    ENGINE_FILE: safe_read.MODEL_JSON,
    WIDE_VOCABULARY_FILE: safe_read.WIDE_VOCABULARY,
    LEGACY_WIDE_VOCABULARY_FILE: safe_read.WIDE_VOCABULARY,
}
EXPORT_FIX = "retrain the model, then export it again"


def copy_verified(source: Path, staging: Path, name: str) -> None:
    """Copy ``source/name`` into ``staging``: read through ``safe_read`` (no link, no FIFO, a cap), written anew."""
    data = safe_read.read_bytes(source / name, COPIED_KINDS[name], EXPORT_FIX, inside=source)
    (staging / name).write_bytes(data)


def _export_numpy(directory: ModelDirectory, staging: Path) -> None:
    engine_files = (WEIGHTS_FILE, ENGINE_FILE, WIDE_VOCABULARY_FILE, LEGACY_WIDE_VOCABULARY_FILE)
    has_engine = all(os.path.lexists(directory.path / name) for name in (WEIGHTS_FILE, ENGINE_FILE))
    if has_engine or directory.members:
        directory.numpy_engine  # noqa: B018 - verified as predict verifies it: every file, finite weights
    if os.path.lexists(directory.path / METRICS_FILE):
        directory.metrics()  # an object of numbers, as inspect and serve read it
    for name in (VOCABULARY_FILE, CONFIG_FILE, METRICS_FILE, *(engine_files if has_engine else ())):
        if os.path.lexists(directory.path / name):
            copy_verified(directory.path, staging, name)
    if directory.members:  # an ensemble has no weights of its own: each member is exported into members/N
        for number, member in enumerate(directory.members, start=1):
            member_path(staging, number).mkdir(parents=True)
            _export_numpy(member, member_path(staging, number))
    elif not has_engine:  # a directory written before the NumPy engine existed: take the arrays from Keras
        from sentiment_rnn.artifact.engine_files import write_engine_files

        write_engine_files(directory.model, directory.config, staging)
    write_json(staging / META_FILE, {**directory.meta, EXPORTED_AS: NUMPY_EXPORT})
