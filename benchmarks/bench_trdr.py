"""Benchmark xarray-crism against numpy, GDAL (rasterio) and pdr on a full-size CRISM TRDR.

Generates once (cached in ``benchmarks/data/``) a 438 x 480 x 320 float32 LINE_INTERLEAVED
PC_REAL I/F cube with a real TRDR label header, checks that every reader returns the same
values bit for bit, then times open / full read / one spectrum / one band (best of N after a
warm-up, so the page cache is warm for every reader), the readers of one operation interleaved,
and writes its section of the performance page (``trdr.json``, ``trdr.md``; see ``benchkit.py``).

    python benchmarks/bench_trdr.py [--repeat N] [--out DIR]
"""

from __future__ import annotations

import argparse
import itertools
import sys
import tracemalloc
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dask.array as da
import numpy as np
import pdr
import rasterio
import xarray as xr
from dask.local import get_sync
from rasterio.errors import NotGeoreferencedWarning
from rasterio.windows import Window

from xarray_crism.testing import write_cube

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchkit import interleaved, load, ratio, seconds, target, write_section

BANDS, LINES, SAMPLES = 438, 480, 320
SPECTRUM_LINE, SPECTRUM_SAMPLE = 240, 160
BAND = 200
FILL = 65535.0
SEED = 20240601
PRODUCT_ID = "HRL000040FF_07_IF183L_TRR3"
HERE = Path(__file__).resolve().parent
TEMPLATE = Path(__file__).resolve().parents[2] / "shared/corpus/crism/labels/hrl000040ff_07_if183l_trr3.lbl"
DATA_DIR = HERE / "data"
CUBE_BYTES = BANDS * LINES * SAMPLES * 4

WINDOW = (slice(200, 264), slice(100, 164))  # lines, samples: 64 x 64
BAND_LIST = [10, 100, 200, 300, 400]

Op = Callable[[], Any]


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
    if label.is_file() and img.is_file() and img.stat().st_size >= CUBE_BYTES and _has_fill(img):
        return Product(label, img)
    directory.mkdir(parents=True, exist_ok=True)
    print(f"generating {img} ({CUBE_BYTES / 2**20:.0f} MiB) ...", file=sys.stderr)
    written = write_cube(
        directory, TEMPLATE, PRODUCT_ID, random_cube(),
        sample_type="PC_REAL", storage="LINE_INTERLEAVED", detector_rows=np.arange(BANDS),
    )
    return Product(written.label, written.label.with_name(img.name))


def _has_fill(img: Path) -> bool:
    """Whether the cached IMG is of this version (with the fill columns)."""
    return bool(np.fromfile(img, dtype="<f4", count=1)[0] == FILL)


def random_cube() -> np.ndarray:
    """(band, line, sample) float32 values in [0, 0.5) from a fixed seed; the first two samples of each line are 65535."""
    data = np.random.default_rng(SEED).random((BANDS, LINES, SAMPLES), dtype=np.float32)
    data *= np.float32(0.5)
    data[:, :, :2] = FILL  # non-scene columns, as in a real TRDR
    return data


# --------------------------------------------------------------------------- readers


def open_crism(label: Path, **kwargs: Any) -> xr.Dataset:
    return xr.open_dataset(label, engine="crism", **kwargs)


def crism_values(label: Path, **kwargs: Any) -> np.ndarray:
    """Open, read the whole I/F cube into memory, close."""
    with open_crism(label, **kwargs) as ds:
        values: np.ndarray = ds.i_over_f.values
    return values


def gdal_full(label: Path) -> np.ndarray:
    with rasterio.open(label) as s:
        data: np.ndarray = s.read()
    return data


def gdal_open_close(label: Path) -> None:
    with rasterio.open(label):
        pass


def memmap(p: Product) -> np.ndarray:
    """The file as (line, band, sample), mapped."""
    return np.memmap(p.img, dtype="<f4", mode="r", shape=(LINES, BANDS, SAMPLES))


