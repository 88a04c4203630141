"""lifetimes' ``utils`` functions on the crmmodels transaction summaries.

``summary_data_from_transaction_data`` and ``calibration_and_holdout_data`` run
:func:`crmmodels.transactions.summarize_transactions` and
:func:`crmmodels.transactions.calibration_holdout` and return lifetimes' column names,
index and dtypes. The other functions compose the fitted models' predictions following
lifetimes' definitions.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from crmmodels._ingest.arguments import check_int, check_number
from crmmodels._ingest.dates import to_timestamp
from crmmodels._ingest.frames import to_narwhals, to_pandas
from crmmodels.compat.lifetimes._dates import _end_date, _parse_dates, _period
from crmmodels.compat.lifetimes._private import (
    _check_inputs as _check_inputs,
)
from crmmodels.compat.lifetimes._private import (
    _find_first_transactions as _find_first_transactions,
)
from crmmodels.compat.lifetimes._private import _scale_time as _scale_time
from crmmodels.errors import ArgumentError, DataError
from crmmodels.errors import ConvergenceError as ConvergenceError
from crmmodels.transactions import calibration_holdout, summarize_transactions

__all__ = [
    "calculate_alive_path",
    "calibration_and_holdout_data",
    "customer_lifetime_value",
    "expected_cumulative_transactions",
    "summary_data_from_transaction_data",
]

_TRACKING_FREQ = ("D", "W", "M", "Q", "Y")
_CLV_FACTOR = {"W": 4.345, "M": 1.0, "D": 30.0, "H": 30.0 * 24.0}


def _text_dates(transactions: Any, datetime_col: str, datetime_format: str | None) -> Any:
    """Whole-number dates such as ``19970101`` as text, so ``datetime_format`` reads them.

    lifetimes parses the date column with ``pandas.to_datetime(..., format=...)``, which
    accepts integers; the crmmodels summaries read text or dates only.
    """
    if datetime_format is None:
        return transactions
    frame = to_pandas(to_narwhals(transactions, what="transactions"))
    if datetime_col not in frame.columns or frame[datetime_col].dtype.kind not in "iu":
        return transactions
    return frame.assign(**{datetime_col: frame[datetime_col].astype(str)})


def _truncate(
    transactions: Any, datetime_col: str, end: Any, datetime_format: str | None, freq: str
) -> Any:
    """Drop the purchases after the observation end (lifetimes truncates silently).

    Dates are compared on the local calendar of timezone-aware data, as in the summaries.
    """
    transactions = _text_dates(transactions, datetime_col, datetime_format)
    if end is None:
        return transactions
    frame = to_pandas(to_narwhals(transactions, what="transactions"))
    if datetime_col not in frame.columns:
        return frame  # the summary names the missing column
    dates = frame[datetime_col]
    if not isinstance(dates.dtype, pd.DatetimeTZDtype) and dates.dtype.kind != "M":
        dates = pd.to_datetime(dates, format=datetime_format)
    tz = None
    if isinstance(dates.dtype, pd.DatetimeTZDtype):
        tz = str(dates.dtype.tz)
        dates = dates.dt.tz_localize(None)
    last = to_timestamp(end, "observation_period_end", tz).to_period(_period(freq)).end_time
    return frame.loc[(dates <= last).to_numpy()]


def _nonempty(frame: Any) -> Any:
    """Raise lifetimes' message when no purchase is left before the observation end."""
    if isinstance(frame, pd.DataFrame) and frame.empty:
        raise DataError(
            "There is no data available: no purchase falls on or before "
            "observation_period_end. Check observation_period_end and "
            "calibration_period_end against the dates in transactions."
        )
    return frame


def _by_customer(native: Any, customer_id_col: str) -> pd.DataFrame:
    """A summary of any engine as pandas, indexed by the customer id column."""
    frame = native if isinstance(native, pd.DataFrame) else to_pandas(to_narwhals(native))
    key = customer_id_col if customer_id_col in frame.columns else "customer_id"
    frame = frame.set_index(key)
    frame.index.name = customer_id_col
    return frame


