"""Map coordinates and CRS of a PDS3 ``IMAGE_MAP_PROJECTION`` object (CRISM MRDR, VRDR, MTRDR).

``parse_map_projection`` reads the object into a :class:`MapProjection`; the ``build_*`` functions are
pure numpy on it. Pixel indices are 0-based; ``scale = R*pi/180 / MAP_RESOLUTION`` metres, R = A_AXIS_RADIUS.

EQUIRECTANGULAR: ``+proj=eqc +lat_ts=CENTER_LATITUDE +lon_0=CENTER_LONGITUDE +x_0=0 +y_0=0 +R=R``, pixel
centres ``y_i = (LINE_PROJECTION_OFFSET - i)*scale`` (the CRISM map catalog's ``LINE = LINE_PROJECTION_OFFSET
- lat*MAP_RESOLUTION``, integral lines on pixel centres; real MRDR labels have LINE_PROJECTION_OFFSET /
MAP_RESOLUTION = MAXIMUM_LATITUDE) and ``x_j = (j - SAMPLE_PROJECTION_OFFSET*cos(lat_ts))*scale``: CRISM counts
SAMPLE_PROJECTION_OFFSET in pixels of equatorial spacing, ``(CENTER_LONGITUDE - WESTERNMOST_LONGITUDE) *
MAP_RESOLUTION``, while a sample spans ``1 / (MAP_RESOLUTION*cos(lat_ts))`` degrees. Both real MRDR labels fit
this reading to under a pixel (T0897: 640 = 2.5*256; T1865: 47360 = 185*256 from CENTER_LONGITUDE 185 to
WESTERNMOST 360 = 0); the PDS-standard reading GDAL applies (``x_j = (j - SAMPLE_PROJECTION_OFFSET)*scale``)
puts T0897 0.6 px west and T1865 6,000 px away. So GDAL's x differs from ours by
``SAMPLE_PROJECTION_OFFSET*(1 - cos(lat_ts))`` pixels; y and the CRS agree. Whether MAXIMUM_LATITUDE is the
first line's centre or its top edge (half a pixel) is not settled by the labels (both fit within a pixel);
we follow the catalog's "integral values correspond to the center of a pixel", unverified against a real
DE latitude backplane (the corpus has none).

POLAR STEREOGRAPHIC (tiles poleward of 87.5 deg; CENTER_LATITUDE = +/-90 gives the hemisphere): the true
stereographic, ``+proj=stere +lat_0=+/-90 +lon_0=CENTER_LONGITUDE +k=1 +R=R`` (CENTER_LONGITUDE is 0 on
CRISM tiles). The polar catalog (vrr_polar_map.cat) puts 1-based SAMPLE, LINE at (SAMPLE - offset - 0.5) /
MAP_RESOLUTION degrees of arc right of the pole and (LINE - offset - 0.5) / MAP_RESOLUTION below it, so
``X_j = (j + 0.5 - SAMPLE_PROJECTION_OFFSET)*scale`` and ``Y_i = (LINE_PROJECTION_OFFSET - i - 0.5)*scale``.
Its text pairs LINE_PROJECTION_OFFSET with x; we use each offset for its own axis, as the PDS standard
defines them (equal on pole-centred tiles). X grows rightwards and Y upwards in both hemispheres, lines go
down. North: longitude 0 points down, 90 E right (the catalog's ``lon = atan2(x, y)``); south: longitude 0
points up, 90 E right, as the catalog's text says (its formula, written for the north, would mirror it).
With integral offsets the pole is a pixel corner: GDAL's PDS driver, applying its equirectangular rule,
puts it on a pixel centre, half a pixel away.

``check_bounds`` (equirectangular only; polar bounds just surround the pole): the first and last pixel
centres must lie within 1 pixel of MAXIMUM/MINIMUM_LATITUDE and WESTERNMOST/EASTERNMOST_LONGITUDE (modulo
360), over the extent the label declares (LINE/SAMPLE_FIRST/LAST_PIXEL: a cropped image keeps its label's
bounds), else over the image. The far bounds are the tile's nominal edges, up to a pixel beyond the last
centre (T0897: MINIMUM_LATITUDE 1.0 px, EASTERNMOST_LONGITUDE 0.78 px).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import LabelValueError
from ..labels.pds3 import Block, Quantity

__all__ = ["MapProjection", "build_crs_wkt", "build_geotransform", "build_grid_mapping_attrs", "build_lonlat", "build_xy",
           "check_bounds", "parse_map_projection"]

_KINDS = {"EQUIRECTANGULAR": "equirectangular", "POLAR STEREOGRAPHIC": "polar_stereographic"}
_METRES = {"": 1000.0, "KM": 1000.0, "KILOMETERS": 1000.0, "M": 1.0, "METERS": 1.0, "METRES": 1.0}
_BOUNDS = ("MAXIMUM_LATITUDE", "MINIMUM_LATITUDE", "WESTERNMOST_LONGITUDE", "EASTERNMOST_LONGITUDE")
_TOLERANCE_PX = 1.0
_HINT = ('the label contradicts itself; open it with xr.open_dataset(..., engine="crism", georeference=False) '
         "to get line/sample dimensions without map coordinates")


@dataclass(frozen=True)
class MapProjection:
    """The map projection of a PDS3 image: angles in degrees, lengths in metres, offsets in pixels."""

    kind: str
    radius_m: float
    center_latitude: float
    center_longitude: float
    line_offset: float
    sample_offset: float
    resolution: float
    scale_m: float
    hemisphere: int = 1
    bounds: dict[str, float] = field(default_factory=dict, hash=False)
    extent: tuple[int, int] | None = None  # (lines, samples) of LINE/SAMPLE_FIRST/LAST_PIXEL


def parse_map_projection(label: Block, url: str) -> MapProjection | None:
    """The label's ``IMAGE_MAP_PROJECTION`` as a :class:`MapProjection`; None when it has none."""
    block = next(label.blocks("IMAGE_MAP_PROJECTION"), None)
    if block is None:
        return None
    kind = _parse_kind(block, url)
    radius = _parse_radius(block, url)
    lat0 = _number(block, "CENTER_LATITUDE", url)
    if kind == "polar_stereographic" and abs(abs(lat0) - 90.0) > 1e-6:
        raise LabelValueError(url, "CENTER_LATITUDE", block.get("CENTER_LATITUDE"), "90 or -90 for a POLAR STEREOGRAPHIC map")
    if kind == "equirectangular" and not abs(lat0) < 90.0:
        raise LabelValueError(url, "CENTER_LATITUDE", block.get("CENTER_LATITUDE"), "a latitude strictly between -90 and 90")
    _check_orientation(block, url)
    resolution = _number(block, "MAP_RESOLUTION", url)
    if resolution <= 0:
        raise LabelValueError(url, "MAP_RESOLUTION", block.get("MAP_RESOLUTION"), "a positive number of pixels per degree")
    scale = radius * math.pi / 180.0 / resolution
    _check_scale(block, scale, url)
    bounds = {key: float(_plain(block.get(key))) for key in _BOUNDS if _is_number(_plain(block.get(key)))}
    return MapProjection(
        kind, radius, lat0, _number(block, "CENTER_LONGITUDE", url), _number(block, "LINE_PROJECTION_OFFSET", url),
        _number(block, "SAMPLE_PROJECTION_OFFSET", url), resolution, scale,
        -1 if kind == "polar_stereographic" and lat0 < 0 else 1, bounds, _parse_extent(block),
    )


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, Quantity) else value


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _number(block: Block, key: str, url: str) -> float:
    value = block.get(key)
    if not _is_number(_plain(value)):
        raise LabelValueError(url, key, value, "a number in IMAGE_MAP_PROJECTION")
    return float(_plain(value))


