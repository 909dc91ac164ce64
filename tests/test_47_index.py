"""Volume index tables (SIS Table 3-17) as typed DataFrames, local and over HTTP."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from xarray_crism.archive.index import read_index
from xarray_crism.errors import LabelValueError
from xarray_crism.testing.volume import INDEX_COLUMNS, write_index

from .http_server import RangeServer

ROWS = [
    {
        "VOLUME_ID": "MROCR_2104", "PRODUCT_ID": "FRT00014679_01_IF156S_TRR3", "PRODUCT_TYPE": "TRDR",
        "FILE_SPECIFICATION_NAME": "TRDR/2009/2009_206/FRT00014679/FRT00014679_01_IF156S_TRR3.LBL",
        "PRODUCT_CREATION_TIME": "2009-08-01T12:00:01", "START_TIME": "2009-07-25T06:01:02", "STOP_TIME": "2009-07-25T06:03:40",
        "SPACECRAFT_CLOCK_START_COUNT": "9/0932450000.000", "CENTER_LATITUDE": -4.5, "CENTER_LONGITUDE": 137.4,
        "UPPER_LEFT_LATITUDE": -4.4, "UPPER_LEFT_LONGITUDE": 137.3, "LOWER_RIGHT_LATITUDE": -4.6, "LOWER_RIGHT_LONGITUDE": 137.5,
        "OBSERVATION_TYPE": "FRT", "OBSERVATION_ID": "00014679", "MRO:OBSERVATION_NUMBER": 1, "MRO:ACTIVITY_ID": "IF156",
        "MRO:SENSOR_ID": "S", "PRODUCT_VERSION_ID": "3", "PIXEL_AVERAGING_WIDTH": 1, "MRO:FRAME_RATE": 3.75,
        "LINES": 15, "LINE_SAMPLES": 64, "BANDS": 107,
    },
    {
        "VOLUME_ID": "MROCR_2104", "PRODUCT_ID": "FRT0001458F_01_IF156L_TRR3", "PRODUCT_TYPE": "TRDR",
        "FILE_SPECIFICATION_NAME": "TRDR/2009/2009_190/FRT0001458F/FRT0001458F_01_IF156L_TRR3.LBL",
        "PRODUCT_CREATION_TIME": "2009-08-01T12:00:02", "START_TIME": "2009-07-09T01:02:03", "STOP_TIME": "2009-07-09T01:04:00",
        "OBSERVATION_TYPE": "FRT", "OBSERVATION_ID": "0001458F", "MRO:OBSERVATION_NUMBER": 1, "MRO:ACTIVITY_ID": "IF156",
        "MRO:SENSOR_ID": "L", "PRODUCT_VERSION_ID": "3", "LINES": 15, "LINE_SAMPLES": 64, "BANDS": 438,
    },
]


def test_index_table_becomes_a_typed_dataframe(tmp_path: Path) -> None:
    label = write_index(tmp_path / "TRR0907_INDEX.LBL", ROWS)
    df = read_index(label)
    assert list(df.columns) == [name for name, _, _ in INDEX_COLUMNS] and len(df) == 2
    assert df["PRODUCT_ID"].tolist() == ["FRT00014679_01_IF156S_TRR3", "FRT0001458F_01_IF156L_TRR3"]
    assert df["PRODUCT_ID"].dtype == "string" and df["MRO:SENSOR_ID"].tolist() == ["S", "L"]
    assert df["START_TIME"].dtype.kind == "M" and df["START_TIME"][0] == pd.Timestamp("2009-07-25T06:01:02")
    assert df["CENTER_LATITUDE"].dtype == np.float64 and df["CENTER_LATITUDE"][0] == -4.5
    assert np.isnan(df["CENTER_LATITUDE"][1])  # N/A
    assert df["BANDS"].dtype == "Int64" and df["BANDS"].tolist() == [107, 438]
    assert df["PIXEL_AVERAGING_WIDTH"][0] == 1 and df["PIXEL_AVERAGING_WIDTH"][1] is pd.NA
    assert df["ORBIT_NUMBER"][0] == "N/A"  # character fields keep their text
    assert df.attrs["table_url"].endswith("TRR0907_INDEX.TAB")


def test_index_records_are_fixed_length_crlf(tmp_path: Path) -> None:
    label = write_index(tmp_path / "INDEX.LBL", ROWS)
    data = (tmp_path / "INDEX.TAB").read_bytes()
    lines = data.split(b"\r\n")[:-1]
    assert len({len(line) for line in lines}) == 1 and len(lines) == 2
    assert read_index(label)["VOLUME_ID"].tolist() == ["MROCR_2104"] * 2


def test_a_bad_number_names_the_column_and_the_row(tmp_path: Path) -> None:
    label = write_index(tmp_path / "INDEX.LBL", ROWS)
    tab = tmp_path / "INDEX.TAB"
    tab.write_bytes(tab.read_bytes().replace(b",107,", b",1x7,", 1))
    with pytest.raises(LabelValueError, match=r"INDEX\.TAB: BANDS \(row 1\) = '1x7'; expected numbers or N/A"):
        read_index(label)


def test_index_over_http_is_two_requests_and_the_same_frame(tmp_path: Path) -> None:
    root = tmp_path / "www" / "INDEX"
    root.mkdir(parents=True)
    label = write_index(root / "CUMINDEX.LBL", ROWS * 500)
    local = read_index(label)
    with RangeServer(tmp_path / "www") as server:
        server.reset()
        remote = read_index(f"{server.url}/INDEX/CUMINDEX.LBL")
        assert server.httpd.requests <= 4  # label, table size, table (one range each)
        assert server.bytes_sent < (root / "CUMINDEX.TAB").stat().st_size + 2 * label.stat().st_size
    pd.testing.assert_frame_equal(local, remote)
    assert len(remote) == 1000
