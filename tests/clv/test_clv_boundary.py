"""Fits at the boundary: limiting models, plain-words reasons, checked against closed forms.

Each data set is built so that the likelihood has no interior maximum in some direction
(no heterogeneity, no dropout, everybody identical, a single customer, no repeat
purchase). The limiting model's estimates are compared with independent references: the
closed-form maximum-likelihood estimates of the limit (a pooled Poisson rate, a pooled
Bernoulli probability), scipy's negative binomial and gamma densities maximised with
Nelder-Mead, and the closed-form predictions of the limit.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import scipy.optimize as so
import scipy.stats as ss

from crmmodels.clv import BGBB, BGNBD, MBGNBD, GammaGamma, ParetoNBD
from crmmodels.clv._limits import SHAPE_LIMIT, candidate_sets, reduced_map, rounding_error
from crmmodels.datasets import load_cdnow_summary
from crmmodels.errors import BoundaryWarning, ConvergenceError
from crmmodels.kernels._optim import describe_status

RFM_MODELS = [BGNBD, MBGNBD, ParetoNBD]


def _steady_buyers() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Counts less spread than any Poisson mixture allows, everybody bought recently."""
    i = np.arange(300)
    x = (4 + i % 3).astype(float)
    T = np.full(300, 52.0)
    tx = T - (i % 10) / 10.0
    return x, tx, T


def _fit(model, **data):
    with pytest.warns(BoundaryWarning) as caught:
        fitted = model.fit(**data)
    return fitted, str(caught[0].message)


@pytest.mark.parametrize("cls", RFM_MODELS)
def test_poisson_limit_without_dropout_equals_the_pooled_rate(cls) -> None:
    x, tx, T = _steady_buyers()
    m, message = _fit(cls(), frequency=x, recency=tx, T=T)
    boundary = m.diagnostics_["boundary"]
    assert boundary["limits"] == ["poisson_purchases", "no_dropout"]
    assert "purchase rates show no heterogeneity" in message
    assert "no customer appears to drop out" in message
    # the MLE of a Poisson rate without dropout is sum(x) / sum(T)
    rate = x.sum() / T.sum()
    assert boundary["kept"]["r/alpha"] == pytest.approx(rate, rel=1e-7)
    assert m.params_["r"] / m.params_["alpha"] == pytest.approx(rate, rel=1e-7)
    # the limit's predictions: alive for sure, rate * t purchases ahead
    assert m.probability_alive(x, tx, T) == pytest.approx(np.ones_like(x), abs=1e-6)
    assert m.conditional_expected_purchases(10.0, x, tx, T) == pytest.approx(
        np.full_like(x, 10.0 * rate), rel=1e-6
    )
    assert np.all(np.isfinite(m.expected_purchases([1.0, 100.0])))
    # one free parameter: AIC counts it
    assert m.aic_ == pytest.approx(2.0 - 2.0 * m.log_likelihood_)
    assert np.all(np.isfinite(list(m.standard_errors_.values())))
    assert "ABNORMAL" not in m.diagnostics_["message"]


def test_everybody_identical_gives_the_homogeneous_bgnbd() -> None:
    n = 50
    x, tx, T = np.full(n, 3.0), np.full(n, 30.0), np.full(n, 52.0)
    m, message = _fit(BGNBD(), frequency=x, recency=tx, T=T)
    boundary = m.diagnostics_["boundary"]
    assert boundary["limits"] == ["poisson_purchases", "homogeneous_dropout"]
    assert "dropout probabilities show no heterogeneity" in message
    lam = boundary["kept"]["r/alpha"]
    p = m.params_["a"] / (m.params_["a"] + m.params_["b"])
    # closed-form P(alive) of a Poisson buyer with one dropout probability p
    expected = 1.0 / (1.0 + p / (1.0 - p) * np.exp(lam * (52.0 - 30.0)))
    assert m.probability_alive(3, 30.0, 52.0) == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("cls", RFM_MODELS)
