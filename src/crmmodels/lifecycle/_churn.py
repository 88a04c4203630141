"""The model-free churn view: churned against active customers, attribute by attribute."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from crmmodels._ingest.arguments import check_column_name, check_int, check_level
from crmmodels._results import Result
from crmmodels.errors import ArgumentError, DataError
from crmmodels.kernels.intervals import difference_interval, wilson_interval
from crmmodels.lifecycle._churn_input import churn_rule, read_customers
from crmmodels.lifecycle._churn_stats import (
    association_test,
    attribute_levels,
    fisher_p_values,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["ChurnComparisonResult", "churn_comparison"]

#: the columns of ``ChurnComparisonResult.table``
TABLE_COLUMNS = (
    "attribute",
    "level",
    "customers",
    "churned",
    "active",
    "churn_rate",
    "churn_rate_low",
    "churn_rate_high",
    "lift",
    "difference",
    "difference_low",
    "difference_high",
    "p_value",
)


@dataclass(frozen=True, repr=False)
class ChurnComparisonResult(Result):
    """Churned against active customers, per level of each attribute.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per attribute and level (:attr:`TABLE_COLUMNS`): ``customers``,
        ``churned``, ``active``; ``churn_rate`` with its Wilson interval
        ``churn_rate_low`` / ``churn_rate_high``; ``lift`` (the level's rate over the
        overall rate); ``difference`` (the level's rate minus the rate of all other
        customers) with Newcombe's interval ``difference_low`` / ``difference_high``;
        ``p_value`` of Fisher's exact test of the level against all other customers.
    tests : pandas.DataFrame
        One row per attribute: the test of association on the levels x (churned, active)
        table (``test``: ``"chi-square"``, ``"fisher"`` or ``"none"``), ``statistic``
        (Pearson's chi-square), ``dof``, ``p_value``, ``cramers_v``, ``min_expected``
        (the smallest expected count) and a ``note``.
    rule : str
        Who counts as churned, in words (e.g. ``"p_alive < 0.5"``).
    n_customers, n_churned : int
        Customers compared (every row of the input, each once) and churned among them.
    churn_rate, churn_rate_low, churn_rate_high : float
        The overall rate and its Wilson interval.
    level : float
        The level of the intervals.
    bins : int
        The number of quantile bins asked for numeric attributes.
    bin_edges : dict of str to tuple of float
        The edges of each binned numeric attribute.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmmodels.lifecycle import churn_comparison
    >>> customers = pd.DataFrame({
    ...     "customer_id": range(8),
    ...     "channel": ["web", "web", "web", "web", "shop", "shop", "shop", "shop"],
    ...     "p_alive": [0.1, 0.2, 0.3, 0.9, 0.8, 0.9, 0.7, 0.2],
    ... })
    >>> res = churn_comparison(customers, attributes=["channel"], p_alive_col="p_alive")
    >>> res  # doctest: +NORMALIZE_WHITESPACE
    ChurnComparisonResult(rule=p_alive < 0.5, n_customers=8, n_churned=4, churn_rate=0.5,
                          churn_rate_low=0.2152, churn_rate_high=0.7848, level=0.95, bins=4,
                          rows=2)
    >>> res.to_frame()[["level", "customers", "churned", "churn_rate", "lift"]]
      level  customers  churned  churn_rate  lift
    0  shop          4        1        0.25   0.5
    1   web          4        3        0.75   1.5
    >>> ax = res.plot()
    >>> import matplotlib.pyplot as plt
    >>> plt.close(ax.figure)
    """

    table: pd.DataFrame
    tests: pd.DataFrame
    rule: str
    n_customers: int
    n_churned: int
    churn_rate: float
    churn_rate_low: float
    churn_rate_high: float
    level: float
    bins: int
    _bin_edges: dict[str, tuple[float, ...]] = field(default_factory=dict, repr=False)

    @property
    def bin_edges(self) -> dict[str, tuple[float, ...]]:
        """The quantile-bin edges of each binned numeric attribute."""
        return dict(self._bin_edges)

    def to_frame(self) -> pd.DataFrame:
        """The per-level table (a copy)."""
        return self.table.copy()

    def plot(self, ax: Axes | None = None, **kwargs: Any) -> Axes:
        """Churn rate per level with its interval, against the overall rate.

        Draws :func:`crmmodels.plotting.lifecycle.plot_churn_rates`; ``kwargs`` go to it.
        """
        from crmmodels.plotting.lifecycle import plot_churn_rates

        return plot_churn_rates(self, ax=ax, **kwargs)


def _attribute_names(attributes: Any, reserved: Sequence[str]) -> list[str]:
    if isinstance(attributes, str):
        attributes = [attributes]
    try:
        names = [check_column_name(a, "attributes") for a in attributes]
    except TypeError:
        raise ArgumentError(
            f"attributes must be column names, e.g. ['rfm_segment', 'frequency']; got "
            f"{attributes!r}."
        ) from None
    if not names:
        raise ArgumentError("attributes is empty: name at least one column to compare by.")
    dup = sorted({a for a in names if names.count(a) > 1})
    if dup:
        raise ArgumentError(f"attributes names {dup[0]!r} more than once.")
    clash = [a for a in names if a in reserved]
    if clash:
        raise ArgumentError(
            f"attribute {clash[0]!r} is the customer id or defines churn; compare by other columns."
        )
    return names


def churn_comparison(
    customers: Any,
    *,
    attributes: Sequence[str] | str,
    churned_col: str | None = None,
    lifecycle_stage_col: str | None = None,
    churned_stages: Sequence[str] = ("churned",),
    p_alive_col: str | None = None,
    threshold: float = 0.5,
    customer_col: str = "customer_id",
    bins: int = 4,
    level: float = 0.95,
) -> ChurnComparisonResult:
    """Compare churned and active customers by attribute, without a model.

    Churned customers are defined in exactly one way: a boolean column
    (``churned_col``), a lifecycle stage (``lifecycle_stage_col`` with
    ``churned_stages``), or P(alive) below ``threshold`` (``p_alive_col``). For each
    attribute the customers are split into levels (text, boolean and categorical
    columns: one level per value; numeric columns: ``bins`` quantile bins, or one level
    per value when there are no more than ``bins`` values; missing values form the level
    ``"(missing)"``, so no customer is dropped). Per level: counts, the churn rate with a
    Wilson interval, the lift over the overall rate, the difference from all other
    customers with Newcombe's interval and Fisher's exact p-value; per attribute, a test
    of association (Pearson's chi-square; Fisher's exact test for two levels with an
    expected count below 5).

    The p-values are per comparison: with many levels or attributes some fall below 0.05
    by chance.

    Parameters
    ----------
    customers : DataFrame
        One row per customer (pandas, polars, pyarrow, DuckDB, Dask or PySpark), e.g.
        ``crm.analyze(log).customers``. Only ``customer_col``, the attributes and the
        churn column are selected on the engine and collected.
    attributes : list of str
        The columns to compare by.
    churned_col : str, optional
        A boolean column, True for churned customers.
    lifecycle_stage_col : str, optional
        A stage column (``"lifecycle_stage"`` of the analysis table); the customers in
        ``churned_stages`` are churned.
    churned_stages : sequence of str
        The stages that mean churned (default ``("churned",)``, the last stage of the
        purchase scheme of :func:`lifecycle_stages`).
    p_alive_col : str, optional
        A P(alive) column; customers below ``threshold`` are churned.
    threshold : float
        The P(alive) below which a customer is churned, strictly between 0 and 1.
    customer_col : str
        The customer id; each customer on one row.
    bins : int
        Quantile bins of numeric attributes (>= 2).
    level : float
        The level of the intervals.

    Returns
    -------
    ChurnComparisonResult

    Raises
    ------
    ArgumentError
        Not exactly one churn definition, a threshold outside (0, 1), bad ``bins`` or
        ``level``, a date attribute.
    SchemaError
        A missing column (with a did-you-mean), or a churned flag that is not boolean.
    DataError
        A customer on more than one row, a missing id or churn status, an attribute
        missing for every customer, or no churned (or no active) customer: then there is
        nothing to compare, and the message says how to change the rule.

    Examples
    --------
    >>> import pandas as pd
    >>> customers = pd.DataFrame({
    ...     "customer_id": [1, 2, 3, 4, 5, 6],
    ...     "lifecycle_stage": ["churned", "loyal", "churned", "loyal", "loyal", "churned"],
    ...     "orders": [1, 5, 2, 8, 3, 1],
    ... })
    >>> res = churn_comparison(
    ...     customers, attributes=["orders"], lifecycle_stage_col="lifecycle_stage", bins=2
    ... )
    >>> res.to_frame()[["level", "customers", "churn_rate"]]
          level  customers  churn_rate
    0  [1, 2.5]          3         1.0
    1  (2.5, 8]          3         0.0
    >>> res.tests[["attribute", "test", "dof"]]
      attribute    test  dof
    0    orders  fisher    1
    """
    rule = churn_rule(
        churned_col=churned_col,
        lifecycle_stage_col=lifecycle_stage_col,
        churned_stages=churned_stages,
        p_alive_col=p_alive_col,
        threshold=threshold,
        exactly_one=True,
    )
    lvl = check_level(level)
    n_bins = check_int(bins, "bins", low=2, fix="Numeric attributes are cut at quantiles.")
    key = check_column_name(customer_col, "customer_col")
    names = _attribute_names(attributes, [key, *rule.columns])
    data, _ = read_customers(customers, customer_col=key, columns=[*rule.columns, *names])
    churned = rule.churned(data, key)
    n, c = len(churned), int(churned.sum())
    if c in (0, n):
        side = "no customer is" if c == 0 else f"all {n} customers are"
        raise DataError(
            f"customers: {side} churned under the rule {rule.describe()}: there is nothing "
            "to compare. Change the rule (the threshold or churned_stages) or the customers."
        )
    overall = c / n
    o_low, o_high = wilson_interval(c, n, lvl)
    rows: list[pd.DataFrame] = []
    tests: list[dict[str, Any]] = []
    edges_of: dict[str, tuple[float, ...]] = {}
    for name in names:  # one pass per attribute, vectorised over customers
        codes, labels, edges = attribute_levels(data[name], name, n_bins)
        if edges is not None:
            edges_of[name] = tuple(float(e) for e in edges)
        size = np.bincount(codes, minlength=len(labels)).astype(np.int64)
        hit = np.bincount(codes, weights=churned, minlength=len(labels)).round().astype(np.int64)
        low, high = wilson_interval(hit, size, lvl)
        diff, d_low, d_high = difference_interval(hit, size, c - hit, n - size, lvl)
        rate = hit / size
        rows.append(
            pd.DataFrame(
                {
                    "attribute": name,
                    "level": labels,
                    "customers": size,
                    "churned": hit,
                    "active": size - hit,
                    "churn_rate": rate,
                    "churn_rate_low": low,
                    "churn_rate_high": high,
                    "lift": rate / overall,
                    "difference": diff,
                    "difference_low": d_low,
                    "difference_high": d_high,
                    "p_value": fisher_p_values(hit, size),
                }
            )
        )
        tests.append({"attribute": name, **association_test(hit, size)})
    return ChurnComparisonResult(
        table=pd.concat(rows, ignore_index=True),
        tests=pd.DataFrame(tests),
        rule=rule.describe(),
        n_customers=n,
        n_churned=c,
        churn_rate=overall,
        churn_rate_low=float(o_low),
        churn_rate_high=float(o_high),
        level=lvl,
        bins=n_bins,
        _bin_edges=edges_of,
    )
