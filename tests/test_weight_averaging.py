"""train.ema: a moving average of the weights is what validation measures, early stopping keeps and train saves."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import TINY_OVERRIDES, interrupt_at, tiny_split
from sentiment_rnn.config import load_config
from sentiment_rnn.errors import SentimentError
from sentiment_rnn.training.pipeline import validation_batches

EPOCHS = 3


def tiny_config(ema: float):
    return load_config(overrides=[*TINY_OVERRIDES, f"train.epochs={EPOCHS}", "train.patience=5", f"train.ema={ema}"])


@pytest.fixture(scope="module")
def averaged():
    """fit() with train.ema = 0.9 on tiny_split(), uninterrupted: read, never changed."""
    from sentiment_rnn.training.fit import fit

    return fit(tiny_config(0.9), tiny_split(), verbose=0)


def test_the_model_returned_holds_the_averaged_weights_validation_measured(averaged):
    from sentiment_rnn.training.fit import fit

    split = tiny_split()
    model, history, _ = averaged
    val_losses = history.history["val_loss"]
    measured = model.evaluate(validation_batches(tiny_config(0.9), split.validation), verbose=0, return_dict=True)
    assert measured["loss"] == pytest.approx(min(val_losses), rel=1e-5)
    plain = fit(tiny_config(0.0), split, verbose=0).model
    assert not all(np.allclose(a, b) for a, b in zip(model.get_weights(), plain.get_weights()))
    assert model.optimizer.use_ema and not plain.optimizer.use_ema


def test_a_resumed_run_ends_at_the_uninterrupted_averaged_weights(averaged, tmp_path):
    from sentiment_rnn.training.backup import prepare_backup
    from sentiment_rnn.training.fit import fit

    split = tiny_split()
    reference, uninterrupted, _ = averaged
    backup = tmp_path / ".model.backup"
    prepare_backup(backup, tiny_config(0.9), split, resume=False, out_dir=tmp_path / "model")  # as train makes it
    with pytest.raises(KeyboardInterrupt):
        fit(tiny_config(0.9), split, verbose=0, backup=backup, callbacks=[interrupt_at(EPOCHS - 1)])
    assert [p.name for p in backup.glob("epoch-*")] == [f"epoch-{EPOCHS - 1:04d}"]
    resumed, history, _ = fit(tiny_config(0.9), split, verbose=0, backup=backup)
    # the last epoch, trained after the resume, validates as it did without the interruption
    np.testing.assert_allclose(history.history["val_loss"], uninterrupted.history["val_loss"], rtol=1e-6)
    for got, want in zip(resumed.get_weights(), reference.get_weights(), strict=True):
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-7)


@pytest.mark.parametrize("ema", [-0.1, 1.0])
def test_the_momentum_must_be_below_one(ema):
    with pytest.raises(SentimentError) as info:
        load_config(overrides=[f"train.ema={ema}"])
    assert str(info.value) == f"Config key train.ema must be in [0, 1), got {ema}."


def test_distributed_training_does_not_average():
    with pytest.raises(SentimentError) as info:
        load_config(overrides=["train.ema=0.999", "train.distribute='mirrored'"])
    assert str(info.value) == (
        'Config sets train.ema = 0.999 with train.distribute = "mirrored": the distributed loop does not swap '
        'the averaged weights in. Set train.ema = 0 or train.distribute = "none".'
    )


def test_train_saves_the_averaged_model_both_engines_run(tiny_csv, tmp_path):
    from click.testing import CliRunner

    from sentiment_rnn.artifact.model_directory import open_model_dir
    from sentiment_rnn.cli import cli
    from sentiment_rnn.inference import predict_proba

    out = tmp_path / "model"
    options = [f"--set={override}" for override in (*TINY_OVERRIDES, "train.ema=0.9")]
    result = CliRunner().invoke(cli, ["train", "--data", str(tiny_csv), *options, "-q", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert open_model_dir(out).config.train.ema == 0.9
    texts = ["I like this phone", "No, this phone is good", ""]
    np.testing.assert_allclose(
        predict_proba(out, texts, engine="keras"), predict_proba(out, texts), rtol=1e-5, atol=1e-6
    )
