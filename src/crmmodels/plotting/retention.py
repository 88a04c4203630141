"""Plots of cohort retention and retention metrics: heatmap, retention curves, rates."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from crmmodels.plotting._common import new_axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from crmmodels.retention import (
        CohortRetentionResult,
        ContractualRetentionResult,
        RetentionMetricsResult,
    )

__all__ = [
    "plot_contractual_survival",
    "plot_retention_curves",
    "plot_retention_heatmap",
    "plot_retention_metrics",
]


_SIZE = (8.0, 5.0)  # default figure size (inches)


def plot_retention_heatmap(
    result: CohortRetentionResult,
    *,
    ax: Axes | None = None,
    recurring: bool = False,
    annotate: bool | None = None,
    max_periods: int | None = None,
    **kwargs: Any,
) -> Axes:
    """Heatmap of retention rates: cohorts as rows, periods since first purchase as columns.

    Period 0 holds every cohort's customers (a rate of 100 %), so it is drawn in grey
    with its rate written in the cells and left out of the colour scale: the colours
    span the rates of periods 1 onwards, where cohorts differ.

    Parameters
    ----------
    result : CohortRetentionResult
        Output of :func:`crmmodels.retention.cohort_retention`.
    ax : matplotlib Axes, optional
        Axes to draw on (a new figure when None).
    recurring : bool
        Plot the first-repeat cohorts instead of the first-purchase cohorts.
    annotate : bool, optional
        Write the rate in each cell (default: when the matrix has at most 15 x 15 cells).
    max_periods : int, optional
        Show only the first ``max_periods`` columns.
    **kwargs
        Passed to ``Axes.imshow`` (e.g. ``cmap``; ``vmin`` and ``vmax`` replace the
        colour range taken from periods 1 onwards).

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import pandas as pd
    >>> from crmmodels.retention import cohort_retention
    >>> tx = pd.DataFrame({
    ...     "customer_id": [1, 1, 2, 3],
    ...     "date": pd.to_datetime(["2024-01-05", "2024-02-01", "2024-01-20", "2024-02-10"]),
    ... })
    >>> ax = plot_retention_heatmap(cohort_retention(tx))
    >>> type(ax).__name__
    'Axes'
    >>> import matplotlib.pyplot as plt
    >>> plt.close(ax.figure)
    """
    ax = new_axes(ax, _SIZE)
    rates = result.repeat_rates if recurring else result.rates
    if max_periods is not None:
        rates = rates.iloc[:, :max_periods]
    values = rates.to_numpy(dtype=np.float64)
    is_start = np.asarray(rates.columns == 0)  # period 0: the whole cohort, 100 %
    later = values[:, ~is_start]
    informative = later[np.isfinite(later)]
    low, high = (
        (float(informative.min()), float(informative.max())) if informative.size else (0.0, 1.0)
    )
    kwargs.setdefault("vmin", low)
    kwargs.setdefault("vmax", high)
    cmap = _with_grey_for_missing(kwargs.pop("cmap", "viridis"))
    kwargs.setdefault("aspect", "auto")
    shown = np.ma.masked_invalid(values)
    shown[:, is_start] = np.ma.masked
    image = ax.imshow(shown, interpolation="nearest", cmap=cmap, **kwargs)
    ax.figure.colorbar(image, ax=ax, label="retention rate (periods 1 onwards)")
    n_rows, n_cols = values.shape
    labels = [str(c) for c in rates.index]
    step_r = max(1, n_rows // 20)
    step_c = max(1, n_cols // 20)
    ax.set_yticks(np.arange(0, n_rows, step_r), labels[::step_r])
    ax.set_xticks(np.arange(0, n_cols, step_c), [str(c) for c in rates.columns[::step_c]])
    if annotate is None:
        annotate = n_rows <= 15 and n_cols <= 15
    cells = np.isfinite(values)
    if not annotate:
        cells &= is_start[None, :]  # the grey period-0 cells always carry their rate
    c_low, c_high = image.get_clim()
    middle = 0.5 * (float(c_low) + float(c_high))
    for i, j in zip(*np.nonzero(cells), strict=True):
        v = values[i, j]
        dark = not is_start[j] and v < middle
        ax.text(j, i, f"{v:.0%}", ha="center", va="center", fontsize=7,
                color="white" if dark else "black")  # fmt: skip
    kind = "first repeat" if recurring else "first purchase"
    ax.set_xlabel(f"periods ({result.period}) since {kind}")
    ax.set_ylabel("cohort")
    ax.set_title(f"Cohort retention ({kind} cohorts)")
    return ax


def _with_grey_for_missing(cmap: Any) -> Any:
    """A copy of ``cmap`` (name or Colormap) that draws masked cells light grey."""
    import matplotlib

    base = matplotlib.colormaps[cmap] if isinstance(cmap, str) else cmap
    return base.with_extremes(bad="0.88")


def plot_retention_curves(
    result: CohortRetentionResult,
    *,
    ax: Axes | None = None,
    cohorts: int | None = 8,
    **kwargs: Any,
) -> Axes:
    """Retention curves: one line per cohort plus the pooled first-time and recurring curves.

    Parameters
    ----------
    result : CohortRetentionResult
        Output of :func:`crmmodels.retention.cohort_retention`.
    ax : matplotlib Axes, optional
        Axes to draw on.
    cohorts : int, optional
        Draw the curves of the first ``cohorts`` cohorts (None: all, 0: none).
    **kwargs
        Passed to ``Axes.plot`` for the pooled curves.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import pandas as pd
    >>> from crmmodels.retention import cohort_retention
    >>> tx = pd.DataFrame({
    ...     "customer_id": [1, 1, 2, 3],
    ...     "date": pd.to_datetime(["2024-01-05", "2024-02-01", "2024-01-20", "2024-02-10"]),
    ... })
    >>> ax = plot_retention_curves(cohort_retention(tx))
    >>> type(ax).__name__
    'Axes'
    >>> import matplotlib.pyplot as plt
    >>> plt.close(ax.figure)
    """
    ax = new_axes(ax, _SIZE)
    rates = result.rates if cohorts is None else result.rates.iloc[:cohorts]
    for label, row in rates.iterrows():  # a handful of cohorts
        ax.plot(row.index, row.to_numpy(), color="0.7", lw=0.8, alpha=0.8)
        del label
    pooled = result.first_vs_recurring
    ax.plot(pooled.index, pooled["first_time"], lw=2.2, label="first-time (pooled)", **kwargs)
    ax.plot(pooled.index, pooled["recurring"], lw=2.2, ls="--", label="recurring (pooled)",
            **kwargs)  # fmt: skip
    ax.set_ylim(0, 1.02)
    ax.set_xlabel(f"periods ({result.period}) since cohort start")
    ax.set_ylabel("share of cohort active")
    ax.set_title("Retention curves (grey: single cohorts)")
    ax.legend(loc="upper right")
    return ax


def plot_retention_metrics(
    result: RetentionMetricsResult, *, ax: Axes | None = None, **kwargs: Any
) -> Axes:
    """Retention and churn rate per period (lines) over active customers (bars, right axis).

    Returns
    -------
    matplotlib Axes
        The axes of the rates.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmmodels.retention import retention_metrics
    >>> tx = pd.DataFrame({
    ...     "customer_id": [1, 1, 2, 3],
    ...     "date": pd.to_datetime(["2024-01-05", "2024-02-01", "2024-01-20", "2024-02-10"]),
    ... })
    >>> ax = plot_retention_metrics(retention_metrics(tx))
    >>> type(ax).__name__
    'Axes'
    >>> import matplotlib.pyplot as plt
    >>> plt.close(ax.figure)
    """
    ax = new_axes(ax, (9.0, 4.5))
    tab = result.table
    x = np.arange(len(tab))
    twin = ax.twinx()
    twin.bar(x, tab["active"].to_numpy(), color="0.85", label="active customers")
    twin.set_ylabel("active customers")
    ax.set_zorder(twin.get_zorder() + 1)
    ax.patch.set_visible(False)
    ax.plot(x, tab["retention_rate"].to_numpy(), marker="o", ms=3, label="retention", **kwargs)
    ax.plot(x, tab["churn_rate"].to_numpy(), marker="o", ms=3, label="churn", **kwargs)
    ax.plot(x, tab["repeat_rate"].to_numpy(), ls=":", label="repeat rate", **kwargs)
    step = max(1, len(tab) // 12)
    ax.set_xticks(x[::step], [str(p) for p in tab.index[::step]], rotation=45, ha="right")
    ax.set_ylim(0, 1.02)
    ax.set_ylabel("rate")
    ax.set_title(f"Retention per period ({result.period})")
    ax.legend(loc="upper left")
    return ax


def plot_contractual_survival(
    result: ContractualRetentionResult,
    *,
    ax: Axes | None = None,
    cohorts: int | None = 8,
    **kwargs: Any,
) -> Axes:
    """Actual (dots) against projected (lines) survival of each cohort of a contractual model.

    The projected line is solid over the periods a cohort was fitted on and dashed
    beyond; a vertical dotted line marks the end of the fit data (the last period of the
    longest fitted cohort). Periods observed but held out of the fit are drawn as open
    dots.

    Parameters
    ----------
    result : ContractualRetentionResult
        Output of ``ShiftedBetaGeometric.project`` or ``BetaDiscreteWeibull.project``.
    ax : matplotlib Axes, optional
        Axes to draw on (a new figure when None).
    cohorts : int, optional
        Draw the first ``cohorts`` cohorts (None: all).
    **kwargs
        Passed to ``Axes.plot`` for the projected lines.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> from crmmodels.retention import ShiftedBetaGeometric
    >>> m = ShiftedBetaGeometric().fit({"2023": [1000, 631, 468], "2024": [900, 560]})
    >>> ax = plot_contractual_survival(m.project(6))
    >>> len(ax.get_lines()) >= 4
    True
    >>> import matplotlib.pyplot as plt
    >>> plt.close(ax.figure)
    """
    ax = new_axes(ax, _SIZE)
    tab = result.table
    labels = list(dict.fromkeys(tab["cohort"]))
    if cohorts is not None:
        labels = labels[:cohorts]
    colours = [f"C{i % 10}" for i in range(len(labels))]
    for label, colour in zip(labels, colours, strict=True):  # a handful of cohorts
        rows = tab[tab["cohort"] == label]
        x = rows["period"].to_numpy()
        fitted = rows["fitted"].to_numpy(dtype=bool)
        proj = rows["projected_survival"].to_numpy()
        actual = rows["actual_survival"].to_numpy()
        last = int(x[fitted].max()) if fitted.any() else 0
        ax.plot(x[x <= last], proj[x <= last], color=colour, lw=1.8, **kwargs)
        ax.plot(x[x >= last], proj[x >= last], color=colour, lw=1.8, ls="--", **kwargs)
        ax.plot(x[fitted], actual[fitted], "o", color=colour, ms=4, label=str(label))
        held = ~fitted & np.isfinite(actual)
        if held.any():
            ax.plot(x[held], actual[held], "o", mfc="none", color=colour, ms=5)
    ax.axvline(result.fit_end, color="0.4", ls=":", lw=1.2)
    ax.text(result.fit_end, 1.0, " end of fit data", va="top", ha="left", fontsize=8,
            color="0.3")  # fmt: skip
    ax.set_ylim(0, 1.05)
    ax.set_xlabel(f"{result.time_unit} since the cohort started")
    ax.set_ylabel("share of the cohort still subscribed")
    ax.set_title(f"Actual (dots) and projected (lines) survival, {result.model}")
    if len(labels) > 1:
        ax.legend(title="cohort", loc="upper right", fontsize=8)
    return ax
