"""Bytes and HTTP requests per read: xarray-crism beside GDAL's /vsicurl/, over a local Range server.

Serves the full-size generated TRDR of ``bench_trdr.py`` (438 bands x 480 lines x 320 samples
float32, LINE_INTERLEAVED) from ``tests/http_server.py``'s ``RangeServer`` on 127.0.0.1, then,
for each operation (open, one spectrum, one band, full read), opens the product afresh with
``xr.open_dataset(url, engine="crism", mask_and_scale=False)`` and with rasterio on
``/vsicurl/url`` (default GDAL configuration), and counts every HTTP request the server answers
(GET and HEAD, any status) and the body bytes it sends. Every measurement uses a URL prefix
that no earlier one used, so neither GDAL's /vsicurl/ cache nor fsspec can serve anything from
an earlier read: each one is cold. The values of both readers are checked against each other
and against the local file (bit for bit), then a Markdown table is written.

A second open counts a TRDR with its WA CDR beside it: the corpus' ``frt0001458f_01_if156l_trr3`` (its
label names ``CDR450924300802_WA0300000L_3.IMG``; the full-size TRDR's WA, ``WA0100000L``, is not in the
corpus), served from a directory of its own that holds the TRDR's label and IMG and the WA's label and IMG.
Its ``pixel_wavelength`` (read from the WA) is checked equal to a local open's.

    python benchmarks/bench_http.py [--out DIR] [--repeat N]

writes its section of the performance page (``http.json``, ``http.md``; every request in ``http_requests.md``)
in ``--out``, with the full read timed beside one GET of the same bytes.
"""

from __future__ import annotations

import argparse
import itertools
import multiprocessing
import os
import re
import sys
import tempfile
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import astuple, dataclass, field
from functools import partial
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import fsspec
import numpy as np
import rasterio
import xarray as xr
from fsspec.asyn import sync
from rasterio.errors import NotGeoreferencedWarning
from rasterio.windows import Window

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from bench_trdr import (  # noqa: E402
    BAND,
    BANDS,
    CUBE_BYTES,
    LINES,
    SAMPLES,
    SPECTRUM_LINE,
    SPECTRUM_SAMPLE,
    Product,
    ensure_product,
)
from benchkit import interleaved, load, ratio, seconds, target, write_section  # noqa: E402

import xarray_crism  # noqa: E402
from tests.http_server import RangeServer, _Handler  # noqa: E402

LINE_BYTES = BANDS * SAMPLES * 4
CORPUS = HERE.parents[1] / "shared" / "corpus" / "crism"
WA_TRDR = CORPUS / "trdr" / "frt0001458f_01_if156l_trr3.lbl"
WA_FILES = (WA_TRDR, WA_TRDR.with_suffix(".img"), *(CORPUS / "cdr" / f"CDR450924300802_WA0300000L_3.{e}" for e in ("LBL", "IMG")))
WA_DIR = "with-wa"
WA_OPEN = "open, TRDR + WA CDR"
VARIABLE = "i_over_f"
GDAL_OPTIONS = ("GDAL_DISABLE_READDIR_ON_OPEN", "CPL_VSIL_CURL_CHUNK_SIZE", "CPL_VSIL_CURL_CACHE_SIZE",
                "GDAL_HTTP_MULTIRANGE", "CPL_VSIL_CURL_ALLOWED_EXTENSIONS", "GDAL_CACHEMAX")
_PREFIX = re.compile(r"/cold-\d+(?=/|$)")


# --------------------------------------------------------------------------- a server that counts everything


@dataclass
class Request:
    """One HTTP request as the server answered it; ``body`` counts the body bytes only (no headers)."""

    method: str
    path: str
    range: str | None
    status: int
    body: int = 0


