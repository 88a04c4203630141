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

import numpy as np
from numpy.typing import ArrayLike
from scipy import special

from crmmodels.kernels import bgnbd as _bg
from crmmodels.kernels._optim import FloatArray

__all__ = [
    "beta_geometric_probability_of_purchases",
    "conditional_expected_purchases",
    "expected_purchases",
    "loglik",
    "loglik_grad",
    "probability_alive",
    "probability_of_purchases",
]

#: coefficients of Stirling's series for log Gamma, 1/(12x) - 1/(360x^3) + ...
_STIRLING = (1 / 12, -1 / 360, 1 / 1260, -1 / 1680, 1 / 1188, -691 / 360360)


def _stirling_tail(x: FloatArray) -> FloatArray:
    """``log Gamma(x) - [(x - 1/2) log x - x + log(2 pi)/2]`` for ``x >= 10``."""
    inv = 1.0 / x
    inv2 = inv * inv
    acc = np.zeros_like(x)
    for c in reversed(_STIRLING):
        acc = acc * inv2 + c
    return np.asarray(acc * inv, dtype=np.float64)


def _log_poch(x: FloatArray, k: FloatArray) -> FloatArray:
    """``log Gamma(x + k) - log Gamma(x)`` for ``x > 0``, ``k >= 0``, without cancellation.

    For large ``x`` the difference of two huge ``gammaln`` values loses digits (about
    ``x log x`` times the machine epsilon); Stirling's form keeps it accurate.

    Examples
    --------
    >>> import numpy as np
    >>> float(_log_poch(np.array([4.4e8]), np.array([1.0]))[0]) == float(np.log(4.4e8))
    True
    """
    x, k = (np.asarray(v, dtype=np.float64) for v in np.broadcast_arrays(x, k))
    out = np.asarray(special.gammaln(x + k) - special.gammaln(x), dtype=np.float64)
    big = x >= 10.0
    if np.any(big):
        xb, kb = x[big], k[big]
        out[big] = (
            (xb - 0.5) * np.log1p(kb / xb)
            + kb * np.log(xb + kb)
            - kb
            + _stirling_tail(xb + kb)
            - _stirling_tail(xb)
        )
    return out


def _log_beta_ratio(a: float, b: float, k: FloatArray) -> FloatArray:
    """``log B(a, b + k) - log B(a, b)`` for whole ``k >= 0`` (exact for k = 0 and 1)."""
    k = np.asarray(k, dtype=np.float64)
    out = _log_poch(np.full(k.shape, b), k) - _log_poch(np.full(k.shape, a + b), k)
    out = np.where(k == 1, -np.log1p(a / b), out)
    return np.asarray(np.where(k == 0, 0.0, out), dtype=np.float64)


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


def beta_geometric_probability_of_purchases(
    params: ArrayLike, n: ArrayLike, t: ArrayLike, *, modified: bool
) -> FloatArray:
    r"""P(X(t) = n) of a new customer under BG/NBD (``modified=False``) or MBG/NBD.

    The formula of :func:`crmmodels.kernels.bgnbd.probability_of_purchases`, with
    :math:`z = t/(\alpha+t)` and ``m = 1`` for MBG/NBD:

    $$ P(X(t)=n) = \frac{B(a, b+n+m)}{B(a,b)} \,\mathrm{NB}(n; r, z)
       + \delta_n \frac{B(a, b+n+m-1)}{B(a,b)} \frac{a}{a+b+n+m-1} I_z(n, r), $$

    evaluated so that it stays a probability at extreme parameters: the beta-function
    ratios come from Pochhammer symbols (Stirling's form for large arguments) instead of
    differences of ``betaln`` values, which lose up to ``1e-6`` for parameters near
    ``1e8``; ``log z`` and ``log(1 - z)`` use ``log1p``; and ``n = 0`` uses the closed
    forms :math:`(1-z)^r` (BG/NBD) and :math:`1 - \frac{b}{a+b}(1 - (1-z)^r)` (MBG/NBD).
    The sum of two terms is finally held in [0, 1] against last-bit rounding.

    Examples
    --------
    >>> import numpy as np
    >>> p = [0.5, 5.0, 1.5, 3.0]
    >>> np.round(beta_geometric_probability_of_purchases(p, [0, 1], 39, modified=True), 4)
    array([0.5581, 0.193 ])
    """
    r, alpha, a, b = (float(v) for v in np.asarray(params, dtype=np.float64).ravel())
    m = 1.0 if modified else 0.0
    nn, tt = (np.asarray(v, dtype=np.float64) for v in np.broadcast_arrays(n, t))
    with np.errstate(divide="ignore", invalid="ignore"):
        log_1mz = -np.log1p(tt / alpha)  # log(alpha / (alpha + t))
        log_z = -np.log1p(alpha / tt)  # log(t / (alpha + t)); -inf at t = 0
        pos = nn > 0
        log_pmf = (
            _log_poch(np.full(nn.shape, r), nn)
            - special.gammaln(nn + 1.0)
            + r * log_1mz
            + np.where(pos, nn * np.where(pos, log_z, 0.0), 0.0)
        )
        first = _log_beta_ratio(a, b, nn + m) + log_pmf
        k2 = np.maximum(nn + m - 1.0, 0.0)
        delta = pos if not modified else np.ones(nn.shape, dtype=bool)
        sf = np.where(pos, special.betainc(np.maximum(nn, 1.0), r, np.exp(log_z)), 1.0)
        second = np.where(
            delta,
            _log_beta_ratio(a, b, k2) - np.log1p((b + k2) / a) + np.log(sf),
            -np.inf,
        )
        out = np.exp(np.logaddexp(first, second))
        stay = np.exp(r * log_1mz)  # (1 - z)^r: no purchase while alive
        p0 = 1.0 + b / (a + b) * np.expm1(r * log_1mz) if modified else stay
        out = np.where(pos, out, p0)
    return np.asarray(np.clip(out, 0.0, 1.0), dtype=np.float64)


def probability_of_purchases(params: ArrayLike, n: ArrayLike, t: ArrayLike) -> FloatArray:
    """P(X(t) = n) for a new customer under MBG/NBD (always within [0, 1]).

    See :func:`beta_geometric_probability_of_purchases`.

    Examples
    --------
    >>> import numpy as np
    >>> np.round(probability_of_purchases([0.5, 5.0, 1.5, 3.0], [0, 1], 39), 4)
    array([0.5581, 0.193 ])
    """
    return beta_geometric_probability_of_purchases(params, n, t, modified=True)
