"""The nine real VS ADRs of the corpus (volcano-scan atmospheric transmission), checked against GDAL and their files."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import rasterio
import xarray as xr

from xarray_crism.errors import LabelValueError
from xarray_crism.formats.adr import build_line_roles
from xarray_crism.formats.products import KINDS, identify_product
from xarray_crism.model.read import read_product
from xarray_crism.testing import write_adr

from .conftest import CRISM
from .http_server import RangeServer

ADRS = sorted((CRISM / "adr").glob("*.LBL"))
CDR = CRISM / "cdr"
WA_L = CDR / "CDR410803692813_WA0000000L_3.LBL"  # named by VS00L_6 and VS00L_8
BINNING = {"0": 1, "1": 2, "2": 5, "3": 10}
ARTIFACTS = {"artifact_mcguire": [2007.0, 1980.0], "artifact_pelkey": [2011.0, 1899.0]}


def _name(label: Path) -> re.Match[str]:
    m = re.fullmatch(r"ADR(\d)(\d{10})_([0-9A-F]{5})_VS(\d)(\d)([SLJ])_(\d)", label.stem)
    assert m is not None
    return m


def _gdal(label: Path) -> np.ndarray:
    with rasterio.open(label) as src:
        return src.read()  # (bands, lines, samples)


def _open(label: Path, **kw: object) -> xr.Dataset:
    return xr.open_dataset(label, engine="crism", sidecar_dirs=[CDR], **kw)  # type: ignore[arg-type]


def _rownum_after_image(label: Path, bands: int, lines: int, samples: int) -> np.ndarray:
    """The ROWNUM table read straight from the IMG: 2-byte MSB rows right after the float32 image."""
    data = label.with_suffix(".IMG").read_bytes()
    start = bands * lines * samples * 4
    return np.frombuffer(data[start:start + 2 * bands], ">u2").astype(np.int64) & 0x1FF


def test_the_corpus_holds_nine_vs_adrs() -> None:
    assert len(ADRS) == 9


@pytest.mark.parametrize("label", ADRS, ids=lambda p: p.stem)
def test_every_line_is_bit_identical_to_gdal(label: Path) -> None:
    expected = _gdal(label)
    ds = _open(label, mask_and_scale=False)
    names = list(ds.data_vars)
    assert len(names) == expected.shape[1]
    for line, name in enumerate(names):
        var = ds[name]
        assert var.dims == ("band", "sample") and var.dtype == np.float32
        np.testing.assert_array_equal(var.values.view(np.uint32), expected[:, line, :].view(np.uint32))


@pytest.mark.parametrize("label", ADRS, ids=lambda p: p.stem)
def test_fill_becomes_nan_and_nothing_else(label: Path) -> None:
    raw = _gdal(label)[:, 0, :]
    masked = _open(label).atmospheric_transmission.values
    np.testing.assert_array_equal(np.isnan(masked), raw == 65535.0)
    np.testing.assert_array_equal(masked[raw != 65535.0], raw[raw != 65535.0])
    assert 0.3 < np.nanmedian(masked) <= 1.5  # a transmission, not bytes read from the wrong place


@pytest.mark.parametrize("label", ADRS, ids=lambda p: p.stem)
def test_lines_are_named_as_the_label_comments_say(label: Path) -> None:
    ds = _open(label)
    version = _name(label)[7]
    expected = ["atmospheric_transmission"] + (list(ARTIFACTS) if version == "8" else [])
    assert list(ds.data_vars) == expected
    assert ds.atmospheric_transmission.attrs["image_line"] == 1
    assert ds.atmospheric_transmission.attrs["units"] == "1"
    for line, name in enumerate(expected[1:], start=2):
        attrs = ds[name].attrs
        assert attrs["image_line"] == line and attrs["scaling_wavelengths"] == ARTIFACTS[name]
        assert attrs["continuum_wavelengths"] == [1764.0, 2239.0]
        assert attrs["method"] == {"artifact_mcguire": "McGuire", "artifact_pelkey": "Pelkey"}[name]


@pytest.mark.parametrize("label", ADRS, ids=lambda p: p.stem)
def test_attributes_give_binning_filter_source_and_validity(label: Path) -> None:
    partition, time, observation, binning, filter_code, sensor, _ = _name(label).groups()
    ds = _open(label)
    assert ds.attrs["product_family"] == "ADR" and ds.attrs["product_code"] == "VS"
    assert ds.attrs["binning"] == ds.attrs["pixel_averaging_width"] == BINNING[binning]
    assert ds.attrs["wavelength_filter"] == filter_code and ds.attrs["sensor"] == sensor
    assert ds.attrs["source_observation_id"] == observation == "061C4"
    assert "observation_id" not in ds.attrs  # an ADR is no observation: ddr="auto" and indexes must not take it for one
    assert ds.attrs["valid_from_sclk"] == f"{partition}/{time}" and ds.attrs["valid_until_sclk"] == "5/0924300802"
    assert ds.attrs["valid_from"] == "1980-01-01T00:00:00" and ds.attrs["valid_until"] == "2009-04-15T22:13:00"
    sources = ds.attrs["source_product_id"]
    assert isinstance(sources, list) and all(s.startswith("FFC000061C4_0") for s in sources)
    assert ds.sizes["sample"] == 640 // BINNING[binning]


@pytest.mark.parametrize("label", ADRS, ids=lambda p: p.stem)
def test_detector_rows_are_the_table_after_the_image(label: Path) -> None:
    ds = _open(label)
    bands, samples = ds.sizes["band"], ds.sizes["sample"]
    lines = len(ds.data_vars)
    np.testing.assert_array_equal(ds.detector_row.values, _rownum_after_image(label, bands, lines, samples))
    assert np.all(np.diff(ds.detector_row.values) > 0)  # rows of a filter, in detector order
    # the 3-line labels point at record BANDS + 1, inside the image; the 1-line ones are right
    assert ("table_offset" in ds.detector_row.attrs) == (lines == 3)


@pytest.mark.parametrize("label", [p for p in ADRS if "_VS00L_" in p.name], ids=lambda p: p.stem)
def test_wavelengths_come_from_the_wa_cdr_the_label_names(label: Path) -> None:
    ds = _open(label)
    assert ds.attrs["wavelength_file_name"] == "CDR410803692813_WA0000000L_3.IMG"
    assert ds.wavelength.attrs["source"] == "CDR410803692813_WA0000000L_3 (WA CDR4, SW definition)"
    wa, _ = read_product(WA_L)
    image = wa.variables["center_wavelength"].data.read((slice(None), 0, slice(None)))
    np.testing.assert_array_equal(ds.detector_row.values, wa.coords["detector_row"].data.read((slice(None),)))
    np.testing.assert_array_equal(np.nan_to_num(ds.pixel_wavelength.values, nan=65535.0), image)
    block = np.where(image[:, 270:370] == 65535.0, np.nan, image[:, 270:370].astype(np.float64))
    with np.errstate(all="ignore"):
        np.testing.assert_allclose(ds.wavelength.values, np.nanmean(block, axis=1), rtol=0, atol=1e-9)
    co2 = float(ds.atmospheric_transmission.sel(band=int(np.nanargmin(np.abs(ds.wavelength.values - 2010)))).median())
    clear = float(ds.atmospheric_transmission.sel(band=int(np.nanargmin(np.abs(ds.wavelength.values - 1700)))).median())
    assert co2 < 0.75 * clear  # the 2-micron CO2 band is where the wavelengths say


@pytest.mark.parametrize("label", [p for p in ADRS if "_VS00L_" not in p.name], ids=lambda p: p.stem)
def test_without_their_wa_cdr_the_shipped_table_of_the_named_epoch_is_used(label: Path) -> None:
    ds = _open(label)
    assert ds.attrs["wavelength_file_name"].startswith("CDR410803692813_WA")  # epoch 1/0803692813
    assert ds.wavelength.attrs["source"] == "CDR410803692813_WA0000000L_3 (table shipped with xarray-crism)"
    assert "pixel_wavelength" not in ds.coords
    full = _open(ADRS[0])  # VS00L_6: all 438 rows, from the WA CDR itself
    lookup = dict(zip(full.detector_row.values.tolist(), full.wavelength.values.tolist(), strict=True))
    expected = [lookup[r] for r in ds.detector_row.values.tolist()]
    np.testing.assert_allclose(ds.wavelength.values, expected, rtol=0, atol=1e-4, equal_nan=True)


def test_lazy_and_chunked_reads_match(tmp_path: Path) -> None:
    label = CRISM / "adr" / "ADR10000000000_061C4_VS21L_8.LBL"
    eager = _open(label)
    lazy = _open(label, chunks={})
    for name in eager.data_vars:
        np.testing.assert_array_equal(lazy[name].isel(band=slice(3, 9), sample=slice(50, 60)).values,
                                      eager[name].values[3:9, 50:60])


def test_over_http_with_its_wa_cdr(http_root: tuple[Path, RangeServer]) -> None:
    root, server = http_root
    label = CRISM / "adr" / "ADR10000000000_061C4_VS00L_8.LBL"
    for f in (label, label.with_suffix(".IMG"), WA_L, WA_L.with_suffix(".IMG")):
        shutil.copy(f, root / f.name)
    ds = xr.open_dataset(f"{server.url}/{label.name}", engine="crism")
    local = _open(label)
    np.testing.assert_array_equal(ds.artifact_pelkey.isel(band=200).values, local.artifact_pelkey.isel(band=200).values)
    np.testing.assert_array_equal(ds.wavelength.values, local.wavelength.values)
    assert ds.wavelength.attrs["source"].startswith("CDR410803692813_WA0000000L_3")


def _label_copy(tmp_path: Path, name: str, edit: object) -> Path:
    source = CRISM / "adr" / f"{name}.LBL"
    text = source.read_text(encoding="latin-1")
    text = edit(text)  # type: ignore[operator]
    (tmp_path / source.name).write_text(text, encoding="latin-1")
    shutil.copy(source.with_suffix(".IMG"), tmp_path / f"{name}.IMG")
    return tmp_path / source.name


def test_an_artifact_line_no_comment_describes_is_refused(tmp_path: Path) -> None:
    label = _label_copy(tmp_path, "ADR10000000000_061C4_VS21L_8", lambda t: t.replace("Line 3: [2011.0,1899.0], Pelkey", ""))
    with pytest.raises(LabelValueError, match=r"no description of line 3.*'Line 3: \[a, b\], Name'"):
        xr.open_dataset(label, engine="crism")


def test_a_vs_adr_not_line_interleaved_is_refused(tmp_path: Path) -> None:
    label = _label_copy(tmp_path, "ADR10000000000_061C4_VS21L_6", lambda t: t.replace("LINE_INTERLEAVED", "BAND_SEQUENTIAL"))
    with pytest.raises(LabelValueError, match=r"BAND_STORAGE_TYPE = 'BAND_SEQUENTIAL'; expected LINE_INTERLEAVED"):
        xr.open_dataset(label, engine="crism")


def test_line_roles_from_comments_alone() -> None:
    text = "/* Line 2: [2007.0,1980.0], McGuire */\n/* Line 3: [2011.0, 1899.0], Pelkey */"
    roles = build_line_roles(text, 3, "x.lbl")
    assert [r.variable for r in roles] == ["atmospheric_transmission", "artifact_mcguire", "artifact_pelkey"]
    assert roles[2].attrs == {"image_line": 3, "scaling_wavelengths": [2011.0, 1899.0], "method": "Pelkey"}
    with pytest.raises(LabelValueError, match=r"Line 3.*artifact lines 2 to 2"):
        build_line_roles(text, 2, "x.lbl")


def test_the_adr_family_is_rows_of_the_kind_table(tmp_path: Path) -> None:
    pid, kind = identify_product("ADR10000000000_061C4_VS32L_8", "x.lbl")
    assert kind is KINDS[("ADR", "VS")] and kind.content == "image" and kind.lines_as_variables
    assert (pid.binning_code, pid.filter_code, pid.sensor, pid.source_observation_id) == (3, "2", "L", "061C4")
    assert pid.observation_id is None and (pid.sclk_partition, pid.sclk_time) == (1, 0)
    for name in ("ADR_CL_0000_9_0947778566_0", "ADR_AC_0000_1_0836454800_1", "ADR_TE_2500_5_0924300802_2"):
        assert identify_product(name, "x.lbl")[1] is KINDS[("ADR", "*")]
    label = write_adr(tmp_path, "ADR_TE_0000_9_0947778566_0", np.ones((3, 4, 5), np.float32), ["LATITUDE", "LONGITUDE", "LS"])
    ds = xr.open_dataset(label, engine="crism")
    assert ds.surface_temperature.dims == ("latitude", "longitude", "ls") and float(ds.surface_temperature.sum()) == 60.0
