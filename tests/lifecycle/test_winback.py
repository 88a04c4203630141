"""Tests of crmmodels.lifecycle.win_back_targets: the ranked win-back list.

The expected values are recomputed here from the documented formula, written out
independently: rate (x + 1) / (t_x + 1 / base), base = sum(x) / sum(t_x) over the repeat
buyers, spend amount / (x + 1), value rate * spend * horizon, expected value
P(alive) * value.
"""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from crmmodels.errors import ArgumentError, DataError, SchemaError
from crmmodels.lifecycle import WinBackTargetsResult, win_back_targets

from _engines import to_engine


def table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [10, 11, 12, 13, 14, 15],
            "frequency": [0, 1, 3, 6, 2, 0],
            "recency": [0.0, 1.0, 20.0, 40.0, 30.0, 0.0],
            "total_value": [50.0, 60.0, 200.0, 350.0, 90.0, 20.0],
            "p_alive": [0.3, 0.2, 0.45, 0.95, 0.6, 0.1],
            "lifecycle_stage": ["churned", "loyal", "loyal", "loyal", "churned", "churned"],
            "channel": ["web", "shop", "web", "web", "shop", "web"],
            "age": [25, 40, 61, 33, 58, 47],
            "complaint": [1, 0, 1, 0, 0, 0],
        }
    )


def expected_values(df: pd.DataFrame, horizon: float) -> pd.Series[Any]:
    x = df["frequency"].astype(float)
    t = df["recency"].astype(float)
    repeat = (x > 0) & (t > 0)
    base = x[repeat].sum() / t[repeat].sum()
    rate = (x + 1) / (t + 1 / base)
    spend = df["total_value"] / (x + 1)
    return pd.Series((df["p_alive"] * rate * spend * horizon).to_numpy(), index=df["customer_id"])


def test_the_documented_formula_by_hand() -> None:
    df = table()
    res = win_back_targets(df, horizon=26)
    assert isinstance(res, WinBackTargetsResult)
    # base rate: (1 + 3 + 6 + 2) / (1 + 20 + 40 + 30) = 12 / 91
    assert res.base_purchase_rate == pytest.approx(12 / 91)
    t = res.to_frame().set_index("customer_id")
    # customer 11: one repeat purchase one week after the first: rate 2 / (1 + 91 / 12)
    assert t.loc[11, "purchase_rate"] == pytest.approx(2 / (1 + 91 / 12))
    assert t.loc[11, "spend_per_purchase"] == pytest.approx(30.0)
    assert t.loc[11, "value_if_reactivated"] == pytest.approx(2 / (1 + 91 / 12) * 30 * 26)
    assert t.loc[11, "expected_value"] == pytest.approx(0.2 * 2 / (1 + 91 / 12) * 30 * 26)
    # a one-time buyer buys at the base rate
    assert t.loc[10, "purchase_rate"] == pytest.approx(12 / 91)
    want = expected_values(df, 26)
    assert set(t.index) == {10, 11, 12, 15}  # P(alive) below 0.5
    for cid in t.index:
        assert t.loc[cid, "expected_value"] == pytest.approx(want[cid])
    assert res.total_expected_value == pytest.approx(want[[10, 11, 12, 15]].sum())


def test_sorted_by_expected_value_with_ranks_and_top() -> None:
    df = table()
    res = win_back_targets(df, threshold=0.99)
    t = res.targets
    assert t["rank"].tolist() == list(range(1, 7))
    assert t["expected_value"].is_monotonic_decreasing
    want = expected_values(df, 52).sort_values(ascending=False)
    assert t["customer_id"].tolist() == want.index.tolist()
    top = win_back_targets(df, threshold=0.99, top=2)
    assert (top.n_targets, top.n_listed) == (6, 2)
    pd.testing.assert_frame_equal(top.targets, t.head(2))
    assert top.total_expected_value == pytest.approx(res.total_expected_value)


def test_ties_are_ordered_by_id() -> None:
    df = pd.DataFrame(
        {
            "customer_id": ["c", "a", "b"],
            "frequency": [2, 2, 2],
            "recency": [10.0, 10.0, 10.0],
            "total_value": [30.0, 30.0, 30.0],
            "p_alive": [0.2, 0.2, 0.2],
        }
    )
    assert win_back_targets(df).targets["customer_id"].tolist() == ["a", "b", "c"]


def test_targets_are_the_union_of_the_given_rules() -> None:
    df = table()
    df["vip_lost"] = [False, False, False, True, False, False]
    res = win_back_targets(
        df, threshold=0.25, lifecycle_stage_col="lifecycle_stage", churned_col="vip_lost"
    )
    t = res.targets.set_index("customer_id")
    # stage churned: 10, 14, 15; P(alive) < 0.25: 11, 15; flag: 13
    assert sorted(t.index) == [10, 11, 13, 14, 15]
    assert t.loc[15, "targeted_by"] == "lifecycle_stage in ('churned'); p_alive < 0.25"
    assert t.loc[13, "targeted_by"] == "vip_lost is True"
    only_stage = win_back_targets(df, threshold=None, lifecycle_stage_col="lifecycle_stage")
    assert sorted(only_stage.targets["customer_id"]) == [10, 14, 15]
    assert only_stage.rule == "lifecycle_stage in ('churned')"


