"""Companion products joined to a product: wavelengths (SW CDR6, WA CDR4, shipped) and the DDR.

``attach_wavelengths`` adds ``wavelength``/``pixel_wavelength`` from the best calibration source
found (recorded in ``wavelength.attrs["source"]``); ``find_ddr``/``attach_ddr`` join the DDR. The
order in which a product's companions are joined is :data:`~xarray_crism.model.pipeline.STEPS`.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np

from ..errors import CompanionMismatchError, LabelValueError, ShapeMismatchError, SidecarNotFoundError, SidecarWarning
from ..formats.products import parse_product_id
from ..formats.wavelengths import (
    SW_COLUMNS,
    build_sw_wavelengths,
    build_wavelengths_for_rows,
    choose_epoch,
    parse_sclk,
    read_shipped_table,
)
from ..io.sources import SidecarFinder, Source
from .product import DerivedArray, DiskArray, Memo, Product, Variable
from .read import read_product

__all__ = ["attach_ddr", "attach_wavelengths", "check_ddr_belongs", "find_ddr", "find_wa_label", "named_wa_epoch"]

_WAVELENGTH_ATTRS = {"units": "nm", "long_name": "wavelength", "standard_name": "radiation_wavelength"}
#: The SIS (Table 3-5, level-6 CDRs) defines SW as each row's centre wavelength "in central columns of
#: each detector at which spectral smile and keystone are minimum"; it gives those columns in the CT row
#: of the same table ("averaged over IR columns 270-369 or VNIR columns 260-359").
_SW_DEFINITION = (
    "mean over unbinned detector columns {0}-{1}, where spectral smile and keystone are least "
    "(SIS Table 3-5: the SW CDR6 row defines SW by these central columns, the CT CDR6 row gives their ranges, "
    "IR 270-369 and VNIR 260-359)"
)


def attach_wavelengths(product: Product, finder: SidecarFinder) -> None:
    """Add ``wavelength(band)`` and, when the WA CDR is found, ``pixel_wavelength(band, sample)``."""
    sensor = product.product_id.sensor or str(product.attrs.get("sensor_id", ""))
    if sensor not in ("S", "L"):
        return
    rows = product.coords["detector_row"].data.read
    bands = product.sizes["band"]
    wa = _find_wa(product, finder)
    wa_image: tuple[str, Callable[[], np.ndarray]] | None = None
    if wa is not None:
        wa_image = (wa.product_id.product_id, Memo(partial(_wa_by_row, wa, rows)))
        _attach_pixel_wavelength(product, wa, wa_image[1])
    compute, source, substitute = _wavelength_source(product, finder, sensor, wa_image, rows)
    if wa is None:
        _report_missing_wa(product, finder, source, substitute)
    attrs = {**_WAVELENGTH_ATTRS, "source": source, "definition": _SW_DEFINITION.format(*_sw_columns(sensor))}
    product.coords["wavelength"] = Variable(DerivedArray(("band",), (bands,), np.dtype(np.float64), Memo(compute)), attrs)


def _wavelength_source(
    product: Product,
    finder: SidecarFinder,
    sensor: str,
    wa_image: tuple[str, Callable[[], np.ndarray]] | None,
    rows: Callable[..., np.ndarray],
) -> tuple[Callable[[], np.ndarray], str, str]:
    """How ``wavelength`` is computed, its ``source`` text, and what stood in for a named epoch ("" if none)."""
    observed = parse_sclk(product.attrs.get("spacecraft_clock_start_count"))
    sw = _find_sw_table(finder, sensor, observed)
    if sw is not None:
        return partial(_from_sw_table, sw, rows), f"{sw.product_id.product_id} (CDR6 SW table)", ""
    if wa_image is not None:
        wa_id, image = wa_image
        return partial(_from_wa, image, _binning(product), sensor), f"{wa_id} (WA CDR4, SW definition)", ""
    shipped = _shipped_epoch(product, sensor, observed)
    if shipped is None:
        raise SidecarNotFoundError(product.source.url, "MRO:SENSOR_ID", sensor, "a wavelength table for the sensor")
    origin, table_rows, table_nm = read_shipped_table()[shipped]
    named = named_wa_epoch(product)
    substitute = "" if named is None or named == shipped[1:] else (
        f"the named epoch {named[0]}/{named[1]:010d} is not in the shipped table: epoch {shipped[1]}/{shipped[2]:010d} "
        + ("stands in, the latest not after SPACECRAFT_CLOCK_START_COUNT" if observed else "stands in, the latest")
    )
    return partial(_from_rows, rows, table_rows, table_nm), f"{origin} (table shipped with xarray-crism)", substitute


def _shipped_epoch(product: Product, sensor: str, observed: tuple[int, int] | None) -> tuple[str, int, int] | None:
    """The shipped table's key: the epoch of the WA CDR the label names when the table has it, else by time."""
    named = named_wa_epoch(product)
    if named is not None and (sensor, *named) in read_shipped_table():
        return (sensor, *named)
    return choose_epoch([((key[1], key[2]), key) for key in read_shipped_table() if key[0] == sensor], observed)


