"""Plots of customer value: the concentration of CLV and the equity under parameter draws."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from crmmodels.plotting._common import new_axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from crmmodels.clv._value_results import CLVResult, EquityResult

__all__ = ["plot_clv_concentration", "plot_equity_draws"]


def plot_clv_concentration(result: CLVResult, *, ax: Axes | None = None, **kwargs: Any) -> Axes:
    """Share of total CLV held by the highest-valued share of customers.

    Parameters
    ----------
    result : CLVResult
        Output of :func:`crmmodels.clv.customer_lifetime_value`.
    ax : matplotlib Axes, optional
        Where to draw (a new figure when None).
    **kwargs
        Passed to ``ax.plot`` for the curve.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import pandas as pd
    >>> from crmmodels.clv import BGNBD, customer_lifetime_value
    >>> bg = BGNBD.from_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
    >>> s = pd.DataFrame({"frequency": [0, 2, 5], "recency": [0.0, 20.0, 30.0],
    ...                   "T": [38.0, 38.0, 38.0]})
    >>> ax = plot_clv_concentration(customer_lifetime_value(bg, 10.0, s, horizon=52,
    ...                                                     discount_rate=0.0))
    >>> ax.get_ylabel()
    'share of total CLV'
    >>> import matplotlib.pyplot as plt
    >>> plt.close(ax.figure)
    """
    ax = new_axes(ax, (6.0, 4.5))
    clv = np.sort(result.data["clv"].to_numpy(dtype=np.float64))[::-1]
    share = np.cumsum(clv) / clv.sum() if clv.sum() > 0 else np.zeros_like(clv)
    x = np.arange(1, clv.size + 1) / clv.size
    ax.plot(np.r_[0.0, x], np.r_[0.0, share], **kwargs)
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":")
    ax.set_xlabel("share of customers (highest CLV first)")
    ax.set_ylabel("share of total CLV")
    ax.set_title(f"CLV over {result.horizon:g} {result.time_unit}: total {result.total:,.0f}")
    return ax


def plot_equity_draws(result: EquityResult, *, ax: Axes | None = None, **kwargs: Any) -> Axes:
    """Histogram of customer equity under the parameter draws, with the interval.

    The solid line is the equity at the fitted parameters, the dotted lines the interval
    (no histogram when the models carry no covariance).

    Parameters
    ----------
    result : EquityResult
        Output of :func:`crmmodels.clv.customer_equity`.
    ax : matplotlib Axes, optional
        Where to draw (a new figure when None).
    **kwargs
        Passed to ``ax.hist``.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from crmmodels.clv import BGNBD, customer_equity
    >>> from crmmodels.datasets import load_cdnow_summary
    >>> s = load_cdnow_summary()
    >>> eq = customer_equity(BGNBD().fit(s), 10.0, s, horizon=52, discount_rate=0.0,
    ...                      n_draws=20)
    >>> ax = plot_equity_draws(eq)
    >>> ax.get_xlabel()
    'customer equity'
    >>> import matplotlib.pyplot as plt
    >>> plt.close(ax.figure)
    """
    ax = new_axes(ax, (6.0, 4.0))
    if result.draws:
        ax.hist(result.draws, bins=30, **kwargs)
        ax.axvline(result.low, color="grey", linestyle=":")
        ax.axvline(result.high, color="grey", linestyle=":")
    ax.axvline(result.total, color="black")
    ax.set_xlabel("customer equity")
    ax.set_title(f"Customer equity {result.total:,.0f} ({result.level:.0%} interval)")
    return ax
