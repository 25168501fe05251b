"""Export a model directory for use elsewhere: a TF SavedModel, or a NumPy weights bundle.

``savedmodel``: Keras ``model.export(..., format="tf_saved_model")``, the format
TensorFlow Serving loads. Its ``serve`` endpoint (signature ``serving_default``)
takes a 1-D string tensor of raw texts and returns the probabilities of
positive, shape (B, 1) (or (B, T, 1), one per token, for a per-token model);
the tokenizer is inside. A stateful model is exported as its stateless twin,
with the same weights: a server answers each request on its own.

``numpy``: everything needed to run the model without TensorFlow:
    weights.npz      the weights (see below)
    engine.json      the NumPy engine's description, when the model directory has one
    vocabulary.json  the tokenizer's vocabulary; index = token id (0 padding, 1 [UNK])
    config.toml      the config the model was trained with (architecture, tokenizer)
When the model directory already holds ``weights.npz`` (written at training
time for the NumPy engine) it is copied as it is; otherwise it is written from
the Keras model in the same layout (see ``artifact.engine_files.weights_of``), e.g.
``embedding``, ``recurrent_0.forward.kernel``, ``head.bias``.

The export directory is written atomically and never replaces an existing one.
"""

from __future__ import annotations

from pathlib import Path

from sentiment_rnn.artifact.files import CONFIG_FILE, ENGINE_FILE, VOCABULARY_FILE, WEIGHTS_FILE
from sentiment_rnn.artifact.model_directory import ModelDirectory, open_model_dir  # light: no locks or staging
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


def _export_numpy(directory: ModelDirectory, staging: Path) -> None:
    import shutil  # here, not at the top: it imports bz2 and lzma, which predict does not need

    for name in (VOCABULARY_FILE, CONFIG_FILE, ENGINE_FILE):
        if (directory.path / name).is_file():
            shutil.copy2(directory.path / name, staging / name)
    if (directory.path / WEIGHTS_FILE).is_file():
        shutil.copy2(directory.path / WEIGHTS_FILE, staging / WEIGHTS_FILE)
    else:
        from sentiment_rnn.artifact.engine_files import write_weights

        write_weights(directory.model, directory.config.model, staging / WEIGHTS_FILE)
