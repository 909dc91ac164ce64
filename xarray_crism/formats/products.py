"""Product identification: which CRISM or Mastcam-Z product a label describes, as data.

``identify_product`` parses a PRODUCT_ID (or file name) with the SIS naming conventions (and
the Mastcam-Z calibrated bundle's 58-character file names) and
looks the product's kind up in :data:`KINDS`, a table keyed by (family, type code). Quirks of a
product type are columns of that table, never branches in the reader.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import UnsupportedProductError

__all__ = ["KINDS", "ProductId", "ProductKind", "identify_product", "parse_product_id", "supported_products"]


@dataclass(frozen=True)
class ProductKind:
    """How one product type becomes a Dataset.

    ``variable``: name of the cube variable, or None when every band is its own 2-D variable
    (named by ``band_names``: ``"ddr"`` table or ``"slug"`` of BAND_NAME). ``content``:
    ``"image"`` (IMAGE objects), ``"table"`` (ASCII TABLE) or ``"array"`` (ARRAY objects).
    ``band_coordinates``: where band coordinates come from: ``"crism"`` (detector rows and the
    calibration CDRs), ``"filters"`` (Mastcam-Z filters), ``"wv_targeted"``/``"wv_tile"`` (the
    product's own WV table, TER/MTRDR or MRDR/VRDR layout). ``map_projected``: the label must
    carry an ``IMAGE_MAP_PROJECTION`` and the image dims become ``("band", "y", "x")``.
    ``image_attributes``: the IMAGE object's own keywords (a browse product's stretch) become
    attributes of the variable. ``lines_as_variables``: each line of the image is its own
    ``(band, sample)`` variable, named from the label's ``Line N: [a, b], Name`` comments (VS ADRs,
    :func:`~xarray_crism.formats.adr.build_line_roles`). ``label_attributes``: label keyword ->
    Dataset attribute, copied for this kind on top of the common ones (an ADR's validity times).
    """

    family: str
    code: str
    description: str
    variable: str | None
    long_name: str
    units: str | None
    fill_value: float | None = 65535.0
    band_names: str | None = None
    content: str = "image"
    has_wavelengths: bool = True
    band_coordinates: str = "crism"
    map_projected: bool = False
    image_attributes: bool = False
    lines_as_variables: bool = False
    label_attributes: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class ProductId:
    """The fields of a product name, per the SIS naming conventions."""

    product_id: str
    family: str
    code: str
    sensor: str | None = None
    class_type: str | None = None
    observation_id: str | None = None
    counter: str | None = None
    macro: str | None = None
    version: str | None = None
    sclk_partition: int | None = None
    sclk_time: int | None = None
    binning_code: int | None = None
    filter_code: str | None = None
    sol: int | None = None
    tile: int | None = None
    browse_type: str | None = None
    resolution: int | None = None
    source_observation_id: str | None = None


_SENSOR_SPACE = re.compile(
    r"(?P<class_type>[A-Z]{3})(?P<observation_id>[0-9A-F]{8})_(?P<counter>[0-9A-F]{2})_"
    r"(?P<code>[A-Z][A-Z0-9])(?P<macro>[0-9A-F]{3})(?P<sensor>[SLJ])_(?P<filetype>TRR|EDR|DDR|LDR)(?P<version>[0-9A-Z])"
)
_CDR4 = re.compile(
    r"CDR4(?P<partition>\d)(?P<time>\d{10})_(?P<code>[A-Z]{2})(?P<rate>\d)(?P<binning>\d)(?P<exposure>\d{3})"
    r"(?P<filter>\d)(?P<side>\d)(?P<sensor>[SLJ])_(?P<version>[0-9A-Z])"
)
_CDR6 = re.compile(
    r"CDR6_(?P<partition>\d)_(?P<time>\d{10})_(?P<code>[A-Z]{2})_(?P<sensor>[SLJ])_(?P<version>[0-9A-Z])"
)
_ADR = re.compile(r"ADR_?(?P<code>[A-Z]{2})_(?P<wavelength>\d{4})_(?P<partition>\d)_(?P<time>\d{10})_(?P<version>[0-9A-Z])")
#: ``ADRptttttttttt_xxxxx_VSbwn_v`` (the comment block of every VS ADR label): validity start SCLK,
#: source volcano-scan observation, binning and wavelength filter codes, sensor, version.
_ADR_VS = re.compile(
    r"ADR(?P<partition>\d)(?P<time>\d{10})_(?P<source_observation>[0-9A-F]{5})_(?P<code>VS)(?P<binning>\d)"
    r"(?P<filter>\d)(?P<sensor>[SLJ])_(?P<version>[0-9A-Z])"
)
#: Calibration and ancillary name patterns: (family, pattern); a new ADR type is a row here and in KINDS.
_CALIBRATION_PATTERNS = (("CDR4", _CDR4), ("CDR6", _CDR6), ("ADR", _ADR), ("ADR", _ADR_VS))
_MASTCAMZ = re.compile(
    r"Z(?P<sensor>[LR])(?P<filter>[0-9A-Z])_(?P<sol>\d{4})_(?P<sclk>\d{10})_(?P<msec>\d{3})(?P<code>[A-Z]{3})_"
    r"(?P<rest>[A-Z0-9_]+?)(?P<version>\d{2})"
)
_TARGETED_RDR = re.compile(
    r"(?P<class_type>[A-Z]{3})(?P<observation_id>[0-9A-F]{8})_(?P<counter>[0-9A-F]{2})_"
    r"(?:BR(?P<browse>[A-Z0-9]{3})J?|(?P<code>[A-Z]{2})(?P<macro>[0-9A-F]{3})J)_(?P<filetype>TER|MTR)(?P<version>[0-9A-Z])"
)
_TILE = re.compile(
    r"T(?P<tile>\d{4})_(?P<filetype>MRR|VRR)(?:(?P<code>[A-Z]{2})|(?P<browse>[A-Z0-9]{3}))_"
    r"(?P<clat>\d{2})(?P<hemisphere>[NS])(?P<clon>\d{3})_(?P<resolution>\d{4})_(?P<version>[0-9A-Z])"
)
_FILETYPE_FAMILY = {
    "TRR": "TRDR", "EDR": "EDR", "DDR": "DDR", "LDR": "LDR", "TER": "TER", "MTR": "MTRDR", "MRR": "MRDR", "VRR": "VRDR",
}

_I_OVER_F = "I/F"
#: Label keywords of a calibration product's validity and provenance -> attribute names.
_VALIDITY = (
    ("START_TIME", "valid_from"), ("STOP_TIME", "valid_until"),
    ("SPACECRAFT_CLOCK_START_COUNT", "valid_from_sclk"), ("SPACECRAFT_CLOCK_STOP_COUNT", "valid_until_sclk"),
    ("PIXEL_AVERAGING_WIDTH", "binning"), ("SOURCE_PRODUCT_ID", "source_product_id"),
)
_W = "W m-2 um-1 sr-1"


def _map_kinds(family: str, projected: bool, codes: dict[str, str]) -> dict[tuple[str, str], ProductKind]:
    """Kinds of the TER/MTRDR/MRDR/VRDR families (``codes``: code -> row of :data:`_MAP_CODES`)."""
    band = "wv_targeted" if family in ("TER", "MTRDR") else "wv_tile"
    out = {}
    for code, row in codes.items():
        description, variable, long_name, units, names = _MAP_CODES[row]
        coords = band if variable in ("i_over_f", "lambert_albedo") else "none"
        fill = None if code == "BR" else 65535.0
        out[(family, code)] = ProductKind(
            family, code, description, variable, long_name, units, fill, band_names=names,
            has_wavelengths=coords != "none", band_coordinates=coords, map_projected=projected,
            image_attributes=code == "BR",
        )
    return out


#: Rows shared by the map-family kinds: description, variable, long name, units, band names.
_MAP_CODES: dict[str, tuple[str, str | None, str, str | None, str | None]] = {
    "IF": ("I/F", "i_over_f", _I_OVER_F, "1", None),
    "IF_CORRECTED": ("corrected I/F", "i_over_f", "I/F corrected for photometric, atmospheric and instrument effects", "1", None),
    "AL": ("Lambert albedo", "lambert_albedo", "Lambert albedo", "1", None),
    "SU": ("summary parameters", None, "summary parameter", None, "slug"),
    "SR": ("refined summary parameters", None, "refined summary parameter", None, "slug"),
    "IN": ("data processing information", None, "data processing information", None, "slug"),
    "RE": ("data processing residuals", None, "data processing residual", None, "slug"),
    "DE": ("geometry backplanes", None, "", None, "ddr"),
    "BR": ("browse image (8-bit RGB)", "browse", "browse image", "1", None),
}
_TARGETED = {"IF": "IF_CORRECTED", "SU": "SU", "SR": "SR", "IN": "IN", "BR": "BR"}

#: (family, code) -> kind; code "*" matches any code of the family.
KINDS: dict[tuple[str, str], ProductKind] = {
    ("TRDR", "IF"): ProductKind("TRDR", "IF", "I/F", "i_over_f", _I_OVER_F, "1"),
    ("TRDR", "RA"): ProductKind("TRDR", "RA", "radiance", "radiance", "spectral radiance", _W),
    ("TRDR", "AL"): ProductKind("TRDR", "AL", "Lambert albedo", "lambert_albedo", "Lambert albedo", "1"),
    ("TRDR", "SU"): ProductKind("TRDR", "SU", "summary parameters", None, "summary parameter", None, band_names="slug", has_wavelengths=False),
    ("EDR", "*"): ProductKind("EDR", "*", "raw DN", "dn", "raw detector counts", "1", fill_value=None),
    ("DDR", "DE"): ProductKind("DDR", "DE", "geometry backplanes", None, "", None, band_names="ddr", has_wavelengths=False),
    ("LDR", "DE"): ProductKind("LDR", "DE", "limb geometry backplanes", None, "", None, band_names="ddr", has_wavelengths=False),
    ("CDR4", "WA"): ProductKind("CDR4", "WA", "wavelength image", "center_wavelength", "pixel centre wavelength", "nm"),
    ("CDR4", "RW"): ProductKind("CDR4", "RW", "resampled wavelength image", "center_wavelength", "resampled pixel centre wavelength", "nm"),
    ("CDR4", "SB"): ProductKind("CDR4", "SB", "spectral bandpass", "bandpass", "spectral bandpass (FWHM)", "nm"),
    ("CDR4", "SF"): ProductKind("CDR4", "SF", "solar flux at 1 AU", "solar_flux", "solar spectral irradiance at 1 AU", "W m-2 um-1"),
    ("CDR4", "RF"): ProductKind("CDR4", "RF", "resampled solar flux", "solar_flux", "resampled solar spectral irradiance at 1 AU", "W m-2 um-1"),
    ("CDR4", "AT"): ProductKind("CDR4", "AT", "atmospheric transmission", "atmospheric_transmission", "atmospheric transmission", "1"),
    ("CDR4", "RT"): ProductKind("CDR4", "RT", "resampled atmospheric transmission", "atmospheric_transmission", "resampled atmospheric transmission", "1"),
    ("CDR4", "BP"): ProductKind("CDR4", "BP", "bad pixel mask", "bad_pixel_mask", "bad pixel mask", None, fill_value=None),
    ("CDR4", "DM"): ProductKind("CDR4", "DM", "detector masks", "detector_mask", "detector column mask", None, fill_value=None),
    ("CDR4", "BI"): ProductKind("CDR4", "BI", "bias", "bias", "bias", None),
    ("CDR4", "BK"): ProductKind("CDR4", "BK", "background", "background", "background frame", None),
    ("CDR4", "UB"): ProductKind("CDR4", "UB", "background noise", "background_noise", "background uncertainty", None),
    ("CDR4", "SP"): ProductKind("CDR4", "SP", "processed sphere image", "sphere", "sphere image", "DN ms-1"),
    ("CDR4", "NU"): ProductKind("CDR4", "NU", "nonuniformity", "nonuniformity", "detector nonuniformity", "1"),
    ("CDR4", "SS"): ProductKind("CDR4", "SS", "sphere spectral radiance", "sphere_radiance", "sphere radiance coefficients", None),
    ("CDR4", "SH"): ProductKind("CDR4", "SH", "shutter correction", "shutter_correction", "shutter correction coefficients", None),
    ("CDR4", "TD"): ProductKind("CDR4", "TD", "responsivity temperature dependence", "temperature_dependence", "responsivity temperature coefficients", None),
    ("CDR4", "CM"): ProductKind("CDR4", "CM", "along-slit angle", "along_slit_angle", "along-slit angle from slit centre", None),
    ("CDR4", "PS"): ProductKind("CDR4", "PS", "smile shift", "smile_shift", "lines to shift for spectral smile", None),
    ("CDR4", "LL"): ProductKind("CDR4", "LL", "leaked light", "leaked_light", "leaked higher-order light matrices", None),
    ("CDR6", "*"): ProductKind("CDR6", "*", "calibration table", None, "", None, content="table", has_wavelengths=False),
    ("MCZ", "RAD"): ProductKind("MCZ", "RAD", "Mastcam-Z radiance", "radiance", "spectral radiance", "W m-2 sr-1 nm-1", None, has_wavelengths=False, band_coordinates="filters"),
    ("MCZ", "IOF"): ProductKind("MCZ", "IOF", "Mastcam-Z radiance factor", "i_over_f", "radiance factor (I/F)", "1", None, has_wavelengths=False, band_coordinates="filters"),
    ("ADR", "*"): ProductKind("ADR", "*", "look-up table", None, "", None, fill_value=None, content="array", has_wavelengths=False),
    ("ADR", "VS"): ProductKind(
        "ADR", "VS", "volcano-scan atmospheric transmission", "atmospheric_transmission", "atmospheric transmission",
        "1", lines_as_variables=True, label_attributes=_VALIDITY,
    ),
    **_map_kinds("TER", False, {**_TARGETED, "RE": "RE"}),
    **_map_kinds("MTRDR", True, {**_TARGETED, "DE": "DE"}),
    **_map_kinds("MRDR", True, {"IF": "IF", "AL": "AL", "SU": "SU", "DE": "DE", "DL": "DE", "BR": "BR"}),
    **_map_kinds("VRDR", True, {"AL": "AL", "SU": "SU", "DE": "DE", "BR": "BR"}),
}


def supported_products() -> str:
    """A one-line summary of the product types the backend reads, for error messages."""
    names = sorted({f"{f} {c}" if c != "*" else f for f, c in KINDS})
    return ", ".join(names)


def identify_product(product_id: str, label: str) -> tuple[ProductId, ProductKind]:
    """Parse a PRODUCT_ID (or file stem) and find its kind; raise if it is not supported."""
    pid = parse_product_id(product_id.strip().upper())
    if pid is None:
        raise UnsupportedProductError(
            label, "PRODUCT_ID", product_id,
            f"a CRISM product name per the SIS or a Mastcam-Z calibrated product name (supported: {supported_products()})",
        )
    kind = KINDS.get((pid.family, pid.code)) or KINDS.get((pid.family, "*"))
    if kind is None:
        raise UnsupportedProductError(
            label, "PRODUCT_ID", product_id, f"one of the supported product types: {supported_products()}",
        )
    return pid, kind


def parse_product_id(text: str) -> ProductId | None:
    """The fields of an upper-case product name (SIS naming), or None when it follows no known pattern."""
    m = _SENSOR_SPACE.fullmatch(text)
    if m:
        g = m.groupdict()
        return ProductId(
            text, _FILETYPE_FAMILY[g["filetype"]], g["code"], g["sensor"], g["class_type"],
            g["observation_id"], g["counter"], g["macro"], g["version"],
        )
    m = _TARGETED_RDR.fullmatch(text) or _TILE.fullmatch(text)
    if m:
        return _map_product_id(text, m.groupdict())
    m = _MASTCAMZ.fullmatch(text)
    if m:
        return ProductId(
            text, "MCZ", m["code"], m["sensor"], version=m["version"], sclk_time=int(m["sclk"]),
            filter_code=m["filter"], sol=int(m["sol"]),
        )
    for family, pattern in _CALIBRATION_PATTERNS:
        m = pattern.fullmatch(text)
        if m:
            return _calibration_product_id(text, family, m.groupdict())
    return None


def _calibration_product_id(text: str, family: str, g: dict[str, str]) -> ProductId:
    """CDR4/CDR6/ADR names: validity start SCLK, and binning, filter and source observation where named."""
    binning = int(g["binning"]) if "binning" in g else None
    return ProductId(
        text, family, g["code"], g.get("sensor"), version=g["version"], sclk_partition=int(g["partition"]),
        sclk_time=int(g["time"]), binning_code=binning, filter_code=g.get("filter"),
        source_observation_id=g.get("source_observation"),
    )


def _map_product_id(text: str, g: dict[str, str | None]) -> ProductId:
    """TER/MTRDR (sensor J) and MRDR/VRDR tile names; a browse type makes the code ``"BR"``."""
    tile, resolution = g.get("tile"), g.get("resolution")
    return ProductId(
        text, _FILETYPE_FAMILY[str(g["filetype"])], g["code"] or "BR", "J" if tile is None else None,
        g.get("class_type"), g.get("observation_id"), g.get("counter"), g.get("macro"), g["version"],
        tile=None if tile is None else int(tile), browse_type=g["browse"],
        resolution=None if resolution is None else int(resolution),
    )
