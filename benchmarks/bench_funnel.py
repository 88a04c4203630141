"""Benchmark: stage-history log -> per-stage funnel metrics.

crmmodels.funnel_metrics (pandas and polars input) against a plain pandas implementation
of the same "any"-mode metrics (counts, conversion, time in stage), at growing sizes.
Every case runs in a fresh interpreter. Writes results/funnel.md.

    python benchmarks/bench_funnel.py                 # 1e6 and 1e7 stage events
    python benchmarks/bench_funnel.py --quick         # 1e4 and 1e5
    python benchmarks/bench_funnel.py --sizes 1e6,3e6 --repeat 1
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import CACHE, current_rss_mb, fmt_s, rss_mb, run_isolated, write_table

STAGES = ["lead_generation", "needs_analysis", "proposal_quote", "closed_won"]
LOST = "closed_lost"
EVENTS_PER_ENTITY = 2.9  # simulate_funnel defaults: 1 + 0.6 + 0.6 * 0.5 + ...


def data_path(n: int) -> Path:
    """Simulated log with about ``n`` events (1% exact duplicates added)."""
    CACHE.mkdir(exist_ok=True)
    path = CACHE / f"funnel_{n}.parquet"
    if not path.exists():
        from crmmodels.datasets._funnel import simulate_funnel

        sim = simulate_funnel(int(n / EVENTS_PER_ENTITY), seed=n % 1000, owners=0, segments=())
        h = sim.history
        dup = h.sample(frac=0.01, random_state=0)
        h = pd.concat([h, dup], ignore_index=True)
        h = h.sample(frac=1.0, random_state=1).reset_index(drop=True)
        h.to_parquet(path)
    return path


def plain_pandas(df: pd.DataFrame) -> pd.DataFrame:
    """The same per-stage metrics with vectorised pandas (mode 'any')."""
    k = len(STAGES)
    df = df.drop_duplicates(["entity_id", "stage", "entered_at"])
    fun = df[df["stage"].isin(STAGES)]
    reentries = fun.groupby("stage").size() - fun.groupby("stage")["entity_id"].nunique()
    first = df.groupby(["entity_id", "stage"])["entered_at"].min().unstack()
    f = first.reindex(columns=STAGES)
    x = first[LOST] if LOST in first.columns else pd.Series(pd.NaT, index=first.index)
    obs = f.notna()
    n = (obs * np.arange(1, k + 1)).max(axis=1)
    entered = np.array([(n > i).sum() for i in range(k)])
    advanced = np.append(entered[1:], 0)
    last_time = f.ffill(axis=1).iloc[:, -1]
    dropped_mask = x.notna() & (x >= last_time) & (n < k) & (n > 0)
    open_mask = ~dropped_mask & (n < k) & (n > 0)
    dropped = dropped_mask.groupby(n).sum().reindex(range(1, k + 1), fill_value=0).to_numpy()
    open_ = open_mask.groupby(n).sum().reindex(range(1, k + 1), fill_value=0).to_numpy()
    later = f.iloc[:, ::-1].cummin(axis=1).iloc[:, ::-1].shift(-1, axis=1)
    rows = []
    for i, s in enumerate(STAGES[:-1]):
        end = later[s].where(later[s].notna(), x.where(dropped_mask & (n == i + 1)))
        d = (end - f[s]).dt.total_seconds() / 86400.0
        d = d[d >= 0]
        rows.append((d.mean(), d.median(), d.quantile(0.9)))
    rows.append((np.nan, np.nan, np.nan))
    out = pd.DataFrame(
        {
            "stage": STAGES,
            "entered": entered,
            "advanced": advanced,
            "dropped": np.append(dropped[:-1], 0),
            "open": np.append(open_[:-1], 0),
            "reentries": reentries.reindex(STAGES, fill_value=0).to_numpy(),
        }
    )
    out["conversion"] = out["advanced"] / out["entered"]
    out["cumulative_conversion"] = out["entered"] / out["entered"].iloc[0]
    out[["time_mean", "time_median", "time_p90"]] = rows
    return out


def run_case(case: dict[str, object]) -> dict[str, object]:
    n = int(case["n"])  # type: ignore[call-overload]
    tool = str(case["tool"])
    df = pd.read_parquet(data_path(n))
    if tool == "crmmodels-polars":
        import polars as pl

        frame: object = pl.from_pandas(df)
    else:
        frame = df
    from crmmodels.funnel import funnel_metrics

    base = current_rss_mb()
    t0 = time.perf_counter()
    out = funnel_metrics(frame).to_frame() if tool.startswith("crmmodels") else plain_pandas(df)
    elapsed = time.perf_counter() - t0
    return {
        "seconds": elapsed,
        "peak_mb": max(rss_mb() - base, 0.0),
        "events": len(df),
        "entered": [int(v) for v in out["entered"]],
        "time_mean": [round(float(v), 6) for v in out["time_mean"].fillna(-1)],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--case")
    ap.add_argument("--sizes", type=lambda s: [int(float(x)) for x in s.split(",")])
    ap.add_argument("--repeat", type=int, default=3, help="fresh-process runs per case")
    args = ap.parse_args()
    if args.case:
        print(json.dumps(run_case(json.loads(args.case))))
        return
    sizes = args.sizes or ([10_000, 100_000] if args.quick else [1_000_000, 10_000_000])
    tools = ["crmmodels-pandas", "crmmodels-polars", "plain-pandas"]
    rows = []
    for n in sizes:
        data_path(n)
        res = {}
        for t in tools:
            runs = [run_isolated(Path(__file__), {"n": n, "tool": t}) for _ in range(args.repeat)]
            ok = [r for r in runs if "seconds" in r]
            res[t] = min(ok, key=lambda r: r["seconds"]) if ok else runs[0]
        for t in tools:
            print(n, t, {k: v for k, v in res[t].items() if k != "entered"}, flush=True)
        pp = res["plain-pandas"].get("seconds")
        same = all(
            res[t].get("entered") == res["plain-pandas"].get("entered")
            and res[t].get("time_mean") == res["plain-pandas"].get("time_mean")
            for t in tools[:2]
        )
        for t in tools[:2]:
            r = res[t]
            s = r.get("seconds")
            rows.append(
                [
                    f"{r.get('events', n):,}",
                    t.split("-")[1],
                    fmt_s(s),
                    fmt_s(pp),
                    f"{pp / s:.1f}x" if s and pp else "n/a",
                    f"{r.get('peak_mb', 0):.0f}",
                    f"{res['plain-pandas'].get('peak_mb', 0):.0f}",
                    "yes" if same else "NO",
                ]
            )
    notes = (
        "`funnel_metrics(history)` (mode 'any', default sales funnel) vs a vectorised plain "
        "pandas implementation of the same counts, conversions and time-in-stage statistics "
        "(drop_duplicates, groupby-min, unstack, column arithmetic). Logs simulated with "
        "`simulate_funnel` (about 2.9 events per entity, 1% exact duplicates, shuffled). "
        f"Each case runs {args.repeat} times, each in a fresh process, and the best time is "
        "shown (the machine is shared and loaded); peak memory is RSS growth above the loaded "
        "input; 'same' checks that entered counts and mean times agree. Python "
        f"{platform.python_version()}, pandas {pd.__version__}, {platform.machine()}, "
        "2 shared cores (timings noisy)."
    )
    header = [
        "events",
        "input",
        "crmmodels s",
        "plain pandas s",
        "speed-up",
        "crmmodels peak MiB",
        "pandas peak MiB",
        "same",
    ]
    path = write_table("funnel", "Sales funnel (funnel_metrics)", header, rows, notes)
    print(path.read_text())


if __name__ == "__main__":
    main()