def test_no_dropout_keeps_the_nbd_part_and_matches_scipy(cls) -> None:
    n = 400
    i = np.arange(n)
    T = 30.0 + (i % 7) * 5.0
    lam = ss.gamma.ppf((i + 0.5) / n, a=0.7, scale=0.2)  # heterogeneous rates, no noise
    x = np.floor(lam * T + 0.5)
    tx = np.where(x > 0, T, 0.0)  # everybody bought at the very end: nobody left

    def negative_nbd(theta: np.ndarray) -> float:
        r, alpha = np.exp(theta)
        return float(-ss.nbinom.logpmf(x, r, alpha / (alpha + T)).sum())

    ref = so.minimize(
        negative_nbd,
        [0.0, 0.0],
        method="Nelder-Mead",
        options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 5000},
    )
    r_ref, alpha_ref = np.exp(ref.x)
    m, message = _fit(cls(), frequency=x, recency=tx, T=T)
    assert m.diagnostics_["boundary"]["limits"] == ["no_dropout"]
    assert "no customer appears to drop out" in message
    assert m.params_["r"] == pytest.approx(r_ref, rel=1e-5)
    assert m.params_["alpha"] == pytest.approx(alpha_ref, rel=1e-5)
    assert np.all(np.isfinite(m.conditional_expected_purchases(52.0, x, tx, T)))


def test_bgbb_limit_equals_the_pooled_purchase_probability() -> None:
    i = np.arange(300)
    x = (2 + i % 2).astype(float)
    n = np.full(300, 6.0)
    m, message = _fit(BGBB(), frequency=x, recency=n.copy(), n_periods=n)
    assert m.diagnostics_["boundary"]["limits"] == ["homogeneous_purchases", "no_dropout"]
    assert "purchase probabilities show no heterogeneity" in message
    p = m.params_["alpha"] / (m.params_["alpha"] + m.params_["beta"])
    assert p == pytest.approx(x.sum() / n.sum(), rel=1e-6)
    alive = m.probability_alive(x, n, n)
    assert alive == pytest.approx(np.ones_like(x), abs=1e-6)


def test_gamma_gamma_homogeneous_spend_matches_scipy() -> None:
    z = 20.0 + ss.norm.ppf((np.arange(50) + 0.5) / 50)
    xs = np.full(50, 2.0)
    m, message = _fit(GammaGamma(), frequency=xs, monetary_value=z)
    assert m.diagnostics_["boundary"]["limits"] == ["homogeneous_spend"]
    assert "average spend shows no heterogeneity" in message

    def negative(theta: np.ndarray) -> float:
        p, nu = np.exp(theta)
        return float(-ss.gamma.logpdf(z, a=p * xs, scale=1.0 / (nu * xs)).sum())

    ref = so.minimize(
        negative,
        [np.log(100.0), 0.0],
        method="Nelder-Mead",
        options={"xatol": 1e-12, "fatol": 1e-12, "maxiter": 5000},
    )
    p_ref, nu_ref = np.exp(ref.x)
    assert m.params_["p"] == pytest.approx(p_ref, rel=1e-4)
    assert m.params_["q"] / m.params_["v"] == pytest.approx(nu_ref, rel=1e-4)


def test_gamma_gamma_without_spend_variation_raises_with_the_reason() -> None:
    with pytest.raises(ConvergenceError, match="vary less between a customer's transactions"):
        GammaGamma().fit(frequency=np.full(50, 2.0), monetary_value=np.full(50, 20.0))


@pytest.mark.parametrize(
    ("model", "data"),
    [
        (BGNBD(), {"frequency": [3.0], "recency": [30.0], "T": [52.0]}),
        (MBGNBD(), {"frequency": [3.0], "recency": [30.0], "T": [52.0]}),
        (ParetoNBD(), {"frequency": [3.0], "recency": [30.0], "T": [52.0]}),
        (BGBB(), {"frequency": [3.0], "recency": [5.0], "n_periods": [6.0]}),
        (GammaGamma(), {"frequency": [3.0], "monetary_value": [20.0]}),
    ],
)
def test_a_single_customer_is_refused_in_words(model, data) -> None:
    with pytest.raises(ConvergenceError, match="single customer") as info:
        model.fit(**{k: np.asarray(v) for k, v in data.items()})
    assert info.value.diagnostics["reason"] == "single_customer"


