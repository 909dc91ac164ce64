"""Layer 6: generated products (every storage order and sample type, DDR, HK, EDR, SU, ADR, CDR6)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pdr
import pytest
import rasterio
import xarray as xr

from xarray_crism.errors import ShapeMismatchError, SidecarNotFoundError
from xarray_crism.testing import write_adr, write_cube, write_hk_table, write_sw_table

from .conftest import CRISM

TRDR_TEMPLATE = CRISM / "trdr" / "frt0001458f_01_if156l_trr3.lbl"
DDR_TEMPLATE = CRISM / "labels" / "frt00003e25_01_de156l_ddr1.lbl"
DDR_NAMES = [
    "INA at areoid, deg", "EMA at areoid, deg", "Phase angle, deg", "Latitude, areocentric, deg N",
    "Longitude, areocentric, deg E", "INA at surface from MOLA, deg", "EMA at surface from MOLA, deg",
    "Slope magnitude from MOLA, deg", "MOLA slope azimuth, deg clkwise from N", "Elevation, meters relative to MOLA",
    "Thermal inertia, J m^-2 K^-1 s^-0.5", "Bolometic albedo", "Local solar time, hours", "Spare",
]
DDR_VARIABLES = [
    "incidence_angle", "emission_angle", "phase_angle", "latitude", "longitude", "surface_incidence_angle",
    "surface_emission_angle", "slope_magnitude", "slope_azimuth", "elevation", "thermal_inertia",
    "bolometric_albedo", "local_solar_time",
]
SAMPLE_TYPES = {"PC_REAL": np.float32, "IEEE_REAL": np.float32, "MSB_UNSIGNED_INTEGER": np.uint16, "LSB_INTEGER": np.int16}


def _cube(shape: tuple[int, int, int], dtype: type, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if np.dtype(dtype).kind == "f":
        return rng.uniform(0, 0.5, shape).astype(dtype)
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max, shape, endpoint=True).astype(dtype)


@pytest.mark.parametrize("storage", ["BAND_SEQUENTIAL", "LINE_INTERLEAVED", "SAMPLE_INTERLEAVED"])
@pytest.mark.parametrize("sample_type", sorted(SAMPLE_TYPES))
def test_every_storage_order_and_type_matches_gdal(tmp_path: Path, storage: str, sample_type: str) -> None:
    data = _cube((7, 9, 11), SAMPLE_TYPES[sample_type])
    product = write_cube(tmp_path, TRDR_TEMPLATE, "FRT0001458F_01_IF156L_TRR3", data, sample_type=sample_type,
                         storage=storage, detector_rows=np.arange(7) + 100)
    ds = xr.open_dataset(product.label, engine="crism", mask_and_scale=False)
    np.testing.assert_array_equal(ds.i_over_f.values, data)
    np.testing.assert_array_equal(_independent_read(product.label, storage), data)
    np.testing.assert_array_equal(ds.detector_row.values, np.arange(7) + 100)
    np.testing.assert_array_equal(ds.i_over_f.isel(line=4, sample=slice(2, 9, 3)).values, data[:, 4, 2:9:3])


def _independent_read(label: Path, storage: str) -> np.ndarray:
    """GDAL's PDS driver; pdr for SAMPLE_INTERLEAVED, which GDAL 3.10 reads as band sequential."""
    if storage == "SAMPLE_INTERLEAVED":
        return np.asarray(pdr.read(str(label))["IMAGE"])
    with rasterio.open(label) as src:
        return src.read()


def _ddr(tmp_path: Path, shape: tuple[int, int], product_id: str = "FRT0001458F_01_DE156L_DDR1", seed: int = 1) -> np.ndarray:
    data = _cube((14, *shape), np.float32, seed)
    write_cube(tmp_path, DDR_TEMPLATE, product_id, data, storage="BAND_SEQUENTIAL", band_names=DDR_NAMES)
    return data


def test_ddr_from_the_real_label_becomes_named_backplanes(tmp_path: Path) -> None:
    data = _ddr(tmp_path, (15, 64))
    ds = xr.open_dataset(tmp_path / "frt0001458f_01_de156l_ddr1.lbl", engine="crism")
    assert sorted(ds.data_vars) == sorted(DDR_VARIABLES)
    assert "band" not in ds.coords and "band" not in ds.dims  # every band is its own variable: no band axis
    for i, name in enumerate(DDR_VARIABLES):
        assert ds[name].dims == ("line", "sample")
        np.testing.assert_array_equal(ds[name].values, data[i])
    assert ds.latitude.attrs["units"] == "degrees_north" and ds.elevation.attrs["units"] == "m"


