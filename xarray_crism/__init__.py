"""xarray-crism: MRO CRISM PDS products as labelled, lazy xarray Datasets.

>>> import xarray as xr
>>> ds = xr.open_dataset(xarray_crism.sample_path(), engine="crism")  # doctest: +SKIP
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from .dataset import open_crism_dataset as open_dataset
from .errors import (
    CrismError,
    LabelSyntaxError,
    LabelValueError,
    ShapeMismatchError,
    SidecarNotFoundError,
    TruncatedFileError,
    UnsafePathError,
    UnsupportedProductError,
)
from .samples import sample_path

try:
    __version__ = version("xarray-crism")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"

__all__ = [
    "CrismError",
    "LabelSyntaxError",
    "LabelValueError",
    "ShapeMismatchError",
    "SidecarNotFoundError",
    "TruncatedFileError",
    "UnsafePathError",
    "UnsupportedProductError",
    "__version__",
    "open_dataset",
    "sample_path",
]
