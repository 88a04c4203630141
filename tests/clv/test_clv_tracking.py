"""crmmodels.clv.cumulative_transactions and alive_history (clv/_tracking.py).

The reference is lifetimes' ``expected_cumulative_transactions`` (test-only dependency)
at fixed parameters on a simulated CDNOW-like log, so the comparison tests the
computation, not an optimiser.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest

from crmmodels.clv import (
    BGNBD,
    AliveHistoryResult,
    CumulativeTransactionsResult,
    ParetoNBD,
    alive_history,
    cumulative_transactions,
)
from crmmodels.errors import ArgumentError, DataError
from crmmodels.transactions import summarize_transactions

PARAMS = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}  # CDNOW, weeks
BG_WEEKS = BGNBD.from_params(**PARAMS)


def _simulate(n: int = 400, seed: int = 3) -> pd.DataFrame:
    """A CDNOW-like log: first purchases spread over 12 weeks, BG/NBD repeat buying (days)."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("1997-01-01")
    end_day = 7 * 78
    rows: list[tuple[int, pd.Timestamp]] = []
    lam = rng.gamma(PARAMS["r"], 1.0 / PARAMS["alpha"], n) / 7.0  # per day
    p = rng.beta(PARAMS["a"], PARAMS["b"], n)
    first = rng.integers(0, 84, n)
    for i in range(n):  # a test fixture: the loop builds the data, it is not under test
        t = float(first[i])
        rows.append((i + 1, start + pd.Timedelta(days=int(t))))
        while True:
            t += rng.exponential(1.0 / lam[i])
            if t > end_day:
                break
            rows.append((i + 1, start + pd.Timedelta(days=int(t))))
            if rng.random() < p[i]:
                break
    return pd.DataFrame(rows, columns=["customer_id", "date"])


@pytest.fixture(scope="module")
def log() -> pd.DataFrame:
    return _simulate()


def _periods(tx: pd.DataFrame, freq: str) -> int:
    p = tx["date"].dt.to_period(freq)
    return int((p.max() - p.min()).n) + 1


@pytest.mark.parametrize(
    ("time_unit", "freq", "multiplier", "scale"),
    [(7, "D", 7, 1.0), ("W", "W", 1, 1.0), ("D", "D", 1, 7.0)],
    ids=["7-days", "weeks", "days"],
)
def test_equals_lifetimes(
    log: pd.DataFrame, time_unit: Any, freq: str, multiplier: int, scale: float
) -> None:
    # the same buying process in the time unit of the grid: r and alpha scale together
    params = {**PARAMS, "alpha": PARAMS["alpha"] * scale}
    model = BGNBD.from_params(**params)
    res = cumulative_transactions(model, log, time_unit=time_unit)
    ours = res.to_frame()
    t = _periods(log, freq)
    lifetimes = pytest.importorskip("lifetimes")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from lifetimes.utils import expected_cumulative_transactions

        ref_model = lifetimes.BetaGeoFitter()
        ref_model.params_ = pd.Series(params)
        ref = expected_cumulative_transactions(
            ref_model, log, "date", "customer_id", t, freq=freq, freq_multiplier=multiplier,
            set_index_date=True,
        )  # fmt: skip
    assert len(ours) == len(ref) == t // multiplier
    np.testing.assert_array_equal(ours["actual_cumulative"], ref["actual"].to_numpy(float))
    np.testing.assert_allclose(ours["expected_cumulative"], ref["predicted"], rtol=1e-8)
    # the rows end on the last day of lifetimes' period labels
    ends = pd.PeriodIndex(ref.index).end_time.normalize()
    assert list(ours["date"]) == list(ends)


@pytest.mark.parametrize(("time_unit", "freq"), [("M", "M"), ("Q", "Q-DEC"), ("Y", "Y-DEC")])
def test_calendar_units_by_direct_sums(log: pd.DataFrame, time_unit: str, freq: str) -> None:
    # lifetimes cannot run months under pandas 3 ('M' offsets); the definition by hand
    model = BGNBD.from_params(**{**PARAMS, "alpha": 1.0})
    res = cumulative_transactions(model, log, time_unit=time_unit).to_frame()
    per = log.assign(p=log["date"].dt.to_period(freq).map(lambda q: q.ordinal))
    per = per[["customer_id", "p"]].drop_duplicates()
    start = per["p"].min()
    first = per.groupby("customer_id")["p"].min() - start
    offsets = per["p"].to_numpy() - start
    expected, actual = [], []
    for i in range(1, per["p"].max() - start + 2):
        k = first.to_numpy()[first.to_numpy() < i]
        expected.append(float(np.sum(model.expected_purchases((i - k).astype(float)))))
        actual.append(float(np.sum(offsets < i) - len(k)))
    np.testing.assert_allclose(res["expected_cumulative"], expected, rtol=1e-10)
    np.testing.assert_array_equal(res["actual_cumulative"], actual)


