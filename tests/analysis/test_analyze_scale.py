"""``analyze`` at scale: compact dtypes, shared steps, and the same answers as before."""

from __future__ import annotations

import dataclasses

import narwhals.stable.v2 as nw
import numpy as np
import pandas as pd
import pytest

import crmmodels as crm
from crmmodels._ingest.log import prepare_log
from crmmodels.analysis._customers import CustomerTable, churn_risk
from crmmodels.datasets import load_cdnow_sample
from crmmodels.lifecycle import LifecycleRules
from crmmodels.lifecycle._features import Log, merged_days
from crmmodels.lifecycle._rules import settings
from crmmodels.lifecycle._stages import stages_of_log
from crmmodels.quadrants._transactions import current_values, current_values_of_log
from crmmodels.retention._cohorts import cohort_retention_of_log
from crmmodels.transactions._rfm import quantile_scores

END = "1998-06-30"
LABELS = (
    "rfm",
    "rfm_segment",
    "lifecycle_stage",
    "relationship_stage",
    "value_class",
    "quadrant",
    "churn_risk",
)


@pytest.fixture(scope="module")
def sample() -> pd.DataFrame:
    return load_cdnow_sample()[["customer_id", "date", "amount"]]


@pytest.fixture(scope="module")
def result(sample: pd.DataFrame) -> crm.CustomerAnalysis:
    return crm.analyze(sample, observation_end=END)


def test_label_columns_are_categorical_and_numbers_narrow(result) -> None:
    t = result.customers
    for col in LABELS:
        assert isinstance(t[col].dtype, pd.CategoricalDtype), col
    assert list(t["churn_risk"].cat.categories) == ["high", "medium", "low"]
    assert list(t["lifecycle_stage"].cat.categories) == [
        "prospect",
        "first_time",
        "loyal",
        "churned",
    ]
    for col in ("r_score", "f_score", "m_score", "clv_decile"):
        assert str(t[col].dtype) == "Int8", col
    assert str(t["clv_rank"].dtype) == "Int32"
    # the labels are those of the parts
    assert (t["rfm_segment"].astype(str) == result.rfm["segment"].to_numpy()).all()
    assert t["rfm"].astype(str).str.len().eq(3).all()


