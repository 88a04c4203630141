r"""Cohort retention and period retention metrics (Reichheld & Sasser 1990; Grönroos 1994).

A customer is *active* in a period (day, week, month or quarter) when they buy at least
once in it. Everything below is counted on the customer x period activity grid, which is
aggregated on the caller's engine through narwhals (pandas inputs take a vectorised numpy
path that gives the same numbers faster).

* :func:`cohort_retention`: customers grouped by the period of their first purchase
  (cohort); the share of each cohort active :math:`k` periods later, plus the same for
  *recurring* customers (grouped by the period of their first repeat purchase).
* :func:`retention_metrics`: per period active, new, retained and reactivated customers,
  retention and churn rate, repeat-purchase rates, revenue of new vs existing customers and
  the expected relationship length, in a transactional and a relationship view.

Weeks run Monday to Sunday; months and quarters are calendar ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import narwhals.stable.v2 as nw
import numpy as np
import numpy.typing as npt
import pandas as pd

from crmmodels._activity import customer_codes, local_log
from crmmodels._frames import collect, count_true, day_number
from crmmodels._ingest.dates import to_timestamp
from crmmodels._ingest.periods import (
    PeriodCode,
    check_period_code,
    numpy_period_index,
    period_index,
    period_labels,
    scalar_period_index,
)
from crmmodels._results import Result
from crmmodels.errors import DataError

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["CohortRetention", "RetentionMetrics", "cohort_retention", "retention_metrics"]

# dense customer x period grids up to this many cells use a boolean scatter instead of a sort
_DENSE_CELLS = 200_000_000
_P = "__period"
_EPOCH = pd.Timestamp("1970-01-01")


# ---------------------------------------------------------------------------------------
# shared preparation
# ---------------------------------------------------------------------------------------


def _validated(
    transactions: Any,
    *,
    customer_col: str,
    date_col: str,
    amount_col: str | None,
    observation_end: Any,
    date_format: str | None,
) -> tuple[Any, pd.Timestamp, int]:
    """Validate, then drop rows after ``observation_end``.

    Returns the frame, the end and the number of rows excluded.
    """
    frame, last, tz = local_log(
        transactions,
        customer_col=customer_col,
        date_col=date_col,
        amount_col=amount_col,
        date_format=date_format,
        last_date=True,
    )
    if observation_end is None:  # nothing after the last purchase: no second pass
        return frame, last, 0
    end = to_timestamp(observation_end, "observation_end", tz)
    late_expr = day_number(nw.col(date_col)) > int((end.normalize() - _EPOCH).days)
    stats = collect(frame.select(nw.len().alias("n"), count_true(late_expr).alias("late")))
    n, late = int(stats["n"].item(0)), int(stats["late"].item(0) or 0)
    if late:
        frame = frame.filter(~late_expr)
    if n - late == 0:
        raise DataError(
            f"transactions: every one of the {n} rows is after observation_end {end.date()}; "
            "nothing to analyse. Pass a later observation_end."
        )
    return frame, end, late


def _is_numpy_friendly(frame: Any) -> bool:
    return isinstance(frame, nw.DataFrame)


def _codes(ids: npt.NDArray[Any]) -> tuple[npt.NDArray[np.int64], int]:
    """Integer codes 0..k-1 for customer ids, materialised as int64."""
    codes, offset, k, _ = customer_codes(ids)
    if offset:
        codes = codes - codes.dtype.type(offset)
    return codes.astype(np.int64, copy=False), k


@dataclass(frozen=True)
class _Pairs:
    """Sorted unique (customer, period) cells of the activity grid, customer by customer."""

    rel: npt.NDArray[np.int64]  # period number minus ``pmin``
    starts: npt.NDArray[np.int64]  # position of each customer's first cell
    run: npt.NDArray[np.int64]  # number of active periods of each customer
    pmin: int
    span: int


def _numpy_pairs(frame: Any, customer_col: str, date_col: str, period: str) -> _Pairs:
    ids = frame[customer_col].to_numpy()
    dates = frame[date_col].to_numpy()
    if dates.dtype.kind != "M":  # dates (not datetimes) or exotic types
        dates = pd.to_datetime(pd.Series(dates)).to_numpy()
    codes, k = _codes(ids)
    per = numpy_period_index(dates, period)
    pmin = int(per.min())
    span = int(per.max()) - pmin + 1
    key = codes * span + (per - pmin)
    if k * span <= _DENSE_CELLS:
        grid = np.zeros(k * span, dtype=np.bool_)
        grid[key] = True
        keys = np.flatnonzero(grid)
    else:
        keys = np.unique(key)
    cust = keys // span
    rel = keys - cust * span
    new_customer = np.empty(cust.size, dtype=np.bool_)
    new_customer[:1] = True
    np.not_equal(cust[1:], cust[:-1], out=new_customer[1:])
    starts = np.flatnonzero(new_customer)
    run = np.diff(np.append(starts, cust.size))
    return _Pairs(rel, starts, run, pmin, span)


def _cohort_long_numpy(pairs: _Pairs) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(cohort, age, n) tables for first-purchase and first-repeat cohorts.

    A cell of a customer with cohort ``c`` at period ``p`` gets the code
    ``c * span + (p - c) = c * (span - 1) + p``; counting codes counts (cohort, age).
    """
    rel, span = pairs.rel, pairs.span
    base = np.repeat(rel[pairs.starts] * (span - 1), pairs.run)
    first_tab = _count_codes(base + rel, span, pairs.pmin)
    repeaters = pairs.run >= 2
    second = np.zeros(pairs.starts.size, dtype=np.int64)
    second[repeaters] = rel[pairs.starts[repeaters] + 1]
    base = np.repeat(second * (span - 1), pairs.run)
    later = np.ones(rel.size, dtype=np.bool_)
    later[pairs.starts] = False  # cells after each customer's first period
    repeat_tab = _count_codes((base + rel)[later], span, pairs.pmin)
    return first_tab, repeat_tab


