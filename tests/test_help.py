"""Help that reads right: every example fits 79 columns, and the first example of each command runs."""

from __future__ import annotations

import shlex
import shutil

import pytest
from click.testing import CliRunner

from conftest import NEGATIVE, POSITIVE, TINY_OVERRIDES, write_csv
from sentiment_rnn.cli import cli

# Commands whose first example cannot run in a test, and why.
NOT_RUN = {
    "serve": "it listens until stopped (tests/test_serve.py runs the server)",
    "compare-bow": "it trains two models on the whole built-in corpus (tests/test_compare.py runs it small)",
    "pretrain": "it trains a language model for minutes (tests/test_language_model.py runs it small)",
    "guess": "it needs a language model (tests/test_language_model.py trains one small and guesses)",
}
# Options added to a command's first example, and why.
ADDED = {
    # on --data, train fine-tunes reviews-lm's 256-unit GRU (conftest.own_data_run runs that once): here the small one
    "train": [arg for override in TINY_OVERRIDES for arg in ("--set", override)],
}


def help_text(*command: str) -> str:
    result = CliRunner().invoke(cli, [*command, "--help"], terminal_width=80)
    assert result.exit_code == 0, result.output
    return result.output


def example_lines(text: str) -> list[str]:
    """The lines of the ``Example usage:`` section of a --help page (up to ``Options:``)."""
    section = text.split("Example usage:\n", 1)[1].split("\nOptions:", 1)[0]
    return [line for line in section.splitlines() if line.strip()]


@pytest.mark.parametrize("command", [(), *((name,) for name in cli.commands)], ids=lambda c: " ".join(c) or "group")
def test_every_example_line_fits_79_columns_and_is_one_whole_command(command):
    lines = example_lines(help_text(*command))
    assert lines
    for line in lines:
        assert len(line) <= 79, line
        assert line.startswith("    ") and line.split()[0] in ("sentiment-rnn", "cat", "curl"), line
    assert "default for train" not in help_text("evaluate")


def test_evaluate_help_says_data_has_no_default():
    text = " ".join(help_text("evaluate").split())
    assert "--data PATH Labelled data to measure on: a file, IMDB directory or .tar.gz (or --pos and --neg)." in text
    assert "built-in corpus" not in text


def first_example(name: str) -> list[str]:
    line = example_lines(help_text(name))[0].strip()
    words = shlex.split(line.split(" > ")[0])  # a redirect is the shell's, not an argument
    assert words[:2] == ["sentiment-rnn", name], line
    return words[1:]


@pytest.mark.parametrize("name", sorted(set(cli.commands) - set(NOT_RUN)))
def test_the_first_example_of_each_command_runs(name, tiny_run, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rows = [(t, 1) for t in POSITIVE] + [(t, 0) for t in NEGATIVE]
    write_csv(tmp_path / "reviews.csv", rows)
    write_csv(tmp_path / "test.csv", rows)
    for directory in ("my-model", "sentiment-model"):
        shutil.copytree(tiny_run.model_dir, tmp_path / directory)
    args = [*first_example(name), *ADDED.get(name, [])]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, (args, result.output)
    assert result.output.strip(), args
