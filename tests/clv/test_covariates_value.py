"""Covariate models in predict(pmf=, level=), customer_lifetime_value(level=) and equity.

Each quantity is held against the path without covariates at one customer's parameters
(a plain model built there), and the intervals against a brute-force recomputation from
the same parameter draws.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmmodels.clv import (
    BGNBD,
    GammaGamma,
    ParetoNBD,
    customer_equity,
    customer_lifetime_value,
)
from crmmodels.clv._covariates_fit import CovariateFit
from crmmodels.clv._covariates_sim import simulate_covariate_summary

COLUMNS = ["channel", "age"]
CASES = [("bgnbd", "b"), ("bgnbd", "ab"), ("pareto_nbd", None)]


def _fit(model: str, form: str | None, n: int = 1500, seed: int = 5) -> tuple[Any, pd.DataFrame]:
    s = simulate_covariate_summary(n, model=model, seed=seed, dropout_form=form or "b")
    if model == "bgnbd":
        return BGNBD().fit(s, covariates=COLUMNS, dropout_form=form), s
    return ParetoNBD().fit(s, covariates=COLUMNS), s


@pytest.fixture(scope="module", params=CASES, ids=["bgnbd-b", "bgnbd-ab", "pareto"])
def fitted(request: pytest.FixtureRequest) -> tuple[Any, pd.DataFrame]:
    return _fit(*request.param)


def _z(model: Any, row: pd.Series) -> dict[str, float]:
    age_center = next(t.center for t in model.covariates_.purchase if t.column == "age")
    return {
        "channel=app": float(row["channel"] == "app"),
        "channel=web": float(row["channel"] == "web"),
        "age": float(row["age"]) - age_center,
    }


def _plain_at(model: Any, row: pd.Series, theta: np.ndarray | None = None) -> Any:
    """A model without covariates at this customer's parameters (at ``theta``)."""
    m = model
    fit = m.covariate_fit_
    th = fit.theta if theta is None else theta
    names = m.covariates_.names("purchase")
    z = _z(m, row)
    gp = th[4 : 4 + fit.n_purchase]
    gd = th[4 + fit.n_purchase :]
    zp = np.array([z[k] for k in names])
    zd = np.array([z[k] for k in m.covariates_.names("dropout")])
    r, alpha0, third, fourth = np.exp(th[:4])
    alpha = alpha0 * np.exp(-(zp @ gp))
    if isinstance(m, ParetoNBD):
        return ParetoNBD.from_params(r=r, alpha=alpha, s=third, beta=fourth * np.exp(-(zd @ gd)))
    if m.covariates_.dropout_form == "ab":
        f = np.exp(zd @ gd)
        return BGNBD.from_params(r=r, alpha=alpha, a=third * f, b=fourth * f)
    return BGNBD.from_params(r=r, alpha=alpha, a=third, b=fourth * np.exp(-(zd @ gd)))


def _hist(row: pd.Series) -> list[float]:
    return [float(row["frequency"]), float(row["recency"]), float(row["T"])]


# ------------------------------------------------------------------ pmf


def test_pmf_equals_the_plain_model_per_customer(fitted: tuple[Any, pd.DataFrame]) -> None:
    model, s = fitted
    rows = s.iloc[:12].reset_index(drop=True)
    got = model.predict(rows, horizon=30, pmf=4)
    for i in range(len(rows)):
        plain = _plain_at(model, rows.iloc[i])
        want = plain.conditional_probability_of_purchases(np.arange(5), 30, *_hist(rows.iloc[i]))
        np.testing.assert_allclose(
            got[[f"p_{k}" for k in range(5)]].iloc[i], want, rtol=1e-7, atol=1e-12
        )


def test_pmf_sums_to_one_over_enough_counts(fitted: tuple[Any, pd.DataFrame]) -> None:
    model, s = fitted
    got = model.predict(s.iloc[:40], horizon=10, pmf=200)
    probs = got[[f"p_{k}" for k in range(201)]].to_numpy()
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-6)


# ------------------------------------------------------------------ predict intervals


def test_predict_intervals_match_a_brute_force_over_the_same_draws(
    fitted: tuple[Any, pd.DataFrame],
) -> None:
    model, s = fitted
    rows = s.iloc[:6].reset_index(drop=True)
    n_draws, seed, level = 30, 3, 0.8
    got = model.predict(rows, horizon=20, level=level, n_draws=n_draws, seed=seed)
    fit = model.covariate_fit_
    thetas = np.random.default_rng(seed).multivariate_normal(
        fit.theta, fit.covariance, size=n_draws, method="eigh"
    )
    for i in range(len(rows)):
        hist = _hist(rows.iloc[i])
        alive, expected = [], []
        for th in thetas:
            plain = _plain_at(model, rows.iloc[i], th)
            alive.append(float(plain.probability_alive(*hist)))
            expected.append(float(plain.conditional_expected_purchases(20, *hist)))
        lo, hi = np.quantile(expected, [0.1, 0.9])
        assert got["expected_purchases_low"][i] == pytest.approx(lo, rel=1e-7)
        assert got["expected_purchases_high"][i] == pytest.approx(hi, rel=1e-7)
        lo, hi = np.quantile(alive, [0.1, 0.9])
        assert got["p_alive_low"][i] == pytest.approx(lo, rel=1e-7, abs=1e-12)
        assert got["p_alive_high"][i] == pytest.approx(hi, rel=1e-7, abs=1e-12)


