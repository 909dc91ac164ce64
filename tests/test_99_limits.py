"""Limits and package errors (issue 18, findings 8, 9 and 11): what a hostile label, table or index
makes the reader do is raise a :class:`~xarray_crism.errors.CrismError`, never a bare Python error,
a recursion overflow or memory in proportion to a number it declares.
"""

from __future__ import annotations

import re
import shutil
import tracemalloc
from pathlib import Path

import pytest
import xarray as xr

import xarray_crism
from xarray_crism import LabelSyntaxError, LabelValueError, SidecarNotFoundError
from xarray_crism.formats.tables import build_columns
from xarray_crism.labels.pds3 import parse_label
from xarray_crism.testing.pds4 import write_img_for_pds4

from .conftest import CORPUS, CRISM

MAX_DEPTH, MAX_COLUMNS = 100, 65536  # the documented limits (labels.pds3.MAX_DEPTH, formats.tables.MAX_COLUMNS)
SW = CRISM / "cdr6" / "cdr6_1_0000000000_sw_l_3"  # 480 ASCII rows of 14 bytes: "  0, 65535.00\r\n"


# --- 8: parser limits -------------------------------------------------------------------------


def _nested_objects(depth: int) -> str:
    return "OBJECT = A\n" * depth + "X = 1\n" + "END_OBJECT = A\n" * depth + "END\n"


def _nested_lists(depth: int) -> str:
    return "X = " + "(" * depth + "1" + ")" * depth + "\nEND\n"


@pytest.mark.parametrize("text", [_nested_objects(1000), _nested_lists(500), _nested_objects(MAX_DEPTH + 1),
                                  _nested_lists(MAX_DEPTH + 1), "X = " + "{" * 800 + "1" + "}" * 800 + "\nEND\n"],
                         ids=["1000 OBJECTs", "500 parentheses", "101 OBJECTs", "101 parentheses", "800 braces"])
def test_nesting_deeper_than_100_is_a_syntax_error(text: str) -> None:
    with pytest.raises(LabelSyntaxError, match="nested at most 100 deep") as info:
        parse_label(text, "deep.lbl")
    assert info.value.file == "deep.lbl"


def test_nesting_of_100_still_parses() -> None:
    block = parse_label(_nested_objects(MAX_DEPTH))
    for _ in range(MAX_DEPTH):
        block = next(block.blocks("A"))
    assert block.get("X") == 1
    value = parse_label(_nested_lists(MAX_DEPTH)).get("X")
    for _ in range(MAX_DEPTH):
        (value,) = value
    assert value == 1


@pytest.mark.parametrize("word", ["2#102#", "1#1#", "0#1#", "17#1#", "8#9#", "9" * 5000, "-" + "1" * 4301])
def test_bad_numbers_are_syntax_errors(word: str) -> None:
    with pytest.raises(LabelSyntaxError) as info:
        parse_label(f"PDS_VERSION_ID = PDS3\nVALUE = {word}\nEND\n", "numbers.lbl")
    assert (info.value.file, info.value.keyword) == ("numbers.lbl", "VALUE")
    assert info.value.value == word[:40]


def test_good_based_and_long_numbers_still_parse() -> None:
    label = parse_label("A = 2#101#\nB = 16#FF7FFFFB#\nC = -8#17#\nD = " + "9" * 300 + "\nEND\n")
    assert (label.get("A"), label.get("B"), label.get("C"), label.get("D")) == (5, 0xFF7FFFFB, -15, int("9" * 300))


# --- 9 (first bullet): columns checked against the row before their items are expanded ---------


def _sw_copy(tmp_path: Path, label_text: str | None = None, table: bytes | None = None) -> Path:
    for suffix in (".lbl", ".tab"):
        shutil.copy(SW.with_suffix(suffix), tmp_path / SW.with_suffix(suffix).name)
    label = tmp_path / SW.with_suffix(".lbl").name
    if label_text is not None:
        label.write_text(label_text)
    if table is not None:
        (tmp_path / SW.with_suffix(".tab").name).write_bytes(table)
    return label


