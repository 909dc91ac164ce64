"""Catalog entries from volume indexes: filters and sidecars, pure (pandas in, plain data out).

``select_rows`` narrows an index (SIS Table 3-17 columns) by a :class:`Query`; ``build_entries``
turns the remaining rows into :class:`CatalogEntry` objects: the product's label URL, its DDR (from
the DDR volume's index, same observation, counter and sensor, highest version) and the directories
that hold its wavelength calibration (the WA CDR its ``MRO:WAVELENGTH_FILE_NAME`` names, and the
SW CDR6 tables of its sensor, from the CDR volume's index). Nothing here does I/O.

Conventions (the SIS does not define queries):

- ``observation_id`` takes the 8 hex digits (``"00014679"``) or class type + ID (``"FRT00014679"``,
  which must match both);
- times are UTC; the index's times are read as naive UTC, an aware time is converted;
- ``product_type`` matches the ``PRODUCT_TYPE`` column (``"TRDR"``, ``"DDR"``) or the two-letter
  product code of the name (``"IF"``, ``"RA"``, ``"DE"``); all text matches ignore case;
- ``start``/``stop``: products whose ``[START_TIME, STOP_TIME]`` overlaps the range (a missing
  ``STOP_TIME`` counts as ``START_TIME``);
- ``sol``: one sol or an inclusive ``(first, last)`` range (Mastcam-Z); ``sensor`` is the camera
  eye (``L``/``R``) there, and ``product_type`` ``RAD``/``IOF``;
- Mastcam-Z also: ``eye`` (``"L"``/``"R"``, or ``"left"``/``"right"``), ``filter`` (the filter
  number of the file name, ``0``-``7``: ``filter=0`` or ``filter=["1", "2"]``) and ``sequence_id``
  (``"zcam07114"``, from the file name); each takes one value or a list, any case;
- a filter that the archive's index has no column for (``sol`` on a CRISM volume) is an error;
- ``bbox = (west, south, east, north)`` in degrees (east longitude, any of -180..360): products whose
  footprint (the four corners and centre of the index) intersects it, across 0/360 when
  ``west > east``; products without corner coordinates are left out of a bbox query.
"""

from __future__ import annotations

import math
import posixpath
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import LabelValueError, QueryError
from ..formats.products import ProductId, parse_product_id
from .footprints import CORNERS, build_arc, find_intersecting
from .row_filters import find_normalised_in, find_observations, find_pattern_matches, find_product_codes
from .volumes import Volume

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "CatalogEntry", "EntrySidecars", "Query", "build_entries", "build_entry", "build_query", "build_sidecars",
    "check_entry_product", "entry_name", "entry_rows", "select_rows",
]

_ENTRY_COLUMNS = {
    "PRODUCT_TYPE": "product_type", "OBSERVATION_TYPE": "class_type", "OBSERVATION_ID": "observation_id",
    "MRO:SENSOR_ID": "sensor", "SENSOR_ID": "sensor", "VOLUME_ID": "volume_id", "START_TIME": "start_time",
    "STOP_TIME": "stop_time", "CENTER_LATITUDE": "center_latitude", "CENTER_LONGITUDE": "center_longitude",
    "SOL": "sol", "FILTER": "filter", "SEQUENCE_ID": "sequence_id", "LOGICAL_IDENTIFIER": "logical_identifier",
}
#: The index columns an entry is built from (:func:`build_entry`).
_BUILD_COLUMNS = frozenset({
    "PRODUCT_ID", "FILE_SPECIFICATION_NAME", "MRO:SENSOR_ID", "MRO:WAVELENGTH_FILE_NAME", *_ENTRY_COLUMNS,
    *(f"{corner}_{axis}" for corner in CORNERS for axis in ("LATITUDE", "LONGITUDE")),
})
#: The index columns each filter reads: alternatives (CRISM, Mastcam-Z), each the columns it needs together.
_FILTER_COLUMNS = {
    "observation_id": (("OBSERVATION_ID",),), "class_type": (("OBSERVATION_TYPE",),),
    "sensor": (("MRO:SENSOR_ID",), ("SENSOR_ID",)), "sol": (("SOL",),), "start": (("START_TIME",),),
    "stop": (("START_TIME",),), "bbox": (("CENTER_LATITUDE", "CENTER_LONGITUDE"),), "filter": (("FILTER",),),
    "eye": (("SENSOR_ID", "SOL"),), "sequence_id": (("SEQUENCE_ID",),),
}
#: Filters that keep rows whose first column (of the alternative the index has) is one of the values, any case.
_TEXT_FILTERS = ("class_type", "sensor", "filter", "eye", "sequence_id")
#: Values a filter also accepts, and what they mean; then the values it accepts at all (None: any).
_VALUE_ALIASES = {"eye": {"LEFT": "L", "RIGHT": "R"}}
_VALUES = {"eye": ("L", "R")}


