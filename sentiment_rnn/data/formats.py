"""Read labelled datasets in their native formats into texts and class labels.

``read_dataset`` is the one entry point. Formats (``format=``):

    csv, tsv, jsonl  a header row, then a text and a label column
    glue             GLUE-style TSV: header ``sentence<TAB>label`` (or ``text``), no quoting
    fasttext         one example a line: ``__label__1 the text``
    label-text       one example a line: ``1 the text`` (label, one space, text)
    imdb             the IMDB layout ``{train,test}/{pos,neg}/*.txt``, as a
                     directory or a ``.tar.gz`` read without unpacking; ``split``
                     chooses ``train`` or ``test``; ``<br />`` becomes a space
    pos/neg files    two files of one text a line, labelled by file (``pos=``, ``neg=``)

With ``format="auto"`` the format is guessed from the path (see ``detect``).
Labels become classes by a ``labels.LabelScheme``: the built-in 0/1 table,
classes named in the config, a label map, or the classes the data holds.
"""

from __future__ import annotations

import csv
import dataclasses
from pathlib import Path

import numpy as np

from sentiment_rnn.config import LINE_FORMATS
from sentiment_rnn.data.checks import (
    ExampleCollector,
    check_columns,
    check_dataset,
    check_encoding,
    check_exists,
    check_has_rows,
    check_on_empty,
    check_readable_file,
    excerpt,
    json_records,
    open_data_file,
    pandas_read_errors,
    undecodable_file_error,
)
from sentiment_rnn.data.dataset import BUILTIN_CORPUS, Dataset, corpus_file
from sentiment_rnn.data.detect import FASTTEXT_PREFIX, resolve_format
from sentiment_rnn.data.imdb import read_imdb
from sentiment_rnn.data.labels import (
    DEFAULT_CLASSES,
    LABEL_VALUES,
    LEARNED,
    LabelScheme,
    label_scheme,
    learned_classes,
)
from sentiment_rnn.data.sources import every_but, join
from sentiment_rnn.errors import SentimentError

GLUE_TEXT_COLUMNS = ("sentence", "text")


def builtin_corpus() -> Dataset:
    """The built-in corpus of product and phone reviews written for this project."""
    return read_dataset(corpus_file(BUILTIN_CORPUS))


def names_no_data(data) -> bool:
    """Whether a ``[data]`` section names no data of its own (no path, pos/neg or sources): the built-in corpus."""
    return not (data.path or data.pos or data.neg or data.sources)


def dataset_from_config(data_config, require_both_classes: bool = True) -> Dataset:
    """The dataset a ``[data]`` config section names; the built-in corpus when it names none.

    With ``data.sources``, every source is read with its own options and the
    rows are joined in order (``data.sources.join``), all labelled by the
    section's classes (or label map); each source may hold some of the
    classes, the union must hold every one when ``require_both_classes``.
    """
    data = data_config
    scheme = label_scheme(data)
    if data.sources:
        parts = [_read_source(source, scheme) for source in data.sources]
        classes = scheme.classes or learned_classes({name for part in parts for name in part.classes})
        joined = join([resolve_classes(part, scheme, classes) for part in parts])
        return check_dataset(joined, require_both_classes, scheme.option)
    if names_no_data(data):
        return builtin_corpus()
    return _read_source(data, scheme, require_both_classes, resolve=True)


def _read_source(data, scheme: LabelScheme, require_both_classes: bool = False, resolve: bool = False) -> Dataset:
    """One dataset of a ``[data]`` section (or of one of its sources), labelled by ``scheme``.

    Without ``resolve``, learned classes stay the labels found (see :func:`resolve_classes`).
    """
    dataset = read_dataset(
        data.path or None,
        text_column=data.text_column,
        label_column=data.label_column,
        encoding=data.encoding,
        format=data.format,
        require_both_classes=require_both_classes,
        pos=data.pos or None,
        neg=data.neg or None,
        split=data.split or None,
        on_empty=data.on_empty,
        labels=scheme,
        resolve=resolve,
    )
    return every_but(dataset, data.skip_every)


def resolve_classes(dataset: Dataset, scheme: LabelScheme, classes: tuple[str, ...] | None = None) -> Dataset:
    """``dataset`` labelled by its final classes: ``scheme``'s, or ``classes``, or those learned from its labels.

    While learning, a reader labels rows by the label keys it found; here keys
    all of the built-in table (0/1, pos/neg, ...) become negative/positive
    (:func:`~sentiment_rnn.data.labels.learned_classes`). Data labelled by file
    (IMDB, --pos/--neg) is negative/positive, matched by name to named classes.
    """
    if not scheme.learning:
        return dataset.with_classes(scheme.classes)
    classes = classes or learned_classes(dataset.classes)
    if classes == DEFAULT_CLASSES and dataset.classes != DEFAULT_CLASSES:
        index = np.array([LABEL_VALUES[name] for name in dataset.classes], dtype=np.int64)
        labels = index[dataset.labels] if len(dataset.labels) else dataset.labels
        return dataclasses.replace(dataset, labels=labels.astype(np.int32), classes=DEFAULT_CLASSES)
    return dataset.with_classes(classes)


