"""Plots of customer lifecycle stages: stage counts, stage mix over time, transitions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from crmmodels.plotting._common import new_axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from crmmodels.lifecycle import (
        ChurnComparisonResult,
        LifecycleStagesResult,
        LifecycleTransitionsResult,
        WinBackTargetsResult,
    )

__all__ = [
    "plot_churn_rates",
    "plot_stage_counts",
    "plot_stage_mix",
    "plot_transition_heatmap",
    "plot_win_back_value",
]


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


def plot_churn_rates(
    result: ChurnComparisonResult,
    *,
    ax: Axes | None = None,
    attribute: str | None = None,
    **kwargs: Any,
) -> Axes:
    """Churn rate of each level with its interval; the dashed line is the overall rate.

    Parameters
    ----------
    result : ChurnComparisonResult
        Output of :func:`crmmodels.lifecycle.churn_comparison`.
    ax : matplotlib Axes, optional
        Axes to draw on.
    attribute : str, optional
        Draw one attribute only; None draws them all, one block each.
    **kwargs
        Passed to ``Axes.errorbar``.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import pandas as pd
    >>> from crmmodels.lifecycle import churn_comparison
    >>> customers = pd.DataFrame({
    ...     "customer_id": range(6),
    ...     "channel": ["web", "web", "web", "shop", "shop", "shop"],
    ...     "churned": [True, True, False, False, False, True],
    ... })
    >>> res = churn_comparison(customers, attributes="channel", churned_col="churned")
    >>> ax = plot_churn_rates(res)
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['channel: shop', 'channel: web']
    >>> import matplotlib.pyplot as plt
    >>> plt.close(ax.figure)
    """
    table = result.table
    if attribute is not None:
        known = list(dict.fromkeys(table["attribute"]))
        if attribute not in known:
            from crmmodels.errors import ArgumentError

            raise ArgumentError(f"attribute must be one of {known}; got {attribute!r}.")
        table = table[table["attribute"] == attribute]
    ax = new_axes(ax, (8.0, max(2.5, 0.35 * len(table) + 1.2)))
    rate = table["churn_rate"].to_numpy(dtype=np.float64)
    err = np.vstack(
        [
            rate - table["churn_rate_low"].to_numpy(dtype=np.float64),
            table["churn_rate_high"].to_numpy(dtype=np.float64) - rate,
        ]
    )
    y = np.arange(len(table))
    kwargs.setdefault("fmt", "o")
    kwargs.setdefault("capsize", 3)
    ax.errorbar(rate, y, xerr=err, **kwargs)
    ax.axvline(result.churn_rate, color="grey", linestyle="--", linewidth=1)
    labels = [f"{a}: {lv}" for a, lv in zip(table["attribute"], table["level"], strict=True)]
    ax.set_yticks(y, labels)
    ax.invert_yaxis()
    ax.set_xlim(0.0, 1.0)
    ax.set_xlabel(f"churn rate ({result.level:.0%} interval); dashed: overall")
    ax.set_title(f"Churn rate by attribute (churned: {result.rule})")
    return ax


def plot_win_back_value(
    result: WinBackTargetsResult,
    *,
    ax: Axes | None = None,
    kind: str = "cumulative",
    **kwargs: Any,
) -> Axes:
    """Cumulative expected value down the ranked list, or its distribution.

    Parameters
    ----------
    result : WinBackTargetsResult
        Output of :func:`crmmodels.lifecycle.win_back_targets`.
    ax : matplotlib Axes, optional
        Axes to draw on.
    kind : {"cumulative", "distribution"}
        ``"cumulative"``: the share of the list's total expected value reached by the
        first k targets (a gain curve); ``"distribution"``: a histogram of the expected
        value per target.
    **kwargs
        Passed to ``Axes.plot`` or ``Axes.hist``.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import pandas as pd
    >>> from crmmodels.lifecycle import win_back_targets
    >>> customers = pd.DataFrame({
    ...     "customer_id": [1, 2, 3], "frequency": [2, 0, 4], "recency": [10.0, 0.0, 20.0],
    ...     "total_value": [90.0, 20.0, 200.0], "p_alive": [0.2, 0.1, 0.4],
    ... })
    >>> ax = plot_win_back_value(win_back_targets(customers))
    >>> ax.get_xlabel()
    'targets, best first'
    >>> import matplotlib.pyplot as plt
    >>> plt.close(ax.figure)
    """
    from crmmodels._ingest.arguments import check_choice

    check_choice(kind, "kind", ["cumulative", "distribution"])
    ax = new_axes(ax, (7.0, 4.0))
    value = result.targets["expected_value"].to_numpy(dtype=np.float64)
    if kind == "distribution":
        kwargs.setdefault("bins", 30)
        ax.hist(value, **kwargs)
        ax.set_xlabel("expected value of a win-back")
        ax.set_ylabel("targets")
        ax.set_title(f"Expected value per target ({len(value):,} targets)")
        return ax
    total = value.sum()
    share = np.cumsum(value) / total if total > 0 else np.zeros_like(value)
    x = np.arange(1, len(value) + 1)
    ax.plot(np.concatenate([[0], x]), np.concatenate([[0.0], share]), **kwargs)
    ax.set_xlabel("targets, best first")
    ax.set_ylabel("share of total expected value")
    ax.set_ylim(0.0, 1.05)
    ax.set_title(f"Cumulative expected value of the win-back list (total {total:,.0f})")
    return ax
