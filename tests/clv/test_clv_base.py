"""The shared maximum-likelihood base of the CLV models: fitting, validation, persistence."""

from __future__ import annotations

import inspect
import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmmodels.clv import BGBB, BGNBD, MBGNBD, GammaGamma, ParetoNBD
from crmmodels.clv._base import SCHEMA_VERSION
from crmmodels.clv._fitting import compress
from crmmodels.datasets import load_cdnow_summary
from crmmodels.errors import (
    ArgumentError,
    ConvergenceError,
    DataError,
    NotFittedError,
    SchemaError,
)
from crmmodels.kernels import bgnbd
from crmmodels.kernels._optim import compress_rows, distinct, maximize_loglik, numeric_hessian

from _engines import to_engine


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    return load_cdnow_summary()


@pytest.fixture(scope="module")
def fitted(cdnow: pd.DataFrame) -> BGNBD:
    return BGNBD().fit(cdnow)


# ---------------------------------------------------------------- compression
def test_compress_rows_matches_plain_pandas_groupby(cdnow: pd.DataFrame) -> None:
    cols = [cdnow[c].to_numpy(float) for c in ("frequency", "recency", "T")]
    uniq, counts, inverse = compress_rows(cols)
    ref = cdnow.groupby(["frequency", "recency", "T"]).size().reset_index(name="n")
    assert len(uniq[0]) == len(ref) == 1016
    np.testing.assert_array_equal(uniq[0], ref["frequency"].to_numpy(float))
    np.testing.assert_array_equal(uniq[1], ref["recency"].to_numpy())
    np.testing.assert_array_equal(uniq[2], ref["T"].to_numpy())
    np.testing.assert_array_equal(counts, ref["n"].to_numpy(float))
    for k in range(3):  # the inverse rebuilds the input
        np.testing.assert_array_equal(uniq[k][inverse], cols[k])


def test_fit_compression_is_the_kernel_compression(cdnow: pd.DataFrame) -> None:
    cols = [cdnow[c].to_numpy(float) for c in ("frequency", "recency", "T")]
    w = np.arange(len(cdnow)) % 3 * 1.0  # zero weights drop rows
    a, ca, _ = compress_rows(cols, w)
    b, cb = compress(
        ("frequency", "recency", "T"),
        dict(zip(("frequency", "recency", "T"), cols, strict=True)),
        w,
    )
    assert np.all(np.diff(b["frequency"]) >= 0)  # sorted by frequency
    for k, name in enumerate(("frequency", "recency", "T")):
        np.testing.assert_array_equal(a[k], b[name])
    np.testing.assert_array_equal(ca, cb)
    assert (cb > 0).all()


def test_distinct_fast_path_and_fallback() -> None:
    v, i = distinct(np.array([3.0, 1.0, 3.0]))
    assert v.tolist() == [1.0, 3.0] and i.tolist() == [1, 0, 1]
    v, i = distinct(np.array([1.0, 1.0, 4.0]))
    assert v.tolist() == [1.0, 4.0] and i.tolist() == [0, 0, 1]


@given(
    st.lists(
        st.tuples(st.integers(0, 3), st.integers(0, 3), st.integers(1, 3)), min_size=1, max_size=30
    )
)
def test_compressed_loglik_equals_uncompressed(rows: list[tuple[int, int, int]]) -> None:
    x = np.array([r[0] for r in rows], dtype=float)
    t = np.array([float(r[2]) * 4 for r in rows])
    tx = np.where(x > 0, np.minimum(np.array([float(r[1]) for r in rows]) + 1, t), 0.0)
    params = np.array([0.3, 4.0, 0.8, 2.5])
    full = bgnbd.loglik(params, x, tx, t).sum()
    (ux, utx, ut), counts, _ = compress_rows([x, tx, t])
    comp, _ = bgnbd.loglik_grad(params, ux, utx, ut, counts)
    assert comp == pytest.approx(full, rel=1e-12, abs=1e-12)


def test_weights_equal_repeated_rows(cdnow: pd.DataFrame) -> None:
    grouped = cdnow.groupby(["frequency", "recency", "T"]).size().reset_index(name="n")
    a = BGNBD().fit(cdnow)
    b = BGNBD().fit(grouped, weights_col="n")
    for k in a.params_:
        assert b.params_[k] == pytest.approx(a.params_[k], rel=1e-6)
    assert b.log_likelihood_ == pytest.approx(a.log_likelihood_, rel=1e-10)
    assert b.n_customers_ == 2357


