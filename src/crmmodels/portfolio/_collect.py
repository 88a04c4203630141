"""Customer values collected from any input: arrays, Series or frames on any engine."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import narwhals.stable.v2 as nw
import numpy as np
import numpy.typing as npt
import pandas as pd

from crmmodels._ingest.frames import (
    check_columns,
    check_not_null,
    collect,
    is_lazy,
    numeric_amounts,
    python_scalar,
    to_narwhals,
    to_pandas,
)
from crmmodels.errors import DataError, SchemaError, bad_rows_message


@dataclass(frozen=True)
class _Values:
    """Customer ids and values collected from any input (one row per customer)."""

    ids: npt.NDArray[Any]
    values: npt.NDArray[np.float64]
    customer_col: str
    amount_col: str


def _first_ids(ids: npt.NDArray[Any], mask: npt.NDArray[np.bool_], k: int = 5) -> list[Any]:
    return [python_scalar(v) for v in ids[mask][:k]]


def _check_finite(v: _Values, what: str) -> None:
    bad = ~np.isfinite(v.values)
    if bad.any():
        n = int(bad.sum())
        example = f"{v.customer_col}={_first_ids(v.ids, bad, 1)[0]!r}"
        raise DataError(
            f"{what}: " + bad_rows_message(v.amount_col, "is NaN or infinite", n, example)
        )


def _numeric_array(raw: Any, name: str, what: str) -> npt.NDArray[np.float64]:
    arr = np.asarray(raw)
    if arr.dtype == np.bool_ or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == object):
        raise SchemaError(f"{what}: column '{name}' must be numeric; got dtype {arr.dtype}.")
    try:
        return np.asarray(arr, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise SchemaError(
            f"{what}: column '{name}' must be numeric; it holds non-numeric values."
        ) from exc


def _values_from_array(
    data: Any, customer_col: str | None, amount_col: str | None, what: str
) -> _Values:
    """Array or Series input: ids are the Series index (or positions)."""
    ccol = customer_col or "customer_id"
    if isinstance(data, pd.Series):
        vcol = amount_col or (str(data.name) if data.name is not None else "value")
        ccol = customer_col or (str(data.index.name) if data.index.name else "customer_id")
        if data.isna().any():
            mask = data.isna().to_numpy()
            n = int(mask.sum())
            ex = f"{ccol}={python_scalar(data.index[mask][0])!r}"
            raise DataError(f"{what}: " + bad_rows_message(vcol, "is null", n, ex))
        if not data.index.is_unique:
            data = data.groupby(level=0, sort=False).sum()
        ids = data.index.to_numpy()
        vals = _numeric_array(data.to_numpy(), vcol, what)
        return _Values(ids, vals, ccol, vcol)
    vcol = amount_col or "value"
    arr = np.asarray(data)
    if arr.ndim != 1:
        raise SchemaError(f"{what} must be one-dimensional; got shape {arr.shape}.")
    vals = _numeric_array(arr, vcol, what)
    return _Values(np.arange(len(vals)), vals, ccol, vcol)


def _frame_values(
    frame: Any,
    *,
    amount_col: str | None,
    customer_col: str | None,
    what: str,
) -> tuple[Any, str]:
    """Validate a narwhals frame; return it (decimal amounts as floats) and its value column."""
    if amount_col is None:
        raise SchemaError(
            f"{what} is a dataframe: pass amount_col= naming its value column "
            f"(columns: {list(frame.collect_schema().names())})."
        )
    cols = [amount_col] + ([customer_col] if customer_col else [])
    check_columns(frame, cols, what=what)
    frame = numeric_amounts(frame, amount_col, what=what)
    check_not_null(frame, cols, what=what, id_col=customer_col)
    return frame, amount_col


def _collect_customer_values(
    data: Any,
    *,
    amount_col: str | None,
    customer_col: str | None,
    period_col: str | None,
    what: str,
) -> tuple[_Values, pd.DataFrame | None]:
    """Collect (ids, values) per customer, and per (period, customer) with ``period_col``."""
    if isinstance(data, (np.ndarray, list, tuple, pd.Series)):
        if period_col is not None:
            raise SchemaError(f"period_col needs a dataframe {what}; got {type(data).__name__}.")
        v = _values_from_array(data, customer_col, amount_col, what)
        _check_finite(v, what)
        return v, None
    try:
        native_series = nw.from_native(data, series_only=True)
    except TypeError:
        native_series = None
    if native_series is not None:
        if period_col is not None:
            raise SchemaError(f"period_col needs a dataframe {what}; got a Series.")
        name = amount_col or (str(native_series.name) if native_series.name else None)
        v = _values_from_array(native_series.to_numpy(), customer_col, name, what)
        _check_finite(v, what)
        return v, None

    frame = to_narwhals(data, what=what)
    extra = [period_col] if period_col else []
    check_columns(frame, extra, what=what)
    if period_col:
        check_not_null(frame, [period_col], what=what, id_col=customer_col)
    frame, amount_col = _frame_values(
        frame, amount_col=amount_col, customer_col=customer_col, what=what
    )
    per_period: pd.DataFrame | None = None
    if customer_col is None:
        if is_lazy(frame):
            raise SchemaError(
                f"{what} is a lazy frame: pass customer_col= so customers can be identified."
            )
        cols = [amount_col] + ([period_col] if period_col else [])
        small = collect(frame.select(cols)).to_pandas()
        ccol = "customer_id"
        small.insert(0, ccol, np.arange(len(small)))
        ids = small[ccol].to_numpy()
        vals = _numeric_array(small[amount_col].to_numpy(), amount_col, what)
        if period_col:
            per_period = small[[period_col, ccol, amount_col]]
    else:
        ccol = customer_col
        agg = collect(frame.group_by(customer_col).agg(nw.col(amount_col).sum()))
        ids = agg[customer_col].to_numpy()
        vals = _numeric_array(agg[amount_col].to_numpy(), amount_col, what)
        if period_col:
            per_period = to_pandas(
                frame.group_by([period_col, customer_col]).agg(nw.col(amount_col).sum())
            )
    v = _Values(ids, vals, ccol, amount_col)
    _check_finite(v, what)
    return v, per_period
