"""Computing where the data live: lazy engines (PySpark, Dask, DuckDB, polars LazyFrame).

This package is the one place that knows engine specifics. It sits beside
:mod:`crmmodels._ingest`, below the models, and imports no model; the models call it
with a pandas function and the model's JSON text.

- Fit: :func:`distinct_rows` runs one ``group_by(columns).agg(count)`` on the engine and
  collects only the distinct rows and their counts; the models' checks then count
  customers through :func:`counted_rows` / :func:`count_rows`.
- Score: :func:`score_frame` (any model method) and :func:`score_batches` check the
  distinct rows at the driver, then run the pandas path on every batch on the engine
  (:func:`map_frame`: Spark ``mapInPandas``, Dask ``map_partitions``, DuckDB Arrow
  batches, polars ``map_batches``), with the model shipped as JSON (:class:`BatchScorer`).
- Install hints: :func:`require` imports an engine or names the extra to install.

Examples
--------
>>> from crmmodels.engines import engine_of
>>> import polars as pl
>>> engine_of(pl.LazyFrame({"a": [1]}))
'polars_lazy'
"""

from crmmodels.engines._counts import (
    count_rows,
    counted_rows,
    counting,
    n_rows,
    row_counts,
    set_counts,
)
from crmmodels.engines._distinct import COUNT_COL, distinct_rows
from crmmodels.engines._install import require
from crmmodels.engines._kinds import ENGINES, engine_of, on_engine
from crmmodels.engines._map import map_frame
from crmmodels.engines._score import BatchScorer, EngineScore, score_batches, score_frame

__all__ = [
    "COUNT_COL",
    "ENGINES",
    "BatchScorer",
    "EngineScore",
    "count_rows",
    "counted_rows",
    "counting",
    "distinct_rows",
    "engine_of",
    "map_frame",
    "n_rows",
    "on_engine",
    "require",
    "row_counts",
    "score_batches",
    "score_frame",
    "set_counts",
]
