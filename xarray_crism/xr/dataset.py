"""Product model -> ``xarray.Dataset`` (thin: names, dims, attrs and encodings come from the model)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import Any

import xarray as xr
from xarray import conventions
from xarray.core import indexing

from ..formats.conventions import build_masked_constants
from ..model.pipeline import open_product
from ..model.product import Product, Variable
from .arrays import CrismBackendArray
from .decode import decode_variable

__all__ = ["build_dataset", "build_decoded_dataset", "open_crism_dataset"]


def open_crism_dataset(
    location: str | os.PathLike[str],
    *,
    ddr: str | os.PathLike[str] | None = None,
    sidecar_dirs: Sequence[str | os.PathLike[str]] = (),
    storage_options: dict[str, Any] | None = None,
    drop_variables: Iterable[str] | None = None,
    bayer: str = "raw",
    georeference: bool = True,
    lat_lon: bool = False,
    ddr_check: bool = True,
    mask_and_scale: bool | None = None,
) -> xr.Dataset:
    """Open a product lazily as a Dataset: undecoded (``mask_and_scale=None``: xarray's CF decoding comes
    after), or decoded with ``mask_and_scale`` True or False (:func:`build_decoded_dataset`)."""
    product = open_product(
        location, ddr=ddr, sidecar_dirs=sidecar_dirs, storage_options=storage_options, bayer=bayer,
        georeference=georeference, lat_lon=lat_lon, ddr_check=ddr_check,
    )
    if mask_and_scale is None:
        return build_dataset(product, drop_variables)
    return build_decoded_dataset(product, drop_variables, mask_and_scale)


def build_dataset(product: Product, drop_variables: Iterable[str] | None = None) -> xr.Dataset:
    """Wrap every variable of ``product`` in a lazily indexed xarray Variable."""
    dropped = set(drop_variables or ())
    data_vars = {k: _variable(v) for k, v in product.variables.items() if k not in dropped}
    coords = {k: _variable(v) for k, v in product.coords.items() if k not in dropped}
    return xr.Dataset(data_vars, coords, attrs=dict(product.attrs))


def build_decoded_dataset(product: Product, drop_variables: Iterable[str] | None, mask_and_scale: bool) -> xr.Dataset:
    """:func:`build_dataset` decoded as xarray's ``decode_cf`` decodes it, built once.

    Masked and scaled by the reader where it can (:func:`~xarray_crism.xr.decode.decode_variable`),
    xarray's CF decoding for the rest: the same variables, attributes and encodings as building then
    decoding (tested), with one Dataset made instead of four. Several masked constants are then listed
    in ``attrs["masked_constants"]``: CF encoders refuse a ``_FillValue`` that differs from
    ``missing_value``, so the list leaves the encoding once decoded (the decoded data hold NaN for every
    constant, and writing them, netCDF or Zarr, uses ``_FillValue`` alone)."""
    dropped = set(drop_variables or ())
    variables = {k: _variable(v) for k, v in product.variables.items() if k not in dropped}
    coords = {k: _variable(v) for k, v in product.coords.items() if k not in dropped}
    if mask_and_scale:
        variables = {k: _decoded(v) for k, v in variables.items()}
        coords = {k: v if v.dims == (k,) else _decoded(v) for k, v in coords.items()}  # not the indexes
    decoded, attrs, _ = conventions.decode_cf_variables(
        {**variables, **coords}, dict(product.attrs), mask_and_scale=mask_and_scale, decode_times=False,
        decode_coords=False,
    )
    if mask_and_scale:
        _list_masked_constants(decoded.values())
    return xr.Dataset({k: decoded[k] for k in variables}, {k: decoded[k] for k in coords}, attrs=attrs)


def _decoded(var: xr.Variable) -> xr.Variable:
    decoded = decode_variable(var)
    return var if decoded is None else decoded


def _list_masked_constants(variables: Iterable[xr.Variable]) -> None:
    for var in variables:
        if "missing_value" in var.encoding:
            var.attrs["masked_constants"] = build_masked_constants(var.encoding.pop("missing_value"))


_CF_DECODED = ("_FillValue", "scale_factor", "add_offset")


def _variable(var: Variable) -> xr.Variable:
    """CF keys go to attrs (xarray's decoding moves them to encoding); the rest to encoding."""
    data = indexing.LazilyIndexedArray(CrismBackendArray(var.data))
    attrs = {**var.attrs, **{k: v for k, v in var.encoding.items() if k in _CF_DECODED}}
    encoding = {k: v for k, v in var.encoding.items() if k not in _CF_DECODED}
    return xr.Variable(var.dims, data, attrs=attrs, encoding=encoding)
