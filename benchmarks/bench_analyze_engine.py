"""Benchmark: ``analyze`` on a DuckDB relation or a Dask frame beside the pandas path.

Data: the Parquet logs of ``make_big_log.py`` (1e6 and 1e7 transactions). Each case runs
in its own interpreter (the peak resident set, ``VmHWM``, is that case's alone):

* ``duckdb``: ``crm.analyze(con.read_parquet(glob))``; the customer table stays a DuckDB
  relation and is written to Parquet by DuckDB (``COPY``), so the per-customer rows never
  reach pandas;
* ``dask``: ``crm.analyze(dd.read_parquet(folder))`` on Dask's default (threaded)
  scheduler; the customer table stays a Dask frame and is written by Dask;
* ``pandas``: ``crm.analyze(pd.read_parquet(folder))``, the table written with pandas.

Also counted for the engine cases: the rows the analysis collected to Python (narwhals
``collect`` calls) against the number of customers. Prints one JSON line per case.

    python benchmarks/bench_analyze_engine.py --rows 1e6 --engine duckdb
    python benchmarks/bench_analyze_engine.py --rows 1e6 --engine dask
    python benchmarks/bench_analyze_engine.py --rows 1e7 --engine pandas
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_big_log import OBSERVATION_END, default_dir


def _peak_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run(rows: int, engine: str) -> dict[str, Any]:
    import narwhals.stable.v2 as nw

    import crmmodels as crm

    folder = default_dir(rows)
    collected: list[int] = []
    real = nw.LazyFrame.collect

    def counting(self: Any, *args: Any, **kwargs: Any) -> Any:
        out = real(self, *args, **kwargs)
        collected.append(len(out))
        return out

    nw.LazyFrame.collect = counting  # type: ignore[method-assign]
    out_path = Path(tempfile.mkdtemp()) / "customers.parquet"
    start = time.perf_counter()
    if engine == "duckdb":
        import duckdb

        con = duckdb.connect()
        log = con.read_parquet(str(folder / "*.parquet"))
    elif engine == "dask":
        import dask.dataframe as dd

        log = dd.read_parquet(str(folder))
    else:
        import pandas as pd

        log = pd.read_parquet(folder)
    read = time.perf_counter() - start
    result = crm.analyze(log, observation_end=OBSERVATION_END)
    analysed = time.perf_counter() - start
    result.to_parquet(out_path)
    total = time.perf_counter() - start
    return {
        "rows": rows,
        "engine": engine,
        "customers": result.key_figures.n_customers,
        "read_s": round(read, 2),
        "analyze_s": round(analysed - read, 2),
        "total_s": round(total, 2),
        "peak_mib": round(_peak_mib()),
        "collects": len(collected),
        "rows_collected": sum(collected),
        "largest_collect": max(collected, default=0),
        "equity": result.key_figures.customer_equity,
        "model": result.transaction_model,
        "steps": {s.name: round(s.seconds, 2) for s in result.steps.steps},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=float, default=1e6)
    parser.add_argument("--engine", choices=["dask", "duckdb", "pandas"], default="duckdb")
    args = parser.parse_args()
    print(json.dumps(run(int(args.rows), args.engine)))


if __name__ == "__main__":
    main()
