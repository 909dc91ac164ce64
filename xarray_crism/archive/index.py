"""Volume index tables (SIS Table 3-17: ``INDEX/*_INDEX.LBL`` + ``.TAB``, ``CUMINDEX``) as DataFrames.

``read_index`` reads the detached label, then the table in pieces of ``PIECE_BYTES`` (one request
for a table smaller than that), copying each piece's fields out into one array per column, and
parses the fixed-length records column by column (vectorised: no Python loop over rows), letting
each column's bytes go once it is typed: the table is never held whole beside its fields. Each distinct
field of a column is converted once (index columns repeat: N/A, volume, product type...), reals
in bulk and text with one ``str.split`` (see ``tables``). A column with a field that these fast
paths would not read exactly as NumPy does goes back to the plain NumPy conversion, which also
reports the first bad row. Columns keep the label's names (``PRODUCT_ID``, ``MRO:SENSOR_ID``,
...) and get the label's types: ``CHARACTER`` -> string (quotes and padding stripped),
``ASCII_REAL`` -> float64, ``ASCII_INTEGER`` -> nullable Int64, ``TIME``/``DATE`` ->
datetime64; ``N/A`` (and ``NULL``, ``UNK``, blank) is missing. A numeric or time field that is neither a value nor missing is an
error naming the column and row, never a silent string column.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import LabelValueError
from ..formats.ascii_fields import convert_ascii, decode_fields, factorize_fields, parse_reals, strip_fields
from ..formats.tables import (
    Column,
    allocate_fields,
    build_columns,
    build_row_count,
    extract_fields,
    is_number,
)
from ..io.sources import SidecarFinder, Source, open_source, read_ranges_into, read_size
from ..labels.headers import read_label_text
from ..labels.pds3 import Block, parse_label, parse_pointer
from ..model.build_pds3 import pointed_objects

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["PIECE_BYTES", "read_index", "read_index_fields", "read_index_table"]

#: Bytes of the table read at a time by :func:`read_index_fields` (whole records: at least one).
PIECE_BYTES = 32 * 2**20
_RELEASED = np.empty(0, dtype="S1")

_MISSING = ("N/A", "NULL", "UNK", "")
_MISSING_BYTES = tuple(text.encode() for text in _MISSING)
_TIME_TYPES = ("TIME", "DATE", "ASCII_TIME", "ASCII_DATE")


def read_index(location: str | os.PathLike[str], *, storage_options: dict[str, Any] | None = None) -> pd.DataFrame:
    """An index table (its ``.LBL``, local path or fsspec URL) as a typed pandas DataFrame.

    The DataFrame's ``attrs`` hold the label (``"label"``) and the table's URL (``"table_url"``),
    from which ``FILE_SPECIFICATION_NAME`` paths are relative to the volume root (the parent of
    the ``INDEX`` directory).
    """
    import pandas as pd

    source = open_source(location, storage_options)
    table_source, columns, (rows, row_bytes) = read_index_table(source)
    fields = read_index_fields(table_source, columns, rows, row_bytes)
    typed = {}
    for i, col in enumerate(columns):  # each column's bytes let go as soon as it is typed
        field, fields[i] = fields[i], _RELEASED
        typed[col.name] = _column(field, col, table_source.url)
        del field
    frame = pd.DataFrame(typed, copy=False)  # fresh arrays: no need to copy them into 2-D blocks
    frame.attrs.update({"label": source.url, "table_url": table_source.url})
    return frame


def read_index_fields(table: Source, columns: list[Column], rows: int, row_bytes: int) -> list[np.ndarray]:
    """Each column's raw bytes (``S<BYTES>`` arrays), the table read in pieces of about ``PIECE_BYTES``.

    A piece's records are copied out while they are in memory, so the whole table is never held
    beside its fields: a 708 MB mission index needs its 590 MB of fields and one 32 MiB piece.
    """
    fields = allocate_fields(columns, rows)
    step = max(1, PIECE_BYTES // row_bytes)
    buffer = np.empty(min(step, rows) * row_bytes, dtype=np.uint8)  # one buffer for every piece: its pages fault once
    for first in range(0, rows, step):
        count = min(step, rows - first)
        piece = buffer[: count * row_bytes]
        read_ranges_into(table, [(first * row_bytes, (first + count) * row_bytes)], piece)
        extract_fields(piece, row_bytes, count, columns, table.url, out=fields, first_row=first)
    return fields


def read_index_table(source: Source) -> tuple[Source, list[Column], tuple[int, int]]:
    """The index label's table: its file, columns, and (rows, row bytes) checked against the file."""
    label = parse_label(read_label_text(source).text, source.url)
    obj = next((o for o in pointed_objects(label) if o.block.name.endswith("TABLE")), None)
    if obj is None:
        raise LabelValueError(source.url, "^INDEX_TABLE", None, "a pointer to an INDEX_TABLE (or TABLE) object")
    pointer = parse_pointer(obj.pointer, source.url, obj.key)
    if pointer.filename is None:
        raise LabelValueError(source.url, obj.key, obj.pointer, "the name of the .TAB file")
    table = SidecarFinder(source).require(pointer.filename, source.url, obj.key, local=True)
    row_bytes = _row_bytes(obj.block, label, source.url)
    rows = build_row_count(obj.block, label.get("FILE_RECORDS"), read_size(table), row_bytes, source.url)
    return table, build_columns(obj.block, source.url, row_bytes), (rows, row_bytes)


