"""Writers of spec-faithful CRISM products, for tests and benchmarks.

Each writer keeps the identification part of a *real* label (everything before the first
``OBJECT = FILE``) and writes the FILE objects the way the real CRISM labels lay them out (SIS
section 4; the corpus labels): IMG cube + ROWNUM table in one file of fixed records, an ASCII
housekeeping table with its FMT, band-sequential DDR backplanes. File names are written in lower
case while pointers are upper case, as in the archive copies found in the wild.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["GeneratedProduct", "write_adr", "write_cube", "write_hk_table", "write_sw_table"]

_STORAGE = {"BAND_SEQUENTIAL": (0, 1, 2), "LINE_INTERLEAVED": (1, 0, 2), "SAMPLE_INTERLEAVED": (1, 2, 0)}
_TYPES = {
    "PC_REAL": "<f", "IEEE_REAL": ">f", "MSB_UNSIGNED_INTEGER": ">u", "LSB_UNSIGNED_INTEGER": "<u",
    "MSB_INTEGER": ">i", "LSB_INTEGER": "<i",
}


@dataclass
class GeneratedProduct:
    """A written product: its label path and the cube as written, ``(band, line, sample)``."""

    label: Path
    data: np.ndarray
    detector_rows: np.ndarray | None


def label_header(template: str | Path, product_id: str) -> str:
    """The identification part of a real label, with its PRODUCT_ID replaced."""
    text = Path(template).read_text(encoding="latin-1")
    head = re.split(r"(?m)^OBJECT\s*=\s*FILE", text, maxsplit=1)[0]
    return re.sub(r'(?m)^(PRODUCT_ID\s*=\s*)"[^"]*"', rf'\g<1>"{product_id}"', head)


def write_cube(
    directory: str | Path,
    template: str | Path,
    product_id: str,
    data: np.ndarray,
    *,
    sample_type: str = "PC_REAL",
    storage: str = "LINE_INTERLEAVED",
    detector_rows: np.ndarray | None = None,
    band_names: list[str] | None = None,
    unit: str | None = None,
    hk_table: str | None = None,
    extra_objects: str = "",
) -> GeneratedProduct:
    """Write ``data`` ``(band, line, sample)`` as an IMG with a real label's header.

    ``detector_rows`` adds the ROWNUM_TABLE after the cube, in the same file, starting on a
    record boundary. ``hk_table`` names an ASCII housekeeping table (see :func:`write_hk_table`).
    """
    directory = Path(directory)
    bands, lines, samples = data.shape
    dtype = np.dtype(f"{_TYPES[sample_type]}{data.dtype.itemsize}")
    record_bytes = samples * dtype.itemsize
    cube = np.ascontiguousarray(data.astype(dtype).transpose(_STORAGE[storage]))
    img_name = f"{product_id}.IMG"
    payload = cube.tobytes()
    cube_records = len(payload) // record_bytes
    objects = _image_object(lines, samples, bands, sample_type, dtype.itemsize * 8, storage, band_names, unit)
    pointers = f'  ^IMAGE        = "{img_name}"\n'
    if detector_rows is not None:
        table = np.asarray(detector_rows, dtype=">u2").tobytes()
        padded = -(-len(table) // record_bytes) * record_bytes
        payload += table + b"\0" * (padded - len(table))
        pointers += f'  ^ROWNUM_TABLE = ("{img_name}", {cube_records + 1} )\n'
        objects += _ROWNUM_OBJECT.format(rows=bands)
    file_records = len(payload) // record_bytes
    text = label_header(template, product_id)
    text += (
        f"OBJECT          = FILE\n{pointers}  RECORD_TYPE   = FIXED_LENGTH\n"
        f"  RECORD_BYTES  = {record_bytes}\n  FILE_RECORDS  = {file_records}\n\n{objects}END_OBJECT = FILE\n\n"
    )
    if hk_table:
        text += hk_table
    text += extra_objects + "END\n"
    (directory / img_name.lower()).write_bytes(payload)
    label = directory / f"{product_id.lower()}.lbl"
    label.write_text(text.replace("\n", "\r\n"), encoding="ascii")
    return GeneratedProduct(label, data, None if detector_rows is None else np.asarray(detector_rows))


def _image_object(
    lines: int, samples: int, bands: int, sample_type: str, bits: int, storage: str,
    band_names: list[str] | None, unit: str | None,
) -> str:
    text = (
        f"  OBJECT              = IMAGE\n    LINES             = {lines}\n"
        f"    LINE_SAMPLES      = {samples}\n    SAMPLE_TYPE       = {sample_type}\n"
        f"    SAMPLE_BITS       = {bits}\n"
    )
    if unit:
        text += f'    UNIT              = "{unit}"\n'
    text += f"    BANDS             = {bands}\n    BAND_STORAGE_TYPE = {storage}\n"
    if band_names:
        quoted = ",\n                        ".join(f'"{n}"' for n in band_names)
        text += f"    BAND_NAME         = ({quoted})\n"
    return text + "  END_OBJECT = IMAGE\n\n"


_ROWNUM_OBJECT = """  OBJECT                = ROWNUM_TABLE
    NAME                = "SELECTED ROWS FROM DETECTOR"
    INTERCHANGE_FORMAT  = "BINARY"
    ROWS                = {rows}
    COLUMNS             = 1
    ROW_BYTES           = 2
      OBJECT = COLUMN
        NAME           = DETECTOR_ROW_NUMBER
        DATA_TYPE      = MSB_UNSIGNED_INTEGER
        COLUMN_NUMBER  = 1
        BIT_MASK       = 2#0000000111111111#
        START_BYTE     = 1
        BYTES          = 2
      END_OBJECT = COLUMN
  END_OBJECT           = ROWNUM_TABLE