def test_to_frame_columns_and_increments(log: pd.DataFrame) -> None:
    res = cumulative_transactions(BG_WEEKS, log, time_unit=7, calibration_end="1997-09-30")
    frame = res.to_frame()
    assert list(frame.columns) == [
        "time",
        "date",
        "actual_cumulative",
        "expected_cumulative",
        "actual_incremental",
        "expected_incremental",
    ]
    assert frame["time"].tolist() == list(range(1, len(frame) + 1))
    np.testing.assert_allclose(frame["actual_incremental"].cumsum(), frame["actual_cumulative"])
    np.testing.assert_allclose(frame["expected_incremental"].cumsum(), frame["expected_cumulative"])
    repeats = len(log.drop_duplicates()) - log["customer_id"].nunique()
    full_weeks = frame["date"].iloc[-1]
    counted = log.drop_duplicates()
    counted = counted[counted["date"] <= full_weeks]
    assert res.total_actual == len(counted) - counted["customer_id"].nunique() <= repeats
    assert res.n_customers == log["customer_id"].nunique()
    assert res.calibration_end == pd.Timestamp("1997-09-30")
    text = repr(res)
    assert text.startswith("CumulativeTransactionsResult(time_unit=7, rows=")
    frame.loc[0, "actual_cumulative"] = -1.0  # to_frame is a copy
    assert res.to_frame().loc[0, "actual_cumulative"] >= 0


def test_plot_returns_axes(log: pd.DataFrame) -> None:
    from matplotlib.axes import Axes

    res = cumulative_transactions(BG_WEEKS, log, time_unit="W", calibration_end="1997-09-30")
    ax = res.plot()
    assert isinstance(ax, Axes) and len(ax.get_lines()) == 3  # actual, model, calibration end
    np.testing.assert_allclose(ax.get_lines()[1].get_ydata(), res.to_frame()["expected_cumulative"])
    ax = res.plot(kind="incremental")
    assert isinstance(ax, Axes) and "per week" in ax.get_ylabel()
    with pytest.raises(ArgumentError, match="kind"):
        res.plot(kind="weekly")  # type: ignore[arg-type]


def test_the_model_remembers_the_time_unit(log: pd.DataFrame) -> None:
    summary = summarize_transactions(log, time_unit="W")
    model = BGNBD().fit(summary)
    assert model.time_unit_ in ("weeks", "W")  # the word, or its code
    a = cumulative_transactions(model, log).to_frame()
    b = cumulative_transactions(model, log, time_unit="W").to_frame()
    pd.testing.assert_frame_equal(a, b)
    c = cumulative_transactions(model, log, time_unit="weeks").to_frame()
    pd.testing.assert_frame_equal(c, b)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"time_unit": "X"}, "time_unit"),
        ({"time_unit": 0}, "time_unit"),
        ({"time_unit": 2.5}, "time_unit"),
        ({"time_unit": True}, "time_unit"),
        ({}, "time_unit"),  # the model was built from parameters: its unit is unknown
        ({"time_unit": 7, "calibration_end": "30/09/1997"}, "calibration_end"),
        ({"time_unit": 7, "observation_end": "soon"}, "observation_end"),
        ({"time_unit": 7, "customer_col": ""}, "customer_col"),
    ],
)
def test_bad_arguments_name_the_argument(
    log: pd.DataFrame, kwargs: dict[str, Any], name: str
) -> None:
    with pytest.raises(ArgumentError, match=name):
        cumulative_transactions(BG_WEEKS, log, **kwargs)


def test_bad_model_and_short_log(log: pd.DataFrame) -> None:
    with pytest.raises(ArgumentError, match="model"):
        cumulative_transactions(object(), log, time_unit=7)
    one_day = log[log["date"] == log["date"].min()]
    with pytest.raises(DataError, match="time unit"):
        cumulative_transactions(BG_WEEKS, one_day, time_unit=7)
    with pytest.raises(DataError, match="observation end"):
        cumulative_transactions(BG_WEEKS, log, time_unit=7, observation_end="1997-03-01")


