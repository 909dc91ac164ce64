"""Benchmark: a 100,000-row volume index (SIS Table 3-17) read by xarray-crism and by pandas.read_csv.

The issue's target: ``read_index`` parses the table "in about the time pandas takes to read the
same file as CSV". The index (57 columns, ~800 bytes per record, ~80 MB) is generated once into
``benchmarks/data/index`` (git-ignored). pandas reads it untyped (``read_csv`` with the quote
character, no dtypes, no time parsing), which is the floor; ours returns typed columns (strings
stripped, N/A as missing, Int64, float64, datetime64). Both are checked to agree on PRODUCT_ID
and CENTER_LATITUDE first; interleaved, best of ``--repeat``, warm page cache.

    python benchmarks/bench_index.py [--rows N] [--repeat N] [--out DIR]

It writes its section of the performance page (``index.json``, ``index.md``) in ``--out``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from xarray_crism.archive.index import read_index
from xarray_crism.testing.volume import INDEX_COLUMNS, write_index

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from benchkit import interleaved, load, ratio, seconds, write_section  # noqa: E402


def ensure_index(rows: int) -> Path:
    """The generated CUMINDEX.LBL of ``rows`` rows (written once)."""
    label = HERE / "data" / "index" / f"CUMINDEX_{rows}.LBL"
    if label.exists():
        return label
    label.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    records = []
    for i in range(rows):
        obs = f"{i:08X}"
        records.append({
            "VOLUME_ID": "MROCR_2104", "PRODUCT_ID": f"FRT{obs}_07_IF166J_MTR3", "PRODUCT_TYPE": "MTRDR",
            "FILE_SPECIFICATION_NAME": f"MTRDR/2009/2009_206/FRT{obs}/FRT{obs}_07_IF166J_MTR3.LBL",
            "START_TIME": "2009-07-25T06:01:02", "STOP_TIME": "2009-07-25T06:03:40",
            "CENTER_LATITUDE": float(rng.uniform(-89, 89)), "CENTER_LONGITUDE": float(rng.uniform(0, 359)),
            "OBSERVATION_TYPE": "FRT", "OBSERVATION_ID": obs, "MRO:SENSOR_ID": "J", "LINES": 600, "BANDS": 489,
        })
    return write_index(label, records, table_name=f"CUMINDEX_{rows}.TAB")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--out", type=Path, default=HERE / "results", help="directory for index.json and index.md")
    args = parser.parse_args()
    label = ensure_index(args.rows)
    table = label.with_suffix(".TAB")
    names = [name for name, _, _ in INDEX_COLUMNS]

    def ours() -> pd.DataFrame:
        return read_index(label)

    def csv() -> pd.DataFrame:
        return pd.read_csv(table, header=None, names=names, quotechar='"', skipinitialspace=True, lineterminator="\n")

    before = load()
    a, b = ours(), csv()
    assert a["PRODUCT_ID"].tolist() == b["PRODUCT_ID"].str.strip().tolist()
    np.testing.assert_allclose(a["CENTER_LATITUDE"], b["CENTER_LATITUDE"])
    t = interleaved({"pandas.read_csv (untyped)": csv, "xarray_crism.read_index (typed)": ours}, args.repeat)
    bound = t["pandas.read_csv (untyped)"]["best"]
    text = (
        f"`benchmarks/bench_index.py` reads a generated {args.rows:,}-row PDS3 volume index ({len(names)} columns, "
        f"{table.stat().st_size / 2**20:.0f} MiB) with `xarray_crism.read_index` (typed columns: strings stripped, "
        "N/A as missing, integers, floats, datetimes) and with `pandas.read_csv` on the same `.TAB`, untyped: the "
        f"floor. Both are checked to agree on `PRODUCT_ID` and `CENTER_LATITUDE`. Interleaved, best of {args.repeat}."
    )
    rows = [[name, seconds(v["best"]), seconds(v["median"]), ratio(v["best"], bound)] for name, v in t.items()]
    write_section(args.out, {
        "benchmark": "index", "title": "Volume index", "text": text, "load": before,
        "tables": [{"header": ["reader", "best", "median", "ratio to pandas.read_csv"], "rows": rows}],
        "targets": [], "raw": {"seconds": t, "rows": args.rows, "repeat": args.repeat},
    })


if __name__ == "__main__":
    main()
