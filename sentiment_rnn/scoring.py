"""Scoring files: ``predict --file`` lines and ``predict --data`` tables, streamed batch by batch.

Both read a batch of texts, predict it, and write its lines at once (one
``write`` a batch), so memory stays flat however long the input, and the
output appears as it is computed.

``predict --data`` keeps every input column and adds ``label`` (positive,
negative, or empty for an empty text), ``probability`` (of positive; empty
for an empty text) and ``oov_rate`` (the share of the text's tokens outside
the vocabulary; empty for an empty text); when the input already has a column
of one of those names, the added ones are called ``predicted_label``,
``predicted_probability`` and ``predicted_oov_rate``. For a model of N > 2
classes, ``label`` is the most probable class, ``probability`` its
probability, and a column ``probability_CLASS`` per class follows it. Output is
CSV, TSV or JSON Lines, chosen by the output file's suffix or
``output_format``. A file is written next to its final name and renamed into
place at the end, so a failed run leaves nothing half-written.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import numpy as np

from sentiment_rnn.artifact.model_directory import ModelIdentity
from sentiment_rnn.budget import MAX_TEXT_CHARS
from sentiment_rnn.data.labels import DEFAULT_CLASSES, DEFAULT_THRESHOLD, predicted_classes, top_probability
from sentiment_rnn.errors import SentimentError

OUTPUT_FORMATS = ("csv", "tsv", "jsonl")
SUFFIX_FORMATS = {".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
LINE_BATCH = 8192  # lines of --file per batch
READ_CHARS = 1 << 20  # characters of --file read at once
STDOUT = "-"


def labels_of(probabilities: np.ndarray, threshold: float, classes: tuple[str, ...] = DEFAULT_CLASSES) -> np.ndarray:
    """The label of each answer, (n,) str: "positive" where a probability (n,) is at or above ``threshold``,
    else "negative" (``classes[1]``, ``classes[0]``); of probabilities (n, N), the most probable class."""
    return np.array(classes, dtype=object)[predicted_classes(probabilities, threshold)].astype(str)


def batches_of_lines(texts: Iterable[str], file: TextIO | None = None, size: int | None = None) -> Iterator[list[str]]:
    """Lists of up to ``size`` (default ``LINE_BATCH``) texts: ``texts``, then the lines of ``file``.

    The file is read in blocks of 1 MiB and split at newlines (a line's
    ``\r\n`` or ``\n`` ending removed), never line by line.

    Raises:
        SentimentError: the file is not valid UTF-8.
    """
    size = size or LINE_BATCH
    pending = list(texts)
    rest = ""
    line = 0  # lines of the file read so far
    while file is not None:
        try:
            block = file.read(READ_CHARS)
        except UnicodeDecodeError:
            raise SentimentError(f"{file.name} is not valid UTF-8: convert it to UTF-8 first.") from None
        if not block:
            if rest:
                pending.append(rest.removesuffix("\r"))
            break
        lines = (rest + block).split("\n")
        rest = lines.pop()
        line += len(lines)
        if len(rest) > MAX_TEXT_CHARS:  # a line that never ends (a file of one huge line) is refused as it grows
            raise SentimentError(
                f"{file.name}, line {line + 1:,} is longer than {MAX_TEXT_CHARS:,} characters: predict reads one "
                "text a line; split it, or read one long document with --stream."
            )
        if "\r" in block:
            lines = [line.removesuffix("\r") for line in lines]
        pending += lines
        while len(pending) >= size:
            yield pending[:size]
            del pending[:size]
    while pending:
        yield pending[:size]
        del pending[:size]


def format_lines(
    texts: list[str],
    probabilities: np.ndarray,
    threshold: float,
    as_json: bool,
    oov_rates: np.ndarray | None = None,
    model: ModelIdentity | None = None,
    ascii: bool = False,
    classes: tuple[str, ...] = DEFAULT_CLASSES,
) -> str:
    """The output of ``predict`` for a batch, every line ending in a newline.

    Text: ``label  probability  text`` (probability to 4 decimals); JSON: one
    object per line with ``text``, ``label``, ``probability`` (for N > 2 classes,
    ``probabilities`` too), ``oov_rate`` (``oov_rates`` (n,), required for JSON)
    and (given) the ``model`` answering, as ``finite.dumps`` of ``Prediction.to_dict()``
    writes it (``ascii``: non-ASCII characters escaped, for an output that cannot carry
    them). The probabilities are numbers in [0, 1] (``inference.predict_proba`` refuses any other).
    """
    labels = labels_of(probabilities, threshold, classes).tolist()
    values = top_probability(probabilities).tolist()
    if as_json and np.ndim(probabilities) == 2:  # N > 2 classes: every class's probability, by name
        from sentiment_rnn.finite import dumps
        from sentiment_rnn.inference import Prediction, labelled

        lines = []
        for t, p, r in zip(texts, probabilities, oov_rates.tolist()):
            label, probability, every = labelled(p, classes)
            lines.append(dumps(Prediction(t, probability, label, r, model, every).to_dict(), ascii=ascii) + "\n")
    elif as_json:
        from json.encoder import encode_basestring, encode_basestring_ascii  # the C escapers of json.dumps

        from sentiment_rnn.finite import dumps

        escape = encode_basestring_ascii if ascii else encode_basestring
        end = "}\n" if model is None else f', "model": {dumps(model.to_dict(), ascii=ascii)}}}\n'
        lines = [
            f'{{"text": {escape(t)}, "label": {escape(label)}, "probability": {p!r}, "oov_rate": {r!r}{end}'
            for t, label, p, r in zip(texts, labels, values, oov_rates.tolist())
        ]
    else:
        lines = [f"{label:<8}  {p:.4f}  {t}\n" for t, label, p in zip(texts, labels, values)]
    return "".join(lines)


def score_lines(
    model_dir,
    texts: Iterable[str],
    file: TextIO | None,
    out: TextIO,
    as_json: bool = False,
    threshold: float = DEFAULT_THRESHOLD,
    engine: str = "numpy",
    on_batch: Callable[[int], None] | None = None,
    with_oov: bool = False,
) -> LinesSummary:
    """Predict ``texts`` and then each line of ``file`` (one text a line), writing the results to ``out`` as they come.

    Args:
        on_batch: called with the number of lines after each batch is written.
        with_oov: (JSON only) add each text's ``unknown_tokens`` (see ``inference.unknown_words``).

    Returns:
        how many texts were scored, and how many of them had most tokens outside the vocabulary.
    """
    from sentiment_rnn.artifact.model_directory import as_model_directory
    from sentiment_rnn.finite import dumps, is_unicode_stream
    from sentiment_rnn.inference import (
        MOSTLY_UNKNOWN,
        Prediction,
        check_threshold,
        labelled,
        oov_rates,
        predict_proba,
        unknown_words,
    )

    ascii = not is_unicode_stream(out)
    directory = as_model_directory(model_dir)
    model = directory.identity
    classes = directory.classes
    check_threshold(threshold, classes)
    count = mostly_unknown = 0
    for batch in batches_of_lines(texts, file):
        probabilities = predict_proba(directory, batch, engine=engine)
        rates = oov_rates(directory, batch, engine)
        if with_oov:
            answers = [labelled(p, classes, threshold) for p in probabilities]
            rows = zip(batch, answers, rates.tolist(), unknown_words(directory, batch))
            out.write(
                "".join(
                    dumps(
                        {
                            **Prediction(t, p, label, rate, model, every).to_dict(),
                            "unknown_tokens": words["unknown_tokens"],
                        },
                        ascii=ascii,
                    )
                    + "\n"
                    for t, (label, p, every), rate, words in rows
                )
            )
        else:
            out.write(format_lines(batch, probabilities, threshold, as_json, rates, model, ascii, classes))
        count += len(batch)
        mostly_unknown += int(np.sum(rates > MOSTLY_UNKNOWN))
        if on_batch is not None:
            on_batch(len(batch))
    out.flush()
    return LinesSummary(count, mostly_unknown)


@dataclass(frozen=True)
class LinesSummary:
    """What ``score_lines`` did: ``texts`` scored, ``mostly_unknown`` of them with most tokens unknown."""

    texts: int
    mostly_unknown: int = 0


@dataclass(frozen=True)
class ScoreSummary:
    """What ``score_table`` did: ``rows`` scored, ``empty`` of them with no text, written to ``output``;
    ``mostly_unknown`` rows had most tokens outside the vocabulary."""

    rows: int
    empty: int
    output: str
    mostly_unknown: int = 0


def output_format_for(output: str, output_format: str | None) -> str:
    """The output format: ``output_format`` if given, else by the output file's suffix; stdout defaults to CSV."""
    if output_format is not None:
        if output_format not in OUTPUT_FORMATS:
            raise SentimentError(f"Unknown output format {output_format!r}: pass one of {', '.join(OUTPUT_FORMATS)}.")
        return output_format
    if output == STDOUT:
        return "csv"
    suffix = Path(output).suffix.lower()
    if suffix not in SUFFIX_FORMATS:
        raise SentimentError(
            f"Cannot tell the output format of {output} from its suffix {suffix or '(none)'}: "
            "name it .csv, .tsv or .jsonl, or pass --output-format csv, tsv or jsonl."
        )
    return SUFFIX_FORMATS[suffix]


