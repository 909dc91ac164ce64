"""SHA-256 of the source files from the bytes the conversion reads: each file is read once.

A conversion reads every array of a data file in **slabs**: runs of whole rows of the file's
slowest axis (file lines of a line-interleaved cube, bands of a band-sequential one) as tall as a
shard, each one contiguous byte range, handed in file order to a few threads that write their
shards (:func:`write_in_slabs`; not dask, whose order of independent tasks is not the file's). Each
piece of a slab is handed, as soon as it is read (``on_block`` of
:func:`~xarray_crism.io.sources.read_ranges`), to its file's :class:`OrderedHasher`, which hashes
bytes in file order: the thread that reads a slab ahead of the bytes not yet hashed (the slab before
it, read by another thread) waits for them, so slabs are read and hashed one after the other while
their shards are compressed in parallel. A thread waits only for bytes a slab will bring (the ranges
announced by :meth:`OrderedHasher.expect`); bytes no slab brings (an attached header before the image,
a gap between objects) are read and hashed at once. After :data:`WAIT_SECONDS` without progress the
hasher stops waiting and keeps pieces ahead, within :data:`PENDING_BYTES` (beyond that they are
dropped and read again at the end). :meth:`OrderedHasher.finish` then reads what no slab covered (the label, headers,
small objects, a DDR's planes) and gives the digest: the same as a sequential read of the file.

Slabs are used when the product is written on this process's threads (dask's ``"threads"`` or
``"synchronous"``; in a ``distributed`` task, the worker's): with a dask scheduler of other processes
for a single product, its shards are written there as before and :meth:`~OrderedHasher.finish`
reads the whole file (the second read of earlier versions).
"""

from __future__ import annotations

import hashlib
import threading
from concurrent.futures import ThreadPoolExecutor
from math import prod
from typing import Any

import numpy as np

from ..io.sources import Source, read_ranges
from ..model.decoding import to_native
from ..model.product import DiskArray, RenamedArray

__all__ = ["PENDING_BYTES", "SLAB_LIMIT_BYTES", "WAIT_SECONDS", "OrderedHasher", "find_disk_array", "is_in_process",
           "read_slab", "slab_bytes", "write_in_slabs"]

#: Bytes a hasher keeps of pieces read ahead of its position, once it stopped waiting.
PENDING_BYTES = 64 * 2**20
#: How long a thread with a piece ahead waits for the bytes before it (then the hasher stops waiting).
WAIT_SECONDS = 5.0
#: Largest slab; an array whose slab would be bigger is written shard by shard by dask (its file read again to hash).
SLAB_LIMIT_BYTES = 256 * 2**20
_FINISH_BYTES = 8 * 2**20


class OrderedHasher:
    """SHA-256 of one file of ``size`` bytes, fed pieces in any order (thread-safe), finished in file order."""

    def __init__(self, source: Source, size: int, pending_bytes: int = PENDING_BYTES) -> None:
        self.source, self.size, self.limit = source, size, pending_bytes
        self.position = 0
        self.reread = 0  # bytes read again by finish (not fed, or fed too far ahead)
        self._digest = hashlib.sha256()
        self._pending: dict[int, bytes] = {}
        self._held = 0
        self._lock = threading.Condition()
        self._waiting = True
        self._expected: list[tuple[int, int]] = []

    def expect(self, start: int, end: int) -> None:
        """Bytes ``[start, end)`` will be fed: a piece after them waits for them instead of reading them."""
        with self._lock:
            self._expected.append((start, end))

    def feed(self, offset: int, block: Any) -> None:
        """Hash ``block`` (bytes at ``offset`` of the file) when the bytes before it are hashed."""
        data = memoryview(block).cast("B")
        with self._lock:
            self._read_unexpected(offset)
            if offset > self.position and self._waiting:
                self._waiting = self._lock.wait_for(lambda: offset <= self.position, WAIT_SECONDS)
            if offset <= self.position:
                self._update_from(offset, data)
                self._drain()
                self._lock.notify_all()
            elif offset not in self._pending and self._held + len(data) <= self.limit:
                self._pending[offset] = bytes(data)
                self._held += len(data)

    def finish(self) -> str:
        """Read and hash what was not fed (up to ``size``); the hex digest."""
        with self._lock:
            while self.position < self.size:
                self._drain()
                ahead = min((o for o in self._pending if o > self.position), default=self.size)
                end = min(ahead, self.size, self.position + _FINISH_BYTES)
                if end > self.position:
                    self._read_to(end)
            return self._digest.hexdigest()

    def _read_unexpected(self, offset: int) -> None:
        """Read and hash the bytes from the position up to ``offset`` that no announced range covers."""
        while self.position < offset and not any(s <= self.position < e for s, e in self._expected):
            announced = min((s for s, _ in self._expected if s > self.position), default=offset)
            self._read_to(min(offset, announced, self.position + _FINISH_BYTES))
            self._drain()
            self._lock.notify_all()

    def _read_to(self, end: int) -> None:
        """Read the file from the position to ``end`` and hash it (counted in :attr:`reread`)."""
        (buf,) = read_ranges(self.source, [(self.position, end)])
        self.reread += end - self.position
        self._update_from(self.position, memoryview(buf.data).cast("B"))

    def _update_from(self, offset: int, data: memoryview) -> None:
        skip = self.position - offset
        end = min(len(data), self.size - offset)
        if skip < end:
            self._digest.update(data[skip:end])
            self.position = offset + end

    def _drain(self) -> None:
        while ready := [o for o in self._pending if o <= self.position]:
            for offset in sorted(ready):
                data = self._pending.pop(offset)
                self._held -= len(data)
                self._update_from(offset, memoryview(data))


