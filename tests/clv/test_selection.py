"""crmmodels.clv.select_model and ModelSelectionResult (clv/_selection*.py).

The references: each candidate's calibration fit is checked against the same model
fitted directly on :func:`crmmodels.transactions.calibration_holdout`'s calibration
summary, the holdout metrics against that table, and the refit against a fit on
:func:`crmmodels.summarize_transactions` of the whole log (parts agree with the whole).
"""

from __future__ import annotations

import json
import math
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmmodels.clv import (
    BGBB,
    BGNBD,
    MBGNBD,
    ModelSelectionResult,
    ParetoNBD,
    select_model,
)
from crmmodels.clv import _selection as selection
from crmmodels.datasets import load_cdnow, simulate_transactions
from crmmodels.errors import ArgumentError, ConvergenceError, DataError
from crmmodels.transactions import calibration_holdout, summarize_transactions

matplotlib.use("Agg")

CLASSES: dict[str, Any] = {
    "BGNBD": BGNBD,
    "MBGNBD": MBGNBD,
    "ParetoNBD": ParetoNBD,
    "BGBB": BGBB,
}
COLUMNS = [
    "model",
    "status",
    "n_params",
    "log_likelihood",
    "aic",
    "bic",
    "mae",
    "rmse",
    "curve_mape",
    "curve_end_error",
    "chosen",
]


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    return load_cdnow()


@pytest.fixture(scope="module")
def cdnow_result(cdnow: pd.DataFrame) -> ModelSelectionResult:
    return select_model(cdnow)


@pytest.fixture(scope="module")
def small_log() -> pd.DataFrame:
    return simulate_transactions(400, model="paretonbd", seed=5, observation_weeks=60)


def _simulate_discrete(n: int, seed: int, n_months: int = 24) -> pd.DataFrame:
    """A BG/BB monthly billing log: one billing day per month, staggered entry cohorts."""
    rng = np.random.default_rng(seed)
    p = rng.beta(1.2, 0.75, n)
    theta = rng.beta(0.66, 2.8, n)
    first = rng.integers(0, 6, n)
    alive = np.ones(n, dtype=bool)
    cust, month = [np.arange(n)], [first]
    for j in range(1, n_months):  # a loop over opportunities, vectorised over customers
        started = first < j
        alive &= ~started | (rng.random(n) >= theta)
        buy = started & alive & (rng.random(n) < p)
        cust.append(np.flatnonzero(buy))
        month.append(np.full(int(buy.sum()), j))
    c, m = np.concatenate(cust), np.concatenate(month)
    day = (np.datetime64("2020-01", "M") + m).astype("datetime64[D]") + np.timedelta64(4, "D")
    return pd.DataFrame({"customer_id": c + 1, "date": pd.to_datetime(day)})


@pytest.fixture(scope="module")
def discrete_log() -> pd.DataFrame:
    return _simulate_discrete(2000, seed=3)


# ----------------------------------------------------------------------------- CDNOW
def test_cdnow_table_sanity(cdnow_result: ModelSelectionResult) -> None:
    res = cdnow_result
    table = res.to_frame()
    assert list(table.columns) == COLUMNS
    assert list(table["model"]) == ["BGNBD", "MBGNBD", "ParetoNBD"]
    assert (table["status"] == "converged").all()
    assert (table["n_params"] == 4).all()
    for col in ("mae", "rmse", "curve_mape"):
        assert (table[col] > 0).all() and np.isfinite(table[col]).all()
    assert (table["rmse"] >= table["mae"]).all()  # RMSE >= MAE always
    assert np.allclose(table["aic"], 2 * 4 - 2 * table["log_likelihood"])
    assert table["chosen"].sum() == 1
    best = table.loc[table["rmse"].idxmin(), "model"]
    assert res.chosen == best == table.loc[table["chosen"], "model"].item()
    assert res.criterion == "rmse"
    assert res.reason.startswith(f"{best}: lowest holdout RMSE per customer (")
    # the default rule: 78 whole weeks, the last 26 are the holdout
    assert res.holdout == 26.0
    assert res.calibration_end == pd.Timestamp("1997-12-30")
    assert res.observation_end == pd.Timestamp("1998-06-30")
    assert "last third of the 78 whole weeks" in res.holdout_rule
    assert res.time_unit == "W" and res.discrete is False
    assert res.n_customers == 23570 and res.n_new_in_holdout == 0
    assert set(res.models) == {"BGNBD", "MBGNBD", "ParetoNBD"}


