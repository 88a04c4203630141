"""Funnel and IDIC: the shared vocabulary, the local calendar and one aggregation rule."""

from __future__ import annotations

import ast
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import crmmodels.funnel as funnel
import crmmodels.idic as idic
from crmmodels.errors import ArgumentError
from crmmodels.funnel import (
    DEFAULT_STAGES,
    ForecastBacktestResult,
    FunnelResult,
    PipelineForecastResult,
    SalesVelocityResult,
    forecast_backtest,
    funnel_metrics,
    pipeline_forecast,
    sales_velocity,
)
from crmmodels.idic import InteractionProfileResult, interaction_profile

from _engines import to_engine

S = list(DEFAULT_STAGES)
LEAD, NEEDS, PROP, WON = S
LOST = "closed_lost"
SRC = Path(__file__).resolve().parents[2] / "src" / "crmmodels"


def _funnel_log() -> pd.DataFrame:
    """A small log with naive local times, several at 23:30 (the last hour of a day)."""
    rows = [
        (1, LEAD, "2024-01-31 23:30"),
        (1, NEEDS, "2024-02-02 23:30"),
        (1, WON, "2024-02-10 10:00"),
        (2, LEAD, "2024-03-31 23:30"),
        (2, LOST, "2024-04-03 08:00"),
        (3, LEAD, "2024-02-29 23:30"),
        (3, NEEDS, "2024-03-04 23:30"),
        (4, LEAD, "2024-04-01 09:00"),
        (4, NEEDS, "2024-04-05 23:30"),
    ]
    df = pd.DataFrame(rows, columns=["entity_id", "stage", "entered_at"])
    df["entered_at"] = pd.to_datetime(df["entered_at"])
    df["amount"] = 100.0 * df["entity_id"]
    return df


def _contacts() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [1, 1, 2, 2, 3],
            "timestamp": pd.to_datetime(
                [
                    "2024-01-31 23:30",
                    "2024-02-29 23:30",
                    "2024-02-01 09:00",
                    "2024-03-31 23:30",
                    "2024-03-01 12:00",
                ]
            ),
            "channel": ["email", "phone", "email", "store", "email"],
        }
    )


# ------------------------------------------------------------------ names


def test_funnel_old_argument_names_warn_and_give_the_same_result() -> None:
    df = _funnel_log().rename(columns={"entered_at": "t"})
    new = funnel_metrics(df, date_col="t", observation_end="2024-03-31")
    with pytest.warns(FutureWarning, match="'time_col' is now called 'date_col'"):
        old = funnel_metrics(df, time_col="t", observation_end="2024-03-31")
    pd.testing.assert_frame_equal(old.to_frame(), new.to_frame())
    with pytest.warns(FutureWarning, match="'as_of' is now called 'observation_end'"):
        old = funnel_metrics(df, date_col="t", as_of="2024-03-31")
    pd.testing.assert_frame_equal(old.to_frame(), new.to_frame())
    with pytest.raises(ArgumentError, match="give 'observation_end' only"):
        funnel_metrics(df, date_col="t", as_of="2024-03-31", observation_end="2024-03-31")


def test_funnel_result_names_its_cut_off_observation_end() -> None:
    res = funnel_metrics(_funnel_log(), observation_end="2024-03-31")
    assert res.observation_end == "2024-03-31"
    assert "observation_end=2024-03-31" in repr(res)
    assert res.to_dict()["observation_end"] == "2024-03-31"
    assert "as_of" not in res.to_dict()
    with pytest.warns(FutureWarning, match="FunnelResult.as_of is now called observation_end"):
        assert res.as_of == "2024-03-31"
    assert "after_observation_end" in set(res.issues["issue"])


