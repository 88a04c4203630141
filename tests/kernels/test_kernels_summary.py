"""The block-wise customer summary kernel against a plain pandas groupby."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from crmmodels._ingest.periods import numpy_period_index
from crmmodels.kernels import summary
from crmmodels.kernels.summary import summarize_log

DAY = 86_400


def _months(days: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    return numpy_period_index(days.astype("datetime64[D]"), "M")


PERIODS: dict[str, Any] = {
    "D": None,
    "3 days": lambda d: d // 3,
    "M": _months,
}


def _reference(codes: np.ndarray[Any, Any], ticks: np.ndarray[Any, Any], amounts: Any, period: str):
    days = ticks // DAY
    fn = PERIODS[period]
    per = days if fn is None else fn(days)
    df = pd.DataFrame({"c": codes, "p": per, "t": ticks, "a": amounts})
    g = df.groupby("c")
    first = g["p"].transform("min")
    in_first = df[df["p"] == first].groupby("c")
    return pd.DataFrame(
        {
            "n_periods": g["p"].nunique(),
            "first": g["p"].min(),
            "last": g["p"].max(),
            "n_rows": g.size(),
            "first_time": in_first["t"].min(),
            "total": g["a"].sum(),
            "first_amount": in_first["a"].sum(),
        }
    )


def _check(ids, offset, n_codes, ticks, amounts, period) -> None:
    s = summarize_log(
        ids,
        ticks,
        amounts,
        n_codes=n_codes,
        offset=offset,
        ticks_per_day=DAY,
        day_periods=PERIODS[period],
    )
    codes = (ids.astype(object) - offset).astype(np.int64)
    ref = _reference(codes, ticks, amounts, period)
    np.testing.assert_array_equal(s.codes, ref.index.to_numpy())
    np.testing.assert_array_equal(s.n_periods, ref["n_periods"])
    np.testing.assert_array_equal(s.first_period + s.period_lo, ref["first"])
    np.testing.assert_array_equal(s.last_period + s.period_lo, ref["last"])
    np.testing.assert_array_equal(s.n_rows, ref["n_rows"])
    np.testing.assert_array_equal(s.first_time, ref["first_time"])
    np.testing.assert_allclose(s.total, ref["total"], rtol=1e-12)
    np.testing.assert_allclose(s.first_amount, ref["first_amount"], rtol=1e-12)


@settings(max_examples=60, deadline=None)
@given(
    data=st.data(),
    block=st.sampled_from([1, 2, 3, 7, 1 << 18]),
    period=st.sampled_from(list(PERIODS)),
    dtype=st.sampled_from(["int64", "int32", "uint64"]),
)
def test_matches_pandas_for_any_block_size(data, block, period, dtype):
    n = data.draw(st.integers(1, 60))
    n_codes = data.draw(st.integers(1, 12))
    offset = data.draw(st.sampled_from([0, 5, 2**63 + 11])) if dtype == "uint64" else 0
    offset = data.draw(st.sampled_from([0, -3, 1000])) if dtype != "uint64" else offset
    codes = np.array(data.draw(st.lists(st.integers(0, n_codes - 1), min_size=n, max_size=n)))
    ids = (codes.astype(object) + offset).astype(dtype)
    # few distinct days, so purchases share days, and times of day inside them
    days = np.array(data.draw(st.lists(st.integers(19_000, 19_070), min_size=n, max_size=n)))
    secs = np.array(
        data.draw(st.lists(st.sampled_from([0, 1, 3_600, DAY - 1]), min_size=n, max_size=n))
    )
    amounts = np.array(data.draw(st.lists(st.floats(0, 1e6), min_size=n, max_size=n)))
    with _block_size(block):
        _check(ids, offset, n_codes, days * DAY + secs, amounts, period)


@contextmanager
def _block_size(size: int) -> Iterator[None]:
    original = summary.BLOCK
    summary.BLOCK = size
    try:
        yield
    finally:
        summary.BLOCK = original


def test_wide_grid_uses_64_bit_keys_and_tables() -> None:
    # 3e6 codes x 200 years of days exceeds both uint32 keys and uint16 period tables
    rng = np.random.default_rng(3)
    n, n_codes = 5_000, 3_000_000
    ids = rng.integers(0, n_codes, n)
    days = rng.integers(-30_000, 40_000, n)
    ticks = days * DAY + rng.integers(0, DAY, n)
    amounts = rng.gamma(2.0, 10.0, n)
    for period in PERIODS:
        _check(ids, 0, n_codes, ticks, amounts, period)


def test_large_log_across_many_blocks() -> None:
    # more rows than one block, customers spread over every block
    rng = np.random.default_rng(4)
    n = 3 * summary.BLOCK + 17
    ids = rng.integers(0, 40_000, n)
    days = rng.integers(18_000, 18_400, n)
    amounts = rng.gamma(2.0, 10.0, n).round(2)
    _check(ids, 0, 40_000, days * DAY, amounts, "D")
    _check(ids.astype(np.int32), 0, 40_000, days * DAY, amounts, "M")


def test_without_amounts() -> None:
    s = summarize_log(
        np.array([3, 3, 1]), np.array([0, 2, 1]) * DAY, None, n_codes=4, ticks_per_day=DAY
    )
    assert s.total is None and s.first_amount is None
    assert s.codes.tolist() == [1, 3]
    assert s.n_periods.tolist() == [1, 2]
