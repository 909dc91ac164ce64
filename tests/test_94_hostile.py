"""Layer 9: hostile inputs. Labels that try to leave their directory, read secrets, exhaust memory
or time, or make the reader return wrong values are refused with a package error, quickly, and
without reading what they point at."""

from __future__ import annotations

import re
import shutil
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import xarray_crism
from xarray_crism.errors import (
    CrismError,
    LabelSyntaxError,
    LabelValueError,
    SidecarNotFoundError,
    TruncatedFileError,
    UnsafePathError,
)
from xarray_crism.testing.pds4 import write_img_for_pds4
from xarray_crism.testing.volume import write_index

from .conftest import CORPUS, CRISM, TRDRS

LABEL = CRISM / "trdr" / "frt00014679_01_if156s_trr3.lbl"
OPS_LABEL = sorted((CORPUS / "mastcamz" / "labels").glob("*.xml"))[0]
SECRET = "TOP-SECRET-CONTENT-0xC0FFEE"


def _trdr(tmp_path: Path, pattern: str, replacement: str) -> Path:
    """The real TRDR (label and IMG) in ``tmp_path`` with one edit of its label."""
    shutil.copy(LABEL.with_suffix(".img"), tmp_path)
    text, n = re.subn(pattern, replacement, LABEL.read_text("latin-1"), count=1)
    assert n == 1, pattern
    out = tmp_path / LABEL.name
    out.write_text(text, "latin-1")
    return out


def _open(path: Path, **kwargs: object) -> xr.Dataset:
    with xr.open_dataset(path, engine="crism", **kwargs) as ds:
        return ds.load()


def _secret(tmp_path: Path) -> Path:
    outside = tmp_path / "outside"
    outside.mkdir(exist_ok=True)
    secret = outside / "secret.img"
    secret.write_text(SECRET * 40_000)
    return secret


@pytest.mark.parametrize("pointer", [
    '"../outside/secret.img"', '"../../../../../../etc/passwd"', '"/etc/passwd"', '"~/secret.img"',
    '"http://127.0.0.1:9/secret.img"', '"s3://bucket/secret.img"', '"file:///etc/passwd"', '"C:\\\\x.img"',
    '"simplecache::/etc/passwd"', '("../outside/secret.img", 1)', '"sub/../../outside/secret.img"',
])
def test_pointers_that_leave_the_directory_are_refused(tmp_path: Path, pointer: str) -> None:
    _secret(tmp_path)
    (tmp_path / "p").mkdir()
    label = _trdr(tmp_path / "p", r'\^IMAGE\s*=\s*"[^"]+"', f"^IMAGE = {pointer}")
    with pytest.raises(UnsafePathError) as info:
        _open(label)
    assert info.value.keyword == "^IMAGE" and "plain file name" in info.value.expected
    assert SECRET not in str(info.value)


@pytest.mark.parametrize("name", ['"../outside/secret.img"', '"/etc/secret.IMG"', '"https://127.0.0.1:9/x.IMG"'])
def test_sidecar_names_that_leave_the_directory_are_refused(tmp_path: Path, name: str) -> None:
    label = _trdr(tmp_path, r'MRO:WAVELENGTH_FILE_NAME\s*=\s*"[^"]+"', f"MRO:WAVELENGTH_FILE_NAME = {name}")
    with pytest.raises(UnsafePathError, match="WAVELENGTH_FILE_NAME"):
        _open(label, sidecar_dirs=[CRISM / "cdr"])


def test_pds4_file_names_that_leave_the_directory_are_refused(tmp_path: Path) -> None:
    label = Path(shutil.copy(OPS_LABEL, tmp_path))
    write_img_for_pds4(label, tmp_path)
    text = label.read_text()
    label.write_text(re.sub(r"<file_name>[^<]+\.IMG</file_name>", "<file_name>../outside/secret.img</file_name>", text))
    with pytest.raises(UnsafePathError, match="file_name"):
        _open(label)


