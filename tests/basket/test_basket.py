from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from mlxtend.frequent_patterns import association_rules as mlx_rules
from mlxtend.frequent_patterns import fpgrowth

from crmmodels.basket import (
    BundleCandidatesResult,
    CrossSellResult,
    association_rules,
    association_rules_by_segment,
    bundle_candidates,
    cross_sell,
    frequent_itemsets,
)
from crmmodels.datasets._basket import simulate_baskets
from crmmodels.errors import DataError, SchemaError

from _engines import to_engine

METRICS = [
    "antecedent_support",
    "consequent_support",
    "support",
    "confidence",
    "lift",
    "representativity",
    "leverage",
    "conviction",
    "zhangs_metric",
    "jaccard",
    "certainty",
    "kulczynski",
]


def random_log(seed: int, n_baskets: int, n_items: int, density: float) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    p = rng.uniform(0.2, 1.0, n_items) * density
    dense = rng.random((n_baskets, n_items)) < p
    b, i = np.nonzero(dense)
    return pd.DataFrame({"basket": b * 7 + 3, "item": [f"p{j:02d}" for j in i]})


def onehot(log: pd.DataFrame, basket: str = "basket", item: str = "item") -> pd.DataFrame:
    return pd.crosstab(log[basket], log[item]).astype(bool)


def compare_with_mlxtend(log: pd.DataFrame, min_support: float, basket: str, item: str) -> None:
    ours = frequent_itemsets(
        log, basket_col=basket, item_col=item, min_support=min_support
    ).to_frame()
    oh = onehot(log, basket, item)
    ref = fpgrowth(oh, min_support=min_support, use_colnames=True)
    a = dict(zip(ours["itemsets"], ours["support"], strict=True))
    b = dict(zip(ref["itemsets"], ref["support"], strict=True))
    assert a.keys() == b.keys()
    assert len(a) > 5
    assert max(abs(a[k] - b[k]) for k in a) <= 1e-12
    rules = association_rules(ours, metric="confidence", min_threshold=0.0).to_frame()
    ref_rules = mlx_rules(ref, num_itemsets=len(oh), metric="confidence", min_threshold=0.0)
    ref_rules.columns = [c.replace(" ", "_") for c in ref_rules.columns]
    assert len(rules) == len(ref_rules) > 0
    merged = rules.merge(ref_rules, on=["antecedents", "consequents"], suffixes=("", "_ref"))
    assert len(merged) == len(rules)
    # mlxtend's own itemsets frame (no basket count attached) gives the same rules
    from_ref = association_rules(ref, metric="confidence", min_threshold=0.0).to_frame()
    merged = merged.merge(from_ref, on=["antecedents", "consequents"], suffixes=("", "_from_ref"))
    assert len(merged) == len(rules)
    for m in METRICS:
        x, y = merged[m].to_numpy(float), merged[m + "_ref"].to_numpy(float)
        z = merged[m + "_from_ref"].to_numpy(float)
        assert np.array_equal(np.isinf(x), np.isinf(y)), m
        assert np.array_equal(np.isinf(z), np.isinf(y)), m
        fin = np.isfinite(x)
        np.testing.assert_allclose(x[fin], y[fin], rtol=1e-12, atol=1e-12, err_msg=m)
        np.testing.assert_allclose(z[fin], y[fin], rtol=1e-12, atol=1e-12, err_msg=m)


@pytest.mark.parametrize(
    ("seed", "n_baskets", "n_items", "density", "min_support"),
    [(0, 200, 8, 0.5, 0.0525), (1, 1000, 15, 0.3, 0.02005), (2, 60, 6, 0.9, 0.25)],
)
def test_matches_mlxtend_on_random_data(seed, n_baskets, n_items, density, min_support) -> None:
    compare_with_mlxtend(
        random_log(seed, n_baskets, n_items, density), min_support, "basket", "item"
    )


def test_matches_mlxtend_on_simulated_data() -> None:
    tx = simulate_baskets(5000, 120, seed=4).transactions
    compare_with_mlxtend(tx, 0.00505, "basket_id", "item")


