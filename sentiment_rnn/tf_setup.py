"""Import TensorFlow and Keras quietly, only when a command needs them (about 3 s)."""

from __future__ import annotations

import contextlib
import functools
import os
import sys


@contextlib.contextmanager
def native_stderr_silenced():
    """Send file descriptor 2 to /dev/null: TensorFlow's C++ start-up notes bypass Python logging."""
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


@functools.cache
def import_keras():
    """Import and return ``keras`` with TensorFlow's start-up logging silenced."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    with native_stderr_silenced():
        import keras
        import tensorflow as tf

    tf.get_logger().setLevel("ERROR")
    return keras
