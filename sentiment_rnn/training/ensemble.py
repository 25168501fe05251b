"""Training an ensemble: ``train.ensemble`` models fitted one after another on one split, written as members.

The ensemble's model directory holds each member's complete model directory
under ``members/N`` (see ``artifact.files``) and its own config, vocabulary,
metrics and meta; ``artifact.model_directory`` opens it and both engines answer
with the members' mean probability.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sentiment_rnn import progress
from sentiment_rnn.artifact.files import (
    CONFIG_FILE,
    META_FILE,
    VOCABULARY_FILE,
    member_path,
    meta_for,
    write_json,
)
from sentiment_rnn.config import Config, replace, to_toml
from sentiment_rnn.data.dataset import Dataset
from sentiment_rnn.pretrained import started_from
from sentiment_rnn.training.pipeline import Split
from sentiment_rnn.training.write import Written, data_summary, fit_and_write, test_source, write_metrics

KERAS_EPSILON = 1e-7  # keras.config.epsilon(): how far from 0 and 1 Keras's losses clip probabilities


def member_seeds(seed: int, count: int) -> list[int]:
    """The seeds of an ensemble's ``count`` members: ``seed`` first, then seeds drawn from it.

    The first member is the model ``train.ensemble = 1`` would give; the others take
    independent streams of NumPy's ``SeedSequence(seed)``, so ensembles of nearby seeds
    (1, 2, 3) share no member.
    """
    spawned = np.random.SeedSequence(seed).spawn(count - 1)
    return [seed] + [int(sequence.generate_state(1)[0]) for sequence in spawned]


def train_members(
    config: Config,
    split: Split,
    dataset: Dataset,
    staging: Path,
    verbose: int | str,
    callbacks: Sequence[Any],
    test: Dataset | None,
) -> list[Written]:
    """Fit ``config.train.ensemble`` models on one split, one after another, into ``staging/members/1``, ``2``, ...

    Every member sees the same training and validation split (so the ensemble's
    validation metrics are measured on texts no member trained on) and the same
    config but for ``train.seed`` (:func:`member_seeds`): it starts from other
    weights and sees the batches in another order. No member is backed up per
    epoch: ``--resume`` is refused for ensembles.
    """
    count = config.train.ensemble
    members = []
    for number, seed in enumerate(member_seeds(config.train.seed, count), start=1):
        progress.note(f"Training member {number} of {count} (train.seed = {seed})", quiet=not verbose)
        member_dir = member_path(staging, number)
        member_dir.mkdir(parents=True)
        member_config = replace(config, train={"seed": seed, "ensemble": 1})
        members.append(fit_and_write(member_config, split, dataset, member_dir, verbose, callbacks, test, None))
    return members


def write_ensemble(
    config: Config, split: Split, dataset: Dataset, staging: Path, test: Dataset | None, members: list[Written]
) -> Written:
    """Write an ensemble's own files beside its ``members/``; measure the ensemble on the validation (and test) data.

    The ensemble's config.toml is the config as given (``train.ensemble`` members,
    ``train.seed`` the first member's); vocabulary.json is the members' (one split, one
    vocabulary); metrics.json holds the ensemble's metrics, measured through the
    NumPy engine as ``predict`` answers, and each member's validation accuracy.
    """
    from sentiment_rnn.artifact.model_directory import open_model_dir

    first = member_path(staging, 1)
    (staging / CONFIG_FILE).write_text(to_toml(config), encoding="utf-8")
    shutil.copy2(first / VOCABULARY_FILE, staging / VOCABULARY_FILE)
    summary = data_summary(dataset, split, test, config, members[0].epochs_run, members[0].best_epoch)
    summary["members"] = [{"epochs_run": m.epochs_run, "best_epoch": m.best_epoch} for m in members]
    write_json(staging / META_FILE, meta_for(config, summary, started_from(config)))
    ensemble = open_model_dir(staging)
    metrics = ensemble_metrics(ensemble, split.validation)
    metrics["member_accuracy"] = [m.metrics["accuracy"] for m in members]
    test_metrics = None
    if test is not None:
        test_metrics = {**ensemble_metrics(ensemble, test), "source": test_source(config)}
    write_metrics(staging, metrics, test_metrics)
    first_plot = member_path(Path(), 1) / members[0].plot if members[0].plot else None
    return Written(members[0].model, metrics, test_metrics, members[0].epochs_run, members[0].best_epoch, first_plot)


def ensemble_metrics(ensemble, data) -> dict[str, Any]:
    """An ensemble's metrics on labelled texts, under metrics.json's names: loss, accuracy, auc, ece, brier, n.

    For more than two classes: loss (categorical cross-entropy), accuracy, ece (of the top class), brier, n.
    """
    from sentiment_rnn.evaluation import binary_metrics
    from sentiment_rnn.inference import predict_proba

    probabilities = predict_proba(ensemble, list(data.texts))
    if probabilities.ndim == 2:
        from sentiment_rnn.evaluation.class_metrics import class_metrics

        classes = np.asarray(data.labels, dtype=np.int64)
        measured = class_metrics(classes, probabilities, ensemble.classes)
        chosen = np.clip(probabilities[np.arange(len(classes)), classes], KERAS_EPSILON, 1.0)
        return {
            "loss": float(-np.mean(np.log(chosen))),
            "accuracy": measured.accuracy,
            "ece": measured.ece,
            "brier": measured.brier,
            "n": len(data),
        }
    labels = np.asarray(data.labels, dtype=np.float64)
    measured = binary_metrics(labels, probabilities)
    clipped = np.clip(probabilities, KERAS_EPSILON, 1 - KERAS_EPSILON)  # as Keras's binary cross-entropy clips
    return {
        "loss": float(-np.mean(labels * np.log(clipped) + (1 - labels) * np.log(1 - clipped))),
        "accuracy": measured.accuracy,
        "auc": measured.roc_auc if measured.roc_auc is not None else float("nan"),
        "ece": measured.ece,
        "brier": measured.brier,
        "n": len(data),
    }
