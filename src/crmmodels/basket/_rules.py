"""Association rules and their metrics (:func:`association_rules`, by segment)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from crmmodels._ingest.arguments import check_bool, check_choice, check_number
from crmmodels.basket._metrics import (
    RULE_METRICS,
    rule_metrics,
    support_only_rules,
    with_transactions,
)
from crmmodels.basket._mine import (
    _check_cols,
    _check_max_len,
    _check_min_support,
    _distinct_pairs,
    _mine,
    _Mined,
)
from crmmodels.basket._parse import _from_itemsets_frame
from crmmodels.basket._results import ItemsetsResult, RulesResult
from crmmodels.errors import ArgumentError, DataError, bad_rows_message

__all__ = ["RULE_METRICS", "association_rules", "association_rules_by_segment"]


def _resolve(
    data: Any,
    basket_col: str | None,
    item_col: str | None,
    min_support: Any,
    max_len: Any,
    *,
    what: str,
    transactions: Any = None,
    allow_missing: bool = False,
) -> _Mined:
    """Frequent itemsets from an :class:`ItemsetsResult`, its frame, or a log to mine."""
    if isinstance(data, ItemsetsResult):
        if basket_col is not None or item_col is not None:
            raise ArgumentError(
                f"{what}: basket_col and item_col name the columns of a transaction log; "
                "an ItemsetsResult is mined already. Leave them out."
            )
        if transactions is not None:
            raise ArgumentError(
                f"{what}: transactions is for an itemsets frame; an ItemsetsResult keeps "
                "its own counts (unknown entries included). Leave transactions out."
            )
        return data._mined if data._mined is not None else _from_itemsets_frame(data.to_frame())
    is_itemsets = (
        isinstance(data, pd.DataFrame)
        and {"itemsets", "support"} <= set(map(str, data.columns))
        and basket_col is None
    )
    if is_itemsets:
        mined = _from_itemsets_frame(data)
        if transactions is not None:
            return with_transactions(mined, transactions, allow_missing)
        if allow_missing:
            raise ArgumentError(
                f"{what}: allow_missing=True with an itemsets frame needs the one-hot frame "
                "the itemsets were mined from: pass it as transactions=."
            )
        if data.attrs.get("n_missing_entries"):
            raise DataError(
                f"{what}: these itemsets were mined from a one-hot frame with "
                f"{data.attrs['n_missing_entries']} unknown entries; pass that frame as "
                "transactions= with allow_missing=True (or the ItemsetsResult itself) so "
                "that the confidences are counted on the baskets that observe each rule."
            )
        return mined
    if transactions is not None:
        raise ArgumentError(
            f"{what}: transactions is for an itemsets frame (itemsets, support); the first "
            "argument is a transaction log or a one-hot frame already. Leave it out."
        )
    if min_support is None:
        raise DataError(
            f"{what}: pass an itemsets frame (from frequent_itemsets) or a transaction log "
            "with min_support."
        )
    return _mine(data, basket_col, item_col, min_support, max_len, allow_missing=allow_missing)


def _check_metric(name: Any, argument: str) -> str:
    return str(check_choice(name, argument, RULE_METRICS))


def _check_bounds(
    metric: str, min_threshold: Any, filters: Any
) -> dict[str, tuple[float | None, float | None]]:
    """Thresholds of ``metric`` and ``filters`` as (low, high) per metric, checked."""
    bounds: dict[str, tuple[float | None, float | None]] = {
        metric: (check_number(min_threshold, "min_threshold"), None)
    }
    if filters is None:
        return bounds
    if not isinstance(filters, Mapping):
        raise ArgumentError(
            "filters must be a mapping of metric name to a bound or a (low, high) pair; "
            f"got {type(filters).__name__}."
        )
    for name, bound in filters.items():
        _check_metric(name, "filters key")
        if isinstance(bound, tuple):
            if len(bound) != 2:
                raise ArgumentError(
                    f"filters[{name!r}] must be a number or a (low, high) pair; got {bound!r}."
                )
            low, high = (
                None if b is None else check_number(b, f"filters[{name!r}]") for b in bound
            )
        else:
            low, high = check_number(bound, f"filters[{name!r}]"), None
        old_low, old_high = bounds.get(name, (None, None))
        if old_low is not None and low is not None:
            low = max(low, old_low)
        bounds[name] = (low if low is not None else old_low, high if high is not None else old_high)
    return bounds


def association_rules(
    itemsets_or_transactions: Any,
    *,
    metric: str | None = None,
    min_threshold: float = 0.8,
    basket_col: str | None = None,
    item_col: str | None = None,
    min_support: float | None = None,
    max_len: int | None = None,
    filters: Mapping[str, float | tuple[float | None, float | None]] | None = None,
    support_only: bool = False,
    transactions: Any = None,
    allow_missing: bool = False,
) -> RulesResult:
    """Association rules ``A -> C`` from frequent itemsets, with their strength metrics.

    Every frequent itemset of size two or more yields one rule per non-empty proper
    subset taken as antecedent (the rest is the consequent).

    Parameters
    ----------
    itemsets_or_transactions : ItemsetsResult or DataFrame-like
        The output of :func:`frequent_itemsets` (or its ``to_frame()``: a pandas frame
        with ``itemsets`` and ``support``, e.g. read back from CSV or made by mlxtend),
        or a transaction log / one-hot frame as accepted by :func:`frequent_itemsets`
        (then ``min_support`` is required).
    metric : str, optional
        Metric that must reach ``min_threshold``; one of :data:`RULE_METRICS`. None
        (the default) means ``"confidence"``, or ``"support"`` with ``support_only``.
    min_threshold : float, default 0.8
        Rules with ``metric >= min_threshold`` are kept.
    basket_col, item_col, min_support, max_len
        Passed to :func:`frequent_itemsets` when a transaction log is given.
    filters : mapping, optional
        Further bounds on any metric: ``{"lift": 1.5}`` keeps ``lift >= 1.5`` and
        ``{"support": (0.01, 0.2)}`` keeps ``0.01 <= support <= 0.2`` (None: open end).
    support_only : bool, default False
        Compute the support alone (the other metric columns are NaN), for every rule of
        every itemset of two items or more, even when the frame lacks the antecedent or
        the consequent (a truncated itemsets frame). ``metric`` must then be
        ``"support"`` (or None).
    transactions : pandas.DataFrame, optional
        With an itemsets *frame* only: the one-hot frame it was mined from. The itemsets
        are counted again on it (the supports must agree with the frame's), which gives
        exact confidences and, with ``allow_missing``, the corrections for unknown
        entries. An :class:`ItemsetsResult` keeps its own counts and needs no frame.
    allow_missing : bool, default False
        Accept nulls in a one-hot frame (the first argument with ``min_support``, or
        ``transactions``) as unknown entries, as in :func:`frequent_itemsets`. The
        confidence of ``A -> C`` is then counted on the baskets that observe every item
        of ``A`` and ``C``, and ``representativity`` is the share of baskets that do
        (mlxtend's ``null_values=True``).

    Returns
    -------
    RulesResult
        Its table (``to_frame()``) has the columns ``antecedents``, ``consequents``
        (frozensets) and the metrics of :data:`RULE_METRICS`:
        ``antecedent_support``, ``consequent_support``, ``support``, ``confidence``,
        ``lift``, ``representativity`` (1 without unknown entries), ``leverage``,
        ``conviction`` (``inf`` when the confidence is 1), ``zhangs_metric`` (0 when its
        denominator is 0), ``jaccard``, ``certainty`` (0 when the consequent is in every
        basket) and ``kulczynski``; formulas in the module docstring of
        :mod:`crmmodels.basket`. Sorted by ``metric`` (descending), then support
        (descending), then antecedent and consequent in the order of
        :func:`frequent_itemsets` (with ``support_only``: support, then the itemset's
        order). No frequent itemset of two items or more gives an empty table with these
        columns.

    Raises
    ------
    DataError
        Unknown metric, itemsets frame not closed under subsets (without
        ``support_only``), supports that disagree with ``transactions``, or bad mining
        inputs.
    ArgumentError
        ``support_only`` with another metric or filter, ``transactions`` with anything
        but an itemsets frame, ``allow_missing`` with an itemsets frame but no
        ``transactions``.

    Notes
    -----
    All rules are enumerated at once per itemset size and antecedent mask; their supports
    are found by a vectorised sorted-key lookup and the metrics are array arithmetic
    (module docstring for the formulas).

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame(
    ...     {"order": [1, 1, 2, 2, 2, 3], "item": ["milk", "bread", "milk", "bread", "jam", "milk"]}
    ... )
    >>> rules = association_rules(
    ...     tx, basket_col="order", item_col="item", min_support=0.5, min_threshold=0.6
    ... )
    >>> table = rules.to_frame()
    >>> for a, c, conf in zip(table["antecedents"], table["consequents"], table["confidence"]):
    ...     print(sorted(a), "->", sorted(c), round(conf, 3))
    ['bread'] -> ['milk'] 1.0
    ['milk'] -> ['bread'] 0.667

    Unknown entries of a one-hot frame (NaN) are left out of each rule's counts:

    >>> onehot = pd.DataFrame(
    ...     {"milk": [1, 1, 1, 0], "bread": [1, float("nan"), 1, 1], "jam": [0, 1, 0, 1]}
    ... )
    >>> r = association_rules(
    ...     onehot, min_support=0.5, min_threshold=0.5, allow_missing=True
    ... ).to_frame()
    >>> r[["confidence", "representativity", "kulczynski"]].round(3).values.tolist()
    [[1.0, 0.75, 0.833], [0.667, 0.75, 0.833]]
    """
    support_only = check_bool(support_only, "support_only")
    allow_missing = check_bool(allow_missing, "allow_missing")
    if metric is None:
        metric = "support" if support_only else "confidence"
    metric = _check_metric(metric, "metric")
    bounds = _check_bounds(metric, min_threshold, filters)
    if support_only and set(bounds) != {"support"}:
        raise ArgumentError(
            "support_only computes the support alone: metric and filters can only be "
            f"'support' (got {sorted(set(bounds) - {'support'})}). Leave metric out."
        )
    _check_cols(basket_col=basket_col, item_col=item_col)
    mined = _resolve(
        itemsets_or_transactions,
        basket_col,
        item_col,
        min_support,
        max_len,
        what="association_rules",
        transactions=transactions,
        allow_missing=allow_missing,
    )
    if support_only:
        low, high = bounds["support"]
        table = support_only_rules(mined, -np.inf if low is None else low)
        if high is not None:
            table = table[table["support"] <= high].reset_index(drop=True)
        return RulesResult(rules=table, metric=metric, min_threshold=float(min_threshold))
    ant, con, metrics = rule_metrics(mined)
    keep = np.ones(len(ant), dtype=bool)
    for name, (low, high) in bounds.items():
        if low is not None:
            keep &= metrics[name] >= low
        if high is not None:
            keep &= metrics[name] <= high
    ant, con = ant[keep], con[keep]
    kept = {k: v[keep] for k, v in metrics.items()}
    order = np.lexsort((mined.rank[con], mined.rank[ant], -kept["support"], -kept[metric]))
    out: dict[str, Any] = {
        "antecedents": mined.sets[ant[order]],
        "consequents": mined.sets[con[order]],
    }
    out.update({k: v[order] for k, v in kept.items()})
    return RulesResult(rules=pd.DataFrame(out), metric=metric, min_threshold=float(min_threshold))


def association_rules_by_segment(
    transactions: Any,
    *,
    segment_col: str,
    basket_col: str,
    item_col: str,
    min_support: float,
    max_len: int | None = None,
    metric: str = "confidence",
    min_threshold: float = 0.8,
    filters: Mapping[str, float | tuple[float | None, float | None]] | None = None,
) -> RulesResult:
    """Association rules mined separately within each segment.

    Parameters
    ----------
    transactions : DataFrame-like
        Transaction log on any engine with a segment column (constant within a basket).
    segment_col : str
        Segment column; supports are shares of the segment's baskets.
    basket_col, item_col, min_support, max_len, metric, min_threshold, filters
        As in :func:`association_rules`.

    Returns
    -------
    RulesResult
        With ``segment_col`` set; its table has the columns of
        :func:`association_rules` preceded by ``segment_col``, segments in sorted order.
        A segment with no rule contributes no rows.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame(
    ...     {
    ...         "seg": ["a"] * 4 + ["b"] * 4,
    ...         "order": [1, 1, 2, 2, 3, 3, 4, 4],
    ...         "item": ["x", "y", "x", "y", "x", "z", "x", "z"],
    ...     }
    ... )
    >>> r = association_rules_by_segment(
    ...     tx, segment_col="seg", basket_col="order", item_col="item", min_support=0.5
    ... )
    >>> t = r.to_frame()
    >>> [(s, sorted(a), sorted(c)) for s, a, c in zip(t["seg"], t["antecedents"], t["consequents"])]
    [('a', ['x'], ['y']), ('a', ['y'], ['x']), ('b', ['x'], ['z']), ('b', ['z'], ['x'])]
    """
    _check_cols(segment_col=segment_col, basket_col=basket_col, item_col=item_col)
    metric = _check_metric(metric, "metric")
    _check_bounds(metric, min_threshold, filters)
    _check_min_support(min_support)
    _check_max_len(max_len)
    pairs = _distinct_pairs(transactions, [segment_col, basket_col, item_col])
    per_basket = pairs.groupby(basket_col, sort=False)[segment_col].nunique()
    bad = per_basket[per_basket > 1]
    if len(bad):
        raise DataError(
            "transactions: "
            + bad_rows_message(segment_col, "varies within a basket", len(bad), bad.index[0])
        )
    parts = []
    for segment, rows in pairs.groupby(segment_col, sort=True):
        rules = association_rules(
            rows[[basket_col, item_col]],
            basket_col=basket_col,
            item_col=item_col,
            min_support=min_support,
            max_len=max_len,
            metric=metric,
            min_threshold=min_threshold,
            filters=filters,
        ).rules
        rules.insert(0, segment_col, segment)
        parts.append(rules)
    return RulesResult(
        rules=pd.concat(parts, ignore_index=True),
        metric=metric,
        min_threshold=float(min_threshold),
        segment_col=segment_col,
    )
