"""Transaction log -> customer summary, calibration/holdout split, RFM scores and segments.

The aggregation runs on the caller's engine through narwhals: pandas, polars (eager or
lazy), pyarrow, DuckDB, Dask and PySpark inputs all work. Eager inputs return the same kind
of frame; lazy inputs stay lazy.

Definitions (Fader & Hardie's BTYD papers, identical to lifetimes'
``summary_data_from_transaction_data`` for day periods):

* purchases are merged on the ``period`` grid (several purchases in one period count as
  one purchase period, their amounts summed);
* ``frequency`` = number of purchase periods - 1 (repeat purchases);
* ``recency`` = last purchase period - first purchase period;
* ``T`` = observation end period - first purchase period;
* ``monetary_value`` = mean value of the repeat purchase periods (0 when frequency is 0).

``recency`` and ``T`` are expressed in ``time_unit`` (default: the period itself). The
grid and the unit are two different ideas: the published CDNOW summary is a *day* grid
expressed in *weeks*.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import narwhals.stable.v2 as nw
import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from crmmodels._activity import (
    customer_codes,
    numpy_period_index,
    period_index,
    scalar_period_index,
    ticks_per_day,
)
from crmmodels._frames import (
    check_columns,
    check_ids,
    check_not_null,
    collect,
    count_true,
    day_number,
    local_dates,
    missing,
    numeric_amounts,
    pandas_ready,
    parse_dates,
    python_scalar,
    to_narwhals,
    to_pandas,
    to_timestamp,
)
from crmmodels._ingest.arguments import check_column_name, check_int
from crmmodels._results import Result
from crmmodels.errors import ArgumentError, DataError, SchemaError, bad_rows_message
from crmmodels.kernels.summary import summarize_log

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "DEFAULT_RFM_RULES",
    "CalibrationHoldout",
    "RFMRule",
    "calibration_holdout",
    "rfm_scores",
    "rfm_segments",
    "summarize_transactions",
]

Period = Literal["D", "W", "M"] | int
# a narwhals DataFrame or LazyFrame; joins need both sides of one kind, so typed loosely
Frame = Any

_DAYS = {"D": 1, "W": 7}
_FLOAT_MAX = float(np.finfo(np.float64).max)
# the longest whole-number period: about 27 centuries, beyond any date of the data
_MAX_PERIOD_DAYS = 1_000_000


def _period_length(period: Period, name: str = "period") -> int | None:
    """Length in days of a day-based period; None for months."""
    if isinstance(period, (int, np.integer)) and not isinstance(period, (bool, np.bool_)):
        return check_int(period, name, low=1, high=_MAX_PERIOD_DAYS)
    if period == "M" and isinstance(period, str):
        return None
    if isinstance(period, str) and period in _DAYS:
        return _DAYS[period]
    raise ArgumentError(
        f"{name} must be 'D' (day), 'W' (week, Monday to Sunday), 'M' (calendar month) "
        f"or a whole number of days; got {period!r}."
    )


def _period_index(dates: nw.Expr, period: Period) -> nw.Expr:
    """Integer index of the period each date falls in (consecutive periods differ by 1).

    Days, weeks (Monday to Sunday) and months use the shared numbering of
    :func:`crmmodels._activity.period_index`; a whole number of days counts from 1970-01-01.
    """
    length = _period_length(period)
    if isinstance(period, str):
        return period_index(dates, period)
    days = day_number(dates)
    return days // length if length and length > 1 else days


def _scalar_period_index(date: pd.Timestamp, period: Period) -> int:
    length = _period_length(period)
    if isinstance(period, str):
        return scalar_period_index(date, period)
    return scalar_period_index(date, "D") // (length or 1)


def _to_timestamp(value: Any, name: str) -> pd.Timestamp:
    """A date argument as a naive timestamp (timezone-aware values in UTC wall time)."""
    return to_timestamp(value, name, tz="UTC")


def _prepare(
    transactions: Any,
    *,
    customer_col: str,
    date_col: str,
    amount_col: str | None,
    date_format: str | None,
    allow_negative: bool,
    observation_end: Any = None,
    what: str = "transactions",
) -> tuple[Frame, pd.Timestamp, str | None]:
    """Validate a transaction log in one engine-side pass.

    Returns the frame (with ``date_col`` as a naive datetime), the observation end (the
    given one, or the last purchase date) and the time zone the dates had (None for
    naive dates). Timezone-aware dates are moved to their local wall time, so days,
    weeks and months are those of the data's own calendar on every engine; a
    timezone-aware ``observation_end`` is converted to that time zone first.
    """
    check_column_name(customer_col, "customer_col")
    check_column_name(date_col, "date_col")
    if amount_col is not None:
        check_column_name(amount_col, "amount_col")
    if observation_end is not None:  # the argument first; re-read in the data's zone below
        to_timestamp(observation_end, "observation_end")
    check_ids(transactions, customer_col, what=what)
    transactions = pandas_ready(transactions, [date_col], [amount_col] if amount_col else [])
    tz: str | None = None
    if isinstance(transactions, pd.DataFrame) and date_col in transactions.columns:
        col = transactions[date_col]
        if isinstance(col.dtype, pd.DatetimeTZDtype):  # some zones are opaque to narwhals
            tz = str(col.dtype.tz)
            transactions = transactions.assign(**{date_col: col.dt.tz_localize(None)})
    frame = to_narwhals(transactions, what=what)
    cols = [customer_col, date_col] + ([amount_col] if amount_col else [])
    check_columns(frame, cols, what=what)
    if isinstance(frame, nw.LazyFrame):  # projection for the engine; eager frames stay
        frame = frame.select(cols)  # as they are (a pandas select copies every column)
    frame = parse_dates(frame, date_col, date_format=date_format, what=what)
    dtype = frame.collect_schema()[date_col]
    if isinstance(dtype, nw.Datetime) and dtype.time_zone is not None:
        tz = dtype.time_zone
        frame = local_dates(frame, date_col)
        dtype = frame.collect_schema()[date_col]
    if amount_col is not None:
        frame = numeric_amounts(frame, amount_col, what=what)
    id_dtype = frame.collect_schema()[customer_col]
    end = (
        None
        if observation_end is None
        else to_timestamp(observation_end, "observation_end", tz=tz or "UTC")
    )
    late = [] if end is None else [count_true(_after_end(nw.col(date_col), end, dtype))]
    stats = None
    if isinstance(frame, nw.DataFrame):
        stats = _eager_stats(frame, customer_col, date_col, amount_col, end)
    stats = (
        stats
        or collect(
            frame.select(
                nw.len().alias("n"),
                nw.col(date_col).max().alias("max_date"),
                *[e.alias("late") for e in late],
                count_true(missing(customer_col, id_dtype)).alias("null_id"),
                count_true(nw.col(date_col).is_null()).alias("null_date"),
                *(
                    [
                        count_true(nw.col(amount_col).is_null()).alias("null_amount"),
                        count_true(nw.col(amount_col) < 0).alias("neg_amount"),
                        count_true(~nw.col(amount_col).is_finite()).alias("inf_amount"),
                        nw.col(amount_col).abs().max().alias("abs_max"),
                    ]
                    if amount_col
                    else []
                ),
            )
        ).rows(named=True)[0]
    )
    if int(stats["n"]) == 0:
        raise DataError(f"{what} is empty: no rows to summarise.")
    if stats["null_id"]:
        check_not_null(frame, [customer_col], what=what, nan_is_null=True)
    if stats["null_date"]:
        check_not_null(frame, [date_col], what=what, id_col=customer_col)
    if amount_col:
        if stats["null_amount"]:
            check_not_null(frame, [amount_col], what=what, id_col=customer_col)
        if stats["inf_amount"]:
            _raise_first(
                frame,
                ~nw.col(amount_col).is_finite(),
                amount_col,
                "is not finite",
                int(stats["inf_amount"]),
                customer_col,
                what,
            )
        if stats["neg_amount"] and not allow_negative:
            _raise_first(
                frame,
                nw.col(amount_col) < 0,
                amount_col,
                "is negative",
                int(stats["neg_amount"]),
                customer_col,
                what,
                "Pass allow_negative=True to keep refunds and returns.",
            )
        abs_max = stats.get("abs_max")
        if abs_max is not None and float(abs_max) * int(stats["n"]) >= _FLOAT_MAX:
            _check_totals(frame, customer_col, amount_col, what)
    if end is None:
        end = _to_timestamp(stats["max_date"], "the last date")
    elif stats["late"]:
        _raise_first(
            frame,
            _after_end(nw.col(date_col), end, dtype),
            date_col,
            f"is after the observation end {end.date()}",
            int(stats["late"]),
            customer_col,
            what,
            "Pass a later observation_end or filter the log first.",
        )
    return frame, end, tz


def _eager_stats(
    frame: Frame, customer_col: str, date_col: str, amount_col: str | None, end: Any
) -> dict[str, Any] | None:
    """The validation counts of :func:`_prepare` straight from numpy views of an eager frame.

    Same keys as the engine-side query; None when a column does not map to a plain numpy
    dtype (timezone-aware or nullable extension types), in which case the engine computes
    them.
    """
    ids = frame[customer_col].to_numpy()
    dates = frame[date_col].to_numpy()
    if dates.dtype.kind != "M":
        return None
    # reductions first (NaT and NaN propagate through min and max); the counts that
    # make the error messages are computed only when a reduction shows a problem
    hi = dates.max() if dates.size else None
    bad_dates = hi is not None and bool(np.isnat(hi) or np.isnat(dates.min()))
    stats: dict[str, Any] = {
        "n": int(dates.size),
        "null_id": 0 if ids.dtype.kind in "iub" else int(pd.isna(ids).sum()),
        "null_date": int(np.isnat(dates).sum()) if bad_dates else 0,
        "max_date": hi,
    }
    if end is not None:
        first_after = np.datetime64((end.normalize() + pd.Timedelta(days=1)).to_datetime64())
        late = bad_dates or (hi is not None and hi >= first_after)
        stats["late"] = int(np.count_nonzero(dates >= first_after)) if late else 0
    if amount_col:
        amounts = frame[amount_col].to_numpy()
        if amounts.dtype.kind not in "fiub":
            return None
        stats.update(null_amount=0, inf_amount=0, neg_amount=0)
        if amounts.size:
            a_lo, a_hi = amounts.min(), amounts.max()
            if amounts.dtype.kind == "f" and not (np.isfinite(a_lo) and np.isfinite(a_hi)):
                stats["null_amount"] = int(np.isnan(amounts).sum())
                stats["inf_amount"] = int(amounts.size - np.count_nonzero(np.isfinite(amounts)))
            if a_lo < 0 or np.isnan(a_lo):
                stats["neg_amount"] = int(np.count_nonzero(amounts < 0))
            stats["abs_max"] = max(abs(float(a_lo)), abs(float(a_hi)))
    return stats


def _after_end(col: nw.Expr, end: pd.Timestamp, dtype: Any) -> nw.Expr:
    """True for purchases after the observation end day (the whole end day is inside)."""
    if dtype == nw.Date:
        return col > nw.lit(end.date())
    return col >= nw.lit((end.normalize() + pd.Timedelta(days=1)).to_pydatetime())


def _check_totals(frame: Frame, customer_col: str, amount_col: str, what: str) -> None:
    """Raise :class:`DataError` when a customer's total amount exceeds the float range.

    Called only when the largest amount times the number of rows could overflow.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        totals = frame.group_by(customer_col).agg(nw.col(amount_col).sum().alias("__total"))
        bad = ~nw.col("__total").is_finite()
        n_bad = int(collect(totals.select(count_true(bad).alias("n"))).item(0, 0) or 0)
        if not n_bad:
            return
        first = collect(totals.filter(bad).select(customer_col).head(1))
    example = f"{customer_col}={python_scalar(first[customer_col].item(0))!r}"
    customers = "customer" if n_bad == 1 else "customers"
    raise DataError(
        f"{what}: the total of column '{amount_col}' exceeds the largest float (about "
        f"{_FLOAT_MAX:.1e}) for {n_bad} {customers} (first example: {example}). Rescale the "
        "amounts first, e.g. to thousands."
    )


