"""Demo step: CDNOW 80/20 portfolio analysis and CLV quadrants."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from crmmodels.datasets import load_cdnow, load_cdnow_sample
from crmmodels.portfolio import pareto_analysis
from crmmodels.quadrants import clv_quadrants_from_transactions


def run(out_dir: Path) -> list[str]:
    """80/20 analysis of CDNOW customer value by quarter, then CLV quadrants (sample)."""
    import matplotlib.pyplot as plt

    tx = load_cdnow()
    tx["quarter"] = tx["date"].dt.to_period("Q").astype(str)
    r = pareto_analysis(tx, amount_col="amount", customer_col="customer_id", period_col="quarter")
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    r.plot(ax=axes[0], kind="pareto")
    r.plot(ax=axes[1], kind="lorenz")
    fig.tight_layout()
    pareto_path = out_dir / "portfolio_pareto.png"
    fig.savefig(pareto_path, dpi=100)
    plt.close(fig)

    # quadrants on the 2,357-customer sample (fast); current = spend in the last year,
    # high current = any spend (the median would be 0: most customers were inactive)
    sample = load_cdnow_sample()[["customer_id", "date", "amount"]]
    q = clv_quadrants_from_transactions(
        sample, observation_end="1998-06-30", split={"current": 0.01}
    )
    fig, ax = plt.subplots(figsize=(7, 5.5))
    q.plot(ax=ax)
    fig.tight_layout()
    quad_path = out_dir / "clv_quadrants.png"
    fig.savefig(quad_path, dpi=100)
    plt.close(fig)

    trend = pd.DataFrame() if r.trend is None else r.trend
    trend = trend[["quarter", "n_customers", "gini", "top_share", "customer_share_for_value"]]
    summary = q.summary
    return [
        f"CDNOW 80/20: the top {r.top:.0%} of {r.n_customers:,} customers hold "
        f"{r.top_share:.1%} of spend; {r.customer_share_for_value:.1%} of customers hold "
        f"{r.value_share:.0%}. Gini {r.gini:.3f}, HHI {r.hhi:.2e}; ABC classes "
        f"{r.class_counts}.",
        "Concentration by quarter (active customers):\n" + trend.round(3).to_string(index=False),
        "Strategic customers (class A, first 5):\n"
        + r.strategic_customers().head(5).to_string(index=False),
        f"CLV quadrants of the CDNOW 1/10 sample (potential = {q.potential_method}; "
        f"high current = any spend in the last 365 days):\n"
        + summary.round(3).to_string(index=False),
        f"figures: {pareto_path}, {quad_path}",
    ]
