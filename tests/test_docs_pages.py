"""docs/ agrees with the code: generated pages are current, documented commands and links exist."""

from __future__ import annotations

import importlib.util
import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from sentiment_rnn.cli import cli

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = [ROOT / "README.md", *sorted(DOCS.glob("*.md")), *sorted((DOCS / "commands").glob("*.md"))]


def load_generator():
    spec = importlib.util.spec_from_file_location("docs_generate", DOCS / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_docs_are_current():
    """Fails after a command or config key changes until `python docs/generate.py` is rerun and committed."""
    files = load_generator().generated_files()
    for relative, content in files.items():
        path = DOCS / relative
        assert path.exists(), f"docs/{relative} is missing: run python docs/generate.py"
        assert path.read_text(encoding="utf-8") == content, f"docs/{relative} is stale: run python docs/generate.py"
    committed = {p.relative_to(DOCS) for p in (DOCS / "commands").glob("*.md")}
    assert committed == {p for p in files if p.parent.name == "commands"}, "run python docs/generate.py"


@pytest.mark.parametrize("name", sorted(cli.commands))
def test_each_command_page_shows_the_commands_help(name):
    page = (DOCS / "commands" / f"{name}.md").read_text(encoding="utf-8")
    (help_block,) = re.findall(r"```text\n(.*?)```", page, re.S)
    result = CliRunner().invoke(cli, [name, "--help"], prog_name="sentiment-rnn", terminal_width=78)
    assert result.exit_code == 0
    assert help_block == result.output


def test_config_reference_names_every_key_with_its_meaning():
    from sentiment_rnn.config import Config, to_dict

    reference = (DOCS / "config.md").read_text(encoding="utf-8")
    for section, keys in to_dict(Config()).items():
        assert f"## `[{section}]`" in reference
        for key in keys:
            (row,) = [line for line in reference.splitlines() if line.startswith(f"| `{key}` |")] or [None]
            assert row is not None, f"{section}.{key} is not in docs/config.md"
            assert not row.endswith("|  |"), f"{section}.{key} has no meaning: comment it in configs/default.toml"


def documented_invocations() -> list[tuple[Path, list[str]]]:
    """Every `sentiment-rnn ...` command in a ```sh block of the README and docs/, split into words."""
    found = []
    for page in PAGES:
        for block in re.findall(r"```sh\n(.*?)```", page.read_text(encoding="utf-8"), re.S):
            for line in block.splitlines():
                for part in re.split(r"&&|\||;", line.split("  #")[0]):
                    words = shlex.split(part.strip())
                    if words and words[0] == "sentiment-rnn":
                        found.append((page, words[1:]))
    return found


def test_documented_commands_use_real_commands_and_options():
    invocations = documented_invocations()
    assert len(invocations) >= 10
    for page, words in invocations:
        if not words or words[0].startswith("-"):
            assert set(words) <= {"--help", "-h", "--version"}, (page.name, words)
            continue
        assert words[0] in cli.commands, f"{page.name}: unknown command {words[0]!r}"
        command = cli.commands[words[0]]
        options = {name for param in command.params for name in param.opts + param.secondary_opts}
        options |= {"--help", "-h"}
        for word in words[1:]:
            if word.startswith("-") and word != "-":
                name = word.split("=")[0]
                assert name in options, f"{page.name}: {words[0]} has no option {word}"


def test_relative_links_in_the_docs_point_at_files():
    for page in PAGES:
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", page.read_text(encoding="utf-8")):
            assert (page.parent / target).exists(), f"{page.relative_to(ROOT)} links to missing {target}"


def test_completion_is_documented():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert 'eval "$(_SENTIMENT_RNN_COMPLETE=bash_source sentiment-rnn)"' in readme


def python_blocks_with_output(page: Path) -> list[tuple[str, str]]:
    """(code, printed output) for each ```python block directly followed by a ```text block."""
    return re.findall(r"```python\n(.*?)```\s*```text\n(.*?)```", page.read_text(encoding="utf-8"), re.S)


def test_walkthrough_examples_print_what_the_page_shows(capsys):
    examples = python_blocks_with_output(DOCS / "walkthrough.md")
    assert len(examples) == 2
    for code, output in examples:
        exec(code, {})
        assert capsys.readouterr().out == output