# -------------------------------------------------------------- optimiser
def test_maximize_loglik_gaussian_case() -> None:
    data = np.array([1.0, 2.0, 4.0, 8.0])

    def ll(p: np.ndarray) -> tuple[float, np.ndarray]:  # exponential rate lam
        lam = p[0]
        return 4 * np.log(lam) - lam * data.sum(), np.array([4 / lam - data.sum()])

    res = maximize_loglik(ll, np.array([10.0]), n_obs=4)
    assert res.params[0] == pytest.approx(4 / 15, rel=1e-7)
    assert res.converged and res.diagnostics["n_starts"] == 1


def test_numeric_hessian_matches_analytic() -> None:
    def grad(p: np.ndarray) -> np.ndarray:  # f = p0^3 p1 + exp(p1)
        return np.array([3 * p[0] ** 2 * p[1], p[0] ** 3 + np.exp(p[1])])

    h = numeric_hessian(grad, np.array([1.5, 0.5]))
    exact = np.array([[6 * 1.5 * 0.5, 3 * 1.5**2], [3 * 1.5**2, np.exp(0.5)]])
    np.testing.assert_allclose(h, exact, rtol=1e-7)


def test_standard_errors_match_lifetimes(fitted: BGNBD) -> None:
    # lifetimes' summary on CDNOW (same data): se(coef) r .012557, alpha .378221,
    # a .185719, b .705345 (numeric Hessian at its own optimum)
    ref = {"r": 0.012557, "alpha": 0.378221, "a": 0.185719, "b": 0.705345}
    for k, v in ref.items():
        assert fitted.standard_errors_[k] == pytest.approx(v, rel=2e-3)
        lo, hi = fitted.confidence_intervals_[k]
        assert lo == pytest.approx(fitted.params_[k] - 1.959964 * fitted.standard_errors_[k])
        assert hi > fitted.params_[k] > lo


def test_fit_attributes_and_summary(fitted: BGNBD) -> None:
    assert fitted.n_customers_ == 2357
    assert fitted.aic_ == pytest.approx(2 * 4 - 2 * fitted.log_likelihood_)
    assert fitted.bic_ == pytest.approx(4 * math.log(2357) - 2 * fitted.log_likelihood_)
    d = fitted.diagnostics_
    assert d["converged"] and d["gradient_norm"] < 1e-5
    assert d["n_rows"] == 2357 and d["n_distinct_rows"] == 1016
    table = fitted.summary()
    assert list(table.index) == ["r", "alpha", "a", "b"]
    assert list(table.columns) == ["estimate", "std_error", "lower_95", "upper_95"]
    assert table.loc["r", "estimate"] == pytest.approx(0.2426, abs=1e-4)
    assert "BGNBD fitted on 2,357 customers" in repr(fitted)
    assert repr(BGNBD(penalizer=0.1)) == "BGNBD(penalizer=0.1)"


def test_penalizer_shrinks_parameters(cdnow: pd.DataFrame, fitted: BGNBD) -> None:
    pen = BGNBD(penalizer=0.01).fit(cdnow)
    assert pen.params_["alpha"] < fitted.params_["alpha"]
    assert pen.log_likelihood_ < fitted.log_likelihood_


def test_nonconvergence_raises_or_warns(cdnow: pd.DataFrame) -> None:
    with pytest.raises(ConvergenceError) as info:
        BGNBD(max_iter=1, n_restarts=0).fit(cdnow)
    assert info.value.diagnostics["iterations"] >= 1
    assert "gradient norm" in str(info.value)
    with pytest.warns(RuntimeWarning, match="did not converge"):
        m = BGNBD(max_iter=1, n_restarts=0, on_nonconvergence="warn").fit(cdnow)
    assert m.diagnostics_["converged"] is False


def test_restarts_rescue_a_short_run(cdnow: pd.DataFrame) -> None:
    m = BGNBD(max_iter=5, n_restarts=20).fit(cdnow)
    assert m.diagnostics_["n_starts"] > 1
    assert m.params_["alpha"] == pytest.approx(4.4135, abs=1e-3)


