"""Fits on lazy engines read only the distinct rows, computed there, and equal the pandas fit."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from crmmodels import engines
from crmmodels.clv import BGBB, BGNBD, GammaGamma
from crmmodels.datasets import load_cdnow_summary, load_donations
from crmmodels.errors import DataError, SchemaError

from _engines import to_engine

LAZY = ["polars_lazy", "duckdb", "dask", "pyspark"]


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    return load_cdnow_summary()


@pytest.fixture(scope="module")
def fitted(cdnow: pd.DataFrame) -> dict[str, Any]:
    return {
        "bgnbd": BGNBD().fit(cdnow),
        "gg": GammaGamma().fit(cdnow),
    }


def _same_fit(model: Any, ref: Any) -> None:
    for name, value in ref.params_.items():
        assert model.params_[name] == pytest.approx(value, rel=1e-10, abs=1e-10)
    assert model.n_customers_ == ref.n_customers_
    assert model.log_likelihood_ == pytest.approx(ref.log_likelihood_, rel=1e-10)
    assert model.columns_ == ref.columns_
    assert model.diagnostics_["n_distinct_rows"] == ref.diagnostics_["n_distinct_rows"]


@pytest.mark.parametrize("engine", LAZY)
def test_fit_on_an_engine_equals_the_pandas_fit(
    engine: str, cdnow: pd.DataFrame, fitted: dict[str, Any]
) -> None:
    frame = to_engine(cdnow, engine)
    bg = BGNBD().fit(frame)
    _same_fit(bg, fitted["bgnbd"])
    assert bg.diagnostics_["n_rows"] == len(cdnow)
    gg = GammaGamma().fit(frame)
    _same_fit(gg, fitted["gg"])
    assert gg.n_excluded_ == fitted["gg"].n_excluded_
    assert gg.diagnostics_["n_no_repeat_excluded"] == int((cdnow["frequency"] == 0).sum())


@pytest.mark.filterwarnings("ignore::crmmodels.errors.BoundaryWarning")  # donations: a limit
@pytest.mark.parametrize("engine", ["duckdb", "pyspark"])
def test_bgbb_fit_with_a_weights_column(engine: str) -> None:
    ref = BGBB().fit(load_donations(), weights_col="weights")
    frame = to_engine(load_donations(), engine)
    _same_fit(BGBB().fit(frame, weights_col="weights"), ref)


def test_spark_fit_collects_only_the_distinct_histories(
    cdnow: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    collected: list[int] = []
    real = engines.distinct_rows

    def spy(*args: Any, **kwargs: Any) -> Any:
        table, counts = real(*args, **kwargs)
        collected.append(len(table))
        return table, counts

    monkeypatch.setattr(engines, "distinct_rows", spy)
    model = BGNBD().fit(to_engine(cdnow, "pyspark"))
    n_distinct = len(cdnow[["frequency", "recency", "T"]].drop_duplicates())
    assert collected == [n_distinct]
    assert n_distinct < len(cdnow) / 2
    assert model.n_customers_ == len(cdnow)


def _bad_summary() -> pd.DataFrame:
    # five customers; three (two histories) have recency > T
    return pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 4, 5],
            "frequency": [1, 2, 1, 1, 3],
            "recency": [30.0, 10.0, 30.0, 20.0, 45.0],
            "T": [20.0, 40.0, 20.0, 40.0, 40.0],
        }
    )


@pytest.mark.parametrize("engine", LAZY)
def test_fit_errors_count_customers_as_the_pandas_path_does(engine: str) -> None:
    bad = _bad_summary()
    with pytest.raises(DataError) as on_pandas:
        BGNBD().fit(bad)
    with pytest.raises(DataError) as on_engine:
        BGNBD().fit(to_engine(bad, engine))
    assert str(on_engine.value) == str(on_pandas.value)
    assert "in 3 rows" in str(on_engine.value)


@pytest.mark.parametrize("engine", ["polars_lazy", "duckdb", "dask"])
def test_fit_missing_column_is_the_same_schema_error(engine: str) -> None:
    bad = _bad_summary().drop(columns="T")
    with pytest.raises(SchemaError) as on_pandas:
        BGNBD().fit(bad)
    with pytest.raises(SchemaError) as on_engine:
        BGNBD().fit(to_engine(bad, engine))
    assert str(on_engine.value) == str(on_pandas.value)


def test_distinct_rows_keeps_nulls_and_counts_every_row() -> None:
    pl = pytest.importorskip("polars")
    lf = pl.LazyFrame({"x": [1.0, None, 1.0, None, 2.0], "id": ["a", "b", "c", "d", "e"]})
    table, counts = engines.distinct_rows(lf, ["x"], carry="id")
    assert table["x"].to_list() == [1.0, 2.0, None]
    assert table["id"].to_list() == ["a", "e", "b"]
    assert counts.tolist() == [2.0, 1.0, 2.0]
    assert np.sum(counts) == 5