def test_conviction_is_inf_when_confidence_is_one() -> None:
    log = pd.DataFrame({"b": [1, 1, 2, 2, 3], "i": ["x", "y", "x", "y", "y"]})
    rules = association_rules(
        log, basket_col="b", item_col="i", min_support=0.1, min_threshold=0
    ).to_frame()
    x_to_y = rules[rules["antecedents"] == frozenset({"x"})].iloc[0]
    assert x_to_y["confidence"] == 1.0 and math.isinf(x_to_y["conviction"])
    # hand-computed: s(x)=2/3, s(y)=1, s(xy)=2/3
    assert x_to_y["lift"] == pytest.approx(1.0)
    assert x_to_y["leverage"] == pytest.approx(0.0)
    y_to_x = rules[rules["antecedents"] == frozenset({"y"})].iloc[0]
    assert y_to_x["confidence"] == pytest.approx(2 / 3)
    assert y_to_x["conviction"] == pytest.approx((1 - 2 / 3) / (1 - 2 / 3))
    assert y_to_x["zhangs_metric"] == 0.0  # denominator 0


def test_hand_computed_itemsets_and_order() -> None:
    log = pd.DataFrame(
        {
            "order": [1, 1, 1, 2, 2, 3, 3, 4],
            "sku": ["a", "b", "c", "a", "b", "a", "c", "b"],
        }
    )
    fi = frequent_itemsets(log, basket_col="order", item_col="sku", min_support=0.5).to_frame()
    got = [(tuple(sorted(s)), v) for s, v in zip(fi["itemsets"], fi["support"], strict=True)]
    assert got == [
        (("a",), 0.75),
        (("b",), 0.75),
        (("c",), 0.5),
        (("a", "b"), 0.5),
        (("a", "c"), 0.5),
    ]
    fi1 = frequent_itemsets(
        log, basket_col="order", item_col="sku", min_support=0.5, max_len=1
    ).to_frame()
    assert len(fi1) == 3


def test_min_support_boundary_is_inclusive() -> None:
    # 7 of 100 baskets hold "x": 0.07 * 100 is 7.000000000000001 in floating point
    log = pd.DataFrame({"b": np.arange(100), "i": ["x"] * 7 + ["y"] * 93})
    fi = frequent_itemsets(log, basket_col="b", item_col="i", min_support=0.07).to_frame()
    assert frozenset({"x"}) in set(fi["itemsets"])


def test_onehot_input_dense_and_sparse_match_log() -> None:
    log = random_log(5, 300, 9, 0.4)
    expect = frequent_itemsets(
        log, basket_col="basket", item_col="item", min_support=0.03
    ).to_frame()
    oh = onehot(log)
    dense = frequent_itemsets(oh, min_support=0.03).to_frame()
    sparse = frequent_itemsets(oh.astype(pd.SparseDtype(bool, False)), min_support=0.03).to_frame()
    ints = frequent_itemsets(oh.astype(int), min_support=0.03).to_frame()
    for got in (dense, sparse, ints):
        pd.testing.assert_frame_equal(got, expect)


def test_onehot_counts_empty_rows_as_baskets() -> None:
    oh = pd.DataFrame({"x": [True, True, False, False], "y": [True, False, False, False]})
    fi = frequent_itemsets(oh, min_support=0.25).to_frame()
    assert dict(zip(fi["itemsets"], fi["support"], strict=True)) == {
        frozenset({"x"}): 0.5,
        frozenset({"y"}): 0.25,
        frozenset({"x", "y"}): 0.25,
    }


def test_rules_from_log_equal_rules_from_itemsets_and_filters() -> None:
    log = random_log(3, 400, 10, 0.5)
    fi = frequent_itemsets(log, basket_col="basket", item_col="item", min_support=0.05).to_frame()
    a = association_rules(fi, metric="lift", min_threshold=1.05).to_frame()
    b = association_rules(
        log,
        basket_col="basket",
        item_col="item",
        min_support=0.05,
        metric="lift",
        min_threshold=1.05,
    ).to_frame()
    pd.testing.assert_frame_equal(a, b)
    assert (a["lift"] >= 1.05).all() and a["lift"].is_monotonic_decreasing
    f = association_rules(
        fi, metric="lift", min_threshold=1.05, filters={"support": (0.06, 0.1), "confidence": 0.3}
    ).to_frame()
    expect = a[(a["support"] >= 0.06) & (a["support"] <= 0.1) & (a["confidence"] >= 0.3)]
    assert 0 < len(f) < len(a)
    pd.testing.assert_frame_equal(f, expect.reset_index(drop=True))


# ------------------------------------------------------------------ properties
logs = st.lists(
    st.tuples(st.integers(0, 25), st.sampled_from(list("abcdefg"))), min_size=1, max_size=120
)


