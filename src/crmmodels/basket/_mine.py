r"""Market-basket analysis: frequent itemsets, association rules, bundles and cross-selling.

Cross-selling after Kamakura et al. (2003), with the association rules of Agrawal,
Imielinski & Swami (1993). A transaction log (one row per basket and
item, on any engine) is reduced engine-side to its distinct ``(basket, item)`` pairs; the
pairs are factorised into integer ids and mined on a sparse incidence by
:func:`crmmodels.kernels.itemsets.mine_itemsets` (never a dense one-hot frame).

Definitions, for a rule :math:`A \Rightarrow C` over :math:`N` baskets, with
:math:`s(X)` the share of baskets that hold every item of :math:`X`:

* support :math:`s(A \cup C)`; confidence :math:`s(A \cup C) / s(A)`;
* lift :math:`\mathrm{conf} / s(C)`; leverage :math:`s(A \cup C) - s(A)s(C)`;
* conviction :math:`(1 - s(C)) / (1 - \mathrm{conf})`, ``inf`` when the confidence is 1;
* Zhang's metric :math:`\mathrm{leverage} / \max\{s(A \cup C)(1 - s(A)),
  s(A)(s(C) - s(A \cup C))\}`, 0 when the denominator is 0.

These are the definitions used by mlxtend, whose results the tests reproduce exactly.
"""

from __future__ import annotations

import ast
import contextlib
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import narwhals.stable.v2 as nw
import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import NDArray

from crmmodels._frames import check_columns, check_not_null, collect, to_narwhals
from crmmodels._ingest.arguments import (
    check_choice,
    check_column_name,
    check_int,
    check_number,
)
from crmmodels._progress import Progress
from crmmodels._results import Result
from crmmodels.errors import ArgumentError, DataError, SchemaError, bad_rows_message
from crmmodels.kernels.itemsets import enumerate_rules, mine_itemsets_owned

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "RULE_METRICS",
    "BundleCandidates",
    "CrossSellResult",
    "association_rules",
    "association_rules_by_segment",
    "bundle_candidates",
    "cross_sell",
    "frequent_itemsets",
]

RULE_METRICS = (
    "antecedent_support",
    "consequent_support",
    "support",
    "confidence",
    "lift",
    "leverage",
    "conviction",
    "zhangs_metric",
)

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]


# --------------------------------------------------------------------------- internals
@dataclass(frozen=True)
class _Mined:
    """Frequent itemsets as item-id rows by size, with supports and display objects."""

    itemsets: tuple[IntArray, ...]  # per size, rows sorted, lexicographic
    support: FloatArray  # per global id (size by size)
    sets: NDArray[np.object_]  # frozenset of labels per global id
    rank: IntArray  # position of each global id in the documented output order
    labels: NDArray[Any]  # item id -> label
    n_baskets: int | None
    counts: IntArray | None = None  # basket counts per global id, when mined here

    def frame(self) -> pd.DataFrame:
        order = np.argsort(self.rank)
        out = pd.DataFrame({"itemsets": self.sets[order], "support": self.support[order]})
        if self.n_baskets is not None:
            out.attrs["n_baskets"] = self.n_baskets
        return out


def _check_min_support(min_support: Any) -> float:
    return check_number(
        min_support,
        "min_support",
        low=0.0,
        high=1.0,
        low_open=True,
        fix="It is a share of baskets; for a count c of baskets pass c / n_baskets.",
    )


def _check_max_len(max_len: Any) -> int | None:
    return None if max_len is None else check_int(max_len, "max_len", low=1)


