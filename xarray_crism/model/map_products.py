"""TER/MTRDR/MRDR/VRDR joins: band coordinates from the WV table, and map coordinates.

``attach_wv_coordinates`` adds ``wavelength``, ``sensor``, ``detector_row`` (and for TER/MTRDR
``fwhm`` and ``bad_band``) on ``band`` from the product's own WV table, read on first use and
checked against the ENVI ``.HDR`` beside the image when there is one.
``attach_map_coordinates`` renames ``line``/``sample`` to ``y``/``x``, adds ``x``/``y`` in metres
at pixel centres, the CF grid mapping ``spatial_ref`` and, on request, 2-D ``lat``/``lon``
computed window by window. The conventions are those of :mod:`~xarray_crism.formats.projection`.
"""

from __future__ import annotations

import logging
import posixpath
import re
from dataclasses import dataclass
from functools import partial

import numpy as np

from ..errors import LabelValueError, ShapeMismatchError
from ..formats.projection import (
    MapProjection,
    build_grid_mapping_attrs,
    build_lonlat,
    build_xy,
    choose_convention,
    parse_map_projection,
)
from ..formats.wv_tables import check_envi_header, parse_envi_header, parse_wv_table
from ..io.sources import SidecarFinder, Source, read_text
from .build_pds3 import select_column
from .product import DerivedArray, Memo, Product, RenamedArray, Variable, outer_index
from .reader import Key

__all__ = ["MAP_DIMS", "WV_ATTRS", "attach_map_coordinates", "attach_wv_coordinates", "find_wv_table", "read_wv_table"]

log = logging.getLogger(__name__)

#: Image dims of a map-projected product.
MAP_DIMS = {"line": "y", "sample": "x"}
WV_ATTRS = {
    "wavelength": {"units": "nm", "long_name": "wavelength", "standard_name": "radiation_wavelength"},
    "fwhm": {"units": "nm", "long_name": "full width at half maximum of the band"},
    "bad_band": {"long_name": "band with suspect radiometry (WV table flag 0)"},
    "sensor": {"long_name": "CRISM detector of the band (S: VNIR, L: IR)"},
    "detector_row": {"long_name": "detector row of the band", "units": "1"},
}
_DTYPES = {"sensor": np.dtype("U1"), "detector_row": np.dtype(np.int64), "bad_band": np.dtype(bool)}


def find_wv_table(product: Product, finder: SidecarFinder) -> Source | None:
    """The WV table: ``MRO:WAVELENGTH_FILE_NAME`` when the label names one, else by the SIS names."""
    named = product.attrs.get("wavelength_file_name")
    pid = product.product_id.product_id
    if isinstance(named, str) and named.upper().endswith(".TAB"):  # TRDR labels name a WA .IMG here
        name = named
    elif product.product_id.tile is not None:
        name = re.sub(r"^(T\d{4}_[MV]RR)[A-Z]{2}_", r"\1WV_", pid) + ".TAB"
    else:
        name = re.sub(r"_[A-Z]{2}([0-9A-F]{3}J_)", r"_WV\1", pid) + ".TAB"
    return finder.find(name, product.source.url, "MRO:WAVELENGTH_FILE_NAME")


def attach_wv_coordinates(product: Product, finder: SidecarFinder) -> None:
    """Band coordinates from the WV table (lazy); without the table, none, and the name is recorded."""
    table = find_wv_table(product, finder)
    if table is None:
        log.warning("%s: no WV table found; the product opens without wavelengths", product.source.url)
        product.attrs.setdefault("missing_sidecars", []).append("WV table")
        return
    hdr = finder.find(posixpath.splitext(_cube_name(product))[0] + ".HDR", product.source.url, "ENVI header", local=True)
    bands = product.sizes["band"]
    load = Memo(partial(_read_wv, table, hdr, product.kind.band_coordinates, bands))
    names: tuple[str, ...] = ("sensor", "detector_row", "wavelength")
    names += ("fwhm", "bad_band") if product.kind.band_coordinates == "wv_targeted" else ()
    for name in names:
        data = DerivedArray(("band",), (bands,), _DTYPES.get(name, np.dtype(np.float64)), partial(select_column, load, name))
        product.coords[name] = Variable(data, {**WV_ATTRS[name], "source": table.name})
    product.attrs.setdefault("sidecar_files", []).append(table.url)


def _cube_name(product: Product) -> str:
    """File name of the product's first image (its data file)."""
    data = next(iter(product.variables.values())).data
    source = getattr(data, "source", product.source)
    return str(source.name)


