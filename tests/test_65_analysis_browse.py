"""Layer 6 analysis: browse products (each channel a monotonic stretch of its parameter), ratios,
despiking and mean spectra, checked against NumPy on the real TRDRs."""

from __future__ import annotations

import shutil
from pathlib import Path

import matplotlib
import numpy as np
import pytest
import xarray as xr

import xarray_crism  # noqa: F401  (registers ds.crism)
from xarray_crism.analysis.browse import BROWSE_PRODUCTS
from xarray_crism.errors import CrismError
from xarray_crism.testing import equirectangular_grid, write_map_product

from .conftest import CRISM

matplotlib.use("Agg")
IR = CRISM / "trdr" / "frt0001458f_01_if156l_trr3.lbl"
VNIR = CRISM / "trdr" / "frt00014679_01_if156s_trr3.lbl"


def _assert_monotonic(parameter: np.ndarray, channel: np.ndarray, uint8: bool) -> None:
    finite = np.isfinite(parameter)
    order = np.argsort(parameter[finite], kind="stable")
    assert np.all(np.diff(channel[finite][order].astype(float)) >= 0)
    if uint8:
        assert np.all(channel[~finite] == 0) and channel[finite].min() >= 1
    else:
        assert np.all(np.isnan(channel[~finite])) and np.nanmin(channel) >= 0 and np.nanmax(channel) <= 1


@pytest.mark.parametrize("name", ["MAF", "HYD", "PHY", "ICE", "CR2", "FAL"])
@pytest.mark.parametrize("stretch", ["mtrdr", "percentile"])
def test_browse_channels_are_monotonic_stretches_of_their_parameters(name: str, stretch: str) -> None:
    ds = xr.open_dataset(IR, engine="crism", chunks={})
    rgb = ds.crism.browse(name, stretch=stretch)
    params = ds.crism.summary(list(BROWSE_PRODUCTS[name])).compute()
    assert rgb.dims == ("line", "sample", "rgb") and rgb.dtype == (np.uint8 if stretch == "mtrdr" else np.float32)
    for i, p in enumerate(BROWSE_PRODUCTS[name]):
        _assert_monotonic(params[p.lower()].values, rgb.values[..., i], stretch == "mtrdr")
    assert rgb.attrs["red_parameter"] == BROWSE_PRODUCTS[name][0]


def test_browse_with_limits_is_lazy_and_follows_the_formula() -> None:
    ds = xr.open_dataset(IR, engine="crism", chunks={})
    limits = {"R": (0.0, 0.1), "G": (0.0, 0.05), "B": (0.0, 0.02)}
    rgb = ds.crism.browse("HYD", limits=limits)
    assert rgb.chunks is not None
    params = ds.crism.summary(["SINDEX2", "BD2100_2", "BD1900_2"]).compute()
    for i, (p, ch) in enumerate(zip(("sindex2", "bd2100_2", "bd1900_2"), "RGB", strict=True)):
        lo, hi = limits[ch]
        v = params[p].values
        expected = np.where(np.isfinite(v), 1 + np.round(254 * np.clip((v - lo) / (hi - lo), 0, 1)), 0)
        np.testing.assert_array_equal(rgb.values[..., i], expected.astype(np.uint8))
    assert rgb.attrs["mro_green_stretch_maximum"] == 0.05
    rgb.plot.imshow()  # ready to plot


def test_browse_of_an_su_dataset_reads_its_variables_and_refusals() -> None:
    ds = xr.open_dataset(IR, engine="crism")
    su = ds.crism.summary()
    np.testing.assert_array_equal(su.crism.browse("MAF").values, ds.crism.browse("MAF").values)
    with pytest.raises(CrismError, match="BD530_2"):
        ds.crism.browse("FEM")  # a VNIR product on an IR cube
    with pytest.raises(CrismError, match="OLINDEX3"):
        xr.open_dataset(VNIR, engine="crism").crism.browse("MAF")
    vnir = xr.open_dataset(VNIR, engine="crism")
    assert vnir.crism.browse("TRU").shape == vnir.crism.browse("FEM").shape == (15, 64, 3)


