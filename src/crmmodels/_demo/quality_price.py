"""Demo step: relationship quality, price sensitivity and the KPI scorecard on simulated data."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from crmmodels.datasets._crm import simulate_crm
from crmmodels.datasets._survey import simulate_demand, simulate_price_survey, simulate_survey
from crmmodels.pricing import price_elasticity, van_westendorp
from crmmodels.quality import relationship_quality
from crmmodels.scorecard import kpi_scorecard


def run(out_dir: Path) -> list[str]:
    """Run the quality, pricing and scorecard models; save two figures; return text blocks."""
    import matplotlib.pyplot as plt

    crm = simulate_crm(300, seed=0)
    sim = simulate_survey(300, seed=0, missing_rate=0.03)
    rq = relationship_quality(
        sim.survey,
        constructs=sim.constructs,
        reverse=sim.reverse,
        respondent_col="respondent_id",
        side_col="side",
        relationship_col="relationship_id",
    )
    price = simulate_price_survey(500, seed=0)
    vw = van_westendorp(
        "too_cheap",
        "cheap",
        "expensive",
        "too_expensive",
        data=price.answers,
        purchase_cheap="purchase_cheap",
        purchase_expensive="purchase_expensive",
    )
    demand = simulate_demand(3000, seed=0)
    el = price_elasticity(demand.transactions, group_col="product")
    # the customer side's satisfaction score, one relationship per simulated CRM customer
    customers = rq.scores[rq.scores["side"] == "customer"]
    sat = pd.DataFrame(
        {"customer_id": customers["relationship_id"], "satisfaction": customers["satisfaction"]}
    )
    sc = kpi_scorecard(
        crm.purchases,
        by="channel",
        interactions=crm.interactions,
        interaction_date_col="timestamp",
        satisfaction=sat,
    )

    fig, axes = plt.subplots(2, 2, figsize=(13, 9))
    rq.plot(ax=axes[0, 0], kind="profile")
    rq.plot(ax=axes[0, 1], kind="gap")
    vw.plot(ax=axes[1, 0])
    el.plot(ax=axes[1, 1], data=demand.transactions, max_points=600)
    fig.tight_layout()
    path1 = out_dir / "quality_price.png"
    fig.savefig(path1, dpi=90)
    plt.close(fig)
    ax = sc.plot(kpis=["revenue", "active_customers", "retention", "satisfaction",
                       "interactions_per_customer", "engaged_share"])  # fmt: skip
    path2 = out_dir / "kpi_scorecard.png"
    ax.get_figure(root=True).savefig(path2, dpi=90)  # type: ignore[union-attr]
    plt.close("all")

    rel = rq.reliability[
        ["alpha", "alpha_ci_low", "alpha_ci_high", "omega", "composite_reliability", "ave"]
    ]
    points = pd.Series(
        {
            "lower bound (PMC)": vw.lower_bound,
            "optimal price (OPP)": vw.optimal_price,
            "indifference price (IDP)": vw.indifference_price,
            "upper bound (PME)": vw.upper_bound,
            "trial-optimal price": vw.trial_optimal_price,
            "revenue-optimal price": vw.revenue_optimal_price,
        }
    )
    truth = pd.Series(demand.elasticities, name="true")
    el_tab = el.to_frame().set_index("product")[["elasticity", "ci_low", "ci_high", "n"]]
    el_tab = el_tab.join(truth)
    last = sc.kpis[sc.kpis["period"] == sc.kpis["period"].max()].drop(columns="satisfaction_n")
    last = last.assign(period=last["period"].astype(str)).round(3)
    return [
        f"Relationship quality: {rq.n_respondents} respondents (customer and company side "
        f"of {rq.n_respondents // 2} relationships).",
        "Reliability per construct:\n" + rel.round(3).to_string(),
        "HTMT (discriminant validity, < 0.85 is good):\n" + rq.htmt.round(3).to_string(),
        "Largest customer-company gaps:\n" + rq.largest_gaps(5).round(2).to_string(),
        f"Van Westendorp: {vw.n_used} of {vw.n_respondents} respondents used "
        f"({vw.n_invalid} with unordered answers excluded).\n" + points.round(2).to_string(),
        "Price elasticity per product (true value in 'true'):\n" + el_tab.round(3).to_string(),
        "KPI scorecard, last month by channel:\n" + last.to_string(index=False),
        "Channel consistency (coefficient of variation across channels):\n"
        + sc.consistency_summary().round(3).to_string(),
        f"figures: {path1}, {path2}",
    ]