def summary_data_from_transaction_data(
    transactions: Any,
    customer_id_col: str,
    datetime_col: str,
    monetary_value_col: str | None = None,
    datetime_format: str | None = None,
    observation_period_end: Any = None,
    freq: str = "D",
    freq_multiplier: int = 1,
    include_first_transaction: bool = False,
) -> pd.DataFrame:
    """Customer summary (frequency, recency, T [, monetary_value]) with lifetimes' layout.

    Parameters
    ----------
    transactions : DataFrame-like
        One row per purchase (any narwhals-supported frame).
    customer_id_col, datetime_col : str
        Customer id and purchase date columns.
    monetary_value_col : str, optional
        Purchase value column; adds ``monetary_value`` (mean per repeat period).
    datetime_format : str, optional
        Format of string dates.
    observation_period_end : date-like, optional
        End of observation (default: the last purchase date).
    freq : {"D", "W", "M", "h", "min"}
        Time grid and unit (hours and minutes of the wall clock for sub-daily data).
    freq_multiplier : int
        Divides recency and T.
    include_first_transaction : bool
        Count the first purchase in frequency and monetary value.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``customer_id_col``; float columns ``frequency``, ``recency``, ``T``
        and ``monetary_value`` when a value column is given.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"id": [1, 1, 2], "date": ["2020-01-01", "2020-01-05", "2020-01-03"]})
    >>> summary_data_from_transaction_data(tx, "id", "date").values.tolist()
    [[1.0, 4.0, 4.0], [0.0, 0.0, 2.0]]
    """
    check_number(freq_multiplier, "freq_multiplier", low=0, low_open=True)
    observation_period_end = _end_date(
        observation_period_end, "observation_period_end", datetime_format
    )
    summary = summarize_transactions(
        _nonempty(
            _truncate(transactions, datetime_col, observation_period_end, datetime_format, freq)
        ),
        customer_col=customer_id_col,
        date_col=datetime_col,
        amount_col=monetary_value_col,
        observation_end=observation_period_end,
        period=_period(freq),
        date_format=datetime_format,
    )
    frame = _by_customer(summary, customer_id_col)
    out = pd.DataFrame(index=frame.index)
    freq_ = frame["frequency"].astype(float)
    out["frequency"] = freq_ + 1.0 if include_first_transaction else freq_
    out["recency"] = frame["recency"].astype(float) / freq_multiplier
    out["T"] = frame["T"].astype(float) / freq_multiplier
    if monetary_value_col is not None:
        if include_first_transaction:
            out["monetary_value"] = frame["total_value"].astype(float) / (freq_ + 1.0)
        else:
            out["monetary_value"] = frame["monetary_value"].astype(float)
    return out.sort_index()


def calibration_and_holdout_data(
    transactions: Any,
    customer_id_col: str,
    datetime_col: str,
    calibration_period_end: Any,
    observation_period_end: Any = None,
    freq: str = "D",
    freq_multiplier: int = 1,
    datetime_format: str | None = None,
    monetary_value_col: str | None = None,
    include_first_transaction: bool = False,
) -> pd.DataFrame:
    """Calibration summary and holdout outcomes with lifetimes' column names.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``customer_id_col``: ``frequency_cal``, ``recency_cal``, ``T_cal``
        [, ``monetary_value_cal``], ``frequency_holdout`` [, ``monetary_value_holdout``],
        ``duration_holdout``.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"id": [1, 1, 1], "date": ["2020-01-01", "2020-01-05", "2020-01-20"]})
    >>> calibration_and_holdout_data(tx, "id", "date", "2020-01-10").iloc[0].tolist()
    [1.0, 4.0, 9.0, 1.0, 10.0]
    """
    check_number(freq_multiplier, "freq_multiplier", low=0, low_open=True)
    if include_first_transaction and monetary_value_col is not None:
        raise DataError(
            "include_first_transaction=True with monetary_value_col is not supported by "
            "calibration_and_holdout_data; summarise the calibration period with "
            "summary_data_from_transaction_data instead."
        )
    observation_period_end = _end_date(
        observation_period_end, "observation_period_end", datetime_format
    )
    calibration_period_end = _end_date(
        calibration_period_end, "calibration_period_end", datetime_format
    )
    result = calibration_holdout(
        _nonempty(
            _truncate(transactions, datetime_col, observation_period_end, datetime_format, freq)
        ),
        calibration_end=calibration_period_end,
        observation_end=observation_period_end,
        customer_col=customer_id_col,
        date_col=datetime_col,
        amount_col=monetary_value_col,
        period=_period(freq),
        date_format=datetime_format,
    )
    frame = _by_customer(result.data, customer_id_col)
    cols = ["frequency_cal", "recency_cal", "T_cal"]
    if monetary_value_col is not None:
        cols.append("monetary_value_cal")
    cols.append("frequency_holdout")
    if monetary_value_col is not None:
        cols.append("monetary_value_holdout")
    cols.append("duration_holdout")
    out = frame[cols].astype(float)
    for c in ("recency_cal", "T_cal", "duration_holdout"):
        out[c] = out[c] / freq_multiplier
    if include_first_transaction:
        out["frequency_cal"] = out["frequency_cal"] + 1.0
    return out.sort_index()


