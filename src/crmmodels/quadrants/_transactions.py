"""CLV quadrants from a transaction log: summary, BG/NBD, Gamma-Gamma, CLV, split."""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Mapping
from typing import Any

import narwhals.stable.v2 as nw
import numpy as np
import numpy.typing as npt
import pandas as pd

from crmmodels._ingest.arguments import check_number
from crmmodels._ingest.dates import to_timestamp
from crmmodels._ingest.frames import day_number, to_narwhals, to_pandas
from crmmodels._ingest.log import local_log
from crmmodels._ingest.periods import Period, check_period, is_calendar, unit_name
from crmmodels.errors import ArgumentError, ConvergenceError, DataError, SkippedStepWarning
from crmmodels.quadrants._result import QuadrantResult
from crmmodels.quadrants._split import clv_quadrants, parse_split

__all__ = ["clv_quadrants_from_transactions", "current_values", "current_values_of_log"]


def current_values(
    transactions: Any,
    *,
    customer_col: str,
    date_col: str,
    amount_col: str,
    observation_end: Any,
    current_window_days: float,
) -> tuple[pd.DataFrame, pd.Timestamp]:
    """Value per customer in the last ``current_window_days`` days, summed engine-side.

    Days are those of the data's local calendar; a timezone-aware ``observation_end`` is
    read in the data's time zone (UTC for naive data), as in ``summarize_transactions``.
    """
    frame, last, tz = local_log(
        transactions,
        customer_col=customer_col,
        date_col=date_col,
        amount_col=amount_col,
        date_format=None,
    )
    if observation_end is None:
        end = last.normalize()
    else:
        end = to_timestamp(observation_end, "observation_end", tz=tz or "UTC").normalize()
    current = current_values_of_log(
        frame,
        customer_col=customer_col,
        date_col=date_col,
        amount_col=amount_col,
        end=end,
        current_window_days=current_window_days,
    )
    return current, end


def current_values_of_log(
    frame: Any,
    *,
    customer_col: str,
    date_col: str,
    amount_col: str,
    end: pd.Timestamp,
    current_window_days: float,
) -> pd.DataFrame:
    """:func:`current_values` of a validated log (narwhals, local dates) up to day ``end``.

    :func:`crmmodels.analyze` calls it on the log it validated once.
    """
    days = day_number(nw.col(date_col))
    end_day = int((end - _EPOCH).days)
    cutoff = end_day - float(current_window_days)
    in_window = (days > cutoff) & (days <= end_day)
    # row-wise first, then a plain sum: a conditional inside ``agg`` is not honoured by
    # every narwhals backend
    agg = (
        frame.select(
            nw.col(customer_col),
            nw.when(in_window).then(nw.col(amount_col)).otherwise(0).alias("current_value"),
        )
        .group_by(customer_col)
        .agg(nw.col("current_value").sum())
    )
    return to_pandas(agg)


_EPOCH = pd.Timestamp("1970-01-01")


def _fit_or_skip(model: Any, data: pd.DataFrame) -> tuple[Any, str | None]:
    """Fit ``model`` on ``data``; (None, reason) when the data cannot support the fit.

    Only the reasons a valid log can produce are caught: no convergence (e.g. a limit
    that the fit cannot resolve on a handful of customers) and a summary the model
    cannot use (e.g. no repeat buyers for the spend model). Warnings of the fit (such
    as :class:`~crmmodels.errors.BoundaryWarning`) reach the caller unchanged.
    """
    try:
        return model.fit(data), None
    except (ConvergenceError, DataError) as exc:
        return None, str(exc)


def _boundary_note(name: str, model: Any) -> str | None:
    """A plain note when a fitted model ended at a limiting (boundary) solution."""
    diagnostics = getattr(model, "diagnostics_", None)
    boundary = diagnostics.get("boundary") if isinstance(diagnostics, dict) else None
    if not boundary:
        return None
    text = boundary.get("description", boundary) if isinstance(boundary, Mapping) else boundary
    return f"the {name} fit ended at a limiting model ({text}); see its diagnostics_['boundary']."


