"""Naming and CF attribute conventions, as tables.

- :data:`DDR_BANDS`: DDR/LDR ``BAND_NAME`` -> variable name, units, long name;
- :func:`slug`: the rule for band names not in a table (SU summary parameters, new backplanes);
- :data:`UNITS`: label ``UNIT`` text -> CF/UDUNITS units;
- :data:`LABEL_ATTRIBUTES`: label keywords copied as plain Dataset attributes;
- :data:`MASKED_CONSTANTS`: the special constants that become missing values (CF ``_FillValue``
  and ``missing_value``), in stored units, for :func:`build_cf_encoding`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..errors import LabelValueError
from ..labels.pds3 import BasedInteger

__all__ = [
    "DDR_BANDS", "DROPPED_BANDS", "LABEL_ATTRIBUTES", "MASKED_CONSTANTS", "STRUCTURAL_IMAGE_KEYWORDS", "UNITS",
    "band_variable", "build_cf_encoding", "build_masked_constants", "cf_units", "slug",
]

#: BAND_NAME (upper case, white space collapsed) -> (variable, units, long_name).
DDR_BANDS: dict[str, tuple[str, str, str]] = {
    "INA AT AREOID, DEG": ("incidence_angle", "degree", "incidence angle at the areoid"),
    "EMA AT AREOID, DEG": ("emission_angle", "degree", "emission angle at the areoid"),
    "PHASE ANGLE, DEG": ("phase_angle", "degree", "phase angle"),
    "LATITUDE, AREOCENTRIC, DEG N": ("latitude", "degrees_north", "areocentric latitude"),
    "LONGITUDE, AREOCENTRIC, DEG E": ("longitude", "degrees_east", "areocentric east longitude"),
    "INA AT SURFACE FROM MOLA, DEG": ("surface_incidence_angle", "degree", "incidence angle at the MOLA surface"),
    "EMA AT SURFACE FROM MOLA, DEG": ("surface_emission_angle", "degree", "emission angle at the MOLA surface"),
    "SLOPE MAGNITUDE FROM MOLA, DEG": ("slope_magnitude", "degree", "MOLA slope magnitude"),
    "MOLA SLOPE AZIMUTH, DEG CLKWISE FROM N": ("slope_azimuth", "degree", "MOLA slope azimuth, clockwise from north"),
    "ELEVATION, METERS RELATIVE TO MOLA": ("elevation", "m", "elevation relative to the MOLA areoid"),
    "THERMAL INERTIA, J M^-2 K^-1 S^-0.5": ("thermal_inertia", "J m-2 K-1 s-1/2", "thermal inertia"),
    "BOLOMETIC ALBEDO": ("bolometric_albedo", "1", "bolometric albedo"),
    "BOLOMETRIC ALBEDO": ("bolometric_albedo", "1", "bolometric albedo"),
    "LOCAL SOLAR TIME, HOURS": ("local_solar_time", "hour", "local solar time"),
    # The layers MRDR/VRDR DE and DL add to the DDR's (SIS 3.2: traceability to the source strips).
    "SOLAR LONGITUDE, DEG": ("solar_longitude", "degree", "solar longitude (Ls) of the source observation"),
    "SOLAR DISTANCE, AU": ("solar_distance", "au", "Mars-Sun distance at the time of measurement"),
    "OBSERVATION ID, VNIR": ("observation_id_vnir", "1", "observation ID of the VNIR source measurement"),
    "OBSERVATION ID, IR": ("observation_id_ir", "1", "observation ID of the IR source measurement"),
    "ORDINAL COUNTER, VNIR": ("counter_vnir", "1", "ordinal counter of the VNIR source EDR"),
    "ORDINAL COUNTER, IR": ("counter_ir", "1", "ordinal counter of the IR source EDR"),
    "COLUMN NUMBER, VNIR": ("column_vnir", "1", "VNIR detector column (sample) of the source TRDR"),
    "COLUMN NUMBER, IR": ("column_ir", "1", "IR detector column (sample) of the source TRDR"),
    "LINE, OR FRAME NUMBER, VNIR": ("line_vnir", "1", "line (frame) of the VNIR source TRDR"),
    "LINE, OR FRAME NUMBER, IR": ("line_ir", "1", "line (frame) of the IR source TRDR"),
}

#: Band names whose band is dropped (placeholders with no data).
DROPPED_BANDS = frozenset({"SPARE"})

#: Label UNIT text (upper case) -> units attribute.
UNITS: dict[str, str] = {
    "I_OVER_F": "1",
    "W / (M**2 MICROMETER SR)": "W m-2 um-1 sr-1",
    "NM": "nm",
    "NANOMETERS": "nm",
    "DN": "1",
    "I OVER F": "1",
    "LAMBERT ALBEDO": "1",
}

#: IMAGE keywords that describe the array itself; the others are kept as attributes of a
#: browse product's variable (its stretch: whatever keywords the label uses for it).
STRUCTURAL_IMAGE_KEYWORDS = frozenset({
    "LINES", "LINE_SAMPLES", "BANDS", "SAMPLE_TYPE", "SAMPLE_BITS", "BAND_STORAGE_TYPE", "BAND_NAME",
    "LINE_PREFIX_BYTES", "LINE_SUFFIX_BYTES", "BAND_PREFIX_BYTES", "BAND_SUFFIX_BYTES", "SAMPLE_BIT_MASK",
})

#: Label keyword -> attribute name, for the keywords a user filters and plots by.
LABEL_ATTRIBUTES: dict[str, str] = {
    "PRODUCT_ID": "product_id",
    "PRODUCT_TYPE": "product_type",
    "DATA_SET_ID": "data_set_id",
    "INSTRUMENT_ID": "instrument_id",
    "SPACECRAFT_ID": "spacecraft_id",
    "TARGET_NAME": "target_name",
    "PRODUCT_VERSION_ID": "product_version_id",
    "PRODUCT_CREATION_TIME": "product_creation_time",
    "START_TIME": "start_time",
    "STOP_TIME": "stop_time",
    "SPACECRAFT_CLOCK_START_COUNT": "spacecraft_clock_start_count",
    "SPACECRAFT_CLOCK_STOP_COUNT": "spacecraft_clock_stop_count",
    "OBSERVATION_TYPE": "observation_type",
    "MRO:SENSOR_ID": "sensor_id",
    "MRO:ACTIVITY_ID": "activity_id",
    "SOLAR_LONGITUDE": "solar_longitude",
    "SOLAR_DISTANCE": "solar_distance_km",
    "PIXEL_AVERAGING_WIDTH": "pixel_averaging_width",
    "SCAN_MODE_ID": "scan_mode_id",
    "SAMPLING_MODE_ID": "sampling_mode_id",
    "MRO:FRAME_RATE": "frame_rate_hz",
    "MRO:EXPOSURE_PARAMETER": "exposure_parameter",
    "MRO:WAVELENGTH_FILTER": "wavelength_filter",
    "MRO:WAVELENGTH_FILE_NAME": "wavelength_file_name",
    "MRO:DETECTOR_TEMPERATURE": "detector_temperature_c",
    "SOFTWARE_NAME": "software_name",
    "SOFTWARE_VERSION_ID": "software_version_id",
}


def build_masked_constants(missing_value: Any) -> list[Any]:
    """``attrs["masked_constants"]``: every constant of a ``missing_value`` (one or several), as Python numbers."""
    return [v.item() for v in np.ravel(missing_value)]


def slug(name: str) -> str:
    """Variable name for a band name not in a table: lower case, ``_`` for other characters.

    ``"R770"`` -> ``r770``; ``"BD1900_2"`` -> ``bd1900_2``; ``"Tangent height, km"`` ->
    ``tangent_height`` (text after the first comma is units, and is dropped).
    """
    head = name.split(",")[0]
    text = re.sub(r"[^0-9a-z]+", "_", head.lower()).strip("_")
    return text if text and not text[0].isdigit() else f"band_{text}"


def band_variable(band_name: str, table: str) -> tuple[str, dict[str, str]] | None:
    """Variable name and CF attributes of one band, or None for a dropped band."""
    key = " ".join(band_name.upper().split())
    if key in DROPPED_BANDS:
        return None
    if table == "ddr" and key in DDR_BANDS:
        name, units, long_name = DDR_BANDS[key]
        return name, {"units": units, "long_name": long_name, "band_name": band_name}
    return slug(band_name), {"long_name": band_name, "band_name": band_name}


def cf_units(label_unit: object) -> str | None:
    """Units attribute for a label's UNIT value (kept as written when not in the table)."""
    if label_unit is None:
        return None
    text = " ".join(str(label_unit).split())
    return UNITS.get(text.upper(), text)


