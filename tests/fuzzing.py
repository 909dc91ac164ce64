"""Fuzzing harness: corpus-seeded byte mutations, time bounds, an allocation bound, kept failures.

Each target takes the bytes of one (mutated) file and either succeeds or raises a
:class:`~xarray_crism.errors.CrismError`; anything else fails the test. Every input that fails is
written to ``tests/fuzz_regressions/<target>/<file name>@<sha1>.bin`` before the test fails, so it is replayed
by ``test_93_fuzz.py`` forever after (commit the file with the fix).

The number of examples per target comes from ``XARRAY_CRISM_FUZZ_EXAMPLES`` (default
:data:`QUICK_EXAMPLES`, the quick suite); ``python tools/fuzz.py`` runs a longer campaign.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import time
import traceback
import tracemalloc
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from xarray_crism.errors import CrismError

REGRESSIONS = Path(__file__).with_name("fuzz_regressions")
QUICK_EXAMPLES = 120
EXAMPLES = int(os.environ.get("XARRAY_CRISM_FUZZ_EXAMPLES", QUICK_EXAMPLES))
#: Bound per input on the CPU time (user + system) of this process: CPU time, not wall-clock time,
#: so that other jobs on a shared machine cannot make an input look slow; an input blocked without
#: using the CPU is caught by the wall-clock bound :data:`WALL_SECONDS_PER_INPUT`.
SECONDS_PER_INPUT = float(os.environ.get("XARRAY_CRISM_FUZZ_SECONDS", 2))
WALL_SECONDS_PER_INPUT = float(os.environ.get("XARRAY_CRISM_FUZZ_WALL_SECONDS", 30))
#: Bound on the memory allocated (peak, ``tracemalloc``: Python objects and NumPy arrays) for one input.
MAX_ALLOCATED = 64 * 1024 * 1024
#: The outcome counts are written to the report every this many inputs (a campaign stopped early
#: still reports what it ran).
REPORT_EVERY = 250

FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES, deadline=None, derandomize=EXAMPLES == QUICK_EXAMPLES,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)

#: Inputs tried and how they ended, per target ("ok" or the error class), for the guarantees page.
OUTCOMES: dict[str, Counter[str]] = {}
#: The largest CPU seconds, wall-clock seconds and peak bytes allocated by one input, per target.
MAXIMA: dict[str, dict[str, float]] = {}

#: Tokens spliced into labels: ODL and XML syntax, hostile values, odd encodings.
TOKENS = [
    b"OBJECT", b"END_OBJECT", b"GROUP", b"END_GROUP", b"END", b"=", b'"', b"'", b"(", b")", b"{", b"}",
    b"<", b">", b",", b"\r\n", b"\n", b"/*", b"*/", b"^", b"-1", b"0", b"-2147483649", b"99999999999999999999",
    b"2147483648", b"1e308", b"-1e308", b"NaN", b"16#FF#", b"2#101#", b"<UNK>", b"N/A", b"\x00", b"\xff\xfe",
    b"\xef\xbb\xbf", b"\xe9", b"../../etc/passwd", b"/etc/passwd", b'"/etc/passwd"', b"http://127.0.0.1:1/x",
    b'("A.IMG", 999999999999)', b'("A.IMG", -5 <BYTES>)', b"<BYTES>", b"LINE_INTERLEAVED", b"PC_REAL",
    b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>', b"&e;", b"<![CDATA[", b"]]>", b"<?xml",
    b'<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>', b"&b;",
    b"</", b"/>", b"xmlns=", b"LBLSIZE=", b"  ", b"\t",
]
#: Well-formed values put in place of a keyword's value (ODL) or an element's text (XML).
VALUES = [
    b"0", b"1", b"-1", b"-2147483649", b"2147483648", b"99999999999999999999", b"1e308", b"-0.0", b"NaN", b"16#FF#",
    b'"N/A"', b"UNK", b"NULL", b'"../../etc/passwd"', b'"/etc/passwd"', b'"http://127.0.0.1:1/x.img"',
    b'"s3://bucket/x.img"', b'"~/x.img"', b'("X.IMG", 1)', b'("X.IMG", 0 <BYTES>)', b'("X.IMG", -7)', b"(1, 2, 3)",
    b"(0, 0)", b"(-1, 99999999999)", b"{}", b"()", b'""', b"5 <BYTES>", b"12 <KM>", b"BAND_SEQUENTIAL",
    b"SAMPLE_INTERLEAVED", b"LINE_INTERLEAVED", b"MSB_INTEGER", b"IEEE_REAL", b"PC_REAL", b"UNSIGNED_INTEGER", b"8",
    b"16", b"32", b"64", b"2020-02-30T25:61:61", b"IEEE754MSBSingle", b"SignedMSB2", b"UnsignedByte", b"Last Index Fastest",
    b"\xe9t\xe9", b"\x00",
]
_VALUE = re.compile(rb"(=|>)[ \t]*")


class FuzzTimeout(Exception):
    """An input took longer than :data:`SECONDS_PER_INPUT` (CPU) or :data:`WALL_SECONDS_PER_INPUT` (wall clock)."""


@st.composite
def mutations(draw: st.DrawFn, seeds: list[tuple[str, bytes]]) -> tuple[str, bytes]:
    """A seed (name, bytes) from the corpus with 1 to 4 mutations: byte flips, deletions, splices,
    duplications, truncation and values (after ``=`` or ``>``) replaced by hostile tokens or numbers."""
    name, seed = draw(st.sampled_from(seeds))
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, 4))):
        _mutate(draw, data)
    return name, bytes(data)


def _mutate(draw: st.DrawFn, data: bytearray) -> None:
    op = draw(st.sampled_from(["value"] * 6 + ["flip", "delete", "insert", "duplicate", "truncate"]))
    if op == "value":
        found = list(_VALUE.finditer(data))
        if found:
            m = draw(st.sampled_from(found))
            end = data.find(b"\n" if m[1] == b"=" else b"<", m.end())
            end = len(data) if end < 0 else end - (m[1] == b"=" and data[end - 1:end] == b"\r")
            value = draw(st.one_of(st.sampled_from(VALUES), st.integers(-(2**64), 2**64).map(_ascii)))
            data[m.end():end] = value
        return
    pos = draw(st.integers(0, len(data)))
    if op == "flip" and pos < len(data):
        data[pos] ^= draw(st.integers(1, 255))
    elif op == "delete":
        del data[pos:pos + draw(st.integers(1, 64))]
    elif op == "insert":
        data[pos:pos] = draw(st.one_of(st.sampled_from(TOKENS), st.binary(min_size=1, max_size=16)))
    elif op == "duplicate":
        data[pos:pos] = data[pos:pos + draw(st.integers(1, 200))]
    elif op == "truncate":
        del data[pos:]


def _ascii(number: int) -> bytes:
    return str(number).encode()


def check_input(target: str, filename: str, data: bytes, call: Callable[[], object]) -> None:
    """Run ``call`` on one input within the time and memory bounds; keep the input if it fails."""
    usage: dict[str, float] = {}
    try:
        with _bounded(usage):
            call()
    except CrismError as err:
        _count(target, type(err).__name__, usage)
    except Exception as err:  # (not KeyboardInterrupt: stopping a campaign is not a failure)
        _count(target, "FAILED", usage)
        _keep_smallest(target, filename, data, err)
        raise AssertionError(f"{target}: {type(err).__name__}: {err} (input kept in {REGRESSIONS / target})") from err
    else:
        _count(target, "ok", usage)


def _count(target: str, outcome: str, usage: dict[str, float]) -> None:
    OUTCOMES.setdefault(target, Counter())[outcome] += 1
    maxima = MAXIMA.setdefault(target, {})
    for key, value in usage.items():
        maxima[key] = max(maxima.get(key, 0.0), value)
    if sum(OUTCOMES[target].values()) % REPORT_EVERY == 0:
        write_report(os.environ.get("XARRAY_CRISM_FUZZ_REPORT"))


#: The smallest failing input per (target, error type, innermost frame): hypothesis tries many
#: while it shrinks a failure; only the smallest of each is kept (by :func:`save_failures`).
_FAILURES: dict[tuple[str, str, str], tuple[str, bytes]] = {}


def _keep_smallest(target: str, filename: str, data: bytes, err: BaseException) -> None:
    frame = traceback.extract_tb(err.__traceback__)[-1]
    key = (target, type(err).__name__, f"{frame.filename}:{frame.lineno}")
    if key not in _FAILURES or len(data) < len(_FAILURES[key][1]):
        _FAILURES[key] = (filename, data)


def save_failures() -> list[Path]:
    """Write the kept failing inputs to ``fuzz_regressions/`` (called when the fuzz module ends)."""
    paths = [save_regression(target, *case) for (target, _, _), case in _FAILURES.items()]
    _FAILURES.clear()
    return paths


def save_regression(target: str, filename: str, data: bytes) -> Path:
    """Keep a failing input as ``fuzz_regressions/<target>/<file name>@<sha1>.bin``."""
    path = REGRESSIONS / target / f"{filename}@{hashlib.sha1(data).hexdigest()}.bin"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def regression_cases() -> Iterator[tuple[str, str, Path]]:
    """Every kept input: (target, file name, path)."""
    for path in sorted(REGRESSIONS.glob("*/*@*.bin")):
        yield path.parent.name, path.name.rpartition("@")[0], path


@contextmanager
def _bounded(usage: dict[str, float]) -> Iterator[None]:
    """Fail an input that runs longer than the time bounds or allocates more than MAX_ALLOCATED;
    ``usage`` gets its CPU seconds, wall-clock seconds and peak bytes allocated."""
    def expire(signum: int, frame: FrameType | None) -> None:
        clock = "CPU" if signum == signal.SIGPROF else "wall-clock"
        bound = SECONDS_PER_INPUT if signum == signal.SIGPROF else WALL_SECONDS_PER_INPUT
        raise FuzzTimeout(f"more than {bound} s of {clock} time")

    previous = {sig: signal.signal(sig, expire) for sig in (signal.SIGPROF, signal.SIGALRM)}
    signal.setitimer(signal.ITIMER_PROF, SECONDS_PER_INPUT)
    signal.setitimer(signal.ITIMER_REAL, WALL_SECONDS_PER_INPUT)
    cpu, wall = time.process_time(), time.perf_counter()
    tracemalloc.start()
    try:
        yield
        _, peak = tracemalloc.get_traced_memory()
        if peak > MAX_ALLOCATED:
            raise MemoryError(f"{peak} bytes allocated for one input (bound {MAX_ALLOCATED})")
        _check_cpu(time.process_time() - cpu)
    finally:
        usage.update(cpu_seconds=time.process_time() - cpu, wall_seconds=time.perf_counter() - wall,
                     peak_bytes=float(tracemalloc.get_traced_memory()[1]))
        tracemalloc.stop()
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.setitimer(signal.ITIMER_REAL, 0)
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _check_cpu(seconds: float) -> None:
    """Fail an input whose CPU time went over the bound although the timer signal did not stop it
    (a signal is handled only between bytecodes, and one raised inside a finalizer is ignored)."""
    if seconds > SECONDS_PER_INPUT:
        raise FuzzTimeout(f"{seconds:.2f} s of CPU time (bound {SECONDS_PER_INPUT} s)")


def write_report(path: str | None) -> None:
    """Write the outcome counts as JSON to ``path`` (used by ``tools/fuzz.py``)."""
    if path:
        report = {"examples_per_target": EXAMPLES, "time": time.strftime("%Y-%m-%d %H:%M:%S"), "targets": OUTCOMES,
                  "maxima": MAXIMA, "bounds": {"cpu_seconds": SECONDS_PER_INPUT, "wall_seconds": WALL_SECONDS_PER_INPUT,
                                               "peak_bytes": MAX_ALLOCATED}}
        Path(path).write_text(json.dumps(report, indent=1, sort_keys=True) + "\n")
