"""Dates, ids, amounts and time zones at the frame boundary (issue 11, ingest items 1-7)."""

from __future__ import annotations

import datetime
import decimal
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pytest

import crmmodels as crm
from crmmodels._ingest.dates import to_timestamp
from crmmodels.compat.lifetimes.utils import summary_data_from_transaction_data
from crmmodels.errors import ArgumentError, DataError, SchemaError
from crmmodels.idic import interaction_profile

from _engines import to_engine, to_pandas


def _log(dates: Any, ids: Any = (1, 2, 1), amounts: Any = (10.0, 20.0, 30.0)) -> pd.DataFrame:
    return pd.DataFrame({"customer_id": list(ids), "date": dates, "amount": list(amounts)})


# ------------------------------------------------------------------ 1. dates


def test_text_dates_are_iso_unless_date_format_on_every_engine(engine: str) -> None:
    text = pd.Series(["05/01/2024", "03/02/2024", "20/02/2024"], dtype="str")
    native = to_engine(_log(text), engine)
    with pytest.raises(DataError, match=r"'date' is not an ISO 8601 date in 3 rows") as err:
        crm.summarize_transactions(native)
    assert "'05/01/2024'" in str(err.value) and "date_format=" in str(err.value)
    out = to_pandas(crm.summarize_transactions(native, date_format="%d/%m/%Y"))
    first = pd.to_datetime(out["first_purchase"]).dt.date.tolist()
    assert first == [datetime.date(2024, 1, 5), datetime.date(2024, 2, 3)]
    assert out["recency"].tolist() == [46.0, 0.0]


def test_iso_text_with_time_and_zone_keeps_the_written_day(engine: str) -> None:
    text = ["2024-01-05T23:30:00+09:00", "2024-01-06T00:10:00+09:00", "2024-01-20T08:00:00Z"]
    out = to_pandas(crm.summarize_transactions(to_engine(_log(pd.Series(text)), engine)))
    assert out["T"].tolist() == [15.0, 14.0]  # 5 and 6 January as written, end 20 January


def test_unparsable_text_with_date_format_names_count_and_example(engine: str) -> None:
    text = pd.Series(["05/01/2024", "not a date", "20/02/2024"], dtype="str")
    with pytest.raises(DataError) as err:
        crm.summarize_transactions(to_engine(_log(text), engine), date_format="%d/%m/%Y")
    message = str(err.value)
    assert "'date' is not a valid date in the layout '%d/%m/%Y' in 1 row" in message
    assert "'not a date'" in message and message.endswith(".")
    assert "You might want to try" not in message


def test_impossible_iso_day_is_refused_on_every_engine(engine: str) -> None:
    text = pd.Series(["2024-01-05", "2024-02-31", "2024-03-01"], dtype="str")
    with pytest.raises(DataError, match=r"not a valid date in the ISO 8601 layout in 1 row"):
        to_pandas(crm.summarize_transactions(to_engine(_log(text), engine)))


def test_impossible_day_with_date_format_is_refused_on_every_engine(engine: str) -> None:
    text = pd.Series(["05/01/2024", "31/02/2024", "01/03/2024"], dtype="str")
    with pytest.raises(DataError, match=r"not a valid date in the layout '%d/%m/%Y' in 1 row"):
        log = to_engine(_log(text), engine)
        to_pandas(crm.summarize_transactions(log, date_format="%d/%m/%Y"))


def test_date_format_reaches_every_log_reader() -> None:
    text = pd.Series(["05/01/2024", "03/02/2024", "20/02/2024"], dtype="str")
    log = _log(text)
    for call in (
        lambda **kw: crm.cohort_retention(log, **kw),
        lambda **kw: crm.retention_metrics(log, **kw),
        lambda **kw: crm.lifecycle_stages(log, observation_end="2024-03-01", **kw),
        lambda **kw: crm.calibration_holdout(log, calibration_end="2024-01-31", **kw),
        lambda **kw: crm.kpi_scorecard(log, **kw),
        lambda **kw: interaction_profile(log.assign(channel="email"), date_col="date", **kw),
    ):
        with pytest.raises(DataError, match="not an ISO 8601 date"):
            call()
        call(date_format="%d/%m/%Y")


