r"""BG/NBD kernels (Fader, Hardie & Lee 2005), shared with MBG/NBD.

Pure numpy/scipy functions of ``(params, arrays)``; ``params = (r, alpha, a, b)``.
Purchases of an alive customer follow a Poisson process with rate
:math:`\lambda \sim \mathrm{Gamma}(r, \alpha)`; after each purchase the customer drops
out with probability :math:`p \sim \mathrm{Beta}(a, b)`. The modified model (MBG/NBD,
Batislam, Denizel & Filiztekin 2007) also lets the customer drop out at time 0, right
after the first purchase; every function here takes ``modified`` to switch between them.
Writing ``m = 1`` for the modified model and ``m = 0`` otherwise, the two differ only by
the number of drop-out opportunities survived, ``x + m`` instead of ``x``.

Individual log-likelihood (FHL 2005, eq. 6; Batislam et al. 2007, eq. 4), in the split
evaluated here:

$$ \ell = \underbrace{\ln\Gamma(r+x) - \ln\Gamma(r) + r\ln\alpha
       + \ln B(a, b+x+m) - \ln B(a, b)}_{\text{once per distinct } x}
       - (r+x)\ln(\alpha+T) + \ln\left(1 + \delta\, e^{D}\right), $$

$$ D = \ln a - \ln(b+x+m-1) + (r+x)\left[\ln(\alpha+T) - \ln(\alpha+t_x)\right], $$

with :math:`\delta = 1[x > 0]` for BG/NBD and :math:`\delta = 1` for MBG/NBD. The last
term is a ``logaddexp(0, D)``, so nothing overflows even at ``x = 10,000``.

References
----------
Fader, P. S., Hardie, B. G. S. and Lee, K. L. (2005), "'Counting Your Customers' the
Easy Way: An Alternative to the Pareto/NBD Model", Marketing Science 24(2), 275-284.

Batislam, E. P., Denizel, M. and Filiztekin, A. (2007), "Empirical validation and
comparison of models for customer base analysis", International Journal of Research in
Marketing 24(3), 201-209.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special

from crmmodels.kernels._optim import FloatArray, IntArray, compress_rows, distinct
from crmmodels.kernels.bgnbd_expected import (
    alive_expected_purchases,
)

BoolArray = NDArray[np.bool_]

__all__ = [
    "Prepared",
    "alive_expected_purchases",
    "conditional_expected_purchases",
    "conditional_probability_of_purchases",
    "expected_purchases",
    "loglik",
    "loglik_grad",
    "prepare",
    "probability_alive",
    "probability_of_purchases",
]


def _params(params: ArrayLike) -> tuple[float, float, float, float]:
    r, alpha, a, b = (float(v) for v in np.asarray(params, dtype=np.float64).ravel())
    return r, alpha, a, b


def _dot(u: NDArray[Any], v: NDArray[Any] | None) -> float:
    """Sum of products without BLAS (threaded BLAS is slow on busy machines)."""
    if v is None:
        return float(np.sum(u))
    return float(np.einsum("i,i->", u, v))


def _rfm(frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> list[FloatArray]:
    return [np.asarray(v, dtype=np.float64) for v in np.broadcast_arrays(frequency, recency, T)]


def _log_drop_ratio(x: FloatArray, a: float, b: float, m: int) -> tuple[FloatArray, BoolArray]:
    """``ln a - ln(b + x + m - 1)`` and the indicator delta of the drop-out term."""
    delta: BoolArray = (x > 0) if m == 0 else np.ones(x.shape, dtype=bool)
    denom = np.where(delta, b + x + m - 1.0, 1.0)
    out = np.where(delta, np.log(a) - np.log(denom), -np.inf)
    return np.asarray(out, dtype=np.float64), delta


def loglik(
    params: ArrayLike,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    *,
    modified: bool = False,
) -> FloatArray:
    r"""Individual log-likelihood of the BG/NBD (or MBG/NBD) model.

    Parameters
    ----------
    params : array_like
        ``(r, alpha, a, b)``.
    frequency, recency, T : array_like
        Repeat purchases x, time of last purchase t_x, observation length T.
    modified : bool
        MBG/NBD instead of BG/NBD.

    Returns
    -------
    ndarray
        Log-likelihood of each customer (FHL 2005, eq. 6).

    Examples
    --------
    >>> import numpy as np
    >>> np.round(loglik([0.243, 4.414, 0.793, 2.426], [0, 2], [0, 30.43], [38.86, 38.86]), 4)
    array([-0.5547, -9.4586])
    """
    r, alpha, a, b = _params(params)
    m = 1 if modified else 0
    x, tx, tt = (
        np.asarray(v, dtype=np.float64) for v in np.broadcast_arrays(frequency, recency, T)
    )
    xv, idx = distinct(x.ravel())
    per_x = (
        special.gammaln(r + xv)
        - special.gammaln(r)
        + r * np.log(alpha)
        + special.betaln(a, b + xv + m)
        - special.betaln(a, b)
    )
    lat = np.log(alpha + tt)
    ldr, _ = _log_drop_ratio(x, a, b, m)
    d = ldr + (r + x) * (lat - np.log(alpha + tx))
    out = per_x[idx].reshape(x.shape) - (r + x) * lat + np.logaddexp(0.0, d)
    return np.asarray(out, dtype=np.float64)


@dataclass(frozen=True)
class Prepared:
    """Per-fit grouping of the rows by ``x`` (see :func:`prepare`)."""

    x: FloatArray
    recency: FloatArray
    weights: FloatArray
    wx: FloatArray
    n: float
    x_values: FloatArray
    x_index: IntArray
    x_weights: FloatArray
    positive: slice | BoolArray


def prepare(frequency: ArrayLike, recency: ArrayLike, weights: ArrayLike | None = None) -> Prepared:
    """Group rows by ``x`` once, for repeated :func:`loglik_grad` calls during a fit.

    Examples
    --------
    >>> pre = prepare([0, 0, 3], [0, 0, 2.5])
    >>> pre.x_values.tolist(), pre.x_weights.tolist(), pre.positive
    ([0.0, 3.0], [2.0, 1.0], slice(2, None, None))
    """
    x = np.asarray(frequency, dtype=np.float64)
    tx = np.asarray(recency, dtype=np.float64)
    w = np.ones(x.shape) if weights is None else np.asarray(weights, dtype=np.float64)
    xv, idx = distinct(x)
    wx = np.bincount(idx, weights=w, minlength=xv.size).astype(np.float64)
    if x.size and bool(np.all(x[1:] >= x[:-1])):
        positive: slice | BoolArray = slice(int(np.searchsorted(x, 0.0, side="right")), None)
    else:
        positive = x > 0
    return Prepared(x, tx, w, w * x, float(w.sum()), xv, idx, wx, positive)


def loglik_grad(
    params: ArrayLike,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    weights: ArrayLike | None = None,
    *,
    modified: bool = False,
    prepared: Prepared | None = None,
) -> tuple[float, FloatArray]:
    r"""Weighted sum of the log-likelihood and its analytic gradient.

    Terms in ``x`` alone (``gammaln``, ``betaln``, digammas) are evaluated once per
    distinct ``x``; the grouping by ``x`` can be computed once per fit with
    :func:`prepare` and passed as ``prepared`` (then ``frequency``, ``recency`` and
    ``weights`` are taken from it). For BG/NBD, rows with ``x = 0`` only need the
    :math:`\ln(\alpha + T)` terms.

    Parameters
    ----------
    params : array_like
        ``(r, alpha, a, b)``.
    frequency, recency, T : array_like
        One-dimensional arrays of equal length.
    weights : array_like, optional
        Count of customers per row (default 1).
    modified : bool
        MBG/NBD instead of BG/NBD.
    prepared : Prepared, optional
        Output of :func:`prepare` for these data.

    Returns
    -------
    (float, ndarray)
        :math:`\sum_i w_i \ell_i` and its gradient with respect to ``(r, alpha, a, b)``.

    Notes
    -----
    With :math:`\omega = \delta\,\mathrm{expit}(D)` (posterior probability that the
    customer dropped out right after the last purchase):

    $$ \partial_r \ell = \psi(r+x) - \psi(r) + \ln\alpha - \ln(\alpha+T)
       + \omega[\ln(\alpha+T) - \ln(\alpha+t_x)], $$
    $$ \partial_\alpha \ell = r/\alpha - (r+x)/(\alpha+T)
       + \omega (r+x)[1/(\alpha+T) - 1/(\alpha+t_x)], $$
    $$ \partial_a \ell = \psi(a+b) - \psi(a+b+x+m) + \omega/a, \qquad
       \partial_b \ell = \psi(b+x+m) - \psi(b) + \psi(a+b) - \psi(a+b+x+m)
       - \omega/(b+x+m-1). $$

    Examples
    --------
    >>> ll, g = loglik_grad([0.243, 4.414, 0.793, 2.426], [0, 2], [0, 30.43], [38.86, 38.86])
    >>> round(ll, 4), g.shape
    (-10.0133, (4,))
    """
    r, alpha, a, b = _params(params)
    m = 1 if modified else 0
    tt = np.asarray(T, dtype=np.float64)
    pre = prepared if prepared is not None else prepare(frequency, recency, weights)
    xv, idx, wx, w, wxr = pre.x_values, pre.x_index, pre.x_weights, pre.weights, pre.wx
    n = pre.n
    # per distinct x
    bx = b + xv + m
    per_x = special.gammaln(r + xv) + special.betaln(a, bx)
    dig_rx = special.digamma(r + xv)
    dig_bx = special.digamma(bx)
    dig_abx = special.digamma(a + bx)
    ldr_x, delta_x = _log_drop_ratio(xv, a, b, m)
    inv_bx1_x = np.where(delta_x, np.exp(ldr_x) / a, 0.0)
    # every row: the (alpha + T) terms
    at = tt + alpha
    lat = np.log(at)
    inv_at = np.reciprocal(at, out=at)
    w_lat, wx_lat = _dot(w, lat), _dot(wxr, lat)
    w_inv, wx_inv = _dot(w, inv_at), _dot(wxr, inv_at)
    # rows with a drop-out term (BG/NBD: x > 0, a suffix once sorted; MBG/NBD: all)
    sel = pre.positive if m == 0 else slice(None)
    xs, txs, ws, lat_s, inv_at_s = pre.x[sel], pre.recency[sel], w[sel], lat[sel], inv_at[sel]
    rx = xs + r
    diff = np.log(txs + alpha)
    np.subtract(lat_s, diff, out=diff)
    d = np.multiply(rx, diff)
    d += ldr_x[idx[sel]]
    e = np.abs(d)
    np.negative(e, out=e)
    np.exp(e, out=e)  # exp(-|d|) in (0, 1]
    softplus = np.log1p(e)
    softplus += np.maximum(d, 0.0)
    om = np.where(d >= 0, 1.0, e)
    om /= 1.0 + e  # expit(d)
    wom = np.multiply(ws, om, out=om)
    inv_atx = np.add(txs, alpha, out=e)
    np.reciprocal(inv_atx, out=inv_atx)
    np.subtract(inv_at_s, inv_atx, out=inv_atx)
    inv_atx *= rx
    ll = float(
        _dot(wx, per_x)
        + n * (-special.gammaln(r) + r * np.log(alpha) - special.betaln(a, b))
        + _dot(ws, softplus)
        - r * w_lat
        - wx_lat
    )
    g_r = _dot(wx, dig_rx) + n * (np.log(alpha) - special.digamma(r)) - w_lat
    g_r += _dot(wom, diff)
    g_alpha = n * r / alpha - r * w_inv - wx_inv + _dot(wom, inv_atx)
    dig_ab = special.digamma(a + b)
    wom_x = np.bincount(idx[sel], weights=wom, minlength=xv.size)
    g_a = n * dig_ab - _dot(wx, dig_abx) + float(wom_x.sum()) / a
    g_b = _dot(wx, dig_bx - dig_abx) + n * (dig_ab - special.digamma(b)) - _dot(wom_x, inv_bx1_x)
    return ll, np.array([g_r, g_alpha, g_a, g_b])


def probability_alive(
    params: ArrayLike,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    *,
    modified: bool = False,
) -> FloatArray:
    r"""Probability that a customer with history (x, t_x, T) is alive at T.

    $$ P(\text{alive}) = 1 / (1 + \delta e^{D}) = \mathrm{expit}(-D) $$
    (FHL 2005, note "Computing P(alive) using the BG/NBD model", eq. 2), with :math:`D`
    and :math:`\delta` as in the module docstring; BG/NBD customers without repeat
    purchases are alive with probability 1.

    Examples
    --------
    >>> import numpy as np
    >>> np.round(probability_alive([0.243, 4.414, 0.793, 2.426], [0, 2], [0, 30.43],
    ...                            [38.86, 38.86]), 4)
    array([1.    , 0.7266])
    """
    r, alpha, a, b = _params(params)
    m = 1 if modified else 0
    x, tx, tt = (
        np.asarray(v, dtype=np.float64) for v in np.broadcast_arrays(frequency, recency, T)
    )
    ldr, delta = _log_drop_ratio(x, a, b, m)
    d = ldr + (r + x) * (np.log(alpha + tt) - np.log(alpha + tx))
    return np.asarray(np.where(delta, special.expit(-d), 1.0), dtype=np.float64)


def expected_purchases(params: ArrayLike, t: ArrayLike, *, modified: bool = False) -> FloatArray:
    r"""Unconditional expected number of purchases in ``(0, t]`` of a new customer.

    BG/NBD (FHL 2005, eq. 9):
    $$ E[X(t)] = \frac{a+b-1}{a-1}\left[1 - \left(\frac{\alpha}{\alpha+t}\right)^r
       {}_2F_1\!\left(r, b; a+b-1; \frac{t}{\alpha+t}\right)\right]. $$
    MBG/NBD multiplies by :math:`E[1-p] = b/(a+b)` and uses ``Beta(a, b + 1)`` for ``p``.

    Examples
    --------
    >>> import numpy as np
    >>> np.round(expected_purchases([0.243, 4.414, 0.793, 2.426], [39, 78]), 4)
    array([1.1967, 1.8605])
    """
    r, alpha, a, b = _params(params)
    tt = np.asarray(t, dtype=np.float64)
    if modified:
        return np.asarray(b / (a + b) * alive_expected_purchases(r, alpha, a, b + 1.0, tt))
    return alive_expected_purchases(r, alpha, a, b, tt)


def conditional_expected_purchases(
    params: ArrayLike,
    t: ArrayLike,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    *,
    modified: bool = False,
) -> FloatArray:
    r"""Expected purchases in ``(T, T + t]`` given the history (x, t_x, T).

    $$ E[Y(t) \mid x, t_x, T] = P(\text{alive}) \cdot G(r + x, \alpha + T, a, b + x + m; t) $$
    (FHL 2005, eq. 10; Batislam et al. 2007), with :math:`G` from
    :func:`alive_expected_purchases`. Evaluated once per distinct ``(x, T, t)``.

    Examples
    --------
    >>> import numpy as np
    >>> np.round(conditional_expected_purchases([0.243, 4.414, 0.793, 2.426], 39, 2,
    ...                                         30.43, 38.86), 4)
    np.float64(1.226)
    """
    r, alpha, a, b = _params(params)
    m = 1 if modified else 0
    tt_, x, tx, tT = (
        np.asarray(v, dtype=np.float64) for v in np.broadcast_arrays(t, frequency, recency, T)
    )
    shape = x.shape
    (xu, Tu, tu), _, inv = compress_rows([x.ravel(), tT.ravel(), tt_.ravel()])
    g = alive_expected_purchases(r + xu, alpha + Tu, a, b + xu + m, tu)
    pa = probability_alive(params, x, tx, tT, modified=modified)
    return np.asarray(pa * g[inv].reshape(shape), dtype=np.float64)


def probability_of_purchases(
    params: ArrayLike, n: ArrayLike, t: ArrayLike, *, modified: bool = False
) -> FloatArray:
    r"""Probability that a new customer makes exactly ``n`` purchases in ``(0, t]``.

    BG/NBD (FHL 2005, eq. 8), with :math:`z = t/(\alpha+t)`:

    $$ P(X(t)=n) = \frac{B(a, b+n+m)}{B(a,b)} \,\mathrm{NB}(n; r, z)
       + \delta_n \frac{B(a+1, b+n+m-1)}{B(a,b)} \, P(\mathrm{NB}(r, z) \ge n), $$

    where :math:`\mathrm{NB}(n; r, z) = \frac{\Gamma(r+n)}{\Gamma(r) n!} (1-z)^r z^n`,
    :math:`P(\mathrm{NB} \ge n) = I_z(n, r)` (regularised incomplete beta) and
    :math:`\delta_n = 1[n > 0]` for BG/NBD, 1 for MBG/NBD (``m = 1``). Both terms are
    combined in log space.

    Examples
    --------
    >>> import numpy as np
    >>> np.round(probability_of_purchases([0.243, 4.414, 0.793, 2.426], [0, 1, 2], 39), 4)
    array([0.5738, 0.1994, 0.0854])
    """
    r, alpha, a, b = _params(params)
    m = 1 if modified else 0
    nn, tt = (np.asarray(v, dtype=np.float64) for v in np.broadcast_arrays(n, t))
    log_z = np.log(tt) - np.log(alpha + tt)
    log_1mz = np.log(alpha) - np.log(alpha + tt)
    lb = special.betaln(a, b)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_pmf = (
            special.gammaln(r + nn)
            - special.gammaln(r)
            - special.gammaln(nn + 1.0)
            + r * log_1mz
            + np.where(nn > 0, nn * log_z, 0.0)
        )
        first = special.betaln(a, b + nn + m) - lb + log_pmf
        delta = (nn > 0) if m == 0 else np.ones(nn.shape, dtype=bool)
        z = np.exp(log_z)
        sf = np.where(nn > 0, special.betainc(np.maximum(nn, 1.0), r, z), 1.0)
        second = np.where(
            delta,
            special.betaln(a + 1.0, np.where(delta, b + nn + m - 1.0, 1.0)) - lb + np.log(sf),
            -np.inf,
        )
    return np.asarray(np.exp(np.logaddexp(first, second)), dtype=np.float64)


def conditional_probability_of_purchases(
    params: ArrayLike,
    n: ArrayLike,
    t: ArrayLike,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    *,
    modified: bool = False,
) -> FloatArray:
    r"""Probability of exactly ``n`` purchases in ``(T, T + t]`` given the history.

    A customer alive at ``T`` has the posterior :math:`\lambda \sim \mathrm{Gamma}(r + x,
    \alpha + T)` and :math:`p \sim \mathrm{Beta}(a, b + x + m)` (``m = 1`` for MBG/NBD,
    whose drop-out at time 0 is already survived), independent; from ``T`` on, purchases
    follow a new BG/NBD customer with these parameters. A customer gone at ``T`` buys
    nothing. Hence

    $$ P(X(T, T+t] = n \mid x, t_x, T) = (1 - P(\text{alive}))\, 1[n = 0]
       + P(\text{alive})\, P_{\text{BG/NBD}}(X(t) = n \mid r + x, \alpha + T, a, b + x + m), $$

    with the unconditional pmf of :func:`probability_of_purchases` (``m = 0`` there),
    :math:`z = t/(\alpha + T + t)`:

    $$ P_{\text{BG/NBD}}(n) = \frac{B(a, B+n)}{B(a, B)} \mathrm{NB}(n; R, z)
       + 1[n > 0] \frac{a}{a+B+n-1} \frac{B(a, B+n-1)}{B(a, B)} I_z(n, R). $$

    Everything is evaluated in log space, the beta ratios and :math:`\Gamma(R+n)/
    \Gamma(R)` as Pochhammer symbols (Stirling's form for large arguments), once per
    distinct ``(n, t, x, T)``; ``n = 0`` uses :math:`1 - P(\text{alive})(1 - (1-z)^R)`.
    Its mean over ``n`` is :func:`conditional_expected_purchases`.

    Parameters
    ----------
    params : array_like
        ``(r, alpha, a, b)``.
    n : array_like
        Number of purchases (whole numbers ``>= 0``).
    t : array_like
        Horizon after ``T`` (``>= 0``).
    frequency, recency, T : array_like
        Customer history (all broadcast together with ``n`` and ``t``).
    modified : bool
        MBG/NBD instead of BG/NBD.

    Returns
    -------
    ndarray
        Probabilities in [0, 1].

    Examples
    --------
    >>> import numpy as np
    >>> p = conditional_probability_of_purchases([0.243, 4.414, 0.793, 2.426], [0, 1, 2],
    ...                                          39, 2, 30.43, 38.86)
    >>> np.round(p, 4)
    array([0.4454, 0.2393, 0.1442])
    """
    # the Pochhammer symbols of the MBG/NBD kernels (which build on this module)
    from crmmodels.kernels.mbgnbd import _log_poch

    r, alpha, a, b = _params(params)
    m = 1.0 if modified else 0.0
    nn, hh, x, tx, tt = (
        np.asarray(v, dtype=np.float64) for v in np.broadcast_arrays(n, t, frequency, recency, T)
    )
    shape = x.shape
    (nu, hu, xu, Tu), _, inv = compress_rows([nn.ravel(), hh.ravel(), x.ravel(), tt.ravel()])
    big_r, big_a, big_b = r + xu, alpha + Tu, b + xu + m
    pos = nu > 0
    k1 = np.maximum(nu - 1.0, 0.0)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        log_1mz = -np.log1p(hu / big_a)  # log((alpha + T) / (alpha + T + t))
        log_z = -np.log1p(big_a / hu)  # log(t / (alpha + T + t)); -inf at t = 0
        log_nb = (
            _log_poch(big_r, nu)
            - special.gammaln(nu + 1.0)
            + big_r * log_1mz
            + np.where(pos, nu * np.where(pos, log_z, 0.0), 0.0)
        )
        first = _log_poch(big_b, nu) - _log_poch(a + big_b, nu) + log_nb
        tail = special.betainc(np.maximum(nu, 1.0), big_r, np.exp(log_z))
        second = np.where(
            pos,
            np.log(a)
            - np.log(a + big_b + k1)
            + _log_poch(big_b, k1)
            - _log_poch(a + big_b, k1)
            + np.log(tail),
            -np.inf,
        )
        alive_pmf = np.exp(np.logaddexp(first, second))
    stays_quiet = -np.expm1(big_r * log_1mz)  # 1 - (1 - z)^R: buys while alive
    pa = probability_alive(params, x, tx, tt, modified=modified).ravel()
    out = np.where(nu[inv] > 0, pa * alive_pmf[inv], 1.0 - pa * stays_quiet[inv])
    return np.asarray(np.clip(out, 0.0, 1.0).reshape(shape), dtype=np.float64)
