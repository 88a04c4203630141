"""The results of market-basket analysis: itemsets, rules, bundles and cross-sell suggestions.

Each is a frozen :class:`~crmmodels._results.Result` with ``to_frame()`` (a copy of its
table), a short repr and ``plot()`` drawn by :mod:`crmmodels.plotting.basket`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from crmmodels._ingest.arguments import check_choice
from crmmodels._results import Result

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from crmmodels.basket._mine import _Mined


@dataclass(frozen=True, repr=False)
class ItemsetsResult(Result):
    """Frequent itemsets and their supports (result of :func:`~crmmodels.basket.frequent_itemsets`).

    Attributes
    ----------
    itemsets : pandas.DataFrame
        Columns ``itemsets`` (frozenset of item labels) and ``support`` (share of
        baskets), sorted by itemset size (ascending), then support (descending), then
        the items in their sorted order. ``attrs["n_baskets"]`` holds the number of
        baskets.
    min_support : float
        The mining threshold.
    max_len : int or None
        Largest itemset size mined (None: no limit).
    n_baskets : int
        Baskets in the input.
    n_items : int
        Distinct items in the input.
    n_missing_entries : int
        Unknown (null) entries of a one-hot frame mined with ``allow_missing=True``
        (0 otherwise); ``to_frame().attrs["n_missing_entries"]`` holds it when not 0.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmmodels.basket import frequent_itemsets
    >>> tx = pd.DataFrame(
    ...     {"order": [1, 1, 2, 2, 2, 3], "item": ["milk", "bread", "milk", "bread", "jam", "milk"]}
    ... )
    >>> fi = frequent_itemsets(tx, basket_col="order", item_col="item", min_support=0.5)
    >>> fi
    ItemsetsResult(min_support=0.5, max_len=None, n_baskets=3, n_items=3, n_missing_entries=0,
                   rows=3)
    >>> fi.n_itemsets, fi.to_frame().attrs["n_baskets"]
    (3, 3)
    >>> ax = fi.plot()
    >>> type(ax).__name__
    'Axes'
    >>> import matplotlib.pyplot as plt
    >>> plt.close(ax.figure)
    """

    itemsets: pd.DataFrame
    min_support: float
    max_len: int | None
    n_baskets: int
    n_items: int
    n_missing_entries: int = 0
    #: the mined id rows, so that rules and bundles need not parse the sets again
    _mined: _Mined | None = field(default=None, repr=False, compare=False)

    @property
    def n_itemsets(self) -> int:
        """Number of frequent itemsets."""
        return len(self.itemsets)

    def to_frame(self) -> pd.DataFrame:
        """Return the itemsets table (a copy, with ``attrs["n_baskets"]``)."""
        out = self.itemsets.copy()
        out.attrs["n_baskets"] = self.n_baskets
        if self.n_missing_entries:
            out.attrs["n_missing_entries"] = self.n_missing_entries
        return out

    def plot(self, ax: Axes | None = None, **kwargs: Any) -> Axes:
        """Bars of the most frequent itemsets by support.

        See :func:`crmmodels.plotting.basket.plot_itemsets`.
        """
        from crmmodels.plotting.basket import plot_itemsets

        return plot_itemsets(self, ax=ax, **kwargs)


@dataclass(frozen=True, repr=False)
class RulesResult(Result):
    """Association rules and their metrics (result of :func:`~crmmodels.basket.association_rules`).

    Attributes
    ----------
    rules : pandas.DataFrame
        One row per rule: ``antecedents``, ``consequents`` (frozensets) and the metrics
        of :data:`~crmmodels.basket.RULE_METRICS`; by segment, the segment column first.
    metric : str
        The metric the rules are sorted by and that reached ``min_threshold``.
    min_threshold : float
        The threshold on ``metric``.
    segment_col : str or None
        With :func:`~crmmodels.basket.association_rules_by_segment`: the segment
        column (rules were mined within each segment).

    Examples
    --------
    >>> import pandas as pd
    >>> from crmmodels.basket import association_rules
    >>> tx = pd.DataFrame(
    ...     {"order": [1, 1, 2, 2, 2, 3], "item": ["milk", "bread", "milk", "bread", "jam", "milk"]}
    ... )
    >>> rules = association_rules(
    ...     tx, basket_col="order", item_col="item", min_support=0.5, min_threshold=0.6
    ... )
    >>> rules
    RulesResult(metric=confidence, min_threshold=0.6, segment_col=None, rows=2)
    >>> rules.to_frame()["confidence"].round(3).tolist()
    [1.0, 0.667]
    >>> ax = rules.plot(kind="top")
    >>> ax.get_xlabel()
    'lift'
    >>> import matplotlib.pyplot as plt
    >>> plt.close(ax.figure)
    """

    rules: pd.DataFrame
    metric: str
    min_threshold: float
    segment_col: str | None = None

    @property
    def n_rules(self) -> int:
        """Number of rules."""
        return len(self.rules)

    def to_frame(self) -> pd.DataFrame:
        """Return the rules table (a copy)."""
        return self.rules.copy()

    def plot(self, ax: Axes | None = None, *, kind: str = "scatter", **kwargs: Any) -> Axes:
        """Plot the rules.

        Parameters
        ----------
        ax : matplotlib Axes, optional
            Where to draw (a new figure when None).
        kind : {"scatter", "top"}
            ``"scatter"``: support against confidence, coloured by lift
            (:func:`~crmmodels.plotting.basket.plot_rules`); ``"top"``: bars of the
            strongest rules (:func:`~crmmodels.plotting.basket.plot_top_rules`, with
            ``n`` and ``metric``).
        **kwargs
            Passed to the plotting function.
        """
        check_choice(kind, "kind", ("scatter", "top"))
        from crmmodels.plotting import basket as pb

        if kind == "scatter":
            return pb.plot_rules(self, ax=ax, **kwargs)
        return pb.plot_top_rules(self, ax=ax, **kwargs)


@dataclass(frozen=True, repr=False)
class BundleCandidatesResult(Result):
    """Itemsets whose items are bought together more often than independence predicts.

    Returned by :func:`~crmmodels.basket.bundle_candidates` (called ``BundleCandidatesResult``
    before; that name still works).

    Attributes
    ----------
    bundles : pandas.DataFrame
        One row per candidate: ``itemsets``, ``size``, ``support``, ``expected_support``
        (product of the item supports), ``lift`` (support / expected support),
        ``all_confidence`` (support / largest item support) and ``score`` (support minus
        expected support), sorted by score.
    min_lift, min_support : float
        Thresholds applied.
    n_considered : int
        Frequent itemsets of size >= ``min_size`` examined.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmmodels.basket import bundle_candidates
    >>> tx = pd.DataFrame(
    ...     {"order": [1, 1, 2, 2, 3, 4], "item": ["tea", "cake", "tea", "cake", "tea", "pen"]}
    ... )
    >>> b = bundle_candidates(tx, basket_col="order", item_col="item", min_support=0.25)
    >>> [sorted(s) for s in b.to_frame()["itemsets"]]
    [['cake', 'tea']]
    >>> ax = b.plot()
    >>> type(ax).__name__
    'Axes'
    >>> import matplotlib.pyplot as plt
    >>> plt.close(ax.figure)
    """

    bundles: pd.DataFrame
    min_lift: float
    min_support: float
    n_considered: int

    @property
    def n_bundles(self) -> int:
        """Number of candidate bundles."""
        return len(self.bundles)

    def to_frame(self) -> pd.DataFrame:
        """Return the bundle table (a copy)."""
        return self.bundles.copy()

    def plot(self, ax: Axes | None = None, **kwargs: Any) -> Axes:
        """Bar chart of the top bundles by score, labelled with their lift."""
        from crmmodels.plotting.basket import plot_bundles

        return plot_bundles(self, ax=ax, **kwargs)


@dataclass(frozen=True, repr=False)
class CrossSellResult(Result):
    """Per-customer cross-sell suggestions.

    Attributes
    ----------
    suggestions : pandas.DataFrame
        One row per customer and suggested item: the customer column (and the segment
        column when given), ``rank`` (1 = best), the item (named like ``item_col``),
        ``score``, and the best matching rule's ``confidence``, ``lift`` and
        ``antecedents``; sorted by customer, then rank.
    rules : pandas.DataFrame
        The rules used (the table of the :class:`RulesResult` given).
    n_customers : int
        Customers in the transactions.
    n_without_suggestions : int
        Customers for whom no rule fired (they have no rows in ``suggestions``).
    top_n : int
        Suggestions kept per customer.

    Examples
    --------
    >>> from crmmodels.basket import association_rules, cross_sell
    >>> import pandas as pd
    >>> tx = pd.DataFrame(
    ...     {"order": [1, 1, 2, 2, 3, 4], "item": ["tea", "cake", "tea", "cake", "tea", "pen"]}
    ... )
    >>> rules = association_rules(tx, basket_col="order", item_col="item", min_support=0.25,
    ...                           min_threshold=0.5)
    >>> hist = pd.DataFrame({"customer_id": [7], "item": ["cake"]})
    >>> cs = cross_sell(hist, rules)
    >>> cs.to_frame()[["customer_id", "item"]].values.tolist()
    [[7, 'tea']]
    >>> ax = cs.plot()
    >>> type(ax).__name__
    'Axes'
    >>> import matplotlib.pyplot as plt
    >>> plt.close(ax.figure)
    """

    suggestions: pd.DataFrame
    rules: pd.DataFrame
    n_customers: int
    n_without_suggestions: int
    top_n: int

    def to_frame(self) -> pd.DataFrame:
        """Return the suggestions table (a copy)."""
        return self.suggestions.copy()

    def plot(self, ax: Axes | None = None, **kwargs: Any) -> Axes:
        """Scatter of the rules used: support vs confidence, coloured by lift.

        See :func:`crmmodels.plotting.basket.plot_rules`.
        """
        from crmmodels.plotting.basket import plot_rules

        return plot_rules(self.rules, ax=ax, **kwargs)
