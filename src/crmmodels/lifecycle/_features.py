"""Per-customer stage features at one date, aggregated on the caller's engine."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import narwhals.stable.v2 as nw
import numpy as np
import pandas as pd

from crmmodels._ingest.frames import collect, count_rows, day_number, to_narwhals
from crmmodels._ingest.log import local_log
from crmmodels._ingest.periods import scalar_period_index
from crmmodels.errors import DataError, SchemaError, bad_rows_message, missing_column_message
from crmmodels.lifecycle._classify import Alive, classify
from crmmodels.lifecycle._rules import Settings

__all__ = [
    "DAY",
    "Log",
    "StagesAt",
    "by_customer",
    "customer_list",
    "merged_days",
    "purchase_days",
    "stages_at",
]

DAY = "__day"


@dataclass(frozen=True)
class Log:
    """The log merged to one row per (customer, purchase day), lazily on its engine."""

    days: Any  # narwhals frame: customer, DAY, __value
    last: pd.Timestamp  # the last purchase (local time)
    tz: str | None  # the time zone of the dates (days are those of its local calendar)


def purchase_days(
    transactions: Any,
    *,
    customer_col: str,
    date_col: str,
    amount_col: str | None,
    date_format: str | None,
) -> Log:
    """Validated log merged to one row per (customer, purchase day) with its value."""
    frame, last, tz = local_log(
        transactions,
        customer_col=customer_col,
        date_col=date_col,
        amount_col=amount_col,
        date_format=date_format,
    )
    return Log(merged_days(frame, customer_col, date_col, amount_col), last, tz)


def merged_days(frame: Any, customer_col: str, date_col: str, amount_col: str | None) -> Any:
    """An already validated log (narwhals, local dates) merged to (customer, day) rows.

    The value of a day is the sum of its amounts (the count of its rows without
    ``amount_col``). :func:`crmmodels.analyze` merges its validated log once with this
    and reads both lifecycle schemes from the result.
    """
    value = nw.col(amount_col).sum() if amount_col else nw.len()
    return (
        frame.with_columns(day_number(nw.col(date_col)).alias(DAY))
        .group_by(customer_col, DAY)
        .agg(value.alias("__value"))
        .with_columns(nw.col("__value").cast(nw.Float64))
    )


def customer_list(customers: Any, customer_col: str) -> pd.Series | None:
    """Ids from a list, Series or frame (any engine) of known customers."""
    if customers is None:
        return None
    if isinstance(customers, pd.Series):
        ids = customers
    elif isinstance(customers, (list, tuple, np.ndarray, pd.Index)):
        ids = pd.Series(np.asarray(customers))
    else:
        frame = to_narwhals(customers, what="customers")
        names = frame.collect_schema().names()
        if customer_col not in names:
            raise SchemaError(missing_column_message(customer_col, names, "customers"))
        ids = collect(frame.select(customer_col)).to_pandas()[customer_col]
    n_null = int(ids.isna().sum())
    if n_null:
        raise DataError("customers: " + bad_rows_message(customer_col, "is null", n_null, None))
    return pd.Series(pd.unique(ids.to_numpy()))


@dataclass(frozen=True)
class StagesAt:
    """The stage of every customer at one date and what it took to get there."""

    stages: pd.DataFrame
    n_prospects: int
    n_excluded: int
    alive: Alive


def stages_at(
    days: Any,
    *,
    customer_col: str,
    observation_end: pd.Timestamp,
    s: Settings,
    known: pd.Series | None,
    cache: dict[Any, Any] | None = None,
) -> StagesAt:
    """One row per customer with its stage and the features the rules used.

    ``cache`` (a dict the caller keeps for several calls on the same ``days``, e.g. both
    schemes in :func:`crmmodels.analyze`) holds the buyers' features by observation day,
    so that the merged log is grouped once.
    """
    a = scalar_period_index(observation_end, "D")
    before = days.filter(nw.col(DAY) <= a)
    if cache is not None and ("features", a) in cache:
        feats, later = cache[("features", a)]
        feats = feats.copy()
    else:
        feats = _buyer_features(before, customer_col)
        later = count_rows(days.filter(nw.col(DAY) > a)) > 0
        if cache is not None:
            cache[("features", a)] = (feats.copy(), later)
    if later or known is not None:
        prospects, n_excluded = _prospects(days, feats[customer_col], customer_col, s, known)
    else:  # nobody buys after the observation end: every customer is a buyer
        prospects, n_excluded = pd.Series([], dtype=feats[customer_col].dtype), 0
    if s.rules.scheme == "relationship":
        feats = _with_recent_value(feats, before, customer_col, a - s.rules.recent_days)
    out, alive = classify(feats, a, s)
    if len(prospects):
        pros = pd.DataFrame({customer_col: prospects.to_numpy(), "stage": "prospect"})
        pros["purchase_days"] = 0
        pros["value"] = 0.0
        out = pd.concat([out, pros], ignore_index=True) if len(out) else pros
    return StagesAt(by_customer(out, customer_col), len(prospects), n_excluded, alive)


def by_customer(stages: pd.DataFrame, customer_col: str) -> pd.DataFrame:
    """The stages sorted by customer id (ids of mixed types keep their order)."""
    if stages[customer_col].is_monotonic_increasing:  # sorted already: no copy
        return stages.reset_index(drop=True)
    try:
        return stages.sort_values(customer_col, kind="stable", ignore_index=True)
    except TypeError:
        return stages.reset_index(drop=True)


def _buyer_features(before: Any, customer_col: str) -> pd.DataFrame:
    """Purchase days, first and last day and value of the customers who bought already."""
    feats = collect(
        before.group_by(customer_col).agg(
            nw.len().alias("purchase_days"),
            nw.col(DAY).min().alias("__first"),
            nw.col(DAY).max().alias("__last"),
            nw.col("__value").sum().alias("value"),
        )
    ).to_pandas()
    feats["purchase_days"] = feats["purchase_days"].astype(np.int64)
    return feats


def _prospects(
    days: Any, buyers: pd.Series, customer_col: str, s: Settings, known: pd.Series | None
) -> tuple[pd.Series, int]:
    """Known customers without a purchase yet, and those who buy only later.

    Those who buy only later are prospects, or (``future_customers="exclude"``) left out
    and counted unless they are known customers.
    """
    all_ids = collect(days.group_by(customer_col).agg(nw.len().alias("__n"))).to_pandas()
    future = all_ids.loc[~all_ids[customer_col].isin(buyers), customer_col]
    n_excluded = 0
    extra = [] if known is None else [known[~known.isin(buyers)]]
    if s.future_customers == "exclude":
        n_excluded = int((~future.isin(known) if known is not None else future.notna()).sum())
    else:
        extra.append(future)
    prospects = pd.Series(pd.unique(pd.concat(extra).to_numpy())) if extra else pd.Series([])
    return prospects, n_excluded


def _with_recent_value(
    feats: pd.DataFrame, before: Any, customer_col: str, start: int
) -> pd.DataFrame:
    """Add the value of the purchases after day ``start`` (the recent window)."""
    recent = collect(
        before.filter(nw.col(DAY) > start)
        .group_by(customer_col)
        .agg(nw.col("__value").sum().alias("recent_value"))
    ).to_pandas()
    feats = feats.merge(recent, on=customer_col, how="left")
    feats["recent_value"] = feats["recent_value"].fillna(0.0)
    return feats
