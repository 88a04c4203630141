"""Shared helpers of the lifecycle and retention analyses: calendar periods and validation.

Periods are numbered by integers so that consecutive periods differ by one:

* ``"D"``: days since 1970-01-01;
* ``"W"``: weeks running Monday to Sunday (week 0 starts on Monday 1969-12-29);
* ``"M"``: ``year * 12 + month - 1``;
* ``"Q"``: ``year * 4 + quarter - 1``.

The numbering is computed engine-side from ``dt.year()``, ``dt.month()`` and
:func:`crmmodels._frames.day_number`, so it runs on every backend.
"""

from __future__ import annotations

from typing import Any, Literal

import narwhals.stable.v2 as nw
import numpy as np
import numpy.typing as npt
import pandas as pd

from crmmodels._frames import day_number
from crmmodels.errors import DataError

__all__ = [
    "PERIODS",
    "RetentionPeriod",
    "check_period",
    "local_dates",
    "numpy_period_index",
    "period_index",
    "period_labels",
    "scalar_period_index",
    "to_timestamp",
]

RetentionPeriod = Literal["D", "W", "M", "Q"]
PERIODS: dict[str, str] = {
    "D": "calendar day",
    "W": "week, Monday to Sunday",
    "M": "calendar month",
    "Q": "calendar quarter",
}
_PANDAS_FREQ = {"D": "D", "W": "W-SUN", "M": "M", "Q": "Q-DEC"}


def check_period(period: Any) -> str:
    """Return ``period`` if it is one of ``"D"``, ``"W"``, ``"M"``, ``"Q"``; raise otherwise.

    Examples
    --------
    >>> check_period("M")
    'M'
    """
    if not isinstance(period, str) or period not in PERIODS:
        known = ", ".join(f"'{k}' ({v})" for k, v in PERIODS.items())
        raise DataError(f"period must be one of {known}; got {period!r}.")
    return period


def local_dates(frame: Any, date_col: str) -> Any:
    """Drop the time zone of a timezone-aware date column, keeping the local wall time.

    Days, weeks and months are then those of the local calendar on every engine.
    """
    dtype = frame.collect_schema()[date_col]
    if isinstance(dtype, nw.Datetime) and dtype.time_zone is not None:
        return frame.with_columns(nw.col(date_col).dt.replace_time_zone(None))
    return frame


def period_index(dates: nw.Expr, period: str) -> nw.Expr:
    """Integer period number of a date expression (engine-side)."""
    if period == "M":
        return dates.dt.year().cast(nw.Int64) * 12 + dates.dt.month().cast(nw.Int64) - 1
    if period == "Q":
        return (
            dates.dt.year().cast(nw.Int64) * 4 + (dates.dt.month().cast(nw.Int64) - 1) // 3
        ).cast(nw.Int64)
    days = day_number(dates)
    if period == "W":
        return (days + 3) // 7
    return days


def numpy_period_index(dates: npt.NDArray[Any], period: str) -> npt.NDArray[np.int64]:
    """The numbering of :func:`period_index` for a numpy ``datetime64`` array.

    Days are taken by integer floor division; months and quarters are looked up in a
    small table over the range of days (much faster than numpy's calendar casts).
    """
    unit, count = np.datetime_data(dates.dtype)
    per_day = int(np.timedelta64(1, "D").astype(f"timedelta64[{unit}]").view(np.int64)) // count
    raw = dates.view(np.int64)
    days = raw // per_day if per_day > 1 else raw.astype(np.int64)
    if period == "D":
        return days
    if period == "W":
        return (days + 3) // 7
    if days.size == 0:
        return days
    lo, hi = int(days.min()), int(days.max())
    table = np.arange(lo, hi + 1, dtype=np.int64).astype("datetime64[D]")
    months = table.astype("datetime64[M]").view(np.int64) + 1970 * 12
    if period == "Q":
        months = (months // 12) * 4 + (months % 12) // 3
    return months[days - lo]


def scalar_period_index(date: pd.Timestamp, period: str) -> int:
    """The numbering of :func:`period_index` for one timestamp."""
    return int(numpy_period_index(np.array([date.to_datetime64()]), period)[0])


def period_labels(index: npt.NDArray[np.int64], period: str) -> pd.PeriodIndex:
    """Pandas periods for period numbers (weeks are ``W-SUN``: Monday to Sunday)."""
    idx = np.asarray(index, dtype=np.int64)
    if period == "M":
        ordinals = idx - 1970 * 12
    elif period == "Q":
        ordinals = idx - 1970 * 4
    elif period == "W":
        ordinals = idx + 1
    else:
        ordinals = idx
    out: pd.PeriodIndex = pd.PeriodIndex.from_ordinals(  # type: ignore[attr-defined]
        ordinals, freq=_PANDAS_FREQ[period]
    )
    return out


def to_timestamp(value: Any, name: str) -> pd.Timestamp:
    """Parse a date argument, raising :class:`DataError` with the argument name."""
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        raise DataError(f"{name} must be a date; could not parse {value!r}.") from exc
    if pd.isna(ts):
        raise DataError(f"{name} must be a date; got a missing value.")
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return ts
