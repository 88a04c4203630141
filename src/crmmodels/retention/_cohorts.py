"""Cohort retention: the share of each first-purchase cohort active k periods later."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import narwhals.stable.v2 as nw
import numpy as np
import numpy.typing as npt
import pandas as pd

from crmmodels._ingest.arguments import check_choice
from crmmodels._ingest.frames import collect
from crmmodels._ingest.periods import (
    PeriodCode,
    check_period_code,
    period_index,
    period_labels,
    scalar_period_index,
)
from crmmodels._results import Result
from crmmodels.errors import DataError
from crmmodels.retention._grid import (
    PERIOD,
    Pairs,
    is_eager,
    numpy_pairs,
    validated_log,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["CohortRetentionResult", "cohort_retention", "cohort_retention_of_log"]


def _cohort_long_numpy(pairs: Pairs) -> tuple[pd.DataFrame, pd.DataFrame]:
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
        frame.with_columns(period_index(nw.col(date_col), period).alias(PERIOD))
        .group_by(customer_col, PERIOD)
        .agg(nw.len().alias("__rows"))
    )
    first = cells.group_by(customer_col).agg(nw.col(PERIOD).min().alias("__cohort"))
    joined = cells.join(first, on=customer_col, how="inner").with_columns(
        (nw.col(PERIOD) - nw.col("__cohort")).alias("__age")
    )
    first_tab = collect(
        joined.group_by("__cohort", "__age").agg(nw.len().alias("n"), nw.col("__rows").sum())
    ).to_pandas()
    n_rows = int(first_tab.pop("__rows").sum())
    second = (
        joined.filter(nw.col("__age") > 0)
        .group_by(customer_col)
        .agg(nw.col(PERIOD).min().alias("__repeat"))
    )
    rjoined = (
        cells.join(second, on=customer_col, how="inner")
        .filter(nw.col(PERIOD) >= nw.col("__repeat"))
        .with_columns((nw.col(PERIOD) - nw.col("__repeat")).alias("__age"))
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
class CohortRetentionResult(Result):
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
    CohortRetentionResult(period=M, observation_end=2024-02-10, n_customers=3, n_transactions=4,
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
        """Retention heatmap (``kind="heatmap"``) or retention curves (``"curves"``).

        ``kind="heatmap"`` draws :func:`crmmodels.plotting.retention.plot_retention_heatmap`,
        ``kind="curves"`` :func:`crmmodels.plotting.retention.plot_retention_curves`;
        ``kwargs`` go to that function.
        """
        from crmmodels.plotting.retention import plot_retention_curves, plot_retention_heatmap

        check_choice(kind, "kind", ["heatmap", "curves"])
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
) -> CohortRetentionResult:
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
    CohortRetentionResult
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
    frame, end, n_late = validated_log(
        transactions,
        customer_col=customer_col,
        date_col=date_col,
        amount_col=None,
        observation_end=observation_end,
        date_format=date_format,
    )
    return cohort_retention_of_log(
        frame, end, customer_col=customer_col, date_col=date_col, period=per_code, n_late=n_late
    )


def cohort_retention_of_log(
    frame: Any,
    end: pd.Timestamp,
    *,
    customer_col: str,
    date_col: str,
    period: PeriodCode,
    n_late: int = 0,
) -> CohortRetentionResult:
    """Cohort retention of a validated log (narwhals, local dates, nothing after ``end``).

    :func:`cohort_retention` validates the log, then calls this; :func:`crmmodels.analyze`
    calls it on the log it validated once. ``n_late`` rows were dropped after ``end``.
    """
    per_code = period
    end_p = scalar_period_index(end, per_code)
    if is_eager(frame):
        pairs = numpy_pairs(frame, customer_col, date_col, per_code)
        first_long, repeat_long = _cohort_long_numpy(pairs)
        n_rows = len(frame)
    else:
        first_long, repeat_long, n_rows = _cohort_long_engine(
            frame, customer_col, date_col, per_code
        )
    counts, rates, sizes = _matrices(first_long, end_p, per_code)
    rcounts, rrates, rsizes = _matrices(repeat_long, end_p, per_code)
    return CohortRetentionResult(
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
