"""The report's sections on the parts of the customer base.

Quadrants, the Lorenz curve with the A/B/C classes, the lifecycle mix, cohort retention
and the RFM segments: each shows the figure of its result and a small table of counts
and shares taken from the result's own tables or from the customer table.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from crmmodels.analysis._report_sections import Section, figure_or_note, skipped
from crmmodels.analysis._report_tables import Block, Paragraph, frame_table, money, share

if TYPE_CHECKING:
    from crmmodels.analysis._result import CustomerAnalysis

__all__ = [
    "QUADRANT_MEANING",
    "SHARE_FORMATS",
    "class_rules",
    "lifecycle_section",
    "portfolio_section",
    "quadrants_section",
    "retention_section",
    "rfm_section",
]

#: what each CLV quadrant calls for
QUADRANT_MEANING = {
    "vip": "high current and high potential value: protect them",
    "improve": "low current, high potential value: develop them",
    "maintain": "high current, low potential value: serve them at low cost",
    "abandon": "low current and low potential value: cut the cost of serving them",
}

#: months since the first purchase shown in the retention table
RETENTION_MONTHS = (1, 2, 3, 6, 12)


def _counts(values: pd.Series, name: str, value: pd.Series | None = None) -> pd.DataFrame:
    """Customers (and value) per category, largest first; shares of the total."""
    counts = values.value_counts(dropna=True)
    out = pd.DataFrame({name: counts.index.astype(str), "customers": counts.to_numpy()})
    out["share of customers"] = out["customers"] / max(int(counts.sum()), 1)
    if value is not None:
        sums = value.groupby(values.to_numpy()).sum().reindex(counts.index).to_numpy()
        total = float(np.nansum(sums))
        out["value"] = sums
        out["share of value"] = sums / total if total > 0 else np.nan
    return out


SHARE_FORMATS = {"share of customers": share, "share of value": share, "value": money}


def quadrants_section(analysis: CustomerAnalysis) -> Section:
    """The CLV quadrants: figure, thresholds and the customers and value per quadrant."""
    title = "CLV quadrants"
    q = analysis.quadrants
    if q is None:
        return Section("quadrants", title, (skipped(analysis, "CLV quadrants"),), skipped=True)
    intro = (
        "Customers placed by current value (spend of the last year) and potential value "
        f"(CLV over the next {analysis.settings.horizon:g} {analysis.settings.unit}), split "
        f"at the median of the positive values: current {q.current_threshold:,.2f}, "
        f"potential {q.potential_threshold:,.2f}."
    )
    summary = q.summary[
        ["quadrant", "n_customers", "customer_share", "current_value", "potential_value"]
    ].copy()
    summary["meaning"] = summary["quadrant"].map(QUADRANT_MEANING).fillna("")
    table = frame_table(
        summary,
        labels={
            "n_customers": "customers",
            "customer_share": "share of customers",
            "current_value": "current value",
            "potential_value": "potential value (CLV)",
        },
        formats={"customer_share": share, "current_value": money, "potential_value": money},
        caption="Customers and value per quadrant",
        table_id="quadrant-table",
    )
    figure = figure_or_note(
        analysis,
        "quadrants",
        alt="Scatter of current against potential value with the quadrant thresholds",
        caption="Each dot is a customer; the dashed lines are the thresholds.",
    )
    return Section("quadrants", title, (Paragraph(intro), figure, table))


def class_rules(abc: tuple[float, ...]) -> str:
    """The A/B/C classes in words, from their cut-offs."""
    bounds = [0.0, *abc, 1.0]
    parts = []
    for i, (low, high) in enumerate(itertools.pairwise(bounds)):
        label = "ABCDEFGHIJ"[i]
        if i == 0:
            parts.append(f"{label}: the best customers, up to {high:.0%} of the value")
        elif i == len(bounds) - 2:
            parts.append(f"{label}: the rest")
        else:
            parts.append(f"{label}: the next, from {low:.0%} to {high:.0%} of the value")
    return "; ".join(parts) + "."


def portfolio_section(analysis: CustomerAnalysis) -> Section:
    """The Lorenz curve and the A/B/C classes of the customers' value."""
    title = "Value concentration: Lorenz curve and A/B/C classes"
    p = analysis.portfolio
    if p is None:
        return Section("portfolio", title, (skipped(analysis, "80/20 analysis"),), skipped=True)
    intro = (
        f"The top {p.top:.0%} of customers bought {p.top_share:.1%} of the value in the "
        f"log; {p.customer_share_for_value:.1%} of the customers hold "
        f"{p.value_share:.0%} of it. Gini coefficient: {p.gini:.3f}."
    )
    frame = p.to_frame()
    classes = _counts(frame["class"].astype(str), "class", frame[p.amount_col])
    classes = classes.sort_values("class", kind="mergesort").reset_index(drop=True)
    table = frame_table(
        classes,
        formats=SHARE_FORMATS,
        caption="Customers and value per class",
        table_id="class-table",
    )
    figure = figure_or_note(
        analysis,
        "lorenz",
        alt="Lorenz curve of the customers' value",
        caption="Lorenz curve: cumulative share of value against the share of customers.",
    )
    return Section(
        "portfolio",
        title,
        (Paragraph(intro), figure, Paragraph(class_rules(tuple(p.abc))), table),
    )


