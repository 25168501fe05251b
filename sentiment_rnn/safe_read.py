"""The one way to open a file sentiment-rnn did not just write: every reader of the package goes through here.

A file the tool reads (a model directory's files, a config, data, word
vectors, texts to predict, a resume backup) may be anything: a FIFO that
blocks forever, ``/dev/zero`` that never ends, a symlink to another user's
file, a JSON document nested a million levels deep. :func:`open_file`
accepts only what the caller can use:

- **regular files only**: the path is opened with ``O_NONBLOCK`` (so opening
  a FIFO cannot block) and ``fstat`` of the open descriptor must say regular
  file; a FIFO, socket, device or directory is refused, naming what it is;
- **no symlink inside a model directory**: with ``inside=DIR`` every
  component below ``DIR`` is opened with ``O_NOFOLLOW`` relative to its
  parent, so ``metrics.json -> ~/secret.json`` is refused, never read or
  served (``DIR`` itself may be a link, as the user chose it);
- **a size cap per kind of file** (:class:`Kind`): checked against ``fstat``
  before a byte is read, and again while reading (a file may grow);
- **a line-length cap** for text data: a line longer than the cap is refused
  when it is read, so a file without newlines cannot fill the memory.

:func:`read_json` parses with a nesting-depth cap and checks the document
against a small schema (``jsondoc``) before any field is used: wrong
types and ranges are one-line errors naming the field, not a traceback in
the code that uses them. Every refusal is a :class:`SentimentError` of one
line: ``PATH is a FIFO (named pipe), not a regular file: FIX.``
"""

from __future__ import annotations

import errno
import hashlib
import io
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from sentiment_rnn import jsondoc
from sentiment_rnn.errors import SentimentError

KiB, MiB, GiB = 1 << 10, 1 << 20, 1 << 30


@dataclass(frozen=True)
class Kind:
    """A kind of file the tool reads: what to call it, and how large it and its lines may be.

    Attributes:
        name: how a message names it, e.g. ``"meta.json"`` or ``"data file"``.
        max_bytes: the most bytes the whole file may hold; None for data read as a stream.
        max_line: the most bytes one line may hold (text read line by line); None: not read by lines.
    """

    name: str
    max_bytes: int | None
    max_line: int | None = None


# Caps per kind of file: far above what the tool writes (a 150,000-token vocabulary is 2 MB, a
# meta.json 2 KB), far below what would hurt.
MODEL_JSON = Kind("model directory JSON file", 4 * MiB)  # meta, metrics, engine, build, classes, resume state
MANIFEST = Kind("manifest", 16 * MiB)
VOCABULARY = Kind("vocabulary", 256 * MiB)
WIDE_VOCABULARY = Kind("n-gram vocabulary", 1 * GiB)
WEIGHTS = Kind("weights file", 16 * GiB)  # weights.npz, model.keras, the backup's weights
HISTORY = Kind("history.csv", 64 * MiB)
CONFIG = Kind("config file", 4 * MiB)
MAX_DATA_LINE = 16 * MiB  # one line (a CSV row, a JSON Lines record, a text) of data read from a file
DATA = Kind("data file", None, MAX_DATA_LINE)
EMBEDDINGS = Kind("embeddings file", None, MAX_DATA_LINE)
REVIEW = Kind("review", 16 * MiB)  # one review file of the IMDB layout (and a member of its tarball)
ARCHIVE = Kind("archive", None)  # a tarball or gzip file: its members (or lines) are capped as they are read


def file_type(mode: int) -> str | None:
    """What a file of ``st_mode`` ``mode`` is, as a message says it; None for a regular file."""
    for test, name in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a device"),
        (stat.S_ISBLK, "a device"),
        (stat.S_ISLNK, "a symlink"),
    ):
        if test(mode):
            return name
    return None if stat.S_ISREG(mode) else "not a regular file"


def refusal(path: Path | str, reason: str, fix: str) -> SentimentError:
    """The one-line refusal ``PATH REASON: FIX.`` (``fix`` without its full stop)."""
    return SentimentError(f"{path} {reason}: {fix}.")


