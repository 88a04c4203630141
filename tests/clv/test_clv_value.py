from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmmodels.clv._bgbb import BGBB
from crmmodels.clv._bgnbd import BGNBD
from crmmodels.clv._gamma_gamma import GammaGamma
from crmmodels.clv._mbgnbd import MBGNBD
from crmmodels.clv._pareto_nbd import ParetoNBD
from crmmodels.clv._value import CLVResult, customer_equity, customer_lifetime_value
from crmmodels.datasets import load_cdnow_summary, load_donations
from crmmodels.errors import CRMModelsWarning, DataError, NotFittedError, SchemaError

BG = BGNBD.from_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
MBG = MBGNBD.from_params(r=0.525, alpha=6.183, a=0.891, b=1.614)
PNBD = ParetoNBD.from_params(r=0.553, alpha=10.578, s=0.606, beta=11.669)
GG = GammaGamma.from_params(p=6.25, q=3.74, v=15.44)


@pytest.fixture(scope="module")
def summary() -> pd.DataFrame:
    return load_cdnow_summary()


def _brute_force(
    model: object,
    f: np.ndarray,
    r: np.ndarray,
    T: np.ndarray,
    horizon: float,
    delta: float,
    steps: int = 100_000,
) -> np.ndarray:
    """Discounted sum of expected purchases over a fine grid (midpoint discounting)."""
    grid = np.linspace(0.0, horizon, steps + 1)
    e = model.conditional_expected_purchases(grid[None, :], f[:, None], r[:, None], T[:, None])  # type: ignore[attr-defined]
    mid = 0.5 * (grid[1:] + grid[:-1])
    return (np.diff(e, axis=1) * np.exp(-delta * mid)).sum(axis=1)


@pytest.mark.parametrize("model", [BG, MBG, PNBD], ids=["bgnbd", "mbgnbd", "paretonbd"])
@pytest.mark.parametrize("horizon", [13.0, 52.0, 260.0])
def test_quadrature_matches_brute_force_sum(model: object, horizon: float) -> None:
    f = np.array([0.0, 1.0, 2.0, 7.0, 25.0])
    r = np.array([0.0, 1.71, 30.43, 35.0, 38.0])
    T = np.full(5, 38.86)
    df = pd.DataFrame({"frequency": f, "recency": r, "T": T})
    res = customer_lifetime_value(
        model, None, df, horizon=horizon, discount_rate=0.15, discount_period=52
    )
    delta = math.log(1.15) / 52
    ref = _brute_force(model, f, r, T, horizon, delta)
    # midpoint discounting on 4,000 steps is exact to about (delta * h)^2 / 24
    np.testing.assert_allclose(res.to_frame()["clv"], ref, rtol=1e-7)


def test_pareto_closed_form_dert_agrees_with_numeric_integration(summary: pd.DataFrame) -> None:
    res = customer_lifetime_value(
        PNBD, None, summary.head(200), horizon=math.inf, discount_rate=0.15, discount_period=52
    )
    assert res.method == "closed-form DERT"

    class NoClosedForm:  # same model, forced through the numeric integral
        _data_names = ("frequency", "recency", "T")
        is_fitted = True

        def conditional_expected_purchases(self, *args: object) -> object:
            return PNBD.conditional_expected_purchases(*args)

    num = customer_lifetime_value(
        NoClosedForm(),
        None,
        summary.head(200),
        horizon=math.inf,
        discount_rate=0.15,
        discount_period=52,
    )
    assert num.method.startswith("Gauss-Legendre quadrature on geometric panels")
    np.testing.assert_allclose(num.to_frame()["clv"], res.to_frame()["clv"], rtol=1e-7)


