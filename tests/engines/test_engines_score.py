"""Predictions and values on lazy engines: the same kind of frame back, equal to pandas.

Every batch runs the pandas path with the model rebuilt from its JSON text; the results
are compared with the pandas path row by row (joined by id), to 1e-12, and the rows keep
their order and ids.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from crmmodels import engines
from crmmodels.clv import BGBB, BGNBD, GammaGamma, ParetoNBD, customer_lifetime_value
from crmmodels.datasets import load_cdnow_summary

from _engines import to_engine, to_pandas

LAZY = ["polars_lazy", "duckdb", "dask", "pyspark"]
KINDS = {
    "polars_lazy": "LazyFrame",
    "duckdb": "DuckDBPyRelation",
    "dask": "DataFrame",
    "pyspark": "DataFrame",
}


@pytest.fixture(scope="module")
def summary() -> pd.DataFrame:
    s = load_cdnow_summary().iloc[:800].copy()
    s["customer_id"] = "c" + s["customer_id"].astype(str)  # string ids
    return s.sample(frac=1.0, random_state=3).reset_index(drop=True)  # ids out of order


@pytest.fixture(scope="module")
def models(summary: pd.DataFrame) -> dict[str, Any]:
    return {
        "bgnbd": BGNBD().fit(summary, time_unit="weeks"),
        "pareto": ParetoNBD.from_params(r=0.55, alpha=10.58, s=0.61, beta=11.67),
        "gg": GammaGamma().fit(summary),
    }


@pytest.fixture(scope="module")
def discrete() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 300
    periods = np.full(n, 6)
    recency = rng.integers(0, 7, n)
    frequency = np.where(recency == 0, 0, np.minimum(recency, rng.integers(1, 7, n)))
    return pd.DataFrame(
        {"customer_id": np.arange(n) * 7, "frequency": frequency, "recency": recency,
         "periods": periods}
    )  # fmt: skip


def _same_rows(out: Any, ref: pd.DataFrame, engine: str, key: str) -> pd.DataFrame:
    """The engine's result as pandas; same kind, ids, order, columns and values as ``ref``."""
    assert type(out).__name__ == KINDS[engine]
    got = to_pandas(out.collect() if engine == "polars_lazy" else out).reset_index(drop=True)
    assert list(got.columns) == list(ref.columns)
    assert got[key].tolist() == ref[key].tolist()  # every customer, in input order
    joined = ref.merge(got, on=key, suffixes=("", "_engine"), validate="one_to_one")
    for col in ref.columns.drop(key):
        np.testing.assert_allclose(
            joined[f"{col}_engine"].to_numpy(dtype=float),
            joined[col].to_numpy(dtype=float),
            rtol=1e-12,
            atol=1e-12,
            err_msg=col,
        )
    return got


@pytest.mark.parametrize("engine", LAZY)
def test_predict_on_an_engine_equals_pandas(
    engine: str, summary: pd.DataFrame, models: dict[str, Any]
) -> None:
    model = models["bgnbd"]
    ref = model.predict(summary, horizon=13, pmf=2, level=0.8, n_draws=25, seed=4)
    out = model.predict(
        to_engine(summary, engine), horizon=13, pmf=2, level=0.8, n_draws=25, seed=4
    )
    got = _same_rows(out, ref, engine, "customer_id")
    assert np.isfinite(got["p_alive_low"]).all()  # the intervals were drawn, the same draws


@pytest.mark.parametrize("engine", LAZY)
def test_pareto_and_spend_predictions_on_an_engine(
    engine: str, summary: pd.DataFrame, models: dict[str, Any]
) -> None:
    frame = to_engine(summary, engine)
    pareto = models["pareto"]
    _same_rows(pareto.predict(frame, horizon=52), pareto.predict(summary, horizon=52), engine,
               "customer_id")  # fmt: skip
    gg = models["gg"]
    ref = gg.predict(summary, level=0.9, n_draws=20)
    _same_rows(gg.predict(frame, level=0.9, n_draws=20), ref, engine, "customer_id")


