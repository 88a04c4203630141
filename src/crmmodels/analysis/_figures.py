"""Key figures and data checks of a customer-base analysis (typed results)."""

from __future__ import annotations

import dataclasses
import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from crmmodels._results import Result

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["DataChecksResult", "KeyFiguresResult", "key_figures"]


@dataclasses.dataclass(frozen=True, repr=False)
class KeyFiguresResult(Result):
    """The headline numbers of a customer base.

    Attributes
    ----------
    n_customers : int
        Customers in the log up to the observation end.
    active_share : float
        Share of customers whose last purchase is within the lifecycle rule's churn
        window (stage other than "churned"); NaN when the lifecycle step was skipped.
    repeat_share : float
        Share of customers who bought on more than one day.
    customer_equity : float
        Sum of the customers' CLV over the horizon (NaN when the CLV step was skipped).
    equity_low, equity_high : float
        Interval of the customer equity at ``level`` (parameter uncertainty).
    level : float
        Level of that interval.
    top_share : float
        Share of the value of the log bought by the top 20% of customers.
    gini : float
        Gini coefficient of the customers' value.
    expected_purchases : float
        Purchases the customers are expected to make over the horizon.
    horizon : float
        The horizon, in ``time_unit``.
    time_unit : str
        The time unit in words.

    Examples
    --------
    >>> k = KeyFiguresResult(100, 0.4, 0.3, 5000.0, 4800.0, 5200.0, 0.95, 0.7, 0.6, 55.0,
    ...                      52.0, "weeks")
    >>> k.to_frame().loc[0, "figure"]
    'customers'
    """

    n_customers: int
    active_share: float
    repeat_share: float
    customer_equity: float
    equity_low: float
    equity_high: float
    level: float
    top_share: float
    gini: float
    expected_purchases: float
    horizon: float
    time_unit: str

    def to_frame(self) -> pd.DataFrame:
        """One row per figure: ``figure`` (its name in words) and ``value``."""
        h = f"{self.horizon:g} {self.time_unit}"
        rows = [
            ("customers", float(self.n_customers)),
            ("active share", self.active_share),
            ("repeat share", self.repeat_share),
            (f"customer equity ({h})", self.customer_equity),
            (f"customer equity, {self.level:.0%} low", self.equity_low),
            (f"customer equity, {self.level:.0%} high", self.equity_high),
            ("value share of the top 20%", self.top_share),
            ("Gini coefficient of value", self.gini),
            (f"expected purchases ({h})", self.expected_purchases),
        ]
        return pd.DataFrame(rows, columns=["figure", "value"])

    def lines(self) -> list[tuple[str, str]]:
        """The figures formatted for reading (label, text)."""
        h = f"next {self.horizon:g} {self.time_unit}"

        def pct(x: float) -> str:
            return "n/a" if math.isnan(x) else f"{x:.1%}"

        def money(x: float) -> str:
            return "n/a" if math.isnan(x) else f"{x:,.0f}"

        equity = money(self.customer_equity)
        if not math.isnan(self.equity_low):
            equity += f" ({money(self.equity_low)} to {money(self.equity_high)}, {self.level:.0%})"
        return [
            ("Customers", f"{self.n_customers:,}"),
            ("Active share", pct(self.active_share)),
            ("Repeat share", pct(self.repeat_share)),
            (f"Customer equity, {h}", equity),
            ("Value share of the top 20%", pct(self.top_share)),
            ("Gini coefficient of value", "n/a" if math.isnan(self.gini) else f"{self.gini:.3f}"),
            (
                f"Expected purchases, {h}",
                "n/a" if math.isnan(self.expected_purchases) else f"{self.expected_purchases:,.0f}",
            ),
        ]

    def plot(self, ax: Axes | None = None, **kwargs: Any) -> Axes:
        """Bar chart of the shares (active, repeat, top-20% value share, Gini)."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 3))
        labels = ["active share", "repeat share", "top 20% value share", "Gini"]
        values = [self.active_share, self.repeat_share, self.top_share, self.gini]
        ax.barh(labels, np.nan_to_num(values), **kwargs)
        ax.set_xlim(0, 1)
        ax.invert_yaxis()
        ax.set_xlabel("share")
        ax.set_title(f"{self.n_customers:,} customers")
        return ax


@dataclasses.dataclass(frozen=True, repr=False)
class DataChecksResult(Result):
    """What was read from the log and what was set aside.

    Attributes
    ----------
    n_rows : int
        Rows of the log read.
    n_customers : int
        Distinct customers.
    first_date, last_date : str
        First and last purchase date in the log.
    observation_end : str
        End of the observation period.
    total_value : float
        Sum of the amounts.
    n_zero_value_customers : int
        Customers whose purchases sum to zero or less (no spend model for them).
    n_one_time_buyers : int
        Customers who bought on one day only.

    Examples
    --------
    >>> c = DataChecksResult(10, 4, "2024-01-01", "2024-03-01", "2024-03-01", 99.0, 0, 2)
    >>> c.to_frame().loc[0, "value"]
    10
    """

    n_rows: int
    n_customers: int
    first_date: str
    last_date: str
    observation_end: str
    total_value: float
    n_zero_value_customers: int
    n_one_time_buyers: int

    def to_frame(self) -> pd.DataFrame:
        """One row per check: ``check`` and ``value``."""
        rows: list[tuple[str, Any]] = [
            ("rows read", self.n_rows),
            ("customers", self.n_customers),
            ("first purchase", self.first_date),
            ("last purchase", self.last_date),
            ("observation end", self.observation_end),
            ("total value", self.total_value),
            ("customers with no positive spend", self.n_zero_value_customers),
            ("one-time buyers", self.n_one_time_buyers),
        ]
        return pd.DataFrame(rows, columns=["check", "value"])


def _share(mask: Any) -> float:
    values = np.asarray(mask, dtype=bool)
    return np.count_nonzero(values) / values.size if values.size else math.nan


def key_figures(
    customers: pd.DataFrame,
    *,
    equity: Any,
    concentration: tuple[float, float] | None,
    level: float,
    horizon: float,
    time_unit: str,
) -> KeyFiguresResult:
    """The key figures from the customer table, the equity and the 80/20 figures.

    ``concentration`` is the value share of the top 20% and the Gini coefficient (None
    when the 80/20 step was skipped).
    """
    stage = customers["lifecycle_stage"]
    active = math.nan if stage.isna().all() else _share(stage != "churned")
    expected = customers["expected_purchases"].to_numpy(dtype="float64")
    return KeyFiguresResult(
        n_customers=len(customers),
        active_share=active,
        repeat_share=_share(customers["frequency"].to_numpy() > 0),
        customer_equity=math.nan if equity is None else float(equity.total),
        equity_low=math.nan if equity is None else float(equity.low),
        equity_high=math.nan if equity is None else float(equity.high),
        level=level,
        top_share=math.nan if concentration is None else concentration[0],
        gini=math.nan if concentration is None else concentration[1],
        expected_purchases=float(expected.sum()) if not np.isnan(expected).all() else math.nan,
        horizon=horizon,
        time_unit=time_unit,
    )