def test_initial_params_used(cdnow: pd.DataFrame) -> None:
    m = BGNBD(initial_params={"r": 0.2, "alpha": 4.0, "a": 0.8, "b": 2.0}).fit(cdnow)
    assert m.params_["r"] == pytest.approx(0.2426, abs=1e-4)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"penalizer": -1.0}, "penalizer"),
        ({"n_restarts": -1}, "n_restarts"),
        ({"tol": 0.0}, "tol"),
        ({"max_iter": 0}, "max_iter"),
        ({"on_nonconvergence": "ignore"}, "on_nonconvergence"),
        ({"initial_params": {"r": 1.0}}, "initial_params"),
        ({"initial_params": {"r": 1.0, "alpha": -1.0, "a": 1.0, "b": 1.0}}, "alpha"),
    ],
)
def test_bad_hyperparameters(cdnow: pd.DataFrame, kwargs: dict, match: str) -> None:
    with pytest.raises(DataError, match=match):
        BGNBD(**kwargs).fit(cdnow)


# -------------------------------------------------------------- bad inputs
@pytest.mark.parametrize(
    ("f", "r", "t", "match"),
    [
        ([1, 2], [1.0], [2.0, 3.0], "equal lengths"),
        ([], [], [], "empty"),
        ([1, -1], [1.0, 0.0], [2.0, 3.0], "'frequency' is negative in 1 row"),
        ([1, 2], [1.0, np.nan], [2.0, 3.0], "'recency' is not finite"),
        ([1.5, 2], [1.0, 1.0], [2.0, 3.0], "not an integer in 1 row .first example: 1.5"),
        ([1, 2], [1.0, 4.0], [2.0, 3.0], "'recency' is larger than T"),
        ([0, 2], [1.0, 1.0], [2.0, 3.0], "not 0 although frequency is 0"),
        ([1, 2], [1.0, 1.0], [2.0, np.inf], "'T' is not finite"),
    ],
)
def test_bad_inputs_raise_data_error(f: list, r: list, t: list, match: str) -> None:
    with pytest.raises(DataError, match=match):
        BGNBD().fit(frequency=f, recency=r, T=t)


def test_bad_weights_and_argument_mixes(cdnow: pd.DataFrame) -> None:
    args = {"frequency": [1, 2], "recency": [1.0, 1.0], "T": [2.0, 3.0]}
    with pytest.raises(DataError, match="'weights' is negative"):
        BGNBD().fit(**args, weights=[1.0, -1.0])
    with pytest.raises(DataError, match="sum to 0"):
        BGNBD().fit(**args, weights=[0.0, 0.0])
    with pytest.raises(DataError, match="not both"):
        BGNBD().fit(cdnow, frequency=[1])
    with pytest.raises(DataError, match="missing"):
        BGNBD().fit(frequency=[1])
    with pytest.raises(SchemaError, match="no column 'freq'"):
        BGNBD().fit(cdnow, frequency_col="freq")
    with pytest.raises(SchemaError, match="dataframe"):
        BGNBD().fit([1, 2, 3])
    with pytest.raises(DataError, match="numeric"):
        BGNBD().fit(frequency=["a"], recency=[0.0], T=[1.0])


def test_column_names_overridable_and_frame_not_mutated(cdnow: pd.DataFrame) -> None:
    renamed = cdnow.rename(columns={"frequency": "x", "recency": "t_x", "T": "age"})
    before = renamed.copy()
    m = BGNBD().fit(renamed, frequency_col="x", recency_col="t_x", T_col="age")
    pd.testing.assert_frame_equal(renamed, before)
    assert m.params_["b"] == pytest.approx(2.4258, abs=1e-3)


def test_fit_on_every_engine(engine: str, cdnow: pd.DataFrame) -> None:
    native = to_engine(cdnow[["frequency", "recency", "T"]].head(600), engine)
    ref = BGNBD().fit(cdnow.head(600))
    m = BGNBD().fit(native)
    for k in ref.params_:
        assert m.params_[k] == pytest.approx(ref.params_[k], rel=1e-9)


# ------------------------------------------------------------ fitted state
def test_not_fitted_error() -> None:
    m = BGNBD()
    with pytest.raises(NotFittedError, match=r"This BGNBD instance is not fitted yet\. Call .fit."):
        m.probability_alive(1, 1.0, 2.0)
    with pytest.raises(NotFittedError):
        m.summary()
    with pytest.raises(NotFittedError):
        m.to_json()
    with pytest.raises(AttributeError):  # NotFittedError is an AttributeError
        GammaGamma().conditional_expected_spend(1, 2.0)


