"""``WavelengthIndex``: label selection on a ``wavelength(band)`` coordinate in any order, NaN ignored.

CRISM IR bands run from long to short wavelengths and a band whose detector row has no
calibrated wavelength holds NaN (band 0 of every IR TRDR), so pandas' index, which needs a
monotonic order for ``method="nearest"`` and for slices, cannot select them. This index keeps
``band`` as the dimension, in file order, and answers ``sel(wavelength=...)`` itself:

- a value (or a list, an array, a ``Variable``/``DataArray``) selects the band whose wavelength
  equals it, or with ``method="nearest"`` the band nearest to it (``"pad"``/``"ffill"``: the
  nearest at or below, ``"backfill"``/``"bfill"``: at or above; of two at the same distance the
  first in file order), within ``tolerance`` when given; a value that no band fits raises
  :class:`~xarray_crism.SelectionError`, a ``KeyError``;
- a slice selects every band whose wavelength lies between its two ends, inclusive, whichever
  end is given first (``slice(2000, 2500)`` and ``slice(2500, 2000)`` are the same bands), and
  returns them in file order; a slice with one end bounds one side (``slice(2000, None)``: 2000
  and above, ``slice(None, 2000)``: 2000 and below);
- a band whose wavelength is NaN is never selected.

The index reads the coordinate on the first selection that needs it (opening a product still
reads labels only), keeps its few hundred numbers in memory, and follows ``isel``, ``sel``,
``concat``, ``rename``, alignment and ``load``. The coordinate is written to netCDF and Zarr as
a plain variable; a store read back with ``xr.open_zarr`` gets the index again with
:func:`set_wavelength_index`.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from xarray.core.indexes import Index
from xarray.core.indexing import IndexSelResult

from ..errors import SelectionError

__all__ = ["WavelengthIndex", "set_wavelength_index"]

#: The coordinate this index is set on, when a Dataset has it along one dimension.
WAVELENGTH = "wavelength"

#: ``method=`` -> which side of the label a band may lie on (-1 at or below, +1 at or above, 0 either).
_METHOD_SIDES = {"nearest": 0, "pad": -1, "ffill": -1, "backfill": 1, "bfill": 1}


class WavelengthIndex(Index):
    """An xarray index on a 1-D float coordinate that ignores NaN and needs no monotonic order."""

    __slots__ = ("_values", "dim", "name", "source", "variable")

    def __init__(self, variable: xr.Variable, name: Hashable, source: str = "", values: np.ndarray | None = None) -> None:
        self.variable = variable
        self.name = name
        self.dim = variable.dims[0]
        self.source = source
        self._values = None if values is None else _read_only(values)

    @property
    def values(self) -> np.ndarray:
        """The wavelengths, read on first use (opening a product reads no wavelength table)."""
        if self._values is None:
            self._values = _read_only(self.variable.values)
        return self._values

    @classmethod
    def from_values(cls, values: np.ndarray, name: Hashable, dim: Hashable, source: str = "") -> WavelengthIndex:
        """An index over wavelengths in memory."""
        return cls(xr.Variable((dim,), _read_only(values)), name, source, values)

    @classmethod
    def from_variables(cls, variables: Mapping[Any, xr.Variable], *, options: Mapping[str, Any]) -> WavelengthIndex:
        """The index of one 1-D numeric coordinate: ``ds.set_xindex("wavelength", WavelengthIndex)``.

        The coordinate stays lazy until a selection needs its values. ``options`` may name the
        product (``source=``), which errors then name.
        """
        source = str(options.get("source", ""))
        names = list(variables)
        var = variables[names[0]] if len(names) == 1 else None
        if var is None or var.ndim != 1 or var.dtype.kind not in "fiu":
            shape = {n: (v.dims, str(v.dtype)) for n, v in variables.items()}
            raise SelectionError(source or "Dataset", "set_xindex", shape, "one 1-D numeric coordinate (band wavelengths)")
        return cls(var.to_base_variable(), names[0], source)

    @classmethod
    def concat(
        cls, indexes: Sequence[WavelengthIndex], dim: Hashable, positions: Iterable[Iterable[int]] | None = None
    ) -> WavelengthIndex:
        """The indexes one after the other (``xr.concat`` along their dimension)."""
        values = np.concatenate([index.values for index in indexes]) if indexes else np.empty(0)
        if positions is not None:
            order = np.concatenate([np.asarray(list(p), dtype=np.intp) for p in positions])
            values = values[np.argsort(order, kind="stable")]
        name = indexes[0].name if indexes else dim
        return cls.from_values(values, name, dim, indexes[0].source if indexes else "")

    def create_variables(self, variables: Mapping[Any, xr.Variable] | None = None) -> dict[Hashable, xr.Variable]:
        """The coordinate from the index's values, with the attributes and encoding it had."""
        old = (variables or {}).get(self.name)
        var = self.variable.copy(deep=False)
        if old is not None:
            var.attrs, var.encoding = dict(old.attrs), dict(old.encoding)
        return {self.name: var}

    def to_pandas_index(self) -> pd.Index:
        """The wavelengths as a ``pandas.Index`` (``ds.indexes``, ``to_dataframe``); NaN kept."""
        return pd.Index(self.values, name=self.name)

    def isel(self, indexers: Mapping[Any, Any]) -> WavelengthIndex | None:
        """The index of the bands kept; none when one band is kept (the coordinate becomes a scalar)."""
        key = indexers[self.dim]
        if isinstance(key, xr.Variable):
            if key.dims != (self.dim,):
                return None
            key = key.data
        if not isinstance(key, slice) and np.ndim(key) == 0:
            return None
        values = None if self._values is None else self._values[key]
        return type(self)(self.variable.isel({self.dim: key}), self.name, self.source, values)

    def sel(self, labels: dict[Any, Any], method: str | None = None, tolerance: Any = None) -> IndexSelResult:
        """Positions along ``dim`` of the bands the labels select (see the module's docstring)."""
        label = labels[self.name]
        if isinstance(label, slice):
            return IndexSelResult({self.dim: self._select_range(label)})
        if method is not None and method not in _METHOD_SIDES:
            raise self._error(method, f"method= one of {sorted(_METHOD_SIDES)}", "or None for exact wavelengths")
        wanted = np.asarray(label.data if isinstance(label, xr.Variable | xr.DataArray) else label)
        if wanted.dtype.kind == "b":
            return IndexSelResult({self.dim: wanted})
        positions = self._positions(wanted.astype(np.float64), method, tolerance)
        return IndexSelResult({self.dim: _like_label(positions, label)})

    def equals(self, other: Index, **kwargs: Any) -> bool:
        """Same dimension and same values (NaN equal to NaN)."""
        if not isinstance(other, WavelengthIndex):
            return False
        return self.dim == other.dim and np.array_equal(self.values, other.values, equal_nan=True)

    def join(self, other: WavelengthIndex, how: str = "inner") -> WavelengthIndex:
        """Alignment: the wavelengths both indexes have (``inner``, self's order) or either has (``outer``)."""
        if how == "inner":
            values = self.values[_isin(self.values, other.values)]
        elif how == "outer":
            values = np.concatenate([self.values, other.values[~_isin(other.values, self.values)]])
        else:
            values = (self if how == "left" else other).values
        return self.from_values(values, self.name, self.dim, self.source)

    def reindex_like(self, other: WavelengthIndex) -> dict[Hashable, Any]:
        """Alignment: for each of ``other``'s wavelengths, the position of the same one here (-1: none)."""
        return {self.dim: np.asarray([_first(self.values, w) for w in other.values], dtype=np.intp)}

    def roll(self, shifts: Mapping[Any, int]) -> WavelengthIndex:
        """The values rolled with the data."""
        return self.from_values(np.roll(self.values, shifts[self.dim]), self.name, self.dim, self.source)

    def rename(self, name_dict: Mapping[Any, Hashable], dims_dict: Mapping[Any, Hashable]) -> WavelengthIndex:
        """The index under the coordinate's and dimension's new names."""
        variable = self.variable.copy(deep=False)
        variable.dims = (dims_dict.get(self.dim, self.dim),)
        return type(self)(variable, name_dict.get(self.name, self.name), self.source, self._values)

    def _copy(self, deep: bool = True, memo: dict[int, Any] | None = None) -> WavelengthIndex:
        return type(self)(self.variable, self.name, self.source, self._values)

    def __repr__(self) -> str:
        if self._values is None:
            return f"WavelengthIndex({self.name!r} on {self.dim!r}: {self.variable.size} bands, not read yet)"
        valid = self.values[np.isfinite(self.values)]
        span = f"{valid.min():g}-{valid.max():g}" if valid.size else "no finite value"
        nan = self.values.size - valid.size
        return f"WavelengthIndex({self.name!r} on {self.dim!r}: {self.values.size} bands, {span}, {nan} NaN)"

    def _repr_inline_(self, max_width: int) -> str:
        return "WavelengthIndex"

    def _select_range(self, bounds: slice) -> np.ndarray:
        if bounds.step is not None:
            raise self._error(bounds, "a slice without a step", "select every n-th band with isel(band=slice(...))")
        low, high = _range_ends(bounds)
        with np.errstate(invalid="ignore"):
            return np.flatnonzero((self.values >= low) & (self.values <= high))

    def _positions(self, wanted: np.ndarray, method: str | None, tolerance: Any) -> np.ndarray:
        limits = np.broadcast_to(np.inf if tolerance is None else np.asarray(tolerance, dtype=np.float64), wanted.shape)
        flat = [self._position(w, method, t) for w, t in zip(wanted.ravel(), limits.ravel(), strict=True)]
        return np.asarray(flat, dtype=np.intp).reshape(wanted.shape)

    def _position(self, wanted: float, method: str | None, tolerance: float) -> int:
        distance = self.values - wanted
        side = _METHOD_SIDES.get(method or "", 0)
        limit = 0.0 if method is None else tolerance
        with np.errstate(invalid="ignore"):
            fits = (np.abs(distance) <= limit) & (side * distance >= 0)
        if not fits.any():
            raise self._not_found(float(wanted), method, float(tolerance))
        candidates = np.flatnonzero(fits)
        return int(candidates[np.argmin(np.abs(distance[candidates]))])

    def _not_found(self, wanted: float, method: str | None, tolerance: float) -> SelectionError:
        valid = self.values[np.isfinite(self.values)]
        span = f"{valid.min():g} to {valid.max():g}" if valid.size else "no finite value"
        rule = _RULES[method] + (f" within tolerance={tolerance:g}" if method and np.isfinite(tolerance) else "")
        hint = "pass method='nearest'" if method is None else "widen the tolerance" if np.isfinite(tolerance) else ""
        return self._error(wanted, f"{rule} (the bands span {span}; NaN bands are never selected)", hint)

    def _error(self, value: Any, expected: str, hint: str = "") -> SelectionError:
        return SelectionError(self.source or "Dataset", f"sel({self.name}=...)", value, expected, hint)


