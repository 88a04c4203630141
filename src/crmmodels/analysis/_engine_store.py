"""Keep an intermediate result of ``analyze`` on its engine, computed once.

A lazy frame is a query: every step that reads the customer summary would aggregate the
log again. DuckDB stores such a result as a temporary table of the relation's connection
(dropped with the connection), so the later steps read the table; the rows stay in
DuckDB. This is the one place of the analysis with engine-specific code. A polars
LazyFrame is left as it is (polars plans each query from the log, which it aggregates
fast; collecting it would bring every customer into the Python process).

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

__all__ = ["stored"]


def stored(frame: Any) -> Any:
    """``frame`` (a narwhals LazyFrame) computed once and kept on its engine."""
    if engine_of(frame) != "duckdb":
        return frame
    native = nw.to_native(frame)
    name = f"crmmodels_{uuid.uuid4().hex}"
    native.query("crmmodels_input", f'CREATE TEMP TABLE "{name}" AS SELECT * FROM crmmodels_input')
    con = getattr(native, "_con", None)
    if con is not None:
        return nw.from_native(con.table(name))
    return nw.from_native(native.query("crmmodels_input", f'SELECT * FROM "{name}"'))
