"""Plot of the KPI scorecard: small multiples, one panel per KPI, one line per segment."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from crmmodels.scorecard import ScorecardResult

__all__ = ["plot_scorecard"]

_DEFAULT = (
    "revenue",
    "revenue_growth",
    "active_customers",
    "new_customers",
    "retention",
    "average_order_value",
    "satisfaction",
    "interactions_per_customer",
    "engaged_share",
)


def plot_scorecard(
    result: ScorecardResult,
    *,
    ax: Axes | None = None,
    kpis: Sequence[str] | None = None,
    ncols: int = 3,
    **kwargs: Any,
) -> Axes:
    """Small-multiples chart of the KPIs over the periods, one line per segment.

    Parameters
    ----------
    result : ScorecardResult
        Output of :func:`crmmodels.kpi_scorecard`.
    ax : matplotlib Axes, optional
        When given, only the first KPI of ``kpis`` is drawn on it; otherwise a new figure
        holds one panel per KPI.
    kpis : sequence of str, optional
        KPIs to draw (default: the main KPIs present).
    ncols : int
        Panels per row.
    **kwargs
        Passed to every ``ax.plot``.

    Returns
    -------
    matplotlib.axes.Axes
        The first panel (``ax.figure`` holds them all).

    Examples
    --------
    >>> import pandas as pd
    >>> from crmmodels.scorecard import kpi_scorecard
    >>> tx = pd.DataFrame({"customer_id": [1, 2, 1], "amount": [1.0, 2.0, 3.0],
    ...                    "date": pd.to_datetime(["2024-01-02", "2024-02-03", "2024-03-04"])})
    >>> plot_scorecard(kpi_scorecard(tx)).get_title()
    'revenue'
    """
    names = list(kpis) if kpis is not None else [k for k in _DEFAULT if k in result.kpi_names]
    unknown = [k for k in names if k not in result.kpis.columns]
    if unknown or not names:
        from crmmodels.errors import DataError

        raise DataError(f"unknown KPIs {unknown}; available: {list(result.kpi_names)}.")
    import matplotlib.pyplot as plt

    fig = None
    if ax is not None:
        axes = [ax]
        names = names[:1]
    else:
        ncols = max(1, min(int(ncols), len(names)))
        nrows = int(np.ceil(len(names) / ncols))
        fig, grid = plt.subplots(
            nrows, ncols, figsize=(3.6 * ncols, 2.6 * nrows), squeeze=False, sharex=True
        )
        axes = list(grid.ravel())
        for extra in axes[len(names) :]:
            extra.set_visible(False)
    data = result.kpis
    x_all = data["period"].dt.start_time
    segments = list(data.groupby(list(result.by), sort=True)) if result.by else [(("all",), data)]
    for name, panel in zip(names, axes, strict=False):
        for label, sub in segments:
            text = " / ".join(str(v) for v in (label if isinstance(label, tuple) else (label,)))
            panel.plot(x_all.loc[sub.index], sub[name], marker=".", label=text, **kwargs)
        panel.set_title(name)
        panel.grid(alpha=0.3)
        panel.tick_params(axis="x", labelrotation=45, labelsize="small")
    if len(segments) > 1:
        axes[0].legend(fontsize="x-small")
    if fig is not None:
        fig.tight_layout()
    return axes[0]
