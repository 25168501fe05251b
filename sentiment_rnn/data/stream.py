"""Read a CSV, TSV or JSON Lines file as a ``tf.data`` stream, checked in one pass and split for training.

Streaming (``data.streaming = true``) never holds the file in memory: every
pass reads it again from disk, a few thousand rows at a time.

- CSV and TSV are read by ``tf.data.experimental.CsvDataset`` (quoted fields
  with commas and newlines in CSV; no quoting in TSV, as the in-memory reader),
  JSON Lines by ``tf.data.TextLineDataset`` with one ``json.loads`` a line.
- Rows are numbered from 1 in file order, as in :func:`sentiment_rnn.data.read_dataset`.
  Labels become classes exactly as the in-memory readers make them (the
  ``labels.LabelScheme`` of ``[data]``: the built-in table, named classes, a
  label map, or the classes the file holds): the pass reads each distinct
  label once in Python, and the training stream looks the stripped,
  lowercased label up in the table it built. Rows with blank text are
  skipped and counted (or refused, ``data.on_empty``), and a bad label is the
  same error naming its row.
- The validation split is seeded but cannot be a shuffle of the whole file: row
  ``r`` goes to validation when a fingerprint of ``(seed, r)`` falls below
  ``validation_split``, so the split is about, not exactly, that fraction.
- One streaming pass (:func:`open_stream`) checks the whole file (with the
  checks of ``sentiment_rnn.data.checks``, as the in-memory readers), counts
  rows and labels, and adapts the vocabulary on the training rows (Keras
  ``TextVectorization.update_state`` batch by batch). Its memory is the token
  counts, which grow with the number of distinct words, not with the file.
  Tokenizing is the slow part of that pass: ``data.vocabulary_sample = N``
  adapts on about N training rows instead, a seeded sample spread over the
  whole file (each row is drawn with probability N / estimated rows, the rows
  estimated from the file size and its first lines).
- Training shuffles within a buffer of ``data.shuffle_buffer`` rows, re-drawn
  every epoch; a file sorted by label needs a buffer that spans the sort or a
  shuffled copy of the file.

Batches of similar length (``train.bucket_by_length``) are made by
``sentiment_rnn.training.pipeline.batch_examples``, for streamed and in-memory data alike.

Longer than 400 lines because the one streaming pass checks every row, counts and names the
classes and adapts the vocabulary together; the checks themselves are in ``checks``.
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sentiment_rnn.config import Config
from sentiment_rnn.data.checks import (
    check_columns,
    check_empty_text,
    check_encoding,
    check_examples,
    check_exists,
    check_has_rows,
    check_readable_file,
    field_text,
    first_message_line,
    json_object,
    open_data_file,
    streamed_json_lines_error,
    undecodable_error,
    undecodable_header_error,
)
from sentiment_rnn.data.dataset import BUILTIN_CORPUS, corpus_file
from sentiment_rnn.data.detect import resolve_format
from sentiment_rnn.data.labels import (
    DEFAULT_CLASSES,
    LABEL_VALUES,
    LabelScheme,
    class_counts,
    label_scheme,
    learned_classes,
)
from sentiment_rnn.errors import SentimentError
from sentiment_rnn.text import token_counts

FIELD_DELIMITERS = {"csv": ",", "tsv": "\t"}  # the table formats a stream reads, besides JSON Lines
STREAMING_FORMATS = (*FIELD_DELIMITERS, "jsonl")  # the formats a stream can read (see config.FORMATS)
READ_BATCH = 4096  # rows parsed together (vectorized string ops), then unbatched
# What Python's str.strip() removes, as an RE2 class: ASCII whitespace, the
# information separators U+001C..U+001F, NEL and every Unicode separator (Z*).
STRIPPED_CHARACTERS = r"[\t\n\x{0b}\x{0c}\r\x{1c}-\x{1f}\x{85}\p{Z}]"
DRAW_RESOLUTION = 1_000_000  # fingerprint buckets of a seeded draw (the validation split, the vocabulary sample)


@dataclass(frozen=True)
class RowSource:
    """Where the rows come from: the file, its format, columns and encoding."""

    path: Path
    fmt: str
    text_column: str
    label_column: str
    encoding: str
    column_indices: tuple[int, int] = (0, 1)  # CSV/TSV: positions of the text and label columns
    scheme: LabelScheme = LabelScheme()  # how labels become classes (labels.label_scheme of [data])
    table: dict[str, int] | None = None  # stripped, lowercased label -> class, of every label the pass found

    def batches(self, batch_size: int = READ_BATCH):
        """Batches of ``(row (B,) int64, text (B,) string, label (B,) string, ok (B,) bool)``.

        ``row`` counts data rows from 1 (JSON Lines: file lines, blank ones skipped);
        ``text`` is UTF-8; ``label`` is the raw label ("" where a JSON object has none);
        ``ok`` is False where a JSON line is not an object.
        """
        import tensorflow as tf

        if self.fmt == "jsonl":
            numbered = tf.data.TextLineDataset(str(self.path)).enumerate(start=1)  # numbered by file line
            numbered = numbered.filter(lambda line_number, line: tf.strings.length(tf.strings.strip(line)) > 0)
            numbered = numbered.batch(batch_size)
            return numbered.map(self._parse_json_lines, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        text_index, label_index = self.column_indices
        rows = tf.data.experimental.CsvDataset(
            str(self.path),
            record_defaults=["", ""],
            header=True,
            field_delim=FIELD_DELIMITERS[self.fmt],
            use_quote_delim=self.fmt == "csv",
            select_cols=sorted((text_index, label_index)),
        )
        if text_index > label_index:
            rows = rows.map(lambda label, text: (text, label))
        numbered = rows.enumerate(start=1).batch(batch_size)
        return numbered.map(self._csv_batch, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)

    def _csv_batch(self, row, fields):
        import tensorflow as tf

        text, label = fields
        return row, self._to_utf8(text), self._to_utf8(label), tf.ones_like(row, dtype=tf.bool)

    def _to_utf8(self, strings):
        import tensorflow as tf

        if codecs.lookup(self.encoding).name == "utf-8":
            return strings
        return tf.strings.unicode_transcode(strings, self.encoding, "UTF-8", errors="strict")

    def _parse_json_lines(self, row, lines):
        import tensorflow as tf

        def parse(raw_lines):
            texts, labels, ok = [], [], []
            for raw in raw_lines.numpy():
                record = json_object(raw, self.encoding)
                if record is None:
                    texts.append(b"")
                    labels.append(b"")
                    ok.append(False)
                    continue
                text, label = record.get(self.text_column), record.get(self.label_column)
                texts.append(b"" if text is None else field_text(text).encode("utf-8", "surrogatepass"))
                labels.append(b"" if label is None else field_text(label).encode("utf-8", "surrogatepass"))
                ok.append(True)
            return texts, labels, ok

        text, label, ok = tf.py_function(parse, [lines], [tf.string, tf.string, tf.bool])
        for tensor in (text, label, ok):
            tensor.set_shape(lines.shape)
        return row, text, label, ok


@dataclass(frozen=True)
class StreamedDataset:
    """What the streaming pass found in the file (the rows stay on disk).

    Same summary interface as :class:`sentiment_rnn.data.Dataset`: ``source``,
    ``skipped``, ``len()`` (usable rows), ``classes`` and ``label_counts()``.
    ``counts``: the usable rows of each class.
    """

    source: str
    rows: int
    counts: tuple[int, ...]
    skipped: int
    other_labels: int = 0
    classes: tuple[str, ...] = DEFAULT_CLASSES

    def __len__(self) -> int:
        return self.rows

    @property
    def positives(self) -> int:
        """The rows of class 1 (positive, for two classes)."""
        return self.counts[1]

    def label_counts(self) -> dict[str, int]:
        return class_counts(np.repeat(np.arange(len(self.classes)), self.counts), self.classes)


@dataclass(frozen=True)
class StreamPart:
    """The training or the validation side of a streamed file.

    Attributes:
        rows: usable rows on this side.
        vocabulary: the tokenizer vocabulary adapted on the training side
            (index = token id), or None on the validation side.
        length_counts: with ``train.bucket_by_length``: entry ``k`` is how
            many rows on this side have ``k`` tokens (for the batches a pass holds).
    """

    source: RowSource
    validation: bool
    validation_split: float
    seed: int
    rows: int
    shuffle_buffer: int
    vocabulary: list[str] | None = None
    length_counts: tuple[int, ...] = ()

    def __len__(self) -> int:
        return self.rows

    def examples(self, shuffle_seed: int | None = None):
        """The unbatched stream of ``(text () string, label () float32)`` on this side."""
        import tensorflow as tf

        def keep(row, text, label, ok):
            label_id = label_ids(label, self.source.table)
            selected = (
                ok
                & has_text(text)
                & (label_id >= 0)
                & tf.equal(
                    in_seeded_fraction(row, self.validation_split, self.seed, salt="validation"), self.validation
                )
            )
            return tf.boolean_mask(text, selected), tf.cast(tf.boolean_mask(label_id, selected), tf.float32)

        examples = self.source.batches().map(keep, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True).unbatch()
        examples = examples.apply(tf.data.experimental.assert_cardinality(self.rows))  # Keras then knows the steps
        if shuffle_seed is not None:
            examples = examples.shuffle(self.shuffle_buffer, seed=shuffle_seed, reshuffle_each_iteration=True)
        return examples


def label_ids(labels, table: dict[str, int]):
    """Raw labels (B,) string -> (B,) int32: the class of each, -1 for a label outside ``table``.

    ``table`` maps labels stripped and lowercased (as here, in TensorFlow) to
    their class; the streaming pass builds it from every label the file holds.
    """
    import tensorflow as tf

    keys = tf.strings.lower(strip(labels), encoding="utf-8")
    initializer = tf.lookup.KeyValueTensorInitializer(
        tf.constant(list(table), dtype=tf.string), tf.constant(list(table.values()), dtype=tf.int32)
    )
    return tf.lookup.StaticHashTable(initializer, default_value=-1).lookup(keys)


def strip(strings):
    """``str.strip()`` for a string tensor."""
    import tensorflow as tf

    return tf.strings.regex_replace(strings, f"^{STRIPPED_CHARACTERS}+|{STRIPPED_CHARACTERS}+$", "")


def has_text(texts):
    """True where a text is not blank (the rows the in-memory reader keeps)."""
    import tensorflow as tf

    return tf.strings.length(strip(texts)) > 0


def in_seeded_fraction(rows, fraction: float, seed: int, salt: str):
    """Seeded, per-row draw of a ``fraction`` of the rows: (B,) int64 row numbers -> (B,) bool.

    ``salt`` makes draws for different purposes (``"validation"``, ``"vocabulary"`` sample) independent.
    """
    import tensorflow as tf

    keys = tf.strings.join([salt, tf.strings.as_string(seed), tf.strings.as_string(rows)], separator="/")
    buckets = tf.strings.to_hash_bucket_fast(keys, DRAW_RESOLUTION)
    return buckets < round(fraction * DRAW_RESOLUTION)


def vocabulary_sample_fraction(path: Path, sample_rows: int, probe_lines: int = 1000) -> float:
    """The fraction of rows to adapt the vocabulary on: about ``sample_rows`` of the file's rows (0 = all)."""
    if sample_rows == 0:
        return 1.0
    with open_data_file(path) as handle:
        probe = [len(line) for _, line in zip(range(probe_lines + 1), handle)][1:]
    estimated_rows = path.stat().st_size / max(1.0, sum(probe) / max(1, len(probe)))
    return min(1.0, sample_rows / estimated_rows)


