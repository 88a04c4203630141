"""Tests of the BG/BB model (kernels and the BGBB estimator).

References: Fader, Hardie & Shang (2010), donations data: alpha = 1.204, beta = 0.750,
gamma = 0.657, delta = 2.783, LL = -33225.6; lifetimes 0.11.3 (test-only) for parameters,
log-likelihood and predictions; brute-force sums written independently here.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.special import betaln, comb

from crmmodels.clv._bgbb import BGBB
from crmmodels.datasets import load_donations
from crmmodels.errors import DataError, NotFittedError
from crmmodels.kernels import bgbb as K

from _engines import to_engine

PUBLISHED = {"alpha": 1.204, "beta": 0.750, "gamma": 0.657, "delta": 2.783}
P = np.array(list(PUBLISHED.values()))


@pytest.fixture(scope="module")
def donations() -> pd.DataFrame:
    return load_donations()


@pytest.fixture(scope="module")
def fitted(donations: pd.DataFrame) -> BGBB:
    return BGBB().fit(donations, weights_col="weights")


def _arrays(df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    return tuple(
        df[c].to_numpy(dtype=float) for c in ("frequency", "recency", "periods", "weights")
    )  # type: ignore[return-value]


def _lifetimes(params: dict[str, float]) -> object:
    from lifetimes import BetaGeoBetaBinomFitter

    lf = BetaGeoBetaBinomFitter()
    lf.params_ = pd.Series(params)
    return lf


# --------------------------------------------------------------------- brute force
def _loglik_brute(params: np.ndarray, x: int, tx: int, n: int) -> float:
    """Eq. 5 term by term, in plain Python."""
    a, b, g, d = params
    total = np.exp(betaln(a + x, b + n - x) - betaln(a, b) + betaln(g, d + n) - betaln(g, d))
    for i in range(n - tx):
        total += np.exp(
            betaln(a + x, b + tx - x + i) - betaln(a, b) + betaln(g + 1, d + tx + i) - betaln(g, d)
        )
    return float(np.log(total))


def _p_alive_at(params: np.ndarray, x: int, tx: int, n: int, k: int) -> float:
    """P(alive at opportunity n + k | history), from eq. 11's construction."""
    a, b, g, d = params
    num = betaln(a + x, b + n - x) - betaln(a, b) + betaln(g, d + n + k) - betaln(g, d)
    return float(np.exp(num - _loglik_brute(params, x, tx, n)))


def _expected_p(params: np.ndarray, x: int, n: int) -> float:
    """E[p | x transactions in n alive opportunities] = (alpha + x) / (alpha + beta + n)."""
    a, b, _, _ = params
    return (a + x) / (a + b + n)


# ------------------------------------------------------------------ published values
def test_donations_reproduces_published_estimates(fitted: BGBB) -> None:
    for k, v in PUBLISHED.items():
        assert fitted.params_[k] == pytest.approx(v, abs=1.5e-3), k
    assert fitted.log_likelihood_ == pytest.approx(-33225.6, abs=0.05)
    assert fitted.n_customers_ == 11_104
    assert fitted.diagnostics_["n_distinct_rows"] == 22
    assert fitted.diagnostics_["converged"]


def test_donations_against_lifetimes(donations: pd.DataFrame, fitted: BGBB) -> None:
    from lifetimes import BetaGeoBetaBinomFitter

    x, tx, n, w = _arrays(donations)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # lifetimes BFGS stops with "precision loss" below tol=1e-7; its default is enough
        lf = BetaGeoBetaBinomFitter().fit(x, tx, n, weights=w)
    for k in PUBLISHED:
        assert fitted.params_[k] == pytest.approx(float(lf.params_[k]), rel=1e-4), k
    ll_lf = float(np.dot(w, K.log_likelihood(lf.params_.to_numpy(), x, tx, n)))
    assert fitted.log_likelihood_ >= ll_lf - 1e-6
    # same parameters: log-likelihood and predictions agree to 1e-10
    lf2 = _lifetimes(PUBLISHED)
    m = BGBB.from_params(**PUBLISHED)
    np.testing.assert_allclose(
        K.log_likelihood(P, x, tx, n),
        lf2._loglikelihood(P, x, tx, n),
        rtol=1e-12,  # type: ignore[attr-defined]
    )
    np.testing.assert_allclose(
        m.probability_alive(x, tx, n),
        lf2.conditional_probability_alive(1, x, tx, n),
        rtol=1e-10,  # type: ignore[attr-defined]
    )
    for horizon in (1, 5, 10):
        np.testing.assert_allclose(
            m.conditional_expected_purchases(horizon, x, tx, n),
            lf2.conditional_expected_number_of_purchases_up_to_time(horizon, x, tx, n),  # type: ignore[attr-defined]
            rtol=1e-10,
        )
    lf2.data = pd.DataFrame({"frequency": x, "weights": w})  # type: ignore[attr-defined]
    ref = lf2.expected_number_of_transactions_in_first_n_periods(6)["model"].to_numpy()  # type: ignore[attr-defined]
    np.testing.assert_allclose(
        m.probability_of_purchases(np.arange(7), 6) * w.sum(), ref, rtol=1e-10
    )


