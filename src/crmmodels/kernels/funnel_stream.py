r"""Numeric core of funnels on event streams: subsequence reach, windows and intervals.

Events are coded as integers: ``ent`` (entity code, ``0 .. n_entities - 1``), ``step``
(funnel position of the event, ``0 .. n_steps - 1``) and ``t`` (time, float days). The
subsequence rule counts an entity at step ``k`` when its path holds step ``k``'s event
after having passed every earlier step in order; :func:`first_entry_reach` gives the
first-entry rule of :mod:`crmmodels.kernels.funnel` for comparison. No pandas or
narwhals here.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from crmmodels.kernels.funnel import funnel_state

__all__ = [
    "first_entry_reach",
    "sequence_times",
    "sequence_times_within",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def sequence_times(
    ent: IntArray, step: IntArray, t: FloatArray, n_ent: int, n_steps: int
) -> FloatArray:
    r"""Times at which each entity reaches each step, counting the path as a subsequence.

    An entity reaches step :math:`k` when its events hold step 1, step 2, ..., step
    :math:`k` in that order (other events may come between; a later step may share the
    time of the step before it). The earliest such chain is returned: step 1 at the
    entity's first step-1 event, and each next step at its first event at or after the
    previous one.

    Parameters
    ----------
    ent, step : ndarray of int
        Entity code (``0 .. n_ent - 1``) and step position (``0 .. n_steps - 1``) of each
        event, in any order.
    t : ndarray of float
        Event times.
    n_ent, n_steps : int
        Number of entities and of steps.

    Returns
    -------
    ndarray
        ``(n_ent, n_steps)``: the time each entity reached each step, NaN where it did not.

    Examples
    --------
    >>> import numpy as np
    >>> ent = np.array([0, 0, 0, 0])
    >>> step = np.array([1, 0, 1, 2])  # step 1, then step 0, step 1 and step 2
    >>> sequence_times(ent, step, np.array([0.0, 1.0, 2.0, 3.0]), 1, 3).tolist()
    [[1.0, 2.0, 3.0]]
    """
    out = np.full((n_ent, n_steps), np.nan)
    prev = np.full(n_ent, -np.inf)
    order, bounds = _group_by_step(step, n_steps)
    for k in range(n_steps):
        rows = order[bounds[k] : bounds[k + 1]]
        e, tk = ent[rows], t[rows]
        ok = tk >= prev[e]
        cur = np.full(n_ent, np.inf)
        np.minimum.at(cur, e[ok], tk[ok])
        reached = np.isfinite(cur)
        out[reached, k] = cur[reached]
        prev = np.where(reached, cur, np.inf)
    return out


def _group_by_step(step: IntArray, n_steps: int) -> tuple[IntArray, IntArray]:
    """Row numbers grouped by step (stable) and the bounds of each step's group.

    Small step codes are sorted as 8- or 16-bit integers, which numpy sorts by radix
    (one linear pass instead of a comparison sort).
    """
    narrow = np.int8 if n_steps < 127 else np.int16 if n_steps < 32_767 else np.int64
    codes = step.astype(narrow, copy=False)
    order = np.argsort(codes, kind="stable").astype(np.int64, copy=False)
    counts = np.bincount(step, minlength=n_steps)[:n_steps]
    bounds = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
    return order, bounds


def sequence_times_within(
    ent: IntArray, step: IntArray, t: FloatArray, n_ent: int, n_steps: int, window: float
) -> FloatArray:
    r"""Like :func:`sequence_times`, but every step within ``window`` of the first step.

    Every step-1 event starts an attempt; an attempt reaches step :math:`k` when steps 2
    to :math:`k` follow it in order no later than ``window`` after it (each step at the
    first event at or after the previous step). The entity's depth is that of its best
    attempt, and the times returned are those of its earliest attempt of that depth.
    Differences of times are compared to ``window`` with a slack of a few rounding
    errors of the times (:func:`_slack`), so a step exactly ``window`` later counts.

    Examples
    --------
    >>> import numpy as np
    >>> ent = np.zeros(4, dtype=np.int64)
    >>> step = np.array([0, 0, 1, 2])
    >>> t = np.array([0.0, 5.0, 6.0, 9.0])
    >>> sequence_times_within(ent, step, t, 1, 3, window=3.0).tolist()
    [[5.0, 6.0, nan]]
    """
    out = np.full((n_ent, n_steps), np.nan)
    if ent.shape[0] == 0:
        return out
    _, rank = np.unique(t, return_inverse=True)
    n_rank = int(rank.max()) + 1
    order = np.lexsort((t, ent, step))  # by step, then entity, then time
    s_sorted = step[order]
    bounds = np.searchsorted(s_sorted, np.arange(n_steps + 1))
    keys = ent[order] * n_rank + rank[order]
    first_rows = order[bounds[0] : bounds[1]]
    a_ent, a_t0 = ent[first_rows], t[first_rows]
    a_rank = rank[first_rows]
    limit = window + _slack(t, window)
    times = np.full((a_ent.shape[0], n_steps), np.nan)
    times[:, 0] = a_t0
    alive = np.ones(a_ent.shape[0], dtype=bool)
    for k in range(1, n_steps):
        lo, hi = bounds[k], bounds[k + 1]
        j = lo + np.searchsorted(keys[lo:hi], a_ent * n_rank + a_rank, side="left")
        jj = np.minimum(j, max(hi - 1, lo))
        rows = order[jj] if hi > lo else np.zeros_like(jj)
        found = alive & (j < hi) & (ent[rows] == a_ent) & (t[rows] - a_t0 <= limit)
        times[found, k] = t[rows[found]]
        a_rank = np.where(found, rank[rows], a_rank)
        alive &= found
    depth = (~np.isnan(times)).sum(axis=1)
    best = np.zeros(n_ent, dtype=np.int64)
    np.maximum.at(best, a_ent, depth)
    keep = np.flatnonzero(depth == best[a_ent])  # attempts are sorted by entity, then time
    e_keep, first_idx = np.unique(a_ent[keep], return_index=True)
    out[e_keep] = times[keep[first_idx]]
    return out


def _slack(t: FloatArray, window: float) -> float:
    """A few rounding errors of the largest time: the tolerance of a window comparison."""
    scale = max(float(np.nanmax(np.abs(t))) if np.isfinite(t).any() else 0.0, abs(window))
    return 64.0 * float(np.finfo(np.float64).eps) * (scale if np.isfinite(scale) else 0.0)


def first_entry_reach(first: FloatArray, window: float | None = None) -> IntArray:
    """Path length under the first-entry rule, ``funnel_state(first, ..., "ordered").n``.

    The longest prefix of steps that are all entered with non-decreasing first-entry
    times; with a ``window``, also no later than ``window`` after the first step.

    Examples
    --------
    >>> import numpy as np
    >>> first = np.array([[0.0, 1.0, 5.0], [2.0, 1.0, 3.0]])
    >>> first_entry_reach(first).tolist(), first_entry_reach(first, 2.0).tolist()
    ([3, 1], [2, 1])
    """
    n = funnel_state(first, np.full(first.shape[0], np.nan), "ordered").n.astype(np.int64)
    if window is None:
        return n
    late = (first - first[:, :1]) > window + _slack(first, window)
    cut = np.where(late.any(axis=1), np.argmax(late, axis=1), first.shape[1])
    out: IntArray = np.minimum(n, cut).astype(np.int64)
    return out