def test_ddr_auto_joins_the_highest_version(corpus_copy: Path) -> None:
    _ddr(corpus_copy, (15, 64), "FRT0001458F_01_DE156L_DDR0", seed=3)
    newest = _ddr(corpus_copy, (15, 64), "FRT0001458F_01_DE156L_DDR1", seed=4)
    _ddr(corpus_copy, (15, 64), "FRT0001458F_01_DE156S_DDR2", seed=5)  # other sensor: never picked
    ds = xr.open_dataset(corpus_copy / "frt0001458f_01_if156l_trr3.lbl", engine="crism", ddr="auto", chunks={})
    assert ds.attrs["ddr_product_id"] == "FRT0001458F_01_DE156L_DDR1"
    np.testing.assert_array_equal(ds.phase_angle.values, newest[2])
    assert ds.i_over_f.chunks is not None
    explicit = xr.open_dataset(corpus_copy / "frt0001458f_01_if156l_trr3.lbl", engine="crism",
                               ddr=corpus_copy / "frt0001458f_01_de156l_ddr0.lbl")
    assert explicit.attrs["ddr_product_id"] == "FRT0001458F_01_DE156L_DDR0"


def test_ddr_of_another_shape_is_refused(corpus_copy: Path) -> None:
    _ddr(corpus_copy, (16, 64))
    with pytest.raises(ShapeMismatchError, match=r"frt0001458f_01_de156l_ddr1\.lbl"):
        xr.open_dataset(corpus_copy / "frt0001458f_01_if156l_trr3.lbl", engine="crism", ddr="auto")


def test_ddr_auto_without_a_ddr_says_where_it_looked(corpus_copy: Path) -> None:
    with pytest.raises(SidecarNotFoundError, match="sidecar_dirs"):
        xr.open_dataset(corpus_copy / "frt0001458f_01_if156l_trr3.lbl", engine="crism", ddr="auto")


def test_housekeeping_table_with_fmt_becomes_variables_on_line(tmp_path: Path) -> None:
    hk_dir = tmp_path / "hk"
    hk_dir.mkdir()
    table, values = write_hk_table(hk_dir, "FRT0001458F_01_RA156L_HKP3.TAB", "TRDRHK.FMT", 15)
    data = _cube((5, 15, 8), np.float32)
    product = write_cube(tmp_path, TRDR_TEMPLATE, "FRT0001458F_01_IF156L_TRR3", data, hk_table=table,
                         detector_rows=np.arange(5))
    ds = xr.open_dataset(product.label, engine="crism", sidecar_dirs=[hk_dir])
    np.testing.assert_array_equal(ds.hk_frame_number.values, values["FRAME_NUMBER"])
    np.testing.assert_array_equal(ds.hk_exposure_time.values, values["EXPOSURE_TIME"])
    np.testing.assert_array_equal(ds.hk_shutter_status.values, values["SHUTTER_STATUS"])
    assert ds.hk_fpe_temperature.dims == ("line",)
    assert ds.attrs["missing_sidecars"] == ["CDR450924300802_WA0300000L_3.IMG"]  # the tables are found, not the WA CDR


def test_edr_is_uint16_dn_with_its_frame_table(tmp_path: Path) -> None:
    table, values = write_hk_table(tmp_path, "FRT0001458F_01_SC156L_EDR0.TAB", "EDRHK.FMT", 6, object_name="EDR_HK_TABLE")
    data = _cube((4, 6, 10), np.uint16)
    product = write_cube(tmp_path, TRDR_TEMPLATE, "FRT0001458F_01_SC156L_EDR0", data, sample_type="MSB_UNSIGNED_INTEGER",
                         hk_table=table, detector_rows=np.arange(4))
    ds = xr.open_dataset(product.label, engine="crism")
    assert ds.dn.dtype == np.uint16 and "_FillValue" not in ds.dn.encoding
    np.testing.assert_array_equal(ds.dn.values, data)
    np.testing.assert_array_equal(ds.hk_frame_number.values, values["FRAME_NUMBER"])


def test_summary_parameters_become_one_variable_per_band(tmp_path: Path) -> None:
    data = _cube((3, 5, 6), np.float32)
    product = write_cube(tmp_path, TRDR_TEMPLATE, "FRT0001458F_01_SU156L_TRR3", data, storage="BAND_SEQUENTIAL",
                         band_names=["R770", "BD1900_2", "OLINDEX3"])
    ds = xr.open_dataset(product.label, engine="crism")
    assert sorted(ds.data_vars) == ["bd1900_2", "olindex3", "r770"]
    np.testing.assert_array_equal(ds.bd1900_2.values, data[1])


def test_adr_lookup_table_is_an_array_with_named_axes(tmp_path: Path) -> None:
    table = _cube((3, 4, 5), np.float32)
    label = write_adr(tmp_path, "ADR_CL_0000_9_0947778566_0", table, ["LATITUDE", "LONGITUDE", "LS"])
    ds = xr.open_dataset(label, engine="crism")
    assert ds.surface_temperature.dims == ("latitude", "longitude", "ls")
    np.testing.assert_array_equal(ds.surface_temperature.values, table)
    assert ds.surface_temperature.attrs["units"] == "K"


