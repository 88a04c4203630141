"""Benchmark: funnels of stage histories and of event streams.

Part "metrics": crmmodels.funnel_metrics (pandas and polars input) against a plain pandas
implementation of the same "any"-mode metrics (counts, conversion, time in stage), at
growing sizes. Writes results/funnel.md.

Part "streams": crmmodels.stream_funnel (mode "sequence", the whole log passed with
other_events="ignore") against a plain pandas implementation of the same subsequence
rule, on simulated click streams. Writes results/funnel_streams.md.

Part "retentioneering": stream_funnel against retentioneering's funnel_data on its
bundled e-commerce log, for several funnels and per acquisition channel. Their numbers
are cached in results/retentioneering_ecom.csv; the log is exported outside the
repository with retentioneering installed in its own environment:

    /work/venv-rete/bin/python benchmarks/bench_funnel.py --export-retentioneering /tmp/ecom.csv

Every timed case runs in a fresh interpreter.

    python benchmarks/bench_funnel.py                 # all parts, 1e6 and 1e7 events
    python benchmarks/bench_funnel.py --part streams --quick
    python benchmarks/bench_funnel.py --part retentioneering --ecom /tmp/ecom.csv
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import CACHE, RESULTS, current_rss_mb, fmt_s, rss_mb, run_isolated, write_table

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
    if case.get("part") == "streams":
        return run_stream_case(case)
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


def main_metrics(args: argparse.Namespace) -> None:
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


# ------------------------------------------------------------------ event streams

STREAM_STEPS = ["product_view", "add_to_cart", "shipping_details", "payment_details", "purchase"]
STREAM_OTHER = ["home", "catalog", "search"]
EVENTS_PER_USER = 10


def stream_path(n: int) -> Path:
    """Simulated click stream with about ``n`` events: integer user ids, event names as
    text, second-resolution times over 90 days; users drift toward later steps."""
    CACHE.mkdir(exist_ok=True)
    path = CACHE / f"stream_{n}.parquet"
    if not path.exists():
        rng = np.random.default_rng(n % 1000)
        n_users = max(n // EVENTS_PER_USER, 1)
        user = rng.integers(0, n_users, n)
        secs = rng.integers(0, 90 * 86400, n)
        names = np.array(STREAM_STEPS + STREAM_OTHER)
        depth = secs / (90 * 86400)  # later events lean toward later steps
        k = np.minimum((rng.random(n) ** (1.5 - depth)) * 5, 4).astype(int)
        other = rng.random(n) < 0.45
        code = np.where(other, 5 + rng.integers(0, 3, n), k)
        df = pd.DataFrame(
            {
                "user_id": user,
                "event": names[code],
                "timestamp": pd.Timestamp("2024-01-01") + pd.to_timedelta(secs, unit="s"),
            }
        )
        df.to_parquet(path)
    return path


def plain_pandas_sequence(df: pd.DataFrame, steps: list[str]) -> list[int]:
    """The subsequence rule with vectorised pandas: per step, the first event of the step
    at or after the previous step (isin filter, boolean masks, join, groupby-min)."""
    df = df[df["event"].isin(steps)]
    prev = df[df["event"] == steps[0]].groupby("user_id")["timestamp"].min()
    counts = [len(prev)]
    for step in steps[1:]:
        ev = df.loc[df["event"] == step, ["user_id", "timestamp"]]
        ev = ev.join(prev.rename("prev"), on="user_id", how="inner")
        prev = ev.loc[ev["timestamp"] >= ev["prev"]].groupby("user_id")["timestamp"].min()
        counts.append(len(prev))
    return counts


def _walk(events: pd.Series, steps: list[str]) -> int:
    """Steps reached by one user's time-sorted event names (steps as a subsequence)."""
    reached = 0
    for name in events:
        if reached < len(steps) and name == steps[reached]:
            reached += 1
    return reached


def analyst_pandas_sequence(df: pd.DataFrame, steps: list[str]) -> list[int]:
    """The subsequence rule as an analyst writes it: sort, group by user, walk each path
    with a small Python function (groupby-apply)."""
    df = df.sort_values(["user_id", "timestamp"], kind="stable")
    reached = df.groupby("user_id")["event"].apply(lambda ev: _walk(ev, steps))
    return [int((reached > i).sum()) for i in range(len(steps))]


def run_stream_case(case: dict[str, object]) -> dict[str, object]:
    n = int(case["n"])  # type: ignore[call-overload]
    tool = str(case["tool"])
    df = pd.read_parquet(stream_path(n))
    from crmmodels.funnel import stream_funnel

    kw = {
        "stages": STREAM_STEPS,
        "entity_col": "user_id",
        "stage_col": "event",
        "date_col": "timestamp",
        "other_events": "ignore",
    }
    frame: object = df
    if tool == "crmmodels-polars":
        import polars as pl

        frame = pl.from_pandas(df)
    # warm-up on a few rows: imports and first-call set-up are not what is measured
    stream_funnel(frame.head(50), **kw)  # type: ignore[attr-defined]
    plain_pandas_sequence(df.head(50), STREAM_STEPS)
    analyst_pandas_sequence(df.head(50), STREAM_STEPS)
    base = current_rss_mb()
    t0 = time.perf_counter()
    if tool.startswith("crmmodels"):
        entered = [int(v) for v in stream_funnel(frame, **kw).to_frame()["entered"]]
    elif tool == "analyst-pandas":
        entered = analyst_pandas_sequence(df, STREAM_STEPS)
    else:
        entered = plain_pandas_sequence(df, STREAM_STEPS)
    elapsed = time.perf_counter() - t0
    return {
        "seconds": elapsed,
        "peak_mb": max(rss_mb() - base, 0.0),
        "events": len(df),
        "entered": entered,
    }


