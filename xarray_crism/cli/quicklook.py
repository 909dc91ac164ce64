"""Quick looks (``xarray-crism show --png``): a colour or grey image of a product, right side up, and its spectrum.

What is drawn:

- **Bands.** CRISM cubes: the first colour composite of :data:`COMPOSITES` whose three wavelengths
  each have a good band within :data:`MATCH_NM` (the CRISM team's browse products: ``TRU`` enhanced
  true colour on VNIR, ``FAL`` false colour on IR), else the good band nearest 770 nm (VNIR) or
  1330 nm (IR). Mastcam-Z: a debayered product's R, G, B (by wavelength); a raw Bayer mosaic or one
  filter, the single band in grey (the mosaic as stored, every pixel its own colour filter).
- **Good bands.** A band is left out when its wavelength is unknown (NaN), fewer than half its
  pixels are finite, a ``bad_band`` coordinate flags it (TER/MTRDR), or, for reflectance variables
  (``i_over_f``, ``lambert_albedo``), any value lies outside :data:`PLAUSIBLE` (the detector-edge bands
  of an IR TRDR reach I/F -47,545 at 3,937 nm). The right panel is the mean spectrum of the good bands.
- **Orientation.** Sensor-space images have ``line``/``sample`` without coordinates (see the data model
  page); line 0 is the first line acquired and is drawn at the top (``yincrease=False``), as image
  viewers and GDAL draw it. Map-projected products have a descending ``y`` and are drawn north up.
- **Stretch.** Each channel from its 2nd to 98th percentile over the finite pixels; pixels without data are black.

The PNG carries what was drawn as text chunks: ``xarray_crism:variable``, ``xarray_crism:bands`` (band
indices), ``xarray_crism:wavelengths`` and ``xarray_crism:image_box`` (the image's pixel box in the PNG,
``left,top,right,bottom``, top row first), so a script (and the tests) can check it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr

__all__ = ["COMPOSITES", "MATCH_NM", "PLAUSIBLE", "QuickLook", "build_quicklook", "find_good_bands", "write_quicklook"]

#: Colour composites tried in order: name and (red, green, blue) wavelengths in nm.
COMPOSITES: tuple[tuple[str, tuple[float, float, float]], ...] = (
    ("TRU (enhanced true colour)", (592.0, 533.0, 442.0)),
    ("FAL (false colour)", (2529.0, 1506.0, 1080.0)),
)
#: How far (nm) a good band may be from a composite's wavelength.
MATCH_NM = 15.0
#: Grey-image wavelengths (nm) when no composite fits: VNIR, then IR.
GREY_NM = (770.0, 1330.0)
#: Plausible value ranges of reflectance variables; a band with any value outside is left out.
PLAUSIBLE = {"i_over_f": (-0.05, 2.0), "lambert_albedo": (-0.05, 2.0)}


@dataclass(frozen=True)
class QuickLook:
    """What a quick look shows: the variable, the bands (1 or 3, R G B), their wavelengths, the title."""

    variable: str
    bands: tuple[int, ...]
    wavelengths: tuple[float, ...]
    title: str
    good: np.ndarray


def build_quicklook(ds: xr.Dataset) -> QuickLook:
    """Choose the variable and the bands of a quick look (see the module docstring)."""
    name = _cube_name(ds)
    cube = ds[name]
    good = find_good_bands(cube)
    wavelength = _wavelengths(cube)
    if not good.any():
        good = np.ones(cube.sizes["band"], dtype=bool)  # nothing passes: show what there is rather than nothing
    bands, label = _choose_bands(wavelength, good)
    if "cfa_type" in ds.attrs and not np.isfinite(wavelength).any():
        label = f"raw Bayer mosaic ({ds.attrs['cfa_type']})"
    title = f"{ds.attrs.get('product_id', name)}\n{label}"
    return QuickLook(name, bands, tuple(float(wavelength[b]) for b in bands), title, good)


def find_good_bands(cube: xr.DataArray) -> np.ndarray:
    """A boolean per band: known wavelength (when there are wavelengths), mostly finite, plausible values."""
    values = np.asarray(cube.transpose("band", ...).values, dtype=np.float64)
    flat = values.reshape(values.shape[0], -1)
    finite = np.isfinite(flat)
    good = finite.mean(axis=1) >= 0.5
    if "wavelength" in cube.coords:
        good &= np.isfinite(np.asarray(cube["wavelength"].values, dtype=np.float64))
    if "bad_band" in cube.coords:
        good &= ~np.asarray(cube["bad_band"].values, dtype=bool)
    low, high = PLAUSIBLE.get(str(cube.name), (-np.inf, np.inf))
    with np.errstate(invalid="ignore"):
        inside = np.where(finite, (flat >= low) & (flat <= high), True).all(axis=1)
    return np.asarray(good & inside)


def _cube_name(ds: xr.Dataset) -> str:
    for name, var in ds.data_vars.items():
        if var.dims[:1] == ("band",) and var.ndim == 3:
            return str(name)
    raise ValueError("no (band, line, sample) or (band, y, x) variable to draw")


def _wavelengths(cube: xr.DataArray) -> np.ndarray:
    if "wavelength" in cube.coords:
        return np.asarray(cube["wavelength"].values, dtype=np.float64)
    return np.full(cube.sizes["band"], np.nan)


def _choose_bands(wavelength: np.ndarray, good: np.ndarray) -> tuple[tuple[int, ...], str]:
    """(bands, label): a composite, the R G B of a three-band colour product, or one grey band."""
    if not np.isfinite(wavelength[good]).any():
        band = int(np.flatnonzero(good)[0])
        return (band,), f"band {band}"
    if good.sum() == 3 == len(good):  # a debayered colour product: red first
        order = tuple(int(b) for b in np.argsort(-wavelength))
        return order, "R G B " + "/".join(f"{wavelength[b]:g}" for b in order) + " nm"
    for label, targets in COMPOSITES:
        bands = [_nearest_good(wavelength, good, t) for t in targets]
        if all(b is not None for b in bands):
            chosen = tuple(int(b) for b in bands if b is not None)
            return chosen, f"{label} " + "/".join(f"{wavelength[b]:.0f}" for b in chosen) + " nm"
    grey = _nearest_good(wavelength, good, GREY_NM[0] if np.nanmin(wavelength[good]) < 1000 else GREY_NM[1], np.inf)
    assert grey is not None  # some good band has a finite wavelength (checked above)
    return (grey,), f"{wavelength[grey]:.0f} nm"


def _nearest_good(wavelength: np.ndarray, good: np.ndarray, target: float, within: float = MATCH_NM) -> int | None:
    distance = np.where(good & np.isfinite(wavelength), np.abs(wavelength - target), np.inf)
    best = int(np.argmin(distance))
    return best if distance[best] <= within else None


def build_image(cube: xr.DataArray, bands: tuple[int, ...]) -> xr.DataArray:
    """The chosen bands stretched to 0-1 (2-98 percentiles per band), band last for RGB; no data is black (0)."""
    image = cube.isel(band=list(bands)).astype(np.float64)
    low = image.quantile(0.02, dim=[d for d in image.dims if d != "band"], skipna=True)
    high = image.quantile(0.98, dim=[d for d in image.dims if d != "band"], skipna=True)
    stretched = ((image - low) / (high - low).where(high > low, 1.0)).clip(0.0, 1.0).fillna(0.0).drop_vars("quantile")
    return stretched.isel(band=0) if len(bands) == 1 else stretched.transpose(..., "band")


def write_quicklook(ds: xr.Dataset, path: str) -> QuickLook:
    """Draw the quick look of ``ds`` (image right side up, mean spectrum of the good bands) to a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    look = build_quicklook(ds)
    cube = ds[look.variable]
    spectral = bool(np.isfinite(_wavelengths(cube)).sum() > 3)
    fig, axes = plt.subplots(1, 2 if spectral else 1, figsize=(11 if spectral else 6, 4.5), squeeze=False)
    artist = _draw_image(axes[0][0], build_image(cube, look.bands), look)
    if spectral:
        _draw_spectrum(axes[0][1], cube, look)
    fig.tight_layout()
    fig.canvas.draw()
    fig.savefig(path, dpi=fig.dpi, metadata=_png_metadata(fig, artist, look))
    plt.close(fig)
    return look


