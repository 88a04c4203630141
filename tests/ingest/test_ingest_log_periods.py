"""``crmmodels._ingest.log`` (log validation, customer codes) and ``crmmodels._ingest.periods``.

Period numbers are checked three ways against each other (engine expression, numpy
array, scalar) and against pandas' own ``Period`` ordinals, on random dates 1900..2200.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import narwhals.stable.v2 as nw
import numpy as np
import pandas as pd
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmmodels._ingest.frames import collect, to_narwhals
from crmmodels._ingest.log import customer_codes, local_log, prepare_log, ticks_per_day, time_zone
from crmmodels._ingest.periods import (
    MAX_PERIOD_DAYS,
    check_period,
    check_period_code,
    is_calendar,
    numpy_period_index,
    period_days,
    period_index,
    period_labels,
    scalar_period_index,
    unit_name,
)
from crmmodels.errors import ArgumentError, DataError, SchemaError

from _engines import to_engine

ENGINES = ["pandas", "polars", "polars_lazy", "duckdb"]
PERIODS: list[str | int] = ["D", "W", "M", "Q", "Y", 14]
#: pandas frequency of each code, and our number minus pandas' ordinal
_PANDAS = {
    "D": ("D", 0),
    "W": ("W-SUN", -1),
    "M": ("M", 1970 * 12),
    "Q": ("Q-DEC", 1970 * 4),
    "Y": ("Y-DEC", 1970),
}


def _log(**extra: Any) -> pd.DataFrame:
    data = {
        "customer_id": [3, 1, 3, 2, 1],
        "date": pd.to_datetime(
            ["2024-01-05", "2024-01-09 10:00", "2024-02-01", "2024-02-03", "2024-03-01 23:00"],
            format="ISO8601",
        ),
        "amount": [10.0, 5.5, 7.0, 1.0, 3.0],
    }
    data.update(extra)
    return pd.DataFrame(data)


def _prepare(df: pd.DataFrame, engine: str = "pandas", **kwargs: Any) -> Any:
    options: dict[str, Any] = {
        "customer_col": "customer_id",
        "date_col": "date",
        "amount_col": "amount",
        "date_format": None,
        "allow_negative": False,
    }
    options.update(kwargs)
    return prepare_log(to_engine(df, engine), **options)


# ---------------------------------------------------------------------------------------
# prepare_log and local_log


@pytest.mark.parametrize("engine", ENGINES)
def test_prepare_log_returns_naive_dates_and_the_last_date(engine: str) -> None:
    df = _log()
    before = df.copy()
    frame, end, tz = _prepare(df, engine)
    pd.testing.assert_frame_equal(df, before)  # the caller's frame is not modified
    assert end == pd.Timestamp("2024-03-01 23:00") and tz is None
    dtype = frame.collect_schema()["date"]
    assert isinstance(dtype, nw.Datetime) and dtype.time_zone is None
    assert len(collect(frame)) == 5


@pytest.mark.parametrize("engine", ENGINES)
def test_prepare_log_reads_text_dates(engine: str) -> None:
    df = _log(date=["2024-01-05", "2024-01-09", "2024-02-01", "2024-02-03", "2024-03-01"])
    frame, end, _ = _prepare(df, engine)
    assert end == pd.Timestamp("2024-03-01")
    assert isinstance(frame.collect_schema()["date"], nw.Datetime)


@pytest.mark.parametrize("engine", ["pandas", "polars"])
def test_prepare_log_moves_zoned_dates_to_their_wall_time(engine: str) -> None:
    df = _log(date=_log()["date"].dt.tz_localize("America/New_York"))
    frame, end, tz = _prepare(df, engine)
    assert tz == "America/New_York"
    assert end == pd.Timestamp("2024-03-01 23:00")  # local, not UTC (which is next day)
    assert frame.collect_schema()["date"].time_zone is None


@pytest.mark.parametrize("engine", ENGINES)
def test_prepare_log_keeps_the_whole_end_day(engine: str) -> None:
    _, end, _ = _prepare(_log(), engine, observation_end="2024-03-01")
    assert end == pd.Timestamp("2024-03-01")
    with pytest.raises(DataError) as info:
        _prepare(_log(), engine, observation_end="2024-02-02")
    text = str(info.value)
    assert text.startswith(
        "transactions: column 'date' is after the observation end 2024-02-02 in 2 rows "
        "(first example: {'customer_id': 2, 'date': "
    )
    assert "2024, 2, 3, 0, 0" in text or "2024-02-03 00:00:00" in text
    assert text.endswith("Pass a later observation_end or filter the log first.")


@pytest.mark.parametrize("engine", ENGINES)
def test_prepare_log_negative_amounts_name_count_example_and_fix(engine: str) -> None:
    df = _log(amount=[10.0, -5.5, 7.0, -1.0, 3.0])
    with pytest.raises(DataError) as info:
        _prepare(df, engine, what="orders")
    text = str(info.value)
    assert text.startswith(
        "orders: column 'amount' is negative in 2 rows "
        "(first example: {'customer_id': 1, 'amount': -5.5}). "
    )
    assert text.endswith("Pass allow_negative=True to keep refunds and returns.")
    _prepare(df, engine, allow_negative=True)
    local_log(
        to_engine(df, engine),
        customer_col="customer_id",
        date_col="date",
        amount_col="amount",
        date_format=None,
    )


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    ("column", "values", "message"),
    [
        ("customer_id", [3.0, np.nan, 3.0, 2.0, np.nan], r"column 'customer_id' is null in 2 rows"),
        ("date", [pd.NaT, pd.Timestamp("2024-01-02"), pd.NaT, pd.NaT, pd.Timestamp("2024-01-03")],
         r"column 'date' is null in 3 rows \(first example: 'customer_id=3'\)"),
        ("amount", [1.0, np.inf, 2.0, 3.0, 4.0], r"column 'amount' is not finite in 1 row"),
    ],
)  # fmt: skip
def test_prepare_log_missing_values(
    engine: str, column: str, values: list[Any], message: str
) -> None:
    with pytest.raises(DataError, match=message):
        _prepare(_log(**{column: values}), engine)


@pytest.mark.parametrize("engine", ENGINES)
def test_prepare_log_refuses_an_empty_log_and_missing_columns(engine: str) -> None:
    with pytest.raises(DataError, match=r"^transactions is empty"):
        _prepare(_log().iloc[:0], engine)
    with pytest.raises(SchemaError, match=r"has no column 'amount'"):
        _prepare(_log().drop(columns="amount"), engine)


def test_prepare_log_refuses_totals_beyond_the_float_range() -> None:
    df = _log(amount=[1e308, 1.0, 1e308, 1.0, 1.0])
    with pytest.raises(DataError, match=r"exceeds the largest float .* for 1 customer"):
        _prepare(df)


def test_prepare_log_checks_argument_names() -> None:
    with pytest.raises(ArgumentError, match="customer_col"):
        _prepare(_log(), customer_col=3)
    with pytest.raises(ArgumentError, match="observation_end"):
        _prepare(_log(), observation_end=[1, 2])


@pytest.mark.parametrize(
    ("native", "expected"),
    [
        (pd.DataFrame({"d": pd.to_datetime(["2024-01-01"]).tz_localize("Europe/Paris")}),
         "Europe/Paris"),
        (pl.DataFrame({"d": [dt.datetime(2024, 1, 1)]}).with_columns(
            pl.col("d").dt.replace_time_zone("Asia/Tokyo")), "Asia/Tokyo"),
        (pd.DataFrame({"d": pd.to_datetime(["2024-01-01"])}), None),
        (pd.DataFrame({"d": [3]}), None),
    ],
)  # fmt: skip
def test_time_zone(native: Any, expected: str | None) -> None:
    assert time_zone(to_narwhals(native), "d") == expected


# ---------------------------------------------------------------------------------------
# customer codes and ticks


def _check_codes(ids: np.ndarray[Any, Any]) -> None:
    original = ids.copy()
    codes, offset, n, id_of = customer_codes(ids)
    rel = np.asarray(codes, dtype=np.int64) - offset
    assert rel.min() >= 0 and rel.max() < n
    assert np.array_equal(id_of(rel.copy()), original)
    # codes follow the sorted id order: the same ranks as the ids
    assert np.array_equal(np.argsort(rel, kind="stable"), np.argsort(original, kind="stable"))
    assert np.array_equal(ids, original)  # the caller's ids are not modified


@settings(max_examples=40)
@given(st.lists(st.integers(-(2**40), 2**40), min_size=1, max_size=40))
def test_customer_codes_of_sparse_integers(values: list[int]) -> None:
    _check_codes(np.array(values, dtype=np.int64))


@settings(max_examples=40)
@given(
    st.lists(st.integers(0, 30), min_size=1, max_size=40),
    st.sampled_from([np.int64, np.int32, np.uint16]),
)
def test_customer_codes_of_dense_integers(values: list[int], dtype: Any) -> None:
    _check_codes(np.array(values, dtype=dtype))


@settings(max_examples=40)
@given(st.lists(st.text(min_size=0, max_size=3), min_size=1, max_size=40))
def test_customer_codes_of_text(values: list[str]) -> None:
    _check_codes(np.array(values, dtype=object))


def test_customer_codes_doc_example() -> None:
    codes, offset, n, id_of = customer_codes(np.array([12, 10, 12]))
    assert ((codes - offset).tolist(), offset, n) == ([2, 0, 2], 10, 3)
    assert id_of(np.array([0, 2])).tolist() == [10, 12]


@pytest.mark.parametrize("unit", ["ns", "us", "ms", "s", "m", "h", "D", "10s", "6h"])
def test_ticks_per_day(unit: str) -> None:
    dtype = np.dtype(f"datetime64[{unit}]")
    expected = np.timedelta64(1, "D") // np.timedelta64(1, unit)
    assert ticks_per_day(dtype) == int(expected)


# ---------------------------------------------------------------------------------------
# the period vocabulary


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("D", "D"), ("w", "W"), (" M ", "M"), ("q", "Q"), ("Y", "Y"),
        ("days", "D"), ("Weeks", "W"), ("months", "M"), ("quarters", "Q"), ("years", "Y"),
        (14, 14), (np.int64(7), 7), (1, 1), (MAX_PERIOD_DAYS, MAX_PERIOD_DAYS),
    ],
)  # fmt: skip
def test_check_period_accepts_the_vocabulary(value: Any, expected: Any) -> None:
    out = check_period(value)
    assert out == expected and type(out) is type(expected)


@pytest.mark.parametrize(
    "value", ["X", "", "month", 0, -7, MAX_PERIOD_DAYS + 1, 7.0, True, np.bool_(True), None]
)
def test_check_period_refuses_others_naming_the_argument(value: Any) -> None:
    with pytest.raises(ArgumentError, match=r"^time_unit must be 'D' \(calendar day\), ") as info:
        check_period(value, "time_unit")
    assert str(info.value).endswith(f"; got {value!r}.")
    assert isinstance(info.value, TypeError) and isinstance(info.value, ValueError)


def test_check_period_restricted_codes_and_days() -> None:
    assert check_period("weeks", codes=("D", "W"), days=False) == "W"
    with pytest.raises(ArgumentError) as info:
        check_period("M", "cohort", codes=("D", "W"), days=False)
    assert str(info.value) == (
        "cohort must be 'D' (calendar day) or 'W' (week, Monday to Sunday); got 'M'."
    )
    with pytest.raises(ArgumentError, match="a whole number of days"):
        check_period(0, codes=("W",))
    with pytest.raises(ArgumentError):
        check_period(14, days=False)
    assert check_period_code("years") == "Y"
    with pytest.raises(ArgumentError, match=r"^period must .*; got 14\.$"):
        check_period_code(14)


@pytest.mark.parametrize(
    ("period", "days", "name", "calendar"),
    [
        ("D", 1.0, "days", False),
        ("W", 7.0, "weeks", False),
        ("M", 365.25 / 12, "months", True),
        ("Q", 365.25 / 4, "quarters", True),
        ("Y", 365.25, "years", True),
        (1, 1.0, "days", False),
        (14, 14.0, "14-day periods", False),
    ],
)
def test_period_days_unit_name_is_calendar(
    period: Any, days: float, name: str, calendar: bool
) -> None:
    assert period_days(period) == days
    assert unit_name(period) == name
    assert is_calendar(period) is calendar


def test_unit_name_of_nothing() -> None:
    assert unit_name(None) == "periods"


def _expected_index(stamps: pd.DatetimeIndex, period: str | int) -> np.ndarray[Any, Any]:
    """Our numbering from pandas' own Period ordinals (days by floor division)."""
    if isinstance(period, int):
        days = (stamps.normalize() - pd.Timestamp("1970-01-01")).days.to_numpy()
        return np.asarray(days // period, dtype=np.int64)
    freq, shift = _PANDAS[period]
    ordinals = pd.PeriodIndex(stamps, freq=freq).asi8
    return np.asarray(ordinals + shift, dtype=np.int64)


_DATES = st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2200, 12, 31))


