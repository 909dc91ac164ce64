"""Layer 5: ``sel(wavelength=...)`` on the real TRDRs (IR long to short with a NaN band, VNIR short to long).

The oracle is independent of the index: the band wavelengths of the real CDR6 SW table looked up
by each band's detector row, a brute-force search over them, and GDAL's bands for the values.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
import xarray as xr

import xarray_crism
from xarray_crism import SelectionError, WavelengthIndex, set_wavelength_index

from .conftest import CRISM

IR = CRISM / "trdr" / "frt0001458f_01_if156l_trr3.lbl"
VNIR = CRISM / "trdr" / "frt0001458f_01_if156s_trr3.lbl"
SW_TABLES = {"L": "cdr6_5_0924300802_sw_l_3.tab", "S": "cdr6_5_0924300802_sw_s_2.tab"}
SIDECARS = [CRISM / "cdr6", CRISM / "cdr"]
#: Targets per sensor: inside, between bands, at and beyond both ends.
TARGETS = {IR: [1000.0, 1500.5, 2300.0, 3936.9, 4100.0, 500.0], VNIR: [300.0, 364.0, 550.0, 777.7, 1056.0, 2000.0]}


def _open(label: Path, **kwargs: object) -> xr.Dataset:
    return xr.open_dataset(label, engine="crism", sidecar_dirs=SIDECARS, **kwargs)


def _table_wavelengths(ds: xr.Dataset) -> np.ndarray:
    """Each band's wavelength from the real SW table (65535 rows -> NaN), by its detector row."""
    table = np.loadtxt(CRISM / "cdr6" / SW_TABLES[ds.attrs["sensor"]], delimiter=",")
    lookup = dict(zip(table[:, 0].astype(int), table[:, 1], strict=True))
    return np.array([np.nan if lookup[r] == 65535.0 else lookup[r] for r in ds.detector_row.values])


def _nearest(table: np.ndarray, target: float) -> int:
    best, where = np.inf, -1
    for i, w in enumerate(table):
        if not np.isnan(w) and abs(w - target) < best:
            best, where = abs(w - target), i
    return where


def _gdal(label: Path) -> np.ndarray:
    with rasterio.open(label) as src:
        return src.read()


@pytest.fixture(scope="module", params=[IR, VNIR], ids=["IR", "VNIR"])
def trdr(request: pytest.FixtureRequest) -> tuple[Path, xr.Dataset, np.ndarray]:
    ds = _open(request.param, mask_and_scale=False)
    table = _table_wavelengths(ds)
    np.testing.assert_array_equal(ds.wavelength.values, table)  # the SW table is the wavelength source here
    return request.param, ds, table


def test_the_ir_cube_runs_long_to_short_with_a_nan_band() -> None:
    table = _table_wavelengths(_open(IR))
    assert np.isnan(table[0]) and np.isnan(table).sum() == 1
    assert np.all(np.diff(table[1:]) < 0)
    assert isinstance(_open(IR).xindexes["wavelength"], WavelengthIndex)
    assert list(_open(IR).indexes["band"]) == list(range(438))  # band stays the file-order dimension
    np.testing.assert_array_equal(_open(IR).indexes["wavelength"].to_numpy(), table)


def test_nearest_selects_the_band_closest_in_the_table_with_gdal_values(trdr: tuple[Path, xr.Dataset, np.ndarray]) -> None:
    label, ds, table = trdr
    gdal = _gdal(label)
    for target in TARGETS[label]:
        where = _nearest(table, target)
        band = ds.i_over_f.sel(wavelength=target, method="nearest")
        assert int(band.band) == where and float(band.wavelength) == table[where]
        np.testing.assert_array_equal(band.values.view(np.uint32), gdal[where].view(np.uint32))


def test_nan_bands_are_never_selected() -> None:
    ds = _open(IR)
    assert int(ds.sel(wavelength=5000.0, method="nearest").band) == 1  # band 0 (NaN) is not "nearest" to anything
    assert 0 not in ds.sel(wavelength=slice(0, 1e9)).band.values
    assert ds.sel(wavelength=slice(None, None)).sizes["band"] == 437
    with pytest.raises(KeyError, match="NaN bands are never selected"):
        ds.sel(wavelength=np.nan, method="nearest")
    with pytest.raises(KeyError):
        ds.sel(wavelength=np.nan)


