"""Any dataset ``read_dataset`` reads, read in batches of rows: memory flat however long the file.

``predict --data`` and ``evaluate`` go through here: each :class:`Batch` holds
at most ``batch_rows`` rows with every column as read (a pandas DataFrame), the
text of each row, and, when labels are wanted, the 0/1 labels of its rows with
text. The same checks and one-line errors as the in-memory readers apply
(columns, labels, empty texts, encodings), with rows and lines numbered across
the whole file.

The columns of a batch, by format:

    csv, tsv, glue, jsonl   the file's own columns
    fasttext, label-text    label, text
    pos/neg files           text, label (1 for --pos, 0 for --neg)
    imdb                    file (the path inside the layout), label, text;
                            reviews in the archive's (or the sorted directory's) order

``Batch.bytes_read`` is how far into the input the reading has come (the sum
over its files), for a progress bar whose length is :func:`input_size`.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sentiment_rnn.config import LINE_FORMATS
from sentiment_rnn.data.checks import (
    check_columns,
    check_empty_text,
    check_encoding,
    check_examples,
    check_exists,
    check_has_rows,
    check_on_empty,
    check_readable_file,
    json_records,
    open_data_file,
    pandas_read_errors,
    undecodable_error,
)
from sentiment_rnn.data.detect import resolve_format
from sentiment_rnn.data.formats import (
    GLUE_TEXT_COLUMNS,
    column_names,
    csv_options,
    parse_labelled_line,
    reject_mapping,
    reject_split,
)
from sentiment_rnn.data.imdb import (
    HTML_BREAK,
    directory_reviews,
    imdb_member_pattern,
    no_reviews_error,
    tar_reviews,
)
from sentiment_rnn.data.labels import (
    DEFAULT_CLASSES,
    LabelScheme,
    fixed_scheme,
    label_scheme,
)
from sentiment_rnn.errors import SentimentError

BATCH_ROWS = 8192  # rows per batch: large enough for fast NumPy batches, small enough to stay flat


@dataclass
class Batch:
    """Up to ``BATCH_ROWS`` consecutive rows of the input.

    Attributes:
        frame: every column of these rows, as read (n rows).
        texts: the text of each row, "" where missing (n,).
        kept: indices into the rows of those with text and a label, when labels were asked for; else None.
        labels: int32 classes of the ``kept`` rows (len(kept),), or None.
        skipped: rows of this batch left out for blank text (labelled reading only).
        bytes_read: how many bytes of the input have been read so far.
    """

    frame: object
    texts: list[str]
    kept: np.ndarray | None = None
    labels: np.ndarray | None = None
    skipped: int = 0
    bytes_read: int = 0


def input_paths(data_config) -> list[Path]:
    """The files a ``[data]`` section reads (a directory counts its files), for :func:`input_size`."""
    paths = [Path(p) for p in (data_config.pos, data_config.neg) if p] or [Path(data_config.path)]
    return [f for p in paths for f in (sorted(x for x in p.rglob("*") if x.is_file()) if p.is_dir() else [p])]


def input_size(data_config) -> int:
    """Total bytes of the files :func:`read_batches` will read (0 for a missing path)."""
    return sum(p.stat().st_size for p in input_paths(data_config) if p.exists())


def read_batches(
    data_config, labelled: bool, batch_rows: int = BATCH_ROWS, *, classes: tuple[str, ...] = DEFAULT_CLASSES
) -> Iterator[Batch]:
    """Read the data a ``[data]`` section names, ``batch_rows`` rows at a time.

    Args:
        data_config: the ``[data]`` section (path or pos/neg, format, split,
            columns, encoding, on_empty, the classes or label map).
        labelled: parse the label column and skip (and count) rows with blank
            text, or refuse them with ``on_empty = "error"``, as ``read_dataset``
            does; without it the label column is not needed and every row is kept.
        classes: the classes to label rows by when the section names none (a model's:
            data read a batch at a time cannot learn them).

    Raises:
        SentimentError: as ``read_dataset`` (a missing column, a bad label, an
        undecodable line, a malformed file, no examples at all).
    """
    data = data_config
    scheme = label_scheme(data)
    scheme = fixed_scheme(classes) if scheme.learning else scheme
    if data.sources:
        offset = 0  # bytes of the sources before this one, so bytes_read keeps growing
        for source in data.sources:
            batch = None
            for batch in _read_batches(source, labelled, batch_rows, scheme):
                yield dataclasses.replace(batch, bytes_read=offset + batch.bytes_read)
            offset += batch.bytes_read if batch is not None else 0
        return
    yield from _read_batches(data, labelled, batch_rows, scheme)


def _read_batches(data, labelled: bool, batch_rows: int, scheme: LabelScheme) -> Iterator[Batch]:
    """:func:`read_batches` of one source (no ``data.sources``), its labels read by ``scheme``."""
    if data.skip_every:
        raise SentimentError(
            f"data.skip_every = {data.skip_every} picks a training split; evaluate and predict --data read every row: "
            "drop data.skip_every."
        )
    check_encoding(data.encoding)
    check_on_empty(data.on_empty)
    if data.pos or data.neg:
        if not labelled:
            raise SentimentError("--pos and --neg name labelled files: pass --data FILE to score unlabelled texts.")
        if data.path:
            raise SentimentError("Both a data path and --pos/--neg were given: pass either --data or --pos and --neg.")
        if not (data.pos and data.neg):
            raise SentimentError("Only one of --pos and --neg was given: pass both, one file of texts for each label.")
        reject_split(data.split or None, "--pos/--neg files")
        reject_mapping(scheme, "--pos/--neg files, which label by file")
        batches, source = _pos_neg_batches(Path(data.pos), Path(data.neg), data.encoding, batch_rows), None
        source = f"{data.pos} + {data.neg}"
    else:
        if not data.path:
            raise SentimentError("No data given: pass a data path (--data) or two files with --pos and --neg.")
        path = Path(data.path)
        check_exists(path)
        fmt = resolve_format(path, data.format, data.encoding)
        if fmt == "imdb":
            reject_mapping(scheme, "the IMDB layout, which labels by directory")
            batches = _imdb_batches(path, data.split or None, data.encoding, batch_rows)
            source = f"{path} ({data.split})"
        else:
            reject_split(data.split or None, f"{fmt.upper()} data")
            check_readable_file(path, fmt)
            source = str(path)
            if fmt in LINE_FORMATS:
                batches = _line_batches(path, fmt, data.encoding, batch_rows)
            else:
                label_column = data.label_column if labelled else None
                batches = _table_batches(path, fmt, data.text_column, label_column, data.encoding, batch_rows)
    yield from _checked(batches, source, labelled, data.on_empty, scheme)


def _checked(
    batches: Iterator[tuple[Batch, list, list]],
    source: str,
    labelled: bool,
    on_empty: str,
    scheme: LabelScheme,
):
    """Parse labels (by ``scheme``) and skip blank texts (labelled reading); refuse input without a single
    usable row. Rows whose label a label map leaves out are skipped and counted. Data labelled by file
    (IMDB, --pos/--neg) is negative/positive, matched by name to the scheme's classes."""
    by_file = None
    if labelled and scheme.classes != DEFAULT_CLASSES:
        by_file = [scheme.classes.index(name) if name in scheme.classes else -1 for name in DEFAULT_CLASSES]
    rows = skipped = other_labels = 0
    class_rows = np.zeros(len(scheme.classes), np.int64)
    for batch, raw_labels, wheres in batches:
        rows += len(batch.texts)
        if labelled:
            kept, labels = [], []
            for index, (text, label) in enumerate(zip(batch.texts, raw_labels)):
                if not text.strip():
                    check_empty_text(source, wheres[index], on_empty)
                    batch.skipped += 1
                    continue
                if not isinstance(label, int):
                    number, unit = _label_place(wheres[index])
                    label = scheme.parse(label, number, source, unit, mappable=True)
                elif by_file is not None:
                    label = _class_by_file(by_file, label, source, scheme)
                if label is None:  # outside the label map
                    other_labels += 1
                    continue
                kept.append(index)
                labels.append(label)
            batch.kept = np.asarray(kept, dtype=np.int64)
            batch.labels = np.asarray(labels, dtype=np.int32)
            class_rows += np.bincount(batch.labels, minlength=len(class_rows))
            skipped += batch.skipped
        yield batch
    if labelled:
        check_examples(source, class_rows, skipped, False, other_labels, scheme.classes, scheme.option)
    elif rows == 0:
        raise SentimentError(f"{source} holds no texts: give at least one row.")


