"""Lifecycle and retention speak the library's vocabulary.

The stage thresholds live in one rules object (``LifecycleRules``) accepted by both
lifecycle functions; the cut-off date is ``observation_end``; ``time_unit`` takes the
period vocabulary; results end in ``Result``; every plot is reachable from its result's
``.plot()``; days are those of the data's local calendar. Old names keep working for one
release with a ``FutureWarning``.
"""

from __future__ import annotations

import dataclasses
import inspect
import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest

import crmmodels
from crmmodels.errors import ArgumentError
from crmmodels.lifecycle import (
    LifecycleRules,
    LifecycleStagesResult,
    LifecycleTransitionsResult,
    lifecycle_stages,
    lifecycle_transitions,
)
from crmmodels.retention import (
    CohortRetentionResult,
    RetentionMetricsResult,
    ShiftedBetaGeometric,
    cohort_retention,
    retention_metrics,
)

SNAPSHOTS = ["2021-06-30", "2021-12-31", "2022-06-30", "2022-12-31"]


def random_log(seed: int, n: int = 300, customers: int = 40, days: int = 900) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "customer_id": rng.integers(0, customers, n),
            "date": pd.Timestamp("2021-01-01")
            + pd.to_timedelta(rng.integers(0, days, n), unit="D"),
            "amount": rng.gamma(2.0, 15.0, n).round(2),
        }
    )


OLD_THRESHOLDS: list[dict[str, Any]] = [
    {"churn_after_days": 120},
    {"churn_after_days": 60, "alive_threshold": 0.3},
    {
        "scheme": "relationship",
        "recent_days": 60,
        "formation_min_purchases": 3,
        "stability_min_purchases": 5,
        "decline_ratio": 0.4,
        "growth_ratio": 2.0,
    },
]


# ---------------------------------------------------------------------------------------
# the rules object
# ---------------------------------------------------------------------------------------


def test_rules_defaults_are_the_former_keyword_defaults() -> None:
    assert dataclasses.asdict(LifecycleRules()) == {
        "scheme": "purchase",
        "churn_after_days": 365,
        "alive_threshold": 0.5,
        "recent_days": 90,
        "formation_min_purchases": 2,
        "stability_min_purchases": 4,
        "decline_ratio": 0.5,
        "growth_ratio": 1.5,
    }
    df = random_log(0)
    default = lifecycle_stages(df, observation_end="2022-06-30")
    explicit = lifecycle_stages(df, observation_end="2022-06-30", rules=LifecycleRules())
    pd.testing.assert_frame_equal(default.to_frame(), explicit.to_frame())
    assert default.rules == LifecycleRules()


def test_rules_are_frozen_and_checked() -> None:
    rules = LifecycleRules(churn_after_days=180)
    with pytest.raises(dataclasses.FrozenInstanceError):
        rules.churn_after_days = 30  # type: ignore[misc]
    assert dataclasses.replace(rules, scheme="relationship").churn_after_days == 180
    assert LifecycleRules(churn_after_days=30.0).churn_after_days == 30  # type: ignore[arg-type]
    bad: list[tuple[dict[str, Any], str]] = [
        ({"scheme": "rfm"}, "scheme"),
        ({"churn_after_days": 0}, "churn_after_days"),
        ({"churn_after_days": True}, "churn_after_days"),
        ({"recent_days": 2.5}, "recent_days"),
        ({"alive_threshold": 1.5}, "alive_threshold"),
        ({"alive_threshold": "0.5"}, "alive_threshold"),
        ({"formation_min_purchases": 5, "stability_min_purchases": 4}, "formation_min"),
        ({"formation_min_purchases": 0}, "formation_min_purchases"),
        ({"decline_ratio": 2.0, "growth_ratio": 1.0}, "decline_ratio"),
        ({"decline_ratio": -0.1}, "decline_ratio"),
    ]
    for kwargs, name in bad:
        with pytest.raises(ArgumentError, match=name):
            LifecycleRules(**kwargs)
    with pytest.raises(ArgumentError, match="rules must be a LifecycleRules"):
        lifecycle_stages(random_log(0), rules={"churn_after_days": 30})  # type: ignore[arg-type]


