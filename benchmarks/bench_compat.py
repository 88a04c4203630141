"""Benchmark: crmmodels.compat.lifetimes against lifetimes, same calls, same data.

Customers are simulated with the compat simulators (CDNOW-like BG/NBD, Pareto/NBD and
Gamma-Gamma parameters; BG/BB with 6 opportunities, one row per customer, no weights),
recency and T rounded to 1/100 week as in the CDNOW summary. Each fitter is fitted through
the compat layer (a drop-in import change) and through lifetimes on the same arrays; the
largest relative parameter difference is listed next to the times. Prediction and CLV are
timed with lifetimes' own calls (``conditional_expected_number_of_purchases_up_to_time``
and ``GammaGammaFitter.customer_lifetime_value``, 12 months).

    python benchmarks/bench_compat.py            # 1e5 and 1e6 customers
    python benchmarks/bench_compat.py --quick    # 1e4 and 1e5
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import crmmodels.compat.lifetimes as C
from _harness import fmt_s, write_table
from crmmodels.compat.lifetimes import generate_data as G

warnings.filterwarnings("ignore")


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def rfm(n: int, kind: str, seed: int) -> pd.DataFrame:
    if kind == "pareto":
        df = G.pareto_nbd_model(39.0, 0.55, 10.58, 0.61, 11.67, size=n, seed=seed)
    else:
        df = G.beta_geometric_nbd_model(39.0, 0.24, 4.41, 0.79, 2.43, size=n, seed=seed)
    df["recency"] = df["recency"].round(2)
    df["T"] = 39.0 - np.random.default_rng(seed).integers(0, 12 * 7, n) / 7.0
    df["T"] = df["T"].round(2)
    df["recency"] = np.minimum(df["recency"], df["T"])
    rng = np.random.default_rng(seed + 1)
    nu = rng.gamma(3.74, 1.0 / 15.45, size=n)
    x = df["frequency"].to_numpy()
    spend = rng.gamma(6.25 * np.maximum(x, 1), 1.0 / nu) / np.maximum(x, 1)
    df["monetary_value"] = np.where(x > 0, spend, 0.0)
    return df.reset_index(drop=True)


def rel(a: pd.Series, b: pd.Series) -> str:
    return f"{float(np.max(np.abs(a.to_numpy() / b.to_numpy() - 1))):.1e}"


def bench_size(n: int, lifetimes: Any, add: Callable[..., None], pareto_max: int) -> None:
    """Time every call at one size."""
    d = rfm(n, "bg", 1)
    f, r, t = d["frequency"], d["recency"], d["T"]
    fitted: dict[str, tuple[Any, Any]] = {}
    for name in ("BetaGeoFitter", "ModifiedBetaGeoFitter"):
        t_ours, ours = timed(lambda name=name: getattr(C, name)().fit(f, r, t))
        t_ref, ref = timed(lambda name=name: getattr(lifetimes, name)().fit(f, r, t))
        add(n, f"{name}.fit", t_ours, t_ref, rel(ours.params_, ref.params_))
        fitted[name] = (ours, ref)
    p = rfm(n, "pareto", 2)
    t_ours, ours = timed(lambda: C.ParetoNBDFitter().fit(p["frequency"], p["recency"], p["T"]))
    if n <= pareto_max:
        t_ref, ref = timed(
            lambda: lifetimes.ParetoNBDFitter().fit(p["frequency"], p["recency"], p["T"])
        )
        add(n, "ParetoNBDFitter.fit", t_ours, t_ref, rel(ours.params_, ref.params_))
    else:
        add(n, "ParetoNBDFitter.fit", t_ours, None, "")
    ret = d[d["frequency"] > 0]
    t_ours, gg = timed(lambda: C.GammaGammaFitter().fit(ret["frequency"], ret["monetary_value"]))
    t_ref, gg_ref = timed(
        lambda: lifetimes.GammaGammaFitter().fit(ret["frequency"], ret["monetary_value"])
    )
    add(n, "GammaGammaFitter.fit", t_ours, t_ref, rel(gg.params_, gg_ref.params_))
    b = G.beta_geometric_beta_binom_model(6, 1.2, 0.75, 0.66, 2.78, size=n, seed=3)
    bargs = (b["frequency"], b["recency"], b["n_periods"])
    t_ours, bb = timed(lambda: C.BetaGeoBetaBinomFitter().fit(*bargs))
    t_ref, bb_ref = timed(lambda: lifetimes.BetaGeoBetaBinomFitter().fit(*bargs))
    add(
        n,
        "BetaGeoBetaBinomFitter.fit (6 periods)",
        t_ours,
        t_ref,
        rel(bb.params_, bb_ref.params_),
    )
    ours, ref = fitted["BetaGeoFitter"]
    ref.params_ = ours.params_.copy()
    t_ours, a = timed(lambda: ours.conditional_expected_number_of_purchases_up_to_time(39, f, r, t))
    t_ref, bref = timed(
        lambda: ref.conditional_expected_number_of_purchases_up_to_time(39, f, r, t)
    )
    add(n, "BG/NBD conditional expected purchases", t_ours, t_ref, rel(a, bref))
    gg_ref.params_ = gg.params_.copy()
    m = d["monetary_value"]
    t_ours, a = timed(lambda: gg.customer_lifetime_value(ours, f, r, t, m, freq="W"))
    t_ref, bref = timed(lambda: gg_ref.customer_lifetime_value(ref, f, r, t, m, freq="W"))
    ok = bref.to_numpy() != 0
    add(n, "customer_lifetime_value (12 months)", t_ours, t_ref, rel(a[ok], bref[ok]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    import lifetimes

    sizes = [10_000, 100_000] if args.quick else [100_000, 1_000_000]
    pareto_max = 100_000
    rows: list[list[str]] = []

    def add(n: int, task: str, ours: float, ref: float | None, diff: str) -> None:
        ratio = f"{ref / ours:.0f}x" if ref is not None else "n/a"
        rows.append([f"{n:.0e}", task, fmt_s(ours), fmt_s(ref) if ref else "not run", ratio, diff])
        print(rows[-1], flush=True)

    for n in sizes:
        bench_size(n, lifetimes, add, pareto_max)
    notes = (
        "Same calls through `crmmodels.compat.lifetimes` (the drop-in import) and through "
        f"lifetimes {lifetimes.__version__}, on the same simulated arrays, one run on a "
        "shared 2-core machine (timings are noisy; ratios are from this run). 'max rel. "
        "diff' is the largest relative difference of the fitted parameters (or of the "
        "predictions, with identical parameters). lifetimes' Pareto/NBD (Nelder-Mead) was "
        f"run up to {pareto_max:.0e} customers only: at 1e6 it takes minutes."
    )
    header = ["customers", "call", "compat s", "lifetimes s", "speed-up", "max rel. diff"]
    path = write_table(
        "compat", "lifetimes drop-in (crmmodels.compat.lifetimes)", header, rows, notes
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
