"""Calibration/holdout split of a transaction log (:func:`calibration_holdout`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import narwhals.stable.v2 as nw
import pandas as pd

from crmmodels._ingest.dates import to_timestamp
from crmmodels._ingest.frames import collect, count_true, to_narwhals, to_pandas
from crmmodels._ingest.log import prepare_log
from crmmodels._ingest.periods import Period, period_index, scalar_period_index
from crmmodels._results import Result
from crmmodels.errors import DataError
from crmmodels.transactions._summary import _grid, _native, _summarize, _to_timestamp

if TYPE_CHECKING:
    from matplotlib.axes import Axes


@dataclass(frozen=True, repr=False)
class CalibrationHoldoutResult(Result):
    """Calibration summary with holdout outcomes, from :func:`calibration_holdout`.

    Attributes
    ----------
    data : DataFrame-like
        One row per calibration customer in the caller's frame kind: ``frequency_cal``,
        ``recency_cal``, ``T_cal`` (and ``monetary_value_cal``), ``frequency_holdout``,
        ``monetary_value_holdout`` (with amounts) and ``duration_holdout``.
    calibration_end, observation_end : pandas.Timestamp
        The split date and the end of the holdout window.
    n_customers : int
        Customers in the calibration summary.
    n_new_in_holdout : int
        Customers whose first purchase falls in the holdout window. They have no
        calibration history, so they are not in ``data``; they are counted here.
    """

    data: Any
    calibration_end: pd.Timestamp
    observation_end: pd.Timestamp
    n_customers: int
    n_new_in_holdout: int

    def to_frame(self) -> pd.DataFrame:
        """Return the calibration/holdout table as pandas."""
        return to_pandas(to_narwhals(self.data))

    def plot(self, ax: Axes | None = None, *, model: Any = None, **kwargs: Any) -> Axes:
        """Mean holdout purchases by calibration frequency; against ``model`` when given.

        With a fitted transaction model this is
        ``crmmodels.clv.holdout_comparison(model, self).plot()``: the model's conditional
        expectations beside the actual means.
        """
        if model is not None:
            from crmmodels.clv import holdout_comparison

            return holdout_comparison(model, self.to_frame()).plot(ax=ax, **kwargs)
        from crmmodels.plotting.clv import draw_holdout_means

        return draw_holdout_means(self.to_frame(), ax=ax, **kwargs)


def calibration_holdout(
    transactions: Any,
    *,
    calibration_end: Any,
    observation_end: Any = None,
    customer_col: str = "customer_id",
    date_col: str = "date",
    amount_col: str | None = None,
    period: Period = "D",
    time_unit: Period | None = None,
    date_format: str | None = None,
    allow_negative: bool = False,
) -> CalibrationHoldoutResult:
    """Split a transaction log at a date into a calibration summary and holdout outcomes.

    Parameters
    ----------
    transactions : DataFrame-like
        Transaction log on any engine.
    calibration_end : date-like
        Last day of the calibration window (inclusive).
    observation_end : date-like, optional
        Last day of the holdout window (inclusive); defaults to the last purchase date.
    customer_col, date_col, amount_col, period, time_unit, date_format, allow_negative
        As in :func:`summarize_transactions`.

    Returns
    -------
    CalibrationHoldoutResult
        ``.data`` holds, per customer first seen on or before ``calibration_end``:
        ``frequency_cal``, ``recency_cal``, ``T_cal``, ``monetary_value_cal`` (with
        amounts), ``frequency_holdout`` (purchase periods in the holdout window),
        ``monetary_value_holdout`` (mean value per holdout purchase period, 0 if none)
        and ``duration_holdout`` (holdout length in ``time_unit``). Customers first seen
        in the holdout are counted in ``n_new_in_holdout``.

    Raises
    ------
    DataError
        As :func:`summarize_transactions`, and when ``calibration_end`` is not before
        ``observation_end`` or no customer purchased in the calibration window.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({
    ...     "customer_id": [1, 1, 1, 2, 3],
    ...     "date": pd.to_datetime(
    ...         ["2024-01-01", "2024-01-10", "2024-02-05", "2024-01-20", "2024-02-10"]),
    ... })
    >>> ch = calibration_holdout(tx, calibration_end="2024-01-31", observation_end="2024-02-29")
    >>> ch.to_frame()[["customer_id", "frequency_cal", "T_cal", "frequency_holdout"]]
       customer_id  frequency_cal  T_cal  frequency_holdout
    0            1              1   30.0                  1
    1            2              0   11.0                  0
    >>> ch.n_new_in_holdout
    1
    """
    period, unit, scale = _grid(period, time_unit)
    cal_end = _to_timestamp(calibration_end, "calibration_end")
    frame, end, tz = prepare_log(
        transactions,
        customer_col=customer_col,
        date_col=date_col,
        amount_col=amount_col,
        date_format=date_format,
        allow_negative=allow_negative,
        observation_end=observation_end,
    )
    if tz is not None:  # an aware calibration_end is read on the data's calendar too
        cal_end = to_timestamp(calibration_end, "calibration_end", tz)
    if cal_end >= end:
        raise DataError(
            f"calibration_end ({cal_end.date()}) must be before observation_end ({end.date()})."
        )
    cal_index = scalar_period_index(cal_end, period)
    end_index = scalar_period_index(end, period)
    per = frame.with_columns(period_index(nw.col(date_col), period).alias("__pi"))
    cal = per.filter(nw.col("__pi") <= cal_index).drop("__pi")
    hold = per.filter(nw.col("__pi") > cal_index)
    summary = _summarize(
        cal,
        customer_col=customer_col,
        date_col=date_col,
        amount_col=amount_col,
        end_index=cal_index,
        period=period,
        scale=scale,
    )
    rename = {c: f"{c}_cal" for c in ("frequency", "recency", "T", "monetary_value")}
    summary = summary.select(
        customer_col,
        *[nw.col(c).alias(rename[c]) for c in rename if c in summary.collect_schema().names()],
    )
    hold_aggs = [nw.len().alias("__rows")]
    if amount_col:
        hold_aggs.append(nw.col(amount_col).sum().alias("__amount"))
    hold_periods = hold.group_by(customer_col, "__pi").agg(*hold_aggs)
    cust_aggs = [nw.len().alias("frequency_holdout")]
    if amount_col:
        cust_aggs.append(nw.col("__amount").mean().alias("monetary_value_holdout"))
    hold_cust = hold_periods.group_by(customer_col).agg(*cust_aggs)
    out = summary.join(hold_cust, on=customer_col, how="left")
    fill = [nw.col("frequency_holdout").fill_null(0).cast(nw.Int64)]
    if amount_col:
        fill.append(nw.col("monetary_value_holdout").fill_null(0.0).cast(nw.Float64))
    out = out.with_columns(
        *fill, nw.lit(float(end_index - cal_index) * scale).alias("duration_holdout")
    ).sort(customer_col)
    counts = collect(
        per.group_by(customer_col)
        .agg(nw.col("__pi").min().alias("__first"))
        .select(
            count_true(nw.col("__first") <= cal_index).alias("cal"),
            count_true(nw.col("__first") > cal_index).alias("new"),
        )
    ).rows(named=True)[0]
    if not counts["cal"]:
        raise DataError(
            f"no customer purchased on or before calibration_end ({cal_end.date()}); "
            "choose a later calibration_end."
        )
    data = _native(out)
    if isinstance(data, pd.DataFrame):
        data.attrs["time_unit"] = unit
    return CalibrationHoldoutResult(
        data=data,
        calibration_end=cal_end,
        observation_end=end,
        n_customers=int(counts["cal"]),
        n_new_in_holdout=int(counts["new"] or 0),
    )