class _CountingWriter:
    """Wraps the handler's ``wfile``: reports each write's size before passing it on."""

    def __init__(self, inner: Any, count: Callable[[int], None]) -> None:
        self._inner = inner
        self._count = count

    def write(self, data: bytes) -> int:
        self._count(len(data))  # before writing: the client may go on as soon as it has the bytes
        return int(self._inner.write(data))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class CountingHandler(_Handler):
    """The test server's handler, plus: every request logged (HEAD, listings, errors), ``/cold-N`` prefixes."""

    record: Request | None = None
    in_body = False

    def setup(self) -> None:
        super().setup()
        self.wfile = _CountingWriter(self.wfile, self._count)  # type: ignore[assignment]

    def _count(self, n: int) -> None:
        if self.record is not None and self.in_body:
            self.record.body += n

    def send_response(self, code: int, message: str | None = None) -> None:
        self.record = Request(self.command, _PREFIX.sub("/cold-N", self.path, count=1), self.headers.get("Range"), int(code))
        self.in_body = False
        self.server.all_requests.append(self.record)  # type: ignore[attr-defined]
        super().send_response(code, message)

    def flush_headers(self) -> None:
        super().flush_headers()
        self.in_body = True

    def translate_path(self, path: str) -> str:
        return super().translate_path(_PREFIX.sub("", path, count=1))

    def do_GET(self) -> None:
        if not os.path.exists(self.translate_path(self.path)):  # the test handler would raise on a Range GET
            self.send_error(404)
            return
        super().do_GET()


class CountingServer(RangeServer):
    """``RangeServer`` with :class:`CountingHandler`: ``all_requests`` holds every request since the last reset."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.httpd.RequestHandlerClass = partial(CountingHandler, directory=str(root))
        self.httpd.all_requests = []  # type: ignore[attr-defined]

    @property
    def all_requests(self) -> list[Request]:
        return list(self.httpd.all_requests)  # type: ignore[attr-defined]

    def reset(self, **kwargs: Any) -> None:
        super().reset(**kwargs)
        self.httpd.all_requests = []  # type: ignore[attr-defined]


def serve(root: str, conn: Connection) -> None:
    """Child process: run the server; answer each "take" with the traffic since the last one, until "stop"."""
    server = CountingServer(Path(root))
    with server:
        conn.send(server.url)
        while conn.recv() != "stop":
            conn.send(([astuple(r) for r in server.all_requests], server.bytes_sent, server.httpd.requests))
            server.reset()


# --------------------------------------------------------------------------- traffic


@dataclass
class Traffic:
    """What one operation cost on the wire, with the test server's own counters beside it."""

    requests: list[Request]
    server_bytes: int
    server_requests: int

    @property
    def bytes(self) -> int:
        return sum(r.body for r in self.requests)

    def methods(self) -> str:
        counts = Counter(r.method for r in self.requests)
        return ", ".join(f"{n} {m}" for m, n in sorted(counts.items()))

    def statuses(self) -> str:
        counts = Counter(r.status for r in self.requests)
        return ", ".join(f"{n} x {s}" for s, n in sorted(counts.items()))


@dataclass
class Measurement:
    """One reader, one operation: the open's traffic, the read's traffic, the values read."""

    open: Traffic
    read: Traffic | None = None
    values: np.ndarray | None = field(default=None, repr=False)


class ServerProcess:
    """The counting server in its own process.

    With the server in a thread of this process, rasterio's first /vsicurl/ read after the open
    hangs: the server thread never answers (the read seems to hold the GIL while GDAL waits on
    the network). In a process of its own the server always answers.
    """

    def __init__(self, root: Path) -> None:
        self._conn, child = multiprocessing.Pipe()
        self._process = multiprocessing.get_context("spawn").Process(target=serve, args=(str(root), child), daemon=True)
        self._serial = itertools.count()
        self.url = ""

    def __enter__(self) -> ServerProcess:
        self._process.start()
        self.url = self._conn.recv()
        return self

    def __exit__(self, *exc: object) -> None:
        self._conn.send("stop")
        self._process.join(timeout=10)

    def fresh_url(self, name: str) -> str:
        """``name`` under a URL prefix never used before (``/cold-N/``), so no client cache can hold it."""
        return f"{self.url}/cold-{next(self._serial)}/{name}"

    def take(self) -> Traffic:
        """The traffic since the last call (or start); the counters restart from zero."""
        self._conn.send("take")
        rows, server_bytes, server_requests = self._conn.recv()
        return Traffic([Request(*row) for row in rows], server_bytes, server_requests)

    def reset(self) -> None:
        self.take()


