"""Map projection of PDS3 labels: xarray_crism.formats.projection against GDAL, PROJ and the CRISM map catalogs."""

from __future__ import annotations

import dataclasses
import math
import shutil
from pathlib import Path

import numpy as np
import pyproj
import pytest
import rasterio
from rasterio.crs import CRS as RioCRS

from xarray_crism.errors import LabelValueError
from xarray_crism.formats.projection import (
    MapProjection,
    build_crs_wkt,
    build_geotransform,
    build_grid_mapping_attrs,
    build_lonlat,
    build_xy,
    check_bounds,
    parse_map_projection,
)
from xarray_crism.labels.pds3 import parse_label

from .conftest import CRISM

T0897 = CRISM / "labels" / "T0897_MRRAL_05S113_0256_1_cropped.LBL"
T1865 = CRISM / "labels" / "t1865_mrrde_70n185_0256_1_cropped.lbl"
TRDR = CRISM / "labels" / "frt0001073b_01_ra156s_trr3.lbl"
R = 3396000.0
SCALE = R * math.pi / 180 / 256
SPHERE = "+proj=longlat +R=3396000 +no_defs +type=crs"


def _proj(path: Path, text: str | None = None) -> MapProjection:
    label = parse_label(text if text is not None else path.read_text(encoding="latin-1"), str(path))
    proj = parse_map_projection(label, str(path))
    assert proj is not None
    return proj


def _polar(hemisphere: int, offset: float = 640.0) -> MapProjection:
    return MapProjection("polar_stereographic", R, 90.0 * hemisphere, 0.0, offset, offset, 256.0, SCALE, hemisphere)


def _pixels_apart(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray, resolution: float) -> np.ndarray:
    """Great-circle distance in pixels of 1/resolution degree (haversine)."""
    p1, p2, dl = np.radians(lat1), np.radians(lat2), np.radians(lon2 - lon1)
    h = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return np.degrees(2 * np.arcsin(np.sqrt(np.minimum(h, 1.0)))) * resolution