@pytest.mark.parametrize("cls", [*RFM_MODELS, BGBB])
def test_no_repeat_purchase_is_refused_in_words(cls) -> None:
    zeros = np.zeros(20)
    data = (
        {"frequency": zeros, "recency": zeros, "n_periods": np.full(20, 6.0)}
        if cls is BGBB
        else {"frequency": zeros, "recency": zeros, "T": np.full(20, 10.0)}
    )
    with pytest.raises(ConvergenceError, match="no customer made a repeat purchase"):
        cls().fit(**data)


def test_interior_fit_is_untouched_and_a_penalizer_avoids_the_limit() -> None:
    m = BGNBD().fit(load_cdnow_summary())
    assert "boundary" not in m.diagnostics_
    assert m.params_["r"] == pytest.approx(0.2426, abs=1e-4)
    x, tx, T = _steady_buyers()
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", BoundaryWarning)
        pen = BGNBD(penalizer=0.01).fit(frequency=x, recency=tx, T=T)
    assert "boundary" not in pen.diagnostics_
    assert all(np.isfinite(v) for v in pen.params_.values())


def test_boundary_survives_json() -> None:
    x, tx, T = _steady_buyers()
    m, _ = _fit(BGNBD(), frequency=x, recency=tx, T=T)
    back = BGNBD.from_json(m.to_json())
    assert json.loads(back.to_json())["fit"]["diagnostics"]["boundary"]["limits"] == [
        "poisson_purchases",
        "no_dropout",
    ]
    assert back.probability_alive([4], [51.5], [52.0]) == pytest.approx(
        m.probability_alive([4], [51.5], [52.0])
    )


def test_non_convergence_is_explained_in_words() -> None:
    with pytest.raises(ConvergenceError) as info:
        BGNBD(max_iter=1, n_restarts=0).fit(load_cdnow_summary())
    text = str(info.value)
    assert "iteration limit (max_iter) was reached" in text
    assert "ABNORMAL" not in text and "STOP:" not in text


@pytest.mark.parametrize(
    ("status", "words"),
    [
        ("ABNORMAL: ", "line search"),
        ("ABNORMAL_TERMINATION_IN_LNSRCH", "line search"),
        ("CONVERGENCE: NORM OF PROJECTED GRADIENT <= PGTOL", "gradient vanished"),
        ("CONVERGENCE: RELATIVE REDUCTION OF F <= FACTR*EPSMCH", "stopped improving"),
        ("STOP: TOTAL NO. OF ITERATIONS REACHED LIMIT", "iteration limit"),
        ("STOP: TOTAL NO. OF F,G EVALUATIONS EXCEEDS LIMIT", "likelihood evaluations"),
        ("", "without giving a reason"),
        ("   ", "without giving a reason"),
        ("SOMETHING NEW", "something new"),
    ],
)
def test_describe_status(status: str, words: str) -> None:
    text = describe_status(status)
    assert words in text
    assert text.strip()


def test_limit_reparameterisation_and_its_jacobian() -> None:
    from crmmodels.clv._limits import BETA_GEOMETRIC_LIMITS

    names = ["r", "alpha", "a", "b"]
    sets = candidate_sets(BETA_GEOMETRIC_LIMITS)
    assert [len(s) for s in sets] == [1, 1, 1, 2, 2]
    for combo in sets:
        free, mapping = reduced_map(names, combo)
        q = np.linspace(0.3, 0.9, len(free))
        full, jac = mapping(q)
        assert np.all(full > 0)
        h = 1e-7
        for j in range(len(free)):
            up, down = q.copy(), q.copy()
            up[j] += h
            down[j] -= h
            numeric = (mapping(up)[0] - mapping(down)[0]) / (2 * h)
            assert jac[:, j] == pytest.approx(numeric, rel=1e-5, abs=1e-3)
    full, _ = reduced_map(names, [BETA_GEOMETRIC_LIMITS[0]])[1](np.array([0.5, 2.0, 0.25]))
    assert full[0] == SHAPE_LIMIT and full[0] / full[1] == pytest.approx(0.25)
    assert rounding_error(np.array([1e8, 1e9]), 1000.0) > 1e-3
