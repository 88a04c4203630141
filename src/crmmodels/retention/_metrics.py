"""Retention metrics per period, in a transactional and a relationship view (Grönroos 1994)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import narwhals.stable.v2 as nw
import numpy as np
import pandas as pd

from crmmodels._ingest.frames import collect
from crmmodels._ingest.periods import (
    PeriodCode,
    check_period_code,
    period_index,
    period_labels,
    scalar_period_index,
)
from crmmodels._results import Result
from crmmodels.retention._grid import PERIOD, validated_log

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "RELATIONSHIP_COLUMNS",
    "TRANSACTIONAL_COLUMNS",
    "RetentionMetricsResult",
    "retention_metrics",
]

TRANSACTIONAL_COLUMNS = (
    "transactions",
    "active",
    "new",
    "acquisition_share",
    "revenue",
    "revenue_new",
    "revenue_per_customer",
)
RELATIONSHIP_COLUMNS = (
    "returning",
    "retained",
    "reactivated",
    "retention_rate",
    "churn_rate",
    "repeat_rate",
    "cumulative_repeat_rate",
    "revenue_existing",
    "existing_revenue_share",
    "expected_lifetime",
)


@dataclass(frozen=True, repr=False)
class RetentionMetricsResult(Result):
    """Retention, churn, repeat purchase and revenue split per period.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per period (``PeriodIndex`` named ``period``) from the first to the last
        observed period; columns are described in :func:`retention_metrics`.
    period : str
        ``"D"``, ``"W"``, ``"M"`` or ``"Q"``.
    retention_rate : float
        Pooled retention: customers retained over all periods / customers active in the
        previous period, summed over periods.
    churn_rate : float
        ``1 - retention_rate``.
    expected_lifetime : float
        ``1 / churn_rate`` periods (infinite when nobody churns).
    repeat_purchase_rate : float
        Customers with two or more active periods / all customers.
    n_customers, n_transactions, n_excluded : int
        Customers and rows analysed; rows after ``observation_end`` excluded.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({
    ...     "customer_id": [1, 1, 2, 2, 3],
    ...     "date": pd.to_datetime(["2024-01-05", "2024-02-01", "2024-01-20", "2024-03-02",
    ...                             "2024-02-10"]),
    ... })
    >>> m = retention_metrics(tx)
    >>> round(m.retention_rate, 3), round(m.repeat_purchase_rate, 3)
    (0.25, 0.667)
    >>> m.to_frame()[["period", "active", "new"]].values.tolist()
    [[Period('2024-01', 'M'), 2, 2], [Period('2024-02', 'M'), 2, 1], [Period('2024-03', 'M'), 1, 0]]
    >>> ax = m.plot()
    >>> type(ax).__name__
    'Axes'
    >>> import matplotlib.pyplot as plt
    >>> plt.close(ax.figure)
    """

    table: pd.DataFrame
    period: str
    retention_rate: float
    churn_rate: float
    expected_lifetime: float
    repeat_purchase_rate: float
    n_customers: int
    n_transactions: int
    n_excluded: int

    @property
    def transactional(self) -> pd.DataFrame:
        """The transactional view (Grönroos 1994): sales and acquisition per period."""
        return self.table[[c for c in TRANSACTIONAL_COLUMNS if c in self.table]].copy()

    @property
    def relationship(self) -> pd.DataFrame:
        """The relationship view (Grönroos 1994): keeping customers per period."""
        return self.table[[c for c in RELATIONSHIP_COLUMNS if c in self.table]].copy()

    def views(self) -> pd.DataFrame:
        """Both views side by side, under a two-level column index ``(view, column)``."""
        return pd.concat(
            {"transactional": self.transactional, "relationship": self.relationship}, axis=1
        )

    def to_frame(self) -> pd.DataFrame:
        """The per-period table with the period as a column."""
        return self.table.reset_index()

    def plot(self, ax: Axes | None = None, **kwargs: Any) -> Axes:
        """Retention and churn rate per period, with active customers as bars.

        Draws :func:`crmmodels.plotting.retention.plot_retention_metrics`; ``kwargs`` go to it.
        """
        from crmmodels.plotting.retention import plot_retention_metrics

        return plot_retention_metrics(self, ax=ax, **kwargs)


def _activity_engine(
    frame: Any, customer_col: str, date_col: str, amount_col: str | None, period: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-period aggregates and customers per first-repeat period (engine-side)."""
    aggs = [nw.len().alias("__rows")]
    if amount_col:
        aggs.append(nw.col(amount_col).sum().alias("__value"))
    cells = (
        frame.with_columns(period_index(nw.col(date_col), period).alias(PERIOD))
        .group_by(customer_col, PERIOD)
        .agg(*aggs)
    )
    first = cells.group_by(customer_col).agg(nw.col(PERIOD).min().alias("__cohort"))
    prev = cells.select(customer_col, (nw.col(PERIOD) + 1).alias(PERIOD), nw.lit(1).alias("__prev"))
    joined = cells.join(first, on=customer_col, how="inner").join(
        prev, on=[customer_col, PERIOD], how="left"
    )
    is_new = nw.col(PERIOD) == nw.col("__cohort")
    flags = [
        is_new.cast(nw.Int64).alias("__new"),
        (~nw.col("__prev").is_null()).cast(nw.Int64).alias("__ret"),
    ]
    if amount_col:
        flags.append(
            nw.when(is_new).then(nw.col("__value")).otherwise(nw.lit(0.0)).alias("__value_new")
        )
    per_aggs = [
        nw.col("__rows").sum().alias("transactions"),
        nw.len().alias("active"),
        nw.col("__new").sum().alias("new"),
        nw.col("__ret").sum().alias("retained"),
    ]
    if amount_col:
        per_aggs += [
            nw.col("__value").sum().alias("revenue"),
            nw.col("__value_new").sum().alias("revenue_new"),
        ]
    per = collect(joined.with_columns(*flags).group_by(PERIOD).agg(*per_aggs))
    second = (
        joined.filter(nw.col(PERIOD) > nw.col("__cohort"))
        .group_by(customer_col)
        .agg(nw.col(PERIOD).min().alias("__second"))
    )
    seconds = collect(second.group_by("__second").agg(nw.len().alias("n")))
    fs = seconds.to_pandas().set_axis(["p", "n"], axis=1)
    return per.to_pandas(), fs


