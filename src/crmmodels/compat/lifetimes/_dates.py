"""Dates and periods read as lifetimes reads them (shared by the compatibility helpers)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from crmmodels.errors import ArgumentError, DataError

__all__: list[str] = []

_PERIODS = ("D", "W", "M", "h", "min")


def _period(freq: str) -> Any:
    """Lifetimes' ``freq`` as a crmmodels period (``"H"`` is read as ``"h"``)."""
    code = {"H": "h", "T": "min"}.get(freq, freq)
    if code not in _PERIODS:
        raise DataError(
            f"freq={freq!r} is not supported by the crmmodels summaries; use one of "
            f"{list(_PERIODS)} (with freq_multiplier for other units of time)."
        )
    return code


def _end_date(value: Any, name: str, datetime_format: str | None) -> Any:
    """A date argument read as lifetimes reads it (``pandas.to_datetime``).

    Text is parsed with ``datetime_format`` when given, else by pandas (so ``"20150207"``
    and ``"2019-1-1"`` are dates, as in lifetimes); other values pass through.
    """
    if value is None or not isinstance(value, str):
        return value
    try:
        return pd.to_datetime(value, format=datetime_format)
    except (ValueError, TypeError) as exc:
        layout = f"the layout datetime_format={datetime_format!r}" if datetime_format else "text"
        raise ArgumentError(
            f"{name} must be a date in {layout} that pandas.to_datetime reads (e.g. "
            f"'2024-01-05'); got {value!r}."
        ) from exc


def _parse_dates(values: pd.Series, datetime_format: str | None) -> pd.Series:
    """``pandas.to_datetime`` as lifetimes calls it; whole numbers are read as text."""
    if datetime_format is not None and values.dtype.kind in "iu":
        values = values.astype(str)
    return pd.to_datetime(values, format=datetime_format)
