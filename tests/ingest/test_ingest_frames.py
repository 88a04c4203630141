"""``crmmodels._ingest.frames``: the frame boundary on pandas, polars, pyarrow and DuckDB.

Each helper is checked against what its docstring promises, on eager and lazy engines,
with independent references (pandas' own date arithmetic, numpy counts).
"""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

import narwhals.stable.v2 as nw
import numpy as np
import pandas as pd
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmmodels._ingest.frames import (
    check_columns,
    check_ids,
    check_not_null,
    collect,
    count_rows,
    count_true,
    day_number,
    is_lazy,
    local_dates,
    missing,
    native_like,
    numeric_amounts,
    pandas_ready,
    python_scalar,
    to_narwhals,
    to_pandas,
)
from crmmodels.errors import DataError, SchemaError

from _engines import to_engine

ENGINES = ["pandas", "polars", "polars_lazy", "pyarrow", "duckdb"]
LAZY = {"polars_lazy", "duckdb"}


def _frame(df: pd.DataFrame, engine: str) -> Any:
    return to_narwhals(to_engine(df, engine))


# ---------------------------------------------------------------------------------------
# wrapping, collecting, counting


@pytest.mark.parametrize("engine", ENGINES)
def test_to_narwhals_collect_and_back(engine: str) -> None:
    df = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]})
    native = to_engine(df, engine)
    frame = to_narwhals(native)
    assert is_lazy(frame) is (engine in LAZY)
    assert isinstance(collect(frame), nw.DataFrame)
    assert to_narwhals(frame) is frame  # a narwhals frame passes through
    assert native_like(frame) is native
    assert count_rows(frame) == 3
    back = to_pandas(frame)
    assert isinstance(back, pd.DataFrame)
    pd.testing.assert_frame_equal(
        back.sort_values("a").reset_index(drop=True), df, check_dtype=False
    )


def test_collect_is_a_no_op_for_eager_frames() -> None:
    frame = to_narwhals(pl.DataFrame({"a": [1]}))
    assert collect(frame) is frame


@pytest.mark.parametrize("data", [[1, 2], {"a": [1]}, "table", None, np.zeros(3)])
def test_to_narwhals_refuses_non_frames_naming_the_input(data: Any) -> None:
    with pytest.raises(SchemaError, match=r"^orders must be a dataframe .* got "):
        to_narwhals(data, what="orders")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (np.int64(3), 3),
        (np.float32(0.5), 0.5),
        (np.bool_(True), True),
        (np.datetime64("2024-01-02", "D"), dt.date(2024, 1, 2)),
        ("text", "text"),
        (b"raw", b"raw"),
        (7, 7),
        (None, None),
    ],
)
def test_python_scalar(value: Any, expected: Any) -> None:
    out = python_scalar(value)
    assert out == expected
    assert type(out) is type(expected)


@pytest.mark.parametrize("engine", ENGINES)
def test_count_true_counts_like_numpy(engine: str) -> None:
    values = np.array([3.0, -1.0, 0.0, -2.5, 7.0, -0.1])
    frame = _frame(pd.DataFrame({"a": values}), engine)
    out = collect(frame.select(count_true(nw.col("a") < 0).alias("n")))
    assert int(out.item(0, 0)) == int(np.count_nonzero(values < 0))
    none = collect(frame.select(count_true(nw.col("a") > 100).alias("n")))
    assert int(none.item(0, 0) or 0) == 0


# ---------------------------------------------------------------------------------------
# columns and ids


@pytest.mark.parametrize("engine", ENGINES)
def test_check_columns_names_the_missing_column_and_suggests(engine: str) -> None:
    frame = _frame(pd.DataFrame({"customerid": [1], "date": ["2024-01-01"]}), engine)
    check_columns(frame, ["customerid", "date"])
    with pytest.raises(SchemaError) as info:
        check_columns(frame, ["date", "customer_id", "amount"], what="tx")
    text = str(info.value)
    assert text.startswith("tx has no column 'customer_id'. Did you mean 'customerid'?")
    assert "amount" not in text.split("Available")[0]  # the first missing column only


def test_check_columns_explains_non_text_column_names() -> None:
    frame = to_narwhals(pd.DataFrame({0: [1], "date": [2]}))
    with pytest.raises(SchemaError, match=r"not all text: name the columns with text first"):
        check_columns(frame, ["customer_id"])


def test_check_ids_refuses_mixed_id_types_with_counts_and_example() -> None:
    df = pd.DataFrame({"cid": [1, 2, 3, "3", None]})
    with pytest.raises(SchemaError) as info:
        check_ids(df, "cid", what="tx")
    text = str(info.value)
    assert text.startswith(
        "tx: column 'cid' mixes value types (3 int, 1 str; first str value: '3')"
    )
    assert "df['cid'] = df['cid'].astype(str)" in text


