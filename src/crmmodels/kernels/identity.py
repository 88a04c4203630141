"""Connected components over record-key graphs (vectorised union-find).

Identity resolution links two records whenever they share a normalised key (an email, a
phone number, an account number ...). Linking is transitive, so the resolved persons are
the connected components of the bipartite graph whose nodes are the records and the
distinct key values, with an edge for every (record, key) incidence. The components are
found in one call to :func:`scipy.sparse.csgraph.connected_components` on a sparse
adjacency matrix; there is no Python loop over records.

Probabilistic (Fellegi-Sunter) record linkage adds the numeric part of scoring a pair:
each compared field of a pair falls into a *comparison level* (``0`` different, higher
codes closer, the highest exact, ``-1`` missing). The match probabilities ``m`` and the
non-match probabilities ``u`` of the levels are estimated by EM
(:func:`fellegi_sunter_em`), a pair's evidence is the sum of the fields' log2 Bayes
factors (:func:`match_weights`) and its posterior match probability follows from the
prior (:func:`match_probability`).

This module is a pure numpy/scipy kernel: it never imports pandas or narwhals.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import numpy.typing as npt
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

__all__ = [
    "EMFit",
    "canonical_labels",
    "components",
    "estimate_prior",
    "fellegi_sunter_em",
    "level_patterns",
    "match_probability",
    "match_weights",
    "within_block_pairs",
]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

#: probabilities are kept inside [_EPS, 1 - _EPS] so that every log Bayes factor is finite
_EPS = 1e-9


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


class EMFit(NamedTuple):
    """Result of :func:`fellegi_sunter_em`.

    ``m[f, l]`` and ``u[f, l]`` are the probabilities of level ``l`` of field ``f``
    among matches and non-matches (rows sum to one over the field's levels; unused
    slots of fields with fewer levels are zero), ``prior`` the share of matches among
    the pairs, ``n_iter`` the iterations run and ``converged`` whether the largest
    change fell below the tolerance.
    """

    m: FloatArray
    u: FloatArray
    prior: float
    n_iter: int
    converged: bool


def _level_table(gamma: IntArray, n_levels: IntArray) -> IntArray:
    g = np.asarray(gamma, dtype=np.int64)
    if g.ndim != 2 or g.shape[1] != n_levels.size:
        raise ValueError("gamma must be a (n_pairs, n_fields) array, one column per field")
    if g.size and (np.any(g < -1) or np.any(g >= n_levels[None, :])):
        raise ValueError("a comparison level is outside -1..n_levels-1")
    return g


def _normalise_rows(p: FloatArray, n_levels: IntArray) -> FloatArray:
    mask = np.arange(p.shape[1])[None, :] < n_levels[:, None]
    q = np.where(mask, np.maximum(p, 0.0), 0.0)
    total = q.sum(axis=1, keepdims=True)
    q = np.divide(q, total, out=np.where(mask, 1.0, 0.0) / n_levels[:, None], where=total > 0)
    q = np.where(mask, np.clip(q, _EPS, 1.0), 0.0)
    out: FloatArray = q / q.sum(axis=1, keepdims=True)
    return out


def match_weights(gamma: npt.ArrayLike, m: npt.ArrayLike, u: npt.ArrayLike) -> FloatArray:
    r"""The log2 Bayes factor of each field of each pair.

    Parameters
    ----------
    gamma : array of int, shape (n_pairs, n_fields)
        Comparison level per pair and field, ``-1`` when a value is missing.
    m, u : array, shape (n_fields, max_levels)
        Level probabilities among matches and among non-matches.

    Returns
    -------
    numpy.ndarray, shape (n_pairs, n_fields)
        :math:`\log_2 m_{f,\gamma} / u_{f,\gamma}`, and ``0`` where the level is
        missing: a missing value is neutral evidence.

    Examples
    --------
    >>> m = [[0.1, 0.9], [0.2, 0.8]]
    >>> u = [[0.9, 0.1], [0.75, 0.25]]
    >>> match_weights([[1, 1], [0, -1]], m, u).round(3).tolist()
    [[3.17, 1.678], [-3.17, 0.0]]
    """
    mm = np.asarray(m, dtype=np.float64)
    uu = np.asarray(u, dtype=np.float64)
    g = np.asarray(gamma, dtype=np.int64)
    if g.ndim != 2 or g.shape[1] != mm.shape[0] or mm.shape != uu.shape:
        raise ValueError("gamma is (n_pairs, n_fields); m and u are (n_fields, max_levels)")
    with np.errstate(divide="ignore", invalid="ignore"):
        table = np.log2(np.clip(mm, _EPS, None)) - np.log2(np.clip(uu, _EPS, None))
    fields = np.arange(mm.shape[0])[None, :]
    w = table[fields, np.maximum(g, 0)]
    out: FloatArray = np.where(g >= 0, w, 0.0)
    return out


def match_probability(weight: npt.ArrayLike, prior: float) -> FloatArray:
    r"""Posterior match probability from the total match weight and the prior.

    :math:`P = 1 / (1 + 2^{-(w + \log_2 (\lambda / (1 - \lambda)))})`, where
    :math:`w` is the sum of the fields' log2 Bayes factors and :math:`\lambda` the
    prior probability that two records match.

    Examples
    --------
    >>> match_probability([0.0, 10.0], 0.5).round(4).tolist()
    [0.5, 0.999]
    """
    lam = float(prior)
    if not 0.0 < lam < 1.0:
        raise ValueError("prior must lie strictly between 0 and 1")
    total = np.asarray(weight, dtype=np.float64) + np.log2(lam / (1.0 - lam))
    out: FloatArray = 1.0 / (1.0 + np.exp2(-total))
    return out


def estimate_prior(
    weight: npt.ArrayLike, n_pairs: float, *, start: float = 1e-4, max_iter: int = 500
) -> float:
    r"""The share of matches among all ``n_pairs`` pairs, given the scored pairs' weights.

    The fixed point of :math:`\lambda = \frac{1}{N} \sum_k P(\text{match} \mid w_k,
    \lambda)` over the scored pairs, the pairs not scored (outside every block) counting
    as non-matches: the EM step of the prior with ``m`` and ``u`` held.

    Examples
    --------
    Ten pairs with overwhelming evidence among a million:

    >>> round(estimate_prior(np.r_[np.full(10, 60.0), np.full(90, -60.0)], 1e6) * 1e6, 6)
    10.0
    """
    w = np.asarray(weight, dtype=np.float64)
    n = float(n_pairs)
    if n < max(w.size, 1):
        raise ValueError("n_pairs must be at least the number of scored pairs")
    lam = float(np.clip(start, 1e-15, 0.5))
    for _ in range(int(max_iter)):  # iterations of one scalar, each vectorised over pairs
        logit = w + np.log2(lam / (1.0 - lam))
        new = float(np.sum(1.0 / (1.0 + np.exp2(-np.clip(logit, -1000, 1000)))) / n)
        new = float(np.clip(new, 1e-15, 1 - 1e-15))
        if abs(new - lam) <= 1e-12 + 1e-9 * lam:
            return new
        lam = new
    return lam


def fellegi_sunter_em(
    gamma: npt.ArrayLike,
    n_levels: npt.ArrayLike,
    *,
    m_start: npt.ArrayLike | None = None,
    u_start: npt.ArrayLike | None = None,
    prior_start: float = 0.1,
    fix_u: bool = False,
    max_iter: int = 200,
    tol: float = 1e-7,
    pseudo_count: float = 0.0,
) -> EMFit:
    r"""Estimate the m and u probabilities of comparison levels by EM.

    The pairs are a two-class mixture (matches, non-matches); given the class, the fields'
    levels are independent with probabilities ``m`` (matches) and ``u`` (non-matches).
    The E step gives each pair its posterior match probability, the M step sets ``m`` and
    ``u`` to the weighted level frequencies and the prior to the mean posterior. Missing
    levels (``-1``) add no likelihood and are left out of the frequencies. Identical
    level patterns are counted once (``numpy.unique``), so one iteration costs the number
    of distinct patterns, not of pairs.

    Parameters
    ----------
    gamma : array of int, shape (n_pairs, n_fields)
        Comparison level per pair and field, ``-1`` when missing.
    n_levels : array of int, shape (n_fields,)
        Number of levels of each field (at least 2).
    m_start, u_start : array, shape (n_fields, max(n_levels)), optional
        Starting values. Default: ``m`` rises and ``u`` falls with the level.
    prior_start : float, optional
        Starting share of matches.
    fix_u : bool, optional
        Keep ``u`` at ``u_start`` (e.g. estimated from random pairs) and estimate ``m``
        and the prior only.
    max_iter : int, optional
        Iteration cap.
    tol : float, optional
        Stop when no probability moves by more than this.
    pseudo_count : float, optional
        Added to the expected count of every level of every field in the M step (a
        Dirichlet prior): a level never seen among the matches keeps a small ``m``
        instead of a weight of about -30. ``0`` gives the maximum-likelihood estimate.

    Returns
    -------
    EMFit

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> match = rng.random(20000) < 0.3
    >>> agree = np.where(match[:, None], rng.random((20000, 3)) < 0.9,
    ...                  rng.random((20000, 3)) < 0.2)
    >>> fit = fellegi_sunter_em(agree.astype(int), [2, 2, 2])
    >>> fit.m[:, 1].round(1).tolist(), fit.u[:, 1].round(1).tolist(), round(fit.prior, 1)
    ([0.9, 0.9, 0.9], [0.2, 0.2, 0.2], 0.3)
    """
    levels = np.asarray(n_levels, dtype=np.int64)
    if levels.ndim != 1 or np.any(levels < 2):
        raise ValueError("n_levels must give at least 2 levels per field")
    g = _level_table(np.asarray(gamma), levels)
    n_fields, width = levels.size, int(levels.max())
    if g.shape[0] == 0:
        raise ValueError("EM needs at least one pair")
    patterns, counts = level_patterns(g, levels)
    weight = counts.astype(np.float64)
    grid = np.arange(width)[None, :] / np.maximum(levels[:, None] - 1, 1)
    m = _normalise_rows(
        np.asarray(m_start, np.float64) if m_start is not None else 0.05 + grid**2, levels
    )
    u = _normalise_rows(
        np.asarray(u_start, np.float64) if u_start is not None else 0.05 + (1 - grid) ** 4,
        levels,
    )
    lam = float(np.clip(prior_start, 1e-6, 1 - 1e-6))
    alpha = float(pseudo_count)
    if not alpha >= 0.0:
        raise ValueError("pseudo_count must be >= 0")
    present = patterns >= 0
    idx = np.maximum(patterns, 0)
    cols = np.arange(n_fields)[None, :]
    flat = cols * width + idx  # position of each (field, level) in the flattened table
    converged, n_iter = False, 0
    while n_iter < int(max_iter):  # iterations, each vectorised over patterns
        n_iter += 1
        log_m = np.where(present, np.log(m[cols, idx]), 0.0).sum(axis=1)
        log_u = np.where(present, np.log(u[cols, idx]), 0.0).sum(axis=1)
        logit = np.log(lam) - np.log1p(-lam) + log_m - log_u
        post = 1.0 / (1.0 + np.exp(-np.clip(logit, -700, 700)))
        wm, wu = weight * post, weight * (1.0 - post)
        new_m = _weighted_levels(flat, present, wm, n_fields, width) + alpha
        new_u = u if fix_u else _weighted_levels(flat, present, wu, n_fields, width) + alpha
        new_m, new_u = _normalise_rows(new_m, levels), _normalise_rows(new_u, levels)
        new_lam = float(np.clip(wm.sum() / weight.sum(), 1e-9, 1 - 1e-9))
        change = max(np.abs(new_m - m).max(), np.abs(new_u - u).max(), abs(new_lam - lam))
        m, u, lam = new_m, new_u, new_lam
        if change < tol:
            converged = True
            break
    return EMFit(m=m, u=u, prior=lam, n_iter=n_iter, converged=converged)


def level_patterns(gamma: npt.ArrayLike, n_levels: npt.ArrayLike) -> tuple[IntArray, IntArray]:
    """The distinct rows of a level table and how often each occurs.

    Each row is packed into one integer (mixed radix, ``n_levels + 1`` digits per field
    to hold the missing level), so that one sort of a 1-d array finds the patterns.

    Examples
    --------
    >>> pats, counts = level_patterns([[1, 0], [-1, 2], [1, 0]], [2, 3])
    >>> pats.tolist(), counts.tolist()
    ([[-1, 2], [1, 0]], [1, 2])
    """
    levels = np.asarray(n_levels, dtype=np.int64)
    g = _level_table(np.asarray(gamma), levels)
    radix = levels + 1
    if float(np.prod(radix.astype(np.float64))) >= 2.0**62:
        patterns, counts = np.unique(g, axis=0, return_counts=True)
        return patterns.astype(np.int64), counts.astype(np.int64)
    place = np.concatenate([np.cumprod(radix[::-1])[::-1][1:], [1]]).astype(np.int64)
    code = (g + 1) @ place
    uniq, counts = np.unique(code, return_counts=True)
    patterns = (uniq[:, None] // place[None, :]) % radix[None, :] - 1
    return patterns.astype(np.int64), counts.astype(np.int64)


def _weighted_levels(
    flat: IntArray, present: npt.NDArray[np.bool_], w: FloatArray, n_fields: int, width: int
) -> FloatArray:
    """Weighted count of each (field, level) over the patterns where it is present."""
    ww = np.broadcast_to(w[:, None], flat.shape)
    tab = np.bincount(flat[present], weights=ww[present], minlength=n_fields * width)
    out: FloatArray = tab.astype(np.float64).reshape(n_fields, width)
    return out
