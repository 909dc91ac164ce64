"""Run every benchmark and write the documentation's performance page (``docs/performance.md``).

Each benchmark runs in its own process and writes its own section of the page as JSON
(``<name>.json`` in ``--results``; see ``benchkit.py``): what it measures, its tables, its targets
and the load average while it ran. This script only runs them and puts the sections together,
after a header (machine, versions, command) and a summary of every target.

    python benchmarks/make_performance_page.py [--repeat N] [--only trdr ...] [--out docs/performance.md]
                                               [--results DIR [--no-run]]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from benchkit import load, markdown  # noqa: E402

#: benchmark name (its JSON) -> script; the page's order.
BENCHES = {"trdr": "bench_trdr.py", "mastcamz": "bench_mastcamz.py", "http": "bench_http.py",
           "zarr": "bench_zarr.py", "index": "bench_index.py"}
LIBRARIES = ("xarray-crism", "numpy", "xarray", "dask", "zarr", "fsspec", "rasterio", "pdr", "pandas")


def run_benchmarks(names: list[str], results: Path, repeat: int | None) -> None:
    """Each benchmark in its own process, writing its section into ``results``."""
    for name in names:
        command = [sys.executable, str(HERE / BENCHES[name]), "--out", str(results)]
        command += ["--repeat", str(repeat)] if repeat else []
        print(f"== {' '.join(command[1:])}", file=sys.stderr, flush=True)
        if subprocess.run(command, cwd=HERE, stdout=sys.stderr, check=False).returncode:
            raise SystemExit(f"{BENCHES[name]} failed; no page written")


def read_sections(names: list[str], results: Path) -> list[dict[str, Any]]:
    sections = []
    for name in names:
        try:
            sections.append(json.loads((results / f"{name}.json").read_text(encoding="utf-8")))
        except (OSError, ValueError) as error:
            raise SystemExit(f"cannot read {results / name}.json ({error}); run {BENCHES[name]} --out {results}") from error
    return sections


def versions() -> str:
    found = []
    for name in LIBRARIES:
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            continue
    try:
        import rasterio

        found.append(f"GDAL {rasterio.__gdal_version__}")
    except ImportError:
        pass
    return ", ".join(found)


def machine() -> dict[str, Any]:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False)
    return {"date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "cpus": os.cpu_count(), "platform": platform.platform(),
            "python": platform.python_version(), "versions": versions(), "commit": commit.stdout.strip(), "load": load()}


def header(run: dict[str, Any], command: str) -> list[str]:
    busy = run["load"][0] > (run["cpus"] or 1)
    warning = (f"**The load average ({run['load'][0]:.2f}) exceeded the machine's {run['cpus']} CPUs when the run "
               "started: other processes competed for them. Each case ran beside its bound, interleaved, so the ratios "
               "hold better than the times; rerun on an idle machine before quoting times.**")
    return [
        "# Performance", "",
        "This page is written by one command, which runs every benchmark of `benchmarks/`, each in its own process; "
        "each benchmark writes its own section (what it measures, its tables, its targets, the load average while it "
        "ran), and nothing here is edited by hand:", "",
        "```sh", command, "```", "",
        *([warning, ""] if busy else []),
        f"- date: {run['date']}; git commit `{run['commit']}`",
        f"- machine: {run['cpus']} logical CPUs; {run['platform']}; Python {run['python']}",
        f"- load average (1 / 5 / 15 min) when the run started: {' / '.join(f'{x:.2f}' for x in run['load'])}",
        f"- {run['versions']}", "",
        "Times are wall times (`time.perf_counter`) with a warm page cache, best (and median) of several repeats. In "
        "every group of cases the readers run in turn, one call each per repeat, so a case, its peer and its bound "
        "share the same load; a ratio divides a time by its bound's time in the same run (1.00x: as fast as the bound). "
        "Every benchmark first checks that the readers return the same values, bit for bit.", "",
    ]


def summary(sections: list[dict[str, Any]]) -> list[str]:
    rows = [f"| {s['title']} | {t['name']} | {t['ratio']:.2f}x | <= {t['limit']:g}x | {'met' if t['met'] else '**missed**'} |"
            for s in sections for t in s.get("targets", [])]
    return ["## Targets", "", "| benchmark | target | measured | limit | |", "|---|---|---|---|---|", *rows, ""]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeat", type=int, help="timed repeats per case, for every benchmark (default: each one's own)")
    parser.add_argument("--only", action="append", choices=list(BENCHES), help="only these benchmarks")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "performance.md", help="the page to write")
    parser.add_argument("--results", type=Path, help="keep the sections here (default: a temporary directory)")
    parser.add_argument("--no-run", action="store_true", help="build the page from the sections already in --results")
    args = parser.parse_args(argv)
    if args.no_run and args.results is None:
        parser.error("--no-run needs --results DIR")
    names = args.only or list(BENCHES)
    with tempfile.TemporaryDirectory(prefix="performance_page_") as tmp:
        results = args.results or Path(tmp)
        results.mkdir(parents=True, exist_ok=True)
        if not args.no_run:
            (results / "run.json").write_text(json.dumps(machine(), indent=2) + "\n", encoding="utf-8")
            run_benchmarks(names, results, args.repeat)
        run = json.loads((results / "run.json").read_text(encoding="utf-8"))
        sections = read_sections(names, results)
    command = " ".join(["python benchmarks/make_performance_page.py", *(["--repeat", str(args.repeat)] if args.repeat else [])])
    lines = [*header(run, command), *summary(sections), *(line for s in sections for line in markdown(s))]
    args.out.write_text("\n".join(lines).rstrip("\n") + "\n", encoding="utf-8")
    print("\n".join(summary(sections)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