def test_predict_intervals_contain_the_estimate(fitted: tuple[Any, pd.DataFrame]) -> None:
    model, s = fitted
    got = model.predict(s.iloc[:300], horizon=26, level=0.95, n_draws=100)
    for col in ("p_alive", "expected_purchases"):
        assert np.all(got[f"{col}_low"] <= got[col] + 1e-12)
        assert np.all(got[col] <= got[f"{col}_high"] + 1e-12)
        assert np.mean(got[f"{col}_high"] - got[f"{col}_low"] > 0) > 0.5


def test_predict_intervals_are_nan_without_a_covariance() -> None:
    model, s = _fit("bgnbd", "ab", n=600)
    fit = model.covariate_fit_
    model.covariate_fit_ = dataclasses.replace(fit, covariance=np.full_like(fit.covariance, np.nan))
    got = model.predict(s.iloc[:5], horizon=5, level=0.9)
    assert got["p_alive_low"].isna().all() and got["expected_purchases_high"].isna().all()


# ------------------------------------------------------------------ CLV


def test_clv_equals_the_plain_model_per_customer(fitted: tuple[Any, pd.DataFrame]) -> None:
    model, s = fitted
    rows = s.iloc[:8].reset_index(drop=True)
    kw = {"horizon": 52.0, "discount_rate": 0.1, "discount_period": 52.0}
    got = customer_lifetime_value(model, 12.0, rows, **kw).to_frame()
    for i in range(len(rows)):
        plain = _plain_at(model, rows.iloc[i])
        one = customer_lifetime_value(plain, 12.0, rows.iloc[[i]], **kw).to_frame()
        assert got["clv"][i] == pytest.approx(one["clv"][0], rel=1e-6)


@pytest.mark.parametrize("horizon", [26.0, math.inf])
def test_clv_of_customers_who_differ_only_in_recency(
    fitted: tuple[Any, pd.DataFrame], horizon: float
) -> None:
    model, s = fitted
    base = s.iloc[[0] * 5].reset_index(drop=True)
    rows = base.assign(frequency=[0.0, 3.0, 3.0, 3.0, 3.0], recency=[0.0, 0.5, 20.0, 51.9, 52.0])
    kw = {"horizon": horizon, "discount_rate": 0.1, "discount_period": 52.0}
    got = customer_lifetime_value(model, 1.0, rows, **kw).to_frame()
    plain = _plain_at(model, rows.iloc[0])
    want = customer_lifetime_value(plain, 1.0, rows[["frequency", "recency", "T"]], **kw)
    np.testing.assert_allclose(got["clv"], want.to_frame()["clv"], rtol=1e-6)


def _with_theta(model: Any, theta: np.ndarray) -> Any:
    clone = type(model).from_json(model.to_json())
    fit = clone.covariate_fit_
    clone.covariate_fit_ = CovariateFit(theta, fit.covariance, fit.n_purchase)
    return clone


def test_clv_interval_matches_a_brute_force_over_the_same_draws() -> None:
    model, s = _fit("bgnbd", "ab", n=1200)
    rows = s.iloc[:15].reset_index(drop=True)
    kw = {"horizon": 26.0, "discount_rate": 0.1, "discount_period": 52.0}
    n_draws, seed = 25, 9
    got = customer_lifetime_value(
        model, 10.0, rows, level=0.9, n_draws=n_draws, seed=seed, **kw
    ).to_frame()
    fit = model.covariate_fit_
    thetas = np.random.default_rng(seed).multivariate_normal(
        fit.theta, fit.covariance, size=n_draws, method="eigh"
    )
    values = np.array(
        [
            customer_lifetime_value(_with_theta(model, th), 10.0, rows, **kw).to_frame()["clv"]
            for th in thetas
        ]
    )
    lo, hi = np.quantile(values, [0.05, 0.95], axis=0)
    np.testing.assert_allclose(got["clv_low"], lo, rtol=1e-9)
    np.testing.assert_allclose(got["clv_high"], hi, rtol=1e-9)
    assert np.all((got["clv_low"] <= got["clv"]) & (got["clv"] <= got["clv_high"]))


