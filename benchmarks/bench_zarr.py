"""Benchmark the Zarr converter on the full-size TRDR of ``bench_trdr.py`` (438 x 480 x 320 float32, 257 MiB).

Each case runs in its own Python process, so its peak memory (``VmHWM``, reset after the imports) is its own:

- conversion: a raw byte copy of the IMG (the bound for writing), ``numpy.fromfile`` (the bound
  for reading), ``hashlib.sha256`` of the IMG (the checksum's own cost), ``xarray_crism.to_zarr``
  (threads, 2 workers) and ``rioxarray.open_rasterio(...).to_zarr(...)``
  (GDAL reading; dask chunks, Zarr chunks, shards and Blosc zstd exactly as xarray-crism's);
- layouts: the TRDR converted in every chunk layout (``to_zarr(chunks=...)``), then one spectrum, one
  band, 5 bands, a 64 x 64 window and the full cube read from each store and from the IMG, interleaved;
- scale-out: 8 products (438 x 120 x 320 each) converted on a ``distributed.LocalCluster`` of 1 and of 2
  single-threaded worker processes.

    python benchmarks/bench_zarr.py [--repeat N] [--out DIR]

writes its section of the performance page, ``zarr.json`` and ``zarr.md``, in ``--out`` (see ``benchkit.py``).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from benchkit import load, ratio, seconds, target, write_section  # noqa: E402

BANDS, LINES, SAMPLES = 438, 480, 320  # as bench_trdr.py (which imports GDAL and pdr: not in the children)
CUBE_BYTES = BANDS * LINES * SAMPLES * 4
DATA_DIR = HERE / "data"

SMALL_LINES, PRODUCTS = 120, 8


def reset_peak() -> float:
    """Reset this process's peak resident memory to its current size (Linux ``clear_refs``); that size, in MiB.

    ``ru_maxrss`` alone is inherited across fork and exec (the parent's size at the fork), which hid
    the memory of small cases; the peak is therefore reset after the imports and read from ``VmHWM``."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")
    return _status_mib("VmRSS")


def peak_mib() -> float:
    """This process's peak resident memory since :func:`reset_peak`, in MiB."""
    found = _status_mib("VmHWM")
    return found if found else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _status_mib(field: str) -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


# --------------------------------------------------------------------------- cases (run in a child process)


def case_copy(label: Path, out: Path) -> None:
    shutil.copyfile(label.with_suffix(".img"), out / "copy.img")


def case_fromfile(label: Path, out: Path) -> None:
    np.fromfile(label.with_suffix(".img"), dtype="<f4")


def case_sha256(label: Path, out: Path) -> None:
    digest = hashlib.sha256()
    with open(label.with_suffix(".img"), "rb") as f:
        while block := f.read(8 * 2**20):
            digest.update(block)


def case_crism(label: Path, out: Path) -> None:
    import xarray_crism

    report = xarray_crism.to_zarr(label, out / "crism.zarr", workers=2, checksums=False)
    assert report.ok, report.summary()


def case_crism_checksums(label: Path, out: Path) -> None:
    import xarray_crism

    assert xarray_crism.to_zarr(label, out / "crism_sha.zarr", workers=2).ok


def case_rioxarray(label: Path, out: Path) -> None:
    import dask
    import rioxarray
    from zarr.codecs import BloscCodec

    from xarray_crism.cloud.zarr_layout import COMPRESSOR, build_chunking

    chunking = build_chunking(("band", "y", "x"), (BANDS, LINES, SAMPLES), 4)
    assert chunking.shards is not None
    da = rioxarray.open_rasterio(label, chunks=dict(zip(("band", "y", "x"), chunking.shards, strict=True)))
    encoding = {"i_over_f": {"chunks": chunking.chunks, "shards": chunking.shards,
                             "compressors": [BloscCodec(**COMPRESSOR, typesize=4)]}}
    with dask.config.set(scheduler="threads", num_workers=2):
        da.to_dataset(name="i_over_f").to_zarr(out / "rio.zarr", zarr_format=3, consolidated=True, encoding=encoding)


READS: dict[str, dict[str, Any]] = {
    "one spectrum": {"line": 240, "sample": 160},
    "one band": {"band": 200},
    "5 bands": {"band": [10, 100, 200, 300, 400]},
    "64 x 64 window": {"line": slice(200, 264), "sample": slice(100, 164)},
    "full read": {},
}


#: Layouts measured beside the presets (not offered by to_zarr): the default before this one.
COMPARED_LAYOUTS = {"balanced64": (64, 2**20, "64 bands x 64 x 64: the default before")}


def read_cases(ds: Any) -> dict[str, Callable[[], Any]]:
    return {what: (lambda sel=sel: ds.i_over_f.isel(sel).values) for what, sel in READS.items()}


