"""Progress on long work: shown on stderr when stderr is a terminal, silent otherwise.

Standard output carries results only (predictions, summaries, JSON), so it can
be piped or redirected; progress goes to standard error, and only when a person
is watching it. ``--quiet`` turns it off even then. Every command uses the same
three helpers::

    from sentiment_rnn import progress

    with progress.bar(length=len(texts), label="Predicting", quiet=quiet) as bar:
        for chunk in chunks:
            ...
            bar.update(len(chunk))
    progress.note("Reading reviews.csv", quiet=quiet)
    model.fit(..., verbose=progress.keras_verbose(quiet))
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
from collections.abc import Iterable, Iterator
from typing import Any, TextIO

import click


def enabled(quiet: bool = False, stream: TextIO | None = None) -> bool:
    """True when progress should be shown: not ``quiet`` and ``stream`` (default stderr) is a terminal."""
    stream = sys.stderr if stream is None else stream
    isatty = getattr(stream, "isatty", None)
    return not quiet and bool(isatty and isatty())


class NullBar:
    """The do-nothing stand-in for a click progress bar: same use, prints nothing."""

    def __init__(self, iterable: Iterable[Any] | None = None):
        self._iterable = iterable if iterable is not None else ()

    def __enter__(self) -> NullBar:
        return self

    def __exit__(self, *exc_info) -> None:
        return None

    def __iter__(self) -> Iterator[Any]:
        return iter(self._iterable)

    def update(self, n_steps: int, current_item: Any = None) -> None:
        return None


def bar(
    iterable: Iterable[Any] | None = None,
    length: int | None = None,
    label: str = "",
    quiet: bool = False,
    stream: TextIO | None = None,
):
    """A click progress bar on stderr when :func:`enabled`, else a :class:`NullBar`.

    Use it as click's ``progressbar``: a context manager that is iterated or
    ``update(n)``-ed. ``length`` counts the steps when there is no iterable.
    """
    stream = sys.stderr if stream is None else stream
    if not enabled(quiet, stream):
        return NullBar(iterable)
    return click.progressbar(iterable, length=length, label=label, file=stream, show_eta=True, show_percent=True)


def note(message: str, quiet: bool = False, stream: TextIO | None = None) -> None:
    """Write one status line (e.g. "Reading reviews.csv") to stderr when :func:`enabled`."""
    stream = sys.stderr if stream is None else stream
    if enabled(quiet, stream):
        click.echo(message, file=stream)


def warn(message: str, quiet: bool = False) -> None:
    """Write a warning line to stderr, terminal or not, unless ``quiet``."""
    if not quiet:
        click.echo(message, err=True)


def keras_verbose(quiet: bool = False, stream: TextIO | None = None) -> int:
    """The Keras ``verbose`` value matching :func:`enabled`: 1 (a bar per epoch) or 0 (silent)."""
    return 1 if enabled(quiet, stream) else 0


@contextlib.contextmanager
def reading(file, label: str = "", quiet: bool = False, stream: TextIO | None = None):
    """A bar over the bytes of an open regular ``file``, as it is read; yields ``advance()``, to call after each batch.

    For a pipe or a terminal (no size known), or when not :func:`enabled`, ``advance`` does nothing.
    """
    raw = getattr(file, "buffer", file)
    try:
        size = os.fstat(file.fileno()).st_size if stat.S_ISREG(os.fstat(file.fileno()).st_mode) else 0
    except (AttributeError, OSError, ValueError):
        size = 0
    if not size:
        yield lambda: None
        return
    with bar(length=size, label=label, quiet=quiet, stream=stream) as shown:
        done = 0

        def advance() -> None:
            nonlocal done
            position = min(raw.tell(), size)
            shown.update(position - done)
            done = position

        yield advance
