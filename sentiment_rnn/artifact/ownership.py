"""Which files are sentiment-rnn's to delete or replace: the one rule every writer follows.

The tool deletes or overwrites only

1. what this process created in this run, or
2. what a **manifest** says is its own. Every directory the tool stages (a
   model directory, an export, the resume backup ``.NAME.backup``) gets a
   ``manifest.json`` listing every file (its size and SHA-256) and every
   subdirectory the tool made there. Before such a tree is replaced or
   removed it is walked, no symlink followed, and compared with its manifest:
   a file or directory not listed, a file changed since, or an entry of
   another type (a user's directory named ``training.png/``) refuses the whole
   replacement with one line, anywhere in the tree (``members/1/notes.txt``).

Directories written before manifests existed (and the bundled ``reviews-en``)
have none. Such a directory is replaced only when it is a model directory (its
``meta.json`` marker) holding nothing but regular files with the names the
old format wrote (:data:`LEGACY_FILES`) and, for an ensemble, ``members/N``
directories that hold nothing else either: no other file, no subdirectory,
no symlink, at any depth.

Work in progress that a kill may strand (a staging directory ``.NAME.tmp-*``,
a retired ``.NAME.old-*``, a backup being created) is named in a manifest's
``pending`` list, or in the lock file's journal (see ``atomic``), *before* it
is created, and created exclusively under a fresh random name (never an
existing path). Whoever cleans up after a killed run removes exactly what
such a record names; a directory of the user's that merely looks alike
(``.NAME.tmp-mine``) is never touched.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import shutil
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from sentiment_rnn import jsondoc, safe_read
from sentiment_rnn.artifact.files import MEMBERS_DIR, MODEL_DIRECTORY_FILES, is_model_directory
from sentiment_rnn.errors import SentimentError
from sentiment_rnn.version import __version__

MANIFEST_FILE = "manifest.json"
MANIFEST_VERSION = 1
# What a model directory of the format before manifests may hold at its top: the files train, export and
# SentimentClassifier.save wrote (members/ is checked as a directory of model directories).
LEGACY_FILES = frozenset(MODEL_DIRECTORY_FILES - {MEMBERS_DIR} | {"classes.json"})
SHOWN = 3  # foreign entries a message names
ANY_SIZE = safe_read.Kind("file", None)

_ENTRY = jsondoc.Object({"type": jsondoc.STRING, "size": jsondoc.INTEGER, "sha256": jsondoc.STRING}, required=("type",))
MANIFEST_SCHEMA = jsondoc.Object(
    {
        "format_version": jsondoc.Scalar("integer", 1, MANIFEST_VERSION),
        "entries": jsondoc.Object(values=_ENTRY),
        "pending": jsondoc.ListOf(jsondoc.STRING),
        "next_temporary": jsondoc.STRING,
    },
    required=("format_version", "entries"),
)


def fresh_name(prefix: str) -> str:
    """``prefix`` and 8 random hex digits: a name that no one has chosen yet (creation checks it)."""
    return f"{prefix}{secrets.token_hex(4)}"


def create_directory(parent: Path, prefix: str, record=None) -> Path:
    """Create a new directory ``parent/PREFIXxxxxxxxx`` exclusively (never an existing path).

    Args:
        record: called with the name before the directory is created, so that a record of it exists
            whenever it does (a lock journal's ``track``, a manifest's pending list).
    """
    while True:
        name = fresh_name(prefix)
        if record is not None:
            record(name)
        try:
            os.mkdir(parent / name)
        except FileExistsError:
            continue
        return parent / name


def create_file(path: Path, mode: int = 0o644) -> int:
    """A write descriptor of a new file at ``path``: ``O_CREAT|O_EXCL|O_NOFOLLOW``, so never an existing path."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    return os.open(path, flags, mode)


def file_digest(path: Path, inside: Path) -> str:
    """The SHA-256 (hex) of a regular file below ``inside``, read without following a link."""
    digest = hashlib.sha256()
    with safe_read.open_file(path, ANY_SIZE, "remove it", inside=inside) as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _walk(root: Path, relative: str = "") -> Iterator[tuple[str, os.stat_result]]:
    """(path relative to ``root``, lstat) of every entry below ``root``, sorted, parents before children."""
    with os.scandir(root / relative if relative else root) as scanned:
        entries = sorted(scanned, key=lambda entry: entry.name)
    for entry in entries:
        name = f"{relative}/{entry.name}" if relative else entry.name
        status = entry.stat(follow_symlinks=False)
        yield name, status
        if stat.S_ISDIR(status.st_mode):
            yield from _walk(root, name)


def tree_entries(root: Path, skip: Iterable[str] = ()) -> dict[str, dict[str, Any]]:
    """What a manifest records of the tree ``root`` the tool just wrote: each directory, each file's size and digest.

    Raises:
        SentimentError: the tree holds something the tool never writes (a symlink, a FIFO).
    """
    skipped = set(skip)
    return {
        name: _entry(root, name, status)
        for name, status in _walk(root)
        if name not in skipped and name.split("/")[0] not in skipped
    }


