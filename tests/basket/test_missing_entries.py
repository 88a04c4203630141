"""Unknown entries of a one-hot frame (allow_missing): definition, mlxtend, errors."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mlxtend.frequent_patterns import association_rules as mlx_rules
from mlxtend.frequent_patterns import fpgrowth as mlx_fpgrowth

from crmmodels.basket import RULE_METRICS, association_rules, frequent_itemsets
from crmmodels.errors import ArgumentError, DataError, SchemaError
from crmmodels.kernels.basket_missing import (
    MissingIncidence,
    count_present_and_unknown,
    mine_itemsets_missing,
)

MLX = {m: m.replace("_", " ") if m.endswith("_support") else m for m in RULE_METRICS}


def random_onehot(seed: int, n: int, m: int, density: float, unknown: float) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    values = (rng.random((n, m)) < density).astype(float)
    values[rng.random((n, m)) < unknown] = np.nan
    return pd.DataFrame(values, columns=[f"i{j}" for j in range(m)])


def brute_support(values: np.ndarray, items: tuple[int, ...]) -> tuple[int, int]:
    sub = values[:, list(items)]
    return int((sub == 1).all(axis=1).sum()), int((~np.isnan(sub)).all(axis=1).sum())


def brute_force(values: np.ndarray, min_support: float) -> dict[tuple[int, ...], float]:
    """Itemsets whose support, and every subset's, reaches min_support (our definition)."""
    found: dict[tuple[int, ...], float] = {}
    for k in range(1, values.shape[1] + 1):
        for items in itertools.combinations(range(values.shape[1]), k):
            if k > 1 and any(sub not in found for sub in itertools.combinations(items, k - 1)):
                continue
            n, observed = brute_support(values, items)
            if observed and n and n >= min_support * observed * (1 - 1e-12):
                found[items] = n / observed
    return found


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**16),
    n=st.integers(1, 30),
    m=st.integers(1, 6),
    density=st.floats(0.1, 0.9),
    unknown=st.floats(0.0, 0.4),
    min_support=st.floats(0.05, 1.0),
)
def test_supports_and_itemsets_match_the_definition(
    seed: int, n: int, m: int, density: float, unknown: float, min_support: float
) -> None:
    frame = random_onehot(seed, n, m, density, unknown)
    got = frequent_itemsets(frame, min_support=min_support, allow_missing=True).to_frame()
    index = {c: j for j, c in enumerate(frame.columns)}
    ours = {
        tuple(sorted(index[x] for x in s)): v
        for s, v in zip(got["itemsets"], got["support"], strict=True)
    }
    want = brute_force(frame.to_numpy(), min_support)
    assert ours.keys() == want.keys()
    assert all(ours[k] == want[k] for k in ours)  # both are the same ratio of counts


def test_kernel_counts_on_a_hand_example() -> None:
    # baskets: 0 {a, b}, 1 {a, b?}, 2 {b}, 3 {a?}
    inc = MissingIncidence.from_pairs(
        np.array([0, 0, 1, 2]),
        np.array([0, 1, 0, 1]),
        np.array([1, 3]),
        np.array([1, 0]),
        n_baskets=4,
        n_items=2,
    )
    lv = mine_itemsets_missing(inc, min_support=0.5)
    assert [x.tolist() for x in lv.itemsets] == [[[0], [1]], [[0, 1]]]
    assert [c.tolist() for c in lv.counts] == [[2, 2], [1]]
    assert [o.tolist() for o in lv.observed] == [[3, 3], [2]]
    # baskets holding a with b unknown: basket 1; holding b with a unknown: none
    got = count_present_and_unknown(inc, np.array([[0], [1]]), np.array([[1], [0]]))
    assert got.tolist() == [1, 0]