def read_dataset(
    path: str | Path | None = None,
    text_column: str = "text",
    label_column: str = "label",
    encoding: str = "utf-8",
    format: str = "auto",
    require_both_classes: bool = True,
    on_empty: str = "skip",
    *,
    pos: str | Path | None = None,
    neg: str | Path | None = None,
    split: str | None = None,
    labels: LabelScheme | dict[str, int] | None = None,
    resolve: bool = True,
) -> Dataset:
    """Read a labelled dataset in any supported format (see the module docstring).

    Args:
        path: the file, directory or tarball; None when ``pos`` and ``neg`` are given.
        text_column, label_column: column names (table formats only).
        encoding: the files' text encoding, e.g. ``cp1252`` for Windows files.
        format: ``auto`` (guess from the path) or one of ``FORMATS``.
        require_both_classes: refuse data without an example of every class (training needs them all).
        on_empty: what to do with a row (or line, or review) whose text is missing
            or blank: ``"skip"`` it (counted in ``skipped``) or raise an ``"error"``.
        pos, neg: two files of one text a line, all positive and all negative;
            read in that order (positives first).
        split: ``train`` or ``test``, for the IMDB layout only (required there).
        labels: how labels become classes (``labels.label_scheme`` of a config's ``[data]``), or a
            ``--positive``/``--negative`` table (``labels.label_mapping``); None learns the classes
            from the data (0/1, pos/neg, ... give negative/positive). Rows whose label a map leaves
            out are skipped and counted (``other_labels``). A map is not for IMDB or pos/neg files.
        resolve: label the rows by their final classes (see :func:`resolve_classes`); without it,
            learned classes stay the label keys found, to be joined with other sources first.

    Raises:
        SentimentError: with one sentence naming the file (and line) and the fix.
    """
    if labels is None:
        scheme = LEARNED
    elif isinstance(labels, dict):
        scheme = LabelScheme(DEFAULT_CLASSES, labels, mapped=True)
    else:
        scheme = labels
    check_encoding(encoding)
    check_on_empty(on_empty)
    if pos is not None or neg is not None:
        if path is not None:
            raise SentimentError("Both a data path and --pos/--neg were given: pass either --data or --pos and --neg.")
        if pos is None or neg is None:
            raise SentimentError("Only one of --pos and --neg was given: pass both, one file of texts for each label.")
        if format != "auto":
            raise SentimentError(f"--pos and --neg read one text a line; --format {format} does not apply: drop it.")
        reject_split(split, "--pos/--neg files")
        reject_mapping(scheme, "--pos/--neg files, which label by file")
        dataset = _read_pos_neg(Path(pos), Path(neg), encoding, on_empty)
    else:
        if path is None:
            raise SentimentError("No data given: pass a data path (--data) or two files with --pos and --neg.")
        path = Path(path)
        check_exists(path)
        fmt = resolve_format(path, format, encoding)
        if fmt == "imdb":
            reject_mapping(scheme, "the IMDB layout, which labels by directory")
            dataset = read_imdb(path, split, encoding, on_empty)
        else:
            reject_split(split, f"{fmt.upper()} data")
            check_readable_file(path, fmt)
            if fmt in LINE_FORMATS:
                dataset = _read_labelled_lines(path, fmt, encoding, on_empty, scheme)
            else:
                dataset = _read_table(path, fmt, text_column, label_column, encoding, on_empty, scheme)
    if resolve:
        dataset = resolve_classes(check_dataset(dataset, False, scheme.option), scheme)
    return check_dataset(dataset, require_both_classes, scheme.option)


def _read_table(
    path: Path,
    fmt: str,
    text_column: str,
    label_column: str,
    encoding: str,
    on_empty: str = "skip",
    scheme: LabelScheme = LEARNED,
) -> Dataset:
    import pandas as pd

    with open_data_file(path) as handle, pandas_read_errors(path, fmt, encoding):
        if fmt == "jsonl":
            frame = json_lines_frame(handle, path, encoding)
        else:
            frame = pd.read_csv(handle, **csv_options(fmt, encoding))
    if fmt == "glue":
        text_column = next((c for c in GLUE_TEXT_COLUMNS if c in column_names(frame)), text_column)
    return frame_to_dataset(
        frame, str(path), text_column, label_column, require_both_classes=False, on_empty=on_empty, scheme=scheme
    )


def json_lines_frame(lines, path: Path, encoding: str):
    """A DataFrame of JSON Lines records (``checks.json_records`` of ``lines``), one row each, columns in
    first-seen order; a key a record lacks is NaN, as pandas' reader leaves it. Raises on an empty file."""
    import pandas as pd

    records = [record for _, record in json_records(lines, path, encoding)]
    if not records:
        raise pd.errors.EmptyDataError(f"{path} holds no JSON object")
    return pd.DataFrame.from_records(records)


