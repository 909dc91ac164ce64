"""Writers of CRISM volume index tables (SIS Table 3-17, section 4 formats), for tests and benchmarks.

Records are fixed length and end in CR LF; fields are separated by commas; character fields are
quoted and padded inside the quotes (``START_BYTE`` points after the opening quote and ``BYTES``
counts the padded text, as the SIS says the length excludes delimiters); numbers are right
justified; ``N/A`` marks inapplicable fields (blank in fields narrower than 3 bytes).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path

import numpy as np

__all__ = ["FOOTPRINTS", "INDEX_COLUMNS", "MASTCAMZ_BUNDLE", "write_crism_volumes", "write_index", "write_mastcamz_bundle"]

#: SIS Table 3-17: (name, data type, bytes). FILE_SPECIFICATION_NAME is 64 bytes, not the SIS's 55:
#: its own example (``EDR/2006/2006_350/FRT00001270/FRT00001270_01_SC001S_EDR0.IMG``) is 59
#: characters long. The spacecraft clock counts are 18 bytes, not 17: real labels write
#: ``"7/0934686406.23361"``; the calibration file names are 32, not 26
#: (``"CDR450924300802_WA0300000L_3.IMG"`` in the corpus's TRDR labels).
#: Readers take every width from the label, so this changes nothing for them.
INDEX_COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("VOLUME_ID", "CHARACTER", 12), ("PRODUCT_ID", "CHARACTER", 28), ("PRODUCT_TYPE", "CHARACTER", 5),
    ("FILE_SPECIFICATION_NAME", "CHARACTER", 64), ("PRODUCT_CREATION_TIME", "TIME", 19),
    ("PARTICIPATING_INSTRUMENTS", "CHARACTER", 6), ("SPACECRAFT_CLOCK_START_COUNT", "CHARACTER", 18),
    ("SPACECRAFT_CLOCK_STOP_COUNT", "CHARACTER", 18), ("ORBIT_NUMBER", "CHARACTER", 6), ("START_TIME", "TIME", 19),
    ("STOP_TIME", "TIME", 19), ("LOWER_RIGHT_LATITUDE", "ASCII_REAL", 7), ("LOWER_RIGHT_LONGITUDE", "ASCII_REAL", 8),
    ("LOWER_LEFT_LATITUDE", "ASCII_REAL", 7), ("LOWER_LEFT_LONGITUDE", "ASCII_REAL", 8),
    ("UPPER_RIGHT_LATITUDE", "ASCII_REAL", 7), ("UPPER_RIGHT_LONGITUDE", "ASCII_REAL", 8),
    ("UPPER_LEFT_LATITUDE", "ASCII_REAL", 7), ("UPPER_LEFT_LONGITUDE", "ASCII_REAL", 8),
    ("CENTER_LATITUDE", "ASCII_REAL", 7), ("CENTER_LONGITUDE", "ASCII_REAL", 8), ("OBSERVATION_TYPE", "CHARACTER", 3),
    ("OBSERVATION_ID", "CHARACTER", 8), ("MRO:OBSERVATION_NUMBER", "ASCII_INTEGER", 2), ("MRO:ACTIVITY_ID", "CHARACTER", 5),
    ("MRO:SENSOR_ID", "CHARACTER", 1), ("PRODUCT_VERSION_ID", "CHARACTER", 1), ("TARGET_CENTER_DISTANCE", "ASCII_REAL", 13),
    ("SOLAR_DISTANCE", "ASCII_REAL", 13), ("SHUTTER_MODE_ID", "CHARACTER", 6), ("LIGHT_SOURCE_NAME", "CHARACTER", 13),
    ("CALIBRATION_LAMP_STATUS", "CHARACTER", 11), ("CALIBRATION_LAMP_LEVEL", "ASCII_INTEGER", 4),
    ("PIXEL_AVERAGING_WIDTH", "ASCII_INTEGER", 2), ("INSTRUMENT_POINTING_MODE", "CHARACTER", 16),
    ("SCAN_MODE_ID", "CHARACTER", 5), ("MRO:FRAME_RATE", "ASCII_REAL", 5), ("MRO:EXPOSURE_PARAMETER", "ASCII_INTEGER", 3),
    ("SAMPLING_MODE_ID", "CHARACTER", 9), ("COMPRESSION_TYPE", "CHARACTER", 5), ("MRO:WAVELENGTH_FILTER", "CHARACTER", 1),
    ("MRO:WAVELENGTH_FILE_NAME", "CHARACTER", 32), ("MRO:PIXEL_PROC_FILE_NAME", "CHARACTER", 32),
    ("MRO:LOOKUP_TABLE_FILE_NAME", "CHARACTER", 32), ("MRO:DETECTOR_TEMPERATURE", "ASCII_REAL", 8),
    ("MRO:OPTICAL_BENCH_TEMPERATURE", "ASCII_REAL", 8), ("MRO:SPECTROMETER_HOUSING_TEMP", "ASCII_REAL", 8),
    ("MRO:SPHERE_TEMPERATURE", "ASCII_REAL", 8), ("MRO:FPE_TEMPERATURE", "ASCII_REAL", 8), ("LINES", "ASCII_INTEGER", 4),
    ("LINE_SAMPLES", "ASCII_INTEGER", 4), ("BANDS", "ASCII_INTEGER", 3), ("MAP_RESOLUTION", "ASCII_INTEGER", 4),
    ("MAXIMUM_LATITUDE", "ASCII_REAL", 7), ("MINIMUM_LATITUDE", "ASCII_REAL", 7),
    ("WESTERNMOST_LONGITUDE", "ASCII_REAL", 8), ("EASTERNMOST_LONGITUDE", "ASCII_REAL", 8),
)


def write_index(label: str | Path, rows: Sequence[Mapping[str, object]], *, table_name: str | None = None) -> Path:
    """Write ``rows`` (column name -> value; absent or None is ``N/A``) as a .TAB and its .LBL."""
    label = Path(label)
    table = label.with_name(table_name or label.stem.upper() + ".TAB")
    records = [_record(row) for row in rows]
    row_bytes = len(_record({}))
    table.write_bytes(b"".join(records))
    label.write_bytes(_label(table.name, len(records), row_bytes).encode("ascii"))
    return label


def _field(name: str, data_type: str, width: int, value: object) -> str:
    text = ("N/A" if width >= 3 else "") if value is None else (f"{value:.3f}" if isinstance(value, float) else str(value))
    if len(text) > width:
        raise ValueError(f"{name}: {text!r} is wider than {width} bytes")
    return f'"{text.ljust(width)}"' if data_type in ("CHARACTER", "TIME") else text.rjust(width)


def _record(row: Mapping[str, object]) -> bytes:
    fields = [_field(name, kind, width, row.get(name)) for name, kind, width in INDEX_COLUMNS]
    return (",".join(fields) + "\r\n").encode("ascii")


def _label(table: str, rows: int, row_bytes: int) -> str:
    lines = [
        "PDS_VERSION_ID = PDS3", "RECORD_TYPE = FIXED_LENGTH", f"RECORD_BYTES = {row_bytes}", f"FILE_RECORDS = {rows}",
        f'^INDEX_TABLE = "{table}"', "OBJECT = INDEX_TABLE", "  INTERCHANGE_FORMAT = ASCII", f"  ROWS = {rows}",
        f"  COLUMNS = {len(INDEX_COLUMNS)}", f"  ROW_BYTES = {row_bytes}", "  INDEX_TYPE = SINGLE",
    ]
    start = 1
    for number, (name, kind, width) in enumerate(INDEX_COLUMNS, start=1):
        quoted = kind in ("CHARACTER", "TIME")
        lines += [
            "  OBJECT = COLUMN", f"    COLUMN_NUMBER = {number}", f"    NAME = \"{name}\"", f"    DATA_TYPE = {kind}",
            f"    START_BYTE = {start + quoted}", f"    BYTES = {width}", "  END_OBJECT = COLUMN",
        ]
        start += width + 2 * quoted + 1
    lines += ["END_OBJECT = INDEX_TABLE", "END"]
    return "\r\n".join(lines) + "\r\n"


# --- whole volumes in the SIS layout (sections 2-3), for tests of catalogs over fsspec ---------------

#: The generated volumes, named as on the PDS Geosciences Node (TRDR 2009-08 -> MROCR_2104, DDR -> MROCR_1002).
TRDR_VOLUME, DDR_VOLUME, CDR_VOLUME = "mrocr_2104", "mrocr_1002", "mrocr_0001"

#: Synthetic footprints (centre latitude, centre east longitude, half size in degrees) by observation:
#: the corpus labels carry none. One straddles 0/360 E so that bounding boxes across it are tested.
FOOTPRINTS = {"FRT00014679": (-4.5, 137.4, 0.05), "FRT0001458F": (18.3, 77.5, 0.05), "HRL000040FF": (18.4, 359.98, 0.05)}

_DDR_TEMPLATE = "labels/frt00003e25_01_de156l_ddr1.lbl"
_HRL_TEMPLATE = "labels/hrl000040ff_07_if183l_trr3.lbl"
_DDR_NAMES = [
    "INA at areoid, deg", "EMA at areoid, deg", "Phase angle, deg", "Latitude, areocentric, deg N",
    "Longitude, areocentric, deg E", "INA at surface from MOLA, deg", "EMA at surface from MOLA, deg",
    "Slope magnitude from MOLA, deg", "MOLA slope azimuth, deg clkwise from N", "Elevation, meters relative to MOLA",
    "Thermal inertia, J m^-2 K^-1 s^-0.5", "Bolometic albedo", "Local solar time, hours", "Spare",
]


def write_crism_volumes(root: str | Path, corpus_crism: str | Path) -> dict[str, Path]:
    """Write a TRDR, a DDR and an EDR/CDR volume under ``root`` (lower-case files, as served publicly).

    TRDR volume: the corpus's three real TRDRs plus a generated HRL TRDR (4 lines x 16 samples);
    DDR volume: a generated DDR (14 bands, real DDR label header) for each; CDR volume: the corpus's
    real WA CDR4s (``CDR/WA``) and SW CDR6 tables (``CDR/SW``). Each volume has ``INDEX/CUMINDEX``
    with upper-case ``FILE_SPECIFICATION_NAME`` paths to the ``.IMG``/``.TAB`` (the SIS's example form).
    Returns the volume roots by ``"trdr"``, ``"ddr"``, ``"cdr"``.
    """
    root, corpus = Path(root), Path(corpus_crism)
    roots = {kind: root / name for kind, name in (("trdr", TRDR_VOLUME), ("ddr", DDR_VOLUME), ("cdr", CDR_VOLUME))}
    trdr_labels = [*sorted((corpus / "trdr").glob("*.lbl")), _write_hrl(root / "_staging", corpus)]
    trdr_rows = [_place_observation_product(roots["trdr"], "TRDR", label, "TRDR") for label in trdr_labels]
    ddr_rows = [_place_ddr(roots["ddr"], row, corpus) for row in trdr_rows]
    cdr_rows = [_place_cdr(roots["cdr"], f, "WA") for f in sorted((corpus / "cdr").glob("*.LBL"))]
    cdr_rows += [_place_cdr(roots["cdr"], f, "SW") for f in sorted((corpus / "cdr6").glob("*.lbl"))]
    for kind, rows in (("trdr", trdr_rows), ("ddr", ddr_rows), ("cdr", cdr_rows)):
        (roots[kind] / "index").mkdir(parents=True, exist_ok=True)
        write_index(roots[kind] / "index" / "cumindex.lbl", rows, table_name="cumindex.tab")
    shutil.rmtree(root / "_staging", ignore_errors=True)
    return roots


def _write_hrl(staging: Path, corpus: Path) -> Path:
    from .cubes import write_cube

    staging.mkdir(parents=True, exist_ok=True)
    rows = np.arange(438) + 21
    cube = np.random.default_rng(7).uniform(0, 0.4, (438, 4, 16)).astype(np.float32)
    return write_cube(staging, corpus / _HRL_TEMPLATE, "HRL000040FF_07_IF183L_TRR3", cube, detector_rows=rows).label


def _place_observation_product(
    volume: Path, directory: str, label: Path, product_type: str, same_as: Mapping[str, object] | None = None,
) -> dict[str, object]:
    """Copy a product to ``DIR/YYYY/YYYY_DOY/OBSERVATION/`` (times from its label, or ``same_as``'s)."""
    text = label.read_text(encoding="latin-1")
    row = _label_row(text, volume.name, product_type)
    row.update({k: same_as[k] for k in ("START_TIME", "STOP_TIME", "SPACECRAFT_CLOCK_START_COUNT")} if same_as else {})
    start = datetime.fromisoformat(str(row["START_TIME"]))
    pid = str(row["PRODUCT_ID"])
    relative = f"{directory}/{start:%Y}/{start:%Y_%j}/{pid[:11]}"
    row["FILE_SPECIFICATION_NAME"] = f"{relative}/{pid}.IMG"
    target = volume / relative.lower()
    target.mkdir(parents=True, exist_ok=True)
    for f in label.parent.glob(label.stem + ".*"):
        shutil.copy(f, target / f.name.lower())
    lat, lon, half = FOOTPRINTS[pid[:11]]
    row.update(_footprint(lat, lon, half))
    return row


def _place_ddr(volume: Path, trdr: dict[str, object], corpus: Path) -> dict[str, object]:
    from .cubes import write_cube

    pid = str(trdr["PRODUCT_ID"])
    ddr_id = f"{pid[:15]}DE{pid[17:21]}_DDR1"
    lines, samples = int(str(trdr["LINES"])), int(str(trdr["LINE_SAMPLES"]))
    seed = sum(map(ord, ddr_id))
    data = np.random.default_rng(seed).uniform(0, 90, (14, lines, samples)).astype(np.float32)
    staging = volume.parent / "_staging"
    staging.mkdir(parents=True, exist_ok=True)
    label = write_cube(staging, corpus / _DDR_TEMPLATE, ddr_id, data, storage="BAND_SEQUENTIAL", band_names=_DDR_NAMES).label
    text = label.read_bytes()  # the template is an L DDR: say which sensor this one is
    label.write_bytes(re.sub(rb'(MRO:SENSOR_ID\s*=\s*)"?[SLJ]"?', rb'\g<1>"%s"' % str(trdr["MRO:SENSOR_ID"]).encode(), text))
    return _place_observation_product(volume, "DDR", label, "DDR", same_as=trdr)


def _place_cdr(volume: Path, label: Path, acronym: str) -> dict[str, object]:
    text = label.read_text(encoding="latin-1")
    row = _label_row(text, volume.name, "CDR")
    pid = str(row["PRODUCT_ID"])
    data_ext = ".TAB" if pid.startswith("CDR6") else ".IMG"
    row["FILE_SPECIFICATION_NAME"] = f"CDR/{acronym}/{pid}{data_ext}"
    target = volume / "cdr" / acronym.lower()
    target.mkdir(parents=True, exist_ok=True)
    for f in label.parent.iterdir():
        if f.stem.upper() == label.stem.upper():
            shutil.copy(f, target / f.name.lower())
    return row


_KEYWORDS = {
    "PRODUCT_ID": "PRODUCT_ID", "START_TIME": "START_TIME", "STOP_TIME": "STOP_TIME",
    "SPACECRAFT_CLOCK_START_COUNT": "SPACECRAFT_CLOCK_START_COUNT", "MRO:SENSOR_ID": "MRO:SENSOR_ID",
    "MRO:ACTIVITY_ID": "MRO:ACTIVITY_ID", "MRO:WAVELENGTH_FILE_NAME": "MRO:WAVELENGTH_FILE_NAME",
    "PIXEL_AVERAGING_WIDTH": "PIXEL_AVERAGING_WIDTH", "LINES": "LINES", "LINE_SAMPLES": "LINE_SAMPLES", "BANDS": "BANDS",
}


def _label_row(text: str, volume: str, product_type: str) -> dict[str, object]:
    """Index fields from a label's text (first occurrence of each keyword; ``NULL`` is N/A)."""
    row: dict[str, object] = {"VOLUME_ID": volume.upper(), "PRODUCT_TYPE": product_type}
    for column, keyword in _KEYWORDS.items():
        m = re.search(rf"(?m)^\s*{re.escape(keyword)}\s*=([^\r\n]*)$", text)
        found = "" if m is None else re.sub(r"/\*.*", "", m[1]).strip().strip('"').strip()
        value = None if found in ("NULL", "N/A", "") else found
        row[column] = value[:19] if value and column.endswith("_TIME") else value
    pid = str(row["PRODUCT_ID"])
    m = re.fullmatch(r"([A-Z]{3})([0-9A-F]{8})_([0-9A-F]{2})_.*", pid)
    if m:
        row.update({"OBSERVATION_TYPE": m[1], "OBSERVATION_ID": m[2], "MRO:OBSERVATION_NUMBER": int(m[3], 16)})
    row["PRODUCT_VERSION_ID"] = pid[-1]
    return row


def _footprint(lat: float, lon: float, half: float) -> dict[str, object]:
    corners = {"UPPER_LEFT": (lat + half, lon - half), "UPPER_RIGHT": (lat + half, lon + half),
               "LOWER_LEFT": (lat - half, lon - half), "LOWER_RIGHT": (lat - half, lon + half), "CENTER": (lat, lon)}
    out: dict[str, object] = {}
    for name, (la, lo) in corners.items():
        out[f"{name}_LATITUDE"], out[f"{name}_LONGITUDE"] = round(la, 3), round(lo % 360.0, 3)
    return out


# --- a Mastcam-Z calibrated PDS4 bundle (public ASU layout: data/<sol>/<rad|iof>/<name>.IMG) -------------

MASTCAMZ_BUNDLE = "mars2020_mastcamz_sci_calibrated"
_COLLECTION_LABEL = """<?xml version="1.0" encoding="UTF-8"?>
<Product_Collection xmlns="http://pds.nasa.gov/pds4/pds/v1">
  <Identification_Area>
    <logical_identifier>urn:nasa:pds:{bundle}:data</logical_identifier>
    <version_id>1.0</version_id>
    <product_class>Product_Collection</product_class>
  </Identification_Area>
  <Collection><collection_type>Data</collection_type></Collection>
  <File_Area_Inventory>
    <File><file_name>{inventory}</file_name><records>{records}</records></File>
    <Inventory>
      <offset unit="byte">0</offset>
      <parsing_standard_id>PDS DSV 1</parsing_standard_id>
      <records>{records}</records>
      <record_delimiter>Carriage-Return Line-Feed</record_delimiter>
      <field_delimiter>Comma</field_delimiter>
      <reference_type>inventory_has_member_product</reference_type>
    </Inventory>
  </File_Area_Inventory>
</Product_Collection>
"""


def write_mastcamz_bundle(root: str | Path, images: Sequence[str | Path]) -> Path:
    """A bundle holding ``images`` (real Mastcam-Z IMGs) under ``data/``, with the collection's inventory.

    The inventory lists each image as a primary member (its lower-case name as the LID's last field,
    version 1.0) and one secondary member (a document), which a catalog must leave out.
    """
    bundle = Path(root) / MASTCAMZ_BUNDLE
    data = bundle / "data"
    members = []
    for image in map(Path, images):
        name = image.stem.upper()
        sol, kind = name.split("_")[1], name.split("_")[3][3:6].lower()
        (data / sol / kind).mkdir(parents=True, exist_ok=True)
        shutil.copy(image, data / sol / kind / f"{name}.IMG")
        members.append(f"P,urn:nasa:pds:{MASTCAMZ_BUNDLE}:data:{name.lower()}::1.0")
    members.append(f"S,urn:nasa:pds:{MASTCAMZ_BUNDLE}:document:readme::1.0")
    inventory = "collection_data_inventory.csv"
    (data / inventory).write_bytes(("\r\n".join(members) + "\r\n").encode("ascii"))
    label = _COLLECTION_LABEL.format(bundle=MASTCAMZ_BUNDLE, inventory=inventory, records=len(members))
    (data / "collection_data.xml").write_text(label, encoding="utf-8")
    return bundle
