"""Chunk and shard shapes of the Zarr stores the converter writes (pure: numbers in, numbers out).

The rule, for any variable:

- every non-spatial axis (``band``, and any other) is whole in a chunk, so one spectrum is
  one chunk;
- the spatial axes (``line``/``sample`` or ``y``/``x``) are cut into square tiles, the largest
  power of two (8 to 1024) whose chunk stays within :data:`CHUNK_BYTES` uncompressed, so a
  spatial window is a few chunks (a single band costs every chunk it crosses: the price of
  whole spectra in a chunk);
- chunks are grouped into shards (one object each) of whole rows of tiles across the full width
  (narrower if a row of tiles alone exceeds :data:`SHARD_BYTES`), as many rows as fit
  :data:`SHARD_BYTES`. A shard is also the unit the converter writes, so memory stays near one
  shard per worker;
- arrays no bigger than one chunk are one chunk, without sharding.

A full-size TRDR (438 bands x 480 lines x 640 samples, float32) gets chunks of
438 x 32 x 32 (1.7 MiB) in shards of 438 x 32 x 288 (15 MiB, 45 shards); its S-sensor twin
(107 bands) 107 x 64 x 64 in 107 x 64 x 576; a DDR backplane (480 x 640 float32, 1.2 MiB) is
one chunk.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import prod
from typing import Any

__all__ = ["CHUNK_BYTES", "COMPRESSOR", "SHARD_BYTES", "SPATIAL_DIMS", "Chunking", "build_chunking"]

#: Uncompressed size a chunk (the unit a reader decompresses) stays within. 2 MiB rather than 1:
#: a spectrum costs the same (per-chunk overhead dominates) and a band image 3x less (bench_zarr).
CHUNK_BYTES = 2 * 2**20
#: Uncompressed size a shard (the unit written, one object) stays within. Writing holds about 3.5
#: shards per thread (the slab read, its chunks, their compressed copies), so 16 MiB keeps a
#: conversion near 100 MiB whatever the product's size (64 MiB shards: 185 MiB, bench_zarr).
SHARD_BYTES = 16 * 2**20
#: Blosc configuration of every chunk: zstd at level 3 (its default: 3x faster than level 5 for a
#: store 1% bigger on a full-size TRDR), byte shuffle.
COMPRESSOR: dict[str, Any] = {"cname": "zstd", "clevel": 3, "shuffle": "shuffle"}
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
