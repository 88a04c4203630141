"""The CLV kernels without tests of their own: MBG/NBD, Gamma-Gamma, BG/BB and Pareto/NBD.

Every check is independent of the kernel's own algebra: likelihoods against the papers'
formulas written out directly (scipy ``betaln``, ``hyp2f1``, numerical integration),
gradients against central finite differences at random parameters, expectations against
closed forms, sums of the probability mass functions, and Monte-Carlo simulation of the
models' stories.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from scipy import integrate, special, stats

from crmmodels.kernels import bgbb, gamma_gamma, mbgnbd, pareto_nbd

FloatArray = np.ndarray[Any, np.dtype[np.float64]]


def _central_gradient(f: Callable[[FloatArray], float], p: FloatArray) -> FloatArray:
    """Central finite differences with a relative step."""
    out = np.empty(p.size)
    for j in range(p.size):
        h = 1e-6 * p[j]
        up, down = p.copy(), p.copy()
        up[j] += h
        down[j] -= h
        out[j] = (f(up) - f(down)) / (2 * h)
    return out


def _random_params(seed: int, k: int, low: float = 0.3, high: float = 6.0) -> FloatArray:
    return np.exp(np.random.default_rng(seed).uniform(np.log(low), np.log(high), size=k))


def _history(seed: int, n: int = 12, horizon: float = 40.0) -> tuple[FloatArray, ...]:
    rng = np.random.default_rng(seed)
    T = rng.uniform(5.0, horizon, n)
    x = rng.integers(0, 8, n).astype(float)
    tx = np.where(x > 0, rng.uniform(0.0, 1.0, n) * T, 0.0)
    w = rng.integers(1, 5, n).astype(float)
    return x, tx, T, w


# ---------------------------------------------------------------------------------------
# MBG/NBD


def _mbg_likelihood(p: FloatArray, x: float, tx: float, T: float) -> float:
    """Batislam et al. (2007), eq. 4, written out."""
    r, alpha, a, b = p
    front = special.gammaln(r + x) + r * np.log(alpha) - special.gammaln(r)
    t1 = special.betaln(a, b + x + 1) - special.betaln(a, b) - (r + x) * np.log(alpha + T)
    t2 = special.betaln(a + 1, b + x) - special.betaln(a, b) - (r + x) * np.log(alpha + tx)
    return float(front + np.logaddexp(t1, t2))


@pytest.mark.parametrize("seed", range(4))
def test_mbgnbd_loglik_matches_the_paper_and_its_gradient(seed: int) -> None:
    p = _random_params(seed, 4, low=0.5)
    x, tx, T, w = _history(seed)
    ll = mbgnbd.loglik(p, x, tx, T)
    expected = [_mbg_likelihood(p, *row) for row in zip(x, tx, T, strict=True)]
    np.testing.assert_allclose(ll, expected, rtol=1e-10)
    total, grad = mbgnbd.loglik_grad(p, x, tx, T, w)
    assert total == pytest.approx(float(np.dot(w, ll)), rel=1e-10)
    fd = _central_gradient(lambda q: float(np.dot(w, mbgnbd.loglik(q, x, tx, T))), p)
    np.testing.assert_allclose(grad, fd, rtol=1e-5, atol=1e-6)


def test_mbgnbd_probability_alive_closed_form() -> None:
    r, alpha, a, b = p = np.array([0.7, 4.0, 1.3, 2.5])
    x, tx, T, _ = _history(5)
    expected = 1.0 / (1.0 + a / (b + x) * ((alpha + T) / (alpha + tx)) ** (r + x))
    np.testing.assert_allclose(mbgnbd.probability_alive(p, x, tx, T), expected, rtol=1e-12)


def _simulate_counts(p: FloatArray, t: float, *, modified: bool, n: int = 200_000) -> FloatArray:
    """Purchases in (0, t] of new customers: Poisson purchases until a dropout coin lands."""
    r, alpha, a, b = p
    rng = np.random.default_rng(0)
    lam = rng.gamma(r, 1.0 / alpha, n)
    drop = rng.beta(a, b, n)
    # BG/NBD: the k-th purchase needs k - 1 survived coins; MBG/NBD also tosses one at 0
    most = rng.geometric(drop) - (1 if modified else 0)
    return np.minimum(rng.poisson(lam * t), most).astype(float)


@pytest.mark.parametrize("t", [5.0, 30.0])
def test_mbgnbd_expectation_and_pmf_against_simulation(t: float) -> None:
    p = np.array([1.5, 4.0, 2.5, 4.0])
    r, alpha, a, b = p
    closed = (
        b
        / (a - 1)
        * (1 - (alpha / (alpha + t)) ** r * special.hyp2f1(r, b + 1, a + b, t / (alpha + t)))
    )
    assert float(mbgnbd.expected_purchases(p, t)) == pytest.approx(closed, rel=1e-10)
    counts = _simulate_counts(p, t, modified=True)
    se = counts.std() / np.sqrt(counts.size)
    assert abs(counts.mean() - closed) < 5 * se
    n = np.arange(0, 400)
    pmf = mbgnbd.probability_of_purchases(p, n, t)
    assert pmf.sum() == pytest.approx(1.0, abs=1e-9)
    assert float(np.dot(n, pmf)) == pytest.approx(closed, rel=1e-7)
    freq = np.bincount(counts.astype(int), minlength=6)[:6] / counts.size
    band = 5 * np.sqrt(pmf[:6] * (1 - pmf[:6]) / counts.size)
    assert np.all(np.abs(freq - pmf[:6]) < band)


def test_bgnbd_pmf_from_the_shared_formula_against_simulation() -> None:
    p = np.array([1.5, 4.0, 2.5, 4.0])
    counts = _simulate_counts(p, 20.0, modified=False)
    pmf = mbgnbd.beta_geometric_probability_of_purchases(p, np.arange(300), 20.0, modified=False)
    assert pmf.sum() == pytest.approx(1.0, abs=1e-9)
    freq = np.bincount(counts.astype(int), minlength=6)[:6] / counts.size
    assert np.all(np.abs(freq - pmf[:6]) < 5 * np.sqrt(pmf[:6] * (1 - pmf[:6]) / counts.size))


def test_mbgnbd_conditional_expectation() -> None:
    p = np.array([0.8, 5.0, 1.5, 3.0])
    x, tx, T, _ = _history(3)
    assert np.allclose(mbgnbd.conditional_expected_purchases(p, 0.0, x, tx, T), 0.0)
    later = [mbgnbd.conditional_expected_purchases(p, t, x, tx, T) for t in (5.0, 20.0, 80.0)]
    assert np.all(np.diff(np.stack(later), axis=0) > 0)
    # a customer with no history at T = 0 is a new customer
    new = mbgnbd.conditional_expected_purchases(p, 25.0, 0.0, 0.0, 0.0)
    assert float(new) == pytest.approx(float(mbgnbd.expected_purchases(p, 25.0)), rel=1e-8)


# ---------------------------------------------------------------------------------------
# Gamma-Gamma


def _gg_density(p: float, q: float, v: float, x: float, m: float) -> float:
    """Density of a mean spend, integrating the customer's rate nu out numerically."""

    def inner(nu: float) -> float:
        given = stats.gamma.pdf(m, a=p * x, scale=1.0 / (x * nu))
        return float(given * stats.gamma.pdf(nu, a=q, scale=1.0 / v))

    value, _ = integrate.quad(inner, 0.0, np.inf, epsabs=0.0, epsrel=1e-11, limit=200)
    return float(value)