def retention_metrics(
    transactions: Any,
    *,
    customer_col: str = "customer_id",
    date_col: str = "date",
    amount_col: str | None = None,
    period: PeriodCode = "M",
    observation_end: Any = None,
    date_format: str | None = None,
) -> RetentionMetricsResult:
    r"""Retention and churn rates, repeat purchase and revenue of new vs existing customers.

    Parameters
    ----------
    transactions : DataFrame-like
        Transaction log on any engine.
    customer_col, date_col : str
        Customer id and purchase date columns.
    amount_col : str, optional
        Purchase amount; adds the revenue columns. Negative amounts (refunds) are kept.
    period : {"D", "W", "M", "Q"}
        Calendar period (weeks run Monday to Sunday).
    observation_end : date-like, optional
        Last date observed (default: last purchase); later rows are excluded and counted.
    date_format : str, optional
        strftime layout of text dates (e.g. ``"%d/%m/%Y"``); without it text dates
        must be ISO 8601 (see :func:`crmmodels._ingest.dates.parse_dates`).

    Returns
    -------
    RetentionMetricsResult
        ``.table`` has one row per period; ``.transactional`` and ``.relationship`` split
        it into the transactional and relationship views (Grönroos 1994); ``.views()``
        shows them side by side.

    Notes
    -----
    Columns of the transactional view (each sale on its own):

    * ``transactions``: rows (purchases) in the period;
    * ``active``: customers with at least one purchase in the period;
    * ``new``: customers whose first purchase is in the period;
    * ``acquisition_share``: ``new / active``;
    * ``revenue``, ``revenue_new``: total revenue and revenue of new customers
      (with ``amount_col``); ``revenue_per_customer``: ``revenue / active``.

    Columns of the relationship view (keeping the customer):

    * ``returning``: active customers who bought in an earlier period (``active - new``);
    * ``retained``: customers active in both the previous period and this one;
    * ``reactivated``: ``returning - retained`` (back after at least one silent per_code);
    * ``retention_rate`` :math:`r_t = \text{retained}_t / \text{active}_{t-1}` (NaN when
      nobody was active in :math:`t-1`); ``churn_rate`` :math:`1 - r_t`;
    * ``repeat_rate``: ``returning / active``, the repeat-purchase rate of the period;
    * ``cumulative_repeat_rate``: customers acquired up to :math:`t` with a second active
      period by :math:`t`, over customers acquired up to :math:`t`;
    * ``revenue_existing`` and ``existing_revenue_share``: revenue of returning customers and
      its share of the period's revenue;
    * ``expected_lifetime``: :math:`1 / (1 - r_t)` periods.

    Under a constant retention rate :math:`r` the number of periods a new customer stays
    is geometric, with expectation

    $$ E[L] = \sum_{t \ge 1} t\, r^{t-1}(1-r) = \frac{1}{1-r}. $$

    The scalar ``expected_lifetime`` uses the pooled rate
    :math:`r = \sum_t \text{retained}_t / \sum_t \text{active}_{t-1}`. The last period
    may be incomplete (it ends at ``observation_end``), which lowers its retention.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({
    ...     "customer_id": [1, 1, 2, 2, 3, 1],
    ...     "date": pd.to_datetime(["2024-01-05", "2024-02-01", "2024-01-20",
    ...                             "2024-03-02", "2024-02-10", "2024-03-09"]),
    ...     "amount": [10.0, 20.0, 5.0, 5.0, 8.0, 12.0],
    ... })
    >>> m = retention_metrics(tx, amount_col="amount")
    >>> m.table[["active", "new", "retained", "retention_rate"]]  # doctest: +NORMALIZE_WHITESPACE
             active  new  retained  retention_rate
    period
    2024-01       2    2         0             NaN
    2024-02       2    1         1             0.5
    2024-03       2    0         1             0.5
    >>> round(m.expected_lifetime, 2)
    2.0
    """
    per_code = check_period_code(period)
    frame, end, n_late = validated_log(
        transactions,
        customer_col=customer_col,
        date_col=date_col,
        amount_col=amount_col,
        observation_end=observation_end,
        date_format=date_format,
    )
    per, fs = _activity_engine(frame, customer_col, date_col, amount_col, per_code)
    per = _on_the_full_grid(per, scalar_period_index(end, per_code))
    seconds = fs.set_index("p")["n"].reindex(per.index, fill_value=0)
    tab = _period_table(per, seconds, per_code, amount_col)
    return _pooled_result(tab, seconds, per_code, n_late)