def clv_quadrants_from_transactions(
    transactions: Any,
    *,
    customer_col: str = "customer_id",
    date_col: str = "date",
    amount_col: str = "amount",
    observation_end: Any = None,
    current_window_days: float = 365,
    horizon: float = 52.0,
    discount_rate: float = 0.10,
    discount_period: float = 52.0,
    time_unit: str | int = "W",
    split: Any = "positive_median",
) -> QuadrantResult:
    r"""CLV quadrants straight from a transaction log (summary, BG/NBD, Gamma-Gamma, CLV).

    The log is summarised per customer (day grid, ``recency`` and ``T`` in
    ``time_unit``), a BG/NBD transaction model and a Gamma-Gamma spend model are fitted
    on the summary, and each customer's potential value is the CLV over ``horizon``.
    The current value is the customer's spend in the last ``current_window_days`` days
    up to ``observation_end``. Then :func:`clv_quadrants` splits the two axes.

    Parameters
    ----------
    transactions : DataFrame-like
        Transaction log on any engine, one row per purchase.
    customer_col, date_col, amount_col : str
        Column names (dates as date/datetime or ISO strings).
    observation_end : date-like, optional
        End of the observation (default: the last purchase date). Days are those of
        the data's local calendar; a timezone-aware value is converted to the data's
        time zone first (to UTC for naive dates), as in
        :func:`crmmodels.transactions.summarize_transactions`.
    current_window_days : float, default 365
        Length of the window of the current value, in days.
    horizon : float, default 52
        CLV horizon in ``time_unit`` (52 weeks: one year).
    discount_rate : float, default 0.10
        Discount rate per ``discount_period``.
    discount_period : float, default 52
        Length of the discounting period in ``time_unit`` (52 weeks: an annual rate).
    time_unit : str or int, default "W"
        Unit of recency, T, ``horizon`` and ``discount_period``: a fixed-length unit of
        the period vocabulary (:mod:`crmmodels._ingest.periods`), ``"W"`` (weeks),
        ``"D"`` (days) or a whole number of days. Months, quarters and years are
        refused: their lengths differ, and the models count time in equal units.
    split : rule, default "positive_median"
        Threshold rules, as in :func:`clv_quadrants`. The default splits each axis at
        the median of its positive values: most customers usually spent nothing in the
        current window, and the plain median (0) would make all of them "high".

    Returns
    -------
    QuadrantResult
        With ``bgnbd``, ``gamma_gamma``, ``customer_summary`` (the summary with
        ``current_value`` and ``potential_value``), ``potential_method`` and ``notes``.

    Raises
    ------
    SchemaError, DataError
        Invalid transactions (see :func:`crmmodels.transactions.summarize_transactions`)
        or arguments.

    Warns
    -----
    SkippedStepWarning
        A model could not be fitted on this log (typically a customer base of a few
        customers): the step is skipped and the fallback below is used. The message and
        ``notes`` say which step and why.
    BoundaryWarning
        From a fit that ended at a limiting model; passed on unchanged.
    EmptyQuadrantWarning
        The split leaves a quadrant empty (see :func:`clv_quadrants`).

    Notes
    -----
    Potential value: :func:`crmmodels.clv.customer_lifetime_value`, the discounted
    expected purchases over the horizon times the Gamma-Gamma conditional expected spend
    (``potential_method`` says so, with the settings). Repeat buyers whose mean repeat
    spend is not positive (refunds, free orders) carry no spend information for the
    Gamma-Gamma model: they are left out of its fit and valued at the population mean
    spend, like customers without repeat purchases (their count is in
    ``potential_method``).

    Small customer bases: when the Gamma-Gamma fit is impossible (no repeat buyers, no
    convergence) every purchase is valued at the log's mean spend per purchase day;
    when the BG/NBD fit is impossible there is no CLV and the potential value is the
    customer's historical value (total spend up to ``observation_end``). Both are
    announced by a :class:`~crmmodels.errors.SkippedStepWarning` and kept in ``notes``;
    the function does not fail on a valid log.

    Examples
    --------
    >>> from crmmodels.datasets import load_cdnow_sample
    >>> tx = load_cdnow_sample()
    >>> q = clv_quadrants_from_transactions(tx, observation_end="1998-06-30")
    >>> q.n_customers, q.bgnbd is not None, q.notes
    (2357, True, ())
    >>> q.current_rule
    'positive_median'
    """
    unit = _check_time_unit(time_unit)
    current_window_days = check_number(
        current_window_days, "current_window_days", low=0.0, low_open=True
    )
    horizon = check_number(horizon, "horizon", low=0.0, low_open=True)
    discount_rate = check_number(discount_rate, "discount_rate", low=0.0)
    discount_period = check_number(discount_period, "discount_period", low=0.0, low_open=True)
    parse_split(split)  # a bad split fails before any fit
    columns = {"customer_col": customer_col, "date_col": date_col, "amount_col": amount_col}
    summary, end = _summary_with_current_value(
        transactions, columns, observation_end, current_window_days, unit
    )
    chain = _value_chain(
        summary,
        end,
        customer_col=customer_col,
        horizon=horizon,
        discount_rate=discount_rate,
        discount_period=discount_period,
        time_unit=unit,
    )
    for note in chain.skipped:
        warnings.warn(f"clv_quadrants_from_transactions: {note}", SkippedStepWarning, stacklevel=2)
    summary["potential_value"] = chain.potential
    result = clv_quadrants(
        summary,
        current_col="current_value",
        potential_col="potential_value",
        customer_col=customer_col,
        split=split,
    )
    return dataclasses.replace(
        result,
        _customer_summary=summary,
        _bgnbd=chain.bgnbd,
        _gamma_gamma=chain.gamma_gamma,
        _potential_method=chain.method,
        _notes=chain.notes,
    )


