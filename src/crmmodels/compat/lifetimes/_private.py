"""lifetimes' private utilities that its tests and some users' code call.

``_find_first_transactions``, ``_scale_time`` and ``_check_inputs`` are private in
lifetimes but used by its test suite and by code written against it; they are served
from :mod:`crmmodels.compat.lifetimes.utils` under the same names.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from crmmodels._ingest.frames import to_narwhals, to_pandas
from crmmodels.clv._base import as_float_array
from crmmodels.compat.lifetimes._dates import _end_date, _parse_dates, _period
from crmmodels.errors import DataError

__all__: list[str] = []


def _find_first_transactions(
    transactions: pd.DataFrame,
    customer_id_col: str,
    datetime_col: str,
    monetary_value_col: str | None = None,
    datetime_format: str | None = None,
    observation_period_end: Any = None,
    freq: str = "D",
) -> pd.DataFrame:
    """One row per customer and period of ``freq``, flagging each customer's first period.

    lifetimes' private helper, kept for code that calls it: purchases after the period
    holding ``observation_period_end`` (default: the last purchase) are dropped, the
    dates become ``pandas.Period`` values, several purchases in one period become one
    row (their ``monetary_value_col`` summed) and ``first`` marks the first period of
    each customer. Rows are ordered by customer, then period. The caller's frame is not
    changed.

    Returns
    -------
    pandas.DataFrame
        Columns ``customer_id_col``, ``datetime_col`` (periods), the value column when
        given, and ``first`` (bool).

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"id": [1, 1, 1], "date": ["2020-01-01", "2020-01-01", "2020-01-03"]})
    >>> _find_first_transactions(tx, "id", "date")["first"].tolist()
    [True, False]
    """
    cols = [customer_id_col, datetime_col]
    if monetary_value_col:
        cols.append(monetary_value_col)
    frame = to_pandas(to_narwhals(transactions, what="transactions"))
    missing = [c for c in cols if c not in frame.columns]
    if missing:
        raise DataError(
            f"transactions has no column {missing[0]!r}; its columns are "
            f"{list(frame.columns)[:20]}. Pass the names of the id, date and value columns."
        )
    frame = frame[cols].copy()
    dates = _parse_dates(frame[datetime_col], datetime_format)
    if isinstance(observation_period_end, pd.Period):
        end = observation_period_end.to_timestamp()
    elif observation_period_end is None:
        end = dates.max()
    else:
        end = pd.Timestamp(_end_date(observation_period_end, "observation_period_end", None))
    periods = dates.dt.to_period(_period(freq))
    keep = (periods.dt.start_time <= end).to_numpy()
    frame[datetime_col] = periods
    order = pd.DataFrame({"c": frame[customer_id_col], "d": dates}).iloc[keep]
    order = order.sort_values(["c", "d"], kind="stable")
    frame = frame.iloc[np.flatnonzero(keep)].loc[order.index].reset_index(drop=True)
    if monetary_value_col:
        grouped = frame.groupby([customer_id_col, datetime_col], sort=False, as_index=False)
        out = grouped[monetary_value_col].sum()
    else:
        out = frame.loc[~frame.duplicated([customer_id_col, datetime_col])]
    out = pd.DataFrame(out[cols])
    out["first"] = ~out[customer_id_col].duplicated().to_numpy()
    return out


def _scale_time(age: Any) -> float:
    """The time scale lifetimes fits on: one over the largest age (oldest customer T = 1).

    Examples
    --------
    >>> _scale_time([10.0, 40.0])
    0.025
    """
    return 1.0 / float(np.max(np.asarray(age, dtype=np.float64)))


def _check_inputs(
    frequency: Any, recency: Any = None, T: Any = None, monetary_value: Any = None
) -> None:
    """The lifetimes checks of summary inputs; raises :class:`DataError` (a ``ValueError``).

    Recency must lie in ``[0, T]`` and be 0 where frequency is 0, no vector may be
    empty, frequency must hold whole numbers and monetary values must be positive.

    Examples
    --------
    >>> _check_inputs([0, 2], [0, 5.0], [6.0, 9.0]) is None
    True
    """
    from crmmodels.clv._inputs import check

    x = np.asarray(as_float_array(frequency, "frequency"))
    if recency is not None:
        tx = np.asarray(as_float_array(recency, "recency"))
        arrays = [x, tx]
        if T is not None:
            tt = np.asarray(as_float_array(T, "T"))
            arrays.append(tt)
            check(tx, tx > tt, "recency", "is larger than T", "recency must lie in [0, T].")
        check(
            tx,
            (x == 0) & (tx != 0),
            "recency",
            "is not 0 although frequency is 0",
            "customers without repeat purchases have recency 0.",
        )
        check(tx, tx < 0, "recency", "is negative", "the last purchase precedes the first.")
        if any(a.shape[0] == 0 for a in arrays):
            raise DataError("frequency, recency and T must not be empty; one of them is.")
    check(x, x != np.round(x), "frequency", "is not an integer", "it counts repeat purchases.")
    if monetary_value is not None:
        m = np.asarray(as_float_array(monetary_value, "monetary_value"))
        check(m, m <= 0, "monetary_value", "is not positive", "spend must be > 0.")
