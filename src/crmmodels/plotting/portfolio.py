"""Plots of the customer portfolio (80/20) analysis: Pareto chart, Lorenz curve, trend."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from crmmodels.errors import ArgumentError

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from crmmodels.portfolio import ParetoResult

from crmmodels.plotting._common import new_axes

__all__ = ["plot_concentration_trend", "plot_lorenz", "plot_pareto"]


def _axes(ax: Axes | None) -> Axes:
    return new_axes(ax, (7.0, 4.5))


def _thin(n: int, max_points: int) -> npt.NDArray[np.intp]:
    """Indices 0..n (inclusive) thinned to at most ``max_points`` (endpoints kept)."""
    if n + 1 <= max_points:
        return np.arange(n + 1)
    return np.unique(np.linspace(0, n, max_points).round().astype(np.intp))


def plot_pareto(
    result: ParetoResult, *, ax: Axes | None = None, max_bars: int = 50, **kwargs: Any
) -> Axes:
    """Pareto chart: value share bars (best first) and the cumulative share line.

    With more than ``max_bars`` customers the bars are equal-width groups of customers
    (each bar the share of value of ``n / max_bars`` consecutive customers). The dashed
    guides mark ``top`` of the customers (20%) and ``value_share`` of the value (80%).

    Parameters
    ----------
    result : ParetoResult
        Output of :func:`crmmodels.pareto_analysis`.
    ax : matplotlib Axes, optional
        Where to draw the bars (the cumulative line goes on a twin axis).
    max_bars : int, default 50
        Largest number of bars.
    **kwargs
        Passed to ``ax.bar``.

    Returns
    -------
    matplotlib.axes.Axes
        The bar axes.

    Examples
    --------
    >>> import numpy as np
    >>> from crmmodels.portfolio import pareto_analysis
    >>> ax = plot_pareto(pareto_analysis(np.array([9.0, 5.0, 3.0, 2.0, 1.0])))
    >>> ax.get_xlabel()
    'share of customers (best first)'
    """
    ax = _axes(ax)
    n = result.n_customers
    curve = result._curve
    bins = max(1, min(n, int(max_bars)))
    edges = np.round(np.linspace(0, n, bins + 1)).astype(np.intp)
    heights = curve[edges[1:]] - curve[edges[:-1]]
    left = edges[:-1] / n
    width = np.diff(edges) / n
    kw: dict[str, Any] = {"color": "tab:blue", "alpha": 0.7, "align": "edge"}
    kw.update(kwargs)
    ax.bar(left, heights * 100.0, width=width, **kw)
    ax.set_xlabel("share of customers (best first)")
    ax.set_ylabel("share of value per bar (%)" if bins < n else "share of value (%)")
    ax.set_xlim(0, 1)
    ax.axhline(0.0, color="black", linewidth=0.5)

    twin = ax.twinx()
    idx = _thin(n, 2000)
    twin.plot(idx / n, curve[idx] * 100.0, color="tab:red", label="cumulative share")
    twin.axhline(result.value_share * 100.0, color="grey", linestyle="--", linewidth=1)
    twin.axvline(result.top, color="grey", linestyle="--", linewidth=1)
    twin.plot([result.top], [result.top_share * 100.0], "o", color="tab:red")
    twin.annotate(
        f"top {result.top:.0%} hold {result.top_share:.1%}",
        (result.top, result.top_share * 100.0),
        xytext=(8, -14),
        textcoords="offset points",
        fontsize=9,
    )
    twin.set_ylabel("cumulative share of value (%)")
    top_y = max(100.0, float(curve.max()) * 100.0)
    twin.set_ylim(min(0.0, float(curve.min()) * 100.0), top_y * 1.05)
    ax.set_title(
        f"Pareto chart: {result.customer_share_for_value:.1%} of customers hold "
        f"{result.value_share:.0%} of value"
    )
    return ax


def plot_lorenz(
    result: ParetoResult, *, ax: Axes | None = None, by_period: bool = False, **kwargs: Any
) -> Axes:
    """Lorenz curve (worst first) with the line of equality and the Gini area shaded.

    The shaded area between the diagonal and the curve is half the Gini coefficient.

    Parameters
    ----------
    result : ParetoResult
        Output of :func:`crmmodels.pareto_analysis`.
    ax : matplotlib Axes, optional
        Where to draw.
    by_period : bool, default False
        Overlay the Lorenz curve of each period (analysis with ``period_col``), with
        each period's Gini in the legend, instead of the shaded overall curve.
    **kwargs
        Passed to ``ax.plot`` for the curve(s).

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    ValueError
        ``by_period=True`` on an analysis without ``period_col``.

    Examples
    --------
    >>> import numpy as np
    >>> from crmmodels.portfolio import pareto_analysis
    >>> ax = plot_lorenz(pareto_analysis(np.array([9.0, 5.0, 3.0, 2.0, 1.0])))
    >>> ax.get_title()
    'Lorenz curve (Gini = 0.380)'
    """
    if by_period:
        return _lorenz_by_period(result, ax=ax, **kwargs)
    ax = _axes(ax)
    n = result.n_customers
    idx = _thin(n, 2000)
    p = idx / n
    lorenz = 1.0 - result._curve[::-1][idx]
    kw: dict[str, Any] = {"color": "tab:blue", "label": "Lorenz curve"}
    kw.update(kwargs)
    ax.plot(p, lorenz, **kw)
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1, label="equality")
    ax.fill_between(p, lorenz, p, color="tab:blue", alpha=0.2, label="Gini area")
    ax.set_xlabel("share of customers (worst first)")
    ax.set_ylabel("cumulative share of value")
    ax.set_xlim(0, 1)
    ax.set_title(f"Lorenz curve (Gini = {result.gini:.3f})")
    ax.legend(loc="upper left")
    return ax


def _lorenz_by_period(result: ParetoResult, *, ax: Axes | None, **kwargs: Any) -> Axes:
    if result.trend is None or result.period_col is None:
        raise ArgumentError(
            "by_period=True needs an analysis with periods: call pareto_analysis(..., "
            "period_col=...) first."
        )
    ax = _axes(ax)
    import matplotlib as mpl

    curves = result._period_curves
    cmap = mpl.colormaps["viridis"]
    # curves exist for the periods with a positive total, in the order of the trend rows
    valid = result.trend[result.trend["gini"].notna()]
    for j, ((period, curve), gini) in enumerate(zip(curves, valid["gini"], strict=True)):
        n = len(curve) - 1
        idx = _thin(n, 500)
        name = str(period.date()) if callable(getattr(period, "date", None)) else str(period)
        color = cmap(j / max(len(curves) - 1, 1))
        label = f"{name} (Gini {gini:.3f})"
        ax.plot(idx / n, 1.0 - curve[::-1][idx], color=color, label=label, **kwargs)
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1, label="equality")
    ax.set_xlabel("share of customers (worst first)")
    ax.set_ylabel("cumulative share of value")
    ax.set_xlim(0, 1)
    ax.set_title(f"Lorenz curves by {result.period_col}")
    ax.legend(loc="upper left", fontsize=8)
    return ax


def plot_concentration_trend(
    result: ParetoResult, *, ax: Axes | None = None, **kwargs: Any
) -> Axes:
    """Gini coefficient and top share per period (needs ``period_col``).

    Parameters
    ----------
    result : ParetoResult
        Output of :func:`crmmodels.pareto_analysis` with ``period_col``.
    ax : matplotlib Axes, optional
        Where to draw.
    **kwargs
        Passed to ``ax.plot``.

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    ValueError
        If the analysis has no per-period trend.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmmodels.portfolio import pareto_analysis
    >>> df = pd.DataFrame({"c": [1, 2, 1, 2], "v": [3.0, 1.0, 2.0, 2.0], "p": [1, 1, 2, 2]})
    >>> r = pareto_analysis(df, amount_col="v", customer_col="c", period_col="p")
    >>> plot_concentration_trend(r).get_ylabel()
    'share'
    """
    if result.trend is None or result.period_col is None:
        raise ArgumentError(
            "this analysis has no trend: call pareto_analysis(..., period_col=...) first."
        )
    ax = _axes(ax)
    t = result.trend
    x = t[result.period_col]
    ax.plot(x, t["gini"], marker="o", label=f"Gini ({result.gini_form})", **kwargs)
    ax.plot(x, t["top_share"], marker="s", label=f"share of top {result.top:.0%}", **kwargs)
    ax.plot(
        x,
        t["customer_share_for_value"],
        marker="^",
        label=f"customers holding {result.value_share:.0%}",
        **kwargs,
    )
    ax.set_xlabel(result.period_col)
    ax.set_ylabel("share")
    ax.set_title("Concentration of customer value over time")
    ax.legend()
    return ax
