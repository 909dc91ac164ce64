"""Reading part of an array: an outer-indexing key becomes the fewest byte ranges.

The key is given in the layout's ``dims`` order (ints, slices or sorted/unsorted integer
arrays, one per dimension, as xarray's ``OUTER`` indexing support hands them over). It is
turned into storage order; for every selected index of the slowest storage axis, the span of
the second axis that the key touches is read (a whole run of slow indices in one range when
the span is full). One spectrum of a line-interleaved cube is therefore one line of the file,
and a full read is one range. A key that is not one contiguous run of bytes of a *local* file is
read straight into the output instead (:mod:`.local_reads`: whole rows by ``preadv``, parts of
rows through a read-only map; no byte copied that the key does not keep).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
from fsspec.implementations.local import LocalFileSystem

from ..formats.layouts import ArrayLayout
from ..io.sources import Source, read_ranges, read_ranges_into
from .decoding import Decoding, to_native
from .local_reads import build_row_ranges, read_mapped, read_rows, rows_beat_map

__all__ = ["Key", "build_ranges", "read_array", "read_whole_range"]

Key = tuple[int | slice | np.ndarray, ...]


def read_array(source: Source, layout: ArrayLayout, key: Key, decoding: Decoding | None = None) -> np.ndarray:
    """Read ``layout[key]`` (outer indexing, ``dims`` order) from ``source``, native byte order.

    With a ``decoding``, the values come back decoded (masked, scaled): block by block while they
    are read when the key is the whole of one range, otherwise after the selection.
    """
    if len(layout.storage_shape) == 1:
        return _read_vector(source, layout, key, decoding)
    storage_key, dropped = _to_storage_key(layout, key)
    counts = [_indices(k, n).size for k, n in zip(storage_key, layout.storage_shape, strict=True)]
    if 0 in counts:
        sizes = dict(zip(layout.storage_dims, counts, strict=True))
        shape = [sizes[d] for i, d in enumerate(layout.dims) if i not in dropped]
        return np.empty(shape, dtype=decoding.dtype if decoding else layout.dtype.newbyteorder("="))
    slow = _indices(storage_key[0], layout.storage_shape[0])
    if isinstance(source.fs, LocalFileSystem):
        data = _read_local_strided(source, layout, storage_key, decoding)
        if data is not None:
            return _to_dims(layout, data, dropped)
    unique = np.unique(slow)
    pieces = _pieces(storage_key[1], layout.storage_shape[1], _row_bytes(layout))
    ranges, runs = build_ranges(layout, unique, pieces)
    inner = (sum(b - a for a, b in pieces), *layout.storage_shape[2:])
    selection = [
        _relative(np.searchsorted(unique, slow), len(unique)),
        _positions(storage_key[1], layout.storage_shape[1], pieces),
        *storage_key[2:],
    ]
    whole = len(ranges) == 1 and _is_whole(selection, (runs[0], *inner))
    if whole:
        data = read_whole_range(source, layout.dtype, ranges[0], decoding).reshape(runs[0], *inner)
    else:
        buf = np.empty(unique.size * int(np.prod(inner)) * layout.dtype.itemsize, dtype=np.uint8)
        read_ranges_into(source, ranges, buf)
        data = _outer_index(buf.view(layout.dtype).reshape(unique.size, *inner), selection)
    data = _to_dims(layout, data, dropped)
    if whole:
        return data
    if decoding is not None:
        return decoding.decode(data, fresh=True)
    return data if data.dtype.isnative else data.astype(data.dtype.newbyteorder("="))


def read_whole_range(source: Source, stored: np.dtype, byte_range: tuple[int, int], decoding: Decoding | None) -> np.ndarray:
    """One byte range as a flat array of native ``stored`` values, or decoded, each block as it lands."""
    native = stored.newbyteorder("=")
    if decoding is None and stored.isnative:
        return read_ranges(source, [byte_range])[0].view(native)
    in_place = decoding is None or decoding.in_place(stored)
    out = None if in_place else np.empty((byte_range[1] - byte_range[0]) // stored.itemsize, dtype=decoding.dtype)  # type: ignore[union-attr]

    def on_block(_: int, lo: int, block: np.ndarray) -> None:
        raw = block.view(stored)
        if in_place:
            raw = to_native(raw)
        if decoding is not None:
            first = lo // stored.itemsize
            decoding.decode_into(raw, raw if out is None else out[first : first + raw.size])

    buf = read_ranges(source, [byte_range], on_block)[0]
    return buf.view(native) if out is None else out


def _read_local_strided(
    source: Source, layout: ArrayLayout, storage_key: Sequence[slice | np.ndarray], decoding: Decoding | None,
) -> np.ndarray | None:
    """A local key that is not one run of bytes, read straight into the output (storage order): by rows
    when it keeps whole rows, through a map when it keeps parts of rows. None for one run of bytes."""
    indices = [_indices(k, n) for k, n in zip(storage_key, layout.storage_shape, strict=True)]
    if _is_contiguous(indices, layout.storage_shape):
        return None
    if all(_is_full(k, n) for k, n in zip(indices[2:], layout.storage_shape[2:], strict=True)):
        ranges = build_row_ranges(layout, indices[0], indices[1])
        if rows_beat_map(layout, indices[0], ranges):
            return read_rows(source, layout, (indices[0].size, indices[1].size), ranges, decoding)
    rest = [k if isinstance(k, slice) else i for k, i in zip(storage_key[1:], indices[1:], strict=True)]
    return read_mapped(source, layout, indices[0], rest, decoding)


def _to_dims(layout: ArrayLayout, data: np.ndarray, dropped: set[int]) -> np.ndarray:
    """``data`` (storage order) in ``dims`` order, without the axes an integer indexed."""
    data = data.transpose([layout.storage_dims.index(d) for d in layout.dims])
    if dropped:
        data = data[tuple(0 if i in dropped else slice(None) for i in range(data.ndim))]
    return data


def _is_contiguous(indices: Sequence[np.ndarray], shape: Sequence[int]) -> bool:
    """Whether the selected indices (storage order) are one run of bytes: single indices, then one
    ascending run, then whole axes."""
    j = next((i for i, k in enumerate(indices) if k.size != 1), len(indices))
    if j < len(indices) and not (np.diff(indices[j]) == 1).all():
        return False
    return all(_is_full(k, n) for k, n in zip(indices[j + 1 :], shape[j + 1 :], strict=True))


def _is_full(indices: np.ndarray, size: int) -> bool:
    """Whether ``indices`` (of an axis of ``size``) are the whole axis, in order."""
    return indices.size == size and bool((np.diff(indices) == 1).all())


def _is_whole(selection: Sequence[slice | np.ndarray], shape: tuple[int, ...]) -> bool:
    return all(isinstance(s, slice) and s.indices(n) == (0, n, 1) for s, n in zip(selection, shape, strict=True))


def _read_vector(source: Source, layout: ArrayLayout, key: Key, decoding: Decoding | None) -> np.ndarray:
    (dim,) = layout.dims
    as_column = replace(layout, storage_dims=(dim, "_"), storage_shape=(*layout.storage_shape, 1), dims=(dim, "_"))
    return read_array(source, as_column, (*key, slice(None)), decoding)[..., 0]


def build_ranges(
    layout: ArrayLayout, slow: np.ndarray, span: tuple[int, int] | Sequence[tuple[int, int]]
) -> tuple[list[tuple[int, int]], list[int]]:
    """Byte ranges covering sorted unique slow-axis indices ``slow`` and, of the second axis, one
    ``span`` ``(start, stop)`` or several (pieces of a sparse selection, read one by one).

    Returns the ranges, slow index by slow index and piece by piece, and how many slow indices each
    covers. Consecutive slow indices merge into one range when one span covers the whole second axis.
    """
    pieces = [span] if isinstance(span, tuple) else list(span)
    shape = layout.storage_shape
    row_bytes = _row_bytes(layout)
    slab_bytes = shape[1] * row_bytes
    if pieces == [(0, shape[1])]:
        runs = _runs(slow)
        ranges = [(layout.offset + a * slab_bytes, layout.offset + b * slab_bytes) for a, b in runs]
        return ranges, [b - a for a, b in runs]
    starts = layout.offset + slow.astype(np.int64)[:, None] * slab_bytes + np.array([a for a, _ in pieces]) * row_bytes
    lengths = np.array([b - a for a, b in pieces], dtype=np.int64) * row_bytes
    ranges = list(zip(starts.ravel().tolist(), (starts + lengths).ravel().tolist(), strict=True))
    return ranges, [1] * len(ranges)


#: Gap (bytes) under which two pieces of a sparse second-axis selection are read as one range.
MERGE_GAP_BYTES = 16 * 1024


def _row_bytes(layout: ArrayLayout) -> int:
    return int(np.prod(layout.storage_shape[2:], dtype=np.int64)) * layout.dtype.itemsize


def _pieces(k: slice | np.ndarray, size: int, row_bytes: int) -> list[tuple[int, int]]:
    """The second-axis spans to read: one span, or the runs of a sparse selection (5 bands of 438)."""
    idx = np.unique(_indices(k, size))
    if idx.size == 0:
        return [(0, 0)]
    gaps = np.flatnonzero(np.diff(idx) * row_bytes > MERGE_GAP_BYTES + row_bytes) + 1
    starts, stops = np.concatenate(([0], gaps)), np.concatenate((gaps, [idx.size]))
    return [(int(idx[a]), int(idx[b - 1]) + 1) for a, b in zip(starts, stops, strict=True)]


def _positions(k: slice | np.ndarray, size: int, pieces: list[tuple[int, int]]) -> slice | np.ndarray:
    """Where the selected second-axis indices are in the pieces read one after the other."""
    if len(pieces) == 1:
        return _shift(k, size, pieces[0][0])
    starts = np.array([a for a, _ in pieces])
    before = np.concatenate(([0], np.cumsum([b - a for a, b in pieces])[:-1]))
    idx = _indices(k, size)
    j = np.searchsorted(starts, idx, side="right") - 1
    positions: np.ndarray = idx - starts[j] + before[j]
    return positions


def _to_storage_key(layout: ArrayLayout, key: Key) -> tuple[list[slice | np.ndarray], set[int]]:
    if len(key) != len(layout.dims):
        raise IndexError(f"expected {len(layout.dims)} indices for {layout.dims}, got {len(key)}")
    by_dim: dict[str, slice | np.ndarray] = {}
    dropped = set()
    for i, (dim, k) in enumerate(zip(layout.dims, key, strict=True)):
        if isinstance(k, (int, np.integer)):
            size = layout.size[dim]
            index = int(k) + size if k < 0 else int(k)
            if not 0 <= index < size:
                raise IndexError(f"index {k} is out of bounds for {dim} of size {size}")
            by_dim[dim] = slice(index, index + 1)
            dropped.add(i)
        else:
            by_dim[dim] = k
    return [by_dim[d] for d in layout.storage_dims], dropped


def _indices(k: slice | np.ndarray, size: int) -> np.ndarray:
    if isinstance(k, slice):
        return np.arange(size)[k]
    return np.asarray(k, dtype=np.int64) % size if size else np.asarray(k, dtype=np.int64)


def _shift(k: slice | np.ndarray, size: int, offset: int) -> slice | np.ndarray:
    idx = _indices(k, size) - offset
    if isinstance(k, slice) and k.step in (None, 1) and idx.size:
        return slice(int(idx[0]), int(idx[-1]) + 1)
    return idx


def _relative(positions: np.ndarray, count: int) -> slice | np.ndarray:
    if positions.size == count and np.array_equal(positions, np.arange(count)):
        return slice(None)
    return positions


def _runs(sorted_unique: np.ndarray) -> list[tuple[int, int]]:
    if sorted_unique.size == 0:
        return []
    breaks = np.flatnonzero(np.diff(sorted_unique) != 1) + 1
    starts = np.concatenate(([0], breaks))
    stops = np.concatenate((breaks, [sorted_unique.size]))
    return [(int(sorted_unique[a]), int(sorted_unique[b - 1]) + 1) for a, b in zip(starts, stops, strict=True)]


def _outer_index(data: np.ndarray, selection: Sequence[slice | np.ndarray]) -> np.ndarray:
    if all(isinstance(s, slice) for s in selection):
        return data[tuple(selection)]
    for axis, s in enumerate(selection):
        if not isinstance(s, slice) or s != slice(None):
            data = data[(slice(None),) * axis + (s,)]
    return data