def _report_missing_wa(product: Product, finder: SidecarFinder, source: str, substitute: str) -> None:
    """List the WA CDR the label names but that was not found in ``missing_sidecars``, and warn what stood in."""
    name = _named_wa_file(product)
    if name is None:
        return
    product.attrs.setdefault("missing_sidecars", []).append(name)
    places = ", ".join(d for _, d in finder.directories())
    message = (
        f"{product.source.url}: MRO:WAVELENGTH_FILE_NAME = {name!r} was not found (looked in {places}); "
        f"wavelength from {source} instead, and no pixel_wavelength"
    )
    warnings.warn(message + (f"; {substitute}" if substitute else "") + ". Pass sidecar_dirs=[...] to use it",
                  SidecarWarning, stacklevel=2)


def _named_wa_file(product: Product) -> str | None:
    """The WA CDR file ``MRO:WAVELENGTH_FILE_NAME`` names (an IMG), or None when it names none."""
    name = product.attrs.get("wavelength_file_name")
    if not isinstance(name, str) or name.upper() in ("N/A", "NULL", "") or not name.upper().endswith(".IMG"):
        return None
    return name


def named_wa_epoch(product: Product) -> tuple[int, int] | None:
    """(SCLK partition, time) of the WA CDR that ``MRO:WAVELENGTH_FILE_NAME`` names, if it names one."""
    name = str(product.attrs.get("wavelength_file_name", ""))
    pid = parse_product_id(re.sub(r"\.IMG$", "", name.strip().upper()))
    if pid is None or pid.sclk_partition is None or pid.sclk_time is None:
        return None
    return pid.sclk_partition, pid.sclk_time


def _sw_columns(sensor: str) -> tuple[int, int]:
    start, stop = SW_COLUMNS[sensor]
    return start, stop - 1


def _binning(product: Product) -> int:
    width = product.attrs.get("pixel_averaging_width")
    if width not in (1, 2, 5, 10):
        raise LabelValueError(product.source.url, "PIXEL_AVERAGING_WIDTH", width, "1, 2, 5 or 10")
    return int(width)


def find_wa_label(product: Product, finder: SidecarFinder) -> Source | None:
    """The label of the WA CDR that ``MRO:WAVELENGTH_FILE_NAME`` names, when found."""
    name = _named_wa_file(product)
    if name is None:
        return None
    label_name = re.sub(r"\.IMG$", ".LBL", name, flags=re.IGNORECASE)
    return finder.find(label_name, product.source.url, "MRO:WAVELENGTH_FILE_NAME")


def _find_wa(product: Product, finder: SidecarFinder) -> Product | None:
    found = find_wa_label(product, finder)
    if found is None:
        return None
    wa, _ = read_product(found.url, storage_options=_options(found), listings=finder.listings)
    product.attrs.setdefault("sidecar_files", []).append(found.url)
    return wa


def _options(source: Source) -> dict[str, Any]:
    return dict(getattr(source.fs, "storage_options", {}) or {})


def _attach_pixel_wavelength(product: Product, wa: Product, wa_image: Callable[[], np.ndarray]) -> None:
    wa_var = wa.variables["center_wavelength"].data
    samples = product.sizes["sample"]
    if wa_var.shape[1] != 1:
        raise ShapeMismatchError(wa.source.url, "LINES", wa_var.shape[1], "1 line (a WA CDR is one detector frame)")
    if wa_var.shape[-1] != samples:
        raise ShapeMismatchError(
            wa.source.url, "LINE_SAMPLES", wa_var.shape[-1], f"{samples} samples, as in {product.product_id.product_id}"
        )
    attrs = {**_WAVELENGTH_ATTRS, "long_name": "pixel centre wavelength (spectral smile)", "source": wa.product_id.product_id}
    product.coords["pixel_wavelength"] = Variable(
        DerivedArray(("band", "sample"), (product.sizes["band"], samples), np.dtype(np.float32), wa_image),
        attrs, {"_FillValue": np.float32(65535.0)},
    )


def _wa_by_row(wa: Product, read_rows: Callable[..., np.ndarray]) -> np.ndarray:
    """WA image ``(band, sample)`` reordered to the product's detector rows (65535 where absent)."""
    rows = read_rows((slice(None),))
    image = wa.variables["center_wavelength"].data.read((slice(None), 0, slice(None)))
    wa_rows = wa.coords["detector_row"].data.read((slice(None),))
    position = {int(r): i for i, r in enumerate(wa_rows)}
    out = np.full((rows.size, image.shape[1]), 65535.0, dtype=np.float32)
    for band, row in enumerate(rows):
        if int(row) in position:
            out[band] = image[position[int(row)]]
    return out


