from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmmodels.errors import CRMModelsWarning, DataError, SchemaError
from crmmodels.quadrants import (
    QUADRANTS,
    EmptyQuadrantWarning,
    QuadrantResult,
    clv_quadrants,
    clv_quadrants_from_transactions,
)

from _engines import to_engine


def _frame(cur: list[float], pot: list[float], ids: list[object] | None = None) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ids if ids is not None else list(range(1, len(cur) + 1)),
            "current_value": cur,
            "potential_value": pot,
        }
    )


def _quadrants_allow_empty(df: pd.DataFrame, **kwargs: object) -> QuadrantResult:
    """clv_quadrants on frames where an empty quadrant is expected and not under test."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EmptyQuadrantWarning)
        return clv_quadrants(df, **kwargs)  # type: ignore[arg-type]


def _pandas_reference(df: pd.DataFrame, tc: float, tp: float) -> pd.Series:
    hc = df["current_value"] >= tc
    hp = df["potential_value"] >= tp
    out = np.select(
        [hc & hp, ~hc & hp, hc & ~hp], ["vip", "improve", "maintain"], default="abandon"
    )
    return pd.Series(out, index=df.index)


@pytest.fixture(scope="module")
def customers() -> pd.DataFrame:
    rng = np.random.default_rng(5)
    n = 5000
    return pd.DataFrame(
        {
            "customer_id": rng.permutation(n) + 1000,
            "current_value": np.round(rng.gamma(0.8, 120, n), 1),
            "potential_value": np.round(rng.gamma(0.6, 400, n) - 20, 1),
        }
    )


# ---------------------------------------------------------------- hand-computed


def test_quadrants_by_hand() -> None:
    df = _frame([100.0, 10.0, 80.0, 5.0], [500.0, 400.0, 20.0, 10.0])
    r = clv_quadrants(df)
    assert isinstance(r, QuadrantResult)
    assert r.thresholds == {"current": 45.0, "potential": 210.0}
    assert r.current_rule == "median" and r.potential_rule == "median"
    f = r.to_frame()
    assert list(f.columns) == ["customer_id", "current_value", "potential_value", "quadrant"]
    assert f["quadrant"].tolist() == ["vip", "improve", "maintain", "abandon"]
    assert (r.n_vip, r.n_improve, r.n_maintain, r.n_abandon) == (1, 1, 1, 1)
    s = r.summary
    assert s["quadrant"].tolist() == list(QUADRANTS)
    assert s["n_customers"].tolist() == [1, 1, 1, 1]
    np.testing.assert_allclose(s["customer_share"], 0.25)
    np.testing.assert_allclose(s["current_value"], [100.0, 10.0, 80.0, 5.0])
    np.testing.assert_allclose(s["current_share"], np.array([100, 10, 80, 5]) / 195)
    np.testing.assert_allclose(s["potential_share"], np.array([500, 400, 20, 10]) / 930)


def test_value_on_threshold_counts_as_high() -> None:
    # odd count: the median is a data value; that customer is high on both axes
    df = _frame([1.0, 2.0, 3.0], [30.0, 20.0, 10.0])
    r = _quadrants_allow_empty(df)
    assert r.current_threshold == 2.0 and r.potential_threshold == 20.0
    assert r.to_frame()["quadrant"].tolist() == ["improve", "vip", "maintain"]
    # absolute thresholds equal to values
    r2 = _quadrants_allow_empty(df, split=(3.0, 30.0))
    assert r2.to_frame()["quadrant"].tolist() == ["improve", "abandon", "maintain"]
    # everyone equal: all on the threshold, all vip, and the degenerate split is announced
    with pytest.warns(EmptyQuadrantWarning, match="improve, maintain, abandon empty"):
        r3 = clv_quadrants(_frame([5.0] * 4, [1.0] * 4))
    assert r3.n_vip == 4


def test_split_rules() -> None:
    cur = [float(v) for v in range(1, 11)]
    pot = [float(v) for v in range(10, 0, -1)]
    df = _frame(cur, pot)
    r = _quadrants_allow_empty(df, split=("quantile", 0.75))
    assert r.current_threshold == pytest.approx(np.quantile(cur, 0.75))
    assert r.potential_threshold == pytest.approx(np.quantile(pot, 0.75))
    assert r.current_rule == "quantile(0.75)"
    r2 = _quadrants_allow_empty(df, split={"current": 4.0})
    assert r2.current_threshold == 4.0 and r2.current_rule == "absolute(4)"
    assert r2.potential_threshold == 5.5 and r2.potential_rule == "median"
    r3 = _quadrants_allow_empty(df, split=(("quantile", 0.9), "median"))
    assert r3.current_threshold == pytest.approx(9.1)
    assert r3.potential_threshold == 5.5
    with pytest.warns(EmptyQuadrantWarning, match="maintain, abandon empty.* same side"):
        r4 = clv_quadrants(df, split=[2, ("quantile", 0.0)])
    assert r4.current_threshold == 2.0 and r4.potential_threshold == 1.0
    assert r4.n_improve == 1 and r4.n_vip == 9


def test_against_pandas(customers: pd.DataFrame) -> None:
    r = clv_quadrants(customers, split=("median", ("quantile", 0.8)))
    tc = customers["current_value"].median()
    tp = customers["potential_value"].quantile(0.8)
    assert r.current_threshold == pytest.approx(tc)
    assert r.potential_threshold == pytest.approx(tp)
    ref = _pandas_reference(customers, tc, tp)
    got = r.to_frame()
    assert got["customer_id"].tolist() == customers["customer_id"].tolist()
    assert got["quadrant"].astype(str).tolist() == ref.tolist()
    counts = ref.value_counts()
    s = r.summary.set_index("quadrant")
    for q in QUADRANTS:
        assert s.loc[q, "n_customers"] == counts.get(q, 0)
        mask = ref == q
        assert s.loc[q, "current_value"] == pytest.approx(customers["current_value"][mask].sum())
        assert s.loc[q, "potential_share"] == pytest.approx(
            customers["potential_value"][mask].sum() / customers["potential_value"].sum()
        )
    assert s["customer_share"].sum() == pytest.approx(1.0)
    assert s["current_share"].sum() == pytest.approx(1.0)


def test_zero_totals_give_nan_shares() -> None:
    r = _quadrants_allow_empty(_frame([0.0, 0.0], [1.0, 2.0]))
    assert r.summary["current_share"].isna().all()
    assert r.summary["potential_share"].notna().all()


# ---------------------------------------------------------------- properties


@st.composite
def quad_frames(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(1, 40))
    vals = st.lists(st.integers(-100, 1000).map(float), min_size=n, max_size=n)
    return _frame(draw(vals), draw(vals), ids=[f"k{i}" for i in range(n)])


splits = st.sampled_from(
    [
        "median",
        "positive_median",
        ("quantile", 0.25),
        ("quantile", 0.9),
        0.0,
        100.0,
        (("quantile", 0.6), -5.0),
    ]
)


@given(quad_frames(), splits)
def test_each_customer_exactly_one_quadrant(df: pd.DataFrame, split: object) -> None:
    r = _quadrants_allow_empty(df, split=split)
    f = r.to_frame()
    assert len(f) == len(df) == r.n_customers
    assert f["quadrant"].notna().all()
    assert set(f["quadrant"].astype(str)) <= set(QUADRANTS)
    assert r.n_vip + r.n_improve + r.n_maintain + r.n_abandon == len(df)
    ref = _pandas_reference(df, r.current_threshold, r.potential_threshold)
    assert f["quadrant"].astype(str).tolist() == ref.tolist()
    assert ((r.summary["customer_share"] >= 0) & (r.summary["customer_share"] <= 1)).all()


@given(quad_frames(), splits)
def test_empty_quadrant_is_warned_exactly_when_it_happens(df: pd.DataFrame, split: object) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        r = clv_quadrants(df, split=split)
    counts = [r.n_vip, r.n_improve, r.n_maintain, r.n_abandon]
    empty = [q for q, k in zip(QUADRANTS, counts, strict=True) if k == 0]
    got = [w for w in caught if issubclass(w.category, EmptyQuadrantWarning)]
    assert len(got) == (1 if empty else 0)
    if empty:
        assert f"{', '.join(empty)} empty" in str(got[0].message)


def test_positive_median_rule() -> None:
    # most current values are 0: the median is 0 and would make everyone high
    cur = [0.0, 0.0, 0.0, 0.0, 0.0, 10.0, 20.0, 30.0, 40.0]
    pot = [1.0, 9.0, 2.0, 8.0, 3.0, 7.0, 4.0, 6.0, 0.5]
    df = _frame(cur, pot)
    with pytest.warns(EmptyQuadrantWarning, match="improve, abandon empty.*median of 0"):
        med = clv_quadrants(df, split={"current": "median"})
    assert med.current_threshold == 0.0 and med.n_vip + med.n_maintain == 9
    r = clv_quadrants(df, split="positive_median")
    assert r.current_rule == r.potential_rule == "positive_median"
    assert r.current_threshold == 25.0  # median of 10, 20, 30, 40
    assert r.potential_threshold == 4.0  # all positive: the plain median
    assert (r.n_vip, r.n_improve, r.n_maintain, r.n_abandon) == (1, 4, 1, 3)
    high = r.to_frame()["quadrant"].isin(["vip", "maintain"])
    assert high.tolist() == [c >= 25.0 for c in cur]
    # negative values are low; without any positive value the rule is the median
    r2 = _quadrants_allow_empty(
        _frame([-5.0, 0.0, 3.0], [-1.0, -2.0, -3.0]), split="positive_median"
    )
    assert r2.current_threshold == 3.0 and r2.potential_threshold == -2.0


@given(quad_frames(), splits)
def test_row_order_independent(df: pd.DataFrame, split: object) -> None:
    perm = df.iloc[::-1].reset_index(drop=True)
    a = _quadrants_allow_empty(df, split=split).to_frame().sort_values("customer_id")
    b = _quadrants_allow_empty(perm, split=split).to_frame().sort_values("customer_id")
    pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True))


@given(quad_frames(), st.floats(0.01, 100))
def test_scaling_changes_only_totals(df: pd.DataFrame, k: float) -> None:
    split = ("median", ("quantile", 0.3))
    a = _quadrants_allow_empty(df, split=split)
    scaled = df.assign(
        current_value=df["current_value"] * k, potential_value=df["potential_value"] * k
    )
    b = _quadrants_allow_empty(scaled, split=split)
    assert a.to_frame()["quadrant"].tolist() == b.to_frame()["quadrant"].tolist()
    assert b.current_threshold == pytest.approx(a.current_threshold * k, abs=1e-9)
    np.testing.assert_allclose(
        b.summary["current_value"], a.summary["current_value"] * k, rtol=1e-9, atol=1e-9
    )
    for col in ("customer_share", "current_share", "potential_share"):
        np.testing.assert_allclose(b.summary[col], a.summary[col], rtol=1e-9, atol=1e-9)


# ---------------------------------------------------------------- bad input


def test_missing_values_name_the_customers() -> None:
    df = _frame([1.0, None, 3.0, None], [1.0, 2.0, 3.0, 4.0], ids=["a", "b", "c", "d"])
    with pytest.raises(
        DataError, match=r"'current_value' is missing for 2 customers .*\['b', 'd'\]"
    ):
        clv_quadrants(df)
    df2 = _frame([1.0, 2.0], [np.nan, 2.0], ids=[7, 8])
    with pytest.raises(DataError, match=r"potential_value.*customer_id \[7\]"):
        clv_quadrants(df2)


def test_bad_input() -> None:
    df = _frame([1.0, 2.0], [3.0, 4.0])
    with pytest.raises(SchemaError, match="Did you mean 'current_value'"):
        clv_quadrants(df, current_col="current_valu")
    with pytest.raises(SchemaError, match="'customer'"):
        clv_quadrants(df, customer_col="customer")
    with pytest.raises(SchemaError, match="numeric"):
        clv_quadrants(df.assign(potential_value=["x", "y"]))
    with pytest.raises(DataError, match="duplicate"):
        clv_quadrants(_frame([1.0, 2.0, 3.0], [1.0, 2.0, 3.0], ids=[1, 2, 1]))
    with pytest.raises(DataError, match="empty"):
        clv_quadrants(df.iloc[:0])
    with pytest.raises(DataError, match="infinite"):
        clv_quadrants(_frame([1.0, np.inf], [1.0, 2.0]))
    with pytest.raises(DataError, match="customer_id' is null"):
        clv_quadrants(_frame([1.0, 2.0], [1.0, 2.0], ids=[1, None]))
    for bad in (
        "mean",
        "positive",
        ("quantile", 1.5),
        ("q", 0.5),
        {"currnt": 1.0},
        float("nan"),
        True,
    ):
        with pytest.raises(DataError, match="split"):
            clv_quadrants(df, split=bad)
    with pytest.raises(SchemaError, match="dataframe"):
        clv_quadrants([1, 2, 3])


def test_input_not_mutated(customers: pd.DataFrame) -> None:
    before = customers.copy()
    clv_quadrants(customers, split=("quantile", 0.7))
    pd.testing.assert_frame_equal(customers, before)


# ---------------------------------------------------------------- engines


def test_engines_agree(engine: str, customers: pd.DataFrame) -> None:
    small = customers.iloc[:500]
    ref = clv_quadrants(small, split=("median", ("quantile", 0.75)))
    got = clv_quadrants(to_engine(small, engine), split=("median", ("quantile", 0.75)))
    assert got.thresholds == pytest.approx(ref.thresholds)
    a = ref.to_frame().sort_values("customer_id").reset_index(drop=True)
    b = got.to_frame().sort_values("customer_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b, check_dtype=False)


# ---------------------------------------------------------------- plots and repr


def test_plot(customers: pd.DataFrame) -> None:
    import matplotlib.axes

    r = clv_quadrants(customers.assign(current_value=customers["current_value"] + 1.0))
    ax = r.plot()
    assert isinstance(ax, matplotlib.axes.Axes)
    assert ax.get_xscale() == "log"  # current values are all positive
    assert ax.get_yscale() == "symlog"  # potential has negatives
    texts = [t.get_text() for t in ax.texts]
    assert f"vip\nn = {r.n_vip:,}" in texts
    assert sum(len(c.get_offsets()) for c in ax.collections) == len(customers)
    ax2 = r.plot(max_points=100)
    assert sum(len(c.get_offsets()) for c in ax2.collections) == 100
    assert repr(r).startswith("QuadrantResult(current_threshold=")
    assert "<table>" in r._repr_html_()
    assert r.to_dict()["n_vip"] == r.n_vip
    assert r.bgnbd is None and r.customer_summary is None


# ---------------------------------------------------------------- from a transaction log


@pytest.fixture(scope="module")
def cdnow_quadrants():
    from crmmodels.datasets import load_cdnow_sample

    tx = load_cdnow_sample()[["customer_id", "date", "amount"]]
    q = clv_quadrants_from_transactions(tx, observation_end="1998-06-30", split={"current": 0.01})
    return tx, q


def test_from_transactions_current_value(cdnow_quadrants) -> None:
    tx, q = cdnow_quadrants
    cs = q.customer_summary
    assert q.n_customers == 2357 == len(cs)
    end = pd.Timestamp("1998-06-30")
    recent = tx[(tx["date"] > end - pd.Timedelta(days=365)) & (tx["date"] <= end)]
    ref = recent.groupby("customer_id")["amount"].sum().reindex(cs["customer_id"], fill_value=0)
    np.testing.assert_allclose(cs["current_value"], ref.to_numpy(), atol=1e-9)
    assert q.current_threshold == 0.01 and q.current_rule == "absolute(0.01)"
    # high current = any spend in the last year
    f = q.to_frame().merge(cs[["customer_id", "current_value"]], on="customer_id")
    high = f["quadrant"].isin(["vip", "maintain"])
    assert (high == (f["current_value_x"] >= 0.01)).all()


def test_from_transactions_potential_and_models(cdnow_quadrants) -> None:
    _, q = cdnow_quadrants
    cs = q.customer_summary
    assert q.bgnbd is not None and q.gamma_gamma is not None
    assert set(q.bgnbd.params_) == {"r", "alpha", "a", "b"}
    # on the full 78 weeks the fit stays close to the published calibration fit
    assert 0.1 < q.bgnbd.params_["r"] < 0.5
    assert q.potential_method is not None
    x, m = cs["frequency"].to_numpy(), cs["monetary_value"].to_numpy()
    if q.potential_method.startswith("CLV"):
        from crmmodels.clv import customer_lifetime_value  # type: ignore[attr-defined]

        ref = customer_lifetime_value(
            q.bgnbd, q.gamma_gamma, cs, horizon=52, discount_rate=0.1, discount_period=52
        ).to_frame()["clv"]
    else:
        ref = q.bgnbd.conditional_expected_purchases(
            52, x, cs["recency"].to_numpy(), cs["T"].to_numpy()
        ) * q.gamma_gamma.conditional_expected_spend(x, m)
    np.testing.assert_allclose(cs["potential_value"], ref, rtol=1e-9)
    np.testing.assert_allclose(
        q.to_frame()["potential_value"].sort_values(), np.sort(np.asarray(ref)), rtol=1e-9
    )


def test_from_transactions_against_lifetimes(cdnow_quadrants) -> None:
    """BG/NBD expected purchases and Gamma-Gamma spend vs the lifetimes package."""
    from lifetimes import BetaGeoFitter, GammaGammaFitter

    _, q = cdnow_quadrants
    cs = q.customer_summary
    bgf = BetaGeoFitter().fit(cs["frequency"], cs["recency"], cs["T"])
    rep = cs[cs["frequency"] > 0]
    ggf = GammaGammaFitter().fit(rep["frequency"], rep["monetary_value"])
    purchases = bgf.conditional_expected_number_of_purchases_up_to_time(
        52, cs["frequency"], cs["recency"], cs["T"]
    )
    spend = ggf.conditional_expected_average_profit(cs["frequency"], cs["monetary_value"])
    ours = q.bgnbd.conditional_expected_purchases(
        52, cs["frequency"].to_numpy(), cs["recency"].to_numpy(), cs["T"].to_numpy()
    )
    np.testing.assert_allclose(ours, purchases, rtol=2e-3)
    ours_spend = q.gamma_gamma.conditional_expected_spend(
        cs["frequency"].to_numpy(), cs["monetary_value"].to_numpy()
    )
    np.testing.assert_allclose(ours_spend, spend, rtol=2e-3)


def _six_customers() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "cust": [1, 1, 1, 2, 2, 3, 4, 4, 5, 5, 5, 6],
            "day": pd.to_datetime(
                [
                    "2023-01-05",
                    "2023-06-01",
                    "2024-03-01",
                    "2023-02-01",
                    "2023-02-20",
                    "2024-05-01",
                    "2023-03-03",
                    "2024-06-01",
                    "2023-01-10",
                    "2023-08-08",
                    "2024-06-20",
                    "2023-09-09",
                ]
            ),
            "value": [20.0, 35.0, 15.0, 50.0, 45.0, 10.0, 5.0, 7.0, 100.0, 80.0, 90.0, 12.0],
        }
    )


def _quadrants_any_fit(tx: object, **kwargs: object) -> QuadrantResult:
    """The quadrant function on a log too small for a well-defined BG/NBD fit.

    Whether the fit converges, ends at a boundary or is skipped is not what these tests
    check (tests/test_small_bases.py does); only crmmodels' own warnings may appear.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        q = clv_quadrants_from_transactions(tx, **kwargs)  # type: ignore[arg-type]
    assert all(issubclass(w.category, CRMModelsWarning) for w in caught), caught
    return q


