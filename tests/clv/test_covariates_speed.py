"""The fast covariate fit (subsample start, BFGS, Hessian from the row parameters) finds the
same optimum and the same standard errors as a plain, tight optimisation of every row."""

from __future__ import annotations

from typing import Any

import narwhals.stable.v2 as nw
import numpy as np
import pandas as pd
import pytest
import scipy.optimize
from _covariate_sim import simulate

import crmmodels.clv._covariates_fit as cf
import crmmodels.clv._covariates_optim as co
from crmmodels.clv import BGNBD, ParetoNBD
from crmmodels.clv._covariates import build_spec_design
from crmmodels.clv._covariates_optim import quasi_newton, row_hessian, subsample

COVS = ["channel", "age"]
LISTS = {"purchase": COVS, "dropout": COVS}


def _data(name: str, n: int, seed: int) -> pd.DataFrame:
    df = simulate(name, n, seed)
    df["recency"] = np.round(df["recency"] * 7) / 7  # a day grid: rows share histories
    df["age"] = np.round(df["age"] * 2) / 2  # a few dozen patterns: a subsample helps
    return df


def _row_objective(model: Any, df: pd.DataFrame) -> tuple[Any, int]:
    """The log-likelihood of every row (no compression, no grouping) and ``n_purchase``."""
    _, design = build_spec_design(nw.from_native(df), LISTS, "test")
    hist = tuple(df[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    kernel = cf._kernel(model)
    ones = np.ones(len(df))
    kp = design["purchase"].shape[1]

    def loglik(theta: np.ndarray) -> tuple[float, np.ndarray]:
        return cf._objective(kernel, theta, hist, design, ones, kp)  # type: ignore[arg-type]

    return loglik, kp


def _reference(model: Any, df: pd.DataFrame, theta0: np.ndarray) -> tuple[np.ndarray, float]:
    """scipy's L-BFGS-B on the uncompressed rows with tight tolerances, then Newton steps."""
    loglik, _ = _row_objective(model, df)
    n = float(len(df))

    def fun(theta: np.ndarray) -> tuple[float, np.ndarray]:
        ll, g = loglik(theta)
        return -ll / n, -g / n

    res = scipy.optimize.minimize(
        fun,
        theta0,
        jac=True,
        method="L-BFGS-B",
        options={"maxiter": 5000, "gtol": 1e-11, "ftol": 1e-16, "maxcor": 30},
    )
    theta = np.asarray(res.x)
    for _ in range(3):  # Newton polish with a central-difference Hessian of the mean
        theta = theta - np.linalg.solve(co.gradient_hessian(fun, theta), fun(theta)[1])
    return theta, loglik(theta)[0]


@pytest.fixture
def small_subsample(monkeypatch: pytest.MonkeyPatch) -> None:
    """The subsample start on a few thousand customers (the default waits for 40,000 rows)."""
    monkeypatch.setattr(cf, "_SUBSAMPLE_MIN", 300)
    monkeypatch.setattr(cf, "_SUBSAMPLE_SHARE", 4)


@pytest.mark.parametrize(("name", "cls"), [("bgnbd", BGNBD), ("pareto", ParetoNBD)])
def test_fast_fit_reaches_the_optimum_of_a_plain_tight_fit(
    name: str, cls: type, small_subsample: None
) -> None:
    df = _data(name, 5000, 21)
    fast = cls().fit(df, covariates=COVS)
    assert fast.diagnostics_["subsample_rows"] > 0  # the subsample path ran
    assert fast.diagnostics_["optimizer_message"].startswith("quasi-Newton")
    theta0 = fast.covariate_fit_.theta + 0.05  # near, not at, the fast optimum
    theta_ref, ll_ref = _reference(fast, df, theta0)
    assert fast.log_likelihood_ == pytest.approx(ll_ref, rel=1e-8)
    np.testing.assert_allclose(fast.covariate_fit_.theta, theta_ref, rtol=0, atol=1e-4)


@pytest.mark.parametrize(("name", "cls"), [("bgnbd", BGNBD), ("pareto", ParetoNBD)])
def test_standard_errors_equal_a_central_difference_hessian(
    name: str, cls: type, small_subsample: None
) -> None:
    df = _data(name, 4000, 22)
    fast = cls().fit(df, covariates=COVS)
    loglik, _ = _row_objective(fast, df)
    theta = fast.covariate_fit_.theta

    def neg(t: np.ndarray) -> tuple[float, np.ndarray]:
        ll, g = loglik(t)
        return -ll, -g

    reference = np.linalg.inv(co.gradient_hessian(neg, theta, step=1e-4))
    se_ref = np.sqrt(np.diag(reference))
    se = np.sqrt(np.diag(fast.covariate_fit_.covariance))
    np.testing.assert_allclose(se, se_ref, rtol=1e-4)
    n_base = 4
    np.testing.assert_allclose(fast.coefficients_["std_error"], se_ref[n_base:], rtol=1e-4)
    se_base = np.array(list(fast.standard_errors_.values()))
    np.testing.assert_allclose(se_base, np.exp(theta[:n_base]) * se_ref[:n_base], rtol=1e-4)


@pytest.mark.parametrize("name", ["bgnbd", "pareto"])
def test_row_hessian_forward_and_central_agree_with_every_parameter_differenced(
    name: str,
) -> None:
    df = _data(name, 3000, 23)
    model = (BGNBD if name == "bgnbd" else ParetoNBD)().fit(df, covariates=COVS)
    theta = model.covariate_fit_.theta + 0.1  # any point, not only the optimum
    _, design = build_spec_design(nw.from_native(df), LISTS, "test")
    hist_cols = [df[c].to_numpy(float) for c in ("frequency", "recency", "T")]
    rows = cf._Rows(cf._kernel(model), *cf._compress(hist_cols, design, None), 3)
    every = co.gradient_hessian(rows.loglik, theta, step=1e-4)
    for central in (False, True):
        ours = row_hessian(
            rows.row_terms, theta, rows.counts, rows.pattern, rows.patterns, cf._SLOT,
            central=central,
        )  # fmt: skip
        np.testing.assert_allclose(ours, every, rtol=1e-5, atol=1e-6 * np.abs(every).max())


@pytest.mark.parametrize("cls", [BGNBD, ParetoNBD])
def test_the_subsample_start_is_deterministic(cls: type, small_subsample: None) -> None:
    df = _data("bgnbd" if cls is BGNBD else "pareto", 3000, 24)
    one = cls().fit(df, covariates=COVS)
    two = cls().fit(df, covariates=COVS)
    assert one.diagnostics_["subsample_rows"] == two.diagnostics_["subsample_rows"] > 0
    np.testing.assert_array_equal(one.covariate_fit_.theta, two.covariate_fit_.theta)
    np.testing.assert_array_equal(one.covariate_fit_.covariance, two.covariate_fit_.covariance)


def test_tiny_data_fits_without_a_subsample() -> None:
    df = _data("pareto", 300, 25)
    m = ParetoNBD().fit(df, covariates=COVS)
    assert m.diagnostics_["subsample_rows"] == 0
    assert m.diagnostics_["subsample_evaluations"] == 0
    assert m.diagnostics_["converged"]
    assert np.all(np.isfinite(m.coefficients_["std_error"]))


@pytest.mark.parametrize("cls", [BGNBD, ParetoNBD])
def test_a_failed_quasi_newton_search_falls_back_to_lbfgsb(
    cls: type, small_subsample: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    df = _data("bgnbd" if cls is BGNBD else "pareto", 3000, 26)
    fast = cls().fit(df, covariates=COVS)
    monkeypatch.setattr(co, "quasi_newton", lambda *args, **kwargs: None)
    fallback = cls().fit(df, covariates=COVS)
    assert not fallback.diagnostics_["optimizer_message"].startswith("quasi-Newton")
    assert fallback.log_likelihood_ == pytest.approx(fast.log_likelihood_, rel=1e-9)
    np.testing.assert_allclose(
        fallback.covariate_fit_.theta, fast.covariate_fit_.theta, rtol=0, atol=1e-4
    )


def test_subsample_weights_estimate_the_totals_and_keep_heavy_rows_and_every_pattern() -> None:
    rng = np.random.default_rng(7)
    counts = rng.integers(1, 4, 200_000).astype(float)
    counts[:50] = 5_000.0  # heavy rows: always in, with their own weight
    pattern = rng.integers(0, 40, counts.size)
    pattern[-20:] = 40  # a rare pattern of 20 rows
    rows, w = subsample(counts, pattern, 10_000)
    assert 9_000 < rows.size < 12_000
    assert set(range(50)) <= set(rows.tolist())
    np.testing.assert_array_equal(w[:50], counts[:50])
    assert w.sum() == pytest.approx(counts.sum(), rel=0.02)
    kept = np.bincount(pattern[rows], minlength=41)
    assert kept.min() >= 10 and kept[40] == 20  # the rare pattern is kept whole
    assert subsample(counts[:1000], pattern[:1000], 10_000) is None


def test_quasi_newton_refuses_a_curvature_that_is_not_positive_definite() -> None:
    def quad(theta: np.ndarray) -> tuple[float, np.ndarray]:
        return float(theta @ theta), 2 * theta

    box = (np.full(2, -5.0), np.full(2, 5.0))
    assert quasi_newton(quad, np.ones(2), -np.eye(2), box, tol=1e-9, max_iter=20) is None
    found = quasi_newton(quad, np.ones(2), np.eye(2), box, tol=1e-9, max_iter=50)
    assert found is not None
    np.testing.assert_allclose(found[0], 0.0, atol=1e-9)
    # a step out of the bounds is refused (the caller then runs L-BFGS-B)
    assert quasi_newton(quad, np.ones(2), np.eye(2) * 0.1, box, tol=1e-9, max_iter=20) is None


@pytest.mark.parametrize("dropout", [COVS, ["channel"], []])
@pytest.mark.parametrize("name", ["bgnbd", "pareto"])
def test_rows_summed_per_pattern_equal_the_objective_of_every_row(
    name: str, dropout: list[str]
) -> None:
    df = _data(name, 3000, 27)
    _, design = build_spec_design(nw.from_native(df), {"purchase": COVS, "dropout": dropout}, "t")
    hist_cols = [df[c].to_numpy(float) for c in ("frequency", "recency", "T")]
    w = np.random.default_rng(5).integers(1, 4, len(df)).astype(float)
    kernel = cf._kernel(BGNBD() if name == "bgnbd" else ParetoNBD())
    kp = design["purchase"].shape[1]
    rows = cf._Rows(kernel, *cf._compress(hist_cols, design, w), kp)
    assert rows.counts.size < len(df)
    rng = np.random.default_rng(6)
    for _ in range(3):
        theta = np.concatenate(
            [np.log([0.7, 6.0, 0.8, 4.0]) + rng.normal(0, 0.3, 4), rng.normal(0, 0.4, kp)]
        )
        theta = np.concatenate([theta, rng.normal(0, 0.4, design["dropout"].shape[1])])
        ref = cf._objective(kernel, theta, tuple(hist_cols), design, w, kp)  # type: ignore[arg-type]
        ll, grad = rows.loglik(theta)
        assert ll == pytest.approx(ref[0], rel=1e-11)
        np.testing.assert_allclose(grad, ref[1], rtol=1e-9, atol=1e-9 * abs(ref[0]))


def test_no_subsample_when_keeping_every_pattern_would_keep_most_rows() -> None:
    # a continuous covariate: every row is its own pattern, so a sample that keeps every
    # pattern keeps everything and would only add work
    n = 100_000
    assert subsample(np.ones(n), np.arange(n, dtype=np.int64), 5_000) is None
    few = subsample(np.ones(n), np.arange(n, dtype=np.int64) % 50, 5_000)
    assert few is not None and few[0].size < n // 2
