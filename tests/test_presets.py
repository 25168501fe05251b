"""init-config: the presets in configs/, printed as complete commented configs."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from sentiment_rnn import presets
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
