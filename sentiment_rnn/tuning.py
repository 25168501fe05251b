"""``tune``: a search over the declared config space on the validation split, with Optuna.

Every trial trains one config (the base config with the searched keys drawn by
Optuna's TPE sampler, seeded with ``train.seed``) on the same seeded split and
scores it by the validation accuracy of its restored best epoch (the epoch of
lowest validation loss, as ``train`` keeps). The best config is written as a
complete commented TOML that ``train --config`` takes.

The space is :data:`SPACE`; keys given with ``--set`` (``fixed``) stay as set.
The wide-branch keys are searched only in trials that draw ``model.kind = "hybrid"``.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sentiment_rnn.config import Config, config_from_dict, to_dict, toml_value, with_classes
from sentiment_rnn.errors import SentimentError, TrainingDiverged


@dataclass(frozen=True)
class Choice:
    """A key searched over a few values."""

    values: tuple


@dataclass(frozen=True)
class Span:
    """A float key searched over [low, high], on a log scale if ``log``."""

    low: float
    high: float
    log: bool = False


# The searched keys, in the order a trial draws them. Names are config keys.
SPACE: dict[str, Choice | Span] = {
    "model.kind": Choice(("rnn", "hybrid")),
    "model.cell": Choice(("simple", "gru", "lstm")),
    "model.layers": Choice((1, 2)),
    "model.units": Choice((32, 64, 128)),
    "model.bidirectional": Choice((False, True)),
    "model.pooling": Choice(("last", "max", "mean")),
    "model.output_dim": Choice((32, 64, 128)),
    "model.dropout": Span(0.0, 0.5),
    "train.learning_rate": Span(3e-4, 1e-2, log=True),
    "train.batch_size": Choice((32, 64, 128)),
    "train.ema": Choice((0.0, 0.99, 0.999)),
}
HYBRID_SPACE: dict[str, Choice | Span] = {  # drawn only when the trial's model.kind is "hybrid"
    "model.ngrams": Choice((1, 2, 3)),
    "model.wide_scale": Span(0.05, 1.0, log=True),
}
OPTUNA_MISSING = "tune needs the optuna package: install it with pip install 'sentiment-rnn[tune]'."


@dataclass(frozen=True)
class Trial:
    """One finished (or failed) trial: its number (1-based), drawn keys, score and wall seconds."""

    number: int
    params: dict[str, Any]
    accuracy: float | None  # validation accuracy of the best epoch; None when the trial failed
    seconds: float
    best_epoch: int = 0
    epochs_run: int = 0
    failure: str = ""


@dataclass
class TuneResult:
    """What a search found: the best trial and its config, every trial, and whether Ctrl-C ended it."""

    best: Trial
    config: Config
    trials: list[Trial] = field(default_factory=list)
    interrupted: bool = False
    timed_out: bool = False
    validation_rows: int = 0


def searched_keys(fixed: Iterable[str]) -> list[str]:
    """The keys of :data:`SPACE` and :data:`HYBRID_SPACE` a search draws, given the ``fixed`` ones."""
    fixed = set(fixed)
    return [key for key in (*SPACE, *HYBRID_SPACE) if key not in fixed]


def with_params(config: Config, params: dict[str, Any]) -> Config:
    """``config`` with the drawn ``{"section.key": value}`` set (validated as any config)."""
    raw = to_dict(config)
    for name, value in params.items():
        section, key = name.split(".")
        raw[section][key] = value
    return config_from_dict(raw, source="the search space")


def tune(
    config: Config,
    trials: int,
    timeout_minutes: float | None = None,
    fixed: Iterable[str] = (),
    report: Callable[[Trial, Trial | None, int], None] | None = None,
) -> TuneResult:
    """Search :data:`SPACE` for the config of best validation accuracy.

    Args:
        config: the base config: its data, and every key not searched.
        trials: at most this many trials.
        timeout_minutes: start no trial after this many minutes (a running one finishes).
        fixed: keys (``"model.cell"``) not to search: they keep ``config``'s value.
        report: called after each trial with (trial, best so far or None, trials asked for).

    Returns:
        The best trial and its config. Ctrl-C (KeyboardInterrupt) during a trial ends the
        search with the best finished trial (``interrupted``).

    Raises:
        SentimentError: optuna missing, bad data, or no trial finished (all failed).
        KeyboardInterrupt: Ctrl-C before any trial finished.
    """
    try:
        import optuna
    except ImportError:
        raise SentimentError(OPTUNA_MISSING) from None
    from sentiment_rnn.training.fit import fit
    from sentiment_rnn.training.pipeline import load_training_data, split_dataset

    if trials < 1:
        raise SentimentError(f"--trials must be at least 1, got {trials}.")
    if config.data.streaming:
        raise SentimentError("tune reads the data in memory: set data.streaming = false.")
    fixed = set(fixed)
    dataset = load_training_data(config)
    config = with_classes(config, dataset.classes)  # more than two: every trial has a softmax head over them
    split = split_dataset(dataset, config.train.validation_split, config.train.seed)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=config.train.seed))
    done: list[Trial] = []
    configs: dict[int, Config] = {}

    def draw(trial, space: dict[str, Choice | Span], params: dict[str, Any]) -> None:
        for name, spec in space.items():
            if name in fixed:
                continue
            if isinstance(spec, Choice):
                params[name] = trial.suggest_categorical(name, list(spec.values))
            else:
                params[name] = trial.suggest_float(name, spec.low, spec.high, log=spec.log)

    def objective(trial) -> float:
        params: dict[str, Any] = {}
        draw(trial, SPACE, params)
        if params.get("model.kind", config.model.kind) == "hybrid":
            draw(trial, HYBRID_SPACE, params)
        started = time.perf_counter()
        number = trial.number + 1
        try:
            trial_config = with_params(config, params)
            history = fit(trial_config, split, verbose=0).history
        except (TrainingDiverged, SentimentError) as exc:
            done.append(Trial(number, params, None, time.perf_counter() - started, failure=str(exc)))
            _report(done[-1])
            raise optuna.TrialPruned() from None
        losses = history.history["val_loss"]
        best_epoch = min(range(len(losses)), key=losses.__getitem__)
        accuracy = float(history.history["val_accuracy"][best_epoch])
        configs[number] = trial_config
        done.append(Trial(number, params, accuracy, time.perf_counter() - started, best_epoch + 1, len(losses)))
        _report(done[-1])
        return accuracy

    def _report(trial: Trial) -> None:
        if report is not None:
            report(trial, best_of(done), trials)

    interrupted = False
    started = time.monotonic()
    timeout = timeout_minutes * 60 if timeout_minutes else None
    try:
        study.optimize(objective, n_trials=trials, timeout=timeout, gc_after_trial=True)
    except KeyboardInterrupt:
        interrupted = True
    best = best_of(done)
    if best is None:
        if interrupted:
            raise KeyboardInterrupt
        raise SentimentError(
            f"No trial finished: all {len(done)} failed (the first: {done[0].failure}); "
            "lower train.learning_rate or check the data."
        )
    timed_out = not interrupted and len(done) < trials and timeout is not None and time.monotonic() - started >= timeout
    return TuneResult(best, configs[best.number], done, interrupted, timed_out, len(split.validation))


def best_of(trials: list[Trial]) -> Trial | None:
    """The finished trial of highest accuracy (the earliest of equals), or None."""
    finished = [t for t in trials if t.accuracy is not None]
    return max(finished, key=lambda t: (t.accuracy, -t.number)) if finished else None


def describe(params: dict[str, Any]) -> str:
    """Drawn keys as ``cell=gru units=64 learning_rate=0.0031 ema=0.999``.

    A float drawn from a :class:`Span` is shown to 2 significant digits; one of a
    :class:`Choice` in full (``ema=0.999``, never rounded to ``1``), so the values
    a search chose between stay told apart.
    """
    specs = {**SPACE, **HYBRID_SPACE}

    def show(name: str, value: Any) -> str:
        if not isinstance(value, float):
            return toml_value(value).strip('"')
        return f"{value:.2g}" if isinstance(specs.get(name), Span) else f"{value:g}"

    return " ".join(f"{name.split('.')[1]}={show(name, value)}" for name, value in params.items())


def tuned_toml(result: TuneResult, command: str) -> str:
    """The best config as a complete commented TOML: a header saying how it was found, then every key."""
    from sentiment_rnn.presets import render_config

    best = result.best
    finished = sum(t.accuracy is not None for t in result.trials)
    ended = " (stopped by Ctrl-C)" if result.interrupted else " (stopped by --timeout)" if result.timed_out else ""
    header = [
        f"# Found by `{command}`",
        f"# on {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC: the best of {finished} finished "
        f"trials of {len(result.trials)}{ended},",
        f"# trial {best.number}: validation accuracy {best.accuracy:.4f} on {result.validation_rows} examples "
        f"(best epoch {best.best_epoch} of {best.epochs_run}).",
        f"# Searched: {describe(best.params)}",
        "# Train it: sentiment-rnn train --config THIS_FILE",
    ]
    return render_config(result.config, header)