# --------------------------------------------------------------------------- readers

Read = Callable[[Any], np.ndarray]


def crism_reads() -> dict[str, Read]:
    return {
        "one spectrum": lambda ds: ds[VARIABLE].isel(line=SPECTRUM_LINE, sample=SPECTRUM_SAMPLE).values,
        "one band": lambda ds: ds[VARIABLE].isel(band=BAND).values,
        "full read": lambda ds: ds[VARIABLE].values,
    }


def gdal_reads() -> dict[str, Read]:
    return {
        "one spectrum": lambda src: src.read(window=Window(SPECTRUM_SAMPLE, SPECTRUM_LINE, 1, 1))[:, 0, 0],
        "one band": lambda src: src.read(BAND + 1),
        "full read": lambda src: src.read(),
    }


def measure_crism(server: ServerProcess, name: str, read: Read | None) -> Measurement:
    """Open afresh (new URL, new fsspec instance), then optionally read; traffic of each step."""
    server.reset()
    options = {"skip_instance_cache": True}
    with xr.open_dataset(server.fresh_url(name), engine="crism", mask_and_scale=False, storage_options=options) as ds:
        m = Measurement(server.take())
        if read is not None:
            m.values = np.asarray(read(ds))
            m.read = server.take()
    return m


def measure_gdal(server: ServerProcess, name: str, read: Read | None) -> Measurement:
    """Open afresh (new URL, so nothing in /vsicurl/'s cache; fresh Env), then optionally read."""
    server.reset()
    with rasterio.Env(), rasterio.open(f"/vsicurl/{server.fresh_url(name)}") as src:
        m = Measurement(server.take())
        if read is not None:
            m.values = np.asarray(read(src))
            m.read = server.take()
    return m


Results = dict[str, dict[str, Measurement]]


def wa_pixel_wavelength(ds: Any) -> np.ndarray:
    """The WA CDR's values as joined to the TRDR (read after the open, not counted in the open)."""
    return np.asarray(ds["pixel_wavelength"].values)


def measure_all(server: ServerProcess, p: Product) -> Results:
    """operation -> reader -> measurement; "open..." rows are an open alone, the others a read after a fresh open."""
    label = p.label.name
    results: Results = {"open": {"xarray-crism": measure_crism(server, label, None), "GDAL": measure_gdal(server, label, None)}}
    wa_label = f"{WA_DIR}/{WA_TRDR.name}"
    results[WA_OPEN] = {"xarray-crism": measure_crism(server, wa_label, wa_pixel_wavelength),
                        "GDAL": measure_gdal(server, wa_label, None)}
    for op in crism_reads():
        results[op] = {
            "xarray-crism": measure_crism(server, label, crism_reads()[op]),
            "GDAL": measure_gdal(server, label, gdal_reads()[op]),
        }
        print(f"  measured {op}", file=sys.stderr)
    return results


# --------------------------------------------------------------------------- verification


def expected(p: Product, op: str) -> np.ndarray:
    """The op's values from the local file (BIL: line, band, sample), as (band, ...)."""
    cube = np.memmap(p.img, dtype="<f4", mode="r", shape=(LINES, BANDS, SAMPLES))
    if op == "one spectrum":
        return np.array(cube[SPECTRUM_LINE, :, SPECTRUM_SAMPLE])
    if op == "one band":
        return np.array(cube[:, BAND, :])
    return np.array(cube).transpose(1, 0, 2)


def verify(p: Product, results: Results) -> None:
    """Both readers return the same values, equal to the local file's, bit for bit; abort otherwise."""
    with xr.open_dataset(WA_TRDR, engine="crism", mask_and_scale=False, sidecar_dirs=[CORPUS / "cdr"]) as ds:
        want_wa = wa_pixel_wavelength(ds)
    got_wa = results[WA_OPEN]["xarray-crism"].values
    if got_wa is None or not np.array_equal(got_wa, want_wa):
        sys.exit("verification failed: the WA CDR joined over HTTP differs from the local one")
    for op, by_reader in results.items():
        if op.startswith("open"):
            continue
        want = expected(p, op)
        got = {reader: m.values for reader, m in by_reader.items()}
        for reader, values in got.items():
            if values is None or values.dtype != want.dtype or not np.array_equal(values, want):
                sys.exit(f"verification failed: {reader} {op} differs from the local file")
        if not np.array_equal(got["xarray-crism"], got["GDAL"]):  # type: ignore[arg-type]
            sys.exit(f"verification failed: xarray-crism and GDAL differ for {op}")
    print("verified: xarray-crism and GDAL return identical values (bit for bit)", file=sys.stderr)


