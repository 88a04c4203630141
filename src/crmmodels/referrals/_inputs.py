"""Reading the customers table and the transactions of a referral analysis."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmmodels._ingest.dates import parse_dates, to_timestamp
from crmmodels._ingest.frames import (
    check_columns,
    check_ids,
    check_not_null,
    local_dates,
    pandas_ready,
    python_scalar,
    to_narwhals,
    to_pandas,
)
from crmmodels._ingest.log import pandas_wall_time, prepare_log
from crmmodels.errors import DataError, SchemaError, bad_rows_message

__all__ = ["Customers", "Purchases", "read_customers", "read_purchases"]


@dataclass(frozen=True)
class Customers:
    """The customers sorted by id: ids, referrer values as given, acquisition days."""

    ids: pd.Index
    referrers: pd.Series
    dates: npt.NDArray[np.datetime64]
    days: npt.NDArray[np.int64]


@dataclass(frozen=True)
class Purchases:
    """Per-customer amounts of the transactions (aligned with :class:`Customers`)."""

    value: npt.NDArray[np.float64]
    window_value: npt.NDArray[np.float64]
    window_days: npt.NDArray[np.int64]
    last_day: int


def read_customers(
    customers: Any,
    *,
    customer_col: str,
    referrer_col: str,
    date_col: str,
    date_format: str | None,
) -> Customers:
    """Validate the customers table (one row per customer) and sort it by id."""
    check_ids(customers, customer_col, what="customers")
    check_ids(customers, referrer_col, what="customers")
    data = pandas_ready(customers, [date_col])
    data, _zone = pandas_wall_time(data, date_col)
    frame = to_narwhals(data, what="customers")
    check_columns(frame, [customer_col, referrer_col, date_col], what="customers")
    frame = frame.select(customer_col, referrer_col, date_col)
    frame = local_dates(
        parse_dates(frame, date_col, date_format=date_format, what="customers"), date_col
    )
    check_not_null(frame, [customer_col], what="customers", nan_is_null=True)
    check_not_null(frame, [date_col], what="customers", id_col=customer_col)
    df = to_pandas(frame)
    if df.empty:
        raise DataError("customers is empty: no customers to analyse.")
    ids = df[customer_col]
    dup = ids.duplicated(keep=False)
    if dup.any():
        n_dup = int(ids[dup].nunique())
        raise DataError(
            "customers: "
            + bad_rows_message(
                customer_col,
                "repeats an id",
                int(dup.sum()),
                python_scalar(ids[dup].iloc[0]),
                f"{n_dup} ids appear more than once; the customers table has one row per "
                "customer: keep each customer's first acquisition, e.g. "
                f"df.sort_values({date_col!r}).drop_duplicates({customer_col!r}).",
            )
        )
    _check_same_kind(ids, df[referrer_col], customer_col, referrer_col)
    order = np.argsort(ids.to_numpy(), kind="stable")
    df = df.iloc[order].reset_index(drop=True)
    dates = df[date_col].to_numpy().astype("datetime64[ns]")
    return Customers(
        ids=pd.Index(df[customer_col].to_numpy(), name=customer_col),
        referrers=df[referrer_col],
        dates=dates,
        days=dates.astype("datetime64[D]").astype(np.int64),
    )


def _kind(values: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(values.dtype):
        return "booleans"
    if pd.api.types.is_numeric_dtype(values.dtype):
        return "numbers"
    inferred = pd.api.types.infer_dtype(values, skipna=True)
    if inferred in ("integer", "floating", "mixed-integer-float"):
        return "numbers"
    return "text" if inferred == "string" else f"{inferred} values"


def _check_same_kind(ids: pd.Series, refs: pd.Series, customer_col: str, referrer_col: str) -> None:
    """Refuse a referrer column whose values can never equal an id (text against numbers)."""
    if refs.notna().sum() == 0:
        return
    a, b = _kind(ids), _kind(refs.dropna())
    if a != b:
        raise SchemaError(
            f"customers: column '{referrer_col}' holds {b} and column '{customer_col}' holds "
            f"{a}, so no referrer can match a customer. Give both the same type, e.g. "
            f"df[{referrer_col!r}] = df[{referrer_col!r}].astype(df[{customer_col!r}].dtype) "
            "(or .astype(str) on both)."
        )


def observation_day(value: Any, customers: Customers, last_purchase: int | None) -> int:
    """The observation end as a day number (default: the last date of the data)."""
    last = int(customers.days.max())
    if last_purchase is not None:
        last = max(last, last_purchase)
    if value is None:
        return last
    end = int(np.datetime64(to_timestamp(value, "observation_end").date(), "D").astype(np.int64))
    late = customers.days > end
    if late.any():
        raise DataError(
            "customers: "
            + bad_rows_message(
                "date_col",
                f"is after the observation end {np.datetime64(end, 'D')}",
                int(late.sum()),
                python_scalar(customers.ids[np.flatnonzero(late)[0]]),
                "Pass a later observation_end or leave out the customers acquired after it.",
            )
        )
    return end


def read_purchases(
    transactions: Any,
    customers: Customers,
    *,
    customer_col: str,
    date_col: str,
    amount_col: str,
    date_format: str | None,
    allow_negative: bool,
    observation_end: Any,
    window: int,
) -> Purchases:
    """Total amount, amount and purchase days within ``window`` days of acquisition."""
    frame, end, _zone = prepare_log(
        transactions,
        customer_col=customer_col,
        date_col=date_col,
        amount_col=amount_col,
        date_format=date_format,
        allow_negative=allow_negative,
        observation_end=observation_end,
    )
    tx = to_pandas(frame.select(customer_col, date_col, amount_col))
    codes = customers.ids.get_indexer(pd.Index(tx[customer_col].to_numpy()))
    unknown = codes < 0
    if unknown.any():
        n_unknown = int(tx.loc[unknown, customer_col].nunique())
        raise DataError(
            "transactions: "
            + bad_rows_message(
                customer_col,
                "names a customer missing from customers",
                int(unknown.sum()),
                python_scalar(tx.loc[unknown, customer_col].iloc[0]),
                f"{n_unknown} customers buy without a row in customers: add them (with an "
                "empty referrer if they came organically) so that none is left out.",
            )
        )
    n = len(customers.ids)
    amount = tx[amount_col].to_numpy(dtype=np.float64)
    day = tx[date_col].to_numpy().astype("datetime64[D]").astype(np.int64)
    since = day - customers.days[codes]
    inside = (since >= 0) & (since < window)
    value = np.bincount(codes, weights=amount, minlength=n)
    window_value = np.bincount(codes[inside], weights=amount[inside], minlength=n)
    # distinct purchase days per customer inside the window
    pairs = np.sort(codes[inside].astype(np.int64) * (window + 1) + since[inside])
    pairs = pairs[np.r_[True, pairs[1:] != pairs[:-1]]] if pairs.size else pairs
    window_days = np.bincount(pairs // (window + 1), minlength=n).astype(np.int64)
    last_day = int(np.datetime64(end.date(), "D").astype(np.int64))
    return Purchases(
        value.astype(np.float64), window_value.astype(np.float64), window_days, last_day
    )
