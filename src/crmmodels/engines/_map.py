"""Run a pandas scoring function over a lazy frame, batch by batch, on its engine.

``score_pandas(pdf) -> pdf`` is the library's own pandas path; each engine hands it
batches and gets them back in the same engine:

- PySpark: ``mapInPandas`` (Arrow batches); the function is shipped to the workers by
  Spark's pickler, so it must hold the model as its JSON text (see
  :class:`crmmodels.engines.BatchScorer`), never a pickled model;
- Dask: ``map_partitions`` with ``meta``; each partition keeps its index;
- DuckDB: the relation's Arrow record batches (``to_arrow_reader``), scored one by
  one and registered back on the relation's connection as one relation (the scored
  batches are held as Arrow data: a DuckDB connection streams one result at a time);
- polars ``LazyFrame``: ``map_batches``, which stays lazy.

Rows keep their order and every input row gives one output row.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import narwhals.stable.v2 as nw
import pandas as pd

from crmmodels.engines._install import require
from crmmodels.engines._kinds import engine_of

__all__ = ["BATCH_ROWS", "ScorePandas", "map_frame"]

ScorePandas = Callable[[pd.DataFrame], pd.DataFrame]

#: rows of a DuckDB Arrow batch
BATCH_ROWS = 100_000


def map_frame(
    frame: Any,
    score_pandas: ScorePandas,
    output: Sequence[str],
    *,
    read: Sequence[str] | None = None,
) -> Any:
    """Apply ``score_pandas`` to every batch of a lazy frame; the same engine's frame back.

    Parameters
    ----------
    frame : DataFrame-like
        A PySpark, Dask, DuckDB or lazy polars frame (narwhals or native).
    score_pandas : callable
        ``pdf -> pdf``, returning the ``output`` columns for the rows of ``pdf`` in order.
    output : sequence of str
        The output columns, in order. A column of the input keeps its type; the others
        are float64.
    read : sequence of str, optional
        The input columns handed to ``score_pandas`` (default: all).

    Returns
    -------
    native frame
        The input's engine: a Spark DataFrame, a Dask DataFrame, a DuckDB relation on
        the input's connection, or a polars LazyFrame.

    Examples
    --------
    >>> import pandas as pd, polars as pl
    >>> def double(pdf):
    ...     return pd.DataFrame({"a": pdf["a"], "b": 2.0 * pdf["a"]})
    >>> map_frame(pl.LazyFrame({"a": [1, 2]}), double, ["a", "b"]).collect()["b"].to_list()
    [2.0, 4.0]
    """
    nw_frame = frame if isinstance(frame, (nw.DataFrame, nw.LazyFrame)) else nw.from_native(frame)
    engine = engine_of(nw_frame)
    if engine is None:
        raise TypeError(f"map_frame needs a lazy engine frame; got {type(frame).__name__}.")
    if read is not None:
        nw_frame = nw_frame.select(list(read))
    native = nw.to_native(nw_frame)
    run = functools.partial(_select, score_pandas, tuple(output))
    if engine == "pyspark":
        return _spark(native, run, output)
    if engine == "dask":
        return _dask(native, run, output)
    if engine == "duckdb":
        return _duckdb(native, run, output)
    return _polars(native, run, output)


def _select(score_pandas: ScorePandas, output: tuple[str, ...], pdf: pd.DataFrame) -> pd.DataFrame:
    if len(pdf) == 0:  # an engine may hand over an empty batch (a polars join, a Spark split)
        return _empty(pdf, output)
    return score_pandas(pdf).loc[:, list(output)]


def _empty(pdf: pd.DataFrame, output: tuple[str, ...]) -> pd.DataFrame:
    """No rows: the input's columns keep their type, the others are float64."""
    return pd.DataFrame(
        {c: pdf[c] if c in pdf.columns else pd.Series([], dtype="float64") for c in output}
    )


def _spark_batches(run: ScorePandas, batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    for pdf in batches:
        yield run(pdf)


def _spark(sdf: Any, run: ScorePandas, output: Sequence[str]) -> Any:
    types = require("pyspark.sql.types", "scoring a Spark DataFrame")
    fields = {f.name: f for f in sdf.schema.fields}
    schema = types.StructType(
        [fields.get(c) or types.StructField(c, types.DoubleType(), True) for c in output]
    )
    return sdf.mapInPandas(functools.partial(_spark_batches, run), schema=schema)


def _keep_index(run: ScorePandas, pdf: pd.DataFrame) -> pd.DataFrame:
    out = run(pdf)
    out.index = pdf.index
    return out


def _dask(ddf: Any, run: ScorePandas, output: Sequence[str]) -> Any:
    require("dask.dataframe", "scoring a Dask DataFrame")
    empty = ddf._meta
    meta = pd.DataFrame(
        {
            c: empty[c] if c in empty.columns else pd.Series([], dtype="float64", index=empty.index)
            for c in output
        }
    )
    return ddf.map_partitions(functools.partial(_keep_index, run), meta=meta)


def _duckdb(rel: Any, run: ScorePandas, output: Sequence[str]) -> Any:
    duckdb = require("duckdb", "scoring a DuckDB relation")
    pa = require("pyarrow", "scoring a DuckDB relation")
    reader = rel.to_arrow_reader(BATCH_ROWS)
    given = reader.schema
    schema = pa.schema(
        [given.field(c) if c in given.names else pa.field(c, pa.float64()) for c in output]
    )
    batches = [
        pa.RecordBatch.from_pandas(run(batch.to_pandas()), schema=schema, preserve_index=False)
        for batch in reader
    ]
    table = pa.Table.from_batches(batches, schema=schema)
    con = getattr(rel, "_con", None)  # the relation's connection, where the result belongs
    return con.from_arrow(table) if con is not None else duckdb.from_arrow(table)


def _polars_batch(run: ScorePandas, pl: Any, schema: Any, df: Any) -> Any:
    return pl.from_pandas(run(df.to_pandas())).cast(schema)


def _polars(lf: Any, run: ScorePandas, output: Sequence[str]) -> Any:
    pl = require("polars", "scoring a polars LazyFrame")
    given = lf.collect_schema()
    schema = pl.Schema({c: given.get(c, pl.Float64) for c in output})
    return lf.map_batches(
        functools.partial(_polars_batch, run, pl, schema), schema=schema, streamable=True
    )
