r"""The metrics of association rules, and the counts behind them.

For a rule :math:`A \Rightarrow C`, :math:`s(X)` is the support of :math:`X` and
:math:`n(X)` its basket count. With unknown entries (a one-hot frame mined with
``allow_missing=True``) :math:`s(X)` is a share of the baskets observing :math:`X` and
the confidence is counted on the baskets that observe :math:`A \cup C`. The formulas are
in ``docs/basket.md``; they are mlxtend's (0.25).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from crmmodels.basket._mine import FloatArray, IntArray, _Mined, _rank, _read_onehot
from crmmodels.errors import DataError, SchemaError
from crmmodels.kernels.basket import enumerate_rules
from crmmodels.kernels.basket_missing import (
    MissingIncidence,
    count_present_and_unknown,
    itemset_counts,
    rule_items,
)

RULE_METRICS = (
    "antecedent_support",
    "consequent_support",
    "support",
    "confidence",
    "lift",
    "representativity",
    "leverage",
    "conviction",
    "zhangs_metric",
    "jaccard",
    "certainty",
    "kulczynski",
)


def _padded_rows(mined: _Mined) -> IntArray:
    """Item ids of every itemset (global order), padded with -1 to the largest size."""
    width = max(1, len(mined.itemsets))
    parts = [
        np.pad(r.astype(np.int64), ((0, 0), (0, width - r.shape[1])), constant_values=-1)
        for r in mined.itemsets
        if len(r)
    ]
    return np.concatenate(parts) if parts else np.zeros((0, width), dtype=np.int64)


def _confidences(
    mined: _Mined, ant: IntArray, con: IntArray, whole: IntArray
) -> tuple[FloatArray, FloatArray]:
    """Confidence of ``A -> C`` and of ``C -> A``.

    A ratio of basket counts when the counts are known (correctly rounded); with unknown
    entries the denominator counts only the baskets holding the antecedent that observe
    the consequent.
    """
    if mined.counts is None:
        s_ac = mined.support[whole]
        return s_ac / mined.support[ant], s_ac / mined.support[con]
    n_ac = mined.counts[whole].astype(np.float64)
    n_a = mined.counts[ant].astype(np.float64)
    n_c = mined.counts[con].astype(np.float64)
    if mined.incidence is not None:
        rows = _padded_rows(mined)
        n_a = n_a - count_present_and_unknown(mined.incidence, rows[ant], rows[con])
        n_c = n_c - count_present_and_unknown(mined.incidence, rows[con], rows[ant])
    return n_ac / n_a, n_ac / n_c


def rule_metrics(mined: _Mined) -> tuple[IntArray, IntArray, dict[str, FloatArray]]:
    """Antecedent and consequent ids of every rule and its metrics (``RULE_METRICS``)."""
    index = enumerate_rules(mined.itemsets)
    if (index.antecedent < 0).any() or (index.consequent < 0).any():
        raise DataError(
            "itemsets frame is not closed under subsets (an antecedent or consequent of a "
            "rule is missing); pass the full output of frequent_itemsets, not a filtered "
            "one, or pass support_only=True to get the support of every rule alone."
        )
    ant, con, whole = index.antecedent, index.consequent, index.itemset
    s_a, s_c, s_ac = mined.support[ant], mined.support[con], mined.support[whole]
    confidence, reverse = _confidences(mined, ant, con, whole)
    if mined.observed is not None and mined.n_baskets:
        representativity = mined.observed[whole] / mined.n_baskets
    else:
        representativity = np.ones(len(whole))
    leverage = s_ac - s_a * s_c
    below = confidence < 1.0
    conviction = np.full(len(whole), np.inf)
    conviction[below] = (1.0 - s_c[below]) / (1.0 - confidence[below])
    denominator = np.maximum(s_ac * (1.0 - s_a), s_a * (s_c - s_ac))
    zhang = np.zeros(len(whole))
    safe = denominator != 0
    zhang[safe] = leverage[safe] / denominator[safe]
    certainty = np.zeros(len(whole))
    uncertain = s_c != 1.0
    certainty[uncertain] = (confidence[uncertain] - s_c[uncertain]) / (1.0 - s_c[uncertain])
    metrics = {
        "antecedent_support": s_a,
        "consequent_support": s_c,
        "support": s_ac,
        "confidence": confidence,
        "lift": confidence / s_c,
        "representativity": representativity,
        "leverage": leverage,
        "conviction": conviction,
        "zhangs_metric": zhang,
        "jaccard": s_ac / (s_a + s_c - s_ac),
        "certainty": certainty,
        "kulczynski": (confidence + reverse) / 2.0,
    }
    return ant, con, metrics


def support_only_rules(mined: _Mined, min_threshold: float) -> pd.DataFrame:
    """Every rule of every itemset of two items or more, with its support alone.

    The antecedents and consequents need not be among the itemsets. Rules are sorted by
    support (descending), then by the order of their itemset, then antecedent size.
    """
    whole, ant_rows, con_rows = rule_items(mined.itemsets)
    support = mined.support[whole]
    keep = support >= min_threshold
    whole, ant_rows, con_rows, support = whole[keep], ant_rows[keep], con_rows[keep], support[keep]
    order = np.lexsort((np.arange(len(whole)), mined.rank[whole], -support))
    out: dict[str, Any] = {
        "antecedents": _label_sets(mined, ant_rows[order]),
        "consequents": _label_sets(mined, con_rows[order]),
    }
    for name in RULE_METRICS:
        out[name] = np.full(len(order), np.nan)
    out["support"] = support[order]
    return pd.DataFrame(out)


def _label_sets(mined: _Mined, rows: IntArray) -> np.ndarray[Any, np.dtype[np.object_]]:
    out = np.empty(len(rows), dtype=object)
    labels = mined.labels
    out[:] = [frozenset(labels[r[r >= 0]].tolist()) for r in rows]
    return out


def with_transactions(mined: _Mined, transactions: Any, allow_missing: bool) -> _Mined:
    """Itemsets of a frame, counted again on the one-hot frame they were mined from.

    The supports of the frame must agree with the counts (1e-9); the counts then give
    exact confidences, and unknown entries the corrected ones.
    """
    onehot = _read_onehot(transactions, allow_missing)
    position = pd.Index(onehot.labels).get_indexer(pd.Index(mined.labels))
    if (position < 0).any():
        absent = [mined.labels[j] for j in np.flatnonzero(position < 0)]
        raise SchemaError(
            f"transactions has no column for {len(absent)} item(s) of the itemsets, e.g. "
            f"{absent[0]!r}; pass the one-hot frame the itemsets were mined from."
        )
    itemsets: list[IntArray] = []
    perm: list[IntArray] = []
    start = 0
    for rows in mined.itemsets:
        moved = np.sort(position[rows], axis=1)
        order = np.lexsort(moved.T[::-1]) if len(moved) else np.zeros(0, dtype=np.int64)
        itemsets.append(moved[order])
        perm.append(start + order)
        start += len(rows)
    ids = np.concatenate(perm) if perm else np.zeros(0, dtype=np.int64)
    incidence = MissingIncidence.from_pairs(
        onehot.basket,
        onehot.item,
        onehot.unknown_basket,
        onehot.unknown_item,
        n_baskets=onehot.n_baskets,
        n_items=len(onehot.labels),
    )
    counts, observed = itemset_counts(incidence, tuple(itemsets))
    with np.errstate(divide="ignore", invalid="ignore"):
        support = np.where(observed > 0, counts / np.maximum(observed, 1), 0.0)
    given = mined.support[ids]
    off = np.abs(support - given) > 1e-9
    if off.any():
        j = int(np.argmax(off))
        raise DataError(
            f"itemsets frame: {int(off.sum())} support(s) differ from the counts in "
            f"transactions, e.g. {sorted(mined.sets[ids][j], key=str)} has support "
            f"{given[j]:.6g} in the frame and {support[j]:.6g} in transactions; pass the "
            "one-hot frame the itemsets were mined from"
            + ("" if allow_missing else " (with allow_missing=True if it holds nulls)")
            + "."
        )
    missing = len(onehot.unknown_basket) > 0
    its = tuple(itemsets)
    return replace(
        mined,
        itemsets=its,
        support=support,
        sets=mined.sets[ids],
        rank=_rank(its, support),
        labels=onehot.labels,
        n_baskets=onehot.n_baskets,
        counts=counts,
        observed=observed if missing else None,
        incidence=incidence if missing else None,
        n_missing_entries=len(onehot.unknown_basket),
    )
