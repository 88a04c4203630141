"""Demo step: what one ``analyze`` call costs on CDNOW, step by step, and its table's size."""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd

from crmmodels.analysis import analyze
from crmmodels.datasets import load_cdnow


def run(out_dir: Path) -> list[str]:
    """Time ``analyze`` on the CDNOW log and show the bytes per customer of its table."""
    tx = load_cdnow()[["customer_id", "date", "amount"]]
    input_bytes = int(tx.memory_usage(deep=True, index=False).sum())
    started = time.perf_counter()
    result = analyze(tx, observation_end="1998-06-30")
    seconds = time.perf_counter() - started
    table = result.to_frame()
    n = len(table)
    sizes = table.memory_usage(deep=True, index=False)
    kinds = pd.DataFrame(
        {
            "dtype": table.dtypes.astype(str),
            "bytes per customer": (sizes / max(n, 1)).round(1),
        }
    )
    by_kind = kinds.groupby("dtype")["bytes per customer"].agg(["count", "sum"])
    by_kind.columns = ["columns", "bytes per customer"]
    steps = result.steps.to_frame()[["step", "status", "seconds"]]
    path = out_dir / "analysis_steps.csv"
    steps.to_csv(path, index=False)
    return [
        f"crm.analyze on CDNOW ({len(tx):,} rows, {n:,} customers): {seconds:.1f} s.",
        "Steps:\n" + steps.round(2).to_string(index=False),
        f"Customer table: {len(table.columns)} columns, {sizes.sum() / max(n, 1):.0f} bytes "
        f"per customer ({sizes.sum() / 2**20:.1f} MiB; the log is "
        f"{input_bytes / 2**20:.1f} MiB). Labels are categoricals, scores and deciles "
        "one-byte integers:\n" + by_kind.sort_values("bytes per customer").to_string(),
        f"step times: {path}",
    ]
