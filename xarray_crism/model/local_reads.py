"""Strided reads of a local file, straight into the output: whole rows by ``preadv``, parts of rows from a map.

A row is the run of the axes after the second (the samples of one band of one line, for a
line-interleaved cube). A key that keeps whole rows (one band, a list of bands, every other line)
is read row run by row run with one ``preadv`` each, straight into the output
(:func:`read_rows`): no buffer, no selection afterwards, no byte read that is not kept. A key
that keeps part of each row (a window of all bands, a spectrum) is read from the file mapped
read-only (:func:`read_mapped`, :func:`~xarray_crism.io.local.read_local_mapped`): the selected
values are copied into the output a few hundred KiB at a time, each block decoded (masked,
scaled) while it is still in the CPU cache; one system call per kept piece would cost more.
Remote files are read by byte ranges instead (:mod:`.reader`).
"""

from __future__ import annotations

from collections.abc import Sequence
from math import prod

import numpy as np

from ..formats.layouts import ArrayLayout
from ..io.local import read_local_into, read_local_mapped
from ..io.sources import Source
from .decoding import Decoding, to_native

__all__ = ["as_slice", "build_row_ranges", "read_mapped", "read_rows", "rows_beat_map"]

Index = slice | np.ndarray

#: Bytes of output copied and decoded at a time (about half an L2 cache).
MAPPED_BLOCK_BYTES = 1 << 19
#: Bytes a page fault of a file map makes readable at once (Linux maps 16 pages around the fault).
FAULT_BYTES = 1 << 16


def read_mapped(
    source: Source, layout: ArrayLayout, slow: np.ndarray, rest: Sequence[Index], decoding: Decoding | None,
) -> np.ndarray:
    """``layout`` at slow-axis indices ``slow`` and outer keys ``rest`` of the other storage axes,
    in storage order, native byte order (decoded with ``decoding``). ``slow`` is not empty."""
    lo, hi = int(slow.min()), int(slow.max()) + 1
    slab = prod(layout.storage_shape[1:]) * layout.dtype.itemsize
    keys = [k if isinstance(k, slice) else as_slice(k) for k in rest]
    shape = (slow.size, *(_count(k, n) for k, n in zip(keys, layout.storage_shape[1:], strict=True)))
    out = np.empty(shape, dtype=decoding.dtype if decoding else layout.dtype.newbyteorder("="))
    if out.size == 0:
        return out

    def copy(span: np.ndarray) -> np.ndarray:
        view = span.view(layout.dtype).reshape(hi - lo, *layout.storage_shape[1:])
        _copy_blocks(view, slow - lo, keys, out, decoding)
        return out

    span = (layout.offset + lo * slab, layout.offset + hi * slab)
    return read_local_mapped(source.url, source.path, source.stamp, span, copy)


def build_row_ranges(layout: ArrayLayout, slow: np.ndarray, second: np.ndarray) -> list[tuple[int, int]]:
    """Byte ranges of the whole rows at ``slow`` x ``second``, in that order; rows next to each other in
    the file share one range."""
    row_bytes = prod(layout.storage_shape[2:]) * layout.dtype.itemsize
    starts = (layout.offset + (slow[:, None] * layout.storage_shape[1] + second[None, :]) * row_bytes).ravel()
    first = np.concatenate(([0], np.flatnonzero(np.diff(starts) != row_bytes) + 1))
    ends = starts[first] + np.diff(np.concatenate((first, [starts.size]))) * row_bytes
    return list(zip(starts[first].tolist(), ends.tolist(), strict=True))


def rows_beat_map(layout: ArrayLayout, slow: np.ndarray, ranges: Sequence[tuple[int, int]]) -> bool:
    """Whether one ``preadv`` per range costs less than the map's page faults: the ranges lie further
    apart than a fault maps (one band of a line-interleaved cube), so the map would fault once per range."""
    span = (int(slow.max()) - int(slow.min()) + 1) * prod(layout.storage_shape[1:]) * layout.dtype.itemsize
    return len(ranges) * FAULT_BYTES <= span


def read_rows(
    source: Source, layout: ArrayLayout, shape: tuple[int, int], ranges: Sequence[tuple[int, int]],
    decoding: Decoding | None,
) -> np.ndarray:
    """The whole rows of ``ranges`` (:func:`build_row_ranges` of ``shape`` slow x second indices) read
    straight into the output, in storage order, native byte order (decoded with ``decoding``)."""
    raw = np.empty((*shape, *layout.storage_shape[2:]), dtype=layout.dtype)
    read_local_into(source.url, source.path, source.stamp, ranges, raw.reshape(-1).view(np.uint8))
    if decoding is None:
        return to_native(raw)
    return decoding.decode(raw, fresh=True)


def _copy_blocks(view: np.ndarray, slow: np.ndarray, keys: Sequence[Index], out: np.ndarray, decoding: Decoding | None) -> None:
    """``out[i] = decoded view[slow[i]][keys]``, a block of slow indices at a time (each block in cache)."""
    rows = max(1, MAPPED_BLOCK_BYTES // max(1, out[0].nbytes))
    first = as_slice(slow)
    if isinstance(first, slice):  # the slow axis as a view: blocks are plain slices of it
        view, slow = view[first], np.arange(slow.size)
    for a in range(0, slow.size, rows):
        block = slice(a, a + rows) if isinstance(first, slice) else slow[a : a + rows]
        _decode_block(_outer(view, (block, *keys)), out[a : a + rows], decoding)


def _decode_block(src: np.ndarray, dst: np.ndarray, decoding: Decoding | None) -> None:
    """``dst`` = ``src`` decoded: copied (byte order converted) then masked in place, or scaled in one pass."""
    if decoding is not None and not decoding.in_place(src.dtype):
        decoding.decode_into(src, dst)
        return
    np.copyto(dst, src)
    if decoding is not None:
        decoding.decode_into(dst, dst)


def _outer(view: np.ndarray, keys: Sequence[Index]) -> np.ndarray:
    """``view`` outer-indexed by ``keys``: a view when they are all slices, else the slices first."""
    data = view[tuple(k if isinstance(k, slice) else slice(None) for k in keys)]
    for axis, k in enumerate(keys):
        if not isinstance(k, slice):
            data = data.take(k, axis=axis)
    return data


def as_slice(indices: np.ndarray) -> Index:
    """Evenly spaced non-negative ``indices`` (a step of either sign) as a slice; others as they are."""
    if indices.size == 1:
        return slice(int(indices[0]), int(indices[0]) + 1)
    step = int(indices[1] - indices[0]) if indices.size else 0
    if step == 0 or not (np.diff(indices) == step).all():
        return indices
    stop = int(indices[-1]) + step
    return slice(int(indices[0]), stop if stop >= 0 else None, step)


def _count(key: Index, size: int) -> int:
    return len(range(size)[key]) if isinstance(key, slice) else int(key.size)
