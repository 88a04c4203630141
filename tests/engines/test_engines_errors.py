"""Errors on lazy engines: the pandas path's class and message, before the scoring runs."""

from __future__ import annotations

import importlib
import sys
from typing import Any

import pandas as pd
import pytest

from crmmodels import engines
from crmmodels.clv import BGNBD, GammaGamma, customer_lifetime_value
from crmmodels.errors import DataError, SchemaError

from _engines import to_engine

LAZY = ["polars_lazy", "duckdb", "dask", "pyspark"]
BG = BGNBD.from_params(r=0.243, alpha=4.414, a=0.793, b=2.426)


def _summary() -> pd.DataFrame:
    # six customers; three (two distinct histories) have a negative T
    return pd.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d", "e", "f"],
            "frequency": [1, 2, 1, 0, 3, 1],
            "recency": [3.0, 10.0, 3.0, 0.0, 5.0, 3.0],
            "T": [-4.0, 40.0, -4.0, 10.0, -2.0, 30.0],
            "monetary_value": [10.0, 20.0, 10.0, 0.0, -5.0, 12.0],
        }
    )


def _same_error(kind: type[Exception], engine: str, call: Any) -> str:
    with pytest.raises(kind) as on_pandas:
        call(_summary())
    with pytest.raises(kind) as on_engine:
        call(to_engine(_summary(), engine))
    assert type(on_engine.value) is type(on_pandas.value)
    assert str(on_engine.value) == str(on_pandas.value)
    return str(on_engine.value)


@pytest.mark.parametrize("engine", LAZY)
def test_predict_and_value_raise_the_pandas_data_error(engine: str) -> None:
    message = _same_error(DataError, engine, lambda s: BG.predict(s, horizon=4))
    assert "column 'T' is negative in 3 rows (first example: -4.0)" in message
    gg = GammaGamma.from_params(p=6.25, q=3.74, v=15.44)
    message = _same_error(DataError, engine, lambda s: gg.predict(s))
    assert "'monetary_value' is negative in 1 row" in message
    message = _same_error(
        DataError,
        engine,
        lambda s: customer_lifetime_value(BG, 1.0, s, horizon=4, discount_rate=0.0),
    )
    assert "in 3 rows" in message  # customers, not distinct histories


@pytest.mark.parametrize("engine", ["polars_lazy", "duckdb", "dask"])
def test_a_missing_column_is_the_same_schema_error(engine: str) -> None:
    frame = to_engine(_summary().drop(columns="T"), engine)
    with pytest.raises(SchemaError) as on_pandas:
        BG.predict(_summary().drop(columns="T"), horizon=4)
    with pytest.raises(SchemaError) as on_engine:
        BG.predict(frame, horizon=4)
    assert str(on_engine.value) == str(on_pandas.value)
    with pytest.raises(SchemaError, match="'T'"):
        customer_lifetime_value(BG, 1.0, frame, horizon=4, discount_rate=0.0)
    with pytest.raises(SchemaError, match="'nope'"):
        BG.predict(to_engine(_summary(), engine), horizon=4, customer_col="nope")


def test_value_on_an_engine_needs_an_id() -> None:
    frame = to_engine(_summary().drop(columns="customer_id").iloc[[1, 3]], "duckdb")
    with pytest.raises(SchemaError, match="needs an id column"):
        customer_lifetime_value(BG, 1.0, frame, horizon=4, discount_rate=0.0)


@pytest.mark.parametrize(
    ("module", "extra"),
    [
        ("pyspark.sql.types", "spark"),
        ("dask.dataframe", "dask"),
        ("duckdb", "duckdb"),
        ("polars", "polars"),
    ],
)
def test_a_missing_engine_names_the_extra_to_install(
    module: str, extra: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # import fails as if not installed
    with pytest.raises(ModuleNotFoundError, match=rf'pip install "crmmodels\[{extra}\]"'):
        engines.require(module, "scoring")


def test_scoring_without_polars_gives_the_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    pl = pytest.importorskip("polars")
    lf = pl.from_pandas(_summary().iloc[[1, 3, 5]]).lazy()
    real = importlib.import_module

    def no_polars(name: str, package: str | None = None) -> Any:
        if name.partition(".")[0] == "polars":  # the frame exists, the import fails
            raise ImportError(f"No module named {name!r}")
        return real(name, package)

    monkeypatch.setattr(importlib, "import_module", no_polars)
    with pytest.raises(ModuleNotFoundError, match=r"crmmodels\[polars\]"):
        BG.predict(lf, horizon=4)