def _on_the_full_grid(per: pd.DataFrame, end_p: int) -> pd.DataFrame:
    """Per-period aggregates on every period from the first to the observation end."""
    per = per.rename(columns={PERIOD: "p"}).set_index("p").sort_index()
    lo = int(per.index.min())  # every customer's first period is active
    hi = max(int(per.index.max()), end_p)
    return per.reindex(np.arange(lo, hi + 1, dtype=np.int64), fill_value=0)


def _period_table(
    per: pd.DataFrame, seconds: pd.Series, per_code: str, amount_col: str | None
) -> pd.DataFrame:
    """The per-period table: counts, rates, repeat rates and (with amounts) revenue."""
    tab = pd.DataFrame(index=period_labels(per.index.to_numpy(np.int64), per_code))
    tab.index.name = "period"
    for col in ("transactions", "active", "new", "retained"):
        tab[col] = per[col].to_numpy(np.int64)
    active = tab["active"].to_numpy(np.float64)
    prev_active = np.r_[np.nan, active[:-1]]
    with np.errstate(invalid="ignore", divide="ignore"):
        tab["acquisition_share"] = tab["new"].to_numpy() / active
        tab["returning"] = tab["active"] - tab["new"]
        tab["reactivated"] = tab["returning"] - tab["retained"]
        retention = np.where(prev_active > 0, tab["retained"].to_numpy() / prev_active, np.nan)
        tab["retention_rate"] = retention
        tab["churn_rate"] = 1.0 - retention
        tab["repeat_rate"] = tab["returning"].to_numpy() / active
        acquired = np.cumsum(tab["new"].to_numpy(np.float64))
        tab["cumulative_repeat_rate"] = np.cumsum(seconds.to_numpy(np.float64)) / acquired
        if amount_col:
            revenue = per["revenue"].to_numpy(np.float64)
            revenue_new = per["revenue_new"].to_numpy(np.float64)
            tab["revenue"] = revenue
            tab["revenue_new"] = revenue_new
            tab["revenue_per_customer"] = revenue / active
            tab["revenue_existing"] = revenue - revenue_new
            tab["existing_revenue_share"] = (revenue - revenue_new) / revenue
        tab["expected_lifetime"] = 1.0 / (1.0 - retention)
    return tab


def _pooled_result(
    tab: pd.DataFrame, seconds: pd.Series, per_code: str, n_late: int
) -> RetentionMetricsResult:
    """Pool the retention over the periods and wrap the table in the result."""
    active = tab["active"].to_numpy(np.float64)
    prev_active = np.r_[np.nan, active[:-1]]
    valid = prev_active > 0
    den = float(prev_active[valid].sum())
    pooled = float(tab["retained"].to_numpy()[valid].sum()) / den if den > 0 else float("nan")
    churn = 1.0 - pooled
    n_customers = int(tab["new"].sum())
    return RetentionMetricsResult(
        table=tab,
        period=per_code,
        retention_rate=pooled,
        churn_rate=churn,
        expected_lifetime=float("inf") if churn == 0 else 1.0 / churn,
        repeat_purchase_rate=float(seconds.sum()) / n_customers if n_customers else float("nan"),
        n_customers=n_customers,
        n_transactions=int(tab["transactions"].sum()),
        n_excluded=n_late,
    )