def os_refusal(path: Path | str, exc: OSError, fix: str) -> SentimentError:
    """The refusal for an OSError opening or reading ``path``: a permission problem is not called damage."""
    if exc.errno in (errno.EACCES, errno.EPERM):
        return refusal(path, f"is not readable ({exc.strerror})", "check its permissions")
    if exc.errno == errno.ELOOP:
        return refusal(path, "is a symlink, and no link is followed inside a model directory", fix)
    if exc.errno == errno.ENOENT:
        return refusal(path, "does not exist", fix)
    if exc.errno == errno.ENOTDIR:
        return refusal(path, "is not inside a directory (a part of its path is a file or a link)", fix)
    return refusal(path, f"is unreadable ({exc.strerror or exc})", fix)


def _open_descriptor(path: Path, inside: Path | None) -> int:
    """A read-only, non-blocking descriptor of ``path``; below ``inside`` no component may be a symlink."""
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    nofollow = getattr(os, "O_NOFOLLOW", 0)
    if inside is None:
        return os.open(path, flags)
    parts = Path(os.path.relpath(path, inside)).parts
    if not parts or parts[0] == os.pardir:
        raise ValueError(f"{path} is not inside {inside}")
    directory = os.open(inside, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        for part in parts[:-1]:
            below = os.open(part, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | nofollow, dir_fd=directory)
            os.close(directory)
            directory = below
        return os.open(parts[-1], flags | nofollow, dir_fd=directory)
    finally:
        os.close(directory)


def open_file(path: str | Path, kind: Kind, fix: str, inside: str | Path | None = None) -> BinaryIO:
    """Open ``path`` for reading in binary, if it is a regular file within ``kind``'s size cap.

    Args:
        path: the file.
        kind: what it is (its caps and its name in messages).
        fix: how to fix a refused file, the end of the message (e.g. ``"retrain the model"``).
        inside: a model directory holding ``path``: no component below it may be a symlink.

    Returns:
        A buffered binary reader; with ``kind.max_line`` its lines are capped, with ``kind.max_bytes`` its size.

    Raises:
        SentimentError: missing, unreadable, not a regular file, a symlink inside ``inside``, too large.
    """
    path = Path(path)
    try:
        descriptor = _open_descriptor(path, Path(inside) if inside is not None else None)
    except OSError as exc:
        raise os_refusal(path, exc, fix) from None
    try:
        status = os.fstat(descriptor)
        what = file_type(status.st_mode)
        if what is not None:
            raise refusal(path, f"is {what}, not a regular file", fix)
        if kind.max_bytes is not None and status.st_size > kind.max_bytes:
            raise too_large(path, kind, fix)
        try:  # regular: reads never block, so blocking mode is back (buffered readers expect it)
            os.set_blocking(descriptor, True)
        except OSError:
            pass
        raw = io.FileIO(descriptor, "rb", closefd=True)
    except BaseException:
        os.close(descriptor)
        raise
    if kind.max_line is None:
        return io.BufferedReader(raw)  # seekable (zip archives need it); read_bytes caps what it reads
    return capped(raw, path, kind, fix)


def capped(stream, path: Path | str, kind: Kind, fix: str) -> BinaryIO:
    """A buffered reader of the binary ``stream`` (a file, or what a gzip file decompresses) refusing a line over
    ``kind.max_line`` bytes as it is read."""
    return io.BufferedReader(CappedReader(stream, Path(path), kind, fix), buffer_size=64 * KiB)


def too_large(path: Path, kind: Kind, fix: str) -> SentimentError:
    return refusal(path, f"is larger than {size_name(kind.max_bytes)}, the most a {kind.name} may hold", fix)


def size_name(size: int) -> str:
    """``16 MiB``, ``4 GiB``, ``512 bytes``: a cap as a message says it."""
    for unit, name in ((GiB, "GiB"), (MiB, "MiB"), (KiB, "KiB")):
        if size >= unit and size % unit == 0:
            return f"{size // unit:,} {name}"
    return f"{size:,} bytes"


class CappedReader(io.RawIOBase):
    """A raw reader refusing, as it reads, a file over ``kind.max_bytes`` or a line over ``kind.max_line``."""

    def __init__(self, raw, path: Path, kind: Kind, fix: str):
        self.raw, self.path, self.kind, self.fix = raw, path, kind, fix
        self.total = 0  # bytes read
        self.line = 0  # bytes since the last newline
        self.lines = 1  # the number of the line being read

    def readable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self.raw.fileno()

    def tell(self) -> int:
        return self.total

    def close(self) -> None:
        self.raw.close()
        super().close()

    def readinto(self, buffer) -> int:
        limit = len(buffer) if self.kind.max_line is None else min(len(buffer), self.kind.max_line)
        count = self.raw.readinto(memoryview(buffer)[:limit])
        if not count:
            return count or 0
        self.total += count
        if self.kind.max_bytes is not None and self.total > self.kind.max_bytes:
            raise too_large(self.path, self.kind, self.fix)
        if self.kind.max_line is not None:
            self._count_lines(bytes(memoryview(buffer)[:count]))
        return count

    def _count_lines(self, chunk: bytes) -> None:
        """Track the current line's length over ``chunk`` (at most ``max_line`` bytes: two finds suffice)."""
        first = chunk.find(b"\n")
        if first < 0:
            self.line += len(chunk)
        else:
            if self.line + first > self.kind.max_line:
                self.line += first
            else:
                self.lines += chunk.count(b"\n")
                self.line = len(chunk) - chunk.rfind(b"\n") - 1
                return
        if self.line > self.kind.max_line:
            raise SentimentError(
                f"{self.path}, line {self.lines:,} is longer than {size_name(self.kind.max_line)}, the most one line "
                f"of a {self.kind.name} may hold: shorten it, or check that this is the file you meant."
            )


def read_bytes(path: str | Path, kind: Kind, fix: str, inside: str | Path | None = None) -> bytes:
    """The bytes of ``path``, opened by :func:`open_file` (same checks and caps)."""
    with open_file(path, kind, fix, inside) as handle:
        try:
            data = handle.read() if kind.max_bytes is None else handle.read(kind.max_bytes + 1)
        except OSError as exc:
            raise os_refusal(path, exc, fix) from None
    if kind.max_bytes is not None and len(data) > kind.max_bytes:  # it grew, or fstat did not tell (/proc)
        raise too_large(Path(path), kind, fix)
    return data


def read_text(path: str | Path, kind: Kind, fix: str, inside: str | Path | None = None, encoding="utf-8") -> str:
    """The text of ``path`` (strict ``encoding``), opened by :func:`open_file`."""
    data = read_bytes(path, kind, fix, inside)
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise refusal(path, f"is not valid {encoding} (byte {exc.start:,})", fix) from None


def read_json(
    path: str | Path, kind: Kind, fix: str, schema: jsondoc.Schema | None = None, inside: str | Path | None = None
) -> Any:
    """The JSON document in ``path``: opened by :func:`open_file`, parsed with a depth cap, checked by ``schema``.

    Raises:
        SentimentError: as :func:`open_file`; ``PATH is unreadable (REASON): FIX.`` for text that is
            not JSON (or nested deeper than ``jsondoc.MAX_DEPTH``); ``PATH is damaged (FIELD ...): FIX.``
            for a document ``schema`` refuses.
    """
    text = read_text(path, kind, fix, inside)
    try:
        document = jsondoc.loads(text)
    except ValueError as exc:
        raise refusal(path, f"is unreadable ({jsondoc.reason(exc)})", fix) from None
    if schema is not None:
        problem = schema.problem(document)
        if problem is not None:
            raise refusal(path, f"is damaged ({problem})", fix)
    return document


HASHED = Kind("data file", None)  # read whole for a digest, not by lines: no cap on lines


def regular_files(directory: Path) -> list[Path]:
    """The regular files under ``directory``, sorted, as the IMDB reader finds them: no symlink followed."""
    return sorted(
        Path(parent) / name
        for parent, _, names in os.walk(directory, followlinks=False)
        for name in names
        if stat.S_ISREG(os.lstat(Path(parent) / name).st_mode)
    )


def hash_contents(digest: Any, path: Path) -> None:
    """Add the bytes of file ``path`` to hashlib object ``digest`` (of a directory: each regular file's name, its bytes).

    What ``--resume`` compares: the data's contents, never its paths or modification times, so a run
    resumes after its data was copied again or moved (hashing reads about 1 GB/s, a small part of one epoch).
    Files are opened through ``safe_read`` (regular files only: a FIFO is refused, never waited on).
    """
    inside = path if path.is_dir() else None
    for member in regular_files(path) if inside else [path]:
        digest.update(f"{member.relative_to(path)}\n".encode("utf-8", "surrogatepass"))
        with open_file(member, HASHED, "pass regular files to --data", inside) as stream:
            digest.update(hashlib.file_digest(stream, "sha256").digest())
