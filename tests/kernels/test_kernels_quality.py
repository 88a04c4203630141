from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import stats

from crmmodels.kernels import quality as kr


def _likert(n: int, k: int, seed: int, nan_share: float = 0.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = np.clip(np.round(4 + 1.2 * rng.normal(size=(n, 1)) + rng.normal(size=(n, k))), 1, 7)
    if nan_share:
        x[rng.random(x.shape) < nan_share] = np.nan
    return x


@pytest.mark.parametrize("policy", ["pairwise", "listwise"])
def test_covariance_matches_pandas(policy: str) -> None:
    x = _likert(80, 5, 1, nan_share=0.15)
    cov, counts = kr.covariance(x, policy)  # type: ignore[arg-type]
    df = pd.DataFrame(x)
    if policy == "listwise":
        df = df.dropna()
    np.testing.assert_allclose(cov, df.cov().to_numpy(), rtol=0, atol=1e-12)
    expected_n = (df.notna().astype(int).T @ df.notna().astype(int)).to_numpy()
    np.testing.assert_array_equal(counts, expected_n)


def test_alpha_ci_formula() -> None:
    lo, hi = kr.alpha_ci(0.8, 100, 5, 0.95)
    assert lo == pytest.approx(1 - 0.2 * stats.f.ppf(0.975, 99, 396), abs=1e-14)
    assert hi == pytest.approx(1 - 0.2 * stats.f.ppf(0.025, 99, 396), abs=1e-14)
    assert np.isnan(kr.alpha_ci(0.8, 1, 5)[0])


def test_item_total_and_alpha_if_deleted_by_brute_force() -> None:
    x = _likert(60, 5, 2)
    cov = np.cov(x, rowvar=False)
    it = kr.corrected_item_total(cov)
    aid = kr.alpha_if_deleted(cov)
    for j in range(5):
        rest = np.delete(x, j, axis=1)
        assert it[j] == pytest.approx(np.corrcoef(x[:, j], rest.sum(axis=1))[0, 1], abs=1e-12)
        c = np.cov(rest, rowvar=False)
        k = 4
        expected = k / (k - 1) * (1 - np.trace(c) / c.sum())
        assert aid[j] == pytest.approx(expected, abs=1e-12)
    assert np.isnan(kr.alpha_if_deleted(cov[:2, :2])).all()


def test_one_factor_exact_for_three_items() -> None:
    # three items: lambda_i^2 = r_ij r_ik / r_jk exactly (just identified)
    lam = np.array([0.9, 0.7, 0.6])
    r = np.outer(lam, lam)
    np.fill_diagonal(r, 1.0)
    fit = kr.one_factor(r)
    np.testing.assert_allclose(fit.loadings, lam, atol=1e-6)
    assert fit.rmsr < 1e-6 and fit.converged and not fit.heywood


def test_one_factor_recovers_population_loadings_of_six_items() -> None:
    lam = np.array([0.8, 0.75, 0.7, 0.65, 0.6, 0.55])
    r = np.outer(lam, lam)
    np.fill_diagonal(r, 1.0)
    np.testing.assert_allclose(kr.one_factor(r).loadings, lam, atol=1e-6)


def test_one_factor_minimises_residual_against_sklearn_on_sample() -> None:
    from sklearn.decomposition import FactorAnalysis

    rng = np.random.default_rng(5)
    lam = np.array([0.8, 0.7, 0.6, 0.5])
    z = rng.normal(size=(4000, 1))
    x = z * lam + rng.normal(size=(4000, 4)) * np.sqrt(1 - lam**2)
    xs = (x - x.mean(0)) / x.std(0, ddof=1)
    fit = kr.one_factor(np.corrcoef(x, rowvar=False))
    ml = np.abs(FactorAnalysis(n_components=1, random_state=0).fit(xs).components_.ravel())
    # ML and minres agree closely on well-specified data, and both near the truth
    np.testing.assert_allclose(fit.loadings, ml, atol=0.02)
    np.testing.assert_allclose(fit.loadings, lam, atol=0.04)


def test_omega_cr_ave_on_population() -> None:
    lam = np.array([0.8, 0.6, 0.5])
    c = np.outer(lam, lam)
    np.fill_diagonal(c, 1.0)
    s = lam.sum() ** 2
    cr, ave = kr.composite_reliability(lam)
    assert cr == pytest.approx(s / (s + (1 - lam**2).sum()))
    assert ave == pytest.approx(np.mean(lam**2))
    # with the population covariance, omega equals composite reliability
    assert kr.omega_total(lam, c) == pytest.approx(cr)
    # rescaled items: omega is the reliability of their unweighted sum
    sd = np.array([2.0, 0.5, 3.0])
    cs = np.diag(sd) @ c @ np.diag(sd)
    assert kr.omega_total(lam, cs) == pytest.approx((lam * sd).sum() ** 2 / cs.sum())


def test_htmt_against_loop() -> None:
    x = _likert(100, 7, 3)
    r = np.corrcoef(x, rowvar=False)
    groups = np.array([0, 0, 0, 1, 1, 2, 2])
    out = kr.htmt(r, groups, 3)
    for a in range(3):
        for b in range(3):
            if a == b:
                assert np.isnan(out[a, b])
                continue
            ia, ib = np.where(groups == a)[0], np.where(groups == b)[0]
            het = np.mean([r[i, j] for i in ia for j in ib])
            mono_a = np.mean([r[i, j] for i in ia for j in ia if i < j])
            mono_b = np.mean([r[i, j] for i in ib for j in ib if i < j])
            assert out[a, b] == pytest.approx(het / np.sqrt(mono_a * mono_b), abs=1e-12)


@given(
    arrays(
        np.float64,
        st.tuples(st.integers(3, 30), st.integers(2, 6)),
        elements=st.integers(1, 7).map(float),
    )
)
def test_alpha_at_most_one(x: np.ndarray) -> None:
    cov, _ = kr.covariance(x)
    if cov.sum() <= 0 or not np.isfinite(cov).all():
        return
    assert kr.alpha_from_cov(cov) <= 1.0 + 1e-12


def test_alpha_from_cov_zero_total_variance_is_nan() -> None:
    assert np.isnan(kr.alpha_from_cov(np.zeros((3, 3))))
    assert np.isnan(kr.alpha_from_cov(np.ones((1, 1))))


def test_alpha_if_deleted_zero_rest_variance_is_nan() -> None:
    # Items 1 and 2 move together, item 3 moves against them: dropping item 1 leaves
    # items 2 and 3 whose sum is constant (zero total variance).
    rows = np.array([[1, 1, 4], [1, 1, 4], [1, 1, 4], [2, 2, 3]], dtype=float)
    cov = np.cov(rows, rowvar=False)
    out = kr.alpha_if_deleted(cov)
    assert np.isnan(out[0]) and np.isnan(out[1])
    assert out[2] == pytest.approx(2.0 / 1.0 * (1.0 - 2.0 * cov[0, 0] / (4.0 * cov[0, 0])))