def _parse_kind(block: Block, url: str) -> str:
    value = block.get("MAP_PROJECTION_TYPE")
    kind = _KINDS.get(str(value).strip().upper().replace("_", " "))
    if kind is None:
        raise LabelValueError(url, "MAP_PROJECTION_TYPE", value, "EQUIRECTANGULAR or POLAR STEREOGRAPHIC")
    return kind


def _metres(block: Block, key: str, url: str, per: str = "") -> float:
    value = block.get(key)
    unit = value.units.strip().upper() if isinstance(value, Quantity) else per
    factor = _METRES.get(unit.removesuffix(per) if per and unit.endswith(per) else unit)
    if factor is None:
        raise LabelValueError(url, key, value, f"a length in KM{per} or M{per}")
    return _number(block, key, url) * factor


def _parse_radius(block: Block, url: str) -> float:
    radius = _metres(block, "A_AXIS_RADIUS", url)
    for key in ("B_AXIS_RADIUS", "C_AXIS_RADIUS"):
        if abs(_metres(block, key, url) - radius) > 1.0:
            expected = f"{radius / 1000:.9g} KM like A_AXIS_RADIUS (only a sphere is modelled)"
            raise LabelValueError(url, key, block.get(key), expected)
    if radius <= 0:
        raise LabelValueError(url, "A_AXIS_RADIUS", block.get("A_AXIS_RADIUS"), "a positive radius")
    return radius


