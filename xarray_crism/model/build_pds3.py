"""From label text to a :class:`~xarray_crism.model.product.Product` (reads labels, never data).

``build_product`` turns a PDS3 label (detached ``.LBL`` or the ODL header attached to an ``.IMG``;
:mod:`~xarray_crism.model.read` reads it) into the model:
IMAGE objects become cube or per-band variables, the ROWNUM table becomes ``detector_row``,
pointed ASCII tables with one row per line (TRDR/EDR housekeeping) become variables on
``line``, CDR6 tables become one variable per column, ADR ``ARRAY`` objects one variable each.
Which of these applies is the ``content`` column of :data:`~xarray_crism.formats.products.KINDS`.
"""

from __future__ import annotations

import logging
import posixpath
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np

from ..errors import LabelValueError, ShapeMismatchError
from ..formats.adr import build_line_roles
from ..formats.conventions import LABEL_ATTRIBUTES, STRUCTURAL_IMAGE_KEYWORDS, band_variable, build_cf_encoding, cf_units
from ..formats.layouts import ArrayLayout, build_array_layout, build_image_layout, resolve_pointer
from ..formats.products import identify_product
from ..formats.tables import Column, build_columns, build_row_count, column_variable_name, parse_ascii_table, parse_binary_table
from ..io.sources import SidecarFinder, Source, read_ranges, read_stamped, read_text
from ..labels.headers import build_vicar_image_keywords, read_vicar_label
from ..labels.pds3 import Block, parse_label, parse_pointer, plain
from .product import DerivedArray, DiskArray, Memo, Product, RenamedArray, Variable, build_label_attr

