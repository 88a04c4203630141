"""One-call CLV plots from a fitted model: each computes its result, then draws it.

Re-exported by :mod:`crmmodels.plotting.clv`. The computation lives in
:mod:`crmmodels.clv._tracking`; the drawing in :mod:`crmmodels.plotting.clv` (both
imported when called).
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import pandas as pd

from crmmodels._ingest.arguments import check_int
from crmmodels.errors import ArgumentError

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from crmmodels.clv._tracking import CumulativeTransactionsResult
    from crmmodels.plotting.clv import TransactionModel

__all__ = [
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
        ``CalibrationHoldoutResult.to_frame()``: ``frequency_cal``, ``recency_cal``, ``T_cal``,
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
    time_unit: Any,
    calibration_end: Any,
    old: dict[str, Any],
) -> CumulativeTransactionsResult:
    """The tracking result; ``old`` holds the 0.1 keywords ``days_per_unit``/``freq_days``."""
    from crmmodels.clv._tracking import cumulative_transactions

    unknown = set(old) - {"days_per_unit", "freq_days"}
    if unknown:
        raise ArgumentError(f"unexpected keyword arguments: {sorted(unknown)}.")
    if old:
        warnings.warn(
            "days_per_unit and freq_days are now one argument, time_unit (a period code "
            "such as 'W' or a whole number of days); the old names stop working in "
            "crmmodels 1.0.",
            FutureWarning,
            stacklevel=3,
        )
        days = [check_int(v, k, low=1) for k, v in sorted(old.items())]
        if len(set(days)) > 1:
            raise ArgumentError(
                f"freq_days ({old['freq_days']}) must equal days_per_unit "
                f"({old['days_per_unit']}): the rows are one time unit apart."
            )
        if time_unit is not None:
            raise ArgumentError("give time_unit only; days_per_unit is its old name.")
        time_unit = days[0]
    if time_unit is None:
        known = getattr(model, "time_unit_", "unknown")
        time_unit = 7 if known == "unknown" else known
    return cumulative_transactions(
        model,
        transactions,
        customer_col=customer_col,
        date_col=date_col,
        calibration_end=calibration_end,
        time_unit=time_unit,
    )


def _draw_tracking(
    kind: str,
    model: TransactionModel,
    transactions: pd.DataFrame,
    customer_col: str,
    date_col: str,
    time_unit: Any,
    calibration_end: Any,
    ax: Axes | None,
    kwargs: dict[str, Any],
) -> Axes:
    """The tracking figure of ``kind``; ``kwargs`` may hold the 0.1 keywords."""
    from crmmodels.plotting.clv import draw_cumulative_transactions

    old: dict[str, Any] = {k: kwargs.pop(k) for k in ("days_per_unit", "freq_days") if k in kwargs}
    result = _tracking_result(
        model,
        transactions,
        customer_col=customer_col,
        date_col=date_col,
        time_unit=time_unit,
        calibration_end=calibration_end,
        old=old,
    )
    return draw_cumulative_transactions(result, kind=kind, ax=ax, **kwargs)


def plot_cumulative_transactions(
    model: TransactionModel,
    transactions: pd.DataFrame,
    *,
    customer_col: str = "customer_id",
    date_col: str = "date",
    time_unit: Any = None,
    calibration_end: Any = None,
    ax: Axes | None = None,
    **kwargs: Any,
) -> Axes:
    """Cumulative repeat transactions over calendar time: actual against the model.

    The same figure as ``crmmodels.clv.cumulative_transactions(model, transactions,
    time_unit=..., ...).plot()``.

    Parameters
    ----------
    model : fitted transaction model
    transactions : pandas.DataFrame
        The transaction log (one row per purchase).
    customer_col, date_col : str
    time_unit : str or int, optional
        The model's time unit: a period code (``"W"``) or a whole number of days. By
        default the unit the model remembers, else weeks.
    calibration_end : date-like, optional
        Drawn as a vertical line.
    ax : matplotlib Axes, optional
    **kwargs
        Passed to ``Axes.plot``.

    Returns
    -------
    matplotlib.axes.Axes
    """
    return _draw_tracking(
        "cumulative",
        model,
        transactions,
        customer_col,
        date_col,
        time_unit,
        calibration_end,
        ax,
        kwargs,
    )


def plot_incremental_transactions(
    model: TransactionModel,
    transactions: pd.DataFrame,
    *,
    customer_col: str = "customer_id",
    date_col: str = "date",
    time_unit: Any = None,
    calibration_end: Any = None,
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
    return _draw_tracking(
        "incremental",
        model,
        transactions,
        customer_col,
        date_col,
        time_unit,
        calibration_end,
        ax,
        kwargs,
    )


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
