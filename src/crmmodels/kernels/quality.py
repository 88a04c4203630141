r"""Reliability and validity of multi-item scales: pure numpy/scipy kernels.

Everything works on an ``(n respondents, k items)`` float array in which ``NaN`` marks a
missing answer, or on the covariance matrix computed from it.

* Covariances: *pairwise* (each pair of items on the respondents who answered both, as
  ``pandas.DataFrame.cov``) or *listwise* (only respondents who answered every item).
* Cronbach's alpha (Cronbach 1951),

  $$ \alpha = \frac{k}{k-1}\Bigl(1 - \frac{\operatorname{tr} C}{\mathbf 1^\top C \mathbf 1}\Bigr) $$

  with Feldt's F-based confidence interval (Feldt, Woodruff & Salih 1987):
  :math:`1 - (1-\alpha) F_{1-q/2}` to :math:`1 - (1-\alpha) F_{q/2}`, where :math:`F` has
  :math:`n-1` and :math:`(n-1)(k-1)` degrees of freedom.
* Corrected item-total correlation of item :math:`j`: the correlation of :math:`x_j`
  with the sum of the other items, from :math:`C` alone.
* Alpha if item deleted: alpha of :math:`C` without row and column :math:`j`.
* A one-factor model fitted to the correlation matrix :math:`R` by minimum residual
  (unweighted least squares): the loadings minimise
  :math:`\sum_{i<j} (r_{ij} - \lambda_i\lambda_j)^2` (L-BFGS-B, analytic gradient,
  started at the first principal factor, loadings bounded to [-1, 1]).
* McDonald's omega of the unit-weighted sum score,
  :math:`\omega = (\sum_j \lambda_j s_j)^2 / \mathbf 1^\top C \mathbf 1` with
  :math:`s_j` the item standard deviations (McDonald 1999, ch. 6).
* Composite reliability (Jöreskog's rho; Fornell & Larcker 1981) and average variance
  extracted from the standardised loadings:
  :math:`CR = (\sum\lambda)^2 / ((\sum\lambda)^2 + \sum(1-\lambda^2))`,
  :math:`AVE = \overline{\lambda^2}`.
* HTMT (Henseler, Ringle & Sarstedt 2015): the mean correlation between the items of two
  constructs over the geometric mean of the mean within-construct item correlations.

No pandas or narwhals here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy import optimize, stats

__all__ = [
    "NanPolicy",
    "OneFactorFit",
    "alpha_ci",
    "alpha_from_cov",
    "alpha_if_deleted",
    "composite_reliability",
    "corrected_item_total",
    "cov_to_corr",
    "covariance",
    "htmt",
    "omega_total",
    "one_factor",
]

NanPolicy = Literal["pairwise", "listwise"]
FloatArray = npt.NDArray[np.float64]


def covariance(
    x: FloatArray, nan_policy: NanPolicy = "pairwise"
) -> tuple[FloatArray, npt.NDArray[np.int64]]:
    """Covariance matrix (``ddof=1``) of the columns of ``x`` with missing answers.

    Parameters
    ----------
    x : ndarray of shape (n, k)
        Answers; ``NaN`` is a missing answer.
    nan_policy : {"pairwise", "listwise"}
        Pairwise: each entry uses the rows where both items are present (the rule of
        ``pandas.DataFrame.cov``). Listwise: only rows with no missing answer.

    Returns
    -------
    cov : ndarray of shape (k, k)
        ``NaN`` where fewer than two rows are available for a pair.
    counts : ndarray of shape (k, k)
        Number of rows behind each entry.

    Examples
    --------
    >>> import numpy as np
    >>> c, n = covariance(np.array([[1.0, 2.0], [2.0, np.nan], [3.0, 5.0]]))
    >>> c.round(3).tolist(), n.tolist()
    ([[1.0, 3.0], [3.0, 4.5]], [[3, 2], [2, 2]])
    """
    x = np.asarray(x, dtype=np.float64)
    present = ~np.isnan(x)
    if nan_policy == "listwise":
        keep = present.all(axis=1)
        x = x[keep]
        present = present[keep]
    # shift each column by its mean: covariances are shift invariant, sums get small
    n_present = present.sum(axis=0)
    centre = np.zeros(x.shape[1])
    np.divide(np.where(present, x, 0.0).sum(axis=0), n_present, out=centre, where=n_present > 0)
    z = np.where(present, x - centre, 0.0)
    m = present.astype(np.float64)
    counts = m.T @ m
    sums = z.T @ m  # sums[j, l]: sum of item j over rows where item l is present
    prods = z.T @ z
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = (prods - sums * sums.T / counts) / (counts - 1.0)
    cov = np.where(counts >= 2, cov, np.nan)
    return cov, counts.round().astype(np.int64)


def cov_to_corr(cov: FloatArray) -> FloatArray:
    """Correlation matrix from a covariance matrix.

    Examples
    --------
    >>> import numpy as np
    >>> cov_to_corr(np.array([[4.0, 2.0], [2.0, 9.0]])).round(4).tolist()
    [[1.0, 0.3333], [0.3333, 1.0]]
    """
    sd = np.sqrt(np.diag(cov))
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = cov / np.outer(sd, sd)
    np.fill_diagonal(corr, 1.0)
    return np.asarray(corr, dtype=np.float64)


def alpha_from_cov(cov: FloatArray) -> float:
    """Cronbach's alpha of a covariance matrix.

    ``NaN`` for fewer than two items or a zero total variance (every item constant, or
    items that cancel out so that every respondent has the same total). A total variance
    below ``1e-12`` of the summed item variances counts as zero: it is rounding error of
    the covariances, and dividing by it would give an arbitrary huge alpha.

    Examples
    --------
    >>> import numpy as np
    >>> round(alpha_from_cov(np.array([[1.0, 0.5], [0.5, 1.0]])), 4)
    0.6667
    """
    k = cov.shape[0]
    if k < 2:
        return float("nan")
    total = float(cov.sum())
    trace = float(np.trace(cov))
    if not np.isfinite(total) or total <= 1e-12 * abs(trace):
        return float("nan")
    return float(k / (k - 1.0) * (1.0 - trace / total))


def alpha_ci(alpha: float, n: int, k: int, level: float = 0.95) -> tuple[float, float]:
    """Feldt's confidence interval of Cronbach's alpha.

    Parameters
    ----------
    alpha : float
        Sample alpha.
    n, k : int
        Respondents and items.
    level : float
        Confidence level.

    Returns
    -------
    (low, high) : tuple of float

    Examples
    --------
    >>> [round(v, 4) for v in alpha_ci(0.8, 100, 5)]
    [0.7306, 0.8559]
    """
    if n < 2 or k < 2 or not np.isfinite(alpha):
        return float("nan"), float("nan")
    q = 1.0 - level
    df1 = n - 1.0
    df2 = df1 * (k - 1.0)
    low = 1.0 - (1.0 - alpha) * float(stats.f.isf(q / 2.0, df1, df2))
    high = 1.0 - (1.0 - alpha) * float(stats.f.isf(1.0 - q / 2.0, df1, df2))
    return low, high


def corrected_item_total(cov: FloatArray) -> FloatArray:
    """Correlation of each item with the sum of the other items.

    Examples
    --------
    >>> import numpy as np
    >>> c = np.array([[1.0, 0.5, 0.5], [0.5, 1.0, 0.5], [0.5, 0.5, 1.0]])
    >>> corrected_item_total(c).round(4).tolist()
    [0.5774, 0.5774, 0.5774]
    """
    diag = np.diag(cov)
    row = cov.sum(axis=1)
    total = cov.sum()
    rest_var = total - 2.0 * row + diag
    with np.errstate(invalid="ignore", divide="ignore"):
        out = (row - diag) / np.sqrt(diag * rest_var)
    return np.asarray(out, dtype=np.float64)


def alpha_if_deleted(cov: FloatArray) -> FloatArray:
    """Cronbach's alpha of the scale without each item.

    ``NaN`` with fewer than 3 items, and for an item whose removal leaves a zero total
    variance (the remaining items cancel out).

    Examples
    --------
    >>> import numpy as np
    >>> c = np.array([[1.0, 0.5, 0.0], [0.5, 1.0, 0.0], [0.0, 0.0, 1.0]])
    >>> alpha_if_deleted(c).round(4).tolist()
    [0.0, 0.0, 0.6667]
    """
    k = cov.shape[0]
    if k < 3:
        return np.full(k, np.nan)
    diag = np.diag(cov)
    row = cov.sum(axis=1)
    total = cov.sum()
    rest_total = total - 2.0 * row + diag
    rest_trace = np.trace(cov) - diag
    km = k - 1.0
    ratio = np.full(k, np.nan)
    np.divide(rest_trace, rest_total, out=ratio, where=rest_total > 1e-12 * np.abs(rest_trace))
    return np.asarray(km / (km - 1.0) * (1.0 - ratio), dtype=np.float64)


@dataclass(frozen=True)
class OneFactorFit:
    """Standardised loadings of a one-factor model and the fit's residual.

    Attributes
    ----------
    loadings : ndarray of shape (k,)
        Standardised loadings (oriented so that their sum is positive).
    rmsr : float
        Root mean square of the off-diagonal residual correlations.
    converged : bool
        Whether the optimiser reported success.
    heywood : bool
        Whether a loading reached the bound of 1 in absolute value.

    Examples
    --------
    >>> import numpy as np
    >>> corr = np.array([[1.0, 0.48, 0.4], [0.48, 1.0, 0.3], [0.4, 0.3, 1.0]])
    >>> fit = one_factor(corr)
    >>> fit.loadings.round(2).tolist(), fit.converged, fit.heywood
    ([0.8, 0.6, 0.5], True, False)
    """

    loadings: FloatArray
    rmsr: float
    converged: bool
    heywood: bool


def one_factor(corr: FloatArray) -> OneFactorFit:
    """Fit one factor to a correlation matrix by minimum residual (unweighted least squares).

    Parameters
    ----------
    corr : ndarray of shape (k, k)
        Correlation matrix, ``k >= 2``. With two items the model is not identified and
        both loadings are set to ``sqrt(|r|)`` (signed as ``r``).

    Returns
    -------
    OneFactorFit

    Examples
    --------
    >>> import numpy as np
    >>> r = np.array([[1.0, 0.48, 0.4], [0.48, 1.0, 0.3], [0.4, 0.3, 1.0]])
    >>> one_factor(r).loadings.round(4).tolist()  # exact: l1 = sqrt(.48 * .4 / .3), ...
    [0.8, 0.6, 0.5]
    """
    r = np.asarray(corr, dtype=np.float64)
    k = r.shape[0]
    if k < 2 or not np.isfinite(r).all():
        return OneFactorFit(np.full(k, np.nan), float("nan"), False, False)
    if k == 2:
        v = float(np.sqrt(abs(r[0, 1])))
        lam2 = np.array([v, v * np.sign(r[0, 1]) if r[0, 1] != 0 else v])
        return OneFactorFit(lam2, 0.0, True, bool(v >= 1.0))
    off = ~np.eye(k, dtype=bool)
    # start: first principal factor of R with communalities = squared multiple correlations
    r_start = r.copy()
    try:
        smc = 1.0 - 1.0 / np.diag(np.linalg.inv(r))
    except np.linalg.LinAlgError:
        smc = np.abs(np.where(off, r, 0.0)).max(axis=1)
    np.fill_diagonal(r_start, np.clip(smc, 0.0, 1.0))
    vals, vecs = np.linalg.eigh(r_start)
    start = vecs[:, -1] * np.sqrt(max(vals[-1], 1e-6))
    start = np.clip(start, -0.99, 0.99)

    def objective(lam: FloatArray) -> tuple[float, FloatArray]:
        resid = np.where(off, r - np.outer(lam, lam), 0.0)
        # f = 1/2 sum_{i != j} resid_ij^2 ; df/dlam_i = -2 sum_j resid_ij lam_j
        return 0.5 * float((resid**2).sum()), -2.0 * (resid @ lam)

    res = optimize.minimize(
        objective,
        start,
        jac=True,
        method="L-BFGS-B",
        bounds=[(-1.0, 1.0)] * k,
        options={"ftol": 1e-15, "gtol": 1e-12, "maxiter": 2000},
    )
    lam = np.asarray(res.x, dtype=np.float64)
    if lam.sum() < 0:
        lam = -lam
    resid = (r - np.outer(lam, lam))[off]
    rmsr = float(np.sqrt(np.mean(resid**2)))
    return OneFactorFit(lam, rmsr, bool(res.success), bool(np.any(np.abs(lam) >= 1.0 - 1e-9)))


def omega_total(loadings: FloatArray, cov: FloatArray) -> float:
    """McDonald's omega of the unit-weighted sum score.

    ``(sum_j loading_j * sd_j) ** 2 / (1' C 1)``: the share of the observed variance of
    the sum score due to the common factor.

    Examples
    --------
    >>> import numpy as np
    >>> lam = np.array([0.8, 0.6, 0.5])
    >>> c = np.outer(lam, lam); np.fill_diagonal(c, 1.0)
    >>> round(omega_total(lam, c), 4)
    0.6735
    """
    sd = np.sqrt(np.diag(cov))
    return float((loadings * sd).sum() ** 2 / cov.sum())


def composite_reliability(loadings: FloatArray) -> tuple[float, float]:
    """Composite reliability (Jöreskog's rho) and average variance extracted.

    Examples
    --------
    >>> import numpy as np
    >>> [round(v, 4) for v in composite_reliability(np.array([0.8, 0.6, 0.5]))]
    [0.6735, 0.4167]
    """
    lam = np.asarray(loadings, dtype=np.float64)
    s = lam.sum() ** 2
    cr = float(s / (s + (1.0 - lam**2).sum()))
    ave = float(np.mean(lam**2))
    return cr, ave


def htmt(corr: FloatArray, groups: npt.NDArray[np.intp], n_groups: int) -> FloatArray:
    """Heterotrait-monotrait ratio of correlations between every pair of constructs.

    Parameters
    ----------
    corr : ndarray of shape (k, k)
        Item correlation matrix (reverse-coded items already reversed).
    groups : ndarray of shape (k,)
        Construct code (0 .. n_groups - 1) of each item; every construct needs two items.
    n_groups : int
        Number of constructs.

    Returns
    -------
    ndarray of shape (n_groups, n_groups)
        HTMT with ``NaN`` on the diagonal.

    Examples
    --------
    >>> import numpy as np
    >>> r = np.full((4, 4), 0.3); r[:2, :2] = 0.6; r[2:, 2:] = 0.5; np.fill_diagonal(r, 1)
    >>> htmt(r, np.array([0, 0, 1, 1]), 2).round(4).tolist()
    [[nan, 0.5477], [0.5477, nan]]
    """
    g = np.zeros((corr.shape[0], n_groups))
    g[np.arange(corr.shape[0]), groups] = 1.0
    sizes = g.sum(axis=0)
    block = g.T @ corr @ g
    between = block / np.outer(sizes, sizes)
    within = (np.diag(block) - sizes) / (sizes * (sizes - 1.0))
    with np.errstate(invalid="ignore", divide="ignore"):
        out = between / np.sqrt(np.outer(within, within))
    np.fill_diagonal(out, np.nan)
    return np.asarray(out, dtype=np.float64)