def case_reads(label: Path, out: Path, repeat: int = 5) -> dict[str, Any]:
    """Convert the TRDR in every layout, then read from each store and from the IMG, all interleaved."""
    import xarray as xr
    from benchkit import interleaved

    import xarray_crism
    from xarray_crism.cloud.zarr_layout import LAYOUTS, Layout

    LAYOUTS.update({name: Layout(*preset) for name, preset in COMPARED_LAYOUTS.items()})  # this process only
    sources = {"IMG (engine=\"crism\")": xr.open_dataset(label, engine="crism")}
    convert_seconds = {}
    for layout in LAYOUTS:
        t0 = time.perf_counter()
        assert xarray_crism.to_zarr(label, out / f"{layout}.zarr", workers=2, checksums=False, chunks=layout).ok
        convert_seconds[layout] = time.perf_counter() - t0
        sources[layout] = xr.open_zarr(out / f"{layout}.zarr")
    for what, sel in READS.items():
        want = sources["IMG (engine=\"crism\")"].i_over_f.isel(sel).values
        assert all(np.array_equal(ds.i_over_f.isel(sel).values, want, equal_nan=True) for ds in sources.values()), what
    times = {what: interleaved({name: read_cases(ds)[what] for name, ds in sources.items()}, repeat) for what in READS}
    return {"seconds": times, "convert_seconds": convert_seconds,
            "store_bytes": {layout: _bytes(out / f"{layout}.zarr") for layout in LAYOUTS},
            "chunks": {layout: list(sources[layout].i_over_f.encoding["chunks"]) for layout in LAYOUTS}}


def case_scale(label: Path, out: Path, workers: int = 1) -> None:
    from distributed import Client, LocalCluster

    import xarray_crism

    sources = sorted((DATA_DIR / "many").glob("*.lbl"))
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        report = xarray_crism.to_zarr(sources, out / f"many{workers}.zarr", scheduler=client, checksums=False)
    assert report.ok and report.count("converted") == PRODUCTS, report.summary()


CASES: dict[str, Callable[[Path, Path], Any]] = {
    "raw copy": case_copy, "numpy.fromfile": case_fromfile, "SHA-256 of the IMG (hashlib)": case_sha256,
    "xarray-crism to_zarr": case_crism,
    "xarray-crism to_zarr + SHA-256": case_crism_checksums, "rioxarray to_zarr": case_rioxarray,
    "layouts": case_reads, "8 products, 1 worker": lambda lbl, out: case_scale(lbl, out, 1),
    "8 products, 2 workers": lambda lbl, out: case_scale(lbl, out, 2),
}


def run_child(name: str, label: Path, out: Path, repeat: int = 5) -> None:
    """Run one case here and print its time and peak memory (beyond the imports) as JSON."""
    import dask.array  # noqa: F401 - the libraries every case uses, imported before the baseline
    import xarray  # noqa: F401
    import zarr  # noqa: F401

    before = reset_peak()
    t0 = time.perf_counter()
    extra = case_reads(label, out, repeat) if name in ("reads", "layouts") else CASES[name](label, out)
    seconds = time.perf_counter() - t0
    print(json.dumps({"seconds": seconds, "peak_mib": peak_mib(), "baseline_mib": before, "extra": extra}))


# --------------------------------------------------------------------------- orchestration


def ensure_many() -> None:
    """8 smaller TRDRs (438 x 120 x 320 each) for the scale-out case, generated once."""
    from bench_trdr import TEMPLATE

    from xarray_crism.testing import write_cube

    many = DATA_DIR / "many"
    if len(list(many.glob("*.lbl"))) == PRODUCTS:
        return
    many.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(8)
    for i in range(PRODUCTS):
        cube = rng.random((BANDS, SMALL_LINES, SAMPLES), dtype=np.float32)
        write_cube(many, TEMPLATE, f"HRL0000{i:04X}_07_IF183L_TRR3", cube, detector_rows=np.arange(BANDS))


