r"""Gamma-Gamma kernels with a per-customer scale ``v_i`` (time-invariant covariates).

With spend covariates :math:`z_i`, :math:`v_i = v_0 e^{\gamma' z_i}`, so the mean
transaction value :math:`p v_i / (q - 1)` is multiplied by :math:`e^{\gamma' z_i}`;
``p`` and ``q`` are shared. The density of a customer's mean spend is that of
:mod:`crmmodels.kernels.gamma_gamma` at the customer's own ``v_i``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import digamma, gammaln

from crmmodels.kernels._optim import FloatArray

__all__ = ["conditional_expected_spend", "loglik_rows"]


def loglik_rows(
    p: float, q: float, v: ArrayLike, frequency: ArrayLike, monetary_value: ArrayLike
) -> tuple[FloatArray, FloatArray]:
    """Per-row log-density of the mean spend and its derivatives in ``(p, q, v_i)``.

    Rows need ``frequency >= 1`` and ``monetary_value > 0``.

    Examples
    --------
    >>> ll, d = loglik_rows(6.25, 3.74, [15.44, 15.44], [1, 4], [20.0, 35.5])
    >>> ll.round(4).tolist(), d.shape
    ([-3.5942, -4.0743], (3, 2))
    """
    vv, x, m = (
        np.asarray(a, dtype=np.float64).ravel()
        for a in np.broadcast_arrays(v, frequency, monetary_value)
    )
    px = p * x
    log_vmx = np.log(vv + m * x)
    ll = (
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * np.log(vv)
        + (px - 1.0) * np.log(m)
        + px * np.log(x)
        - (px + q) * log_vmx
    )
    d = np.empty((3, x.size))
    dig = digamma(px + q)
    d[0] = x * (dig - digamma(px) + np.log(m) + np.log(x) - log_vmx)
    d[1] = dig - digamma(q) + np.log(vv) - log_vmx
    d[2] = q / vv - (px + q) / (vv + m * x)
    return np.asarray(ll, dtype=np.float64), d


def conditional_expected_spend(
    p: float, q: float, v: ArrayLike, frequency: ArrayLike, monetary_value: ArrayLike
) -> FloatArray:
    r"""Expected mean transaction value per row: :math:`p(v_i + x m_x)/(px + q - 1)`.

    Examples
    --------
    >>> conditional_expected_spend(6.25, 3.74, 15.44, [0, 4], [0.0, 35.5]).round(2)
    array([35.22, 35.47])
    """
    vv, x, m = (
        np.asarray(a, dtype=np.float64) for a in np.broadcast_arrays(v, frequency, monetary_value)
    )
    return np.asarray(p * (vv + x * m) / (p * x + q - 1.0), dtype=np.float64)
