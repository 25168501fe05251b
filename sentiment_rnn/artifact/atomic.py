"""Atomic directory and file writes, for anything a command replaces.

Saving writes everything to a staging directory beside the target and
renames it into place only when complete, so an interrupted or failed run
never leaves a half-written directory and never damages the one that was
there; the target's lock (``lock``) is held throughout, and records the
staging directory before it is created.

What may be replaced or removed follows ``ownership``: an existing ``NAME``
only when everything in its tree is the tool's (its manifest, or for older
directories without one, the names a :class:`DirectoryKind` held: a model
directory, with its marker ``meta.json``, or an evaluation report); the
staging directory gets a manifest of what it holds before it is swapped in. A single file
(``predict --output``, ``tune --out``, a redrawn plot) is written to a new
temporary file beside it and renamed over it, keeping its permissions.

A symlink as the target stands for the directory it points to: one lock, and
the link stays a link.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import shutil
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from sentiment_rnn.artifact import ownership
from sentiment_rnn.artifact.files import MODEL_DIRECTORY_FILES, is_model_directory
from sentiment_rnn.artifact.lock import Lock, check_target_path, parent_of, real_target, target_lock
from sentiment_rnn.errors import SentimentError


@dataclass(frozen=True)
class DirectoryKind:
    """A kind of directory written whole and replaced whole: how to know one, what it held before manifests,
    who names it."""

    name: str  # for messages: "sentiment-rnn model directory"
    files: frozenset[str]  # every name one written before manifests may hold (see ownership.legacy_foreign_entries)
    is_ours: Callable[[Path], bool]  # its marker: whether a directory was written as this kind
    option: str = "--out"  # the option that names it, for messages


MODEL_DIRECTORY = DirectoryKind(
    "sentiment-rnn model directory", MODEL_DIRECTORY_FILES | ownership.LEGACY_FILES, is_model_directory
)


@contextlib.contextmanager
def staged_directory(target: str | Path, kind: DirectoryKind = MODEL_DIRECTORY) -> Iterator[Path]:
    """Yield a fresh staging directory that replaces ``target`` on success, with a manifest of what it holds.

    On any exception (including KeyboardInterrupt) the staging directory is
    removed and ``target`` is left as it was. The target's lock is held
    throughout (see :func:`target_lock`).

    Raises:
        SentimentError: ``target`` holds anything that is not the tool's as ``kind`` (see :func:`check_replaceable`).
    """
    target = real_target(target)
    with target_lock(target, kind.option) as lock:
        check_replaceable(target, kind)
        try:
            staging = ownership.create_directory(parent_of(target), f".{target.name}.tmp-", record=lock.track)
        except OSError as exc:
            raise write_error(exc, target, kind.option) from None
        try:
            os.chmod(staging, 0o777 & ~current_umask())  # a directory mkdir makes follows the umask
            yield staging
            ownership.write_manifests(staging)
            _replace_directory(staging, target, lock)
        except SentimentError:
            raise
        except Exception as exc:
            if is_disk_full(exc, parent_of(target)):
                raise write_error(exc, target, kind.option) from None
            raise
        finally:
            ownership.remove_tree(staging)  # ours: created above (after a swap it holds the replaced directory)
            lock.untrack(staging.name)


DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)})
LOW_SPACE_BYTES = 1 << 20  # less free space than this (1 MiB) on the target's disk counts as full


def is_disk_full(exc: BaseException, directory: Path) -> bool:
    """Whether ``exc`` came from a full disk: an ENOSPC/EDQUOT OSError, or any error while ``directory``'s
    disk has under :data:`LOW_SPACE_BYTES` free (HDF5 and the PNG writer hide the errno in other types)."""
    if isinstance(exc, OSError) and exc.errno in DISK_FULL_ERRNOS:
        return True
    try:
        return shutil.disk_usage(directory).free < LOW_SPACE_BYTES
    except OSError:
        return False


def write_error(exc: BaseException, target: Path, option: str = "--out") -> SentimentError:
    """The one-line refusal of a write into ``target`` that failed for a full disk or another OS error."""
    if is_disk_full(exc, parent_of(target)):
        what = "the disk is full (no space left on device)"
        fix = f"free some space or choose another {option}"
    else:
        what = getattr(exc, "strerror", None) or str(exc)
        fix = f"check the permissions or choose another {option}"
    kept = "was not changed" if target.exists() else "was not written"
    return SentimentError(f"Cannot write {target}: {what}; {target} {kept}; {fix}.")


def current_umask() -> int:
    """The process's file-mode creation mask, e.g. 0o022 (read without changing it, on Linux)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)  # elsewhere: set and restore (not thread-safe, but brief)
    os.umask(mask)
    return mask