def lifecycle_section(analysis: CustomerAnalysis) -> Section:
    """The lifecycle mix (purchase scheme) and the relationship stages."""
    title = "Lifecycle mix"
    table = analysis._table
    if analysis.lifecycle is None:
        return Section(
            "lifecycle",
            title,
            (skipped(analysis, "Lifecycle stages (purchase scheme)"),),
            skipped=True,
        )
    blocks: list[Block] = [
        figure_or_note(
            analysis,
            "lifecycle",
            alt="Customers per lifecycle stage",
            caption="Customers per lifecycle stage (purchase scheme).",
        ),
        frame_table(
            _counts(table["lifecycle_stage"], "stage", table["total_value"]),
            formats=SHARE_FORMATS,
            caption="Lifecycle stages (purchase scheme)",
            table_id="lifecycle-table",
        ),
    ]
    if analysis.relationship is None:
        blocks.append(skipped(analysis, "Relationship stages"))
    else:
        blocks.append(
            frame_table(
                _counts(table["relationship_stage"], "stage", table["total_value"]),
                formats=SHARE_FORMATS,
                caption="Relationship stages",
                table_id="relationship-table",
            )
        )
    return Section("lifecycle", title, tuple(blocks))


def retention_section(analysis: CustomerAnalysis) -> Section:
    """The cohort retention heatmap and the pooled retention of the first months."""
    title = "Cohort retention"
    r = analysis.retention
    if r is None:
        return Section("retention", title, (skipped(analysis, "Cohort retention"),), skipped=True)
    frame = r.to_frame()
    n_cohorts = frame["cohort"].nunique()
    intro = (
        f"{n_cohorts} monthly cohorts of first purchase; {r.n_repeat_customers:,} of "
        f"{r.n_customers:,} customers bought again in a later month."
    )
    curve = r.curve("first")
    months = [m for m in RETENTION_MONTHS if m in curve.index]
    blocks: list[Block] = [
        Paragraph(intro),
        figure_or_note(
            analysis,
            "retention",
            alt="Heatmap of retention by monthly cohort and months since the first purchase",
            caption="Share of each cohort buying in each month after its first purchase.",
        ),
    ]
    if months:
        pooled = pd.DataFrame(
            {
                "months since first purchase": months,
                "customers buying (all cohorts)": curve.loc[months].to_numpy(),
            }
        )
        blocks.append(
            frame_table(
                pooled,
                formats={"customers buying (all cohorts)": share},
                caption="Retention of all cohorts pooled",
                table_id="retention-table",
            )
        )
    return Section("retention", title, tuple(blocks))


def rfm_section(analysis: CustomerAnalysis) -> Section:
    """The RFM segments: sizes, value and mean CLV per segment."""
    title = "RFM segments"
    if analysis.rfm is None:
        return Section("rfm", title, (skipped(analysis, "RFM scores and segments"),), skipped=True)
    table = analysis._table
    counts = _counts(table["rfm_segment"], "segment", table["total_value"])
    if analysis.clv is not None:
        mean_clv = table.groupby(table["rfm_segment"].to_numpy())["clv"].mean()
        counts["mean CLV"] = mean_clv.reindex(counts["segment"]).to_numpy()
    blocks: tuple[Block, ...] = (
        Paragraph(
            "Recency, frequency and monetary value scored 1 to 5 by fifths of the "
            "customers (5: the most recent, most frequent, highest spend), and segments "
            "named from the three scores."
        ),
        figure_or_note(
            analysis,
            "rfm",
            alt="Customers per RFM segment",
            caption="Customers per RFM segment, largest first.",
        ),
        frame_table(
            counts,
            formats={**SHARE_FORMATS, "mean CLV": money},
            caption="Customers, value and mean CLV per RFM segment",
            table_id="rfm-table",
        ),
    )
    return Section("rfm", title, blocks)
