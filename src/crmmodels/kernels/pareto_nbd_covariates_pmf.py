r"""Pareto/NBD conditional pmf with per-customer scales (time-invariant covariates).

The quantity of :func:`crmmodels.kernels.pareto_nbd.conditional_probability_of_purchases`
(Fader & Hardie 2006, "Deriving the Conditional PMF of the Pareto/NBD Model") with the
purchase-rate scale :math:`\alpha_i` and the dropout-rate scale :math:`\beta_i` of each
row: given alive at ``T`` the purchase rate is Gamma(r + x, alpha_i + T) and the dropout
rate Gamma(s, beta_i + T), and

.. math::

    P(n \mid \text{alive}) = \mathrm{NBD}(n; t)\left(\frac{\beta_i + T}{\beta_i + T + t}
    \right)^s + \int_0^t \frac{s(\beta_i + T)^s}{(\beta_i + T + \tau)^{s + 1}}
    \mathrm{NBD}(n; \tau)\, d\tau ,

by Gauss-Legendre quadrature, vectorised over rows and nodes.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from crmmodels.kernels._optim import FloatArray
from crmmodels.kernels.pareto_nbd import mixed_pmf
from crmmodels.kernels.pareto_nbd_covariates import probability_alive

__all__ = ["conditional_probability_of_purchases"]


def conditional_probability_of_purchases(
    r: float,
    alpha: ArrayLike,
    s: float,
    beta: ArrayLike,
    n: ArrayLike,
    t: ArrayLike,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    n_nodes: int = 64,
) -> FloatArray:
    """P(exactly ``n`` purchases in ``(T, T + t]``) per row, at each row's scales.

    Every argument but ``r``, ``s`` and ``n_nodes`` broadcasts; the result has the
    broadcast shape, values in [0, 1].

    Examples
    --------
    >>> p = conditional_probability_of_purchases(0.553, 10.578, 0.606, 11.669,
    ...                                          np.arange(60), 39.0, 2, 30.43, 38.86)
    >>> round(float(p.sum()), 6), round(float(p[0]), 4)
    (1.0, 0.4081)
    """
    al, be, nn, tt, x, tx, big_t = (
        np.atleast_1d(np.asarray(v, dtype=np.float64))
        for v in np.broadcast_arrays(alpha, beta, n, t, frequency, recency, T)
    )
    shape = np.broadcast_shapes(*(np.shape(v) for v in (alpha, beta, n, t, frequency, recency, T)))
    alive = probability_alive(r, al.ravel(), s, be.ravel(), x.ravel(), tx.ravel(), big_t.ravel())
    alive = alive.reshape(x.shape)
    out = mixed_pmf(alive, nn, tt, r + x, al + big_t, s, be + big_t, n_nodes)
    return np.asarray(out.reshape(shape), dtype=np.float64)