#: What a label must be, per ``method=``, for a band to be selected.
_RULES = {
    None: "the exact wavelength of a band", "nearest": "a band near this wavelength",
    "pad": "a band at or below this wavelength", "ffill": "a band at or below this wavelength",
    "backfill": "a band at or above this wavelength", "bfill": "a band at or above this wavelength",
}


def _read_only(values: Any) -> np.ndarray:
    array = np.array(values, dtype=np.float64)
    array.setflags(write=False)
    return array


def _isin(values: np.ndarray, others: np.ndarray) -> np.ndarray:
    return np.asarray(np.isin(values, others) | (np.isnan(values) & np.isnan(others).any()), dtype=bool)


def _first(values: np.ndarray, wanted: float) -> int:
    found = np.flatnonzero((values == wanted) | (np.isnan(values) & np.isnan(wanted)))
    return int(found[0]) if found.size else -1


def _range_ends(bounds: slice) -> tuple[float, float]:
    """``(low, high)`` of a slice in either order; one end alone bounds one side (start: low, stop: high)."""
    start = -np.inf if bounds.start is None else float(bounds.start)
    stop = np.inf if bounds.stop is None else float(bounds.stop)
    if bounds.start is not None and bounds.stop is not None:
        return min(start, stop), max(start, stop)
    return start, stop