def test_calibration_fits_agree_with_calibration_holdout(
    cdnow: pd.DataFrame, cdnow_result: ModelSelectionResult
) -> None:
    res = cdnow_result
    ch = calibration_holdout(
        cdnow, calibration_end=res.calibration_end, period="D", time_unit="W"
    ).to_frame()
    cols = {"frequency_col": "frequency_cal", "recency_col": "recency_cal", "T_col": "T_cal"}
    table = res.to_frame().set_index("model")
    assert res.n_customers == len(ch)
    for name, fitted in res.models.items():
        direct = CLASSES[name]().fit(ch, **cols)
        assert fitted.params_ == direct.params_  # same data, same fit: exactly
        assert fitted.log_likelihood_ == direct.log_likelihood_
        expected = direct.conditional_expected_purchases(
            ch["duration_holdout"], ch["frequency_cal"], ch["recency_cal"], ch["T_cal"]
        )
        error = expected - ch["frequency_holdout"].to_numpy()
        assert table.loc[name, "mae"] == pytest.approx(np.mean(np.abs(error)), rel=1e-12)
        assert table.loc[name, "rmse"] == pytest.approx(np.sqrt(np.mean(error**2)), rel=1e-12)


def test_refit_on_the_whole_period(
    cdnow: pd.DataFrame, cdnow_result: ModelSelectionResult, tmp_path: Any
) -> None:
    res = cdnow_result
    summary = summarize_transactions(cdnow, period="D", time_unit="W")
    direct = CLASSES[res.chosen]().fit(summary)
    assert res.model.params_ == direct.params_
    assert res.model.time_unit_ == "W"
    assert res.model.columns_["customer"] == "customer_id"
    path = tmp_path / "model.json"
    res.model.save(path)
    loaded = type(res.model).load(path)
    assert loaded.params_ == res.model.params_ and loaded.time_unit_ == "W"


def test_tracking_frame(cdnow: pd.DataFrame, cdnow_result: ModelSelectionResult) -> None:
    tr = cdnow_result.tracking
    assert list(tr.columns) == ["date", "time", "holdout", "actual", "BGNBD", "MBGNBD", "ParetoNBD"]
    assert len(tr) == 78 and int(tr["holdout"].sum()) == 26
    assert tr["time"].tolist() == list(range(1, 79))
    assert tr.loc[~tr["holdout"], "date"].iloc[-1] == cdnow_result.calibration_end
    assert tr["date"].iloc[-1] == pd.Timestamp("1998-06-30")
    summary = summarize_transactions(cdnow, period="D", time_unit="W")
    assert tr["actual"].iloc[-1] == summary["frequency"].sum()  # every repeat purchase
    assert (np.diff(tr["actual"]) >= 0).all()
    # the curve errors are those of the table, from the holdout-only cumulative curves
    hold = tr["holdout"].to_numpy()
    base = tr.loc[~hold].iloc[-1]
    table = cdnow_result.to_frame().set_index("model")
    for name in ("BGNBD", "ParetoNBD"):
        actual = tr.loc[hold, "actual"] - base["actual"]
        expected = tr.loc[hold, name] - base[name]
        mape = float(np.mean(np.abs(expected - actual) / actual))
        assert table.loc[name, "curve_mape"] == pytest.approx(mape, rel=1e-12)
        end = (expected.iloc[-1] - actual.iloc[-1]) / actual.iloc[-1]
        assert table.loc[name, "curve_end_error"] == pytest.approx(end, rel=1e-12)


def test_expected_curve_counts_ages_like_the_summary() -> None:
    """One cohort: the expectation at the end of week k is E[X(k - 1)] of a new customer."""
    tx = pd.DataFrame(
        {
            "customer_id": np.repeat(np.arange(1, 201), 2),
            "date": pd.to_datetime("2024-01-01")
            + pd.to_timedelta(np.tile([0, 35], 200) + np.repeat(np.arange(200) % 3, 2) * 7, "D"),
        }
    )
    res = select_model(
        tx, observation_end="2024-04-28", candidates=["BGNBD"], holdout=4, discrete=False
    )
    tr = res.tracking
    model = res.models["BGNBD"]
    cohorts = np.array([67.0, 67.0, 66.0])
    for _, row in tr.iterrows():
        days = (row["date"] - pd.Timestamp("2024-01-01")).days  # end of the row, from day 0
        ages = np.maximum(days - 7 * np.arange(3), 0) / 7.0
        assert row["BGNBD"] == pytest.approx(float(cohorts @ model.expected_purchases(ages)))