def _label_place(where: str) -> tuple[int, str]:
    """The (number, unit) of "row 3" or "line 3", for ``LabelScheme.parse``."""
    unit, number = where.split()[:2]
    return int(number), unit


def _class_by_file(by_file: list[int], label: int, source: str, scheme: LabelScheme) -> int:
    """The class of a row labelled by file (0 negative, 1 positive) among the scheme's classes, by name."""
    if by_file[label] < 0:
        raise SentimentError(
            f"{source} labels texts {DEFAULT_CLASSES[label]} by file, which is not one of the classes "
            f"{', '.join(scheme.classes)}: read it with a negative/positive model."
        )
    return by_file[label]


def _table_batches(path: Path, fmt: str, text_column: str, label_column: str | None, encoding: str, batch_rows: int):
    import pandas as pd

    first_row = 1
    with open_data_file(path) as handle, pandas_read_errors(path, fmt, encoding):
        if fmt == "jsonl":
            reader = contextlib.nullcontext(_json_lines_frames(handle, path, encoding, batch_rows))
        else:
            reader = pd.read_csv(handle, chunksize=batch_rows, **csv_options(fmt, encoding))
        with reader as reader:
            for frame in reader:
                frame.columns = columns = column_names(frame)
                if first_row == 1:
                    if fmt == "glue":
                        text_column = next((c for c in GLUE_TEXT_COLUMNS if c in columns), text_column)
                    check_columns(path, columns, text_column, label_column or text_column)
                texts = [v if type(v) is str else _as_text(v) for v in frame[text_column].tolist()]
                raw_labels = list(frame[label_column]) if label_column else [None] * len(texts)
                wheres = [f"row {first_row + i}" for i in range(len(texts))] if label_column else []
                first_row += len(texts)
                yield Batch(frame, texts, bytes_read=handle.tell()), raw_labels, wheres
    if first_row == 1:
        check_has_rows(path, 0)


