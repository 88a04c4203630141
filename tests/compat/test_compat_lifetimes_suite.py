"""Behaviour of crmmodels.compat.lifetimes that lifetimes' own suite relies on.

Private helpers (``_find_first_transactions``, ``_check_inputs``, ``_scale_time``,
``_negative_log_likelihood``, ``_log_A_0``, ``_scale``), hourly summaries, the bundled
``CDNOW_sample.txt``, predictions on frequency-0 rows with recency > 0, lifetimes'
``save_model`` placeholders and the plots' layout. Values are compared with the real
``lifetimes`` package (test-only reference) on our own inputs.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import crmmodels.compat.lifetimes as C
from crmmodels.compat.lifetimes import datasets as CD
from crmmodels.compat.lifetimes import plotting as CP
from crmmodels.compat.lifetimes import utils as CU
from crmmodels.errors import DataError, NotFittedError

lifetimes = pytest.importorskip("lifetimes")
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import lifetimes.datasets as LD
    import lifetimes.utils as LU

TX = pd.DataFrame(
    {
        "id": [7, 7, 7, 8, 9, 9, 9],
        "date": [
            "2021-03-01 09:10",
            "2021-03-01 09:40",
            "2021-03-03 20:05",
            "2021-03-02 11:00",
            "2021-03-01 23:59",
            "2021-03-02 00:01",
            "2021-03-08 06:30",
        ],
        "value": [3, 4, 5, 6, 1, 2, 9],
    }
)


def _quiet(fn: Any, *args: Any, **kwargs: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


@pytest.mark.parametrize("freq", ["D", "W", "h"])
@pytest.mark.parametrize("value_col", [None, "value"])
def test_find_first_transactions_as_lifetimes(freq: str, value_col: str | None) -> None:
    args = (TX, "id", "date", value_col)
    kwargs = {"observation_period_end": "2021-03-08 06:00", "freq": freq}
    ours = CU._find_first_transactions(*args, **kwargs)
    theirs = _quiet(LU._find_first_transactions, *args, **kwargs)
    pd.testing.assert_frame_equal(ours, theirs)
    assert TX["date"].iloc[0] == "2021-03-01 09:10"  # the caller's frame is untouched


@pytest.mark.parametrize("value_col", [None, "value"])
def test_hourly_summary_as_lifetimes(value_col: str | None) -> None:
    kwargs = {"monetary_value_col": value_col, "freq": "h"}
    end = {"observation_period_end": "2021-03-09"}
    ours = CU.summary_data_from_transaction_data(TX, "id", "date", **kwargs, **end)
    theirs = _quiet(LU.summary_data_from_transaction_data, TX, "id", "date", **kwargs, **end)
    pd.testing.assert_frame_equal(ours, theirs.astype(float), check_dtype=False)
    assert ours.loc[7].tolist()[:3] == [1.0, 59.0, 183.0]


def test_compact_text_dates_and_integer_dates_are_read_with_the_format() -> None:
    tx = pd.DataFrame({"id": [1, 1], "date": [20150101, 20150111]})
    ours = CU.summary_data_from_transaction_data(
        tx, "id", "date", datetime_format="%Y%m%d", observation_period_end="20150120"
    )
    assert ours.loc[1].tolist() == [1.0, 10.0, 19.0]
    iso = tx.assign(date=["2015-01-01", "2015-01-11"])
    plain = CU.summary_data_from_transaction_data(
        iso, "id", "date", observation_period_end="2015-1-20"
    )
    assert plain.loc[1].tolist() == [1.0, 10.0, 19.0]


def test_no_data_before_the_end_names_the_problem() -> None:
    with pytest.raises(DataError, match="There is no data available"):
        CU.calibration_and_holdout_data(TX, "id", "date", "2020-01-01", "2020-02-01")


def test_check_inputs_and_scale_time() -> None:
    x, tx, t = np.array([0, 1, 2]), np.array([0.0, 1.0, 10.0]), np.array([5.0, 6.0, 15.0])
    assert CU._check_inputs(x, tx, t, np.array([1.0, 2.0, 3.0])) is None
    for bad in ((x, t + 1, t), (x, np.array([1.0, 1.0, 10.0]), t), (x + 0.5, tx, t)):
        with pytest.raises(ValueError):
            CU._check_inputs(*bad)
    with pytest.raises(ValueError, match="monetary_value"):
        CU._check_inputs(x, tx, t, np.array([0.0, 2.0, 3.0]))
    assert CU._scale_time(np.arange(200.0)) == 1.0 / 199


def test_cdnow_sample_file_equals_lifetimes() -> None:
    kwargs = {"header": None, "sep": r"\s+"}
    ours = CD.load_dataset("CDNOW_sample.txt", **kwargs)
    theirs = _quiet(LD.load_dataset, "CDNOW_sample.txt", **kwargs)
    pd.testing.assert_frame_equal(ours, theirs)


PARAMS = np.log([0.5, 4.0, 0.8, 2.5])
ROWS = (np.array([0, 2, 5]), np.array([0.0, 0.4, 0.9]), np.array([1.0, 0.8, 1.0]))


@pytest.mark.parametrize("name", ["BetaGeoFitter", "ModifiedBetaGeoFitter"])
def test_negative_log_likelihood_as_lifetimes(name: str) -> None:
    w = np.array([1.0, 3.0, 2.0])
    ours = getattr(C, name)._negative_log_likelihood(PARAMS, *ROWS, w, 0.1)
    theirs = _quiet(getattr(lifetimes, name)._negative_log_likelihood, PARAMS, *ROWS, w, 0.1)
    assert ours == pytest.approx(theirs, rel=1e-10)


def test_pareto_objective_and_log_a0_as_lifetimes() -> None:
    natural = np.exp(PARAMS)
    w = np.array([1.0, 3.0, 2.0])
    ours = C.ParetoNBDFitter._negative_log_likelihood(natural, *ROWS, w, 0.1)
    theirs = _quiet(lifetimes.ParetoNBDFitter._negative_log_likelihood, natural, *ROWS, w, 0.1)
    assert ours == pytest.approx(theirs, rel=1e-9)
    assert C.ParetoNBDFitter._negative_log_likelihood(-natural, *ROWS, w, 0.0) == np.inf
    x, tx, t = np.array([1.0, 3.0]), np.array([0.5, 0.2]), np.array([1.0, 0.9])
    ours_a0 = C.ParetoNBDFitter._log_A_0(natural, x, tx, t)
    theirs_a0 = _quiet(lifetimes.ParetoNBDFitter._log_A_0, natural, x, tx, t)
    np.testing.assert_allclose(ours_a0, theirs_a0, rtol=1e-8)
    big = C.ParetoNBDFitter._log_A_0([10.465, 7.98e-3, 3.05, 2.82], 400.0, 5.0, 6.0)
    assert np.isfinite(big) and big < 0


def test_fit_sets_scale_and_objective() -> None:
    d = CD.load_cdnow_summary()
    ours = C.BetaGeoFitter().fit(d["frequency"], d["recency"], d["T"])
    theirs = _quiet(lifetimes.BetaGeoFitter().fit, d["frequency"], d["recency"], d["T"])
    assert ours._scale == theirs._scale
    assert ours._negative_log_likelihood_ == pytest.approx(
        theirs._negative_log_likelihood_, rel=1e-6
    )


def test_predictions_accept_frequency_zero_with_recency_but_fit_does_not() -> None:
    params = {"r": 0.55, "alpha": 10.58, "s": 0.61, "beta": 11.67}
    ours, theirs = C.ParetoNBDFitter(), lifetimes.ParetoNBDFitter()
    ours.params_ = theirs.params_ = pd.Series(params)
    got = ours.conditional_probability_alive(0, 10.0, 30.0)
    assert got == pytest.approx(theirs.conditional_probability_alive(0, 10.0, 30.0), rel=1e-8)
    bg = C.BetaGeoFitter()
    bg.params_ = pd.Series({"r": 0.24, "alpha": 4.41, "a": 0.79, "b": 2.43})
    assert bg.conditional_probability_alive(0, 1, 1) == 1.0
    with pytest.raises(ValueError, match="recency"):
        C.BetaGeoFitter().fit(np.array([0, 1]), np.array([3.0, 4.0]), np.array([10.0, 10.0]))


def test_base_fitter_repr_unload_and_unfitted_save(tmp_path: Path) -> None:
    base = C.BaseFitter()
    with pytest.raises(ValueError):
        base._unload_params()
    with pytest.raises(NotFittedError):
        base._unload_params("x")
    base.save_model(tmp_path / "base.json")
    loaded = C.BaseFitter()
    loaded.load_model(tmp_path / "base.json")
    assert repr(loaded) == repr(base) == "<lifetimes.BaseFitter>"
    base.params_ = pd.Series({"x": 12.3, "y": 42.0})
    base.data = None  # type: ignore[assignment]
    assert repr(base) == "<lifetimes.BaseFitter: x: 12.30, y: 42.00>"


def test_save_model_placeholders(tmp_path: Path) -> None:
    d = CD.load_cdnow_summary()
    bgf = C.BetaGeoFitter().fit(d["frequency"], d["recency"], d["T"])
    path = tmp_path / "m.json"
    bgf.save_model(path, save_data=False, save_generate_data_method=False, values_to_save=["", 0])
    new = C.BetaGeoFitter()
    new.load_model(path)
    assert new.__dict__["data"] == "" and new.__dict__["generate_new_data"] == 0
    assert new._scale == bgf._scale
    assert new.predict(1, 1, 2, 5) == bgf.predict(1, 1, 2, 5)
    with pytest.raises(DataError, match="values_to_save"):
        bgf.save_model(path, save_data=False, values_to_save=[object()])


def test_period_transactions_plot_layout() -> None:
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    d = CD.load_cdnow_summary()
    bgf = C.BetaGeoFitter().fit(d["frequency"], d["recency"], d["T"])
    ax = CP.plot_period_transactions(bgf, max_frequency=5, label=["A", "B"])
    heights = [p.get_height() for p in ax.patches]
    counts = d["frequency"].value_counts().sort_index().iloc[:5].tolist()
    assert heights[:5] == counts and len(heights) == 10
    assert [t.get_text() for t in ax.legend_.get_texts()] == ["A", "B"]
    # the model bars are expected counts: close to the actual ones on CDNOW
    np.testing.assert_allclose(heights[5:], counts, rtol=0.3)
    plt.close("all")