def _with_columns(columns: str) -> str:
    text = SW.with_suffix(".lbl").read_text()
    first = text.index("    OBJECT                     = COLUMN")
    return text[:first] + columns + text[first:]


def _column(name: str, start: int, items: int) -> str:
    return (f"OBJECT = COLUMN\nNAME = {name}\nDATA_TYPE = MSB_UNSIGNED_INTEGER\nSTART_BYTE = {start}\n"
            f"BYTES = {items}\nITEMS = {items}\nITEM_BYTES = 1\nEND_OBJECT = COLUMN\n")


def test_many_items_outside_the_row_are_refused_before_expansion(tmp_path: Path) -> None:
    label = _sw_copy(tmp_path, _with_columns("".join(_column(f"C{i}", 1, 65536) for i in range(20))))
    tracemalloc.start()
    try:
        with pytest.raises(LabelValueError, match="inside 14-byte rows") as info:
            xr.open_dataset(label, engine="crism")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (info.value.keyword, info.value.value) == ("C0 START_BYTE", 1)
    assert peak < 16 * 1024 * 1024  # 20 x 65,536 columns built first took 300 MB


def test_items_are_capped_over_the_whole_table() -> None:
    table = parse_label("OBJECT = TABLE\nROW_BYTES = 70000\n" + _column("A", 1, 60000) + _column("B", 1, 60000)
                        + "END_OBJECT = TABLE\nEND\n")
    block = next(table.blocks("TABLE"))
    with pytest.raises(LabelValueError, match=f"at most {MAX_COLUMNS} columns in a table") as info:
        build_columns(block, "t.lbl", row_bytes=70000)
    assert info.value.keyword == "B: ITEMS"


def test_one_column_with_many_items_inside_its_row_still_builds() -> None:
    table = parse_label("OBJECT = TABLE\n" + _column("A", 3, 1000) + "END_OBJECT = TABLE\nEND\n")
    columns = build_columns(next(table.blocks("TABLE")), "t.lbl", row_bytes=1002)
    assert [(c.name, c.start, c.width) for c in (columns[0], columns[-1])] == [("A_1", 2, 1), ("A_1000", 1001, 1)]
    with pytest.raises(LabelValueError, match="a column \\(1000 bytes\\) inside 1001-byte rows"):
        build_columns(next(table.blocks("TABLE")), "t.lbl", row_bytes=1001)


# --- 11: package errors instead of Python ones ------------------------------------------------


def test_unparseable_ascii_field_is_a_package_error_naming_the_row(tmp_path: Path) -> None:
    table = bytearray(SW.with_suffix(".tab").read_bytes())
    table[14 * 2 + 6 : 14 * 2 + 9] = b"abc"  # row 3's wavelength: "  2, 3930.15" -> "  2, 3abc.15"
    label = _sw_copy(tmp_path, table=bytes(table))
    with xr.open_dataset(label, engine="crism") as ds, pytest.raises(LabelValueError) as info:
        ds.load()
    assert (info.value.keyword, info.value.value) == ("SAMPL_WAV (row 3)", "3abc.15")


def test_bytes_over_a_delimiter_is_a_package_error(tmp_path: Path) -> None:
    text = SW.with_suffix(".lbl").read_text().replace("BYTES                    = 3\n", "BYTES                    = 5\n")
    label = _sw_copy(tmp_path, text)
    with xr.open_dataset(label, engine="crism") as ds, pytest.raises(LabelValueError) as info:
        ds.load()
    assert (info.value.keyword, info.value.value) == ("ROWNUM (row 1)", "0,6")


@pytest.mark.parametrize("unit", ["KB", "BITS", "ROWS"])
def test_a_size_in_another_unit_is_refused(tmp_path: Path, unit: str) -> None:
    old = "BYTES                    = 3\n"
    text = SW.with_suffix(".lbl").read_text().replace(old, f"BYTES                    = 3 <{unit}>\n")
    with pytest.raises(LabelValueError, match=r"a count in <BYTES>") as info:
        xr.open_dataset(_sw_copy(tmp_path, text), engine="crism")
    assert (info.value.keyword, info.value.value) == ("BYTES", f"3 <{unit}>")


