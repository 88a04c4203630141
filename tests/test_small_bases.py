"""Functions that fit models for the caller work on small customer bases.

They either use the fitted (possibly boundary) model or say which step was skipped and
why, and they never fail on a valid log. Whether a given optimizer converges on a handful
of customers is not under test: the forced-failure tests make the fits fail on purpose.
"""

from __future__ import annotations

import re
import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest

from crmmodels.clv import BGNBD, GammaGamma
from crmmodels.errors import (
    BoundaryWarning,
    ConvergenceError,
    CRMModelsWarning,
    DataError,
    SkippedStepWarning,
)
from crmmodels.lifecycle import LifecycleRules
from crmmodels.quadrants import QUADRANTS, EmptyQuadrantWarning, clv_quadrants_from_transactions

END = "2024-06-30"


def _log(n_customers: int) -> pd.DataFrame:
    tx = pd.DataFrame(
        {
            "customer_id": [1, 1, 1, 2, 2, 3, 4, 4, 5, 5, 5, 6],
            "date": pd.to_datetime(
                [
                    "2023-01-05",
                    "2023-06-01",
                    "2024-03-01",
                    "2023-02-01",
                    "2023-02-20",
                    "2024-05-01",
                    "2023-03-03",
                    "2024-06-01",
                    "2023-01-10",
                    "2023-08-08",
                    "2024-06-20",
                    "2023-09-09",
                ]
            ),
            "amount": [20.0, 35.0, 15.0, 50.0, 45.0, 10.0, 5.0, 7.0, 100.0, 80.0, 90.0, 12.0],
        }
    )
    return tx[tx["customer_id"] <= n_customers].reset_index(drop=True)


def _run(tx: pd.DataFrame, **kwargs: Any) -> tuple[Any, list[warnings.WarningMessage]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        q = clv_quadrants_from_transactions(tx, observation_end=END, **kwargs)
    return q, list(caught)


def _of(caught: list[warnings.WarningMessage], category: type[Warning]) -> list[str]:
    return [str(w.message) for w in caught if issubclass(w.category, category)]


@pytest.mark.parametrize("n_customers", [1, 2, 3, 6])
def test_quadrants_never_fail_on_a_small_base(n_customers: int) -> None:
    tx = _log(n_customers)
    q, caught = _run(tx)
    # only crmmodels' own, documented warnings
    assert all(issubclass(w.category, CRMModelsWarning) for w in caught), caught
    f = q.to_frame()
    assert sorted(f["customer_id"]) == list(range(1, n_customers + 1))
    assert q.n_customers == n_customers
    assert f["quadrant"].notna().all() and set(f["quadrant"].astype(str)) <= set(QUADRANTS)
    assert np.isfinite(f["potential_value"]).all()
    # every skipped step is announced once and recorded on the result
    skipped = _of(caught, SkippedStepWarning)
    assert [n for n in q.notes if "skipped" in n] == [
        s.removeprefix("clv_quadrants_from_transactions: ") for s in skipped
    ]
    if q.bgnbd is None:
        assert any("BG/NBD fit skipped" in s for s in skipped)
        assert q.gamma_gamma is None
        total = tx.groupby("customer_id")["amount"].sum()
        np.testing.assert_allclose(
            f.sort_values("customer_id")["potential_value"], total.sort_index()
        )
        assert q.potential_method.startswith("historical value")
    else:
        assert not any("BG/NBD" in s for s in skipped)
        assert q.potential_method.startswith("CLV")
    # fewer than four customers: some quadrant is necessarily empty, and that is said
    if n_customers < 4:
        assert any("fewer than four" in s for s in _of(caught, EmptyQuadrantWarning))


def _fail(message: str) -> Any:
    def fit(self: Any, *args: Any, **kwargs: Any) -> Any:
        raise ConvergenceError(message)

    return fit


def test_bgnbd_failure_falls_back_to_historical_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(BGNBD, "fit", _fail("no interior maximum on this data."))
    tx = _log(6)
    with pytest.warns(SkippedStepWarning, match="BG/NBD fit skipped on this log of 6 customers"):
        q = clv_quadrants_from_transactions(tx, observation_end=END)
    assert q.bgnbd is None and q.gamma_gamma is None
    assert len(q.notes) == 1 and "no interior maximum on this data." in q.notes[0]
    assert "historical value" in q.notes[0]
    f = q.to_frame().set_index("customer_id")
    total = tx.groupby("customer_id")["amount"].sum()
    np.testing.assert_allclose(f["potential_value"], total.loc[f.index])
    assert (
        q.potential_method == "historical value (total spend up to 2024-06-30); BG/NBD fit skipped"
    )


def test_gamma_gamma_failure_keeps_the_transaction_model(monkeypatch: pytest.MonkeyPatch) -> None:
    from crmmodels.datasets import load_cdnow_sample

    tx = load_cdnow_sample()[["customer_id", "date", "amount"]]
    monkeypatch.setattr(GammaGamma, "fit", _fail("spend model did not converge."))
    with pytest.warns(SkippedStepWarning, match="Gamma-Gamma fit skipped"):
        q = clv_quadrants_from_transactions(tx, observation_end="1998-06-30")
    assert q.bgnbd is not None and q.gamma_gamma is None
    assert "spend model did not converge." in q.notes[0]
    cs = q.customer_summary
    mean_spend = cs["total_value"].sum() / (cs["frequency"] + 1).sum()
    assert f"{mean_spend:.6g}" in q.notes[0]
    from crmmodels.clv import customer_lifetime_value

    ref = customer_lifetime_value(
        q.bgnbd, float(mean_spend), cs, horizon=52, discount_rate=0.1, discount_period=52
    ).to_frame()["clv"]
    np.testing.assert_allclose(cs["potential_value"], ref, rtol=1e-9)
    assert "constant spend" in q.potential_method


def test_one_time_buyers_only() -> None:
    """No repeat buyer: the spend model has nothing to learn from; no error."""
    tx = pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 4, 5],
            "date": pd.to_datetime(
                ["2023-01-05", "2023-06-01", "2024-03-01", "2024-05-01", "2024-06-10"]
            ),
            "amount": [20.0, 35.0, 15.0, 40.0, 25.0],
        }
    )
    q, caught = _run(tx)
    assert all(issubclass(w.category, CRMModelsWarning) for w in caught), caught
    assert q.n_customers == 5 and q.gamma_gamma is None
    assert any("Gamma-Gamma fit skipped" in n or "BG/NBD fit skipped" in n for n in q.notes)
    assert np.isfinite(q.to_frame()["potential_value"]).all()


