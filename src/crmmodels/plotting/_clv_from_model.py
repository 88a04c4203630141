"""One-call CLV plots from a fitted model: each computes its result, then draws it.

Re-exported by :mod:`crmmodels.plotting.clv`. The computation lives in
:mod:`crmmodels.clv._tracking`; the drawing in :mod:`crmmodels.plotting.clv` (both
imported when called).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from crmmodels._ingest.arguments import check_int
from crmmodels.errors import ArgumentError

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from crmmodels.clv._tracking import CumulativeTransactionsResult
    from crmmodels.plotting.clv import TransactionModel

__all__ = [
    "expected_cumulative_transactions",
    "plot_alive_history",
    "plot_calibration_vs_holdout",
    "plot_cumulative_transactions",
    "plot_incremental_transactions",
]


def plot_calibration_vs_holdout(
    model: TransactionModel,
    cal_holdout: pd.DataFrame,
    *,
    max_frequency: int = 7,
    ax: Axes | None = None,
    **kwargs: Any,
) -> Axes:
    """Mean holdout purchases by calibration frequency: actual against conditional expectation.

    The same as ``crmmodels.clv.holdout_comparison(model, cal_holdout,
    max_group=max_frequency).plot(ax=ax)``.

    Parameters
    ----------
    model : fitted transaction model
    cal_holdout : pandas.DataFrame
        ``CalibrationHoldout.to_frame()``: ``frequency_cal``, ``recency_cal``, ``T_cal``,
        ``frequency_holdout``, ``duration_holdout`` (in the model's time unit).
    max_frequency : int, default 7
        Customers with more calibration purchases are pooled in the last point.
    ax : matplotlib Axes, optional
    **kwargs
        Passed to ``Axes.plot``.

    Returns
    -------
    matplotlib.axes.Axes
    """
    from crmmodels.clv._tracking import holdout_comparison
    from crmmodels.plotting.clv import draw_holdout_comparison

    result = holdout_comparison(model, cal_holdout, max_group=max_frequency)
    return draw_holdout_comparison(result, ax=ax, **kwargs)


def _tracking_result(
    model: TransactionModel,
    transactions: pd.DataFrame,
    *,
    customer_col: str,
    date_col: str,
    days_per_unit: float,
    calibration_end: Any,
    freq_days: int,
) -> CumulativeTransactionsResult:
    """The old keywords (``days_per_unit``, ``freq_days``) mapped onto ``time_unit``."""
    from crmmodels.clv._tracking import cumulative_transactions

    days = check_int(days_per_unit, "days_per_unit", low=1)
    if check_int(freq_days, "freq_days", low=1) != days:
        raise ArgumentError(
            f"freq_days ({freq_days}) must equal days_per_unit ({days_per_unit}): the rows are "
            "one time unit apart. Use crmmodels.clv.cumulative_transactions(time_unit=...)."
        )
    return cumulative_transactions(
        model,
        transactions,
        customer_col=customer_col,
        date_col=date_col,
        calibration_end=calibration_end,
        time_unit=days,
    )


def plot_cumulative_transactions(
    model: TransactionModel,
    transactions: pd.DataFrame,
    *,
    customer_col: str = "customer_id",
    date_col: str = "date",
    days_per_unit: float = 7.0,
    calibration_end: Any = None,
    freq_days: int = 7,
    ax: Axes | None = None,
    **kwargs: Any,
) -> Axes:
    """Cumulative repeat transactions over calendar time: actual against the model.

    Kept for existing code: ``crmmodels.clv.cumulative_transactions(model, transactions,
    time_unit=days_per_unit, ...).plot()`` draws the same figure.

    Parameters
    ----------
    model : fitted transaction model
    transactions : pandas.DataFrame
        The transaction log (one row per purchase).
    customer_col, date_col : str
    days_per_unit : int, default 7
        Days in one model time unit (7 for a model fitted in weeks).
    calibration_end : date-like, optional
        Drawn as a vertical line.
    freq_days : int, default 7
        Spacing of the rows; must equal ``days_per_unit``.
    ax : matplotlib Axes, optional
    **kwargs
        Passed to ``Axes.plot``.

    Returns
    -------
    matplotlib.axes.Axes
    """
    result = _tracking_result(
        model,
        transactions,
        customer_col=customer_col,
        date_col=date_col,
        days_per_unit=days_per_unit,
        calibration_end=calibration_end,
        freq_days=freq_days,
    )
    from crmmodels.plotting.clv import draw_cumulative_transactions

    return draw_cumulative_transactions(result, kind="cumulative", ax=ax, **kwargs)


def plot_incremental_transactions(
    model: TransactionModel,
    transactions: pd.DataFrame,
    *,
    customer_col: str = "customer_id",
    date_col: str = "date",
    days_per_unit: float = 7.0,
    calibration_end: Any = None,
    freq_days: int = 7,
    ax: Axes | None = None,
    **kwargs: Any,
) -> Axes:
    """Repeat transactions per time unit over calendar time: actual against the model.

    Parameters are those of :func:`plot_cumulative_transactions`; the same figure is
    ``cumulative_transactions(...).plot(kind="incremental")``.

    Returns
    -------
    matplotlib.axes.Axes
    """
    result = _tracking_result(
        model,
        transactions,
        customer_col=customer_col,
        date_col=date_col,
        days_per_unit=days_per_unit,
        calibration_end=calibration_end,
        freq_days=freq_days,
    )
    from crmmodels.plotting.clv import draw_cumulative_transactions

    return draw_cumulative_transactions(result, kind="incremental", ax=ax, **kwargs)


def plot_alive_history(
    model: TransactionModel,
    purchase_times: Any,
    *,
    end: float,
    n_points: int = 200,
    ax: Axes | None = None,
    **kwargs: Any,
) -> Axes:
    """P(alive) of one customer over time, from the first purchase to ``end``.

    Kept for existing code: the same as ``crmmodels.clv.alive_history(model,
    purchase_times, end=end, n_points=n_points).plot(ax=ax)``.

    Parameters
    ----------
    model : fitted transaction model
    purchase_times : array-like of float
        The customer's purchase times in model units since the first purchase (the first
        is 0); purchases in one period should already be merged.
    end : float
        Age at which the history stops.
    n_points : int, default 200
    ax : matplotlib Axes, optional
    **kwargs
        Passed to ``Axes.plot``.

    Returns
    -------
    matplotlib.axes.Axes
    """
    from crmmodels.clv._tracking import alive_history
    from crmmodels.plotting.clv import draw_alive_history

    result = alive_history(model, purchase_times, end=end, n_points=n_points)
    return draw_alive_history(result, ax=ax, **kwargs)


def expected_cumulative_transactions(
    model: TransactionModel,
    transactions: pd.DataFrame,
    *,
    customer_col: str = "customer_id",
    date_col: str = "date",
    days_per_unit: float = 7.0,
    freq_days: int = 7,
) -> pd.DataFrame:
    """Actual and expected cumulative repeat transactions (kept for existing code).

    Use :func:`crmmodels.clv.cumulative_transactions`, which this calls; ``date`` is the
    last day of each row.

    Returns
    -------
    pandas.DataFrame
        Columns ``date``, ``actual``, ``predicted``.
    """
    frame = _tracking_result(
        model,
        transactions,
        customer_col=customer_col,
        date_col=date_col,
        days_per_unit=days_per_unit,
        calibration_end=None,
        freq_days=freq_days,
    ).to_frame()
    return pd.DataFrame(
        {
            "date": frame["date"],
            "actual": frame["actual_cumulative"],
            "predicted": frame["expected_cumulative"],
        }
    )
