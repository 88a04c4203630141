r"""Pareto/NBD kernels with per-customer parameters (time-invariant covariates).

With covariates every customer has its own purchase-rate scale :math:`\alpha_i` and
dropout-rate scale :math:`\beta_i`; the shapes ``r`` and ``s`` are shared (Fader & Hardie
2007). The likelihood is that of :mod:`crmmodels.kernels.pareto_nbd` evaluated row by
row,

$$ L_i = \frac{\Gamma(r+x)\alpha_i^r\beta_i^s}{\Gamma(r)}
   \left[\frac{1}{(\alpha_i+T)^{r+x}(\beta_i+T)^s} + \frac{s}{r+s+x} A_{0,i}\right], $$

with :math:`A_{0,i}` from the same hypergeometric terms
(:func:`crmmodels.kernels.hypergeometric.log_hyp2f1_a_a1`, branch chosen per row by
:math:`\alpha_i \ge \beta_i`). The functions return per-row values and per-row partial
derivatives; :mod:`crmmodels.clv._covariates_fit` chains them to the coefficients.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import digamma, gammaln

from crmmodels.kernels._optim import FloatArray, IntArray
from crmmodels.kernels.hypergeometric import LogHyp2F1, log_hyp2f1_a_a1

__all__ = [
    "conditional_expected_purchases",
    "hypergeometric_cells",
    "loglik_rows",
    "probability_alive",
]


def _rows(*arrays: ArrayLike) -> list[FloatArray]:
    return [np.asarray(v, dtype=np.float64).ravel() for v in np.broadcast_arrays(*arrays)]


def _terms(
    r: float,
    al: FloatArray,
    s: float,
    be: FloatArray,
    x: FloatArray,
    tx: FloatArray,
    tt: FloatArray,
    grad: bool,
    cells: tuple[IntArray, IntArray] | None = None,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray | None]:
    """``(log C, log A, log B, d log L)`` with ``log L = log C + logaddexp(log A, log B)``.

    ``cells`` (see :func:`hypergeometric_cells`) gives one entry of each distinct
    hypergeometric term among the ``2 n`` entries ``(t_x, T)`` and the term of every entry.
    """
    n = x.size
    rx = r + x
    big_a = rx + s
    log_c = gammaln(rx) - gammaln(r) + r * np.log(al) + s * np.log(be)
    log_at, log_bt = np.log(al + tt), np.log(be + tt)
    log_a = -rx * log_at - s * log_bt
    first = al >= be
    m = np.where(first, al, be)
    dist = np.abs(al - be)
    mt1, mt2 = m + tx, m + tt
    b_arg = np.where(first, s + 1.0, rx)
    hyp_a = np.concatenate([big_a, big_a])
    hyp_b = np.concatenate([b_arg, b_arg])
    hyp_z = np.concatenate([dist / mt1, dist / mt2])
    if cells is None:
        hyp = log_hyp2f1_a_a1(hyp_a, hyp_b, hyp_z)
    else:  # the terms once per distinct cell, read back by every entry
        first_entry, entry_cell = cells
        once = log_hyp2f1_a_a1(hyp_a[first_entry], hyp_b[first_entry], hyp_z[first_entry])
        hyp = LogHyp2F1(*(v[entry_cell] for v in once))
    log_mt1, log_mt2 = np.log(mt1), np.log(mt2)
    l1 = hyp.value[:n] - big_a * log_mt1
    l2 = hyp.value[n:] - big_a * log_mt2
    diff = np.minimum(l2 - l1, 0.0)
    with np.errstate(divide="ignore"):
        log_a0 = l1 + np.log(-np.expm1(diff))
    log_sa = np.log(s) - np.log(big_a)
    log_b = log_sa + log_a0
    if not grad:
        return log_c, log_a, log_b, None
    dc = np.stack([digamma(rx) - digamma(r) + np.log(al), r / al, np.full(n, np.log(s)), s / be])
    dc[2] = np.log(be)
    da = np.stack([-log_at, -rx / (al + tt), -log_bt, -s / (be + tt)])
    dl = []
    for k, (mt, log_mt) in enumerate(((mt1, log_mt1), (mt2, log_mt2))):
        sl = slice(k * n, (k + 1) * n)
        fa, fb, fz = hyp.d_a[sl], hyp.d_b[sl], hyp.d_z[sl]
        near = fz * (mt - dist) / (mt * mt) - big_a / mt  # derivative in the larger scale
        far = -fz / mt  # derivative in the smaller scale
        g = np.empty((4, n))
        g[0] = np.where(first, fa, fa + fb) - log_mt
        g[2] = np.where(first, fa + fb, fa) - log_mt
        g[1] = np.where(first, near, far)
        g[3] = np.where(first, far, near)
        dl.append(g)
    dsa = np.zeros((4, n))
    dsa[0] = -1.0 / big_a
    dsa[2] = 1.0 / s - 1.0 / big_a
    top = np.maximum(log_a, log_b)
    wa, wb = np.exp(log_a - top), np.exp(log_b - top)
    den = wa + wb
    e1 = np.exp(log_sa + l1 - top)
    e2 = np.exp(log_sa + l2 - top)
    dlog = dc + (wa * da + wb * dsa + e1 * dl[0] - e2 * dl[1]) / den
    return log_c, log_a, log_b, dlog


def hypergeometric_cells(
    frequency: FloatArray, recency: FloatArray, T: FloatArray, pattern: IntArray
) -> tuple[IntArray, IntArray]:
    """The distinct hypergeometric terms of rows with per-pattern scales.

    The terms of a row at ``t_x`` and at ``T`` depend on ``(x, t)`` and on the scales,
    which are those of the row's covariate ``pattern``; rows that share ``(x, pattern)``
    and ``T`` (or ``t_x``) share the term. Returns one entry (of the ``2 n`` entries: the
    rows at ``t_x``, then at ``T``) per distinct ``(x, pattern, t)`` and the cell of
    every entry, for ``cells=`` of :func:`loglik_rows`.

    Examples
    --------
    >>> import numpy as np
    >>> first, cell = hypergeometric_cells(np.array([1.0, 1.0]), np.array([2.0, 3.0]),
    ...                                    np.array([9.0, 9.0]), np.array([0, 0]))
    >>> first.size, cell.tolist()
    (3, [0, 1, 2, 2])
    """
    x2 = np.concatenate([frequency, frequency])
    t2 = np.concatenate([recency, T])
    p2 = np.concatenate([pattern, pattern])
    _, ux = np.unique(x2, return_inverse=True)
    _, ut = np.unique(t2, return_inverse=True)
    key = (p2.astype(np.int64) * (int(ux.max()) + 1) + ux) * (int(ut.max()) + 1) + ut
    _, first, cell = np.unique(key, return_index=True, return_inverse=True)
    return first.astype(np.int64), cell.reshape(-1).astype(np.int64)


def loglik_rows(
    r: float,
    alpha: ArrayLike,
    s: float,
    beta: ArrayLike,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    cells: tuple[IntArray, IntArray] | None = None,
) -> tuple[FloatArray, FloatArray]:
    """Per-row log-likelihood and its partial derivatives in ``(r, alpha_i, s, beta_i)``.

    Parameters
    ----------
    r, s : float
        Shared shapes (> 0).
    alpha, beta : array_like
        Per-row scales of the purchase and the dropout rate (> 0).
    frequency, recency, T : array_like
        Customer histories (broadcast with ``alpha`` and ``beta``).
    cells : tuple of numpy.ndarray, optional
        :func:`hypergeometric_cells` of the rows: the hypergeometric terms are then
        computed once per distinct cell (the scales must be equal within a pattern).

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        ``log L`` per row and the derivatives (shape ``(4, n)``).

    Examples
    --------
    >>> ll, d = loglik_rows(0.55, 10.58, 0.61, 11.67, 2, 30.43, 38.86)
    >>> ll.round(4).tolist(), d.shape
    ([-9.562], (4, 1))
    """
    al, be, x, tx, tt = _rows(alpha, beta, frequency, recency, T)
    log_c, log_a, log_b, dlog = _terms(r, al, s, be, x, tx, tt, True, cells)
    assert dlog is not None
    return np.asarray(log_c + np.logaddexp(log_a, log_b), dtype=np.float64), dlog


def probability_alive(
    r: float,
    alpha: ArrayLike,
    s: float,
    beta: ArrayLike,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
) -> FloatArray:
    """P(alive at T) per row (Fader & Hardie 2005 note, eq. 18, with per-row scales).

    Examples
    --------
    >>> probability_alive(0.55, 10.58, 0.61, 11.67, [0, 2], [0.0, 30.43], 38.86).round(4)
    array([0.2938, 0.8684])
    """
    al, be, x, tx, tt = _rows(alpha, beta, frequency, recency, T)
    _, log_a, log_b, _ = _terms(r, al, s, be, x, tx, tt, False)
    return np.asarray(np.exp(log_a - np.logaddexp(log_a, log_b)), dtype=np.float64)


def conditional_expected_purchases(
    r: float,
    alpha: ArrayLike,
    s: float,
    beta: ArrayLike,
    t: ArrayLike,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
) -> FloatArray:
    r"""Expected purchases in ``(T, T + t]`` per row (Fader & Hardie 2005 note, eq. 22).

    $$ \frac{(r+x)(\beta_i+T)}{(\alpha_i+T)(s-1)}
       \left[1 - \left(\frac{\beta_i+T}{\beta_i+T+t}\right)^{s-1}\right] P(\text{alive}) $$
    with the limit :math:`\log(1 + t/(\beta_i+T))` of the bracket over ``s - 1`` at s = 1.

    Examples
    --------
    >>> conditional_expected_purchases(0.55, 10.58, 0.61, 11.67, 39, [0, 2], [0.0, 30.43],
    ...                                38.86).round(4)
    array([0.1058, 1.4504])
    """
    al, be, h, x, tx, tt = _rows(alpha, beta, t, frequency, recency, T)
    palive = probability_alive(r, al, s, be, x, tx, tt)
    k = s - 1.0
    log_ratio = np.log1p(h / (be + tt))
    kl = k * log_ratio
    small = abs(k) < 1e-8
    bracket = log_ratio if small else -np.expm1(-kl) / k
    rate = (r + x) / (al + tt) * (be + tt)
    return np.asarray(rate * bracket * palive, dtype=np.float64)