def _check_scale(block: Block, scale: float, url: str) -> None:
    if abs(_metres(block, "MAP_SCALE", url, "/PIXEL") - scale) > 1e-6 * scale:
        why = "A_AXIS_RADIUS*pi/180 / MAP_RESOLUTION, within a relative 1e-6"
        raise LabelValueError(url, "MAP_SCALE", block.get("MAP_SCALE"), f"{scale / 1000:.12g} KM/PIXEL ({why})")


def _check_orientation(block: Block, url: str) -> None:
    rotation = _plain(block.get("MAP_PROJECTION_ROTATION", 0.0))
    if _is_number(rotation) and rotation != 0:
        raise LabelValueError(url, "MAP_PROJECTION_ROTATION", rotation, "0 (rotated maps are not supported)")
    direction = str(block.get("POSITIVE_LONGITUDE_DIRECTION", "EAST")).strip().upper()
    if direction not in ("EAST", "N/A"):
        raise LabelValueError(url, "POSITIVE_LONGITUDE_DIRECTION", direction, "EAST")


def _parse_extent(block: Block) -> tuple[int, int] | None:
    keys = ("LINE_FIRST_PIXEL", "LINE_LAST_PIXEL", "SAMPLE_FIRST_PIXEL", "SAMPLE_LAST_PIXEL")
    lf, ll, sf, sl = (_plain(block.get(k)) for k in keys)
    if not all(isinstance(v, int) for v in (lf, ll, sf, sl)) or ll < lf or sl < sf:
        return None
    return int(ll - lf + 1), int(sl - sf + 1)


def _origin(proj: MapProjection) -> tuple[float, float]:
    """(line, sample) of the projection origin, 0-based pixel-centre coordinates (see the module doc)."""
    if proj.kind == "polar_stereographic":
        return proj.line_offset - 0.5, proj.sample_offset - 0.5
    return proj.line_offset, proj.sample_offset * math.cos(math.radians(proj.center_latitude))


def build_xy(proj: MapProjection, lines: int, samples: int) -> tuple[np.ndarray, np.ndarray]:
    """``(x[samples], y[lines])``: map metres of the pixel centres, float64."""
    line0, sample0 = _origin(proj)
    x = (np.arange(samples, dtype=np.float64) - sample0) * proj.scale_m
    y = (line0 - np.arange(lines, dtype=np.float64)) * proj.scale_m
    return x, y


def build_geotransform(proj: MapProjection) -> tuple[float, float, float, float, float, float]:
    """GDAL geotransform ``(x_ul_corner, dx, 0, y_ul_corner, 0, -dy)`` in metres."""
    line0, sample0 = _origin(proj)
    s = proj.scale_m
    return (-(sample0 + 0.5) * s, s, 0.0, (line0 + 0.5) * s, 0.0, -s)


def _num(value: float) -> str:
    return repr(float(value)).removesuffix(".0")


def build_crs_wkt(proj: MapProjection) -> str:
    """WKT1 (GDAL/ESRI flavour) of the projected CRS, on a Mars sphere of ``radius_m``."""
    r = _num(proj.radius_m)
    name = f"Mars 2000 sphere (radius {r} m)"
    geogcs = (f'GEOGCS["{name}",DATUM["D_Mars_2000_sphere_{r}",SPHEROID["Mars_2000_sphere_{r}",{r},0]],'
              'PRIMEM["Reference_Meridian",0],UNIT["degree",0.0174532925199433]]')
    if proj.kind == "polar_stereographic":
        method, params = "Polar_Stereographic", {"latitude_of_origin": 90.0 * proj.hemisphere, "scale_factor": 1.0}
    else:
        method, params = "Equirectangular", {"standard_parallel_1": proj.center_latitude}
    params |= {"central_meridian": proj.center_longitude, "false_easting": 0.0, "false_northing": 0.0}
    text = ",".join(f'PARAMETER["{k}",{_num(v)}]' for k, v in params.items())
    return (f'PROJCS["{name} / {method}",{geogcs},PROJECTION["{method}"],{text},'
            'UNIT["metre",1],AXIS["Easting",EAST],AXIS["Northing",NORTH]]')


