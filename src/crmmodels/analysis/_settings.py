"""The settings of a customer-base analysis: defaults, checks, and how to reproduce a run.

A user who passes only the three column names gets a one-year horizon in the chosen time
unit, a 10% yearly discount rate, a margin of 1 (values are revenue) and the holdout rule
of :func:`crmmodels.clv.select_model`. Every setting is stated in the report, with the
call and the command that reproduce the run.
"""

from __future__ import annotations

import dataclasses
import shlex
from typing import Any

import pandas as pd

from crmmodels._ingest.arguments import check_choice, check_level, check_number
from crmmodels._ingest.periods import Period, check_period, unit_name
from crmmodels.clv._selection import CANDIDATES

__all__ = [
    "CANDIDATE_MODELS",
    "DEFAULT_DISCOUNT_RATE",
    "DEFAULT_MARGIN",
    "AnalysisSettings",
    "periods_per_year",
]

#: yearly discount rate used when the caller gives none
DEFAULT_DISCOUNT_RATE = 0.10
#: share of revenue kept as margin when the caller gives none (1: values are revenue)
DEFAULT_MARGIN = 1.0
#: days of spend that count as a customer's current value in the CLV quadrants
CURRENT_WINDOW_DAYS = 365
#: the transaction models that can be chosen or forced, by class name (those of
#: :func:`crmmodels.clv.select_model`)
CANDIDATE_MODELS = tuple(CANDIDATES)

#: time units in one year (whole numbers where the calendar gives them)
_PER_YEAR = {"D": 365.0, "W": 52.0, "M": 12.0, "Q": 4.0, "Y": 1.0}


def periods_per_year(time_unit: Period) -> float:
    """Number of ``time_unit`` periods in one year: 52 weeks, 12 months, 365 days.

    Examples
    --------
    >>> periods_per_year("W"), periods_per_year("M"), periods_per_year(14)
    (52.0, 12.0, 26.07...)
    """
    if isinstance(time_unit, str):
        return _PER_YEAR[time_unit]
    return 365.0 / float(time_unit)


