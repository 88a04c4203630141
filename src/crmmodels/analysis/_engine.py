"""``analyze`` on a PySpark, Dask, DuckDB or lazy polars log: the customer table stays there.

The pandas path collects the customer summary and runs every per-customer step with
numpy. Given an engine frame, :func:`analyze_on_engine` runs the same steps where the
data live and brings only aggregates to the driver:

- the summary, the calibration and holdout summaries, the lifecycle features, the
  current values of the quadrants and the cohort counts are ``group_by`` queries on the
  engine;
- the model selection and every fit read the distinct histories with their counts
  (:mod:`crmmodels.analysis._engine_selection`, :func:`crmmodels.engines.distinct_rows`);
- P(alive), expected purchases, expected spend and CLV are scored batch by batch on the
  engine (:func:`crmmodels.engines.score_batches`, the models shipped as JSON);
- RFM scores, stages, A/B/C classes, quadrants, CLV rank and decile and the churn-risk
  band are engine expressions whose thresholds are a few collected scalars
  (:mod:`crmmodels.analysis._engine_columns`);
- the key figures are engine aggregates.

The result's ``customers`` is a lazy frame of the caller's engine with the columns and
types of the pandas path's table. The parts that hold one row per customer at the driver
(``clv``, ``rfm``, ``lifecycle``, ``relationship``, ``portfolio``, ``quadrants``) are
None: their columns are in ``customers`` and each step's notes say so.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import narwhals.stable.v2 as nw
import pandas as pd

from crmmodels import engines
from crmmodels._ingest.dates import to_timestamp
from crmmodels._ingest.frames import collect, day_number
from crmmodels.analysis._customers import CUSTOMER_COLUMNS
from crmmodels.analysis._engine_columns import (
    churn_risk_expr,
    decile_expr,
    lifecycle_columns,
    quadrant_columns,
    rfm_columns,
    value_classes,
)
from crmmodels.analysis._engine_result import EngineCustomerAnalysis, QuadrantValues, top_rows
from crmmodels.analysis._engine_selection import select_on_engine
from crmmodels.analysis._engine_store import kept, min_rank, stored
from crmmodels.analysis._figures import DataChecksResult, KeyFiguresResult
from crmmodels.analysis._settings import CURRENT_WINDOW_DAYS, AnalysisSettings
from crmmodels.analysis._steps import StepLog, whole_period_model
from crmmodels.clv import GammaGamma, customer_equity, customer_lifetime_value
from crmmodels.errors import DataError
from crmmodels.lifecycle import LifecycleRules
from crmmodels.retention._cohorts import cohort_retention_of_log
from crmmodels.transactions import summarize_transactions

__all__ = ["TABLE_TYPES", "analyze_on_engine"]

#: the type of each column of the customer table after the customer column
TABLE_TYPES: dict[str, Any] = {
    "first_purchase": nw.Datetime("us"),
    "last_purchase": nw.Datetime("us"),
    "n_orders": nw.Int64,
    "frequency": nw.Int64,
    **dict.fromkeys(
        ("recency", "T", "mean_order_value", "monetary_value", "total_value"), nw.Float64
    ),
    **dict.fromkeys(("r_score", "f_score", "m_score"), nw.Int8),
    **dict.fromkeys(("rfm", "rfm_segment", "lifecycle_stage", "relationship_stage"), nw.String),
    **dict.fromkeys(
        ("p_alive", "expected_purchases", "expected_spend", "expected_total_spend", "clv"),
        nw.Float64,
    ),
    "clv_rank": nw.Int32,
    "clv_decile": nw.Int8,
    **dict.fromkeys(("value_class", "quadrant", "churn_risk"), nw.String),
}

#: the note added to a step whose per-customer part stays on the engine
ON_ENGINE = "Computed on the engine: the columns {} of .customers; no per-customer part."


def _one_row(frame: Any, *exprs: nw.Expr) -> dict[str, Any]:
    out: dict[str, Any] = collect(frame.select(*exprs)).rows(named=True)[0]
    return out


def _note(steps: StepLog, name: str, columns: str) -> None:
    """Add the on-engine note to the last record of step ``name``."""
    for i in range(len(steps.records) - 1, -1, -1):
        rec = steps.records[i]
        if rec.name == name:
            if rec.status == "done":
                note = ON_ENGINE.format(columns)
                steps.records[i] = dataclasses.replace(rec, notes=(*rec.notes, note))
            return


#: narwhals' notice that its Dask backend moves to another package: not about the data
LIBRARY_NOTICE = "Dask support is moving out of Narwhals"


def _without_library_notices(steps: StepLog) -> None:
    """Drop narwhals' packaging notice from the steps' notes (raised on every Dask frame)."""
    for i, rec in enumerate(steps.records):
        notes = tuple(n for n in rec.notes if not n.startswith(LIBRARY_NOTICE))
        if notes != rec.notes:
            steps.records[i] = dataclasses.replace(rec, notes=notes)


def _mix(frame: Any, column: str) -> str:
    counts = collect(frame.group_by(column).agg(nw.len().alias("n")).sort("n", descending=True))
    return ", ".join(f"{int(n):,} {name}" for name, n in counts.rows())


def _checks(frame: Any, summary: Any, date_col: str, end: pd.Timestamp) -> DataChecksResult:
    log = _one_row(
        frame,
        nw.len().alias("n"),
        nw.col(date_col).min().alias("first"),
        nw.col(date_col).max().alias("last"),
    )
    s = _one_row(
        summary,
        nw.len().alias("n"),
        nw.col("total_value").sum().alias("total"),
        (nw.col("total_value") <= 0).cast(nw.Int64).sum().alias("zero"),
        (nw.col("frequency") == 0).cast(nw.Int64).sum().alias("once"),
    )
    return DataChecksResult(
        n_rows=int(log["n"]),
        n_customers=int(s["n"]),
        first_date=str(pd.Timestamp(log["first"]).date()),
        last_date=str(pd.Timestamp(log["last"]).date()),
        observation_end=str(end.date()),
        total_value=float(s["total"] or 0.0),
        n_zero_value_customers=int(s["zero"] or 0),
        n_one_time_buyers=int(s["once"] or 0),
    )


def _spend_model(summary: Any, customer_col: str) -> GammaGamma:
    """Gamma-Gamma on the repeat buyers with a positive spend (distinct rows, engine-side)."""
    keep = (nw.col("frequency") > 0) & (nw.col("monetary_value") > 0)
    if int(_one_row(summary, keep.cast(nw.Int64).sum().alias("k"))["k"] or 0) == 0:
        raise DataError(
            "no customer bought more than once with a positive spend, so the spend model "
            "cannot be fitted; CLV needs repeat purchases."
        )
    return GammaGamma().fit(nw.to_native(summary.filter(keep)), customer_col=customer_col)


def _current_values(
    frame: Any, customer_col: str, date_col: str, amount_col: str, end: pd.Timestamp
) -> Any:
    """Each customer's spend in the current window up to ``end`` (the quadrants' axis)."""
    end_day = int((end - pd.Timestamp("1970-01-01")).days)
    days = day_number(nw.col(date_col))
    in_window = (days > end_day - float(CURRENT_WINDOW_DAYS)) & (days <= end_day)
    return (
        frame.select(
            nw.col(customer_col),
            nw.when(in_window)
            .then(nw.col(amount_col))
            .otherwise(0)
            .cast(nw.Float64)
            .alias("current_value"),
        )
        .group_by(customer_col)
        .agg(nw.col("current_value").sum())
    )


def analyze_on_engine(
    frame: Any,
    *,
    settings: AnalysisSettings,
    rules: LifecycleRules,
    steps: StepLog,
    tz: str | None,
) -> EngineCustomerAnalysis:
    """:func:`crmmodels.analyze` on a validated engine log (a narwhals LazyFrame)."""
    s = settings
    key, date_col, amount_col = s.customer_col, s.date_col, s.amount_col
    end_date = s.observation_end
    common: dict[str, Any] = {"customer_col": key, "date_col": date_col}
    log = nw.to_native(frame)

    def summarize(**unit: Any) -> Any:
        out = summarize_transactions(
            log, amount_col=amount_col, observation_end=end_date, **unit, **common
        )
        return stored(nw.from_native(out))

    summary = summarize(time_unit=s.time_unit)
    checks = _checks(frame, summary, date_col, end_date)
    selection = steps.run(
        "Model selection",
        lambda: select_on_engine(
            frame,
            customer_col=key,
            date_col=date_col,
            end=end_date,
            tz=tz,
            unit=s.time_unit,
            calibration_end=s.calibration_end,
            holdout=s.holdout,
            model=s.model,
        )[0],
        lambda r: str(r.reason),
    )
    model = whole_period_model(steps, selection, summary, s.model, key)
    model_summary = summary
    if selection is not None and selection.discrete:  # the models count whole periods
        model_summary = summarize(period=s.time_unit)
    spend = steps.run(
        "Spend model (Gamma-Gamma)",
        lambda: _spend_model(model_summary, key),
        lambda m: f"fitted on {int(m.n_customers_):,} repeat buyers with positive spend",
    )
    models: dict[str, Any] = {}
    if model is not None:
        models[type(model).__name__] = model
    if spend is not None:
        models["GammaGamma"] = spend
    native_summary = nw.to_native(model_summary)
    predictions = None
    if model is None:
        steps.skip("P(alive) and expected purchases", "no transaction model was fitted")
    else:
        predictions = steps.run(
            "P(alive) and expected purchases",
            lambda: stored(
                nw.from_native(model.predict(native_summary, horizon=s.horizon, customer_col=key))
            ),
            lambda f: (
                f"{_one_row(f, nw.col('expected_purchases').sum()).popitem()[1]:,.0f} "
                "purchases expected over the horizon"
            ),
        )
    value_args: dict[str, Any] = {
        "horizon": s.horizon,
        "discount_rate": s.discount_rate,
        "discount_period": s.discount_period,
        "margin": s.margin,
    }
    clv, equity = None, None
    if model is None or spend is None:
        missing = "transaction" if model is None else "spend"
        steps.skip("CLV", f"no {missing} model was fitted")
        steps.skip("Customer equity", f"no {missing} model was fitted")
    else:
        clv = steps.run(
            "CLV",
            lambda: customer_lifetime_value(
                model, spend, native_summary, customer_col=key, **value_args
            ),
            lambda r: f"CLV of {r.n_customers:,} customers, total {r.total:,.0f}",
        )
        equity = steps.run(
            "Customer equity",
            lambda: _equity(model, spend, model_summary, s.level, value_args),
            lambda r: f"{r.total:,.0f} ({r.low:,.0f} to {r.high:,.0f})",
        )
    clv_frame = None if clv is None else stored(nw.from_native(clv.data))
    _note(steps, "P(alive) and expected purchases", "p_alive, expected_purchases")
    _note(steps, "CLV", "expected_spend, expected_total_spend, clv, clv_rank, clv_decile")
    rfm = steps.run(
        "RFM scores and segments",
        lambda: rfm_columns(summary, key),
        lambda f: f"{int(_one_row(f, nw.col('rfm_segment').n_unique()).popitem()[1])} segments",
    )
    _note(steps, "RFM scores and segments", "r_score, f_score, m_score, rfm, rfm_segment")
    end_day = int((end_date - pd.Timestamp("1970-01-01")).days)
    stages = steps.run(
        "Lifecycle stages (purchase scheme)",
        lambda: _stored_stages(
            frame,
            customer_col=key,
            date_col=date_col,
            amount_col=amount_col,
            end_day=end_day,
            rules=dataclasses.replace(rules, scheme="purchase"),
        ),
        lambda f: _mix(f, "lifecycle_stage"),
    )
    _note(steps, "Lifecycle stages (purchase scheme)", "last_purchase, lifecycle_stage")
    steps.run(
        "Relationship stages",
        lambda: _relationship_only(stages),
        lambda f: _mix(f, "relationship_stage"),
    )
    _note(steps, "Relationship stages", "relationship_stage")
    portfolio = steps.run("80/20 analysis", lambda: _portfolio(summary, key), _portfolio_words)
    _note(steps, "80/20 analysis", "value_class")
    quadrants = None
    if clv_frame is None:
        steps.skip("CLV quadrants", "the CLV step was skipped")
    else:
        current = _current_values(frame, key, date_col, amount_col, end_date)
        quadrants = steps.run(
            "CLV quadrants",
            lambda: _quadrants(clv_frame, current, key),
            lambda q: _mix(q[0], "quadrant"),
        )
        _note(steps, "CLV quadrants", "quadrant")
    retention = steps.run(
        "Cohort retention",
        lambda: cohort_retention_of_log(
            frame, to_timestamp(end_date, "observation_end", tz), period="M", **common
        ),
        lambda r: f"{r.to_frame()['cohort'].nunique()} monthly cohorts",
    )
    parts = {
        "lifecycle": stages,
        "rfm": rfm,
        "predictions": predictions,
        "clv": clv_frame,
        "classes": None if portfolio is None else portfolio[0],
        "quadrants": None if quadrants is None else quadrants[0],
    }
    table = customer_table_on_engine(summary, key, parts)
    figures = _key_figures(table, equity, portfolio, s)
    _without_library_notices(steps)
    steps.finish()
    return EngineCustomerAnalysis(
        customers=nw.to_native(table),
        key_figures=figures,
        model_selection=selection,
        models=models,
        transaction_model=None if model is None else type(model).__name__,
        equity=equity,
        retention=retention,
        checks=checks,
        steps=steps.result(),
        settings=s,
        _table=top_rows(table, key),
        quadrant_values=None if quadrants is None else quadrants[1],
    )


def _equity(model: Any, spend: Any, summary: Any, level: float, value_args: dict[str, Any]) -> Any:
    """Customer equity (delta method) from the distinct histories weighted by their counts.

    Only the distinct (frequency, recency, T, monetary_value) rows cross from the engine.
    """
    columns = [c for c in ("frequency", "recency", "T", "monetary_value")]
    table, counts = engines.distinct_rows(summary, columns)
    return customer_equity(
        model,
        spend,
        table.to_pandas(),
        weights=counts,
        level=level,
        method="delta",
        **value_args,
    )


def _stored_stages(frame: Any, **kwargs: Any) -> Any:
    return stored(lifecycle_columns(frame, **kwargs))


def _relationship_only(stages: Any) -> Any:
    if stages is None:
        raise DataError("the lifecycle features could not be computed (see the purchase scheme).")
    return stages


def _portfolio(summary: Any, key: str) -> tuple[Any, dict[str, float]]:
    classes, figures = value_classes(summary, key)
    if classes is None:
        raise DataError(
            f"total net value is {figures['total']:.6g}; shares of value (and the 80/20 "
            "analysis) need a positive total. Check the sign of the value column."
        )
    return classes, figures


def _portfolio_words(p: tuple[Any, dict[str, float]]) -> str:
    f = p[1]
    return f"top 20% of customers bought {f['top_share']:.0%} of the value; Gini {f['gini']:.2f}"


def _quadrants(clv_frame: Any, current: Any, key: str) -> tuple[Any, QuadrantValues]:
    """The quadrant of each customer (on the engine) and the quadrants' aggregates."""
    data = stored(
        clv_frame.select(key, "clv")
        .join(current, on=key, how="left")
        .with_columns(nw.col("current_value").fill_null(0.0))
    )
    labels, thresholds = quadrant_columns(data, key)
    sums = collect(
        data.join(labels, on=key, how="inner")
        .group_by("quadrant")
        .agg(nw.col("current_value").sum().alias("current"))
    ).rows()
    values = QuadrantValues(
        current_threshold=float(thresholds["current"]),
        potential_threshold=float(thresholds["potential"]),
        current={str(q): float(v) for q, v in sums},
    )
    return labels, values