__all__ = [
    "PointedObject", "build_band_index", "build_preferred_chunks", "build_product", "data_source", "read_table",
    "select_column",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PointedObject:
    """An object of the label with its pointer value and the RECORD_BYTES that applies to it."""

    key: str
    pointer: Any
    block: Block
    record_bytes: int | None
    file_records: int | None


def build_product(source: Source, text: str, finder: SidecarFinder) -> Product:
    """Build the model of the product whose label text is ``text``."""
    label = parse_label(text, source.url)
    product_id = str(label.get("PRODUCT_ID") or posixpath.splitext(source.name)[0])
    pid, kind = identify_product(product_id, source.url)
    attrs = _build_attrs(label, pid.__dict__, text, kind.label_attributes)
    product = Product(source, pid, kind, label, text, attrs=attrs)
    _CONTENT_BUILDERS[kind.content](product, finder)
    return check_disjoint(product)


def check_disjoint(product: Product) -> Product:
    """Refuse arrays that overlap in one file: a corrupt (or hostile) label, whose values would be wrong."""
    extents = {}
    for var in (*product.variables.values(), *product.coords.values()):
        data = var.data.array if isinstance(var.data, RenamedArray) else var.data
        if isinstance(data, DiskArray) and data.layout.nbytes:
            extents[(data.source.path, data.layout.offset, data.layout.nbytes)] = data.source.url
    previous: tuple[str, int, int] | None = None
    for path, start, size in sorted(extents):
        if previous is not None and previous[0] == path and start < previous[1] + previous[2]:
            raise LabelValueError(
                product.source.url, "object pointers", f"bytes {previous[1]}-{previous[1] + previous[2]} and {start}-",
                f"arrays of {extents[(path, start, size)]} that do not overlap",
            )
        previous = (path, start, size)
    return product


def pointed_objects(label: Block) -> Iterator[PointedObject]:
    """Every ``^NAME`` pointer of the label (FILE objects included) with its object block.

    Building a product asks for them several times: the label is scanned once (a few labels are kept,
    by identity; a label is never modified once parsed)."""
    found = _POINTED.get(id(label))
    if found is None or found[0] is not label:
        found = (label, list(_scan_pointed_objects(label)))
        _POINTED[id(label)] = found
        while len(_POINTED) > _POINTED_KEPT:
            _POINTED.pop(next(iter(_POINTED)))
    return iter(found[1])


_POINTED: dict[int, tuple[Block, list[PointedObject]]] = {}
_POINTED_KEPT = 8


def _scan_pointed_objects(label: Block) -> Iterator[PointedObject]:
    top_record_bytes = label.get("RECORD_BYTES")
    for block in label.walk():
        pointers = [(k, v) for k, v in block.items if k[:1] == "^" and k != "^STRUCTURE" and not isinstance(v, Block)]
        if not pointers:
            continue
        record_bytes = block.get("RECORD_BYTES", top_record_bytes)
        children = {b.name: b for b in reversed(list(block.blocks()))}  # the first block of each name
        for key, value in pointers:
            target = children.get(key[1:])
            if target is not None:
                yield PointedObject(key, value, target, record_bytes, block.get("FILE_RECORDS"))


def data_source(finder: SidecarFinder, filename: str | None, keyword: str) -> tuple[Source, int]:
    """The data file a pointer names (next to the label, any case; None: the label's own file) and
    its size; local files are stamped, so that a later change is caught (:func:`read_stamped`)."""
    key = (id(finder), (filename or "").upper())
    found = _STAMPED.get(key)
    if found is not None and found[0] is finder:
        return found[1]  # one size request per data file, however many objects it holds (image, row table)
    source = finder.product if filename is None else finder.require(filename, finder.product.url, keyword, local=True)
    stamped = read_stamped(source)
    _STAMPED[key] = (finder, stamped)
    while len(_STAMPED) > _POINTED_KEPT:
        _STAMPED.pop(next(iter(_STAMPED)))
    return stamped


_STAMPED: dict[tuple[int, str], tuple[SidecarFinder, tuple[Source, int]]] = {}


def _build_images(product: Product, finder: SidecarFinder) -> None:
    images = [o for o in pointed_objects(product.label) if o.block.name.endswith("IMAGE")]
    if not images:
        raise LabelValueError(product.source.url, "^IMAGE", None, "an IMAGE object with a pointer")
    for i, obj in enumerate(images):
        image = _complete_from_vicar(product, finder, obj.block)
        layout = build_image_layout(image, obj.pointer, obj.record_bytes, product.source.url, obj.key)
        src, size = data_source(finder, layout.filename, obj.key)
        layout.check_fits(size, src.url)
        suffix = "" if len(images) == 1 else f"_{i + 1}"
        _add_image_variables(product, image, DiskArray(src, layout), suffix)
    cube = next(iter(product.variables.values())).data
    bands = cube.layout.size["band"] if isinstance(cube, DiskArray) else 1
    _add_band_coordinates(product, finder, bands)
    _add_line_tables(product, finder, cube.layout.size.get("line", 0) if isinstance(cube, DiskArray) else 0)


_IMAGE_KEYWORDS = ("LINES", "LINE_SAMPLES", "SAMPLE_TYPE", "SAMPLE_BITS")


def _complete_from_vicar(product: Product, finder: SidecarFinder, image: Block) -> Block:
    """The IMAGE object, with what it lacks taken from the attached VICAR header (read only then)."""
    missing = [k for k in (*_IMAGE_KEYWORDS, "BANDS", "BAND_STORAGE_TYPE") if k not in image]
    if not any(k in missing for k in _IMAGE_KEYWORDS):
        return image
    header = next((o for o in pointed_objects(product.label) if o.block.name == "IMAGE_HEADER"), None)
    if header is None or not str(header.block.get("HEADER_TYPE", "")).upper().startswith("VICAR"):
        return image
    filename, offset = resolve_pointer(header.pointer, header.record_bytes, product.source.url, header.key)
    src, _ = data_source(finder, filename, header.key)
    vicar = read_vicar_label(src, offset, header.block.get("BYTES"))
    found = build_vicar_image_keywords(vicar)
    log.info("%s: %s taken from the VICAR header", product.source.url, ", ".join(k for k in missing if k in found))
    return Block(image.name, image.kind, [*image.items, *((k, found[k]) for k in missing if k in found)])


def _add_image_variables(product: Product, image: Block, cube: DiskArray, suffix: str) -> None:
    kind = product.kind
    attrs = {"units": cf_units(image.get("UNIT")) or kind.units, "long_name": kind.long_name}
    encoding = {"_FillValue": kind.fill_value} if kind.fill_value is not None and cube.dtype.kind == "f" else {}
    constants = {k: v for k, v in image.keywords() if k.endswith("_CONSTANT")}
    encoding |= build_cf_encoding(cube.dtype, image.get("SCALING_FACTOR"), image.get("OFFSET"), constants, product.source.url)
    if kind.lines_as_variables:
        _add_line_variables(product, image, cube, encoding)
        return
    if kind.variable is not None:
        attrs = {k: v for k, v in attrs.items() if v} | (_image_attributes(image) if kind.image_attributes else {})
        chunks = build_preferred_chunks(cube.layout)
        product.variables[kind.variable + suffix] = Variable(cube, attrs, {**encoding, "preferred_chunks": chunks})
        if str(image.get("BAND_NAME", "NULL")).upper() not in ("NULL", "N/A", "UNK"):
            names = _band_names(image, cube.layout.size["band"], product.source.url)
            product.coords["band_name"] = Variable(
                DerivedArray(("band",), (len(names),), np.dtype(f"U{max(map(len, names))}"), partial(np.array, names)),
                {"long_name": "band name (BAND_NAME)"},
            )
        return
    names = _band_names(image, cube.layout.size["band"], product.source.url)
    for band, band_name in enumerate(names):
        named = band_variable(band_name, kind.band_names or "slug")
        if named is None:
            continue
        name, band_attrs = named
        key = name + suffix
        if key in product.variables:
            raise LabelValueError(
                product.source.url, "BAND_NAME", band_name, f"band names that give distinct variables ({key} twice)"
            )
        product.variables[key] = Variable(DiskArray(cube.source, cube.layout, band), band_attrs, dict(encoding))


def _add_line_variables(product: Product, image: Block, cube: DiskArray, encoding: dict[str, Any]) -> None:
    """One ``(band, sample)`` variable per line of a line-interleaved image, named by the label (VS ADRs)."""
    layout, url = cube.layout, product.source.url
    if layout.storage_dims != ("line", "band", "sample"):
        raise LabelValueError(
            url, "BAND_STORAGE_TYPE", image.get("BAND_STORAGE_TYPE"),
            f"LINE_INTERLEAVED (each line of a {product.kind.family} {product.kind.code} is its own variable)",
        )
    plane = layout.nbytes // max(layout.size["line"], 1)
    units = cf_units(image.get("UNIT")) or product.kind.units
    for line, role in enumerate(build_line_roles(product.label_text, layout.size["line"], url)):
        sub = ArrayLayout(layout.filename, layout.offset + line * plane, layout.dtype, ("band", "sample"),
                          (layout.size["band"], layout.size["sample"]), ("band", "sample"))
        attrs = {"long_name": role.long_name, **({"units": units} if units else {}), **role.attrs}
        chunks = build_preferred_chunks(sub)
        product.variables[role.variable] = Variable(DiskArray(cube.source, sub), attrs, {**encoding, "preferred_chunks": chunks})


def _image_attributes(image: Block) -> dict[str, Any]:
    """The IMAGE object's non-structural keywords (a browse product's stretch), lower-cased."""
    return {
        k.lower().replace(":", "_"): plain(v) for k, v in image.keywords()
        if k not in STRUCTURAL_IMAGE_KEYWORDS and not k.startswith("^") and not k.endswith("_CONSTANT")
    }


def _band_names(image: Block, bands: int, url: str) -> list[str]:
    names = image.get("BAND_NAME")
    names = names if isinstance(names, list) else [names]
    if len(names) != bands or not all(isinstance(n, str) for n in names):
        raise LabelValueError(url, "BAND_NAME", image.get("BAND_NAME"), f"{bands} band names, one per band")
    return [str(n) for n in names]


def build_preferred_chunks(layout: ArrayLayout, target_bytes: int = 32 * 2**20) -> dict[str, int]:
    """Chunks that follow the file: whole rows of the slowest storage axis, ~32 MiB each."""
    slow = layout.storage_dims[0]
    slab = layout.nbytes // max(layout.size[slow], 1)
    chunks = {d: n for d, n in layout.size.items()}
    chunks[slow] = max(1, min(layout.size[slow], target_bytes // max(slab, 1)))
    return chunks


def build_band_index(bands: int, long_name: str = "band index (0-based, order of the file)") -> Variable:
    """The ``band`` coordinate: 0, 1, ... ``bands - 1``."""
    return Variable(DerivedArray(("band",), (bands,), np.dtype(np.int64), partial(np.arange, bands)), {"long_name": long_name})


def _add_band_coordinates(product: Product, finder: SidecarFinder, bands: int) -> None:
    if not any("band" in v.dims for v in product.variables.values()):
        return  # every band became its own variable (a DDR's backplanes): no band dimension is left
    product.coords["band"] = build_band_index(bands)
    rownum = next((o for o in pointed_objects(product.label) if o.block.name == "ROWNUM_TABLE"), None)
    if rownum is None:
        return
    url = product.source.url
    filename, start = resolve_pointer(rownum.pointer, rownum.record_bytes, url, rownum.key)
    rows = rownum.block.get("ROWS")
    row_bytes = rownum.block.get("ROW_BYTES")
    if filename is None or rows != bands or not isinstance(row_bytes, int) or row_bytes < 1:
        raise LabelValueError(url, "ROWNUM_TABLE", (rownum.pointer, rows), f"a pointer to {bands} rows with ROW_BYTES")
    src, size = data_source(finder, filename, rownum.key)
    attrs = {"long_name": "detector row of the band (ROWNUM_TABLE)", "units": "1"}
    moved = _table_after_image(product, src, start, rows * row_bytes, size)
    if moved != start:
        attrs["table_offset"] = (
            f"{rownum.key} = {plain(rownum.pointer)!r} points inside the IMAGE; read at byte {moved}, right after "
            "the image, where the file holds it"
        )
        log.info("%s: %s", url, attrs["table_offset"])
    load = Memo(partial(_read_rownum, src, moved, (rows, row_bytes), build_columns(rownum.block, url, row_bytes), url))
    product.coords["detector_row"] = Variable(DerivedArray(("band",), (bands,), np.dtype(np.int64), load), attrs)


def _table_after_image(product: Product, src: Source, start: int, nbytes: int, file_size: int) -> int:
    """Where a table pointed inside the image really is: right after the image, if it fits there.

    The real 3-line VS ADR labels point their ROWNUM_TABLE at record ``BANDS + 1`` although their
    own comment says ``BANDS * LINES + 1``: inside the image. A table never overlaps the image, so
    it is read after the image when the file holds it there; otherwise the label is refused.
    """
    extents = [
        (v.data.layout.offset, v.data.layout.offset + v.data.layout.nbytes) for v in product.variables.values()
        if isinstance(v.data, DiskArray) and v.data.source.path == src.path
    ]
    if not extents or not min(e[0] for e in extents) <= start < max(e[1] for e in extents):
        return start
    end = max(e[1] for e in extents)
    if end + nbytes > file_size:
        raise LabelValueError(
            product.source.url, "^ROWNUM_TABLE", start, f"a table outside the IMAGE (bytes {min(e[0] for e in extents)}-{end})",
        )
    return end


def _read_rownum(src: Source, start: int, rows_bytes: tuple[int, int], columns: list[Column], url: str) -> np.ndarray:
    rows, row_bytes = rows_bytes
    (data,) = read_ranges(src, [(start, start + rows * row_bytes)])
    return parse_binary_table(data, row_bytes, rows, columns[:1], url)[columns[0].name].astype(np.int64)


def _add_line_tables(product: Product, finder: SidecarFinder, lines: int) -> None:
    """Housekeeping tables (one ASCII row per line) as ``hk_*`` variables on ``line``."""
    url = product.source.url
    for obj in pointed_objects(product.label):
        if not obj.block.name.endswith("TABLE") or obj.block.name == "ROWNUM_TABLE":
            continue
        if str(obj.block.get("INTERCHANGE_FORMAT", "")).upper() != "ASCII":
            continue
        if obj.block.get("ROWS") != lines:
            raise ShapeMismatchError(url, f"{obj.key[1:]} ROWS", obj.block.get("ROWS"), f"{lines}, one row per line")
        table = _find_table(product, finder, obj)
        if table is None:
            continue
        source, columns, rows_bytes = table
        load = Memo(partial(read_table, source, columns, rows_bytes, url))
        for col in columns:
            product.variables[f"hk_{column_variable_name(col.name)}"] = _column_variable(col, ("line",), lines, load)
        product.attrs.setdefault("sidecar_files", []).append(source.url)


def _find_table(
    product: Product, finder: SidecarFinder, obj: PointedObject,
) -> tuple[Source, list[Column], tuple[int, int]] | None:
    """The pointed table's file (stamped), columns, and (rows, row bytes) checked against its size; None when absent."""
    url = product.source.url
    pointer = parse_pointer(obj.pointer, url, obj.key)
    if pointer.filename is None:
        raise LabelValueError(url, obj.key, obj.pointer, "a table file name")
    source = finder.find(pointer.filename, url, obj.key)
    structure = obj.block.get("^STRUCTURE")
    columns_block: Block | None = obj.block if structure is None else None
    if structure is not None:
        fmt = finder.find(str(structure), url, "^STRUCTURE")
        if fmt is not None:
            columns_block = parse_label(read_text(fmt), fmt.url)
    missing = [n for n, ok in ((pointer.filename, source), (structure, columns_block)) if n and not ok]
    if missing or source is None or columns_block is None:
        log.info("%s: %s not found; %s is left out", url, ", ".join(map(str, missing)), obj.key)
        product.attrs.setdefault("missing_sidecars", []).extend(str(m) for m in missing)
        return None
    row_bytes = obj.block.get("ROW_BYTES")
    columns = build_columns(columns_block, url, row_bytes if isinstance(row_bytes, int) else None)
    stamped, size = read_stamped(source)
    return stamped, columns, _count_rows(size, obj, url)


def _count_rows(file_size: int, obj: PointedObject, label: str) -> tuple[int, int]:
    """Rows and row bytes of a pointed table, checked against its file's size (at open)."""
    row_bytes = obj.block.get("ROW_BYTES")
    if not isinstance(row_bytes, int) or row_bytes < 1:
        raise LabelValueError(label, "ROW_BYTES", row_bytes, "a positive integer")
    return build_row_count(obj.block, obj.file_records, file_size, row_bytes, label), row_bytes


def read_table(source: Source, columns: list[Column], rows_bytes: tuple[int, int], label: str) -> dict[str, np.ndarray]:
    """Read ``rows`` fixed-length ASCII records of ``row_bytes`` into one array per column."""
    rows, row_bytes = rows_bytes
    (data,) = read_ranges(source, [(0, rows * row_bytes)])
    return parse_ascii_table(data.tobytes(), row_bytes, rows, columns, label)


def _column_variable(col: Column, dims: tuple[str, ...], rows: int, load: Callable[[], dict[str, np.ndarray]]) -> Variable:
    numeric = col.data_type in ("ASCII_INTEGER", "ASCII_REAL")
    dtype = np.dtype(np.float64) if numeric else np.dtype(f"U{col.width}")
    attrs = {k: v for k, v in (("long_name", col.description or col.name), ("units", cf_units(col.unit))) if v}
    return Variable(DerivedArray(dims, (rows,), dtype, partial(select_column, load, col.name)), attrs)


def select_column(load: Callable[[], dict[str, np.ndarray]], name: str) -> np.ndarray:
    """Column ``name`` of the table ``load`` returns (a picklable lazy column for DerivedArray)."""
    return load()[name]


def _build_tables(product: Product, finder: SidecarFinder) -> None:
    """CDR6-style tables: the product's TABLE, one variable per column, on ``row``."""
    url = product.source.url
    obj = next((o for o in pointed_objects(product.label) if o.block.name.endswith("TABLE")), None)
    if obj is None:
        raise LabelValueError(url, "^TABLE", None, "a TABLE object with a pointer")
    table = _find_table(product, SidecarFinder(product.source), obj)  # the table beside its label
    if table is None:
        raise finder.not_found(str(parse_pointer(obj.pointer, url, obj.key).filename), url, obj.key)
    source, columns, rows_bytes = table
    rows = rows_bytes[0]
    load = Memo(partial(read_table, source, columns, rows_bytes, url))
    for col in columns:
        var = _column_variable(col, ("row",), rows, load)
        if var.data.dtype.kind == "f" and product.kind.fill_value is not None:
            var.encoding["_FillValue"] = product.kind.fill_value
        product.variables[column_variable_name(col.name)] = var
    product.attrs.setdefault("sidecar_files", []).append(source.url)


def _build_arrays(product: Product, finder: SidecarFinder) -> None:
    """ADR look-up tables: every pointed ARRAY object, named from its NAME."""
    url = product.source.url
    arrays = [o for o in pointed_objects(product.label) if o.block.kind == "OBJECT" and "AXES" in o.block]
    if not arrays:
        raise LabelValueError(url, "^ARRAY", None, "ARRAY objects with pointers")
    for obj in arrays:
        layout = build_array_layout(obj.block, obj.pointer, obj.record_bytes, url, obj.key)
        src, size = data_source(finder, layout.filename, obj.key)
        layout.check_fits(size, src.url)
        name = column_variable_name(str(obj.block.get("NAME", obj.key[1:])))
        unit = cf_units(next(obj.block.blocks("ELEMENT")).get("UNIT"))
        attrs = {k: v for k, v in (("long_name", obj.block.get("DESCRIPTION")), ("units", unit)) if v}
        product.variables[name] = Variable(DiskArray(src, layout), attrs, {"preferred_chunks": build_preferred_chunks(layout)})


_CONTENT_BUILDERS: dict[str, Callable[[Product, SidecarFinder], None]] = {
    "image": _build_images,
    "table": _build_tables,
    "array": _build_arrays,
}


def _build_attrs(
    label: Block, pid_fields: dict[str, Any], text: str, kind_attributes: tuple[tuple[str, str], ...] = (),
) -> dict[str, Any]:
    attrs: dict[str, Any] = {}
    for keyword, name in (*LABEL_ATTRIBUTES.items(), *kind_attributes):
        value = label.get(keyword)
        if value is not None:
            attrs[name] = plain(value)
    for key in ("family", "code", "class_type", "observation_id", "counter", "sensor", "version", "source_observation_id"):
        if pid_fields.get(key) is not None:
            attrs[f"product_{key}" if key in ("family", "code", "version") else key] = pid_fields[key]
    attrs["pds_label"] = build_label_attr(text)
    return attrs
