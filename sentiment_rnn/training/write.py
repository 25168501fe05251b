"""One model fitted and its model directory written: the part of a run that an ensemble repeats per member."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sentiment_rnn.artifact.files import (
    CONFIG_FILE,
    HISTORY_FILE,
    META_FILE,
    METRICS_FILE,
    MODEL_FILE,
    PLOT_FILE,
    VOCABULARY_FILE,
    meta_for,
    write_json,
    write_vocabulary,
)
from sentiment_rnn.config import Config, to_toml
from sentiment_rnn.data.dataset import Dataset
from sentiment_rnn.plots import write_training_plot
from sentiment_rnn.pretrained import started_from
from sentiment_rnn.training.fit import evaluate_fitted, fit
from sentiment_rnn.training.pipeline import Split, validation_batches
from sentiment_rnn.training.temperature import calibrate, calibration_input, calibration_report


@dataclass
class Written:
    """One model directory written by :func:`fit_and_write` (or an ensemble's, by :func:`write_ensemble`)."""

    model: Any  # the fitted end-to-end Keras model (an ensemble: its first member's)
    metrics: dict[str, Any]  # validation metrics, as in metrics.json
    test_metrics: dict[str, Any] | None  # the same on the test part or file, if any
    epochs_run: int
    best_epoch: int
    plot: Path | None  # training.png's path in the directory (an ensemble: its first member's), None without matplotlib


def fit_and_write(
    config: Config,
    split: Split,
    dataset: Dataset,
    staging: Path,
    verbose: int | str,
    callbacks: Sequence[Any],
    test: Dataset | None,
    backup: Path | None,
) -> Written:
    """Fit one model on ``split`` and write its complete model directory into ``staging``."""
    from sentiment_rnn.artifact.engine_files import write_engine_files
    from sentiment_rnn.models import TOKENIZER_LAYER, with_view
    from sentiment_rnn.tf_setup import import_keras

    fitted = fit(
        config,
        split,
        history_csv=staging / HISTORY_FILE,
        verbose=verbose,
        backup=backup,
        callbacks=callbacks,
    )
    model, history = fitted.model, fitted.history
    validation = validation_batches(config, split.validation)
    if config.train.calibrate:
        batches, sources = calibration_input(config, split.validation)
        calibration = calibrate(model, batches, config.train.calibration, sources)
    else:
        calibration = calibration_report(model, validation)
    metrics = evaluate_fitted(fitted, config, split.validation)
    metrics["n"] = len(split.validation)
    metrics.update(calibration)
    test_metrics = None
    if test is not None:  # measured once, with the restored best weights; early stopping never saw it
        test_metrics = evaluate_fitted(fitted, config, test)
        test_metrics["n"] = len(test)
        test_metrics["source"] = test_source(config)
    val_losses = history.history["val_loss"]
    best_epoch = int(np.argmin(val_losses)) + 1
    # An uncompiled twin (same layers and weights): model.keras then holds no optimizer state, a third
    # of the size; nothing that loads it needs Adam's moments (--resume reads its own checkpoint).
    saved = import_keras().Model(model.input, model.output, name=model.name)
    if config.model.kind == "rnn" and (config.model.stateful or config.model.return_sequences):
        saved = with_view(
            model,
            config.model,
            stateful=config.model.stateful,
            batch_size=config.model.stateful_batch_size,
            return_sequences=config.model.return_sequences,
        )
    saved.save(staging / MODEL_FILE)
    (staging / CONFIG_FILE).write_text(to_toml(config), encoding="utf-8")
    write_vocabulary(staging / VOCABULARY_FILE, list(model.get_layer(TOKENIZER_LAYER).get_vocabulary()))
    write_metrics(staging, metrics, test_metrics)
    write_engine_files(model, config, staging)
    summary = data_summary(dataset, split, test, config, len(val_losses), best_epoch)
    write_json(staging / META_FILE, meta_for(config, summary, started_from(config)))
    plotted = write_training_plot(staging / HISTORY_FILE, staging / PLOT_FILE, best_epoch)
    return Written(model, metrics, test_metrics, len(val_losses), best_epoch, Path(PLOT_FILE) if plotted else None)


def write_metrics(staging: Path, metrics: dict[str, Any], test_metrics: dict[str, Any] | None) -> None:
    """metrics.json: the validation metrics, and the test ones under ``test`` when there were test data."""
    write_json(staging / METRICS_FILE, metrics if test_metrics is None else {**metrics, "test": test_metrics})


def test_source(config: Config) -> str:
    """What metrics.json's ``test`` part was measured on: ``"test_split"`` or the test file's path."""
    return "test_split" if config.train.test_split else config.data.test_path


def data_summary(
    dataset: Dataset, split: Split, test: Dataset | None, config: Config, epochs_run: int, best_epoch: int
) -> dict[str, Any]:
    """meta.json's ``data`` part: the training data, its label mapping and split, and the epochs trained."""
    summary = {
        "source": dataset.source,
        "rows": len(dataset),
        "skipped": dataset.skipped,
        "other_labels": dataset.other_labels,
        "label_mapping": {"positive": config.data.positive, "negative": config.data.negative}
        if config.data.positive
        else None,
        **({"label_map": config.data.label_map} if config.data.label_map else {}),
        "labels": dataset.label_counts(),
        "train_rows": len(split.train),
        "validation_rows": len(split.validation),
        "test_rows": 0 if test is None else len(test),
        "epochs_run": epochs_run,
        "best_epoch": best_epoch,
    }
    if getattr(dataset, "parts", ()):  # a streamed file is one source
        summary["sources"] = list(dataset.parts)
    return summary