# --------------------------------------------------------------------------- report


def traffic_of(m: Measurement, op: str) -> Traffic:
    return m.open if op.startswith("open") else m.read  # type: ignore[return-value]


def cells(t: Traffic) -> list[str]:
    return [f"{t.bytes:,}", f"{len(t.requests)} ({t.methods()})", f"{t.bytes / LINE_BYTES:.3g}"]


def markdown_table(results: Results) -> str:
    lines = [
        "| operation | xarray-crism bytes | requests | bytes / cube line | GDAL /vsicurl/ bytes | requests | bytes / cube line |",
        "|---|--:|---|--:|--:|---|--:|",
    ]
    for op, by_reader in results.items():
        row = cells(traffic_of(by_reader["xarray-crism"], op)) + cells(traffic_of(by_reader["GDAL"], op))
        lines.append(f"| {op} | " + " | ".join(row) + " |")
    for what, size in (("one line of the cube (reference)", LINE_BYTES), ("full cube (reference)", CUBE_BYTES)):
        ref = [f"{size:,}", "-", f"{size / LINE_BYTES:.3g}"]
        lines.append(f"| {what} | " + " | ".join(ref + ref) + " |")
    return "\n".join(lines)


def request_lines(t: Traffic, limit: int = 12) -> list[str]:
    """The first ``limit`` requests of an operation, one Markdown list item each."""
    out = [f"    - `{r.method} {r.path}` range `{r.range or '-'}` -> {r.status}, {r.body:,} B" for r in t.requests[:limit]]
    if len(t.requests) > limit:
        rest = t.requests[limit:]
        out.append(f"    - ... {len(rest)} more ({sum(r.body for r in rest):,} B)")
    return out


def detail_lines(results: Results) -> list[str]:
    out = []
    for op, by_reader in results.items():
        for reader, m in by_reader.items():
            t = traffic_of(m, op)
            out.append(
                f"- **{op}, {reader}**: {len(t.requests)} requests ({t.methods()}; status {t.statuses()}), "
                f"{t.bytes:,} body bytes; RangeServer's own counters: {t.server_requests} GET bodies, {t.server_bytes:,} B"
            )
            out += request_lines(t)
    return out


def gdal_config_lines() -> list[str]:
    env = {k: v for k, v in os.environ.items() if k.startswith(("GDAL_", "CPL_", "VSI_"))}
    with rasterio.Env() as e:
        set_opts = {k: v for k, v in e.options.items() if k in GDAL_OPTIONS}
    return [
        f"- GDAL configuration: defaults (no option set; environment: {env or 'none'}; "
        f"rasterio.Env options among {', '.join(GDAL_OPTIONS)}: {set_opts or 'none'}). "
        "So GDAL_DISABLE_READDIR_ON_OPEN=FALSE (it lists the directory), CPL_VSIL_CURL_CHUNK_SIZE=16384, "
        "CPL_VSIL_CURL_CACHE_SIZE=16 MB.",
    ]


def environment_line() -> str:
    return (
        f"- xarray-crism {xarray_crism.__version__}, xarray {xr.__version__}, fsspec {fsspec.__version__}, "
        f"numpy {np.__version__}, rasterio {rasterio.__version__} (GDAL {rasterio.__gdal_version__}), "
        f"Python {sys.version.split()[0]}"
    )