def _count_codes(codes: npt.NDArray[np.int64], span: int, pmin: int) -> pd.DataFrame:
    if codes.size == 0:
        return pd.DataFrame({"cohort": [], "age": [], "n": []}, dtype=np.int64)
    if span * span <= 50_000_000:
        counts = np.bincount(codes, minlength=span * span)
        nz = np.flatnonzero(counts)
        vals = counts[nz]
    else:
        nz, vals = np.unique(codes, return_counts=True)
    return pd.DataFrame({"cohort": nz // span + pmin, "age": nz % span, "n": vals})


def _cohort_long_engine(
    frame: Any, customer_col: str, date_col: str, period: str
) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """The same tables as :func:`_cohort_long_numpy` (and the row count), engine-side."""
    cells = (
        frame.with_columns(period_index(nw.col(date_col), period).alias(_P))
        .group_by(customer_col, _P)
        .agg(nw.len().alias("__rows"))
    )
    first = cells.group_by(customer_col).agg(nw.col(_P).min().alias("__cohort"))
    joined = cells.join(first, on=customer_col, how="inner").with_columns(
        (nw.col(_P) - nw.col("__cohort")).alias("__age")
    )
    first_tab = collect(
        joined.group_by("__cohort", "__age").agg(nw.len().alias("n"), nw.col("__rows").sum())
    ).to_pandas()
    n_rows = int(first_tab.pop("__rows").sum())
    second = (
        joined.filter(nw.col("__age") > 0)
        .group_by(customer_col)
        .agg(nw.col(_P).min().alias("__repeat"))
    )
    rjoined = (
        cells.join(second, on=customer_col, how="inner")
        .filter(nw.col(_P) >= nw.col("__repeat"))
        .with_columns((nw.col(_P) - nw.col("__repeat")).alias("__age"))
    )
    repeat_tab = collect(rjoined.group_by("__repeat", "__age").agg(nw.len().alias("n"))).to_pandas()
    first_tab.columns = ["cohort", "age", "n"]
    repeat_tab.columns = ["cohort", "age", "n"]
    return first_tab.astype(np.int64), repeat_tab.astype(np.int64), n_rows


def _matrices(
    long: pd.DataFrame, end_p: int, period: str
) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
    """Counts and rates matrices (cohort x periods since) from a (cohort, age, n) table."""
    if long.empty:
        empty = pd.DataFrame(index=period_labels(np.array([], dtype=np.int64), period))
        empty.index.name = "cohort"
        return empty, empty.copy(), pd.Series(dtype=np.int64, name="cohort_size")
    cohorts = np.sort(long["cohort"].unique().astype(np.int64))
    width = end_p - int(cohorts[0]) + 1
    row = np.searchsorted(cohorts, long["cohort"].to_numpy(np.int64))
    grid = np.zeros((cohorts.size, width), dtype=np.float64)
    grid[row, long["age"].to_numpy(np.int64)] = long["n"].to_numpy(np.float64)
    observable = np.arange(width)[None, :] <= (end_p - cohorts)[:, None]
    grid[~observable] = np.nan
    sizes = grid[:, 0].copy()
    rates = grid / sizes[:, None]
    index = period_labels(cohorts, period)
    index.name = "cohort"
    cols = pd.RangeIndex(width, name="periods_since")
    counts = pd.DataFrame(grid, index=index, columns=cols).astype("Int64")
    rates_df = pd.DataFrame(rates, index=index, columns=cols)
    size = pd.Series(sizes.astype(np.int64), index=index, name="cohort_size")
    return counts, rates_df, size


def _pooled_curve(counts: pd.DataFrame) -> pd.Series:
    """Share of customers active k periods after the cohort start, over observable cohorts."""
    if counts.empty:
        return pd.Series(dtype=np.float64, name="rate")
    grid = counts.to_numpy(dtype=np.float64, na_value=np.nan)
    sizes = grid[:, 0]
    observable = ~np.isnan(grid)
    num = np.where(observable, grid, 0.0).sum(axis=0)
    den = np.where(observable, sizes[:, None], 0.0).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        curve = num / den
    return pd.Series(curve, index=counts.columns, name="rate")


# ---------------------------------------------------------------------------------------
# cohort retention
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True, repr=False)
class CohortRetention(Result):
    """Cohort retention matrix (first-purchase cohort x periods since first purchase).

    Attributes
    ----------
    counts : pandas.DataFrame
        Customers of each cohort (rows, a ``PeriodIndex`` named ``cohort``) active ``k``
        periods after the cohort period (columns ``0, 1, 2, ...``). Nullable integers;
        cells not yet observable at the observation end are missing (``<NA>``).
    rates : pandas.DataFrame
        ``counts`` divided by the cohort size (column 0); column 0 is 1.0, unobservable
        cells are NaN.
    cohort_sizes : pandas.Series
        Customers per cohort.
    repeat_counts, repeat_rates : pandas.DataFrame
        The same for *recurring* customers: rows are the period of each customer's first
        repeat purchase (their second active period), columns the periods since then.
    period : str
        ``"D"``, ``"W"`` (Monday to Sunday), ``"M"`` or ``"Q"``.
    observation_end : str
        Last date observed (ISO); its period is the last observable one (it may be partial).
    n_customers, n_transactions : int
        Customers and transaction rows analysed.
    n_excluded : int
        Transaction rows dropped because they are after ``observation_end``.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({
    ...     "customer_id": [1, 1, 2, 3],
    ...     "date": pd.to_datetime(["2024-01-05", "2024-02-01", "2024-01-20", "2024-02-10"]),
    ... })
    >>> res = cohort_retention(tx)
    >>> res  # doctest: +NORMALIZE_WHITESPACE
    CohortRetention(period=M, observation_end=2024-02-10, n_customers=3, n_transactions=4,
    n_excluded=0, n_repeat_customers=1, rows=3)
    >>> res.rates.round(2).to_numpy().tolist()
    [[1.0, 0.5], [1.0, nan]]
    >>> list(res.to_frame().columns)
    ['cohort', 'periods_since', 'cohort_size', 'active', 'rate']
    >>> ax = res.plot()
    >>> type(ax).__name__
    'Axes'
    >>> import matplotlib.pyplot as plt
    >>> plt.close(ax.figure)
    """

    counts: pd.DataFrame
    rates: pd.DataFrame
    cohort_sizes: pd.Series
    repeat_counts: pd.DataFrame
    repeat_rates: pd.DataFrame
    period: str
    observation_end: str
    n_customers: int
    n_transactions: int
    n_excluded: int
    n_repeat_customers: int = field(default=0)

    def curve(self, kind: Literal["first", "recurring"] = "first") -> pd.Series:
        """Pooled retention curve: active after ``k`` periods / cohort customers observable.

        Each column pools only the cohorts for which period ``k`` is observable, so recent
        cohorts do not pull late columns down.

        Parameters
        ----------
        kind : {"first", "recurring"}
            ``"first"`` uses first-purchase cohorts, ``"recurring"`` first-repeat cohorts.

        Returns
        -------
        pandas.Series
            Rate per number of periods since the cohort start.
        """
        if kind not in ("first", "recurring"):
            raise DataError(f"kind must be 'first' or 'recurring'; got {kind!r}.")
        return _pooled_curve(self.counts if kind == "first" else self.repeat_counts)

    @property
    def first_vs_recurring(self) -> pd.DataFrame:
        """Pooled retention of first-time buyers next to that of recurring customers.

        ``first_time`` at ``k``: share of customers active ``k`` periods after their first
        purchase period; ``recurring``: share active ``k`` periods after their first repeat
        purchase period.
        """
        out = pd.concat(
            [self.curve("first").rename("first_time"), self.curve("recurring").rename("recurring")],
            axis=1,
        )
        out.index.name = "periods_since"
        return out

    def to_frame(self) -> pd.DataFrame:
        """Long table of the observable cells: cohort, periods_since, size, active, rate."""
        if self.counts.empty:
            return pd.DataFrame(
                columns=["cohort", "periods_since", "cohort_size", "active", "rate"]
            )
        active = pd.Series(self.counts.stack()).dropna()
        rate = pd.Series(self.rates.stack()).dropna()
        out = pd.concat(
            {"active": active.astype(np.int64), "rate": rate}, axis=1, join="inner"
        ).reset_index()
        out.insert(2, "cohort_size", self.cohort_sizes.reindex(out["cohort"]).to_numpy())
        return out

    def plot(
        self, ax: Axes | None = None, kind: Literal["heatmap", "curves"] = "heatmap", **kwargs: Any
    ) -> Axes:
        """Retention heatmap (``kind="heatmap"``) or retention curves (``"curves"``)."""
        from crmmodels.plotting.retention import plot_retention_curves, plot_retention_heatmap

        if kind == "curves":
            return plot_retention_curves(self, ax=ax, **kwargs)
        return plot_retention_heatmap(self, ax=ax, **kwargs)


def cohort_retention(
    transactions: Any,
    *,
    customer_col: str = "customer_id",
    date_col: str = "date",
    period: PeriodCode = "M",
    observation_end: Any = None,
    date_format: str | None = None,
) -> CohortRetention:
    r"""Cohort retention matrix: share of each first-purchase cohort active k periods later.

    Parameters
    ----------
    transactions : DataFrame-like
        Transaction log on any engine (pandas, polars, pyarrow, DuckDB, Dask, PySpark).
    customer_col, date_col : str
        Customer id and purchase date columns (datetimes, dates or ISO strings).
    period : {"D", "W", "M", "Q"}
        Calendar period: day, week (Monday to Sunday), month or quarter.
    observation_end : date-like, optional
        Last date observed (default: the last purchase date). Rows after it are excluded
        and counted in ``n_excluded``. Its period is the last observable period.
    date_format : str, optional
        strftime layout of text dates (e.g. ``"%d/%m/%Y"``); without it text dates
        must be ISO 8601 (see :func:`crmmodels._ingest.dates.parse_dates`).

    Returns
    -------
    CohortRetention
        ``.rates`` and ``.counts`` indexed by cohort with columns ``0, 1, 2, ...``.

    Raises
    ------
    SchemaError
        A column is missing or has the wrong type.
    DataError
        Null ids or dates, unparsable dates, empty input, unknown ``period``.

    Notes
    -----
    With :math:`A_{i,t}=1` when customer :math:`i` buys in period :math:`t`, cohort
    :math:`c_i=\min\{t: A_{i,t}=1\}` and end period :math:`E`,

    $$ r_{c,k} = \frac{\#\{i: c_i = c,\ A_{i,c+k}=1\}}{\#\{i: c_i = c\}}, \qquad
       k \le E - c, $$

    and :math:`r_{c,k}` is NaN for :math:`k > E - c` (not yet observable). Recurring
    retention uses the first repeat period :math:`s_i = \min\{t > c_i: A_{i,t}=1\}` in place
    of :math:`c_i`. Cohorts without customers have no row.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({
    ...     "customer_id": [1, 1, 2, 2, 3],
    ...     "date": pd.to_datetime(["2024-01-05", "2024-02-01", "2024-01-20",
    ...                             "2024-03-02", "2024-02-10"]),
    ... })
    >>> res = cohort_retention(tx, period="M")
    >>> res.rates.round(2)  # doctest: +NORMALIZE_WHITESPACE
    periods_since    0    1    2
    cohort
    2024-01        1.0  0.5  0.5
    2024-02        1.0  0.0  NaN
    >>> res.counts.loc["2024-01"].tolist()
    [2, 1, 1]
    """
    per_code = check_period_code(period)
    frame, end, n_late = _validated(
        transactions,
        customer_col=customer_col,
        date_col=date_col,
        amount_col=None,
        observation_end=observation_end,
        date_format=date_format,
    )
    end_p = scalar_period_index(end, per_code)
    if _is_numpy_friendly(frame):
        pairs = _numpy_pairs(frame, customer_col, date_col, per_code)
        first_long, repeat_long = _cohort_long_numpy(pairs)
        n_rows = len(frame)
    else:
        first_long, repeat_long, n_rows = _cohort_long_engine(
            frame, customer_col, date_col, per_code
        )
    counts, rates, sizes = _matrices(first_long, end_p, per_code)
    rcounts, rrates, rsizes = _matrices(repeat_long, end_p, per_code)
    return CohortRetention(
        counts=counts,
        rates=rates,
        cohort_sizes=sizes,
        repeat_counts=rcounts,
        repeat_rates=rrates,
        period=per_code,
        observation_end=str(end.date()),
        n_customers=int(sizes.sum()),
        n_transactions=n_rows,
        n_excluded=n_late,
        n_repeat_customers=int(rsizes.sum()),
    )


# ---------------------------------------------------------------------------------------
# retention metrics per period
# ---------------------------------------------------------------------------------------

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
class RetentionMetrics(Result):
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
        """Retention and churn rate per period, with active customers as bars."""
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
        frame.with_columns(period_index(nw.col(date_col), period).alias(_P))
        .group_by(customer_col, _P)
        .agg(*aggs)
    )
    first = cells.group_by(customer_col).agg(nw.col(_P).min().alias("__cohort"))
    prev = cells.select(customer_col, (nw.col(_P) + 1).alias(_P), nw.lit(1).alias("__prev"))
    joined = cells.join(first, on=customer_col, how="inner").join(
        prev, on=[customer_col, _P], how="left"
    )
    is_new = nw.col(_P) == nw.col("__cohort")
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
    per = collect(joined.with_columns(*flags).group_by(_P).agg(*per_aggs))
    second = (
        joined.filter(nw.col(_P) > nw.col("__cohort"))
        .group_by(customer_col)
        .agg(nw.col(_P).min().alias("__second"))
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
) -> RetentionMetrics:
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
    RetentionMetrics
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
    frame, end, n_late = _validated(
        transactions,
        customer_col=customer_col,
        date_col=date_col,
        amount_col=amount_col,
        observation_end=observation_end,
        date_format=date_format,
    )
    per, fs = _activity_engine(frame, customer_col, date_col, amount_col, per_code)
    per = per.rename(columns={_P: "p"}).set_index("p").sort_index()
    lo = int(per.index.min())  # every customer's first period is active
    hi = max(int(per.index.max()), scalar_period_index(end, per_code))
    grid = np.arange(lo, hi + 1, dtype=np.int64)
    per = per.reindex(grid, fill_value=0)
    tab = pd.DataFrame(index=period_labels(grid, per_code))
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
        firsts = tab["new"]
        seconds = fs.set_index("p")["n"].reindex(grid, fill_value=0)
        acquired = np.cumsum(firsts.to_numpy(np.float64))
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
    valid = prev_active > 0
    den = float(prev_active[valid].sum())
    pooled = float(tab["retained"].to_numpy()[valid].sum()) / den if den > 0 else float("nan")
    churn = 1.0 - pooled
    n_customers = int(firsts.sum())
    return RetentionMetrics(
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
