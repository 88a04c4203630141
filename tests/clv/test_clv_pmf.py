"""Conditional probability of purchases of BG/NBD, MBG/NBD and BG/BB.

References: the law of total probability (the pmf sums to 1), the models' conditional
expectations (its mean), closed cases (a customer without history is a new customer;
no time, no purchase), and Monte-Carlo simulations of the models at fixed parameters.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmmodels.clv import BGBB, BGNBD, MBGNBD
from crmmodels.errors import DataError

BG = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
BB = {"alpha": 1.204, "beta": 0.750, "gamma": 0.657, "delta": 2.783}
HISTORIES = [(0, 0.0, 38.86), (2, 30.43, 38.86), (7, 10.0, 38.86), (40, 38.0, 39.0)]


def _beta_geometric(cls: type[BGNBD], params: dict[str, float] = BG) -> BGNBD:
    return cls.from_params(**params)


# ----------------------------------------------------------------- BG/NBD, MBG/NBD
@pytest.mark.parametrize("cls", [BGNBD, MBGNBD])
@pytest.mark.parametrize(("x", "tx", "T"), HISTORIES)
@pytest.mark.parametrize("t", [0.5, 39.0, 300.0])
def test_beta_geometric_pmf_sums_to_one_and_its_mean_is_the_expectation(
    cls: type[BGNBD], x: int, tx: float, T: float, t: float
) -> None:
    m = _beta_geometric(cls)
    n = np.arange(4000.0)
    p = m.conditional_probability_of_purchases(n, t, x, tx, T)
    assert p.sum() == pytest.approx(1.0, abs=1e-8)
    mean = float(np.sum(n * p))
    expected = float(m.conditional_expected_purchases(t, x, tx, T))
    assert mean == pytest.approx(expected, rel=1e-6, abs=1e-10)


@pytest.mark.parametrize("cls", [BGNBD, MBGNBD])
def test_beta_geometric_pmf_for_a_heavy_buyer_does_not_overflow(cls: type[BGNBD]) -> None:
    m = _beta_geometric(cls)
    n = np.arange(30_000.0)
    p = m.conditional_probability_of_purchases(n, 39.0, 10_000, 38.8, 38.86)
    assert np.all(np.isfinite(p))
    assert p.sum() == pytest.approx(1.0, abs=1e-8)
    expected = float(m.conditional_expected_purchases(39.0, 10_000, 38.8, 38.86))
    assert float(np.sum(n * p)) == pytest.approx(expected, rel=1e-6)
    far = m.conditional_probability_of_purchases([0, 1, 1000, 100_000], 39.0, 10_000, 1.0, 38.86)
    assert np.all(np.isfinite(far)) and far[0] == pytest.approx(1.0)


def test_bgnbd_customer_without_history_is_a_new_customer() -> None:
    """x = 0, T = 0 is the unconditional pmf; x = 0 at T is a new customer with alpha + T."""
    m = _beta_geometric(BGNBD)
    n = np.arange(6.0)
    np.testing.assert_allclose(
        m.conditional_probability_of_purchases(n, 39.0, 0, 0.0, 0.0),
        m.probability_of_purchases(n, 39.0),
        rtol=1e-10,
    )
    later = BGNBD.from_params(**{**BG, "alpha": BG["alpha"] + 20.0})
    np.testing.assert_allclose(
        m.conditional_probability_of_purchases(n, 39.0, 0, 0.0, 20.0),
        later.probability_of_purchases(n, 39.0),
        rtol=1e-10,
    )


def test_mbgnbd_customer_without_repeat_purchase_mixes_dead_and_alive() -> None:
    """MBG/NBD, x = 0: dead with 1 - P(alive); alive, a BG/NBD customer with b + 1."""
    m = _beta_geometric(MBGNBD)
    n = np.arange(6.0)
    alive = float(m.probability_alive(0, 0.0, 20.0))
    assert 0 < alive < 1
    after = BGNBD.from_params(**{**BG, "alpha": BG["alpha"] + 20.0, "b": BG["b"] + 1.0})
    expected = alive * after.probability_of_purchases(n, 39.0)
    expected[0] += 1.0 - alive
    np.testing.assert_allclose(
        m.conditional_probability_of_purchases(n, 39.0, 0, 0.0, 20.0), expected, rtol=1e-10
    )


@pytest.mark.parametrize("cls", [BGNBD, MBGNBD])
def test_beta_geometric_pmf_at_t_zero_is_no_purchase(cls: type[BGNBD]) -> None:
    m = _beta_geometric(cls)
    p = m.conditional_probability_of_purchases([0, 1, 5], 0.0, 3, 20.0, 30.0)
    assert p.tolist() == [1.0, 0.0, 0.0]


def _simulate_beta_geometric(
    params: dict[str, float], n: int, T: float, t: float, modified: bool, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x, t_x, purchases in (T, T + t]) of n simulated customers (exact event times)."""
    rng = np.random.default_rng(seed)
    lam = rng.gamma(params["r"], 1.0 / params["alpha"], n)
    p = rng.beta(params["a"], params["b"], n)
    alive = rng.random(n) >= p if modified else np.ones(n, dtype=bool)
    clock = np.zeros(n)
    x, tx, future = np.zeros(n), np.zeros(n), np.zeros(n)
    while alive.any():  # one purchase of every alive customer per step
        idx = np.flatnonzero(alive)
        clock[idx] += rng.exponential(1.0 / lam[idx])
        over = clock[idx] > T + t
        alive[idx[over]] = False
        buy = idx[~over]
        past = clock[buy] <= T
        x[buy[past]] += 1
        tx[buy[past]] = clock[buy[past]]
        future[buy[~past]] += 1
        alive[buy[rng.random(buy.size) < p[buy]]] = False
    return x, tx, future