def test_infinite_horizon_against_a_log_grid_sum(summary: pd.DataFrame) -> None:
    """Residual value with no closed form (BG/NBD) vs a brute-force sum on a log grid."""
    s = summary.head(100).drop_duplicates(["frequency", "recency", "T"]).head(8)
    inf = customer_lifetime_value(
        BG, None, s, horizon=math.inf, discount_rate=0.15, discount_period=52
    )
    assert inf.method.startswith("Gauss-Legendre quadrature on geometric panels")
    delta = math.log(1.15) / 52
    grid = np.concatenate([np.linspace(0.0, 1.0, 2001), np.geomspace(1.0, 60.0 / delta, 40001)[1:]])
    f, r, T = (s[c].to_numpy(dtype=float)[:, None] for c in ("frequency", "recency", "T"))
    e = BG.conditional_expected_purchases(grid[None, :], f, r, T)
    mid = 0.5 * (grid[1:] + grid[:-1])
    ref = (np.diff(e, axis=1) * np.exp(-delta * mid)).sum(axis=1)
    np.testing.assert_allclose(inf.to_frame()["clv"], ref, rtol=1e-6)
    # a very long finite horizon approaches it from below
    long = customer_lifetime_value(
        BG, None, s, horizon=2000.0, discount_rate=0.15, discount_period=52
    )
    assert np.all(long.to_frame()["clv"] <= inf.to_frame()["clv"] + 1e-12)


def test_bgbb_discrete_sum_matches_closed_form_dert() -> None:
    m = BGBB.from_params(alpha=1.204, beta=0.750, gamma=0.657, delta=2.783)
    d = load_donations().rename(columns={"periods": "n_periods"})
    long = customer_lifetime_value(m, None, d, horizon=400, discount_rate=0.1)
    dert = customer_lifetime_value(m, None, d, horizon=math.inf, discount_rate=0.1)
    assert dert.method == "closed-form DERT"
    np.testing.assert_allclose(long.to_frame()["clv"], dert.to_frame()["clv"], rtol=1e-9)
    # undiscounted one-period value = conditional expectation for the next period
    one = customer_lifetime_value(m, None, d, horizon=1, discount_rate=0.0)
    exp1 = m.conditional_expected_purchases(1, d["frequency"], d["recency"], d["n_periods"])
    np.testing.assert_allclose(one.to_frame()["clv"], exp1, rtol=1e-12)


def test_clv_is_spend_times_discounted_purchases(summary: pd.DataFrame) -> None:
    res = customer_lifetime_value(
        BG,
        GG,
        summary,
        horizon=52,
        discount_rate=0.1,
        discount_period=52,
        margin=0.3,
        time_unit="weeks",
    )
    df = res.to_frame()
    assert len(df) == len(summary) and list(df["customer_id"]) == list(summary["customer_id"])
    spend = GG.conditional_expected_spend(summary["frequency"], summary["monetary_value"])
    np.testing.assert_allclose(df["clv"], 0.3 * spend * df["discounted_purchases"])
    assert (df["discounted_purchases"] <= df["expected_purchases"] + 1e-12).all()
    assert res.total == pytest.approx(df["clv"].sum())
    assert "weeks" in repr(res) and res.plot().get_xlabel()
    # the published example customer: 1.226 purchases expected in 39 weeks
    r39 = customer_lifetime_value(BG, None, summary.head(1), horizon=39, discount_rate=0.0)
    assert r39.to_frame()["expected_purchases"].iloc[0] == pytest.approx(1.226, abs=5e-4)


def test_zero_discount_equals_conditional_expectation(summary: pd.DataFrame) -> None:
    res = customer_lifetime_value(PNBD, 2.0, summary, horizon=39, discount_rate=0.0)
    exp = PNBD.conditional_expected_purchases(
        39, summary["frequency"], summary["recency"], summary["T"]
    )
    np.testing.assert_allclose(res.to_frame()["clv"], 2.0 * exp, rtol=1e-12)


def test_customer_equity_interval(summary: pd.DataFrame) -> None:
    bg = BGNBD().fit(summary)
    gg = GammaGamma().fit(summary[summary["frequency"] > 0])
    eq = customer_equity(
        bg, gg, summary, horizon=52, discount_rate=0.1, discount_period=52, n_draws=20, seed=1
    )
    assert eq.n_draws == 20 and eq.low < eq.total < eq.high
    assert eq.high / eq.low < 1.5  # 2,357 customers pin the parameters down
    assert eq.to_frame()["customer_equity"].iloc[0] == pytest.approx(eq.total)
    assert "draws" not in eq.to_dict()
    assert eq.plot().get_xlabel() == "customer equity"
    same = customer_equity(
        bg, gg, summary, horizon=52, discount_rate=0.1, discount_period=52, n_draws=20, seed=1
    )
    assert same.draws == eq.draws
    no_cov = customer_equity(BG, GG, summary, horizon=52, discount_rate=0.1, n_draws=10)
    assert math.isnan(no_cov.low) and no_cov.n_draws == 0


