"""RFM output: a column name that says what it holds, in the caller's kind of frame."""

from __future__ import annotations

from typing import Any

import narwhals.stable.v2 as nw
import pandas as pd

from crmmodels.transactions import rfm_scores, rfm_segments, summarize_transactions

from _engines import to_engine, to_pandas

_SUMMARY = pd.DataFrame(
    {
        "customer_id": [1, 2, 3, 4, 5],
        "frequency": [0, 1, 3, 3, 8],
        "recency": [0.0, 5.0, 20.0, 28.0, 29.0],
        "T": [30.0, 30.0, 30.0, 30.0, 30.0],
        "monetary_value": [0.0, 10.0, 30.0, 20.0, 15.0],
    }
)


def _kind(native: Any) -> tuple[str, bool]:
    frame = nw.from_native(native)
    return str(frame.implementation), isinstance(frame, nw.LazyFrame)


def test_time_since_last_replaces_days_since_last() -> None:
    scores = rfm_scores(_SUMMARY)
    assert "time_since_last" in scores.columns
    assert "days_since_last" not in scores.columns
    assert scores["time_since_last"].tolist() == [30.0, 25.0, 10.0, 2.0, 1.0]


def test_time_since_last_is_in_the_summary_unit() -> None:
    tx = pd.DataFrame(
        {
            "customer_id": [1, 1, 2],
            "date": pd.to_datetime(["2024-01-01", "2024-01-08", "2024-01-01"]),
        }
    )
    weeks = summarize_transactions(tx, observation_end="2024-01-29", time_unit="W")
    scores = rfm_scores(weeks, monetary_value_col=None)
    assert scores["time_since_last"].tolist() == [3.0, 4.0]  # weeks, not days


def test_rfm_scores_and_segments_keep_the_callers_frame_kind(engine: str) -> None:
    native = to_engine(_SUMMARY, engine)
    scores = rfm_scores(native)
    assert _kind(scores) == _kind(native)
    segments = rfm_segments(scores)
    assert _kind(segments) == _kind(native)
    got = to_pandas(segments).sort_values("customer_id").reset_index(drop=True)
    want = rfm_segments(rfm_scores(_SUMMARY))
    assert got.columns.tolist() == want.columns.tolist()
    pd.testing.assert_frame_equal(got, want, check_dtype=False)


def test_polars_in_polars_out() -> None:
    import polars as pl

    scores = rfm_scores(pl.from_pandas(_SUMMARY))
    assert isinstance(scores, pl.DataFrame)
    segments = rfm_segments(scores)
    assert isinstance(segments, pl.DataFrame)
    assert segments.columns[-1] == "segment"
    assert segments["rfm"].dtype == pl.String


def test_pandas_in_pandas_out_leaves_the_input_alone() -> None:
    before = _SUMMARY.copy()
    scores = rfm_scores(_SUMMARY)
    assert isinstance(scores, pd.DataFrame)
    frozen = scores.copy()
    segments = rfm_segments(scores)
    assert isinstance(segments, pd.DataFrame)
    pd.testing.assert_frame_equal(_SUMMARY, before)
    pd.testing.assert_frame_equal(scores, frozen)
