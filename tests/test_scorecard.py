from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from crmmodels.datasets._crm import simulate_crm
from crmmodels.errors import DataError, SchemaError
from crmmodels.scorecard import kpi_scorecard

from _engines import to_engine


def _hand() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [1, 2, 1, 3, 1, 2, 4],
            "date": pd.to_datetime(
                [
                    "2024-01-03",
                    "2024-01-15",
                    "2024-02-01",
                    "2024-02-20",
                    "2024-03-05",
                    "2024-03-06",
                    "2024-03-30",
                ]
            ),
            "amount": [10.0, 30.0, 20.0, 40.0, 5.0, 15.0, 25.0],
            "channel": ["web", "store", "web", "web", "store", "store", "web"],
        }
    )


def test_hand_computed_overall() -> None:
    sc = kpi_scorecard(_hand())
    k = sc.kpis
    assert [str(p) for p in k["period"]] == ["2024-01", "2024-02", "2024-03"]
    np.testing.assert_allclose(k["revenue"], [40, 60, 45])
    np.testing.assert_allclose(k["revenue_growth"], [np.nan, 0.5, -0.25])
    np.testing.assert_array_equal(k["active_customers"], [2, 2, 3])
    np.testing.assert_array_equal(k["new_customers"], [2, 1, 1])
    # Feb: of {1, 2} only 1 is back; Mar: of {1, 3} only 1 is back
    np.testing.assert_allclose(k["retention"], [np.nan, 0.5, 0.5])
    np.testing.assert_allclose(k["average_order_value"], [20, 30, 15])
    for absent in ("satisfaction", "interactions_per_customer", "engaged_share"):
        assert absent not in k.columns
    assert sc.consistency is None
    assert sc.n_periods == 3 and sc.n_cells == 3


def test_hand_computed_by_channel_with_empty_cell() -> None:
    tx = _hand()
    tx.loc[3, "channel"] = "store"  # no web purchase left in February except customer 1
    tx.loc[2, "channel"] = "store"
    sc = kpi_scorecard(tx, by="channel")
    k = sc.kpis.set_index(["channel", k_period := "period"])
    web = sc.kpis[sc.kpis["channel"] == "web"].reset_index(drop=True)
    np.testing.assert_allclose(web["revenue"], [10, 0, 25])
    np.testing.assert_array_equal(web["active_customers"], [1, 0, 1])
    np.testing.assert_allclose(web["retention"], [np.nan, 0.0, np.nan])
    np.testing.assert_allclose(web["revenue_growth"], [np.nan, -1.0, np.nan])
    assert np.isnan(web["average_order_value"].iloc[1])
    store = sc.kpis[sc.kpis["channel"] == "store"].reset_index(drop=True)
    # store: Jan {2}, Feb {1, 3}, Mar {1, 2}: new = customers whose first purchase anywhere
    np.testing.assert_array_equal(store["new_customers"], [1, 1, 0])
    np.testing.assert_allclose(store["retention"], [np.nan, 0.0, 0.5])
    assert len(k) == 6 and k_period == "period"
    cons = sc.consistency
    assert cons is not None
    jan_rev = cons[(cons["period"].astype(str) == "2024-01") & (cons["kpi"] == "revenue")]
    vals = np.array([10.0, 30.0])
    assert jan_rev["cv"].iloc[0] == pytest.approx(vals.std() / vals.mean())
    assert jan_rev["n_channels"].iloc[0] == 2
    assert "revenue_growth" not in set(cons["kpi"])
    summary = sc.consistency_summary()
    assert {"mean_cv", "max_cv"} <= set(summary.columns)