def test_index_rows_that_leave_the_volume_are_refused(tmp_path: Path) -> None:
    volume = tmp_path / "mrocr_2104"
    (volume / "index").mkdir(parents=True)
    row = {"VOLUME_ID": "MROCR_2104", "PRODUCT_ID": "FRT00014679_01_IF156S_TRR3",
           "FILE_SPECIFICATION_NAME": "TRDR/../../../outside/SECRET.LBL"}
    write_index(volume / "index" / "index.lbl", [row], table_name="index.tab")
    with pytest.raises(UnsafePathError, match="FILE_SPECIFICATION_NAME") as info:
        xarray_crism.open_catalog(volume)
    assert "index.lbl" in info.value.file


def test_data_files_linked_out_of_the_directory_are_refused(tmp_path: Path) -> None:
    secret = _secret(tmp_path)
    product = tmp_path / "volume"
    product.mkdir()
    label = _trdr(product, r"FRT00014679", "FRT00014679")
    (product / LABEL.with_suffix(".img").name).unlink()
    (product / LABEL.with_suffix(".img").name).symlink_to(secret)
    with pytest.raises(UnsafePathError, match="resolves to") as info:
        _open(label)
    assert SECRET not in str(info.value)


def test_a_linked_product_directory_still_opens(tmp_path: Path) -> None:
    """Symbolic links that stay with the label (a farm of linked products, a linked directory) are fine."""
    real = tmp_path / "real"
    real.mkdir()
    _trdr(real, r"FRT00014679", "FRT00014679")
    (tmp_path / "farm").mkdir()
    for f in real.iterdir():
        (tmp_path / "farm" / f.name).symlink_to(f)
    (tmp_path / "linked").symlink_to(real, target_is_directory=True)
    expected = _open(real / LABEL.name, sidecar_dirs=[CRISM / "cdr"])
    for place in ("farm", "linked"):
        xr.testing.assert_identical(_open(tmp_path / place / LABEL.name, sidecar_dirs=[CRISM / "cdr"]), expected)


def _pds4_with(tmp_path: Path, doctype: str, text_node: str) -> Path:
    label = Path(shutil.copy(OPS_LABEL, tmp_path))
    write_img_for_pds4(label, tmp_path)
    text = label.read_text()
    text = re.sub(r"(<\?xml[^>]*\?>)", r"\1" + doctype.replace("\\", "\\\\"), text, count=1)
    label.write_text(re.sub(r"<title>[^<]*</title>", f"<title>{text_node}</title>", text, count=1))
    return label


@pytest.mark.parametrize(("doctype", "node"), [
    ('<!DOCTYPE x [<!ENTITY e SYSTEM "file://{secret}">]>', "&e;"),
    ('<!DOCTYPE x [<!ENTITY % p SYSTEM "file://{secret}"> %p;]>', "t"),
    ('<!DOCTYPE x SYSTEM "http://127.0.0.1:9/evil.dtd">', "t"),
    ("<!DOCTYPE x [" + "".join(
        f'<!ENTITY a{i} "{"".join([f"&a{i - 1};"] * 10) if i else "lol"}">' for i in range(10)) + "]>", "&a9;"),
    ('<!DOCTYPE x [<!ENTITY big "' + "A" * 1000 + '">]>', "&big;" * 1000),
])
def test_xml_entities_and_doctypes_are_refused_quickly(tmp_path: Path, doctype: str, node: str) -> None:
    label = _pds4_with(tmp_path, doctype.format(secret=_secret(tmp_path)), node)
    started = time.perf_counter()
    with pytest.raises(LabelSyntaxError, match="without DTD or entities") as info:
        _open(label)
    assert time.perf_counter() - started < 2
    assert SECRET not in str(info.value)


