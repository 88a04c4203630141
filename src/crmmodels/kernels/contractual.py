r"""Contractual retention kernels: shifted-beta-geometric (sBG) and beta-discrete-Weibull (BdW).

Pure numpy/scipy functions of the parameters and of churn times counted in contract
periods (1, 2, 3, ...), all in log space.

Model. A customer renews at the end of each period with probability :math:`1-\theta`
(sBG) and :math:`\theta \sim \mathrm{Beta}(\alpha, \beta)` across customers. The BdW lets
the individual churn probability change with tenure: a customer survives the first
:math:`t` periods with probability :math:`(1-\theta)^{t^c}`. Integrating over
:math:`\theta`,

$$ S(t) = \frac{B(\alpha, \beta + t^c)}{B(\alpha, \beta)}, \qquad
   P(T = t) = S(t-1) - S(t), \qquad r(t) = \frac{S(t)}{S(t-1)}, $$

and with :math:`c = 1` the sBG closed forms
:math:`P(T=t) = B(\alpha+1, \beta+t-1) / B(\alpha, \beta)` and
:math:`r(t) = (\beta+t-1)/(\alpha+\beta+t-1)`.

Likelihood. A cohort followed for :math:`n` periods contributes :math:`\log P(T=t)` for
each customer lost in period :math:`t \le n` and :math:`\log S(n)` for each customer
still there at the end (right censored). Cohorts of different lengths simply add their
terms. The gradients are analytic (digamma differences; for :math:`c` the chain rule
through :math:`t^c \log t`).

Discounted expected residual lifetime (DERL) of a customer who has made :math:`n-1`
renewals, just before the :math:`n`-th decision, with :math:`z = 1/(1+d)`:

$$ \mathrm{DERL} = \sum_{t \ge n} z^{t-n} \frac{S(t)}{S(n-1)}
   = \frac{\beta+n-1}{\alpha+\beta+n-1}\,
     {}_2F_1(1, \beta+n; \alpha+\beta+n; z) \quad \text{(sBG)}. $$

The BdW has no closed form: its series is summed in blocks until the bound
:math:`z^{K} S(n+K)/(S(n-1)(1-z))` on the remainder (valid because :math:`S` does not
increase) is below ``1e-13`` of the sum.

References
----------
Fader, P. S. and Hardie, B. G. S. (2007), "How to Project Customer Retention", Journal of
Interactive Marketing 21(1), 76-90.
Fader, P. S. and Hardie, B. G. S. (2010), "Customer-Base Valuation in a Contractual
Setting: The Perils of Ignoring Heterogeneity", Marketing Science 29(1), 85-93 (eq. 6).
Fader, P. S., Hardie, B. G. S., Liu, Y., Davin, J. and Steenburgh, T. (2018), "'How to
Project Customer Retention' Revisited: The Role of Duration Dependence", Journal of
Interactive Marketing 43, 1-16.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import scipy.optimize
from numpy.typing import ArrayLike, NDArray
from scipy.special import betaln, digamma, expit, logit

from crmmodels.kernels.hypergeometric import log_hyp2f1_one

__all__ = [
    "bdw_derl",
    "bdw_log_likelihood",
    "homogeneous_limit",
    "log_survival",
    "log_survival_grad",
    "retention_rate",
    "sbg_derl",
    "sbg_log_likelihood",
    "sbg_log_pmf",
    "sbg_retention_rate",
    "simulate_churn_periods",
]

FloatArray = NDArray[np.float64]

#: relative size of the neglected remainder of the BdW DERL series
_SERIES_TOL = 1e-13
#: terms summed per block of the BdW DERL series
_BLOCK = 256


def _f(x: ArrayLike) -> FloatArray:
    return np.asarray(x, dtype=np.float64)


def log_survival(alpha: float, beta: float, c: float, t: ArrayLike) -> FloatArray:
    r"""Log of the survival function :math:`S(t) = B(\alpha, \beta+t^c)/B(\alpha, \beta)`.

    Parameters
    ----------
    alpha, beta : float
        Beta heterogeneity of the churn probability (both > 0).
    c : float
        Duration dependence (> 0; 1 is the sBG).
    t : array_like
        Periods (>= 0; 0 gives 0, every customer is there at the start).

    Returns
    -------
    numpy.ndarray

    Examples
    --------
    >>> import numpy as np
    >>> np.round(np.exp(log_survival(0.704, 1.182, 1.0, [0, 1, 2])), 4).tolist()
    [1.0, 0.6267, 0.4738]
    """
    tc = _f(t) ** c
    return np.asarray(betaln(alpha, beta + tc) - betaln(alpha, beta), dtype=np.float64)


def log_survival_grad(alpha: float, beta: float, c: float, t: ArrayLike) -> FloatArray:
    r"""Gradient of :func:`log_survival` in :math:`(\alpha, \beta, c)`: shape ``(3, *t.shape)``.

    Examples
    --------
    >>> import numpy as np
    >>> g = log_survival_grad(0.7, 1.2, 1.3, np.array([2.0]))
    >>> h = 1e-6
    >>> num = (log_survival(0.7, 1.2, 1.3 + h, [2.0]) - log_survival(0.7, 1.2, 1.3 - h, [2.0]))
    >>> bool(np.isclose(g[2, 0], num[0] / (2 * h)))
    True
    """
    tt = _f(t)
    tc = tt**c
    ab = alpha + beta
    d_ab_t = digamma(ab + tc)
    d_a = digamma(ab) - d_ab_t
    d_b = digamma(beta + tc) - d_ab_t - digamma(beta) + digamma(ab)
    log_t = np.log(np.where(tt > 0, tt, 1.0))
    d_c = (digamma(beta + tc) - d_ab_t) * tc * log_t
    return np.stack([d_a, d_b, d_c])


def retention_rate(alpha: float, beta: float, c: float, t: ArrayLike) -> FloatArray:
    r"""Retention rate :math:`r(t) = S(t) / S(t-1)` for periods ``t >= 1``.

    Examples
    --------
    >>> import numpy as np
    >>> np.round(retention_rate(0.704, 1.182, 1.0, [1, 2, 3]), 4).tolist()
    [0.6267, 0.7561, 0.8188]
    """
    tt = _f(t)
    return np.exp(log_survival(alpha, beta, c, tt) - log_survival(alpha, beta, c, tt - 1.0))


def sbg_retention_rate(alpha: float, beta: float, t: ArrayLike) -> FloatArray:
    r"""The sBG retention rate :math:`(\beta+t-1)/(\alpha+\beta+t-1)` (closed form).

    Examples
    --------
    >>> import numpy as np
    >>> np.round(sbg_retention_rate(0.704, 1.182, [1, 2, 3]), 4).tolist()
    [0.6267, 0.7561, 0.8188]
    """
    tt = _f(t)
    return np.asarray((beta + tt - 1.0) / (alpha + beta + tt - 1.0), dtype=np.float64)


def sbg_log_pmf(alpha: float, beta: float, t: ArrayLike) -> FloatArray:
    r"""The sBG :math:`\log P(T=t) = \log B(\alpha+1, \beta+t-1) - \log B(\alpha, \beta)`.

    Examples
    --------
    >>> import numpy as np
    >>> round(float(np.exp(sbg_log_pmf(0.704, 1.182, [1]))[0]), 4)  # alpha / (alpha + beta)
    0.3733
    """
    tt = _f(t)
    return np.asarray(betaln(alpha + 1.0, beta + tt - 1.0) - betaln(alpha, beta), dtype=np.float64)


def _check_counts(
    t_lost: ArrayLike, n_lost: ArrayLike, t_alive: ArrayLike, n_alive: ArrayLike
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    return _f(t_lost), _f(n_lost), _f(t_alive), _f(n_alive)


def sbg_log_likelihood(
    alpha: float,
    beta: float,
    t_lost: ArrayLike,
    n_lost: ArrayLike,
    t_alive: ArrayLike,
    n_alive: ArrayLike,
) -> tuple[float, FloatArray]:
    r"""Right-censored sBG log-likelihood and its gradient in :math:`(\alpha, \beta)`.

    Parameters
    ----------
    alpha, beta : float
        Parameters (> 0).
    t_lost, n_lost : array_like
        Periods in which customers were lost (1, 2, ...) and how many were lost then.
    t_alive, n_alive : array_like
        Last observed period of each cohort and how many customers were still there.

    Returns
    -------
    (float, numpy.ndarray)
        Summed log-likelihood and its gradient.

    Examples
    --------
    >>> ll, g = sbg_log_likelihood(1.0, 1.0, [1, 2], [131, 126], [2], [743])
    >>> round(ll, 2)
    -1132.83
    """
    tl, nl, ta, na = _check_counts(t_lost, n_lost, t_alive, n_alive)
    ab = alpha + beta
    ll = float(np.sum(nl * sbg_log_pmf(alpha, beta, tl)))
    ll += float(np.sum(na * log_survival(alpha, beta, 1.0, ta)))
    base_a = digamma(ab) - digamma(alpha)
    ga = np.sum(nl * (digamma(alpha + 1.0) - digamma(ab + tl) + base_a))
    gb = np.sum(nl * (digamma(beta + tl - 1.0) - digamma(ab + tl) - digamma(beta) + digamma(ab)))
    gs = log_survival_grad(alpha, beta, 1.0, ta)
    ga += np.sum(na * gs[0])
    gb += np.sum(na * gs[1])
    return ll, np.array([ga, gb], dtype=np.float64)


def bdw_log_likelihood(
    alpha: float,
    beta: float,
    c: float,
    t_lost: ArrayLike,
    n_lost: ArrayLike,
    t_alive: ArrayLike,
    n_alive: ArrayLike,
) -> tuple[float, FloatArray]:
    r"""Right-censored BdW log-likelihood and its gradient in :math:`(\alpha, \beta, c)`.

    :math:`\log P(T=t) = \log S(t-1) + \log(1 - S(t)/S(t-1))`; its gradient is
    :math:`(\nabla \log S(t-1) - q \nabla \log S(t)) / (1-q)` with :math:`q = r(t)`.
    Arguments as in :func:`sbg_log_likelihood`.

    Examples
    --------
    >>> ll, g = bdw_log_likelihood(1.0, 1.0, 1.0, [1, 2], [131, 126], [2], [743])
    >>> round(ll, 2)
    -1132.83
    """
    tl, nl, ta, na = _check_counts(t_lost, n_lost, t_alive, n_alive)
    log_prev = log_survival(alpha, beta, c, tl - 1.0)
    log_q = log_survival(alpha, beta, c, tl) - log_prev
    q = np.exp(log_q)
    ll = float(np.sum(nl * (log_prev + np.log(-np.expm1(log_q)))))
    ll += float(np.sum(na * log_survival(alpha, beta, c, ta)))
    g_prev = log_survival_grad(alpha, beta, c, tl - 1.0)
    g_now = log_survival_grad(alpha, beta, c, tl)
    g_lost = (g_prev - q * g_now) / (-np.expm1(log_q))
    grad = np.sum(nl * g_lost, axis=1) + np.sum(na * log_survival_grad(alpha, beta, c, ta), axis=1)
    return ll, np.asarray(grad, dtype=np.float64)


def _z(discount_rate: float) -> float:
    return 1.0 / (1.0 + discount_rate)


def sbg_derl(alpha: float, beta: float, discount_rate: float, renewals: ArrayLike) -> FloatArray:
    r"""The sBG discounted expected residual lifetime (Fader & Hardie 2010, eq. 6).

    Parameters
    ----------
    alpha, beta : float
        Parameters (> 0).
    discount_rate : float
        Discount rate per period (> 0).
    renewals : array_like
        Renewals the customer has made (``n - 1`` in the paper; 0 for a customer who has
        paid the first period only).

    Returns
    -------
    numpy.ndarray
        Expected number of further payments, the next one (at the coming renewal)
        undiscounted, later ones discounted by :math:`(1+d)` per period.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.special import hyp2f1
    >>> a, b, d = 0.704, 1.182, 0.1
    >>> direct = (b / (a + b)) * hyp2f1(1, b + 1, a + b + 1, 1 / (1 + d))
    >>> bool(np.isclose(sbg_derl(a, b, d, [0])[0], direct))
    True
    """
    n = _f(renewals) + 1.0
    log_r = np.log(sbg_retention_rate(alpha, beta, n))
    return np.exp(log_r + log_hyp2f1_one(beta + n, alpha + beta + n, _z(discount_rate)))


def bdw_derl(
    alpha: float, beta: float, c: float, discount_rate: float, renewals: ArrayLike
) -> FloatArray:
    r"""BdW discounted expected residual lifetime, summed numerically with a tail bound.

    Same meaning as :func:`sbg_derl`; at ``c = 1`` it equals it.

    Examples
    --------
    >>> import numpy as np
    >>> bool(np.allclose(bdw_derl(0.704, 1.182, 1.0, 0.1, [0, 3]),
    ...                  sbg_derl(0.704, 1.182, 0.1, [0, 3]), rtol=1e-10))
    True
    """
    z = _z(discount_rate)
    n = np.atleast_1d(_f(renewals)).ravel() + 1.0
    log_start = log_survival(alpha, beta, c, n - 1.0)
    total = np.zeros(n.size)
    k0 = 0
    while True:
        k = np.arange(k0, k0 + _BLOCK, dtype=np.float64)
        log_terms = log_survival(alpha, beta, c, n[:, None] + k[None, :]) - log_start[:, None]
        total += np.exp(log_terms + k[None, :] * np.log(z)).sum(axis=1)
        k0 += _BLOCK
        log_rest = log_survival(alpha, beta, c, n + k0) - log_start + k0 * np.log(z) - np.log1p(-z)
        if np.all(np.exp(log_rest) <= _SERIES_TOL * total):
            break
    return total.reshape(np.shape(_f(renewals)))


def simulate_churn_periods(
    alpha: float, beta: float, c: float, size: int, rng: np.random.Generator
) -> FloatArray:
    r"""Draw churn periods :math:`T \ge 1` of ``size`` customers from the BdW (sBG at c=1).

    Each customer draws :math:`\theta \sim \mathrm{Beta}(\alpha, \beta)` and
    :math:`U \sim \mathrm{U}(0,1)`; :math:`T` is the first period with
    :math:`(1-\theta)^{T^c} < U`, i.e. :math:`\lceil (\log U / \log(1-\theta))^{1/c} \rceil`.

    Examples
    --------
    >>> import numpy as np
    >>> t = simulate_churn_periods(1.0, 2.0, 1.0, 5, np.random.default_rng(0))
    >>> bool((t >= 1).all())
    True
    """
    theta = rng.beta(alpha, beta, size)
    u = rng.uniform(size=size)
    with np.errstate(divide="ignore"):
        ratio = np.log(u) / np.log1p(-theta)
    t = np.ceil(ratio ** (1.0 / c))
    return np.asarray(np.maximum(t, 1.0), dtype=np.float64)


def homogeneous_limit(
    loglik: Callable[[FloatArray], float], start: FloatArray, scale: float
) -> tuple[FloatArray, float]:
    r"""Maximise ``loglik`` with :math:`\alpha + \beta` held at ``scale`` (no heterogeneity).

    As :math:`\alpha + \beta \to \infty` with :math:`\alpha/(\alpha+\beta) = \theta`
    the beta distribution becomes a point mass: every customer churns with probability
    :math:`\theta` (the geometric, or for the BdW the discrete Weibull). The search runs
    over :math:`\operatorname{logit}\theta` and the logs of the remaining parameters
    (Nelder-Mead), from ``start`` (natural parameters).

    Returns
    -------
    (numpy.ndarray, float)
        Natural parameters ``(theta * scale, (1 - theta) * scale, ...)`` and the
        log-likelihood there.

    Examples
    --------
    >>> import numpy as np
    >>> ll = lambda p: sbg_log_likelihood(p[0], p[1], [1, 2], [50, 25], [2], [25])[0]
    >>> p, _ = homogeneous_limit(ll, np.array([3.0, 5.0]), 1e7)
    >>> round(float(p[0] / 1e7), 4)  # 75 losses in 75 + 25 + 50 customer-periods at risk
    0.5
    """

    def unpack(x: FloatArray) -> FloatArray:
        theta = float(expit(x[0]))
        return np.array([theta * scale, (1.0 - theta) * scale, *np.exp(x[1:])])

    x0: FloatArray = np.array(
        [logit(start[0] / (start[0] + start[1])), *np.log(start[2:])], dtype=np.float64
    )

    def objective(x: FloatArray) -> float:
        return -loglik(unpack(x))

    found = scipy.optimize.minimize(
        objective, x0, method="Nelder-Mead", options={"xatol": 1e-10, "fatol": 1e-10}
    )
    return unpack(np.asarray(found.x, dtype=np.float64)), -float(found.fun)