def _json_lines_frames(handle, path: Path, encoding: str, batch_rows: int):
    """DataFrames of up to ``batch_rows`` JSON Lines records each (see ``checks.json_records``)."""
    import pandas as pd

    records = []
    for _, record in json_records(handle, path, encoding):
        records.append(record)
        if len(records) == batch_rows:
            yield pd.DataFrame.from_records(records)
            records = []
    if records:
        yield pd.DataFrame.from_records(records)


def _as_text(value) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    return str(value)


def _numbered_lines(path: Path, encoding: str, offset: int = 0) -> Iterator[tuple[int, str, int]]:
    """(line number from 1, line without its ending, bytes read so far); lines end at \\n only."""
    with open_data_file(path) as handle:
        number = 0
        for number, raw in enumerate(handle, start=1):
            try:
                line = raw.decode(encoding)
            except UnicodeDecodeError as exc:
                raise undecodable_error(path, encoding, f"line {number} (byte 0x{raw[exc.start]:02x})") from None
            yield number, line.removesuffix("\n").removesuffix("\r"), offset + handle.tell()


def _line_batches(path: Path, fmt: str, encoding: str, batch_rows: int):
    import pandas as pd

    labels, texts, wheres, done = [], [], [], 0
    for number, line, done in _numbered_lines(path, encoding):
        if not line.strip():
            continue
        label, text = parse_labelled_line(line, fmt, path, number)
        labels.append(label.strip())
        texts.append(text.strip())
        wheres.append(f"line {number}")
        if len(texts) == batch_rows:
            yield Batch(pd.DataFrame({"label": labels, "text": texts}), texts, bytes_read=done), labels, wheres
            labels, texts, wheres = [], [], []
    if texts:
        yield Batch(pd.DataFrame({"label": labels, "text": texts}), texts, bytes_read=done), labels, wheres


def _pos_neg_batches(pos: Path, neg: Path, encoding: str, batch_rows: int):
    import pandas as pd

    offset = 0
    for path, label in ((pos, 1), (neg, 0)):
        check_exists(path)
        check_readable_file(path, "lines")
        texts, wheres, done = [], [], offset
        for number, line, done in _numbered_lines(path, encoding, offset):
            texts.append(line.strip())
            wheres.append(f"line {number} of {path}")
            if len(texts) == batch_rows:
                frame = pd.DataFrame({"text": texts, "label": label})
                yield Batch(frame, texts, bytes_read=done), [label] * len(texts), wheres
                texts, wheres = [], []
        if texts:
            yield (
                Batch(pd.DataFrame({"text": texts, "label": label}), texts, bytes_read=done),
                [label] * len(texts),
                wheres,
            )
        offset = done


def _imdb_batches(path: Path, split: str | None, encoding: str, batch_rows: int):
    """The reviews of ``split``, from a directory (sorted paths) or a tarball (archive order, one pass)."""
    import pandas as pd

    pattern = imdb_member_pattern(path, split)
    names, labels, texts, count, done = [], [], [], 0, 0

    def batch(done: int) -> Batch:
        return Batch(pd.DataFrame({"file": names, "label": labels, "text": texts}), texts, bytes_read=done)

    members = directory_reviews(path, pattern) if path.is_dir() else tar_reviews(path, pattern)
    for name, label, raw, done in members:
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError as exc:
            raise undecodable_error(path, encoding, f"{name} (byte {exc.start})") from None
        names.append(name)
        labels.append(label)
        texts.append(HTML_BREAK.sub(" ", text))
        count += 1
        if len(texts) == batch_rows:
            yield batch(done), labels, names
            names, labels, texts = [], [], []
    if texts:
        yield batch(done), labels, names
    if count == 0:
        raise no_reviews_error(path, split)
