"""Map coordinates and CRS of a PDS3 ``IMAGE_MAP_PROJECTION`` object (CRISM MRDR, VRDR, MTRDR).

``parse_map_projection`` reads the object into a :class:`MapProjection`; ``choose_convention`` settles how
its offsets are read from the label's own bounds; the ``build_*`` functions are pure numpy on it. Pixel
indices are 0-based; ``scale = R*pi/180 / MAP_RESOLUTION`` metres (CRISM tile reading) or MAP_SCALE (PDS
standard reading), R the sphere below.

TWO READINGS of an equirectangular SAMPLE_PROJECTION_OFFSET, both computed, the one the label's bounds fit
kept (:func:`choose_convention`; recorded as ``map_convention`` in the ``spatial_ref`` attributes, and
refused only when neither fits): ``"crism_tile"`` (MRDR/VRDR tiles, described below: the offset counts
equatorial pixels) and ``"pds_standard"`` (MTRDR/TER labels, GDAL's reading: ``x_j = (j -
SAMPLE_PROJECTION_OFFSET) * MAP_SCALE``). The published georeferencing of the real MTRDR FRT00005C5E
(upper-left corner 4,422,849.2 m, 1,104,156.6 m, 18 m pixels, true scale at 15 deg) fits only the
standard reading: its WESTERNMOST_LONGITUDE 77.279195 is the first pixel centre, where the tile reading
puts 74.64597. At CENTER_LATITUDE 0 the two coincide and the tile reading is recorded.

SPHERE, as GDAL's PDS driver models the radii: an equirectangular map is on a sphere of A_AXIS_RADIUS
(ISIS writes the local radius there; B must equal A), a planetocentric polar stereographic one on a
sphere of C_AXIS_RADIUS. When A and C differ, an equirectangular label is also tried on the ellipsoid's
local radius at CENTER_LATITUDE (``a*c / hypot(c*cos(lat), a*sin(lat))``: 3,394,839.8 m at 15 deg for
the IAU 3396.19/3376.2 km ellipsoid, the sphere of FRT00005C5E's ENVI header); ``sphere_radius_source``
says which. MAP_SCALE and MAP_RESOLUTION must agree to the precision they are printed with (half a unit
of the last digit of each; a parsed number's trailing zeros are not seen, which only widens it).

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
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

import numpy as np

from ..errors import LabelValueError
from ..labels.pds3 import Block, Quantity

__all__ = ["CONVENTIONS", "MapProjection", "build_crs_wkt", "build_geotransform", "build_grid_mapping_attrs", "build_lonlat",
           "build_xy", "check_bounds", "choose_convention", "parse_map_projection"]

#: Readings of an equirectangular SAMPLE_PROJECTION_OFFSET, in the order they are tried (see the module doc).
CONVENTIONS = ("crism_tile", "pds_standard")

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
    convention: str = "crism_tile"  # one of CONVENTIONS, or "crism_polar_tile"
    radius_source: str = "A_AXIS_RADIUS"
    spheres: tuple[tuple[str, float, float], ...] = ()  # (radius source, radius m, tile pixel size m) the label allows
    map_scale_m: float = 0.0  # MAP_SCALE as printed, metres: the pixel of the pds_standard reading


def parse_map_projection(label: Block, url: str) -> MapProjection | None:
    """The label's ``IMAGE_MAP_PROJECTION`` as a :class:`MapProjection`; None when it has none."""
    block = next(label.blocks("IMAGE_MAP_PROJECTION"), None)
    if block is None:
        return None
    kind = _parse_kind(block, url)
    lat0 = _number(block, "CENTER_LATITUDE", url)
    if kind == "polar_stereographic" and abs(abs(lat0) - 90.0) > 1e-6:
        raise LabelValueError(url, "CENTER_LATITUDE", block.get("CENTER_LATITUDE"), "90 or -90 for a POLAR STEREOGRAPHIC map")
    if kind == "equirectangular" and not abs(lat0) < 90.0:
        raise LabelValueError(url, "CENTER_LATITUDE", block.get("CENTER_LATITUDE"), "a latitude strictly between -90 and 90")
    _check_orientation(block, url)
    resolution = _number(block, "MAP_RESOLUTION", url)
    if resolution <= 0:
        raise LabelValueError(url, "MAP_RESOLUTION", block.get("MAP_RESOLUTION"), "a positive number of pixels per degree")
    spheres = _scaled_spheres(block, _sphere_candidates(block, kind, lat0, url), resolution, url)
    source, radius, scale = spheres[0]
    bounds = {key: float(_plain(block.get(key))) for key in _BOUNDS if _is_number(_plain(block.get(key)))}
    return MapProjection(
        kind, radius, lat0, _number(block, "CENTER_LONGITUDE", url), _number(block, "LINE_PROJECTION_OFFSET", url),
        _number(block, "SAMPLE_PROJECTION_OFFSET", url), resolution, scale,
        -1 if kind == "polar_stereographic" and lat0 < 0 else 1, bounds, _parse_extent(block),
        "crism_polar_tile" if kind == "polar_stereographic" else CONVENTIONS[0], source, spheres,
        _metres(block, "MAP_SCALE", url, "/PIXEL"),
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


def _sphere_candidates(block: Block, kind: str, lat0: float, url: str) -> list[tuple[str, float]]:
    """The spheres a label allows, GDAL's first: (which radius, metres).

    GDAL's PDS driver maps an EQUIRECTANGULAR label on a sphere of A_AXIS_RADIUS (ISIS writes the
    local radius there) and a planetocentric POLAR STEREOGRAPHIC one on a sphere of C_AXIS_RADIUS.
    When A and C differ, an equirectangular map may also be on the ellipsoid's local radius at
    CENTER_LATITUDE: :func:`choose_convention` keeps the one the label's bounds fit.
    """
    a, c = _parse_radii(block, url)
    if kind == "polar_stereographic":
        if abs(a - c) > 1.0 and str(block.get("COORDINATE_SYSTEM_NAME", "PLANETOCENTRIC")).upper() != "PLANETOCENTRIC":
            raise LabelValueError(url, "COORDINATE_SYSTEM_NAME", block.get("COORDINATE_SYSTEM_NAME"),
                                  "PLANETOCENTRIC for a POLAR STEREOGRAPHIC map whose A and C radii differ")
        return [("C_AXIS_RADIUS", c)]
    if abs(a - c) <= 1.0:
        return [("A_AXIS_RADIUS", a)]
    phi = math.radians(lat0)
    local = a * c / math.hypot(c * math.cos(phi), a * math.sin(phi))
    return [("A_AXIS_RADIUS", a), ("local radius at CENTER_LATITUDE of the A/C ellipsoid", local)]


def _parse_radii(block: Block, url: str) -> tuple[float, float]:
    a, b, c = (_metres(block, f"{axis}_AXIS_RADIUS", url) for axis in "ABC")
    for key, value in (("A_AXIS_RADIUS", a), ("C_AXIS_RADIUS", c)):
        if value <= 0:
            raise LabelValueError(url, key, block.get(key), "a positive radius")
    if abs(b - a) > 1.0:
        raise LabelValueError(url, "B_AXIS_RADIUS", block.get("B_AXIS_RADIUS"),
                              f"{a / 1000:.9g} KM like A_AXIS_RADIUS (a triaxial body is not modelled)")
    return a, c


def _scaled_spheres(
    block: Block, spheres: list[tuple[str, float]], resolution: float, url: str,
) -> tuple[tuple[str, float, float], ...]:
    """The candidate spheres whose MAP_RESOLUTION agrees with MAP_SCALE, each with its pixel size."""
    out = tuple((source, r, size) for source, r in spheres if (size := _pixel_size(block, r, resolution, url)) is not None)
    if not out:
        scale = spheres[0][1] * math.pi / 180.0 / resolution
        why = "radius*pi/180 / MAP_RESOLUTION, to the precision MAP_SCALE and MAP_RESOLUTION are printed with"
        raise LabelValueError(url, "MAP_SCALE", block.get("MAP_SCALE"), f"{scale / 1000:.12g} KM/PIXEL ({why})")
    return out


def _pixel_size(block: Block, radius: float, resolution: float, url: str) -> float | None:
    """Metres per pixel: ``radius*pi/180 / MAP_RESOLUTION`` when MAP_SCALE agrees with it to 1e-6; else, when
    they agree to the precision both are printed with, the more precisely printed one; else None."""
    derived = radius * math.pi / 180.0 / resolution
    stated = _metres(block, "MAP_SCALE", url, "/PIXEL")
    if abs(stated - derived) <= 1e-6 * derived:
        return derived
    scale_error = _half_unit(block.get("MAP_SCALE")) * stated / _number(block, "MAP_SCALE", url)
    resolution_error = _half_unit(block.get("MAP_RESOLUTION")) / resolution  # relative
    if abs(stated - derived) > scale_error + derived * resolution_error:
        return None
    return stated if scale_error / stated < resolution_error else derived


def _half_unit(value: Any) -> float:
    """Half a unit of the last digit a number is printed with (``0.018`` -> 0.0005, ``256`` -> 0.5)."""
    number = _plain(value)
    if isinstance(number, int):
        return 0.5
    exponent = Decimal(repr(float(number))).as_tuple().exponent
    return 0.5 * 10.0 ** int(exponent)


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
    if proj.convention == "pds_standard":
        return proj.line_offset, proj.sample_offset
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
        "longitude_of_prime_meridian": 0.0, "map_convention": proj.convention, "sphere_radius_source": proj.radius_source,
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
    for key, value, expected, pixels, which in _misfits(proj, lines, samples):
        if pixels > _TOLERANCE_PX + 1e-6:
            why = f"the {which}, MAP_RESOLUTION = {_num(proj.resolution)}"
            raise LabelValueError(url, key, value, f"{expected:.7g} within {_TOLERANCE_PX} pixels ({why})", _HINT)


def choose_convention(proj: MapProjection, lines: int, samples: int, url: str) -> MapProjection:
    """The reading of the offsets (and sphere) that the label's bounds fit best; raise when none fits.

    Equirectangular labels are read both ways (:data:`CONVENTIONS`: the CRISM tile reading, pixels
    of ``radius*pi/180 / MAP_RESOLUTION``, then the PDS standard GDAL applies, pixels of MAP_SCALE)
    on every sphere the label allows. Of the candidates whose bounds all lie within a pixel, the one
    whose sphere makes MAP_SCALE and MAP_RESOLUTION agree best wins, then the nearest bounds, then
    the first (a label without bounds keeps the tile reading). Polar tiles have one reading.
    """
    if proj.kind != "equirectangular":
        return proj
    spheres = proj.spheres or ((proj.radius_source, proj.radius_m, proj.scale_m),)
    candidates = [
        replace(proj, convention=convention, radius_source=source, radius_m=radius,
                scale_m=proj.map_scale_m if convention == "pds_standard" and proj.map_scale_m > 0 else scale)
        for source, radius, scale in spheres for convention in CONVENTIONS
    ]
    worst = [max(_misfits(c, lines, samples), key=lambda m: m[3], default=None) for c in candidates]
    fitting = [
        (max(_scale_mismatch(c), 1e-6), 0.0 if w is None else w[3], i)
        for i, (c, w) in enumerate(zip(candidates, worst, strict=True)) if w is None or w[3] <= _TOLERANCE_PX + 1e-6
    ]
    if fitting:
        return candidates[min(fitting)[2]]
    key, value, _, _, _ = min((w for w in worst if w is not None), key=lambda m: m[3])  # where the nearest reading fails
    readings = "; ".join(
        f"{next(m[2] for m in _misfits(c, lines, samples) if m[0] == key):.7g} reading SAMPLE_PROJECTION_OFFSET "
        f"the {c.convention} way on the sphere of {c.radius_source} ({_num(c.radius_m)} m)" for c in candidates
    )
    raise LabelValueError(url, key, value, f"one of: {readings}; within {_TOLERANCE_PX} pixels", _HINT)


def _scale_mismatch(proj: MapProjection) -> float:
    """Relative difference of MAP_SCALE and ``radius*pi/180 / MAP_RESOLUTION`` on the projection's sphere."""
    if proj.map_scale_m <= 0:
        return 0.0
    return abs(proj.map_scale_m - proj.radius_m * math.pi / 180.0 / proj.resolution) / proj.map_scale_m


def _misfits(proj: MapProjection, lines: int, samples: int) -> list[tuple[str, float, float, float, str]]:
    """(keyword, label value, value at the pixel centre, pixels apart, which centre) of every bound the label gives."""
    if proj.kind != "equirectangular":
        return []
    lines, samples = proj.extent or (lines, samples)
    res = proj.radius_m * math.pi / 180.0 / proj.scale_m  # pixels per degree of the sphere (MAP_RESOLUTION, or MAP_SCALE's)
    lon0, lat_ts = proj.center_longitude, proj.center_latitude
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
    out = []
    for key, (per_degree, expected, which) in edges.items():
        value = proj.bounds.get(key)
        if value is None:
            continue
        diff = value - expected
        if key.endswith("LONGITUDE"):
            diff, expected = (diff + 180.0) % 360.0 - 180.0, expected % 360.0
        out.append((key, value, expected, abs(diff) * per_degree, which))
    return out