@dataclass(frozen=True)
class Query:
    """What to keep from an index (see the module docstring); ``None`` keeps everything."""

    observation_id: tuple[str, ...] | None = None
    class_type: tuple[str, ...] | None = None
    product_type: tuple[str, ...] | None = None
    sensor: tuple[str, ...] | None = None
    product_id: str | None = None
    start: Any = None
    stop: Any = None
    bbox: tuple[float, float, float, float] | None = None
    sol: tuple[int, int] | None = None
    filter: tuple[str, ...] | None = None
    eye: tuple[str, ...] | None = None
    sequence_id: tuple[str, ...] | None = None

    def as_metadata(self) -> dict[str, Any]:
        """The filters that were set, YAML-safe (lists, ISO times)."""
        return {k: _plain(list(v) if isinstance(v, tuple) else v) for k, v in vars(self).items() if v is not None}


@dataclass(frozen=True)
class CatalogEntry:
    """One product of a catalog: how to open it and what is known of it (YAML-safe values)."""

    name: str
    url: str
    ddr: str | None = None
    sidecar_dirs: tuple[str, ...] = ()
    metadata: dict[str, Any] = field(default_factory=dict)


def build_query(
    url: str,
    *,
    observation_id: str | Iterable[str] | None = None,
    class_type: str | Iterable[str] | None = None,
    product_type: str | Iterable[str] | None = None,
    sensor: str | Iterable[str] | None = None,
    product_id: str | None = None,
    start: Any = None,
    stop: Any = None,
    bbox: Sequence[float] | None = None,
    sol: int | Sequence[int] | None = None,
    filter: str | int | Iterable[str | int] | None = None,
    eye: str | Iterable[str] | None = None,
    sequence_id: str | Iterable[str] | None = None,
) -> Query:
    """Check and normalise the filters of ``open_catalog`` (``url`` names the catalog in errors)."""
    import pandas as pd

    times: dict[str, Any] = {}
    for key, value in (("start", start), ("stop", stop)):
        try:
            stamp = None if value is None else pd.Timestamp(value)
            times[key] = stamp.tz_convert("UTC").tz_localize(None) if stamp is not None and stamp.tzinfo else stamp
        except (TypeError, ValueError) as err:
            raise QueryError(url, key, value, "a time (ISO 8601 text, datetime or pandas Timestamp)") from err
    if times["start"] is not None and times["stop"] is not None and times["start"] > times["stop"]:
        raise QueryError(url, "start", start, f"a time not after stop ({stop})")
    return Query(
        _observation_ids(observation_id), _texts(class_type), _texts(product_type), _texts(sensor),
        None if product_id is None else product_id.upper(), times["start"], times["stop"], _bbox(url, bbox), _sols(url, sol),
        _texts(filter), _checked(url, "eye", _texts(eye)), _texts(sequence_id),
    )


