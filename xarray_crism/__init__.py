"""xarray-crism: MRO CRISM and Mars 2020 Mastcam-Z PDS products as labelled, lazy xarray Datasets.

Use it through xarray: ``xr.open_dataset(path_or_url, engine="crism")``; see the README.
``stack_filters`` builds a multispectral cube from Mastcam-Z products; ``read_index`` reads a volume's
index table (SIS Table 3-17) as a pandas DataFrame; ``open_catalog`` a volume as an Intake catalog;
``to_zarr`` converts products and catalogs to Zarr stores, ``write_references`` to virtual Zarr.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
from collections.abc import Sequence
from importlib import import_module
from types import ModuleType
from typing import TYPE_CHECKING, Any

from .errors import (
    CompanionMismatchError,
    CrismError,
    FileChangedError,
    LabelNotFoundError,
    LabelSyntaxError,
    LabelValueError,
    QueryError,
    RemoteReadError,
    SelectionError,
    ShapeMismatchError,
    SidecarNotFoundError,
    SidecarWarning,
    StoreExistsError,
    TruncatedFileError,
    UnsafePathError,
    UnsupportedProductError,
    UnsupportedSourceError,
)
from .samples import sample_path
from .version import __version__

_LAZY = {
    "stack_filters": "xr.stacking", "group_by_pointing": "xr.stacking", "read_index": "archive.index",
    "open_catalog": "archive.intake_plugin", "to_zarr": "cloud.conversion", "write_references": "cloud.references",
    "set_wavelength_index": "xr.indexes", "WavelengthIndex": "xr.indexes",
}


if TYPE_CHECKING:  # the real signatures for type checkers and IDEs; at run time they load on first use
    from .archive.index import read_index
    from .archive.intake_plugin import open_catalog
    from .cloud.conversion import to_zarr
    from .cloud.references import write_references
    from .xr.indexes import WavelengthIndex, set_wavelength_index
    from .xr.stacking import group_by_pointing, stack_filters


def _register_accessors() -> None:
    """Register ``ds.crism`` and ``ds.zcam`` (imports :mod:`.analysis`, which needs xarray loaded)."""
    import_module(".analysis", __name__)


class _AfterXarray(importlib.abc.MetaPathFinder):
    """Registers the accessors right after ``import xarray`` when this package was imported first."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != "xarray":
            return None
        sys.meta_path.remove(self)
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        loader = spec.loader if spec is not None else None
        if loader is None or not hasattr(loader, "exec_module"):
            return spec
        run = loader.exec_module

        def exec_module(module: ModuleType) -> None:
            run(module)
            _register_accessors()

        loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


# The accessors exist as soon as xarray does, without ``import xarray_crism`` importing xarray:
# xarray importing the ``crism`` engine, or ``import xarray_crism`` after ``import xarray``, registers
# them at once; ``import xarray_crism`` first registers them right after ``import xarray``.
if "xarray" in sys.modules:
    _register_accessors()
else:
    sys.meta_path.insert(0, _AfterXarray())


def __getattr__(name: str) -> Any:
    """Import the xarray-level helpers on first use, so ``import xarray_crism`` stays light."""
    if name in _LAZY:
        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    """The public names, the lazy ones included (tab completion lists them before their first use)."""
    return sorted({*globals(), *__all__})


__all__ = [
    "CompanionMismatchError",
    "CrismError",
    "FileChangedError",
    "LabelNotFoundError",
    "LabelSyntaxError",
    "LabelValueError",
    "QueryError",
    "RemoteReadError",
    "SelectionError",
    "ShapeMismatchError",
    "SidecarNotFoundError",
    "SidecarWarning",
    "StoreExistsError",
    "TruncatedFileError",
    "UnsafePathError",
    "UnsupportedProductError",
    "UnsupportedSourceError",
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
