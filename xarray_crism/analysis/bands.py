"""Band masks and spectral order of CRISM cubes (the first step of every CAT workflow).

CRISM stores IR cubes long to short wavelengths and VNIR cubes short to long, with rows outside the
scene (NaN wavelength) at the ends. :func:`bad_bands` returns the default mask of bands to drop for a
sensor, :func:`good_bands` the cube without them, and :func:`spectral_order` the cube sorted by
increasing wavelength, as CAT has it after conversion. :func:`nearest_band` is the band lookup of CAT's
``mro_crism_lookupwv``: the band whose wavelength is nearest (first one on a tie).
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..errors import LabelValueError
from .provenance import with_provenance

__all__ = [
    "BAD_BAND_POLICIES", "bad_bands", "good_bands", "nearest_band", "sensor_of", "spectral_order", "wavelengths_of",
]

#: Policy -> sensor ("S" VNIR, "L" IR) -> wavelength ranges (nm, inclusive) of the bands kept. Rows
#: with a NaN wavelength are dropped by every policy. A joined cube ("J") with a per-band ``sensor``
#: coordinate (MRDR, MTRDR) applies each band's own sensor's ranges; without one, both sets to every
#: band. "jcat" are JCAT's VNIR ranges and the IR ranges of the issue (below 1044 nm, 2658-2796 nm
#: around the 2.7 um filter boundary and above 3900 nm removed); "none" keeps every band with a
#: wavelength.
BAD_BAND_POLICIES: dict[str, dict[str, tuple[tuple[float, float], ...]]] = {
    "jcat": {
        "S": ((433.0, 634.0), (707.0, 1013.0)),
        "L": ((1044.0, 2658.0), (2796.0, 3900.0)),
    },
    "none": {"S": ((-np.inf, np.inf),), "L": ((-np.inf, np.inf),)},
}
BAD_BAND_POLICIES["jcat"]["J"] = BAD_BAND_POLICIES["jcat"]["S"] + BAD_BAND_POLICIES["jcat"]["L"]
BAD_BAND_POLICIES["none"]["J"] = BAD_BAND_POLICIES["none"]["S"]

_SENSOR_SPLIT_NM = 1030.0  # VNIR ends at ~1056 nm, IR starts at ~1001 nm: decide by the median wavelength


def _where(ds: xr.Dataset | xr.DataArray) -> str:
    return str(ds.attrs.get("product_id", "<dataset>"))


def wavelengths_of(ds: xr.Dataset | xr.DataArray) -> np.ndarray:
    """The ``wavelength`` coordinate (nm) as a 1-D float array along ``band``, or a LabelValueError."""
    if "wavelength" not in ds.coords or ds["wavelength"].dims != ("band",):
        raise LabelValueError(
            _where(ds), "wavelength", ds.coords.get("wavelength"), "a wavelength coordinate along 'band' (nm)",
            "open the product with its SW or WA CDR beside it (sidecar_dirs=...), or assign_coords(wavelength=...)",
        )
    return np.asarray(ds["wavelength"].values, dtype=float)


def sensor_of(ds: xr.Dataset | xr.DataArray) -> str:
    """"S" (VNIR), "L" (IR) or "J" (joined): the ``sensor`` attribute, else from the wavelengths."""
    sensor = str(ds.attrs.get("sensor", "")).upper()
    if sensor in ("S", "L", "J"):
        return sensor
    wavelengths = wavelengths_of(ds)
    finite = wavelengths[np.isfinite(wavelengths)]
    if finite.size and finite.min() < 900.0 and finite.max() > 1500.0:
        return "J"
    return "S" if finite.size and np.median(finite) < _SENSOR_SPLIT_NM else "L"


def bad_bands(ds: xr.Dataset | xr.DataArray, policy: str = "jcat") -> xr.DataArray:
    """Boolean mask along ``band``: True for a band to drop (NaN wavelength or outside the policy's ranges)."""
    if policy not in BAD_BAND_POLICIES:
        raise LabelValueError(_where(ds), "policy", policy, f"one of {sorted(BAD_BAND_POLICIES)}")
    wavelengths = wavelengths_of(ds)
    keep = np.zeros(wavelengths.shape, dtype=bool)
    for sensor, rows in _bands_by_sensor(ds).items():
        for low, high in BAD_BAND_POLICIES[policy][sensor]:
            keep |= rows & (wavelengths >= low) & (wavelengths <= high)
    mask = xr.DataArray(~keep, dims=("band",), coords={"band": ds["band"]} if "band" in ds.coords else None)
    mask.attrs = {"long_name": "band to drop", "policy": policy, "sensor": sensor_of(ds)}
    return with_provenance(mask, "bad_bands", policy=policy)


def _bands_by_sensor(ds: xr.Dataset | xr.DataArray) -> dict[str, np.ndarray]:
    """Sensor -> its bands: the per-band ``sensor`` coordinate of joined map products when there is one."""
    if "sensor" in ds.coords and ds["sensor"].dims == ("band",):
        sensors = np.asarray(ds["sensor"].values).astype(str)
        return {s: sensors == s for s in ("S", "L") if (sensors == s).any()}
    return {sensor_of(ds): np.ones(ds.sizes["band"], dtype=bool)}


def good_bands(ds: xr.Dataset, policy: str = "jcat") -> xr.Dataset:
    """``ds`` without its bad bands (lazy: a selection along ``band``)."""
    keep = np.flatnonzero(~bad_bands(ds, policy).values)
    return with_provenance(ds.isel(band=keep), "good_bands", policy=policy)


def spectral_order(ds: xr.Dataset) -> xr.Dataset:
    """``ds`` with its bands sorted by increasing wavelength, NaN wavelengths last (lazy)."""
    order = np.argsort(wavelengths_of(ds), kind="stable")
    return with_provenance(ds.isel(band=order), "spectral_order")


def nearest_band(wavelengths: np.ndarray, target: float) -> int:
    """Index of the finite wavelength nearest ``target`` (the first one on a tie), as CAT's lookup."""
    distance = np.abs(np.asarray(wavelengths, dtype=float) - target)
    distance[~np.isfinite(distance)] = np.inf
    return int(np.argmin(distance))
