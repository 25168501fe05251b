"""The backup of a run, ``.NAME.backup`` beside its model directory: started, checked for ``--resume``, removed.

The backup is a tree the tool owns by its manifest (see ``artifact.ownership``):
created exclusively (recorded in the lock's journal until its manifest is
written), replaced or removed only when everything in it is the tool's, and
never followed when it is a symlink. Each epoch's state in it is written and
read back by ``checkpoint``.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

from sentiment_rnn import jsondoc, safe_read
from sentiment_rnn.artifact import ownership
from sentiment_rnn.artifact.atomic import check_replaceable
from sentiment_rnn.artifact.files import write_json
from sentiment_rnn.artifact.lock import Lock, backup_path, real_target, target_lock
from sentiment_rnn.config import Config, to_dict
from sentiment_rnn.data.stream import StreamPart
from sentiment_rnn.errors import SentimentError, TrainingDiverged
from sentiment_rnn.training.checkpoint import (
    CHECKPOINT_BEST,
    CHECKPOINT_RUN,
    CHECKPOINT_STATE,
    CHECKPOINT_WEIGHTS,
    RESUME_FIX,
    latest_checkpoint,
    read_checkpoint_json,
)
from sentiment_rnn.training.pipeline import Split

RUN_SCHEMA = jsondoc.Object(  # what run.json holds
    {"config": jsondoc.Object(values=jsondoc.Object()), "data_sha256": jsondoc.STRING},
    required=("config", "data_sha256"),
)


def data_digest(split: Split) -> str:
    """A SHA-256 of the split's texts and labels, to check a resumed run reads the same data.

    For a streamed file, of its bytes as they are on disk (``safe_read.hash_contents``), not parsed again.
    """
    digest = hashlib.sha256()
    if isinstance(split.train, StreamPart):
        safe_read.hash_contents(digest, split.train.source.path)
        return digest.hexdigest()
    for part in (split.train, split.validation):
        for text, label in zip(part.texts, part.labels):
            digest.update(f"{int(label)}\t{len(text)}\t{text}\n".encode("utf-8", "surrogatepass"))
        digest.update(b"--\n")
    return digest.hexdigest()


def discard_backup(backup: Path, out_dir: Path) -> None:
    """Remove an earlier run's backup before a fresh run, if everything in it is the tool's; refuse otherwise."""
    if not os.path.lexists(backup):
        return
    check_backup_place(backup, out_dir)
    foreign = backup_foreign_entries(backup)
    if foreign:
        raise SentimentError(
            f"{backup} holds files sentiment-rnn did not write ({ownership.shown(foreign)}): move them out or "
            "remove it, then train again (nothing was changed)."
        )
    ownership.remove_tree(backup)


def backup_foreign_entries(backup: Path) -> list[str]:
    """What in ``backup`` is not the tool's: by its manifest, or, for a backup written before manifests, by
    the names the tool writes there (``run.json``, ``epoch-NNNN/`` and ``.epoch-NNNN.tmp/`` of its three files)."""
    foreign = ownership.foreign_entries(backup) if os.path.lexists(backup / ownership.MANIFEST_FILE) else None
    if foreign is not None:
        return foreign
    foreign = []
    epoch_files = {CHECKPOINT_WEIGHTS, CHECKPOINT_BEST, CHECKPOINT_STATE}
    for entry in sorted(os.scandir(backup), key=lambda entry: entry.name):
        if entry.name == CHECKPOINT_RUN and entry.is_file(follow_symlinks=False):
            continue
        if entry.name.startswith(("epoch-", ".epoch-")) and entry.is_dir(follow_symlinks=False):
            foreign += [
                f"{entry.name}/{inner.name}"
                for inner in os.scandir(entry.path)
                if inner.name not in epoch_files or not inner.is_file(follow_symlinks=False)
            ]
            continue
        foreign.append(entry.name)
    return foreign


def check_backup_place(backup: Path, out_dir: Path) -> None:
    """Refuse a backup path that is a symlink or not a directory: the tool never follows or replaces those."""
    if os.path.islink(backup):
        raise SentimentError(
            f"{backup} is a symlink where sentiment-rnn keeps the progress of {out_dir} (it is never followed): "
            "remove it and train again."
        )
    if not ownership.is_real_directory(backup):
        raise SentimentError(
            f"{backup} is not a directory sentiment-rnn wrote, where it keeps the progress of {out_dir}: "
            "move it aside and train again."
        )


# Keys a resumed run may change: how many epochs to run in all (more to go on, as many as are done to stop there).
RESUMABLE_CHANGES = {("train", "epochs")}


def prepare_backup(
    backup: Path,
    config: Config,
    split: Split | None,
    resume: bool,
    out_dir: Path,
    digest: str | None = None,
    lock: Lock | None = None,
) -> None:
    """Start a fresh backup, or check that the one to resume was made with the same config and data.

    The data are told by ``digest`` when given, else by :func:`data_digest` of ``split``.
    A fresh backup replaces an earlier one only when that is all the tool's
    (:func:`discard_backup`); it is created exclusively, recorded in the
    lock's journal until its manifest is written.
    """
    run = {"config": to_dict(config), "data_sha256": digest or data_digest(split)}
    if not resume:
        discard_backup(backup, out_dir)
        if lock is not None:
            lock.track(backup.name)
        backup.mkdir()
        write_json(backup / CHECKPOINT_RUN, run)
        ownership.write_manifest(backup)  # created above by this process: the whole tree is its own
        if lock is not None:
            lock.untrack(backup.name)
        return
    if not os.path.lexists(backup):
        raise SentimentError(
            f"Nothing to resume for {out_dir}: no interrupted run was found ({backup} does not exist); "
            "train without --resume."
        )
    check_backup_place(backup, out_dir)
    foreign = backup_foreign_entries(backup)
    if foreign:
        raise SentimentError(
            f"{backup} holds files sentiment-rnn did not write ({ownership.shown(foreign)}): "
            f"they are not saved progress; move them out, or {RESUME_FIX}."
        )
    previous = read_checkpoint_json(backup / CHECKPOINT_RUN, backup, RUN_SCHEMA)
    defaults = to_dict(Config())  # a key an older version did not write: that run had its default
    for section, values in run["config"].items():
        if section == "data":
            continue  # where the data comes from may be spelt differently; the digest checks its content
        for key, value in values.items():
            if (section, key) in RESUMABLE_CHANGES:
                continue
            before = previous["config"].get(section, {}).get(key, defaults[section][key])
            if before != value:
                raise SentimentError(
                    f"Cannot resume {out_dir}: the interrupted run had {section}.{key} = {before!r}, this one "
                    f"{value!r}; resume with the same config and data, or train without --resume."
                )
    if previous["data_sha256"] != run["data_sha256"]:
        raise SentimentError(
            f"Cannot resume {out_dir}: the training data changed since the interrupted run; "
            "resume with the same data, or train without --resume."
        )


def backup_for_fit(backup: Path, config: Config, split: Split) -> None:
    """Make ``backup`` (``training.fit.fit``'s) ready: a new path becomes a fresh backup of this run
    (:func:`prepare_backup`); an existing one must be a directory holding only what the tool wrote there.

    Raises:
        SentimentError: a path that cannot be made (its directory missing or not writable), a symlink,
            not a directory, or a directory holding anything the tool did not write.
    """
    if not os.path.lexists(backup):
        try:
            prepare_backup(backup, config, split, resume=False, out_dir=backup)
        except OSError as exc:
            raise SentimentError(
                f"Cannot make the backup directory {backup} ({exc.strerror}): pass a new path in a directory that "
                "exists and is writable, or backup=None."
            ) from None
        return
    if os.path.islink(backup) or not ownership.is_real_directory(backup):
        what = "a symlink" if os.path.islink(backup) else "not a directory"
        raise SentimentError(
            f"The backup {backup} is {what} (no link is followed, no file replaced): pass a new path, which fit "
            "makes, or backup=None."
        )
    foreign = backup_foreign_entries(backup)
    if foreign:
        raise SentimentError(
            f"The backup {backup} holds files sentiment-rnn did not write ({ownership.shown(foreign)}): pass a new "
            "path, which fit makes, or backup=None (nothing was changed)."
        )


def remove_backup(backup: Path) -> None:
    """Remove this run's backup once it is no longer needed; anything else found in it keeps it where it is."""
    if ownership.is_real_directory(backup) and not backup_foreign_entries(backup):
        ownership.remove_tree(backup)


@contextlib.contextmanager
def locked_backup(
    out_dir: Path, config: Config, split: Split | None, resume: bool, digest: str | None = None
) -> Iterator[Path]:
    """Lock ``out_dir`` and yield its backup directory, fresh or checked for ``resume`` (data as in :func:`prepare_backup`).

    The backup is removed when the body succeeds or diverges (a resumed
    diverged run would diverge again) and kept after any other failure or
    interruption, for ``--resume``.
    """
    backup = backup_path(out_dir)
    with target_lock(out_dir) as lock:
        check_replaceable(real_target(out_dir))  # before anything is written beside it
        prepare_backup(backup, config, split, resume, out_dir, digest, lock)
        try:
            yield backup
        except TrainingDiverged as exc:
            remove_backup(backup)
            kept = f"the model in {out_dir} is unchanged" if out_dir.exists() else f"nothing was written to {out_dir}"
            raise SentimentError(f"{str(exc)[:-1]}; {kept}.") from None
        except Exception:  # a failure before the first epoch finished leaves nothing to resume
            if latest_checkpoint(backup) is None:
                remove_backup(backup)
            raise
        remove_backup(backup)