def test_slices_in_either_order_select_the_same_bands_in_file_order(trdr: tuple[Path, xr.Dataset, np.ndarray]) -> None:
    _, ds, table = trdr
    for low, high in [(2000.0, 2500.0), (500.0, 600.0), (1000.0, 1050.0), (3000.0, 3000.0)]:
        expected = [i for i, w in enumerate(table) if low <= w <= high]
        for bounds in (slice(low, high), slice(high, low)):
            picked = ds.sel(wavelength=bounds)
            assert list(picked.band.values) == expected
            np.testing.assert_array_equal(picked.wavelength.values, table[expected])
    assert list(ds.sel(wavelength=slice(3500.0, None)).band.values) == [i for i, w in enumerate(table) if w >= 3500.0]
    assert list(ds.sel(wavelength=slice(None, 700.0)).band.values) == [i for i, w in enumerate(table) if w <= 700.0]
    with pytest.raises(SelectionError, match="without a step"):
        ds.sel(wavelength=slice(2000, 2500, 2))


def test_exact_values_and_tolerance(trdr: tuple[Path, xr.Dataset, np.ndarray]) -> None:
    _, ds, table = trdr
    where = int(np.nanargmax(table))
    assert int(ds.sel(wavelength=table[where]).band) == where
    with pytest.raises(KeyError, match="method='nearest'"):
        ds.sel(wavelength=table[where] + 0.001)
    longest = float(np.nanmax(table))
    assert int(ds.sel(wavelength=longest + 3.0, method="nearest", tolerance=3.5).band) == where
    with pytest.raises(KeyError, match=rf"{ds.attrs['product_id']}.*tolerance=2\.5") as raised:
        ds.sel(wavelength=longest + 3.0, method="nearest", tolerance=2.5)
    assert isinstance(raised.value, SelectionError)


def test_pad_and_backfill_take_one_side() -> None:
    ds = _open(IR)
    table = _table_wavelengths(ds)
    target = 2300.0
    below = max(w for w in table if w <= target)
    above = min(w for w in table if w >= target)
    assert float(ds.sel(wavelength=target, method="pad").wavelength) == below
    assert float(ds.sel(wavelength=target, method="backfill").wavelength) == above


def test_a_list_of_wavelengths_keeps_its_order_and_repeats(trdr: tuple[Path, xr.Dataset, np.ndarray]) -> None:
    label, ds, table = trdr
    targets = [TARGETS[label][2], TARGETS[label][0], TARGETS[label][2]]
    picked = ds.i_over_f.sel(wavelength=targets, method="nearest")
    assert list(picked.band.values) == [_nearest(table, t) for t in targets]
    vectorised = ds.sel(wavelength=xr.DataArray(targets, dims="target"), method="nearest")
    assert vectorised.i_over_f.dims == ("target", "line", "sample")
    assert list(vectorised.band.values) == [_nearest(table, t) for t in targets]


def test_selection_after_isel_uses_the_bands_kept(trdr: tuple[Path, xr.Dataset, np.ndarray]) -> None:
    label, ds, table = trdr
    kept = list(range(ds.sizes["band"] - 1, 0, -3))  # every third band, in reverse file order
    subset = ds.isel(band=kept)
    assert isinstance(subset.xindexes["wavelength"], WavelengthIndex)
    for target in TARGETS[label]:
        expected = kept[_nearest(table[kept], target)]
        assert int(subset.sel(wavelength=target, method="nearest").band) == expected
    low, high = sorted((table[kept[5]], table[kept[1]]))
    again = subset.sel(wavelength=slice(table[kept[5]], table[kept[1]]))  # a sel after an isel, then isel again
    assert list(again.band.values) == [b for b in kept if low <= table[b] <= high]
    assert int(again.isel(band=[0, 1]).sel(wavelength=table[again.band.values[1]]).band) == again.band.values[1]
    assert "wavelength" not in ds.isel(band=3).xindexes  # one band kept: a scalar coordinate, no index


def test_dask_chunks_and_load_keep_the_index() -> None:
    eager = _open(IR)
    lazy = _open(IR, chunks={}).chunk({"band": 50})
    picked = lazy.i_over_f.sel(wavelength=slice(2500.0, 2000.0))
    assert picked.chunks is not None
    np.testing.assert_array_equal(picked.values, eager.i_over_f.sel(wavelength=slice(2000.0, 2500.0)).values)
    loaded = lazy.load()
    assert isinstance(loaded.xindexes["wavelength"], WavelengthIndex)
    assert int(loaded.sel(wavelength=2300.0, method="nearest").band) == int(eager.sel(wavelength=2300.0, method="nearest").band)


