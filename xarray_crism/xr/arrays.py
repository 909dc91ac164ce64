"""Lazy xarray arrays over the product model (the only module that subclasses xarray types)."""

from __future__ import annotations

from typing import Any

import numpy as np
from xarray.backends import BackendArray
from xarray.core import indexing

from ..model.product import LazyArray

__all__ = ["CrismBackendArray"]


class CrismBackendArray(BackendArray):
    """xarray's view of any lazy array of the model (disk, derived, Bayer planes): outer indexing."""

    def __init__(self, array: LazyArray) -> None:
        self.array = array
        self.shape = array.shape
        self.dtype = array.dtype

    def __getitem__(self, key: indexing.ExplicitIndexer) -> Any:
        return indexing.explicit_indexing_adapter(
            key, self.shape, indexing.IndexingSupport.OUTER, self._raw_indexing_method
        )

    def _raw_indexing_method(self, key: tuple[Any, ...]) -> np.ndarray:
        return self.array.read(key)