def score_table(
    model_dir,
    data_config,
    output: str,
    output_format: str | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    engine: str = "numpy",
    on_progress: Callable[[int], None] | None = None,
) -> ScoreSummary:
    """Score every row of the data ``data_config`` names and write it, with its prediction, to ``output``.

    Args:
        data_config: a ``[data]`` section (path, format, split, text_column, encoding).
        output: a file path, or "-" for standard output.
        output_format: csv, tsv or jsonl; None chooses by the suffix of ``output``.
        on_progress: called with the bytes of input read since the last call
            (a bar of length ``batches.input_size(data_config)``).

    Raises:
        SentimentError: unreadable data, an unknown output format, an output that cannot be written.
    """
    from sentiment_rnn.artifact.model_directory import open_model_dir
    from sentiment_rnn.data.batches import read_batches
    from sentiment_rnn.inference import MOSTLY_UNKNOWN, check_engine, check_threshold, oov_rates, predict_proba

    check_engine(engine)
    fmt = output_format_for(output, output_format)
    directory = open_model_dir(model_dir)
    classes = directory.classes
    check_threshold(threshold, classes)
    rows = empty = done = mostly_unknown = 0
    with _output(output) as out:
        for number, batch in enumerate(read_batches(data_config, labelled=False)):
            frame = batch.frame
            has_text = np.array([bool(t.strip()) for t in batch.texts], dtype=bool)
            shape = (len(batch.texts),) if len(classes) == 2 else (len(batch.texts), len(classes))
            probabilities, rates = np.full(shape, np.nan), np.full(len(batch.texts), np.nan)
            texts = [t for t, keep in zip(batch.texts, has_text) if keep]
            probabilities[has_text] = predict_proba(directory, texts, engine=engine)
            rates[has_text] = oov_rates(directory, texts, engine)
            label_column, probability_column, oov_column = _added_columns(list(frame.columns))
            labels = labels_of(np.nan_to_num(probabilities), threshold, classes)
            frame[label_column] = np.where(has_text, labels, "")
            frame[probability_column] = top_probability(probabilities).round(6)
            if len(classes) > 2:  # every class's probability, after the top one's
                for index, name in enumerate(classes):
                    frame[f"{probability_column}_{name}"] = probabilities[:, index].round(6)
            frame[oov_column] = rates.round(6)
            _write_frame(frame, out, fmt, header=number == 0)
            rows += len(frame)
            empty += int((~has_text).sum())
            mostly_unknown += int(np.sum(rates[has_text] > MOSTLY_UNKNOWN))
            if on_progress is not None:
                on_progress(batch.bytes_read - done)
            done = batch.bytes_read
    return ScoreSummary(rows, empty, output, mostly_unknown)


