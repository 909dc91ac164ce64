"""Benchmark the Zarr converter on the full-size TRDR of ``bench_trdr.py`` (438 x 480 x 320 float32, 257 MiB).

Each case runs in its own Python process, so its peak memory (``ru_maxrss``) is its own:

- conversion: a raw byte copy of the IMG (the bound for writing), ``numpy.fromfile`` (the bound
  for reading), ``xarray_crism.to_zarr`` (threads, 2 workers) and ``rioxarray.open_rasterio(...).to_zarr(...)``
  (GDAL reading; dask chunks, Zarr chunks, shards and Blosc zstd exactly as xarray-crism's);
- reads: one spectrum and one band from the converted store (``xr.open_zarr``) and from the IMG
  (``engine="crism"``), best of ``--repeat``;
- scale-out: 8 products (438 x 120 x 320 each) converted on a ``distributed.LocalCluster`` of 1 and of 2
  single-threaded worker processes.

    python benchmarks/bench_zarr.py [--repeat N] [--out DIR]

writes results_zarr.md and results_zarr.json (the raw seconds, memory and store sizes) in ``--out``.
"""

from __future__ import annotations

import argparse
import json
import platform
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

BANDS, LINES, SAMPLES = 438, 480, 320  # as bench_trdr.py (which imports GDAL and pdr: not in the children)
CUBE_BYTES = BANDS * LINES * SAMPLES * 4
DATA_DIR = HERE / "data"

SMALL_LINES, PRODUCTS = 120, 8


