"""The customer table of an analysis: one row per customer, every part joined by id.

The table takes the summary's customers in the summary's order; each step (RFM,
lifecycle, predictions, CLV, 80/20 classes, quadrants) adds its columns, looked up by
id, so a step that was skipped leaves its columns empty instead of dropping customers.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "CHURN_RISK_BANDS",
    "CUSTOMER_COLUMNS",
    "CustomerTable",
    "churn_risk",
    "clv_ranks",
]

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
    if isinstance(values, np.ndarray) and values.dtype.kind in "iu":  # nothing missing
        return pd.array(values.astype(dtype.lower()), dtype=dtype)  # type: ignore[call-overload]
    if str(getattr(values, "dtype", "")) == dtype:  # narrow already
        return values
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
    values = np.asarray(clv, dtype=np.float64)
    if np.isnan(values).any():  # some customers have no rank
        series = pd.Series(values)
        ranks = series.rank(method="min", ascending=False)
        n = int(series.notna().sum())
        decile = pd.Series(np.ceil(ranks.to_numpy() / max(n, 1) * 10))
        return ranks.astype("Int64").array, decile.astype("Int64").array
    # the minimum rank of each value, in place on narrow integers (no frame)
    order = np.argsort(values)[::-1]  # best first (the order within ties is immaterial)
    ordered = values[order]
    first = np.arange(1, values.size + 1, dtype=np.int32)
    first[1:][ordered[1:] == ordered[:-1]] = 0  # a tie takes the rank of its run's start
    del ordered
    np.maximum.accumulate(first, out=first)
    rank = np.empty(values.size, dtype=np.int32)
    rank[order] = first
    del order, first
    share = rank.astype(np.float64)
    share /= max(values.size, 1)
    share *= 10
    deciles = np.ceil(share, out=share).astype(np.int8)
    del share
    no_mask = np.zeros(values.size, dtype=bool)
    return pd.arrays.IntegerArray(rank, no_mask), pd.arrays.IntegerArray(deciles, no_mask)


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


#: the columns :meth:`CustomerTable.frame` derives from the others
_DERIVED = frozenset(
    ("mean_order_value", "expected_total_spend", "clv_rank", "clv_decile", "churn_risk")
)


class CustomerTable:
    """The customer table, built column by column as the steps of an analysis finish.

    It starts from the customer summary (its customers and order); each step hands over
    the columns it computed (:meth:`add`) and its own result can then be dropped, so the
    table never waits for every part to be held at once. Rows of a part are looked up by
    id once per part (none when the part is in the table's order). Columns of a skipped
    step stay empty: every customer keeps its row.
    """

    def __init__(self, summary: pd.DataFrame, customer_col: str) -> None:
        self.key = customer_col
        self.ids = summary[customer_col].to_numpy()
        self.n = len(self.ids)
        self.columns: dict[str, Any] = {customer_col: self.ids}
        self.columns["first_purchase"] = summary["first_purchase"].to_numpy()
        for col in ("n_orders", "frequency", "recency", "T", "monetary_value"):
            self.columns[col] = summary[col].to_numpy()
        self.columns["total_value"] = summary["total_value"].to_numpy(dtype="float64")

    def positions(self, ids: Any) -> Any:
        """Row of each table customer in ``ids`` (-1 when missing); None when in order."""
        keys = np.asarray(ids)
        if keys.shape == self.ids.shape and bool(np.array_equal(keys, self.ids)):
            return None
        if keys.dtype == self.ids.dtype and keys.dtype.kind in "iu":
            order = np.argsort(keys, kind="stable")
            found = np.searchsorted(keys, self.ids, sorter=order)
            found = np.minimum(found, max(keys.size - 1, 0))
            pos = order[found] if keys.size else np.full(self.n, -1, dtype=np.intp)
            if keys.size:
                pos[keys[pos] != self.ids] = -1
            return pos
        return pd.Index(keys).get_indexer(pd.Index(self.ids))

    def add(self, part: pd.DataFrame, columns: dict[str, str]) -> None:
        """Take ``columns`` (part column -> table column) of a per-customer ``part``.

        A part in the table's order gives its columns as they are (the step drops it).
        """
        pos = self.positions(part[self.key].to_numpy())
        for source, target in columns.items():
            values = part[source].array
            self.put(target, values if pos is None else values.take(pos, allow_fill=True))

    def put(self, name: str, values: Any) -> None:
        """Set a column from values in the table's order, in the column's type."""
        if name in ("r_score", "f_score", "m_score", "clv_decile"):
            values = _narrow_ints(values, "Int8")
        elif name == "clv_rank":
            values = _narrow_ints(values, "Int32")
        elif name in ("rfm", "rfm_segment", "value_class", "quadrant"):
            values = _labels(values, ())
        elif name in LABEL_ORDER:
            values = _labels(values, LABEL_ORDER[name])
        elif name != "last_purchase":
            values = np.asarray(values, dtype="float64")
        self.columns[name] = values

    def frame(self) -> pd.DataFrame:
        """The table: the derived columns added, empty columns for skipped steps."""
        c = self.columns
        for name in CUSTOMER_COLUMNS:
            if name in _DERIVED or name in c:
                continue
            if name == "last_purchase":  # no stages: no date
                c[name] = np.full(self.n, np.datetime64("NaT"), dtype=c["first_purchase"].dtype)
            else:
                self.put(name, np.full(self.n, np.nan))
        # the ranks first: their working memory comes before the last columns are added
        rank, decile = clv_ranks(c["clv"])
        self.put("clv_rank", rank)
        self.put("clv_decile", decile)
        del rank, decile
        c["mean_order_value"] = np.divide(c["total_value"], c["n_orders"], dtype=np.float64)
        c["expected_total_spend"] = c["expected_purchases"] * c["expected_spend"]
        c["churn_risk"] = _churn_labels(c["p_alive"], c["lifecycle_stage"])
        return pd.DataFrame({k: c[k] for k in (self.key, *CUSTOMER_COLUMNS)}, copy=False)


def _churn_labels(p_alive: Any, stage: pd.Categorical) -> pd.Categorical:
    """:func:`churn_risk` as a categorical, computed on the stage codes (no text per row)."""
    names = list(stage.categories)
    churned = names.index("churned") if "churned" in names else -1
    is_churned = np.asarray(stage.codes) == churned if churned >= 0 else False
    codes = _churn_codes(p_alive, is_churned)
    dtype = pd.CategoricalDtype(list(LABEL_ORDER["churn_risk"]))
    out: pd.Categorical = pd.Categorical.from_codes(codes, dtype=dtype)
    return out