def _native(frame: Frame) -> Any:
    """Return the native frame; pandas results get a fresh 0..n-1 index."""
    out = nw.to_native(frame)
    if isinstance(out, pd.DataFrame):
        out = out.reset_index(drop=True)
    return out


def _raise_first(
    frame: Frame,
    mask: nw.Expr,
    column: str,
    problem: str,
    n_bad: int,
    customer_col: str,
    what: str,
    fix: str = "",
) -> None:
    first = collect(frame.filter(mask).select(customer_col, column).head(1)).rows(named=True)
    example: object = {k: python_scalar(v) for k, v in first[0].items()} if first else None
    raise DataError(f"{what}: " + bad_rows_message(column, problem, n_bad, example, fix))


def _unit_scale(period: Period, time_unit: Period | None) -> float:
    """Factor turning a difference of period indices into ``time_unit``."""
    if time_unit is None or time_unit == period:
        return 1.0
    p_len = _period_length(period)
    u_len = _period_length(time_unit, "time_unit")
    if p_len is None or u_len is None:
        raise DataError(
            "time_unit can differ from period only for day-based periods ('D', 'W' or a "
            f"number of days); got period={period!r}, time_unit={time_unit!r}."
        )
    return p_len / u_len


def _summarize(
    frame: Frame,
    *,
    customer_col: str,
    date_col: str,
    amount_col: str | None,
    end_index: int,
    period: Period,
    scale: float,
) -> Frame:
    """Engine-side aggregation; ``frame`` is validated and holds no purchase after the end."""
    per = frame.with_columns(_period_index(nw.col(date_col), period).alias("__p"))
    aggs = [nw.len().alias("__rows"), nw.col(date_col).min().alias("__first_date")]
    if amount_col:
        aggs.append(nw.col(amount_col).sum().alias("__amount"))
    periods = per.group_by(customer_col, "__p").agg(*aggs)
    cust_aggs = [
        nw.len().alias("__n_periods"),
        nw.col("__p").min().alias("__first_p"),
        nw.col("__p").max().alias("__last_p"),
        nw.col("__first_date").min().alias("first_purchase"),
        nw.col("__rows").sum().alias("n_orders"),
    ]
    if amount_col:
        cust_aggs.append(nw.col("__amount").sum().alias("total_value"))
    customers = periods.group_by(customer_col).agg(*cust_aggs)
    out_cols: list[nw.Expr | str] = [
        customer_col,
        (nw.col("__n_periods") - 1).cast(nw.Int64).alias("frequency"),
        ((nw.col("__last_p") - nw.col("__first_p")).cast(nw.Float64) * scale).alias("recency"),
        ((end_index - nw.col("__first_p")).cast(nw.Float64) * scale).alias("T"),
    ]
    if amount_col:
        first_amount = periods.join(
            customers.select(customer_col, nw.col("__first_p").alias("__p")),
            on=[customer_col, "__p"],
            how="inner",
        ).select(customer_col, nw.col("__amount").alias("__first_amount"))
        customers = customers.join(first_amount, on=customer_col, how="left")
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


