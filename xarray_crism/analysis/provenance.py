"""Provenance attributes of analysis results: what was computed, from which product, with which options."""

from __future__ import annotations

import json
from typing import Any, TypeVar

import xarray as xr

from ..version import __version__

__all__ = ["with_provenance"]

T = TypeVar("T", xr.Dataset, xr.DataArray)


def with_provenance(obj: T, operation: str, **options: Any) -> T:
    """``obj`` with ``history`` (one line appended per step) and ``analysis_*`` attributes set.

    The line names the package version, the operation and its options as JSON, so that a result
    written to netCDF or Zarr says how it was made.
    """
    step = f"xarray-crism {__version__}: {operation}({json.dumps(options, default=str, sort_keys=True)})"
    history = obj.attrs.get("history")
    out = obj.copy(deep=False)
    out.attrs = {**obj.attrs, "history": f"{history}\n{step}" if history else step}
    out.attrs["analysis_software"] = f"xarray-crism {__version__}"
    out.attrs["analysis_operation"] = operation
    return out
