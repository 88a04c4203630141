from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from crmmodels.kernels import basket as K


def brute_force(dense: np.ndarray, min_count: int, max_len: int | None = None) -> dict:
    n_items = dense.shape[1]
    out = {}
    top = n_items if max_len is None else min(max_len, n_items)
    for k in range(1, top + 1):
        for comb in itertools.combinations(range(n_items), k):
            count = int(dense[:, list(comb)].all(axis=1).sum())
            if count >= min_count:
                out[comb] = count
    return out


def as_dict(levels: K.ItemsetLevels) -> dict:
    return {
        tuple(int(x) for x in row): int(c)
        for rows, counts in zip(levels.itemsets, levels.counts, strict=True)
        for row, c in zip(rows, counts, strict=True)
    }


@given(
    dense=arrays(bool, st.tuples(st.integers(1, 40), st.integers(1, 7))),
    min_count=st.integers(1, 6),
    max_len=st.one_of(st.none(), st.integers(1, 4)),
)
def test_matches_brute_force(dense: np.ndarray, min_count: int, max_len: int | None) -> None:
    b, i = np.nonzero(dense)
    lv = K.mine_itemsets(
        b,
        i,
        n_baskets=dense.shape[0],
        n_items=dense.shape[1],
        min_count=min_count,
        max_len=max_len,
    )
    assert as_dict(lv) == brute_force(dense, min_count, max_len)
    for rows in lv.itemsets:
        assert np.all(np.diff(rows, axis=1) > 0)
        assert np.array_equal(np.lexsort(rows.T[::-1]), np.arange(len(rows)))


def test_dense_random_deeper_levels() -> None:
    rng = np.random.default_rng(0)
    dense = rng.random((300, 10)) < 0.55
    b, i = np.nonzero(dense)
    lv = K.mine_itemsets(b, i, n_baskets=300, n_items=10, min_count=12)
    assert len(lv.itemsets) >= 5
    assert as_dict(lv) == brute_force(dense, 12)


def test_bitset_chunking(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(K, "_CHUNK_BYTES", 64)  # force one candidate per chunk
    rng = np.random.default_rng(1)
    dense = rng.random((500, 8)) < 0.5
    b, i = np.nonzero(dense)
    lv = K.mine_itemsets(b, i, n_baskets=500, n_items=8, min_count=20)
    assert as_dict(lv) == brute_force(dense, 20)


def test_lookup_rows_wide_keys_fall_back_to_bytes() -> None:
    table = np.array([[0, 5, 9], [1, 2, 3], [4, 7, 8]])
    query = np.array([[4, 7, 8], [0, 5, 9], [1, 2, 4]])
    base_small = K.lookup_rows(table, query, base=10)
    base_huge = K.lookup_rows(table, query, base=2**40)  # base**3 overflows int64
    assert base_small.tolist() == [2, 0, -1]
    assert base_huge.tolist() == [2, 0, -1]


def test_enumerate_rules_counts_every_proper_subset() -> None:
    dense = np.ones((5, 4), dtype=bool)
    b, i = np.nonzero(dense)
    lv = K.mine_itemsets(b, i, n_baskets=5, n_items=4, min_count=1)
    assert lv.n_itemsets == 15
    rules = K.enumerate_rules(lv.itemsets)
    # sum over itemsets of size k>=2 of (2**k - 2)
    assert len(rules.antecedent) == 6 * 2 + 4 * 6 + 1 * 14
    offsets = lv.offsets
    size = np.searchsorted(offsets, np.arange(15), side="right")
    assert np.all(size[rules.antecedent] + size[rules.consequent] == size[rules.itemset])


def test_empty_and_single_item() -> None:
    lv = K.mine_itemsets(np.array([0]), np.array([0]), n_baskets=1, n_items=1, min_count=1)
    assert as_dict(lv) == {(0,): 1}
    assert len(K.enumerate_rules(lv.itemsets).antecedent) == 0
    lv = K.mine_itemsets(np.array([0, 1]), np.array([0, 1]), n_baskets=2, n_items=2, min_count=2)
    assert lv.n_itemsets == 0
