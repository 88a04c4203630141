r"""Performance assessment: a KPI scorecard per period and segment.

Payne & Frow (2005), a strategic framework for CRM, steps 3 and 4: multichannel integration
and performance assessment). :func:`kpi_scorecard` turns a transaction log (and,
optionally, an interaction log and satisfaction scores) into one row per period and per
segment / channel / department with:

* ``revenue`` and ``revenue_growth`` (revenue over the same segment's previous period,
  minus one);
* ``orders`` and ``average_order_value`` (revenue per order);
* ``active_customers`` (customers who bought in the period), ``new_customers`` (active
  customers whose first purchase anywhere in the log falls in the period) and
  ``retention`` (share of the segment's customers active in the previous period who are
  active again);
* with ``satisfaction``: the mean satisfaction of the cell's active customers who have a
  score (``satisfaction_n`` of them);
* with ``interactions``: ``interactions`` (count, by the cell's active customers in the
  period), ``interactions_per_customer`` and ``engaged_share`` (share of active
  customers with at least one interaction).

Inputs that are not given make their KPIs absent (no column), never zero. Channel
consistency is the coefficient of variation (population standard deviation over mean) of
each KPI across the channels, per period. All aggregation runs on the caller's engine
through narwhals; only the per-cell aggregates are collected.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import narwhals.stable.v2 as nw
import numpy as np
import pandas as pd

from crmmodels._ingest.amounts import check_amounts
from crmmodels._ingest.arguments import check_bool, check_column_name
from crmmodels._ingest.dates import parse_dates
from crmmodels._ingest.frames import (
    check_columns,
    check_not_null,
    numeric_amounts,
    to_narwhals,
    to_pandas,
)
from crmmodels._ingest.periods import check_period_code, period_index, period_labels
from crmmodels._results import Result
from crmmodels.errors import DataError, SchemaError

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["ScorecardResult", "kpi_scorecard"]

_P = "__period"
#: KPIs compared across channels (levels, not growth rates).
_CONSISTENCY_KPIS = (
    "revenue",
    "average_order_value",
    "active_customers",
    "new_customers",
    "retention",
    "satisfaction",
    "interactions_per_customer",
    "engaged_share",
)


@dataclass(frozen=True, repr=False)
class ScorecardResult(Result):
    """KPI scorecard per period and segment, with channel consistency.

    Attributes
    ----------
    kpis : pandas.DataFrame
        One row per period (``period``, a pandas Period) and segment (the ``by``
        columns): the KPI columns listed in ``kpi_names``.
    consistency : pandas.DataFrame or None
        With a channel column: one row per period (and other ``by`` columns) and KPI:
        ``n_channels``, ``mean``, ``sd`` (population) and ``cv`` (``sd / mean``).
    kpi_names : tuple of str
        The KPI columns present.
    by : tuple of str
        Segment columns.
    channel_col : str or None
        The column whose values are compared for consistency.
    period : str
        Period code (``"D"``, ``"W"``, ``"M"`` or ``"Q"``).
    n_periods : int
        Periods on the grid (first to last period with a purchase).
    n_cells : int
        Rows of ``kpis``.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": [1, 2, 1],
    ...                    "date": pd.to_datetime(["2024-01-05", "2024-01-20", "2024-02-03"]),
    ...                    "amount": [10.0, 20.0, 15.0]})
    >>> sc = kpi_scorecard(tx)
    >>> sc.to_frame()[["period", "revenue", "active_customers"]].values.tolist()
    [[Period('2024-01', 'M'), 30.0, 2], [Period('2024-02', 'M'), 15.0, 1]]
    >>> ax = sc.plot()
    >>> type(ax).__name__
    'Axes'
    >>> import matplotlib.pyplot as plt
    >>> plt.close(ax.figure)
    """

    kpis: pd.DataFrame
    consistency: pd.DataFrame | None
    kpi_names: tuple[str, ...]
    by: tuple[str, ...]
    channel_col: str | None
    period: str
    n_periods: int
    n_cells: int

    def to_frame(self) -> pd.DataFrame:
        """Return the KPI table."""
        return self.kpis.copy()

    def consistency_summary(self) -> pd.DataFrame:
        """Mean and maximum coefficient of variation of each KPI over the periods."""
        if self.consistency is None:
            raise DataError("no channel column: pass by=<channel column> or channel_col=.")
        out = self.consistency.groupby("kpi", sort=False)["cv"].agg(["mean", "max"])
        return out.rename(columns={"mean": "mean_cv", "max": "max_cv"})

    def plot(
        self, ax: Axes | None = None, *, kpis: Sequence[str] | None = None, **kwargs: Any
    ) -> Axes:
        """Small-multiples KPI chart (see :func:`crmmodels.plotting.scorecard.plot_scorecard`)."""
        from crmmodels.plotting.scorecard import plot_scorecard

        return plot_scorecard(self, ax=ax, kpis=kpis, **kwargs)


def _with_dates(frame: Any, date_col: str, what: str, date_format: str | None) -> Any:
    return parse_dates(frame, date_col, date_format=date_format, what=what)


def kpi_scorecard(
    transactions: Any,
    *,
    customer_col: str = "customer_id",
    date_col: str = "date",
    amount_col: str = "amount",
    period: str = "M",
    by: str | Sequence[str] | None = None,
    interactions: Any = None,
    satisfaction: Any = None,
    order_col: str | None = None,
    channel_col: str | None = None,
    interaction_customer_col: str | None = None,
    interaction_date_col: str | None = None,
    satisfaction_col: str = "satisfaction",
    satisfaction_customer_col: str | None = None,
    satisfaction_date_col: str | None = None,
    date_format: str | None = None,
    allow_negative: bool = False,
) -> ScorecardResult:
    """KPI scorecard per period and segment / channel / department (Payne & Frow).

    Parameters
    ----------
    transactions : DataFrame-like
        One row per purchase (any engine).
    customer_col, date_col, amount_col : str
        Columns of ``transactions`` (dates may be ISO 8601 text, or text in the layout
        of ``date_format``).
    period : {"D", "W", "M", "Q"}
        Calendar period of the rows.
    by : str or list of str, optional
        Segment / channel / department column(s) of ``transactions``.
    interactions : DataFrame-like, optional
        One row per contact: customer id and timestamp. Matched to the cell's active
        customers by customer and period (not by the ``by`` columns).
    satisfaction : DataFrame-like, optional
        Satisfaction scores per customer, e.g. the ``satisfaction`` (or ``rq_index``)
        column of :func:`crmmodels.relationship_quality` scores with a customer id.
        Without ``satisfaction_date_col`` a customer's mean score is used in every
        period; with it, only scores given in the period count.
    order_col : str, optional
        Order id (default: each row is one order).
    channel_col : str, optional
        The ``by`` column compared for channel consistency (default: ``by`` when it is
        a single column).
    interaction_customer_col, interaction_date_col : str, optional
        Columns of ``interactions`` (default ``customer_col`` and ``date_col``).
    satisfaction_col : str
        Score column of ``satisfaction``.
    satisfaction_customer_col, satisfaction_date_col : str, optional
        Customer column (default ``customer_col``) and optional date column of
        ``satisfaction``.
    date_format : str, optional
        strftime layout (e.g. ``"%d/%m/%Y"``) of text dates, in every input; without it
        text dates must be ISO 8601.
    allow_negative : bool, default False
        Accept negative amounts (refunds and returns, netted in the revenue). Without
        it a negative amount raises :class:`~crmmodels.errors.DataError`.

    Returns
    -------
    ScorecardResult

    Raises
    ------
    SchemaError
        Missing, non-numeric or non-date columns; a channel column not in ``by``.
    DataError
        Nulls in key columns; missing (null or NaN), infinite or, without
        ``allow_negative``, negative amounts (counted, with the first customer); an
        empty log. :class:`~crmmodels.errors.ArgumentError` (a ``DataError``) for an
        unknown period or a bad column-name argument.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": [1, 2, 1, 3],
    ...                    "date": pd.to_datetime(["2024-01-05", "2024-01-20",
    ...                                            "2024-02-03", "2024-02-10"]),
    ...                    "amount": [10.0, 20.0, 15.0, 5.0]})
    >>> sc = kpi_scorecard(tx)
    >>> sc.kpis[["period", "revenue", "active_customers", "new_customers", "retention"]]
        period  revenue  active_customers  new_customers  retention
    0  2024-01     30.0                 2              2        NaN
    1  2024-02     20.0                 2              1        0.5
    """
    period = check_period_code(period)
    allow_negative = check_bool(allow_negative, "allow_negative")
    groups = [by] if isinstance(by, str) else list(by or [])
    _check_column_arguments(
        groups,
        customer_col=customer_col,
        date_col=date_col,
        amount_col=amount_col,
        satisfaction_col=satisfaction_col,
        order_col=order_col,
        channel_col=channel_col,
        interaction_customer_col=interaction_customer_col,
        interaction_date_col=interaction_date_col,
        satisfaction_customer_col=satisfaction_customer_col,
        satisfaction_date_col=satisfaction_date_col,
    )
    channel_col = _channel(channel_col, groups)
    tx = _read_transactions(
        transactions,
        customer_col=customer_col,
        date_col=date_col,
        amount_col=amount_col,
        groups=groups,
        order_col=order_col,
        period=period,
        date_format=date_format,
        allow_negative=allow_negative,
    )
    key = [*groups, _P]
    act = tx.select(*key, customer_col).unique()  # active customers per cell
    table = _sales_kpis(tx, act, groups, customer_col, amount_col, order_col)
    kpi_names = list(_SALES_KPIS)
    if satisfaction is not None:
        sat = _satisfaction(
            satisfaction,
            act,
            key,
            customer_col,
            satisfaction_customer_col or customer_col,
            satisfaction_col,
            satisfaction_date_col,
            period,
            date_format,
        )
        table = _merge(table, sat, key, "satisfaction", fill=None)
        table = _merge(table, sat, key, "satisfaction_n", fill=0)
        kpi_names += ["satisfaction", "satisfaction_n"]
    if interactions is not None:
        inter = _interactions(
            interactions,
            act,
            key,
            customer_col,
            interaction_customer_col or customer_col,
            interaction_date_col or date_col,
            period,
            date_format,
        )
        table = _engagement_kpis(table, inter, key)
        kpi_names += ["interactions", "interactions_per_customer", "engaged_share"]
    out = _kpi_frame(table, groups, kpi_names, period)
    consistency = _consistency(out, groups, channel_col, kpi_names) if channel_col else None
    return ScorecardResult(
        kpis=out,
        consistency=consistency,
        kpi_names=tuple(kpi_names),
        by=tuple(groups),
        channel_col=channel_col,
        period=period,
        n_periods=int(np.unique(table[_P].to_numpy(dtype=np.int64)).size),
        n_cells=len(out),
    )


#: KPIs every scorecard has, from the transactions alone.
_SALES_KPIS = (
    "revenue",
    "revenue_growth",
    "orders",
    "average_order_value",
    "active_customers",
    "new_customers",
    "retention",
)


def _check_column_arguments(groups: Sequence[str], **columns: str | None) -> None:
    """Every column-name argument given (and every ``by`` column) is non-empty text."""
    named = {**columns, **{f"by[{i}]": g for i, g in enumerate(groups)}}
    for arg, value in named.items():
        if value is not None:
            check_column_name(value, arg)


def _channel(channel_col: str | None, groups: list[str]) -> str | None:
    """The ``by`` column compared across channels (``by`` itself when it is one column)."""
    if channel_col is None and len(groups) == 1:
        channel_col = groups[0]
    if channel_col is not None and channel_col not in groups:
        raise SchemaError(f"channel_col '{channel_col}' must be one of the by columns {groups}.")
    return channel_col


def _read_transactions(
    transactions: Any,
    *,
    customer_col: str,
    date_col: str,
    amount_col: str,
    groups: list[str],
    order_col: str | None,
    period: str,
    date_format: str | None,
    allow_negative: bool,
) -> Any:
    """The checked log with its period index (``_P``), on the caller's engine."""
    frame = to_narwhals(transactions, what="transactions")
    cols = [customer_col, date_col, amount_col, *groups] + ([order_col] if order_col else [])
    check_columns(frame, cols, what="transactions")
    frame = check_amounts(
        frame,
        amount_col,
        what="transactions",
        id_col=customer_col,
        allow_negative=allow_negative,
    )
    frame = _with_dates(frame, date_col, "transactions", date_format)
    check_not_null(frame, [customer_col], what="transactions", nan_is_null=True)
    check_not_null(frame, cols, what="transactions", id_col=customer_col)
    extra = [order_col] if order_col else []
    return frame.select(
        *[nw.col(c) for c in dict.fromkeys([customer_col, amount_col, *groups, *extra])],
        period_index(nw.col(date_col), period).alias(_P),
    )


