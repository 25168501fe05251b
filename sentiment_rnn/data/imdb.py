"""The IMDB layout: ``[aclImdb/]{train,test}/{pos,neg}/*.txt`` as a directory or a tarball read without unpacking."""

from __future__ import annotations

import os
import re
import stat
import tarfile
import zlib
from collections.abc import Iterator
from pathlib import Path

from sentiment_rnn import safe_read
from sentiment_rnn.config import IMDB_SPLITS
from sentiment_rnn.data.checks import (
    ExampleCollector,
    first_message_line,
    undecodable_error,
)
from sentiment_rnn.data.dataset import Dataset
from sentiment_rnn.errors import SentimentError

HTML_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)


def read_imdb(path: Path, split: str | None, encoding: str, on_empty: str = "skip") -> Dataset:
    """The IMDB layout: ``[aclImdb/]{split}/{pos,neg}/*.txt``, from a directory or a tarball.

    Reviews are ordered by their path inside the layout, so a directory and a
    tarball of the same files give the same dataset.
    """
    pattern = imdb_member_pattern(path, split)
    reviews = directory_reviews(path, pattern) if path.is_dir() else tar_reviews(path, pattern)
    members = [(name, label, raw) for name, label, raw, _ in reviews]
    source = f"{path} ({split})"
    if not members:
        raise no_reviews_error(path, split)
    examples = ExampleCollector(source, on_empty)
    for name, label, raw in sorted(members):
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError as exc:
            raise undecodable_error(path, encoding, f"{name} (byte {exc.start})") from None
        examples.add(HTML_BREAK.sub(" ", text), label, name)
    return examples.build()


def imdb_member_pattern(path: Path, split: str | None) -> re.Pattern:
    """The pattern of the review files of ``split`` in the IMDB layout; refuses a missing or unknown split."""
    if split not in IMDB_SPLITS:
        got = "no split" if split is None else f"split {split!r}"
        raise SentimentError(
            f"{path} is in the IMDB layout, which holds train and test reviews, but {got} was chosen: "
            "pass --split train or --split test."
        )
    return re.compile(rf"(?:^|/){split}/(pos|neg)/[^/]+\.txt$")


def no_reviews_error(path: Path, split: str) -> SentimentError:
    return SentimentError(
        f"{path} holds no {split}/pos/*.txt or {split}/neg/*.txt reviews: "
        "give the IMDB layout (aclImdb/train/pos/..., as in aclImdb_v1.tar.gz)."
    )


def tar_error(path: Path, exc: Exception) -> SentimentError:
    return SentimentError(
        f"{path} is not a readable tar archive ({first_message_line(exc)}): "
        "give an intact .tar.gz such as aclImdb_v1.tar.gz."
    )


def review_label(pattern: re.Pattern, name: str) -> int | None:
    """1 for a review file under ``pos/`` of the chosen split, 0 under ``neg/``, None for any other file."""
    match = pattern.search(name)
    return None if match is None else int(match[1] == "pos")


def directory_reviews(path: Path, pattern: re.Pattern) -> Iterator[tuple[str, int, bytes, int]]:
    """(path inside the layout, label, bytes, bytes read so far) of each review under a directory, sorted by path.

    Only regular files inside the tree are read, as from a tarball: symlinks
    (which may lead outside the dataset) and FIFOs or devices (which would
    block or never end) are skipped, and symlinked directories are not
    entered. Each review is read through ``safe_read``, at most
    ``safe_read.REVIEW.max_bytes`` bytes.
    """
    found = []
    for directory, _, files in os.walk(path, followlinks=False):
        for file_name in files:
            file = Path(directory) / file_name
            name = file.relative_to(path).as_posix()
            label = review_label(pattern, name)
            if label is not None and stat.S_ISREG(os.lstat(file).st_mode):
                found.append((name, label, file))
    done = 0
    for name, label, file in sorted(found):
        raw = safe_read.read_bytes(file, safe_read.REVIEW, "remove it or cut it, and train again")
        done += len(raw)
        yield name, label, raw, done


def tar_reviews(path: Path, pattern: re.Pattern) -> Iterator[tuple[str, int, bytes, int]]:
    """(member name, label, bytes, compressed bytes read so far) of each review in a tar archive, in archive order.

    One pass, no unpacking and no seeking. A review member's size is checked
    against ``safe_read.REVIEW.max_bytes`` from its header, before a byte of
    it is read (a 5 MB ``.tar.gz`` may hold a 1 GiB member).
    """
    cap = safe_read.REVIEW.max_bytes
    try:
        with safe_read.open_file(path, safe_read.ARCHIVE, "pass an intact .tar.gz") as handle:
            with tarfile.open(fileobj=handle, mode="r|*") as archive:
                for member in archive:
                    label = review_label(pattern, member.name)
                    if label is None or not member.isfile():
                        continue
                    if member.size > cap:
                        raise SentimentError(
                            f"{path}: {member.name} is {member.size:,} bytes, more than the "
                            f"{safe_read.size_name(cap)} a review may hold: remove it from the archive."
                        )
                    yield member.name, label, archive.extractfile(member).read(cap + 1), handle.tell()
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise tar_error(path, exc) from None
