"""The lock of a directory a command writes, and its record of what the run creates beside it.

While a run writes ``NAME``, it holds an exclusive ``flock`` on ``.NAME.lock``
beside it, so a second run into the same directory is refused, naming the
first one's pid. The lock file is also the record of the names the run
creates beside ``NAME`` (``.NAME.tmp-*`` staging, ``.NAME.old-*`` on systems
without an atomic exchange, ``.NAME.backup`` while it is made): each is
written into it before it is created (see ``ownership.create_directory``).
The kernel releases the lock of a killed process; whoever takes the lock
next removes exactly what the killed run recorded, and puts back a
directory a kill caught in the middle of the final swap.

The lock file is created with ``O_CREAT|O_EXCL|O_NOFOLLOW``. One left by a
killed run is taken over only if it is a plain file of this user (no
symlink, no second link) holding such a record; anything else where it
should be is an error, never a target.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path

from sentiment_rnn.artifact import ownership
from sentiment_rnn.errors import SentimentError

try:
    import fcntl
except ImportError:  # Windows: no flock
    fcntl = None


def real_target(target: str | Path) -> Path:
    """``target``, or where it points when it is a symlink: writes replace the real directory, never the link."""
    target = Path(target)
    return Path(os.path.realpath(target)) if target.is_symlink() else target


def parent_of(target: Path) -> Path:
    """The directory holding ``target`` (``.`` for a bare name)."""
    return target.parent if str(target.parent) else Path(".")


def lock_path(target: str | Path) -> Path:
    """The lock file of a model directory: ``.NAME.lock`` beside it (beside the real one, for a symlink)."""
    target = real_target(target)
    return parent_of(target) / f".{target.name}.lock"


def backup_path(target: str | Path) -> Path:
    """Where training keeps its per-epoch backup for ``--resume``: ``.NAME.backup`` beside the (real) target."""
    target = real_target(target)
    return parent_of(target) / f".{target.name}.backup"


class Lock:
    """A held lock on a target, and its file's record of what the run is creating beside the target.

    The file holds the owner's pid on its first line, then one name a line:
    each directory the run is creating beside the target (:meth:`track`
    before creating it, :meth:`untrack` once it is gone or settled).
    """

    def __init__(self, path: Path, descriptor: int):
        self.path = path
        self.descriptor = descriptor
        self.tracked: list[str] = []

    def track(self, name: str) -> None:
        self.tracked.append(name)
        self._write()

    def untrack(self, name: str) -> None:
        if name in self.tracked:
            self.tracked.remove(name)
            self._write()

    def _write(self) -> None:
        record = "".join(f"{line}\n" for line in (str(os.getpid()), *self.tracked)).encode("ascii")
        os.ftruncate(self.descriptor, 0)
        os.pwrite(self.descriptor, record, 0)


_held_locks: dict[str, tuple[int, Lock]] = {}
MAX_LOCK_BYTES = 64 * 1024  # a lock file of the tool's: a pid and a few names


@contextlib.contextmanager
def target_lock(target: str | Path, option: str = "--out") -> Iterator[Lock]:
    """Hold the exclusive lock of ``target`` (``flock`` on ``.NAME.lock``), re-entrant in one process.

    ``target`` must be a directory or not exist; ``option`` names it in
    messages. The lock file is removed on release; the kernel releases the
    lock of a killed process, and the next run takes over its file and removes
    what its record names. Where ``fcntl`` is missing (Windows), nothing is locked.

    Raises:
        SentimentError: another process holds the lock, the lock's place holds a symlink or a file
            the tool did not write, the parent directory cannot be created, or ``target`` is the
            working directory or holds it.
    """
    given = Path(target)
    target = real_target(given)
    parent = parent_of(target)
    check_target_path(given, target, option)
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SentimentError(f"Cannot create {parent} ({exc.strerror}): choose another {option}.") from None
    path = lock_path(target)
    key = os.path.abspath(path)
    if key in _held_locks:
        count, lock = _held_locks[key]
        _held_locks[key] = (count + 1, lock)
        try:
            yield lock
        finally:
            count, lock = _held_locks[key]
            _held_locks[key] = (count - 1, lock)
        return
    lock, stale = _acquire(path, target, option)
    _held_locks[key] = (1, lock)
    try:
        if stale:
            _recover(target, stale)
        yield lock
    finally:
        del _held_locks[key]
        with contextlib.suppress(OSError):
            if os.path.samestat(os.lstat(path), os.fstat(lock.descriptor)):
                os.unlink(path)
        os.close(lock.descriptor)


def check_target_path(given: Path, target: Path, option: str = "--out") -> None:
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


def _acquire(path: Path, target: Path, option: str = "--out") -> tuple[Lock, list[str]]:
    """Create (or take over from a killed run) and flock ``path``; also the names a killed owner recorded.

    Retries if a finishing owner unlinked the file between our open and flock.
    """
    while True:
        created = True
        try:
            descriptor = ownership.create_file(path)
        except FileExistsError:
            created = False
            descriptor = _open_existing_lock(path, target)
        except OSError as exc:
            raise SentimentError(
                f"Cannot create the lock file {path} ({exc.strerror}): choose another {option}."
            ) from None
        if fcntl is not None:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                first = os.pread(descriptor, 32, 0).decode("ascii", "replace").split("\n")[0].strip()
                os.close(descriptor)
                raise SentimentError(
                    f"Another sentiment-rnn run (pid {first or 'unknown'}) is writing {target}: "
                    f"wait for it to finish or choose another {option}."
                ) from None
        try:
            current = os.lstat(path)
        except FileNotFoundError:
            current = None
        if current is None or not os.path.samestat(current, os.fstat(descriptor)):
            os.close(descriptor)
            continue
        stale = [] if created else _recorded_names(os.pread(descriptor, MAX_LOCK_BYTES, 0), target)
        if stale is None:
            os.close(descriptor)
            raise _foreign_lock_error(path, target)
        lock = Lock(path, descriptor)
        lock._write()
        return lock, stale


def _open_existing_lock(path: Path, target: Path) -> int:
    """A read-write descriptor of an existing lock file, if it can be the tool's: a plain file of this user."""
    flags = os.O_RDWR | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        descriptor = os.open(path, flags)
    except FileNotFoundError:
        return _open_existing_lock_again(path, target)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise SentimentError(
                f"{path} is a symlink where sentiment-rnn keeps the lock of {target} (it is never followed): "
                "remove it and run again."
            ) from None
        raise SentimentError(f"Cannot open the lock file {path} ({exc.strerror}): choose another --out.") from None
    status = os.fstat(descriptor)
    getuid = getattr(os, "getuid", None)
    if (
        not stat.S_ISREG(status.st_mode)
        or status.st_nlink != 1
        or status.st_size > MAX_LOCK_BYTES
        or (getuid is not None and status.st_uid != getuid())
    ):
        os.close(descriptor)
        raise _foreign_lock_error(path, target)
    return descriptor


