"""BG/NBD dropout covariates in CLVTools' form (``dropout_form="ab"``) against references.

The per-row likelihood is held against the BG/NBD without covariates at each row's
parameters, the gradient against finite differences, the fit against simulated data with
known effects, and the fitted model's predictions against a plain model per customer.
"""

from __future__ import annotations

import json

import narwhals.stable.v2 as nw
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmmodels.clv import BGNBD, ParetoNBD, churn_drivers
from crmmodels.clv._covariates_ab import shapes
from crmmodels.clv._covariates_fit import _groups, _objective
from crmmodels.clv._covariates_sim import EFFECTS, simulate_covariate_summary
from crmmodels.datasets import load_cdnow_summary
from crmmodels.errors import ArgumentError, DataError
from crmmodels.kernels import bgnbd as kbg
from crmmodels.kernels import bgnbd_covariates as kbgc

COLUMNS = ["channel", "age"]


def simulate_ab(n: int, seed: int) -> pd.DataFrame:
    return simulate_covariate_summary(n, model="bgnbd", seed=seed, dropout_form="ab")


@pytest.fixture(scope="module")
def ab_data() -> pd.DataFrame:
    return simulate_ab(3000, 11)


@pytest.fixture(scope="module")
def ab_fit(ab_data: pd.DataFrame) -> BGNBD:
    return BGNBD().fit(ab_data, covariates=COLUMNS, dropout_form="ab")


def _plain_at(model: BGNBD, frame: pd.DataFrame, i: int) -> BGNBD:
    """A BG/NBD without covariates at customer i's parameters (from the coefficients)."""
    coef = model.coefficients_.set_index(["process", "covariate"])["estimate"]
    row = frame.iloc[i]
    z = {
        "channel=app": float(row["channel"] == "app"),
        "channel=web": float(row["channel"] == "web"),
        "age": float(row["age"]) - model.covariates_.dropout[1].center,
    }
    eta_p = sum(coef["purchase", k] * v for k, v in z.items())
    eta_d = sum(coef["dropout", k] * v for k, v in z.items())
    p = model.params_
    return BGNBD.from_params(
        r=p["r"],
        alpha=p["alpha"] * np.exp(-eta_p),
        a=p["a"] * np.exp(eta_d),
        b=p["b"] * np.exp(eta_d),
    )


# ------------------------------------------------------------------ the kernel


def test_row_likelihood_is_the_plain_likelihood_at_each_rows_parameters() -> None:
    rng = np.random.default_rng(3)
    n = 40
    x = rng.integers(0, 12, n).astype(float)
    big_t = rng.uniform(5, 60, n)
    tx = np.where(x > 0, big_t * rng.uniform(0, 1, n), 0.0)
    alpha = rng.uniform(0.5, 20, n)
    a = rng.uniform(0.05, 5, n)
    b = rng.uniform(0.1, 30, n)
    ll, _ = kbgc.loglik_rows(0.7, alpha, a, b, x, tx, big_t)
    want = [kbg.loglik([0.7, alpha[i], a[i], b[i]], x[i], tx[i], big_t[i]) for i in range(n)]
    np.testing.assert_allclose(ll, np.ravel(want), rtol=1e-10, atol=1e-10)


def test_grouped_likelihood_with_a_per_group_equals_the_row_by_row_one() -> None:
    rng = np.random.default_rng(4)
    n = 60
    x = rng.integers(0, 5, n).astype(float)
    big_t = np.full(n, 40.0)
    tx = np.where(x > 0, big_t * rng.uniform(0, 1, n), 0.0)
    pattern = rng.integers(0, 3, n)
    a_pat, b_pat = np.array([0.4, 1.3, 2.2]), np.array([1.5, 6.0, 0.7])
    alpha = rng.uniform(1, 10, n)
    rows_ll, rows_d = kbgc.loglik_rows(0.5, alpha, a_pat[pattern], b_pat[pattern], x, tx, big_t)
    pairs, group = np.unique(np.column_stack([pattern, x]), axis=0, return_inverse=True)
    ll, d = kbgc.loglik_rows_grouped(
        0.5,
        alpha,
        a_pat[pairs[:, 0].astype(int)],
        b_pat[pairs[:, 0].astype(int)],
        pairs[:, 1],
        group.reshape(-1),
        x,
        tx,
        big_t,
    )
    np.testing.assert_allclose(ll, rows_ll, rtol=1e-12)
    np.testing.assert_allclose(d, rows_d, rtol=1e-10, atol=1e-12)


