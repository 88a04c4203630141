"""Demo step: IDIC (identify, differentiate, interact, customise) on simulated CRM data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from crmmodels.datasets._crm import simulate_crm
from crmmodels.idic import (
    Comparison,
    customize,
    differentiate,
    interaction_profile,
    linkage_quality,
    resolve_identities,
    resolve_identities_probabilistic,
)

#: the person-record configuration of docs/idic.md on the simulated CRM columns
PERSON_COMPARISONS = [
    Comparison("first_name"),
    Comparison("last_name"),
    Comparison("email", method="exact", normalize="email"),
    Comparison("phone", method="levenshtein", thresholds=(2, 1), normalize="phone"),
    Comparison("street"),
    Comparison("postcode", method="exact"),
]
PERSON_BLOCKS = ["last_name", "postcode", "email", "phone"]

RULES = [
    {"name": "protect", "action": "key-account manager", "priority": 30,
     "conditions": {"tier": "A", "days_since_contact": {"min": 60}}},
    {"name": "grow readers", "action": "book club offer", "priority": 20,
     "conditions": {"tier": ["A", "B"], "segment_label": "books/web"}},
    {"name": "serve A", "action": "priority service", "priority": 10,
     "conditions": {"tier": "A"}},
    {"name": "app push", "action": "app coupon", "priority": 5,
     "conditions": {"preferred_channel": ["sms", "email"], "tier": ["B", "C"]}},
]  # fmt: skip


def save_figures(
    out_dir: Path, ident: Any, diff: Any, inter: Any, actions: Any, dpi: int = 100
) -> tuple[Path, Path]:
    """Draw the two IDIC figures (also those of docs/idic.md) and return their paths."""
    import matplotlib.pyplot as plt

    paths = (out_dir / "idic_identify_differentiate.png", out_dir / "idic_interact_customize.png")
    for path, (left, right) in zip(paths, ((ident, diff), (inter, actions)), strict=True):
        fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
        left.plot(ax=axes[0])
        right.plot(ax=axes[1])
        fig.tight_layout()
        fig.savefig(path, dpi=dpi)
        plt.close(fig)
    return paths


def save_probabilistic_figure(out_dir: Path, prob: Any, dpi: int = 100) -> Path:
    """Match-weight histogram and the waterfall of the least certain link (docs/idic.md)."""
    import matplotlib.pyplot as plt

    path = out_dir / "idic_probabilistic.png"
    weakest = prob.links.sort_values("match_probability").iloc[0]
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    prob.plot(ax=axes[0])
    prob.plot(ax=axes[1], pair=(weakest["record_a"], weakest["record_b"]))
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return path


def probabilistic_lines(crm: Any, out_dir: Path) -> list[str]:
    """Probabilistic (Fellegi-Sunter) resolution of the same records, with one explanation."""
    prob = resolve_identities_probabilistic(
        crm.records, id_col="record_id", comparisons=PERSON_COMPARISONS, block_cols=PERSON_BLOCKS
    )
    qp = linkage_quality(prob.records["customer_key"], crm.records["true_customer_id"])
    path = save_probabilistic_figure(out_dir, prob)
    weakest = prob.links.sort_values("match_probability").iloc[0]
    explained = prob.explain(weakest["record_a"], weakest["record_b"])
    params = prob.parameters[["field", "level", "m", "u", "weight"]]
    return [
        f"Identify, probabilistic: {prob.n_candidate_pairs} pairs compared, {prob.n_links} "
        f"linked at P(match) >= {prob.threshold_probability:g} -> {prob.n_customers} "
        f"customers; prior {prob.prior:.3g}; pairwise precision {qp['precision']:.3f}, "
        f"recall {qp['recall']:.3f}.",
        "m and u by EM, weight = log2(m/u):\n" + params.round(4).to_string(index=False),
        f"Least certain link {weakest['record_a']} - {weakest['record_b']}, field by field:\n"
        + explained.round(3).to_string(index=False),
        f"figure: {path}",
    ]


def run(out_dir: Path) -> list[str]:
    """Resolve simulated records, cross value tiers with needs, profile contacts, assign actions."""
    from crmmodels.portfolio import pareto_analysis

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
    q = linkage_quality(ident.records["customer_key"], crm.records["true_customer_id"])

    classes = pareto_analysis(crm.purchases, amount_col="amount", customer_col="customer_id")
    tiers = classes.classes[["customer_id", "class"]]
    diff = differentiate(
        crm.purchases, category_col="category", channel_col="channel", tiers=tiers,
        tier_col="class", k_range=range(2, 6),
    )  # fmt: skip
    strategic = tiers.loc[tiers["class"] == "A", "customer_id"]
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

    path1, path2 = save_figures(out_dir, ident, diff, inter, actions)

    report = ident.report.sort_values("n_records", ascending=False).head(5)
    prob_lines = probabilistic_lines(crm, out_dir)
    return [
        f"Identify: {ident.n_records} records from 3 sources -> {ident.n_customers} customers "
        f"(truth: {crm.customers.shape[0]}); {ident.n_merged_clusters} merges, "
        f"{ident.n_conflicts} conflicts, {ident.n_fuzzy_links} fuzzy links; pairwise "
        f"precision {q['precision']:.3f}, recall {q['recall']:.3f}.",
        "Largest merged clusters:\n" + report.to_string(index=False),
        *prob_lines,
        f"Differentiate: k = {diff.k} needs segments (silhouette); value x needs counts:\n"
        + diff.matrix_counts.to_string(),
        "Segment profiles:\n"
        + diff.profiles[["segment_label", "n_customers", "value", "mean_value"]]
        .round(1)
        .to_string(index=False),
        f"Interact: {inter.n_interactions} contacts of {inter.n_customers} customers; "
        f"class A coverage in the last {inter.coverage_days} days: {inter.coverage:.1%} "
        f"({inter.n_strategic_contacted} of {inter.n_strategic}).\n"
        + inter.channel_mix.round(3).to_string(index=False),
        "Customise: actions per rule\n"
        + actions.rule_report.to_string(index=False)
        + f"\nno rule matched: {actions.n_no_match}",
        f"figures: {path1}, {path2}",
    ]