def peak_mib() -> float:
    """This process's peak resident memory so far."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --------------------------------------------------------------------------- cases (run in a child process)


def case_copy(label: Path, out: Path) -> None:
    shutil.copyfile(label.with_suffix(".img"), out / "copy.img")


def case_fromfile(label: Path, out: Path) -> None:
    np.fromfile(label.with_suffix(".img"), dtype="<f4")


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


def case_reads(label: Path, out: Path, repeat: int = 5) -> dict[str, float]:
    import xarray as xr

    store = xr.open_zarr(out / "crism.zarr")
    img = xr.open_dataset(label, engine="crism")
    reads = {
        "spectrum from Zarr": lambda: store.i_over_f.isel(line=240, sample=160).values,
        "spectrum from IMG": lambda: img.i_over_f.isel(line=240, sample=160).values,
        "band from Zarr": lambda: store.i_over_f.isel(band=200).values,
        "band from IMG": lambda: img.i_over_f.isel(band=200).values,
    }
    assert np.array_equal(reads["band from Zarr"](), reads["band from IMG"](), equal_nan=True)
    return {name: best_of(fn, repeat) for name, fn in reads.items()}


def case_scale(label: Path, out: Path, workers: int = 1) -> None:
    from distributed import Client, LocalCluster

    import xarray_crism

    sources = sorted((DATA_DIR / "many").glob("*.lbl"))
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        report = xarray_crism.to_zarr(sources, out / f"many{workers}.zarr", scheduler=client, checksums=False)
    assert report.ok and report.count("converted") == PRODUCTS, report.summary()


CASES: dict[str, Callable[[Path, Path], Any]] = {
    "raw copy": case_copy, "numpy.fromfile": case_fromfile, "xarray-crism to_zarr": case_crism,
    "xarray-crism to_zarr + SHA-256": case_crism_checksums, "rioxarray to_zarr": case_rioxarray,
    "reads": case_reads, "8 products, 1 worker": lambda lbl, out: case_scale(lbl, out, 1),
    "8 products, 2 workers": lambda lbl, out: case_scale(lbl, out, 2),
}


def best_of(fn: Any, repeat: int) -> float:
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def run_child(name: str, label: Path, out: Path, repeat: int = 5) -> None:
    """Run one case here and print its time and peak memory (beyond the imports) as JSON."""
    import dask.array  # noqa: F401 - the libraries every case uses, imported before the baseline
    import xarray  # noqa: F401
    import zarr  # noqa: F401

    before = peak_mib()
    t0 = time.perf_counter()
    extra = case_reads(label, out, repeat) if name == "reads" else CASES[name](label, out)
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


def report(results: dict[str, dict[str, Any]], out: Path, repeat: int = 5) -> str:
    copy = results["raw copy"]["seconds"]
    fromfile = results["numpy.fromfile"]["seconds"]
    cube_mib = CUBE_BYTES / 2**20
    lines = [
        "# Zarr conversion benchmark", "",
        f"Full-size TRDR: {BANDS} x {LINES} x {SAMPLES} float32 BIL ({cube_mib:.0f} MiB), warm page cache; each case in its "
        "own process; memory is that process's peak RSS (`ru_maxrss`) above its level after importing xarray, dask and "
        "zarr.", "",
        "| case | seconds | x raw copy | x numpy.fromfile | peak memory (MiB) | store size (MiB) |", "|---|---|---|---|---|---|",
    ]
    sizes = {"xarray-crism to_zarr": "crism.zarr", "rioxarray to_zarr": "rio.zarr", "raw copy": "copy.img"}
    for name in ("raw copy", "numpy.fromfile", "xarray-crism to_zarr", "xarray-crism to_zarr + SHA-256", "rioxarray to_zarr"):
        r = results[name]
        size = _size(out / sizes[name]) if name in sizes else "-"
        lines.append(f"| {name} | {r['seconds']:.2f} | {r['seconds'] / copy:.2f} | {r['seconds'] / fromfile:.2f} | "
                     f"{r['peak_mib'] - r['baseline_mib']:.0f} | {size} |")
    reads = results["reads"]["extra"]
    lines += ["", f"| read (best of {repeat}) | from the Zarr store | from the IMG (engine=\"crism\") | Zarr / IMG |",
              "|---|---|---|---|"]
    for what in ("spectrum", "band"):
        z, i = reads[f"{what} from Zarr"], reads[f"{what} from IMG"]
        lines.append(f"| one {what} | {z * 1000:.1f} ms | {i * 1000:.1f} ms | {z / i:.1f} |")
    one, two = results["8 products, 1 worker"], results["8 products, 2 workers"]
    lines += [
        "", f"| scale-out: {PRODUCTS} products of {BANDS} x {SMALL_LINES} x {SAMPLES} (cluster start included) | seconds | "
        "speed-up | peak memory of the client (MiB) |",
        "|---|---|---|---|",
        f"| 1 worker process | {one['seconds']:.2f} | 1.00 | {one['peak_mib'] - one['baseline_mib']:.0f} |",
        f"| 2 worker processes | {two['seconds']:.2f} | {one['seconds'] / two['seconds']:.2f} | "
        f"{two['peak_mib'] - two['baseline_mib']:.0f} |",
        "", f"Machine: {platform.machine()}, {platform.system()}, Python {platform.python_version()}.",
        "Reproduce: `python benchmarks/bench_zarr.py`.",
    ]
    return "\n".join(lines) + "\n"


def _size(path: Path) -> str:
    return f"{_bytes(path) / 2**20:.0f}"


def _bytes(path: Path) -> int:
    return path.stat().st_size if path.is_file() else sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def raw_results(results: dict[str, dict[str, Any]], out: Path, repeat: int) -> dict[str, Any]:
    """The raw numbers, for ``make_performance_page.py``: each case's seconds and memory, the stores' sizes."""
    stores = {"raw copy": "copy.img", "xarray-crism to_zarr": "crism.zarr", "rioxarray to_zarr": "rio.zarr"}
    return {
        "benchmark": "zarr",
        "shape": {"bands": BANDS, "lines": LINES, "samples": SAMPLES},
        "cube_bytes": CUBE_BYTES,
        "scale_out": {"products": PRODUCTS, "lines": SMALL_LINES},
        "repeat": repeat,
        "cases": results,
        "store_bytes": {name: _bytes(out / path) for name, path in stores.items()},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=HERE)
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
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        results = {name: measure(name, label, work, args.repeat) for name in CASES}
        text = report(results, work, args.repeat)
        raw = raw_results(results, work, args.repeat)
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results_zarr.md").write_text(text)
    (args.out / "results_zarr.json").write_text(json.dumps(raw, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
