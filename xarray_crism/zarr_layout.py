"""Chunk and shard shapes of the Zarr stores the converter writes (pure: numbers in, numbers out).

The rule, for any variable:

- every non-spatial axis (``band``, and any other) is whole in a chunk, so one spectrum is
  one chunk;
- the spatial axes (``line``/``sample`` or ``y``/``x``) are cut into square tiles, the largest
  power of two (8 to 1024) whose chunk stays within :data:`CHUNK_BYTES` uncompressed, so a band
  image is a grid of tiles;
- chunks are grouped into shards (one object each) of whole rows of tiles across the full width
  (narrower if a row of tiles alone exceeds :data:`SHARD_BYTES`), as many rows as fit
  :data:`SHARD_BYTES`. A shard is also the unit the converter writes, so memory stays near one
  shard per worker;
- arrays no bigger than one chunk are one chunk, without sharding.

A full-size TRDR (438 bands x 480 lines x 640 samples, float32) gets chunks of
438 x 16 x 16 (0.43 MiB) in shards of 438 x 48 x 640 (51 MiB, 10 shards); a DDR backplane
(480 x 640 float32) is one 480 x 512 chunk wide.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import prod
from typing import Any

__all__ = ["CHUNK_BYTES", "COMPRESSOR", "SHARD_BYTES", "SPATIAL_DIMS", "Chunking", "build_chunking"]

#: Uncompressed size a chunk (the unit a reader decompresses) stays within.
CHUNK_BYTES = 1 * 2**20
#: Uncompressed size a shard (the unit written, one object) stays within.
SHARD_BYTES = 64 * 2**20
#: Blosc configuration of every chunk: zstd at level 5, byte shuffle.
COMPRESSOR: dict[str, Any] = {"cname": "zstd", "clevel": 5, "shuffle": "shuffle"}
#: Dimensions cut into tiles; every other dimension is whole in a chunk.
SPATIAL_DIMS = frozenset({"line", "sample", "y", "x"})
_MIN_TILE, _MAX_TILE = 8, 1024


@dataclass(frozen=True)
class Chunking:
    """Chunk shape and shard shape (``None``: not sharded) of one variable."""

    chunks: tuple[int, ...]
    shards: tuple[int, ...] | None


def build_chunking(dims: tuple[str, ...], shape: tuple[int, ...], itemsize: int) -> Chunking:
    """The chunking of an array of ``shape`` (dims ``dims``) and ``itemsize`` bytes per value."""
    if prod(shape) * itemsize <= CHUNK_BYTES or not SPATIAL_DIMS.intersection(dims):
        return Chunking(tuple(max(n, 1) for n in shape), None)
    spatial = [i for i, d in enumerate(dims) if d in SPATIAL_DIMS]
    whole = prod(n for i, n in enumerate(shape) if i not in spatial) * itemsize
    tile = _tile_side(whole, len(spatial))
    chunks = tuple(min(tile, n) if i in spatial else n for i, n in enumerate(shape))
    chunk_bytes = prod(chunks) * itemsize
    shards = list(chunks)
    *rows, across = spatial
    fit_across = max(1, SHARD_BYTES // chunk_bytes)
    shards[across] = chunks[across] * min(_ceil_div(shape[across], chunks[across]), fit_across)
    fit_rows = max(1, SHARD_BYTES // (chunk_bytes * (shards[across] // chunks[across])))
    for i in rows:
        shards[i] = chunks[i] * min(_ceil_div(shape[i], chunks[i]), fit_rows)
        fit_rows = max(1, fit_rows // (shards[i] // chunks[i]))
    return Chunking(chunks, tuple(shards))


def _tile_side(whole_bytes: int, spatial_axes: int) -> int:
    side = _MIN_TILE
    while side * 2 <= _MAX_TILE and whole_bytes * (side * 2) ** spatial_axes <= CHUNK_BYTES:
        side *= 2
    return side


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)
