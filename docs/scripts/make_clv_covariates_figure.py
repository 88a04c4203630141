"""Draw the figure of docs/clv_covariates.md: python docs/scripts/make_clv_covariates_figure.py."""

from __future__ import annotations

from pathlib import Path

import matplotlib

IMG = Path(__file__).resolve().parents[1] / "img"


def main() -> None:
    """Write docs/img/clv_covariates.png: the churn drivers of a simulated customer base."""
    matplotlib.use("Agg")
    from crmmodels.clv import ParetoNBD, churn_drivers
    from crmmodels.clv._covariates_sim import simulate_covariate_summary

    summary = simulate_covariate_summary(5_000, seed=1)
    model = ParetoNBD().fit(summary, covariates=["channel", "age"])
    drivers = churn_drivers(model)
    ax = drivers.plot()
    path = IMG / "clv_covariates.png"
    ax.figure.savefig(path, dpi=110, bbox_inches="tight")
    print(path)
    print(drivers.to_frame().round(3).to_string())


if __name__ == "__main__":
    main()