def test_boundary_warning_passes_through() -> None:
    """A fit that ends at a limiting model warns once, and the result notes the limit."""
    tx = pd.DataFrame(
        {
            "cust": [1, 1, 1, 2, 2, 3, 4, 4, 5, 5, 5, 6],
            "day": pd.to_datetime(
                [
                    "2023-01-05",
                    "2023-06-01",
                    "2024-03-01",
                    "2023-02-01",
                    "2023-02-20",
                    "2024-05-01",
                    "2023-03-03",
                    "2024-06-01",
                    "2023-01-10",
                    "2023-08-08",
                    "2024-06-20",
                    "2023-09-09",
                ]
            ),
            "value": [20.0, 35.0, 15.0, 50.0, 45.0, 10.0, 5.0, 7.0, 100.0, 80.0, 90.0, 12.0],
        }
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        q = clv_quadrants_from_transactions(
            tx,
            customer_col="cust",
            date_col="day",
            amount_col="value",
            observation_end="2024-06-30",
        )
    boundary = _of(caught, BoundaryWarning)
    assert any("BGNBD fit reached a limiting model" in m for m in boundary), boundary
    assert not _of(caught, SkippedStepWarning)
    assert q.bgnbd is not None and "boundary" in q.bgnbd.diagnostics_
    assert any(
        n.startswith(
            "the BG/NBD fit ended at a limiting model (purchase rates show no heterogeneity"
        )
        for n in q.notes
    ), q.notes
    assert np.isfinite(q.to_frame()["potential_value"]).all()


def test_invalid_logs_still_fail() -> None:
    """The fallbacks cover what a valid log can do to a fit, not invalid input."""
    tx = _log(3)
    with pytest.raises(DataError, match="observation end"):
        clv_quadrants_from_transactions(tx, observation_end="2023-01-01")


# ---------------------------------------------------------------- lifecycle with P(alive)


def _stages(tx: pd.DataFrame, **kwargs: Any) -> tuple[Any, list[warnings.WarningMessage]]:
    from crmmodels.lifecycle import lifecycle_stages

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = lifecycle_stages(tx.drop(columns="amount"), observation_end=END, **kwargs)
    return res, list(caught)


@pytest.mark.parametrize("n_customers", [1, 2, 3, 6])
def test_lifecycle_with_fitted_p_alive_never_fails(n_customers: int) -> None:
    tx = _log(n_customers)
    res, caught = _stages(tx, model="bgnbd")
    assert all(issubclass(w.category, CRMModelsWarning) for w in caught), caught
    f = res.to_frame()
    assert f["customer_id"].tolist() == list(range(1, n_customers + 1))
    by_days, _ = _stages(tx)
    skipped = _of(caught, SkippedStepWarning)
    if res.alive_model is None:
        # the step is announced, recorded, and the days rule decides
        assert len(skipped) == 1 and "P(alive) skipped" in skipped[0]
        assert res.notes == (skipped[0].removeprefix(f"lifecycle_stages at {END}: "),)
        assert f["p_alive"].isna().all()
        assert f["stage"].tolist() == by_days.to_frame()["stage"].tolist()
    else:
        assert not skipped and res.notes == ()
        p = f["p_alive"].to_numpy()
        assert np.isfinite(p).all()
        churned = f["stage"].to_numpy() == "churned"
        np.testing.assert_array_equal(churned, p < 0.5)


def test_lifecycle_skips_p_alive_when_the_fit_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(BGNBD, "fit", _fail("no interior maximum on this data."))
    tx = _log(6)
    res, caught = _stages(tx, model="bgnbd", rules=LifecycleRules(churn_after_days=200))
    (message,) = _of(caught, SkippedStepWarning)
    assert re.search(r"P\(alive\) skipped.* 6 customers.*days rule", message)
    by_days, _ = _stages(tx, rules=LifecycleRules(churn_after_days=200))
    assert res.alive_model is None and "no interior maximum on this data." in res.notes[0]
    assert "churn_after_days=200" in res.notes[0]
    pd.testing.assert_series_equal(res.to_frame()["stage"], by_days.to_frame()["stage"])


def test_lifecycle_transitions_note_the_snapshot(monkeypatch: pytest.MonkeyPatch) -> None:
    from crmmodels.lifecycle import lifecycle_transitions

    monkeypatch.setattr(BGNBD, "fit", _fail("no interior maximum on this data."))
    tx = _log(6).drop(columns="amount")
    snapshots = ["2022-12-31", "2023-06-30", END]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = lifecycle_transitions(tx, snapshots=snapshots, model="bgnbd")
    # nobody is known at the first snapshot: nothing to fit, nothing skipped there
    assert [n.split(":")[0] for n in res.notes] == ["2023-06-30", END]
    assert len(_of(caught, SkippedStepWarning)) == 2
    ref = lifecycle_transitions(tx, snapshots=snapshots)
    pd.testing.assert_frame_equal(res.stages, ref.stages)


def test_lifecycle_p_alive_not_a_number_uses_the_days_rule() -> None:
    class PartlyUndefined:
        def probability_alive(self, frequency: Any, recency: Any, T: Any) -> Any:
            p = np.full(np.shape(frequency), 0.9)
            p[np.asarray(frequency) == 0] = np.nan  # e.g. a limiting model at x = 0
            return p

    tx = _log(6)
    res, caught = _stages(tx, model=PartlyUndefined(), rules=LifecycleRules(churn_after_days=200))
    (message,) = _of(caught, SkippedStepWarning)
    assert "P(alive) is not a number for 2 customers" in message
    f = res.to_frame().set_index("customer_id")
    # customers 3 and 6 bought once: the days rule (200 days) decides for them
    assert f.loc[[3, 6], "stage"].tolist() == ["first_time", "churned"]
    assert (f.loc[[1, 2, 4, 5], "stage"] == "loyal").all()  # P(alive) 0.9
    assert len(res.notes) == 1 and res.alive_model is not None


def test_lifecycle_boundary_warning_passes_through(monkeypatch: pytest.MonkeyPatch) -> None:
    original = BGNBD.fit

    def boundary_fit(self: Any, *args: Any, **kwargs: Any) -> Any:
        model = original(self, *args, **kwargs)
        warnings.warn("BGNBD: purchase rates show no heterogeneity", BoundaryWarning, stacklevel=2)
        return model

    from crmmodels.datasets import load_cdnow_sample

    tx = load_cdnow_sample()[["customer_id", "date"]]
    monkeypatch.setattr(BGNBD, "fit", boundary_fit)
    from crmmodels.lifecycle import lifecycle_stages

    with pytest.warns(BoundaryWarning, match="no heterogeneity"):
        res = lifecycle_stages(tx, observation_end="1998-06-30", model="bgnbd")
    assert res.alive_model is not None and res.notes == ()


def test_lifecycle_model_name_is_checked() -> None:
    from crmmodels.errors import ArgumentError
    from crmmodels.lifecycle import lifecycle_stages

    with pytest.raises(ArgumentError, match="model must be one of \\['bgnbd'\\]"):
        lifecycle_stages(_log(3), observation_end=END, model="pareto")  # type: ignore[arg-type]
