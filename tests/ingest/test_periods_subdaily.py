"""Hours and minutes in the period vocabulary (``_ingest.periods``)."""

from __future__ import annotations

import narwhals.stable.v2 as nw
import numpy as np
import pandas as pd
import polars as pl
import pytest

from crmmodels._ingest.periods import (
    check_period,
    check_period_code,
    numpy_period_index,
    period_days,
    period_index,
    scalar_period_index,
    unit_name,
)
from crmmodels.errors import ArgumentError

STAMPS = ["1969-12-31 23:30", "1970-01-01 00:00", "1970-01-01 00:59", "2024-03-31 02:15"]


@pytest.mark.parametrize(
    ("value", "code"),
    [("h", "h"), ("H", "h"), ("hour", "h"), ("hours", "h"), ("min", "min"), ("minutes", "min")],
)
def test_subdaily_words_are_read_as_codes(value: str, code: str) -> None:
    assert check_period(value, subdaily=True) == code


def test_subdaily_codes_are_refused_unless_asked_for() -> None:
    with pytest.raises(ArgumentError, match="got 'h'"):
        check_period("h")
    with pytest.raises(ArgumentError, match="got 'min'"):
        check_period_code("min")


def test_lengths_and_names() -> None:
    assert period_days("h") == pytest.approx(1 / 24)
    assert period_days("min") == pytest.approx(1 / 1440)
    assert (unit_name("h"), unit_name("min")) == ("hours", "minutes")


def test_hours_and_minutes_count_from_the_epoch_with_floor() -> None:
    dates = pd.to_datetime(STAMPS).to_numpy()
    hours = numpy_period_index(dates, "h").tolist()
    minutes = numpy_period_index(dates, "min").tolist()
    assert hours[:3] == [-1, 0, 0]
    assert minutes[:3] == [-30, 0, 59]
    whole = (pd.Timestamp(STAMPS[3]) - pd.Timestamp("1970-01-01")) // pd.Timedelta(hours=1)
    assert hours[3] == whole
    assert scalar_period_index(pd.Timestamp(STAMPS[3]), "min") == minutes[3]


@pytest.mark.parametrize("code", ["h", "min"])
def test_engine_numbering_equals_numpy(code: str) -> None:
    dates = pd.to_datetime(STAMPS)
    expected = numpy_period_index(dates.to_numpy(), code).tolist()
    for native in (pd.DataFrame({"d": dates}), pl.DataFrame({"d": dates})):
        frame = nw.from_native(native)
        got = frame.select(period_index(nw.col("d"), code))["d"].to_list()
        assert got == expected


def test_datetime64_day_input_has_hour_zero() -> None:
    days = np.array(["2024-01-02"], dtype="datetime64[D]")
    assert numpy_period_index(days, "h").tolist() == [numpy_period_index(days, "D")[0] * 24]