def test_column_ratios_match_numpy() -> None:
    ds = xr.open_dataset(IR, engine="crism", chunks={})
    cube = ds.i_over_f.values.astype(float)
    with np.errstate(all="ignore"):
        median = np.nanmedian(cube, axis=1, keepdims=True)
    np.testing.assert_allclose(ds.crism.ratio().i_over_f.values, cube / median, rtol=1e-6)
    mask = xr.DataArray(np.zeros((15, 64), bool), dims=("line", "sample"))
    mask[2:5] = True
    bland = ds.crism.ratio("bland", bland=mask).i_over_f.values
    np.testing.assert_allclose(bland, cube / np.nanmean(cube[:, 2:5], axis=1, keepdims=True), rtol=1e-6)
    auto = ds.crism.ratio("bland").i_over_f.values
    assert np.nanmedian(np.abs(auto - 1)) < 0.05  # bland pixels are close to the column's typical spectrum


def test_despike_replaces_spikes_only() -> None:
    ds = xr.open_dataset(IR, engine="crism").crism.good_bands().crism.spectral_order()
    spiked = ds.copy(deep=True)
    spiked["i_over_f"][100, 7, 20] = 5.0
    spiked["i_over_f"][250, 3, 40] = -2.0
    clean = spiked.chunk({"line": 5}).crism.despike(iterations=2).i_over_f.values
    for band, line, sample in [(100, 7, 20), (250, 3, 40)]:
        spectrum = spiked.i_over_f.values[:, line, sample].astype(float)
        np.testing.assert_allclose(clean[band, line, sample], np.nanmedian(spectrum[band - 2: band + 3]), rtol=1e-6)
    before = ds.i_over_f.values
    changed = ~np.isclose(clean, before, equal_nan=True)
    assert changed.sum() < 0.01 * before.size  # the real spectra are left alone almost everywhere


def test_mean_spectra_by_mask_polygon_and_lat_lon() -> None:
    ds = xr.open_dataset(IR, engine="crism")
    cube = ds.i_over_f.values.astype(float)
    mask = xr.DataArray(np.zeros((15, 64), bool), dims=("line", "sample"))
    mask[4:9, 20:30] = True
    got = ds.crism.spectrum(mask=mask)
    np.testing.assert_allclose(got.spectrum.values, np.nanmean(cube[:, 4:9, 20:30], axis=(1, 2)), rtol=1e-5)
    np.testing.assert_array_equal(got["count"].values, np.isfinite(cube[:, 4:9, 20:30]).sum(axis=(1, 2)))
    square = [(19.5, 3.5), (29.5, 3.5), (29.5, 8.5), (19.5, 8.5)]  # (sample, line) vertices
    np.testing.assert_allclose(ds.crism.spectrum(polygon=square).spectrum.values, got.spectrum.values, rtol=1e-6)
    lat, lon = np.meshgrid(np.linspace(-4, -4.1, 15), np.linspace(137.0, 137.2, 64), indexing="ij")
    geo = ds.assign(latitude=(("line", "sample"), lat), longitude=(("line", "sample"), lon))
    at = geo.crism.spectrum(lat=float(lat[6, 33]), lon=float(lon[6, 33]), size=3)
    np.testing.assert_allclose(at.spectrum.values, np.nanmean(cube[:, 5:8, 32:35], axis=(1, 2)), rtol=1e-5)
    with pytest.raises(CrismError, match="ddr='auto'"):
        ds.crism.spectrum(lat=-4.0, lon=137.0)


def test_mean_spectrum_at_map_x_y_of_a_generated_mrdr(tmp_path: Path) -> None:
    label = CRISM / "labels" / "T0897_MRRAL_05S113_0256_1_cropped.LBL"
    wv = CRISM / "labels" / "t0897_mrrwv_05s113_0256_1.tab"
    grid = equirectangular_grid(-2.5, -2.53, 110.0, 110.05, 256, center_latitude=-2.5)
    data = np.random.default_rng(2).random((72, grid.lines, grid.samples), dtype=np.float32)
    shutil.copy(wv, tmp_path / wv.name)
    product = write_map_product(tmp_path, label, "T0897_MRRIF_05S113_0256_1", data, grid,
                                wavelength_file="T0897_MRRWV_05S113_0256_1.TAB")
    ds = xr.open_dataset(product.label, engine="crism")
    x, y = float(ds.x.values[4]) + 10.0, float(ds.y.values[3]) - 10.0  # inside pixel (y=3, x=4)
    got = ds.crism.spectrum(x=x, y=y)
    np.testing.assert_array_equal(got.spectrum.values, data[:, 3, 4])
    assert got["count"].values.tolist() == [1] * 72
