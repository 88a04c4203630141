"""Tracking a fitted transaction model against data: transactions over time, holdout, P(alive).

:func:`cumulative_transactions` sets the repeat transactions of a whole customer base,
period by period, against the model's expectation (Fader, Hardie & Lee 2005, figure 3).
:func:`holdout_comparison` sets holdout purchases against the conditional expectations,
by calibration group (figure 4). :func:`alive_history` follows the probability that one
customer is alive from the first purchase on. Each returns a frozen result whose
``.plot()`` draws it (:mod:`crmmodels.plotting.clv`, imported when drawing).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import narwhals.stable.v2 as nw
import numpy as np
import numpy.typing as npt
import pandas as pd

from crmmodels._ingest.arguments import check_choice, check_column_name, check_int, check_number
from crmmodels._ingest.dates import to_timestamp
from crmmodels._ingest.frames import check_columns, collect, to_narwhals, to_pandas
from crmmodels._ingest.log import prepare_log
from crmmodels._ingest.periods import check_period, period_index
from crmmodels._results import Result
from crmmodels.clv._predict import UNKNOWN_UNIT
from crmmodels.errors import ArgumentError, DataError

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "AliveHistoryResult",
    "CumulativeTransactionsResult",
    "HoldoutComparisonResult",
    "alive_history",
    "cumulative_transactions",
    "holdout_comparison",
]

TimeUnit = Literal["D", "W", "M", "Q", "Y"] | int
FloatArray = npt.NDArray[np.float64]

#: period codes and their pandas frequencies (weeks run Monday to Sunday)
_CODES = {"D": "D", "W": "W-SUN", "M": "M", "Q": "Q-DEC", "Y": "Y-DEC"}
_UNIT_HINT = "'D', 'W', 'M', 'Q', 'Y' or a whole number of days (e.g. 7)"
_SINCE_LAST = "time_since_last_purchase"


# --------------------------------------------------------------------- arguments
def _needs(model: Any, method: str) -> None:
    if not callable(getattr(model, method, None)):
        raise ArgumentError(
            f"model must be a fitted transaction model with a {method}() method (BGNBD, "
            f"MBGNBD, ParetoNBD); got {type(model).__name__}."
        )


def _resolve_unit(time_unit: Any, model: Any) -> tuple[str, int, TimeUnit]:
    """``(period code, periods per time unit, time unit)`` of the tracking grid.

    Without ``time_unit`` the model's remembered ``time_unit_`` is used. A whole number
    of days counts purchases per day and groups the rows by that many days.
    """
    if time_unit is None:
        time_unit = getattr(model, "time_unit_", None)
        if time_unit in (None, UNKNOWN_UNIT):
            raise ArgumentError(
                f"time_unit is needed: the model does not know its time unit "
                f"(time_unit_={time_unit!r}). Pass the unit the model was fitted in: "
                f"{_UNIT_HINT}."
            )
    unit = check_period(time_unit, "time_unit")
    if isinstance(unit, str):
        return unit, 1, unit
    return "D", unit, unit


def _period_expr(dates: nw.Expr, code: str) -> nw.Expr:
    return period_index(dates, code)


def _period_number(date: pd.Timestamp, code: str) -> int:
    period = pd.Timestamp(date).to_period(_CODES[code])
    return int(period.ordinal)


def _ordinal_offset(code: str) -> int:
    """``_period_expr`` numbers minus pandas' period ordinals (constant per code)."""
    return {"D": 0, "W": -1, "M": 1970 * 12, "Q": 1970 * 4, "Y": 1970}[code]


# -------------------------------------------------------------------- the counts
def _period_counts(
    frame: Any, customer_col: str, date_col: str, code: str
) -> tuple[npt.NDArray[np.int64], FloatArray, npt.NDArray[np.int64], FloatArray]:
    """Customer-periods and first periods, counted engine-side.

    Returns the period numbers with purchases and the number of customers buying in
    each, and the first periods with the number of customers starting in each.
    """
    pairs = frame.select(
        nw.col(customer_col), _period_expr(nw.col(date_col), code).alias("__period")
    ).unique()
    active = collect(pairs.group_by("__period").agg(nw.len().alias("__n")))
    firsts = collect(
        pairs.group_by(customer_col)
        .agg(nw.col("__period").min())
        .group_by("__period")
        .agg(nw.len().alias("__n"))
    )
    return (
        active["__period"].to_numpy().astype(np.int64),
        active["__n"].to_numpy().astype(np.float64),
        firsts["__period"].to_numpy().astype(np.int64),
        firsts["__n"].to_numpy().astype(np.float64),
    )


