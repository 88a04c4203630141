"""Simulate transaction logs from buy-till-you-die models with known ground truth.

Draws are exact and in continuous time: inter-purchase times are exponential, the
BG/NBD (and MBG/NBD) customer drops out after a purchase with probability ``p``, the
Pareto/NBD customer has an exponential lifetime, and purchase amounts follow the
Gamma-Gamma spend model. Customers are simulated together (vectorised over customers,
looping only over purchase rounds, on a shrinking set of active customers).

Purchase times keep their time of day: nothing is rounded to a day grid, so the true
per-customer summary (``simulate_summary``) is the continuous-time one. Simulators that
place purchases on whole days before summarising (for example the transactional
generators of the lifetimes package, whose log is meant to be summarised with daily
periods, and which also put the first purchase one period before the simulated age
starts) merge purchases that fall on the same day and shift ``T``, so the summary
undercounts repeat purchases of frequent buyers and a fit on it is biased.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd

from crmmodels.errors import DataError

__all__ = ["DEFAULT_PARAMS", "simulate_summary", "simulate_transactions"]

#: published CDNOW estimates (weeks), used when ``params`` / ``spend_params`` are None
DEFAULT_PARAMS: dict[str, dict[str, float]] = {
    "bgnbd": {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426},
    "mbgnbd": {"r": 0.525, "alpha": 6.183, "a": 0.891, "b": 1.614},
    "paretonbd": {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669},
    "gammagamma": {"p": 6.25, "q": 3.74, "v": 15.44},
}

_NAMES = {
    "bgnbd": ("r", "alpha", "a", "b"),
    "mbgnbd": ("r", "alpha", "a", "b"),
    "paretonbd": ("r", "alpha", "s", "beta"),
    "gammagamma": ("p", "q", "v"),
}

Model = Literal["bgnbd", "mbgnbd", "paretonbd"]


def _check_params(kind: str, params: Mapping[str, float] | None, what: str) -> dict[str, float]:
    if params is None:
        return dict(DEFAULT_PARAMS[kind])
    names = _NAMES[kind]
    if set(params) != set(names):
        raise DataError(f"{what} for {kind!r} must give exactly {list(names)}; got {list(params)}.")
    out = {k: float(params[k]) for k in names}
    bad = {k: v for k, v in out.items() if not (np.isfinite(v) and v > 0)}
    if bad:
        raise DataError(f"{what} must be finite and > 0; got {bad}.")
    return out


def _simulate(
    n_customers: int,
    model: str,
    params: Mapping[str, float] | None,
    spend_params: Mapping[str, float] | None,
    observation_weeks: float,
    acquisition_weeks: float,
    seed: int | None,
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """Return (events with customer index, time in weeks and amount; truth; params)."""
    if isinstance(n_customers, bool) or not isinstance(n_customers, (int, np.integer)):
        raise DataError(f"n_customers must be an integer >= 1; got {n_customers!r}.")
    if n_customers < 1:
        raise DataError(f"n_customers must be an integer >= 1; got {n_customers!r}.")
    if model not in ("bgnbd", "mbgnbd", "paretonbd"):
        raise DataError(f"model must be 'bgnbd', 'mbgnbd' or 'paretonbd'; got {model!r}.")
    if not (np.isfinite(observation_weeks) and observation_weeks > 0):
        raise DataError(f"observation_weeks must be > 0; got {observation_weeks!r}.")
    if not (np.isfinite(acquisition_weeks) and 0 <= acquisition_weeks < observation_weeks):
        raise DataError(
            "acquisition_weeks must lie in [0, observation_weeks); "
            f"got {acquisition_weeks!r} (observation_weeks={observation_weeks!r})."
        )
    prm = _check_params(model, params, "params")
    sp = _check_params("gammagamma", spend_params, "spend_params")
    rng = np.random.default_rng(seed)
    n = int(n_customers)
    lam = rng.gamma(prm["r"], 1.0 / prm["alpha"], size=n)
    first = rng.uniform(0.0, acquisition_weeks, size=n) if acquisition_weeks > 0 else np.zeros(n)
    age = observation_weeks - first
    truth: dict[str, Any] = {"lambda": lam}
    if model == "paretonbd":
        mu = rng.gamma(prm["s"], 1.0 / prm["beta"], size=n)
        lifetime = rng.exponential(1.0, size=n) / mu
        horizon = np.minimum(lifetime, age)
        truth["mu"] = mu
        truth["alive"] = lifetime > age
        drop_p = np.zeros(n)
    else:
        drop_p = rng.beta(prm["a"], prm["b"], size=n)
        horizon = age.copy()
        truth["p"] = drop_p
    alive = np.ones(n, dtype=bool)
    if model == "mbgnbd":  # may drop out right after the first purchase
        alive = rng.random(n) >= drop_p
    active = np.flatnonzero(alive)
    clock = np.zeros(n)
    cust_parts = [np.arange(n)]
    time_parts = [np.zeros(n)]
    while active.size:
        clock[active] += rng.exponential(1.0, size=active.size) / lam[active]
        bought = clock[active] < horizon[active]
        active = active[bought]
        cust_parts.append(active)
        time_parts.append(clock[active])
        if model != "paretonbd":
            dropped = rng.random(active.size) < drop_p[active]
            alive[active[dropped]] = False
            active = active[~dropped]
    if model != "paretonbd":
        truth["alive"] = alive
    cust = np.concatenate(cust_parts)
    times = np.concatenate(time_parts)
    order = np.lexsort((times, cust))
    cust, times = cust[order], times[order]
    nu = rng.gamma(sp["q"], 1.0 / sp["v"], size=n)
    amount = rng.gamma(sp["p"], 1.0, size=cust.size) / nu[cust]
    events = pd.DataFrame({"customer": cust, "t": times, "amount": amount})
    counts = np.bincount(cust, minlength=n)
    last = np.zeros(n)
    last[cust] = times  # sorted by time within customer: the last write wins
    is_repeat = times > 0
    rep_sum = np.bincount(cust[is_repeat], weights=amount[is_repeat], minlength=n)
    freq = counts - 1
    with np.errstate(invalid="ignore", divide="ignore"):
        monetary = np.where(freq > 0, rep_sum / np.maximum(freq, 1), 0.0)
    summary = pd.DataFrame(
        {
            "customer_id": np.arange(1, n + 1),
            "frequency": freq.astype(np.int64),
            "recency": last,
            "T": age,
            "monetary_value": monetary,
            "first_purchase_week": first,
            **truth,
            "nu": nu,
        }
    )
    return events.assign(first=first[cust]), summary, {"params": prm, "spend_params": sp}


def simulate_transactions(
    n_customers: int,
    model: Model = "bgnbd",
    params: Mapping[str, float] | None = None,
    spend_params: Mapping[str, float] | None = None,
    observation_weeks: float = 39.0,
    seed: int | None = None,
    start: str | pd.Timestamp = "1997-01-01",
    *,
    acquisition_weeks: float = 12.0,
) -> pd.DataFrame:
    """Simulate a transaction log from a BG/NBD, MBG/NBD or Pareto/NBD customer base.

    Each customer makes a first purchase at a uniform time in the first
    ``acquisition_weeks`` after ``start`` and is observed until ``observation_weeks``
    after ``start``. Repeat purchases follow the chosen model (time unit: weeks) and each
    purchase amount the Gamma-Gamma model.

    Parameters
    ----------
    n_customers : int
        Number of customers.
    model : {"bgnbd", "mbgnbd", "paretonbd"}
        Transaction model.
    params : dict, optional
        Model parameters (``r, alpha, a, b`` or ``r, alpha, s, beta``); default the
        published CDNOW estimates (``DEFAULT_PARAMS``).
    spend_params : dict, optional
        Gamma-Gamma ``p, q, v``; default the CDNOW estimates.
    observation_weeks : float
        End of observation, in weeks after ``start``.
    seed : int, optional
        Seed of the random generator (same seed, same customers as
        :func:`simulate_summary`).
    start : str or Timestamp
        Calendar date of time 0.
    acquisition_weeks : float
        Length of the acquisition window (first purchases), ``< observation_weeks``.

    Returns
    -------
    pandas.DataFrame
        Columns ``customer_id`` (1..n), ``date`` (datetime64 with the time of day kept,
        never rounded to a day grid) and ``amount``; sorted by customer and date.

    Examples
    --------
    >>> from crmmodels.datasets._simulate import simulate_transactions
    >>> tx = simulate_transactions(1000, seed=1)
    >>> list(tx.columns), tx["customer_id"].nunique()
    (['customer_id', 'date', 'amount'], 1000)
    """
    events, _, _ = _simulate(
        n_customers, model, params, spend_params, observation_weeks, acquisition_weeks, seed
    )
    origin = pd.Timestamp(start)
    days = (events["first"].to_numpy() + events["t"].to_numpy()) * 7.0
    dates = origin + pd.to_timedelta(np.round(days * 86_400e9).astype(np.int64), unit="ns")
    return pd.DataFrame(
        {
            "customer_id": events["customer"].to_numpy() + 1,
            "date": dates,
            "amount": events["amount"].to_numpy(),
        }
    )


def simulate_summary(
    n_customers: int,
    model: Model = "bgnbd",
    params: Mapping[str, float] | None = None,
    spend_params: Mapping[str, float] | None = None,
    observation_weeks: float = 39.0,
    seed: int | None = None,
    *,
    acquisition_weeks: float = 12.0,
) -> pd.DataFrame:
    """True continuous-time customer summary of :func:`simulate_transactions`.

    Same arguments and seed give the same customers as :func:`simulate_transactions`.

    Returns
    -------
    pandas.DataFrame
        ``customer_id``, ``frequency`` (repeat purchases), ``recency`` and ``T`` (weeks,
        exact), ``monetary_value`` (mean repeat amount, 0 without repeats),
        ``first_purchase_week`` and the latent truth: ``lambda``, ``p`` (BG/NBD, MBG/NBD)
        or ``mu`` (Pareto/NBD), ``alive`` at the end of observation and ``nu`` (spend rate).

    Examples
    --------
    >>> from crmmodels.datasets._simulate import simulate_summary
    >>> s = simulate_summary(1000, seed=1)
    >>> list(s.columns[:5]), bool((s["recency"] <= s["T"]).all())
    (['customer_id', 'frequency', 'recency', 'T', 'monetary_value'], True)
    """
    _, summary, _ = _simulate(
        n_customers, model, params, spend_params, observation_weeks, acquisition_weeks, seed
    )
    return summary