# -------------------------------------------------------------------- the choice
def test_forced_model(cdnow_result: ModelSelectionResult, cdnow: pd.DataFrame) -> None:
    other = cdnow_result.to_frame().query("not chosen")["model"].iloc[0]
    res = select_model(cdnow, model=other)
    assert res.chosen == other and type(res.model).__name__ == other
    assert len(res.to_frame()) == 3
    assert f"chosen by the caller (model={other!r})" in res.reason
    assert f"by rmse the best is {cdnow_result.chosen}" in res.reason


@pytest.mark.parametrize("criterion", ["mae", "curve", "curve_end", "loglik", "aic", "bic"])
def test_other_criteria(small_log: pd.DataFrame, criterion: str) -> None:
    res = select_model(small_log, criterion=criterion)
    table = res.to_frame().set_index("model")
    column = {"curve": "curve_mape", "curve_end": "curve_end_error", "loglik": "log_likelihood"}
    values = table[column.get(criterion, criterion)]
    if criterion == "curve_end":
        values = values.abs()
    best = values.idxmax() if criterion == "loglik" else values.idxmin()
    assert res.chosen == best and res.criterion == criterion


def test_candidates_subset(small_log: pd.DataFrame) -> None:
    res = select_model(small_log, candidates=["ParetoNBD", "BGNBD"])
    assert list(res.to_frame()["model"]) == ["ParetoNBD", "BGNBD"]
    assert set(res.models) == {"ParetoNBD", "BGNBD"}
    assert res.chosen in ("ParetoNBD", "BGNBD")
    one = select_model(small_log, candidates="MBGNBD")
    assert one.chosen == "MBGNBD" and one.reason.startswith("MBGNBD: lowest holdout RMSE")


def test_ties_go_to_fewer_parameters_then_order() -> None:
    table = pd.DataFrame(
        {
            "model": ["BGNBD", "MBGNBD", "ParetoNBD"],
            "status": ["converged", "boundary: b grew", "converged"],
            "n_params": [4, 3, 4],
            "rmse": [1.0, 1.0, 0.9999999999999],
        }
    )
    assert selection._choose(table, "rmse", list(table["model"])) == "MBGNBD"
    table["n_params"] = 4
    assert selection._choose(table, "rmse", ["ParetoNBD", "BGNBD", "MBGNBD"]) == "ParetoNBD"
    table["rmse"] = [1.0, 0.9, 0.95]
    assert selection._choose(table, "rmse", list(table["model"])) == "MBGNBD"


class _Failing(BGNBD):
    def fit(self, *args: Any, **kwargs: Any) -> Any:
        raise ConvergenceError("BGNBD fit did not converge: made up for the test.", {})


