"""Demo step: CDNOW churned against active customers, and the win-back list."""

from __future__ import annotations

from pathlib import Path

from crmmodels.analysis import analyze
from crmmodels.datasets import load_cdnow
from crmmodels.lifecycle import churn_comparison, win_back_targets


def run(out_dir: Path) -> list[str]:
    """Compare churned and active CDNOW customers by attribute, then rank the win-back list."""
    import matplotlib.pyplot as plt

    # MBG/NBD: under BG/NBD every one-time buyer has P(alive) = 1, which says nothing
    # about reactivation
    customers = analyze(load_cdnow(), model="MBGNBD").customers
    view = churn_comparison(
        customers,
        attributes=["value_class", "frequency", "mean_order_value"],
        lifecycle_stage_col="lifecycle_stage",
    )
    targets = win_back_targets(customers, lifecycle_stage_col="lifecycle_stage")

    fig, axes = plt.subplots(1, 2, figsize=(14, 5))
    view.plot(ax=axes[0])
    targets.plot(ax=axes[1])
    fig.tight_layout()
    path = out_dir / "churn_winback.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)

    table = view.to_frame()[
        ["attribute", "level", "customers", "churned", "churn_rate", "churn_rate_low",
         "churn_rate_high", "lift"]
    ]  # fmt: skip
    tests = view.tests[["attribute", "test", "statistic", "dof", "p_value", "cramers_v"]]
    listed = targets.to_frame()[
        ["rank", "customer_id", "expected_value", "value_if_reactivated", "p_alive",
         "purchase_rate", "spend_per_purchase"]
    ]  # fmt: skip
    values = targets.targets["expected_value"]
    top_tenth = values.head(max(1, len(values) // 10)).sum() / values.sum()
    return [
        f"Churned ({view.rule}): {view.n_churned:,} of {view.n_customers:,} CDNOW customers "
        f"({view.churn_rate:.1%}, {view.level:.0%} interval {view.churn_rate_low:.1%} to "
        f"{view.churn_rate_high:.1%}).",
        "Churn by attribute:\n" + table.round(3).to_string(index=False),
        "Tests of association:\n" + tests.round(4).to_string(index=False),
        f"Win-back list ({targets.rule}): {targets.n_targets:,} customers, expected value "
        f"{targets.total_expected_value:,.0f} over {targets.horizon:g} weeks; the first "
        f"10% of the list hold {top_tenth:.0%} of it. Top 10:\n"
        + listed.head(10).round(3).to_string(index=False),
        "Reason of the first row: " + str(targets.targets["reason"].iloc[0]),
        f"Figure: {path}",
    ]
