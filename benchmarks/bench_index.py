"""Benchmark: a mission-size volume index (SIS Table 3-17, 10^6 rows) read, filtered and listed as a catalog.

The index (57 columns, 708 bytes per record, 708 MB; see ``index_data.py``) is generated once into
``benchmarks/data/index_mission`` (git-ignored). Cases, each in its own Python process so that its
peak memory (``VmHWM``, reset after the imports) is its own, run in turn ``--repeat`` times
(interleaved: a case and its peers share the machine's load); the best and the median are kept:

- ``pandas.read_csv`` (untyped: no dtypes, no time parsing), the bound; ``pandas.read_fwf`` (the
  fixed-width reader, types inferred), the peer;
- ``xarray_crism.read_index`` (typed: strings stripped, N/A missing, Int64, float64, datetime64);
- ``open_catalog`` with a filter (TRDRs of the IR sensor whose footprint meets a 10 x 10 degree box);
- ``open_catalog`` with no filter, every entry listed (``list(cat)``), then one entry opened (``cat[name]``).

Before timing, the readers are checked to agree (``PRODUCT_ID`` and ``CENTER_LATITUDE`` of pandas
and ``read_index``). ``python benchmarks/bench_index.py [--rows N] [--repeat N] [--out DIR]`` writes
its section of the performance page (``index.json``, ``index.md``) in ``--out``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from benchkit import load, ratio, seconds, target, write_section  # noqa: E402

DATA_DIR = HERE / "data" / "index_mission"
QUERY: dict[str, Any] = {"product_type": "TRDR", "sensor": "L", "bbox": (130.0, -10.0, 140.0, 0.0)}
BEFORE = " (before)"
ONCE = ("pandas.read_fwf (types inferred)",)  # minutes per run: a reference, run in the first turn only
BASELINE_CASES = ("xarray_crism.read_index (typed)", "open_catalog with a filter")
LIMITS = {"filter_seconds": 20.0, "filter_mib": 1500.0, "listing_seconds": 60.0}


def ensure_index(rows: int) -> Path:
    """The generated ``CUMINDEX_<rows>.LBL`` (written once)."""
    label = DATA_DIR / f"CUMINDEX_{rows}.LBL"
    if not label.with_suffix(".TAB").exists():
        from index_data import write_mission_index

        write_mission_index(label, rows)
    return label


# --------------------------------------------------------------------------- cases (each in a child process)


def _csv(label: Path) -> Any:
    import pandas as pd

    from xarray_crism.testing.volume import INDEX_COLUMNS

    names = [name for name, _, _ in INDEX_COLUMNS]
    return pd.read_csv(label.with_suffix(".TAB"), header=None, names=names, quotechar='"', skipinitialspace=True,
                       lineterminator="\n")


def _fwf(label: Path) -> Any:
    import pandas as pd

    from xarray_crism.archive.index import read_index_table
    from xarray_crism.io.sources import open_source

    _, columns, _ = read_index_table(open_source(str(label), None))
    specs = [(c.start, c.start + c.width) for c in columns]
    return pd.read_fwf(label.with_suffix(".TAB"), colspecs=specs, names=[c.name for c in columns], header=None)


def _read_index(label: Path) -> Any:
    from xarray_crism.archive.index import read_index

    return read_index(label)


def _filtered(label: Path) -> Any:
    import xarray_crism

    cat = xarray_crism.open_catalog(label, path_case="as-is", **QUERY)
    return {"entries": len(cat), "first": sorted(cat)[:1]}


def _listed(label: Path) -> Any:
    import xarray_crism

    cat = xarray_crism.open_catalog(label, path_case="as-is")
    names = list(cat)
    entry = cat[names[len(names) // 2]]
    return {"entries": len(names), "url": entry.kwargs["data"].url[-40:]}


CASES: dict[str, Callable[[Path], Any]] = {
    "pandas.read_csv (untyped)": _csv,
    "pandas.read_fwf (types inferred)": _fwf,
    "xarray_crism.read_index (typed)": _read_index,
    "open_catalog with a filter": _filtered,
    "open_catalog, every entry listed": _listed,
}


def run_child(name: str, label: Path) -> None:
    """Run one case here and print its time and peak memory as JSON (the imports done before the baseline)."""
    import intake  # noqa: F401 - what every case imports, before the baseline
    import pandas  # noqa: F401
    from bench_zarr import peak_mib, reset_peak

    import xarray_crism.archive.intake_plugin  # noqa: F401

    before = reset_peak()
    t0 = time.perf_counter()
    found = CASES[name](label)
    elapsed = time.perf_counter() - t0
    summary = found if isinstance(found, dict) else {"rows": len(found)}
    print(json.dumps({"seconds": elapsed, "peak_mib": peak_mib(), "baseline_mib": before, "result": summary}))


def measure(name: str, label: Path, baseline: Path | None = None) -> dict[str, Any]:
    """One case in a fresh process; with ``baseline``, the xarray_crism of that checkout instead of this one."""
    case = name.removesuffix(BEFORE)
    env = {**os.environ, "PYTHONPATH": str(baseline)} if baseline is not None and name.endswith(BEFORE) else None
    command = [sys.executable, __file__, "--child", case, "--label", str(label)]
    run = subprocess.run(command, capture_output=True, text=True, env=env)
    if run.returncode:
        raise SystemExit(f"{name} failed:\n{run.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(run.stdout.strip().splitlines()[-1])
    print(f"  {name:<40} {result['seconds']:8.2f} s  peak {result['peak_mib']:7.0f} MiB", file=sys.stderr)
    return result


# --------------------------------------------------------------------------- orchestration


def check_agreement(label: Path) -> None:
    """pandas and read_index read the same products and latitudes (small cost: one read each, here)."""
    import numpy as np

    ours, theirs = _read_index(label), _csv(label)
    assert ours["PRODUCT_ID"].tolist() == theirs["PRODUCT_ID"].str.strip().tolist()
    lat = theirs["CENTER_LATITUDE"].replace("N/A", np.nan).astype(float)
    np.testing.assert_array_equal(ours["CENTER_LATITUDE"].to_numpy(), lat.to_numpy())


def interleaved_runs(cases: list[str], label: Path, repeat: int, baseline: Path | None) -> dict[str, list[dict[str, Any]]]:
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in cases}
    for turn in range(repeat):
        for name in cases:
            if turn == 0 or name not in ONCE:
                runs[name].append(measure(name, label, baseline))
    return runs


def summarise(runs: list[dict[str, Any]]) -> dict[str, float]:
    times = [r["seconds"] for r in runs]
    return {"best": min(times), "median": statistics.median(times), "peak_mib": max(r["peak_mib"] for r in runs),
            "above_imports_mib": max(r["peak_mib"] - r["baseline_mib"] for r in runs)}


def build_section(found: dict[str, dict[str, float]], rows: int, table_bytes: int, repeat: int,
                  before: list[float]) -> dict[str, Any]:
    bound = found["pandas.read_csv (untyped)"]["best"]
    text = (
        f"`benchmarks/bench_index.py` reads a generated {rows:,}-row CRISM volume index (SIS Table 3-17, 57 columns, "
        f"{table_bytes / 1e6:.0f} MB: every row a different product, as in a whole-mission `CUMINDEX`) with "
        "`pandas.read_csv` (untyped: the bound), `pandas.read_fwf` (fixed width, types inferred: the peer) and "
        "`xarray_crism.read_index` (typed: strings stripped, N/A missing, Int64, float64, datetime64), then opens it "
        f"as a catalog with a filter ({', '.join(f'{k}={v!r}' for k, v in QUERY.items())}) and with none, every "
        "entry listed (`list(cat)`) and one opened (`cat[name]`). Each case runs in its own process; its peak memory "
        "is the process's peak resident size (`VmHWM`, reset after the imports; the imports alone are ~"
        f"{found['pandas.read_csv (untyped)']['peak_mib'] - found['pandas.read_csv (untyped)']['above_imports_mib']:.0f}"
        f" MiB). The cases run in turn, {repeat} times (`pandas.read_fwf`, minutes a run, once); best and median."
        + (" Rows marked (before) ran the package of an older checkout (`--baseline`), in the same turns."
           if any(name.endswith(BEFORE) for name in found) else "")
    )
    table = [[name, seconds(v["best"]), seconds(v["median"]), ratio(v["best"], bound), f"{v['peak_mib']:,.0f} MiB",
              f"{v['above_imports_mib']:,.0f} MiB"] for name, v in found.items()]
    filtered, listed = found["open_catalog with a filter"], found["open_catalog, every entry listed"]
    targets = [  # absolute limits, as fractions of the limit (1.00x: at the limit)
        target(f"open_catalog with a filter in at most 20 s ({seconds(filtered['best'])})", filtered["best"],
               LIMITS["filter_seconds"], 1.0),
        target(f"open_catalog with a filter in at most 1,500 MiB ({filtered['peak_mib']:,.0f} MiB)", filtered["peak_mib"],
               LIMITS["filter_mib"], 1.0),
        target(f"every entry listed in at most 60 s ({seconds(listed['best'])})", listed["best"], LIMITS["listing_seconds"], 1.0),
    ]
    return {
        "benchmark": "index", "title": "Archive-scale volume index", "text": text, "load": before,
        "tables": [{"header": ["case", "best", "median", "ratio to pandas.read_csv", "peak memory", "above the imports"],
                    "rows": table}],
        "targets": targets, "raw": {"cases": found, "rows": rows, "repeat": repeat},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=HERE / "results", help="directory for index.json and index.md")
    parser.add_argument("--only", action="append", help="run only these cases and print their results")
    parser.add_argument("--baseline", type=Path, help="also run read_index and the filtered open with the package "
                        "of this checkout (e.g. a git worktree of an older commit), interleaved")
    parser.add_argument("--child")
    parser.add_argument("--label", type=Path)
    args = parser.parse_args(argv)
    if args.child:
        run_child(args.child, args.label)
        return 0
    label = ensure_index(args.rows)
    before = load()
    if not args.only:
        check_agreement(label)
    cases = args.only or list(CASES)
    if args.baseline is not None:  # the previous code's read and filtered open beside today's (its listing takes minutes)
        cases = [*cases, *(name + BEFORE for name in BASELINE_CASES if name in cases)]
    runs = interleaved_runs(cases, label, args.repeat, args.baseline)
    found = {name: summarise(r) for name, r in runs.items()}
    if args.only:
        print(json.dumps({"load": [before, load()], "cases": found, "runs": runs}, indent=2))
        return 0
    write_section(args.out, build_section(found, args.rows, label.with_suffix(".TAB").stat().st_size, args.repeat, before))
    return 0


if __name__ == "__main__":
    sys.exit(main())
