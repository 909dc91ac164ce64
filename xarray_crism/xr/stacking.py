"""Many Mastcam-Z products as one multispectral cube per eye and pointing.

``stack_filters(paths)`` opens every product lazily (raw Bayer mosaics split into R, G, B by
default), checks that they share one eye, one pointing (the rover motion counter, whose RSM
index moves with the mast), one variable and one image size, concatenates them along ``band``
and sorts the bands by wavelength. Each band keeps the ``product_id`` and the
``product_band`` it came from; attributes that differ between products (times, exposure,
``pds_label``) are dropped, those they share are kept. ``group_by_pointing(paths)`` splits a
mixed list first.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import xarray as xr

from ..errors import LabelValueError, ShapeMismatchError
from ..model.mastcamz import pointing_key
from ..model.pipeline import open_product

__all__ = ["group_by_pointing", "stack_filters"]

Path = str | os.PathLike[str]


def group_by_pointing(paths: Iterable[Path], *, storage_options: dict[str, Any] | None = None) -> dict[str, list[str]]:
    """Product paths grouped by eye and pointing (labels only are read), keyed ``"left 33-2864-12-..."``."""
    groups: dict[str, list[str]] = {}
    for path in paths:
        product = open_product(path, storage_options=storage_options)
        eye, counter = pointing_key(product.attrs)
        groups.setdefault(f"{eye} {'-'.join(map(str, counter))}", []).append(os.fspath(path))
    return groups


def stack_filters(
    paths: Sequence[Path], *, bayer: str = "split", storage_options: dict[str, Any] | None = None
) -> xr.Dataset:
    """One lazy multispectral cube ``(band, line, sample)`` sorted by wavelength, from Mastcam-Z products."""
    if not paths:
        raise ValueError("stack_filters needs at least one product path")
    datasets = [
        xr.open_dataset(p, engine="crism", bayer=bayer, storage_options=storage_options, chunks={}) for p in paths
    ]
    name = _check_stackable(paths, datasets)
    parts = [_with_band_origin(ds[[name]], ds.attrs["product_id"]) for ds in datasets]
    cube = xr.concat(parts, dim="band", coords="different", compat="equals", combine_attrs="drop_conflicts")
    cube = cube.isel(band=np.argsort(cube["wavelength"].values, kind="stable"))
    return cube.assign_coords(band=np.arange(cube.sizes["band"]))


def _check_stackable(paths: Sequence[Path], datasets: list[xr.Dataset]) -> str:
    """The variable the products share; raise unless they share it, one eye and pointing, and a size."""
    first = datasets[0]
    name = _variable(paths[0], first)
    key = pointing_key(first.attrs)
    shape = (first.sizes["line"], first.sizes["sample"])
    for path, ds in zip(paths, datasets, strict=True):
        where = os.fspath(path)
        if _variable(path, ds) != name:
            raise LabelValueError(where, "PRODUCT_ID", ds.attrs.get("product_id"), f"a product with '{name}', as {paths[0]}")
        if pointing_key(ds.attrs) != key:
            raise LabelValueError(
                where, "eye, ROVER_MOTION_COUNTER", pointing_key(ds.attrs),
                f"{key}, the eye and pointing of {paths[0]}", "split the list with group_by_pointing(paths) first",
            )
        if (ds.sizes["line"], ds.sizes["sample"]) != shape:
            raise ShapeMismatchError(
                where, "LINES x LINE_SAMPLES", (ds.sizes["line"], ds.sizes["sample"]),
                f"{shape}, the size of {paths[0]} (products of one cube must share a size)",
            )
    return name


def _variable(path: Path, ds: xr.Dataset) -> str:
    if "wavelength" not in ds.coords:
        raise LabelValueError(
            os.fspath(path), "BAYER_METHOD", ds.attrs.get("bayer_method"), "a product with wavelengths",
            "raw Bayer mosaics have none: stack with bayer='split'",
        )
    names = [n for n in ("radiance", "i_over_f") if n in ds.data_vars]
    if len(names) != 1:
        raise LabelValueError(os.fspath(path), "PRODUCT_ID", ds.attrs.get("product_id"), "a Mastcam-Z RAD or IOF product")
    return names[0]


def _with_band_origin(ds: xr.Dataset, product_id: str) -> xr.Dataset:
    bands = ds.sizes["band"]
    return ds.assign_coords(
        product_id=("band", np.array([product_id] * bands)),
        product_band=("band", ds["band"].values),
    )
