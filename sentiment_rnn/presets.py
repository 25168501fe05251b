"""Config presets: the ``NAME.toml`` files in ``configs/``, printed as complete commented configs.

The presets are whatever ``.toml`` files ``configs/`` holds; the package ships
them as ``sentiment_rnn.configs``, so an installed copy has them too. A preset
may set only the keys that differ from the defaults; :func:`render_preset`
fills in the rest from ``default.toml``, so the printed config names every key
with a comment and loads to the same Config as the preset file.
"""

from __future__ import annotations

import importlib.resources
import re
from pathlib import Path

from sentiment_rnn.config import load_config, to_dict, toml_value
from sentiment_rnn.errors import SentimentError

DEFAULT_PRESET = "default"
SECTION_LINE = re.compile(r"^\[(\w+)\]\s*(#.*)?$")
KEY_LINE = re.compile(r"^(\w+)\s*=\s*(.*?)(\s+#.*)?$")


def presets_dir() -> Path:
    """The directory holding the preset files (``configs/``)."""
    try:
        return Path(str(importlib.resources.files("sentiment_rnn.configs")))
    except ModuleNotFoundError:  # running from a source checkout that was never installed
        return Path(__file__).resolve().parent.parent / "configs"


def preset_names() -> list[str]:
    """The available presets, ``default`` first, then the others alphabetically."""
    names = sorted(path.stem for path in presets_dir().glob("*.toml"))
    return sorted(names, key=lambda name: name != DEFAULT_PRESET)


def preset_path(name: str) -> Path:
    """The file of preset ``name``.

    Raises:
        SentimentError: no such preset.
    """
    path = presets_dir() / f"{name}.toml"
    if not path.is_file():
        raise SentimentError(f"Unknown preset {name!r}: choose one of {', '.join(preset_names())}.")
    return path


def render_preset(name: str = DEFAULT_PRESET) -> str:
    """Preset ``name`` as a complete TOML config with a comment on every key.

    The preset's own header comment comes first; then every section and key of
    ``default.toml``, with the preset's value and, where the preset file
    comments a key, the preset's comment. ``render_preset("default")`` is
    ``default.toml`` itself.
    """
    path = preset_path(name)
    default_text = preset_path(DEFAULT_PRESET).read_text(encoding="utf-8")
    if name == DEFAULT_PRESET:
        return default_text
    preset_text = path.read_text(encoding="utf-8")
    values = to_dict(load_config(path))
    comments = _key_comments(preset_text)
    default_lines = default_text.splitlines()
    first_section = next(i for i, line in enumerate(default_lines) if SECTION_LINE.match(line))
    lines = _header(preset_text) + [""]
    section = ""
    source_tables: list[str] = []
    for line in default_lines[first_section:]:
        if match := SECTION_LINE.match(line):
            section = match[1]
            lines += source_tables + [line]
            source_tables = []
        elif (
            (match := KEY_LINE.match(line)) and (section, match[1]) == ("data", "sources") and values["data"]["sources"]
        ):
            source_tables = _source_tables(preset_text)  # written after the section's keys, as the preset has them
        elif match := KEY_LINE.match(line):
            key = match[1]
            comment = comments.get((section, key)) or (match[3] or "").strip()
            assignment = f"{key} = {toml_value(values[section][key])}"
            column = line.index("#") if "#" in line else len(assignment) + 2
            lines.append(f"{assignment:<{column}}{comment}" if len(assignment) < column else f"{assignment}  {comment}")
        else:
            lines.append(line)
    return "\n".join(lines) + "\n"


def _source_tables(text: str) -> list[str]:
    """The ``[[data.sources]]`` tables of a TOML file, as its lines (each table ends with a blank line)."""
    tables, inside = [], False
    for line in text.splitlines():
        if line.startswith("[[data.sources]]"):
            inside = True
        elif SECTION_LINE.match(line):
            inside = False
        if inside:
            tables.append(line)
    return [*tables, ""] if tables and tables[-1] else tables


def _header(text: str) -> list[str]:
    """The comment lines at the top of a TOML file."""
    header = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        header.append(line)
    return header


def _key_comments(text: str) -> dict[tuple[str, str], str]:
    """{(section, key): "# comment"} for every commented key line of a TOML file."""
    comments = {}
    section = ""
    for line in text.splitlines():
        if match := SECTION_LINE.match(line.strip()):
            section = match[1]
        elif line.startswith("[["):
            section = "data.sources"
        elif (match := KEY_LINE.match(line.strip())) and match[3]:
            comments[(section, match[1])] = match[3].strip()
    return comments