ADDED_COLUMNS = ("label", "probability", "oov_rate")


def _added_columns(columns: list[str]) -> tuple[str, str, str]:
    """The names of the columns ``score_table`` adds: ``ADDED_COLUMNS``, each prefixed ``predicted_`` when one
    of them is already an input column."""
    taken = any(name in columns for name in ADDED_COLUMNS)
    return tuple(f"predicted_{name}" if taken else name for name in ADDED_COLUMNS)


def _write_frame(frame, out: TextIO, fmt: str, header: bool) -> None:
    if fmt == "jsonl":
        text = frame.to_json(orient="records", lines=True, force_ascii=False)
        out.write(text if text.endswith("\n") else text + "\n")
        return
    import csv

    if fmt == "tsv":  # read back without quoting, as the TSV reader does: no tab or newline inside a field
        frame = frame.replace(r"[\t\r\n]", " ", regex=True)
        frame.to_csv(out, sep="\t", index=False, header=header, quoting=csv.QUOTE_NONE, escapechar="\\")
        return
    frame.to_csv(out, index=False, header=header, lineterminator="\n")


class _output:
    """The output stream: stdout, or ``atomic.replaced_file`` of ``path`` (renamed into place once complete,
    keeping an existing file's permissions, nothing left behind on a failure)."""

    def __init__(self, path: str):
        self.path = path
        self.replaced = None

    def __enter__(self) -> TextIO:
        from sentiment_rnn.artifact.atomic import replaced_file

        if self.path == STDOUT:
            return sys.stdout
        target = Path(self.path)
        if target.is_dir():
            raise SentimentError(f"Output {target} is a directory: pass a file name such as scored.csv.")
        if not target.parent.is_dir():
            raise SentimentError(
                f"Cannot write {target}: the directory {target.parent} does not exist; create it first."
            )
        self.replaced = replaced_file(target, option="--output", newline="")
        return self.replaced.__enter__()

    def __exit__(self, exc_type, exc, traceback):
        if self.path == STDOUT:
            sys.stdout.flush()
            return None
        return self.replaced.__exit__(exc_type, exc, traceback)