def drivers_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "process": ["dropout", "dropout", "dropout", "dropout", "purchase", "dropout"],
            "covariate": ["channel=web", "age", "complaint", "channel=shop", "age", "tenure"],
            "effect": [1.8, 1.03, 2.5, 0.7, 1.5, 1.2],
            "low": [1.2, 1.01, 1.4, 0.5, 1.1, 0.9],
            "high": [2.6, 1.05, 4.1, 0.9, 2.0, 1.6],
            "p_value": [0.001, 0.01, 0.02, 0.01, 0.001, 0.3],
            "coefficient": np.log([1.8, 1.03, 2.5, 0.7, 1.5, 1.2]),
            "std_error": [0.2, 0.01, 0.3, 0.1, 0.1, 0.2],
        }
    )


class DriversResult:
    """Stands for the covariate models' churn-drivers result: only ``to_frame`` is used."""

    def to_frame(self) -> pd.DataFrame:
        return drivers_frame()


@pytest.mark.parametrize("drivers", [drivers_frame(), DriversResult()])
def test_the_drivers_that_apply_to_each_customer(drivers: Any) -> None:
    df = table()
    res = win_back_targets(df, threshold=0.99, drivers=drivers)
    t = res.targets.set_index("customer_id")
    # applicable: channel=web, age (numeric: above the median 43.5), complaint (0/1);
    # not: channel=shop (effect < 1), age on purchase, tenure (not significant)
    assert t.loc[10, "drivers"] == "channel=web (x1.8); complaint (x2.5)"
    assert t.loc[11, "drivers"] == ""
    assert t.loc[12, "drivers"] == (
        "channel=web (x1.8); age above median 43.5 (x1.03 per unit); complaint (x2.5)"
    )
    assert t.loc[14, "drivers"] == "age above median 43.5 (x1.03 per unit)"
    assert t["n_drivers"].to_dict() == {10: 2, 11: 0, 12: 3, 13: 1, 14: 1, 15: 2}
    assert t.loc[12, "reason"].endswith("; drivers: " + t.loc[12, "drivers"])
    assert "drivers" not in t.loc[11, "reason"]


def test_a_drivers_covariate_must_be_a_column() -> None:
    bad = drivers_frame()
    bad.loc[0, "covariate"] = "chanel=web"
    with pytest.raises(SchemaError, match=r"churn driver 'chanel=web'.*Did you mean 'channel'"):
        win_back_targets(table(), drivers=bad)
    with pytest.raises(SchemaError, match="drivers has no column 'p_value'"):
        win_back_targets(table(), drivers=drivers_frame().drop(columns="p_value"))


def test_a_p_alive_of_one_for_every_one_time_buyer_is_noted() -> None:
    df = table()
    assert win_back_targets(df).notes == ()
    bgnbd_like = df.assign(p_alive=np.where(df["frequency"] == 0, 1.0, df["p_alive"]))
    res = win_back_targets(bgnbd_like, lifecycle_stage_col="lifecycle_stage")
    assert len(res.notes) == 1
    assert "P(alive) is 1 for all 2 targeted one-time buyers" in res.notes[0]


def test_no_target_gives_an_empty_list() -> None:
    res = win_back_targets(table(), threshold=0.05)
    assert (res.n_targets, res.n_listed, len(res.targets)) == (0, 0, 0)
    assert res.total_expected_value == 0.0
    assert "expected_value" in res.targets.columns


@pytest.mark.parametrize("engine", ["polars", "polars_lazy", "pyarrow", "duckdb", "dask"])
def test_every_engine_gives_the_pandas_list(engine: str) -> None:
    df = table()
    kwargs: dict[str, Any] = {"lifecycle_stage_col": "lifecycle_stage", "drivers": drivers_frame()}
    expected = win_back_targets(df, **kwargs)
    got = win_back_targets(to_engine(df, engine), **kwargs)
    pd.testing.assert_frame_equal(got.targets, expected.targets, check_dtype=False)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(2, 50), threshold=st.floats(0.05, 0.95))
