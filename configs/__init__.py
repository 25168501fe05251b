"""The config presets, installed as the package ``sentiment_rnn.configs``.

Each ``NAME.toml`` here is a preset: ``sentiment-rnn init-config --preset NAME``
prints it as a complete commented config, and ``--config configs/NAME.toml``
trains with it. ``default.toml`` holds the defaults, a comment on every key.
"""
