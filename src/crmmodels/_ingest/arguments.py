"""Validation of scalar arguments at the public boundary.

Every public function checks its scalar arguments (numbers, whole numbers, levels,
choices, flags, column names) with these helpers, so that the same mistake gives the
same :class:`~crmmodels.errors.ArgumentError` everywhere: the argument's name, the rule,
the value received and, where one is known, the fix.

Examples
--------
>>> check_int(3, "k", low=1)
3
>>> check_int(4.5, "n_nodes", low=1)
Traceback (most recent call last):
...
crmmodels.errors.ArgumentError: n_nodes must be a whole number >= 1; got 4.5 (float).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import Any

import numpy as np

from crmmodels.errors import ArgumentError

__all__ = [
    "check_bool",
    "check_choice",
    "check_column_name",
    "check_int",
    "check_level",
    "check_number",
]


def _got(value: Any) -> str:
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"got {text} ({type(value).__name__})"


def _range_words(low: float | None, high: float | None, low_open: bool, high_open: bool) -> str:
    parts = []
    if low is not None:
        parts.append(f"{'>' if low_open else '>='} {low:g}")
    if high is not None:
        parts.append(f"{'<' if high_open else '<='} {high:g}")
    return " and ".join(parts)


def _end(fix: str) -> str:
    return f" {fix}" if fix else ""


def check_number(
    value: Any,
    name: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    fix: str = "",
) -> float:
    """Return ``value`` as a finite float, or raise :class:`ArgumentError`.

    Booleans, text, ``None`` and numbers too large for a float are refused.

    Parameters
    ----------
    value : Any
        The argument.
    name : str
        The argument's name, for the message.
    low, high : float, optional
        Bounds; inclusive unless ``low_open`` / ``high_open``.
    low_open, high_open : bool
        Whether the bounds exclude the bound itself.
    fix : str
        How to fix a bad value, appended to the message.

    Returns
    -------
    float

    Examples
    --------
    >>> check_number(0.1, "discount_rate", low=0)
    0.1
    >>> check_number("abc", "horizon", low=0, low_open=True)
    Traceback (most recent call last):
    ...
    crmmodels.errors.ArgumentError: horizon must be a finite number > 0; got 'abc' (str).
    """
    rule = _range_words(low, high, low_open, high_open)
    words = f"a finite number {rule}".rstrip()
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise ArgumentError(f"{name} must be {words}; {_got(value)}.{_end(fix)}")
    try:
        out = float(value)
    except OverflowError:
        raise ArgumentError(
            f"{name} must be {words}; {_got(value)}, too large for a float.{_end(fix)}"
        ) from None
    bad = not math.isfinite(out)
    bad = bad or (low is not None and (out <= low if low_open else out < low))
    bad = bad or (high is not None and (out >= high if high_open else out > high))
    if bad:
        raise ArgumentError(f"{name} must be {words}; {_got(value)}.{_end(fix)}")
    return out


def check_int(
    value: Any,
    name: str,
    *,
    low: int | None = None,
    high: int | None = None,
    fix: str = "",
) -> int:
    """Return ``value`` as an int, or raise :class:`ArgumentError`.

    Whole-valued floats (``4.0``) are accepted; fractions, booleans and text are not.

    Parameters
    ----------
    value : Any
        The argument.
    name : str
        The argument's name, for the message.
    low, high : int, optional
        Inclusive bounds.
    fix : str
        How to fix a bad value, appended to the message.

    Returns
    -------
    int

    Examples
    --------
    >>> check_int(200.0, "n_draws", low=2)
    200
    >>> check_int(0, "k", low=1)
    Traceback (most recent call last):
    ...
    crmmodels.errors.ArgumentError: k must be a whole number >= 1; got 0 (int).
    """
    rule = _range_words(low, high, False, False)
    words = f"a whole number {rule}".rstrip()
    if isinstance(value, (bool, np.bool_)):
        raise ArgumentError(f"{name} must be {words}; {_got(value)}.{_end(fix)}")
    if isinstance(value, numbers.Integral):
        out = int(value)
    elif isinstance(value, numbers.Real) and math.isfinite(float(value)):
        as_float = float(value)
        if not as_float.is_integer():
            raise ArgumentError(f"{name} must be {words}; {_got(value)}.{_end(fix)}")
        out = int(as_float)
    else:
        raise ArgumentError(f"{name} must be {words}; {_got(value)}.{_end(fix)}")
    if (low is not None and out < low) or (high is not None and out > high):
        raise ArgumentError(f"{name} must be {words}; {_got(value)}.{_end(fix)}")
    return out


def check_level(value: Any, name: str = "level", fix: str = "") -> float:
    """Return a probability level strictly between 0 and 1 (a confidence level, a share).

    Examples
    --------
    >>> check_level(0.9)
    0.9
    >>> check_level("0.9")
    Traceback (most recent call last):
    ...
    crmmodels.errors.ArgumentError: level must be a finite number > 0 and < 1; got '0.9' (str).
    """
    return check_number(value, name, low=0.0, high=1.0, low_open=True, high_open=True, fix=fix)


def check_choice(value: Any, name: str, choices: Iterable[Any]) -> Any:
    """Return ``value`` if it is one of ``choices``, else raise :class:`ArgumentError`.

    Examples
    --------
    >>> check_choice("warn", "on_nonconvergence", ["raise", "warn"])
    'warn'
    >>> check_choice(["D"], "period", ["D", "W"])
    Traceback (most recent call last):
    ...
    crmmodels.errors.ArgumentError: period must be one of ['D', 'W']; got ['D'] (list).
    """
    options = list(choices)
    try:
        ok = any(value == c and type(value) is type(c) for c in options)
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ArgumentError(f"{name} must be one of {options}; {_got(value)}.")
    return value


def check_bool(value: Any, name: str) -> bool:
    """Return ``value`` if it is a bool (numpy's included), else raise :class:`ArgumentError`.

    Examples
    --------
    >>> check_bool(True, "progress")
    True
    """
    if not isinstance(value, (bool, np.bool_)):
        raise ArgumentError(f"{name} must be True or False; {_got(value)}.")
    return bool(value)


def check_column_name(value: Any, name: str) -> str:
    """Return a column-name argument if it is a non-empty string.

    Examples
    --------
    >>> check_column_name("amount", "amount_col")
    'amount'
    >>> check_column_name("", "amount_col")
    Traceback (most recent call last):
    ...
    crmmodels.errors.ArgumentError: amount_col must be a column name (non-empty text); got '' (str).
    """
    if not isinstance(value, str) or not value:
        raise ArgumentError(f"{name} must be a column name (non-empty text); {_got(value)}.")
    return value


def validation_message(exc: Any, what: str) -> str:
    """One sentence per field from a pydantic ``ValidationError`` (``field 'r': ...``).

    Configuration objects (rules, segment tables) are pydantic models; their errors reach
    the user as :class:`ArgumentError` with this text instead of pydantic's own report.

    Examples
    --------
    >>> from pydantic import BaseModel, ValidationError
    >>> class Rule(BaseModel):
    ...     segment: str
    >>> try:
    ...     Rule(segment=1)
    ... except ValidationError as exc:
    ...     print(validation_message(exc, "rule"))
    rule is not valid: field 'segment': Input should be a valid string.
    """
    parts = []
    for err in exc.errors():
        loc = ".".join(str(x) for x in err["loc"])
        msg = str(err["msg"]).removeprefix("Value error, ")
        parts.append(f"field '{loc}': {msg}" if loc else msg)
    return f"{what} is not valid: " + "; ".join(parts) + "."
