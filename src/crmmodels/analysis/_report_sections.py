"""The sections of the report: key figures, data checks, model selection, CLV, assumptions.

Each section is built from the analysis' results only (the customer table, the typed
results and the step records); a section whose step was skipped says so, with the reason
recorded by the step, instead of showing a figure. The parts of the customer base
(quadrants, 80/20, lifecycle, retention, RFM) are in ``_report_parts``.
"""

from __future__ import annotations

import dataclasses
import math
from typing import TYPE_CHECKING, Any

import pandas as pd

from crmmodels.analysis._report_figures import figure_block
from crmmodels.analysis._report_tables import (
    Block,
    Bullets,
    Code,
    Facts,
    Paragraph,
    TableBlock,
    format_value,
    frame_table,
    money,
    number,
    share,
)
from crmmodels.analysis._settings import CURRENT_WINDOW_DAYS
from crmmodels.errors import DataError

if TYPE_CHECKING:
    from crmmodels.analysis._result import CustomerAnalysis

__all__ = [
    "TOP_CUSTOMERS",
    "Section",
    "assumptions_section",
    "clv_intro",
    "clv_section",
    "data_checks_section",
    "figure_or_note",
    "horizon_text",
    "key_figures_section",
    "model_selection_section",
    "skipped_reason",
    "top_customers",
    "top_table",
]

#: customers listed in the top-customers table
TOP_CUSTOMERS = 20

#: columns of the top-customers table after the customer column, with their headers
TOP_COLUMNS = {
    "clv": "CLV",
    "clv_rank": "rank",
    "p_alive": "P(alive)",
    "expected_purchases": "expected purchases",
    "total_value": "total value",
    "n_orders": "orders",
    "rfm_segment": "RFM segment",
    "lifecycle_stage": "lifecycle stage",
    "value_class": "class",
    "quadrant": "quadrant",
    "churn_risk": "churn risk",
}

#: headers of the model-selection table's usual columns (other columns keep their name)
SELECTION_LABELS = {
    "model": "model",
    "status": "status",
    "n_params": "parameters",
    "log_likelihood": "log-likelihood",
    "aic": "AIC",
    "bic": "BIC",
    "mae": "MAE",
    "rmse": "RMSE",
    "curve_mape": "curve error (mean)",
    "curve_end_error": "curve error (end)",
    "chosen": "chosen",
}


@dataclasses.dataclass(frozen=True)
class Section:
    """One section of the report: its ``id`` (the anchor), title and blocks."""

    id: str
    title: str
    blocks: tuple[Block, ...]
    skipped: bool = False


def _step(analysis: CustomerAnalysis, name: str) -> Any:
    return next((s for s in analysis.steps.steps if s.name == name), None)


def skipped_reason(analysis: CustomerAnalysis, name: str) -> str:
    """The reason recorded for a skipped step (a plain sentence)."""
    step = _step(analysis, name)
    if step is None:
        return "the step did not run."
    detail = step.detail.rstrip(".")
    return f"{detail}." if detail else "the step did not run."


def skipped(analysis: CustomerAnalysis, name: str) -> Paragraph:
    """The paragraph a section shows instead of its figure when its step was skipped."""
    return Paragraph(f"Skipped: {skipped_reason(analysis, name)}", "skipped")


def figure_or_note(analysis: CustomerAnalysis, kind: str, *, alt: str, caption: str = "") -> Block:
    """The figure of ``kind``, or a note saying why it cannot be drawn."""
    try:
        return figure_block(analysis, kind, alt=alt, caption=caption)
    except DataError as exc:
        return Paragraph(f"Figure not drawn: {exc}", "skipped")


def horizon_text(analysis: CustomerAnalysis) -> str:
    """The horizon in words ("52 weeks")."""
    s = analysis.settings
    return f"{s.horizon:g} {s.unit}"


def key_figures_section(analysis: CustomerAnalysis) -> Section:
    """The headline numbers, as cards."""
    k = analysis.key_figures
    c = analysis.checks
    model = analysis.transaction_model or "none (see the model selection)"
    intro = (
        f"{c.n_customers:,} customers and {c.n_rows:,} purchases from {c.first_date} to "
        f"the observation end, {c.observation_end}. Forecasts cover the next "
        f"{horizon_text(analysis)}; transaction model: {model}."
    )
    return Section(
        "key-figures",
        "Key figures",
        (Paragraph(intro), Facts(tuple(k.lines()), "cards")),
    )


