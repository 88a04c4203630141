"""The result of :func:`crmmodels.referrals.referral_analysis`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from crmmodels._ingest.arguments import check_choice
from crmmodels._results import Result

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["PLOT_KINDS", "ReferralResult"]

#: the figures of ``ReferralResult.plot``
PLOT_KINDS = ("viral", "value", "trees")


@dataclass(frozen=True, repr=False)
class ReferralResult(Result):
    """Referral trees, viral coefficient, referred against organic customers.

    Attributes
    ----------
    customers : pandas.DataFrame
        One row per input customer, sorted by id: the id (``customer_col``), the
        referrer as given (``referrer_col``), ``referred`` (a valid referral),
        ``referral_issue`` (the kind of invalid referral, see ``issues``, or null),
        ``root`` (the organic customer at the top of the tree; a customer whose
        referral is invalid is a root), ``depth`` (0 for a root), ``n_direct_referrals``,
        ``n_descendants`` (customers referred directly or down the chain), the
        acquisition date and ``cohort``. With transactions also ``value`` (the
        customer's own total amount), ``referred_value`` (the total amount of all the
        descendants: the value the customer brought in, the own value excluded) and
        ``direct_referred_value`` (of the direct referrals only).
    trees : pandas.DataFrame
        One row per root (organic customers included, trees of size 1 too): ``root``,
        ``size`` (the root and its descendants; the sizes add up to the number of
        customers), ``depth`` (the longest chain below the root) and, with
        transactions, ``value`` (the tree's total amount).
    by_cohort : pandas.DataFrame
        One row per acquisition cohort: ``n_customers``, ``n_referred`` and
        ``referred_share`` (of the cohort's customers), ``n_referrers`` (cohort members
        who referred at least one customer acquired within ``window`` days of their own
        acquisition), ``referral_rate`` (``n_referrers / n_customers``),
        ``n_referrals`` (customers the cohort referred in that window),
        ``referrals_per_referrer`` (``n_referrals / n_referrers``), ``viral_coefficient``
        (``n_referrals / n_customers``) and ``complete`` (the cohort's window ended by
        ``observation_end``).
    comparison : pandas.DataFrame
        Index ``referred``, ``organic``, ``difference`` (referred minus organic):
        ``n_customers`` (those whose window ended by ``observation_end``),
        ``retention`` (share with a repeat purchase within ``window`` days of
        acquisition; Wilson interval, Newcombe's for the difference) and ``mean_value``
        (mean amount within ``window`` days; Student t interval, Welch's for the
        difference), each with ``_low`` and ``_high``. Empty without transactions.
    top_referrers : pandas.DataFrame
        The customers who brought in the most value (``referred_value``; without
        transactions the most descendants), best first.
    issues : pandas.DataFrame
        One row per kind of invalid referral found (``self_referral``, ``cycle``,
        ``unknown_referrer``, ``referral_before_referrer``): ``n_customers``,
        ``examples`` (up to five customer ids) and ``action``. Empty when all are valid.
    customer_col, referrer_col : str
        The id columns.
    period : str
        The cohort grid.
    window : int
        Days after acquisition in which referrals and repeat purchases count.
    level : float
        The level of the intervals.
    n_customers, n_referred, n_referrers, n_trees, max_depth : int
        Customers, referred customers, customers who referred anyone, trees (roots) and
        the longest chain.
    referred_share : float
        ``n_referred / n_customers``.
    viral_coefficient : float
        Referrals within the window per customer over the complete cohorts (NaN when no
        cohort is complete).
    n_invalid : int
        Customers whose referral was invalid (listed in ``issues``).

    Examples
    --------
    >>> import pandas as pd
    >>> from crmmodels.referrals import referral_analysis
    >>> customers = pd.DataFrame({
    ...     "customer_id": [1, 2, 3, 4, 5],
    ...     "referrer_id": [None, 1, 1, 2, None],
    ...     "date": pd.to_datetime(["2024-01-01", "2024-01-10", "2024-02-01",
    ...                             "2024-02-15", "2024-03-01"]),
    ... })
    >>> res = referral_analysis(customers, window=60)
    >>> res.trees[["root", "size", "depth"]].values.tolist()
    [[1, 4, 2], [5, 1, 0]]
    >>> res.n_referred, res.max_depth
    (3, 2)
    >>> ax = res.plot(kind="trees")
    >>> import matplotlib.pyplot as plt
    >>> plt.close(ax.figure)
    """

    customers: pd.DataFrame
    trees: pd.DataFrame
    by_cohort: pd.DataFrame
    comparison: pd.DataFrame
    top_referrers: pd.DataFrame
    issues: pd.DataFrame
    customer_col: str
    referrer_col: str
    period: str
    window: int
    level: float
    n_customers: int
    n_referred: int
    n_referrers: int
    n_trees: int
    max_depth: int
    referred_share: float
    viral_coefficient: float
    n_invalid: int

    @property
    def has_value(self) -> bool:
        """True when transactions were given (value and comparison are known)."""
        return "value" in self.customers.columns

    def to_frame(self) -> pd.DataFrame:
        """Return the per-customer table (a copy of ``customers``)."""
        return self.customers.copy()

    def plot(self, ax: Axes | None = None, *, kind: str = "viral", **kwargs: Any) -> Axes:
        """Draw one figure and return its Axes.

        ``kind="viral"``: the viral coefficient and the referral rate by cohort;
        ``"value"``: retention and value of referred against organic customers with
        their intervals (needs transactions); ``"trees"``: the distribution of tree
        sizes.
        """
        from crmmodels.plotting.referrals import (
            plot_referred_vs_organic,
            plot_tree_sizes,
            plot_viral,
        )

        kind = check_choice(kind, "kind", PLOT_KINDS)
        if kind == "viral":
            return plot_viral(self, ax=ax, **kwargs)
        if kind == "value":
            return plot_referred_vs_organic(self, ax=ax, **kwargs)
        return plot_tree_sizes(self, ax=ax, **kwargs)
