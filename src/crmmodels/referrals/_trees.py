"""Referral forests as parent arrays: cycles, roots, depths and subtree sums (numpy only).

A forest of ``n`` customers is the array ``parent``: ``parent[i]`` is the position of
the customer who referred customer ``i``, or -1 for an organic customer (a root). Every
function here works on whole arrays: pointer jumping takes ``log2`` of the longest chain
steps, and subtree sums loop over depth levels, never over customers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["Forest", "cycle_members", "forest", "subtree_sums"]

IntArray = npt.NDArray[np.int64]


def _jump_limit(n: int) -> int:
    return max(1, int(np.ceil(np.log2(max(n, 2)))) + 1)


def cycle_members(parent: IntArray) -> npt.NDArray[np.bool_]:
    """True for the customers on a referral cycle (A referred B, B referred A ...).

    Roots point to themselves; after ``n`` steps up the chain every customer stands on a
    root or on a cycle, and the cycle positions reached that way are all the cycle
    members (stepping up is a permutation on a cycle).

    Examples
    --------
    >>> cycle_members(np.array([-1, 0, 3, 4, 2, 4])).tolist()
    [False, False, True, True, True, False]
    """
    n = parent.size
    up = np.where(parent < 0, np.arange(n), parent)
    for _ in range(_jump_limit(n)):  # up^(2^k): at least n steps once 2^k >= n
        up = up[up]
    on_cycle = np.zeros(n, dtype=bool)
    on_cycle[up] = True
    on_cycle &= parent >= 0  # roots are fixed points, not cycles
    return on_cycle


@dataclass(frozen=True)
class Forest:
    """Roots, depths and the direct-referral counts of an acyclic parent array."""

    root: IntArray
    depth: IntArray
    n_direct: IntArray


def forest(parent: IntArray) -> Forest:
    """Root and depth of each customer by pointer jumping (the parent array has no cycle).

    Examples
    --------
    >>> f = forest(np.array([-1, 0, 1, 1, -1]))
    >>> f.root.tolist(), f.depth.tolist(), f.n_direct.tolist()
    ([0, 0, 0, 0, 4], [0, 1, 2, 2, 0], [1, 2, 0, 0, 0])
    """
    n = parent.size
    is_root = parent < 0
    up = np.where(is_root, np.arange(n), parent)
    dist = (~is_root).astype(np.int64)
    # invariant: dist[i] is the number of steps from i up to up[i]
    for _ in range(_jump_limit(n)):
        if np.array_equal(up, up[up]):  # every up[i] is a root
            break
        dist = dist + dist[up]
        up = up[up]
    n_direct = np.bincount(parent[~is_root], minlength=n).astype(np.int64)
    return Forest(root=up.astype(np.int64), depth=dist, n_direct=n_direct)


def subtree_sums(
    parent: IntArray, depth: IntArray, values: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """Sum of ``values`` over each customer's descendants (not the customer itself).

    The deepest level is added to its parents first, then the next level up: one
    vectorised step per level of the deepest tree.

    Examples
    --------
    >>> parent = np.array([-1, 0, 1, 1, -1])
    >>> depth = forest(parent).depth
    >>> subtree_sums(parent, depth, np.ones(5)).tolist()
    [3.0, 2.0, 0.0, 0.0, 0.0]
    """
    n = parent.size
    total = np.asarray(values, dtype=np.float64).copy()  # own + descendants
    for level in range(int(depth.max(initial=0)), 0, -1):
        at = np.flatnonzero(depth == level)
        total += np.bincount(parent[at], weights=total[at], minlength=n)
    return total - np.asarray(values, dtype=np.float64)