def test_a_size_in_bytes_still_reads(tmp_path: Path) -> None:
    text = SW.with_suffix(".lbl").read_text().replace("BYTES                    = 3\n", "BYTES                    = 3 <BYTES>\n")
    with xr.open_dataset(_sw_copy(tmp_path, text), engine="crism") as ds:
        assert ds["rownum"].values[1:4].tolist() == [1, 2, 3]


def test_record_bytes_in_kilobytes_is_refused(tmp_path: Path) -> None:
    for f in (CRISM / "trdr").glob("frt00014679*"):
        shutil.copy(f, tmp_path / f.name)
    label = tmp_path / "frt00014679_01_if156s_trr3.lbl"
    text = label.read_text()
    label.write_text(re.sub(r"RECORD_BYTES(\s*)= 256", r"RECORD_BYTES\1= 256 <KB>", text, count=1))
    with pytest.raises(LabelValueError, match="RECORD_BYTES in <BYTES>"):
        xr.open_dataset(label, engine="crism", sidecar_dirs=[str(CRISM / "cdr")])


def _volume_copy(volumes: dict[str, Path], tmp_path: Path) -> Path:
    root = tmp_path / "mrocr_2104"
    shutil.copytree(volumes["trdr"], root)
    return root


def test_index_coordinates_typed_character_are_refused(volumes: dict[str, Path], tmp_path: Path) -> None:
    root = _volume_copy(volumes, tmp_path)
    label = root / "index" / "cumindex.lbl"
    text = re.sub(r'(NAME = "CENTER_LATITUDE"\n\s+DATA_TYPE = )ASCII_REAL', r"\1CHARACTER", label.read_text())
    label.write_text(text)
    with pytest.raises(LabelValueError) as info:
        xarray_crism.open_catalog(root, bbox=(0, -90, 360, 90))
    assert (info.value.keyword, info.value.expected) == ("CENTER_LATITUDE DATA_TYPE", "ASCII_REAL (degrees)")


def test_index_without_file_specification_name_is_refused(volumes: dict[str, Path], tmp_path: Path) -> None:
    root = _volume_copy(volumes, tmp_path)
    label = root / "index" / "cumindex.lbl"
    label.write_text(label.read_text().replace('"FILE_SPECIFICATION_NAME"', '"FILE_NAME"'))
    with pytest.raises(LabelValueError) as info:
        xarray_crism.open_catalog(root)
    assert (info.value.keyword, info.value.value) == ("COLUMN NAME", ["FILE_SPECIFICATION_NAME"])


def test_catalog_row_of_a_missing_file_is_a_package_error(volumes: dict[str, Path], tmp_path: Path) -> None:
    root = _volume_copy(volumes, tmp_path)
    (missing,) = root.rglob("frt00014679_01_if156s_trr3.lbl")
    missing.unlink()
    cat = xarray_crism.open_catalog(root)
    with pytest.raises(SidecarNotFoundError) as info:
        cat["FRT00014679_01_IF156S_TRR3"].read()
    assert info.value.file == str(missing)
    assert cat["FRT0001458F_01_IF156S_TRR3"].read().attrs["product_id"] == "FRT0001458F_01_IF156S_TRR3"


@pytest.mark.parametrize("value", ["16#7FFFFFFF#", "N/A", "2#101#"])
def test_pds4_wavelength_that_is_not_a_number_is_refused(tmp_path: Path, value: str) -> None:
    source = sorted((CORPUS / "mastcamz" / "labels").glob("*.xml"))[0]
    label = tmp_path / source.name
    text = source.read_text()
    label.write_text(re.sub(r"(<img:center_filter_wavelength[^>]*>)[^<]*", rf"\g<1>{value}", text, count=1))
    write_img_for_pds4(label, tmp_path)
    with pytest.raises(LabelValueError) as info:
        xr.open_dataset(label, engine="crism")
    assert (info.value.keyword, info.value.value) == ("Optical_Filter/center_filter_wavelength", value)