def _sales_kpis(
    tx: Any,
    act: Any,
    groups: list[str],
    customer_col: str,
    amount_col: str,
    order_col: str | None,
) -> pd.DataFrame:
    """Revenue, orders, active, new and retained customers per cell, on the full grid."""
    key = [*groups, _P]
    # distinct counts by unique + count (a grouped n_unique is unreliable on some engines)
    revenue = tx.group_by(key).agg(
        nw.col(amount_col).sum().alias("revenue"), nw.len().alias("__rows")
    )
    active = act.group_by(key).agg(nw.len().alias("active_customers"))
    cells = to_pandas(revenue.join(active, on=key, how="inner"))
    if cells.empty:
        raise DataError("transactions is empty: no rows to score.")
    if order_col:
        n_orders = to_pandas(
            tx.select(*key, order_col).unique().group_by(key).agg(nw.len().alias("orders"))
        )
        cells = cells.merge(n_orders, on=key, how="left")
    else:
        cells = cells.rename(columns={"__rows": "orders"})
    first = tx.group_by(customer_col).agg(nw.col(_P).min().alias("__first"))
    new = to_pandas(
        act.join(first, on=customer_col, how="inner")
        .with_columns((nw.col(_P) == nw.col("__first")).cast(nw.Int64).alias("__new"))
        .group_by(key)
        .agg(nw.col("__new").sum().alias("new_customers"))
    )
    prev = act.select(*groups, customer_col, (nw.col(_P) + 1).alias(_P))
    kept = to_pandas(
        act.join(prev, on=[*key, customer_col], how="inner")
        .group_by(key)
        .agg(nw.len().alias("__retained"))
    )
    table = _grid(cells, groups)
    table = _merge(table, new, key, "new_customers", fill=0)
    table = _merge(table, kept, key, "__retained", fill=0)
    table = table.sort_values(key, kind="stable").reset_index(drop=True)
    return _ratios(table, groups)


