"""The checks every row source makes (in memory and streamed alike), and the one-line errors they raise."""

from __future__ import annotations

import json
import re
from pathlib import Path

from sentiment_rnn.config import ON_EMPTY_CHOICES, TABLE_FORMATS
from sentiment_rnn.data.dataset import Dataset
from sentiment_rnn.errors import SentimentError


def check_dataset(dataset: Dataset, require_both_classes: bool) -> Dataset:
    if not dataset.texts:
        empty = f" (all {dataset.skipped} are empty)" if dataset.skipped else ""
        raise SentimentError(f"{dataset.source} has no rows with text{empty}: give at least one labelled example.")
    if require_both_classes and len(set(dataset.labels.tolist())) < 2:
        only = "positive" if dataset.labels[0] == 1 else "negative"
        raise SentimentError(
            f"{dataset.source} holds only {only} examples: a classifier needs both positive and negative ones."
        )
    return dataset


def check_encoding(encoding: str) -> None:
    import codecs

    try:
        codecs.lookup(encoding)
    except LookupError:
        raise SentimentError(
            f"Unknown encoding {encoding!r}: use a Python codec name such as utf-8 or cp1252."
        ) from None


def check_on_empty(on_empty: str) -> None:
    if on_empty not in ON_EMPTY_CHOICES:
        raise SentimentError(f"on_empty must be one of {', '.join(ON_EMPTY_CHOICES)}, got {on_empty!r}.")


def check_readable_file(path: Path, fmt: str) -> None:
    if path.is_dir():
        raise SentimentError(
            f"Data path {path} is a directory: pass a {fmt} file, or --format imdb for the IMDB layout."
        )
    if path.stat().st_size == 0:
        wanted = "a header and at least one row" if fmt in TABLE_FORMATS else "at least one line"
        raise SentimentError(f"{path} is empty: give a file with {wanted}.")


def decode_error(path: Path, encoding: str) -> SentimentError:
    return SentimentError(
        f"{path}, {_undecodable_line(path, encoding)}: not valid {encoding}; pass the file's encoding, "
        "e.g. --encoding cp1252."
    )


def _undecodable_line(path: Path, encoding: str) -> str:
    """Where the first undecodable bytes are, as "line N (byte 0xXX)"."""
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                raw.decode(encoding)
            except UnicodeDecodeError as exc:
                return f"line {number} (byte 0x{raw[exc.start]:02x})"
    return "somewhere"


def excerpt(line: str, limit: int = 40) -> str:
    return repr(line if len(line) <= limit else line[:limit] + "...")


def shortened(columns: list[str], width: int = 30, count: int = 10) -> str:
    """Column names for a message: each cut to ``width`` characters, at most ``count`` of them."""
    if not columns:
        return "none"
    names = [name if len(name) <= width else name[: width - 1] + "\u2026" for name in columns[:count]]
    more = f", and {len(columns) - count} more" if len(columns) > count else ""
    return ", ".join(names) + more


def parser_error_message(path: Path, fmt: str, exc: Exception) -> str:
    """A one-line message for a pandas ParserError, naming the line when pandas does."""
    match = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
    if match is None:
        return f"{path} is not well-formed {fmt.upper()} ({first_line(exc)}): fix the file."
    expected, line, seen = match.groups()
    hint = "put texts that contain commas in double quotes" if fmt == "csv" else "remove tabs from texts"
    return f"{path}, line {line}: expected {expected} fields, saw {seen}; {hint}, or fix the row."


def json_lines_error_message(path: Path, encoding: str, exc: Exception) -> str:
    """A one-line message naming the first line of ``path`` that is not a JSON object."""
    with path.open(encoding=encoding) as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except ValueError as error:
                return f"{path}, line {number}: not valid JSON ({error.msg}); write one JSON object per line."
            if not isinstance(value, dict):
                return f"{path}, line {number}: not a JSON object; write one JSON object per line."
    return f"{path} is not valid JSON Lines ({first_line(exc)}): write one JSON object per line."


def first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
