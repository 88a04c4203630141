"""Customer equity on distinct histories, its repr, and the CLV argument checks (issue 11)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest

from crmmodels.clv._bgbb import BGBB
from crmmodels.clv._bgnbd import BGNBD
from crmmodels.clv._gamma_gamma import GammaGamma
from crmmodels.clv._pareto_nbd import ParetoNBD
from crmmodels.clv._value import _draw_models, customer_equity, customer_lifetime_value
from crmmodels.datasets import load_cdnow_summary
from crmmodels.errors import ArgumentError, SchemaError

BG = BGNBD.from_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
GG = GammaGamma.from_params(p=6.25, q=3.74, v=15.44)


@pytest.fixture(scope="module")
def weekly() -> pd.DataFrame:
    """CDNOW on a whole-week grid: 2,357 customers sharing far fewer histories."""
    s = load_cdnow_summary()
    s["recency"] = s["recency"].round(0)
    s["T"] = s["T"].round(0)
    return s


@pytest.fixture(scope="module")
def fitted(weekly: pd.DataFrame) -> tuple[BGNBD, ParetoNBD, GammaGamma]:
    return (
        BGNBD().fit(weekly),
        ParetoNBD().fit(weekly),
        GammaGamma().fit(weekly[weekly["frequency"] > 0]),
    )


def _slow_draws(
    tm: Any,
    sm: Any,
    summary: pd.DataFrame,
    *,
    horizon: float,
    delta: float,
    n_nodes: int,
    n_draws: int,
    seed: int,
) -> list[float]:
    """Equity under each parameter draw, customer by customer (the reference)."""
    rng = np.random.default_rng(seed)
    tms = _draw_models(tm, n_draws, rng)
    sms = _draw_models(sm, n_draws, rng)
    assert tms is not None and sms is not None
    f, r, t_age, m = (
        summary[c].to_numpy(float) for c in ("frequency", "recency", "T", "monetary_value")
    )
    x, w = np.polynomial.legendre.leggauss(n_nodes)
    t = 0.5 * horizon * (x + 1.0)
    w = 0.5 * horizon * w * delta * np.exp(-delta * t)
    out = []
    for tm_i, sm_i in zip(tms, sms, strict=True):
        det = np.array(
            [
                tm_i.conditional_expected_purchases(t, f[i], r[i], t_age[i]) @ w
                + math.exp(-delta * horizon)
                * tm_i.conditional_expected_purchases(horizon, f[i], r[i], t_age[i])
                for i in range(f.size)  # customer by customer, on purpose
            ]
        )
        spend = np.array([sm_i.conditional_expected_spend(f[i], m[i]) for i in range(f.size)])
        out.append(float(np.sum(spend * det)))
    return out


@pytest.mark.parametrize("which", [0, 1], ids=["bgnbd", "paretonbd"])
def test_equity_draws_equal_the_customer_by_customer_computation(
    weekly: pd.DataFrame, fitted: tuple[Any, Any, GammaGamma], which: int
) -> None:
    tm, gg = fitted[which], fitted[2]
    sample = weekly.sample(300, random_state=1)
    assert sample[["frequency", "recency", "T"]].drop_duplicates().shape[0] < 300
    eq = customer_equity(
        tm,
        gg,
        sample,
        horizon=52,
        discount_rate=0.1,
        discount_period=52,
        n_draws=5,
        seed=3,
        n_nodes=16,
    )
    slow = _slow_draws(
        tm, gg, sample, horizon=52.0, delta=math.log1p(0.1) / 52, n_nodes=16, n_draws=5, seed=3
    )
    np.testing.assert_allclose(eq.draws, slow, rtol=1e-10)
    base = customer_lifetime_value(
        tm, gg, sample, horizon=52, discount_rate=0.1, discount_period=52, n_nodes=16
    )
    assert eq.total == pytest.approx(base.total, rel=1e-12)


def test_clv_on_distinct_pairs_equals_clv_per_history(weekly: pd.DataFrame) -> None:
    """The (x, T) factorisation reproduces the values computed history by history."""
    pnbd = ParetoNBD.from_params(r=0.553, alpha=10.578, s=0.606, beta=11.669)
    rows = list(range(0, len(weekly), 97))
    for model in (BG, pnbd):
        for horizon, rate, nodes in ((39.0, 0.0, None), (52.0, 0.1, 16), (math.inf, 0.1, None)):
            settings: dict[str, Any] = {
                "horizon": horizon,
                "discount_rate": rate,
                "discount_period": 52,
                "n_nodes": nodes,
            }
            res = customer_lifetime_value(model, GG, weekly, **settings).to_frame()
            one = [
                customer_lifetime_value(model, GG, weekly.iloc[[i]], **settings).total
                for i in rows  # a single history: nothing to factorise
            ]
            np.testing.assert_allclose(res["clv"].iloc[rows], one, rtol=1e-10)


def test_draws_do_no_work_per_customer(
    weekly: pd.DataFrame, fitted: tuple[Any, Any, GammaGamma], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each draw costs the distinct histories, not the customers."""
    big = pd.concat([weekly] * 8, ignore_index=True)
    n_hist = big[["frequency", "recency", "T"]].drop_duplicates().shape[0]
    sizes: list[int] = []
    original = GammaGamma.conditional_expected_spend

    def spy(self: GammaGamma, frequency: Any, monetary_value: Any) -> Any:
        sizes.append(int(np.size(frequency)))
        return original(self, frequency, monetary_value)

    monkeypatch.setattr(GammaGamma, "conditional_expected_spend", spy)
    customer_equity(
        fitted[0], fitted[2], big, horizon=52, discount_rate=0.1, discount_period=52, n_draws=4
    )
    assert sizes[0] == len(big)  # the point estimate: per customer
    assert len(sizes) == 5 and max(sizes[1:]) <= n_hist < len(big)