def _expected_cumulative(
    model: Any, cohorts: FloatArray, periods_per_unit: int, n_rows: int
) -> FloatArray:
    """Expected cumulative repeat transactions at the end of each time unit.

    A cohort starting in period ``k`` has age ``(i - k) / periods_per_unit`` at the start
    of period ``i``; the sum over cohorts is a convolution with the model's expected
    purchases of one new customer.
    """
    n_periods = cohorts.size
    ages = np.arange(1, n_periods + 1, dtype=np.float64) / periods_per_unit
    per_customer = np.asarray(model.expected_purchases(ages), dtype=np.float64).reshape(-1)
    if per_customer.size != n_periods:
        raise ArgumentError(
            "model.expected_purchases(t) must return one value per value of t; got "
            f"{per_customer.size} values for {n_periods}."
        )
    curve = np.concatenate([[0.0], per_customer])
    total = np.convolve(cohorts, curve)[: n_periods + 1]
    ends = np.arange(1, n_rows + 1) * periods_per_unit
    out: FloatArray = total[ends]
    return out


# ----------------------------------------------------------------------- results
@dataclass(frozen=True, repr=False)
class CumulativeTransactionsResult(Result):
    """Actual and expected repeat transactions per time unit, from :func:`cumulative_transactions`.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per whole time unit (see :meth:`to_frame`).
    time_unit : str or int
        The time unit of the rows and of the model's ages.
    n_customers : int
        Customers in the log.
    total_actual, total_expected : float
        Repeat transactions at the end of the last row, counted and expected.
    calibration_end : pandas.Timestamp or None
        End of the calibration period (drawn as a vertical line).
    observation_end : pandas.Timestamp
        End of the log.
    """

    table: pd.DataFrame
    time_unit: str | int
    n_customers: int
    total_actual: float
    total_expected: float
    calibration_end: pd.Timestamp | None
    observation_end: pd.Timestamp

    def __repr__(self) -> str:
        return (
            f"CumulativeTransactionsResult(time_unit={self.time_unit!r}, "
            f"rows={len(self.table)}, n_customers={self.n_customers},\n"
            f"                             total_actual={self.total_actual:.0f}, "
            f"total_expected={self.total_expected:.1f})"
        )

    def to_frame(self) -> pd.DataFrame:
        """The table: ``time``, ``date``, cumulative and incremental ``actual_*``/``expected_*``.

        ``time`` counts whole time units since the start of the first purchase's period;
        ``date`` is the last day the row covers. ``actual_cumulative`` counts repeat
        transactions (distinct customer-periods after each customer's first) up to that
        day; ``*_incremental`` are the same counts within the row's time unit.
        """
        return self.table.copy()

    def plot(
        self,
        ax: Axes | None = None,
        *,
        kind: Literal["cumulative", "incremental"] = "cumulative",
        **kwargs: Any,
    ) -> Axes:
        """Draw actual against expected transactions over time and return the Axes.

        Parameters
        ----------
        ax : matplotlib Axes, optional
        kind : {"cumulative", "incremental"}
        **kwargs
            Passed to ``Axes.plot``.
        """
        from crmmodels.plotting.clv import draw_cumulative_transactions

        check_choice(kind, "kind", ["cumulative", "incremental"])
        return draw_cumulative_transactions(self, kind=kind, ax=ax, **kwargs)


