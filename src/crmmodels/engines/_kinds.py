"""Which engine holds a frame, and whether crmmodels computes on it."""

from __future__ import annotations

from typing import Any

import narwhals.stable.v2 as nw

__all__ = ["ENGINES", "engine_of", "on_engine"]

#: the engines on which predictions and the compressed fit run where the data live
ENGINES = ("pyspark", "dask", "duckdb", "polars_lazy")

_BY_IMPLEMENTATION = {
    nw.Implementation.PYSPARK: "pyspark",
    nw.Implementation.PYSPARK_CONNECT: "pyspark",
    nw.Implementation.DASK: "dask",
    nw.Implementation.DUCKDB: "duckdb",
}


def engine_of(frame: Any) -> str | None:
    """The engine of a lazy frame crmmodels computes on, or None.

    One of :data:`ENGINES`; None for eager frames (pandas, polars, pyarrow), for other
    lazy backends and for anything that is not a frame.

    Examples
    --------
    >>> import pandas as pd, polars as pl
    >>> engine_of(pd.DataFrame({"a": [1]})), engine_of(pl.LazyFrame({"a": [1]}))
    (None, 'polars_lazy')
    """
    if not isinstance(frame, (nw.DataFrame, nw.LazyFrame)):
        frame = nw.from_native(frame, pass_through=True)
    if not isinstance(frame, nw.LazyFrame):
        return None
    impl = frame.implementation
    if impl is nw.Implementation.POLARS:
        return "polars_lazy"
    return _BY_IMPLEMENTATION.get(impl)


def on_engine(frame: Any) -> bool:
    """Whether ``frame`` is a lazy frame of one of :data:`ENGINES`.

    Examples
    --------
    >>> import pandas as pd
    >>> on_engine(pd.DataFrame({"a": [1]})), on_engine([1, 2])
    (False, False)
    """
    return engine_of(frame) is not None
