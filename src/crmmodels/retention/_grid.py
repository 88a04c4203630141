"""The customer x period activity grid shared by cohort retention and the metrics.

Validation of the log (rows after ``observation_end`` are dropped and counted) and the
sorted unique (customer, period) cells on the numpy path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import narwhals.stable.v2 as nw
import numpy as np
import numpy.typing as npt
import pandas as pd

from crmmodels._ingest.dates import to_timestamp
from crmmodels._ingest.frames import collect, count_true, day_number
from crmmodels._ingest.log import customer_codes, local_log
from crmmodels._ingest.periods import numpy_period_index, scalar_period_index
from crmmodels.errors import DataError

__all__ = ["PERIOD", "Pairs", "is_eager", "numpy_pairs", "validated_log"]

# dense customer x period grids up to this many cells use a boolean scatter instead of a sort
_DENSE_CELLS = 200_000_000
PERIOD = "__period"


def validated_log(
    transactions: Any,
    *,
    customer_col: str,
    date_col: str,
    amount_col: str | None,
    observation_end: Any,
    date_format: str | None,
) -> tuple[Any, pd.Timestamp, int]:
    """Validate, then drop rows after ``observation_end``.

    Returns the frame, the end and the number of rows excluded.
    """
    frame, last, tz = local_log(
        transactions,
        customer_col=customer_col,
        date_col=date_col,
        amount_col=amount_col,
        date_format=date_format,
        last_date=True,
    )
    if observation_end is None:  # nothing after the last purchase: no second pass
        return frame, last, 0
    end = to_timestamp(observation_end, "observation_end", tz)
    late_expr = day_number(nw.col(date_col)) > scalar_period_index(end, "D")
    stats = collect(frame.select(nw.len().alias("n"), count_true(late_expr).alias("late")))
    n, late = int(stats["n"].item(0)), int(stats["late"].item(0) or 0)
    if late:
        frame = frame.filter(~late_expr)
    if n - late == 0:
        raise DataError(
            f"transactions: every one of the {n} rows is after observation_end {end.date()}; "
            "nothing to analyse. Pass a later observation_end."
        )
    return frame, end, late


def is_eager(frame: Any) -> bool:
    return isinstance(frame, nw.DataFrame)


def _codes(ids: npt.NDArray[Any]) -> tuple[npt.NDArray[np.int64], int]:
    """Integer codes 0..k-1 for customer ids, materialised as int64."""
    codes, offset, k, _ = customer_codes(ids)
    if offset:
        codes = codes - codes.dtype.type(offset)
    return codes.astype(np.int64, copy=False), k


@dataclass(frozen=True)
class Pairs:
    """Sorted unique (customer, period) cells of the activity grid, customer by customer."""

    rel: npt.NDArray[np.int64]  # period number minus ``pmin``
    starts: npt.NDArray[np.int64]  # position of each customer's first cell
    run: npt.NDArray[np.int64]  # number of active periods of each customer
    pmin: int
    span: int


def numpy_pairs(frame: Any, customer_col: str, date_col: str, period: str) -> Pairs:
    ids = frame[customer_col].to_numpy()
    dates = frame[date_col].to_numpy()
    if dates.dtype.kind != "M":  # dates (not datetimes) or exotic types
        dates = pd.to_datetime(pd.Series(dates)).to_numpy()
    codes, k = _codes(ids)
    per = numpy_period_index(dates, period)
    pmin = int(per.min())
    span = int(per.max()) - pmin + 1
    key = codes * span + (per - pmin)
    if k * span <= _DENSE_CELLS:
        grid = np.zeros(k * span, dtype=np.bool_)
        grid[key] = True
        keys = np.flatnonzero(grid)
    else:
        keys = np.unique(key)
    cust = keys // span
    rel = keys - cust * span
    new_customer = np.empty(cust.size, dtype=np.bool_)
    new_customer[:1] = True
    np.not_equal(cust[1:], cust[:-1], out=new_customer[1:])
    starts = np.flatnonzero(new_customer)
    run = np.diff(np.append(starts, cust.size))
    return Pairs(rel, starts, run, pmin, span)
