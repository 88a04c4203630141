"""Helpers at the frame boundary: accept any dataframe through narwhals.

Inputs may be pandas, polars (eager or lazy), pyarrow, DuckDB, Dask or PySpark frames.
Aggregations are written as narwhals expressions so they run on the caller's engine;
only small aggregates are collected. Nothing here imports an optional engine.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeAlias

import narwhals.stable.v2 as nw
import pandas as pd

from crmmodels.errors import DataError, SchemaError, bad_rows_message, missing_column_message

__all__ = [
    "AnyFrame",
    "check_columns",
    "check_not_null",
    "collect",
    "count_rows",
    "count_true",
    "day_number",
    "is_lazy",
    "local_dates",
    "native_like",
    "python_scalar",
    "to_narwhals",
    "to_pandas",
    "to_timestamp",
]

AnyFrame: TypeAlias = "nw.DataFrame[Any] | nw.LazyFrame[Any]"

# days from 0001-01-01 to 1970-01-01 in the proleptic Gregorian calendar
_EPOCH_ORDINAL = 719162


def to_narwhals(data: Any, *, what: str = "input") -> nw.DataFrame[Any] | nw.LazyFrame[Any]:
    """Wrap a native dataframe (any supported engine) as a narwhals frame.

    Parameters
    ----------
    data : DataFrame-like
        pandas, polars, pyarrow, DuckDB, Dask or PySpark frame (or a narwhals frame).
    what : str, optional
        Name of the input, used in error messages.

    Returns
    -------
    narwhals.DataFrame or narwhals.LazyFrame

    Raises
    ------
    SchemaError
        If ``data`` is not a dataframe.

    Examples
    --------
    >>> import pandas as pd
    >>> to_narwhals(pd.DataFrame({"a": [1]})).columns
    ['a']
    """
    if isinstance(data, (nw.DataFrame, nw.LazyFrame)):
        return data
    try:
        frame: nw.DataFrame[Any] | nw.LazyFrame[Any] = nw.from_native(data)
    except TypeError as exc:
        raise SchemaError(
            f"{what} must be a dataframe (pandas, polars, pyarrow, DuckDB, Dask or PySpark); "
            f"got {type(data).__name__}."
        ) from exc
    return frame


def is_lazy(frame: nw.DataFrame[Any] | nw.LazyFrame[Any]) -> bool:
    """Return True when ``frame`` is lazy (polars LazyFrame, DuckDB, Dask, PySpark)."""
    return isinstance(frame, nw.LazyFrame)


def collect(frame: nw.DataFrame[Any] | nw.LazyFrame[Any]) -> nw.DataFrame[Any]:
    """Materialise a narwhals frame (a no-op for eager frames)."""
    if isinstance(frame, nw.LazyFrame):
        return frame.collect()
    return frame


def to_pandas(frame: nw.DataFrame[Any] | nw.LazyFrame[Any]) -> pd.DataFrame:
    """Collect a narwhals frame (of any engine) into pandas."""
    return collect(frame).to_pandas()


def native_like(frame: nw.DataFrame[Any] | nw.LazyFrame[Any]) -> Any:
    """Return the native object of the caller's engine behind ``frame``."""
    return nw.to_native(frame)


def count_rows(frame: nw.DataFrame[Any] | nw.LazyFrame[Any]) -> int:
    """Count rows engine-side."""
    out = collect(frame.select(nw.len()))
    return int(out.item(0, 0))


def python_scalar(value: Any) -> Any:
    """Turn numpy scalars into Python ones (for readable error messages)."""
    item = getattr(value, "item", None)
    return item() if callable(item) and not isinstance(value, (str, bytes)) else value


def count_true(expr: nw.Expr) -> nw.Expr:
    """Count the True values of a boolean expression (works on every backend).

    PySpark cannot sum booleans, so the expression is cast to an integer first.

    Examples
    --------
    >>> import pandas as pd
    >>> f = to_narwhals(pd.DataFrame({"a": [1, -2, -3]}))
    >>> int(f.select(count_true(nw.col("a") < 0)).item(0, 0))
    2
    """
    return expr.cast(nw.Int64).sum()


