"""PDS3 tables: column definitions from labels and FMT files, ASCII and binary rows to arrays.

``build_columns`` reads the ``COLUMN`` objects of a ``TABLE`` (or of its ``^STRUCTURE`` file);
``parse_ascii_table`` and ``parse_binary_table`` turn fixed-length records into one NumPy array
per column, vectorised (no Python loop over rows). For large ASCII tables, ``extract_fields``
copies each column's bytes out in cache-sized blocks of rows and :mod:`.ascii_fields` converts them
in bulk, giving exactly what ``convert_ascii`` gives.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass

import numpy as np

from ..errors import LabelValueError
from ..labels.pds3 import Block
from .ascii_fields import convert_ascii
from .layouts import build_dtype, strip_size_units

__all__ = [
    "Column",
    "allocate_fields",
    "build_columns",
    "build_row_count",
    "column_variable_name",
    "convert_ascii",
    "extract_fields",
    "is_number",
    "parse_ascii_table",
    "parse_binary_table",
]

MAX_ITEMS = 65536  # items of one COLUMN: a bound on the columns a label can make the reader build
MAX_COLUMNS = 65536  # columns of one table, items expanded: the bound over all its COLUMN objects
_BLOCK_ROWS = 2048  # rows of records copied at a time by extract_fields: a block stays in cache


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


def build_columns(table: Block, label: str, row_bytes: int | None = None) -> list[Column]:
    """Columns of a TABLE block (or an FMT file parsed as a block), ITEMS expanded.

    With ``row_bytes``, each COLUMN (all its items) must lie inside the row, checked before its
    items are expanded; a table expands to at most ``MAX_COLUMNS`` columns in all.
    """
    columns: list[Column] = []
    for block in table.blocks("COLUMN"):
        name = str(block.get("NAME", f"COLUMN_{len(columns) + 1}"))
        columns += _expand_column(block, name, label, row_bytes)
        if len(columns) > MAX_COLUMNS:
            expected = f"at most {MAX_COLUMNS} columns in a table, items counted"
            raise LabelValueError(label, f"{name}: ITEMS", len(columns), expected)
    if not columns:
        raise LabelValueError(label, f"OBJECT = {table.name or 'TABLE'}", None, "COLUMN objects")
    return columns


def _expand_column(block: Block, name: str, label: str, row_bytes: int | None) -> list[Column]:
    """One COLUMN object as columns (one per item), checked against the row first."""
    start = _positive(block, "START_BYTE", label) - 1
    width = _positive(block, "BYTES", label)
    items = block.get("ITEMS")
    multiple = isinstance(items, int) and items > 1
    item_bytes = _positive(block, "ITEM_BYTES", label) if multiple else width
    if multiple and items > MAX_ITEMS:
        raise LabelValueError(label, f"{name}: ITEMS", items, f"at most {MAX_ITEMS} items in a column")
    step = _item_offset(block, item_bytes, label) if multiple else width
    _check_inside(name, start, (items - 1) * step + item_bytes if multiple else width, row_bytes, label)
    common = {
        "data_type": str(block.get("DATA_TYPE", "")).upper(),
        "unit": _text(block.get("UNIT")),
        "bit_mask": _bit_mask(block, item_bytes, label),
        "description": _text(block.get("DESCRIPTION")),
    }
    if not multiple:
        return [Column(name, start=start, width=width, **common)]  # type: ignore[arg-type]
    return [
        Column(f"{name}_{i + 1}", start=start + i * step, width=item_bytes, **common)  # type: ignore[arg-type]
        for i in range(items)
    ]


def _check_inside(name: str, start: int, span: int, row_bytes: int | None, label: str) -> None:
    if row_bytes is not None and start + span > row_bytes:
        raise LabelValueError(label, f"{name} START_BYTE", start + 1, f"a column ({span} bytes) inside {row_bytes}-byte rows")


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
    fields = extract_fields(data, row_bytes, rows, columns, label)
    return {col.name: _checked_ascii(field, col, label) for col, field in zip(columns, fields, strict=True)}


_NUMERIC = ("ASCII_INTEGER", "ASCII_REAL")


def _checked_ascii(field: np.ndarray, col: Column, label: str) -> np.ndarray:
    """One column converted; a numeric column with a field that is not a number is refused, naming its row."""
    values = convert_ascii(field, col.data_type)
    if col.data_type in _NUMERIC and values.dtype.kind == "U":
        row = next(i for i, text in enumerate(values.tolist()) if text not in ("N/A", "NULL", "UNK", "") and not is_number(text))
        where = f"{col.data_type}, bytes {col.start + 1}-{col.start + col.width}"
        raise LabelValueError(
            label, f"{col.name} (row {row + 1})", str(values[row]), f"a number or N/A ({where})",
            "check the table's bytes, or START_BYTE and BYTES against its delimiters",
        )
    return values


def extract_fields(
    data: bytes | np.ndarray, row_bytes: int, rows: int, columns: list[Column], label: str,
    out: list[np.ndarray] | None = None, first_row: int = 0,
) -> list[np.ndarray]:
    """Each column's bytes as a contiguous ``S<BYTES>`` array (no conversion).

    Rows are copied a block at a time, every column from the block while it is in cache: column
    by column over the whole table, each copy would touch every record's cache lines again. With
    ``out`` (one array per column, as :func:`allocate_fields` makes), the ``rows`` records of ``data``
    fill rows ``first_row`` onwards of those arrays, which are returned: a table read piece by piece.
    """
    raw = np.frombuffer(data, dtype=np.uint8, count=rows * row_bytes).reshape(rows, row_bytes)
    views = [_field_view(raw, col, label) for col in columns]
    fields = allocate_fields(columns, rows) if out is None else out
    for start in range(0, rows, _BLOCK_ROWS):
        block, target = slice(start, start + _BLOCK_ROWS), slice(first_row + start, first_row + min(start + _BLOCK_ROWS, rows))
        for field, view in zip(fields, views, strict=True):
            field[target] = view[block]
    return fields


def allocate_fields(columns: list[Column], rows: int) -> list[np.ndarray]:
    """One empty ``S<BYTES>`` array of ``rows`` fields per column."""
    return [np.empty(rows, dtype=f"S{col.width}") for col in columns]


def _field_view(raw: np.ndarray, col: Column, label: str) -> np.ndarray:
    row_bytes = raw.shape[1]
    if col.start < 0 or col.start + col.width > row_bytes:
        raise LabelValueError(label, f"{col.name} START_BYTE", col.start + 1, f"a field inside {row_bytes}-byte rows")
    return raw[:, col.start : col.start + col.width].view(f"S{col.width}")[:, 0]


def parse_binary_table(data: np.ndarray, row_bytes: int, rows: int, columns: list[Column], label: str) -> dict[str, np.ndarray]:
    """Fixed-length binary records to arrays, with each column's BIT_MASK applied."""
    raw = data[: rows * row_bytes].reshape(rows, row_bytes)
    out = {}
    for col in columns:
        dtype = build_dtype(_binary_type(col.data_type), col.width * 8, label, "DATA_TYPE")
        field = _field_view(raw, col, label).view(dtype)
        values = field.astype(dtype.newbyteorder("="))
        if col.bit_mask is not None and values.dtype.kind in "ui":  # on the bits, whatever the sign
            bits = values.view(f"u{values.dtype.itemsize}")
            values = (bits & bits.dtype.type(col.bit_mask)).view(values.dtype)
        out[col.name] = values
    return out