def report(results: Results, p: Product) -> str:
    parts = [
        "# CRISM TRDR over HTTP: bytes and requests per read",
        "",
        f"{BANDS} bands x {LINES} lines x {SAMPLES} samples float32, LINE_INTERLEAVED PC_REAL "
        f"({CUBE_BYTES:,} B cube; one line of the cube, all bands = {LINE_BYTES:,} B), served by "
        f"`tests/http_server.py`'s RangeServer on 127.0.0.1 from a directory holding only `{p.label.name}` "
        f"and `{p.img.name}`. Spectrum: line {SPECTRUM_LINE}, sample {SPECTRUM_SAMPLE}; band: {BAND}.",
        "",
        environment_line(),
        *gdal_config_lines(),
        "",
        markdown_table(results),
        "",
        "Bytes are response body bytes (file data, directory listings, error pages; no headers); requests are every "
        "request the server answered (GET and HEAD, any status). **open** is `xr.open_dataset(url, engine=\"crism\", "
        "mask_and_scale=False)` / `rasterio.open(\"/vsicurl/\" + url)` alone; every other row is the read alone "
        "(`ds.i_over_f.isel(line=i, sample=j).values`, `.isel(band=k).values`, `.values` / `src.read(window=Window(j, i, "
        "1, 1))`, `src.read(k + 1)`, `src.read()`), after a fresh open whose traffic is not counted in that row. "
        "Each measurement uses a URL prefix (`/cold-N/`) never used before, a fresh fsspec HTTP filesystem "
        "(`skip_instance_cache`) and a fresh `rasterio.Env()`, so nothing comes from a cache. Both readers' values were "
        "checked equal to each other and to the local file (np.array_equal, GDAL does not mask 65535).",
        "",
        "Requests, in order:",
        "",
        *detail_lines(results),
    ]
    return "\n".join(parts) + "\n"


# --------------------------------------------------------------------------- main


@contextmanager
def serving(p: Product) -> Iterator[ServerProcess]:
    """A server whose root holds only the product's label and IMG (symbolic links), and ``with-wa/`` the
    corpus TRDR with its WA CDR."""
    with tempfile.TemporaryDirectory(prefix="bench_http_") as tmp:
        root = Path(tmp)
        for path in (p.label, p.img):
            (root / path.name).symlink_to(path)
        (root / WA_DIR).mkdir()
        for path in WA_FILES:
            (root / WA_DIR / path.name).symlink_to(path)
        with ServerProcess(root) as server:
            yield server


async def _get_into(fs: Any, url: str, out: np.ndarray) -> None:
    """One GET of ``out.size`` bytes, each piece aiohttp hands over copied once into ``out`` (no checks)."""
    session = await fs.set_session()
    view, got = memoryview(out.data), 0
    async with session.get(url, headers={"Range": f"bytes=0-{out.size - 1}", "Accept-Encoding": "identity"}) as r:
        while got < out.size:
            chunk, _ = await r.content.readchunk()
            view[got : got + len(chunk)] = chunk
            got += len(chunk)


def get_into_buffer(fs: Any, url: str, size: int) -> np.ndarray:
    out = np.empty(size, dtype=np.uint8)
    sync(fs.loop, _get_into, fs, url, out)
    return out


#: The two loopback bounds: the full read's ratio is to the faster of them.
BOUNDS = ("loopback bound: one GET of the cube (fsspec cat_file)",
          "loopback bound: one GET of the cube into a preallocated array (aiohttp, one copy)")


def time_full_read(server: ServerProcess, p: Product, repeat: int) -> dict[str, dict[str, float]]:
    """The full read over HTTP beside its loopback bounds (one GET of the cube's bytes into memory), interleaved."""
    url = server.fresh_url(p.label.name)
    img = url.rsplit("/", 1)[0] + "/" + p.img.name
    fs = fsspec.filesystem("http", skip_instance_cache=True)

    def crism(**kwargs: Any) -> np.ndarray:
        with xr.open_dataset(url, engine="crism", **kwargs) as ds:
            return np.asarray(ds[VARIABLE].values)

    return interleaved({
        BOUNDS[0]: lambda: fs.cat_file(img, start=0, end=CUBE_BYTES),
        BOUNDS[1]: lambda: get_into_buffer(fs, img, CUBE_BYTES),
        "xarray-crism, open + read (raw)": lambda: crism(mask_and_scale=False),
        "xarray-crism, open + read (masked, the default)": crism,
    }, repeat)


