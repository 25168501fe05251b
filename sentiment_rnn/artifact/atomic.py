"""Atomic directory writes and their locks, for any directory a command replaces.

Saving writes everything to a temporary directory beside the target and
renames it into place only when complete, so an interrupted or failed run
never leaves a half-written directory and never damages the one that was there.
While a run writes ``NAME``, it holds an exclusive lock on ``.NAME.lock``
beside it, so a second run into the same directory is refused; whoever takes
the lock first removes what killed runs left behind (``.NAME.tmp-*``) and puts
back a directory a kill caught in the middle of the final swap.

Only a directory this tool wrote is ever replaced: an empty one, or one of
the kind being written (a :class:`DirectoryKind`: a model directory, with its
marker ``meta.json``, or an evaluation report) that holds nothing but the files
that kind holds. Any other existing directory is refused before anything is
written. A symlink as the target stands for the directory it points to: one
lock, and the link stays a link.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import glob
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from sentiment_rnn.artifact.files import MODEL_DIRECTORY_FILES, is_model_directory
from sentiment_rnn.errors import SentimentError

try:
    import fcntl
except ImportError:  # Windows: no flock
    fcntl = None


@dataclass(frozen=True)
class DirectoryKind:
    """A kind of directory written whole and replaced whole: how to know one, what it may hold, who names it."""

    name: str  # for messages: "sentiment-rnn model directory"
    files: frozenset[str]  # every name it may hold; anything else in it is the user's
    is_ours: Callable[[Path], bool]  # its marker: whether a directory was written as this kind
    option: str = "--out"  # the option that names it, for messages


MODEL_DIRECTORY = DirectoryKind("sentiment-rnn model directory", MODEL_DIRECTORY_FILES, is_model_directory)


@contextlib.contextmanager
def staged_directory(target: str | Path, kind: DirectoryKind = MODEL_DIRECTORY) -> Iterator[Path]:
    """Yield a fresh temporary directory that replaces ``target`` on success.

    On any exception (including KeyboardInterrupt) the temporary directory is
    removed and ``target`` is left as it was. The target's lock is held
    throughout (see :func:`target_lock`).

    Raises:
        SentimentError: ``target`` is a directory this tool did not write as ``kind``
            (see :func:`check_replaceable`).
    """
    target = real_target(target)
    with target_lock(target, kind.option):
        check_replaceable(target, kind)
        try:
            staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=_parent(target)))
            umask = os.umask(0o022)
            os.umask(umask)
            os.chmod(staging, 0o777 & ~umask)  # mkdtemp's 0700 would hide the model from other users
        except OSError as exc:
            raise write_error(exc, target, kind.option) from None
        try:
            os.chmod(staging, 0o777 & ~current_umask())  # mkdtemp makes 0700; a directory mkdir makes follows the umask
            yield staging
            _replace_directory(staging, target)
        except SentimentError:
            raise
        except Exception as exc:
            if is_disk_full(exc, _parent(target)):
                raise write_error(exc, target, kind.option) from None
            raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)


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
    """The one-line refusal of a write into ``target`` (named by ``option``) that failed for a full disk or another
    OS error."""
    if is_disk_full(exc, _parent(target)):
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


def _replace_directory(staging: Path, target: Path) -> None:
    """Move ``staging`` to ``target``; an existing target is swapped out, then removed.

    On Linux the two directories are exchanged in one atomic ``renameat2``
    call. Elsewhere the old one is first renamed to ``.NAME.old-*``; a kill
    between the two renames leaves it there, and the next run that takes the
    lock puts it back (see :func:`_recover_and_clean`).
    """
    if target.exists() and _exchange(staging, target):
        shutil.rmtree(staging, ignore_errors=True)  # now holds the old directory
    elif target.exists():
        retired = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
        os.rename(target, retired / target.name)
        os.rename(staging, target)
        shutil.rmtree(retired, ignore_errors=True)
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


def real_target(target: str | Path) -> Path:
    """``target``, or where it points when it is a symlink: writes replace the real directory, never the link."""
    target = Path(target)
    return Path(os.path.realpath(target)) if target.is_symlink() else target


def check_replaceable(target: Path, kind: DirectoryKind = MODEL_DIRECTORY) -> None:
    """Refuse to replace an existing ``target`` that is not empty and not a directory of ``kind`` holding its files only.

    Raises:
        SentimentError: naming the directory (and the first foreign files) and saying to pass a new path.
    """
    if not target.is_dir():
        return
    names = sorted(entry.name for entry in os.scandir(target))
    if not names:
        return
    if not kind.is_ours(target):
        raise SentimentError(
            f"{target} already exists and is not a {kind.name}: "
            f"pass a new path to {kind.option} (nothing in it was changed)."
        )
    foreign = [name for name in names if name not in kind.files]
    if foreign:
        shown = ", ".join(foreign[:3]) + (", ..." if len(foreign) > 3 else "")
        raise SentimentError(
            f"{target} holds files sentiment-rnn did not write ({shown}): "
            f"move them out or pass a new path to {kind.option} (nothing was changed)."
        )


def _parent(target: Path) -> Path:
    return target.parent if str(target.parent) else Path(".")


def lock_path(target: str | Path) -> Path:
    """The lock file of a model directory: ``.NAME.lock`` beside it (beside the real one, for a symlink)."""
    target = real_target(target)
    return _parent(target) / f".{target.name}.lock"


def backup_path(target: str | Path) -> Path:
    """Where training keeps its per-epoch backup for ``--resume``: ``.NAME.backup`` beside the (real) target."""
    target = real_target(target)
    return _parent(target) / f".{target.name}.backup"


_held_locks: dict[Path, int] = {}


@contextlib.contextmanager
def target_lock(target: str | Path, option: str = "--out") -> Iterator[None]:
    """Hold the exclusive lock of ``target`` (``flock`` on ``.NAME.lock``), re-entrant in one process.

    ``target`` must be a directory or not exist; ``option`` names it in
    messages. The lock file holds the owner's pid and is removed on release;
    the kernel releases the lock of a killed process, so a stale file never
    blocks. Where ``fcntl`` is missing (Windows), nothing is locked.

    Raises:
        SentimentError: another process holds the lock, the parent directory cannot be created, or
            ``target`` is the working directory or holds it.
    """
    given = Path(target)
    target = real_target(given)
    parent = _parent(target)
    _check_target_path(given, target, option)
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SentimentError(f"Cannot create {parent} ({exc.strerror}): choose another {option}.") from None
    path = lock_path(target)
    key = path.resolve()
    if key in _held_locks:
        _held_locks[key] += 1
        try:
            yield
        finally:
            _held_locks[key] -= 1
        return
    descriptor = _acquire(path, target, option)
    _held_locks[key] = 1
    try:
        _recover_and_clean(target)
        yield
    finally:
        del _held_locks[key]
        with contextlib.suppress(OSError):
            os.unlink(path)
        os.close(descriptor)


def check_target(target: str | Path, kind: DirectoryKind = MODEL_DIRECTORY) -> Path:
    """Refuse, before any work is done and without writing anything, a ``target`` :func:`staged_directory` would refuse.

    Returns:
        The real target (see :func:`real_target`).

    Raises:
        SentimentError: as :func:`target_lock` and :func:`check_replaceable` (except for another run's lock).
    """
    given = Path(target)
    target = real_target(given)
    _check_target_path(given, target, kind.option)
    check_replaceable(target, kind)
    return target


def _check_target_path(given: Path, target: Path, option: str) -> None:
    """Refuse a target that names no directory, holds the working directory, or is a file."""
    if target.name in ("", ".", ".."):
        raise SentimentError(f"Output path {given} names no directory: pass a new directory name to {option}.")
    with contextlib.suppress(OSError):
        if target.is_dir() and Path.cwd().resolve().is_relative_to(target.resolve()):
            raise SentimentError(
                f"Output path {given} is the working directory or holds it: pass a new directory name to {option}."
            )
    if target.exists() and not target.is_dir():
        raise SentimentError(f"Output path {target} exists and is not a directory: choose another {option}.")


def _acquire(path: Path, target: Path, option: str) -> int:
    """Open and flock ``path``; retry if a finishing owner unlinked it between our open and flock."""
    while True:
        try:
            descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise SentimentError(
                f"Cannot create the lock file {path} ({exc.strerror}): choose another {option}."
            ) from None
        if fcntl is None:
            return descriptor
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = os.read(descriptor, 32).decode("ascii", "replace").strip() or "unknown"
            os.close(descriptor)
            raise SentimentError(
                f"Another sentiment-rnn run (pid {owner}) is writing {target}: "
                f"wait for it to finish or choose another {option}."
            ) from None
        try:
            current = os.stat(path).st_ino
        except FileNotFoundError:
            current = None
        if current == os.fstat(descriptor).st_ino:
            os.ftruncate(descriptor, 0)
            os.write(descriptor, f"{os.getpid()}\n".encode("ascii"))
            return descriptor
        os.close(descriptor)


def _recover_and_clean(target: Path) -> None:
    """Under the lock: put back a directory stranded mid-swap, remove staging left by killed runs."""
    pattern = f".{glob.escape(target.name)}"
    parent = _parent(target)
    retired = sorted(parent.glob(pattern + ".old-*"))
    if not target.exists():
        for directory in retired:
            if (directory / target.name).is_dir():
                os.rename(directory / target.name, target)
                break
    for stale in [*parent.glob(pattern + ".tmp-*"), *retired]:
        shutil.rmtree(stale, ignore_errors=True)


def write_file_atomically(path: str | Path, text: str) -> None:
    """Write a UTF-8 text file through a temporary file beside it and a rename: never half-written.

    Raises:
        SentimentError: ``path`` is a directory, or its directory does not exist.
    """
    path = Path(path)
    check_file_target(path)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def check_file_target(path: str | Path) -> None:
    """Refuse a file to write that is a directory or whose directory does not exist (before any work is done)."""
    path = Path(path)
    if path.is_dir():
        raise SentimentError(f"Output path {path} is a directory: pass a file name such as tuned.toml.")
    if not path.parent.is_dir():
        raise SentimentError(f"The directory of {path} does not exist: create it first, or choose another path.")
