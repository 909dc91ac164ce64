"""Benchmark: a 100,000-row volume index (SIS Table 3-17) read by xarray-crism and by pandas.read_csv.

The issue's target: ``read_index`` parses the table "in about the time pandas takes to read the
same file as CSV". The index (57 columns, ~800 bytes per record, ~80 MB) is generated once into
``benchmarks/data/index`` (git-ignored). pandas reads it untyped (``read_csv`` with the quote
character, no dtypes, no time parsing), which is the floor; ours returns typed columns (strings
stripped, N/A as missing, Int64, float64, datetime64). Both are checked to agree on PRODUCT_ID
and CENTER_LATITUDE first; best of ``--repeat``, warm page cache.

    python benchmarks/bench_index.py [--rows N] [--repeat N] [--out DIR]

The table is printed; with ``--out``, it is also written to ``results_index.md`` and the raw seconds to
``results_index.json`` in that directory.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

from xarray_crism.archive.index import read_index
from xarray_crism.testing.volume import INDEX_COLUMNS, write_index

HERE = Path(__file__).resolve().parent


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


def best(func: object, repeat: int) -> float:
    """Best wall time of ``repeat`` calls (after one warm-up)."""
    assert callable(func)
    func()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, help="also write results_index.md and results_index.json there")
    args = parser.parse_args()
    label = ensure_index(args.rows)
    table = label.with_suffix(".TAB")
    names = [name for name, _, _ in INDEX_COLUMNS]

    def ours() -> pd.DataFrame:
        return read_index(label)

    def csv() -> pd.DataFrame:
        return pd.read_csv(table, header=None, names=names, quotechar='"', skipinitialspace=True, lineterminator="\n")

    a, b = ours(), csv()
    assert a["PRODUCT_ID"].tolist() == b["PRODUCT_ID"].str.strip().tolist()
    np.testing.assert_allclose(a["CENTER_LATITUDE"], b["CENTER_LATITUDE"])
    t_ours, t_csv = best(ours, args.repeat), best(csv, args.repeat)
    size = table.stat().st_size / 1e6
    text = "\n".join([
        f"| reader | {args.rows:,} rows ({size:.0f} MB) | ratio to pandas.read_csv |\n|---|---|---|",
        f"| pandas.read_csv (untyped) | {t_csv:.3f} s | 1.00x |",
        f"| xarray_crism.read_index (typed) | {t_ours:.3f} s | {t_ours / t_csv:.2f}x |",
    ])
    print(text)
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "results_index.md").write_text(text + "\n", encoding="utf-8")
        raw = {
            "benchmark": "index", "rows": args.rows, "columns": len(names), "bytes": table.stat().st_size,
            "repeat": args.repeat,
            "seconds": {"pandas.read_csv (untyped)": t_csv, "xarray_crism.read_index (typed)": t_ours},
        }
        (args.out / "results_index.json").write_text(json.dumps(raw, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