def dask_raw(p: Product, chunks: tuple[int, ...]) -> Any:
    """The I/F cube as dask chunks of ``chunks``, not masked (``mask_and_scale=False``; opened lazily)."""
    ds = open_crism(p.label, mask_and_scale=False, chunks=dict(zip(("band", "line", "sample"), chunks, strict=True)))
    return ds.i_over_f.data


def each_band(read: Callable[[int], Any]) -> Op:
    """``read(band)`` of band ``BAND`` on the first call, then of the next band on each call (cycling)."""
    bands = itertools.cycle([*range(BAND, BANDS), *range(BAND)])
    return lambda: read(next(bands))


def each_list(read: Callable[[list[int]], Any]) -> Op:
    """``read(bands)`` of ``BAND_LIST`` on the first call, then of the list shifted by one band more on each call."""
    shifts = itertools.count()
    return lambda: read([(b + next_shift) % BANDS for next_shift in [next(shifts)] for b in BAND_LIST])


def chunk_task(chunk: Any) -> np.ndarray:
    """What dask runs for one chunk (its tasks, synchronously), without ``compute``'s optimisation and final copy."""
    (found,) = get_sync(chunk.__dask_graph__(), chunk.__dask_keys__())
    values: np.ndarray = found[0][0]
    return values


def fromfile_line(p: Product, line: int) -> np.ndarray:
    frame = np.fromfile(p.img, dtype="<f4", count=BANDS * SAMPLES, offset=line * BANDS * SAMPLES * 4)
    return frame.reshape(BANDS, SAMPLES)


def groups(p: Product, ds: xr.Dataset, dask_ds: xr.Dataset, src: Any) -> dict[str, dict[str, Op]]:
    """operation -> {reader: callable}; the first reader of each operation is its bound.

    ``ds``, ``dask_ds`` and ``src`` are opened outside the timed region and never fully loaded (it would cache)."""
    lines, samples = WINDOW
    chunk = dask_ds.i_over_f.data.blocks[0, 0, 0]
    chunk_values = chunk.shape[0] * chunk.shape[1] * chunk.shape[2]
    raw_chunk = dask_raw(p, chunk.shape).blocks[0, 0, 0]
    memmap_chunk = da.from_array(memmap(p).transpose(1, 0, 2), chunks=chunk.shape).blocks[0, 0, 0]
    gdal_window = Window(samples.start, lines.start, samples.stop - samples.start, lines.stop - lines.start)
    return {
        "open": {"GDAL": lambda: gdal_open_close(p.label), "xarray-crism": lambda: open_crism(p.label).close(),
                 "pdr": lambda: pdr.read(str(p.label))},
        "full read": {
            "numpy.fromfile": lambda: np.fromfile(p.img, dtype="<f4", count=BANDS * LINES * SAMPLES),
            "xarray-crism (raw)": lambda: crism_values(p.label, mask_and_scale=False),
            "xarray-crism (masked, the default)": lambda: crism_values(p.label),
            "xarray-crism (masked, dask chunks)": lambda: crism_values(p.label, chunks={}),
            "GDAL": lambda: gdal_full(p.label),
            "pdr": lambda: pdr.read(str(p.label))["IMAGE"],
        },
        "one dask chunk (masked)": {
            "numpy.fromfile": lambda: np.fromfile(p.img, dtype="<f4", count=chunk_values),
            "xarray-crism": chunk.compute,
            "xarray-crism, its task alone": lambda: chunk_task(chunk),
            "xarray-crism, raw": raw_chunk.compute,
            "dask over numpy.memmap (dask's floor)": memmap_chunk.compute,
        },
        "one spectrum": {
            "numpy.fromfile": lambda: fromfile_line(p, SPECTRUM_LINE)[:, SPECTRUM_SAMPLE],
            "xarray-crism": lambda: ds.i_over_f.isel(line=SPECTRUM_LINE, sample=SPECTRUM_SAMPLE).values,
            "GDAL": lambda: src.read(window=Window(SPECTRUM_SAMPLE, SPECTRUM_LINE, 1, 1))[:, 0, 0],
        },
        "one band": {  # each call another band (BAND first): GDAL would answer a band read before from its block cache
            "numpy.memmap": each_band(lambda b: np.array(memmap(p)[:, b, :])),
            "xarray-crism": each_band(lambda b: ds.i_over_f.isel(band=b).values),
            "GDAL": each_band(lambda b: src.read(b + 1)),
        },
        "64 x 64 window, all bands": {
            "numpy.memmap": lambda: np.array(memmap(p)[lines, :, samples].transpose(1, 0, 2)),
            "xarray-crism": lambda: ds.i_over_f.isel(line=lines, sample=samples).values,
            "GDAL": lambda: src.read(window=gdal_window),
        },
        "5 bands as one list": {  # each call the list shifted by one band (BAND_LIST first), as for one band
            "numpy.memmap": each_list(lambda bs: np.array(memmap(p)[:, bs, :].transpose(1, 0, 2))),
            "xarray-crism, one list": each_list(lambda bs: ds.i_over_f.isel(band=bs).values),
            "xarray-crism, 5 single bands": each_list(lambda bs: np.stack([ds.i_over_f.isel(band=b).values for b in bs])),
            "GDAL": each_list(lambda bs: src.read([b + 1 for b in bs])),
        },
    }


