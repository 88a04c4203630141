"""Plots for market-basket analysis: itemset bars, rules scatter, top-rules bars, bundle bars.

matplotlib is imported inside the functions, so importing this module stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from crmmodels.plotting._common import new_axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from crmmodels.basket import BundleCandidatesResult, ItemsetsResult, RulesResult

__all__ = ["plot_bundles", "plot_itemsets", "plot_rules", "plot_top_rules"]


def _label(items: Any) -> str:
    return ", ".join(str(x) for x in sorted(items, key=str))


_SIZE = (6.0, 4.0)  # default figure size (inches)


def _table(rules: RulesResult | pd.DataFrame) -> pd.DataFrame:
    """The rules table of a :class:`~crmmodels.basket.RulesResult`, or the frame itself."""
    return rules if isinstance(rules, pd.DataFrame) else rules.rules


def _bars(ax: Axes | None, values: pd.Series, labels: list[str], **kwargs: Any) -> Axes:
    """Horizontal bars, the first value on top, on ``ax`` or a figure sized to the bars."""
    ax = new_axes(ax, (7.0, 0.35 * max(len(values), 1) + 1.5))
    y = np.arange(len(values))[::-1]
    ax.barh(y, values.to_numpy(float), **kwargs)
    ax.set_yticks(y, labels)
    return ax


def plot_itemsets(
    result: ItemsetsResult,
    *,
    n: int = 15,
    min_size: int = 1,
    ax: Axes | None = None,
    **kwargs: Any,
) -> Axes:
    """Horizontal bars of the ``n`` most frequent itemsets of at least ``min_size`` items.

    Parameters
    ----------
    result : ItemsetsResult
        Output of :func:`crmmodels.basket.frequent_itemsets`.
    n : int, default 15
        Number of itemsets shown.
    min_size : int, default 1
        Smallest itemset size shown (2 leaves out the single items).
    ax : matplotlib Axes, optional
        Where to draw.
    **kwargs
        Passed to ``Axes.barh``.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import pandas as pd
    >>> from crmmodels.basket import frequent_itemsets
    >>> tx = pd.DataFrame({"order": [1, 1, 2, 2, 3], "item": ["a", "b", "a", "b", "a"]})
    >>> fi = frequent_itemsets(tx, basket_col="order", item_col="item", min_support=0.5)
    >>> ax = plot_itemsets(fi, min_size=2)
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['a, b']
    >>> import matplotlib.pyplot as plt
    >>> plt.close(ax.figure)
    """
    table = result.itemsets
    sizes = table["itemsets"].map(len)
    top = table[sizes >= min_size].sort_values("support", ascending=False, kind="stable").head(n)
    ax = _bars(ax, top["support"], [_label(s) for s in top["itemsets"]], **kwargs)
    ax.set_xlabel("support (share of baskets)")
    ax.set_title(f"Most frequent itemsets (top {len(top)} of {result.n_baskets:,} baskets)")
    return ax


def plot_rules(rules: RulesResult | pd.DataFrame, *, ax: Axes | None = None, **kwargs: Any) -> Axes:
    """Scatter of association rules: support vs confidence, coloured by lift.

    Parameters
    ----------
    rules : RulesResult or pandas.DataFrame
        Output of :func:`crmmodels.basket.association_rules` (or its table).
    ax : matplotlib Axes, optional
        Where to draw (a new figure when None).
    **kwargs
        Passed to ``Axes.scatter`` (e.g. ``cmap``, ``s``).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import pandas as pd
    >>> r = pd.DataFrame({"support": [0.1, 0.2], "confidence": [0.5, 0.9], "lift": [1.2, 2.0]})
    >>> plot_rules(r).get_xlabel()
    'support'
    """
    rules = _table(rules)
    ax = new_axes(ax, _SIZE)
    opts: dict[str, Any] = {"cmap": "viridis", "s": 18, "alpha": 0.8}
    opts.update(kwargs)
    points = ax.scatter(rules["support"], rules["confidence"], c=rules["lift"], **opts)
    ax.figure.colorbar(points, ax=ax, label="lift")
    ax.set_xlabel("support")
    ax.set_ylabel("confidence")
    ax.set_title(f"Association rules (n={len(rules)})")
    return ax


def plot_top_rules(
    rules: RulesResult | pd.DataFrame,
    *,
    n: int = 15,
    metric: str = "lift",
    ax: Axes | None = None,
    **kwargs: Any,
) -> Axes:
    """Horizontal bar chart of the ``n`` strongest rules by ``metric``.

    Parameters
    ----------
    rules : RulesResult or pandas.DataFrame
        Output of :func:`crmmodels.basket.association_rules` (or its table).
    n : int, default 15
        Number of rules shown.
    metric : str, default "lift"
        Column used to rank and size the bars.
    ax : matplotlib Axes, optional
        Where to draw.
    **kwargs
        Passed to ``Axes.barh``.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import pandas as pd
    >>> r = pd.DataFrame(
    ...     {"antecedents": [frozenset({"a"})], "consequents": [frozenset({"b"})], "lift": [2.0]}
    ... )
    >>> plot_top_rules(r).get_xlabel()
    'lift'
    """
    top = _table(rules).sort_values(metric, ascending=False, kind="stable").head(n)
    labels = [
        f"{_label(a)} → {_label(c)}"
        for a, c in zip(top["antecedents"], top["consequents"], strict=True)
    ]
    ax = _bars(ax, top[metric], labels, **kwargs)
    ax.set_xlabel(metric)
    ax.set_title(f"Top {len(top)} rules by {metric}")
    return ax


def plot_bundles(
    result: BundleCandidatesResult, *, n: int = 15, ax: Axes | None = None, **kwargs: Any
) -> Axes:
    """Horizontal bars of the best bundle candidates by score, annotated with lift.

    Parameters
    ----------
    result : BundleCandidatesResult
        Output of :func:`crmmodels.basket.bundle_candidates`.
    n : int, default 15
        Number of bundles shown.
    ax : matplotlib Axes, optional
        Where to draw.
    **kwargs
        Passed to ``Axes.barh``.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import pandas as pd
    >>> from crmmodels.basket import bundle_candidates
    >>> tx = pd.DataFrame(
    ...     {"order": [1, 1, 2, 2, 3, 4], "item": ["tea", "cake", "tea", "cake", "tea", "pen"]}
    ... )
    >>> b = bundle_candidates(tx, basket_col="order", item_col="item", min_support=0.25)
    >>> ax = plot_bundles(b)
    >>> type(ax).__name__
    'Axes'
    >>> import matplotlib.pyplot as plt
    >>> plt.close(ax.figure)
    """
    frame = result.bundles.head(n)
    ax = _bars(ax, frame["score"], [_label(s) for s in frame["itemsets"]], **kwargs)
    y = np.arange(len(frame))[::-1]
    for yy, score, lift in zip(y, frame["score"], frame["lift"], strict=True):
        ax.annotate(
            f"lift {lift:.2f}",
            (score, yy),
            xytext=(3, 0),
            textcoords="offset points",
            va="center",
            fontsize=8,
        )
    ax.set_xlabel("score (support - expected support)")
    ax.set_title(f"Bundle candidates (top {len(frame)})")
    return ax
