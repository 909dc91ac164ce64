"""MTRDR/TER georeferencing as real labels write it: both offset conventions, spheres and ellipsoids, against the
label's own bounds always and against GDAL where GDAL is right.

The facts are those published for the real MTRDR FRT00005C5E (its ENVI header's map info and its label's bounds):
upper-left corner (4,422,849.2 m, 1,104,156.6 m), 18.0 m pixels, a sphere of 3,394,839.8133 m (the IAU Mars
ellipsoid's local radius at 15 degrees), true-scale latitude 15, central meridian 0, 891 lines x 890 samples,
bounds W 77.279195 N 18.635047 E 77.558793 S 18.364672 (pixel centres).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pyproj
import pytest
import rasterio
import xarray as xr

from xarray_crism.errors import LabelValueError
from xarray_crism.formats.projection import choose_convention, parse_map_projection
from xarray_crism.labels.pds3 import parse_label
from xarray_crism.testing.maps import MapGrid, projected_grid, write_map_product

from .conftest import CRISM

TEMPLATE = CRISM / "labels" / "T0897_MRRAL_05S113_0256_1_cropped.LBL"  # identification part of a real map label
PID = "FRT00005C5E_07_SU165J_MTR3"
UPPER_LEFT = (4_422_849.2, 1_104_156.6)
PIXEL = 18.0
LOCAL_RADIUS = 3_394_839.8133
SHAPE = (891, 890)
BOUNDS = {"WESTERNMOST_LONGITUDE": 77.279195, "MAXIMUM_LATITUDE": 18.635047,
          "EASTERNMOST_LONGITUDE": 77.558793, "MINIMUM_LATITUDE": 18.364672}
IAU = (3396.19, 3396.19, 3376.2)  # the IAU 2000 Mars ellipsoid, km
ISIS = (LOCAL_RADIUS / 1000, LOCAL_RADIUS / 1000, 3376.2)  # A = B = the local radius (what ISIS writes), C polar


def _local_radius(lat: float, a: float = 3_396_190.0, c: float = 3_376_200.0) -> float:
    phi = math.radians(lat)
    return a * c / math.hypot(c * math.cos(phi), a * math.sin(phi))


def _facts(convention: str, radii: tuple[float, float, float] | None = None, **kw: object) -> MapGrid:
    """A label of FRT00005C5E's georeferencing, with the bounds its real label prints."""
    grid = projected_grid(UPPER_LEFT, PIXEL, *SHAPE, center_latitude=15.0, sphere_m=LOCAL_RADIUS,
                          radii_km=radii, convention=convention, **kw)  # type: ignore[arg-type]
    return MapGrid(grid.lines, grid.samples, {**grid.keywords, **{k: f"{v} <DEG>" for k, v in BOUNDS.items()}})


def _write(tmp_path: Path, grid: MapGrid) -> Path:
    data = np.arange(grid.lines * grid.samples, dtype=np.float32).reshape(1, grid.lines, grid.samples)
    return write_map_product(tmp_path, TEMPLATE, PID, data, grid, band_names=["R770"]).label


def _gdal(label: Path) -> tuple[tuple[float, ...], pyproj.CRS]:
    with rasterio.open(label) as src:
        return src.transform.to_gdal(), pyproj.CRS(src.crs.to_wkt())


def _geotransform(ds: xr.Dataset) -> list[float]:
    return [float(v) for v in ds.spatial_ref.attrs["GeoTransform"].split()]


def test_the_writer_reproduces_the_published_bounds() -> None:
    grid = projected_grid(UPPER_LEFT, PIXEL, *SHAPE, center_latitude=15.0, sphere_m=LOCAL_RADIUS)
    for key, value in BOUNDS.items():  # the corner in the map info is printed to 0.1 m: 1e-6 degrees
        assert float(grid.keywords[key].split()[0]) == pytest.approx(value, abs=1.5e-6)
    assert (grid.lines, grid.samples) == SHAPE
    assert grid.keywords["MAP_SCALE"] == "0.018 <KM/PIXEL>"  # printed as a km value with 3 decimals


CASES = {  # name: (convention, radii, which sphere, GDAL right?)
    "standard-sphere": ("pds_standard", None, "A_AXIS_RADIUS", True),
    "standard-isis-ellipsoid": ("pds_standard", ISIS, "A_AXIS_RADIUS", True),
    "standard-iau-ellipsoid": ("pds_standard", IAU, "local radius at CENTER_LATITUDE of the A/C ellipsoid", False),
    "tile-sphere": ("crism_tile", None, "A_AXIS_RADIUS", False),
    "tile-iau-ellipsoid": ("crism_tile", IAU, "local radius at CENTER_LATITUDE of the A/C ellipsoid", False),
}