def test_equity_repr_is_short(weekly: pd.DataFrame, fitted: tuple[Any, Any, GammaGamma]) -> None:
    eq = customer_equity(
        fitted[0],
        fitted[2],
        weekly,
        horizon=52,
        discount_rate=0.1,
        discount_period=52,
        n_draws=50,
    )
    text = repr(eq)
    assert "draws=" not in text.replace("n_draws=", "") and len(text) < 300
    assert "n_draws=50" in text and len(eq.draws) == 50
    assert "draws" not in eq.to_dict() and "<td>[" not in eq._repr_html_()


# ----------------------------------------------------------------------------- arguments


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"horizon": "abc"}, "horizon"),
        ({"horizon": None}, "horizon"),
        ({"horizon": -1}, "horizon"),
        ({"horizon": True}, "horizon"),
        ({"discount_rate": "0.1"}, "discount_rate"),
        ({"discount_rate": math.nan}, "discount_rate"),
        ({"discount_rate": -0.1}, "discount_rate"),
        ({"discount_rate": math.inf}, "discount_rate"),
        ({"discount_period": 0}, "discount_period"),
        ({"margin": "1"}, "margin"),
        ({"n_nodes": 4.5}, "n_nodes"),
        ({"n_nodes": "16"}, "n_nodes"),
        ({"n_nodes": 2}, "n_nodes"),
        ({"progress": "yes"}, "progress"),
        ({"customer_col": 3}, "customer_col"),
    ],
)
def test_clv_arguments_give_argument_error(kwargs: dict[str, Any], name: str) -> None:
    s = load_cdnow_summary().head(20)
    args: dict[str, Any] = {"horizon": 52, "discount_rate": 0.1, **kwargs}
    with pytest.raises(ArgumentError, match=name):
        customer_lifetime_value(BG, GG, s, **args)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"horizon": "abc"}, "horizon"),
        ({"discount_rate": -1e-3}, "discount_rate"),
        ({"n_nodes": 4.5}, "n_nodes"),
        ({"level": "0.9"}, "level"),
        ({"level": 1.0}, "level"),
        ({"n_draws": 2.5}, "n_draws"),
        ({"n_draws": -1}, "n_draws"),
        ({"seed": "1"}, "seed"),
        ({"progress": 1}, "progress"),
    ],
)
def test_equity_arguments_give_argument_error(kwargs: dict[str, Any], name: str) -> None:
    s = load_cdnow_summary().head(20)
    args: dict[str, Any] = {"horizon": 52, "discount_rate": 0.1, **kwargs}
    with pytest.raises(ArgumentError, match=name):
        customer_equity(BG, GG, s, **args)


def test_whole_float_arguments_and_infinite_horizon_still_accepted() -> None:
    s = load_cdnow_summary().head(20)
    a = customer_lifetime_value(BG, GG, s, horizon=52.0, discount_rate=0.1, n_nodes=16.0)
    b = customer_lifetime_value(BG, GG, s, horizon=52, discount_rate=0.1, n_nodes=16)
    assert a.total == b.total
    inf = customer_lifetime_value(BG, GG, s, horizon=math.inf, discount_rate=0.1)
    assert math.isfinite(inf.total) and inf.horizon == math.inf
    eq = customer_equity(BG, GG, s, horizon=52, discount_rate=0.1, n_draws=10.0)
    assert eq.n_draws == 0  # models from from_params carry no covariance


def test_models_in_the_wrong_place_are_named() -> None:
    s = load_cdnow_summary().head(20)
    with pytest.raises(ArgumentError, match=r"transaction_model.*GammaGamma.*spend_model"):
        customer_lifetime_value(GG, GG, s, horizon=52, discount_rate=0.1)
    with pytest.raises(ArgumentError, match=r"transaction_model.*GammaGamma.*spend_model"):
        customer_equity(GG, None, s, horizon=52, discount_rate=0.1)
    with pytest.raises(ArgumentError, match=r"spend_model.*BGNBD.*transaction_model"):
        customer_lifetime_value(BG, BG, s, horizon=52, discount_rate=0.1)
    with pytest.raises(ArgumentError, match="spend_model"):
        customer_lifetime_value(BG, "12.5", s, horizon=52, discount_rate=0.1)
    with pytest.raises(ArgumentError, match="spend_model"):
        customer_lifetime_value(BG, True, s, horizon=52, discount_rate=0.1)


