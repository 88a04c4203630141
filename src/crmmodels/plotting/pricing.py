"""Plots of price sensitivity: the Van Westendorp chart and fitted demand curves."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from crmmodels.plotting._common import new_axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from crmmodels.pricing import ElasticityResult, VanWestendorpResult

__all__ = ["plot_demand_curves", "plot_van_westendorp"]


_SIZE = (7.5, 4.5)  # default figure size (inches)


def plot_van_westendorp(
    result: VanWestendorpResult, *, ax: Axes | None = None, **kwargs: Any
) -> Axes:
    """Van Westendorp chart: the six curves, the four price points and the acceptable range.

    Parameters
    ----------
    result : VanWestendorpResult
        Output of :func:`crmmodels.van_westendorp`.
    ax : matplotlib Axes, optional
        Where to draw.
    **kwargs
        Passed to every curve's ``ax.plot``.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from crmmodels.pricing import van_westendorp
    >>> res = van_westendorp([1, 2, 3], [3, 4, 5], [5, 6, 7], [7, 8, 9])
    >>> plot_van_westendorp(res).get_xlabel()
    'price'
    """
    ax = new_axes(ax, _SIZE)
    c = result.curves
    styles = {
        "too_cheap": ("tab:red", "-"),
        "not_cheap": ("tab:red", ":"),
        "cheap": ("tab:orange", "-"),
        "expensive": ("tab:blue", "-"),
        "not_expensive": ("tab:green", ":"),
        "too_expensive": ("tab:purple", "-"),
    }
    step = "linear" if result.interpolated else "steps-post"
    for name, (color, ls) in styles.items():
        kw: dict[str, Any] = {"color": color, "linestyle": ls, "label": name.replace("_", " ")}
        kw.update(kwargs)
        ax.plot(c["price"], c[name], drawstyle="default" if step == "linear" else step, **kw)
    lo, hi = result.acceptable_range
    if np.isfinite(lo) and np.isfinite(hi):
        ax.axvspan(lo, hi, color="grey", alpha=0.12, label="acceptable range")
    points = {
        "PMC": result.lower_bound,
        "OPP": result.optimal_price,
        "IDP": result.indifference_price,
        "PME": result.upper_bound,
    }
    for i, (label, value) in enumerate(points.items()):
        if np.isfinite(value):
            ax.axvline(value, color="k", lw=0.8, ls="--")
            ax.annotate(
                f"{label}\n{value:.2f}",
                (value, 1.0 - 0.12 * (i % 2)),
                xytext=(3, -2),
                textcoords="offset points",
                va="top",
                fontsize="small",
            )
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("price")
    ax.set_ylabel("share of respondents")
    ax.set_title(f"Van Westendorp price sensitivity meter (n = {result.n_used})")
    ax.legend(loc="center right", fontsize="small")
    return ax


def plot_demand_curves(
    elasticities: ElasticityResult | pd.DataFrame,
    *,
    data: pd.DataFrame | None = None,
    price_col: str | None = None,
    quantity_col: str | None = None,
    group_col: str | Sequence[str] | None = None,
    ax: Axes | None = None,
    max_points: int = 2000,
    **kwargs: Any,
) -> Axes:
    """Fitted constant-elasticity demand curves (log-log axes), optionally over the data.

    Parameters
    ----------
    elasticities : ElasticityResult or pandas.DataFrame
        Output of :func:`crmmodels.price_elasticity` (or its ``to_frame()``).
    data : pandas.DataFrame, optional
        The transactions, drawn as points (at most ``max_points`` per group, a regular
        subsample).
    price_col, quantity_col : str, optional
        Columns of ``data``; default: those of the result, or ``"price"`` and
        ``"quantity"`` for a frame.
    group_col : str or list of str, optional
        The group column(s) of ``elasticities`` (one curve per group); default: those
        of the result, or none for a frame.
    ax : matplotlib Axes, optional
        Where to draw.
    max_points : int
        Largest number of points drawn per group.
    **kwargs
        Passed to each curve's ``ax.plot``.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import pandas as pd
    >>> from crmmodels.pricing import price_elasticity
    >>> tx = pd.DataFrame({"price": [1.0, 2.0, 4.0], "quantity": [16.0, 4.5, 1.0]})
    >>> plot_demand_curves(price_elasticity(tx), data=tx).get_xscale()
    'log'
    """
    if isinstance(elasticities, pd.DataFrame):
        table = elasticities
        price_col = price_col or "price"
        quantity_col = quantity_col or "quantity"
    else:
        table = elasticities.elasticities
        price_col = price_col or elasticities.price_col
        quantity_col = quantity_col or elasticities.quantity_col
        group_col = elasticities.group_col if group_col is None else group_col
    groups = [group_col] if isinstance(group_col, str) else list(group_col or [])
    ax = new_axes(ax, _SIZE)
    import matplotlib.pyplot as plt

    colors = plt.rcParams["axes.prop_cycle"].by_key().get("color", ["C0"])
    for i, (_, row) in enumerate(table.iterrows()):  # one curve per group (a handful)
        color = colors[i % len(colors)]
        label = ", ".join(str(row[g]) for g in groups) if groups else "all"
        if data is not None:
            sub = data
            for g in groups:
                sub = sub[sub[g] == row[g]]
            if len(sub) > max_points:
                sub = sub.iloc[np.linspace(0, len(sub) - 1, max_points).astype(int)]
            ax.scatter(sub[price_col], sub[quantity_col], s=6, alpha=0.25, color=color)
        if not np.isfinite(row["elasticity"]):
            continue
        p = np.geomspace(row["price_min"], row["price_max"], 50)
        q = np.exp(row["intercept"]) * p ** row["elasticity"]
        kw: dict[str, Any] = {
            "color": color,
            "lw": 2,
            "label": f"{label}: e = {row['elasticity']:.2f}",
        }
        kw.update(kwargs)
        ax.plot(p, q, **kw)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(price_col)
    ax.set_ylabel(quantity_col)
    ax.set_title("Demand curves: log q = a + e log p")
    ax.legend(fontsize="small")
    return ax
