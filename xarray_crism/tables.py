"""PDS3 tables: column definitions from labels and FMT files, ASCII and binary rows to arrays.

``build_columns`` reads the ``COLUMN`` objects of a ``TABLE`` (or of its ``^STRUCTURE`` file);
``parse_ascii_table`` and ``parse_binary_table`` turn fixed-length records into one NumPy array
per column, vectorised (no Python loop over rows). For large ASCII tables, ``extract_fields``
copies each column's bytes out in cache-sized blocks of rows, ``factorize_fields`` finds the
distinct fields of a column (so each distinct text is converted once), ``parse_reals`` computes
plain decimals in bulk (others through pandas' C parser) and ``decode_fields`` makes str objects
with one ``str.split``; all give exactly what ``convert_ascii`` gives.
"""

from __future__ import annotations

import csv
import io
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
    "convert_ascii",
    "decode_fields",
    "extract_fields",
    "factorize_fields",
    "is_number",
    "parse_ascii_table",
    "parse_binary_table",
    "parse_reals",
    "strip_fields",
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
MAX_ITEMS = 65536  # items of one COLUMN: a bound on the columns a label can make the reader build
_BLOCK_ROWS = 2048  # rows of records copied at a time by extract_fields: a block stays in cache
_SAMPLE_ROWS = 1024  # rows sampled to tell whether deduplicating a column pays
_HASH = np.uint64(0x9E3779B97F4A7C15)
_FEW_DISTINCT = 256  # fewer distinct reals than this: NumPy's conversion beats a pandas parser call
_DECIMAL_ROWS = 16384  # rows parsed at a time by _decimals: its temporaries stay in cache
_BYTE_BITS = np.uint64(0x0102040810204080)  # times 8 bytes of 0/1: their bits gathered in the top byte
_POW10 = 10.0 ** np.arange(9)


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
        multiple = isinstance(items, int) and items > 1
        item_bytes = _positive(block, "ITEM_BYTES", label) if multiple else width
        common = {
            "data_type": str(block.get("DATA_TYPE", "")).upper(),
            "unit": _text(block.get("UNIT")),
            "bit_mask": _bit_mask(block, item_bytes, label),
            "description": _text(block.get("DESCRIPTION")),
        }
        if multiple:
            if items > MAX_ITEMS:
                raise LabelValueError(label, f"{name}: ITEMS", items, f"at most {MAX_ITEMS} items in a column")
            step = _item_offset(block, item_bytes, label)
            columns += [
                Column(f"{name}_{i + 1}", start=start + i * step, width=item_bytes, **common)  # type: ignore[arg-type]
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
    fields = extract_fields(data, row_bytes, rows, columns, label)
    return {col.name: convert_ascii(field, col.data_type) for col, field in zip(columns, fields, strict=True)}


def extract_fields(data: bytes | np.ndarray, row_bytes: int, rows: int, columns: list[Column], label: str) -> list[np.ndarray]:
    """Each column's bytes as a contiguous ``S<BYTES>`` array (no conversion).

    Rows are copied a block at a time, every column from the block while it is in cache: column
    by column over the whole table, each copy would touch every record's cache lines again.
    """
    raw = np.frombuffer(data, dtype=np.uint8, count=rows * row_bytes).reshape(rows, row_bytes)
    views = [_field_view(raw, col, label) for col in columns]
    fields = [np.empty(rows, dtype=view.dtype) for view in views]
    for start in range(0, rows, _BLOCK_ROWS):
        block = slice(start, start + _BLOCK_ROWS)
        for field, view in zip(fields, views, strict=True):
            field[block] = view[block]
    return fields


def _field_view(raw: np.ndarray, col: Column, label: str) -> np.ndarray:
    row_bytes = raw.shape[1]
    if col.start < 0 or col.start + col.width > row_bytes:
        raise LabelValueError(label, f"{col.name} START_BYTE", col.start + 1, f"a field inside {row_bytes}-byte rows")
    return raw[:, col.start : col.start + col.width].view(f"S{col.width}")[:, 0]


def convert_ascii(field: np.ndarray, data_type: str) -> np.ndarray:
    """One column's fields by DATA_TYPE: int64 (float64 when some are N/A), float64, or stripped str.

    A numeric column with a field that is not a number comes back as str, for the caller to report.
    """
    kind = _ASCII_KINDS.get(data_type, "str")
    if kind == "str":
        return _decode(strip_fields(field))
    stripped = np.strings.strip(field)
    missing = np.isin(stripped, _MISSING)
    try:
        if kind == "int" and not missing.any():
            return stripped.astype(np.int64)
        return np.where(missing, b"nan", stripped).astype(np.float64)
    except ValueError:
        return _decode(stripped)


def factorize_fields(field: np.ndarray) -> tuple[np.ndarray | None, np.ndarray]:
    """``(codes, distinct)`` with ``distinct[codes]`` equal to ``field``, in order of first appearance.

    ``(None, field)`` when most of a sample of rows differ (deduplicating would not pay) or when
    two different fields share a hash (never silently merged).
    """
    sample = len(set(field[:_SAMPLE_ROWS].tolist()))
    if sample > min(len(field), _SAMPLE_ROWS) // 2:
        return None, field
    flat, width = field.view(np.uint8), field.dtype.itemsize
    if sample == 1 and np.array_equal(flat[width:], flat[:-width]):  # every field equals the one before
        return np.zeros(len(field), dtype=np.intp), field[:1]
    return _factorize_hashed(field)


def _factorize_hashed(field: np.ndarray) -> tuple[np.ndarray | None, np.ndarray]:
    import pandas as pd

    words = _words(field)
    codes = np.asarray(pd.factorize(_hash(words))[0], dtype=np.intp)
    seen = np.maximum.accumulate(codes)
    first = np.flatnonzero(codes > np.concatenate(([-1], seen[:-1])))  # codes count up as values first appear
    if words.shape[1] > 1 and not np.array_equal(words[first][codes], words):
        return None, field
    return codes, field[first]


def _words(field: np.ndarray) -> np.ndarray:
    """Fields as rows of uint64 words (zero-padded): equal words, equal bytes."""
    width = field.dtype.itemsize
    padded = np.zeros((len(field), -(-width // 8) * 8), dtype=np.uint8)
    padded[:, :width] = field.view(np.uint8).reshape(len(field), width)
    return padded.view(np.uint64)


def _hash(words: np.ndarray) -> np.ndarray:
    key = words[:, 0].copy()
    for i in range(1, words.shape[1]):
        key *= _HASH
        key ^= words[:, i]
    return key


def parse_reals(field: np.ndarray) -> np.ndarray | None:
    """ASCII_REAL fields as float64, NaN for N/A, NULL, UNK or blank: what ``convert_ascii`` gives.

    Plain decimals of up to 8 bytes are computed in bulk; the other fields, once each distinct one,
    by pandas' C parser or, where it might read them differently (tabs, controls, ``nan``, ``1_0``...),
    NumPy. ``None`` when a field is not a number, for ``convert_ascii`` to report.
    """
    values, plain = _plain_decimals(field)
    rest = np.flatnonzero(~plain)
    if rest.size:
        codes, distinct = factorize_fields(field[rest])
        other = _read_reals(distinct) if len(distinct) > _FEW_DISTINCT else None
        other = convert_ascii(distinct, "ASCII_REAL") if other is None else other
        if other.dtype.kind != "f":
            return None
        values[rest] = other if codes is None else other[codes]
    return values


def _plain_decimals(field: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(values, plain)``: the fields that read ``[+-]digits[.digits]`` between blanks, in blocks."""
    values, plain = np.empty(len(field)), np.zeros(len(field), dtype=bool)
    if field.dtype.itemsize <= 8:
        for start in range(0, len(field), _DECIMAL_ROWS):
            block = slice(start, start + _DECIMAL_ROWS)
            values[block], plain[block] = _decimals(field[block])
    return values, plain


def _decimals(field: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Fields of at most 8 bytes as eight-byte words: digits M and decimals d give M / 10**d.

    With at most 8 digits both are exact, so the division rounds correctly, as NumPy's parser does.
    """
    width = field.dtype.itemsize
    cells = np.full((len(field), 8), ord(" "), dtype=np.uint8)
    cells[:, :width] = field.view(np.uint8).reshape(len(field), width)
    digits = cells ^ np.uint8(ord("0"))
    is_digit, is_minus = digits < 10, cells == ord("-")
    signs = is_minus | (cells == ord("+"))
    dig, dot, minus, sign, body = (_row_bits(m) for m in (is_digit, cells == ord("."), is_minus, signs, cells != ord(" ")))
    first = body & -body
    plain = (dig != 0) & ((body & (body + first)) == 0) & ((body & ~(dig | dot | sign)) == 0)  # one run of known bytes
    plain &= ((sign & ~first) == 0) & ((dot & (dot - 1)) == 0)  # a sign only first, one dot at most
    blanks = 8 - _bit_length(body)  # after the last character
    word = (digits * is_digit).view(np.uint64)[:, 0] << (blanks.astype(np.uint64) * np.uint64(8))  # right-aligned
    gap = (np.bitwise_count(dot - 1) + blanks) * (dot != 0)  # the dot's byte, now empty
    low = word & ((np.uint64(1) << (gap.astype(np.uint64) * np.uint64(8))) - np.uint64(1))
    word = (word ^ low) | (low << np.uint64(8))  # digits before the dot moved up into its byte
    decimals = np.bitwise_count(dig & ~((dot << 1) - 1))
    values = _digits_value(word).view(np.int64) / _POW10.take(decimals)
    values *= 1.0 - 2.0 * (minus != 0)  # -0.0 for "-0", as NumPy
    return values, plain


def _row_bits(mask: np.ndarray) -> np.ndarray:
    """Rows of 8 bools as bytes, bit j from column j."""
    return ((mask.view(np.uint64)[:, 0] * _BYTE_BITS) >> np.uint64(56)).astype(np.uint8)


def _bit_length(bits: np.ndarray) -> np.ndarray:
    smear = bits | (bits >> 1)
    smear |= smear >> 2
    smear |= smear >> 4
    return np.asarray(np.bitwise_count(smear))


def _digits_value(word: np.ndarray) -> np.ndarray:
    """Eight digit bytes (0-9, first byte most significant) as one number, in SWAR steps."""
    word = word * np.uint64(10) + (word >> np.uint64(8))
    low = (word & np.uint64(0x000000FF000000FF)) * np.uint64(100 + (1000000 << 32))
    high = ((word >> np.uint64(16)) & np.uint64(0x000000FF000000FF)) * np.uint64(1 + (10000 << 32))
    return (low + high) >> np.uint64(32)


def _read_reals(field: np.ndarray) -> np.ndarray | None:
    """Reals through pandas' C parser (correctly rounded, as NumPy's), or None where the two might differ."""
    import pandas as pd

    blob = _lines(field)  # a line break inside a field shows as extra rows
    if b"\x00" in blob or b"\r" in blob or b"\x1f" in blob:
        return None
    width = field.dtype.itemsize
    missing = [text + " " * pad for text in ("N/A", "NULL", "UNK", "") for pad in range(width - len(text) + 1)]
    options = {} if int(pd.__version__.split(".")[0]) >= 3 else {"float_precision": "round_trip"}
    try:
        values = pd.read_csv(
            io.BytesIO(blob), sep="\x1f", header=None, names=["v"], dtype=np.float64, engine="c",
            na_values=missing, keep_default_na=False, skip_blank_lines=False, skipinitialspace=True,
            quoting=csv.QUOTE_NONE, encoding="latin-1", **options,
        )["v"].to_numpy(dtype=np.float64)
    except (ValueError, TypeError):
        return None
    return values if len(values) == len(field) else None


def strip_fields(field: np.ndarray) -> np.ndarray:
    """Text fields stripped of whitespace, then of quotes and the blanks inside them (still bytes)."""
    text = np.strings.strip(field)
    if (text.view(np.uint8) == ord('"')).any():
        text = np.strings.strip(np.strings.strip(text, b'"'), b" ")
    return text


def decode_fields(text: np.ndarray) -> np.ndarray:
    """Stripped fields (see ``strip_fields``) as an object array of str, as ``convert_ascii`` decodes."""
    clean = _lines(text).translate(None, b"\x00")  # the padding of shorter fields
    if len(clean) == len(text) + int(np.strings.str_len(text).sum()):  # no NUL inside a field
        lines = clean.decode("latin-1").split("\n")
        if len(lines) == len(text) + 1:  # nor a line break
            return np.fromiter(lines[:-1], dtype=object, count=len(text))
    return _decode(text).astype(object)


def _lines(field: np.ndarray) -> bytes:
    """The fields (with their padding) one per line."""
    width = field.dtype.itemsize
    cells = np.empty((len(field), width + 1), dtype=np.uint8)
    cells[:, :width] = field.view(np.uint8).reshape(len(field), width)
    cells[:, width] = ord("\n")
    return cells.tobytes()


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
    if not 0 <= mask < 2 ** (8 * width):
        raise LabelValueError(label, "BIT_MASK", mask, f"a mask of at most {8 * width} bits (BYTES = {width})")
    return mask


def _text(value: object) -> str | None:
    return None if value is None else str(value)