@example(seed=366, n=44, threshold=0.5)  # a rate at a rounding edge: the sums must not move
@example(seed=365, n=34, threshold=0.5)
def test_every_target_exactly_once_and_row_order_does_not_matter(
    seed: int, n: int, threshold: float
) -> None:
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 6, n)
    x[0] = max(x[0], 1)
    t_x = np.where(x > 0, rng.uniform(1, 50, n).round(1), 0.0)
    df = pd.DataFrame(
        {
            "customer_id": rng.permutation(n) * 7,
            "frequency": x,
            "recency": t_x,
            "total_value": rng.gamma(2, 30, n).round(2),
            "p_alive": rng.uniform(0, 1, n),
        }
    )
    before = df.copy()
    res = win_back_targets(df, threshold=threshold)
    pd.testing.assert_frame_equal(df, before)
    ids = res.targets["customer_id"]
    assert ids.is_unique
    assert set(ids) == set(df.loc[df["p_alive"] < threshold, "customer_id"])
    assert (res.targets["expected_value"] >= 0).all()
    assert res.targets["expected_value"].is_monotonic_decreasing
    shuffled = df.sample(frac=1.0, random_state=seed)
    pd.testing.assert_frame_equal(
        win_back_targets(shuffled, threshold=threshold).targets, res.targets
    )


# --- bad input ---------------------------------------------------------------------------


def test_a_customer_on_two_rows_is_refused() -> None:
    df = table()
    df.loc[1, "customer_id"] = 10
    with pytest.raises(DataError, match=r"1 customer on more than one row \(2 rows; first "
                       r"example: 10, on 2 rows\)"):  # fmt: skip
        win_back_targets(df)


def test_bad_values_and_arguments() -> None:
    df = table()
    with pytest.raises(ArgumentError, match="at least one way"):
        win_back_targets(df, threshold=None)
    with pytest.raises(ArgumentError, match="threshold"):
        win_back_targets(df, threshold=1.0)
    with pytest.raises(ArgumentError, match="horizon"):
        win_back_targets(df, horizon=0)
    with pytest.raises(ArgumentError, match="top"):
        win_back_targets(df, top=0)
    with pytest.raises(SchemaError, match="Did you mean 'recency'"):
        win_back_targets(df, recency_col="recencey")
    neg = df.assign(frequency=[0, -1, 3, 6, 2, 0])
    with pytest.raises(DataError, match=r"'frequency' is missing, infinite or negative in 1 row"):
        win_back_targets(neg)
    with pytest.raises(DataError, match="no customer has a repeat purchase"):
        win_back_targets(df.assign(frequency=0, recency=0.0))
    with pytest.raises(DataError, match=r"'p_alive' is missing in 1 row"):
        win_back_targets(df.assign(p_alive=[0.3, np.nan, 0.45, 0.95, 0.6, 0.1]))
    with pytest.raises(DataError, match=r"'total_value' is missing in 1 row"):
        win_back_targets(df.assign(total_value=[50.0, np.nan, 200.0, 350.0, 90.0, 20.0]))


def test_plots() -> None:
    res = win_back_targets(table(), threshold=0.99)
    ax = res.plot()
    y = ax.lines[0].get_ydata()
    assert y[0] == 0.0 and y[-1] == pytest.approx(1.0)
    assert np.all(np.diff(y) >= 0)
    plt.close(ax.figure)
    ax = res.plot(kind="distribution", bins=3)
    assert ax.get_ylabel() == "targets"
    plt.close(ax.figure)
    with pytest.raises(ArgumentError, match="kind"):
        res.plot(kind="pie")


def test_on_the_customer_table_of_an_analysis() -> None:
    import crmmodels as crm
    from crmmodels.datasets import load_cdnow_sample

    analysis = crm.analyze(load_cdnow_sample())
    customers = analysis.customers
    res = win_back_targets(customers, lifecycle_stage_col="lifecycle_stage", horizon=52)
    targeted = (customers["lifecycle_stage"] == "churned") | (customers["p_alive"] < 0.5)
    assert res.n_customers == len(customers)
    assert res.n_targets == int(targeted.sum())
    assert set(res.targets["customer_id"]) == set(customers.loc[targeted, "customer_id"])
    want = expected_values(customers, 52)
    got = res.targets.set_index("customer_id")["expected_value"]
    np.testing.assert_allclose(got.to_numpy(), want[got.index].to_numpy(), rtol=1e-12)
    one_time = res.targets["repeat_purchases"] == 0
    assert one_time.any()
    np.testing.assert_allclose(res.targets.loc[one_time, "purchase_rate"], res.base_purchase_rate)


def test_the_result_contract() -> None:
    import dataclasses
    import json

    res = win_back_targets(table(), lifecycle_stage_col="lifecycle_stage")
    lines = repr(res).splitlines()
    assert lines[0].startswith("WinBackTargetsResult(") and max(map(len, lines)) < 90
    assert json.loads(json.dumps(res.to_dict()))["n_targets"] == res.n_targets == 5
    assert res._repr_html_().startswith("<div><strong>WinBackTargetsResult</strong>")
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.horizon = 1.0  # type: ignore[misc]
    frame = res.to_frame()
    frame.loc[0, "expected_value"] = -1.0
    assert res.targets.loc[0, "expected_value"] != -1.0  # a copy
    _, own = plt.subplots()
    assert res.plot(ax=own) is own
    empty = win_back_targets(table(), threshold=0.05)
    assert empty.plot(ax=own) is own
    assert empty.plot(kind="distribution") is not None
    plt.close("all")