def test_rules_order_the_stages() -> None:
    assert LifecycleRules().stages == crmmodels.lifecycle.PURCHASE_STAGES
    assert LifecycleRules(scheme="relationship").stages == (crmmodels.lifecycle.RELATIONSHIP_STAGES)


@pytest.mark.parametrize("old", OLD_THRESHOLDS)
def test_old_threshold_keywords_warn_and_give_the_same_stages(old: dict[str, Any]) -> None:
    df = random_log(1)
    rules = LifecycleRules(**old)
    new = lifecycle_stages(df, observation_end="2022-06-30", rules=rules, amount_col="amount")
    with pytest.warns(FutureWarning, match=r"rules=LifecycleRules\(") as caught:
        former = lifecycle_stages(df, observation_end="2022-06-30", amount_col="amount", **old)
    assert len(caught) == 1
    assert all(name in str(caught[0].message) for name in old)
    assert caught[0].filename == __file__  # the warning points at the caller's line
    pd.testing.assert_frame_equal(new.to_frame(), former.to_frame())
    pd.testing.assert_frame_equal(new.summary, former.summary)
    assert former.rules == rules


@pytest.mark.parametrize("old", OLD_THRESHOLDS)
def test_old_threshold_keywords_warn_and_give_the_same_transitions(old: dict[str, Any]) -> None:
    df = random_log(2)
    new = lifecycle_transitions(df, snapshots=SNAPSHOTS, rules=LifecycleRules(**old))
    with pytest.warns(FutureWarning, match="lifecycle_transitions: pass the thresholds"):
        former = lifecycle_transitions(df, snapshots=SNAPSHOTS, **old)
    pd.testing.assert_frame_equal(new.stages, former.stages)
    pd.testing.assert_frame_equal(new.counts, former.counts)
    pd.testing.assert_frame_equal(new.time_in_stage, former.time_in_stage)


def test_rules_and_old_keywords_together_are_refused() -> None:
    df = random_log(3)
    with pytest.raises(ArgumentError, match="rules= only"):
        lifecycle_stages(df, rules=LifecycleRules(), churn_after_days=30)  # type: ignore[call-arg]
    with pytest.raises(ArgumentError, match="rules= only"):
        lifecycle_transitions(
            df,
            snapshots=SNAPSHOTS,
            rules=LifecycleRules(),
            scheme="relationship",  # type: ignore[call-arg]
        )


def test_both_functions_take_the_same_rules() -> None:
    stages = inspect.signature(lifecycle_stages).parameters
    moves = inspect.signature(lifecycle_transitions).parameters
    assert "rules" in stages and "rules" in moves
    for field in dataclasses.fields(LifecycleRules):
        assert field.name not in stages and field.name not in moves
    assert len(stages) <= 12 and len(moves) <= 12


# ---------------------------------------------------------------------------------------
# observation_end and time_unit
# ---------------------------------------------------------------------------------------


def test_as_of_is_now_observation_end() -> None:
    df = random_log(4)
    new = lifecycle_stages(df, observation_end="2022-03-31")
    with pytest.warns(FutureWarning, match="'as_of' is now called 'observation_end'"):
        old = lifecycle_stages(df, as_of="2022-03-31")  # type: ignore[call-arg]
    pd.testing.assert_frame_equal(new.to_frame(), old.to_frame())
    assert new.observation_end == "2022-03-31"
    assert "observation_end=2022-03-31" in repr(new)
    with pytest.warns(FutureWarning, match="as_of is now called observation_end"):
        assert new.as_of == "2022-03-31"
    with pytest.raises(ArgumentError, match="'observation_end' only"):
        lifecycle_stages(df, as_of="2022-03-31", observation_end="2022-03-31")  # type: ignore[call-arg]
    with pytest.warns(FutureWarning) as caught:
        lifecycle_stages(df, as_of="2022-03-31", churn_after_days=90)  # type: ignore[call-arg]
    assert len(caught) == 2
    assert "as_of" not in [f.name for f in dataclasses.fields(LifecycleStagesResult)]


def test_observation_end_defaults_to_the_last_purchase() -> None:
    df = random_log(5)
    last = df["date"].max()
    default = lifecycle_stages(df)
    explicit = lifecycle_stages(df, observation_end=last)
    assert default.observation_end == str(last.date())
    pd.testing.assert_frame_equal(default.to_frame(), explicit.to_frame())
    assert default.n_prospects == 0


