"""``mask_and_scale`` by the reader: decoded variables whose arrays mask and scale as they read.

Each variable that carries CF keys in its attributes (``_FillValue``, ``missing_value``,
``scale_factor``, ``add_offset``) and whose data is still a whole lazy array of the model becomes
the variable xarray's CF decoder would make (same dtype, attributes and encoding, values bit for
bit), but its data is a :class:`~xarray_crism.model.decoding.DecodedArray`: the reader decodes
each block while it is in the CPU cache, in place when it can (see :mod:`xarray_crism.model.decoding`).
xarray's decoder then finds nothing left to decode in it. Other variables are left to xarray.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr
from xarray.core import indexing

from ..model.decoding import DecodedArray, build_decoding
from .arrays import CrismBackendArray

__all__ = ["decode_variable", "decoded_dtype"]

_CF_KEYS = ("_FillValue", "missing_value", "scale_factor", "add_offset")


def decoded_dtype(stored: np.dtype, attrs: dict[str, Any]) -> np.dtype:
    """The dtype xarray's CF decoder gives (``_choose_float_dtype`` for packed data, ``maybe_promote`` otherwise)."""
    scale, offset = attrs.get("scale_factor"), attrs.get("add_offset")
    if scale is not None or offset is not None:
        types = {np.dtype(type(v)) for v in (scale, offset) if v is not None}
        if len(types) == 1 and scale is not None and offset is not None and types <= {np.dtype(np.float32), np.dtype(np.float64)}:
            wide = stored.itemsize == 4 and stored.kind in "iu"
            return np.dtype(np.float64) if wide else types.pop()
        return np.dtype(np.float64) if offset is not None else np.dtype(type(scale))
    if stored.kind == "f":
        return np.dtype(stored)
    return np.dtype(np.float32) if stored.itemsize <= 2 else np.dtype(np.float64)


def decode_variable(var: xr.Variable) -> xr.Variable | None:
    """``var`` decoded by its reader, or None when it has no CF keys or is not a whole model array."""
    model = _whole_model_array(var)
    if model is None or not any(k in var.attrs for k in _CF_KEYS) or var.dtype.kind not in "iuf":
        return None
    attrs = {k: v for k, v in var.attrs.items() if k not in _CF_KEYS}
    cf = {k: var.attrs[k] for k in _CF_KEYS if k in var.attrs}
    dtype = decoded_dtype(var.dtype, var.attrs)
    array = DecodedArray(model, build_decoding(var.dtype, cf, dtype))
    encoding = {**var.encoding, **cf, "dtype": var.dtype}
    return xr.Variable(var.dims, indexing.LazilyIndexedArray(CrismBackendArray(array)), attrs, encoding)


def _whole_model_array(var: xr.Variable) -> Any:
    """The model array behind ``var`` when ``var`` is all of it (not yet indexed), else None."""
    data = var._data
    if not isinstance(data, indexing.LazilyIndexedArray) or not isinstance(data.array, CrismBackendArray):
        return None
    whole = all(isinstance(k, slice) and k == slice(None) for k in data.key.tuple)
    return data.array.array if whole else None
