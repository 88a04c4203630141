"""The covariate tests' simulator: the library's own, under the tests' short names."""

from __future__ import annotations

import pandas as pd

from crmmodels.clv._covariates_sim import EFFECTS, simulate_covariate_summary

#: true coefficients: (channel=app, channel=web, age) per process; "store" is the reference
TRUE = EFFECTS

_MODELS = {"pareto": "pareto_nbd", "bgnbd": "bgnbd"}


def simulate(model: str, n: int, seed: int, T: float = 52.0) -> pd.DataFrame:
    """A summary of ``n`` customers observed for ``T`` periods under the true effects."""
    return simulate_covariate_summary(
        n,
        model=_MODELS[model],  # type: ignore[arg-type]
        observation_length=T,
        seed=seed,
    )
