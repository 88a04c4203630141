"""Tests of association and attribute levels for the churn comparison.

The rates' Wilson intervals and the differences' Newcombe intervals come from
:mod:`crmmodels.kernels.intervals`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from crmmodels.errors import ArgumentError, DataError

__all__ = [
    "MAX_LEVELS",
    "MISSING_LEVEL",
    "association_test",
    "attribute_levels",
]

#: the label of the customers whose attribute is missing
MISSING_LEVEL = "(missing)"
#: the most levels a categorical attribute may have
MAX_LEVELS = 100

Array = np.ndarray[Any, Any]


def fisher_p_values(churned: Array, n: Array) -> Array:
    """Two-sided Fisher exact p-value of each level against all other customers."""
    total_c, total_n = float(churned.sum()), float(n.sum())
    out = np.full(len(n), np.nan)
    for i in range(len(n)):  # one 2 x 2 table per level (a handful of levels)
        rest = total_n - n[i]
        if rest <= 0:
            continue
        table = [
            [churned[i], n[i] - churned[i]],
            [total_c - churned[i], rest - total_c + churned[i]],
        ]
        out[i] = stats.fisher_exact(np.asarray(table, dtype=np.int64)).pvalue
    return out


def association_test(churned: Array, n: Array) -> dict[str, Any]:
    """Test of association between the levels and churn, on the levels x 2 table.

    Two levels with an expected count below 5: Fisher's exact test. Otherwise Pearson's
    chi-square test without continuity correction (with a note when an expected count is
    below 5). One level: no test.
    """
    table = np.column_stack([churned, n - churned]).astype(np.float64)
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / table.sum()
    min_expected = float(expected.min()) if table.size else float("nan")
    out: dict[str, Any] = {
        "test": "none",
        "statistic": np.nan,
        "dof": 0,
        "p_value": np.nan,
        "cramers_v": np.nan,
        "min_expected": min_expected,
        "note": "",
    }
    if len(n) < 2:
        out["note"] = "one level: nothing to compare"
        return out
    chi2, p, dof, _ = stats.chi2_contingency(table, correction=False)
    out.update(statistic=float(chi2), dof=int(dof), cramers_v=float(np.sqrt(chi2 / table.sum())))
    if len(n) == 2 and min_expected < 5:
        out.update(test="fisher", p_value=float(stats.fisher_exact(table.astype(np.int64)).pvalue))
    else:
        out.update(test="chi-square", p_value=float(p))
        if min_expected < 5:
            out["note"] = "an expected count is below 5: the chi-square p-value is rough"
    return out


def _fmt(value: float) -> str:
    return f"{value:.4g}"


def attribute_levels(
    values: pd.Series[Any], name: str, bins: int
) -> tuple[Array, list[str], Array | None]:
    """Codes (0 .. k-1) and labels of an attribute's levels, and the bin edges if binned.

    Text, boolean and categorical columns: one level per value (category order for a
    categorical, sorted otherwise). Numeric columns with at most ``bins`` distinct values:
    one level per value; with more: ``bins`` quantile bins (fewer when quantiles
    coincide), the first closed ``[a, b]``, the others ``(a, b]``. Missing values form the
    last level, ``"(missing)"``.

    Examples
    --------
    >>> codes, labels, edges = attribute_levels(pd.Series([1.0, 2, 3, 4, None]), "x", 2)
    >>> codes.tolist(), labels, edges.tolist()
    ([0, 0, 1, 1, 2], ['[1, 2.5]', '(2.5, 4]', '(missing)'], [1.0, 2.5, 4.0])
    """
    missing = pd.isna(values).to_numpy()
    if missing.all():
        raise DataError(
            f"customers: attribute '{name}' is missing for all {len(values)} customers: "
            "nothing to compare. Drop it from attributes or fill it first."
        )
    dtype = values.dtype
    if pd.api.types.is_datetime64_any_dtype(dtype) or pd.api.types.is_timedelta64_dtype(dtype):
        raise ArgumentError(
            f"attribute '{name}' holds dates or durations; group them first, e.g. "
            f"df['{name}_quarter'] = df[{name!r}].dt.to_period('Q').astype(str)."
        )
    present = values[~missing]
    edges: Array | None = None
    numeric = pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)
    if numeric and not isinstance(dtype, pd.CategoricalDtype):
        x = present.to_numpy(dtype=np.float64)
        distinct = np.unique(x)
        if len(distinct) <= bins:
            labels = [_fmt(v) for v in distinct]
            inner = np.searchsorted(distinct, x)
        else:
            edges = np.unique(np.quantile(x, np.linspace(0.0, 1.0, bins + 1)))
            labels = [
                f"{'[' if i == 0 else '('}{_fmt(edges[i])}, {_fmt(edges[i + 1])}]"
                for i in range(len(edges) - 1)
            ]
            inner = np.searchsorted(edges[1:-1], x, side="left")
    else:
        if isinstance(dtype, pd.CategoricalDtype):
            cats = [c for c in dtype.categories if c in set(present.unique())]
            text = [str(c) for c in cats]
            lookup = pd.Index(cats)
            inner = lookup.get_indexer(pd.Index(present))
        else:
            as_text = present.astype(str)
            text = sorted(set(as_text.unique().tolist()))
            inner = pd.Index(text).get_indexer(pd.Index(as_text))
        if len(text) > MAX_LEVELS:
            raise DataError(
                f"customers: attribute '{name}' has {len(text)} levels (first: {text[0]!r}); "
                f"at most {MAX_LEVELS} can be compared. Group rare levels first, or pass a "
                "numeric column to bin it."
            )
        labels = text
    codes = np.full(len(values), len(labels), dtype=np.intp)
    codes[~missing] = inner
    if missing.any():
        labels = [*labels, MISSING_LEVEL]
    return codes, labels, edges
