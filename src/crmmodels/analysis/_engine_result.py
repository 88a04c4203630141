"""The result of ``analyze`` on an engine frame: the customer table stays a lazy frame.

:class:`EngineCustomerAnalysis` is a :class:`CustomerAnalysis` whose ``customers`` is a
lazy frame of the caller's engine. It keeps at the driver only the few customers the
report lists (the top customers by CLV); :meth:`to_frame` collects the table when the
caller asks for it, and :meth:`to_parquet` writes it from the engine.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import narwhals.stable.v2 as nw
import pandas as pd

from crmmodels._ingest.frames import collect
from crmmodels.analysis._customers import LABEL_ORDER, _labels, _narrow_ints
from crmmodels.analysis._result import CustomerAnalysis
from crmmodels.engines import engine_of

__all__ = ["ENGINE_ROUTE", "EngineCustomerAnalysis", "engine_of", "pandas_table", "top_rows"]

#: the engines on which ``analyze`` keeps the customer table (every lazy engine)
ENGINE_ROUTE = ("dask", "duckdb", "polars_lazy", "pyspark")

#: customers kept at the driver for the report's top-customers table
TOP_ROWS = 20

_INTS = {"r_score": "Int8", "f_score": "Int8", "m_score": "Int8", "clv_rank": "Int32"}
_INTS["clv_decile"] = "Int8"
_LABELS = ("rfm", "rfm_segment", "lifecycle_stage", "relationship_stage", "value_class")


def pandas_table(frame: Any) -> pd.DataFrame:
    """A collected customer table with the pandas path's types (categoricals, nullable ints)."""
    out = collect(nw.from_native(frame)).to_pandas()
    for col, dtype in _INTS.items():
        out[col] = _narrow_ints(out[col].astype("Float64").array, dtype)
    for col in (*_LABELS, "quadrant"):
        values = out[col].astype(object).where(out[col].notna(), None).to_numpy()
        out[col] = _labels(values, LABEL_ORDER.get(col, ()))
    churn = pd.CategoricalDtype(list(LABEL_ORDER["churn_risk"]))
    out["churn_risk"] = pd.Categorical(out["churn_risk"].to_numpy(dtype=object), dtype=churn)
    return out


def top_rows(table: Any, customer_col: str, n: int = TOP_ROWS) -> pd.DataFrame:
    """The ``n`` customers of highest CLV (by total value without CLV), collected."""
    has_clv = int(collect(table.select(nw.col("clv").count())).item(0, 0) or 0) > 0
    key = "clv" if has_clv else "total_value"
    top = table.sort([key, customer_col], descending=[True, False], nulls_last=True).head(n)
    return pandas_table(nw.to_native(top))


@dataclasses.dataclass(frozen=True)
class QuadrantValues:
    """The CLV quadrants of an engine run as aggregates: thresholds and current values.

    ``current`` maps each quadrant to the summed current value (spend of the last year)
    of its customers.
    """

    current_threshold: float
    potential_threshold: float
    current: dict[str, float]


@dataclasses.dataclass(frozen=True, repr=False)
class EngineCustomerAnalysis(CustomerAnalysis):
    """A :class:`CustomerAnalysis` of an engine log (see :func:`crmmodels.analyze`).

    ``customers`` is a lazy frame of the log's engine (PySpark, Dask, DuckDB or polars),
    computed there. ``clv``, ``rfm``, ``lifecycle``, ``relationship``, ``portfolio`` and
    ``quadrants`` are None: their per-customer columns are in ``customers``, and the
    key figures, the model selection, the equity and the retention are aggregates.
    ``quadrant_values`` holds the quadrants' thresholds and the current value of each
    quadrant (aggregates kept for the report; None when the quadrant step was skipped).
    """

    quadrant_values: QuadrantValues | None = dataclasses.field(default=None, repr=False)

    def to_frame(self) -> pd.DataFrame:
        """The customer table collected into pandas (every customer reaches the driver)."""
        return pandas_table(self.customers)

    def to_parquet(self, path: str | Path) -> Path:
        """Write the customer table to Parquet from the engine and return its path.

        DuckDB and polars write one file; Spark and Dask write a folder of part files
        (``pandas.read_parquet`` reads either).
        """
        out = Path(path)
        native = self.customers
        if hasattr(native, "write_parquet"):  # DuckDB relation
            native.write_parquet(str(out))
        elif hasattr(native, "sink_parquet"):  # polars LazyFrame
            native.sink_parquet(out)
        elif hasattr(native, "sparkSession"):  # Spark writes a folder of part files
            native.write.mode("overwrite").parquet(str(out))
        elif engine_of(nw.from_native(native)) == "dask":  # a folder of part files too
            native.to_parquet(str(out), write_index=False, overwrite=out.exists())
        else:
            self.to_frame().to_parquet(out, index=False)
        return out
