"""Text without labels, for the language model: read, tokenized, counted, and dealt into a token stream.

Files: one text a line (plain or gzip), or any table ``train`` reads.

A path whose name ends in ``.csv``, ``.tsv``, ``.jsonl`` (or ``.ndjson``,
``.json``), a tarball or directory in the IMDB layout, or any path given with
an explicit ``format``, is read as ``train`` reads it, through the streaming
reader (``batches.read_batches``), with the label column ignored. Anything
else is one text a line, UTF-8 (or ``encoding``), gzip-compressed when its
name ends in ``.gz``; blank lines are skipped. ``<br />`` (IMDB's line break)
becomes a space, as the IMDB reader does.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sentiment_rnn import progress, safe_read
from sentiment_rnn.config import DataConfig
from sentiment_rnn.data.checks import check_encoding, check_exists, undecodable_error
from sentiment_rnn.data.detect import FORMATS_BY_SUFFIX, TARBALL_SUFFIXES
from sentiment_rnn.data.imdb import HTML_BREAK
from sentiment_rnn.errors import SentimentError
from sentiment_rnn.text import OOV_TOKEN, PADDING_TOKEN, TEXT_END, tokenize_batch, tokenize_py


def reads_as_table(path: Path, format: str) -> bool:
    """Whether ``path`` is read as ``train`` reads data (a table or the IMDB layout) rather than as lines."""
    name = path.name.lower()
    return (
        format != "auto" or path.is_dir() or name.endswith(TARBALL_SUFFIXES) or path.suffix.lower() in FORMATS_BY_SUFFIX
    )


def read_texts(
    path: str | Path, format: str = "auto", text_column: str = "text", encoding: str = "utf-8"
) -> Iterator[str]:
    """The non-blank texts of one file, in file order, read a block at a time (memory flat).

    Raises:
        SentimentError: a missing file, an undecodable line, a damaged gzip file, or the table
            readers' errors (a missing column, a malformed file).
    """
    path = Path(path)
    check_exists(path)
    check_encoding(encoding)
    if reads_as_table(path, format):
        from sentiment_rnn.data.batches import read_batches

        data = DataConfig(path=str(path), format=format, text_column=text_column, encoding=encoding)
        for batch in read_batches(data, labelled=False):
            yield from (HTML_BREAK.sub(" ", text) for text in batch.texts if text.strip())
        return
    if path.is_dir():
        raise SentimentError(f"{path} is a directory: pass a text file (one text a line) or a data file.")
    compressed = path.name.lower().endswith(".gz")
    fix = "pass one text a line, plain or gzip-compressed"
    number = 0
    try:
        with contextlib.ExitStack() as stack:
            handle = stack.enter_context(
                safe_read.open_file(path, safe_read.ARCHIVE if compressed else safe_read.DATA, fix)
            )
            if compressed:  # lines capped as they are decompressed: a small .gz may hold one endless line
                handle = stack.enter_context(safe_read.capped(gzip.GzipFile(fileobj=handle), path, safe_read.DATA, fix))
            for number, raw in enumerate(handle, start=1):
                try:
                    line = raw.decode(encoding)
                except UnicodeDecodeError as exc:
                    where = f"line {number} (byte 0x{raw[exc.start]:02x})"
                    raise undecodable_error(path, encoding, where) from None
                if line.strip():
                    yield HTML_BREAK.sub(" ", line.strip())
    except (OSError, EOFError, zlib.error) as exc:
        raise SentimentError(
            f"Cannot read {path} after line {number} ({exc}): the file is damaged"
            f"{' or not gzip-compressed' if compressed else ''}; pass one text a line, plain or gzip-compressed."
        ) from None


TEXTS_PER_BLOCK = 512  # texts tokenized at once


@dataclass(frozen=True)
class TextFiles:
    """The unlabelled input of a pretraining run: files read by ``data.unlabelled.read_texts``."""

    paths: tuple[str, ...]
    format: str = "auto"
    text_column: str = "text"
    encoding: str = "utf-8"

    def texts(self) -> Iterator[str]:
        """Every file's non-blank texts, file after file."""
        for path in self.paths:
            yield from read_texts(path, self.format, self.text_column, self.encoding)

    def token_blocks(self) -> Iterator[list[list[str]]]:
        """The texts' tokens (as the classifiers' tokenizer splits them), a block of texts at a time."""
        block: list[str] = []
        for text in self.texts():
            block.append(text)
            if len(block) == TEXTS_PER_BLOCK:
                yield tokens_of(block)
                block = []
        if block:
            yield tokens_of(block)

    def digest(self) -> str:
        """A SHA-256 of the files' contents, in order (``safe_read.hash_contents``), and of how they are read."""
        digest = hashlib.sha256(f"{self.format}\t{self.text_column}\t{self.encoding}\n".encode())
        for path in map(Path, self.paths):
            safe_read.hash_contents(digest, path)
        return digest.hexdigest()


def tokens_of(texts: list[str]) -> list[list[str]]:
    """Each text's tokens: ``text.tokenize_batch`` split at its text ends, or ``tokenize_py`` text by text."""
    flat = tokenize_batch(texts)
    if flat is None:
        return [tokenize_py(text) for text in texts]
    result, current = [], []
    for token in flat:
        if token == TEXT_END:
            result.append(current)
            current = []
        else:
            current.append(token)
    return result