def _day_periods(period: Period) -> Callable[[np.ndarray[Any, Any]], Any] | None:
    """Day numbers -> period numbers (the numbering of :func:`_period_index`); None for days."""
    length = _period_length(period)
    if period == "D" or length == 1:
        return None
    if isinstance(period, str):
        return lambda days: numpy_period_index(days.astype("datetime64[D]"), period)
    return lambda days: days // length


def _summarize_eager(
    frame: Frame,
    *,
    customer_col: str,
    date_col: str,
    amount_col: str | None,
    end_index: int,
    period: Period,
    scale: float,
) -> Any:
    """Numpy path for eager frames (pandas, polars, pyarrow): columns viewed as arrays."""
    ids = frame[customer_col].to_numpy()
    dates = frame[date_col].to_numpy()
    if dates.dtype.kind != "M":  # timezone-aware or exotic: let pandas normalise to UTC
        dates = pd.to_datetime(pd.Series(dates), utc=True).dt.tz_localize(None).to_numpy()
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
        ticks_per_day=ticks_per_day(dates.dtype),
        day_periods=_day_periods(period),
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
    out = nw.from_dict(data, backend=frame.implementation)
    return nw.to_native(out)


def summarize_transactions(
    transactions: Any,
    *,
    customer_col: str = "customer_id",
    date_col: str = "date",
    amount_col: str | None = None,
    observation_end: Any = None,
    period: Period = "D",
    time_unit: Period | None = None,
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
        dates or ISO strings (``date_format`` for others); times of day are ignored.
    amount_col : str, optional
        Purchase value column. Adds ``monetary_value`` and ``total_value``.
    observation_end : date-like, optional
        End of the observation window (inclusive). Defaults to the last purchase date.
    period : {"D", "W", "M"} or int, default "D"
        Grid on which purchases are merged: day, week (Monday to Sunday), calendar month,
        or a whole number of days counted from 1970-01-01.
    time_unit : {"D", "W"} or int, optional
        Unit of ``recency`` and ``T``; defaults to ``period``. A day grid in weeks
        (``period="D", time_unit="W"``) reproduces the published CDNOW summary.
    date_format : str, optional
        strftime layout of text dates (e.g. ``"%d/%m/%Y"``); without it text dates
        must be ISO 8601 (see :func:`crmmodels._frames.parse_dates`).
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
    _period_length(period)
    scale = _unit_scale(period, time_unit)
    frame, end, _ = _prepare(
        transactions,
        customer_col=customer_col,
        date_col=date_col,
        amount_col=amount_col,
        date_format=date_format,
        allow_negative=allow_negative,
        observation_end=observation_end,
    )
    end_index = _scalar_period_index(end, period)
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
        result.attrs["time_unit"] = _unit_name(period if time_unit is None else time_unit)
    return result


def _unit_name(unit: Period) -> str:
    """Readable name of a period or time unit (``"W"`` is ``"weeks"``).

    Examples
    --------
    >>> _unit_name("W"), _unit_name(14)
    ('weeks', '14-day periods')
    """
    if isinstance(unit, str):
        return {"D": "days", "W": "weeks", "M": "months"}.get(unit, unit)
    return "days" if unit == 1 else f"{unit}-day periods"


@dataclass(frozen=True, repr=False)
class CalibrationHoldout(Result):
    """Calibration summary with holdout outcomes, from :func:`calibration_holdout`.

    Attributes
    ----------
    data : DataFrame-like
        One row per calibration customer in the caller's frame kind: ``frequency_cal``,
        ``recency_cal``, ``T_cal`` (and ``monetary_value_cal``), ``frequency_holdout``,
        ``monetary_value_holdout`` (with amounts) and ``duration_holdout``.
    calibration_end, observation_end : pandas.Timestamp
        The split date and the end of the holdout window.
    n_customers : int
        Customers in the calibration summary.
    n_new_in_holdout : int
        Customers whose first purchase falls in the holdout window. They have no
        calibration history, so they are not in ``data``; they are counted here.
    """

    data: Any
    calibration_end: pd.Timestamp
    observation_end: pd.Timestamp
    n_customers: int
    n_new_in_holdout: int

    def to_frame(self) -> pd.DataFrame:
        """Return the calibration/holdout table as pandas."""
        return to_pandas(to_narwhals(self.data))

    def plot(self, ax: Axes | None = None, **kwargs: Any) -> Axes:
        """Plot mean holdout purchases against calibration frequency."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots()
        df = self.to_frame()
        grouped = df.groupby("frequency_cal")["frequency_holdout"].mean()
        ax.plot(grouped.index, grouped.to_numpy(), marker="o", **kwargs)
        ax.set_xlabel("purchases in calibration (frequency_cal)")
        ax.set_ylabel("mean purchases in holdout")
        ax.set_title("Calibration vs holdout purchases")
        return ax


def calibration_holdout(
    transactions: Any,
    *,
    calibration_end: Any,
    observation_end: Any = None,
    customer_col: str = "customer_id",
    date_col: str = "date",
    amount_col: str | None = None,
    period: Period = "D",
    time_unit: Period | None = None,
    date_format: str | None = None,
    allow_negative: bool = False,
) -> CalibrationHoldout:
    """Split a transaction log at a date into a calibration summary and holdout outcomes.

    Parameters
    ----------
    transactions : DataFrame-like
        Transaction log on any engine.
    calibration_end : date-like
        Last day of the calibration window (inclusive).
    observation_end : date-like, optional
        Last day of the holdout window (inclusive); defaults to the last purchase date.
    customer_col, date_col, amount_col, period, time_unit, date_format, allow_negative
        As in :func:`summarize_transactions`.

    Returns
    -------
    CalibrationHoldout
        ``.data`` holds, per customer first seen on or before ``calibration_end``:
        ``frequency_cal``, ``recency_cal``, ``T_cal``, ``monetary_value_cal`` (with
        amounts), ``frequency_holdout`` (purchase periods in the holdout window),
        ``monetary_value_holdout`` (mean value per holdout purchase period, 0 if none)
        and ``duration_holdout`` (holdout length in ``time_unit``). Customers first seen
        in the holdout are counted in ``n_new_in_holdout``.

    Raises
    ------
    DataError
        As :func:`summarize_transactions`, and when ``calibration_end`` is not before
        ``observation_end`` or no customer purchased in the calibration window.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({
    ...     "customer_id": [1, 1, 1, 2, 3],
    ...     "date": pd.to_datetime(
    ...         ["2024-01-01", "2024-01-10", "2024-02-05", "2024-01-20", "2024-02-10"]),
    ... })
    >>> ch = calibration_holdout(tx, calibration_end="2024-01-31", observation_end="2024-02-29")
    >>> ch.to_frame()[["customer_id", "frequency_cal", "T_cal", "frequency_holdout"]]
       customer_id  frequency_cal  T_cal  frequency_holdout
    0            1              1   30.0                  1
    1            2              0   11.0                  0
    >>> ch.n_new_in_holdout
    1
    """
    _period_length(period)
    scale = _unit_scale(period, time_unit)
    cal_end = _to_timestamp(calibration_end, "calibration_end")
    frame, end, tz = _prepare(
        transactions,
        customer_col=customer_col,
        date_col=date_col,
        amount_col=amount_col,
        date_format=date_format,
        allow_negative=allow_negative,
        observation_end=observation_end,
    )
    if tz is not None:  # an aware calibration_end is read on the data's calendar too
        cal_end = to_timestamp(calibration_end, "calibration_end", tz)
    if cal_end >= end:
        raise DataError(
            f"calibration_end ({cal_end.date()}) must be before observation_end ({end.date()})."
        )
    cal_index = _scalar_period_index(cal_end, period)
    end_index = _scalar_period_index(end, period)
    per = frame.with_columns(_period_index(nw.col(date_col), period).alias("__pi"))
    cal = per.filter(nw.col("__pi") <= cal_index).drop("__pi")
    hold = per.filter(nw.col("__pi") > cal_index)
    summary = _summarize(
        cal,
        customer_col=customer_col,
        date_col=date_col,
        amount_col=amount_col,
        end_index=cal_index,
        period=period,
        scale=scale,
    )
    rename = {c: f"{c}_cal" for c in ("frequency", "recency", "T", "monetary_value")}
    summary = summary.select(
        customer_col,
        *[nw.col(c).alias(rename[c]) for c in rename if c in summary.collect_schema().names()],
    )
    hold_aggs = [nw.len().alias("__rows")]
    if amount_col:
        hold_aggs.append(nw.col(amount_col).sum().alias("__amount"))
    hold_periods = hold.group_by(customer_col, "__pi").agg(*hold_aggs)
    cust_aggs = [nw.len().alias("frequency_holdout")]
    if amount_col:
        cust_aggs.append(nw.col("__amount").mean().alias("monetary_value_holdout"))
    hold_cust = hold_periods.group_by(customer_col).agg(*cust_aggs)
    out = summary.join(hold_cust, on=customer_col, how="left")
    fill = [nw.col("frequency_holdout").fill_null(0).cast(nw.Int64)]
    if amount_col:
        fill.append(nw.col("monetary_value_holdout").fill_null(0.0).cast(nw.Float64))
    out = out.with_columns(
        *fill, nw.lit(float(end_index - cal_index) * scale).alias("duration_holdout")
    ).sort(customer_col)
    counts = collect(
        per.group_by(customer_col)
        .agg(nw.col("__pi").min().alias("__first"))
        .select(
            count_true(nw.col("__first") <= cal_index).alias("cal"),
            count_true(nw.col("__first") > cal_index).alias("new"),
        )
    ).rows(named=True)[0]
    if not counts["cal"]:
        raise DataError(
            f"no customer purchased on or before calibration_end ({cal_end.date()}); "
            "choose a later calibration_end."
        )
    return CalibrationHoldout(
        data=_native(out),
        calibration_end=cal_end,
        observation_end=end,
        n_customers=int(counts["cal"]),
        n_new_in_holdout=int(counts["new"] or 0),
    )


# ----------------------------------------------------------------------------- RFM


def _like_input(frame: nw.DataFrame[Any] | nw.LazyFrame[Any], result: pd.DataFrame) -> Any:
    """Return the pandas ``result`` as a native frame of the same kind as ``frame``.

    Eager inputs give the same eager kind; lazy inputs (polars, DuckDB, Dask, PySpark)
    give a lazy frame of the same engine.
    """
    impl = frame.implementation
    if impl is nw.Implementation.PANDAS:
        return result
    data = {str(c): result[c].to_numpy() for c in result.columns}
    if isinstance(frame, nw.DataFrame):
        return nw.to_native(nw.from_dict(data, backend=impl))
    base = nw.from_dict(data, backend=impl if impl is nw.Implementation.POLARS else "pandas")
    session = getattr(nw.to_native(frame), "sparkSession", None)
    return nw.to_native(base.lazy(backend=impl, session=session))


def _quantile_score(
    values: np.ndarray[Any, np.dtype[np.float64]], bins: int
) -> np.ndarray[Any, np.dtype[np.int64]]:
    """Score 1..bins by quantile of the min-rank; ties share the lower score."""
    n = values.size
    order = np.argsort(values, kind="stable")
    sorted_vals = values[order]
    # min-rank (0-based) of each value: position of the first equal value
    first_pos = np.searchsorted(sorted_vals, values, side="left")
    return (1 + (bins * first_pos) // n).astype(np.int64)


def _check_summary_values(
    df: pd.DataFrame,
    customer_col: str,
    frequency_col: str,
    recency_col: str,
    T_col: str,
) -> None:
    """A customer summary's values: finite; frequency, recency and T >= 0; recency <= T."""
    values = {c: df[c].to_numpy(dtype=np.float64) for c in df.columns if c != customer_col}
    recency, age = values[recency_col], values[T_col]
    checks: list[tuple[str, str, np.ndarray[Any, np.dtype[np.bool_]], str]] = [
        (c, "is infinite", np.isinf(v), "Summary values must be finite.") for c, v in values.items()
    ]
    checks += [
        (c, "is negative", values[c] < 0, "Pass the output of summarize_transactions.")
        for c in (frequency_col, recency_col, T_col)
    ]
    checks.append(
        (
            recency_col,
            f"is greater than '{T_col}' (a last purchase after the end of observation)",
            recency > age,
            f"Recency is the age at the last purchase, at most the customer's age '{T_col}'.",
        )
    )
    for col, problem, bad, fix in checks:
        if bad.any():
            first = df[customer_col].to_numpy()[np.argmax(bad)]
            example = f"{customer_col}={python_scalar(first)!r}"
            raise DataError(
                "summary: " + bad_rows_message(col, problem, int(bad.sum()), example, fix)
            )


def rfm_scores(
    summary: Any,
    bins: int = 5,
    *,
    customer_col: str = "customer_id",
    frequency_col: str = "frequency",
    recency_col: str = "recency",
    T_col: str = "T",
    monetary_col: str | None = "monetary_value",
) -> Any:
    """Quantile RFM scores (1 = worst, ``bins`` = best) from a customer summary.

    Parameters
    ----------
    summary : DataFrame-like
        Output of :func:`summarize_transactions` (any engine). Values must be finite,
        ``frequency``, ``recency`` and ``T`` non-negative and ``recency <= T``; anything
        else raises :class:`~crmmodels.errors.DataError` (with the count and the first
        customer).
    bins : int, default 5
        Number of score levels (2 to 9).
    customer_col, frequency_col, recency_col, T_col, monetary_col : str
        Column names. Pass ``monetary_col=None`` for R and F only.

    Returns
    -------
    DataFrame-like
        One row per customer, in the caller's frame kind (pandas in, pandas out; polars
        in, polars out; lazy stays lazy): ``customer_col``, ``time_since_last``
        (``T - recency``, in the unit of the summary's ``recency`` and ``T``: days by
        default, weeks for a summary made with ``time_unit="W"``), ``r_score``,
        ``f_score``, ``m_score`` (with monetary) and ``rfm`` (e.g. ``"545"``).

    Notes
    -----
    Recency is scored on the time since the last purchase (more recent is better),
    frequency on repeat purchases, monetary on the mean repeat value. Scores come from
    the *minimum rank* of each value: ``score = 1 + floor(bins * (rank_min - 1) / n)``,
    so equal values always share a score (the lower one) and the result does not depend
    on row order.

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.DataFrame({"customer_id": [1, 2, 3, 4], "frequency": [0, 1, 3, 3],
    ...                   "recency": [0.0, 5.0, 20.0, 28.0], "T": [30.0, 30.0, 30.0, 30.0],
    ...                   "monetary_value": [0.0, 10.0, 30.0, 20.0]})
    >>> rfm_scores(s, bins=4)[["customer_id", "r_score", "f_score", "m_score", "rfm"]]
       customer_id  r_score  f_score  m_score  rfm
    0            1        1        1        1  111
    1            2        2        2        2  222
    2            3        3        3        4  334
    3            4        4        3        3  433
    """
    bins = check_int(bins, "bins", low=2, high=9)
    cols = [customer_col, frequency_col, recency_col, T_col]
    for arg, name in zip(
        ("customer_col", "frequency_col", "recency_col", "T_col"), cols, strict=True
    ):
        check_column_name(name, arg)
    if monetary_col is not None:
        check_column_name(monetary_col, "monetary_col")
    frame = to_narwhals(summary, what="summary")
    if monetary_col:
        cols.append(monetary_col)
    check_columns(frame, cols, what="summary")
    df = to_pandas(frame.select(cols))
    if df.empty:
        raise DataError("summary is empty: no customers to score.")
    for c in cols[1:]:
        if not pd.api.types.is_numeric_dtype(df[c]):
            raise SchemaError(f"summary: column '{c}' must be numeric; its type is {df[c].dtype}.")
        bad = df[c].isna()
        if bad.any():
            raise DataError(
                "summary: "
                + bad_rows_message(c, "is null", int(bad.sum()), df.loc[bad, customer_col].iloc[0])
            )
    _check_summary_values(df, customer_col, frequency_col, recency_col, T_col)
    since = (df[T_col] - df[recency_col]).to_numpy(dtype=float)
    out = pd.DataFrame({customer_col: df[customer_col].to_numpy(), "time_since_last": since})
    out["r_score"] = _quantile_score(-since, bins)
    out["f_score"] = _quantile_score(df[frequency_col].to_numpy(dtype=float), bins)
    code = out["r_score"].astype(str) + out["f_score"].astype(str)
    if monetary_col:
        out["m_score"] = _quantile_score(df[monetary_col].to_numpy(dtype=float), bins)
        code = code + out["m_score"].astype(str)
    out["rfm"] = code
    return _like_input(frame, out)


class RFMRule(BaseModel):
    """One named RFM segment: inclusive score ranges on R, F and (optionally) M.

    Examples
    --------
    >>> RFMRule(segment="champions", r=(4, 5), f=(4, 5)).segment
    'champions'
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    segment: str = Field(min_length=1)
    r: tuple[int, int] = (1, 9)
    f: tuple[int, int] = (1, 9)
    m: tuple[int, int] = (1, 9)

    @model_validator(mode="after")
    def _ranges(self) -> RFMRule:
        for name in ("r", "f", "m"):
            lo, hi = getattr(self, name)
            if lo > hi or lo < 1:
                raise ValueError(f"rule '{self.segment}': range {name}={lo, hi} is empty or < 1")
        return self


#: Default segment table for 5 bins (first matching rule wins). A customer who bought
#: once recently is "new", never "hibernating" or "lost".
DEFAULT_RFM_RULES: tuple[RFMRule, ...] = (
    RFMRule(segment="champions", r=(5, 5), f=(4, 5)),
    RFMRule(segment="loyal", r=(3, 5), f=(4, 5)),
    RFMRule(segment="new", r=(4, 5), f=(1, 1)),
    RFMRule(segment="potential_loyalist", r=(4, 5), f=(2, 3)),
    RFMRule(segment="promising", r=(3, 3), f=(1, 1)),
    RFMRule(segment="need_attention", r=(3, 3), f=(2, 3)),
    RFMRule(segment="cannot_lose", r=(1, 1), f=(5, 5)),
    RFMRule(segment="at_risk", r=(1, 2), f=(3, 5)),
    RFMRule(segment="about_to_sleep", r=(2, 2), f=(1, 2)),
    RFMRule(segment="hibernating", r=(1, 1), f=(2, 2)),
    RFMRule(segment="lost", r=(1, 1), f=(1, 1)),
)


def _rfm_rule(i: int, rule: Any) -> RFMRule:
    """One entry of ``rules`` as an :class:`RFMRule`; :class:`ArgumentError` naming it."""
    if isinstance(rule, RFMRule):
        return rule
    if not isinstance(rule, Mapping):
        raise ArgumentError(
            f"rules[{i}] must be an RFMRule or a dict of its fields (segment, r, f, m); "
            f"got {rule!r}."
        )
    name = rule.get("segment", "?")
    try:
        return RFMRule(**{str(k): v for k, v in rule.items()})
    except ValidationError as exc:
        parts = []
        for err in exc.errors():
            loc = ".".join(str(x) for x in err["loc"])
            msg = str(err["msg"]).removeprefix("Value error, ")
            parts.append(f"field '{loc}': {msg}" if loc else msg)
        raise ArgumentError(
            f"rules[{i}] (segment {name!r}) is not a valid RFMRule: " + "; ".join(parts) + ". "
            "Give segment (text) and inclusive score ranges r, f, m as (low, high) with "
            "1 <= low <= high."
        ) from None


def rfm_segments(
    scores: Any,
    rules: Sequence[RFMRule | dict[str, Any]] | None = None,
    *,
    default: str = "other",
) -> Any:
    """Name RFM segments from scores with an ordered rule table (first match wins).

    Parameters
    ----------
    scores : DataFrame-like
        Output of :func:`rfm_scores` (any engine).
    rules : sequence of RFMRule or dict, optional
        Ordered rules; None (the default) means :data:`DEFAULT_RFM_RULES` (for 5 bins).
        An empty sequence is an error.
    default : str, default "other"
        Segment of customers no rule matches.

    Returns
    -------
    DataFrame-like
        ``scores`` plus a ``segment`` column, in the caller's frame kind (a new frame;
        the input is not modified).

    Raises
    ------
    ArgumentError
        Empty ``rules``, a rule that is not valid (named by its position and segment,
        with the field at fault) or a segment defined twice.
    SchemaError
        ``scores`` lacks ``r_score`` / ``f_score`` or holds non-numeric scores.
    DataError
        Missing (null or NaN) scores, counted, with the first row.

    Examples
    --------
    >>> import pandas as pd
    >>> sc = pd.DataFrame({"customer_id": [1, 2, 3], "r_score": [5, 1, 5],
    ...                    "f_score": [5, 1, 1], "m_score": [5, 1, 2]})
    >>> rfm_segments(sc)["segment"].tolist()
    ['champions', 'lost', 'new']
    """
    if rules is None:
        table = list(DEFAULT_RFM_RULES)
    elif isinstance(rules, (str, bytes, Mapping, RFMRule)) or not isinstance(rules, Sequence):
        raise ArgumentError(
            f"rules must be a list of RFMRule (or dicts with their fields); got {rules!r}."
        )
    else:
        table = [_rfm_rule(i, rule) for i, rule in enumerate(rules)]
    if not table:
        raise ArgumentError(
            "rules is empty: give at least one RFMRule, or rules=None for DEFAULT_RFM_RULES."
        )
    if not isinstance(default, str):
        raise ArgumentError(f"default must be a segment name (text); got {default!r}.")
    names = [r.segment for r in table]
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise ArgumentError(f"rules: segment '{dup}' is defined twice.")
    frame = to_narwhals(scores, what="scores")
    scores = to_pandas(frame)
    needed = ["r_score", "f_score"] + (["m_score"] if "m_score" in scores.columns else [])
    missing = [c for c in ("r_score", "f_score") if c not in scores.columns]
    if missing:
        raise SchemaError(f"scores has no column '{missing[0]}'; pass the output of rfm_scores.")
    for col in needed:
        values = scores[col]
        if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
            raise SchemaError(
                f"scores: column '{col}' must hold numeric scores; its type is {values.dtype}."
            )
        bad = values.isna().to_numpy()
        if bad.any():
            first = scores.index[int(np.argmax(bad))]
            raise DataError(
                "scores: "
                + bad_rows_message(
                    col,
                    "is missing",
                    int(bad.sum()),
                    f"row {python_scalar(first)!r}",
                    "Every customer needs a score; pass the output of rfm_scores.",
                )
            )
    r = scores["r_score"].to_numpy()
    f = scores["f_score"].to_numpy()
    m = scores["m_score"].to_numpy() if "m_score" in needed else None
    conds = []
    for rule in table:
        c = (r >= rule.r[0]) & (r <= rule.r[1]) & (f >= rule.f[0]) & (f <= rule.f[1])
        if m is not None:
            c &= (m >= rule.m[0]) & (m <= rule.m[1])
        conds.append(c)
    out = scores.copy()
    out["segment"] = np.select(conds, names, default=default)
    return _like_input(frame, out)
