"""A longer fuzzing campaign: ``python tools/fuzz.py --examples 5000``.

Runs ``tests/test_93_fuzz.py`` with many more (random, not derandomized) examples per target than
the quick suite, prints how each target's inputs ended and writes them as JSON (``--report``).
Every failing input is kept under ``tests/fuzz_regressions/`` and replayed by the quick suite:
commit it with the fix.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    """Run the campaign; the exit status is pytest's."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--examples", type=int, default=5000, help="examples per target (default 5000)")
    parser.add_argument("--seconds", type=float, default=10.0, help="time bound per input (default 10)")
    parser.add_argument("--report", default=str(REPO / "fuzz-report.json"), help="JSON report path")
    parser.add_argument("-k", default=None, help="only the fuzz tests matching this pytest -k expression")
    args = parser.parse_args(argv)
    env = {**os.environ, "XARRAY_CRISM_FUZZ_EXAMPLES": str(args.examples),
           "XARRAY_CRISM_FUZZ_SECONDS": str(args.seconds), "XARRAY_CRISM_FUZZ_REPORT": args.report}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_93_fuzz.py"]
    if args.k:
        command += ["-k", args.k]
    started = time.perf_counter()
    status = subprocess.call(command, cwd=REPO, env=env)
    print(f"{time.perf_counter() - started:.0f} s; outcomes per target ({args.report}):")
    if Path(args.report).exists():
        for target, outcomes in json.loads(Path(args.report).read_text())["targets"].items():
            print(f"  {target}: {sum(outcomes.values())} inputs: {outcomes}")
    return status


if __name__ == "__main__":
    raise SystemExit(main())
