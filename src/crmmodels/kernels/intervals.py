r"""Intervals of proportions: Wilson's score interval and Newcombe's for a difference.

* A share of ``x`` out of ``n`` has the Wilson (1927) score interval

  .. math:: \frac{x + z^2/2}{n + z^2} \pm \frac{z}{n + z^2}\sqrt{\frac{x(n-x)}{n} + \frac{z^2}{4}}

  (:math:`z` the normal quantile of the level), kept inside [0, 1], with the exact ends
  0 when ``x = 0`` and 1 when ``x = n``, and NaN where ``n = 0``.
* The difference of two independent shares :math:`p_1 - p_2` has Newcombe's (1998)
  hybrid score interval (his method 10), built from the two Wilson intervals
  :math:`(l_1, u_1)`, :math:`(l_2, u_2)`:
  :math:`p_1 - p_2 - \sqrt{(p_1 - l_1)^2 + (u_2 - p_2)^2}` to
  :math:`p_1 - p_2 + \sqrt{(u_1 - p_1)^2 + (p_2 - l_2)^2}`.

The funnel segments, the churn comparison, the referral comparison and the lead-score
calibration table all use these two functions.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import stats

__all__ = ["difference_interval", "wilson_interval"]

Array = np.ndarray[Any, Any]


def wilson_interval(x: Any, n: Any, level: float) -> tuple[Array, Array]:
    """Wilson score interval of the shares ``x / n`` (NaN where ``n`` is 0).

    Examples
    --------
    >>> lo, hi = wilson_interval(np.array([5.0]), np.array([10.0]), 0.95)
    >>> round(float(lo[0]), 4), round(float(hi[0]), 4)
    (0.2366, 0.7634)
    """
    x = np.asarray(x, dtype=np.float64)
    n = np.asarray(n, dtype=np.float64)
    z = float(stats.norm.ppf(0.5 + level / 2.0))
    z2 = z * z
    with np.errstate(invalid="ignore", divide="ignore"):
        centre = (x + z2 / 2.0) / (n + z2)
        half = z / (n + z2) * np.sqrt(np.maximum(x * (n - x) / n, 0.0) + z2 / 4.0)
        low = np.clip(centre - half, 0.0, 1.0)
        high = np.clip(centre + half, 0.0, 1.0)
    low = np.where(x == 0, 0.0, low)  # exact ends: the formula gives them up to rounding
    high = np.where(x == n, 1.0, high)
    return np.where(n > 0, low, np.nan), np.where(n > 0, high, np.nan)


def difference_interval(
    x1: Any, n1: Any, x2: Any, n2: Any, level: float
) -> tuple[Array, Array, Array]:
    """Difference ``x1/n1 - x2/n2`` with Newcombe's hybrid score interval (method 10).

    Examples
    --------
    Newcombe (1998), Table II, example (a): 56/70 against 48/80.

    >>> d, lo, hi = difference_interval(56, 70, 48, 80, 0.95)
    >>> round(float(d), 4), round(float(lo), 4), round(float(hi), 4)
    (0.2, 0.0524, 0.3339)
    """
    x1, n1, x2, n2 = (np.asarray(v, dtype=np.float64) for v in (x1, n1, x2, n2))
    with np.errstate(invalid="ignore", divide="ignore"):
        p1 = np.where(n1 > 0, x1 / n1, np.nan)
        p2 = np.where(n2 > 0, x2 / n2, np.nan)
    l1, u1 = wilson_interval(x1, n1, level)
    l2, u2 = wilson_interval(x2, n2, level)
    d = p1 - p2
    low = d - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = d + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return d, low, high