def check_columns(
    frame: nw.DataFrame[Any] | nw.LazyFrame[Any], columns: Sequence[str], *, what: str = "input"
) -> None:
    """Raise :class:`SchemaError` naming the first missing column (with a suggestion).

    Examples
    --------
    >>> import pandas as pd
    >>> f = to_narwhals(pd.DataFrame({"customerid": [1]}))
    >>> check_columns(f, ["customer_id"], what="tx")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    crmmodels.errors.SchemaError: tx has no column 'customer_id'. Did you mean 'customerid'? ...
    """
    available = list(frame.collect_schema().names())
    for col in columns:
        if col not in available:
            raise SchemaError(missing_column_message(col, available, what))


def check_not_null(
    frame: nw.DataFrame[Any] | nw.LazyFrame[Any],
    columns: Sequence[str],
    *,
    what: str = "input",
    id_col: str | None = None,
) -> None:
    """Raise :class:`DataError` if any of ``columns`` holds nulls (counted engine-side).

    The message names the column, the number of null rows and, when ``id_col`` is given,
    the id of the first offending row.
    """
    if not columns:
        return
    counts = collect(frame.select([count_true(nw.col(c).is_null()).alias(c) for c in columns]))
    for c in columns:
        n = int(counts[c].item(0) or 0)
        if n:
            example: object = "null"
            if id_col is not None and id_col != c:
                first = collect(frame.filter(nw.col(c).is_null()).select(id_col).head(1))
                if len(first):
                    example = f"{id_col}={python_scalar(first[id_col].item(0))!r}"
            raise DataError(f"{what}: " + bad_rows_message(c, "is null", n, example))


def day_number(expr: nw.Expr) -> nw.Expr:
    """Days since 1970-01-01 of a date/datetime expression, on every backend.

    Built from ``dt.year()`` and ``dt.ordinal_day()`` so it works where narwhals has no
    ``dt.timestamp`` (PySpark). Times of day are dropped (floor to the calendar day).
    """
    y = expr.dt.year().cast(nw.Int64) - 1
    days_before_year = y * 365 + y // 4 - y // 100 + y // 400
    return days_before_year + expr.dt.ordinal_day().cast(nw.Int64) - 1 - _EPOCH_ORDINAL


def local_dates(frame: Any, date_col: str) -> Any:
    """Drop the time zone of a timezone-aware date column, keeping the local wall time.

    Days, weeks and months are then those of the local calendar on every engine.

    Examples
    --------
    >>> import narwhals.stable.v2 as nw
    >>> import pandas as pd
    >>> d = pd.to_datetime(["2024-01-31 23:30"]).tz_localize("Europe/Paris")
    >>> local = local_dates(nw.from_native(pd.DataFrame({"d": d})), "d")
    >>> str(local["d"].to_native().iloc[0])
    '2024-01-31 23:30:00'
    """
    dtype = frame.collect_schema()[date_col]
    if isinstance(dtype, nw.Datetime) and dtype.time_zone is not None:
        return frame.with_columns(nw.col(date_col).dt.replace_time_zone(None))
    return frame


def to_timestamp(value: Any, name: str, tz: str | None = None) -> pd.Timestamp:
    """Parse a date argument to a naive timestamp, raising :class:`DataError` if it fails.

    Dates are compared on the local calendar of the data (see :func:`local_dates`). A
    timezone-aware argument is first converted to the data's time zone ``tz`` when the
    data have one, then its wall time is kept; a naive argument is taken as wall time.

    Examples
    --------
    >>> to_timestamp("2024-02-01 00:30+01:00", "as_of", tz="Europe/Paris")
    Timestamp('2024-02-01 00:30:00')
    >>> to_timestamp("2024-02-01 00:30+01:00", "as_of", tz="UTC")
    Timestamp('2024-01-31 23:30:00')
    """
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        raise DataError(f"{name} must be a date; could not parse {value!r}.") from exc
    if pd.isna(ts):
        raise DataError(f"{name} must be a date; got a missing value.")
    if ts.tzinfo is not None:
        ts = (ts.tz_convert(tz) if tz is not None else ts).tz_localize(None)
    return ts