def test_observation_end_errors_name_it() -> None:
    df = random_log(6)
    with pytest.raises(ArgumentError, match="observation_end must be a date"):
        lifecycle_stages(df, observation_end="yesterday-ish")
    with pytest.raises(crmmodels.errors.DataError, match="Pass a later observation_end"):
        lifecycle_stages(df, observation_end="1999-01-01")


@pytest.mark.parametrize(
    ("unit", "same_as"), [("weeks", "W"), ("days", "D"), (7, "W"), (1, "D"), ("w", "W")]
)
def test_time_unit_takes_the_period_vocabulary(unit: Any, same_as: str) -> None:
    calls: list[tuple[Any, ...]] = []

    class Recorder:
        def probability_alive(self, frequency: Any, recency: Any, T: Any) -> Any:
            calls.append((np.asarray(recency), np.asarray(T)))
            return np.exp(-(np.asarray(T) - np.asarray(recency)) / 10.0)

    df = random_log(7)
    one = lifecycle_stages(df, observation_end="2022-06-30", model=Recorder(), time_unit=unit)
    two = lifecycle_stages(df, observation_end="2022-06-30", model=Recorder(), time_unit=same_as)
    np.testing.assert_allclose(calls[0][1], calls[1][1])
    pd.testing.assert_frame_equal(one.to_frame(), two.to_frame())


def test_a_fourteen_day_time_unit_and_calendar_units() -> None:
    calls: list[Any] = []

    class Recorder:
        def probability_alive(self, frequency: Any, recency: Any, T: Any) -> Any:
            calls.append(np.asarray(T))
            return np.ones_like(np.asarray(T))

    df = random_log(8)
    lifecycle_stages(df, observation_end="2022-06-30", model=Recorder(), time_unit="D")
    lifecycle_stages(df, observation_end="2022-06-30", model=Recorder(), time_unit=14)
    np.testing.assert_allclose(calls[1], calls[0] / 14)
    for unit in ("M", "Q", "Y", 0, "fortnight", 1.5):
        with pytest.raises(ArgumentError, match="time_unit must be 'D'"):
            lifecycle_stages(df, observation_end="2022-06-30", time_unit=unit)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------
# result names and plots
# ---------------------------------------------------------------------------------------


def test_results_end_in_result_and_old_names_still_import() -> None:
    df = random_log(9)
    assert type(lifecycle_stages(df)) is LifecycleStagesResult
    assert type(lifecycle_transitions(df, snapshots=SNAPSHOTS)) is LifecycleTransitionsResult
    assert type(cohort_retention(df)) is CohortRetentionResult
    assert type(retention_metrics(df)) is RetentionMetricsResult
    for module, old, new in (
        (crmmodels.lifecycle, "LifecycleStages", LifecycleStagesResult),
        (crmmodels.lifecycle, "LifecycleTransitions", LifecycleTransitionsResult),
        (crmmodels.retention, "CohortRetention", CohortRetentionResult),
        (crmmodels.retention, "RetentionMetrics", RetentionMetricsResult),
        (crmmodels, "LifecycleStages", LifecycleStagesResult),
        (crmmodels, "CohortRetention", CohortRetentionResult),
    ):
        with pytest.warns(FutureWarning, match=f"{old} is now called {new.__name__}"):
            assert getattr(module, old) is new
    for cls in (
        LifecycleStagesResult,
        LifecycleTransitionsResult,
        CohortRetentionResult,
        RetentionMetricsResult,
    ):
        assert cls.__name__.endswith("Result")
        assert cls.__module__.startswith(("crmmodels.lifecycle.", "crmmodels.retention."))


def _plot_functions(module: Any) -> set[str]:
    return {
        name
        for name, obj in vars(module).items()
        if name.startswith("plot_")
        and inspect.isfunction(obj)
        and obj.__module__ == module.__name__
    }


