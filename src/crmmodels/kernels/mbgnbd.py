r"""MBG/NBD kernels (Batislam, Denizel & Filiztekin 2007).

The modified BG/NBD model lets a customer drop out right after *every* purchase,
including the first one at time 0, so a customer with ``x`` repeat purchases has survived
``x + 1`` drop-out opportunities. The formulas are those of :mod:`crmmodels.kernels.bgnbd`
with ``m = 1`` (and the drop-out term present for ``x = 0`` too); these functions call them
with ``modified=True``. Individual log-likelihood (Batislam et al. 2007, eq. 4):

$$ L = \frac{B(a, b+x+1)}{B(a,b)} \frac{\Gamma(r+x)\alpha^r}{\Gamma(r)(\alpha+T)^{r+x}}
     + \frac{B(a+1, b+x)}{B(a,b)} \frac{\Gamma(r+x)\alpha^r}{\Gamma(r)(\alpha+t_x)^{r+x}}. $$

References
----------
Batislam, E. P., Denizel, M. and Filiztekin, A. (2007), "Empirical validation and
comparison of models for customer base analysis", International Journal of Research in
Marketing 24(3), 201-209.
"""

from __future__ import annotations

from numpy.typing import ArrayLike

from crmmodels.kernels import bgnbd as _bg
from crmmodels.kernels._optim import FloatArray

__all__ = [
    "conditional_expected_purchases",
    "expected_purchases",
    "loglik",
    "loglik_grad",
    "probability_alive",
    "probability_of_purchases",
]


def loglik(params: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> FloatArray:
    """Individual MBG/NBD log-likelihood, ``params = (r, alpha, a, b)``.

    Examples
    --------
    >>> import numpy as np
    >>> np.round(loglik([0.5, 5.0, 1.0, 3.0], [0, 2], [0, 30.0], [38.0, 38.0]), 4)
    array([-0.6817, -9.2905])
    """
    return _bg.loglik(params, frequency, recency, T, modified=True)


def loglik_grad(
    params: ArrayLike,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    weights: ArrayLike | None = None,
) -> tuple[float, FloatArray]:
    """Weighted summed MBG/NBD log-likelihood and its analytic gradient.

    Examples
    --------
    >>> ll, g = loglik_grad([0.5, 5.0, 1.0, 3.0], [0, 2], [0, 30.0], [38.0, 38.0])
    >>> round(ll, 4)
    -9.9722
    """
    return _bg.loglik_grad(params, frequency, recency, T, weights, modified=True)


def probability_alive(
    params: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
) -> FloatArray:
    r"""P(alive) under MBG/NBD: :math:`1/(1 + \frac{a}{b+x}(\frac{\alpha+T}{\alpha+t_x})^{r+x})`.

    Examples
    --------
    >>> import numpy as np
    >>> np.round(probability_alive([0.5, 5.0, 1.0, 3.0], [0, 2], [0, 30.0], [38.0, 38.0]), 4)
    array([0.5057, 0.7493])
    """
    return _bg.probability_alive(params, frequency, recency, T, modified=True)


def expected_purchases(params: ArrayLike, t: ArrayLike) -> FloatArray:
    r"""Unconditional expected purchases in ``(0, t]``.

    $$ E[X(t)] = \frac{b}{a-1}\left[1 - \left(\frac{\alpha}{\alpha+t}\right)^r
       {}_2F_1\!\left(r, b+1; a+b; \frac{t}{\alpha+t}\right)\right] $$

    Examples
    --------
    >>> import numpy as np
    >>> np.round(expected_purchases([0.5, 5.0, 1.5, 3.0], [10, 40]), 4)
    array([0.4936, 1.2374])
    """
    return _bg.expected_purchases(params, t, modified=True)


def conditional_expected_purchases(
    params: ArrayLike, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
) -> FloatArray:
    """Expected purchases in ``(T, T + t]`` given the history, MBG/NBD.

    Examples
    --------
    >>> import numpy as np
    >>> np.round(conditional_expected_purchases([0.5, 5.0, 1.5, 3.0], 39, 2, 30.0, 38.0), 4)
    np.float64(1.1632)
    """
    return _bg.conditional_expected_purchases(params, t, frequency, recency, T, modified=True)


def probability_of_purchases(params: ArrayLike, n: ArrayLike, t: ArrayLike) -> FloatArray:
    """P(X(t) = n) for a new customer under MBG/NBD.

    Examples
    --------
    >>> import numpy as np
    >>> np.round(probability_of_purchases([0.5, 5.0, 1.5, 3.0], [0, 1], 39), 4)
    array([0.5581, 0.193 ])
    """
    return _bg.probability_of_purchases(params, n, t, modified=True)
