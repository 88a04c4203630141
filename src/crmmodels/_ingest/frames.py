"""Helpers at the frame boundary: accept any dataframe through narwhals.

Inputs may be pandas, polars (eager or lazy), pyarrow, DuckDB, Dask or PySpark frames.
Aggregations are written as narwhals expressions so they run on the caller's engine;
only small aggregates are collected. Nothing here imports an optional engine.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeAlias

import narwhals.stable.v2 as nw
import numpy as np
import pandas as pd

from crmmodels.errors import (
    DataError,
    SchemaError,
    bad_rows_message,
    missing_column_message,
)

__all__ = [
    "AnyFrame",
    "check_columns",
    "check_ids",
    "check_not_null",
    "collect",
    "count_rows",
    "count_true",
    "day_number",
    "is_lazy",
    "like_input",
    "local_dates",
    "missing",
    "native_like",
    "numeric_amounts",
    "pandas_ready",
    "python_scalar",
    "to_narwhals",
    "to_pandas",
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


def like_input(frame: nw.DataFrame[Any] | nw.LazyFrame[Any], result: pd.DataFrame) -> Any:
    """Return the pandas ``result`` as a native frame of the same kind as ``frame``.

    Eager inputs give the same eager kind; lazy inputs (polars, DuckDB, Dask, PySpark)
    give a lazy frame of the same engine.

    Examples
    --------
    >>> import pandas as pd, polars as pl
    >>> out = like_input(to_narwhals(pl.DataFrame({"a": [1]})), pd.DataFrame({"b": [2]}))
    >>> type(out).__name__, out["b"].to_list()
    ('DataFrame', [2])
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
            message = missing_column_message(col, available, what)
            if any(not isinstance(name, str) for name in available):
                message += (
                    " Its column names are not all text: name the columns with text first, "
                    "e.g. df.columns = [str(c) for c in df.columns]."
                )
            raise SchemaError(message)


def check_not_null(
    frame: nw.DataFrame[Any] | nw.LazyFrame[Any],
    columns: Sequence[str],
    *,
    what: str = "input",
    id_col: str | None = None,
    nan_is_null: bool = False,
) -> None:
    """Raise :class:`DataError` if any of ``columns`` holds nulls (counted engine-side).

    The message names the column, the number of null rows and, when ``id_col`` is given,
    the id of the first offending row. With ``nan_is_null`` a NaN in a float column is
    a missing value too (pandas counts it as null, polars and the SQL engines do not).

    Examples
    --------
    >>> import polars as pl
    >>> f = to_narwhals(pl.DataFrame({"customer_id": [1.0, float("nan")]}))
    >>> check_not_null(f, ["customer_id"], nan_is_null=True)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    crmmodels.errors.DataError: input: column 'customer_id' is null in 1 row ...
    """
    if not columns:
        return
    schema = frame.collect_schema()
    masks = {c: missing(c, schema[c]) if nan_is_null else nw.col(c).is_null() for c in columns}
    counts = collect(frame.select([count_true(masks[c]).alias(c) for c in columns]))
    for c in columns:
        n = int(counts[c].item(0) or 0)
        if n:
            example: object = "null"
            if id_col is not None and id_col != c:
                first = collect(frame.filter(masks[c]).select(id_col).head(1))
                if len(first):
                    example = f"{id_col}={python_scalar(first[id_col].item(0))!r}"
            elif nan_is_null and schema[c].is_float():  # a NaN or a null
                value = _first_value(frame, masks[c], c)
                example = "null" if value is None else value
            fix = "A NaN counts as a missing value." if nan_is_null and schema[c].is_float() else ""
            raise DataError(f"{what}: " + bad_rows_message(c, "is null", n, example, fix))


def missing(column: str, dtype: Any) -> nw.Expr:
    """True for the missing values of a column: nulls, and NaN in a float column.

    Examples
    --------
    >>> import polars as pl
    >>> f = to_narwhals(pl.DataFrame({"a": [1.0, float("nan"), None]}))
    >>> f.select(missing("a", f.schema["a"]))["a"].to_list()
    [False, True, True]
    """
    expr = nw.col(column).is_null()
    if dtype.is_float():
        expr = expr | nw.col(column).is_nan().fill_null(value=False)
    return expr


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