def test_date_arguments_iso_or_date_objects_only() -> None:
    expected = pd.Timestamp("2024-01-05")
    for value in ("2024-01-05", datetime.date(2024, 1, 5), datetime.datetime(2024, 1, 5)):
        assert to_timestamp(value, "as_of") == expected
    assert to_timestamp(np.datetime64("2024-01-05"), "as_of") == expected
    with pytest.raises(ArgumentError, match=r"as_of must be a date; '05/01/2024' is not ISO"):
        to_timestamp("05/01/2024", "as_of")
    log = _log(pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01"]))
    with pytest.raises(ArgumentError, match="observation_end must be between"):
        crm.summarize_transactions(log, observation_end="9999-12-31")
    with pytest.raises(DataError, match="not ISO 8601"):
        crm.calibration_holdout(log, calibration_end="05/01/2024")


# ------------------------------------------------------------------ 2. amounts as text


@pytest.mark.parametrize("kind", ["pandas", "polars"])
def test_text_amounts_say_how_to_convert(kind: str) -> None:
    log = _log(pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01"]))
    log = log.assign(amount=pd.Series(["12.50", "$1,234.50", "3"], dtype="str"))
    native = log if kind == "pandas" else pl.from_pandas(log)
    with pytest.raises(SchemaError, match="must be numeric; its type is String") as err:
        crm.summarize_transactions(native, amount_col="amount")
    assert "astype(float)" in str(err.value) and "pl.Float64" in str(err.value)


# ------------------------------------------------------------------ 3. NaN ids


def _nan_id_log(engine: str) -> Any:
    df = pd.DataFrame(
        {
            "customer_id": [1.0, float("nan"), 2.0],
            "date": pd.to_datetime(["2024-01-01", "2024-02-02", "2024-03-03"]),
            "amount": [1.0, 100.0, 1.0],
        }
    )
    if engine in ("polars", "polars_lazy"):  # polars keeps NaN apart from null
        out = pl.from_pandas(df, nan_to_null=False)
        return out.lazy() if engine == "polars_lazy" else out
    return to_engine(df, engine)


def test_nan_customer_id_is_missing_on_every_engine(engine: str) -> None:
    log = _nan_id_log(engine)
    with pytest.raises(DataError, match=r"'customer_id' is null in 1 row"):
        to_pandas(crm.summarize_transactions(log, amount_col="amount"))


@pytest.mark.parametrize("kind", ["polars", "polars_lazy"])
def test_nan_customer_id_is_missing_in_every_reader(kind: str) -> None:
    log = _nan_id_log(kind)
    for call in (
        lambda: crm.calibration_holdout(log, calibration_end="2024-02-01"),
        lambda: crm.cohort_retention(log),
        lambda: crm.retention_metrics(log),
        lambda: crm.lifecycle_stages(log, observation_end="2024-03-03"),
        lambda: interaction_profile(log, date_col="date", channel_col="amount"),
        lambda: crm.kpi_scorecard(log),
    ):
        with pytest.raises(DataError, match=r"'customer_id' is null in 1 row"):
            call()


# ------------------------------------------------------------------ 4. time zones


def test_aware_calibration_end_is_read_on_the_data_calendar() -> None:
    dates = pd.to_datetime(["2024-01-15 10:00", "2024-02-01 03:00", "2024-02-20 12:00"])
    log = _log(dates.tz_localize("Asia/Tokyo"), ids=(1, 1, 1))
    end = pd.Timestamp("2024-02-01 00:00", tz="Asia/Tokyo")  # 31 January 15:00 in UTC
    ch = crm.calibration_holdout(log, calibration_end=end, observation_end="2024-02-29")
    row = ch.to_frame().iloc[0]
    assert ch.calibration_end == pd.Timestamp("2024-02-01")
    assert (row["frequency_cal"], row["frequency_holdout"]) == (1, 1)


@pytest.mark.parametrize("kind", ["pandas", "polars", "polars_lazy"])
def test_interaction_profile_on_an_aware_log(kind: str) -> None:
    stamps = pd.to_datetime(["2024-01-15 10:00", "2024-02-01 03:00", "2024-03-05 09:00"])
    log = pd.DataFrame(
        {"customer_id": [1, 1, 2], "timestamp": stamps.tz_localize("Asia/Tokyo"), "channel": "e"}
    )
    native: Any = log if kind == "pandas" else pl.from_pandas(log)
    if kind == "polars_lazy":
        native = native.lazy()
    res = interaction_profile(native, observation_end="2024-03-01", strategic=[1, 2])
    assert res.n_after_observation_end == 1
    assert res.profiles["days_since_contact"].tolist() == [28.875]
    aware = interaction_profile(native, observation_end=pd.Timestamp("2024-03-01", tz="Asia/Tokyo"))
    assert aware.profiles["days_since_contact"].tolist() == [28.875]


def test_compat_summary_on_aware_data() -> None:
    dates = pd.to_datetime(["2024-01-15 10:00", "2024-02-01 03:00", "2024-03-05 09:00"])
    log = _log(dates.tz_localize("Asia/Tokyo"), ids=(1, 1, 2))
    out = summary_data_from_transaction_data(
        log, "customer_id", "date", observation_period_end="2024-03-01"
    )
    assert out.index.tolist() == [1]  # the March purchase is after the end, as in lifetimes
    assert out.loc[1, "T"] == 46.0


# ------------------------------------------------------------------ 5. huge amounts


def test_totals_beyond_the_float_range_raise_and_large_amounts_stay_finite(engine: str) -> None:
    dates = pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03"])
    huge = _log(dates, ids=(1, 1, 1), amounts=(1e308, 1e308, 1e308))
    with pytest.raises(DataError, match=r"exceeds the largest float .* for 1 customer"):
        to_pandas(crm.summarize_transactions(to_engine(huge, engine), amount_col="amount"))
    spread = _log(dates, ids=(1, 2, 3), amounts=(1e308, 1e308, 1e308))
    out = to_pandas(crm.summarize_transactions(to_engine(spread, engine), amount_col="amount"))
    assert np.isfinite(out[["monetary_value", "total_value"]].to_numpy()).all()


# ------------------------------------------------------------------ 6. foreign exceptions


def test_mixed_id_types_are_refused_with_our_error() -> None:
    log = _log(pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03"]), ids=(1, "1", 2))
    log["customer_id"] = log["customer_id"].astype(object)
    for call in (
        lambda: crm.summarize_transactions(log),
        lambda: crm.calibration_holdout(log, calibration_end="2024-01-02"),
        lambda: crm.cohort_retention(log),
        lambda: interaction_profile(log, date_col="date", channel_col="amount"),
    ):
        with pytest.raises(SchemaError, match=r"'customer_id' mixes value types \(2 int, 1 str"):
            call()


def test_foreign_exceptions_at_the_boundary_are_ours() -> None:
    log = _log(pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03"]))
    numbered = log.set_axis([0, 1, 2], axis=1)
    with pytest.raises(ArgumentError, match="customer_col must be a column name"):
        crm.summarize_transactions(numbered, customer_col=0, date_col=1)  # type: ignore[arg-type]
    with pytest.raises(SchemaError, match="column names are not all text"):
        crm.summarize_transactions(numbered)
    with pytest.raises(ArgumentError, match="amount_col must be a column name"):
        crm.summarize_transactions(log, amount_col="")
    with pytest.raises(ArgumentError, match="period must be"):
        crm.summarize_transactions(log, period=["D"])  # type: ignore[arg-type]
    with pytest.raises(ArgumentError, match=r"period must be .* or a whole number of days"):
        crm.summarize_transactions(log, period=10**30)
    with pytest.raises(ArgumentError, match="period must be"):
        crm.cohort_retention(log, period=["D"])  # type: ignore[arg-type]
    text = log.assign(date=pd.Series(["2024-01-01", "not a date", "2024-01-03"], dtype="str"))
    with pytest.raises(DataError, match="not an ISO 8601 date in 1 row"):
        crm.kpi_scorecard(text)


def test_decimal_amounts_are_read_as_floats(engine: str) -> None:
    log = _log(pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03"]))
    expected = to_pandas(crm.summarize_transactions(log, amount_col="amount"))
    if engine in ("polars", "polars_lazy"):
        native: Any = pl.from_pandas(log).with_columns(pl.col("amount").cast(pl.Decimal(10, 2)))
        native = native.lazy() if engine == "polars_lazy" else native
    else:
        values = [decimal.Decimal(f"{a:.2f}") for a in log["amount"]]
        if engine == "dask":  # dask turns object columns into text: use an arrow decimal
            import pyarrow as pa

            values = pd.array(values, dtype=pd.ArrowDtype(pa.decimal128(10, 2)))
        native = to_engine(log.assign(amount=values), engine)
    out = to_pandas(crm.summarize_transactions(native, amount_col="amount"))
    assert out["total_value"].tolist() == expected["total_value"].tolist()
    assert isinstance(
        to_pandas(crm.summarize_transactions(native, amount_col="amount"))["total_value"][0],
        float,
    )


# ------------------------------------------------------------------ 7. date objects


def test_date_objects_and_date_types_are_dates() -> None:
    days = [datetime.date(2024, 1, 1), datetime.date(2024, 1, 11), datetime.date(2024, 1, 21)]
    objects = _log(pd.Series(days, dtype=object))
    before = objects.copy()
    expected = [20.0, 10.0]
    assert crm.summarize_transactions(objects)["T"].tolist() == expected
    pd.testing.assert_frame_equal(objects, before)  # the caller's frame is unchanged
    polars_dates = pl.from_pandas(_log(pd.to_datetime(days))).with_columns(
        pl.col("date").cast(pl.Date)
    )
    assert crm.summarize_transactions(polars_dates)["T"].to_list() == expected
    for log in (objects, polars_dates):
        assert crm.cohort_retention(log).n_customers == 2
        assert len(crm.lifecycle_stages(log, observation_end="2024-02-01").stages) == 2
        assert interaction_profile(log, date_col="date", channel_col="amount").n_customers == 2


@pytest.mark.parametrize("kind", ["pandas", "polars"])
def test_funnel_reads_text_times_like_every_log_reader(kind: str) -> None:
    history = pd.DataFrame(
        {
            "entity_id": [1, 1, 2],
            "stage": ["lead_generation", "needs_analysis", "lead_generation"],
            "entered_at": pd.Series(["05/01/2024", "15/01/2024", "03/02/2024"], dtype="str"),
        }
    )
    native: Any = history if kind == "pandas" else pl.from_pandas(history)
    with pytest.raises(DataError, match="'entered_at' is not an ISO 8601 date in 3 rows"):
        crm.funnel_metrics(native)
    res = crm.funnel_metrics(native, date_format="%d/%m/%Y")
    iso = history.assign(entered_at=pd.to_datetime(["2024-01-05", "2024-01-15", "2024-02-03"]))
    expected = crm.funnel_metrics(iso)
    pd.testing.assert_frame_equal(res.to_frame(), expected.to_frame())