def test_every_plot_is_reachable_from_a_result(monkeypatch: pytest.MonkeyPatch) -> None:
    import matplotlib.pyplot as plt

    from crmmodels.plotting import lifecycle as lplots
    from crmmodels.plotting import retention as rplots

    expected = _plot_functions(lplots) | _plot_functions(rplots)
    reached: set[str] = set()
    for module in (lplots, rplots):
        for name in _plot_functions(module):
            original = getattr(module, name)

            def spy(*args: Any, _name: str = name, _f: Any = original, **kw: Any) -> Any:
                reached.add(_name)
                return _f(*args, **kw)

            monkeypatch.setattr(module, name, spy)
    df = random_log(10)
    stages = lifecycle_stages(df, observation_end="2022-06-30")
    moves = lifecycle_transitions(df, snapshots=SNAPSHOTS)
    cohorts = cohort_retention(df)
    metrics = retention_metrics(df)
    table = pd.DataFrame(
        {"customer_id": range(4), "frequency": [0, 2, 1, 3], "recency": [0.0, 9.0, 4.0, 20.0]}
    ).assign(total_value=[10.0, 40.0, 25.0, 70.0], p_alive=[0.2, 0.7, 0.3, 0.9])
    comparison = crmmodels.lifecycle.churn_comparison(
        table, attributes=["frequency"], p_alive_col="p_alive"
    )
    targets = crmmodels.lifecycle.win_back_targets(table)
    axes = [
        comparison.plot(),
        targets.plot(),
        targets.plot(kind="distribution"),
        stages.plot(),
        moves.plot(),
        moves.plot(kind="heatmap"),
        cohorts.plot(),
        cohorts.plot(kind="curves"),
        metrics.plot(),
        ShiftedBetaGeometric().fit([1000, 631, 468]).project(5).plot(),
    ]
    for ax in axes:
        plt.close(ax.figure)
    assert reached == expected
    assert len(expected) == 9
    with pytest.raises(ArgumentError, match="kind"):
        moves.plot(kind="sankey")  # type: ignore[arg-type]
    with pytest.raises(ArgumentError, match="kind"):
        cohorts.plot(kind="bars")  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------
# time zones
# ---------------------------------------------------------------------------------------


def test_a_late_evening_purchase_in_new_york_lands_on_its_local_day() -> None:
    # 23:30 on Jan 31 in New York is 04:30 on Feb 1 in UTC: the purchase is a January one.
    local = pd.to_datetime(
        ["2024-01-31 23:30", "2024-02-01 00:30", "2024-02-15 12:00", "2024-03-10 09:00"]
    ).tz_localize("America/New_York")
    tx = pd.DataFrame({"customer_id": [1, 2, 1, 2], "date": local, "amount": 1.0})

    jan = lifecycle_stages(tx, observation_end="2024-01-31")
    frame = jan.to_frame().set_index("customer_id")
    assert frame.loc[1, "stage"] == "first_time"
    assert frame.loc[1, "last_purchase"] == pd.Timestamp("2024-01-31")
    assert frame.loc[2, "stage"] == "prospect"
    moves = lifecycle_transitions(tx, snapshots=["2024-01-31", "2024-02-01"])
    assert moves.stages.loc[1].tolist() == ["first_time", "first_time"]
    assert moves.stages.loc[2].tolist() == ["not_yet_customer", "first_time"]

    cohorts = cohort_retention(tx, period="M")
    assert cohorts.cohort_sizes.astype(str).to_dict() == {
        pd.Period("2024-01", "M"): "1",
        pd.Period("2024-02", "M"): "1",
    }
    assert cohorts.counts.loc["2024-01"].tolist() == [1, 1, 0]
    days = cohort_retention(tx, period="D")
    assert str(days.cohort_sizes.index[0]) == "2024-01-31"
    metrics = retention_metrics(tx, period="M", amount_col="amount")
    assert metrics.table["new"].tolist() == [1, 1, 0]
    assert metrics.table["active"].tolist() == [1, 2, 1]


def test_no_warning_with_the_new_names() -> None:
    df = random_log(11)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = lifecycle_stages(
            df,
            observation_end="2022-06-30",
            rules=LifecycleRules(scheme="relationship"),
            amount_col="amount",
            time_unit="W",
        )
        lifecycle_transitions(df, snapshots=SNAPSHOTS, rules=res.rules)
        assert res.observation_end == "2022-06-30"
