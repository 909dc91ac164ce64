"""Mastcam-Z spectral parameters on a ``stack_filters`` cube, with first-order uncertainty propagation.

Filters are named by the cube's ``filter_name`` coordinate (``"L1"``, ``"R6"``, ...) or by a wavelength
in nm (the nearest band). The value variable is the cube's ``i_over_f`` (or ``radiance``); its
uncertainty is ``uncertainty=``: a relative uncertainty (float), a DataArray like the cube, or by default
the variable ``<name>_uncertainty`` when the Dataset has one (otherwise no uncertainty is returned).
Errors of different filters are taken as independent.

- :func:`band_depth`: ``1 - Rc / ((1 - a) Rs + a Rl)``, ``a`` from the filters' centre wavelengths;
- :func:`slope`: ``(R2 - R1) / (w2 - w1)`` per nm; :func:`ratio`: ``R1 / R2``;
- :func:`merge_eyes`: one spectrum from both eyes, the right eye scaled by ``L1 / R1`` at the 800 nm
  filter both eyes share (the Mastcam-Z team's convention: right-eye spectra are scaled to the left eye
  at 800 nm, and R1 is then dropped); spatial dims must match (merge ROI spectra, not images);
- :func:`r_star`: ``R* = IOF / cos(incidence)`` (incidence in degrees, scalar or DataArray).
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..errors import LabelValueError
from .provenance import with_provenance

__all__ = ["band_depth", "merge_eyes", "r_star", "ratio", "slope"]

Uncertainty = float | xr.DataArray | None


def _where(ds: xr.Dataset) -> str:
    return str(ds.attrs.get("product_id", ds.encoding.get("source", "<Mastcam-Z cube>")))


def _variable(ds: xr.Dataset) -> str:
    names = [n for n in ("i_over_f", "radiance") if n in ds.data_vars]
    if not names:
        raise LabelValueError(_where(ds), "variables", sorted(map(str, ds.data_vars)), "an i_over_f or radiance cube",
                              "build it with xarray_crism.stack_filters(paths)")
    return names[0]


def _index(ds: xr.Dataset, name: str | float) -> int:
    if "filter_name" in ds.coords and str(name) in [str(f) for f in ds["filter_name"].values]:
        return [str(f) for f in ds["filter_name"].values].index(str(name))
    try:
        target = float(name)
    except (TypeError, ValueError):
        found = sorted({str(f) for f in ds["filter_name"].values}) if "filter_name" in ds.coords else []
        raise LabelValueError(_where(ds), "filter", name, f"one of the cube's filters {found} or a wavelength in nm") from None
    return int(np.nanargmin(np.abs(np.asarray(ds["wavelength"].values, float) - target)))


def _band(ds: xr.Dataset, name: str | float, uncertainty: Uncertainty) -> tuple[xr.DataArray, xr.DataArray | None, float]:
    var = _variable(ds)
    i = _index(ds, name)
    value = ds[var].isel(band=i, drop=True)
    wavelength = float(ds["wavelength"].values[i])
    if uncertainty is None and f"{var}_uncertainty" in ds.data_vars:
        uncertainty = ds[f"{var}_uncertainty"]
    if uncertainty is None:
        return value, None, wavelength
    sigma = uncertainty * abs(value) if isinstance(uncertainty, float) else uncertainty.isel(band=i, drop=True)
    return value, sigma, wavelength


def _result(ds: xr.Dataset, name: str, value: xr.DataArray, sigma: xr.DataArray | None, **attrs: object) -> xr.Dataset:
    out = xr.Dataset({name: value.assign_attrs(attrs)})
    if sigma is not None:
        out[f"{name}_uncertainty"] = sigma.assign_attrs(long_name=f"1-sigma uncertainty of {name} (first order)")
    return with_provenance(out, name, **{k: str(v) for k, v in attrs.items()})


def band_depth(ds: xr.Dataset, short: str, center: str, long: str, *, uncertainty: Uncertainty = None) -> xr.Dataset:
    """Band depth at ``center`` below the line from ``short`` to ``long`` (``band_depth`` and its uncertainty)."""
    (rs, ss, ws), (rc, sc, wc), (rl, sl, wl) = (_band(ds, f, uncertainty) for f in (short, center, long))
    a = (wc - ws) / (wl - ws)
    continuum = (1 - a) * rs + a * rl
    value = 1 - rc / continuum
    sigma = None
    if ss is not None and sc is not None and sl is not None:
        sigma = ((sc / continuum) ** 2 + (rc * (1 - a) * ss / continuum**2) ** 2 + (rc * a * sl / continuum**2) ** 2) ** 0.5
    return _result(ds, "band_depth", value, sigma, filters=[short, center, long], wavelengths_nm=[ws, wc, wl], weight=a)


def slope(ds: xr.Dataset, first: str, second: str, *, uncertainty: Uncertainty = None) -> xr.Dataset:
    """Spectral slope ``(R2 - R1) / (w2 - w1)`` per nm between two filters."""
    (r1, s1, w1), (r2, s2, w2) = (_band(ds, f, uncertainty) for f in (first, second))
    value = (r2 - r1) / (w2 - w1)
    sigma = None if s1 is None or s2 is None else (s1**2 + s2**2) ** 0.5 / abs(w2 - w1)
    return _result(ds, "slope", value, sigma, filters=[first, second], wavelengths_nm=[w1, w2], units="nm-1")


def ratio(ds: xr.Dataset, numerator: str, denominator: str, *, uncertainty: Uncertainty = None) -> xr.Dataset:
    """Ratio ``R(numerator) / R(denominator)`` of two filters."""
    (r1, s1, w1), (r2, s2, w2) = (_band(ds, f, uncertainty) for f in (numerator, denominator))
    value = r1 / r2
    sigma = None if s1 is None or s2 is None else abs(value) * ((s1 / r1) ** 2 + (s2 / r2) ** 2) ** 0.5
    return _result(ds, "ratio", value, sigma, filters=[numerator, denominator], wavelengths_nm=[w1, w2])


def merge_eyes(left: xr.Dataset, right: xr.Dataset, *, left_filter: str = "L1", right_filter: str = "R1") -> xr.Dataset:
    """One spectrum from both eyes: right-eye bands scaled by ``L1 / R1`` (800 nm), R1 dropped, sorted by wavelength."""
    var = _variable(left)
    shared = _index(right, right_filter)
    scale = left[var].isel(band=_index(left, left_filter), drop=True) / right[var].isel(band=shared, drop=True)
    keep = [i for i in range(right.sizes["band"]) if i != shared]
    scaled = right[[var]].isel(band=keep)
    scaled[var] = scaled[var] * scale
    merged = xr.concat([left[[var]], scaled], dim="band", coords="different", compat="equals", combine_attrs="drop_conflicts")
    merged = merged.isel(band=np.argsort(merged["wavelength"].values, kind="stable"))
    merged = merged.assign_coords(band=np.arange(merged.sizes["band"]))
    merged["right_eye_scale"] = scale.assign_attrs(long_name=f"{left_filter} / {right_filter} scale applied to the right eye")
    return with_provenance(merged, "merge_eyes", left_filter=left_filter, right_filter=right_filter)


def r_star(ds: xr.Dataset, incidence: float | xr.DataArray) -> xr.Dataset:
    """``ds`` with ``i_over_f`` replaced by R* = IOF / cos(incidence) (incidence in degrees)."""
    if "i_over_f" not in ds.data_vars:
        raise LabelValueError(_where(ds), "variables", sorted(map(str, ds.data_vars)), "an i_over_f (IOF) cube",
                              "R* is defined on IOF products, not radiance")
    out = ds.copy()
    out["i_over_f"] = (ds["i_over_f"] / np.cos(np.deg2rad(incidence))).assign_attrs(
        {**ds["i_over_f"].attrs, "long_name": "R* (IOF / cos(incidence))"})
    return with_provenance(out, "r_star", incidence=str(incidence) if isinstance(incidence, xr.DataArray) else incidence)
