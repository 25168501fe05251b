"""Which format a data path holds: the one given, or one guessed from the path.

With ``format="auto"`` the guess is made from the path's suffix (``.csv``,
``.tsv``, ``.jsonl``, ``.tar.gz``), a directory (the IMDB layout), or, for other
names, the first line (``__label__``, or a number and a space such as ``1 `` or SST-5's ``4 ``). The in-memory readers
(``formats``) and the streaming reader (``stream``) both ask here.
"""

from __future__ import annotations

import re
from pathlib import Path

from sentiment_rnn.config import FORMATS, IMDB_SPLITS
from sentiment_rnn.errors import SentimentError

FORMATS_BY_SUFFIX = {".csv": "csv", ".tsv": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl"}

TARBALL_SUFFIXES = (".tar.gz", ".tgz", ".tar")

FASTTEXT_PREFIX = "__label__"


def resolve_format(path: Path, format: str, encoding: str) -> str:
    """``format`` when it is not ``"auto"`` (checked against ``FORMATS``), else the guess from ``path``."""
    if format != "auto":
        if format not in FORMATS:
            raise SentimentError(f"Unknown format {format!r}: use one of {', '.join(FORMATS)}.")
        return format
    if path.is_dir():
        if not _looks_like_imdb(path):
            raise SentimentError(
                f"Data path {path} is a directory but not in the IMDB layout (train/pos, train/neg, test/pos, "
                "test/neg): pass a data file, or that layout."
            )
        return "imdb"
    if path.name.lower().endswith(TARBALL_SUFFIXES):
        return "imdb"
    fmt = FORMATS_BY_SUFFIX.get(path.suffix.lower())
    if fmt == "tsv" and _first_line(path, encoding).split("\t")[0].strip() == "sentence":
        return "glue"
    if fmt is None:
        first = _first_line(path, encoding).lstrip()
        if first.startswith(FASTTEXT_PREFIX):
            return "fasttext"
        if re.match(r"\d+ ", first):  # a numeric label (0/1, stars, SST-5's 0-4), a space, the text
            return "label-text"
        raise SentimentError(
            f"Cannot tell the format of {path} from its name or first line: pass --format "
            f"({', '.join(FORMATS)}) or name it .csv, .tsv or .jsonl."
        )
    return fmt


def _looks_like_imdb(path: Path) -> bool:
    roots = (path, path / "aclImdb")
    return any((root / split / label).is_dir() for root in roots for split in IMDB_SPLITS for label in ("pos", "neg"))


def _first_line(path: Path, encoding: str) -> str:
    """The file's first line (at most 64 KiB of it), decoded leniently (only to guess the format); "" when it is
    blank or the file cannot be read (the reader says why)."""
    from sentiment_rnn import safe_read

    try:
        with safe_read.open_file(path, safe_read.DATA, "pass a data file") as handle:
            line = handle.readline(FIRST_LINE_BYTES).decode(encoding, errors="replace")
    except SentimentError:
        return ""
    return line if line.strip() else ""


FIRST_LINE_BYTES = 64 * 1024