# --------------------------------------------------------------- brute-force checks
def test_loglik_matches_brute_force() -> None:
    rows = [(0, 0, 6), (1, 1, 6), (3, 4, 6), (6, 6, 6), (2, 3, 11), (0, 0, 1), (5, 20, 40)]
    for params in (P, np.array([0.3, 4.0, 2.0, 0.5]), np.array([20.0, 1.0, 0.1, 30.0])):
        got = K.log_likelihood(params, *np.array(rows, dtype=float).T)
        ref = [_loglik_brute(params, *r) for r in rows]
        np.testing.assert_allclose(got, ref, rtol=1e-12)


def test_predictions_match_brute_force() -> None:
    for x, tx, n in [(0, 0, 6), (3, 4, 6), (6, 6, 6), (2, 9, 10)]:
        # P(transaction at n + k) = P(alive at n + k) * E[p | data]
        per_period = [_p_alive_at(P, x, tx, n, k) * _expected_p(P, x, n) for k in range(1, 2001)]
        cum = np.cumsum(per_period)
        got = K.conditional_expected_purchases(P, [1, 5, 30], x, tx, n)
        np.testing.assert_allclose(got, cum[[0, 4, 29]], rtol=1e-10)
        for dr in (0.1, 0.3):
            brute = sum(v / (1 + dr) ** k for k, v in enumerate(per_period, start=1))
            dert = float(K.discounted_expected_residual_transactions(P, x, tx, n, dr))
            assert dert == pytest.approx(brute, rel=1e-9)
        assert float(K.probability_alive(P, x, tx, n)) == pytest.approx(_p_alive_at(P, x, tx, n, 1))


def test_probability_of_purchases_brute_force_and_sum() -> None:
    a, b, g, d = P
    n = 8
    probs = K.probability_of_purchases(P, np.arange(n + 1), n)
    assert probs.sum() == pytest.approx(1.0, abs=1e-12)
    assert (probs * np.arange(n + 1)).sum() == pytest.approx(
        float(K.expected_purchases(P, n)), rel=1e-12
    )
    for x in range(n + 1):
        ref = comb(n, x) * np.exp(
            betaln(a + x, b + n - x) - betaln(a, b) + betaln(g, d + n) - betaln(g, d)
        )
        for i in range(x, n):
            ref += comb(i, x) * np.exp(
                betaln(a + x, b + i - x) - betaln(a, b) + betaln(g + 1, d + i) - betaln(g, d)
            )
        assert probs[x] == pytest.approx(ref, rel=1e-12)
    assert K.probability_of_purchases(P, [7], 6).tolist() == [0.0]


def test_expected_purchases_near_gamma_one() -> None:
    base = np.array([1.2, 0.75, 1.0, 2.8])
    at_one = K.expected_purchases(base, [3.0, 10.0])
    for eps in (1e-5, -1e-5):
        near = K.expected_purchases(base + np.array([0, 0, eps, 0]), [3.0, 10.0])
        np.testing.assert_allclose(near, at_one, rtol=1e-4)


# ------------------------------------------------------------------------- gradient
@pytest.mark.parametrize(
    "params", [P, np.array([0.3, 4.0, 2.0, 0.5]), np.array([20.0, 1.0, 0.1, 30.0])]
)
def test_gradient_matches_finite_differences(donations: pd.DataFrame, params: np.ndarray) -> None:
    x, tx, n, w = _arrays(donations)
    _, grad = K.log_likelihood_grad(params, x, tx, n, w)
    for i in range(4):
        h = 1e-6 * params[i]
        up, dn = params.copy(), params.copy()
        up[i] += h
        dn[i] -= h
        fd = (
            K.log_likelihood_grad(up, x, tx, n, w)[0] - K.log_likelihood_grad(dn, x, tx, n, w)[0]
        ) / (2 * h)
        assert grad[i] == pytest.approx(fd, rel=1e-5, abs=1e-4), i


