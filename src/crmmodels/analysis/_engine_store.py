"""Keep an intermediate result of ``analyze`` on its engine, computed once.

A lazy frame is a query: every step that reads the customer summary would aggregate the
log again, and an engine that sums in parallel may give the last bits of a float sum
differently each time (a threshold computed in one run would then be compared with
values of another). So the summaries and the customer table are computed once and kept
on the engine: DuckDB stores them as temporary tables of the relation's connection
(dropped with the connection); Spark checkpoints them on the executors
(``localCheckpoint``); polars keeps them as an in-memory polars frame behind a
``LazyFrame`` (polars runs in the Python process: the rows stay in polars' Arrow memory,
never pandas); Dask persists them on its workers (``persist``).

The windows over the whole frame are here too. DuckDB, polars and Spark number sorted
rows and run sums with narwhals windows (``over(order_by=...)``, ``rank``). narwhals'
Dask backend has no ``rank``, and its ordered windows assign the sorted result back by
index, which a ``group_by`` result (an index repeated across partitions) breaks. On Dask
the frame is therefore sorted with ``sort_values`` (partitions in global order), each
partition's length and sum are collected (one small row per partition), and every
partition numbers its rows and continues the running sum from those offsets
(``map_partitions``). This is the one place of the analysis with engine-specific code.

Examples
--------
>>> import duckdb, narwhals.stable.v2 as nw
>>> rel = duckdb.connect().sql("select range as a from range(3)")
>>> kept = stored(nw.from_native(rel))
>>> nw.to_native(kept).fetchall()
[(0,), (1,), (2,)]
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import narwhals.stable.v2 as nw

from crmmodels.engines import engine_of

__all__ = ["kept", "min_rank", "numbered", "stored"]


def stored(frame: Any) -> Any:
    """``frame`` (a narwhals LazyFrame) computed once and kept on its engine."""
    engine = engine_of(frame)
    native = nw.to_native(frame)
    if engine == "polars_lazy":
        return nw.from_native(native.collect().lazy())
    if engine == "pyspark":  # computed once on the executors, kept there
        return nw.from_native(native.localCheckpoint(eager=True))
    if engine == "dask":  # computed once, kept in the workers' memory
        return nw.from_native(native.persist())
    if engine != "duckdb":
        return frame
    name = f"crmmodels_{uuid.uuid4().hex}"
    native.query("crmmodels_input", f'CREATE TEMP TABLE "{name}" AS SELECT * FROM crmmodels_input')
    con = getattr(native, "_con", None)
    if con is not None:
        return nw.from_native(con.table(name))
    return nw.from_native(native.query("crmmodels_input", f'SELECT * FROM "{name}"'))


def kept(frame: Any) -> Any:
    """The finished customer table: :func:`stored`, except on DuckDB.

    DuckDB runs in the Python process: the finished table is fetched once as Arrow and
    handed back as a relation of DuckDB's default connection, so that it outlives the
    input's connection (a pipeline may close it before writing the table, as the
    command line does when it writes into the same database file).
    """
    if engine_of(frame) != "duckdb":
        return stored(frame)
    import duckdb

    return nw.from_native(duckdb.from_arrow(nw.to_native(frame).to_arrow_table()))


def numbered(
    frame: Any, order_by: Sequence[str], name: str, running: tuple[str, str] | None = None
) -> Any:
    """``frame`` with ``name``, each row's 0-based position in the order ``order_by``.

    The order is ascending, nulls first; with ``running=(column, alias)`` the running sum
    of ``column`` in that order is added as ``alias``. Rows that tie on ``order_by`` get
    distinct positions in an order of the engine's choice.
    """
    if engine_of(frame) == "dask":
        return nw.from_native(_dask_numbered(nw.to_native(frame), list(order_by), name, running))
    out = frame
    if running is not None:
        total = nw.col(running[0]).cum_sum().over(order_by=list(order_by))
        out = out.with_columns(total.alias(running[1]))
    return out.with_row_index(name, order_by=list(order_by))


def _dask_numbered(
    native: Any, order_by: list[str], name: str, running: tuple[str, str] | None
) -> Any:
    """:func:`numbered` on Dask: sort, collect one (length, sum) per partition, number."""
    import numpy as np
    import pandas as pd

    # nulls first: Dask's ``na_position`` holds within a partition only, so each key is
    # preceded by a "not null" flag (False sorts first)
    flags = {f"__crmmodels_known_{i}": ~native[c].isna() for i, c in enumerate(order_by)}
    keys = [k for pair in zip(flags, order_by, strict=True) for k in pair]
    ordered = native.assign(**flags).sort_values(keys).drop(columns=list(flags)).persist()
    value = None if running is None else running[0]

    def sizes(part: pd.DataFrame) -> pd.DataFrame:
        total = 0.0 if value is None else float(part[value].sum())
        return pd.DataFrame({"n": [len(part)], "s": [total]})

    stats = ordered.map_partitions(sizes, meta={"n": "int64", "s": "float64"}).compute()
    starts = np.concatenate([[0], np.cumsum(stats["n"].to_numpy(dtype=np.int64))[:-1]])
    bases = np.concatenate([[0.0], np.cumsum(stats["s"].to_numpy(dtype=np.float64))[:-1]])

    def number(part: pd.DataFrame, partition_info: dict[str, Any] | None = None) -> Any:
        i = 0 if partition_info is None else int(partition_info["number"])
        start = int(starts[i]) if len(starts) else 0
        out = part.assign(**{name: np.arange(start, start + len(part), dtype=np.int64)})
        if running is not None:
            base = float(bases[i]) if len(bases) else 0.0
            out[running[1]] = base + part[running[0]].astype("float64").cumsum()
        return out

    meta = ordered._meta.assign(**{name: np.zeros(0, dtype=np.int64)})
    if running is not None:
        meta[running[1]] = np.zeros(0, dtype=np.float64)
    return ordered.map_partitions(number, meta=meta)


def min_rank(table: Any, column: str, key: str, name: str) -> Any:
    """``table`` with ``name``: the rank of ``column``, highest first, ties share the best.

    ``rank(method="min", descending=True)``; null where ``column`` is null. On Dask (no
    ``rank``) a tie group's rank is 1 plus the smallest position of its value in the
    numbered order, joined back by value and then by ``key``.
    """
    if engine_of(table) != "dask":
        rank = nw.col(column).rank(method="min", descending=True)
        return table.with_columns(rank.alias(name))
    valued = table.filter(~nw.col(column).is_null()).select(
        nw.col(key), nw.col(column), (-nw.col(column)).alias("__crmmodels_neg")
    )
    positions = numbered(valued, ["__crmmodels_neg"], "__crmmodels_pos")
    first = positions.group_by(column).agg(nw.col("__crmmodels_pos").min().alias(name))
    ranks = valued.select(key, column).join(first, on=column, how="inner")
    ranks = ranks.select(nw.col(key), (nw.col(name) + 1).alias(name))
    return table.join(ranks, on=key, how="left")
