"""Plots of relationship quality: construct profile, item diagnostics, dyadic gaps."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats

from crmmodels.plotting._common import new_axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from crmmodels.quality import CronbachAlphaResult, RelationshipQualityResult

__all__ = ["plot_construct_profile", "plot_dyadic_gaps", "plot_item_diagnostics"]


_SIZE = (7.0, 4.5)  # default figure size (inches)


def _mean_ci(values: pd.DataFrame, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Mean and half-width of the t interval of each column (NaN ignored)."""
    n = values.notna().sum().to_numpy()
    mean = values.mean().to_numpy()
    sd = values.std(ddof=1).to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        half = stats.t.ppf(0.5 + level / 2.0, np.maximum(n - 1, 1)) * sd / np.sqrt(n)
    return mean, np.where(n > 1, half, np.nan)


def plot_construct_profile(
    result: RelationshipQualityResult,
    *,
    ax: Axes | None = None,
    level: float = 0.95,
    **kwargs: Any,
) -> Axes:
    """Mean construct scores and the index with t confidence intervals (per side).

    Parameters
    ----------
    result : RelationshipQualityResult
        Output of :func:`crmmodels.relationship_quality`.
    ax : matplotlib Axes, optional
        Where to draw.
    level : float
        Confidence level of the error bars.
    **kwargs
        Passed to ``ax.errorbar``.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from crmmodels.datasets._survey import simulate_survey
    >>> from crmmodels.quality import relationship_quality
    >>> sim = simulate_survey(30, sides=False)
    >>> res = relationship_quality(sim.survey, constructs=sim.constructs, reverse=sim.reverse)
    >>> plot_construct_profile(res).get_ylabel()
    'mean score'
    """
    ax = new_axes(ax, _SIZE)
    cols = [*result.reliability.index, "rq_index"]
    x = np.arange(len(cols), dtype=float)
    side_col = None
    if result.sides:
        side_col = next(
            c
            for c in result.scores.columns
            if c not in cols and set(result.scores[c].astype(str)) == set(result.sides)
        )
    groups: list[tuple[str, pd.DataFrame]] = (
        [(s, result.scores[result.scores[side_col].astype(str) == s][cols]) for s in result.sides]
        if side_col
        else [("all respondents", result.scores[cols])]
    )
    width = 0.15 if len(groups) > 1 else 0.0
    for g, (label, frame) in enumerate(groups):
        mean, half = _mean_ci(frame, level)
        offset = (g - (len(groups) - 1) / 2.0) * width
        kw: dict[str, Any] = {"fmt": "o", "capsize": 4, "label": label}
        kw.update(kwargs)
        ax.errorbar(x + offset, mean, yerr=half, **kw)
    ax.set_xticks(x, [c.replace("_", " ") for c in cols])
    ax.set_ylim(result.scale[0], result.scale[1])
    ax.set_ylabel("mean score")
    ax.set_title(f"Relationship quality profile ({level:.0%} intervals)")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(loc="lower right")
    return ax


def plot_item_diagnostics(
    result: RelationshipQualityResult | CronbachAlphaResult,
    *,
    ax: Axes | None = None,
    **kwargs: Any,
) -> Axes:
    """Corrected item-total correlations (bars) and alpha if item deleted (markers).

    The dashed lines show each construct's alpha: an item whose marker lies to the right
    of its line lowers the scale's alpha.

    Parameters
    ----------
    result : RelationshipQualityResult or CronbachAlphaResult
        A result with an item table.
    ax : matplotlib Axes, optional
        Where to draw.
    **kwargs
        Passed to ``ax.barh``.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import numpy as np
    >>> from crmmodels.quality import cronbach_alpha
    >>> x = np.random.default_rng(0).normal(size=(50, 1)) + np.zeros((50, 3))
    >>> x = x + np.random.default_rng(1).normal(size=(50, 3))
    >>> plot_item_diagnostics(cronbach_alpha(x)).get_xlabel()
    'correlation / alpha'
    """
    items = result.items
    ax = new_axes(ax, (7.0, max(3.0, 0.35 * len(items) + 1.0)))
    y = np.arange(len(items))[::-1]
    kw: dict[str, Any] = {"color": "tab:blue", "alpha": 0.7, "label": "corrected item-total r"}
    kw.update(kwargs)
    ax.barh(y, items["item_total_corr"].to_numpy(), **kw)
    ax.plot(items["alpha_if_deleted"].to_numpy(), y, "D", color="tab:red", label="alpha if deleted")
    if "construct" in items.columns:
        rel = result.reliability  # type: ignore[union-attr]
        for c in rel.index:
            rows = y[(items["construct"] == c).to_numpy()]
            a = float(rel.loc[c, "alpha"])
            ax.vlines(a, rows.min() - 0.4, rows.max() + 0.4, colors="k", linestyles="--")
        labels = [
            f"{i}{' (R)' if r else ''}" for i, r in zip(items.index, items["reversed"], strict=True)
        ]
    else:
        ax.axvline(float(result.alpha), color="k", linestyle="--")  # type: ignore[union-attr]
        labels = [str(i) for i in items.index]
    ax.set_yticks(y, labels)
    ax.set_xlim(min(0.0, float(np.nanmin(items["item_total_corr"]))), 1.0)
    ax.set_xlabel("correlation / alpha")
    ax.set_title("Item diagnostics (dashed: scale alpha)")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2, fontsize="small")
    return ax


def plot_dyadic_gaps(
    result: RelationshipQualityResult,
    *,
    ax: Axes | None = None,
    **kwargs: Any,
) -> Axes:
    """Dumbbell chart: mean score of each side per construct, with the mean gap.

    Parameters
    ----------
    result : RelationshipQualityResult
        A result computed with ``side_col`` and ``relationship_col``.
    ax : matplotlib Axes, optional
        Where to draw.
    **kwargs
        Passed to the side markers' ``ax.plot``.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from crmmodels.datasets._survey import simulate_survey
    >>> from crmmodels.quality import relationship_quality
    >>> sim = simulate_survey(30)
    >>> res = relationship_quality(sim.survey, constructs=sim.constructs, side_col="side",
    ...                            relationship_col="relationship_id", reverse=sim.reverse)
    >>> plot_dyadic_gaps(res).get_xlabel()
    'mean score'
    """
    from crmmodels.errors import DataError

    if result.dyadic is None:
        raise DataError("the gap chart needs a survey with sides (side_col, relationship_col).")
    ax = new_axes(ax, _SIZE)
    d = result.dyadic
    order = [*result.reliability.index, "rq_index"]
    means = d.groupby("construct")[[*result.sides, "gap"]].mean().reindex(order)
    y = np.arange(len(order))[::-1]
    a, b = result.sides
    ax.hlines(y, means[a], means[b], color="grey", lw=2)
    kw: dict[str, Any] = {"markersize": 9}
    kw.update(kwargs)
    ax.plot(means[a], y, "o", color="tab:blue", label=a, **kw)
    ax.plot(means[b], y, "s", color="tab:orange", label=b, **kw)
    for yi, (_, row) in zip(y, means.iterrows(), strict=True):
        ax.annotate(
            f"gap {row['gap']:+.2f}",
            (max(row[a], row[b]), yi),
            xytext=(8, 0),
            textcoords="offset points",
            va="center",
            fontsize="small",
        )
    ax.set_yticks(y, [c.replace("_", " ") for c in order])
    ax.set_xlim(result.scale[0], result.scale[1])
    ax.set_xlabel("mean score")
    ax.set_title(f"Two sides of the relationship (gap = {a} - {b})")
    ax.legend(loc="lower left")
    return ax
