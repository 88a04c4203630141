"""Simulated customer summaries with known covariate effects (BG/NBD and Pareto/NBD)."""

from __future__ import annotations

import numpy as np
import pandas as pd

#: true coefficients: (channel=app, channel=web, age) per process; "store" is the reference
TRUE = {
    "purchase": {"channel=app": 0.0, "channel=web": 0.5, "age": -0.3},
    "dropout": {"channel=app": -0.4, "channel=web": 0.7, "age": 0.4},
}
BASE = {"pareto": (0.8, 8.0, 0.7, 12.0), "bgnbd": (0.8, 8.0, 0.8, 3.0)}


def simulate(model: str, n: int, seed: int, T: float = 52.0) -> pd.DataFrame:
    """A summary of ``n`` customers observed for ``T`` periods under the true effects.

    ``age`` is numeric with mean about 0 (in decades around 40), ``channel`` categorical
    with "store" the most frequent level (the reference).
    """
    rng = np.random.default_rng(seed)
    channel = rng.choice(["store", "web", "app"], n, p=[0.5, 0.3, 0.2])
    age = rng.normal(0.0, 1.0, n)
    z = {"channel=app": channel == "app", "channel=web": channel == "web", "age": age}

    def factor(process: str) -> np.ndarray:
        return np.exp(sum(TRUE[process][k] * np.asarray(v, float) for k, v in z.items()))

    r, alpha, c, d = BASE[model]
    lam = rng.gamma(r, 1.0 / alpha, n) * factor("purchase")
    if model == "pareto":
        mu = rng.gamma(c, 1.0 / d, n) * factor("dropout")
        end = np.minimum(rng.exponential(1.0 / mu), T)
        x = rng.poisson(lam * end)
        tx = np.where(x > 0, end * rng.beta(np.maximum(x, 1), 1.0), 0.0)
    else:
        p = rng.beta(c, d / factor("dropout"))
        k = rng.poisson(lam * T)  # purchases in (0, T] if nobody dropped out
        n_max = rng.geometric(p)  # purchases made before dropping out (drop after the last)
        x = np.minimum(k, n_max)
        # time of the x-th of k uniform purchase times on (0, T]
        tx = np.where(x > 0, T * rng.beta(np.maximum(x, 1), np.maximum(k - x + 1, 1)), 0.0)
    return pd.DataFrame(
        {
            "customer_id": np.arange(n),
            "frequency": x.astype(float),
            "recency": tx,
            "T": T,
            "channel": channel,
            "age": age,
        }
    )