# --------------------------------------------------------------------------- itemset text
#: numpy scalar constructors that may appear in the text of an itemset (numpy >= 2 writes
#: ``np.int64(3)`` for a numpy integer inside a set)
_NUMPY_SCALARS = frozenset(
    {"int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "intp"}
    | {"float16", "float32", "float64", "str_", "bool_", "bytes_"}
)
_ITEMSET_FORMS = (
    "Each value must be a frozenset (or set, list or tuple) of items, or its text as "
    "written by frequent_itemsets / association_rules / mlxtend and read back from CSV, "
    "e.g. \"frozenset({'a', 'b'})\". Store itemsets in a format that keeps Python "
    "objects (pickle) or convert the column to frozensets before the call."
)


def _item_literal(node: ast.AST) -> Any:
    """One item of an itemset's text: a literal number or string (numpy scalars too)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, (str, bytes, int, float)):
        return node.value
    if (
        isinstance(node, ast.UnaryOp)
        and isinstance(node.op, (ast.USub, ast.UAdd))
        and isinstance(node.operand, ast.Constant)
        and isinstance(node.operand.value, (int, float))
        and not isinstance(node.operand.value, bool)
    ):
        value = node.operand.value
        return -value if isinstance(node.op, ast.USub) else value
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id in ("np", "numpy")
        and node.func.attr in _NUMPY_SCALARS
        and len(node.args) == 1
        and not node.keywords
    ):
        return _item_literal(node.args[0])
    raise ValueError("not a literal item")


def _parse_itemset(text: str) -> frozenset[Any]:
    """The itemset written in ``text`` (``"frozenset({'a', 1})"``, ``"{'a'}"``, ``"['a']"``).

    The text is parsed, never evaluated: only literal strings and numbers (and numpy
    scalar constructors around them) are accepted as items.
    """
    tree = ast.parse(text.strip(), mode="eval").body
    if (
        isinstance(tree, ast.Call)
        and isinstance(tree.func, ast.Name)
        and tree.func.id in ("frozenset", "set")
        and len(tree.args) <= 1
        and not tree.keywords
    ):
        if not tree.args:
            return frozenset()
        tree = tree.args[0]
    if not isinstance(tree, (ast.Set, ast.List, ast.Tuple)):
        raise ValueError("not a collection of items")
    return frozenset(_item_literal(e) for e in tree.elts)


def _itemset_values(values: Any, column: str, what: str) -> list[frozenset[Any]]:
    """A column of itemsets as frozensets; text is parsed (a string is never its characters).

    Raises :class:`DataError` naming the column, the number of bad values and the first.
    """
    out: list[frozenset[Any]] = []
    n_bad = 0
    example: Any = None
    parsed: dict[str, frozenset[Any]] = {}
    for value in values:
        if isinstance(value, frozenset):
            out.append(value)
            continue
        result: frozenset[Any] | None = None
        if isinstance(value, (str, np.str_)):
            text = str(value)
            result = parsed.get(text)
            if result is None:
                try:
                    result = _parse_itemset(text)
                except (SyntaxError, ValueError, TypeError, RecursionError, MemoryError):
                    result = None
                else:
                    parsed[text] = result
        elif isinstance(value, (set, list, tuple, np.ndarray)):
            try:
                result = frozenset(value.tolist() if isinstance(value, np.ndarray) else value)
            except TypeError:
                result = None
        if result is None:
            n_bad += 1
            if example is None:
                example = value
            out.append(frozenset())
        else:
            out.append(result)
    if n_bad:
        raise DataError(
            f"{what}: "
            + bad_rows_message(column, "is not an itemset", n_bad, example, _ITEMSET_FORMS)
        )
    return out


def _factorize_items(values: Any) -> tuple[IntArray, NDArray[Any]]:
    """Integer codes with labels in sorted order (first-seen order if labels don't sort).

    Integer ids of moderate range are coded by a presence table and a cumulative sum
    (no hashing, little memory); anything else goes through ``pandas.factorize``.
    """
    arr = values.to_numpy() if isinstance(values, pd.Series) else np.asarray(values)
    if isinstance(arr, np.ndarray) and arr.dtype.kind in "iu" and len(arr):
        lo, hi = int(arr.min()), int(arr.max())
        span = hi - lo + 1
        if span <= 4 * len(arr) + 1024:
            shifted = arr - lo if lo else arr
            present = np.zeros(span, dtype=bool)
            present[shifted] = True
            code = np.cumsum(present, dtype=np.int64)
            code -= 1
            labels = np.flatnonzero(present) + lo
            code_dtype = np.int32 if span < 2**31 else np.int64
            return code.astype(code_dtype)[shifted], labels.astype(arr.dtype)
    try:
        codes, uniques = pd.factorize(values, sort=True)
    except TypeError:
        codes, uniques = pd.factorize(values, sort=False)
    labels_obj = np.empty(len(uniques), dtype=object)
    labels_obj[:] = list(np.asarray(uniques, dtype=object))
    return np.asarray(codes, dtype=np.int64), labels_obj


def _distinct_pairs(
    transactions: Any, cols: list[str], *, what: str = "transactions"
) -> pd.DataFrame:
    """Distinct rows of ``cols`` computed on the caller's engine, collected to pandas."""
    frame = to_narwhals(transactions, what=what)
    check_columns(frame, cols, what=what)
    check_not_null(frame, cols, what=what)
    pairs = collect(frame.select(cols).unique()).to_pandas()
    if len(pairs) == 0:
        raise DataError(f"{what} is empty: no rows to analyse.")
    return pairs


def _incidence_from_log(
    transactions: Any, basket_col: str, item_col: str
) -> tuple[IntArray, IntArray, int, NDArray[Any]]:
    """Distinct (basket, item) pairs as integer ids sorted by basket then item.

    Lazy and non-pandas engines compute the distinct pairs themselves before collecting;
    a pandas frame is read as it is and de-duplicated on integer codes (cheaper than
    hashing rows).
    """
    what = "transactions"
    frame = to_narwhals(transactions, what=what)
    check_columns(frame, [basket_col, item_col], what=what)
    check_not_null(frame, [basket_col, item_col], what=what)
    native = nw.to_native(frame)
    if isinstance(native, pd.DataFrame):
        b_values: Any = native[basket_col]
        i_values: Any = native[item_col]
    else:
        pairs = collect(frame.select(basket_col, item_col).unique()).to_pandas()
        b_values, i_values = pairs[basket_col], pairs[item_col]
    if len(b_values) == 0:
        raise DataError(f"{what} is empty: no rows to analyse.")
    basket, _ = _factorize_items(b_values)
    item, labels = _factorize_items(i_values)
    n_items = len(labels)
    # one integer key per pair; sorting it in place orders pairs by basket, then item
    key = basket.astype(np.int64)
    del basket
    key *= n_items
    key += item
    del item
    key.sort()
    if len(key) > 1:
        dup = np.equal(key[1:], key[:-1])
        if dup.any():
            key = key[np.concatenate([[True], ~dup])]
        del dup
    id_dtype = np.int32 if max(int(key[-1]) // n_items + 1, n_items) < 2**31 else np.int64
    basket = np.empty(len(key), dtype=id_dtype)
    item = np.empty(len(key), dtype=id_dtype)
    np.floor_divide(key, n_items, out=basket, casting="same_kind")
    np.remainder(key, n_items, out=item, casting="same_kind")
    return basket, item, int(basket[-1]) + 1, labels


def _incidence_from_onehot(
    frame: pd.DataFrame,
) -> tuple[IntArray, IntArray, int, NDArray[np.object_]]:
    if frame.shape[0] == 0 or frame.shape[1] == 0:
        raise DataError("one-hot frame is empty: no rows or no item columns.")
    columns = list(frame.columns)
    if all(isinstance(t, pd.SparseDtype) for t in frame.dtypes):
        accessor: Any = frame.sparse
        coo = sp.coo_matrix(accessor.to_coo())
        rows = np.asarray(coo.row, dtype=np.int64)
        cols = np.asarray(coo.col, dtype=np.int64)
        data = np.asarray(coo.data, dtype=float)
        if np.isnan(data).any():
            raise DataError("one-hot frame holds nulls; use True/False or 1/0 only.")
        on = data != 0
        bad = ~np.isin(data, [0.0, 1.0])
        rows, cols = rows[on], cols[on]
    else:
        try:
            values = frame.to_numpy(dtype=float, na_value=np.nan)
        except (TypeError, ValueError) as exc:
            raise SchemaError(
                "without basket_col and item_col the input must be a one-hot frame "
                "(one boolean or 0/1 column per item); pass basket_col and item_col for a "
                "transaction log."
            ) from exc
        nulls = np.isnan(values)
        if nulls.any():
            r, c = np.argwhere(nulls)[0]
            raise DataError(
                "one-hot frame: "
                + bad_rows_message(
                    str(columns[c]), "is null", int(nulls.any(axis=1).sum()), f"row {r}"
                )
            )
        bad = ~np.isin(values, [0.0, 1.0])
        nz = np.nonzero(values)
        rows, cols = nz[0].astype(np.int64), nz[1].astype(np.int64)
    if bad.any():
        raise DataError(
            "one-hot frame holds values other than True/False or 1/0; pass basket_col and "
            "item_col for a transaction log."
        )
    try:
        order = np.argsort(np.asarray(columns, dtype=object), kind="stable")
    except TypeError:
        order = np.arange(len(columns))
    new_id = np.empty(len(columns), dtype=np.int64)
    new_id[order] = np.arange(len(columns))
    labels = np.empty(len(columns), dtype=object)
    labels[:] = [columns[j] for j in order]
    return (
        np.asarray(rows, dtype=np.int64),
        new_id[np.asarray(cols, dtype=np.int64)],
        frame.shape[0],
        labels,
    )


def _rank(itemsets: tuple[IntArray, ...], support: FloatArray) -> IntArray:
    """Output order: size ascending, support descending, then items in sorted order."""
    order_parts = []
    start = 0
    for rows in itemsets:
        m = len(rows)
        part = np.argsort(-support[start : start + m], kind="stable") + start
        order_parts.append(part)
        start += m
    order = np.concatenate(order_parts) if order_parts else np.zeros(0, dtype=np.int64)
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    return rank


def _sets(itemsets: tuple[IntArray, ...], labels: NDArray[Any]) -> NDArray[np.object_]:
    out = np.empty(sum(len(r) for r in itemsets), dtype=object)
    pos = 0
    for rows in itemsets:
        out[pos : pos + len(rows)] = [frozenset(r) for r in labels[rows].tolist()]
        pos += len(rows)
    return out


def _level_reporter(report: Progress) -> Callable[[int, int], None]:
    def on_level(k: int, n: int) -> None:
        report.info("%d frequent itemsets of size %d", n, k)

    return on_level


def _mine(
    transactions: Any,
    basket_col: str | None,
    item_col: str | None,
    min_support: Any,
    max_len: Any,
    report: Progress | None = None,
) -> _Mined:
    support_min = _check_min_support(min_support)
    limit = _check_max_len(max_len)
    _check_cols(basket_col=basket_col, item_col=item_col)
    if basket_col is None and item_col is None:
        if not isinstance(transactions, pd.DataFrame):
            raise SchemaError(
                "pass basket_col and item_col for a transaction log; without them the input "
                f"must be a one-hot pandas DataFrame (got {type(transactions).__name__})."
            )
        basket, item, n_baskets, labels = _incidence_from_onehot(transactions)
    elif basket_col is None or item_col is None:
        raise SchemaError("pass both basket_col and item_col (or neither, for one-hot input).")
    else:
        basket, item, n_baskets, labels = _incidence_from_log(transactions, basket_col, item_col)
    # smallest count c with c / n >= min_support (a relative 1e-12 guards float rounding)
    min_count = max(1, math.ceil(support_min * n_baskets * (1.0 - 1e-12)))
    owned: list[NDArray[np.integer]] = [basket, item]
    del basket, item  # the kernel frees the pairs once it has pruned them
    if report is not None:
        report.info(
            "%d baskets, %d items, %d (basket, item) pairs; itemsets in at least %d baskets",
            n_baskets,
            len(labels),
            len(owned[0]),
            min_count,
        )
    levels = mine_itemsets_owned(
        owned,
        n_baskets=n_baskets,
        n_items=len(labels),
        min_count=min_count,
        max_len=limit,
        on_level=None if report is None else _level_reporter(report),
    )
    support = (
        np.concatenate(levels.counts).astype(np.float64) / n_baskets
        if levels.counts
        else np.zeros(0)
    )
    return _Mined(
        itemsets=levels.itemsets,
        support=support,
        sets=_sets(levels.itemsets, labels),
        rank=_rank(levels.itemsets, support),
        labels=labels,
        n_baskets=n_baskets,
        counts=np.concatenate(levels.counts) if levels.counts else None,
    )


def _support_values(frame: pd.DataFrame) -> FloatArray:
    """The ``support`` column of an itemsets frame: shares in (0, 1]."""
    try:
        support = pd.to_numeric(frame["support"], errors="raise").to_numpy(
            dtype=np.float64, na_value=np.nan
        )
    except (TypeError, ValueError) as exc:
        raise SchemaError(
            "itemsets frame: column 'support' must be numeric (a share of baskets)."
        ) from exc
    bad = ~((support > 0.0) & (support <= 1.0))
    if bad.any():
        first = int(np.argmax(bad))
        raise DataError(
            "itemsets frame: "
            + bad_rows_message(
                "support",
                "is not a share of baskets in (0, 1]",
                int(bad.sum()),
                float(support[first]),
                "Pass the output of frequent_itemsets.",
            )
        )
    return support


def _from_itemsets_frame(frame: pd.DataFrame) -> _Mined:
    """Rebuild the sorted id rows of an ``itemsets`` / ``support`` frame."""
    sets = _itemset_values(frame["itemsets"], "itemsets", "itemsets frame")
    sizes = np.fromiter((len(s) for s in sets), dtype=np.int64, count=len(sets))
    if len(sets) and sizes.min() < 1:
        raise DataError("itemsets frame holds an empty itemset.")
    support_in = _support_values(frame)
    flat = [x for s in sets for x in s]
    codes, labels = _factorize_items(np.asarray(flat, dtype=object))
    owner = np.repeat(np.arange(len(sets)), sizes)
    itemsets: list[IntArray] = []
    supports: list[FloatArray] = []
    source: list[IntArray] = []
    max_k = int(sizes.max()) if len(sets) else 0
    for k in range(1, max_k + 1):
        idx = np.flatnonzero(sizes == k)
        on = np.isin(owner, idx)
        rows = np.sort(codes[on].reshape(-1, k), axis=1)
        order = np.lexsort(rows.T[::-1]) if k > 0 else np.arange(len(rows))
        itemsets.append(rows[order])
        supports.append(support_in[idx[order]])
        source.append(idx[order])
    support = np.concatenate(supports) if supports else np.zeros(0)
    its = tuple(itemsets)
    obj = np.empty(len(sets), dtype=object)
    obj[:] = sets
    # basket counts back from the supports when the frame says how many baskets there were
    n_baskets = frame.attrs.get("n_baskets")
    counts = None
    if isinstance(n_baskets, (int, np.integer)) and n_baskets > 0:
        counts = np.rint(support * n_baskets).astype(np.int64)
        if np.any(np.abs(counts / n_baskets - support) > 1e-12):
            counts, n_baskets = None, None
    else:
        n_baskets = None
    return _Mined(
        itemsets=its,
        support=support,
        sets=obj[np.concatenate(source)] if source else obj,
        rank=_rank(its, support),
        labels=labels,
        n_baskets=None if n_baskets is None else int(n_baskets),
        counts=counts,
    )


def _resolve(
    data: Any,
    basket_col: str | None,
    item_col: str | None,
    min_support: Any,
    max_len: Any,
    *,
    what: str,
) -> _Mined:
    is_itemsets = (
        isinstance(data, pd.DataFrame)
        and {"itemsets", "support"} <= set(map(str, data.columns))
        and basket_col is None
    )
    if is_itemsets:
        return _from_itemsets_frame(data)
    if min_support is None:
        raise DataError(
            f"{what}: pass an itemsets frame (from frequent_itemsets) or a transaction log "
            "with min_support."
        )
    return _mine(data, basket_col, item_col, min_support, max_len)


def _rule_metrics(mined: _Mined) -> tuple[IntArray, IntArray, dict[str, FloatArray]]:
    index = enumerate_rules(mined.itemsets)
    if (index.antecedent < 0).any() or (index.consequent < 0).any():
        raise DataError(
            "itemsets frame is not closed under subsets (an antecedent or consequent of a "
            "rule is missing); pass the full output of frequent_itemsets, not a filtered one."
        )
    s_a = mined.support[index.antecedent]
    s_c = mined.support[index.consequent]
    s_ac = mined.support[index.itemset]
    if mined.counts is not None:  # a ratio of counts is the correctly rounded confidence
        confidence = mined.counts[index.itemset] / mined.counts[index.antecedent]
    else:
        confidence = s_ac / s_a
    lift = confidence / s_c
    leverage = s_ac - s_a * s_c
    below = confidence < 1.0
    conviction = np.full(len(s_ac), np.inf)
    conviction[below] = (1.0 - s_c[below]) / (1.0 - confidence[below])
    denominator = np.maximum(s_ac * (1.0 - s_a), s_a * (s_c - s_ac))
    safe = denominator != 0
    zhang = np.zeros(len(s_ac))
    zhang[safe] = leverage[safe] / denominator[safe]
    metrics = {
        "antecedent_support": s_a,
        "consequent_support": s_c,
        "support": s_ac,
        "confidence": confidence,
        "lift": lift,
        "leverage": leverage,
        "conviction": conviction,
        "zhangs_metric": zhang,
    }
    return index.antecedent, index.consequent, metrics


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


def _check_cols(**cols: Any) -> None:
    """Column-name arguments that are given must be non-empty text."""
    for name, value in cols.items():
        if value is not None:
            check_column_name(value, name)


# --------------------------------------------------------------------------- public API
def frequent_itemsets(
    transactions: Any,
    *,
    basket_col: str | None = None,
    item_col: str | None = None,
    min_support: float,
    max_len: int | None = None,
    progress: bool = False,
) -> pd.DataFrame:
    """Itemsets found in at least a share ``min_support`` of the baskets.

    Parameters
    ----------
    transactions : DataFrame-like
        A transaction log on any engine (pandas, polars, pyarrow, DuckDB, Dask, PySpark)
        with one row per basket and item (duplicates are ignored), or, when
        ``basket_col`` and ``item_col`` are both None, a one-hot pandas frame in the
        mlxtend style (one row per basket, one boolean or 0/1 column per item, dense or
        sparse dtype).
    basket_col, item_col : str, optional
        Basket (order) id and item columns of the log.
    min_support : float
        Minimum support, a share of baskets in (0, 1]. An itemset is kept when its basket
        count ``c`` satisfies ``c >= min_support * n_baskets`` (with a relative tolerance
        of 1e-12 against floating-point rounding of the product).
    max_len : int, optional
        Largest itemset size (None: no limit).
    progress : bool, default False
        Report the steps (the incidence, then each itemset size) on standard error (see
        :mod:`crmmodels._progress`; the logger is ``crmmodels.basket``).

    Returns
    -------
    pandas.DataFrame
        Columns ``itemsets`` (frozenset of item labels) and ``support`` (float), sorted by
        itemset size (ascending), then support (descending), then the items in their
        sorted order; the index is a fresh RangeIndex. The order does not depend on the
        row order of the input. ``attrs["n_baskets"]`` holds the number of baskets, which
        lets :func:`association_rules` compute confidences as exact ratios of counts.

    Raises
    ------
    SchemaError
        Missing columns, or neither a log nor a one-hot frame.
    DataError
        Nulls, empty input, ``min_support`` outside (0, 1] or a bad ``max_len``.

    Notes
    -----
    The distinct ``(basket, item)`` pairs are computed on the caller's engine and then
    collected: they are the sparse incidence itself. Mining is level-wise (Apriori
    candidate generation with subset pruning) with a sparse Gram matrix for pairs and
    packed bitsets with popcount for larger itemsets, see
    :mod:`crmmodels.kernels.itemsets`.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame(
    ...     {"order": [1, 1, 2, 2, 2, 3], "item": ["milk", "bread", "milk", "bread", "jam", "milk"]}
    ... )
    >>> fi = frequent_itemsets(tx, basket_col="order", item_col="item", min_support=0.5)
    >>> [(sorted(s), round(v, 3)) for s, v in zip(fi["itemsets"], fi["support"])]
    [(['milk'], 1.0), (['bread'], 0.667), (['bread', 'milk'], 0.667)]
    """
    with Progress("frequent_itemsets", enabled=progress, logger=__name__) as report:
        return _mine(transactions, basket_col, item_col, min_support, max_len, report).frame()


def association_rules(
    itemsets_or_transactions: Any,
    *,
    metric: str = "confidence",
    min_threshold: float = 0.8,
    basket_col: str | None = None,
    item_col: str | None = None,
    min_support: float | None = None,
    max_len: int | None = None,
    filters: Mapping[str, float | tuple[float | None, float | None]] | None = None,
) -> pd.DataFrame:
    """Association rules ``A -> C`` from frequent itemsets, with their strength metrics.

    Every frequent itemset of size two or more yields one rule per non-empty proper
    subset taken as antecedent (the rest is the consequent).

    Parameters
    ----------
    itemsets_or_transactions : DataFrame-like
        The output of :func:`frequent_itemsets` (a pandas frame with ``itemsets`` and
        ``support``), or a transaction log / one-hot frame as accepted by
        :func:`frequent_itemsets` (then ``min_support`` is required).
    metric : str, default "confidence"
        Metric that must reach ``min_threshold``; one of :data:`RULE_METRICS`.
    min_threshold : float, default 0.8
        Rules with ``metric >= min_threshold`` are kept.
    basket_col, item_col, min_support, max_len
        Passed to :func:`frequent_itemsets` when a transaction log is given.
    filters : mapping, optional
        Further bounds on any metric: ``{"lift": 1.5}`` keeps ``lift >= 1.5`` and
        ``{"support": (0.01, 0.2)}`` keeps ``0.01 <= support <= 0.2`` (None: open end).

    Returns
    -------
    pandas.DataFrame
        Columns ``antecedents``, ``consequents`` (frozensets) and the metrics
        ``antecedent_support``, ``consequent_support``, ``support``, ``confidence``,
        ``lift``, ``leverage``, ``conviction`` (``inf`` when the confidence is 1) and
        ``zhangs_metric`` (0 when its denominator is 0), sorted by ``metric`` (descending),
        then support (descending), then antecedent and consequent in the order of
        :func:`frequent_itemsets`.

    Raises
    ------
    DataError
        Unknown metric, itemsets frame not closed under subsets, or bad mining inputs.

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
    >>> for a, c, conf in zip(rules["antecedents"], rules["consequents"], rules["confidence"]):
    ...     print(sorted(a), "->", sorted(c), round(conf, 3))
    ['bread'] -> ['milk'] 1.0
    ['milk'] -> ['bread'] 0.667
    """
    metric = _check_metric(metric, "metric")
    bounds = _check_bounds(metric, min_threshold, filters)
    _check_cols(basket_col=basket_col, item_col=item_col)
    mined = _resolve(
        itemsets_or_transactions,
        basket_col,
        item_col,
        min_support,
        max_len,
        what="association_rules",
    )
    ant, con, metrics = _rule_metrics(mined)
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
    return pd.DataFrame(out)


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
) -> pd.DataFrame:
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
    pandas.DataFrame
        The columns of :func:`association_rules` preceded by ``segment_col``; segments in
        sorted order. A segment with no rule contributes no rows.

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
    >>> [(s, sorted(a), sorted(c)) for s, a, c in zip(r["seg"], r["antecedents"], r["consequents"])]
    [('a', ['x'], ['y']), ('a', ['y'], ['x']), ('b', ['x'], ['z']), ('b', ['z'], ['x'])]
    """
    _check_cols(segment_col=segment_col, basket_col=basket_col, item_col=item_col)
    _check_bounds(_check_metric(metric, "metric"), min_threshold, filters)
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
        )
        rules.insert(0, segment_col, segment)
        parts.append(rules)
    return pd.concat(parts, ignore_index=True)


@dataclass(frozen=True, repr=False)
class BundleCandidates(Result):
    """Itemsets whose items are bought together more often than independence predicts.

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
) -> BundleCandidates:
    r"""Bundle candidates: frequent itemsets with high lift and support, ranked by a score.

    Parameters
    ----------
    itemsets_or_transactions : DataFrame-like
        Output of :func:`frequent_itemsets`, or a log / one-hot frame (``min_support``
        then required).
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
    BundleCandidates

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
    return BundleCandidates(
        bundles=frame, min_lift=float(min_lift), min_support=floor, n_considered=len(gid)
    )


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
        The rules used.
    n_customers : int
        Customers in the transactions.
    n_without_suggestions : int
        Customers for whom no rule fired (they have no rows in ``suggestions``).
    top_n : int
        Suggestions kept per customer.

    Examples
    --------
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
        """Scatter of the rules used: support vs confidence, coloured by lift."""
        from crmmodels.plotting.basket import plot_rules

        return plot_rules(self.rules, ax=ax, **kwargs)


def _rules_as_sets(
    rules: pd.DataFrame | Mapping[Any, pd.DataFrame],
) -> pd.DataFrame | Mapping[Any, pd.DataFrame]:
    """Rules whose antecedents / consequents are frozensets (text read from CSV parsed)."""

    def one(frame: pd.DataFrame) -> pd.DataFrame:
        parsed = {}
        for col in ("antecedents", "consequents"):
            values = frame[col]
            if all(isinstance(v, frozenset) for v in values):
                continue
            sets = np.empty(len(values), dtype=object)
            sets[:] = _itemset_values(values, col, "rules")
            parsed[col] = sets
        return frame.assign(**parsed) if parsed else frame

    if isinstance(rules, Mapping):
        return {key: one(frame) for key, frame in rules.items()}
    return one(rules)


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
    starts = np.flatnonzero(np.concatenate([[True], s_cust[1:] != s_cust[:-1]]))
    rank = np.arange(len(s_cust)) - np.repeat(starts, np.diff(np.append(starts, len(s_cust))))
    top = rank < top_n
    return s_cust[top], s_item[top], s_rule[top], s_score[top]


def cross_sell(
    transactions: Any,
    rules: pd.DataFrame | Mapping[Any, pd.DataFrame],
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
    rules : pandas.DataFrame or mapping
        Output of :func:`association_rules` (needs ``antecedents``, ``consequents``,
        ``confidence`` and ``lift``). With ``segment_col``: either a mapping from segment
        to its rules, or one frame with a ``segment_col`` column (as returned by
        :func:`association_rules_by_segment`).
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
    frames = rules.values() if isinstance(rules, Mapping) else [rules]
    for frame in frames:
        if not isinstance(frame, pd.DataFrame):
            raise SchemaError(f"rules must be a pandas DataFrame; got {type(frame).__name__}.")
        need = ["antecedents", "consequents", "confidence", "lift"]
        if segment_col and not isinstance(rules, Mapping):
            need.append(segment_col)
        check_columns(nw.from_native(frame), need, what="rules")
    rules = _rules_as_sets(rules)
    frames = rules.values() if isinstance(rules, Mapping) else [rules]
    cust, customers = pd.factorize(pairs[customer_col].to_numpy())
    cust = np.asarray(cust, dtype=np.int64)
    n_customers = len(customers)
    rule_sets = list(frames)
    rule_items = [
        x for fr in rule_sets for col in ("antecedents", "consequents") for s in fr[col] for x in s
    ]
    _, tx_labels = _factorize_items(pairs[item_col].to_numpy())
    universe = pd.Index(
        pd.unique(np.concatenate([tx_labels, np.asarray(rule_items, dtype=object)]))
    )
    item = np.asarray(universe.get_indexer(pairs[item_col].to_numpy()), dtype=np.int64)

    if segment_col is None:
        if isinstance(rules, Mapping):
            raise SchemaError("rules given per segment (a mapping) need segment_col.")
        groups: list[tuple[Any, NDArray[np.bool_], pd.DataFrame]] = [
            (None, np.ones(len(pairs), dtype=bool), rules)
        ]
    else:
        seg_per_cust = pairs.groupby(customer_col, sort=False)[segment_col].nunique()
        bad = seg_per_cust[seg_per_cust > 1]
        if len(bad):
            raise DataError(
                "transactions: "
                + bad_rows_message(segment_col, "varies within a customer", len(bad), bad.index[0])
            )
        seg_values = pairs[segment_col].to_numpy()
        groups = []
        for segment in pd.unique(seg_values):
            if isinstance(rules, Mapping):
                seg_rules = rules.get(segment, rules.get(str(segment)))
                if seg_rules is None:
                    seg_rules = pd.DataFrame(
                        columns=["antecedents", "consequents", "confidence", "lift"]
                    )
            else:
                seg_rules = rules[rules[segment_col] == segment]
            groups.append((segment, seg_values == segment, seg_rules.reset_index(drop=True)))

    out_c: list[IntArray] = []
    out_i: list[IntArray] = []
    out_s: list[FloatArray] = []
    out_conf: list[FloatArray] = []
    out_lift: list[FloatArray] = []
    out_ant: list[NDArray[np.object_]] = []
    out_seg: list[NDArray[np.object_]] = []
    for segment, rows, seg_rules in groups:
        c, j, r, s = _suggest(cust[rows], item[rows], n_customers, seg_rules, universe, top_n)
        out_c.append(c)
        out_i.append(j)
        out_s.append(s)
        out_conf.append(seg_rules["confidence"].to_numpy(float)[r])
        out_lift.append(seg_rules["lift"].to_numpy(float)[r])
        ant = np.empty(len(seg_rules), dtype=object)
        ant[:] = list(seg_rules["antecedents"])
        out_ant.append(ant[r])
        seg = np.empty(len(c), dtype=object)
        seg[:] = segment
        out_seg.append(seg)
    c_all = np.concatenate(out_c)
    i_all = np.concatenate(out_i)
    s_all = np.concatenate(out_s)
    order = np.lexsort((i_all, -s_all, c_all))
    c_all, i_all, s_all = c_all[order], i_all[order], s_all[order]
    starts = (
        np.flatnonzero(np.concatenate([[True], c_all[1:] != c_all[:-1]]))
        if len(c_all)
        else np.zeros(0, int)
    )
    rank = np.arange(len(c_all)) - np.repeat(starts, np.diff(np.append(starts, len(c_all))))
    labels = np.asarray(universe, dtype=object)
    frame = pd.DataFrame({customer_col: np.asarray(customers, dtype=object)[c_all]})
    if segment_col is not None:
        frame[segment_col] = np.concatenate(out_seg)[order]
    frame["rank"] = rank + 1
    frame[item_col] = labels[i_all]
    frame["score"] = s_all
    frame["confidence"] = np.concatenate(out_conf)[order]
    frame["lift"] = np.concatenate(out_lift)[order]
    frame["antecedents"] = np.concatenate(out_ant)[order]
    # customer ids keep their dtype
    frame[customer_col] = pd.Series(customers).to_numpy()[c_all]
    with contextlib.suppress(TypeError):  # ids that do not sort keep first-seen order
        frame = frame.sort_values([customer_col, "rank"], kind="stable", ignore_index=True)
    used = (
        pd.concat(list(rules.values()), ignore_index=True) if isinstance(rules, Mapping) else rules
    )
    return CrossSellResult(
        suggestions=frame,
        rules=used.reset_index(drop=True),
        n_customers=n_customers,
        n_without_suggestions=n_customers - len(np.unique(c_all)),
        top_n=int(top_n),
    )
