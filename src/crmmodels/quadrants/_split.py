"""Splitting customers into the four quadrants: the threshold rules and :func:`clv_quadrants`."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import narwhals.stable.v2 as nw
import numpy as np
import numpy.typing as npt
import pandas as pd

from crmmodels._ingest.frames import check_columns, collect, count_true, python_scalar, to_narwhals
from crmmodels.errors import DataError, EmptyQuadrantWarning, SchemaError, bad_rows_message
from crmmodels.quadrants._result import QUADRANTS, QuadrantResult

__all__ = ["clv_quadrants", "parse_split"]

_AXES = ("current", "potential")

# ------------------------------------------------------------------ split rules


@dataclass(frozen=True)
class _Rule:
    kind: str  # "median", "positive_median", "quantile" or "absolute"
    value: float  # quantile level or absolute threshold (nan for the medians)

    def describe(self) -> str:
        if self.kind in ("median", "positive_median"):
            return self.kind
        if self.kind == "quantile":
            return f"quantile({self.value:g})"
        return f"absolute({self.value:g})"

    def threshold(self, x: npt.NDArray[np.float64]) -> float:
        if self.kind == "median":
            return float(np.median(x))
        if self.kind == "positive_median":
            positive = x[x > 0]
            return float(np.median(positive if positive.size else x))
        if self.kind == "quantile":
            return float(np.quantile(x, self.value))
        return self.value


def _is_number(v: object) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(
        v, (bool, np.bool_)
    )


def _is_quantile_pair(v: object) -> bool:
    return (
        isinstance(v, (tuple, list))
        and len(v) == 2
        and isinstance(v[0], str)
        and v[0] == "quantile"
        and _is_number(v[1])
    )


def _one_rule(rule: object, axis: str) -> _Rule:
    if isinstance(rule, str) and rule in ("median", "positive_median"):
        return _Rule(rule, float("nan"))
    if _is_quantile_pair(rule):
        q = float(rule[1])  # type: ignore[index]
        if not 0.0 <= q <= 1.0:
            raise DataError(f"split for {axis}: quantile level must be in [0, 1]; got {q!r}.")
        return _Rule("quantile", q)
    if _is_number(rule):
        value = float(rule)  # type: ignore[arg-type]
        if not np.isfinite(value):
            raise DataError(f"split for {axis}: threshold must be finite; got {value!r}.")
        return _Rule("absolute", value)
    raise DataError(
        f"split for {axis} must be 'median', 'positive_median', ('quantile', q) or a number; "
        f"got {rule!r}."
    )


def parse_split(split: object) -> tuple[_Rule, _Rule]:
    """Turn ``split`` into one rule per axis (current, potential)."""
    if isinstance(split, Mapping):
        unknown = set(split) - set(_AXES)
        if unknown:
            raise DataError(
                f"split keys must be 'current' and/or 'potential'; got {sorted(map(str, unknown))}."
            )
        return (
            _one_rule(split.get("current", "median"), "current"),
            _one_rule(split.get("potential", "median"), "potential"),
        )
    if isinstance(split, (tuple, list)) and len(split) == 2 and not _is_quantile_pair(split):
        return _one_rule(split[0], "current"), _one_rule(split[1], "potential")
    rule = _one_rule(split, "both axes")
    return rule, rule


# ------------------------------------------------------------------ input


def _first_ids(ids: npt.NDArray[Any], mask: npt.NDArray[np.bool_], k: int = 5) -> list[Any]:
    return [python_scalar(v) for v in ids[mask][:k]]


def _collect(
    data: Any, current_col: str, potential_col: str, customer_col: str, what: str
) -> tuple[npt.NDArray[Any], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    frame = to_narwhals(data, what=what)
    cols = [customer_col, current_col, potential_col]
    check_columns(frame, cols, what=what)
    schema = frame.collect_schema()
    for c in (current_col, potential_col):
        if not schema[c].is_numeric():
            raise SchemaError(
                f"{what}: column '{c}' must be numeric; got {schema[c]}. Cast it first."
            )
    nulls = collect(frame.select([count_true(nw.col(c).is_null()).alias(c) for c in cols]))
    for c in cols:
        n = int(nulls[c].item(0) or 0)
        if n:
            if c == customer_col:
                raise DataError(f"{what}: " + bad_rows_message(c, "is null", n, None))
            first = collect(frame.filter(nw.col(c).is_null()).select(customer_col).head(5))
            bad_ids = [python_scalar(v) for v in first[customer_col].to_list()]
            raise DataError(
                f"{what}: column '{c}' is missing for {n} customer"
                f"{'s' if n > 1 else ''} ({customer_col} {bad_ids}{' ...' if n > 5 else ''}). "
                "Fill or drop them first: missing values are not a quadrant."
            )
    small = collect(frame.select(cols))
    ids = small[customer_col].to_numpy()
    cur = np.asarray(small[current_col].to_numpy(), dtype=np.float64)
    pot = np.asarray(small[potential_col].to_numpy(), dtype=np.float64)
    if len(ids) == 0:
        raise DataError(f"{what} is empty: clv_quadrants needs at least one customer.")
    for c, x in ((current_col, cur), (potential_col, pot)):
        bad = ~np.isfinite(x)
        if bad.any():
            n = int(bad.sum())
            raise DataError(
                f"{what}: column '{c}' is NaN or infinite for {n} customer"
                f"{'s' if n > 1 else ''} ({customer_col} {_first_ids(ids, bad)}"
                f"{' ...' if n > 5 else ''})."
            )
    index = pd.Index(ids)
    if not index.is_unique:
        dup = index.duplicated()
        raise DataError(
            f"{what}: "
            + bad_rows_message(
                customer_col,
                "has duplicate customer ids",
                int(dup.sum()),
                python_scalar(ids[dup][0]),
                "Pass one row per customer (aggregate a transaction log first).",
            )
        )
    return ids, cur, pot


def _summary(
    codes: npt.NDArray[np.int8],
    cur: npt.NDArray[np.float64],
    pot: npt.NDArray[np.float64],
    counts: npt.NDArray[np.intp],
) -> pd.DataFrame:
    n = len(codes)
    idx = codes.astype(np.intp)
    cur_sum = np.bincount(idx, weights=cur, minlength=4)
    pot_sum = np.bincount(idx, weights=pot, minlength=4)
    cur_tot, pot_tot = float(cur.sum()), float(pot.sum())
    nan = float("nan")
    return pd.DataFrame(
        {
            "quadrant": list(QUADRANTS),
            "n_customers": counts.astype(np.int64),
            "customer_share": counts / n,
            "current_value": cur_sum,
            "current_share": cur_sum / cur_tot if cur_tot != 0 else np.full(4, nan),
            "potential_value": pot_sum,
            "potential_share": pot_sum / pot_tot if pot_tot != 0 else np.full(4, nan),
        }
    )


def clv_quadrants(
    data: Any,
    *,
    current_col: str = "current_value",
    potential_col: str = "potential_value",
    customer_col: str = "customer_id",
    split: Any = "median",
) -> QuadrantResult:
    r"""Split customers into the four CLV quadrants: vip, improve, maintain, abandon.

    Parameters
    ----------
    data : DataFrame-like
        One row per customer, on any engine (pandas, polars, pyarrow, DuckDB, Dask,
        PySpark), with the three columns below.
    current_col : str, default "current_value"
        Current (realised) value, e.g. margin over the last 12 months.
    potential_col : str, default "potential_value"
        Potential (predicted) value, e.g. CLV.
    customer_col : str, default "customer_id"
        Customer id; ids must be unique.
    split : rule, pair of rules or dict, default "median"
        Threshold rule. A rule is ``"median"``, ``"positive_median"`` (the median of the
        positive values, or of all values when none is positive: use it when many
        values are 0), ``("quantile", q)`` (``numpy.quantile`` with linear
        interpolation) or a number (an absolute threshold). One rule applies
        to both axes; a pair ``(current_rule, potential_rule)`` or a dict
        ``{"current": rule, "potential": rule}`` (a missing key means ``"median"``) sets
        one per axis.

    Returns
    -------
    QuadrantResult

    Raises
    ------
    SchemaError
        Missing or non-numeric columns.
    DataError
        Empty input, duplicate customer ids, missing or non-finite values (the message
        names the customers), or an invalid ``split``.

    Warns
    -----
    EmptyQuadrantWarning
        The split leaves at least one quadrant without customers; the message gives
        both thresholds and how many customers are high on each axis.

    Notes
    -----
    With thresholds :math:`\tau_c, \tau_p`, a customer is *high* on an axis when its
    value is :math:`\ge \tau` (a value equal to the threshold counts as high):

    $$ q = \begin{cases} \text{vip} & c \ge \tau_c,\ p \ge \tau_p \\
       \text{improve} & c < \tau_c,\ p \ge \tau_p \\
       \text{maintain} & c \ge \tau_c,\ p < \tau_p \\
       \text{abandon} & c < \tau_c,\ p < \tau_p \end{cases} $$

    Value shares in :attr:`QuadrantResult.summary` are shares of the net totals (NaN
    when a total is 0).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({
    ...     "customer_id": [1, 2, 3, 4],
    ...     "current_value": [100.0, 10.0, 80.0, 5.0],
    ...     "potential_value": [500.0, 400.0, 20.0, 10.0],
    ... })
    >>> r = clv_quadrants(df)
    >>> r.to_frame()["quadrant"].tolist()
    ['vip', 'improve', 'maintain', 'abandon']
    >>> r.thresholds
    {'current': 45.0, 'potential': 210.0}
    """
    what = "data"
    rule_c, rule_p = parse_split(split)
    ids, cur, pot = _collect(data, current_col, potential_col, customer_col, what)
    tc, tp = rule_c.threshold(cur), rule_p.threshold(pot)
    low_c = cur < tc
    low_p = pot < tp
    codes = (low_p.astype(np.int8) * 2 + low_c.astype(np.int8)).astype(np.int8)
    counts = np.bincount(codes.astype(np.intp), minlength=4)
    if not counts.all():
        _warn_empty(counts, tc, tp, rule_c, rule_p, int(np.sum(~low_c)), int(np.sum(~low_p)))
    return QuadrantResult(
        current_threshold=tc,
        potential_threshold=tp,
        current_rule=rule_c.describe(),
        potential_rule=rule_p.describe(),
        n_customers=len(codes),
        n_vip=int(counts[0]),
        n_improve=int(counts[1]),
        n_maintain=int(counts[2]),
        n_abandon=int(counts[3]),
        customer_col=customer_col,
        current_col=current_col,
        potential_col=potential_col,
        summary=_summary(codes, cur, pot, counts),
        _ids=ids,
        _current=cur,
        _potential=pot,
        _codes=codes,
    )


def _warn_empty(
    counts: npt.NDArray[np.intp],
    tc: float,
    tp: float,
    rule_c: _Rule,
    rule_p: _Rule,
    n_high_c: int,
    n_high_p: int,
) -> None:
    """Warn that the split leaves quadrants empty, with the numbers that explain it."""
    n = int(counts.sum())
    empty = [q for q, k in zip(QUADRANTS, counts, strict=True) if k == 0]
    text = (
        f"clv_quadrants: the split leaves {', '.join(empty)} empty. Current threshold "
        f"{tc:g} ({rule_c.describe()}): {n_high_c} of {n} customers high; potential "
        f"threshold {tp:g} ({rule_p.describe()}): {n_high_p} of {n} high."
    )
    one_sided = [
        axis for axis, k in (("current", n_high_c), ("potential", n_high_p)) if k in (0, n)
    ]
    if n < 4:
        text += " With fewer than four customers some quadrant is always empty."
    elif one_sided:
        text += (
            f" Every customer is on the same side of the {' and '.join(one_sided)} "
            "threshold: a value equal to a threshold counts as high, so a threshold on a "
            "pile of tied values (such as a median of 0) puts them all on the high side. "
            "Choose another split: 'positive_median', a quantile or an absolute threshold."
        )
    else:
        text += (
            " Check that this is expected (current and potential value can be strongly "
            "related) or choose another split."
        )
    warnings.warn(
        text,
        EmptyQuadrantWarning,
        stacklevel=3,
    )
