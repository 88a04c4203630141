"""Shared helpers of the analyses: the validation of a transaction log and time zones.

:func:`prepare_log` validates a transaction log for the customer summary, the lifecycle,
the quadrants and the retention analyses; it lives here, below them, so that no analysis
module imports another one. Timezone-aware dates are moved to their local wall time, so
days, weeks and months are those of the data's own calendar on every engine. Period
grids and time units live in :mod:`crmmodels._ingest.periods`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import narwhals.stable.v2 as nw
import numpy as np
import pandas as pd

from crmmodels._ingest.arguments import check_column_name
from crmmodels._ingest.dates import parse_dates, to_timestamp
from crmmodels._ingest.frames import (
    check_columns,
    check_ids,
    check_not_null,
    collect,
    count_true,
    local_dates,
    missing,
    numeric_amounts,
    pandas_ready,
    python_scalar,
    to_narwhals,
)
from crmmodels.errors import DataError, bad_rows_message

__all__ = [
    "customer_codes",
    "local_log",
    "pandas_wall_time",
    "prepare_log",
    "ticks_per_day",
    "time_zone",
]

_FLOAT_MAX = float(np.finfo(np.float64).max)


def pandas_wall_time(native: Any, date_col: str) -> tuple[Any, str | None]:
    """A pandas frame with a timezone-aware ``date_col`` moved to its wall time, and the zone.

    Some zones are opaque to narwhals, so pandas columns are handled before wrapping; any
    other input (and naive dates) comes back unchanged with None. The caller's frame is
    never modified.

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.to_datetime(["2024-01-31 23:30"]).tz_localize("America/New_York")
    >>> out, tz = pandas_wall_time(pd.DataFrame({"date": d}), "date")
    >>> str(out["date"].iloc[0]), tz
    ('2024-01-31 23:30:00', 'America/New_York')
    """
    if isinstance(native, pd.DataFrame) and date_col in native.columns:
        col = native[date_col]
        if isinstance(col.dtype, pd.DatetimeTZDtype):
            return native.assign(**{date_col: col.dt.tz_localize(None)}), str(col.dtype.tz)
    return native, None


def time_zone(frame: Any, date_col: str) -> str | None:
    """Time zone of a timezone-aware date column (``None`` for naive dates or numbers).

    Examples
    --------
    >>> import narwhals.stable.v2 as nw
    >>> import pandas as pd
    >>> d = pd.to_datetime(["2024-01-01"]).tz_localize("UTC")
    >>> frame = nw.from_native(pd.DataFrame({"d": d}))
    >>> time_zone(frame, "d")
    'UTC'
    """
    dtype = frame.collect_schema()[date_col]
    if isinstance(dtype, nw.Datetime) and dtype.time_zone is not None:
        return str(dtype.time_zone)
    return None


def local_log(
    transactions: Any,
    *,
    customer_col: str,
    date_col: str,
    amount_col: str | None,
    date_format: str | None,
    last_date: bool = False,
) -> tuple[Any, pd.Timestamp, str | None]:
    """Validate a transaction log (negative amounts allowed) and move it to local dates.

    Returns the narwhals frame with naive local dates, the last date (local time) and
    the time zone of the date column (``None`` for naive dates). ``last_date`` is kept
    for callers; the last date is always local now that the validation moves the dates.

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.to_datetime(["2024-01-31 23:30"]).tz_localize("Europe/Paris")
    >>> tx = pd.DataFrame({"customer_id": [1], "date": d})
    >>> frame, last, tz = local_log(tx, customer_col="customer_id", date_col="date",
    ...                             amount_col=None, date_format=None, last_date=True)
    >>> str(last), tz
    ('2024-01-31 23:30:00', 'Europe/Paris')
    """
    frame, last, tz = prepare_log(
        transactions,
        customer_col=customer_col,
        date_col=date_col,
        amount_col=amount_col,
        date_format=date_format,
        allow_negative=True,
        what="transactions",
    )
    return frame, last, tz


def customer_codes(
    ids: np.ndarray[Any, Any],
) -> tuple[np.ndarray[Any, Any], int, int, Callable[[np.ndarray[Any, Any]], Any]]:
    """Integer customer codes without a Python loop: ``(codes, offset, n_codes, id_of)``.

    The codes of the rows are ``codes - offset``, in ``0 .. n_codes - 1`` and in sorted
    id order (codes of absent ids in a dense range simply never occur); ``id_of`` maps
    codes back to ids. Dense integer ids are their own codes (no copy, no hashing);
    other ids are factorised.

    Examples
    --------
    >>> import numpy as np
    >>> codes, offset, n, id_of = customer_codes(np.array([12, 10, 12]))
    >>> (codes - offset).tolist(), n, id_of(np.array([0, 2])).tolist()
    ([2, 0, 2], 3, [10, 12])
    """
    if ids.dtype.kind in "iu" and ids.size:
        lo, hi = ids.min(), ids.max()
        if int(hi) - int(lo) <= max(4 * ids.size, 1 << 20):  # dense integer ids
            if ids.dtype == np.int64:  # the kernel's fresh code array becomes the ids
                return ids, int(lo), int(hi) - int(lo) + 1, lambda c: np.add(c, lo, out=c)
            return ids, int(lo), int(hi) - int(lo) + 1, lambda c: c.astype(ids.dtype) + lo
    codes, uniq = pd.factorize(ids)
    order = np.argsort(uniq, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    uniq_sorted = np.asarray(uniq)[order]
    return rank[codes], 0, int(order.size), lambda c: uniq_sorted[c]


def ticks_per_day(dtype: np.dtype[Any]) -> int:
    """Number of ticks of a numpy ``datetime64`` dtype in one day.

    Examples
    --------
    >>> import numpy as np
    >>> ticks_per_day(np.dtype("datetime64[ns]")), ticks_per_day(np.dtype("datetime64[D]"))
    (86400000000000, 1)
    """
    unit, count = np.datetime_data(dtype)
    return int(np.timedelta64(1, "D").astype(f"timedelta64[{unit}]").view(np.int64)) // count


def prepare_log(
    transactions: Any,
    *,
    customer_col: str,
    date_col: str,
    amount_col: str | None,
    date_format: str | None,
    allow_negative: bool,
    observation_end: Any = None,
    what: str = "transactions",
    end_period: str | None = None,
) -> tuple[Any, pd.Timestamp, str | None]:
    """Validate a transaction log in one engine-side pass.

    Returns the frame (with ``date_col`` as a naive datetime), the observation end (the
    given one, or the last purchase date) and the time zone the dates had (None for
    naive dates). Timezone-aware dates are moved to their local wall time, so days,
    weeks and months are those of the data's own calendar on every engine; a
    timezone-aware ``observation_end`` is converted to that time zone first.

    Every check is counted in one aggregate (one read of a lazy engine's log); the
    query that fetches an example row runs only for a check that fails. With
    ``end_period`` ``"h"`` or ``"min"``, ``observation_end`` is an instant and the
    purchases in a later hour (minute) than the one holding it are refused too; without
    it the whole end day is inside.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": [1, 2], "date": ["2024-01-05", "2024-01-09"]})
    >>> frame, end, tz = prepare_log(tx, customer_col="customer_id", date_col="date",
    ...                              amount_col=None, date_format=None, allow_negative=False)
    >>> str(end), tz
    ('2024-01-09 00:00:00', None)
    """
    check_column_name(customer_col, "customer_col")
    check_column_name(date_col, "date_col")
    if amount_col is not None:
        check_column_name(amount_col, "amount_col")
    if observation_end is not None:  # the argument first; re-read in the data's zone below
        to_timestamp(observation_end, "observation_end")
    check_ids(transactions, customer_col, what=what)
    transactions = pandas_ready(transactions, [date_col], [amount_col] if amount_col else [])
    transactions, tz = pandas_wall_time(transactions, date_col)
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
    schema = frame.collect_schema()
    id_dtype = schema[customer_col]
    amount_dtype = schema[amount_col] if amount_col else None
    end = (
        None
        if observation_end is None
        else to_timestamp(observation_end, "observation_end", tz=tz or "UTC")
    )
    late = (
        [] if end is None else [count_true(_after_end(nw.col(date_col), end, dtype)).alias("late")]
    )
    after_period = _period_after(end, end_period, dtype)
    if after_period is not None:
        late.append(count_true(nw.col(date_col) >= nw.lit(after_period)).alias("late_period"))
    stats = None
    if isinstance(frame, nw.DataFrame):
        stats = _eager_stats(frame, customer_col, date_col, amount_col, end, after_period)
    stats = (
        stats
        or collect(
            frame.select(
                nw.len().alias("n"),
                nw.col(date_col).max().alias("max_date"),
                *late,
                count_true(missing(customer_col, id_dtype)).alias("null_id"),
                count_true(nw.col(date_col).is_null()).alias("null_date"),
                *(
                    [
                        count_true(missing(amount_col, amount_dtype)).alias("null_amount"),
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
            # a NaN amount is a missing one on every engine (pandas cannot tell them apart)
            check_not_null(frame, [amount_col], what=what, id_col=customer_col, nan_is_null=True)
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
        end = to_timestamp(stats["max_date"], "the last date", tz="UTC")
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
    elif stats.get("late_period"):
        first = collect(frame.filter(nw.col(date_col) >= nw.lit(after_period)).head(1))
        example = str(pd.Timestamp(first[date_col].item(0)))
        raise _late_period_error(date_col, int(stats["late_period"]), example)
    return frame, end, tz


def _period_after(end: pd.Timestamp | None, end_period: str | None, dtype: Any) -> Any:
    """The first instant after the hour (minute) holding ``end``; None when not checked.

    A column of dates (no times) cannot fall after that hour without falling after the
    end day, which the day check refuses first.
    """
    if end is None or end_period is None or dtype == nw.Date:
        return None
    step = pd.Timedelta(hours=1) if end_period == "h" else pd.Timedelta(minutes=1)
    return (end.floor(step) + step).to_pydatetime()


def _late_period_error(date_col: str, n_late: int, example: object) -> DataError:
    """The error for purchases in a sub-daily period after the one holding the end.

    The log validation admits the whole end day; with hours or minutes the end is the
    period holding the ``observation_end`` instant.

    Examples
    --------
    >>> _late_period_error("date", 2, "2024-01-02 11:00:00")  # doctest: +ELLIPSIS
    DataError("column 'date' falls in a period after the one holding observation_end in 2 ...
    """
    return DataError(
        bad_rows_message(
            date_col,
            "falls in a period after the one holding observation_end",
            n_late,
            example,
            "With period='h' or 'min' observation_end is an instant: give its time of "
            "day (e.g. '2024-01-31T23:59') or drop the later purchases first.",
        )
    )


def _eager_stats(
    frame: Any,
    customer_col: str,
    date_col: str,
    amount_col: str | None,
    end: Any,
    after_period: Any = None,
) -> dict[str, Any] | None:
    """The validation counts of :func:`prepare_log` straight from numpy views of an eager frame.

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
    if after_period is not None:
        first_after = np.datetime64(after_period)
        late = bad_dates or (hi is not None and hi >= first_after)
        stats["late_period"] = int(np.count_nonzero(dates >= first_after)) if late else 0
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


def _check_totals(frame: Any, customer_col: str, amount_col: str, what: str) -> None:
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


def _raise_first(
    frame: Any,
    mask: nw.Expr,
    column: str,
    problem: str,
    n_bad: int,
    customer_col: str,
    what: str,
    fix: str = "",
) -> None:
    first = collect(frame.filter(mask).select(customer_col, column).head(1)).rows(named=True)
    example: object = {k: _shown(v) for k, v in first[0].items()} if first else None
    raise DataError(f"{what}: " + bad_rows_message(column, problem, n_bad, example, fix))


def _shown(value: Any) -> Any:
    """A value of an example row as every engine shows it (date-times as pandas Timestamps).

    Examples
    --------
    >>> import datetime
    >>> _shown(datetime.datetime(2024, 1, 4, 23, 10))
    Timestamp('2024-01-04 23:10:00')
    """
    value = python_scalar(value)
    if isinstance(value, dt.datetime) and not isinstance(value, pd.Timestamp):
        return pd.Timestamp(value)
    return value
