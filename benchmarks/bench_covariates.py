"""Benchmark: BG/NBD and Pareto/NBD with two covariates against the fit without them.

Customers are simulated with known covariate effects
(:func:`crmmodels.clv._covariates_sim.simulate_covariate_summary`); recency is put on a
day grid in weeks, as :func:`crmmodels.summarize_transactions` makes it. Two cases:

* (a) two categorical covariates, ``channel`` (3 levels, with effects on both processes)
  and ``region`` (4 levels, drawn independently, no effect): 12 covariate patterns, so
  the rows compress by (history, pattern), the case of issue 15;
* (b) ``channel`` and a numeric ``age`` with effects on both processes, rounded to whole
  years: about 270 patterns, the harder case.

Each model is fitted without covariates and with the two covariates on both processes
on the same summary (best of ``--repeat`` runs each); the table gives both times, their
ratio, the distinct rows each fit works on, the likelihood evaluations of the covariate
fit (on all rows, and on the subsample that gives its start), the time of building the
design alone and the ratio without it, and the largest distance of an estimated
coefficient from the truth in standard errors. Results go to results/covariates.md.

    python benchmarks/bench_covariates.py            # 1e5 and 1e6 customers
    python benchmarks/bench_covariates.py --quick    # 1e4 and 1e5
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

import narwhals.stable.v2 as nw
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import fmt_s, timed, write_table
from crmmodels.clv import BGNBD, ParetoNBD
from crmmodels.clv._covariates import build_spec_design
from crmmodels.clv._covariates_sim import EFFECTS, simulate_covariate_summary

#: case (a): the channel effects only (age is drawn but has none; region has none)
CHANNEL_ONLY = {p: {k: v for k, v in e.items() if k != "age"} for p, e in EFFECTS.items()}
CASES = {"a": ["channel", "region"], "b": ["channel", "age"]}


def _summary(model: str, case: str, n: int) -> Any:
    effects = CHANNEL_ONLY if case == "a" else EFFECTS
    s = simulate_covariate_summary(n, model=model, effects=effects, seed=3)  # type: ignore[arg-type]
    s["recency"] = np.round(s["recency"] * 7) / 7  # day grid, in weeks
    s["age"] = np.round(s["age"] * 10) / 10  # whole years, in decades
    regions = np.array(["north", "east", "south", "west"])
    s["region"] = regions[np.random.default_rng(4).integers(0, 4, n)]
    return s


def _case(name: str, case: str, n: int, repeat: int) -> list[str]:
    model = "bgnbd" if name == "BG/NBD" else "pareto_nbd"
    cls = BGNBD if name == "BG/NBD" else ParetoNBD
    s = _summary(model, case, n)
    covs = CASES[case]
    fits: dict[str, Any] = {}

    def plain() -> None:
        fits["plain"] = cls().fit(s)

    def with_cov() -> None:
        fits["cov"] = cls().fit(s, covariates=covs)

    t_plain, t_cov = timed(plain, repeat), timed(with_cov, repeat)
    lists = {"purchase": covs, "dropout": covs}
    t_design = timed(lambda: build_spec_design(nw.from_native(s), lists, "bench"), repeat)
    cov, d = fits["cov"], fits["cov"].diagnostics_
    c = cov.coefficients_
    effects = CHANNEL_ONLY if case == "a" else EFFECTS
    truth = np.array(
        [effects[p].get(k, 0.0) for p, k in zip(c["process"], c["covariate"], strict=True)]
    )
    worst = float(np.max(np.abs(c["estimate"] - truth) / c["std_error"]))
    sub = f"{d['subsample_evaluations']} on {d['subsample_rows']:,}" if d["subsample_rows"] else "-"
    return [
        name,
        f"({case}) {' + '.join(covs)}",
        f"{n:,}",
        fmt_s(t_plain),
        fmt_s(t_cov),
        f"{t_cov / t_plain:.1f}",
        f"{fits['plain'].diagnostics_['n_distinct_rows']:,}",
        f"{d['n_distinct_rows']:,}",
        str(d["n_evaluations"]),
        sub,
        fmt_s(t_design),
        f"{(t_cov - t_design) / t_plain:.1f}",
        f"{worst:.2f}",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    sizes = [10_000, 100_000] if args.quick else [100_000, 1_000_000]
    load = os.getloadavg()[0]  # other work on the machine when the run started
    rows = []
    for name in ("BG/NBD", "Pareto/NBD"):
        for case in ("a", "b"):
            for n in sizes:
                rows.append(_case(name, case, n, args.repeat))
                print(" | ".join(rows[-1]), flush=True)
    end_load = os.getloadavg()[0]
    path = write_table(
        "covariates",
        "Covariate fits: two covariates against no covariates",
        [
            "model",
            "covariates",
            "customers",
            "fit without (s)",
            "fit with 2 covariates (s)",
            "ratio",
            "distinct rows without",
            "distinct rows with",
            "evaluations on all rows",
            "evaluations on the subsample rows",
            "of which the design (s)",
            "ratio without the design",
            "max abs(estimate - truth) / se",
        ],
        rows,
        "Two covariates on both processes: (a) channel (3 levels) and region (4 levels, no "
        "effect), 10 coefficients, 12 patterns; (b) channel and age (numeric, whole years), 6 "
        "coefficients, about 270 patterns. The covariate fit includes the fit without "
        "covariates (its starting point), a fit on a weighted subsample of max(4,000, rows / "
        "20) of the distinct rows when they are at least 16,000 (its optimum and Hessian "
        "start a BFGS search on all rows; on fewer rows the Hessian at the start does), and "
        "the Hessian for the standard errors "
        "(forward differences of the analytic row derivatives in the four row parameters: "
        "4 evaluations). 'Evaluations on all rows' counts every evaluation of the kernels on "
        "all the distinct rows, the Hessian's included; 'of which the design' is the time of "
        "building the covariate design (validation, encoding, collinearity check) alone, "
        "and 'ratio without the design' the ratio of the rest of the covariate fit to the "
        "fit without covariates. "
        f"Best of {args.repeat} runs. Recency on a day grid in weeks, T = 52 weeks. On a "
        f"shared 2-core machine (1-minute load average {load:.1f} at the start, "
        f"{end_load:.1f} at the end).",
    )
    print(f"written {path}")


if __name__ == "__main__":
    main()
