"""PDS4 labels: the real Mastcam-Z ops labels, generated ASU-style IOFs, a CRISM TRDR in PDS4."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import rasterio
import xarray as xr

from xarray_crism import LabelSyntaxError, LabelValueError
from xarray_crism.labels.pds4 import parse_pds4_label
from xarray_crism.testing.pds4 import write_img_for_pds4, write_mastcamz_img, write_pds4_label

from .conftest import CORPUS, CRISM

OPS_LABELS = sorted((CORPUS / "mastcamz" / "labels").glob("*.xml"))
RAD_TEMPLATE = CORPUS / "mastcamz" / "rad" / "ZL0_0711_0730054943_723RAD_N0332864ZCAM03014_048085A02.IMG"
IOF_ID = "ZL0_0711_0730054943_723IOF_N0332864ZCAM03014_048085A02"


@pytest.fixture(params=OPS_LABELS, ids=lambda p: p.name[:8])
def ops_product(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Path, np.ndarray]:
    label = shutil.copy(request.param, tmp_path)
    _, data = write_img_for_pds4(label, tmp_path)
    return Path(label), data


def test_ops_label_values_equal_gdal_and_written(ops_product: tuple[Path, np.ndarray]) -> None:
    label, written = ops_product
    ds = xr.open_dataset(label, engine="crism", mask_and_scale=False)
    assert ds.radiance.dims == ("band", "line", "sample") and ds.radiance.shape == (3, 1200, 1648)
    np.testing.assert_array_equal(ds.radiance.values, written)
    with rasterio.open(label) as src:  # GDAL's PDS4 driver reads the same label
        np.testing.assert_array_equal(ds.radiance.values, src.read())
        assert src.scales[0] == 5.0e-06


def test_ops_label_scaling_wavelengths_attributes(ops_product: tuple[Path, np.ndarray]) -> None:
    label, written = ops_product
    ds = xr.open_dataset(label)  # engine guessed from the PDS4 namespace
    expected = np.where(written == 0, np.nan, written * 5.0e-06 + 0.0)
    np.testing.assert_array_equal(ds.radiance.values, expected)
    np.testing.assert_array_equal(ds.wavelength.values, [630, 544, 480])
    assert list(ds.filter_name.values) == ["L0R", "L0G", "L0B"]
    attrs = ds.attrs
    assert attrs["eye"] == "left" and attrs["sol"] in (1737, 1738)
    assert attrs["zoom_position"] == 9600 and attrs["focal_length_mm"] == 110.0
    assert attrs["camera_model_type"] == "CAHVOR"
    assert attrs["camera_model_c"] == [0.871707, 0.681446, -1.9493]
    assert attrs["camera_model_r"] == [0.000184038, 0.38818, 0.035168]
    assert attrs["rover_motion_counter"] == [83, 0, 62, 120, 0, 0, 2400, 1760, 0, 0]
    assert attrs["cfa_type"] == "Bayer RGGB" and attrs["cfa_state"] == "Decoded"
    assert attrs["pds_label"] == label.read_text(encoding="utf-8")
    assert attrs["logical_identifier"].startswith("urn:nasa:pds:mars2020_mastcamz_ops_calibrated:data:")


def _asu_iof(tmp_path: Path, data: np.ndarray, scaling: tuple[float, float] | None, data_type: str) -> tuple[Path, Path]:
    """An ASU-style IOF: IMG with attached ODL + VICAR headers, and its PDS4 label."""
    img = write_mastcamz_img(tmp_path / f"{IOF_ID}.IMG", RAD_TEMPLATE, data, product_id=IOF_ID, scaling=scaling)
    raw = img.read_bytes()
    offset = len(raw) - data.nbytes
    xml = write_pds4_label(
        tmp_path / f"{IOF_ID}.xml", img.name, offset=offset, data_type=data_type,
        axes=[("Band", 3), ("Line", data.shape[1]), ("Sample", data.shape[2])], scaling=scaling,
        constants={"missing_constant": "0.0", "invalid_constant": "0.0"},
        filters=[("ZCAM_L0_RGB", 0, 630), ("ZCAM_L0_RGB", 0, 544), ("ZCAM_L0_RGB", 0, 480)],
        headers=[("ODL3_Header", 0, 1000, "PDS ODL 2")],
    )
    return img, xml


def test_asu_iof_float32_through_both_labels(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    data = rng.uniform(0.01, 0.6, size=(3, 40, 52)).astype(">f4")
    data[1, 5, 7] = 0.0  # MISSING_CONSTANT
    img, xml = _asu_iof(tmp_path, data, None, "IEEE754MSBSingle")
    via_odl = xr.open_dataset(img, engine="crism")
    via_xml = xr.open_dataset(xml, engine="crism")
    expected = np.where(data == 0, np.nan, data).astype(np.float32)
    for ds in (via_odl, via_xml):
        assert ds.i_over_f.dtype == np.float32
        np.testing.assert_array_equal(ds.i_over_f.values, expected)
        np.testing.assert_array_equal(ds.wavelength.values, [630, 544, 480])
        assert ds.i_over_f.attrs["units"] == "1"


def test_asu_iof_int16_scaled_through_both_labels(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    data = rng.integers(-2000, 32767, size=(3, 30, 44)).astype(">i2")
    data[0, 0, :5] = 0
    scaling = (1.7e-05, 0.00123)
    img, xml = _asu_iof(tmp_path, data, scaling, "SignedMSB2")
    expected = np.where(data == 0, np.nan, data * np.float64(scaling[0]) + np.float64(scaling[1]))
    for path in (img, xml):
        ds = xr.open_dataset(path, engine="crism")
        np.testing.assert_array_equal(ds.i_over_f.values, expected)
        raw = xr.open_dataset(path, engine="crism", mask_and_scale=False)
        np.testing.assert_array_equal(raw.i_over_f.values, data)
    with rasterio.open(xml) as src:
        np.testing.assert_array_equal(src.read(), data)


def test_crism_trdr_migrated_to_pds4(tmp_path: Path) -> None:
    for f in (CRISM / "trdr").glob("frt0001458f_01_if156l_trr3.*"):
        shutil.copy(f, tmp_path / f.name)
    pds3 = xr.open_dataset(tmp_path / "frt0001458f_01_if156l_trr3.lbl", engine="crism", mask_and_scale=False)
    lines, bands, samples = pds3.sizes["line"], pds3.sizes["band"], pds3.sizes["sample"]
    xml = write_pds4_label(
        tmp_path / "frt0001458f_01_if156l_trr3.xml", "frt0001458f_01_if156l_trr3.img", offset=0,
        data_type="IEEE754LSBSingle", array_class="Array_3D_Spectrum",
        axes=[("Line", lines), ("Band", bands), ("Sample", samples)], constants={"missing_constant": "65535.0"},
    )
    ds = xr.open_dataset(xml, engine="crism", mask_and_scale=False)
    assert ds.i_over_f.dims == ("band", "line", "sample")
    np.testing.assert_array_equal(ds.i_over_f.values, pds3.i_over_f.values)
    masked = xr.open_dataset(xml, engine="crism")
    assert np.isnan(masked.i_over_f.values).sum() == (pds3.i_over_f.values == 65535).sum() > 0
    spectrum = ds.i_over_f.isel(line=7, sample=30).values
    np.testing.assert_array_equal(spectrum, pds3.i_over_f.isel(line=7, sample=30).values)


@pytest.mark.parametrize(
    ("doctype", "name"),
    [
        ('<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>', "entity expansion"),
        ('<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>', "external entity"),
        ('<!DOCTYPE x SYSTEM "http://example.invalid/x.dtd">', "external DTD"),
    ],
)
def test_hostile_xml_is_refused(doctype: str, name: str) -> None:
    text = f'<?xml version="1.0"?>{doctype}<Product_Observational><title>&b;</title></Product_Observational>'
    with pytest.raises(LabelSyntaxError, match=r"evil\.xml: XML"):
        parse_pds4_label(text, "evil.xml")


def test_malformed_xml_names_the_file() -> None:
    with pytest.raises(LabelSyntaxError, match=r"bad\.xml: XML = .*well-formed"):
        parse_pds4_label("<Product_Observational><a></Product_Observational>", "bad.xml")


@pytest.mark.parametrize(
    ("change", "keyword"),
    [
        (("SignedMSB2", "SignedMSB3"), "data_type"),
        (("Last Index Fastest", "First Index Fastest"), "axis_index_order"),
        (("<offset unit=\"byte\">52736</offset>", "<offset unit=\"byte\">-5</offset>"), "offset"),
        (("<elements>1648</elements>", "<elements>many</elements>"), "elements"),
    ],
)
def test_bad_array_descriptions(tmp_path: Path, change: tuple[str, str], keyword: str) -> None:
    label = tmp_path / OPS_LABELS[0].name
    label.write_text(OPS_LABELS[0].read_text(encoding="utf-8").replace(*change), encoding="utf-8")
    write_img_for_pds4(OPS_LABELS[0], tmp_path)
    with pytest.raises(LabelValueError, match=keyword) as err:
        xr.open_dataset(label, engine="crism")
    assert label.name in str(err.value)
