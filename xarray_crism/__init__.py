"""xarray-crism: MRO CRISM PDS products as labelled, lazy xarray Datasets.

Use it through xarray: ``xr.open_dataset(path_or_url, engine="crism")``; see the README.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

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
    "sample_path",
]
