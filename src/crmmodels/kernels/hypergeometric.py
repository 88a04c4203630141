r"""Stable Gauss hypergeometric functions for the customer-base models.

The Pareto/NBD likelihood and the BG/BB discounted expected residual transactions need
the Gauss hypergeometric function only in the family

$$ F(a, b; z) = {}_2F_1(a, b; a + 1; z)
   = a \int_0^1 u^{a-1} (1 - z u)^{-b} \, du, \qquad a > 0,\ b \ge 0,\ 0 \le z < 1, $$

with parameters anywhere from 1e-4 to 1e4 and ``z`` as close to 1 as the data make it.
``scipy.special.hyp2f1`` overflows or loses accuracy there, so this module computes
``log F`` and its partial derivatives with respect to ``a``, ``b`` and ``z`` itself,
vectorised over arrays, by one of two routes chosen per element:

* ``z <= 0.9`` (the common case): Euler's transformation
  ``F = (1 - z)^{1 - b} 2F1(1, a + 1 - b; a + 1; z)`` turns the series into one whose
  terms are all positive and shrink at least geometrically with ratio ``z``, so it is
  summed to machine precision in at most a few hundred terms; the derivatives come from
  the same terms (digamma differences accumulate as running harmonic sums). This route
  needs ``a + 1 - b > 0``, which holds in every use here.
* ``z > 0.9`` (or ``a + 1 - b <= 0``): the substitution ``u = exp(-y / a)`` gives
  ``F = \int_0^\infty e^{-y} (1 - z e^{-y/a})^{-b} dy``, an integral of a decreasing,
  log-convex function; it is computed with composite Gauss-Legendre quadrature in
  ``log y`` (peaks of power-law integrands are O(1) wide on that scale whatever the
  parameters), in log space, from a lower limit where the neglected head is below 1e-16
  of the total. Derivatives are integrals of the same integrand times the derivative of
  its logarithm.

References
----------
Abramowitz, M. and Stegun, I. A. (1964), Handbook of Mathematical Functions, 15.3.1
(Euler integral) and 15.3.3 (Euler transformation).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["LogHyp2F1", "log_hyp2f1_a_a1", "log_hyp2f1_a_a1_outer", "log_hyp2f1_one"]

FloatArray = NDArray[np.float64]

_Z_SERIES_MAX = 0.9
_EPS = 1e-17
_N_PANELS = 48
_N_NODES = 16
_GL_X, _GL_W = np.polynomial.legendre.leggauss(_N_NODES)


class LogHyp2F1(NamedTuple):
    """Log of a hypergeometric function and its partial derivatives.

    Attributes
    ----------
    value : numpy.ndarray
        ``log F``.
    d_a, d_b, d_z : numpy.ndarray
        Partial derivatives of ``log F`` with respect to ``a``, ``b`` and ``z``.
    """

    value: FloatArray
    d_a: FloatArray
    d_b: FloatArray
    d_z: FloatArray


def _series(a: FloatArray, b: FloatArray, z: FloatArray) -> LogHyp2F1:
    """Euler-transformed series for ``log 2F1(a, b; a+1; z)``, ``z <= 0.9``, ``a+1-b > 0``."""
    e = a + 1.0 - b
    c = a + 1.0
    n = a.shape[0]
    res = np.empty((4, n))  # S, sum term*H_k(e), sum term*H_k(c), sum k*term/z
    # compact working arrays for the rows still summing
    idx = np.arange(n)
    ea, ca, za = e.copy(), c.copy(), z.copy()
    acc = np.zeros((4, n))
    acc[0] = 1.0
    term = np.ones(n)
    he = np.zeros(n)
    hc = np.zeros(n)
    k = 0
    while idx.size:
        for _ in range(4):  # a few terms between convergence checks
            k += 1
            q = term * ea / ca  # ea, ca hold e + k - 1 and c + k - 1
            he += 1.0 / ea
            hc += 1.0 / ca
            term = q * za
            acc[0] += term
            acc[1] += term * he
            acc[2] += term * hc
            acc[3] += k * q
            ea += 1.0
            ca += 1.0
        # the remaining terms shrink at least geometrically with ratio z
        one_z = 1.0 - za
        done = (term * (k + 1.0 / one_z) <= _EPS * acc[0] * one_z) | (term == 0.0)
        if np.any(done):
            res[:, idx[done]] = acc[:, done]
            keep = ~done
            idx = idx[keep]
            acc = acc[:, keep]
            term, he, hc, ea, ca, za = (v[keep] for v in (term, he, hc, ea, ca, za))
    s_sum = res[0]
    d_e = res[1] / s_sum
    d_c = -res[2] / s_sum
    d_zs = res[3] / s_sum
    l1z = np.log1p(-z)
    return LogHyp2F1(
        value=(1.0 - b) * l1z + np.log(s_sum),
        d_a=d_e + d_c,
        d_b=-l1z - d_e,
        d_z=-(1.0 - b) / (1.0 - z) + d_zs,
    )


def _quadrature(a: FloatArray, b: FloatArray, z: FloatArray) -> LogHyp2F1:
    """Quadrature in ``log y`` of ``int_0^inf exp(-y) (1 - z exp(-y/a))^(-b) dy``."""
    # slope of the log-integrand at y = 0 bounds the width of the head that is skipped
    # (z rounds to 1 when the parameters are far apart, e.g. at a limiting model)
    k0 = 1.0 + b * z / (a * np.maximum(1.0 - z, 1e-250))
    v_lo = np.log(1e-17 / k0)
    v_hi = np.log(50.0)
    width = (v_hi - v_lo) / _N_PANELS
    panel = np.arange(_N_PANELS)[:, None]
    nodes = (panel + 0.5 + 0.5 * _GL_X[None, :]).ravel()  # in panel units
    wts = np.tile(0.5 * _GL_W, _N_PANELS)
    v = v_lo[:, None] + width[:, None] * nodes[None, :]
    y = np.exp(v)
    a2 = a[:, None]
    b2 = b[:, None]
    z2 = z[:, None]
    w = np.exp(-y / a2)
    one_m = -np.expm1(np.log(np.maximum(z2, 1e-300)) - y / a2)
    log_one_m = np.log(one_m)
    phi = -y - b2 * log_one_m + v  # dy = y dv
    m = phi.max(axis=1, keepdims=True)
    g = np.exp(phi - m) * wts[None, :]
    tot = g.sum(axis=1)
    value = np.log(tot) + m[:, 0] + np.log(width)
    d_b = (g * -log_one_m).sum(axis=1) / tot
    d_z = (g * (b2 * w / one_m)).sum(axis=1) / tot
    d_a = (g * (b2 * z2 * w * y / (a2 * a2) / one_m)).sum(axis=1) / tot
    return LogHyp2F1(value=value, d_a=d_a, d_b=d_b, d_z=d_z)


def log_hyp2f1_a_a1(a: ArrayLike, b: ArrayLike, z: ArrayLike) -> LogHyp2F1:
    r"""Log of ``2F1(a, b; a + 1; z)`` and its partial derivatives, stably.

    Parameters
    ----------
    a : array_like
        First parameter, ``a > 0`` (the third parameter is ``a + 1``).
    b : array_like
        Second parameter, ``b >= 0``.
    z : array_like
        Argument, ``0 <= z < 1``.

    Returns
    -------
    LogHyp2F1
        ``value`` (``log 2F1``) and the partial derivatives ``d_a``, ``d_b``, ``d_z``,
        each broadcast to the common shape of the inputs.

    Notes
    -----
    $$ {}_2F_1(a, b; a+1; z) = a \int_0^1 u^{a-1}(1 - zu)^{-b} du
       = (1 - z)^{1-b} \sum_{k \ge 0} \frac{(a + 1 - b)_k}{(a + 1)_k} z^k. $$
    See the module docstring for the two evaluation routes.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.special import hyp2f1
    >>> out = log_hyp2f1_a_a1(2.5, 1.5, 0.3)
    >>> bool(np.isclose(np.exp(out.value), hyp2f1(2.5, 1.5, 3.5, 0.3)))
    True
    >>> float(np.round(log_hyp2f1_a_a1(1e4, 1e4, 0.999999).value, 2))
    138141.29
    """
    a_, b_, z_ = np.broadcast_arrays(
        np.asarray(a, dtype=float), np.asarray(b, dtype=float), np.asarray(z, dtype=float)
    )
    shape = a_.shape
    af, bf, zf = a_.ravel(), b_.ravel(), z_.ravel()
    out = [np.empty(af.shape[0]) for _ in range(4)]
    use_series = (zf <= _Z_SERIES_MAX) & (af + 1.0 - bf > 0)
    for mask, fn in ((use_series, _series), (~use_series, _quadrature)):
        if np.any(mask):
            res = fn(af[mask], bf[mask], zf[mask])
            for o, r in zip(out, res, strict=True):
                o[mask] = r
    return LogHyp2F1(*(o.reshape(shape) for o in out))


#: upper ends of the bands of ``z`` whose series share one number of terms (outer grid)
_Z_BANDS = (0.1, 0.25, 0.45, 0.65, 0.8, _Z_SERIES_MAX)


def _n_terms(z_max: float) -> int:
    """Terms after which the Euler-transformed series is complete to ``_EPS`` for ``z_max``.

    The coefficients ``(e)_k / (c)_k`` never exceed 1 (``e <= c``), so the tail after ``K``
    terms and its derivative sums are bounded by ``z^(K+1) (K + 1/(1 - z)) / (1 - z)``.
    """
    if z_max <= 0.0:
        return 1
    k = np.arange(1.0, 4000.0)
    bound = (k + 1.0) * np.log(z_max) + np.log(k + 1.0 / (1.0 - z_max)) - np.log1p(-z_max)
    return int(k[np.argmax(bound <= np.log(_EPS))]) + 1


def _outer_series(a: FloatArray, b: FloatArray, z: FloatArray) -> LogHyp2F1:
    """:func:`_series` on the grid rows x columns, as matrix products of the series terms.

    The coefficient of ``z^k`` and the running harmonic sums depend on the row only, the
    powers of ``z`` on the column only, so each of the four sums is one matrix product.
    """
    e = a + 1.0 - b
    c = a + 1.0
    k_max = _n_terms(float(z.max()))
    j = np.arange(k_max, dtype=np.float64)
    inv_e = 1.0 / (e[:, None] + j)
    inv_c = 1.0 / (c[:, None] + j)
    coef = np.ones((a.shape[0], k_max + 1))
    np.cumprod((e[:, None] + j) * inv_c, axis=1, out=coef[:, 1:])
    h_e = np.zeros_like(coef)
    h_c = np.zeros_like(coef)
    np.cumsum(inv_e, axis=1, out=h_e[:, 1:])
    np.cumsum(inv_c, axis=1, out=h_c[:, 1:])
    powers = np.ones((k_max + 1, z.shape[0]))
    np.cumprod(np.broadcast_to(z, (k_max, z.shape[0])), axis=0, out=powers[1:])
    s_sum = coef @ powers
    d_e = (coef * h_e) @ powers / s_sum
    d_c = -((coef * h_c) @ powers) / s_sum
    d_zs = (coef[:, 1:] * (j + 1.0)) @ powers[:-1] / s_sum
    l1z = np.log1p(-z)[None, :]
    one_b = (1.0 - b)[:, None]
    return LogHyp2F1(
        value=one_b * l1z + np.log(s_sum),
        d_a=d_e + d_c,
        d_b=-l1z - d_e,
        d_z=-one_b / (1.0 - z)[None, :] + d_zs,
    )


def log_hyp2f1_a_a1_outer(a: ArrayLike, b: ArrayLike, z: ArrayLike) -> LogHyp2F1:
    r""":func:`log_hyp2f1_a_a1` on every pair of a row ``(a_i, b_i)`` and a column ``z_j``.

    Parameters
    ----------
    a, b : array_like
        1-D parameters of the rows (equal length; ``a > 0``, ``b >= 0``).
    z : array_like
        1-D arguments of the columns, ``0 <= z < 1``.

    Returns
    -------
    LogHyp2F1
        Arrays of shape ``(len(a), len(z))``: ``log 2F1(a_i, b_i; a_i + 1; z_j)`` and its
        partial derivatives.

    Notes
    -----
    A likelihood on a day grid meets few distinct counts (rows) and few distinct times
    (columns). Where the series route applies, the coefficients of :math:`z^k` and their
    harmonic sums are computed once per row and the powers :math:`z_j^k` once per column;
    the series and its derivative sums are then matrix products, with the columns grouped
    in bands of ``z`` that share a number of terms (chosen from a bound on the tail, so the
    sums are complete to machine precision). Other cells use :func:`log_hyp2f1_a_a1`.

    Examples
    --------
    >>> import numpy as np
    >>> out = log_hyp2f1_a_a1_outer([2.5, 40.0], [1.5, 1.5], [0.0, 0.3, 0.95])
    >>> out.value.shape
    (2, 3)
    >>> bool(np.allclose(out.value[1], log_hyp2f1_a_a1(40.0, 1.5, [0.0, 0.3, 0.95]).value))
    True
    """
    af = np.asarray(a, dtype=np.float64).ravel()
    bf = np.asarray(b, dtype=np.float64).ravel()
    zf = np.asarray(z, dtype=np.float64).ravel()
    out = [np.empty((af.shape[0], zf.shape[0])) for _ in range(4)]
    rows = af + 1.0 - bf > 0
    lower = -1.0
    for upper in _Z_BANDS:
        cols = (zf > lower) & (zf <= upper)
        lower = upper
        if np.any(cols) and np.any(rows):
            res = _outer_series(af[rows], bf[rows], zf[cols])
            cell = np.ix_(rows, cols)
            for o, v in zip(out, res, strict=True):
                o[cell] = v
    rest = ~(rows[:, None] & (zf <= _Z_SERIES_MAX)[None, :])
    if np.any(rest):
        i, j = np.nonzero(rest)
        res = log_hyp2f1_a_a1(af[i], bf[i], zf[j])
        for o, v in zip(out, res, strict=True):
            o[i, j] = v
    return LogHyp2F1(*out)


def log_hyp2f1_one(e: ArrayLike, c: ArrayLike, z: ArrayLike) -> FloatArray:
    """Log of ``2F1(1, e; c; z)`` for ``0 < e < c``, ``c > 1`` and ``0 <= z < 1``.

    Parameters
    ----------
    e : array_like
        Second parameter, ``e > 0``.
    c : array_like
        Third parameter, ``c > max(e, 1)``.
    z : array_like
        Argument in ``[0, 1)``.

    Returns
    -------
    numpy.ndarray
        ``log 2F1(1, e; c; z)``.

    Notes
    -----
    Euler's transformation gives
    ``2F1(1, e; c; z) = (1 - z)^{c - e - 1} 2F1(c - 1, c - e; c; z)``, a member of the
    family of :func:`log_hyp2f1_a_a1` with ``a = c - 1``, ``b = c - e``.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.special import hyp2f1
    >>> bool(np.isclose(np.exp(log_hyp2f1_one(7.0, 8.5, 0.95)), hyp2f1(1, 7.0, 8.5, 0.95)))
    True
    """
    e_, c_, z_ = np.broadcast_arrays(
        np.asarray(e, dtype=float), np.asarray(c, dtype=float), np.asarray(z, dtype=float)
    )
    inner = log_hyp2f1_a_a1(c_ - 1.0, c_ - e_, z_).value
    return np.asarray((c_ - e_ - 1.0) * np.log1p(-z_) + inner, dtype=float)