@pytest.mark.parametrize(
    ("seed", "n", "m", "density", "unknown", "min_support"),
    [(0, 40, 5, 0.6, 0.15, 0.3), (1, 60, 6, 0.5, 0.1, 0.2), (2, 25, 4, 0.8, 0.3, 0.5)],
)
def test_supports_and_rules_match_mlxtend(seed, n, m, density, unknown, min_support) -> None:
    frame = random_onehot(seed, n, m, density, unknown)
    fi = frequent_itemsets(frame, min_support=min_support, allow_missing=True)
    ours = fi.to_frame()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = mlx_fpgrowth(frame, min_support=min_support, null_values=True, use_colnames=True)
    a = dict(zip(ours["itemsets"], ours["support"], strict=True))
    b = dict(zip(ref["itemsets"], ref["support"], strict=True))
    common = a.keys() & b.keys()
    assert len(common) > 5
    assert max(abs(a[k] - b[k]) for k in common) <= 1e-12
    # mlxtend's itemsets differ only where its definition does: it keeps sets with an
    # infrequent subset, and drops sets whose count with unknowns taken as present is low
    values = frame.to_numpy()
    pos = {c: j for j, c in enumerate(frame.columns)}
    for s in b.keys() - a.keys():
        items = sorted(pos[x] for x in s)
        subsets = itertools.combinations(items, len(items) - 1)
        assert any(frozenset(frame.columns[list(t)]) not in a for t in subsets)
    for s in a.keys() - b.keys():
        sub = values[:, sorted(pos[x] for x in s)]
        assert ((sub == 1) | np.isnan(sub)).all(axis=1).sum() < np.ceil(min_support * n)
    # the rule metrics: mlxtend computes them from our itemsets and the frame
    rules = association_rules(fi, min_threshold=0.0).to_frame()
    ids = {c: j for j, c in enumerate(frame.columns)}
    as_ids = ours.assign(itemsets=ours["itemsets"].map(lambda s: frozenset(ids[x] for x in s)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref_rules = mlx_rules(
            as_ids,
            n,
            frame.set_axis(range(m), axis=1),
            null_values=True,
            min_threshold=0.0,
        )
    assert len(rules) == len(ref_rules) > 5
    names = np.asarray(frame.columns)
    ref_rules["antecedents"] = ref_rules["antecedents"].map(lambda s: frozenset(names[list(s)]))
    ref_rules["consequents"] = ref_rules["consequents"].map(lambda s: frozenset(names[list(s)]))
    merged = rules.merge(
        ref_rules.rename(columns={v: k + "_ref" for k, v in MLX.items()}),
        on=["antecedents", "consequents"],
    )
    assert len(merged) == len(rules)
    for name in RULE_METRICS:
        x, y = merged[name].to_numpy(float), merged[name + "_ref"].to_numpy(float)
        assert np.array_equal(np.isinf(x), np.isinf(y)), name
        fin = np.isfinite(x)
        np.testing.assert_allclose(x[fin], y[fin], rtol=1e-12, atol=1e-12, err_msg=name)
    assert (merged["representativity"] < 1).any()


def test_the_same_rules_from_the_result_the_frame_and_the_onehot_frame() -> None:
    frame = random_onehot(5, 50, 5, 0.6, 0.1)
    fi = frequent_itemsets(frame, min_support=0.3, allow_missing=True)
    direct = association_rules(fi, min_threshold=0.0).to_frame()
    mined = association_rules(
        frame, min_support=0.3, allow_missing=True, min_threshold=0.0
    ).to_frame()
    from_frame = association_rules(
        fi.to_frame(), transactions=frame, allow_missing=True, min_threshold=0.0
    ).to_frame()
    pd.testing.assert_frame_equal(direct, mined)
    pd.testing.assert_frame_equal(direct, from_frame)


def test_without_unknown_entries_nothing_changes() -> None:
    frame = random_onehot(6, 50, 5, 0.5, 0.0)
    plain = association_rules(frame, min_support=0.2, min_threshold=0.0).to_frame()
    allowed = association_rules(
        frame, min_support=0.2, min_threshold=0.0, allow_missing=True
    ).to_frame()
    counted = association_rules(
        frequent_itemsets(frame, min_support=0.2).to_frame(),
        transactions=frame,
        min_threshold=0.0,
    ).to_frame()
    pd.testing.assert_frame_equal(plain, allowed)
    pd.testing.assert_frame_equal(plain, counted)
    assert (plain["representativity"] == 1.0).all()


def test_mistakes_are_named() -> None:
    frame = random_onehot(7, 30, 4, 0.6, 0.2)
    with pytest.raises(DataError, match=r"'i\d' is null in \d+ rows?.*allow_missing=True"):
        frequent_itemsets(frame, min_support=0.3)
    fi = frequent_itemsets(frame, min_support=0.3, allow_missing=True)
    table = fi.to_frame()
    assert table.attrs["n_missing_entries"] == fi.n_missing_entries > 0
    with pytest.raises(DataError, match="unknown entries; pass that frame as transactions="):
        association_rules(table)
    with pytest.raises(ArgumentError, match="transactions="):
        association_rules(table, allow_missing=True)
    with pytest.raises(DataError, match="is null"):
        association_rules(table, transactions=frame)
    with pytest.raises(ArgumentError, match="ItemsetsResult keeps"):
        association_rules(fi, transactions=frame)
    with pytest.raises(ArgumentError, match="transactions is for an itemsets frame"):
        association_rules(frame, min_support=0.3, transactions=frame, allow_missing=True)
    with pytest.raises(SchemaError, match="no column for 1 item"):
        association_rules(table, transactions=frame.drop(columns="i0"), allow_missing=True)
    other = random_onehot(8, 30, 4, 0.6, 0.2)
    with pytest.raises(DataError, match="differ from the counts in transactions"):
        association_rules(table, transactions=other, allow_missing=True)
    with pytest.raises(ArgumentError, match="allow_missing"):
        frequent_itemsets(frame, min_support=0.3, allow_missing="yes")
