"""BG/NBD: published CDNOW numbers, lifetimes agreement, gradients, properties, extremes."""

from __future__ import annotations

import json
from pathlib import Path

import mpmath as mp
import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from scipy.optimize import approx_fprime

from crmmodels.clv import BGNBD
from crmmodels.datasets import load_cdnow_summary
from crmmodels.datasets._simulate import simulate_summary
from crmmodels.errors import DataError
from crmmodels.kernels import bgnbd
from crmmodels.kernels.bgnbd_expected import _closed_form, _quadrature, alive_expected_purchases

REF = json.loads(
    (Path(__file__).resolve().parents[1] / "reference" / "clv_bgnbd_cdnow.json").read_text()
)
PAPER = (0.243, 4.414, 0.793, 2.426)


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    return load_cdnow_summary()


@pytest.fixture(scope="module")
def model(cdnow: pd.DataFrame) -> BGNBD:
    return BGNBD().fit(cdnow)


@pytest.fixture(scope="module")
def lifetimes_model(cdnow: pd.DataFrame):  # type: ignore[no-untyped-def]
    from lifetimes import BetaGeoFitter

    return BetaGeoFitter().fit(cdnow["frequency"], cdnow["recency"], cdnow["T"])


def _lifetimes_at(params: dict[str, float]):  # type: ignore[no-untyped-def]
    from lifetimes import BetaGeoFitter

    f = BetaGeoFitter()
    f.params_ = pd.Series(params)
    return f


# ------------------------------------------------------------------ paper
def test_reproduces_fader_hardie_lee_2005(model: BGNBD) -> None:
    ref = REF["bgnbd"]
    for k, v in ref["params"].items():  # published values are rounded
        assert round(model.params_[k], ref["params_decimals"]) == v, (k, model.params_[k])
    assert round(model.log_likelihood_, ref["log_likelihood_decimals"]) == ref["log_likelihood"]
    c = ref["conditional_expected_purchases"]
    value = model.conditional_expected_purchases(c["t"], c["frequency"], c["recency"], c["T"])
    assert round(float(value), c["decimals"]) == c["value"]


