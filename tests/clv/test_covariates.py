"""Time-invariant covariates in BG/NBD and Pareto/NBD: fit, predict, errors, churn drivers."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _covariate_sim import simulate
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, stats

from crmmodels.clv import BGNBD, MBGNBD, ChurnDriversResult, ParetoNBD, churn_drivers
from crmmodels.clv._covariates_fit import _objective
from crmmodels.datasets import load_cdnow_summary
from crmmodels.errors import ArgumentError, DataError, NotFittedError
from crmmodels.kernels import bgnbd as kbg
from crmmodels.kernels import bgnbd_covariates as kbgc
from crmmodels.kernels import pareto_nbd as kpn
from crmmodels.kernels import pareto_nbd_covariates as kpnc

from _engines import to_engine

MODELS = {"bgnbd": BGNBD, "pareto": ParetoNBD}


@pytest.fixture(scope="module")
def bg_data() -> pd.DataFrame:
    return simulate("bgnbd", 2000, 7)


@pytest.fixture(scope="module")
def bg_fit(bg_data: pd.DataFrame) -> BGNBD:
    return BGNBD().fit(bg_data, covariates=["channel", "age"])


# ------------------------------------------------------------ without covariates


def test_without_covariates_the_fit_is_todays() -> None:
    s = load_cdnow_summary()
    s["channel"] = np.where(s["customer_id"] % 3 == 0, "web", "store")
    plain = BGNBD().fit(s)
    assert {k: round(v, 3) for k, v in plain.params_.items()} == {
        "r": 0.243,
        "alpha": 4.414,
        "a": 0.793,
        "b": 2.426,
    }
    refit = BGNBD().fit(s, covariates=["channel"]).fit(s)  # a refit forgets the covariates
    assert refit.params_ == plain.params_
    assert refit.log_likelihood_ == plain.log_likelihood_
    assert not hasattr(refit, "covariates_") and not hasattr(refit, "coefficients_")


@pytest.mark.parametrize("name", ["bgnbd", "pareto"])
def test_zero_coefficients_give_the_model_without_covariates(name: str) -> None:
    df = simulate(name, 300, 3)
    model = MODELS[name]().fit(df[["frequency", "recency", "T"]])
    design = {"purchase": np.c_[df["age"].to_numpy()], "dropout": np.zeros((300, 0))}
    theta = np.concatenate([np.log(model._params_array()), [0.0]])
    kernel = kbgc if name == "bgnbd" else kpnc
    hist = (df["frequency"].to_numpy(), df["recency"].to_numpy(), df["T"].to_numpy())
    ll, grad = _objective(kernel, theta, hist, design, np.ones(300), 1)
    assert ll == pytest.approx(model.log_likelihood_, rel=1e-10)
    assert np.all(np.abs(grad[:4]) < 1e-3 * 300)  # the optimum of the plain model


# ------------------------------------------------------------ kernels


@pytest.mark.parametrize("name", ["bgnbd", "pareto"])
def test_row_kernels_equal_the_model_kernels_customer_by_customer(name: str) -> None:
    rng = np.random.default_rng(5)
    n = 25
    x = rng.integers(0, 8, n).astype(float)
    big_t = rng.uniform(5, 60, n)
    tx = np.where(x > 0, rng.uniform(0, 1, n) * big_t, 0.0)
    scale_p, scale_d = rng.uniform(0.5, 20, n), rng.uniform(0.5, 20, n)
    r, shape = 0.6, 0.9
    kernel, ref = (kbgc, kbg.loglik) if name == "bgnbd" else (kpnc, kpn.log_likelihood)
    ll, _ = kernel.loglik_rows(r, scale_p, shape, scale_d, x, tx, big_t)
    pa = kernel.probability_alive(r, scale_p, shape, scale_d, x, tx, big_t)
    cep = kernel.conditional_expected_purchases(r, scale_p, shape, scale_d, 10.0, x, tx, big_t)
    mod = kbg if name == "bgnbd" else kpn
    for i in range(n):
        p = [r, scale_p[i], shape, scale_d[i]]
        assert ll[i] == pytest.approx(float(ref(p, x[i], tx[i], big_t[i])), rel=1e-10)
        assert pa[i] == pytest.approx(float(mod.probability_alive(p, x[i], tx[i], big_t[i])))
        ce = mod.conditional_expected_purchases(p, 10.0, x[i], tx[i], big_t[i])
        assert cep[i] == pytest.approx(float(ce), rel=1e-9)


def _gamma_pdf(v: float, shape: float, rate: float) -> float:
    if v <= 0:
        return 0.0
    return math.exp(
        shape * math.log(rate) + (shape - 1) * math.log(v) - rate * v - math.lgamma(shape)
    )


def test_pareto_row_likelihood_against_direct_integration() -> None:
    """Independent check: integrate the individual likelihood over the two gamma mixes."""
    r, s = 0.7, 0.9
    alphas, betas = [3.0, 9.0], [7.0, 2.5]
    x, tx, big_t = 3.0, 11.0, 20.0
    ll, _ = kpnc.loglik_rows(r, alphas, s, betas, x, tx, big_t)
    for i in range(2):

        def f(mu: float, lam: float, i: int = i) -> float:
            k = lam + mu
            ind = lam**x * math.exp(-k * big_t) + lam**x * mu / k * (
                math.exp(-k * tx) - math.exp(-k * big_t)
            )
            return ind * _gamma_pdf(lam, r, alphas[i]) * _gamma_pdf(mu, s, betas[i])

        val, _ = integrate.dblquad(f, 0, 30, 0, 30, epsabs=1e-13, epsrel=1e-9)
        assert ll[i] == pytest.approx(math.log(val), abs=1e-5)


@pytest.mark.parametrize("name", ["bgnbd", "pareto"])
def test_gradient_matches_finite_differences(name: str) -> None:
    df = simulate(name, 200, 11)
    kernel = kbgc if name == "bgnbd" else kpnc
    hist = (df["frequency"].to_numpy(), df["recency"].to_numpy(), df["T"].to_numpy())
    web = (df["channel"] == "web").to_numpy(float)
    design = {"purchase": np.c_[web, df["age"]], "dropout": np.c_[df["age"], web]}
    theta = np.array([np.log(0.7), np.log(6.0), np.log(0.8), np.log(4.0), 0.3, -0.2, 0.4, 0.1])
    counts = np.arange(1, 201) % 3 + 1.0
    _, grad = _objective(kernel, theta, hist, design, counts, 2)
    h = 1e-6
    for j in range(theta.size):
        e = np.zeros_like(theta)
        e[j] = h
        up = _objective(kernel, theta + e, hist, design, counts, 2)[0]
        down = _objective(kernel, theta - e, hist, design, counts, 2)[0]
        assert grad[j] == pytest.approx((up - down) / (2 * h), rel=1e-5, abs=1e-5)


@settings(max_examples=60, deadline=None)
@given(
    scale=st.floats(1e-4, 1e6),
    shape=st.floats(0.05, 20.0),
    x=st.integers(0, 500),
    frac=st.floats(0.0, 1.0),
    big_t=st.floats(0.5, 1e4),
    bgnbd=st.booleans(),
)
def test_extreme_per_customer_parameters_stay_finite(
    scale: float, shape: float, x: int, frac: float, big_t: float, bgnbd: bool
) -> None:
    """Extreme covariate values push the per-customer scales far out: all stays finite."""
    tx = frac * big_t if x > 0 else 0.0
    kernel = kbgc if bgnbd else kpnc
    ll, d = kernel.loglik_rows(0.5, scale, shape, 1.0 / scale, x, tx, big_t)
    assert np.all(np.isfinite(ll)) and np.all(np.isfinite(d))
    pa = kernel.probability_alive(0.5, scale, shape, 1.0 / scale, x, tx, big_t)
    assert np.all((pa >= 0) & (pa <= 1))
    ce = kernel.conditional_expected_purchases(0.5, scale, shape, 1 / scale, 10.0, x, tx, big_t)
    assert np.all(np.isfinite(ce)) and np.all(ce >= 0)


# ------------------------------------------------------------ fit and predict


def test_fitted_attributes(bg_fit: BGNBD) -> None:
    c = bg_fit.coefficients_
    assert list(c.columns) == [
        "process",
        "covariate",
        "estimate",
        "std_error",
        "lower",
        "upper",
        "p_value",
    ]
    assert c["covariate"].tolist() == ["channel=app", "channel=web", "age"] * 2
    assert (c["std_error"] > 0).all()
    np.testing.assert_allclose(c["upper"] - c["estimate"], 1.959964 * c["std_error"], rtol=1e-5)
    spec = bg_fit.covariates_
    channel = spec.purchase[0]
    assert channel.kind == "categorical" and channel.reference == "store"
    assert spec.purchase[1].kind == "numeric"
    assert set(bg_fit.params_) == {"r", "alpha", "a", "b"}
    assert all(v > 0 for v in bg_fit.standard_errors_.values())
    assert bg_fit.aic_ == pytest.approx(2 * 10 - 2 * bg_fit.log_likelihood_)


def test_separate_covariate_sets(bg_data: pd.DataFrame) -> None:
    m = BGNBD().fit(bg_data, purchase_covariates=["age"], dropout_covariates=["channel"])
    c = m.coefficients_
    assert c[["process", "covariate"]].values.tolist() == [
        ["purchase", "age"],
        ["dropout", "channel=app"],
        ["dropout", "channel=web"],
    ]


def test_covariates_improve_the_likelihood(bg_data: pd.DataFrame, bg_fit: BGNBD) -> None:
    plain = BGNBD().fit(bg_data)
    lr = 2 * (bg_fit.log_likelihood_ - plain.log_likelihood_)
    assert lr > stats.chi2.ppf(0.999, 6)


def test_predict_uses_each_customers_parameters(bg_data: pd.DataFrame, bg_fit: BGNBD) -> None:
    rows = bg_data.iloc[:6]
    out = bg_fit.predict(rows, horizon=26)
    assert out["customer_id"].tolist() == rows["customer_id"].tolist()
    theta = bg_fit.covariate_fit_.theta
    base = np.exp(theta[:4])
    for i, row in enumerate(rows.itertuples()):
        z = np.array(
            [
                row.channel == "app",
                row.channel == "web",
                row.age - bg_fit.covariates_.purchase[1].center,
            ]
        )
        alpha = base[1] * math.exp(-z @ theta[4:7])
        b = base[3] * math.exp(-z @ theta[7:10])
        one = BGNBD.from_params(r=base[0], alpha=alpha, a=base[2], b=b)
        hist = (row.frequency, row.recency, row.T)
        assert out["p_alive"][i] == pytest.approx(float(one.probability_alive(*hist)))
        exp = float(one.conditional_expected_purchases(26, *hist))
        assert out["expected_purchases"][i] == pytest.approx(exp, rel=1e-9)


def test_a_dropout_covariate_moves_p_alive_the_right_way(bg_data: pd.DataFrame) -> None:
    m = BGNBD().fit(bg_data, dropout_covariates=["age"])
    frame = pd.DataFrame(
        {"frequency": [3.0, 3.0], "recency": [10.0, 10.0], "T": [52.0, 52.0], "age": [-2.0, 2.0]}
    )
    out = m.predict(frame, horizon=10)
    assert m.coefficients_["estimate"].iloc[0] > 0  # older customers leave sooner
    assert out["p_alive"][0] > out["p_alive"][1]


@pytest.mark.parametrize("engine", ["polars", "duckdb"])
def test_engines_fit_like_pandas(engine: str, bg_data: pd.DataFrame, bg_fit: BGNBD) -> None:
    m = BGNBD().fit(to_engine(bg_data, engine), covariates=["channel", "age"])
    np.testing.assert_allclose(
        m.coefficients_["estimate"], bg_fit.coefficients_["estimate"], rtol=1e-6, atol=1e-8
    )
    assert m.log_likelihood_ == pytest.approx(bg_fit.log_likelihood_, rel=1e-10)


def test_boolean_and_category_columns(bg_data: pd.DataFrame) -> None:
    df = bg_data.assign(
        web=bg_data["channel"] == "web", channel=bg_data["channel"].astype("category")
    )
    m = BGNBD().fit(df, purchase_covariates=["web"], dropout_covariates=["channel"])
    assert m.coefficients_["covariate"].tolist() == ["web=True", "channel=app", "channel=web"]


# ------------------------------------------------------------ bad input


def test_missing_values_are_refused(bg_data: pd.DataFrame) -> None:
    df = bg_data.copy()
    df.loc[[3, 8], "age"] = np.nan
    with pytest.raises(DataError, match=r"'age'.*2 rows"):
        BGNBD().fit(df, covariates=["age"])
    df = bg_data.astype({"channel": object})
    df.loc[5, "channel"] = None
    with pytest.raises(DataError, match="'channel'"):
        BGNBD().fit(df, covariates=["channel"])


def test_constant_and_collinear_columns_are_refused(bg_data: pd.DataFrame) -> None:
    with pytest.raises(DataError, match="'one' is constant"):
        BGNBD().fit(bg_data.assign(one=1.0), covariates=["one"])
    with pytest.raises(DataError, match="'kind' is constant"):
        BGNBD().fit(bg_data.assign(kind="a"), covariates=["kind"])
    df = bg_data.assign(age2=2 * bg_data["age"] + 1)
    with pytest.raises(DataError, match="'age2' is perfectly collinear with \\['age'\\]"):
        BGNBD().fit(df, dropout_covariates=["age", "age2"])
    df = bg_data.assign(web=(bg_data["channel"] == "web").astype(float))
    with pytest.raises(DataError, match="'web' is perfectly collinear"):
        BGNBD().fit(df, purchase_covariates=["channel", "web"])


def test_unknown_category_at_prediction(bg_data: pd.DataFrame, bg_fit: BGNBD) -> None:
    rows = bg_data.iloc[:3].assign(channel=["store", "phone", "web"])
    with pytest.raises(DataError, match=r"'channel'.*'phone'.*\['app', 'store', 'web'\]"):
        bg_fit.predict(rows, horizon=10)


def test_argument_errors(bg_data: pd.DataFrame, bg_fit: BGNBD) -> None:
    with pytest.raises(ArgumentError, match="not both"):
        BGNBD().fit(bg_data, covariates=["age"], dropout_covariates=["age"])
    with pytest.raises(ArgumentError, match="summary frame"):
        BGNBD().fit(frequency=[1], recency=[1.0], T=[2.0], covariates=["age"])
    with pytest.raises(ArgumentError, match="MBGNBD"):
        MBGNBD().fit(bg_data, covariates=["age"])
    with pytest.raises(ArgumentError, match="has covariates"):
        bg_fit.probability_alive([1], [1.0], [2.0])
    with pytest.raises(ArgumentError, match="list of column names"):
        BGNBD().fit(bg_data, covariates=[1])


# ------------------------------------------------------------ churn drivers


def test_churn_drivers(bg_fit: BGNBD) -> None:
    res = churn_drivers(bg_fit, level=0.9)
    assert isinstance(res, ChurnDriversResult)
    f = res.to_frame()
    assert list(f.columns) == [
        "process",
        "covariate",
        "effect",
        "low",
        "high",
        "p_value",
        "coefficient",
        "std_error",
    ]
    assert f["process"].tolist() == ["dropout"] * 3 + ["purchase"] * 3
    np.testing.assert_allclose(f["effect"], np.exp(f["coefficient"]))
    z = stats.norm.ppf(0.95)
    np.testing.assert_allclose(f["low"], np.exp(f["coefficient"] - z * f["std_error"]))
    np.testing.assert_allclose(f["high"], np.exp(f["coefficient"] + z * f["std_error"]))
    np.testing.assert_allclose(
        f["p_value"], 2 * stats.norm.sf(np.abs(f["coefficient"] / f["std_error"]))
    )
    assert res.references == (("channel", "store"),)
    ax = res.plot()
    assert ax.get_xscale() == "log" and len(ax.get_yticklabels()) == 6
    assert "ChurnDriversResult" in repr(res)


def test_churn_drivers_errors(bg_data: pd.DataFrame) -> None:
    with pytest.raises(NotFittedError):
        churn_drivers(BGNBD())
    with pytest.raises(ArgumentError, match="without covariates"):
        churn_drivers(BGNBD().fit(bg_data))


# ------------------------------------------------------------ persistence


def test_json_round_trip(bg_data: pd.DataFrame, bg_fit: BGNBD) -> None:
    back = BGNBD.from_json(bg_fit.to_json())
    pd.testing.assert_frame_equal(back.coefficients_, bg_fit.coefficients_)
    assert back.covariates_ == bg_fit.covariates_
    rows = bg_data.iloc[:20]
    pd.testing.assert_frame_equal(back.predict(rows, horizon=5), bg_fit.predict(rows, horizon=5))
    payload = bg_fit.to_dict()
    payload["covariates"]["theta"] = payload["covariates"]["theta"][:-1]
    with pytest.raises(DataError, match=r"covariates.*theta"):
        BGNBD.from_dict(payload)
    payload = bg_fit.to_dict()
    payload["covariates"]["spec"]["dropout"][0]["reference"] = "phone"
    with pytest.raises(DataError, match="covariates"):
        BGNBD.from_dict(payload)


def test_grouped_bgnbd_objective_equals_the_row_objective() -> None:
    from crmmodels.clv._covariates_fit import _groups

    df = simulate("bgnbd", 300, 12)
    hist = (df["frequency"].to_numpy(), df["recency"].to_numpy(), df["T"].to_numpy())
    web = (df["channel"] == "web").to_numpy(float)
    design = {"purchase": np.c_[df["age"]], "dropout": np.c_[web, np.round(df["age"])]}
    theta = np.array([np.log(0.7), np.log(6.0), np.log(0.8), np.log(4.0), 0.3, -0.2, 0.4])
    counts = np.ones(300)
    plain = _objective(kbgc, theta, hist, design, counts, 1)
    grouped = _objective(kbgc, theta, hist, design, counts, 1, _groups(hist[0], design["dropout"]))
    assert grouped[0] == pytest.approx(plain[0], rel=1e-12)
    np.testing.assert_allclose(grouped[1], plain[1], rtol=1e-10)


@pytest.mark.parametrize("horizon", [52.0, math.inf])
@pytest.mark.parametrize("name", ["bgnbd", "pareto"])
def test_clv_per_customer_equals_the_model_at_its_own_parameters(name: str, horizon: float) -> None:
    from crmmodels.clv import GammaGamma, customer_lifetime_value

    df = simulate(name, 400, 21)
    model = MODELS[name]().fit(df, covariates=["channel", "age"])
    rows = df.iloc[:5].assign(monetary_value=[10.0, 20.0, 30.0, 40.0, 50.0])
    gg = GammaGamma.from_params(p=6.0, q=3.5, v=15.0)
    res = customer_lifetime_value(
        model, gg, rows, horizon=horizon, discount_rate=0.1, discount_period=52
    ).to_frame()
    theta = model.covariate_fit_.theta
    base = np.exp(theta[:4])
    centre = model.covariates_.purchase[1].center
    cls = MODELS[name]
    for i, row in enumerate(rows.itertuples()):
        z = np.array([row.channel == "app", row.channel == "web", row.age - centre], float)
        params = dict(zip(cls._param_names, base, strict=True))
        params[cls._param_names[1]] = base[1] * math.exp(-z @ theta[4:7])
        params[cls._param_names[3]] = base[3] * math.exp(-z @ theta[7:10])
        one = customer_lifetime_value(
            cls.from_params(**params),
            gg,
            rows.iloc[[i]],
            horizon=horizon,
            discount_rate=0.1,
            discount_period=52,
        ).to_frame()
        assert res["clv"][i] == pytest.approx(one["clv"][0], rel=1e-6)
        assert res["discounted_purchases"][i] == pytest.approx(
            one["discounted_purchases"][0], rel=1e-6
        )


def test_demo_step_reports_the_drivers(tmp_path: Path) -> None:
    from crmmodels._demo.covariates import run

    blocks = run(tmp_path)
    assert "Churn drivers" in blocks[1] and "channel=web" in blocks[1]
    assert (tmp_path / "churn_drivers.png").stat().st_size > 0
