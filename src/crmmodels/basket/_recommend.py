"""Bundle candidates and per-customer cross-sell suggestions from rules."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

import narwhals.stable.v2 as nw
import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import NDArray

from crmmodels._ingest.arguments import check_int, check_number
from crmmodels._ingest.frames import check_columns
from crmmodels.basket._mine import (
    FloatArray,
    IntArray,
    _check_cols,
    _check_min_support,
    _distinct_pairs,
    _factorize_items,
)
from crmmodels.basket._parse import _itemset_values
from crmmodels.basket._results import BundleCandidatesResult, CrossSellResult, RulesResult
from crmmodels.basket._rules import _resolve
from crmmodels.errors import DataError, SchemaError, bad_rows_message

#: rules as :func:`~crmmodels.basket.association_rules` returns them, or as a plain frame
RulesLike = RulesResult | pd.DataFrame


def bundle_candidates(
    itemsets_or_transactions: Any,
    *,
    min_lift: float = 1.2,
    min_support: float | None = None,
    min_size: int = 2,
    top_n: int | None = None,
    basket_col: str | None = None,
    item_col: str | None = None,
    max_len: int | None = None,
) -> BundleCandidatesResult:
    r"""Bundle candidates: frequent itemsets with high lift and support, ranked by a score.

    Parameters
    ----------
    itemsets_or_transactions : ItemsetsResult or DataFrame-like
        Output of :func:`frequent_itemsets` (or its ``to_frame()``), or a log / one-hot
        frame (``min_support`` then required).
    min_lift : float, default 1.2
        Keep itemsets whose lift (support over the product of item supports) is at least
        this.
    min_support : float, optional
        Minimum support (mining threshold for a log; a filter for an itemsets frame).
    min_size : int, default 2
        Smallest bundle size.
    top_n : int, optional
        Keep only the best ``top_n`` bundles.
    basket_col, item_col, max_len
        Passed to :func:`frequent_itemsets` when a log is given.

    Returns
    -------
    BundleCandidatesResult

    Notes
    -----
    For an itemset :math:`S` with support :math:`s(S)` and item supports :math:`s(i)`,

    .. math:: \mathrm{lift}(S) = \frac{s(S)}{\prod_{i \in S} s(i)}, \qquad
              \mathrm{score}(S) = s(S) - \prod_{i \in S} s(i),

    the score being the share of baskets holding the whole bundle beyond what
    independent purchases would give: it rewards bundles that are both common and
    strongly associated. Ties are broken by lift, then by the itemset order of
    :func:`frequent_itemsets`.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame(
    ...     {"order": [1, 1, 2, 2, 3, 4], "item": ["tea", "cake", "tea", "cake", "tea", "pen"]}
    ... )
    >>> b = bundle_candidates(tx, basket_col="order", item_col="item", min_support=0.25)
    >>> [(sorted(s), round(x, 3)) for s, x in zip(b.bundles["itemsets"], b.bundles["lift"])]
    [(['cake', 'tea'], 1.333)]
    """
    min_size = check_int(min_size, "min_size", low=1)
    min_lift = check_number(min_lift, "min_lift")
    top_n = None if top_n is None else check_int(top_n, "top_n", low=1)
    _check_cols(basket_col=basket_col, item_col=item_col)
    mined = _resolve(
        itemsets_or_transactions,
        basket_col,
        item_col,
        min_support,
        max_len,
        what="bundle_candidates",
    )
    floor = 0.0 if min_support is None else _check_min_support(min_support)
    singles = mined.itemsets[0] if mined.itemsets else np.zeros((0, 1), dtype=np.int64)
    single_support = np.zeros(len(mined.labels))
    single_support[singles[:, 0]] = mined.support[: len(singles)]
    ids: list[IntArray] = []
    expected: list[FloatArray] = []
    top: list[FloatArray] = []
    start = 0
    for k, rows in enumerate(mined.itemsets, start=1):
        if k >= min_size and len(rows):
            item_sup = single_support[rows]
            if (item_sup == 0).any():
                raise DataError("itemsets frame lacks the single items of its itemsets.")
            ids.append(start + np.arange(len(rows), dtype=np.int64))
            expected.append(np.prod(item_sup, axis=1))
            top.append(item_sup.max(axis=1))
        start += len(rows)
    gid = np.concatenate(ids) if ids else np.zeros(0, dtype=np.int64)
    exp = np.concatenate(expected) if expected else np.zeros(0)
    max_item = np.concatenate(top) if top else np.zeros(0)
    support = mined.support[gid]
    lift = support / exp if len(exp) else np.zeros(0)
    score = support - exp
    keep = (lift >= min_lift) & (support >= floor)
    order = np.lexsort((mined.rank[gid][keep], -lift[keep], -score[keep]))
    sel = np.flatnonzero(keep)[order]
    if top_n is not None:
        sel = sel[: int(top_n)]
    frame = pd.DataFrame(
        {
            "itemsets": mined.sets[gid[sel]],
            "size": np.fromiter((len(s) for s in mined.sets[gid[sel]]), dtype=np.int64),
            "support": support[sel],
            "expected_support": exp[sel],
            "lift": lift[sel],
            "all_confidence": support[sel] / max_item[sel],
            "score": score[sel],
        }
    )
    return BundleCandidatesResult(
        bundles=frame, min_lift=float(min_lift), min_support=floor, n_considered=len(gid)
    )


def _rules_as_sets(frame: pd.DataFrame) -> pd.DataFrame:
    """Rules whose antecedents / consequents are frozensets (text read from CSV parsed)."""
    parsed = {}
    for col in ("antecedents", "consequents"):
        values = frame[col]
        if all(isinstance(v, frozenset) for v in values):
            continue
        sets = np.empty(len(values), dtype=object)
        sets[:] = _itemset_values(values, col, "rules")
        parsed[col] = sets
    return frame.assign(**parsed) if parsed else frame


def _explode(sets: pd.Series, universe: pd.Index) -> tuple[IntArray, IntArray]:
    """(rule index, item id) pairs of a column of frozensets."""
    sizes = np.fromiter((len(s) for s in sets), dtype=np.int64, count=len(sets))
    flat = [x for s in sets for x in s]
    ids = universe.get_indexer(pd.Index(flat, dtype=object)) if flat else np.zeros(0, int)
    return np.repeat(np.arange(len(sets), dtype=np.int64), sizes), np.asarray(ids, np.int64)


def _suggest(
    cust: IntArray,
    item: IntArray,
    n_customers: int,
    rules: pd.DataFrame,
    universe: pd.Index,
    top_n: int,
) -> tuple[IntArray, IntArray, IntArray, FloatArray]:
    """Vectorised matching: (customer, item, rule, score) of the top suggestions."""
    empty = np.zeros(0, dtype=np.int64)
    if len(rules) == 0:
        return empty, empty, empty, np.zeros(0)
    n_items = len(universe)
    a_rule, a_item = _explode(rules["antecedents"], universe)
    c_rule, c_item = _explode(rules["consequents"], universe)
    n_rules = len(rules)
    a_size = np.bincount(a_rule, minlength=n_rules)
    score_rule = rules["confidence"].to_numpy(float) * rules["lift"].to_numpy(float)
    owned = sp.csr_matrix(
        (np.ones(len(cust), dtype=np.int32), (cust, item)), shape=(n_customers, n_items)
    )
    ant = sp.csr_matrix(
        (np.ones(len(a_rule), dtype=np.int32), (a_rule, a_item)), shape=(n_rules, n_items)
    )
    hits = sp.coo_matrix(owned @ ant.T)
    fired = hits.data == a_size[hits.col]
    f_cust, f_rule = hits.row[fired].astype(np.int64), hits.col[fired].astype(np.int64)
    # expand each fired rule to its consequent items
    c_order = np.argsort(c_rule, kind="stable")
    c_rule, c_item = c_rule[c_order], c_item[c_order]
    c_count = np.bincount(c_rule, minlength=n_rules)
    c_start = np.cumsum(c_count) - c_count
    reps = c_count[f_rule]
    s_cust = np.repeat(f_cust, reps)
    s_rule = np.repeat(f_rule, reps)
    offset = np.arange(int(reps.sum())) - np.repeat(np.cumsum(reps) - reps, reps)
    s_item = c_item[c_start[s_rule] + offset]
    # drop items the customer already owns
    owned_keys = np.sort(cust * n_items + item)
    keys = s_cust * n_items + s_item
    pos = np.searchsorted(owned_keys, keys)
    pos = np.minimum(pos, max(len(owned_keys) - 1, 0))
    new = owned_keys[pos] != keys if len(owned_keys) else np.ones(len(keys), bool)
    s_cust, s_rule, s_item = s_cust[new], s_rule[new], s_item[new]
    s_score = score_rule[s_rule]
    # best rule per (customer, item), then top_n items per customer
    order = np.lexsort((s_rule, -s_score, s_item, s_cust))
    s_cust, s_item, s_rule, s_score = s_cust[order], s_item[order], s_rule[order], s_score[order]
    first = np.ones(len(s_cust), dtype=bool)
    first[1:] = (s_cust[1:] != s_cust[:-1]) | (s_item[1:] != s_item[:-1])
    s_cust, s_item, s_rule, s_score = s_cust[first], s_item[first], s_rule[first], s_score[first]
    order = np.lexsort((s_item, -s_score, s_cust))
    s_cust, s_item, s_rule, s_score = s_cust[order], s_item[order], s_rule[order], s_score[order]
    top = _rank_within(s_cust) < top_n
    return s_cust[top], s_item[top], s_rule[top], s_score[top]


def cross_sell(
    transactions: Any,
    rules: RulesLike | Mapping[Any, RulesLike],
    *,
    customer_col: str = "customer_id",
    item_col: str = "item",
    top_n: int = 5,
    segment_col: str | None = None,
) -> CrossSellResult:
    r"""Per-customer cross-sell suggestions from association rules.

    A rule ``A -> C`` fires for a customer who has bought every item of ``A`` (over all
    their baskets); it then points to each item of ``C`` the customer does not own yet.

    Parameters
    ----------
    transactions : DataFrame-like
        Purchase history on any engine, one row per customer and item (repeats ignored).
    rules : RulesResult, pandas.DataFrame or mapping
        Output of :func:`association_rules`, or a frame with its columns (needs
        ``antecedents``, ``consequents``, ``confidence`` and ``lift``). With
        ``segment_col``: either a mapping from segment to its rules, or one table with a
        ``segment_col`` column (as returned by :func:`association_rules_by_segment`).
    customer_col, item_col : str
        Customer id and item columns.
    top_n : int, default 5
        Suggestions kept per customer.
    segment_col : str, optional
        Segment column of ``transactions`` (constant per customer); each customer gets
        the rules of their own segment.

    Returns
    -------
    CrossSellResult

    Raises
    ------
    SchemaError
        Missing columns in ``transactions`` or ``rules``.
    DataError
        Nulls, empty input, bad ``top_n`` or a segment that varies within a customer.

    Notes
    -----
    The score of a suggested item ``j`` for customer ``u`` is

    .. math:: \mathrm{score}(u, j) = \max_{r: A_r \subseteq O_u,\ j \in C_r \setminus O_u}
              \mathrm{confidence}_r \times \mathrm{lift}_r,

    with :math:`O_u` the items the customer owns: the best rule's chance that ``j``
    follows, weighted by how much that beats ``j``'s base rate. Ties are broken by item
    order. Matching is one sparse product (customers x items times items x rules).

    Examples
    --------
    >>> import pandas as pd
    >>> rules = pd.DataFrame(
    ...     {
    ...         "antecedents": [frozenset({"tea"}), frozenset({"tea", "cake"})],
    ...         "consequents": [frozenset({"cake"}), frozenset({"jam"})],
    ...         "confidence": [0.8, 0.5],
    ...         "lift": [2.0, 3.0],
    ...     }
    ... )
    >>> hist = pd.DataFrame({"customer_id": [1, 2, 2], "item": ["tea", "tea", "cake"]})
    >>> cs = cross_sell(hist, rules)
    >>> print(cs.suggestions[["customer_id", "rank", "item", "score"]].to_string(index=False))
     customer_id  rank item  score
               1     1 cake    1.6
               2     1  jam    1.5
    """
    top_n = check_int(top_n, "top_n", low=1)
    _check_cols(customer_col=customer_col, item_col=item_col, segment_col=segment_col)
    cols = [customer_col, item_col] + ([segment_col] if segment_col else [])
    pairs = _distinct_pairs(transactions, cols)
    tables = _rule_tables(rules, segment_col)
    cust, customers = pd.factorize(pairs[customer_col].to_numpy())
    universe = _item_universe(pairs[item_col], tables)
    item = np.asarray(
        universe.get_indexer(pd.Index(pairs[item_col].to_numpy(), dtype=object)), dtype=np.int64
    )
    groups = _segment_groups(pairs, tables, customer_col, segment_col)
    frame, n_suggested = _suggestions(
        groups,
        np.asarray(cust, dtype=np.int64),
        item,
        pd.Series(customers).to_numpy(),
        universe,
        top_n,
        (customer_col, item_col, segment_col),
    )
    used = (
        pd.concat(list(tables.values()), ignore_index=True)
        if isinstance(tables, Mapping)
        else tables
    )
    return CrossSellResult(
        suggestions=frame,
        rules=used.reset_index(drop=True),
        n_customers=len(customers),
        n_without_suggestions=len(customers) - n_suggested,
        top_n=int(top_n),
    )


_RULE_COLUMNS = ["antecedents", "consequents", "confidence", "lift"]
_Group = tuple[Any, NDArray[np.bool_], pd.DataFrame]


def _rule_tables(
    rules: RulesLike | Mapping[Any, RulesLike], segment_col: str | None
) -> pd.DataFrame | dict[Any, pd.DataFrame]:
    """The rules as checked frames of frozensets (a :class:`RulesResult` gives its table)."""
    per_segment = isinstance(rules, Mapping)

    def table(r: Any) -> pd.DataFrame:
        frame = r.rules if isinstance(r, RulesResult) else r
        if not isinstance(frame, pd.DataFrame):
            raise SchemaError(
                "rules must be the RulesResult of association_rules or a pandas DataFrame; "
                f"got {type(frame).__name__}."
            )
        need = _RULE_COLUMNS + ([segment_col] if segment_col and not per_segment else [])
        check_columns(nw.from_native(frame), need, what="rules")
        return frame

    if isinstance(rules, Mapping):
        return {key: _rules_as_sets(table(r)) for key, r in rules.items()}
    return _rules_as_sets(table(rules))


def _item_universe(items: pd.Series, tables: pd.DataFrame | Mapping[Any, pd.DataFrame]) -> pd.Index:
    """Every item of the log (in sorted order) and then those only the rules name."""
    frames = tables.values() if isinstance(tables, Mapping) else [tables]
    rule_items = [
        x for fr in frames for col in ("antecedents", "consequents") for s in fr[col] for x in s
    ]
    _, tx_labels = _factorize_items(items.to_numpy())
    labels = np.concatenate([tx_labels, np.asarray(rule_items, dtype=object)])
    universe: pd.Index = pd.Index(pd.unique(labels))
    return universe


def _segment_groups(
    pairs: pd.DataFrame,
    tables: pd.DataFrame | Mapping[Any, pd.DataFrame],
    customer_col: str,
    segment_col: str | None,
) -> list[_Group]:
    """(segment, its rows of ``pairs``, its rules) for each segment (one group without)."""
    if segment_col is None:
        if isinstance(tables, Mapping):
            raise SchemaError("rules given per segment (a mapping) need segment_col.")
        return [(None, np.ones(len(pairs), dtype=bool), tables)]
    seg_per_cust = pairs.groupby(customer_col, sort=False)[segment_col].nunique()
    bad = seg_per_cust[seg_per_cust > 1]
    if len(bad):
        raise DataError(
            "transactions: "
            + bad_rows_message(segment_col, "varies within a customer", len(bad), bad.index[0])
        )
    seg_values = pairs[segment_col].to_numpy()
    groups: list[_Group] = []
    for segment in pd.unique(seg_values):  # one pass per segment (a handful)
        if isinstance(tables, Mapping):
            seg_rules = tables.get(segment, tables.get(str(segment)))
            if seg_rules is None:
                seg_rules = pd.DataFrame(columns=_RULE_COLUMNS)
        else:
            seg_rules = tables[tables[segment_col] == segment]
        groups.append((segment, seg_values == segment, seg_rules.reset_index(drop=True)))
    return groups


def _suggestions(
    groups: list[_Group],
    cust: IntArray,
    item: IntArray,
    customers: NDArray[Any],
    universe: pd.Index,
    top_n: int,
    names: tuple[str, str, str | None],
) -> tuple[pd.DataFrame, int]:
    """The best ``top_n`` items per customer over the segments, and the customers served."""
    customer_col, item_col, segment_col = names
    parts: list[dict[str, Any]] = []
    for segment, rows, seg_rules in groups:
        c, j, r, s = _suggest(cust[rows], item[rows], len(customers), seg_rules, universe, top_n)
        ant = np.empty(len(seg_rules), dtype=object)
        ant[:] = list(seg_rules["antecedents"])
        seg = np.empty(len(c), dtype=object)
        seg[:] = segment
        parts.append(
            {
                "c": c,
                "i": j,
                "s": s,
                "seg": seg,
                "confidence": seg_rules["confidence"].to_numpy(float)[r],
                "lift": seg_rules["lift"].to_numpy(float)[r],
                "antecedents": ant[r],
            }
        )
    cols = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    order = np.lexsort((cols["i"], -cols["s"], cols["c"]))
    cols = {k: v[order] for k, v in cols.items()}
    frame = pd.DataFrame({customer_col: customers[cols["c"]]})  # ids keep their dtype
    if segment_col is not None:
        frame[segment_col] = cols["seg"]
    frame["rank"] = _rank_within(cols["c"]) + 1
    frame[item_col] = np.asarray(universe, dtype=object)[cols["i"]]
    frame["score"] = cols["s"]
    for k in ("confidence", "lift", "antecedents"):
        frame[k] = cols[k]
    with contextlib.suppress(TypeError):  # ids that do not sort keep first-seen order
        frame = frame.sort_values([customer_col, "rank"], kind="stable", ignore_index=True)
    return frame, len(np.unique(cols["c"]))


def _rank_within(keys: IntArray) -> IntArray:
    """0-based position of each row within its run of equal (sorted) ``keys``."""
    if len(keys) == 0:
        return np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(np.concatenate([[True], keys[1:] != keys[:-1]]))
    return np.arange(len(keys)) - np.repeat(starts, np.diff(np.append(starts, len(keys))))
