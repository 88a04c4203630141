"""Connected components over record-key graphs (vectorised union-find).

Identity resolution links two records whenever they share a normalised key (an email, a
phone number, an account number ...). Linking is transitive, so the resolved persons are
the connected components of the bipartite graph whose nodes are the records and the
distinct key values, with an edge for every (record, key) incidence. The components are
found in one call to :func:`scipy.sparse.csgraph.connected_components` on a sparse
adjacency matrix; there is no Python loop over records.

This module is a pure numpy/scipy kernel: it never imports pandas or narwhals.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

__all__ = ["canonical_labels", "components", "within_block_pairs"]

IntArray = npt.NDArray[np.int64]


def canonical_labels(labels: npt.ArrayLike, order_key: npt.ArrayLike | None = None) -> IntArray:
    """Relabel a partition as ``0..k-1`` in a canonical order.

    Parameters
    ----------
    labels : array of int
        Any component label per node.
    order_key : array of int, optional
        A rank per node (e.g. the sorted rank of the record id). Components are numbered
        by the smallest ``order_key`` of their members, so the labels do not depend on the
        order of the rows. Default: the node position.

    Returns
    -------
    numpy.ndarray of int64
        The new labels.

    Examples
    --------
    >>> canonical_labels([5, 5, 2, 9, 2]).tolist()
    [0, 0, 1, 2, 1]
    >>> canonical_labels([5, 5, 2], order_key=[2, 1, 0]).tolist()
    [1, 1, 0]
    """
    lab = np.asarray(labels, dtype=np.int64)
    if lab.size == 0:
        return lab.copy()
    key = (
        np.arange(lab.size, dtype=np.int64)
        if order_key is None
        else np.asarray(order_key, dtype=np.int64)
    )
    uniq, inv = np.unique(lab, return_inverse=True)
    first = np.full(uniq.size, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first, inv, key)
    rank = np.empty(uniq.size, dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(uniq.size, dtype=np.int64)
    return rank[inv]


def components(
    n_nodes: int,
    rows: npt.ArrayLike,
    cols: npt.ArrayLike,
    *,
    n_extra: int = 0,
    order_key: npt.ArrayLike | None = None,
) -> IntArray:
    """Connected components of an undirected graph given as an edge list.

    Parameters
    ----------
    n_nodes : int
        Number of primary nodes (records), numbered ``0..n_nodes-1``.
    rows, cols : array of int
        Edge end points. An end point ``>= n_nodes`` is an auxiliary node (a key value);
        ``n_extra`` of them are allowed (numbered ``n_nodes..n_nodes+n_extra-1``).
    n_extra : int, optional
        Number of auxiliary nodes.
    order_key : array of int, optional
        Rank of each primary node, used to number the components (see
        :func:`canonical_labels`).

    Returns
    -------
    numpy.ndarray of int64
        Component label of each primary node, numbered ``0..k-1`` by the smallest
        ``order_key`` in the component.

    Examples
    --------
    Records 0 and 2 share key 4 (an auxiliary node), record 1 is alone, 2 and 3 are
    linked directly:

    >>> components(4, [0, 2, 2], [4, 4, 3], n_extra=1).tolist()
    [0, 1, 0, 0]
    """
    r = np.asarray(rows, dtype=np.int64)
    c = np.asarray(cols, dtype=np.int64)
    size = int(n_nodes) + int(n_extra)
    if r.shape != c.shape:
        raise ValueError("rows and cols must have the same shape")
    if r.size and (min(r.min(), c.min()) < 0 or max(r.max(), c.max()) >= size):
        raise ValueError("edge end point out of range")
    adj = coo_matrix((np.ones(r.size, dtype=np.int8), (r, c)), shape=(size, size)).tocsr()
    _, labels = connected_components(adj, directed=True, connection="weak")
    return canonical_labels(labels[: int(n_nodes)], order_key)


def within_block_pairs(block: npt.ArrayLike, max_block_size: int | None = None) -> IntArray:
    r"""All unordered pairs of nodes that share a block code, without comparing blocks.

    Parameters
    ----------
    block : array of int
        Block code per node; negative codes mean "no block" and produce no pairs.
    max_block_size : int, optional
        Blocks larger than this produce no pairs (callers report them).

    Returns
    -------
    numpy.ndarray of int64, shape (n_pairs, 2)
        Node index pairs ``(i, j)`` with ``i < j``, sorted.

    Notes
    -----
    The number of pairs is :math:`\\sum_b m_b (m_b - 1) / 2` over the block sizes
    :math:`m_b`; nothing is ever compared across blocks. The pairs are generated with
    ``repeat``/``cumsum`` arithmetic on the sorted block codes.

    Examples
    --------
    >>> within_block_pairs([0, 1, 0, -1, 0]).tolist()
    [[0, 2], [0, 4], [2, 4]]
    """
    b = np.asarray(block, dtype=np.int64)
    idx = np.flatnonzero(b >= 0)
    if idx.size < 2:
        return np.empty((0, 2), dtype=np.int64)
    order = idx[np.argsort(b[idx], kind="stable")]
    sb = b[order]
    starts = np.flatnonzero(np.r_[True, sb[1:] != sb[:-1]])
    sizes = np.diff(np.r_[starts, sb.size])
    size_per = np.repeat(sizes, sizes)
    pos_in_block = np.arange(sb.size) - np.repeat(starts, sizes)
    n_partners = size_per - 1 - pos_in_block
    if max_block_size is not None:
        n_partners[size_per > max_block_size] = 0
    total = int(n_partners.sum())
    if total == 0:
        return np.empty((0, 2), dtype=np.int64)
    left_pos = np.repeat(np.arange(sb.size), n_partners)
    offsets = np.arange(total) - np.repeat(np.cumsum(n_partners) - n_partners, n_partners)
    right_pos = left_pos + 1 + offsets
    i = order[left_pos]
    j = order[right_pos]
    pairs = np.stack([np.minimum(i, j), np.maximum(i, j)], axis=1)
    keys = pairs[:, 0] * (int(b.size) + 1) + pairs[:, 1]
    return pairs[np.argsort(keys, kind="stable")]
