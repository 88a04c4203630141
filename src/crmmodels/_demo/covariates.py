"""Demo step: why customers leave, Pareto/NBD with covariates on a simulated customer base."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from crmmodels.clv import BGNBD, ParetoNBD, churn_drivers
from crmmodels.clv._covariates_sim import EFFECTS, simulate_covariate_summary

__all__ = ["run"]


def run(out_dir: Path) -> list[str]:
    """Fit Pareto/NBD with a channel and an age covariate, report and plot the churn drivers.

    Parameters
    ----------
    out_dir : pathlib.Path
        Folder for the PNG figure.

    Returns
    -------
    list of str
        Text blocks to print.
    """
    import matplotlib.pyplot as plt

    out_dir.mkdir(parents=True, exist_ok=True)
    summary = simulate_covariate_summary(4_000, seed=1)
    model = ParetoNBD().fit(summary, covariates=["channel", "age"])
    drivers = churn_drivers(model)
    table = drivers.to_frame()
    table["true_effect"] = [
        float(np.exp(EFFECTS[p][c]))
        for p, c in zip(table["process"], table["covariate"], strict=True)
    ]
    fig, ax = plt.subplots(figsize=(7.0, 4.5))
    drivers.plot(ax=ax)
    fig.tight_layout()
    path = out_dir / "churn_drivers.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    twins = summary.iloc[[0, 0, 0]].assign(channel=["store", "web", "app"], customer_id=[1, 2, 3])
    pred = model.predict(twins, horizon=26).assign(channel=["store", "web", "app"])
    cols = ["process", "covariate", "effect", "low", "high", "p_value", "true_effect"]
    ab_summary = simulate_covariate_summary(4_000, model="bgnbd", seed=3, dropout_form="ab")
    ab = churn_drivers(BGNBD().fit(ab_summary, covariates=["channel", "age"], dropout_form="ab"))
    ab_cols = ["process", "covariate", "effect", "low", "high"]
    return [
        f"Pareto/NBD with covariates on {model.n_customers_:,.0f} simulated customers "
        f"(reference level of channel: {dict(drivers.references)['channel']}; age in decades, "
        "centred).",
        "Churn drivers (effect = factor on the rate; true_effect from the simulation):\n"
        + table[cols].round(3).to_string(index=False),
        "One history, three channels: P(alive) and expected purchases in 26 weeks:\n"
        + pred.round(3).to_string(index=False),
        "BG/NBD in CLVTools' form (dropout_form='ab'): "
        + ab.explanation
        + "\n"
        + ab.to_frame()[ab_cols].round(3).to_string(index=False),
        f"figure: {path}",
    ]