@pytest.mark.parametrize(
    "data",
    [
        pd.DataFrame({"cid": [1, 2, None]}),
        pd.DataFrame({"cid": ["a", "b", None]}),
        pd.DataFrame({"other": [1, "1"]}),  # the column is absent: nothing to check
        pl.DataFrame({"cid": [1, 2]}),
    ],
)
def test_check_ids_accepts_one_id_type(data: Any) -> None:
    check_ids(data, "cid")


# ---------------------------------------------------------------------------------------
# nulls and missing values


@pytest.mark.parametrize("engine", ENGINES)
def test_check_not_null_names_column_count_and_first_id(engine: str) -> None:
    df = pd.DataFrame(
        {"customer_id": [10, 11, 12, 13], "amount": [1.0, None, 2.0, None], "ok": [1, 2, 3, 4]}
    )
    frame = _frame(df, engine)
    check_not_null(frame, ["customer_id", "ok"])
    check_not_null(frame, [])
    with pytest.raises(DataError) as info:
        check_not_null(frame, ["ok", "amount"], what="tx", id_col="customer_id")
    assert str(info.value) == (
        "tx: column 'amount' is null in 2 rows (first example: 'customer_id=11')."
    )


@pytest.mark.parametrize("engine", ["polars", "polars_lazy", "duckdb"])
def test_check_not_null_counts_nan_only_when_asked(engine: str) -> None:
    df = pl.DataFrame({"x": [1.0, float("nan"), None, float("nan")]})
    native = df.lazy() if engine == "polars_lazy" else df
    if engine == "duckdb":
        import duckdb

        native = duckdb.connect().sql("select * from df")
    frame = to_narwhals(native)
    with pytest.raises(DataError, match=r"is null in 1 row \(first example: 'null'\)\.$"):
        check_not_null(frame, ["x"])
    with pytest.raises(DataError) as info:
        check_not_null(frame, ["x"], nan_is_null=True)
    text = str(info.value)
    assert "column 'x' is null in 3 rows" in text
    assert text.endswith("A NaN counts as a missing value.")


@pytest.mark.parametrize("engine", ["polars", "polars_lazy", "duckdb", "pyarrow"])
def test_missing_marks_nulls_and_nan_of_float_columns(engine: str) -> None:
    df = pl.DataFrame(
        {"f": [1.0, float("nan"), None, 2.0], "i": [1, None, 3, 4], "s": ["a", None, "c", "d"]}
    )
    native: Any = df
    if engine == "polars_lazy":
        native = df.lazy()
    elif engine == "duckdb":
        import duckdb

        native = duckdb.connect().sql("select * from df")
    elif engine == "pyarrow":
        native = df.to_arrow()
    frame = to_narwhals(native)
    schema = frame.collect_schema()
    out = collect(frame.select(*[missing(c, schema[c]).alias(c) for c in ("f", "i", "s")]))
    assert out["f"].to_list() == [False, True, True, False]
    assert out["i"].to_list() == [False, True, False, False]
    assert out["s"].to_list() == [False, True, False, False]


# ---------------------------------------------------------------------------------------
# dates


@pytest.mark.parametrize("engine", ENGINES)
def test_day_number_matches_pandas_days_since_epoch(engine: str) -> None:
    dates = pd.to_datetime(
        ["1970-01-01", "1969-12-31 23:59", "2000-02-29 12:00", "1900-03-01", "2199-12-31"],
        format="ISO8601",
    )
    frame = _frame(pd.DataFrame({"d": dates}), engine)
    out = collect(frame.select(day_number(nw.col("d")).alias("n")))["n"].to_list()
    expected = (dates.normalize() - pd.Timestamp("1970-01-01")).days.tolist()
    assert out == expected == [0, -1, 11016, -25508, 84005]


_DATES = st.datetimes(
    min_value=dt.datetime(1700, 1, 1), max_value=dt.datetime(2250, 12, 31, 23, 59, 59)
)


@given(st.lists(_DATES, min_size=1, max_size=30))
def test_day_number_hypothesis_pandas_and_polars(values: list[dt.datetime]) -> None:
    stamps = pd.to_datetime(pd.Series(values)).dt.as_unit("us")
    expected = (stamps.dt.normalize() - pd.Timestamp("1970-01-01")).dt.days.tolist()
    for native in (pd.DataFrame({"d": stamps}), pl.DataFrame({"d": values})):
        frame = to_narwhals(native)
        got = collect(frame.select(day_number(nw.col("d")).alias("n")))["n"].to_list()
        assert got == expected


def test_day_number_on_date_columns() -> None:
    days = [dt.date(1970, 1, 1), dt.date(1600, 3, 1), dt.date(2400, 2, 29)]
    frame = to_narwhals(pl.DataFrame({"d": days}))
    got = collect(frame.select(day_number(nw.col("d")).alias("n")))["n"].to_list()
    assert got == [(d - dt.date(1970, 1, 1)).days for d in days]