def customer_table_on_engine(summary: Any, key: str, parts: dict[str, Any]) -> Any:
    """Join the parts to the summary by id on the engine; the pandas path's columns and types."""
    table = summary.select(
        key,
        "first_purchase",
        "n_orders",
        "frequency",
        "recency",
        "T",
        "monetary_value",
        "total_value",
    )
    wanted = {
        "lifecycle": ("last_purchase", "lifecycle_stage", "relationship_stage"),
        "rfm": ("r_score", "f_score", "m_score", "rfm", "rfm_segment"),
        "predictions": ("p_alive", "expected_purchases"),
        "clv": ("expected_spend", "clv"),
        "classes": ("value_class",),
        "quadrants": ("quadrant",),
    }
    for name, columns in wanted.items():
        part = parts[name]
        if part is None:
            table = table.with_columns(
                *(nw.lit(None).cast(TABLE_TYPES[c]).alias(c) for c in columns)
            )
        else:
            table = table.join(part.select(key, *columns), on=key, how="left")
    valued = parts["clv"]
    n_valued = 0 if valued is None else int(_one_row(valued, nw.col("clv").count())["clv"] or 0)
    table = min_rank(table, "clv", key, "clv_rank").with_columns(
        (nw.col("total_value").cast(nw.Float64) / nw.col("n_orders").cast(nw.Float64)).alias(
            "mean_order_value"
        ),
        (nw.col("expected_purchases") * nw.col("expected_spend")).alias("expected_total_spend"),
        decile_expr(nw.col("clv_rank"), n_valued).alias("clv_decile"),
        churn_risk_expr(nw.col("p_alive"), nw.col("lifecycle_stage")).alias("churn_risk"),
    )
    return kept(
        table.select(nw.col(key), *(nw.col(c).cast(TABLE_TYPES[c]) for c in CUSTOMER_COLUMNS)).sort(
            key
        )
    )


