"""Frequent itemsets: a log reduced to a sparse incidence and mined (:func:`frequent_itemsets`)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import narwhals.stable.v2 as nw
import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import NDArray

from crmmodels._ingest.arguments import check_bool, check_column_name, check_int, check_number
from crmmodels._ingest.frames import check_columns, check_not_null, collect, to_narwhals
from crmmodels._progress import Progress
from crmmodels.basket._results import ItemsetsResult
from crmmodels.errors import DataError, SchemaError, bad_rows_message
from crmmodels.kernels.basket import mine_itemsets_owned
from crmmodels.kernels.basket_missing import MissingIncidence, mine_itemsets_missing

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
    #: with unknown entries: the baskets observing each itemset, and the bitsets
    observed: IntArray | None = None
    incidence: MissingIncidence | None = None
    n_missing_entries: int = 0

    def frame(self) -> pd.DataFrame:
        order = np.argsort(self.rank)
        out = pd.DataFrame({"itemsets": self.sets[order], "support": self.support[order]})
        if self.n_baskets is not None:
            out.attrs["n_baskets"] = self.n_baskets
        if self.n_missing_entries:
            out.attrs["n_missing_entries"] = self.n_missing_entries
        return out

    def result(self, min_support: float, max_len: int | None) -> ItemsetsResult:
        """The public result of mining a log (``n_baskets`` is known then)."""
        return ItemsetsResult(
            itemsets=self.frame(),
            min_support=min_support,
            max_len=max_len,
            n_baskets=int(self.n_baskets or 0),
            n_items=len(self.labels),
            n_missing_entries=self.n_missing_entries,
            _mined=self,
        )


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


@dataclass(frozen=True)
class _OneHot:
    """A one-hot frame read as id pairs: present entries and unknown (null) entries."""

    basket: IntArray
    item: IntArray
    unknown_basket: IntArray
    unknown_item: IntArray
    n_baskets: int
    labels: NDArray[np.object_]


_ONEHOT_VALUES = "Use True/False or 1/0 (pass basket_col and item_col for a transaction log)."


def _onehot_values(frame: pd.DataFrame) -> tuple[IntArray, IntArray, FloatArray]:
    """Row, column and value of every entry that is not 0 (nulls included)."""
    if all(isinstance(t, pd.SparseDtype) for t in frame.dtypes):
        accessor: Any = frame.sparse
        coo = sp.coo_matrix(accessor.to_coo())
        rows = np.asarray(coo.row, dtype=np.int64)
        cols = np.asarray(coo.col, dtype=np.int64)
        data = np.asarray(coo.data, dtype=float)
        on = data != 0  # NaN != 0: nulls are kept
        return rows[on], cols[on], data[on]
    try:
        values = frame.to_numpy(dtype=float, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise SchemaError(
            "without basket_col and item_col the input must be a one-hot frame "
            "(one boolean or 0/1 column per item); pass basket_col and item_col for a "
            "transaction log."
        ) from exc
    rows, cols = np.nonzero(values)  # NaN is not 0: nulls are kept
    return rows.astype(np.int64), cols.astype(np.int64), values[rows, cols]


def _incidence_from_onehot(frame: pd.DataFrame, allow_missing: bool = False) -> _OneHot:
    """Present and unknown entries of a one-hot frame, items relabelled in sorted order.

    A frame without rows or without item columns has no entries (no itemset is frequent).
    """
    columns = list(frame.columns)
    if frame.shape[0] == 0 or frame.shape[1] == 0:
        rows = cols = np.zeros(0, dtype=np.int64)
        data: FloatArray = np.zeros(0)
    else:
        rows, cols, data = _onehot_values(frame)
    nulls = np.isnan(data)
    bad = ~nulls & (data != 1.0)
    if bad.any():
        j = int(np.argmax(bad))
        n_bad = len(np.unique(rows[bad]))
        raise DataError(
            "one-hot frame: "
            + bad_rows_message(
                str(columns[cols[j]]),
                f"holds a value other than True/False or 1/0 ({data[j]:g})",
                n_bad,
                f"row {rows[j]}",
                _ONEHOT_VALUES,
            )
        )
    if nulls.any() and not allow_missing:
        j = int(np.argmax(nulls))
        raise DataError(
            "one-hot frame: "
            + bad_rows_message(
                str(columns[cols[j]]),
                "is null",
                len(np.unique(rows[nulls])),
                f"row {rows[j]}",
                "Pass allow_missing=True if a null means the entry is unknown (supports are "
                "then shares of the baskets where every item of the set is known), or fill "
                "the nulls with False.",
            )
        )
    try:
        order = np.argsort(np.asarray(columns, dtype=object), kind="stable")
    except TypeError:
        order = np.arange(len(columns))
    new_id = np.empty(len(columns), dtype=np.int64)
    new_id[order] = np.arange(len(columns))
    labels = np.empty(len(columns), dtype=object)
    labels[:] = [columns[j] for j in order]
    return _OneHot(
        basket=rows[~nulls],
        item=new_id[cols[~nulls]],
        unknown_basket=rows[nulls],
        unknown_item=new_id[cols[nulls]],
        n_baskets=frame.shape[0],
        labels=labels,
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
    allow_missing: bool = False,
) -> _Mined:
    support_min = _check_min_support(min_support)
    limit = _check_max_len(max_len)
    _check_cols(basket_col=basket_col, item_col=item_col)
    if basket_col is None and item_col is None:
        onehot = _read_onehot(transactions, allow_missing)
        if len(onehot.unknown_basket):
            return _mine_missing(onehot, support_min, limit)
        basket, item = onehot.basket, onehot.item
        n_baskets, labels = onehot.n_baskets, onehot.labels
        if n_baskets == 0:
            return _empty(labels)
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


def _read_onehot(frame: Any, allow_missing: bool) -> _OneHot:
    if not isinstance(frame, pd.DataFrame):
        raise SchemaError(
            "pass basket_col and item_col for a transaction log; without them the input "
            f"must be a one-hot pandas DataFrame (got {type(frame).__name__})."
        )
    return _incidence_from_onehot(frame, allow_missing)


def _empty(labels: NDArray[Any]) -> _Mined:
    """No baskets: no frequent itemset."""
    none = np.zeros((0, 1), dtype=np.int64)
    return _Mined(
        itemsets=(none,),
        support=np.zeros(0),
        sets=np.empty(0, dtype=object),
        rank=np.zeros(0, dtype=np.int64),
        labels=labels,
        n_baskets=0,
        counts=np.zeros(0, dtype=np.int64),
    )


def _mine_missing(onehot: _OneHot, min_support: float, max_len: int | None) -> _Mined:
    """Mine a one-hot frame with unknown entries (:mod:`crmmodels.kernels.basket_missing`)."""
    incidence = MissingIncidence.from_pairs(
        onehot.basket,
        onehot.item,
        onehot.unknown_basket,
        onehot.unknown_item,
        n_baskets=onehot.n_baskets,
        n_items=len(onehot.labels),
    )
    levels = mine_itemsets_missing(incidence, min_support=min_support, max_len=max_len)
    counts = np.concatenate(levels.counts)
    observed = np.concatenate(levels.observed)
    support = counts / observed
    return _Mined(
        itemsets=levels.itemsets,
        support=support,
        sets=_sets(levels.itemsets, onehot.labels),
        rank=_rank(levels.itemsets, support),
        labels=onehot.labels,
        n_baskets=onehot.n_baskets,
        counts=counts,
        observed=observed,
        incidence=incidence,
        n_missing_entries=len(onehot.unknown_basket),
    )


def _check_cols(**cols: Any) -> None:
    """Column-name arguments that are given must be non-empty text."""
    for name, value in cols.items():
        if value is not None:
            check_column_name(value, name)


def frequent_itemsets(
    transactions: Any,
    *,
    basket_col: str | None = None,
    item_col: str | None = None,
    min_support: float,
    max_len: int | None = None,
    allow_missing: bool = False,
    progress: bool = False,
) -> ItemsetsResult:
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
    allow_missing : bool, default False
        Accept nulls (NaN, None) in a one-hot frame as *unknown* entries: the data cannot
        say whether the basket held the item. The support of an itemset is then the
        share of the baskets that hold all its items among the baskets where none of its
        items is unknown, and an itemset is frequent when its support, and the support
        of every subset, reaches ``min_support`` (the supports are mlxtend's
        ``null_values=True`` supports). Without it a null is an error. A transaction
        log has no unknown entries.
    progress : bool, default False
        Report the steps (the incidence, then each itemset size) on standard error (see
        :mod:`crmmodels._progress`; the logger is ``crmmodels.basket``).

    Returns
    -------
    ItemsetsResult
        Its table (``to_frame()``) has the columns ``itemsets`` (frozenset of item
        labels) and ``support`` (float), sorted by
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
    :mod:`crmmodels.kernels.basket`.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame(
    ...     {"order": [1, 1, 2, 2, 2, 3], "item": ["milk", "bread", "milk", "bread", "jam", "milk"]}
    ... )
    >>> fi = frequent_itemsets(tx, basket_col="order", item_col="item", min_support=0.5)
    >>> table = fi.to_frame()
    >>> [(sorted(s), round(v, 3)) for s, v in zip(table["itemsets"], table["support"])]
    [(['milk'], 1.0), (['bread'], 0.667), (['bread', 'milk'], 0.667)]
    """
    allow_missing = check_bool(allow_missing, "allow_missing")
    with Progress("frequent_itemsets", enabled=progress, logger=__name__) as report:
        mined = _mine(
            transactions, basket_col, item_col, min_support, max_len, report, allow_missing
        )
    return mined.result(_check_min_support(min_support), _check_max_len(max_len))