@given(rows=logs, min_support=st.floats(0.05, 1.0), seed=st.integers(0, 2**16))
def test_properties(rows, min_support, seed) -> None:
    log = pd.DataFrame(rows, columns=["b", "i"])
    fi = frequent_itemsets(log, basket_col="b", item_col="i", min_support=min_support).to_frame()
    # row order does not matter
    shuffled = log.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    fi2 = frequent_itemsets(
        shuffled, basket_col="b", item_col="i", min_support=min_support
    ).to_frame()
    pd.testing.assert_frame_equal(fi, fi2)
    pd.testing.assert_frame_equal(
        association_rules(fi, min_threshold=0.0).to_frame(),
        association_rules(fi2, min_threshold=0.0).to_frame(),
    )
    # supports in [0, 1] and downward closed
    support = dict(zip(fi["itemsets"], fi["support"], strict=True))
    assert all(0 < v <= 1 for v in support.values())
    for s, v in support.items():
        for k in range(1, len(s)):
            for sub in itertools.combinations(sorted(s), k):
                assert support[frozenset(sub)] >= v
    rules = association_rules(fi, min_threshold=0.0).to_frame()
    assert rules["support"].between(0, 1).all()
    assert rules["confidence"].between(0, 1 + 1e-15).all()
    singles = rules[(rules["antecedents"].map(len) == 1) & (rules["consequents"].map(len) == 1)]
    lift = {
        (a, c): v
        for a, c, v in zip(
            singles["antecedents"], singles["consequents"], singles["lift"], strict=True
        )
    }
    for (a, c), v in lift.items():
        assert lift[(c, a)] == pytest.approx(v, rel=1e-12)


# ------------------------------------------------------------------ truth recovery
def test_planted_rules_recovered() -> None:
    sim = simulate_baskets(30_000, 200, seed=11, n_rules=6, strength=(0.7, 0.5, 0.6, 0.4, 0.8, 0.5))
    n = sim.transactions["basket_id"].nunique()
    rules = association_rules(
        sim.transactions,
        basket_col="basket_id",
        item_col="item",
        min_support=0.0005,
        metric="lift",
        min_threshold=1.0,
    ).to_frame()
    for a, c, expected in zip(
        sim.planted["antecedents"],
        sim.planted["consequents"],
        sim.planted["expected_confidence"],
        strict=True,
    ):
        hit = rules[(rules["antecedents"] == a) & (rules["consequents"] == c)]
        assert len(hit) == 1, (a, c)
        conf = hit["confidence"].iloc[0]
        se = math.sqrt(expected * (1 - expected) / (hit["antecedent_support"].iloc[0] * n))
        assert abs(conf - expected) < 4.5 * se
        assert hit["lift"].iloc[0] > 2
    # the planted one-to-one rules (both directions) are the pair rules of highest lift
    pairs = rules[
        (rules["antecedents"].map(len) == 1)
        & (rules["consequents"].map(len) == 1)
        & (rules["support"] >= 0.003)
    ]
    planted = {
        a | c
        for a, c in zip(sim.planted["antecedents"], sim.planted["consequents"], strict=True)
        if len(a) == 1
    }
    top = pairs.head(2 * len(planted))
    assert {a | c for a, c in zip(top["antecedents"], top["consequents"], strict=True)} == planted


def test_bundle_candidates_hand_computed_and_planted() -> None:
    log = pd.DataFrame({"o": [1, 1, 2, 2, 3, 4], "i": ["tea", "cake", "tea", "cake", "tea", "pen"]})
    b = bundle_candidates(log, basket_col="o", item_col="i", min_support=0.25, min_lift=1.0)
    assert isinstance(b, BundleCandidatesResult)
    row = b.bundles.iloc[0]
    assert row["itemsets"] == frozenset({"tea", "cake"})
    assert row["support"] == 0.5
    assert row["expected_support"] == pytest.approx(0.75 * 0.5)
    assert row["lift"] == pytest.approx(0.5 / 0.375)
    assert row["score"] == pytest.approx(0.5 - 0.375)
    assert row["all_confidence"] == pytest.approx(0.5 / 0.75)
    assert b.n_bundles == 1 and b.n_considered == 1
    sim = simulate_baskets(20_000, 150, seed=2, n_rules=4)
    fi = frequent_itemsets(
        sim.transactions, basket_col="basket_id", item_col="item", min_support=0.003
    ).to_frame()
    bc = bundle_candidates(fi, min_lift=1.5, top_n=10)
    assert bc.bundles["score"].is_monotonic_decreasing
    assert (bc.bundles["lift"] >= 1.5).all()
    planted = {
        a | c for a, c in zip(sim.planted["antecedents"], sim.planted["consequents"], strict=True)
    }
    assert len(planted & set(bc.bundles["itemsets"].head(6))) >= 3