def measure(name: str, label: Path, out: Path, repeat: int = 5) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", name, "--label", str(label), "--work", str(out), "--repeat", str(repeat)]
    run = subprocess.run(command, capture_output=True, text=True)
    if run.returncode:
        raise SystemExit(f"{name} failed:\n{run.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(run.stdout.strip().splitlines()[-1])
    return result


CONVERSIONS = ("raw copy", "numpy.fromfile", "SHA-256 of the IMG (hashlib)", "xarray-crism to_zarr",
               "xarray-crism to_zarr + SHA-256", "rioxarray to_zarr")


def check_memory_column(results: dict[str, dict[str, Any]]) -> None:
    """The peak of ``numpy.fromfile`` must be its cube: a memory column that misses it measures nothing."""
    fromfile = results["numpy.fromfile"]
    if fromfile["peak_mib"] - fromfile["baseline_mib"] < 0.95 * CUBE_BYTES / 2**20:
        raise SystemExit(f"peak memory not measured: numpy.fromfile of {CUBE_BYTES / 2**20:.0f} MiB peaked at "
                         f"{fromfile['peak_mib'] - fromfile['baseline_mib']:.0f} MiB above its baseline")


def conversion_rows(results: dict[str, dict[str, Any]], out: Path) -> list[list[str]]:
    check_memory_column(results)
    copy, fromfile = results["raw copy"]["seconds"], results["numpy.fromfile"]["seconds"]
    sizes = {"xarray-crism to_zarr": "crism.zarr", "rioxarray to_zarr": "rio.zarr", "raw copy": "copy.img"}
    return [
        [name, seconds(r["seconds"]), ratio(r["seconds"], fromfile), ratio(r["seconds"], copy),
         f"{r['peak_mib'] - r['baseline_mib']:.0f} MiB", f"{_size(out / sizes[name])} MiB" if name in sizes else "-"]
        for name, r in ((n, results[n]) for n in CONVERSIONS)
    ]


def layout_rows(layouts: dict[str, Any]) -> list[list[str]]:
    t = layouts["seconds"]
    rows = []
    for source in t["full read"]:
        full = t["full read"][source]["best"]
        chunks = " x ".join(map(str, layouts["chunks"][source])) if source in layouts["chunks"] else "(the file)"
        size = f"{layouts['store_bytes'][source] / 2**20:.0f} MiB" if source in layouts["store_bytes"] else "-"
        cells = [f"{seconds(t[w][source]['best'])} ({t[w][source]['best'] / full:.1%})" for w in READS if w != "full read"]
        rows.append([source, chunks, size, *cells, seconds(full)])
    return rows


def build_section(results: dict[str, dict[str, Any]], out: Path, repeat: int, before: list[float]) -> dict[str, Any]:
    layouts = results["layouts"]["extra"]
    t = layouts["seconds"]
    one, two = results["8 products, 1 worker"], results["8 products, 2 workers"]
    default = "balanced"
    text = (
        f"`benchmarks/bench_zarr.py` converts the TRDR of `bench_trdr.py` ({BANDS} x {LINES} x {SAMPLES} float32, "
        f"{CUBE_BYTES / 2**20:.0f} MiB) to Zarr v3 with `xarray_crism.to_zarr` (2 threads; also with its SHA-256 "
        "checksums of the source) and with `rioxarray.open_rasterio(...).to_zarr(...)` (GDAL reading, same chunks, "
        "shards and Blosc zstd), beside a raw copy of the file, `numpy.fromfile` and `hashlib.sha256` of the file (what the "
        "checksums cost; the converter hashes the bytes it reads for the conversion). Each case runs once in its own "
        "process; its peak memory is the process's peak resident size (`VmHWM`, reset after the imports) above its "
        "size then. The second table converts the TRDR in each chunk layout (`to_zarr(chunks=...)`; `balanced64`: the "
        "default before, 64 bands x 64 x 64) and reads one "
        "spectrum, one band, 5 bands, a 64 x 64 window of all bands and the whole cube from each store and from the "
        f"IMG, interleaved, best of {repeat} (percentages: of the same source's full read). The third converts "
        f"{PRODUCTS} products ({BANDS} x {SMALL_LINES} x {SAMPLES}) on a `distributed.LocalCluster` of 1 and 2 "
        "single-threaded workers (cluster start included)."
    )
    return {
        "benchmark": "zarr", "title": "Conversion to Zarr, and reading the stores", "text": text, "load": before,
        "tables": [
            {"header": ["case", "time", "ratio to numpy.fromfile", "ratio to raw copy", "peak memory", "output size"],
             "rows": conversion_rows(results, out)},
            {"header": ["source", "chunks", "size", *[w for w in READS if w != "full read"], "full read"],
             "rows": layout_rows(layouts)},
            {"header": ["scale-out", "time", "speed-up"], "rows": [
                ["1 worker process", seconds(one["seconds"]), "1.00x"],
                ["2 worker processes", seconds(two["seconds"]), ratio(one["seconds"], two["seconds"])]]},
        ],
        "targets": [
            target(f"one band from the store ({default}) <= 10% of its full read", t["one band"][default]["best"],
                   t["full read"][default]["best"], 0.10),
            target(f"one spectrum from the store ({default}) <= 5% of its full read", t["one spectrum"][default]["best"],
                   t["full read"][default]["best"], 0.05),
        ],
        "raw": {"cases": results, "repeat": repeat},
    }


def _size(path: Path) -> str:
    return f"{_bytes(path) / 2**20:.0f}"


def _bytes(path: Path) -> int:
    return path.stat().st_size if path.is_file() else sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=HERE / "results")
    parser.add_argument("--only", action="append", help="run only these cases and print their raw results")
    parser.add_argument("--repeat", type=int, default=5, help="timed repeats of each read (best kept)")
    parser.add_argument("--child")
    parser.add_argument("--label", type=Path)
    parser.add_argument("--work", type=Path)
    args = parser.parse_args(argv)
    if args.child:
        run_child(args.child, args.label, args.work, args.repeat)
        return 0
    from bench_trdr import ensure_product

    label = ensure_product().label
    ensure_many()
    before = load()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        results = {name: measure(name, label, work, args.repeat) for name in (args.only or CASES)}
        if args.only:
            print(json.dumps(results, indent=2))
            return 0
        section = build_section(results, work, args.repeat, before)
    write_section(args.out, section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