def row_source(config: Config) -> RowSource:
    """Check the file ``config.data`` names and find its columns, reading only the header."""
    data = config.data
    if data.pos or data.neg:
        raise SentimentError(
            "data.streaming reads one CSV, TSV or JSON Lines file, not --pos/--neg files: "
            "set data.streaming = false to read them in memory."
        )
    path = Path(data.path) if data.path else corpus_file(BUILTIN_CORPUS)
    check_exists(path)
    check_encoding(data.encoding)  # before resolve_format, which may decode the first line
    fmt = resolve_format(path, data.format, data.encoding)
    if fmt not in STREAMING_FORMATS:
        raise SentimentError(
            f"data.streaming reads CSV, TSV or JSON Lines, not {fmt} data ({path}): "
            "set data.streaming = false to read it in memory."
        )
    check_readable_file(path, fmt)
    try:
        with open_data_file(path) as handle:
            first = next((line for line in handle if line.strip()), b"").decode(data.encoding)
    except UnicodeDecodeError:
        raise undecodable_header_error(path, data.encoding) from None
    if fmt == "jsonl":
        if json_object(first) is None:
            raise streamed_json_lines_error(path, 1)
        columns = list(json_object(first))
    else:
        header = next(csv.reader([first.rstrip("\r\n")], delimiter=FIELD_DELIMITERS[fmt]), [])
        columns = [column.strip() for column in header]
    check_columns(path, columns, data.text_column, data.label_column)
    indices = (columns.index(data.text_column), columns.index(data.label_column))
    return RowSource(path, fmt, data.text_column, data.label_column, data.encoding, indices, label_scheme(data))