def cumulative_transactions(
    model: Any,
    transactions: Any,
    *,
    customer_col: str = "customer_id",
    date_col: str = "date",
    calibration_end: Any = None,
    observation_end: Any = None,
    time_unit: TimeUnit | None = None,
    date_format: str | None = None,
) -> CumulativeTransactionsResult:
    r"""Repeat transactions of the whole customer base over time: actual against the model.

    Each customer's purchases are merged per period (a day when ``time_unit`` is a number
    of days). A cohort of :math:`n_k` customers whose first purchase falls in period
    :math:`k` is expected to make :math:`n_k\,E[X(i - k)]` repeat purchases by the start
    of period :math:`i`, where :math:`E[X(t)]` is ``model.expected_purchases(t)`` of one
    new customer (the definition of lifetimes' ``expected_cumulative_transactions``).

    Parameters
    ----------
    model : fitted transaction model
        Anything with ``expected_purchases(t)``: ``BGNBD``, ``MBGNBD``, ``ParetoNBD``.
    transactions : DataFrame-like
        The transaction log (one row per purchase) on any engine.
    customer_col, date_col : str
        Customer id and purchase date columns.
    calibration_end : date-like, optional
        End of the calibration period; stored for the plot's vertical line.
    observation_end : date-like, optional
        Last day of the log (default: the last purchase). Later purchases are an error.
    time_unit : {"D", "W", "M", "Q", "Y"} or int, optional
        The model's time unit: a calendar day, week (Monday to Sunday), month, quarter or
        year, or a whole number of days (rows every ``time_unit`` days, purchases merged
        per day); the plural words (``"weeks"``) are read as the codes. Defaults to the
        model's remembered ``time_unit_``.
    date_format : str, optional
        strftime layout of text dates.

    Returns
    -------
    CumulativeTransactionsResult

    Raises
    ------
    ArgumentError
        A bad ``time_unit`` (or none known), date or column name, or a model without
        ``expected_purchases``.
    SchemaError, DataError
        Missing columns, bad ids or dates, purchases after ``observation_end``, or a log
        shorter than one time unit.

    Examples
    --------
    >>> from crmmodels.clv import BGNBD, cumulative_transactions
    >>> from crmmodels.datasets import load_cdnow_sample
    >>> model = BGNBD.from_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
    >>> res = cumulative_transactions(
    ...     model, load_cdnow_sample(), calibration_end="1997-09-30", time_unit=7)
    >>> res  # doctest: +NORMALIZE_WHITESPACE
    CumulativeTransactionsResult(time_unit=7, rows=78, n_customers=2357, total_actual=4339,
    total_expected=4171.4)
    >>> list(res.to_frame().columns)  # doctest: +NORMALIZE_WHITESPACE
    ['time', 'date', 'actual_cumulative', 'expected_cumulative', 'actual_incremental',
     'expected_incremental']
    """
    _needs(model, "expected_purchases")
    code, per_unit, unit = _resolve_unit(time_unit, model)
    frame, end, tz = prepare_log(
        transactions,
        customer_col=customer_col,
        date_col=date_col,
        amount_col=None,
        date_format=date_format,
        allow_negative=True,
        observation_end=observation_end,
    )
    cal = None if calibration_end is None else to_timestamp(calibration_end, "calibration_end", tz)
    active_p, active_n, first_p, first_n = _period_counts(frame, customer_col, date_col, code)
    start = int(first_p.min())
    n_periods = _period_number(end, code) + _ordinal_offset(code) - start + 1
    n_rows = n_periods // per_unit
    if n_rows < 1:
        raise DataError(
            f"transactions cover {n_periods} period(s) of {code!r}, less than one time unit "
            f"(time_unit={unit!r}); pass a later observation_end or a shorter time_unit."
        )
    cohorts = np.bincount(first_p - start, weights=first_n, minlength=n_periods).astype(np.float64)
    repeats = np.bincount(active_p - start, weights=active_n, minlength=n_periods) - cohorts
    expected = _expected_cumulative(model, cohorts, per_unit, n_rows)
    ends = np.arange(1, n_rows + 1) * per_unit
    actual = np.cumsum(repeats)[ends - 1]
    labels = pd.PeriodIndex.from_ordinals(  # type: ignore[attr-defined]
        start - _ordinal_offset(code) + ends - 1, freq=_CODES[code]
    )
    table = pd.DataFrame(
        {
            "time": np.arange(1, n_rows + 1),
            "date": labels.end_time.normalize(),
            "actual_cumulative": actual,
            "expected_cumulative": expected,
            "actual_incremental": np.diff(actual, prepend=0.0),
            "expected_incremental": np.diff(expected, prepend=0.0),
        }
    )
    return CumulativeTransactionsResult(
        table=table,
        time_unit=unit,
        n_customers=int(first_n.sum()),
        total_actual=float(actual[-1]),
        total_expected=float(expected[-1]),
        calibration_end=cal,
        observation_end=end,
    )