def column_variable_name(name: str) -> str:
    """A column name as a variable name: lower case, runs of other characters as ``_``."""
    return re.sub(r"[^0-9a-z]+", "_", name.lower()).strip("_") or "column"


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
    value = strip_size_units(block.get(keyword), keyword, label)
    if not isinstance(value, int) or value < 1:
        raise LabelValueError(label, keyword, value, "a positive integer")
    return value


def _item_offset(block: Block, item_bytes: int, label: str) -> int:
    """ITEM_OFFSET (bytes from one item to the next): at least ITEM_BYTES, so that items never alias."""
    step = _positive(block, "ITEM_OFFSET", label) if "ITEM_OFFSET" in block else item_bytes
    if step < item_bytes:
        raise LabelValueError(label, "ITEM_OFFSET", step, f"at least ITEM_BYTES = {item_bytes}")
    return step


def _bit_mask(block: Block, width: int, label: str) -> int | None:
    """The column's BIT_MASK, which must fit in its BYTES (None when absent or not an integer)."""
    mask = block.get("BIT_MASK")
    if not isinstance(mask, int):
        return None
    if mask < 0 or mask.bit_length() > 8 * width:  # (not 2 ** (8 * width): BYTES may be huge)
        raise LabelValueError(label, "BIT_MASK", mask, f"a mask of at most {8 * width} bits (BYTES = {width})")
    return mask


def _text(value: object) -> str | None:
    return None if value is None else str(value)
