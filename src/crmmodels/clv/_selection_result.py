"""The result of :func:`crmmodels.clv.select_model` and its tracking curve.

The tracking frame sets the repeat purchases of the whole customer base against each
candidate's expectation, cumulated from the first purchase, one row per time unit with
rows anchored at the calibration end (the first row may be shorter). The expectation is
the one of :func:`crmmodels.clv.cumulative_transactions` (each entry cohort times the
expected purchases of one new customer) with ages counted the way the customer summary
counts ``T``: whole grid periods after the period of the first purchase.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from crmmodels._ingest.periods import is_calendar, period_labels, unit_name
from crmmodels._results import Result
from crmmodels.clv._tracking import _expected_cumulative

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from crmmodels.clv._selection_data import LogSplit

__all__ = ["CRITERIA", "ModelSelectionResult", "curve_errors", "tracking_frame"]

#: the criteria of ``select_model`` (``rmse`` is the default)
CRITERIA = ("rmse", "mae", "curve", "curve_end", "loglik", "aic", "bic")


class _SummaryAges:
    """A fitted model whose ``expected_purchases`` takes ages in grid periods.

    A customer has age 0 at the end of the period of the first purchase (as ``T`` of the
    summary), so ``a`` periods into the convolution are ``(a - 1) * scale`` time units.
    """

    def __init__(self, model: Any, scale: float) -> None:
        self.model = model
        self.scale = scale

    def expected_purchases(self, periods: Any) -> Any:
        ages = np.maximum(np.asarray(periods, dtype=np.float64) - 1.0, 0.0) * self.scale
        if type(self.model).__name__ == "BGBB":
            ages = np.round(ages)
        return self.model.expected_purchases(ages)


def tracking_frame(split: LogSplit, models: dict[str, Any]) -> pd.DataFrame:
    """Actual and expected cumulative repeat purchases per time unit (see the module)."""
    t = split.tracking
    n = t.active.size
    per_unit = (
        1 if is_calendar(split.grid) or split.grid == split.time_unit else round(1.0 / split.scale)
    )
    cal_rel = split.cal_index - t.first
    ends = np.unique(np.append(np.arange(cal_rel % per_unit, n, per_unit), n - 1))
    actual = np.cumsum(t.active - t.cohorts)
    index = t.first + ends
    if isinstance(split.grid, int):  # n-day periods are numbered day // n
        dates = pd.DatetimeIndex(((index + 1) * split.grid - 1).astype("datetime64[D]"))
    elif split.grid == "D":
        dates = pd.DatetimeIndex(index.astype("datetime64[D]"))
    else:
        dates = period_labels(index, split.grid).end_time.normalize()
    out = pd.DataFrame(
        {
            "date": np.asarray(dates, dtype="datetime64[ns]"),
            "time": (ends + 1) * split.scale,
            "holdout": ends > cal_rel,
            "actual": actual[ends],
        }
    )
    for name, model in models.items():
        expected = _expected_cumulative(_SummaryAges(model, split.scale), t.cohorts, 1, n)
        out[name] = expected[ends]
    return out


def curve_errors(tracking: pd.DataFrame, name: str) -> tuple[float, float]:
    """Mean absolute percentage error over the holdout and relative error at its end.

    Both compare the repeat purchases cumulated from the calibration end; units where
    nothing was bought yet are left out of the mean.
    """
    if name not in tracking.columns:
        return math.nan, math.nan
    hold = tracking["holdout"].to_numpy()
    base = int(np.flatnonzero(~hold)[-1])
    actual = tracking["actual"].to_numpy()[hold] - tracking["actual"].iloc[base]
    expected = tracking[name].to_numpy()[hold] - tracking[name].iloc[base]
    seen = actual > 0
    if not seen.any():
        return math.nan, math.nan
    mape = float(np.mean(np.abs(expected[seen] - actual[seen]) / actual[seen]))
    end = float((expected[-1] - actual[-1]) / actual[-1]) if actual[-1] > 0 else math.nan
    return mape, end


@dataclass(frozen=True, repr=False)
class ModelSelectionResult(Result):
    """The candidates judged on a holdout and the chosen model, from :func:`select_model`.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per candidate (see :meth:`to_frame`).
    chosen : str
        Class name of the chosen model.
    reason : str
        One sentence saying why.
    criterion : str
        The criterion of the choice.
    calibration_end, observation_end : pandas.Timestamp
        Last day of the calibration period and of the log.
    holdout : float
        Length of the holdout in time units.
    holdout_rule : str
        How the holdout was set (the default rule, or the caller's argument).
    time_unit : str or int
        The models' time unit.
    discrete : bool
        Whether the candidates ran on discrete opportunities (whole periods).
    n_customers : int
        Customers of the calibration period (each counted once in the metrics).
    n_new_in_holdout : int
        Customers whose first purchase falls in the holdout (not in the metrics).
    models : dict
        The calibration fits by name (failed candidates are left out). They are fitted on
        the distinct calibration histories weighted by their counts, which gives the
        parameters of a fit on the calibration summary.
    model : fitted model
        The chosen model refitted on the whole period; it remembers its time unit and
        columns and saves to JSON like every model.
    tracking : pandas.DataFrame
        ``date``, ``time`` (time units since the start of the first purchase period),
        ``holdout`` (bool), ``actual`` cumulative repeat purchases and one column of
        expected cumulative repeat purchases per fitted candidate.
    """

    table: pd.DataFrame
    chosen: str
    reason: str
    criterion: str
    calibration_end: pd.Timestamp
    observation_end: pd.Timestamp
    holdout: float
    holdout_rule: str
    time_unit: str | int
    discrete: bool
    n_customers: int
    n_new_in_holdout: int
    models: dict[str, Any] = field(default_factory=dict)
    model: Any = None
    tracking: pd.DataFrame = field(default_factory=pd.DataFrame)

    def __repr__(self) -> str:
        return (
            f"ModelSelectionResult(chosen={self.chosen!r}, criterion={self.criterion!r}, "
            f"candidates={len(self.table)},\n"
            f"                     holdout={self.holdout:g} {unit_name(self.time_unit)}, "
            f"calibration_end={self.calibration_end.date()})"
        )

    def to_frame(self) -> pd.DataFrame:
        """The candidates' table.

        Columns: ``model``, ``status`` (``"converged"``, ``"boundary: ..."`` naming the
        limiting model in words, or ``"failed: ..."`` with the reason), ``n_params``
        (free parameters), ``log_likelihood``, ``aic``, ``bic`` (calibration fit),
        ``mae``, ``rmse`` (holdout purchases per customer), ``curve_mape``,
        ``curve_end_error`` (cumulative holdout curve) and ``chosen``. A failed
        candidate has NaN metrics and is never chosen.
        """
        return self.table.copy()

    def to_dict(self) -> dict[str, Any]:
        """The scalar fields, with the dates as ISO strings."""
        out = super().to_dict()
        out["calibration_end"] = self.calibration_end.isoformat()
        out["observation_end"] = self.observation_end.isoformat()
        return out

    def plot(self, ax: Axes | None = None, **kwargs: Any) -> Axes:
        """Draw the holdout tracking plot and return the Axes.

        Actual cumulative repeat purchases against each candidate's expectation, with a
        vertical line at the calibration end.
        """
        from crmmodels.plotting.selection import draw_model_selection

        return draw_model_selection(self, ax=ax, **kwargs)