def _check_time_unit(time_unit: Any) -> Period:
    """A fixed-length unit of the period vocabulary: "D", "W" or a number of days."""
    unit = check_period(time_unit, "time_unit")
    if is_calendar(unit):
        raise ArgumentError(
            f"time_unit must have a fixed length: 'W' (weeks), 'D' (days) or a whole "
            f"number of days such as 30; got {time_unit!r}. Months, quarters and years have "
            "unequal lengths, and the BG/NBD and CLV calculations count time in equal units."
        )
    return unit


def _summary_with_current_value(
    transactions: Any,
    columns: dict[str, str],
    observation_end: Any,
    current_window_days: float,
    time_unit: Period,
) -> tuple[pd.DataFrame, pd.Timestamp]:
    """The customer summary (pandas) with each customer's current value, and the end day."""
    from crmmodels.transactions import summarize_transactions

    summary_native = summarize_transactions(
        transactions,
        customer_col=columns["customer_col"],
        date_col=columns["date_col"],
        amount_col=columns["amount_col"],
        observation_end=observation_end,
        time_unit=time_unit,
    )
    summary = to_pandas(to_narwhals(summary_native, what="summary"))
    current, end = current_values(
        transactions,
        **columns,
        observation_end=observation_end,
        current_window_days=current_window_days,
    )
    merged = summary.merge(current, on=columns["customer_col"], how="left", validate="one_to_one")
    return merged, end


@dataclasses.dataclass(frozen=True)
class _Chain:
    """What the model chain gave: the potential value, how, the models and the notes."""

    potential: npt.NDArray[np.float64]
    method: str
    bgnbd: Any
    gamma_gamma: Any
    notes: tuple[str, ...]
    skipped: tuple[str, ...]


