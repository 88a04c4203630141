"""Gamma-Gamma spend with time-invariant covariates."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crmmodels.clv import BGNBD, GammaGamma, churn_drivers
from crmmodels.clv._covariates_spend import _objective
from crmmodels.errors import ArgumentError, DataError
from crmmodels.kernels import gamma_gamma as kgg
from crmmodels.kernels import gamma_gamma_covariates as kggc

TRUE = {"channel=web": 0.4, "age": -0.2}


def simulate(n: int, seed: int) -> pd.DataFrame:
    """Spend with v_i = 15 exp(0.4 web - 0.2 age), p = 6, q = 3.5; x in 0..7."""
    rng = np.random.default_rng(seed)
    channel = rng.choice(["store", "web"], n, p=[0.6, 0.4])
    age = rng.normal(0.0, 1.0, n)
    v = 15.0 * np.exp(TRUE["channel=web"] * (channel == "web") + TRUE["age"] * age)
    nu = rng.gamma(3.5, 1.0 / v)
    x = rng.integers(0, 8, n)
    # the mean of x Gamma(p, nu) values is Gamma(p x, nu x)
    m = np.where(x > 0, rng.gamma(6.0 * np.maximum(x, 1)) / (nu * np.maximum(x, 1)), 0.0)
    return pd.DataFrame(
        {
            "customer_id": np.arange(n),
            "frequency": x,
            "monetary_value": m,
            "channel": channel,
            "age": age,
        }
    )


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return simulate(3000, 1)


@pytest.fixture(scope="module")
def fitted(data: pd.DataFrame) -> GammaGamma:
    return GammaGamma().fit(data, covariates=["channel", "age"])


def test_row_kernel_equals_the_model_kernel() -> None:
    v = np.array([5.0, 15.0, 40.0])
    x, m = np.array([1.0, 3.0, 9.0]), np.array([10.0, 35.5, 80.0])
    ll, _ = kggc.loglik_rows(6.25, 3.74, v, x, m)
    for i in range(3):
        assert ll[i] == pytest.approx(float(kgg.loglik([6.25, 3.74, v[i]], x[i], m[i])))
    spend = kggc.conditional_expected_spend(6.25, 3.74, v, x, m)
    for i in range(3):
        exp = kgg.conditional_expected_spend([6.25, 3.74, v[i]], x[i], m[i])
        assert spend[i] == pytest.approx(float(exp))


def test_gradient_matches_finite_differences(data: pd.DataFrame) -> None:
    d = data[data["frequency"] > 0]
    x, m = d["frequency"].to_numpy(float), d["monetary_value"].to_numpy()
    z = np.c_[(d["channel"] == "web").to_numpy(float), d["age"]]
    counts = np.ones(x.size)
    theta = np.array([np.log(5.0), np.log(3.0), np.log(12.0), 0.2, -0.1])
    _, grad = _objective(theta, x, m, z, counts)
    for j in range(theta.size):
        e = np.zeros(theta.size)
        e[j] = 1e-6
        fd = (
            _objective(theta + e, x, m, z, counts)[0] - _objective(theta - e, x, m, z, counts)[0]
        ) / 2e-6
        assert grad[j] == pytest.approx(fd, rel=1e-5, abs=1e-4)


def test_coefficients_recovered_across_seeds() -> None:
    hits = []
    for seed in range(6):
        c = (
            GammaGamma()
            .fit(simulate(2000, 100 + seed), covariates=["channel", "age"])
            .coefficients_
        )
        truth = c["covariate"].map(TRUE).to_numpy()
        hits.append((c["lower"] <= truth) & (truth <= c["upper"]))
    assert float(np.mean(hits)) >= 0.75


def test_fit_predict_and_persistence(data: pd.DataFrame, fitted: GammaGamma) -> None:
    c = fitted.coefficients_
    assert c[["process", "covariate"]].values.tolist() == [
        ["spend", "channel=web"],
        ["spend", "age"],
    ]
    assert fitted.n_excluded_ == int((data["frequency"] == 0).sum())
    rows = data.iloc[:8]
    out = fitted.predict(rows)
    theta = fitted.covariate_fit_.theta
    centre = fitted.covariates_.spend[1].center
    for i, row in enumerate(rows.itertuples()):
        v = np.exp(theta[2] + theta[3] * (row.channel == "web") + theta[4] * (row.age - centre))
        one = GammaGamma.from_params(p=np.exp(theta[0]), q=np.exp(theta[1]), v=v)
        exp = float(one.conditional_expected_spend(row.frequency, row.monetary_value))
        assert out["expected_spend"][i] == pytest.approx(exp, rel=1e-10)
    back = GammaGamma.from_json(fitted.to_json())
    pd.testing.assert_frame_equal(back.predict(rows), out)


def test_errors(data: pd.DataFrame, fitted: GammaGamma) -> None:
    with pytest.raises(ArgumentError, match="one process"):
        GammaGamma().fit(data, dropout_covariates=["age"])
    with pytest.raises(ArgumentError, match="has covariates"):
        fitted.conditional_expected_spend([1], [10.0])
    with pytest.raises(ArgumentError, match="spend covariates only"):
        churn_drivers(fitted)
    with pytest.raises(DataError, match=r"'channel'.*'phone'"):
        fitted.predict(data.iloc[:2].assign(channel=["store", "phone"]))
    payload = fitted.to_dict()
    with pytest.raises(DataError, match="covariates"):
        BGNBD.from_dict(
            {
                **payload,
                "model": "BGNBD",
                "params": dict.fromkeys(["r", "alpha", "a", "b"], 1.0),
                "fit": {},
                "columns": None,
            }
        )


def test_clv_uses_each_customers_expected_spend(data: pd.DataFrame, fitted: GammaGamma) -> None:
    from crmmodels.clv import customer_lifetime_value

    rows = data.iloc[:20].assign(T=40.0)
    rows["recency"] = np.where(rows["frequency"] > 0, 30.0, 0.0)
    bg = BGNBD.from_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
    res = customer_lifetime_value(bg, fitted, rows, horizon=52, discount_rate=0.1).to_frame()
    np.testing.assert_allclose(res["expected_spend"], fitted.predict(rows)["expected_spend"])
    plain = customer_lifetime_value(bg, 1.0, rows, horizon=52, discount_rate=0.1).to_frame()
    np.testing.assert_allclose(
        res["clv"], plain["discounted_purchases"] * res["expected_spend"], rtol=1e-6
    )
