"""``analyze`` keeps one table: the parts are rebuilt from it and equal the individual functions.

The eager route fills the customer table step by step and drops each step's result; the
columns it computes without the full results (lifecycle stages and RFM segments from the
summary's columns, the windowed sums of the log, predictions and CLV by blocks) must
equal what the public functions give on the log.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import crmmodels as crm
from crmmodels import clv
from crmmodels.analysis import _eager
from crmmodels.analysis._eager import window_values
from crmmodels.analysis._parts import rfm_columns, rfm_part
from crmmodels.datasets import load_cdnow_sample
from crmmodels.quadrants._transactions import current_values

END = "1998-06-30"


@pytest.fixture(scope="module")
def sample() -> pd.DataFrame:
    return load_cdnow_sample()[["customer_id", "date", "amount"]]


@pytest.fixture(scope="module")
def result(sample: pd.DataFrame) -> crm.CustomerAnalysis:
    return crm.analyze(sample, observation_end=END)


def _summary(log: pd.DataFrame, **kwargs: object) -> pd.DataFrame:
    return crm.summarize_transactions(
        log, amount_col="amount", time_unit="W", observation_end=END, **kwargs
    )


def test_no_part_is_held_until_asked_for_and_then_kept(sample) -> None:
    res = crm.analyze(sample, observation_end=END)
    assert res._parts is not None and res._parts._cache == {}
    first = res.rfm
    assert res.rfm is first  # built once
    assert set(res._parts._cache) == {"rfm"}


def test_rebuilt_parts_equal_the_individual_functions(result, sample) -> None:
    s = _summary(sample)
    pd.testing.assert_frame_equal(result.rfm, crm.rfm_segments(crm.rfm_scores(s)))
    for scheme, part in (("purchase", result.lifecycle), ("relationship", result.relationship)):
        ref = crm.lifecycle_stages(
            sample,
            amount_col="amount",
            observation_end=END,
            rules=crm.LifecycleRules(scheme=scheme),
        )
        got = part.to_frame()
        cols = [c for c in ref.to_frame().columns if c not in ("value", "history_value")]
        pd.testing.assert_frame_equal(got[cols], ref.to_frame()[cols])
        # values are sums of the same amounts in another order
        np.testing.assert_allclose(got["value"], ref.to_frame()["value"], rtol=1e-12)
        pd.testing.assert_frame_equal(part.summary, ref.summary, rtol=1e-12)
    pareto = crm.pareto_analysis(s, amount_col="total_value", customer_col="customer_id")
    pd.testing.assert_frame_equal(result.portfolio.to_frame(), pareto.to_frame())
    model = result.models[result.transaction_model]
    value = clv.customer_lifetime_value(
        model, result.models["GammaGamma"], s, horizon=52, discount_rate=0.1, discount_period=52
    )
    pd.testing.assert_frame_equal(result.clv.to_frame(), value.to_frame())
    current, _ = current_values(
        sample,
        customer_col="customer_id",
        date_col="date",
        amount_col="amount",
        observation_end=END,
        current_window_days=365,
    )
    ref_q = crm.clv_quadrants(
        current.merge(
            value.to_frame()[["customer_id", "clv"]].rename(columns={"clv": "potential_value"}),
            on="customer_id",
        ),
        split="positive_median",
    )
    got_q = result.quadrants.to_frame().set_index("customer_id")
    want = ref_q.to_frame().set_index("customer_id").reindex(got_q.index)
    np.testing.assert_allclose(got_q["current_value"], want["current_value"], rtol=1e-12)
    np.testing.assert_allclose(got_q["potential_value"], want["potential_value"], rtol=1e-12)
    assert (got_q["quadrant"] == want["quadrant"]).all()
    assert result.quadrants.thresholds == pytest.approx(ref_q.thresholds, rel=1e-12)


def test_table_columns_equal_the_rebuilt_parts(result) -> None:
    t = result.customers
    rel = result.relationship.to_frame()
    assert (t["relationship_stage"].astype(str).to_numpy() == rel["stage"].to_numpy()).all()
    pur = result.lifecycle.to_frame()
    assert (t["lifecycle_stage"].astype(str).to_numpy() == pur["stage"].to_numpy()).all()
    assert (t["last_purchase"].to_numpy() == pur["last_purchase"].to_numpy()).all()
    assert (t["rfm"].astype(str).to_numpy() == result.rfm["rfm"].to_numpy()).all()
    np.testing.assert_allclose(t["expected_spend"], result.clv.data["expected_spend"], rtol=0)


def test_blocks_of_customers_give_the_same_table(sample, result, monkeypatch) -> None:
    monkeypatch.setattr(_eager, "BLOCK_CUSTOMERS", 7)
    small_blocks = crm.analyze(sample, observation_end=END).customers
    pd.testing.assert_frame_equal(small_blocks, result.customers)


@pytest.mark.parametrize("time_unit", ["D", "W", 30])
def test_lifecycle_columns_equal_lifecycle_stages_for_every_time_unit(sample, time_unit) -> None:
    log = sample.assign(customer_id="c" + sample["customer_id"].astype(str))
    t = crm.analyze(log, observation_end=END, time_unit=time_unit).customers
    t = t.set_index("customer_id")
    for scheme, col in (("purchase", "lifecycle_stage"), ("relationship", "relationship_stage")):
        ref = crm.lifecycle_stages(
            log, amount_col="amount", observation_end=END, rules=crm.LifecycleRules(scheme=scheme)
        ).to_frame()
        ref = ref.set_index("customer_id").reindex(t.index)
        assert (t[col].astype(str) == ref["stage"]).all(), (time_unit, scheme)
        if scheme == "purchase":
            assert (t["last_purchase"] == ref["last_purchase"]).all()


def test_time_zone_aware_dates_give_the_stages_of_their_local_days() -> None:
    rng = np.random.default_rng(3)
    n = 400
    local = pd.Timestamp("2024-01-01", tz="Asia/Tokyo") + pd.to_timedelta(
        rng.integers(0, 365 * 24, n), unit="h"
    )
    log = pd.DataFrame(
        {
            "customer_id": rng.integers(0, 60, n),
            "date": local,
            "amount": rng.gamma(2.0, 20.0, n).round(2),
        }
    )
    end = "2024-12-31"
    t = crm.analyze(log, observation_end=end).customers.set_index("customer_id")
    for scheme, col in (("purchase", "lifecycle_stage"), ("relationship", "relationship_stage")):
        ref = crm.lifecycle_stages(
            log, amount_col="amount", observation_end=end, rules=crm.LifecycleRules(scheme=scheme)
        ).to_frame()
        ref = ref.set_index("customer_id").reindex(t.index)
        assert (t[col].astype(str) == ref["stage"]).all(), scheme


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(1, 300),
    text=st.booleans(),
    window=st.integers(1, 400),
)
def test_window_values_equal_a_group_by(seed, n, text, window) -> None:
    import narwhals.stable.v2 as nw

    rng = np.random.default_rng(seed)
    ids = rng.integers(0, max(n // 3, 1), n)
    log = pd.DataFrame(
        {
            "customer_id": [f"k{i}" for i in ids] if text else ids,
            "date": pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 500, n), "D"),
            "amount": rng.gamma(1.0, 10.0, n),
        }
    )
    end = pd.Timestamp("2024-05-15")
    end_day = int((end - pd.Timestamp("1970-01-01")).days)
    keys = np.sort(log["customer_id"].unique())
    shuffled = log.sample(frac=1.0, random_state=seed)
    got = window_values(
        nw.from_native(shuffled),
        keys,
        customer_col="customer_id",
        date_col="date",
        amount_col="amount",
        end_day=end_day,
        windows=(window, 365),
    )
    for w, values in zip((window, 365), got, strict=True):
        inside = log[log["date"] > end - pd.Timedelta(days=w)]
        ref = inside.groupby("customer_id")["amount"].sum().reindex(keys, fill_value=0.0)
        np.testing.assert_allclose(values, ref.to_numpy(), rtol=1e-12, atol=1e-9)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(1, 200))
def test_rfm_columns_equal_rfm_segments(seed, n) -> None:
    rng = np.random.default_rng(seed)
    T = rng.integers(1, 40, n).astype(float)
    summary = pd.DataFrame(
        {
            "customer_id": np.arange(n),
            "frequency": rng.integers(0, 4, n),  # many ties
            "recency": np.floor(T * rng.uniform(0, 1, n)),
            "T": T,
            "monetary_value": rng.choice([0.0, 5.0, 12.5, 40.0], n),
        }
    )
    cols = rfm_columns(summary, "customer_id")
    ref = rfm_part(summary, "customer_id")
    for c in ("r_score", "f_score", "m_score"):
        np.testing.assert_array_equal(cols[c], ref[c].to_numpy())
    assert cols["rfm"].astype(str).tolist() == ref["rfm"].tolist()
    assert cols["rfm_segment"].astype(str).tolist() == ref["segment"].tolist()


@pytest.mark.parametrize("max_cells", [2**62, 1])  # hashing, and the sorted fallback
@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(1, 300))
def test_distinct_rows_and_their_customers(max_cells, seed, n) -> None:
    rng = np.random.default_rng(seed)
    summary = pd.DataFrame(
        {
            "frequency": rng.integers(0, 4, n),
            "recency": rng.integers(0, 5, n) / 7,
            "T": rng.integers(5, 8, n) / 7,
            "monetary_value": rng.choice([0.0, 2.5, 10.0], n),
        }
    )
    cols = tuple(summary.columns)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_eager, "_MAX_CELLS", max_cells)
        rows, inverse = _eager._distinct(summary, cols)
    distinct = pd.DataFrame(rows)[list(cols)]
    assert not distinct.duplicated().any()
    assert len(distinct) == len(summary.drop_duplicates())
    back = distinct.iloc[np.asarray(inverse)].reset_index(drop=True)
    pd.testing.assert_frame_equal(back, summary.astype(float), check_dtype=False)