@pytest.mark.parametrize("engine", LAZY)
def test_bgbb_predict_on_an_engine(engine: str, discrete: pd.DataFrame) -> None:
    model = BGBB.from_params(alpha=1.204, beta=0.750, gamma=0.657, delta=2.783)
    ref = model.predict(discrete, horizon=5)
    _same_rows(model.predict(to_engine(discrete, engine), horizon=5), ref, engine, "customer_id")


@pytest.mark.parametrize("engine", LAZY)
def test_customer_lifetime_value_on_an_engine(
    engine: str, summary: pd.DataFrame, models: dict[str, Any]
) -> None:
    bg, gg = models["bgnbd"], models["gg"]
    args: dict[str, Any] = {"horizon": 52, "discount_rate": 0.1, "discount_period": 52,
                            "level": 0.9, "n_draws": 20, "seed": 2}  # fmt: skip
    ref = customer_lifetime_value(bg, gg, summary, **args)
    res = customer_lifetime_value(bg, gg, to_engine(summary, engine), **args)
    _same_rows(res.data, ref.data, engine, "customer_id")
    assert res.total == pytest.approx(ref.total, rel=1e-12)
    assert (res.n_customers, res.method, res.n_draws) == (ref.n_customers, ref.method, 20)
    assert res.customer_col == ref.customer_col == "customer_id"


def test_value_with_a_constant_spend_and_the_residual_lifetime(summary: pd.DataFrame) -> None:
    bg = BGNBD.from_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
    args: dict[str, Any] = {"horizon": np.inf, "discount_rate": 0.01}
    ref = customer_lifetime_value(bg, 12.5, summary, **args)
    res = customer_lifetime_value(bg, 12.5, to_engine(summary, "duckdb"), **args)
    _same_rows(res.data, ref.data, "duckdb", "customer_id")
    assert res.method == ref.method


def test_dask_keeps_the_partition_index(summary: pd.DataFrame, models: dict[str, Any]) -> None:
    frame = to_engine(summary, "dask")
    out = models["bgnbd"].predict(frame, horizon=4)
    assert out.npartitions == frame.npartitions
    assert out.compute().index.tolist() == frame.compute().index.tolist()


def test_predict_without_a_key(summary: pd.DataFrame, models: dict[str, Any]) -> None:
    model = models["bgnbd"]
    ref = model.predict(summary, horizon=4, customer_col=None)
    out = model.predict(to_engine(summary, "duckdb"), horizon=4, customer_col=None)
    got = to_pandas(out)
    assert list(got.columns) == ["p_alive", "expected_purchases"]
    np.testing.assert_allclose(got.to_numpy(), ref.to_numpy(), rtol=1e-12)


def test_duckdb_result_lives_on_the_input_connection(
    summary: pd.DataFrame, models: dict[str, Any]
) -> None:
    rel = to_engine(summary, "duckdb")
    out = models["bgnbd"].predict(rel, horizon=4)
    joined = rel.join(out.set_alias("p"), "customer_id").aggregate("count(*)").fetchall()
    assert joined == [(len(summary),)]
    assert len(out.df()) == len(out.df()) == len(summary)  # can be read more than once


def test_score_frame_runs_any_method_on_an_engine(
    summary: pd.DataFrame, models: dict[str, Any]
) -> None:
    pl = pytest.importorskip("polars")
    model = models["bgnbd"]
    out = engines.score_frame(model, pl.from_pandas(summary).lazy(), "predict",
                              customer_col="customer_id", horizon=8)  # fmt: skip
    ref = model.predict(summary, horizon=8)
    _same_rows(out, ref, "polars_lazy", "customer_id")
    with pytest.raises(TypeError, match="lazy polars"):
        engines.score_frame(model, summary, "predict", horizon=8)