def _pandas_reference(tx: pd.DataFrame) -> pd.DataFrame:
    """KPIs per channel and month written independently with plain pandas."""
    tx = tx.assign(period=tx["date"].dt.to_period("M"))
    first = tx.groupby("customer_id")["period"].min().rename("first")
    rows = []
    periods = pd.period_range(tx["period"].min(), tx["period"].max(), freq="M")
    for ch in sorted(tx["channel"].unique()):
        prev: set[Any] = set()
        prev_rev = None
        for p in periods:
            sub = tx[(tx["channel"] == ch) & (tx["period"] == p)]
            cust = set(sub["customer_id"])
            rev = float(sub["amount"].sum())
            rows.append(
                {
                    "channel": ch,
                    "period": p,
                    "revenue": rev,
                    "revenue_growth": rev / prev_rev - 1 if prev_rev else np.nan,
                    "active_customers": len(cust),
                    "new_customers": sum(first[c] == p for c in cust),
                    "retention": len(cust & prev) / len(prev) if prev else np.nan,
                    "average_order_value": rev / len(sub) if len(sub) else np.nan,
                }
            )
            prev, prev_rev = cust, rev
    return pd.DataFrame(rows)


def test_matches_plain_pandas_on_simulated_crm() -> None:
    data = simulate_crm(200, seed=1)
    tx = data.purchases
    sc = kpi_scorecard(tx, by="channel")
    ref = _pandas_reference(tx).sort_values(["period", "channel"]).reset_index(drop=True)
    got = sc.kpis.sort_values(["period", "channel"]).reset_index(drop=True)
    for col in ref.columns:
        if col in ("channel", "period"):
            assert list(got[col]) == list(ref[col])
        else:
            np.testing.assert_allclose(got[col].astype(float), ref[col].astype(float), err_msg=col)


def test_satisfaction_and_interactions_against_pandas() -> None:
    data = simulate_crm(150, seed=2)
    tx, inter = data.purchases, data.interactions
    rng = np.random.default_rng(0)
    sat = pd.DataFrame(
        {
            "customer_id": np.repeat(data.customers["customer_id"].to_numpy(), 2),
            "satisfaction": rng.uniform(1, 7, 2 * len(data.customers)),
        }
    ).iloc[:-20]  # the last customers have no score
    sc = kpi_scorecard(tx, interactions=inter, interaction_date_col="timestamp", satisfaction=sat)
    k = sc.kpis.set_index("period")
    txp = tx.assign(period=tx["date"].dt.to_period("M"))
    ip = inter.assign(period=inter["timestamp"].dt.to_period("M"))
    mean_sat = sat.groupby("customer_id")["satisfaction"].mean()
    for p, sub in txp.groupby("period"):
        cust = set(sub["customer_id"])
        n_int = ip[(ip["period"] == p) & ip["customer_id"].isin(cust)]
        engaged = n_int["customer_id"].nunique()
        assert k.loc[p, "interactions"] == len(n_int)
        assert k.loc[p, "interactions_per_customer"] == pytest.approx(len(n_int) / len(cust))
        assert k.loc[p, "engaged_share"] == pytest.approx(engaged / len(cust))
        rated = mean_sat.reindex(sorted(cust)).dropna()
        assert k.loc[p, "satisfaction"] == pytest.approx(rated.mean())
        assert k.loc[p, "satisfaction_n"] == len(rated)


def test_dated_satisfaction_counts_only_its_period() -> None:
    tx = _hand()
    sat = pd.DataFrame(
        {
            "customer_id": [1, 1, 2],
            "when": pd.to_datetime(["2024-01-10", "2024-03-10", "2024-02-01"]),
            "score": [6.0, 2.0, 5.0],
        }
    )
    sc = kpi_scorecard(tx, satisfaction=sat, satisfaction_col="score", satisfaction_date_col="when")
    np.testing.assert_allclose(sc.kpis["satisfaction"], [6.0, np.nan, 2.0])
    np.testing.assert_array_equal(sc.kpis["satisfaction_n"], [1, 0, 1])


def test_order_col_weekly_and_row_order() -> None:
    tx = _hand().assign(order_id=[1, 1, 2, 3, 4, 4, 5])
    sc = kpi_scorecard(tx, order_col="order_id")
    np.testing.assert_array_equal(sc.kpis["orders"], [1, 2, 2])
    weekly = kpi_scorecard(tx, period="W")
    assert weekly.kpis["revenue"].sum() == pytest.approx(tx["amount"].sum())
    shuffled = kpi_scorecard(tx.sample(frac=1.0, random_state=3), order_col="order_id")
    pd.testing.assert_frame_equal(shuffled.kpis, sc.kpis)


