from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmmodels.datasets._crm import simulate_crm
from crmmodels.errors import ArgumentError, DataError, SchemaError
from crmmodels.idic import DifferentiationResult, differentiate


@pytest.fixture(scope="module")
def crm():  # type: ignore[no-untyped-def]
    return simulate_crm(400, seed=11)


def _tiers(purchases: pd.DataFrame) -> pd.DataFrame:
    value = purchases.groupby("customer_id")["amount"].sum().sort_values(ascending=False)
    share = value.cumsum() / value.sum()
    tier = np.where(share <= 0.8, "A", np.where(share <= 0.95, "B", "C"))
    return pd.DataFrame({"customer_id": value.index, "tier": tier})


def test_recovers_simulated_needs_segments(crm) -> None:  # type: ignore[no-untyped-def]
    from sklearn.metrics import adjusted_rand_score

    res = differentiate(
        crm.purchases, category_col="category", channel_col="channel", tiers=_tiers(crm.purchases)
    )
    assert isinstance(res, DifferentiationResult)
    assert res.k == 3
    assert res.silhouette["k"].tolist() == [2, 3, 4, 5, 6, 7, 8]
    assert res.silhouette.set_index("k")["silhouette"].idxmax() == 3
    merged = res.customers.merge(crm.customers, on="customer_id")
    ari = adjusted_rand_score(merged["needs_segment"], merged["segment"])
    assert ari > 0.8
    # segment labels name the dominant category/channel of the simulated segments
    labels = set(res.profiles["segment_label"])
    assert {"books/web", "electronics/app"} <= labels


def test_matrix_and_shares_match_plain_pandas(crm) -> None:  # type: ignore[no-untyped-def]
    p = crm.purchases
    tiers = _tiers(p)
    res = differentiate(p, channel_col="channel", tiers=tiers, k=3)
    cust = res.customers.set_index("customer_id")
    # shares: independent pandas computation
    by_cat = p.pivot_table(index="customer_id", columns="category", values="amount", aggfunc="sum")
    by_cat = by_cat.fillna(0.0)
    want = by_cat.div(by_cat.sum(axis=1), axis=0)
    for c in want.columns:
        np.testing.assert_allclose(cust[f"cat:{c}"].to_numpy(), want[c].to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(
        cust["value"].to_numpy(), p.groupby("customer_id")["amount"].sum().to_numpy()
    )
    # value x needs matrix equals a plain crosstab of the per-customer table
    ct = pd.crosstab(cust["tier"], cust["segment_label"])
    pd.testing.assert_frame_equal(
        res.matrix_counts.sort_index(axis=1), ct.sort_index(axis=1), check_names=False
    )
    assert res.matrix_counts.to_numpy().sum() == p["customer_id"].nunique()
    assert res.matrix_value.to_numpy().sum() == pytest.approx(p["amount"].sum())
    prof = res.profiles.set_index("segment")
    assert prof["n_customers"].sum() == len(cust)
    assert prof["value"].sum() == pytest.approx(p["amount"].sum())


def test_deterministic_and_row_order_independent(crm) -> None:  # type: ignore[no-untyped-def]
    p = crm.purchases
    a = differentiate(p, channel_col="channel", k=3, seed=4)
    b = differentiate(p.sample(frac=1.0, random_state=2), channel_col="channel", k=3, seed=4)
    pd.testing.assert_frame_equal(a.customers, b.customers, check_exact=False, rtol=1e-10)
    assert a.matrix_counts.equals(b.matrix_counts)


def test_untiered_no_spend_and_tier_only_customers_are_kept() -> None:
    p = pd.DataFrame(
        {
            "customer_id": [1, 1, 2, 3, 4, 5, 6],
            "category": ["a", "b", "a", "b", "b", "a", "a"],
            "amount": [5.0, 5.0, 3.0, 4.0, 0.0, 7.0, 2.0],
        }
    )
    tiers = pd.DataFrame({"customer_id": [1, 2, 3, 4, 9], "tier": ["A", "B", "B", "C", "A"]})
    before = p.copy()
    res = differentiate(p, tiers=tiers, k=2)
    pd.testing.assert_frame_equal(p, before)
    cust = res.customers.set_index("customer_id")
    assert len(cust) == 7  # 6 buyers + customer 9 with a tier only
    assert res.n_untiered == 2 and set(cust.index[cust["tier"] == "untiered"]) == {5, 6}
    assert res.n_tier_only == 1 and cust.loc[9, "segment"] == -1
    assert res.n_no_spend == 2  # customer 4 (zero spend) and 9 (no purchases)
    assert cust.loc[4, "segment_label"] == "no spend"
    assert "no spend" in res.matrix_counts.columns
    assert res.matrix_counts.to_numpy().sum() == 7


@settings(max_examples=15, deadline=None)
@given(st.integers(min_value=6, max_value=40), st.integers(min_value=0, max_value=10_000))
def test_property_each_customer_one_segment(n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    p = pd.DataFrame(
        {
            "customer_id": rng.integers(0, n, 4 * n),
            "category": rng.choice(["x", "y", "z"], 4 * n),
            "amount": rng.gamma(2.0, 10.0, 4 * n),
        }
    )
    res = differentiate(p, k=2, seed=seed)
    cust = res.customers
    assert cust["customer_id"].is_unique
    assert len(cust) == p["customer_id"].nunique()
    assert set(cust["segment"]) <= {0, 1}
    shares = cust[[c for c in cust.columns if c.startswith("cat:")]].sum(axis=1)
    np.testing.assert_allclose(shares.to_numpy(), 1.0)


def test_bad_inputs() -> None:
    p = pd.DataFrame({"customer_id": [1, 2, 3], "category": ["a", "b", "a"], "amount": [1, 2, 3]})
    with pytest.raises(SchemaError, match="category_col and/or channel_col"):
        differentiate(p, category_col=None)
    with pytest.raises(SchemaError, match="'amount'"):
        differentiate(p.rename(columns={"amount": "amt"}))
    with pytest.raises(DataError, match="'customer_id' is null"):
        differentiate(p.assign(customer_id=[1, None, 3]))
    dup = pd.DataFrame({"customer_id": [1, 1], "tier": ["A", "B"]})
    with pytest.raises(DataError, match="duplicate customers"):
        differentiate(p, tiers=dup, k=2)
    with pytest.raises(SchemaError, match="tiers has no column 'tier'"):
        differentiate(p, tiers=dup.rename(columns={"tier": "cls"}), k=2)
    with pytest.raises(DataError, match="need at least 5"):
        differentiate(p, k=5)
    with pytest.raises(ArgumentError, match="k must be a whole number >= 1"):
        differentiate(p, k=0)


def test_plot_and_repr(crm) -> None:  # type: ignore[no-untyped-def]
    res = differentiate(crm.purchases, tiers=_tiers(crm.purchases), k=3)
    ax = res.plot()
    assert ax.get_ylabel() == "value tier" and "k = 3" in ax.get_title()
    ax2 = res.plot(what="value")
    assert "value" in ax2.get_title()
    with pytest.raises(ValueError, match="what must be"):
        res.plot(what="nope")
    assert "DifferentiationResult(" in repr(res) and "k=3" in repr(res)
