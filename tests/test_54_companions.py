"""Companions that must belong: an explicit DDR of another product is refused; a WA CDR the label names but that is
absent, or an epoch that stands in for the named one, is listed and warned about."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from xarray_crism.errors import CompanionMismatchError, LabelValueError, SidecarNotFoundError, SidecarWarning
from xarray_crism.testing import write_cube
from xarray_crism.xr.backend import CrismBackendEntrypoint

from .conftest import CRISM

TRDR = CRISM / "trdr" / "frt0001458f_01_if156l_trr3.lbl"  # 15 lines x 64 samples, sensor L, counter 01
DDR_TEMPLATE = CRISM / "labels" / "frt00003e25_01_de156l_ddr1.lbl"
WA_NAMED = "CDR450924300802_WA0300000L_3.IMG"  # what TRDR's MRO:WAVELENGTH_FILE_NAME says
VS21 = CRISM / "adr" / "ADR10000000000_061C4_VS21L_8.LBL"


def _band_names() -> list[str]:
    from .test_60_generated import DDR_NAMES

    return DDR_NAMES


def _copy(directory: Path, label: Path, edit: tuple[str, str] | None = None) -> Path:
    text = label.read_text(encoding="latin-1")
    if edit is not None:
        assert edit[0] in text
        text = text.replace(*edit)
    (directory / label.name).write_text(text, encoding="latin-1")
    for data in label.parent.glob(label.stem + ".*"):
        if data.suffix.lower() == ".img":
            shutil.copy(data, directory / data.name)
    return directory / label.name


def _ddr(directory: Path, product_id: str, seed: int = 1, shape: tuple[int, int] = (15, 64)) -> tuple[Path, np.ndarray]:
    data = np.random.default_rng(seed).uniform(0, 90, (14, *shape)).astype(np.float32)
    label = write_cube(directory, DDR_TEMPLATE, product_id, data, storage="BAND_SEQUENTIAL", band_names=_band_names()).label
    return label, data


def _open(label: Path, **kw: object) -> xr.Dataset:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SidecarWarning)
        return xr.open_dataset(label, engine="crism", **kw)  # type: ignore[arg-type]


def test_the_ddr_of_the_same_observation_counter_and_sensor_joins(tmp_path: Path) -> None:
    label = _copy(tmp_path, TRDR)
    ddr, data = _ddr(tmp_path, "FRT0001458F_01_DE156L_DDR0")
    ds = _open(label, ddr=ddr)
    assert ds.attrs["ddr_product_id"] == "FRT0001458F_01_DE156L_DDR0"
    np.testing.assert_array_equal(ds.latitude.values, data[3])


@pytest.mark.parametrize(
    ("ddr_id", "differs"),
    [
        ("FRT00003E25_01_DE156L_DDR1", r"observation_id 0001458F.*observation_id 00003E25"),
        ("FRT0001458F_01_DE156S_DDR1", r"sensor L.*sensor S"),
        ("FRT0001458F_02_DE156L_DDR1", r"counter 01.*counter 02"),
        ("HRL0001458F_01_DE156L_DDR1", r"class_type FRT.*class_type HRL"),
    ],
)
def test_a_ddr_of_another_product_is_refused_naming_both(tmp_path: Path, ddr_id: str, differs: str) -> None:
    label = _copy(tmp_path, TRDR)
    ddr, data = _ddr(tmp_path, ddr_id)  # same shape: before, it was joined silently
    with pytest.raises(CompanionMismatchError, match=rf"{ddr.name}: PRODUCT_ID = '{ddr_id}'; expected the DDR of "
                       rf"FRT0001458F_01_IF156L_TRR3 \({differs}\).*ddr_check=False"):
        _open(label, ddr=ddr)
    joined = _open(label, ddr=ddr, ddr_check=False)  # the explicit override
    assert joined.attrs["ddr_product_id"] == ddr_id
    np.testing.assert_array_equal(joined.phase_angle.values, data[2])


def test_a_ddr_given_to_a_product_without_observation_is_refused(tmp_path: Path) -> None:
    ddr, _ = _ddr(tmp_path, "FRT0001458F_01_DE156L_DDR1", shape=(1, 128))
    with pytest.raises(LabelValueError, match=r"PRODUCT_ID = 'ADR10000000000_061C4_VS21L_8'; expected a sensor-space"):
        _open(VS21, ddr=ddr)


def test_the_backend_takes_ddr_check() -> None:
    assert "ddr_check" in CrismBackendEntrypoint.open_dataset_parameters


def test_an_absent_wa_cdr_is_listed_and_warned_about(tmp_path: Path) -> None:
    label = _copy(tmp_path, TRDR)
    with pytest.warns(SidecarWarning, match=rf"{label.name}: MRO:WAVELENGTH_FILE_NAME = '{WA_NAMED}' was not found "
                      r"\(looked in .*\); wavelength from CDR450924300802_WA0300000L_3 \(table shipped with "
                      r"xarray-crism\) instead, and no pixel_wavelength\. Pass sidecar_dirs"):
        ds = xr.open_dataset(label, engine="crism")
    assert WA_NAMED in ds.attrs["missing_sidecars"] and "pixel_wavelength" not in ds.coords
    with warnings.catch_warnings():
        warnings.simplefilter("error", SidecarWarning)  # found: nothing to say
        found = xr.open_dataset(label, engine="crism", sidecar_dirs=[CRISM / "cdr"])
    assert WA_NAMED not in found.attrs.get("missing_sidecars", []) and "pixel_wavelength" in found.coords
    np.testing.assert_allclose(ds.wavelength.values, found.wavelength.values, atol=1e-4)


def test_an_sw_table_standing_in_is_named_too(tmp_path: Path) -> None:
    label = _copy(tmp_path, TRDR)
    with pytest.warns(SidecarWarning, match=r"wavelength from CDR6_5_0924300802_SW_L_3 \(CDR6 SW table\) instead"):
        ds = xr.open_dataset(label, engine="crism", sidecar_dirs=[CRISM / "cdr6"])
    assert WA_NAMED in ds.attrs["missing_sidecars"]


def test_an_epoch_standing_in_for_the_named_one_is_warned_about(tmp_path: Path) -> None:
    named = "CDR410000000000_WA0300000L_3.IMG"  # epoch 1/0000000000: not in the shipped table
    label = _copy(tmp_path, TRDR, (WA_NAMED, named))
    with pytest.warns(SidecarWarning, match=rf"'{named}' was not found .*table shipped with xarray-crism\) instead.*; "
                      r"the named epoch 1/0000000000 is not in the shipped table: epoch 5/0924300802 stands in"):
        ds = xr.open_dataset(label, engine="crism")
    assert ds.attrs["missing_sidecars"][-1] == named
    assert ds.wavelength.attrs["source"].startswith("CDR450924300802_WA0300000L_3")  # by the observation's clock


def test_a_vs_adr_without_its_wa_cdr_uses_the_named_epoch(tmp_path: Path) -> None:
    label = _copy(tmp_path, VS21)
    with pytest.warns(SidecarWarning, match=r"'CDR410803692813_WA0200010L_3\.IMG' was not found") as record:
        ds = xr.open_dataset(label, engine="crism")
    assert "stands in" not in str(record[0].message)  # the named epoch is in the table: nothing else stood in
    assert ds.attrs["missing_sidecars"] == ["CDR410803692813_WA0200010L_3.IMG"]
    assert ds.wavelength.attrs["source"] == "CDR410803692813_WA0000000L_3 (table shipped with xarray-crism)"


def test_a_vs_adr_whose_named_epoch_is_unknown_is_refused(tmp_path: Path) -> None:
    # its validity starts at 1/0000000000: no shipped epoch precedes it, so none can stand in
    label = _copy(tmp_path, VS21, ("CDR410803692813_WA0200010L_3.IMG", "CDR410000000000_WA0200010L_3.IMG"))
    with pytest.raises(SidecarNotFoundError, match=r"MRO:SENSOR_ID = 'L'; expected a wavelength table for the sensor"):
        _open(label)
