"""Writers of TER/MTRDR/MRDR/VRDR products, WV tables and ENVI headers, for tests and benchmarks.

Labels keep the identification part of the real MRDR label of the corpus (everything before
its ``Object = IMAGE``) and follow its layout: one ``^IMAGE`` of fixed records, an ``IMAGE``
object and an ``IMAGE_MAP_PROJECTION`` written the way the real one is. Projections follow the
CRISM tiling: the first line's centre is at MAXIMUM_LATITUDE and the first sample's centre at
WESTERNMOST_LONGITUDE, widths shrink with the cosine of CENTER_LATITUDE (the two real MRDR
labels have 1279 samples for 5 degrees at 2.5 S and 980 for 10 degrees at 67.5 N), and
SAMPLE_PROJECTION_OFFSET is ``(CENTER_LONGITUDE - WESTERNMOST_LONGITUDE) * MAP_RESOLUTION`` (equatorial
pixels, as in both real labels).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .cubes import GeneratedProduct

__all__ = [
    "MapGrid", "equirectangular_grid", "polar_grid", "projected_grid", "write_envi_header", "write_map_product",
    "write_wv_table",
]

_STORAGE = {"BAND_SEQUENTIAL": (0, 1, 2), "LINE_INTERLEAVED": (1, 0, 2), "SAMPLE_INTERLEAVED": (1, 2, 0)}
_TYPES = {"PC_REAL": "<f4", "IEEE_REAL": ">f4", "MSB_UNSIGNED_INTEGER": ">u", "LSB_UNSIGNED_INTEGER": "<u"}


@dataclass(frozen=True)
class MapGrid:
    """The size of a map image and the keywords of its IMAGE_MAP_PROJECTION object."""

    lines: int
    samples: int
    keywords: dict[str, str]


def equirectangular_grid(
    max_lat: float, min_lat: float, west: float, east: float, resolution: float, *,
    center_latitude: float | None = None, radius_km: float = 3396.0,
) -> MapGrid:
    """An equirectangular tile from its bounds (pixel centres), as the CRISM pipeline lays them."""
    lat_ts = min(abs(max_lat), abs(min_lat)) * (1 if max_lat > 0 else -1) if center_latitude is None else center_latitude
    lon0 = (west + east) / 2
    cos = math.cos(math.radians(lat_ts))
    lines = round((max_lat - min_lat) * resolution)
    samples = round((east - west) * resolution * cos)
    scale_km = 2 * math.pi * radius_km / 360 / resolution
    keywords = {
        "MAP_PROJECTION_TYPE": "EQUIRECTANGULAR", "CENTER_LATITUDE": f"{lat_ts} <DEGREE>",
        "CENTER_LONGITUDE": f"{lon0} <DEGREE>", "MAP_RESOLUTION": f"{resolution} <PIXEL/DEGREE>",
        "MAP_SCALE": f"{scale_km:.12f} <KM/PIXEL>", "MAXIMUM_LATITUDE": f"{max_lat} <DEGREE>",
        "MINIMUM_LATITUDE": f"{max_lat - (lines - 1) / resolution} <DEGREE>",
        "WESTERNMOST_LONGITUDE": f"{west} <DEGREE>",
        "EASTERNMOST_LONGITUDE": f"{west + (samples - 1) / (resolution * cos)} <DEGREE>",
        "LINE_PROJECTION_OFFSET": f"{max_lat * resolution}", "SAMPLE_PROJECTION_OFFSET": f"{(lon0 - west) * resolution}",
    }
    return MapGrid(lines, samples, _with_radius(keywords, radius_km))


def projected_grid(
    upper_left_m: tuple[float, float], pixel_m: float, lines: int, samples: int, *,
    center_latitude: float, sphere_m: float, center_longitude: float = 0.0,
    radii_km: tuple[float, float, float] | None = None, convention: str = "pds_standard",
    scale_decimals: int = 3, resolution_decimals: int = 4,
) -> MapGrid:
    """An equirectangular map from its georeferencing (an ENVI header's map info), as MTRDR/TER labels write it.

    ``upper_left_m``: (x, y) of the upper-left pixel corner in metres of the projection on a sphere of
    ``sphere_m``; the bounds are the first and last pixel centres (as in the real MTRDR labels), printed with
    6 decimals. ``convention``: ``"pds_standard"`` writes SAMPLE_PROJECTION_OFFSET in pixels of the map
    (GDAL's reading, real MTRDRs), ``"crism_tile"`` in equatorial pixels (MRDR tiles). ``radii_km``: the
    label's A, B, C radii (default: the sphere). MAP_SCALE and MAP_RESOLUTION are printed with
    ``scale_decimals`` and ``resolution_decimals`` decimals.
    """
    cos = math.cos(math.radians(center_latitude))
    x0, y0 = upper_left_m[0] + pixel_m / 2, upper_left_m[1] - pixel_m / 2  # first pixel centre
    per_degree = sphere_m * math.pi / 180
    sample_offset = -x0 / pixel_m / (cos if convention == "crism_tile" else 1.0)
    west = center_longitude + x0 / (per_degree * cos)
    east = center_longitude + (x0 + (samples - 1) * pixel_m) / (per_degree * cos)
    a, b, c = radii_km or (sphere_m / 1000,) * 3
    keywords = {
        "MAP_PROJECTION_TYPE": "EQUIRECTANGULAR", "A_AXIS_RADIUS": f"{a} <KM>", "B_AXIS_RADIUS": f"{b} <KM>",
        "C_AXIS_RADIUS": f"{c} <KM>", "CENTER_LATITUDE": f"{center_latitude} <DEG>",
        "CENTER_LONGITUDE": f"{center_longitude} <DEG>", "LINE_FIRST_PIXEL": "1", "LINE_LAST_PIXEL": str(lines),
        "SAMPLE_FIRST_PIXEL": "1", "SAMPLE_LAST_PIXEL": str(samples),
        "MAP_RESOLUTION": f"{per_degree / pixel_m:.{resolution_decimals}f} <PIX/DEG>",
        "MAP_SCALE": f"{pixel_m / 1000:.{scale_decimals}f} <KM/PIXEL>",
        "MAXIMUM_LATITUDE": f"{y0 / per_degree:.6f} <DEG>",
        "MINIMUM_LATITUDE": f"{(y0 - (lines - 1) * pixel_m) / per_degree:.6f} <DEG>",
        "WESTERNMOST_LONGITUDE": f"{west % 360:.6f} <DEG>", "EASTERNMOST_LONGITUDE": f"{east % 360:.6f} <DEG>",
        "LINE_PROJECTION_OFFSET": f"{y0 / pixel_m:.4f}", "SAMPLE_PROJECTION_OFFSET": f"{sample_offset:.4f}",
    }
    return MapGrid(lines, samples, keywords)


def polar_grid(size: int, resolution: float, *, north: bool = True, radius_km: float = 3396.0) -> MapGrid:
    """A square polar stereographic tile centred on the pole (the pole on the central pixel corner)."""
    scale_km = 2 * math.pi * radius_km / 360 / resolution
    keywords = {
        "MAP_PROJECTION_TYPE": '"POLAR STEREOGRAPHIC"', "CENTER_LATITUDE": f"{90.0 if north else -90.0} <DEGREE>",
        "CENTER_LONGITUDE": "0.0 <DEGREE>", "MAP_RESOLUTION": f"{resolution} <PIXEL/DEGREE>",
        "MAP_SCALE": f"{scale_km:.12f} <KM/PIXEL>",
        "MAXIMUM_LATITUDE": f"{90.0 if north else -87.5} <DEGREE>", "MINIMUM_LATITUDE": f"{87.5 if north else -90.0} <DEGREE>",
        "WESTERNMOST_LONGITUDE": "0.0 <DEGREE>", "EASTERNMOST_LONGITUDE": "360.0 <DEGREE>",
        "LINE_PROJECTION_OFFSET": f"{size / 2}", "SAMPLE_PROJECTION_OFFSET": f"{size / 2}",
    }
    return MapGrid(size, size, _with_radius(keywords, radius_km))


def _with_radius(keywords: dict[str, str], radius_km: float) -> dict[str, str]:
    radii = {f"{axis}_AXIS_RADIUS": f"{radius_km} <KM>" for axis in "ABC"}
    return {"MAP_PROJECTION_TYPE": keywords.pop("MAP_PROJECTION_TYPE"), **radii, **keywords}


def write_map_product(
    directory: str | Path,
    template: str | Path,
    product_id: str,
    data: np.ndarray,
    grid: MapGrid | None,
    *,
    sample_type: str = "PC_REAL",
    storage: str = "BAND_SEQUENTIAL",
    band_names: list[str] | None = None,
    unit: str | None = None,
    wavelength_file: str | None = None,
    image_keywords: dict[str, str] | None = None,
) -> GeneratedProduct:
    """Write ``data`` ``(band, line, sample)`` as ``<product_id>.IMG`` + ``.LBL`` (lower-case file names)."""
    directory = Path(directory)
    _, lines, samples = data.shape
    if grid is not None and (grid.lines, grid.samples) != (lines, samples):
        raise ValueError(f"data has {lines} x {samples} pixels, the grid {grid.lines} x {grid.samples}")
    code = _TYPES[sample_type]
    dtype = np.dtype(code if code[-1].isdigit() else f"{code}{data.dtype.itemsize}")
    payload = np.ascontiguousarray(data.astype(dtype).transpose(_STORAGE[storage])).tobytes()
    record_bytes = samples * dtype.itemsize
    head = _header(template, product_id, record_bytes, len(payload) // record_bytes, wavelength_file)
    text = head + _image_object(data.shape, sample_type, dtype.itemsize * 8, storage, band_names, unit, image_keywords or {})
    if grid is not None:
        text += "Object = IMAGE_MAP_PROJECTION\n  ^DATA_SET_MAP_PROJECTION     = MRR_MAP.CAT\n"
        text += "".join(f"  {k:<28} = {v}\n" for k, v in grid.keywords.items())
        text += '  COORDINATE_SYSTEM_TYPE       = "BODY-FIXED ROTATING"\n  COORDINATE_SYSTEM_NAME       = PLANETOCENTRIC\n'
        text += "End_Object = IMAGE_MAP_PROJECTION\n"
    text += "END\n"
    label = directory / f"{product_id.lower()}.lbl"
    label.write_text(text.replace("\n", "\r\n"), encoding="ascii")
    (directory / f"{product_id.lower()}.img").write_bytes(payload)
    return GeneratedProduct(label, data, None)


def _header(template: str | Path, product_id: str, record_bytes: int, file_records: int, wavelength_file: str | None) -> str:
    text = Path(template).read_text(encoding="latin-1").replace("\r\n", "\n")
    head = re.split(r"(?mi)^Object\s*=\s*IMAGE\s*$", text, maxsplit=1)[0]
    replacements = {
        "RECORD_BYTES": str(record_bytes), "FILE_RECORDS": str(file_records), "^IMAGE": f'"{product_id}.IMG"',
        "PRODUCT_ID": product_id, "MRO:WAVELENGTH_FILE_NAME": wavelength_file or "N/A",
    }
    for key, value in replacements.items():
        head = re.sub(rf"(?m)^({re.escape(key)}\s*=\s*).*$", lambda m, v=value: m[1] + v, head)
    return head


def _image_object(
    shape: tuple[int, ...], sample_type: str, bits: int, storage: str, band_names: list[str] | None,
    unit: str | None, extra: dict[str, str],
) -> str:
    bands, lines, samples = shape
    text = (
        f"Object = IMAGE\n  LINES             = {lines}\n  LINE_SAMPLES      = {samples}\n"
        f"  SAMPLE_TYPE       = {sample_type}\n  SAMPLE_BITS       = {bits}\n"
    )
    if unit:
        text += f'  UNIT              = "{unit}"\n'
    text += f"  BANDS             = {bands}\n  BAND_STORAGE_TYPE = {storage}\n"
    if band_names:
        text += "  BAND_NAME = (" + ", ".join(f'"{n}"' for n in band_names) + ")\n"
    text += "".join(f"  {k} = {v}\n" for k, v in extra.items())
    return text + "End_Object = IMAGE\n"


def write_wv_table(
    path: str | Path, sensors: np.ndarray, rows: np.ndarray, wavelengths: np.ndarray,
    fwhm: np.ndarray | None = None, flags: np.ndarray | None = None,
) -> Path:
    """A WV table: TER/MTRDR layout with ``fwhm`` and ``flags``, MRDR/VRDR layout without (CRLF)."""
    lines = []
    for i, (sensor, row, nm) in enumerate(zip(sensors, rows, wavelengths, strict=True)):
        if fwhm is None:
            lines.append(f"{int(sensor)},{int(row):3d}, {nm:7.2f}")
        else:
            flag = 1 if flags is None else int(flags[i])
            lines.append(f"{int(sensor):2d}, {int(row):3d}, {nm:7.2f}, {fwhm[i]:7.2f}, {flag}")
    Path(path).write_bytes(("\r\n".join(lines) + "\r\n").encode("ascii"))
    return Path(path)


def write_envi_header(
    path: str | Path, shape: tuple[int, int, int], wavelengths: np.ndarray, fwhm: np.ndarray | None = None,
    *, interleave: str = "bsq", data_type: int = 4, units: str = "Nanometers",
) -> Path:
    """An ENVI header describing a little-endian cube, with wavelengths (and FWHM)."""
    bands, lines, samples = shape
    text = (
        f"ENVI\ndescription = {{generated by xarray_crism.testing.maps}}\nsamples = {samples}\nlines   = {lines}\n"
        f"bands   = {bands}\nheader offset = 0\nfile type = ENVI Standard\ndata type = {data_type}\n"
        f"interleave = {interleave}\nbyte order = 0\nwavelength units = {units}\n"
    )
    text += "wavelength = {\n " + ",\n ".join(f"{w:.6f}" for w in wavelengths) + "}\n"
    if fwhm is not None:
        text += "fwhm = {\n " + ",\n ".join(f"{w:.6f}" for w in fwhm) + "}\n"
    Path(path).write_text(text, encoding="ascii")
    return Path(path)