def _set_aside(analysis: CustomerAnalysis) -> tuple[str, ...]:
    """What later steps left out or treated apart, and why."""
    c = analysis.checks
    items = ["Every customer of the log is in the customer table exactly once."]
    if c.n_zero_value_customers:
        items.append(
            f"{c.n_zero_value_customers:,} customers spent nothing in total (all amounts 0): "
            "they count as customers but add no value."
        )
    spend = analysis.models.get("GammaGamma")
    if spend is not None:
        fitted = int(spend.n_customers_)
        items.append(
            f"The spend model is fitted on the {fitted:,} repeat buyers with a positive "
            f"spend; the {c.n_one_time_buyers:,} one-time buyers get the expected spend of "
            "the population."
        )
        left_out = c.n_customers - fitted - c.n_one_time_buyers
        if left_out > 0:
            items.append(
                f"{left_out:,} repeat buyers without a positive spend are left out of the "
                "spend model's fit."
            )
    elif c.n_one_time_buyers:
        items.append(f"{c.n_one_time_buyers:,} customers bought on one day only.")
    return tuple(items)


def data_checks_section(analysis: CustomerAnalysis) -> Section:
    """What was read, what was set aside, and what each step did."""
    c = analysis.checks
    facts = Facts(
        (
            ("Rows read", f"{c.n_rows:,}"),
            ("Customers", f"{c.n_customers:,}"),
            ("Period", f"{c.first_date} to {c.last_date}"),
            ("Observation end", c.observation_end),
            ("Total value", money(c.total_value)),
            ("One-time buyers", f"{c.n_one_time_buyers:,}"),
            ("Customers with no positive spend", f"{c.n_zero_value_customers:,}"),
        )
    )
    steps = analysis.steps.to_frame()[["step", "status", "detail", "notes"]]
    n_skipped = len(analysis.steps.skipped)
    table = frame_table(
        steps,
        marked=(steps["status"] == "skipped").tolist(),
        caption=(
            "Steps of the analysis"
            + (f" ({n_skipped} skipped, highlighted)" if n_skipped else " (all done)")
        ),
        table_id="steps",
    )
    return Section(
        "data-checks",
        "Data checks",
        (facts, Paragraph("Set aside and treated apart:"), Bullets(_set_aside(analysis)), table),
    )


def model_selection_section(analysis: CustomerAnalysis) -> Section:
    """The candidates' table and the holdout tracking plot (or why there is none)."""
    selection = analysis.model_selection
    title = "Model selection"
    if selection is None:
        blocks: list[Block] = [skipped(analysis, "Model selection")]
        fallback = next(
            (s for s in analysis.steps.steps if s.name.startswith("Transaction model")), None
        )
        if fallback is not None:
            what = fallback.detail if fallback.status == "done" else f"skipped: {fallback.detail}"
            blocks.append(Paragraph(f"{fallback.name}: {what}", "note"))
        return Section("model-selection", title, tuple(blocks), skipped=True)
    frame = selection.to_frame()
    chosen = str(getattr(selection, "chosen", ""))
    if "model" in frame.columns:
        marked = (frame["model"].astype(str) == chosen).tolist()
    else:
        marked = [False] * len(frame)
    curve_columns = {c: share for c in frame.columns if str(c).startswith("curve_")}
    blocks = [Paragraph(str(getattr(selection, "reason", "")))]
    facts = [("Chosen model", chosen)] if chosen else []
    unit = analysis.settings.unit
    for attr, label in (
        ("criterion", "Criterion"),
        ("calibration_end", "Calibration end"),
        ("holdout", "Holdout"),
        ("holdout_rule", "Holdout rule"),
        ("n_new_in_holdout", "Customers new in the holdout (not scored)"),
    ):
        value = getattr(selection, attr, None)
        if value is None:
            continue
        text = f"{format_value(value)} {unit}" if attr == "holdout" else format_value(value)
        facts.append((label, text))
    blocks.append(Facts(tuple(facts)))
    blocks.append(
        frame_table(
            frame,
            labels=SELECTION_LABELS,
            formats=curve_columns,
            marked=marked,
            caption="Candidates fitted on the calibration period and judged on the holdout "
            "(chosen model highlighted)",
            table_id="model-table",
        )
    )
    blocks.append(
        figure_or_note(
            analysis,
            "selection",
            alt="Actual and expected cumulative repeat purchases, calibration and holdout",
            caption="Holdout tracking: actual cumulative repeat purchases against each "
            "model's expectation; the vertical line is the calibration end.",
        )
    )
    return Section("model-selection", title, tuple(blocks))


def top_customers(analysis: CustomerAnalysis, n: int = TOP_CUSTOMERS) -> pd.DataFrame:
    """The ``n`` customers of highest CLV (by total value when there is no CLV).

    Ties keep the order of the customer table.
    """
    table = analysis._table
    key = "clv" if table["clv"].notna().any() else "total_value"
    top = table.nlargest(n, key, keep="first")
    customer_col = analysis.settings.customer_col
    columns = [customer_col, *(c for c in TOP_COLUMNS if c in top.columns)]
    return top[columns].reset_index(drop=True)


