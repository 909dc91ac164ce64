"""Benchmark xarray-crism against numpy, GDAL (rasterio) and pdr on a full-size CRISM TRDR.

Generates once (cached in ``benchmarks/data/``) a 438 x 480 x 320 float32 LINE_INTERLEAVED
PC_REAL I/F cube with a real TRDR label header, checks that every reader returns the same
values bit for bit, then times open / full read / one spectrum / one band (best of N after a
warm-up, so the page cache is warm for every reader) and writes a Markdown table.

    python benchmarks/bench_trdr.py [--repeat N] [--out DIR]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pdr
import rasterio
import xarray as xr
from rasterio.errors import NotGeoreferencedWarning
from rasterio.windows import Window

import xarray_crism
from xarray_crism.testing import write_cube

BANDS, LINES, SAMPLES = 438, 480, 320
SPECTRUM_LINE, SPECTRUM_SAMPLE = 240, 160
BAND = 200
SEED = 20240601
PRODUCT_ID = "HRL000040FF_07_IF183L_TRR3"
HERE = Path(__file__).resolve().parent
TEMPLATE = Path(__file__).resolve().parents[2] / "shared/corpus/crism/labels/hrl000040ff_07_if183l_trr3.lbl"
DATA_DIR = HERE / "data"
CUBE_BYTES = BANDS * LINES * SAMPLES * 4

READERS = ("numpy.fromfile", "xarray-crism", "GDAL", "pdr")
OPERATIONS = ("open", "full read", "full read (masked)", "one spectrum", "one band")
PDR_FULL_READ_NOTE = "pdr has no partial read: its one spectrum / one band times include reading the whole cube (*)."

Op = Callable[[], Any]
Cases = dict[str, dict[str, Op]]
Timings = dict[str, dict[str, float]]


@dataclass(frozen=True)
class Product:
    """The generated TRDR: its label and its IMG (cube at byte 0, BIL: line, band, sample)."""

    label: Path
    img: Path


# --------------------------------------------------------------------------- data


def ensure_product(directory: Path = DATA_DIR) -> Product:
    """The cached full-size TRDR, written on first use (the label is written last, so it marks completion)."""
    label = directory / f"{PRODUCT_ID.lower()}.lbl"
    img = directory / f"{PRODUCT_ID.lower()}.img"
    if label.is_file() and img.is_file() and img.stat().st_size >= CUBE_BYTES:
        return Product(label, img)
    directory.mkdir(parents=True, exist_ok=True)
    print(f"generating {img} ({CUBE_BYTES / 2**20:.0f} MiB) ...", file=sys.stderr)
    written = write_cube(
        directory, TEMPLATE, PRODUCT_ID, random_cube(),
        sample_type="PC_REAL", storage="LINE_INTERLEAVED", detector_rows=np.arange(BANDS),
    )
    return Product(written.label, written.label.with_name(img.name))


def random_cube() -> np.ndarray:
    """(band, line, sample) float32 values in [0, 0.5), from a fixed seed."""
    data = np.random.default_rng(SEED).random((BANDS, LINES, SAMPLES), dtype=np.float32)
    data *= np.float32(0.5)
    return data


# --------------------------------------------------------------------------- readers


def open_crism(label: Path, **kwargs: Any) -> xr.Dataset:
    return xr.open_dataset(label, engine="crism", **kwargs)


def crism_open_close(label: Path) -> None:
    open_crism(label).close()


def crism_values(label: Path, **kwargs: Any) -> np.ndarray:
    """Open, read the whole I/F cube into memory, close."""
    with open_crism(label, **kwargs) as ds:
        values: np.ndarray = ds.i_over_f.values
    return values


def numpy_cases(p: Product) -> dict[str, Op]:
    line_bytes = BANDS * SAMPLES * 4

    def spectrum() -> np.ndarray:
        frame = np.fromfile(p.img, dtype="<f4", count=BANDS * SAMPLES, offset=SPECTRUM_LINE * line_bytes)
        return frame.reshape(BANDS, SAMPLES)[:, SPECTRUM_SAMPLE]

    def band() -> np.ndarray:
        cube = np.memmap(p.img, dtype="<f4", mode="r", shape=(LINES, BANDS, SAMPLES))
        return np.array(cube[:, BAND, :])

    return {
        "full read": lambda: np.fromfile(p.img, dtype="<f4", count=BANDS * LINES * SAMPLES),
        "one spectrum": spectrum,
        "one band": band,
    }


def crism_cases(p: Product, ds: xr.Dataset) -> dict[str, Op]:
    """``ds`` is opened once outside the timed region and never fully loaded (it would cache)."""
    return {
        "open": lambda: crism_open_close(p.label),
        "full read": lambda: crism_values(p.label, mask_and_scale=False),
        "full read (masked)": lambda: crism_values(p.label),
        "one spectrum": lambda: ds.i_over_f.isel(line=SPECTRUM_LINE, sample=SPECTRUM_SAMPLE).values,
        "one band": lambda: ds.i_over_f.isel(band=BAND).values,
    }


def gdal_cases(p: Product, src: Any) -> dict[str, Op]:
    """``src`` is an already-open rasterio dataset, used for the partial reads."""

    def open_close() -> None:
        with rasterio.open(p.label):
            pass

    def full() -> np.ndarray:
        with rasterio.open(p.label) as s:
            data: np.ndarray = s.read()
        return data

    return {
        "open": open_close,
        "full read": full,
        "one spectrum": lambda: src.read(window=Window(SPECTRUM_SAMPLE, SPECTRUM_LINE, 1, 1)),
        "one band": lambda: src.read(BAND + 1),
    }


def pdr_cases(p: Product) -> dict[str, Op]:
    label = str(p.label)
    return {
        "open": lambda: pdr.read(label),
        "full read": lambda: pdr.read(label)["IMAGE"],
        "one spectrum": lambda: pdr.read(label)["IMAGE"][:, SPECTRUM_LINE, SPECTRUM_SAMPLE],
        "one band": lambda: pdr.read(label)["IMAGE"][BAND],
    }


def build_cases(p: Product, ds: xr.Dataset, src: Any) -> Cases:
    """operation -> reader -> callable."""
    by_reader = {
        "numpy.fromfile": numpy_cases(p),
        "xarray-crism": crism_cases(p, ds),
        "GDAL": gdal_cases(p, src),
        "pdr": pdr_cases(p),
    }
    return {op: {r: cases[op] for r, cases in by_reader.items() if op in cases} for op in OPERATIONS}


# --------------------------------------------------------------------------- verification


def file_order_to_cube(flat: np.ndarray) -> np.ndarray:
    """numpy's flat full read (file order: line, band, sample) as (band, line, sample)."""
    return flat.reshape(LINES, BANDS, SAMPLES).transpose(1, 0, 2)


