"""Simulated market baskets with planted association rules of known strength."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from crmmodels.errors import DataError

__all__ = ["BasketSimulation", "simulate_baskets"]


@dataclass(frozen=True)
class BasketSimulation:
    """Simulated transaction log and the association rules planted in it.

    Attributes
    ----------
    transactions : pandas.DataFrame
        One row per basket and item: ``basket_id``, ``customer_id``, ``item``.
    planted : pandas.DataFrame
        One row per planted rule: ``antecedents`` and ``consequents`` (frozensets of item
        labels), ``strength`` (probability that the consequent is added to a basket
        holding the antecedent) and ``expected_confidence`` (the rule's population
        confidence, ``strength + (1 - strength) * base``, with ``base`` the chance the
        consequent is in a basket anyway).
    item_probability : pandas.Series
        Per item label, the probability of appearing in a basket before the rules act.

    Examples
    --------
    >>> sim = simulate_baskets(200, 20, seed=0)
    >>> list(sim.transactions.columns)
    ['basket_id', 'customer_id', 'item']
    >>> list(sim.planted.columns)[:2]
    ['antecedents', 'consequents']
    """

    transactions: pd.DataFrame
    planted: pd.DataFrame
    item_probability: pd.Series


def _all_present(p: np.ndarray, lam: float) -> np.ndarray:
    """P(every item of a set is in a basket) for ``1 + Poisson(lam)`` draws.

    Inclusion-exclusion over subsets T of the set (last axis of ``p``), with
    ``E[x ** N] = x * exp(-lam * (1 - x))`` for ``N = 1 + Poisson(lam)``.
    """
    p = np.atleast_2d(p) if p.ndim > 1 else p[None, :]
    k = p.shape[-1]
    total = np.zeros(p.shape[:-1])
    for mask in range(2**k):
        cols = [j for j in range(k) if mask >> j & 1]
        x = 1.0 - p[..., cols].sum(axis=-1)
        total += (-1) ** len(cols) * x * np.exp(-lam * (1.0 - x))
    return total.squeeze() if total.size == 1 else total


def simulate_baskets(
    n_baskets: int,
    n_items: int,
    *,
    seed: int | None = 0,
    n_customers: int | None = None,
    mean_basket_size: float = 4.0,
    popularity_exponent: float = 0.8,
    n_rules: int = 5,
    strength: float | tuple[float, ...] = 0.6,
    item_names: bool = True,
) -> BasketSimulation:
    r"""Simulate baskets with independent item draws plus planted rules.

    Each basket draws ``1 + Poisson(mean_basket_size - 1)`` items with replacement from a
    Zipf-like popularity distribution (weights :math:`r^{-a}` for popularity rank
    :math:`r` and exponent ``popularity_exponent``), duplicates merged. Then each planted
    rule ``{a} -> {c}`` (or ``{a, b} -> {c}`` for every third rule) adds ``c`` with
    probability ``strength`` to every basket that holds its antecedent. The rules use
    distinct, fairly popular items (ranks 2 to ``3 * n_rules + 2``), so they do not
    interact. Baskets are assigned to ``n_customers`` customers uniformly at random.

    Parameters
    ----------
    n_baskets, n_items : int
        Number of baskets and of distinct items (``n_items >= 3 * n_rules + 3``).
    seed : int, optional
        Random seed.
    n_customers : int, optional
        Number of customers (default ``max(1, n_baskets // 4)``).
    mean_basket_size : float, default 4.0
        Mean number of draws per basket (>= 1).
    popularity_exponent : float, default 0.8
        Zipf exponent of item popularity.
    n_rules : int, default 5
        Number of planted rules.
    strength : float or tuple of float, default 0.6
        Probability that a rule adds its consequent (one value, or one per rule).
    item_names : bool, default True
        Items as labels ``"item_0001"`` (True) or integer ids (False).

    Returns
    -------
    BasketSimulation

    Examples
    --------
    >>> sim = simulate_baskets(1000, 50, seed=1, n_rules=2)
    >>> sim.transactions.columns.tolist()
    ['basket_id', 'customer_id', 'item']
    >>> sim.planted[["strength"]].to_dict("list")
    {'strength': [0.6, 0.6]}
    """
    if n_baskets < 1 or n_items < 1:
        raise DataError(f"n_baskets and n_items must be >= 1; got {n_baskets}, {n_items}.")
    if n_rules < 0 or n_items < 3 * n_rules + 3:
        raise DataError(f"n_items must be >= 3 * n_rules + 3; got {n_items} for {n_rules} rules.")
    if mean_basket_size < 1:
        raise DataError(f"mean_basket_size must be >= 1; got {mean_basket_size}.")
    strengths = np.broadcast_to(np.asarray(strength, dtype=float), (n_rules,)).copy()
    if ((strengths < 0) | (strengths > 1)).any():
        raise DataError(f"strength must be in [0, 1]; got {strength!r}.")
    rng = np.random.default_rng(seed)
    n_cust = max(1, n_baskets // 4) if n_customers is None else int(n_customers)

    # popularity by rank, items shuffled so that popularity does not follow the id
    weight = np.arange(1, n_items + 1, dtype=float) ** -popularity_exponent
    weight /= weight.sum()
    by_rank = rng.permutation(n_items)  # by_rank[r] = item id of popularity rank r
    p_item = np.empty(n_items)
    p_item[by_rank] = weight

    sizes = 1 + rng.poisson(mean_basket_size - 1, size=n_baskets)
    basket = np.repeat(np.arange(n_baskets, dtype=np.int64), sizes)
    item = rng.choice(n_items, size=int(sizes.sum()), p=p_item).astype(np.int64)
    keys = np.unique(basket * n_items + item)
    lam = mean_basket_size - 1
    base = _all_present(p_item[:, None], lam)

    rows = []
    roles = by_rank[2 : 3 * n_rules + 2].reshape(-1, 3) if n_rules else np.zeros((0, 3), int)
    for r in range(n_rules):
        a, b, c = (int(x) for x in roles[r])
        ant = [a, b] if r % 3 == 2 else [a]
        holds = np.ones(n_baskets, dtype=bool)
        for x in ant:
            has = np.zeros(n_baskets, dtype=bool)
            has[keys[keys % n_items == x] // n_items] = True
            holds &= has
        add = np.flatnonzero(holds & (rng.random(n_baskets) < strengths[r]))
        keys = np.union1d(keys, add * n_items + c)
        p_c = _all_present(p_item[[*ant, c]], lam) / _all_present(p_item[ant], lam)
        rows.append((ant, c, float(strengths[r]), float(strengths[r] + (1 - strengths[r]) * p_c)))

    width = len(str(n_items))
    labels: np.ndarray = (
        np.array([f"item_{i:0{max(4, width)}d}" for i in range(n_items)], dtype=object)
        if item_names
        else np.arange(n_items)
    )
    b_out = keys // n_items
    customer_of = rng.integers(0, n_cust, size=n_baskets)
    transactions = pd.DataFrame(
        {"basket_id": b_out, "customer_id": customer_of[b_out], "item": labels[keys % n_items]}
    )
    planted = pd.DataFrame(
        {
            "antecedents": [frozenset(labels[ant].tolist()) for ant, _, _, _ in rows],
            "consequents": [frozenset(labels[[c]].tolist()) for _, c, _, _ in rows],
            "strength": [s for _, _, s, _ in rows],
            "expected_confidence": [e for _, _, _, e in rows],
        }
    )
    prob = pd.Series(base, index=pd.Index(labels, name="item"), name="probability")
    return BasketSimulation(transactions=transactions, planted=planted, item_probability=prob)
