"""xarray-crism: MRO CRISM and Mars 2020 Mastcam-Z PDS products as labelled, lazy xarray Datasets.

Use it through xarray: ``xr.open_dataset(path_or_url, engine="crism")``; see the README.
``stack_filters`` builds a multispectral cube from Mastcam-Z products; ``read_index`` reads a volume's
index table (SIS Table 3-17) as a pandas DataFrame; ``open_catalog`` a volume as an Intake catalog;
``to_zarr`` converts products and catalogs to Zarr stores, ``write_references`` to virtual Zarr.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from .errors import (
    CrismError,
    FileChangedError,
    LabelSyntaxError,
    LabelValueError,
    QueryError,
    RemoteReadError,
    SelectionError,
    ShapeMismatchError,
    SidecarNotFoundError,
    StoreExistsError,
    TruncatedFileError,
    UnsafePathError,
    UnsupportedProductError,
)
from .samples import sample_path
from .version import __version__

_LAZY = {
    "stack_filters": "xr.stacking", "group_by_pointing": "xr.stacking", "read_index": "archive.index",
    "open_catalog": "archive.intake_plugin", "to_zarr": "cloud.conversion", "write_references": "cloud.references",
    "set_wavelength_index": "xr.indexes", "WavelengthIndex": "xr.indexes",
}


def __getattr__(name: str) -> Any:
    """Import the xarray-level helpers on first use, so ``import xarray_crism`` stays light."""
    if name in _LAZY:
        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "CrismError",
    "FileChangedError",
    "LabelSyntaxError",
    "LabelValueError",
    "QueryError",
    "RemoteReadError",
    "SelectionError",
    "ShapeMismatchError",
    "SidecarNotFoundError",
    "StoreExistsError",
    "TruncatedFileError",
    "UnsafePathError",
    "UnsupportedProductError",
    "WavelengthIndex",
    "__version__",
    "group_by_pointing",
    "open_catalog",
    "read_index",
    "sample_path",
    "set_wavelength_index",
    "stack_filters",
    "to_zarr",
    "write_references",
]