def _checked(url: str, key: str, values: tuple[str, ...] | None) -> tuple[str, ...] | None:
    """Values with their aliases resolved (``left`` -> ``L``), each one the filter accepts (:data:`_VALUES`)."""
    if values is None:
        return None
    resolved = tuple(_VALUE_ALIASES.get(key, {}).get(v, v) for v in values)
    bad = [v for v in resolved if key in _VALUES and v not in _VALUES[key]]
    if bad:
        raise QueryError(url, key, bad[0], f"one of {_VALUES[key]} (or {sorted(_VALUE_ALIASES.get(key, {}))})")
    return resolved


def select_rows(index: pd.DataFrame, query: Query, url: str) -> pd.DataFrame:
    """The rows of ``index`` that satisfy every filter of ``query`` (``url`` names the archive in errors)."""
    _check_columns(index, query, url)
    keep = np.ones(len(index), dtype=bool)
    if query.observation_id is not None:
        keep &= find_observations(index["OBSERVATION_ID"], index.get("OBSERVATION_TYPE"), query.observation_id)
    for key in _TEXT_FILTERS:
        if (values := getattr(query, key)) is not None:
            column = (_columns_for(index, key) or ("",))[0]  # present: _check_columns ran
            keep &= find_normalised_in(index[column], values)
    if query.sol is not None:
        keep &= index["SOL"].between(*query.sol).to_numpy(dtype=bool, na_value=False)
    if query.product_type is not None:  # the PRODUCT_TYPE column, else the product code of the name
        by_type = find_normalised_in(index["PRODUCT_TYPE"], query.product_type)
        keep &= by_type | find_product_codes(index["PRODUCT_ID"], query.product_type, keep & ~by_type)
    if query.product_id is not None:
        keep &= find_pattern_matches(index["PRODUCT_ID"], query.product_id, keep)
    keep &= _in_time_range(index, query.start, query.stop)
    if query.bbox is not None:
        keep &= find_intersecting(index, query.bbox, keep)  # only the rows still kept: 10^6 in a mission index
    return index if keep.all() else index[keep]  # (no copy of a whole mission index when nothing is left out)


def _check_columns(index: pd.DataFrame, query: Query, url: str) -> None:
    """A filter this archive's index cannot answer is an error, never silently ignored."""
    for key, alternatives in _FILTER_COLUMNS.items():
        value = getattr(query, key)
        if value is not None and _columns_for(index, key) is None:
            missing = " or ".join("+".join(columns) for columns in alternatives)
            raise QueryError(url, key, value, f"a filter this archive's index can answer (it has no {missing} column)")


def _columns_for(index: pd.DataFrame, key: str) -> tuple[str, ...] | None:
    """The first alternative of :data:`_FILTER_COLUMNS` whose columns are all in ``index``."""
    return next((cols for cols in _FILTER_COLUMNS[key] if all(c in index for c in cols)), None)


@dataclass(frozen=True)
class EntrySidecars:
    """What entries join from the other volumes: DDR label URLs by observation key (``FRT00014679_01`` +
    sensor), WA CDR directories by product ID, SW CDR6 directories by sensor."""

    ddrs: dict[str, str] = field(default_factory=dict)
    wa_dirs: dict[str, str] = field(default_factory=dict)
    sw_dirs: dict[str, list[str]] = field(default_factory=dict)


def build_sidecars(ddr: Volume | None = None, cdr: Volume | None = None) -> EntrySidecars:
    """The DDRs of the DDR volume and the calibration directories of the CDR volume, for :func:`build_entry`."""
    wa_dirs, sw_dirs = _calibration_dirs(cdr) if cdr is not None else ({}, {})
    return EntrySidecars(_ddr_urls(ddr) if ddr is not None else {}, wa_dirs, sw_dirs)


def build_entries(
    volume: Volume, rows: pd.DataFrame, *, ddr: Volume | None = None, cdr: Volume | None = None,
) -> list[CatalogEntry]:
    """One entry per row, with the DDR and wavelength directories found in the other volumes."""
    sidecars = build_sidecars(ddr, cdr)
    return [build_entry(volume, row, sidecars) for row in rows.to_dict("records")]


