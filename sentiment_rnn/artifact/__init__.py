"""Model directories on disk: atomic writes (``atomic``) and locks (``lock``), which files are the tool's
(``ownership``), the format (``model_directory``), and the NumPy engine's files in it (``engine_files``)."""

from sentiment_rnn.lazy import lazy_exports

__getattr__, __dir__ = lazy_exports(  # imported on first use: predict needs no locks or staging
    __name__,
    {
        "backup_path": "sentiment_rnn.artifact.lock",
        "staged_directory": "sentiment_rnn.artifact.atomic",
        "target_lock": "sentiment_rnn.artifact.lock",
        "CONFIG_FILE": "sentiment_rnn.artifact.files",
        "ENGINE_FILE": "sentiment_rnn.artifact.files",
        "HISTORY_FILE": "sentiment_rnn.artifact.files",
        "META_FILE": "sentiment_rnn.artifact.files",
        "METRICS_FILE": "sentiment_rnn.artifact.files",
        "MODEL_FILE": "sentiment_rnn.artifact.files",
        "VOCABULARY_FILE": "sentiment_rnn.artifact.files",
        "WEIGHTS_FILE": "sentiment_rnn.artifact.files",
        "ModelDirectory": "sentiment_rnn.artifact.model_directory",
        "open_model_dir": "sentiment_rnn.artifact.model_directory",
    },
)

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
