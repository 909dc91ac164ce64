"""The ``ds.crism`` and ``ds.zcam`` Dataset accessors: thin entry points to the analysis functions.

Registered when this module is imported; ``import xarray_crism`` imports it as soon as xarray is
loaded (at once if xarray already is, which is always the case when xarray opens a product with
``engine="crism"``; otherwise right after ``import xarray``), so ``import xarray_crism`` itself stays light.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import xarray as xr

from . import bands, browse, corrections, mastcamz, spectra, summary

__all__ = ["CrismAccessor", "ZcamAccessor"]


@xr.register_dataset_accessor("crism")  # type: ignore[no-untyped-call]
class CrismAccessor:
    """CRISM analysis on a cube Dataset (TRDR, TER, MTRDR): ``ds.crism.summary()`` and friends."""

    def __init__(self, ds: xr.Dataset) -> None:
        self._ds = ds

    def bad_bands(self, policy: str = "jcat") -> xr.DataArray:
        """Mask along ``band``, True for bands to drop: see :func:`.bands.bad_bands`."""
        return bands.bad_bands(self._ds, policy)

    def good_bands(self, policy: str = "jcat") -> xr.Dataset:
        """The Dataset without its bad bands: see :func:`.bands.good_bands`."""
        return bands.good_bands(self._ds, policy)

    def spectral_order(self) -> xr.Dataset:
        """Bands sorted by increasing wavelength: see :func:`.bands.spectral_order`."""
        return bands.spectral_order(self._ds)

    def summary(self, params: Sequence[str] | str | None = None, **kwargs: Any) -> xr.Dataset:
        """Summary parameters (Viviano-Beck et al. 2014, CAT v2.0): see :func:`.summary.summary`."""
        return summary.summary(self._ds, params, **kwargs)

    def browse(self, name: str, **kwargs: Any) -> xr.DataArray:
        """An RGB browse product (MAF, HYD, ...): see :func:`.browse.browse`."""
        return browse.browse(self._ds, name, **kwargs)

    def photometric(self, **kwargs: Any) -> xr.Dataset:
        """I/F divided by cos(incidence) from the joined DDR: see :func:`.corrections.photometric`."""
        return corrections.photometric(self._ds, **kwargs)

    def atmospheric(self, method: str = "mcguire", adr: Any = "auto", artifact: bool = True, **kwargs: Any) -> xr.Dataset:
        """Volcano-scan atmospheric correction: see :func:`.corrections.atmospheric`."""
        return corrections.atmospheric(self._ds, method=method, adr=adr, artifact=artifact, **kwargs)

    def ratio(self, method: str = "column_median", **kwargs: Any) -> xr.Dataset:
        """Column-wise ratio to a column median or to bland pixels: see :func:`.spectra.ratio`."""
        return spectra.ratio(self._ds, method=method, **kwargs)

    def despike(self, **kwargs: Any) -> xr.Dataset:
        """Iterated spectral median filter replacing spikes: see :func:`.spectra.despike`."""
        return spectra.despike(self._ds, **kwargs)

    def spectrum(self, **kwargs: Any) -> xr.Dataset:
        """Mean spectrum (and pixel count) at lat/lon, x/y or in an ROI: see :func:`.spectra.spectrum`."""
        return spectra.spectrum(self._ds, **kwargs)


@xr.register_dataset_accessor("zcam")  # type: ignore[no-untyped-call]
class ZcamAccessor:
    """Mastcam-Z analysis on a ``stack_filters`` cube: band depth, slope, ratio, eye merge, R*."""

    def __init__(self, ds: xr.Dataset) -> None:
        self._ds = ds

    def band_depth(self, short: str, center: str, long: str, **kwargs: Any) -> xr.Dataset:
        """Band depth between named filters, with its uncertainty: see :func:`.mastcamz.band_depth`."""
        return mastcamz.band_depth(self._ds, short, center, long, **kwargs)

    def slope(self, first: str, second: str, **kwargs: Any) -> xr.Dataset:
        """Spectral slope between named filters, with its uncertainty: see :func:`.mastcamz.slope`."""
        return mastcamz.slope(self._ds, first, second, **kwargs)

    def ratio(self, numerator: str, denominator: str, **kwargs: Any) -> xr.Dataset:
        """Ratio of named filters, with its uncertainty: see :func:`.mastcamz.ratio`."""
        return mastcamz.ratio(self._ds, numerator, denominator, **kwargs)

    def r_star(self, incidence: Any) -> xr.Dataset:
        """R* = IOF / cos(incidence): see :func:`.mastcamz.r_star`."""
        return mastcamz.r_star(self._ds, incidence)

    def merge_eyes(self, right: xr.Dataset, **kwargs: Any) -> xr.Dataset:
        """Left and right spectra merged at the shared 800 nm filter: see :func:`.mastcamz.merge_eyes`."""
        return mastcamz.merge_eyes(self._ds, right, **kwargs)
