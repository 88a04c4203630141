"""The windows of ``analyze`` on the engines: numbered sorted rows, running sums, min ranks.

On Dask they are computed by sorting and numbering partitions (``_engine_store``), not by
narwhals windows, so they are held against pandas here on frames whose index repeats
across partitions (as a ``group_by`` result's does) and with ties and nulls.
"""

from __future__ import annotations

from typing import Any

import narwhals.stable.v2 as nw
import numpy as np
import pandas as pd
import pytest

import crmmodels as crm
from crmmodels._ingest.frames import collect
from crmmodels.analysis._customers import clv_ranks
from crmmodels.analysis._engine_store import min_rank, numbered, stored
from crmmodels.datasets import simulate_transactions

from _engines import to_engine

ENGINES = ["dask", "duckdb", "polars_lazy"]


def _values(n: int = 500, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    value = rng.integers(0, 40, n).astype(float)  # many ties
    value[rng.choice(n, 25, replace=False)] = np.nan
    return pd.DataFrame({"id": rng.permutation(n), "value": value, "x": rng.random(n)})


def _engine_frame(df: pd.DataFrame, engine: str) -> Any:
    if engine != "dask":
        return nw.from_native(to_engine(df, engine))
    import dask.dataframe as dd

    # an index repeated across partitions, as after a group_by
    native = dd.from_pandas(df, npartitions=5).reset_index(drop=True)
    assert not native.index.compute().is_unique
    return nw.from_native(native)


def _pandas(frame: Any) -> pd.DataFrame:
    return collect(frame).to_pandas()


@pytest.mark.parametrize("engine", ENGINES)
def test_numbered_rows_follow_the_order_with_a_running_sum(engine: str) -> None:
    df = _values()
    frame = _engine_frame(df, engine)
    out = _pandas(numbered(frame, ["x", "id"], "pos", running=("x", "cum")))
    assert sorted(out["pos"]) == list(range(len(df)))
    out = out.sort_values("pos").reset_index(drop=True)
    expected = df.sort_values(["x", "id"]).reset_index(drop=True)
    np.testing.assert_array_equal(out["id"].to_numpy(), expected["id"].to_numpy())
    np.testing.assert_allclose(out["cum"], np.cumsum(expected["x"].to_numpy()), rtol=1e-12)


@pytest.mark.parametrize("engine", ENGINES)
def test_numbered_puts_nulls_first_and_keeps_every_row(engine: str) -> None:
    df = _values()
    out = _pandas(numbered(_engine_frame(df, engine).select("value"), ["value"], "pos"))
    out = out.sort_values("pos")
    n_null = int(df["value"].isna().sum())
    assert len(out) == len(df)
    assert out["value"].iloc[:n_null].isna().all()
    np.testing.assert_array_equal(out["value"].iloc[n_null:], np.sort(df["value"].dropna()))


@pytest.mark.parametrize("engine", ENGINES)
def test_min_rank_is_the_pandas_rank(engine: str) -> None:
    df = _values()
    out = _pandas(min_rank(_engine_frame(df, engine), "value", "id", "rank"))
    out = out.set_index("id").reindex(df["id"])
    expected = df["value"].rank(method="min", ascending=False).to_numpy()
    got = out["rank"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    np.testing.assert_array_equal(got, expected)
    rank, _ = clv_ranks(df["value"].to_numpy())
    np.testing.assert_array_equal(got, rank.astype(float))


def test_stored_dask_frame_is_persisted() -> None:
    df = _values()
    native = nw.to_native(stored(_engine_frame(df, "dask")))
    assert all(not hasattr(v, "dask") for v in native.dask.values())  # computed values only
    pd.testing.assert_frame_equal(
        native.compute().reset_index(drop=True), df, check_index_type=False
    )


def test_analyze_on_a_dask_log_of_many_partitions(tmp_path: Any) -> None:
    """Summaries split over partitions (a repeated index): the tie rules still hold."""
    import dask.dataframe as dd

    log = simulate_transactions(n_customers=1500, seed=5)
    log = log.assign(amount=np.round(log["amount"].to_numpy()), date=log["date"].dt.floor("s"))
    log = log.loc[:, ["customer_id", "date", "amount"]]
    native = dd.from_pandas(log, npartitions=7)
    result = crm.analyze(native)
    assert isinstance(result.customers, dd.DataFrame)
    table = result.to_frame().sort_values("customer_id").reset_index(drop=True)
    ref = crm.analyze(log)
    expected = ref.customers.sort_values("customer_id").reset_index(drop=True)
    assert len(table) == len(expected) == result.key_figures.n_customers
    np.testing.assert_array_equal(table["customer_id"], expected["customer_id"])
    rank, decile = clv_ranks(table["clv"].to_numpy())
    assert (table["clv_rank"].array == rank.astype("Int32")).all()
    assert (table["clv_decile"].array == decile.astype("Int8")).all()
    pareto = crm.pareto_analysis(table, amount_col="total_value", customer_col="customer_id")
    classes = pareto.to_frame().set_index("customer_id")["class"]
    assert (
        table["value_class"].astype(str).to_numpy()
        == classes.reindex(table["customer_id"]).astype(str).to_numpy()
    ).all()
    rfm = crm.rfm_scores(table).sort_values("customer_id")
    for col in ("r_score", "f_score", "m_score"):
        assert (table[col].astype(int).to_numpy() == rfm[col].to_numpy()).all(), col
    for col in ("lifecycle_stage", "relationship_stage", "n_orders", "frequency"):
        pd.testing.assert_series_equal(table[col], expected[col], check_names=False)
    assert result.key_figures.gini == pytest.approx(ref.key_figures.gini, rel=1e-9)
    notes = " ".join(n for rec in result.steps.steps for n in rec.notes)
    assert "narwhals" not in notes.lower()
    path = result.to_parquet(tmp_path / "customers.parquet")
    assert path.is_dir()  # written by Dask, one part file per partition
    assert len(pd.read_parquet(path)) == len(expected)
