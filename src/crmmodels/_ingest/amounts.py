"""Validation of money amount columns at the public boundary.

Every function that sums or averages an amount column checks it here first, with one
engine-side pass, so that the same bad value gives the same
:class:`~crmmodels.errors.DataError` on every engine: a missing amount (null, or NaN,
which pandas treats as null but polars, DuckDB and Spark do not), an infinite amount and,
unless negative amounts are allowed (refunds and returns), a negative one. The message
names the column, the number of bad rows, the first offending row and the fix.

Examples
--------
>>> import pandas as pd
>>> import polars as pl
>>> _ = check_amounts(pd.DataFrame({"id": [1, 2], "amount": [5.0, 7.5]}), "amount")
>>> nan_row = pl.DataFrame({"id": [1, 2], "amount": [5.0, float("nan")]})
>>> check_amounts(nan_row, "amount", id_col="id")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
crmmodels.errors.DataError: input: column 'amount' is missing (null or NaN) in 1 row ...
"""

from __future__ import annotations

from typing import Any

import narwhals.stable.v2 as nw

from crmmodels._ingest.frames import (
    collect,
    count_true,
    missing,
    numeric_amounts,
    python_scalar,
    to_narwhals,
)
from crmmodels.errors import DataError, bad_rows_message

__all__ = ["check_amounts"]

_INF = float("inf")


def _first_example(frame: Any, bad: nw.Expr, amount_col: str, id_col: str | None) -> object:
    cols = [amount_col] if id_col is None or id_col == amount_col else [id_col, amount_col]
    first = collect(frame.filter(bad).select(cols).head(1))
    if not len(first):
        return None
    if id_col is not None and id_col != amount_col:
        return f"{id_col}={python_scalar(first[id_col].item(0))!r}"
    return python_scalar(first[amount_col].item(0))


def check_amounts(
    data: Any,
    amount_col: str,
    *,
    what: str = "input",
    id_col: str | None = None,
    allow_negative: bool = False,
    negative_fix: str = "Pass allow_negative=True to keep refunds and returns.",
) -> Any:
    """Check an amount column; raise :class:`DataError` for missing, infinite or negative amounts.

    The column's type is checked by :func:`crmmodels._ingest.frames.numeric_amounts`, the same
    rule as the customer summary's: decimals become floats, text is refused with a
    conversion hint.

    Parameters
    ----------
    data : DataFrame-like
        Any supported frame (or a narwhals frame); it is not modified.
    amount_col : str
        The amount column (it must exist; the caller checks the columns first).
    what : str
        Name of the input, for the message.
    id_col : str, optional
        Column whose value identifies the first offending row in the message.
    allow_negative : bool
        Accept negative amounts (refunds, returns).
    negative_fix : str
        How to fix negative amounts, appended to their message.

    Returns
    -------
    narwhals DataFrame or LazyFrame
        The input with a numeric (float for decimals) ``amount_col``; use it afterwards.

    Raises
    ------
    SchemaError
        ``amount_col`` is not numeric.
    DataError
        ``amount_col`` holds nulls or NaN, infinite values, or negative values while
        ``allow_negative`` is False (checked in that order).

    Examples
    --------
    >>> import pandas as pd
    >>> _ = check_amounts(pd.DataFrame({"amount": [1.0, -2.0]}), "amount", allow_negative=True)
    >>> check_amounts(pd.DataFrame({"amount": [1.0, -2.0]}), "amount")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    crmmodels.errors.DataError: input: column 'amount' is negative in 1 row ...
    """
    frame = numeric_amounts(to_narwhals(data, what=what), amount_col, what=what)
    dtype = frame.collect_schema()[amount_col]
    col = nw.col(amount_col)
    is_float = dtype.is_float()
    checks: list[tuple[str, nw.Expr, str]] = [
        (
            "is missing (null or NaN)",
            missing(amount_col, dtype),
            "Fill or drop the rows without an amount before the call.",
        )
    ]
    if is_float:
        infinite = (col == _INF) | (col == -_INF)
        checks.append(("is infinite", infinite, "Amounts must be finite numbers."))
    if not allow_negative:
        checks.append(("is negative", col < 0, negative_fix))
    counts = collect(
        frame.select(*[count_true(e).alias(f"c{i}") for i, (_, e, _) in enumerate(checks)])
    ).rows()[0]
    for (problem, bad, fix), n in zip(checks, counts, strict=True):
        n_bad = int(n or 0)
        if n_bad:
            example = _first_example(frame, bad, amount_col, id_col)
            raise DataError(
                f"{what}: " + bad_rows_message(amount_col, problem, n_bad, example, fix)
            )
    return frame