def _customer_lifetime_value(
    transaction_prediction_model: Any,
    frequency: Any,
    recency: Any,
    T: Any,
    monetary_value: Any,
    time: int = 12,
    discount_rate: float = 0.01,
    freq: str = "D",
) -> pd.Series:
    """Compute lifetimes' discrete CLV (see :func:`customer_lifetime_value`)."""
    if freq not in _CLV_FACTOR:
        raise DataError(f"freq must be one of {list(_CLV_FACTOR)}; got {freq!r}.")
    factor = _CLV_FACTOR[freq]
    index = frequency.index if isinstance(frequency, pd.Series) else None
    spend = np.asarray(monetary_value, dtype=np.float64)
    predict = transaction_prediction_model.predict
    clv = np.zeros(np.shape(np.asarray(frequency)), dtype=np.float64)
    previous = np.asarray(predict(0.0, frequency, recency, T), dtype=np.float64)
    for step in range(1, int(time) + 1):
        horizon = step * factor
        current = np.asarray(predict(horizon, frequency, recency, T), dtype=np.float64)
        clv = clv + spend * (current - previous) / (1.0 + discount_rate) ** (horizon / factor)
        previous = current
    return pd.Series(clv, index=index, name="clv")


def customer_lifetime_value(
    transaction_prediction_model: Any,
    frequency: Any,
    recency: Any,
    T: Any,
    monetary_value: Any,
    time: int = 12,
    discount_rate: float = 0.01,
    freq: str = "D",
) -> pd.Series:
    """Customer lifetime value as lifetimes defines it.

    The sum over months ``k = 1..time`` of ``monetary_value`` times the expected
    purchases in month ``k`` (the conditional expectation at ``k`` months minus the one at
    ``k - 1``; a month is 30 days, 4.345 weeks or 720 hours by ``freq``), discounted by
    ``(1 + discount_rate) ** k``.

    Parameters
    ----------
    transaction_prediction_model : fitted fitter with ``predict``
    frequency, recency, T : Series or array_like
        Customer histories (time unit ``freq``).
    monetary_value : Series or array_like
        Value per purchase (lifetimes passes the Gamma-Gamma expected spend).
    time : int
        Months. discount_rate : monthly rate. freq : ``"D"``, ``"W"``, ``"M"`` or ``"H"``.

    Returns
    -------
    pandas.Series
        Named ``clv``, with the index of ``frequency`` when it is a Series.

    Examples
    --------
    >>> from crmmodels.compat.lifetimes import BetaGeoFitter
    >>> import pandas as pd
    >>> bgf = BetaGeoFitter()
    >>> bgf.params_ = pd.Series({"r": 0.24, "alpha": 4.41, "a": 0.79, "b": 2.43})
    >>> bgf.predict = bgf.conditional_expected_number_of_purchases_up_to_time
    >>> customer_lifetime_value(bgf, [2], [30.43], [38.86], [20.0], freq="W").round(2).tolist()
    [29.46]
    """
    return _customer_lifetime_value(
        transaction_prediction_model,
        frequency,
        recency,
        T,
        monetary_value,
        time,
        discount_rate,
        freq=freq,
    )


def _period_ordinals(values: Any, freq: str, datetime_format: str | None) -> Any:
    dates = _parse_dates(pd.Series(values), datetime_format)
    return dates, pd.PeriodIndex(dates.dt.to_period(freq)).asi8


class _PerPeriod:
    """A lifetimes fitter seen through the crmmodels model interface, ages in periods.

    lifetimes measures ages in periods of ``freq`` divided by ``freq_multiplier``; the
    crmmodels tracking functions pass ages in periods.
    """

    def __init__(self, fitter: Any, freq_multiplier: float = 1.0) -> None:
        self._fitter = fitter
        self._per_unit = float(freq_multiplier)

    def expected_purchases(self, t: Any) -> Any:
        ages = np.asarray(t, dtype=np.float64) / self._per_unit
        return self._fitter.expected_number_of_purchases_up_to_time(ages)

    def probability_alive(self, frequency: Any, recency: Any, T: Any) -> Any:
        return self._fitter.conditional_probability_alive(frequency, recency, T)

    def conditional_expected_purchases(self, t: Any, frequency: Any, recency: Any, T: Any) -> Any:
        ages = np.asarray(t, dtype=np.float64) / self._per_unit
        predict = self._fitter.conditional_expected_number_of_purchases_up_to_time
        return predict(ages, frequency, recency, T)


