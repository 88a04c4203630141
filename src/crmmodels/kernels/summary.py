"""Customer summary kernel: purchase rows -> per-customer period statistics.

Pure numpy; no pandas or narwhals. Used for eager inputs, where the columns can be viewed
as numpy arrays without copying; lazy inputs are aggregated on their own engine instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["SummaryArrays", "summarize_arrays"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class SummaryArrays:
    """Per-customer statistics, index = customer code.

    Attributes
    ----------
    n_periods : int array
        Distinct purchase periods.
    first_period, last_period : int array
        First and last purchase period index.
    n_rows : int array
        Purchase rows.
    first_time : int array
        Smallest raw time stamp (any integer time unit) per customer.
    total : float array or None
        Sum of amounts.
    first_amount : float array or None
        Sum of amounts in the first purchase period.
    """

    n_periods: IntArray
    first_period: IntArray
    last_period: IntArray
    n_rows: IntArray
    first_time: IntArray
    total: FloatArray | None
    first_amount: FloatArray | None


def summarize_arrays(
    codes: npt.NDArray[np.intp],
    periods: IntArray,
    times: IntArray,
    amounts: FloatArray | None,
    n_customers: int,
) -> SummaryArrays:
    """Aggregate purchase rows to customers without a Python loop.

    Parameters
    ----------
    codes : int array
        Customer code of each row, in ``0 .. n_customers - 1``.
    periods : int array
        Period index of each row (consecutive periods differ by 1).
    times : int array
        Raw time stamp of each row (e.g. nanoseconds), for the first purchase time.
    amounts : float array, optional
        Purchase value of each row.
    n_customers : int
        Number of codes. A code that never occurs gets ``n_periods`` 0 and sentinel
        extremes; callers drop such codes.

    Returns
    -------
    SummaryArrays

    Notes
    -----
    Distinct (customer, period) pairs are counted by sorting the combined key
    ``code * span + (period - min period)``, which numpy does with a vectorised sort, and
    subtracting the repeated keys from the row count; each customer's block of sorted keys
    (found by ``searchsorted``) gives the row count and the first and last period, and
    sums use ``bincount``. The int64 key array is the only large temporary and is
    reused as scratch space, so peak memory stays below three times the input.

    Examples
    --------
    >>> import numpy as np
    >>> s = summarize_arrays(np.array([0, 0, 0, 1]), np.array([5, 5, 9, 7]),
    ...                      np.array([50, 51, 90, 70]), np.array([1.0, 2.0, 4.0, 3.0]), 2)
    >>> s.n_periods.tolist(), s.first_period.tolist(), s.last_period.tolist()
    ([2, 1], [5, 7], [9, 7])
    >>> s.total.tolist(), s.first_amount.tolist(), s.first_time.tolist()
    ([7.0, 3.0], [3.0, 3.0], [50, 70])
    """
    n = int(n_customers)
    p_min = int(periods.min())
    span = int(periods.max()) - p_min + 1
    key = codes.astype(np.int64) * span
    key += periods
    key -= p_min
    key.sort()
    # each customer's rows form one block of the sorted keys: its bounds give the row
    # count and the first and last period without scattering over the rows
    base = np.arange(n, dtype=np.int64) * span
    starts = np.searchsorted(key, base)
    ends = np.empty_like(starts)
    ends[:-1] = starts[1:]
    ends[-1:] = key.size
    n_rows = (ends - starts).astype(np.int64)
    occurs = n_rows > 0
    first_p = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    last_p = np.full(n, np.iinfo(np.int64).min, dtype=np.int64)
    first_p[occurs] = key[starts[occurs]] - base[occurs] + p_min
    last_p[occurs] = key[ends[occurs] - 1] - base[occurs] + p_min
    # rows whose (customer, period) repeats the previous sorted key: few in practice
    repeated = np.empty(key.size, dtype=bool)
    repeated[0] = False
    np.equal(key[1:], key[:-1], out=repeated[1:])
    dup_codes = key[repeated] // span
    del repeated
    n_periods = n_rows - np.bincount(dup_codes, minlength=n).astype(np.int64)
    np.take(first_p, codes, out=key)  # reuse the key buffer: no new large array
    in_first = periods == key
    del key
    first_codes = codes[in_first]
    first_t = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first_t, first_codes, times[in_first])
    total: FloatArray | None = None
    first_amount: FloatArray | None = None
    if amounts is not None:
        total = np.bincount(codes, weights=amounts, minlength=n).astype(np.float64)
        first_amount = np.bincount(first_codes, weights=amounts[in_first], minlength=n).astype(
            np.float64
        )
    return SummaryArrays(n_periods, first_p, last_p, n_rows, first_t, total, first_amount)
