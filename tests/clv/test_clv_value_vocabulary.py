"""Value and quadrants (issue 12): columns from the fit, ids kept, CLV intervals, units, plots."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmmodels.clv import (
    BGBB,
    BGNBD,
    CLVResult,
    EquityResult,
    GammaGamma,
    customer_equity,
    customer_lifetime_value,
)
from crmmodels.datasets import load_cdnow_sample, load_cdnow_summary
from crmmodels.errors import ArgumentError, SchemaError
from crmmodels.quadrants import QuadrantResult, clv_quadrants_from_transactions

BG = BGNBD.from_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
GG = GammaGamma.from_params(p=6.25, q=3.74, v=15.44)
SETTINGS: dict[str, Any] = {"horizon": 52, "discount_rate": 0.1, "discount_period": 52}


@pytest.fixture(scope="module")
def summary() -> pd.DataFrame:
    return load_cdnow_summary()


@pytest.fixture(scope="module")
def fitted(summary: pd.DataFrame) -> tuple[BGNBD, GammaGamma]:
    return BGNBD().fit(summary), GammaGamma().fit(summary[summary["frequency"] > 0])


# ----------------------------------------------------------------------------- columns


def test_clv_reads_the_columns_the_models_were_fitted_with(summary: pd.DataFrame) -> None:
    names = {
        "customer_id": "cust",
        "frequency": "x",
        "recency": "t_x",
        "T": "age",
        "monetary_value": "spend",
    }
    renamed = summary.rename(columns=names)
    bg = BGNBD().fit(
        renamed, frequency_col="x", recency_col="t_x", T_col="age", customer_col="cust"
    )
    repeat = renamed[renamed["x"] > 0]
    gg = GammaGamma().fit(
        repeat, frequency_col="x", monetary_value_col="spend", customer_col="cust"
    )
    res = customer_lifetime_value(bg, gg, renamed, **SETTINGS)
    plain = customer_lifetime_value(
        bg,
        gg,
        summary,
        **SETTINGS,
        customer_col="customer_id",
        frequency_col="frequency",
        recency_col="recency",
        T_col="T",
        monetary_value_col="monetary_value",
    )
    out = res.to_frame()
    assert res.customer_col == "cust" and out["cust"].tolist() == summary["customer_id"].tolist()
    assert {"x", "t_x", "age", "spend"} <= set(out.columns)
    np.testing.assert_allclose(out["clv"], plain.to_frame()["clv"], rtol=1e-12)
    eq = customer_equity(bg, gg, renamed, **SETTINGS, n_draws=0)
    assert eq.total == pytest.approx(res.total, rel=1e-12)


def test_a_remembered_id_column_that_is_missing_is_a_schema_error(summary: pd.DataFrame) -> None:
    bg = BGNBD().fit(summary.rename(columns={"customer_id": "cust"}), customer_col="cust")
    with pytest.raises(SchemaError, match=r"'cust'.*fitted with.*customer_col"):
        customer_lifetime_value(bg, None, summary, **SETTINGS)
    # naming this summary's id column resolves it
    res = customer_lifetime_value(bg, None, summary, **SETTINGS, customer_col="customer_id")
    assert res.to_frame()["customer_id"].tolist() == summary["customer_id"].tolist()
    # equity carries no ids: the remembered id column is not needed
    assert customer_equity(bg, None, summary, **SETTINGS, n_draws=0).n_customers == len(summary)


def test_a_summary_without_ids_gets_row_positions() -> None:
    df = pd.DataFrame({"frequency": [0, 2, 5], "recency": [0.0, 20.0, 30.0], "T": [38.0] * 3})
    res = customer_lifetime_value(BG, None, df, **SETTINGS)
    assert res.customer_col == "customer"
    assert res.to_frame()["customer"].tolist() == [0, 1, 2]


def test_column_arguments_are_checked() -> None:
    df = pd.DataFrame({"frequency": [0, 2], "recency": [0.0, 20.0], "T": [38.0, 38.0]})
    with pytest.raises(ArgumentError, match="T_col"):
        customer_lifetime_value(BG, None, df, **SETTINGS, T_col=3)
    with pytest.raises(ArgumentError, match="n_periods_col"):
        customer_lifetime_value(BG, None, df, **SETTINGS, n_periods_col="n")
    with pytest.raises(SchemaError, match="'age'"):
        customer_lifetime_value(BG, None, df, **SETTINGS, T_col="age")
    bb = BGBB.from_params(alpha=1.2, beta=0.75, gamma=0.66, delta=2.8)
    with pytest.raises(ArgumentError, match="T_col"):
        customer_lifetime_value(bb, None, df, horizon=5, discount_rate=0.1, T_col="T")
    got = customer_lifetime_value(bb, None, df, horizon=5, discount_rate=0.1, n_periods_col="T")
    assert got.n_customers == 2


id_values = st.one_of(
    st.lists(st.integers(-(10**9), 10**9), min_size=1, max_size=40, unique=True),
    st.lists(st.text(min_size=1, max_size=6), min_size=1, max_size=40, unique=True),
)


@given(
    ids=id_values,
    data=st.data(),
    kind=st.sampled_from(["pandas", "polars"]),
)
def test_every_customer_appears_once_in_input_order(ids: list[Any], data: Any, kind: str) -> None:
    n = len(ids)
    freq = data.draw(st.lists(st.integers(0, 30), min_size=n, max_size=n))
    ages = data.draw(st.lists(st.floats(1.0, 100.0), min_size=n, max_size=n))
    gaps = data.draw(st.lists(st.floats(0.0, 1.0), min_size=n, max_size=n))
    rec = [0.0 if f == 0 else a * g for f, a, g in zip(freq, ages, gaps, strict=True)]
    spend = data.draw(st.lists(st.floats(1.0, 500.0), min_size=n, max_size=n))
    table = {
        "id": ids,
        "frequency": freq,
        "recency": rec,
        "T": ages,
        "monetary_value": spend,
    }
    frame: Any = pd.DataFrame(table) if kind == "pandas" else pl.DataFrame(table)
    res = customer_lifetime_value(BG, GG, frame, **SETTINGS, customer_col="id")
    out = res.to_frame()
    assert out["id"].tolist() == ids
    assert res.n_customers == n and np.isfinite(out["clv"]).all()


# ----------------------------------------------------------------------------- intervals


def test_clv_interval_contains_the_estimate_and_is_reproducible(
    summary: pd.DataFrame, fitted: tuple[BGNBD, GammaGamma]
) -> None:
    bg, gg = fitted
    head = summary.head(300)
    res = customer_lifetime_value(bg, gg, head, **SETTINGS, level=0.9, n_draws=100, seed=4)
    out = res.to_frame()
    assert res.level == 0.9 and res.n_draws == 100
    assert (out["clv_low"] <= out["clv"] * (1 + 1e-9)).all()
    assert (out["clv"] <= out["clv_high"] * (1 + 1e-9)).all()
    assert (out["clv_high"] > out["clv_low"]).mean() > 0.99
    again = customer_lifetime_value(bg, gg, head, **SETTINGS, level=0.9, n_draws=100, seed=4)
    pd.testing.assert_frame_equal(out, again.to_frame())
    other = customer_lifetime_value(bg, gg, head, **SETTINGS, level=0.9, n_draws=100, seed=5)
    assert not np.allclose(other.to_frame()["clv_low"], out["clv_low"])


def test_clv_interval_matches_a_customer_by_customer_computation(
    summary: pd.DataFrame, fitted: tuple[BGNBD, GammaGamma]
) -> None:
    """The same draws evaluated per customer give the same percentiles."""
    bg, gg = fitted
    head = summary.sample(60, random_state=2)
    res = customer_lifetime_value(
        bg, gg, head, **SETTINGS, level=0.8, n_draws=30, seed=1, n_nodes=16
    ).to_frame()
    from crmmodels.clv._predict import draw_models

    rng = np.random.default_rng(1)
    tms, sms = draw_models(bg, 30, rng), draw_models(gg, 30, rng)
    assert tms is not None and sms is not None
    values = np.array(
        [
            customer_lifetime_value(tm, sm, head, **SETTINGS, n_nodes=16).to_frame()["clv"]
            for tm, sm in zip(tms, sms, strict=True)
        ]
    )
    low, high = np.quantile(values, [0.1, 0.9], axis=0)
    np.testing.assert_allclose(res["clv_low"], low, rtol=1e-9)
    np.testing.assert_allclose(res["clv_high"], high, rtol=1e-9)


def test_clv_interval_widens_with_a_smaller_sample(summary: pd.DataFrame) -> None:
    small = summary.sample(250, random_state=0)
    customers = summary.head(200)
    widths = []
    for data in (summary, small):
        bg = BGNBD().fit(data)
        res = customer_lifetime_value(bg, 10.0, customers, **SETTINGS, level=0.9, n_draws=100)
        out = res.to_frame()
        widths.append(float((out["clv_high"] - out["clv_low"]).median()))
    assert widths[1] > 1.5 * widths[0]


def test_level_zero_collapses_and_no_covariance_gives_nan(
    summary: pd.DataFrame, fitted: tuple[BGNBD, GammaGamma]
) -> None:
    bg, gg = fitted
    head = summary.head(50)
    res = customer_lifetime_value(bg, gg, head, **SETTINGS, level=0.0, n_draws=40).to_frame()
    np.testing.assert_allclose(res["clv_low"], res["clv_high"], rtol=1e-12)
    none = customer_lifetime_value(BG, GG, head, **SETTINGS, level=0.9, n_draws=40)
    assert none.n_draws == 0 and none.to_frame()["clv_low"].isna().all()
    plain = customer_lifetime_value(bg, gg, head, **SETTINGS)
    assert "clv_low" not in plain.to_frame().columns and plain.level is None


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"level": 1.0}, "level"),
        ({"level": -0.1}, "level"),
        ({"level": "0.9"}, "level"),
        ({"level": 0.9, "n_draws": 2.5}, "n_draws"),
        ({"level": 0.9, "seed": -1}, "seed"),
    ],
)
def test_interval_arguments_give_argument_error(kwargs: dict[str, Any], name: str) -> None:
    s = load_cdnow_summary().head(10)
    with pytest.raises(ArgumentError, match=name):
        customer_lifetime_value(BG, GG, s, **SETTINGS, **kwargs)


# ----------------------------------------------------------------------------- results


def test_results_end_in_result_and_plot(
    summary: pd.DataFrame, fitted: tuple[BGNBD, GammaGamma]
) -> None:
    bg, gg = fitted
    clv = customer_lifetime_value(bg, gg, summary.head(30), **SETTINGS)
    eq = customer_equity(bg, gg, summary.head(30), **SETTINGS, n_draws=10)
    for result, cls in ((clv, CLVResult), (eq, EquityResult)):
        assert isinstance(result, cls) and type(result).__name__.endswith("Result")
    assert clv.plot().get_ylabel() == "share of total CLV"
    assert eq.plot().get_xlabel() == "customer equity"
    assert QuadrantResult.__name__.endswith("Result")


# ----------------------------------------------------------------------------- quadrants


@pytest.fixture(scope="module")
def log() -> pd.DataFrame:
    tx = load_cdnow_sample()
    return tx[tx["customer_id"] <= tx["customer_id"].unique()[400]]


@pytest.mark.parametrize("unit", ["M", "Q", "Y", "months"])
def test_quadrants_refuse_calendar_units_and_say_why(log: pd.DataFrame, unit: str) -> None:
    with pytest.raises(ArgumentError, match=r"time_unit.*'W'.*unequal lengths"):
        clv_quadrants_from_transactions(log, time_unit=unit, observation_end="1998-06-30")


def test_quadrants_accept_a_number_of_days_as_time_unit(log: pd.DataFrame) -> None:
    kw: dict[str, Any] = {"observation_end": "1998-06-30"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        weeks = clv_quadrants_from_transactions(log, **kw)
        seven = clv_quadrants_from_transactions(log, time_unit=7, **kw)
        days = clv_quadrants_from_transactions(
            log, time_unit="days", horizon=364, discount_period=364, **kw
        )
    assert "weeks" in (weeks.potential_method or "")
    assert "days" in (days.potential_method or "")
    assert "7-day periods" in (seven.potential_method or "")
    np.testing.assert_allclose(
        weeks.to_frame()["potential_value"], seven.to_frame()["potential_value"], rtol=1e-6
    )
    np.testing.assert_allclose(
        weeks.to_frame()["potential_value"], days.to_frame()["potential_value"], rtol=1e-3
    )
    assert math.isfinite(weeks.potential_threshold)


def test_the_quadrants_package_reexports_its_public_names() -> None:
    import crmmodels
    import crmmodels.quadrants as quadrants

    assert set(quadrants.__all__) == {
        "QUADRANTS",
        "EmptyQuadrantWarning",
        "QuadrantResult",
        "clv_quadrants",
        "clv_quadrants_from_transactions",
    }
    for name in ("QuadrantResult", "clv_quadrants", "clv_quadrants_from_transactions"):
        assert getattr(crmmodels, name) is getattr(quadrants, name)
    assert (
        quadrants.clv_quadrants_from_transactions.__module__ == "crmmodels.quadrants._transactions"
    )
