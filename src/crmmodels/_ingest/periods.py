"""Periods and time units: the one vocabulary of the library, and the calendar numbering.

Every argument that names a length of time (``period`` for a grid of calendar periods,
``time_unit`` for the unit a model counts in, ``cohort`` for entry cohorts) takes the same
values:

========  ====================================  ==========================
Value     Meaning                               Average length in days
========  ====================================  ==========================
``"D"``   calendar day                          1
``"W"``   week, Monday to Sunday                7
``"M"``   calendar month                        30.4375 (365.25 / 12)
``"Q"``   calendar quarter                      91.3125 (365.25 / 4)
``"Y"``   calendar year                         365.25
``"h"``   hour of the clock                     1 / 24
``"min"`` minute of the clock                   1 / 1440
``n``     a whole number of days (``14``)       n
========  ====================================  ==========================

The plural words ``"days"``, ``"weeks"``, ``"months"``, ``"quarters"``, ``"years"``,
``"hours"`` and ``"minutes"`` are read as the codes (a model saved with
``time_unit="weeks"`` loads as ``"W"``); ``"H"`` and ``"hour"`` are read as ``"h"``.

Hours and minutes (the sub-daily codes) serve the customer summary and the models' time
unit; calendar grids (cohorts, retention, funnels) take the five calendar codes only
(:func:`check_period_code`).

Periods are numbered by integers so that consecutive periods differ by one:

* ``"D"``: days since 1970-01-01; ``n`` days: ``day // n``;
* ``"W"``: weeks running Monday to Sunday (week 0 starts on Monday 1969-12-29);
* ``"M"``: ``year * 12 + month - 1``;
* ``"Q"``: ``year * 4 + quarter - 1``;
* ``"Y"``: the year;
* ``"h"``: hours since 1970-01-01 00:00, ``"min"``: minutes since then.

All dates are read on the data's local calendar (see :mod:`crmmodels._ingest.log`):
hours and minutes are those of the wall clock. Around a daylight-saving change the local
clock repeats or skips an hour, so the purchases of the repeated hour share one period
and the skipped hour is an empty period; convert the dates to UTC first to count
elapsed hours instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal, overload

import narwhals.stable.v2 as nw
import numpy as np
import numpy.typing as npt
import pandas as pd

from crmmodels._ingest.frames import day_number
from crmmodels.errors import ArgumentError

__all__ = [
    "CALENDAR_CODES",
    "PERIODS",
    "SUBDAILY_CODES",
    "AnyPeriod",
    "Period",
    "PeriodCode",
    "SubdailyCode",
    "check_period",
    "check_period_code",
    "is_calendar",
    "numpy_period_index",
    "period_days",
    "period_index",
    "period_labels",
    "periods_per_day",
    "scalar_period_index",
    "unit_name",
]

PeriodCode = Literal["D", "W", "M", "Q", "Y"]
#: an hour or a minute of the wall clock (accepted where ``subdaily=True``)
SubdailyCode = Literal["h", "min"]
#: a period code or a whole number of days
Period = PeriodCode | int
#: a period code, a sub-daily code or a whole number of days
AnyPeriod = PeriodCode | SubdailyCode | int

PERIODS: dict[str, str] = {
    "D": "calendar day",
    "W": "week, Monday to Sunday",
    "M": "calendar month",
    "Q": "calendar quarter",
    "Y": "calendar year",
    "h": "hour",
    "min": "minute",
}
#: the codes whose periods have unequal lengths in days
CALENDAR_CODES = ("M", "Q", "Y")
#: the codes shorter than a day (periods of the wall clock)
SUBDAILY_CODES = ("h", "min")
_GRID_CODES = ("D", "W", "M", "Q", "Y")
_DAYS = {
    "D": 1.0,
    "W": 7.0,
    "M": 365.25 / 12,
    "Q": 365.25 / 4,
    "Y": 365.25,
    "h": 1.0 / 24,
    "min": 1.0 / 1440,
}
_PER_DAY = {"h": 24, "min": 1440}
_NAMES = {
    "D": "days",
    "W": "weeks",
    "M": "months",
    "Q": "quarters",
    "Y": "years",
    "h": "hours",
    "min": "minutes",
}
_WORDS = {name: code for code, name in _NAMES.items()} | {
    "h": "h",
    "hour": "h",
    "min": "min",
    "minute": "min",
}
_PANDAS_FREQ = {
    "D": "D",
    "W": "W-SUN",
    "M": "M",
    "Q": "Q-DEC",
    "Y": "Y-DEC",
    "h": "h",
    "min": "min",
}
# the longest whole-number period: about 27 centuries, beyond any date of the data
MAX_PERIOD_DAYS = 1_000_000


def _choices(codes: Iterable[str], days: bool) -> str:
    listed = [f"'{c}' ({PERIODS[c]})" for c in codes]
    if days:
        listed.append("a whole number of days such as 14")
    return ", ".join(listed[:-1]) + f" or {listed[-1]}" if len(listed) > 1 else listed[0]


@overload
def check_period(
    value: Any,
    name: str = ...,
    *,
    codes: Iterable[str] = ...,
    days: bool = ...,
    subdaily: Literal[False] = ...,
) -> Period: ...


@overload
def check_period(
    value: Any,
    name: str = ...,
    *,
    codes: Iterable[str] = ...,
    days: bool = ...,
    subdaily: Literal[True],
) -> AnyPeriod: ...


def check_period(
    value: Any,
    name: str = "period",
    *,
    codes: Iterable[str] = _GRID_CODES,
    days: bool = True,
    subdaily: bool = False,
) -> AnyPeriod:
    """Return ``value`` as a period of the vocabulary; raise :class:`ArgumentError` otherwise.

    Parameters
    ----------
    value : str or int
        A code (``"D"``, ``"W"``, ``"M"``, ``"Q"``, ``"Y"``, ``"h"``, ``"min"``), its
        plural word (``"weeks"``, ``"hours"``) or a whole number of days.
    name : str
        Argument name for the error message.
    codes : iterable of str
        The codes this argument accepts (default: the five calendar codes).
    days : bool
        Whether a whole number of days is accepted.
    subdaily : bool
        Whether hours and minutes (``"h"``, ``"min"``) are accepted as well.

    Examples
    --------
    >>> check_period("M"), check_period("weeks", "time_unit"), check_period(14)
    ('M', 'W', 14)
    >>> check_period("H", subdaily=True), check_period("minutes", subdaily=True)
    ('h', 'min')
    >>> check_period("X", codes=("D", "W"))
    Traceback (most recent call last):
    ...
    crmmodels.errors.ArgumentError: period must be 'D' (calendar day), 'W' (week, Monday \
to Sunday) or a whole number of days such as 14; got 'X'.
    """
    allowed = tuple(codes) + (SUBDAILY_CODES if subdaily else ())
    if isinstance(value, str):
        code = _WORDS.get(value.strip().lower(), value.strip().upper())
        if code in allowed:
            return code  # type: ignore[return-value]
    elif (
        days
        and isinstance(value, (int, np.integer))
        and not isinstance(value, (bool, np.bool_))
        and 1 <= int(value) <= MAX_PERIOD_DAYS
    ):
        return int(value)
    raise ArgumentError(f"{name} must be {_choices(allowed, days)}; got {value!r}.")


def check_period_code(value: Any, name: str = "period") -> PeriodCode:
    """:func:`check_period` for calendar grids: a calendar code only (no hours, no days).

    Examples
    --------
    >>> check_period_code("quarters")
    'Q'
    """
    code = check_period(value, name, days=False)
    assert isinstance(code, str)
    return code


def is_calendar(period: AnyPeriod) -> bool:
    """Whether the periods have unequal lengths (months, quarters, years).

    Examples
    --------
    >>> is_calendar("M"), is_calendar("W"), is_calendar(14)
    (True, False, False)
    """
    return isinstance(period, str) and period in CALENDAR_CODES


def period_days(period: AnyPeriod) -> float:
    """Length of a period in days (the average length for months, quarters and years).

    Examples
    --------
    >>> period_days("W"), period_days("Y"), period_days(14)
    (7.0, 365.25, 14.0)
    """
    if isinstance(period, str):
        return _DAYS[period]
    return float(period)


def unit_name(period: str | int | None) -> str:
    """Readable plural name of a period (``"W"`` is ``"weeks"``; None is ``"periods"``).

    Examples
    --------
    >>> unit_name("W"), unit_name("h"), unit_name(14), unit_name(1), unit_name(None)
    ('weeks', 'hours', '14-day periods', 'days', 'periods')
    """
    if period is None:
        return "periods"
    if isinstance(period, str):
        return _NAMES.get(period, period)
    return "days" if period == 1 else f"{period}-day periods"


def period_index(dates: nw.Expr, period: str | int) -> nw.Expr:
    """Integer period number of a date expression (engine-side).

    Examples
    --------
    >>> import narwhals.stable.v2 as nw
    >>> import pandas as pd
    >>> frame = nw.from_native(pd.DataFrame({"d": pd.to_datetime(["2024-01-31", "2024-02-01"])}))
    >>> frame.select(period_index(nw.col("d"), "M"))["d"].to_list()
    [24288, 24289]
    """
    if period == "Y":
        return dates.dt.year().cast(nw.Int64)
    if period in SUBDAILY_CODES:
        hours = day_number(dates) * 24 + dates.dt.hour().cast(nw.Int64)
        return hours if period == "h" else hours * 60 + dates.dt.minute().cast(nw.Int64)
    if period == "M":
        return dates.dt.year().cast(nw.Int64) * 12 + dates.dt.month().cast(nw.Int64) - 1
    if period == "Q":
        return (
            dates.dt.year().cast(nw.Int64) * 4 + (dates.dt.month().cast(nw.Int64) - 1) // 3
        ).cast(nw.Int64)
    days = day_number(dates)
    if period == "W":
        return (days + 3) // 7
    if isinstance(period, int) and period > 1:
        return days // period
    return days


def numpy_period_index(dates: npt.NDArray[Any], period: str | int) -> npt.NDArray[np.int64]:
    """The numbering of :func:`period_index` for a numpy ``datetime64`` array.

    Days are taken by integer floor division; months, quarters and years are looked up in
    a small table over the range of days (much faster than numpy's calendar casts).

    Examples
    --------
    >>> import numpy as np
    >>> dates = np.array(["2024-01-31", "2024-04-01"], dtype="datetime64[ns]")
    >>> numpy_period_index(dates, "Q").tolist(), numpy_period_index(dates, "W").tolist()
    ([8096, 8097], [2822, 2831])
    >>> numpy_period_index(np.array(["1970-01-02T01:30"], dtype="datetime64[ns]"), "h").tolist()
    [25]
    """
    if period in SUBDAILY_CODES:
        return np.asarray(
            dates.astype(f"datetime64[{'h' if period == 'h' else 'm'}]"), dtype=np.int64
        )
    unit, count = np.datetime_data(dates.dtype)
    per_day = int(np.timedelta64(1, "D").astype(f"timedelta64[{unit}]").view(np.int64)) // count
    raw = dates.view(np.int64)
    days = raw // per_day if per_day > 1 else raw.astype(np.int64)
    if period == "D" or period == 1:
        return days
    if period == "W":
        return (days + 3) // 7
    if isinstance(period, int):
        return days // period
    if days.size == 0:
        return days
    lo, hi = int(days.min()), int(days.max())
    table = np.arange(lo, hi + 1, dtype=np.int64).astype("datetime64[D]")
    months = table.astype("datetime64[M]").view(np.int64) + 1970 * 12
    if period == "Q":
        months = (months // 12) * 4 + (months % 12) // 3
    elif period == "Y":
        months = months // 12
    return months[days - lo]


def scalar_period_index(date: pd.Timestamp, period: str | int) -> int:
    """The numbering of :func:`period_index` for one timestamp.

    Examples
    --------
    >>> import pandas as pd
    >>> scalar_period_index(pd.Timestamp("2024-02-15"), "M")
    24289
    """
    return int(numpy_period_index(np.array([date.to_datetime64()]), period)[0])


def periods_per_day(period: str) -> int:
    """Number of sub-daily periods in a day (24 hours, 1440 minutes).

    Examples
    --------
    >>> periods_per_day("h"), periods_per_day("min")
    (24, 1440)
    """
    return _PER_DAY[period]


def period_labels(index: npt.NDArray[np.int64], period: str) -> pd.PeriodIndex:
    """Pandas periods for period numbers (weeks are ``W-SUN``: Monday to Sunday).

    Examples
    --------
    >>> import numpy as np
    >>> period_labels(np.array([24288, 24289]), "M").astype(str).tolist()
    ['2024-01', '2024-02']
    """
    idx = np.asarray(index, dtype=np.int64)
    if period == "M":
        ordinals = idx - 1970 * 12
    elif period == "Q":
        ordinals = idx - 1970 * 4
    elif period == "Y":
        ordinals = idx - 1970
    elif period == "W":
        ordinals = idx + 1
    else:
        ordinals = idx
    out: pd.PeriodIndex = pd.PeriodIndex.from_ordinals(  # type: ignore[attr-defined]
        ordinals, freq=_PANDAS_FREQ[period]
    )
    return out
