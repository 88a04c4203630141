r"""BG/BB kernels: log-likelihood, gradient and predictions (discrete opportunities).

Pure numpy/scipy functions of the parameters ``(alpha, beta, gamma, delta)`` and the
customer arrays ``x`` (number of transactions), ``t_x`` (opportunity of the last
transaction, 0 when x = 0) and ``n`` (number of opportunities), in log space.

Model (Fader, Hardie & Shang 2010): at each opportunity an alive customer transacts with
probability :math:`p \sim \mathrm{Beta}(\alpha, \beta)` and, after it, dies with
probability :math:`\theta \sim \mathrm{Beta}(\gamma, \delta)`. The likelihood (their
eq. 5) is a finite sum over the opportunities after the last transaction,

$$ L = \frac{B(\alpha+x, \beta+n-x)}{B(\alpha,\beta)}\frac{B(\gamma, \delta+n)}{B(\gamma,\delta)}
   + \sum_{i=0}^{n-t_x-1} \frac{B(\alpha+x, \beta+t_x-x+i)}{B(\alpha,\beta)}
     \frac{B(\gamma+1, \delta+t_x+i)}{B(\gamma,\delta)}, $$

evaluated as a masked log-sum-exp over a ``(rows, i)`` array (in row blocks of bounded
memory); the gradient uses digamma differences.

References
----------
Fader, P. S., Hardie, B. G. S. and Shang, J. (2010), "Customer-Base Analysis in a
Discrete-Time Noncontractual Setting", Marketing Science 29(6), 1086-1108
(eqs. 5, 7, 8, 11, 13, 14).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import betaln, digamma, gammaln, logsumexp

from crmmodels.kernels._optim import compress_rows

__all__ = [
    "conditional_expected_purchases",
    "conditional_probability_of_purchases",
    "discounted_expected_residual_transactions",
    "expected_purchases",
    "log_likelihood",
    "log_likelihood_grad",
    "probability_alive",
    "probability_of_purchases",
]

FloatArray = NDArray[np.float64]
Params = Sequence[float] | FloatArray

_BLOCK_CELLS = 2_000_000


def _unpack(params: Params) -> tuple[float, float, float, float]:
    a, b, g, d = (float(p) for p in params)
    return a, b, g, d


def _arrays(*arrays: ArrayLike) -> list[FloatArray]:
    return [np.asarray(v, dtype=np.float64) for v in np.broadcast_arrays(*arrays)]


def _blocks(n_rows: int, width: int) -> list[slice]:
    step = max(1, _BLOCK_CELLS // max(width, 1))
    return [slice(i, min(i + step, n_rows)) for i in range(0, n_rows, step)]


def _loglik_rows(
    params: Params, x: FloatArray, tx: FloatArray, n: FloatArray, grad: bool
) -> tuple[FloatArray, FloatArray | None]:
    """Per-row log-likelihood and (optionally) its gradient, shape ``(4, rows)``."""
    a, b, g, d = _unpack(params)
    base = betaln(a, b) + betaln(g, d)
    t0 = betaln(a + x, b + n - x) + betaln(g, d + n) - base
    out = np.empty_like(x)
    dout = np.empty((4, x.shape[0])) if grad else None
    if grad:
        da0 = digamma(a) - digamma(a + b)
        db0 = digamma(b) - digamma(a + b)
        dg0 = digamma(g) - digamma(g + d)
        dd0 = digamma(d) - digamma(g + d)
        g_t0 = np.stack(
            [
                digamma(a + x) - digamma(a + b + n) - da0,
                digamma(b + n - x) - digamma(a + b + n) - db0,
                digamma(g) - digamma(g + d + n) - dg0,
                digamma(d + n) - digamma(g + d + n) - dd0,
            ]
        )
    n_terms = (n - tx).astype(np.int64)
    width = int(n_terms.max()) if n_terms.size else 0
    for blk in _blocks(x.shape[0], width):
        xb, txb, kb = x[blk, None], tx[blk, None], n_terms[blk, None]
        i = np.arange(width, dtype=np.float64)[None, :]
        mask = i < kb
        ti = (
            betaln(a + xb, b + txb - xb + i)
            + betaln(g + 1.0, d + txb + i)
            - base
            + np.where(mask, 0.0, -np.inf)
        )
        allt = np.concatenate([t0[blk, None], ti], axis=1)
        big = allt.max(axis=1, keepdims=True)
        wts = np.exp(allt - big)
        tot = wts.sum(axis=1)
        out[blk] = np.log(tot) + big[:, 0]
        if grad and dout is not None:
            wn = wts / tot[:, None]
            w0, wi = wn[:, 0], wn[:, 1:]
            abi = a + b + txb + i
            gdi = g + d + 1.0 + txb + i
            gi = [
                digamma(a + xb) - digamma(abi) - da0,
                digamma(b + txb - xb + i) - digamma(abi) - db0,
                digamma(g + 1.0) - digamma(gdi) - dg0,
                digamma(d + txb + i) - digamma(gdi) - dd0,
            ]
            for k in range(4):
                dout[k, blk] = w0 * g_t0[k, blk] + np.where(mask, wi * gi[k], 0.0).sum(axis=1)
    return out, dout


def log_likelihood(
    params: Params, frequency: ArrayLike, recency: ArrayLike, n_periods: ArrayLike
) -> FloatArray:
    """Per-customer BG/BB log-likelihood.

    Parameters
    ----------
    params : sequence of float
        ``(alpha, beta, gamma, delta)``, all > 0.
    frequency, recency, n_periods : array_like
        Transactions x, opportunity of the last transaction t_x and number of
        opportunities n (integers, ``0 <= x <= t_x <= n``).

    Returns
    -------
    numpy.ndarray
        ``log L`` per customer.

    Examples
    --------
    >>> round(float(log_likelihood((1.204, 0.750, 0.657, 2.783), 3, 4, 6)), 4)
    -5.0593
    """
    x, tx, n = _arrays(frequency, recency, n_periods)
    # once per distinct history: a base has few (x, t_x, n) patterns
    (xu, txu, nu), _, inverse = compress_rows([x.ravel(), tx.ravel(), n.ravel()])
    out, _ = _loglik_rows(params, xu, txu, nu, False)
    return out[inverse].reshape(x.shape)


def log_likelihood_grad(
    params: Params,
    frequency: ArrayLike,
    recency: ArrayLike,
    n_periods: ArrayLike,
    counts: ArrayLike | None = None,
) -> tuple[float, FloatArray]:
    """Summed weighted log-likelihood and its gradient in ``(alpha, beta, gamma, delta)``.

    Examples
    --------
    >>> ll, g = log_likelihood_grad((1.2, 0.75, 0.66, 2.8), [0, 3], [0, 4], [6, 6], [10, 2])
    >>> round(ll, 3), g.shape
    (-21.781, (4,))
    """
    x, tx, n = (v.ravel() for v in _arrays(frequency, recency, n_periods))
    w = np.ones_like(x) if counts is None else np.asarray(counts, dtype=np.float64).ravel()
    out, dout = _loglik_rows(params, x, tx, n, True)
    assert dout is not None
    return float(np.dot(w, out)), np.asarray(dout @ w, dtype=np.float64)


def _one_minus_gamma_ratio(g: float, base: FloatArray, m: FloatArray) -> FloatArray:
    r"""Return ``(1 - exp(-L)) / (g - 1)``, stably near ``g = 1``.

    Here :math:`L = \ln\frac{\Gamma(g+base+m)\Gamma(1+base)}{\Gamma(g+base)\Gamma(1+base+m)}`,
    and its limit :math:`\psi(1+base+m) - \psi(1+base)` at ``g = 1``.
    """
    big_l = (
        gammaln(g + base + m) - gammaln(g + base) - gammaln(1.0 + base + m) + gammaln(1.0 + base)
    )
    if abs(g - 1.0) < 1e-7:
        slope = digamma(1.0 + base + m) - digamma(1.0 + base)
        return np.asarray(slope * (1.0 - 0.5 * big_l), dtype=np.float64)
    return np.asarray(-np.expm1(-big_l) / (g - 1.0), dtype=np.float64)


def expected_purchases(params: Params, n: ArrayLike) -> FloatArray:
    r"""Expected number of transactions of a new customer in the first ``n`` opportunities.

    Notes
    -----
    $$ E[X(n)] = \frac{\alpha}{\alpha+\beta}\frac{\delta}{\gamma-1}
       \left[1 - \frac{\Gamma(\gamma+\delta)\Gamma(1+\delta+n)}
                       {\Gamma(\gamma+\delta+n)\Gamma(1+\delta)}\right] $$
    (Fader, Hardie & Shang 2010, eq. 8), with its limit at :math:`\gamma = 1`.

    Examples
    --------
    >>> expected_purchases((1.204, 0.750, 0.657, 2.783), [1, 6, 11]).round(4).tolist()
    [0.4985, 2.2196, 3.3876]
    """
    a, b, g, d = _unpack(params)
    nn = np.asarray(n, dtype=np.float64)
    return np.asarray(a / (a + b) * d * _one_minus_gamma_ratio(g, np.asarray(d), nn))


def probability_alive(
    params: Params, frequency: ArrayLike, recency: ArrayLike, n_periods: ArrayLike
) -> FloatArray:
    r"""Probability of being alive at opportunity ``n + 1`` given ``(x, t_x, n)``.

    Notes
    -----
    $$ P(\text{alive at } n+1) = \frac{B(\alpha+x,\beta+n-x)}{B(\alpha,\beta)}
       \frac{B(\gamma,\delta+n+1)}{B(\gamma,\delta)} \Big/ L $$
    (Fader, Hardie & Shang 2010, eq. 11).

    Examples
    --------
    >>> probability_alive((1.204, 0.750, 0.657, 2.783), [0, 3, 3], [0, 4, 6], 6).round(4).tolist()
    [0.108, 0.4395, 0.9304]
    """
    a, b, g, d = _unpack(params)
    x, tx, n = _arrays(frequency, recency, n_periods)
    log_l = log_likelihood(params, x, tx, n)
    num = betaln(a + x, b + n - x) - betaln(a, b) + betaln(g, d + n + 1.0) - betaln(g, d)
    return np.asarray(np.exp(num - log_l))


def conditional_expected_purchases(
    params: Params,
    m: ArrayLike,
    frequency: ArrayLike,
    recency: ArrayLike,
    n_periods: ArrayLike,
) -> FloatArray:
    r"""Expected transactions in the next ``m`` opportunities given ``(x, t_x, n)``.

    Notes
    -----
    $$ E[X(n, n+m)\mid x, t_x, n] = \frac{1}{L}\frac{B(\alpha+x+1,\beta+n-x)}{B(\alpha,\beta)}
       \frac{\delta}{\gamma-1}\frac{\Gamma(\gamma+\delta)}{\Gamma(1+\delta)}
       \left[\frac{\Gamma(1+\delta+n)}{\Gamma(\gamma+\delta+n)}
           - \frac{\Gamma(1+\delta+n+m)}{\Gamma(\gamma+\delta+n+m)}\right] $$
    (Fader, Hardie & Shang 2010, eq. 13).

    Examples
    --------
    >>> p = (1.204, 0.750, 0.657, 2.783)
    >>> conditional_expected_purchases(p, 5, [0, 3, 6], [0, 4, 6], 6).round(4).tolist()
    [0.0728, 1.0342, 3.7521]
    """
    a, b, g, d = _unpack(params)
    mm, x, tx, n = _arrays(m, frequency, recency, n_periods)
    log_l = log_likelihood(params, x, tx, n)
    log_front = (
        betaln(a + x + 1.0, b + n - x)
        - betaln(a, b)
        + np.log(d)
        + gammaln(g + d)
        - gammaln(1.0 + d)
        + gammaln(1.0 + d + n)
        - gammaln(g + d + n)
    )
    bracket = _one_minus_gamma_ratio(g, d + n, mm)
    return np.asarray(np.exp(log_front - log_l) * bracket)


def _log_choose(top: FloatArray, k: FloatArray) -> FloatArray:
    """``log C(top, k)`` for whole ``0 <= k <= top``."""
    return np.asarray(gammaln(top + 1.0) - gammaln(k + 1.0) - gammaln(top - k + 1.0))


def probability_of_purchases(params: Params, x: ArrayLike, n: ArrayLike) -> FloatArray:
    r"""Unconditional probability of exactly ``x`` transactions in ``n`` opportunities.

    Notes
    -----
    $$ P(X(n)=x) = \binom{n}{x}\frac{B(\alpha+x,\beta+n-x)}{B(\alpha,\beta)}
       \frac{B(\gamma,\delta+n)}{B(\gamma,\delta)}
       + \sum_{i=x}^{n-1}\binom{i}{x}\frac{B(\alpha+x,\beta+i-x)}{B(\alpha,\beta)}
         \frac{B(\gamma+1,\delta+i)}{B(\gamma,\delta)} $$
    (Fader, Hardie & Shang 2010, eq. 7).

    Examples
    --------
    >>> probability_of_purchases((1.204, 0.750, 0.657, 2.783), [0, 3, 6], 6).round(4).tolist()
    [0.3112, 0.1003, 0.1128]
    """
    a, b, g, d = _unpack(params)
    xx, nn = _arrays(x, n)
    shape = xx.shape
    xf, nf = xx.ravel(), nn.ravel()
    base = betaln(a, b) + betaln(g, d)

    with np.errstate(invalid="ignore"):
        t0 = np.where(
            xf <= nf,
            _log_choose(nf, xf) + betaln(a + xf, b + nf - xf) + betaln(g, d + nf) - base,
            -np.inf,
        )
    out = np.empty_like(xf)
    width = int(np.max(nf - xf, initial=0))
    for blk in _blocks(xf.shape[0], width):
        xb, nb = xf[blk, None], nf[blk, None]
        i = xb + np.arange(width, dtype=np.float64)[None, :]
        mask = i <= nb - 1.0
        isafe = np.where(mask, i, xb)
        ti = (
            _log_choose(isafe, xb)
            + betaln(a + xb, b + isafe - xb)
            + betaln(g + 1.0, d + isafe)
            - base
            + np.where(mask, 0.0, -np.inf)
        )
        allt = np.concatenate([t0[blk, None], ti], axis=1)
        out[blk] = np.exp(logsumexp(allt, axis=1))
    return out.reshape(shape)


def conditional_probability_of_purchases(
    params: Params,
    x: ArrayLike,
    m: ArrayLike,
    frequency: ArrayLike,
    recency: ArrayLike,
    n_periods: ArrayLike,
) -> FloatArray:
    r"""Probability of exactly ``x`` transactions in the next ``m`` opportunities.

    Notes
    -----
    With the history :math:`(x_h, t_x, n)` and :math:`L` its likelihood (eq. 5),

    $$ P(X(n, n+m) = x \mid x_h, t_x, n) = 1[x = 0]\,(1 - \pi)
       + \frac{1}{L}\Big[\binom{m}{x}
         \frac{B(\alpha+x_h+x, \beta+n-x_h+m-x)}{B(\alpha,\beta)}
         \frac{B(\gamma, \delta+n+m)}{B(\gamma,\delta)}
       + \sum_{i=x}^{m-1} \binom{i}{x}
         \frac{B(\alpha+x_h+x, \beta+n-x_h+i-x)}{B(\alpha,\beta)}
         \frac{B(\gamma+1, \delta+n+i)}{B(\gamma,\delta)}\Big], $$

    where :math:`\pi = \frac{B(\alpha+x_h,\beta+n-x_h)}{B(\alpha,\beta)}
    \frac{B(\gamma,\delta+n)}{B(\gamma,\delta)} / L` is the probability of being
    alive through opportunity ``n``. It follows from Fader, Hardie & Shang (2010, eq. 7):
    a customer alive through ``n`` transacts like a new customer with the posterior
    :math:`p \sim \mathrm{Beta}(\alpha+x_h, \beta+n-x_h)`,
    :math:`\theta \sim \mathrm{Beta}(\gamma, \delta+n)`; one gone transacts no more.
    The sum is a masked log-sum-exp over ``i``, once per distinct input row; its mean
    over ``x`` is :func:`conditional_expected_purchases`.

    Examples
    --------
    >>> p = (1.204, 0.750, 0.657, 2.783)
    >>> conditional_probability_of_purchases(p, [0, 1, 5], 5, 6, 6, 6).round(4).tolist()
    [0.0768, 0.0668, 0.496]
    """
    a, b, g, d = _unpack(params)
    arrays = _arrays(x, m, frequency, recency, n_periods)
    shape = arrays[0].shape
    (k, mm, xh, tx, n), _, inv = compress_rows([v.ravel() for v in arrays])
    base = betaln(a, b) + betaln(g, d)
    log_l = log_likelihood(params, xh, tx, n)
    log_alive = betaln(a + xh, b + n - xh) + betaln(g, d + n) - base - log_l
    with np.errstate(invalid="ignore"):
        stay = np.where(
            k <= mm,
            _log_choose(mm, np.minimum(k, mm))
            + betaln(a + xh + k, b + n - xh + mm - k)
            + betaln(g, d + n + mm)
            - base,
            -np.inf,
        )
    out = np.empty_like(k)
    width = int(np.max(mm - k, initial=0))
    for blk in _blocks(k.shape[0], width):
        kb, mb, xb, nb = k[blk, None], mm[blk, None], xh[blk, None], n[blk, None]
        i = kb + np.arange(width, dtype=np.float64)[None, :]
        mask = i <= mb - 1.0
        isafe = np.where(mask, i, kb)
        ti = (
            _log_choose(isafe, kb)
            + betaln(a + xb + kb, b + nb - xb + isafe - kb)
            + betaln(g + 1.0, d + nb + isafe)
            - base
            + np.where(mask, 0.0, -np.inf)
        )
        allt = np.concatenate([stay[blk, None], ti], axis=1)
        out[blk] = np.exp(logsumexp(allt, axis=1) - log_l[blk])
    out = np.where(k == 0, out - np.expm1(log_alive), out)
    return np.asarray(np.clip(out[inv], 0.0, 1.0).reshape(shape), dtype=np.float64)


_GL_X, _GL_W = np.polynomial.legendre.leggauss(16)


def log_residual_share(gamma: float, big_b: ArrayLike, discount_rate: float) -> FloatArray:
    r"""``log E[(1 - theta) / (theta + d)]`` for ``theta ~ Beta(gamma, big_b)``, ``d > 0``.

    The discounted number of future opportunities a customer alive now survives,
    :math:`\sum_{k \ge 1} E[(1 - \theta)^k] (1 + d)^{-k}`, in a form that stays exact as
    ``d`` goes to 0 (where ``1 / (1 + d)`` rounds to 1).

    Notes
    -----
    On the logit scale ``theta = expit(u)`` the expectation is
    :math:`\frac{1}{B(\gamma, b)} \int \theta^{\gamma} (1 - \theta)^{b + 1}
    / (\theta + d)\, du`. The integrand is analytic within ``pi`` of the real axis, so
    16-point Gauss-Legendre panels of width 2 (narrower than the peak of the Beta
    density when its parameters are large) on
    ``[min(ln d, 0) - 40 - ln(1 + b), 40]`` are exact to rounding; beyond, the tails are
    :math:`e^{\gamma u}/d` and :math:`e^{-(b+1)u}/(1+d)` to 1e-17 relative and are added
    in closed form. Sums are taken in log space. As ``d -> 0`` the value tends to
    ``b / (gamma - 1)`` for ``gamma > 1`` and grows like
    :math:`d^{\gamma-1} \pi / (\sin(\pi\gamma) B(\gamma, b))` for ``gamma < 1``.

    Examples
    --------
    >>> round(float(np.exp(log_residual_share(3.0, 5.0, 1e-20))[0]), 12)  # b / (gamma - 1)
    2.5
    """
    b = np.atleast_1d(np.asarray(big_b, dtype=np.float64))
    log_d = math.log(discount_rate)
    u_lo = min(log_d, 0.0) - 40.0 - math.log1p(float(b.max(initial=0.0)))
    u_hi = 40.0
    # panels no wider than the peak of theta^gamma (1 - theta)^(b + 1) on the logit scale
    b_max = float(b.max(initial=0.0)) + 1.0
    width = min(2.0, 1.0 / math.sqrt(gamma * b_max / (gamma + b_max)))
    n_panels = math.ceil((u_hi - u_lo) / width)
    edges = np.linspace(u_lo, u_hi, n_panels + 1)
    half = 0.5 * (edges[1] - edges[0])
    mid = 0.5 * (edges[1:] + edges[:-1])
    u = (mid[:, None] + half * _GL_X[None, :]).ravel()
    log_w = np.log(np.tile(_GL_W, n_panels) * half)
    log_p = -np.logaddexp(0.0, -u)
    log_q = -np.logaddexp(0.0, u)
    common = gamma * log_p - np.logaddexp(log_p, log_d) + log_w
    distinct, inverse = np.unique(b, return_inverse=True)
    bb = distinct[:, None]
    middle = common[None, :] + (bb + 1.0) * log_q[None, :]
    left = np.full((distinct.size, 1), gamma * u_lo - math.log(gamma) - log_d)
    right = -(bb + 1.0) * u_hi - np.log(bb + 1.0) - math.log1p(discount_rate)
    total = logsumexp(np.concatenate([middle, left, right], axis=1), axis=1)
    return np.asarray((total - betaln(gamma, distinct))[inverse.ravel()], dtype=np.float64)


def discounted_expected_residual_transactions(
    params: Params,
    frequency: ArrayLike,
    recency: ArrayLike,
    n_periods: ArrayLike,
    discount_rate: float,
) -> FloatArray:
    r"""Discounted expected residual transactions (DERT) of a BG/BB customer.

    Parameters
    ----------
    params : sequence of float
        ``(alpha, beta, gamma, delta)``.
    frequency, recency, n_periods : array_like
        Customer history.
    discount_rate : float
        Discount rate ``d > 0`` per opportunity: a transaction at opportunity
        ``n + k`` is worth ``1 / (1 + d)^k``.

    Returns
    -------
    numpy.ndarray
        :math:`\sum_{k \ge 1} P(Y_{n+k} = 1 \mid x, t_x, n) / (1+d)^k`.

    Notes
    -----
    $$ \mathrm{DERT} = \frac{B(\alpha+x+1,\beta+n-x)}{B(\alpha,\beta)}
       \frac{B(\gamma,\delta+n+1)}{B(\gamma,\delta)(1+d)}
       \frac{{}_2F_1(1, \delta+n+1; \gamma+\delta+n+1; \frac{1}{1+d})}{L} $$
    (Fader, Hardie & Shang 2010, eq. 14). The last two factors equal
    :math:`\frac{B(\gamma,\delta+n)}{B(\gamma,\delta)}
    E\left[\frac{1-\theta}{\theta+d}\right]` with
    :math:`\theta \sim \mathrm{Beta}(\gamma, \delta+n)` (sum the geometric series
    :math:`\sum_k ((1-\theta)/(1+d))^k` inside the expectation), computed by
    :func:`log_residual_share`: finite and continuous as ``d`` goes to 0, where
    ``1 / (1 + d)`` rounds to 1 and the hypergeometric form breaks down.

    Examples
    --------
    >>> p = (1.204, 0.750, 0.657, 2.783)
    >>> d = discounted_expected_residual_transactions(p, [0, 6], [0, 6], 6, 0.1)
    >>> d.round(4).tolist()
    [0.1146, 5.9087]
    """
    a, b, g, d = _unpack(params)
    x, tx, n = _arrays(frequency, recency, n_periods)
    log_l = log_likelihood(params, x, tx, n)
    log_num = (
        betaln(a + x + 1.0, b + n - x)
        - betaln(a, b)
        + betaln(g, d + n)
        - betaln(g, d)
        + log_residual_share(g, d + n, discount_rate).reshape(n.shape)
    )
    return np.asarray(np.exp(log_num - log_l))
