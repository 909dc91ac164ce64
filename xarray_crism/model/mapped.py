"""Strided reads of a local file: the kept values copied (and decoded) from a read-only map into the output.

A key that is not one contiguous run of bytes (one band of a line-interleaved cube, a window of all
bands, a spectrum, a list of bands) is read from the file mapped read-only
(:func:`~xarray_crism.io.local.read_local_mapped`): the selected values are copied straight into
the output array, a few hundred KiB of it at a time, and each such block is decoded (masked,
scaled) while it is still in the CPU cache. No byte the key does not keep is copied, and there is
no Python work per row. Remote files are read by byte ranges instead (:mod:`.reader`).
"""

from __future__ import annotations

from collections.abc import Sequence
from math import prod

import numpy as np

from ..formats.layouts import ArrayLayout
from ..io.local import read_local_mapped
from ..io.sources import Source
from .decoding import Decoding

__all__ = ["as_slice", "read_mapped"]

Index = slice | np.ndarray

#: Bytes of output copied and decoded at a time (about half an L2 cache).
MAPPED_BLOCK_BYTES = 1 << 19


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
