"""training.png and TensorBoard: seeing how training went."""

from __future__ import annotations

import struct
import sys

from click.testing import CliRunner

from conftest import TINY_OVERRIDES
from sentiment_rnn.cli import cli
from sentiment_rnn.plots import MISSING_HINT, read_history, training_figure

HISTORY = {
    "epoch": [0.0, 1.0, 2.0],
    "loss": [0.7, 0.5, 0.4],
    "val_loss": [0.69, 0.6, 0.65],
    "accuracy": [0.5, 0.7, 0.8],
    "val_accuracy": [0.5, 0.6, 0.55],
}


def png_size(path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_train_writes_training_png_beside_history_csv(tiny_run):
    assert tiny_run.result.plot == tiny_run.model_dir / "training.png"
    assert png_size(tiny_run.result.plot) == (1200, 450)
    history = read_history(tiny_run.model_dir / "history.csv")
    assert history["epoch"] == [0.0, 1.0]
    assert set(history) >= {"loss", "val_loss", "accuracy", "val_accuracy"}


def test_figure_draws_loss_and_accuracy_for_both_splits_and_marks_the_best_epoch():
    figure = training_figure(HISTORY, best_epoch=2)
    loss, accuracy = figure.axes
    for axes, metric in ((loss, "loss"), (accuracy, "accuracy")):
        training, validation, best = axes.get_lines()
        assert (training.get_label(), validation.get_label()) == ("training", "validation")
        assert list(training.get_xdata()) == [1, 2, 3]
        assert list(training.get_ydata()) == HISTORY[metric]
        assert list(validation.get_ydata()) == HISTORY[f"val_{metric}"]
        assert best.get_label() == "restored best epoch (2)"
        assert list(best.get_xdata()) == [2, 2]
        assert axes.get_ylabel() == metric


def test_without_matplotlib_training_works_and_says_once_how_to_get_the_plot(tiny_csv, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if not installed
    out, logs = tmp_path / "model", tmp_path / "logs"
    args = ["train", "--data", str(tiny_csv), "--out", str(out), "--tensorboard", str(logs)]
    for override in TINY_OVERRIDES:
        args += ["--set", override]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    # the tiny model may also be told it learned little (validation AUC under 0.6): that line is another test's
    assert [line for line in result.stderr.splitlines() if not line.startswith("Warning: ")] == [MISSING_HINT]
    assert result.stdout.startswith(f"Saved model to {out}: validation accuracy ")
    assert not (out / "training.png").exists() and (out / "history.csv").is_file()
    # TensorBoard got per-epoch logs for both splits
    assert sorted(p.name for p in logs.iterdir()) == ["train", "validation"]
    for split in ("train", "validation"):
        assert any(p.name.startswith("events.out.tfevents.") for p in (logs / split).iterdir())
    # `plot` draws it from history.csv once matplotlib is there
    assert_user_error(
        CliRunner().invoke(cli, ["plot", "--model", str(out)]),
        "sentiment-rnn plot needs matplotlib, which is not installed: pip install 'sentiment-rnn[plot]' "
        "(or pip install matplotlib).",
    )
    monkeypatch.delitem(sys.modules, "matplotlib")
    redrawn = CliRunner().invoke(cli, ["plot", "--model", str(out)])
    assert (redrawn.exit_code, redrawn.output) == (0, f"Wrote {out / 'training.png'}.\n")
    assert png_size(out / "training.png") == (1200, 450)
    elsewhere = CliRunner().invoke(cli, ["plot", "--model", str(out), "--out", str(tmp_path / "curve.png")])
    assert (elsewhere.exit_code, elsewhere.output) == (0, f"Wrote {tmp_path / 'curve.png'}.\n")
    assert png_size(tmp_path / "curve.png") == (1200, 450)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["curve.png", "logs", "model", "tiny.csv"]


def assert_user_error(result, message: str):
    assert (result.exit_code, result.output) == (1, f"Error: {message}\n")


def test_plot_errors(tmp_path):
    from model_factory import randomized_model, write_model_dir

    model = write_model_dir(*randomized_model(), tmp_path / "model")  # no history.csv
    assert_user_error(
        CliRunner().invoke(cli, ["plot", "--model", str(model)]),
        f"{model} has no history.csv to draw from: it was not written by train; train the model again to get its curve.",
    )
    (model / "history.csv").write_text("epoch,loss\n0,oops\n")
    assert_user_error(
        CliRunner().invoke(cli, ["plot", "--model", str(model)]),
        f"{model / 'history.csv'} is damaged (ValueError): train the model again to get its curve.",
    )
    assert_user_error(
        CliRunner().invoke(cli, ["plot", "--model", str(model), "--out", str(tmp_path / "curve.jpg")]),
        f"--out writes a PNG image, got {tmp_path / 'curve.jpg'}: name the file with .png, e.g. curve.png.",
    )
    assert_user_error(
        CliRunner().invoke(cli, ["plot", "--model", str(tmp_path / "none")]),
        f"Model directory {tmp_path / 'none'} does not exist: "
        "train one with `sentiment-rnn train --out DIR`, or pass --model DIR or --model reviews-en "
        "(the bundled model).",
    )
    assert sorted(p.name for p in model.iterdir()) == sorted(
        ["config.toml", "engine.json", "history.csv", "meta.json", "model.keras", "vocabulary.json", "weights.npz"]
    )


def test_tensorboard_without_its_package_is_a_one_line_error_before_training(tiny_csv, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorboard", None)  # as if not installed
    result = CliRunner().invoke(
        cli, ["train", "--data", str(tiny_csv), "--out", str(tmp_path / "m"), "--tensorboard", str(tmp_path / "l")]
    )
    assert result.exit_code == 1
    assert result.output == (
        "Error: --tensorboard needs the tensorboard package: install it with pip install 'sentiment-rnn[tensorboard]'.\n"
    )
    assert not (tmp_path / "m").exists()


def test_history_csv_holds_the_epochs_before_a_resume_then_the_new_ones(tmp_path):
    from sentiment_rnn.training.callbacks import history_logger

    path = tmp_path / "history.csv"
    logger = history_logger(path, earlier_epochs=[{"val_loss": 0.69, "loss": 0.7}])
    logger.on_train_begin()  # as Keras fit calls it after a resume
    logger.on_epoch_end(1, {"loss": 0.5, "val_loss": 0.6})
    logger.on_train_end()
    assert path.read_bytes() == b"epoch,loss,val_loss\r\n0,0.7,0.69\r\n1,0.5,0.6\r\n"
    assert read_history(path) == {"epoch": [0.0, 1.0], "loss": [0.7, 0.5], "val_loss": [0.69, 0.6]}