def test_a_failed_candidate_stays_in_the_table(
    small_log: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(selection.CANDIDATES, "BGNBD", _Failing)
    res = select_model(small_log)
    table = res.to_frame().set_index("model")
    assert table.loc["BGNBD", "status"].startswith("failed: BGNBD fit did not converge")
    assert math.isnan(table.loc["BGNBD", "rmse"]) and not table.loc["BGNBD", "chosen"]
    assert res.chosen != "BGNBD" and "BGNBD" not in res.models
    assert "BGNBD" not in res.tracking.columns
    assert "BGNBD" not in [line.get_label() for line in res.plot().get_lines()]


def test_all_candidates_failing_raise(
    small_log: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(selection.CANDIDATES, "BGNBD", _Failing)
    with pytest.raises(ConvergenceError, match="no candidate could be fitted"):
        select_model(small_log, candidates=["BGNBD"])


def test_a_boundary_fit_is_named_in_words() -> None:
    # nobody drops out: BG/NBD and Pareto/NBD run to their no-dropout limit
    rng = np.random.default_rng(0)
    n = 300
    lam = rng.gamma(2.0, 1.0 / 20.0, n)  # purchases per day
    rows = [(i, t) for i in range(n) for t in np.cumsum(rng.exponential(1 / lam[i], 40))]
    frame = pd.DataFrame(rows, columns=["customer_id", "t"]).query("t < 499")
    tx = pd.DataFrame(
        {
            "customer_id": frame["customer_id"],
            "date": pd.Timestamp("2020-01-01") + pd.to_timedelta(frame["t"].round(), "D"),
        }
    )
    tx = pd.concat(
        [tx, pd.DataFrame({"customer_id": np.arange(n), "date": pd.Timestamp("2020-01-01")})]
    )
    res = select_model(tx, observation_end="2021-05-14", candidates=["BGNBD"])
    status = res.to_frame().set_index("model")["status"]
    bounded = [s for s in status if s.startswith("boundary: ")]
    assert bounded, status.to_dict()
    assert all(len(s) > len("boundary: ") + 10 for s in bounded)


# ------------------------------------------------------------------ discrete data
def test_discrete_log_adds_bgbb(discrete_log: pd.DataFrame) -> None:
    res = select_model(discrete_log, time_unit="M")
    assert res.discrete is True
    table = res.to_frame()
    assert list(table["model"]) == ["BGNBD", "MBGNBD", "ParetoNBD", "BGBB"]
    assert (~table["status"].str.startswith("failed")).all()
    # BG/BB on the month grid agrees with a fit on calibration_holdout's summary
    ch = calibration_holdout(
        discrete_log, calibration_end=res.calibration_end, period="M"
    ).to_frame()
    direct = BGBB().fit(
        ch, frequency_col="frequency_cal", recency_col="recency_cal", n_periods_col="T_cal"
    )
    assert res.models["BGBB"].params_ == direct.params_
    expected = direct.conditional_expected_purchases(
        ch["duration_holdout"], ch["frequency_cal"], ch["recency_cal"], ch["T_cal"]
    )
    mae = np.mean(np.abs(expected - ch["frequency_holdout"]))
    assert table.set_index("model").loc["BGBB", "mae"] == pytest.approx(mae, rel=1e-12)
    # 24 months from the first billing day: 8 months of holdout
    assert res.holdout == 8.0 and "24 whole months" in res.holdout_rule


def test_discrete_detection(discrete_log: pd.DataFrame, small_log: pd.DataFrame) -> None:
    assert select_model(small_log).discrete is False
    # two billing days in one month make the log continuous for months
    extra = pd.DataFrame({"customer_id": [1], "date": [pd.Timestamp("2020-03-20")]})
    mixed = pd.concat([discrete_log, extra], ignore_index=True)
    res = select_model(mixed, time_unit="M")
    assert res.discrete is False and "BGBB" not in set(res.to_frame()["model"])
    forced = select_model(mixed, time_unit="M", discrete=True)
    assert forced.discrete is True and "BGBB" in set(forced.to_frame()["model"])
    off = select_model(discrete_log, time_unit="M", discrete=False)
    assert off.discrete is False and len(off.to_frame()) == 3
    with pytest.raises(ArgumentError, match="BGBB needs discrete"):
        select_model(small_log, candidates=["BGBB"])


def test_likelihood_criteria_do_not_mix_bgbb(discrete_log: pd.DataFrame) -> None:
    with pytest.raises(ArgumentError, match="do not share"):
        select_model(discrete_log, time_unit="M", criterion="bic")
    res = select_model(discrete_log, time_unit="M", criterion="bic", candidates=["BGBB"])
    assert res.chosen == "BGBB"


# --------------------------------------------------------------------- bad input
@pytest.mark.parametrize("holdout", [0, -3, 2.5, 78, 200])
def test_bad_holdout(cdnow: pd.DataFrame, holdout: float) -> None:
    with pytest.raises(DataError, match="holdout") as err:
        select_model(cdnow, holdout=holdout)
    assert "78 whole weeks" in str(err.value)


@pytest.mark.parametrize("date", ["1996-12-01", "1998-06-30", "1999-01-01"])
def test_bad_calibration_end(cdnow: pd.DataFrame, date: str) -> None:
    with pytest.raises(DataError, match="calibration_end must fall between"):
        select_model(cdnow, calibration_end=date)


def test_calibration_end_and_holdout_are_one_choice(cdnow: pd.DataFrame) -> None:
    with pytest.raises(ArgumentError, match="not both"):
        select_model(cdnow, calibration_end="1997-09-30", holdout=10)
    res = select_model(cdnow, calibration_end="1997-09-30")
    assert res.holdout == pytest.approx(273 / 7) and "given by the caller" in res.holdout_rule
    tr = res.tracking
    assert tr.loc[~tr["holdout"], "date"].iloc[-1] == pd.Timestamp("1997-09-30")
    assert tr["date"].iloc[-1] == pd.Timestamp("1998-06-30")
    # 39 weeks back from 1998-06-30: the classic CDNOW split
    assert select_model(cdnow, holdout=39).calibration_end == pd.Timestamp("1997-09-30")


def test_too_short_log() -> None:
    tx = pd.DataFrame(
        {"customer_id": [1, 1, 2], "date": ["2024-01-01", "2024-01-09", "2024-01-02"]}
    )
    with pytest.raises(DataError, match="default holdout"):
        select_model(tx)


def test_nobody_bought_twice() -> None:
    tx = pd.DataFrame(
        {"customer_id": np.arange(50), "date": pd.date_range("2024-01-01", periods=50, freq="3D")}
    )
    with pytest.raises(DataError, match="no customer bought twice: all 50 customers"):
        select_model(tx)


def test_no_repeat_purchase_in_the_calibration_period() -> None:
    tx = pd.DataFrame(
        {
            "customer_id": [*range(30), 1, 2],
            "date": pd.to_datetime(
                [*pd.date_range("2024-01-01", periods=30, freq="D"), *["2024-12-01"] * 2]
            ),
        }
    )
    with pytest.raises(DataError, match=r"by calibration_end .* later calibration_end"):
        select_model(tx)


def test_bad_arguments(small_log: pd.DataFrame) -> None:
    with pytest.raises(ArgumentError, match="candidates"):
        select_model(small_log, candidates=["BGNBD", "Weibull"])
    with pytest.raises(ArgumentError, match="candidates"):
        select_model(small_log, candidates=[])
    with pytest.raises(ArgumentError, match="criterion"):
        select_model(small_log, criterion="r2")
    with pytest.raises(ArgumentError, match="not among the candidates"):
        select_model(small_log, model="ParetoNBD", candidates=["BGNBD"])
    with pytest.raises(ArgumentError, match="discrete"):
        select_model(small_log, discrete="yes")
    with pytest.raises(ArgumentError, match="time_unit"):
        select_model(small_log, time_unit="fortnight")


# ------------------------------------------------------------------ time units
def test_month_and_day_units(small_log: pd.DataFrame) -> None:
    months = select_model(small_log, time_unit="M")
    assert months.time_unit == "M" and months.model.time_unit_ == "M"
    assert (months.tracking["time"] == np.arange(1, len(months.tracking) + 1)).all()
    fortnights = select_model(small_log, time_unit=14)
    weeks = select_model(small_log)
    # the same day grid in another unit: the same customers and the same holdout days
    assert fortnights.n_customers == weeks.n_customers
    assert fortnights.holdout * 14 == pytest.approx(
        (fortnights.observation_end - fortnights.calibration_end).days
    )


# -------------------------------------------------------------------- invariants
@settings(max_examples=4, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_row_order_does_not_matter(small_log: pd.DataFrame, seed: int) -> None:
    shuffled = small_log.sample(frac=1.0, random_state=seed % (2**32 - 1))
    a = select_model(small_log, holdout=20).to_frame()
    b = select_model(shuffled, holdout=20).to_frame()
    pd.testing.assert_frame_equal(a, b)


@settings(max_examples=4, deadline=None)
@given(holdout=st.integers(3, 30))
def test_every_calibration_customer_counted_once(small_log: pd.DataFrame, holdout: int) -> None:
    res = select_model(small_log, holdout=holdout, candidates=["BGNBD"])
    first = small_log.groupby("customer_id")["date"].min().dt.normalize()
    assert res.n_customers == int((first <= res.calibration_end).sum())
    assert res.n_customers + res.n_new_in_holdout == small_log["customer_id"].nunique()
    assert res.models["BGNBD"].n_customers_ == res.n_customers


def test_does_not_touch_the_callers_frame(small_log: pd.DataFrame) -> None:
    before = small_log.copy()
    select_model(small_log, candidates=["BGNBD"])
    pd.testing.assert_frame_equal(small_log, before)


# ------------------------------------------------------------------- engines
def test_polars_and_duckdb_give_the_pandas_result(small_log: pd.DataFrame) -> None:
    pl = pytest.importorskip("polars")
    duckdb = pytest.importorskip("duckdb")
    base = select_model(small_log, holdout=20).to_frame()
    eager = pl.from_pandas(small_log)
    for frame in (eager, eager.lazy(), duckdb.from_df(small_log)):
        pd.testing.assert_frame_equal(select_model(frame, holdout=20).to_frame(), base)


# ---------------------------------------------------------------------- result
def test_result_repr_dict_and_plot(cdnow_result: ModelSelectionResult) -> None:
    text = repr(cdnow_result)
    assert text.startswith("ModelSelectionResult(chosen=")
    assert all(len(line) < 90 for line in text.splitlines())
    d = cdnow_result.to_dict()
    json.dumps(d)
    assert d["chosen"] == cdnow_result.chosen and d["calibration_end"] == "1997-12-30T00:00:00"
    ax = cdnow_result.plot()
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels == ["actual", "BGNBD", "MBGNBD", "ParetoNBD", "calibration end"]
    assert ax.get_lines()[-1].get_xdata()[0] == pytest.approx(
        matplotlib.dates.date2num(cdnow_result.calibration_end)
    )
    frame = cdnow_result.to_frame()
    frame.loc[0, "model"] = "changed"
    assert cdnow_result.to_frame().loc[0, "model"] == "BGNBD"
