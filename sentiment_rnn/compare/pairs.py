"""Contrast sets: pairs of sentences with the same words and opposite labels, read from CSV."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sentiment_rnn import safe_read
from sentiment_rnn.data.labels import label_name, parse_label
from sentiment_rnn.errors import SentimentError

CONTRAST_FILE = "contrast_pairs.csv"

PAIR_COLUMNS = ("pair_id", "text", "label")


@dataclass(frozen=True)
class ContrastPair:
    """Two sentences with opposite labels; ``texts[i]`` has label ``labels[i]`` (0 or 1)."""

    pair_id: str
    texts: tuple[str, str]
    labels: tuple[int, int]


def read_pairs(path: str | Path, encoding: str = "utf-8") -> list[ContrastPair]:
    """Read a contrast set: a CSV with columns ``pair_id,text,label``, two rows per pair.

    Rows are numbered from 1 after the header, as in every message of
    sentiment-rnn. Pairs keep the order of their first row.

    Raises:
        SentimentError: unreadable file, a missing column, an empty text, a
            non-binary label, a pair_id without exactly two rows, or two rows
            of a pair with the same label; the message names the file and row.
    """
    import pandas as pd

    path = Path(path)
    fix = "pass a CSV with columns pair_id,text,label to --pairs"
    if path.is_dir() or not os.path.lexists(path):
        what = "is a directory" if path.is_dir() else "does not exist"
        raise SentimentError(f"Pairs file {path} {what}: {fix}.")
    try:
        with safe_read.open_file(path, safe_read.DATA, fix) as handle:
            frame = pd.read_csv(handle, dtype=str, keep_default_na=False, encoding=encoding)
    except UnicodeDecodeError:
        raise SentimentError(f"{path} is not valid {encoding}: save the pairs file as UTF-8.") from None
    except pd.errors.EmptyDataError:
        raise SentimentError(f"{path} is empty: give a header pair_id,text,label and two rows per pair.") from None
    except pd.errors.ParserError as exc:
        first_line = str(exc).strip().splitlines()[0]
        raise SentimentError(f"{path} is not well-formed CSV ({first_line}): fix the file.") from None
    columns = [str(c).strip() for c in frame.columns]
    frame.columns = columns
    missing = [c for c in PAIR_COLUMNS if c not in columns]
    if missing:
        raise SentimentError(
            f"{path} has no column {', '.join(missing)} (columns: {', '.join(columns)}): "
            "a pairs file needs the columns pair_id,text,label."
        )
    rows_by_pair: dict[str, list[tuple[int, str, int]]] = {}
    for row, (pair_id, text, label) in enumerate(zip(frame["pair_id"], frame["text"], frame["label"]), start=1):
        pair_id = pair_id.strip()
        if not pair_id:
            raise SentimentError(f"{path}, row {row}: pair_id is empty: give every row the id of its pair.")
        if not text.strip():
            raise SentimentError(f"{path}, row {row}: text is empty: give every row of a pair a sentence.")
        rows_by_pair.setdefault(pair_id, []).append((row, text, parse_label(label, row, str(path))))
    if not rows_by_pair:
        raise SentimentError(f"{path} has no pairs: give two rows per pair_id, one positive and one negative.")
    pairs = []
    for pair_id, rows in rows_by_pair.items():
        numbers = ", ".join(str(row) for row, _, _ in rows)
        if len(rows) != 2:
            raise SentimentError(
                f"{path}, row{'s' if len(rows) > 1 else ''} {numbers}: pair_id {pair_id!r} has {len(rows)} "
                f"row{'s' if len(rows) > 1 else ''}; a pair needs exactly 2 (one positive, one negative)."
            )
        if rows[0][2] == rows[1][2]:
            raise SentimentError(
                f"{path}, rows {numbers}: both sentences of pair {pair_id!r} are {label_name(rows[0][2])}; "
                "a pair needs one positive and one negative sentence."
            )
        pairs.append(ContrastPair(pair_id, (rows[0][1], rows[1][1]), (rows[0][2], rows[1][2])))
    return pairs