def open_stream(config: Config, tokenizer):
    """Read the file ``config.data`` names once, streaming, and split it.

    The one pass checks every row (labels, encoding), counts rows, labels and
    skipped rows on each side of the validation split, and adapts ``tokenizer``
    (an unadapted ``TextVectorization``) on the training side.

    Returns:
        (StreamedDataset, training StreamPart, validation StreamPart).

    Raises:
        SentimentError: unreadable or malformed file, bad label, one class only,
            too few rows on either side.
    """
    import tensorflow as tf

    source = row_source(config)
    split, seed, encoding = config.train.validation_split, config.train.seed, config.data.encoding
    counts = {"train": 0, "validation": 0, "skipped": 0, "rows_read": 0, "other_labels": 0}
    found: dict[bytes, int | str | None] = {}  # each distinct label (stripped, lowercased): its class, key or None
    rows_of: dict[bytes, int] = {}  # the usable rows of each
    sample_fraction = vocabulary_sample_fraction(source.path, config.data.vocabulary_sample)
    count_lengths = config.train.bucket_by_length
    length_counts = {False: np.zeros(0, dtype=np.int64), True: np.zeros(0, dtype=np.int64)}  # [k]: rows of k tokens

    def with_checks(row, text, label, ok):
        """The texts, and per row what the pass checks and counts (all (B,))."""
        valid_utf8 = tf.equal(tf.strings.unicode_transcode(text, "UTF-8", "UTF-8", errors="replace"), text)
        validation = in_seeded_fraction(row, split, seed, salt="validation")
        in_sample = in_seeded_fraction(row, sample_fraction, seed, salt="vocabulary")
        key = tf.strings.lower(strip(label), encoding="utf-8")
        return text, (row, label, ok, valid_utf8, has_text(text), key, validation, in_sample)

    tokenizer.reset_state()
    batches = source.batches().map(with_checks, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    try:
        for text, per_row in batches.prefetch(2):
            row, label, ok, valid_utf8, text_present, key, validation, in_sample = (t.numpy() for t in per_row)
            if not np.all(ok):
                raise streamed_json_lines_error(source.path, int(row[~ok][0]))
            if not np.all(valid_utf8):
                raise undecodable_error(source.path, encoding, f"row {int(row[~valid_utf8][0])}")
            if not np.all(text_present):
                check_empty_text(source.path, f"row {int(row[~text_present][0])}", config.data.on_empty)
            bad_label = text_present & _parsed(key, text_present, label, row, source, found)
            counts["other_labels"] += int(np.sum(bad_label))
            usable = text_present & ~bad_label
            counts["rows_read"] += len(row)
            counts["skipped"] += int(np.sum(~text_present))
            for usable_key, number in zip(*np.unique(key[usable], return_counts=True)):
                rows_of[usable_key] = rows_of.get(usable_key, 0) + int(number)
            counts["validation"] += int(np.sum(usable & validation))
            counts["train"] += int(np.sum(usable & ~validation))
            training_texts = tf.boolean_mask(text, usable & ~validation & in_sample)
            if training_texts.shape[0]:
                tokenizer.update_state(training_texts)
            for side in length_counts if count_lengths else ():
                lengths = np.bincount(token_counts(tf.boolean_mask(text, usable & (validation == side))).numpy())
                size = max(len(lengths), len(length_counts[side]))
                length_counts[side] = np.pad(length_counts[side], (0, size - len(length_counts[side])))
                length_counts[side][: len(lengths)] += lengths
    except tf.errors.InvalidArgumentError as exc:
        raise SentimentError(
            f"{source.path} is not well-formed {source.fmt.upper()} or not valid {encoding} "
            f"({first_message_line(exc)}): fix the file or pass its encoding."
        ) from None
    rows = counts["train"] + counts["validation"]
    check_has_rows(source.path, counts["rows_read"])
    classes, table = _classes_found(source.scheme, found)
    source = dataclasses.replace(source, table=table)
    class_rows = np.zeros(len(classes), np.int64)
    for found_key, number in rows_of.items():
        class_rows[table[found_key.decode("utf-8")]] += number
    check_examples(
        source.path, class_rows, counts["skipped"], True, counts["other_labels"], classes, source.scheme.option
    )
    if counts["train"] < 2 or counts["validation"] < 1:
        raise SentimentError(
            f"{source.path} has {counts['train']} training and {counts['validation']} validation rows after the "
            "streaming split: streaming needs at least 2 and 1; read small files in memory (data.streaming = false)."
        )
    tokenizer.finalize_state()
    summary = StreamedDataset(
        str(source.path), rows, tuple(int(n) for n in class_rows), counts["skipped"], counts["other_labels"], classes
    )
    buffer = config.data.shuffle_buffer
    vocabulary = list(tokenizer.get_vocabulary())
    lengths = {side: tuple(int(n) for n in counted) for side, counted in length_counts.items()}
    train = StreamPart(source, False, split, seed, counts["train"], buffer, vocabulary, lengths[False])
    validation = StreamPart(source, True, split, seed, counts["validation"], buffer, length_counts=lengths[True])
    return summary, train, validation


def _parsed(key, text_present, label, row, source: RowSource, found: dict) -> np.ndarray:
    """Parse each label of a batch not seen before (into ``found``); (B,) bool: rows whose label a map leaves out.

    ``key`` (B,) holds the labels stripped and lowercased, ``label`` (B,) as read;
    only rows with text are parsed, as the in-memory reader does.
    """
    keys, first = np.unique(key[text_present], return_index=True)
    rows = np.flatnonzero(text_present)[first]
    for new_key, index in zip(keys, rows):
        if new_key not in found:  # raises for a missing label, or one outside named classes
            found[new_key] = source.scheme.parse(
                label[index].decode("utf-8"), int(row[index]), str(source.path), mappable=True
            )
    return np.array([found.get(k, 0) is None for k in key], dtype=bool)


def _classes_found(scheme: LabelScheme, found: dict) -> tuple[tuple[str, ...], dict[str, int]]:
    """(the classes, label -> class table for :func:`label_ids`) once the pass has parsed every distinct label."""
    if not scheme.learning:
        table = {key.decode("utf-8"): value for key, value in found.items() if value is not None}
        return scheme.classes, table
    classes = learned_classes(found.values())
    if classes == DEFAULT_CLASSES:
        return classes, {key.decode("utf-8"): LABEL_VALUES[value] for key, value in found.items()}
    return classes, {key.decode("utf-8"): classes.index(value) for key, value in found.items()}
