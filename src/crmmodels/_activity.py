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

from collections.abc import Callable
from typing import Any, Literal

import narwhals.stable.v2 as nw
import numpy as np
import numpy.typing as npt
import pandas as pd

from crmmodels._frames import day_number
from crmmodels.errors import ArgumentError

__all__ = [
    "PERIODS",
    "RetentionPeriod",
    "check_period",
    "customer_codes",
    "local_log",
    "numpy_period_index",
    "period_index",
    "period_labels",
    "scalar_period_index",
    "ticks_per_day",
    "time_zone",
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
        raise ArgumentError(f"period must be one of {known}; got {period!r}.")
    return period


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
    from crmmodels.transactions import _prepare

    frame, last, tz = _prepare(
        transactions,
        customer_col=customer_col,
        date_col=date_col,
        amount_col=amount_col,
        date_format=date_format,
        allow_negative=True,
        what="transactions",
    )
    return frame, last, tz


def period_index(dates: nw.Expr, period: str) -> nw.Expr:
    """Integer period number of a date expression (engine-side).

    Examples
    --------
    >>> import narwhals.stable.v2 as nw
    >>> import pandas as pd
    >>> frame = nw.from_native(pd.DataFrame({"d": pd.to_datetime(["2024-01-31", "2024-02-01"])}))
    >>> frame.select(period_index(nw.col("d"), "M"))["d"].to_list()
    [24288, 24289]
    """
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


def numpy_period_index(dates: npt.NDArray[Any], period: str) -> npt.NDArray[np.int64]:
    """The numbering of :func:`period_index` for a numpy ``datetime64`` array.

    Days are taken by integer floor division; months and quarters are looked up in a
    small table over the range of days (much faster than numpy's calendar casts).

    Examples
    --------
    >>> import numpy as np
    >>> dates = np.array(["2024-01-31", "2024-04-01"], dtype="datetime64[ns]")
    >>> numpy_period_index(dates, "Q").tolist(), numpy_period_index(dates, "W").tolist()
    ([8096, 8097], [2822, 2831])
    """
    per_day = ticks_per_day(dates.dtype)
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
    """The numbering of :func:`period_index` for one timestamp.

    Examples
    --------
    >>> import pandas as pd
    >>> scalar_period_index(pd.Timestamp("2024-02-15"), "M")
    24289
    """
    return int(numpy_period_index(np.array([date.to_datetime64()]), period)[0])


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
    elif period == "W":
        ordinals = idx + 1
    else:
        ordinals = idx
    out: pd.PeriodIndex = pd.PeriodIndex.from_ordinals(  # type: ignore[attr-defined]
        ordinals, freq=_PANDAS_FREQ[period]
    )
    return out
