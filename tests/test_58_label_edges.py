"""Edge cases found in review: label ends at read boundaries, BOMs, constants, odd PDS4 arrays."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from xarray_crism import LabelSyntaxError, LabelValueError
from xarray_crism.formats.conventions import build_cf_encoding
from xarray_crism.labels.headers import SNIFF_BYTES
from xarray_crism.labels.pds3 import parse_label
from xarray_crism.labels.pds4 import parse_pds4_label
from xarray_crism.testing.pds4 import write_img_for_pds4, write_mastcamz_img

from .conftest import CORPUS

RAD = CORPUS / "mastcamz" / "rad"
TEMPLATE = RAD / "ZL0_0711_0730054943_723RAD_N0332864ZCAM03014_048085A02.IMG"
OPS = sorted((CORPUS / "mastcamz" / "labels").glob("*.xml"))[0]
PID = "ZL0_0711_0730054943_723RAD_N0332864ZCAM03014_048085A02"


def _attached(path: Path, pad: int, data: np.ndarray) -> None:
    """A small attached-label IMG whose header is padded by a ``pad``-character comment."""
    bands, lines, samples = data.shape
    rb = samples * 2
    image = (
        f"OBJECT = IMAGE\r\n  LINES = {lines}\r\n  LINE_SAMPLES = {samples}\r\n  SAMPLE_TYPE = MSB_INTEGER\r\n"
        f"  SAMPLE_BITS = 16\r\n  BANDS = {bands}\r\n  BAND_STORAGE_TYPE = BAND_SEQUENTIAL\r\nEND_OBJECT = IMAGE\r\nEND\r\n"
    )
    head = f"ODL_VERSION_ID = ODL3\r\nRECORD_BYTES = {rb}\r\nLABEL_RECORDS = 00\r\n^IMAGE = 000\r\nPRODUCT_ID = \"{PID}\"\r\n"
    head += "/*" + "x" * pad + "*/\r\n" + image
    records = -(-len(head) // rb)
    head = head.replace("LABEL_RECORDS = 00", f"LABEL_RECORDS = {records:02d}")
    head = head.replace("^IMAGE = 000", f"^IMAGE = {records + 1:03d}")
    path.write_bytes(head.encode().ljust(records * rb) + data.astype(">i2").tobytes())


def test_end_object_cut_by_the_sniff_is_not_the_end(tmp_path: Path) -> None:
    data = np.arange(3 * 110 * 128, dtype=np.int16).reshape(3, 110, 128) + 1
    path = tmp_path / f"{PID}.IMG"
    _attached(path, 10, data)
    text = path.read_bytes()
    pad = 10 + SNIFF_BYTES - (text.index(b"END_OBJECT") + 3)  # the sniff ends right after "END" of END_OBJECT
    _attached(path, pad, data)
    assert path.read_bytes()[SNIFF_BYTES - 3:SNIFF_BYTES + 7] == b"END_OBJECT" and path.stat().st_size > 64 * 1024
    ds = xr.open_dataset(path, engine="crism", mask_and_scale=False)
    np.testing.assert_array_equal(ds.radiance.values, data)


def test_pds4_label_with_a_byte_order_mark(tmp_path: Path) -> None:
    label = tmp_path / OPS.name
    label.write_bytes(b"\xef\xbb\xbf" + OPS.read_bytes())
    _, written = write_img_for_pds4(OPS, tmp_path)
    ds = xr.open_dataset(label)
    expected = np.where(written[0, 0] == 0, np.nan, written[0, 0] * 5e-06)
    np.testing.assert_array_equal(ds.radiance.isel(band=0, line=0).values, expected)


def test_two_masked_constants_split_and_encode(tmp_path: Path) -> None:
    raw = next(p for p in RAD.glob("ZL0*.IMG") if "ZCAM07114" in p.name)
    path = tmp_path / raw.name
    shutil.copy(raw, path)
    content = path.read_bytes()
    image = content.index(b"OBJECT                            = IMAGE\r\n")
    old, new = b"INVALID_CONSTANT                = 0.0", b"INVALID_CONSTANT                = 1.0"
    content = content[:image] + content[image:].replace(old, new, 1)
    path.write_bytes(content)
    ds = xr.open_dataset(path, engine="crism", bayer="split")
    assert ds.radiance.attrs["masked_constants"] == [0, 1] and "missing_value" not in ds.radiance.encoding
    xr.conventions.encode_cf_variable(ds.radiance.variable)  # writable (netCDF/Zarr encoders accept it)
    dn = xr.open_dataset(path, engine="crism", mask_and_scale=False).radiance.values[0].astype(np.float64)
    g1, g2 = dn[0::2, 1::2], dn[1::2, 0::2]
    masked = (g1 == 0) | (g1 == 1) | (g2 == 0) | (g2 == 1)
    np.testing.assert_array_equal(np.isnan(ds.radiance[1].values), masked)


def test_constants_of_float_and_integer_arrays() -> None:
    f4 = np.dtype(">f4")
    pds_missing = np.array(0xFF7FFFFB, dtype=np.uint32).view(np.float32)[()]  # PDS's float32 MISSING
    assert build_cf_encoding(f4, None, None, {"MISSING_CONSTANT": "-3.4028227E+38"}, "L")["_FillValue"] == pds_missing
    based = parse_label("MISSING_CONSTANT = 16#FF7FFFFB#\nEND\n").get("MISSING_CONSTANT")
    assert build_cf_encoding(f4, None, None, {"MISSING_CONSTANT": based}, "L")["_FillValue"] == pds_missing
    assert build_cf_encoding(f4, None, None, {"missing_constant": "0xFF7FFFFB"}, "L")["_FillValue"] == pds_missing
    assert build_cf_encoding(np.dtype(">i8"), None, None, {"MISSING_CONSTANT": str(2**63 - 1)}, "L")["_FillValue"] == 2**63 - 1
    for bad in ("NaN", "1.5", "70000"):
        with pytest.raises(LabelValueError, match=f"L: MISSING_CONSTANT = '{bad}'; expected a value the array's type int16"):
            build_cf_encoding(np.dtype(">i2"), None, None, {"MISSING_CONSTANT": bad}, "L")
    with pytest.raises(LabelValueError, match="scaling_factor = 'inf'; expected a finite real number"):
        build_cf_encoding(np.dtype(">i2"), "inf", None, {}, "L")


def _ops_text() -> str:
    return OPS.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        (("<sequence_number>3<", "<sequence_number>2<"), LabelValueError, r"sequence_number = \[1, 2, 2\]"),
        (("<sequence_number>3<", "<sequence_number>x<"), LabelValueError, "Axis_Array Sample/sequence_number"),
        (("<img:array_band_number>2<", "<img:array_band_number>two<"), LabelValueError, "array_band_number"),
    ],
)
def test_odd_pds4_arrays(tmp_path: Path, change: tuple[str, str], error: type[Exception], match: str) -> None:
    label = tmp_path / OPS.name
    label.write_text(_ops_text().replace(*change), encoding="utf-8")
    write_img_for_pds4(OPS, tmp_path)
    with pytest.raises(error, match=match):
        xr.open_dataset(label, engine="crism")


def test_deeply_nested_xml_is_refused() -> None:
    text = "<Product_Observational>" + "<a>" * 500 + "1" + "</a>" * 500 + "</Product_Observational>"
    with pytest.raises(LabelSyntaxError, match="nested at most"):
        parse_pds4_label(text, "deep.xml")


def test_generated_header_keeps_record_layout(tmp_path: Path) -> None:
    data = np.ones((3, 8, 10), dtype=">i2")
    path = write_mastcamz_img(tmp_path / f"{PID}.IMG", TEMPLATE, data, product_id=PID)
    head = path.read_bytes()[:20_000].decode("latin-1")
    record_bytes = int(re.search(r"RECORD_BYTES\s*=\s*(\d+)", head)[1])  # type: ignore[index]
    start = int(re.search(r"\^IMAGE\s*=\s*(\d+)", head)[1])  # type: ignore[index]
    assert (start - 1) * record_bytes + data.nbytes == path.stat().st_size
