"""Local byte ranges: read with ``readinto``/``preadv`` into buffers, checked against the stamp and the size.

A range is bounded by the file's size before anything is allocated (sizes come from labels), the
file's stamp is checked before and after the reads (not rewritten while being read), and a short
read raises :class:`~xarray_crism.errors.TruncatedFileError`. ``on_block`` lets a reader decode each
piece of a range while it is still in the CPU cache.

:func:`read_local_mapped` maps a span read-only instead, for strided reads that keep part of each
row (a window of all bands, a spectrum): the reader copies only the values it keeps, as
``numpy.memmap`` does, where ``preadv`` would make one system call per kept piece or copy every byte
of the span. The same checks hold (size before, stamp before and after). One limit it shares with
``numpy.memmap``: a file truncated by another process *during* the copy (between the two checks,
a millisecond or so) stops the process with ``SIGBUS``, where a read would have raised.
"""

from __future__ import annotations

import mmap
import os
from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import Any, TypeVar

import numpy as np

from ..errors import RemoteReadError, TruncatedFileError
from .stamps import Stamp, check_local_stamp

__all__ = ["BLOCK_BYTES", "OnBlock", "check_length", "read_local_into", "read_local_mapped", "read_local_ranges"]

T = TypeVar("T")

#: Bytes per piece handed to a reader's ``on_block`` (a few hundred KiB: about an L2 cache).
BLOCK_BYTES = 1 << 18
#: ``on_block(range index, byte offset in the range, the piece as a uint8 array)``.
OnBlock = Callable[[int, int, np.ndarray], None]


def read_local_ranges(
    url: str, path: str, stamp: Stamp | None, ranges: Sequence[tuple[int, int]], on_block: OnBlock | None = None,
) -> list[np.ndarray]:
    """Each range ``[start, end)`` of a local file as a writeable uint8 array (``on_block`` on its pieces)."""
    out = []
    with open(path, "rb", buffering=0) as f:
        size = check_local_stamp(url, stamp, os.fstat(f.fileno()))
        for i, (start, end) in enumerate(ranges):
            check_length(url, start, end, max(0, min(end, size) - start))  # before allocating: sizes from labels
            buf = np.empty(end - start, dtype=np.uint8)
            f.seek(start)
            got = f.readinto(buf.data) if on_block is None else _read_blocks(f, buf, i, on_block)
            check_length(url, start, end, got or 0)
            out.append(buf)
        check_local_stamp(url, stamp, os.fstat(f.fileno()))  # not rewritten while being read either
    return out


def read_local_into(url: str, path: str, stamp: Stamp | None, ranges: Sequence[tuple[int, int]], out: np.ndarray) -> None:
    """The ranges one after the other into ``out`` (contiguous uint8): one ``preadv`` per range."""
    view = memoryview(out.data).cast("B")
    with open(path, "rb", buffering=0) as f:
        fd, pos = f.fileno(), 0
        size = check_local_stamp(url, stamp, os.fstat(fd))
        last = max(ranges, key=itemgetter(1), default=(0, 0))
        check_length(url, last[0], last[1], max(0, min(last[1], size) - last[0]))
        for start, end in ranges:
            n = end - start
            got = os.preadv(fd, [view[pos : pos + n]], start)
            if got != n:
                check_length(url, start, end, got)
            pos += n
        check_local_stamp(url, stamp, os.fstat(fd))


def read_local_mapped(
    url: str, path: str, stamp: Stamp | None, byte_range: tuple[int, int], copy: Callable[[np.ndarray], T],
) -> T:
    """``copy(span)`` on bytes ``[start, end)`` of a local file mapped read-only (a uint8 array); its result.

    ``copy`` must copy out what it keeps: the mapping goes when the last view of it does.
    """
    start, end = byte_range
    with open(path, "rb", buffering=0) as f:
        size = check_local_stamp(url, stamp, os.fstat(f.fileno()))
        check_length(url, start, end, max(0, min(end, size) - start))
        if end == start:
            return copy(np.empty(0, dtype=np.uint8))
        base = start - start % mmap.ALLOCATIONGRANULARITY
        mapped = mmap.mmap(f.fileno(), end - base, access=mmap.ACCESS_READ, offset=base)
        result = copy(np.frombuffer(mapped, dtype=np.uint8, count=end - start, offset=start - base))
        check_local_stamp(url, stamp, os.fstat(f.fileno()))
    return result


def _read_blocks(f: Any, buf: np.ndarray, i: int, on_block: OnBlock) -> int:
    """``readinto`` ``buf`` by pieces of :data:`BLOCK_BYTES`, each handed to ``on_block`` once read; bytes read."""
    view = memoryview(buf.data)
    for lo in range(0, buf.size, BLOCK_BYTES):
        n = f.readinto(view[lo : lo + BLOCK_BYTES]) or 0
        if n < min(BLOCK_BYTES, buf.size - lo):
            return lo + n  # short: the caller raises TruncatedFileError
        on_block(i, lo, buf[lo : lo + n])
    return int(buf.size)


def check_length(url: str, start: int, end: int, got: int) -> None:
    """Raise when a range came back longer (Range ignored) or shorter (truncated file) than asked."""
    if got > end - start:
        raise RemoteReadError(
            url, f"bytes {start}-{end}", f"{got} bytes returned", f"{end - start} bytes",
            "The server ignored the Range header (it sent more than was asked); open 'simplecache::URL' "
            "to download whole files once instead",
        )
    if got != end - start:
        raise TruncatedFileError(
            url, f"bytes {start}-{end}", f"{got} bytes returned", f"{end - start} bytes",
            "The file is shorter than its label says",
        )