def test_kernel_derivative_in_a_matches_finite_differences() -> None:
    x, tx, big_t = np.array([0.0, 1.0, 6.0]), np.array([0.0, 10.0, 30.0]), np.full(3, 39.0)
    alpha, a, b = np.array([3.0, 5.0, 8.0]), np.array([0.3, 0.9, 2.5]), np.array([1.2, 4.0, 9.0])
    _, d = kbgc.loglik_rows(0.6, alpha, a, b, x, tx, big_t)
    h = 1e-6
    up, _ = kbgc.loglik_rows(0.6, alpha, a + h, b, x, tx, big_t)
    down, _ = kbgc.loglik_rows(0.6, alpha, a - h, b, x, tx, big_t)
    np.testing.assert_allclose(d[2], (up - down) / (2 * h), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("grouped", [False, True])
def test_objective_gradient_matches_finite_differences(grouped: bool) -> None:
    s = simulate_ab(300, 5)
    z = {
        "purchase": np.column_stack([(s["channel"] == "web").astype(float), s["age"]]),
        "dropout": np.column_stack([(s["channel"] == "app").astype(float), s["age"]]),
    }
    hist = (s["frequency"].to_numpy(), s["recency"].to_numpy(), s["T"].to_numpy())
    counts = np.ones(len(s))
    groups = _groups(hist[0], z["dropout"]) if grouped else None
    theta = np.array([np.log(0.8), np.log(7.0), np.log(0.9), np.log(2.5), 0.4, -0.2, 0.3, 0.5])

    def f(th: np.ndarray) -> float:
        return _objective(kbgc, th, hist, z, counts, 2, groups, form="ab")[0]

    _, grad = _objective(kbgc, theta, hist, z, counts, 2, groups, form="ab")
    h = 1e-6
    numeric = np.array(
        [(f(theta + h * e) - f(theta - h * e)) / (2 * h) for e in np.eye(theta.size)]
    )
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-5)


def test_shapes_follow_clvtools_form_and_sign() -> None:
    theta = np.array([0.0, 0.0, np.log(0.8), np.log(3.0), 0.5])  # one dropout coefficient
    z = np.array([[0.0], [1.0], [-2.0]])
    a, b = shapes(theta, z, 0, "ab")
    np.testing.assert_allclose(a, 0.8 * np.exp(0.5 * z[:, 0]))  # a_i = a0 exp(+g'z)
    np.testing.assert_allclose(b, 3.0 * np.exp(0.5 * z[:, 0]))  # b_i = b0 exp(+g'z)
    a_b, b_b = shapes(theta, z, 0, "b")
    assert a_b == pytest.approx(0.8)
    np.testing.assert_allclose(b_b, 3.0 * np.exp(-0.5 * z[:, 0]))  # the default form


# ------------------------------------------------------------------ the fit


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_coefficients_are_recovered_from_data_simulated_in_the_ab_form(seed: int) -> None:
    s = simulate_ab(6000, seed)
    m = BGNBD().fit(s, covariates=COLUMNS, dropout_form="ab")
    table = m.coefficients_.set_index(["process", "covariate"])
    for process, effects in EFFECTS.items():
        for name, true in effects.items():
            row = table.loc[(process, name)]
            # 99.9% Wald interval: 18 intervals over the three seeds all cover the truth
            assert abs(row["estimate"] - true) <= 3.29 * row["std_error"], (process, name)
    assert m.params_["a"] / (m.params_["a"] + m.params_["b"]) == pytest.approx(0.8 / 3.8, abs=0.05)


def test_the_form_is_remembered_and_reported(ab_fit: BGNBD) -> None:
    assert ab_fit.covariates_.dropout_form == "ab"
    assert "dropout_form='ab'" in repr(ab_fit.covariates_)
    res = churn_drivers(ab_fit)
    assert res.dropout_form == "ab"
    assert "does not move" in res.explanation
    plain = BGNBD().fit(simulate_ab(800, 2), covariates=COLUMNS)
    assert plain.covariates_.dropout_form == "b"
    assert "leave sooner" in churn_drivers(plain).explanation


def test_the_two_forms_differ_on_the_same_data(ab_data: pd.DataFrame, ab_fit: BGNBD) -> None:
    b_form = BGNBD().fit(ab_data, covariates=COLUMNS, dropout_form="b")
    assert ab_fit.log_likelihood_ != pytest.approx(b_form.log_likelihood_, abs=1e-3)
    # data simulated in the ab form: the ab form fits it better (same number of parameters)
    assert ab_fit.log_likelihood_ > b_form.log_likelihood_


def test_without_covariates_the_form_changes_nothing() -> None:
    s = load_cdnow_summary()
    plain = BGNBD().fit(s)
    for form in ("b", "ab"):
        m = BGNBD().fit(s, dropout_form=form)
        assert m.params_ == plain.params_
        assert not hasattr(m, "covariates_")


def test_a_bad_form_is_refused() -> None:
    s = simulate_ab(200, 1)
    with pytest.raises(ArgumentError, match="dropout_form"):
        BGNBD().fit(s, covariates=COLUMNS, dropout_form="a")
    with pytest.raises(ArgumentError, match="dropout_form"):
        BGNBD().fit(s, dropout_form=1)
    with pytest.raises(ArgumentError, match="BGNBD only"):
        ParetoNBD().fit(s, covariates=COLUMNS, dropout_form="ab")


def test_the_simulator_form_b_draws_are_unchanged() -> None:
    a = simulate_covariate_summary(500, model="bgnbd", seed=4)
    b = simulate_covariate_summary(500, model="bgnbd", seed=4, dropout_form="b")
    pd.testing.assert_frame_equal(a, b)


# ------------------------------------------------------------------ predictions