def main_streams(args: argparse.Namespace, script: Path) -> None:
    sizes = args.sizes or ([10_000, 100_000] if args.quick else [100_000, 1_000_000, 10_000_000])
    tools = ["crmmodels-pandas", "crmmodels-polars", "plain-pandas", "analyst-pandas"]
    rows = []
    last_analyst: tuple[int, float] | None = None  # (events, seconds) of the largest run
    for n in sizes:
        stream_path(n)
        res = {}
        for t in tools:
            if t == "analyst-pandas" and n > args.analyst_max:
                res[t] = {}
                continue
            runs = [
                run_isolated(script, {"part": "streams", "n": n, "tool": t})
                for _ in range(args.repeat)
            ]
            ok = [r for r in runs if "seconds" in r]
            res[t] = min(ok, key=lambda r: r["seconds"]) if ok else runs[0]
            print(n, t, res[t], flush=True)
        vec = res["plain-pandas"].get("seconds")
        ana = res["analyst-pandas"].get("seconds")
        guessed = False
        if ana:
            last_analyst = (n, float(ana))
        elif last_analyst:  # one Python call per user: time grows with the users
            ana, guessed = last_analyst[1] * n / last_analyst[0], True
        for t in tools[:2]:
            r = res[t]
            s = r.get("seconds")
            same = all(r.get("entered") == res[b].get("entered") for b in tools[2:] if res[b])
            rows.append(
                [
                    f"{r.get('events', n):,}",
                    t.split("-")[1],
                    fmt_s(s),
                    fmt_s(vec),
                    f"{vec / s:.1f}x" if s and vec else "n/a",
                    (f"~{fmt_s(ana)} (extrapolated)" if guessed else fmt_s(ana))
                    if ana
                    else "not run",
                    f"{ana / s:.0f}x" if s and ana else "n/a",
                    f"{r.get('peak_mb', 0):.0f}",
                    f"{res['plain-pandas'].get('peak_mb', 0):.0f}",
                    "yes" if same else "NO",
                ]
            )
    load = os.getloadavg()
    notes = (
        "`stream_funnel(log, stages=5 steps, other_events='ignore')` (mode 'sequence': the "
        "steps as a subsequence of each user's path) against two pandas implementations of "
        "the same rule. 'pandas, vectorised' is written by an expert: isin filter, then per "
        "step a boolean mask, a join on the previous step's time and a groupby-min. "
        "'pandas, groupby-apply' is what an analyst writes: sort by user and time, group by "
        "user, apply a small Python function that walks each path. crmmodels also "
        "validates the log, reports the ignored events and computes the time-to-convert "
        "statistics. Simulated "
        f"click streams: about {EVENTS_PER_USER} events per user (integer ids), 8 event "
        "names as text (45% not funnel steps), times to the second over 90 days. Each case "
        f"runs {args.repeat} times, each in a fresh process after a warm-up call on 50 "
        "rows, and the best time is shown; peak memory is RSS growth above the loaded "
        "input; 'same' checks the counts per step against both pandas implementations. "
        f"The groupby-apply implementation is timed up to {args.analyst_max:,} events; "
        "beyond that its time is extrapolated linearly from the largest size timed "
        "(marked). "
        "Python "
        f"{platform.python_version()}, pandas {pd.__version__}, {platform.machine()}, "
        "2 cores shared with other jobs: load average "
        f"{load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1 / 5 / 15 min) at the end of the run "
        "(timings noisy)."
    )
    header = [
        "events",
        "input",
        "crmmodels s",
        "pandas vectorised s",
        "speed-up",
        "pandas groupby-apply s",
        "speed-up",
        "crmmodels peak MiB",
        "pandas vectorised peak MiB",
        "same",
    ]
    title = "Event-stream funnel (stream_funnel, mode 'sequence')"
    path = write_table("funnel_streams", title, header, rows, notes)
    print(path.read_text())


ECOM_FUNNELS = {
    "checkout": ["product_view", "add_to_cart", "shipping_details", "payment_details", "purchase"],
    "catalog": ["catalog", "product_view", "add_to_cart", "purchase"],
    "home": ["home", "catalog", "product_view"],
    "view_cart_buy": ["product_view", "add_to_cart", "purchase"],
    "promo": ["promo_page", "product_view", "add_to_cart", "purchase"],
    "cart_page": ["cart", "shipping_details", "payment_details", "purchase"],
    "search": ["search", "product_view", "wishlist_add", "add_to_cart"],
}
ECOM_SEGMENT = "acquisition_channel"
THEIR_NUMBERS = RESULTS / "retentioneering_ecom.csv"


