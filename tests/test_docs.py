"""The README's commands stay true: CI runs the README's test command verbatim."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def readme_commands() -> list[str]:
    lines = (ROOT / "README.md").read_text().splitlines()
    return [lines[i + 1] for i, line in enumerate(lines) if line == "```sh"]


def test_ci_runs_the_readme_test_command():
    test_command = readme_commands()[1]
    assert "pytest" in test_command
    ci_lines = [line for line in (ROOT / ".ci" / "run").read_text().splitlines() if not line.startswith("#")]
    assert test_command in ci_lines


def test_readme_main_command_trains_then_predicts_the_lecture_sentences():
    main = readme_commands()[0]
    assert "pip install ." in main and "sentiment-rnn train &&" in main
    for sentence in ("I like this phone", "This phone is no good", "No, this phone is good"):
        assert f'"{sentence}"' in main


def test_code_passes_ruff():
    import subprocess
    import sys

    for args in (["check", "."], ["format", "--check", "."]):
        result = subprocess.run([sys.executable, "-m", "ruff", *args], cwd=ROOT, capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr
