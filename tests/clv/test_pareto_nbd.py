"""Tests of the Pareto/NBD model (kernels and the ParetoNBD estimator).

References: Fader, Hardie & Lee (2005) / Fader & Hardie's Pareto/NBD note for the CDNOW
estimates (r = 0.553, alpha = 10.578, s = 0.606, beta = 11.669, LL = -9595.0); lifetimes
0.11.3 (test-only) for parameters, log-likelihood and predictions; mpmath for the note's
closed form of P(X(t) = n); numeric integration for DERT.
"""

from __future__ import annotations

import math
import warnings

import mpmath as mp
import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.integrate import quad
from scipy.special import gammaln

from crmmodels.clv._pareto_nbd import ParetoNBD
from crmmodels.datasets import load_cdnow_summary
from crmmodels.errors import DataError, NotFittedError
from crmmodels.kernels import pareto_nbd as K

from _engines import to_engine

PUBLISHED = {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}
P_CDNOW = np.array([0.553, 10.578, 0.606, 11.669])


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    return load_cdnow_summary()


@pytest.fixture(scope="module")
def fitted(cdnow: pd.DataFrame) -> ParetoNBD:
    return ParetoNBD().fit(cdnow)


def _arrays(df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return (df[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))  # type: ignore[return-value]


def _lifetimes(params: dict[str, float]) -> object:
    from lifetimes import ParetoNBDFitter

    lf = ParetoNBDFitter()
    lf.params_ = pd.Series(params)
    return lf


# ------------------------------------------------------------------ published values
def test_cdnow_reproduces_published_estimates(fitted: ParetoNBD) -> None:
    for k, v in PUBLISHED.items():
        assert fitted.params_[k] == pytest.approx(v, abs=1.5e-3), k
    assert fitted.log_likelihood_ == pytest.approx(-9595.0, abs=0.05)
    assert fitted.n_customers_ == 2357
    assert fitted.diagnostics_["converged"]
    assert all(np.isfinite(list(fitted.standard_errors_.values())))
    assert fitted.aic_ == pytest.approx(8 - 2 * fitted.log_likelihood_)


def test_cdnow_against_lifetimes_fit(cdnow: pd.DataFrame, fitted: ParetoNBD) -> None:
    from lifetimes import ParetoNBDFitter

    x, tx, tt = _arrays(cdnow)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # lifetimes' default Nelder-Mead tolerance (1e-4) stops ~1e-4 short of the optimum;
        # with a tight tolerance both tools agree to 1e-4 relative
        lf = ParetoNBDFitter().fit(x, tx, tt, tol=1e-10, maxiter=20000)
    for k in PUBLISHED:
        assert fitted.params_[k] == pytest.approx(float(lf.params_[k]), rel=1e-4), k
    ll_lf = float(
        K.log_likelihood(lf.params_[["r", "alpha", "s", "beta"]].to_numpy(), x, tx, tt).sum()
    )
    assert fitted.log_likelihood_ >= ll_lf - 1e-6
    assert fitted.log_likelihood_ == pytest.approx(ll_lf, rel=1e-8)


def test_predictions_match_lifetimes(cdnow: pd.DataFrame) -> None:
    x, tx, tt = _arrays(cdnow)
    lf = _lifetimes(PUBLISHED)
    m = ParetoNBD.from_params(**PUBLISHED)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ll_ref = lf._conditional_log_likelihood(P_CDNOW, x, tx, tt)  # type: ignore[attr-defined]
        pa_ref = lf.conditional_probability_alive(x, tx, tt)  # type: ignore[attr-defined]
        ce_ref = lf.conditional_expected_number_of_purchases_up_to_time(39, x, tx, tt)  # type: ignore[attr-defined]
        ep_ref = lf.expected_number_of_purchases_up_to_time(np.array([1.0, 39.0, 78.0]))  # type: ignore[attr-defined]
    np.testing.assert_allclose(K.log_likelihood(P_CDNOW, x, tx, tt), ll_ref, rtol=1e-10)
    np.testing.assert_allclose(m.probability_alive(x, tx, tt), pa_ref, rtol=1e-10)
    np.testing.assert_allclose(m.conditional_expected_purchases(39, x, tx, tt), ce_ref, rtol=1e-10)
    np.testing.assert_allclose(m.expected_purchases([1.0, 39.0, 78.0]), ep_ref, rtol=1e-10)


# ------------------------------------------------------------------------- gradient
@pytest.mark.parametrize(
    "params",
    [
        P_CDNOW,
        np.array([0.8, 2.0, 1.3, 9.0]),
        np.array([2.0, 9.0, 0.4, 3.0]),
        np.array([1.0, 5.0, 2.0, 5.0]),
    ],
)
def test_gradient_matches_finite_differences(cdnow: pd.DataFrame, params: np.ndarray) -> None:
    x, tx, tt = _arrays(cdnow)
    _, grad = K.log_likelihood_grad(params, x, tx, tt)
    for i in range(4):
        h = 1e-5 * params[i]
        up, dn = params.copy(), params.copy()
        up[i] += h
        dn[i] -= h
        fd = (K.log_likelihood(up, x, tx, tt).sum() - K.log_likelihood(dn, x, tx, tt).sum()) / (
            2 * h
        )
        assert grad[i] == pytest.approx(fd, rel=1e-5, abs=1e-4), i


def test_gradient_at_extremes_matches_finite_differences() -> None:
    x = np.array([0.0, 1.0, 50.0, 10_000.0])
    tx = np.array([0.0, 0.5, 900.0, 9_999.0])
    tt = np.array([10_000.0, 3.0, 1_000.0, 10_000.0])
    for params in (np.array([1e-3, 1e3, 5.0, 1e-2]), np.array([50.0, 1e-2, 1e-3, 1e3])):
        ll, grad = K.log_likelihood_grad(params, x, tx, tt)
        assert np.isfinite(ll) and np.all(np.isfinite(grad))
        for i in range(4):
            h = 1e-6 * params[i]
            up, dn = params.copy(), params.copy()
            up[i] += h
            dn[i] -= h
            fd = (
                K.log_likelihood_grad(up, x, tx, tt)[0] - K.log_likelihood_grad(dn, x, tx, tt)[0]
            ) / (2 * h)
            assert grad[i] == pytest.approx(fd, rel=1e-5, abs=1e-6), (params, i)


# ------------------------------------------------------------------ P(X(t) = n)
def _pn_note(r: float, al: float, s: float, be: float, x: int, t: float) -> float:
    """Fader & Hardie's closed form (note, eq. 27) at 80 digits (it cancels badly)."""
    with mp.workdps(80):
        r, al, s, be, t = (mp.mpf(v) for v in (r, al, s, be, t))
        first = (
            mp.gamma(r + x)
            / (mp.gamma(r) * mp.factorial(x))
            * (al / (al + t)) ** r
            * (t / (al + t)) ** x
            * (be / (be + t)) ** s
        )
        if al >= be:
            b1 = mp.hyp2f1(r + s, s + 1, r + s + x + 1, (al - be) / al) / al ** (r + s)

            def b2(i: int) -> object:
                return mp.hyp2f1(r + s + i, s + 1, r + s + x + 1, (al - be) / (al + t)) / (
                    al + t
                ) ** (r + s + i)
        else:
            b1 = mp.hyp2f1(r + s, r + x, r + s + x + 1, (be - al) / be) / be ** (r + s)

            def b2(i: int) -> object:
                return mp.hyp2f1(r + s + i, r + x, r + s + x + 1, (be - al) / (be + t)) / (
                    be + t
                ) ** (r + s + i)

        tail = sum(
            mp.gamma(r + s + i) / (mp.gamma(r + s) * mp.factorial(i)) * t**i * b2(i)
            for i in range(x + 1)
        )
        return float(first + al**r * be**s * mp.beta(r + x, s + 1) / mp.beta(r, s) * (b1 - tail))


@pytest.mark.parametrize("params", [tuple(P_CDNOW), (2.0, 3.0, 1.5, 0.5), (0.3, 0.1, 5.0, 40.0)])
@pytest.mark.parametrize("t", [0.5, 39.0, 200.0])
def test_probability_of_purchases_matches_closed_form(params: tuple[float, ...], t: float) -> None:
    xs = [0, 1, 2, 5, 20]
    mine = K.probability_of_purchases(params, xs, t)
    ref = np.array([_pn_note(*params, x, t) for x in xs])
    np.testing.assert_allclose(mine, ref, rtol=1e-10)


def test_probability_of_purchases_is_a_distribution() -> None:
    m = ParetoNBD.from_params(**PUBLISHED)
    n = np.arange(400)
    p = m.probability_of_purchases(n, 39.0)
    assert p.sum() == pytest.approx(1.0, abs=1e-10)
    assert (p * n).sum() == pytest.approx(float(m.expected_purchases(39.0)), rel=1e-8)
    assert m.probability_of_purchases([0, 3], 0.0).tolist() == [1.0, 0.0]


# ------------------------------------------------------------------------------ DERT
@pytest.mark.parametrize(
    "params", [tuple(P_CDNOW), (2.0, 3.0, 1.5, 0.5), (0.3, 0.1, 5.0, 40.0), (0.3, 0.1, 50.0, 40.0)]
)
def test_dert_matches_numeric_integral_and_paper_form(params: tuple[float, ...]) -> None:
    r, al, s, be = params
    delta = 0.01
    for x, tx, tt in [(0, 0.0, 38.86), (2, 30.43, 38.86), (10, 5.0, 100.0)]:
        d = float(K.discounted_expected_residual_transactions(params, x, tx, tt, delta))
        pa = float(K.probability_alive(params, x, tx, tt))

        # brute force: discounted purchase rate E[lambda * 1{alive at T + u} | data]
        def rate(u: float, pa: float = pa, x: float = x, tt: float = tt) -> float:
            return (
                math.exp(-delta * u) * pa * (r + x) / (al + tt) * ((be + tt) / (be + tt + u)) ** s
            )

        brute = sum(
            quad(rate, lo, hi, limit=200)[0]
            for lo, hi in [(0, 10), (10, 100), (100, 1e3), (1e3, 1e4), (1e4, np.inf)]
        )
        assert d == pytest.approx(brute, rel=1e-8)
        # the paper's form with Psi(s, s; delta (beta + T)) (mpmath: scipy's hyperu(s, s, z)
        # is NaN for s = 50, which is why the kernel uses Kummer's form Psi(1, 2 - s; z))
        ll = float(K.log_likelihood(params, x, tx, tt))
        paper = math.exp(
            r * math.log(al)
            + s * math.log(be)
            + (s - 1) * math.log(delta)
            + gammaln(r + x + 1)
            - gammaln(r)
            - (r + x + 1) * math.log(al + tt)
            - ll
        ) * float(mp.hyperu(s, s, delta * (be + tt)))
        assert d == pytest.approx(paper, rel=1e-9)


@pytest.mark.parametrize(
    ("s", "z"),
    [(0.6, 0.1), (0.6, 1e-6), (50.0, 5.0), (1e4, 0.01), (1e4, 1e3), (1e-4, 1e3), (3.0, 1e-8)],
)
def test_tricomi_u_with_fallback_matches_mpmath(s: float, z: float) -> None:
    with mp.workdps(30):
        ref = float(mp.log(mp.hyperu(1, 2 - s, z)))
    ours = float(K._log_tricomi_u1(2.0 - s, np.array([z]))[0])
    assert ours == pytest.approx(ref, rel=1e-10)


def test_dert_method_with_large_s() -> None:
    # scipy's hyperu(1, 2 - s, z) is NaN here: the quadrature fallback takes over
    m = ParetoNBD.from_params(r=0.5, alpha=2.0, s=1e4, beta=1e4)
    d = m.expected_discounted_residual_transactions([0, 5], [0.0, 3.0], [10.0, 10.0], 1e-6)
    assert np.all(np.isfinite(d)) and np.all(d > 0)
    pa = m.probability_alive([0, 5], [0.0, 3.0], [10.0, 10.0])
    # mu ~ Gamma(1e4, 1e4 + 10) is about 1, so DERT ~ P(alive) (r + x) / (alpha + T) / 1
    approx = pa * np.array([0.5, 5.5]) / 12.0 * (1e4 + 10) / (1e4 - 1)
    np.testing.assert_allclose(d, approx, rtol=1e-3)
    with pytest.raises(DataError, match="discount_rate"):
        m.expected_discounted_residual_transactions([0], [0.0], [10.0], 0.0)


# ---------------------------------------------------------------------- properties
histories = st.integers(0, 300).flatmap(
    lambda x: st.tuples(
        st.just(float(x)),
        st.floats(0.0, 1.0),
        st.floats(0.01, 500.0),
    )
)
param_sets = st.tuples(*(st.floats(1e-2, 1e2) for _ in range(4)))


@given(params=param_sets, hist=histories, t1=st.floats(0.0, 100.0), dt=st.floats(0.0, 100.0))
def test_properties_of_predictions(
    params: tuple[float, ...], hist: tuple[float, float, float], t1: float, dt: float
) -> None:
    x, frac, tt = hist
    tx = 0.0 if x == 0 else frac * tt
    pa = float(K.probability_alive(params, x, tx, tt))
    assert 0.0 <= pa <= 1.0
    c1 = float(K.conditional_expected_purchases(params, t1, x, tx, tt))
    c2 = float(K.conditional_expected_purchases(params, t1 + dt, x, tx, tt))
    assert np.isfinite(c1) and np.isfinite(c2)
    assert 0.0 <= c1 <= c2 * (1 + 1e-12) + 1e-300
    e1, e2 = K.expected_purchases(params, [t1, t1 + dt])
    assert 0.0 <= e1 <= e2 * (1 + 1e-12) + 1e-300
    assert np.isfinite(float(K.log_likelihood(params, x, tx, tt)))


@given(
    xs=st.lists(st.integers(0, 5), min_size=1, max_size=30),
    params=param_sets,
)
def test_loglik_with_compression_equals_without(xs: list[int], params: tuple[float, ...]) -> None:
    x = np.array(xs, dtype=float)
    tx = np.where(x > 0, np.minimum(x * 3.0, 20.0), 0.0)
    tt = np.full_like(x, 20.0)
    ll_raw, g_raw = K.log_likelihood_grad(params, x, tx, tt)
    u, _, cnt = np.unique(np.stack([x, tx, tt]), axis=1, return_inverse=True, return_counts=True)
    ll_c, g_c = K.log_likelihood_grad(params, u[0], u[1], u[2], cnt.astype(float))
    assert ll_c == pytest.approx(ll_raw, rel=1e-12)
    np.testing.assert_allclose(g_c, g_raw, rtol=1e-10, atol=1e-10)


# --------------------------------------------------------------------------- extremes
def test_extreme_inputs_are_finite() -> None:
    x = np.array([0.0, 1.0, 10_000.0, 10_000.0, 3.0])
    tx = np.array([0.0, 1e-3, 10_000.0, 5_000.0, 9_999.0])
    tt = np.array([10_000.0, 10_000.0, 10_000.0, 10_000.0, 10_000.0])
    for params in [
        (1e-4,) * 4,
        (1e4,) * 4,
        (1e-4, 1e4, 1e-4, 1e4),
        (1e4, 1e-4, 1e4, 1e-4),
        (1e4, 1e-4, 1e-4, 1e4),
    ]:
        ll, g = K.log_likelihood_grad(params, x, tx, tt)
        assert np.isfinite(ll) and np.all(np.isfinite(g)), params
        pa = K.probability_alive(params, x, tx, tt)
        assert np.all((pa >= 0) & (pa <= 1)), params
        for t in (1.0, 1_000.0):
            ce = K.conditional_expected_purchases(params, t, x, tx, tt)
            assert np.all(np.isfinite(ce) & (ce >= 0)), (params, t)
        assert np.all(np.isfinite(K.expected_purchases(params, [1.0, 1000.0])))
        d = K.discounted_expected_residual_transactions(params, x, tx, tt, 0.001)
        assert np.all(np.isfinite(d) & (d >= 0)), params
        p = K.probability_of_purchases(params, [0, 1, 10_000], 1000.0)
        assert np.all(np.isfinite(p) & (p >= 0) & (p <= 1 + 1e-12)), params


def test_lifetimes_overflows_where_we_do_not() -> None:
    # lifetimes issues #25 / #332: its hyp2f1-based A0 gives NaN at large x and T
    params = {"r": 2.0, "alpha": 1.0, "s": 3.0, "beta": 100.0}
    x, tx, tt = np.array([200.0, 10_000.0]), np.array([5.0, 10_000.0]), np.array([1000.0, 10_000.0])
    lf = _lifetimes(params)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        ref = lf._conditional_log_likelihood(np.array(list(params.values())), x, tx, tt)  # type: ignore[attr-defined]
    ours = K.log_likelihood(list(params.values()), x, tx, tt)
    assert np.isfinite(ours).all()
    assert not np.isfinite(ref).any()
    # at t_x = T the hypergeometric term vanishes:
    # L = Gamma(r+x) a^r b^s / (Gamma(r) (a+T)^(r+x) (b+T)^s)
    r, al, s, be = params.values()
    exact = (
        gammaln(r + 1e4)
        - gammaln(r)
        + r * np.log(al)
        + s * np.log(be)
        - (r + 1e4) * np.log(al + 1e4)
        - s * np.log(be + 1e4)
    )
    assert ours[1] == pytest.approx(exact, rel=1e-13)


# ---------------------------------------------------------------------- estimator API
def test_not_fitted_and_bad_inputs(cdnow: pd.DataFrame) -> None:
    m = ParetoNBD()
    with pytest.raises(NotFittedError, match="not fitted"):
        m.probability_alive([0], [0.0], [1.0])
    with pytest.raises(DataError, match="frequency"):
        ParetoNBD().fit(frequency=[-1, 2], recency=[0.0, 1.0], T=[2.0, 2.0])
    with pytest.raises(DataError, match="recency"):
        ParetoNBD().fit(frequency=[1, 2], recency=[3.0, 1.0], T=[2.0, 2.0])
    fitted = ParetoNBD.from_params(**PUBLISHED)
    with pytest.raises(DataError, match="n"):
        fitted.probability_of_purchases([1.5], 3.0)
    with pytest.raises(DataError, match="t"):
        fitted.expected_purchases([-1.0])


def test_fit_does_not_mutate_and_weights_equal_expansion(cdnow: pd.DataFrame) -> None:
    before = cdnow.copy(deep=True)
    sub = cdnow.head(300)
    m1 = ParetoNBD().fit(sub)
    pd.testing.assert_frame_equal(cdnow, before)
    grouped = sub.groupby(["frequency", "recency", "T"], as_index=False).size()
    m2 = ParetoNBD().fit(
        frequency=grouped["frequency"],
        recency=grouped["recency"],
        T=grouped["T"],
        weights=grouped["size"],
    )
    assert m2.log_likelihood_ == pytest.approx(m1.log_likelihood_, rel=1e-9)
    for k in PUBLISHED:
        assert m2.params_[k] == pytest.approx(m1.params_[k], rel=1e-5)


def test_json_roundtrip(fitted: ParetoNBD) -> None:
    back = ParetoNBD.from_json(fitted.to_json())
    assert back.params_ == fitted.params_
    np.testing.assert_array_equal(
        back.probability_alive([2], [30.43], [38.86]),
        fitted.probability_alive([2], [30.43], [38.86]),
    )


def test_engines(engine: str, cdnow: pd.DataFrame, fitted: ParetoNBD) -> None:
    m = ParetoNBD().fit(to_engine(cdnow[["frequency", "recency", "T"]], engine))
    for k in PUBLISHED:
        assert m.params_[k] == pytest.approx(fitted.params_[k], rel=1e-8)


# ------------------------------------------------------------------- recovery (slow)
@pytest.mark.slow
def test_parameter_recovery_on_simulated_data() -> None:
    from crmmodels.datasets._simulate import simulate_summary

    truth = {"r": 0.75, "alpha": 8.0, "s": 0.9, "beta": 14.0}
    s = simulate_summary(50_000, model="paretonbd", params=truth, seed=7, observation_weeks=52.0)
    m = ParetoNBD().fit(s)
    for k, v in truth.items():
        se = m.standard_errors_[k]
        assert abs(m.params_[k] - v) < 3.0 * se, (k, m.params_[k], v, se)
        assert se < 0.25 * v


wide = st.floats(-4.0, 4.0).map(lambda e: 10.0**e)


@given(
    params=st.tuples(wide, wide, wide, wide),
    x=st.integers(0, 10_000),
    frac=st.floats(0.0, 1.0),
    tt=st.floats(1e-3, 10_000.0),
    t=st.floats(0.0, 1_000.0),
)
def test_wide_parameter_range_is_finite(
    params: tuple[float, ...], x: int, frac: float, tt: float, t: float
) -> None:
    tx = 0.0 if x == 0 else frac * tt
    ll, g = K.log_likelihood_grad(params, [x], [tx], [tt])
    assert np.isfinite(ll) and np.all(np.isfinite(g))
    pa = float(K.probability_alive(params, x, tx, tt))
    assert 0.0 <= pa <= 1.0
    ce = float(K.conditional_expected_purchases(params, t, x, tx, tt))
    assert np.isfinite(ce) and ce >= 0.0
    d = float(K.discounted_expected_residual_transactions(params, x, tx, tt, 0.01))
    assert np.isfinite(d) and d >= 0.0


def test_conditional_pmf_sums_to_one_and_matches_the_conditional_mean() -> None:
    from crmmodels.clv import ParetoNBD

    m = ParetoNBD.from_params(r=0.553, alpha=10.578, s=0.606, beta=11.669)
    k = np.arange(400)
    for x, tx, big_t in ((0, 0.0, 38.86), (2, 30.43, 38.86), (25, 38.0, 38.86)):
        pmf = m.conditional_probability_of_purchases(k, 39.0, x, tx, big_t)
        assert np.all(np.isfinite(pmf)) and np.all(pmf >= 0)
        assert abs(pmf.sum() - 1.0) < 1e-9
        mean = float((k * pmf).sum())
        assert mean == pytest.approx(
            float(m.conditional_expected_purchases(39.0, x, tx, big_t)), rel=1e-7
        )
    extreme = m.conditional_probability_of_purchases([0, 5000], 1000.0, 10_000, 9_999.0, 10_000.0)
    assert np.all(np.isfinite(extreme))