# -------------------------------------------------------------- lifetimes
def test_fit_agrees_with_lifetimes(model: BGNBD, lifetimes_model, cdnow: pd.DataFrame) -> None:  # type: ignore[no-untyped-def]
    for k in ("r", "alpha", "a", "b"):
        assert model.params_[k] == pytest.approx(lifetimes_model.params_[k], rel=1e-4)
    # log-likelihood: lifetimes' own function (unscaled data) at its optimum vs ours
    lt_params = np.array([lifetimes_model.params_[k] for k in ("r", "alpha", "a", "b")])
    x, tx, t = (cdnow[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    lt_ll = -type(lifetimes_model)._negative_log_likelihood(
        np.log(lt_params), x, tx, t, np.ones_like(x), 0.0
    ) * len(x)
    assert model.log_likelihood_ == pytest.approx(lt_ll, rel=1e-8)
    assert model.log_likelihood_ >= lt_ll - 1e-9  # our optimum is at least as good
    assert bgnbd.loglik(lt_params, x, tx, t).sum() == pytest.approx(lt_ll, rel=1e-12)


def test_every_prediction_agrees_with_lifetimes(model: BGNBD, lifetimes_model, cdnow) -> None:  # type: ignore[no-untyped-def]
    x, tx, t = (cdnow[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    # same parameters: agreement to rounding error
    same = BGNBD.from_params(**{k: float(v) for k, v in lifetimes_model.params_.items()})
    for h in (1.0, 10.0, 39.0, 100.0):
        np.testing.assert_allclose(
            same.conditional_expected_purchases(h, x, tx, t),
            lifetimes_model.conditional_expected_number_of_purchases_up_to_time(h, x, tx, t),
            rtol=1e-8,
        )
    np.testing.assert_allclose(
        same.probability_alive(x, tx, t),
        lifetimes_model.conditional_probability_alive(x, tx, t),
        rtol=1e-10,
    )
    grid = np.array([1.0, 5.0, 39.0, 78.0, 200.0])
    np.testing.assert_allclose(
        same.expected_purchases(grid),
        lifetimes_model.expected_number_of_purchases_up_to_time(grid),
        rtol=1e-8,
    )
    for n in range(8):
        np.testing.assert_allclose(
            same.probability_of_purchases(n, 39.0),
            lifetimes_model.probability_of_n_purchases_up_to_time(39.0, n),
            rtol=1e-8,
        )
    # both fitted: agreement to 1e-4 relative
    np.testing.assert_allclose(
        model.conditional_expected_purchases(39.0, x, tx, t),
        lifetimes_model.conditional_expected_number_of_purchases_up_to_time(39.0, x, tx, t),
        rtol=1e-4,
        atol=1e-12,  # a few customers have expectations below 1e-9
    )
    np.testing.assert_allclose(
        model.probability_alive(x, tx, t),
        lifetimes_model.conditional_probability_alive(x, tx, t),
        rtol=1e-4,
        atol=1e-12,
    )
    np.testing.assert_allclose(
        model.expected_purchases(grid),
        lifetimes_model.expected_number_of_purchases_up_to_time(grid),
        rtol=1e-4,
    )


def test_lifetimes_overflows_where_we_stay_finite() -> None:
    # lifetimes evaluates scipy's hyp2f1 directly: with large parameters it returns NaN
    # (its issues #25, #332, #445); our values are finite and match mpmath.
    params = {"r": 1e4, "alpha": 1e-4, "a": 1e4, "b": 1e-4}
    lt = _lifetimes_at(params)
    ours = BGNBD.from_params(**params)
    assert np.isnan(lt.expected_number_of_purchases_up_to_time(1000.0))
    value = float(ours.expected_purchases(1000.0))
    assert np.isfinite(value)
    assert value == pytest.approx(_g_mpmath(1e4, 1e-4, 1e4, 1e-4, 1000.0), rel=1e-8)


# -------------------------------------------------------------- gradients
@pytest.mark.parametrize(
    "params", [PAPER, (1.5, 0.7, 3.0, 0.4), (0.05, 30.0, 0.2, 8.0), (20.0, 2.0, 50.0, 60.0)]
)
def test_gradient_matches_finite_differences(params: tuple, cdnow: pd.DataFrame) -> None:
    x, tx, t = (cdnow[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    w = np.linspace(0.5, 2.0, len(x))

    def f(p: np.ndarray) -> float:
        return float(w @ bgnbd.loglik(p, x, tx, t))

    p0 = np.array(params, dtype=float)
    ll, g = bgnbd.loglik_grad(p0, x, tx, t, w)
    assert ll == pytest.approx(f(p0), rel=1e-12)
    num = approx_fprime(p0, f, 1e-7 * p0)
    np.testing.assert_allclose(g, num, rtol=2e-4, atol=1e-3)


# -------------------------------------------------------------- numerics
def _g_mpmath(R: float, A: float, a: float, B: float, t: float) -> float:
    with mp.workdps(60):
        R_, A_, a_, B_, t_ = (mp.mpf(v) for v in (R, A, a, B, t))
        c = a_ + B_ - 1
        s = (A_ / (A_ + t_)) ** R_ * mp.hyp2f1(R_, B_, c, t_ / (A_ + t_))
        return float(c / (a_ - 1) * (1 - s))


@pytest.mark.parametrize(
    "case",
    [
        (1e4, 1e4, 1e-4, 1e4, 1000.0),
        (1e-4, 1e-4, 1e4, 1e-4, 1000.0),
        (1e-4, 1e4, 1e-4, 1e-4, 1.0),
        (1e4, 1e-4, 1e4, 1e4, 1000.0),
        (1e4, 1.0, 1e-4, 1e4, 1000.0),
        (3.0, 1.0, 1e4, 1e-4, 100.0),
        (5e3, 20.0, 0.5, 5e3, 1000.0),
        (10000.243, 10004.4, 0.79, 10002.4, 1000.0),
        (1.0001e4, 1e4, 0.9999, 1e4, 500.0),
        (0.243, 4.4, 0.79, 2.4, 1000.0),
    ],
)
def test_alive_expectation_matches_mpmath_at_extremes(case: tuple) -> None:
    R, A, a, B, t = case
    got = float(alive_expected_purchases(R, A, a, B, t))
    assert got == pytest.approx(_g_mpmath(*case), rel=1e-7)


def test_closed_form_and_quadrature_agree_where_both_apply() -> None:
    rng = np.random.default_rng(0)
    R, A = rng.uniform(0.1, 20, 400), rng.uniform(1, 100, 400)
    B, t = rng.uniform(1.5, 30, 400), rng.uniform(0.1, 50, 400)
    for a in (0.3, 0.793, 1.7, 5.0):
        np.testing.assert_allclose(_quadrature(R, A, a, B, t), _closed_form(R, A, a, B, t), 1e-7)


def test_near_a_equal_one_no_cancellation() -> None:
    # the closed form divides by a - 1; the result must be continuous through a = 1
    vals = [float(alive_expected_purchases(2.0, 10.0, a, 3.0, 20.0)) for a in (0.999, 1.0, 1.001)]
    assert np.all(np.isfinite(vals))
    assert vals[0] > vals[1] > vals[2]
    assert vals[1] == pytest.approx(_g_mpmath(2.0, 10.0, 1.0 + 1e-12, 3.0, 20.0), rel=1e-7)


def test_probability_of_purchases_is_a_distribution_with_the_right_mean() -> None:
    params = np.array(PAPER)
    n = np.arange(0, 20000)
    for t in (5.0, 39.0, 150.0):
        pmf = bgnbd.probability_of_purchases(params, n, t)
        assert pmf.sum() == pytest.approx(1.0, abs=1e-8)
        assert (n * pmf).sum() == pytest.approx(float(bgnbd.expected_purchases(params, t)), 1e-6)


def test_extremes_all_finite() -> None:
    x = np.array([0, 1, 10, 1000, 10000, 10000, 10000], dtype=float)
    tx = np.array([0, 0.5, 5, 900, 1, 9999, 10000])
    t = np.array([1, 1, 10, 1000, 10000, 10000, 10000], dtype=float)
    for value in (1e-4, 1e-2, 1.0, 1e2, 1e4):
        for idx in range(4):
            p = np.array(PAPER)
            p[idx] = value
            m = BGNBD.from_params(**dict(zip(("r", "alpha", "a", "b"), p, strict=True)))
            for h in (0.0, 1.0, 1000.0):
                ce = m.conditional_expected_purchases(h, x, tx, t)
                assert np.all(np.isfinite(ce)) and np.all(ce >= 0), (p, h)
            pa = m.probability_alive(x, tx, t)
            assert np.all((pa >= 0) & (pa <= 1))
            assert np.all(np.isfinite(bgnbd.loglik(p, x, tx, t)))
            assert np.all(np.isfinite(m.expected_purchases([1.0, 1000.0])))
            pn = m.probability_of_purchases([0, 1, 100, 10000], 1000.0)
            assert np.all(np.isfinite(pn)) and np.all((pn >= 0) & (pn <= 1 + 1e-12))
    corner = BGNBD.from_params(r=1e-4, alpha=1e4, a=1e-4, b=1e4)
    assert np.all(np.isfinite(corner.conditional_expected_purchases(1000, x, tx, t)))


positive = st.floats(1e-3, 1e3)


@given(
    r=positive,
    alpha=positive,
    a=positive,
    b=positive,
    x=st.integers(0, 200),
    frac=st.floats(0, 1),
    T=st.floats(0.01, 1000),
    t1=st.floats(0, 500),
    dt=st.floats(0.01, 500),
)
@example(r=134.0, alpha=0.5, a=36.0, b=1.25, x=0, frac=0.0, T=1.0, t1=9.0, dt=123.0)
def test_properties(
    r: float, alpha: float, a: float, b: float, x: int, frac: float, T: float, t1: float, dt: float
) -> None:
    tx = frac * T if x > 0 else 0.0
    m = BGNBD.from_params(r=r, alpha=alpha, a=a, b=b)
    pa = float(m.probability_alive(x, tx, T))
    assert 0.0 <= pa <= 1.0
    e1 = float(m.conditional_expected_purchases(t1, x, tx, T))
    e2 = float(m.conditional_expected_purchases(t1 + dt, x, tx, T))
    assert np.isfinite(e1) and np.isfinite(e2)
    # non-decreasing up to the ~1e-8 relative accuracy of the numerical integration
    assert 0.0 <= e1 <= e2 * (1 + 1e-7) + 1e-12
    u1, u2 = m.expected_purchases([t1, t1 + dt])
    assert 0.0 <= u1 <= u2 * (1 + 1e-7) + 1e-12


# ------------------------------------------------------------ model API
def test_prediction_input_validation(model: BGNBD) -> None:
    with pytest.raises(DataError, match="'recency' is larger than T"):
        model.probability_alive([1], [5.0], [4.0])
    with pytest.raises(DataError, match="'t' is negative"):
        model.conditional_expected_purchases(-1, 1, 1.0, 2.0)
    with pytest.raises(DataError, match="integers"):
        model.probability_of_purchases(1.5, 10)
    with pytest.raises(DataError, match="equal lengths"):
        model.probability_alive([1, 2], [1.0, 1.0, 1.0], [2.0, 2.0])


def test_predictions_align_with_input_and_accept_series(model: BGNBD, cdnow) -> None:  # type: ignore[no-untyped-def]
    out = model.conditional_expected_purchases(10, cdnow["frequency"], cdnow["recency"], cdnow["T"])
    assert out.shape == (len(cdnow),)
    i = 123
    row = cdnow.iloc[i]
    single = model.conditional_expected_purchases(10, row["frequency"], row["recency"], row["T"])
    assert out[i] == pytest.approx(float(single))
    ll = model.log_likelihood(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    assert ll.sum() == pytest.approx(model.log_likelihood_, rel=1e-12)


@pytest.mark.slow
def test_parameter_recovery_on_simulated_customers() -> None:
    truth = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    data = simulate_summary(50_000, "bgnbd", truth, seed=11)
    m = BGNBD().fit(data)
    for k, v in truth.items():
        assert abs(m.params_[k] - v) < 3 * m.standard_errors_[k], (k, m.params_[k])


def test_fit_with_extreme_customers_is_finite(cdnow: pd.DataFrame) -> None:
    x = np.r_[cdnow["frequency"], 10000, 9000, 5000]
    tx = np.r_[cdnow["recency"], 9999.0, 100.0, 10000.0]
    t = np.r_[cdnow["T"], 10000.0, 10000.0, 10000.0]
    m = BGNBD().fit(frequency=x, recency=tx, T=t)
    assert m.diagnostics_["converged"] and np.isfinite(m.log_likelihood_)
    assert all(np.isfinite(v) for v in m.standard_errors_.values())
    assert np.all(np.isfinite(m.conditional_expected_purchases(1000, x, tx, t)))


def test_recovery_with_heavy_buyers() -> None:
    # frequencies beyond 10,000: the per-x gammaln/betaln split keeps everything finite
    truth = {"r": 50.0, "alpha": 0.5, "a": 2.0, "b": 200.0}
    data = simulate_summary(20_000, "bgnbd", truth, observation_weeks=100, seed=1)
    assert data["frequency"].max() > 10_000
    m = BGNBD().fit(data)
    for k, v in truth.items():
        assert abs(m.params_[k] - v) < 3 * m.standard_errors_[k], (k, m.params_[k])


def test_alive_expected_purchases_quadrature_on_a_lopsided_beta() -> None:
    # a = 36, B = 1.25, r = 134: the mass of p sits near 1 with a long right tail on the
    # logit scale; 8 quadrature panels left a 2e-7 error that broke monotonicity in t.
    import mpmath as mp

    from crmmodels.kernels.bgnbd import alive_expected_purchases

    r, alpha, a, b = 134.0, 0.5, 36.0, 1.25

    def reference(t: float) -> float:
        def f(p: mp.mpf) -> mp.mpf:
            return p ** (a - 1) * (1 - p) ** (b - 1) * (1 - (1 + p * t / alpha) ** (-r)) / p

        cuts = [0, 1e-6, 1e-3, 0.05, 0.2, 0.5, 0.9, 0.99, 0.999, 1]
        return float(mp.quad(f, cuts) / mp.beta(a, b))

    with mp.workdps(30):
        for t in (1.0, 9.0, 132.0, 500.0):
            got = float(alive_expected_purchases(r, alpha, a, b, t))
            assert got == pytest.approx(reference(t), rel=1e-10)