# --------------------------------------------------------------------------- verification


def expected_values(cube: np.ndarray, chunk_lines: int) -> dict[str, np.ndarray]:
    return {
        "full read": cube, "one dask chunk (masked)": cube[:, :chunk_lines],
        "one spectrum": cube[:, SPECTRUM_LINE, SPECTRUM_SAMPLE], "one band": cube[BAND],
        "64 x 64 window, all bands": cube[:, WINDOW[0], WINDOW[1]], "5 bands as one list": cube[BAND_LIST],
    }


def verify(found: dict[str, dict[str, Op]], chunk_lines: int) -> None:
    """Every read returns exactly the generated values (same dtype, bit for bit; NaN where masked); abort otherwise."""
    cube = random_cube()
    raw = expected_values(cube, chunk_lines)
    masked = expected_values(np.where(cube == np.float32(FILL), np.float32(np.nan), cube), chunk_lines)
    for op, readers in found.items():
        for reader, fn in readers.items():
            want = masked if reader.startswith("xarray-crism") and "raw" not in reader else raw
            if op not in want or reader == "pdr":
                continue
            got = np.asarray(fn())
            if reader == "numpy.fromfile" and op in ("full read", "one dask chunk (masked)"):
                got = got.reshape(-1, BANDS, SAMPLES).transpose(1, 0, 2)
            if got.dtype != want[op].dtype or not np.array_equal(got, want[op], equal_nan=True):
                sys.exit(f"verification failed: {reader} {op}: {got.dtype}{got.shape} differs from the written cube")
    print("verified: every reader returns the written values (bit for bit; NaN where xarray-crism masks)", file=sys.stderr)


# --------------------------------------------------------------------------- report


def memory_row(label: Path) -> list[list[str]]:
    """Peak memory allocated while reading (tracemalloc), in cubes: 1.00 means the output array alone."""
    rows = []
    for name, kwargs in (("raw", {"mask_and_scale": False}), ("masked (the default)", {})):
        with open_crism(label, **kwargs) as ds:
            tracemalloc.start()
            ds.i_over_f.values  # noqa: B018
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
        rows.append([f"xarray-crism full read, {name}", f"{peak / CUBE_BYTES:.2f} cubes"])
    return rows


