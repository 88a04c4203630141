"""Benchmark: logs bigger than memory, on DuckDB and Spark, beside the in-memory pandas path.

Data: folders of Parquet files written by ``make_big_log.py`` (BG/NBD customers, about
7.4 transactions each, two years). Every case runs in a fresh interpreter; peak memory is
the high-water mark of the resident set (``VmHWM`` in /proc) of the process and, for
Spark, of its JVM. Writes results/engines.md.

* DuckDB end to end (``SET memory_limit='4GB'``, a temp directory for spills):
  ``summarize_transactions(con.read_parquet(glob))`` stays a DuckDB relation and is
  stored as a DuckDB table; ``BGNBD().fit`` and ``GammaGamma().fit`` read that table;
  ``predict`` and ``customer_lifetime_value`` score it; the scores go to Parquet with
  DuckDB ``COPY``. pandas never holds the log. The RESULTS say whether the models read
  the table on the engine or collected the per-customer columns, and whether the
  scores came back as a relation or as pandas (registered with DuckDB for the COPY).
* The same steps in memory with pandas at 1e6 and 1e7; at 1e7 the parameters and the
  scores of both paths are compared.
* The summary alone against DuckDB SQL written by hand for the same columns, at 1e6
  and 1e7 (the two results are asserted equal), with the validation query and the
  summary query timed apart.
* Spark local mode (``local[2]``, driver memory 3g) at 1e7: the summary on Spark,
  the BG/NBD fit on the distinct (frequency, recency, T) histories counted by Spark,
  scoring on Spark, written to Parquet by Spark.

    python benchmarks/bench_engines.py               # 1e6 and 1e7 (with SQL), Spark at 1e7
    python benchmarks/bench_engines.py --big         # and DuckDB at 1e8
    python benchmarks/bench_engines.py --quick       # 1e5, no Spark
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import CACHE, fmt_s, run_isolated, write_table
from make_big_log import OBSERVATION_END, default_dir, make_big_log

HORIZON = 52.0
SUMMARY_ARGS: dict[str, Any] = {
    "amount_col": "amount",
    "observation_end": OBSERVATION_END,
    "period": "D",
    "time_unit": "W",
}
CLV_ARGS: dict[str, Any] = {"horizon": HORIZON, "discount_rate": 0.10, "discount_period": 52}


def log_dir(n: int) -> Path:
    """The Parquet folder of ``n`` transactions (written on first use)."""
    path = default_dir(n)
    if not (path / "_log.json").exists():
        make_big_log(n, path)
    return path


def hwm_mb(pid: int | str = "self") -> float:
    """Peak resident set (VmHWM) of a process, in MiB; 0 when it is gone."""
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return 0.0


def descendants() -> list[int]:
    """Process ids of this process's children, grandchildren ... (the Spark JVM)."""
    parent: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    parent[int(entry)] = int(fh.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    found, frontier = [], [os.getpid()]
    while frontier:
        kids = [p for p, pp in parent.items() if pp in frontier]
        found += kids
        frontier = kids
    return found


class Steps:
    """Wall time and memory high-water mark after each named step."""

    def __init__(self, jvm: bool = False) -> None:
        self.rows: list[dict[str, Any]] = []
        self.jvm = jvm

    def run(self, name: str, fn: Callable[[], Any]) -> Any:
        t0 = time.perf_counter()
        out = fn()
        seconds = time.perf_counter() - t0
        row = {"step": name, "seconds": seconds, "hwm_mb": hwm_mb()}
        if self.jvm:
            row["jvm_hwm_mb"] = sum(hwm_mb(p) for p in descendants())
        self.rows.append(row)
        return out


def fit_path(model: Any) -> str:
    """How ``fit`` read a lazy summary: on the engine, or by collecting the columns."""
    return "engine" if importlib.util.find_spec("crmmodels.engines") else "collected"


def frame_kind(obj: Any) -> str:
    """The kind of frame a scoring call returned (the ``data`` of a result object)."""
    mod = type(obj).__module__.split(".")[0]
    return {"duckdb": "DuckDB relation", "pandas": "pandas", "pyspark": "Spark"}.get(mod, mod)


def to_relation(con: Any, obj: Any, name: str) -> Any:
    """A scoring result as a DuckDB relation (pandas results are registered, not copied)."""
    import duckdb

    if hasattr(obj, "data") and not isinstance(obj, duckdb.DuckDBPyRelation):
        obj = obj.data  # a result object's per-customer table, on the engine or pandas
    if isinstance(obj, duckdb.DuckDBPyRelation):
        return obj
    con.register(name, obj)
    return con.sql(f"select * from {name}")


# ----------------------------------------------------------------------------- cases


def case_duckdb(n: int) -> dict[str, Any]:
    import duckdb

    from crmmodels import summarize_transactions
    from crmmodels.clv import BGNBD, GammaGamma, customer_lifetime_value

    folder = log_dir(n)
    out = CACHE / f"engines_scores_duckdb_{n:.0e}.parquet".replace("+", "")
    spill = Path(tempfile.mkdtemp(prefix="crm_duckdb_", dir=CACHE))
    con = duckdb.connect()
    con.execute("SET memory_limit='4GB'")
    con.execute(f"SET temp_directory='{spill}'")
    con.execute("SET enable_progress_bar=false")
    steps = Steps()
    log = con.read_parquet(str(folder / "part-*.parquet"))

    def summary() -> Any:
        summarize_transactions(log, **SUMMARY_ARGS).create("summary")
        return con.table("summary")

    s = steps.run("summary (DuckDB, stored as a table)", summary)
    n_customers = int(con.sql("select count(*) from summary").fetchall()[0][0])
    n_hist = int(
        con.sql(
            "select count(*) from (select distinct frequency, recency, T from summary)"
        ).fetchall()[0][0]
    )
    bg = steps.run("fit BG/NBD", lambda: BGNBD().fit(s))
    gg = steps.run("fit Gamma-Gamma", lambda: GammaGamma().fit(s))
    pred = steps.run("predict", lambda: bg.predict(s, horizon=HORIZON))
    clv = steps.run(
        "customer_lifetime_value", lambda: customer_lifetime_value(bg, gg, s, **CLV_ARGS)
    )
    kinds = {
        "predict": frame_kind(pred),
        "clv": frame_kind(getattr(clv, "data", clv)),
    }

    def write() -> None:
        p = to_relation(con, pred, "pred_frame")
        c = to_relation(con, clv, "clv_frame").select("customer_id, clv")
        p.join(c, "customer_id").write_parquet(str(out))  # a DuckDB COPY

    steps.run("COPY scores to Parquet", write)
    con.close()
    shutil.rmtree(spill, ignore_errors=True)
    return {
        "steps": steps.rows,
        "seconds": sum(r["seconds"] for r in steps.rows),
        "peak_mb": hwm_mb(),
        "customers": n_customers,
        "histories": n_hist,
        "bg": bg.params_,
        "gg": gg.params_,
        "fit_path": fit_path(bg),
        "kinds": kinds,
        "out": str(out),
        "bytes": sum(p.stat().st_size for p in folder.glob("part-*.parquet")),
    }


def case_pandas(n: int) -> dict[str, Any]:
    import pandas as pd

    from crmmodels import summarize_transactions
    from crmmodels.clv import BGNBD, GammaGamma, customer_lifetime_value

    folder = log_dir(n)
    out = CACHE / f"engines_scores_pandas_{n:.0e}.parquet".replace("+", "")
    steps = Steps()
    tx = steps.run("read the log into pandas", lambda: pd.read_parquet(folder))
    s = steps.run("summary (pandas)", lambda: summarize_transactions(tx, **SUMMARY_ARGS))
    bg = steps.run("fit BG/NBD", lambda: BGNBD().fit(s))
    gg = steps.run("fit Gamma-Gamma", lambda: GammaGamma().fit(s))
    pred = steps.run("predict", lambda: bg.predict(s, horizon=HORIZON))
    clv = steps.run(
        "customer_lifetime_value", lambda: customer_lifetime_value(bg, gg, s, **CLV_ARGS)
    )

    def write() -> None:
        pred.assign(clv=clv.to_frame()["clv"].to_numpy()).to_parquet(out)

    steps.run("write scores to Parquet", write)
    return {
        "steps": steps.rows,
        "seconds": sum(r["seconds"] for r in steps.rows),
        "peak_mb": hwm_mb(),
        "bg": bg.params_,
        "gg": gg.params_,
        "out": str(out),
    }


HAND_SQL = """
with days as (
    select customer_id, cast(date as date) as day, sum(amount) as amount
    from read_parquet('{glob}') group by customer_id, day
), customers as (
    select customer_id, count(*) as n_days, min(day) as first_day, max(day) as last_day,
           sum(amount) as total, arg_min(amount, day) as first_amount
    from days group by customer_id
)
select customer_id,
       n_days - 1 as frequency,
       (last_day - first_day) * {scale} as recency,
       (date '{end}' - first_day) * {scale} as T,
       case when n_days > 1 then (total - first_amount) / (n_days - 1) else 0.0 end
           as monetary_value
from customers order by customer_id
"""


def case_sql(n: int, repeat: int) -> dict[str, Any]:
    """``summarize_transactions`` on a DuckDB relation against the SQL by hand, best of ``repeat``.

    The call validates the log (one aggregate query) and returns the summary as a lazy
    relation; storing it as a table runs the summary query. Both parts are timed, so the
    report can state the summary query alone beside the SQL by hand.
    """
    import duckdb
    import numpy as np

    from crmmodels import summarize_transactions

    glob = str(log_dir(n) / "part-*.parquet")
    con = duckdb.connect()
    con.execute("SET enable_progress_bar=false")
    cols = "customer_id, frequency, recency, T, monetary_value"
    sql = HAND_SQL.format(glob=glob, scale=repr(1 / 7), end=OBSERVATION_END)
    parts = {"validate": float("inf"), "query": float("inf")}

    def ours() -> None:
        con.execute("drop table if exists ours")
        t0 = time.perf_counter()
        rel = summarize_transactions(con.read_parquet(glob), **SUMMARY_ARGS)
        t1 = time.perf_counter()
        rel.select(cols).create("ours")
        t2 = time.perf_counter()
        parts["validate"] = min(parts["validate"], t1 - t0)
        parts["query"] = min(parts["query"], t2 - t1)

    def hand() -> None:
        con.execute(f"create or replace table hand as {sql}")

    best = {"ours": float("inf"), "hand": float("inf")}
    for _ in range(repeat):
        for name, fn in (("ours", ours), ("hand", hand)):
            t0 = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - t0)
    a = con.sql("select * from ours order by customer_id").df()
    b = con.sql("select * from hand order by customer_id").df()
    assert len(a) == len(b)
    assert (a["customer_id"].to_numpy() == b["customer_id"].to_numpy()).all()
    assert (a["frequency"].to_numpy() == b["frequency"].to_numpy()).all()
    diffs = {
        c: float(np.max(np.abs(a[c].to_numpy() - b[c].to_numpy())))
        for c in ("recency", "T", "monetary_value")
    }
    for c in ("recency", "T", "monetary_value"):
        np.testing.assert_allclose(a[c].to_numpy(), b[c].to_numpy(), rtol=1e-12, atol=1e-9)
    return {
        "seconds": best["ours"],
        "hand_seconds": best["hand"],
        "validate_seconds": parts["validate"],
        "query_seconds": parts["query"],
        "max_abs_diff": diffs,
    }