def test_from_params() -> None:
    m = BGNBD.from_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
    assert float(m.conditional_expected_purchases(39, 2, 30.43, 38.86)) == pytest.approx(
        1.226, abs=5e-4
    )
    assert math.isnan(m.log_likelihood_) and m.n_customers_ == 0
    assert "from params" in repr(m)
    with pytest.raises(DataError, match="missing"):
        BGNBD.from_params(r=1.0, alpha=1.0, a=1.0)
    with pytest.raises(DataError, match="unexpected"):
        BGNBD.from_params(r=1.0, alpha=1.0, a=1.0, b=1.0, s=1.0)
    with pytest.raises(DataError, match="finite number > 0"):
        BGNBD.from_params(r=1.0, alpha=float("nan"), a=1.0, b=1.0)


# -------------------------------------------------------------- persistence
def test_json_round_trip(fitted: BGNBD, tmp_path: object) -> None:
    text = fitted.to_json()
    payload = json.loads(text)
    assert payload["model"] == "BGNBD" and payload["schema_version"] == SCHEMA_VERSION
    assert set(payload) >= {"params", "fit", "hyperparameters"}
    back = BGNBD.from_json(text)
    assert back.params_ == fitted.params_
    assert back.log_likelihood_ == fitted.log_likelihood_
    assert back.standard_errors_ == pytest.approx(fitted.standard_errors_)
    assert back.aic_ == pytest.approx(fitted.aic_)
    np.testing.assert_allclose(back.covariance_, fitted.covariance_)
    x = np.array([0, 2, 7])
    np.testing.assert_array_equal(
        back.probability_alive(x, [0, 30.43, 35.0], 38.86),
        fitted.probability_alive(x, [0, 30.43, 35.0], 38.86),
    )
    path = tmp_path / "model.json"  # type: ignore[operator]
    fitted.save(path)
    assert BGNBD.load(path).params_ == fitted.params_
    assert "pickle" not in path.read_text()  # plain JSON


def test_json_round_trip_from_params_has_no_nan_tokens() -> None:
    m = GammaGamma.from_params(p=6.25, q=3.74, v=15.44)
    text = m.to_json()
    assert "NaN" not in text
    back = GammaGamma.from_json(text)
    assert back.params_ == m.params_ and math.isnan(back.log_likelihood_)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"model": "MBGNBD"}, "MBGNBD"),
        ({"schema_version": 99}, "schema_version 99"),
        ({"params": {"r": 1.0, "alpha": 1.0, "a": 1.0}}, "missing"),
        ({"params": {"r": 1.0, "alpha": None, "a": 1.0, "b": 1.0}}, "alpha"),
        ({"params": {"r": 1.0, "alpha": "inf", "a": 1.0, "b": 1.0}}, "alpha"),
        ({"params": None}, "params"),
    ],
)
def test_json_rejections(fitted: BGNBD, change: dict, match: str) -> None:
    payload = json.loads(fitted.to_json())
    payload.update(change)
    with pytest.raises(DataError, match=match):
        BGNBD.from_json(json.dumps(payload))


def test_json_rejects_garbage_and_other_models(fitted: BGNBD) -> None:
    with pytest.raises(DataError, match="not valid JSON"):
        BGNBD.from_json("{not json")
    with pytest.raises(DataError, match="expected a JSON object"):
        BGNBD.from_json("[1, 2]")
    with pytest.raises(DataError, match="'BGNBD' model, not 'MBGNBD'"):
        MBGNBD.from_json(fitted.to_json())


def test_matrices_shape_and_values(fitted: BGNBD) -> None:
    pa = fitted.probability_alive_matrix(max_frequency=5, max_recency=10, T=10)
    assert pa.shape == (6, 11)
    assert np.isnan(pa[0, 1:]).all() and pa[0, 0] == 1.0  # x = 0 needs recency 0
    assert np.all((pa[1:] >= 0) & (pa[1:] <= 1))
    assert pa[3, 10] == pytest.approx(float(fitted.probability_alive(3, 10, 10)))
    assert np.all(np.diff(pa[3, :]) > 0)  # later last purchase, more likely alive
    fr = fitted.frequency_recency_matrix(t=5, max_frequency=5, max_recency=10, T=10)
    assert fr[4, 7] == pytest.approx(float(fitted.conditional_expected_purchases(5, 4, 7, 10)))
    default = fitted.probability_alive_matrix()
    assert default.shape == (30, 39)