def read_manifest(root: Path) -> dict[str, Any] | None:
    """The manifest of ``root``, or None when there is none.

    Raises:
        SentimentError: a manifest that is not a regular file, too large, not JSON or not a manifest.
    """
    if not os.path.lexists(root / MANIFEST_FILE):
        return None
    return safe_read.read_json(
        root / MANIFEST_FILE,
        safe_read.MANIFEST,
        f"it is not a manifest sentiment-rnn wrote; move {root} aside or pass a new path",
        MANIFEST_SCHEMA,
        inside=root,
    )


def write_manifest(root: Path, pending: Iterable[str] = (), paths: Iterable[str] | None = None) -> dict[str, Any]:
    """Record what the tool wrote in the tree ``root`` in ``root/manifest.json``, replacing the manifest there.

    The new manifest is written to the temporary name the old one recorded (or a fresh one), created
    exclusively, then renamed over ``manifest.json``; it records the temporary name the next write
    will use, so a kill at any point leaves no file that no manifest names.

    Args:
        pending: names (relative to ``root``) about to be created: whatever is at them is the tool's too.
        paths: the names (files or directories, relative to ``root``) this process has just written,
            recorded on top of the previous manifest's entries (those no longer there are dropped);
            None records the whole tree, for a tree this process created and wrote alone (a staging directory).

    Returns:
        The manifest written.
    """
    previous = read_manifest(root)
    temporary = (previous or {}).get("next_temporary") or fresh_name(f".{MANIFEST_FILE}.tmp-")
    following = fresh_name(f".{MANIFEST_FILE}.tmp-")
    skip = (MANIFEST_FILE, temporary, following, *pending)
    if paths is None:
        entries = tree_entries(root, skip=skip)
    else:
        entries = {name: entry for name, entry in (previous or {}).get("entries", {}).items() if _exists(root, name)}
        for name in paths:
            entries = {key: entry for key, entry in entries.items() if key != name and not key.startswith(name + "/")}
            entries[name] = _entry(root, name, os.lstat(root / name))
            if entries[name]["type"] == "directory":
                entries.update({f"{name}/{key}": entry for key, entry in tree_entries(root / name).items()})
    _store_manifest(root, entries, sorted(set(pending)), temporary, following)
    return read_manifest(root)


def write_manifests(root: Path) -> None:
    """:func:`write_manifest` of a staging directory this process wrote alone, and first of each ensemble member
    in it (``members/N``, a model directory of its own), so that each is the tool's wherever it goes."""
    members = root / MEMBERS_DIR
    if is_real_directory(members):
        for member in sorted(members.iterdir()):
            if is_real_directory(member):
                write_manifest(member)
    write_manifest(root)


def _exists(root: Path, name: str) -> bool:
    return os.path.lexists(root / name)


def _entry(root: Path, name: str, status: os.stat_result) -> dict[str, Any]:
    """A manifest entry for ``root/name`` of lstat ``status``: a directory, or a file's size and digest."""
    if stat.S_ISDIR(status.st_mode):
        return {"type": "directory"}
    if stat.S_ISREG(status.st_mode):
        return {"type": "file", "size": status.st_size, "sha256": file_digest(root / name, root)}
    raise SentimentError(f"{root / name} is {safe_read.file_type(status.st_mode)}: remove it and run again.")


def _store_manifest(root: Path, entries: dict, pending: list[str], temporary: str, following: str) -> None:
    """Write the manifest through ``temporary`` (created exclusively; a stranded one the manifest named is ours)."""
    import json

    manifest = {
        "format_version": MANIFEST_VERSION,
        "written_by": f"sentiment-rnn {__version__}",
        "entries": entries,
        "pending": pending,
        "next_temporary": following,
    }
    with contextlib.suppress(FileNotFoundError):
        status = os.lstat(root / temporary)
        if not stat.S_ISREG(status.st_mode):
            raise SentimentError(f"{root / temporary} is not a file sentiment-rnn wrote: remove it and run again.")
        os.unlink(root / temporary)  # a kill stranded it: the manifest named it, so it is the tool's
    descriptor = create_file(root / temporary)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    os.replace(root / temporary, root / MANIFEST_FILE)


def check_replaceable_file(root: Path, name: str) -> None:
    """Refuse to overwrite ``root/name`` unless it is absent or the tool's (by the manifest, or the legacy rule).

    Raises:
        SentimentError: the file was put there or changed by someone else, or it is not a regular file.
    """
    path = root / name
    try:
        status = os.lstat(path)
    except FileNotFoundError:
        return
    manifest = read_manifest(root)
    regular = stat.S_ISREG(status.st_mode)
    if manifest is None:
        own = regular and name in LEGACY_FILES
    else:
        entry = manifest["entries"].get(name)
        own = (
            regular
            and entry is not None
            and entry.get("size") == status.st_size
            and entry.get("sha256") == file_digest(path, root)
        )
    if not own:
        raise SentimentError(
            f"{path} is not the file sentiment-rnn wrote (it was put there or changed since): move it aside, or "
            "pass --out FILE to write elsewhere (nothing was changed)."
        )


