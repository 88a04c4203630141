"""The report's per-customer sections for an engine run, drawn from aggregates.

An engine run (``analyze`` on DuckDB, lazy polars or PySpark) keeps its customer table
on the engine, and its per-customer parts (``clv``, ``portfolio``, ``quadrants``,
``lifecycle``, ``rfm``) are None. These sections show what the pandas report shows from
the aggregates of :func:`crmmodels.analysis._engine_figures.engine_figures`, computed on
the engine when the report is written: the CLV histogram and the top customers, the
quadrant counts and values, the Lorenz curve and the A/B/C classes, the lifecycle mix
and the RFM segments. The one figure that needs every customer, the quadrant scatter,
is replaced by bars of the customers per quadrant (the section says so).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import narwhals.stable.v2 as nw
import numpy as np
import pandas as pd

from crmmodels.analysis._customers import LABEL_ORDER
from crmmodels.analysis._engine_figures import EngineFigures, engine_figures
from crmmodels.analysis._report_figures import png_block, render_drawing
from crmmodels.analysis._report_parts import QUADRANT_MEANING, SHARE_FORMATS, class_rules
from crmmodels.analysis._report_sections import (
    Section,
    clv_intro,
    skipped,
    top_table,
)
from crmmodels.analysis._report_tables import Block, Paragraph, frame_table, money, share

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from crmmodels.analysis._result import CustomerAnalysis

__all__ = [
    "ABC",
    "clv_section",
    "figures_of",
    "lifecycle_section",
    "portfolio_section",
    "quadrants_section",
    "rfm_section",
]

#: the cut-offs of the A/B/C classes of ``analyze`` (those of ``value_classes``)
ABC = (0.8, 0.95)

#: the customer share of the 80/20 figure ("the top 20% bought ...")
TOP = 0.2

#: quadrants in the order of the pandas report, with the colours of its scatter
QUADRANT_COLORS = {
    "vip": "tab:green",
    "improve": "tab:blue",
    "maintain": "tab:orange",
    "abandon": "tab:grey",
}


def figures_of(analysis: CustomerAnalysis) -> EngineFigures | None:
    """The aggregates of an engine run's table (None for a pandas run)."""
    from crmmodels.analysis._engine_result import EngineCustomerAnalysis

    if not isinstance(analysis, EngineCustomerAnalysis):
        return None
    return engine_figures(nw.from_native(analysis.customers), analysis.settings.customer_col)


def _done(analysis: CustomerAnalysis, name: str) -> bool:
    return any(s.name == name and s.status == "done" for s in analysis.steps.steps)


def _figure(draw: Any, kind: str, *, alt: str, caption: str) -> Block:
    return png_block(render_drawing(draw, kind), alt=alt, caption=caption)


def _count_table(counts: pd.DataFrame, column: str, name: str) -> pd.DataFrame:
    """Customers and value per label with their shares (the pandas report's columns)."""
    customers = counts["customers"].to_numpy(dtype="int64")
    value = counts["value"].to_numpy(dtype="float64")
    total = float(np.nansum(value))
    out = pd.DataFrame({name: counts[column].astype(str).to_numpy(), "customers": customers})
    out["share of customers"] = customers / max(int(customers.sum()), 1)
    out["value"] = value
    out["share of value"] = value / total if total > 0 else np.nan
    return out


def clv_section(analysis: CustomerAnalysis, figures: EngineFigures) -> Section:
    """The CLV histogram (counts on the engine) and the top customers."""
    from crmmodels.plotting.analysis import plot_clv_histogram

    title = "Customer lifetime value"
    hist = figures.clv
    if hist is None:
        blocks: tuple[Block, ...] = (skipped(analysis, "CLV"), top_table(analysis, False))
        return Section("clv", title, blocks, skipped=True)

    def draw(ax: Axes) -> Axes:
        return plot_clv_histogram(
            hist.edges, hist.counts, n_values=hist.n_values, n_low=hist.n_low, mean=hist.mean, ax=ax
        )

    figure = _figure(
        draw,
        "clv",
        alt="Histogram of the customers' CLV on a logarithmic axis",
        caption="Distribution of CLV (logarithmic value axis; the dashed line is the mean). "
        "The bars are counted on the engine.",
    )
    return Section(
        "clv", title, (Paragraph(clv_intro(analysis)), figure, top_table(analysis, True))
    )


