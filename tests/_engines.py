"""Turn a pandas frame into every engine the library supports, and back."""

from __future__ import annotations

import functools
from typing import Any

import narwhals.stable.v2 as nw
import pandas as pd

ENGINES = ["pandas", "polars", "polars_lazy", "pyarrow", "duckdb", "dask", "pyspark"]


@functools.cache
def spark_session() -> Any:
    import os

    os.environ.setdefault("PYSPARK_PYTHON", __import__("sys").executable)
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master("local[1]")
        .appName("crmmodels-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def to_engine(df: pd.DataFrame, engine: str) -> Any:
    """Return ``df`` as a native frame of ``engine``."""
    if engine == "pandas":
        return df.copy()
    if engine in ("polars", "polars_lazy"):
        import polars as pl

        out = pl.from_pandas(df)
        return out.lazy() if engine == "polars_lazy" else out
    if engine == "pyarrow":
        import pyarrow as pa

        return pa.Table.from_pandas(df, preserve_index=False)
    if engine == "duckdb":
        import duckdb

        con = duckdb.connect()
        con.register("_df", df)
        return con.sql("select * from _df")
    if engine == "dask":
        import dask.dataframe as dd

        return dd.from_pandas(df, npartitions=2)
    if engine == "pyspark":
        return spark_session().createDataFrame(df)
    raise ValueError(engine)


def to_pandas(native: Any) -> pd.DataFrame:
    """Collect any native frame (eager or lazy) into pandas."""
    if isinstance(native, pd.DataFrame):
        return native
    frame = nw.from_native(native)
    if isinstance(frame, nw.LazyFrame):
        frame = frame.collect()
    return frame.to_pandas()
