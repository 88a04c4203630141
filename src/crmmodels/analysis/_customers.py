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


#: the order of the categories of label columns whose labels are not a categorical
#: column of their part already (labels outside it follow, sorted)
LABEL_ORDER: dict[str, tuple[str, ...]] = {
    "lifecycle_stage": ("prospect", "first_time", "loyal", "churned"),
    "relationship_stage": ("prospect", "exploration", "formation", "stability", "decline"),
    "churn_risk": ("high", "medium", "low"),
}


def _positions(ids: pd.Index, part: pd.DataFrame | None, key: str) -> Any:
    """Row of each of ``ids`` in ``part`` (-1 when missing); None when in the same order.

    One hash lookup per part, shared by all of its columns.
    """
    if part is None:
        return np.full(len(ids), -1, dtype=np.intp)
    keys = part[key].to_numpy()
    if keys.shape == ids.shape and bool(np.array_equal(keys, ids.to_numpy())):
        return None
    return pd.Index(keys).get_indexer(ids)


def _take(part: pd.DataFrame | None, column: str, pos: Any, n: int) -> Any:
    """``part[column]`` at rows ``pos`` (missing rows: NaN, or <NA> for nullable ints)."""
    if part is None or column not in part.columns:
        return np.full(n, np.nan)
    values = part[column].array
    if pos is None:
        return values.copy()
    return values.take(pos, allow_fill=True)


def _labels(values: Any, order: tuple[str, ...] | None = None) -> pd.Categorical:
    """Text labels as a categorical: one code per row instead of one string object.

    The categories are those of a categorical part (its order), else ``order`` followed
    by any other label found (sorted), so that the dtype does not depend on row order.
    """
    if isinstance(values, pd.Categorical):
        return values
    cat = pd.Categorical(values)
    if order is None:
        return cat
    extra = sorted(str(c) for c in cat.categories if c not in order)
    return cat.set_categories([*order, *extra])


def _narrow_ints(values: Any, dtype: str) -> Any:
    """Nullable whole numbers in the narrow ``dtype`` ("Int8", "Int32" ...)."""
    return pd.array(values, dtype="Int64").astype(dtype)


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


def _churn_codes(p_alive: Any, churned: Any) -> Any:
    """Codes of the churn-risk bands (0 high, 1 medium, 2 low, -1 unknown)."""
    p = np.asarray(p_alive, dtype="float64")
    low, high = CHURN_RISK_BANDS
    codes = np.full(p.shape, -1, dtype=np.int8)
    known = ~np.isnan(p)
    codes[known & (p >= high)] = 2
    codes[known & (p < high)] = 1
    codes[(known & (p < low)) | churned] = 0
    return codes


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
    codes = _churn_codes(p_alive, np.asarray(lifecycle_stage, dtype=object) == "churned")
    labels = np.array([*LABEL_ORDER["churn_risk"], None], dtype=object)
    return labels[codes]


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
    """Join the parts into the customer table (the summary's customers and order).

    Every part is looked up by id once (no lookup when it is in the summary's order);
    labels are categoricals, scores, ranks and deciles narrow nullable integers.
    """
    ids = pd.Index(summary[customer_col])
    n = len(ids)
    key = customer_col
    pos = {
        name: _positions(ids, part, key)
        for name, part in (
            ("rfm", rfm),
            ("lifecycle", lifecycle),
            ("relationship", relationship),
            ("predictions", predictions),
            ("clv", clv),
            ("classes", classes),
            ("quadrants", quadrants),
        )
    }
    out: dict[str, Any] = {customer_col: summary[customer_col].to_numpy()}
    out["first_purchase"] = summary["first_purchase"].to_numpy()
    out["last_purchase"] = _take(lifecycle, "last_purchase", pos["lifecycle"], n)
    for col in ("n_orders", "frequency", "recency", "T"):
        out[col] = summary[col].to_numpy()
    total = summary["total_value"].to_numpy(dtype="float64")
    out["mean_order_value"] = total / summary["n_orders"].to_numpy(dtype="float64")
    out["monetary_value"] = summary["monetary_value"].to_numpy()
    out["total_value"] = total
    for col in ("r_score", "f_score", "m_score"):
        out[col] = _narrow_ints(_take(rfm, col, pos["rfm"], n), "Int8")
    out["rfm"] = _labels(_take(rfm, "rfm", pos["rfm"], n), ())
    out["rfm_segment"] = _labels(_take(rfm, "segment", pos["rfm"], n), ())
    out["lifecycle_stage"] = _labels(
        _take(lifecycle, "stage", pos["lifecycle"], n), LABEL_ORDER["lifecycle_stage"]
    )
    out["relationship_stage"] = _labels(
        _take(relationship, "stage", pos["relationship"], n), LABEL_ORDER["relationship_stage"]
    )
    p_alive = np.asarray(_take(predictions, "p_alive", pos["predictions"], n), dtype="float64")
    out["p_alive"] = p_alive
    expected = _take(predictions, "expected_purchases", pos["predictions"], n)
    out["expected_purchases"] = np.asarray(expected, dtype="float64")
    out["expected_spend"] = np.asarray(_take(clv, "expected_spend", pos["clv"], n), dtype="float64")
    out["expected_total_spend"] = out["expected_purchases"] * out["expected_spend"]
    out["clv"] = np.asarray(_take(clv, "clv", pos["clv"], n), dtype="float64")
    rank, decile = clv_ranks(out["clv"])
    out["clv_rank"] = rank.astype("Int32")
    out["clv_decile"] = decile.astype("Int8")
    out["value_class"] = _labels(_take(classes, "class", pos["classes"], n), ())
    out["quadrant"] = _labels(_take(quadrants, "quadrant", pos["quadrants"], n), ())
    out["churn_risk"] = _churn_labels(p_alive, out["lifecycle_stage"])
    return pd.DataFrame(out, copy=False)


def _churn_labels(p_alive: Any, stage: pd.Categorical) -> pd.Categorical:
    """:func:`churn_risk` as a categorical, computed on the stage codes (no text per row)."""
    names = list(stage.categories)
    churned = names.index("churned") if "churned" in names else -1
    is_churned = np.asarray(stage.codes) == churned if churned >= 0 else False
    codes = _churn_codes(p_alive, is_churned)
    dtype = pd.CategoricalDtype(list(LABEL_ORDER["churn_risk"]))
    out: pd.Categorical = pd.Categorical.from_codes(codes, dtype=dtype)
    return out