def test_clv_interval_with_a_spend_model_with_covariates() -> None:
    model, s = _fit("bgnbd", "b", n=1200)
    rng = np.random.default_rng(2)
    s = s.assign(monetary_value=np.where(s["frequency"] > 0, rng.gamma(4.0, 10.0, len(s)), 0.0))
    rep = s[s["frequency"] > 0]
    spend = GammaGamma().fit(rep, covariates=["channel"])
    kw = {"horizon": 104.0, "discount_rate": 0.1, "discount_period": 52.0}
    res = customer_lifetime_value(model, spend, s.iloc[:100], level=0.9, n_draws=30, **kw)
    out = res.to_frame()
    assert res.n_draws == 30 and res.level == 0.9
    assert np.all(out["clv_low"] <= out["clv"] * (1 + 1e-9))
    assert np.all(out["clv"] <= out["clv_high"] * (1 + 1e-9))
    plain_tx = BGNBD().fit(s)  # a transaction model without covariates, spend with
    out2 = customer_lifetime_value(plain_tx, spend, s.iloc[:50], level=0.9, n_draws=20, **kw)
    assert out2.to_frame()["clv_high"].notna().all()


# ------------------------------------------------------------------ equity


def test_equity_is_the_sum_of_clv_and_its_draws_are_the_summed_clv_per_draw() -> None:
    model, s = _fit("pareto_nbd", None, n=900)
    rows = s.iloc[:60]
    kw = {"horizon": 52.0, "discount_rate": 0.1, "discount_period": 52.0}
    eq = customer_equity(model, 8.0, rows, n_draws=12, seed=4, **kw)
    clv = customer_lifetime_value(model, 8.0, rows, **kw)
    assert eq.total == pytest.approx(clv.total, rel=1e-10)
    assert eq.n_draws == 12 and eq.n_customers == 60
    fit = model.covariate_fit_
    thetas = np.random.default_rng(4).multivariate_normal(
        fit.theta, fit.covariance, size=12, method="eigh"
    )
    want = [customer_lifetime_value(_with_theta(model, th), 8.0, rows, **kw).total for th in thetas]
    np.testing.assert_allclose(eq.draws, want, rtol=1e-9)
    assert eq.low <= eq.total <= eq.high


def test_equity_delta_is_close_to_the_draws() -> None:
    model, s = _fit("bgnbd", "ab", n=1500)
    s = s.iloc[:300]
    kw = {"horizon": 52.0, "discount_rate": 0.1, "discount_period": 52.0}
    draws = customer_equity(model, 1.0, s, n_draws=300, seed=1, level=0.9, **kw)
    delta = customer_equity(model, 1.0, s, method="delta", level=0.9, **kw)
    assert delta.method == "delta" and delta.total == pytest.approx(draws.total)
    assert delta.low < delta.total < delta.high
    assert delta.low == pytest.approx(draws.low, rel=0.05)
    assert delta.high == pytest.approx(draws.high, rel=0.05)


# ------------------------------------------------------------------ invariants


@settings(max_examples=15, deadline=None)
@given(
    age=st.floats(-40.0, 40.0),
    channel=st.sampled_from(["store", "web", "app"]),
    case=st.sampled_from(CASES),
)
def test_values_are_finite_and_bounded_at_extreme_covariates(
    age: float, channel: str, case: tuple[str, str | None]
) -> None:
    model, s = _cached(case)
    rows = s.iloc[:4].assign(age=age, channel=channel)
    got = model.predict(rows, horizon=20, pmf=6, level=0.9, n_draws=10)
    probs = got[[f"p_{k}" for k in range(7)]].to_numpy()
    assert np.all(np.isfinite(probs)) and np.all(probs >= 0)
    assert np.all(probs.sum(axis=1) <= 1 + 1e-9)
    for col in ("p_alive", "expected_purchases"):
        assert np.all(np.isfinite(got[[col, f"{col}_low", f"{col}_high"]].to_numpy()))
        assert np.all(got[f"{col}_low"] <= got[col] + 1e-12)
        assert np.all(got[col] <= got[f"{col}_high"] + 1e-12)
    clv = customer_lifetime_value(
        model, 5.0, rows, horizon=52, discount_rate=0.1, discount_period=52, level=0.9, n_draws=10
    ).to_frame()
    assert np.all(np.isfinite(clv[["clv", "clv_low", "clv_high"]].to_numpy()))
    assert np.all((clv["clv_low"] <= clv["clv"] + 1e-12) & (clv["clv"] <= clv["clv_high"] + 1e-12))


@functools.cache
def _cached(case: tuple[str, str | None]) -> tuple[Any, pd.DataFrame]:
    return _fit(*case, n=800, seed=8)
