r"""Frequent itemsets and association-rule enumeration on a sparse basket x item incidence.

Pure numpy/scipy: no pandas, no narwhals. The input is the list of distinct
``(basket, item)`` pairs as two integer arrays; nothing dense of shape
``n_baskets x n_items`` is ever built.

Algorithm (level-wise, Apriori candidate generation with vertical bitsets)
--------------------------------------------------------------------------
1. Level 1: item counts by ``np.bincount``; infrequent items are dropped.
2. Level 2: all pair counts at once as the sparse product :math:`X^\top X` of the
   basket x frequent-item incidence :math:`X` (scipy CSR), whose cost is the sum of the
   squared basket sizes, not the square of the number of items.
3. Level :math:`k \ge 3`: candidates are the joins of two frequent :math:`(k-1)`-itemsets
   that share their first :math:`k-2` items; a candidate survives only when every one of
   its :math:`(k-1)`-subsets is frequent (downward closure, checked with a vectorised
   sorted-key lookup). Survivors are counted on vertical bitsets: each item is a row of
   packed ``uint64`` words (one bit per basket) and
   :math:`\mathrm{count}(P \cup \{a, b\}) = \mathrm{popcount}(B_{P \cup \{a\}}
   \wedge B_b)`, evaluated in bounded-memory chunks with ``np.bitwise_count``.
   Baskets holding fewer than :math:`k` of the surviving items are dropped first.

References
----------
Agrawal, R. & Srikant, R. (1994). Fast algorithms for mining association rules.
Proceedings of the 20th VLDB Conference, 487-499.

Zaki, M. J. (2000). Scalable algorithms for association mining. IEEE Transactions on
Knowledge and Data Engineering, 12(3), 372-390.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

__all__ = [
    "ItemsetLevels",
    "RuleIndex",
    "enumerate_rules",
    "lookup_rows",
    "mine_itemsets",
    "mine_itemsets_owned",
]

IntArray = NDArray[np.int64]
_CHUNK_BYTES = 2**20


@dataclass(frozen=True)
class ItemsetLevels:
    """Frequent itemsets grouped by size.

    Attributes
    ----------
    itemsets : tuple of ndarray
        ``itemsets[k - 1]`` is an ``(m_k, k)`` int64 array of item ids; each row is sorted
        ascending and the rows are sorted lexicographically.
    counts : tuple of ndarray
        ``counts[k - 1][j]`` is the number of baskets holding itemset ``itemsets[k - 1][j]``.
    n_baskets : int
        Number of baskets (the support denominator).

    Examples
    --------
    >>> b, i = np.array([0, 0, 1]), np.array([0, 1, 0])
    >>> lv = mine_itemsets(b, i, n_baskets=2, n_items=2, min_count=1)
    >>> lv.n_itemsets, lv.offsets.tolist(), lv.n_baskets
    (3, [0, 2, 3], 2)
    """

    itemsets: tuple[IntArray, ...]
    counts: tuple[IntArray, ...]
    n_baskets: int

    @property
    def n_itemsets(self) -> int:
        """Total number of frequent itemsets over all sizes."""
        return int(sum(len(c) for c in self.counts))

    @property
    def offsets(self) -> IntArray:
        """Global id of the first itemset of each size (ids run size by size)."""
        sizes = np.array([len(c) for c in self.counts], dtype=np.int64)
        return np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)


@dataclass(frozen=True)
class RuleIndex:
    """All rules ``A -> C`` from frequent itemsets of size >= 2, as global itemset ids.

    Attributes
    ----------
    antecedent, consequent, itemset : ndarray
        Global ids (see :attr:`ItemsetLevels.offsets`) of ``A``, ``C`` and ``A | C``.

    Examples
    --------
    >>> b, i = np.array([0, 0, 1]), np.array([0, 1, 0])
    >>> lv = mine_itemsets(b, i, n_baskets=2, n_items=2, min_count=1)
    >>> r = enumerate_rules(lv.itemsets)
    >>> r.antecedent.tolist(), r.consequent.tolist(), r.itemset.tolist()
    ([0, 1], [1, 0], [2, 2])
    """

    antecedent: IntArray
    consequent: IntArray
    itemset: IntArray


def _row_keys(rows: NDArray[np.int64], base: int) -> NDArray[np.generic]:
    """Order-preserving scalar keys of integer rows (Horner code, or raw bytes if too wide)."""
    k = rows.shape[1]
    if k == 0:
        return np.zeros(len(rows), dtype=np.int64)
    if base**k < 2**62:
        key = np.zeros(len(rows), dtype=np.int64)
        for j in range(k):
            key = key * base + rows[:, j]
        return key
    # big-endian bytes sort like the numbers for non-negative ids
    wide = np.ascontiguousarray(rows.astype(">i8"))
    return wide.view(np.dtype((np.void, 8 * k))).ravel()


def lookup_rows(table: NDArray[np.int64], query: NDArray[np.int64], base: int) -> IntArray:
    """Position of each ``query`` row in ``table`` (rows sorted lexicographically), or -1.

    Parameters
    ----------
    table : ndarray of shape (m, k)
        Sorted rows of non-negative ids below ``base``.
    query : ndarray of shape (q, k)
        Rows to look up.
    base : int
        An upper bound on the ids plus one.

    Returns
    -------
    ndarray of shape (q,)
        Index into ``table`` or -1 where the row is absent.

    Examples
    --------
    >>> t = np.array([[0, 1], [0, 2], [1, 2]])
    >>> lookup_rows(t, np.array([[1, 2], [0, 3]]), base=4).tolist()
    [2, -1]
    """
    if len(table) == 0 or len(query) == 0:
        return np.full(len(query), -1, dtype=np.int64)
    tkeys = _row_keys(table, base)
    qkeys = _row_keys(query, base)
    order: IntArray | None = None
    if tkeys.dtype.kind == "V":
        order = np.argsort(tkeys, kind="stable").astype(np.int64)
        tkeys = tkeys[order]
    pos = np.searchsorted(tkeys, qkeys).astype(np.int64)
    inside = pos < len(tkeys)
    found = np.zeros(len(query), dtype=bool)
    found[inside] = tkeys[pos[inside]] == qkeys[inside]
    if order is not None:
        pos[inside] = order[pos[inside]]
    return np.where(found, pos, -1)


def _pack_bitsets(
    basket: NDArray[np.integer], item: NDArray[np.integer], n_items: int, n_baskets: int
) -> NDArray[np.uint64]:
    """Vertical bitsets: row ``i`` has one bit set for each basket holding item ``i``.

    Bits are set through a byte view (basket ``b`` is bit ``b % 8`` of byte ``b // 8``);
    AND and popcount do not depend on where each basket's bit sits.
    """
    n_words = max(1, (n_baskets + 63) // 64)
    bits = np.zeros((n_items, n_words), dtype=np.uint64)
    as_bytes = bits.view(np.uint8)
    value = np.left_shift(np.uint8(1), (basket & 7).astype(np.uint8))
    np.bitwise_or.at(as_bytes, (item, basket >> 3), value)
    return bits


def _restrict(
    basket: NDArray[np.integer],
    item: NDArray[np.integer],
    n_baskets: int,
    k: int,
    active: NDArray[np.bool_] | None = None,
) -> tuple[NDArray[np.integer], NDArray[np.integer], int]:
    """Keep pairs of ``active`` items in baskets holding >= ``k`` of them; renumber baskets.

    The order of the pairs is kept (so pairs sorted by basket stay sorted); nothing is
    copied when nothing is dropped.
    """
    if active is not None and not active.all():
        on = active[item]
        basket, item = basket[on], item[on]
    rich = np.bincount(basket, minlength=n_baskets) >= k
    if rich.all():
        return basket, item, n_baskets
    keep = rich[basket]
    new_id = (np.cumsum(rich) - 1).astype(basket.dtype)
    return new_id[basket[keep]], item[keep], int(rich.sum())


def _pairs(
    basket: NDArray[np.integer],
    item: NDArray[np.integer],
    n_baskets: int,
    n_items: int,
    min_count: int,
) -> tuple[IntArray, IntArray]:
    """Frequent 2-itemsets (rows sorted) and their counts from the sparse Gram matrix.

    ``basket`` must be sorted ascending, so the CSR matrix is built without a copy of
    the pairs.
    """
    index_dtype = np.int32 if len(basket) < 2**31 else np.int64
    indptr: NDArray[np.integer] = np.zeros(n_baskets + 1, dtype=index_dtype)
    np.cumsum(np.bincount(basket, minlength=n_baskets), out=indptr[1:])
    indices: NDArray[np.integer] = item.astype(index_dtype, copy=False)
    data = np.ones(len(item), dtype=np.int32)
    x: sp.csr_matrix[np.int32] = sp.csr_matrix((data, indices, indptr), shape=(n_baskets, n_items))
    gram = (x.T.tocsr() @ x).tocoo()
    del x, data
    keep = gram.data >= min_count
    keep &= gram.row < gram.col
    rows = np.column_stack([gram.row[keep], gram.col[keep]]).astype(np.int64)
    counts = gram.data[keep].astype(np.int64)
    del gram, keep
    order = np.lexsort((rows[:, 1], rows[:, 0]))
    return rows[order].reshape(-1, 2), counts[order]


def _candidates(prev: IntArray, base: int) -> tuple[IntArray, IntArray]:
    """Apriori join of sorted (k-1)-itemsets on their first k-2 items, then pruning.

    Returns the left parent index and the appended item of every surviving candidate,
    in lexicographic order of the candidates.
    """
    m, km1 = prev.shape
    if m < 2:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    if km1 > 1:
        new_group = np.any(prev[1:, :-1] != prev[:-1, :-1], axis=1)
    else:
        new_group = np.ones(m - 1, dtype=bool)
    starts = np.flatnonzero(np.concatenate([[True], new_group]))
    ends = np.append(starts[1:], m)
    group_end = np.repeat(ends, ends - starts)
    n_partners = group_end - np.arange(m) - 1
    total = int(n_partners.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    left = np.repeat(np.arange(m, dtype=np.int64), n_partners)
    first = np.cumsum(n_partners) - n_partners
    right = left + 1 + (np.arange(total, dtype=np.int64) - np.repeat(first, n_partners))
    extra = prev[right, -1]
    # prune: the (k-1)-subsets that drop one of the first k-2 items must be frequent
    keep = np.ones(total, dtype=bool)
    left_rows = prev[left]
    for drop in range(km1 - 1):
        cols = [c for c in range(km1) if c != drop]
        sub = np.column_stack([left_rows[:, cols], extra])
        keep &= lookup_rows(prev, sub, base) >= 0
    return left[keep], extra[keep]


def _count_candidates(
    bits: NDArray[np.uint64], prev: IntArray, left: IntArray, extra: IntArray
) -> IntArray:
    """Count ``prev[left] | {extra}`` with AND + popcount, chunked over candidates.

    ``left`` is sorted ascending. Four work buffers of at most ``_CHUNK_BYTES`` each
    (at least 64 candidates) are reused across chunks.
    """
    n_words = bits.shape[1]
    chunk = min(len(left), max(64, _CHUNK_BYTES // (8 * n_words)))
    counts = np.empty(len(left), dtype=np.int64)
    pbuf = np.empty((chunk, n_words), dtype=np.uint64)
    cbuf = np.empty((chunk, n_words), dtype=np.uint64)
    tmp = np.empty((chunk, n_words), dtype=np.uint64)
    pop = np.empty((chunk, n_words), dtype=np.uint8)
    for s in range(0, len(left), chunk):
        e = min(s + chunk, len(left))
        m = e - s
        part = left[s:e]
        new = np.empty(m, dtype=bool)
        new[0] = True
        np.not_equal(part[1:], part[:-1], out=new[1:])
        parents = prev[part[new]]
        inv = np.cumsum(new) - 1
        n_par = len(parents)
        pb = pbuf[:n_par]
        np.take(bits, parents[:, 0], axis=0, out=pb)
        for c in range(1, parents.shape[1]):
            np.take(bits, parents[:, c], axis=0, out=tmp[:n_par])
            np.bitwise_and(pb, tmp[:n_par], out=pb)
        cb = cbuf[:m]
        np.take(pb, inv, axis=0, out=cb)
        np.take(bits, extra[s:e], axis=0, out=tmp[:m])
        np.bitwise_and(cb, tmp[:m], out=cb)
        np.bitwise_count(cb, out=pop[:m])
        counts[s:e] = pop[:m].sum(axis=1, dtype=np.int64)
    return counts


def mine_itemsets(
    basket: IntArray,
    item: IntArray,
    *,
    n_baskets: int,
    n_items: int,
    min_count: int,
    max_len: int | None = None,
) -> ItemsetLevels:
    """Every itemset contained in at least ``min_count`` baskets.

    Parameters
    ----------
    basket, item : ndarray of int
        Distinct ``(basket, item)`` pairs, ids in ``[0, n_baskets)`` and ``[0, n_items)``.
    n_baskets, n_items : int
        Number of baskets and of items.
    min_count : int
        Minimum number of baskets (>= 1).
    max_len : int, optional
        Largest itemset size to mine (None: no limit).

    Returns
    -------
    ItemsetLevels
        Frequent itemsets by size, rows sorted, with their basket counts.

    Examples
    --------
    >>> b = np.array([0, 0, 1, 1, 1, 2])
    >>> i = np.array([0, 1, 0, 1, 2, 0])
    >>> lv = mine_itemsets(b, i, n_baskets=3, n_items=3, min_count=2)
    >>> [x.tolist() for x in lv.itemsets], [c.tolist() for c in lv.counts]
    ([[[0], [1]], [[0, 1]]], [[3, 2], [2]])
    """
    return mine_itemsets_owned(
        [np.asarray(basket), np.asarray(item)],
        n_baskets=n_baskets,
        n_items=n_items,
        min_count=min_count,
        max_len=max_len,
    )


def mine_itemsets_owned(
    pairs: list[NDArray[np.integer]],
    *,
    n_baskets: int,
    n_items: int,
    min_count: int,
    max_len: int | None = None,
    on_level: Callable[[int, int], None] | None = None,
) -> ItemsetLevels:
    """:func:`mine_itemsets` that takes ownership of ``pairs = [basket, item]``.

    The list is emptied, so when the caller keeps no other reference the input arrays
    are freed as soon as the pruned copies exist (a lower memory peak).

    Parameters
    ----------
    pairs : list of two ndarray
        ``[basket, item]`` as in :func:`mine_itemsets`; emptied by the call.
    n_baskets, n_items, min_count, max_len
        As in :func:`mine_itemsets`.
    on_level : callable, optional
        Called as ``on_level(k, n)`` once the ``n`` frequent itemsets of size ``k`` are
        known (progress reports).

    Returns
    -------
    ItemsetLevels

    Examples
    --------
    >>> data = [np.array([0, 0, 1]), np.array([0, 1, 0])]
    >>> lv = mine_itemsets_owned(data, n_baskets=2, n_items=2, min_count=1)
    >>> lv.n_itemsets, data
    (3, [])
    """
    item = np.asarray(pairs.pop())
    basket = np.asarray(pairs.pop())
    min_count = max(1, int(min_count))
    limit = np.iinfo(np.int64).max if max_len is None else int(max_len)
    counts1 = np.bincount(item, minlength=n_items).astype(np.int64)
    frequent = np.flatnonzero(counts1 >= min_count).astype(np.int64)
    itemsets: list[IntArray] = [frequent.reshape(-1, 1)]
    counts: list[IntArray] = [counts1[frequent]]
    n_f = len(frequent)
    if on_level is not None:
        on_level(1, n_f)
    if limit < 2 or n_f < 2:
        return ItemsetLevels(tuple(itemsets), tuple(counts), n_baskets)

    # 32-bit ids where they fit; pairs sorted by basket (CSR order)
    small = max(n_baskets, n_items) < 2**31
    id_dtype = np.int32 if small else np.int64
    b: NDArray[np.integer] = basket.astype(id_dtype, copy=False)
    if len(b) > 1 and np.any(b[1:] < b[:-1]):
        order = np.argsort(b, kind="stable")
        b, item = b[order], item[order]
    # relabel frequent items 0..n_f-1 (order preserved) and drop the rest
    if n_f == n_items:
        i: NDArray[np.integer] = item.astype(id_dtype, copy=False)
        active = None
    else:
        relabel = np.full(n_items, n_f, dtype=id_dtype)  # n_f marks an infrequent item
        relabel[frequent] = np.arange(n_f, dtype=id_dtype)
        i = relabel[item].astype(id_dtype, copy=False)
        active = np.ones(n_f + 1, dtype=bool)
        active[n_f] = False
    b, i, nb = _restrict(b, i, n_baskets, 2, active)
    del basket, item  # the caller's arrays can be freed from here on
    prev, prev_counts = _pairs(b, i, nb, n_f, min_count)
    levels: list[tuple[IntArray, IntArray]] = [(prev, prev_counts)]
    if on_level is not None:
        on_level(2, len(prev))

    k = 3
    bits: NDArray[np.uint64] | None = None
    while k <= limit and len(prev) >= k - 1:
        left, extra = _candidates(prev, n_f)
        if len(left) == 0:
            break
        if bits is None:
            used = np.zeros(n_f, dtype=bool)
            used[prev.ravel()] = True
            b3, i3, nb3 = _restrict(b, i, nb, 3, used)
            del b, i
            bits = _pack_bitsets(b3, i3, n_f, nb3)
            del b3, i3
        cnt = _count_candidates(bits, prev, left, extra)
        ok = cnt >= min_count
        if not ok.any():
            break
        prev = np.column_stack([prev[left[ok]], extra[ok]])
        levels.append((prev, cnt[ok]))
        if on_level is not None:
            on_level(k, len(prev))
        k += 1

    for rows, cnt in levels:
        itemsets.append(frequent[rows])
        counts.append(cnt)
    return ItemsetLevels(tuple(itemsets), tuple(counts), n_baskets)


def enumerate_rules(itemsets: Sequence[IntArray]) -> RuleIndex:
    """Every rule ``A -> C`` with ``A``, ``C`` non-empty, disjoint and ``A | C`` frequent.

    For each itemset size ``k >= 2`` and each of the ``2**k - 2`` antecedent masks, the
    antecedent and consequent rows of all itemsets of that size are sliced at once and
    located among the frequent itemsets of their own size (downward closure guarantees
    they are there).

    Parameters
    ----------
    itemsets : sequence of ndarray
        ``itemsets[k - 1]``: sorted ``(m_k, k)`` rows of the frequent k-itemsets, as in
        :attr:`ItemsetLevels.itemsets` (global ids run size by size in this order).

    Returns
    -------
    RuleIndex
        Global itemset ids of antecedent, consequent and their union for every rule.

    Examples
    --------
    >>> b = np.array([0, 0, 1, 1])
    >>> i = np.array([0, 1, 0, 1])
    >>> lv = mine_itemsets(b, i, n_baskets=2, n_items=2, min_count=1)
    >>> r = enumerate_rules(lv.itemsets)
    >>> r.antecedent.tolist(), r.consequent.tolist(), r.itemset.tolist()
    ([0, 1], [1, 0], [2, 2])
    """
    sizes = np.array([len(x) for x in itemsets], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    base = int(max((int(x.max()) + 1 for x in itemsets if x.size), default=1))
    ants: list[IntArray] = []
    cons: list[IntArray] = []
    sets: list[IntArray] = []
    for k in range(2, len(itemsets) + 1):
        rows = itemsets[k - 1]
        if len(rows) == 0:
            continue
        ids = offsets[k - 1] + np.arange(len(rows), dtype=np.int64)
        for mask in range(1, 2**k - 1):
            a_cols = [c for c in range(k) if mask >> c & 1]
            c_cols = [c for c in range(k) if not mask >> c & 1]
            a_pos = lookup_rows(itemsets[len(a_cols) - 1], rows[:, a_cols], base)
            c_pos = lookup_rows(itemsets[len(c_cols) - 1], rows[:, c_cols], base)
            ants.append(offsets[len(a_cols) - 1] + a_pos)
            cons.append(offsets[len(c_cols) - 1] + c_pos)
            sets.append(ids)
    if not ants:
        empty = np.zeros(0, dtype=np.int64)
        return RuleIndex(empty, empty.copy(), empty.copy())
    return RuleIndex(np.concatenate(ants), np.concatenate(cons), np.concatenate(sets))