@pytest.mark.parametrize("cls", [BGNBD, MBGNBD])
def test_beta_geometric_pmf_matches_a_simulation(cls: type[BGNBD]) -> None:
    params = {"r": 0.8, "alpha": 6.0, "a": 0.9, "b": 2.0}
    m = _beta_geometric(cls, params)
    T, t = 30.0, 20.0
    x, tx, future = _simulate_beta_geometric(params, 30_000, T, t, cls is MBGNBD, seed=7)
    k = np.arange(6.0)
    probs = m.conditional_probability_of_purchases(k[None, :], t, x[:, None], tx[:, None], T)
    # over the whole base: the mean conditional pmf is the share of customers buying k
    observed = np.array([np.mean(future == j) for j in k])
    np.testing.assert_allclose(probs.mean(axis=0), observed, atol=0.012)
    # customers without repeat purchases share one history: compare them directly
    none = x == 0
    observed_none = np.array([np.mean(future[none] == j) for j in k])
    np.testing.assert_allclose(probs[none][0], observed_none, atol=0.015)


# --------------------------------------------------------------------------- BG/BB
@pytest.mark.parametrize(("x", "tx", "n"), [(0, 0, 6), (3, 4, 6), (6, 6, 6), (0, 0, 0)])
@pytest.mark.parametrize("horizon", [1, 5, 40])
def test_bgbb_pmf_sums_to_one_and_its_mean_is_the_expectation(
    x: int, tx: int, n: int, horizon: int
) -> None:
    m = BGBB.from_params(**BB)
    k = np.arange(horizon + 1.0)
    p = m.conditional_probability_of_purchases(k, horizon, x, tx, n)
    assert p.sum() == pytest.approx(1.0, abs=1e-8)
    expected = float(m.conditional_expected_purchases(horizon, x, tx, n))
    assert float(np.sum(k * p)) == pytest.approx(expected, rel=1e-6, abs=1e-12)
    assert float(m.conditional_probability_of_purchases(horizon + 1, horizon, x, tx, n)) == 0.0


def test_bgbb_closed_cases() -> None:
    m = BGBB.from_params(**BB)
    k = np.arange(7.0)
    # no history: a new customer
    np.testing.assert_allclose(
        m.conditional_probability_of_purchases(k, 6, 0, 0, 0),
        m.probability_of_purchases(k, 6),
        rtol=1e-10,
    )
    # no future opportunity: no transaction
    assert m.conditional_probability_of_purchases([0, 1], 0, 3, 4, 6).tolist() == [1.0, 0.0]
    # large histories and horizons stay finite
    big = m.conditional_probability_of_purchases(np.arange(301.0), 300, 5_000, 9_000, 10_000)
    assert np.all(np.isfinite(big)) and big.sum() == pytest.approx(1.0, abs=1e-8)


