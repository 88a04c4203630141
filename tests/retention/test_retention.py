"""Tests of crmmodels.retention: cohort retention matrix and per-period retention metrics.

References are plain pandas / Python-set computations written here independently of the
library code (period numbering via pandas ``Period`` ordinals, not the library's).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmmodels.errors import DataError, SchemaError
from crmmodels.retention import cohort_retention, retention_metrics

from _engines import to_engine

FREQ = {"D": "D", "W": "W-SUN", "M": "M", "Q": "Q"}


def random_log(seed: int, n: int = 400, customers: int = 60, days: int = 500) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2022-01-01")
    return pd.DataFrame(
        {
            "customer_id": rng.integers(0, customers, n),
            "date": start + pd.to_timedelta(rng.integers(0, days, n), unit="D"),
            "amount": rng.gamma(2.0, 20.0, n).round(2),
        }
    )


# ---------------------------------------------------------------------------------------
# independent references
# ---------------------------------------------------------------------------------------


def ref_cohorts(
    df: pd.DataFrame, period: str, end: pd.Timestamp | None = None
) -> tuple[dict[tuple[int, int], int], dict[tuple[int, int], int], int]:
    """(cohort ordinal, age) -> customers, for first and first-repeat cohorts; end ordinal."""
    end = df["date"].max() if end is None else end
    d = df[df["date"].dt.normalize() <= end.normalize()]
    ords = d["date"].dt.to_period(FREQ[period]).array.asi8
    act = pd.DataFrame({"c": d["customer_id"].to_numpy(), "p": ords}).drop_duplicates()
    act = act.sort_values(["c", "p"])
    first: dict[tuple[int, int], int] = {}
    repeat: dict[tuple[int, int], int] = {}
    for _, grp in act.groupby("c"):
        ps = grp["p"].tolist()
        for p in ps:
            key = (ps[0], p - ps[0])
            first[key] = first.get(key, 0) + 1
        if len(ps) > 1:
            for p in ps[1:]:
                key = (ps[1], p - ps[1])
                repeat[key] = repeat.get(key, 0) + 1
    end_ord = int(pd.Period(end, FREQ[period]).ordinal)
    return first, repeat, end_ord


def check_against_reference(counts: pd.DataFrame, rates: pd.DataFrame, ref: dict, end_ord: int):
    ordinals = counts.index.asi8
    cohorts_ref = sorted({c for c, a in ref if a == 0})
    assert list(ordinals) == cohorts_ref
    assert counts.shape[1] == (end_ord - cohorts_ref[0] + 1)
    for i, c in enumerate(ordinals):
        size = ref[(c, 0)]
        for a in range(counts.shape[1]):
            cell = counts.iat[i, a]
            if c + a > end_ord:
                assert pd.isna(cell) and np.isnan(rates.iat[i, a])
            else:
                expected = ref.get((c, a), 0)
                assert cell == expected
                assert rates.iat[i, a] == pytest.approx(expected / size)


# ---------------------------------------------------------------------------------------
# cohort retention
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("period", ["D", "W", "M", "Q"])
@pytest.mark.parametrize("seed", [0, 1])
def test_cohorts_match_pandas_reference(period: str, seed: int) -> None:
    df = random_log(seed, days=120 if period == "D" else 500)
    res = cohort_retention(df, period=period)
    first, repeat, end_ord = ref_cohorts(df, period)
    check_against_reference(res.counts, res.rates, first, end_ord)
    check_against_reference(res.repeat_counts, res.repeat_rates, repeat, end_ord)
    assert res.n_customers == df["customer_id"].nunique()
    assert res.cohort_sizes.sum() == df["customer_id"].nunique()


@pytest.mark.parametrize("period", ["W", "M"])
def test_engine_path_equals_numpy_path(period: str) -> None:
    df = random_log(3)
    a = cohort_retention(df, period=period)
    b = cohort_retention(pl.from_pandas(df).lazy(), period=period)
    pd.testing.assert_frame_equal(a.counts, b.counts)
    pd.testing.assert_frame_equal(a.rates, b.rates)
    pd.testing.assert_frame_equal(a.repeat_rates, b.repeat_rates)


def test_observation_end_truncates_and_reports_exclusions() -> None:
    df = random_log(4)
    end = pd.Timestamp("2022-09-15")
    res = cohort_retention(df, observation_end=end)
    first, _, end_ord = ref_cohorts(df, "M", end)
    check_against_reference(res.counts, res.rates, first, end_ord)
    assert res.n_excluded == int((df["date"] > end).sum())
    assert res.n_transactions == int((df["date"] <= end).sum())
    assert str(res.counts.index[-1]) <= "2022-09"


def test_hand_built_log_with_empty_cohort_and_single_buyer() -> None:
    tx = pd.DataFrame(
        {
            "customer_id": ["a", "a", "b", "c", "c", "c"],
            "date": pd.to_datetime(
                ["2024-01-03", "2024-03-01", "2024-01-31", "2024-03-05", "2024-04-01", "2024-05-09"]
            ),
        }
    )
    res = cohort_retention(tx)
    # February has no new customer: no row for it
    assert [str(p) for p in res.rates.index] == ["2024-01", "2024-03"]
    assert res.counts.loc["2024-01"].tolist() == [2, 0, 1, 0, 0]
    np.testing.assert_allclose(res.rates.loc["2024-03"].to_numpy(), [1, 1, 1, np.nan, np.nan])
    assert res.cohort_sizes.tolist() == [2, 1]
    # b bought once: no recurring row; a's first repeat is March, c's is April
    assert [str(p) for p in res.repeat_rates.index] == ["2024-03", "2024-04"]
    assert res.repeat_counts.loc["2024-04"].iloc[:2].tolist() == [1, 1]
    curve = res.first_vs_recurring
    assert curve.loc[0].tolist() == [1.0, 1.0]
    assert curve.loc[1, "first_time"] == pytest.approx(1 / 3)
    assert curve.loc[4, "first_time"] == pytest.approx(0.0)  # only January observable
    long = res.to_frame()
    assert len(long) == int(res.counts.notna().sum().sum())
    assert set(long.columns) == {"cohort", "periods_since", "cohort_size", "active", "rate"}


def test_week_starts_on_monday_and_quarters() -> None:
    tx = pd.DataFrame(
        {
            "customer_id": [1, 1, 2, 2],
            # Sunday 2024-03-10 and Monday 2024-03-11 fall in consecutive weeks
            "date": pd.to_datetime(["2024-03-10", "2024-03-11", "2024-03-31", "2024-04-01"]),
        }
    )
    w = cohort_retention(tx, period="W")
    assert w.counts.iloc[0].iloc[:2].tolist() == [1, 1]
    assert w.rates.index[0].start_time == pd.Timestamp("2024-03-04")  # a Monday
    q = cohort_retention(tx, period="Q")
    assert [str(p) for p in q.rates.index] == ["2024Q1"]
    assert q.counts.iloc[0].tolist() == [2, 1]


def test_string_dates_and_same_period_purchases() -> None:
    tx = pd.DataFrame(
        {"cid": [1, 1, 1, 2], "when": ["2024-01-01", "2024-01-20", "2024-02-02", "2024-02-03"]}
    )
    res = cohort_retention(tx, customer_col="cid", date_col="when")
    assert res.counts.loc["2024-01"].tolist() == [1, 1]
    assert res.counts.loc["2024-02"].tolist()[0] == 1


def test_timezone_aware_dates_use_local_calendar() -> None:
    df = random_log(11).assign(date=lambda d: d["date"] + pd.Timedelta(hours=23))
    aware = df.assign(date=df["date"].dt.tz_localize("Europe/Paris"))
    a = cohort_retention(df, period="W")
    b = cohort_retention(aware, period="W")
    pd.testing.assert_frame_equal(a.counts, b.counts)
    assert a.observation_end == b.observation_end
    pd.testing.assert_frame_equal(
        retention_metrics(df, observation_end="2022-12-31").table,
        retention_metrics(aware, observation_end="2022-12-31").table,
    )
    # An aware observation_end is read in the data's time zone: 23:30 UTC on Dec 30
    # is already Dec 31 in Paris.
    pd.testing.assert_frame_equal(
        retention_metrics(df, observation_end="2022-12-31").table,
        retention_metrics(aware, observation_end=pd.Timestamp("2022-12-30 23:30", tz="UTC")).table,
    )
    small = pd.DataFrame(
        {
            "customer_id": [1, 1],
            "date": pd.to_datetime(["2022-01-01 00:00", "2022-12-31 10:00"]),
        }
    ).assign(date=lambda d: d["date"].dt.tz_localize("Europe/Paris"))
    res = cohort_retention(small, observation_end=pd.Timestamp("2022-12-30 23:30", tz="UTC"))
    assert res.observation_end == "2022-12-31"
    assert res.n_excluded == 0


# ---------------------------------------------------------------------------------------
# retention metrics
# ---------------------------------------------------------------------------------------


def ref_metrics(df: pd.DataFrame, period: str) -> pd.DataFrame:
    ords = df["date"].dt.to_period(FREQ[period]).array.asi8
    d = df.assign(p=ords)
    first = d.groupby("customer_id")["p"].min()
    lo, hi = int(d["p"].min()), int(d["p"].max())
    rows = []
    active_prev: set = set()
    seen: set = set()
    second_by: set = set()
    for p in range(lo, hi + 1):
        cur = d[d["p"] == p]
        active = set(cur["customer_id"])
        new = {c for c in active if first[c] == p}
        retained = active & active_prev
        for c in active - new:
            second_by.add(c)
        seen |= active
        rev = cur["amount"].sum()
        rev_new = cur[cur["customer_id"].isin(new)]["amount"].sum()
        rows.append(
            {
                "transactions": len(cur),
                "active": len(active),
                "new": len(new),
                "retained": len(retained),
                "retention_rate": len(retained) / len(active_prev) if active_prev else np.nan,
                "repeat_rate": (len(active) - len(new)) / len(active) if active else np.nan,
                "cumulative_repeat_rate": len(second_by) / len(seen),
                "revenue": rev,
                "revenue_new": rev_new,
                "existing_revenue_share": (rev - rev_new) / rev if rev else np.nan,
            }
        )
        active_prev = active
    return pd.DataFrame(rows)


@pytest.mark.parametrize("period", ["W", "M", "Q"])
@pytest.mark.parametrize("seed", [0, 5])
def test_metrics_match_reference(period: str, seed: int) -> None:
    df = random_log(seed)
    res = retention_metrics(df, amount_col="amount", period=period)
    ref = ref_metrics(df, period)
    tab = res.table.reset_index(drop=True)
    for col in ref.columns:
        np.testing.assert_allclose(tab[col].to_numpy(float), ref[col].to_numpy(float), rtol=1e-9)
    np.testing.assert_allclose(tab["churn_rate"], 1 - ref["retention_rate"])
    valid = ref["retention_rate"].notna()
    prev_active = ref["active"].shift(1)
    pooled = ref.loc[valid, "retained"].sum() / prev_active[valid].sum()
    assert res.retention_rate == pytest.approx(pooled)
    assert res.expected_lifetime == pytest.approx(1 / (1 - pooled))
    n_days = df.assign(p=df["date"].dt.to_period(FREQ[period])).groupby("customer_id")["p"]
    assert res.repeat_purchase_rate == pytest.approx((n_days.nunique() >= 2).mean())
    assert res.n_customers == df["customer_id"].nunique()
    views = res.views()
    assert set(views.columns.get_level_values(0)) == {"transactional", "relationship"}
    assert "retention_rate" in res.relationship and "new" in res.transactional


def test_metrics_gap_period_and_geometric_lifetime() -> None:
    tx = pd.DataFrame(
        {
            "customer_id": [1, 2, 1, 1],
            "date": pd.to_datetime(["2024-01-05", "2024-01-06", "2024-02-01", "2024-04-01"]),
            "amount": [1.0, 2.0, 3.0, 4.0],
        }
    )
    res = retention_metrics(tx, amount_col="amount")
    tab = res.table
    assert [str(p) for p in tab.index] == ["2024-01", "2024-02", "2024-03", "2024-04"]
    assert tab["active"].tolist() == [2, 1, 0, 1]
    assert tab["retained"].tolist() == [0, 1, 0, 0]
    assert tab["reactivated"].tolist() == [0, 0, 0, 1]
    np.testing.assert_allclose(tab["retention_rate"], [np.nan, 0.5, 0.0, np.nan])
    # pooled: (1 + 0) / (2 + 1) retained of previously active
    assert res.retention_rate == pytest.approx(1 / 3)
    assert res.expected_lifetime == pytest.approx(1.5)
    assert tab["existing_revenue_share"].iloc[1] == pytest.approx(1.0)


# ---------------------------------------------------------------------------------------
# properties
# ---------------------------------------------------------------------------------------

logs = st.lists(st.tuples(st.integers(0, 12), st.integers(0, 400)), min_size=1, max_size=60).map(
    lambda rows: pd.DataFrame(
        {
            "customer_id": [r[0] for r in rows],
            "date": pd.Timestamp("2023-01-01") + pd.to_timedelta([r[1] for r in rows], unit="D"),
            "amount": [1.0 + r[1] % 7 for r in rows],
        }
    )
)


@settings(max_examples=20, deadline=None)
@given(df=logs, period=st.sampled_from(["W", "M", "Q"]), seed=st.integers(0, 2**16))
def test_properties(df: pd.DataFrame, period: str, seed: int) -> None:
    res = cohort_retention(df, period=period)
    rates = res.rates.to_numpy(float)
    finite = rates[np.isfinite(rates)]
    assert ((finite >= 0) & (finite <= 1)).all()
    assert (res.rates[0] == 1.0).all()
    assert res.cohort_sizes.sum() == df["customer_id"].nunique()
    shuffled = df.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    again = cohort_retention(shuffled, period=period)
    pd.testing.assert_frame_equal(res.counts, again.counts)
    m = retention_metrics(df, period=period, amount_col="amount")
    m2 = retention_metrics(shuffled, period=period, amount_col="amount")
    pd.testing.assert_frame_equal(m.table, m2.table)
    r = m.table["retention_rate"].to_numpy(float)
    assert ((r[np.isfinite(r)] >= 0) & (r[np.isfinite(r)] <= 1)).all()
    assert (m.table["new"].sum()) == df["customer_id"].nunique()


# ---------------------------------------------------------------------------------------
# engines, bad input, plots
# ---------------------------------------------------------------------------------------


def test_engines_give_the_same_tables(engine: str) -> None:
    df = random_log(7, n=150, customers=30, days=300)
    ref_c = cohort_retention(df, period="M", observation_end="2022-09-30")
    ref_m = retention_metrics(df, period="M", amount_col="amount")
    native = to_engine(df, engine)
    got_c = cohort_retention(native, period="M", observation_end="2022-09-30")
    assert got_c.n_excluded == ref_c.n_excluded > 0
    got_m = retention_metrics(native, period="M", amount_col="amount")
    pd.testing.assert_frame_equal(ref_c.counts, got_c.counts)
    pd.testing.assert_frame_equal(ref_c.repeat_counts, got_c.repeat_counts)
    pd.testing.assert_frame_equal(ref_m.table, got_m.table, check_dtype=False)


def test_input_not_mutated() -> None:
    df = random_log(8)
    before = df.copy()
    cohort_retention(df, period="W")
    retention_metrics(df, amount_col="amount")
    pd.testing.assert_frame_equal(df, before)


def test_bad_inputs() -> None:
    df = random_log(9)
    with pytest.raises(SchemaError, match="customer_id"):
        cohort_retention(df.rename(columns={"customer_id": "cust"}))
    with pytest.raises(SchemaError, match="amount"):
        retention_metrics(df, amount_col="amount_x")
    bad = df.astype({"customer_id": "float"})
    bad.loc[3, "customer_id"] = np.nan
    with pytest.raises(DataError, match=r"customer_id.*is null in 1 row"):
        cohort_retention(bad)
    bad = df.copy()
    bad.loc[[1, 2], "date"] = pd.NaT
    with pytest.raises(DataError, match=r"date.*is null in 2 rows"):
        retention_metrics(bad)
    strings = df.assign(date=df["date"].dt.strftime("%Y-%m-%d"))
    strings.loc[0, "date"] = "not a date"
    with pytest.raises(DataError, match="not an ISO 8601 date"):
        cohort_retention(strings)
    with pytest.raises(DataError, match="period must be"):
        cohort_retention(df, period="X")  # type: ignore[arg-type]
    with pytest.raises(DataError, match="period must be"):
        retention_metrics(df, period=7)  # type: ignore[arg-type]
    with pytest.raises(DataError, match="empty"):
        cohort_retention(df.iloc[:0])
    with pytest.raises(DataError, match="after observation_end"):
        cohort_retention(df, observation_end="2000-01-01")
    with pytest.raises(DataError, match="observation_end must be a date"):
        retention_metrics(df, observation_end="soon")
    with pytest.raises(SchemaError, match="must be a dataframe"):
        cohort_retention([1, 2, 3])
    with pytest.raises(DataError, match="kind"):
        cohort_retention(df).curve("other")  # type: ignore[arg-type]


def test_plots_and_repr() -> None:
    from matplotlib.axes import Axes

    df = random_log(10)
    res = cohort_retention(df)
    assert isinstance(res.plot(), Axes)
    assert isinstance(res.plot(kind="curves"), Axes)
    assert isinstance(res.plot(recurring=True, annotate=True, max_periods=6), Axes)
    m = retention_metrics(df, amount_col="amount")
    assert isinstance(m.plot(), Axes)
    assert "CohortRetentionResult(" in repr(res) and "<table>" in res._repr_html_()
    assert m.to_dict()["n_customers"] == df["customer_id"].nunique()
    assert m.to_frame().columns[0] == "period"
