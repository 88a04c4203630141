"""Customer summary of a transaction log (:func:`summarize_transactions`) on a period grid."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import narwhals.stable.v2 as nw
import numpy as np
import pandas as pd

from crmmodels._ingest.dates import to_timestamp
from crmmodels._ingest.log import customer_codes, prepare_log, ticks_per_day
from crmmodels._ingest.periods import (
    SUBDAILY_CODES,
    AnyPeriod,
    Period,
    check_period,
    is_calendar,
    numpy_period_index,
    period_days,
    period_index,
    periods_per_day,
    scalar_period_index,
)
from crmmodels.engines import require
from crmmodels.errors import ArgumentError
from crmmodels.kernels.summary import summarize_log

# a narwhals DataFrame or LazyFrame; joins need both sides of one kind, so typed loosely
Frame = Any


def _grid(period: Any, time_unit: Any) -> tuple[Period, Period, float]:
    """The validated period and time unit, and the factor turning periods into time units.

    Calendar and whole-day periods only (the calibration split uses this one).

    Examples
    --------
    >>> _grid("D", "W")
    ('D', 'W', 0.14285714285714285)
    """
    grid = check_period(period, "period")
    unit = grid if time_unit is None else check_period(time_unit, "time_unit")
    return grid, unit, _scale(grid, unit, period, time_unit)


def _any_grid(period: Any, time_unit: Any) -> tuple[AnyPeriod, AnyPeriod, float]:
    """:func:`_grid` that also accepts hours and minutes (the customer summary).

    Examples
    --------
    >>> _any_grid("h", "D")
    ('h', 'D', 0.041666666666666664)
    """
    grid = check_period(period, "period", subdaily=True)
    unit = grid if time_unit is None else check_period(time_unit, "time_unit", subdaily=True)
    return grid, unit, _scale(grid, unit, period, time_unit)


def _scale(grid: AnyPeriod, unit: AnyPeriod, period: Any, time_unit: Any) -> float:
    if unit == grid:
        return 1.0
    if is_calendar(grid) or is_calendar(unit):
        raise ArgumentError(
            "time_unit can differ from period only when both have a fixed length ('D', 'W', "
            f"'h', 'min' or a number of days); got period={period!r}, "
            f"time_unit={time_unit!r}. Leave time_unit out to count in periods."
        )
    return period_days(grid) / period_days(unit)


def _to_timestamp(value: Any, name: str) -> pd.Timestamp:
    """A date argument as a naive timestamp (timezone-aware values in UTC wall time)."""
    return to_timestamp(value, name, tz="UTC")


def _native(frame: Frame) -> Any:
    """Return the native frame; pandas results get a fresh 0..n-1 index."""
    out = nw.to_native(frame)
    if isinstance(out, pd.DataFrame):
        out = out.reset_index(drop=True)
    return out


def _summarize(
    frame: Frame,
    *,
    customer_col: str,
    date_col: str,
    amount_col: str | None,
    end_index: int,
    period: AnyPeriod,
    scale: float,
) -> Frame:
    """Engine-side aggregation; ``frame`` is validated and holds no purchase after the end.

    Two ``group_by`` stages: purchases merged per (customer, period), then per customer
    (:func:`_customers`; on DuckDB :func:`_duckdb_customers`), so that the engine reads
    the log once.
    """
    per = frame.with_columns(period_index(nw.col(date_col), period).alias("__p"))
    aggs = [nw.len().alias("__rows"), nw.col(date_col).min().alias("__first_date")]
    if amount_col:
        aggs.append(nw.col(amount_col).sum().alias("__amount"))
    periods = per.group_by(customer_col, "__p").agg(*aggs)
    if frame.implementation is nw.Implementation.DUCKDB:
        customers = _duckdb_customers(periods, customer_col, with_amount=bool(amount_col))
    else:
        customers = _customers(periods, customer_col, with_amount=bool(amount_col))
    out_cols: list[nw.Expr | str] = [
        customer_col,
        (nw.col("__n_periods") - 1).cast(nw.Int64).alias("frequency"),
        ((nw.col("__last_p") - nw.col("__first_p")).cast(nw.Float64) * scale).alias("recency"),
        ((end_index - nw.col("__first_p")).cast(nw.Float64) * scale).alias("T"),
    ]
    if amount_col:
        repeat_value = nw.col("total_value") - nw.col("__first_amount")
        n_repeat = nw.col("__n_periods") - 1
        out_cols.append(
            nw.when(n_repeat > 0)
            .then(repeat_value / n_repeat)
            .otherwise(nw.lit(0.0))
            .cast(nw.Float64)
            .alias("monetary_value")
        )
    out_cols += ["first_purchase", nw.col("n_orders").cast(nw.Int64).alias("n_orders")]
    if amount_col:
        out_cols.append(nw.col("total_value").cast(nw.Float64).alias("total_value"))
    return customers.select(out_cols).sort(customer_col)


def _customers(periods: Frame, customer_col: str, *, with_amount: bool) -> Frame:
    """The customer stage of :func:`_summarize` in narwhals (every lazy engine but DuckDB).

    The amount of the first period is summed over the periods equal to the customer's
    first one (a window minimum over the customer's periods), in the same aggregate as
    the rest: joining the period table back would make polars read the log twice. On
    Dask narwhals cannot follow a grouped table with a window, so the period table is
    joined back there.
    """
    cust_aggs = [
        nw.len().alias("__n_periods"),
        nw.col("__p").min().alias("__first_p"),
        nw.col("__p").max().alias("__last_p"),
        nw.col("__first_date").min().alias("first_purchase"),
        nw.col("__rows").sum().alias("n_orders"),
    ]
    if not with_amount:
        return periods.group_by(customer_col).agg(*cust_aggs)
    cust_aggs.append(nw.col("__amount").sum().alias("total_value"))
    if periods.implementation is nw.Implementation.DASK:
        customers = periods.group_by(customer_col).agg(*cust_aggs)
        first_amount = periods.join(
            customers.select(customer_col, nw.col("__first_p").alias("__p")),
            on=[customer_col, "__p"],
            how="inner",
        ).select(customer_col, nw.col("__amount").alias("__first_amount"))
        return customers.join(first_amount, on=customer_col, how="left")
    is_first = nw.col("__p") == nw.col("__p").min().over(customer_col)
    periods = periods.with_columns(
        nw.when(is_first).then(nw.col("__amount")).otherwise(0).alias("__first")
    )
    cust_aggs.append(nw.col("__first").sum().alias("__first_amount"))
    return periods.group_by(customer_col).agg(*cust_aggs)


def _duckdb_customers(periods: Frame, customer_col: str, *, with_amount: bool) -> Frame:
    """The customer stage of :func:`_summarize` as one DuckDB aggregate.

    Same columns as :func:`_customers`; the amount of the first period is DuckDB's
    ``arg_min(amount, period)`` (the periods of a customer are distinct, so it is
    defined). narwhals has no such aggregate, and DuckDB does not share the period table
    between the two sides of a join: that plan reads and groups the log three times.
    """
    duckdb = require("duckdb", "the customer summary of a DuckDB relation")
    col, fn = duckdb.ColumnExpression, duckdb.FunctionExpression
    key = col(customer_col)
    aggs = [
        key,
        fn("count_star").alias("__n_periods"),
        fn("min", col("__p")).alias("__first_p"),
        fn("max", col("__p")).alias("__last_p"),
        fn("min", col("__first_date")).alias("first_purchase"),
        fn("sum", col("__rows")).alias("n_orders"),
    ]
    if with_amount:
        aggs += [
            fn("sum", col("__amount")).alias("total_value"),
            fn("arg_min", col("__amount"), col("__p")).alias("__first_amount"),
        ]
    return nw.from_native(nw.to_native(periods).aggregate(aggs, str(key)))


def _day_periods(period: AnyPeriod) -> Callable[[np.ndarray[Any, Any]], Any] | None:
    """Day numbers -> period numbers (the numbering of :func:`period_index`); None for days."""
    if period in ("D", 1):
        return None
    if isinstance(period, str):
        return lambda days: numpy_period_index(days.astype("datetime64[D]"), period)
    return lambda days: days // period


def _summarize_eager(
    frame: Frame,
    *,
    customer_col: str,
    date_col: str,
    amount_col: str | None,
    end_index: int,
    period: AnyPeriod,
    scale: float,
) -> Any:
    """Numpy path for eager frames (pandas, polars, pyarrow): columns viewed as arrays."""
    ids = frame[customer_col].to_numpy()
    dates = frame[date_col].to_numpy()
    if dates.dtype.kind != "M":  # timezone-aware or exotic: let pandas normalise to UTC
        dates = pd.to_datetime(pd.Series(dates), utc=True).dt.tz_localize(None).to_numpy()
    per_tick_day = ticks_per_day(dates.dtype)
    day_periods = _day_periods(period)
    if period in SUBDAILY_CODES:
        # the kernel counts whole "days" of ticks: give it hours (minutes) as its days
        if per_tick_day < 86_400:
            dates = dates.astype("datetime64[s]")
        per_tick_day = ticks_per_day(dates.dtype) // periods_per_day(str(period))
        day_periods = None
    amounts = (
        None if amount_col is None else np.asarray(frame[amount_col].to_numpy(), dtype=np.float64)
    )
    codes, offset, n_codes, id_of = customer_codes(ids)
    agg = summarize_log(
        codes,
        dates.view(np.int64),
        amounts,
        n_codes=n_codes,
        offset=offset,
        ticks_per_day=per_tick_day,
        day_periods=day_periods,
    )
    frequency = agg.n_periods
    frequency -= 1
    recency = agg.last_period.astype(np.float64)
    recency -= agg.first_period
    recency *= scale
    age = np.subtract(end_index - agg.period_lo, agg.first_period, dtype=np.float64)
    age *= scale
    data: dict[str, Any] = {
        customer_col: id_of(agg.codes),
        "frequency": frequency,
        "recency": recency,
        "T": age,
    }
    if agg.total is not None and agg.first_amount is not None:
        repeat = np.subtract(agg.total, agg.first_amount, out=agg.first_amount)
        np.divide(repeat, frequency, out=repeat, where=frequency > 0)
        repeat[frequency == 0] = 0.0
        data["monetary_value"] = repeat
    data["first_purchase"] = agg.first_time.view(dates.dtype)
    data["n_orders"] = agg.n_rows
    if agg.total is not None:
        data["total_value"] = agg.total
    if frame.implementation is nw.Implementation.PANDAS:  # the arrays as they are, no copy
        return pd.DataFrame(data, copy=False)
    out = nw.from_dict(data, backend=frame.implementation)
    return nw.to_native(out)


def summarize_transactions(
    transactions: Any,
    *,
    customer_col: str = "customer_id",
    date_col: str = "date",
    amount_col: str | None = None,
    observation_end: Any = None,
    period: AnyPeriod = "D",
    time_unit: AnyPeriod | None = None,
    date_format: str | None = None,
    allow_negative: bool = False,
) -> Any:
    r"""Summarise a transaction log into one row per customer (frequency, recency, T).

    Parameters
    ----------
    transactions : DataFrame-like
        Transaction log on any engine (pandas, polars eager or lazy, pyarrow, DuckDB,
        Dask, PySpark): one row per purchase.
    customer_col, date_col : str
        Names of the customer id and purchase date columns. Dates may be datetimes,
        dates or ISO strings (``date_format`` for others); times of day count only on
        an hourly or minute grid.
    amount_col : str, optional
        Purchase value column. Adds ``monetary_value`` and ``total_value``.
    observation_end : date-like, optional
        End of the observation window (inclusive). Defaults to the last purchase date.
        On a day or longer grid its whole day (period) is inside; with ``period="h"``
        or ``"min"`` it is an instant and the period holding it is the last one.
    period : {"D", "W", "M", "Q", "Y", "h", "min"} or int, default "D"
        Grid on which purchases are merged: day, week (Monday to Sunday), calendar month,
        quarter, year, hour or minute of the wall clock, or a whole number of days counted
        from 1970-01-01. Hours and minutes of timezone-aware dates are local: around a
        daylight-saving change the repeated hour is one period and the skipped hour an
        empty one (convert to UTC first to count elapsed hours).
    time_unit : {"D", "W", "h", "min"} or int, optional
        Unit of ``recency`` and ``T``; defaults to ``period``. A day grid in weeks
        (``period="D", time_unit="W"``) reproduces the published CDNOW summary; an hourly
        grid may count in days (``period="h", time_unit="D"``).
    date_format : str, optional
        strftime layout of text dates (e.g. ``"%d/%m/%Y"``); without it text dates
        must be ISO 8601 (see :func:`crmmodels._ingest.dates.parse_dates`).
    allow_negative : bool, default False
        Accept negative amounts (refunds).

    Returns
    -------
    DataFrame-like
        One row per customer, sorted by id, in the caller's frame kind (lazy stays lazy),
        with ``customer_col``, ``frequency``, ``recency``, ``T``, ``monetary_value``
        (with ``amount_col``), ``first_purchase``, ``n_orders`` (rows) and
        ``total_value`` (with ``amount_col``). A pandas result names the unit of
        ``recency`` and ``T`` in ``attrs["time_unit"]`` (e.g. ``"weeks"``), which the
        CLV models' ``fit`` remembers as ``time_unit_``.

    Raises
    ------
    SchemaError
        Missing columns, non-date ``date_col`` or non-numeric ``amount_col``.
    DataError
        Empty input, nulls, unparsable dates, negative or non-finite amounts, purchases
        after ``observation_end``, or an unknown ``period``.

    Notes
    -----
    With ``p_i`` the period index of the customer's purchase periods and ``p_end`` that
    of the observation end: frequency :math:`x = |\{p_i\}| - 1`, recency
    :math:`t_x = \max p_i - \min p_i`, :math:`T = p_{end} - \min p_i`, monetary value the
    mean of the per-period amounts excluding the first period.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({
    ...     "customer_id": [1, 1, 1, 2],
    ...     "date": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-01-11", "2024-01-05"]),
    ...     "amount": [10.0, 5.0, 20.0, 7.0],
    ... })
    >>> s = summarize_transactions(tx, amount_col="amount", observation_end="2024-01-31")
    >>> s[["customer_id", "frequency", "recency", "T", "monetary_value"]]
       customer_id  frequency  recency     T  monetary_value
    0            1          1     10.0  30.0            20.0
    1            2          0      0.0  26.0             0.0
    """
    period, unit, scale = _any_grid(period, time_unit)
    frame, end, _ = prepare_log(
        transactions,
        customer_col=customer_col,
        date_col=date_col,
        amount_col=amount_col,
        date_format=date_format,
        allow_negative=allow_negative,
        observation_end=observation_end,
        end_period=str(period) if period in SUBDAILY_CODES else None,
    )
    end_index = scalar_period_index(end, period)
    if isinstance(frame, nw.DataFrame):
        result = _summarize_eager(
            frame,
            customer_col=customer_col,
            date_col=date_col,
            amount_col=amount_col,
            end_index=end_index,
            period=period,
            scale=scale,
        )
    else:
        result = _native(
            _summarize(
                frame,
                customer_col=customer_col,
                date_col=date_col,
                amount_col=amount_col,
                end_index=end_index,
                period=period,
                scale=scale,
            )
        )
    if isinstance(result, pd.DataFrame):
        result.attrs["time_unit"] = unit
    return result
