"""One training run, start to finish: read the data, split, fit, and write the model directory."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sentiment_rnn import progress
from sentiment_rnn.artifact.atomic import check_target, staged_directory
from sentiment_rnn.budget import (
    cap_training_texts,
    cap_warning,
    check_fits_in_memory,
    training_token_cap,
)
from sentiment_rnn.config import Config, with_classes
from sentiment_rnn.data.dataset import Dataset
from sentiment_rnn.data.labels import DEFAULT_CLASSES, POSITIVE_NEGATIVE, classes_of, label_scheme
from sentiment_rnn.errors import SentimentError
from sentiment_rnn.training.backup import locked_backup
from sentiment_rnn.training.callbacks import tensorboard_callback
from sentiment_rnn.training.distributed import join_cluster, make_strategy
from sentiment_rnn.training.ensemble import train_members, write_ensemble
from sentiment_rnn.training.pipeline import (
    Split,
    hold_out_test,
    load_training_data,
    read_test_data,
    split_dataset,
)
from sentiment_rnn.training.write import fit_and_write


@dataclass
class TrainResult:
    """What ``train`` produced: the model directory, its metrics and the fitted model."""

    out_dir: Path
    metrics: dict[str, float]
    epochs_run: int
    best_epoch: int
    model: Any
    split: Split
    skipped: int = 0  # rows of the data skipped for missing or blank text
    other_labels: int = 0  # rows skipped because the label mapping (data.positive/negative) left their label out
    test_metrics: dict[str, Any] | None = None  # accuracy, auc, loss, n on the held-out test part or file
    plot: Path | None = None  # training.png in out_dir, or None when matplotlib is not installed
    wrote_model_dir: bool = True  # False on a multi-worker run's workers other than the chief
    # An ensemble's (best epoch, epochs run) of each member, in order; empty for one model. ``epochs_run``
    # and ``best_epoch`` above are then the first member's, ``model`` the first member's Keras model.
    member_epochs: list[tuple[int, int]] = field(default_factory=list)
    classes: tuple[str, ...] = DEFAULT_CLASSES  # the model's classes (data.labels of the saved config)
    class_counts: dict[str, int] = field(default_factory=dict)  # the data's examples of each class
    label_map_option: str = POSITIVE_NEGATIVE  # the options of the label map, for a message about other labels


@contextlib.contextmanager
def output_directories(
    out_dir: Path, config: Config, split: Split, resume: bool, writes_model_dir: bool
) -> Iterator[tuple[Path | None, Path]]:
    """(backup, staging) of a run: where the epochs are backed up and where the model directory is written.

    A run that writes the model directory locks ``out_dir``, backs up every
    epoch (:func:`locked_backup`) and stages ``out_dir`` atomically. A
    multi-worker run's other workers do neither: no backup, and a scratch
    directory that is removed.
    """
    if not writes_model_dir:
        with tempfile.TemporaryDirectory(prefix="sentiment-rnn-worker-") as scratch:
            yield None, Path(scratch)
        return
    with locked_backup(out_dir, config, split, resume) as backup, staged_directory(out_dir) as staging:
        yield backup, staging


LOW_AUC = 0.6  # a validation AUC below it: the model learned little (0.5 is chance)
REAL_TEXT_PRESET = "imdb-hybrid"  # the shipped config to suggest for real reviews (init-config --preset)


def learned_little(metrics: dict[str, Any]) -> str | None:
    """One line saying that a model learned little, and what usually helps, when its validation AUC is under
    ``LOW_AUC``; None otherwise (and for a validation side of one class, whose AUC is not a number)."""
    auc = metrics.get("auc")
    if not isinstance(auc, int | float) or not auc < LOW_AUC:
        return None
    return (
        f"Warning: validation AUC {auc:.3f} is under {LOW_AUC}: this model learned little from the data. What usually "
        f"helps: a config made for real text (sentiment-rnn init-config --preset {REAL_TEXT_PRESET} > real.toml, then "
        "train --config real.toml), more epochs (--epochs 30), or starting from a pretrained language model "
        "(train --init-from)."
    )


def check_logs_outside(log_dir: str | Path, out_dir: str | Path) -> None:
    """Refuse a ``--tensorboard`` directory inside ``--out``: the model directory is replaced as a whole, and
    whatever else is in it would go with it (or keep it from being replaced)."""
    import os

    logs, out = Path(os.path.realpath(log_dir)), Path(os.path.realpath(out_dir))
    if logs == out or logs.is_relative_to(out):
        raise SentimentError(
            f"--tensorboard {log_dir} is inside --out {out_dir}, which is replaced when the model is written: "
            "pass a directory outside it, e.g. --tensorboard logs."
        )


def capped_texts(dataset: Dataset, config: Config, quiet: bool) -> Dataset:
    """``dataset`` with every text cut to ``budget.training_token_cap`` tokens; a warning on stderr if any was."""
    import dataclasses

    import numpy as np

    cap = training_token_cap(config)
    texts, cut, longest = cap_training_texts(dataset.texts, cap)
    if not cut:
        return dataset
    median = float(np.median([text.count(" ") + 1 for text in dataset.texts]))
    progress.warn(cap_warning(cut, longest, cap, median), quiet=quiet)
    return dataclasses.replace(dataset, texts=texts)


def longest_tokens(dataset: Dataset, cap: int) -> int:
    """An upper bound of the tokens of the longest text in ``dataset`` (what a batch is padded to): its
    characters, at most ``cap``."""
    return min(cap, max((len(text) for text in dataset.texts), default=0))


def classes_config(config: Config, classes: tuple[str, ...]) -> Config:
    """:func:`~sentiment_rnn.config.with_classes`, refusing what more than two classes cannot do."""
    config = with_classes(config, classes)
    if len(classes) > 2 and config.train.calibrate and config.train.calibration == "platt":
        raise SentimentError(
            f'train.calibration = "platt" fits a two-class logit, but the data has {len(classes)} classes '
            f'({", ".join(classes)}): set train.calibration = "temperature".'
        )
    return config


def train(
    config: Config,
    out_dir: str | Path,
    dataset: Dataset | None = None,
    verbose: int | None = None,
    resume: bool = False,
    callbacks: Sequence[Any] = (),
    tensorboard_dir: str | Path | None = None,
    workers: str | None = None,
    worker_index: int = 0,
    validation: Dataset | None = None,
    quiet: bool = False,
) -> TrainResult:
    """Train the configured model and write its model directory atomically.

    While training, ``out_dir`` is locked (a second run into it is refused) and
    every finished epoch is backed up in ``.NAME.backup`` beside it; an
    interrupted run continues from there with ``resume=True`` and ends at the
    weights an uninterrupted run would have reached. The backup is removed
    once the model directory is written, or when training diverges.

    Args:
        config: the full config; ``config.data`` names the data unless ``dataset`` is given.
        out_dir: the model directory to create or replace.
        dataset: data to use instead of ``config.data``.
        verbose: Keras ``fit`` verbosity: 1 a progress bar per epoch, 0 silent; None (the default)
            follows the command line's rule, 1 when stderr is a terminal and 0 otherwise
            (``progress.keras_verbose``). Progress and status lines go to stderr.
        resume: continue the interrupted run into ``out_dir`` (same config and data).
        callbacks: extra Keras callbacks for ``fit``.
        tensorboard_dir: also log for TensorBoard to this directory (needs the tensorboard package).
        workers, worker_index: the cluster of a multi-worker run and this
            process's place in it (see :func:`~sentiment_rnn.training.distributed.use_cluster`);
            without ``workers``, ``TF_CONFIG`` describes it.
        validation: a validation set of its own (e.g. a benchmark's dev split) for early stopping and
            the metrics; ``dataset`` is then all training data, not split. Needs ``dataset``.
        quiet: no warnings on stderr (a text cut to ``budget.MAX_TRAINING_TOKENS`` tokens); without it they
            are shown whether or not stderr is a terminal.

    The classes are the data's (``Dataset.classes``): two give a sigmoid head, more a softmax
    head; the saved config names them in ``data.labels`` (unless they are negative/positive).

    Returns:
        A TrainResult with the validation metrics of the restored best weights;
        ``plot`` is the written ``training.png``, or None without matplotlib.
        On a multi-worker run's workers other than the chief, ``wrote_model_dir``
        is False: they train alike but write nothing.

    Raises:
        SentimentError: an ``out_dir`` holding anything not the tool's (``artifact.ownership``; refused
            before any data is read), bad data, no tensorboard package, a cluster not or
            badly described, another run writing ``out_dir``, nothing to
            resume, or a diverged run (``out_dir`` is then left as it was).
    """
    check_fits_in_memory(config)
    verbose = progress.keras_verbose() if verbose is None else verbose
    if tensorboard_dir:
        check_logs_outside(tensorboard_dir, out_dir)
    if resume and config.train.ensemble > 1:
        raise SentimentError(
            f"--resume does not work with train.ensemble = {config.train.ensemble} (members are not backed up "
            "epoch by epoch): train again without --resume."
        )
    if tensorboard_dir:
        callbacks = [*callbacks, tensorboard_callback(tensorboard_dir)]
    writes_model_dir = join_cluster(config.train.distribute, workers, worker_index)  # before any data is read
    if writes_model_dir:  # a directory of the user's is refused at once, not after a pass over the data
        check_target(out_dir)
    inexact = [
        key
        for key, on in (
            ("train.bucket_by_length", config.train.bucket_by_length),
            ("data.streaming", config.data.streaming),
            ("train.steps_per_execution", config.train.steps_per_execution > 1),
        )
        if on
    ]
    if resume and inexact:  # their batch order and shuffle state are not saved, so a resume would not be exact
        setting = inexact[0] + (" above 1" if inexact[0] == "train.steps_per_execution" else " = true")
        raise SentimentError(
            f"--resume does not work with {setting} (the batch order after an interruption would "
            "differ from an uninterrupted run): train again without --resume."
        )
    if config.train.distribute != "none":
        if resume:
            raise SentimentError(
                f"--resume does not work with train.distribute = {config.train.distribute}: "
                "train again without --resume."
            )
        make_strategy(config.train.distribute)  # before any TensorFlow op: collectives are set up at start-up
    test = None
    if dataset is None and config.data.streaming:
        from sentiment_rnn.data.stream import open_stream
        from sentiment_rnn.models import make_tokenizer

        progress.note(f"Streaming {config.data.path or 'the built-in corpus'}", quiet=not verbose)
        dataset, train_part, validation_part = open_stream(config, make_tokenizer(config))
        split = Split(train=train_part, validation=validation_part)
        config = classes_config(config, dataset.classes)
    else:
        if dataset is None:
            data = config.data
            what = data.path or (f"{data.pos} + {data.neg}" if data.pos or data.neg else "the built-in corpus")
            what = f"{len(data.sources)} sources" if data.sources else what
            progress.note(f"Reading {what}", quiet=not verbose)
            dataset = load_training_data(config)
        dataset = capped_texts(dataset, config, quiet)
        validation = capped_texts(validation, config, quiet) if validation is not None else None
        check_fits_in_memory(config, longest_tokens(dataset, training_token_cap(config)))
        config = classes_config(config, dataset.classes)
        if validation is not None:
            validation = validation.with_classes(dataset.classes)
        rest = dataset
        if config.train.test_split:
            rest, test = hold_out_test(dataset, config.train.test_split, config.train.seed)
        if validation is not None:
            split = Split(train=rest, validation=validation)
        else:
            split = split_dataset(rest, config.train.validation_split, config.train.seed)
    if config.data.test_path:
        test = capped_texts(read_test_data(config), config, quiet)
    out_dir = Path(out_dir)
    with output_directories(out_dir, config, split, resume, writes_model_dir) as (backup, staging):
        if config.train.ensemble > 1:
            members = train_members(config, split, dataset, staging, verbose, callbacks, test)
            written = write_ensemble(config, split, dataset, staging, test, members)
        else:
            members = []
            written = fit_and_write(config, split, dataset, staging, verbose, callbacks, test, backup)
    return TrainResult(
        out_dir,
        written.metrics,
        written.epochs_run,
        written.best_epoch,
        written.model,
        split,
        dataset.skipped,
        dataset.other_labels,
        written.test_metrics,
        out_dir / written.plot if written.plot else None,
        writes_model_dir,
        [(member.best_epoch, member.epochs_run) for member in members],
        classes_of(config.data),
        dataset.label_counts(),
        label_scheme(config.data).option,
    )
