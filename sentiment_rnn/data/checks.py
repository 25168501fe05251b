"""The one set of data checks, and the one-line errors they raise, for every reader.

The in-memory readers (``formats``) and the streaming pass (``stream``) call the
same functions with what they know (a path, the column names, the counts, the
offending row), so the same problem gives the same message on both paths.
``check_*`` functions raise :class:`SentimentError`; ``*_error`` functions return
it, for ``raise ... from None`` inside an ``except`` block.
"""

from __future__ import annotations

import codecs
import contextlib
import json
import os
import re
from pathlib import Path
from typing import BinaryIO

import numpy as np

from sentiment_rnn import jsondoc, safe_read
from sentiment_rnn.config import ON_EMPTY_CHOICES, TABLE_FORMATS
from sentiment_rnn.data.dataset import Dataset
from sentiment_rnn.data.labels import DEFAULT_CLASSES, LabelScheme, class_order, fixed_scheme
from sentiment_rnn.errors import SentimentError

ENCODING_FIX = "pass the file's encoding, e.g. --encoding cp1252."


DATA_FIX = "pass a data file"
ASCII_PROBE = 'text,label\t\r\n 0123456789 abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ {}[]":'


def check_encoding(encoding: str) -> None:
    """Refuse a name that is no codec, a codec that does not turn bytes into text (rot13, base64, zlib,
    ``undefined``), or one that does not write ASCII as ASCII (UTF-16 and UTF-32, punycode, idna).

    Every reader splits lines at the byte ``\n`` and finds columns by ASCII separators before decoding a
    field, so the encoding must keep ASCII bytes as they are: every character set in use for text files
    (UTF-8, cp1252, Latin-1, Shift JIS, GB18030, ...) does; a UTF-16 file is converted first.
    """
    try:
        info = codecs.lookup(encoding)
    except (LookupError, ValueError, TypeError):
        raise SentimentError(
            f"Unknown encoding {encoding!r}: use a Python codec name such as utf-8 or cp1252."
        ) from None
    try:
        "".encode(encoding)
    except LookupError:
        raise SentimentError(
            f"{encoding!r} is not a text encoding (it is a transform such as rot13 or base64, not a character set): "
            "use a text codec such as utf-8 or cp1252."
        ) from None
    except UnicodeError:
        pass  # "undefined" refuses any text: below
    try:
        ascii_as_ascii = ASCII_PROBE.encode(encoding) == ASCII_PROBE.encode("ascii")
        ascii_as_ascii = ascii_as_ascii and b"abc\n".decode(encoding) == "abc\n"
    except (UnicodeError, LookupError, ValueError, TypeError):
        ascii_as_ascii = False
    if not ascii_as_ascii:
        raise SentimentError(
            f"{encoding!r} ({info.name}) does not keep ASCII text as ASCII bytes, which the readers need to find lines "
            "and columns: convert the file to UTF-8 (e.g. iconv -f utf-16 -t utf-8) and pass --encoding utf-8."
        )


def open_data_file(path: Path, kind: safe_read.Kind = safe_read.DATA) -> BinaryIO:
    """A data file opened through ``safe_read``: a regular file (a FIFO or device is refused, never waited on),
    its lines capped at ``safe_read.MAX_DATA_LINE`` bytes as they are read."""
    return safe_read.open_file(path, kind, DATA_FIX)


def check_on_empty(on_empty: str) -> None:
    if on_empty not in ON_EMPTY_CHOICES:
        raise SentimentError(f"on_empty must be one of {', '.join(ON_EMPTY_CHOICES)}, got {on_empty!r}.")


def check_exists(path: Path) -> None:
    if path.is_symlink() and not path.exists():
        raise SentimentError(
            f"Data file {path} is a symlink that leads nowhere (a loop or a missing target): fix the link or the path."
        )
    if not path.exists():
        raise SentimentError(f"Data file {path} does not exist: check the path.")