def test_sw_table_epoch_is_chosen_by_the_observation_clock(corpus_copy: Path) -> None:
    template = CRISM / "cdr6" / "cdr6_5_0924300802_sw_l_3.lbl"
    write_sw_table(corpus_copy, template, "CDR6_5_0924300802_SW_L_3", dict.fromkeys(range(480), 1000.0))
    write_sw_table(corpus_copy, template, "CDR6_5_0924300802_SW_L_4", dict.fromkeys(range(480), 2000.0))
    write_sw_table(corpus_copy, template, "CDR6_8_0999999999_SW_L_3", dict.fromkeys(range(480), 3000.0))  # after
    ds = xr.open_dataset(corpus_copy / "frt0001458f_01_if156l_trr3.lbl", engine="crism")
    assert ds.wavelength.attrs["source"].startswith("CDR6_5_0924300802_SW_L_4")
    assert set(ds.wavelength.values) == {2000.0}


def test_wv_table_with_rows_4804_reads_the_480_records(tmp_path: Path) -> None:
    head = (CRISM / "labels" / "partial" / "CDR6_1_0803692813_WV_L_0.LBL").read_text().split("/* Description")[0]
    columns = "".join(
        f"OBJECT = COLUMN COLUMN_NUMBER = {i + 1} NAME = {name} DATA_TYPE = ASCII_INTEGER START_BYTE = {start} "
        f"BYTES = {width} END_OBJECT = COLUMN "
        for i, (name, start, width) in enumerate([("IR_ROW", 1, 3)] + [(f"IR_FILTER_{k}", 5 + 2 * k, 1) for k in range(4)])
    )
    label = (
        f'{head} OBJECT = FILE ^TABLE = "CDR6_1_0803692813_WV_L_0.TAB" RECORD_TYPE = FIXED_LENGTH RECORD_BYTES = 13 '
        f'FILE_RECORDS = 480 OBJECT = TABLE NAME = "WAVELENGTH TABLE" INTERCHANGE_FORMAT = "ASCII" ROWS = 4804 '
        f"COLUMNS = 5 ROW_BYTES = 13 {columns} END_OBJECT = TABLE END_OBJECT = FILE END"
    )
    (tmp_path / "CDR6_1_0803692813_WV_L_0.LBL").write_text(label)
    rows = "".join(f"{r:3d},{r % 2},1,{(r // 2) % 2},0\r\n" for r in range(480))
    (tmp_path / "cdr6_1_0803692813_wv_l_0.tab").write_text(rows, newline="")
    with pytest.warns(UserWarning, match=r"ROWS = 4804"):
        ds = xr.open_dataset(tmp_path / "CDR6_1_0803692813_WV_L_0.LBL", engine="crism")
        np.testing.assert_array_equal(ds.ir_row.values, np.arange(480))
        np.testing.assert_array_equal(ds.ir_filter_0.values, np.arange(480) % 2)


def test_full_size_ddr_from_the_real_hrl_label_matches_gdal(tmp_path: Path) -> None:
    template = CRISM / "labels" / "hrl000040ff_07_de183l_ddr1.lbl"
    data = _cube((14, 480, 320), np.float32, seed=9)
    product = write_cube(tmp_path, template, "HRL000040FF_07_DE183L_DDR1", data, storage="BAND_SEQUENTIAL", band_names=DDR_NAMES)
    ds = xr.open_dataset(product.label, engine="crism", chunks={})
    with rasterio.open(product.label) as src:
        reference = src.read()
    for i, name in enumerate(DDR_VARIABLES):
        np.testing.assert_array_equal(ds[name].values, reference[i])


def test_radiance_trdr_from_the_real_ra_label(tmp_path: Path) -> None:
    data = _cube((107, 15, 64), np.float32)
    data[:, :, :3] = 65535.0
    template = CRISM / "labels" / "frt0001073b_01_ra156s_trr3.lbl"
    product = write_cube(tmp_path, template, "FRT0001073B_01_RA156S_TRR3", data, unit="W / (m**2 micrometer sr)",
                         detector_rows=np.arange(107) + 185)
    ds = xr.open_dataset(product.label, engine="crism")
    assert ds.radiance.attrs["units"] == "W m-2 um-1 sr-1"
    assert np.isnan(ds.radiance.values[:, :, :3]).all()
    np.testing.assert_array_equal(ds.radiance.values[:, :, 3:], data[:, :, 3:])
    assert "shipped with xarray-crism" in ds.wavelength.attrs["source"]
