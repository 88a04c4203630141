"""The stage rules applied to one row of features per customer (vectorised)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmmodels.errors import ConvergenceError, DataError
from crmmodels.lifecycle._rules import LifecycleRules, Settings

__all__ = [
    "EPOCH",
    "PURCHASE_STAGES",
    "RELATIONSHIP_STAGES",
    "Alive",
    "classify",
    "day_dates",
    "purchase_codes",
    "relationship_codes",
    "stage_summary",
]

EPOCH = pd.Timestamp("1970-01-01")

Days = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Alive:
    """The model behind ``p_alive`` at one snapshot and the steps skipped there."""

    model: Any = None
    notes: tuple[str, ...] = ()


#: the stages of buyers under each scheme, in the order of their codes
PURCHASE_STAGES = ("first_time", "loyal", "churned")
RELATIONSHIP_STAGES = ("exploration", "formation", "stability", "decline")


def classify(feats: pd.DataFrame, a: int, s: Settings) -> tuple[pd.DataFrame, Alive]:
    """Add the dates of the first and last purchase and the ``stage`` of each customer.

    ``feats`` has ``purchase_days``, ``value``, ``__first`` and ``__last`` (day numbers),
    and ``recent_value`` under the relationship scheme; ``a`` is the observation end day.
    """
    first = feats.pop("__first").to_numpy(np.int64)
    last = feats.pop("__last").to_numpy(np.int64)
    n = feats["purchase_days"].to_numpy(np.int64)
    feats["first_purchase"] = day_dates(first)
    feats["last_purchase"] = day_dates(last)
    feats["days_since_last"] = a - last
    if s.rules.scheme == "purchase":
        stage, alive = _purchase_stages(feats, a, first, last, n, s)
    else:
        recent = feats["recent_value"].to_numpy(np.float64)
        total = feats["value"].to_numpy(np.float64)
        codes, history, trend = relationship_codes(a, first, n, total, recent, s.rules)
        feats["history_value"] = history
        feats["trend"] = trend
        stage, alive = _labels(RELATIONSHIP_STAGES, codes), Alive()
    feats.insert(1, "stage", stage)
    return feats, alive


def day_dates(days: Days) -> Any:
    """Dates of day numbers (days since 1970-01-01)."""
    return EPOCH + pd.to_timedelta(days, unit="D")


def purchase_codes(churned: npt.NDArray[np.bool_], n: Days) -> npt.NDArray[np.int8]:
    """Codes of :data:`PURCHASE_STAGES`: churned, else loyal from two purchase days on."""
    codes: npt.NDArray[np.int8] = np.where(churned, 2, (n >= 2).astype(np.int8)).astype(np.int8)
    return codes


def _purchase_stages(
    feats: pd.DataFrame, a: int, first: Days, last: Days, n: Days, s: Settings
) -> tuple[npt.NDArray[Any], Alive]:
    """Prospect / first time / loyal / churned (Buttle 2009)."""
    days_rule = (a - last) > s.rules.churn_after_days
    churned, alive = days_rule, Alive()
    if s.model is not None:
        churned, alive = _churned_by_model(feats, a, first, last, n, days_rule, s)
    return _labels(PURCHASE_STAGES, purchase_codes(churned, n)), alive


def _churned_by_model(
    feats: pd.DataFrame,
    a: int,
    first: Days,
    last: Days,
    n: Days,
    days_rule: npt.NDArray[np.bool_],
    s: Settings,
) -> tuple[npt.NDArray[np.bool_], Alive]:
    """Churned when P(alive) is below the threshold; the days rule where it gives none."""
    frequency = (n - 1).astype(np.float64)
    recency = (last - first) / s.unit_days
    T = (a - first) / s.unit_days
    model, skipped = _alive_model(s, frequency, recency, T)
    if model is None:
        feats["p_alive"] = np.nan
        return days_rule, Alive(None, (skipped,) if skipped else ())
    p_alive = np.asarray(model.probability_alive(frequency, recency, T), dtype=np.float64)
    feats["p_alive"] = p_alive
    bad = ~np.isfinite(p_alive)
    churned = np.where(bad, days_rule, p_alive < s.rules.alive_threshold)
    if not bad.any():
        return churned, Alive(model)
    k = int(bad.sum())
    note = (
        f"P(alive) is not a number for {k} customer{'s' if k > 1 else ''}: churn uses the "
        f"days rule (churn_after_days={s.rules.churn_after_days}) for "
        f"{'them' if k > 1 else 'that customer'}."
    )
    return churned, Alive(model, (note,))


def _alive_model(
    s: Settings,
    frequency: npt.NDArray[np.float64],
    recency: npt.NDArray[np.float64],
    T: npt.NDArray[np.float64],
) -> tuple[Any, str | None]:
    """The P(alive) model: the one given, or a BG/NBD fitted here (None, reason if not)."""
    if not isinstance(s.model, str):
        return s.model, None
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
            f"(last purchase more than churn_after_days={s.rules.churn_after_days} days ago) "
            "instead."
        )


def relationship_codes(
    a: int, first: Days, n: Days, total: Any, recent: Any, rules: LifecycleRules
) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Codes of :data:`RELATIONSHIP_STAGES` (Dwyer, Schurr & Oh 1987), history value, trend."""
    start = a - rules.recent_days  # history: days first..start (inclusive)
    hist_len = (start - first + 1).astype(np.float64)
    has_history = hist_len > 0
    history = total - recent
    trend = _trend(recent, history, hist_len, has_history, rules.recent_days)
    declining = has_history & (trend < rules.decline_ratio)
    forming = (n < rules.stability_min_purchases) | ~has_history | (trend > rules.growth_ratio)
    codes = np.where(
        n < rules.formation_min_purchases,
        0,
        np.where(declining, 3, np.where(forming, 1, 2)),
    ).astype(np.int8)
    return codes, history, trend


def _labels(names: tuple[str, ...], codes: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """The stage names at ``codes``: one shared string object per stage, not one per row."""
    out: npt.NDArray[Any] = np.array(names, dtype=object)[codes]
    return out


def _trend(
    recent: npt.NDArray[np.float64],
    history: npt.NDArray[np.float64],
    hist_len: npt.NDArray[np.float64],
    has_history: npt.NDArray[np.bool_],
    recent_days: int,
) -> npt.NDArray[np.float64]:
    """Recent value per day over history value per day (NaN without a history)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        hist_rate = np.where(has_history, history / np.maximum(hist_len, 1.0), np.nan)
        recent_rate = recent / recent_days
        trend = np.where(has_history, recent_rate / hist_rate, np.nan)
    # A history worth nothing or less per day (zero amounts, net refunds) gives no
    # ratio: growth (inf) if the recent rate is higher, flat (1) if equal, else 0.
    flat_or_moved = np.where(
        recent_rate > hist_rate, np.inf, np.where(recent_rate < hist_rate, 0.0, 1.0)
    )
    out: npt.NDArray[np.float64] = np.where(has_history & ~(hist_rate > 0), flat_or_moved, trend)
    return out


def stage_summary(stages: pd.DataFrame, order: Sequence[str]) -> pd.DataFrame:
    """Customers, share, value, mean value and mean purchase days per stage, in order."""
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
