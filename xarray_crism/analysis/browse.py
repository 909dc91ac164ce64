"""CRISM browse products: three summary parameters as an RGB image (Viviano-Beck et al. 2014, Table 3).

:data:`BROWSE_PRODUCTS` is the recipe table (name -> red, green, blue parameters), as in JCAT's
``MTRDRBrowseProducts`` and the MTRDR browse products. :func:`browse` computes the parameters (or reads
them from an MTRDR SU Dataset that has them as variables) and stretches each channel linearly between
its limits:

- ``stretch="mtrdr"`` (default): uint8, 1..255 from the lower to the upper limit (clipped), 0 where the
  parameter is NaN; the limits are reported as the MTRDR browse labels do (``mro_red_stretch_minimum``,
  ``mro_red_stretch_maximum``, ... attributes);
- ``stretch="percentile"``: float32 in [0, 1], NaN kept.

Limits are ``limits={"R": (lo, hi), ...}`` when given (lazy result), else each channel's
``percentiles`` (default 1 and 99) of its finite values (the three parameters are computed once for that).
The result has dims ``(line, sample, rgb)`` and plots with ``.plot.imshow()``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import xarray as xr

from ..errors import LabelValueError
from .provenance import with_provenance
from .summary import summary

__all__ = ["BROWSE_PRODUCTS", "browse", "stretch_channel"]

#: Browse product -> (red, green, blue) summary parameters.
BROWSE_PRODUCTS: dict[str, tuple[str, str, str]] = {
    "TRU": ("R600", "R530", "R440"), "VNA": ("R770", "R770", "R770"), "FEM": ("BD530_2", "SH600_2", "BDI1000VIS"),
    "FM2": ("BD530_2", "BD920_2", "BDI1000VIS"), "TAN": ("R2529", "R1330", "R770"), "IRA": ("R1330", "R1330", "R1330"),
    "FAL": ("R2529", "R1506", "R1080"), "MAF": ("OLINDEX3", "LCPINDEX2", "HCPINDEX2"),
    "HYD": ("SINDEX2", "BD2100_2", "BD1900_2"), "PHY": ("D2300", "D2200", "BD1900R2"),
    "PFM": ("BD2355", "D2300", "BD2290"), "PAL": ("BD2210_2", "BD2190", "BD2165"),
    "HYS": ("MIN2250", "BD2250", "BD1900R2"), "ICE": ("BD1900_2", "BD1500_2", "BD1435"),
    "IC2": ("R3920", "BD1500_2", "BD1435"), "CHL": ("ISLOPE1", "BD3000", "IRR2"),
    "CAR": ("D2300", "BD2500_2", "BD1900_2"), "CR2": ("MIN2295_2480", "MIN2345_2537", "CINDEX2"),
}

_CHANNELS = ("R", "G", "B")
_LABEL_CHANNELS = {"R": "red", "G": "green", "B": "blue"}


def browse(
    ds: xr.Dataset, name: str, *, stretch: str = "mtrdr", limits: Mapping[str, tuple[float, float]] | None = None,
    percentiles: tuple[float, float] = (1.0, 99.0), **summary_options: object,
) -> xr.DataArray:
    """The browse product ``name`` of a CRISM cube (or of an MTRDR SU Dataset) as an RGB DataArray."""
    where = str(ds.attrs.get("product_id", "<dataset>"))
    recipe = BROWSE_PRODUCTS.get(name.upper())
    if recipe is None:
        raise LabelValueError(where, "name", name, f"one of {sorted(BROWSE_PRODUCTS)}")
    if stretch not in ("mtrdr", "percentile"):
        raise LabelValueError(where, "stretch", stretch, "'mtrdr' (uint8) or 'percentile' (float in [0, 1])")
    channels = _parameters(ds, recipe, summary_options)
    if limits is None:
        channels = [c.compute() for c in channels]
    bounds = {ch: _limits(c, ch, limits, percentiles) for ch, c in zip(_CHANNELS, channels, strict=True)}
    planes = [stretch_channel(c, *bounds[ch], uint8=stretch == "mtrdr") for ch, c in zip(_CHANNELS, channels, strict=True)]
    rgb = xr.concat(planes, dim="rgb", coords="minimal", compat="override").assign_coords(rgb=list(_CHANNELS))
    rgb = rgb.transpose(..., "rgb")
    rgb.name = name.upper()
    rgb.attrs = {"long_name": f"CRISM {name.upper()} browse product", "stretch": stretch,
                 **{f"{_LABEL_CHANNELS[ch]}_parameter": p for ch, p in zip(_CHANNELS, recipe, strict=True)},
                 **{f"mro_{_LABEL_CHANNELS[ch]}_stretch_minimum": float(bounds[ch][0]) for ch in _CHANNELS},
                 **{f"mro_{_LABEL_CHANNELS[ch]}_stretch_maximum": float(bounds[ch][1]) for ch in _CHANNELS},
                 "product_id": where}
    return with_provenance(rgb, "browse", name=name.upper(), stretch=stretch, limits=bounds)


def _parameters(ds: xr.Dataset, recipe: tuple[str, str, str], options: Mapping[str, object]) -> list[xr.DataArray]:
    """The three channels: variables of an SU Dataset when all are there, else computed by :func:`.summary.summary`."""
    if all(p.lower() in ds.data_vars for p in recipe):
        return [ds[p.lower()] for p in recipe]
    params = summary(ds, list(dict.fromkeys(recipe)), **options)  # type: ignore[arg-type]
    return [params[p.lower()] for p in recipe]


def _limits(
    channel: xr.DataArray, ch: str, limits: Mapping[str, tuple[float, float]] | None, percentiles: tuple[float, float]
) -> tuple[float, float]:
    if limits is not None:
        low, high = limits[ch]
        return float(low), float(high)
    values = np.asarray(channel.values, dtype=float)
    finite = values[np.isfinite(values)]
    if not finite.size:
        return 0.0, 1.0
    low, high = np.percentile(finite, percentiles)
    return float(low), float(high) if high > low else float(low) + 1.0


def stretch_channel(channel: xr.DataArray, low: float, high: float, *, uint8: bool) -> xr.DataArray:
    """Linear stretch of ``channel`` from ``low`` to ``high``: uint8 1..255 (0 = NaN) or float [0, 1] (lazy)."""
    scaled = ((channel - low) / (high - low)).clip(0.0, 1.0)
    if not uint8:
        return scaled.astype(np.float32)
    return (1.0 + (254.0 * scaled).round()).fillna(0.0).astype(np.uint8)