@dataclasses.dataclass(frozen=True)
class AnalysisSettings:
    """The checked settings of one run of :func:`crmmodels.analyze`.

    Attributes
    ----------
    customer_col, date_col, amount_col : str
        Columns of the transaction log.
    observation_end : pandas.Timestamp
        End of the observation period (the last purchase date when not given).
    time_unit : str or int
        Unit of recency, T and the horizon (``"W"`` by default).
    horizon : float
        Forecast horizon in time units (one year by default).
    discount_rate : float
        Yearly discount rate of the CLV.
    margin : float
        Share of revenue counted as value.
    level : float
        Level of the customer-equity interval.
    holdout : float or None
        Holdout length in time units given by the caller (None: the default rule).
    calibration_end : pandas.Timestamp or None
        Calibration end given by the caller.
    model : str or None
        Transaction model forced by the caller (None: chosen on the holdout).
    date_format : str or None
        ``strftime`` format of text dates.
    pseudonymized : bool
        Whether the customer ids were replaced by keyed pseudonyms before the analysis
        (the key itself is never kept).
    """

    customer_col: str
    date_col: str
    amount_col: str
    observation_end: pd.Timestamp
    time_unit: Period
    horizon: float
    discount_rate: float
    margin: float
    level: float
    holdout: float | None
    calibration_end: pd.Timestamp | None
    model: str | None
    date_format: str | None
    pseudonymized: bool = False

    @property
    def unit(self) -> str:
        """The time unit in words (``"weeks"``)."""
        return unit_name(self.time_unit)

    @property
    def discount_period(self) -> float:
        """Time units per discounting period (one year)."""
        return periods_per_year(self.time_unit)

    def assumptions(self) -> list[str]:
        """The assumptions of the run, one plain sentence each."""
        return [
            f"Observation end: {self.observation_end.date()}.",
            f"Time unit: {self.unit}; forecast horizon: {self.horizon:g} {self.unit}.",
            f"Discounting: {self.discount_rate:.0%} a year, applied continuously over "
            f"the horizon ({self.discount_period:g} {self.unit} a year).",
            f"Margin: {self.margin:.0%} of revenue"
            + (" (values are revenue)." if self.margin == 1 else "."),
            f"Customer-equity interval: {self.level:.0%}, from the uncertainty of the "
            "fitted parameters (delta method on the log parameters).",
        ] + (
            [
                "Customer ids: pseudonymised with a keyed hash (HMAC-SHA256) before the "
                "analysis; the key is not stored."
            ]
            if self.pseudonymized
            else []
        )

    def python_call(self, data_name: str = "transactions") -> str:
        """The :func:`crmmodels.analyze` call that reproduces the run."""
        args = [
            data_name,
            f"customer_col={self.customer_col!r}",
            f"date_col={self.date_col!r}",
            f"amount_col={self.amount_col!r}",
            f"observation_end={str(self.observation_end.date())!r}",
            f"time_unit={self.time_unit!r}",
            f"horizon={self.horizon:g}",
            f"discount_rate={self.discount_rate:g}",
            f"margin={self.margin:g}",
        ]
        if self.calibration_end is not None:
            args.append(f"calibration_end={str(self.calibration_end.date())!r}")
        elif self.holdout is not None:
            args.append(f"holdout={self.holdout:g}")
        if self.model is not None:
            args.append(f"model={self.model!r}")
        if self.date_format is not None:
            args.append(f"date_format={self.date_format!r}")
        if self.pseudonymized:  # the key is the caller's secret: named, never written
            args.append("pseudonymize_key=key")
        return "crm.analyze(" + ", ".join(args) + ")"

    def command_line(
        self, path: str = "transactions.csv", key_env: str = "CRMMODELS_PSEUDONYMIZE_KEY"
    ) -> str:
        """The ``crmmodels analyze`` command that reproduces the run.

        A pseudonymised run names the environment variable ``key_env`` that holds the key.
        """
        parts = [
            "crmmodels analyze",
            _quote(path),
            f"--customer-col {_quote(self.customer_col)}",
            f"--date-col {_quote(self.date_col)}",
            f"--amount-col {_quote(self.amount_col)}",
            f"--observation-end {self.observation_end.date()}",
            f"--time-unit {self.time_unit}",
            f"--horizon {self.horizon:g}",
            f"--discount-rate {self.discount_rate:g}",
            f"--margin {self.margin:g}",
        ]
        if self.holdout is not None and self.calibration_end is None:
            parts.append(f"--holdout {self.holdout:g}")
        if self.model is not None:
            parts.append(f"--model {self.model}")
        if self.date_format is not None:
            parts.append(f"--date-format {_quote(self.date_format)}")
        if self.pseudonymized:
            parts.append(f"--pseudonymize-key-env {_quote(key_env)}")
        return " ".join(parts)


def _quote(text: str) -> str:
    """Quote a shell word when it needs it."""
    return shlex.quote(text)


def check_settings(
    *,
    time_unit: Any,
    horizon: Any,
    discount_rate: Any,
    margin: Any,
    level: Any,
    holdout: Any,
    model: Any,
) -> tuple[Period, float, float, float, float, float | None, str | None]:
    """Check the numeric and choice settings; None horizon means one year.

    Examples
    --------
    >>> check_settings(time_unit="weeks", horizon=None, discount_rate=0.1, margin=1,
    ...                level=0.95, holdout=None, model=None)
    ('W', 52.0, 0.1, 1.0, 0.95, None, None)

    Months, quarters and years have unequal lengths, while the transaction models count
    time on a day grid: use ``"D"``, ``"W"`` or a number of days (30 for about a month).
    """
    unit = check_period(time_unit, "time_unit", codes=("D", "W"))
    if horizon is None:
        horizon_value = periods_per_year(unit)
    else:
        horizon_value = check_number(
            horizon, "horizon", low=0, low_open=True, fix="Pass a positive number of time units."
        )
    rate = check_number(
        discount_rate,
        "discount_rate",
        low=0,
        high=10,
        fix="Pass a yearly rate such as 0.1 for 10%.",
    )
    margin_value = check_number(
        margin, "margin", low=0, low_open=True, high=1, fix="Pass a share such as 0.3 for 30%."
    )
    level_value = check_level(level)
    holdout_value = (
        None
        if holdout is None
        else check_number(
            holdout, "holdout", low=0, low_open=True, fix="Pass a positive number of time units."
        )
    )
    model_name = None if model is None else str(check_choice(model, "model", CANDIDATE_MODELS))
    return unit, horizon_value, rate, margin_value, level_value, holdout_value, model_name