@dataclass(frozen=True, repr=False)
class AliveHistoryResult(Result):
    """P(alive) of one customer over time, from :func:`alive_history`.

    Attributes
    ----------
    table : pandas.DataFrame
        ``age`` (time since the first purchase, model units), ``frequency``,
        ``recency`` and ``p_alive`` at each age.
    purchase_times : tuple of float
        The customer's purchase times since the first purchase.
    end : float
        The last age.
    """

    table: pd.DataFrame
    purchase_times: tuple[float, ...]
    end: float

    def to_frame(self) -> pd.DataFrame:
        """The P(alive) path: ``age``, ``frequency``, ``recency``, ``p_alive``."""
        return self.table.copy()

    def plot(self, ax: Axes | None = None, **kwargs: Any) -> Axes:
        """Draw the P(alive) path with the purchases marked and return the Axes."""
        from crmmodels.plotting.clv import draw_alive_history

        return draw_alive_history(self, ax=ax, **kwargs)


def alive_history(
    model: Any,
    purchase_times: Any,
    *,
    end: float | None = None,
    n_points: int = 200,
    ages: Any = None,
) -> AliveHistoryResult:
    """P(alive) of one customer from the first purchase to ``end``.

    At age ``a`` the customer has made the purchases at times ``<= a``: frequency is
    their number minus one and recency the time of the last; P(alive) is
    ``model.probability_alive(frequency, recency, a)``.

    Parameters
    ----------
    model : fitted transaction model
        Anything with ``probability_alive(frequency, recency, T)``.
    purchase_times : array-like of float
        The customer's purchase times in model units (shifted so the first is 0);
        purchases in one period should already be merged.
    end : float, optional
        Last age (default: the last purchase time). Ignored when ``ages`` is given.
    n_points : int, default 200
        Evenly spaced ages from 0 to ``end``; the purchase times are added.
    ages : array-like of float, optional
        The ages at which to evaluate P(alive), instead of the even grid.

    Returns
    -------
    AliveHistoryResult

    Examples
    --------
    >>> from crmmodels.clv import BGNBD, alive_history
    >>> model = BGNBD.from_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
    >>> res = alive_history(model, [0.0, 5.0, 12.0], ages=[0.0, 5.0, 12.0, 30.0])
    >>> res.to_frame()["p_alive"].round(3).tolist()
    [1.0, 0.754, 0.812, 0.451]
    """
    _needs(model, "probability_alive")
    times = np.sort(np.asarray(purchase_times, dtype=np.float64).reshape(-1))
    if times.size == 0 or not np.all(np.isfinite(times)):
        raise ArgumentError(
            "purchase_times must hold at least one finite time (the first purchase); got "
            f"{times.size} value(s), {int(np.sum(~np.isfinite(times)))} not finite."
        )
    times = times - times[0]
    if ages is None:
        last = float(times[-1]) if end is None else check_number(end, "end", low=0.0)
        n = check_int(n_points, "n_points", low=2)
        grid = np.unique(np.concatenate([np.linspace(0.0, last, n), times[times <= last]]))
    else:
        grid = np.asarray(ages, dtype=np.float64).reshape(-1)
        if grid.size == 0 or not np.all(np.isfinite(grid) & (grid >= 0)):
            raise ArgumentError("ages must be finite times >= 0 since the first purchase.")
        last = float(grid.max())
    bought = np.searchsorted(times, grid, side="right")
    frequency = (bought - 1).astype(np.float64)
    recency = times[bought - 1]
    alive = np.asarray(model.probability_alive(frequency, recency, grid), dtype=np.float64)
    table = pd.DataFrame(
        {"age": grid, "frequency": frequency, "recency": recency, "p_alive": alive.reshape(-1)}
    )
    return AliveHistoryResult(table=table, purchase_times=tuple(float(t) for t in times), end=last)


@dataclass(frozen=True, repr=False)
class HoldoutComparisonResult(Result):
    """Mean holdout purchases by calibration group, counted and expected.

    From :func:`holdout_comparison`.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per group (see :meth:`to_frame`).
    by : str
        The grouping column of the calibration/holdout table.
    max_group : float or None
        Groups at or above it are pooled into one (None: no pooling).
    n_customers : int
        Customers compared.
    """

    table: pd.DataFrame
    by: str
    max_group: float | None
    n_customers: int

    def to_frame(self) -> pd.DataFrame:
        """The table: the group (column ``by``), ``customers``, ``actual``, ``expected``.

        ``actual`` is the mean number of holdout purchases of the group's customers and
        ``expected`` the mean of the model's conditional expectations over each
        customer's holdout duration.
        """
        return self.table.copy()

    def plot(self, ax: Axes | None = None, **kwargs: Any) -> Axes:
        """Draw actual against expected holdout purchases by group and return the Axes."""
        from crmmodels.plotting.clv import draw_holdout_comparison

        return draw_holdout_comparison(self, ax=ax, **kwargs)


