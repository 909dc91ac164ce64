"""Chunk and shard shapes of the Zarr stores the converter writes (pure: numbers in, numbers out).

The rule, for any variable, given a named layout (:data:`LAYOUTS`, default :data:`DEFAULT_LAYOUT`):

- every non-spatial axis (``band``, and any other) is cut into pieces of the layout's ``depth``
  (``None``: whole, so one spectrum is one chunk);
- the spatial axes (``line``/``sample`` or ``y``/``x``) are cut into square tiles, the largest
  power of two (8 to 1024) whose chunk stays within the layout's ``chunk_bytes`` uncompressed;
- chunks are grouped into shards (one object each) within :data:`SHARD_BYTES`: tiles across the
  full width first (narrower if a row of tiles alone exceeds it), then as many non-spatial pieces
  as fit, then rows of tiles. A shard is therefore one row of tiles tall: the converter reads the
  source in slabs of whole file rows as tall as a shard (one range each, hashed as it is read, see
  :mod:`xarray_crism.cloud.hashing`) and cuts the shards from them;
- arrays no bigger than one chunk are one chunk, without sharding.

The layouts, on a full-size TRDR (438 bands x 480 lines x 320 samples, float32; measured in
``benchmarks/bench_zarr.py``, table in ``docs/zarr.md``):

- ``"balanced"`` (default): 32 bands, 512 KiB chunks (32 x 64 x 64): one band image decompresses
  1/14 of the store, one spectrum 14 chunks of 64 x 64 pixels (a 3-band Mastcam-Z image: 256 x 256
  tiles). 64 bands (1 MiB) were the default before: a band image cost 1/7 of a full read (14%);
- ``"spectra"``: whole spectra, 438 x 32 x 32 (1.7 MiB): one spectrum is one chunk, but one band
  image decompresses every chunk of the store;
- ``"bands"``: one band x 512 x 512 (1 MiB): one band image is one chunk, a spectrum one chunk per band.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import prod
from typing import Any

from ..errors import QueryError

__all__ = [
    "CHUNK_BYTES", "COMPRESSOR", "DEFAULT_LAYOUT", "LAYOUTS", "SHARD_BYTES", "SPATIAL_DIMS", "Chunking", "Layout",
    "build_chunking", "check_layout",
]

#: Largest array written as one chunk (unsharded); also the ``"spectra"`` layout's chunk size (2 MiB rather
#: than 1: a spectrum costs the same, per-chunk overhead dominates, and a band image 3x less).
CHUNK_BYTES = 2 * 2**20
#: Uncompressed size a shard (one object) stays within. The converter holds about one slab (whole
#: file rows as tall as a shard: one row of tiles, every band) per thread and the shards cut from
#: it: a 438 x 480 x 320 TRDR (36 MiB slabs) converts in about 200 MiB on 2 threads (bench_zarr).
SHARD_BYTES = 16 * 2**20
#: Blosc configuration of every chunk: zstd at level 3 (its default: 3x faster than level 5 for a
#: store 1% bigger on a full-size TRDR), byte shuffle.
COMPRESSOR: dict[str, Any] = {"cname": "zstd", "clevel": 3, "shuffle": "shuffle"}
#: Dimensions cut into tiles; every other dimension is whole in a chunk.
SPATIAL_DIMS = frozenset({"line", "sample", "y", "x"})
_MIN_TILE, _MAX_TILE = 8, 1024


@dataclass(frozen=True)
class Layout:
    """A named chunk layout: values per chunk along non-spatial axes (``None``: whole) and the chunk size the tiles fit."""

    depth: int | None
    chunk_bytes: int
    what: str


#: The named layouts (``to_zarr(chunks=...)``, ``convert --chunks``).
LAYOUTS: dict[str, Layout] = {
    "balanced": Layout(32, 2**19, "32 bands x 64 x 64 (TRDR): band images, spectra, windows and full reads all cheap"),
    "spectra": Layout(None, 2**21, "whole spectra x 32 x 32 (TRDR): a spectrum is one chunk, a band image every chunk"),
    "bands": Layout(1, 2**20, "one band x 512 x 512: a band image is one chunk, a spectrum one chunk per band"),
}
#: The layout used unless another is named.
DEFAULT_LAYOUT = "balanced"


@dataclass(frozen=True)
class Chunking:
    """Chunk shape and shard shape (``None``: not sharded) of one variable."""

    chunks: tuple[int, ...]
    shards: tuple[int, ...] | None


def check_layout(name: str) -> Layout:
    """The layout called ``name``, or a :class:`~xarray_crism.errors.CrismError` listing the names."""
    if name not in LAYOUTS:
        raise QueryError("to_zarr", "chunks", name, f"one of {', '.join(map(repr, LAYOUTS))}",
                          "Name a layout of xarray_crism.cloud.zarr_layout.LAYOUTS (docs/zarr.md compares them)")
    return LAYOUTS[name]


def build_chunking(dims: tuple[str, ...], shape: tuple[int, ...], itemsize: int, layout: str = DEFAULT_LAYOUT) -> Chunking:
    """The chunking of an array of ``shape`` (dims ``dims``) and ``itemsize`` bytes per value, in ``layout``."""
    preset = check_layout(layout)
    if prod(shape) * itemsize <= CHUNK_BYTES or not SPATIAL_DIMS.intersection(dims):
        return Chunking(tuple(max(n, 1) for n in shape), None)
    spatial = [i for i, d in enumerate(dims) if d in SPATIAL_DIMS]
    depth = [n if preset.depth is None else min(n, preset.depth) for n in shape]
    whole = prod(depth[i] for i in range(len(shape)) if i not in spatial) * itemsize
    tile = _tile_side(whole, len(spatial), preset.chunk_bytes)
    chunks = tuple(min(tile, n) if i in spatial else depth[i] for i, n in enumerate(shape))
    chunk_bytes = prod(chunks) * itemsize
    shards = list(chunks)
    *rows, across = spatial
    fit = max(1, SHARD_BYTES // chunk_bytes)  # chunks per shard: across the full width first, then depth, then rows
    for i in (across, *(i for i in range(len(shape)) if i not in spatial), *rows):
        shards[i] = chunks[i] * min(_ceil_div(shape[i], chunks[i]), fit)
        fit = max(1, fit // (shards[i] // chunks[i]))
    return Chunking(chunks, tuple(shards))


def _tile_side(whole_bytes: int, spatial_axes: int, chunk_bytes: int) -> int:
    side = _MIN_TILE
    while side * 2 <= _MAX_TILE and whole_bytes * (side * 2) ** spatial_axes <= chunk_bytes:
        side *= 2
    return side


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)