def check_readable_file(path: Path, fmt: str) -> None:
    """``path`` is a regular file (not a directory, FIFO or device) with at least one byte; ``fmt`` says what it
    should hold."""
    status = os.stat(path)
    what = safe_read.file_type(status.st_mode)
    if what == "a directory":
        raise SentimentError(
            f"Data path {path} is a directory: pass a {fmt} file, or --format imdb for the IMDB layout."
        )
    if what is not None:
        raise SentimentError(f"Data path {path} is {what}, not a regular file: pass a {fmt} file.")
    if status.st_size == 0:
        raise empty_file_error(path, fmt)


def empty_file_error(path: Path, fmt: str) -> SentimentError:
    wanted = "a header and at least one row" if fmt in TABLE_FORMATS else "at least one line"
    return SentimentError(f"{path} is empty: give a file with {wanted}.")


def check_columns(source: str | Path, columns: list[str], text_column: str, label_column: str) -> None:
    """The header ``columns`` (stripped names) hold the text and the label column."""
    for role, column in (("text", text_column), ("label", label_column)):
        if column not in columns:
            flag = "--text-column" if role == "text" else "--label-column"
            raise SentimentError(
                f"{source} has no {role} column {column!r} (columns: {_short_column_list(columns)}): "
                f"name the right one with {flag}."
            )


def _short_column_list(columns: list[str], width: int = 30, count: int = 10) -> str:
    """Column names for a message: each cut to ``width`` characters, at most ``count`` of them."""
    if not columns:
        return "none"
    names = [printable(name) for name in columns[:count]]
    names = [name if len(name) <= width else name[: width - 1] + "\u2026" for name in names]
    more = f", and {len(columns) - count} more" if len(columns) > count else ""
    return ", ".join(names) + more


def printable(text: str) -> str:
    """``text`` with the characters that break a line or control a terminal written as escapes (``\\n``), so
    that a message quoting it stays one line."""
    return "".join(ch if ch.isprintable() or ch == " " else repr(ch)[1:-1] for ch in text)


def check_has_rows(source: str | Path, rows: int) -> None:
    """A table file holds ``rows`` data rows (blank texts included) under its header."""
    if rows == 0:
        raise SentimentError(f"{source} has a header but no rows: give at least one labelled example.")


def check_empty_text(source: str | Path, where: str, on_empty: str) -> None:
    """The text at ``where`` ("row 3", "line 3", "line 3 of FILE" or a review's file name) is blank.

    Fine when ``on_empty`` is ``"skip"`` (the caller counts it as skipped); an error when it is ``"error"``.
    """
    if on_empty == "error":
        first_word = where.split()[0]
        unit = first_word if first_word in ("row", "line") else "review"
        raise SentimentError(
            f"{source}, {where}: the text is empty; remove the {unit}, or pass --on-empty skip to skip such {unit}s."
        )


def check_examples(
    source: str | Path,
    counts,
    skipped: int,
    require_every_class: bool,
    other_labels: int = 0,
    classes: tuple[str, ...] = DEFAULT_CLASSES,
    map_option: str = "--positive or --negative",
) -> None:
    """The usable examples: ``counts[k]`` rows with text of class ``k`` (of ``classes``), ``skipped`` blank ones
    dropped, ``other_labels`` dropped for a label outside the label map (named ``map_option`` in the message).

    There must be at least one, and every class when ``require_every_class`` (training needs them all).
    """
    counts = np.asarray(counts, dtype=np.int64)
    rows = int(counts.sum())
    if rows == 0 and other_labels:
        raise SentimentError(
            f"{source} has no rows with a label in {map_option} ({other_labels} rows have other labels): "
            "list the labels the file uses."
        )
    if rows == 0:
        empty = f" (all {skipped} are empty)" if skipped else ""
        raise SentimentError(f"{source} has no rows with text{empty}: give at least one labelled example.")
    if not require_every_class or (counts.all() and len(counts) > 1):
        return
    if tuple(classes) == DEFAULT_CLASSES:
        only = "positive" if counts[1] else "negative"
        raise SentimentError(
            f"{source} holds only {only} examples: a classifier needs both positive and negative ones."
        )
    present = [name for name, count in zip(classes, counts) if count]
    if len(present) == 1:
        raise SentimentError(
            f"{source} holds only examples of the class {present[0]!r}: a classifier needs at least two classes."
        )
    missing = next(name for name, count in zip(classes, counts) if not count)
    raise SentimentError(
        f"{source} has no examples of the class {missing!r} (of {', '.join(classes)}): give it examples, "
        "or leave it out of --labels and --label-map."
    )


