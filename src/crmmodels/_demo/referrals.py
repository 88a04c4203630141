"""Demo step: a simulated referral base -> trees, viral coefficient, referred vs organic."""

from __future__ import annotations

import math
from pathlib import Path

from crmmodels.datasets._referrals import simulate_referrals
from crmmodels.referrals import referral_analysis


def save_figure(out_dir: Path, res: object, dpi: int = 100) -> Path:
    """The three referral plots side by side (also the figure of docs/referrals.md)."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(18, 4.8))
    for ax, kind in zip(axes, ("viral", "value", "trees"), strict=True):
        res.plot(ax=ax, kind=kind)  # type: ignore[attr-defined]
    for ax in axes:
        ax.title.set_fontsize(9)
    fig.tight_layout()
    path = out_dir / "referrals.png"
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return path


def run(out_dir: Path) -> list[str]:
    """Simulate customers who refer customers, then measure the referral programme."""
    sim = simulate_referrals(5000, seed=4)
    res = referral_analysis(sim.customers, transactions=sim.transactions, window=60)
    path = save_figure(out_dir, res)
    cmp = res.comparison.round(3)
    top = res.top_referrers.head(5).round(2)
    cohorts = res.by_cohort[
        ["cohort", "n_customers", "referred_share", "referral_rate", "viral_coefficient"]
    ]
    truth = sim.truth["referrals_per_customer"]
    # referral delays are exponential: the share inside the window is 1 - exp(-w / mean)
    expected = truth * -math.expm1(-res.window / sim.truth["mean_delay_days"])
    return [
        f"Referrals: {res.n_customers} customers, {res.n_referred} referred "
        f"({res.referred_share:.1%}) in {res.n_trees} trees, deepest chain {res.max_depth}; "
        f"{res.n_referrers} customers referred someone.",
        f"Viral coefficient K within {res.window} days: {res.viral_coefficient:.3f} "
        f"(simulated: {truth} referrals per customer over a lifetime, "
        f"{expected:.3f} "
        "expected within the window).",
        "By cohort:\n" + cohorts.head(6).round(3).to_string(index=False),
        f"Referred against organic, first {res.window} days ({res.level:.0%} intervals; "
        f"simulated lift of the repeat rate {sim.truth['referred_lift']}):\n" + cmp.to_string(),
        "Top referrers by the value of the customers they brought in:\n"
        + top.to_string(index=False),
        f"figure: {path}",
    ]
