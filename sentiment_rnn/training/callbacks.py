"""The Keras callbacks of training: early stopping, weight averaging, the divergence check, the history CSV
and TensorBoard.

``fit`` hands them to Keras ``fit``; the distributed loop, which cannot use
``fit``, drives the same callbacks by hand, so both stop, restore, diverge and
log alike.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from sentiment_rnn.config import Config
from sentiment_rnn.errors import SentimentError, TrainingDiverged

MUST_BE_FINITE = ("loss", "val_loss")  # logs holding one of these not finite: training diverged


def early_stopping(config: Config):
    """Keras ``EarlyStopping``: stop after ``train.patience`` epochs without a lower validation loss.

    At the end of training it restores the weights of the epoch with the lowest validation loss.
    """
    from sentiment_rnn.tf_setup import import_keras

    return import_keras().callbacks.EarlyStopping(
        monitor="val_loss", patience=config.train.patience, restore_best_weights=True
    )


def weight_averaging(resumed: bool):
    """Keras ``SwapEMAWeights``, swapping at every epoch's end: for ``train.ema``.

    Validation, early stopping's best weights, the checkpoint and so the saved
    model see the moving average of the weights; training steps go on from
    the raw ones. Place it before early stopping.

    Args:
        resumed: the model's weights were just restored from a checkpoint, so
            they are the averaged ones (the raw ones are in the optimizer).
    """
    from sentiment_rnn.tf_setup import import_keras

    swap = import_keras().callbacks.SwapEMAWeights(swap_on_epoch=True)
    swap._ema_weights_in_model = resumed  # Keras keeps this flag private; the next epoch's start swaps back
    return swap


def divergence_check():
    """A new ``DivergenceCheck`` callback (see :func:`_divergence_check_class`)."""
    return _divergence_check_class()()


@functools.cache
def _divergence_check_class():
    """The ``DivergenceCheck`` class, built on first use so that importing this module needs no Keras."""
    from sentiment_rnn.tf_setup import import_keras

    keras = import_keras()

    class DivergenceCheck(keras.callbacks.Callback):
        """Raise :class:`TrainingDiverged` as soon as a batch's loss, or an epoch's (validation) loss, is not finite.

        Raising ends ``fit`` at once, quietly and saying when (Keras's
        ``TerminateOnNaN`` prints, or raises a RuntimeError without the epoch),
        and callbacks after this one never see the diverged epoch: the
        checkpoint does not save it.
        """

        epoch = 0  # the epoch running, from 0

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

        def on_train_batch_end(self, batch, logs=None):
            self.check(self.epoch, logs)

        def on_epoch_end(self, epoch, logs=None):
            self.check(epoch, logs)

        @staticmethod
        def check(epoch: int, logs: dict | None) -> None:
            logs = logs or {}
            if not all(np.isfinite(float(logs.get(key, 0.0))) for key in MUST_BE_FINITE):
                raise TrainingDiverged(epoch + 1)

    return DivergenceCheck


def history_logger(path: Path, earlier_epochs: Sequence[dict[str, float]] = ()):
    """Keras ``CSVLogger`` writing one row per epoch to ``path``: ``epoch``, then the metric names sorted.

    Args:
        path: the CSV file; replaced.
        earlier_epochs: the metrics of the epochs before a resume, one dict per
            epoch; they are written first, so the file holds every epoch.
    """
    from sentiment_rnn.tf_setup import import_keras

    path.unlink(missing_ok=True)
    logger = import_keras().callbacks.CSVLogger(str(path), append=True)
    if earlier_epochs:
        logger.on_train_begin()
        for epoch, logs in enumerate(earlier_epochs):
            logger.on_epoch_end(epoch, logs)
        logger.on_train_end()
    return logger


def tensorboard_callback(log_dir: str | Path):
    """Keras's ``TensorBoard`` callback writing to ``log_dir`` (per-epoch scalars and the graph).

    Raises:
        SentimentError: when the ``tensorboard`` package, which writes the logs, is not installed.
    """
    import importlib.util

    if importlib.util.find_spec("tensorboard") is None:
        raise SentimentError(
            "--tensorboard needs the tensorboard package: install it with pip install 'sentiment-rnn[tensorboard]'."
        )
    from sentiment_rnn.tf_setup import import_keras

    return import_keras().callbacks.TensorBoard(log_dir=str(log_dir))
