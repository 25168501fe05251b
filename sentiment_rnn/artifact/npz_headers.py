"""The arrays an ``.npz`` file holds, read from its ``.npy`` headers alone: shapes and dtypes, no data.

A tampered ``weights.npz`` can claim an array of hundreds of GiB, hold
pickled objects, or carry a header long enough to be a risk to parse; this
reads each zip member's header with ``numpy.lib.format`` (at most
:data:`MAX_HEADER_BYTES`) so that callers can check every shape before one
array is read.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from sentiment_rnn.errors import SentimentError

MAX_HEADER_BYTES = 10_000  # an .npy header is about 128 bytes; a longer one is refused unread


def read_headers(weights_file: Path, fix: str) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
    """The (shape, dtype) of every array in an ``.npz``, from the ``.npy`` headers alone (no array is read).

    Args:
        fix: how to fix a damaged file: the end of the message.

    Raises:
        SentimentError: not a zip of ``.npy`` files, a damaged or huge header,
            or an array that is not little-endian float32 (pickled objects included).
    """
    from numpy.lib import format as npy

    headers = {}
    try:
        with zipfile.ZipFile(weights_file) as archive:
            for member in archive.infolist():
                if not member.filename.endswith(".npy"):
                    raise ValueError(f"{member.filename} is not an .npy array")
                with archive.open(member) as handle:
                    version = npy.read_magic(handle)
                    read = {(1, 0): npy.read_array_header_1_0, (2, 0): npy.read_array_header_2_0}.get(version)
                    if read is None:
                        raise ValueError(f"{member.filename} has .npy version {version}")
                    try:
                        shape, _, dtype = read(handle, max_header_size=MAX_HEADER_BYTES)
                    except ValueError as exc:  # NumPy's message about a long header suggests allow_pickle
                        if "Header info length" not in str(exc):
                            raise
                        raise ValueError(f"{member.filename} has a header over {MAX_HEADER_BYTES:,} bytes") from None
                if dtype.hasobject or dtype != np.dtype("<f4"):
                    raise ValueError(f"{member.filename} holds {dtype} values, not float32")
                headers[member.filename[: -len(".npy")]] = (tuple(shape), dtype)
    except (OSError, ValueError, zipfile.BadZipFile, EOFError, KeyError) as exc:
        reason = str(exc).splitlines()[0] if type(exc) is ValueError else type(exc).__name__
        raise SentimentError(f"{weights_file} is damaged ({reason}): {fix}.") from None
    return headers
