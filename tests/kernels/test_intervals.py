"""The one Wilson and Newcombe implementation, against scipy and the published example."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from crmmodels.kernels.intervals import difference_interval, wilson_interval


@pytest.mark.parametrize(("x", "n"), [(0, 7), (3, 7), (7, 7), (56, 70), (1, 1000)])
def test_wilson_equals_scipy(x: int, n: int) -> None:
    ref = stats.binomtest(x, n).proportion_ci(confidence_level=0.9, method="wilson")
    low, high = wilson_interval(x, n, 0.9)
    assert float(low) == pytest.approx(ref.low, abs=1e-12)
    assert float(high) == pytest.approx(ref.high, abs=1e-12)


def test_empty_groups_give_nan_and_arrays_broadcast() -> None:
    low, high = wilson_interval(np.array([0.0, 2.0]), np.array([0.0, 4.0]), 0.95)
    assert np.isnan(low[0]) and np.isnan(high[0])
    assert 0.0 < low[1] < 0.5 < high[1] < 1.0


def test_newcombe_published_example() -> None:
    # Newcombe (1998), Statistics in Medicine 17, 873-890, Table II (a): 56/70 - 48/80
    d, low, high = difference_interval(56, 70, 48, 80, 0.95)
    assert (float(d), float(low), float(high)) == pytest.approx((0.2, 0.0524, 0.3339), abs=5e-5)
