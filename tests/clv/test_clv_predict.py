"""Predictions on summary frames; a fitted model remembers its time unit and columns."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmmodels import summarize_transactions
from crmmodels.clv import BGBB, BGNBD, MBGNBD, GammaGamma, ParetoNBD
from crmmodels.datasets import load_cdnow_summary, load_donations
from crmmodels.errors import ArgumentError, DataError, SchemaError

from _engines import to_engine, to_pandas

BG_PARAMS = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PN_PARAMS = {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}
BB_PARAMS = {"alpha": 1.204, "beta": 0.750, "gamma": 0.657, "delta": 2.783}
GG_PARAMS = {"p": 6.25, "q": 3.74, "v": 15.44}


def _summary(n: int = 40) -> pd.DataFrame:
    s = load_cdnow_summary().head(n).copy()
    s["customer_id"] = [f"c{i:03d}" for i in range(n)]
    return s


def _arrays(s: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return (
        s["frequency"].to_numpy(float),
        s["recency"].to_numpy(float),
        s["T"].to_numpy(float),
    )


@pytest.fixture(scope="module")
def fitted_bg() -> BGNBD:
    return BGNBD().fit(load_cdnow_summary())


# ------------------------------------------------------------ the call
def test_probability_alive_takes_the_summary_frame(fitted_bg: BGNBD) -> None:
    s = load_cdnow_summary()
    expected = fitted_bg.probability_alive(*_arrays(s))
    np.testing.assert_allclose(fitted_bg.probability_alive(s), expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("model_cls", [BGNBD, MBGNBD, ParetoNBD])
def test_every_rfm_prediction_method_takes_a_frame(model_cls: Any) -> None:
    params = BG_PARAMS if model_cls is not ParetoNBD else PN_PARAMS
    m = model_cls.from_params(**params)
    s = _summary()
    x, tx, tt = _arrays(s)
    np.testing.assert_allclose(m.probability_alive(s), m.probability_alive(x, tx, tt), atol=1e-12)
    want = m.conditional_expected_purchases(10, x, tx, tt)
    np.testing.assert_allclose(m.conditional_expected_purchases(s, 10), want, atol=1e-12)
    np.testing.assert_allclose(m.conditional_expected_purchases(10, s), want, atol=1e-12)
    if model_cls is ParetoNBD:
        want_p = m.conditional_probability_of_purchases(2, 10, x, tx, tt)
        got_p = m.conditional_probability_of_purchases(s, 2, 10)
        np.testing.assert_allclose(got_p, want_p, atol=1e-12)
    else:
        np.testing.assert_allclose(m.log_likelihood(s), m.log_likelihood(x, tx, tt), atol=1e-12)


def test_bgbb_and_gamma_gamma_methods_take_a_frame() -> None:
    d = load_donations()
    bb = BGBB.from_params(**BB_PARAMS)
    x, tx, n = (d[c].to_numpy(float) for c in ("frequency", "recency", "periods"))
    np.testing.assert_allclose(bb.probability_alive(d), bb.probability_alive(x, tx, n), atol=1e-12)
    np.testing.assert_allclose(
        bb.conditional_expected_purchases(d, 5),
        bb.conditional_expected_purchases(5, x, tx, n),
        atol=1e-12,
    )
    gg = GammaGamma.from_params(**GG_PARAMS)
    s = _summary()
    np.testing.assert_allclose(
        gg.conditional_expected_spend(s),
        gg.conditional_expected_spend(s["frequency"], s["monetary_value"]),
        atol=1e-12,
    )


def test_frame_and_arrays_together_or_missing_arrays_are_argument_errors() -> None:
    m = BGNBD.from_params(**BG_PARAMS)
    s = _summary()
    with pytest.raises(ArgumentError, match="not both"):
        m.probability_alive(s, s["recency"])
    with pytest.raises(ArgumentError, match=r"missing \['recency', 'T'\]"):
        m.probability_alive([1, 2])
    with pytest.raises(ArgumentError, match=r"also give \['t'\]"):
        m.conditional_expected_purchases(s)
    with pytest.raises(ArgumentError, match="summary frame"):
        m.predict([1, 2, 3], horizon=10)


# ------------------------------------------------------------ predict on every engine
def _expected_kind(engine: str) -> str:
    return {
        "polars": "polars.dataframe.frame.DataFrame",
        "polars_lazy": "polars.lazyframe.frame.LazyFrame",
        "pyarrow": "pyarrow.lib.Table",
    }.get(engine, "pandas.DataFrame")


def _kind(obj: Any) -> str:
    t = type(obj)
    name = f"{t.__module__}.{t.__qualname__}"
    return "pandas.DataFrame" if isinstance(obj, pd.DataFrame) else name


def test_predict_on_every_engine_matches_the_array_methods(engine: str) -> None:
    m = ParetoNBD.from_params(**PN_PARAMS)
    s = _summary()
    native = to_engine(s, engine)
    out = m.predict(native, horizon=26, pmf=2)
    lazy = engine in ("duckdb", "dask", "pyspark")  # scored on the engine: its own kind back
    assert _kind(out) == (_kind(native) if lazy else _expected_kind(engine))
    got = to_pandas(out)
    assert list(got.columns) == [
        "customer_id",
        "p_alive",
        "expected_purchases",
        "p_0",
        "p_1",
        "p_2",
    ]
    got = got.set_index("customer_id").loc[s["customer_id"]]  # lazy engines may reorder
    x, tx, tt = _arrays(s)
    np.testing.assert_allclose(got["p_alive"], m.probability_alive(x, tx, tt), rtol=0, atol=1e-12)
    np.testing.assert_allclose(
        got["expected_purchases"], m.conditional_expected_purchases(26, x, tx, tt), atol=1e-12
    )
    for k in range(3):
        np.testing.assert_allclose(
            got[f"p_{k}"], m.conditional_probability_of_purchases(k, 26, x, tx, tt), atol=1e-12
        )


def test_predict_keeps_input_order_and_id_dtype_on_eager_engines() -> None:
    import polars as pl
    import pyarrow as pa

    s = _summary().iloc[::-1]  # not sorted, and a non-default pandas index
    m = BGNBD.from_params(**BG_PARAMS)
    out = m.predict(s, horizon=5)
    assert out["customer_id"].tolist() == s["customer_id"].tolist()
    assert out.index.tolist() == list(range(len(s)))
    assert out.attrs["time_unit"] == "unknown"
    pl_out = m.predict(pl.from_pandas(s), horizon=5)
    assert pl_out["customer_id"].dtype == pl.String
    assert pl_out["customer_id"].to_list() == s["customer_id"].tolist()
    pa_out = m.predict(pa.Table.from_pandas(s, preserve_index=False), horizon=5)
    assert pa_out.column("customer_id").to_pylist() == s["customer_id"].tolist()


def test_predict_for_bgbb_and_gamma_gamma() -> None:
    d = load_donations()
    bb = BGBB.from_params(**BB_PARAMS)
    out = bb.predict(d, horizon=5)
    assert list(out.columns) == ["p_alive", "expected_purchases"]  # no id column in the data
    x, tx, n = (d[c].to_numpy(float) for c in ("frequency", "recency", "periods"))
    np.testing.assert_allclose(
        out["expected_purchases"], bb.conditional_expected_purchases(5, x, tx, n)
    )
    with pytest.raises(ArgumentError, match="horizon"):
        bb.predict(d, horizon=2.5)
    gg = GammaGamma.from_params(**GG_PARAMS)
    s = _summary()
    spend = gg.predict(s)
    assert list(spend.columns) == ["customer_id", "expected_spend"]
    np.testing.assert_allclose(
        spend["expected_spend"], gg.conditional_expected_spend(s["frequency"], s["monetary_value"])
    )


@pytest.mark.parametrize("cls", [BGNBD, MBGNBD])
def test_pmf_is_given_by_the_beta_geometric_models(cls: type[BGNBD]) -> None:
    m = cls.from_params(**BG_PARAMS)
    s = _summary()
    out = m.predict(s, horizon=5, pmf=3)
    assert list(out.columns)[-4:] == ["p_0", "p_1", "p_2", "p_3"]
    x, tx, tt = _arrays(s)
    for j in range(4):
        np.testing.assert_allclose(
            out[f"p_{j}"], m.conditional_probability_of_purchases(j, 5, x, tx, tt), rtol=1e-12
        )


def test_customer_col_named_explicitly_must_exist() -> None:
    s = _summary().drop(columns="customer_id")
    m = BGNBD.from_params(**BG_PARAMS)
    assert list(m.predict(s, horizon=5).columns) == ["p_alive", "expected_purchases"]
    with pytest.raises(SchemaError, match="cust"):
        m.predict(s, horizon=5, customer_col="cust")
    with pytest.raises(SchemaError, match="cust"):
        BGNBD().fit(s, customer_col="cust")


# ------------------------------------------------------------ intervals
def test_predict_interval_from_parameter_uncertainty(fitted_bg: BGNBD) -> None:
    s = _summary()
    out = fitted_bg.predict(s, horizon=39, level=0.9, n_draws=50)
    for col in ("p_alive", "expected_purchases"):
        lo, hi = out[f"{col}_low"], out[f"{col}_high"]
        assert np.all(np.isfinite(lo)) and np.all(lo <= hi)
        assert np.all(hi - lo > 0) or col == "p_alive"  # P(alive) is 1 for x = 0
    again = fitted_bg.predict(s, horizon=39, level=0.9, n_draws=50)
    pd.testing.assert_frame_equal(out, again)  # seeded
    gg = GammaGamma().fit(load_cdnow_summary().query("frequency > 0"))
    spend = gg.predict(s, level=0.9, n_draws=30)
    assert np.all(spend["expected_spend_low"] < spend["expected_spend_high"])


def test_interval_is_nan_without_covariance_and_checks_its_level() -> None:
    m = BGNBD.from_params(**BG_PARAMS)
    out = m.predict(_summary(), horizon=5, level=0.8)
    assert out["expected_purchases_low"].isna().all()
    with pytest.raises(ArgumentError, match="level"):
        m.predict(_summary(), horizon=5, level=1.5)


# ------------------------------------------------------------ every customer comes out
@given(
    rows=st.lists(
        st.tuples(st.integers(0, 6), st.floats(0.0, 1.0), st.floats(0.5, 40.0)),
        min_size=1,
        max_size=25,
    ),
    seed=st.integers(0, 2**16),
)
def test_every_customer_appears_exactly_once_in_any_row_order(
    rows: list[tuple[int, float, float]], seed: int
) -> None:
    x = np.array([r[0] for r in rows], dtype=float)
    tt = np.array([r[2] for r in rows])
    tx = np.where(x > 0, np.array([r[1] for r in rows]) * tt, 0.0)
    s = pd.DataFrame(
        {"customer_id": np.arange(len(rows)) * 7 + 3, "frequency": x, "recency": tx, "T": tt}
    )
    m = BGNBD.from_params(**BG_PARAMS)
    out = m.predict(s, horizon=10)
    assert out["customer_id"].tolist() == s["customer_id"].tolist()
    shuffled = s.sample(frac=1.0, random_state=seed)
    out2 = m.predict(shuffled, horizon=10)
    assert sorted(out2["customer_id"]) == sorted(s["customer_id"])
    a = out.set_index("customer_id").sort_index()
    b = out2.set_index("customer_id").sort_index()
    pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=0, atol=1e-13)


# ------------------------------------------------------------ time unit and columns
def _transactions() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [1, 1, 1, 2, 2, 3],
            "date": pd.to_datetime(
                ["2024-01-01", "2024-02-05", "2024-03-11", "2024-01-08", "2024-02-19", "2024-01-15"]
            ),
        }
    )


def test_time_unit_comes_from_the_summary_or_the_caller() -> None:
    s = summarize_transactions(
        _transactions(), period="D", time_unit="W", observation_end="2024-04-01"
    )
    assert s.attrs["time_unit"] == "W"
    assert BGNBD.from_params(**BG_PARAMS).time_unit_ == "unknown"
    big = load_cdnow_summary()
    big.attrs["time_unit"] = "weeks"
    fitted = BGNBD().fit(big)
    assert fitted.time_unit_ == "W"
    assert fitted.predict(big.head(3), horizon=4).attrs["time_unit"] == "W"
    assert BGNBD().fit(load_cdnow_summary(), time_unit="days").time_unit_ == "D"
    assert BGNBD().fit(load_cdnow_summary()).time_unit_ == "unknown"
    assert BGNBD().fit(load_cdnow_summary(), time_unit=7).time_unit_ == 7
    with pytest.raises(ArgumentError, match="time_unit"):
        BGNBD().fit(load_cdnow_summary(), time_unit="fortnight")


def test_fit_remembers_its_columns_and_predictions_read_them() -> None:
    s = load_cdnow_summary().rename(
        columns={"frequency": "x", "recency": "t_x", "T": "age", "customer_id": "cid"}
    )
    m = BGNBD().fit(s, frequency_col="x", recency_col="t_x", T_col="age", customer_col="cid")
    assert m.columns_ == {"frequency": "x", "recency": "t_x", "T": "age", "customer": "cid"}
    out = m.predict(s, horizon=10)
    assert list(out.columns) == ["cid", "p_alive", "expected_purchases"]
    np.testing.assert_allclose(
        m.probability_alive(s), m.probability_alive(s["x"], s["t_x"], s["age"]), atol=1e-12
    )
    arrays_fit = BGNBD().fit(frequency=s["x"], recency=s["t_x"], T=s["age"])
    assert arrays_fit.columns_["customer"] is None
    assert BGNBD().fit(load_cdnow_summary()).columns_["customer"] == "customer_id"


def test_json_round_trip_keeps_time_unit_and_columns() -> None:
    s = load_cdnow_summary().rename(columns={"T": "age"})
    m = BGNBD().fit(s, T_col="age", time_unit="weeks")
    back = BGNBD.from_json(m.to_json())
    assert back.time_unit_ == "W"
    assert back.columns_ == m.columns_
    np.testing.assert_allclose(back.probability_alive(s), m.probability_alive(s), atol=1e-12)
    bb = BGBB().fit(load_donations(), weights_col="weights", time_unit="years")
    bb_back = BGBB.from_json(bb.to_json())
    assert (bb_back.time_unit_, bb_back.columns_["n_periods"]) == ("Y", "periods")


def test_old_files_without_time_unit_and_columns_still_load() -> None:
    payload = json.loads(BGNBD.from_params(**BG_PARAMS).to_json())
    del payload["time_unit"], payload["columns"]
    m = BGNBD.from_dict(payload)
    assert m.time_unit_ == "unknown"
    assert m.columns_ == {
        "frequency": "frequency",
        "recency": "recency",
        "T": "T",
        "customer": None,
    }


@pytest.mark.parametrize(
    ("field", "value", "match"),
    [
        ("time_unit", "fortnight", "field .time_unit.: time_unit must be"),
        ("time_unit", "", "field .time_unit.: time_unit must be"),
        ("columns", {"frequency": 1}, "columns.frequency"),
        ("columns", {"monetary_value": "m"}, "field .columns. has unknown entries"),
        ("columns", ["frequency"], "field .columns. must be a JSON object"),
    ],
)
def test_bad_time_unit_or_columns_in_json_are_data_errors(
    field: str, value: Any, match: str
) -> None:
    payload = json.loads(BGNBD.from_params(**BG_PARAMS).to_json())
    payload[field] = value
    with pytest.raises(DataError, match=match):
        BGNBD.from_dict(payload)


def test_dert_takes_a_frame() -> None:
    s = _summary()
    pn = ParetoNBD.from_params(**PN_PARAMS)
    want = pn.expected_discounted_residual_transactions(*_arrays(s), 0.003)
    np.testing.assert_allclose(
        pn.expected_discounted_residual_transactions(s, 0.003), want, atol=1e-12
    )
    d = load_donations()
    bb = BGBB.from_params(**BB_PARAMS)
    x, tx, n = (d[c].to_numpy(float) for c in ("frequency", "recency", "periods"))
    np.testing.assert_allclose(
        bb.expected_discounted_residual_transactions(d, discount_rate=0.1),
        bb.expected_discounted_residual_transactions(x, tx, n, 0.1),
        atol=1e-12,
    )


def test_clv_states_the_unit_the_model_remembers() -> None:
    from crmmodels.clv import customer_lifetime_value

    s = load_cdnow_summary()
    bg = BGNBD().fit(s, time_unit="weeks")
    res = customer_lifetime_value(bg, None, s.head(5), horizon=52, discount_rate=0.0)
    assert res.time_unit == "weeks"
    days = customer_lifetime_value(
        bg, None, s.head(5), horizon=52, discount_rate=0.0, time_unit="days"
    )
    assert days.time_unit == "days"
    plain = BGNBD.from_params(**BG_PARAMS)
    res = customer_lifetime_value(plain, None, s.head(5), horizon=52, discount_rate=0.0)
    assert res.time_unit == "periods"


def test_score_reads_the_columns_of_the_fit() -> None:
    s = load_cdnow_summary().rename(columns={"T": "age"})
    m = BGNBD().fit(s, T_col="age")
    assert m.score(s) == pytest.approx(m.log_likelihood_ / len(s), rel=1e-12)


def test_old_interval_argument_warns_and_gives_the_same_columns(fitted_bg: BGNBD) -> None:
    s = load_cdnow_summary().head(20)
    new = fitted_bg.predict(s, horizon=10, level=0.8, n_draws=20)
    with pytest.warns(FutureWarning, match="'interval' is now called 'level'"):
        old = fitted_bg.predict(s, horizon=10, interval=0.8, n_draws=20)
    pd.testing.assert_frame_equal(old, new)
    assert {"p_alive_low", "p_alive_high", "expected_purchases_low"} <= set(new.columns)
