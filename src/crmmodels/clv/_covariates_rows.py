"""Compression of covariate-model rows by (history, covariate pattern).

A covariate fit of BG/NBD or Pareto/NBD evaluates its likelihood on the distinct rows of
(``x``, ``t_x``, ``T``, covariate pattern) with their weights. :func:`_compress` keys the
rows by one int64 number built from the codes of the history columns and of the distinct
design columns (a hash table, not a lexicographic sort of every design column);
:func:`_groups` finds BG/NBD's distinct (dropout pattern, x) pairs, on which its terms in
``b`` are evaluated.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from crmmodels.kernels._optim import FloatArray, IntArray, compress_rows

__all__ = ["_Groups", "_compress", "_groups", "_pattern_ids"]


@dataclass(frozen=True)
class _Groups:
    """Distinct (dropout covariate pattern, x) pairs of the rows (BG/NBD's terms in b)."""

    patterns: FloatArray  # distinct dropout design rows
    pattern: IntArray  # pattern of each pair
    x: FloatArray  # count of each pair
    group: IntArray  # pair of each row


def _groups(
    x: FloatArray, dropout: FloatArray, pattern: tuple[IntArray, FloatArray] | None = None
) -> _Groups:
    """The (dropout pattern, x) pairs of the rows.

    ``pattern`` (the covariate pattern of each row and the dropout design row of each
    pattern) lets the dropout patterns be found among the patterns instead of the rows.
    """
    if not dropout.shape[1]:
        pid = np.zeros(x.size, dtype=np.int64)
        patterns = np.zeros((1, 0))
    elif pattern is not None:
        cols, _, of_pattern = compress_rows([*pattern[1].T])
        pid, patterns = of_pattern[pattern[0]], np.column_stack(cols)
    else:
        cols, _, pid = compress_rows([*dropout.T])
        patterns = np.column_stack(cols)
    (ux, upid), _, group = compress_rows([x, pid.astype(np.float64)])
    return _Groups(patterns, upid.astype(np.int64), ux, group)


def _codes(column: FloatArray) -> tuple[FloatArray, IntArray]:
    """Sorted distinct values of a column and the code of every row.

    A constant column and a 0/1 column are coded without hashing.
    """
    if column.size and column[0] == column[-1] and column.min() == column.max():
        return column[:1].copy(), np.zeros(column.size, dtype=np.int64)  # e.g. a common T
    if bool(np.all((column == 0.0) | (column == 1.0))):
        return np.array([0.0, 1.0]), column.astype(np.int64)
    codes, values = pd.factorize(column, sort=True)  # a hash table, not a sort of the rows
    return np.asarray(values, dtype=np.float64), codes.astype(np.int64, copy=False)


def _mixed_radix(levels: list[tuple[FloatArray, IntArray]]) -> IntArray | None:
    """One int64 number per row from the columns' codes (None when it could overflow)."""
    if math.prod(max(v.size, 1) for v, _ in levels) >= 2**62:
        return None
    key = levels[0][1].copy()
    for values, codes in levels[1:]:
        key *= values.size
        key += codes
    return key


def _distinct_columns(design: Mapping[str, FloatArray]) -> list[FloatArray]:
    """The design columns of both processes, each once.

    A column that repeats another (the same covariate in both processes) is skipped; a
    few leading values are compared before the whole columns.
    """
    both = [*design["purchase"].T]
    if not np.array_equal(design["purchase"], design["dropout"]):  # most often equal
        both += [*design["dropout"].T]
    distinct_cols: list[FloatArray] = []
    for c in both:
        if not any(
            np.array_equal(c[:256], d[:256]) and np.array_equal(c, d) for d in distinct_cols
        ):
            distinct_cols.append(c)
    return distinct_cols


def _pattern_key(columns: list[FloatArray], n: int) -> tuple[FloatArray, IntArray] | None:
    """One number per row for its covariate pattern, as a level of :func:`_mixed_radix`.

    The number is the mixed-radix code of the row's values in the distinct design
    columns (not made consecutive); returns ``(placeholder levels, numbers)`` with as many
    levels as numbers are possible, or None when they could overflow.
    """
    if not columns:
        return np.zeros(1), np.zeros(n, dtype=np.int64)
    levels = [_codes(c) for c in columns]
    key = _mixed_radix(levels)
    if key is None:
        return None
    return np.empty(math.prod(v.size for v, _ in levels)), key


def _pattern_ids(design: Mapping[str, FloatArray]) -> IntArray:
    """The covariate pattern (distinct purchase and dropout design row) of every row.

    A column that repeats another (the same covariate in both processes) is skipped.
    """
    n = design["purchase"].shape[0]
    columns = _distinct_columns(design)
    if not columns or n == 0:
        return np.zeros(n, dtype=np.int64)
    key = _pattern_key(columns, n)
    if key is None:
        return compress_rows(columns)[2]
    return pd.factorize(key[1], sort=True)[0].astype(np.int64, copy=False)


def _compress(
    hist_cols: list[FloatArray], design: Mapping[str, FloatArray], w: FloatArray | None
) -> tuple[tuple[FloatArray, FloatArray, FloatArray], dict[str, FloatArray], FloatArray, IntArray]:
    """Distinct rows of (history, covariate pattern) with their weights.

    Returns the histories, the design rows and the weight of every distinct row and its
    pattern. Rows are keyed by the codes of ``x``, ``t_x``, ``T`` and of the design
    columns (one int64 number, hashed), not by a lexicographic sort of every design
    column; rows of zero total weight are dropped. The distinct rows come in the order
    of their first appearance; the patterns are numbered among them.
    """
    n = design["purchase"].shape[0]
    weights = np.ones(n) if w is None else w
    pattern = _pattern_key(_distinct_columns(design), n) if n else None
    if pattern is None:
        pid = _pattern_ids(design)
        pattern = (np.arange(int(pid.max()) + 1 if n else 0, dtype=np.float64), pid)
    levels = [_codes(c) for c in hist_cols]
    key = _mixed_radix([*levels, pattern]) if n else None
    if key is None:  # continuous histories with very many levels: a lexicographic sort
        pid = _pattern_ids(design)
        _, counts, inverse = compress_rows([*hist_cols, pid.astype(np.float64)], weights)
        first = np.empty(counts.size, dtype=np.int64)
        rows = np.flatnonzero(inverse >= 0)
        first[inverse[rows]] = rows  # one row of each distinct row
    else:  # distinct keys by a hash table (in order of appearance), not by a sort
        inverse, uniques = pd.factorize(key)
        inverse = inverse.astype(np.int64, copy=False)
        first = np.empty(uniques.size, dtype=np.int64)
        first[inverse] = np.arange(n, dtype=np.int64)  # a row of each distinct row
        counts = np.bincount(inverse, weights=weights, minlength=first.size).astype(np.float64)
    keep = counts > 0
    first, counts = first[keep], counts[keep]
    hist = (hist_cols[0][first], hist_cols[1][first], hist_cols[2][first])
    cdesign = {p: np.ascontiguousarray(design[p][first]) for p in ("purchase", "dropout")}
    pid = pd.factorize(pattern[1][first], sort=True)[0].astype(np.int64, copy=False)
    return hist, cdesign, counts, pid