# ------------------------------------------------------- one fit, one reader
class _CountingBGNBD(BGNBD):
    """BG/NBD that records the number of rows each likelihood evaluation sees."""

    seen: list[int]

    def _loglik_grad(self, params, data, counts):  # type: ignore[no-untyped-def]
        self.seen.append(int(data["frequency"].size))
        return super()._loglik_grad(params, data, counts)


def test_a_large_summary_of_few_distinct_rows_is_fitted_on_its_distinct_rows(
    cdnow: pd.DataFrame,
) -> None:
    base = cdnow[["frequency", "recency", "T"]].head(40)
    n_distinct = len(base.drop_duplicates())
    big = pd.concat([base] * 2500, ignore_index=True)  # 100,000 customers
    assert len(big) == 100_000
    model = _CountingBGNBD()
    model.seen = []
    model.fit(big)
    assert model.seen and set(model.seen) == {n_distinct}
    assert model.diagnostics_["n_rows"] == 100_000
    assert model.diagnostics_["n_distinct_rows"] == n_distinct
    # the same fit as the distinct rows with their counts as weights
    counts = big.value_counts().rename("w").reset_index()
    ref = BGNBD().fit(counts, weights_col="w")
    for k in ref.params_:
        assert model.params_[k] == pytest.approx(ref.params_[k], rel=1e-6)
    assert model.log_likelihood_ == pytest.approx(ref.log_likelihood_, rel=1e-10)


@pytest.mark.parametrize(
    ("cls", "columns"),
    [
        (BGNBD, [("frequency", "frequency"), ("recency", "recency"), ("T", "T")]),
        (MBGNBD, [("frequency", "frequency"), ("recency", "recency"), ("T", "T")]),
        (ParetoNBD, [("frequency", "frequency"), ("recency", "recency"), ("T", "T")]),
        (BGBB, [("frequency", "frequency"), ("recency", "recency"), ("n_periods", "periods")]),
        (GammaGamma, [("frequency", "frequency"), ("monetary_value", "monetary_value")]),
    ],
)
def test_each_model_declares_its_columns_and_fit_names_them(
    cls: type, columns: list[tuple[str, str]]
) -> None:
    sig = inspect.signature(cls.fit)
    names = [k for k, _ in columns]
    expected = (
        ["self", "summary", "y", *names, "weights"]
        + [f"{k}_col" for k in names]
        + ["weights_col", "customer_col", "time_unit"]
    )
    if cls._takes_covariates:
        expected += ["covariates", "purchase_covariates", "dropout_covariates"]
    if cls is BGNBD:  # the form of the BG/NBD dropout covariates
        expected.append("dropout_form")
    assert list(sig.parameters) == expected
    for k, col in columns:
        assert sig.parameters[f"{k}_col"].default == col
    assert sig.parameters["customer_col"].default == "customer_id"
    # one implementation for every model
    assert cls.fit.__doc__ == BGNBD.fit.__doc__
    assert cls()._data_names == tuple(names)


def test_fit_refuses_a_keyword_that_names_no_column() -> None:
    with pytest.raises(ArgumentError, match=r"n_periods.*frequency_col") as info:
        BGNBD().fit(frequency=[1, 2], recency=[1, 2], T=[3, 3], n_periods=[3, 3])
    assert isinstance(info.value, TypeError)
    with pytest.raises(ArgumentError, match="monetary_value"):
        GammaGamma().fit(frequency=[1, 2], monetary_value=[3, 4], T_col="T")


def test_fit_and_score_read_renamed_columns_the_same_way(cdnow: pd.DataFrame) -> None:
    renamed = cdnow.rename(columns={"frequency": "f", "recency": "r", "T": "age"})
    model = BGNBD().fit(renamed, frequency_col="f", recency_col="r", T_col="age")
    assert model.columns_ == {
        "frequency": "f",
        "recency": "r",
        "T": "age",
        "customer": "customer_id",
    }
    assert model.score(renamed) == pytest.approx(model.log_likelihood_ / len(cdnow), rel=1e-12)
    with pytest.raises(DataError, match=r"BGNBD.score: pass either a summary frame"):
        model.score(renamed, frequency=[1])
