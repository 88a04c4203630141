"""Survival counts of subscriber cohorts: reading and checking them for the contractual models.

A cohort is a group of customers who started together; its survival series counts the
customers still subscribed at the start (period 0, the cohort size) and after each
renewal (periods 1, 2, ...). The contractual models (:mod:`._contractual`) read survival
series from a plain sequence, a dict of sequences, a
:class:`~crmmodels.retention.CohortRetentionResult` or a long frame with one row per
cohort and period, and check them here once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmmodels._ingest.arguments import check_number
from crmmodels._ingest.frames import check_columns, to_narwhals, to_pandas
from crmmodels.errors import ArgumentError, DataError, bad_rows_message
from crmmodels.retention._cohorts import CohortRetentionResult

__all__ = ["SurvivalData", "check_periods", "per_period_rate", "read_survivors"]

FloatArray = npt.NDArray[np.float64]

_FIX_INCREASE = (
    "A survival series counts the customers still subscribed after each renewal, so it "
    "can only fall or stay level; customers who come back after leaving are not "
    "survivors. Count, for each period, the customers active in every period so far."
)


@dataclass(frozen=True)
class SurvivalData:
    """Checked survival series: one float array of whole counts per cohort label.

    Attributes
    ----------
    cohorts : tuple
        Cohort labels, in the order given.
    survivors : tuple of numpy arrays
        Customers still there at periods ``0, 1, ..., n`` (``n`` differs by cohort).
    """

    cohorts: tuple[Any, ...]
    survivors: tuple[FloatArray, ...]

    @property
    def n_customers(self) -> int:
        """Customers at the start, summed over the cohorts."""
        return int(sum(s[0] for s in self.survivors))

    def likelihood_counts(self) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
        """``(t_lost, n_lost, t_alive, n_alive)`` pooled over cohorts, one row per period.

        Customers lost in period ``t`` (between the counts at ``t - 1`` and ``t``) and the
        customers still there at each cohort's last period (right censored), summed over
        the cohorts by period.
        """
        width = max(s.size for s in self.survivors)
        lost = np.zeros(width)
        alive = np.zeros(width)
        for s in self.survivors:  # one step per cohort (a handful), never per customer
            lost[1 : s.size] += s[:-1] - s[1:]
            alive[s.size - 1] += s[-1]
        t = np.arange(width, dtype=np.float64)
        keep_lost = lost > 0
        keep_alive = (alive > 0) & (t > 0)
        return t[keep_lost], lost[keep_lost], t[keep_alive], alive[keep_alive]

    def to_dict(self) -> dict[str, list[float]]:
        """JSON-friendly ``{str(cohort): [survivors, ...]}``."""
        return {str(c): s.tolist() for c, s in zip(self.cohorts, self.survivors, strict=True)}


def read_survivors(
    data: Any,
    *,
    cohort_col: str = "cohort",
    period_col: str = "periods_since",
    active_col: str = "active",
    what: str = "survivors",
) -> SurvivalData:
    """Read and check survival series from any of the accepted forms.

    Parameters
    ----------
    data : sequence, dict, CohortRetentionResult or DataFrame-like
        One cohort's counts (``[1000, 869, 743]``); a dict ``{cohort: counts}``; the
        output of :func:`crmmodels.retention.cohort_retention` (its ``counts``; cells not
        yet observable end a cohort's series); or a long frame on any engine with the
        columns ``cohort_col``, ``period_col`` (0, 1, 2, ...) and ``active_col``.
    cohort_col, period_col, active_col : str
        Columns of a long frame.
    what : str
        Name of the argument, for the messages.

    Returns
    -------
    SurvivalData

    Raises
    ------
    DataError
        A series that increases, starts at zero, is negative, not whole, missing inside
        the series (NaN), or shorter than two periods in every cohort; nobody lost.
    SchemaError
        A long frame without the named columns.

    Examples
    --------
    >>> d = read_survivors({"2024": [1000, 631, 468], "2025": [800, 500]})
    >>> d.cohorts, d.n_customers
    (('2024', '2025'), 1800)
    >>> read_survivors([1000, 900, 950])
    Traceback (most recent call last):
    ...
    crmmodels.errors.DataError: column 'survivors' increases from one period to the next \
in 1 row (first example: 'cohort 0, period 2: 950 after 900'). A survival series ...
    """
    series: dict[Any, FloatArray]
    column = what
    if isinstance(data, CohortRetentionResult):
        series = _from_wide(data.counts)
    elif isinstance(data, Mapping):
        series = {k: _vector(v, what) for k, v in data.items()}
    elif isinstance(data, (np.ndarray, pd.Series, list, tuple)):
        series = {0: _vector(data, what)}
    elif isinstance(data, Sequence) and not isinstance(data, (str, bytes)):
        series = {0: _vector(list(data), what)}
    else:
        series = _from_long(data, cohort_col, period_col, active_col, what)
        column = active_col
    if not series:
        raise DataError(f"{what} is empty: give at least one cohort with two or more periods.")
    return _checked(series, column)


def _vector(values: Any, what: str) -> FloatArray:
    try:
        out = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise DataError(
            f"{what} must hold numbers (customers still there per period); got {values!r:.80}."
        ) from None
    if out.ndim != 1:
        raise DataError(
            f"{what} must be one series per cohort; got an array of shape {out.shape}. "
            "Give several cohorts as a dict {cohort: counts}."
        )
    return out


def _strip_trailing_nan(s: FloatArray) -> FloatArray:
    seen = np.flatnonzero(~np.isnan(s))
    return s[: seen[-1] + 1] if seen.size else s[:0]


def _from_wide(counts: pd.DataFrame) -> dict[Any, FloatArray]:
    grid = counts.to_numpy(dtype=np.float64, na_value=np.nan)
    return {label: _strip_trailing_nan(row) for label, row in zip(counts.index, grid, strict=True)}


def _from_long(
    data: Any, cohort_col: str, period_col: str, active_col: str, what: str
) -> dict[Any, FloatArray]:
    frame = to_narwhals(data, what=what)
    check_columns(frame, [cohort_col, period_col, active_col], what=what)
    table = to_pandas(frame.select(cohort_col, period_col, active_col))
    period = pd.to_numeric(table[period_col], errors="coerce").to_numpy(np.float64)
    bad = ~np.isfinite(period) | (period < 0) | (period != np.floor(period))
    if bad.any():
        raise DataError(
            bad_rows_message(
                period_col,
                "is not a whole number >= 0",
                int(bad.sum()),
                table[period_col].to_numpy()[bad][0],
                "It counts the periods since the cohort started: 0, 1, 2, ...",
            )
        )
    active = pd.to_numeric(table[active_col], errors="coerce").to_numpy(np.float64)
    codes, labels = pd.factorize(table[cohort_col], sort=True)
    if (codes < 0).any():
        raise DataError(
            bad_rows_message(
                cohort_col,
                "is missing",
                int((codes < 0).sum()),
                None,
                "Every row needs the cohort it belongs to.",
            )
        )
    width = int(period.max()) + 1 if period.size else 0
    key = codes.astype(np.int64) * width + period.astype(np.int64)
    uniq, counts = np.unique(key, return_counts=True)
    if (counts > 1).any():
        first = int(uniq[counts > 1][0])
        raise DataError(
            bad_rows_message(
                f"{cohort_col}, {period_col}",
                "repeats a cohort and period",
                int((counts > 1).sum()),
                f"cohort {labels[first // width]}, period {first % width}",
                "Give one row per cohort and period.",
            )
        )
    grid = np.full((labels.size, width), np.inf)
    grid[codes, period.astype(np.int64)] = active  # NaN stays NaN, absent cells are inf
    out: dict[Any, FloatArray] = {}
    for i, label in enumerate(labels):  # one step per cohort
        row = grid[i]
        present = np.flatnonzero(row != np.inf)
        row = row[: present[-1] + 1]
        gaps = np.flatnonzero(row == np.inf)
        if gaps.size:
            raise DataError(
                bad_rows_message(
                    period_col,
                    "skips a period inside a cohort",
                    int(gaps.size),
                    f"cohort {label}, period {int(gaps[0])}",
                    "Give every period from 0 to the last one observed.",
                )
            )
        out[label] = row
    return out


def _checked(series: dict[Any, FloatArray], column: str) -> SurvivalData:
    problems: list[tuple[str, list[str], str]] = []
    nan, negative, fraction, zero_start, increase = [], [], [], [], []
    clean: dict[Any, FloatArray] = {}
    for label, raw in series.items():  # one step per cohort
        s = _strip_trailing_nan(raw)
        if s.size == 0:
            continue
        for p in np.flatnonzero(np.isnan(s)):
            nan.append(f"cohort {label}, period {int(p)}")
        for p in np.flatnonzero(s < 0):
            negative.append(f"cohort {label}, period {int(p)}: {s[p]:g}")
        rounded = np.round(s)
        for p in np.flatnonzero(np.abs(s - rounded) > 1e-6 * np.maximum(1.0, np.abs(s))):
            fraction.append(f"cohort {label}, period {int(p)}: {s[p]:g}")
        if s[0] == 0:
            zero_start.append(f"cohort {label}, period 0")
        for p in np.flatnonzero(np.diff(s) > 0) + 1:
            increase.append(f"cohort {label}, period {int(p)}: {s[p]:g} after {s[p - 1]:g}")
        clean[label] = rounded
    problems = [
        ("is missing (NaN) inside a series", nan,
         "Only periods not yet observed may be missing, at the end of a cohort's series."),
        ("is negative", negative, "Survivors are counts of customers."),
        ("is not a whole number", fraction,
         "Give counts of customers; multiply shares by the cohort size first."),
        ("starts at zero", zero_start,
         "Period 0 holds the cohort size: the customers who started; leave empty cohorts out."),
        ("increases from one period to the next", increase, _FIX_INCREASE),
    ]  # fmt: skip
    for problem, rows, fix in problems:
        if rows:
            raise DataError(bad_rows_message(column, problem, len(rows), rows[0], fix))
    if not clean or max(s.size for s in clean.values()) < 2:
        raise DataError(
            f"{column} has no cohort observed for two or more periods (period 0 and at least "
            "one renewal): there is nothing to learn the retention from."
        )
    data = SurvivalData(tuple(clean), tuple(clean.values()))
    if not any(np.any(s[1:] < s[:-1]) for s in clean.values()):
        raise DataError(
            f"{column} loses no customer in any cohort: the churn probability cannot be "
            "estimated (it would be zero). Give series covering periods with cancellations."
        )
    return data


def check_periods(t: Any, name: str, low: int) -> FloatArray:
    """Whole numbers of periods ``>= low`` as floats, or an :class:`ArgumentError`.

    Examples
    --------
    >>> check_periods([0, 3], "t", 0).tolist()
    [0.0, 3.0]
    """
    arr = np.asarray(t, dtype=np.float64)
    bad = ~np.isfinite(arr) | (arr < low) | (arr != np.floor(arr))
    if np.any(bad):
        raise ArgumentError(
            f"{name} must hold whole numbers of periods >= {low}; got "
            f"{np.atleast_1d(arr)[np.atleast_1d(bad)][0]!r}."
        )
    return arr


def per_period_rate(discount_rate: Any, discount_period: Any) -> float:
    """The rate per period of a rate per ``discount_period`` periods (both > 0).

    Examples
    --------
    >>> round(per_period_rate(0.1, 12), 6)
    0.007974
    """
    fix = "The expected lifetime is summed without end, so it needs a rate > 0."
    d = check_number(discount_rate, "discount_rate", low=0, low_open=True, fix=fix)
    span = check_number(discount_period, "discount_period", low=0, low_open=True)
    return float((1.0 + d) ** (1.0 / span) - 1.0)
