"""referral_analysis: trees, cohorts, invalid referrals, intervals and engines."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from crmmodels.datasets import simulate_referrals
from crmmodels.errors import ArgumentError, CRMModelsWarning, DataError, SchemaError
from crmmodels.referrals import ReferralResult, referral_analysis
from crmmodels.referrals._intervals import newcombe, welch_difference, welch_mean, wilson
from crmmodels.referrals._trees import cycle_members, forest, subtree_sums

from _engines import to_engine


def hand_tree() -> pd.DataFrame:
    """1 -> 2 -> 4 -> 6, 1 -> 3, 2 -> 5; 7 organic alone; 8 -> 9."""
    return pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 4, 5, 6, 7, 8, 9],
            "referrer_id": [None, 1, 1, 2, 2, 4, None, None, 8],
            "date": pd.to_datetime(
                [
                    "2024-01-01",
                    "2024-01-15",
                    "2024-03-20",
                    "2024-02-01",
                    "2024-02-10",
                    "2024-02-20",
                    "2024-01-05",
                    "2024-02-01",
                    "2024-02-05",
                ]
            ),
        }
    )


def hand_transactions() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [1, 1, 2, 3, 4, 4, 5, 6, 7, 8, 9, 9],
            "date": pd.to_datetime(
                [
                    "2024-01-01",
                    "2024-01-10",
                    "2024-01-15",
                    "2024-03-20",
                    "2024-02-01",
                    "2024-02-03",
                    "2024-02-10",
                    "2024-02-20",
                    "2024-01-05",
                    "2024-02-01",
                    "2024-02-05",
                    "2024-09-01",
                ]
            ),
            "amount": [10.0, 5.0, 20.0, 7.0, 8.0, 2.0, 30.0, 4.0, 50.0, 1.0, 3.0, 6.0],
        }
    )


def test_a_hand_built_tree() -> None:
    res = referral_analysis(hand_tree(), window=30, observation_end="2024-12-31")
    c = res.customers.set_index("customer_id")
    assert c["root"].tolist() == [1, 1, 1, 1, 1, 1, 7, 8, 8]
    assert c["depth"].tolist() == [0, 1, 1, 2, 2, 3, 0, 0, 1]
    assert c["n_direct_referrals"].tolist() == [2, 2, 0, 1, 0, 0, 0, 1, 0]
    assert c["n_descendants"].tolist() == [5, 3, 0, 1, 0, 0, 0, 1, 0]
    assert c["referred"].tolist() == [False, True, True, True, True, True, False, False, True]
    trees = res.trees.set_index("root")
    assert trees.loc[[1, 8, 7], "size"].tolist() == [6, 2, 1]
    assert trees.loc[[1, 8, 7], "depth"].tolist() == [3, 1, 0]
    assert (res.n_customers, res.n_referred, res.n_referrers, res.n_trees, res.max_depth) == (
        9,
        6,
        4,
        3,
        3,
    )
    # January: 1 (refers 2 after 14 days; 3 after 79 days: out of the window), 7;
    # 2 refers 4 (17 days) and 5 (26 days). February: 4 -> 6 (19 days), 8 -> 9 (4 days)
    jan, feb, mar = res.by_cohort.to_dict("records")
    assert (jan["n_customers"], jan["n_referred"], jan["n_referrers"]) == (3, 1, 2)
    assert jan["n_referrals"] == 3 and jan["viral_coefficient"] == pytest.approx(1.0)
    assert jan["referrals_per_referrer"] == pytest.approx(1.5)
    assert jan["referral_rate"] == pytest.approx(2 / 3)
    assert (feb["n_customers"], feb["n_referrals"], feb["n_referrers"]) == (5, 2, 2)
    assert feb["viral_coefficient"] == pytest.approx(0.4)
    assert (mar["n_customers"], mar["n_referrals"]) == (1, 0)
    assert res.viral_coefficient == pytest.approx(5 / 9)
    assert res.issues.empty and res.n_invalid == 0


def test_value_brought_in_and_top_referrers() -> None:
    res = referral_analysis(
        hand_tree(), transactions=hand_transactions(), window=30, observation_end="2024-12-31"
    )
    c = res.customers.set_index("customer_id")
    assert c["value"].tolist() == [15.0, 20.0, 7.0, 10.0, 30.0, 4.0, 50.0, 1.0, 9.0]
    # descendants' value, the own value excluded
    assert c.loc[1, "referred_value"] == 20 + 7 + 10 + 30 + 4
    assert c.loc[2, "referred_value"] == 10 + 30 + 4
    assert c.loc[2, "direct_referred_value"] == 10 + 30
    assert c.loc[8, "referred_value"] == 9.0
    assert res.trees.set_index("root")["value"].to_dict() == {1: 86.0, 8: 10.0, 7: 50.0}
    assert res.top_referrers["customer_id"].tolist() == [1, 2, 8, 4]  # 9.0 before 4.0
    # retention = a second purchase day within 30 days: customers 1 and 4 (and 9 is late)
    cmp = res.comparison
    assert cmp.loc["referred", "n_customers"] == 6 and cmp.loc["organic", "n_customers"] == 3
    assert cmp.loc["referred", "retention"] == pytest.approx(1 / 6)
    assert cmp.loc["organic", "retention"] == pytest.approx(1 / 3)
    assert cmp.loc["referred", "mean_value"] == pytest.approx((20 + 7 + 10 + 30 + 4 + 3) / 6)
    assert cmp.loc["organic", "mean_value"] == pytest.approx((15 + 50 + 1) / 3)


def test_the_intervals_match_scipy() -> None:
    for k, n in [(0, 10), (3, 10), (56, 70), (100, 100)]:
        p, lo, hi = wilson(k, n, 0.9)
        ci = stats.binomtest(k, n).proportion_ci(confidence_level=0.9, method="wilson")
        assert (lo, hi) == pytest.approx((ci.low, ci.high), abs=1e-12)
        assert p == k / n
    rng = np.random.default_rng(3)
    x, y = rng.gamma(2.0, 10.0, 40), rng.gamma(2.0, 12.0, 25)
    _, lo, hi = welch_difference(x, y, 0.9)
    ci = stats.ttest_ind(x, y, equal_var=False).confidence_interval(0.9)
    assert (lo, hi) == pytest.approx((ci.low, ci.high), rel=1e-10)
    _, lo, hi = welch_mean(x, 0.9)
    ci = stats.ttest_1samp(x, 0.0).confidence_interval(0.9)
    assert (lo, hi) == pytest.approx((ci.low, ci.high), rel=1e-10)


def test_newcombe_matches_the_published_example() -> None:
    # Newcombe (1998), Statistics in Medicine 17, table II, example (a): 56/70 - 48/80
    d, lo, hi = newcombe(56, 70, 48, 80, 0.95)
    assert d == pytest.approx(0.2)
    assert (round(lo, 4), round(hi, 4)) == (0.0524, 0.3339)


def test_comparison_uses_the_intervals_at_level() -> None:
    sim = simulate_referrals(400, seed=2)
    res = referral_analysis(sim.customers, transactions=sim.transactions, level=0.8)
    row = res.comparison.loc["referred"]
    k = round(row["retention"] * row["n_customers"])
    ci = stats.binomtest(k, int(row["n_customers"])).proportion_ci(0.8, method="wilson")
    assert (row["retention_low"], row["retention_high"]) == pytest.approx((ci.low, ci.high))


def invalid_base() -> pd.DataFrame:
    """Valid 1 -> 2; self-referral 3; unknown referrer of 4; 3-cycle 5 -> 6 -> 7 -> 5
    with 8 hanging below it; 9 referred by 10 who came later; 2-cycle 11 <-> 12."""
    return pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
            "referrer_id": [None, 1, 3, 99, 7, 5, 6, 6, 10, None, 12, 11],
            "date": pd.to_datetime(
                ["2024-01-01"] * 8 + ["2024-01-02", "2024-03-01"] + ["2024-01-05", "2024-01-06"]
            ),
        }
    )


def test_invalid_referrals_are_reported_and_treated_as_organic() -> None:
    with pytest.warns(CRMModelsWarning, match="treated as organic"):
        res = referral_analysis(invalid_base(), on_invalid="report")
    issues = res.issues.set_index("issue")
    assert issues["n_customers"].to_dict() == {
        "self_referral": 1,
        "unknown_referrer": 1,
        "cycle": 5,
        "referral_before_referrer": 1,
    }
    assert issues.loc["self_referral", "examples"] == [3]
    assert issues.loc["unknown_referrer", "examples"] == [4]
    assert issues.loc["cycle", "examples"] == [5, 6, 7, 11, 12]
    assert issues.loc["referral_before_referrer", "examples"] == [9]
    c = res.customers.set_index("customer_id")
    assert len(c) == 12  # nothing dropped
    assert c.loc[[3, 4, 5, 6, 7, 9, 11, 12], "referred"].eq(False).all()
    assert c.loc[4, "referrer_id"] == 99  # the referrer as given is kept
    assert c.loc[4, "referral_issue"] == "unknown_referrer"
    assert c.loc[8, "referred"] and c.loc[8, "root"] == 6  # below the broken cycle
    assert pd.isna(c.loc[2, "referral_issue"]) and c.loc[2, "root"] == 1
    assert res.n_invalid == 8
    assert res.trees["size"].sum() == 12


@pytest.mark.parametrize(
    ("rows", "kind"),
    [
        ({"customer_id": [1], "referrer_id": [1]}, "self_referral in 1 customer"),
        ({"customer_id": [1, 2], "referrer_id": [None, 7]}, "unknown_referrer in 1 customer"),
        ({"customer_id": [1, 2], "referrer_id": [2, 1]}, "cycle in 2 customers"),
        ({"customer_id": [1, 2, 3], "referrer_id": [3, 1, 2]}, "cycle in 3 customers"),
    ],
)
def test_on_invalid_raise_names_the_kind_count_and_example(
    rows: dict[str, list[object]], kind: str
) -> None:
    df = pd.DataFrame(rows).assign(date=pd.Timestamp("2024-01-01"))
    with pytest.raises(DataError, match=kind) as info:
        referral_analysis(df, on_invalid="raise")
    assert "customer_id e.g. [" in str(info.value) and "on_invalid='report'" in str(info.value)


def test_referral_before_the_referrer_raises() -> None:
    df = pd.DataFrame(
        {"customer_id": [1, 2], "referrer_id": [None, 1], "date": ["2024-02-01", "2024-01-01"]}
    )
    with pytest.raises(
        DataError, match=r"referral_before_referrer in 1 customer \(customer_id e.g. \[2\]\)"
    ):
        referral_analysis(df, on_invalid="raise")


def test_bad_input_gets_our_errors() -> None:
    base = hand_tree()
    with pytest.raises(SchemaError, match="referrer"):
        referral_analysis(base.drop(columns="referrer_id"))
    with pytest.raises(DataError, match=r"repeats an id in 2 rows.*drop_duplicates"):
        referral_analysis(pd.concat([base, base.iloc[:1]]))
    with pytest.raises(DataError, match="null"):
        referral_analysis(base.assign(customer_id=[1, 2, 3, None, 5, 6, 7, 8, 9]))
    tx = hand_transactions()
    with pytest.raises(DataError, match=r"missing from customers in 1 row \(first example: 42\)"):
        referral_analysis(base, transactions=pd.concat([tx, tx.iloc[:1].assign(customer_id=42)]))
    text_refs = base.assign(
        referrer_id=base["referrer_id"].map(lambda v: None if pd.isna(v) else str(int(v)))
    )
    with pytest.raises(
        SchemaError, match=r"'referrer_id' holds text and column 'customer_id' holds numbers"
    ):
        referral_analysis(text_refs)
    with pytest.raises(ArgumentError, match="on_invalid"):
        referral_analysis(base, on_invalid="drop")
    with pytest.raises(ArgumentError, match="window"):
        referral_analysis(base, window=0)
    with pytest.raises(ArgumentError, match="period"):
        referral_analysis(base, period="fortnight")
    with pytest.raises(DataError, match="after the observation end"):
        referral_analysis(base, observation_end="2024-02-01")


def test_the_input_is_not_modified() -> None:
    df, tx = hand_tree(), hand_transactions()
    before, before_tx = df.copy(), tx.copy()
    referral_analysis(df, transactions=tx)
    pd.testing.assert_frame_equal(df, before)
    pd.testing.assert_frame_equal(tx, before_tx)


def test_engines_agree(engine: str) -> None:
    ref = referral_analysis(hand_tree(), transactions=hand_transactions(), window=30)
    res = referral_analysis(
        to_engine(hand_tree(), engine),
        transactions=to_engine(hand_transactions(), engine),
        window=30,
    )
    cols = ["customer_id", "root", "depth", "n_descendants", "referred_value", "cohort"]
    pd.testing.assert_frame_equal(res.customers[cols], ref.customers[cols], check_dtype=False)
    pd.testing.assert_frame_equal(res.by_cohort, ref.by_cohort)
    pd.testing.assert_frame_equal(res.comparison, ref.comparison)


@st.composite
def bases(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(1, 25))
    refs = draw(st.lists(st.integers(-3, n), min_size=n, max_size=n))
    days = draw(st.lists(st.integers(0, 120), min_size=n, max_size=n))
    ids = draw(st.permutations(list(range(100, 100 + n))))
    return pd.DataFrame(
        {
            "customer_id": ids,
            # <= 0: organic; 1..n: the customer at that position (cycles, self-referrals)
            "referrer_id": [ids[r - 1] if r > 0 else None for r in refs],
            "date": pd.Timestamp("2024-01-01") + pd.to_timedelta(days, unit="D"),
        }
    )


@given(bases(), st.randoms(use_true_random=False))
def test_invariants(df: pd.DataFrame, rnd: object) -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CRMModelsWarning)
        res = referral_analysis(df, window=30)
        shuffled = referral_analysis(df.sample(frac=1.0, random_state=7), window=30)
    c = res.customers
    assert sorted(c["customer_id"]) == sorted(df["customer_id"])  # each customer once
    assert res.trees["size"].sum() == len(df) == res.n_customers
    assert res.n_trees == int((~c["referred"]).sum())
    assert int(c["n_direct_referrals"].sum()) == res.n_referred
    assert res.n_referred + res.n_invalid <= int(df["referrer_id"].notna().sum())
    pd.testing.assert_frame_equal(res.customers, shuffled.customers)
    pd.testing.assert_frame_equal(res.by_cohort, shuffled.by_cohort)
    # a referred customer is never acquired before their referrer
    by_id = c.set_index("customer_id")
    ref = c.loc[c["referred"]]
    assert (ref["date"].to_numpy() >= by_id.loc[ref["referrer_id"], "date"].to_numpy()).all()


def test_tree_kernels_on_a_long_chain() -> None:
    n = 5000
    parent = np.arange(-1, n - 1, dtype=np.int64)
    f = forest(parent)
    assert f.depth.tolist() == list(range(n)) and (f.root == 0).all()
    assert subtree_sums(parent, f.depth, np.ones(n))[0] == n - 1
    loop = parent.copy()
    loop[0] = n - 1
    assert cycle_members(loop).all()
    assert not cycle_members(parent).any()


def test_the_simulated_viral_coefficient_is_recovered() -> None:
    sim = simulate_referrals(4000, referrals_per_customer=0.5, mean_delay_days=20.0, seed=11)
    res = referral_analysis(sim.customers, transactions=sim.transactions, window=60)
    # the share of referrals arriving within 60 days of the referrer: 1 - exp(-60 / 20)
    expected = 0.5 * (1 - math.exp(-3.0))
    assert res.viral_coefficient == pytest.approx(expected, rel=0.06)
    # referred customers repeat 1.3 times as often: higher retention, clearly
    assert res.comparison.loc["difference", "retention_low"] > 0


def test_result_frame_plot_and_repr() -> None:
    res = referral_analysis(hand_tree(), transactions=hand_transactions(), window=30)
    assert isinstance(res, ReferralResult)
    assert len(res.to_frame()) == 9
    for kind in ["viral", "value", "trees"]:
        ax = res.plot(kind=kind)
        assert ax.get_title()
    assert all(len(line) <= 90 for line in repr(res).splitlines())
    assert res.to_dict()["n_referred"] == 6
    with pytest.raises(ArgumentError, match="transactions"):
        referral_analysis(hand_tree()).plot(kind="value")
    with pytest.raises(ArgumentError, match="kind"):
        res.plot(kind="pie")
