"""``xarray-crism show --png`` on the shipped real samples: right side up, sensible bands, no bad band."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from PIL import Image

import xarray_crism
from xarray_crism.cli.quicklook import PLAUSIBLE, build_image, find_good_bands

EXPECTED = {  # sample -> (variable, band indices drawn, their wavelengths in nm, rounded)
    "vnir_trdr": ("i_over_f", [35, 26, 12], [592, 534, 443]),
    "ir_trdr": ("i_over_f", [205, 360, 425], [2530, 1507, 1080]),
    "mastcamz_rgb": ("radiance", [0, 1, 2], [630, 544, 480]),
    "mastcamz_raw": ("radiance", [0], [None]),
}


def _show(name: str, png: Path) -> dict[str, str]:
    run = subprocess.run([sys.executable, "-m", "xarray_crism.cli", "show", xarray_crism.sample_path(name), "--png", str(png)],
                         capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stderr
    return dict(Image.open(png).text)


def _blocks(image: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """``image`` (rows, columns, RGB) averaged over a grid of ``shape`` blocks (NaN ignored)."""
    rows = np.array_split(np.arange(image.shape[0]), shape[0])
    cols = np.array_split(np.arange(image.shape[1]), shape[1])
    return np.array([[np.nanmean(image[np.ix_(r, c)], axis=(0, 1)) for c in cols] for r in rows])


def _drawn(png: Path, box: str) -> np.ndarray:
    """The image area of the PNG (one pixel in from the axes' frame): (row, column, RGB) in 0-1, top row first."""
    x0, y0, x1, y1 = (float(v) for v in box.split(","))
    left, top, right, bottom = math.ceil(x0) + 1, math.ceil(y0) + 1, math.floor(x1) - 1, math.floor(y1) - 1
    return np.asarray(Image.open(png).convert("RGB"), dtype=np.float64)[top:bottom, left:right] / 255.0


@pytest.mark.parametrize("name", list(EXPECTED))
def test_quick_look_is_right_side_up_and_shows_good_bands(name: str, tmp_path: Path) -> None:
    png = tmp_path / f"{name}.png"
    meta = _show(name, png)
    variable, bands, wavelengths = EXPECTED[name]
    assert meta["xarray_crism:variable"] == variable
    assert [int(b) for b in meta["xarray_crism:bands"].split(",")] == bands
    got = [None if w == "nan" else round(float(w)) for w in meta["xarray_crism:wavelengths"].split(",")]
    assert got == wavelengths
    ds = xr.open_dataset(xarray_crism.sample_path(name), engine="crism")
    cube = ds[variable]
    expected = build_image(cube, tuple(bands)).values
    expected = expected[..., None].repeat(3, axis=2) if expected.ndim == 2 else expected
    grid = (min(15, cube.sizes["line"]), min(16, cube.sizes["sample"]))  # compare block means: the PNG resamples
    expected = _blocks(expected, grid)
    drawn = _blocks(_drawn(png, meta["xarray_crism:image_box"]), grid)
    scene = np.isfinite(expected).all(axis=2)
    error = np.abs(drawn - expected)[scene].mean()
    flipped = np.abs(drawn[::-1] - expected)[scene[::-1] & scene].mean()
    assert error < 0.05 and flipped > 2 * error  # line 0 is the top row: the upside-down image is far off
    top, bottom = (np.abs(drawn[0] - expected[row])[scene[0] & scene[row]].mean() for row in (0, -1))
    assert top < 0.08 and bottom > 2 * top  # the PNG's first image row is line 0, not the last line


def test_bad_bands_of_the_ir_trdr_are_never_chosen() -> None:
    cube = xr.open_dataset(xarray_crism.sample_path("ir_trdr"), engine="crism").i_over_f
    good = find_good_bands(cube)
    values = cube.values
    low, high = PLAUSIBLE["i_over_f"]
    assert np.flatnonzero(~good).tolist() == [0, 1, 2, 3]  # NaN wavelength, then 3937, 3930, 3923 nm
    assert float(np.nanmin(values[1])) < -47_000  # what the old quick look plotted
    assert all(np.isfinite(values[b]).mean() >= 0.5 and low <= np.nanmin(values[b]) <= np.nanmax(values[b]) <= high
               for b in np.flatnonzero(good))