def _pyproj_lonlat(wkt: str, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(lat, lon) of 2-D x/y by PROJ, from our WKT to a longlat sphere."""
    transformer = pyproj.Transformer.from_crs(pyproj.CRS.from_wkt(wkt), pyproj.CRS(SPHERE), always_xy=True)
    lon, lat = transformer.transform(x, y)
    return np.asarray(lat), np.asarray(lon)


def _params(crs: pyproj.CRS) -> dict[str, float]:
    op = crs.coordinate_operation
    assert op is not None
    return {p.name: p.value for p in op.params}


# --- equirectangular: the real MRDR label, GDAL and the catalog ---------------------------------------------------


def test_t0897_parsed() -> None:
    p = _proj(T0897)
    assert (p.kind, p.radius_m, p.center_latitude, p.center_longitude) == ("equirectangular", R, -2.5, 112.5)
    assert (p.line_offset, p.sample_offset, p.resolution, p.hemisphere) == (-640.0, 640.0, 256.0, 1)
    assert p.scale_m == pytest.approx(231.528833585, rel=1e-9)
    assert p.bounds == {
        "MAXIMUM_LATITUDE": -2.5, "MINIMUM_LATITUDE": -7.5, "WESTERNMOST_LONGITUDE": 110.0, "EASTERNMOST_LONGITUDE": 115.0,
    }
    assert p.extent == (1280, 1279)
    x, y = build_xy(p, 10, 1279)
    assert x.shape == (1279,) and y.shape == (10,) and x.dtype == y.dtype == np.float64
    assert y[0] == pytest.approx(-2.5 * math.pi / 180 * R, abs=1e-6)  # MAXIMUM_LATITUDE is the first line's centre
    cos_ts = math.cos(math.radians(-2.5))
    assert x[0] == pytest.approx(-640 * cos_ts * SCALE, abs=1e-6)  # 640 equatorial pixels west of lon0
    check_bounds(p, 10, 1279, str(T0897))  # the cropped image keeps its label's extent
    check_bounds(dataclasses.replace(p, extent=None), 1280, 1279, str(T0897))


def test_label_without_projection() -> None:
    assert parse_map_projection(parse_label(TRDR.read_text(encoding="latin-1"), str(TRDR)), str(TRDR)) is None


def test_t0897_matches_gdal(tmp_path: Path) -> None:
    label = tmp_path / T0897.name
    shutil.copy(T0897, label)
    image = parse_label(T0897.read_text(encoding="latin-1")).get("^IMAGE")
    assert image == "T0897_MRRAL_05S113_0256_1_cropped.IMG"
    (tmp_path / image).write_bytes(bytes(10 * 1279 * 4))
    p = _proj(T0897)
    with rasterio.open(label) as src:
        assert (src.driver, src.shape) == ("PDS", (10, 1279))
        # GDAL reads SAMPLE_PROJECTION_OFFSET in pixels of the map; CRISM counts it at equatorial
        # spacing: GDAL's x is SAMPLE_PROJECTION_OFFSET * (1 - cos(lat_ts)) pixels west of ours; y agrees.
        shift = 640 * (1 - math.cos(math.radians(-2.5))) * SCALE
        gdal = src.transform.to_gdal()
        ours_gt = build_geotransform(p)
        np.testing.assert_allclose(gdal[1:], ours_gt[1:], rtol=0, atol=1e-6)
        assert gdal[0] == pytest.approx(ours_gt[0] - shift, abs=1e-6)
        x, y = build_xy(p, 10, 1279)
        rows, cols = np.meshgrid(np.arange(10), np.arange(1279), indexing="ij")
        gx, gy = src.xy(rows.ravel(), cols.ravel())
        np.testing.assert_allclose(gx, np.broadcast_to(x, rows.shape).ravel() - shift, rtol=0, atol=1e-6)
        np.testing.assert_allclose(gy, np.broadcast_to(y[:, None], rows.shape).ravel(), rtol=0, atol=1e-6)
        gdal_crs = pyproj.CRS(src.crs.to_wkt())
    ours = pyproj.CRS.from_wkt(build_crs_wkt(p))
    assert ours.is_projected and gdal_crs.is_projected
    assert ours.coordinate_operation.method_name == gdal_crs.coordinate_operation.method_name
    assert ours.coordinate_operation.method_name.startswith("Equidistant Cylindrical")
    assert _params(ours) == _params(gdal_crs)
    assert _params(ours)["Latitude of 1st standard parallel"] == -2.5
    assert _params(ours)["Longitude of natural origin"] == 112.5
    for crs in (ours, gdal_crs):
        assert crs.ellipsoid.semi_major_metre == crs.ellipsoid.semi_minor_metre == R
    # same numbers, different names: GDAL calls it "EQUIRECTANGULAR MARS" on "MARS_localRadius"
    assert gdal_crs.name == "EQUIRECTANGULAR MARS" and ours.name.startswith("Mars 2000 sphere (radius 3396000 m)")


def test_t0897_corners_against_catalog_and_proj() -> None:
    p = _proj(T0897)
    lines, samples = 1280, 1279
    x, y = build_xy(p, lines, samples)
    i, j = np.array([0, lines - 1]), np.array([0, samples - 1])
    lat, lon = build_lonlat(p, y[i], x[j])
    assert lat.shape == lon.shape == (2, 2)
    # catalog: LINE = LINE_PROJECTION_OFFSET - lat * MAP_RESOLUTION (0-based lines on pixel centres)
    cat_lat = np.broadcast_to(((-640.0 - i) / 256.0)[:, None], (2, 2))
    cos_ts = math.cos(math.radians(-2.5))
    # first sample centre at CENTER_LONGITUDE - SAMPLE_PROJECTION_OFFSET / MAP_RESOLUTION, then 1/(256 cos) deg apart
    cat_lon = np.broadcast_to((112.5 - 640.0 / 256 + j / (256 * cos_ts))[None, :], (2, 2))
    np.testing.assert_allclose(lat, cat_lat, rtol=0, atol=0.01 / 256)
    np.testing.assert_allclose(lon, cat_lon, rtol=0, atol=0.01 / (256 * cos_ts))
    np.testing.assert_allclose(lat[:, 0], [-2.5, -1919 / 256], rtol=0, atol=1e-12)
    assert lon[0, 0] == pytest.approx(110.0, abs=1e-9)  # WESTERNMOST_LONGITUDE, exactly
    assert lon[0, 1] == pytest.approx(114.99694, abs=1e-5)  # EASTERNMOST 115 is 0.78 px beyond
    xx, yy = np.meshgrid(x[j], y[i])
    plat, plon = _pyproj_lonlat(build_crs_wkt(p), xx, yy)
    np.testing.assert_allclose(plat, lat, rtol=0, atol=0.01 / 256)
    np.testing.assert_allclose(np.mod(plon, 360), lon, rtol=0, atol=0.01 / (256 * cos_ts))


def test_t1865_offsets_agree_with_its_bounds_at_equatorial_spacing() -> None:
    p = _proj(T1865)
    assert (p.center_longitude, p.sample_offset, p.extent) == (185.0, 47360.0, (1280, 980))
    check_bounds(p, 10, 980, str(T1865))  # 47360 = 185 * 256: the first sample is at 0 E (WESTERNMOST 360)
    x, y = build_xy(p, 10, 980)
    lat, lon = build_lonlat(p, y[:1], x[[0, -1]])
    assert lon[0, 0] == pytest.approx(0.0, abs=1e-9) and lat[0, 0] == pytest.approx(72.5, abs=1e-9)
    assert lon[0, 1] == pytest.approx(979 / (256 * math.cos(math.radians(67.5000001))), abs=1e-9)  # 9.993 E
    with pytest.raises(LabelValueError) as info:  # the PDS-standard reading GDAL uses would put it at 61.6 E
        check_bounds(dataclasses.replace(p, sample_offset=47360 * math.cos(math.radians(67.5000001)) ** -1), 10, 980, str(T1865))
    message = str(info.value)
    assert info.value.keyword == "WESTERNMOST_LONGITUDE" and T1865.name in message and "georeference=False" in message


def test_check_bounds_names_the_latitude() -> None:
    p = dataclasses.replace(_proj(T0897), bounds={"MAXIMUM_LATITUDE": -2.0})
    with pytest.raises(LabelValueError, match=r"MAXIMUM_LATITUDE = -2\.0; expected -2\.5 .*first line centre"):
        check_bounds(p, 1280, 1279, "t.lbl")
    check_bounds(dataclasses.replace(p, bounds={}), 1280, 1279, "t.lbl")  # absent / N/A bounds are skipped


# --- polar stereographic --------------------------------------------------------------------------------------------


def _catalog_polar(line1: np.ndarray, sample1: np.ndarray, hemisphere: int) -> tuple[np.ndarray, np.ndarray]:
    """vrr_polar_map.cat, 1-based SAMPLE/LINE; the south mirrored so that longitude 0 points up (catalog text)."""
    xc = (sample1 - 640.0 - 0.5) / 256.0
    yc = (line1 - 640.0 - 0.5) / 256.0
    r = np.sqrt(xc**2 + yc**2)
    colat = 2 * np.arctan(r * np.pi / 360) * 180 / np.pi
    if hemisphere > 0:
        return 90 - colat, np.mod(np.arctan2(xc, yc) * 180 / np.pi, 360)
    return -90 + colat, np.mod(np.arctan2(xc, -yc) * 180 / np.pi, 360)


@pytest.mark.parametrize("hemisphere", [1, -1])
def test_polar_against_catalog_and_proj(hemisphere: int) -> None:
    p = _polar(hemisphere)
    x, y = build_xy(p, 1280, 1280)
    idx = np.r_[0, 1, 100, 317, 638, 639, 640, 641, 900, 1278, 1279]
    xx, yy = np.meshgrid(x[idx], y[idx])
    lat, lon = build_lonlat(p, y[idx], x[idx])
    clat, clon = _catalog_polar(idx[:, None] + 1.0, idx[None, :] + 1.0, hemisphere)
    plat, plon = _pyproj_lonlat(build_crs_wkt(p), xx, yy)
    assert _pixels_apart(lat, lon, clat, clon, 256).max() < 0.01
    assert _pixels_apart(plat, plon, clat, clon, 256).max() < 0.01
    assert ((lon >= 0) & (lon < 360)).all()
    assert (hemisphere * lat).min() == pytest.approx(90 - 2 * math.degrees(math.atan(639.5 * math.sqrt(2) / 256 * math.pi / 360)))


def test_polar_orientation() -> None:
    north, south = _polar(1, 640.5), _polar(-1, 640.5)  # pole on the centre of pixel (640, 640)
    x, y = build_xy(north, 1281, 1281)
    assert x[640] == y[640] == 0.0
    rows = np.array([580, 640, 700])
    for proj, lon_up, lon_down in ((north, 180.0, 0.0), (south, 0.0, 180.0)):
        lat, lon = build_lonlat(proj, y[rows], x[np.array([640, 700])])
        assert lat[1, 0] == 90.0 * proj.hemisphere
        assert lon[0, 0] == pytest.approx(lon_up) and lon[2, 0] == pytest.approx(lon_down)  # above / below the pole
        assert lon[1, 1] == pytest.approx(90.0)  # 90 E to the right of the pole in both hemispheres
        _, plon = _pyproj_lonlat(build_crs_wkt(proj), np.array([x[640], x[640], x[700]]), y[[580, 700, 640]])
        np.testing.assert_allclose(np.mod(plon, 360), [lon_up, lon_down, 90.0], atol=1e-9)
    # integral offsets: the pole is a pixel corner, between samples 639 and 640
    p = _polar(1)
    gt = build_geotransform(p)
    assert gt[0] + 640 * gt[1] == pytest.approx(0.0, abs=1e-6) and gt[3] + 640 * gt[5] == pytest.approx(0.0, abs=1e-6)
    assert gt[5] < 0 and build_geotransform(_polar(-1)) == gt
    _, lon = build_lonlat(p, build_xy(p, 700, 641)[1][[699]], build_xy(p, 700, 641)[0][[639, 640]])
    half = math.degrees(math.atan2(0.5, 59.5))  # line 699 is 59.5 lines below the pole, samples 639/640 half a pixel aside
    np.testing.assert_allclose(lon[0], [360 - half, half], rtol=0, atol=1e-9)


def test_polar_label_and_gdal_half_pixel(tmp_path: Path) -> None:
    text = T0897.read_text(encoding="latin-1")
    for old, new in (
        ("MAP_PROJECTION_TYPE          = EQUIRECTANGULAR", 'MAP_PROJECTION_TYPE          = "POLAR STEREOGRAPHIC"'),
        ("CENTER_LATITUDE              = -2.5", "CENTER_LATITUDE              = -90.0"),
        ("CENTER_LONGITUDE             = 112.5", "CENTER_LONGITUDE             = 0.0"),
        ("LINE_PROJECTION_OFFSET       = -640.0", "LINE_PROJECTION_OFFSET       = 640.0"),
    ):
        assert old in text
        text = text.replace(old, new)
    label = tmp_path / "polar.lbl"
    label.write_text(text, encoding="latin-1")
    (tmp_path / "T0897_MRRAL_05S113_0256_1_cropped.IMG").write_bytes(bytes(10 * 1279 * 4))
    p = _proj(label, text)
    assert (p.kind, p.hemisphere, p.center_latitude) == ("polar_stereographic", -1, -90.0)
    check_bounds(p, 10, 1279, str(label))  # polar tiles are not checked
    underscore = _proj(label, text.replace('"POLAR STEREOGRAPHIC"', "POLAR_STEREOGRAPHIC"))
    assert underscore == p
    with rasterio.open(label) as src:
        gdal = src.transform.to_gdal()
        gdal_crs = pyproj.CRS(src.crs.to_wkt())
    ours = build_geotransform(p)
    # GDAL applies its equirectangular rule: half a pixel up-left of the catalog's pixel grid
    np.testing.assert_allclose(np.subtract(ours, gdal), [SCALE / 2, 0, 0, -SCALE / 2, 0, 0], rtol=0, atol=1e-6)
    assert _params(pyproj.CRS.from_wkt(build_crs_wkt(p))) == _params(gdal_crs)


# --- errors ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "keyword"),
    [
        ("= EQUIRECTANGULAR", "= SINUSOIDAL", "MAP_PROJECTION_TYPE"),
        ("B_AXIS_RADIUS                = 3396 <KM>", "B_AXIS_RADIUS                = 3376.2 <KM>", "B_AXIS_RADIUS"),
        ("= 0.231528833585 <KM/PIXEL>", "= 0.2415 <KM/PIXEL>", "MAP_SCALE"),  # 0.2315 agrees to its 4 decimals
        ("LINE_PROJECTION_OFFSET       = -640.0\n", "", "LINE_PROJECTION_OFFSET"),
        ("SAMPLE_PROJECTION_OFFSET     = 640.0", "SAMPLE_PROJECTION_OFFSET     = N/A", "SAMPLE_PROJECTION_OFFSET"),
        ("= 256 <PIXEL/DEGREE>", "= 0 <PIXEL/DEGREE>", "MAP_RESOLUTION"),
        ("= 3396 <KM>\n  B_AXIS", "= 3396 <AU>\n  B_AXIS", "A_AXIS_RADIUS"),
        ("MAP_PROJECTION_ROTATION      = 0.0", "MAP_PROJECTION_ROTATION      = 90.0", "MAP_PROJECTION_ROTATION"),
        ("= EQUIRECTANGULAR", "= POLAR_STEREOGRAPHIC", "CENTER_LATITUDE"),
    ],
)
def test_label_errors(old: str, new: str, keyword: str) -> None:
    text = T0897.read_text(encoding="latin-1")
    assert old in text
    with pytest.raises(LabelValueError) as info:
        _proj(T0897, text.replace(old, new, 1))
    assert info.value.keyword == keyword
    assert keyword in str(info.value) and T0897.name in str(info.value)


def test_map_scale_in_metres() -> None:
    text = T0897.read_text(encoding="latin-1").replace("= 0.231528833585 <KM/PIXEL>", "= 231.528833585 <M/PIXEL>")
    assert _proj(T0897, text) == _proj(T0897)


# --- CF grid mapping ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["t0897", "north", "south"])
def test_grid_mapping_attrs(which: str) -> None:
    p = {"t0897": _proj(T0897), "north": _polar(1), "south": _polar(-1)}[which]
    attrs = build_grid_mapping_attrs(p)
    assert attrs["crs_wkt"] == attrs["spatial_ref"] == build_crs_wkt(p)
    assert RioCRS.from_wkt(str(attrs["crs_wkt"])).is_projected
    assert tuple(float(v) for v in str(attrs["GeoTransform"]).split()) == build_geotransform(p)
    assert attrs["semi_major_axis"] == attrs["semi_minor_axis"] == R
    if p.kind == "equirectangular":
        assert "grid_mapping_name" not in attrs
        return
    assert attrs["grid_mapping_name"] == "polar_stereographic"
    assert attrs["latitude_of_projection_origin"] == 90.0 * p.hemisphere
    assert attrs["straight_vertical_longitude_from_pole"] == 0.0 and attrs["scale_factor_at_projection_origin"] == 1.0
    cf_only = {k: v for k, v in attrs.items() if k not in ("crs_wkt", "spatial_ref", "GeoTransform")}
    from_cf = pyproj.CRS.from_cf(cf_only)
    xy = (np.array([-1e5, 0.0, 2e5]), np.array([3e4, -1e5, 0.0]))
    to_sphere = pyproj.Transformer.from_crs(from_cf, pyproj.CRS(SPHERE), always_xy=True)
    np.testing.assert_allclose(to_sphere.transform(*xy), _pyproj_lonlat(build_crs_wkt(p), *xy)[::-1], atol=1e-9)
