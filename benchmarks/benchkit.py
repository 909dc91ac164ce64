"""What every benchmark shares: interleaved timing, the load average, and its section of the page as JSON.

A benchmark writes ``<name>.json`` in its ``--out`` directory: a *section* that the page renderer
(``make_performance_page.py``) prints as it is::

    {"benchmark": name, "title": ..., "text": ..., "load": [1, 5, 15 min before], "load_after": [...],
     "tables": [{"header": [...], "rows": [[...], ...]}], "targets": [{"name", "ratio", "limit", "met"}],
     "raw": {...}}

Timings are interleaved: every repeat runs each case of a group once, in turn, so a case, its peer
and its bound share the same machine load; the best and the median of the repeats are kept.
"""

from __future__ import annotations

import gc
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

Op = Callable[[], Any]


def load() -> list[float]:
    """The 1, 5 and 15 minute load averages."""
    return [round(x, 2) for x in os.getloadavg()]


def interleaved(cases: dict[str, Op], repeat: int) -> dict[str, dict[str, float]]:
    """case -> {"best", "median"} seconds, the cases run in turn ``repeat`` times after one warm-up each."""
    for fn in cases.values():
        fn()
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(repeat):
        for name, fn in cases.items():
            gc.collect()
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    found = {name: {"best": min(t), "median": statistics.median(t)} for name, t in times.items()}
    for name, t in found.items():
        print(f"  {name:<45} best {t['best']:.6f} s  median {t['median']:.6f} s", file=sys.stderr)
    return found


def seconds(t: float) -> str:
    """A time for a table: s, ms or µs."""
    if t >= 1:
        return f"{t:.2f} s"
    return f"{t * 1e3:.1f} ms" if t >= 1e-3 else f"{t * 1e6:.0f} µs"


def ratio(value: float, reference: float) -> str:
    """``value / reference`` as ``1.23x``."""
    r = value / reference
    return f"{r:.2f}x" if r < 10 else f"{r:.1f}x" if r < 100 else f"{r:,.0f}x"


def target(name: str, value: float, bound: float, limit: float) -> dict[str, Any]:
    """A target of the project: ``value / bound <= limit``."""
    return {"name": name, "ratio": value / bound, "limit": limit, "met": value / bound <= limit}


def markdown(section: dict[str, Any]) -> list[str]:
    """A section as Markdown lines (the page renderer and the benchmark's own ``.md`` both use it)."""
    lines = [f"## {section['title']}", "", section["text"], ""]
    loads = [" / ".join(f"{x:.2f}" for x in section[k]) for k in ("load", "load_after") if section.get(k)]
    lines += ["Load average (1 / 5 / 15 min) when it started, and when it ended: " + "; ".join(loads) + ".", ""]
    for t in section["tables"]:
        if t.get("caption"):
            lines += [t["caption"], ""]
        lines += ["| " + " | ".join(t["header"]) + " |", "|" + "---|" * len(t["header"])]
        lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in t["rows"]] + [""]
    if section.get("targets"):
        lines += ["Targets:", ""]
        lines += [f"- {t['name']}: **{'met' if t['met'] else 'missed'}** ({t['ratio']:.2f}x, target <= {t['limit']:g}x)"
                  for t in section["targets"]] + [""]
    return lines


def write_section(out: Path, section: dict[str, Any]) -> None:
    """Write ``<benchmark>.json`` and ``<benchmark>.md`` in ``out`` and print the Markdown."""
    section = {**section, "load_after": load()}
    text = "\n".join(markdown(section))
    print(text)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{section['benchmark']}.json").write_text(json.dumps(section, indent=2) + "\n", encoding="utf-8")
    (out / f"{section['benchmark']}.md").write_text(text + "\n", encoding="utf-8")