_HOLDOUT_COLUMNS = (
    "frequency_cal",
    "recency_cal",
    "T_cal",
    "frequency_holdout",
    "duration_holdout",
)


def holdout_comparison(
    model: Any,
    cal_holdout: Any,
    *,
    by: str = "frequency_cal",
    max_group: float | None = 7,
) -> HoldoutComparisonResult:
    """Mean holdout purchases against the model's conditional expectations, by group.

    The customers of a calibration/holdout table are grouped by ``by`` (a column, or
    ``"time_since_last_purchase"``: ``T_cal - recency_cal``); in each group the mean of
    ``frequency_holdout`` is set against the mean of
    ``model.conditional_expected_purchases(duration_holdout, frequency_cal, recency_cal,
    T_cal)`` (Fader, Hardie & Lee 2005, figure 4).

    Parameters
    ----------
    model : fitted transaction model
        Anything with ``conditional_expected_purchases(t, frequency, recency, T)``.
    cal_holdout : CalibrationHoldoutResult or DataFrame-like
        The result of :func:`crmmodels.transactions.calibration_holdout` or its table
        (``frequency_cal``, ``recency_cal``, ``T_cal``, ``frequency_holdout``,
        ``duration_holdout``, in the model's time unit).
    by : str, default "frequency_cal"
        Grouping column, or ``"time_since_last_purchase"``.
    max_group : float or None, default 7
        Values at or above it form one group (labelled ``max_group``); None keeps every
        value apart.

    Returns
    -------
    HoldoutComparisonResult

    Examples
    --------
    >>> from crmmodels.clv import BGNBD, holdout_comparison
    >>> from crmmodels.datasets import load_cdnow_sample
    >>> from crmmodels.transactions import calibration_holdout
    >>> ch = calibration_holdout(load_cdnow_sample(), calibration_end="1997-09-30",
    ...                          observation_end="1998-06-30", time_unit="W")
    >>> model = BGNBD.from_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
    >>> holdout_comparison(model, ch).to_frame().round(2).head(3)
       frequency_cal  customers  actual  expected
    0            0.0       1411    0.24      0.23
    1            1.0        439    0.70      0.52
    2            2.0        214    1.39      1.04
    """
    _needs(model, "conditional_expected_purchases")
    check_column_name(by, "by")
    if max_group is not None:
        max_group = check_number(max_group, "max_group")
    frame = cal_holdout.to_frame() if isinstance(cal_holdout, Result) else cal_holdout
    wanted = [*_HOLDOUT_COLUMNS, *([] if by in (*_HOLDOUT_COLUMNS, _SINCE_LAST) else [by])]
    native = to_narwhals(frame, what="cal_holdout")
    check_columns(native, wanted, what="cal_holdout")
    table = to_pandas(native.select(wanted))
    cols = {c: table[c].to_numpy(dtype=np.float64) for c in _HOLDOUT_COLUMNS}
    if by == _SINCE_LAST:
        key = cols["T_cal"] - cols["recency_cal"]
    else:
        key = table[by].to_numpy(dtype=np.float64)
    if max_group is not None:
        key = np.minimum(key, max_group)
    expected = np.asarray(
        model.conditional_expected_purchases(
            cols["duration_holdout"], cols["frequency_cal"], cols["recency_cal"], cols["T_cal"]
        ),
        dtype=np.float64,
    ).reshape(-1)
    groups, members = np.unique(key, return_inverse=True)
    counts = np.bincount(members, minlength=groups.size)
    out = pd.DataFrame(
        {
            by: groups,
            "customers": counts,
            "actual": np.bincount(members, weights=cols["frequency_holdout"]) / counts,
            "expected": np.bincount(members, weights=expected) / counts,
        }
    )
    return HoldoutComparisonResult(
        table=out, by=by, max_group=max_group, n_customers=int(counts.sum())
    )