def _tracking_freq(freq: str) -> str:
    if freq not in _TRACKING_FREQ:
        raise ArgumentError(
            f"freq must be one of {list(_TRACKING_FREQ)} (day, week, month, quarter, year) "
            f"for the crmmodels tracking functions; got {freq!r}."
        )
    return freq


def expected_cumulative_transactions(
    model: Any,
    transactions: pd.DataFrame,
    datetime_col: str,
    customer_id_col: str,
    t: int,
    datetime_format: str | None = None,
    freq: str = "D",
    freq_multiplier: int = 1,
    set_index_date: bool = False,
) -> pd.DataFrame:
    """Actual and expected cumulative repeat transactions (lifetimes' definition).

    Each cohort of customers with a first purchase in period ``k`` contributes its size
    times ``model.expected_number_of_purchases_up_to_time`` of its age; actual repeat
    transactions count distinct customer-periods after the first. Computed by
    :func:`crmmodels.clv.cumulative_transactions` on the first ``t`` periods.

    Returns
    -------
    pandas.DataFrame
        Columns ``actual`` and ``predicted``; ``t // freq_multiplier`` rows.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmmodels.compat.lifetimes import BetaGeoFitter
    >>> bgf = BetaGeoFitter()
    >>> bgf.params_ = pd.Series({"r": 0.24, "alpha": 4.41, "a": 0.79, "b": 2.43})
    >>> tx = pd.DataFrame({"id": [1, 1, 2], "date": ["2020-01-01", "2020-01-03", "2020-01-02"]})
    >>> expected_cumulative_transactions(bgf, tx, "date", "id", 3)["actual"].tolist()
    [0, 0, 1]
    """
    from crmmodels.clv._tracking import cumulative_transactions

    step = check_int(freq_multiplier, "freq_multiplier", low=1)
    periods = check_int(t, "t", low=1)
    dates, ords = _period_ordinals(
        transactions[datetime_col], _tracking_freq(freq), datetime_format
    )
    start = int(ords.min())
    keep = np.asarray(ords - start < periods)
    log = pd.DataFrame(
        {
            "id": np.asarray(transactions[customer_id_col])[keep],
            "date": dates.loc[keep].reset_index(drop=True),
        }
    )
    last_day = pd.Period(ordinal=start + periods - 1, freq=freq).end_time.normalize()
    table = cumulative_transactions(
        _PerPeriod(model, step),
        log,
        customer_col="id",
        date_col="date",
        observation_end=last_day,
        time_unit=freq,  # type: ignore[arg-type]
    ).to_frame()
    rows = table.iloc[step - 1 : (periods // step) * step : step]
    if set_index_date:
        index: Any = pd.PeriodIndex(rows["date"], freq=freq)
    else:
        index = range(0, periods // step)
    return pd.DataFrame(
        {
            "actual": rows["actual_cumulative"].to_numpy().astype(np.int64),
            "predicted": rows["expected_cumulative"].to_numpy(),
        },
        index=index,
    )


def calculate_alive_path(
    model: Any, transactions: pd.DataFrame, datetime_col: str, t: int, freq: str = "D"
) -> pd.Series:
    """P(alive) of one customer at each age ``0..t`` (periods since the first purchase).

    Computed by :func:`crmmodels.clv.alive_history` on the customer's purchase periods.

    Parameters
    ----------
    model : fitted BetaGeoFitter, ModifiedBetaGeoFitter or ParetoNBDFitter
    transactions : pandas.DataFrame
        The customer's transactions.
    datetime_col : str
    t : int
        Last age.
    freq : str
        Period of the grid.

    Returns
    -------
    pandas.Series
        P(alive) by age (index 0, 1, ...).

    Examples
    --------
    >>> import pandas as pd
    >>> from crmmodels.compat.lifetimes import BetaGeoFitter
    >>> bgf = BetaGeoFitter()
    >>> bgf.params_ = pd.Series({"r": 0.24, "alpha": 4.41, "a": 0.79, "b": 2.43})
    >>> tx = pd.DataFrame({"date": ["2020-01-01", "2020-01-03"]})
    >>> calculate_alive_path(bgf, tx, "date", 4).round(3).tolist()
    [1.0, 1.0, 0.755, 0.72, 0.687]
    """
    from crmmodels.clv._tracking import alive_history

    _, ords = _period_ordinals(transactions[datetime_col], freq, None)
    offset = np.unique(ords - ords.min()).astype(np.float64)
    length = max(int(offset.max()) + 1, int(t) + 1)
    path = alive_history(_PerPeriod(model), offset, ages=np.arange(length, dtype=np.float64))
    return pd.Series(path.to_frame()["p_alive"].to_numpy(), index=range(length))