def is_heldout(index: int, every: int) -> bool:
    """Whether text ``index`` (0-based, reading order) is held out for perplexity."""
    return index % every == 0


def heldout_every(config) -> int:
    """One text in this many is held out: ``round(1 / train.validation_split)`` of a ``Config``."""
    return max(2, round(1 / config.train.validation_split))


@dataclass
class Corpus:
    """What a pass over the input found: the vocabulary and the size of each part."""

    vocabulary: list[str]  # index = token id: "" (the text boundary), "[UNK]", then by falling count
    train_texts: int
    train_tokens: int
    heldout_texts: int
    heldout_tokens: int
    unknown_share: float  # the training tokens outside the vocabulary, as a share
    train_windows: int = 0  # batches of :func:`windows` a pass over the training texts gives
    heldout_windows: int = 0  # the same over the held-out texts


def count_corpus(
    files: TextFiles,
    max_tokens: int,
    every: int,
    lanes: int = 1,
    steps: int = 1,
    quiet: bool = True,
    vocabulary: Sequence[str] | None = None,
) -> Corpus:
    """Read the input once: count the training texts' tokens and keep the ``max_tokens - 2`` most frequent.

    Ties in count are broken by the token, so the vocabulary is the same on any machine. The
    batches of ``lanes`` x ``steps`` tokens each part gives (see :func:`windows`) are counted too.
    A given ``vocabulary`` (a language model's, to go on training it) is kept instead.

    Raises:
        SentimentError: no training or no held-out text.
    """
    counts: Counter[str] = Counter()
    texts = [0, 0]  # train, held out
    tokens = [0, 0]
    packers = [LanePacker(lanes, steps), LanePacker(lanes, steps)]
    index = 0
    progress.note(f"Counting the words of {' + '.join(files.paths)}", quiet=quiet)
    for block in files.token_blocks():
        for text_tokens in block:
            part = int(is_heldout(index, every))
            texts[part] += 1
            tokens[part] += len(text_tokens) + 1  # and its boundary
            packers[part].add(len(text_tokens))
            if not part:
                counts.update(text_tokens)
            index += 1
    if texts[0] == 0 or texts[1] == 0:
        raise SentimentError(
            f"{' + '.join(files.paths)} holds {index} non-blank text(s): a language model needs at least "
            f"{every} (one in {every} is held out to measure it); pass more text."
        )
    if vocabulary is None:
        kept = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[: max_tokens - 2]
        vocabulary = [PADDING_TOKEN, OOV_TOKEN, *(token for token, _ in kept)]
    known = sum(counts[token] for token in vocabulary[2:])
    words = sum(counts.values())
    return Corpus(
        list(vocabulary),
        texts[0],
        tokens[0],
        texts[1],
        tokens[1],
        (words - known) / max(words, 1),
        packers[0].windows,
        packers[1].windows,
    )


def encoded_texts(files: TextFiles, vocabulary: Sequence[str], every: int, heldout: bool) -> Iterator[list[int]]:
    """The token ids of the training texts (or, with ``heldout``, the held-out ones), in reading order."""
    from sentiment_rnn.engine.models import Vocabulary

    lookup = Vocabulary(vocabulary).ids.__getitem__
    index = 0
    for block in files.token_blocks():
        for text_tokens in block:
            if is_heldout(index, every) == heldout:
                yield list(map(lookup, text_tokens))
            index += 1


class LanePacker:
    """Deals texts into ``lanes`` streams and cuts them into windows of ``steps`` tokens (see :func:`windows`).

    Each text goes to the lane holding the fewest ids, followed by the text
    boundary; every lane starts with one. Counting by length alone (``ids=None``)
    cuts the same windows without holding any id.
    """

    def __init__(self, lanes: int, steps: int, boundary: int = 0):
        self.steps, self.boundary = steps, boundary
        self.buffers: list[list[int]] = [[boundary] for _ in range(lanes)]
        self.lengths = [1] * lanes
        self.windows = 0  # windows cut so far

    def add(self, length: int, ids: list[int] | None = None) -> list[np.ndarray]:
        """Append a text of ``length`` tokens (its ``ids``, if given); the windows now complete, (lanes, steps + 1)
        int32 each (none when counting by length alone)."""
        shortest = min(range(len(self.lengths)), key=self.lengths.__getitem__)
        self.lengths[shortest] += length + 1
        if ids is not None:
            self.buffers[shortest] += [*ids, self.boundary]
        ready = []
        while min(self.lengths) > self.steps:
            self.windows += 1
            self.lengths = [length - self.steps for length in self.lengths]
            if ids is not None:
                ready.append(np.array([buffer[: self.steps + 1] for buffer in self.buffers], dtype=np.int32))
                for buffer in self.buffers:
                    del buffer[: self.steps]
        return ready


def windows(texts: Iterable[list[int]], lanes: int, steps: int, boundary: int = 0) -> Iterator[np.ndarray]:
    """Deal texts of ids into ``lanes`` streams and cut them into windows: (lanes, steps + 1) int32 each.

    Window ``n`` of a lane continues its window ``n - 1`` (they share one id:
    the last target of one is the first input of the next). What is left when
    the texts end, less than a window in some lane, is dropped.
    """
    packer = LanePacker(lanes, steps, boundary)
    for ids in texts:
        yield from packer.add(len(ids), ids)
