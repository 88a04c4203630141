"""Rows that stand for several customers: the counts of a table of distinct rows.

A fit or a check on a lazy engine reads the distinct rows of the columns it needs and
their counts (:func:`crmmodels.engines.distinct_rows`). The checks of the models count
bad *customers*, so while such a table is read they weigh each row by its count:
:func:`counted_rows` opens the scope, :func:`set_counts` records the counts of the
table read, and :func:`count_rows` / :func:`n_rows` are what the checks call.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["count_rows", "counted_rows", "counting", "n_rows", "row_counts", "set_counts"]

FloatArray = npt.NDArray[np.float64]


class _Scope:
    __slots__ = ("counts",)

    def __init__(self) -> None:
        self.counts: FloatArray | None = None


_SCOPE: ContextVar[_Scope | None] = ContextVar("crmmodels_row_counts", default=None)


@contextmanager
def counted_rows(enabled: bool = True) -> Iterator[None]:
    """A scope in which a frame read may be a table of distinct rows with counts.

    With ``enabled=False`` no scope is opened (for a fit given a weights array, whose
    rows must stay the frame's rows).

    Examples
    --------
    >>> import numpy as np
    >>> with counted_rows():
    ...     set_counts(np.array([3.0, 1.0]))
    ...     count_rows(np.array([True, False]))
    3
    >>> count_rows(np.array([True, False]))
    1
    """
    if not enabled:
        yield
        return
    token = _SCOPE.set(_Scope())
    try:
        yield
    finally:
        _SCOPE.reset(token)


def counting() -> bool:
    """Whether a :func:`counted_rows` scope is open."""
    return _SCOPE.get() is not None


def set_counts(counts: Any) -> None:
    """Record the counts of the distinct rows read in the open scope (no-op outside one)."""
    scope = _SCOPE.get()
    if scope is not None:
        scope.counts = np.asarray(counts, dtype=np.float64)


def row_counts() -> FloatArray | None:
    """The counts recorded in the open scope, or None."""
    scope = _SCOPE.get()
    return None if scope is None else scope.counts


def count_rows(mask: Any) -> int:
    """The number of customers among the rows where ``mask`` holds.

    Outside a scope with counts (or for a mask of another length) this is the number of
    rows; inside, the sum of the counts of those rows.
    """
    flat = np.asarray(mask, dtype=bool).ravel()
    counts = row_counts()
    if counts is None or counts.size != flat.size:
        return int(np.count_nonzero(flat))
    return round(float(counts[flat].sum()))


def n_rows(size: int) -> int:
    """The number of customers behind ``size`` rows read (the sum of counts in a scope)."""
    counts = row_counts()
    if counts is None or counts.size != size:
        return int(size)
    return round(float(counts.sum()))
