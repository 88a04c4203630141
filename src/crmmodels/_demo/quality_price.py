"""Demo step: relationship quality, price sensitivity and the KPI scorecard on simulated data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from crmmodels.datasets._crm import simulate_crm
from crmmodels.datasets._survey import simulate_demand, simulate_price_survey, simulate_survey
from crmmodels.pricing import price_elasticity, van_westendorp
from crmmodels.quality import relationship_quality
from crmmodels.scorecard import kpi_scorecard


def _save(fig: Any, path: Path, dpi: int) -> Path:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return path


def relationship_quality_figure(out_dir: Path, rq: Any, dpi: int = 80) -> Path:
    """``relationship_quality.png``: construct profile and dyadic gaps (docs/quality.md)."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(13, 4.5))
    rq.plot(ax=axes[0], kind="profile")
    rq.plot(ax=axes[1], kind="gap")
    return _save(fig, out_dir / "relationship_quality.png", dpi)


def item_diagnostics_figure(out_dir: Path, rq: Any, dpi: int = 80) -> Path:
    """``item_diagnostics.png``: item loadings and reliability (docs/quality.md)."""
    ax = rq.plot(kind="items")
    return _save(ax.figure, out_dir / "item_diagnostics.png", dpi)


def van_westendorp_figure(out_dir: Path, vw: Any, dpi: int = 80) -> Path:
    """``van_westendorp.png``: the price sensitivity meter (docs/pricing.md)."""
    return _save(vw.plot().figure, out_dir / "van_westendorp.png", dpi)


def demand_curves_figure(out_dir: Path, el: Any, transactions: Any, dpi: int = 80) -> Path:
    """``demand_curves.png``: fitted demand curves over the data (docs/pricing.md)."""
    ax = el.plot(data=transactions, max_points=600)
    return _save(ax.figure, out_dir / "demand_curves.png", dpi)


def kpi_scorecard_figure(out_dir: Path, sc: Any, dpi: int = 80) -> Path:
    """``kpi_scorecard.png``: the KPI scorecard by channel (docs/scorecard.md)."""
    kpis = ["revenue", "active_customers", "retention", "satisfaction",
            "interactions_per_customer", "engaged_share"]  # fmt: skip
    return _save(sc.plot(kpis=kpis).figure, out_dir / "kpi_scorecard.png", dpi)


def run(out_dir: Path) -> list[str]:
    """Run the quality, pricing and scorecard models; save their figures; return text blocks."""
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

    paths = [
        relationship_quality_figure(out_dir, rq),
        item_diagnostics_figure(out_dir, rq),
        van_westendorp_figure(out_dir, vw),
        demand_curves_figure(out_dir, el, demand.transactions),
        kpi_scorecard_figure(out_dir, sc),
    ]

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
        "figures: " + ", ".join(str(p) for p in paths),
    ]