def check_dataset(dataset: Dataset, require_every_class: bool, map_option: str = "--positive or --negative") -> Dataset:
    """:func:`check_examples` on a dataset in memory; returns it."""
    counts = np.bincount(np.asarray(dataset.labels, dtype=np.int64), minlength=len(dataset.classes))
    check_examples(
        dataset.source, counts, dataset.skipped, require_every_class, dataset.other_labels, dataset.classes, map_option
    )
    return dataset


def undecodable_error(source: str | Path, encoding: str, where: str) -> SentimentError:
    """``where`` ("line 2 (byte 0xe9)", "row 2", a file inside an archive) is not valid ``encoding``."""
    return SentimentError(f"{source}, {where}: not valid {encoding}; {ENCODING_FIX}")


def undecodable_header_error(source: str | Path, encoding: str) -> SentimentError:
    return SentimentError(f"{source}: the header is not valid {encoding}; {ENCODING_FIX}")


def undecodable_file_error(path: Path, encoding: str) -> SentimentError:
    """:func:`undecodable_error` naming the first line of ``path`` that does not decode, and its byte.

    A file that starts with a UTF-16 or UTF-32 byte-order mark is named as such, with the encoding to pass.
    """
    with open_data_file(path) as handle:
        start = handle.read(4)
    for bom, name in (
        (codecs.BOM_UTF32_LE, "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if start.startswith(bom) and name != codecs.lookup(encoding).name:
            return SentimentError(
                f"{path} starts with a {name.upper()} byte-order mark, so it is not {encoding}: convert it to UTF-8 "
                f"(e.g. iconv -f {name} -t utf-8) and pass --encoding utf-8."
            )
    return undecodable_error(path, encoding, _first_undecodable_line(path, encoding))


def _first_undecodable_line(path: Path, encoding: str) -> str:
    """Where the first undecodable bytes are, as "line N (byte 0xXX)"."""
    with open_data_file(path) as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                raw.decode(encoding)
            except UnicodeDecodeError as exc:
                return f"line {number} (byte 0x{raw[exc.start]:02x})"
    return "somewhere"


def streamed_json_lines_error(source: str | Path, line: int) -> SentimentError:
    """Line ``line`` of a streamed JSON Lines file is not a JSON object (the header line included)."""
    return SentimentError(f"{source}, line {line} is not valid JSON Lines: one JSON object per line.")


def json_line_error(source: str | Path, number: int, exc: Exception | None) -> SentimentError:
    """Line ``number`` of a JSON Lines file is not JSON (``exc``, the parser's error), or not an object (None)."""
    if exc is None:
        return SentimentError(f"{source}, line {number}: not a JSON object; write one JSON object per line.")
    reason = exc.msg if isinstance(exc, json.JSONDecodeError) else jsondoc.reason(exc)
    return SentimentError(f"{source}, line {number}: not valid JSON ({reason}); write one JSON object per line.")


def field_text(value) -> str:
    """A JSON value as the text of a field: a string as it is, null as "", a number or boolean as Python writes
    it (as the in-memory reader reads it), a list or object as its JSON."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    return str(value) if isinstance(value, int | float) else json.dumps(value)


def json_object(raw: bytes | str, encoding: str = "utf-8") -> dict | None:
    """The object a JSON Lines record holds, or None when it holds none (not JSON, nested too deeply, undecodable)."""
    try:
        value = jsondoc.loads(raw.decode(encoding) if isinstance(raw, bytes) else raw)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def json_records(handle: BinaryIO, path: Path, encoding: str):
    """(line number from 1, object) of each non-blank line of a JSON Lines file, parsed by ``jsondoc.loads``.

    Raises:
        SentimentError: a line that does not decode, is not JSON (or nested too deeply), or is not an object.
    """
    for number, raw in enumerate(handle, start=1):
        if not raw.strip():
            continue
        try:
            line = raw.decode(encoding)
        except UnicodeDecodeError as exc:
            raise undecodable_error(path, encoding, f"line {number} (byte 0x{raw[exc.start]:02x})") from None
        try:
            record = jsondoc.loads(line)
        except ValueError as exc:
            raise json_line_error(path, number, exc) from None
        if not isinstance(record, dict):
            raise json_line_error(path, number, None)
        yield number, record


def parser_error(path: Path, fmt: str, exc: Exception) -> SentimentError:
    """For a pandas ParserError, naming the line when pandas does."""
    match = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
    if match is None:
        return SentimentError(f"{path} is not well-formed {fmt.upper()} ({first_message_line(exc)}): fix the file.")
    expected, line, seen = match.groups()
    hint = "put texts that contain commas in double quotes" if fmt == "csv" else "remove tabs from texts"
    return SentimentError(f"{path}, line {line}: expected {expected} fields, saw {seen}; {hint}, or fix the row.")


@contextlib.contextmanager
def pandas_read_errors(path: Path, fmt: str, encoding: str):
    """Within it, what a pandas reader raises for a bad ``fmt`` file becomes the one-line error for it.

    Undecodable bytes, an empty file and a malformed CSV/TSV row; anything else passes through.
    """
    import pandas as pd

    try:
        yield
    except UnicodeDecodeError:
        raise undecodable_file_error(path, encoding) from None
    except pd.errors.EmptyDataError:
        raise empty_file_error(path, fmt) from None
    except pd.errors.ParserError as exc:
        raise parser_error(path, fmt, exc) from None


def excerpt(line: str, limit: int = 40) -> str:
    """``line`` quoted for a message, cut to ``limit`` characters."""
    return repr(line if len(line) <= limit else line[:limit] + "...")


def first_message_line(exc: Exception) -> str:
    """The first line of an exception's message, or its type's name when the message is empty."""
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


class ExampleCollector:
    """Collects (text, label) pairs; blank texts are skipped and counted, or refused (``on_empty``).

    Labels are parsed only for kept texts: a class index, or while the ``scheme``
    learns the classes, the label's key (:func:`~sentiment_rnn.data.labels.label_key`).
    The classes then are the keys found, in :func:`~sentiment_rnn.data.labels.class_order`
    (``formats.resolve_classes`` turns the built-in 0/1 keys into negative/positive).
    """

    def __init__(self, source: str, on_empty: str = "skip", scheme: LabelScheme | None = None):
        self.source = source
        self.on_empty = on_empty
        self.scheme = scheme if scheme is not None else fixed_scheme(DEFAULT_CLASSES)
        self.texts: list[str] = []
        self.labels: list[int | str] = []
        self.skipped = 0
        self.other_labels = 0

    def add(self, text: str, label, where: str) -> None:
        """Add one example; ``where`` names it in messages, e.g. "row 3", "line 3" or a file name."""
        if not text.strip():
            check_empty_text(self.source, where, self.on_empty)
            self.skipped += 1
            return
        label = label() if callable(label) else label
        if label is None:  # outside the label map
            self.other_labels += 1
            return
        self.labels.append(label)
        self.texts.append(text)

    def build(self) -> Dataset:
        classes = self.scheme.classes
        if classes is None:
            classes = tuple(sorted(set(self.labels), key=class_order))
            index = {name: number for number, name in enumerate(classes)}
            self.labels = [index[key] for key in self.labels]
        labels = np.asarray(self.labels, dtype=np.int32)
        return Dataset(self.texts, labels, self.source, self.skipped, other_labels=self.other_labels, classes=classes)
