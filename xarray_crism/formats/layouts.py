"""Array layouts: where an array lives in its file and how its bytes are ordered.

``build_image_layout`` reads an ``IMAGE`` object of a PDS3 label (``build_array_layout`` an
``ARRAY``, ``build_pds4_layout`` a PDS4 ``Array*`` class) into an :class:`ArrayLayout`; nothing
here does I/O. A layout whose ``filename`` is None lives in the label's own file (attached
labels, as in Mastcam-Z IMGs). Sample types are a table, so a
new type is one line, and every check names the label, the keyword and what was expected.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import prod

import numpy as np

from ..errors import LabelValueError, TruncatedFileError
from ..io.sources import check_plain_name
from ..labels.pds3 import Block, Pointer, Quantity, parse_pointer
from ..labels.pds4 import Pds4Array

__all__ = [
    "CANONICAL_DIMS", "ArrayLayout", "build_array_layout", "build_dtype", "build_image_layout", "build_pds4_layout",
    "strip_size_units",
]

#: Dims of an image as readers return it, whatever its storage order.
CANONICAL_DIMS = ("band", "line", "sample")

#: PDS3 SAMPLE_TYPE / DATA_TYPE -> (byte order, numpy kind).
SAMPLE_TYPES: dict[str, tuple[str, str]] = {
    "PC_REAL": ("<", "f"),
    "IEEE_REAL": (">", "f"),
    "REAL": (">", "f"),
    "FLOAT": (">", "f"),
    "MSB_UNSIGNED_INTEGER": (">", "u"),
    "UNSIGNED_INTEGER": (">", "u"),
    "SUN_UNSIGNED_INTEGER": (">", "u"),
    "MAC_UNSIGNED_INTEGER": (">", "u"),
    "LSB_UNSIGNED_INTEGER": ("<", "u"),
    "PC_UNSIGNED_INTEGER": ("<", "u"),
    "VAX_UNSIGNED_INTEGER": ("<", "u"),
    "MSB_INTEGER": (">", "i"),
    "INTEGER": (">", "i"),
    "SUN_INTEGER": (">", "i"),
    "MAC_INTEGER": (">", "i"),
    "LSB_INTEGER": ("<", "i"),
    "PC_INTEGER": ("<", "i"),
    "VAX_INTEGER": ("<", "i"),
}
#: PDS4 Element_Array data_type -> numpy dtype (every numeric type of the PDS4 standard).
PDS4_DATA_TYPES: dict[str, str] = {
    "SignedByte": "i1", "UnsignedByte": "u1",
    **{f"Signed{o}{n}": f"{c}i{n}" for o, c in (("MSB", ">"), ("LSB", "<")) for n in (2, 4, 8)},
    **{f"Unsigned{o}{n}": f"{c}u{n}" for o, c in (("MSB", ">"), ("LSB", "<")) for n in (2, 4, 8)},
    **{f"IEEE754{o}{w}": f"{c}f{n}" for o, c in (("MSB", ">"), ("LSB", "<")) for w, n in (("Single", 4), ("Double", 8))},
    **{f"Complex{o}{n}": f"{c}c{n}" for o, c in (("MSB", ">"), ("LSB", "<")) for n in (8, 16)},
}
#: PDS4 axis names -> our dimension names (others are lower-cased).
PDS4_AXES = {"band": "band", "line": "line", "sample": "sample", "bands": "band", "lines": "line", "samples": "sample"}

_VALID_BITS = {"f": (32, 64), "u": (8, 16, 32, 64), "i": (8, 16, 32, 64)}

#: BAND_STORAGE_TYPE -> order of the axes in the file, slowest first.
STORAGE_ORDERS: dict[str, tuple[str, str, str]] = {
    "BAND_SEQUENTIAL": ("band", "line", "sample"),
    "LINE_INTERLEAVED": ("line", "band", "sample"),
    "SAMPLE_INTERLEAVED": ("line", "sample", "band"),
}
_ZERO_KEYWORDS = ("LINE_PREFIX_BYTES", "LINE_SUFFIX_BYTES", "BAND_PREFIX_BYTES", "BAND_SUFFIX_BYTES")


@dataclass(frozen=True)
class ArrayLayout:
    """An uncompressed array at a fixed offset of a data file.

    ``storage_dims``/``storage_shape`` are in file order (slowest axis first); readers return
    ``dims`` order, which is :data:`CANONICAL_DIMS` for images.
    """

    filename: str | None
    offset: int
    dtype: np.dtype
    storage_dims: tuple[str, ...]
    storage_shape: tuple[int, ...]
    dims: tuple[str, ...]

    @property
    def shape(self) -> tuple[int, ...]:
        """The shape in ``dims`` order."""
        sizes = dict(zip(self.storage_dims, self.storage_shape, strict=True))
        return tuple(sizes[d] for d in self.dims)

    @property
    def nbytes(self) -> int:
        """Bytes the array occupies in the file."""
        return prod(self.storage_shape) * self.dtype.itemsize

    @property
    def size(self) -> dict[str, int]:
        """Length of each dimension."""
        return dict(zip(self.storage_dims, self.storage_shape, strict=True))

    def check_fits(self, file_size: int, url: str) -> None:
        """Raise :class:`TruncatedFileError` unless the array lies inside ``file_size`` bytes."""
        end = self.offset + self.nbytes
        if end > file_size:
            raise TruncatedFileError(
                url, "file size", file_size,
                f"at least {end} bytes for {self.storage_dims}={self.storage_shape} of "
                f"{self.dtype.str} at byte {self.offset}",
            )


def build_dtype(sample_type: object, bits: object, label: str, keyword: str = "SAMPLE_TYPE") -> np.dtype:
    """Numpy dtype (file byte order) of a PDS3 sample type and width."""
    if not isinstance(sample_type, str) or sample_type.upper() not in SAMPLE_TYPES:
        raise LabelValueError(label, keyword, sample_type, f"one of {sorted(SAMPLE_TYPES)}")
    order, kind = SAMPLE_TYPES[sample_type.upper()]
    if not isinstance(bits, int) or bits not in _VALID_BITS[kind]:
        raise LabelValueError(
            label, "SAMPLE_BITS", bits, f"one of {_VALID_BITS[kind]} for {sample_type}"
        )
    return np.dtype(f"{order}{kind}{bits // 8}")


def build_image_layout(
    image: Block, pointer_value: object, record_bytes: int | None, label: str, pointer_key: str = "^IMAGE"
) -> ArrayLayout:
    """Layout of a PDS3 ``IMAGE`` object (bands optional) pointed to by ``pointer_value``."""
    filename, offset = resolve_pointer(pointer_value, record_bytes, label, pointer_key)
    for keyword in _ZERO_KEYWORDS:
        if _count(image, keyword, label, default=0) != 0:
            raise LabelValueError(label, keyword, image.get(keyword), "0 (prefix/suffix bytes are not supported)")
    lines = _count(image, "LINES", label)
    samples = _count(image, "LINE_SAMPLES", label)
    bands = _count(image, "BANDS", label, default=1)
    order_name = str(image.get("BAND_STORAGE_TYPE", "BAND_SEQUENTIAL")).upper()
    if bands == 1 and "BAND_STORAGE_TYPE" not in image:
        order_name = "BAND_SEQUENTIAL"
    if order_name not in STORAGE_ORDERS:
        raise LabelValueError(label, "BAND_STORAGE_TYPE", order_name, f"one of {sorted(STORAGE_ORDERS)}")
    order = STORAGE_ORDERS[order_name]
    sizes = {"band": bands, "line": lines, "sample": samples}
    dtype = build_dtype(image.get("SAMPLE_TYPE"), image.get("SAMPLE_BITS"), label)
    return ArrayLayout(filename, offset, dtype, order, tuple(sizes[d] for d in order), CANONICAL_DIMS)


def build_array_layout(
    array: Block, pointer_value: object, record_bytes: int | None, label: str, pointer_key: str
) -> ArrayLayout:
    """Layout of a PDS3 ``ARRAY`` object whose ``ELEMENT`` is a scalar (ADR look-up tables)."""
    filename, offset = resolve_pointer(pointer_value, record_bytes, label, pointer_key)
    axes = _count(array, "AXES", label)
    items = array.get("AXIS_ITEMS")
    items = items if isinstance(items, list) else [items]
    names = array.get("AXIS_NAME", [f"axis_{i}" for i in range(axes)])
    names = names if isinstance(names, list) else [names]
    if len(items) != axes or len(names) != axes or not all(isinstance(i, int) and i > 0 for i in items):
        raise LabelValueError(label, "AXIS_ITEMS", items, f"{axes} positive integers with {axes} AXIS_NAME")
    element = next(array.blocks("ELEMENT"), None)
    if element is None:
        raise LabelValueError(label, "ELEMENT", None, "an ELEMENT object inside the ARRAY")
    bytes_ = _count(element, "BYTES", label)
    dtype = build_dtype(element.get("DATA_TYPE"), bytes_ * 8, label, "DATA_TYPE")
    dims = tuple(str(n).lower() for n in names)
    return ArrayLayout(filename, offset, dtype, dims, tuple(items), dims)


def build_pds4_layout(array: Pds4Array, filename: str, label: str) -> ArrayLayout:
    """Layout of a PDS4 array; images (Band/Line/Sample axes, 2-D or 3-D) get ``CANONICAL_DIMS``."""
    where = array.name
    if array.axis_index_order != "Last Index Fastest":
        raise LabelValueError(label, f"{where}/axis_index_order", array.axis_index_order, "'Last Index Fastest' (PDS4)")
    if array.data_type not in PDS4_DATA_TYPES:
        raise LabelValueError(label, f"{where}/Element_Array/data_type", array.data_type, f"one of {sorted(PDS4_DATA_TYPES)}")
    if not array.axes:
        raise LabelValueError(label, f"{where}/Axis_Array", None, "one Axis_Array per dimension")
    dims = tuple(PDS4_AXES.get(a.name.lower(), "_".join(a.name.lower().split())) for a in array.axes)
    shape = tuple(a.elements for a in array.axes)
    if len(set(dims)) != len(dims):
        raise LabelValueError(label, f"{where}/Axis_Array/axis_name", dims, "distinct axis names")
    if set(dims) == {"line", "sample"}:
        dims, shape = ("band", *dims), (1, *shape)
    out_dims = CANONICAL_DIMS if set(dims) == set(CANONICAL_DIMS) else dims
    name = check_plain_name(filename, label, "File_Area_Observational/File/file_name")
    return ArrayLayout(name, array.offset, np.dtype(PDS4_DATA_TYPES[array.data_type]), dims, shape, out_dims)


MAX_OFFSET = 2**50  # bytes: a petabyte, far beyond any archive file, and far from int64 overflow


def resolve_pointer(value: object, record_bytes: object, label: str, key: str) -> tuple[str | None, int]:
    """(plain file name or None for the label's own file, 0-based byte offset) of a ``^OBJECT`` pointer."""
    pointer: Pointer = parse_pointer(value, label, key)
    try:
        offset = pointer.byte_offset(record_bytes)
    except ValueError as err:
        raise LabelValueError(label, key, value, f"a PDS3 pointer ({err})") from None
    if not 0 <= offset <= MAX_OFFSET:
        raise LabelValueError(label, key, value, f"a byte offset from 0 to {MAX_OFFSET} (RECORD_BYTES = {record_bytes!r})")
    if pointer.filename is None:
        return None, offset
    return check_plain_name(pointer.filename, label, key), offset


#: Units a size keyword may carry, by the end of its name; a size in any other unit (``7 <KB>``)
#: is refused rather than converted: PDS3 sizes are counted in bytes or bits, never scaled.
SIZE_UNITS = {"BYTES": ("BYTE", "BYTES"), "BYTE": ("BYTE", "BYTES"), "BITS": ("BIT", "BITS")}


def strip_size_units(value: object, keyword: str, label: str) -> object:
    """A size keyword's value without its unit, refusing a unit other than the keyword's own."""
    if not isinstance(value, Quantity):
        return value
    allowed = SIZE_UNITS.get(keyword.rpartition("_")[2])
    if allowed is not None and value.units.strip().upper() not in allowed:
        raise LabelValueError(label, keyword, f"{value.value} <{value.units}>", f"a count in <{allowed[-1]}> (or no unit)")
    return value.value


def _count(block: Block, keyword: str, label: str, default: int | None = None) -> int:
    value = strip_size_units(block.get(keyword, default), keyword, label)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise LabelValueError(label, keyword, value, "a non-negative integer")
    return value
