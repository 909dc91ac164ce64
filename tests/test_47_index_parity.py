"""The archive-scale index paths give what the plain ones gave: typed values, bbox filters, catalog entries.

``read_index`` reads tables in pieces and converts each column through fast paths (distinct fields
once, decimals in bulk, text with one split). The reference here is the plain conversion that
``read_index`` documented as its definition before (fields sliced from the whole table, then
``convert_ascii`` and the typing of ``_typed``), frozen in this file so that changes to the library
cannot move it. It is compared on the indexes built from the real corpus products, on the corpus's
real CDR6 tables, and on a generated index of awkward fields read in many small pieces.
"""

from __future__ import annotations

import fnmatch
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import xarray_crism
from xarray_crism.archive import index as index_module
from xarray_crism.archive import intake_plugin
from xarray_crism.archive.catalog import Query, build_entries, select_rows
from xarray_crism.archive.footprints import CORNERS, build_arc, find_intersecting
from xarray_crism.archive.index import read_index, read_index_table
from xarray_crism.archive.intake_plugin import LazyEntries, build_reader
from xarray_crism.archive.volumes import _ESCAPES, find_escape_candidates, read_volume
from xarray_crism.errors import LabelValueError
from xarray_crism.formats.tables import Column, is_number
from xarray_crism.io.sources import open_source
from xarray_crism.testing.volume import INDEX_COLUMNS, write_index

from .conftest import CRISM

MISSING = ("N/A", "NULL", "UNK", "")
TIMES = ("TIME", "DATE", "ASCII_TIME", "ASCII_DATE")


# --------------------------------------------------------------------------- the reference (the plain path, frozen)


def reference_index(label: Path) -> pd.DataFrame:
    """The index as the plain conversion types it: every field of the whole table, column by column."""
    table, columns, (rows, row_bytes) = read_index_table(open_source(str(label), None))
    data = Path(table.path).read_bytes()[: rows * row_bytes]
    raw = np.frombuffer(data, dtype=np.uint8).reshape(rows, row_bytes)
    fields = {c.name: raw[:, c.start : c.start + c.width].copy().view(f"S{c.width}")[:, 0] for c in columns}
    return pd.DataFrame({c.name: _typed(_convert(fields[c.name], c.data_type), c, table.url) for c in columns})


def _convert(field: np.ndarray, data_type: str) -> np.ndarray:
    if data_type not in ("ASCII_INTEGER", "ASCII_REAL"):
        text = np.strings.strip(field)
        return _decode(np.strings.strip(np.strings.strip(text, b'"'), b" "))
    stripped = np.strings.strip(field)
    missing = np.isin(stripped, [m.encode() for m in MISSING])
    try:
        if data_type == "ASCII_INTEGER" and not missing.any():
            return stripped.astype(np.int64)
        return np.where(missing, b"nan", stripped).astype(np.float64)
    except ValueError:
        return _decode(stripped)


def _decode(field: np.ndarray) -> np.ndarray:
    try:
        return field.astype(f"U{max(field.dtype.itemsize, 1)}")
    except UnicodeDecodeError:
        return np.char.decode(field.astype(bytes), "latin-1")


def _typed(values: np.ndarray, col: Column, url: str) -> Any:
    if col.data_type in ("ASCII_REAL", "ASCII_INTEGER"):
        if values.dtype.kind == "U":
            text = [v.strip() for v in values.tolist()]
            row = next((i for i, v in enumerate(text) if v not in MISSING and not is_number(v)), 0)
            raise LabelValueError(url, f"{col.name} (row {row + 1})", text[row], "numbers or N/A")
        if col.data_type == "ASCII_REAL":
            return values.astype(np.float64)
        if values.dtype.kind == "i":
            return pd.array(values, dtype="Int64")
        finite = values[~np.isnan(values)]
        if (finite != np.round(finite)).any():
            raise LabelValueError(url, col.name, float(finite[finite != np.round(finite)][0]), "integers or N/A")
        return pd.array(values, dtype="Int64")
    if col.data_type in TIMES:
        text = pd.Series(values, dtype="string").str.strip()
        missing = text.isin(MISSING).to_numpy()
        times = pd.to_datetime(text.where(~missing), errors="coerce", format="ISO8601")
        bad = np.flatnonzero(times.isna().to_numpy() & ~missing)
        if bad.size:
            raise LabelValueError(url, f"{col.name} (row {bad[0] + 1})", str(text.iloc[bad[0]]), "ISO times or N/A")
        return np.asarray(times.to_numpy())
    return pd.array(values, dtype="string")


