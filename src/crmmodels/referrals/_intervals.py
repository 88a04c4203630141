"""Intervals of the referred-versus-organic comparison: Wilson, Newcombe and Welch.

The shares use :mod:`crmmodels.kernels.intervals`, here for one pair of counts at a time.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from scipy import stats

from crmmodels.kernels.intervals import difference_interval, wilson_interval

__all__ = ["newcombe", "welch_difference", "welch_mean", "wilson"]


def wilson(k: int, n: int, level: float) -> tuple[float, float, float]:
    """Share ``k / n`` with its Wilson score interval (Wilson 1927).

    Examples
    --------
    >>> [round(v, 4) for v in wilson(7, 20, 0.95)]
    [0.35, 0.1812, 0.5671]
    """
    low, high = wilson_interval(k, n, level)
    return (k / n if n else math.nan, float(low), float(high))


def newcombe(k1: int, n1: int, k2: int, n2: int, level: float) -> tuple[float, float, float]:
    """Difference of two shares with Newcombe's hybrid score interval (method 10, 1998).

    Examples
    --------
    >>> [round(v, 4) for v in newcombe(56, 70, 48, 80, 0.95)]
    [0.2, 0.0524, 0.3339]
    """
    d, low, high = difference_interval(k1, n1, k2, n2, level)
    return (float(d), float(low), float(high))


def welch_mean(x: npt.NDArray[np.float64], level: float) -> tuple[float, float, float]:
    """Mean with its Student t interval (the one-sample case of Welch).

    Examples
    --------
    >>> [round(v, 3) for v in welch_mean(np.array([1.0, 2.0, 3.0, 4.0]), 0.95)]
    [2.5, 0.446, 4.554]
    """
    n = x.size
    if n == 0:
        return (math.nan, math.nan, math.nan)
    mean = float(x.mean())
    if n == 1:
        return (mean, math.nan, math.nan)
    se = float(x.std(ddof=1)) / math.sqrt(n)
    t = float(stats.t.ppf(0.5 + level / 2, n - 1))
    return (mean, mean - t * se, mean + t * se)


def welch_difference(
    x: npt.NDArray[np.float64], y: npt.NDArray[np.float64], level: float
) -> tuple[float, float, float]:
    """Difference of means ``mean(x) - mean(y)`` with Welch's interval (Welch 1947).

    Examples
    --------
    >>> x, y = np.array([1.0, 2.0, 3.0, 4.0]), np.array([1.0, 1.5, 2.0])
    >>> [round(v, 3) for v in welch_difference(x, y, 0.95)]
    [1.0, -0.949, 2.949]
    """
    if x.size < 2 or y.size < 2:
        d = float(x.mean() - y.mean()) if x.size and y.size else math.nan
        return (d, math.nan, math.nan)
    vx, vy = float(x.var(ddof=1)) / x.size, float(y.var(ddof=1)) / y.size
    d = float(x.mean() - y.mean())
    se = math.sqrt(vx + vy)
    if se == 0:
        return (d, d, d)
    df = (vx + vy) ** 2 / (vx**2 / (x.size - 1) + vy**2 / (y.size - 1))
    t = float(stats.t.ppf(0.5 + level / 2, df))
    return (d, d - t * se, d + t * se)
