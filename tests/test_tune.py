"""sentiment-rnn tune: a search over the declared space, one line per trial, Ctrl-C keeps the best so far."""

from __future__ import annotations

import re
import sys

import pytest
from click.testing import CliRunner

from conftest import NEGATIVE, POSITIVE, write_csv
from sentiment_rnn.cli import cli
from sentiment_rnn.config import load_config
from sentiment_rnn.tuning import HYBRID_SPACE, OPTUNA_MISSING, SPACE, Choice, describe, searched_keys, with_params

SMALL = [
    "--set",
    "model.units=4",
    "--set",
    "model.output_dim=4",
    "--set",
    "train.validation_split=0.25",
    "--set",
    "model.layers=1",
]
TRIAL_LINE = re.compile(
    r"trial (\d)/2: validation accuracy (\d\.\d{4}) \(best epoch 1 of 1\) in \d+ s; best \d\.\d{4} \(trial \d\)  "
)


@pytest.fixture
def data(tmp_path):
    return write_csv(tmp_path / "tiny.csv", [(t, 1) for t in POSITIVE] + [(t, 0) for t in NEGATIVE])


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_two_trials_write_a_config_train_takes(data, tmp_path):
    out = tmp_path / "best.toml"
    result = run("tune", "--data", data, "--trials", 2, "--epochs", 1, "--out", out, *SMALL)
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    assert [TRIAL_LINE.match(line)[1] for line in lines] == ["1", "2"]
    accuracies = [float(TRIAL_LINE.match(line)[2]) for line in lines]
    best = max(accuracies)
    assert result.stdout == (
        f"Best of 2 finished trials: validation accuracy {best:.4f} (trial {accuracies.index(best) + 1}); "
        f"wrote {out}. Train it: sentiment-rnn train --config {out}\n"
    )
    text = out.read_text()
    assert text.startswith("# Found by `sentiment-rnn tune --set model.units=4 ")
    assert f"validation accuracy {best:.4f} on 3 examples" in text
    config = load_config(out)
    assert (config.model.units, config.model.output_dim, config.train.epochs) == (4, 4, 1)  # fixed by --set
    assert config.data.path == str(data)
    assert "units=" not in text.splitlines()[3]  # the "Searched:" line names only drawn keys
    trained = run("train", "--config", out, "--out", tmp_path / "model", "--quiet")
    assert trained.exit_code == 0, trained.output


def test_keys_set_on_the_command_line_are_not_searched(data, tmp_path):
    result = run(
        "tune", "--data", data, "--trials", 1, "--epochs", 1, "--out", tmp_path / "b.toml", "--set", "model.kind=rnn",
        "--set", "model.cell=gru", *SMALL,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    # every trial line names every drawn key, so one trial shows the fixed keys are not drawn
    assert len(result.stderr.splitlines()) == 1
    for line in result.stderr.splitlines():
        assert "cell=" not in line and "kind=" not in line and "wide_scale=" not in line
    assert load_config(tmp_path / "b.toml").model.cell == "gru"


def test_ctrl_c_keeps_the_best_trial_so_far(data, tmp_path, monkeypatch):
    import sentiment_rnn.training.fit as fit_module

    real_fit, calls = fit_module.fit, []

    def interrupted_second_time(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real_fit(*args, **kwargs)

    monkeypatch.setattr(fit_module, "fit", interrupted_second_time)
    out = tmp_path / "best.toml"
    result = run("tune", "--data", data, "--trials", 5, "--epochs", 1, "--out", out, *SMALL)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Best of 1 finished trial (stopped by Ctrl-C): validation accuracy ")
    assert "(trial 1)" in result.stdout
    assert "the best of 1 finished trials of 1 (stopped by Ctrl-C)" in out.read_text()


def test_ctrl_c_before_any_trial_writes_nothing(data, tmp_path, monkeypatch):
    import sentiment_rnn.training.fit as fit_module

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(fit_module, "fit", interrupt)
    out = tmp_path / "best.toml"
    result = run("tune", "--data", data, "--trials", 2, "--out", out, *SMALL)
    assert result.exit_code == 130
    assert result.stderr == f"Interrupted before any trial finished: {out} was not written.\n"
    assert list(tmp_path.iterdir()) == [data]


def test_without_optuna_one_error_line(data, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "optuna", None)
    result = run("tune", "--data", data, "--trials", 2, "--out", tmp_path / "b.toml")
    assert result.exit_code == 1
    assert result.output == f"Error: {OPTUNA_MISSING}\n"


def test_a_bad_out_path_is_refused_before_any_trial(data, tmp_path):
    result = run("tune", "--data", data, "--out", tmp_path)
    assert result.output == f"Error: Output path {tmp_path} is a directory: pass a file name such as tuned.toml.\n"
    missing = tmp_path / "no" / "best.toml"
    result = run("tune", "--data", data, "--out", missing)
    assert result.output == (
        f"Error: The directory of {missing} does not exist: create it first, or choose another path.\n"
    )


def test_every_point_of_the_space_is_a_valid_config():
    base = load_config()
    for name, spec in {**SPACE, **HYBRID_SPACE}.items():
        values = getattr(spec, "values", None) or (spec.low, spec.high)
        for value in values:
            with_params(base, {"model.kind": "hybrid", name: value})
    assert searched_keys(["model.cell", "model.ngrams"]) == [
        key for key in (*SPACE, *HYBRID_SPACE) if key not in ("model.cell", "model.ngrams")
    ]


def test_a_trial_line_shows_the_digits_that_tell_searched_values_apart():
    drawn = {
        "model.cell": "gru",
        "model.bidirectional": True,
        "model.dropout": 0.123456,
        "train.learning_rate": 0.0031234,
        "train.ema": 0.999,
        "model.wide_scale": 0.05,
    }
    assert describe(drawn) == (
        "cell=gru bidirectional=true dropout=0.12 learning_rate=0.0031 ema=0.999 wide_scale=0.05"
    )
    assert describe({"train.ema": 0.99}) == "ema=0.99"
    assert describe({"train.ema": 0.0}) == "ema=0"
    for name, spec in SPACE.items():  # every choice a search draws from prints as a value of its own
        if isinstance(spec, Choice):
            shown = {describe({name: value}) for value in spec.values}
            assert len(shown) == len(spec.values), name
