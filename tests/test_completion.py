"""Shell completion through click's mechanism: _SENTIMENT_RNN_COMPLETE=bash_source sentiment-rnn."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from sentiment_rnn.cli import cli
from sentiment_rnn.presets import preset_names


def complete(words: str, shell: str = "bash") -> list[str]:
    """What the shell would offer after typing ``words`` (the last word is being completed)."""
    parts = words.split(" ")
    env = {"_SENTIMENT_RNN_COMPLETE": f"{shell}_complete", "COMP_WORDS": words, "COMP_CWORD": str(len(parts) - 1)}
    result = CliRunner().invoke(cli, [], prog_name="sentiment-rnn", env=env)
    assert result.exit_code == 0, result.output
    return [line.split(",", 1)[1] for line in result.output.splitlines()]


@pytest.mark.parametrize(
    ("shell", "marker"),
    [
        ("bash", "complete -o nosort -F _sentiment_rnn_completion sentiment-rnn"),
        ("zsh", "compdef _sentiment_rnn_completion sentiment-rnn"),
        ("fish", "complete --no-files --command sentiment-rnn"),
    ],
)
def test_the_documented_source_command_prints_a_completion_script(shell, marker):
    result = CliRunner().invoke(cli, [], prog_name="sentiment-rnn", env={"_SENTIMENT_RNN_COMPLETE": f"{shell}_source"})
    assert result.exit_code == 0
    assert marker in result.output


def test_commands_options_and_choices_complete():
    assert complete("sentiment-rnn in") == ["init-config", "inspect"]
    assert complete("sentiment-rnn export --f") == ["--format"]
    assert complete("sentiment-rnn export --format ") == ["savedmodel", "numpy"]
    assert complete("sentiment-rnn init-config --preset ") == preset_names()
    assert "--tensorboard" in complete("sentiment-rnn train --")
