"""Known covariate effects are recovered within their intervals across simulated seeds."""

from __future__ import annotations

import numpy as np
import pytest
from _covariate_sim import TRUE, simulate

from crmmodels.clv import BGNBD, ParetoNBD


@pytest.mark.parametrize(
    ("name", "cls", "n", "seeds"),
    [("bgnbd", BGNBD, 4000, range(10)), ("pareto", ParetoNBD, 2000, range(4))],
)
def test_coefficients_recovered_within_their_intervals(
    name: str, cls: type, n: int, seeds: range
) -> None:
    hits, z = [], []
    for seed in seeds:
        m = cls().fit(simulate(name, n, 1000 + seed), covariates=["channel", "age"])
        c = m.coefficients_
        truth = np.array([TRUE[p][k] for p, k in zip(c["process"], c["covariate"], strict=True)])
        hits.append((c["lower"] <= truth) & (truth <= c["upper"]))
        z.append((c["estimate"] - truth) / c["std_error"])
    coverage = float(np.mean(hits))
    # nominal 95%; with 24-60 intervals a coverage below 80% would mean biased estimates
    # or too small standard errors
    assert coverage >= 0.8
    assert np.all(np.abs(np.mean(z, axis=0)) < 3 / np.sqrt(len(seeds)) + 0.5)