def quadrants_section(analysis: CustomerAnalysis, figures: EngineFigures) -> Section:
    """Customers, value and CLV per quadrant, and the potential-value threshold."""
    from crmmodels.plotting.analysis import plot_label_counts

    title = "CLV quadrants"
    if not _done(analysis, "CLV quadrants") or figures.quadrants.empty:
        return Section("quadrants", title, (skipped(analysis, "CLV quadrants"),), skipped=True)
    s = analysis.settings
    kept = getattr(analysis, "quadrant_values", None)
    split = (
        f"potential {figures.potential_threshold:,.2f}"
        if kept is None
        else f"current {kept.current_threshold:,.2f}, potential {kept.potential_threshold:,.2f}"
    )
    intro = (
        "Customers placed by current value (spend of the last year) and potential value "
        f"(CLV over the next {s.horizon:g} {s.unit}), split at the median of the positive "
        f"values: {split}."
    )
    counts = figures.quadrants.set_index("quadrant")
    names = list(QUADRANT_COLORS)
    counts = counts.reindex(names).fillna({"customers": 0, "value": 0.0, "clv": 0.0})
    n = max(int(counts["customers"].sum()), 1)
    table = pd.DataFrame(
        {
            "quadrant": names,
            "customers": counts["customers"].astype("int64").to_numpy(),
            "share of customers": counts["customers"].to_numpy(dtype="float64") / n,
            "total value": counts["value"].to_numpy(dtype="float64"),
            "potential value (CLV)": counts["clv"].to_numpy(dtype="float64"),
            "meaning": [QUADRANT_MEANING[q] for q in names],
        }
    )

    if kept is not None:  # the current value of each quadrant, kept by ``analyze``
        table.insert(4, "current value", [kept.current.get(q, 0.0) for q in names])

    def draw(ax: Axes) -> Axes:
        return plot_label_counts(
            names,
            table["customers"].to_numpy(),
            title="CLV quadrants",
            ax=ax,
            annotate=True,
            colors=QUADRANT_COLORS.values(),
        )

    figure = _figure(
        draw,
        "lifecycle",
        alt="Customers per CLV quadrant",
        caption="Customers per quadrant. A scatter of every customer is not drawn for a "
        "table kept on the engine: it would bring each customer to this machine.",
    )
    block = frame_table(
        table,
        formats={
            "share of customers": share,
            "total value": money,
            "current value": money,
            "potential value (CLV)": money,
        },
        caption="Customers and value per quadrant (total value: all purchases in the log)",
        table_id="quadrant-table",
    )
    return Section("quadrants", title, (Paragraph(intro), figure, block))


def portfolio_section(analysis: CustomerAnalysis, figures: EngineFigures) -> Section:
    """The Lorenz curve at customer shares and the A/B/C classes (engine aggregates)."""
    from crmmodels.plotting.analysis import plot_lorenz_points

    title = "Value concentration: Lorenz curve and A/B/C classes"
    lorenz = figures.lorenz
    if not _done(analysis, "80/20 analysis") or lorenz is None:
        return Section("portfolio", title, (skipped(analysis, "80/20 analysis"),), skipped=True)
    k = analysis.key_figures
    classes = figures.classes.sort_values("value_class", kind="mergesort")
    n_first = int(classes["customers"].iloc[0]) if len(classes) else 0
    # the customer share holding 80% of the value is class A's (cut-off 0.8, best first)
    intro = (
        f"The top {TOP:.0%} of customers bought {k.top_share:.1%} of the value in the "
        f"log; {n_first / max(figures.n_customers, 1):.1%} of the customers hold "
        f"{ABC[0]:.0%} of it. Gini coefficient: {k.gini:.3f}."
    )

    def draw(ax: Axes) -> Axes:
        return plot_lorenz_points(lorenz.customer_share, lorenz.lorenz, gini=k.gini, ax=ax)

    figure = _figure(
        draw,
        "lorenz",
        alt="Lorenz curve of the customers' value",
        caption="Lorenz curve: cumulative share of value against the share of customers "
        f"(read at {len(lorenz.customer_share) - 1:,} shares on the engine).",
    )
    table = frame_table(
        _count_table(classes, "value_class", "class"),
        formats=SHARE_FORMATS,
        caption="Customers and value per class",
        table_id="class-table",
    )
    return Section(
        "portfolio", title, (Paragraph(intro), figure, Paragraph(class_rules(ABC)), table)
    )


