"""Writers of CRISM volume index tables (SIS Table 3-17, section 4 formats), for tests and benchmarks.

Records are fixed length and end in CR LF; fields are separated by commas; character fields are
quoted and padded inside the quotes (``START_BYTE`` points after the opening quote and ``BYTES``
counts the padded text, as the SIS says the length excludes delimiters); numbers are right
justified; ``N/A`` marks inapplicable fields (blank in fields narrower than 3 bytes).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

__all__ = ["INDEX_COLUMNS", "write_index"]

#: SIS Table 3-17: (name, data type, bytes). FILE_SPECIFICATION_NAME is 64 bytes, not the SIS's 55:
#: its own example (``EDR/2006/2006_350/FRT00001270/FRT00001270_01_SC001S_EDR0.IMG``) is 59
#: characters long. Readers take every width from the label, so this changes nothing for them.
INDEX_COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("VOLUME_ID", "CHARACTER", 12), ("PRODUCT_ID", "CHARACTER", 28), ("PRODUCT_TYPE", "CHARACTER", 5),
    ("FILE_SPECIFICATION_NAME", "CHARACTER", 64), ("PRODUCT_CREATION_TIME", "TIME", 19),
    ("PARTICIPATING_INSTRUMENTS", "CHARACTER", 6), ("SPACECRAFT_CLOCK_START_COUNT", "CHARACTER", 17),
    ("SPACECRAFT_CLOCK_STOP_COUNT", "CHARACTER", 17), ("ORBIT_NUMBER", "CHARACTER", 6), ("START_TIME", "TIME", 19),
    ("STOP_TIME", "TIME", 19), ("LOWER_RIGHT_LATITUDE", "ASCII_REAL", 7), ("LOWER_RIGHT_LONGITUDE", "ASCII_REAL", 8),
    ("LOWER_LEFT_LATITUDE", "ASCII_REAL", 7), ("LOWER_LEFT_LONGITUDE", "ASCII_REAL", 8),
    ("UPPER_RIGHT_LATITUDE", "ASCII_REAL", 7), ("UPPER_RIGHT_LONGITUDE", "ASCII_REAL", 8),
    ("UPPER_LEFT_LATITUDE", "ASCII_REAL", 7), ("UPPER_LEFT_LONGITUDE", "ASCII_REAL", 8),
    ("CENTER_LATITUDE", "ASCII_REAL", 7), ("CENTER_LONGITUDE", "ASCII_REAL", 8), ("OBSERVATION_TYPE", "CHARACTER", 3),
    ("OBSERVATION_ID", "CHARACTER", 8), ("MRO:OBSERVATION_NUMBER", "ASCII_INTEGER", 2), ("MRO:ACTIVITY_ID", "CHARACTER", 5),
    ("MRO:SENSOR_ID", "CHARACTER", 1), ("PRODUCT_VERSION_ID", "CHARACTER", 1), ("TARGET_CENTER_DISTANCE", "ASCII_REAL", 13),
    ("SOLAR_DISTANCE", "ASCII_REAL", 13), ("SHUTTER_MODE_ID", "CHARACTER", 6), ("LIGHT_SOURCE_NAME", "CHARACTER", 13),
    ("CALIBRATION_LAMP_STATUS", "CHARACTER", 11), ("CALIBRATION_LAMP_LEVEL", "ASCII_INTEGER", 4),
    ("PIXEL_AVERAGING_WIDTH", "ASCII_INTEGER", 2), ("INSTRUMENT_POINTING_MODE", "CHARACTER", 16),
    ("SCAN_MODE_ID", "CHARACTER", 5), ("MRO:FRAME_RATE", "ASCII_REAL", 5), ("MRO:EXPOSURE_PARAMETER", "ASCII_INTEGER", 3),
    ("SAMPLING_MODE_ID", "CHARACTER", 9), ("COMPRESSION_TYPE", "CHARACTER", 5), ("MRO:WAVELENGTH_FILTER", "CHARACTER", 1),
    ("MRO:WAVELENGTH_FILE_NAME", "CHARACTER", 26), ("MRO:PIXEL_PROC_FILE_NAME", "CHARACTER", 26),
    ("MRO:LOOKUP_TABLE_FILE_NAME", "CHARACTER", 26), ("MRO:DETECTOR_TEMPERATURE", "ASCII_REAL", 8),
    ("MRO:OPTICAL_BENCH_TEMPERATURE", "ASCII_REAL", 8), ("MRO:SPECTROMETER_HOUSING_TEMP", "ASCII_REAL", 8),
    ("MRO:SPHERE_TEMPERATURE", "ASCII_REAL", 8), ("MRO:FPE_TEMPERATURE", "ASCII_REAL", 8), ("LINES", "ASCII_INTEGER", 4),
    ("LINE_SAMPLES", "ASCII_INTEGER", 4), ("BANDS", "ASCII_INTEGER", 3), ("MAP_RESOLUTION", "ASCII_INTEGER", 4),
    ("MAXIMUM_LATITUDE", "ASCII_REAL", 7), ("MINIMUM_LATITUDE", "ASCII_REAL", 7),
    ("WESTERNMOST_LONGITUDE", "ASCII_REAL", 8), ("EASTERNMOST_LONGITUDE", "ASCII_REAL", 8),
)


def write_index(label: str | Path, rows: Sequence[Mapping[str, object]], *, table_name: str | None = None) -> Path:
    """Write ``rows`` (column name -> value; absent or None is ``N/A``) as a .TAB and its .LBL."""
    label = Path(label)
    table = label.with_name(table_name or label.stem.upper() + ".TAB")
    records = [_record(row) for row in rows]
    row_bytes = len(_record({}))
    table.write_bytes(b"".join(records))
    label.write_bytes(_label(table.name, len(records), row_bytes).encode("ascii"))
    return label


def _field(name: str, data_type: str, width: int, value: object) -> str:
    text = ("N/A" if width >= 3 else "") if value is None else (f"{value:.3f}" if isinstance(value, float) else str(value))
    if len(text) > width:
        raise ValueError(f"{name}: {text!r} is wider than {width} bytes")
    return f'"{text.ljust(width)}"' if data_type in ("CHARACTER", "TIME") else text.rjust(width)


def _record(row: Mapping[str, object]) -> bytes:
    fields = [_field(name, kind, width, row.get(name)) for name, kind, width in INDEX_COLUMNS]
    return (",".join(fields) + "\r\n").encode("ascii")


def _label(table: str, rows: int, row_bytes: int) -> str:
    lines = [
        "PDS_VERSION_ID = PDS3", "RECORD_TYPE = FIXED_LENGTH", f"RECORD_BYTES = {row_bytes}", f"FILE_RECORDS = {rows}",
        f'^INDEX_TABLE = "{table}"', "OBJECT = INDEX_TABLE", "  INTERCHANGE_FORMAT = ASCII", f"  ROWS = {rows}",
        f"  COLUMNS = {len(INDEX_COLUMNS)}", f"  ROW_BYTES = {row_bytes}", "  INDEX_TYPE = SINGLE",
    ]
    start = 1
    for number, (name, kind, width) in enumerate(INDEX_COLUMNS, start=1):
        quoted = kind in ("CHARACTER", "TIME")
        lines += [
            "  OBJECT = COLUMN", f"    COLUMN_NUMBER = {number}", f"    NAME = \"{name}\"", f"    DATA_TYPE = {kind}",
            f"    START_BYTE = {start + quoted}", f"    BYTES = {width}", "  END_OBJECT = COLUMN",
        ]
        start += width + 2 * quoted + 1
    lines += ["END_OBJECT = INDEX_TABLE", "END"]
    return "\r\n".join(lines) + "\r\n"
