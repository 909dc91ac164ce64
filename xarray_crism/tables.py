"""PDS3 tables: column definitions from labels and FMT files, ASCII and binary rows to arrays.

``build_columns`` reads the ``COLUMN`` objects of a ``TABLE`` (or of its ``^STRUCTURE`` file);
``parse_ascii_table`` and ``parse_binary_table`` turn fixed-length records into one NumPy array
per column, vectorised (no Python loop over rows).
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass

import numpy as np

from .errors import LabelValueError
from .layouts import build_dtype
from .pds3 import Block, Quantity

__all__ = [
    "Column",
    "build_columns",
    "build_row_count",
    "column_variable_name",
    "is_number",
    "parse_ascii_table",
    "parse_binary_table",
]

_ASCII_KINDS = {
    "ASCII_INTEGER": "int",
    "ASCII_REAL": "float",
    "ASCII_COMPLEX": "str",
    "CHARACTER": "str",
    "ASCII_DATE": "str",
    "ASCII_TIME": "str",
    "DATE": "str",
    "TIME": "str",
}
_MISSING = (b"N/A", b"NULL", b"UNK", b"")


@dataclass(frozen=True)
class Column:
    """One column of a table: 0-based byte offset and width inside a row."""

    name: str
    data_type: str
    start: int
    width: int
    unit: str | None = None
    bit_mask: int | None = None
    description: str | None = None


def build_columns(table: Block, label: str) -> list[Column]:
    """Columns of a TABLE block (or an FMT file parsed as a block), ITEMS expanded."""
    columns: list[Column] = []
    for block in table.blocks("COLUMN"):
        name = str(block.get("NAME", f"COLUMN_{len(columns) + 1}"))
        start = _positive(block, "START_BYTE", label) - 1
        width = _positive(block, "BYTES", label)
        items = block.get("ITEMS")
        common = {
            "data_type": str(block.get("DATA_TYPE", "")).upper(),
            "unit": _text(block.get("UNIT")),
            "bit_mask": block.get("BIT_MASK") if isinstance(block.get("BIT_MASK"), int) else None,
            "description": _text(block.get("DESCRIPTION")),
        }
        if isinstance(items, int) and items > 1:
            item_bytes = _positive(block, "ITEM_BYTES", label)
            step = block.get("ITEM_OFFSET", item_bytes)
            columns += [
                Column(f"{name}_{i + 1}", start=start + i * int(step), width=item_bytes, **common)  # type: ignore[arg-type]
                for i in range(items)
            ]
        else:
            columns.append(Column(name, start=start, width=width, **common))  # type: ignore[arg-type]
    if not columns:
        raise LabelValueError(label, f"OBJECT = {table.name or 'TABLE'}", None, "COLUMN objects")
    return columns


def build_row_count(table: Block, file_records: object, file_size: int, row_bytes: int, label: str) -> int:
    """Number of rows, checked against FILE_RECORDS and the file size.

    Real CRISM WV labels say ``ROWS = 4804`` with ``FILE_RECORDS = 480``: when ROWS and
    FILE_RECORDS disagree, the count that the file's size holds wins, with a warning.
    """
    rows = _positive(table, "ROWS", label)
    available = file_size // row_bytes if row_bytes else 0
    candidates = [rows] + ([file_records] if isinstance(file_records, int) else [])
    fitting = [n for n in candidates if n <= available]
    if not fitting:
        raise LabelValueError(label, "ROWS", rows, f"at most {available} rows of {row_bytes} bytes in {file_size} bytes")
    chosen = max(fitting)
    if chosen != rows:
        warnings.warn(
            f"{label}: ROWS = {rows} disagrees with FILE_RECORDS = {file_records}; "
            f"reading {chosen} rows, as the file's {file_size} bytes hold",
            stacklevel=3,
        )
    return chosen


def parse_ascii_table(data: bytes, row_bytes: int, rows: int, columns: list[Column], label: str) -> dict[str, np.ndarray]:
    """Fixed-length ASCII records to arrays: ints, floats (NaN for N/A) or stripped strings."""
    raw = np.frombuffer(data[: rows * row_bytes], dtype="S1").reshape(rows, row_bytes)
    out = {}
    for col in columns:
        if col.start + col.width > row_bytes:
            raise LabelValueError(label, f"{col.name} START_BYTE", col.start + 1, f"a field inside {row_bytes}-byte rows")
        field = np.ascontiguousarray(raw[:, col.start : col.start + col.width]).view(f"S{col.width}").ravel()
        out[col.name] = _convert_ascii(field, _ASCII_KINDS.get(col.data_type, "str"))
    return out


def parse_binary_table(data: np.ndarray, row_bytes: int, rows: int, columns: list[Column], label: str) -> dict[str, np.ndarray]:
    """Fixed-length binary records to arrays, with each column's BIT_MASK applied."""
    raw = data[: rows * row_bytes].reshape(rows, row_bytes)
    out = {}
    for col in columns:
        dtype = build_dtype(_binary_type(col.data_type), col.width * 8, label, "DATA_TYPE")
        field = np.ascontiguousarray(raw[:, col.start : col.start + col.width]).view(dtype).ravel()
        values = field.astype(dtype.newbyteorder("="))
        if col.bit_mask is not None and values.dtype.kind in "ui":
            values = values & values.dtype.type(col.bit_mask)
        out[col.name] = values
    return out


def column_variable_name(name: str) -> str:
    """A column name as a variable name: lower case, runs of other characters as ``_``."""
    return re.sub(r"[^0-9a-z]+", "_", name.lower()).strip("_") or "column"


def _convert_ascii(field: np.ndarray, kind: str) -> np.ndarray:
    stripped = np.strings.strip(field)
    if kind == "str":
        return _decode(np.strings.strip(np.strings.strip(stripped, b'"'), b" "))
    missing = np.isin(stripped, _MISSING)
    try:
        if kind == "int" and not missing.any():
            return stripped.astype(np.int64)
        values = np.where(missing, b"nan", stripped).astype(np.float64)
    except ValueError:
        return _decode(stripped)
    return values


def _decode(field: np.ndarray) -> np.ndarray:
    """Bytes to str: a cast when the text is ASCII (fast), else Latin-1 decoding."""
    try:
        return field.astype(f"U{max(field.dtype.itemsize, 1)}")
    except UnicodeDecodeError:
        return np.char.decode(field.astype(bytes), "latin-1")


def is_number(text: str) -> bool:
    """Whether ``float(text)`` succeeds (a numeric ASCII field)."""
    try:
        float(text)
    except ValueError:
        return False
    return True


def _binary_type(data_type: str) -> str:
    return {"UNSIGNED_INTEGER": "MSB_UNSIGNED_INTEGER", "INTEGER": "MSB_INTEGER"}.get(data_type, data_type)


def _positive(block: Block, keyword: str, label: str) -> int:
    value = block.get(keyword)
    if isinstance(value, Quantity):
        value = value.value
    if not isinstance(value, int) or value < 1:
        raise LabelValueError(label, keyword, value, "a positive integer")
    return value


def _text(value: object) -> str | None:
    return None if value is None else str(value)