def top_table(analysis: CustomerAnalysis, by_clv: bool | None = None) -> TableBlock:
    """The top-customers table (``by_clv``: whether the CLV step ran; default: the part)."""
    frame = top_customers(analysis)
    customer_col = analysis.settings.customer_col
    if by_clv is None:
        by_clv = analysis.clv is not None
    return frame_table(
        frame,
        labels=TOP_COLUMNS,
        formats={
            customer_col: str,
            "clv": money,
            "total_value": money,
            "p_alive": lambda x: number(round(float(x), 3)) if not pd.isna(x) else "–",
            "expected_purchases": lambda x: number(round(float(x), 2)) if not pd.isna(x) else "–",
        },
        caption=(
            f"Top {len(frame)} customers by CLV"
            if by_clv
            else f"Top {len(frame)} customers by total value (no CLV: the step was skipped)"
        ),
        table_id="top-customers",
    )


def clv_intro(analysis: CustomerAnalysis) -> str:
    """What the CLV is, and the customer equity with its interval."""
    s = analysis.settings
    k = analysis.key_figures
    equity = money(k.customer_equity)
    if not math.isnan(k.equity_low):
        equity += f" ({money(k.equity_low)} to {money(k.equity_high)} at {k.level:.0%})"
    return (
        f"CLV of each customer over the next {horizon_text(analysis)}: expected purchases "
        f"times expected spend per purchase, times a margin of {s.margin:.0%}, discounted at "
        f"{s.discount_rate:.0%} a year. Customer equity (the sum over all customers): "
        f"{equity}."
    )


def clv_section(analysis: CustomerAnalysis) -> Section:
    """The CLV distribution and the top customers."""
    if analysis.clv is None:
        blocks: tuple[Block, ...] = (skipped(analysis, "CLV"), top_table(analysis))
        return Section("clv", "Customer lifetime value", blocks, skipped=True)
    return Section(
        "clv",
        "Customer lifetime value",
        (
            Paragraph(clv_intro(analysis)),
            figure_or_note(
                analysis,
                "clv",
                alt="Histogram of the customers' CLV on a logarithmic axis",
                caption="Distribution of CLV (logarithmic value axis; the dashed line is "
                "the mean).",
            ),
            top_table(analysis),
        ),
    )


def assumptions_section(
    analysis: CustomerAnalysis, source: str | None, command: str | None = None
) -> Section:
    """The settings of the run, and the call and command that reproduce it."""
    from crmmodels.analysis._customers import CHURN_RISK_BANDS

    s = analysis.settings
    items = list(s.assumptions())
    selection = analysis.model_selection
    if selection is not None and hasattr(selection, "holdout_rule"):
        items.append(f"Holdout: {str(selection.holdout_rule).rstrip('.')}.")
    elif s.holdout is not None:
        items.append(f"Holdout: the last {s.holdout:g} {s.unit} (as given); not used.")
    else:
        items.append(
            "Holdout: the default rule of crmmodels.clv.select_model; not used, the model "
            f"selection was skipped ({skipped_reason(analysis, 'Model selection')})"
        )
    if s.model is not None:
        items.append(f"Transaction model forced by the caller: {s.model}.")
    low, high = CHURN_RISK_BANDS
    items.append(
        f"Churn risk: high when P(alive) is below {low:g}, medium below {high:g}, low otherwise."
    )
    items.append(
        f"CLV quadrants: current value is the spend of the last {CURRENT_WINDOW_DAYS} days "
        "before the observation end; potential value is the CLV."
    )
    if analysis.lifecycle is not None:
        rules = analysis.lifecycle.rules
        values = ", ".join(
            f"{f.name}={getattr(rules, f.name)}"
            for f in dataclasses.fields(rules)
            if f.name != "scheme"
        )
        items.append(f"Lifecycle rules: {values}.")
    path = source if source is not None else "transactions.csv"
    call = (
        "import crmmodels as crm\n\n"
        f"result = {s.python_call('transactions')}\n"
        'result.report("report.html")'
    )
    where = (
        f"transactions is the log read from {source}."
        if source is not None
        else "transactions is your transaction log (any frame); in the command, "
        "transactions.csv stands for its file."
    )
    return Section(
        "assumptions",
        "Assumptions and how to reproduce",
        (
            Bullets(tuple(items)),
            Code("Python", call),
            Code("Command line", command if command is not None else s.command_line(path)),
            Paragraph(where, "note"),
        ),
    )