@pytest.mark.parametrize(("pattern", "value", "error", "keyword"), [
    (r"LINES\s*=\s*15", f"LINES = {2**62}", TruncatedFileError, "file size"),
    (r"LINE_SAMPLES\s*=\s*64", f"LINE_SAMPLES = {2**40}", TruncatedFileError, "file size"),
    (r"BANDS\s*=\s*107", f"BANDS = {10**30}", CrismError, ""),
    (r'\^IMAGE\s*=\s*"([^"]+)"', r'^IMAGE = ("\1", 1099511627776)', TruncatedFileError, "file size"),
    (r'\^IMAGE\s*=\s*"([^"]+)"', r'^IMAGE = ("\1", 1099511627777)', LabelValueError, "^IMAGE"),
    (r'\^IMAGE\s*=\s*"([^"]+)"', r'^IMAGE = ("\1", 99999999999999999999 <BYTES>)', LabelValueError, "^IMAGE"),
    (r"RECORD_BYTES\s*=\s*\d+", f"RECORD_BYTES = {2**60}", CrismError, ""),
    (r"LINES\s*=\s*15", "LINES = -15", LabelValueError, "LINES"),
    (r"LINES\s*=\s*15", "LINES = 0", CrismError, ""),
    (r'\^IMAGE\s*=\s*"([^"]+)"', r'^IMAGE = ("\1", -3)', LabelValueError, "^IMAGE"),
    (r'\^IMAGE\s*=\s*"([^"]+)"', r'^IMAGE = ("\1", 0 <BYTES>)', LabelValueError, "^IMAGE"),
    (r"SAMPLE_BITS\s*=\s*32", "SAMPLE_BITS = -32", LabelValueError, "SAMPLE"),
])
def test_huge_or_negative_sizes_are_refused_without_allocating(
    tmp_path: Path, pattern: str, value: str, error: type[Exception], keyword: str,
) -> None:
    label = _trdr(tmp_path, pattern, value)
    tracemalloc.start()
    try:
        with pytest.raises(error) as info:
            _open(label, sidecar_dirs=[CRISM / "cdr"])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert isinstance(info.value, CrismError) and keyword in info.value.keyword
    assert peak < 32 * 2**20, f"{peak} bytes allocated to refuse {value}"


def test_pds4_huge_axes_and_offsets_are_refused(tmp_path: Path) -> None:
    label = Path(shutil.copy(OPS_LABEL, tmp_path))
    write_img_for_pds4(label, tmp_path)
    text = label.read_text()
    for old, new, error in [
        (r"<elements>1648</elements>", f"<elements>{2**45}</elements>", TruncatedFileError),
        (r'(<Array_3D_Image>.*?<offset unit="byte">)\d+', rf"\g<1>{2**55}", TruncatedFileError),
        (r"<elements>1648</elements>", "<elements>-1648</elements>", LabelValueError),
    ]:
        edited, n = re.subn(old, new, text, count=1, flags=re.S)
        assert n == 1, old
        label.write_text(edited)
        with pytest.raises(error):
            _open(label)


def test_overlapping_arrays_are_refused(tmp_path: Path) -> None:
    """A second IMAGE over the first one's bytes: the values of one would be the other's."""
    text = LABEL.read_text("latin-1")
    image = re.search(r"(?ms)^ *OBJECT\s*=\s*IMAGE\s*$.*?^ *END_OBJECT\s*=\s*IMAGE\s*$", text)
    assert image is not None
    pointer = re.search(r'\^IMAGE\s*=\s*"([^"]+)"', text)
    assert pointer is not None
    line_bytes = 64 * 4 * 107
    overlapping = text.replace(
        pointer[0], f'{pointer[0]}\r\n^SECOND_IMAGE = ("{pointer[1]}", {line_bytes + 1} <BYTES>)',
    )
    second = image[0].replace("= IMAGE", "= SECOND_IMAGE").replace("LINES             = 15", "LINES = 5")
    overlapping = overlapping.replace(image[0], image[0] + "\r\n" + second)
    shutil.copy(LABEL.with_suffix(".img"), tmp_path)
    (tmp_path / LABEL.name).write_text(overlapping, "latin-1")
    with pytest.raises(LabelValueError, match="do not overlap"):
        _open(tmp_path / LABEL.name, sidecar_dirs=[CRISM / "cdr"])


