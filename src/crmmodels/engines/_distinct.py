"""The distinct rows of some columns and their counts, computed on the caller's engine.

A fit needs only the distinct histories and how many customers have each one; a lazy
engine (DuckDB, Dask, PySpark, polars) computes them with one ``group_by`` and only the
compressed table reaches the driver.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import narwhals.stable.v2 as nw
import numpy as np

from crmmodels._ingest.frames import check_columns, collect, to_narwhals
from crmmodels.engines._counts import FloatArray

__all__ = ["COUNT_COL", "distinct_rows"]

#: the column of the counts in the table of distinct rows
COUNT_COL = "__crmmodels_count__"


def distinct_rows(
    frame: Any,
    columns: Sequence[str],
    *,
    carry: str | None = None,
    what: str = "summary",
) -> tuple[nw.DataFrame[Any], FloatArray]:
    """The distinct rows of ``columns`` (computed on the frame's engine) and their counts.

    Parameters
    ----------
    frame : DataFrame-like
        Any frame narwhals reads; lazy engines run the ``group_by`` where the data live.
    columns : sequence of str
        The columns whose distinct rows are wanted (nulls and NaN are kept as values).
    carry : str, optional
        Another column (an id) of which one value per distinct row is kept (its
        minimum), so that the table has the frame's column types.
    what : str
        The name of the frame, for messages.

    Returns
    -------
    (narwhals.DataFrame, ndarray)
        The collected table (``columns``, then ``carry``), sorted by ``columns``, and
        the number of rows of ``frame`` behind each of its rows.

    Raises
    ------
    SchemaError
        A column is missing (checked on the schema, before any work).

    Examples
    --------
    >>> import polars as pl
    >>> lf = pl.LazyFrame({"x": [1, 0, 1], "t": [2.0, 2.0, 2.0]})
    >>> table, counts = distinct_rows(lf, ["x", "t"])
    >>> table["x"].to_list(), counts.tolist()
    ([0, 1], [1.0, 2.0])
    """
    nw_frame = to_narwhals(frame, what=what)
    keys = list(dict.fromkeys(columns))
    check_columns(nw_frame, keys + ([carry] if carry is not None else []), what=what)
    aggs = [nw.len().alias(COUNT_COL)]
    if carry is not None and carry not in keys:
        aggs.append(nw.col(carry).min())
    grouped = nw_frame.group_by(keys).agg(*aggs).sort(keys, nulls_last=True)
    table = collect(grouped)
    counts = np.asarray(table[COUNT_COL].to_numpy(), dtype=np.float64)
    return table.drop(COUNT_COL), counts