def test_predictions_equal_a_plain_model_at_each_customers_parameters(
    ab_data: pd.DataFrame, ab_fit: BGNBD
) -> None:
    rows = ab_data.iloc[:25].reset_index(drop=True)
    got = ab_fit.predict(rows, horizon=26, pmf=3)
    for i in range(len(rows)):
        plain = _plain_at(ab_fit, rows, i)
        hist = rows.loc[i, ["frequency", "recency", "T"]].to_numpy(dtype=float)
        assert got["p_alive"][i] == pytest.approx(float(plain.probability_alive(*hist)), rel=1e-9)
        assert got["expected_purchases"][i] == pytest.approx(
            float(plain.conditional_expected_purchases(26, *hist)), rel=1e-8
        )
        pmf = plain.conditional_probability_of_purchases([0, 1, 2, 3], 26, *hist)
        np.testing.assert_allclose(got[[f"p_{k}" for k in range(4)]].iloc[i], pmf, rtol=1e-8)


# ------------------------------------------------------------------ persistence


def test_save_and_load_keep_the_form(ab_data: pd.DataFrame, ab_fit: BGNBD) -> None:
    back = BGNBD.from_json(ab_fit.to_json())
    assert back.covariates_.dropout_form == "ab"
    rows = ab_data.iloc[:50]
    pd.testing.assert_frame_equal(back.predict(rows, horizon=10), ab_fit.predict(rows, horizon=10))


def test_json_without_the_form_loads_as_the_b_form() -> None:
    m = BGNBD().fit(simulate_ab(600, 3), covariates=COLUMNS)
    payload = json.loads(m.to_json())
    assert payload["covariates"]["spec"]["dropout_form"] == "b"
    del payload["covariates"]["spec"]["dropout_form"]  # saved before the forms existed
    assert BGNBD.from_dict(payload).covariates_.dropout_form == "b"


def test_a_bad_form_in_json_is_refused(ab_fit: BGNBD) -> None:
    payload = json.loads(ab_fit.to_json())
    payload["covariates"]["spec"]["dropout_form"] = "shape"
    with pytest.raises(DataError, match="dropout_form"):
        BGNBD.from_dict(payload)
    pareto = ParetoNBD().fit(simulate_ab(600, 3), covariates=COLUMNS)
    payload = json.loads(pareto.to_json())
    payload["covariates"]["spec"]["dropout_form"] = "ab"
    with pytest.raises(DataError, match="dropout_form"):
        ParetoNBD.from_dict(payload)


# ------------------------------------------------------------------ invariants


@settings(max_examples=30, deadline=None)
@given(
    eta=st.floats(-30.0, 30.0),
    x=st.integers(0, 40),
    frac=st.floats(0.0, 1.0),
)
def test_ab_predictions_stay_finite_at_extreme_covariate_values(
    eta: float, x: int, frac: float
) -> None:
    a, b = 0.8 * np.exp(eta), 3.0 * np.exp(eta)
    tx = 0.0 if x == 0 else 52.0 * frac
    pa = kbgc.probability_alive(0.8, 8.0, a, b, x, tx, 52.0)
    ce = kbgc.conditional_expected_purchases(0.8, 8.0, a, b, 20.0, x, tx, 52.0)
    ll, d = kbgc.loglik_rows(0.8, 8.0, a, b, x, tx, 52.0)
    assert np.all((pa >= 0) & (pa <= 1))
    assert np.all(np.isfinite(ce)) and np.all(ce >= 0)
    assert np.all(np.isfinite(ll)) and np.all(np.isfinite(d))


def test_ab_form_standard_errors_equal_a_central_difference_hessian_of_every_row() -> None:
    # the fit's covariance comes from the Hessian through the row parameters (a_i and b_i
    # both moved by the dropout coefficients); the reference differences the summed
    # gradient of every (uncompressed) row in every parameter
    from crmmodels.clv import _covariates_optim as co

    df = simulate_ab(4000, 21)
    fit = BGNBD().fit(df, covariates=COLUMNS, dropout_form="ab")
    theta = fit.covariate_fit_.theta
    z = fit.covariates_.design(nw.from_native(df), "test")
    hist = tuple(df[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    ones = np.ones(len(df))

    def neg(t: np.ndarray) -> tuple[float, np.ndarray]:
        ll, g = _objective(kbgc, t, hist, z, ones, z["purchase"].shape[1], form="ab")
        return -ll, -g

    reference = np.sqrt(np.diag(np.linalg.inv(co.gradient_hessian(neg, theta, step=1e-4))))
    np.testing.assert_allclose(
        np.sqrt(np.diag(fit.covariate_fit_.covariance)), reference, rtol=1e-4
    )


def test_the_forest_plot_says_what_an_ab_dropout_effect_scales(ab_fit: BGNBD) -> None:
    import matplotlib.pyplot as plt

    ax = churn_drivers(ab_fit).plot()
    assert "both dropout shapes" in ax.get_xlabel()
    assert "dropout shapes a and b" in [t.get_text() for t in ax.get_legend().get_texts()]
    plt.close(ax.get_figure(root=True))
