"""Tests of crmmodels.lifecycle.churn_comparison: churned against active customers by attribute.

References: scipy's Wilson interval (``binomtest(...).proportion_ci``), ``fisher_exact`` and
``chi2_contingency``; Newcombe's (1998) published example for the interval of a
difference; hand-counted tables.
"""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from scipy import stats

from crmmodels.errors import ArgumentError, DataError, SchemaError
from crmmodels.lifecycle import ChurnComparisonResult, churn_comparison

from _engines import to_engine


def small_table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": list(range(1, 11)),
            "channel": ["web"] * 6 + ["shop"] * 4,
            "orders": [1, 1, 2, 3, 5, 8, 1, 4, 6, 9],
            "p_alive": [0.1, 0.2, 0.3, 0.4, 0.8, 0.9, 0.45, 0.6, 0.7, 0.95],
        }
    )


def random_table(seed: int, n: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "customer_id": rng.permutation(n) + 1000,
            "segment": rng.choice(["a", "b", "c"], n, p=[0.5, 0.3, 0.2]),
            "spend": rng.gamma(2.0, 20.0, n).round(2),
            "p_alive": rng.uniform(0, 1, n),
        }
    )


def test_a_hand_counted_table() -> None:
    res = churn_comparison(small_table(), attributes=["channel"], p_alive_col="p_alive")
    # churned (p_alive < 0.5): web 1-4 (4 of 6), shop 7 (1 of 4); 5 of 10 overall
    assert isinstance(res, ChurnComparisonResult)
    assert (res.n_customers, res.n_churned, res.churn_rate) == (10, 5, 0.5)
    t = res.to_frame().set_index("level")
    assert t.loc["web", ["customers", "churned", "active"]].tolist() == [6, 4, 2]
    assert t.loc["shop", ["customers", "churned", "active"]].tolist() == [4, 1, 3]
    assert t.loc["web", "churn_rate"] == pytest.approx(4 / 6)
    assert t.loc["web", "lift"] == pytest.approx((4 / 6) / 0.5)
    assert t.loc["shop", "lift"] == pytest.approx(0.25 / 0.5)
    assert t.loc["web", "difference"] == pytest.approx(4 / 6 - 1 / 4)
    assert t.loc["shop", "difference"] == pytest.approx(-(4 / 6 - 1 / 4))
    assert res.rule == "p_alive < 0.5"


def test_rate_intervals_are_scipys_wilson_intervals() -> None:
    df = random_table(1)
    res = churn_comparison(df, attributes=["segment"], p_alive_col="p_alive", level=0.9)
    for row in res.table.itertuples():
        ci = stats.binomtest(int(row.churned), int(row.customers)).proportion_ci(0.9, "wilson")
        assert row.churn_rate_low == pytest.approx(ci.low, abs=1e-12)
        assert row.churn_rate_high == pytest.approx(ci.high, abs=1e-12)
    ci = stats.binomtest(res.n_churned, res.n_customers).proportion_ci(0.9, "wilson")
    assert (res.churn_rate_low, res.churn_rate_high) == pytest.approx((ci.low, ci.high))


def test_the_difference_interval_is_newcombes_published_example() -> None:
    # Newcombe (1998), Table II, example (a): 56/70 against 48/80, method 10: 0.0524 to 0.3339
    df = pd.DataFrame(
        {
            "customer_id": range(150),
            "group": ["a"] * 70 + ["b"] * 80,
            "churned": [True] * 56 + [False] * 14 + [True] * 48 + [False] * 32,
        }
    )
    res = churn_comparison(df, attributes="group", churned_col="churned")
    a = res.table.set_index("level").loc["a"]
    assert a["difference"] == pytest.approx(0.2)
    assert a["difference_low"] == pytest.approx(0.0524, abs=5e-5)
    assert a["difference_high"] == pytest.approx(0.3339, abs=5e-5)


def test_p_values_are_scipys_tests() -> None:
    df = random_table(2)
    res = churn_comparison(df, attributes=["segment"], p_alive_col="p_alive")
    table = res.table
    total_n, total_c = res.n_customers, res.n_churned
    for row in table.itertuples():
        c, n = int(row.churned), int(row.customers)
        two_by_two = [[c, n - c], [total_c - c, total_n - n - total_c + c]]
        assert row.p_value == pytest.approx(stats.fisher_exact(two_by_two).pvalue, rel=1e-9)
    observed = table[["churned", "active"]].to_numpy()
    chi2, p, dof, _ = stats.chi2_contingency(observed, correction=False)
    test = res.tests.iloc[0]
    assert test["test"] == "chi-square"
    assert (test["statistic"], test["p_value"], test["dof"]) == pytest.approx((chi2, p, dof))
    assert test["cramers_v"] == pytest.approx(np.sqrt(chi2 / total_n))