def _draw_image(ax: Any, image: xr.DataArray, look: QuickLook) -> Any:
    """imshow with line 0 (or north) at the top; grey for one band."""
    grey = {"cmap": "gray", "add_colorbar": False, "interpolation": "antialiased", "interpolation_stage": "data"}
    options: dict[str, Any] = {"rgb": "band"} if "band" in image.dims else grey  # grey: average pixels when shrinking
    artist = image.plot.imshow(ax=ax, yincrease="y" in image.dims, vmin=0.0, vmax=1.0, **options)
    ax.set_title(look.title, fontsize=9)
    ax.set_aspect("equal")
    return artist


def _draw_spectrum(ax: Any, cube: xr.DataArray, look: QuickLook) -> None:
    spatial = [d for d in cube.dims if d != "band"]
    spectrum = cube.isel(band=np.flatnonzero(look.good)).mean(spatial).sortby("wavelength")
    ax.plot(spectrum["wavelength"].values, spectrum.values, ".", markersize=3, color="k")
    for colour, wavelength in zip(("r", "g", "b") if len(look.bands) == 3 else ("k",), look.wavelengths, strict=True):
        ax.axvline(wavelength, color=colour, alpha=0.5)
    ax.set_xlabel("wavelength (nm)")
    ax.set_ylabel(f"mean {look.variable} ({int(look.good.sum())} good of {look.good.size} bands)")


def _png_metadata(fig: Any, artist: Any, look: QuickLook) -> dict[str, str]:
    box = artist.get_window_extent(fig.canvas.get_renderer())
    height = fig.bbox.height
    return {
        "xarray_crism:variable": look.variable,
        "xarray_crism:bands": ",".join(map(str, look.bands)),
        "xarray_crism:wavelengths": ",".join(f"{w:.4f}" for w in look.wavelengths),
        "xarray_crism:image_box": f"{box.x0:.1f},{height - box.y1:.1f},{box.x1:.1f},{height - box.y0:.1f}",
    }
