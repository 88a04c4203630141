"""Regenerate the IDIC figures of docs/idic.md: python docs/scripts/make_idic_figures.py."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt

from crmmodels._demo.idic import RULES
from crmmodels.datasets._crm import simulate_crm
from crmmodels.idic import (
    customize,
    differentiate,
    interaction_profile,
    resolve_identities,
)
from crmmodels.portfolio import pareto_analysis

HERE = Path(__file__).resolve().parents[1] / "img"


def main() -> None:
    """Draw both figures from the simulated CRM data set."""
    crm = simulate_crm(600, seed=7)
    ident = resolve_identities(
        crm.records,
        id_col="record_id",
        email_cols=["email"],
        phone_cols=["phone"],
        name_cols=["first_name", "last_name"],
        address_cols=["street", "postcode"],
        source_col="source",
        fuzzy=True,
        block_cols=["postcode"],
    )
    tiers = pareto_analysis(crm.purchases, value_col="amount", customer_col="customer_id")
    tiers_frame = tiers.classes[["customer_id", "class"]]
    diff = differentiate(crm.purchases, channel_col="channel", tiers=tiers_frame, tier_col="class")
    strategic = tiers_frame.loc[tiers_frame["class"] == "A", "customer_id"]
    inter = interaction_profile(
        crm.interactions, response_col="responded", strategic=strategic, coverage_days=60
    )
    table = diff.customers[["customer_id", "tier", "segment_label"]].merge(
        inter.profiles[["customer_id", "days_since_contact", "preferred_channel"]],
        on="customer_id",
        how="left",
    )
    table["days_since_contact"] = table["days_since_contact"].fillna(10_000.0)
    table["preferred_channel"] = table["preferred_channel"].fillna("none")
    actions = customize(table, RULES)

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    ident.plot(ax=axes[0])
    diff.plot(ax=axes[1])
    fig.tight_layout()
    fig.savefig(HERE / "idic_identify_differentiate.png", dpi=90)
    plt.close(fig)
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    inter.plot(ax=axes[0])
    actions.plot(ax=axes[1])
    fig.tight_layout()
    fig.savefig(HERE / "idic_interact_customize.png", dpi=90)
    plt.close(fig)


if __name__ == "__main__":
    main()