def find_disk_array(array: Any) -> DiskArray | None:
    """The whole disk array behind a variable's data (through renamed dims), or None (derived, one band of a cube)."""
    if isinstance(array, RenamedArray):
        return find_disk_array(array.array)
    return array if isinstance(array, DiskArray) and array.band is None else None


def read_slab(array: DiskArray, rows: tuple[int, int], hasher: OrderedHasher | None) -> np.ndarray:
    """Rows ``[a, b)`` of the file's slowest axis of ``array`` (one range), ``dims`` order, native; pieces fed to ``hasher``."""
    layout = array.layout
    row_bytes = prod(layout.storage_shape[1:]) * layout.dtype.itemsize
    start, end = layout.offset + rows[0] * row_bytes, layout.offset + rows[1] * row_bytes
    on_block = None if hasher is None else (lambda _i, lo, block: hasher.feed(start + lo, block))
    (buf,) = read_ranges(array.source, [(start, end)], on_block)
    data = to_native(buf.view(layout.dtype).reshape(rows[1] - rows[0], *layout.storage_shape[1:]))
    return data.transpose([layout.storage_dims.index(d) for d in layout.dims])


def write_in_slabs(array: DiskArray, target: Any, step: int, hasher: OrderedHasher | None, threads: int) -> None:
    """Copy ``array`` into the zarr array ``target`` slab by slab (``step`` rows of the file's slowest axis each).

    Slabs go to ``threads`` threads in file order (first in, first out), so while one thread reads
    and hashes a slab the others compress and write the slabs before it; at most ``threads`` slabs
    are held. ``step`` is the shards' extent along that axis, so each slab writes whole shards.
    """
    rows = array.layout.storage_shape[0]
    axis = array.layout.dims.index(array.layout.storage_dims[0])
    if hasher is not None:
        hasher.expect(array.layout.offset, array.layout.offset + slab_bytes(array, rows))

    def copy(a: int) -> None:
        b = min(a + step, rows)
        target[tuple(slice(a, b) if i == axis else slice(None) for i in range(len(array.shape)))] = read_slab(
            array, (a, b), hasher)

    if threads <= 1:
        for a in range(0, rows, step):
            copy(a)
        return
    with ThreadPoolExecutor(threads, thread_name_prefix="xarray-crism-slab") as pool:
        for done in [pool.submit(copy, a) for a in range(0, rows, step)]:
            done.result()


def slab_bytes(array: DiskArray, step: int) -> int:
    """Bytes of one slab of ``step`` rows of ``array``'s slowest file axis."""
    return step * prod(array.layout.storage_shape[1:]) * array.layout.dtype.itemsize


def is_in_process(scheduler: Any) -> bool:
    """Whether dask computes on this process's threads with ``scheduler`` (None: the current one)."""
    import dask.local
    import dask.threaded
    from dask.base import get_scheduler

    found = get_scheduler(scheduler=scheduler)  # type: ignore[no-untyped-call]
    return found in (dask.threaded.get, dask.local.get_sync)
