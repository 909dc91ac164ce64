"""The product model: plain Python, no xarray.

A :class:`Product` is what a label says a product holds: variables and coordinates, each with
dims, attributes and a lazy array (:class:`DiskArray` reads byte ranges of the data file on
demand; :class:`DerivedArray` computes a small array, such as a wavelength coordinate from a
calibration file, the first time it is read). Everything pickles, so dask can ship it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

import numpy as np

from ..formats.layouts import ArrayLayout
from ..formats.products import ProductId, ProductKind
from ..io.sources import Source
from ..labels.pds3 import Block
from .decoding import Decoding
from .reader import Key, read_array

__all__ = [
    "DerivedArray", "DiskArray", "LazyArray", "Memo", "Product", "RenamedArray", "Variable", "build_label_attr",
    "outer_index",
]


def build_label_attr(text: str) -> str:
    """``attrs["pds_label"]``: the whole label, its line ends made ``\\n`` (CR LF in PDS3 files).

    Every line and character is kept; only line ends change, because a carriage return breaks
    xarray's reprs (a DataTree's prints the label across lines) and ``\\n`` is what xarray escapes.
    The file itself is what the reader parses, byte for byte.
    """
    return text.replace("\r\n", "\n").replace("\r", "\n")


T = TypeVar("T")


class Memo(Generic[T]):
    """A zero-argument callable computed once per process (thread-safe; the cache is not pickled)."""

    def __init__(self, func: Callable[[], T]) -> None:
        self.func = func
        self._lock = threading.Lock()
        self._value: list[T] = []

    def __call__(self) -> T:
        with self._lock:
            if not self._value:
                self._value.append(self.func())
            return self._value[0]

    def __getstate__(self) -> dict[str, Any]:
        return {"func": self.func}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["func"])  # type: ignore[misc]


@dataclass(frozen=True, eq=False)
class DiskArray:
    """An array read from its file by byte ranges; ``band`` fixes one band of a cube."""

    source: Source
    layout: ArrayLayout
    band: int | None = None

    @property
    def dims(self) -> tuple[str, ...]:
        """Dimension names, slowest first."""
        return tuple(d for d in self.layout.dims if self.band is None or d != "band")

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape in ``dims`` order."""
        return tuple(self.layout.size[d] for d in self.dims)

    @property
    def dtype(self) -> np.dtype:
        """Data type in native byte order."""
        return self.layout.dtype.newbyteorder("=")

    def read(self, key: Key) -> np.ndarray:
        """Read ``self[key]`` (outer indexing)."""
        return self.read_decoded(key, None)

    def read_decoded(self, key: Key, decoding: Decoding | None) -> np.ndarray:
        """Read ``self[key]`` (outer indexing), decoded by the reader while it reads (see :mod:`.decoding`)."""
        if self.band is not None:
            position = self.layout.dims.index("band")
            key = (*key[:position], self.band, *key[position:])
        return read_array(self.source, self.layout, key, decoding)


@dataclass(frozen=True, eq=False)
class DerivedArray:
    """A small array computed by ``compute`` on first read (thread-safe, once per process)."""

    dims: tuple[str, ...]
    shape: tuple[int, ...]
    dtype: np.dtype
    compute: Callable[[], np.ndarray]

    def read(self, key: Key) -> np.ndarray:
        """Read ``self[key]`` (outer indexing)."""
        data = np.asarray(self.compute(), dtype=self.dtype)
        if data.shape != self.shape:
            raise ValueError(f"computed array has shape {data.shape}, expected {self.shape}")
        return outer_index(data, key)


@dataclass(frozen=True, eq=False)
class RenamedArray:
    """A lazy array under other dimension names (map-projected images: line, sample -> y, x)."""

    array: LazyArray
    dims: tuple[str, ...]

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape in ``dims`` order."""
        return self.array.shape

    @property
    def dtype(self) -> np.dtype:
        """Data type of the wrapped array."""
        return self.array.dtype

    def read(self, key: Key) -> np.ndarray:
        """Read ``self[key]`` (outer indexing)."""
        return self.array.read(key)

    def read_decoded(self, key: Key, decoding: Decoding | None) -> np.ndarray:
        """Read ``self[key]`` decoded: by the wrapped array's reader when it can, otherwise after the read."""
        read_decoded = getattr(self.array, "read_decoded", None)
        if read_decoded is not None:
            return read_decoded(key, decoding)  # type: ignore[no-any-return]
        data = self.array.read(key)
        return data if decoding is None else decoding.decode(data, fresh=False)


class LazyArray(Protocol):
    """What a variable's data must offer: dims, shape, dtype and outer-indexed reads."""

    @property
    def dims(self) -> tuple[str, ...]: ...

    @property
    def shape(self) -> tuple[int, ...]: ...

    @property
    def dtype(self) -> np.dtype: ...

    def read(self, key: Key) -> np.ndarray: ...


@dataclass
class Variable:
    """A variable or coordinate: lazy data, dims, CF attributes and encoding."""

    data: LazyArray
    attrs: dict[str, Any] = field(default_factory=dict)
    encoding: dict[str, Any] = field(default_factory=dict)

    @property
    def dims(self) -> tuple[str, ...]:
        """Dimension names."""
        return self.data.dims


@dataclass
class Product:
    """One product as its label describes it: identity, variables, coordinates, attributes.

    ``label`` is the label as a :class:`Block` tree whatever its format (``label_format`` is
    ``"PDS3"`` for ODL labels, detached or attached, and ``"PDS4"`` for XML labels).
    """

    source: Source
    product_id: ProductId
    kind: ProductKind
    label: Block
    label_text: str
    variables: dict[str, Variable] = field(default_factory=dict)
    coords: dict[str, Variable] = field(default_factory=dict)
    attrs: dict[str, Any] = field(default_factory=dict)
    label_format: str = "PDS3"

    @property
    def sizes(self) -> dict[str, int]:
        """Length of every dimension used by a variable or coordinate."""
        out: dict[str, int] = {}
        for var in (*self.variables.values(), *self.coords.values()):
            out.update(zip(var.dims, var.data.shape, strict=True))
        return out


def outer_index(data: np.ndarray, key: Key) -> np.ndarray:
    """Apply an outer-indexing key (ints, slices, integer arrays) to an in-memory array."""
    for axis in reversed(range(len(key))):
        k = key[axis]
        if not (isinstance(k, slice) and k == slice(None)):
            data = data[(slice(None),) * axis + (k,)]
    return data