# ------------------------------------------------------------------ cross-sell
def brute_cross_sell(owned: dict, rules: pd.DataFrame, top_n: int) -> dict:
    out = {}
    for cust, items in owned.items():
        best: dict = {}
        for a, c, conf, lift in zip(
            rules["antecedents"],
            rules["consequents"],
            rules["confidence"],
            rules["lift"],
            strict=True,
        ):
            if a <= items:
                for j in c - items:
                    best[j] = max(best.get(j, -1), conf * lift)
        ranked = sorted(best.items(), key=lambda kv: (-kv[1], kv[0]))[:top_n]
        if ranked:
            out[cust] = ranked
    return out


def test_cross_sell_matches_brute_force() -> None:
    sim = simulate_baskets(4000, 60, seed=7, n_customers=300)
    tx = sim.transactions
    rules = association_rules(
        tx,
        basket_col="basket_id",
        item_col="item",
        min_support=0.004,
        metric="lift",
        min_threshold=1.2,
    ).to_frame()
    before = tx.copy()
    cs = cross_sell(tx, rules, customer_col="customer_id", item_col="item", top_n=3)
    pd.testing.assert_frame_equal(tx, before)
    assert isinstance(cs, CrossSellResult)
    owned = tx.groupby("customer_id")["item"].agg(frozenset).to_dict()
    expect = brute_cross_sell(owned, rules, 3)
    got: dict = {}
    for cust, item, score in zip(
        cs.suggestions["customer_id"], cs.suggestions["item"], cs.suggestions["score"], strict=True
    ):
        got.setdefault(cust, []).append((item, score))
    assert got.keys() == expect.keys()
    for cust in expect:
        assert [i for i, _ in got[cust]] == [i for i, _ in expect[cust]]
        np.testing.assert_allclose(
            [s for _, s in got[cust]], [s for _, s in expect[cust]], rtol=1e-12
        )
    assert cs.n_customers == tx["customer_id"].nunique()
    assert cs.n_without_suggestions == cs.n_customers - len(expect)
    assert cs.suggestions.groupby("customer_id")["rank"].max().max() <= 3


def test_cross_sell_by_segment() -> None:
    tx = pd.DataFrame(
        {
            "cust": [1, 1, 2, 3, 3],
            "seg": ["a", "a", "b", "b", "b"],
            "item": ["x", "z", "x", "y", "q"],
        }
    )
    rules = pd.DataFrame(
        {
            "seg": ["a", "b", "b"],
            "antecedents": [frozenset({"x"}), frozenset({"x"}), frozenset({"y"})],
            "consequents": [frozenset({"y"}), frozenset({"w"}), frozenset({"x", "q"})],
            "confidence": [0.5, 0.9, 0.4],
            "lift": [2.0, 3.0, 1.5],
        }
    )
    cs = cross_sell(tx, rules, customer_col="cust", segment_col="seg")
    got = cs.suggestions[["cust", "seg", "item", "score"]].to_dict("list")
    assert got == {
        "cust": [1, 2, 3],
        "seg": ["a", "b", "b"],
        "item": ["y", "w", "x"],
        "score": [1.0, pytest.approx(2.7), pytest.approx(0.6)],
    }
    mapping = {s: r.drop(columns="seg") for s, r in rules.groupby("seg")}
    cs2 = cross_sell(tx, mapping, customer_col="cust", segment_col="seg")
    pd.testing.assert_frame_equal(cs.suggestions, cs2.suggestions)
    with pytest.raises(SchemaError, match="need segment_col"):
        cross_sell(tx, mapping, customer_col="cust")
    bad = tx.assign(seg=["a", "b", "b", "b", "b"])
    with pytest.raises(DataError, match="varies within a customer"):
        cross_sell(bad, rules, customer_col="cust", segment_col="seg")


def test_rules_by_segment_equal_per_segment_mining() -> None:
    log = random_log(9, 300, 8, 0.5)
    log["seg"] = np.where(log["basket"] % 2 == 0, "even", "odd")
    r = association_rules_by_segment(
        log,
        segment_col="seg",
        basket_col="basket",
        item_col="item",
        min_support=0.1,
        min_threshold=0.5,
    ).to_frame()
    for seg in ("even", "odd"):
        part = log[log["seg"] == seg]
        expect = association_rules(
            part, basket_col="basket", item_col="item", min_support=0.1, min_threshold=0.5
        ).to_frame()
        got = r[r["seg"] == seg].drop(columns="seg").reset_index(drop=True)
        pd.testing.assert_frame_equal(got, expect)