def read_wv_table(table: Source, layout: str) -> dict[str, np.ndarray]:
    """The columns of a WV table file (``layout``: a key of :data:`~xarray_crism.formats.wv_tables.WV_LAYOUTS`)."""
    return parse_wv_table(read_text(table), layout, table.url)


def _read_wv(table: Source, hdr: Source | None, layout: str, bands: int) -> dict[str, np.ndarray]:
    columns = read_wv_table(table, layout)
    rows = columns["wavelength"].size
    if rows != bands:
        raise ShapeMismatchError(table.url, "rows", rows, f"{bands}, one per band of the image")
    if hdr is not None:
        check_envi_header(parse_envi_header(read_text(hdr), hdr.url), columns, hdr.url, table.url)
    return columns


def attach_map_coordinates(product: Product, *, lat_lon: bool = False) -> None:
    """``y``/``x`` dims and coordinates, ``spatial_ref`` and (``lat_lon``) lazy 2-D ``lat``/``lon``."""
    url = product.source.url
    proj = parse_map_projection(product.label, url)
    if proj is None:
        raise LabelValueError(
            url, "IMAGE_MAP_PROJECTION", None, f"a map projection object ({product.kind.family} products are map-projected)",
            'Open it with georeference=False to get line/sample dimensions without map coordinates',
        )
    lines, samples = product.sizes["line"], product.sizes["sample"]
    proj = choose_convention(proj, lines, samples, url)
    for table in (product.variables, product.coords):
        for name, var in list(table.items()):
            table[name] = _renamed(var)
    x, y = build_xy(proj, lines, samples)
    product.coords["x"] = _axis("x", x, "projection_x_coordinate")
    product.coords["y"] = _axis("y", y, "projection_y_coordinate")
    spatial_ref = DerivedArray((), (), np.dtype(np.int64), partial(np.asarray, 0))
    product.coords["spatial_ref"] = Variable(spatial_ref, build_grid_mapping_attrs(proj))
    for var in product.variables.values():
        var.attrs["grid_mapping"] = "spatial_ref"
    if lat_lon:
        for which, attrs in _LONLAT_ATTRS.items():
            product.coords[which] = Variable(LonLatArray(proj, y, x, which), dict(attrs))


def _renamed(var: Variable) -> Variable:
    if not set(MAP_DIMS) & set(var.dims):
        return var
    dims = tuple(MAP_DIMS.get(d, d) for d in var.dims)
    encoding = dict(var.encoding)
    if "preferred_chunks" in encoding:
        encoding["preferred_chunks"] = {MAP_DIMS.get(d, d): n for d, n in encoding["preferred_chunks"].items()}
    return Variable(RenamedArray(var.data, dims), dict(var.attrs), encoding)


def _axis(name: str, values: np.ndarray, standard_name: str) -> Variable:
    attrs = {
        "standard_name": standard_name, "units": "m", "axis": name.upper(),
        "long_name": f"{name} coordinate of projection (pixel centre)",
    }
    return Variable(DerivedArray((name,), values.shape, np.dtype(np.float64), partial(np.asarray, values)), attrs)


_LONLAT_ATTRS = {
    "lat": {"standard_name": "latitude", "units": "degrees_north", "long_name": "planetocentric latitude (pixel centre)"},
    "lon": {"standard_name": "longitude", "units": "degrees_east", "long_name": "east longitude, 0-360 (pixel centre)"},
}


@dataclass(frozen=True, eq=False)
class LonLatArray:
    """Latitude or longitude of pixel centres, computed only for the window that is read."""

    projection: MapProjection
    y: np.ndarray
    x: np.ndarray
    which: str

    @property
    def dims(self) -> tuple[str, ...]:
        """``("y", "x")``."""
        return ("y", "x")

    @property
    def shape(self) -> tuple[int, ...]:
        """Lines and samples of the image."""
        return (self.y.size, self.x.size)

    @property
    def dtype(self) -> np.dtype:
        """float64."""
        return np.dtype(np.float64)

    def read(self, key: Key) -> np.ndarray:
        """Read ``self[key]`` (outer indexing)."""
        ys = np.atleast_1d(outer_index(self.y, key[:1]))
        xs = np.atleast_1d(outer_index(self.x, key[1:]))
        lat, lon = build_lonlat(self.projection, ys, xs)
        out = lat if self.which == "lat" else lon
        drop = tuple(0 if isinstance(k, (int, np.integer)) else slice(None) for k in key)
        return out[drop]
