"""Contractual retention models: bad survival series, bad arguments and invariants."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmmodels.errors import ArgumentError, BoundaryWarning, DataError, SchemaError
from crmmodels.kernels import contractual as kc
from crmmodels.retention import BetaDiscreteWeibull, ShiftedBetaGeometric

from _engines import to_engine

GOOD = [1000, 631, 468, 382, 326]


@pytest.mark.parametrize(
    ("survivors", "match"),
    [
        ([1000, 631, 640, 382], r"increases .* 1 row .*'cohort 0, period 2: 640 after 631'"),
        ([0, 0, 0], r"starts at zero .*'cohort 0, period 0'.*cohort size"),
        ([1000, 631, -5], r"is negative .*'cohort 0, period 2: -5'"),
        ([1000, 631.5, 468], r"not a whole number .*'cohort 0, period 1: 631.5'.*shares"),
        ([1000, np.nan, 468], r"missing \(NaN\) inside .*'cohort 0, period 1'"),
        ([1000], r"no cohort observed for two or more periods"),
        ([1000, 1000, 1000], r"loses no customer"),
        ([], r"no cohort observed|empty"),
        (
            {"2024": GOOD, "2025": [500, 510, 400, 420]},
            r"increases .* 2 rows .*cohort 2025, period 1",
        ),
        ([[1000, 600], [900, 500]], r"one series per cohort.*dict"),
        (["a", "b"], r"must hold numbers"),
    ],
)
def test_bad_series_get_a_data_error_naming_the_period(survivors: object, match: str) -> None:
    with pytest.raises(DataError, match=match):
        ShiftedBetaGeometric().fit(survivors)


def test_trailing_missing_periods_end_a_cohort() -> None:
    wide = {"a": [1000, 631, 468, np.nan, np.nan], "b": [800, 500, 380, 300, 260]}
    model = ShiftedBetaGeometric().fit(wide)
    assert [s.size for s in model.data_.survivors] == [3, 5]


def long_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "cohort": ["a"] * 4 + ["b"] * 3,
            "periods_since": [0, 1, 2, 3, 0, 1, 2],
            "active": [1000, 631, 468, 382, 800, 500, 380],
        }
    )


@pytest.mark.parametrize("engine", ["pandas", "polars", "polars_lazy", "pyarrow", "duckdb"])
def test_a_long_frame_on_any_engine_gives_the_same_fit(engine: str) -> None:
    reference = ShiftedBetaGeometric().fit({"a": [1000, 631, 468, 382], "b": [800, 500, 380]})
    model = ShiftedBetaGeometric().fit(to_engine(long_frame(), engine))
    assert model.data_.cohorts == ("a", "b")
    assert model.params_ == pytest.approx(reference.params_, rel=1e-12)


def test_long_frame_errors_name_the_column_and_the_fix() -> None:
    frame = long_frame()
    with pytest.raises(SchemaError, match="no column 'customers'"):
        ShiftedBetaGeometric().fit(frame, active_col="customers")
    gap = frame.drop(index=2)
    with pytest.raises(DataError, match=r"skips a period .*cohort a, period 2"):
        ShiftedBetaGeometric().fit(gap)
    twice = pd.concat([frame, frame.iloc[[1]]])
    with pytest.raises(DataError, match=r"repeats a cohort and period .*cohort a, period 1"):
        ShiftedBetaGeometric().fit(twice)
    fraction = frame.assign(periods_since=[0, 1, 2, 3.5, 0, 1, 2])
    with pytest.raises(DataError, match=r"'periods_since' is not a whole number"):
        ShiftedBetaGeometric().fit(fraction)
    rising = frame.assign(active=[1000, 631, 700, 382, 800, 500, 380])
    with pytest.raises(DataError, match=r"column 'active' increases .*cohort a, period 2"):
        ShiftedBetaGeometric().fit(rising)
    renamed = frame.rename(columns={"cohort": "start", "active": "subscribers"})
    model = ShiftedBetaGeometric().fit(renamed, cohort_col="start", active_col="subscribers")
    assert model.data_.cohorts == ("a", "b")


def test_bad_arguments_are_argument_errors() -> None:
    model = ShiftedBetaGeometric().fit(GOOD)
    with pytest.raises(ArgumentError, match="discount_rate must be a finite number > 0"):
        model.expected_residual_lifetime(0.0)
    with pytest.raises(ArgumentError, match="renewals must hold whole numbers"):
        model.expected_residual_lifetime(0.1, renewals=1.5)
    with pytest.raises(ArgumentError, match="t must hold whole numbers of periods >= 1"):
        model.retention_rate(0)
    with pytest.raises(ArgumentError, match="horizon"):
        model.project(0)
    with pytest.raises(ArgumentError, match="margin"):
        model.subscriber_clv(10.0, discount_rate=0.1, margin=-1)
    with pytest.raises(ArgumentError, match="time_unit"):
        ShiftedBetaGeometric().fit(GOOD, time_unit="fortnight")
    with pytest.raises(ArgumentError, match="unknown hyper-parameter"):
        ShiftedBetaGeometric().set_params(penalty=1)


def test_the_caller_data_is_not_changed() -> None:
    frame = long_frame()
    before = frame.copy()
    series = np.array(GOOD, dtype=float)
    ShiftedBetaGeometric().fit(frame)
    BetaDiscreteWeibull().fit(series)
    pd.testing.assert_frame_equal(frame, before)
    assert series.tolist() == GOOD


# ---------------------------------------------------------------------------------------
# invariants (hypothesis)
# ---------------------------------------------------------------------------------------

positive = st.floats(0.05, 20.0)
shape = st.floats(0.2, 3.0)


@given(alpha=positive, beta=positive, c=shape)
def test_survival_never_increases_and_retention_is_a_probability(
    alpha: float, beta: float, c: float
) -> None:
    t = np.arange(0, 60, dtype=float)
    s = np.exp(kc.log_survival(alpha, beta, c, t))
    assert s[0] == 1.0
    assert np.all(np.diff(s) <= 1e-15)
    assert np.all((s >= 0) & (s <= 1))
    r = kc.retention_rate(alpha, beta, c, t[1:])
    assert np.all((r >= 0) & (r <= 1))
    sbg_r = kc.sbg_retention_rate(alpha, beta, t[1:])
    assert np.all((sbg_r >= 0) & (sbg_r <= 1)) and np.all(np.diff(sbg_r) >= 0)


@given(alpha=positive, beta=positive, c=shape, d=st.floats(0.01, 0.5))
def test_derl_lies_between_one_payment_and_an_undying_customer(
    alpha: float, beta: float, c: float, d: float
) -> None:
    derl = kc.bdw_derl(alpha, beta, c, d, [0, 5])
    # at least the next payment times its renewal probability, at most (1 + d) / d
    r = kc.retention_rate(alpha, beta, c, np.array([1.0, 6.0]))
    assert np.all(derl >= r * (1 - 1e-12))
    assert np.all(derl <= (1 + d) / d * (1 + 1e-12))


@given(
    drops=st.lists(st.integers(0, 300), min_size=1, max_size=8).filter(lambda x: sum(x) > 0),
    extra=st.integers(1, 500),
)
def test_fitted_models_project_valid_curves(drops: list[int], extra: int) -> None:
    start = sum(drops) + extra
    series = np.concatenate([[start], start - np.cumsum(drops)]).tolist()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BoundaryWarning)  # homogeneous draws end at the limit
        model = ShiftedBetaGeometric().fit(series)
    s = model.survival(np.arange(30))
    assert np.all(np.diff(s) <= 1e-15) and s[0] == 1.0
    r = model.retention_rate(np.arange(1, 30))
    assert np.all((r >= 0) & (r <= 1))


def test_a_homogeneous_cohort_ends_at_the_geometric_limit_with_a_warning() -> None:
    series = [1600, 800, 400, 200, 100]  # every customer churns with probability 1/2
    with pytest.warns(BoundaryWarning, match="single churn probability of 0.5000"):
        model = ShiftedBetaGeometric().fit(series)
    np.testing.assert_allclose(model.retention_rate([1, 2, 5]), 0.5, atol=1e-4)
    np.testing.assert_allclose(model.survival([3]), 0.125, atol=1e-4)
    assert float(model.expected_residual_lifetime(0.1)) == pytest.approx(
        0.5 / (1 - 0.5 / 1.1), rel=1e-3
    )