def test_interaction_profile_old_names_warn_and_give_the_same_result() -> None:
    log = _contacts().rename(columns={"timestamp": "when"})
    new = interaction_profile(log, date_col="when", observation_end="2024-03-01")
    with pytest.warns(FutureWarning, match="'time_col' is now called 'date_col'"):
        old = interaction_profile(log, time_col="when", observation_end="2024-03-01")
    pd.testing.assert_frame_equal(old.to_frame(), new.to_frame())
    with pytest.warns(FutureWarning, match="'as_of' is now called 'observation_end'"):
        old = interaction_profile(log, date_col="when", as_of="2024-03-01")
    pd.testing.assert_frame_equal(old.to_frame(), new.to_frame())
    assert new.observation_end == "2024-03-01T00:00:00"
    assert new.n_after_observation_end == 2
    with pytest.warns(FutureWarning, match="n_after_as_of is now called n_after_observation_end"):
        assert new.n_after_as_of == 2
    with pytest.warns(FutureWarning, match="as_of is now called observation_end"):
        assert new.as_of == new.observation_end


def test_result_classes_end_in_result_and_old_names_remain() -> None:
    with pytest.warns(FutureWarning, match="now called"):
        assert funnel.PipelineForecast is PipelineForecastResult
    with pytest.warns(FutureWarning, match="now called"):
        assert funnel.ForecastBacktest is ForecastBacktestResult
    with pytest.warns(FutureWarning, match="now called"):
        assert funnel.SalesVelocity is SalesVelocityResult
    with pytest.warns(FutureWarning, match="now called"):
        assert idic.InteractionProfile is InteractionProfileResult
    for package in (funnel, idic):
        classes = [
            n for n in package.__all__ if n[0].isupper() and isinstance(getattr(package, n), type)
        ]
        results = [n for n in classes if n.endswith("Result")]
        assert not {"PipelineForecast", "ForecastBacktest", "SalesVelocity"} & set(classes)
        assert "InteractionProfile" not in classes
        assert results


@pytest.mark.parametrize("code", ["M", "months", "q", "W", "Y", "D"])
def test_cohort_and_trend_take_the_period_vocabulary(code: str) -> None:
    df = _funnel_log()
    res = funnel_metrics(df, cohort=code)
    assert res.cohorts is not None and len(res.cohorts) % len(S) == 0
    trend = res.conversion_trend(code)
    assert list(trend.index) == sorted(res.cohorts["cohort"].unique())
    assert int(trend["entered"].sum()) == 4


@pytest.mark.parametrize("bad", ["fortnight", "", 14, None, "MS"])
def test_cohort_and_trend_refuse_other_values(bad: Any) -> None:
    res = funnel_metrics(_funnel_log())
    with pytest.raises(ArgumentError, match=r"period must be 'D' \(calendar day\)"):
        res.conversion_trend(bad)
    if bad is not None:
        with pytest.raises(ArgumentError, match=r"cohort must be 'D' \(calendar day\)"):
            funnel_metrics(_funnel_log(), cohort=bad)


# ------------------------------------------------------------------ the local calendar


def _aware(df: pd.DataFrame, col: str, zone: str = "America/New_York") -> pd.DataFrame:
    return df.assign(**{col: df[col].dt.tz_localize(zone)})


@pytest.mark.parametrize("engine", ["pandas", "polars", "polars_lazy"])
def test_funnel_reads_aware_dates_on_their_local_day(engine: str) -> None:
    naive = _funnel_log()
    aware = to_engine(_aware(naive, "entered_at"), engine)
    kw: dict[str, Any] = {"amount_col": "amount", "cohort": "M"}
    a = funnel_metrics(naive, observation_end="2024-03-31 23:59", **kw)
    b = funnel_metrics(aware, observation_end="2024-03-31 23:59", **kw)
    # entity 2 enters at 23:30 on 31 March (New York): inside the cut, in the March cohort
    assert a.observation_end == b.observation_end == "2024-03-31 23:59:00"
    pd.testing.assert_frame_equal(a.to_frame(), b.to_frame())
    pd.testing.assert_frame_equal(a.issues, b.issues)
    assert a.cohorts is not None and b.cohorts is not None
    pd.testing.assert_frame_equal(a.cohorts, b.cohorts)
    first = b.cohorts[b.cohorts["stage"] == LEAD].set_index("cohort")["entered"]
    assert first.to_dict() == {"2024-01": 1, "2024-02": 1, "2024-03": 1}
    # stays in days on the wall clock: 31 Jan 23:30 -> 2 Feb 23:30 is two days
    np.testing.assert_allclose(b.stage_durations(LEAD), [2.0, 4.0])
    entry = b.entities()["entered_at"]
    assert str(entry.iloc[0]) == "2024-01-31 23:30:00"