@pytest.mark.parametrize("engine", ["pandas", "polars", "polars_lazy", "duckdb"])
def test_local_dates_keeps_the_wall_time(engine: str) -> None:
    stamps = pd.to_datetime(["2024-01-31 23:30", "2024-07-01 00:15"]).tz_localize("Europe/Paris")
    frame = _frame(pd.DataFrame({"d": stamps, "x": [1, 2]}), engine)
    # the wall time in the zone the engine reports (DuckDB keeps instants in its session
    # zone, UTC here, not the zone pandas had)
    zone = frame.collect_schema()["d"].time_zone
    expected = [str(t.tz_convert(zone).tz_localize(None)) for t in stamps]
    frame = local_dates(frame, "d")
    dtype = frame.collect_schema()["d"]
    assert isinstance(dtype, nw.Datetime) and dtype.time_zone is None
    got = [str(pd.Timestamp(v)) for v in collect(frame)["d"].to_list()]
    assert got == expected
    if engine != "duckdb":
        assert got == ["2024-01-31 23:30:00", "2024-07-01 00:15:00"]


def test_local_dates_leaves_naive_dates_alone() -> None:
    frame = to_narwhals(pd.DataFrame({"d": pd.to_datetime(["2024-01-01"])}))
    assert local_dates(frame, "d") is frame


# ---------------------------------------------------------------------------------------
# pandas object columns and amounts


def test_pandas_ready_converts_dates_and_decimals_without_touching_the_input() -> None:
    df = pd.DataFrame(
        {
            "d": [dt.date(2024, 1, 5), None],
            "t": [
                dt.datetime(2024, 1, 5, 10, tzinfo=dt.UTC),
                dt.datetime(2024, 2, 1, tzinfo=dt.UTC),
            ],
            "a": [decimal.Decimal("1.5"), decimal.Decimal("-2.25")],
            "s": ["x", "y"],
        }
    )
    before = df.copy()
    out = pandas_ready(df, ["d", "t", "s", "absent"], ["a", "s"])
    pd.testing.assert_frame_equal(df, before)
    assert str(out["d"].dtype) == "datetime64[us]" and pd.isna(out["d"].iloc[1])
    assert str(out["t"].dtype) == "datetime64[us, UTC]"
    assert out["a"].tolist() == [1.5, -2.25]
    assert out["s"].dtype == df["s"].dtype


def test_pandas_ready_passes_other_inputs_through() -> None:
    df = pl.DataFrame({"d": [dt.date(2024, 1, 5)]})
    assert pandas_ready(df, ["d"]) is df
    plain = pd.DataFrame({"d": pd.to_datetime(["2024-01-05"])})
    assert pandas_ready(plain, ["d"]) is plain


def test_pandas_ready_refuses_mixed_time_zones() -> None:
    paris = dt.timezone(dt.timedelta(hours=1))
    df = pd.DataFrame(
        {"d": [dt.datetime(2024, 1, 1, tzinfo=dt.UTC), dt.datetime(2024, 1, 2, tzinfo=paris)]}
    )
    with pytest.raises(DataError, match=r"column 'd' holds date objects .* same time zone"):
        pandas_ready(df, ["d"])


@pytest.mark.parametrize("engine", ENGINES)
def test_numeric_amounts_accepts_numbers(engine: str) -> None:
    frame = _frame(pd.DataFrame({"amount": [1.5, 2.0], "n": [1, 2]}), engine)
    assert numeric_amounts(frame, "amount") is frame
    assert numeric_amounts(frame, "n") is frame


def test_numeric_amounts_turns_decimals_into_floats() -> None:
    frame = to_narwhals(pl.DataFrame({"amount": [decimal.Decimal("1.25"), decimal.Decimal("3")]}))
    out = numeric_amounts(frame, "amount")
    assert out.collect_schema()["amount"] == nw.Float64
    assert out["amount"].to_list() == [1.25, 3.0]


@pytest.mark.parametrize("engine", ENGINES)
def test_numeric_amounts_refuses_text_with_the_conversion_hint(engine: str) -> None:
    frame = _frame(pd.DataFrame({"amount": ["$1,234.50", "2"]}), engine)
    with pytest.raises(SchemaError) as info:
        numeric_amounts(frame, "amount", what="tx")
    text = str(info.value)
    assert text.startswith("tx: column 'amount' must be numeric; its type is String.")
    assert "str.replace(r'[^0-9.-]'" in text and "pl.col('amount')" in text


def test_numeric_amounts_refuses_booleans() -> None:
    frame = to_narwhals(pl.DataFrame({"amount": [True, False]}))
    with pytest.raises(SchemaError, match=r"its type is Boolean\. Convert it to float first"):
        numeric_amounts(frame, "amount")