def test_caller_frame_is_not_mutated(log: pd.DataFrame) -> None:
    before = log.copy()
    cumulative_transactions(BG_WEEKS, log, time_unit="M")
    pd.testing.assert_frame_equal(log, before)


def test_lazy_engine_gives_the_same_table(log: pd.DataFrame) -> None:
    pl = pytest.importorskip("polars")
    lazy = pl.from_pandas(log).lazy()
    a = cumulative_transactions(BG_WEEKS, log, time_unit=7).to_frame()
    b = cumulative_transactions(BG_WEEKS, lazy, time_unit=7).to_frame()
    pd.testing.assert_frame_equal(a, b)


def test_old_plotting_keywords_warn_and_map_onto_time_unit(log: pd.DataFrame) -> None:
    from crmmodels.plotting import clv as P

    new = P.plot_cumulative_transactions(BG_WEEKS, log, time_unit=7)
    with pytest.warns(FutureWarning, match="now one argument, time_unit"):
        old = P.plot_cumulative_transactions(BG_WEEKS, log, days_per_unit=7, freq_days=7)
    np.testing.assert_allclose(old.lines[0].get_ydata(), new.lines[0].get_ydata())
    with pytest.warns(FutureWarning), pytest.raises(ArgumentError, match="freq_days"):
        P.plot_cumulative_transactions(BG_WEEKS, log, days_per_unit=7, freq_days=1)
    assert not hasattr(P, "expected_cumulative_transactions")


def test_compat_refuses_an_unsupported_freq(log: pd.DataFrame) -> None:
    from crmmodels.compat.lifetimes import BetaGeoFitter
    from crmmodels.compat.lifetimes.utils import expected_cumulative_transactions

    bgf = BetaGeoFitter()
    bgf.params_ = pd.Series(PARAMS)
    with pytest.raises(ArgumentError, match="freq"):
        expected_cumulative_transactions(bgf, log, "date", "customer_id", 10, freq="h")


# ------------------------------------------------------------------ alive_history
def test_alive_history_values() -> None:
    res = alive_history(BG_WEEKS, [3.0, 8.0, 15.0], end=60.0, n_points=61)
    assert isinstance(res, AliveHistoryResult)
    frame = res.to_frame()
    assert list(frame.columns) == ["age", "frequency", "recency", "p_alive"]
    assert res.purchase_times == (0.0, 5.0, 12.0)  # shifted to the first purchase
    at = frame.set_index("age")
    expected = BG_WEEKS.probability_alive(2.0, 12.0, 40.0)
    assert at.loc[40.0, "p_alive"] == pytest.approx(float(expected), rel=1e-12)
    assert at.loc[12.0, "frequency"] == 2.0 and at.loc[11.0, "frequency"] == 1.0
    # BG/NBD: right after the x-th repeat purchase P(alive) = 1 / (1 + a / (b + x - 1))
    assert at.loc[12.0, "p_alive"] == pytest.approx(1.0 / (1.0 + 0.793 / (2.426 + 1.0)))


def test_alive_history_plot_and_other_models() -> None:
    from matplotlib.axes import Axes

    pnbd = ParetoNBD.from_params(r=0.553, alpha=10.578, s=0.606, beta=11.669)
    res = alive_history(pnbd, [0.0, 4.0], ages=[0.0, 2.0, 4.0, 20.0])
    assert np.all(np.diff(res.to_frame()["p_alive"].to_numpy()[2:]) < 0)
    ax = res.plot()
    assert isinstance(ax, Axes) and ax.get_ylabel() == "P(alive)"
    assert len(ax.get_lines()) == 3  # the path and two purchases


@pytest.mark.parametrize(
    ("args", "kwargs", "name"),
    [
        ([[]], {}, "purchase_times"),
        ([[0.0, np.nan]], {}, "purchase_times"),
        ([[0.0, 2.0]], {"end": -1.0}, "end"),
        ([[0.0, 2.0]], {"n_points": 1}, "n_points"),
        ([[0.0, 2.0]], {"ages": [-1.0]}, "ages"),
    ],
)
def test_alive_history_bad_arguments(args: list[Any], kwargs: dict[str, Any], name: str) -> None:
    with pytest.raises(ArgumentError, match=name):
        alive_history(BG_WEEKS, *args, **kwargs)
    with pytest.raises(ArgumentError, match="model"):
        alive_history(object(), [0.0])