def _like_label(positions: np.ndarray, label: Any) -> Any:
    """Positions with the label's dimensions and coordinates (vectorised selection), or plain ones."""
    if isinstance(label, xr.DataArray):
        return xr.DataArray(positions, coords=label.coords, dims=label.dims)
    if isinstance(label, xr.Variable):
        return xr.Variable(label.dims, positions)
    return int(positions) if positions.ndim == 0 else positions


def set_wavelength_index(ds: xr.Dataset, name: str = WAVELENGTH) -> xr.Dataset:
    """``ds`` with a :class:`WavelengthIndex` on its 1-D ``name`` coordinate, or ``ds`` as it is without one.

    The backend calls it on every Dataset it opens; call it on a Dataset read back from Zarr or
    netCDF (``set_wavelength_index(xr.open_zarr(store))``) to select wavelengths again.
    """
    coord = ds.coords.get(name)
    if coord is None or coord.ndim != 1 or coord.dims[0] == name or coord.dtype.kind not in "fiu":
        return ds
    if isinstance(ds.xindexes.get(name), WavelengthIndex):
        return ds
    if name in ds.xindexes:
        ds = ds.drop_indexes(name)
    return ds.set_xindex(name, WavelengthIndex, source=str(ds.attrs.get("product_id", "")))