# ---------------------------------------------------------------------- properties
histories = st.integers(1, 60).flatmap(
    lambda n: st.integers(0, n).flatmap(
        lambda tx: st.tuples(st.integers(0 if tx == 0 else 1, tx), st.just(tx), st.just(n))
    )
)
param_sets = st.tuples(*(st.floats(1e-2, 1e2) for _ in range(4)))


@given(params=param_sets, hist=histories, m1=st.integers(0, 50), dm=st.integers(0, 50))
def test_properties_of_predictions(
    params: tuple[float, ...], hist: tuple[int, int, int], m1: int, dm: int
) -> None:
    x, tx, n = hist
    pa = float(K.probability_alive(params, x, tx, n))
    assert 0.0 <= pa <= 1.0 + 1e-12
    c1, c2 = (float(K.conditional_expected_purchases(params, m, x, tx, n)) for m in (m1, m1 + dm))
    assert np.isfinite(c1) and np.isfinite(c2)
    assert 0.0 <= c1 <= c2 * (1 + 1e-10) + 1e-300
    e1, e2 = K.expected_purchases(params, [m1, m1 + dm])
    assert 0.0 <= e1 <= e2 * (1 + 1e-10) + 1e-300
    d = float(K.discounted_expected_residual_transactions(params, x, tx, n, 0.1))
    assert np.isfinite(d) and d >= 0


@given(rows=st.lists(histories, min_size=1, max_size=25), params=param_sets)
def test_loglik_with_compression_equals_without(
    rows: list[tuple[int, int, int]], params: tuple[float, ...]
) -> None:
    arr = np.array(rows, dtype=float)
    ll_raw, g_raw = K.log_likelihood_grad(params, arr[:, 0], arr[:, 1], arr[:, 2])
    u, cnt = np.unique(arr, axis=0, return_counts=True)
    ll_c, g_c = K.log_likelihood_grad(params, u[:, 0], u[:, 1], u[:, 2], cnt.astype(float))
    assert ll_c == pytest.approx(ll_raw, rel=1e-12)
    np.testing.assert_allclose(g_c, g_raw, rtol=1e-10, atol=1e-10)


# --------------------------------------------------------------------------- extremes
def test_extreme_inputs_are_finite() -> None:
    x = np.array([0.0, 1.0, 10_000.0, 5_000.0, 3.0])
    tx = np.array([0.0, 1.0, 10_000.0, 9_000.0, 10.0])
    n = np.full(5, 10_000.0)
    for params in [(1e-4,) * 4, (1e4,) * 4, (1e-4, 1e4, 1e-4, 1e4), (1e4, 1e-4, 1e4, 1e-4)]:
        ll, g = K.log_likelihood_grad(params, x, tx, n)
        assert np.isfinite(ll) and np.all(np.isfinite(g)), params
        pa = K.probability_alive(params, x, tx, n)
        assert np.all((pa >= 0) & (pa <= 1 + 1e-12)), params
        ce = K.conditional_expected_purchases(params, 1000, x, tx, n)
        assert np.all(np.isfinite(ce) & (ce >= 0)), params
        d = K.discounted_expected_residual_transactions(params, x, tx, n, 0.01)
        assert np.all(np.isfinite(d) & (d >= 0)), params
        assert np.all(np.isfinite(K.expected_purchases(params, [1, 1000])))
        p = K.probability_of_purchases(params, [0, 1, 1000], 1000)
        assert np.all(np.isfinite(p) & (p >= 0) & (p <= 1 + 1e-12)), params


# ---------------------------------------------------------------------- estimator API
def test_not_fitted_and_bad_inputs() -> None:
    with pytest.raises(NotFittedError, match="not fitted"):
        BGBB().probability_alive([0], [0], [6])
    with pytest.raises(DataError, match="frequency"):
        BGBB().fit(frequency=[3], recency=[2], n_periods=[6])
    with pytest.raises(DataError, match="recency"):
        BGBB().fit(frequency=[1], recency=[7], n_periods=[6])
    with pytest.raises(DataError, match="recency"):
        BGBB().fit(frequency=[0], recency=[2], n_periods=[6])
    with pytest.raises(DataError, match="n_periods"):
        BGBB().fit(frequency=[1], recency=[2], n_periods=[5.5])
    with pytest.raises(DataError, match="weights"):
        BGBB().fit(frequency=[1], recency=[2], n_periods=[6], weights=[-1.0])
    m = BGBB.from_params(**PUBLISHED)
    with pytest.raises(DataError, match="discount_rate"):
        m.expected_discounted_residual_transactions([1], [2], [6], -0.1)
    with pytest.raises(DataError, match="n"):
        m.expected_purchases([1.5])