def test_from_transactions_polars_and_bad_input() -> None:
    import polars as pl

    tx = _six_customers()
    kw = {"customer_col": "cust", "date_col": "day", "amount_col": "value"}
    q = _quadrants_any_fit(tx, observation_end="2024-06-30", **kw)
    a = q.to_frame().sort_values("cust").reset_index(drop=True)
    # every customer exactly once, each label consistent with the thresholds used
    assert a["cust"].tolist() == [1, 2, 3, 4, 5, 6] and q.n_customers == 6
    assert np.isfinite(a["potential_value"]).all()
    ref = _pandas_reference(
        a.rename(columns={"cust": "customer_id"}), q.current_threshold, q.potential_threshold
    )
    assert a["quadrant"].astype(str).tolist() == ref.tolist()
    # same result on every engine
    for native in (pl.from_pandas(tx), to_engine(tx, "polars_lazy"), to_engine(tx, "duckdb")):
        q2 = _quadrants_any_fit(native, observation_end="2024-06-30", **kw)
        b = q2.to_frame().sort_values("cust").reset_index(drop=True)
        pd.testing.assert_frame_equal(a, b, check_dtype=False, rtol=1e-6)
        assert q2.notes == q.notes
    # ISO string dates
    q3 = _quadrants_any_fit(
        tx.assign(day=tx["day"].dt.strftime("%Y-%m-%d")), observation_end="2024-06-30", **kw
    )
    assert q3.to_frame()["quadrant"].tolist() == q.to_frame()["quadrant"].tolist()
    # current value: spend after 2023-07-01
    cur = dict(zip(a["cust"], a["current_value"], strict=True))
    assert cur == {1: 15.0, 2: 0.0, 3: 10.0, 4: 7.0, 5: 170.0, 6: 12.0}
    with pytest.raises(SchemaError, match="valu"):
        clv_quadrants_from_transactions(tx, customer_col="cust", date_col="day", amount_col="val")
    with pytest.raises(DataError, match="time_unit"):
        clv_quadrants_from_transactions(tx, time_unit="M", **kw)
    with pytest.raises(DataError, match="current_window_days"):
        clv_quadrants_from_transactions(tx, current_window_days=0, **kw)
    with pytest.raises(DataError, match="horizon"):
        clv_quadrants_from_transactions(tx, horizon=-1, **kw)
    with pytest.raises(DataError, match="split"):
        clv_quadrants_from_transactions(tx, split="mean", **kw)


