r"""BG/NBD kernels with per-customer parameters (time-invariant covariates).

With covariates every customer has its own purchase-rate scale :math:`\alpha_i` and its
own dropout shape :math:`b_i` and, in the form with covariates on both dropout shapes
(CLVTools'), its own :math:`a_i`; ``r`` is shared. These functions take ``alpha``, ``a``
and ``b`` as numbers or arrays aligned with the customers and return per-row values and
per-row partial derivatives, which :mod:`crmmodels.clv._covariates_fit` chains to the
base parameters and the coefficients. The formulas are those of
:mod:`crmmodels.kernels.bgnbd` (Fader, Hardie & Lee 2005, eq. 6) evaluated row by row:

$$ \log L_i = \log\frac{\Gamma(r+x)\alpha_i^r}{\Gamma(r)} + \log\left[
   \frac{B(a_i, b_i+x)}{B(a_i, b_i)(\alpha_i+T)^{r+x}}
   + 1_{x>0}\frac{B(a_i+1, b_i+x-1)}{B(a_i, b_i)(\alpha_i+t_x)^{r+x}}\right]. $$
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import betainc, betaln, digamma, expit, gammaln

from crmmodels.kernels._optim import FloatArray
from crmmodels.kernels.bgnbd_expected import alive_expected_purchases

__all__ = [
    "conditional_expected_purchases",
    "conditional_probability_of_purchases",
    "loglik_rows",
    "loglik_rows_grouped",
    "probability_alive",
]


def _rows(*arrays: ArrayLike) -> list[FloatArray]:
    return [np.asarray(v, dtype=np.float64).ravel() for v in np.broadcast_arrays(*arrays)]


def loglik_rows(
    r: float,
    alpha: ArrayLike,
    a: ArrayLike,
    b: ArrayLike,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
) -> tuple[FloatArray, FloatArray]:
    """Per-row log-likelihood and its partial derivatives in ``(r, alpha_i, a, b_i)``.

    Parameters
    ----------
    r : float
        Shared purchase shape (> 0).
    alpha, a, b : array_like
        Per-row purchase-rate scale and dropout shapes (> 0; ``a`` may be one number).
    frequency, recency, T : array_like
        Customer histories (broadcast with ``alpha``, ``a`` and ``b``).

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        ``log L`` per row (shape ``(n,)``) and the derivatives (shape ``(4, n)``, rows
        ``r``, ``alpha``, ``a``, ``b``).

    Examples
    --------
    >>> ll, d = loglik_rows(0.243, [4.414, 4.414], 0.793, [2.426, 2.426], [0, 2],
    ...                     [0.0, 30.43], [38.86, 38.86])
    >>> ll.round(4).tolist(), d.shape
    ([-0.5547, -9.4586], (4, 2))
    """
    al, aa, bb, x, tx, tt = _rows(alpha, a, b, frequency, recency, T)
    return loglik_rows_grouped(r, al, aa, bb, x, np.arange(x.size), x, tx, tt)


def loglik_rows_grouped(
    r: float,
    alpha: FloatArray,
    a: float | FloatArray,
    b_group: FloatArray,
    x_group: FloatArray,
    group: NDArray[np.int64],
    frequency: FloatArray,
    recency: FloatArray,
    T: FloatArray,
) -> tuple[FloatArray, FloatArray]:
    """:func:`loglik_rows` with the terms in ``(b_i, x)`` evaluated once per group.

    ``b_group`` and ``x_group`` hold the distinct ``(b_i, x)`` pairs (the dropout
    covariate pattern and the count) and ``group`` the pair of every row, so that the
    gamma and digamma functions run on the pairs only; ``alpha`` and the histories are
    per row (1-D float arrays). ``a`` is one number, or one per pair when the dropout
    covariates scale it too.

    Examples
    --------
    >>> import numpy as np
    >>> ll, _ = loglik_rows_grouped(0.243, np.full(2, 4.414), 0.793, np.array([2.426]),
    ...     np.array([2.0]), np.array([0, 0]), np.array([2.0, 2.0]), np.array([30.43, 5.0]),
    ...     np.array([38.86, 38.86]))
    >>> ll.round(4).tolist()
    [-9.4586, -7.6879]
    """
    al, x, tx, tt = alpha, frequency, recency, T
    bg, xg = b_group, x_group
    ag: float | FloatArray = a if np.ndim(a) == 0 else np.asarray(a, dtype=np.float64)
    rep_g = xg > 0
    abg = ag + bg
    bx1_g = np.where(rep_g, bg + xg - 1.0, 1.0)
    common_g = gammaln(abg) - gammaln(bg) - gammaln(abg + xg)
    c1_g = gammaln(bg + xg) + common_g  # log B(a, b + x) / B(a, b)
    with np.errstate(divide="ignore"):
        c2_g = np.where(rep_g, np.log(ag) + gammaln(bx1_g) + common_g, -np.inf)
    dab_g = digamma(abg) - digamma(abg + xg)
    db1_g = dab_g - digamma(bg) + digamma(bg + xg)
    db2_g = dab_g - digamma(bg) + np.where(rep_g, digamma(bx1_g), 0.0)
    xs = np.unique(xg)  # terms in x alone: once per distinct count
    lg_x = gammaln(r + xs) - gammaln(r)
    dg_x = digamma(r + xs) - digamma(r)
    pos = np.searchsorted(xs, x)
    rx = r + x
    log_at, log_atx = np.log(al + tt), np.log(al + tx)
    a1 = c1_g[group] - rx * log_at
    a2 = c2_g[group] - rx * log_atx
    top = np.maximum(a1, a2)
    w1, w2 = np.exp(a1 - top), np.exp(a2 - top)
    den = w1 + w2
    w1, w2 = w1 / den, w2 / den
    ll = lg_x[pos] + r * np.log(al) + top + np.log(den)
    d = np.empty((4, x.size))
    d[0] = dg_x[pos] + np.log(al) - w1 * log_at - w2 * log_atx
    d[1] = r / al - rx * (w1 / (al + tt) + w2 / (al + tx))
    inv_a = 1.0 / ag
    d[2] = dab_g[group] + w2 * (inv_a if np.ndim(inv_a) == 0 else np.asarray(inv_a)[group])
    d[3] = w1 * db1_g[group] + w2 * db2_g[group]
    return np.asarray(ll, dtype=np.float64), d


def probability_alive(
    r: float,
    alpha: ArrayLike,
    a: ArrayLike,
    b: ArrayLike,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
) -> FloatArray:
    r"""P(alive at T) per row (FHL 2005 note, eq. 2, with per-row ``alpha``, ``a``, ``b``).

    $$ P = 1 / (1 + 1_{x>0} \frac{a_i}{b_i+x-1}
       (\frac{\alpha_i+T}{\alpha_i+t_x})^{r+x}). $$

    Examples
    --------
    >>> probability_alive(0.243, 4.414, 0.793, 2.426, [0, 2], [0.0, 30.43], 38.86).round(4)
    array([1.    , 0.7266])
    """
    al, aa, bb, x, tx, tt = _rows(alpha, a, b, frequency, recency, T)
    rep = x > 0
    bx1 = np.where(rep, bb + x - 1.0, 1.0)
    d = np.log(aa) - np.log(bx1) + (r + x) * (np.log(al + tt) - np.log(al + tx))
    return np.asarray(np.where(rep, expit(-d), 1.0), dtype=np.float64)


def conditional_expected_purchases(
    r: float,
    alpha: ArrayLike,
    a: ArrayLike,
    b: ArrayLike,
    t: ArrayLike,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
) -> FloatArray:
    """Expected purchases in ``(T, T + t]`` per row: P(alive) times the alive expectation.

    The alive expectation is :func:`crmmodels.kernels.bgnbd.alive_expected_purchases`
    with the posterior ``(r + x, alpha_i + T, a_i, b_i + x)`` (FHL 2005, eq. 10).

    Examples
    --------
    >>> conditional_expected_purchases(0.243, 4.414, 0.793, 2.426, 39, 2, 30.43,
    ...                                38.86).round(3)
    array([1.226])
    """
    al, aa, bb, h, x, tx, tt = _rows(alpha, a, b, t, frequency, recency, T)
    g = alive_expected_purchases(r + x, al + tt, aa, bb + x, h)
    return np.asarray(probability_alive(r, al, aa, bb, x, tx, tt) * g, dtype=np.float64)


def conditional_probability_of_purchases(
    r: float,
    alpha: ArrayLike,
    a: ArrayLike,
    b: ArrayLike,
    n: ArrayLike,
    t: ArrayLike,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
) -> FloatArray:
    r"""P(exactly ``n`` purchases in ``(T, T + t]``) per row, at each row's parameters.

    As :func:`crmmodels.kernels.bgnbd.conditional_probability_of_purchases`: a customer
    gone at ``T`` buys nothing, one alive buys as a new customer with the posterior
    ``(R, A, a_i, B) = (r + x, alpha_i + T, a_i, b_i + x)``; with
    :math:`z = t / (A + t)`,

    $$ P(n \mid 	ext{alive}) = rac{B(a_i, B+n)}{B(a_i, B)} \mathrm{NB}(n; R, z)
       + 1_{n>0} rac{B(a_i+1, B+n-1)}{B(a_i, B)} I_z(n, R), $$

    in log space (``betaln``), and ``n = 0`` as :math:`1 - P(	ext{alive})(1 - (1-z)^R)`.
    Every argument broadcasts; the result has the broadcast shape.

    Examples
    --------
    >>> conditional_probability_of_purchases(0.243, 4.414, 0.793, 2.426, [0, 1, 2], 39,
    ...                                      2, 30.43, 38.86).round(4)
    array([0.4454, 0.2393, 0.1442])
    """
    shape = np.broadcast_shapes(*(np.shape(v) for v in (alpha, a, b, n, t, frequency, recency, T)))
    al, aa, bb, nn, h, x, tx, tt = _rows(alpha, a, b, n, t, frequency, recency, T)
    big_r, big_a, big_b = r + x, al + tt, bb + x
    pos = nn > 0
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        log_1mz = -np.log1p(h / big_a)  # log((alpha_i + T) / (alpha_i + T + t))
        log_z = -np.log1p(big_a / h)  # log(t / (alpha_i + T + t)); -inf at t = 0
        lb = betaln(aa, big_b)
        log_nb = (
            gammaln(big_r + nn)
            - gammaln(big_r)
            - gammaln(nn + 1.0)
            + big_r * log_1mz
            + np.where(pos, nn * np.where(pos, log_z, 0.0), 0.0)
        )
        first = betaln(aa, big_b + nn) - lb + log_nb
        tail = betainc(np.maximum(nn, 1.0), big_r, np.exp(log_z))
        second = np.where(
            pos,
            betaln(aa + 1.0, np.where(pos, big_b + nn - 1.0, 1.0)) - lb + np.log(tail),
            -np.inf,
        )
        alive_pmf = np.exp(np.logaddexp(first, second))
    quiet_alive = -np.expm1(big_r * log_1mz)  # 1 - (1 - z)^R: buys while alive
    pa = probability_alive(r, al, aa, bb, x, tx, tt)
    out = np.where(pos, pa * alive_pmf, 1.0 - pa * quiet_alive)
    return np.asarray(np.clip(out, 0.0, 1.0).reshape(shape), dtype=np.float64)
