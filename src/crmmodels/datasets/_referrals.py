"""A simulated referral base: customers who refer customers, and their purchases."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from crmmodels._ingest.arguments import check_int, check_number
from crmmodels._ingest.dates import to_timestamp

__all__ = ["ReferralSimulation", "simulate_referrals"]


@dataclass(frozen=True)
class ReferralSimulation:
    """Simulated customers with their referrers, their purchases and the truth.

    Attributes
    ----------
    customers : pandas.DataFrame
        One row per customer: ``customer_id`` (1, 2, ... by acquisition within each
        generation), ``referrer_id`` (null for organic customers), ``date`` (the
        acquisition date) and ``generation`` (0 for organic customers).
    transactions : pandas.DataFrame
        ``customer_id``, ``date``, ``amount``: the first purchase on the acquisition day,
        then repeat purchases up to ``observation_end``.
    truth : dict
        The parameters: ``referrals_per_customer`` (mean referrals a customer makes
        over their life), ``mean_delay_days``, ``repeat_rate`` (repeat purchases per
        day for organic customers), ``referred_lift`` (the factor on that rate for
        referred customers) and ``mean_amount``.
    observation_end : pandas.Timestamp
        The last day of the data.

    Examples
    --------
    >>> sim = simulate_referrals(200, seed=1)
    >>> list(sim.customers.columns)
    ['customer_id', 'referrer_id', 'date', 'generation']
    >>> bool(sim.customers["referrer_id"].notna().any())
    True
    """

    customers: pd.DataFrame
    transactions: pd.DataFrame
    truth: dict[str, float]
    observation_end: pd.Timestamp


def simulate_referrals(
    n_organic: int,
    *,
    referrals_per_customer: float = 0.6,
    shape: float = 0.5,
    mean_delay_days: float = 30.0,
    repeat_rate: float = 1 / 60,
    referred_lift: float = 1.3,
    mean_amount: float = 40.0,
    days: int = 540,
    start: Any = "2024-01-01",
    seed: int | None = 0,
) -> ReferralSimulation:
    """Simulate a customer base that grows by referrals, with known parameters.

    Organic customers arrive uniformly over ``days`` days from ``start``. Each customer
    refers a Poisson number of new customers whose mean is gamma-distributed across
    customers (mean ``referrals_per_customer``, shape ``shape``: a few customers
    refer many); each referral arrives an exponential delay (mean ``mean_delay_days``)
    after the referrer's acquisition and is lost if it falls after the end. Referred
    customers refer in turn, generation after generation (one vectorised step per
    generation). Every customer buys on the acquisition day, then repeat purchases
    follow a Poisson process with a gamma-distributed rate (mean ``repeat_rate`` per
    day, times ``referred_lift`` for referred customers); amounts are gamma
    distributed with mean ``mean_amount``.

    Parameters
    ----------
    n_organic : int
        Organic customers (the roots of the referral trees).
    referrals_per_customer, shape : float
        Mean and gamma shape of each customer's referral propensity.
    mean_delay_days : float
        Mean days from a referrer's acquisition to the referred customer's.
    repeat_rate, referred_lift : float
        Repeat purchases per day of organic customers, and the factor for referred ones.
    mean_amount : float
        Mean amount of a purchase.
    days : int
        Length of the data in days.
    start : date
        The first day.
    seed : int, optional
        Seed of the random generator.

    Returns
    -------
    ReferralSimulation

    Examples
    --------
    >>> sim = simulate_referrals(500, seed=0)
    >>> sim.truth["referred_lift"]
    1.3
    >>> bool((sim.transactions["date"] <= sim.observation_end).all())
    True
    """
    n_organic = check_int(n_organic, "n_organic", low=1)
    k = check_number(referrals_per_customer, "referrals_per_customer", low=0, high=0.95)
    shape = check_number(shape, "shape", low=0, low_open=True)
    delay = check_number(mean_delay_days, "mean_delay_days", low=0, low_open=True)
    rate = check_number(repeat_rate, "repeat_rate", low=0)
    lift = check_number(referred_lift, "referred_lift", low=0)
    mean_amount = check_number(mean_amount, "mean_amount", low=0, low_open=True)
    days = check_int(days, "days", low=1)
    first = to_timestamp(start, "start").normalize()
    rng = np.random.default_rng(seed)

    # generations: acquisition day, referrer position (-1: organic)
    day = np.sort(rng.uniform(0, days, n_organic))
    parents = [np.full(n_organic, -1, dtype=np.int64)]
    days_list = [day]
    offset = 0
    current = day
    while current.size:
        propensity = rng.gamma(shape, k / shape, current.size)
        n_made = rng.poisson(propensity)
        who = np.repeat(np.arange(current.size), n_made)
        child_day = current[who] + rng.exponential(delay, who.size)
        keep = child_day < days
        order = np.argsort(child_day[keep], kind="stable")
        parents.append((offset + who[keep])[order])
        offset += current.size
        current = child_day[keep][order]
        days_list.append(current)
    parent = np.concatenate(parents)
    acq = np.floor(np.concatenate(days_list)).astype(np.int64)
    generation = np.repeat(np.arange(len(days_list)), [d.size for d in days_list])
    n = parent.size
    ids = np.arange(1, n + 1, dtype=np.int64)
    referrer = pd.array(np.where(parent >= 0, ids[parent], 0), dtype="Int64")
    referrer[parent < 0] = pd.NA
    dates = first + pd.to_timedelta(acq, unit="D")
    customers = pd.DataFrame(
        {"customer_id": ids, "referrer_id": referrer, "date": dates, "generation": generation}
    )

    lam = rng.gamma(2.0, rate / 2.0, n) * np.where(parent >= 0, lift, 1.0)
    alive_days = days - acq
    n_repeat = rng.poisson(lam * np.maximum(alive_days - 1, 0))
    who = np.repeat(np.arange(n), n_repeat)
    repeat_day = acq[who] + 1 + np.floor(rng.uniform(0, 1, who.size) * (alive_days[who] - 1))
    buyer = np.concatenate([np.arange(n), who])
    buy_day = np.concatenate([acq, repeat_day.astype(np.int64)])
    amount = np.round(rng.gamma(2.0, mean_amount / 2.0, buyer.size), 2)
    order = np.lexsort((buyer, buy_day))
    transactions = pd.DataFrame(
        {
            "customer_id": ids[buyer[order]],
            "date": first + pd.to_timedelta(buy_day[order], unit="D"),
            "amount": amount[order],
        }
    )
    truth = {
        "referrals_per_customer": k,
        "mean_delay_days": delay,
        "repeat_rate": rate,
        "referred_lift": lift,
        "mean_amount": mean_amount,
    }
    end = first + pd.Timedelta(days=days - 1)
    return ReferralSimulation(customers, transactions.reset_index(drop=True), truth, end)
