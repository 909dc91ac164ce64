"""Product footprints of an index (four corners and centre) and the ``bbox`` filter, vectorised.

A footprint's longitudes span the smallest arc (degrees east) that holds them all; a box
``(west, south, east, north)`` meets a footprint when their arcs overlap (across 0/360 when
``west > east``) and their latitude ranges do. :func:`build_arc` computes one arc (plain Python:
five values, for an entry's metadata); :func:`find_intersecting` the same for every row at once
(NumPy over rows: a whole-mission index has 10^6), with the same arithmetic and the same ties.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["CORNERS", "build_arc", "find_intersecting"]

#: The footprint points of an index row (SIS Table 3-17 ``*_LATITUDE``/``*_LONGITUDE`` columns).
CORNERS = ("UPPER_LEFT", "UPPER_RIGHT", "LOWER_LEFT", "LOWER_RIGHT", "CENTER")


def build_arc(lons: list[float]) -> tuple[float, float]:
    """The smallest arc (start, width) in degrees east that holds every longitude."""
    ring = sorted(float(lon) % 360.0 for lon in lons)
    gaps = [b - a for a, b in zip(ring, [*ring[1:], ring[0] + 360.0], strict=True)]
    after = max(range(len(gaps)), key=gaps.__getitem__)
    return ring[(after + 1) % len(ring)], 360.0 - gaps[after]


def find_intersecting(index: pd.DataFrame, bbox: tuple[float, float, float, float], rows: np.ndarray) -> np.ndarray:
    """Which of ``index``'s rows (among those ``rows`` marks) have a footprint that meets ``bbox``."""
    west, south, east, north = bbox
    corners = [c for c in CORNERS if f"{c}_LATITUDE" in index and f"{c}_LONGITUDE" in index]  # older indexes: centre only
    where = np.flatnonzero(rows)
    lats = np.column_stack([index[f"{c}_LATITUDE"].to_numpy(np.float64, na_value=np.nan)[where] for c in corners])
    lons = np.column_stack([index[f"{c}_LONGITUDE"].to_numpy(np.float64, na_value=np.nan)[where] for c in corners])
    known = ~np.isnan(lats) & ~np.isnan(lons)
    start, width = _arcs(np.where(known, lons, np.nan), known.sum(axis=1))
    box_start, box_width = west % 360.0, 360.0 if east - west >= 360.0 else (east - west) % 360.0
    lon_hit = ((box_start - start) % 360.0 <= width) | ((start - box_start) % 360.0 <= box_width)
    lat_hit = (np.where(known, lats, -np.inf).max(axis=1) >= south) & (np.where(known, lats, np.inf).min(axis=1) <= north)
    out = np.zeros(len(index), dtype=bool)
    out[where] = known.any(axis=1) & lon_hit & lat_hit
    return out


def _arcs(lons: np.ndarray, count: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`build_arc` of each row of ``lons`` (its ``count`` known values; NaN elsewhere): (start, width)."""
    ring = np.sort(lons % 360.0, axis=1)  # NaN last: the known values first, in order
    column = np.arange(ring.shape[1])
    last = np.maximum(count - 1, 0)
    following = np.concatenate([ring[:, 1:], ring[:, :1]], axis=1)
    following = np.where(column < last[:, None], following, ring[:, :1] + 360.0)
    gaps = np.where(column < count[:, None], following - ring, -np.inf)
    after = np.argmax(gaps, axis=1)  # the first largest gap, as max() over a range
    rows = np.arange(len(ring))
    start = ring[rows, (after + 1) % np.maximum(count, 1)]
    return start, 360.0 - gaps[rows, after]