def record_file(root: Path, name: str) -> None:
    """Record ``root/name``, just written by this process, in ``root``'s manifest (if it has one)."""
    manifest = read_manifest(root)
    if manifest is not None:
        write_manifest(root, pending=manifest.get("pending", ()), paths=[name])


def foreign_entries(
    root: Path, files: frozenset[str] = LEGACY_FILES | {MEMBERS_DIR}, is_ours=is_model_directory
) -> list[str] | None:
    """What in the tree ``root`` is not the tool's (relative names, a reason in brackets where useful).

    Args:
        files, is_ours: for a directory without a manifest: the names its kind held, and its marker
            (a model directory's, by default).

    Returns:
        [] when everything is the tool's (by its manifest, or by the rule for directories without one);
        None when ``root`` is no tree of the tool's at all (no manifest, and not of its kind).

    Raises:
        SentimentError: a manifest that cannot be read.
    """
    manifest = read_manifest(root)
    if manifest is None:
        return legacy_foreign_entries(root, files) if is_ours(root) else None
    entries = manifest["entries"]
    own = set(manifest.get("pending", ())) | {MANIFEST_FILE, manifest.get("next_temporary", MANIFEST_FILE)}
    foreign: list[str] = []
    skip: str | None = None  # a directory whose contents are not looked at (foreign, or pending)
    for name, status in _walk(root):
        if skip is not None and name.startswith(skip + "/"):
            continue
        skip = None
        kind = "directory" if stat.S_ISDIR(status.st_mode) else "file" if stat.S_ISREG(status.st_mode) else None
        expected = entries.get(name)
        if name in own:
            skip = name
        elif expected is None:
            foreign.append(name + ("/" if kind == "directory" else ""))
            skip = name
        elif expected["type"] != kind:
            what = kind or safe_read.file_type(status.st_mode)
            foreign.append(f"{name} (a {what.removeprefix('a ')}, where sentiment-rnn wrote a {expected['type']})")
            skip = name
        elif kind == "file" and (
            expected.get("size") != status.st_size or expected.get("sha256") != file_digest(root / name, root)
        ):
            foreign.append(f"{name} (changed since sentiment-rnn wrote it)")
    return foreign


def legacy_foreign_entries(
    root: Path, files: frozenset[str] = LEGACY_FILES | {MEMBERS_DIR}, member: bool = False
) -> list[str]:
    """:func:`foreign_entries` of a directory without a manifest: regular files named in ``files`` and, where
    ``files`` holds ``members``, its ``members/N`` directories holding the same (see the module docstring)."""
    foreign = []
    with os.scandir(root) as scanned:
        entries = sorted(scanned, key=lambda entry: entry.name)
    for entry in entries:
        status = entry.stat(follow_symlinks=False)
        if entry.name == MEMBERS_DIR and MEMBERS_DIR in files and not member and stat.S_ISDIR(status.st_mode):
            for number in sorted(os.scandir(root / MEMBERS_DIR), key=lambda entry: entry.name):
                inner = f"{MEMBERS_DIR}/{number.name}"
                if number.name.isdigit() and number.is_dir(follow_symlinks=False):
                    foreign += [f"{inner}/{name}" for name in legacy_foreign_entries(root / inner, files, member=True)]
                else:
                    foreign.append(inner + ("/" if number.is_dir(follow_symlinks=False) else ""))
        elif entry.name in files and entry.name != MEMBERS_DIR and stat.S_ISREG(status.st_mode):
            continue
        elif entry.name in files:
            what = safe_read.file_type(status.st_mode) or "a file"
            foreign.append(
                f"{entry.name} ({what}, where sentiment-rnn writes a {'directory' if entry.name == MEMBERS_DIR else 'file'})"
            )
        else:
            foreign.append(entry.name + ("/" if stat.S_ISDIR(status.st_mode) else ""))
    return foreign


def shown(names: list[str]) -> str:
    """The first :data:`SHOWN` names, comma-separated, with ``...`` when there are more."""
    return ", ".join(names[:SHOWN]) + (", ..." if len(names) > SHOWN else "")


def remove_tree(root: Path) -> None:
    """Remove a tree the tool owns (a record or a check says so): a real directory, never through a link."""
    with contextlib.suppress(FileNotFoundError):
        if stat.S_ISDIR(os.lstat(root).st_mode):
            shutil.rmtree(root)


def is_real_directory(path: Path) -> bool:
    """Whether ``path`` is a directory itself (not a symlink to one)."""
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False
