"""Plots of customer lifecycle stages: stage counts, stage mix over time, transitions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from crmmodels.plotting._common import new_axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from crmmodels.lifecycle import LifecycleStagesResult, LifecycleTransitionsResult

__all__ = ["plot_stage_counts", "plot_stage_mix", "plot_transition_heatmap"]


_SIZE = (8.0, 4.5)  # default figure size (inches)


def plot_stage_counts(
    result: LifecycleStagesResult, *, ax: Axes | None = None, **kwargs: Any
) -> Axes:
    """Horizontal bars: customers per stage at the snapshot date.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import pandas as pd
    >>> from crmmodels.lifecycle import lifecycle_stages
    >>> tx = pd.DataFrame({
    ...     "customer_id": [1, 2, 2, 3],
    ...     "date": pd.to_datetime(["2024-03-01", "2024-01-05", "2024-03-10", "2022-06-01"]),
    ... })
    >>> ax = plot_stage_counts(lifecycle_stages(tx, observation_end="2024-03-31"))
    >>> type(ax).__name__
    'Axes'
    >>> import matplotlib.pyplot as plt
    >>> plt.close(ax.figure)
    """
    ax = new_axes(ax, (7.0, 3.5))
    counts = result.summary["customers"]
    y = np.arange(len(counts))
    ax.barh(y, counts.to_numpy(), **kwargs)
    ax.set_yticks(y, [str(s) for s in counts.index])
    ax.invert_yaxis()
    for i, v in enumerate(counts.to_numpy()):  # a handful of stages
        ax.text(v, i, f" {v:,}", va="center", fontsize=8)
    ax.set_xlabel("customers")
    ax.set_title(f"Lifecycle stages ({result.scheme} scheme) at {result.observation_end}")
    return ax


def plot_stage_mix(
    result: LifecycleTransitionsResult,
    *,
    ax: Axes | None = None,
    share: bool = True,
    include_not_yet: bool = False,
    **kwargs: Any,
) -> Axes:
    """Stacked bars of the stage mix at each snapshot (stages nobody is in are left out).

    Parameters
    ----------
    result : LifecycleTransitionsResult
        Output of :func:`crmmodels.lifecycle.lifecycle_transitions`.
    ax : matplotlib Axes, optional
        Axes to draw on.
    share : bool
        Shares of the customers at each snapshot (True) or counts.
    include_not_yet : bool
        Also stack the customers who are not yet customers.
    **kwargs
        Passed to ``Axes.bar``.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import pandas as pd
    >>> from crmmodels.lifecycle import lifecycle_transitions
    >>> tx = pd.DataFrame({
    ...     "customer_id": [1, 2, 2, 3],
    ...     "date": pd.to_datetime(["2024-03-01", "2024-01-05", "2024-03-10", "2022-06-01"]),
    ... })
    >>> moves = lifecycle_transitions(tx, snapshots=["2024-01-31", "2024-03-31"])
    >>> ax = plot_stage_mix(moves)
    >>> type(ax).__name__
    'Axes'
    >>> import matplotlib.pyplot as plt
    >>> plt.close(ax.figure)
    """
    ax = new_axes(ax, _SIZE)
    counts = result.stage_counts
    if not include_not_yet:
        counts = counts.drop(columns="not_yet_customer")
    counts = counts.loc[:, counts.to_numpy().sum(axis=0) > 0]
    values = counts.to_numpy(dtype=np.float64)
    if share:
        tot = values.sum(axis=1, keepdims=True)
        values = np.divide(values, tot, out=np.zeros_like(values), where=tot > 0)
    x = np.arange(len(counts))
    bottom = np.zeros(len(counts))
    kwargs.setdefault("width", 0.85)
    for j, stage in enumerate(counts.columns):  # a handful of stages
        ax.bar(x, values[:, j], bottom=bottom, label=str(stage), **kwargs)
        bottom += values[:, j]
    step = max(1, len(x) // 12)
    ax.set_xticks(x[::step], [str(s) for s in counts.index[::step]], rotation=45, ha="right")
    ax.set_ylabel("share of customers" if share else "customers")
    ax.set_title(f"Lifecycle stage mix over time ({result.scheme} scheme)")
    ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8)
    return ax


def plot_transition_heatmap(
    result: LifecycleTransitionsResult,
    *,
    ax: Axes | None = None,
    pair: int | None = None,
    **kwargs: Any,
) -> Axes:
    """Heatmap of row-normalised transition rates (annotated with rate and count).

    Stages that nobody moves from (rows) or into (columns), such as ``prospect`` in a
    purchase log, are left out.

    Parameters
    ----------
    result : LifecycleTransitionsResult
        Output of :func:`crmmodels.lifecycle.lifecycle_transitions`.
    ax : matplotlib Axes, optional
        Axes to draw on.
    pair : int, optional
        One consecutive snapshot pair; None pools all pairs.
    **kwargs
        Passed to ``Axes.imshow``.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import pandas as pd
    >>> from crmmodels.lifecycle import lifecycle_transitions
    >>> tx = pd.DataFrame({
    ...     "customer_id": [1, 2, 2, 3],
    ...     "date": pd.to_datetime(["2024-03-01", "2024-01-05", "2024-03-10", "2022-06-01"]),
    ... })
    >>> moves = lifecycle_transitions(tx, snapshots=["2024-01-31", "2024-03-31"])
    >>> ax = plot_transition_heatmap(moves)
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['first_time', 'churned', 'not_yet_customer']
    >>> import matplotlib.pyplot as plt
    >>> plt.close(ax.figure)
    """
    ax = new_axes(ax, (7.0, 6.0))
    counts = result.matrix(pair)
    raw = counts.to_numpy(dtype=np.float64)
    moved = np.nan_to_num(raw)
    keep_rows = moved.sum(axis=1) > 0
    keep_cols = moved.sum(axis=0) > 0
    counts = counts.loc[keep_rows, keep_cols]
    rates = result.matrix(pair, normalize=True).loc[keep_rows, keep_cols]
    values = rates.to_numpy(dtype=np.float64)
    kwargs.setdefault("cmap", "Blues")
    kwargs.setdefault("vmin", 0.0)
    kwargs.setdefault("vmax", 1.0)
    image = ax.imshow(np.ma.masked_invalid(values), **kwargs)
    ax.figure.colorbar(image, ax=ax, label="transition rate (row-normalised)")
    ax.set_xticks(
        np.arange(rates.shape[1]), [str(c) for c in rates.columns], rotation=45, ha="right"
    )
    ax.set_yticks(np.arange(rates.shape[0]), [str(c) for c in rates.index])
    raw = counts.to_numpy(dtype=np.float64)
    for i, j in zip(*np.nonzero(np.isfinite(values)), strict=True):
        v = values[i, j]
        ax.text(j, i, f"{v:.0%}\n({int(raw[i, j]):,})", ha="center", va="center", fontsize=7,
                color="white" if v > 0.5 else "black")  # fmt: skip
    ax.set_xlabel("stage at next snapshot")
    ax.set_ylabel("stage at snapshot")
    which = (
        "all pairs" if pair is None else f"{result.snapshots[pair]} -> {result.snapshots[pair + 1]}"
    )
    ax.set_title(f"Lifecycle transitions ({which})")
    return ax
