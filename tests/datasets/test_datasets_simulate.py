"""simulate_transactions / simulate_summary: exact continuous-time draws with known truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crmmodels.clv import BGNBD, MBGNBD
from crmmodels.datasets._simulate import simulate_summary, simulate_transactions
from crmmodels.errors import DataError


def _summary_from_log(tx: pd.DataFrame, start: str, weeks: float) -> pd.DataFrame:
    """Plain pandas, written independently: continuous-time summary in weeks."""
    end = pd.Timestamp(start) + pd.Timedelta(days=7 * weeks)
    g = tx.sort_values(["customer_id", "date"]).groupby("customer_id")
    first, last, n = g["date"].min(), g["date"].max(), g.size()
    week = pd.Timedelta(days=7)
    return pd.DataFrame(
        {
            "frequency": n - 1,
            "recency": (last - first) / week,
            "T": (end - first) / week,
        }
    )


def test_log_matches_true_summary() -> None:
    tx = simulate_transactions(3000, seed=7)
    truth = simulate_summary(3000, seed=7).set_index("customer_id")
    assert list(tx.columns) == ["customer_id", "date", "amount"]
    assert tx["customer_id"].nunique() == 3000
    ours = _summary_from_log(tx, "1997-01-01", 39.0)
    np.testing.assert_array_equal(ours["frequency"], truth["frequency"])
    np.testing.assert_allclose(ours["recency"], truth["recency"], atol=1e-9)
    np.testing.assert_allclose(ours["T"], truth["T"], atol=1e-9)
    repeat = tx[tx.groupby("customer_id").cumcount() > 0]
    mean_rep = repeat.groupby("customer_id")["amount"].mean()
    np.testing.assert_allclose(truth.loc[mean_rep.index, "monetary_value"], mean_rep, 1e-12)
    assert (truth.loc[truth["frequency"] == 0, "monetary_value"] == 0).all()


def test_times_of_day_are_kept_and_purchases_never_merged() -> None:
    tx = simulate_transactions(2000, seed=3)
    assert (tx["date"].dt.floor("D") != tx["date"]).mean() > 0.99
    same_day = tx.assign(day=tx["date"].dt.floor("D")).duplicated(["customer_id", "day"])
    assert same_day.sum() > 0  # several purchases on one day stay separate rows
    assert tx["date"].min() >= pd.Timestamp("1997-01-01")
    assert tx["date"].max() <= pd.Timestamp("1997-01-01") + pd.Timedelta(weeks=39)
    assert (tx["amount"] > 0).all()


def test_seed_reproducible_and_start_respected() -> None:
    a = simulate_transactions(500, seed=1, start="2020-03-01")
    b = simulate_transactions(500, seed=1, start="2020-03-01")
    pd.testing.assert_frame_equal(a, b)
    assert a["date"].min() >= pd.Timestamp("2020-03-01")
    c = simulate_transactions(500, seed=2, start="2020-03-01")
    assert not a["amount"].equals(c["amount"])


def test_bgnbd_moments_match_the_model() -> None:
    # mean repeat purchases in (0, T] equals E[X(T)] averaged over the customers' T
    params = {"r": 0.6, "alpha": 5.0, "a": 1.2, "b": 3.0}
    s = simulate_summary(40_000, "bgnbd", params, observation_weeks=30, acquisition_weeks=0, seed=5)
    model = BGNBD.from_params(**params)
    expected = float(model.expected_purchases(30.0))
    se = s["frequency"].std() / np.sqrt(len(s))
    assert abs(s["frequency"].mean() - expected) < 4 * se
    # share with no repeat purchase equals P(X(30) = 0)
    p0 = float(model.probability_of_purchases(0, 30.0))
    assert abs((s["frequency"] == 0).mean() - p0) < 4 * np.sqrt(p0 * (1 - p0) / len(s))
    # P(alive) averages to the true share alive (posterior mean identity)
    pa = model.probability_alive(s["frequency"], s["recency"], s["T"]).mean()
    assert abs(pa - s["alive"].mean()) < 0.01


def test_mbgnbd_and_pareto_variants() -> None:
    params = {"r": 0.5, "alpha": 6.0, "a": 0.9, "b": 1.6}
    s = simulate_summary(30_000, "mbgnbd", params, acquisition_weeks=0, seed=9)
    model = MBGNBD.from_params(**params)
    expected = float(model.expected_purchases(39.0))
    assert abs(s["frequency"].mean() - expected) < 4 * s["frequency"].std() / np.sqrt(len(s))
    pareto = simulate_summary(
        20_000, "paretonbd", {"r": 0.55, "alpha": 10.6, "s": 0.61, "beta": 11.7}, seed=4
    )
    assert {"mu", "lambda", "alive"} <= set(pareto.columns)
    assert (pareto["recency"] <= pareto["T"]).all()
    # alive customers are exactly those whose lifetime outlasts the observation
    assert 0.3 < pareto["alive"].mean() < 0.9


def test_spend_follows_gamma_gamma() -> None:
    sp = {"p": 4.0, "q": 5.0, "v": 40.0}
    tx = simulate_transactions(20_000, spend_params=sp, seed=8)
    # population mean transaction value p v / (q - 1)
    mean = tx["amount"].mean()
    assert mean == pytest.approx(4.0 * 40.0 / 4.0, rel=0.03)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_customers": 0}, "n_customers"),
        ({"n_customers": 10, "model": "bgbb"}, "model"),
        ({"n_customers": 10, "params": {"r": 1.0}}, "params"),
        ({"n_customers": 10, "params": {"r": 1.0, "alpha": -1, "a": 1, "b": 1}}, "> 0"),
        ({"n_customers": 10, "observation_weeks": 0}, "observation_weeks"),
        ({"n_customers": 10, "acquisition_weeks": 50}, "acquisition_weeks"),
        ({"n_customers": 10, "spend_params": {"p": 1.0, "q": 1.0}}, "spend_params"),
    ],
)
def test_bad_arguments(kwargs: dict, match: str) -> None:
    with pytest.raises(DataError, match=match):
        simulate_transactions(**kwargs)