def test_an_aware_observation_end_is_read_in_the_data_zone() -> None:
    aware = _aware(_funnel_log(), "entered_at")
    # 1 April 03:30 UTC is 31 March 23:30 in New York
    end = pd.Timestamp("2024-04-01 03:30", tz="UTC")
    res = funnel_metrics(aware, observation_end=end)
    assert res.observation_end == "2024-03-31 23:30:00"
    ref = funnel_metrics(_funnel_log(), observation_end="2024-03-31 23:30")
    pd.testing.assert_frame_equal(res.to_frame(), ref.to_frame())
    cut = pd.Timestamp("2024-03-01 04:30", tz="UTC")  # 29 Feb 23:30 in New York
    back = forecast_backtest(res, cut)
    assert back.cut == forecast_backtest(ref, "2024-02-29 23:30").cut == "2024-02-29 23:30:00"


@pytest.mark.parametrize("engine", ["pandas", "polars"])
def test_interaction_profile_reads_aware_dates_on_their_local_day(engine: str) -> None:
    naive = _contacts()
    aware = to_engine(_aware(naive, "timestamp"), engine)
    a = interaction_profile(naive, observation_end="2024-03-01", strategic=[1, 2, 3])
    b = interaction_profile(aware, observation_end="2024-03-01", strategic=[1, 2, 3])
    assert a.n_after_observation_end == b.n_after_observation_end == 2
    cols = ["customer_id", "n_interactions", "days_since_contact"]
    pd.testing.assert_frame_equal(a.to_frame()[cols], b.to_frame()[cols])


def test_no_utc_conversion_of_data_dates_in_the_funnel_or_idic() -> None:
    for folder in ("funnel", "idic"):
        for path in (SRC / folder).glob("*.py"):
            text = path.read_text(encoding="utf-8")
            assert 'tz_convert("UTC")' not in text, path
            assert 'tz="UTC"' not in text, path


# ------------------------------------------------------------------ one aggregation


