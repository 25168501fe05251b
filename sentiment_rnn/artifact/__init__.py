"""Model directories on disk: atomic writes and locks (``atomic``), the format (``model_directory``),
and the NumPy engine's files in it (``engine_files``)."""

from sentiment_rnn.artifact.atomic import backup_path, staged_directory, target_lock
from sentiment_rnn.artifact.files import (
    CONFIG_FILE,
    ENGINE_FILE,
    HISTORY_FILE,
    META_FILE,
    METRICS_FILE,
    MODEL_FILE,
    VOCABULARY_FILE,
    WEIGHTS_FILE,
)
from sentiment_rnn.artifact.model_directory import ModelDirectory, open_model_dir

__all__ = [
    "CONFIG_FILE",
    "ENGINE_FILE",
    "HISTORY_FILE",
    "META_FILE",
    "METRICS_FILE",
    "MODEL_FILE",
    "VOCABULARY_FILE",
    "WEIGHTS_FILE",
    "ModelDirectory",
    "backup_path",
    "open_model_dir",
    "staged_directory",
    "target_lock",
]
