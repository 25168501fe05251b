"""Config presets: the ``NAME.toml`` files in ``configs/``, printed as complete commented configs.

The presets are whatever ``.toml`` files ``configs/`` holds; the package ships
them as ``sentiment_rnn.configs``, so an installed copy has them too. A preset
may set only the keys that differ from the defaults; :func:`render_preset`
fills in the rest from ``default.toml``, so the printed config names every key
with a comment and loads to the same Config as the preset file.
:func:`train_config` says which preset a ``train`` run starts from when no
config file is given.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

from sentiment_rnn.config import Config, load_config, parse_override, to_dict, toml_value
from sentiment_rnn.errors import SentimentError

DEFAULT_PRESET = "default"
OWN_DATA_PRESET = "finetune"  # what `train` fits on data of the user's own when no architecture is chosen
ARCHITECTURE_SECTIONS = ("model", "tokenizer")  # a key of these set by the user chooses the architecture
SECTION_LINE = re.compile(r"^\[(\w+)\]\s*(#.*)?$")
KEY_LINE = re.compile(r"^(\w+)\s*=\s*(.*?)(\s+#.*)?$")


def presets_dir() -> Path:
    """The directory holding the preset files (``configs/``).

    Found from the package's import spec: ``importlib.resources`` would cost
    3.5 ms (tempfile, random) of every command's start-up, the CLI lists the presets.
    """
    try:
        spec = importlib.util.find_spec("sentiment_rnn.configs")
    except ModuleNotFoundError:
        spec = None
    if spec is not None and spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    return Path(__file__).resolve().parent.parent / "configs"  # a source checkout that was never installed


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


def train_config(
    path: str | Path | None = None, overrides: list[str] | tuple[str, ...] = ()
) -> tuple[Config, str | None]:
    """The Config a ``train`` run uses, and a one-line notice for stderr when it chose the finetune preset (else None).

    With a config file (``path``), that file and then ``overrides``. Without one, the defaults
    (``default.toml``: the small SimpleRNN made for the built-in corpus), unless ``overrides`` name data
    of the user's own (``data.path``, ``data.pos``/``data.neg`` or ``data.sources``) and set no
    ``[model]`` or ``[tokenizer]`` key: then the :data:`OWN_DATA_PRESET` preset, which fine-tunes the
    bundled language model reviews-lm, with ``overrides`` on top (``train.epochs``, ``train.seed``, ...).
    The notice then says so, and how to train the small model from scratch instead.

    Example: ``train_config(overrides=["data.path='my.csv'"])`` is ``finetune.toml`` reading my.csv;
    with ``"model.units=32"`` added, ``default.toml`` with 32 units.

    Raises:
        SentimentError: as :func:`load_config`.
    """
    from sentiment_rnn.data.formats import names_no_data  # reads data: too heavy for the CLI's start-up

    if path is None:
        sections = [parse_override(override)[0] for override in overrides]
        data_overrides = [override for override, section in zip(overrides, sections) if section == "data"]
        own_data = not names_no_data(load_config(overrides=data_overrides).data)
        if own_data and not any(section in ARCHITECTURE_SECTIONS for section in sections):
            config = load_config(preset_path(OWN_DATA_PRESET), overrides)
            notice = (
                f"This model started from the bundled language model {config.model.init_from} (the {OWN_DATA_PRESET} "
                f"preset, configs/{OWN_DATA_PRESET}.toml, is train's default for data of your own); for the small model "
                f"trained from scratch, pass --config configs/{DEFAULT_PRESET}.toml."
            )
            return config, notice
    return load_config(path, overrides), None


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
    return render_config(
        load_config(path), _header(preset_text), _key_comments(preset_text), _source_tables(preset_text)
    )


def render_config(
    config: Config,
    header: list[str],
    comments: dict[tuple[str, str], str] | None = None,
    source_lines: list[str] | None = None,
) -> str:
    """A config as a complete TOML file: ``header`` (comment lines), then every key of ``default.toml``.

    Each key is written with ``config``'s value and the comment ``comments[(section, key)]``
    (a ``"# ..."`` string) if given, else ``default.toml``'s comment on that key. ``data.sources``
    is written as ``[[data.sources]]`` tables: ``source_lines`` as given, or else from the values.
    """
    comments = comments or {}
    values = to_dict(config)
    default_lines = preset_path(DEFAULT_PRESET).read_text(encoding="utf-8").splitlines()
    first_section = next(i for i, line in enumerate(default_lines) if SECTION_LINE.match(line))
    lines = header + [""]
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
            # written after the section's keys, as a preset has them
            source_tables = source_lines if source_lines is not None else _tables_of(values["data"]["sources"])
        elif match := KEY_LINE.match(line):
            key = match[1]
            comment = comments.get((section, key)) or (match[3] or "").strip()
            assignment = f"{key} = {toml_value(values[section][key])}"
            column = line.index("#") if "#" in line else len(assignment) + 2
            lines.append(f"{assignment:<{column}}{comment}" if len(assignment) < column else f"{assignment}  {comment}")
        else:
            lines.append(line)
    return "\n".join(lines) + "\n"


def _tables_of(sources: list[dict]) -> list[str]:
    """``[[data.sources]]`` tables written from their values, each ending with a blank line."""
    lines = []
    for source in sources:
        lines += ["[[data.sources]]", *(f"{key} = {toml_value(value)}" for key, value in source.items()), ""]
    return lines


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
