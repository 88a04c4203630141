"""The customer summary on lazy engines: the pandas rows and errors, the log read twice.

``summarize_transactions`` on DuckDB, polars lazy, Dask and PySpark runs one validation
aggregate and one summary query on the engine. The rows equal the pandas path (frequency
exactly, the rest to 1e-12), every validation error is the pandas one (class, message,
bad-row count and example), the caller's frame is left as it was, and a counter in the
source shows how many times the engine read the log.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Callable
from typing import Any

import narwhals.stable.v2 as nw
import numpy as np
import pandas as pd
import pytest

from crmmodels.errors import DataError, SchemaError
from crmmodels.transactions import summarize_transactions

from _engines import to_engine, to_pandas

LAZY = ["duckdb", "polars_lazy"] + [
    e for e, m in (("dask", "dask"), ("pyspark", "pyspark")) if importlib.util.find_spec(m)
]
NUMBERS = ["frequency", "recency", "T", "monetary_value", "n_orders", "total_value"]


def _log(seed: int = 0, n_customers: int = 40) -> pd.DataFrame:
    """A log where first periods often hold several purchases (the first amount is a sum)."""
    rng = np.random.default_rng(seed)
    n = n_customers * 6
    ids = rng.integers(0, n_customers, n)
    start = pd.Timestamp("2024-01-01")
    first_day = rng.integers(0, 60, n_customers)
    days = first_day[ids] + rng.choice([0, 0, 0, 1, 2, 9, 30, 61], n)
    seconds = rng.integers(0, 86_400, n)
    dates = start + pd.to_timedelta(days, unit="D") + pd.to_timedelta(seconds, unit="s")
    amounts = np.round(rng.gamma(2.0, 15.0, n), 2)
    amounts[rng.random(n) < 0.1] = 0.0
    return pd.DataFrame({"customer_id": ids, "date": dates, "amount": amounts})


def _same_rows(got: pd.DataFrame, ref: pd.DataFrame, customer_col: str = "customer_id") -> None:
    got = got.sort_values(customer_col).reset_index(drop=True)
    assert list(got.columns) == list(ref.columns)
    assert got[customer_col].tolist() == ref[customer_col].tolist()
    assert got["frequency"].tolist() == ref["frequency"].tolist()
    assert got["n_orders"].tolist() == ref["n_orders"].tolist()
    for col in ("recency", "T", "monetary_value", "total_value"):
        if col in ref:
            np.testing.assert_allclose(got[col], ref[col], rtol=1e-12, atol=1e-12, err_msg=col)
    first = pd.to_datetime(got["first_purchase"]).dt.tz_localize(None).dt.as_unit("us")
    assert first.tolist() == ref["first_purchase"].dt.as_unit("us").tolist()


GRIDS: list[dict[str, Any]] = [
    {"period": "D", "time_unit": "W"},
    {"period": "W"},
    {"period": "M"},
    {"period": 3},
    {"period": "h", "time_unit": "D"},
]


@pytest.mark.parametrize("grid", GRIDS, ids=lambda g: "-".join(map(str, g.values())))
@pytest.mark.parametrize("engine", LAZY)
def test_lazy_engines_give_the_pandas_summary(engine: str, grid: dict[str, Any]) -> None:
    tx = _log(seed=len(engine))
    args = {"amount_col": "amount", "observation_end": "2024-05-31", **grid}
    ref = summarize_transactions(tx, **args)
    _same_rows(to_pandas(summarize_transactions(to_engine(tx, engine), **args)), ref)
    args.pop("amount_col")
    ref = summarize_transactions(tx, **args)
    _same_rows(to_pandas(summarize_transactions(to_engine(tx, engine), **args)), ref)


@pytest.mark.parametrize("engine", ["duckdb", "polars_lazy"])
def test_refunds_integer_amounts_and_odd_column_names(engine: str) -> None:
    tx = _log(seed=3).rename(
        columns={"customer_id": 'customer "id"', "date": "day of sale", "amount": "amount €"}
    )
    tx["amount €"] = (tx["amount €"] * 100).astype(np.int64) - 2_000  # cents, some refunds
    args = {
        "customer_col": 'customer "id"',
        "date_col": "day of sale",
        "amount_col": "amount €",
        "allow_negative": True,
    }
    ref = summarize_transactions(tx, **args)
    assert (ref["monetary_value"] < 0).any()
    got = to_pandas(summarize_transactions(to_engine(tx, engine), **args))
    _same_rows(got, ref, customer_col='customer "id"')


def test_first_period_amount_is_the_sum_of_that_period() -> None:
    tx = pd.DataFrame(
        {
            "customer_id": ["b", "b", "b", "a", "b", "a"],
            "date": pd.to_datetime(
                [
                    "2024-01-03 18:00",
                    "2024-01-01 09:00",
                    "2024-01-01 20:00",
                    "2024-01-02 00:00",
                    "2024-01-10 00:00",
                    "2024-01-05 00:00",
                ]
            ),
            "amount": [4.0, 10.0, 5.0, 1.0, 8.0, 3.0],
        }
    )
    for engine in LAZY:
        got = to_pandas(summarize_transactions(to_engine(tx, engine), amount_col="amount"))
        got = got.sort_values("customer_id")
        # b: days 1 (10 + 5), 3 (4) and 10 (8): repeat periods average (4 + 8) / 2
        assert got["monetary_value"].tolist() == [3.0, 6.0], engine
        assert got["total_value"].tolist() == [4.0, 27.0], engine


# ---------------------------------------------------------------- errors


def _tx() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
            "date": pd.to_datetime(
                [
                    "2024-01-01 10:00",
                    "2024-01-02 11:30",
                    "2024-01-03 09:15",
                    "2024-01-04 23:10",
                    "2024-01-04 12:20",
                    "2024-01-04 12:40",
                ]
            ),
            "amount": [10.0, 20.0, 5.0, 7.5, 1.0, 2.0],
        }
    )


def _set(column: str, rows: list[int], value: Any) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def change(tx: pd.DataFrame) -> pd.DataFrame:
        tx = tx.copy()
        if isinstance(value, list):
            tx[column] = value
        else:
            tx.loc[rows, column] = value
        return tx

    return change


BAD: dict[str, tuple[Callable[[pd.DataFrame], pd.DataFrame], dict[str, Any], type[Exception]]] = {
    "null id": (
        _set("customer_id", [], ["a", "b", None, "d", None, "f"]),
        {},
        DataError,
    ),
    "null date": (_set("date", [1], pd.NaT), {}, DataError),
    "null amount": (_set("amount", [3, 5], None), {"amount_col": "amount"}, DataError),
    "negative amount": (_set("amount", [1, 4], -3.0), {"amount_col": "amount"}, DataError),
    "infinite amount": (_set("amount", [5], np.inf), {"amount_col": "amount"}, DataError),
    "after the end day": (_set("date", [], None), {"observation_end": "2024-01-03"}, DataError),
    "after the end hour": (
        _set("date", [], None),
        {"observation_end": "2024-01-04 12:30", "period": "h"},
        DataError,
    ),
    "after the end minute": (
        _set("date", [], None),
        {"observation_end": "2024-01-04 12:20", "period": "min"},
        DataError,
    ),
    "text amounts": (
        _set("amount", [], ["$1", "$2", "$3", "$4", "$5", "$6"]),
        {"amount_col": "amount"},
        SchemaError,
    ),
    "numbers as dates": (_set("date", [], [1, 2, 3, 4, 5, 6]), {}, SchemaError),
}


@pytest.mark.parametrize("case", list(BAD))
@pytest.mark.parametrize("engine", LAZY)
def test_every_validation_error_is_the_pandas_one(engine: str, case: str) -> None:
    change, args, kind = BAD[case]
    tx = change(_tx())
    with pytest.raises(kind) as on_pandas:
        summarize_transactions(tx, **args)
    with pytest.raises(kind) as on_engine:
        summarize_transactions(to_engine(tx, engine), **args)
    assert type(on_engine.value) is type(on_pandas.value)
    assert str(on_engine.value) == str(on_pandas.value)


@pytest.mark.parametrize("engine", LAZY)
def test_an_empty_log_is_the_pandas_error(engine: str) -> None:
    native = nw.to_native(nw.from_native(to_engine(_tx(), engine)).head(0))
    with pytest.raises(DataError) as on_pandas:
        summarize_transactions(_tx().iloc[:0])
    with pytest.raises(DataError) as on_engine:
        summarize_transactions(native)
    assert str(on_engine.value) == str(on_pandas.value)


def _with_nan(engine: str, tx: pd.DataFrame) -> Any:
    """``tx`` on an engine that keeps a float NaN as NaN (DuckDB and polars read it as null)."""
    if engine == "polars_lazy":
        import polars as pl

        return pl.from_pandas(tx, nan_to_null=False).lazy()
    import duckdb

    con = duckdb.connect()
    con.register("tx", tx.fillna(-1.0))
    nan = "case when {c} = -1 then 'nan'::double else {c} end as {c}"
    return con.sql(
        f"select * replace ({nan.format(c='customer_id')}, {nan.format(c='amount')}) from tx"
    )


@pytest.mark.parametrize("engine", ["duckdb", "polars_lazy"])
@pytest.mark.parametrize("column", ["customer_id", "amount"])
def test_a_nan_is_a_missing_value_on_every_engine(engine: str, column: str) -> None:
    tx = _set(column, [1, 4], np.nan)(_tx())
    with pytest.raises(DataError) as on_pandas:
        summarize_transactions(tx, amount_col="amount")
    with pytest.raises(DataError) as on_engine:
        summarize_transactions(_with_nan(engine, tx), amount_col="amount")
    assert str(on_engine.value) == str(on_pandas.value)
    assert f"'{column}' is null in 2 rows" in str(on_engine.value)
    assert "A NaN counts as a missing value." in str(on_engine.value)


def test_the_error_messages_name_the_rows() -> None:
    messages = {}
    for case, (change, args, kind) in BAD.items():
        with pytest.raises(kind) as err:
            summarize_transactions(to_engine(change(_tx()), "duckdb"), **args)
        messages[case] = str(err.value)
    assert "'customer_id' is null in 2 rows" in messages["null id"]
    assert "'date' is null in 1 row (first example: 'customer_id=2.0')" in messages["null date"]
    assert "'amount' is negative in 2 rows" in messages["negative amount"]
    assert "'customer_id': 2.0" in messages["negative amount"]
    assert "'amount' is not finite in 1 row" in messages["infinite amount"]
    assert "after the observation end 2024-01-03 in 3 rows" in messages["after the end day"]
    hour = messages["after the end hour"]
    assert "after the one holding observation_end in 1 row" in hour
    assert "2024-01-04 23:10:00" in hour
    minute = messages["after the end minute"]
    assert "in 2 rows (first example: '2024-01-04 23:10:00')" in minute


# ---------------------------------------------------------------- the caller's frame


def test_the_callers_relation_and_lazy_frame_are_unchanged() -> None:
    import duckdb
    import polars as pl

    tx = _log()
    con = duckdb.connect()
    con.register("log_frame", tx)
    con.execute("create table log as select * from log_frame")
    rel = con.sql("select * from log")
    before = (rel.columns, [str(t) for t in rel.types], rel.sql_query())
    rows = con.sql("select * from log order by all").fetchall()
    out = summarize_transactions(rel, amount_col="amount", period="W")
    out.fetchall()
    assert (rel.columns, [str(t) for t in rel.types], rel.sql_query()) == before
    assert con.sql("select * from log order by all").fetchall() == rows
    lf = pl.from_pandas(tx).lazy()
    plan = lf.explain()
    summarize_transactions(lf, amount_col="amount", period="W").collect()
    assert lf.explain() == plan
    pd.testing.assert_frame_equal(lf.collect().to_pandas(), tx, check_dtype=False)


# ---------------------------------------------------------------- reads of the log


class _Watched:
    """A DuckDB table with the engine's query log and profiler on: queries and their reads.

    ``queries()`` counts the statements DuckDB ran since the last call (and runs one
    itself), ``reads()`` the scans of the table in the last statement (from the
    profiler's operator tree): ask ``reads()`` first.
    """

    def __init__(self, tx: pd.DataFrame) -> None:
        import duckdb

        self.con = duckdb.connect()
        self.con.register("log_frame", tx)
        self.con.execute("create table log_table as select * from log_frame").fetchall()
        self.relation = self.con.sql("select * from log_table")
        self.con.execute("CALL enable_logging('QueryLog')").fetchall()
        self.con.execute("SET enable_profiling='no_output'").fetchall()
        self._seen = self._logged()

    def _logged(self) -> int:
        rows = self.con.execute(
            "select count(*) from duckdb_logs where type = 'QueryLog' "
            "and message not ilike 'select count(*) from duckdb_logs%'"
        ).fetchall()
        return int(rows[0][0])

    def queries(self) -> int:
        seen = self._logged()
        new, self._seen = seen - self._seen, seen
        return new

    def reads(self) -> int:
        profile = json.loads(self.con.get_profiling_information())

        def walk(node: Any) -> int:
            if isinstance(node, list):
                return sum(walk(n) for n in node)
            if not isinstance(node, dict):
                return 0
            info = node.get("extra_info")
            table = str(info.get("Table", "")) if isinstance(info, dict) else ""
            return int(table.split(".")[-1] == "log_table") + walk(list(node.values()))

        return walk(profile)


SCANS: list[dict[str, Any]] = [
    {"amount_col": "amount", "observation_end": "2024-05-31", "period": "D", "time_unit": "W"},
    {"amount_col": "amount"},
    {},
    {"observation_end": "2024-05-31 12:00", "period": "h"},
    {"amount_col": "amount", "observation_end": "2024-05-31", "period": "M"},
]


@pytest.mark.parametrize("args", SCANS, ids=lambda a: "-".join(map(str, a.values())) or "plain")
def test_duckdb_reads_the_log_twice(args: dict[str, Any]) -> None:
    log = _Watched(_log(n_customers=200))
    out = summarize_transactions(log.relation, **args)
    assert log.reads() == 1  # the last query (read before the query log is asked)
    assert log.queries() == 1  # is the only one: an aggregate validates, no example query
    out.fetchall()
    assert log.reads() == 1  # and one query summarises, reading the log once
    assert log.queries() == 1


def test_a_failing_check_fetches_its_example() -> None:
    tx = _log(n_customers=50)
    tx.loc[7, "amount"] = -1.0
    log = _Watched(tx)
    with pytest.raises(DataError, match=r"'amount' is negative in 1 row"):
        summarize_transactions(log.relation, amount_col="amount")
    assert log.queries() == 2  # the counts, then the example


def test_polars_lazy_reads_the_log_twice() -> None:
    import polars as pl

    tx = _log(n_customers=200)
    seen = [0]

    def tally(df: Any) -> Any:
        seen[0] += df.height
        return df

    source = pl.from_pandas(tx).lazy()
    lf = source.map_batches(tally, schema=source.collect_schema())
    out = summarize_transactions(lf, amount_col="amount", observation_end="2024-05-31")
    assert seen[0] == len(tx)
    out.collect()
    assert seen[0] == 2 * len(tx)
