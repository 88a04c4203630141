"""Exceptions raised by crmmodels.

Every exception derives from :class:`CRMModelsError` and from the built-in exception
that matches its meaning, so callers can catch either::

    CRMModelsError (Exception)
    ├── SchemaError (ValueError)        missing, misnamed or mistyped columns
    ├── DataError (ValueError)          bad values: nulls, negatives, out of range, empty
    │   └── ArgumentError (DataError, TypeError)  an argument of the wrong type or value
    ├── ConvergenceError (RuntimeError) a likelihood fit did not converge
    └── NotFittedError (AttributeError) a model was used before ``fit``

    CRMModelsWarning (UserWarning)
    ├── BoundaryWarning (CRMModelsWarning, RuntimeWarning)
    │                                   a fit ended at a limiting (boundary) model
    ├── SkippedStepWarning (CRMModelsWarning)
    │                                   a convenience function skipped a model step
    └── EmptyQuadrantWarning (CRMModelsWarning)
                                        a quadrant split left a quadrant without customers

Messages name the column or argument, the problem, how many rows are affected and the
first offending example, and suggest a fix where one is known.

Examples
--------
>>> from crmmodels.errors import DataError, CRMModelsError
>>> issubclass(DataError, ValueError) and issubclass(DataError, CRMModelsError)
True
"""

from __future__ import annotations

import difflib
import sys
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

__all__ = [
    "ArgumentError",
    "BoundaryWarning",
    "CRMModelsError",
    "CRMModelsWarning",
    "ConvergenceError",
    "DataError",
    "EmptyQuadrantWarning",
    "NotFittedError",
    "SchemaError",
    "SkippedStepWarning",
    "bad_rows_message",
    "missing_column_message",
    "warn",
]


class CRMModelsError(Exception):
    """Base class of every error raised by crmmodels."""


class SchemaError(CRMModelsError, ValueError):
    """A required column is missing, misnamed or has the wrong type."""


class DataError(CRMModelsError, ValueError):
    """Values are invalid: nulls, negatives, out of range, unordered or empty input."""


class ArgumentError(DataError, TypeError):
    """A function argument has the wrong type or an invalid value.

    It is a :class:`DataError` (and so a ``ValueError``) and a ``TypeError``, so code that
    catches either built-in keeps working.
    """


class ConvergenceError(CRMModelsError, RuntimeError):
    """A maximum-likelihood fit did not converge.

    Parameters
    ----------
    message : str
        Human-readable description.
    diagnostics : dict, optional
        Optimiser diagnostics (gradient norm, iterations, message).
    """

    def __init__(self, message: str, diagnostics: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.diagnostics: dict[str, Any] = dict(diagnostics or {})


class NotFittedError(CRMModelsError, AttributeError):
    """A model was used before it was fitted."""


def bad_rows_message(column: str, problem: str, n_bad: int, example: object, fix: str = "") -> str:
    """Build the standard message for invalid values in a column.

    Parameters
    ----------
    column : str
        Column (or argument) holding the bad values.
    problem : str
        What is wrong, e.g. ``"is negative"``.
    n_bad : int
        Number of offending rows.
    example : object
        The first offending value or row.
    fix : str, optional
        How to fix it.

    Returns
    -------
    str
        The message.

    Examples
    --------
    >>> bad_rows_message("amount", "is negative", 3, -2.5)
    "column 'amount' is negative in 3 rows (first example: -2.5)."
    """
    rows = "row" if n_bad == 1 else "rows"
    msg = f"column '{column}' {problem} in {n_bad} {rows} (first example: {example!r})."
    return f"{msg} {fix}" if fix else msg


def missing_column_message(missing: str, available: Iterable[str], what: str = "input") -> str:
    """Build the message for a missing column, suggesting close names.

    Parameters
    ----------
    missing : str
        The column that was asked for.
    available : iterable of str
        The columns the frame has.
    what : str, optional
        What the frame is (``"transactions"``).

    Returns
    -------
    str
        The message.

    Examples
    --------
    >>> print(missing_column_message("customer_id", ["customerid", "date"], "tx"))
    tx has no column 'customer_id'. Did you mean 'customerid'? Available: ['customerid', 'date'].
    """
    cols = [str(c) for c in available]
    close = difflib.get_close_matches(missing, cols, n=1, cutoff=0.6)
    hint = f" Did you mean '{close[0]}'?" if close else ""
    return f"{what} has no column '{missing}'.{hint} Available: {cols}."


class CRMModelsWarning(UserWarning):
    """Base class of every warning issued by crmmodels."""


class BoundaryWarning(CRMModelsWarning, RuntimeWarning):
    """A maximum-likelihood fit ended at a limiting model on the boundary.

    The message names the limit in plain words (for example "purchase rates show no
    heterogeneity"); the fitted model's ``diagnostics_["boundary"]`` holds the details.
    """


class SkippedStepWarning(CRMModelsWarning):
    """A function that fits a model for the caller skipped that step and fell back.

    Issued (never raised) when, for example, the BG/NBD fit inside
    :func:`crmmodels.quadrants.clv_quadrants_from_transactions` cannot be resolved on a
    very small customer base. The message says which step was skipped, why, and what was
    used instead; the result's ``notes`` repeat it.
    """


class EmptyQuadrantWarning(CRMModelsWarning):
    """A split left at least one of the four quadrants without customers.

    Usually a sign that a threshold sits on a pile of tied values (for example a median
    current value of 0 when most customers bought nothing in the window).
    """


_PACKAGE = str(Path(__file__).resolve().parent)


def warn(message: str, category: type[Warning] = CRMModelsWarning) -> None:
    """Issue a warning attributed to the caller's code, not to a line of crmmodels.

    The stack level is the first frame outside the package, so the warning shows the
    user's own call (``fit(...)``, ``clv_quadrants_from_transactions(...)``) whatever the
    depth of the call inside the library.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warn("a quadrant is empty")
    >>> caught[0].category.__name__, str(caught[0].message)
    ('CRMModelsWarning', 'a quadrant is empty')
    """
    level = 1
    frame = sys._getframe(1)
    while frame is not None and str(Path(frame.f_code.co_filename).resolve()).startswith(_PACKAGE):
        frame = frame.f_back  # type: ignore[assignment]
        level += 1
    warnings.warn(message, category, stacklevel=level + 1)