@pytest.mark.parametrize("case", CASES)
def test_the_label_bounds_choose_the_reading(tmp_path: Path, case: str) -> None:
    convention, radii, source, _ = CASES[case]
    ds = xr.open_dataset(_write(tmp_path, _facts(convention, radii)), engine="crism", lat_lon=True)
    attrs = ds.spatial_ref.attrs
    assert attrs["map_convention"] == convention and attrs["sphere_radius_source"] == source
    assert attrs["semi_major_axis"] == attrs["semi_minor_axis"] == pytest.approx(LOCAL_RADIUS, abs=1e-3)
    # the published upper-left corner, whatever the reading the label is written in (the tile reading's pixel
    # is R*pi/180 / MAP_RESOLUTION, printed with 4 decimals: 1.5e-8 of 245,714 pixels, 0.04 m)
    atol = 2e-3 if convention == "pds_standard" else 0.05
    assert ds.x.values[0] - PIXEL / 2 == pytest.approx(UPPER_LEFT[0], abs=atol)
    assert ds.y.values[0] + PIXEL / 2 == pytest.approx(UPPER_LEFT[1], abs=atol)
    np.testing.assert_allclose(np.diff(ds.x.values), PIXEL, rtol=1e-7)
    # and the label's bounds are the corner pixels' centres (to the 6 decimals they are printed with)
    lat, lon = ds.lat.values, ds.lon.values
    assert lon[0, 0] == pytest.approx(BOUNDS["WESTERNMOST_LONGITUDE"], abs=2e-6)
    assert lon[-1, -1] == pytest.approx(BOUNDS["EASTERNMOST_LONGITUDE"], abs=2e-6)
    assert lat[0, 0] == pytest.approx(BOUNDS["MAXIMUM_LATITUDE"], abs=2e-6)
    assert lat[-1, -1] == pytest.approx(BOUNDS["MINIMUM_LATITUDE"], abs=2e-6)


@pytest.mark.parametrize("case", [c for c, v in CASES.items() if v[3]])
def test_gdal_agrees_where_it_reads_the_label_right(tmp_path: Path, case: str) -> None:
    convention, radii, _, _ = CASES[case]
    label = _write(tmp_path, _facts(convention, radii))
    ds = xr.open_dataset(label, engine="crism")
    gdal, crs = _gdal(label)
    # GDAL's pixel is MAP_SCALE (18.0 m); ours R*pi/180/MAP_RESOLUTION, which agrees to 1e-8: 0.05 m over the offset
    np.testing.assert_allclose(gdal, _geotransform(ds), rtol=0, atol=0.05)
    ours = pyproj.CRS.from_wkt(ds.spatial_ref.attrs["crs_wkt"])
    assert crs.ellipsoid.semi_major_metre == crs.ellipsoid.semi_minor_metre == pytest.approx(LOCAL_RADIUS, abs=1e-3)
    assert ours.ellipsoid.semi_major_metre == pytest.approx(crs.ellipsoid.semi_major_metre, abs=1e-3)
    params = {p.name: p.value for p in crs.coordinate_operation.params}
    assert {p.name: p.value for p in ours.coordinate_operation.params} == params
    assert params["Latitude of 1st standard parallel"] == 15.0


def test_gdal_misreads_a_tile_convention_label(tmp_path: Path) -> None:
    label = _write(tmp_path, _facts("crism_tile"))
    ds = xr.open_dataset(label, engine="crism")
    gdal, _ = _gdal(label)
    # GDAL takes SAMPLE_PROJECTION_OFFSET in map pixels: SPO * (1 - cos 15) pixels west of the label's bounds
    block = next(parse_label(label.read_text()).blocks("IMAGE_MAP_PROJECTION"))
    offset = float(block.get("SAMPLE_PROJECTION_OFFSET"))
    shift = -offset * (1 - math.cos(math.radians(15))) * PIXEL
    assert gdal[0] == pytest.approx(_geotransform(ds)[0] + shift, abs=0.05) and abs(shift) > 1e5


def test_gdal_misreads_an_iau_ellipsoid_label(tmp_path: Path) -> None:
    label = _write(tmp_path, _facts("pds_standard", IAU))
    _, crs = _gdal(label)
    assert crs.ellipsoid.semi_major_metre == 3_396_190.0  # GDAL: A_AXIS_RADIUS is the local radius (ISIS's habit)
    west = math.degrees((UPPER_LEFT[0] + 9) / (3_396_190.0 * math.cos(math.radians(15))))
    assert abs(west - BOUNDS["WESTERNMOST_LONGITUDE"]) * 3291.7 * math.cos(math.radians(15)) > 90  # pixels off


