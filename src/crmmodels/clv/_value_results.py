"""Result classes of the value calculations: :class:`CLVResult` and :class:`EquityResult`.

Their plots are drawn by :mod:`crmmodels.plotting.value`, reached through ``.plot()``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from crmmodels._results import Result

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["CLVResult", "EquityResult"]


@dataclass(frozen=True, repr=False)
class CLVResult(Result):
    """Customer lifetime value per customer, from :func:`customer_lifetime_value`.

    Attributes
    ----------
    data : pandas.DataFrame
        One row per input customer, in input order: the id (``customer_col``), the summary
        columns read (the caller's names: ``frequency``, ``recency``, ``T`` or
        ``n_periods`` and, with a Gamma-Gamma model, ``monetary_value``),
        ``expected_purchases`` (undiscounted, over the horizon), ``discounted_purchases``,
        ``expected_spend``, ``clv`` and, with an interval, ``clv_low`` and ``clv_high``.
    horizon : float
        Horizon in the model's time unit (``inf`` for the residual lifetime).
    discount_rate : float
        Rate per ``discount_period`` time units.
    discount_period : float
        Length of the discounting period in the model's time unit.
    time_unit : str
        The model's time unit, as stated by the caller (e.g. ``"weeks"``).
    method : str
        How the discounted transactions were computed.
    total : float
        Sum of ``clv``.
    n_customers : int
    customer_col : str
        The id column of ``data``: the caller's, or ``"customer"`` (row positions 0..n-1)
        when the summary has no id.
    level : float or None
        Level of the ``clv_low``/``clv_high`` interval (None without an interval).
    n_draws : int
        Parameter draws behind the interval (0 without one, or when the models carry
        no covariance).
    """

    data: pd.DataFrame
    horizon: float
    discount_rate: float
    discount_period: float
    time_unit: str
    method: str
    total: float
    n_customers: int
    customer_col: str = "customer"
    level: float | None = None
    n_draws: int = 0

    def to_frame(self) -> pd.DataFrame:
        """Return the per-customer table (a copy)."""
        return self.data.copy()

    def plot(self, ax: Axes | None = None, **kwargs: Any) -> Axes:
        """Concentration of value: share of total CLV by share of customers.

        See :func:`crmmodels.plotting.value.plot_clv_concentration`.
        """
        from crmmodels.plotting.value import plot_clv_concentration

        return plot_clv_concentration(self, ax=ax, **kwargs)


@dataclass(frozen=True, repr=False)
class EquityResult(Result):
    """Customer equity (sum of CLV) with an interval, from :func:`customer_equity`.

    Attributes
    ----------
    total : float
        Customer equity at the fitted parameters.
    low, high : float
        Percentile interval from parameter draws (NaN when the models carry no
        covariance, e.g. built with ``from_params``).
    level : float
        Interval level.
    n_draws : int
        Parameter draws used for the interval.
    n_customers : int
    horizon, discount_rate : float
    time_unit : str
    draws : tuple of float
        Equity under each parameter draw (empty for the delta method).
    method : str
        How the interval was made: ``"draws"`` or ``"delta"``.
    """

    total: float
    low: float
    high: float
    level: float
    n_draws: int
    n_customers: int
    horizon: float
    discount_rate: float
    time_unit: str
    draws: tuple[float, ...]
    method: str = "draws"

    def to_frame(self) -> pd.DataFrame:
        """Return a one-row table of the equity and its interval."""
        return pd.DataFrame(
            {
                "customer_equity": [self.total],
                "low": [self.low],
                "high": [self.high],
                "level": [self.level],
                "n_customers": [self.n_customers],
            }
        )

    def _scalar_fields(self) -> dict[str, Any]:
        # the draws stay available as ``draws``; the repr and ``to_dict`` leave them out
        out = super()._scalar_fields()
        out.pop("draws", None)
        return out

    def plot(self, ax: Axes | None = None, **kwargs: Any) -> Axes:
        """Histogram of the equity under the parameter draws, with the interval.

        See :func:`crmmodels.plotting.value.plot_equity_draws`.
        """
        from crmmodels.plotting.value import plot_equity_draws

        return plot_equity_draws(self, ax=ax, **kwargs)