# ------------------------------------------------------------------ bad input
def test_bad_input() -> None:
    log = pd.DataFrame({"b": [1, 1, 2], "i": ["x", "y", "x"]})
    with pytest.raises(SchemaError, match="no column 'basket'"):
        frequent_itemsets(log, basket_col="basket", item_col="i", min_support=0.5)
    with pytest.raises(DataError, match="'i' is null in 1 row"):
        frequent_itemsets(
            pd.DataFrame({"b": [1, 2], "i": ["x", None]}),
            basket_col="b",
            item_col="i",
            min_support=0.5,
        )
    for bad in (0, 0.0, -0.1, 1.5, True, "0.5", float("nan")):
        with pytest.raises(DataError, match="min_support"):
            frequent_itemsets(log, basket_col="b", item_col="i", min_support=bad)
    with pytest.raises(DataError, match="empty"):
        frequent_itemsets(log.iloc[:0], basket_col="b", item_col="i", min_support=0.5)
    with pytest.raises(DataError, match="max_len"):
        frequent_itemsets(log, basket_col="b", item_col="i", min_support=0.5, max_len=0)
    with pytest.raises(SchemaError, match="both"):
        frequent_itemsets(log, basket_col="b", min_support=0.5)
    with pytest.raises(SchemaError, match="one-hot"):
        frequent_itemsets(log.assign(i=["x", "y", "z"]), min_support=0.5)
    with pytest.raises(DataError, match="null"):
        frequent_itemsets(pd.DataFrame({"x": [1.0, np.nan]}), min_support=0.5)
    with pytest.raises(DataError, match="other than"):
        frequent_itemsets(pd.DataFrame({"x": [1, 2]}), min_support=0.5)
    with pytest.raises(DataError, match="metric"):
        association_rules(log, basket_col="b", item_col="i", min_support=0.5, metric="unicorn")
    with pytest.raises(DataError, match="filters key"):
        association_rules(log, basket_col="b", item_col="i", min_support=0.5, filters={"x": 1})
    with pytest.raises(DataError, match="min_support"):
        association_rules(log, basket_col="b", item_col="i")
    fi = frequent_itemsets(log, basket_col="b", item_col="i", min_support=0.1).to_frame()
    with pytest.raises(DataError, match="closed under subsets"):
        association_rules(fi[fi["itemsets"].map(len) > 1].reset_index(drop=True), min_threshold=0)
    rules = association_rules(fi, min_threshold=0).to_frame()
    with pytest.raises(DataError, match="top_n"):
        cross_sell(log, rules, customer_col="b", item_col="i", top_n=0)
    with pytest.raises(SchemaError, match="rules has no column 'lift'"):
        cross_sell(log, rules.drop(columns="lift"), customer_col="b", item_col="i")
    with pytest.raises(SchemaError, match="no column 'customer_id'"):
        cross_sell(log, rules, item_col="i")
    with pytest.raises(DataError, match="min_size"):
        bundle_candidates(fi, min_size=0)


def test_results_repr_and_plots() -> None:
    import matplotlib.axes

    from crmmodels.plotting.basket import plot_rules, plot_top_rules

    sim = simulate_baskets(3000, 60, seed=1, n_customers=200)
    rules = association_rules(
        sim.transactions,
        basket_col="basket_id",
        item_col="item",
        min_support=0.005,
        metric="lift",
        min_threshold=1.5,
    ).to_frame()
    cs = cross_sell(sim.transactions, rules)
    assert "CrossSellResult(n_customers=200" in repr(cs)
    assert cs.to_dict()["top_n"] == 5
    assert "<table>" in cs._repr_html_()
    assert isinstance(cs.plot(), matplotlib.axes.Axes)
    ax = plot_top_rules(rules, n=5)
    assert len(ax.patches) == 5
    ax = plot_rules(rules)
    assert ax.collections[0].get_offsets().shape == (len(rules), 2)
    fi = frequent_itemsets(
        sim.transactions, basket_col="basket_id", item_col="item", min_support=0.005
    ).to_frame()
    b = bundle_candidates(fi, top_n=4)
    assert len(b.plot().patches) == len(b.bundles) == 4


