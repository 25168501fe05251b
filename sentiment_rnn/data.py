"""Read labelled datasets in their native formats into texts and 0/1 labels."""

from __future__ import annotations

import csv
import importlib.resources
import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sentiment_rnn.config import ON_EMPTY_CHOICES
from sentiment_rnn.errors import SentimentError

POSITIVE_LABELS = frozenset({"1", "1.0", "true", "pos", "positive"})
NEGATIVE_LABELS = frozenset({"0", "0.0", "false", "neg", "negative"})
FORMATS_BY_SUFFIX = {".csv": "csv", ".tsv": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl"}
BUILTIN_CORPUS = "reviews.csv"


@dataclass(frozen=True)
class Dataset:
    """Texts with binary labels.

    Attributes:
        texts: the texts, one string each.
        labels: int array of shape (n,), 1 = positive, 0 = negative.
        source: where the data came from, for messages and the model's metadata.
        skipped: rows dropped because their text was missing or blank.
    """

    texts: list[str]
    labels: np.ndarray
    source: str
    skipped: int = 0

    def __len__(self) -> int:
        return len(self.texts)

    def label_counts(self) -> dict[str, int]:
        positive = int(self.labels.sum())
        return {"positive": positive, "negative": len(self.labels) - positive}


def corpus_file(name: str) -> Path:
    """Path of a file shipped in the built-in corpus (the repository's ``data/``)."""
    return Path(str(importlib.resources.files("sentiment_rnn.corpus").joinpath(name)))


def builtin_corpus() -> Dataset:
    """The built-in corpus of product and phone reviews written for this project."""
    return read_dataset(corpus_file(BUILTIN_CORPUS))


def parse_label(value: object, row: int, source: str) -> int:
    """Map one label to 1 (positive) or 0 (negative); other values raise, naming the row."""
    key = str(value).strip().lower()
    if value is None or key in ("", "nan"):
        raise SentimentError(
            f"{source}, row {row}: the label is missing; give every row a label "
            "(0/1, true/false, pos/neg or positive/negative)."
        )
    if key in POSITIVE_LABELS:
        return 1
    if key in NEGATIVE_LABELS:
        return 0
    raise SentimentError(
        f"{source}, row {row}: label {value!r} is not binary; use 0/1, true/false, pos/neg or positive/negative."
    )


def read_dataset(
    path: str | Path,
    text_column: str = "text",
    label_column: str = "label",
    encoding: str = "utf-8",
    format: str = "auto",
    require_both_classes: bool = True,
    on_empty: str = "skip",
) -> Dataset:
    """Read CSV, TSV or JSON Lines with a text and a label column.

    Args:
        path: the file. The format is guessed from its suffix unless ``format``
            is given (``csv``, ``tsv`` or ``jsonl``).
        text_column, label_column: column names.
        encoding: the file's text encoding, e.g. ``cp1252`` for Windows files.
        require_both_classes: refuse data with a single class (training needs both).
        on_empty: what to do with a row whose text is missing or blank:
            ``"skip"`` it (counted in ``skipped``) or raise an ``"error"``.

    Raises:
        SentimentError: with one sentence naming the file and the fix.
    """
    import pandas as pd

    path = Path(path)
    fmt = _resolve_format(path, format)
    _check_readable(path)
    try:
        if fmt == "jsonl":
            frame = pd.read_json(path, lines=True, encoding=encoding, dtype=False)
        else:
            frame = pd.read_csv(
                path,
                sep="\t" if fmt == "tsv" else ",",
                encoding=encoding,
                dtype=str,
                keep_default_na=False,
                quoting=csv.QUOTE_NONE if fmt == "tsv" else csv.QUOTE_MINIMAL,
            )
    except UnicodeDecodeError:
        raise SentimentError(
            f"{path}, {_undecodable_line(path, encoding)}: not valid {encoding}; pass the file's encoding, "
            "e.g. --encoding cp1252."
        ) from None
    except LookupError:
        raise SentimentError(
            f"Unknown encoding {encoding!r}: use a Python codec name such as utf-8 or cp1252."
        ) from None
    except pd.errors.EmptyDataError:
        raise SentimentError(f"{path} is empty: give a file with a header and at least one row.") from None
    except pd.errors.ParserError as exc:
        raise SentimentError(_parser_error_message(path, fmt, exc)) from None
    except ValueError as exc:
        raise SentimentError(_json_lines_error_message(path, encoding, exc)) from None
    return frame_to_dataset(frame, str(path), text_column, label_column, require_both_classes, on_empty)


def frame_to_dataset(
    frame,
    source: str,
    text_column: str = "text",
    label_column: str = "label",
    require_both_classes: bool = True,
    on_empty: str = "skip",
) -> Dataset:
    """Turn a pandas DataFrame into a Dataset, validating columns and labels (see :func:`read_dataset`)."""
    if on_empty not in ON_EMPTY_CHOICES:
        raise SentimentError(f"on_empty must be one of {', '.join(ON_EMPTY_CHOICES)}, got {on_empty!r}.")
    columns = [str(c).strip() for c in frame.columns]
    frame.columns = columns
    for role, column in (("text", text_column), ("label", label_column)):
        if column not in columns:
            flag = "--text-column" if role == "text" else "--label-column"
            raise SentimentError(
                f"{source} has no {role} column {column!r} (columns: {_shortened(columns)}): "
                f"name the right one with {flag}."
            )
    if len(frame) == 0:
        raise SentimentError(f"{source} has a header but no rows: give at least one labelled example.")
    texts: list[str] = []
    labels: list[int] = []
    skipped = 0
    for row, (text, label) in enumerate(zip(frame[text_column], frame[label_column]), start=1):
        if text is None or (isinstance(text, float) and np.isnan(text)) or not str(text).strip():
            if on_empty == "error":
                raise SentimentError(
                    f"{source}, row {row}: the text is empty; remove the row, or pass --on-empty skip "
                    "to skip such rows."
                )
            skipped += 1
            continue
        labels.append(parse_label(label, row, source))
        texts.append(str(text))
    if not texts:
        raise SentimentError(
            f"{source} has no rows with text (all {skipped} are empty): give at least one labelled example."
        )
    dataset = Dataset(texts, np.asarray(labels, dtype=np.int32), source, skipped)
    if require_both_classes and len(set(labels)) < 2:
        only = "positive" if labels[0] == 1 else "negative"
        raise SentimentError(
            f"{source} holds only {only} examples: a classifier needs both positive and negative ones."
        )
    return dataset


def _resolve_format(path: Path, format: str) -> str:
    if format != "auto":
        if format not in set(FORMATS_BY_SUFFIX.values()):
            raise SentimentError(f"Unknown format {format!r}: use csv, tsv or jsonl.")
        return format
    fmt = FORMATS_BY_SUFFIX.get(path.suffix.lower())
    if fmt is None:
        raise SentimentError(f"Cannot tell the format of {path} from its suffix: name it .csv, .tsv or .jsonl.")
    return fmt


def _check_readable(path: Path) -> None:
    if not path.exists():
        raise SentimentError(f"Data file {path} does not exist: check the path.")
    if path.is_dir():
        raise SentimentError(f"Data path {path} is a directory: pass a CSV, TSV or JSON Lines file.")
    if path.stat().st_size == 0:
        raise SentimentError(f"{path} is empty: give a file with a header and at least one row.")


def _undecodable_line(path: Path, encoding: str) -> str:
    """Where the first undecodable bytes are, as "line N (byte 0xXX)"."""
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                raw.decode(encoding)
            except UnicodeDecodeError as exc:
                return f"line {number} (byte 0x{raw[exc.start]:02x})"
    return "somewhere"


def _shortened(columns: list[str], width: int = 30, count: int = 10) -> str:
    """Column names for a message: each cut to ``width`` characters, at most ``count`` of them."""
    if not columns:
        return "none"
    names = [name if len(name) <= width else name[: width - 1] + "\u2026" for name in columns[:count]]
    more = f", and {len(columns) - count} more" if len(columns) > count else ""
    return ", ".join(names) + more


def _parser_error_message(path: Path, fmt: str, exc: Exception) -> str:
    """A one-line message for a pandas ParserError, naming the line when pandas does."""
    match = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
    if match is None:
        return f"{path} is not well-formed {fmt.upper()} ({_first_line(exc)}): fix the file."
    expected, line, seen = match.groups()
    hint = "put texts that contain commas in double quotes" if fmt == "csv" else "remove tabs from texts"
    return f"{path}, line {line}: expected {expected} fields, saw {seen}; {hint}, or fix the row."


def _json_lines_error_message(path: Path, encoding: str, exc: Exception) -> str:
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
    return f"{path} is not valid JSON Lines ({_first_line(exc)}): write one JSON object per line."


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
