"""Mars 2020 Mastcam-Z: filters, label attributes and band coordinates, as tables.

``attach_filter_coordinates`` gives a Mastcam-Z product its ``filter_name(band)``,
``wavelength(band)`` and ``bandwidth(band)`` coordinates and the attributes a user selects by
(eye, filter, zoom, sol, LMST, SCLK, solar longitude, pointing, the CAHVOR camera model). Where
each value comes from is a table: :data:`ODL_ATTRIBUTES` for the attached ODL header,
:data:`PDS4_ATTRIBUTES` for the PDS4 label, :data:`FILTERS` (Hayes et al. 2021, Table 2) for
bandwidths and for wavelengths a label does not give.

Wavelengths are the label's ``CENTER_FILTER_WAVELENGTH`` (PDS4 ``center_filter_wavelength``),
one per band; only when the label has none are they the effective wavelengths of the filter
table (``wavelength.attrs["source"]`` says which). A raw Bayer mosaic of filter 0 has no single
wavelength: it keeps ``filter_name`` and its ``cfa_type`` attribute, and no ``wavelength``,
unless opened with ``bayer="split"``.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np

from ..errors import LabelValueError
from ..labels.pds3 import BasedInteger, Block, Quantity, plain
from ..labels.pds4 import BlockIndex, find_path, index_blocks
from .bayer import CFA_PATTERNS, BayerPlanes
from .build_pds3 import build_band_index
from .product import DerivedArray, DiskArray, Product, Variable

__all__ = ["BAYER_MODES", "FILTERS", "ODL_ATTRIBUTES", "PDS4_ATTRIBUTES", "attach_filter_coordinates", "pointing_key"]

BAYER_MODES = ("raw", "split")
EYES = {"L": "left", "R": "right"}

#: Filter -> (effective wavelength, half width at half maximum), nm: Hayes et al. 2021, Table 2.
FILTERS: dict[str, tuple[float, float]] = {
    "L0R": (630, 43), "L0G": (544, 41), "L0B": (480, 46), "L1": (800, 9), "L2": (754, 10), "L3": (677, 11),
    "L4": (605, 9), "L5": (528, 11), "L6": (442, 12), "L7": (590, 88),
    "R0R": (631, 43), "R0G": (544, 42), "R0B": (480, 46), "R1": (800, 9), "R2": (866, 10), "R3": (910, 12),
    "R4": (939, 12), "R5": (978, 10), "R6": (1022, 19), "R7": (880, 10),
}
FILTERS_SOURCE = "Hayes et al. 2021, Space Sci Rev 217:29, Table 2"

#: Attribute -> (GROUP, KEYWORD) of the attached ODL header ("" = top level).
ODL_ATTRIBUTES: dict[str, tuple[str, str]] = {
    "sol": ("", "PLANET_DAY_NUMBER"),
    "local_mean_solar_time": ("", "LOCAL_MEAN_SOLAR_TIME"),
    "local_true_solar_time": ("", "LOCAL_TRUE_SOLAR_TIME"),
    "sequence_id": ("", "SEQUENCE_ID"),
    "rover_motion_counter": ("", "ROVER_MOTION_COUNTER"),
    "filter_label_name": ("INSTRUMENT_STATE_PARMS", "FILTER_NAME"),
    "filter_number": ("INSTRUMENT_STATE_PARMS", "FILTER_NUMBER"),
    "exposure_duration_ms": ("INSTRUMENT_STATE_PARMS", "EXPOSURE_DURATION"),
    "zoom_position": ("INSTRUMENT_STATE_PARMS", "ZOOM_POSITION_COUNT"),
    "focal_length_mm": ("INSTRUMENT_STATE_PARMS", "FOCAL_LENGTH"),
    "bayer_method": ("INSTRUMENT_STATE_PARMS", "BAYER_METHOD"),
    "cfa_type": ("INSTRUMENT_STATE_PARMS", "CFA_TYPE"),
    "instrument_azimuth_deg": ("ROVER_DERIVED_GEOMETRY_PARMS", "INSTRUMENT_AZIMUTH"),
    "instrument_elevation_deg": ("ROVER_DERIVED_GEOMETRY_PARMS", "INSTRUMENT_ELEVATION"),
    "solar_azimuth_deg": ("SITE_DERIVED_GEOMETRY_PARMS", "SOLAR_AZIMUTH"),
    "solar_elevation_deg": ("SITE_DERIVED_GEOMETRY_PARMS", "SOLAR_ELEVATION"),
    "radiometric_correction_type": ("DERIVED_IMAGE_PARMS", "RADIOMETRIC_CORRECTION_TYPE"),
    "camera_model_type": ("GEOMETRIC_CAMERA_MODEL", "MODEL_TYPE"),
    **{f"camera_model_{c}": ("GEOMETRIC_CAMERA_MODEL", f"MODEL_COMPONENT_{i}") for i, c in enumerate("cahvor", 1)},
}

#: Attribute -> path of local names in a PDS4 label (first match, anywhere in the tree).
PDS4_ATTRIBUTES: dict[str, str] = {
    "sol": "Observation_Information/sol_number",
    "local_mean_solar_time": "Observation_Information/start_local_mean_solar_time",
    "local_true_solar_time": "Observation_Information/start_local_true_solar_time",
    "spacecraft_clock_start_count": "Observation_Information/spacecraft_clock_start",
    "spacecraft_clock_stop_count": "Observation_Information/spacecraft_clock_stop",
    "solar_longitude": "Time_Coordinates/solar_longitude",
    "start_time": "Time_Coordinates/start_date_time",
    "stop_time": "Time_Coordinates/stop_date_time",
    "filter_label_name": "Optical_Filter/filter_name",
    "filter_number": "Optical_Filter/filter_number",
    "exposure_duration_ms": "Exposure/exposure_duration",
    "zoom_position": "Optical_Properties/zoom_position",
    "focal_length_mm": "Optical_Properties/focal_length",
    "bayer_method": "Color_Filter_Array/processing_algorithm",
    "cfa_type": "Color_Filter_Array/color_filter_array_type",
    "cfa_state": "Color_Filter_Array/color_filter_array_state",
    "instrument_azimuth_deg": "Derived_Geometry/instrument_azimuth",
    "instrument_elevation_deg": "Derived_Geometry/instrument_elevation",
    "solar_azimuth_deg": "Derived_Geometry/solar_azimuth",
    "solar_elevation_deg": "Derived_Geometry/solar_elevation",
    "camera_model_type": "Camera_Model_Parameters/model_type",
}

#: CAHVOR vector -> (PDS4 class, suffix of its x/y/z elements).
CAHVOR_PDS4 = {
    "c": ("Vector_Center", "position"), "a": ("Vector_Axis", "unit"), "h": ("Vector_Horizontal", "pixel"),
    "v": ("Vector_Vertical", "pixel"), "o": ("Vector_Optical", "unit"),
}


def attach_filter_coordinates(product: Product, bayer: str = "raw") -> None:
    """Add Mastcam-Z attributes and band coordinates; ``bayer="split"`` splits a raw mosaic."""
    if bayer not in BAYER_MODES:
        raise LabelValueError(product.source.url, "bayer", bayer, f"one of {BAYER_MODES}")
    if product.label_format == "PDS4":
        index = index_blocks(product.label)
        product.attrs.update(build_pds4_attrs(index))
        wavelengths = _pds4_wavelengths(index, product.source.url)
    else:
        product.attrs.update(build_odl_attrs(product.label))
        wavelengths = _odl_wavelengths(product.label, product.source.url)
    product.attrs["eye"] = EYES[str(product.product_id.sensor)]
    number = _filter_number(product)
    variable = product.variables.get(str(product.kind.variable))
    if variable is None:
        images = sorted(product.variables)
        raise LabelValueError(product.source.url, "^IMAGE", images, "exactly one IMAGE object in a Mastcam-Z product")
    raw = _is_raw_bayer(product.attrs) and number == 0
    if raw and bayer == "split":
        variable.data = _split(product, variable)
        product.coords["band"] = build_band_index(3, "band index (R, G, B planes of the mosaic)")
        raw = False
    bands = variable.data.shape[0]
    names = _filter_names(product, number, bands, raw)
    _add_band_coordinates(product, names, wavelengths, raw)


def build_odl_attrs(label: Block) -> dict[str, Any]:
    """The :data:`ODL_ATTRIBUTES` found in an attached ODL header, as plain values."""
    attrs: dict[str, Any] = {}
    groups = {b.name: b for b in reversed(list(label.blocks()))}  # the first block of each name
    for name, (group, keyword) in ODL_ATTRIBUTES.items():
        block = label if not group else groups.get(group)
        if block is not None and keyword in block:
            attrs[name] = plain(block.get(keyword))
    return attrs


def build_pds4_attrs(index: BlockIndex) -> dict[str, Any]:
    """The :data:`PDS4_ATTRIBUTES` and the CAHVOR model found in a PDS4 label (its classes by name)."""
    attrs = {name: plain(v) for name, path in PDS4_ATTRIBUTES.items() if (v := find_path(index, path)) is not None}
    for vector, (cls, suffix) in CAHVOR_PDS4.items():
        values = [find_path(index, f"CAHVOR_Model/{cls}/{axis}_{suffix}") for axis in "xyz"]
        if all(v is not None for v in values):
            attrs[f"camera_model_{vector}"] = plain(values)
    radial = [find_path(index, f"CAHVOR_Model/Radial_Terms/c{i}") for i in range(3)]
    if all(v is not None for v in radial):
        attrs["camera_model_r"] = plain(radial)
    counter = [plain(b.get("index_value_number")) for b in index.get("Motion_Counter_Index", [])]
    if counter:
        attrs["rover_motion_counter"] = counter
    return attrs


def pointing_key(attrs: dict[str, Any]) -> tuple[str, tuple[Any, ...]]:
    """Eye and rover motion counter (site, drive, pose, ..., RSM): one pointing of one camera."""
    counter = attrs.get("rover_motion_counter")
    return str(attrs.get("eye")), tuple(counter) if isinstance(counter, list) else (counter,)


def _filter_number(product: Product) -> int:
    number = product.attrs.get("filter_number")
    if isinstance(number, int) and 0 <= number <= 7:
        return number
    code = product.product_id.filter_code
    if number is None and code is not None and code.isdigit():
        return int(code)
    raise LabelValueError(product.source.url, "FILTER_NUMBER", number, "a Mastcam-Z filter number 0 to 7")


def _is_raw_bayer(attrs: dict[str, Any]) -> bool:
    return str(attrs.get("bayer_method", "")).upper() == "RAW_BAYER" or str(attrs.get("cfa_state", "")).lower() == "encoded"


def _cfa_pattern(product: Product) -> str:
    pattern = "_".join(str(product.attrs.get("cfa_type", "")).upper().split())
    if pattern not in CFA_PATTERNS:
        raise LabelValueError(product.source.url, "CFA_TYPE", product.attrs.get("cfa_type"), f"one of {sorted(CFA_PATTERNS)}")
    return pattern


def _split(product: Product, variable: Variable) -> BayerPlanes:
    mosaic = variable.data
    if not isinstance(mosaic, DiskArray) or mosaic.shape[0] != 1:
        raise LabelValueError(product.source.url, "BANDS", mosaic.shape[0], "1 band in a raw Bayer image")
    constants = tuple(
        float(c) for k, v in variable.encoding.items() if k in ("_FillValue", "missing_value") for c in np.ravel(v)
    )
    variable.encoding.pop("preferred_chunks", None)
    return BayerPlanes(mosaic, _cfa_pattern(product), constants)


def _filter_names(product: Product, number: int, bands: int, raw: bool) -> list[str]:
    eye = str(product.product_id.sensor)
    if number == 0 and bands == 3:
        return [f"{eye}0R", f"{eye}0G", f"{eye}0B"]
    if bands == 1 and (number != 0 or raw):
        return [f"{eye}{number}"]
    raise LabelValueError(
        product.source.url, "BANDS", bands,
        f"3 bands (filter 0, debayered) or 1 band (a narrow-band filter or a raw mosaic) for filter {number}",
    )


def _pds4_wavelengths(index: BlockIndex, url: str) -> list[float]:
    """``center_filter_wavelength`` of the ``Optical_Filter`` classes, ordered by ``array_band_number``."""
    filters = [b for b in index.get("Optical_Filter", []) if "center_filter_wavelength" in b]
    order = [b.get("array_band_number", i + 1) for i, b in enumerate(filters)]
    if not all(isinstance(n, int) for n in order) or len(set(order)) != len(order):
        raise LabelValueError(url, "Optical_Filter/array_band_number", order, "distinct band numbers 1, 2, ...")
    by_band = sorted(zip(order, filters, strict=True), key=lambda pair: pair[0])
    return _numbers([b.get("center_filter_wavelength") for _, b in by_band], url, "Optical_Filter/center_filter_wavelength")


def _odl_wavelengths(label: Block, url: str) -> list[float]:
    state = next(label.blocks("INSTRUMENT_STATE_PARMS"), Block())
    values = state.get("CENTER_FILTER_WAVELENGTH", [])
    return _numbers(values if isinstance(values, list) else [values], url, "CENTER_FILTER_WAVELENGTH")


def _numbers(values: list[Any], url: str, keyword: str) -> list[float]:
    """The wavelengths among ``values`` (text such as ``N/A`` is left out); a bit pattern
    (``16#7FFFFFFF#``) or a unit on something that is not a number is refused."""
    numbers = [v.value if isinstance(v, Quantity) else v for v in values if isinstance(v, (int, float, Quantity))]
    bad = [v for v in numbers if isinstance(v, BasedInteger) or not isinstance(v, (int, float))]
    if bad:
        raise LabelValueError(url, keyword, str(bad[0]), "wavelengths in nm (real numbers)")
    return [float(v) for v in numbers]


def _add_band_coordinates(product: Product, names: list[str], wavelengths: list[float], raw: bool) -> None:
    bands = len(names)
    product.coords["filter_name"] = _band_coordinate(names, f"U{max(map(len, names))}", {"long_name": "Mastcam-Z filter"})
    if raw:
        product.attrs["wavelength_note"] = "raw Bayer mosaic: no single wavelength; open with bayer='split' for R, G, B planes"
        return
    if len(wavelengths) == bands:
        source = "label CENTER_FILTER_WAVELENGTH"
    else:
        wavelengths, source = [FILTERS[n][0] for n in names], f"{FILTERS_SOURCE} (effective wavelength)"
    attrs = {"units": "nm", "long_name": "filter centre wavelength", "standard_name": "radiation_wavelength", "source": source}
    product.coords["wavelength"] = _band_coordinate(wavelengths, "float64", attrs)
    width_attrs = {"units": "nm", "long_name": "half width at half maximum", "source": FILTERS_SOURCE}
    product.coords["bandwidth"] = _band_coordinate([FILTERS[n][1] for n in names], "float64", width_attrs)


def _band_coordinate(values: list[Any], dtype: str, attrs: dict[str, str]) -> Variable:
    data = np.array(values, dtype=dtype)
    return Variable(DerivedArray(("band",), data.shape, data.dtype, partial(np.copy, data)), attrs)
