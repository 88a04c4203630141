"""Plots of the referral analysis (matplotlib is imported lazily, inside the functions)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from crmmodels.errors import ArgumentError
from crmmodels.plotting._common import new_axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from crmmodels.referrals import ReferralResult

__all__ = ["plot_referred_vs_organic", "plot_tree_sizes", "plot_viral"]


def plot_viral(result: ReferralResult, *, ax: Axes | None = None, **kwargs: Any) -> Axes:
    """Viral coefficient and referral rate by acquisition cohort.

    Cohorts whose window is not over yet are drawn hollow.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmmodels.referrals import referral_analysis
    >>> c = pd.DataFrame({"customer_id": [1, 2], "referrer_id": [None, 1],
    ...                   "date": ["2024-01-01", "2024-02-01"]})
    >>> plot_viral(referral_analysis(c)).get_ylabel()
    'per customer of the cohort'
    """
    ax = new_axes(ax, (8.0, 4.0))
    table = result.by_cohort
    x = np.arange(len(table))
    done = table["complete"].to_numpy(dtype=bool)
    kwargs.setdefault("color", "tab:blue")
    ax.plot(x, table["viral_coefficient"], label="viral coefficient K", **kwargs)
    ax.plot(x, table["referral_rate"], color="tab:orange", label="referral rate")
    for col, color in (("viral_coefficient", kwargs["color"]), ("referral_rate", "tab:orange")):
        y = table[col].to_numpy(dtype=float)
        ax.scatter(x[done], y[done], color=color, zorder=3)
        ax.scatter(x[~done], y[~done], facecolors="white", edgecolors=color, zorder=3)
    ax.axhline(1.0, color="grey", linestyle=":", linewidth=1)
    step = max(1, len(x) // 12)
    ax.set_xticks(x[::step], table["cohort"].to_numpy()[::step], rotation=45, ha="right")
    ax.set_xlabel(f"acquisition cohort (hollow: the {result.window}-day window is not over)")
    ax.set_ylabel("per customer of the cohort")
    ax.set_title(
        f"Referrals within {result.window} days: K = {result.viral_coefficient:.3g} "
        f"over the complete cohorts"
    )
    ax.legend(loc="best")
    return ax


def plot_referred_vs_organic(
    result: ReferralResult, *, ax: Axes | None = None, **kwargs: Any
) -> Axes:
    """Retention and early value of referred and organic customers, with intervals.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmmodels.referrals import referral_analysis
    >>> c = pd.DataFrame({"customer_id": [1, 2, 3, 4], "referrer_id": [None, 1, None, 3],
    ...                   "date": ["2024-01-01", "2024-01-05", "2024-01-02", "2024-01-09"]})
    >>> tx = pd.DataFrame({"customer_id": [1, 1, 2, 3, 4, 4], "amount": [5, 7, 9, 4, 6, 2],
    ...                    "date": ["2024-01-01", "2024-01-20", "2024-01-05", "2024-01-02",
    ...                             "2024-01-09", "2024-01-10"]})
    >>> res = referral_analysis(c, transactions=tx, window=30, observation_end="2024-03-01")
    >>> plot_referred_vs_organic(res).get_ylabel()
    'mean value in the window'
    """
    if not result.has_value:
        raise ArgumentError(
            "kind='value' needs the value of the customers: pass transactions= to "
            "referral_analysis."
        )
    ax = new_axes(ax, (8.0, 4.0))
    table = result.comparison.loc[["referred", "organic"]]
    x = np.arange(2)
    mean = table["mean_value"].to_numpy(dtype=float)
    err = np.vstack(
        [
            mean - table["mean_value_low"].to_numpy(dtype=float),
            table["mean_value_high"].to_numpy(dtype=float) - mean,
        ]
    )
    kwargs.setdefault("color", ["tab:green", "tab:grey"])
    ax.bar(x, mean, yerr=np.nan_to_num(err), capsize=6, **kwargs)
    labels = [
        f"{g}\nn={int(n)}, retention {r:.0%} [{lo:.0%}, {hi:.0%}]"
        for g, n, r, lo, hi in zip(
            table.index,
            table["n_customers"],
            table["retention"],
            table["retention_low"],
            table["retention_high"],
            strict=True,
        )
    ]
    ax.set_xticks(x, labels)
    ax.set_ylabel("mean value in the window")
    diff = result.comparison.loc["difference"]
    ax.set_title(
        f"Referred minus organic, first {result.window} days: value "
        f"{diff['mean_value']:.3g} [{diff['mean_value_low']:.3g}, "
        f"{diff['mean_value_high']:.3g}] ({result.level:.0%} intervals)"
    )
    return ax


def plot_tree_sizes(result: ReferralResult, *, ax: Axes | None = None, **kwargs: Any) -> Axes:
    """Number of referral trees by size (log scale).

    Organic customers who referred nobody are trees of size 1.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmmodels.referrals import referral_analysis
    >>> c = pd.DataFrame({"customer_id": [1, 2, 3], "referrer_id": [None, 1, None],
    ...                   "date": ["2024-01-01", "2024-02-01", "2024-02-03"]})
    >>> plot_tree_sizes(referral_analysis(c)).get_xlabel()
    'tree size (the organic customer and everyone referred down the chain)'
    """
    ax = new_axes(ax, (7.0, 4.0))
    counts = result.trees["size"].value_counts().sort_index()
    kwargs.setdefault("color", "tab:purple")
    ax.bar(counts.index.to_numpy(dtype=float), counts.to_numpy(), width=0.8, **kwargs)
    if counts.index.max() <= 12:
        ax.set_xticks(counts.index.to_numpy())
    ax.set_yscale("log")
    ax.set_xlabel("tree size (the organic customer and everyone referred down the chain)")
    ax.set_ylabel("trees")
    ax.set_title(
        f"{result.n_trees} trees, {result.n_referred} referred customers, "
        f"deepest chain {result.max_depth}"
    )
    return ax
