"""Model API of the CLV estimators: scikit-learn habits, argument and input validation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmmodels.clv import BGBB, BGNBD, MBGNBD, GammaGamma, ParetoNBD
from crmmodels.clv._base import MLEModel
from crmmodels.compat import lifetimes as C
from crmmodels.datasets import load_cdnow_summary, load_donations
from crmmodels.errors import ArgumentError, DataError

ALL_MODELS: list[type[MLEModel]] = [BGNBD, MBGNBD, ParetoNBD, BGBB, GammaGamma]
PARAMS: dict[type[MLEModel], dict[str, float]] = {
    BGNBD: {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426},
    MBGNBD: {"r": 0.525, "alpha": 6.183, "a": 0.891, "b": 1.614},
    ParetoNBD: {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669},
    BGBB: {"alpha": 1.204, "beta": 0.750, "gamma": 0.657, "delta": 2.783},
    GammaGamma: {"p": 6.25, "q": 3.74, "v": 15.44},
}


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    return load_cdnow_summary()


# ------------------------------------------------------------- item 1: scikit-learn
@pytest.mark.parametrize("cls", ALL_MODELS)
def test_get_params_set_params_and_clone_round_trip(cls: type[MLEModel]) -> None:
    from sklearn.base import clone

    init = {k: 1.0 for k in cls._param_names}
    model = cls(penalizer=0.01, n_restarts=2, tol=1e-6, max_iter=300, initial_params=init)
    params = model.get_params()
    assert params == {
        "penalizer": 0.01,
        "initial_params": init,
        "n_restarts": 2,
        "tol": 1e-6,
        "max_iter": 300,
        "on_nonconvergence": "raise",
        "progress": False,
    }
    assert model.get_params(deep=False) == params
    copy = clone(model)
    assert type(copy) is cls and copy is not model
    assert copy.get_params() == params and not copy.is_fitted
    assert type(model)(**params).get_params() == params
    assert copy.set_params(penalizer=0.5, on_nonconvergence="warn") is copy
    assert copy.penalizer == 0.5 and copy.on_nonconvergence == "warn"
    assert model.penalizer == 0.01  # the original is untouched
    with pytest.raises(ArgumentError, match="unknown hyper-parameter 'penalty'"):
        copy.set_params(penalty=1.0)


def test_clone_of_a_fitted_model_is_unfitted(cdnow: pd.DataFrame) -> None:
    from sklearn.base import clone

    fitted = BGNBD(penalizer=0.001).fit(cdnow)
    copy = clone(fitted)
    assert not copy.is_fitted and copy.penalizer == 0.001


def test_score_is_the_mean_log_likelihood_per_customer(cdnow: pd.DataFrame) -> None:
    m = BGNBD.from_params(**PARAMS[BGNBD])
    ll = m.log_likelihood(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    assert m.score(cdnow) == pytest.approx(float(np.mean(ll)), rel=1e-12)
    w = np.arange(1.0, len(cdnow) + 1.0)
    got = m.score(frequency=cdnow["frequency"], recency=cdnow["recency"], T=cdnow["T"], weights=w)
    assert got == pytest.approx(float(np.sum(w * ll) / w.sum()), rel=1e-10)
    gg = GammaGamma.from_params(**PARAMS[GammaGamma])
    ll_gg = gg.log_likelihood(cdnow["frequency"], cdnow["monetary_value"])
    assert gg.score(cdnow) == pytest.approx(float(np.nanmean(ll_gg)), rel=1e-12)
    donations = load_donations()
    bb = BGBB.from_params(**PARAMS[BGBB])
    fitted = BGBB().fit(donations, weights_col="weights")
    assert bb.score(donations, weights_col="weights") == pytest.approx(
        fitted.log_likelihood_ / fitted.n_customers_, rel=1e-3
    )
    pn = ParetoNBD.from_params(**PARAMS[ParetoNBD])
    assert np.isfinite(pn.score(cdnow)) and pn.score(cdnow) < 0


def test_grid_search_over_penalizer(cdnow: pd.DataFrame) -> None:
    from sklearn.model_selection import GridSearchCV, KFold

    search = GridSearchCV(
        BGNBD(),
        {"penalizer": [0.0, 0.01, 1.0]},
        cv=KFold(3, shuffle=True, random_state=0),
    )
    search.fit(cdnow)
    assert search.best_params_ == {"penalizer": 0.0}
    scores = search.cv_results_["mean_test_score"]
    assert np.all(np.isfinite(scores)) and scores[0] > scores[2]
    assert search.best_estimator_.is_fitted
    best = search.best_estimator_.params_
    assert best == pytest.approx(BGNBD().fit(cdnow).params_, rel=1e-6)


def test_pipeline_with_a_model(cdnow: pd.DataFrame) -> None:
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    pipe = make_pipeline(FunctionTransformer(lambda f: f), GammaGamma())
    pipe.fit(cdnow[cdnow["frequency"] > 0])
    assert pipe[-1].params_["p"] == pytest.approx(6.25, abs=0.01)
    assert pipe.score(cdnow[cdnow["frequency"] > 0]) < 0


# ------------------------------------------------------ item 4: dates are not numbers
def test_timedelta_and_datetime_columns_are_rejected(cdnow: pd.DataFrame) -> None:
    as_td = cdnow.assign(T=pd.to_timedelta(cdnow["T"] * 7, unit="D"))
    with pytest.raises(DataError, match=r"column 'T' holds dates or durations.*summarize_"):
        BGNBD().fit(as_td)
    with pytest.raises(DataError, match="'T' holds dates or durations"):
        BGNBD().fit(frequency=as_td["frequency"], recency=as_td["recency"], T=as_td["T"])
    as_dt = cdnow.assign(recency=pd.Timestamp("1997-01-01") + pd.to_timedelta(cdnow["recency"]))
    with pytest.raises(DataError, match="'recency' holds dates or durations"):
        BGNBD().fit(as_dt)
    polars = pl.from_pandas(as_td)
    with pytest.raises(DataError, match="'T' holds dates or durations"):
        ParetoNBD().fit(polars)
    gg = GammaGamma.from_params(**PARAMS[GammaGamma])
    with pytest.raises(DataError, match="dates or durations"):
        gg.conditional_expected_spend([1], [pd.Timedelta(days=3)])
    bg = BGNBD.from_params(**PARAMS[BGNBD])
    with pytest.raises(DataError, match="'T' holds dates or durations"):
        bg.probability_alive([1], [2.0], np.array([10], dtype="timedelta64[D]"))
    with pytest.raises(DataError, match="'t' holds dates or durations"):
        bg.conditional_expected_purchases(pd.Timedelta(days=7), [1], [2.0], [10.0])
    with pytest.raises(DataError, match="'T' holds dates or durations"):
        bg.probability_alive(1, 2.0, np.datetime64("2024-01-01"))


# ------------------------------------------- item 6: hyper-parameters and shapes
@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"penalizer": 10**400}, "penalizer must be a finite number >= 0.*too large"),
        ({"penalizer": -1.0}, "penalizer must be a finite number >= 0"),
        ({"penalizer": "0.1"}, "penalizer must be a finite number"),
        ({"tol": 0.0}, "tol must be a finite number > 0"),
        ({"n_restarts": 1.5}, "n_restarts must be a whole number >= 0"),
        ({"max_iter": True}, "max_iter must be a whole number >= 1"),
        ({"on_nonconvergence": "ignore"}, "on_nonconvergence must be one of"),
        ({"initial_params": {"r": 10**400}}, "initial_params must give exactly"),
    ],
)
def test_hyperparameters_raise_argument_error(
    cdnow: pd.DataFrame, kwargs: dict, match: str
) -> None:
    with pytest.raises(ArgumentError, match=match):
        BGNBD(**kwargs).fit(cdnow)


@pytest.mark.parametrize("cls", ALL_MODELS)
def test_from_params_overflow_is_an_argument_error(cls: type[MLEModel]) -> None:
    params = dict(PARAMS[cls])
    first = cls._param_names[0]
    params[first] = 10**400
    with pytest.raises(ArgumentError, match=rf"params\['{first}'\].*too large for a float"):
        cls.from_params(**params)
    init = {k: 10**400 for k in cls._param_names}
    with pytest.raises(ArgumentError, match="too large for a float"):
        cls(initial_params=init)._validate_hyperparameters()


def test_shape_mismatches_name_the_shapes() -> None:
    gg = GammaGamma.from_params(**PARAMS[GammaGamma])
    with pytest.raises(DataError, match=r"frequency \(3,\), monetary_value \(2,\)"):
        gg.log_likelihood([1, 2, 3], [20.0, 30.0])
    for cls in (BGNBD, MBGNBD, ParetoNBD):
        m = cls.from_params(**PARAMS[cls])
        with pytest.raises(DataError, match=r"t \(3,\), frequency \(2,\)"):
            m.conditional_expected_purchases([1.0, 2.0, 3.0], [1, 2], [1.0, 2.0], [5.0, 5.0])
        with pytest.raises(DataError, match=r"n \(2,\), t \(3,\)"):
            m.probability_of_purchases([0, 1], [1.0, 2.0, 3.0])  # type: ignore[attr-defined]
    bb = BGBB.from_params(**PARAMS[BGBB])
    with pytest.raises(DataError, match=r"n \(3,\), frequency \(2,\)"):
        bb.conditional_expected_purchases([1, 2, 3], [1, 2], [1, 2], [5, 5])


# ---------------------------------------------------------- item 8: nulls, compat
def test_polars_nulls_are_reported_as_missing() -> None:
    frame = pl.DataFrame(
        {"frequency": [1, None, 2], "recency": [1.0, 0.0, 3.0], "T": [5.0, 5.0, None]}
    )
    with pytest.raises(DataError, match=r"column 'frequency' is missing \(null\) in 1 row"):
        BGNBD().fit(frame)
    spend = pl.DataFrame({"frequency": [1, 2], "monetary_value": [None, 3.0]})
    with pytest.raises(DataError, match=r"'monetary_value' is missing \(null\)"):
        GammaGamma().fit(spend)
    nan_only = pl.DataFrame({"frequency": [1, 2], "recency": [1.0, float("nan")], "T": [5.0] * 2})
    with pytest.raises(DataError, match=r"'recency' is not finite \(NaN or inf\)"):
        BGNBD().fit(nan_only)


def test_compat_fitters_report_nan_frequency_as_not_finite() -> None:
    f = pd.Series([1.0, np.nan, 2.0])
    r = pd.Series([1.0, 0.0, 3.0])
    t = pd.Series([5.0, 5.0, 5.0])
    with pytest.raises(DataError, match=r"'frequency' is not finite \(NaN or inf\) in 1 row"):
        C.BetaGeoFitter().fit(f, r, t)
    with pytest.raises(DataError, match=r"'frequency' is not finite"):
        C.ParetoNBDFitter().fit(f, r, t)
    with pytest.raises(DataError, match=r"'n_periods' is not finite"):
        C.BetaGeoBetaBinomFitter().fit([1, 1], [1, 1], [2, np.inf])


# ------------------------------------------- item 5: probabilities stay within [0, 1]
_FUZZ_EXCESS = [
    # parameters and (n, t) that gave 1 + 4e-6 (MBG/NBD) and 1 + 5e-7 (Pareto/NBD)
    (
        MBGNBD,
        [0.0026270389887416003, 8212539.9553998755, 442885437.689564, 370429.1784402703],
        0,
        2.495782679842299e-09,
    ),
    (
        ParetoNBD,
        [9.693431306768405e-06, 5.109015299204295e-07, 253277724.75406817, 2.3005580893696666e-09],
        0,
        443.3599978005554,
    ),
    (
        BGNBD,
        [18690.133982944873, 0.004089940497896624, 2.8910513061616774, 2.722841599251637e-09],
        1,
        0.0003681111010796206,
    ),
]


@pytest.mark.parametrize(("cls", "params", "n", "t"), _FUZZ_EXCESS)
def test_probability_of_purchases_fuzz_cases_stay_below_one(
    cls: type[MLEModel], params: list[float], n: int, t: float
) -> None:
    m = cls.from_params(**dict(zip(cls._param_names, params, strict=True)))
    p = float(m.probability_of_purchases(n, t))  # type: ignore[attr-defined]
    assert 0.0 <= p <= 1.0
    assert p == pytest.approx(1.0, abs=1e-6)


def test_mbgnbd_zero_purchases_matches_the_closed_form() -> None:
    r, alpha, a, b = 0.0026270389887416003, 8212539.9553998755, 442885437.689564, 370429.17
    m = MBGNBD.from_params(r=r, alpha=alpha, a=a, b=b)
    t = np.array([1e-9, 1.0, 1e3, 1e9])
    want = 1.0 - b / (a + b) * -np.expm1(-r * np.log1p(t / alpha))
    np.testing.assert_allclose(m.probability_of_purchases(0, t), want, rtol=1e-14)


_positive = st.floats(1e-8, 1e8)


@settings(max_examples=200, deadline=None)
@given(
    cls=st.sampled_from([BGNBD, MBGNBD, ParetoNBD]),
    params=st.tuples(_positive, _positive, _positive, _positive),
    n=st.integers(0, 5),
    t=st.one_of(st.just(0.0), st.floats(1e-9, 1e7)),
)
def test_probability_of_purchases_is_within_0_and_1(
    cls: type[MLEModel], params: tuple[float, ...], n: int, t: float
) -> None:
    m = cls.from_params(**dict(zip(cls._param_names, params, strict=True)))
    p = float(m.probability_of_purchases(n, t))  # type: ignore[attr-defined]
    assert 0.0 <= p <= 1.0


def test_nulls_in_prediction_inputs_and_compat_arguments() -> None:
    m = BGNBD.from_params(**PARAMS[BGNBD])
    with pytest.raises(DataError, match=r"'frequency' is missing \(null\) in 1 row"):
        m.probability_alive(pl.Series([1, None]), [0.5, 0.0], [2.0, 2.0])
    with pytest.raises(DataError, match=r"'frequency' is missing \(null\)"):
        m.probability_alive(pd.Series([1.0, None], dtype="Float64"), [0.5, 0.0], [2.0, 2.0])
    with pytest.raises(DataError, match=r"'frequency' is not finite \(NaN or inf\)"):
        m.probability_alive(pd.Series([1.0, np.nan]), [0.5, 0.0], [2.0, 2.0])
    f, r, t = [1, 2], [1.0, 2.0], [5.0, 5.0]
    with pytest.raises(ArgumentError, match="penalizer_coef must be a finite number >= 0"):
        C.BetaGeoFitter(penalizer_coef=10**400).fit(f, r, t)
    with pytest.raises(ArgumentError, match="maxiter must be a whole number >= 1"):
        C.BetaGeoFitter().fit(f, r, t, maxiter=0)
    with pytest.raises(ArgumentError, match="penalizer_coef must be a finite number >= 0"):
        C.BetaGeoBetaBinomFitter(penalizer_coef=10**400).fit([1, 1], [1, 1], [2, 2])
    with pytest.raises(ArgumentError, match="penalizer_coef must be a finite number >= 0"):
        C.GammaGammaFitter(penalizer_coef=-1).fit([1, 2], [10.0, 20.0])
