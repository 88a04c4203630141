"""The customer table of an analysis: one row per customer, every part joined by id.

Each part (summary, RFM, lifecycle, predictions, CLV, 80/20 classes, quadrants) is a
pandas frame keyed by the customer column; the table takes the summary's customers in
the summary's order and looks every other part up by id, so a part that was skipped
leaves its columns empty instead of dropping customers.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["CHURN_RISK_BANDS", "CUSTOMER_COLUMNS", "churn_risk", "clv_ranks", "customer_table"]

#: P(alive) limits of the churn-risk bands: below the first is high risk, below the
#: second medium, otherwise low
CHURN_RISK_BANDS = (0.3, 0.7)

#: the columns of the customer table after the customer column, in order
CUSTOMER_COLUMNS = (
    "first_purchase",
    "last_purchase",
    "n_orders",
    "frequency",
    "recency",
    "T",
    "mean_order_value",
    "monetary_value",
    "total_value",
    "r_score",
    "f_score",
    "m_score",
    "rfm",
    "rfm_segment",
    "lifecycle_stage",
    "relationship_stage",
    "p_alive",
    "expected_purchases",
    "expected_spend",
    "expected_total_spend",
    "clv",
    "clv_rank",
    "clv_decile",
    "value_class",
    "quadrant",
    "churn_risk",
)


def _lookup(ids: pd.Index, part: pd.DataFrame | None, column: str, key: str) -> Any:
    """``part[column]`` aligned on ``ids`` (missing part or customer: empty values)."""
    if part is None or column not in part.columns:
        return pd.Series(np.nan, index=ids, dtype="float64").to_numpy()
    series = part.set_index(key)[column]
    return series.reindex(ids).to_numpy()


def clv_ranks(clv: np.ndarray[Any, Any]) -> tuple[Any, Any]:
    """Rank (1 = highest CLV, ties share the best rank) and decile (1 = top 10%).

    Customers without a CLV get no rank.

    Examples
    --------
    >>> rank, decile = clv_ranks(np.array([5.0, 10.0, 10.0, 1.0, np.nan]))
    >>> rank.tolist(), decile.tolist()
    ([3, 1, 1, 4, <NA>], [8, 3, 3, 10, <NA>])
    """
    values = pd.Series(clv, dtype="float64")
    rank = values.rank(method="min", ascending=False)
    n = int(values.notna().sum())
    decile = pd.Series(np.ceil(rank.to_numpy() / max(n, 1) * 10))
    return rank.astype("Int64").array, decile.astype("Int64").array


def churn_risk(p_alive: Any, lifecycle_stage: Any) -> Any:
    """Churn-risk band: "high", "medium" or "low" (None when neither input is known).

    High when P(alive) is below 0.3 or the customer's last purchase is older than the
    lifecycle rule's churn window (stage ``"churned"``); medium when P(alive) is below
    0.7; low otherwise.

    Examples
    --------
    >>> churn_risk(np.array([0.1, 0.5, 0.9, 0.9, np.nan]),
    ...            np.array(["loyal", "loyal", "loyal", "churned", None], dtype=object))
    array(['high', 'medium', 'low', 'high', None], dtype=object)
    """
    p = np.asarray(p_alive, dtype="float64")
    stage = np.asarray(lifecycle_stage, dtype=object)
    low, high = CHURN_RISK_BANDS
    out = np.full(p.shape, None, dtype=object)
    known = ~np.isnan(p)
    out[known & (p >= high)] = "low"
    out[known & (p < high)] = "medium"
    out[(known & (p < low)) | (stage == "churned")] = "high"
    return out


def customer_table(
    summary: pd.DataFrame,
    *,
    customer_col: str,
    rfm: pd.DataFrame | None,
    lifecycle: pd.DataFrame | None,
    relationship: pd.DataFrame | None,
    predictions: pd.DataFrame | None,
    clv: pd.DataFrame | None,
    classes: pd.DataFrame | None,
    quadrants: pd.DataFrame | None,
) -> pd.DataFrame:
    """Join the parts into the customer table (the summary's customers and order)."""
    ids = pd.Index(summary[customer_col])
    key = customer_col
    out: dict[str, Any] = {customer_col: summary[customer_col].to_numpy()}
    out["first_purchase"] = summary["first_purchase"].to_numpy()
    out["last_purchase"] = _lookup(ids, lifecycle, "last_purchase", key)
    for col in ("n_orders", "frequency", "recency", "T"):
        out[col] = summary[col].to_numpy()
    total = summary["total_value"].to_numpy(dtype="float64")
    out["mean_order_value"] = total / summary["n_orders"].to_numpy(dtype="float64")
    out["monetary_value"] = summary["monetary_value"].to_numpy()
    out["total_value"] = total
    for col in ("r_score", "f_score", "m_score", "rfm"):
        out[col] = _lookup(ids, rfm, col, key)
    out["rfm_segment"] = _lookup(ids, rfm, "segment", key)
    out["lifecycle_stage"] = _lookup(ids, lifecycle, "stage", key)
    out["relationship_stage"] = _lookup(ids, relationship, "stage", key)
    out["p_alive"] = _lookup(ids, predictions, "p_alive", key)
    out["expected_purchases"] = _lookup(ids, predictions, "expected_purchases", key)
    out["expected_spend"] = _lookup(ids, clv, "expected_spend", key)
    out["expected_total_spend"] = np.asarray(out["expected_purchases"], dtype="float64") * (
        np.asarray(out["expected_spend"], dtype="float64")
    )
    out["clv"] = _lookup(ids, clv, "clv", key)
    out["clv_rank"], out["clv_decile"] = clv_ranks(np.asarray(out["clv"], dtype="float64"))
    out["value_class"] = _lookup(ids, classes, "class", key)
    out["quadrant"] = _lookup(ids, quadrants, "quadrant", key)
    out["churn_risk"] = churn_risk(out["p_alive"], out["lifecycle_stage"])
    table = pd.DataFrame(out)
    for col in ("rfm_segment", "lifecycle_stage", "relationship_stage", "value_class"):
        table[col] = table[col].astype(object).where(table[col].notna(), None)
    for col in ("quadrant", "churn_risk"):
        table[col] = table[col].astype(object).where(table[col].notna(), None)
    for col in ("r_score", "f_score", "m_score"):
        table[col] = table[col].astype("Int64")
    return table
