"""Simulated stage histories with known per-stage conversion and stay durations."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from crmmodels.errors import DataError

__all__ = ["FunnelSimulation", "simulate_funnel"]

_DEFAULT_STAGES = ("lead_generation", "needs_analysis", "proposal_quote", "closed_won")


@dataclass(frozen=True)
class FunnelSimulation:
    """Simulated stage-history log and the truth behind it.

    Attributes
    ----------
    history : pandas.DataFrame
        One row per event: ``entity_id``, ``stage``, ``entered_at`` and, when asked for,
        ``amount``, ``owner``, ``segment``. Events after ``observation_end`` are not in
        the log, so some entities are still open.
    truth : pandas.DataFrame
        One row per stage but the last: ``stage``, ``conversion`` (probability of
        advancing) and ``mean_days`` (mean stay before advancing or dropping).
    observation_end : pandas.Timestamp
        End of the observation window.

    Examples
    --------
    >>> sim = simulate_funnel(100, seed=0)
    >>> list(sim.history.columns)[:3]
    ['entity_id', 'stage', 'entered_at']
    >>> list(sim.truth.columns)
    ['stage', 'conversion', 'mean_days']
    """

    history: pd.DataFrame
    truth: pd.DataFrame
    observation_end: pd.Timestamp


def simulate_funnel(
    n_entities: int,
    *,
    stages: Sequence[str] = _DEFAULT_STAGES,
    conversion: Sequence[float] = (0.6, 0.5, 0.4),
    mean_days: Sequence[float] = (7.0, 14.0, 21.0),
    seed: int | None = 0,
    start: Any = "2024-01-01",
    entry_days: float = 365.0,
    observe_days: float = 60.0,
    exit_stage: str = "closed_lost",
    amount: bool = True,
    owners: int = 5,
    segments: Sequence[str] = ("smb", "enterprise"),
) -> FunnelSimulation:
    r"""Simulate a sales funnel with known per-stage conversion and stay durations.

    Entities arrive uniformly over ``entry_days`` from ``start`` and enter the first
    stage. In stage :math:`k` (all but the last) an entity stays an exponential time
    with mean ``mean_days[k]``, then advances to stage :math:`k + 1` with probability
    ``conversion[k]`` or exits (an ``exit_stage`` event) otherwise. The last stage is
    terminal (won). The log ends ``observe_days`` after the last arrival; later events
    are cut, leaving open entities. Times have one-second resolution.

    Parameters
    ----------
    n_entities : int
        Number of entities (leads / opportunities).
    stages : sequence of str
        Funnel stages in order (at least two).
    conversion, mean_days : sequence of float
        Per stage but the last: probability of advancing, mean stay in days.
    seed : int, optional
        Random seed.
    start : date-like
        First arrival date.
    entry_days, observe_days : float
        Length of the arrival window, and of the extra observation after it.
    exit_stage : str
        Name of the drop-out event.
    amount : bool
        Add a lognormal deal ``amount`` per entity (median 10,000).
    owners : int
        Number of sales owners (``owner`` column ``rep_1`` ...); 0 for none.
    segments : sequence of str
        Segment labels drawn uniformly per entity (``segment`` column); empty for none.

    Returns
    -------
    FunnelSimulation

    Examples
    --------
    >>> sim = simulate_funnel(1000, seed=3)
    >>> sim.truth["conversion"].tolist()
    [0.6, 0.5, 0.4]
    >>> sorted(sim.history.columns)
    ['amount', 'entered_at', 'entity_id', 'owner', 'segment', 'stage']
    """
    st = [str(s) for s in stages]
    k_trans = len(st) - 1
    conv = np.asarray(conversion, dtype=np.float64)
    mean = np.asarray(mean_days, dtype=np.float64)
    if k_trans < 1:
        raise DataError("stages must name at least two stages.")
    if conv.shape != (k_trans,) or mean.shape != (k_trans,):
        raise DataError(
            f"conversion and mean_days need one value per stage but the last ({k_trans}); "
            f"got {conv.shape[0]} and {mean.shape[0]}."
        )
    if ((conv < 0) | (conv > 1)).any() or (mean <= 0).any():
        raise DataError("conversion must lie in [0, 1] and mean_days must be positive.")
    if n_entities < 1:
        raise DataError(f"n_entities must be positive; got {n_entities}.")
    rng = np.random.default_rng(seed)
    t0 = rng.uniform(0.0, entry_days, n_entities)
    end_day = entry_days + observe_days
    ids_parts = [np.arange(n_entities)]
    stage_parts = [np.zeros(n_entities, dtype=np.int64)]
    time_parts = [t0]
    alive = np.arange(n_entities)
    t = t0
    for k in range(k_trans):
        t = t + rng.exponential(mean[k], alive.shape[0])
        adv = rng.random(alive.shape[0]) < conv[k]
        ids_parts.append(alive)
        stage_parts.append(np.where(adv, k + 1, -1))
        time_parts.append(t)
        alive, t = alive[adv], t[adv]
    ids = np.concatenate(ids_parts)
    code = np.concatenate(stage_parts)
    days = np.concatenate(time_parts)
    keep = days <= end_day
    ids, code, days = ids[keep], code[keep], days[keep]
    order = np.lexsort((days, ids))
    ids, code, days = ids[order], code[order], days[order]
    names = np.array([*st, exit_stage], dtype=object)
    t_start = pd.Timestamp(start)
    secs = np.round(days * 86_400.0).astype(np.int64)
    history = pd.DataFrame(
        {
            "entity_id": ids,
            "stage": names[code],
            "entered_at": t_start + pd.to_timedelta(secs, unit="s"),
        }
    )
    if amount:
        amt = np.round(rng.lognormal(np.log(10_000.0), 0.6, n_entities), 2)
        history["amount"] = amt[ids]
    if owners > 0:
        own = np.array([f"rep_{i + 1}" for i in range(owners)], dtype=object)
        history["owner"] = own[rng.integers(0, owners, n_entities)][ids]
    if len(segments) > 0:
        seg = np.array(list(segments), dtype=object)
        history["segment"] = seg[rng.integers(0, len(seg), n_entities)][ids]
    truth = pd.DataFrame({"stage": st[:-1], "conversion": conv, "mean_days": mean})
    return FunnelSimulation(
        history=history,
        truth=truth,
        observation_end=t_start + pd.Timedelta(days=end_day),
    )
