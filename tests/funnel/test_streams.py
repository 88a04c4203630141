"""Tests of crmmodels.funnel.stream_funnel: event-stream funnels (issue 18)."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmmodels.errors import ArgumentError, DataError, SchemaError
from crmmodels.funnel import StreamFunnelResult, funnel_metrics, stream_funnel
from crmmodels.kernels import funnel_stream as ks
from crmmodels.kernels.intervals import difference_interval

from _engines import to_engine

T0 = pd.Timestamp("2024-03-01")
STEPS = ["view", "cart", "pay"]


def log(rows: list[tuple[Any, str, float]], **extra: list[Any]) -> pd.DataFrame:
    """Build an event log from (entity, event, hour offset) rows."""
    df = pd.DataFrame(rows, columns=["entity_id", "stage", "hour"])
    df["entered_at"] = T0 + pd.to_timedelta(df.pop("hour"), unit="h")
    for k, v in extra.items():
        df[k] = v
    return df


def entered(res: StreamFunnelResult) -> list[int]:
    return [int(v) for v in res.to_frame()["entered"]]


# ------------------------------------------------------------------ independent references


def reach_by_definition(path: list[tuple[float, int]], k: int, window: float | None) -> int:
    """Steps reached, straight from the definition: a search over all index subsets.

    ``path`` is (time, step) with distinct times. Step ``j`` is reached when some events
    i_1 < ... < i_j (in time order) hold steps 0 .. j-1 and, with a window, all lie
    within ``window`` of the first of them.
    """
    events = sorted(path)
    best = 0
    for j in range(1, k + 1):
        for idx in itertools.combinations(range(len(events)), j):
            chosen = [events[i] for i in idx]
            if [s for _, s in chosen] != list(range(j)):
                continue
            if window is not None and chosen[-1][0] - chosen[0][0] > window:
                continue
            best = j
            break
        if best < j:
            break
    return best


paths = st.lists(
    st.tuples(st.integers(0, 5), st.integers(-1, 2)),  # (entity, step; -1 = other event)
    min_size=1,
    max_size=24,
)


def _frame(draw_events: list[tuple[int, int]]) -> pd.DataFrame:
    names = {-1: "home", 0: "view", 1: "cart", 2: "pay"}
    rows = [(e, names[s], float(i)) for i, (e, s) in enumerate(draw_events)]  # distinct times
    return log(rows)


# ------------------------------------------------------------------ the two rules


def test_sequence_and_first_entry_rules_differ_on_a_cart_before_the_first_view() -> None:
    # user 1: cart, view, cart, pay -> passes every step as a subsequence; under the
    # first-entry rule its first cart precedes its first view, so it stops at view
    df = log([(1, "cart", 0), (1, "view", 1), (1, "cart", 2), (1, "pay", 3), (2, "view", 0)])
    assert entered(stream_funnel(df, stages=STEPS)) == [2, 1, 1]
    assert entered(stream_funnel(df, stages=STEPS, mode="ordered")) == [2, 0, 0]


def test_sequence_rule_needs_each_step_after_the_previous_one() -> None:
    # cart, view, pay, cart: the cart after the view comes after pay -> pay not reached
    df = log([(1, "cart", 0), (1, "view", 1), (1, "pay", 2), (1, "cart", 3)])
    res = stream_funnel(df, stages=STEPS)
    assert entered(res) == [1, 1, 0]
    assert res.entities()["steps"].tolist() == [2]


def test_steps_at_the_same_time_count_in_funnel_order() -> None:
    df = log([(1, "cart", 0), (1, "view", 0), (1, "pay", 1)])
    assert entered(stream_funnel(df, stages=STEPS)) == [1, 1, 1]
    assert entered(stream_funnel(df, stages=STEPS, mode="ordered")) == [1, 1, 1]


def test_default_mode_is_sequence_and_ordered_matches_funnel_metrics() -> None:
    df = log([(1, "view", 0), (1, "cart", 2), (2, "cart", 0), (2, "view", 1), (2, "cart", 3)])
    assert stream_funnel(df, stages=STEPS).mode == "sequence"
    fm = funnel_metrics(df, stages=STEPS, exit_stages=(), mode="ordered").to_frame()
    assert entered(stream_funnel(df, stages=STEPS, mode="ordered")) == fm["entered"].tolist()


@settings(max_examples=80, deadline=None)
@given(paths)
def test_sequence_counts_match_the_definition(events: list[tuple[int, int]]) -> None:
    df = _frame(events)
    res = stream_funnel(df, stages=STEPS, other_events="ignore")
    by_entity = {
        e: [(float(i), s) for i, (ee, s) in enumerate(events) if ee == e and s >= 0]
        for e in {e for e, _ in events}
    }
    want = {e: reach_by_definition(p, 3, None) for e, p in by_entity.items()}
    got = dict(zip(res.entities()["entity"], res.entities()["steps"], strict=True))
    assert got == want


@settings(max_examples=80, deadline=None)
@given(paths, st.sampled_from([0.0, 1.0, 2.5, 6.0]))
def test_window_counts_match_the_definition(events: list[tuple[int, int]], w: float) -> None:
    df = _frame(events)
    res = stream_funnel(df, stages=STEPS, other_events="ignore", window=w / 24.0)
    by_entity = {
        e: [(float(i), s) for i, (ee, s) in enumerate(events) if ee == e and s >= 0]
        for e in {e for e, _ in events}
    }
    want = {e: reach_by_definition(p, 3, w) for e, p in by_entity.items()}
    got = dict(zip(res.entities()["entity"], res.entities()["steps"], strict=True))
    assert got == want


@settings(max_examples=60, deadline=None)
@given(paths, st.sampled_from([None, 0.0, 1.0, 4.0]), st.booleans())
def test_counts_never_increase_and_sequence_is_at_least_first_entry(
    events: list[tuple[int, int]], w: float | None, ties: bool
) -> None:
    df = _frame(events)
    if ties:  # coarse times: many events share a time
        df["entered_at"] = df["entered_at"].dt.floor("4h")
    window = None if w is None else w / 24.0
    seq = entered(stream_funnel(df, stages=STEPS, other_events="ignore", window=window))
    first = entered(
        stream_funnel(df, stages=STEPS, other_events="ignore", window=window, mode="ordered")
    )
    assert all(a >= b for a, b in itertools.pairwise(seq))
    assert all(a >= b for a, b in itertools.pairwise(first))
    assert all(s >= f for s, f in zip(seq, first, strict=True))
    fm = funnel_metrics(df, stages=STEPS, exit_stages=("home",), mode="ordered").to_frame()
    if window is None:
        assert first == fm["entered"].tolist()
    no_window = entered(stream_funnel(df, stages=STEPS, other_events="ignore"))
    assert all(a >= b for a, b in zip(no_window, seq, strict=True))


@settings(max_examples=40, deadline=None)
@given(paths)
def test_an_infinite_window_is_no_window(events: list[tuple[int, int]]) -> None:
    ent = np.array([e for e, s in events if s >= 0], dtype=np.int64)
    step = np.array([s for _, s in events if s >= 0], dtype=np.int64)
    t = np.array([float(i // 2) for i, (_, s) in enumerate(events) if s >= 0])
    a = ks.sequence_times(ent, step, t, 6, 3)
    b = ks.sequence_times_within(ent, step, t, 6, 3, np.inf)
    np.testing.assert_array_equal(a, b)


# ------------------------------------------------------------------ conversion window


def test_window_counts_the_best_attempt_and_its_time_to_convert() -> None:
    # user 1: view at 0h (no cart within 3h), view at 5h, cart at 6h, pay at 9h
    df = log([(1, "view", 0), (1, "view", 5), (1, "cart", 6), (1, "pay", 9), (2, "view", 0)])
    res = stream_funnel(df, stages=STEPS, window="3h")
    assert entered(res) == [2, 1, 0]
    assert res.window == pytest.approx(3 / 24)
    t = res.to_frame().set_index("stage")
    assert t.loc["cart", "time_to_convert_median"] == pytest.approx(1 / 24)
    assert res.entities().loc[0, "view"] == pytest.approx(5 / 24 + T0.value / 86400e9)
    full = stream_funnel(df, stages=STEPS, window=dt.timedelta(hours=4))
    assert entered(full) == [2, 1, 1]
    assert full.to_frame().set_index("stage").loc["pay", "time_to_convert_mean"] == (
        pytest.approx(4 / 24)
    )
    # the first-entry rule measures from the first view: cart at 6h is 6h after it
    assert entered(stream_funnel(df, stages=STEPS, window="3h", mode="ordered")) == [2, 0, 0]
    assert entered(stream_funnel(df, stages=STEPS, window="6h", mode="ordered")) == [2, 1, 0]


def test_time_to_convert_without_a_window() -> None:
    df = log([(1, "view", 0), (1, "cart", 2), (2, "view", 1), (2, "cart", 5), (2, "pay", 7)])
    t = stream_funnel(df, stages=STEPS).to_frame()
    assert t["time_to_convert_mean"].tolist()[:2] == pytest.approx([0.0, 3 / 24])
    assert t["time_to_convert_median"].iloc[2] == pytest.approx(6 / 24)
    assert np.isnan(t["conversion"].iloc[-1])
    assert t["dropped"].tolist() == [0, 1, 0]


def test_window_on_a_numeric_time_column_is_in_its_unit() -> None:
    df = pd.DataFrame(
        {"entity_id": [1, 1, 2, 2], "stage": ["view", "cart"] * 2, "entered_at": [0, 2, 0, 5]}
    )
    assert entered(stream_funnel(df, stages=STEPS[:2], window=3)) == [2, 1]
    with pytest.raises(ArgumentError, match="window must be a number"):
        stream_funnel(df, stages=STEPS[:2], window="3h")


@pytest.mark.parametrize("bad", [-1.0, "soon", float("nan"), True, pd.NaT])
def test_bad_window_is_refused(bad: Any) -> None:
    df = log([(1, "view", 0)])
    with pytest.raises(ArgumentError, match="window"):
        stream_funnel(df, stages=STEPS, window=bad)


# ------------------------------------------------------------------ other events


def test_other_events_raise_by_default_with_names_counts_and_the_fix() -> None:
    df = log([(1, "home", 0), (1, "view", 1), (2, "home", 0), (2, "search", 1)])
    with pytest.raises(DataError, match=r"'home' \(2 rows\).*'search' \(1 rows\).*ignore"):
        stream_funnel(df, stages=STEPS)


def test_ignored_events_are_counted_and_reported() -> None:
    df = log([(1, "home", 0), (1, "view", 1), (1, "home", 2), (2, "home", 0), (3, "view", 1)])
    res = stream_funnel(df, stages=STEPS, other_events="ignore")
    assert res.ignored.to_dict("records") == [{"event": "home", "events": 3, "entities": 2}]
    assert res.n_ignored_events == 3
    assert res.n_events == 5
    assert res.n_entities == 3  # entity 2 has no step event: counted, not at step 1
    assert entered(res) == [2, 0, 0]
    assert res.entities()["steps"].tolist() == [1, 0, 1]


def test_events_after_observation_end_are_left_out_and_counted() -> None:
    df = log([(1, "view", 0), (1, "cart", 30), (2, "view", 1)])
    res = stream_funnel(df, stages=STEPS, observation_end=T0 + pd.Timedelta(hours=10))
    assert entered(res) == [2, 0, 0]
    assert res.n_after_end == 1


@pytest.mark.parametrize("engine", ["polars", "polars_lazy", "pyarrow", "duckdb"])
def test_engines_give_the_pandas_result(engine: str) -> None:
    df = log(
        [(1, "cart", 0), (1, "view", 1), (1, "home", 2), (1, "cart", 3), (2, "view", 0)],
        channel=["a", "a", "a", "a", "b"],
    )
    kw: dict[str, Any] = {"stages": STEPS, "other_events": "ignore", "segment_col": "channel"}
    want = stream_funnel(df, **kw)
    got = stream_funnel(to_engine(df, engine), **kw)
    pd.testing.assert_frame_equal(got.to_frame(), want.to_frame())
    pd.testing.assert_frame_equal(got.ignored, want.ignored)
    pd.testing.assert_frame_equal(got.segments, want.segments)
    assert got.n_entities == want.n_entities == 2


def test_the_callers_frame_is_not_changed() -> None:
    df = log([(1, "view", 0), (1, "home", 1)], channel=["a", "a"])
    before = df.copy()
    stream_funnel(df, stages=STEPS, other_events="ignore", segment_col="channel", window="1D")
    pd.testing.assert_frame_equal(df, before)


# ------------------------------------------------------------------ segments


def test_newcombe_interval_matches_the_published_example() -> None:
    # Newcombe (1998), Statistics in Medicine 17, 873-890: 56/70 - 48/80, method 10
    d, lo, hi = difference_interval(*np.array([[56.0], [70.0], [48.0], [80.0]]), 0.95)
    assert (d[0], lo[0], hi[0]) == pytest.approx((0.2, 0.0524, 0.3339), abs=5e-5)


def test_segment_differences_against_the_reference() -> None:
    rows = []
    for i in range(30):  # channel a: 30 view, 20 cart, 10 pay; channel b: 20, 5, 1
        rows += [(f"a{i}", "view", 0)] + [(f"a{i}", "cart", 1)] * (i < 20)
        rows += [(f"a{i}", "pay", 2)] * (i < 10)
    for i in range(20):
        rows += [(f"b{i}", "view", 0)] + [(f"b{i}", "cart", 1)] * (i < 5)
        rows += [(f"b{i}", "pay", 2)] * (i < 1)
    df = log(rows)
    df["channel"] = df["entity_id"].str[0]
    res = stream_funnel(df, stages=STEPS, segment_col="channel")
    assert res.reference == "a"  # the largest segment at step 1
    seg = res.segments.set_index(["segment", "stage"])
    assert seg.loc[("b", "pay"), "difference"] == pytest.approx(1 / 20 - 10 / 30)
    assert np.isnan(seg.loc[("a", "cart"), "difference_low"])
    sm = pytest.importorskip("statsmodels.stats.proportion")
    lo, hi = sm.confint_proportions_2indep(5, 20, 20, 30, method="newcomb", compare="diff")
    assert seg.loc[("b", "cart"), ["difference_low", "difference_high"]].tolist() == (
        pytest.approx([lo, hi])
    )
    other = stream_funnel(df, stages=STEPS, segment_col="channel", reference="b", level=0.9)
    assert other.segments.set_index(["segment", "stage"]).loc[("a", "pay"), "difference"] == (
        pytest.approx(10 / 30 - 1 / 20)
    )
    with pytest.raises(ArgumentError, match="reference 'c'"):
        stream_funnel(df, stages=STEPS, segment_col="channel", reference="c")


def test_a_segment_that_changes_within_an_entity_is_refused() -> None:
    df = log([(1, "view", 0), (1, "cart", 1)], channel=["a", "b"])
    with pytest.raises(DataError, match="changes within an entity"):
        stream_funnel(df, stages=STEPS, segment_col="channel")


# ------------------------------------------------------------------ arguments and result


@pytest.mark.parametrize(
    ("kw", "exc"),
    [
        ({"stages": []}, SchemaError),
        ({"stages": ["view", "view"]}, SchemaError),
        ({"stages": STEPS, "mode": "any"}, ArgumentError),
        ({"stages": STEPS, "other_events": "drop"}, ArgumentError),
        ({"stages": STEPS, "level": 1.5}, ArgumentError),
        ({"stages": STEPS, "entity_col": "user"}, SchemaError),
    ],
)
def test_bad_arguments(kw: dict[str, Any], exc: type[Exception]) -> None:
    with pytest.raises(exc):
        stream_funnel(log([(1, "view", 0)]), **kw)


def test_result_parts() -> None:
    df = log([(1, "view", 0), (1, "cart", 1)], channel=["a", "a"])
    res = stream_funnel(df, stages=STEPS, segment_col="channel")
    assert res.to_dict()["conversion"] == 0.0
    assert all(len(line) < 90 for line in repr(res).splitlines())
    ax = res.plot()
    assert [t.get_text() for t in ax.get_xticklabels()] == STEPS
    assert list(res.entities().columns) == ["entity", "segment", "steps", *STEPS]
