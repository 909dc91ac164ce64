"""TER, MTRDR, MRDR and VRDR products: values, WV wavelengths, map coordinates, CRS, browse."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pyproj
import pytest
import rasterio
import xarray as xr

from xarray_crism.errors import LabelValueError, ShapeMismatchError
from xarray_crism.formats.products import KINDS
from xarray_crism.formats.wv_tables import parse_wv_table
from xarray_crism.testing.maps import (
    MapGrid,
    equirectangular_grid,
    polar_grid,
    write_envi_header,
    write_map_product,
    write_wv_table,
)

from .conftest import CRISM

MRDR_LABEL = CRISM / "labels" / "T0897_MRRAL_05S113_0256_1_cropped.LBL"
MRDR_DE_LABEL = CRISM / "labels" / "t1865_mrrde_70n185_0256_1_cropped.lbl"
MTRDR_WV = CRISM / "tables" / "mtrdr_axis_wv_j.tab"
MRDR_WV = CRISM / "labels" / "t0897_mrrwv_05s113_0256_1.tab"
MTRDR_ID = "FRT00003E12_07_IF166J_MTR3"
DE_NAMES = [
    "Solar longitude, deg", "Solar distance, AU", "INA at areoid, deg", "Latitude, areocentric, deg N", "Spare",
]


def _cube(bands: int, lines: int, samples: int, seed: int = 0, fill: bool = True) -> np.ndarray:
    data = np.random.default_rng(seed).random((bands, lines, samples), dtype=np.float32)
    if fill:
        data[:, 0, :3] = 65535.0  # non-scene pixels, as in the real products
    return data


def _to_geographic(ds: xr.Dataset) -> pyproj.Transformer:
    crs = pyproj.CRS(ds.spatial_ref.attrs["crs_wkt"])
    return pyproj.Transformer.from_crs(crs, pyproj.CRS("+proj=longlat +R=3396000 +no_defs"), always_xy=True)


def _real_wv(path: Path, layout: str) -> dict[str, np.ndarray]:
    return parse_wv_table(path.read_text(encoding="ascii"), layout, str(path))


def _mtrdr(tmp_path: Path, *, hdr: bool = True, lines: int = 12, samples: int = 17) -> tuple[Path, np.ndarray, MapGrid]:
    wv = _real_wv(MTRDR_WV, "wv_targeted")
    east = 77.1 + (samples - 0.5) / (1920 * np.cos(np.radians(18.3)))
    grid = equirectangular_grid(18.3, 18.3 - (lines - 0.5) / 1920, 77.1, east, 1920)
    data = _cube(wv["wavelength"].size, grid.lines, grid.samples)
    product = write_map_product(tmp_path, MRDR_LABEL, MTRDR_ID, data, grid, storage="LINE_INTERLEAVED", unit="I over F")
    shutil.copy(MTRDR_WV, tmp_path / "frt00003e12_07_wv166j_mtr3.tab")
    if hdr:
        write_envi_header(tmp_path / "frt00003e12_07_if166j_mtr3.hdr", data.shape, wv["wavelength"], wv["fwhm"], interleave="bil")
    return product.label, data, grid


def test_mtrdr_values_equal_gdal_and_wavelengths_equal_the_real_wv_table(tmp_path: Path) -> None:
    label, data, _ = _mtrdr(tmp_path)
    ds = xr.open_dataset(label, engine="crism", mask_and_scale=False)
    assert ds.i_over_f.dims == ("band", "y", "x")
    with rasterio.open(label) as src:
        gdal = src.read()
    np.testing.assert_array_equal(ds.i_over_f.values, gdal)
    np.testing.assert_array_equal(ds.i_over_f.values, data)
    wv = _real_wv(MTRDR_WV, "wv_targeted")
    np.testing.assert_array_equal(ds.wavelength.values, wv["wavelength"])
    np.testing.assert_array_equal(ds.fwhm.values, wv["fwhm"])
    assert ds.wavelength.values[0] == 436.13 and ds.wavelength.values[-1] == 3896.76  # first/last real rows
    assert list(np.unique(ds.sensor.values)) == ["L", "S"] and int((ds.sensor == "S").sum()) == 78
    assert ds.detector_row.values[0] == 196 and not ds.bad_band.values.any()
    assert ds.wavelength.attrs["source"] == "frt00003e12_07_wv166j_mtr3.tab"
    decoded = xr.open_dataset(label, engine="crism")
    assert np.isnan(decoded.i_over_f.values[:, 0, :3]).all()


def test_mtrdr_map_coordinates_equal_gdal_geotransform(tmp_path: Path) -> None:
    label, _, grid = _mtrdr(tmp_path)
    ds = xr.open_dataset(label, engine="crism")
    with rasterio.open(label) as src:
        transform, gdal_crs = src.transform, pyproj.CRS(src.crs.to_wkt())
        centres = [src.xy(i, j) for i, j in ((0, 0), (grid.lines - 1, grid.samples - 1))]
    # GDAL counts SAMPLE_PROJECTION_OFFSET in map pixels, CRISM at equatorial spacing (see projection.py)
    offset = float(grid.keywords["SAMPLE_PROJECTION_OFFSET"])
    lat_ts = float(grid.keywords["CENTER_LATITUDE"].split()[0])
    shift = offset * (1 - np.cos(np.radians(lat_ts))) * float(ds.x[1] - ds.x[0])
    np.testing.assert_allclose([ds.x.values[0] - shift, ds.y.values[0]], centres[0], atol=1e-6)
    np.testing.assert_allclose([ds.x.values[-1] - shift, ds.y.values[-1]], centres[1], atol=1e-6)
    ours = [float(v) for v in ds.spatial_ref.attrs["GeoTransform"].split()]
    gdal = [transform.c + shift, transform.a, transform.b, transform.f, transform.d, transform.e]
    np.testing.assert_allclose(ours, gdal, atol=1e-6)
    crs = pyproj.CRS(ds.spatial_ref.attrs["crs_wkt"])
    assert crs.ellipsoid.semi_major_metre == gdal_crs.ellipsoid.semi_major_metre == 3396000.0
    assert crs.ellipsoid.semi_minor_metre == 3396000.0
    ours_params = {p.name: p.value for p in crs.coordinate_operation.params}
    gdal_params = {p.name: p.value for p in gdal_crs.coordinate_operation.params}
    assert ours_params == pytest.approx(gdal_params)
    assert ds.i_over_f.attrs["grid_mapping"] == "spatial_ref"


def test_map_corners_follow_the_projection_equations(tmp_path: Path) -> None:
    label, _, grid = _mtrdr(tmp_path)
    ds = xr.open_dataset(label, engine="crism", lat_lon=True)
    lat0 = 18.3
    res = 1920.0
    # catalog equations: LINE = LINE_PROJECTION_OFFSET - lat * MAP_RESOLUTION (0-based centres)
    np.testing.assert_allclose(ds.lat.values[:, 0], 18.3 - np.arange(grid.lines) / res, atol=0.01 / res)
    west = 77.1
    expected_lon = west + np.arange(grid.samples) / (res * np.cos(np.radians(lat0)))
    np.testing.assert_allclose(ds.lon.values[0], expected_lon, atol=0.01 / res)
    to_geo = _to_geographic(ds)
    xx, yy = np.meshgrid(ds.x.values, ds.y.values)
    lon, lat = to_geo.transform(xx, yy)
    np.testing.assert_allclose(ds.lat.values, lat, atol=1e-9)
    np.testing.assert_allclose(ds.lon.values, lon, atol=1e-9)
    np.testing.assert_allclose(ds.lat[3:5, 2].values, ds.lat.values[3:5, 2])  # windows compute alone


def test_geotiff_written_through_rioxarray_reads_back_in_gdal(tmp_path: Path) -> None:
    rioxarray = pytest.importorskip("rioxarray")
    assert rioxarray is not None
    label, data, _ = _mtrdr(tmp_path)
    ds = xr.open_dataset(label, engine="crism", mask_and_scale=False)
    assert ds.rio.crs is not None
    tif = tmp_path / "band0.tif"
    ds.i_over_f.isel(band=[0, 100]).rio.to_raster(tif)
    with rasterio.open(tif) as src:
        np.testing.assert_array_equal(src.read(), data[[0, 100]])
        assert src.crs == ds.rio.crs
        gt = [float(v) for v in ds.spatial_ref.attrs["GeoTransform"].split()]
        np.testing.assert_allclose(src.transform.to_gdal(), gt, atol=1e-6)
        assert pyproj.CRS(src.crs.to_wkt()).equals(pyproj.CRS(ds.spatial_ref.attrs["crs_wkt"]), ignore_axis_order=True)


def test_ter_is_sensor_space_with_bad_bands_from_the_flag(tmp_path: Path) -> None:
    wv = _real_wv(MTRDR_WV, "wv_targeted")
    flags = np.ones(wv["wavelength"].size, dtype=int)
    flags[[0, 5, 488]] = 0
    sensors = np.where(wv["sensor"] == "S", 1, 0)
    write_wv_table(tmp_path / "frt00003e12_07_wv166j_ter3.tab", sensors, wv["detector_row"], wv["wavelength"], wv["fwhm"], flags)
    data = _cube(wv["wavelength"].size, 6, 5)
    product = write_map_product(tmp_path, MRDR_LABEL, "FRT00003E12_07_IF166J_TER3", data, None, storage="LINE_INTERLEAVED")
    ds = xr.open_dataset(product.label, engine="crism", mask_and_scale=False)
    assert ds.i_over_f.dims == ("band", "line", "sample") and "spatial_ref" not in ds.coords
    assert list(np.flatnonzero(ds.bad_band.values)) == [0, 5, 488]
    np.testing.assert_array_equal(ds.wavelength.values, wv["wavelength"])
    np.testing.assert_array_equal(ds.i_over_f.values, data)


def test_envi_header_that_disagrees_with_the_wv_table_is_an_error(tmp_path: Path) -> None:
    label, data, _ = _mtrdr(tmp_path)
    wv = _real_wv(MTRDR_WV, "wv_targeted")
    shifted = wv["wavelength"].copy()
    shifted[10] += 0.05
    write_envi_header(tmp_path / "frt00003e12_07_if166j_mtr3.hdr", data.shape, shifted, wv["fwhm"])
    ds = xr.open_dataset(label, engine="crism")
    with pytest.raises(LabelValueError, match=r"frt00003e12_07_if166j_mtr3\.hdr: wavelength\[10\].*wv166j_mtr3\.tab"):
        _ = ds.wavelength.values
    micrometres = (wv["wavelength"] / 1000, wv["fwhm"] / 1000)
    write_envi_header(tmp_path / "frt00003e12_07_if166j_mtr3.hdr", data.shape, *micrometres, units="Micrometers")
    np.testing.assert_array_equal(xr.open_dataset(label, engine="crism").wavelength.values, wv["wavelength"])


def test_wv_table_of_another_length_is_an_error_and_a_missing_one_is_recorded(tmp_path: Path) -> None:
    label, _, _ = _mtrdr(tmp_path, hdr=False)
    wv_path = tmp_path / "frt00003e12_07_wv166j_mtr3.tab"
    wv_path.write_bytes(b"".join(wv_path.read_bytes().splitlines(keepends=True)[:-1]))
    with pytest.raises(ShapeMismatchError, match=r"wv166j_mtr3\.tab: rows = 488; expected 489"):
        _ = xr.open_dataset(label, engine="crism").wavelength.values
    wv_path.unlink()
    ds = xr.open_dataset(label, engine="crism")
    assert "wavelength" not in ds.coords and ds.attrs["missing_sidecars"] == ["WV table"]


def test_mrdr_if_with_the_real_wavelength_list(tmp_path: Path) -> None:
    wv = _real_wv(MRDR_WV, "wv_tile")
    grid = equirectangular_grid(-2.5, -2.53, 110.0, 110.05, 256, center_latitude=-2.5)
    data = _cube(72, grid.lines, grid.samples)
    shutil.copy(MRDR_WV, tmp_path / MRDR_WV.name)
    pid = "T0897_MRRIF_05S113_0256_1"
    product = write_map_product(tmp_path, MRDR_LABEL, pid, data, grid, wavelength_file="T0897_MRRWV_05S113_0256_1.TAB")
    ds = xr.open_dataset(product.label, engine="crism", mask_and_scale=False)
    np.testing.assert_array_equal(ds.wavelength.values, wv["wavelength"])
    assert ds.wavelength.values[0] == 410.12 and ds.sensor.values[0] == "S" and ds.sensor.values[-1] == "L"
    assert "fwhm" not in ds.coords and ds.i_over_f.dims == ("band", "y", "x")
    with rasterio.open(product.label) as src:
        np.testing.assert_array_equal(ds.i_over_f.values, src.read())


def test_mrdr_de_backplanes_are_named_variables(tmp_path: Path) -> None:
    block = re.search(r"BAND_NAME = \((.*?)\)", MRDR_DE_LABEL.read_text(encoding="latin-1"), re.S)
    assert block is not None
    names = [" ".join(n.split()) for n in re.findall(r'"([^"]*)"', block[1])] + ["Spare"]
    assert len(names) == 24
    grid = equirectangular_grid(72.5, 72.45, 180.0, 180.1, 256, center_latitude=67.5)
    data = _cube(24, grid.lines, grid.samples, fill=False)
    product = write_map_product(tmp_path, MRDR_DE_LABEL, "T1865_MRRDE_70N185_0256_1", data, grid, band_names=names)
    ds = xr.open_dataset(product.label, engine="crism", mask_and_scale=False)
    expected = [
        "solar_longitude", "solar_distance", "observation_id_vnir", "observation_id_ir", "counter_vnir", "counter_ir",
        "column_vnir", "column_ir", "line_vnir", "line_ir", "incidence_angle", "emission_angle", "phase_angle",
        "latitude", "longitude", "surface_incidence_angle", "surface_emission_angle", "slope_magnitude",
        "slope_azimuth", "elevation", "thermal_inertia", "bolometric_albedo", "local_solar_time",
    ]
    assert list(ds.data_vars) == expected
    for band, name in enumerate(expected):
        np.testing.assert_array_equal(ds[name].values, data[band])
        assert ds[name].dims == ("y", "x") and ds[name].attrs["grid_mapping"] == "spatial_ref"
    assert ds.solar_distance.attrs["units"] == "au"


def test_real_mrdr_de_label_opens_where_its_bounds_say(tmp_path: Path) -> None:
    text = MRDR_DE_LABEL.read_text(encoding="latin-1")
    label = tmp_path / MRDR_DE_LABEL.name
    label.write_text(text, encoding="latin-1")
    (tmp_path / "t1865_mrrde_70n185_0256_1_cropped.img").write_bytes(np.zeros((24, 10, 980), "<f4").tobytes())
    with pytest.raises(LabelValueError, match=r"BAND_NAME = .*expected 1 band names"):  # cropped by ISIS: BANDS = 1
        xr.open_dataset(label, engine="crism")
    fixed = text.replace("BANDS             = 1", "BANDS             = 24")
    label.write_text(fixed, encoding="latin-1")
    ds = xr.open_dataset(label, engine="crism", lat_lon=True)
    assert float(ds.lon[0, 0]) == pytest.approx(0.0, abs=1e-9) and float(ds.lat[0, 0]) == pytest.approx(72.5, abs=1e-9)
    assert ds.latitude.dims == ("y", "x")
    label.write_text(fixed.replace("WESTERNMOST_LONGITUDE        = 360.0", "WESTERNMOST_LONGITUDE        = 185.0"))
    with pytest.raises(LabelValueError, match=r"WESTERNMOST_LONGITUDE = 185\.0.*georeference=False"):
        xr.open_dataset(label, engine="crism")
    ds = xr.open_dataset(label, engine="crism", georeference=False)
    assert ds.latitude.dims == ("line", "sample") and "spatial_ref" not in ds.coords


def test_polar_vrdr_tile_latitudes_match_pyproj(tmp_path: Path) -> None:
    grid = polar_grid(40, 654)
    data = _cube(3, 40, 40)
    product = write_map_product(tmp_path, MRDR_LABEL, "T1964_VRRAL_90N000_0654_1", data, grid)
    ds = xr.open_dataset(product.label, engine="crism", lat_lon=True)
    assert ds.missing_sidecars == ["WV table"]
    to_geo = _to_geographic(ds)
    xx, yy = np.meshgrid(ds.x.values, ds.y.values)
    _, lat = to_geo.transform(xx, yy)
    pixel_deg = 1 / 654
    np.testing.assert_allclose(ds.lat.values, lat, atol=0.01 * pixel_deg)
    assert ds.lat.values.min() > 89.9 and (ds.lat.values < 90).all()
    # the catalog's equations, north: x = (SAMPLE - offset - 0.5)/res, y = (LINE - offset - 0.5)/res (1-based)
    j, i = np.meshgrid(np.arange(40) + 1, np.arange(40) + 1)
    cx, cy = (j - 20 - 0.5) / 654, (i - 20 - 0.5) / 654
    catalog_lat = 90 - 2 * np.degrees(np.arctan(np.hypot(cx, cy) * np.pi / 360))
    catalog_lon = np.degrees(np.arctan2(cx, cy)) % 360
    np.testing.assert_allclose(ds.lat.values, catalog_lat, atol=0.01 * pixel_deg)
    far = np.hypot(cx, cy) > 5 * pixel_deg  # longitude is ill-defined at the pole itself
    dlon = (ds.lon.values - catalog_lon + 180) % 360 - 180
    assert np.abs(dlon[far] * np.cos(np.radians(ds.lat.values[far]))).max() < 0.01 * pixel_deg


def test_browse_product_keeps_its_stretch_and_bytes(tmp_path: Path) -> None:
    _, _, grid = _mtrdr(tmp_path)
    rgb = np.random.default_rng(3).integers(0, 256, (3, grid.lines, grid.samples), dtype=np.uint8)
    stretch = {"MRO:RED_STRETCH_MINIMUM": "0.004", "MRO:RED_STRETCH_MAXIMUM": "0.03", "DESCRIPTION": '"FAL browse"'}
    product = write_map_product(
        tmp_path, MRDR_LABEL, "FRT00003E12_07_BRFAL_MTR3", rgb, grid, sample_type="MSB_UNSIGNED_INTEGER",
        band_names=["OLINDEX3", "LCPINDEX2", "HCPINDEX2"], image_keywords=stretch,
    )
    ds = xr.open_dataset(product.label, engine="crism")
    assert ds.browse.dtype == np.uint8 and ds.browse.dims == ("band", "y", "x")
    np.testing.assert_array_equal(ds.browse.values, rgb)
    with rasterio.open(product.label) as src:
        np.testing.assert_array_equal(src.read(), rgb)
    assert ds.browse.attrs["mro_red_stretch_minimum"] == 0.004 and ds.browse.attrs["mro_red_stretch_maximum"] == 0.03
    assert list(ds.band_name.values) == ["OLINDEX3", "LCPINDEX2", "HCPINDEX2"]
    assert "wavelength" not in ds.coords and ds.attrs["product_code"] == "BR"


_MAP_FAMILIES = ("TER", "MTRDR", "MRDR", "VRDR")
_NAMES = {
    "TER": "HRL000040FF_07_{code}182J_TER3", "MTRDR": "HRL000040FF_07_{code}182J_MTR3",
    "MRDR": "T0897_MRR{code}_05S113_0256_1", "VRDR": "T0897_VRR{code}_05S113_0654_1",
}


@pytest.mark.parametrize(
    ("family", "code"), [key for key in KINDS if key[0] in _MAP_FAMILIES], ids=lambda v: str(v),
)
def test_every_map_family_kind_opens_with_gdal_values(tmp_path: Path, family: str, code: str) -> None:
    kind = KINDS[(family, code)]
    grid = equirectangular_grid(-2.5, -2.52, 110.0, 110.03, 256, center_latitude=-2.5) if kind.map_projected else None
    shape = (6, 8) if grid is None else (grid.lines, grid.samples)
    names = ["R770", "BD1900_2", "OLINDEX3"] if kind.band_names == "slug" else DE_NAMES if kind.band_names == "ddr" else None
    bands = len(names) if names else 3
    pid = _NAMES[family].format(code="BRFAL"[: 5 if code == "BR" else 0] or code)
    pid = pid.replace("_BRFAL182J_", "_BRFALJ_").replace("MRRBRFAL", "MRRFAL").replace("VRRBRFAL", "VRRTRU")
    data = _cube(bands, *shape, fill=False)
    sample_type = "PC_REAL"
    if code == "BR":
        data = np.random.default_rng(1).integers(0, 256, data.shape).astype(np.uint8)
        sample_type = "MSB_UNSIGNED_INTEGER"
    product = write_map_product(tmp_path, MRDR_LABEL, pid, data, grid, band_names=names, sample_type=sample_type)
    ds = xr.open_dataset(product.label, engine="crism", mask_and_scale=False)
    with rasterio.open(product.label) as src:
        gdal = src.read()
    assert ds.attrs["product_family"] == family and ds.attrs["product_code"] == code
    spatial = ("y", "x") if kind.map_projected else ("line", "sample")
    if kind.variable is not None:
        np.testing.assert_array_equal(ds[kind.variable].values, gdal)
        assert ds[kind.variable].dims == ("band", *spatial)
    else:
        stacked = np.stack([ds[v].values for v in ds.data_vars])
        kept = [i for i, n in enumerate(names or []) if n != "Spare"]
        np.testing.assert_array_equal(stacked, gdal[kept])
        assert all(ds[v].dims == spatial for v in ds.data_vars)
    assert ("spatial_ref" in ds.coords) is kind.map_projected


def test_real_mrdr_label_opens_and_its_one_band_does_not_take_the_72_row_wv_table(tmp_path: Path) -> None:
    label = tmp_path / MRDR_LABEL.name
    shutil.copy(MRDR_LABEL, label)
    data = _cube(1, 10, 1279)
    (tmp_path / "T0897_MRRAL_05S113_0256_1_cropped.IMG").write_bytes(data.astype("<f4").tobytes())
    ds = xr.open_dataset(label, engine="crism", mask_and_scale=False)
    # GDAL takes the unquoted ^IMAGE file name for a record number of the label, and pdr fails on
    # this label: the oracle for its values is the file itself, read with numpy.
    expected = np.fromfile(tmp_path / "T0897_MRRAL_05S113_0256_1_cropped.IMG", "<f4").reshape(1, 10, 1279)
    np.testing.assert_array_equal(ds.lambert_albedo.values, expected)
    with rasterio.open(label) as src:  # GDAL: SAMPLE_PROJECTION_OFFSET in map pixels (see projection.py)
        shift = 640 * (1 - np.cos(np.radians(2.5))) * 231.528833585
        gdal = np.add(src.transform.to_gdal(), (shift, 0, 0, 0, 0, 0))
        np.testing.assert_allclose(gdal, [float(v) for v in ds.spatial_ref.attrs["GeoTransform"].split()], atol=1e-6)
    assert np.isclose(ds.y.values[0], -640 * 231.528833585)  # first line centre: MAXIMUM_LATITUDE = -2.5
    assert ds.attrs["missing_sidecars"] == ["WV table"]  # the label names T0897_MRRWV_05S113_0256_1.TAB: not here
    shutil.copy(MRDR_WV, tmp_path / MRDR_WV.name)
    ds = xr.open_dataset(label, engine="crism")
    with pytest.raises(ShapeMismatchError, match=r"t0897_mrrwv_05s113_0256_1\.tab: rows = 72; expected 1, one per band"):
        _ = ds.wavelength.values


def test_lat_lon_without_map_coordinates_is_an_error(tmp_path: Path, corpus_copy: Path) -> None:
    with pytest.raises(LabelValueError, match=r"lat_lon = True; expected a map-projected product.*TRDR IF is not map-projected"):
        xr.open_dataset(corpus_copy / "frt0001458f_01_if156l_trr3.lbl", engine="crism", lat_lon=True)
    label, _, _ = _mtrdr(tmp_path)
    with pytest.raises(LabelValueError, match="was opened with georeference=False"):
        xr.open_dataset(label, engine="crism", lat_lon=True, georeference=False)


def test_wv_table_and_envi_header_values_are_checked(tmp_path: Path) -> None:
    good = "1, 196,  436.13,    8.62, 1\r\n"
    with pytest.raises(LabelValueError, match=r"x\.tab: flag \(row 2\) = 2\.0; expected 0 \(bad band\) or 1"):
        parse_wv_table(good + good.replace(", 1\r", ", 2\r"), "wv_targeted", "x.tab")
    with pytest.raises(LabelValueError, match=r"sensor \(row 1\) = 0\.5"):
        parse_wv_table(good.replace("1, 196", "0.5, 196"), "wv_targeted", "x.tab")
    label, data, _ = _mtrdr(tmp_path)
    wv = _real_wv(MTRDR_WV, "wv_targeted")
    hdr = tmp_path / "frt00003e12_07_if166j_mtr3.hdr"
    write_envi_header(hdr, data.shape, wv["wavelength"] / 1000, None, units="um")
    np.testing.assert_array_equal(xr.open_dataset(label, engine="crism").wavelength.values, wv["wavelength"])
    hdr.write_text("\ufeff" + hdr.read_text().replace("0.436130", "0.43x"), encoding="utf-8")
    with pytest.raises(LabelValueError, match=r"wavelength\[0\] = '0\.43x'; expected a number"):
        _ = xr.open_dataset(label, engine="crism").wavelength.values
    hdr.write_text(hdr.read_text(encoding="utf-8").replace("units = um", "units = furlongs"), encoding="utf-8")
    with pytest.raises(LabelValueError, match="wavelength units = 'furlongs'"):
        _ = xr.open_dataset(label, engine="crism").wavelength.values