def normalise(reader: str, op: str, got: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Undo the documented shape differences only: numpy's flat full read, GDAL's (band, 1, 1) window."""
    if reader == "numpy.fromfile" and op == "full read":
        return file_order_to_cube(got)
    if reader == "GDAL" and op == "one spectrum" and got.size == np.prod(shape):
        return got.reshape(shape)
    return got


def verify(cases: Cases) -> None:
    """Every read returns exactly the generated values (same dtype, bit for bit); abort otherwise."""
    reference = file_order_to_cube(cases["full read"]["numpy.fromfile"]())
    if not np.array_equal(reference, random_cube()):
        sys.exit(f"verification failed: the cached IMG does not hold the seeded cube; delete {DATA_DIR}")
    expected = {
        "full read": reference,
        "full read (masked)": reference,
        "one spectrum": reference[:, SPECTRUM_LINE, SPECTRUM_SAMPLE],
        "one band": reference[BAND],
    }
    for op, want in expected.items():
        for reader, fn in cases[op].items():
            got = normalise(reader, op, np.asarray(fn()), want.shape)
            if got.dtype != want.dtype or got.shape != want.shape or not np.array_equal(got, want):
                sys.exit(f"verification failed: {reader} {op}: {got.dtype}{got.shape} differs from the written cube")
    print("verified: all readers return identical values (bit for bit)", file=sys.stderr)


def open_warnings(label: Path) -> list[str]:
    """Warnings emitted by ``xr.open_dataset(label, engine="crism")``, as text."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        open_crism(label).close()
    return [f"{w.category.__name__}: {w.message}" for w in caught]


# --------------------------------------------------------------------------- timing


def best_of(fn: Op, repeat: int) -> float:
    """Minimum wall time of ``repeat`` calls after one warm-up call."""
    fn()
    times = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def time_all(cases: Cases, repeat: int) -> Timings:
    timings: Timings = {}
    for op, readers in cases.items():
        timings[op] = {}
        for reader, fn in readers.items():
            timings[op][reader] = best_of(fn, repeat)
            print(f"  {op:<20} {reader:<15} {timings[op][reader]:.6f} s", file=sys.stderr)
    return timings


# --------------------------------------------------------------------------- report


def baseline(op: str, row: dict[str, float], timings: Timings) -> float | None:
    """What ratios are relative to: GDAL's open for "open", numpy's full read for the masked read."""
    if op == "open":
        return row.get("GDAL")
    if op == "full read (masked)":
        return timings["full read"].get("numpy.fromfile")
    return row.get("numpy.fromfile")


def cell(op: str, reader: str, row: dict[str, float], base: float | None) -> str:
    if reader not in row:
        return "-"
    text = f"{row[reader]:.6f}"
    if reader != "numpy.fromfile" and base:
        text += f" ({row[reader] / base:.2f}x)"
    if reader == "pdr" and op in ("one spectrum", "one band"):
        text += " *"
    return text


def markdown_table(timings: Timings) -> str:
    titles = [f"{r} s" if r == "numpy.fromfile" else f"{r} s (ratio)" for r in READERS]
    header = "| operation | " + " | ".join(titles) + " |"
    lines = [header, "|" + "---|" * (len(READERS) + 1)]
    for op, row in timings.items():
        base = baseline(op, row, timings)
        lines.append(f"| {op} | " + " | ".join(cell(op, r, row, base) for r in READERS) + " |")
    return "\n".join(lines)


def target_lines(t: Timings) -> list[str]:
    ours = "xarray-crism"
    checks = [
        ("open no slower than GDAL's open", t["open"][ours], t["open"]["GDAL"], 1.0),
        ("one spectrum faster than GDAL's", t["one spectrum"][ours], t["one spectrum"]["GDAL"], 1.0),
        ("full read within 1.2x of numpy.fromfile", t["full read"][ours], t["full read"]["numpy.fromfile"], 1.2),
        ("(extra) full read with default masking within 1.2x of numpy.fromfile", t["full read (masked)"][ours],
         t["full read"]["numpy.fromfile"], 1.2),
    ]
    out = []
    for name, value, ref, limit in checks:
        ratio = value / ref
        status = "met" if ratio <= limit else "MISSED"
        out.append(f"- {name}: {status} ({value:.6f} s vs {ref:.6f} s, ratio {ratio:.2f}, target <= {limit:g})")
    return out


def environment_lines() -> list[str]:
    return [
        f"- machine: {platform.platform()} ({platform.machine()}), {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}",
        f"- xarray-crism {xarray_crism.__version__}, xarray {xr.__version__}, numpy {np.__version__}, "
        f"rasterio {rasterio.__version__} (GDAL {rasterio.__gdal_version__}), pdr {pdr.__version__}",
    ]


def report(timings: Timings, repeat: int, notes: list[str]) -> str:
    parts = [
        "# CRISM TRDR read benchmark",
        "",
        f"{BANDS} bands x {LINES} lines x {SAMPLES} samples float32, LINE_INTERLEAVED PC_REAL "
        f"({CUBE_BYTES / 2**20:.0f} MiB); best of {repeat} after one warm-up (warm page cache); seconds.",
        "",
        *environment_lines(),
        "",
        markdown_table(timings),
        "",
        "Ratios are to numpy.fromfile of the same operation (the masked full read: to numpy's full read), "
        "except for **open**, where they are to GDAL's open (numpy has nothing to open).",
        f"{PDR_FULL_READ_NOTE} GDAL and xarray-crism partial reads use an already-open dataset.",
        "",
        "Targets:",
        "",
        *target_lines(timings),
    ]
    if notes:
        parts += ["", "Notes:", "", *notes]
    return "\n".join(parts) + "\n"


def raw_results(timings: Timings, repeat: int, notes: list[str]) -> dict[str, Any]:
    """The raw numbers, for ``make_performance_page.py``: seconds per operation and reader (best of ``repeat``)."""
    return {
        "benchmark": "trdr",
        "shape": {"bands": BANDS, "lines": LINES, "samples": SAMPLES},
        "cube_bytes": CUBE_BYTES,
        "spectrum": {"line": SPECTRUM_LINE, "sample": SPECTRUM_SAMPLE},
        "band": BAND,
        "repeat": repeat,
        "seconds": timings,
        "notes": notes,
    }


# --------------------------------------------------------------------------- main


@contextmanager
def open_readers(p: Product) -> Iterator[tuple[xr.Dataset, Any]]:
    """The datasets the partial reads use, opened outside the timed region."""
    with open_crism(p.label) as ds, rasterio.open(p.label) as src:
        yield ds, src


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeat", type=int, default=5, help="timed repeats per case; the best is kept")
    parser.add_argument("--out", type=Path, default=HERE, help="directory for results.md and results.json (default: benchmarks/)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    warnings.simplefilter("ignore", NotGeoreferencedWarning)
    product = ensure_product()
    notes = [f"- xr.open_dataset warned: {w}" for w in open_warnings(product.label)]
    with open_readers(product) as (ds, src):
        cases = build_cases(product, ds, src)
        verify(cases)
        timings = time_all(cases, args.repeat)
    text = report(timings, args.repeat, notes)
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.md").write_text(text, encoding="utf-8")
    raw = raw_results(timings, args.repeat, notes)
    (args.out / "results.json").write_text(json.dumps(raw, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
