r"""Frequent itemsets and rule counts when some basket x item entries are unknown.

Pure numpy/scipy: no pandas, no narwhals. A one-hot table may leave an entry unknown
(``NaN``: the data cannot say whether the basket held the item). An itemset :math:`X` is
then judged on the baskets that *observe* it, those where no item of :math:`X` is
unknown:

.. math::

    s(X) = \frac{\#\{b : X \subseteq b\}}{\#\{b : \text{no item of } X
    \text{ unknown in } b\}}.

This support is not anti-monotone (a superset is observed by fewer baskets), so an
itemset is called frequent when its support reaches ``min_support`` *and* every subset
is frequent: Apriori's candidate generation is kept, and every rule of a frequent
itemset has its antecedent and consequent among the frequent itemsets.

Counting is done on vertical bitsets (one row of packed ``uint64`` words per item): the
baskets holding all of :math:`X` are the AND of the "present" rows, the baskets with an
unknown item of :math:`X` the OR of the "unknown" rows, both counted with
``np.bitwise_count`` in bounded-memory chunks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from crmmodels.kernels.basket import ItemsetLevels, _candidates, _pack_bitsets, _pairs

__all__ = [
    "MissingIncidence",
    "MissingLevels",
    "count_present_and_unknown",
    "itemset_counts",
    "mine_itemsets_missing",
    "rule_items",
]

IntArray = NDArray[np.int64]
_CHUNK_BYTES = 2**20


@dataclass(frozen=True)
class MissingIncidence:
    """Vertical bitsets of the known-present and the unknown entries, one row per item.

    Attributes
    ----------
    present, unknown : ndarray of uint64, shape (n_items, n_words)
        Bit ``b`` of row ``i`` is set when basket ``b`` holds item ``i`` (``present``) or
        when that entry is unknown (``unknown``).
    n_baskets : int
        Number of baskets.

    Examples
    --------
    >>> inc = MissingIncidence.from_pairs(
    ...     np.array([0, 1]), np.array([0, 0]), np.array([1]), np.array([1]),
    ...     n_baskets=2, n_items=2,
    ... )
    >>> inc.present.shape, int(np.bitwise_count(inc.unknown).sum())
    ((2, 1), 1)
    """

    present: NDArray[np.uint64]
    unknown: NDArray[np.uint64]
    n_baskets: int
    #: the present ``(basket, item)`` pairs sorted by basket (for the pair counts)
    pairs: tuple[IntArray, IntArray] = (np.zeros(0, np.int64), np.zeros(0, np.int64))

    @classmethod
    def from_pairs(
        cls,
        basket: NDArray[np.integer],
        item: NDArray[np.integer],
        unknown_basket: NDArray[np.integer],
        unknown_item: NDArray[np.integer],
        *,
        n_baskets: int,
        n_items: int,
    ) -> MissingIncidence:
        """Pack ``(basket, item)`` pairs of present and of unknown entries into bitsets."""
        b = np.asarray(basket, dtype=np.int64)
        i = np.asarray(item, dtype=np.int64)
        order = np.lexsort((i, b))
        ub = np.asarray(unknown_basket, dtype=np.int64)
        ui = np.asarray(unknown_item, dtype=np.int64)
        return cls(
            _pack_bitsets(b, i, n_items, n_baskets),
            _pack_bitsets(ub, ui, n_items, n_baskets),
            int(n_baskets),
            (b[order], i[order]),
        )


@dataclass(frozen=True)
class MissingLevels(ItemsetLevels):
    """:class:`~crmmodels.kernels.basket.ItemsetLevels` plus the observing baskets.

    Attributes
    ----------
    observed : tuple of ndarray
        ``observed[k - 1][j]``: baskets where no item of ``itemsets[k - 1][j]`` is
        unknown (``counts / observed`` is the support).

    Examples
    --------
    >>> inc = MissingIncidence.from_pairs(
    ...     np.array([0, 0, 1]), np.array([0, 1, 0]), np.array([2]), np.array([1]),
    ...     n_baskets=3, n_items=2,
    ... )
    >>> lv = mine_itemsets_missing(inc, min_support=0.5)
    >>> [c.tolist() for c in lv.counts], [o.tolist() for o in lv.observed]
    ([[2, 1], [1]], [[3, 2], [2]])
    """

    observed: tuple[IntArray, ...] = ()


def _popcounts(
    present: NDArray[np.uint64] | None,
    unknown: NDArray[np.uint64] | None,
    all_of: IntArray | None,
    any_of: IntArray | None,
) -> IntArray:
    """Per row ``j``: baskets holding all of ``all_of[j]`` with an unknown in ``any_of[j]``.

    ``all_of`` is the AND of ``present`` rows, ``any_of`` the OR of ``unknown`` rows.
    Either side may be None (no condition). Rows are padded with -1, which stands for
    "no item" (all ones for AND, all zeros for OR).
    """
    rows = all_of if all_of is not None else any_of
    assert rows is not None
    m = len(rows)
    ref = present if present is not None else unknown
    assert ref is not None
    n_words = ref.shape[1]
    out = np.zeros(m, dtype=np.int64)
    if m == 0:
        return out
    p_ext = u_ext = None
    if present is not None and all_of is not None:
        p_ext = np.vstack([present, np.full((1, n_words), ~np.uint64(0), dtype=np.uint64)])
    if unknown is not None and any_of is not None:
        u_ext = np.vstack([unknown, np.zeros((1, n_words), dtype=np.uint64)])
    chunk = max(64, _CHUNK_BYTES // (8 * n_words))
    for s in range(0, m, chunk):
        e = min(s + chunk, m)
        acc: NDArray[np.uint64] | None = None
        if p_ext is not None and all_of is not None:
            cols = all_of[s:e]
            acc = p_ext[cols[:, 0]]
            for c in range(1, cols.shape[1]):
                np.bitwise_and(acc, p_ext[cols[:, c]], out=acc)
        if u_ext is not None and any_of is not None:
            cols = any_of[s:e]
            anyu = u_ext[cols[:, 0]]
            for c in range(1, cols.shape[1]):
                np.bitwise_or(anyu, u_ext[cols[:, c]], out=anyu)
            acc = anyu if acc is None else np.bitwise_and(acc, anyu, out=acc)
        assert acc is not None
        out[s:e] = np.bitwise_count(acc).sum(axis=1, dtype=np.int64)
    return out


def count_present_and_unknown(
    incidence: MissingIncidence, all_of: IntArray, any_of: IntArray
) -> IntArray:
    """Baskets holding every item of ``all_of[j]`` with an unknown entry among ``any_of[j]``.

    Parameters
    ----------
    incidence : MissingIncidence
    all_of, any_of : ndarray of int, shape (m, k1) and (m, k2)
        Item rows, padded with -1.

    Returns
    -------
    ndarray of shape (m,)

    Examples
    --------
    >>> inc = MissingIncidence.from_pairs(
    ...     np.array([0, 1]), np.array([0, 0]), np.array([1]), np.array([1]),
    ...     n_baskets=2, n_items=2,
    ... )
    >>> count_present_and_unknown(inc, np.array([[0]]), np.array([[1]])).tolist()
    [1]
    """
    return _popcounts(
        incidence.present,
        incidence.unknown,
        np.asarray(all_of, dtype=np.int64),
        np.asarray(any_of, dtype=np.int64),
    )


def _frequent(count: IntArray, observed: IntArray, min_support: float) -> NDArray[np.bool_]:
    """``count / observed >= min_support`` (relative tolerance 1e-12), never with 0 observed."""
    return (observed > 0) & (count > 0) & (count >= min_support * observed * (1.0 - 1e-12))


def mine_itemsets_missing(
    incidence: MissingIncidence, *, min_support: float, max_len: int | None = None
) -> MissingLevels:
    """Every itemset whose support on its observing baskets, and every subset's, is high enough.

    Parameters
    ----------
    incidence : MissingIncidence
        Present and unknown entries as bitsets.
    min_support : float
        Minimum support, in (0, 1].
    max_len : int, optional
        Largest itemset size (None: no limit).

    Returns
    -------
    MissingLevels
        Frequent itemsets by size (rows sorted, lexicographic), their basket counts and
        their observing baskets.

    Examples
    --------
    >>> inc = MissingIncidence.from_pairs(
    ...     np.array([0, 0, 1, 2]), np.array([0, 1, 0, 1]), np.array([3]), np.array([0]),
    ...     n_baskets=4, n_items=2,
    ... )
    >>> lv = mine_itemsets_missing(inc, min_support=0.6)
    >>> [x.tolist() for x in lv.itemsets], [c.tolist() for c in lv.counts]
    ([[[0]]], [[2]])
    """
    present, unknown = incidence.present, incidence.unknown
    n_items, n_baskets = present.shape[0], incidence.n_baskets
    limit = np.iinfo(np.int64).max if max_len is None else int(max_len)
    c1 = np.bitwise_count(present).sum(axis=1, dtype=np.int64)
    o1 = n_baskets - np.bitwise_count(unknown).sum(axis=1, dtype=np.int64)
    keep = _frequent(c1, o1, min_support)
    prev = np.flatnonzero(keep).astype(np.int64).reshape(-1, 1)
    itemsets, counts, observed = [prev], [c1[keep]], [o1[keep]]
    if limit >= 2 and len(prev) >= 2:
        # pairs held together by at least one basket: the sparse Gram matrix of "present"
        freq = prev[:, 0]
        relabel = np.full(n_items, -1, dtype=np.int64)
        relabel[freq] = np.arange(len(freq))
        b, i = incidence.pairs
        on = relabel[i] >= 0
        rows, cnt = _pairs(b[on], relabel[i[on]], n_baskets, len(freq), 1)
        pairs = freq[rows]
        obs = n_baskets - _popcounts(None, unknown, None, pairs)
        ok = _frequent(cnt, obs, min_support)
        prev = pairs[ok]
        if len(prev):
            itemsets.append(prev)
            counts.append(cnt[ok])
            observed.append(obs[ok])
    k = 3
    while k <= limit and len(itemsets) == k - 1 and len(prev) >= k - 1:
        left, extra = _candidates(prev, n_items)
        if len(left) == 0:
            break
        cand = np.column_stack([prev[left], extra])
        cnt = _popcounts(present, None, cand, None)
        obs = n_baskets - _popcounts(None, unknown, None, cand)
        ok = _frequent(cnt, obs, min_support)
        if not ok.any():
            break
        prev = cand[ok]
        itemsets.append(prev)
        counts.append(cnt[ok])
        observed.append(obs[ok])
        k += 1
    return MissingLevels(tuple(itemsets), tuple(counts), n_baskets, tuple(observed))


def rule_items(itemsets: tuple[IntArray, ...]) -> tuple[IntArray, IntArray, IntArray]:
    """Item rows of every rule, in the order of :func:`~crmmodels.kernels.basket.enumerate_rules`.

    Parameters
    ----------
    itemsets : tuple of ndarray
        ``itemsets[k - 1]``: sorted ``(m_k, k)`` rows of the k-itemsets (they need not be
        closed under subsets).

    Returns
    -------
    itemset : ndarray of shape (n_rules,)
        Global id of ``A | C`` (ids run size by size).
    antecedent, consequent : ndarray of shape (n_rules, max_k - 1)
        Item ids of ``A`` and of ``C``, padded with -1.

    Examples
    --------
    >>> ids, a, c = rule_items((np.array([[0], [1]]), np.array([[0, 1]])))
    >>> ids.tolist(), a.tolist(), c.tolist()
    ([2, 2], [[0], [1]], [[1], [0]])
    """
    sizes = np.array([len(x) for x in itemsets], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    width = max(1, len(itemsets) - 1)
    ids: list[IntArray] = []
    ants: list[IntArray] = []
    cons: list[IntArray] = []
    for k in range(2, len(itemsets) + 1):
        rows = itemsets[k - 1]
        if len(rows) == 0:
            continue
        for mask in range(1, 2**k - 1):
            a_cols = [c for c in range(k) if mask >> c & 1]
            c_cols = [c for c in range(k) if not mask >> c & 1]
            a = np.full((len(rows), width), -1, dtype=np.int64)
            c = np.full((len(rows), width), -1, dtype=np.int64)
            a[:, : len(a_cols)] = rows[:, a_cols]
            c[:, : len(c_cols)] = rows[:, c_cols]
            ids.append(offsets[k - 1] + np.arange(len(rows), dtype=np.int64))
            ants.append(a)
            cons.append(c)
    if not ids:
        return (
            np.zeros(0, dtype=np.int64),
            np.zeros((0, width), dtype=np.int64),
            np.zeros((0, width), dtype=np.int64),
        )
    return np.concatenate(ids), np.concatenate(ants), np.concatenate(cons)


def itemset_counts(
    incidence: MissingIncidence, itemsets: tuple[IntArray, ...]
) -> tuple[IntArray, IntArray]:
    """Basket counts and observing baskets of given itemsets (global order, size by size).

    Examples
    --------
    >>> inc = MissingIncidence.from_pairs(
    ...     np.array([0, 0, 1]), np.array([0, 1, 0]), np.array([2]), np.array([1]),
    ...     n_baskets=3, n_items=2,
    ... )
    >>> [x.tolist() for x in itemset_counts(inc, (np.array([[0], [1]]), np.array([[0, 1]])))]
    [[2, 1, 1], [3, 2, 2]]
    """
    rows = [r for r in itemsets if len(r)]
    if not rows:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty.copy()
    width = max(r.shape[1] for r in rows)
    padded = np.concatenate(
        [
            np.pad(r.astype(np.int64), ((0, 0), (0, width - r.shape[1])), constant_values=-1)
            for r in rows
        ]
    )
    count = _popcounts(incidence.present, None, padded, None)
    observed = incidence.n_baskets - _popcounts(None, incidence.unknown, None, padded)
    return count, observed