def test_from_transactions_default_split_on_cdnow() -> None:
    """Most CDNOW customers spent nothing in the last year: the default still splits."""
    from crmmodels.datasets import load_cdnow

    tx = load_cdnow()[["customer_id", "date", "amount"]]
    with warnings.catch_warnings():
        warnings.simplefilter("error", EmptyQuadrantWarning)
        q = clv_quadrants_from_transactions(tx, observation_end="1998-06-30")
    assert q.n_customers == 23570
    assert min(q.n_vip, q.n_improve, q.n_maintain, q.n_abandon) > 0
    assert q.current_rule == q.potential_rule == "positive_median"
    cs = q.customer_summary
    spent = cs["current_value"].to_numpy()
    assert (spent == 0).mean() > 0.5  # the plain median would be 0
    assert q.current_threshold == pytest.approx(np.median(spent[spent > 0]))
    high = q.to_frame()["quadrant"].isin(["vip", "maintain"]).to_numpy()
    np.testing.assert_array_equal(high, q.to_frame()["current_value"] >= q.current_threshold)
    # the plain median puts everyone on the high side, and says so
    with pytest.warns(EmptyQuadrantWarning, match="improve, abandon empty"):
        clv_quadrants(cs, split="median")


def test_from_transactions_aware_observation_end() -> None:
    """A timezone-aware observation_end is read on the data's local calendar."""
    from crmmodels.datasets import load_cdnow_sample

    tx = load_cdnow_sample()[["customer_id", "date", "amount"]]
    tx = tx[tx["date"] < "1998-06-30"]
    naive = clv_quadrants_from_transactions(tx, observation_end="1998-06-29")
    ny = tx.assign(date=tx["date"].dt.tz_localize("America/New_York"))
    # 02:00 UTC on June 30 is still June 29 in New York
    aware = clv_quadrants_from_transactions(ny, observation_end="1998-06-30T02:00+00:00")
    pd.testing.assert_frame_equal(naive.to_frame(), aware.to_frame())
    pd.testing.assert_frame_equal(naive.customer_summary, aware.customer_summary)
    # naive dates: an aware observation_end is read in UTC, like summarize_transactions
    utc = clv_quadrants_from_transactions(
        tx, observation_end=pd.Timestamp("1998-06-30 01:00", tz="Europe/Paris")
    )
    pd.testing.assert_frame_equal(naive.to_frame(), utc.to_frame())
