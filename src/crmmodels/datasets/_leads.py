"""Simulated leads with known logistic effects on the chance of a won deal."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from crmmodels._ingest.arguments import check_bool, check_int, check_number

__all__ = ["LeadSimulation", "simulate_leads"]

#: log-odds effects of the simulation (see :func:`simulate_leads`)
_SOURCE = {"web": 0.0, "referral": 1.0, "event": 0.5, "cold_call": -1.0}
_INDUSTRY = {"retail": 0.0, "software": 0.6, "manufacturing": -0.4}
_INTERCEPT = -1.2
_ENGAGEMENT = 0.8
_BUDGET = 0.5
_BUDGET_MISSING = -0.5


@dataclass(frozen=True)
class LeadSimulation:
    """Simulated leads and the truth behind them.

    Attributes
    ----------
    leads : pandas.DataFrame
        One row per lead: ``lead_id``, ``created_at``, ``source``, ``industry`` (missing
        for some leads), ``engagement``, ``budget`` (missing for some leads), ``stage``
        and ``outcome`` (``"won"``, ``"lost"`` or ``"open"``); with ``leak=True`` also
        ``days_to_close``, a field filled in when the lead closes.
    probability : numpy.ndarray
        The true probability that each lead is won, in the order of ``leads``.
    won : numpy.ndarray
        Whether each lead is (or, for open leads, will be) won.
    effects : dict
        The log-odds effects: ``intercept``, ``engagement`` and ``budget`` (per unit),
        ``budget_missing``, and ``source:<value>`` / ``industry:<value>``.

    Examples
    --------
    >>> sim = simulate_leads(200, seed=0)
    >>> list(sim.leads.columns)  # doctest: +NORMALIZE_WHITESPACE
    ['lead_id', 'created_at', 'source', 'industry', 'engagement', 'budget', 'stage',
     'outcome']
    >>> sorted(sim.leads["outcome"].unique())
    ['lost', 'open', 'won']
    """

    leads: pd.DataFrame
    probability: np.ndarray[Any, np.dtype[np.float64]]
    won: np.ndarray[Any, np.dtype[np.bool_]]
    effects: dict[str, float]


def simulate_leads(
    n_leads: int,
    *,
    seed: int | None = 0,
    start: Any = "2024-01-01",
    days: float = 365.0,
    open_days: float = 45.0,
    missing_share: float = 0.2,
    leak: bool = False,
) -> LeadSimulation:
    r"""Simulate leads whose chance of a won deal follows a known logistic model.

    Each lead is created at a uniform time over ``days`` from ``start``. Its log-odds of
    being won are

    $$\eta = -1.2 + 0.8\,\text{engagement} + 0.5\,\text{budget}
    + \beta_{\text{source}} + \beta_{\text{industry}},$$

    with engagement and budget standard normal, sources ``web`` (0), ``referral`` (+1),
    ``event`` (+0.5), ``cold_call`` (-1) and industries ``retail`` (0), ``software``
    (+0.6), ``manufacturing`` (-0.4). A share ``missing_share`` of budgets is missing,
    and a missing budget has its own effect (-0.5 instead of :math:`0.5\,\text{budget}`);
    the same share of industries is missing (effect 0, as retail). Leads created in the
    last ``open_days`` are still open (their outcome is drawn but not shown). With
    ``leak=True`` a column ``days_to_close`` is added that a CRM fills in when a lead
    closes: present only for closed leads, and shorter for lost ones.

    Parameters
    ----------
    n_leads : int
        Number of leads.
    seed : int or None
        Seed of the random generator.
    start : date-like
        First creation date.
    days, open_days : float
        Length of the creation window; the last ``open_days`` of it are still open.
    missing_share : float
        Share of missing budgets and of missing industries.
    leak : bool
        Add the post-outcome column ``days_to_close``.

    Returns
    -------
    LeadSimulation

    Examples
    --------
    >>> sim = simulate_leads(5000, seed=1)
    >>> bool(abs(sim.won.mean() - sim.probability.mean()) < 0.03)
    True
    """
    n = check_int(n_leads, "n_leads", low=1)
    days = check_number(days, "days", low=0.0, low_open=True)
    open_days = check_number(open_days, "open_days", low=0.0, high=days)
    missing_share = check_number(missing_share, "missing_share", low=0.0, high=1.0)
    leak = check_bool(leak, "leak")
    rng = np.random.default_rng(seed)
    offset = np.sort(rng.uniform(0.0, days, n))
    created = pd.Timestamp(start) + pd.to_timedelta(np.round(offset * 86400.0), unit="s")
    source = rng.choice(list(_SOURCE), size=n, p=[0.4, 0.2, 0.2, 0.2])
    industry = rng.choice(list(_INDUSTRY), size=n).astype(object)
    engagement = rng.standard_normal(n)
    budget = rng.standard_normal(n)
    no_budget = rng.random(n) < missing_share
    no_industry = rng.random(n) < missing_share
    eta = (
        _INTERCEPT
        + _ENGAGEMENT * engagement
        + np.where(no_budget, _BUDGET_MISSING, _BUDGET * budget)
        + pd.Series(source).map(_SOURCE).to_numpy(dtype=np.float64)
        + np.where(no_industry, 0.0, pd.Series(industry).map(_INDUSTRY).to_numpy(dtype=np.float64))
    )
    prob = 1.0 / (1.0 + np.exp(-eta))
    won = rng.random(n) < prob
    is_open = offset > days - open_days
    outcome = np.where(is_open, "open", np.where(won, "won", "lost")).astype(object)
    industry[no_industry] = None
    stage = np.where(
        is_open,
        rng.choice(["new", "contacted", "qualified"], size=n),
        np.where(won, "converted", "disqualified"),
    )
    leads = pd.DataFrame(
        {
            "lead_id": np.arange(1, n + 1, dtype=np.int64),
            "created_at": created,
            "source": source.astype(object),
            "industry": industry,
            "engagement": np.round(engagement, 4),
            "budget": np.where(no_budget, np.nan, np.round(budget, 4)),
            "stage": stage.astype(object),
            "outcome": outcome,
        }
    )
    if leak:
        close = np.where(won, rng.gamma(4.0, 10.0, n), rng.gamma(2.0, 5.0, n))
        leads["days_to_close"] = np.where(is_open, np.nan, np.round(close, 1))
    effects = {
        "intercept": _INTERCEPT,
        "engagement": _ENGAGEMENT,
        "budget": _BUDGET,
        "budget_missing": _BUDGET_MISSING,
        **{f"source:{k}": v for k, v in _SOURCE.items()},
        **{f"industry:{k}": v for k, v in _INDUSTRY.items()},
    }
    return LeadSimulation(leads=leads, probability=prob, won=won, effects=effects)