def build_entry(volume: Volume, row: dict[str, Any], sidecars: EntrySidecars) -> CatalogEntry:
    """The entry of one index row (a ``to_dict("records")`` item), its sidecars looked up in ``sidecars``."""
    name = entry_name(row["PRODUCT_ID"])
    sensor = _text(row.get("MRO:SENSOR_ID"))
    wa = sidecars.wa_dirs.get(_stem(row.get("MRO:WAVELENGTH_FILE_NAME")))
    dirs = tuple(dict.fromkeys([d for d in (wa, *sidecars.sw_dirs.get(sensor or "", [])) if d]))
    pid = parse_product_id(name)
    ddr_url = None if pid is None else sidecars.ddrs.get(f"{pid.class_type}{pid.observation_id}_{pid.counter}{pid.sensor}")
    meta = {**_metadata(row), "sidecars": {"ddr": ddr_url, "wavelength_dirs": list(dirs)}}
    return CatalogEntry(name, volume.product_url(str(row["FILE_SPECIFICATION_NAME"])), ddr_url, dirs, meta)


def entry_name(product_id: object) -> str:
    """The name of the entry of an index row: its ``PRODUCT_ID``, upper case."""
    return str(product_id).upper()


def entry_rows(rows: pd.DataFrame) -> pd.DataFrame:
    """The columns of ``rows`` that :func:`build_entry` reads (a catalog keeps these, not the whole index)."""
    return rows[[column for column in rows.columns if column in _BUILD_COLUMNS]]


def check_entry_product(name: str, product_id: object, url: str) -> None:
    """Refuse a product whose label's ``PRODUCT_ID`` is not the catalog entry's (``name``) that opened it.

    An index row whose ``FILE_SPECIFICATION_NAME`` points at another product's file would otherwise
    give that product's values under this entry's name.
    """
    found = str(product_id).strip().upper()
    if found != name.strip().upper():
        raise LabelValueError(
            url, "PRODUCT_ID", found, f"{name.strip().upper()}, the product the catalog entry names",
            "the index row's FILE_SPECIFICATION_NAME points at another product's label: check the index",
        )


def _ddr_urls(volume: Volume) -> dict[str, str]:
    """DDR label URL by observation/counter/sensor key (``FRT00014679_01`` + ``L``), highest version."""
    found: dict[str, tuple[int, str]] = {}
    for pid, spec in _parsed_ids(volume):
        if pid.family == "DDR" and pid.code == "DE" and pid.version is not None:
            key = f"{pid.class_type}{pid.observation_id}_{pid.counter}{pid.sensor}"
            version = int(pid.version, 36)
            if key not in found or version > found[key][0]:
                found[key] = (version, volume.product_url(spec))
    return {key: url for key, (_, url) in found.items()}


