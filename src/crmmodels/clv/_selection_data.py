"""The data of a model selection: grid, discreteness, holdout split, summaries and tracking.

:func:`split_log` turns a validated transaction log into everything the candidates are
fitted and judged on: the calibration histories with each customer's holdout purchases,
the whole-period table (for the refit of the chosen model), and the repeat purchases
of the whole base per period of the grid (for the tracking curve). On an engine both
summaries come from :func:`crmmodels.summarize_transactions` and the per-period counts
from the counting step of :func:`crmmodels.clv.cumulative_transactions`; an eager log
takes one sorted key array instead (:mod:`crmmodels.clv._selection_cells`), with the
same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import narwhals.stable.v2 as nw
import numpy as np
import numpy.typing as npt
import pandas as pd

from crmmodels._ingest.arguments import check_number
from crmmodels._ingest.dates import to_timestamp
from crmmodels._ingest.frames import to_narwhals, to_pandas
from crmmodels._ingest.log import customer_codes, ticks_per_day
from crmmodels._ingest.periods import (
    Period,
    is_calendar,
    numpy_period_index,
    period_days,
    period_index,
    period_labels,
    scalar_period_index,
    unit_name,
)
from crmmodels.clv._selection_cells import (
    SortedKeys,
    customer_periods,
    distinct_histories,
    period_counts,
    sorted_keys,
)
from crmmodels.clv._tracking import _period_counts
from crmmodels.errors import ArgumentError, DataError
from crmmodels.transactions._summary import summarize_transactions

__all__ = ["LogSplit", "Tracking", "grid_of", "is_discrete", "split_log"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: the share of the span the default rule keeps for the holdout
HOLDOUT_SHARE = 1.0 / 3.0


@dataclass(frozen=True)
class Tracking:
    """Purchases of the whole base per grid period, from the first purchase period on.

    ``active[i]`` customers bought in period ``first + i`` and ``cohorts[i]`` of them
    bought for the first time then; the repeat purchases of the period are the difference.
    """

    first: int
    active: FloatArray
    cohorts: FloatArray


@dataclass(frozen=True)
class LogSplit:
    """A log split into a calibration and a holdout period (see :func:`split_log`)."""

    grid: Period
    time_unit: Period
    scale: float  # time units per grid period
    discrete: bool
    first_index: int
    cal_index: int
    end_index: int
    calibration_end: pd.Timestamp
    observation_end: pd.Timestamp
    holdout: float  # in time units
    holdout_rule: str
    calibration: pd.DataFrame  # per calibration customer: frequency_holdout (engines: + history)
    whole: pd.DataFrame  # the whole-period summary, or its distinct histories (whole_weights)
    tracking: Tracking
    n_new_in_holdout: int
    #: the distinct calibration histories with a ``weights`` column, and the row of each
    #: calibration customer in them (eager logs; None: compress ``calibration``)
    histories: tuple[pd.DataFrame, IntArray] | None = None
    #: the weights column of ``whole`` when it holds distinct histories
    whole_weights: str | None = None


def grid_of(unit: Period, discrete: bool) -> Period:
    """The period grid purchases are merged on.

    Discrete opportunities are counted in whole time units; otherwise purchases are merged
    per day and counted in the time unit, except for months, quarters and years, which
    have no fixed length in days and so are their own grid.

    Examples
    --------
    >>> grid_of("W", False), grid_of("W", True), grid_of("M", False)
    ('D', 'W', 'M')
    """
    if discrete or is_calendar(unit):
        return unit
    return "D"


def _days(values: IntArray) -> npt.NDArray[Any]:
    return np.asarray(values, dtype=np.int64).astype("datetime64[D]")


def is_discrete(purchase_days: IntArray, unit: Period) -> bool:
    """Whether no period of ``unit`` holds two distinct purchase days.

    ``purchase_days`` are the distinct days (since 1970-01-01) with a purchase. A day
    unit is never discrete by this rule: every day is its own period.

    Examples
    --------
    >>> import numpy as np
    >>> days = np.array([0, 7, 14])  # one purchase day a week
    >>> is_discrete(days, "W"), is_discrete(np.array([0, 1, 7]), "W"), is_discrete(days, "D")
    (True, False, False)
    """
    if unit in ("D", 1) or purchase_days.size == 0:
        return False
    periods = numpy_period_index(_days(purchase_days), unit)
    return bool(np.unique(periods).size == np.unique(purchase_days).size)


def _period_end(index: int, grid: Period) -> pd.Timestamp:
    """The last day of grid period ``index``."""
    if isinstance(grid, int) or grid == "D":
        per = 1 if grid == "D" else int(grid)
        return pd.Timestamp((index + 1) * per - 1, unit="D")
    label = period_labels(np.array([index], dtype=np.int64), grid)[0]
    return pd.Timestamp(label.end_time).normalize()


def _holdout_split(
    first: int,
    end: int,
    grid: Period,
    unit: Period,
    scale: float,
    calibration_end: Any,
    holdout: Any,
    tz: str | None,
) -> tuple[int, str]:
    """The last calibration period of the grid and the sentence stating the rule."""
    per_unit = 1 if is_calendar(grid) or grid == unit else round(1.0 / scale)
    n_periods = end - first + 1
    n_units = n_periods // per_unit
    words = unit_name(unit)
    span = f"the log spans {n_units} whole {words} from the first purchase to observation_end"
    if calibration_end is not None and holdout is not None:
        raise ArgumentError(
            "pass calibration_end or holdout, not both: calibration_end is the split date, "
            "holdout the length after it."
        )
    if calibration_end is not None:
        cal = scalar_period_index(to_timestamp(calibration_end, "calibration_end", tz), grid)
        if not first <= cal < end:
            raise DataError(
                f"calibration_end must fall between the first purchase "
                f"({_period_end(first, grid).date()}) and the period before observation_end "
                f"({_period_end(end - 1, grid).date()}); got {calibration_end!r} ({span}). "
                "Pass a date inside the log, or holdout= a number of time units."
            )
        return cal, "calibration_end given by the caller"
    if holdout is None:
        length = int(n_units * HOLDOUT_SHARE)
        rule = (
            f"default rule: the last third of the {n_units} whole {words} from the first "
            f"purchase to observation_end ({length} {words})"
        )
        if length < 1:
            raise DataError(
                f"the default holdout (the last third of the span) is empty: {span}. Pass "
                "a smaller time_unit, or a log covering at least 3 time units."
            )
    else:
        value = check_number(holdout, "holdout")
        if value <= 0 or value != int(value):
            raise DataError(
                f"holdout must be a whole number of time units > 0 ({words}); got "
                f"{holdout!r} ({span}). Pass e.g. holdout={max(n_units // 3, 1)}."
            )
        length = int(value)
        rule = f"holdout of {length} {words} given by the caller"
        if length >= n_units:
            raise DataError(
                f"holdout={holdout!r} {words} leaves no calibration period: {span}. Pass a "
                f"holdout shorter than {n_units} {words} (the default takes a third)."
            )
    return end - length * per_unit, rule


def _summary(
    frame: Any, *, customer_col: str, date_col: str, end: pd.Timestamp, grid: Period, unit: Period
) -> pd.DataFrame:
    out = summarize_transactions(
        nw.to_native(frame),
        customer_col=customer_col,
        date_col=date_col,
        observation_end=end,
        period=grid,
        time_unit=None if grid == unit else unit,
    )
    return to_pandas(to_narwhals(out))


def _calibration_part(frame: Any, date_col: str, grid: Period, cal: int) -> Any:
    """The purchases of the calibration periods (eager frames: numpy on the dates)."""
    if isinstance(frame, nw.DataFrame):
        keep = numpy_period_index(_eager_dates(frame, date_col), grid) <= cal
        return frame.filter(nw.new_series("__keep", keep, nw.Boolean, backend=frame.implementation))
    return frame.filter(period_index(nw.col(date_col), grid) <= cal)


def _eager_dates(frame: Any, date_col: str) -> npt.NDArray[Any]:
    dates = frame[date_col].to_numpy()
    if dates.dtype.kind != "M":  # dates as objects: let pandas read them
        dates = pd.to_datetime(pd.Series(dates)).to_numpy()
    return np.asarray(dates)


@dataclass(frozen=True)
class _EagerLog:
    """The numpy columns of an eager log: customer codes and purchase ticks."""

    codes: npt.NDArray[np.integer]
    offset: int
    n_codes: int
    id_of: Any
    ticks: IntArray
    ticks_per_day: int
    day_lo: int
    day_hi: int

    @classmethod
    def of(cls, frame: Any, customer_col: str, date_col: str) -> _EagerLog:
        codes, offset, n_codes, id_of = customer_codes(frame[customer_col].to_numpy())
        dates = _eager_dates(frame, date_col)
        per_day = ticks_per_day(dates.dtype)
        ticks = dates.view(np.int64)
        lo, hi = int(ticks.min()) // per_day, int(ticks.max()) // per_day
        return cls(codes, offset, n_codes, id_of, ticks, per_day, lo, hi)

    def keys(self, grid: Period) -> SortedKeys:
        """The sorted (customer, period) keys of the rows on ``grid``."""
        table = None
        if grid not in ("D", 1):
            days = np.arange(self.day_lo, self.day_hi + 1, dtype=np.int64)
            table = numpy_period_index(days.astype("datetime64[D]"), grid)
        return sorted_keys(
            self.codes,
            self.offset,
            self.n_codes,
            self.ticks,
            self.ticks_per_day,
            table,
            self.day_lo,
        )


def _counts(
    frame: Any, customer_col: str, date_col: str, grid: Period
) -> tuple[IntArray, FloatArray, IntArray, FloatArray]:
    """Customers buying in each period, and customers buying for the first time.

    The counting step of :func:`crmmodels.clv.cumulative_transactions` (engine-side);
    eager frames are counted on their numpy columns instead: the distinct
    ``(customer, period)`` cells, the periods of each customer's first cell
    (:mod:`crmmodels.clv._selection_cells`).
    """
    if not isinstance(frame, nw.DataFrame):
        return _period_counts(frame, customer_col, date_col, grid)  # type: ignore[arg-type]
    keys = _EagerLog.of(frame, customer_col, date_col).keys(grid)
    active, cohorts = period_counts(keys)
    on, new = np.flatnonzero(active), np.flatnonzero(cohorts)
    lo = keys.lo
    return on + lo, active[on].astype(np.float64), new + lo, cohorts[new].astype(np.float64)


def _tracking_of(lo: int, active: IntArray, cohorts: IntArray, end: int) -> Tracking:
    """:class:`Tracking` from the counts per period relative to ``lo`` (the first one)."""
    n = end - lo + 1
    out = np.zeros((2, n))
    out[0, : active.size] = active
    out[1, : cohorts.size] = cohorts
    return Tracking(first=lo, active=out[0], cohorts=out[1])


def _tracking(
    days: tuple[IntArray, FloatArray, IntArray, FloatArray],
    grid: Period,
    frame: Any,
    customer_col: str,
    date_col: str,
    end: int,
) -> Tracking:
    """Per-period purchases on ``grid``, from the day counts when they suffice."""
    active_p, active_n, first_p, first_n = days
    if grid != "D":
        # at most one purchase day per period (discrete) keeps the day counts exact;
        # otherwise count again on the grid
        mapped = numpy_period_index(_days(active_p), grid)
        if np.unique(mapped).size == mapped.size:
            active_p, first_p = mapped, numpy_period_index(_days(first_p), grid)
        else:
            active_p, active_n, first_p, first_n = _counts(frame, customer_col, date_col, grid)
    first = int(first_p.min())
    n = end - first + 1
    active = np.bincount(active_p - first, weights=active_n, minlength=n).astype(np.float64)
    cohorts = np.bincount(first_p - first, weights=first_n, minlength=n).astype(np.float64)
    return Tracking(first=first, active=active[:n], cohorts=cohorts[:n])


def split_log(
    frame: Any,
    *,
    customer_col: str,
    date_col: str,
    end: pd.Timestamp,
    tz: str | None,
    unit: Period,
    discrete: Any,
    calibration_end: Any,
    holdout: Any,
) -> LogSplit:
    """Grid, discreteness, holdout split, both summaries and the tracking counts.

    Eager logs take the lean pass (:func:`_split_eager`); engines aggregate both
    summaries on the engine.
    """
    if isinstance(frame, nw.DataFrame):
        return _split_eager(
            _EagerLog.of(frame, customer_col, date_col),
            end=end,
            tz=tz,
            unit=unit,
            discrete=discrete,
            calibration_end=calibration_end,
            holdout=holdout,
            customer_col=customer_col,
        )
    days = _counts(frame, customer_col, date_col, "D")
    purchase_days = days[0]
    found = is_discrete(purchase_days, unit)
    use_discrete = found if discrete == "auto" else bool(discrete)
    grid = grid_of(unit, use_discrete)
    scale = 1.0 if grid == unit else period_days(grid) / period_days(unit)
    end_index = scalar_period_index(end, grid)
    tracking = _tracking(days, grid, frame, customer_col, date_col, end_index)
    cal, rule = _holdout_split(
        tracking.first, end_index, grid, unit, scale, calibration_end, holdout, tz
    )
    cal_end = _period_end(cal, grid)
    whole = _summary(
        frame, customer_col=customer_col, date_col=date_col, end=end, grid=grid, unit=unit
    )
    if not np.any(whole["frequency"].to_numpy() > 0):
        raise DataError(
            f"no customer bought twice: all {len(whole)} customers made one purchase "
            f"({unit_name(grid)} merged), so a repeat-purchase model has nothing to learn. "
            "Select a model on a log with repeat purchases."
        )
    part = _calibration_part(frame, date_col, grid, cal)
    cal_summary = _summary(
        part, customer_col=customer_col, date_col=date_col, end=cal_end, grid=grid, unit=unit
    )
    if not np.any(cal_summary["frequency"].to_numpy() > 0):
        raise DataError(
            f"no customer bought twice by calibration_end ({cal_end.date()}): the calibration "
            "period has no repeat purchase to fit the models on. Pass a later "
            "calibration_end or a shorter holdout."
        )
    firsts = numpy_period_index(whole["first_purchase"].to_numpy(), grid)
    in_cal = firsts <= cal
    rows = whole.loc[in_cal]
    if not np.array_equal(rows[customer_col].to_numpy(), cal_summary[customer_col].to_numpy()):
        rows = whole.set_index(customer_col).loc[cal_summary[customer_col]].reset_index()
    calibration = pd.DataFrame(
        {
            customer_col: cal_summary[customer_col].to_numpy(),
            "frequency": cal_summary["frequency"].to_numpy(),
            "recency": cal_summary["recency"].to_numpy(dtype=np.float64),
            "T": cal_summary["T"].to_numpy(dtype=np.float64),
            "frequency_holdout": rows["frequency"].to_numpy() - cal_summary["frequency"].to_numpy(),
        }
    )
    return LogSplit(
        grid=grid,
        time_unit=unit,
        scale=scale,
        discrete=use_discrete,
        first_index=tracking.first,
        cal_index=cal,
        end_index=end_index,
        calibration_end=cal_end,
        observation_end=end,
        holdout=float((end_index - cal) * scale),
        holdout_rule=rule,
        calibration=calibration,
        whole=whole,
        tracking=tracking,
        n_new_in_holdout=int(np.count_nonzero(~in_cal)),
    )


def _no_repeat(n_customers: int, grid: Period) -> DataError:
    return DataError(
        f"no customer bought twice: all {n_customers} customers made one purchase "
        f"({unit_name(grid)} merged), so a repeat-purchase model has nothing to learn. "
        "Select a model on a log with repeat purchases."
    )


def _no_calibration_repeat(cal_end: pd.Timestamp) -> DataError:
    return DataError(
        f"no customer bought twice by calibration_end ({cal_end.date()}): the calibration "
        "period has no repeat purchase to fit the models on. Pass a later "
        "calibration_end or a shorter holdout."
    )


def _history_frame(
    frequency: Any, recency: Any, age: Any, scale: float, *, id_col: str | None, inverse: bool
) -> tuple[pd.DataFrame, IntArray | None]:
    """Distinct histories in time units (as the summary computes them), with weights.

    ``id_col`` adds a column of zeros by that name, so that a model fitted on the rows
    remembers the customer column of the summary they stand for; ``inverse`` asks for
    the row of each customer in them.
    """
    (f, r, a), counts, rows = distinct_histories(frequency, recency, age, inverse=inverse)
    ids = {} if id_col is None else {id_col: np.zeros(f.size, dtype=np.int64)}
    frame = pd.DataFrame(
        {
            **ids,
            "frequency": f.astype(np.float64),
            "recency": r.astype(np.float64) * scale,
            "T": a.astype(np.float64) * scale,
            "weights": counts,
        }
    )
    return frame, rows


def _split_eager(
    log: _EagerLog,
    *,
    end: pd.Timestamp,
    tz: str | None,
    unit: Period,
    discrete: Any,
    calibration_end: Any,
    holdout: Any,
    customer_col: str,
) -> LogSplit:
    """:func:`split_log` on the numpy columns of an eager log (one sorted key array).

    The steps, rules and messages of the engine path; the summaries are read off the
    sorted keys instead of aggregating the log (and a copy of its calibration rows)
    twice.
    """
    keys = log.keys("D")
    active, cohorts = period_counts(keys)
    found = is_discrete(np.flatnonzero(active) + keys.lo, unit)
    use_discrete = found if discrete == "auto" else bool(discrete)
    grid = grid_of(unit, use_discrete)
    scale = 1.0 if grid == unit else period_days(grid) / period_days(unit)
    end_index = scalar_period_index(end, grid)
    if grid != "D":  # recount on the grid (the day keys are freed first)
        del keys
        keys = log.keys(grid)
        active, cohorts = period_counts(keys)
    lo = keys.lo
    tracking = _tracking_of(lo, active, cohorts, end_index)
    cal, rule = _holdout_split(lo, end_index, grid, unit, scale, calibration_end, holdout, tz)
    cal_end = _period_end(cal, grid)
    per = customer_periods(keys, int(cohorts.sum()), cal - lo)
    del keys
    first, last, n_periods, n_cal, last_cal = (
        per.first,
        per.last,
        per.n_periods,
        per.n_cal,
        per.last_cal,
    )
    del per
    n_customers = first.size
    if not np.any(n_periods > 1):
        raise _no_repeat(n_customers, grid)
    in_cal = first <= cal - lo
    frequency = n_cal[in_cal]
    frequency -= 1
    recency = last_cal[in_cal]
    del n_cal, last_cal
    age = first[in_cal]
    recency -= age
    np.subtract(cal - lo, age, out=age)
    holdout_counts = n_periods[in_cal]
    holdout_counts -= frequency
    holdout_counts -= 1
    del in_cal
    if not np.any(frequency > 0):
        raise _no_calibration_repeat(cal_end)
    cal_rows, inverse = _history_frame(frequency, recency, age, scale, id_col=None, inverse=True)
    del frequency, recency, age
    n_new = n_customers - holdout_counts.size
    age = end_index - lo - first
    last -= first  # the recency in grid periods
    n_periods -= 1
    whole, _ = _history_frame(n_periods, last, age, scale, id_col=customer_col, inverse=False)
    return LogSplit(
        grid=grid,
        time_unit=unit,
        scale=scale,
        discrete=use_discrete,
        first_index=lo,
        cal_index=cal,
        end_index=end_index,
        calibration_end=cal_end,
        observation_end=end,
        holdout=float((end_index - cal) * scale),
        holdout_rule=rule,
        calibration=pd.DataFrame({"frequency_holdout": holdout_counts}),
        whole=whole,
        tracking=tracking,
        n_new_in_holdout=n_new,
        histories=(cal_rows, cast("IntArray", inverse)),
        whole_weights="weights",
    )