# ------------------------------------------------------------------ engines
def test_engines(engine: str) -> None:
    log = random_log(4, 120, 6, 0.5).assign(customer=lambda d: d["basket"] % 13)
    expect = frequent_itemsets(
        log, basket_col="basket", item_col="item", min_support=0.1
    ).to_frame()
    got = frequent_itemsets(
        to_engine(log, engine), basket_col="basket", item_col="item", min_support=0.1
    ).to_frame()
    pd.testing.assert_frame_equal(got, expect)
    rules = association_rules(expect, min_threshold=0.5).to_frame()
    cs_expect = cross_sell(log, rules, customer_col="customer", item_col="item")
    cs_got = cross_sell(to_engine(log, engine), rules, customer_col="customer", item_col="item")
    pd.testing.assert_frame_equal(
        cs_got.suggestions.sort_values(["customer", "rank"]).reset_index(drop=True),
        cs_expect.suggestions.sort_values(["customer", "rank"]).reset_index(drop=True),
        check_dtype=False,
    )


def test_no_pairs_gives_empty_rules_bundles_and_suggestions() -> None:
    log = pd.DataFrame({"b": [1, 2, 3, 4], "i": ["x", "y", "x", "z"], "c": [1, 1, 2, 2]})
    before = log.copy()
    fi = frequent_itemsets(log, basket_col="b", item_col="i", min_support=0.2).to_frame()
    assert fi["itemsets"].map(len).max() == 1
    rules = association_rules(fi, min_threshold=0.0).to_frame()
    assert len(rules) == 0
    assert list(rules.columns) == ["antecedents", "consequents", *METRICS]
    assert bundle_candidates(fi).n_bundles == 0
    cs = cross_sell(log, rules, customer_col="c", item_col="i")
    assert len(cs.suggestions) == 0 and cs.n_without_suggestions == 2
    pd.testing.assert_frame_equal(log, before)


def test_integer_items_and_onehot_not_mutated() -> None:
    log = random_log(8, 150, 6, 0.5)
    log["item"] = log["item"].str[1:].astype(int) * 10 + 5  # integer ids, sparse range
    fi = frequent_itemsets(log, basket_col="basket", item_col="item", min_support=0.05).to_frame()
    oh = onehot(log)
    before = oh.copy()
    fi_oh = frequent_itemsets(oh, min_support=0.05).to_frame()
    pd.testing.assert_frame_equal(oh, before)
    assert dict(zip(fi["itemsets"], fi["support"], strict=True)) == dict(
        zip(fi_oh["itemsets"], fi_oh["support"], strict=True)
    )


@given(
    data=st.data(),
    n_baskets=st.integers(2, 40),
    n_items=st.integers(1, 7),
    density=st.floats(0.1, 0.9),
)
def test_matches_mlxtend_property(data, n_baskets, n_items, density) -> None:
    seed = data.draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    oh = pd.DataFrame(
        rng.random((n_baskets, n_items)) < density, columns=[f"i{j}" for j in range(n_items)]
    )
    count = data.draw(st.integers(0, n_baskets - 1))
    min_support = (count + 0.5) / n_baskets  # away from the rounding boundary
    ours = frequent_itemsets(oh, min_support=min_support).to_frame()
    ref = fpgrowth(oh, min_support=min_support, use_colnames=True)
    a = dict(zip(ours["itemsets"], ours["support"], strict=True))
    b = dict(zip(ref["itemsets"], ref["support"], strict=True))
    assert a == b
    if len(ref) and ref["itemsets"].map(len).max() > 1:
        r = association_rules(ours, min_threshold=0.0).to_frame()
        with warnings.catch_warnings():  # mlxtend divides by zero in metrics we do not use
            warnings.simplefilter("ignore", RuntimeWarning)
            m = mlx_rules(ref, num_itemsets=n_baskets, min_threshold=0.0)
        assert len(r) == len(m)
        m.columns = [c.replace(" ", "_") for c in m.columns]
        merged = r.merge(m, on=["antecedents", "consequents"], suffixes=("", "_ref"))
        assert len(merged) == len(r)
        for name in METRICS:
            x, y = merged[name].to_numpy(float), merged[name + "_ref"].to_numpy(float)
            assert np.array_equal(np.isinf(x), np.isinf(y)), name
            fin = np.isfinite(x)
            np.testing.assert_allclose(x[fin], y[fin], rtol=1e-12, atol=1e-12, err_msg=name)
