"""Reading a customer table and the rule that marks customers as churned.

Shared by :func:`~crmmodels.lifecycle.churn_comparison` and
:func:`~crmmodels.lifecycle.win_back_targets`. The input is one row per customer (the
table of ``crm.analyze(...).customers``, or any frame like it). Only the columns used are
selected on the caller's engine; that selection is collected (one row per customer).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from crmmodels._ingest.arguments import check_column_name, check_number
from crmmodels._ingest.frames import check_columns, check_ids, to_narwhals, to_pandas
from crmmodels.errors import ArgumentError, DataError, SchemaError, bad_rows_message

__all__ = ["ChurnRule", "churn_rule", "read_customers"]

_WHAT = "customers"


@dataclass(frozen=True)
class ChurnRule:
    """How a customer is marked churned: a flag, a lifecycle stage, or P(alive) < threshold.

    A customer is churned when any of the given parts marks them.
    """

    churned_col: str | None
    lifecycle_stage_col: str | None
    churned_stages: tuple[str, ...]
    p_alive_col: str | None
    threshold: float | None

    @property
    def columns(self) -> list[str]:
        """The columns the rule reads."""
        cols = [self.churned_col, self.lifecycle_stage_col]
        if self.threshold is not None:
            cols.append(self.p_alive_col)
        return [c for c in cols if c is not None]

    def describe(self) -> str:
        """The rule in words, e.g. ``"p_alive < 0.5"``."""
        parts = []
        if self.churned_col is not None:
            parts.append(f"{self.churned_col} is True")
        if self.lifecycle_stage_col is not None:
            stages = ", ".join(repr(s) for s in self.churned_stages)
            parts.append(f"{self.lifecycle_stage_col} in ({stages})")
        if self.p_alive_col is not None and self.threshold is not None:
            parts.append(f"{self.p_alive_col} < {self.threshold:g}")
        return " or ".join(parts)

    def flags(self, data: pd.DataFrame, customer_col: str) -> dict[str, np.ndarray[Any, Any]]:
        """One boolean array per part of the rule, keyed by the part's description.

        Raises
        ------
        SchemaError
            A churned flag that is not boolean, a P(alive) column that is not numeric.
        DataError
            Missing values, P(alive) outside [0, 1], or churned stages that never occur.
        """
        out: dict[str, np.ndarray[Any, Any]] = {}
        ids = data[customer_col]
        if self.churned_col is not None:
            col = self.churned_col
            values = data[col]
            _no_missing(values, col, ids, "Fill it with True or False first.")
            if not (pd.api.types.is_bool_dtype(values.dtype)):
                raise SchemaError(
                    f"{_WHAT}: column '{col}' must be boolean (True = churned); its type is "
                    f"{values.dtype}. Convert it first, e.g. df[{col!r}] = df[{col!r}] == 'yes'."
                )
            out[f"{col} is True"] = values.to_numpy(dtype=bool)
        if self.lifecycle_stage_col is not None:
            col = self.lifecycle_stage_col
            values = data[col]
            _no_missing(values, col, ids, "Classify every customer, or filter the table first.")
            text = values.astype(str).to_numpy(dtype=object)
            found = sorted(set(pd.unique(text).tolist()))
            if not set(self.churned_stages) & set(found):
                raise DataError(
                    f"{_WHAT}: none of churned_stages {list(self.churned_stages)} occurs in "
                    f"column '{col}'; its values are {found[:10]}. Name the stages that mean "
                    "churned, e.g. churned_stages=('churned',) for the purchase scheme of "
                    "lifecycle_stages."
                )
            stages = ", ".join(repr(s) for s in self.churned_stages)
            out[f"{col} in ({stages})"] = np.isin(text, np.array(self.churned_stages, dtype=object))
        if self.p_alive_col is not None and self.threshold is not None:
            p = p_alive_values(data, self.p_alive_col, customer_col)
            out[f"{self.p_alive_col} < {self.threshold:g}"] = p < self.threshold
        return out

    def churned(self, data: pd.DataFrame, customer_col: str) -> np.ndarray[Any, Any]:
        """True for the customers any part of the rule marks as churned."""
        parts = list(self.flags(data, customer_col).values())
        return np.logical_or.reduce(parts) if parts else np.zeros(len(data), dtype=bool)


def _no_missing(values: pd.Series[Any], col: str, ids: pd.Series[Any], fix: str) -> None:
    bad = pd.isna(values).to_numpy()
    if bad.any():
        example = f"{ids.name}={_item(ids.to_numpy()[bad][0])!r}"
        raise DataError(
            f"{_WHAT}: " + bad_rows_message(col, "is missing", int(bad.sum()), example, fix)
        )


def _item(value: Any) -> Any:
    item = getattr(value, "item", None)
    return item() if callable(item) and not isinstance(value, (str, bytes)) else value


def p_alive_values(data: pd.DataFrame, col: str, customer_col: str) -> np.ndarray[Any, Any]:
    """The P(alive) column as floats, checked: numeric, no missing value, within [0, 1]."""
    values = data[col]
    if not pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_bool_dtype(values.dtype):
        raise SchemaError(
            f"{_WHAT}: column '{col}' must hold probabilities (numbers in [0, 1]); its type "
            f"is {values.dtype}."
        )
    _no_missing(
        values,
        col,
        data[customer_col],
        "A model gives P(alive) to every customer: fit one (crm.analyze does) or fill "
        "the column first.",
    )
    p = values.to_numpy(dtype=np.float64)
    bad = (p < 0.0) | (p > 1.0)
    if bad.any():
        example = f"{customer_col}={_item(data[customer_col].to_numpy()[bad][0])!r}: {p[bad][0]!r}"
        raise DataError(
            f"{_WHAT}: "
            + bad_rows_message(col, "is outside [0, 1]", int(bad.sum()), example)
            + " P(alive) is a probability."
        )
    return p


def churn_rule(
    *,
    churned_col: Any,
    lifecycle_stage_col: Any,
    churned_stages: Any,
    p_alive_col: Any,
    threshold: Any,
    exactly_one: bool,
) -> ChurnRule:
    """Check the arguments that define churned customers and return the rule.

    With ``exactly_one`` (a comparison) one definition must be given; otherwise (the
    targets of a win-back) at least one, and any of them marks a customer.
    """
    churned = None if churned_col is None else check_column_name(churned_col, "churned_col")
    stage = (
        None
        if lifecycle_stage_col is None
        else check_column_name(lifecycle_stage_col, "lifecycle_stage_col")
    )
    p_col = None if p_alive_col is None else check_column_name(p_alive_col, "p_alive_col")
    limit = None
    if threshold is not None and p_col is not None:
        limit = check_number(
            threshold,
            "threshold",
            low=0.0,
            high=1.0,
            low_open=True,
            high_open=True,
            fix="Customers whose P(alive) is below the threshold count as churned.",
        )
    if isinstance(churned_stages, str):
        churned_stages = (churned_stages,)
    try:
        stages = tuple(str(s) for s in churned_stages)
    except TypeError:
        raise ArgumentError(
            f"churned_stages must be stage names, e.g. ('churned',); got {churned_stages!r}."
        ) from None
    if stage is not None and not stages:
        raise ArgumentError("churned_stages is empty: name the stages that mean churned.")
    given = [
        name
        for name, on in (
            ("churned_col", churned is not None),
            ("lifecycle_stage_col", stage is not None),
            ("p_alive_col", limit is not None),
        )
        if on
    ]
    ways = (
        "churned_col='<a boolean column>', lifecycle_stage_col='lifecycle_stage' (with "
        "churned_stages), or p_alive_col='p_alive' (with threshold)"
    )
    if exactly_one and len(given) != 1:
        got = "none" if not given else " and ".join(given)
        raise ArgumentError(f"define churned customers in exactly one way: {ways}; got {got}.")
    if not given:
        raise ArgumentError(f"define the customers to target in at least one way: {ways}.")
    return ChurnRule(churned, stage, stages, p_col, limit)


def read_customers(
    customers: Any, *, customer_col: Any, columns: Sequence[str]
) -> tuple[pd.DataFrame, str]:
    """Select ``customer_col`` and ``columns`` on the caller's engine and collect them.

    Returns the pandas table (a new object: the caller's frame is never changed) and the
    engine's name.

    Raises
    ------
    SchemaError
        A missing column (with a did-you-mean), or ids mixing value types.
    DataError
        A missing id, or an id on more than one row (counted, with an example).
    """
    key = check_column_name(customer_col, "customer_col")
    frame = to_narwhals(customers, what=_WHAT)
    wanted = list(dict.fromkeys([key, *columns]))
    check_columns(frame, wanted, what=_WHAT)
    check_ids(customers, key, what=_WHAT)
    data = to_pandas(frame.select(wanted)).reset_index(drop=True)
    ids = data[key]
    null = pd.isna(ids).to_numpy()
    if null.any():
        raise DataError(
            f"{_WHAT}: "
            + bad_rows_message(key, "is missing", int(null.sum()), "null")
            + " Every row must name its customer."
        )
    dup = ids.duplicated(keep=False).to_numpy()
    if dup.any():
        first = _item(ids.to_numpy()[dup][0])
        times = int((ids == first).sum())
        n_ids = int(ids[dup].nunique())
        raise DataError(
            f"{_WHAT}: column '{key}' names {n_ids} customer{'s' if n_ids != 1 else ''} on "
            f"more than one row ({int(dup.sum())} rows; first example: {first!r}, on {times} "
            "rows). The table needs one row per customer: aggregate the rows per customer "
            "first (summarize_transactions does), or drop the duplicates."
        )
    return data, str(frame.implementation)
