"""Fit one model: the tokenizer adapted, the model built and compiled, Keras fit with early stopping.

The training step sees token ids: the input pipeline tokenizes every batch
(``pipeline.tokenized``, in parallel to the step) and Keras fits the model's
token-id view (``models.token_id_model``), which shares every weight with the
end-to-end model that is returned (raw strings in). Tokenizing inside the step
cost every step its string ops; in the pipeline they overlap with training.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from sentiment_rnn import progress
from sentiment_rnn.budget import token_id_cap
from sentiment_rnn.config import Config
from sentiment_rnn.data.labels import classes_of
from sentiment_rnn.models import build_training_model
from sentiment_rnn.pretrained import start_from_language_model
from sentiment_rnn.training.backup import backup_for_fit
from sentiment_rnn.training.callbacks import divergence_check, early_stopping, history_logger, weight_averaging
from sentiment_rnn.training.checkpoint import epoch_checkpoint_class, latest_checkpoint
from sentiment_rnn.training.pipeline import (
    Split,
    adapt_tokenizer,
    epoch_steps,
    seed_everything,
    tokenized,
    training_input,
    validation_batches,
)


def class_weights(config: Config, train) -> dict[int, float] | None:
    """Keras ``class_weight`` for ``train.class_weight``: None, or for ``"balanced"`` each class's weight
    ``n / (classes x n_c)`` from the training split's counts (every class then weighs the same in the loss,
    as average recall weighs every class the same)."""
    if config.train.class_weight == "none":
        return None
    labels = np.asarray(train.labels, dtype=np.int64)
    counts = np.bincount(labels, minlength=len(classes_of(config.data)))
    return {index: len(labels) / (len(counts) * int(count)) for index, count in enumerate(counts) if count}


class Fitted(NamedTuple):
    """What :func:`fit` returns.

    ``model``: the compiled end-to-end model (raw strings in), holding the best weights by validation loss
    (with ``train.ema``, the best averaged weights). ``history``: the Keras History of every epoch,
    including those before a resume. ``from_tokens``: the model's token-id view (``models.token_id_model``)
    that Keras fitted and the callbacks saw; its test step is already compiled, so
    :func:`evaluate_fitted` measures through it (None under a ``tf.distribute`` strategy, whose custom
    loop compiles no Keras step).
    """

    model: Any
    history: Any
    from_tokens: Any


def evaluate_fitted(fitted: Fitted, config: Config, data) -> dict[str, float]:
    """Loss and metrics (Keras ``evaluate``) of a fitted model on labelled texts ``data``.

    Measured through the token-id view, whose test step fit compiled for validation: the end-to-end model
    would trace a step of its own first (0.3-0.4 s for a small model). The weights are shared, so
    the figures are the end-to-end model's.
    """
    from sentiment_rnn.models import vectorizer_layers

    batches = validation_batches(config, data)
    if fitted.from_tokens is None:
        measured = fitted.model.evaluate(batches, verbose=0, return_dict=True)
    else:
        batches = tokenized(batches, vectorizer_layers(fitted.model), token_id_cap(config))
        measured = fitted.from_tokens.evaluate(batches, verbose=0, return_dict=True)
    return {name: float(value) for name, value in measured.items()}


def fit(
    config: Config,
    split: Split,
    history_csv: Path | None = None,
    verbose: int | None = None,
    backup: Path | None = None,
    callbacks: Sequence[Any] = (),
):
    """Adapt the tokenizer and fit the configured model on ``split``.

    Args:
        history_csv: where to write every epoch's metrics (Keras ``CSVLogger``).
        verbose: Keras ``fit`` verbosity; its progress bar goes to stderr, so
            stdout carries only results. None: a bar only when stderr is a terminal.
        callbacks: extra Keras callbacks (e.g. ``TensorBoard``), run after the
            built-in early stopping, divergence check, checkpoint and history CSV.
        backup: a directory for per-epoch checkpoints: a path that does not exist yet, which fit makes
            (``training.backup.backup_for_fit``), or one made so before (by fit, or by
            ``training.backup.prepare_backup``; its manifest lets the tool replace what it wrote there).
            If it already holds a checkpoint, training resumes after its last completed epoch, with
            the model, optimizer, early stopping and history as they were. The caller removes it.

    Returns:
        :class:`Fitted`: the end-to-end model, the History and the token-id view.

    Raises:
        TrainingDiverged: when the loss becomes NaN.
        SentimentError: a ``backup`` that cannot be made, or that holds anything the tool did not write.
    """
    from sentiment_rnn.models import compile_model, make_tokenizer, token_id_model, vectorizer_layers
    from sentiment_rnn.tf_setup import import_keras
    from sentiment_rnn.training.optimizer import gradual_unfreezing_callback, make_optimizer

    verbose = progress.keras_verbose() if verbose is None else verbose
    if config.train.distribute != "none":
        from sentiment_rnn.training.distributed import fit_distributed

        return Fitted(*fit_distributed(config, split, history_csv=history_csv, verbose=verbose), from_tokens=None)
    if backup is not None:
        backup_for_fit(Path(backup), config, split)
    keras = import_keras()
    seed_everything(config.train.seed)
    tokenizer = make_tokenizer(config)
    if not config.model.init_from:
        progress.note(f"Adapting the tokenizer on {len(split.train):,} texts", quiet=not verbose)
    adapt_tokenizer(tokenizer, split.train, config)
    model = build_training_model(config, tokenizer, split.train)
    start_from_language_model(model, config)
    trained = token_id_model(model)  # the same weights, token ids in: what fit trains and the callbacks see
    optimizer = make_optimizer(config, epoch_steps(config, split.train))
    compile_model(trained, optimizer, steps_per_execution=config.train.steps_per_execution)
    compile_model(model, trained.optimizer)  # to evaluate on raw strings; one optimizer state
    vectorizers = vectorizer_layers(model)
    stopping = early_stopping(config)
    checkpoint = epoch_checkpoint_class()(backup, stopping)
    checkpoint.set_model(trained)
    first_epoch = 0
    latest = latest_checkpoint(backup) if backup is not None else None
    if latest is not None:
        first_epoch = checkpoint.restore(latest, config.train.epochs)
        if checkpoint.restored_state["stopped"]:
            first_epoch = config.train.epochs
    logged = [] if history_csv is None else [history_logger(history_csv, checkpoint.history)]
    averaging = [weight_averaging(resumed=latest is not None)] if config.train.ema else []
    thawing = [gradual_unfreezing_callback(trained)] if config.train.gradual_unfreezing else []
    if first_epoch < config.train.epochs:
        batches, steps = training_input(config, split.train, first_epoch)
        cap = token_id_cap(config)
        with contextlib.redirect_stdout(sys.stderr):  # Keras prints its progress bar to stdout
            trained.fit(
                tokenized(batches, vectorizers, cap),
                class_weight=class_weights(config, split.train),
                steps_per_epoch=steps,
                validation_data=tokenized(validation_batches(config, split.validation), vectorizers, cap),
                initial_epoch=first_epoch,
                shuffle=False,  # the batches are already shuffled
                epochs=config.train.epochs,
                # the averaged weights are swapped in before early stopping keeps them; early stopping and
                # the divergence check act on an epoch before the checkpoint saves it
                callbacks=[*thawing, *averaging, stopping, divergence_check(), checkpoint, *logged, *callbacks],
                verbose=verbose,
            )
    elif checkpoint.restored_best is not None:  # the backed-up run had finished: take its best weights
        trained.set_weights(checkpoint.restored_best)
    history = keras.callbacks.History()
    history.history = {key: [row[key] for row in checkpoint.history] for key in checkpoint.history[0]}
    history.epoch = list(range(len(checkpoint.history)))
    return Fitted(model, history, trained)
