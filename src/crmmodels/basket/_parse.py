"""Itemsets read back from a frame: sets, their text form (e.g. from a CSV file) and supports."""

from __future__ import annotations

import ast
from typing import Any

import numpy as np
import pandas as pd

from crmmodels.basket._mine import FloatArray, IntArray, _factorize_items, _Mined, _rank
from crmmodels.errors import DataError, SchemaError, bad_rows_message

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