#: Special constants masked by CF decoding (PDS3 IMAGE keywords and PDS4 Special_Constants).
#: Saturation constants and valid ranges are not masked: they are kept as attributes.
MASKED_CONSTANTS = (
    "MISSING_CONSTANT", "INVALID_CONSTANT", "missing_constant", "invalid_constant", "unknown_constant",
    "not_applicable_constant", "error_constant",
)


def build_cf_encoding(
    dtype: np.dtype, scale: object, offset: object, constants: Mapping[str, object], label: str
) -> dict[str, Any]:
    """CF ``scale_factor``/``add_offset``/``_FillValue``/``missing_value`` of a stored array.

    Scaling is left out when it is the identity. Constants are in stored units and must be
    representable in ``dtype``; the first masked one is ``_FillValue``, and when several differ
    they are all listed in ``missing_value``. A float constant may be written as its IEEE bit
    pattern (``0xFF7FFFFB``), as PDS4 allows.
    """
    encoding: dict[str, Any] = {}
    factor, shift = _real(scale, 1.0, label, "scaling_factor"), _real(offset, 0.0, label, "offset")
    if (factor, shift) != (1.0, 0.0):
        encoding["scale_factor"], encoding["add_offset"] = np.float64(factor), np.float64(shift)
    values: list[Any] = []
    for key in MASKED_CONSTANTS:
        if key in constants:
            value = _stored(constants[key], dtype.newbyteorder("="), label, key)
            if not any(_same(value, v) for v in values):
                values.append(value)
    if values:
        encoding["_FillValue"] = values[0]
    if len(values) > 1:
        encoding["missing_value"] = np.array(values, dtype=dtype.newbyteorder("="))
    return encoding


