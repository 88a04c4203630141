"""Simulated customer summaries with known covariate effects (for the docs, demo, benchmarks).

The customers of :func:`simulate_covariate_summary` have a ``channel`` (``"store"``,
``"web"``, ``"app"``; store the most frequent) and an ``age`` (in decades, centred at 0)
that act on the purchase and the dropout rate as in
:mod:`crmmodels.clv._covariates_fit`, with the effects of :data:`EFFECTS`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import numpy as np
import pandas as pd

from crmmodels.kernels._optim import FloatArray

__all__ = ["EFFECTS", "simulate_covariate_summary"]

#: true coefficients (log scale) by process and design column
EFFECTS: dict[str, dict[str, float]] = {
    "purchase": {"channel=app": 0.0, "channel=web": 0.5, "age": -0.3},
    "dropout": {"channel=app": -0.4, "channel=web": 0.7, "age": 0.4},
}


def simulate_covariate_summary(
    n_customers: int,
    *,
    model: Literal["pareto_nbd", "bgnbd"] = "pareto_nbd",
    observation_length: float = 52.0,
    effects: Mapping[str, Mapping[str, float]] = EFFECTS,
    seed: int = 0,
    dropout_form: Literal["b", "ab"] = "b",
) -> pd.DataFrame:
    """A customer summary drawn from a model with covariates (vectorised, no loops).

    Parameters
    ----------
    n_customers : int
        Number of customers.
    model : {"pareto_nbd", "bgnbd"}
        Pareto/NBD with ``(r, alpha0, s, beta0) = (0.8, 8, 0.7, 12)`` or BG/NBD with
        ``(r, alpha0, a, b0) = (0.8, 8, 0.8, 3)``.
    observation_length : float
        ``T`` of every customer, in weeks.
    effects : mapping
        Coefficients by process and design column (default :data:`EFFECTS`).
    seed : int
        Random seed.
    dropout_form : {"b", "ab"}
        BG/NBD only: how the dropout effects act (as ``BGNBD.fit``'s ``dropout_form``):
        ``"b"``, ``p ~ Beta(a, b0 exp(-effect))``; ``"ab"``, ``p ~ Beta(a exp(effect),
        b0 exp(effect))``. The draws other than ``p`` are the same for both forms.

    Returns
    -------
    pandas.DataFrame
        ``customer_id``, ``frequency``, ``recency``, ``T``, ``channel``, ``age``.

    Examples
    --------
    >>> simulate_covariate_summary(3, seed=1).columns.tolist()
    ['customer_id', 'frequency', 'recency', 'T', 'channel', 'age']
    """
    rng = np.random.default_rng(seed)
    n, big_t = int(n_customers), float(observation_length)
    channel = rng.choice(np.array(["store", "web", "app"]), n, p=[0.5, 0.3, 0.2])
    age = rng.normal(0.0, 1.0, n)
    design = {
        "channel=app": (channel == "app").astype(float),
        "channel=web": (channel == "web").astype(float),
        "age": age,
    }

    def factor(process: str) -> FloatArray:
        eta = np.zeros(n)
        for key, coef in effects.get(process, {}).items():
            eta += coef * design[key]
        return np.exp(eta)

    if model == "pareto_nbd":
        lam = rng.gamma(0.8, 1.0 / 8.0, n) * factor("purchase")
        mu = rng.gamma(0.7, 1.0 / 12.0, n) * factor("dropout")
        end = np.minimum(rng.exponential(1.0 / mu), big_t)
        x = rng.poisson(lam * end)
        tx = np.where(x > 0, end * rng.beta(np.maximum(x, 1), 1.0), 0.0)
    else:
        lam = rng.gamma(0.8, 1.0 / 8.0, n) * factor("purchase")
        f = factor("dropout")
        p = rng.beta(0.8 * f, 3.0 * f) if dropout_form == "ab" else rng.beta(0.8, 3.0 / f)
        k = rng.poisson(lam * big_t)  # purchases in (0, T] without dropout
        x = np.minimum(k, rng.geometric(p))  # the customer leaves after the last of these
        tx = np.where(x > 0, big_t * rng.beta(np.maximum(x, 1), np.maximum(k - x + 1, 1)), 0.0)
    return pd.DataFrame(
        {
            "customer_id": np.arange(n),
            "frequency": x.astype(np.float64),
            "recency": tx,
            "T": big_t,
            "channel": channel,
            "age": age,
        }
    )
