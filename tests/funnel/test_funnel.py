"""Tests of crmmodels.funnel: funnel metrics, forecast, velocity and the simulator."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmmodels.datasets._funnel import simulate_funnel
from crmmodels.errors import ArgumentError, DataError, SchemaError
from crmmodels.funnel import (
    DEFAULT_STAGES,
    forecast_backtest,
    funnel_metrics,
    pipeline_forecast,
    sales_velocity,
)

from _engines import to_engine

S = list(DEFAULT_STAGES)
LEAD, NEEDS, PROP, WON = S
LOST = "closed_lost"
T0 = pd.Timestamp("2024-01-01")


def log(rows: list[tuple[Any, str, float]], **extra: list[Any]) -> pd.DataFrame:
    """Build a log from (entity, stage, day offset) rows."""
    df = pd.DataFrame(rows, columns=["entity_id", "stage", "day"])
    df["entered_at"] = T0 + pd.to_timedelta(df.pop("day"), unit="D")
    for k, v in extra.items():
        df[k] = v
    return df


# ------------------------------------------------------------------ independent reference


def reference(df: pd.DataFrame, stages: list[str], exits: list[str], mode: str, as_of: Any = None):
    """Plain pandas / Python funnel written from the documented rules (entity loop)."""
    df = df.drop_duplicates(["entity_id", "stage", "entered_at"])
    as_of = df["entered_at"].max() if as_of is None else pd.Timestamp(as_of)
    df = df[df["entered_at"] <= as_of]
    K = len(stages)
    out = {c: [0] * K for c in ("entered", "advanced", "dropped", "open", "implied", "left")}
    stays: list[list[float]] = [[] for _ in range(K)]
    open_age: list[list[float]] = [[] for _ in range(K)]
    reentries = [0] * K
    for stage, g in df[df["stage"].isin(stages)].groupby("stage"):
        reentries[stages.index(stage)] = int((g.groupby("entity_id").size() - 1).sum())
    for _, g in df.groupby("entity_id"):
        firsts = g.groupby("stage")["entered_at"].min()
        f = [firsts.get(s) for s in stages]
        ex = [firsts[s] for s in exits if s in firsts.index]
        x = min(ex) if ex else None
        obs = [v is not None for v in f]
        if mode == "any":
            n = max([k + 1 for k in range(K) if obs[k]], default=0)
        else:
            n = 0
            while n < K and obs[n] and (n == 0 or f[n] >= f[n - 1]):
                n += 1
        if n == 0:
            continue
        last = n - 1
        beyond = any(obs[k] for k in range(n, K))
        for k in range(n):
            out["entered"][k] += 1
            if not obs[k]:
                out["implied"][k] += 1
        if n == K:
            pass
        elif mode == "ordered" and beyond:
            out["dropped"][last] += 1
            out["left"][last] += 1
        elif x is not None and x >= f[last]:
            out["dropped"][last] += 1
        else:
            out["open"][last] += 1
            open_age[last].append((as_of - f[last]).total_seconds() / 86400)
        for k in range(n - 1):
            out["advanced"][k] += 1
        for k in range(min(n, K - 1)):
            if not obs[k]:
                continue
            later = [f[j] for j in range(k + 1, K) if obs[j]]
            if later:
                end = min(later)
            elif (
                k == last and x is not None and x >= f[last] and not (mode == "ordered" and beyond)
            ):
                end = x
            else:
                continue
            d = (end - f[k]).total_seconds() / 86400
            if d >= 0:
                stays[k].append(d)
    res = pd.DataFrame({"stage": stages, **{k: v for k, v in out.items()}})
    res["conversion"] = res["advanced"] / res["entered"].where(res["entered"] > 0)
    res.loc[K - 1, "conversion"] = np.nan
    res["cumulative_conversion"] = res["entered"] / res["entered"].iloc[0]
    res["time_mean"] = [np.mean(s) if s else np.nan for s in stays]
    res["time_median"] = [np.median(s) if s else np.nan for s in stays]
    res["time_p90"] = [np.quantile(s, 0.9) if s else np.nan for s in stays]
    res["open_time_median"] = [np.median(s) if s else np.nan for s in open_age]
    res["reentries"] = reentries
    return res


def random_log(seed: int, n_ent: int = 200, n_rows: int = 900) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    names = np.array([*S, LOST])
    p = np.array([0.35, 0.25, 0.15, 0.1, 0.15])
    rows = pd.DataFrame(
        {
            "entity_id": rng.integers(0, n_ent, n_rows),
            "stage": names[rng.choice(5, n_rows, p=p)],
            "entered_at": T0 + pd.to_timedelta(rng.integers(0, 90 * 24, n_rows), unit="h"),
        }
    )
    dups = rows.sample(40, random_state=seed)
    return pd.concat([rows, dups], ignore_index=True)


def compare(res, ref) -> None:
    got = res.to_frame()
    for col in ("entered", "advanced", "dropped", "open", "implied", "reentries"):
        np.testing.assert_array_equal(got[col].to_numpy(), ref[col].to_numpy(), err_msg=col)
    np.testing.assert_array_equal(got["left_path"].to_numpy(), ref["left"].to_numpy())
    for col in (
        "conversion",
        "cumulative_conversion",
        "time_mean",
        "time_median",
        "time_p90",
        "open_time_median",
    ):
        np.testing.assert_allclose(
            got[col].to_numpy(float), ref[col].to_numpy(float), rtol=1e-9, atol=1e-9, err_msg=col
        )


@pytest.mark.parametrize("mode", ["any", "ordered"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_pandas_reference_on_random_logs(mode: str, seed: int) -> None:
    df = random_log(seed)
    res = funnel_metrics(df, mode=mode)
    compare(res, reference(df, S, [LOST], mode))
    assert res.n_duplicates == len(df) - len(df.drop_duplicates())
    assert res.n_events == len(df)
    dup = res.issues.set_index("issue").loc["duplicate_events"]
    assert dup["rows"] == res.n_duplicates


def test_reference_with_as_of() -> None:
    df = random_log(5)
    as_of = "2024-02-15"
    res = funnel_metrics(df, observation_end=as_of)
    ref = reference(df, S, [LOST], "any", as_of=as_of)
    got = res.to_frame()
    for col in ("entered", "advanced", "dropped", "open"):
        np.testing.assert_array_equal(got[col].to_numpy(), ref[col].to_numpy())
    np.testing.assert_allclose(got["time_mean"], ref["time_mean"], rtol=1e-9)
    assert "after_observation_end" in set(res.issues["issue"])


def test_columns_and_order() -> None:
    res = funnel_metrics(random_log(3))
    cols = list(res.to_frame().columns)
    for c in [
        "stage",
        "entered",
        "advanced",
        "dropped",
        "open",
        "conversion",
        "cumulative_conversion",
        "time_mean",
        "time_median",
        "time_p90",
        "open_time_median",
        "reentries",
    ]:
        assert c in cols
    assert res.to_frame()["stage"].tolist() == S
    assert res.report is res.issues


# ------------------------------------------------------------------ hand-built edge cases


def test_reentry_first_entry_counts() -> None:
    df = log([(1, LEAD, 0), (1, NEEDS, 2), (1, LEAD, 3), (1, NEEDS, 5), (1, WON, 9)])
    t = funnel_metrics(df).to_frame().set_index("stage")
    assert t["entered"].tolist() == [1, 1, 1, 1]
    assert t["reentries"].tolist() == [1, 1, 0, 0]
    assert t.loc[LEAD, "time_mean"] == 2.0
    assert t.loc[NEEDS, "time_mean"] == 7.0  # first entry to first later-stage entry
    assert t.loc[PROP, "implied"] == 1
    assert np.isnan(t.loc[PROP, "time_mean"])  # implied stays have no length


def test_skip_any_vs_ordered() -> None:
    df = log([(1, LEAD, 0), (1, PROP, 4), (1, WON, 6), (2, LEAD, 1), (2, NEEDS, 2)])
    a = funnel_metrics(df, mode="any").to_frame().set_index("stage")
    assert a["entered"].tolist() == [2, 2, 1, 1]
    assert a["implied"].tolist() == [0, 1, 0, 0]
    assert a.loc[LEAD, "time_mean"] == 2.5  # (4 + 1) / 2
    o = funnel_metrics(df, mode="ordered")
    ot = o.to_frame().set_index("stage")
    assert ot["entered"].tolist() == [2, 1, 0, 0]
    assert ot["dropped"].tolist() == [1, 0, 0, 0]
    assert ot["left_path"].tolist() == [1, 0, 0, 0]
    assert ot["open"].tolist() == [0, 1, 0, 0]
    assert "left_path" in set(o.issues["issue"])


def test_open_entity_reported_separately() -> None:
    df = log([(1, LEAD, 0), (1, NEEDS, 3), (2, LEAD, 0), (2, LOST, 4)])
    r = funnel_metrics(df, observation_end="2024-01-11")
    t = r.to_frame().set_index("stage")
    assert t.loc[NEEDS, "open"] == 1
    assert t.loc[NEEDS, "open_time_median"] == 7.0
    assert np.isnan(t.loc[NEEDS, "time_mean"])  # not finished
    assert t.loc[LEAD, "time_mean"] == 3.5  # advanced at 3, dropped at 4
    assert t.loc[LEAD, "time_n"] == 2
    assert r.observation_end == "2024-01-11"


def test_tie_timestamps() -> None:
    df = log([(1, LEAD, 0), (1, NEEDS, 0), (1, PROP, 0), (1, WON, 1)])
    for mode in ("any", "ordered"):
        t = funnel_metrics(df, mode=mode).to_frame()
        assert t["entered"].tolist() == [1, 1, 1, 1]
        assert t["time_mean"].tolist()[:3] == [0.0, 0.0, 1.0]


def test_single_stage_funnel() -> None:
    df = log([(1, "lead", 0), (2, "lead", 1), (2, "lost", 2)])
    r = funnel_metrics(df, stages=["lead"], exit_stages=["lost"])
    t = r.to_frame()
    assert t["entered"].tolist() == [2]
    assert np.isnan(t["conversion"].iloc[0])
    assert r.bottleneck is None
    assert r.win_rate == 1.0
    assert "exit_after_final" in set(r.issues["issue"])


def test_duplicates_deduplicated_and_counted() -> None:
    df = log([(1, LEAD, 0), (1, LEAD, 0), (1, LEAD, 0), (1, NEEDS, 2)])
    r = funnel_metrics(df)
    assert r.n_duplicates == 2
    assert r.to_frame()["reentries"].tolist() == [0, 0, 0, 0]
    row = r.issues.set_index("issue").loc["duplicate_events"]
    assert (row["rows"], row["entities"]) == (2, 1)


def test_backwards_report_and_raise() -> None:
    df = log([(1, NEEDS, 0), (1, LEAD, 5), (1, PROP, 7), (2, LEAD, 0), (2, NEEDS, 1)])
    r = funnel_metrics(df)
    t = r.to_frame().set_index("stage")
    assert t["entered"].tolist() == [2, 2, 1, 0]
    # entity 1's lead stay would end at its earlier needs entry (day 0): left out
    assert t.loc[LEAD, "time_n"] == 1
    assert t.loc[NEEDS, "time_n"] == 1  # entity 1 needs 0 -> prop 7; entity 2 open
    assert r.issues.set_index("issue").loc["backwards_time", "entities"] == 1
    with pytest.raises(DataError, match=r"backwards.*1 entities.*entity_id=1"):
        funnel_metrics(df, on_backwards="raise")
    o = funnel_metrics(df, mode="ordered").to_frame()
    assert o["entered"].tolist() == [2, 1, 0, 0]
    assert o["left_path"].tolist() == [1, 0, 0, 0]


def test_negative_stay_excluded() -> None:
    df = log([(1, LEAD, 5), (1, NEEDS, 2)])
    t = funnel_metrics(df).to_frame()
    assert t["time_n"].tolist()[0] == 0


def test_no_first_stage_per_mode() -> None:
    df = log([(1, NEEDS, 0), (1, PROP, 2), (2, LEAD, 0), (3, LOST, 1)])
    a = funnel_metrics(df)
    assert a.to_frame()["entered"].tolist() == [2, 1, 1, 0]
    issues = a.issues.set_index("issue")
    assert issues.loc["no_first_stage", "entities"] == 1
    assert issues.loc["exit_only", "entities"] == 1
    o = funnel_metrics(df, mode="ordered")
    assert o.to_frame()["entered"].tolist() == [1, 0, 0, 0]
    assert o.issues.set_index("issue").loc["not_in_funnel", "entities"] == 1


def test_reopened_after_exit_counted_open() -> None:
    df = log([(1, LEAD, 0), (1, LOST, 1), (1, NEEDS, 2)])
    r = funnel_metrics(df)
    t = r.to_frame().set_index("stage")
    assert t.loc[NEEDS, "open"] == 1 and t.loc[NEEDS, "dropped"] == 0
    assert "reopened_after_exit" in set(r.issues["issue"])


def test_promotion_marker() -> None:
    df = log([(1, LEAD, 0), (1, "qualified", 3), (2, LEAD, 0), (2, NEEDS, 5)])
    with pytest.raises(DataError, match="'qualified' \\(1 rows\\)"):
        funnel_metrics(df)
    r = funnel_metrics(df, promotion={LEAD: "qualified"})
    t = r.to_frame().set_index("stage")
    assert t.loc[LEAD, "advanced"] == 2
    assert t.loc[LEAD, "time_mean"] == 4.0
    with pytest.raises(SchemaError, match="last stage"):
        funnel_metrics(df, promotion={WON: "x"})
    with pytest.raises(SchemaError, match="marker"):
        funnel_metrics(df, promotion={LEAD: PROP})


def test_won_stage_before_post_sale_stage() -> None:
    df = log([(1, LEAD, 0), (1, WON, 3), (1, "onboarded", 9), (2, LEAD, 0), (2, LOST, 2)])
    r = funnel_metrics(df, stages=[LEAD, WON, "onboarded"], won_stage=WON)
    assert r.win_rate == 0.5
    v = sales_velocity(r)
    assert v.win_rate == 0.5 and v.cycle_days == 3.0


def test_bottleneck_is_lowest_conversion() -> None:
    rows = [(i, LEAD, 0) for i in range(10)]
    rows += [(i, NEEDS, 1) for i in range(8)]
    rows += [(i, PROP, 2) for i in range(2)]
    rows += [(i, WON, 3) for i in range(2)]
    rows += [(i, LOST, 3) for i in range(2, 10)]
    r = funnel_metrics(log(rows))
    assert r.bottleneck == NEEDS
    assert r.to_frame()["bottleneck"].tolist() == [False, True, False, False]
    np.testing.assert_allclose(r.to_frame()["conversion"][:3], [0.8, 0.25, 1.0])


# ------------------------------------------------------------------ cohorts, segments, trend


def test_cohort_and_segment_tables_match_reference() -> None:
    df = random_log(7)
    rng = np.random.default_rng(0)
    seg = pd.Series(rng.choice(["a", "b"], 200))
    df["segment"] = seg.to_numpy()[df["entity_id"].to_numpy()]
    r = funnel_metrics(df, cohort="M", segment_col="segment")
    f = df[df["stage"].isin(S)].groupby("entity_id")["entered_at"].min().dt.to_period("M")
    for label, ids in f.groupby(f).groups.items():
        ref = reference(
            df[df["entity_id"].isin(ids)], S, [LOST], "any", as_of=df["entered_at"].max()
        )
        got = r.cohorts[r.cohorts["cohort"] == str(label)]
        for col in ("entered", "advanced", "dropped", "open"):
            np.testing.assert_array_equal(got[col].to_numpy(), ref[col].to_numpy())
    for label in ("a", "b"):
        sub = df[df["segment"] == label]
        ref = reference(sub, S, [LOST], "any", as_of=df["entered_at"].max())
        got = r.segments[r.segments["segment"] == label]
        np.testing.assert_array_equal(got["entered"].to_numpy(), ref["entered"].to_numpy())
        np.testing.assert_allclose(got["conversion"], ref["conversion"])
    trend = r.conversion_trend("M")
    assert trend["entered"].sum() == r.to_frame()["entered"].iloc[0]
    assert list(trend.columns) == ["entered", LEAD, NEEDS, PROP, "win_rate"]


def test_string_ids_and_categorical_stage() -> None:
    df = random_log(6, n_ent=50, n_rows=200)
    df["entity_id"] = "opp-" + df["entity_id"].astype(str)
    cat = df.assign(stage=df["stage"].astype("category"))
    a = funnel_metrics(cat, mode="ordered")
    b = funnel_metrics(to_engine(df, "polars"), mode="ordered")
    pd.testing.assert_frame_equal(a.to_frame(), b.to_frame())
    pd.testing.assert_frame_equal(a.issues, b.issues)
    compare(a, reference(df, S, [LOST], "ordered"))
    assert a.entities()["entity_id"].is_monotonic_increasing


def test_bad_cohort_alias() -> None:
    with pytest.raises(ArgumentError, match="cohort must be 'D' \\(calendar day\\)"):
        funnel_metrics(random_log(1), cohort="fortnight")


def test_segment_must_be_constant() -> None:
    df = log([(1, LEAD, 0), (1, NEEDS, 1)], segment=["a", "b"])
    with pytest.raises(DataError, match="changes within an entity"):
        funnel_metrics(df, segment_col="segment")


# ------------------------------------------------------------------ forecast and velocity


def test_pipeline_forecast_hand_built() -> None:
    rows = [
        (1, LEAD, 0),
        (1, NEEDS, 1),
        (1, WON, 3),
        (2, LEAD, 0),
        (2, NEEDS, 1),
        (2, LOST, 2),
        (3, LEAD, 0),
        (3, LOST, 1),
        (4, LEAD, 5),  # open at lead
        (5, LEAD, 5),
        (5, NEEDS, 6),  # open at needs
    ]
    amounts = [100, 100, 100, 50, 50, 50, 70, 70, 200, 300, 300]
    r = funnel_metrics(log(rows, amount=amounts), amount_col="amount")
    fc = pipeline_forecast(r)
    t = fc.to_frame().set_index("stage")
    # closed: 1 won (reached needs), 2 lost at needs, 3 lost at lead
    np.testing.assert_allclose(t["win_rate"], [1 / 3, 1 / 2, 1.0])
    assert t["open"].tolist() == [1, 1, 0]
    np.testing.assert_allclose(fc.weighted_amount, 200 / 3 + 300 / 2)
    np.testing.assert_allclose(fc.expected_wins, 1 / 3 + 1 / 2)
    assert fc.open_amount == 500
    assert sorted(fc.deals["entity_id"]) == [4, 5]


def test_backtest_on_simulation_is_close() -> None:
    sim = simulate_funnel(20000, seed=11, observe_days=200)
    r = funnel_metrics(sim.history, amount_col="amount")
    bt = forecast_backtest(r, "2024-09-01")
    assert bt.still_open == 0
    assert abs(bt.predicted_wins - bt.actual_wins) < 4 * np.sqrt(bt.actual_wins) + 5
    assert abs(bt.predicted_amount / bt.actual_amount - 1) < 0.25
    assert bt.to_frame()["open_at_cut"].sum() > 500
    with pytest.raises(DataError, match="cut must be before"):
        forecast_backtest(r, "2030-01-01")


def test_sales_velocity_formula() -> None:
    sim = simulate_funnel(3000, seed=4)
    r = funnel_metrics(sim.history, amount_col="amount")
    v = sales_velocity(r)
    ents = r.entities()
    won = ents[ents["outcome"] == "won"]
    closed = ents[ents["outcome"].isin(["won", "lost"])]
    assert v.opportunities == (ents["outcome"] == "open").sum()
    np.testing.assert_allclose(v.win_rate, len(won) / len(closed))
    np.testing.assert_allclose(v.avg_deal_size, won["amount"].mean())
    h = sim.history
    t_won = h[h["stage"] == WON].set_index("entity_id")["entered_at"]
    t_first = h.groupby("entity_id")["entered_at"].min()
    cycle = ((t_won - t_first.loc[t_won.index]).dt.total_seconds() / 86400).mean()
    np.testing.assert_allclose(v.cycle_days, cycle)
    np.testing.assert_allclose(
        v.velocity, v.opportunities * v.win_rate * v.avg_deal_size / v.cycle_days
    )


# ------------------------------------------------------------------ simulator recovery


def test_simulator_truth_recovered() -> None:
    sim = simulate_funnel(40000, seed=5, conversion=(0.7, 0.45, 0.3), observe_days=400)
    t = funnel_metrics(sim.history).to_frame().set_index("stage")
    assert t["open"].sum() == 0
    for _, row in sim.truth.iterrows():
        got = t.loc[row["stage"]]
        closed = got["advanced"] + got["dropped"]
        p = got["advanced"] / closed
        assert abs(p - row["conversion"]) < 4 * np.sqrt(row["conversion"] * 0.7 / closed)
        se = row["mean_days"] / np.sqrt(got["time_n"])
        assert abs(got["time_mean"] - row["mean_days"]) < 4 * se
        np.testing.assert_allclose(got["time_median"], row["mean_days"] * np.log(2), rtol=0.08)


def test_simulator_bad_args() -> None:
    with pytest.raises(DataError, match="one value per stage"):
        simulate_funnel(10, conversion=(0.5,))
    with pytest.raises(DataError):
        simulate_funnel(10, conversion=(0.5, 1.5, 0.2))


# ------------------------------------------------------------------ bad input


def test_unknown_stages_listed_with_counts() -> None:
    df = log([(1, LEAD, 0), (1, "demo", 1), (2, "demo", 2), (2, "trial", 3)])
    with pytest.raises(DataError, match=r"2 unknown.*'demo' \(2 rows\).*'trial' \(1 rows\)"):
        funnel_metrics(df)


@pytest.mark.parametrize("col", ["entity_id", "stage", "entered_at"])
def test_nulls_rejected(col: str) -> None:
    df = log([(1, LEAD, 0), (2, LEAD, 1)])
    if col == "entered_at":
        df.loc[1, col] = pd.NaT
    else:
        df[col] = df[col].astype(object)
        df.loc[1, col] = None
    with pytest.raises(DataError, match=f"'{col}' is null in 1 row"):
        funnel_metrics(df)


def test_schema_errors() -> None:
    df = log([(1, LEAD, 0)])
    with pytest.raises(SchemaError, match="no column 'entity'"):
        funnel_metrics(df, entity_col="entity")
    with pytest.raises(DataError, match="not an ISO 8601 date"):
        funnel_metrics(df.assign(entered_at="x"))
    with pytest.raises(ArgumentError, match="mode"):
        funnel_metrics(df, mode="strict")  # type: ignore[arg-type]
    with pytest.raises(SchemaError, match="won_stage"):
        funnel_metrics(df, won_stage="nope")
    with pytest.raises(SchemaError, match="exit_stages"):
        funnel_metrics(df, exit_stages=[LEAD])
    with pytest.raises(SchemaError, match="distinct"):
        funnel_metrics(df, stages=[LEAD, LEAD])
    with pytest.raises(SchemaError, match="numeric"):
        funnel_metrics(df.assign(amount="x"), amount_col="amount")
    with pytest.raises(DataError, match="empty"):
        funnel_metrics(df.iloc[:0])
    with pytest.raises(SchemaError, match="dataframe"):
        funnel_metrics([1, 2])


def test_numeric_time_and_input_not_mutated() -> None:
    df = pd.DataFrame(
        {"id": [1, 1, 2], "s": [LEAD, NEEDS, LEAD], "t": [0.0, 2.5, 1.0], "a": [1.0, 2.0, 3.0]}
    )
    before = df.copy()
    r = funnel_metrics(df, entity_col="id", stage_col="s", date_col="t", amount_col="a")
    pd.testing.assert_frame_equal(df, before)
    assert r.to_frame()["time_mean"].iloc[0] == 2.5
    assert r.observation_end == "2.5"
    with pytest.raises(SchemaError, match="datetime"):
        r.conversion_trend()


def test_time_column_kinds_agree() -> None:
    import polars as pl

    df = random_log(4, n_ent=30, n_rows=120)
    df["entered_at"] = df["entered_at"].dt.floor("D")
    base = funnel_metrics(df).to_frame()
    tz = df.assign(entered_at=df["entered_at"].dt.tz_localize("Europe/Paris"))
    shifted = funnel_metrics(tz).to_frame()  # same instants shifted: same durations
    np.testing.assert_allclose(shifted["time_mean"], base["time_mean"])
    dates = pl.from_pandas(df).with_columns(pl.col("entered_at").dt.date())
    pd.testing.assert_frame_equal(funnel_metrics(dates).to_frame(), base)
    arrow = df.assign(entered_at=df["entered_at"].astype("timestamp[us][pyarrow]"))
    pd.testing.assert_frame_equal(funnel_metrics(arrow).to_frame(), base)


# ------------------------------------------------------------------ properties


events = st.lists(
    st.tuples(st.integers(0, 6), st.integers(0, 4), st.integers(0, 15)), min_size=1, max_size=40
)


@given(events, st.sampled_from(["any", "ordered"]), st.randoms(use_true_random=False))
def test_invariants(rows: list[tuple[int, int, int]], mode: str, rnd: Any) -> None:
    names = [*S, LOST]
    df = log([(e, names[s], d) for e, s, d in rows])
    r = funnel_metrics(df, mode=mode)  # type: ignore[arg-type]
    t = r.to_frame()
    entered, adv = t["entered"].to_numpy(), t["advanced"].to_numpy()
    assert (entered >= adv).all()
    cum = t["cumulative_conversion"].to_numpy()
    if entered[0] > 0:
        assert (np.diff(cum) <= 1e-12).all()
    body = t.iloc[:-1]
    assert (body["entered"] == body["advanced"] + body["dropped"] + body["open"]).all()
    # every entity counted once: it ends at exactly one stage (or is reported out)
    n_in = int(body["dropped"].sum() + body["open"].sum() + t["entered"].iloc[-1])
    ents = r.entities()
    assert n_in == int((ents["outcome"] != "not_in_funnel").sum())
    assert len(ents) == df["entity_id"].nunique()
    order = list(range(len(df)))
    rnd.shuffle(order)
    r2 = funnel_metrics(df.iloc[order], mode=mode)  # type: ignore[arg-type]
    pd.testing.assert_frame_equal(r2.to_frame(), t)
    # the pandas fast path and the generic (narwhals, here polars) path agree
    r3 = funnel_metrics(to_engine(df, "polars"), mode=mode)  # type: ignore[arg-type]
    pd.testing.assert_frame_equal(r3.to_frame(), t)
    pd.testing.assert_frame_equal(r3.issues, r.issues)


# ------------------------------------------------------------------ engines and plots


def test_engines_agree(engine: str) -> None:
    df = random_log(9, n_ent=40, n_rows=150)
    df["amount"] = np.arange(len(df), dtype=float)
    df["segment"] = np.where(df["entity_id"] % 2 == 0, "a", "b")
    expected = funnel_metrics(df, amount_col="amount", segment_col="segment")
    got = funnel_metrics(to_engine(df, engine), amount_col="amount", segment_col="segment")
    pd.testing.assert_frame_equal(got.to_frame(), expected.to_frame())
    pd.testing.assert_frame_equal(got.issues, expected.issues)
    assert got.segments is not None and expected.segments is not None
    pd.testing.assert_frame_equal(got.segments, expected.segments)
    assert pipeline_forecast(got).weighted_amount == pytest.approx(
        pipeline_forecast(expected).weighted_amount
    )


def test_plots_and_repr() -> None:
    sim = simulate_funnel(500, seed=2)
    r = funnel_metrics(sim.history, amount_col="amount")
    ax = r.plot()
    assert len(ax.patches) == 4
    texts = " ".join(t.get_text() for t in ax.texts)
    assert "500" in texts and "%" in texts
    ax2 = r.plot(kind="time")
    assert len(ax2.get_xticklabels()) == 3
    with pytest.raises(ValueError, match="kind"):
        r.plot(kind="pie")
    pipeline_forecast(r).plot()
    forecast_backtest(r, "2024-09-01").plot()
    sales_velocity(r).plot()
    assert "FunnelResult(" in repr(r) and "<table>" in r._repr_html_()
    assert r.to_dict()["n_entities"] == 500


def test_forecast_reports_open_deals_without_history() -> None:
    # No closed deal ever reached "b": the open deal there cannot be weighted.
    log = pd.DataFrame(
        {
            "entity_id": [1, 1, 2, 3, 3],
            "stage": ["a", "closed_lost", "a", "a", "b"],
            "entered_at": [0.0, 2.0, 1.0, 0.0, 3.0],
            "amount": [10.0, 10.0, 20.0, 30.0, 30.0],
        }
    )
    res = funnel_metrics(log, stages=["a", "b", "won"], amount_col="amount")
    fc = pipeline_forecast(res)
    t = fc.table.set_index("stage")
    assert t.loc["a", "win_rate"] == pytest.approx(0.0)
    assert np.isnan(t.loc["b", "win_rate"])
    assert fc.n_unrated == 1
    assert fc.expected_wins == pytest.approx(0.0)
    assert fc.open_amount == pytest.approx(50.0)
    # At 2.5 deals 2 and 3 are open in "a", which has one closed deal behind it.
    bt = forecast_backtest(res, 2.5)
    assert bt.n_unrated == 0
    assert bt.still_open == pytest.approx(2.0)
    deals = fc.deals.set_index("entity_id")
    assert deals.loc[3, "stage"] == "b" and np.isnan(deals.loc[3, "win_rate"])