def _row_bytes(table: Block, label: Block, url: str) -> int:
    value = table.get("ROW_BYTES", label.get("RECORD_BYTES"))
    if not isinstance(value, int) or value < 1:
        raise LabelValueError(url, "ROW_BYTES", value, "a positive integer (the record length of the table)")
    return value


def _column(field: np.ndarray, col: Column, url: str) -> Any:
    """One typed column from its raw fields: each distinct field converted once, then spread."""
    codes, distinct = factorize_fields(field)
    try:
        values = _fast_typed(distinct, col, url)
    except LabelValueError:
        values = None
    if values is None:  # the plain conversion of every row, which names the first bad row
        return _typed(convert_ascii(field, col.data_type), col, url)
    return values if codes is None else values[codes]


def _fast_typed(fields: np.ndarray, col: Column, url: str) -> Any:
    """Typed values of raw fields, or None to leave them to the plain conversion."""
    import pandas as pd

    if col.data_type == "ASCII_REAL":
        return parse_reals(fields)
    if col.data_type == "ASCII_INTEGER":
        return _typed(convert_ascii(fields, col.data_type), col, url)
    text = strip_fields(fields)
    if col.data_type in _TIME_TYPES:  # printable: Python's strip would change nothing more
        missing = np.isin(text, _MISSING_BYTES) if _printable(fields) else None
        return _times(decode_fields(text), col, url, missing)
    return pd.array(decode_fields(text), dtype="string")


def _printable(fields: np.ndarray) -> bool:
    """Whether every byte is printable ASCII."""
    return bool((fields.view(np.uint8) - np.uint8(32) < 95).all())


def _typed(values: np.ndarray, col: Column, url: str) -> Any:
    import pandas as pd

    if col.data_type in ("ASCII_REAL", "ASCII_INTEGER"):
        if values.dtype.kind == "U":
            _raise_first_bad(values, col, url, "numbers or N/A")
        if col.data_type == "ASCII_INTEGER":
            return pd.array(values, dtype="Int64") if values.dtype.kind == "i" else _float_to_int(values, col, url)
        return values.astype(np.float64)
    if col.data_type in _TIME_TYPES:
        return _times(values, col, url)
    return pd.array(values, dtype="string")


def _times(values: np.ndarray, col: Column, url: str, missing: np.ndarray | None = None) -> np.ndarray:
    """ISO times (``missing``, when given, marks the N/A of text that needs no more stripping)."""
    import pandas as pd

    text = pd.Series(values, dtype="string")
    if missing is None:
        text = text.str.strip()
        missing = text.isin(_MISSING).to_numpy()
    times = pd.to_datetime(text.where(~missing), errors="coerce", format="ISO8601")
    bad = np.flatnonzero(times.isna().to_numpy() & ~missing)
    if bad.size:
        raise LabelValueError(url, f"{col.name} (row {bad[0] + 1})", str(text.iloc[bad[0]]), "ISO times or N/A")
    return np.asarray(times.to_numpy())


def _float_to_int(values: np.ndarray, col: Column, url: str) -> Any:
    import pandas as pd

    finite = values[~np.isnan(values)]
    if (finite != np.round(finite)).any():
        raise LabelValueError(url, col.name, float(finite[finite != np.round(finite)][0]), "integers or N/A")
    return pd.array(values, dtype="Int64")


def _raise_first_bad(values: np.ndarray, col: Column, url: str, expected: str) -> None:
    text = np.char.strip(values.astype(str))
    bad = [i for i, v in enumerate(text.tolist()) if v not in _MISSING and not is_number(v)]
    row = bad[0] if bad else 0
    raise LabelValueError(url, f"{col.name} (row {row + 1})", str(text[row]), expected)

