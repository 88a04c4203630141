"""The per-customer parts of an analysis, computed from the customer summary's columns.

Each part (RFM, the lifecycle stages of both schemes, the 80/20 analysis, CLV, the CLV
quadrants) is a function of the columns of the customer table and of two windowed sums
of the log (the value of the last ``recent_days`` and of the last year). ``analyze``
calls these functions once to fill the table's columns and drops each result; the
result object keeps only the table and calls them again when a part is asked for
(:class:`Parts`), so the parts equal what the individual functions give, and the
analysis holds one table instead of the table and every part behind it.
"""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from crmmodels._ingest.periods import period_days
from crmmodels.analysis._customers import LABEL_ORDER
from crmmodels.analysis._settings import AnalysisSettings
from crmmodels.clv import customer_lifetime_value
from crmmodels.lifecycle import LifecycleRules
from crmmodels.lifecycle._classify import (
    PURCHASE_STAGES,
    RELATIONSHIP_STAGES,
    day_dates,
    purchase_codes,
    relationship_codes,
)
from crmmodels.lifecycle._rules import settings as lifecycle_settings
from crmmodels.lifecycle._stages import stages_of_features
from crmmodels.portfolio import pareto_analysis
from crmmodels.quadrants import clv_quadrants
from crmmodels.transactions import rfm_scores, rfm_segments
from crmmodels.transactions._rfm import quantile_scores

__all__ = [
    "PART_NAMES",
    "Parts",
    "clv_part",
    "lifecycle_columns",
    "lifecycle_part",
    "portfolio_part",
    "quadrant_part",
    "rfm_columns",
    "rfm_part",
    "value_args",
]

#: the parts a pandas analysis rebuilds on request
PART_NAMES = ("clv", "rfm", "lifecycle", "relationship", "portfolio", "quadrants")

#: customers per block of the elementwise lifecycle rules
_BLOCK = 1 << 18

_SUMMARY = ("frequency", "recency", "T", "monetary_value", "total_value", "first_purchase")


def value_args(s: AnalysisSettings) -> dict[str, Any]:
    """Horizon, discounting and margin of the CLV, as keyword arguments."""
    return {
        "horizon": s.horizon,
        "discount_rate": s.discount_rate,
        "discount_period": s.discount_period,
        "margin": s.margin,
    }


def rfm_part(summary: pd.DataFrame, customer_col: str) -> pd.DataFrame:
    """RFM scores and segments (:func:`crmmodels.rfm_segments`)."""
    out: pd.DataFrame = rfm_segments(rfm_scores(summary, customer_col=customer_col))
    return out


def rfm_columns(summary: pd.DataFrame, customer_col: str) -> dict[str, Any]:
    """The table's RFM columns, equal to :func:`rfm_part`'s, without a frame per customer.

    The scores are :func:`crmmodels.rfm_scores`' (5 bins on the time since the last
    purchase, the frequency and the mean repeat spend); the segments come from
    :func:`crmmodels.rfm_segments` applied to the distinct score combinations (at most
    125), then spread to the customers, so that no text is made per customer.
    """
    since = summary["T"].to_numpy(dtype=np.float64) - summary["recency"].to_numpy(np.float64)
    scores = [
        quantile_scores(-since, 5),
        quantile_scores(summary["frequency"].to_numpy(dtype=np.float64), 5),
        quantile_scores(summary["monetary_value"].to_numpy(dtype=np.float64), 5),
    ]
    key = scores[0] * 100 + scores[1] * 10 + scores[2]
    present = np.bincount(key, minlength=1000) > 0
    combos = np.flatnonzero(present)
    inverse = (np.cumsum(present) - 1)[key]
    small = pd.DataFrame(
        {
            customer_col: combos,
            "r_score": combos // 100,
            "f_score": combos // 10 % 10,
            "m_score": combos % 10,
            "rfm": [f"{c:03d}" for c in combos],
        }
    )
    segments = pd.Categorical(rfm_segments(small)["segment"].to_numpy())
    out: dict[str, Any] = {
        name: values.astype(np.int8)
        for name, values in zip(("r_score", "f_score", "m_score"), scores, strict=True)
    }
    rfm_dtype = pd.CategoricalDtype(small["rfm"].tolist())
    out["rfm"] = pd.Categorical.from_codes(inverse, dtype=rfm_dtype)
    out["rfm_segment"] = pd.Categorical.from_codes(segments.codes[inverse], dtype=segments.dtype)
    return out


def portfolio_part(summary: pd.DataFrame, customer_col: str) -> Any:
    """The 80/20 analysis of the customers' total value, with the A/B/C classes."""
    return pareto_analysis(summary, amount_col="total_value", customer_col=customer_col)


def lifecycle_part(
    summary: pd.DataFrame,
    recent_value: Any,
    *,
    scheme: str,
    rules: LifecycleRules,
    s: AnalysisSettings,
) -> Any:
    """Lifecycle stages under ``scheme``, from the summary (every customer bought by the end).

    Purchase days are ``frequency + 1`` (the summary counts distinct purchase days), the
    first and last day come from ``first_purchase`` and ``recency``, the value is
    ``total_value`` and the recent value is the log's sum over the last ``recent_days``
    (``recent_value``, in the summary's order).
    """
    key = s.customer_col
    first, last, n = _days(summary, s)
    feats = pd.DataFrame(
        {
            key: summary[key].to_numpy(),
            "purchase_days": n,
            "__first": first,
            "__last": last,
            "value": summary["total_value"].to_numpy(dtype=np.float64),
        },
        copy=False,
    )
    if scheme == "relationship":
        feats["recent_value"] = recent_value
    scheme_rules = dataclasses.replace(rules, scheme=scheme)  # type: ignore[arg-type]
    settings = lifecycle_settings(
        scheme_rules, model=None, time_unit="W", future_customers="prospect"
    )
    return stages_of_features(
        feats, observation_end=s.observation_end, s=settings, customer_col=key
    )


