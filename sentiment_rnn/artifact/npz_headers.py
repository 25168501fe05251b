"""The arrays an ``.npz`` file holds: first their ``.npy`` headers alone (shapes and dtypes), then the data.

A tampered ``weights.npz`` can claim an array of hundreds of GiB, hold
pickled objects, or carry a header long enough to be a risk to parse; this
reads each zip member's header with ``numpy.lib.format`` (at most
:data:`MAX_HEADER_BYTES`) so that callers can check every shape before one
array is read. :func:`read_arrays` then copies each stored member's data out
of a memory map of the file (``numpy.savez`` stores, it does not compress),
checking its CRC-32 as ``numpy.load`` would.
"""

from __future__ import annotations

import mmap
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np

from sentiment_rnn import safe_read
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
    headers = {}
    try:
        with _opened(weights_file, fix) as handle, zipfile.ZipFile(handle) as archive:
            for member in archive.infolist():
                if not member.filename.endswith(".npy"):
                    raise ValueError(f"{member.filename} is not an .npy array")
                shape, _, dtype, _ = _npy_header(archive, member)
                if dtype.hasobject or dtype != np.dtype("<f4"):
                    raise ValueError(f"{member.filename} holds {dtype} values, not float32")
                headers[member.filename[: -len(".npy")]] = (tuple(shape), dtype)
    except _DAMAGE as exc:
        raise _damaged(weights_file, exc, fix) from None
    return headers


def _npy_header(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> tuple[tuple[int, ...], bool, np.dtype, int]:
    """(shape, fortran_order, dtype, offset of the values in the member) from a member's ``.npy`` header.

    Raises:
        ValueError: an ``.npy`` version other than 1.0 or 2.0, or a header over ``MAX_HEADER_BYTES``.
    """
    from numpy.lib import format as npy

    with archive.open(member) as handle:
        version = npy.read_magic(handle)
        read = {(1, 0): npy.read_array_header_1_0, (2, 0): npy.read_array_header_2_0}.get(version)
        if read is None:
            raise ValueError(f"{member.filename} has .npy version {version}")
        try:
            shape, fortran_order, dtype = read(handle, max_header_size=MAX_HEADER_BYTES)
        except ValueError as exc:  # NumPy's message about a long header suggests allow_pickle
            if "Header info length" not in str(exc):
                raise
            raise ValueError(f"{member.filename} has a header over {MAX_HEADER_BYTES:,} bytes") from None
        return shape, fortran_order, dtype, handle.tell()


def _opened(weights_file: Path, fix: str):
    """``weights_file`` opened through ``safe_read``: a regular file in its directory, no link, a size cap."""
    return safe_read.open_file(weights_file, safe_read.WEIGHTS, fix, inside=Path(weights_file).parent)


# What reading a damaged .npz raises; a ValueError's or a BadZipFile's message says what is wrong.
_DAMAGE = (OSError, ValueError, zipfile.BadZipFile, EOFError, KeyError, struct.error)


def _damaged(weights_file: Path, exc: Exception, fix: str) -> SentimentError:
    reason = str(exc).splitlines()[0] if type(exc) in (ValueError, zipfile.BadZipFile) else type(exc).__name__
    return SentimentError(f"{weights_file} is damaged ({reason}): {fix}.")


_LOCAL_HEADER = struct.Struct("<4s22xHH")  # a zip member's local header: signature, name and extra lengths
_LOCAL_SIGNATURE = b"PK\x03\x04"


def read_arrays(weights_file: Path, fix: str) -> dict[str, np.ndarray]:
    """Every array of an ``.npz`` whose headers :func:`read_headers` accepted, by name.

    Members stored uncompressed (as ``numpy.savez`` writes them) are copied
    straight out of a memory map of the file after their CRC-32 is checked,
    which costs a third of ``numpy.load``'s streamed reads; compressed ones
    are read with ``numpy.load``. The arrays are copies: the file may change
    or go afterwards.

    Raises:
        SentimentError: a damaged file: a truncated member, a wrong CRC-32, an unreadable zip.
    """
    arrays = {}
    try:
        with _opened(weights_file, fix) as handle, zipfile.ZipFile(handle) as archive:
            members = archive.infolist()
            if any(member.compress_type != zipfile.ZIP_STORED for member in members):
                handle.seek(0)
                with np.load(handle, allow_pickle=False) as compressed:
                    return {name: compressed[name] for name in compressed.files}
            with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
                for member in members:
                    shape, fortran_order, dtype, offset = _npy_header(archive, member)
                    arrays[member.filename[: -len(".npy")]] = _copied_member(
                        mapped, member, offset, shape, dtype, "F" if fortran_order else "C"
                    )
    except _DAMAGE as exc:
        raise _damaged(weights_file, exc, fix) from None
    return arrays


def _copied_member(mapped: mmap.mmap, member: zipfile.ZipInfo, offset: int, shape, dtype, order: str) -> np.ndarray:
    """A copy of the array a stored member holds, its values ``offset`` bytes into the member's data."""
    signature, name_length, extra_length = _LOCAL_HEADER.unpack_from(mapped, member.header_offset)
    if signature != _LOCAL_SIGNATURE:
        raise ValueError(f"{member.filename} has no local header")
    start = member.header_offset + _LOCAL_HEADER.size + name_length + extra_length
    with memoryview(mapped) as whole, whole[start : start + member.file_size] as data:
        if len(data) != member.file_size or zlib.crc32(data) != member.CRC:
            raise ValueError(f"{member.filename} is truncated or damaged (CRC-32)")
        count = int(np.prod(shape, dtype=np.int64))
        return np.frombuffer(data, dtype=dtype, count=count, offset=offset).reshape(shape, order=order).copy()
