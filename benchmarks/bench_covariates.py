"""Benchmark: BG/NBD and Pareto/NBD with two covariates against the fit without them.

Customers are simulated with known effects of a categorical ``channel`` (3 levels) and a
numeric ``age`` (rounded to whole years, as an age column is) on both processes
(:func:`crmmodels.clv._covariates_sim.simulate_covariate_summary`); recency is put on a
day grid in weeks, as :func:`crmmodels.summarize_transactions` makes it. Each model is
fitted without covariates and with ``covariates=["channel", "age"]`` on the same
summary; the table gives both times, their ratio, the distinct rows each fit works on
and the largest distance of an estimated coefficient from the truth in standard errors.
Results go to results/covariates.md.

    python benchmarks/bench_covariates.py            # 1e5 and 1e6 customers
    python benchmarks/bench_covariates.py --quick    # 1e4 and 1e5
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import fmt_s, write_table
from crmmodels.clv import BGNBD, ParetoNBD
from crmmodels.clv._covariates_sim import EFFECTS, simulate_covariate_summary


def _case(name: str, n: int) -> list[str]:
    model = "bgnbd" if name == "BG/NBD" else "pareto_nbd"
    cls = BGNBD if name == "BG/NBD" else ParetoNBD
    s = simulate_covariate_summary(n, model=model, seed=3)
    s["recency"] = np.round(s["recency"] * 7) / 7  # day grid, in weeks
    s["age"] = np.round(s["age"] * 10) / 10  # whole years, in decades
    started = time.perf_counter()
    plain = cls().fit(s)
    t_plain = time.perf_counter() - started
    started = time.perf_counter()
    cov = cls().fit(s, covariates=["channel", "age"])
    t_cov = time.perf_counter() - started
    c = cov.coefficients_
    truth = np.array([EFFECTS[p][k] for p, k in zip(c["process"], c["covariate"], strict=True)])
    worst = float(np.max(np.abs(c["estimate"] - truth) / c["std_error"]))
    return [
        name,
        f"{n:,}",
        fmt_s(t_plain),
        fmt_s(t_cov),
        f"{t_cov / t_plain:.1f}",
        f"{plain.diagnostics_['n_distinct_rows']:,}",
        f"{cov.diagnostics_['n_distinct_rows']:,}",
        f"{worst:.2f}",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    sizes = [10_000, 100_000] if args.quick else [100_000, 1_000_000]
    load = os.getloadavg()[0]  # other work on the machine when the run started
    rows = []
    for name in ("BG/NBD", "Pareto/NBD"):
        for n in sizes:
            rows.append(_case(name, n))
            print(" | ".join(rows[-1]), flush=True)
    path = write_table(
        "covariates",
        "Covariate fits: two covariates against no covariates",
        [
            "model",
            "customers",
            "fit without (s)",
            "fit with 2 covariates (s)",
            "ratio",
            "distinct rows without",
            "distinct rows with",
            "max abs(estimate - truth) / se",
        ],
        rows,
        "Two covariates (channel: 3 levels, age: numeric, whole years) on both processes, "
        "so 6 coefficients. The covariate fit includes the fit without covariates, which "
        "gives its starting point, and the Hessian for the standard errors (central "
        "differences of the analytic gradient: 2 x 10 gradient evaluations). Recency on a "
        "day grid in weeks, T = 52 weeks. One run on a shared 2-core machine "
        f"(1-minute load average {load:.1f} at the start).",
    )
    print(f"written {path}")


if __name__ == "__main__":
    main()