@pytest.mark.parametrize(("lat_ts", "west"), [(-40.0, 310.5), (62.5, 145.25), (0.0, 12.0)])
def test_other_latitudes_and_radii(tmp_path: Path, lat_ts: float, west: float) -> None:
    radius = _local_radius(lat_ts)
    per_degree = radius * math.pi / 180
    x0 = (west - 0.0) * per_degree * math.cos(math.radians(lat_ts))
    if x0 > math.pi * radius * math.cos(math.radians(lat_ts)):
        x0 -= 2 * math.pi * radius * math.cos(math.radians(lat_ts))  # west of the central meridian
    upper_left = (x0 - 6.0, (lat_ts + 0.1) * per_degree + 6.0)
    for convention in ("pds_standard", "crism_tile"):
        grid = projected_grid(upper_left, 12.0, 40, 30, center_latitude=lat_ts, sphere_m=radius, radii_km=IAU,
                              convention=convention)
        (tmp_path / convention).mkdir()
        ds = xr.open_dataset(_write(tmp_path / convention, grid), engine="crism", lat_lon=True)
        expected = "crism_tile" if lat_ts == 0 else convention  # at the equator the readings coincide: the first wins
        assert ds.spatial_ref.attrs["map_convention"] == expected
        assert ds.spatial_ref.attrs["semi_major_axis"] == pytest.approx(radius, abs=1e-6)
        assert float(ds.lon[0, 0]) == pytest.approx(west, abs=2e-6)
        assert float(ds.lat[0, 0]) == pytest.approx(lat_ts + 0.1, abs=2e-6)


def test_bounds_that_fit_no_reading_are_refused(tmp_path: Path) -> None:
    grid = _facts("pds_standard")
    keywords = {**grid.keywords, "WESTERNMOST_LONGITUDE": "76.0 <DEG>"}
    label = _write(tmp_path, MapGrid(grid.lines, grid.samples, keywords))
    with pytest.raises(LabelValueError, match=r"WESTERNMOST_LONGITUDE = 76\.0; expected one of: 74\.6\d+ reading .*"
                       r"crism_tile way .*; 77\.2791\d+ reading .*pds_standard way.*georeference=False"):
        xr.open_dataset(label, engine="crism")
    ds = xr.open_dataset(label, engine="crism", georeference=False)
    assert ds.r770.dims == ("line", "sample")


def _projection(grid: MapGrid) -> object:
    text = "OBJECT = IMAGE_MAP_PROJECTION\n" + "".join(f"  {k} = {v}\n" for k, v in grid.keywords.items())
    return parse_map_projection(parse_label(text + "END_OBJECT = IMAGE_MAP_PROJECTION\nEND\n", "m.lbl"), "m.lbl")


def test_map_scale_and_resolution_agree_to_their_printed_precision() -> None:
    grid = _facts("pds_standard")
    assert _projection(grid).scale_m == pytest.approx(18.0, rel=1e-8)  # type: ignore[attr-defined]
    # MAP_RESOLUTION rounded to an integer (17.9985 m) agrees with MAP_SCALE 0.018 to the precision of both
    coarse = _facts("pds_standard", resolution_decimals=0)
    assert coarse.keywords["MAP_RESOLUTION"] == "3292 <PIX/DEG>"
    chosen = choose_convention(_projection(coarse), *SHAPE, "m.lbl")  # type: ignore[arg-type]
    assert (chosen.convention, chosen.scale_m) == ("pds_standard", 18.0)  # the standard reading's pixel: MAP_SCALE
    # the tile reading's pixel: the more precisely printed of MAP_SCALE and radius*pi/180 / MAP_RESOLUTION
    precise = MapGrid(*SHAPE, {**coarse.keywords, "MAP_SCALE": "0.01799852136 <KM/PIXEL>"})
    assert _projection(precise).scale_m == pytest.approx(17.99852136, abs=1e-9)  # type: ignore[attr-defined]
    # 19 m is not 18 m to 3 decimals of a km
    wrong = MapGrid(*SHAPE, {**grid.keywords, "MAP_SCALE": "0.019 <KM/PIXEL>"})
    with pytest.raises(LabelValueError, match=r"MAP_SCALE = .*0\.019.*expected 0\.01799999\d* KM/PIXEL .*printed with"):
        _projection(wrong)


def test_triaxial_radii_are_refused() -> None:
    grid = _facts("pds_standard", (3396.19, 3390.0, 3376.2))
    with pytest.raises(LabelValueError, match=r"B_AXIS_RADIUS = .*3390.*triaxial"):
        _projection(grid)


def test_choose_convention_keeps_a_polar_tile() -> None:
    from xarray_crism.testing.maps import polar_grid

    proj = _projection(polar_grid(64, 256.0))
    assert choose_convention(proj, 64, 64, "p.lbl") is proj  # type: ignore[arg-type]
    assert proj.convention == "crism_polar_tile" and proj.radius_source == "C_AXIS_RADIUS"  # type: ignore[attr-defined]
