r"""BG/NBD expected purchases of an alive customer: the integral behind every expectation.

:math:`E_{p \sim Beta(a, B),\, \lambda \sim Gamma(R, A)}[(1 - e^{-\lambda p t}) / p]`, by
a closed form where it is accurate and by Gauss-Legendre quadrature elsewhere (the
quadrature avoids ``hyp2f1``, which loses accuracy for large parameters; Fader, Hardie &
Lee 2005). Split from :mod:`crmmodels.kernels.bgnbd`, which re-exports
:func:`alive_expected_purchases`.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy import special

from crmmodels.kernels._optim import FloatArray

# ---------------------------------------------------------------------------
# E_{p ~ Beta(a, B), lambda ~ Gamma(R, A)} [(1 - exp(-lambda p t)) / p]
# ---------------------------------------------------------------------------

_GL_X, _GL_W = np.polynomial.legendre.leggauss(16)
_N_PANELS = 16
_N_GRID = 129
_MARGIN = 50.0


def _closed_form(
    R: FloatArray, A: FloatArray, a: float | FloatArray, B: FloatArray, t: FloatArray
) -> FloatArray:
    c = a + B - 1.0
    z = t / (A + t)
    s = np.exp(R * (np.log(A) - np.log(A + t))) * special.hyp2f1(R, B, c, z)
    return np.asarray(c / (a - 1.0) * (1.0 - s), dtype=np.float64)


def _phi(u: FloatArray, R: FloatArray, K: FloatArray, a: FloatArray, B: FloatArray) -> FloatArray:
    """Log integrand on the logit scale, up to the constant ``-ln B(a, B)``."""
    log_p = -np.logaddexp(0.0, -u)
    log_q = -np.logaddexp(0.0, u)
    p = np.exp(log_p)
    with np.errstate(divide="ignore"):  # K * p underflows far left: the integrand is 0 there
        h = np.log(-np.expm1(-R * np.log1p(K * p)))
    return np.asarray(a * log_p + B * log_q + h - log_p, dtype=np.float64)


def _quadrature(
    R: FloatArray, A: FloatArray, a: float | FloatArray, B: FloatArray, t: FloatArray
) -> FloatArray:
    r"""Gauss-Legendre quadrature of the Beta mixture on the logit scale (see caller)."""
    a = np.broadcast_to(np.asarray(a, dtype=np.float64), R.shape)
    K = (t / A)[:, None]
    R2, a2, B2 = R[:, None], a[:, None], B[:, None]
    scale = 1.0 + a + B + R * (t / A) * (R + 1.0)
    u_lo = np.log(1e-12 / scale)  # left of here phi is linear with slope a
    u_hi = -np.log(1e-12 / scale)  # right of here phi is linear with slope -B
    lo, hi = u_lo.copy(), u_hi.copy()
    grid = np.linspace(0.0, 1.0, _N_GRID)[None, :]
    rows = np.arange(R.size)
    for _ in range(2):  # locate the bump of the concave log integrand, then zoom in
        u = lo[:, None] + (hi - lo)[:, None] * grid
        ph = _phi(u, R2, K, a2, B2)
        imax = np.argmax(ph, axis=1)
        keep = ph >= (ph[rows, imax] - _MARGIN)[:, None]
        first = np.argmax(keep, axis=1)
        last = _N_GRID - 1 - np.argmax(keep[:, ::-1], axis=1)
        first = np.maximum(first - 1, 0)
        last = np.minimum(last + 1, _N_GRID - 1)
        lo, hi = u[rows, first], u[rows, last]
    edges = np.linspace(0.0, 1.0, _N_PANELS + 1)
    mid = 0.5 * (edges[1:] + edges[:-1])
    half = 0.5 * (edges[1] - edges[0])
    nodes = (mid[:, None] + half * _GL_X[None, :]).ravel()
    weights = np.tile(_GL_W, _N_PANELS) * half
    width = hi - lo
    u = lo[:, None] + width[:, None] * nodes[None, :]
    ph = _phi(u, R2, K, a2, B2)
    terms = [ph + np.log(weights)[None, :] + np.log(width)[:, None]]
    cols = [terms[0]]
    # analytic tails where the zoomed interval reaches the linear regions
    ph_lo = _phi(lo[:, None], R2, K, a2, B2)[:, 0]
    ph_hi = _phi(hi[:, None], R2, K, a2, B2)[:, 0]
    left = np.where(lo <= u_lo, ph_lo - np.log(a), -np.inf)
    right = np.where(hi >= u_hi, ph_hi - np.log(B), -np.inf)
    cols.append(left[:, None])
    cols.append(right[:, None])
    total = special.logsumexp(np.concatenate(cols, axis=1), axis=1)
    return np.asarray(np.exp(total - special.betaln(a, B)), dtype=np.float64)


def alive_expected_purchases(
    R: ArrayLike, A: ArrayLike, a: ArrayLike, B: ArrayLike, t: ArrayLike
) -> FloatArray:
    r"""Expected purchases in the next ``t`` of a customer alive now.

    With :math:`\lambda \sim \mathrm{Gamma}(R, A)` and :math:`p \sim \mathrm{Beta}(a, B)`
    (the posterior given alive, or the prior at time 0),

    $$ G = E\left[\frac{1 - e^{-\lambda p t}}{p}\right]
         = \frac{a + B - 1}{a - 1}\left[1 - \left(\frac{A}{A+t}\right)^R
           {}_2F_1\!\left(R, B; a + B - 1; \frac{t}{A+t}\right)\right] $$

    (FHL 2005, eqs. 9-10). All five arguments broadcast together: ``a`` may vary by row
    like the others (the BG/NBD with covariates on both dropout shapes).

    Notes
    -----
    The closed form cancels catastrophically near ``a = 1``, needs ``a + B > 1`` and
    relies on ``scipy.special.hyp2f1``, which loses accuracy for large parameters. It is
    used only where it is safe (``R, B <= 100``, ``a <= 100``, ``|a - 1| >= 0.05``,
    ``a + B >= 2``, ``t / (A + t) <= 0.8``). Elsewhere

    $$ G = \frac{1}{B(a, B)} \int_{-\infty}^{\infty} p^{a} (1-p)^{B}
           \frac{1 - (1 + p t / A)^{-R}}{p}\, du, \qquad p = \mathrm{expit}(u), $$

    is integrated numerically in log space: the log integrand is unimodal, with linear
    tails of slopes ``a`` and ``-B``; a 129-point grid is zoomed twice onto the region
    within ``e^{-50}`` of the peak, which is integrated by 16 x 16-point Gauss-Legendre
    panels, and the linear tails are added in closed form. Agreement with ``mpmath`` to
    ~1e-10 relative is tested for parameters from 1e-4 to 1e4.

    Examples
    --------
    >>> import numpy as np
    >>> float(np.round(alive_expected_purchases(0.243, 4.414, 0.793, 2.426, 39.0), 4))
    1.1967
    """
    R_, A_, a_, B_, t_ = (
        np.asarray(v, dtype=np.float64).ravel() for v in np.broadcast_arrays(R, A, a, B, t)
    )
    shape = np.broadcast_shapes(np.shape(R), np.shape(A), np.shape(a), np.shape(B), np.shape(t))
    out = np.zeros(R_.shape)
    pos = t_ > 0
    z = np.where(pos, t_ / (A_ + t_), 0.0)
    safe = (
        pos
        & (R_ <= 100)
        & (B_ <= 100)
        & (a_ <= 100)
        & (abs(a_ - 1.0) >= 0.05)
        & (a_ + B_ >= 2.0)
        & (z <= 0.8)
    )
    if np.any(safe):
        out[safe] = _closed_form(R_[safe], A_[safe], a_[safe], B_[safe], t_[safe])
    bad = pos & (~safe | ~np.isfinite(out) | (out < 0))
    if np.any(bad):
        out[bad] = _quadrature(R_[bad], A_[bad], a_[bad], B_[bad], t_[bad])
    return out.reshape(shape)