def lifecycle_section(analysis: CustomerAnalysis, figures: EngineFigures) -> Section:
    """The lifecycle mix and the relationship stages (counts on the engine)."""
    from crmmodels.plotting.analysis import plot_label_counts

    title = "Lifecycle mix"
    step = "Lifecycle stages (purchase scheme)"
    if not _done(analysis, step):
        return Section("lifecycle", title, (skipped(analysis, step),), skipped=True)
    stages = figures.lifecycle.set_index("lifecycle_stage")["customers"]
    order = [
        *LABEL_ORDER["lifecycle_stage"],
        *sorted(set(stages.index) - {*LABEL_ORDER["lifecycle_stage"]}),
    ]
    in_order = stages.reindex(order).fillna(0).astype("int64")
    end = analysis.settings.observation_end.date()

    def draw(ax: Axes) -> Axes:
        return plot_label_counts(
            in_order.index,
            in_order.to_numpy(),
            title=f"Lifecycle stages (purchase scheme) at {end}",
            ax=ax,
            annotate=True,
        )

    blocks: list[Block] = [
        _figure(
            draw,
            "lifecycle",
            alt="Customers per lifecycle stage",
            caption="Customers per lifecycle stage (purchase scheme).",
        ),
        frame_table(
            _count_table(figures.lifecycle, "lifecycle_stage", "stage"),
            formats=SHARE_FORMATS,
            caption="Lifecycle stages (purchase scheme)",
            table_id="lifecycle-table",
        ),
    ]
    if not _done(analysis, "Relationship stages"):
        blocks.append(skipped(analysis, "Relationship stages"))
    else:
        blocks.append(
            frame_table(
                _count_table(figures.relationship, "relationship_stage", "stage"),
                formats=SHARE_FORMATS,
                caption="Relationship stages",
                table_id="relationship-table",
            )
        )
    return Section("lifecycle", title, tuple(blocks))


def rfm_section(analysis: CustomerAnalysis, figures: EngineFigures) -> Section:
    """The RFM segments: sizes, value and mean CLV per segment (counts on the engine)."""
    from crmmodels.plotting.analysis import plot_label_counts

    title = "RFM segments"
    step = "RFM scores and segments"
    if not _done(analysis, step) or figures.rfm.empty:
        return Section("rfm", title, (skipped(analysis, step),), skipped=True)
    rfm = figures.rfm
    counts = _count_table(rfm, "rfm_segment", "segment")
    if figures.clv is not None:
        n_clv = rfm["n_clv"].to_numpy(dtype="float64")
        with np.errstate(invalid="ignore", divide="ignore"):
            counts["mean CLV"] = np.where(n_clv > 0, rfm["clv"].to_numpy() / n_clv, np.nan)

    def draw(ax: Axes) -> Axes:
        return plot_label_counts(
            rfm["rfm_segment"], rfm["customers"].to_numpy(), title="RFM segments", ax=ax
        )

    blocks: tuple[Block, ...] = (
        Paragraph(
            "Recency, frequency and monetary value scored 1 to 5 by fifths of the "
            "customers (5: the most recent, most frequent, highest spend), and segments "
            "named from the three scores."
        ),
        _figure(
            draw,
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