def build_targets(t: dict[str, dict[str, dict[str, float]]]) -> list[dict[str, Any]]:
    def best(op: str, reader: str) -> float:
        return t[op][reader]["best"]

    full = best("full read", "numpy.fromfile")
    return [
        target("open no slower than GDAL's open", best("open", "xarray-crism"), best("open", "GDAL"), 1.0),
        target("full read (raw) <= 1.2x numpy.fromfile", best("full read", "xarray-crism (raw)"), full, 1.2),
        target("full read, masked (default) <= 1.2x numpy.fromfile",
               best("full read", "xarray-crism (masked, the default)"), full, 1.2),
        target("one dask chunk, masked <= 1.2x numpy.fromfile of its bytes", best("one dask chunk (masked)", "xarray-crism"),
               best("one dask chunk (masked)", "numpy.fromfile"), 1.2),
        target("one spectrum faster than GDAL", best("one spectrum", "xarray-crism"), best("one spectrum", "GDAL"), 1.0),
        target("one band <= 1.0x GDAL", best("one band", "xarray-crism"), best("one band", "GDAL"), 1.0),
        target("64 x 64 window <= 1.5x a numpy.memmap slice", best("64 x 64 window, all bands", "xarray-crism"),
               best("64 x 64 window, all bands", "numpy.memmap"), 1.5),
        target("5 bands as a list no slower than 5 single bands", best("5 bands as one list", "xarray-crism, one list"),
               best("5 bands as one list", "xarray-crism, 5 single bands"), 1.0),
    ]


def build_section(t: dict[str, dict[str, dict[str, float]]], repeat: int, before: list[float], label: Path) -> dict[str, Any]:
    rows = []
    for op, readers in t.items():
        bound_name, bound = next(iter(readers.items()))
        for reader, times in readers.items():
            rows.append([op, reader, seconds(times["best"]), seconds(times["median"]),
                         "bound" if reader == bound_name else ratio(times["best"], bound["best"])])
    text = (
        f"`benchmarks/bench_trdr.py` reads a full-size CRISM TRDR I/F cube ({BANDS} bands x {LINES} lines x {SAMPLES} "
        f"samples of float32, `LINE_INTERLEAVED`, {CUBE_BYTES / 2**20:.0f} MiB; random values in [0, 0.5) with the "
        f"first two samples of every line set to the {FILL:g} constant, like a real TRDR's non-scene columns; a real "
        "TRDR label) with `numpy` (the bound: no label, no decoding), xarray-crism (`engine=\"crism\"`; *raw* is "
        "`mask_and_scale=False`, *masked* is the default, which turns the constant into NaN), GDAL through rasterio, "
        "and pdr. For each operation the readers run in turn, one call each per repeat, so they share the machine's "
        f"load; times are the best and the median of {repeat} repeats after a warm-up (warm page cache). Ratios are "
        "best to best, to the operation's first row (its bound). Partial reads use datasets opened beforehand; "
        "each call of *one band* and *5 bands as one list* reads other bands than the call before (GDAL would "
        "otherwise answer from its block cache: 1.2 ms for a band read before, 3 ms for a new one). One "
        "dask chunk is timed with `compute()` (dask's graph, the chunk's task, and the copy dask makes of a single "
        "chunk's result), beside its task alone (`dask.local.get_sync`, no final copy) and dask over a `numpy.memmap` "
        "of the same bytes (dask's own floor). Every "
        "reader is checked first to return the written values bit for bit (NaN where masked)."
    )
    return {
        "benchmark": "trdr", "title": "CRISM TRDR, local file", "text": text, "load": before,
        "tables": [
            {"header": ["operation", "reader", "best", "median", "ratio"], "rows": rows},
            {"caption": "Memory allocated while reading the whole cube (tracemalloc peak):",
             "header": ["read", "peak"], "rows": memory_row(label)},
        ],
        "targets": build_targets(t),
        "raw": {"seconds": t, "repeat": repeat, "shape": [BANDS, LINES, SAMPLES], "cube_bytes": CUBE_BYTES},
    }


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeat", type=int, default=7, help="timed repeats per case (interleaved)")
    parser.add_argument("--out", type=Path, default=HERE / "results", help="directory for trdr.json and trdr.md")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    warnings.simplefilter("ignore", NotGeoreferencedWarning)
    product = ensure_product()
    before = load()
    with open_crism(product.label) as ds, open_crism(product.label, chunks={}) as dask_ds, rasterio.open(product.label) as src:
        found = groups(product, ds, dask_ds, src)
        verify(found, dask_ds.i_over_f.data.chunks[1][0])
        timings = {op: interleaved(readers, args.repeat) for op, readers in found.items()}
    write_section(args.out, build_section(timings, args.repeat, before, product.label))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
