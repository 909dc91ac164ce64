"""Run every benchmark and write the documentation's performance page (``docs/performance.md``).

Each benchmark runs in its own process, as its own command line does, and writes its raw numbers
(``results*.json``) into a results directory (a temporary one unless ``--results`` names one); the
page is built from those JSON files only. Ratios are to ``numpy.fromfile`` reading the same bytes
(GDAL's open for "open", ``pandas.read_csv`` for the index, the values' own size for HTTP bytes).

    python benchmarks/make_performance_page.py [--repeat N | --quick] [--out docs/performance.md]
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
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DEFAULT_OUT = ROOT / "docs" / "performance.md"
QUICK_REPEAT = 1
RUN_FILE = "run.json"
LIBRARIES = ("xarray-crism", "numpy", "xarray", "pandas", "dask", "distributed", "zarr", "fsspec",
             "rasterio", "rioxarray", "pdr")


@dataclass(frozen=True)
class Bench:
    """One benchmark script: the JSON it writes in ``--out`` and its default ``--repeat`` (None: it has none)."""

    script: str
    results: str
    default_repeat: int | None
    what: str


BENCHES = (
    Bench("bench_trdr.py", "results.json", 5, "CRISM TRDR, local file"),
    Bench("bench_mastcamz.py", "results_mastcamz.json", 3, "100 Mastcam-Z products"),
    Bench("bench_index.py", "results_index.json", 3, "volume index"),
    Bench("bench_http.py", "results_http.json", None, "CRISM TRDR over HTTP"),
    Bench("bench_zarr.py", "results_zarr.json", 5, "conversion to Zarr"),
)

Results = dict[str, Any]


# --------------------------------------------------------------------------- running


def bench_command(bench: Bench, out: Path, repeat: int | None) -> list[str]:
    command = [sys.executable, str(HERE / bench.script), "--out", str(out)]
    if repeat is not None and bench.default_repeat is not None:
        command += ["--repeat", str(repeat)]
    return command


def run_benchmarks(out: Path, repeat: int | None) -> dict[str, float]:
    """Run each benchmark in its own process (output to stderr); wall time of each, in seconds."""
    durations = {}
    for i, bench in enumerate(BENCHES, 1):
        command = bench_command(bench, out, repeat)
        print(f"== [{i}/{len(BENCHES)}] {bench.script}: {' '.join(command[1:])}", file=sys.stderr, flush=True)
        start = time.perf_counter()
        run = subprocess.run(command, cwd=ROOT, stdout=sys.stderr, check=False)
        durations[bench.script] = time.perf_counter() - start
        if run.returncode:
            raise SystemExit(f"{bench.script} failed (exit status {run.returncode}); no page written")
        if not (out / bench.results).is_file():
            raise SystemExit(f"{bench.script} wrote no {bench.results} in {out}; no page written")
        print(f"== {bench.script} done in {duration(durations[bench.script])}", file=sys.stderr, flush=True)
    return durations


def load_results(directory: Path) -> dict[str, Results]:
    """script -> its parsed JSON; a clear error if one is missing or unreadable."""
    found = {}
    for bench in BENCHES:
        path = directory / bench.results
        try:
            found[bench.script] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise SystemExit(f"cannot read {path} ({error}); run {bench.script} with --out {directory}") from error
    return found


@contextmanager
def results_directory(path: Path | None) -> Iterator[Path]:
    """``path`` (created), or a temporary directory removed afterwards."""
    if path is not None:
        path.mkdir(parents=True, exist_ok=True)
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="performance_page_") as tmp:
        yield Path(tmp)


# --------------------------------------------------------------------------- the machine


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def physical_cores() -> int | None:
    """Distinct (physical id, core id) pairs in /proc/cpuinfo, if it says."""
    try:
        blocks = Path("/proc/cpuinfo").read_text(encoding="utf-8").split("\n\n")
    except OSError:
        return None
    cores = set()
    for block in blocks:
        fields = dict(line.split(":", 1) for line in block.splitlines() if ":" in line)
        fields = {k.strip(): v.strip() for k, v in fields.items()}
        if "core id" in fields:
            cores.add((fields.get("physical id", "0"), fields["core id"]))
    return len(cores) or None


def memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 2**20
    except (OSError, ValueError, IndexError):
        pass
    return None


def load_average() -> str:
    try:
        return " / ".join(Path("/proc/loadavg").read_text(encoding="utf-8").split()[:3])
    except OSError:
        return "unknown"


def versions() -> dict[str, str]:
    found = {}
    for name in LIBRARIES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    try:
        import rasterio

        found["GDAL"] = str(rasterio.__gdal_version__)
    except ImportError:
        found["GDAL"] = "not installed"
    return found


def git_commit() -> str | None:
    try:
        run = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False)
    except OSError:
        return None
    return run.stdout.strip() or None


def machine() -> dict[str, Any]:
    return {
        "cpu": cpu_model(), "logical_cpus": os.cpu_count(), "physical_cores": physical_cores(),
        "memory_gib": memory_gib(), "platform": platform.platform(), "python": platform.python_version(),
        "versions": versions(), "commit": git_commit(),
    }


# --------------------------------------------------------------------------- formatting


def seconds(t: float) -> str:
    if t >= 1:
        return f"{t:.2f} s"
    if t >= 1e-3:
        return f"{t * 1e3:.1f} ms"
    return f"{t * 1e6:.0f} µs"


def duration(t: float) -> str:
    minutes, secs = divmod(round(t), 60)
    return f"{minutes} min {secs} s" if minutes else f"{secs} s"


def ratio(value: float, reference: float) -> str:
    r = value / reference
    if r < 10:
        return f"{r:.2f}x"
    if r < 100:
        return f"{r:.1f}x"
    return f"{r:,.0f}x"


def mib(n: float) -> str:
    return f"{n / 2**20:,.0f} MiB"


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def need(results: Results, *keys: str) -> Any:
    """``results[k1][k2]...`` or a clear error naming the missing key."""
    value: Any = results
    for key in keys:
        if not isinstance(value, dict) or key not in value:
            name = results.get("benchmark", "?") if isinstance(results, dict) else "?"
            raise SystemExit(f"results of benchmark {name!r} lack {'/'.join(keys)}; rerun it")
        value = value[key]
    return value


def code(text: str) -> str:
    return "`" + text.replace("`", "'") + "`"


# --------------------------------------------------------------------------- sections

TRDR_OPS = ("open", "full read", "full read (masked)", "one spectrum", "one band")
TRDR_READERS = ("numpy.fromfile", "xarray-crism", "GDAL", "pdr")
PDR_WHOLE = ("one spectrum", "one band")


def trdr_reference(op: str, t: dict[str, dict[str, float]]) -> float | None:
    if op == "open":
        return t["open"].get("GDAL")
    if op == "full read (masked)":
        return t["full read"].get("numpy.fromfile")
    return t[op].get("numpy.fromfile")


def trdr_section(r: Results) -> list[str]:
    t: dict[str, dict[str, float]] = need(r, "seconds")
    shape = need(r, "shape")
    spectrum = need(r, "spectrum")
    rows = []
    for op in TRDR_OPS:
        if op not in t:
            continue
        ref = trdr_reference(op, t)
        row = [op]
        for reader in TRDR_READERS:
            if reader not in t[op]:
                row.append("-")
                continue
            text = seconds(t[op][reader])
            if ref and reader != "numpy.fromfile":
                text += f" ({ratio(t[op][reader], ref)})"
            if reader == "pdr" and op in PDR_WHOLE:
                text += ", whole cube"
            row.append(text)
        rows.append(row)
    checks = [
        ("open no slower than GDAL's open", t["open"]["xarray-crism"], t["open"]["GDAL"], 1.0),
        ("one spectrum faster than GDAL's one-pixel window", t["one spectrum"]["xarray-crism"], t["one spectrum"]["GDAL"], 1.0),
        ("full read (raw) within 1.2x of numpy.fromfile", t["full read"]["xarray-crism"], t["full read"]["numpy.fromfile"], 1.2),
    ]
    targets = [
        f"- {name}: **{'met' if value / ref <= limit else 'missed'}** ({ratio(value, ref)}, target <= {limit:g}x)"
        for name, value, ref, limit in checks
    ]
    return [
        "## CRISM TRDR, local file",
        "",
        f"`benchmarks/bench_trdr.py` reads a full-size CRISM TRDR I/F cube ({shape['bands']} bands x {shape['lines']} "
        f"lines x {shape['samples']} samples of float32, `LINE_INTERLEAVED`, {mib(need(r, 'cube_bytes'))}, random values "
        "with a real TRDR label) with four readers: `numpy.fromfile` of the raw bytes (the bound: no label, no decoding), "
        "xarray-crism (`xr.open_dataset(lbl, engine=\"crism\", mask_and_scale=False)`; the *masked* row is the default "
        "`mask_and_scale=True`, which turns the 65535 constant into NaN), GDAL through rasterio, and pdr. "
        f"*open* is opening and closing the product; *one spectrum* is line {spectrum['line']}, sample "
        f"{spectrum['sample']} (all bands); *one band* is band {need(r, 'band')}. xarray-crism and GDAL do the partial "
        "reads on an already open dataset; pdr cannot read part of an image, so its partial reads include reading the "
        "whole cube. Before timing, every reader is checked to return exactly the written values. Times are best of "
        f"{need(r, 'repeat')} after a warm-up; ratios are to `numpy.fromfile` for the same operation (the masked read: "
        "to numpy's full read) and, for *open*, to GDAL's open.",
        "",
        *table(["operation", "numpy.fromfile", "xarray-crism", "GDAL (rasterio)", "pdr"], rows),
        "",
        "The project's targets for this product:",
        "",
        *targets,
        *([""] + [f"- note: {code(n.removeprefix('- '))}" for n in r.get("notes", [])] if r.get("notes") else []),
        "",
    ]


def mastcamz_section(r: Results) -> list[str]:
    t: dict[str, float] = need(r, "seconds")
    bound = need(r, "seconds", "numpy.fromfile (bound)")
    n = need(r, "products")
    rows = [[name, seconds(v), seconds(v / n), ratio(v, bound)] for name, v in t.items()]
    return [
        f"## Mastcam-Z: {n} products, open and full read",
        "",
        f"`benchmarks/bench_mastcamz.py` opens and fully reads {n} Mastcam-Z RAD products ({need(r, 'distinct_products')} "
        f"real ASU products, int16 with attached ODL and VICAR headers, copied {need(r, 'copies')} times each; "
        f"{mib(need(r, 'bytes'))} in all) one after the other, with each reader: `numpy.fromfile` with offsets and "
        "shapes parsed before timing (the bound), xarray-crism (raw DN with `mask_and_scale=False`, and calibrated "
        "radiance: scaled to float, special constants to NaN), GDAL through rasterio (raw DN) and pdr (raw DN, and "
        "`get_scaled`). The raw readers are checked to return the same DN bit for bit. pdr's own published figure for "
        f"this task is \"100 IOFs parsed and loaded in 1.5 s\". Best of {need(r, 'repeat')}; ratios are to "
        "`numpy.fromfile`.",
        "",
        *table(["reader", f"{n} products", "per product", "ratio to numpy.fromfile"], rows),
        "",
    ]


def index_section(r: Results) -> list[str]:
    t: dict[str, float] = need(r, "seconds")
    ref = need(r, "seconds", "pandas.read_csv (untyped)")
    rows = [[name, seconds(v), ratio(v, ref)] for name, v in t.items()]
    return [
        "## Volume index",
        "",
        f"`benchmarks/bench_index.py` reads a generated {need(r, 'rows'):,}-row PDS3 volume index "
        f"({need(r, 'columns')} columns, {mib(need(r, 'bytes'))}) with `xarray_crism.read_index`, which returns typed "
        "columns (strings stripped, N/A as missing, integers, floats, datetimes), and with `pandas.read_csv` on the "
        "same `.TAB` file, untyped (no dtypes, no time parsing): the floor, since neither numpy nor GDAL reads such "
        "tables. Both are checked to agree on `PRODUCT_ID` and `CENTER_LATITUDE`. Best of "
        f"{need(r, 'repeat')}; ratios are to `pandas.read_csv`.",
        "",
        *table(["reader", "time", "ratio to pandas.read_csv"], rows),
        "",
    ]


def http_payload(r: Results) -> dict[str, int]:
    """The bytes of the values each operation asks for (the label for open): the bound for bytes on the wire."""
    shape = need(r, "shape")
    return {
        "open": need(r, "label_bytes"),
        "one spectrum": shape["bands"] * 4,
        "one band": shape["lines"] * shape["samples"] * 4,
        "full read": need(r, "cube_bytes"),
    }


def http_section(r: Results) -> list[str]:
    traffic: dict[str, dict[str, dict[str, Any]]] = need(r, "traffic")
    payload = http_payload(r)
    rows = []
    for op, by_reader in traffic.items():
        row = [op, f"{payload[op]:,}"]
        for reader in ("xarray-crism", "GDAL"):
            m = by_reader[reader]
            methods = ", ".join(f"{v:,} {k}" for k, v in m["methods"].items())
            row += [f"{m['bytes']:,} ({ratio(m['bytes'], payload[op])})", f"{m['requests']:,} ({methods})"]
        rows.append(row)
    return [
        "## CRISM TRDR over HTTP",
        "",
        "`benchmarks/bench_http.py` serves the same TRDR from a local HTTP server that supports range requests and counts "
        "every request it answers and every body byte it sends, then opens the product afresh and reads it with "
        "xarray-crism (`xr.open_dataset(url, engine=\"crism\", mask_and_scale=False)`, fsspec underneath) and with "
        "GDAL's `/vsicurl/` (through rasterio, default configuration). Each measurement uses a URL never used "
        "before, so no cache of either client helps; *open* is the open alone, the other rows the read alone after "
        "a fresh open. Both readers' values are checked equal to the local file. This is a count, not a timing, so "
        "it is exact and not repeated. Ratios are to the size of the values asked for "
        f"(the label, {payload['open']:,} B, for *open*); in this line-interleaved file a spectrum is spread over "
        f"one {need(r, 'line_bytes'):,}-byte line of the file.",
        "",
        *table(["operation", "values (bytes)", "xarray-crism bytes", "requests", "GDAL /vsicurl/ bytes", "requests"], rows),
        "",
    ]


ZARR_CASES = ("raw copy", "numpy.fromfile", "xarray-crism to_zarr", "xarray-crism to_zarr + SHA-256", "rioxarray to_zarr")


def zarr_section(r: Results) -> list[str]:
    cases: dict[str, dict[str, Any]] = need(r, "cases")
    stores: dict[str, int] = need(r, "store_bytes")
    fromfile = need(r, "cases", "numpy.fromfile", "seconds")
    copy = need(r, "cases", "raw copy", "seconds")
    conversion = []
    for name in ZARR_CASES:
        c = cases[name]
        conversion.append([
            name, seconds(c["seconds"]), ratio(c["seconds"], fromfile), ratio(c["seconds"], copy),
            f"{c['peak_mib'] - c['baseline_mib']:,.0f} MiB", mib(stores[name]) if name in stores else "-",
        ])
    reads: dict[str, float] = need(r, "cases", "reads", "extra")
    read_rows = [
        [f"one {what}", seconds(reads[f"{what} from Zarr"]), seconds(reads[f"{what} from IMG"]),
         ratio(reads[f"{what} from Zarr"], reads[f"{what} from IMG"])]
        for what in ("spectrum", "band")
    ]
    scale = need(r, "scale_out")
    one, two = cases["8 products, 1 worker"], cases["8 products, 2 workers"]
    shape = need(r, "shape")
    return [
        "## Conversion to Zarr",
        "",
        "`benchmarks/bench_zarr.py` converts the same TRDR to a Zarr v3 store with `xarray_crism.to_zarr` (2 threads; "
        "also with its SHA-256 checksums of the source) and with `rioxarray.open_rasterio(...).to_zarr(...)` (GDAL "
        "reading, with exactly the same chunks, shards and Blosc zstd compression), beside a raw copy of the file (the "
        "bound for writing) and `numpy.fromfile` (the bound for reading). Each case runs once, in its own Python "
        "process, so its time includes nothing cached by an earlier case in the process, and its peak memory "
        "(`ru_maxrss` above the level after importing xarray, dask and zarr) is its own. Ratios are to "
        "`numpy.fromfile` and to the raw copy. A second table reads one spectrum and one band from the store "
        f"(`xr.open_zarr`) and from the original file (`engine=\"crism\"`), best of {need(r, 'repeat')}; a third "
        f"converts {scale['products']} smaller products ({shape['bands']} x {scale['lines']} x {shape['samples']}) on a "
        "`distributed.LocalCluster` of one and of two single-threaded worker processes (cluster start included).",
        "",
        *table(["case", "time", "ratio to numpy.fromfile", "ratio to raw copy", "peak memory", "output size"], conversion),
        "",
        *table(["read", "from the Zarr store", "from the IMG", "ratio Zarr / IMG"], read_rows),
        "",
        *table(["scale-out", "time", "speed-up"], [
            ["1 worker process", seconds(one["seconds"]), "1.00x"],
            ["2 worker processes", seconds(two["seconds"]), f"{one['seconds'] / two['seconds']:.2f}x"],
        ]),
        "",
    ]


def summary_rows(res: dict[str, Results]) -> list[list[str]]:
    """The headline ratios: one row per benchmark question, readers as columns."""
    trdr: dict[str, dict[str, float]] = need(res["bench_trdr.py"], "seconds")
    rows = []
    for op in ("open", "full read", "one spectrum", "one band"):
        ref = trdr_reference(op, trdr)
        assert ref is not None
        row = [f"TRDR, {op}", f"{'GDAL open' if op == 'open' else 'numpy.fromfile'} ({seconds(ref)})"]
        for reader in ("xarray-crism", "GDAL", "pdr"):
            cell = ratio(trdr[op][reader], ref) if reader in trdr[op] else "-"
            row.append(cell + (" (whole cube)" if reader == "pdr" and op in PDR_WHOLE else ""))
        rows.append(row)
    mz: dict[str, float] = need(res["bench_mastcamz.py"], "seconds")
    bound = mz["numpy.fromfile (bound)"]
    n = need(res["bench_mastcamz.py"], "products")
    rows.append([f"{n} Mastcam-Z products, open + read (DN)", f"numpy.fromfile ({seconds(bound)})",
                 ratio(mz["xarray-crism, raw DN"], bound), ratio(mz["GDAL (rasterio), raw DN"], bound),
                 ratio(mz["pdr, raw DN"], bound)])
    rows.append([f"{n} Mastcam-Z products, scaled radiance", f"numpy.fromfile ({seconds(bound)})",
                 ratio(mz["xarray-crism, radiance (scaled, masked)"], bound), "-", ratio(mz["pdr, get_scaled"], bound)])
    z: dict[str, dict[str, Any]] = need(res["bench_zarr.py"], "cases")
    zf = z["numpy.fromfile"]["seconds"]
    rows.append(["TRDR to Zarr", f"numpy.fromfile ({seconds(zf)})", ratio(z["xarray-crism to_zarr"]["seconds"], zf),
                 ratio(z["rioxarray to_zarr"]["seconds"], zf) + " (rioxarray)", "-"])
    http: dict[str, dict[str, dict[str, Any]]] = need(res["bench_http.py"], "traffic")
    payload = http_payload(res["bench_http.py"])
    for op in ("one spectrum", "full read"):
        rows.append([f"TRDR over HTTP, {op}: bytes (requests)", f"values ({payload[op]:,} B)"] + [
            f"{ratio(http[op][reader]['bytes'], payload[op])} ({http[op][reader]['requests']:,})"
            for reader in ("xarray-crism", "GDAL")
        ] + ["-"])
    ix: dict[str, float] = need(res["bench_index.py"], "seconds")
    ref = ix["pandas.read_csv (untyped)"]
    rows.append([f"volume index, {need(res['bench_index.py'], 'rows'):,} rows", f"pandas.read_csv ({seconds(ref)})",
                 ratio(ix["xarray_crism.read_index (typed)"], ref), "-", "-"])
    return rows


# --------------------------------------------------------------------------- the page


def header_section(run: dict[str, Any], m: dict[str, Any]) -> list[str]:
    v: dict[str, str] = m["versions"]
    cores = f"{m['logical_cpus']} logical CPUs" + (f" ({m['physical_cores']} cores)" if m.get("physical_cores") else "")
    memory = f", {m['memory_gib']:.1f} GiB memory" if m.get("memory_gib") else ""
    libraries = [
        ["xarray-crism", v["xarray-crism"] + (f" (git commit `{m['commit']}`)" if m.get("commit") else "")],
        ["numpy", v["numpy"]], ["xarray", v["xarray"]], ["GDAL", f"{v['GDAL']} (rasterio {v['rasterio']}, "
                                                                 f"rioxarray {v['rioxarray']})"],
        ["pdr", v["pdr"]], ["zarr", v["zarr"]], ["dask", f"{v['dask']} (distributed {v['distributed']})"],
        ["pandas", v["pandas"]], ["fsspec", v["fsspec"]],
    ]
    warnings = []
    if run.get("quick"):
        warnings.append("**This is a quick run (one timed repeat per case): for testing the page, not for quoting.**")
    if busy(run, m):
        warnings.append(
            f"**The load average exceeded the machine's {m['logical_cpus']} CPUs before this run: other processes "
            "competed for them, so these numbers are noisy (a ratio below 1.00x to `numpy.fromfile` is noise). "
            "Rerun on an idle machine before quoting them.**"
        )
    return [
        "# Performance",
        "",
        "This page is written by one command, which runs every benchmark of `benchmarks/` on one machine, each in its "
        "own process, and builds the page from their raw results; nothing on it is edited by hand. To reproduce it:",
        "",
        "```sh",
        run["command"],
        "```",
        *[line for w in warnings for line in ("", w)],
        "",
        f"- date: {run['date']} (the whole run took {duration(run['total_seconds'])})",
        f"- machine: {m['cpu']}, {cores}{memory}; {m['platform']}",
        f"- load average (1, 5, 15 min) before the run: {run['load_before']}; after: {run['load_after']}",
        f"- Python {m['python']}",
        "",
        *table(["library", "version"], libraries),
        "",
        "Every time is a wall time (`time.perf_counter`). Unless a section says otherwise, each case runs once as a "
        "warm-up and is then timed several times, keeping the best, so the page cache is warm for every reader: the "
        "numbers measure the readers' own cost, not the disk. A ratio is a time divided by the time of the reference "
        "for the same operation on the same product on this machine, in general `numpy.fromfile` of the same bytes, "
        "which does no parsing and no decoding and is therefore a lower bound (GDAL's open for *open*): 1.00x "
        "means as fast as the reference, 2.00x twice as slow, below 1.00x faster. Every benchmark checks first that "
        "all readers return the same values, bit for bit, and stops otherwise. The machine was not reserved for the "
        "run (see the load average), so single numbers can be noisy; best-of-N reduces that but does not remove it.",
        "",
    ]


def busy(run: dict[str, Any], m: dict[str, Any]) -> bool:
    """Whether the 1-minute load average before the run exceeded the number of CPUs (after the run it
    also counts the benchmarks' own processes: the 2-worker Zarr case alone loads 2 CPUs)."""
    cpus = m.get("logical_cpus") or 1
    for key in ("load_before",):
        try:
            if float(str(run.get(key, "0")).split()[0]) > cpus:
                return True
        except (ValueError, IndexError):
            continue
    return False


def summary_section(res: dict[str, Results]) -> list[str]:
    return [
        "## Summary",
        "",
        "Ratios to the reference of each row (its time or size in parentheses); *whole cube*: pdr cannot read part of "
        "an image, so it reads all of it. The sections below give every number and what exactly is measured.",
        "",
        *table(["measurement", "reference", "xarray-crism", "GDAL", "pdr"], summary_rows(res)),
        "",
    ]


def render(res: dict[str, Results], run: dict[str, Any], m: dict[str, Any]) -> str:
    parts = [
        *header_section(run, m),
        *summary_section(res),
        *trdr_section(res["bench_trdr.py"]),
        *mastcamz_section(res["bench_mastcamz.py"]),
        *http_section(res["bench_http.py"]),
        *zarr_section(res["bench_zarr.py"]),
        *index_section(res["bench_index.py"]),
        "## Benchmark run times",
        "",
        *table(["benchmark", "script", "wall time"], [
            [b.what, f"`benchmarks/{b.script}`", duration(run["durations"][b.script]) if b.script in run["durations"] else "-"]
            for b in BENCHES
        ]),
        "",
    ]
    return "\n".join(parts).rstrip("\n") + "\n"


# --------------------------------------------------------------------------- main


def reproduce_command(args: argparse.Namespace) -> str:
    parts = ["python", "benchmarks/make_performance_page.py"]
    if args.quick:
        parts.append("--quick")
    elif args.repeat is not None:
        parts += ["--repeat", str(args.repeat)]
    out = args.out.resolve()
    if out != DEFAULT_OUT:
        parts += ["--out", str(out.relative_to(ROOT) if out.is_relative_to(ROOT) else out)]
    return " ".join(parts)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--repeat", type=int, help="timed repeats per case, for every benchmark (default: each one's own)")
    group.add_argument("--quick", action="store_true", help=f"--repeat {QUICK_REPEAT}: for testing this script")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="the page to write (default: docs/performance.md)")
    parser.add_argument("--results", type=Path, help="keep the benchmarks' results here (default: a temporary directory)")
    parser.add_argument("--no-run", action="store_true", help="build the page from the results already in --results")
    args = parser.parse_args(argv)
    if args.no_run and args.results is None:
        parser.error("--no-run needs --results DIR")
    if args.repeat is not None and args.repeat < 1:
        parser.error("--repeat must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    repeat = QUICK_REPEAT if args.quick else args.repeat
    with results_directory(args.results) as directory:
        if args.no_run:
            try:
                run = json.loads((directory / RUN_FILE).read_text(encoding="utf-8"))
            except (OSError, ValueError) as error:
                raise SystemExit(f"cannot read {directory / RUN_FILE} ({error})") from error
        else:
            start = time.perf_counter()
            run = {"command": reproduce_command(args), "quick": args.quick, "repeat": repeat, "machine": machine(),
                   "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "load_before": load_average()}
            run["durations"] = run_benchmarks(directory, repeat)
            run["total_seconds"] = time.perf_counter() - start
            run["load_after"] = load_average()
            (directory / RUN_FILE).write_text(json.dumps(run, indent=2) + "\n", encoding="utf-8")
        results = load_results(directory)
        page = render(results, run, run["machine"])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(page, encoding="utf-8")
    print(f"wrote {args.out} ({duration(run['total_seconds'])} of benchmarks)", file=sys.stderr)
    print("\n".join(["", *table(["measurement", "reference", "xarray-crism", "GDAL", "pdr"], summary_rows(results))]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