def test_results_are_exported() -> None:
    import crmmodels.clv as clv

    assert {"cumulative_transactions", "alive_history"} <= set(clv.__all__)
    assert CumulativeTransactionsResult.__module__ == "crmmodels.clv._tracking"


# ------------------------------------------------------------- holdout_comparison
@pytest.fixture(scope="module")
def cal_holdout() -> Any:
    from crmmodels.datasets import load_cdnow_sample
    from crmmodels.transactions import calibration_holdout

    return calibration_holdout(
        load_cdnow_sample(),
        calibration_end="1997-09-30",
        observation_end="1998-06-30",
        time_unit="W",
    )


def test_holdout_comparison_by_hand(cal_holdout: Any) -> None:
    from crmmodels.clv import HoldoutComparisonResult, holdout_comparison

    frame = cal_holdout.to_frame()
    res = holdout_comparison(BG_WEEKS, cal_holdout)  # the result itself is accepted
    assert isinstance(res, HoldoutComparisonResult) and res.n_customers == len(frame)
    pred = BG_WEEKS.conditional_expected_purchases(
        frame["duration_holdout"], frame["frequency_cal"], frame["recency_cal"], frame["T_cal"]
    )
    ref = (
        frame.assign(group=np.minimum(frame["frequency_cal"], 7), expected=np.asarray(pred))
        .groupby("group")
        .agg(customers=("T_cal", "size"), actual=("frequency_holdout", "mean"),
             expected=("expected", "mean"))
    )  # fmt: skip
    out = res.to_frame()
    assert list(out.columns) == ["frequency_cal", "customers", "actual", "expected"]
    np.testing.assert_array_equal(out["frequency_cal"], ref.index.to_numpy(float))
    np.testing.assert_array_equal(out["customers"], ref["customers"])
    np.testing.assert_allclose(out["actual"], ref["actual"], rtol=1e-12)
    np.testing.assert_allclose(out["expected"], ref["expected"], rtol=1e-12)
    by_gap = holdout_comparison(BG_WEEKS, frame, by="time_since_last_purchase", max_group=None)
    gaps = np.unique(frame["T_cal"] - frame["recency_cal"])
    np.testing.assert_allclose(by_gap.to_frame()["time_since_last_purchase"], gaps)


def test_holdout_comparison_plot_and_errors(cal_holdout: Any) -> None:
    from matplotlib.axes import Axes

    from crmmodels.clv import holdout_comparison
    from crmmodels.errors import SchemaError

    res = holdout_comparison(BG_WEEKS, cal_holdout, max_group=5)
    ax = res.plot()
    assert isinstance(ax, Axes) and len(ax.get_lines()) == 2
    np.testing.assert_allclose(ax.get_lines()[1].get_ydata(), res.to_frame()["expected"])
    frame = cal_holdout.to_frame()
    with pytest.raises(SchemaError, match="duration_holdout"):
        holdout_comparison(BG_WEEKS, frame.drop(columns="duration_holdout"))
    with pytest.raises(ArgumentError, match="by"):
        holdout_comparison(BG_WEEKS, frame, by="")
    with pytest.raises(ArgumentError, match="max_group"):
        holdout_comparison(BG_WEEKS, frame, max_group="7")  # type: ignore[arg-type]
    with pytest.raises(ArgumentError, match="model"):
        holdout_comparison(object(), frame)


def test_calibration_holdout_plot_with_a_model_is_the_holdout_comparison(log: pd.DataFrame) -> None:
    from crmmodels import calibration_holdout
    from crmmodels.clv import holdout_comparison

    ch = calibration_holdout(log, calibration_end=log["date"].quantile(0.6), time_unit="W")
    alone = ch.plot()
    assert len(alone.get_lines()) == 1
    with_model = ch.plot(model=BG_WEEKS)
    expected = holdout_comparison(BG_WEEKS, ch.to_frame()).plot()
    assert [line.get_label() for line in with_model.get_lines()] == [
        line.get_label() for line in expected.get_lines()
    ]
    np.testing.assert_allclose(
        with_model.get_lines()[1].get_ydata(), expected.get_lines()[1].get_ydata()
    )
