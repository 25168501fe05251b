"""Progress goes to stderr, only when stderr is a terminal and not --quiet; stdout holds only results."""

from __future__ import annotations

import io
import json

from click.testing import CliRunner

from conftest import assert_close
from sentiment_rnn import progress
from sentiment_rnn.cli import cli


class Terminal(io.StringIO):
    """A text stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def test_enabled_only_on_a_terminal_and_not_quiet():
    assert progress.enabled(stream=Terminal())
    assert not progress.enabled(quiet=True, stream=Terminal())
    assert not progress.enabled(stream=io.StringIO())
    assert progress.keras_verbose(stream=Terminal()) == 1
    assert progress.keras_verbose(stream=io.StringIO()) == 0
    assert progress.keras_verbose(quiet=True, stream=Terminal()) == 0


def test_bar_draws_on_a_terminal_and_is_silent_elsewhere():
    terminal = Terminal()
    with progress.bar(length=3, label="Predicting", stream=terminal) as bar:
        bar.update(3)
    assert "Predicting" in terminal.getvalue() and "100%" in terminal.getvalue()

    for stream, quiet in ((io.StringIO(), False), (Terminal(), True)):
        with progress.bar(length=3, label="Predicting", stream=stream, quiet=quiet) as bar:
            bar.update(3)
        assert stream.getvalue() == ""


def test_null_bar_still_iterates():
    with progress.bar(["a", "b"], stream=io.StringIO()) as items:
        assert list(items) == ["a", "b"]


def test_note_prints_one_line_on_a_terminal_only():
    terminal, pipe = Terminal(), io.StringIO()
    progress.note("Reading reviews.csv", stream=terminal)
    progress.note("Reading reviews.csv", stream=pipe)
    progress.note("Reading reviews.csv", stream=Terminal(), quiet=True)
    assert (terminal.getvalue(), pipe.getvalue()) == ("Reading reviews.csv\n", "")


def test_keras_progress_goes_to_stderr_not_stdout(tiny_run):
    assert tiny_run.stdout == ""
    assert "Epoch 1/2" in tiny_run.stderr and "Epoch 2/2" in tiny_run.stderr


def test_predict_file_shows_a_bar_on_stderr_and_only_results_on_stdout(tiny_run, tmp_path, monkeypatch):
    known = " ".join(json.loads((tiny_run.model_dir / "vocabulary.json").read_text())[2:6])  # no unknown-word warning
    (tmp_path / "in.txt").write_text(f"{known}\nthe battery is terrible {known}\n", encoding="utf-8")
    args = ["predict", "--model", str(tiny_run.model_dir), "--file", str(tmp_path / "in.txt")]
    piped = CliRunner().invoke(cli, args)
    assert piped.exit_code == 0 and piped.stderr == ""

    monkeypatch.setattr(progress, "enabled", lambda quiet=False, stream=None: not quiet)  # as if on a terminal
    watched = CliRunner().invoke(cli, args)
    assert watched.exit_code == 0
    assert watched.stdout == piped.stdout
    assert [line[18:] for line in watched.stdout.splitlines()] == [known, f"the battery is terrible {known}"]
    assert watched.stderr == "Predicting\n"  # click draws the bar once, as text, when the stream is no terminal

    quiet = CliRunner().invoke(cli, [*args, "--quiet"])
    assert quiet.exit_code == 0 and quiet.stderr == "" and quiet.stdout == piped.stdout


def test_predict_file_in_chunks_gives_the_same_predictions(tiny_run, tmp_path, monkeypatch):
    from sentiment_rnn import scoring

    lines = ["I like this phone", "", "the battery is terrible", "no, the screen is good", "delivery was slow"]
    (tmp_path / "in.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    args = ["predict", "--model", str(tiny_run.model_dir), "--json", "--file", str(tmp_path / "in.txt")]
    whole = CliRunner().invoke(cli, args)
    monkeypatch.setattr(scoring, "LINE_BATCH", 2)
    chunked = CliRunner().invoke(cli, args)
    assert whole.exit_code == chunked.exit_code == 0
    # batches of 2 lines and one batch are two paths through the engine: PATHS_ATOL
    assert_close(
        [json.loads(line) for line in chunked.stdout.splitlines()],
        [json.loads(line) for line in whole.stdout.splitlines()],
    )
    assert len(whole.stdout.splitlines()) == len(lines)


def test_library_train_draws_the_keras_bar_only_on_a_terminal_or_when_asked(tiny_csv, tiny_run, tmp_path):
    import contextlib

    from conftest import TINY_OVERRIDES
    from sentiment_rnn.config import load_config
    from sentiment_rnn.training.run import train

    config = load_config(overrides=[*TINY_OVERRIDES, "train.epochs=1", f"data.path={str(tiny_csv)!r}"])
    for number, (stderr, verbose, drawn) in enumerate(((io.StringIO(), None, False), (Terminal(), None, True))):
        stdout = io.StringIO()
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            train(config, tmp_path / f"model-{number}", verbose=verbose)
        assert stdout.getvalue() == ""
        assert ("val_loss:" in stderr.getvalue()) is drawn, (verbose, stderr.getvalue())  # the bar of epoch 1
    # asked (verbose=1) with no terminal: the session's tiny_run is that training, its streams captured
    assert tiny_run.stdout == ""
    assert "val_loss:" in tiny_run.stderr, tiny_run.stderr
