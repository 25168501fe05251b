"""The presets in configs/: init-config prints them as complete commented configs; train starts from one."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from sentiment_rnn import presets
from sentiment_rnn.bundled import bundled_path
from sentiment_rnn.cli import cli
from sentiment_rnn.config import Config, load_config, to_dict
from sentiment_rnn.errors import SentimentError

CONFIGS = Path(__file__).resolve().parent.parent / "configs"


def test_the_presets_are_the_files_in_configs():
    assert presets.preset_names() == ["default"] + sorted(p.stem for p in CONFIGS.glob("*.toml") if p.stem != "default")
    assert presets.presets_dir().resolve() == CONFIGS.resolve()


def test_init_config_prints_default_toml(tmp_path):
    result = CliRunner().invoke(cli, ["init-config"])
    assert result.exit_code == 0
    assert result.output == (CONFIGS / "default.toml").read_text()
    (tmp_path / "my.toml").write_text(result.output)
    assert load_config(tmp_path / "my.toml") == Config()


@pytest.mark.parametrize("name", presets.preset_names())
def test_every_preset_renders_complete_commented_and_equal_to_its_file(name, tmp_path):
    text = presets.render_preset(name)
    (tmp_path / "rendered.toml").write_text(text)
    assert load_config(tmp_path / "rendered.toml") == load_config(CONFIGS / f"{name}.toml")
    raw = tomllib.loads(text)
    assert {section: set(keys) for section, keys in raw.items()} == {
        section: set(keys) for section, keys in to_dict(Config()).items()
    }
    for line in text.splitlines():
        if "=" in line and not line.startswith("#"):
            assert " # " in line, line
    result = CliRunner().invoke(cli, ["init-config", "--preset", name])
    assert result.exit_code == 0 and result.output == text


def test_a_partial_preset_is_filled_in_from_the_defaults_with_its_own_comments(tmp_path, monkeypatch):
    for name in ("default.toml", "__init__.py"):
        (tmp_path / name).write_bytes((CONFIGS / name).read_bytes())
    (tmp_path / "tiny.toml").write_text(
        "# A tiny preset for tests.\n"
        "# Second header line.\n"
        "\n"
        "[model]\n"
        'cell = "gru"  # gates help on long texts\n'
        "units = 8\n"
        "\n"
        "[train]\n"
        "epochs = 2  # quick\n"
    )
    monkeypatch.setattr(presets, "presets_dir", lambda: tmp_path)
    assert presets.preset_names() == ["default", "tiny"]
    text = presets.render_preset("tiny")
    lines = text.splitlines()
    assert lines[:3] == ["# A tiny preset for tests.", "# Second header line.", ""]
    assert 'cell = "gru"                 # gates help on long texts' in lines
    assert "units = 8                    # hidden state size of each recurrent layer (per direction)" in lines
    assert "epochs = 2                   # quick" in lines
    assert "batch_size = 32              # examples per gradient step" in lines
    (tmp_path / "out.toml").write_text(text)
    assert load_config(tmp_path / "out.toml") == load_config(
        overrides=["model.cell=gru", "model.units=8", "train.epochs=2"]
    )


def test_unknown_preset(monkeypatch):
    with pytest.raises(SentimentError) as error:
        presets.preset_path("nope")
    assert str(error.value) == f"Unknown preset 'nope': choose one of {', '.join(presets.preset_names())}."
    result = CliRunner().invoke(cli, ["init-config", "--preset", "nope"])
    assert result.exit_code == 2
    assert "Error: Invalid value for '--preset': 'nope' is not" in result.output


OWN_DATA = "data.path='my.csv'"
OWN_DATA_NOTICE = (
    "This model started from the bundled language model reviews-lm (the finetune preset, configs/finetune.toml, "
    "is train's default for data of your own); for the small model trained from scratch, pass --config "
    "configs/default.toml."
)


@pytest.mark.parametrize(
    "data",
    [[OWN_DATA], ["data.pos='p.txt'", "data.neg='n.txt'"], ['data.sources=[{path = "a.csv"}, {path = "b.csv"}]']],
)
def test_train_on_data_of_your_own_starts_from_the_finetune_preset(data):
    overrides = [*data, "train.epochs=1", "train.seed=7"]  # train keys still apply, on top of the preset
    config, notice = presets.train_config(None, overrides)
    assert config == load_config(CONFIGS / "finetune.toml", overrides)
    assert (config.model.init_from, config.model.cell, config.model.units) == ("reviews-lm", "gru", 256)
    assert (config.train.epochs, config.train.seed) == (1, 7)
    assert notice == OWN_DATA_NOTICE


@pytest.mark.parametrize("chosen", ["model.units=4", "tokenizer.max_tokens=500", "model.init_from='my-lm'"])
def test_a_model_or_tokenizer_key_keeps_the_small_default(chosen):
    overrides = [OWN_DATA, chosen]
    assert presets.train_config(None, overrides) == (load_config(None, overrides), None)
    assert presets.train_config(None, overrides)[0].model.cell == "simple"


def test_a_config_file_is_used_as_given(tmp_path):
    (tmp_path / "my.toml").write_text("[train]\nepochs = 2\n")
    overrides = [OWN_DATA]
    assert presets.train_config(tmp_path / "my.toml", overrides) == (load_config(tmp_path / "my.toml", overrides), None)
    assert presets.train_config(CONFIGS / "default.toml", overrides) == (load_config(None, overrides), None)


@pytest.mark.parametrize("overrides", [[], ["train.epochs=1"], ["data.test_path='test.csv'", "data.encoding='cp1252'"]])
def test_the_built_in_corpus_keeps_the_small_default(overrides):
    assert presets.train_config(None, overrides) == (load_config(None, overrides), None)


def test_train_on_your_own_csv_fine_tunes_reviews_lm_and_says_so(own_data_run):
    assert own_data_run.stdout.startswith("Saved model to my-model: validation accuracy ")
    assert own_data_run.stdout.endswith(" on 1 examples (best epoch 1 of 1).\n")
    assert own_data_run.stderr.splitlines()[0] == OWN_DATA_NOTICE  # then, maybe, the learned-little warning
    model = own_data_run.directory / "my-model"
    assert load_config(model / "config.toml") == load_config(
        CONFIGS / "finetune.toml", ['data.path="reviews.csv"', "train.epochs=1"]
    )
    inspected = CliRunner().invoke(cli, ["inspect", "--model", str(model)])
    assert "Architecture     GRU, 1 layer of 256 units, max pooling over time, embedding size 128" in inspected.output
    assert "Started from     the language model reviews-lm (model.init_from)\n" in inspected.output
    meta = json.loads((model / "meta.json").read_text(encoding="utf-8"))
    language_model = json.loads((bundled_path("reviews-lm") / "meta.json").read_text(encoding="utf-8"))
    assert meta["started_from"] == {"model": "reviews-lm", "bundled": True, "created": language_model["created"]}
