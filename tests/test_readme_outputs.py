"""The README's pasted outputs have the lines and the format the commands print today.

``python docs/generate.py --outputs`` pastes them from a run on one machine
(models trained on the built-in corpus). Here the same commands run in a
scratch directory where the README's ``train`` trained for one epoch on twelve
sentences (``conftest.own_data_run``), so the numbers differ; what may not differ is which lines there are, in which order
and format (:func:`shape`), and every line that does not come from training:
the bundled model's ``inspect`` rows (read from its files) and the notices.
"""

from __future__ import annotations

import contextlib
import csv
import importlib.util
import re
import string
from pathlib import Path

import pytest
from click.testing import CliRunner

from sentiment_rnn.cli import cli

ROOT = Path(__file__).resolve().parent.parent


def load_generator():
    spec = importlib.util.spec_from_file_location("docs_generate", ROOT / "docs" / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


GENERATOR = load_generator()
README = (ROOT / "README.md").read_text(encoding="utf-8")
PASTED = GENERATOR.pasted_outputs(README)


def shape(text: str) -> list[str]:
    """The lines of ``text`` with what training decides taken out.

    Per-token bars go (their length is a probability), ``positive`` and
    ``negative`` become ``LABEL`` (not inside ``p(positive)``), every number
    ``#``, the text of a listed mistake ``TEXT``, and runs of spaces one space
    (column widths follow the numbers).
    """
    lines = []
    for line in text.splitlines():
        line = re.sub(r"\s+#+$", "", line)
        line = re.sub(r"(?<!\()\b(positive|negative)\b", "LABEL", line)
        line = re.sub(r"\d[\d,]*(?:\.\d+)?", "#", line)
        line = re.sub(r"^(\s*true LABEL\s+p\(positive\) #\s+).*", r"\1TEXT", line)
        lines.append(" ".join(line.split()))
    return lines


def test_shape_keeps_the_format_and_drops_what_training_decides():
    assert shape("accuracy   0.9700\nconfusion  tn 146  fp 4  fn 5  tp 145") == [
        "accuracy #",
        "confusion tn # fp # fn # tp #",
    ]
    assert shape("  true negative  p(positive) 0.9993  Nothing about it") == ["true LABEL p(positive) # TEXT"]
    assert shape("  is     0.1836  ####\npositive  0.9991  No this") == ["is #", "LABEL # No this"]
    assert shape("Rows   3,990 (1,995 positive, 1,995 negative)") == ["Rows # (# LABEL, # LABEL)"]


def test_every_pasted_output_is_generated_once():
    names = re.findall(r"^<!-- output: ([a-z0-9-]+) -->$", README, re.M)
    assert sorted(names) == sorted([*GENERATOR.README_OUTPUTS, "compare-bow"])
    blocks = re.findall(r"^(.*)\n```text\n", README, re.M)
    unmarked = [before for before in blocks if not before.startswith("<!-- output: ")]
    assert unmarked == [""]  # only the map under "Where things are" is not an output: it is no command's


@pytest.fixture(scope="module")
def scratch(own_data_run):
    """The generator's scratch directory: twelve sentences as reviews.csv, test.csv, and ``my-model`` trained by
    the README's command at its default (the finetune preset from reviews-lm), for one epoch.

    Returns (directory, what ``train`` printed on stdout)."""
    assert GENERATOR.README_OUTPUTS["train"].args == ("train", "--data", "reviews.csv", "--out", "my-model")
    return own_data_run.directory, own_data_run.stdout


def printed(name: str, directory: Path, monkeypatch) -> str:
    """What the README's command ``name`` prints in ``directory``, cut as the README shows it."""
    output = GENERATOR.README_OUTPUTS[name]
    monkeypatch.delenv("SENTIMENT_RNN_MODEL", raising=False)
    with contextlib.chdir(directory):
        result = CliRunner().invoke(cli, list(output.args))
    assert result.exit_code == 0, result.output
    return output.excerpt("".join(getattr(result, stream) for stream in output.streams))


def test_the_train_line_has_the_printed_format(scratch):
    _, trained = scratch
    assert shape(PASTED["train"]) == shape(trained)


def test_the_line_saying_train_started_from_reviews_lm_is_quoted_as_printed(own_data_run):
    assert f"\n```\n{own_data_run.stderr.splitlines()[0]}\n```\n" in README


@pytest.mark.parametrize("name", ["predict", "evaluate", "evaluate-several", "per-token", "inspect"])
def test_pasted_output_has_the_lines_and_format_printed(name, scratch, monkeypatch):
    directory, _ = scratch
    assert shape(PASTED[name]) == shape(printed(name, directory, monkeypatch))


def test_the_bundled_model_and_its_notice_are_pasted_as_printed(scratch, monkeypatch):
    directory, _ = scratch
    empty = directory / "empty"  # no ./sentiment-model: the bundled model answers, and says so
    empty.mkdir(exist_ok=True)
    assert PASTED["bundled-notice"] == printed("bundled-notice", empty, monkeypatch)
    # every row comes from the bundled model's files; only where it is installed differs
    pasted, now = (
        PASTED["inspect-reviews-en"].splitlines(),
        printed("inspect-reviews-en", empty, monkeypatch).splitlines(),
    )
    assert pasted[2:] == now[2:] and pasted[0] == now[0]
    assert pasted[1] == "Model directory  .../site-packages/sentiment_rnn/bundled/reviews-en"
    assert now[1].startswith("Model directory  ") and now[1].endswith("sentiment_rnn/bundled/reviews-en")


def test_the_serve_line_is_the_one_printed_at_the_defaults(scratch, monkeypatch):
    from sentiment_rnn import serve

    def ready_and_stop(model_dir, bow_model_dir, host, port, on_ready, **options):
        on_ready(f"http://{host}:{port}/")  # what the server prints once it listens, see serve/server.py

    monkeypatch.setattr(serve, "serve", ready_and_stop)
    directory, _ = scratch
    assert PASTED["serve"] == printed("serve", directory, monkeypatch).splitlines(keepends=True)[0]


def test_the_compare_bow_figures_are_a_run_of_the_shipped_pairs():
    fields = string.Formatter().parse(GENERATOR.COMPARE_BOW_NARRATIVE)
    pattern = "".join(re.escape(text) + (f"(?P<{field}>.+?)" if field else "") for text, field, _, _ in fields)
    match = re.fullmatch(pattern, PASTED["compare-bow"], re.S)
    assert match is not None, PASTED["compare-bow"]
    with (ROOT / "data" / "contrast_pairs.csv").open(encoding="utf-8", newline="") as handle:
        pairs = {row["pair_id"] for row in csv.DictReader(handle)}
    # with the default unigram baseline, the seed pair's bags are equal and so are its probabilities, and
    # no contrast pair can have both sentences right: these hold on any machine
    assert (match["n_pairs"], match["seed_vectors"], match["bow_difference"]) == (
        str(len(pairs)),
        "identical",
        "exactly 0.0",
    )
    assert match["bow_pairs"] == "0.000"