def _key_figures(table: Any, equity: Any, portfolio: Any, s: AnalysisSettings) -> KeyFiguresResult:
    stats = _one_row(
        table,
        nw.len().alias("n"),
        nw.col("lifecycle_stage").count().alias("staged"),
        (nw.col("lifecycle_stage") != "churned").cast(nw.Int64).sum().alias("active"),
        (nw.col("frequency") > 0).cast(nw.Int64).sum().alias("repeat"),
        nw.col("expected_purchases").count().alias("predicted"),
        nw.col("expected_purchases").sum().alias("expected"),
    )
    n = int(stats["n"])

    def share(k: Any) -> float:
        return float(k or 0) / n if n else math.nan

    figures = None if portfolio is None else portfolio[1]
    return KeyFiguresResult(
        n_customers=n,
        active_share=share(stats["active"]) if int(stats["staged"] or 0) else math.nan,
        repeat_share=share(stats["repeat"]),
        customer_equity=math.nan if equity is None else float(equity.total),
        equity_low=math.nan if equity is None else float(equity.low),
        equity_high=math.nan if equity is None else float(equity.high),
        level=s.level,
        top_share=math.nan if figures is None else float(figures["top_share"]),
        gini=math.nan if figures is None else float(figures["gini"]),
        expected_purchases=float(stats["expected"]) if int(stats["predicted"] or 0) else math.nan,
        horizon=s.horizon,
        time_unit=s.unit,
    )