def test_string_frequency_column_is_a_schema_error() -> None:
    s = load_cdnow_summary().head(20)
    s["frequency"] = s["frequency"].astype(str)
    with pytest.raises(SchemaError, match="'frequency' must be numeric"):
        customer_lifetime_value(BG, GG, s, horizon=52, discount_rate=0.1)


def test_missing_customer_col_named_explicitly_is_a_schema_error() -> None:
    s = load_cdnow_summary().head(20)
    no_id = s.drop(columns="customer_id")
    with pytest.raises(SchemaError, match=r"customer_id.*customer_col"):
        customer_lifetime_value(
            BG, GG, no_id, horizon=52, discount_rate=0.1, customer_col="customer_id"
        )
    with pytest.raises(SchemaError, match="'id'"):
        customer_lifetime_value(BG, GG, s, horizon=52, discount_rate=0.1, customer_col="id")
    # the default id column is carried when present and not required
    with_id = customer_lifetime_value(BG, GG, s, horizon=52, discount_rate=0.1).to_frame()
    assert with_id["customer_id"].tolist() == s["customer_id"].tolist()
    without = customer_lifetime_value(BG, GG, no_id, horizon=52, discount_rate=0.1).to_frame()
    assert "customer_id" not in without.columns
    assert without["customer"].tolist() == list(range(20))  # row positions, never no id
    np.testing.assert_array_equal(without["clv"], with_id["clv"])
    none = customer_lifetime_value(BG, GG, s, horizon=52, discount_rate=0.1, customer_col=None)
    assert none.to_frame()["customer_id"].tolist() == s["customer_id"].tolist()


def test_bgbb_equity_still_works() -> None:
    m = BGBB.from_params(alpha=1.204, beta=0.750, gamma=0.657, delta=2.783)
    df = pd.DataFrame({"frequency": [0, 3, 6, 3], "recency": [0, 5, 6, 5], "n_periods": 6})
    res = customer_lifetime_value(m, 10.0, df, horizon=5, discount_rate=0.1).to_frame()
    assert res["clv"].iloc[1] == res["clv"].iloc[3] > 0


# ----------------------------------------------------------------------------- BG/BB DERT

HISTORIES = pd.DataFrame({"frequency": [0, 1, 3, 6, 2], "recency": [0, 1, 5, 6, 6], "n_periods": 6})


def _dert(model: BGBB, rate: float) -> np.ndarray:
    h = HISTORIES
    return model.expected_discounted_residual_transactions(
        h["frequency"], h["recency"], h["n_periods"], rate
    )


@pytest.mark.parametrize("gamma", [0.2, 0.657, 1.0, 1.5, 3.0])
def test_bgbb_dert_against_a_direct_discounted_sum(gamma: float) -> None:
    m = BGBB.from_params(alpha=1.204, beta=0.750, gamma=gamma, delta=2.783)
    for rate in (0.5, 1e-3):
        horizon = math.ceil(60 / math.log1p(rate))  # (1 + rate)^-horizon = e^-60
        direct = customer_lifetime_value(
            m, None, HISTORIES, horizon=horizon, discount_rate=rate
        ).to_frame()["clv"]
        np.testing.assert_allclose(_dert(m, rate), direct, rtol=1e-9)


def test_bgbb_dert_is_finite_and_continuous_as_the_rate_goes_to_zero() -> None:
    # gamma > 1: a finite limit, the undiscounted residual transactions E[X(inf)]
    m = BGBB.from_params(alpha=1.204, beta=0.750, gamma=3.0, delta=2.783)
    h = HISTORIES
    undiscounted = m.conditional_expected_purchases(
        1e8, h["frequency"], h["recency"], h["n_periods"]
    )
    for rate in (1e-12, 1e-16, 1e-20, 1e-300):
        np.testing.assert_allclose(_dert(m, rate), undiscounted, rtol=1e-8)
    # gamma <= 1: finite for every rate > 0 and growing continuously as it falls
    for gamma in (0.657, 1.0):
        m = BGBB.from_params(alpha=1.204, beta=0.750, gamma=gamma, delta=2.783)
        values = np.array([_dert(m, rate) for rate in (1e-8, 1e-12, 1e-16, 1e-20, 1e-24)])
        assert np.all(np.isfinite(values)) and np.all(np.diff(values, axis=0) > 0)
    # gamma < 1: the leading term is proportional to rate^(gamma - 1)
    m = BGBB.from_params(alpha=1.204, beta=0.750, gamma=0.657, delta=2.783)
    np.testing.assert_allclose(_dert(m, 1e-20) / _dert(m, 1e-21), 10 ** (0.657 - 1), rtol=1e-5)
    # and through customer_lifetime_value with an infinite horizon
    res = customer_lifetime_value(m, 2.0, HISTORIES, horizon=math.inf, discount_rate=1e-20)
    assert np.all(np.isfinite(res.to_frame()["clv"])) and res.method == "closed-form DERT"
