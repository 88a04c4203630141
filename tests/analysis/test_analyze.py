"""``analyze``: the whole equals its parts, every customer once, any frame kind, bad input."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import crmmodels as crm
from crmmodels import clv
from crmmodels.datasets import load_cdnow, load_cdnow_sample
from crmmodels.errors import ArgumentError, DataError, SchemaError

END = "1998-06-30"


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    return load_cdnow()


@pytest.fixture(scope="module")
def result(cdnow: pd.DataFrame) -> crm.CustomerAnalysis:
    return crm.analyze(cdnow, observation_end=END)


def test_one_row_per_customer_in_the_summary_order(result, cdnow) -> None:
    table = result.customers
    assert isinstance(table, pd.DataFrame)
    assert len(table) == cdnow["customer_id"].nunique() == 23_570
    assert table["customer_id"].is_unique
    assert set(table["customer_id"]) == set(cdnow["customer_id"])
    assert list(table.columns[:3]) == ["customer_id", "first_purchase", "last_purchase"]
    assert result.key_figures.n_customers == 23_570
    assert result.checks.n_rows == len(cdnow)


def test_the_parts_agree_with_the_whole(result, cdnow) -> None:
    table = result.customers.set_index("customer_id")
    s = crm.summarize_transactions(
        cdnow, amount_col="amount", time_unit="W", observation_end=END
    ).set_index("customer_id")
    for col in ("frequency", "recency", "T", "monetary_value", "total_value", "n_orders"):
        np.testing.assert_allclose(table[col].to_numpy(float), s[col].to_numpy(float))
    np.testing.assert_allclose(table["mean_order_value"], s["total_value"] / s["n_orders"])
    # the transaction model used gives the same P(alive) and expected purchases
    model = result.models[result.transaction_model]
    pred = model.predict(s.reset_index(), horizon=52).set_index("customer_id")
    np.testing.assert_allclose(table["p_alive"], pred["p_alive"], rtol=1e-12)
    np.testing.assert_allclose(table["expected_purchases"], pred["expected_purchases"], rtol=1e-12)
    # CLV with the same models and settings
    spend = result.models["GammaGamma"]
    value = (
        clv.customer_lifetime_value(
            model, spend, s.reset_index(), horizon=52, discount_rate=0.1, discount_period=52
        )
        .to_frame()
        .set_index("customer_id")
    )
    np.testing.assert_allclose(table["clv"], value["clv"], rtol=1e-12)
    np.testing.assert_allclose(
        table["expected_total_spend"], value["expected_purchases"] * value["expected_spend"]
    )
    # RFM, lifecycle, 80/20 classes
    rfm = crm.rfm_segments(crm.rfm_scores(s.reset_index())).set_index("customer_id")
    assert (table["rfm_segment"] == rfm["segment"]).all()
    assert (table["r_score"].astype(int) == rfm["r_score"]).all()
    stages = crm.lifecycle_stages(cdnow, amount_col="amount", observation_end=END)
    st = stages.to_frame().set_index("customer_id")
    assert (table["lifecycle_stage"] == st["stage"]).all()
    assert (table["last_purchase"] == st["last_purchase"]).all()
    pareto = crm.pareto_analysis(
        s.reset_index(), amount_col="total_value", customer_col="customer_id"
    )
    classes = pareto.to_frame().set_index("customer_id")["class"]
    assert (table["value_class"] == classes.reindex(table.index).astype(object)).all()
    assert result.key_figures.gini == pytest.approx(pareto.gini)
    assert result.key_figures.top_share == pytest.approx(pareto.top_share)


def test_clv_rank_and_decile(result) -> None:
    t = result.customers.sort_values("clv_rank")
    assert t["clv_rank"].iloc[0] == 1
    assert t["clv"].iloc[0] == t["clv"].max()
    assert t["clv"].is_monotonic_decreasing
    assert set(t["clv_decile"].dropna().astype(int)) == set(range(1, 11))
    # about a tenth of the customers in each decile (ties share the better one)
    counts = t["clv_decile"].value_counts()
    assert counts.max() < 0.2 * len(t)


def test_churn_risk_bands(result) -> None:
    t = result.customers
    assert set(t["churn_risk"]) <= {"high", "medium", "low"}
    assert (t.loc[t["lifecycle_stage"] == "churned", "churn_risk"] == "high").all()
    assert (t.loc[t["p_alive"] < 0.3, "churn_risk"] == "high").all()
    low = t["churn_risk"] == "low"
    assert (t.loc[low, "p_alive"] >= 0.7).all()


def test_key_figures(result) -> None:
    k = result.key_figures
    t = result.customers
    assert k.repeat_share == pytest.approx((t["frequency"] > 0).mean())
    assert k.active_share == pytest.approx((t["lifecycle_stage"] != "churned").mean())
    assert k.customer_equity == pytest.approx(t["clv"].sum())
    assert k.equity_low < k.customer_equity < k.equity_high
    assert k.expected_purchases == pytest.approx(t["expected_purchases"].sum())
    assert len(k.to_frame()) == 9
    assert "Customers" in dict(k.lines())


def test_settings_defaults_and_reproduction(result) -> None:
    s = result.settings
    assert (s.time_unit, s.horizon, s.discount_rate, s.margin) == ("W", 52.0, 0.1, 1.0)
    assert str(s.observation_end.date()) == END
    assert s.python_call().startswith("crm.analyze(transactions, customer_col='customer_id'")
    assert "--horizon 52" in s.command_line("cdnow.csv")
    assert any("Margin: 100%" in a for a in s.assumptions())


def test_polars_in_polars_out(cdnow) -> None:
    pl = pytest.importorskip("polars")
    sample = load_cdnow_sample()[["customer_id", "date", "amount"]]
    out = crm.analyze(pl.from_pandas(sample))
    assert isinstance(out.customers, pl.DataFrame)
    ref = crm.analyze(sample)
    np.testing.assert_allclose(out.customers["clv"].to_numpy(), ref.customers["clv"].to_numpy())


def test_duckdb_input_gives_the_same_table() -> None:
    duckdb = pytest.importorskip("duckdb")
    sample = load_cdnow_sample()[["customer_id", "date", "amount"]]
    con = duckdb.connect()
    rel = con.from_df(sample)
    out = crm.analyze(rel)
    ref = crm.analyze(sample).customers
    table = out.to_frame().sort_values("customer_id").reset_index(drop=True)
    np.testing.assert_allclose(table["clv"], ref.sort_values("customer_id")["clv"], rtol=1e-9)


def test_the_callers_frame_is_not_changed() -> None:
    sample = load_cdnow_sample()[["customer_id", "date", "amount"]]
    before = sample.copy(deep=True)
    crm.analyze(sample)
    pd.testing.assert_frame_equal(sample, before)


def test_row_order_does_not_matter() -> None:
    sample = load_cdnow_sample()[["customer_id", "date", "amount"]]
    shuffled = sample.sample(frac=1.0, random_state=3)
    a = crm.analyze(sample).customers.sort_values("customer_id").reset_index(drop=True)
    b = crm.analyze(shuffled).customers.sort_values("customer_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)


def test_to_parquet_round_trip(tmp_path) -> None:
    sample = load_cdnow_sample()[["customer_id", "date", "amount"]]
    out = crm.analyze(sample)
    path = out.to_parquet(tmp_path / "customers.parquet")
    back = pd.read_parquet(path)
    assert list(back.columns) == list(out.to_frame().columns)
    assert len(back) == len(out.to_frame())


def test_models_save_to_json(result, tmp_path) -> None:
    for name, model in result.models.items():
        path = tmp_path / f"{name}.json"
        model.save(path)
        loaded = type(model).load(path)
        assert loaded.params_ == pytest.approx(model.params_)


# -- small logs: steps are skipped with a reason, the table still comes out --------------


def test_nobody_bought_twice() -> None:
    tx = pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 4],
            "date": pd.to_datetime(["2024-01-01", "2024-01-05", "2024-02-01", "2024-03-01"]),
            "amount": [10.0, 20.0, 5.0, 7.0],
        }
    )
    out = crm.analyze(tx)
    assert len(out.customers) == 4
    skipped = {s.name: s.detail for s in out.steps.skipped}
    assert "Spend model (Gamma-Gamma)" in skipped
    assert "repeat" in skipped["Spend model (Gamma-Gamma)"]
    assert "CLV" in skipped
    assert out.customers["clv"].isna().all()
    assert out.customers["rfm_segment"].notna().all()


def test_a_single_customer() -> None:
    tx = pd.DataFrame(
        {"customer_id": ["a", "a"], "date": ["2024-01-01", "2024-02-01"], "amount": [1.0, 2.0]}
    )
    out = crm.analyze(tx)
    assert out.customers["customer_id"].tolist() == ["a"]
    assert out.steps.to_frame()["status"].isin(["done", "skipped"]).all()


# -- bad input: the summary's errors, and the settings' ---------------------------------


def test_summary_errors_are_raised_unchanged() -> None:
    tx = pd.DataFrame({"customer_id": [1], "date": ["2024-01-01"], "amount": [-1.0]})
    with pytest.raises(DataError, match="negative"):
        crm.analyze(tx)
    with pytest.raises(SchemaError, match="amount"):
        crm.analyze(tx.drop(columns="amount"))
    with pytest.raises(DataError, match="empty"):
        crm.analyze(tx.iloc[:0])


def test_observation_end_before_the_first_purchase() -> None:
    tx = pd.DataFrame({"customer_id": [1], "date": ["2024-01-01"], "amount": [1.0]})
    with pytest.raises(DataError, match="observation end"):
        crm.analyze(tx, observation_end="2023-01-01")


@pytest.mark.parametrize(
    ("kwargs", "word"),
    [
        ({"horizon": 0}, "horizon"),
        ({"horizon": -1}, "horizon"),
        ({"discount_rate": -0.1}, "discount_rate"),
        ({"margin": 0}, "margin"),
        ({"margin": 1.5}, "margin"),
        ({"level": 1.0}, "level"),
        ({"holdout": 0}, "holdout"),
        ({"model": "Weibull"}, "model"),
        ({"time_unit": "fortnight"}, "time_unit"),
        ({"time_unit": "M"}, "time_unit"),
    ],
)
def test_bad_settings(kwargs, word) -> None:
    tx = load_cdnow_sample()
    with pytest.raises(ArgumentError, match=word):
        crm.analyze(tx, **kwargs)


def test_warnings_of_steps_become_notes() -> None:
    tx = load_cdnow_sample()[["customer_id", "date", "amount"]]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = crm.analyze(tx)
    assert isinstance(out.steps.to_frame()["notes"].iloc[0], str)


@pytest.mark.parametrize(
    "kind", ["clv", "lorenz", "pareto", "quadrants", "lifecycle", "retention", "rfm"]
)
def test_plot_kinds_return_axes(kind) -> None:
    import matplotlib.pyplot as plt

    out = crm.analyze(load_cdnow_sample()[["customer_id", "date", "amount"]])
    ax = out.plot(kind=kind)
    assert ax.figure is not None
    plt.close(ax.figure)


def test_plot_of_a_skipped_step_names_it() -> None:
    tx = pd.DataFrame(
        {"customer_id": [1, 2], "date": ["2024-01-01", "2024-01-05"], "amount": [1.0, 2.0]}
    )
    out = crm.analyze(tx)
    with pytest.raises(DataError, match="skipped"):
        out.plot(kind="clv")
    with pytest.raises(ArgumentError, match="kind"):
        out.plot(kind="pie")


def test_repr_is_short(result) -> None:
    text = repr(result)
    assert text.startswith("CustomerAnalysis(customers=23,570")
    assert len(text) < 300


def test_columns_of_other_names_are_kept_everywhere() -> None:
    sample = load_cdnow_sample()[["customer_id", "date", "amount"]].rename(
        columns={"customer_id": "client", "date": "bought", "amount": "paid"}
    )
    out = crm.analyze(sample, customer_col="client", date_col="bought", amount_col="paid")
    assert out.customers.columns[0] == "client"
    assert out.steps.skipped == () or all(s.name == "Model selection" for s in out.steps.skipped)
    ref = crm.analyze(load_cdnow_sample()[["customer_id", "date", "amount"]])
    np.testing.assert_allclose(out.customers["clv"], ref.customers["clv"])
    assert out.customers["quadrant"].tolist() == ref.customers["quadrant"].tolist()


def test_date_format_is_recorded_for_reproduction() -> None:
    sample = load_cdnow_sample()[["customer_id", "date", "amount"]]
    sample = sample.assign(date=sample["date"].dt.strftime("%d/%m/%Y"))
    out = crm.analyze(sample, date_format="%d/%m/%Y")
    assert out.settings.date_format == "%d/%m/%Y"
    assert "date_format='%d/%m/%Y'" in out.settings.python_call()
    assert "--date-format %d/%m/%Y" in out.settings.command_line()


def test_dask_input_gives_a_dask_table_with_the_same_values() -> None:
    dd = pytest.importorskip("dask.dataframe")
    sample = load_cdnow_sample()[["customer_id", "date", "amount"]]
    out = crm.analyze(dd.from_pandas(sample, npartitions=3))
    assert isinstance(out.customers, dd.DataFrame)
    table = out.customers.compute().sort_values("customer_id").reset_index(drop=True)
    ref = crm.analyze(sample).customers.sort_values("customer_id").reset_index(drop=True)
    assert list(table.columns) == list(ref.columns)
    np.testing.assert_allclose(table["clv"], ref["clv"], rtol=1e-9)
    assert (table["lifecycle_stage"] == ref["lifecycle_stage"]).all()