def test_a_shuffled_log_gives_the_same_table_and_dtypes(sample) -> None:
    shuffled = sample.sample(frac=1.0, random_state=11).reset_index(drop=True)
    a = crm.analyze(sample, observation_end=END).customers
    b = crm.analyze(shuffled, observation_end=END).customers
    a = a.sort_values("customer_id").reset_index(drop=True)
    b = b.sort_values("customer_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)


def test_string_ids_give_the_same_answers(sample, result) -> None:
    text = sample.assign(customer_id="c" + sample["customer_id"].astype(str))
    out = crm.analyze(text, observation_end=END).customers
    ref = result.customers.assign(customer_id="c" + result.customers["customer_id"].astype(str))
    out = out.set_index("customer_id").sort_index()
    ref = ref.set_index("customer_id").loc[out.index]
    np.testing.assert_allclose(out["clv"], ref["clv"], rtol=1e-12)
    # (the A/B/C classes break ties in value by id order, so they may differ at a tie)
    for col in (c for c in LABELS if c != "value_class"):
        assert (out[col].astype(str) == ref[col].astype(str)).all(), col


def test_customer_table_looks_parts_up_by_id_in_any_order() -> None:
    ids = np.array([30, 10, 20, 40])
    summary = pd.DataFrame(
        {
            "customer_id": ids,
            "first_purchase": pd.to_datetime(["2024-01-01"] * 4),
            "n_orders": [1, 2, 3, 1],
            "frequency": [0, 1, 2, 0],
            "recency": [0.0, 1.0, 2.0, 0.0],
            "T": [5.0, 5.0, 5.0, 5.0],
            "monetary_value": [0.0, 2.0, 3.0, 0.0],
            "total_value": [1.0, 4.0, 9.0, 2.0],
        }
    )
    # parts in another order, one customer missing from some of them
    lifecycle = pd.DataFrame(
        {
            "customer_id": [10, 20, 30],
            "stage": ["loyal", "churned", "first_time"],
            "last_purchase": pd.to_datetime(["2024-01-02", "2024-01-03", "2024-01-01"]),
        }
    )
    predictions = pd.DataFrame(
        {"customer_id": [40, 30, 20, 10], "p_alive": [0.9, 0.2, 0.5, 0.8]}
        | {"expected_purchases": [1.0, 2.0, 3.0, 4.0]}
    )
    clv = pd.DataFrame({"customer_id": [20, 10], "clv": [5.0, 7.0], "expected_spend": [1.0, 2.0]})
    classes = pd.DataFrame(
        {"customer_id": ids, "class": pd.Categorical(["C", "B", "A", "C"], ["A", "B", "C"])}
    )
    builder = CustomerTable(summary, "customer_id")
    builder.add(lifecycle, {"stage": "lifecycle_stage", "last_purchase": "last_purchase"})
    builder.add(predictions, {"p_alive": "p_alive", "expected_purchases": "expected_purchases"})
    builder.add(clv, {"clv": "clv", "expected_spend": "expected_spend"})
    builder.add(classes, {"class": "value_class"})
    table = builder.frame()
    assert table["customer_id"].tolist() == [30, 10, 20, 40]
    assert table["lifecycle_stage"].astype(object).tolist()[:3] == [
        "first_time",
        "loyal",
        "churned",
    ]
    assert pd.isna(table["lifecycle_stage"].iloc[3])
    assert table["last_purchase"].iloc[1] == pd.Timestamp("2024-01-02")
    assert pd.isna(table["last_purchase"].iloc[3])
    np.testing.assert_allclose(table["p_alive"], [0.2, 0.8, 0.5, 0.9])
    np.testing.assert_allclose(table["clv"], [np.nan, 7.0, 5.0, np.nan])
    np.testing.assert_allclose(table["expected_total_spend"], [np.nan, 8.0, 3.0, np.nan])
    assert table["clv_rank"].tolist()[1:3] == [1, 2]
    assert table["value_class"].astype(str).tolist() == ["C", "B", "A", "C"]
    assert table["r_score"].isna().all() and table["relationship_stage"].isna().all()
    # the bands agree with churn_risk on the same values
    expected = churn_risk(
        table["p_alive"].to_numpy(), table["lifecycle_stage"].astype(object).to_numpy()
    )
    assert table["churn_risk"].astype(object).where(table["churn_risk"].notna(), None).tolist() == (
        expected.tolist()
    )
    assert table["churn_risk"].astype(str).tolist() == ["high", "low", "high", "low"]


def test_both_lifecycle_schemes_from_one_merged_log_equal_lifecycle_stages(sample) -> None:
    frame, end, tz = prepare_log(
        sample,
        customer_col="customer_id",
        date_col="date",
        amount_col="amount",
        date_format=None,
        allow_negative=False,
        observation_end=END,
    )
    days = Log(merged_days(frame, "customer_id", "date", "amount"), end, tz)
    for scheme in ("purchase", "relationship"):
        rules = LifecycleRules(scheme=scheme)
        s = settings(rules, model=None, time_unit="W", future_customers="prospect")
        got = stages_of_log(days, observation_end=END, s=s, customer_col="customer_id")
        ref = crm.lifecycle_stages(sample, observation_end=END, rules=rules, amount_col="amount")
        pd.testing.assert_frame_equal(got.to_frame(), ref.to_frame())
        pd.testing.assert_frame_equal(got.summary, ref.summary)


def test_retention_and_current_values_of_a_validated_log(sample) -> None:
    frame, _end, _ = prepare_log(
        sample,
        customer_col="customer_id",
        date_col="date",
        amount_col="amount",
        date_format=None,
        allow_negative=False,
        observation_end=END,
    )
    day = pd.Timestamp(END)
    got = cohort_retention_of_log(
        frame, day, customer_col="customer_id", date_col="date", period="M"
    )
    ref = crm.cohort_retention(sample, period="M", observation_end=END)
    pd.testing.assert_frame_equal(got.rates, ref.rates)
    pd.testing.assert_frame_equal(got.counts, ref.counts)
    assert (got.n_transactions, got.n_customers) == (ref.n_transactions, ref.n_customers)
    cur = current_values_of_log(
        frame,
        customer_col="customer_id",
        date_col="date",
        amount_col="amount",
        end=day,
        current_window_days=365,
    )
    ref_cur, _ = current_values(
        sample,
        customer_col="customer_id",
        date_col="date",
        amount_col="amount",
        observation_end=END,
        current_window_days=365,
    )
    pd.testing.assert_frame_equal(cur, ref_cur)
    assert isinstance(frame, nw.DataFrame)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_quantile_scores_are_those_of_the_min_rank(seed) -> None:
    rng = np.random.default_rng(seed)
    values = np.concatenate([rng.integers(0, 6, 500).astype(float), rng.random(99), [0.0, -0.0]])
    rng.shuffle(values)
    min_rank = pd.Series(values).rank(method="min").to_numpy() - 1  # 0-based
    for bins in (2, 5, 9):
        expected = 1 + (bins * min_rank.astype(np.int64)) // values.size
        np.testing.assert_array_equal(quantile_scores(values, bins), expected)


def test_rfm_codes_and_segments_keep_their_text_dtype(result) -> None:
    rfm = result.rfm
    codes = rfm["r_score"].astype(str) + rfm["f_score"].astype(str) + rfm["m_score"].astype(str)
    assert (rfm["rfm"] == codes).all()
    assert rfm["rfm"].dtype == codes.dtype
    assert rfm["segment"].dtype == codes.dtype
    segments = crm.rfm_segments(rfm.drop(columns="segment"))
    assert (segments["segment"] == rfm["segment"]).all()


def test_settings_are_kept_for_the_relationship_scheme() -> None:
    # the analysis' lifecycle thresholds reach both schemes
    rules = LifecycleRules(churn_after_days=30)
    sample = load_cdnow_sample()[["customer_id", "date", "amount"]]
    out = crm.analyze(sample, observation_end=END, lifecycle_rules=rules)
    ref = crm.lifecycle_stages(sample, observation_end=END, rules=rules, amount_col="amount")
    stages = ref.to_frame().set_index("customer_id")["stage"]
    table = out.customers.set_index("customer_id")
    assert (table["lifecycle_stage"].astype(str) == stages.reindex(table.index)).all()
    rel = dataclasses.replace(rules, scheme="relationship")
    ref_rel = crm.lifecycle_stages(sample, observation_end=END, rules=rel, amount_col="amount")
    rel_stages = ref_rel.to_frame().set_index("customer_id")["stage"]
    assert (table["relationship_stage"].astype(str) == rel_stages.reindex(table.index)).all()


def test_demo_step_reports_the_steps_and_the_table_size(tmp_path) -> None:
    from crmmodels._demo import bench

    blocks = bench.run(tmp_path)
    assert blocks[0].startswith("crm.analyze on CDNOW (69,659 rows, 23,570 customers)")
    assert "Customer equity" in blocks[1]
    assert "category" in blocks[2]
    assert (tmp_path / "analysis_steps.csv").exists()