def test_fit_does_not_mutate_and_expanded_rows_give_same_fit(
    donations: pd.DataFrame, fitted: BGBB
) -> None:
    before = donations.copy(deep=True)
    BGBB().fit(donations, weights_col="weights")
    pd.testing.assert_frame_equal(donations, before)
    expanded = donations.loc[donations.index.repeat(donations["weights"].astype(int))]
    m = BGBB().fit(
        frequency=expanded["frequency"].to_numpy(),
        recency=expanded["recency"].to_numpy(),
        n_periods=expanded["periods"].to_numpy(),
    )
    assert m.log_likelihood_ == pytest.approx(fitted.log_likelihood_, rel=1e-10)
    assert m.n_customers_ == 11_104


def test_json_roundtrip(fitted: BGBB) -> None:
    back = BGBB.from_json(fitted.to_json())
    assert back.params_ == fitted.params_
    assert back.log_likelihood_ == pytest.approx(fitted.log_likelihood_)


def test_engines(engine: str, donations: pd.DataFrame, fitted: BGBB) -> None:
    m = BGBB().fit(to_engine(donations, engine), weights_col="weights")
    for k in PUBLISHED:
        assert m.params_[k] == pytest.approx(fitted.params_[k], rel=1e-8)


# ---------------------------------------------------------------- recovery (simulated)
def _simulate_bgbb(n_cust: int, params: np.ndarray, n: int, seed: int) -> np.ndarray:
    a, b, g, d = params
    rng = np.random.default_rng(seed)
    p = rng.beta(a, b, n_cust)
    theta = rng.beta(g, d, n_cust)
    # alive at opportunity t (1..n) iff the geometric death time exceeds t - 1
    death = rng.geometric(theta)  # dies at the start of opportunity `death`
    t = np.arange(1, n + 1)[None, :]
    buys = (rng.random((n_cust, n)) < p[:, None]) & (t <= death[:, None] - 1)
    x = buys.sum(axis=1)
    tx = np.where(x > 0, n - np.argmax(buys[:, ::-1], axis=1), 0)
    return np.stack([x, tx, np.full(n_cust, n)], axis=1).astype(float)


def test_parameter_recovery_on_simulated_data() -> None:
    truth = np.array([1.2, 0.75, 0.66, 2.8])
    data = _simulate_bgbb(50_000, truth, 8, seed=11)
    m = BGBB().fit(frequency=data[:, 0], recency=data[:, 1], n_periods=data[:, 2])
    assert m.diagnostics_["n_distinct_rows"] <= 8 * 9 // 2 + 1
    for k, v in zip(PUBLISHED, truth, strict=True):
        se = m.standard_errors_[k]
        assert abs(m.params_[k] - v) < 3.0 * se, (k, m.params_[k], v, se)


wide = st.floats(-4.0, 4.0).map(lambda e: 10.0**e)


@given(
    params=st.tuples(wide, wide, wide, wide),
    n=st.integers(1, 2_000),
    fx=st.floats(0.0, 1.0),
    ft=st.floats(0.0, 1.0),
    m=st.integers(0, 1_000),
)
def test_wide_parameter_range_is_finite(
    params: tuple[float, ...], n: int, fx: float, ft: float, m: int
) -> None:
    tx = round(ft * n)
    x = round(fx * tx) if tx > 0 else 0
    x = max(x, 1) if tx > 0 else 0
    ll, g = K.log_likelihood_grad(params, [x], [tx], [n])
    assert np.isfinite(ll) and np.all(np.isfinite(g))
    pa = float(K.probability_alive(params, x, tx, n))
    assert 0.0 <= pa <= 1.0 + 1e-12
    ce = float(K.conditional_expected_purchases(params, m, x, tx, n))
    assert np.isfinite(ce) and ce >= 0.0
    d = float(K.discounted_expected_residual_transactions(params, x, tx, n, 0.05))
    assert np.isfinite(d) and d >= 0.0