def _days(summary: pd.DataFrame, s: AnalysisSettings) -> tuple[Any, Any, Any]:
    """First and last purchase day (days since 1970-01-01) and purchase days of each customer."""
    first = summary["first_purchase"].to_numpy().astype("datetime64[D]").view(np.int64)
    span = np.rint(summary["recency"].to_numpy(dtype=np.float64) * period_days(s.time_unit))
    n = summary["frequency"].to_numpy(dtype=np.int64) + 1
    return first, first + span.astype(np.int64), n


def lifecycle_columns(
    summary: pd.DataFrame, recent_value: Any, rules: LifecycleRules, s: AnalysisSettings
) -> dict[str, Any]:
    """The table's lifecycle columns, equal to :func:`lifecycle_part`'s stages.

    The stage codes of both schemes and the last purchase date, without the per-customer
    frames and texts of the full results.
    """
    a = int(s.observation_end.to_datetime64().astype("datetime64[D]").view(np.int64))
    size = len(summary)
    purchase = np.empty(size, dtype=np.int8)
    relationship = np.empty(size, dtype=np.int8)
    last_day = np.empty(size, dtype=np.int64)
    for start in range(0, size, _BLOCK):  # elementwise rules: small temporaries
        block = slice(start, start + _BLOCK)
        first, last, n = _days(summary.iloc[block], s)
        total = summary["total_value"].to_numpy(dtype=np.float64)[block]
        purchase[block] = purchase_codes((a - last) > rules.churn_after_days, n)
        relationship[block] = relationship_codes(
            a, first, n, total, np.asarray(recent_value)[block], rules
        )[0]
        last_day[block] = last
    return {
        "lifecycle_stage": _stage_labels(purchase, PURCHASE_STAGES, "lifecycle_stage"),
        "relationship_stage": _stage_labels(
            relationship, RELATIONSHIP_STAGES, "relationship_stage"
        ),
        "last_purchase": day_dates(last_day),
    }


def _stage_labels(codes: Any, names: tuple[str, ...], column: str) -> Any:
    """Stage codes (into ``names``) as the table's categorical (``LABEL_ORDER``'s order)."""
    order = LABEL_ORDER[column]
    lookup = np.array([order.index(name) for name in names], dtype=np.int8)
    out: Any = pd.Categorical.from_codes(lookup[codes], dtype=pd.CategoricalDtype(list(order)))
    return out


def clv_part(
    transaction_model: Any, spend_model: Any, summary: pd.DataFrame, s: AnalysisSettings
) -> Any:
    """The per-customer CLV over the analysis' horizon (:func:`customer_lifetime_value`)."""
    return customer_lifetime_value(
        transaction_model, spend_model, summary, customer_col=s.customer_col, **value_args(s)
    )


def quadrant_part(ids: Any, current_value: Any, clv: Any, customer_col: str) -> Any:
    """CLV quadrants: the value of the last year against the CLV, split at positive medians."""
    data = pd.DataFrame(
        {customer_col: ids, "current_value": current_value, "potential_value": clv}, copy=False
    )
    return clv_quadrants(data, customer_col=customer_col, split="positive_median")


@dataclass(frozen=True)
class Parts:
    """Rebuilds the parts of a pandas analysis from its customer table, once each.

    ``done`` names the parts whose step ran (the others are None, as in the analysis);
    ``model_summary`` is the period-level summary of a discrete (BG/BB) run, which the
    CLV needs instead of the table's day-level columns.
    """

    table: pd.DataFrame
    settings: AnalysisSettings
    rules: LifecycleRules
    transaction_model: Any
    spend_model: Any
    model_summary: pd.DataFrame | None
    recent_value: Any
    current_value: Any
    done: frozenset[str]
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    def get(self, name: str) -> Any:
        """The part ``name`` (one of :data:`PART_NAMES`), built on first use."""
        if name not in self.done:
            return None
        if name not in self._cache:
            # the step's warnings were recorded in the analysis' steps when it ran
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self._cache[name] = self._build(name)
        return self._cache[name]

    def _build(self, name: str) -> Any:
        s, key = self.settings, self.settings.customer_col
        summary = self.table[[key, *_SUMMARY]]
        if name == "rfm":
            return rfm_part(summary, key)
        if name == "portfolio":
            return portfolio_part(summary, key)
        if name in ("lifecycle", "relationship"):
            scheme = "purchase" if name == "lifecycle" else "relationship"
            return lifecycle_part(summary, self.recent_value, scheme=scheme, rules=self.rules, s=s)
        clv = self.get("clv") if name == "quadrants" else None
        if clv is not None:
            values = self.table["clv"].to_numpy(dtype=np.float64)
            return quadrant_part(self.table[key].to_numpy(), self.current_value, values, key)
        data = summary if self.model_summary is None else self.model_summary
        return clv_part(self.transaction_model, self.spend_model, data, s)
