"""lifetimes' simulators (``lifetimes.generate_data``), vectorised and exact in continuous time.

Same names, arguments and output columns as lifetimes. Differences: ``frequency`` counts
every repeat purchase (lifetimes counts distinct whole time units), the draws come from
``numpy.random`` (pass ``seed``, or call ``numpy.random.seed`` first as with lifetimes, for
reproducible output) and no Python loop runs over
customers.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from crmmodels.errors import DataError

__all__ = [
    "beta_geometric_beta_binom_model",
    "beta_geometric_nbd_model",
    "beta_geometric_nbd_model_transactional_data",
    "modified_beta_geometric_nbd_model",
    "pareto_nbd_model",
]


def _rng(seed: Any) -> np.random.Generator:
    """The generator for ``seed``; without one, seeded from numpy's global state.

    lifetimes draws from ``numpy.random``, so ``numpy.random.seed(...)`` makes its
    simulations repeatable; seeding from the global state keeps that working here.
    """
    if seed is None:
        seed = np.random.randint(0, 2**31 - 1, size=4)  # noqa: NPY002 (the global state on purpose)
    return np.random.default_rng(seed)


def _ages(T: Any, size: int) -> Any:
    if np.ndim(T) == 0:
        return float(T) * np.ones(size)
    arr = np.asarray(T, dtype=np.float64)
    if arr.size != size:
        raise DataError(f"T must be a scalar or hold `size`={size} values; got {arr.size}.")
    return arr


def _last_arrival(rng: Any, count: Any, window: Any) -> Any:
    """Time of the last of ``count`` uniform arrivals on ``(0, window)`` (0 if none)."""
    safe = np.maximum(count, 1).astype(np.float64)
    return np.where(count > 0, window * rng.beta(safe, 1.0), 0.0)


def _rfm_frame(freq: Any, rec: Any, T: Any, extra: dict[str, Any]) -> pd.DataFrame:
    df = pd.DataFrame({"frequency": freq.astype(np.float64), "recency": rec, "T": T})
    for k, v in extra.items():
        df[k] = v
    df.index = pd.Index(np.arange(len(df), dtype=np.float64), name="customer_id")
    return df


def _bg(T: Any, r: float, alpha: float, a: float, b: float, size: int, seed: Any, m: int) -> Any:
    rng = _rng(seed)
    ages = _ages(T, size)
    p = rng.beta(a, b, size=size)
    lam = rng.gamma(r, scale=1.0 / alpha, size=size)
    # J = repeat purchases made before dropping out (MBG/NBD: may drop out at time 0)
    j = rng.geometric(p) - m
    n = rng.poisson(lam * ages)
    freq = np.minimum(n, j)
    # given n arrivals in (0, T), the first `freq` are the `freq` smallest uniforms
    safe_f = np.maximum(freq, 1).astype(np.float64)
    rec = np.where(freq > 0, ages * rng.beta(safe_f, np.maximum(n - freq, 0) + 1.0), 0.0)
    return _rfm_frame(freq, rec, ages, {"lambda": lam, "p": p, "alive": (n < j).astype(float)})


def beta_geometric_nbd_model(
    T: Any, r: float, alpha: float, a: float, b: float, size: int = 1, seed: Any = None
) -> pd.DataFrame:
    """Simulate BG/NBD customers observed for ``T``.

    Returns
    -------
    pandas.DataFrame
        Index ``customer_id``; ``frequency``, ``recency``, ``T``, ``lambda``, ``p``,
        ``alive``.

    Examples
    --------
    >>> df = beta_geometric_nbd_model(39.0, 0.24, 4.41, 0.79, 2.43, size=1000, seed=1)
    >>> df.columns.tolist(), bool((df["recency"] <= df["T"]).all())
    (['frequency', 'recency', 'T', 'lambda', 'p', 'alive'], True)
    """
    out: pd.DataFrame = _bg(T, r, alpha, a, b, size, seed, 0)
    return out


def modified_beta_geometric_nbd_model(
    T: Any, r: float, alpha: float, a: float, b: float, size: int = 1, seed: Any = None
) -> pd.DataFrame:
    """Simulate MBG/NBD customers (may drop out right after the first purchase).

    Examples
    --------
    >>> df = modified_beta_geometric_nbd_model(39.0, 0.52, 6.18, 0.89, 1.61, size=500, seed=2)
    >>> len(df)
    500
    """
    out: pd.DataFrame = _bg(T, r, alpha, a, b, size, seed, 1)
    return out


def pareto_nbd_model(
    T: Any, r: float, alpha: float, s: float, beta: float, size: int = 1, seed: Any = None
) -> pd.DataFrame:
    """Simulate Pareto/NBD customers observed for ``T``.

    Returns
    -------
    pandas.DataFrame
        Index ``customer_id``; ``frequency``, ``recency``, ``T``, ``lambda``, ``mu``,
        ``alive``.

    Examples
    --------
    >>> df = pareto_nbd_model(39.0, 0.55, 10.58, 0.61, 11.67, size=300, seed=3)
    >>> df.columns.tolist()
    ['frequency', 'recency', 'T', 'lambda', 'mu', 'alive']
    """
    rng = _rng(seed)
    ages = _ages(T, size)
    lam = rng.gamma(r, scale=1.0 / alpha, size=size)
    mu = rng.gamma(s, scale=1.0 / beta, size=size)
    death = rng.exponential(1.0 / mu)
    window = np.minimum(death, ages)
    freq = rng.poisson(lam * window)
    rec = _last_arrival(rng, freq, window)
    return _rfm_frame(freq, rec, ages, {"lambda": lam, "mu": mu, "alive": (death > ages) * 1.0})


def beta_geometric_beta_binom_model(
    N: Any,
    alpha: float,
    beta: float,
    gamma: float,
    delta: float,
    size: int = 1,
    seed: Any = None,
) -> pd.DataFrame:
    """Simulate BG/BB customers with ``N`` transaction opportunities each.

    Returns
    -------
    pandas.DataFrame
        ``frequency``, ``recency``, ``n_periods``, ``p``, ``theta``, ``alive`` and
        ``customer_id`` columns.

    Examples
    --------
    >>> df = beta_geometric_beta_binom_model(6, 1.2, 0.75, 0.66, 2.78, size=1000, seed=4)
    >>> int(df["frequency"].max()) <= 6
    True
    """
    rng = _rng(seed)
    n = _ages(N, size)
    p = rng.beta(alpha, beta, size=size)
    theta = rng.beta(gamma, delta, size=size)
    # opportunities survived: P(K >= i) = (1 - theta) ** i
    survived = rng.geometric(theta) - 1.0
    k = np.minimum(survived, n)
    # trailing opportunities without a transaction, counted back from the k-th
    gap = np.minimum(rng.geometric(p) - 1.0, k)
    rec = k - gap
    inner = np.maximum(rec - 1.0, 0.0).astype(np.int64)
    freq = np.where(rec > 0, 1.0 + rng.binomial(inner, p), 0.0)
    alive = (survived > n) * 1.0
    return pd.DataFrame(
        {
            "frequency": freq,
            "recency": rec,
            "n_periods": n,
            "p": p,
            "theta": theta,
            "alive": alive,
            "customer_id": np.arange(size, dtype=np.float64),
        }
    )


def beta_geometric_nbd_model_transactional_data(
    T: Any,
    r: float,
    alpha: float,
    a: float,
    b: float,
    observation_period_end: Any = "2019-1-1",
    freq: str = "D",
    size: int = 1,
    seed: Any = None,
) -> pd.DataFrame:
    """Simulate a BG/NBD transaction log (``customer_id``, ``date``) ending at a date.

    Customer ``i`` makes the first purchase ``T[i]`` units of ``freq`` before
    ``observation_period_end`` and repeat purchases at the simulated times after it
    (lifetimes places the repeat purchases one unit later, so that some fall after
    ``observation_period_end``).

    Examples
    --------
    >>> tx = beta_geometric_nbd_model_transactional_data(
    ...     30, 0.24, 4.41, 0.79, 2.43, size=50, seed=5)
    >>> tx.columns.tolist(), int(tx["customer_id"].nunique())
    (['customer_id', 'date'], 50)
    """
    rng = _rng(seed)
    ages = _ages(T, size)
    p = rng.beta(a, b, size=size)
    lam = rng.gamma(r, scale=1.0 / alpha, size=size)
    j = rng.geometric(p)
    total = rng.poisson(lam * ages)
    n = np.minimum(total, j)
    # the n-th of `total` uniform arrivals, then n - 1 uniform arrivals before it
    safe = np.maximum(n, 1).astype(np.float64)
    last = ages * rng.beta(safe, np.maximum(total - n, 0) + 1.0)
    others = np.maximum(n - 1, 0)
    owner = np.concatenate([np.flatnonzero(n > 0), np.repeat(np.arange(size), others)])
    scale = np.concatenate(
        [np.ones(int(np.count_nonzero(n > 0))), rng.uniform(size=int(others.sum()))]
    )
    times = scale * last[owner]
    end = pd.Timestamp(observation_period_end)
    unit_name: Any = freq
    unit = pd.Timedelta(1, unit=unit_name)
    start = end - ages * unit
    first = pd.DataFrame({"customer_id": np.arange(size), "date": start})
    repeat = pd.DataFrame(
        {
            "customer_id": owner,
            "date": pd.DatetimeIndex(start[owner]) + pd.to_timedelta(times * unit),
        }
    )
    out = pd.concat([first, repeat], ignore_index=True)
    return out.sort_values(["customer_id", "date"], kind="stable").reset_index(drop=True)
