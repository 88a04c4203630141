r"""The Pareto/NBD log-likelihood and its gradient on factorised data, for fitting.

A fit evaluates the summed log-likelihood of the same customers at 30 to 40 parameter
points. Everything that depends on the data only is done once, by :func:`factorise`:
the distinct counts ``x`` (levels of ``x``), the distinct times among ``t_x`` and ``T``
(levels of ``t``), and the distinct *cells* ``(x, t)`` met by the rows ``(x, t_x)`` and
``(x, T)``, on which the hypergeometric terms are needed (see
:mod:`crmmodels.kernels.pareto_nbd` for the likelihood). At each point,
:func:`loglik_grad` then computes

* ``gammaln(r + x)``, ``digamma(r + x)`` once per level of ``x``, and ``log(alpha + t)``,
  ``log(beta + t)``, ``log(max(alpha, beta) + t)`` once per level of ``t``;
* the hypergeometric term and its derivatives once per cell: on the grid of all levels
  by :func:`crmmodels.kernels.hypergeometric.log_hyp2f1_a_a1_outer` (matrix products of
  the series terms), read at the cells, when the grid is not much larger than the set of
  cells (a day grid), else at the cells by
  :func:`~crmmodels.kernels.hypergeometric.log_hyp2f1_a_a1`;
* per customer row only the combination ``log L = C + logaddexp(log A, log B)`` and the
  posterior weights of its parts; the gradient is accumulated per cell with ``bincount``
  and contracted with the per-cell derivatives, so no ``(4, n)`` array of row gradients
  is formed.

The result is the sum over customers of :func:`crmmodels.kernels.pareto_nbd.log_likelihood`
(same special functions). One rearrangement keeps digits at large shape parameters: the
constant ``r log(alpha) + s log(beta)`` of ``log C`` enters ``log A`` and ``log B``, where it
meets ``log(alpha + t)`` and ``log(beta + t)`` as ``log1p(t / alpha)`` and ``log1p(t / beta)``,
instead of being added once for all customers against per-customer terms of the same size.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray
from scipy.special import digamma, gammaln

from crmmodels.kernels.hypergeometric import (
    LogHyp2F1,
    log_hyp2f1_a_a1,
    log_hyp2f1_a_a1_outer,
)

__all__ = ["Levels", "factorise", "loglik_grad"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

#: the grid of levels is used while it has at most this many cells per cell in use (plus
#: a small allowance): its matrix products cost far less per cell than the series per cell
_DENSE_RATIO = 6
_DENSE_ALLOWANCE = 20_000


class Levels(NamedTuple):
    """The data-only factorisation of ``(x, t_x, T)`` rows used by :func:`loglik_grad`.

    Attributes
    ----------
    x, t : numpy.ndarray
        Distinct values of ``x`` and distinct values among ``t_x`` and ``T`` (sorted).
    row_x : numpy.ndarray
        Level of ``x`` of each row.
    pair_x, pair_t : numpy.ndarray
        Levels of the distinct ``(x, t)`` pairs met by the rows (sorted by ``x``, then
        ``t``).
    pair_inverse : numpy.ndarray
        Pair of each of the ``2 n`` rows ``(x, t_x)`` followed by ``(x, T)``.
    dense : bool
        Whether the hypergeometric terms are computed on the whole grid of levels (matrix
        products of the series terms) and then read at the pairs, or at the pairs directly.
    """

    x: FloatArray
    t: FloatArray
    row_x: IntArray
    pair_x: IntArray
    pair_t: IntArray
    pair_inverse: IntArray
    dense: bool


def factorise(x: FloatArray, tx: FloatArray, T: FloatArray) -> Levels:
    """Levels of ``x`` and ``t``, and the distinct cells of the rows ``(x, t_x, T)``.

    Examples
    --------
    >>> import numpy as np
    >>> lv = factorise(np.array([0.0, 0.0, 2.0]), np.array([0.0, 0.0, 5.0]),
    ...                np.array([10.0, 10.0, 10.0]))
    >>> lv.x.tolist(), lv.t.tolist(), lv.pair_x.tolist(), lv.pair_t.tolist()
    ([0.0, 2.0], [0.0, 5.0, 10.0], [0, 0, 1, 1], [0, 2, 1, 2])
    """
    n = x.shape[0]
    ux, row_x = np.unique(x, return_inverse=True)
    ut, row_t = np.unique(np.concatenate([tx, T]), return_inverse=True)
    nt = ut.shape[0]
    codes = np.concatenate([row_x, row_x]).astype(np.int64) * nt + row_t
    pairs, inverse = np.unique(codes, return_inverse=True)
    dense = n > 0 and ux.shape[0] * nt <= _DENSE_RATIO * pairs.shape[0] + _DENSE_ALLOWANCE
    return Levels(
        x=ux,
        t=ut,
        row_x=row_x.astype(np.int64),
        pair_x=pairs // nt,
        pair_t=pairs % nt,
        pair_inverse=inverse.reshape(2 * n).astype(np.int64),
        dense=bool(dense),
    )


def _cell_hyp(a: FloatArray, b: FloatArray, z: FloatArray, lv: Levels) -> LogHyp2F1:
    """The hypergeometric terms at the pairs (``a``, ``b`` per level of x, ``z`` per level of t)."""
    px, pt = lv.pair_x, lv.pair_t
    if not lv.dense:
        return log_hyp2f1_a_a1(a[px], b[px], z[pt])
    series = z <= 0.9
    near = series[pt]
    out = [np.empty(px.shape[0]) for _ in range(4)]
    if np.any(near):
        column = np.cumsum(series) - 1  # column of each series level of t in the grid
        flat = px[near] * int(series.sum()) + column[pt[near]]
        for o, v in zip(out, log_hyp2f1_a_a1_outer(a, b, z[series]), strict=True):
            o[near] = v.ravel()[flat]
    far = ~near  # the quadrature is dear: only at the pairs in use
    if np.any(far):
        i, j = px[far], pt[far]
        for o, v in zip(out, log_hyp2f1_a_a1(a[i], b[i], z[j]), strict=True):
            o[far] = v
    return LogHyp2F1(*out)


def loglik_grad(
    params: tuple[float, float, float, float], lv: Levels, w: FloatArray
) -> tuple[float, FloatArray]:
    """Summed weighted log-likelihood and gradient in ``(r, alpha, s, beta)``.

    Parameters
    ----------
    params : tuple of float
        ``(r, alpha, s, beta)``, all > 0.
    lv : Levels
        :func:`factorise` of the rows.
    w : numpy.ndarray
        Weight of each row.

    Returns
    -------
    (float, numpy.ndarray)
        ``sum(w * log L)`` and its gradient (length 4).

    Examples
    --------
    >>> import numpy as np
    >>> x, tx, T = np.array([0.0, 2.0]), np.array([0.0, 30.43]), np.array([38.86, 38.86])
    >>> ll, g = loglik_grad((0.55, 10.58, 0.61, 11.67), factorise(x, tx, T), np.ones(2))
    >>> round(ll, 4), g.shape
    (-10.079, (4,))
    """
    r, alpha, s, beta = params
    first = alpha >= beta
    m = alpha if first else beta
    d = abs(alpha - beta)
    n = lv.row_x.shape[0]
    cx, ct = lv.pair_x, lv.pair_t
    row_1, row_2 = lv.pair_inverse[:n], lv.pair_inverse[n:]
    t = lv.t
    # per level of x and of t; the constant r log(alpha) + s log(beta) of log C is moved
    # into log A and log B, where it cancels against log(alpha + t) etc. in log1p form
    # (summed over many customers at large r, the separate terms would lose digits)
    rx = r + lv.x
    a = rx + s
    b = np.full_like(rx, s + 1.0) if first else rx
    l1p_a = np.log1p(t / alpha)
    l1p_b = np.log1p(t / beta)
    l1p_m = l1p_a if first else l1p_b
    mt = m + t
    inv_mt = 1.0 / mt
    log_m = np.log(m)
    shift_r = 0.0 if first else r * (np.log(alpha) - log_m)
    shift_s = s * (np.log(beta) - log_m) if first else 0.0
    hyp = _cell_hyp(a, b, d * inv_mt, lv)
    # per cell: log B terms s/a F / (m+t)^a and log A = -(r+x) log(alpha+t) - s log(beta+t),
    # both plus r log(alpha) + s log(beta)
    a_c = a[cx]
    x_c = lv.x[cx]
    l1p_m_c = l1p_m[ct]
    cell_b = (
        hyp.value + (np.log(s) - np.log(a) - lv.x * log_m)[cx] - a_c * l1p_m_c + (shift_r + shift_s)
    )
    cell_a = -r * l1p_a[ct] - x_c * np.log(alpha + t)[ct] - s * l1p_b[ct]
    # per row
    u1 = cell_b[row_1]
    u2 = cell_b[row_2]
    la = cell_a[row_2]
    with np.errstate(divide="ignore"):
        log_b = u1 + np.log(-np.expm1(np.minimum(u2 - u1, 0.0)))  # A0 = 0 when t_x = T
    lse = np.logaddexp(la, log_b)
    wx = np.bincount(lv.row_x, w, minlength=rx.shape[0])
    ll = float(np.dot(wx, gammaln(rx) - gammaln(r)) + np.dot(w, lse))
    # gradient: log C, then the posterior weights of A and of the two terms of B per cell
    n_cells = cx.shape[0]
    w_a = np.bincount(row_2, w * np.exp(la - lse), minlength=n_cells)
    w_b = np.bincount(row_1, w * np.exp(u1 - lse), minlength=n_cells)
    w_b -= np.bincount(row_2, w * np.exp(u2 - lse), minlength=n_cells)
    sum_b = float(w_b.sum())
    grad = np.zeros(4)
    grad[0] = np.dot(wx, digamma(rx) - digamma(r)) - np.dot(w_a, l1p_a[ct])
    grad[1] = r / alpha * np.dot(w_a, (t / (alpha + t))[ct]) - np.dot(
        w_a * x_c, (1 / (alpha + t))[ct]
    )
    grad[2] = -np.dot(w_a, l1p_b[ct])
    grad[3] = s / beta * np.dot(w_a, (t / (beta + t))[ct])
    common = float(np.dot(w_b, hyp.d_a - l1p_m_c - 1.0 / a_c))
    with_b = float(np.dot(w_b, hyp.d_b))
    fzw = w_b * hyp.d_z * inv_mt[ct]
    own, other = (r, s) if first else (s, r)  # shape parameters of m and of the other rate
    near = (
        float(np.dot(fzw, (1.0 - d * inv_mt)[ct]))
        + own / m * float(np.dot(w_b, (t * inv_mt)[ct]))
        - float(np.dot(w_b * (other + x_c), inv_mt[ct]))
    )
    far = -float(fzw.sum()) + (s / beta if first else r / alpha) * sum_b
    grad[0] += common + (0.0 if first else with_b + (np.log(alpha) - log_m) * sum_b)
    grad[2] += common + sum_b / s + (with_b + (np.log(beta) - log_m) * sum_b if first else 0.0)
    grad[1] += near if first else far
    grad[3] += far if first else near
    return ll, grad