@pytest.mark.parametrize("kind", ["detached", "attached", "xml"])
def test_labels_over_10_mb_are_refused_after_reading_at_most_10_mb(tmp_path: Path, kind: str) -> None:
    big = tmp_path / {"detached": "x.lbl", "attached": "x.IMG", "xml": "x.xml"}[kind]
    line = b"<a>1</a>\n" if kind == "xml" else b"KEYWORD_NAME = 12345678\r\n"
    head = b"<?xml version='1.0'?>\n<Product_Observational>\n" if kind == "xml" else b"PDS_VERSION_ID = PDS3\r\n"
    big.write_bytes(head + line * (11 * 2**20 // len(line)))
    tracemalloc.start()
    try:
        with pytest.raises((TruncatedFileError, LabelSyntaxError)) as info:
            _open(big)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "10485760" in str(info.value) or "label" in info.value.keyword  # type: ignore[attr-defined]
    assert peak < 40 * 2**20  # what is read is bounded by MAX_LABEL_BYTES (10 MiB), not by the file


def test_non_utf8_bytes_in_labels(tmp_path: Path) -> None:
    """PDS3 labels are ASCII; other bytes are read as Latin-1 and kept, never a decode error."""
    label = _trdr(tmp_path, r'PRODUCT_ID\s*=\s*"([^"]+)"', 'PRODUCT_ID = "\\1"\r\nNOTE = "caf\xe9 \xff\xfe \x80"')
    ds = _open(label, sidecar_dirs=[CRISM / "cdr"])
    assert "caf\xe9 \xff\xfe \x80" in ds.attrs["pds_label"]
    (tmp_path / "x").mkdir()
    pds4 = Path(shutil.copy(OPS_LABEL, tmp_path / "x"))
    write_img_for_pds4(pds4, tmp_path / "x")
    pds4.write_bytes(pds4.read_bytes().replace(b"<title>", b"<title>\xff\xfe\x80 ", 1))
    with pytest.raises(LabelSyntaxError, match=r"UTF-8|XML"):
        _open(pds4)


def test_every_trdr_of_the_corpus_passes_the_checks(tmp_path: Path) -> None:
    """The checks refuse no real product (overlap, symlink confinement, pointer bounds)."""
    for label in TRDRS:
        with xr.open_dataset(label, engine="crism", sidecar_dirs=[CRISM / "cdr"]) as ds:
            assert ds.sizes["band"] > 0


def test_missing_pointed_file_is_a_clear_error_not_a_search_elsewhere(tmp_path: Path) -> None:
    label = _trdr(tmp_path, r'\^IMAGE\s*=\s*"[^"]+"', '^IMAGE = "ABSENT.IMG"')
    with pytest.raises(SidecarNotFoundError, match=r"ABSENT\.IMG"):
        _open(label, sidecar_dirs=[CRISM / "trdr"])


def test_sidecar_directories_of_links_are_trusted(tmp_path: Path) -> None:
    """A flat directory of links into a CDR tree (or a git-annex tree) given as sidecar_dirs works."""
    farm = tmp_path / "cdr_links"
    farm.mkdir()
    for f in (CRISM / "cdr").iterdir():
        (farm / f.name).symlink_to(f)
    linked, real = _open(LABEL, sidecar_dirs=[farm]), _open(LABEL, sidecar_dirs=[CRISM / "cdr"])
    assert linked.attrs.pop("sidecar_files") != real.attrs.pop("sidecar_files")  # the links, not their targets
    xr.testing.assert_identical(linked, real)


def test_valid_table_keywords_the_checks_must_not_refuse() -> None:
    """Signed columns with a full-width BIT_MASK, ITEM_OFFSET with units, RECORD_BYTES with units."""
    from xarray_crism.formats.tables import build_columns, parse_binary_table
    from xarray_crism.labels.pds3 import parse_label, parse_pointer

    table = parse_label(
        "OBJECT = TABLE\nOBJECT = COLUMN\nNAME = A\nDATA_TYPE = MSB_INTEGER\nSTART_BYTE = 1\nBYTES = 4\nITEMS = 2\n"
        "ITEM_BYTES = 2\nITEM_OFFSET = 2 <BYTES>\nBIT_MASK = 2#0111111111111111#\nEND_OBJECT = COLUMN\nEND_OBJECT = TABLE\nEND\n"
    )
    columns = build_columns(next(table.blocks("TABLE")), "t.lbl")
    data = np.array([0xFF, 0xFF, 0x00, 0x05], dtype=np.uint8)
    values = parse_binary_table(data, 4, 1, columns, "t.lbl")
    assert values["A_1"].tolist() == [0x7FFF] and values["A_2"].tolist() == [5]
    assert values["A_1"].dtype == np.int16
    label = parse_label('^IMAGE = ("X.IMG", 3)\nRECORD_BYTES = 2048 <BYTES>\nEND\n')
    assert parse_pointer(label.get("^IMAGE")).byte_offset(label.get("RECORD_BYTES")) == 4096