def _open_existing_lock_again(path: Path, target: Path) -> int:
    """The lock file vanished between the exclusive create and the open (its owner finished): create it now."""
    try:
        return ownership.create_file(path)
    except OSError:
        raise SentimentError(
            f"Another sentiment-rnn run is writing {target}: wait for it or choose another --out."
        ) from None


def _foreign_lock_error(path: Path, target: Path) -> SentimentError:
    return SentimentError(
        f"{path} is not a lock file sentiment-rnn wrote: remove it if no sentiment-rnn run is writing {target}, "
        "and run again."
    )


def _recorded_names(content: bytes, target: Path) -> list[str] | None:
    """The names a killed owner's lock file records (what it was creating beside ``target``); None if not one.

    Empty content is a record of nothing (a kill between creating the file and writing it).
    """
    try:
        lines = content.decode("ascii").splitlines()
    except UnicodeDecodeError:
        return None
    if not lines:
        return []
    name = re.escape(target.name)
    allowed = re.compile(rf"\.{name}\.(?:tmp|old)-[0-9a-f]{{8}}|\.{name}\.backup")
    if not lines[0].isdigit() or not all(allowed.fullmatch(line) for line in lines[1:]):
        return None
    return lines[1:]


def _recover(target: Path, names: list[str]) -> None:
    """Under the lock: put back a directory stranded mid-swap, remove what a killed run recorded creating."""
    parent = parent_of(target)
    for name in names:
        stranded = parent / name / target.name
        if ".old-" in name and not os.path.lexists(target) and ownership.is_real_directory(stranded):
            os.rename(stranded, target)
    for name in names:
        ownership.remove_tree(parent / name)