def _real(value: object, default: float, label: str, keyword: str) -> float:
    if value is None:
        return default
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        number = float("nan")
    if not np.isfinite(number):
        raise LabelValueError(label, keyword, value, "a finite real number")
    return number


def _stored(value: object, dtype: np.dtype, label: str, keyword: str) -> Any:
    """``value`` as a scalar of ``dtype``, or a LabelValueError.

    Bit patterns (``0x...`` text, PDS3 ``16#...#``) are reinterpreted; integers must be exact
    and in range; a decimal constant of a float array is rounded to the array's precision (a
    label's ``-3.4028227E+38`` is the float32 of bit pattern ``0xFF7FFFFB``, PDS's MISSING).
    """
    text = str(value).strip()
    try:
        if text.lower().startswith("0x") or isinstance(value, BasedInteger):
            bits = int(text, 16) if text.lower().startswith("0x") else int(value)  # type: ignore[call-overload]
            return np.array(bits, dtype=f"u{dtype.itemsize}").view(dtype)[()]
        if dtype.kind in "iu":
            number = float(text)
            integer = int(text) if text.lstrip("+-").isdigit() else int(number) if number.is_integer() else None
            info = np.iinfo(dtype)
            if integer is None or not info.min <= integer <= info.max:
                raise ValueError(text)
            return dtype.type(integer)
        return np.array(float(text)).astype(dtype)[()]
    except (ValueError, OverflowError):
        raise LabelValueError(label, keyword, value, f"a value the array's type {dtype} can hold") from None


def _same(a: Any, b: Any) -> bool:
    return bool(a == b) or (bool(np.isnan(a)) and bool(np.isnan(b))) if np.asarray(a).dtype.kind == "f" else bool(a == b)