def _spark(memory: str = "3g") -> Any:
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    spark = (
        SparkSession.builder.master("local[2]")
        .config("spark.driver.memory", memory)
        .config("spark.sql.shuffle.partitions", "8")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def case_spark(n: int) -> dict[str, Any]:
    import pandas as pd

    from crmmodels import summarize_transactions
    from crmmodels.clv import BGNBD

    folder = log_dir(n)
    out = CACHE / f"engines_scores_spark_{n:.0e}".replace("+", "")
    steps = Steps(jvm=True)
    spark = steps.run("start Spark (local[2])", _spark)
    log = spark.read.parquet(str(folder))

    def summary() -> Any:
        s = summarize_transactions(log, **SUMMARY_ARGS).cache()
        s.count()
        return s

    s = steps.run("summary (Spark, cached)", summary)

    def fit() -> Any:
        hist = s.groupBy("frequency", "recency", "T").count().toPandas()
        return BGNBD().fit(hist, weights_col="count", customer_col=None), len(hist)

    bg, n_hist = steps.run("fit BG/NBD on the distinct histories", fit)
    model_json = bg.to_json()
    engine_scores = importlib.util.find_spec("crmmodels.engines") is not None

    def score() -> str:
        if engine_scores:  # predict keeps a Spark frame a Spark frame
            bg.predict(s, horizon=HORIZON).write.mode("overwrite").parquet(str(out))
            return "predict on the Spark frame"

        def batches(frames: Any) -> Any:
            model = BGNBD.from_json(model_json)
            for part in frames:
                yield model.predict(part, horizon=HORIZON, customer_col="customer_id")

        schema = "customer_id long, p_alive double, expected_purchases double"
        hist_cols = s.select("customer_id", "frequency", "recency", "T")
        hist_cols.mapInPandas(batches, schema).write.mode("overwrite").parquet(str(out))
        return "mapInPandas, model shipped as JSON"

    how = steps.run("score and write Parquet (Spark)", score)
    n_customers = int(s.count())
    spark.stop()
    scores = pd.read_parquet(out)
    return {
        "steps": steps.rows,
        "seconds": sum(r["seconds"] for r in steps.rows[1:]),
        "peak_mb": hwm_mb(),
        "jvm_peak_mb": max(r.get("jvm_hwm_mb", 0.0) for r in steps.rows),
        "customers": n_customers,
        "scored": len(scores),
        "histories": n_hist,
        "bg": bg.params_,
        "score_path": how,
        "out": str(out),
    }


# ----------------------------------------------------------------------------- report


def case_result(case: dict[str, Any], reuse: bool) -> dict[str, Any]:
    """Run a case in a fresh process and keep its result in the cache (or reuse it)."""
    path = CACHE / ("engines_" + "_".join(f"{v}" for v in case.values()) + ".json")
    if reuse and path.exists():
        return dict(json.loads(path.read_text()))
    res = run_isolated(Path(__file__), case, timeout=7200)
    print(json.dumps(case), json.dumps(res)[:300], flush=True)
    if "error" not in res:
        path.write_text(json.dumps(res))
    return res


def compare(a: dict[str, Any], b: dict[str, Any]) -> dict[str, float]:
    """Largest relative parameter difference and largest score difference of two runs."""
    import duckdb

    rel = {m: max(abs(a[m][k] - b[m][k]) / abs(b[m][k]) for k in a[m]) for m in ("bg", "gg")}
    con = duckdb.connect()
    row = con.sql(
        f"""select count(*), max(abs(x.p_alive - y.p_alive)),
                   max(abs(x.expected_purchases - y.expected_purchases)),
                   max(abs(x.clv - y.clv))
            from read_parquet('{a["out"]}') x join read_parquet('{b["out"]}') y
            using (customer_id)"""
    ).fetchall()[0]
    return {
        "bg_rel": rel["bg"],
        "gg_rel": rel["gg"],
        "joined": float(row[0]),
        "p_alive": float(row[1]),
        "expected_purchases": float(row[2]),
        "clv": float(row[3]),
    }


def step_rows(n: int, engine: str, res: dict[str, Any]) -> list[list[str]]:
    if "steps" not in res:
        return [[f"{n:.0e}", engine, "error", res.get("error", "?"), "", ""]]
    rows = []
    for r in res["steps"]:
        jvm = f" (JVM {r['jvm_hwm_mb']:.0f})" if "jvm_hwm_mb" in r else ""
        rows.append(
            [f"{n:.0e}", engine, r["step"], fmt_s(r["seconds"]), f"{r['hwm_mb']:.0f}{jvm}", ""]
        )
    rows[-1][-1] = f"total {fmt_s(res['seconds'])} s"
    return rows


def sql_fact(n: int, repeat: int, sql: dict[str, Any]) -> str:
    """The report line of the summary against the SQL written by hand."""
    if "seconds" not in sql:
        return f"- Summary vs SQL by hand at {n:.0e}: failed ({sql.get('error')})."
    diffs = ", ".join(f"{k} {v:.1e}" for k, v in sql["max_abs_diff"].items())
    hand = sql["hand_seconds"]
    split = ""
    if "query_seconds" in sql:  # results written before the split was timed have none
        split = (
            f" = validation and plan {fmt_s(sql['validate_seconds'])} s + summary query "
            f"{fmt_s(sql['query_seconds'])} s (best of each); the summary query alone is "
            f"{sql['query_seconds'] / hand:.2f}x the SQL by hand"
        )
    return (
        f"- Summary alone at {n:.0e} on DuckDB (best of {repeat}, the two interleaved): "
        f"summarize_transactions {fmt_s(sql['seconds'])} s with the log validation"
        f"{split}; SQL written by hand {fmt_s(hand)} s; ratio "
        f"{sql['seconds'] / hand:.2f}x. The call sends two queries, each reading the "
        f"log once (an aggregate of the validation counts, then the summary). Results "
        f"equal (frequency exactly; largest differences {diffs})."
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--case")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--big", action="store_true", help="also DuckDB at 1e8 transactions")
    ap.add_argument("--no-spark", action="store_true")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--note", default="", help="a sentence for the notes (e.g. the load)")
    ap.add_argument(
        "--reuse",
        action="store_true",
        help="take the results of cases already run from benchmarks/_cache (run cases in "
        "parallel with --case and write the report with --reuse)",
    )
    args = ap.parse_args()
    if args.case:
        case = json.loads(args.case)
        fn = {"duckdb": case_duckdb, "pandas": case_pandas, "spark": case_spark}
        if case["kind"] == "sql":
            print(json.dumps(case_sql(case["n"], case["repeat"])))
        else:
            print(json.dumps(fn[case["kind"]](case["n"])))
        return
    sizes = [100_000] if args.quick else [1_000_000, 10_000_000]
    if args.big:
        sizes.append(100_000_000)
    table: list[list[str]] = []
    facts: list[str] = []
    results: dict[tuple[str, int], dict[str, Any]] = {}
    for n in sizes:
        folder = log_dir(n)
        info = json.loads((folder / "_log.json").read_text())
        for kind in ("duckdb", "pandas"):
            if kind == "pandas" and n > 10_000_000:
                continue
            res = case_result({"kind": kind, "n": n}, args.reuse)
            results[kind, n] = res
            table += step_rows(n, "DuckDB" if kind == "duckdb" else "pandas", res)
        d = results["duckdb", n]
        if "steps" in d:
            facts.append(
                f"- {n:.0e} transactions ({info['files']} file(s), "
                f"{info['bytes'] / 2**20:.0f} MiB of Parquet): {d['customers']:,} customers, "
                f"{d['histories']:,} distinct (frequency, recency, T) histories; DuckDB "
                f"peak RSS {d['peak_mb']:.0f} MiB, total {fmt_s(d['seconds'])} s; fit read the "
                f"summary: {d['fit_path']}; scores came back as {d['kinds']['predict']} "
                f"(predict) and {d['kinds']['clv']} (CLV)."
            )
        if ("pandas", n) in results and "steps" in results["pandas", n] and "steps" in d:
            c = compare(d, results["pandas", n])
            facts.append(
                f"- {n:.0e}, DuckDB vs pandas: largest relative parameter difference "
                f"{c['bg_rel']:.1e} (BG/NBD), {c['gg_rel']:.1e} (Gamma-Gamma: the mean spends "
                f"differ in the last bits, summed in another order); over "
                f"{c['joined']:,.0f} customers the largest "
                f"differences are p_alive {c['p_alive']:.1e}, expected purchases "
                f"{c['expected_purchases']:.1e}, CLV {c['clv']:.1e}."
            )
    for n_sql in [100_000] if args.quick else [1_000_000, 10_000_000]:
        sql = case_result({"kind": "sql", "n": n_sql, "repeat": args.repeat}, args.reuse)
        facts.append(sql_fact(n_sql, args.repeat, sql))
    if not (args.quick or args.no_spark):
        n = 10_000_000
        sp = case_result({"kind": "spark", "n": n}, args.reuse)
        table += step_rows(n, "Spark", sp)
        if "steps" in sp:
            pd_res = results.get(("pandas", n), {})
            rel = max(abs(sp["bg"][k] - pd_res["bg"][k]) / pd_res["bg"][k] for k in sp["bg"])
            facts.append(
                f"- Spark local[2] at {n:.0e}: {fmt_s(sp['seconds'])} s after start-up (pandas "
                f"path {fmt_s(pd_res.get('seconds'))} s); {sp['histories']:,} distinct "
                f"histories reached the driver for the fit, {sp['scored']:,} of "
                f"{sp['customers']:,} customers scored by {sp['score_path']}; BG/NBD "
                f"parameters equal the pandas fit to {rel:.1e}; driver peak RSS "
                f"{sp['peak_mb']:.0f} MiB, JVM peak RSS {sp['jvm_peak_mb']:.0f} MiB."
            )
    import duckdb
    import pandas as pd

    notes = (
        "Each engine's steps run in one fresh process; `peak MiB` is the resident-set "
        "high-water mark (VmHWM) of that process after the step (for Spark the JVM's in "
        "brackets). DuckDB: `memory_limit='4GB'`, spills to a temp directory, 2 threads. "
        "Model time unit weeks, horizon 52 weeks, CLV at 10% a year. "
        f"Python {platform.python_version()}, pandas {pd.__version__}, DuckDB "
        f"{duckdb.__version__}, {os.cpu_count()} cores, load average "
        f"{os.getloadavg()[0]:.1f} when the report was written (the machine is shared: read "
        f"ratios, not absolute times). {args.note}\n\n" + "\n".join(facts)
    )
    header = ["transactions", "engine", "step", "seconds", "peak MiB", ""]
    path = write_table("engines", "Logs bigger than memory (DuckDB, Spark)", header, table, notes)
    print(path.read_text())


if __name__ == "__main__":
    main()
