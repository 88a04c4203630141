r"""Numeric core of the sales funnel: entity states, stage counts and stay durations.

Input is a dense matrix ``first`` of shape ``(n_entities, n_stages)`` holding the first
entry time of every entity into every funnel stage (NaN when the entity has no event at
that stage; stages in funnel order) and a vector ``exit_time`` with the first exit event
(closed lost) of every entity (NaN when none). Times are floats (days).

Two modes decide how far an entity got (its *path length* :math:`n_e`, the number of
stages it counts as having entered):

- ``"any"``: :math:`n_e = 1 + \max\{k : \text{first}_{ek} \text{ observed}\}`;
  reaching a later stage implies every earlier one.
- ``"ordered"``: :math:`n_e` is the length of the longest prefix of stages that are all
  observed with non-decreasing first-entry times; a skipped stage or a step back in time
  ends the path.

No pandas or narwhals here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "DROPPED",
    "FINAL",
    "LEFT_PATH",
    "NOT_IN_FUNNEL",
    "OPEN",
    "FunnelState",
    "aggregate_events",
    "backwards_mask",
    "column_means",
    "funnel_state",
    "later_entry",
    "quantiles_by_column",
    "row_fmin",
    "stage_counts",
    "stay_durations",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

NOT_IN_FUNNEL = 0
OPEN = 1
DROPPED = 2
LEFT_PATH = 3
FINAL = 4


@dataclass(frozen=True)
class FunnelState:
    """Per-entity funnel state.

    Attributes
    ----------
    n : ndarray of int
        Path length: the number of funnel stages the entity counts as having entered.
    outcome : ndarray of int
        ``NOT_IN_FUNNEL`` (0), ``OPEN`` (1), ``DROPPED`` (2, an exit event at or after the
        entry into its last stage), ``LEFT_PATH`` (3, ordered mode: later events off the
        in-order path) or ``FINAL`` (4, reached the last stage).
    observed : ndarray of bool
        ``(n_entities, n_stages)``: the entity has an event at the stage.
    reopened : ndarray of bool
        The entity has an exit event before the entry into its last stage and no exit
        after it (it came back after being closed); counted as open.

    Examples
    --------
    >>> import numpy as np
    >>> first = np.array([[0.0, 2.0], [0.0, np.nan]])
    >>> s = funnel_state(first, np.array([np.nan, 1.0]), "any")
    >>> s.n.tolist(), s.outcome.tolist(), s.observed.tolist()
    ([2, 1], [4, 2], [[True, True], [True, False]])
    """

    n: IntArray
    outcome: IntArray
    observed: BoolArray
    reopened: BoolArray


def funnel_state(first: FloatArray, exit_time: FloatArray, mode: str) -> FunnelState:
    """Path length and outcome of every entity.

    Parameters
    ----------
    first : ndarray, shape (n_entities, n_stages)
        First entry time per stage (NaN when not observed).
    exit_time : ndarray, shape (n_entities,)
        First exit time (NaN when none).
    mode : {"any", "ordered"}
        Counting mode (see the module docstring).

    Returns
    -------
    FunnelState

    Examples
    --------
    >>> import numpy as np
    >>> f = np.array([[0.0, 2.0, np.nan], [0.0, np.nan, 3.0], [1.0, np.nan, np.nan]])
    >>> s = funnel_state(f, np.array([np.nan, np.nan, 4.0]), "any")
    >>> s.n.tolist(), s.outcome.tolist()
    ([2, 3, 1], [1, 4, 2])
    >>> funnel_state(f, np.array([np.nan, np.nan, 4.0]), "ordered").outcome.tolist()
    [1, 3, 2]
    """
    n_ent, n_stages = first.shape
    observed = ~np.isnan(first)
    # loops over the handful of stages keep every operation a contiguous 1-d one
    n = np.zeros(n_ent, dtype=np.int64)
    if mode == "any":
        for k in range(n_stages):
            n[observed[:, k]] = k + 1
    else:
        alive = observed[:, 0].copy()
        n += alive
        for k in range(1, n_stages):
            with np.errstate(invalid="ignore"):
                alive &= observed[:, k] & (first[:, k] >= first[:, k - 1])
            n += alive
    n = n.astype(np.int64)
    rows = np.arange(n_ent)
    last = np.maximum(n - 1, 0)
    first_last = np.where(n > 0, first[rows, last], np.nan)
    has_exit = ~np.isnan(exit_time)
    with np.errstate(invalid="ignore"):
        exit_after = has_exit & (exit_time >= first_last)
    outcome = np.full(n_ent, OPEN, dtype=np.int64)
    outcome[exit_after] = DROPPED
    if mode == "ordered":
        beyond = np.zeros(n_ent, dtype=bool)
        for k in range(n_stages):
            beyond |= observed[:, k] & (n <= k)
        outcome[beyond] = LEFT_PATH
    outcome[n == n_stages] = FINAL
    outcome[n == 0] = NOT_IN_FUNNEL
    reopened = has_exit & ~exit_after & (outcome == OPEN)
    return FunnelState(n=n, outcome=outcome, observed=observed, reopened=reopened)


def stage_counts(
    state: FunnelState, n_stages: int, group: IntArray | None = None, n_groups: int = 1
) -> dict[str, IntArray]:
    """Entered / advanced / dropped / open / implied / left-path counts per stage.

    Parameters
    ----------
    state : FunnelState
        From :func:`funnel_state`.
    n_stages : int
        Number of funnel stages.
    group : ndarray of int, optional
        Group code (0 .. ``n_groups - 1``) per entity; counts are per group.
    n_groups : int
        Number of groups.

    Returns
    -------
    dict of str to ndarray
        Arrays of shape ``(n_groups, n_stages)``. ``entered[k]`` counts entities with
        path length above ``k``; ``advanced[k] = entered[k + 1]`` (0 at the last stage);
        ``dropped`` and ``open`` count entities whose last stage is ``k`` by outcome
        (``dropped`` includes ``left_path``); ``implied`` counts entities counted at
        ``k`` without an event there. For every stage but the last,
        ``entered = advanced + dropped + open``.

    Examples
    --------
    >>> import numpy as np
    >>> f = np.array([[0.0, 2.0, np.nan], [0.0, np.nan, 3.0], [1.0, np.nan, np.nan]])
    >>> s = funnel_state(f, np.array([np.nan, np.nan, 4.0]), "any")
    >>> c = stage_counts(s, 3)
    >>> c["entered"].tolist(), c["advanced"].tolist(), c["dropped"].tolist()
    ([[3, 2, 1]], [[2, 1, 0]], [[1, 0, 0]])
    """
    g = np.zeros(state.n.shape[0], dtype=np.int64) if group is None else group
    width = n_stages + 1
    by_n = np.bincount(g * width + state.n, minlength=n_groups * width)
    by_n = by_n.reshape(n_groups, width)
    # entered[k] = #(n > k) = sum_{m > k} by_n[m]
    entered = np.cumsum(by_n[:, ::-1], axis=1)[:, ::-1][:, 1:]
    advanced = np.zeros_like(entered)
    advanced[:, :-1] = entered[:, 1:]
    last = np.maximum(state.n - 1, 0)

    def _count(mask: BoolArray) -> IntArray:
        out = np.bincount(g[mask] * n_stages + last[mask], minlength=n_groups * n_stages)
        return out.reshape(n_groups, n_stages).astype(np.int64)

    out_left = state.outcome == LEFT_PATH
    dropped = _count((state.outcome == DROPPED) | out_left)
    open_ = _count(state.outcome == OPEN)
    left = _count(out_left)
    entered_mask = np.arange(n_stages)[None, :] < state.n[:, None]
    implied_mask = entered_mask & ~state.observed
    implied = np.zeros((n_groups, n_stages), dtype=np.int64)
    for k in range(n_stages):
        implied[:, k] = np.bincount(g[implied_mask[:, k]], minlength=n_groups)
    return {
        "entered": entered.astype(np.int64),
        "advanced": advanced.astype(np.int64),
        "dropped": dropped,
        "open": open_,
        "implied": implied,
        "left_path": left,
    }


def backwards_mask(first: FloatArray) -> BoolArray:
    """Entities whose first-entry times go backwards against funnel order.

    True when some observed stage is entered earlier than an observed earlier stage.

    Examples
    --------
    >>> import numpy as np
    >>> backwards_mask(np.array([[0.0, 2.0, 1.0], [0.0, np.nan, 3.0]])).tolist()
    [True, False]
    """
    running = first[:, 0].copy()
    bad = np.zeros(first.shape[0], dtype=bool)
    for k in range(1, first.shape[1]):
        with np.errstate(invalid="ignore"):
            bad |= first[:, k] < running
        running = np.fmax(running, first[:, k])
    return bad


def stay_durations(
    first: FloatArray, exit_time: FloatArray, state: FunnelState, observation_end: float
) -> tuple[FloatArray, FloatArray]:
    """Finished and open stay lengths per entity and stage.

    A stay in stage ``k`` starts at the first entry into ``k`` and, for an entity that
    left it, ends at its first entry into any later stage or, when there is none, at its
    exit event (dropped entities). Stays of the last stage, stages counted only by
    implication (no event there) and stays that would end before they start (timestamps
    going backwards) have no finished length. An open entity's stay in its current stage
    is ``observation_end - start``.

    Parameters
    ----------
    first, exit_time : ndarray
        As in :func:`funnel_state`.
    state : FunnelState
        From :func:`funnel_state`.
    observation_end : float
        Observation end (same unit as ``first``).

    Returns
    -------
    finished, open : ndarray, shape (n_entities, n_stages)
        Lengths (NaN where not applicable).

    Examples
    --------
    >>> import numpy as np
    >>> f = np.array([[0.0, 2.0, np.nan], [0.0, np.nan, 3.0], [1.0, np.nan, np.nan]])
    >>> x = np.array([np.nan, np.nan, 4.0])
    >>> done, still = stay_durations(f, x, funnel_state(f, x, "any"), 10.0)
    >>> done.tolist()[2], still.tolist()[0]
    ([3.0, nan, nan], [nan, 8.0, nan])
    """
    n_ent, n_stages = first.shape
    later = later_entry(first)
    finished = np.full((n_ent, n_stages), np.nan, order="F")
    still = np.full((n_ent, n_stages), np.nan, order="F")
    dropped = state.outcome == DROPPED
    is_open = state.outcome == OPEN
    for k in range(n_stages - 1):
        start = first[:, k]
        at_last = state.n == k + 1
        end = later[:, k]
        end = np.where(np.isnan(end) & at_last & dropped, exit_time, end)
        with np.errstate(invalid="ignore"):
            dur = end - start
            ok = (state.n > k) & (dur >= 0)
        finished[ok, k] = dur[ok]
        op = is_open & at_last & ~np.isnan(start)
        still[op, k] = observation_end - start[op]
    return finished, still


def later_entry(first: FloatArray) -> FloatArray:
    """First entry into any later stage: ``min_{j > k} first[:, j]`` (NaN when none).

    Examples
    --------
    >>> import numpy as np
    >>> later_entry(np.array([[0.0, 5.0, 3.0]])).tolist()
    [[3.0, 3.0, nan]]
    """
    later = np.full(first.shape, np.nan, order="F")
    cur = later[:, -1].copy()
    for k in range(first.shape[1] - 2, -1, -1):
        cur = np.fmin(cur, first[:, k + 1])
        later[:, k] = cur
    return later


def row_fmin(values: FloatArray) -> FloatArray:
    """Row-wise NaN-ignoring minimum (NaN for an all-NaN row).

    Examples
    --------
    >>> import numpy as np
    >>> row_fmin(np.array([[3.0, 1.0], [np.nan, 2.0], [np.nan, np.nan]])).tolist()
    [1.0, 2.0, nan]
    """
    out = np.full(values.shape[0], np.nan)
    for k in range(values.shape[1]):
        out = np.fmin(out, values[:, k])
    return out


def quantiles_by_column(values: FloatArray, q: tuple[float, ...]) -> FloatArray:
    """Column-wise NaN-ignoring quantiles (NaN for an all-NaN column), shape (len(q), k).

    Examples
    --------
    >>> import numpy as np
    >>> v = np.array([[1.0, np.nan], [3.0, np.nan], [5.0, np.nan]])
    >>> quantiles_by_column(v, (0.5, 0.9)).tolist()
    [[3.0, nan], [4.6, nan]]
    """
    out = np.full((len(q), values.shape[1]), np.nan)
    for j in range(values.shape[1]):
        col = values[:, j]
        col = col[~np.isnan(col)]
        if col.size:
            out[:, j] = np.quantile(col, q)
    return out


def column_means(values: FloatArray) -> FloatArray:
    """Column-wise NaN-ignoring means (NaN for an all-NaN column).

    Examples
    --------
    >>> import numpy as np
    >>> column_means(np.array([[1.0, np.nan], [3.0, np.nan]])).tolist()
    [2.0, nan]
    """
    count = (~np.isnan(values)).sum(axis=0)
    total = np.nansum(values, axis=0)
    out: Any = np.full(values.shape[1], np.nan)
    np.divide(total, count, out=out, where=count > 0)
    return np.asarray(out, dtype=np.float64)


def aggregate_events(
    key: IntArray, t: npt.NDArray[Any], n_keys: int, amount: FloatArray | None = None
) -> dict[str, npt.NDArray[Any]]:
    """Per-key first time, row count and distinct-time count of an event log.

    ``key`` codes (entity, stage) pairs as integers in ``0 .. n_keys - 1``. Distinct times
    are counted exactly, by sorting only the rows whose key occurs more than once.

    Parameters
    ----------
    key : ndarray of int
        Key code per event.
    t : ndarray of int or float
        Event time per event (no NaN).
    n_keys : int
        Number of possible keys.
    amount : ndarray of float, optional
        Amount per event; its NaN-ignoring maximum per key is returned.

    Returns
    -------
    dict of str to ndarray
        ``key`` (the keys present, ascending), ``first``, ``n_rows``, ``n_times``,
        ``t_max`` (the latest time, a 0-d array) and, with ``amount``, ``amount``.

    Examples
    --------
    >>> import numpy as np
    >>> out = aggregate_events(np.array([2, 0, 2, 2]), np.array([5, 1, 3, 5]), 3)
    >>> out["key"].tolist(), out["first"].tolist(), out["n_rows"].tolist()
    ([0, 2], [1, 3], [1, 3])
    >>> out["n_times"].tolist()
    [1, 2]
    """
    n_rows_all = np.bincount(key, minlength=n_keys)
    present = np.flatnonzero(n_rows_all)
    first: npt.NDArray[Any]
    if np.issubdtype(t.dtype, np.integer):
        first = np.full(n_keys, np.iinfo(t.dtype).max, dtype=t.dtype)
    else:
        first = np.full(n_keys, np.inf, dtype=t.dtype)
    np.minimum.at(first, key, t)
    n_times_all = n_rows_all.copy()
    multi = n_rows_all[key] > 1
    if multi.any():
        k_m, t_m = key[multi], t[multi]
        order = np.lexsort((t_m, k_m))
        k_s, t_s = k_m[order], t_m[order]
        repeat = np.zeros(k_s.shape[0], dtype=bool)
        repeat[1:] = (k_s[1:] == k_s[:-1]) & (t_s[1:] == t_s[:-1])
        n_times_all -= np.bincount(k_s[repeat], minlength=n_keys)
    out: dict[str, npt.NDArray[Any]] = {
        "key": present,
        "first": first[present],
        "t_max": np.asarray(t.max()),
        "n_rows": n_rows_all[present],
        "n_times": n_times_all[present],
    }
    if amount is not None:
        amt = np.full(n_keys, np.nan)
        ok = ~np.isnan(amount)
        np.fmax.at(amt, key[ok], amount[ok])
        out["amount"] = amt[present]
    return out


# ------------------------------------------------------------------ event streams
