"""Validation metrics of a lead score: AUC with DeLong's interval, gains, calibration.

Pure numpy/scipy on arrays of outcomes (0/1) and predicted probabilities; the frames
are built by :mod:`crmmodels.funnel._leads`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats

from crmmodels.kernels.intervals import wilson_interval

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class AUC:
    """The area under the ROC curve, its DeLong standard error and interval."""

    auc: float
    se: float
    low: float
    high: float


def delong_auc(y: npt.ArrayLike, score: npt.ArrayLike, level: float = 0.9) -> AUC:
    r"""AUC (ties count one half) with DeLong's standard error and a normal interval.

    With :math:`m` won and :math:`n` lost leads, the placement of a won lead is the share
    of lost leads it outscores (:math:`V_{10}`), that of a lost lead the share of won
    leads that outscore it (:math:`V_{01}`); both come from mid-ranks (DeLong, DeLong &
    Clarke-Pearson 1988; Sun & Xu 2014), and

    $$\widehat{\mathrm{Var}}(\widehat{AUC}) = \frac{s^2(V_{10})}{m} + \frac{s^2(V_{01})}{n}.$$

    The interval is :math:`\widehat{AUC} \pm z\,\widehat{se}`, clipped to [0, 1].

    Examples
    --------
    >>> r = delong_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    >>> r.auc
    0.75
    """
    yv = np.asarray(y, dtype=bool)
    s = np.asarray(score, dtype=np.float64)
    pos, neg = s[yv], s[~yv]
    m, n = pos.size, neg.size
    if m == 0 or n == 0:
        return AUC(float("nan"), float("nan"), float("nan"), float("nan"))
    r_all = stats.rankdata(np.concatenate([pos, neg]))
    r_pos = stats.rankdata(pos)
    r_neg = stats.rankdata(neg)
    v10 = (r_all[:m] - r_pos) / n
    v01 = 1.0 - (r_all[m:] - r_neg) / m
    auc = float(v10.mean())
    var = 0.0
    if m > 1:
        var += float(v10.var(ddof=1)) / m
    if n > 1:
        var += float(v01.var(ddof=1)) / n
    se = float(np.sqrt(var))
    z = float(stats.norm.ppf(0.5 + level / 2.0))
    return AUC(auc, se, max(0.0, auc - z * se), min(1.0, auc + z * se))


def rank_and_decile(p: FloatArray, n_bins: int = 10) -> tuple[npt.NDArray[np.int64], ...]:
    """Rank (1 = highest; ties share the best rank) and bin (1 = top ``1/n_bins``).

    Tied scores share a rank and so a bin, whatever their order in the input.

    Examples
    --------
    >>> r, d = rank_and_decile(np.array([0.9, 0.1, 0.5, 0.5]), n_bins=2)
    >>> r.tolist(), d.tolist()
    ([1, 4, 2, 2], [1, 2, 1, 1])
    """
    rank = stats.rankdata(-p, method="min").astype(np.int64)
    n = max(p.size, 1)
    decile = ((rank - 1) * n_bins // n + 1).astype(np.int64)
    return rank, decile


def gains_table(y: npt.NDArray[np.bool_], p: FloatArray, n_bins: int = 10) -> pd.DataFrame:
    """Lift and cumulative gains by bin of the predicted probability (bin 1 = top).

    Columns: ``decile``, ``n``, ``won``, ``won_rate``, ``predicted_mean``, ``lift``
    (won rate over the overall won rate), ``cumulative_share`` (of the leads),
    ``cumulative_gain`` (share of all wins captured down to this bin) and
    ``cumulative_lift``.

    Examples
    --------
    >>> y = np.array([1, 1, 0, 0], dtype=bool)
    >>> g = gains_table(y, np.array([0.9, 0.8, 0.2, 0.1]), n_bins=2)
    >>> g["cumulative_gain"].tolist(), g["lift"].tolist()
    ([1.0, 1.0], [2.0, 0.0])
    """
    _, decile = rank_and_decile(p, n_bins)
    bins = np.arange(1, n_bins + 1)
    n = np.bincount(decile, minlength=n_bins + 1)[1:].astype(np.float64)
    won = np.bincount(decile, weights=y.astype(np.float64), minlength=n_bins + 1)[1:]
    psum = np.bincount(decile, weights=p, minlength=n_bins + 1)[1:]
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = won / n
        overall = won.sum() / n.sum() if n.sum() else np.nan
        cum_n = np.cumsum(n)
        cum_won = np.cumsum(won)
        table = pd.DataFrame(
            {
                "decile": bins,
                "n": n.astype(np.int64),
                "won": won.astype(np.int64),
                "won_rate": rate,
                "predicted_mean": psum / n,
                "lift": rate / overall,
                "cumulative_share": cum_n / n.sum(),
                "cumulative_gain": cum_won / won.sum() if won.sum() else np.nan,
                "cumulative_lift": (cum_won / cum_n) / overall,
            }
        )
    return table[table["n"] > 0].reset_index(drop=True)


def calibration_table(
    y: npt.NDArray[np.bool_], p: FloatArray, n_bins: int = 10, level: float = 0.9
) -> tuple[pd.DataFrame, float, float]:
    r"""Predicted against observed by bin of predicted probability, and Hosmer-Lemeshow.

    The bins are those of :func:`gains_table` (equal counts, ordered by the prediction,
    here from the lowest); ``observed_low``/``observed_high`` is the Wilson interval of
    the observed rate at ``level``. The Hosmer-Lemeshow statistic
    :math:`\sum_g (O_g - E_g)^2 / (E_g (1 - E_g / n_g))` is referred to a chi-square with
    ``bins - 2`` degrees of freedom.

    Examples
    --------
    >>> y = np.array([0, 0, 1, 1], dtype=bool)
    >>> t, hl, p = calibration_table(y, np.array([0.1, 0.2, 0.8, 0.9]), n_bins=2)
    >>> t["observed_rate"].tolist(), t["predicted_mean"].round(2).tolist()
    ([0.0, 1.0], [0.15, 0.85])
    """
    g = gains_table(y, p, n_bins).iloc[::-1].reset_index(drop=True)
    n = g["n"].to_numpy(dtype=np.float64)
    obs = g["won"].to_numpy(dtype=np.float64)
    pred = g["predicted_mean"].to_numpy(dtype=np.float64)
    rate = obs / n
    low, high = wilson_interval(obs, n, level)
    table = pd.DataFrame(
        {
            "bin": np.arange(1, len(g) + 1),
            "n": g["n"].to_numpy(),
            "predicted_mean": pred,
            "observed_rate": rate,
            "observed_low": low,
            "observed_high": high,
        }
    )
    expected = pred * n
    denom = expected * (1.0 - pred)
    ok = denom > 0
    hl = float(np.sum((obs[ok] - expected[ok]) ** 2 / denom[ok]))
    dof = max(int(ok.sum()) - 2, 1)
    return table, hl, float(stats.chi2.sf(hl, dof))


def brier(y: npt.NDArray[np.bool_], p: FloatArray) -> float:
    """Mean squared difference between outcome and probability.

    Examples
    --------
    >>> brier(np.array([True, False]), np.array([0.5, 0.5]))
    0.25
    """
    return float(np.mean((y.astype(np.float64) - p) ** 2))
