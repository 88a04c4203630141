"""The per-customer columns of ``analyze`` as expressions on the caller's engine.

Each part of the customer table that the pandas path computes with numpy (RFM scores
and segments, lifecycle and relationship stages, the A/B/C value classes, CLV
quadrants, CLV rank and decile, churn-risk band) is written here as narwhals
expressions on lazy frames, so that it runs where the data live. What a rule needs
from the whole base (quantile thresholds, medians, totals) is computed by the engine
and collected as a handful of scalars; no per-customer row reaches the driver.

The rules are the pandas path's, value for value:

- RFM: ``score = 1 + floor(bins * (rank_min - 1) / n)`` is ``1 +`` the number of
  order statistics ``x_(ceil(k n / bins))`` (k = 1 .. bins-1, 1-based positions)
  strictly below the value, so ``bins - 1`` order statistics give every score, ties
  included (:func:`crmmodels.rfm_scores`);
- stages: the thresholds of :class:`crmmodels.LifecycleRules` on the purchase days,
  first and last purchase day and the value of the recent window;
- A/B/C: the cumulative value share of the customers ranked above (value descending,
  id ascending, a window sum) against the cut-offs, with the kernel's tolerance;
- quadrants: the positive medians of both axes (``numpy.median``: the mean of the two
  middle order statistics for an even count); a value equal to a threshold is high;
- rank: ``rank(method="min")`` of the CLV, descending; decile ``ceil(rank / n * 10)``.

The windows (numbering sorted rows, running sums, the rank) are
:mod:`crmmodels.analysis._engine_store`'s, the one module with engine-specific code.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import narwhals.stable.v2 as nw

from crmmodels._ingest.frames import collect, day_number
from crmmodels.analysis._customers import CHURN_RISK_BANDS
from crmmodels.analysis._engine_store import numbered
from crmmodels.kernels.portfolio import TOL
from crmmodels.lifecycle import LifecycleRules
from crmmodels.portfolio._result import CLASS_LABELS
from crmmodels.transactions._rfm import DEFAULT_RFM_RULES

__all__ = [
    "churn_risk_expr",
    "decile_expr",
    "lifecycle_columns",
    "order_statistics",
    "quadrant_columns",
    "rfm_columns",
    "value_classes",
]

_IDX = "__crmmodels_idx"


def order_statistics(frame: Any, column: str, positions: Sequence[int]) -> dict[int, float]:
    """The values at 0-based ``positions`` of ``column`` sorted ascending (one small collect).

    The engine numbers the sorted rows (:func:`~crmmodels.analysis._engine_store.numbered`);
    only the rows asked for are collected.
    """
    wanted = sorted({int(p) for p in positions if p >= 0})
    if not wanted:
        return {}
    ordered = numbered(frame.select(nw.col(column)), [column], _IDX)
    rows = collect(ordered.filter(nw.col(_IDX).is_in(wanted))).rows(named=True)
    return {int(r[_IDX]): float(r[column]) for r in rows}


def _count(frame: Any) -> int:
    return int(collect(frame.select(nw.len().alias("n"))).item(0, 0))


def _score_expr(column: str, frame: Any, n: int, bins: int) -> nw.Expr:
    """``1 + #{k : x_(m_k) < value}`` with ``m_k = ceil(k n / bins)`` (see the module)."""
    marks = [-(-k * n // bins) for k in range(1, bins)]
    stats = order_statistics(frame, column, [m - 1 for m in marks])
    score: nw.Expr = nw.lit(1, nw.Int64)
    for m in marks:
        if m <= 0:  # no value is needed below it: every customer passes this mark
            score = score + 1
        else:
            passed = (nw.col(column) > nw.lit(stats[m - 1])).cast(nw.Int64)
            score = score + passed
    return score.cast(nw.Int8)


def rfm_columns(summary: Any, customer_col: str, bins: int = 5) -> Any:
    """``r_score``, ``f_score``, ``m_score``, ``rfm`` and ``rfm_segment`` per customer."""
    values = summary.select(
        nw.col(customer_col),
        (-(nw.col("T") - nw.col("recency"))).cast(nw.Float64).alias("__r"),
        nw.col("frequency").cast(nw.Float64).alias("__f"),
        nw.col("monetary_value").cast(nw.Float64).alias("__m"),
    )
    n = _count(values)
    scored = values.select(
        nw.col(customer_col),
        _score_expr("__r", values, n, bins).alias("r_score"),
        _score_expr("__f", values, n, bins).alias("f_score"),
        _score_expr("__m", values, n, bins).alias("m_score"),
    )
    r, f, m = (nw.col(c).cast(nw.Int64) for c in ("r_score", "f_score", "m_score"))
    code = (r * 100 + f * 10 + m).cast(nw.String)
    segment: nw.Expr = nw.lit("other")
    for rule in reversed(DEFAULT_RFM_RULES):
        hit = (
            (r >= rule.r[0])
            & (r <= rule.r[1])
            & (f >= rule.f[0])
            & (f <= rule.f[1])
            & (m >= rule.m[0])
            & (m <= rule.m[1])
        )
        segment = nw.when(hit).then(nw.lit(rule.segment)).otherwise(segment)
    return scored.with_columns(code.alias("rfm"), segment.alias("rfm_segment"))


def lifecycle_columns(
    log: Any,
    *,
    customer_col: str,
    date_col: str,
    amount_col: str,
    end_day: int,
    rules: LifecycleRules,
) -> Any:
    """``last_purchase``, ``lifecycle_stage`` and ``relationship_stage`` per customer.

    The log is merged to (customer, day) rows as the lifecycle module merges it, then
    each customer's purchase days, first and last day, value and recent value feed the
    rules of both schemes (every customer of the log bought by the observation end, so
    there are no prospects).
    """
    start = end_day - rules.recent_days  # history: days first..start (inclusive)
    days = (
        log.with_columns(
            day_number(nw.col(date_col)).alias("__day"),
            nw.col(amount_col).cast(nw.Float64).alias("__value"),
        )
        .group_by(customer_col, "__day")
        .agg(
            nw.col("__value").sum(),
            nw.col(date_col).min().alias("__date"),
        )
        .with_columns(
            nw.when(nw.col("__day") > start)
            .then(nw.col("__value"))
            .otherwise(nw.lit(0.0))
            .alias("__recent")
        )
    )
    feats = days.group_by(customer_col).agg(
        nw.len().alias("__n"),
        nw.col("__day").min().alias("__first"),
        nw.col("__day").max().alias("__last"),
        nw.col("__date").max().alias("__last_date"),
        nw.col("__value").sum().alias("__total"),
        nw.col("__recent").sum().alias("__recent"),
    )
    n = nw.col("__n")
    churned = (end_day - nw.col("__last")) > rules.churn_after_days
    purchase = (
        nw.when(churned)
        .then(nw.lit("churned"))
        .otherwise(nw.when(n >= 2).then(nw.lit("loyal")).otherwise(nw.lit("first_time")))
    )
    return feats.select(
        nw.col(customer_col),
        nw.col("__last_date").dt.truncate("1d").cast(nw.Datetime("us")).alias("last_purchase"),
        purchase.alias("lifecycle_stage"),
        _relationship(rules, start).alias("relationship_stage"),
    )


def _relationship(rules: LifecycleRules, start: int) -> nw.Expr:
    """Exploration / formation / stability / decline, as ``lifecycle._classify`` has them.

    Without a positive history rate the trend is infinite, 0 or 1 (recent rate above,
    below or equal); its comparisons with the ratios are then known in advance.
    """
    n = nw.col("__n")
    hist_len = (nw.lit(start) - nw.col("__first") + 1).cast(nw.Float64)
    has_history = hist_len > 0
    history = nw.col("__total") - nw.col("__recent")
    hist_rate = history / hist_len.clip(lower_bound=1.0)
    recent_rate = nw.col("__recent") / float(rules.recent_days)
    positive = hist_rate > 0

    def moved(inf_holds: bool, zero_holds: bool, one_holds: bool) -> nw.Expr:
        up = nw.lit(inf_holds) & (recent_rate > hist_rate)
        down = nw.lit(zero_holds) & (recent_rate < hist_rate)
        flat = nw.lit(one_holds) & (recent_rate == hist_rate)
        return up | down | flat

    decline, growth = float(rules.decline_ratio), float(rules.growth_ratio)
    ratio = recent_rate / hist_rate
    below = (
        nw.when(positive)
        .then(ratio < decline)
        .otherwise(moved(math.inf < decline, decline > 0.0, decline > 1.0))
    )
    above = (
        nw.when(positive).then(ratio > growth).otherwise(moved(True, growth < 0.0, growth < 1.0))
    )
    declining = has_history & below
    forming = (n < rules.stability_min_purchases) | ~has_history | above
    return (
        nw.when(n < rules.formation_min_purchases)
        .then(nw.lit("exploration"))
        .otherwise(
            nw.when(declining)
            .then(nw.lit("decline"))
            .otherwise(nw.when(forming).then(nw.lit("formation")).otherwise(nw.lit("stability")))
        )
    )


def value_classes(
    summary: Any, customer_col: str, cutoffs: Sequence[float] = (0.8, 0.95)
) -> tuple[Any, dict[str, float]]:
    """The A/B/C class per customer and the 80/20 figures (engine aggregates).

    Returns the lazy frame (customer, ``value_class``) and ``total``, ``gini``,
    ``top_share``, ``n`` (the population Gini and the value share of the top 20% as
    :func:`crmmodels.pareto_analysis` computes them). Raises nothing itself: the caller
    checks ``total > 0``.
    """
    order = ["__neg", customer_col]
    values = summary.select(
        nw.col(customer_col),
        nw.col("total_value").cast(nw.Float64).alias("__x"),
        (-nw.col("total_value").cast(nw.Float64)).alias("__neg"),
    )
    ranked = numbered(values, order, "__k0", running=("__x", "__cum"))
    stats = collect(ranked.select(nw.len().alias("n"), nw.col("__x").sum().alias("total")))
    n, total = int(stats.item(0, "n")), float(stats.item(0, "total") or 0.0)
    figures: dict[str, float] = {"n": float(n), "total": total}
    if n == 0 or not total > 0:
        return None, figures
    # the ascending position of the best-first customer k (0-based) is n - k
    weights = (nw.lit(n) - nw.col("__k0")).cast(nw.Float64)
    weighted = float(collect(ranked.select((weights * nw.col("__x")).sum())).item(0, 0))
    figures["gini"] = 2.0 * weighted / (n * total) - (n + 1.0) / n
    figures["top_share"] = _top_share(ranked, n, total, 0.2)
    classes = ranked.select(nw.col(customer_col), _class_expr(cutoffs, total).alias("value_class"))
    return classes, figures


def _class_expr(cutoffs: Sequence[float], total: float) -> nw.Expr:
    """Class ``j``: the number of cut-offs the share of the customers above has reached."""
    share_before = (nw.col("__cum") - nw.col("__x")) / total
    out: nw.Expr = nw.lit(CLASS_LABELS[len(cutoffs)])
    for j in reversed(range(len(cutoffs))):
        hit = share_before < float(cutoffs[j]) - TOL
        out = nw.when(hit).then(nw.lit(CLASS_LABELS[j])).otherwise(out)
    return out


def _top_share(ranked: Any, n: int, total: float, top: float) -> float:
    """The concentration curve at customer share ``top``, linearly interpolated."""
    import numpy as np

    k = math.floor(top * n)
    want = [p for p in (k, k + 1) if 1 <= p <= n]
    picked = ranked.filter(nw.col("__k0").is_in([p - 1 for p in want]))
    rows = collect(picked.select(nw.col("__k0") + 1, nw.col("__cum"))).rows()
    cum = {0: 0.0, **{int(p): float(c) for p, c in rows}}
    xs = [p / n for p in sorted(cum)]
    return float(np.interp(top, xs, [cum[p] / total for p in sorted(cum)]))


def quadrant_columns(table: Any, customer_col: str) -> tuple[Any, dict[str, float]]:
    """The CLV quadrant per customer (``current_value`` against ``clv``, positive medians)."""
    thresholds = {
        "current": _positive_median(table, "current_value"),
        "potential": _positive_median(table, "clv"),
    }
    high_c = nw.col("current_value") >= thresholds["current"]
    high_p = nw.col("clv") >= thresholds["potential"]
    label = (
        nw.when(high_p & high_c)
        .then(nw.lit("vip"))
        .otherwise(
            nw.when(high_p)
            .then(nw.lit("improve"))
            .otherwise(nw.when(high_c).then(nw.lit("maintain")).otherwise(nw.lit("abandon")))
        )
    )
    return table.select(nw.col(customer_col), label.alias("quadrant")), thresholds


def _positive_median(table: Any, column: str) -> float:
    """``numpy.median`` of the positive values (of all values when none is positive)."""
    values = table.select(nw.col(column).cast(nw.Float64))
    positive = values.filter(nw.col(column) > 0)
    n = _count(positive)
    if n == 0:
        positive, n = values, _count(values)
    if n == 0:
        return math.nan
    mid = (n - 1) // 2, n // 2
    stats = order_statistics(positive, column, mid)
    a, b = stats[mid[0]], stats[mid[1]]
    return a if mid[0] == mid[1] else (a + b) / 2.0


def decile_expr(rank: nw.Expr, n_valued: int) -> nw.Expr:
    """CLV decile (1 = top 10%) from the CLV rank (1 = highest, ties share the best rank).

    The rank is :func:`~crmmodels.analysis._engine_store.min_rank` of the CLV.
    """
    return (rank.cast(nw.Float64) / float(max(n_valued, 1)) * 10.0).ceil().cast(nw.Int8)


def churn_risk_expr(p_alive: nw.Expr, stage: nw.Expr) -> nw.Expr:
    """High, medium or low (null when neither input is known), as ``churn_risk``."""
    low, high = CHURN_RISK_BANDS
    churned = stage.fill_null("") == "churned"
    known = ~p_alive.is_null()
    return (
        nw.when(churned | (known & (p_alive < low)))
        .then(nw.lit("high"))
        .otherwise(
            nw.when(known & (p_alive < high))
            .then(nw.lit("medium"))
            .otherwise(nw.when(known).then(nw.lit("low")))
        )
    )
