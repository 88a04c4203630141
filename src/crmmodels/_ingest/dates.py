"""Dates at the public boundary: the one date parser of the library.

Text dates are read the same way on every engine: ISO 8601 by default, any other layout
only with ``date_format``; date arguments (``observation_end``, ``calibration_end``,
``as_of``) go through :func:`to_timestamp`. Both read dates on the local calendar of the
data (the wall time as written).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import narwhals.stable.v2 as nw
import numpy as np
import pandas as pd

from crmmodels._ingest.frames import (
    _first_line,
    _first_value,
    collect,
    count_true,
    pandas_ready,
    to_pandas,
)
from crmmodels.errors import ArgumentError, DataError, SchemaError, bad_rows_message

__all__ = ["ISO_DATE", "date_parse_error", "parse_dates", "to_timestamp"]

# ISO 8601 dates and date-times: date, optional time (minutes, seconds, fraction), optional zone
ISO_DATE = (
    r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?$"
)
_ISO_PARTS = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?P<sec>:\d{2})?(?:\.\d+)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?"
)
_ZONE = r"(?:Z|[+-]\d{2}(?::?\d{2})?)?$"
_DATE_FIX = (
    "Write the dates as ISO 8601 (YYYY-MM-DD, optionally with a time such as "
    "YYYY-MM-DD HH:MM:SS) or pass date_format= with their layout, e.g. "
    "date_format='%d/%m/%Y' for day first or '%m/%d/%Y' for month first."
)
# the range of nanosecond timestamps, a day inside on each side
_FIRST_DAY = pd.Timestamp("1677-09-23")
_LAST_DAY = pd.Timestamp("2262-04-10")


def _iso_layout(example: str) -> tuple[str, int, str] | None:
    """``(regex, length, strftime)`` of the ISO layout of ``example``; None if not ISO.

    The fraction of a second and the zone offset are left out of the parsed prefix:
    a written offset is not applied, the wall time as written is kept (the local
    calendar of the data, as for timezone-aware columns).
    """
    m = _ISO_PARTS.fullmatch(example)
    if m is None:
        return None
    if len(example) == 10 or example[10] not in "T ":
        return r"^\d{4}-\d{2}-\d{2}" + _ZONE, 10, "%Y-%m-%d"
    time = r"[T ]\d{2}:\d{2}"
    if m.group("sec"):
        return r"^\d{4}-\d{2}-\d{2}" + time + r":\d{2}(?:\.\d+)?" + _ZONE, 19, "%Y-%m-%d %H:%M:%S"
    return r"^\d{4}-\d{2}-\d{2}" + time + _ZONE, 16, "%Y-%m-%d %H:%M"


def _iso_prefix(expr: nw.Expr, length: int) -> nw.Expr:
    """The date-time part of ISO strings, with a space between date and time."""
    return expr.str.replace_all("T", " ", literal=True).str.slice(0, length)


def parse_dates(
    frame: Any, date_col: str, *, date_format: str | None = None, what: str = "input"
) -> Any:
    """Return ``frame`` with ``date_col`` as dates: the one date parser of the library.

    Datetime and date columns pass through. Text is read the same way on every engine:
    ISO 8601 (``YYYY-MM-DD``, optionally with ``T`` or a space and ``HH:MM`` or
    ``HH:MM:SS``, a fraction of a second and a zone offset) by default, any other layout
    only with ``date_format`` (a strftime layout such as ``"%d/%m/%Y"``). The zone
    offset of ISO text is not applied: the wall time as written is kept, the local
    calendar of the data; the fraction of a second is dropped. An offset read with
    ``%z`` in ``date_format`` gives instants in UTC (the engines' own reading).

    Parameters
    ----------
    frame : narwhals DataFrame or LazyFrame
    date_col : str
        The date column.
    date_format : str, optional
        strftime layout of text dates.
    what : str
        Name of the input, for messages.

    Returns
    -------
    narwhals DataFrame or LazyFrame

    Raises
    ------
    SchemaError
        The column holds neither dates nor text.
    DataError
        Text that is not ISO 8601 (without ``date_format``), that mixes ISO layouts, or
        that does not match ``date_format``: with the number of rows and an example.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmmodels._ingest.frames import to_narwhals
    >>> f = to_narwhals(pd.DataFrame({"d": ["2024-01-05", "2024-02-03"]}))
    >>> parse_dates(f, "d")["d"].to_list()
    [Timestamp('2024-01-05 00:00:00'), Timestamp('2024-02-03 00:00:00')]
    >>> f = to_narwhals(pd.DataFrame({"d": ["05/01/2024", "2024-02-03"]}))
    >>> parse_dates(f, "d", what="tx")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    crmmodels.errors.DataError: tx: column 'd' is not an ISO 8601 date in 1 row ...
    """
    dtype = frame.collect_schema()[date_col]
    if dtype == nw.Object and isinstance(frame, nw.DataFrame):  # pandas date objects
        native = nw.to_native(frame)
        ready = pandas_ready(native, [date_col])
        if ready is not native:
            frame = nw.from_native(ready, eager_only=True)
            dtype = frame.collect_schema()[date_col]
    if dtype == nw.Date or isinstance(dtype, nw.Datetime) or dtype == nw.Datetime:
        return frame
    if dtype != nw.String:
        raise SchemaError(
            f"{what}: column '{date_col}' must hold dates (datetime, date, or text as ISO "
            f"8601 or in the layout given by date_format); its type is {dtype}. Convert it "
            "first, e.g. pandas.to_datetime(df[col], format=...) or "
            "pl.col(col).str.to_datetime(format=...)."
        )
    col = nw.col(date_col)
    present = ~col.is_null()
    if date_format is not None:
        if not isinstance(date_format, str) or "%" not in date_format:
            raise ArgumentError(
                f"date_format must be a strftime layout such as '%d/%m/%Y'; got {date_format!r}."
            )
        if frame.implementation is nw.Implementation.PYARROW:
            return _arrow_parse(frame, date_col, date_format, what)
        parsed = col.str.to_datetime(format=date_format)
        return _parse(frame, parsed, date_col, date_format, None, what)
    example = _first_value(frame, present, date_col)
    layout = None if example is None else _iso_layout(str(example))
    not_iso = present & ~col.str.contains(ISO_DATE)
    checks = [count_true(not_iso).alias("not_iso")]
    if layout is not None:
        checks.append(count_true(present & ~col.str.contains(layout[0])).alias("other"))
    counts = collect(frame.select(checks)).rows(named=True)[0]
    if counts["not_iso"]:
        bad = _first_value(frame, not_iso, date_col)
        problem = "is not an ISO 8601 date"
        raise DataError(
            f"{what}: "
            + bad_rows_message(date_col, problem, int(counts["not_iso"]), bad, _DATE_FIX)
        )
    if layout is None:  # no text at all: every value is null
        return frame.with_columns(col.cast(nw.Datetime("us")))
    if counts.get("other"):
        bad = _first_value(frame, present & ~col.str.contains(layout[0]), date_col)
        raise DataError(
            f"{what}: "
            + bad_rows_message(
                date_col,
                f"mixes ISO 8601 layouts (the first value is {example!r})",
                int(counts["other"]),
                bad,
                "Write every date in one layout, or convert the column to datetime first.",
            )
        )
    prefix = _iso_prefix(col, layout[1])
    if frame.implementation is nw.Implementation.PYARROW:
        # arrow's strptime rolls impossible days over (31 February -> 2 March); its ISO
        # cast refuses them, as the other engines do
        parsed = prefix.cast(nw.Datetime("us"))
    else:
        parsed = prefix.str.to_datetime(format=layout[2])
    return _parse(frame, parsed, date_col, layout[2], layout[1], what)


def _parse(
    frame: Any, parsed: nw.Expr, date_col: str, fmt: str, prefix: int | None, what: str
) -> Any:
    """Apply a parse expression; eager engines fail here, lazy ones when collected."""
    try:
        out = frame.with_columns(parsed.alias(date_col))
    except Exception as exc:
        raise date_parse_error(frame, date_col, fmt, prefix, what, exc) from exc
    if isinstance(out, nw.LazyFrame):
        try:  # the engine reports bad text only when the values are computed
            collect(out.select(nw.col(date_col).max()))
        except Exception as exc:
            raise date_parse_error(frame, date_col, fmt, prefix, what, exc) from exc
    return out


def _arrow_parse(frame: Any, date_col: str, date_format: str, what: str) -> Any:
    """Parse text dates of a pyarrow table with ``date_format``, strictly.

    Arrow's strptime rolls impossible days over (31 February becomes 2 March); the
    column is parsed with pandas instead, which refuses them as the other engines do.
    """
    import pyarrow as pa  # type: ignore[import-untyped]

    table = nw.to_native(frame)
    text = table.column(date_col).to_pandas()
    try:
        # with an offset (%z) the instants are read in UTC, as the other engines do
        parsed = pd.to_datetime(text, format=date_format, utc="%z" in date_format)
    except (ValueError, TypeError) as exc:
        raise date_parse_error(frame, date_col, date_format, None, what, exc) from exc
    index = table.schema.get_field_index(date_col)
    column = pa.array(parsed.dt.as_unit("us"), from_pandas=True)
    return nw.from_native(table.set_column(index, date_col, column), eager_only=True)


def date_parse_error(
    frame: Any, date_col: str, fmt: str, prefix: int | None, what: str, exc: Exception
) -> DataError:
    """The :class:`DataError` for text dates the engine could not parse (error path only).

    The values are read back and checked against ``fmt`` with pandas to count the bad
    rows and show the first one; the engine's own message is kept when pandas cannot
    tell which values are bad.
    """
    values = to_pandas(frame.select(date_col).filter(~nw.col(date_col).is_null()))[date_col]
    text = values.astype(str)
    if prefix is not None:
        text = text.str.replace("T", " ", regex=False).str.slice(0, prefix)
    layout = "the ISO 8601 layout" if prefix is not None else f"the layout {fmt!r}"
    try:
        with np.errstate(all="ignore"):
            bad = pd.to_datetime(text, format=fmt, errors="coerce").isna().to_numpy()
    except (ValueError, TypeError):
        bad = np.zeros(len(text), dtype=bool)
    if bad.any():
        fix = (
            "Each value must be a real calendar date in "
            f"{layout}; fix or remove these rows, or pass the right date_format."
        )
        return DataError(
            f"{what}: "
            + bad_rows_message(
                date_col,
                f"is not a valid date in {layout}",
                int(bad.sum()),
                values.to_numpy()[bad][0],
                fix,
            )
        )
    return DataError(
        f"{what}: column '{date_col}' holds text that cannot be read as dates in {layout} "
        f"({type(exc).__name__}: {_first_line(exc)}). Check date_format or convert the "
        "column to datetime first."
    )


def to_timestamp(value: Any, name: str, tz: str | None = None) -> pd.Timestamp:
    """Parse a date argument to a naive timestamp, raising :class:`ArgumentError` if it fails.

    Accepted: ISO 8601 text (``"2024-01-31"``, ``"2024-01-31 12:00"``, with an optional
    zone), ``pandas.Timestamp``, ``datetime.datetime``, ``datetime.date`` and
    ``numpy.datetime64``. Other text (``"05/01/2024"``, day or month first?) is refused.

    Dates are compared on the local calendar of the data (see :func:`local_dates`). A
    timezone-aware argument is first converted to the data's time zone ``tz`` (to UTC
    when the data are naive, ``tz=None``), then its wall time is kept; a naive argument
    is taken as wall time.

    Examples
    --------
    >>> to_timestamp("2024-02-01 00:30+01:00", "as_of", tz="Europe/Paris")
    Timestamp('2024-02-01 00:30:00')
    >>> to_timestamp("2024-02-01 00:30+01:00", "as_of", tz="UTC")
    Timestamp('2024-01-31 23:30:00')
    >>> to_timestamp("05/01/2024", "as_of")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    crmmodels.errors.ArgumentError: as_of must be a date; '05/01/2024' is not ISO 8601 ...
    """
    if isinstance(value, str):
        if not re.fullmatch(ISO_DATE, value.strip()):
            raise ArgumentError(
                f"{name} must be a date; {value!r} is not ISO 8601 text. Write it as "
                "YYYY-MM-DD (e.g. '2024-01-05'), or pass a pandas.Timestamp or "
                "datetime.date."
            )
        value = value.strip()
    elif not isinstance(value, (pd.Timestamp, dt.date, np.datetime64)):
        got = "a missing value" if value is None else f"{value!r} ({type(value).__name__})"
        raise ArgumentError(
            f"{name} must be a date (ISO 8601 text, pandas.Timestamp, datetime or date); got {got}."
        )
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError, OverflowError) as exc:
        raise ArgumentError(
            f"{name} must be a date; could not read {value!r} ({_first_line(exc)})."
        ) from exc
    if pd.isna(ts):
        raise ArgumentError(f"{name} must be a date; got a missing value.")
    if ts.tzinfo is not None:
        ts = ts.tz_convert(tz or "UTC").tz_localize(None)
    if not _FIRST_DAY <= ts <= _LAST_DAY:
        raise ArgumentError(
            f"{name} must be between {_FIRST_DAY.date()} and {_LAST_DAY.date()} (the range "
            f"of nanosecond timestamps); got {value!r}."
        )
    return ts
