"""Interact: per-customer interaction profile from an interaction log."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import narwhals.stable.v2 as nw
import numpy as np
import pandas as pd

from crmmodels._ingest.arguments import check_column_name, check_int
from crmmodels._ingest.dates import parse_dates, to_timestamp
from crmmodels._ingest.frames import (
    check_columns,
    check_ids,
    check_not_null,
    collect,
    count_rows,
    count_true,
    local_dates,
    pandas_ready,
    python_scalar,
    to_narwhals,
    to_pandas,
)
from crmmodels._ingest.log import pandas_wall_time, time_zone
from crmmodels._ingest.renames import renamed_arguments, renamed_property
from crmmodels._results import Result
from crmmodels.errors import ArgumentError, DataError, SchemaError, bad_rows_message

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["InteractionProfileResult", "interaction_profile"]

_LOCAL = "__local_time"


@dataclass(frozen=True, repr=False)
class InteractionProfileResult(Result):
    """Result of :func:`interaction_profile`.

    Attributes
    ----------
    profiles : pandas.DataFrame
        One row per customer: ``n_interactions``, ``n_<channel>`` per channel,
        ``last_contact``, ``days_since_contact``, ``response_rate`` (NaN without
        responses), ``n_responses_known``, ``preferred_channel`` and ``channel_entropy``
        (nats).
    channel_mix : pandas.DataFrame
        Interactions and customers reached per channel, with the share of interactions.
    uncontacted : pandas.DataFrame
        Strategic customers not contacted in the coverage window, with their last
        contact (missing when never contacted).
    observation_end : str
        Reference time (ISO format). ``as_of`` is its old name (``FutureWarning``).
    coverage_days : int
        Length of the coverage window.
    coverage : float or None
        Share of the strategic customers contacted in the last ``coverage_days``
        (None when no strategic customers were given).
    n_strategic, n_strategic_contacted : int
        Strategic customers given, and those contacted in the window.
    n_customers, n_interactions : int
        Customers profiled, interactions counted.
    n_after_observation_end : int
        Interactions after ``observation_end``, left out of every figure
        (``n_after_as_of`` is its old name).

    Examples
    --------
    >>> import pandas as pd
    >>> log = pd.DataFrame({
    ...     "customer_id": [1, 1, 2],
    ...     "timestamp": pd.to_datetime(["2024-01-01", "2024-03-01", "2024-02-01"]),
    ...     "channel": ["email", "phone", "email"],
    ... })
    >>> res = interaction_profile(log, strategic=[1, 3])
    >>> res.to_frame()[["customer_id", "n_interactions"]].values.tolist()
    [[1, 2], [2, 1]]
    >>> res.coverage
    0.5
    >>> ax = res.plot()
    >>> type(ax).__name__
    'Axes'
    >>> import matplotlib.pyplot as plt
    >>> plt.close(ax.figure)
    """

    profiles: pd.DataFrame
    channel_mix: pd.DataFrame
    uncontacted: pd.DataFrame
    customer_col: str
    observation_end: str
    coverage_days: int
    coverage: float | None
    n_strategic: int
    n_strategic_contacted: int
    n_customers: int
    n_interactions: int
    n_after_observation_end: int

    as_of = renamed_property("as_of", "observation_end")

    n_after_as_of = renamed_property("n_after_as_of", "n_after_observation_end")

    def to_frame(self) -> pd.DataFrame:
        """Return the per-customer profile."""
        return self.profiles.copy()

    def plot(self, ax: Axes | None = None, **kwargs: Any) -> Axes:
        """Channel mix bar chart (share of interactions per channel) with the coverage."""
        from crmmodels.plotting.idic import plot_channel_mix

        return plot_channel_mix(self, ax=ax, **kwargs)


def _responses(frame: Any, response_col: str, customer_col: str) -> tuple[Any, list[Any]]:
    """Response columns for the per-customer aggregation, after checking the values.

    A response is 1/True (responded), 0/False (did not) or missing (null, or NaN on
    every engine): unknown, left out of the rate. Any other value (a count of
    responses, a score) is refused, since the rate is responses per known contact.
    """
    dtype = frame.collect_schema()[response_col]
    not_boolean = SchemaError(
        f"interactions: column '{response_col}' must be boolean or 0/1; its type is {dtype}."
    )
    if not (dtype == nw.Boolean or dtype.is_numeric() or dtype == nw.Object):
        raise not_boolean
    x = nw.col(response_col).cast(nw.Float64)
    known = ~(x.is_null() | x.is_nan())
    bad = known & (x != 0.0) & (x != 1.0)
    try:  # an object column (pandas booleans with None) is cast; text is not a response
        n_bad = int(collect(frame.select(count_true(bad).alias("n"))).item(0, 0) or 0)
    except (TypeError, ValueError) as exc:
        raise not_boolean from exc
    if n_bad:
        first = collect(frame.filter(bad).select(customer_col, response_col).head(1))
        example = (
            f"{customer_col}={python_scalar(first[customer_col].item(0))!r}, "
            f"{response_col}={python_scalar(first[response_col].item(0))!r}"
        )
        raise DataError(
            "interactions: "
            + bad_rows_message(
                response_col,
                "is not a 0/1 (or True/False) response",
                n_bad,
                example,
                "Give one row per contact with 1 when the customer responded and 0 when "
                "not (null when unknown); a count of responses per row is not a response.",
            )
        )
    frame = frame.with_columns(
        known.cast(nw.Int64).alias("_resp_known"),
        nw.when(known).then(x).otherwise(nw.lit(0.0)).alias("_resp"),
    )
    aggs = [
        nw.col("_resp").sum().alias("_resp_sum"),
        nw.col("_resp_known").sum().alias("n_responses_known"),
    ]
    return frame, aggs


@renamed_arguments(as_of="observation_end", time_col="date_col")
def interaction_profile(
    interactions: Any,
    *,
    customer_col: str = "customer_id",
    date_col: str = "timestamp",
    channel_col: str = "channel",
    response_col: str | None = None,
    observation_end: Any = None,
    strategic: Iterable[Any] | None = None,
    coverage_days: int = 90,
    date_format: str | None = None,
) -> InteractionProfileResult:
    r"""Profile each customer's interactions: volume, recency, response, channel mix.

    Parameters
    ----------
    interactions : DataFrame-like
        Interaction log on any engine (one row per contact).
    customer_col, date_col, channel_col : str, optional
        Column names; ``date_col`` holds datetimes, dates or ISO 8601 text
        (``date_format`` for other layouts). ``time_col`` is the old name of ``date_col``
        (``FutureWarning``).
    response_col : str, optional
        Boolean (or 0/1) outcome column, one contact per row; nulls (and NaN) mean
        "unknown" and are left out of the response rate. Other values (counts of
        responses, scores) raise :class:`~crmmodels.errors.DataError`.
    observation_end : datetime-like, optional
        Reference time for recency and coverage; default the latest interaction.
        Interactions after it are excluded and counted. Times are compared on the
        local calendar of a timezone-aware log (an aware ``observation_end`` is converted
        to the log's zone first). ``as_of`` is its old name (``FutureWarning``).
    strategic : iterable, optional
        Ids of the strategic (e.g. class A) customers whose contact coverage is measured.
    coverage_days : int, optional
        Window of the coverage measure, in days.
    date_format : str, optional
        strftime layout of text timestamps (e.g. ``"%d/%m/%Y %H:%M"``); without it
        text must be ISO 8601.

    Returns
    -------
    InteractionProfileResult

    Raises
    ------
    SchemaError
        A column is missing.
    DataError
        Null customer ids, timestamps or channels, responses other than 0/1, or an
        empty log. :class:`~crmmodels.errors.ArgumentError` (a ``DataError``) for a bad
        ``observation_end``, ``coverage_days``, ``strategic`` or column-name argument.

    Notes
    -----
    Counts, last contact and response means are aggregated on the caller's engine
    (``group_by`` by customer and by customer and channel); only per-customer
    aggregates are collected. With :math:`p_h` the share of a customer's interactions
    on channel :math:`h`, the channel entropy in nats (natural logarithm) is

    $$ H = -\\sum_h p_h \\ln p_h , $$

    0 for a single-channel customer and :math:`\\ln m` for an even spread over
    :math:`m` channels. The preferred channel is the most used one; ties go to the
    channel name that sorts first. ``days_since_contact`` is
    ``(observation_end - last_contact)`` in days (fractional). A strategic customer is covered
    when ``days_since_contact <= coverage_days``; strategic customers without any
    interaction are not covered.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmmodels.idic import interaction_profile
    >>> log = pd.DataFrame({
    ...     "customer_id": [1, 1, 1, 2],
    ...     "timestamp": pd.to_datetime(["2024-01-01", "2024-03-01", "2024-03-20", "2023-10-01"]),
    ...     "channel": ["email", "email", "phone", "store"],
    ...     "responded": [True, False, True, None],
    ... })
    >>> res = interaction_profile(log, response_col="responded", strategic=[1, 2, 3])
    >>> res.profiles[["customer_id", "n_interactions", "preferred_channel"]].values.tolist()
    [[1, 3, 'email'], [2, 1, 'store']]
    >>> res.profiles["days_since_contact"].tolist()
    [0.0, 171.0]
    >>> float(round(res.profiles["channel_entropy"].iloc[0], 4)), res.coverage
    (0.6365, 0.3333333333333333)
    """
    coverage_days = check_int(coverage_days, "coverage_days", low=0)
    _check_arguments(
        customer_col=customer_col,
        date_col=date_col,
        channel_col=channel_col,
        response_col=response_col,
        strategic=strategic,
        observation_end=observation_end,
    )
    frame, tz, n_total = _local_log(
        interactions,
        customer_col=customer_col,
        date_col=date_col,
        channel_col=channel_col,
        response_col=response_col,
        date_format=date_format,
    )
    frame, end_ts, n_after = _cut(frame, observation_end, tz, n_total)
    per_cust = _per_customer(frame, customer_col, date_col, response_col)
    counts = to_pandas(frame.group_by(customer_col, channel_col).agg(nw.len().alias("_n")))
    mix_counts, channels = _channel_matrix(counts, customer_col, channel_col)
    prof = _profiles(per_cust, mix_counts, channels, customer_col, end_ts, tz, response_col)
    mat = mix_counts.to_numpy(dtype=np.float64)
    n_int = int(prof["n_interactions"].sum())
    mix = pd.DataFrame(
        {
            "channel": channels,
            "n_interactions": mat.sum(axis=0).astype(np.int64),
            "n_customers": (mat > 0).sum(axis=0).astype(np.int64),
        }
    )
    mix["share"] = mix["n_interactions"] / max(n_int, 1)
    coverage, n_strat, n_cov, uncontacted = _coverage(prof, strategic, coverage_days, customer_col)
    if tz is not None:  # report observation_end in the data's zone
        end_ts = end_ts.tz_localize(tz, ambiguous=True, nonexistent="shift_forward")
    return InteractionProfileResult(
        profiles=prof,
        channel_mix=mix,
        uncontacted=uncontacted,
        customer_col=customer_col,
        observation_end=end_ts.isoformat(),
        coverage_days=int(coverage_days),
        coverage=coverage,
        n_strategic=n_strat,
        n_strategic_contacted=n_cov,
        n_customers=len(prof),
        n_interactions=n_int,
        n_after_observation_end=int(n_after),
    )


def _check_arguments(
    *,
    customer_col: str,
    date_col: str,
    channel_col: str,
    response_col: str | None,
    strategic: Any,
    observation_end: Any,
) -> None:
    """Check the column names, ``strategic`` and ``observation_end`` before the data."""
    for arg, name in (
        ("customer_col", customer_col),
        ("date_col", date_col),
        ("channel_col", channel_col),
        ("response_col", response_col),
    ):
        if name is not None:
            check_column_name(name, arg)
    if strategic is not None and (
        isinstance(strategic, (str, bytes)) or not isinstance(strategic, Iterable)
    ):
        raise ArgumentError(
            f"strategic must be a list (or other collection) of customer ids; got {strategic!r}."
        )
    if observation_end is not None:  # the argument first; re-read in the data's zone later
        to_timestamp(observation_end, "observation_end")


def _local_log(
    interactions: Any,
    *,
    customer_col: str,
    date_col: str,
    channel_col: str,
    response_col: str | None,
    date_format: str | None,
) -> tuple[Any, str | None, int]:
    """Validate the log; add its dates on their local wall time as a column ``_LOCAL``.

    Recency and the cut are read on the local calendar of the data, as in every other
    analysis; ``date_col`` keeps its own type for ``last_contact``. Returns the frame,
    the time zone of the dates (None for naive dates) and the number of rows.
    """
    check_ids(interactions, customer_col, what="interactions")
    interactions = pandas_ready(interactions, [date_col])
    interactions, tz = pandas_wall_time(interactions, date_col)
    frame = to_narwhals(interactions, what="interactions")
    cols = [customer_col, date_col, channel_col]
    check_columns(frame, cols + ([response_col] if response_col else []), what="interactions")
    frame = parse_dates(frame, date_col, date_format=date_format, what="interactions")
    check_not_null(frame, cols, what="interactions", id_col=customer_col, nan_is_null=True)
    n_total = count_rows(frame)
    if n_total == 0:
        raise DataError("interactions: the log is empty.")
    if tz is None:
        tz = time_zone(frame, date_col)
        frame = frame.with_columns(nw.col(date_col).alias(_LOCAL))
        frame = local_dates(frame, _LOCAL)
    else:  # a pandas column already on its wall time: last_contact gets its zone back
        frame = frame.with_columns(nw.col(date_col).alias(_LOCAL))
    return frame, tz, n_total


def _cut(
    frame: Any, observation_end: Any, tz: str | None, n_total: int
) -> tuple[Any, pd.Timestamp, int]:
    """Leave out the interactions after ``observation_end`` (local wall time); count them."""
    if observation_end is None:
        end_ts = pd.Timestamp(collect(frame.select(nw.col(_LOCAL).max())).item(0, 0))
        return frame, end_ts, 0
    end_ts = to_timestamp(observation_end, "observation_end", tz)
    bound: Any = end_ts.to_pydatetime()
    if frame.collect_schema()[_LOCAL] == nw.Date:
        bound = bound.date()
    frame = frame.filter(nw.col(_LOCAL) <= bound)
    return frame, end_ts, n_total - count_rows(frame)


def _per_customer(
    frame: Any, customer_col: str, date_col: str, response_col: str | None
) -> pd.DataFrame:
    """Interactions, last contact and responses per customer (on the caller's engine)."""
    aggs = [
        nw.len().alias("n_interactions"),
        nw.col(date_col).max().alias("last_contact"),
        nw.col(_LOCAL).max().alias(_LOCAL),
    ]
    if response_col is not None:
        frame, resp_aggs = _responses(frame, response_col, customer_col)
        aggs += resp_aggs
    per_cust = to_pandas(frame.group_by(customer_col).agg(*aggs))
    if response_col is not None:
        n_known = per_cust["n_responses_known"].to_numpy(dtype=np.float64, na_value=0.0)
        total = per_cust.pop("_resp_sum").to_numpy(dtype=np.float64, na_value=0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            per_cust["response_rate"] = np.where(n_known > 0, total / n_known, np.nan)
    return per_cust


def _channel_matrix(
    per_chan: pd.DataFrame, customer_col: str, channel_col: str
) -> tuple[pd.DataFrame, list[str]]:
    """Interactions per customer (rows) and channel (columns, sorted by name)."""
    counts = per_chan.pivot_table(
        index=customer_col, columns=channel_col, values="_n", aggfunc="sum", fill_value=0
    )
    counts = counts.reindex(columns=sorted(counts.columns, key=str)).astype(np.int64)
    return counts, [str(c) for c in counts.columns]


def _profiles(
    per_cust: pd.DataFrame,
    counts: pd.DataFrame,
    channels: list[str],
    customer_col: str,
    end_ts: pd.Timestamp,
    tz: str | None,
    response_col: str | None,
) -> pd.DataFrame:
    """The per-customer table: counts per channel, recency, responses, channel entropy."""
    mat = counts.to_numpy(dtype=np.float64)
    tot = mat.sum(axis=1, keepdims=True)
    p = np.divide(mat, tot, out=np.zeros_like(mat), where=tot > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ent = -np.sum(np.where(p > 0, p * np.log(p), 0.0), axis=1)
    preferred = np.asarray(channels, dtype=object)[np.argmax(mat, axis=1)]

    prof = per_cust.set_index(customer_col).sort_index()
    prof = prof.join(counts.set_axis([f"n_{c}" for c in channels], axis=1))
    last = pd.to_datetime(prof["last_contact"])
    if tz is not None and not isinstance(last.dtype, pd.DatetimeTZDtype):
        last = last.dt.tz_localize(tz, ambiguous=True, nonexistent="shift_forward")
    prof["last_contact"] = last
    last_local = pd.to_datetime(prof.pop(_LOCAL))
    prof["days_since_contact"] = (end_ts - last_local) / pd.Timedelta(days=1)
    prof["preferred_channel"] = pd.Series(preferred, index=counts.index).reindex(prof.index)
    prof["preferred_channel"] = prof["preferred_channel"].astype(str)
    prof["channel_entropy"] = pd.Series(ent, index=counts.index).reindex(prof.index)
    prof["channel_entropy"] = prof["channel_entropy"].astype(np.float64)
    prof["n_interactions"] = prof["n_interactions"].astype(np.int64)
    if response_col is not None:
        prof["response_rate"] = prof["response_rate"].astype(np.float64)
        prof["n_responses_known"] = prof["n_responses_known"].astype(np.int64)
    order = ["n_interactions", *[f"n_{c}" for c in channels], "last_contact", "days_since_contact"]
    if response_col is not None:
        order += ["response_rate", "n_responses_known"]
    order += ["preferred_channel", "channel_entropy"]
    return prof[order].reset_index()


def _coverage(
    prof: pd.DataFrame, strategic: Iterable[Any] | None, coverage_days: int, customer_col: str
) -> tuple[float | None, int, int, pd.DataFrame]:
    """Share of the strategic customers contacted in the window, and those who were not."""
    uncontacted = pd.DataFrame({customer_col: [], "last_contact": []})
    if strategic is None:
        return None, 0, 0, uncontacted
    strat = pd.Index(pd.unique(pd.Series(list(strategic), dtype=object)))
    n_strat = len(strat)
    days = prof.set_index(customer_col)["days_since_contact"]
    days.index = days.index.astype(object)
    covered = (days.reindex(strat) <= float(coverage_days)).fillna(False).to_numpy(dtype=bool)
    n_cov = int(covered.sum())
    lastc = prof.set_index(customer_col)["last_contact"]
    lastc.index = lastc.index.astype(object)
    miss = strat[~covered]
    uncontacted = pd.DataFrame(
        {customer_col: list(miss), "last_contact": lastc.reindex(miss).to_numpy()}
    )
    return (n_cov / n_strat if n_strat else None), n_strat, n_cov, uncontacted
