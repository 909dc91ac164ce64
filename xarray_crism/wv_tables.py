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

from .errors import LabelValueError, ShapeMismatchError

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
    codes = columns["sensor"].astype(np.int64)
    if not np.isin(codes, list(_SENSORS)).all():
        raise LabelValueError(url, "sensor column", sorted(set(codes.tolist())), "1 (VNIR, S) or 0 (IR, L)")
    out: dict[str, np.ndarray] = {"sensor": np.array([_SENSORS[int(c)] for c in codes], dtype="U1")}
    out["detector_row"] = columns["detector_row"].astype(np.int64)
    out["wavelength"] = columns["wavelength"]
    if "fwhm" in columns:
        out["fwhm"] = columns["fwhm"]
        out["bad_band"] = columns["flag"] == 0
    return out


_ENVI_FIELD = re.compile(r"(?m)^\s*([A-Za-z][A-Za-z0-9 _]*?)\s*=\s*(\{[^}]*\}|[^\n]*)")


def parse_envi_header(text: str, url: str) -> dict[str, str | list[str]]:
    """An ENVI ``.hdr``: ``{key: value}``, brace lists split on commas (keys lower case)."""
    if not text.lstrip().upper().startswith("ENVI"):
        raise LabelValueError(url, "first line", text[:20], "ENVI (an ENVI header)")
    out: dict[str, str | list[str]] = {}
    for key, value in _ENVI_FIELD.findall(text):
        value = value.strip()
        out[key.strip().lower()] = [v.strip() for v in value[1:-1].split(",")] if value.startswith("{") else value
    return out


def check_envi_header(header: dict[str, str | list[str]], table: dict[str, np.ndarray], hdr_url: str, wv_url: str) -> None:
    """Raise unless the header's ``wavelength`` (and ``fwhm``) match the WV table's."""
    factor = 1000.0 if str(header.get("wavelength units", "nm")).lower().startswith("micro") else 1.0
    for key in ("wavelength", "fwhm"):
        listed = header.get(key)
        if not isinstance(listed, list) or key not in table:
            continue
        values = np.array([float(v) for v in listed]) * factor
        expected = table[key]
        if values.shape != expected.shape:
            raise ShapeMismatchError(hdr_url, key, f"{values.size} values", f"{expected.size}, one per row of {wv_url}")
        worst = int(np.argmax(np.abs(values - expected)))
        if abs(values[worst] - expected[worst]) > _TOLERANCE_NM:
            raise LabelValueError(
                hdr_url, f"{key}[{worst}]", float(values[worst]),
                f"{expected[worst]} nm within {_TOLERANCE_NM} nm, as in {wv_url}",
            )