def test_two_small_levels_use_fishers_exact_test() -> None:
    res = churn_comparison(small_table(), attributes=["channel"], p_alive_col="p_alive")
    test = res.tests.iloc[0]
    assert test["test"] == "fisher"
    expected = stats.fisher_exact([[1, 3], [4, 2]]).pvalue  # shop then web
    assert test["p_value"] == pytest.approx(expected)
    assert test["min_expected"] == pytest.approx(4 * 5 / 10)


def test_small_counts_in_many_levels_are_noted() -> None:
    df = small_table().assign(kind=list("aabbccddee"))
    res = churn_comparison(df, attributes=["kind"], p_alive_col="p_alive")
    assert res.tests.iloc[0]["test"] == "chi-square"
    assert "below 5" in res.tests.iloc[0]["note"]


def test_numeric_attributes_are_cut_at_stated_quantiles() -> None:
    df = random_table(3)
    res = churn_comparison(df, attributes=["spend"], p_alive_col="p_alive", bins=5)
    edges = np.quantile(df["spend"], np.linspace(0, 1, 6))
    assert res.bin_edges["spend"] == pytest.approx(tuple(edges))
    table = res.table
    assert len(table) == 5
    codes = np.searchsorted(edges[1:-1], df["spend"], side="left")
    assert table["customers"].tolist() == np.bincount(codes).tolist()
    assert table["level"].iloc[0].startswith("[") and table["level"].iloc[1].startswith("(")
    assert res.bins == 5


def test_numeric_attributes_with_few_values_get_one_level_per_value() -> None:
    res = churn_comparison(small_table(), attributes=["orders"], p_alive_col="p_alive", bins=8)
    assert res.table["level"].tolist() == ["1", "2", "3", "4", "5", "6", "8", "9"]
    assert res.bin_edges == {}


def test_categories_keep_their_order_and_missing_values_form_a_level() -> None:
    df = small_table()
    df["tier"] = pd.Categorical(
        ["gold", None, "bronze", "gold", "bronze", None, "gold", "gold", "bronze", "gold"],
        categories=["gold", "silver", "bronze"],
    )
    res = churn_comparison(df, attributes=["tier", "channel"], p_alive_col="p_alive")
    tier = res.table[res.table["attribute"] == "tier"]
    assert tier["level"].tolist() == ["gold", "bronze", "(missing)"]
    assert tier["customers"].tolist() == [5, 3, 2]
    assert tier["churned"].tolist() == [3, 1, 1]  # churned: ids 1, 2, 3, 4 and 7


def test_the_three_churn_definitions_agree_when_they_mark_the_same_customers() -> None:
    df = small_table()
    df["churned"] = df["p_alive"] < 0.5
    df["stage"] = np.where(df["churned"], "lost", "active")
    by_p = churn_comparison(df, attributes=["channel"], p_alive_col="p_alive")
    by_flag = churn_comparison(df, attributes=["channel"], churned_col="churned")
    by_stage = churn_comparison(
        df, attributes=["channel"], lifecycle_stage_col="stage", churned_stages=["lost"]
    )
    pd.testing.assert_frame_equal(by_p.table, by_flag.table)
    pd.testing.assert_frame_equal(by_p.table, by_stage.table)
    assert by_stage.rule == "stage in ('lost')"


def test_a_higher_threshold_marks_more_customers_churned() -> None:
    df = random_table(4)
    low = churn_comparison(df, attributes="segment", p_alive_col="p_alive", threshold=0.3)
    high = churn_comparison(df, attributes="segment", p_alive_col="p_alive", threshold=0.7)
    assert low.n_churned == int((df["p_alive"] < 0.3).sum())
    assert high.n_churned == int((df["p_alive"] < 0.7).sum())


