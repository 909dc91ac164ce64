"""Execute every docs/notebooks/0*.md in a fresh kernel; report seconds and peak memory of each.

    python binder/run_notebooks.py                  # all notebooks, 2 GB limit
    python binder/run_notebooks.py 03 06            # the notebooks whose names start with 03 or 06
    python binder/run_notebooks.py --limit-mb 1500 --timeout 300 --output /tmp/executed

Each notebook (a MyST Markdown text notebook) is read with jupytext and executed with nbclient in a
new ``python3`` kernel whose working directory is the notebook's, as myst-nb runs them in the docs
build. Peak memory is the largest sum of resident set sizes (RSS) of every process this script
started (the kernel and whatever the kernel starts: dask workers, servers), sampled every 50 ms
(a spike shorter than that can be missed). Summing RSS counts shared pages once per process, so it
overstates the real footprint a little, which is the safe side for a limit. The exit status is 1 if
a notebook fails or its peak exceeds the limit (default 2 GB: a mybinder.org session gets 1 to 2 GB).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import threading
import time
from pathlib import Path

import jupytext
import psutil
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

NOTEBOOKS = Path(__file__).resolve().parents[1] / "docs" / "notebooks"


class PeakMemory:
    """Sample the summed RSS of this process's descendants in a thread; ``peak`` in bytes."""

    def __init__(self, interval: float = 0.05) -> None:
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            total = 0
            for child in me.children(recursive=True):
                with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):  # ended meanwhile
                    total += child.memory_info().rss
            self.peak = max(self.peak, total)
            self._stop.wait(self.interval)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def run(path: Path, timeout: int, output: Path | None = None) -> tuple[float, int, str | None]:
    """(seconds, peak bytes, error or None) of executing the notebook at ``path`` (saved in ``output``)."""
    nb = jupytext.read(path)
    client = NotebookClient(
        nb, kernel_name="python3", timeout=timeout, resources={"metadata": {"path": str(path.parent)}},
    )
    error = None
    started = time.perf_counter()
    with PeakMemory() as memory:
        try:
            client.execute()
        except CellExecutionError as exc:
            error = str(exc)
        except Exception as exc:  # a timeout or a dead kernel: reported like a failing cell
            error = f"{type(exc).__name__}: {exc}"
    seconds = time.perf_counter() - started
    if output is not None:
        output.mkdir(parents=True, exist_ok=True)
        jupytext.write(nb, output / f"{path.stem}.ipynb")
    return seconds, memory.peak, error


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("prefixes", nargs="*", help="run only notebooks whose names start with one of these")
    parser.add_argument("--limit-mb", type=float, default=2048, help="peak memory limit in MiB (default 2048)")
    parser.add_argument("--output", type=Path, help="save the executed notebooks (.ipynb) in this directory")
    parser.add_argument("--timeout", type=int, default=600, help="seconds allowed per cell (default 600)")
    args = parser.parse_args(argv)
    paths = sorted(p for p in NOTEBOOKS.glob("0*.md") if not args.prefixes or p.name.startswith(tuple(args.prefixes)))
    if not paths:
        print(f"no notebook matches in {NOTEBOOKS}", file=sys.stderr)
        return 1
    limit = args.limit_mb * 2**20
    failed = []
    print(f"{'notebook':<28} {'seconds':>8} {'peak MiB':>9}  result", flush=True)
    for path in paths:
        seconds, peak, error = run(path, args.timeout, args.output)
        verdict = "ok"
        if error is not None:
            verdict = "FAILED"
        elif peak > limit:
            verdict = f"OVER {args.limit_mb:.0f} MiB"
        print(f"{path.name:<28} {seconds:8.1f} {peak / 2**20:9.0f}  {verdict}", flush=True)
        if verdict != "ok":
            failed.append((path.name, error or verdict))
    for name, message in failed:
        print(f"\n--- {name} ---\n{message}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
