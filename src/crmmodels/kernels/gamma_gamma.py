r"""Gamma-Gamma spend model kernels (Fader, Hardie & Lee 2005; Fader & Hardie 2013).

The value of each transaction of a customer is :math:`\mathrm{Gamma}(p, \nu)` (shape
``p``, rate :math:`\nu`), and :math:`\nu` varies across customers as
:math:`\mathrm{Gamma}(q, v)` (``v`` is the papers' :math:`\gamma`). Spend is independent
of the transaction process. For a customer with ``x`` repeat transactions of mean value
:math:`m_x`, the density of :math:`m_x` is

$$ f(m_x \mid x) = \frac{\Gamma(px+q)}{\Gamma(px)\Gamma(q)}
   \frac{v^q\, m_x^{px-1}\, x^{px}}{(v + m_x x)^{px+q}}, $$

and the conditional expected mean transaction value is the weighted mean

$$ E[M \mid x, m_x] = \frac{q-1}{px+q-1}\,\frac{pv}{q-1} + \frac{px}{px+q-1}\, m_x
   = \frac{p(v + x m_x)}{px + q - 1}. $$

References
----------
Fader, P. S., Hardie, B. G. S. and Lee, K. L. (2005), "RFM and CLV: Using Iso-Value
Curves for Customer Base Analysis", Journal of Marketing Research 42(4), 415-430.

Fader, P. S. and Hardie, B. G. S. (2013), "The Gamma-Gamma Model of Monetary Value",
note at brucehardie.com.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy import special

from crmmodels.kernels._optim import FloatArray, distinct
from crmmodels.kernels.bgnbd import _dot

__all__ = ["conditional_expected_spend", "loglik", "loglik_grad", "population_mean_spend"]


def _params(params: ArrayLike) -> tuple[float, float, float]:
    p, q, v = (float(t) for t in np.asarray(params, dtype=np.float64).ravel())
    return p, q, v


def loglik(params: ArrayLike, frequency: ArrayLike, monetary_value: ArrayLike) -> FloatArray:
    """Log-density of each customer's mean spend (customers with ``x >= 1``).

    Parameters
    ----------
    params : array_like
        ``(p, q, v)``.
    frequency, monetary_value : array_like
        Repeat transactions ``x >= 1`` and their mean value ``m_x > 0``.

    Examples
    --------
    >>> import numpy as np
    >>> np.round(loglik([6.25, 3.74, 15.44], [1, 4], [20.0, 35.5]), 4)
    array([-3.5942, -4.0743])
    """
    p, q, v = _params(params)
    x, m = (np.asarray(a, dtype=np.float64) for a in np.broadcast_arrays(frequency, monetary_value))
    px = p * x
    out = (
        special.gammaln(px + q)
        - special.gammaln(px)
        - special.gammaln(q)
        + q * np.log(v)
        + (px - 1.0) * np.log(m)
        + px * np.log(x)
        - (px + q) * np.log(v + m * x)
    )
    return np.asarray(out, dtype=np.float64)


def loglik_grad(
    params: ArrayLike,
    frequency: ArrayLike,
    monetary_value: ArrayLike,
    weights: ArrayLike | None = None,
) -> tuple[float, FloatArray]:
    r"""Weighted summed log-likelihood and its analytic gradient in ``(p, q, v)``.

    Terms in ``x`` alone are evaluated once per distinct ``x``.

    Notes
    -----
    $$ \partial_p \ell = x[\psi(px+q) - \psi(px) + \ln m_x + \ln x - \ln(v + m_x x)], $$
    $$ \partial_q \ell = \psi(px+q) - \psi(q) + \ln v - \ln(v + m_x x), \qquad
       \partial_v \ell = q/v - (px+q)/(v + m_x x). $$

    Examples
    --------
    >>> ll, g = loglik_grad([6.25, 3.74, 15.44], [1, 4], [20.0, 35.5])
    >>> round(ll, 4)
    -7.6685
    """
    p, q, v = _params(params)
    x = np.asarray(frequency, dtype=np.float64)
    m = np.asarray(monetary_value, dtype=np.float64)
    w = np.ones(x.shape) if weights is None else np.asarray(weights, dtype=np.float64)
    xv, idx = distinct(x)
    wx = np.bincount(idx, weights=w, minlength=xv.size)
    pxv = p * xv
    per_x = special.gammaln(pxv + q) - special.gammaln(pxv) + pxv * np.log(xv)
    dpx = special.digamma(pxv + q)
    d_p_x = xv * (dpx - special.digamma(pxv) + np.log(xv))
    n = float(w.sum())
    px = p * x
    log_m = np.log(m)
    log_vm = np.log(v + m * x)
    ll = float(
        _dot(wx, per_x)
        + n * (q * np.log(v) - special.gammaln(q))
        + _dot(w, (px - 1.0) * log_m - (px + q) * log_vm)
    )
    g_p = _dot(wx, d_p_x) + _dot(w * x, log_m - log_vm)
    g_q = float(_dot(wx, dpx) + n * (np.log(v) - special.digamma(q)) - _dot(w, log_vm))
    g_v = float(n * q / v - _dot(w, (px + q) / (v + m * x)))
    return ll, np.array([g_p, g_q, g_v])


def population_mean_spend(params: ArrayLike) -> float:
    r"""Mean transaction value in the population, :math:`pv/(q-1)` (infinite if ``q <= 1``).

    Examples
    --------
    >>> round(population_mean_spend([6.25, 3.74, 15.44]), 4)
    35.219
    """
    p, q, v = _params(params)
    return p * v / (q - 1.0) if q > 1.0 else float("inf")


def conditional_expected_spend(
    params: ArrayLike, frequency: ArrayLike, monetary_value: ArrayLike
) -> FloatArray:
    r"""Expected mean transaction value given ``x`` transactions of mean ``m_x``.

    :math:`p(v + x m_x)/(px + q - 1)`; customers with ``x = 0`` get the population mean
    :func:`population_mean_spend` (their ``m_x`` is ignored). Where ``px + q <= 1`` the
    posterior mean does not exist and the result is ``inf`` (never negative).

    Examples
    --------
    >>> import numpy as np
    >>> np.round(conditional_expected_spend([6.25, 3.74, 15.44], [0, 1, 4], [0, 20.0, 35.5]), 4)
    array([35.219 , 24.6385, 35.4722])
    """
    p, q, v = _params(params)
    x, m = (np.asarray(a, dtype=np.float64) for a in np.broadcast_arrays(frequency, monetary_value))
    pop = population_mean_spend(params)
    denom = p * x + q - 1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        # the posterior mean of 1/nu exists only for p x + q > 1: infinite otherwise
        own = np.where(denom > 0, p * (v + x * m) / np.where(denom > 0, denom, 1.0), np.inf)
    return np.asarray(np.where(x > 0, own, pop), dtype=np.float64)
