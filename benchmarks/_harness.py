"""Shared helpers for the benchmarks: timing and peak memory in a fresh subprocess."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
CACHE = HERE / "_cache"
RESULTS = HERE / "results"


def rss_mb() -> float:
    """Peak resident set size of this process so far, in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def current_rss_mb() -> float:
    """Current resident set size in MiB (Linux /proc)."""
    with open("/proc/self/statm") as fh:
        pages = int(fh.read().split()[1])
    return pages * resource.getpagesize() / 2**20


def timed(fn: Callable[[], Any], repeat: int = 1) -> float:
    """Best wall time of ``repeat`` calls, in seconds."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def run_isolated(script: Path, case: dict[str, Any], timeout: float = 1800) -> dict[str, Any]:
    """Run ``script --case JSON`` in a fresh interpreter and return its JSON result."""
    proc = subprocess.run(
        [sys.executable, str(script), "--case", json.dumps(case)],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1] if proc.stderr else "failed"}
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def best_of_isolated(script: Path, case: dict[str, Any], repeat: int) -> dict[str, Any]:
    """Run a case ``repeat`` times, each in a fresh interpreter, and keep the fastest run.

    On a shared machine a single run can be twice as slow as the next one (first-touch
    page faults on fresh memory); the fastest of several runs is the least noisy estimate
    of the code's own cost. ``seconds_max`` keeps the slowest run and ``peak_mb`` the
    largest peak, so neither the spread nor the memory is hidden.
    """
    runs = [run_isolated(script, case) for _ in range(max(repeat, 1))]
    ok = [r for r in runs if "seconds" in r]
    if not ok:
        return runs[0]
    best = dict(min(ok, key=lambda r: float(r["seconds"])))
    best["seconds_max"] = max(float(r["seconds"]) for r in ok)
    best["peak_mb"] = max(float(r.get("peak_mb", 0.0)) for r in ok)
    best["runs"] = len(ok)
    return best


def write_table(
    name: str, title: str, header: list[str], rows: list[list[str]], notes: str
) -> Path:
    """Write a Markdown table to ``results/<name>.md``."""
    RESULTS.mkdir(exist_ok=True)
    lines = [f"## {title}", "", notes, "", "| " + " | ".join(header) + " |"]
    lines.append("|" + "|".join("---" for _ in header) + "|")
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    path = RESULTS / f"{name}.md"
    path.write_text("\n".join(lines) + "\n")
    return path


def fmt_s(x: float | None) -> str:
    """Format seconds."""
    if x is None:
        return "n/a"
    return f"{x:.3f}" if x < 10 else f"{x:.1f}"
