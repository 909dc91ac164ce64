"""Photometric and volcano-scan atmospheric corrections of CRISM I/F cubes (lazy).

- :func:`photometric`: I/F / cos(i) per pixel, ``i`` the DDR's incidence angle (areoid by default).
- :func:`atmospheric`: the volcano-scan correction (McGuire et al. 2009). With ``T`` the VS ADR
  transmission of the product's detector columns and rows, ``beta`` per pixel is
  ``ln(R(w1) / R(w2)) / ln(T(w1) / T(w2))`` at the bands nearest the scaling pair (McGuire
  [2007, 1980] nm, Pelkey [2011, 1899] nm) and ``R' = R / T**beta``. With ``artifact=True`` the ADR's
  artifact spectrum ``A`` for the same pair is added, ``R'' = R' + s A``, with ``s`` per pixel the least
  squares fit of ``R' + s A`` to the straight line through ``R'`` at the artifact's continuum
  wavelengths (the ADR label says 1764 and 2239 nm: the artifact was derived as the departure from that
  line), over the bands between them. ``beta`` and ``artifact_scale`` come back as variables.

The ADR is chosen by :func:`.adr_selection.select_vs_adr` (see there for the rule).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

import numpy as np
import xarray as xr

from ..errors import LabelValueError, ShapeMismatchError, SidecarNotFoundError
from .adr_selection import open_vs_adr
from .bands import nearest_band, wavelengths_of
from .provenance import with_provenance
from .summary import cube_variable

__all__ = ["SCALING_PAIRS", "adr_spectra", "atmospheric", "photometric"]

#: Method -> the scaling wavelengths (nm) of beta, as the VS ADR labels name them.
SCALING_PAIRS: dict[str, tuple[float, float]] = {"mcguire": (2007.0, 1980.0), "pelkey": (2011.0, 1899.0)}

#: The ADR variable holding the transmission (line 1 of a VS ADR).
TRANSMISSION = "atmospheric_transmission"

_DDR_HINT = (
    "join the DDR when opening: xr.open_dataset(path, engine='crism', ddr='auto') finds the "
    "..._DE..._DDR#.LBL beside the product (or in sidecar_dirs=[...]); ddr='path/to/ddr.lbl' names it"
)


def _where(ds: xr.Dataset) -> str:
    return str(ds.attrs.get("product_id", ds.encoding.get("source", "<dataset>")))


def photometric(
    ds: xr.Dataset, *, variable: str | None = None, angle: str = "incidence_angle", max_incidence: float = 89.0
) -> xr.Dataset:
    """``ds`` with its cube divided by cos(``angle``) of the joined DDR (NaN where ``angle`` >= ``max_incidence``)."""
    name = cube_variable(ds, variable)
    if angle not in ds.variables:
        raise SidecarNotFoundError(_where(ds), angle, None, f"a joined DDR with the '{angle}' backplane", _DDR_HINT)
    incidence = ds[angle]
    cosine = _cos_degrees(incidence).where(incidence < max_incidence)
    out = ds.copy()
    corrected = (ds[name] / cosine).astype(ds[name].dtype)
    corrected.attrs = {**ds[name].attrs, "photometric_correction": f"divided by cos({angle})"}
    out[name] = corrected
    return with_provenance(out, "photometric", variable=name, angle=angle, max_incidence=max_incidence)


def atmospheric(
    ds: xr.Dataset, method: str = "mcguire", adr: str | os.PathLike[str] | xr.Dataset = "auto", artifact: bool = True,
    *, variable: str | None = None, adr_dirs: Sequence[str | os.PathLike[str]] = (),
    pairing: Mapping[str, str] | None = None,
) -> xr.Dataset:
    """Volcano-scan atmospheric correction of the cube of ``ds``, with ``beta`` (and ``artifact_scale``)."""
    if method not in SCALING_PAIRS:
        raise LabelValueError(_where(ds), "method", method, f"one of {sorted(SCALING_PAIRS)}")
    name = cube_variable(ds, variable)
    vs = adr if isinstance(adr, xr.Dataset) else open_vs_adr(ds, adr, adr_dirs=adr_dirs, pairing=pairing)
    transmission, art = adr_spectra(ds, vs, method, artifact)
    cube = ds[name]
    beta = _beta(cube, transmission, wavelengths_of(ds), SCALING_PAIRS[method])
    corrected = cube / transmission**beta
    out = ds.copy()
    if art is not None:
        scale = _artifact_scale(corrected, art, wavelengths_of(ds), art.attrs.get("continuum_wavelengths", (1764.0, 2239.0)))
        corrected = corrected + scale * art
        out["artifact_scale"] = scale.assign_attrs(long_name="per-pixel scale of the VS artifact spectrum", units="1")
    out[name] = corrected.astype(cube.dtype).transpose(*cube.dims).assign_attrs(
        {**cube.attrs, "atmospheric_correction": f"volcano scan, {method}, artifact={artifact}"}
    )
    out["beta"] = beta.assign_attrs(long_name=f"volcano-scan exponent ({method} pair {SCALING_PAIRS[method]} nm)", units="1")
    adr_id = str(vs.attrs.get("product_id", vs.encoding.get("source", "<adr>")))
    out.attrs["vs_adr_product_id"] = adr_id
    return with_provenance(out, "atmospheric", method=method, artifact=artifact, adr=adr_id, variable=name)


def _beta(cube: xr.DataArray, transmission: xr.DataArray, wavelengths: np.ndarray, pair: tuple[float, float]) -> xr.DataArray:
    first, second = (nearest_band(wavelengths, w) for w in pair)
    reflectance = _log(cube.isel(band=first, drop=True) / cube.isel(band=second, drop=True))
    beta: xr.DataArray = reflectance / _log(transmission.isel(band=first, drop=True) / transmission.isel(band=second, drop=True))
    return beta.astype(np.float32)


def _log(x: xr.DataArray) -> xr.DataArray:
    """Natural log, NaN where ``x`` <= 0 (no warnings from dask tasks)."""
    positive = x.where(x > 0)
    return positive.copy(data=np.log(positive.data))


def _cos_degrees(x: xr.DataArray) -> xr.DataArray:
    return x.copy(data=np.cos(np.deg2rad(x.data)))


def _artifact_scale(
    corrected: xr.DataArray, art: xr.DataArray, wavelengths: np.ndarray, continuum: Sequence[float]
) -> xr.DataArray:
    low, high = (nearest_band(wavelengths, float(w)) for w in continuum)
    w_low, w_high = wavelengths[low], wavelengths[high]
    inside = np.flatnonzero((wavelengths > min(w_low, w_high)) & (wavelengths < max(w_low, w_high)))
    weight = xr.DataArray((wavelengths[inside] - w_low) / (w_high - w_low), dims="band")
    r_in, a_in = corrected.isel(band=inside).drop_vars("band"), art.isel(band=inside).drop_vars("band")
    r_low, r_high = corrected.isel(band=low, drop=True), corrected.isel(band=high, drop=True)
    line = r_low + weight * (r_high - r_low)
    energy = (a_in * a_in).sum("band", skipna=True)
    scale = ((line - r_in) * a_in).sum("band", skipna=True) / energy.where(energy > 0)  # NaN for columns without artifact
    return scale.astype(np.float32)


def adr_spectra(
    ds: xr.Dataset, vs: xr.Dataset, method: str, artifact: bool
) -> tuple[xr.DataArray, xr.DataArray | None]:
    """The VS ADR's transmission (and artifact for ``method``) as ``(band, sample)`` on the cube's bands."""
    where = str(vs.attrs.get("product_id", vs.encoding.get("source", "<adr>")))
    if TRANSMISSION not in vs.variables:
        raise LabelValueError(where, "variables", sorted(map(str, vs.variables)), f"a VS ADR with '{TRANSMISSION}'")
    transmission = _on_cube_bands(ds, vs, vs[TRANSMISSION], where)
    if not artifact:
        return transmission, None
    pair = list(SCALING_PAIRS[method])
    found = [v for v in vs.data_vars.values() if list(v.attrs.get("scaling_wavelengths", [])) == pair]
    if not found:
        raise LabelValueError(
            where, "scaling_wavelengths", pair, f"an artifact spectrum for the {method} pair (a version 8 VS ADR)",
            "pass artifact=False, or an ADR of version 8 (3 lines)",
        )
    art = _on_cube_bands(ds, vs, found[0], where)
    return transmission, art.assign_attrs(found[0].attrs)


def _on_cube_bands(ds: xr.Dataset, vs: xr.Dataset, spectrum: xr.DataArray, where: str) -> xr.DataArray:
    """``spectrum`` ``(band, sample)`` reindexed on the cube's detector rows (NaN where the ADR lacks one)."""
    spectrum = spectrum.squeeze(drop=True) if "line" in spectrum.dims else spectrum
    if spectrum.sizes.get("sample") != ds.sizes.get("sample"):
        raise ShapeMismatchError(
            where, "LINE_SAMPLES", spectrum.sizes.get("sample"),
            f"{ds.sizes.get('sample')} binned columns, as {_where(ds)}", "choose a VS ADR of the same binning",
        )
    values = np.asarray(spectrum.transpose("band", "sample").values, dtype=np.float64)
    if "detector_row" in ds.coords and "detector_row" in vs.coords:
        position = {int(r): i for i, r in enumerate(vs["detector_row"].values)}
        rows = [position.get(int(r), -1) for r in ds["detector_row"].values]
        values = np.where(np.array(rows)[:, None] >= 0, values[np.array(rows)], np.nan)
    elif values.shape[0] != ds.sizes["band"]:
        raise ShapeMismatchError(where, "BANDS", values.shape[0], f"{ds.sizes['band']} bands, as {_where(ds)}")
    coords = {"band": ds["band"].values} if "band" in ds.coords else None
    return xr.DataArray(values, dims=("band", "sample"), coords=coords, attrs=dict(spectrum.attrs))


