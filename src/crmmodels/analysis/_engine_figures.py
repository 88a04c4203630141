"""The report's figures of an engine run, from aggregates of the customer table.

An :class:`~crmmodels.analysis._engine_result.EngineCustomerAnalysis` keeps its customer
table on the engine (DuckDB, lazy polars, PySpark). The report's per-customer sections
need only small aggregates of that table, and :func:`engine_figures` computes them there
when the report is written (``analyze`` does none of this work):

- the CLV histogram: a few scalars (count, mean, largest value, one order statistic for
  the axis' lower end) fix the bin edges exactly as the pandas figure fixes them, then
  one aggregate row counts the customers at or above each edge;
- the Lorenz curve at about 1,000 customer shares: the value column is numbered and
  summed in ascending order by a window, and only the rows at the wanted positions are
  collected; the curve between two customers is linear, as the pandas curve is drawn;
- customers, value and CLV per label (A/B/C class, lifecycle and relationship stage,
  RFM segment, CLV quadrant): one ``group_by`` each;
- the CLV quadrants' potential-value threshold: the median of the positive CLVs (two
  order statistics), as ``analyze`` computed it.

Every collect is a handful of rows; no per-customer row reaches the driver.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import narwhals.stable.v2 as nw
import numpy as np
import numpy.typing as npt
import pandas as pd

from crmmodels._ingest.frames import collect
from crmmodels.analysis._customers import LABEL_ORDER
from crmmodels.analysis._engine_columns import order_statistics
from crmmodels.analysis._engine_store import numbered

__all__ = [
    "CLV_BINS",
    "LORENZ_POINTS",
    "ClvHistogram",
    "EngineFigures",
    "LorenzPoints",
    "engine_figures",
    "label_counts",
]

#: bin edges of the CLV histogram (the pandas figure's: 40 edges, 39 bars)
CLV_BINS = 40

#: the lower end of the CLV axis: this quantile of the positive values ("lower" method)
LOW_QUANTILE = 0.005

#: customer shares at which the Lorenz curve is read (plus the share 0)
LORENZ_POINTS = 1000

_IDX = "__crmmodels_k"
_CUM = "__crmmodels_cum"

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclasses.dataclass(frozen=True)
class ClvHistogram:
    """The CLV histogram of an engine table (what ``plot_clv_distribution`` draws).

    Attributes
    ----------
    edges : ndarray of float
        ``CLV_BINS`` edges, geometric from the ``LOW_QUANTILE`` of the positive CLVs
        (``numpy.quantile(..., method="lower")``) to the largest CLV; empty when no CLV
        is positive.
    counts : ndarray of int
        Customers per bar; positive values below the first edge are counted in the first
        bar (as the pandas figure clips them).
    n_values, n_positive, n_low : int
        Customers with a CLV, with a positive CLV, and with a positive CLV below the
        first edge.
    mean : float
        Mean CLV of the customers with a CLV.
    """

    edges: FloatArray
    counts: IntArray
    n_values: int
    n_positive: int
    n_low: int
    mean: float


@dataclasses.dataclass(frozen=True)
class LorenzPoints:
    """The Lorenz curve of the customers' total value, read at customer shares.

    ``lorenz[i]`` is the share of the value bought by the ``customer_share[i]`` of the
    customers with the least value (linear between two customers).
    """

    customer_share: FloatArray
    lorenz: FloatArray


@dataclasses.dataclass(frozen=True)
class EngineFigures:
    """The aggregates of an engine run's customer table that the report draws.

    Attributes
    ----------
    n_customers : int
        Customers in the table.
    clv : ClvHistogram or None
        None when no customer has a CLV (the CLV step was skipped).
    lorenz : LorenzPoints or None
        None when the total value is not positive.
    classes, lifecycle, relationship, rfm, quadrants : pandas.DataFrame
        One row per label (A/B/C class, stage, segment, quadrant) with ``customers``,
        ``value`` (sum of ``total_value``), ``clv`` (sum of the CLV) and ``n_clv``
        (customers with a CLV), largest first; labels without customers are not listed.
        Customers without a label are left out.
    potential_threshold : float
        The quadrants' potential-value threshold (median of the positive CLVs; NaN
        without CLV).
    """

    n_customers: int
    clv: ClvHistogram | None
    lorenz: LorenzPoints | None
    classes: pd.DataFrame
    lifecycle: pd.DataFrame
    relationship: pd.DataFrame
    rfm: pd.DataFrame
    quadrants: pd.DataFrame
    potential_threshold: float


def _one_row(frame: Any, *exprs: Any) -> dict[str, Any]:
    rows: list[dict[str, Any]] = collect(frame.select(*exprs)).rows(named=True)
    return rows[0]


def label_counts(table: Any, column: str) -> pd.DataFrame:
    """Customers, value and CLV per label of ``column`` (one ``group_by``), largest first.

    Ties in the number of customers are listed by label.

    Examples
    --------
    >>> import narwhals.stable.v2 as nw, polars as pl
    >>> t = pl.LazyFrame({"rfm_segment": ["a", "b", "a", None], "total_value": [1.0, 2, 3, 4],
    ...                   "clv": [1.0, None, 2.0, 5.0]})
    >>> label_counts(nw.from_native(t), "rfm_segment").to_dict("list")
    {'rfm_segment': ['a', 'b'], 'customers': [2, 1], 'value': [4.0, 2.0], 'clv': [3.0, 0.0], \
'n_clv': [2, 0]}
    """
    grouped = (  # cast before grouping: Dask takes only plain aggregations
        table.filter(~nw.col(column).is_null())
        .with_columns(nw.col("total_value", "clv").cast(nw.Float64))
        .group_by(column)
        .agg(
            nw.len().alias("customers"),
            nw.col("total_value").sum().alias("value"),
            nw.col("clv").sum().alias("clv"),
            nw.col("clv").count().alias("n_clv"),
        )
    )
    out = collect(grouped).to_pandas()
    out[column] = out[column].astype(str)
    for col in ("customers", "n_clv"):
        out[col] = out[col].astype("int64")
    for col in ("value", "clv"):
        out[col] = out[col].astype("float64").fillna(0.0)
    out = out.sort_values(["customers", column], ascending=[False, True], kind="mergesort")
    return out.reset_index(drop=True)


def _clv_histogram(table: Any) -> ClvHistogram | None:
    """The histogram of the CLV column; None when no customer has a CLV."""
    clv = nw.col("clv").cast(nw.Float64)
    stats = _one_row(
        table,
        clv.count().alias("n"),
        clv.mean().alias("mean"),
        (clv > 0).cast(nw.Int64).sum().alias("positive"),
        clv.max().alias("high"),
    )
    n = int(stats["n"] or 0)
    if n == 0:
        return None
    n_positive = int(stats["positive"] or 0)
    mean = float(stats["mean"])
    if n_positive == 0:
        empty = np.empty(0)
        return ClvHistogram(empty, np.empty(0, dtype=np.int64), n, 0, 0, mean)
    positive = table.select(clv.alias("clv")).filter(nw.col("clv") > 0)
    position = math.floor(LOW_QUANTILE * (n_positive - 1))  # numpy's "lower" quantile
    low = order_statistics(positive, "clv", [position])[position]
    high = float(stats["high"])
    edges = np.geomspace(low, high if high > low else low * 10, CLV_BINS)
    # customers at or above each inner edge; values below the first edge fall in bar 0
    at_least = _one_row(
        positive,
        (nw.col("clv") < low).cast(nw.Int64).sum().alias("low"),
        *(
            (nw.col("clv") >= float(e)).cast(nw.Int64).sum().alias(f"e{j}")
            for j, e in enumerate(edges[1:-1], start=1)
        ),
    )
    above = np.array(
        [n_positive, *(int(at_least[f"e{j}"] or 0) for j in range(1, CLV_BINS - 1)), 0],
        dtype=np.int64,
    )
    counts = above[:-1] - above[1:]
    return ClvHistogram(edges, counts, n, n_positive, int(at_least["low"] or 0), mean)


def _lorenz(table: Any, customer_col: str, n: int) -> LorenzPoints | None:
    """The Lorenz curve of ``total_value`` at ``LORENZ_POINTS`` shares (all, for few)."""
    if n == 0:
        return None
    value = nw.col("total_value").cast(nw.Float64)
    total = float(_one_row(table, value.sum().alias("t"))["t"] or 0.0)
    if not total > 0:
        return None
    points = min(n, LORENZ_POINTS)
    shares = np.arange(points + 1, dtype=np.float64) / points
    position = shares * n
    below = np.minimum(np.floor(position).astype(np.int64), n)
    wanted = sorted({int(k) for k in (*below, *np.minimum(below + 1, n)) if k >= 1})
    order = ["__crmmodels_x", customer_col]
    # numbered in the value order with a running sum (Dask: by partition offsets, since
    # its ordered windows are not reliable; the other engines: windows)
    values = table.select(nw.col(customer_col), value.alias("__crmmodels_x"))
    ranked = numbered(values, order, _IDX, running=("__crmmodels_x", _CUM))
    picked = ranked.filter(nw.col(_IDX).is_in([k - 1 for k in wanted]))
    rows = collect(picked.select(nw.col(_IDX), nw.col(_CUM))).rows()
    cumulative = np.zeros(n + 1)
    for k, cum in rows:  # the few positions asked for (at most 2 * LORENZ_POINTS)
        cumulative[int(k) + 1] = float(cum)
    upper = np.minimum(below + 1, n)
    fraction = position - below
    at = cumulative[below] + fraction * (cumulative[upper] - cumulative[below])
    return LorenzPoints(shares, at / total)


def _potential_threshold(table: Any, clv: ClvHistogram | None) -> float:
    """``numpy.median`` of the positive CLVs (of all CLVs when none is positive)."""
    if clv is None:
        return math.nan
    values = table.select(nw.col("clv").cast(nw.Float64)).filter(~nw.col("clv").is_null())
    m = clv.n_positive
    if m:
        values = values.filter(nw.col("clv") > 0)
    else:
        m = clv.n_values
    mid = (m - 1) // 2, m // 2
    stats = order_statistics(values, "clv", mid)
    return (stats[mid[0]] + stats[mid[1]]) / 2.0


def _in_order(counts: pd.DataFrame, column: str) -> pd.DataFrame:
    """``counts`` with every label of ``LABEL_ORDER[column]``, the missing ones at 0."""
    order = LABEL_ORDER[column]
    missing = [label for label in order if label not in set(counts[column])]
    if not missing:
        return counts
    extra = pd.DataFrame(
        {column: missing, "customers": 0, "value": np.nan, "clv": np.nan, "n_clv": 0}
    )
    return pd.concat([counts, extra], ignore_index=True)


def engine_figures(table: Any, customer_col: str) -> EngineFigures:
    """The report's aggregates of an engine customer table (a narwhals LazyFrame).

    Examples
    --------
    >>> import crmmodels as crm, narwhals.stable.v2 as nw, polars as pl
    >>> from crmmodels.datasets import load_cdnow_sample
    >>> result = crm.analyze(pl.from_pandas(load_cdnow_sample()).lazy(), amount_col="amount")
    >>> figures = engine_figures(nw.from_native(result.customers), "customer_id")
    >>> int(figures.clv.counts.sum()) == figures.clv.n_positive
    True
    >>> figures.lorenz.customer_share[-1], round(float(figures.lorenz.lorenz[-1]), 12)
    (np.float64(1.0), 1.0)
    """
    n = int(_one_row(table, nw.len().alias("n"))["n"])
    clv = _clv_histogram(table)
    return EngineFigures(
        n_customers=n,
        clv=clv,
        lorenz=_lorenz(table, customer_col, n),
        classes=label_counts(table, "value_class"),
        lifecycle=_in_order(label_counts(table, "lifecycle_stage"), "lifecycle_stage"),
        relationship=_in_order(label_counts(table, "relationship_stage"), "relationship_stage"),
        rfm=label_counts(table, "rfm_segment"),
        quadrants=label_counts(table, "quadrant"),
        potential_threshold=_potential_threshold(table, clv),
    )