def csv_options(fmt: str, encoding: str) -> dict:
    """The ``pandas.read_csv`` options of a CSV, TSV or GLUE file: every field a string, quotes as the format has them."""
    tab_separated = fmt in ("tsv", "glue")
    return {
        "sep": "\t" if tab_separated else ",",
        "encoding": encoding,
        "dtype": str,
        "keep_default_na": False,
        "quoting": csv.QUOTE_NONE if tab_separated else csv.QUOTE_MINIMAL,
    }


def frame_to_dataset(
    frame,
    source: str,
    text_column: str = "text",
    label_column: str = "label",
    require_both_classes: bool = True,
    on_empty: str = "skip",
    scheme: LabelScheme = LEARNED,
) -> Dataset:
    """Turn a pandas DataFrame into a Dataset, validating columns and labels (see :func:`read_dataset`).

    While ``scheme`` learns the classes, they are the label keys found (see :func:`resolve_classes`).
    """
    check_on_empty(on_empty)
    columns = column_names(frame)
    frame.columns = columns
    check_columns(source, columns, text_column, label_column)
    check_has_rows(source, len(frame))
    examples = ExampleCollector(source, on_empty, scheme)
    for row, (text, label) in enumerate(zip(frame[text_column], frame[label_column]), start=1):
        if text is None or (isinstance(text, float) and np.isnan(text)):
            text = ""
        examples.add(
            str(text),
            lambda label=label, row=row: scheme.parse(label, row, source, mappable=True),
            f"row {row}",
        )
    return check_dataset(examples.build(), require_both_classes, scheme.option)


def column_names(frame) -> list[str]:
    """A DataFrame's column names as read from a header: strings, surrounding whitespace stripped."""
    return [str(column).strip() for column in frame.columns]


def _read_lines(path: Path, encoding: str) -> list[str]:
    """The file's lines without line endings (split on \\n only); a decoding error names the line."""
    with open_data_file(path) as handle:
        data = handle.read()
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        raise undecodable_file_error(path, encoding) from None
    lines = [line.removesuffix("\r") for line in text.split("\n")]
    return lines[:-1] if lines and not lines[-1] else lines


def _read_labelled_lines(path: Path, fmt: str, encoding: str, on_empty: str, scheme: LabelScheme) -> Dataset:
    """fastText (``__label__1 text``) or label-text (``1 text``) lines; blank lines are skipped."""
    examples = ExampleCollector(str(path), on_empty, scheme)
    for number, line in enumerate(_read_lines(path, encoding), start=1):
        if not line.strip():
            continue
        label, text = parse_labelled_line(line, fmt, path, number)
        examples.add(
            text.strip(),
            lambda label=label, number=number: scheme.parse(label, number, str(path), "line", mappable=True),
            f"line {number}",
        )
    return examples.build()


def parse_labelled_line(line: str, fmt: str, path: Path, number: int) -> tuple[str, str]:
    """(label, text) of one non-blank fastText or label-text line (``number`` counts from 1, for the error)."""
    if fmt == "fasttext":
        return _split_fasttext(line, path, number)
    label, sep, text = line.lstrip().partition(" ")
    if not sep:
        raise SentimentError(f"{path}, line {number}: expected a label, a space and a text, got {excerpt(line)}.")
    return label, text


def _split_fasttext(line: str, path: Path, number: int) -> tuple[str, str]:
    words = line.split()
    labels = [w[len(FASTTEXT_PREFIX) :] for w in words if w.startswith(FASTTEXT_PREFIX)]
    if not words[0].startswith(FASTTEXT_PREFIX):
        raise SentimentError(
            f"{path}, line {number}: expected a fastText line such as '__label__1 some text', got {excerpt(line)}."
        )
    if len(labels) != 1:
        raise SentimentError(f"{path}, line {number}: {len(labels)} labels on one line; give each example exactly one.")
    text = line.split(words[0], 1)[1]
    return labels[0], text


def _read_pos_neg(pos: Path, neg: Path, encoding: str, on_empty: str = "skip") -> Dataset:
    """Every non-blank line of ``pos`` is a positive text, of ``neg`` a negative one (positives first)."""
    examples = ExampleCollector(f"{pos} + {neg}", on_empty)
    for path, label in ((pos, 1), (neg, 0)):
        check_exists(path)
        check_readable_file(path, "lines")
        for number, line in enumerate(_read_lines(path, encoding), start=1):
            examples.add(line.strip(), label, f"line {number} of {path}")
    return examples.build()


def reject_mapping(scheme: LabelScheme, what: str) -> None:
    if scheme.mapped:
        raise SentimentError(
            f"{scheme.option.replace(' or ', '/')} map labels read from a file, not {what}: drop them."
        )


def reject_split(split: str | None, what: str) -> None:
    if split is not None:
        raise SentimentError(f"--split applies to the IMDB layout only, not to {what}: drop --split.")
