"""Tests of crmmodels.lifecycle: stages at a date (two schemes) and transitions.

The reference classifier below is plain pandas written independently of the library.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmmodels.errors import DataError, SchemaError
from crmmodels.lifecycle import (
    NOT_YET_CUSTOMER,
    PURCHASE_STAGES,
    LifecycleRules,
    lifecycle_stages,
    lifecycle_transitions,
)

from _engines import to_engine


def random_log(seed: int, n: int = 300, customers: int = 50, days: int = 900) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "customer_id": rng.integers(0, customers, n),
            "date": pd.Timestamp("2021-01-01")
            + pd.to_timedelta(rng.integers(0, days, n), unit="D")
            + pd.to_timedelta(rng.integers(0, 24, n), unit="h"),
            "amount": rng.gamma(2.0, 15.0, n).round(2),
        }
    )


def ref_purchase_stages(
    df: pd.DataFrame, as_of: str, churn_after_days: int, customers: list[Any] | None = None
) -> pd.Series:
    a = pd.Timestamp(as_of)
    d = df.assign(day=df["date"].dt.normalize())
    before = d[d["day"] <= a]
    n_days = before.groupby("customer_id")["day"].nunique()
    last = before.groupby("customer_id")["day"].max()
    out = {}
    for cid in n_days.index:
        if (a - last[cid]).days > churn_after_days:
            out[cid] = "churned"
        elif n_days[cid] >= 2:
            out[cid] = "loyal"
        else:
            out[cid] = "first_time"
    for cid in set(df["customer_id"]) | set(customers or []):
        out.setdefault(cid, "prospect")
    return pd.Series(out).sort_index()


# ---------------------------------------------------------------------------------------
# purchase scheme
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("churn", [30, 180, 365])
def test_purchase_scheme_matches_reference(seed: int, churn: int) -> None:
    df = random_log(seed)
    extra = [1000, 1001]
    res = lifecycle_stages(
        df,
        observation_end="2022-06-15",
        rules=LifecycleRules(churn_after_days=churn),
        customers=extra,
        amount_col="amount",
    )
    got = res.to_frame().set_index("customer_id")["stage"].sort_index()
    ref = ref_purchase_stages(df, "2022-06-15", churn, extra)
    pd.testing.assert_series_equal(got, ref, check_names=False)
    counts = ref.value_counts().reindex(PURCHASE_STAGES, fill_value=0)
    assert res.summary["customers"].tolist() == counts.tolist()
    before = df[df["date"].dt.normalize() <= "2022-06-15"]
    value = before.groupby("customer_id")["amount"].sum()
    by_stage = value.groupby(ref.reindex(value.index)).sum()
    for stage, v in by_stage.items():
        assert res.summary.loc[stage, "value"] == pytest.approx(v)
    assert res.summary["share"].sum() == pytest.approx(1.0)
    assert res.n_customers == len(ref)


def test_edge_cases_on_as_of_and_churn_boundary() -> None:
    tx = pd.DataFrame(
        {
            "customer_id": ["on_as_of", "edge", "past_edge", "two_same_day", "two_same_day", "fut"],
            "date": pd.to_datetime(
                [
                    "2024-06-30 23:59",  # exactly on as_of (late in the day): counts
                    "2024-06-20 00:00",  # exactly churn_after_days = 10 days before as_of
                    "2024-06-19 00:00",  # 11 days: churned
                    "2024-06-29 08:00",
                    "2024-06-29 17:00",  # two orders, one purchase day
                    "2024-07-01 00:00",  # only after as_of: prospect
                ]
            ),
        }
    )
    res = lifecycle_stages(
        tx,
        observation_end="2024-06-30",
        rules=LifecycleRules(churn_after_days=10),
        customers=["lead"],
    )
    stages = res.to_frame().set_index("customer_id")["stage"].to_dict()
    assert stages == {
        "on_as_of": "first_time",
        "edge": "first_time",
        "past_edge": "churned",
        "two_same_day": "first_time",
        "fut": "prospect",
        "lead": "prospect",
    }
    frame = res.to_frame().set_index("customer_id")
    assert frame.loc["edge", "days_since_last"] == 10
    assert frame.loc["on_as_of", "days_since_last"] == 0
    assert res.n_prospects == 2
    excl = lifecycle_stages(
        tx,
        observation_end="2024-06-30",
        rules=LifecycleRules(churn_after_days=10),
        future_customers="exclude",
    )
    assert "fut" not in set(excl.to_frame()["customer_id"]) and excl.n_excluded == 1


def test_churned_whatever_the_count_and_loyal() -> None:
    tx = pd.DataFrame(
        {
            "customer_id": [1, 1, 1, 2, 2],
            "date": pd.to_datetime(
                ["2020-01-01", "2020-02-01", "2020-03-01", "2024-05-01", "2024-06-01"]
            ),
        }
    )
    res = lifecycle_stages(tx, observation_end="2024-06-30")
    assert res.to_frame()["stage"].tolist() == ["churned", "loyal"]


class StubModel:
    """P(alive) = exp(-(T - recency) / 4), recording what it received."""

    def __init__(self) -> None:
        self.calls: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []

    def probability_alive(self, frequency: Any, recency: Any, T: Any) -> np.ndarray:
        self.calls.append((np.asarray(frequency), np.asarray(recency), np.asarray(T)))
        return np.exp(-(np.asarray(T) - np.asarray(recency)) / 4.0)


def test_model_based_churn_with_stub_model() -> None:
    tx = pd.DataFrame(
        {
            "customer_id": [1, 1, 2, 3, 3, 3],
            "date": pd.to_datetime(
                ["2024-01-01", "2024-01-15", "2024-06-16", "2024-01-01", "2024-03-04", "2024-06-01"]
            ),
        }
    )
    model = StubModel()
    res = lifecycle_stages(
        tx, observation_end="2024-06-30", model=model, rules=LifecycleRules(alive_threshold=0.5)
    )
    freq, rec, T = model.calls[0]
    np.testing.assert_allclose(freq, [1, 0, 2])
    np.testing.assert_allclose(rec, [2.0, 0.0, 152 / 7])  # weeks
    np.testing.assert_allclose(T, [181 / 7, 14 / 7, 181 / 7])
    frame = res.to_frame().set_index("customer_id")
    np.testing.assert_allclose(frame["p_alive"], np.exp(-(T - rec) / 4))
    # customer 1: ~24 weeks since last -> churned; 2: 2 weeks -> first_time; 3: ~4.1 weeks
    # -> p = exp(-29/28) ~ 0.355 -> churned, although the days rule would call it loyal
    assert frame["stage"].tolist() == ["churned", "first_time", "churned"]
    days = StubModel()
    lifecycle_stages(tx, observation_end="2024-06-30", model=days, time_unit="D")
    np.testing.assert_allclose(days.calls[0][2], [181, 14, 181])


# ---------------------------------------------------------------------------------------
# relationship scheme
# ---------------------------------------------------------------------------------------


def test_relationship_scheme_hand_built() -> None:
    monthly = pd.date_range("2023-07-01", "2024-06-01", freq="MS")  # steady buyer
    early = pd.date_range("2023-01-01", "2023-06-01", freq="MS")  # stopped buying
    growing = pd.to_datetime(["2023-01-10", "2024-05-01", "2024-05-20", "2024-06-10"])
    fresh = pd.to_datetime(["2024-06-01", "2024-06-20"])  # two purchases, no history yet
    rows = (
        [("stable", d) for d in monthly]
        + [("declining", d) for d in early]
        + [("growing", d) for d in growing]
        + [("fresh", d) for d in fresh]
        + [("once", pd.Timestamp("2024-01-01"))]
    )
    tx = pd.DataFrame(rows, columns=["customer_id", "date"])
    res = lifecycle_stages(
        tx,
        observation_end="2024-06-30",
        rules=LifecycleRules(scheme="relationship"),
        customers=["lead"],
    )
    frame = res.to_frame().set_index("customer_id")
    assert frame["stage"].to_dict() == {
        "declining": "decline",
        "fresh": "formation",
        "growing": "formation",
        "lead": "prospect",
        "once": "exploration",
        "stable": "stability",
    }
    # stable: window (Apr 1, Jun 30] holds May 1 and Jun 1; history Jul 1 .. Apr 1 holds
    # 10 purchases over 276 days
    assert frame.loc["stable", "trend"] == pytest.approx((2 / 90) / (10 / 276))
    assert frame.loc["declining", "trend"] == 0.0
    assert np.isnan(frame.loc["fresh", "trend"])
    stricter = lifecycle_stages(
        tx,
        observation_end="2024-06-30",
        rules=LifecycleRules(scheme="relationship", stability_min_purchases=20),
    )
    assert stricter.to_frame().set_index("customer_id").loc["stable", "stage"] == "formation"
    assert list(res.summary.index) == [
        "prospect",
        "exploration",
        "formation",
        "stability",
        "decline",
    ]


def ref_relationship_stages(df: pd.DataFrame, as_of: str, w: int = 90) -> pd.DataFrame:
    a = pd.Timestamp(as_of)
    d = df.assign(day=df["date"].dt.normalize())
    d = d[d["day"] <= a]
    out = {}
    for cid, grp in d.groupby("customer_id"):
        daily = grp.groupby("day")["amount"].sum()
        n = len(daily)
        cut = a - pd.Timedelta(days=w)
        recent = daily[daily.index > cut].sum()
        hist = daily[daily.index <= cut].sum()
        first = daily.index.min()
        trend = recent / w / (hist / ((cut - first).days + 1)) if first <= cut else np.nan
        if n < 2:
            stage = "exploration"
        elif first <= cut and trend < 0.5:
            stage = "decline"
        elif n < 4 or first > cut or trend > 1.5:
            stage = "formation"
        else:
            stage = "stability"
        out[cid] = (stage, trend, recent, hist)
    return pd.DataFrame.from_dict(
        out, orient="index", columns=["stage", "trend", "recent_value", "history_value"]
    ).sort_index()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_relationship_scheme_matches_reference(seed: int) -> None:
    df = random_log(seed, n=600, customers=40)
    res = lifecycle_stages(
        df,
        observation_end="2022-12-31",
        rules=LifecycleRules(scheme="relationship"),
        amount_col="amount",
    )
    got = res.to_frame().set_index("customer_id").sort_index()
    ref = ref_relationship_stages(df, "2022-12-31")
    assert got["stage"].tolist() == ref["stage"].tolist()
    assert set(ref["stage"]) >= {"decline", "formation", "stability"}
    np.testing.assert_allclose(got["trend"], ref["trend"], rtol=1e-9)
    np.testing.assert_allclose(got["recent_value"], ref["recent_value"], rtol=1e-9)
    np.testing.assert_allclose(got["history_value"], ref["history_value"], rtol=1e-9)


# ---------------------------------------------------------------------------------------
# transitions
# ---------------------------------------------------------------------------------------


def test_transitions_match_snapshots_and_reference() -> None:
    df = random_log(3)
    snaps = ["2021-06-30", "2021-12-31", "2022-06-30", "2022-12-31"]
    res = lifecycle_transitions(df, snapshots=snaps, rules=LifecycleRules(churn_after_days=120))
    everyone = sorted(df["customer_id"].unique())
    assert list(res.stages.index) == everyone
    ref_cols = []
    for s in snaps:
        ref = ref_purchase_stages(df, s, 120)
        first = df.groupby("customer_id")["date"].min().dt.normalize()
        ref[first.index[first > pd.Timestamp(s)]] = NOT_YET_CUSTOMER
        ref_cols.append(ref.reindex(everyone))
    for j, s in enumerate(snaps):
        pd.testing.assert_series_equal(
            res.stages[s], ref_cols[j], check_names=False, check_index=False
        )
        assert res.stage_counts.loc[s].sum() == len(everyone)
    pooled = sum(
        pd.crosstab(ref_cols[j], ref_cols[j + 1]).reindex(
            index=res.counts.index, columns=res.counts.columns, fill_value=0
        )
        for j in range(len(snaps) - 1)
    )
    np.testing.assert_array_equal(res.counts.to_numpy(), pooled.to_numpy())
    rates = res.rates.to_numpy()
    rows = res.counts.sum(axis=1).to_numpy() > 0
    np.testing.assert_allclose(rates[rows].sum(axis=1), 1.0)
    assert np.isnan(rates[~rows]).all()
    assert res.matrix(0).to_numpy().sum() == len(everyone)
    assert res.counts.loc[NOT_YET_CUSTOMER].sum() == sum(
        (ref_cols[j] == NOT_YET_CUSTOMER).sum() for j in range(len(snaps) - 1)
    )
    # time in stage: snapshots per customer ever in the stage
    wide = pd.concat(ref_cols, axis=1)
    for stage in ("first_time", "loyal", "churned"):
        per = (wide == stage).sum(axis=1)
        row = res.time_in_stage.loc[stage]
        assert row["customers"] == (per > 0).sum()
        assert row["mean_snapshots"] == pytest.approx(per[per > 0].mean())


def test_time_in_stage_spells() -> None:
    tx = pd.DataFrame(
        {
            "customer_id": [1, 1, 2],
            "date": pd.to_datetime(["2024-01-05", "2024-04-10", "2024-02-10"]),
        }
    )
    snaps = pd.date_range("2024-01-31", periods=5, freq="ME")
    res = lifecycle_transitions(
        tx, snapshots=list(snaps), rules=LifecycleRules(churn_after_days=60)
    )
    assert res.stages.loc[1].tolist() == ["first_time", "first_time", "churned", "loyal", "loyal"]
    assert res.stages.loc[2].tolist() == [
        NOT_YET_CUSTOMER,
        "first_time",
        "first_time",
        "churned",
        "churned",
    ]
    t = res.time_in_stage
    assert t.loc["churned", "spells"] == 2 and t.loc["churned", "censored_spells"] == 1
    assert t.loc["churned", "mean_spell"] == pytest.approx(1.5)
    assert t.loc["first_time", "mean_snapshots"] == 2.0
    assert t.loc["loyal", "mean_snapshots"] == 2.0
    spacing = np.diff(snaps).mean() / pd.Timedelta(days=1)
    assert t.loc["churned", "mean_spell_days"] == pytest.approx(1.5 * spacing)


# ---------------------------------------------------------------------------------------
# properties
# ---------------------------------------------------------------------------------------

logs = st.lists(st.tuples(st.integers(0, 15), st.integers(0, 700)), min_size=1, max_size=50).map(
    lambda rows: pd.DataFrame(
        {
            "customer_id": [r[0] for r in rows],
            "date": pd.Timestamp("2022-01-01") + pd.to_timedelta([r[1] for r in rows], unit="D"),
            "amount": [1.0 + r[1] % 5 for r in rows],
        }
    )
)


@settings(max_examples=20, deadline=None)
@given(
    df=logs,
    scheme=st.sampled_from(["purchase", "relationship"]),
    seed=st.integers(0, 2**16),
)
def test_each_customer_once_per_snapshot_and_order_free(
    df: pd.DataFrame, scheme: str, seed: int
) -> None:
    snaps = ["2022-03-01", "2022-09-01", "2023-03-01", "2023-12-31"]
    res = lifecycle_transitions(
        df, snapshots=snaps, rules=LifecycleRules(scheme=scheme), amount_col="amount"
    )  # type: ignore[arg-type]
    n = df["customer_id"].nunique()
    assert res.n_customers == n
    assert (res.stage_counts.sum(axis=1) == n).all()
    assert res.stages.index.is_unique
    assert res.counts.to_numpy().sum() == n * (len(snaps) - 1)
    shuffled = df.sample(frac=1.0, random_state=seed)
    again = lifecycle_transitions(
        shuffled, snapshots=snaps, rules=LifecycleRules(scheme=scheme), amount_col="amount"
    )  # type: ignore[arg-type]
    pd.testing.assert_frame_equal(res.stages, again.stages)
    one = lifecycle_stages(
        df, observation_end="2023-12-31", rules=LifecycleRules(scheme=scheme), amount_col="amount"
    )  # type: ignore[arg-type]
    assert one.to_frame()["customer_id"].is_unique and len(one.to_frame()) == n


# ---------------------------------------------------------------------------------------
# engines, bad input, plots
# ---------------------------------------------------------------------------------------


def test_engines_give_the_same_tables(engine: str) -> None:
    df = random_log(5, n=120, customers=25)
    ref = lifecycle_stages(
        df,
        observation_end="2022-06-30",
        rules=LifecycleRules(scheme="relationship"),
        amount_col="amount",
    )
    got = lifecycle_stages(
        to_engine(df, engine),
        observation_end="2022-06-30",
        rules=LifecycleRules(scheme="relationship"),
        amount_col="amount",
    )
    pd.testing.assert_frame_equal(ref.to_frame(), got.to_frame(), check_dtype=False)
    pd.testing.assert_frame_equal(ref.summary, got.summary, check_dtype=False)


def test_input_not_mutated() -> None:
    df = random_log(6)
    before = df.copy()
    lifecycle_stages(df, observation_end="2022-01-01", amount_col="amount")
    lifecycle_transitions(df, snapshots=["2021-06-01", "2022-01-01"])
    pd.testing.assert_frame_equal(df, before)


def test_customers_argument_kinds() -> None:
    df = random_log(7)
    as_list = lifecycle_stages(df, observation_end="2022-01-01", customers=[500, 501])
    as_series = lifecycle_stages(
        df, observation_end="2022-01-01", customers=pd.Series([501, 500, 500])
    )
    as_frame = lifecycle_stages(
        df, observation_end="2022-01-01", customers=pd.DataFrame({"customer_id": [500, 501]})
    )
    for res in (as_series, as_frame):
        pd.testing.assert_frame_equal(as_list.to_frame(), res.to_frame())
    with pytest.raises(SchemaError, match="customers has no column"):
        lifecycle_stages(df, observation_end="2022-01-01", customers=pd.DataFrame({"id": [1]}))
    with pytest.raises(DataError, match="customers"):
        lifecycle_stages(df, observation_end="2022-01-01", customers=pd.Series([1.0, np.nan]))


def test_bad_inputs() -> None:
    df = random_log(8)
    with pytest.raises(SchemaError, match="date"):
        lifecycle_stages(df.drop(columns="date"), observation_end="2022-01-01")
    with pytest.raises(SchemaError, match="amount"):
        lifecycle_stages(df, observation_end="2022-01-01", amount_col="value")
    bad = df.astype({"customer_id": "float"})
    bad.loc[0, "customer_id"] = np.nan
    with pytest.raises(DataError, match="null"):
        lifecycle_stages(bad, observation_end="2022-01-01")
    bad = df.copy()
    bad.loc[0, "date"] = pd.NaT
    with pytest.raises(DataError, match="null"):
        lifecycle_transitions(bad, snapshots=["2021-06-01", "2022-01-01"])
    strings = df.assign(date=df["date"].dt.strftime("%Y-%m-%d"))
    strings.loc[4, "date"] = "31/31/2021"
    with pytest.raises(DataError, match="not an ISO 8601 date"):
        lifecycle_stages(strings, observation_end="2022-01-01")
    with pytest.raises(DataError, match="empty"):
        lifecycle_stages(df.iloc[:0], observation_end="2022-01-01")
    with pytest.raises(DataError, match="before the first purchase"):
        lifecycle_stages(df, observation_end="1999-01-01")
    with pytest.raises(DataError, match="observation_end must be a date"):
        lifecycle_stages(df, observation_end="yesterday-ish")
    with pytest.raises(DataError, match="scheme"):
        lifecycle_stages(df, observation_end="2022-01-01", rules=LifecycleRules(scheme="rfm"))  # type: ignore[arg-type]
    with pytest.raises(DataError, match="churn_after_days"):
        lifecycle_stages(df, observation_end="2022-01-01", rules=LifecycleRules(churn_after_days=0))
    with pytest.raises(DataError, match="probability_alive"):
        lifecycle_stages(df, observation_end="2022-01-01", model=object())  # type: ignore[arg-type]
    with pytest.raises(DataError, match="alive_threshold"):
        lifecycle_stages(
            df, observation_end="2022-01-01", rules=LifecycleRules(alive_threshold=2.0)
        )
    with pytest.raises(DataError, match="time_unit"):
        lifecycle_stages(df, observation_end="2022-01-01", time_unit="M")  # type: ignore[arg-type]
    with pytest.raises(DataError, match="decline_ratio"):
        lifecycle_stages(
            df,
            observation_end="2022-01-01",
            rules=LifecycleRules(decline_ratio=2.0, growth_ratio=1.0),
        )
    with pytest.raises(DataError, match="at least two"):
        lifecycle_transitions(df, snapshots=["2022-01-01"])
    with pytest.raises(DataError, match="strictly increasing"):
        lifecycle_transitions(df, snapshots=["2022-01-01", "2021-01-01"])
    res = lifecycle_transitions(df, snapshots=["2021-06-01", "2022-01-01"])
    with pytest.raises(DataError, match="pair"):
        res.matrix(3)


def test_plots_and_repr() -> None:
    from matplotlib.axes import Axes

    df = random_log(9)
    one = lifecycle_stages(df, observation_end="2022-01-01", amount_col="amount")
    assert isinstance(one.plot(), Axes)
    res = lifecycle_transitions(
        df, snapshots=list(pd.date_range("2021-03-31", periods=6, freq="QE"))
    )
    assert isinstance(res.plot(), Axes)
    assert isinstance(res.plot(kind="heatmap"), Axes)
    assert isinstance(res.plot(kind="heatmap", pair=0), Axes)
    assert isinstance(res.plot(share=False, include_not_yet=True), Axes)
    assert "LifecycleTransitionsResult(" in repr(res) and "<table>" in one._repr_html_()
    assert res.to_dict()["snapshots"][0] == "2021-03-31"
    assert res.matrix(1, normalize=True).shape == res.rates.shape


def test_timezone_aware_as_of_is_read_in_the_data_time_zone() -> None:
    # Purchases at 23:30 on Jan 31 and 00:30 on Feb 1, Paris time: two local days.
    paris = pd.to_datetime(["2024-01-31 23:30", "2024-02-01 00:30"]).tz_localize("Europe/Paris")
    tx = pd.DataFrame({"customer_id": [1, 1], "date": paris})
    naive = lifecycle_stages(tx, observation_end="2024-02-01")
    same_instant = lifecycle_stages(tx, observation_end=pd.Timestamp("2024-01-31 23:00", tz="UTC"))
    paris_day = lifecycle_stages(tx, observation_end=pd.Timestamp("2024-02-01", tz="Europe/Paris"))
    earlier = lifecycle_stages(tx, observation_end=pd.Timestamp("2024-01-31 22:00", tz="UTC"))
    for res in (naive, same_instant, paris_day):
        assert res.observation_end == "2024-02-01"
        assert res.to_frame()["stage"].tolist() == ["loyal"]
    assert earlier.observation_end == "2024-01-31"
    assert earlier.to_frame()["stage"].tolist() == ["first_time"]
    moves = lifecycle_transitions(
        tx,
        snapshots=[
            pd.Timestamp("2024-01-31 22:00", tz="UTC"),
            pd.Timestamp("2024-01-31 23:00", tz="UTC"),
        ],
    )
    assert moves.snapshots == ("2024-01-31", "2024-02-01")
    assert moves.stage_counts["first_time"].tolist() == [1, 0]
    assert moves.stage_counts["loyal"].tolist() == [0, 1]


def test_relationship_trend_with_non_positive_history() -> None:
    dates = pd.to_datetime(["2023-01-01", "2023-06-01", "2023-12-20"])
    tx = pd.DataFrame(
        {
            "customer_id": [1, 1, 1, 2, 2, 3, 3, 3, 3],
            "date": [*dates, dates[0], dates[2], *dates, pd.Timestamp("2023-12-28")],
            # 1: zero amounts; 2: a refund then a purchase; 3: purchases then a refund
            "amount": [0.0, 0.0, 0.0, -5.0, 5.0, 0.0, 0.0, 2.0, -4.0],
        }
    )
    res = lifecycle_stages(
        tx,
        observation_end="2024-01-01",
        rules=LifecycleRules(scheme="relationship"),
        amount_col="amount",
    )
    f = res.to_frame().set_index("customer_id")
    assert f.loc[1, "trend"] == 1.0  # flat: nothing before, nothing now
    assert f.loc[1, "stage"] == "formation"  # three purchase days < stability_min_purchases
    assert f.loc[2, "trend"] == np.inf  # recent value above a negative history
    assert f.loc[2, "stage"] == "formation"
    assert f.loc[3, "trend"] == 0.0  # recent value (-2) below a zero history
    assert f.loc[3, "stage"] == "decline"
