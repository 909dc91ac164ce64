"""A longer fuzzing campaign: ``python tools/fuzz.py --examples 5000``.

Runs ``tests/test_93_fuzz.py`` with many more (random, not derandomized) examples per target than
the quick suite, prints how each target's inputs ended and writes them as JSON (``--report``), with
the largest CPU time, wall-clock time and memory one input took per target. ``--jobs N`` runs the
targets in N processes at once (each writes ``<report>.<i>.json`` as it goes; they are merged at the
end). Every failing input is kept under ``tests/fuzz_regressions/`` and replayed by the quick
suite: commit it with the fix.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
#: The fuzz tests of ``tests/test_93_fuzz.py`` (one per target), as ``-k`` expressions.
TARGETS = ["test_pds3_parser", "test_pds3_products_open_and_read", "test_attached_headers_open_and_read",
           "test_pds4_labels", "test_index_tables"]


def main(argv: list[str] | None = None) -> int:
    """Run the campaign; the exit status is pytest's (the worst of the jobs')."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--examples", type=int, default=5000, help="examples per target (default 5000)")
    parser.add_argument("--seconds", type=float, default=2.0, help="CPU-time bound per input (default 2)")
    parser.add_argument("--wall-seconds", type=float, default=30.0, help="wall-clock bound per input (default 30)")
    parser.add_argument("--report", default=str(REPO / "fuzz-report.json"), help="JSON report path")
    parser.add_argument("--jobs", type=int, default=1, help="processes running targets at once (default 1)")
    parser.add_argument("-k", default=None, help="only the fuzz tests matching this pytest -k expression")
    args = parser.parse_args(argv)
    env = {**os.environ, "XARRAY_CRISM_FUZZ_EXAMPLES": str(args.examples), "XARRAY_CRISM_FUZZ_SECONDS": str(args.seconds),
           "XARRAY_CRISM_FUZZ_WALL_SECONDS": str(args.wall_seconds)}
    groups = [args.k] if args.k or args.jobs < 2 else [" or ".join(TARGETS[i::args.jobs]) for i in range(args.jobs)]
    reports = [args.report] if len(groups) == 1 else [f"{args.report}.{i}.json" for i in range(len(groups))]
    started = time.perf_counter()
    processes = [subprocess.Popen(_command(k), cwd=REPO, env={**env, "XARRAY_CRISM_FUZZ_REPORT": report})
                 for k, report in zip(groups, reports, strict=True)]
    status = max(p.wait() for p in processes)
    if len(reports) > 1:
        Path(args.report).write_text(json.dumps(merge_reports(reports), indent=1, sort_keys=True) + "\n")
    print(f"{time.perf_counter() - started:.0f} s; outcomes per target ({args.report}):")
    if Path(args.report).exists():
        report = json.loads(Path(args.report).read_text())
        for target, outcomes in report["targets"].items():
            print(f"  {target}: {sum(outcomes.values())} inputs: {outcomes}; maxima {report.get('maxima', {}).get(target)}")
    return status


def _command(k: str | None) -> list[str]:
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_93_fuzz.py"]
    return [*command, "-k", k] if k else command


def merge_reports(paths: list[str]) -> dict[str, Any]:
    """Outcome counts added up, maxima the largest, over the reports that exist."""
    merged: dict[str, Any] = {"targets": {}, "maxima": {}}
    for path in paths:
        if not Path(path).exists():
            continue
        report = json.loads(Path(path).read_text())
        for target, outcomes in report["targets"].items():
            merged["targets"][target] = dict(Counter(merged["targets"].get(target, {})) + Counter(outcomes))
        for target, maxima in report.get("maxima", {}).items():
            old = merged["maxima"].setdefault(target, {})
            merged["maxima"][target] = {k: max(v, old.get(k, 0.0)) for k, v in maxima.items()}
        merged.update({k: v for k, v in report.items() if k not in ("targets", "maxima")})
    return merged


if __name__ == "__main__":
    raise SystemExit(main())
