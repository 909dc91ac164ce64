"""Benchmark: every CRISM summary parameter of a full-size TRDR with dask, beside the time to read the cube.

Uses the full-size cube of ``bench_trdr.py`` (438 bands x 480 lines x 320 samples, float32, BIL; generated
once into ``benchmarks/data/``). Times, best of ``--repeat`` after a warm-up (warm page cache):

- *read*: ``xr.open_dataset(lbl, engine="crism", chunks={"line": N}).i_over_f.values`` (dask, masked);
- *summary*: ``ds.crism.summary().compute()`` on the same lazy Dataset: all the parameters the IR cube
  covers (46), from reading the cube to the float32 results, in one dask pass.

The target is summary <= 3 x read. Results go to ``results_analysis.md`` and ``results_analysis.json``
in ``--out`` (default ``benchmarks/``).

    python benchmarks/bench_analysis.py [--repeat N] [--chunk-lines N] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import warnings
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

import dask
import numpy as np
import xarray as xr

import xarray_crism

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_trdr import BANDS, LINES, SAMPLES, ensure_product

HERE = Path(__file__).resolve().parent
TARGET_RATIO = 3.0


def best_of(repeat: int, op: Callable[[], Any]) -> float:
    """Best wall time of ``repeat`` runs after one warm-up run."""
    op()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        op()
        times.append(time.perf_counter() - start)
    return min(times)


def read_cube(label: Path, chunk_lines: int) -> np.ndarray:
    with xr.open_dataset(label, engine="crism", chunks={"line": chunk_lines}) as ds:
        values: np.ndarray = ds.i_over_f.values
    return values


def compute_summary(label: Path, chunk_lines: int) -> xr.Dataset:
    with xr.open_dataset(label, engine="crism", chunks={"line": chunk_lines}) as ds:
        result: xr.Dataset = ds.crism.summary().compute()
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--chunk-lines", type=int, default=60, help="dask chunk along line (default 60: 8 chunks)")
    parser.add_argument("--out", type=Path, default=HERE)
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", message="The specified chunks separate the stored chunks")
    product = ensure_product()
    parameters = len(compute_summary(product.label, args.chunk_lines).data_vars)
    with dask.config.set(scheduler="threads"):
        read = best_of(args.repeat, lambda: read_cube(product.label, args.chunk_lines))
        summary = best_of(args.repeat, lambda: compute_summary(product.label, args.chunk_lines))
    ratio = summary / read
    raw = {
        "benchmark": "bench_analysis.py", "shape": {"bands": BANDS, "lines": LINES, "samples": SAMPLES},
        "parameters": parameters, "chunk_lines": args.chunk_lines, "repeat": args.repeat,
        "seconds": {"read": read, "summary": summary}, "ratio": ratio, "target_ratio": TARGET_RATIO,
        "cpus": os.cpu_count(), "python": platform.python_version(), "xarray_crism": xarray_crism.__version__,
        "dask": version("dask"), "numpy": np.__version__,
    }
    table = (
        f"| operation | seconds (best of {args.repeat}) | ratio to read |\n|---|---|---|\n"
        f"| read the cube (dask, {args.chunk_lines}-line chunks) | {read:.3f} | 1.00 |\n"
        f"| summary(): {parameters} parameters, read included | {summary:.3f} | {ratio:.2f} |\n"
    )
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results_analysis.md").write_text(table, encoding="utf-8")
    (args.out / "results_analysis.json").write_text(json.dumps(raw, indent=2) + "\n", encoding="utf-8")
    print(table)
    print(f"target: summary <= {TARGET_RATIO:g} x read: {'met' if ratio <= TARGET_RATIO else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
