"""Lazy xarray arrays over the product model (the only module that subclasses xarray types)."""

from __future__ import annotations

from typing import Any

import numpy as np
from xarray.backends import BackendArray
from xarray.core import indexing

from .model import DerivedArray, DiskArray

__all__ = ["CrismBackendArray"]


class CrismBackendArray(BackendArray):
    """xarray's view of a :class:`DiskArray` or :class:`DerivedArray`: outer indexing, lazily."""

    def __init__(self, array: DiskArray | DerivedArray) -> None:
        self.array = array
        self.shape = array.shape
        self.dtype = array.dtype

    def __getitem__(self, key: indexing.ExplicitIndexer) -> Any:
        return indexing.explicit_indexing_adapter(
            key, self.shape, indexing.IndexingSupport.OUTER, self._raw_indexing_method
        )

    def _raw_indexing_method(self, key: tuple[Any, ...]) -> np.ndarray:
        return self.array.read(key)
