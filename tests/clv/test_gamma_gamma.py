"""Gamma-Gamma spend model: published CDNOW fit, lifetimes agreement, gradients, inputs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats
from scipy.optimize import approx_fprime

from crmmodels.clv import GammaGamma
from crmmodels.datasets import load_cdnow_summary
from crmmodels.datasets._simulate import simulate_summary
from crmmodels.errors import CRMModelsWarning, DataError
from crmmodels.kernels import gamma_gamma

REF = json.loads(
    (Path(__file__).resolve().parents[1] / "reference" / "clv_bgnbd_cdnow.json").read_text()
)


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    return load_cdnow_summary()


@pytest.fixture(scope="module")
def model(cdnow: pd.DataFrame) -> GammaGamma:
    return GammaGamma().fit(cdnow)


def test_reproduces_fader_hardie_2013(model: GammaGamma) -> None:
    ref = REF["gamma_gamma"]
    for k, v in ref["params"].items():  # see "tolerance" in the reference file
        assert abs(model.params_[k] - v) <= ref["tolerance"], (k, model.params_[k])
    assert model.n_customers_ == 946 and model.n_excluded_ == 1411
    assert model.population_mean_spend() == pytest.approx(6.25 * 15.44 / 2.74, rel=2e-3)


def test_agrees_with_lifetimes(model: GammaGamma, cdnow: pd.DataFrame) -> None:
    from lifetimes import GammaGammaFitter

    rep = cdnow[cdnow["frequency"] > 0]
    lt = GammaGammaFitter().fit(rep["frequency"], rep["monetary_value"])
    for k in ("p", "q", "v"):
        assert model.params_[k] == pytest.approx(lt.params_[k], rel=1e-4)
    x, m = cdnow["frequency"].to_numpy(float), cdnow["monetary_value"].to_numpy(float)
    np.testing.assert_allclose(
        model.conditional_expected_spend(x, m),
        lt.conditional_expected_average_profit(cdnow["frequency"], cdnow["monetary_value"]),
        rtol=1e-4,
    )
    same = GammaGamma.from_params(**{k: float(v) for k, v in lt.params_.items()})
    np.testing.assert_allclose(
        same.conditional_expected_spend(x, m),
        lt.conditional_expected_average_profit(cdnow["frequency"], cdnow["monetary_value"]),
        rtol=1e-10,
    )
    # log-likelihood: lifetimes' function at its optimum (it returns the mean)
    lt_p = np.array([lt.params_[k] for k in ("p", "q", "v")])
    xr, mr = rep["frequency"].to_numpy(float), rep["monetary_value"].to_numpy(float)
    lt_ll = -GammaGammaFitter._negative_log_likelihood(np.log(lt_p), xr, mr, np.ones_like(xr), 0.0)
    assert gamma_gamma.loglik(lt_p, xr, mr).sum() == pytest.approx(lt_ll * len(xr), rel=1e-12)
    assert model.log_likelihood_ >= lt_ll * len(xr) - 1e-8


def test_likelihood_is_the_density_of_the_mean_of_gammas() -> None:
    # x spends Gamma(p, nu) with nu ~ Gamma(q, v): integrate nu numerically
    p, q, v, x, mean = 2.0, 3.0, 10.0, 3, 4.0
    from scipy.integrate import quad

    def integrand(nu: float) -> float:
        # mean of x iid Gamma(p, rate nu) is Gamma(p x, rate x nu)
        return stats.gamma.pdf(mean, p * x, scale=1 / (x * nu)) * stats.gamma.pdf(
            nu, q, scale=1 / v
        )

    ref = np.log(quad(integrand, 0, np.inf)[0])
    assert float(gamma_gamma.loglik([p, q, v], x, mean)) == pytest.approx(ref, rel=1e-8)


@pytest.mark.parametrize("params", [(6.25, 3.74, 15.44), (0.5, 1.2, 300.0), (40.0, 20.0, 2.0)])
def test_gradient_matches_finite_differences(params: tuple, cdnow: pd.DataFrame) -> None:
    rep = cdnow[cdnow["frequency"] > 0]
    x, m = rep["frequency"].to_numpy(float), rep["monetary_value"].to_numpy(float)

    def f(p: np.ndarray) -> float:
        return float(gamma_gamma.loglik(p, x, m).sum())

    p0 = np.array(params)
    ll, g = gamma_gamma.loglik_grad(p0, x, m)
    assert ll == pytest.approx(f(p0), rel=1e-12)
    np.testing.assert_allclose(g, approx_fprime(p0, f, 1e-7 * p0), rtol=2e-4, atol=1e-3)


@given(x=st.integers(0, 10000), m=st.floats(0.01, 1e5))
def test_expected_spend_is_between_population_and_own_mean(x: int, m: float) -> None:
    gg = GammaGamma.from_params(p=6.25, q=3.74, v=15.44)
    e = float(gg.conditional_expected_spend(x, m))
    pop = gg.population_mean_spend()
    assert np.isfinite(e)
    if x == 0:
        assert e == pytest.approx(pop)
    else:
        assert min(pop, m) * (1 - 1e-12) <= e <= max(pop, m) * (1 + 1e-12)


def test_extremes_finite() -> None:
    for params in ((1e-4, 1e4, 1e4), (1e4, 1e-4 + 2, 1e-4), (1e4, 1e4, 1e4)):
        ll = gamma_gamma.loglik(params, [1, 10000], [1e-3, 1e5])
        assert np.all(np.isfinite(ll))
        _, g = gamma_gamma.loglik_grad(params, np.array([1.0, 1e4]), np.array([1e-3, 1e5]))
        assert np.all(np.isfinite(g))


def test_bad_inputs(cdnow: pd.DataFrame) -> None:
    with (
        pytest.warns(CRMModelsWarning, match="left out 2 customers"),
        pytest.raises(DataError, match="no customer with frequency >= 1, a positive"),
    ):
        GammaGamma().fit(frequency=[1, 2], monetary_value=[0.0, 0.0])
    with pytest.raises(DataError, match="no customer with frequency >= 1"):
        GammaGamma().fit(frequency=[0, 0], monetary_value=[0.0, 0.0])
    with pytest.raises(DataError, match="'monetary_value' is negative"):
        GammaGamma().fit(frequency=[1, 2], monetary_value=[10.0, -1.0])
    with pytest.raises(DataError, match="'frequency' is not an integer"):
        GammaGamma().fit(frequency=[1.5, 2], monetary_value=[10.0, 1.0])
    gg = GammaGamma.from_params(p=6.25, q=3.74, v=15.44)
    with pytest.raises(DataError, match="equal lengths"):
        gg.conditional_expected_spend([1, 2], [1.0, 2.0, 3.0])


def test_json_round_trip_keeps_exclusions(model: GammaGamma) -> None:
    back = GammaGamma.from_json(model.to_json())
    assert back.params_ == model.params_ and back.n_excluded_ == 1411


@pytest.mark.slow
def test_parameter_recovery_on_simulated_spend() -> None:
    truth = {"p": 6.25, "q": 3.74, "v": 15.44}
    data = simulate_summary(50_000, spend_params=truth, seed=13)
    m = GammaGamma().fit(data)
    for k, v in truth.items():
        assert abs(m.params_[k] - v) < 3 * m.standard_errors_[k], (k, m.params_[k])
