"""The projection of a contractual retention model: actual against projected survival."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmmodels._results import Result
from crmmodels.retention._contractual_data import SurvivalData

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["ContractualRetentionResult", "projection"]

_COLUMNS = [
    "cohort",
    "period",
    "survivors",
    "actual_survival",
    "projected_survival",
    "projected_survivors",
    "actual_retention",
    "projected_retention",
    "fitted",
]


@dataclass(frozen=True, repr=False)
class ContractualRetentionResult(Result):
    """Actual and projected survival of each cohort, period by period.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per cohort and period ``0 .. horizon``: ``survivors`` (observed, ``<NA>``
        where not observed), ``actual_survival`` (their share of the cohort),
        ``projected_survival`` :math:`S(t)`, ``projected_survivors`` (cohort size times
        :math:`S(t)`), ``actual_retention`` and ``projected_retention`` (against the
        period before; NaN at period 0), ``fitted`` (the period was in the fit data).
    model : str
        ``"sBG"`` or ``"BdW"``.
    params : dict
        The fitted parameters.
    horizon : int
        Last period projected.
    fit_end : int
        Last period of the longest fitted cohort.
    n_cohorts, n_customers : int
        Cohorts in the table and customers at their start.
    time_unit : str
        What a period is, in words (``"years"``; ``"periods"`` when not known).
    log_likelihood : float
        Of the fit.

    Examples
    --------
    >>> from crmmodels.retention import ShiftedBetaGeometric
    >>> m = ShiftedBetaGeometric().fit([1000, 631, 468, 382, 326], time_unit="Y")
    >>> res = m.project(8, actual=[1000, 631, 468, 382, 326, 289, 262, 241, 223])
    >>> res  # doctest: +NORMALIZE_WHITESPACE
    ContractualRetentionResult(model=sBG, horizon=8, fit_end=4, n_cohorts=1, n_customers=1000,
                               time_unit=years, log_likelihood=-1401.5594, rows=9)
    >>> res.to_frame().loc[8, ["survivors", "projected_survivors"]].round(1).tolist()
    [223.0, 210.3]
    >>> ax = res.plot()
    >>> import matplotlib.pyplot as plt
    >>> plt.close(ax.figure)
    """

    table: pd.DataFrame
    model: str
    params: dict[str, float] = field(default_factory=dict)
    horizon: int = 0
    fit_end: int = 0
    n_cohorts: int = 0
    n_customers: int = 0
    time_unit: str = "periods"
    log_likelihood: float = float("nan")

    def to_frame(self) -> pd.DataFrame:
        """The long table of actual and projected survival (a copy)."""
        return self.table.copy()

    def plot(self, ax: Axes | None = None, **kwargs: Any) -> Axes:
        """Actual (dots) against projected (lines) survival per cohort.

        Draws :func:`crmmodels.plotting.retention.plot_contractual_survival`; ``kwargs``
        go to it.
        """
        from crmmodels.plotting.retention import plot_contractual_survival

        return plot_contractual_survival(self, ax=ax, **kwargs)


def projection(
    data: SurvivalData,
    actual: SurvivalData | None,
    horizon: int,
    survival: Callable[[Any], npt.NDArray[np.float64]],
    model: str,
    params: dict[str, float],
    time_unit: str,
    log_likelihood: float,
) -> ContractualRetentionResult:
    """Build the result table for the fitted cohorts and those of ``actual``.

    A single unlabelled ``actual`` series (label 0) goes with the first fitted cohort.
    """
    fitted = dict(zip(data.cohorts, data.survivors, strict=True))
    observed = dict(fitted)
    if actual is not None:
        extra = dict(zip(actual.cohorts, actual.survivors, strict=True))
        if list(extra) == [0] and 0 not in fitted:
            extra = {data.cohorts[0]: extra[0]}
        observed.update(extra)
    labels = list(observed)
    t = np.arange(horizon + 1, dtype=np.float64)
    s_proj = survival(t)
    n_c, width = len(labels), horizon + 1
    obs = np.full((n_c, width), np.nan)
    fit_mask = np.zeros((n_c, width), dtype=bool)
    for i, label in enumerate(labels):  # one step per cohort
        series = observed[label][:width]
        obs[i, : series.size] = series
        fit_mask[i, : min(fitted[label].size, width) if label in fitted else 0] = True
    size = obs[:, 0]
    share = obs / size[:, None]
    prev = np.concatenate([np.full((n_c, 1), np.nan), obs[:, :-1]], axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        actual_ret = obs / prev
    proj_ret = np.concatenate([[np.nan], s_proj[1:] / s_proj[:-1]])
    table = pd.DataFrame(
        {
            "cohort": np.repeat(np.array(labels, dtype=object), width),
            "period": np.tile(np.arange(width), n_c),
            "survivors": pd.array(obs.ravel(), dtype="Float64").astype("Int64"),
            "actual_survival": share.ravel(),
            "projected_survival": np.tile(s_proj, n_c),
            "projected_survivors": np.outer(size, s_proj).ravel(),
            "actual_retention": actual_ret.ravel(),
            "projected_retention": np.tile(proj_ret, n_c),
            "fitted": fit_mask.ravel(),
        },
        columns=_COLUMNS,
    )
    return ContractualRetentionResult(
        table=table,
        model=model,
        params=params,
        horizon=horizon,
        fit_end=max(s.size for s in data.survivors) - 1,
        n_cohorts=n_c,
        n_customers=int(np.nansum(size)),
        time_unit=time_unit,
        log_likelihood=log_likelihood,
    )