def sequence(t: Traffic) -> str:
    """The requests of an operation, in order: method, file name (or "(directory)") and status unless 200/206."""
    def one(r: Request) -> str:
        status = "" if r.status in (200, 206) else f" -> {r.status}"
        return f"{r.method} {r.path.rsplit('/', 1)[-1] or '(directory)'}{status}"
    return "; ".join(one(r) for r in t.requests)


def build_section(results: Results, timings: dict[str, dict[str, float]], repeat: int, before: list[float]) -> dict[str, Any]:
    rows = []
    for op, by_reader in results.items():
        row = [op]
        for reader in ("xarray-crism", "GDAL"):
            t = traffic_of(by_reader[reader], op)
            row += [f"{t.bytes:,}", f"{len(t.requests)} ({t.methods()})"]
        rows.append(row)
    bound_name = min(BOUNDS, key=lambda name: timings[name]["best"])
    bound = timings[bound_name]
    time_rows = [[name, seconds(t["best"]), seconds(t["median"]),
                  "bound" if name == bound_name else ratio(t["best"], bound["best"])] for name, t in timings.items()]
    opened = traffic_of(results["open"]["xarray-crism"], "open")
    with_wa = traffic_of(results[WA_OPEN]["xarray-crism"], WA_OPEN)
    text = (
        "`benchmarks/bench_http.py` serves the TRDR of `bench_trdr.py` from a local HTTP server (range requests; its "
        "directory holds the label and the IMG only) and counts every request it answers and every body byte it "
        "sends, for xarray-crism (`engine=\"crism\"`, `mask_and_scale=False`, fsspec) and GDAL's `/vsicurl/` "
        "(rasterio, default configuration). Each count uses a URL never used before, so no cache helps; *open* is the "
        "open alone (`xr.open_dataset` returning), the other rows a read after a fresh open; the values are checked "
        "equal to the local file. *open, TRDR + WA CDR* opens the corpus TRDR `frt0001458f_01_if156l_trr3` from a "
        "directory that also holds the WA CDR its label names (`CDR450924300802_WA0300000L_3`), which xarray-crism joins "
        "(`pixel_wavelength`, checked equal to a local open's; GDAL opens the TRDR alone). "
        f"xarray-crism's open, in order: {sequence(opened)}. With the WA CDR: {sequence(with_wa)}. "
        "The second table times the full read (open included) beside one GET of the same bytes, as fsspec's `cat_file` "
        "returns them and copied once into a preallocated array; ratios are to the faster of the two, interleaved, "
        f"best of {repeat}."
    )
    return {
        "benchmark": "http", "title": "CRISM TRDR over HTTP", "text": text, "load": before,
        "tables": [
            {"header": ["operation", "xarray-crism bytes", "requests", "GDAL bytes", "requests"], "rows": rows},
            {"header": ["full read over HTTP", "best", "median", "ratio"], "rows": time_rows},
        ],
        "targets": [
            target("open (TRDR alone): at most 3 requests", len(opened.requests), 3, 1.0),
            target("open (TRDR + its WA CDR): at most 3 requests", len(with_wa.requests), 3, 1.0),
            target("full read (raw) <= 1.5x the loopback bound", timings["xarray-crism, open + read (raw)"]["best"],
                   bound["best"], 1.5),
        ],
        "raw": {"requests": {op: {r: len(traffic_of(m, op).requests) for r, m in by.items()} for op, by in results.items()},
                "seconds": timings},
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=HERE / "results", help="directory for http.json and http.md")
    parser.add_argument("--repeat", type=int, default=5, help="timed repeats of the full read (interleaved)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    warnings.simplefilter("ignore", NotGeoreferencedWarning)
    product = ensure_product()
    before = load()
    with serving(product) as server:
        results = measure_all(server, product)
        timings = time_full_read(server, product, args.repeat)
    verify(product, results)
    (args.out / "http_requests.md").parent.mkdir(parents=True, exist_ok=True)
    (args.out / "http_requests.md").write_text(report(results, product), encoding="utf-8")
    write_section(args.out, build_section(results, timings, args.repeat, before))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
