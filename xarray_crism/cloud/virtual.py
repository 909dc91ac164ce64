"""Virtual Zarr: kerchunk references that read the archive's own files as Zarr, without a copy.

PDS3 and PDS4 arrays are uncompressed at fixed offsets, so a run of whole records of the file is a
Zarr chunk: :func:`build_array_references` maps every chunk of a variable to ``[url, offset,
length]`` in its data file. The references are Zarr format 2 (what ``engine="kerchunk"`` and
``reference://`` read):

- the byte order is the file's (``dtype`` ``">i2"``, ``"<f4"``); values are as stored, and CF
  attributes (``_FillValue`` as the Zarr fill value, ``scale_factor``, ``add_offset``,
  ``missing_value``) make ``xr.open_dataset(refs, engine="kerchunk")`` decode them as the backend
  does;
- dimensions are in the file's storage order, because a Zarr v2 chunk is a C-order block: a
  line-interleaved (BIL) cube reads as ``(line, band, sample)``, one chunk per line (so one spectrum
  is one request), and ``.transpose("band", "line", "sample")`` gives the backend's order;
- coordinates computed from sidecars (wavelengths, filter names) are small and stored inline.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from math import prod
from typing import Any

import numpy as np

from ..errors import CrismError
from ..formats.conventions import build_masked_constants
from ..model.product import DiskArray, LazyArray, Product, RenamedArray, Variable

__all__ = [
    "INLINE_BYTES", "VIRTUAL_CHUNK_BYTES", "FileChunks", "build_array_references", "build_consolidated", "build_file_chunks",
    "read_product_references", "unwrap_disk_array",
]

#: A chunk of whole file records stays within this many bytes (at least one record).
VIRTUAL_CHUNK_BYTES = 1 * 2**20
#: Computed (non-file) arrays up to this size are stored inline; bigger ones cannot be virtual.
INLINE_BYTES = 4 * 2**20
_CF_KEYS = ("scale_factor", "add_offset", "missing_value")
_MAX_ROW_BYTES = 8 * 2**20  # one row of the slowest free axis is a chunk up to this size
_MIN_RUN_BYTES = 64  # below this, a reference per run costs more than the data it points to


def read_product_references(product: Product, prefix: str = "") -> dict[str, Any]:
    """Kerchunk references (``{key: value}``) of every variable of ``product`` under group ``prefix``.

    Reads only the computed coordinates (small sidecar tables); data stay where they are.
    """
    refs: dict[str, Any] = {
        _key(prefix, ".zgroup"): _json({"zarr_format": 2}), _key(prefix, ".zattrs"): _json(_jsonable(product.attrs)),
    }
    coords = {name: var.dims for name, var in product.coords.items() if name not in var.dims}
    for name, var in {**product.variables, **product.coords}.items():
        dims = _dims_of(var.data)
        related = [c for c, cdims in coords.items() if c != name and set(cdims) <= set(dims) and name in product.variables]
        attrs = {**var.attrs, **{k: v for k, v in var.encoding.items() if k in _CF_KEYS}}
        if related:
            attrs["coordinates"] = " ".join(related)
        if "missing_value" in attrs:
            attrs["masked_constants"] = build_masked_constants(attrs["missing_value"])
        refs.update(build_array_references(_key(prefix, name), var, dims, attrs, product.source.url))
    refs[_key(prefix, ".zmetadata")] = build_consolidated(refs, prefix)
    return refs


def build_consolidated(refs: dict[str, Any], prefix: str = "") -> str:
    """Zarr v2 consolidated metadata (``.zmetadata``) of the metadata documents under ``prefix``.

    Groups below the root need it: zarr's fsspec store lists a reference filesystem with a
    leading ``/`` that kerchunk's filesystem does not find, so a subgroup's arrays are found
    only through its consolidated metadata (``consolidated=True``).
    """
    import json

    start = f"{prefix}/" if prefix else ""
    metadata = {
        key[len(start):]: json.loads(value) for key, value in refs.items()
        if key.startswith(start) and key.rsplit("/", 1)[-1] in (".zgroup", ".zattrs", ".zarray")
    }
    return _json({"zarr_consolidated_format": 1, "metadata": metadata})


def build_array_references(
    path: str, var: Variable, dims: tuple[str, ...], attrs: dict[str, Any], label: str
) -> dict[str, Any]:
    """``.zarray``, ``.zattrs`` and one reference per chunk of ``var`` at ``path``."""
    disk, rename = unwrap_disk_array(var.data)
    fill = var.encoding.get("_FillValue")
    if disk is None:
        shape, chunks, dtype, keys = _inline(path, var, label)
    else:
        shape, chunks, dtype, keys = _file_chunks(path, disk)
    zarray = {
        "zarr_format": 2, "shape": list(shape), "chunks": list(chunks), "dtype": dtype.str, "compressor": None,
        "filters": None, "fill_value": _fill(fill, dtype), "order": "C", "dimension_separator": ".",
    }
    zattrs = {"_ARRAY_DIMENSIONS": [rename.get(d, d) for d in dims], **_jsonable(attrs)}
    return {f"{path}/.zarray": _json(zarray), f"{path}/.zattrs": _json(zattrs), **keys}


def unwrap_disk_array(array: LazyArray) -> tuple[DiskArray | None, dict[str, str]]:
    """The file array under renames (map products' ``y``/``x``), and the renaming (file dim -> variable dim)."""
    if isinstance(array, RenamedArray):
        inner, rename = unwrap_disk_array(array.array)
        return inner, {**rename, **dict(zip(array.array.dims, array.dims, strict=True))}
    return (array, {}) if isinstance(array, DiskArray) else (None, {})


def _dims_of(array: LazyArray) -> tuple[str, ...]:
    """Dimensions of the virtual array: storage order for file arrays, the array's own otherwise."""
    disk, _ = unwrap_disk_array(array)
    if disk is None:
        return array.dims
    return tuple(d for d in disk.layout.storage_dims if not (disk.band is not None and d == "band"))


@dataclass(frozen=True)
class FileChunks:
    """The chunks of a file array, in its storage order (fixed axes left out).

    ``grid`` holds one row of chunk indices per chunk, ``offsets`` the byte offset of each;
    every chunk is ``length`` bytes of ``url``.
    """

    dims: tuple[str, ...]
    shape: tuple[int, ...]
    chunks: tuple[int, ...]
    grid: np.ndarray
    offsets: np.ndarray
    length: int
    url: str


def build_file_chunks(disk: DiskArray) -> FileChunks:
    """The contiguous chunks of ``disk`` (whole records, ``_record_chunk``) and their byte offsets."""
    layout = disk.layout
    fixed = {"band": disk.band} if disk.band is not None else {}
    shape = layout.storage_shape
    chunk = _record_chunk(shape, [d in fixed for d in layout.storage_dims], layout.dtype.itemsize)
    if prod(chunk) * layout.dtype.itemsize < _MIN_RUN_BYTES:
        raise CrismError(
            disk.source.url, "storage order", layout.storage_dims,
            f"a variable stored in runs of at least {_MIN_RUN_BYTES} bytes (one band of this "
            f"{'x'.join(layout.storage_dims)} file is strided: {prod(chunk) * layout.dtype.itemsize}-byte runs)",
            "reference the whole cube's variable instead, or convert to Zarr",
        )
    free = [i for i, d in enumerate(layout.storage_dims) if d not in fixed]
    counts = [shape[i] // chunk[i] for i in free]
    grid = np.indices(counts).reshape(len(free), -1).T if counts else np.zeros((1, 0), dtype=int)
    starts = np.zeros((grid.shape[0], len(shape)), dtype=np.int64)
    for column, i in enumerate(free):
        starts[:, i] = grid[:, column] * chunk[i]
    for i, d in enumerate(layout.storage_dims):
        if d in fixed:
            starts[:, i] = fixed[d]
    offsets = layout.offset + np.ravel_multi_index(tuple(starts.T), shape) * layout.dtype.itemsize
    return FileChunks(
        tuple(layout.storage_dims[i] for i in free), tuple(shape[i] for i in free), tuple(chunk[i] for i in free),
        grid, np.asarray(offsets), prod(chunk) * layout.dtype.itemsize, disk.source.url,
    )


def _file_chunks(path: str, disk: DiskArray) -> tuple[tuple[int, ...], tuple[int, ...], np.dtype, dict[str, Any]]:
    c = build_file_chunks(disk)
    keys = {
        f"{path}/{'.'.join(map(str, index))}": [c.url, int(offset), c.length]
        for index, offset in zip(c.grid.tolist(), c.offsets.tolist(), strict=True)
    }
    return c.shape, c.chunks, disk.layout.dtype, keys


def _record_chunk(shape: tuple[int, ...], fixed: list[bool], itemsize: int) -> list[int]:
    """The largest contiguous block within :data:`VIRTUAL_CHUNK_BYTES`.

    The trailing free axes are whole; the first of them is cut to a divisor of its length (at
    least one row: a BIL line of a full-size TRDR, 1.1 MB, stays one chunk, so a spectrum is one
    request); only when one row exceeds :data:`_MAX_ROW_BYTES` (a big band plane of a BSQ cube)
    is the next axis cut.
    """
    start = len(shape)
    while start > 0 and not fixed[start - 1]:
        start -= 1
    chunk = [1] * len(shape)
    chunk[start:] = shape[start:]
    for axis in range(start, len(shape)):
        rest = prod(shape[axis + 1:]) * itemsize
        fitting = [k for k in _divisors(shape[axis]) if k * rest <= VIRTUAL_CHUNK_BYTES]
        if not fitting and axis == start and rest <= _MAX_ROW_BYTES:
            fitting = [1]
        if fitting:
            chunk[axis] = max(fitting)
            break
        chunk[axis] = 1
    return chunk


def _divisors(n: int) -> list[int]:
    return [k for k in range(1, n + 1) if n % k == 0] if n else [1]


def _inline(path: str, var: Variable, label: str) -> tuple[tuple[int, ...], tuple[int, ...], np.dtype, dict[str, Any]]:
    array = var.data
    nbytes = prod(array.shape) * array.dtype.itemsize
    if nbytes > INLINE_BYTES:
        raise CrismError(
            label, path, f"{type(array).__name__} of {nbytes} bytes",
            f"an array read from the file (computed arrays of up to {INLINE_BYTES} bytes are stored inline)",
            "virtual references cannot hold computed images: open with bayer='raw', or convert to Zarr instead",
        )
    data = np.ascontiguousarray(array.read(tuple(slice(None) for _ in array.shape)))
    key = f"{path}/{'.'.join('0' for _ in array.shape) or '0'}"
    inline = "base64:" + base64.b64encode(data.tobytes()).decode()
    return array.shape, tuple(max(n, 1) for n in array.shape), data.dtype, {key: inline}


def _fill(value: Any, dtype: np.dtype) -> Any:
    if value is None:
        return None
    if dtype.kind == "f" and np.isnan(value):
        return "NaN"
    return np.asarray(value, dtype=dtype).item()


def _key(prefix: str, name: str) -> str:
    return f"{prefix}/{name}" if prefix else name


def _json(obj: Any) -> str:
    import json

    return json.dumps(obj, allow_nan=False)


def _jsonable(value: Any) -> Any:
    """Attributes as JSON: numpy scalars and arrays become Python numbers and lists; NaN a string."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, np.generic):
        return _jsonable(value.item())
    if isinstance(value, float) and not np.isfinite(value):
        return str(value)
    return value
