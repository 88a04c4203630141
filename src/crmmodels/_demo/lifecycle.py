"""Demo step: CDNOW lifecycle stages, stage transitions and cohort retention."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from crmmodels.datasets import load_cdnow
from crmmodels.lifecycle import LifecycleRules, lifecycle_stages, lifecycle_transitions
from crmmodels.retention import cohort_retention, retention_metrics


def run(out_dir: Path) -> list[str]:
    """Classify CDNOW customers, follow them quarter by quarter and measure retention."""
    import matplotlib.pyplot as plt

    tx = load_cdnow()
    half_year = LifecycleRules(churn_after_days=180)
    stages = lifecycle_stages(
        tx, observation_end="1998-06-30", amount_col="amount", rules=half_year
    )
    relationship = lifecycle_stages(
        tx,
        observation_end="1998-06-30",
        rules=LifecycleRules(scheme="relationship"),
        amount_col="amount",
    )
    snapshots = list(pd.date_range("1997-03-31", "1998-06-30", freq="QE"))
    moves = lifecycle_transitions(tx, snapshots=snapshots, rules=half_year)
    cohorts = cohort_retention(tx, period="M")
    metrics = retention_metrics(tx, period="Q", amount_col="amount")

    fig, axes = plt.subplots(1, 2, figsize=(14, 5))
    moves.plot(ax=axes[0])
    moves.plot(ax=axes[1], kind="heatmap")
    fig.tight_layout()
    transitions_path = out_dir / "lifecycle_transitions.png"
    fig.savefig(transitions_path, dpi=100)
    plt.close(fig)
    fig, axes = plt.subplots(1, 2, figsize=(14, 5))
    cohorts.plot(ax=axes[0], max_periods=18)
    cohorts.plot(ax=axes[1], kind="curves")
    fig.tight_layout()
    cohorts_path = out_dir / "retention_cohorts.png"
    fig.savefig(cohorts_path, dpi=100)
    plt.close(fig)

    summary = stages.summary[["customers", "share", "mean_value"]].round(3)
    rel = relationship.summary[["customers", "share", "mean_value"]].round(3)
    moved = moves.counts.to_numpy()
    rates = moves.rates.loc[moved.sum(axis=1) > 0, moved.sum(axis=0) > 0].round(2)
    views = metrics.views().round(3)
    return [
        "Lifecycle stages at 1998-06-30 (purchase scheme, churned after 180 days):\n"
        + summary.to_string(),
        "Lifecycle stages at 1998-06-30 (relationship scheme):\n" + rel.to_string(),
        "Quarterly stage transitions (row-normalised rates, pooled):\n" + rates.to_string(),
        "Monthly cohort retention, first 6 months:\n"
        + cohorts.rates.iloc[:, :7].round(3).to_string(),
        "First-time vs recurring retention (pooled, months since):\n"
        + cohorts.first_vs_recurring.head(7).round(3).to_string(),
        "Quarterly retention, transactional vs relationship view:\n"
        + views.loc[
            :,
            [
                ("transactional", "active"),
                ("transactional", "new"),
                ("transactional", "revenue"),
                ("relationship", "retention_rate"),
                ("relationship", "existing_revenue_share"),
                ("relationship", "expected_lifetime"),
            ],
        ].to_string(),
        f"figures: {transitions_path}, {cohorts_path}",
    ]
