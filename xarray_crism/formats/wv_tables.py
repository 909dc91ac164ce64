"""The WV wavelength tables of TER/MTRDR and MRDR/VRDR products, and the ENVI header check.

A TER/MTRDR ``*_WV###J_*.TAB`` has one comma-separated row per band of the IF cube: sensor
(1 = VNIR "S", 0 = IR "L"), detector row, wavelength (nm), FWHM (nm) and a flag (1 = good band;
all 489 rows of the real MTRDR table, whose bad bands were removed, carry 1, so a 0 marks a
band with suspect radiometry, as the SIS says TERs keep them). An MRDR/VRDR ``*_MRRWV_*.TAB``
has sensor, detector row and wavelength only. Columns are a table (:data:`WV_LAYOUTS`), keyed
by the product kind's ``band_coordinates``. The ENVI ``.HDR`` beside an image, when present,
must agree with the table (its ``wavelength`` to 0.01 nm, the table's precision; ``fwhm``
likewise): a disagreement is an error naming both files, never a silent choice.
"""

from __future__ import annotations

import re

import numpy as np

from ..errors import LabelValueError, ShapeMismatchError
from .tables import is_number

__all__ = ["WV_LAYOUTS", "check_envi_header", "parse_envi_header", "parse_wv_table"]

#: Band-coordinate source -> the WV table's columns, in file order.
WV_LAYOUTS: dict[str, tuple[str, ...]] = {
    "wv_targeted": ("sensor", "detector_row", "wavelength", "fwhm", "flag"),
    "wv_tile": ("sensor", "detector_row", "wavelength"),
}
_SENSORS = {0: "L", 1: "S"}
_TOLERANCE_NM = 0.01


def parse_wv_table(text: str, layout: str, url: str) -> dict[str, np.ndarray]:
    """Columns of a WV table: ``sensor`` ("S"/"L"), ``detector_row``, ``wavelength`` (nm), ...

    Every non-blank line must have the layout's number of numeric fields.
    """
    names = WV_LAYOUTS[layout]
    rows = [line.split(",") for line in text.splitlines() if line.strip()]
    for number, row in enumerate(rows, start=1):
        if len(row) != len(names):
            raise LabelValueError(url, f"row {number}", ",".join(row), f"{len(names)} comma-separated fields: {', '.join(names)}")
    try:
        values = np.array([[float(field) for field in row] for row in rows], dtype=np.float64).reshape(-1, len(names))
    except ValueError as exc:
        raise LabelValueError(url, "WV table", str(exc), "numbers in every field") from None
    columns = {name: values[:, i] for i, name in enumerate(names)}
    _check_column(columns["sensor"], np.isin(columns["sensor"], list(_SENSORS)), "sensor", "1 (VNIR, S) or 0 (IR, L)", url)
    rows_ok = (columns["detector_row"] == np.round(columns["detector_row"])) & (columns["detector_row"] >= 0)
    _check_column(columns["detector_row"], rows_ok, "detector_row", "a whole detector row number", url)
    _check_column(columns["wavelength"], np.isfinite(columns["wavelength"]), "wavelength", "a finite wavelength in nm", url)
    if "flag" in columns:
        _check_column(columns["flag"], np.isin(columns["flag"], (0, 1)), "flag", "0 (bad band) or 1 (good band)", url)
    codes = columns["sensor"].astype(np.int64)
    out: dict[str, np.ndarray] = {"sensor": np.array([_SENSORS[int(c)] for c in codes], dtype="U1")}
    out["detector_row"] = columns["detector_row"].astype(np.int64)
    out["wavelength"] = columns["wavelength"]
    if "fwhm" in columns:
        out["fwhm"] = columns["fwhm"]
        out["bad_band"] = columns["flag"] == 0
    return out


def _check_column(values: np.ndarray, ok: np.ndarray, name: str, expected: str, url: str) -> None:
    bad = np.flatnonzero(~ok)
    if bad.size:
        raise LabelValueError(url, f"{name} (row {bad[0] + 1})", float(values[bad[0]]), expected)


_ENVI_FIELD = re.compile(r"(?m)^\s*([A-Za-z][A-Za-z0-9 _]*?)\s*=\s*(\{[^}]*\}|[^\n]*)")


def parse_envi_header(text: str, url: str) -> dict[str, str | list[str]]:
    """An ENVI ``.hdr``: ``{key: value}``, brace lists split on commas (keys lower case)."""
    text = text.removeprefix("\ufeff").removeprefix("\u00ef\u00bb\u00bf")  # a UTF-8 BOM, decoded or as Latin-1
    if not text.lstrip().upper().startswith("ENVI"):
        raise LabelValueError(url, "first line", text[:20], "ENVI (an ENVI header)")
    out: dict[str, str | list[str]] = {}
    for key, value in _ENVI_FIELD.findall(text):
        value = value.strip()
        out[key.strip().lower()] = [v.strip() for v in value[1:-1].split(",")] if value.startswith("{") else value
    return out


def check_envi_header(header: dict[str, str | list[str]], table: dict[str, np.ndarray], hdr_url: str, wv_url: str) -> None:
    """Raise unless the header's ``wavelength`` (and ``fwhm``) match the WV table's."""
    units = str(header.get("wavelength units", "nanometers")).strip().lower()
    if units not in _ENVI_UNITS:
        raise LabelValueError(hdr_url, "wavelength units", units, f"one of {sorted(_ENVI_UNITS)}")
    for key in ("wavelength", "fwhm"):
        listed = header.get(key)
        if not isinstance(listed, list) or key not in table:
            continue
        values = _envi_numbers([v for v in listed if v], key, hdr_url) * _ENVI_UNITS[units]
        expected = table[key]
        if values.shape != expected.shape:
            raise ShapeMismatchError(hdr_url, key, f"{values.size} values", f"{expected.size}, one per row of {wv_url}")
        worst = int(np.argmax(np.abs(values - expected)))
        if abs(values[worst] - expected[worst]) > _TOLERANCE_NM:
            raise LabelValueError(
                hdr_url, f"{key}[{worst}]", float(values[worst]),
                f"{expected[worst]} nm within {_TOLERANCE_NM} nm, as in {wv_url}",
            )


#: ENVI ``wavelength units`` -> factor to nm.
_ENVI_UNITS = {
    "nanometers": 1.0, "nanometer": 1.0, "nm": 1.0,
    "micrometers": 1000.0, "micrometer": 1000.0, "microns": 1000.0, "micron": 1000.0, "um": 1000.0, "\u00b5m": 1000.0,
}


def _envi_numbers(listed: list[str], key: str, url: str) -> np.ndarray:
    try:
        return np.array([float(v) for v in listed])
    except ValueError:
        bad = next(i for i, v in enumerate(listed) if not is_number(v))
        raise LabelValueError(url, f"{key}[{bad}]", listed[bad], "a number") from None