def _random_log(seed: int, n_ent: int = 60, n_rows: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    names = [*S, LOST]
    start = pd.Timestamp("2024-01-01")
    df = pd.DataFrame(
        {
            "entity_id": rng.integers(0, n_ent, n_rows),
            "stage": rng.choice(names, n_rows),
            "entered_at": start + pd.to_timedelta(rng.integers(0, 90 * 24, n_rows), unit="h"),
        }
    )
    df["amount"] = 10.0 * (df["entity_id"] % 7 + 1)
    df["segment"] = np.where(df["entity_id"] % 2 == 0, "a", "b")
    return df


@pytest.mark.parametrize("engine", ["polars", "polars_lazy", "pyarrow", "duckdb"])
@pytest.mark.parametrize("mode", ["any", "ordered"])
def test_eager_and_engine_aggregations_agree(engine: str, mode: str) -> None:
    df = _random_log(3)
    kw: dict[str, Any] = {
        "mode": mode,
        "amount_col": "amount",
        "segment_col": "segment",
        "cohort": "W",
        "observation_end": "2024-03-15",
    }
    a = funnel_metrics(df, **kw)
    b = funnel_metrics(to_engine(df, engine), **kw)
    pd.testing.assert_frame_equal(a.to_frame(), b.to_frame())
    pd.testing.assert_frame_equal(a.issues, b.issues)
    assert a.cohorts is not None and b.cohorts is not None
    assert a.segments is not None and b.segments is not None
    pd.testing.assert_frame_equal(a.cohorts, b.cohorts)
    pd.testing.assert_frame_equal(a.segments, b.segments)
    pd.testing.assert_frame_equal(a.entities(), b.entities())
    assert (a.n_events, a.n_duplicates, a.observation_end) == (
        b.n_events,
        b.n_duplicates,
        b.observation_end,
    )
    pd.testing.assert_frame_equal(pipeline_forecast(a).to_frame(), pipeline_forecast(b).to_frame())


def test_text_ids_and_categorical_stages_agree_on_every_eager_frame() -> None:
    import polars as pl

    df = _random_log(4)
    df["entity_id"] = "opp-" + df["entity_id"].astype(str)
    base = funnel_metrics(df, segment_col="segment")
    cat = pl.from_pandas(df).with_columns(pl.col("stage").cast(pl.Categorical))
    for native in (cat, to_engine(df, "pyarrow"), df.astype({"stage": "category"})):
        other = funnel_metrics(native, segment_col="segment")
        pd.testing.assert_frame_equal(base.to_frame(), other.to_frame())
        pd.testing.assert_frame_equal(base.issues, other.issues)
        pd.testing.assert_frame_equal(base.entities(), other.entities())


def test_the_aggregation_rule_follows_the_frame_kind(monkeypatch: pytest.MonkeyPatch) -> None:
    """Eager frames go to the numpy kernel, lazy frames to the engine: nothing else decides."""
    from crmmodels.funnel import _aggregate

    used: list[str] = []
    eager, lazy = _aggregate._aggregate_eager, _aggregate._aggregate_lazy

    def spy(name: str, func: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            used.append(name)
            return func(*args, **kwargs)

        return wrapper

    monkeypatch.setattr(_aggregate, "_aggregate_eager", spy("eager", eager))
    monkeypatch.setattr(_aggregate, "_aggregate_lazy", spy("lazy", lazy))
    df = _random_log(1)
    arrow_dates = df.assign(entered_at=df["entered_at"].astype("timestamp[us][pyarrow]"))
    for native in (df, arrow_dates, to_engine(df, "polars"), to_engine(df, "pyarrow")):
        funnel_metrics(native)
    assert used == ["eager"] * 4
    used.clear()
    for engine in ("polars_lazy", "duckdb"):
        funnel_metrics(to_engine(df, engine))
    assert used == ["lazy"] * 2


def test_a_missing_segment_is_one_segment_of_its_own() -> None:
    df = _random_log(2).astype({"segment": object})
    df.loc[df["entity_id"] % 3 == 0, "segment"] = None
    res = funnel_metrics(df, segment_col="segment")
    ent = res.entities().set_index("entity_id")["segment"]
    assert ent[ent.index % 3 == 0].isna().all()
    assert set(ent[ent.index % 3 != 0]) <= {"a", "b"}


# ------------------------------------------------------------------ plots and layout


def test_every_plot_is_reachable_from_its_result() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    res = funnel_metrics(_funnel_log(), amount_col="amount")
    figures = [
        res.plot(),
        res.plot(kind="time"),
        pipeline_forecast(res).plot(),
        forecast_backtest(res, "2024-03-01").plot(),
        sales_velocity(res).plot(),
        interaction_profile(_contacts()).plot(),
    ]
    for ax in figures:
        assert type(ax).__name__ == "Axes"
        plt.close(ax.figure)
    from crmmodels.plotting import funnel as fplots
    from crmmodels.plotting import idic as iplots

    public = {
        n
        for m in (fplots, iplots)
        for n in vars(m)
        if n.startswith("plot_") and callable(getattr(m, n))
    }
    sources = "".join(
        p.read_text(encoding="utf-8")
        for folder in ("funnel", "idic")
        for p in (SRC / folder).glob("*.py")
    )
    assert all(f"import {n}" in sources or f", {n}" in sources for n in public), public
    assert isinstance(res, FunnelResult)


@pytest.mark.parametrize("folder", ["funnel", "idic"])
def test_functions_read_as_named_steps(folder: str) -> None:
    long = {}
    for path in (SRC / folder).glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef):
                body = node.body[1:] if ast.get_docstring(node) else node.body
                n = body[-1].end_lineno - body[0].lineno + 1  # type: ignore[operator]
                if n > 100:
                    long[f"{path.name}:{node.name}"] = n
    assert not long, f"function bodies over 100 lines (docstrings aside): {long}"


def test_no_warning_without_old_names() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = funnel_metrics(_funnel_log(), observation_end="2024-03-31", cohort="M")
        res.conversion_trend("Q")
        interaction_profile(_contacts(), observation_end="2024-03-01")