# --------------------------------------------------------------------------- a generated index of awkward fields

REALS = ["1.5", "-0", "-0.0", "+2.25", ".5", "5.", "-.5", "0012.5", "1e3", "1.5E2", "-2.5e-1", "nan", "inf", "-inf",
         "N/A", "NULL", "UNK", "", "137.4", "-4.55", "359.999", "0", "7", "-89.99"]
INTEGERS = ["12", "-3", "+4", "007", "0", "99", "N/A", "UNK", "NULL"]
TEXTS = ["MROCR_2104", "  padded", "with  two", "N/A", "", "UNK", "a,comma", "tab\there", "x" * 12]
STAMPS = ["2009-07-25T06:01:02", "2009-07-25T06:01:02.125", "2009-07-25", "N/A", "UNK", "2012-02-29T23:59:59.999999"]


def awkward_rows(count: int, seed: int) -> list[dict[str, object]]:
    """Rows mixing every spelling of numbers, missing values, padding and times that the tables use."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(count):
        row: dict[str, object] = {}
        for name, kind, width in INDEX_COLUMNS:
            pool = {"ASCII_REAL": REALS, "ASCII_INTEGER": INTEGERS, "TIME": STAMPS}.get(kind, TEXTS)
            value = str(pool[rng.integers(len(pool))])
            if kind == "ASCII_REAL" and width >= 13:  # long reals, mostly distinct: the pandas parser's path
                value = rng.choice([f"{rng.uniform(-1e6, 1e6):.4f}", f"{rng.uniform(-1, 1):.5e}", value])
            if kind in ("ASCII_REAL", "ASCII_INTEGER") and len(value) > width:
                value = "N/A" if width >= 3 else ""  # a number that does not fit is missing (blank where N/A does not fit)
            row[name] = value[:width]
        row["PRODUCT_ID"] = f"FRT{i:08X}_07_IF166J_MTR3"
        row["FILE_SPECIFICATION_NAME"] = f"MTRDR/FRT{i:08X}/FRT{i:08X}_07_IF166J_MTR3.LBL"
        rows.append(row)
    return rows


@pytest.fixture(scope="module")
def awkward(tmp_path_factory: pytest.TempPathFactory) -> Path:
    label = write_index(tmp_path_factory.mktemp("awkward") / "INDEX.LBL", awkward_rows(3000, 47))
    table = label.with_name("INDEX.TAB")
    table.write_bytes(table.read_bytes().replace(b'"MROCR_2104  "', b'"MROCR_2104\xe9 "'))  # Latin-1 text
    return label


# --------------------------------------------------------------------------- the tests


def test_the_corpus_volume_indexes_are_typed_as_before(volumes: dict[str, Path]) -> None:
    for kind in ("trdr", "ddr", "cdr"):
        label = volumes[kind] / "index" / "cumindex.lbl"
        pd.testing.assert_frame_equal(read_index(label), reference_index(label), check_exact=True)


@pytest.mark.parametrize("label", sorted((CRISM / "cdr6").glob("*.lbl")), ids=lambda p: p.stem)
def test_the_corpus_cdr6_tables_are_typed_as_before(label: Path) -> None:
    found = read_index(label)
    pd.testing.assert_frame_equal(found, reference_index(label), check_exact=True)
    assert len(found) == 480 and found.iloc[0, 1] == 65535.0


def test_a_generated_index_read_in_many_pieces_is_typed_as_before(awkward: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    whole = read_index(awkward)
    pd.testing.assert_frame_equal(whole, reference_index(awkward), check_exact=True)
    assert whole["VOLUME_ID"].str.contains("\xe9").any() and whole["CENTER_LATITUDE"].isna().any()
    monkeypatch.setattr(index_module, "PIECE_BYTES", 10_000)  # 14 rows of 708 bytes a piece, 215 pieces
    pd.testing.assert_frame_equal(read_index(awkward), whole, check_exact=True)


def test_a_bad_field_in_a_late_piece_names_its_row_in_the_whole_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rows = awkward_rows(400, 3)
    rows[357]["BANDS"] = "1x7"
    label = write_index(tmp_path / "INDEX.LBL", rows)
    monkeypatch.setattr(index_module, "PIECE_BYTES", 5_000)
    with pytest.raises(LabelValueError, match=r"INDEX\.TAB: BANDS \(row 358\) = '1x7'; expected numbers or N/A"):
        read_index(label)
    with pytest.raises(LabelValueError, match=r"BANDS \(row 358\)"):
        reference_index(label)


def _old_intersects(index: pd.DataFrame, bbox: tuple[float, float, float, float]) -> np.ndarray:
    """The bbox filter as it was: one footprint at a time, in Python."""
    west, south, east, north = bbox
    lats = np.column_stack([index[f"{c}_LATITUDE"].to_numpy(np.float64, na_value=np.nan) for c in CORNERS])
    lons = np.column_stack([index[f"{c}_LONGITUDE"].to_numpy(np.float64, na_value=np.nan) for c in CORNERS])
    known = ~np.isnan(lats) & ~np.isnan(lons)
    out = np.zeros(len(index), dtype=bool)
    box_start, box_width = west % 360.0, 360.0 if east - west >= 360.0 else (east - west) % 360.0
    for i in np.flatnonzero(known.any(axis=1)):
        la, lo = lats[i][known[i]], lons[i][known[i]]
        start, width = build_arc(list(lo))
        lon_hit = (box_start - start) % 360.0 <= width or (start - box_start) % 360.0 <= box_width
        out[i] = lon_hit and la.max() >= south and la.min() <= north
    return out


def test_the_vectorised_bbox_filter_keeps_what_the_loop_kept() -> None:
    rng = np.random.default_rng(5)
    n = 4000
    centre_lat, centre_lon, half = rng.uniform(-80, 80, n), rng.choice([0.0, 359.95, 180.0, 90.0], n), rng.uniform(0, 3, n)
    columns = {}
    for corner, dlat, dlon in (("UPPER_LEFT", 1, -1), ("UPPER_RIGHT", 1, 1), ("LOWER_LEFT", -1, -1),
                               ("LOWER_RIGHT", -1, 1), ("CENTER", 0, 0)):
        lat, lon = centre_lat + dlat * half, (centre_lon + dlon * half + rng.normal(0, 0.5, n)) % 360.0
        gone = rng.random(n) < 0.15  # corners missing one at a time, some rows with none
        columns[f"{corner}_LATITUDE"] = np.where(gone, np.nan, np.round(lat, 3))
        columns[f"{corner}_LONGITUDE"] = np.where(gone | (rng.random(n) < 0.05), np.nan, np.round(lon - 360 * (lon > 300), 3))
    index = pd.DataFrame(columns)
    boxes = [(359.0, -30.0, 1.0, 30.0), (-1.0, -80.0, 0.5, 80.0), (89.0, 0.0, 91.0, 10.0), (0.0, -90.0, 360.0, 90.0),
             (170.0, -10.0, 190.0, 10.0), (10.0, -90.0, 20.0, 90.0), (180.0, 5.0, 180.0, 5.0)]
    everything = np.ones(n, dtype=bool)
    for box in boxes:
        np.testing.assert_array_equal(find_intersecting(index, box, everything), _old_intersects(index, box), err_msg=str(box))
    some = rng.random(n) < 0.5
    np.testing.assert_array_equal(find_intersecting(index, boxes[0], some), _old_intersects(index, boxes[0]) & some)


def test_catalog_entries_are_made_on_access_and_equal_the_eager_entries(
    volumes: dict[str, Path], monkeypatch: pytest.MonkeyPatch,
) -> None:
    made: list[int] = []
    build_entry = intake_plugin.build_entry
    monkeypatch.setattr(intake_plugin, "build_entry", lambda *args: made.append(1) or build_entry(*args))
    cat = xarray_crism.open_catalog(volumes["trdr"], ddr_volume=volumes["ddr"], cdr_volume=volumes["cdr"])
    assert isinstance(cat.entries, LazyEntries) and len(cat) == 4 and sorted(cat) == sorted(cat.entries) and made == []
    trdr = read_volume(volumes["trdr"])
    eager = build_entries(trdr, select_rows(trdr.index, Query(), ""),
                          ddr=read_volume(volumes["ddr"]), cdr=read_volume(volumes["cdr"]))
    for entry in eager:
        reader, expected = cat[entry.name.lower()], build_reader(entry, storage_options=None, join=True)
        assert reader.metadata == expected.metadata and reader.kwargs["data"].url == expected.kwargs["data"].url
        others = {k: v for k, v in expected.kwargs.items() if k != "data"}
        assert {k: v for k, v in reader.kwargs.items() if k != "data"} == others
    assert len(made) == len(eager) == 4
    cat["extra"] = cat[eager[0].name]
    assert "extra" in cat and len(cat.entries) == 5
    del cat["extra"]
    assert "extra" not in cat and len(cat.entries) == 4


def _old_select(index: pd.DataFrame, query: Query) -> pd.DataFrame:
    """The text filters as they were: every row stripped and upper-cased by pandas (no bbox, no times)."""
    def upper(column: str) -> pd.Series:
        return index[column].str.strip().str.upper()

    keep = np.ones(len(index), dtype=bool)
    pid = index["PRODUCT_ID"].str.upper()
    if query.observation_id is not None:
        ids, full = query.observation_id, upper("OBSERVATION_TYPE").fillna("") + upper("OBSERVATION_ID")
        keep &= (upper("OBSERVATION_ID").isin(ids) | full.isin(ids)).to_numpy(dtype=bool, na_value=False)
    for key, column in (("class_type", "OBSERVATION_TYPE"), ("sensor", "MRO:SENSOR_ID")):
        if getattr(query, key) is not None:
            keep &= upper(column).isin(getattr(query, key)).to_numpy(dtype=bool, na_value=False)
    if query.product_type is not None:
        code = pid.str.extract(r"^[A-Z]{3}[0-9A-F]{8}_[0-9A-F]{2}_([A-Z]{2})", expand=False)
        keep &= (upper("PRODUCT_TYPE").isin(query.product_type) | code.isin(query.product_type)).to_numpy(bool, na_value=False)
    if query.product_id is not None:
        keep &= np.array([fnmatch.fnmatchcase(p, query.product_id) for p in pid.fillna("")], dtype=bool)
    return index[keep]


def test_the_text_filters_select_what_the_per_row_expressions_selected(awkward: Path) -> None:
    index = read_index(awkward)
    rng = np.random.default_rng(9)
    n = len(index)
    index["OBSERVATION_ID"] = pd.array(rng.choice([" 00014679", "0001458f ", "00014679", "N/A", ""], n), dtype="string")
    index.loc[rng.random(n) < 0.1, "OBSERVATION_ID"] = pd.NA
    index["OBSERVATION_TYPE"] = pd.array(rng.choice(["FRT", "frt ", "HRL", "", "FR"], n), dtype="string")
    index.loc[rng.random(n) < 0.1, "OBSERVATION_TYPE"] = pd.NA
    index["MRO:SENSOR_ID"] = pd.array(rng.choice(["S", "l", " L", "J"], n), dtype="string")
    index["PRODUCT_TYPE"] = pd.array(rng.choice(["TRDR", "ddr", " MTRDR", "N/A"], n), dtype="string")
    codes = rng.choice(["IF", "RA", "DE", "if", "SC"], n)
    index["PRODUCT_ID"] = pd.array([f"FRT{i:08X}_07_{c}166J_MTR3" for i, c in enumerate(codes)], dtype="string")
    index.loc[rng.random(n) < 0.05, "PRODUCT_ID"] = pd.NA
    queries = [
        Query(observation_id=("00014679",)), Query(observation_id=("FRT00014679", "0001458F")),
        Query(observation_id=("T00014679",)),
        Query(observation_id=("FR0001458F", "")), Query(class_type=("FRT",)), Query(sensor=("L", "S")),
        Query(product_type=("TRDR",)), Query(product_type=("IF", "DDR")), Query(product_type=("MTRDR", "RA"), sensor=("L",)),
        Query(product_id="*_IF166J_*"), Query(product_id="FRT000000[0-9]?_*", class_type=("FRT", "HRL")),
    ]
    for query in queries:
        pd.testing.assert_frame_equal(select_rows(index, query, "index"), _old_select(index, query), obj=str(query))


def test_the_path_screen_keeps_every_path_the_escape_pattern_matches() -> None:
    rng = np.random.default_rng(11)
    alphabet = [*"ab./~:%\\2E\t \x00\n\xa0\u2003\x1f", "..", "/.", "%2e", "~user"]
    paths = ["".join(rng.choice(alphabet, rng.integers(0, 12))) for _ in range(20000)]
    paths += ["TRDR/2009/FRT00014679/FRT00014679_07_IF166J_MTR3.IMG", "a/ ../b", "a/\u2003~/b", "x\x00", ""]
    screened = find_escape_candidates(paths)
    matched = np.array([_ESCAPES.search(p) is not None for p in paths])
    assert matched.sum() > 1000 and not (matched & ~screened).any()
    assert screened.mean() < 0.95 and not screened[-5] and screened[-4:-1].all()