@settings(max_examples=30)
@given(st.lists(_DATES, min_size=1, max_size=25), st.sampled_from(PERIODS))
def test_period_numbering_agrees_everywhere(values: list[dt.datetime], period: Any) -> None:
    stamps = pd.DatetimeIndex(values).as_unit("us")
    expected = _expected_index(stamps, period)
    for unit in ("ns", "us", "s"):
        arr = stamps.as_unit(unit).to_numpy()
        assert np.array_equal(numpy_period_index(arr, period), expected), unit
    assert scalar_period_index(stamps[0], period) == expected[0]
    for native in (pd.DataFrame({"d": stamps}), pl.DataFrame({"d": values})):
        frame = to_narwhals(native)
        got = collect(frame.select(period_index(nw.col("d"), period).alias("p")))["p"]
        assert got.to_list() == expected.tolist()
    if isinstance(period, str):  # the labels hold the dates
        labels = period_labels(expected, period)
        assert bool(np.all(labels.start_time <= stamps)) and bool(np.all(stamps <= labels.end_time))


@pytest.mark.parametrize("period", PERIODS)
def test_period_index_on_duckdb(period: Any) -> None:
    stamps = pd.to_datetime(
        ["1900-01-01", "1969-12-28", "1969-12-29", "1970-01-01 23:59", "2024-02-29", "2200-12-31"],
        format="ISO8601",
    )
    frame = to_narwhals(to_engine(pd.DataFrame({"d": stamps}), "duckdb"))
    got = collect(frame.select(period_index(nw.col("d"), period).alias("p")))["p"].to_list()
    assert sorted(got) == got
    assert got == _expected_index(stamps, period).tolist()


def test_week_zero_starts_on_monday_1969_12_29() -> None:
    dates = np.array(["1969-12-28", "1969-12-29", "1970-01-04", "1970-01-05"], "datetime64[D]")
    assert numpy_period_index(dates, "W").tolist() == [-1, 0, 0, 1]
    label = period_labels(np.array([0]), "W")[0]
    assert (
        label.start_time == pd.Timestamp("1969-12-29") and label.start_time.day_name() == "Monday"
    )


@pytest.mark.parametrize("period", ["D", "W", "M", "Q", "Y"])
def test_period_labels_round_trip(period: str) -> None:
    index = np.arange(-30, 30, dtype=np.int64) + scalar_period_index(
        pd.Timestamp("2024-05-17"), period
    )
    labels = period_labels(index, period)
    back = numpy_period_index(labels.start_time.to_numpy(), period)
    assert back.tolist() == index.tolist()
    assert numpy_period_index(labels.end_time.to_numpy(), period).tolist() == index.tolist()


def test_numpy_period_index_of_nothing() -> None:
    empty = np.array([], dtype="datetime64[ns]")
    for period in PERIODS:
        assert numpy_period_index(empty, period).size == 0
