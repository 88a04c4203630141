"""Benchmark: transaction log -> customer summary.

crmmodels.summarize_transactions (pandas and polars input) against lifetimes'
summary_data_from_transaction_data and a plain pandas groupby, at growing sizes. Every
case runs in a fresh interpreter so its peak memory (RSS above the loaded input) is its
own. Writes results/transactions.md.

    python benchmarks/bench_transactions.py            # 1e5, 1e6, 1e7 transactions
    python benchmarks/bench_transactions.py --quick    # 1e4, 1e5
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
from _harness import CACHE, best_of_isolated, current_rss_mb, fmt_s, rss_mb, write_table

END = "2021-12-31"


def data_path(n: int) -> Path:
    CACHE.mkdir(exist_ok=True)
    path = CACHE / f"tx_{n}.parquet"
    if not path.exists():
        rng = np.random.default_rng(n)
        n_cust = max(n // 5, 1)
        start = np.datetime64("2020-01-01")
        days = rng.integers(0, 731, n)
        df = pd.DataFrame(
            {
                "customer_id": rng.integers(0, n_cust, n),
                "date": (start + days.astype("timedelta64[D]")).astype("datetime64[ns]"),
                "amount": rng.gamma(2.0, 20.0, n).round(2),
            }
        )
        df.to_parquet(path)
    return path


def plain_pandas(tx: pd.DataFrame) -> pd.DataFrame:
    day = tx["date"].dt.floor("D")
    per = tx.assign(day=day).groupby(["customer_id", "day"], sort=False)["amount"].sum()
    per = per.reset_index()
    g = per.groupby("customer_id")
    first = g["day"].min()
    last = g["day"].max()
    n = g.size()
    total = g["amount"].sum()
    first_amt = per.merge(first.rename("day").reset_index(), on=["customer_id", "day"])
    first_amt = first_amt.set_index("customer_id")["amount"]
    out = pd.DataFrame(
        {
            "frequency": n - 1,
            "recency": (last - first).dt.days,
            "T": (pd.Timestamp(END) - first).dt.days,
        }
    )
    out["monetary_value"] = np.where(
        out["frequency"] > 0, (total - first_amt) / out["frequency"].clip(lower=1), 0.0
    )
    return out


def run_case(case: dict[str, object]) -> dict[str, object]:
    n = int(case["n"])  # type: ignore[call-overload]
    tool = str(case["tool"])
    tx = pd.read_parquet(data_path(n))
    if tool == "crmmodels-polars":
        import polars as pl

        frame: object = pl.from_pandas(tx)
        input_mb = float(frame.estimated_size()) / 2**20  # type: ignore[attr-defined]
    else:
        frame = tx
        input_mb = float(tx.memory_usage(deep=True).sum()) / 2**20
    from lifetimes.utils import summary_data_from_transaction_data

    from crmmodels import summarize_transactions

    base = current_rss_mb()
    t0 = time.perf_counter()
    if tool.startswith("crmmodels"):
        out = summarize_transactions(frame, amount_col="amount", observation_end=END)
        n_out = len(out)
    elif tool == "lifetimes":
        out = summary_data_from_transaction_data(
            tx, "customer_id", "date", monetary_value_col="amount", observation_period_end=END
        )
        n_out = len(out)
    else:
        n_out = len(plain_pandas(tx))
    elapsed = time.perf_counter() - t0
    peak = max(rss_mb() - base, 0.0)
    return {"seconds": elapsed, "peak_mb": peak, "input_mb": input_mb, "rows_out": n_out}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--case")
    ap.add_argument("--sizes", type=lambda s: [int(float(x)) for x in s.split(",")])
    ap.add_argument("--repeat", type=int, default=3, help="fresh runs per case; the fastest counts")
    args = ap.parse_args()
    if args.case:
        print(json.dumps(run_case(json.loads(args.case))))
        return
    sizes = args.sizes or ([10_000, 100_000] if args.quick else [100_000, 1_000_000, 10_000_000])
    tools = ["crmmodels-pandas", "crmmodels-polars", "lifetimes", "plain-pandas"]
    rows = []
    for n in sizes:
        data_path(n)
        res = {t: best_of_isolated(Path(__file__), {"n": n, "tool": t}, args.repeat) for t in tools}
        for t in tools:
            print(n, t, res[t], flush=True)
        lt = res["lifetimes"].get("seconds")
        pp = res["plain-pandas"].get("seconds")
        lt_max = res["lifetimes"].get("seconds_max")
        for t in ("crmmodels-pandas", "crmmodels-polars"):
            r = res[t]
            s = r.get("seconds")
            rows.append(
                [
                    f"{n:.0e}",
                    t.split("-")[1],
                    fmt_s(s),
                    fmt_s(r.get("seconds_max")),
                    fmt_s(lt),
                    fmt_s(pp),
                    f"{lt / s:.1f}x" if s and lt else "n/a",
                    f"{lt_max / r['seconds_max']:.1f}x" if s and lt_max else "n/a",
                    f"{pp / s:.1f}x" if s and pp else "n/a",
                    f"{r.get('peak_mb', 0):.0f} / {r.get('input_mb', 0):.0f}",
                    f"{r.get('peak_mb', 0) / max(r.get('input_mb', 1), 1e-9):.2f}",
                ]
            )
    notes = (
        f"`summarize_transactions(amount_col=...)` vs lifetimes 0.11.3 "
        f"`summary_data_from_transaction_data` and a plain pandas groupby, day periods, "
        f"5 transactions per customer on average over two years. Each case runs "
        f"{args.repeat} times, each in a fresh process; the times are the fastest run of "
        f"each tool (the slowest of ours, and the ratio of the slowest runs, are shown "
        f"too) and peak memory is the largest RSS growth above the loaded input. Python "
        f"{platform.python_version()}, pandas {pd.__version__}, {platform.machine()}."
    )
    header = [
        "transactions",
        "input",
        "crmmodels s",
        "crmmodels slowest s",
        "lifetimes s",
        "plain pandas s",
        "vs lifetimes",
        "vs lifetimes, slowest runs",
        "vs pandas",
        "peak MiB / input MiB",
        "peak/input",
    ]
    path = write_table(
        "transactions", "Customer summary (summarize_transactions)", header, rows, notes
    )
    print(path.read_text())


if __name__ == "__main__":
    main()
