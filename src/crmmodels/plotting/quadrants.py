"""Plot of the CLV quadrants: current vs potential value scatter."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from crmmodels.quadrants import QuadrantResult

__all__ = ["plot_quadrants"]

_COLORS = {
    "vip": "tab:green",
    "improve": "tab:blue",
    "maintain": "tab:orange",
    "abandon": "tab:grey",
}
# label position (axes fraction) and alignment per group
_CORNERS = {
    "vip": (0.98, 0.98, "right", "top"),
    "improve": (0.02, 0.98, "left", "top"),
    "maintain": (0.98, 0.02, "right", "bottom"),
    "abandon": (0.02, 0.02, "left", "bottom"),
}


def _set_scale(ax: Axes, axis: str, x: npt.NDArray[np.float64], threshold: float) -> str:
    """Log scale when every value (and the threshold) is positive, else symlog."""
    setter = ax.set_xscale if axis == "x" else ax.set_yscale
    if len(x) and float(x.min()) > 0 and threshold > 0:
        setter("log")
        # keep a few extreme small values from stretching the axis over many decades
        low = min(float(np.quantile(x, 0.005)), threshold) / 2.0
        high = float(x.max()) * 2.0
        (ax.set_xlim if axis == "x" else ax.set_ylim)(low, high)
        return "log"
    nonzero = np.abs(x[x != 0])
    linthresh = float(np.quantile(nonzero, 0.05)) if len(nonzero) else 1.0
    setter("symlog", linthresh=max(linthresh, 1e-12))
    return "symlog"


def plot_quadrants(
    result: QuadrantResult,
    *,
    ax: Axes | None = None,
    max_points: int = 20_000,
    seed: int = 0,
    **kwargs: Any,
) -> Axes:
    """Scatter of current (x) vs potential (y) value, coloured by quadrant.

    Axes are log-scaled, or symmetric-log when there are zero or negative values (a
    log axis starts at half the 0.5% quantile, so a few tiny values do not stretch it
    over many decades; they fall below the view). The dashed lines are the thresholds;
    each corner shows its group name and count. With more than ``max_points`` customers
    a random subset (fixed ``seed``) is drawn; the counts are always of all customers.

    Parameters
    ----------
    result : QuadrantResult
        Output of :func:`crmmodels.clv_quadrants`.
    ax : matplotlib Axes, optional
        Where to draw (a new figure when None).
    max_points : int, default 20000
        Largest number of points drawn.
    seed : int, default 0
        Seed of the subsample.
    **kwargs
        Passed to ``ax.scatter``.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import pandas as pd
    >>> from crmmodels.quadrants import clv_quadrants
    >>> df = pd.DataFrame({"customer_id": [1, 2, 3, 4],
    ...                    "current_value": [100.0, 10.0, 80.0, 0.0],
    ...                    "potential_value": [500.0, 400.0, 20.0, 10.0]})
    >>> ax = plot_quadrants(clv_quadrants(df))
    >>> ax.get_xscale(), ax.get_yscale()
    ('symlog', 'log')
    >>> import matplotlib.pyplot as plt
    >>> plt.close(ax.figure)
    """
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(7, 5.5))
    cur, pot, codes = result._current, result._potential, result._codes
    n = len(codes)
    idx = np.arange(n)
    if n > max_points:
        idx = np.sort(np.random.default_rng(seed).choice(n, size=max_points, replace=False))
    kw: dict[str, Any] = {"s": 8, "alpha": 0.5, "linewidths": 0}
    kw.update(kwargs)
    counts = (result.n_vip, result.n_improve, result.n_maintain, result.n_abandon)
    for code, name in enumerate(("vip", "improve", "maintain", "abandon")):
        sel = idx[codes[idx] == code]
        ax.scatter(cur[sel], pot[sel], color=_COLORS[name], label=name, **kw)
        x, y, ha, va = _CORNERS[name]
        ax.text(
            x,
            y,
            f"{name}\nn = {counts[code]:,}",
            transform=ax.transAxes,
            ha=ha,
            va=va,
            fontsize=10,
            fontweight="bold",
            color=_COLORS[name],
            bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "none"},
        )
    _set_scale(ax, "x", cur, result.current_threshold)
    _set_scale(ax, "y", pot, result.potential_threshold)
    ax.axvline(result.current_threshold, color="black", linestyle="--", linewidth=1)
    ax.axhline(result.potential_threshold, color="black", linestyle="--", linewidth=1)
    ax.set_xlabel(f"current value ({result.current_col}; threshold {result.current_rule})")
    ax.set_ylabel(f"potential value ({result.potential_col}; threshold {result.potential_rule})")
    ax.set_title("CLV quadrants")
    return ax