def build_grid_mapping_attrs(proj: MapProjection) -> dict[str, object]:
    """CF grid-mapping attributes of a ``spatial_ref`` variable; ``crs_wkt`` is the authority."""
    wkt = build_crs_wkt(proj)
    attrs: dict[str, object] = {
        "crs_wkt": wkt, "spatial_ref": wkt, "GeoTransform": " ".join(f"{v:.17g}" for v in build_geotransform(proj)),
        "semi_major_axis": proj.radius_m, "semi_minor_axis": proj.radius_m, "inverse_flattening": 0.0,
        "longitude_of_prime_meridian": 0.0,
    }
    if proj.kind == "polar_stereographic":
        attrs |= {
            "grid_mapping_name": "polar_stereographic", "straight_vertical_longitude_from_pole": proj.center_longitude,
            "latitude_of_projection_origin": 90.0 * proj.hemisphere, "scale_factor_at_projection_origin": 1.0,
            "false_easting": 0.0, "false_northing": 0.0,
        }
    return attrs


def build_lonlat(proj: MapProjection, y: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Inverse projection of 1-D ``y`` (lines) by 1-D ``x`` (samples), metres, to 2-D ``(lat, lon)``.

    Latitude is planetocentric in degrees; longitude is east, degrees in ``[0, 360)``.
    """
    yy, xx = np.asarray(y, dtype=np.float64)[:, None], np.asarray(x, dtype=np.float64)[None, :]
    if proj.kind == "polar_stereographic":
        colat = np.degrees(2.0 * np.arctan(np.hypot(xx, yy) / (2.0 * proj.radius_m)))
        lat = proj.hemisphere * (90.0 - colat)
        dlon = np.degrees(np.arctan2(xx, -proj.hemisphere * yy))
    else:
        lat = np.degrees(yy / proj.radius_m) + 0.0 * xx
        dlon = np.degrees(xx / (proj.radius_m * math.cos(math.radians(proj.center_latitude)))) + 0.0 * yy
    lon = np.mod(proj.center_longitude + dlon, 360.0)
    return lat, np.where(lon >= 360.0, 0.0, lon)


def check_bounds(proj: MapProjection, lines: int, samples: int, url: str) -> None:
    """Raise :class:`LabelValueError` when the label's bounds contradict its offsets (see the module doc)."""
    if proj.kind != "equirectangular":
        return
    lines, samples = proj.extent or (lines, samples)
    res, lon0, lat_ts = proj.resolution, proj.center_longitude, proj.center_latitude
    lon_res = res * math.cos(math.radians(lat_ts))  # samples per degree of longitude
    sample0 = _origin(proj)[1]
    last_line, last_sample = proj.line_offset - lines + 1, samples - 1 - sample0
    at_lat = f"line centre given LINE_PROJECTION_OFFSET = {_num(proj.line_offset)}"
    at_lon = (f"sample centre given SAMPLE_PROJECTION_OFFSET = {_num(proj.sample_offset)}, "
              f"CENTER_LONGITUDE = {_num(lon0)}, CENTER_LATITUDE = {_num(lat_ts)}")
    edges = {  # keyword: (pixels per degree, value at the pixel centre, which centre)
        "MAXIMUM_LATITUDE": (res, proj.line_offset / res, "latitude of the first " + at_lat),
        "MINIMUM_LATITUDE": (res, last_line / res, "latitude of the last " + at_lat),
        "WESTERNMOST_LONGITUDE": (lon_res, lon0 - sample0 / lon_res, "longitude of the first " + at_lon),
        "EASTERNMOST_LONGITUDE": (lon_res, lon0 + last_sample / lon_res, "longitude of the last " + at_lon),
    }
    for key, (per_degree, expected, which) in edges.items():
        value = proj.bounds.get(key)
        if value is None:
            continue
        diff = value - expected
        if key.endswith("LONGITUDE"):
            diff, expected = (diff + 180.0) % 360.0 - 180.0, expected % 360.0
        if abs(diff) * per_degree > _TOLERANCE_PX + 1e-6:
            why = f"the {which}, MAP_RESOLUTION = {_num(res)}"
            raise LabelValueError(url, key, value, f"{expected:.7g} within {_TOLERANCE_PX} pixels ({why})", _HINT)