@given(
    f=st.integers(0, 200),
    gap=st.floats(0, 1, allow_nan=False),
    T=st.floats(0.5, 500, allow_nan=False),
    h1=st.floats(0.1, 300, allow_nan=False),
    h2=st.floats(0.1, 300, allow_nan=False),
    rate=st.floats(0, 1, allow_nan=False),
)
def test_clv_grows_with_horizon_and_is_finite(
    f: int, gap: float, T: float, h1: float, h2: float, rate: float
) -> None:
    r = 0.0 if f == 0 else T * gap
    df = pd.DataFrame({"frequency": [f], "recency": [r], "T": [T]})
    lo, hi = sorted((h1, h2))
    a = customer_lifetime_value(BG, None, df, horizon=lo, discount_rate=rate, discount_period=52)
    b = customer_lifetime_value(BG, None, df, horizon=hi, discount_rate=rate, discount_period=52)
    va, vb = a.to_frame()["clv"].iloc[0], b.to_frame()["clv"].iloc[0]
    assert np.isfinite(va) and np.isfinite(vb)
    assert 0 <= va <= vb + 1e-9


def test_bad_input(summary: pd.DataFrame) -> None:
    with pytest.raises(NotFittedError):
        customer_lifetime_value(BGNBD(), None, summary, horizon=10, discount_rate=0.1)
    with pytest.raises(DataError, match="horizon"):
        customer_lifetime_value(BG, None, summary, horizon=0, discount_rate=0.1)
    with pytest.raises(DataError, match="discount_rate"):
        customer_lifetime_value(BG, None, summary, horizon=10, discount_rate=-0.5)
    with pytest.raises(DataError, match="infinite horizon"):
        customer_lifetime_value(BG, None, summary, horizon=math.inf, discount_rate=0.0)
    with pytest.raises(SchemaError, match="monetary_value"):
        customer_lifetime_value(
            BG, GG, summary.drop(columns="monetary_value"), horizon=10, discount_rate=0.1
        )
    with pytest.raises(DataError, match="empty"):
        customer_lifetime_value(BG, None, summary.iloc[:0], horizon=10, discount_rate=0.1)
    with pytest.raises(DataError, match="CLV model"):
        customer_lifetime_value(object(), None, summary, horizon=10, discount_rate=0.1)
    m = BGBB.from_params(alpha=1.2, beta=0.75, gamma=0.66, delta=2.8)
    with pytest.raises(DataError, match="whole"):
        customer_lifetime_value(
            m,
            None,
            load_donations().rename(columns={"periods": "n_periods"}),
            horizon=2.5,
            discount_rate=0.1,
        )


def test_result_type(summary: pd.DataFrame) -> None:
    res = customer_lifetime_value(BG, GG, summary.head(5), horizon=10, discount_rate=0.0)
    assert isinstance(res, CLVResult)
    assert res.to_dict()["n_customers"] == 5
    assert "<table>" in res._repr_html_()


def test_repeat_buyer_with_zero_mean_spend_gets_a_value() -> None:
    df = pd.DataFrame(
        {
            "frequency": [2, 0, 1],
            "recency": [10.0, 0.0, 5.0],
            "T": [20.0, 20.0, 20.0],
            "monetary_value": [0.0, 0.0, 30.0],
        }
    )
    res = customer_lifetime_value(BG, GG, df, horizon=10, discount_rate=0.0).to_frame()
    p, q, v = 6.25, 3.74, 15.44
    assert res["expected_spend"].iloc[0] == pytest.approx(p * v / (p * 2 + q - 1))
    # fitting leaves such a customer out, with a warning naming the count
    summary = load_cdnow_summary()
    summary.loc[summary.index[summary["frequency"] > 0][0], "monetary_value"] = 0.0
    with pytest.warns(CRMModelsWarning, match=r"left out 1 customer .*monetary_value'\] > 0"):
        gg = GammaGamma().fit(summary)
    assert gg.diagnostics_["n_zero_spend_excluded"] == 1