"""


def write_hk_table(
    directory: str | Path, table_name: str, fmt_name: str, rows: int, *, object_name: str = "TRDR_HK_TABLE",
    seed: int = 0,
) -> tuple[str, dict[str, np.ndarray]]:
    """Write an ASCII housekeeping table (comma separated, CRLF) and its FMT file.

    Returns the FILE object text to put in the product label and the values written.
    """
    rng = np.random.default_rng(seed)
    values = {
        "FRAME_NUMBER": np.arange(rows),
        "EXPOSURE_TIME": np.round(rng.uniform(1, 300, rows), 3),
        "FPE_TEMPERATURE": np.round(rng.uniform(-50, 10, rows), 3),
        "SHUTTER_STATUS": np.array(["OPEN", "CLOSED"])[rng.integers(0, 2, rows)],
    }
    widths = {"FRAME_NUMBER": 6, "EXPOSURE_TIME": 10, "FPE_TEMPERATURE": 9, "SHUTTER_STATUS": 8}
    types = {
        "FRAME_NUMBER": "ASCII_INTEGER", "EXPOSURE_TIME": "ASCII_REAL", "FPE_TEMPERATURE": "ASCII_REAL",
        "SHUTTER_STATUS": "CHARACTER",
    }
    lines, fmt, start = [], [], 1
    for name, width in widths.items():
        quoted = types[name] == "CHARACTER"
        fmt.append(
            f"OBJECT = COLUMN\n  NAME = {name}\n  DATA_TYPE = {types[name]}\n  START_BYTE = {start + quoted}\n"
            f"  BYTES = {width}\n  DESCRIPTION = \"{name.replace('_', ' ').lower()}\"\nEND_OBJECT = COLUMN\n"
        )
        start += width + 2 * quoted + 1
    for i in range(rows):
        fields = [f"{values['FRAME_NUMBER'][i]:>6d}", f"{values['EXPOSURE_TIME'][i]:>10.3f}",
                  f"{values['FPE_TEMPERATURE'][i]:>9.3f}", f'"{values["SHUTTER_STATUS"][i]:<8s}"']
        lines.append(",".join(fields))
    row_bytes = len(lines[0]) + 2
    directory = Path(directory)
    (directory / table_name.lower()).write_bytes(("\r\n".join(lines) + "\r\n").encode("ascii"))
    (directory / fmt_name.lower()).write_text("\r\n".join(fmt) + "\r\n", encoding="ascii")
    file_object = (
        f'OBJECT = FILE\n  ^{object_name} = "{table_name.upper()}"\n  RECORD_TYPE = FIXED_LENGTH\n'
        f"  RECORD_BYTES = {row_bytes}\n  FILE_RECORDS = {rows}\n  OBJECT = {object_name}\n"
        f'    NAME = "HOUSEKEEPING TABLE"\n    INTERCHANGE_FORMAT = ASCII\n    ROWS = {rows}\n'
        f"    COLUMNS = {len(widths)}\n    ROW_BYTES = {row_bytes}\n    ^STRUCTURE = \"{fmt_name.upper()}\"\n"
        f"  END_OBJECT = {object_name}\nEND_OBJECT = FILE\n"
    )
    return file_object, values


def write_sw_table(directory: str | Path, template_label: str | Path, product_id: str, wavelengths: dict[int, float]) -> Path:
    """Write a CDR6 SW table (480 rows of 14 bytes, CRLF) with a copy of a real SW label."""
    directory = Path(directory)
    rows = [f"{r:3d},{wavelengths.get(r, 65535.0):8.2f}\r\n" for r in range(480)]
    (directory / f"{product_id}.TAB").write_text("".join(rows), encoding="ascii")
    text = Path(template_label).read_text(encoding="latin-1")
    old = re.search(r'PRODUCT_ID\s*=\s*"([^"]+)"', text)
    assert old is not None
    text = text.replace(old[1], product_id)
    label = directory / f"{product_id}.LBL"
    label.write_text(text, encoding="latin-1")
    return label


def write_adr(directory: str | Path, product_id: str, table: np.ndarray, axis_names: list[str]) -> Path:
    """Write an ADR look-up table as a PDS3 ARRAY of IEEE_REAL (the SIS's hyperdimensional table)."""
    directory = Path(directory)
    data = np.asarray(table, dtype=">f4")
    (directory / f"{product_id}.DAT").write_bytes(data.tobytes())
    items = ", ".join(str(n) for n in data.shape)
    names = ", ".join(axis_names)
    text = (
        f'PDS_VERSION_ID = PDS3\nPRODUCT_ID = "{product_id}"\nPRODUCT_TYPE = ADR\nINSTRUMENT_ID = CRISM\n'
        f'RECORD_TYPE = FIXED_LENGTH\nRECORD_BYTES = 4\nFILE_RECORDS = {data.size}\n'
        f'^ARRAY = ("{product_id}.DAT", 1)\nOBJECT = ARRAY\n  NAME = "SURFACE_TEMPERATURE"\n'
        f"  AXES = {data.ndim}\n  AXIS_ITEMS = ({items})\n  AXIS_NAME = ({names})\n"
        f'  DESCRIPTION = "Predicted surface temperature"\n  OBJECT = ELEMENT\n    DATA_TYPE = IEEE_REAL\n'
        f"    BYTES = 4\n    UNIT = K\n  END_OBJECT = ELEMENT\nEND_OBJECT = ARRAY\nEND\n"
    )
    label = directory / f"{product_id}.LBL"
    label.write_text(text, encoding="ascii")
    return label