def _simulate_bgbb(
    params: dict[str, float], n_customers: int, n: int, horizon: int, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    p = rng.beta(params["alpha"], params["beta"], n_customers)
    theta = rng.beta(params["gamma"], params["delta"], n_customers)
    alive = np.ones(n_customers, dtype=bool)
    x, tx, future = np.zeros(n_customers), np.zeros(n_customers), np.zeros(n_customers)
    for j in range(1, n + horizon + 1):  # a loop over opportunities, not customers
        alive &= rng.random(n_customers) >= theta
        buy = alive & (rng.random(n_customers) < p)
        if j <= n:
            x += buy
            tx = np.where(buy, float(j), tx)
        else:
            future += buy
    return x, tx, future


def test_bgbb_pmf_matches_a_simulation() -> None:
    m = BGBB.from_params(**BB)
    x, tx, future = _simulate_bgbb(BB, 40_000, 6, 5, seed=11)
    k = np.arange(6.0)
    for hist in [(0.0, 0.0), (6.0, 6.0), (3.0, 4.0)]:
        group = (x == hist[0]) & (tx == hist[1])
        assert group.sum() > 500
        observed = np.array([np.mean(future[group] == j) for j in k])
        expected = m.conditional_probability_of_purchases(k, 5, hist[0], hist[1], 6)
        # four standard errors of a share
        tolerance = 4.0 * np.sqrt(expected * (1.0 - expected) / group.sum()) + 1e-3
        assert np.all(np.abs(expected - observed) <= tolerance)


# -------------------------------------------------------------------- all of them
@given(
    params=st.lists(st.floats(0.05, 50.0), min_size=4, max_size=4),
    x=st.integers(0, 60),
    gap=st.floats(0.0, 1.0),
    T=st.floats(0.0, 200.0),
    t=st.floats(0.0, 500.0),
    n=st.integers(0, 200),
    modified=st.booleans(),
)
def test_beta_geometric_pmf_is_a_probability(
    params: list[float], x: int, gap: float, T: float, t: float, n: int, modified: bool
) -> None:
    cls = MBGNBD if modified else BGNBD
    m = cls.from_params(**dict(zip(("r", "alpha", "a", "b"), params, strict=True)))
    tx = 0.0 if x == 0 else T * gap
    p = m.conditional_probability_of_purchases(np.arange(n + 1.0), t, x, tx, T)
    assert np.all((p >= 0.0) & (p <= 1.0))
    assert p.sum() <= 1.0 + 1e-9


@given(
    params=st.lists(st.floats(0.05, 50.0), min_size=4, max_size=4),
    n=st.integers(0, 40),
    x=st.integers(0, 40),
    last=st.integers(0, 40),
    horizon=st.integers(0, 40),
)
def test_bgbb_pmf_is_a_probability(
    params: list[float], n: int, x: int, last: int, horizon: int
) -> None:
    m = BGBB.from_params(**dict(zip(("alpha", "beta", "gamma", "delta"), params, strict=True)))
    x = min(x, n)
    tx = 0 if x == 0 else max(x, min(last, n))
    p = m.conditional_probability_of_purchases(np.arange(horizon + 1.0), horizon, x, tx, n)
    assert np.all((p >= 0.0) & (p <= 1.0))
    assert p.sum() == pytest.approx(1.0, abs=1e-8)


def test_predict_gives_the_pmf_for_every_purchase_model() -> None:
    bb = BGBB.from_params(**BB)
    s = pd.DataFrame({"frequency": [0, 3, 6], "recency": [0, 4, 6], "periods": [6, 6, 6]})
    out = bb.predict(s, horizon=5, pmf=2, customer_col=None)
    assert list(out.columns) == ["p_alive", "expected_purchases", "p_0", "p_1", "p_2"]
    for j in range(3):
        np.testing.assert_allclose(
            out[f"p_{j}"], bb.conditional_probability_of_purchases(j, 5, s), rtol=1e-12
        )
    bg = BGNBD.from_params(**BG)
    s = pd.DataFrame({"frequency": [0, 2, 2], "recency": [0.0, 30.43, 30.43], "T": [38.86] * 3})
    out = bg.predict(s, horizon=39, pmf=1, customer_col=None)
    np.testing.assert_allclose(out["p_1"], bg.conditional_probability_of_purchases(1, 39, s))
    assert out["p_1"][1] == out["p_1"][2]


def test_pmf_arguments_are_checked() -> None:
    bg = BGNBD.from_params(**BG)
    with pytest.raises(DataError, match="'n' is not an integer"):
        bg.conditional_probability_of_purchases(1.5, 39, 2, 30.43, 38.86)
    with pytest.raises(DataError, match="'t' is negative"):
        bg.conditional_probability_of_purchases(1, -1, 2, 30.43, 38.86)
    with pytest.raises(DataError, match="'recency' is larger than T"):
        bg.conditional_probability_of_purchases(1, 39, 2, 40.0, 38.86)
    bb = BGBB.from_params(**BB)
    with pytest.raises(DataError, match="'n' is not an integer"):
        bb.conditional_probability_of_purchases(1, 2.5, 3, 4, 6)
    with pytest.raises(DataError, match="'x' is negative"):
        bb.conditional_probability_of_purchases(-1, 2, 3, 4, 6)
