"""The lean pass of a model selection on an eager log: sorted (customer, period) keys.

:func:`crmmodels.clv._selection_data.split_log` needs, from an eager (pandas, polars,
pyarrow) log, the customers buying in each period of the grid (the tracking curve) and,
per customer, the first and last purchase period, the number of purchase periods and
the same two counts up to the calibration end. All of it comes from one array: the
key ``code * span + period`` of every row, sorted in place, stored as ``uint32`` when
the (customer, period) grid fits in 32 bits. Every other temporary is a block of
:data:`BLOCK` rows; the per-customer results are ``int32`` arrays (``int64`` only for
grids longer than 2**31 periods). The distinct calibration and whole-period histories
(frequency, recency and age in grid periods) are then compressed on integer keys, which
gives the rows, counts and order of :func:`crmmodels.kernels._optim.compress_rows`
without its per-column factorisations.

Measured on this machine (2 cores shared with other jobs, load average about 3),
``python benchmarks/selection_memory.py``: the tracemalloc peak of ``select_model``
above the memory before the call, on the benchmark log of ``bench_analysis`` (int64
ids, ``datetime64[ns]`` dates; ``time_unit="W"``), and the best of 3 wall times, the
code before and after this pass run back to back:

=========  ===========  ===========  =========  =========
rows       peak before  peak after   before     after
=========  ===========  ===========  =========  =========
1e6        69 MiB       26 MiB       1.54 s     1.31 s
1e7        685 MiB      160 MiB      5.82 s     3.93 s
=========  ===========  ===========  =========  =========

The 1e7 log is 229 MiB. The chosen model is refitted on the distinct whole-period
histories with their counts (a caller's customer summary would be 3.4 million rows:
282 MiB at 1e7 when it was read instead, so none is taken).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "BLOCK",
    "CustomerPeriods",
    "SortedKeys",
    "customer_periods",
    "distinct_histories",
    "period_counts",
    "sorted_keys",
]

IntArray = npt.NDArray[np.int64]
BLOCK = 1 << 18
_U32 = int(np.iinfo(np.uint32).max)


def _blocks(n: int) -> Iterator[slice]:
    for start in range(0, n, BLOCK):
        yield slice(start, min(start + BLOCK, n))


@dataclass(frozen=True)
class SortedKeys:
    """The sorted keys ``code * span + (period - lo)`` of every row (duplicates kept)."""

    key: npt.NDArray[Any]
    span: int
    lo: int


def sorted_keys(
    codes: npt.NDArray[np.integer],
    offset: int,
    n_codes: int,
    ticks: IntArray,
    ticks_per_day: int,
    day_periods: npt.NDArray[np.int64] | None,
    day_lo: int,
) -> SortedKeys:
    """Sort the (customer, period) key of every row, built block by block.

    ``codes - offset`` are the customer codes (``0 .. n_codes - 1``), ``ticks`` the
    purchase times in datetime ticks, ``day_lo`` the first purchase day (days since
    1970-01-01). ``day_periods[i]`` is the period number of day ``day_lo + i`` (None:
    the periods are days).

    Examples
    --------
    >>> import numpy as np
    >>> k = sorted_keys(np.array([1, 0, 1]), 0, 2, np.array([3, 5, 3]), 1, None, 3)
    >>> k.key.tolist(), k.span, k.lo
    ([2, 3, 3], 3, 3)
    """
    n = int(ticks.size)
    if day_periods is None:
        lo = day_lo
        span = int(ticks.max()) // ticks_per_day - day_lo + 1
        table = None
    else:
        lo = int(day_periods[0])
        table = day_periods - lo
        span = int(table[-1]) + 1
    key = np.empty(n, dtype=np.uint32 if n_codes * span <= _U32 else np.int64)
    for block in _blocks(n):
        k = codes[block].astype(np.int64)
        k -= offset
        k *= span
        days = ticks[block] // ticks_per_day
        days -= day_lo
        k += days if table is None else table[days]
        key[block] = k
    key.sort()  # in place: numpy.unique would copy and sort an index as well
    return SortedKeys(key, span, lo)


def _cells(
    keys: SortedKeys, state: list[int]
) -> Iterator[tuple[IntArray, IntArray, npt.NDArray[np.bool_]]]:
    """Per block: the customer and period of each distinct cell, and its new customers.

    ``state`` carries the last key and customer of the previous block.
    """
    span = keys.span
    for block in _blocks(keys.key.size):
        k = keys.key[block].astype(np.int64)
        fresh = np.empty(k.size, dtype=bool)
        fresh[0] = k[0] != state[0]
        np.not_equal(k[1:], k[:-1], out=fresh[1:])
        state[0] = int(k[-1])
        cells = k[fresh]
        if cells.size == 0:
            continue
        code = cells // span
        cells -= code * span
        new = np.empty(code.size, dtype=bool)
        new[0] = code[0] != state[1]
        np.not_equal(code[1:], code[:-1], out=new[1:])
        state[1] = int(code[-1])
        yield code, cells, new


def _add(total: IntArray, values: IntArray) -> None:
    counts = np.bincount(values)
    total[: counts.size] += counts


def period_counts(keys: SortedKeys) -> tuple[IntArray, IntArray]:
    """Customers buying in each period, and customers buying for the first time.

    Both are indexed by the period relative to ``keys.lo``.

    Examples
    --------
    >>> import numpy as np
    >>> k = sorted_keys(np.array([0, 0, 1, 1]), 0, 2, np.array([0, 0, 1, 2]), 1, None, 0)
    >>> [a.tolist() for a in period_counts(k)]
    [[1, 1, 1], [1, 1, 0]]
    """
    active = np.zeros(keys.span, dtype=np.int64)
    cohorts = np.zeros(keys.span, dtype=np.int64)
    for _, period, new in _cells(keys, [-1, -1]):
        _add(active, period)
        _add(cohorts, period[new])
    return active, cohorts


@dataclass(frozen=True)
class CustomerPeriods:
    """Per customer (in code order): purchase periods relative to the first of the log.

    ``n_cal`` and ``last_cal`` count only the periods up to the calibration end
    (``last_cal`` is 0 for customers without one).
    """

    first: npt.NDArray[np.integer]
    last: npt.NDArray[np.integer]
    n_periods: npt.NDArray[np.integer]
    n_cal: npt.NDArray[np.integer]
    last_cal: npt.NDArray[np.integer]


def customer_periods(keys: SortedKeys, n_customers: int, cal: int) -> CustomerPeriods:
    """Each customer's first and last period and period counts, in one pass of the keys.

    ``cal`` is the last calibration period relative to ``keys.lo``; ``n_customers`` the
    number of distinct customers (the sum of the cohorts of :func:`period_counts`).

    Examples
    --------
    >>> import numpy as np
    >>> k = sorted_keys(np.array([0, 0, 0, 1]), 0, 2, np.array([0, 4, 2, 3]), 1, None, 0)
    >>> c = customer_periods(k, 2, 2)
    >>> c.first.tolist(), c.last.tolist(), c.n_periods.tolist(), c.n_cal.tolist()
    ([0, 3], [4, 3], [3, 1], [2, 0])
    >>> c.last_cal.tolist()
    [2, 0]
    """
    small = np.int32 if keys.span < 1 << 31 else np.int64
    out = CustomerPeriods(
        first=np.zeros(n_customers, dtype=small),
        last=np.zeros(n_customers, dtype=small),
        n_periods=np.zeros(n_customers, dtype=small),
        n_cal=np.zeros(n_customers, dtype=small),
        last_cal=np.zeros(n_customers, dtype=small),
    )
    started = 0
    for code, period, new in _cells(keys, [-1, -1]):
        idx = np.cumsum(new, dtype=np.int64)
        idx += started - 1
        out.first[idx[new]] = period[new]
        base, width = int(idx[0]), int(idx[-1] - idx[0]) + 1
        out.n_periods[base : base + width] += np.bincount(idx - base, minlength=width)
        in_cal = period <= cal
        out.n_cal[base : base + width] += np.bincount(idx[in_cal] - base, minlength=width)
        # the last cell of each customer in the block (a later block may overwrite it)
        ends = np.empty(code.size, dtype=bool)
        ends[-1] = True
        np.not_equal(code[1:], code[:-1], out=ends[:-1])
        out.last[idx[ends]] = period[ends]
        last_in_cal = in_cal.copy()
        last_in_cal[:-1] &= ends[:-1] | ~in_cal[1:]
        out.last_cal[idx[last_in_cal]] = period[last_in_cal]
        started = int(idx[-1]) + 1
    return out


def distinct_histories(
    frequency: npt.NDArray[np.integer],
    recency: npt.NDArray[np.integer],
    age: npt.NDArray[np.integer],
    *,
    inverse: bool = True,
) -> tuple[list[IntArray], npt.NDArray[np.float64], IntArray | None]:
    """The distinct (frequency, recency, age) rows, their counts and each row's index.

    Integer inputs (grid periods, all >= 0); the distinct rows are in lexicographic
    order, as :func:`crmmodels.kernels._optim.compress_rows` returns them. With
    ``inverse=False`` the index of each row is not computed (None).

    Examples
    --------
    >>> import numpy as np
    >>> rows, counts, inverse = distinct_histories(
    ...     np.array([1, 0, 1]), np.array([2, 0, 2]), np.array([5, 3, 5]))
    >>> [r.tolist() for r in rows], counts.tolist(), inverse.tolist()
    ([[0, 1], [0, 2], [3, 5]], [1.0, 2.0], [1, 0, 1])
    """
    if frequency.size == 0:
        empty = np.zeros(0, dtype=np.int64)
        return [empty, empty, empty], np.zeros(0), empty
    n_rec = int(recency.max()) + 1
    n_age = int(age.max()) + 1
    cells = (int(frequency.max()) + 1) * n_rec * n_age
    key = frequency.astype(np.uint32 if cells <= _U32 else np.int64)
    # the values are >= 0 and the cells fit the key's type: the casts are exact
    np.multiply(key, n_rec, out=key, casting="unsafe")
    np.add(key, recency, out=key, casting="unsafe")
    np.multiply(key, n_age, out=key, casting="unsafe")
    np.add(key, age, out=key, casting="unsafe")
    ordered = np.sort(key)
    fresh = np.empty(ordered.size, dtype=bool)
    fresh[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=fresh[1:])
    starts = np.flatnonzero(fresh)
    distinct = ordered[starts].astype(np.int64)
    del ordered, fresh
    counts = np.diff(starts, append=key.size).astype(np.float64)
    rows = np.searchsorted(distinct, key) if inverse else None
    del key
    age_d = distinct % n_age
    distinct //= n_age
    rec_d = distinct % n_rec
    distinct //= n_rec
    return [distinct, rec_d, age_d], counts, rows
