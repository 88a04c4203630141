"""Keep an intermediate result of ``analyze`` on its engine, computed once.

A lazy frame is a query: every step that reads the customer summary would aggregate the
log again, and an engine that sums in parallel may give the last bits of a float sum
differently each time (a threshold computed in one run would then be compared with
values of another). So the summaries and the customer table are computed once and kept
on the engine: DuckDB stores them as temporary tables of the relation's connection
(dropped with the connection); Spark checkpoints them on the executors
(``localCheckpoint``); polars keeps them as an in-memory polars frame behind a
``LazyFrame`` (polars runs in the Python process: the rows stay in polars' Arrow memory,
never pandas). This is the one place of the analysis with engine-specific code.

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
from typing import Any

import narwhals.stable.v2 as nw

from crmmodels.engines import engine_of

__all__ = ["kept", "stored"]


def stored(frame: Any) -> Any:
    """``frame`` (a narwhals LazyFrame) computed once and kept on its engine."""
    engine = engine_of(frame)
    native = nw.to_native(frame)
    if engine == "polars_lazy":
        return nw.from_native(native.collect().lazy())
    if engine == "pyspark":  # computed once on the executors, kept there
        return nw.from_native(native.localCheckpoint(eager=True))
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