def _ratios(table: pd.DataFrame, groups: list[str]) -> pd.DataFrame:
    """Growth, average order value and retention against the segment's previous period."""
    grouped = table.groupby(groups, sort=False) if groups else None
    prev_rev = grouped["revenue"].shift(1) if grouped is not None else table["revenue"].shift(1)
    prev_act = (
        grouped["active_customers"].shift(1)
        if grouped is not None
        else table["active_customers"].shift(1)
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        table["revenue_growth"] = np.where(prev_rev > 0, table["revenue"] / prev_rev - 1.0, np.nan)
        table["average_order_value"] = np.where(
            table["orders"] > 0, table["revenue"] / table["orders"], np.nan
        )
        table["retention"] = np.where(prev_act > 0, table["__retained"] / prev_act, np.nan)
    return table


def _engagement_kpis(table: pd.DataFrame, inter: pd.DataFrame, key: list[str]) -> pd.DataFrame:
    """Interactions, interactions per active customer and the engaged share."""
    table = _merge(table, inter, key, "interactions", fill=0)
    table = _merge(table, inter, key, "__engaged", fill=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        active = table["active_customers"].to_numpy(dtype=np.float64)
        table["interactions_per_customer"] = np.where(
            active > 0, table["interactions"] / active, np.nan
        )
        table["engaged_share"] = np.where(active > 0, table["__engaged"] / active, np.nan)
    return table


def _kpi_frame(
    table: pd.DataFrame, groups: list[str], kpi_names: list[str], period: str
) -> pd.DataFrame:
    """The public KPI table: ``period`` labels, the ``by`` columns and the KPIs."""
    periods = table[_P].to_numpy(dtype=np.int64)
    out = pd.DataFrame({"period": period_labels(periods, period)})
    for g in groups:
        out[g] = table[g].to_numpy()
    for k in kpi_names:
        out[k] = table[k].to_numpy()
    for k in ("orders", "active_customers", "new_customers", "satisfaction_n", "interactions"):
        if k in out.columns:
            out[k] = out[k].astype(np.int64)
    return out


def _plain(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Numeric columns as float64 numpy arrays (engines may return nullable dtypes)."""
    out = frame.copy()
    for c in columns:
        if c in out.columns:
            out[c] = out[c].to_numpy(dtype=np.float64, na_value=np.nan)
    return out


def _grid(cells: pd.DataFrame, groups: list[str]) -> pd.DataFrame:
    """Every period from the first to the last, for every segment; empty cells are zero."""
    cells = _plain(cells, ["revenue", "orders", "active_customers", "__rows"])
    p = cells[_P].to_numpy(dtype=np.int64)
    periods = pd.DataFrame({_P: np.arange(p.min(), p.max() + 1, dtype=np.int64)})
    if groups:
        segs = cells[groups].drop_duplicates()
        full = segs.merge(periods, how="cross")
    else:
        full = periods
    cells = cells.assign(**{_P: p})
    out = full.merge(cells, on=[*groups, _P], how="left")
    for c in ("revenue", "orders", "active_customers"):
        out[c] = out[c].fillna(0)
    return out


def _merge(
    table: pd.DataFrame, other: pd.DataFrame, key: list[str], col: str, fill: float | None
) -> pd.DataFrame:
    right = _plain(other[[*key, col]], [col]).assign(**{_P: other[_P].to_numpy(dtype=np.int64)})
    out = table.merge(right, on=key, how="left")
    if fill is not None:
        out[col] = out[col].fillna(fill)
    return out


def _satisfaction(
    data: Any,
    act: Any,
    key: list[str],
    customer_col: str,
    s_customer: str,
    score_col: str,
    date_col: str | None,
    period: str,
    date_format: str | None,
) -> pd.DataFrame:
    frame = to_narwhals(data, what="satisfaction")
    cols = [s_customer, score_col] + ([date_col] if date_col else [])
    check_columns(frame, cols, what="satisfaction")
    frame = numeric_amounts(frame, score_col, what="satisfaction")
    missing = nw.col(score_col).is_null()
    if frame.collect_schema()[score_col].is_float():  # NaN is a missing score on every engine
        missing = missing | nw.col(score_col).is_nan()
    frame = frame.filter(~missing)
    if date_col:
        frame = _with_dates(frame, date_col, "satisfaction", date_format)
        check_not_null(frame, [s_customer, date_col], what="satisfaction")
        per = frame.select(
            nw.col(s_customer).alias(customer_col),
            period_index(nw.col(date_col), period).alias(_P),
            nw.col(score_col).cast(nw.Float64).alias("__s"),
        )
        scores = per.group_by(customer_col, _P).agg(nw.col("__s").mean())
        joined = act.join(scores, on=[customer_col, _P], how="inner")
    else:
        check_not_null(frame, [s_customer], what="satisfaction")
        scores = (
            frame.select(
                nw.col(s_customer).alias(customer_col),
                nw.col(score_col).cast(nw.Float64).alias("__s"),
            )
            .group_by(customer_col)
            .agg(nw.col("__s").mean())
        )
        joined = act.join(scores, on=customer_col, how="inner")
    return to_pandas(
        joined.group_by(key).agg(
            nw.col("__s").mean().alias("satisfaction"), nw.len().alias("satisfaction_n")
        )
    )


def _interactions(
    data: Any,
    act: Any,
    key: list[str],
    customer_col: str,
    i_customer: str,
    i_date: str,
    period: str,
    date_format: str | None,
) -> pd.DataFrame:
    frame = to_narwhals(data, what="interactions")
    check_columns(frame, [i_customer, i_date], what="interactions")
    frame = _with_dates(frame, i_date, "interactions", date_format)
    check_not_null(frame, [i_customer, i_date], what="interactions")
    per = frame.select(
        nw.col(i_customer).alias(customer_col),
        period_index(nw.col(i_date), period).alias(_P),
    )
    counts = per.group_by(customer_col, _P).agg(nw.len().alias("__n"))
    joined = act.join(counts, on=[customer_col, _P], how="inner")
    return to_pandas(
        joined.group_by(key).agg(
            nw.col("__n").sum().alias("interactions"), nw.len().alias("__engaged")
        )
    )


def _consistency(
    kpis: pd.DataFrame, groups: list[str], channel_col: str, kpi_names: list[str]
) -> pd.DataFrame:
    names = [k for k in _CONSISTENCY_KPIS if k in kpi_names]
    others = [g for g in groups if g != channel_col]
    long = kpis.melt(id_vars=["period", *groups], value_vars=names, var_name="kpi")
    long = long.dropna(subset=["value"])
    agg = (
        long.groupby(["period", *others, "kpi"], sort=False)["value"]
        .agg(n_channels="count", mean="mean", sd=lambda v: float(np.std(v, ddof=0)))
        .reset_index()
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        agg["cv"] = np.where(agg["mean"] != 0, agg["sd"] / agg["mean"].abs(), np.nan)
    order = {k: i for i, k in enumerate(names)}
    agg["__o"] = agg["kpi"].map(order)
    agg = agg.sort_values(["period", *others, "__o"], kind="stable").drop(columns="__o")
    return agg.reset_index(drop=True)
