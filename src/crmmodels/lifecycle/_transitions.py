"""Lifecycle stages at a sequence of snapshots and the transitions between them."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmmodels._ingest.dates import to_timestamp
from crmmodels.errors import DataError, SkippedStepWarning, warn
from crmmodels.lifecycle._features import customer_list, purchase_days, stages_at
from crmmodels.lifecycle._results import LifecycleTransitionsResult
from crmmodels.lifecycle._rules import (
    NOT_YET_CUSTOMER,
    AliveModel,
    LifecycleRules,
    Settings,
    rules_from_keywords,
    settings,
)

__all__ = ["lifecycle_transitions"]


@rules_from_keywords
def lifecycle_transitions(
    transactions: Any,
    *,
    snapshots: Sequence[Any],
    rules: LifecycleRules | None = None,
    customer_col: str = "customer_id",
    date_col: str = "date",
    amount_col: str | None = None,
    customers: Any = None,
    model: AliveModel | Literal["bgnbd"] | None = None,
    time_unit: Literal["D", "W"] | int = "W",
    date_format: str | None = None,
) -> LifecycleTransitionsResult:
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
    rules : LifecycleRules, optional
        The scheme and its thresholds, as in :func:`lifecycle_stages` (the separate
        threshold keywords still work until crmmodels 1.0, with a ``FutureWarning``).
    customer_col, date_col, amount_col, customers, model, time_unit, date_format
        As in :func:`lifecycle_stages`.

    Returns
    -------
    LifecycleTransitionsResult
        Stages per snapshot, stage counts, transition counts and row-normalised rates
        (pooled and per pair) and time spent in each stage; ``.notes`` and ``.rules``.

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
    ...                             rules=LifecycleRules(churn_after_days=30))
    >>> res.stage_counts[["first_time", "loyal", "churned", "not_yet_customer"]]
    ... # doctest: +NORMALIZE_WHITESPACE
    stage       first_time  loyal  churned  not_yet_customer
    snapshot
    2024-01-31           2      0        0                 1
    2024-02-29           1      1        1                 0
    >>> int(res.counts.loc["not_yet_customer", "first_time"])
    1
    """
    s = settings(rules, model=model, time_unit=time_unit, future_customers="exclude")
    _check_snapshots(snapshots)
    known = customer_list(customers, customer_col)
    log = purchase_days(
        transactions,
        customer_col=customer_col,
        date_col=date_col,
        amount_col=amount_col,
        date_format=date_format,
    )
    if log.tz is not None:  # aware snapshots are read in the data's time zone
        stamps = [to_timestamp(v, f"snapshots[{i}]", log.tz) for i, v in enumerate(snapshots)]
    else:
        stamps = [to_timestamp(v, f"snapshots[{i}]") for i, v in enumerate(snapshots)]
    order = (*s.rules.stages, NOT_YET_CUSTOMER)
    wide, notes = _stages_per_snapshot(log.days, stamps, customer_col, s, known)
    for note in notes:
        warn(f"lifecycle_transitions at {note}", SkippedStepWarning)
    labels = list(wide.columns)
    codes = np.column_stack(
        [pd.Categorical(wide[c], categories=order).codes for c in labels]
    ).astype(np.int64)
    pooled, transitions = _transitions(codes, labels, order)
    idx_from = pd.Index(order, name="from_stage")
    idx_to = pd.Index(order, name="to_stage")
    spacing = float(np.mean(np.diff([ts.value for ts in stamps]))) / 86_400e9
    return LifecycleTransitionsResult(
        stages=wide,
        stage_counts=_stage_counts(codes, labels, order),
        counts=pd.DataFrame(pooled, index=idx_from, columns=idx_to),
        rates=pd.DataFrame(_row_rates(pooled), index=idx_from, columns=idx_to),
        transitions=transitions,
        time_in_stage=_time_in_stage(codes, order[:-1], spacing),
        scheme=s.rules.scheme,
        snapshots=tuple(labels),
        n_customers=len(wide),
        _notes=tuple(notes),
        _rules=s.rules,
    )


def _check_snapshots(snapshots: Any) -> None:
    """Two or more dates, strictly increasing."""
    if isinstance(snapshots, (str, bytes)) or len(snapshots) < 2:
        raise DataError(f"snapshots must be a sequence of at least two dates; got {snapshots!r}.")
    stamps = [to_timestamp(v, f"snapshots[{i}]") for i, v in enumerate(snapshots)]
    for i in range(1, len(stamps)):
        if stamps[i] <= stamps[i - 1]:
            raise DataError(
                f"snapshots must be strictly increasing; snapshots[{i}]={stamps[i].date()} "
                f"is not after snapshots[{i - 1}]={stamps[i - 1].date()}."
            )


def _stages_per_snapshot(
    days: Any,
    stamps: list[pd.Timestamp],
    customer_col: str,
    s: Settings,
    known: pd.Series | None,
) -> tuple[pd.DataFrame, list[str]]:
    """Customers x snapshots table of stages, and the skipped steps (dated)."""
    per_snapshot = []
    notes: list[str] = []
    for ts in stamps:  # a handful of snapshots
        label = str(ts.date())
        at = stages_at(days, customer_col=customer_col, observation_end=ts, s=s, known=known)
        per_snapshot.append(at.stages.set_index(customer_col)["stage"].rename(label))
        notes += [f"{label}: {note}" for note in at.alive.notes]
    wide = pd.concat(per_snapshot, axis=1).fillna(NOT_YET_CUSTOMER)
    with contextlib.suppress(TypeError):  # ids of mixed types: keep the order
        wide = wide.sort_index()
    wide.index.name = customer_col
    wide.columns.name = "snapshot"
    return wide, notes


def _stage_counts(
    codes: npt.NDArray[np.int64], labels: list[str], order: Sequence[str]
) -> pd.DataFrame:
    """Snapshots x stages: customers per stage."""
    k = len(order)
    return pd.DataFrame(
        np.stack([np.bincount(codes[:, j], minlength=k) for j in range(len(labels))]),
        index=pd.Index(labels, name="snapshot"),
        columns=pd.Index(list(order), name="stage"),
    )


def _transitions(
    codes: npt.NDArray[np.int64], labels: list[str], order: Sequence[str]
) -> tuple[npt.NDArray[np.int64], pd.DataFrame]:
    """Pooled transition counts and the long table per consecutive pair of snapshots."""
    k = len(order)
    stages = np.asarray(order)
    fr, to = np.meshgrid(np.arange(k), np.arange(k), indexing="ij")
    rows = []
    pooled = np.zeros((k, k), dtype=np.int64)
    for j in range(len(labels) - 1):  # a handful of pairs
        m = np.bincount(codes[:, j] * k + codes[:, j + 1], minlength=k * k).reshape(k, k)
        pooled += m
        rows.append(
            pd.DataFrame(
                {
                    "from_snapshot": labels[j],
                    "to_snapshot": labels[j + 1],
                    "from_stage": stages[fr.ravel()],
                    "to_stage": stages[to.ravel()],
                    "customers": m.ravel(),
                    "rate": _row_rates(m).ravel(),
                }
            )
        )
    return pooled, pd.concat(rows, ignore_index=True)


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
