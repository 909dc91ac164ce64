"""Mastcam-Z RAD products of the corpus (attached ODL header), checked against GDAL and the label."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import rasterio
import xarray as xr

from xarray_crism.labels.headers import build_vicar_image_keywords, parse_vicar_label
from xarray_crism.testing.pds4 import write_mastcamz_img

from .conftest import CORPUS

MCZ = CORPUS / "mastcamz"
RADS = sorted((MCZ / "rad").glob("*.IMG"))
DEBAYERED = [p for p in RADS if "ZCAM03014" in p.name]
RAW_BAYER = [p for p in RADS if "ZCAM03014" not in p.name]


def _gdal(path: Path) -> tuple[np.ndarray, float, float, float | None]:
    with rasterio.open(path) as src:
        return src.read(), src.scales[0], src.offsets[0], src.nodata


def _header(path: Path) -> str:
    return path.read_bytes()[:40_000].decode("latin-1")


@pytest.mark.parametrize("path", RADS, ids=lambda p: p.name[:30])
def test_raw_values_equal_gdal(path: Path) -> None:
    ds = xr.open_dataset(path, engine="crism", mask_and_scale=False)
    expected, *_ = _gdal(path)
    assert ds.radiance.dtype == np.int16
    np.testing.assert_array_equal(ds.radiance.values, expected)
    # SAMPLE_BIT_MASK (12 bits) is not applied: calibrated DN use the whole int16 range.
    assert int(ds.radiance.max()) > 4095


@pytest.mark.parametrize("path", RADS, ids=lambda p: p.name[:30])
def test_scaled_values_are_dn_times_scale_plus_offset(path: Path) -> None:
    ds = xr.open_dataset(path, engine="crism")
    dn, scale, offset, nodata = _gdal(path)
    assert nodata == 0
    header = _header(path)
    assert scale == float(re.search(r"\n\s*SCALING_FACTOR\s*=\s*(\S+)", header)[1])  # type: ignore[index]
    expected = np.where(dn == 0, np.nan, dn * np.float64(scale) + np.float64(offset))
    np.testing.assert_array_equal(ds.radiance.values, expected)
    assert ds.radiance.attrs["units"] == "W m-2 sr-1 nm-1"
    assert np.isnan(ds.radiance.values).sum() == (dn == 0).sum() > 0


@pytest.mark.parametrize("path", DEBAYERED, ids=lambda p: p.name[:3])
def test_debayered_wavelengths_from_label(path: Path) -> None:
    ds = xr.open_dataset(path, engine="crism")
    eye = path.name[1]
    red = {"L": 630, "R": 631}[eye]
    np.testing.assert_array_equal(ds.wavelength.values, [red, 544, 480])
    assert ds.wavelength.attrs["source"] == "label CENTER_FILTER_WAVELENGTH"
    assert list(ds.filter_name.values) == [f"{eye}0R", f"{eye}0G", f"{eye}0B"]
    np.testing.assert_array_equal(ds.bandwidth.values, {"L": [43, 41, 46], "R": [43, 42, 46]}[eye])
    assert float(ds.radiance.sel(wavelength=544, method="nearest").mean()) > 0


def test_attributes_from_the_header() -> None:
    path = MCZ / "rad" / "ZL0_0711_0730054943_723RAD_N0332864ZCAM03014_048085A02.IMG"
    attrs = xr.open_dataset(path, engine="crism").attrs
    assert attrs["eye"] == "left"
    assert attrs["sol"] == 711
    assert attrs["local_mean_solar_time"] == "Sol-00711M11:22:38.419"
    assert attrs["spacecraft_clock_start_count"] == "730054951.625"
    assert attrs["solar_longitude"] == 26.2951
    assert attrs["zoom_position"] == 3834
    assert attrs["focal_length_mm"] == 48.0
    assert attrs["filter_number"] == 0 and attrs["filter_label_name"] == "ZCAM_L0_RGB"
    assert attrs["camera_model_type"] == "CAHVOR"
    assert attrs["camera_model_c"] == [0.735955, 0.675226, -1.96284]
    assert attrs["camera_model_r"] == [-0.000260366, -0.468178, 1.5469]
    assert attrs["rover_motion_counter"] == [33, 2864, 12, 0, 0, 0, 342, 204, 0, 0]
    assert attrs["product_id"] == "ZL0_0711_0730054943_723RAD_N0332864ZCAM03014_048085A02"
    label = attrs["pds_label"]
    assert label.startswith("ODL_VERSION_ID") and label.rstrip().endswith("END") and "LBLSIZE" not in label


@pytest.mark.parametrize("path", RAW_BAYER, ids=lambda p: p.name[:3])
def test_raw_bayer_kept_as_mosaic(path: Path) -> None:
    ds = xr.open_dataset(path, engine="crism")
    assert ds.radiance.shape == (1, 1200, 1648)
    assert "wavelength" not in ds.coords
    assert ds.attrs["cfa_type"] == "BAYER_RGGB" and ds.attrs["bayer_method"] == "RAW_BAYER"
    assert "bayer='split'" in ds.attrs["wavelength_note"]


@pytest.mark.parametrize("path", RAW_BAYER, ids=lambda p: p.name[:3])
def test_bayer_split_planes(path: Path) -> None:
    (dn,), scale, offset, _ = _gdal(path)
    ds = xr.open_dataset(path, engine="crism", bayer="split")
    assert ds.radiance.shape == (3, 600, 824)
    red = {"L": 630, "R": 631}[path.name[1]]
    np.testing.assert_array_equal(ds.wavelength.values, [red, 544, 480])
    dn = dn.astype(np.float64)
    g1, g2 = dn[0::2, 1::2], dn[1::2, 0::2]
    green = np.where((g1 == 0) | (g2 == 0), 0, (g1 + g2) / 2)
    for band, plane in enumerate((dn[0::2, 0::2], green, dn[1::2, 1::2])):
        expected = np.where(plane == 0, np.nan, plane * scale + offset)
        np.testing.assert_allclose(ds.radiance[band].values, expected, rtol=1e-12, equal_nan=True)
    # A window reads the same values as the whole plane.
    window = ds.radiance.isel(band=[2, 0], line=slice(101, 140, 3), sample=[5, 800, 7]).values
    np.testing.assert_array_equal(window, ds.radiance.values[[2, 0]][:, 101:140:3][:, :, [5, 800, 7]])
    point = float(ds.radiance.isel(band=1, line=300, sample=400))
    assert point == ds.radiance.values[1, 300, 400] and not np.isnan(point)


@pytest.mark.parametrize("path", RADS, ids=lambda p: p.name[:30])
def test_vicar_header_agrees_with_odl(path: Path) -> None:
    header = _header(path)
    record_bytes = int(re.search(r"RECORD_BYTES\s*=\s*(\d+)", header)[1])  # type: ignore[index]
    start = int(re.search(r"\^IMAGE_HEADER\s*=\s*(\d+)", header)[1])  # type: ignore[index]
    vicar_bytes = int(re.search(r"\n\s*BYTES\s*=\s*(\d+)", header)[1])  # type: ignore[index]
    raw = path.read_bytes()[(start - 1) * record_bytes:(start - 1) * record_bytes + vicar_bytes]
    vicar = parse_vicar_label(raw.decode("latin-1"), path.name)
    keywords = build_vicar_image_keywords(vicar)
    ds = xr.open_dataset(path, engine="crism")
    bands, lines, samples = ds.radiance.shape if "wavelength" in ds else (1, *ds.radiance.shape[1:])
    assert keywords["LINES"] == lines and keywords["LINE_SAMPLES"] == samples and keywords["BANDS"] == bands
    assert (keywords["SAMPLE_TYPE"], keywords["SAMPLE_BITS"]) == ("MSB_INTEGER", 16)
    assert vicar["LBLSIZE"] == vicar_bytes


def test_image_keywords_missing_from_odl_come_from_vicar(tmp_path: Path) -> None:
    data = (np.arange(3 * 6 * 8).reshape(3, 6, 8) + 1).astype(">i2")
    pid = "ZR0_0711_0730060638_443IOF_N0332864ZCAM03014_048085A01"
    path = write_mastcamz_img(tmp_path / f"{pid}.IMG", DEBAYERED[1], data, product_id=pid)
    raw = bytearray(path.read_bytes())
    image = raw.index(b"OBJECT                            = IMAGE\r\n")
    for keyword in (b"LINES", b"LINE_SAMPLES", b"SAMPLE_TYPE", b"SAMPLE_BITS"):
        m = re.compile(rb"\r\n(  " + keyword + rb" *= *\w+)\r\n").search(raw, image)
        assert m is not None
        raw[m.start(1):m.end(1)] = b" " * len(m[1])  # same length: offsets unchanged
    path.write_bytes(bytes(raw))
    ds = xr.open_dataset(path, engine="crism", mask_and_scale=False)
    np.testing.assert_array_equal(ds.i_over_f.values, data)
