"""Opening a product, as one visible sequence: read the label, then the steps of its kind.

:data:`STEPS` is keyed by ``ProductKind.band_coordinates``
(where a kind's band coordinates come from); each row lists, in order, the steps that join the
product's companions. A new product family is a new row (or a new ``band_coordinates`` value in
:data:`~xarray_crism.formats.products.KINDS` and a row here), never a new branch.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import LabelValueError, SidecarNotFoundError
from ..io.sources import SidecarFinder, open_source, read_exists
from .map_products import attach_map_coordinates, attach_wv_coordinates
from .mastcamz import attach_filter_coordinates
from .product import Product
from .read import read_product
from .sidecars import attach_ddr, attach_wavelengths, check_ddr_belongs, find_ddr

__all__ = ["STEPS", "OpenOptions", "open_product"]


@dataclass(frozen=True)
class OpenOptions:
    """The caller's choices that steps read (see :func:`open_product`)."""

    ddr: str | os.PathLike[str] | None = None
    storage_options: dict[str, Any] | None = None
    bayer: str = "raw"
    georeference: bool = True
    lat_lon: bool = False
    ddr_check: bool = True


Step = Callable[[Product, SidecarFinder, OpenOptions], None]


def open_product(
    location: str | os.PathLike[str],
    *,
    ddr: str | os.PathLike[str] | None = None,
    sidecar_dirs: Sequence[str | os.PathLike[str]] = (),
    storage_options: dict[str, Any] | None = None,
    bayer: str = "raw",
    georeference: bool = True,
    lat_lon: bool = False,
    ddr_check: bool = True,
) -> Product:
    """Read a product's label and run the steps of its kind (:data:`STEPS`).

    Mastcam-Z products get their filter coordinates; ``bayer="split"`` turns a raw Bayer mosaic
    into R, G, B planes (on any other product it is an error). TER/MTRDR/MRDR/VRDR
    products get their WV table's band coordinates; map-projected ones ``y``/``x`` and
    ``spatial_ref`` (``georeference=False``: plain ``line``/``sample``), and lazy 2-D
    ``lat``/``lon`` with ``lat_lon=True``. CRISM sensor-space products get their wavelengths,
    and their DDR with ``ddr="auto"`` or a path; a path must name the DDR ``"auto"`` would pick
    (same observation, counter and sensor) unless ``ddr_check=False``.
    """
    product, finder = read_product(location, sidecar_dirs=sidecar_dirs, storage_options=storage_options)
    options = OpenOptions(ddr, storage_options, bayer, georeference, lat_lon, ddr_check)
    for step in STEPS[product.kind.band_coordinates]:
        step(product, finder, options)
    return product


def add_map_coordinates(product: Product, finder: SidecarFinder, options: OpenOptions) -> None:
    """``y``/``x``/``spatial_ref`` of a map-projected product; ``lat_lon=True`` anywhere else is an error."""
    if product.kind.map_projected and options.georeference:
        attach_map_coordinates(product, lat_lon=options.lat_lon)
    elif options.lat_lon:
        kind = product.kind
        raise LabelValueError(
            product.source.url, "lat_lon", True,
            f"a map-projected product opened with georeference=True ({kind.family} {kind.code} "
            f"{'is not map-projected' if not kind.map_projected else 'was opened with georeference=False'})",
            "Sensor-space products carry latitude/longitude in their DDR: pass ddr='auto'",
        )


def add_wv_coordinates(product: Product, finder: SidecarFinder, options: OpenOptions) -> None:
    """Band coordinates from the product's own WV table (TER, MTRDR, MRDR, VRDR)."""
    attach_wv_coordinates(product, finder)


def add_filter_coordinates(product: Product, finder: SidecarFinder, options: OpenOptions) -> None:
    """Mastcam-Z filter coordinates (and the Bayer planes with ``bayer="split"``)."""
    attach_filter_coordinates(product, options.bayer)


def add_wavelengths(product: Product, finder: SidecarFinder, options: OpenOptions) -> None:
    """CRISM ``wavelength``/``pixel_wavelength`` from the calibration records, where the kind has them."""
    if product.kind.has_wavelengths and "detector_row" in product.coords:
        attach_wavelengths(product, finder)


def add_ddr(product: Product, finder: SidecarFinder, options: OpenOptions) -> None:
    """The DDR's backplanes (``ddr="auto"``: found beside the product; or the path given)."""
    if options.ddr is None:
        return
    if options.ddr == "auto":
        ddr_product = find_ddr(product, finder)
    else:
        ddr_product = read_product(check_ddr_path(product, options), storage_options=options.storage_options)[0]
        if options.ddr_check:
            check_ddr_belongs(product, ddr_product)
    attach_ddr(product, ddr_product)


def check_ddr_path(product: Product, options: OpenOptions) -> str:
    """``ddr`` is ``"auto"`` or the path/URL of a label that exists: a typo (``"atuo"``) says so."""
    ddr = os.fspath(options.ddr or "")
    source = open_source(ddr, options.storage_options)
    if not read_exists(source):
        raise SidecarNotFoundError(
            product.source.url, "ddr", ddr,
            f"'auto' (the DDR found beside the product) or the path or URL of an existing DDR label "
            f"({source.url} does not exist; relative paths start from the working directory, {os.getcwd()})",
            "Pass ddr='auto', or the DDR label's full path",
        )
    return ddr


def check_bayer(product: Product, finder: SidecarFinder, options: OpenOptions) -> None:
    """``bayer`` splits Mastcam-Z raw Bayer mosaics only: anything but ``"raw"`` on other products is an error."""
    if options.bayer != "raw":
        kind = product.kind
        raise LabelValueError(
            product.source.url, "bayer", options.bayer,
            f"'raw' for a {kind.family} {kind.code} product (bayer='split' splits Mastcam-Z raw Bayer mosaics only)",
            "Pass bayer='raw' (the default)",
        )


#: band_coordinates of the kind -> the steps run after the label is read, in order.
STEPS: dict[str, tuple[Step, ...]] = {
    "crism": (check_bayer, add_map_coordinates, add_wavelengths, add_ddr),
    "filters": (add_map_coordinates, add_filter_coordinates, add_ddr),
    "wv_targeted": (check_bayer, add_wv_coordinates, add_map_coordinates, add_ddr),
    "wv_tile": (check_bayer, add_wv_coordinates, add_map_coordinates, add_ddr),
    "none": (check_bayer, add_map_coordinates, add_ddr),
}
