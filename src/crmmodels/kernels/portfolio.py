r"""Concentration measures for customer portfolio analysis (pure numpy).

Every function takes plain numpy arrays of customer values. Values may be negative
(customers who cost more than they bring); all shares are shares of the **net** total
:math:`S = \sum_i x_i`, which must be positive.

Conventions
-----------
*Best first* order: customers sorted by value, largest first, ties broken by a
secondary key (the caller passes the customer ids; see :func:`descending_order`).
With :math:`x_{(1)} \ge x_{(2)} \ge \dots \ge x_{(n)}` in that order the
*concentration (Pareto) curve* is

$$ C_k = \frac{1}{S}\sum_{i=1}^{k} x_{(i)}, \qquad C_0 = 0,\; C_n = 1, $$

plotted against the customer share :math:`k / n`. With negative values at the end,
:math:`C_k` rises above 1 and the negatives pull it back to 1. The classical Lorenz
curve (worst first) is :math:`L(p) = 1 - C(1 - p)`.

The Gini coefficient is the mean absolute difference over twice the mean,

$$ G = \frac{\sum_i \sum_j |x_i - x_j|}{2 n^2 \bar x}
     = \frac{2 \sum_{i=1}^n i\, x_{[i]}}{n S} - \frac{n + 1}{n}, $$

with :math:`x_{[i]}` sorted ascending (population form). The sample form multiplies by
:math:`n / (n - 1)`. Values beyond about 1e150 are rescaled by a power of two first
(:func:`rescaled`), so sums of huge values do not overflow and every share stays finite.
:math:`G = 1 - 2\,\text{area under } L`, an identity that holds for
any sign of the values; with negative values :math:`G` can exceed 1.

References
----------
Buttle, F. (2009), *Customer Relationship Management*, ch. 2 (customer portfolio
analysis). Gini, C. (1912), *Variabilità e mutabilità*. Herfindahl, O. C. (1950).
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import numpy.typing as npt

__all__ = [
    "TOL",
    "abc_classes",
    "concentration_curve",
    "customer_share_for_value",
    "descending_order",
    "gini",
    "hhi",
    "hhi_normalized",
    "lorenz_curve",
    "net_total",
    "rescaled",
    "top_share",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]

#: Tolerance on cumulative shares when comparing with a cut-off (absorbs rounding).
TOL = 1e-12

#: Values larger than this (in absolute value) are rescaled before sums are taken.
_LARGE = 2.0**500


def rescaled(values: FloatArray) -> tuple[FloatArray, int]:
    r"""Values times :math:`2^{-e}` so that sums over them cannot overflow, and ``e``.

    Shares, the Gini and the HHI do not depend on the scale of the values. Values up to
    :math:`2^{500}` (about 3e150) are returned as they are (``e = 0``); larger ones are
    divided by a power of two, which is exact, so that the largest lies in [0.5, 1).

    Examples
    --------
    >>> import numpy as np
    >>> x, e = rescaled(np.array([1e308, 1e308]))
    >>> e, bool(np.isfinite(x.sum()))
    (1024, True)
    >>> rescaled(np.array([3.0, 1.0]))[1]
    0
    """
    x = np.asarray(values, dtype=np.float64)
    if len(x) == 0:
        return x, 0
    largest = float(np.max(np.abs(x)))
    if not (math.isfinite(largest) and largest > _LARGE):
        return x, 0
    exponent = math.frexp(largest)[1]
    return np.ldexp(x, -exponent), exponent


def net_total(values: FloatArray) -> float:
    r"""Sum of the values, ``inf`` (or ``-inf``) when it exceeds the float range.

    Examples
    --------
    >>> import numpy as np
    >>> net_total(np.array([1e308, 1e308])), net_total(np.array([1e308, -1e308, 2.0]))
    (inf, 2.0)
    """
    x, exponent = rescaled(values)
    total = float(x.sum())
    with np.errstate(over="ignore"):
        return float(np.ldexp(total, exponent))


def descending_order(
    values: FloatArray, tiebreak: npt.NDArray[np.generic] | None = None
) -> IntArray:
    r"""Indices that sort ``values`` best first, ties broken by ``tiebreak`` ascending.

    Parameters
    ----------
    values : ndarray of float
        Customer values.
    tiebreak : ndarray, optional
        Secondary key (customer ids, unique). Without it ties keep their input order.

    Returns
    -------
    ndarray of int
        Permutation of ``range(len(values))``.

    Notes
    -----
    One fast (unstable) sort on the values; when there are ties, a second sort on the
    unique integer key ``dense_value_rank * n + id_rank`` makes the order depend only
    on (value, id), not on the input order.

    Examples
    --------
    >>> import numpy as np
    >>> descending_order(np.array([1.0, 5.0, 1.0, 3.0]), np.array([9, 2, 4, 1])).tolist()
    [1, 3, 2, 0]
    """
    vals = np.asarray(values, dtype=np.float64)
    n = len(vals)
    first = np.argsort(-vals)  # fast unstable sort on the values
    x = vals[first]
    step = x[1:] != x[:-1]
    if bool(step.all()):
        return first.astype(np.intp, copy=False)
    # ties: sort once more on a unique integer key (dense value rank, then id rank)
    dense = np.empty(n, dtype=np.int64)
    dense[first] = np.concatenate(([0], np.cumsum(step)))
    if tiebreak is None:
        id_rank = np.arange(n, dtype=np.int64)
    else:
        keys = np.asarray(tiebreak)
        if n > 1 and bool(np.all(keys[1:] > keys[:-1])):
            id_rank = np.arange(n, dtype=np.int64)
        else:
            id_rank = np.empty(n, dtype=np.int64)
            id_rank[np.argsort(keys)] = np.arange(n, dtype=np.int64)
    return np.argsort(dense * n + id_rank).astype(np.intp, copy=False)


def concentration_curve(sorted_desc: FloatArray) -> FloatArray:
    r"""Cumulative share of net value, best first, with a leading 0 (length ``n + 1``).

    Parameters
    ----------
    sorted_desc : ndarray of float
        Values sorted best first; their sum must be positive.

    Returns
    -------
    ndarray of float
        :math:`C_0 = 0, C_1, \dots, C_n = 1`.

    Examples
    --------
    >>> import numpy as np
    >>> concentration_curve(np.array([6.0, 3.0, 1.0])).tolist()
    [0.0, 0.6, 0.9, 1.0]
    """
    x, _ = rescaled(sorted_desc)
    out = np.empty(len(x) + 1)
    out[0] = 0.0
    np.cumsum(x, out=out[1:])
    total = out[-1]
    out /= total
    out[-1] = 1.0
    return out


def lorenz_curve(sorted_desc: FloatArray) -> FloatArray:
    r"""Classical Lorenz curve (worst first), :math:`L_k`, ``k = 0..n``, from best-first values.

    Examples
    --------
    >>> import numpy as np
    >>> np.round(lorenz_curve(np.array([6.0, 3.0, 1.0])), 2).tolist()
    [0.0, 0.1, 0.4, 1.0]
    """
    c = concentration_curve(sorted_desc)
    return np.asarray(1.0 - c[::-1], dtype=np.float64)


def gini(sorted_desc: FloatArray, form: Literal["population", "sample"] = "population") -> float:
    r"""Gini coefficient of values given best first.

    Parameters
    ----------
    sorted_desc : ndarray of float
        Values sorted best first (as from :func:`descending_order`); sum must be positive.
    form : {"population", "sample"}
        ``"population"``: :math:`\sum_{ij}|x_i - x_j| / (2 n^2 \bar x)`, which is 0 for
        equal values and :math:`1 - 1/n` when one customer holds everything.
        ``"sample"``: the same times :math:`n / (n - 1)` (1 when one customer holds
        everything; NaN for ``n = 1``).

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> gini(np.array([3.0, 1.0]))
    0.25
    >>> gini(np.array([3.0, 1.0]), "sample")
    0.5
    """
    x, _ = rescaled(sorted_desc)
    n = len(x)
    total = float(x.sum())
    # ascending position of the best-first element k (0-based) is n - k
    weights = np.arange(n, 0, -1, dtype=np.float64)
    g = 2.0 * float(weights @ x) / (n * total) - (n + 1.0) / n
    if form == "sample":
        return g * n / (n - 1) if n > 1 else float("nan")
    if form != "population":
        raise ValueError(f"form must be 'population' or 'sample'; got {form!r}.")
    return g


def hhi(values: FloatArray) -> float:
    r"""Herfindahl-Hirschman index :math:`\sum_i s_i^2` with :math:`s_i = x_i / S`.

    Examples
    --------
    >>> import numpy as np
    >>> hhi(np.array([1.0, 1.0, 2.0]))
    0.375
    """
    x, _ = rescaled(values)
    s = x / x.sum()
    return float(s @ s)


def hhi_normalized(values: FloatArray) -> float:
    r"""Normalised HHI :math:`(H - 1/n) / (1 - 1/n)`: 0 for equal values, 1 for a monopoly.

    NaN for a single customer.

    Examples
    --------
    >>> import numpy as np
    >>> round(hhi_normalized(np.array([1.0, 1.0, 2.0])), 4)
    0.0625
    """
    n = len(values)
    if n < 2:
        return float("nan")
    return (hhi(values) - 1.0 / n) / (1.0 - 1.0 / n)


def top_share(curve: FloatArray, top: float) -> float:
    r"""Share of net value held by the best ``top`` fraction of customers.

    Reads the concentration curve at customer share ``top``, linearly interpolated
    between customers: with ``top * n = k + f`` (``0 <= f < 1``) it is
    :math:`C_k + f (C_{k+1} - C_k)`, i.e. exactly the top ``k`` customers' share when
    ``top * n`` is whole.

    Parameters
    ----------
    curve : ndarray of float
        Output of :func:`concentration_curve`.
    top : float
        Customer fraction in [0, 1].

    Examples
    --------
    >>> import numpy as np
    >>> c = concentration_curve(np.array([5.0, 3.0, 1.0, 1.0]))
    >>> top_share(c, 0.25), top_share(c, 0.375)
    (0.5, 0.65)
    """
    n = len(curve) - 1
    grid = np.arange(n + 1, dtype=np.float64) / n
    return float(np.interp(top, grid, curve))


def customer_share_for_value(curve: FloatArray, value_share: float) -> float:
    r"""Smallest fraction ``k / n`` of customers, best first, holding ``value_share`` of value.

    ``k`` is the first index with :math:`C_k \ge` ``value_share`` (up to :data:`TOL`).

    Examples
    --------
    >>> import numpy as np
    >>> c = concentration_curve(np.array([5.0, 3.0, 1.0, 1.0]))
    >>> customer_share_for_value(c, 0.8), customer_share_for_value(c, 0.81)
    (0.5, 0.75)
    """
    n = len(curve) - 1
    reached = curve >= value_share - TOL
    k = int(np.argmax(reached)) if bool(reached.any()) else n
    return k / n


def abc_classes(
    curve: FloatArray, cutoffs: tuple[float, ...] = (0.8, 0.95)
) -> npt.NDArray[np.int8]:
    r"""Class index (0 = A, 1 = B, ...) per customer in best-first order.

    A customer is in class ``j`` when the cumulative share of the customers ranked
    strictly above it is below cut-off ``j`` (and not below an earlier one):
    the customer whose value crosses (or lands exactly on) a cut-off belongs to the
    higher class, so class A is the smallest best-first set holding at least ``cutoffs[0]``
    of the value. Comparisons allow :data:`TOL` for rounding.

    Parameters
    ----------
    curve : ndarray of float
        Output of :func:`concentration_curve` (length ``n + 1``).
    cutoffs : tuple of float
        Increasing cut-offs in (0, 1].

    Returns
    -------
    ndarray of int8
        Length ``n``, values in ``0..len(cutoffs)``.

    Examples
    --------
    >>> import numpy as np
    >>> c = concentration_curve(np.array([40.0, 40.0, 10.0, 5.0, 5.0]))
    >>> abc_classes(c).tolist()
    [0, 0, 1, 1, 2]
    """
    before = np.asarray(curve[:-1], dtype=np.float64)
    edges = np.asarray(cutoffs, dtype=np.float64) - TOL
    # number of cut-offs that the share before the customer has already reached
    return np.searchsorted(edges, before, side="right").astype(np.int8)
