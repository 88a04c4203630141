"""Customer summary kernel: purchase rows -> per-customer period statistics.

Pure numpy; no pandas or narwhals. Used for eager inputs, where the columns can be viewed
as numpy arrays without copying; lazy inputs are aggregated on their own engine instead.

The rows are read in blocks of :data:`BLOCK` rows, so every temporary is a few hundred
kilobytes that stays in cache and is reused; the one array as long as the input is the
sort key, stored as ``uint32`` whenever the (customer, period) grid fits in 32 bits.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["BLOCK", "SummaryArrays", "summarize_log"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BLOCK = 1 << 18
_MAX_INT64 = np.iinfo(np.int64).max


@dataclass(frozen=True)
class SummaryArrays:
    """Per-customer statistics of the customers that occur, in increasing code order.

    Attributes
    ----------
    codes : int array
        Customer codes that occur (``0 .. n_codes - 1``), sorted.
    n_periods : int array
        Distinct purchase periods (a fresh array the caller may modify).
    first_period, last_period : int array
        First and last purchase period, counted from ``period_lo``.
    n_rows : int array
        Purchase rows.
    period_lo : int
        Period number of the first purchase period in the data.
    first_time : int array
        Smallest raw time stamp (the input's datetime ticks) per customer.
    total : float array or None
        Sum of amounts.
    first_amount : float array or None
        Sum of amounts in the first purchase period.
    """

    codes: IntArray
    n_periods: IntArray
    first_period: npt.NDArray[Any]
    last_period: npt.NDArray[Any]
    period_lo: int
    n_rows: IntArray
    first_time: IntArray
    total: FloatArray | None
    first_amount: FloatArray | None


def _blocks(n: int) -> Iterator[slice]:
    for start in range(0, n, BLOCK):
        yield slice(start, min(start + BLOCK, n))


@dataclass(frozen=True)
class _Rows:
    """How to turn a block of input rows into customer codes and relative period numbers."""

    ids: npt.NDArray[np.integer]
    offset: npt.NDArray[np.int64]  # subtracted from the ids (wrapping, so uint64 works)
    ticks: IntArray
    ticks_per_day: int
    day_lo: int
    table: IntArray | None  # relative period of day ``day_lo + i``; None for day periods

    def codes(self, rows: slice) -> IntArray:
        """Codes of a block of rows: a view of the ids (never written) when they are the codes."""
        if self.ids.dtype == np.int64 and not self.offset:
            return self.ids[rows]  # type: ignore[return-value]
        c = self.ids[rows].astype(np.int64)
        c -= self.offset
        return c

    def periods(self, rows: slice) -> IntArray:
        days = self.ticks[rows] // self.ticks_per_day
        days -= self.day_lo
        return days if self.table is None else self.table[days]


def summarize_log(
    ids: npt.NDArray[np.integer],
    ticks: IntArray,
    amounts: FloatArray | None,
    *,
    n_codes: int,
    ticks_per_day: int,
    day_periods: Callable[[IntArray], IntArray] | None = None,
    offset: int = 0,
) -> SummaryArrays:
    """Aggregate purchase rows to customers without a Python loop over rows.

    Parameters
    ----------
    ids : int array
        Customer of each row; ``ids - offset`` is its code in ``0 .. n_codes - 1``.
    ticks : int64 array
        Purchase time of each row in datetime ticks (e.g. nanoseconds since 1970).
    amounts : float array, optional
        Purchase value of each row.
    n_codes : int
        Number of possible codes. Codes that never occur are left out of the result.
    ticks_per_day : int
        Ticks in one day: the day number of a row is ``ticks // ticks_per_day``.
    day_periods : callable, optional
        Maps an array of day numbers (days since 1970-01-01) to period numbers that
        grow by 1 from one period to the next (weeks, months...). It is called once, on
        the days from the first to the last purchase. Without it the periods are days.
    offset : int, default 0
        Subtracted from ``ids`` to give the codes.

    Returns
    -------
    SummaryArrays

    Notes
    -----
    Distinct (customer, period) cells are counted by sorting the combined key
    ``code * span + (period - first period)`` in place and counting the keys that
    repeat their predecessor. Each customer's block of sorted keys gives its row count
    and its first and last period; a second pass over the rows sums the amounts and
    finds the first period's amount and time with ``ufunc.at`` on per-customer arrays.

    Examples
    --------
    >>> import numpy as np
    >>> day = 86_400
    >>> s = summarize_log(np.array([0, 0, 0, 2]), np.array([5, 5, 9, 7]) * day + 10,
    ...                   np.array([1.0, 2.0, 4.0, 3.0]), n_codes=3, ticks_per_day=day)
    >>> s.codes.tolist(), s.n_periods.tolist(), s.period_lo
    ([0, 2], [2, 1], 5)
    >>> s.first_period.tolist(), s.last_period.tolist()
    ([0, 2], [4, 2])
    >>> s.total.tolist(), s.first_amount.tolist(), (s.first_time - 10).tolist()
    ([7.0, 3.0], [3.0, 3.0], [432000, 604800])
    """
    n = int(ticks.size)
    day_lo = int(ticks.min()) // ticks_per_day
    day_hi = int(ticks.max()) // ticks_per_day
    table: IntArray | None = None
    if day_periods is None:
        p_lo, span = day_lo, day_hi - day_lo + 1
    else:
        full = np.asarray(day_periods(np.arange(day_lo, day_hi + 1, dtype=np.int64)))
        p_lo = int(full[0])
        table = full.astype(np.int64) - p_lo
        span = int(table[-1]) + 1
    rows = _Rows(
        ids=ids,
        offset=np.asarray(offset, dtype=ids.dtype).astype(np.int64),
        ticks=ticks,
        ticks_per_day=int(ticks_per_day),
        day_lo=day_lo,
        table=table,
    )
    cells = _sorted_cells(rows, n, span, n_codes)
    first_t, first_amount, total = _row_pass(rows, cells, amounts, n_codes, span)
    codes = cells.codes

    def present(a: npt.NDArray[Any]) -> npt.NDArray[Any]:
        return a if codes.size == n_codes else a[codes]

    return SummaryArrays(
        codes=codes,
        n_periods=cells.n_periods,
        first_period=cells.first_rel,
        last_period=cells.last_rel,
        period_lo=p_lo,
        n_rows=cells.n_rows,
        first_time=present(first_t),
        total=None if total is None else present(total),
        first_amount=None if first_amount is None else present(first_amount),
    )


@dataclass(frozen=True)
class _Cells:
    """Per-customer results of the sorted (customer, period) keys."""

    codes: IntArray
    n_rows: IntArray
    n_periods: IntArray
    first_rel: npt.NDArray[Any]
    last_rel: npt.NDArray[Any]


def _sorted_cells(rows: _Rows, n: int, span: int, n_codes: int) -> _Cells:
    """Sort the keys ``code * span + period`` and read each customer's block of them."""
    key_type = np.uint32 if n_codes * span <= np.iinfo(np.uint32).max else np.int64
    key = np.empty(n, dtype=key_type)
    for block in _blocks(n):
        k = np.multiply(rows.codes(block), span)
        k += rows.periods(block)
        key[block] = k
    key.sort()
    # customer blocks of the sorted keys, and keys repeating their predecessor
    starts_parts: list[IntArray] = []
    repeat_parts: list[IntArray] = []
    prev_key, prev_code = -1, -1
    for block in _blocks(n):
        k = key[block].astype(np.int64)
        code = k // span
        before = np.empty_like(k)
        before[0] = prev_key
        before[1:] = k[:-1]
        repeat_parts.append(code[k == before])
        before[0] = prev_code
        before[1:] = code[:-1]
        starts_parts.append(np.flatnonzero(code != before) + block.start)
        prev_key, prev_code = int(k[-1]), int(code[-1])
    starts = np.concatenate(starts_parts)
    del starts_parts
    n_rows = np.diff(starts, append=n)
    first_key = key[starts]
    starts += n_rows
    starts -= 1
    last_key = key[starts]
    del key, starts
    codes = np.floor_divide(first_key, span, out=np.empty(first_key.size, dtype=np.int64))
    n_periods = np.bincount(
        np.searchsorted(codes, np.concatenate(repeat_parts)), minlength=codes.size
    )
    np.subtract(n_rows, n_periods, out=n_periods)
    return _Cells(codes, n_rows, n_periods, first_key % span, last_key % span)


def _row_pass(
    rows: _Rows, cells: _Cells, amounts: FloatArray | None, n_codes: int, span: int
) -> tuple[IntArray, FloatArray | None, FloatArray | None]:
    """First purchase time, first-period amount and total of each code, in one pass."""
    # the first-period table is as narrow as the span allows, so it stays in cache
    first_by_code = np.full(n_codes, 0, dtype=np.uint16 if span <= 1 << 16 else np.int64)
    first_by_code[cells.codes] = cells.first_rel
    first_t = np.full(n_codes, _MAX_INT64, dtype=np.int64)
    first_amount = None if amounts is None else np.full(n_codes, 0.0)
    total = None if amounts is None else np.full(n_codes, 0.0)
    for block in _blocks(rows.ticks.size):
        c = rows.codes(block)
        in_first = np.flatnonzero(rows.periods(block) == first_by_code.take(c))
        c_first = c.take(in_first)
        np.minimum.at(first_t, c_first, rows.ticks[block].take(in_first))
        if amounts is not None and first_amount is not None and total is not None:
            a = amounts[block]
            np.add.at(total, c, a)
            np.add.at(first_amount, c_first, a.take(in_first))
    return first_t, first_amount, total