@pytest.mark.parametrize("seed", range(3))
def test_gamma_gamma_loglik_integrates_the_rate_out(seed: int) -> None:
    p, q, v = _random_params(seed, 3, low=1.5, high=8.0)
    x = np.array([1.0, 2.0, 5.0])
    m = np.array([0.6, 1.5, 3.0]) * p * v / q
    got = gamma_gamma.loglik([p, q, v], x, m)
    expected = [np.log(_gg_density(p, q, v, xi, mi)) for xi, mi in zip(x, m, strict=True)]
    np.testing.assert_allclose(got, expected, rtol=1e-7)


@pytest.mark.parametrize("seed", range(3))
def test_gamma_gamma_gradient(seed: int) -> None:
    params = _random_params(seed, 3, low=0.5, high=20.0)
    rng = np.random.default_rng(seed)
    x = rng.integers(1, 9, 15).astype(float)
    m = rng.gamma(2.0, 10.0, 15)
    w = rng.integers(1, 4, 15).astype(float)
    total, grad = gamma_gamma.loglik_grad(params, x, m, w)
    assert total == pytest.approx(float(np.dot(w, gamma_gamma.loglik(params, x, m))), rel=1e-11)
    fd = _central_gradient(lambda q: float(np.dot(w, gamma_gamma.loglik(q, x, m))), params)
    np.testing.assert_allclose(grad, fd, rtol=1e-5)