@pytest.mark.parametrize("engine", ["polars", "polars_lazy", "pyarrow", "duckdb", "dask"])
def test_every_engine_gives_the_pandas_table(engine: str) -> None:
    df = random_table(5)
    kwargs: dict[str, Any] = {"attributes": ["segment", "spend"], "p_alive_col": "p_alive"}
    expected = churn_comparison(df, **kwargs)
    got = churn_comparison(to_engine(df, engine), **kwargs)
    pd.testing.assert_frame_equal(got.table, expected.table)
    pd.testing.assert_frame_equal(got.tests, expected.tests)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(4, 60),
    threshold=st.floats(0.05, 0.95),
)
@example(seed=613, n=4, threshold=0.5)  # every segment drawn missing: one is set
def test_invariants(seed: int, n: int, threshold: float) -> None:
    rng = np.random.default_rng(seed)
    segment = rng.choice(["x", "y", "z", None], n)
    segment[0] = "x"  # an attribute missing for everyone is refused (tested below)
    df = pd.DataFrame(
        {
            "customer_id": rng.permutation(n),
            "segment": segment,
            "value": rng.normal(0, 1, n),
            "p_alive": rng.uniform(0, 1, n),
        }
    )
    p = df["p_alive"].to_numpy()
    if (p < threshold).all() or (p >= threshold).all():
        with pytest.raises(DataError, match="nothing to compare"):
            churn_comparison(df, attributes=["segment"], p_alive_col="p_alive", threshold=threshold)
        return
    before = df.copy()
    kwargs: dict[str, Any] = {
        "attributes": ["segment", "value"],
        "p_alive_col": "p_alive",
        "threshold": threshold,
        "bins": 3,
    }
    res = churn_comparison(df, **kwargs)
    pd.testing.assert_frame_equal(df, before)  # the caller's frame is untouched
    t = res.table
    for _, part in t.groupby("attribute"):  # every customer exactly once per attribute
        assert part["customers"].sum() == n
        assert part["churned"].sum() == res.n_churned
    rates = t[["churn_rate", "churn_rate_low", "churn_rate_high"]].to_numpy()
    assert ((rates >= 0) & (rates <= 1)).all()
    assert (t["churn_rate_low"] <= t["churn_rate"] + 1e-12).all()
    assert (t["churn_rate"] <= t["churn_rate_high"] + 1e-12).all()
    assert ((t["p_value"] >= 0) & (t["p_value"] <= 1 + 1e-12) | t["p_value"].isna()).all()
    shuffled = df.sample(frac=1.0, random_state=seed)
    again = churn_comparison(shuffled, **kwargs)
    pd.testing.assert_frame_equal(again.table, res.table)
    pd.testing.assert_frame_equal(again.tests, res.tests)


# --- bad input ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"p_alive_col": "p_alive", "churned_col": "flag"},
        {"p_alive_col": "p_alive", "lifecycle_stage_col": "stage"},
    ],
)
def test_exactly_one_churn_definition(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ArgumentError, match="exactly one way"):
        churn_comparison(small_table(), attributes=["channel"], **kwargs)


@pytest.mark.parametrize("threshold", [0, 1, 1.5, -0.1, float("nan"), "0.5"])
def test_the_threshold_must_be_inside_zero_and_one(threshold: Any) -> None:
    with pytest.raises(ArgumentError, match="threshold"):
        churn_comparison(
            small_table(), attributes=["channel"], p_alive_col="p_alive", threshold=threshold
        )


def test_a_missing_column_names_a_close_one() -> None:
    with pytest.raises(SchemaError, match="Did you mean 'channel'"):
        churn_comparison(small_table(), attributes=["chanel"], p_alive_col="p_alive")
    with pytest.raises(SchemaError, match="'palive'"):
        churn_comparison(small_table(), attributes=["channel"], p_alive_col="palive")


def test_a_customer_on_two_rows_is_refused_with_counts_and_an_example() -> None:
    df = small_table()
    df.loc[3, "customer_id"] = 2
    df.loc[5, "customer_id"] = 2
    with pytest.raises(DataError, match=r"1 customer on more than one row \(3 rows; first "
                       r"example: 2, on 3 rows\)"):  # fmt: skip
        churn_comparison(df, attributes=["channel"], p_alive_col="p_alive")


@pytest.mark.parametrize("threshold", [0.05, 0.99])
def test_no_churned_or_no_active_customer_is_a_data_error(threshold: float) -> None:
    with pytest.raises(DataError, match="churned under the rule p_alive <"):
        churn_comparison(
            small_table(), attributes=["channel"], p_alive_col="p_alive", threshold=threshold
        )


def test_an_attribute_missing_everywhere_is_a_data_error() -> None:
    df = small_table().assign(empty=np.nan)
    with pytest.raises(DataError, match="attribute 'empty' is missing for all 10 customers"):
        churn_comparison(df, attributes=["channel", "empty"], p_alive_col="p_alive")


