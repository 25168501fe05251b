"""Config loading, overrides and validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from sentiment_rnn.config import Config, load_config, to_toml
from sentiment_rnn.errors import SentimentError

CONFIGS = Path(__file__).resolve().parent.parent / "configs"


def test_default_toml_states_the_defaults():
    assert load_config(CONFIGS / "default.toml") == Config()


@pytest.mark.parametrize("path", sorted(CONFIGS.glob("*.toml")), ids=lambda p: p.name)
def test_every_shipped_config_loads_and_comments_every_key(path):
    load_config(path)
    for line in path.read_text().splitlines():
        if "=" in line and not line.lstrip().startswith("#"):
            assert "#" in line, f"{path.name}: no comment on {line!r}"


def test_overrides_parse_toml_values_and_bare_words():
    config = load_config(
        overrides=["model.cell=gru", "train.epochs=3", "model.bidirectional=true", "train.learning_rate=1"]
    )
    assert (config.model.cell, config.train.epochs, config.model.bidirectional) == ("gru", 3, True)
    assert config.train.learning_rate == 1.0


def test_round_trip_through_toml(tmp_path):
    config = load_config(overrides=["model.cell=lstm", 'data.path=some "odd" \\ path.csv'])
    path = tmp_path / "c.toml"
    path.write_text(to_toml(config))
    assert load_config(path) == config


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["model.colour=red"], "Unknown config key model.colour in --set: expected one of kind, "),
        (
            ["optimizer.lr=1"],
            "Unknown config section [optimizer] in --set: expected one of data, tokenizer, model, train.",
        ),
        (["train.epochs=three"], "Config key train.epochs in --set must be of type int, got str 'three'."),
        (["train.epochs=2.5"], "Config key train.epochs in --set must be of type int, got float 2.5."),
        (["model.bidirectional=1"], "Config key model.bidirectional in --set must be of type bool, got int 1."),
        (["model.units=true"], "Config key model.units in --set must be of type int, got bool True."),
        (["model.cell=transformer"], "Config key model.cell must be one of simple, gru, lstm, got 'transformer'."),
        (["model.dropout=1.5"], "Config key model.dropout must be in [0, 1), got 1.5."),
        (["train.validation_split=0"], "Config key train.validation_split must be in (0, 0.5), got 0.0."),
        (["epochs"], "Override 'epochs' is not of the form section.key=value: write e.g. --set train.epochs=3."),
        (
            ["model.stateful=true", "model.bidirectional=true"],
            "Config sets both model.stateful and model.bidirectional",
        ),
        (["model.pooling=sum"], "Config key model.pooling must be one of last, max, mean, concat, got 'sum'."),
        (
            ["model.stateful=true", "model.pooling=max"],
            "Config sets model.stateful with model.pooling = 'max': a stateful model carries only the recurrent "
            'state from call to call. Set model.stateful = false or model.pooling = "last".',
        ),
    ],
)
def test_bad_config_is_one_clear_error(overrides, message):
    with pytest.raises(SentimentError) as info:
        load_config(overrides=overrides)
    assert str(info.value).startswith(message)


def test_config_file_errors(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[train\nepochs = 3\n")
    with pytest.raises(SentimentError, match=r"^Config file .*bad.toml is not valid TOML \(.*\): fix the syntax.$"):
        load_config(bad)
    with pytest.raises(SentimentError, match=r"^Config file .*missing.toml does not exist: check the --config path.$"):
        load_config(tmp_path / "missing.toml")
    unknown = tmp_path / "unknown.toml"
    unknown.write_text("[train]\nepoch = 3\n")
    with pytest.raises(SentimentError, match=r"^Unknown config key train.epoch in .*unknown.toml"):
        load_config(unknown)


def test_data_sources_round_trip_through_toml():
    import tomllib

    from sentiment_rnn.config import config_from_dict, replace, to_toml

    config = load_config(overrides=['data.sources=[{path = "a.csv"}, {pos = "p", neg = "n", skip_every = 10}]'])
    assert [s.path for s in config.data.sources] == ["a.csv", ""]
    assert config.data.sources[1].skip_every == 10
    text = to_toml(config)
    assert text.count("[[data.sources]]") == 2
    assert config_from_dict(tomllib.loads(text)) == config
    assert replace(config, train={"epochs": 3}).data.sources == config.data.sources