def test_gamma_gamma_expectations() -> None:
    p, q, v = 6.25, 3.74, 15.44
    assert gamma_gamma.population_mean_spend([p, q, v]) == pytest.approx(p * v / (q - 1))
    assert gamma_gamma.population_mean_spend([p, 0.9, v]) == float("inf")
    x, m = 3.0, 28.0

    def posterior(nu: float) -> float:  # unnormalised posterior of nu given x spends of mean m
        return float(
            stats.gamma.pdf(m, a=p * x, scale=1 / (x * nu)) * stats.gamma.pdf(nu, q, scale=1 / v)
        )

    norm, _ = integrate.quad(posterior, 0, np.inf, epsrel=1e-11)
    mean, _ = integrate.quad(lambda nu: p / nu * posterior(nu), 0, np.inf, epsrel=1e-11)
    got = gamma_gamma.conditional_expected_spend([p, q, v], [0.0, x], [99.0, m])
    assert got[0] == pytest.approx(p * v / (q - 1))  # x = 0: the population mean
    assert got[1] == pytest.approx(mean / norm, rel=1e-7)
    # no posterior mean where p x + q <= 1: infinite, never negative
    assert gamma_gamma.conditional_expected_spend([0.1, 0.5, 1.0], [1.0], [5.0])[0] == np.inf


# ---------------------------------------------------------------------------------------
# BG/BB


def _bgbb_likelihood(params: FloatArray, x: int, tx: int, n: int) -> float:
    """Fader, Hardie & Shang (2010), eq. 5, summed term by term."""
    a, b, g, d = params
    B = special.betaln
    terms = [B(a + x, b + n - x) - B(a, b) + B(g, d + n) - B(g, d)]
    for i in range(n - tx):
        terms.append(B(a + x, b + tx - x + i) - B(a, b) + B(g + 1, d + tx + i) - B(g, d))
    return float(special.logsumexp(terms))


def _bgbb_histories(seed: int) -> tuple[FloatArray, ...]:
    rng = np.random.default_rng(seed)
    n = rng.integers(1, 12, 15)
    tx = np.array([rng.integers(0, k + 1) for k in n])
    x = np.array([0 if t == 0 else rng.integers(1, t + 1) for t in tx])
    w = rng.integers(1, 4, 15)
    return x.astype(float), tx.astype(float), n.astype(float), w.astype(float)