def _from_wa(wa_image: Callable[[], np.ndarray], binning: int, sensor: str) -> np.ndarray:
    return build_sw_wavelengths(wa_image(), binning, sensor)


def _from_sw_table(sw: Product, rows: Callable[..., np.ndarray]) -> np.ndarray:
    names = list(sw.variables)
    row_name = next(n for n in names if "row" in n)
    nm_name = next(n for n in names if n != row_name)
    table_rows = sw.variables[row_name].data.read((slice(None),)).astype(np.int64)
    table_nm = sw.variables[nm_name].data.read((slice(None),))
    return build_wavelengths_for_rows(rows((slice(None),)), table_rows, table_nm)


def _from_rows(rows: Callable[..., np.ndarray], table_rows: np.ndarray, table_nm: np.ndarray) -> np.ndarray:
    return build_wavelengths_for_rows(rows((slice(None),)), table_rows, table_nm)


_SW_NAME = r"CDR6_(\d)_(\d{{10}})_SW_{sensor}_([0-9A-Z])\.LBL"


def _find_sw_table(finder: SidecarFinder, sensor: str, observed: tuple[int, int] | None) -> Product | None:
    pattern = re.compile(_SW_NAME.format(sensor=sensor))
    candidates = []
    for source in finder.matching(pattern):
        m = pattern.fullmatch(source.name.upper())
        if m:
            candidates.append(((int(m[1]), int(m[2])), (int(m[3], 36), source)))
    by_epoch: dict[tuple[int, int], tuple[int, Source]] = {}
    for epoch, versioned in candidates:
        if epoch not in by_epoch or versioned[0] > by_epoch[epoch][0]:
            by_epoch[epoch] = versioned
    chosen = choose_epoch([(epoch, v[1]) for epoch, v in by_epoch.items()], observed)
    if chosen is None:
        return None
    product, _ = read_product(chosen.url, storage_options=_options(chosen), listings=finder.listings)
    return product


def find_ddr(product: Product, finder: SidecarFinder) -> Product:
    """The DDR of the same observation, counter and sensor, highest version (``ddr="auto"``)."""
    pid = product.product_id
    if pid.observation_id is None:
        raise LabelValueError(product.source.url, "PRODUCT_ID", pid.product_id, "a sensor-space product (ddr='auto')")
    stem = f"{pid.class_type}{pid.observation_id}_{pid.counter}"
    pattern = re.compile(rf"{stem}_DE[0-9A-F]{{3}}{pid.sensor}_DDR([0-9A-Z])\.LBL")
    found = sorted(finder.matching(pattern), key=lambda s: int(pattern.fullmatch(s.name.upper())[1], 36))  # type: ignore[index]
    if not found:
        raise finder.not_found(f"{stem}_DE###{pid.sensor}_DDR#.LBL", product.source.url, "ddr='auto'")
    ddr, _ = read_product(found[-1].url, storage_options=_options(found[-1]), listings=finder.listings)
    return ddr


def check_ddr_belongs(product: Product, ddr: Product) -> None:
    """Refuse a DDR that ``ddr="auto"`` would not pick: another observation, counter, sensor or product type."""
    pid, other = product.product_id, ddr.product_id
    if pid.observation_id is None:
        raise LabelValueError(product.source.url, "PRODUCT_ID", pid.product_id, "a sensor-space product (ddr=PATH)")
    fields = ("family", "code", "class_type", "observation_id", "counter", "sensor")
    expected = dict(zip(fields, ("DDR", "DE", pid.class_type, pid.observation_id, pid.counter, pid.sensor), strict=True))
    differ = {f: getattr(other, f) for f in fields if getattr(other, f) != expected[f]}
    if differ:
        mine = ", ".join(f"{f} {expected[f]}" for f in differ)
        raise CompanionMismatchError(
            ddr.source.url, "PRODUCT_ID", other.product_id,
            f"the DDR of {pid.product_id} ({mine}, as ddr='auto' selects; this DDR has "
            + ", ".join(f"{f} {v}" for f, v in differ.items()) + ")",
            "Pass the DDR of the same observation, counter and sensor, or ddr_check=False to join it anyway",
        )


def attach_ddr(product: Product, ddr: Product) -> None:
    """Add the DDR's backplanes as variables on ``(line, sample)``; shapes must match."""
    expected = {d: product.sizes[d] for d in ("line", "sample")}
    got = {d: ddr.sizes.get(d) for d in ("line", "sample")}
    if got != expected:
        raise ShapeMismatchError(
            ddr.source.url, "LINES x LINE_SAMPLES", got, f"{expected}, the shape of {product.product_id.product_id}"
        )
    for name, var in ddr.variables.items():
        if isinstance(var.data, DiskArray) and var.data.band is not None:
            product.variables[name] = var
    product.attrs["ddr_product_id"] = ddr.product_id.product_id
    product.attrs.setdefault("sidecar_files", []).append(ddr.source.url)
