"""Bulk conversion of the fields of large ASCII tables (index tables of 10^5-10^6 rows).

``factorize_fields`` finds the distinct fields of a column (so each distinct text is converted
once), ``parse_reals`` computes plain decimals in bulk (others through pandas' C parser) and
``decode_fields`` makes str objects with one ``str.split``; all give exactly what
``convert_ascii`` gives.
"""

from __future__ import annotations

import csv
import io

import numpy as np

__all__ = ["convert_ascii", "decode_bytes", "decode_fields", "factorize_fields", "parse_reals", "strip_fields"]

_SAMPLE_ROWS = 1024  # rows sampled to tell whether deduplicating a column pays
_HASH = np.uint64(0x9E3779B97F4A7C15)
_FEW_DISTINCT = 256  # fewer distinct reals than this: NumPy's conversion beats a pandas parser call
_DECIMAL_ROWS = 16384  # rows parsed at a time by _decimals: its temporaries stay in cache
_BYTE_BITS = np.uint64(0x0102040810204080)  # times 8 bytes of 0/1: their bits gathered in the top byte
_POW10 = 10.0 ** np.arange(9)
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


def convert_ascii(field: np.ndarray, data_type: str) -> np.ndarray:
    """One column's fields by DATA_TYPE: int64 (float64 when some are N/A), float64, or stripped str.

    A numeric column with a field that is not a number comes back as str, for the caller to report.
    """
    kind = _ASCII_KINDS.get(data_type, "str")
    if kind == "str":
        return decode_bytes(strip_fields(field))
    stripped = np.strings.strip(field)
    missing = np.isin(stripped, _MISSING)
    try:
        if kind == "int" and not missing.any():
            return stripped.astype(np.int64)
        return np.where(missing, b"nan", stripped).astype(np.float64)
    except ValueError:
        return decode_bytes(stripped)


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
    return decode_bytes(text).astype(object)


def _lines(field: np.ndarray) -> bytes:
    """The fields (with their padding) one per line."""
    width = field.dtype.itemsize
    cells = np.empty((len(field), width + 1), dtype=np.uint8)
    cells[:, :width] = field.view(np.uint8).reshape(len(field), width)
    cells[:, width] = ord("\n")
    return cells.tobytes()



def decode_bytes(field: np.ndarray) -> np.ndarray:
    """Bytes to str: a cast when the text is ASCII (fast), else Latin-1 decoding."""
    try:
        return field.astype(f"U{max(field.dtype.itemsize, 1)}")
    except UnicodeDecodeError:
        return np.char.decode(field.astype(bytes), "latin-1")
