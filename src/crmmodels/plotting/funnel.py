"""Plots of the sales funnel: funnel chart, time in stage, forecast, backtest, velocity."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from crmmodels.plotting._common import new_axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from crmmodels.funnel import (
        ForecastBacktestResult,
        FunnelResult,
        LeadScoresResult,
        PipelineForecastResult,
        SalesVelocityResult,
        StreamFunnelResult,
    )

__all__ = [
    "plot_backtest",
    "plot_forecast",
    "plot_funnel",
    "plot_lead_calibration",
    "plot_lead_effects",
    "plot_lead_gains",
    "plot_stage_times",
    "plot_stream_funnel",
    "plot_velocity",
]


_SIZE = (7.0, 4.5)  # default figure size (inches)


def plot_funnel(result: FunnelResult, *, ax: Axes | None = None, **kwargs: Any) -> Axes:
    """Funnel chart: one centred bar per stage, width = entities that entered it.

    Each bar is labelled with the count and the share of first-stage entries; the
    stage-to-stage conversion is written between bars. The bottleneck stage is drawn in
    a second colour. Extra keyword arguments go to ``Axes.barh``.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmmodels.funnel import funnel_metrics
    >>> log = pd.DataFrame({
    ...     "entity_id": [1, 1, 2, 2, 3],
    ...     "stage": ["lead_generation", "closed_won", "lead_generation", "closed_lost",
    ...               "lead_generation"],
    ...     "entered_at": [0.0, 10.0, 0.0, 4.0, 6.0],
    ...     "amount": [100.0, 120.0, 50.0, 50.0, 80.0],
    ... })
    >>> res = funnel_metrics(log, stages=["lead_generation", "closed_won"], amount_col="amount")
    >>> ax = plot_funnel(res)
    >>> type(ax).__name__
    'Axes'
    >>> import matplotlib.pyplot as plt
    >>> plt.close(ax.figure)
    """
    ax = new_axes(ax, _SIZE)
    t = result.table
    entered = t["entered"].to_numpy(dtype=np.float64)
    y = np.arange(len(t))[::-1]
    colors = ["C3" if b else "C0" for b in t["bottleneck"]]
    kwargs.setdefault("height", 0.7)
    ax.barh(y, entered, left=-entered / 2.0, color=colors, **kwargs)
    cums = t["cumulative_conversion"].to_numpy(dtype=np.float64)
    convs = t["conversion"].to_numpy(dtype=np.float64)
    width = float(entered.max()) if entered.size and entered.max() > 0 else 1.0
    for yi, n, cum, conv in zip(y, entered, cums, convs, strict=True):
        share = f" ({cum:.0%} of top)" if np.isfinite(cum) else ""
        ax.text(n / 2.0 + 0.02 * width, yi, f"{int(n):,}{share}", ha="left", va="center")
        if np.isfinite(conv):
            ax.text(0, yi - 0.5, f"↓ {conv:.1%}", ha="center", va="center", fontsize=8)
    ax.set_yticks(y)
    ax.set_yticklabels(t["stage"].tolist())
    ax.set_xlim(-0.55 * width, 1.1 * width)
    ax.set_xticks([])
    ax.set_title(f"Funnel (mode '{result.mode}'), bottleneck: {result.bottleneck}")
    return ax


def plot_stage_times(result: FunnelResult, *, ax: Axes | None = None, **kwargs: Any) -> Axes:
    """Box plots of finished time in stage (days), one per stage but the last.

    Open stays are not included; their median is marked with a cross. Extra keyword
    arguments go to ``Axes.boxplot``.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmmodels.funnel import funnel_metrics
    >>> log = pd.DataFrame({
    ...     "entity_id": [1, 1, 2, 2, 3],
    ...     "stage": ["lead_generation", "closed_won", "lead_generation", "closed_lost",
    ...               "lead_generation"],
    ...     "entered_at": [0.0, 10.0, 0.0, 4.0, 6.0],
    ...     "amount": [100.0, 120.0, 50.0, 50.0, 80.0],
    ... })
    >>> res = funnel_metrics(log, stages=["lead_generation", "closed_won"], amount_col="amount")
    >>> ax = plot_stage_times(res)
    >>> type(ax).__name__
    'Axes'
    >>> import matplotlib.pyplot as plt
    >>> plt.close(ax.figure)
    """
    ax = new_axes(ax, _SIZE)
    stages = list(result.stages[:-1])
    data = [result.stage_durations(s) for s in stages]
    data = [d if d.size else np.array([np.nan]) for d in data]
    kwargs.setdefault("showfliers", False)
    pos = np.arange(1, len(stages) + 1)
    ax.boxplot(data, positions=pos, **kwargs)
    open_med = result.table["open_time_median"].to_numpy()[:-1]
    ok = np.isfinite(open_med)
    if ok.any():
        ax.plot(pos[ok], open_med[ok], "x", color="C3", label="open stays (median so far)")
        ax.legend(loc="upper left", fontsize=8)
    ax.set_xticks(pos)
    ax.set_xticklabels(stages)
    ax.set_ylabel("days in stage (finished stays)")
    ax.set_title("Time in stage")
    return ax


def plot_forecast(result: PipelineForecastResult, *, ax: Axes | None = None, **kwargs: Any) -> Axes:
    """Open and probability-weighted pipeline per stage (amounts, or deals without them).

    Examples
    --------
    >>> import pandas as pd
    >>> from crmmodels.funnel import funnel_metrics, pipeline_forecast
    >>> log = pd.DataFrame({
    ...     "entity_id": [1, 1, 2, 2, 3],
    ...     "stage": ["lead_generation", "closed_won", "lead_generation", "closed_lost",
    ...               "lead_generation"],
    ...     "entered_at": [0.0, 10.0, 0.0, 4.0, 6.0],
    ...     "amount": [100.0, 120.0, 50.0, 50.0, 80.0],
    ... })
    >>> res = funnel_metrics(log, stages=["lead_generation", "closed_won"], amount_col="amount")
    >>> ax = plot_forecast(pipeline_forecast(res))
    >>> type(ax).__name__
    'Axes'
    >>> import matplotlib.pyplot as plt
    >>> plt.close(ax.figure)
    """
    ax = new_axes(ax, _SIZE)
    t = result.table
    use_amt = bool(np.isfinite(result.open_amount))
    total = t["open_amount"] if use_amt else t["open"]
    weighted = t["weighted_amount"] if use_amt else t["expected_wins"]
    x = np.arange(len(t))
    ax.bar(x - 0.2, total, width=0.4, label="open", **kwargs)
    ax.bar(x + 0.2, weighted, width=0.4, label="weighted by win rate")
    ax.set_xticks(x)
    ax.set_xticklabels(t["stage"].tolist())
    ax.set_ylabel("amount" if use_amt else "deals")
    ax.set_title("Weighted pipeline forecast")
    ax.legend()
    return ax


def plot_backtest(result: ForecastBacktestResult, *, ax: Axes | None = None, **kwargs: Any) -> Axes:
    """Predicted against actual wins per stage (stage at the cut date).

    Examples
    --------
    >>> import pandas as pd
    >>> from crmmodels.funnel import forecast_backtest, funnel_metrics
    >>> log = pd.DataFrame({
    ...     "entity_id": [1, 1, 2, 2, 3],
    ...     "stage": ["lead_generation", "closed_won", "lead_generation", "closed_lost",
    ...               "lead_generation"],
    ...     "entered_at": [0.0, 10.0, 0.0, 4.0, 6.0],
    ...     "amount": [100.0, 120.0, 50.0, 50.0, 80.0],
    ... })
    >>> res = funnel_metrics(log, stages=["lead_generation", "closed_won"], amount_col="amount")
    >>> ax = plot_backtest(forecast_backtest(res, 5.0))
    >>> type(ax).__name__
    'Axes'
    >>> import matplotlib.pyplot as plt
    >>> plt.close(ax.figure)
    """
    ax = new_axes(ax, _SIZE)
    t = result.table
    x = np.arange(len(t))
    ax.bar(x - 0.2, t["predicted_wins"], width=0.4, label="predicted", **kwargs)
    ax.bar(x + 0.2, t["actual_wins"], width=0.4, label="actual")
    ax.set_xticks(x)
    ax.set_xticklabels(t["stage"].tolist())
    ax.set_ylabel("wins of deals open at the cut")
    ax.set_title(f"Forecast backtest (cut {result.cut})")
    ax.legend()
    return ax


def plot_velocity(result: SalesVelocityResult, *, ax: Axes | None = None, **kwargs: Any) -> Axes:
    """The four velocity components as labelled bars (each relative to itself).

    Examples
    --------
    >>> import pandas as pd
    >>> from crmmodels.funnel import funnel_metrics, sales_velocity
    >>> log = pd.DataFrame({
    ...     "entity_id": [1, 1, 2, 2, 3],
    ...     "stage": ["lead_generation", "closed_won", "lead_generation", "closed_lost",
    ...               "lead_generation"],
    ...     "entered_at": [0.0, 10.0, 0.0, 4.0, 6.0],
    ...     "amount": [100.0, 120.0, 50.0, 50.0, 80.0],
    ... })
    >>> res = funnel_metrics(log, stages=["lead_generation", "closed_won"], amount_col="amount")
    >>> ax = plot_velocity(sales_velocity(res))
    >>> type(ax).__name__
    'Axes'
    >>> import matplotlib.pyplot as plt
    >>> plt.close(ax.figure)
    """
    ax = new_axes(ax, (6.0, 3.0))
    names = ["opportunities", "win rate", "avg deal size", "cycle (days)"]
    vals = [result.opportunities, result.win_rate, result.avg_deal_size, result.cycle_days]
    ax.barh(np.arange(4)[::-1], [1.0] * 4, color="C0", **kwargs)
    for i, (n, v) in enumerate(zip(names, vals, strict=True)):
        ax.text(0.5, 3 - i, f"{n}: {v:,.4g}", ha="center", va="center", color="white")
    ax.set_yticks([])
    ax.set_xticks([])
    ax.set_title(f"Sales velocity: {result.velocity:,.4g} per day")
    return ax


def plot_stream_funnel(
    result: StreamFunnelResult, *, ax: Axes | None = None, **kwargs: Any
) -> Axes:
    """Cumulative conversion by step: bars for all entities, lines for each segment.

    Each bar is labelled with the entities that reached the step. With segments, each
    segment's cumulative conversion is drawn as a line over the bars. Extra keyword
    arguments go to ``Axes.bar``.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmmodels.funnel import stream_funnel
    >>> log = pd.DataFrame({"entity_id": [1, 1, 2, 3], "stage": ["a", "b", "a", "a"],
    ...                     "entered_at": [0.0, 1.0, 0.0, 2.0], "seg": ["x", "x", "y", "y"]})
    >>> ax = plot_stream_funnel(stream_funnel(log, stages=["a", "b"], segment_col="seg"))
    >>> [t.get_text() for t in ax.get_xticklabels()]
    ['a', 'b']
    >>> import matplotlib.pyplot as plt
    >>> plt.close(ax.figure)
    """
    ax = new_axes(ax, _SIZE)
    t = result.table
    x = np.arange(len(t))
    cum = t["cumulative_conversion"].to_numpy(dtype=np.float64)
    kwargs.setdefault("color", "C0")
    kwargs.setdefault("alpha", 0.6)
    ax.bar(x, cum, label="all", **kwargs)
    for xi, c, n in zip(x, cum, t["entered"], strict=True):
        if np.isfinite(c):
            ax.text(float(xi), c, f"{int(n):,}", ha="center", va="bottom", fontsize=8)
    if result.segments is not None:
        for i, (name, part) in enumerate(result.segments.groupby("segment", sort=False)):
            ax.plot(
                x,
                part["cumulative_conversion"].to_numpy(),
                marker="o",
                color=f"C{i + 1}",
                label=str(name),
            )
        ax.legend(fontsize=8)
    ax.set_xticks(x)
    ax.set_xticklabels(t["stage"].tolist())
    ax.set_ylim(0, 1.08)
    ax.set_ylabel("share of entities at step 1")
    window = "" if result.window is None else f", window {result.window:g} days"
    ax.set_title(f"Event funnel (mode '{result.mode}'{window})")
    return ax


def plot_lead_gains(result: LeadScoresResult, *, ax: Axes | None = None, **kwargs: Any) -> Axes:
    """Cumulative gains chart of a lead score on its validation part.

    The share of all won deals captured against the share of leads contacted, most
    likely first; the diagonal is a random order. Extra keyword arguments go to
    ``Axes.plot``.

    Examples
    --------
    >>> from crmmodels.datasets import simulate_leads
    >>> from crmmodels.funnel import lead_scores
    >>> res = lead_scores(simulate_leads(2000, seed=3).leads, feature_cols=["source", "budget"])
    >>> ax = plot_lead_gains(res)
    >>> type(ax).__name__
    'Axes'
    >>> import matplotlib.pyplot as plt
    >>> plt.close(ax.figure)
    """
    ax = new_axes(ax, _SIZE)
    g = result.gains
    share = np.concatenate([[0.0], g["cumulative_share"].to_numpy(dtype=np.float64)])
    gain = np.concatenate([[0.0], g["cumulative_gain"].to_numpy(dtype=np.float64)])
    kwargs.setdefault("marker", "o")
    ax.plot(share, gain, label=f"score (AUC {result.auc:.3f})", **kwargs)
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", label="random order")
    ax.set_xlabel("share of leads, most likely first")
    ax.set_ylabel("share of won deals captured")
    ax.set_title(f"Cumulative gains on {result.n_validation:,} validation leads")
    ax.legend(loc="lower right")
    return ax


def plot_lead_calibration(
    result: LeadScoresResult, *, ax: Axes | None = None, **kwargs: Any
) -> Axes:
    """Calibration curve: observed won rate against predicted probability per bin.

    Bars show the interval of the observed rate at the result's ``level``; the diagonal
    is perfect calibration. Extra keyword arguments go to ``Axes.errorbar``.

    Examples
    --------
    >>> from crmmodels.datasets import simulate_leads
    >>> from crmmodels.funnel import lead_scores
    >>> res = lead_scores(simulate_leads(2000, seed=3).leads, feature_cols=["source", "budget"])
    >>> ax = plot_lead_calibration(res)
    >>> type(ax).__name__
    'Axes'
    >>> import matplotlib.pyplot as plt
    >>> plt.close(ax.figure)
    """
    ax = new_axes(ax, _SIZE)
    c = result.calibration
    pred = c["predicted_mean"].to_numpy(dtype=np.float64)
    obs = c["observed_rate"].to_numpy(dtype=np.float64)
    err = np.vstack(
        [
            obs - c["observed_low"].to_numpy(np.float64),
            c["observed_high"].to_numpy(np.float64) - obs,
        ]
    )
    kwargs.setdefault("fmt", "o")
    ax.errorbar(pred, obs, yerr=err, label="validation bins", **kwargs)
    top = float(max(np.nanmax(pred), np.nanmax(c["observed_high"]), 0.05)) * 1.05
    ax.plot([0, top], [0, top], color="grey", linestyle="--", label="perfect calibration")
    ax.set_xlabel("predicted probability (bin mean)")
    ax.set_ylabel("observed won rate")
    ax.set_title(f"Calibration ({result.calibration_method}), Brier {result.brier:.3f}")
    ax.legend(loc="upper left")
    return ax


def plot_lead_effects(
    result: LeadScoresResult, *, ax: Axes | None = None, top: int = 15, **kwargs: Any
) -> Axes:
    """Effects of the features: odds ratios (log scale) or permutation importance.

    Shows the ``top`` largest effects. Extra keyword arguments go to ``Axes.barh``.

    Examples
    --------
    >>> from crmmodels.datasets import simulate_leads
    >>> from crmmodels.funnel import lead_scores
    >>> res = lead_scores(simulate_leads(2000, seed=3).leads, feature_cols=["source", "budget"])
    >>> ax = plot_lead_effects(res)
    >>> type(ax).__name__
    'Axes'
    >>> import matplotlib.pyplot as plt
    >>> plt.close(ax.figure)
    """
    ax = new_axes(ax, _SIZE)
    e = result.effects.head(top).iloc[::-1]
    if "odds_ratio" in e.columns:
        values = np.log(e["odds_ratio"].to_numpy(dtype=np.float64))
        labels = e["feature"].tolist()
        ax.barh(labels, values, color=["C0" if v >= 0 else "C3" for v in values], **kwargs)
        ticks = ax.get_xticks()
        ax.set_xticks(ticks)
        ax.set_xticklabels([f"{np.exp(t):.2g}" for t in ticks])
        ax.set_xlabel("odds ratio (log scale; numeric features per standard deviation)")
    else:
        ax.barh(e["column"].tolist(), e["importance"].to_numpy(dtype=np.float64), **kwargs)
        ax.set_xlabel("permutation importance (drop of the validation AUC)")
    ax.axvline(0.0, color="grey", linewidth=0.8)
    ax.set_title(f"Feature effects ({result.model})")
    return ax
