"""MBG/NBD: lifetimes agreement on CDNOW, gradients, properties, extremes, recovery."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.optimize import approx_fprime

from crmmodels.clv import BGNBD, MBGNBD
from crmmodels.datasets import load_cdnow_summary
from crmmodels.datasets._simulate import simulate_summary
from crmmodels.kernels import mbgnbd


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    return load_cdnow_summary()


@pytest.fixture(scope="module")
def model(cdnow: pd.DataFrame) -> MBGNBD:
    return MBGNBD().fit(cdnow)


@pytest.fixture(scope="module")
def lifetimes_model(cdnow: pd.DataFrame):  # type: ignore[no-untyped-def]
    from lifetimes import ModifiedBetaGeoFitter

    return ModifiedBetaGeoFitter().fit(cdnow["frequency"], cdnow["recency"], cdnow["T"])


def test_fit_agrees_with_lifetimes(model: MBGNBD, lifetimes_model, cdnow) -> None:  # type: ignore[no-untyped-def]
    for k in ("r", "alpha", "a", "b"):
        assert model.params_[k] == pytest.approx(lifetimes_model.params_[k], rel=1e-4)
    x, tx, t = (cdnow[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    lt_params = np.array([lifetimes_model.params_[k] for k in ("r", "alpha", "a", "b")])
    lt_ll = -type(lifetimes_model)._negative_log_likelihood(
        np.log(lt_params), x, tx, t, np.ones_like(x), 0.0
    ) * len(x)
    assert mbgnbd.loglik(lt_params, x, tx, t).sum() == pytest.approx(lt_ll, rel=1e-12)
    assert model.log_likelihood_ == pytest.approx(lt_ll, rel=1e-8)
    assert model.log_likelihood_ >= lt_ll - 1e-8
    # Batislam et al. report a CDNOW fit on par with BG/NBD: the two LLs are close
    assert abs(model.log_likelihood_ - BGNBD().fit(cdnow).log_likelihood_) < 1.0


def test_every_prediction_agrees_with_lifetimes(model: MBGNBD, lifetimes_model, cdnow) -> None:  # type: ignore[no-untyped-def]
    x, tx, t = (cdnow[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    same = MBGNBD.from_params(**{k: float(v) for k, v in lifetimes_model.params_.items()})
    lt = lifetimes_model
    for h in (1.0, 39.0, 100.0):
        np.testing.assert_allclose(
            same.conditional_expected_purchases(h, x, tx, t),
            lt.conditional_expected_number_of_purchases_up_to_time(h, x, tx, t),
            rtol=1e-8,
        )
    np.testing.assert_allclose(
        same.probability_alive(x, tx, t), lt.conditional_probability_alive(x, tx, t), rtol=1e-10
    )
    grid = np.array([1.0, 39.0, 78.0, 200.0])
    np.testing.assert_allclose(
        same.expected_purchases(grid), lt.expected_number_of_purchases_up_to_time(grid), 1e-8
    )
    for n in range(6):
        np.testing.assert_allclose(
            same.probability_of_purchases(n, 39.0),
            lt.probability_of_n_purchases_up_to_time(39.0, n),
            rtol=1e-8,
        )
    np.testing.assert_allclose(
        model.conditional_expected_purchases(39.0, x, tx, t),
        lt.conditional_expected_number_of_purchases_up_to_time(39.0, x, tx, t),
        rtol=1e-4,
        atol=1e-12,
    )
    np.testing.assert_allclose(
        model.probability_alive(x, tx, t), lt.conditional_probability_alive(x, tx, t), 1e-4
    )


def test_customers_without_repeats_may_be_dead(model: MBGNBD) -> None:
    pa = model.probability_alive([0, 0], [0.0, 0.0], [1.0, 38.0])
    assert 0 < pa[1] < pa[0] < 1  # unlike BG/NBD, where both are exactly 1


@pytest.mark.parametrize("params", [(0.525, 6.18, 0.89, 1.61), (2.0, 0.5, 5.0, 0.3)])
def test_gradient_matches_finite_differences(params: tuple, cdnow: pd.DataFrame) -> None:
    x, tx, t = (cdnow[c].to_numpy(float) for c in ("frequency", "recency", "T"))

    def f(p: np.ndarray) -> float:
        return float(mbgnbd.loglik(p, x, tx, t).sum())

    p0 = np.array(params)
    ll, g = mbgnbd.loglik_grad(p0, x, tx, t)
    assert ll == pytest.approx(f(p0), rel=1e-12)
    np.testing.assert_allclose(g, approx_fprime(p0, f, 1e-7 * p0), rtol=2e-4, atol=1e-3)


def test_probability_of_purchases_sums_to_one_with_the_right_mean() -> None:
    p = np.array([0.525, 6.18, 0.89, 1.61])
    n = np.arange(20000)
    pmf = mbgnbd.probability_of_purchases(p, n, 39.0)
    assert pmf.sum() == pytest.approx(1.0, abs=1e-8)
    assert (n * pmf).sum() == pytest.approx(float(mbgnbd.expected_purchases(p, 39.0)), 1e-6)


def test_extremes_all_finite() -> None:
    x = np.array([0, 1, 10000, 10000], dtype=float)
    tx = np.array([0, 0.5, 1, 10000])
    t = np.array([1, 1, 10000, 10000], dtype=float)
    for value in (1e-4, 1e4):
        for idx in range(4):
            p = np.array([0.525, 6.18, 0.89, 1.61])
            p[idx] = value
            m = MBGNBD.from_params(**dict(zip(("r", "alpha", "a", "b"), p, strict=True)))
            ce = m.conditional_expected_purchases(1000.0, x, tx, t)
            assert np.all(np.isfinite(ce)) and np.all(ce >= 0)
            assert np.all(np.isfinite(m.expected_purchases([1.0, 1000.0])))
            assert np.all(np.isfinite(mbgnbd.loglik(p, x, tx, t)))


@given(
    a=st.floats(1e-3, 1e3),
    b=st.floats(1e-3, 1e3),
    x=st.integers(0, 100),
    frac=st.floats(0, 1),
    T=st.floats(0.01, 500),
    h=st.floats(0, 300),
)
def test_properties(a: float, b: float, x: int, frac: float, T: float, h: float) -> None:
    tx = frac * T if x > 0 else 0.0
    m = MBGNBD.from_params(r=0.5, alpha=6.0, a=a, b=b)
    pa = float(m.probability_alive(x, tx, T))
    assert 0.0 <= pa <= 1.0
    e1, e2 = (float(m.conditional_expected_purchases(v, x, tx, T)) for v in (h, h + 1.0))
    assert 0.0 <= e1 <= e2 * (1 + 1e-7) + 1e-12


@pytest.mark.slow
def test_parameter_recovery_on_simulated_customers() -> None:
    truth = {"r": 0.525, "alpha": 6.183, "a": 0.891, "b": 1.614}
    data = simulate_summary(50_000, "mbgnbd", truth, seed=12)
    m = MBGNBD().fit(data)
    for k, v in truth.items():
        assert abs(m.params_[k] - v) < 3 * m.standard_errors_[k], (k, m.params_[k])