def _calibration_dirs(volume: Volume) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Directory URLs of the WA CDR4s (by product ID) and of the SW CDR6 tables (by sensor)."""
    wa: dict[str, str] = {}
    sw: dict[str, list[str]] = {}
    for pid, spec in _parsed_ids(volume):
        if pid.family == "CDR4" and pid.code == "WA":
            wa[pid.product_id] = _directory_url(volume, spec)
        elif pid.family == "CDR6" and pid.code == "SW" and pid.sensor:
            sw.setdefault(pid.sensor, []).append(_directory_url(volume, spec))
    return wa, {sensor: list(dict.fromkeys(dirs)) for sensor, dirs in sw.items()}


def _parsed_ids(volume: Volume) -> Iterator[tuple[ProductId, str]]:
    """(parsed PRODUCT_ID, FILE_SPECIFICATION_NAME) of every row whose name follows the SIS naming."""
    for name, spec in zip(volume.index["PRODUCT_ID"], volume.index["FILE_SPECIFICATION_NAME"], strict=True):
        pid = None if name is None or spec is None else parse_product_id(str(name).strip().upper())
        if pid is not None:
            yield pid, str(spec)


def _directory_url(volume: Volume, spec: str) -> str:
    return posixpath.dirname(volume.product_url(spec))


def _metadata(row: dict[str, Any]) -> dict[str, Any]:
    meta = {key: _plain(row[column]) for column, key in _ENTRY_COLUMNS.items() if column in row}
    if "CENTER_LATITUDE" in row:
        meta["footprint"] = _footprint(row)
    return meta


def _footprint(row: dict[str, Any]) -> dict[str, float] | None:
    lats = [_plain(row.get(f"{c}_LATITUDE")) for c in CORNERS]
    lons = [_plain(row.get(f"{c}_LONGITUDE")) for c in CORNERS]
    pairs = [(la, lo) for la, lo in zip(lats, lons, strict=True) if la is not None and lo is not None]
    if not pairs:
        return None
    west, width = build_arc([lo for _, lo in pairs])
    south, north = min(la for la, _ in pairs), max(la for la, _ in pairs)
    return {"west": round(west, 6), "east": round((west + width) % 360.0, 6), "south": south, "north": north}


def _in_time_range(index: pd.DataFrame, start: Any, stop: Any) -> np.ndarray:
    if start is None and stop is None:
        return np.ones(len(index), dtype=bool)
    first = _naive_utc(index["START_TIME"])
    last = _naive_utc(index["STOP_TIME"]).fillna(first) if "STOP_TIME" in index else first
    keep = first.notna()
    if start is not None:
        keep &= last >= start
    if stop is not None:
        keep &= first <= stop
    return np.asarray(keep.to_numpy(dtype=bool))


def _naive_utc(times: pd.Series) -> pd.Series:
    """Index times as naive UTC (a ``Z`` or offset in the table makes them aware)."""
    import pandas as pd

    return pd.to_datetime(times, utc=True).dt.tz_localize(None)


def _bbox(url: str, bbox: Sequence[float] | None) -> tuple[float, float, float, float] | None:
    if bbox is None:
        return None
    try:
        west, south, east, north = (float(v) for v in bbox)
    except (TypeError, ValueError) as err:
        raise QueryError(url, "bbox", bbox, "(west, south, east, north) in degrees") from err
    if not (-90.0 <= south <= north <= 90.0) or not all(math.isfinite(v) and -360.0 <= v <= 360.0 for v in (west, east)):
        expected = "(west, south, east, north) with -90 <= south <= north <= 90 and longitudes in -360..360"
        raise QueryError(url, "bbox", bbox, expected)
    return west, south, east, north


def _sols(url: str, sol: int | Sequence[int] | None) -> tuple[int, int] | None:
    if sol is None:
        return None
    bounds = [sol, sol] if isinstance(sol, int) else list(sol)
    if len(bounds) != 2 or not all(isinstance(b, int) and b >= 0 for b in bounds) or bounds[0] > bounds[1]:
        raise QueryError(url, "sol", sol, "a sol or an inclusive (first, last) range of sols")
    return bounds[0], bounds[1]


def _observation_ids(value: str | Iterable[str] | None) -> tuple[str, ...] | None:
    """Upper case; bare hex IDs shorter than 8 digits are zero-padded as the index writes them."""
    ids = _texts(value)
    return None if ids is None else tuple(v.zfill(8) if len(v) < 8 and re.fullmatch(r"[0-9A-F]+", v) else v for v in ids)


def _texts(value: str | int | Iterable[str | int] | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    items = [value] if isinstance(value, (str, int)) else list(value)
    return tuple(str(v).strip().upper() for v in items)


def _stem(name: Any) -> str:
    text = _text(name) or ""
    return posixpath.splitext(text)[0].upper()


def _text(value: Any) -> str | None:
    plain = _plain(value)
    return None if plain is None else str(plain).strip().upper()


def _plain(value: Any) -> Any:
    """A YAML-safe Python value: NA/NaN/NaT -> None, numpy scalars -> Python, times -> ISO text."""
    if value is None or type(value).__name__ in ("NAType", "NaTType"):
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, (float, np.floating)):
        return None if math.isnan(value) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    return value
