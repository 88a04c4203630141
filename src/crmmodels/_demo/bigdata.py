"""Demo step: a Parquet log summarised and scored on DuckDB, equal to the pandas path."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from crmmodels.analysis import analyze
from crmmodels.clv import BGNBD
from crmmodels.datasets import simulate_transactions
from crmmodels.transactions import summarize_transactions

END = "1997-09-30"
ARGS: dict[str, Any] = {"amount_col": "amount", "observation_end": END, "time_unit": "W"}


def _frame(obj: Any) -> pd.DataFrame:
    """A scoring result as pandas (a DuckDB relation is read, pandas kept)."""
    return obj if isinstance(obj, pd.DataFrame) else obj.df()


def run(out_dir: Path) -> list[str]:
    """Write a simulated log as Parquet, then summarise, fit and score it on DuckDB."""
    try:
        import duckdb
    except ModuleNotFoundError:
        return ["DuckDB is not installed (pip install 'crmmodels[duckdb]'): step skipped."]
    log = simulate_transactions(20_000, seed=14)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "log.parquet"
        log.to_parquet(path)
        con = duckdb.connect()
        con.execute("SET enable_progress_bar=false")
        summarize_transactions(con.read_parquet(str(path)), **ARGS).create("summary")
        summary = con.table("summary")
        n_hist = con.sql(
            "select count(*) from (select distinct frequency, recency, T from summary)"
        ).fetchall()[0][0]
        on_duckdb = BGNBD().fit(summary)
        scores = _frame(on_duckdb.predict(summary, horizon=39)).sort_values("customer_id")
        # the whole customer-base analysis with its table kept on DuckDB
        result = analyze(con.read_parquet(str(path)), amount_col="amount", observation_end=END)
        table = result.customers
        top = table.order("clv_rank").limit(3).select("customer_id, clv, value_class").df()
        n_table = table.count("*").fetchall()[0][0]
        con.close()
    in_memory = BGNBD().fit(summarize_transactions(log, **ARGS))
    pandas_scores = in_memory.predict(summarize_transactions(log, **ARGS), horizon=39)
    pandas_scores = pandas_scores.sort_values("customer_id")
    diff = np.abs(
        scores["expected_purchases"].to_numpy() - pandas_scores["expected_purchases"].to_numpy()
    ).max()
    params = pd.DataFrame({"DuckDB": on_duckdb.params_, "pandas": in_memory.params_})
    return [
        f"log: {len(log):,} transactions of {log['customer_id'].nunique():,} customers, "
        f"read from Parquet by DuckDB (pandas never holds it on that path)",
        f"distinct (frequency, recency, T) histories the fit needs: {n_hist:,}",
        params.round(6).to_string(),
        f"largest difference of expected purchases over 39 weeks, DuckDB vs pandas: {diff:.1e}",
        f"crm.analyze on the DuckDB relation: a {type(table).__name__} of {n_table:,} "
        f"customers, computed on DuckDB (model {result.transaction_model}); its top 3:\n"
        + top.round(2).to_string(index=False),
        "The same calls run on Spark and Dask: see the 'Scaling out' page.",
    ]