def _value_chain(
    summary: pd.DataFrame,
    end: pd.Timestamp,
    *,
    customer_col: str,
    horizon: float,
    discount_rate: float,
    discount_period: float,
    time_unit: str | int,
) -> _Chain:
    """Fit BG/NBD and Gamma-Gamma (skipping what the log cannot support) and value.

    Without a BG/NBD model the potential is the historical value; without a Gamma-Gamma
    model every purchase is valued at the log's mean spend per purchase day.
    """
    from crmmodels.clv import BGNBD, GammaGamma

    x = summary["frequency"].to_numpy(dtype=np.float64)
    m = summary["monetary_value"].to_numpy(dtype=np.float64)
    no_spend_info = (x > 0) & (m <= 0)
    n_customers = len(summary)
    base = f"on this log of {n_customers} customer{'s' if n_customers != 1 else ''}"
    notes: list[str] = []  # skipped steps (warned) and boundary fits, in order
    skipped: list[str] = []
    bg, bg_reason = _fit_or_skip(BGNBD(), summary)
    gg: Any = None
    if bg is None:
        skipped.append(
            f"BG/NBD fit skipped {base}: {bg_reason} Without a transaction model there is "
            f"no CLV: the potential value is each customer's historical value (total "
            f"spend up to {end.date()}), and no Gamma-Gamma model was fitted."
        )
        notes += skipped
        potential = summary["total_value"].to_numpy(dtype=np.float64)
        method = f"historical value (total spend up to {end.date()}); BG/NBD fit skipped"
    else:
        notes += [n for n in (_boundary_note("BG/NBD", bg),) if n]
        gg, gg_reason = _fit_or_skip(GammaGamma(), summary[~no_spend_info])
        if gg is None:
            purchase_days = float((x + 1.0).sum())
            mean_spend = float(summary["total_value"].sum()) / purchase_days
            skipped.append(
                f"Gamma-Gamma fit skipped {base}: {gg_reason} Every purchase is valued at "
                f"the log's mean spend per purchase day, {mean_spend:.6g}."
            )
            notes += skipped
            spend: Any = mean_spend
            no_spend_info = np.zeros(n_customers, dtype=bool)
        else:
            notes += [n for n in (_boundary_note("Gamma-Gamma", gg),) if n]
            spend = gg
        potential, method = _potential(
            bg,
            spend,
            summary,
            no_spend_info,
            customer_col=customer_col,
            horizon=horizon,
            discount_rate=discount_rate,
            discount_period=discount_period,
            time_unit=time_unit,
        )
    n_bad = int(no_spend_info.sum())
    if n_bad:
        method += (
            f"; {n_bad} repeat buyer{'s' if n_bad > 1 else ''} with non-positive mean "
            "spend valued at the population mean spend"
        )
    return _Chain(potential, method, bg, gg, tuple(notes), tuple(skipped))


def _potential(
    bg: Any,
    spend_model: Any,
    summary: pd.DataFrame,
    no_spend_info: npt.NDArray[np.bool_],
    *,
    customer_col: str,
    horizon: float,
    discount_rate: float,
    discount_period: float,
    time_unit: str | int,
) -> tuple[npt.NDArray[np.float64], str]:
    """Potential value per customer (CLV) and how it was computed.

    ``spend_model`` is the fitted Gamma-Gamma model or, when its fit was skipped, a
    constant spend per purchase. Repeat buyers without spend information are valued at
    the population mean spend.
    """
    from crmmodels.clv import customer_lifetime_value

    constant = isinstance(spend_model, float)
    mean_spend = spend_model if constant else spend_model.population_mean_spend()
    spend_words = (
        f"constant spend {spend_model:.6g} per purchase (Gamma-Gamma fit skipped)"
        if constant
        else "Gamma-Gamma"
    )
    out = np.empty(len(summary))
    cols = [customer_col, "frequency", "recency", "T", "monetary_value"]
    for mask, spend in ((~no_spend_info, spend_model), (no_spend_info, mean_spend)):
        if not mask.any():
            continue
        res = customer_lifetime_value(
            bg,
            spend,
            summary.loc[mask, cols],
            horizon=horizon,
            discount_rate=discount_rate,
            discount_period=discount_period,
            time_unit=time_unit,
            customer_col=customer_col,
        )
        out[mask] = res.to_frame()["clv"].to_numpy(dtype=np.float64)
    words = unit_name(time_unit)
    method = (
        f"CLV over {horizon:g} {words} (BG/NBD + {spend_words}, discount "
        f"{discount_rate:g} per {discount_period:g} {words})"
    )
    return out, method