@pytest.mark.parametrize("seed", range(3))
def test_bgbb_loglik_sums_the_paper_and_its_gradient(seed: int) -> None:
    params = _random_params(seed, 4)
    x, tx, n, w = _bgbb_histories(seed)
    got = bgbb.log_likelihood(params, x, tx, n)
    expected = [
        _bgbb_likelihood(params, int(a), int(b), int(c)) for a, b, c in zip(x, tx, n, strict=True)
    ]
    np.testing.assert_allclose(got, expected, rtol=1e-11)
    total, grad = bgbb.log_likelihood_grad(params, x, tx, n, w)
    assert total == pytest.approx(float(np.dot(w, got)), rel=1e-11)
    fd = _central_gradient(lambda q: float(np.dot(w, bgbb.log_likelihood(q, x, tx, n))), params)
    np.testing.assert_allclose(grad, fd, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("params", [(1.204, 0.750, 0.657, 2.783), (2.0, 3.0, 1.0, 4.0)])
def test_bgbb_pmf_sums_to_one_with_the_expected_mean(params: tuple[float, ...]) -> None:
    for n in (1, 6, 11):
        x = np.arange(n + 1, dtype=float)
        pmf = bgbb.probability_of_purchases(params, x, n)
        assert pmf.sum() == pytest.approx(1.0, abs=1e-12)
        mean = float(bgbb.expected_purchases(params, n))  # eq. 8 (or its gamma = 1 limit)
        assert float(np.dot(x, pmf)) == pytest.approx(mean, rel=1e-9)


def test_bgbb_predictions_against_explicit_sums() -> None:
    a, b, g, d = params = np.array([1.204, 0.750, 0.657, 2.783])
    B = special.betaln
    x, tx, n, _ = _bgbb_histories(7)
    log_l = bgbb.log_likelihood(params, x, tx, n)
    alive = np.exp(B(a + x, b + n - x) - B(a, b) + B(g, d + n + 1) - B(g, d) - log_l)
    np.testing.assert_allclose(bgbb.probability_alive(params, x, tx, n), alive, rtol=1e-11)
    # each future opportunity n + k: alive through n + k, then a transaction
    buy = np.exp(B(a + x + 1, b + n - x) - B(a, b) - log_l)
    k = np.arange(1, 6000, dtype=float)[:, None]
    survive = np.exp(B(g, d + n + k) - B(g, d))
    expected = buy * survive[:5].sum(axis=0)
    np.testing.assert_allclose(
        bgbb.conditional_expected_purchases(params, 5, x, tx, n), expected, rtol=1e-10
    )
    dert = buy * (survive / 1.1**k).sum(axis=0)
    got = bgbb.discounted_expected_residual_transactions(params, x, tx, n, 0.1)
    np.testing.assert_allclose(got, dert, rtol=1e-9)


# ---------------------------------------------------------------------------------------
# Pareto/NBD


def _pnbd_likelihood(params: FloatArray, x: float, tx: float, T: float) -> float:
    """Fader & Hardie (2005) eq. 19 with scipy's hyp2f1 (moderate values only)."""
    r, alpha, s, beta = params
    c = special.gammaln(r + x) + r * np.log(alpha) + s * np.log(beta) - special.gammaln(r)
    big, small = (alpha, beta) if alpha >= beta else (beta, alpha)
    b2 = s + 1 if alpha >= beta else r + x
    k = r + s + x

    def term(t: float) -> float:
        return float(special.hyp2f1(k, b2, k + 1, (big - small) / (big + t)) / (big + t) ** k)

    a0 = term(tx) - term(T)
    bracket = 1 / ((alpha + T) ** (r + x) * (beta + T) ** s) + s / k * a0
    return float(c + np.log(bracket))


@pytest.mark.parametrize("seed", range(4))
def test_pareto_nbd_loglik_matches_the_note_and_its_gradient(seed: int) -> None:
    params = _random_params(seed, 4, low=0.4, high=8.0)
    x, tx, T, w = _history(seed, horizon=30.0)
    got = pareto_nbd.log_likelihood(params, x, tx, T)
    expected = [_pnbd_likelihood(params, *row) for row in zip(x, tx, T, strict=True)]
    np.testing.assert_allclose(got, expected, rtol=1e-9)
    total, grad = pareto_nbd.log_likelihood_grad(params, x, tx, T, w)
    assert total == pytest.approx(float(np.dot(w, got)), rel=1e-11)
    fd = _central_gradient(
        lambda q: float(np.dot(w, pareto_nbd.log_likelihood(q, x, tx, T))), params
    )
    np.testing.assert_allclose(grad, fd, rtol=1e-5, atol=1e-7)
    pairs = pareto_nbd.distinct_pairs(x, tx, T)
    again = pareto_nbd.log_likelihood_grad(params, x, tx, T, w, pairs=pairs)
    assert again[0] == pytest.approx(total, rel=1e-13)
    np.testing.assert_allclose(again[1], grad, rtol=1e-12)


def test_pareto_nbd_distinct_pairs_rebuild_the_rows() -> None:
    x, tx, T, _ = _history(2)
    x, tx, T = np.r_[x, x], np.r_[tx, tx], np.r_[T, T]
    pairs = pareto_nbd.distinct_pairs(x, tx, T)
    np.testing.assert_array_equal(pairs.x[pairs.inverse], np.r_[x, x])
    np.testing.assert_array_equal(pairs.t[pairs.inverse], np.r_[tx, T])
    assert len(set(zip(pairs.x, pairs.t, strict=True))) == pairs.x.size


def test_pareto_nbd_predictions_against_closed_forms() -> None:
    r, alpha, s, beta = params = np.array([2.0, 5.0, 2.5, 10.0])
    x, tx, T, _ = _history(4, horizon=30.0)
    log_l = pareto_nbd.log_likelihood(params, x, tx, T)
    c = special.gammaln(r + x) + r * np.log(alpha) + s * np.log(beta) - special.gammaln(r)
    alive = np.exp(c - (r + x) * np.log(alpha + T) - s * np.log(beta + T) - log_l)
    np.testing.assert_allclose(pareto_nbd.probability_alive(params, x, tx, T), alive, rtol=1e-9)
    t = 13.0
    cond = (
        (r + x)
        * (beta + T)
        / ((alpha + T) * (s - 1))
        * (1 - ((beta + T) / (beta + T + t)) ** (s - 1))
    )
    np.testing.assert_allclose(
        pareto_nbd.conditional_expected_purchases(params, t, x, tx, T), cond * alive, rtol=1e-9
    )
    # DERT: the posterior rate times the discounted survival, integrated numerically
    delta = 0.01

    def discounted(big_t: float) -> float:
        f = lambda u: np.exp(-delta * u) * ((beta + big_t) / (beta + big_t + u)) ** s  # noqa: E731
        return float(integrate.quad(f, 0, np.inf, epsrel=1e-11)[0])

    dert = alive * (r + x) / (alpha + T) * np.array([discounted(v) for v in T])
    got = pareto_nbd.discounted_expected_residual_transactions(params, x, tx, T, delta)
    np.testing.assert_allclose(got, dert, rtol=1e-7)


def test_pareto_nbd_new_customers_against_simulation() -> None:
    r, alpha, s, beta = params = np.array([2.0, 5.0, 2.5, 10.0])
    t = 20.0
    closed = r * beta / (alpha * (s - 1)) * (1 - (beta / (beta + t)) ** (s - 1))
    assert float(pareto_nbd.expected_purchases(params, t)) == pytest.approx(closed, rel=1e-12)
    rng = np.random.default_rng(1)
    size = 200_000
    lam = rng.gamma(r, 1 / alpha, size)
    death = rng.exponential(1 / rng.gamma(s, 1 / beta, size))
    counts = rng.poisson(lam * np.minimum(death, t))
    assert abs(counts.mean() - closed) < 5 * counts.std() / np.sqrt(size)
    n = np.arange(0, 300)
    pmf = pareto_nbd.probability_of_purchases(params, n, t)
    assert pmf.sum() == pytest.approx(1.0, abs=1e-9)
    assert float(np.dot(n, pmf)) == pytest.approx(closed, rel=1e-7)
    freq = np.bincount(counts, minlength=6)[:6] / size
    assert np.all(np.abs(freq - pmf[:6]) < 5 * np.sqrt(pmf[:6] * (1 - pmf[:6]) / size))


def test_pareto_nbd_conditional_pmf_sums_to_one_with_the_conditional_mean() -> None:
    params = np.array([2.0, 5.0, 2.5, 10.0])
    n = np.arange(0, 300)
    for x, tx, T in [(0.0, 0.0, 20.0), (4.0, 15.0, 20.0), (4.0, 2.0, 30.0)]:
        pmf = pareto_nbd.conditional_probability_of_purchases(params, n, 10.0, x, tx, T)
        assert pmf.sum() == pytest.approx(1.0, abs=1e-8)
        mean = float(pareto_nbd.conditional_expected_purchases(params, 10.0, x, tx, T))
        assert float(np.dot(n, pmf)) == pytest.approx(mean, rel=1e-6)