def export_retentioneering(log_csv: Path) -> None:
    """Run in an environment with retentioneering: write its ecom log and its funnels."""
    import retentioneering  # type: ignore[import-not-found]
    from retentioneering.datasets import load_ecom  # type: ignore[import-not-found]

    stream = load_ecom()
    df = stream.to_dataframe()
    df[["user_id", "event", "timestamp", ECOM_SEGMENT]].to_csv(log_csv, index=False)
    rows = []
    for name, steps in ECOM_FUNNELS.items():
        out = stream.funnel_data(steps=steps)
        for i, step in enumerate(out["steps"]):
            rows.append((name, "", i + 1, step["step"], step["unique_paths"]))
        for seg in sorted(df[ECOM_SEGMENT].unique()):
            diff = stream.funnel_data(steps=steps, diff=(ECOM_SEGMENT, seg, "<REST>"))
            for i, step in enumerate(diff["steps"]):
                rows.append((name, seg, i + 1, step["step"], step["funnel1_unique_paths"]))
    their = pd.DataFrame(rows, columns=["funnel", "segment", "step", "stage", "paths"])
    their.to_csv(THEIR_NUMBERS, index=False)
    print(f"retentioneering {retentioneering.__version__}: {len(df)} events -> {log_csv}")


def main_retentioneering(log_csv: Path) -> None:
    """Our counts on their log against their cached numbers; writes the comparison table."""
    if not log_csv.exists():
        print(f"{log_csv} not found: export it first (see the module docstring); skipped")
        return
    from crmmodels.funnel import stream_funnel

    df = pd.read_csv(log_csv, parse_dates=["timestamp"])
    their = pd.read_csv(THEIR_NUMBERS, keep_default_na=False)
    kw = {"entity_col": "user_id", "stage_col": "event", "date_col": "timestamp"}
    rows = []
    seg_same = seg_total = 0
    for _, part in their.groupby("funnel", sort=False):
        steps = part.loc[part["segment"] == "", "stage"].tolist()
        res = stream_funnel(df, stages=steps, other_events="ignore", segment_col=ECOM_SEGMENT, **kw)
        ordered = stream_funnel(df, stages=steps, other_events="ignore", mode="ordered", **kw)
        ours = res.to_frame()["entered"].tolist()
        theirs = part.loc[part["segment"] == "", "paths"].tolist()
        seg = res.segments
        assert seg is not None
        for s, sp in part[part["segment"] != ""].groupby("segment"):
            mine = seg.loc[seg["segment"] == s, "entered"].tolist()
            seg_total += 1
            seg_same += mine == sp["paths"].tolist()
        rows.append(
            [
                " → ".join(steps),
                ", ".join(map(str, theirs)),
                ", ".join(map(str, ours)),
                ", ".join(map(str, ordered.to_frame()["entered"].tolist())),
                "yes" if ours == theirs else "NO",
            ]
        )
    notes = (
        "retentioneering 5.2 `Eventstream.funnel_data(steps=...)` on its bundled "
        "e-commerce log (`load_ecom()`: 600 users, 31,106 events) against "
        "`stream_funnel(log, stages=steps, other_events='ignore')` on the same log exported "
        "to CSV (users per step). Their numbers are cached in "
        "`results/retentioneering_ecom.csv` (the comparison never runs in the test suite). "
        "The last column shows the first-entry rule (`mode='ordered'`, the rule of "
        "`funnel_metrics`) for contrast. Per acquisition channel (their diff mode, "
        f"`funnel1_unique_paths`): {seg_same} of {seg_total} segment funnels give the same "
        "counts per step."
    )
    header = ["steps", "retentioneering", "crmmodels sequence", "crmmodels ordered", "same"]
    title = "Event-stream funnel against retentioneering (ecom log)"
    path = write_table("funnel_retentioneering", title, header, rows, notes)
    print(path.read_text())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--case")
    ap.add_argument("--sizes", type=lambda s: [int(float(x)) for x in s.split(",")])
    ap.add_argument("--repeat", type=int, default=3, help="fresh-process runs per case")
    ap.add_argument(
        "--analyst-max",
        type=int,
        default=10_000_000,
        help="largest log timed with the groupby-apply pandas implementation",
    )
    ap.add_argument("--part", choices=["all", "metrics", "streams", "retentioneering"])
    ap.add_argument("--ecom", default="/tmp/ecom.csv", help="retentioneering's ecom log (CSV)")
    ap.add_argument("--export-retentioneering", metavar="CSV")
    args = ap.parse_args()
    if args.case:
        print(json.dumps(run_case(json.loads(args.case))))
        return
    if args.export_retentioneering:
        export_retentioneering(Path(args.export_retentioneering))
        return
    part = args.part or "all"
    if part in ("all", "metrics"):
        main_metrics(args)
    if part in ("all", "streams"):
        main_streams(args, Path(__file__))
    if part in ("all", "retentioneering"):
        main_retentioneering(Path(args.ecom))


if __name__ == "__main__":
    main()
