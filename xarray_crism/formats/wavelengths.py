"""Wavelengths: the SIS's standard-sampling (SW) definition, epochs, and the shipped table.

The SW wavelength of a detector row is the mean of that row of the unbinned WA CDR over
columns 270-369 (IR, sensor L) or 260-359 (VNIR, sensor S), where spectral smile and keystone
are least. For a binned WA image the same columns are the binned columns ``270 // b`` to
``370 // b`` (exact for every CRISM binning, 1, 2, 5 and 10). Calibration files apply from their
start SCLK on: the one used is the latest whose (partition, time) is not after the observation.
"""

from __future__ import annotations

import csv
import importlib.resources
from collections.abc import Sequence
from functools import cache
from typing import TypeVar

import numpy as np

__all__ = [
    "SW_COLUMNS",
    "build_sw_wavelengths",
    "build_wavelengths_for_rows",
    "choose_epoch",
    "parse_sclk",
    "read_shipped_table",
]

#: Unbinned detector columns [start, stop) that define the SW wavelength, per sensor.
SW_COLUMNS = {"L": (270, 370), "S": (260, 360)}
NOT_SCENE = 65535.0
T = TypeVar("T")


def build_sw_wavelengths(wa: np.ndarray, binning: int, sensor: str) -> np.ndarray:
    """SW wavelength per band of a WA image ``(band, sample)`` binned ``binning`` times."""
    start, stop = SW_COLUMNS[sensor]
    if start % binning or stop % binning:
        raise ValueError(f"binning {binning} does not map columns {start}-{stop - 1} exactly")
    columns = np.asarray(wa[:, start // binning : stop // binning], dtype=np.float64)
    columns = np.where(columns == NOT_SCENE, np.nan, columns)
    with np.errstate(invalid="ignore"):
        counts = np.sum(~np.isnan(columns), axis=1)
        total = np.nansum(columns, axis=1)
        return np.where(counts > 0, total / np.maximum(counts, 1), np.nan)


def build_wavelengths_for_rows(detector_rows: np.ndarray, table_rows: np.ndarray, table_wavelengths: np.ndarray) -> np.ndarray:
    """Look each detector row up in a (row, wavelength) table; NaN where the table has none."""
    lookup = np.full(512, np.nan)
    valid = (table_wavelengths != NOT_SCENE) & (table_rows >= 0) & (table_rows < 512)
    lookup[table_rows[valid]] = table_wavelengths[valid]
    rows = np.asarray(detector_rows, dtype=np.int64)
    inside = (rows >= 0) & (rows < 512)
    out = np.full(rows.shape, np.nan)
    out[inside] = lookup[rows[inside]]
    return out


def parse_sclk(text: object) -> tuple[int, int] | None:
    """``"7/0934686406.23361"`` -> ``(7, 934686406)``; None when not a clock count."""
    parts = str(text).strip().strip('"').split("/")
    if len(parts) != 2:
        return None
    try:
        return int(parts[0]), int(float(parts[1]))
    except ValueError:
        return None


def choose_epoch(candidates: Sequence[tuple[tuple[int, int], T]], observed: tuple[int, int] | None) -> T | None:
    """The candidate with the latest start clock not after ``observed`` (latest overall if unknown)."""
    eligible = [c for c in candidates if observed is None or c[0] <= observed]
    if not eligible:
        return None
    return max(eligible, key=lambda c: c[0])[1]


@cache
def read_shipped_table() -> dict[tuple[str, int, int], tuple[str, np.ndarray, np.ndarray]]:
    """The SW wavelengths shipped in the package: ``(sensor, partition, time) -> (source, rows, nm)``.

    Made by ``tools/make_wavelength_table.py`` from the real WA CDRs of the test corpus.
    """
    path = importlib.resources.files("xarray_crism") / "data" / "sw_wavelengths.csv"
    groups: dict[tuple[str, int, int], tuple[str, list[int], list[float]]] = {}
    with path.open(encoding="ascii") as f:
        for row in csv.DictReader(line for line in f if not line.startswith("#")):
            key = (row["sensor"], int(row["sclk_partition"]), int(row["sclk_time"]))
            entry = groups.setdefault(key, (row["source_product_id"], [], []))
            entry[1].append(int(row["detector_row"]))
            entry[2].append(float(row["wavelength_nm"]))
    return {k: (src, np.array(r), np.array(w)) for k, (src, r, w) in groups.items()}
