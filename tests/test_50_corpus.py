"""Layer 5: the real corpus products, checked against GDAL and the calibration files themselves."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import rasterio
import xarray as xr

from xarray_crism.model.read import read_product

from .conftest import CRISM, TRDRS

WA = {"L": CRISM / "cdr" / "CDR450924300802_WA0300000L_3.LBL", "S": CRISM / "cdr" / "CDR450924300802_WA0300000S_2.LBL"}


def _gdal(label: Path) -> np.ndarray:
    with rasterio.open(label) as src:
        return src.read()


@pytest.mark.parametrize("label", TRDRS, ids=lambda p: p.name)
def test_values_match_gdal_bit_for_bit(label: Path) -> None:
    ds = xr.open_dataset(label, mask_and_scale=False)  # engine guessed from the .lbl suffix
    cube = ds.i_over_f.values
    expected = _gdal(label)
    assert cube.shape == expected.shape
    np.testing.assert_array_equal(cube.view(np.uint32), expected.view(np.uint32))


@pytest.mark.parametrize("label", TRDRS, ids=lambda p: p.name)
def test_fill_value_becomes_nan_and_nothing_else(label: Path) -> None:
    raw = _gdal(label)
    masked = xr.open_dataset(label, engine="crism").i_over_f.values
    np.testing.assert_array_equal(np.isnan(masked), raw == 65535.0)
    np.testing.assert_array_equal(masked[raw != 65535.0], raw[raw != 65535.0])


@pytest.mark.parametrize("label", TRDRS, ids=lambda p: p.name)
def test_wavelengths_come_from_the_wa_cdr_named_by_the_label(label: Path) -> None:
    ds = xr.open_dataset(label, engine="crism", sidecar_dirs=[CRISM / "cdr"])
    sensor = ds.attrs["sensor"]
    wa, _ = read_product(WA[sensor])
    image = wa.variables["center_wavelength"].data.read((slice(None), 0, slice(None)))
    np.testing.assert_array_equal(np.nan_to_num(ds.pixel_wavelength.values, nan=65535.0), image)
    columns = {"L": slice(27, 37), "S": slice(26, 36)}[sensor]  # unbinned 270-369 / 260-359, binned 10x
    block = np.where(image[:, columns] == 65535.0, np.nan, image[:, columns].astype(np.float64))
    with np.errstate(all="ignore"):
        expected = np.nanmean(block, axis=1)
    np.testing.assert_allclose(ds.wavelength.values, expected, rtol=0, atol=1e-9)
    assert ds.wavelength.attrs["source"].startswith(WA[sensor].stem)
    np.testing.assert_array_equal(ds.detector_row.values, wa.coords["detector_row"].data.read((slice(None),)))


@pytest.mark.parametrize("label", TRDRS, ids=lambda p: p.name)
def test_sw_table_of_the_right_epoch_is_preferred(label: Path) -> None:
    ds = xr.open_dataset(label, engine="crism", sidecar_dirs=[CRISM / "cdr6", CRISM / "cdr"])
    sensor = ds.attrs["sensor"]
    assert ds.wavelength.attrs["source"].startswith(f"CDR6_5_0924300802_SW_{sensor}")
    version = "3" if sensor == "L" else "2"
    table = np.loadtxt(CRISM / "cdr6" / f"cdr6_5_0924300802_sw_{sensor.lower()}_{version}.tab", delimiter=",")
    lookup = dict(zip(table[:, 0].astype(int), table[:, 1], strict=True))
    expected = np.array([lookup[r] if lookup[r] != 65535.0 else np.nan for r in ds.detector_row.values])
    np.testing.assert_array_equal(ds.wavelength.values, expected)
    wa_mean = xr.open_dataset(label, engine="crism", sidecar_dirs=[CRISM / "cdr"]).wavelength.values
    assert np.nanmax(np.abs(wa_mean - expected)) < 0.006  # the SW table is the WA mean rounded to 0.01 nm


def test_opened_alone_a_trdr_gets_the_shipped_table(tmp_path: Path) -> None:
    for suffix in (".lbl", ".img"):
        shutil.copy(TRDRS[0].with_suffix(suffix), tmp_path)
    ds = xr.open_dataset(tmp_path / TRDRS[0].name, engine="crism")
    assert "pixel_wavelength" not in ds.coords
    assert "shipped with xarray-crism" in ds.wavelength.attrs["source"]
    with_wa = xr.open_dataset(TRDRS[0], engine="crism", sidecar_dirs=[CRISM / "cdr"])
    np.testing.assert_allclose(ds.wavelength.values, with_wa.wavelength.values, atol=1e-4)


def test_data_model_of_a_trdr() -> None:
    ds = xr.open_dataset(CRISM / "trdr" / "frt0001458f_01_if156l_trr3.lbl", engine="crism")
    assert ds.i_over_f.dims == ("band", "line", "sample")
    assert ds.sizes == {"band": 438, "line": 15, "sample": 64}
    assert ds.i_over_f.attrs["units"] == "1"
    assert ds.i_over_f.encoding["_FillValue"] == 65535.0
    assert ds.attrs["product_id"] == "FRT0001458F_01_IF156L_TRR3"
    assert ds.attrs["observation_id"] == "0001458F" and ds.attrs["sensor"] == "L"
    label = (CRISM / "trdr" / "frt0001458f_01_if156l_trr3.lbl").read_bytes().decode("latin-1")
    assert ds.attrs["pds_label"] == label.replace("\r\n", "\n")  # every line; line ends made \n (issue 19)
    assert ds.attrs["missing_sidecars"] == [  # the label's housekeeping table and its format, and its WA CDR
        "FRT0001458F_01_RA156L_HKP3.TAB", "TRDRHK.FMT", "CDR450924300802_WA0300000L_3.IMG",
    ]
    json.dumps(ds.attrs)
    for var in ds.variables.values():
        json.dumps(var.attrs)
    spectrum = ds.i_over_f.isel(line=7, sample=30)
    assert spectrum.dims == ("band",) and "wavelength" in spectrum.coords
    image = ds.i_over_f.sel(band=int(ds.wavelength.argmin("band")))
    assert image.dims == ("line", "sample") and float(image.wavelength) == pytest.approx(float(ds.wavelength.min()))


def test_wa_cdr_opens_as_a_product() -> None:
    ds = xr.open_dataset(WA["L"], engine="crism")
    assert ds.center_wavelength.dims == ("band", "line", "sample")
    assert ds.center_wavelength.attrs["units"] == "nm"
    assert ds.wavelength.attrs["source"].startswith("CDR450924300802_WA0300000L_3")


def test_cdr6_sw_table_opens_on_row() -> None:
    ds = xr.open_dataset(CRISM / "cdr6" / "cdr6_5_0924300802_sw_l_3.lbl", engine="crism")
    assert ds.sampl_wav.dims == ("row",) and ds.sizes["row"] == 480
    assert np.isnan(ds.sampl_wav.values[0]) and ds.sampl_wav.values[1] == 3936.82
    np.testing.assert_array_equal(ds.rownum.values, np.arange(480))