def test_bad_churn_columns() -> None:
    df = small_table().assign(flag=["yes", "no"] * 5, stage="loyal")
    with pytest.raises(SchemaError, match="'flag' must be boolean"):
        churn_comparison(df, attributes=["channel"], churned_col="flag")
    with pytest.raises(DataError, match=r"none of churned_stages \['churned'\] occurs"):
        churn_comparison(df, attributes=["channel"], lifecycle_stage_col="stage")
    df.loc[2, "p_alive"] = np.nan
    with pytest.raises(DataError, match=r"'p_alive' is missing in 1 row .*customer_id=3"):
        churn_comparison(df, attributes=["channel"], p_alive_col="p_alive")
    df.loc[2, "p_alive"] = 1.5
    with pytest.raises(DataError, match=r"outside \[0, 1\] in 1 row"):
        churn_comparison(df, attributes=["channel"], p_alive_col="p_alive")


def test_bad_attributes() -> None:
    df = small_table().assign(day=pd.Timestamp("2024-01-01"), code=[f"c{i}" for i in range(10)])
    with pytest.raises(ArgumentError, match="dates or durations"):
        churn_comparison(df, attributes=["day"], p_alive_col="p_alive")
    with pytest.raises(ArgumentError, match="attributes is empty"):
        churn_comparison(df, attributes=[], p_alive_col="p_alive")
    with pytest.raises(ArgumentError, match="defines churn"):
        churn_comparison(df, attributes=["p_alive"], p_alive_col="p_alive")
    big = pd.concat([df] * 11, ignore_index=True).assign(customer_id=range(110))
    big["code"] = [f"c{i}" for i in range(110)]
    with pytest.raises(DataError, match="has 110 levels"):
        churn_comparison(big, attributes=["code"], p_alive_col="p_alive")
    with pytest.raises(ArgumentError, match="bins"):
        churn_comparison(df, attributes=["orders"], p_alive_col="p_alive", bins=1)


def test_plot_one_attribute_or_all() -> None:
    res = churn_comparison(
        small_table(), attributes=["channel", "orders"], p_alive_col="p_alive", bins=2
    )
    ax = res.plot()
    assert len(ax.get_yticklabels()) == len(res.table)
    plt.close(ax.figure)
    ax = res.plot(attribute="orders")
    assert [t.get_text() for t in ax.get_yticklabels()] == ["orders: [1, 3.5]", "orders: (3.5, 9]"]
    plt.close(ax.figure)
    with pytest.raises(ArgumentError, match="attribute must be one of"):
        res.plot(attribute="nope")


def test_on_the_customer_table_of_an_analysis() -> None:
    import crmmodels as crm
    from crmmodels.datasets import load_cdnow_sample

    customers = crm.analyze(load_cdnow_sample()).customers
    res = churn_comparison(
        customers,
        attributes=["rfm_segment", "value_class", "frequency", "mean_order_value"],
        lifecycle_stage_col="lifecycle_stage",
    )
    churned = customers["lifecycle_stage"] == "churned"
    assert res.n_customers == len(customers) == 2357
    assert res.n_churned == int(churned.sum())
    value = res.table[res.table["attribute"] == "value_class"].set_index("level")
    for cls in ("A", "B", "C"):  # counted again by hand
        in_class = customers["value_class"] == cls
        assert value.loc[cls, "customers"] == int(in_class.sum())
        assert value.loc[cls, "churned"] == int((in_class & churned).sum())
    # the top value class churns less than the bottom one, and the test says so
    assert value.loc["A", "churn_rate_high"] < value.loc["C", "churn_rate_low"]
    assert res.tests.set_index("attribute").loc["value_class", "p_value"] < 1e-6
    by_p = churn_comparison(customers, attributes=["value_class"], p_alive_col="p_alive")
    assert by_p.n_churned == int((customers["p_alive"] < 0.5).sum())


def test_the_result_contract() -> None:
    import dataclasses
    import json

    res = churn_comparison(random_table(6), attributes=["segment", "spend"], p_alive_col="p_alive")
    lines = repr(res).splitlines()
    assert lines[0].startswith("ChurnComparisonResult(") and max(map(len, lines)) < 90
    assert json.loads(json.dumps(res.to_dict()))["n_customers"] == 400
    assert res._repr_html_().startswith("<div><strong>ChurnComparisonResult</strong>")
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.rule = "x"  # type: ignore[misc]
    frame = res.to_frame()
    frame.loc[0, "customers"] = -1
    assert res.table.loc[0, "customers"] != -1  # a copy
    _, own = plt.subplots()
    assert res.plot(ax=own) is own
    plt.close("all")