def test_input_not_mutated_and_string_dates() -> None:
    tx = _hand()
    before = tx.copy()
    kpi_scorecard(tx, by="channel")
    pd.testing.assert_frame_equal(tx, before)
    as_text = tx.assign(date=tx["date"].dt.strftime("%Y-%m-%d"))
    pd.testing.assert_frame_equal(kpi_scorecard(as_text).kpis, kpi_scorecard(tx).kpis)


def test_bad_input() -> None:
    tx = _hand()
    with pytest.raises(SchemaError, match="no column 'amnt'"):
        kpi_scorecard(tx, amount_col="amnt")
    with pytest.raises(SchemaError, match="'amount' must be numeric"):
        kpi_scorecard(tx.assign(amount=tx["amount"].astype(str)))
    with pytest.raises(SchemaError, match="must hold dates"):
        kpi_scorecard(tx.assign(date=1))
    with pytest.raises(DataError, match="period must be"):
        kpi_scorecard(tx, period="X")
    with pytest.raises(DataError, match="'customer_id' is null"):
        kpi_scorecard(tx.assign(customer_id=[1, None, 1, 3, 1, 2, 4]))
    with pytest.raises(SchemaError, match="channel_col"):
        kpi_scorecard(tx, channel_col="channel")
    with pytest.raises(DataError, match="empty"):
        kpi_scorecard(tx.iloc[:0])
    with pytest.raises(SchemaError, match="interactions has no column 'timestamp'"):
        kpi_scorecard(tx, interactions=tx[["customer_id"]], interaction_date_col="timestamp")
    with pytest.raises(SchemaError, match="satisfaction has no column 'satisfaction'"):
        kpi_scorecard(tx, satisfaction=tx[["customer_id"]])
    sc = kpi_scorecard(tx)
    with pytest.raises(DataError, match="no channel column"):
        sc.consistency_summary()
    with pytest.raises(DataError, match="unknown KPIs"):
        sc.plot(kpis=["profit"])


def test_plot_small_multiples() -> None:
    data = simulate_crm(80, seed=3)
    sc = kpi_scorecard(
        data.purchases,
        by="channel",
        interactions=data.interactions,
        interaction_date_col="timestamp",
    )
    ax = sc.plot()
    visible = [a for a in ax.figure.axes if a.get_visible()]
    assert len(visible) == 8
    assert ax.get_title() == "revenue"
    assert len(ax.get_lines()) == 3
    import matplotlib.pyplot as plt

    _, single = plt.subplots()
    assert sc.plot(ax=single, kpis=["retention"]).get_title() == "retention"


def test_scorecard_engines(engine: str) -> None:
    tx = _hand()
    inter = pd.DataFrame(
        {
            "customer_id": [1, 1, 3, 4],
            "date": pd.to_datetime(["2024-01-02"] * 2 + ["2024-02-05", "2024-03-31"]),
        }
    )
    sat = pd.DataFrame({"customer_id": [1, 2, 3], "satisfaction": [6.0, 4.0, 3.0]})
    ref = kpi_scorecard(tx, by="channel", interactions=inter, satisfaction=sat)
    if engine == "duckdb":  # every input on one connection
        import duckdb

        con = duckdb.connect()
        natives = []
        for name, df in (("tx", tx), ("inter", inter), ("sat", sat)):
            con.register(f"_{name}", df)
            natives.append(con.sql(f"select * from _{name}"))
    else:
        natives = [to_engine(df, engine) for df in (tx, inter, sat)]
    got = kpi_scorecard(natives[0], by="channel", interactions=natives[1], satisfaction=natives[2])
    pd.testing.assert_frame_equal(got.kpis, ref.kpis, check_dtype=False)
    pd.testing.assert_frame_equal(got.consistency, ref.consistency, check_dtype=False)
