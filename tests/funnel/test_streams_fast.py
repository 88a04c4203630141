"""stream_funnel's fast paths: polars engine-side coding, eager validation, entity codes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crmmodels.errors import DataError
from crmmodels.funnel import StreamFunnelResult, stream_funnel
from crmmodels.kernels import funnel_stream as ks

STEPS = ["view", "cart", "ship", "pay"]
OTHER = ["home", "catalog", "search"]


def click_log(n: int, seed: int, other_share: float = 0.6) -> pd.DataFrame:
    """Random click stream, mostly non-step events, distinct times (whole seconds)."""
    rng = np.random.default_rng(seed)
    names = np.array(STEPS + OTHER)
    other = rng.random(n) < other_share
    code = np.where(other, len(STEPS) + rng.integers(0, len(OTHER), n), rng.integers(0, 4, n))
    return pd.DataFrame(
        {
            "user": rng.integers(0, n // 6, n) * 3 + 5,  # ids with gaps
            "event": names[code],
            "ts": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.permutation(n), unit="s"),
        }
    )


def walk(df: pd.DataFrame) -> pd.Series:
    """Steps reached per user by walking each time-sorted path (the definition)."""

    def one(events: pd.Series) -> int:
        reached = 0
        for name in events:
            if reached < len(STEPS) and name == STEPS[reached]:
                reached += 1
        return reached

    return df.sort_values(["user", "ts"]).groupby("user")["event"].apply(one)


KW = {"stages": STEPS, "entity_col": "user", "stage_col": "event", "date_col": "ts"}


def entered(res: StreamFunnelResult) -> list[int]:
    return [int(v) for v in res.to_frame()["entered"]]


def test_pandas_counts_match_walking_each_path() -> None:
    df = click_log(3000, seed=1)
    res = stream_funnel(df, other_events="ignore", **KW)
    steps = walk(df)
    assert entered(res) == [int((steps > i).sum()) for i in range(len(STEPS))]
    ours = res.entities().set_index("entity")["steps"]
    pd.testing.assert_series_equal(ours.sort_index(), steps, check_names=False)
    assert res.n_entities == df["user"].nunique()
    assert res.n_ignored_events == int(df["event"].isin(OTHER).sum())


@pytest.mark.parametrize("lazy", [False, True])
def test_polars_many_other_events_give_the_pandas_result(lazy: bool) -> None:
    pl = pytest.importorskip("polars")
    df = click_log(4000, seed=2, other_share=0.9)
    want = stream_funnel(df, other_events="ignore", **KW)
    frame = pl.from_pandas(df)
    got = stream_funnel(frame.lazy() if lazy else frame, other_events="ignore", **KW)
    pd.testing.assert_frame_equal(got.to_frame(), want.to_frame())
    pd.testing.assert_frame_equal(got.ignored, want.ignored)
    assert got.ignored["event"].tolist() == (
        df.loc[df["event"].isin(OTHER), "event"].value_counts().index.tolist()
    )
    assert got.ignored["entities"].tolist() == [
        df.loc[df["event"] == e, "user"].nunique() for e in got.ignored["event"]
    ]
    assert (got.n_events, got.n_entities, got.n_ignored_events) == (
        want.n_events,
        want.n_entities,
        want.n_ignored_events,
    )
    if not lazy:  # an eager frame keeps every entity, with or without step events
        pd.testing.assert_frame_equal(got.entities(), want.entities())


def test_polars_other_events_raise_with_their_counts() -> None:
    pl = pytest.importorskip("polars")
    df = pd.DataFrame(
        {
            "user": [1, 1, 2, 2, 2],
            "event": ["view", "home", "home", "search", "view"],
            "ts": pd.date_range("2024-01-01", periods=5, freq="h"),
        }
    )
    with pytest.raises(DataError, match=r"2 event name\(s\).*'home' \(2 rows\), 'search'"):
        stream_funnel(pl.from_pandas(df), **KW)


def test_polars_categorical_event_names_give_the_pandas_result() -> None:
    pl = pytest.importorskip("polars")
    df = click_log(600, seed=3)
    frame = pl.from_pandas(df).with_columns(pl.col("event").cast(pl.Categorical))
    got = stream_funnel(frame, other_events="ignore", **KW)
    want = stream_funnel(df, other_events="ignore", **KW)
    pd.testing.assert_frame_equal(got.to_frame(), want.to_frame())
    pd.testing.assert_frame_equal(got.ignored, want.ignored)


@pytest.mark.parametrize("engine", ["pandas", "polars"])
@pytest.mark.parametrize("col", ["user", "event", "ts"])
def test_a_null_after_the_first_row_is_reported(engine: str, col: str) -> None:
    df = click_log(50, seed=4).astype({"user": "float64"})
    df.loc[[7, 30], col] = None
    frame: object = df
    if engine == "polars":
        pl = pytest.importorskip("polars")
        frame = pl.from_pandas(df)
    with pytest.raises(DataError, match=rf"column '{col}' is null in 2 rows"):
        stream_funnel(frame, other_events="ignore", **KW)


def test_whole_number_ids_with_and_without_gaps_match_text_ids() -> None:
    df = click_log(1500, seed=5)
    dense = df.assign(user=df["user"].rank(method="dense").astype(np.int64))
    text = df.assign(user="u" + df["user"].astype(str).str.zfill(6))
    results = [stream_funnel(d, other_events="ignore", **KW) for d in (df, dense, text)]
    for res in results[1:]:
        pd.testing.assert_frame_equal(res.to_frame(), results[0].to_frame())
        pd.testing.assert_frame_equal(res.ignored, results[0].ignored)
    assert results[1].entities()["entity"].tolist() == list(range(1, len(results[1]._ids) + 1))


def test_observation_end_with_other_events_leaves_later_steps_out() -> None:
    df = click_log(2000, seed=6)
    end = df["ts"].quantile(0.5)
    res = stream_funnel(df, other_events="ignore", observation_end=end, **KW)
    early = df[df["ts"] <= end]
    steps = walk(early)
    assert entered(res) == [int((steps > i).sum()) for i in range(len(STEPS))]
    assert res.n_after_end == int(((df["ts"] > end) & df["event"].isin(STEPS)).sum())


def test_sequence_times_with_many_steps() -> None:
    k = 300  # step codes beyond 8 bits
    ent = np.zeros(k, dtype=np.int64)
    step = np.arange(k)[::-1].copy()
    t = np.arange(k, dtype=np.float64)[::-1].copy()  # step j at time j
    out = ks.sequence_times(ent, step, t, 1, k)
    assert out[0].tolist() == list(range(k))
    later = ks.sequence_times(ent, step, -t, 1, k)  # reversed times: only step 0 is reached
    assert (~np.isnan(later)).sum() == 1


@pytest.mark.parametrize("engine", ["polars_lazy", "duckdb"])
def test_lazy_inputs_keep_entities_without_step_events(engine) -> None:
    log = pd.DataFrame(
        {
            "entity_id": [1, 1, 2, 3, 2, 4],
            "stage": ["a", "b", "x", "a", "y", "x"],
            "entered_at": [0.0, 1.0, 0.0, 2.0, 1.0, 5.0],
            "seg": ["s", "s", "t", "s", "t", "t"],
        }
    )
    if engine == "polars_lazy":
        pl = pytest.importorskip("polars")
        data = pl.from_pandas(log).lazy()
    else:
        duckdb = pytest.importorskip("duckdb")
        data = duckdb.connect().from_df(log)
    kwargs = {"stages": ["a", "b"], "other_events": "ignore", "segment_col": "seg"}
    ref = stream_funnel(log, **kwargs)
    out = stream_funnel(data, **kwargs)
    assert out.n_entities == ref.n_entities == 4
    pd.testing.assert_frame_equal(
        out.entities().sort_values("entity").reset_index(drop=True),
        ref.entities().sort_values("entity").reset_index(drop=True),
        check_dtype=False,
    )
    pd.testing.assert_frame_equal(out.to_frame(), ref.to_frame(), check_dtype=False)
    pd.testing.assert_frame_equal(out.ignored, ref.ignored, check_dtype=False)
