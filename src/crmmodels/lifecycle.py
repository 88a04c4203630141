r"""Customer lifecycle stages at a date and transitions between snapshots.

Two documented, configurable schemes classify every customer at an ``as_of`` date:

* ``"purchase"`` (the customer lifecycle of Buttle 2009: prospect, first purchase,
  loyal, lapsed):
  ``prospect`` / ``first_time`` / ``loyal`` / ``churned``.
* ``"relationship"`` (relationship phases after Dwyer, Schurr & Oh 1987: exploration,
  formation, stability, decline): from the number of purchase days and the trend of the
  customer's recent value against their own history; customers without a purchase are
  ``prospect``.

Purchases are merged per calendar day (several orders on one day are one purchase day).
The per-customer aggregation runs on the caller's engine through narwhals; only one row
per customer is collected.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

import narwhals.stable.v2 as nw
import numpy as np
import numpy.typing as npt
import pandas as pd

from crmmodels._activity import local_log
from crmmodels._frames import collect, day_number, to_narwhals
from crmmodels._ingest.arguments import check_choice
from crmmodels._ingest.dates import to_timestamp
from crmmodels._results import Result
from crmmodels.errors import (
    ConvergenceError,
    DataError,
    SchemaError,
    SkippedStepWarning,
    bad_rows_message,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "NOT_YET_CUSTOMER",
    "PURCHASE_STAGES",
    "RELATIONSHIP_STAGES",
    "LifecycleStages",
    "LifecycleTransitions",
    "lifecycle_stages",
    "lifecycle_transitions",
]

PURCHASE_STAGES: tuple[str, ...] = ("prospect", "first_time", "loyal", "churned")
RELATIONSHIP_STAGES: tuple[str, ...] = (
    "prospect",
    "exploration",
    "formation",
    "stability",
    "decline",
)
NOT_YET_CUSTOMER = "not_yet_customer"
_EPOCH = pd.Timestamp("1970-01-01")
_DAY = "__day"


class AliveModel(Protocol):
    """Anything with ``probability_alive(frequency, recency, T)`` (e.g. a fitted BG/NBD).

    Only this method is used; no base class is needed.

    Examples
    --------
    >>> import numpy as np
    >>> class Exponential:
    ...     def probability_alive(self, frequency, recency, T):
    ...         return np.exp(-(np.asarray(T) - np.asarray(recency)) / 60.0)
    >>> import pandas as pd
    >>> tx = pd.DataFrame({
    ...     "customer_id": [1, 2, 2, 3],
    ...     "date": pd.to_datetime(["2024-03-01", "2024-01-05", "2024-03-10", "2022-06-01"]),
    ... })
    >>> res = lifecycle_stages(tx, as_of="2024-03-31", model=Exponential(), time_unit="D")
    >>> res.to_frame()["stage"].tolist()
    ['first_time', 'loyal', 'churned']
    """

    def probability_alive(self, frequency: Any, recency: Any, T: Any) -> Any:
        """Probability that each customer is still alive."""


@dataclass(frozen=True)
class _Rules:
    scheme: str
    churn_after_days: int
    model: Any
    alive_threshold: float
    time_unit: str
    recent_days: int
    formation_min_purchases: int
    stability_min_purchases: int
    decline_ratio: float
    growth_ratio: float
    future_customers: str


# ---------------------------------------------------------------------------------------
# results
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True, repr=False)
class LifecycleStages(Result):
    """Lifecycle stage of every customer at one date.

    Attributes
    ----------
    stages : pandas.DataFrame
        One row per customer: the id, ``stage`` and the features the rules used
        (``purchase_days``, ``first_purchase``, ``last_purchase``, ``days_since_last``,
        ``value``; ``p_alive`` with a model; ``recent_value``, ``history_value``, ``trend``
        under the relationship scheme).
    summary : pandas.DataFrame
        Per stage (in stage order): ``customers``, ``share``, ``value`` (total value up to
        ``as_of``: amounts with ``amount_col``, else purchase days), ``mean_value`` and
        ``mean_purchase_days``.
    scheme : str
        ``"purchase"`` or ``"relationship"``.
    as_of : str
        Snapshot date (ISO).
    n_customers : int
        Customers classified (each exactly once).
    n_prospects : int
        Customers without a purchase on or before ``as_of``.
    n_excluded : int
        Customers whose purchases are all after ``as_of`` and who were left out because
        ``future_customers="exclude"`` (0 otherwise).
    alive_model : object or None
        The model that gave ``p_alive`` (the one passed, or the BG/NBD fitted with
        ``model="bgnbd"``); None without one or when its fit was skipped.
    notes : tuple of str
        Steps that were skipped (e.g. a BG/NBD fit that cannot be resolved on a few
        customers) and what was used instead; empty otherwise.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({
    ...     "customer_id": [1, 2, 2, 3],
    ...     "date": pd.to_datetime(["2024-03-01", "2024-01-05", "2024-03-10", "2022-06-01"]),
    ... })
    >>> res = lifecycle_stages(tx, as_of="2024-03-31", customers=[4])
    >>> res  # doctest: +NORMALIZE_WHITESPACE
    LifecycleStages(scheme=purchase, as_of=2024-03-31, n_customers=4, n_prospects=1,
    n_excluded=0, rows=4)
    >>> res.to_frame()["stage"].tolist()
    ['first_time', 'loyal', 'churned', 'prospect']
    >>> res.summary["customers"].tolist()
    [1, 1, 1, 1]
    >>> ax = res.plot()
    >>> type(ax).__name__
    'Axes'
    >>> import matplotlib.pyplot as plt
    >>> plt.close(ax.figure)
    """

    stages: pd.DataFrame
    summary: pd.DataFrame
    scheme: str
    as_of: str
    n_customers: int
    n_prospects: int
    n_excluded: int
    _alive_model: Any = field(default=None, repr=False)
    _notes: tuple[str, ...] = field(default=(), repr=False)

    @property
    def alive_model(self) -> Any:
        """The model that gave ``p_alive`` (None without one or when its fit was skipped)."""
        return self._alive_model

    @property
    def notes(self) -> tuple[str, ...]:
        """Skipped steps and what was used instead, in plain words."""
        return self._notes

    def to_frame(self) -> pd.DataFrame:
        """One row per customer with ``stage`` and the features used."""
        return self.stages.copy()

    def plot(self, ax: Axes | None = None, **kwargs: Any) -> Axes:
        """Bar chart of customers per stage."""
        from crmmodels.plotting.lifecycle import plot_stage_counts

        return plot_stage_counts(self, ax=ax, **kwargs)


@dataclass(frozen=True, repr=False)
class LifecycleTransitions(Result):
    """Stages at a sequence of snapshots and the transitions between consecutive ones.

    Attributes
    ----------
    stages : pandas.DataFrame
        Customers (rows, indexed by id) x snapshots (columns): the stage at each snapshot,
        ``"not_yet_customer"`` where the customer is not yet known.
    stage_counts : pandas.DataFrame
        Snapshots x stages: customers per stage (each customer once per snapshot).
    counts : pandas.DataFrame
        Transition counts pooled over all consecutive snapshot pairs: rows the stage at
        the earlier snapshot, columns the stage at the next one (``not_yet_customer`` rows
        are customers who appear; a ``not_yet_customer`` column would be customers who
        disappear).
    rates : pandas.DataFrame
        ``counts`` normalised by row (NaN for empty rows).
    transitions : pandas.DataFrame
        Long table per pair: ``from_snapshot``, ``to_snapshot``, ``from_stage``,
        ``to_stage``, ``customers``, ``rate``.
    time_in_stage : pandas.DataFrame
        Per stage: ``customers`` ever in it, ``mean_snapshots`` (snapshots spent in the
        stage per such customer), ``spells`` (runs of consecutive snapshots),
        ``censored_spells`` (runs still going at the last snapshot), ``mean_spell``
        (snapshots per run) and ``mean_spell_days`` (``mean_spell`` x mean snapshot
        spacing in days).
    scheme : str
        The stage scheme.
    snapshots : tuple of str
        Snapshot dates (ISO).
    n_customers : int
        Customers seen at any snapshot.
    notes : tuple of str
        Steps skipped at some snapshot (prefixed with its date), e.g. a BG/NBD fit that
        cannot be resolved on the few customers known then; empty otherwise.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({
    ...     "customer_id": [1, 2, 2, 3],
    ...     "date": pd.to_datetime(["2024-03-01", "2024-01-05", "2024-03-10", "2022-06-01"]),
    ... })
    >>> res = lifecycle_transitions(tx, snapshots=["2024-01-31", "2024-03-31"])
    >>> res.snapshots
    ('2024-01-31', '2024-03-31')
    >>> res.stage_counts.loc["2024-03-31"].tolist()
    [0, 1, 1, 1, 0]
    >>> list(res.to_frame().columns)
    ['from_snapshot', 'to_snapshot', 'from_stage', 'to_stage', 'customers', 'rate']
    >>> int(res.counts.loc["not_yet_customer", "first_time"])
    1
    >>> ax = res.plot(kind="heatmap")
    >>> type(ax).__name__
    'Axes'
    >>> import matplotlib.pyplot as plt
    >>> plt.close(ax.figure)
    """

    stages: pd.DataFrame
    stage_counts: pd.DataFrame
    counts: pd.DataFrame
    rates: pd.DataFrame
    transitions: pd.DataFrame
    time_in_stage: pd.DataFrame
    scheme: str
    snapshots: tuple[str, ...]
    n_customers: int
    _notes: tuple[str, ...] = field(default=(), repr=False)

    @property
    def notes(self) -> tuple[str, ...]:
        """Skipped steps per snapshot and what was used instead, in plain words."""
        return self._notes

    def matrix(self, pair: int | None = None, *, normalize: bool = False) -> pd.DataFrame:
        """Transition matrix of one consecutive pair (``pair`` = 0, 1, ...) or all pooled.

        Parameters
        ----------
        pair : int, optional
            Index of the pair (snapshots ``pair`` -> ``pair + 1``); None pools them all.
        normalize : bool
            Row-normalised rates instead of counts.

        Returns
        -------
        pandas.DataFrame
        """
        if pair is None:
            return (self.rates if normalize else self.counts).copy()
        if not 0 <= pair < len(self.snapshots) - 1:
            raise DataError(f"pair must be between 0 and {len(self.snapshots) - 2}; got {pair!r}.")
        sub = self.transitions[self.transitions["from_snapshot"] == self.snapshots[pair]]
        value = "rate" if normalize else "customers"
        out = sub.pivot(index="from_stage", columns="to_stage", values=value)
        return out.reindex(index=self.counts.index, columns=self.counts.columns)

    def to_frame(self) -> pd.DataFrame:
        """The long transition table (one row per pair and from/to stage)."""
        return self.transitions.copy()

    def plot(
        self, ax: Axes | None = None, kind: Literal["mix", "heatmap"] = "mix", **kwargs: Any
    ) -> Axes:
        """Stage mix over time (``kind="mix"``) or the transition heatmap (``"heatmap"``)."""
        from crmmodels.plotting.lifecycle import plot_stage_mix, plot_transition_heatmap

        if kind == "heatmap":
            return plot_transition_heatmap(self, ax=ax, **kwargs)
        return plot_stage_mix(self, ax=ax, **kwargs)


# ---------------------------------------------------------------------------------------
# engine-side features
# ---------------------------------------------------------------------------------------


def _day_of(ts: pd.Timestamp) -> int:
    return int((ts.normalize() - _EPOCH).days)


def _purchase_days(
    transactions: Any,
    *,
    customer_col: str,
    date_col: str,
    amount_col: str | None,
    date_format: str | None,
) -> tuple[Any, str | None]:
    """Validated log merged to one row per (customer, purchase day) with its value.

    Also returns the time zone of the date column (days are those of its local calendar).
    """
    frame, _, tz = local_log(
        transactions,
        customer_col=customer_col,
        date_col=date_col,
        amount_col=amount_col,
        date_format=date_format,
    )
    value = nw.col(amount_col).sum() if amount_col else nw.len()
    days = (
        frame.with_columns(day_number(nw.col(date_col)).alias(_DAY))
        .group_by(customer_col, _DAY)
        .agg(value.alias("__value"))
        .with_columns(nw.col("__value").cast(nw.Float64))
    )
    return days, tz


def _customer_list(customers: Any, customer_col: str) -> pd.Series | None:
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
            from crmmodels.errors import missing_column_message

            raise SchemaError(missing_column_message(customer_col, names, "customers"))
        ids = collect(frame.select(customer_col)).to_pandas()[customer_col]
    n_null = int(ids.isna().sum())
    if n_null:
        raise DataError("customers: " + bad_rows_message(customer_col, "is null", n_null, None))
    return pd.Series(pd.unique(ids.to_numpy()))


def _features(
    days: Any,
    *,
    customer_col: str,
    as_of: pd.Timestamp,
    rules: _Rules,
    known: pd.Series | None,
) -> tuple[pd.DataFrame, int, int, _Alive]:
    """One row per customer with stage features.

    Returns (frame, n_prospects, n_excluded, the P(alive) model used and notes).
    """
    a = _day_of(as_of)
    before = days.filter(nw.col(_DAY) <= a)
    feats = collect(
        before.group_by(customer_col).agg(
            nw.len().alias("purchase_days"),
            nw.col(_DAY).min().alias("__first"),
            nw.col(_DAY).max().alias("__last"),
            nw.col("__value").sum().alias("value"),
        )
    ).to_pandas()
    all_ids = collect(days.group_by(customer_col).agg(nw.len().alias("__n"))).to_pandas()
    future = all_ids.loc[~all_ids[customer_col].isin(feats[customer_col]), customer_col]
    n_excluded = 0
    extra = [] if known is None else [known[~known.isin(feats[customer_col])]]
    if rules.future_customers == "exclude":
        n_excluded = int((~future.isin(known) if known is not None else future.notna()).sum())
    else:
        extra.append(future)
    prospects = pd.Series(pd.unique(pd.concat(extra).to_numpy())) if extra else pd.Series([])
    if rules.scheme == "relationship":
        start = a - rules.recent_days
        recent = collect(
            before.filter(nw.col(_DAY) > start)
            .group_by(customer_col)
            .agg(nw.col("__value").sum().alias("recent_value"))
        ).to_pandas()
        feats = feats.merge(recent, on=customer_col, how="left")
        feats["recent_value"] = feats["recent_value"].fillna(0.0)
    feats["purchase_days"] = feats["purchase_days"].astype(np.int64)
    out, alive = _classify(feats, a, rules)
    if len(prospects):
        pros = pd.DataFrame({customer_col: prospects.to_numpy(), "stage": "prospect"})
        pros["purchase_days"] = 0
        pros["value"] = 0.0
        out = pd.concat([out, pros], ignore_index=True) if len(out) else pros
    try:
        out = out.sort_values(customer_col, kind="stable", ignore_index=True)
    except TypeError:  # ids of mixed types: keep the order
        out = out.reset_index(drop=True)
    return out, len(prospects), n_excluded, alive


@dataclass(frozen=True)
class _Alive:
    """The model behind ``p_alive`` at one snapshot and the steps skipped there."""

    model: Any = None
    notes: tuple[str, ...] = ()


def _alive_model(
    rules: _Rules,
    frequency: npt.NDArray[np.float64],
    recency: npt.NDArray[np.float64],
    T: npt.NDArray[np.float64],
) -> tuple[Any, str | None]:
    """The P(alive) model: the one given, or a BG/NBD fitted here (None, reason if not)."""
    if not isinstance(rules.model, str):
        return rules.model, None
    from crmmodels.clv import BGNBD

    n = frequency.size
    if n == 0:  # nobody to classify at this date
        return None, None
    try:
        return BGNBD().fit(frequency=frequency, recency=recency, T=T), None
    except (ConvergenceError, DataError) as exc:
        return None, (
            f"P(alive) skipped: the BG/NBD fit on the {n} customer{'s' if n != 1 else ''} "
            f"known at this date cannot be resolved ({exc}). Churn uses the days rule "
            f"(last purchase more than churn_after_days={rules.churn_after_days} days ago) "
            "instead."
        )


def _classify(feats: pd.DataFrame, a: int, rules: _Rules) -> tuple[pd.DataFrame, _Alive]:
    """Apply the stage rules to per-customer features (vectorised)."""
    first = feats.pop("__first").to_numpy(np.int64)
    last = feats.pop("__last").to_numpy(np.int64)
    n = feats["purchase_days"].to_numpy(np.int64)
    feats["first_purchase"] = _EPOCH + pd.to_timedelta(first, unit="D")
    feats["last_purchase"] = _EPOCH + pd.to_timedelta(last, unit="D")
    feats["days_since_last"] = a - last
    alive = _Alive()
    if rules.scheme == "purchase":
        days_rule = (a - last) > rules.churn_after_days
        churned = days_rule
        if rules.model is not None:
            unit = 7.0 if rules.time_unit == "W" else 1.0
            frequency = (n - 1).astype(np.float64)
            recency = (last - first) / unit
            T = (a - first) / unit
            model, skipped = _alive_model(rules, frequency, recency, T)
            if model is None:
                feats["p_alive"] = np.nan
                alive = _Alive(None, (skipped,) if skipped else ())
            else:
                p_alive = np.asarray(
                    model.probability_alive(frequency, recency, T), dtype=np.float64
                )
                feats["p_alive"] = p_alive
                bad = ~np.isfinite(p_alive)
                churned = np.where(bad, days_rule, p_alive < rules.alive_threshold)
                notes: tuple[str, ...] = ()
                if bad.any():
                    k = int(bad.sum())
                    notes = (
                        f"P(alive) is not a number for {k} customer{'s' if k > 1 else ''}: "
                        f"churn uses the days rule (churn_after_days="
                        f"{rules.churn_after_days}) for {'them' if k > 1 else 'that customer'}.",
                    )
                alive = _Alive(model, notes)
        stage = np.where(churned, "churned", np.where(n >= 2, "loyal", "first_time"))
    else:
        recent = feats["recent_value"].to_numpy(np.float64)
        total = feats["value"].to_numpy(np.float64)
        start = a - rules.recent_days  # history: days first..start (inclusive)
        hist_len = (start - first + 1).astype(np.float64)
        has_history = hist_len > 0
        history = total - recent
        with np.errstate(divide="ignore", invalid="ignore"):
            hist_rate = np.where(has_history, history / np.maximum(hist_len, 1.0), np.nan)
            recent_rate = recent / rules.recent_days
            trend = np.where(has_history, recent_rate / hist_rate, np.nan)
        # A history worth nothing or less per day (zero amounts, net refunds) gives no
        # ratio: growth (inf) if the recent rate is higher, flat (1) if equal, else 0.
        flat_or_moved = np.where(
            recent_rate > hist_rate, np.inf, np.where(recent_rate < hist_rate, 0.0, 1.0)
        )
        trend = np.where(has_history & ~(hist_rate > 0), flat_or_moved, trend)
        feats["history_value"] = history
        feats["trend"] = trend
        declining = has_history & (trend < rules.decline_ratio)
        forming = (n < rules.stability_min_purchases) | ~has_history | (trend > rules.growth_ratio)
        stage = np.where(
            n < rules.formation_min_purchases,
            "exploration",
            np.where(declining, "decline", np.where(forming, "formation", "stability")),
        )
    feats.insert(1, "stage", stage)
    return feats, alive


def _summary(stages: pd.DataFrame, order: Sequence[str]) -> pd.DataFrame:
    g = stages.groupby("stage", sort=False)
    out = pd.DataFrame(
        {
            "customers": g.size(),
            "value": g["value"].sum(),
            "mean_purchase_days": g["purchase_days"].mean(),
        }
    ).reindex(list(order))
    out["customers"] = out["customers"].fillna(0).astype(np.int64)
    out["value"] = out["value"].fillna(0.0)
    total = int(out["customers"].sum())
    out.insert(1, "share", out["customers"] / total if total else np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        out.insert(3, "mean_value", out["value"] / out["customers"].replace(0, np.nan))
    out.index.name = "stage"
    return out


def _rules(
    *,
    scheme: str,
    churn_after_days: int,
    model: Any,
    alive_threshold: float,
    time_unit: str,
    recent_days: int,
    formation_min_purchases: int,
    stability_min_purchases: int,
    decline_ratio: float,
    growth_ratio: float,
    future_customers: str,
) -> _Rules:
    if scheme not in ("purchase", "relationship"):
        raise DataError(f"scheme must be 'purchase' or 'relationship'; got {scheme!r}.")
    if time_unit not in ("D", "W"):
        raise DataError(f"time_unit must be 'D' (days) or 'W' (weeks); got {time_unit!r}.")
    if future_customers not in ("prospect", "exclude"):
        raise DataError(
            f"future_customers must be 'prospect' or 'exclude'; got {future_customers!r}."
        )
    for name, value in (("churn_after_days", churn_after_days), ("recent_days", recent_days)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise DataError(f"{name} must be a positive whole number of days; got {value!r}.")
    if not 0.0 <= alive_threshold <= 1.0:
        raise DataError(f"alive_threshold must be in [0, 1]; got {alive_threshold!r}.")
    if isinstance(model, str):
        check_choice(model, "model", ["bgnbd"])
    elif model is not None and not callable(getattr(model, "probability_alive", None)):
        raise DataError(
            "model must have a probability_alive(frequency, recency, T) method "
            f"(a fitted CLV model such as BGNBD) or be 'bgnbd'; got {type(model).__name__}."
        )
    if not 1 <= formation_min_purchases <= stability_min_purchases:
        raise DataError(
            "need 1 <= formation_min_purchases <= stability_min_purchases; got "
            f"{formation_min_purchases} and {stability_min_purchases}."
        )
    if not 0.0 <= decline_ratio <= growth_ratio:
        raise DataError(
            f"need 0 <= decline_ratio <= growth_ratio; got {decline_ratio} and {growth_ratio}."
        )
    return _Rules(
        scheme,
        int(churn_after_days),
        model,
        float(alive_threshold),
        time_unit,
        int(recent_days),
        int(formation_min_purchases),
        int(stability_min_purchases),
        float(decline_ratio),
        float(growth_ratio),
        future_customers,
    )


# ---------------------------------------------------------------------------------------
# public functions
# ---------------------------------------------------------------------------------------


def lifecycle_stages(
    transactions: Any,
    *,
    as_of: Any,
    scheme: Literal["purchase", "relationship"] = "purchase",
    customer_col: str = "customer_id",
    date_col: str = "date",
    amount_col: str | None = None,
    customers: Any = None,
    churn_after_days: int = 365,
    model: AliveModel | Literal["bgnbd"] | None = None,
    alive_threshold: float = 0.5,
    time_unit: Literal["D", "W"] = "W",
    recent_days: int = 90,
    formation_min_purchases: int = 2,
    stability_min_purchases: int = 4,
    decline_ratio: float = 0.5,
    growth_ratio: float = 1.5,
    future_customers: Literal["prospect", "exclude"] = "prospect",
    date_format: str | None = None,
) -> LifecycleStages:
    r"""Lifecycle stage of every customer at ``as_of``.

    Parameters
    ----------
    transactions : DataFrame-like
        Transaction log on any engine (pandas, polars, pyarrow, DuckDB, Dask, PySpark).
    as_of : date-like
        Snapshot date; purchases on that day count, later ones do not.
    scheme : {"purchase", "relationship"}
        Stage scheme (see Notes).
    customer_col, date_col : str
        Customer id and purchase date columns.
    amount_col : str, optional
        Purchase amount: the value per stage and the relationship trend use it (otherwise
        each purchase day has value 1).
    customers : list, Series or DataFrame, optional
        Known customers (a frame needs ``customer_col``); those without a purchase on or
        before ``as_of`` are prospects.
    churn_after_days : int
        Purchase scheme: churned when the last purchase is more than this many days before
        ``as_of``.
    model : object or "bgnbd", optional
        Fitted CLV model with ``probability_alive(frequency, recency, T)`` (e.g.
        ``crmmodels.clv.BGNBD``), or ``"bgnbd"`` to fit a BG/NBD model on the customers'
        purchase days up to ``as_of`` (in ``time_unit``). When given, churned means
        P(alive) below ``alive_threshold`` instead of the days rule. When the BG/NBD fit
        cannot be resolved (a few customers), or P(alive) is not a number for some
        customers, the days rule is used for them, with a ``SkippedStepWarning``.
    alive_threshold : float
        P(alive) threshold for ``model``.
    time_unit : {"W", "D"}
        Unit of ``recency`` and ``T`` passed to ``model`` (weeks or days), which must match
        the unit the model was fitted in. ``frequency`` counts repeat purchase *days*, as
        in :func:`crmmodels.transactions.summarize_transactions` with ``period="D"``.
    recent_days : int
        Relationship scheme: length of the recent window ending at ``as_of``.
    formation_min_purchases, stability_min_purchases : int
        Relationship scheme: purchase days needed to leave exploration and to be stable.
    decline_ratio, growth_ratio : float
        Relationship scheme: trend below ``decline_ratio`` is decline, above
        ``growth_ratio`` is (still) formation.
    future_customers : {"prospect", "exclude"}
        Customers whose purchases are all after ``as_of``: prospects (default) or left out
        (counted in ``n_excluded``; :func:`lifecycle_transitions` uses this to mark them
        as not yet customers).
    date_format : str, optional
        strftime layout of text dates (e.g. ``"%d/%m/%Y"``); without it text dates
        must be ISO 8601 (see :func:`crmmodels._ingest.dates.parse_dates`).

    Returns
    -------
    LifecycleStages
        ``.to_frame()`` has the customer id, ``stage`` and the features used;
        ``.summary`` the counts and value per stage; ``.alive_model`` and ``.notes``.

    Raises
    ------
    SchemaError
        A column is missing or has the wrong type.
    DataError
        Null ids or dates, unparsable dates, empty input, bad arguments, or ``as_of``
        before the first purchase (everyone would be a prospect).

    Warns
    -----
    SkippedStepWarning
        The P(alive) step was skipped for all customers (the BG/NBD fit of
        ``model="bgnbd"`` cannot be resolved) or for those whose P(alive) is not a
        number; the days rule is used instead and ``.notes`` says so.

    Notes
    -----
    Let :math:`n` be the purchase days on or before ``as_of`` (day :math:`a`),
    :math:`f` and :math:`l` the first and last of them.

    **Purchase scheme** (Buttle 2009). ``prospect`` if :math:`n = 0`; else ``churned`` if
    :math:`a - l > ` ``churn_after_days`` (or, with a model,
    :math:`P(\text{alive} \mid n-1, l-f, a-f) <` ``alive_threshold``), whatever :math:`n`;
    else ``first_time`` if :math:`n = 1` and ``loyal`` if :math:`n \ge 2`.

    **Relationship scheme** (Dwyer, Schurr & Oh 1987). With the recent window :math:`(a-w, a]`
    (:math:`w` = ``recent_days``), recent value :math:`v_r` and history value :math:`v_h`
    (purchases on days :math:`f \dots a-w`), the trend compares value per day:

    $$ \tau = \frac{v_r / w}{v_h / (a - w - f + 1)} \quad (f \le a - w). $$

    When the history is worth nothing or less (:math:`v_h \le 0`: zero amounts, net
    refunds) the ratio is undefined and :math:`\tau` is :math:`+\infty` if the recent
    rate is higher, 1 if equal and 0 if lower.

    Then ``prospect`` if :math:`n = 0`; ``exploration`` if :math:`n <`
    ``formation_min_purchases``; ``decline`` if :math:`\tau <` ``decline_ratio``;
    ``formation`` if :math:`n <` ``stability_min_purchases``, or there is no history yet
    (:math:`f > a - w`), or :math:`\tau >` ``growth_ratio``; else ``stability``.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({
    ...     "customer_id": [1, 2, 2, 3, 4],
    ...     "date": pd.to_datetime(["2024-06-01", "2024-05-01", "2024-06-10",
    ...                             "2022-01-01", "2024-08-01"]),
    ... })
    >>> res = lifecycle_stages(tx, as_of="2024-06-30", customers=[1, 2, 3, 4, 5])
    >>> res.to_frame()[["customer_id", "stage"]]
       customer_id       stage
    0            1  first_time
    1            2       loyal
    2            3     churned
    3            4    prospect
    4            5    prospect
    >>> res.summary["customers"].tolist()
    [2, 1, 1, 1]
    """
    rules = _rules(
        scheme=scheme,
        churn_after_days=churn_after_days,
        model=model,
        alive_threshold=alive_threshold,
        time_unit=time_unit,
        recent_days=recent_days,
        formation_min_purchases=formation_min_purchases,
        stability_min_purchases=stability_min_purchases,
        decline_ratio=decline_ratio,
        growth_ratio=growth_ratio,
        future_customers=future_customers,
    )
    ts = to_timestamp(as_of, "as_of")
    known = _customer_list(customers, customer_col)
    days, tz = _purchase_days(
        transactions,
        customer_col=customer_col,
        date_col=date_col,
        amount_col=amount_col,
        date_format=date_format,
    )
    if tz is not None:  # an aware as_of is read in the data's time zone
        ts = to_timestamp(as_of, "as_of", tz)
    stages, n_prospects, n_excluded, alive = _features(
        days, customer_col=customer_col, as_of=ts, rules=rules, known=known
    )
    if n_prospects == len(stages):
        first = collect(days.select(nw.col(_DAY).min())).item(0, 0)
        raise DataError(
            f"as_of {ts.date()} is before the first purchase "
            f"({(_EPOCH + pd.Timedelta(days=int(first))).date()}): every customer would be a "
            "prospect. Pass a later as_of."
        )
    for note in alive.notes:
        warnings.warn(f"lifecycle_stages at {ts.date()}: {note}", SkippedStepWarning, stacklevel=2)
    order = PURCHASE_STAGES if scheme == "purchase" else RELATIONSHIP_STAGES
    return LifecycleStages(
        stages=stages,
        summary=_summary(stages, order),
        scheme=scheme,
        as_of=str(ts.date()),
        n_customers=len(stages),
        n_prospects=n_prospects,
        n_excluded=n_excluded,
        _alive_model=alive.model,
        _notes=alive.notes,
    )


def lifecycle_transitions(
    transactions: Any,
    *,
    snapshots: Sequence[Any],
    scheme: Literal["purchase", "relationship"] = "purchase",
    customer_col: str = "customer_id",
    date_col: str = "date",
    amount_col: str | None = None,
    customers: Any = None,
    churn_after_days: int = 365,
    model: AliveModel | Literal["bgnbd"] | None = None,
    alive_threshold: float = 0.5,
    time_unit: Literal["D", "W"] = "W",
    recent_days: int = 90,
    formation_min_purchases: int = 2,
    stability_min_purchases: int = 4,
    decline_ratio: float = 0.5,
    growth_ratio: float = 1.5,
    date_format: str | None = None,
) -> LifecycleTransitions:
    r"""Stages at two or more snapshot dates and the transitions between consecutive ones.

    At each snapshot the stages follow :func:`lifecycle_stages` (same arguments), except
    that a customer whose first purchase is after the snapshot, and who is not in
    ``customers``, is ``"not_yet_customer"`` rather than a prospect: the row
    ``not_yet_customer`` of the transition matrix counts the customers who appear.

    Parameters
    ----------
    transactions : DataFrame-like
        Transaction log on any engine.
    snapshots : sequence of date-like
        Two or more strictly increasing snapshot dates (e.g. month ends).
    scheme, customer_col, date_col, amount_col, customers, churn_after_days, model, \