def test_zarr_round_trip_then_index_set_again(tmp_path: Path) -> None:
    ds = _open(IR, chunks={})
    ds.to_zarr(tmp_path / "ir.zarr")
    stored = xr.open_zarr(tmp_path / "ir.zarr")
    assert "wavelength" not in stored.xindexes  # a store holds the coordinate, not the index
    again = set_wavelength_index(stored)
    xr.testing.assert_identical(again.drop_vars("i_over_f"), ds.drop_vars("i_over_f"))
    for bounds in (slice(2000.0, 2500.0), slice(2500.0, 2000.0)):
        np.testing.assert_array_equal(again.i_over_f.sel(wavelength=bounds).values, ds.i_over_f.sel(wavelength=bounds).values)
    subset = ds.sel(wavelength=[1500.0, 2300.0], method="nearest")
    subset.to_zarr(tmp_path / "two.zarr")
    assert list(set_wavelength_index(xr.open_zarr(tmp_path / "two.zarr")).band.values) == list(subset.band.values)


def test_the_package_converter_keeps_the_wavelengths_for_selection(tmp_path: Path) -> None:
    report = xarray_crism.to_zarr(IR, tmp_path / "conv.zarr", sidecar_dirs=[str(d) for d in SIDECARS], verify=True)
    assert report.ok, report.summary()
    stored = set_wavelength_index(xr.open_zarr(tmp_path / "conv.zarr"))
    source = _open(IR)
    np.testing.assert_array_equal(stored.wavelength.values, source.wavelength.values)
    for target in TARGETS[IR]:
        picked, expected = (d.i_over_f.sel(wavelength=target, method="nearest") for d in (stored, source))
        assert int(picked.band) == int(expected.band)
        np.testing.assert_array_equal(picked.values, expected.values)


def test_opening_reads_no_wavelength_until_a_selection_needs_it() -> None:
    ds = _open(IR)
    index = ds.xindexes["wavelength"]
    assert isinstance(index, WavelengthIndex) and index._values is None
    ds.sel(wavelength=2300.0, method="nearest")
    assert index._values is not None


def test_arithmetic_aligns_subsets_on_bands_and_wavelengths() -> None:
    ds = _open(IR)
    table = _table_wavelengths(ds)
    diff = ds.i_over_f.isel(band=[1, 2, 3]) - ds.i_over_f.isel(band=[2, 3, 4])
    assert list(diff.band.values) == [2, 3]
    np.testing.assert_array_equal(diff.wavelength.values, table[[2, 3]])
    assert isinstance(diff.xindexes["wavelength"], WavelengthIndex)


def test_vnir_and_ir_concatenated_select_across_both() -> None:
    vnir, ir = _open(VNIR), _open(IR)
    both = xr.concat([vnir.drop_vars("detector_row"), ir.drop_vars("detector_row")], dim="band")
    assert isinstance(both.xindexes["wavelength"], WavelengthIndex)
    picked = both.sel(wavelength=[550.0, 2300.0], method="nearest")
    np.testing.assert_array_equal(picked.wavelength.values, [
        float(vnir.sel(wavelength=550.0, method="nearest").wavelength),
        float(ir.sel(wavelength=2300.0, method="nearest").wavelength),
    ])


def test_mastcamz_bands_are_selected_by_filter_wavelength() -> None:
    path = CRISM.parent / "mastcamz" / "rad" / "ZL0_0711_0730054943_723RAD_N0332864ZCAM03014_048085A02.IMG"
    ds = xr.open_dataset(path, engine="crism")
    assert list(ds.wavelength.values) == [630.0, 544.0, 480.0]
    assert int(ds.sel(wavelength=544.0).band) == 1
    assert list(ds.sel(wavelength=slice(640, 500)).band.values) == [0, 1]
    assert int(ds.sel(wavelength=470.0, method="nearest", tolerance=15).band) == 2


def test_an_mtrdr_selects_its_vnir_and_ir_rows_from_the_real_wv_table(tmp_path: Path) -> None:
    from .test_40_map_products import MTRDR_WV, _mtrdr, _real_wv

    label, data, _ = _mtrdr(tmp_path)
    table = _real_wv(MTRDR_WV, "wv_targeted")
    ds = xr.open_dataset(label, engine="crism", mask_and_scale=False)
    assert isinstance(ds.xindexes["wavelength"], WavelengthIndex)
    np.testing.assert_array_equal(ds.wavelength.values, table["wavelength"])
    for target in (440.0, 1000.0, 1030.0, 2300.0):
        where = _nearest(table["wavelength"], target)
        picked = ds.sel(wavelength=target, method="nearest")
        assert int(picked.band) == where
        np.testing.assert_array_equal(picked[next(iter(ds.data_vars))].values, data[where])
    expected = [i for i, w in enumerate(table["wavelength"]) if 1000.0 <= w <= 1100.0]
    assert list(ds.sel(wavelength=slice(1100.0, 1000.0)).band.values) == expected