def _replace_directory(staging: Path, target: Path, lock: Lock) -> None:
    """Move ``staging`` to ``target``; an existing target is swapped out, to be removed with ``staging``.

    On Linux the two directories are exchanged in one atomic ``renameat2``
    call. Elsewhere the old one is first renamed into a new ``.NAME.old-*``;
    a kill between the two renames leaves it there, and the next run that
    takes the lock puts it back (see :func:`_recover`).
    """
    if target.exists() and _exchange(staging, target):
        return  # staging now holds the old directory
    if target.exists():
        retired = ownership.create_directory(target.parent, f".{target.name}.old-", record=lock.track)
        os.rename(target, retired / target.name)
        os.rename(staging, target)
        ownership.remove_tree(retired)
        lock.untrack(retired.name)
    else:
        os.rename(staging, target)


def _exchange(first: Path, second: Path) -> bool:
    """Atomically swap two paths with Linux ``renameat2(RENAME_EXCHANGE)``; False where unsupported."""
    at_fdcwd, rename_exchange = -100, 2
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    result = renameat2(at_fdcwd, os.fsencode(first), at_fdcwd, os.fsencode(second), rename_exchange)
    return result == 0


def check_replaceable(target: Path, kind: DirectoryKind = MODEL_DIRECTORY) -> None:
    """Refuse to replace an existing ``target`` unless it is empty or everything in its tree is the tool's.

    See ``ownership``: a tree with a manifest must match it, file by file and
    digest by digest, at any depth; an older directory of ``kind`` without one
    may hold only the files that kind held. A read-only directory is kept too.

    Raises:
        SentimentError: naming the directory (and the first foreign entries) and saying to pass a new path.
    """
    if not ownership.is_real_directory(target):
        return
    with os.scandir(target) as entries:
        if next(entries, None) is None:
            return
    foreign = ownership.foreign_entries(target, kind.files, kind.is_ours)
    if foreign is None:
        raise SentimentError(
            f"{target} already exists and is not a {kind.name}: "
            f"pass a new path to {kind.option} (nothing in it was changed)."
        )
    if foreign:
        raise SentimentError(
            f"{target} holds files sentiment-rnn did not write ({ownership.shown(foreign)}): "
            f"move them out or pass a new path to {kind.option} (nothing was changed)."
        )
    if not os.stat(target).st_mode & 0o222:
        raise SentimentError(
            f"{target} is read-only: make it writable (chmod u+w) to replace it, or pass a new path to {kind.option} "
            "(nothing was changed)."
        )


def check_target(target: str | Path, kind: DirectoryKind = MODEL_DIRECTORY) -> Path:
    """Refuse, before any work is done and without writing anything, a ``target`` :func:`staged_directory` would refuse.

    Returns:
        The real target (see :func:`real_target`).

    Raises:
        SentimentError: as :func:`target_lock` and :func:`check_replaceable` (except for another run's lock).
    """
    given = Path(target)
    target = real_target(given)
    check_target_path(given, target, kind.option)
    check_replaceable(target, kind)
    return target


@contextlib.contextmanager
def replaced_file(path: str | Path, binary: bool = False, option: str = "--out", newline: str | None = None):
    """Yield a handle to a new temporary file that replaces ``path`` once it is completely written.

    The temporary file is created exclusively beside ``path`` (never an
    existing path); on any failure it is removed and ``path`` is left as it
    was. A symlink ``path`` is written through: the file it points to is
    replaced, the link stays. The new file keeps an existing file's
    permissions; a new one gets ``0666`` less the umask, as ``open`` would.

    Args:
        binary: yield a binary handle; else UTF-8 text (with ``newline``).
        option: the option that named ``path``, for the message of a failed write.

    Raises:
        SentimentError: ``path`` is a directory or not a regular file, its directory does not exist, or
            the write failed (a full disk, no permission): one line, nothing left behind.
    """
    target = real_target(path)
    check_file_target(target)
    try:
        existing = os.stat(target)
    except FileNotFoundError:
        existing = None
    if existing is not None and not stat.S_ISREG(existing.st_mode):
        raise SentimentError(f"Output path {path} is not a regular file: pass a file name for {option}.")
    mode = stat.S_IMODE(existing.st_mode) if existing is not None else 0o666 & ~current_umask()
    temporary = target.parent / ownership.fresh_name(f".{target.name}.tmp-")
    try:
        descriptor = ownership.create_file(temporary, 0o600)
    except OSError as exc:
        raise write_error(exc, target, option) from None
    try:
        with os.fdopen(
            descriptor, "wb" if binary else "w", encoding=None if binary else "utf-8", newline=newline
        ) as handle:
            yield handle
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        if isinstance(exc, OSError):
            raise write_error(exc, target, option) from None
        raise


def write_file_atomically(path: str | Path, text: str, option: str = "--out") -> None:
    """Write a UTF-8 text file through :func:`replaced_file`: never half-written.

    Raises:
        SentimentError: ``path`` is a directory, or its directory does not exist, or the write failed.
    """
    with replaced_file(path, option=option) as handle:
        handle.write(text)


def check_file_target(path: str | Path) -> None:
    """Refuse a file to write that is a directory or whose directory does not exist (before any work is done)."""
    path = Path(path)
    if path.is_dir():
        raise SentimentError(f"Output path {path} is a directory: pass a file name such as tuned.toml.")
    if not path.parent.is_dir():
        raise SentimentError(f"The directory of {path} does not exist: create it first, or choose another path.")