alive_threshold, time_unit, recent_days, formation_min_purchases, \
stability_min_purchases, decline_ratio, growth_ratio, date_format
        As in :func:`lifecycle_stages`.

    Returns
    -------
    LifecycleTransitions
        Stages per snapshot, stage counts, transition counts and row-normalised rates
        (pooled and per pair) and time spent in each stage; ``.notes``.

    Warns
    -----
    SkippedStepWarning
        At a snapshot where the P(alive) step was skipped (with ``model="bgnbd"`` a
        BG/NBD model is fitted at each snapshot on the customers known then, and the
        fit cannot always be resolved on the first few); the days rule is used there.

    Notes
    -----
    Every customer seen at any snapshot is counted exactly once per snapshot. With
    :math:`N_{jk}` customers in stage :math:`j` at one snapshot and :math:`k` at the next,
    summed over consecutive pairs, the rate is :math:`p_{jk} = N_{jk} / \sum_k N_{jk}`.
    Time in stage is counted in snapshots: a *spell* is a run of consecutive snapshots in
    one stage; ``mean_spell`` is the mean run length (runs still going at the last
    snapshot are right-censored and counted as observed), ``mean_spell_days`` multiplies
    it by the mean spacing of the snapshots (e.g. monthly snapshots: about 30.4 days).

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({
    ...     "customer_id": [1, 1, 2, 3],
    ...     "date": pd.to_datetime(["2024-01-10", "2024-02-10", "2024-01-20", "2024-02-05"]),
    ... })
    >>> res = lifecycle_transitions(tx, snapshots=["2024-01-31", "2024-02-29"],
    ...                             churn_after_days=30)
    >>> res.stage_counts[["first_time", "loyal", "churned", "not_yet_customer"]]
    ... # doctest: +NORMALIZE_WHITESPACE
    stage       first_time  loyal  churned  not_yet_customer
    snapshot
    2024-01-31           2      0        0                 1
    2024-02-29           1      1        1                 0
    >>> int(res.counts.loc["not_yet_customer", "first_time"])
    1
    """
    rules = _rules(
        scheme=scheme,
        churn_after_days=churn_after_days,
        model=model,
        alive_threshold=alive_threshold,
        time_unit=time_unit,
        recent_days=recent_days,
        formation_min_purchases=formation_min_purchases,
        stability_min_purchases=stability_min_purchases,
        decline_ratio=decline_ratio,
        growth_ratio=growth_ratio,
        future_customers="exclude",
    )
    if isinstance(snapshots, (str, bytes)) or len(snapshots) < 2:
        raise DataError(f"snapshots must be a sequence of at least two dates; got {snapshots!r}.")
    stamps = [to_timestamp(s, f"snapshots[{i}]") for i, s in enumerate(snapshots)]
    for i in range(1, len(stamps)):
        if stamps[i] <= stamps[i - 1]:
            raise DataError(
                f"snapshots must be strictly increasing; snapshots[{i}]={stamps[i].date()} "
                f"is not after snapshots[{i - 1}]={stamps[i - 1].date()}."
            )
    known = _customer_list(customers, customer_col)
    days, tz = _purchase_days(
        transactions,
        customer_col=customer_col,
        date_col=date_col,
        amount_col=amount_col,
        date_format=date_format,
    )
    if tz is not None:  # aware snapshots are read in the data's time zone
        stamps = [to_timestamp(s, f"snapshots[{i}]", tz) for i, s in enumerate(snapshots)]
    order = (PURCHASE_STAGES if scheme == "purchase" else RELATIONSHIP_STAGES) + (NOT_YET_CUSTOMER,)
    labels = [str(ts.date()) for ts in stamps]
    per_snapshot = []
    notes: list[str] = []
    for ts, label in zip(stamps, labels, strict=True):  # a handful of snapshots
        st, _, _, alive = _features(
            days, customer_col=customer_col, as_of=ts, rules=rules, known=known
        )
        per_snapshot.append(st.set_index(customer_col)["stage"].rename(label))
        notes += [f"{label}: {note}" for note in alive.notes]
    for note in notes:
        warnings.warn(f"lifecycle_transitions at {note}", SkippedStepWarning, stacklevel=2)
    wide = pd.concat(per_snapshot, axis=1).fillna(NOT_YET_CUSTOMER)
    with contextlib.suppress(TypeError):  # ids of mixed types: keep the order
        wide = wide.sort_index()
    wide.index.name = customer_col
    wide.columns.name = "snapshot"
    codes = np.column_stack(
        [pd.Categorical(wide[c], categories=order).codes for c in labels]
    ).astype(np.int64)
    k = len(order)
    stage_counts = pd.DataFrame(
        np.stack([np.bincount(codes[:, j], minlength=k) for j in range(len(labels))]),
        index=pd.Index(labels, name="snapshot"),
        columns=pd.Index(order, name="stage"),
    )
    rows = []
    pooled = np.zeros((k, k), dtype=np.int64)
    for j in range(len(labels) - 1):
        m = np.bincount(codes[:, j] * k + codes[:, j + 1], minlength=k * k).reshape(k, k)
        pooled += m
        rate = _row_rates(m)
        fr, to = np.meshgrid(np.arange(k), np.arange(k), indexing="ij")
        rows.append(
            pd.DataFrame(
                {
                    "from_snapshot": labels[j],
                    "to_snapshot": labels[j + 1],
                    "from_stage": np.asarray(order)[fr.ravel()],
                    "to_stage": np.asarray(order)[to.ravel()],
                    "customers": m.ravel(),
                    "rate": rate.ravel(),
                }
            )
        )
    idx_from = pd.Index(order, name="from_stage")
    idx_to = pd.Index(order, name="to_stage")
    spacing = float(np.mean(np.diff([ts.value for ts in stamps]))) / 86_400e9
    return LifecycleTransitions(
        stages=wide,
        stage_counts=stage_counts,
        counts=pd.DataFrame(pooled, index=idx_from, columns=idx_to),
        rates=pd.DataFrame(_row_rates(pooled), index=idx_from, columns=idx_to),
        transitions=pd.concat(rows, ignore_index=True),
        time_in_stage=_time_in_stage(codes, order[:-1], spacing),
        scheme=scheme,
        snapshots=tuple(labels),
        n_customers=len(wide),
        _notes=tuple(notes),
    )


def _row_rates(m: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
    tot = m.sum(axis=1, keepdims=True).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(tot > 0, m / tot, np.nan)


def _time_in_stage(
    codes: npt.NDArray[np.int64], stages: Sequence[str], spacing_days: float
) -> pd.DataFrame:
    """Snapshots spent per stage and spell lengths, from the customer x snapshot codes."""
    out = []
    for s in range(len(stages)):  # a handful of stages
        inside = codes == s
        per_customer = inside.sum(axis=1)
        ever = per_customer > 0
        starts = inside & ~np.pad(inside, ((0, 0), (1, 0)))[:, :-1]
        n_spells = int(starts.sum())
        censored = int(inside[:, -1].sum())
        total = int(inside.sum())
        mean_spell = total / n_spells if n_spells else np.nan
        out.append(
            {
                "customers": int(ever.sum()),
                "mean_snapshots": float(per_customer[ever].mean()) if ever.any() else np.nan,
                "spells": n_spells,
                "censored_spells": censored,
                "mean_spell": mean_spell,
                "mean_spell_days": mean_spell * spacing_days,
            }
        )
    return pd.DataFrame(out, index=pd.Index(list(stages), name="stage"))