def pandas_ready(data: Any, date_cols: Sequence[str] = (), amount_cols: Sequence[str] = ()) -> Any:
    """Convert pandas object columns that hold dates or decimals; other inputs pass through.

    A pandas column of ``datetime.date`` / ``datetime.datetime`` objects becomes a
    datetime column and a column of ``decimal.Decimal`` values becomes float, in a new
    frame (the caller's frame is not modified). Timezone-aware datetime objects keep
    their zone.

    Examples
    --------
    >>> import datetime, decimal
    >>> import pandas as pd
    >>> df = pd.DataFrame({"d": [datetime.date(2024, 1, 5)], "a": [decimal.Decimal("1.5")]})
    >>> out = pandas_ready(df, ["d"], ["a"])
    >>> str(out["d"].dtype), str(out["a"].dtype), str(df["d"].dtype)
    ('datetime64[us]', 'float64', 'object')
    """
    if not isinstance(data, pd.DataFrame):
        return data
    changes: dict[str, Any] = {}
    for col in date_cols:
        if col in data.columns and data[col].dtype == object:
            kind = pd.api.types.infer_dtype(data[col], skipna=True)
            if kind in ("date", "datetime", "datetime64"):
                try:
                    changes[col] = pd.to_datetime(data[col]).dt.as_unit("us")
                except (ValueError, TypeError) as exc:  # mixed zones, out of range
                    raise DataError(
                        f"column '{col}' holds date objects that cannot be read as one "
                        f"datetime column ({type(exc).__name__}: {_first_line(exc)}). Give "
                        "every value the same time zone (or none)."
                    ) from exc
    for col in amount_cols:
        if (
            col in data.columns
            and data[col].dtype == object
            and pd.api.types.infer_dtype(data[col], skipna=True) == "decimal"
        ):
            changes[col] = data[col].astype(np.float64)
    return data.assign(**changes) if changes else data


def _first_line(exc: BaseException) -> str:
    """The first line of an engine's message, without pandas' cut-off suggestion list."""
    text = str(exc).strip()
    line = text.splitlines()[0] if text else type(exc).__name__
    return line.split(". You might want to try:")[0].rstrip(".:")


def _first_value(frame: Any, mask: nw.Expr, column: str) -> Any:
    first = collect(frame.filter(mask).select(column).head(1))
    return python_scalar(first[column].item(0)) if len(first) else None


_AMOUNT_FIX = (
    "Convert the text to numbers first, removing currency symbols and thousands "
    "separators, e.g. in pandas: df[{c!r}] = df[{c!r}].str.replace(r'[^0-9.-]', '', "
    "regex=True).astype(float); in polars: df.with_columns(pl.col({c!r})"
    ".str.replace_all(r'[^0-9.-]', '').cast(pl.Float64))."
)


def numeric_amounts(frame: Any, amount_col: str, *, what: str = "input") -> Any:
    """Return ``frame`` with a numeric ``amount_col``: decimals become floats.

    Raises
    ------
    SchemaError
        The column is not numeric; for text the message shows how to convert it.

    Examples
    --------
    >>> import pandas as pd
    >>> f = to_narwhals(pd.DataFrame({"amount": ["$1,234.50"]}))
    >>> numeric_amounts(f, "amount", what="tx")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    crmmodels.errors.SchemaError: tx: column 'amount' must be numeric; its type is String. ...
    """
    dtype = frame.collect_schema()[amount_col]
    if dtype == nw.Decimal:
        return frame.with_columns(nw.col(amount_col).cast(nw.Float64))
    if dtype.is_numeric() and dtype != nw.Boolean:
        return frame
    fix = (
        _AMOUNT_FIX.format(c=amount_col)
        if dtype == nw.String
        else "Convert it to float first, e.g. df[col].astype(float)."
    )
    raise SchemaError(f"{what}: column '{amount_col}' must be numeric; its type is {dtype}. {fix}")


def check_ids(data: Any, customer_col: str, *, what: str = "input") -> None:
    """Refuse a pandas id column that mixes value types (``[1, "1"]``).

    Ids of one customer must compare equal, and ids are sorted; numbers and text
    cannot be. Only pandas (and pandas-like object columns) can hold such a mix.

    Examples
    --------
    >>> import pandas as pd
    >>> check_ids(pd.DataFrame({"cid": [1, "1"]}), "cid", what="tx")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    crmmodels.errors.SchemaError: tx: column 'cid' mixes value types ...
    """
    if not isinstance(data, pd.DataFrame) or customer_col not in data.columns:
        return
    ids = data[customer_col]
    if ids.dtype != object:
        return
    kind = pd.api.types.infer_dtype(ids, skipna=True)
    if not kind.startswith("mixed"):
        return
    types = ids.dropna().map(lambda v: type(v).__name__)
    counts = types.value_counts()
    rare = counts.index[-1]
    example = python_scalar(ids.dropna()[(types == rare).to_numpy()].iloc[0])
    parts = ", ".join(f"{n} {t}" for t, n in counts.items())
    raise SchemaError(
        f"{what}: column '{customer_col}' mixes value types ({parts}; first {rare} value: "
        f"{example!r}). The ids of one customer must all have one type: convert the column, "
        f"e.g. df[{customer_col!r}] = df[{customer_col!r}].astype(str)."
    )
