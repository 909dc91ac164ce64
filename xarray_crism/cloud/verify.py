"""Checking a converted store against its source: every shard (or chunk), every coordinate and attribute.

Both sides are compared undecoded (values as stored), bit for bit: ``NaN`` payloads and masked
constants included. Each difference is one line naming the group, the variable and the region
(or the attribute), so a user can see exactly what did not survive.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import numpy as np
import xarray as xr

from .stores import RECORD_KEY

__all__ = ["compare_datasets", "compare_groups"]


def compare_groups(groups: dict[str, xr.Dataset], url: str, storage_options: dict[str, Any] | None) -> list[str]:
    """Differences between the source groups (path -> undecoded Dataset) and the store at ``url``.

    Each array's own metadata is read (not the consolidated copy), so a changed document is seen.
    """
    differences = []
    for path, source in groups.items():
        stored = xr.open_zarr(
            url, group=path or None, mask_and_scale=False, decode_times=False, decode_timedelta=False, consolidated=False,
            storage_options=storage_options or None,
        )
        differences += [f"/{path}: {d}" for d in compare_datasets(source, stored)]
    return differences


def compare_datasets(source: xr.Dataset, stored: xr.Dataset) -> list[str]:
    """Differences between a source Dataset and its stored copy (both undecoded)."""
    out = _compare_attrs("attrs", source.attrs, {k: v for k, v in stored.attrs.items() if k != RECORD_KEY})
    for name in sorted(set(source.variables) | set(stored.variables), key=str):
        if name not in stored.variables or name not in source.variables:
            out.append(f"{name}: only in the {'source' if name in source.variables else 'store'}")
            continue
        out += _compare_variable(str(name), source.variables[name], stored.variables[name])
    return out


def _compare_variable(name: str, source: xr.Variable, stored: xr.Variable) -> list[str]:
    if source.dims != stored.dims or source.shape != stored.shape or source.dtype != stored.dtype:
        return [f"{name}: {source.dims} {source.shape} {source.dtype} became {stored.dims} {stored.shape} {stored.dtype}"]
    out = _compare_attrs(f"{name}.attrs", source.attrs, stored.attrs)
    step = stored.encoding.get("shards") or stored.encoding.get("chunks") or source.shape
    for region in _regions(source.shape, tuple(step)):
        want, got = np.asarray(source[region].values), np.asarray(stored[region].values)
        if not _same_bits(want, got):
            count = int(np.sum(~_equal_values(want, got)))
            out.append(f"{name}[{_show(region)}]: {count} value(s) differ")
    return out


def _regions(shape: tuple[int, ...], step: tuple[int, ...]) -> Iterator[tuple[slice, ...]]:
    starts = [range(0, n, s) for n, s in zip(shape, step, strict=True)]
    for corner in itertools.product(*starts):
        yield tuple(slice(a, min(a + s, n)) for a, s, n in zip(corner, step, shape, strict=True))


def _same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    if a.dtype.kind in "biufc":
        return a.tobytes() == b.tobytes()
    return bool(np.array_equal(a, b))


def _equal_values(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if a.dtype.kind in "fc":
        return np.asarray((a == b) | (np.isnan(a) & np.isnan(b)), dtype=bool)
    return np.asarray(a == b, dtype=bool)


def _compare_attrs(where: str, source: dict[Any, Any], stored: dict[Any, Any]) -> list[str]:
    out = []
    for key in sorted(set(source) | set(stored), key=str):
        if key not in stored or key not in source:
            out.append(f"{where}[{key!r}]: only in the {'source' if key in source else 'store'}")
        elif not _same_value(source[key], stored[key]):
            out.append(f"{where}[{key!r}]: {source[key]!r} became {stored[key]!r}")
    return out


def _same_value(a: Any, b: Any) -> bool:
    try:
        return bool(np.array_equal(np.asarray(a), np.asarray(b), equal_nan=np.asarray(a).dtype.kind == "f"))
    except (TypeError, ValueError):
        return bool(a == b)


def _show(region: tuple[slice, ...]) -> str:
    return ", ".join(f"{s.start}:{s.stop}" for s in region)
