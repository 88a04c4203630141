"""The lean pass of select_model on eager logs (clv/_selection_cells.py, _selection_data.py).

The reference is the engine path of the same function: a lazy polars frame goes through
``split_log`` with two customer summaries aggregated on the engine and a filtered copy of
the calibration rows, which is how eager logs were split before. Both must give the same
table, choice, parameters, split, tracking curves and counts. The kernel functions are
checked against pandas group-bys on blocks smaller than the data, so that every block
boundary case is met.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmmodels.clv import ModelSelectionResult, select_model
from crmmodels.clv import _selection_cells as cells
from crmmodels.datasets import load_cdnow, simulate_transactions
from crmmodels.kernels._optim import compress_rows

pl = pytest.importorskip("polars")


def _same(got: ModelSelectionResult, ref: ModelSelectionResult) -> None:
    """Everything a selection reports, equal (floats exactly: the same sums in order)."""
    pd.testing.assert_frame_equal(got.to_frame(), ref.to_frame(), check_exact=True)
    pd.testing.assert_frame_equal(got.tracking, ref.tracking, check_exact=True)
    assert got.chosen == ref.chosen and got.reason == ref.reason
    assert got.model.params_ == ref.model.params_
    assert got.model.log_likelihood_ == ref.model.log_likelihood_
    assert got.model.n_customers_ == ref.model.n_customers_
    assert got.model.columns_ == ref.model.columns_
    assert got.model.time_unit_ == ref.model.time_unit_
    for key in ("n_rows", "n_distinct_rows"):
        assert got.model.diagnostics_[key] == ref.model.diagnostics_[key], key
    assert set(got.models) == set(ref.models)
    for name, model in got.models.items():
        assert model.params_ == ref.models[name].params_, name
    for field in (
        "calibration_end",
        "observation_end",
        "holdout",
        "holdout_rule",
        "time_unit",
        "discrete",
        "n_customers",
        "n_new_in_holdout",
    ):
        assert getattr(got, field) == getattr(ref, field), field


def _lazy(frame: pd.DataFrame) -> Any:
    return pl.from_pandas(frame).lazy()


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    return load_cdnow()


@pytest.fixture(scope="module")
def text_tz_log() -> pd.DataFrame:
    """Text ids (sorted unlike the numbers) and local times across two DST changes."""
    log = simulate_transactions(
        1500, model="paretonbd", seed=11, observation_weeks=70, acquisition_weeks=60
    )
    rng = np.random.default_rng(2)
    late = rng.integers(0, 2, len(log)).astype(bool)  # late evening: another UTC day
    dates = log["date"].dt.normalize() + pd.to_timedelta(np.where(late, 23, 9), unit="h")
    return pd.DataFrame(
        {
            "customer_id": "c" + (log["customer_id"] * 7919 % 10007).astype(str),
            "date": dates.dt.tz_localize("Europe/Berlin", nonexistent="shift_forward"),
        }
    ).sample(frac=1.0, random_state=4, ignore_index=True)


def _discrete_log(n: int, seed: int, n_weeks: int = 40) -> pd.DataFrame:
    """One purchase opportunity a week (Wednesdays), staggered first purchases."""
    rng = np.random.default_rng(seed)
    p = rng.beta(1.5, 1.0, n)
    theta = rng.beta(0.8, 4.0, n)
    start = rng.integers(0, 8, n)
    week = np.arange(n_weeks)
    alive = np.cumprod(rng.random((n, n_weeks)) >= theta[:, None], axis=1).astype(bool)
    buys = (week >= start[:, None]) & (alive | (week == start[:, None]))
    buys &= (rng.random((n, n_weeks)) < p[:, None]) | (week == start[:, None])
    cust, wk = np.nonzero(buys)
    day = np.datetime64("2021-01-06") + 7 * wk  # a Wednesday
    return pd.DataFrame({"customer_id": cust + 100, "date": pd.to_datetime(day)})


# ------------------------------------------------------------------ against the engine path
def test_cdnow_equals_the_engine_path(cdnow: pd.DataFrame) -> None:
    got = select_model(cdnow)
    _same(got, select_model(_lazy(cdnow)))
    assert got.n_customers == 23570 and got.model.diagnostics_["n_rows"] == 23570


@pytest.mark.parametrize("unit", ["W", "D", "M", 14])
def test_text_ids_and_local_times_equal_the_engine_path(
    text_tz_log: pd.DataFrame, unit: Any
) -> None:
    got = select_model(text_tz_log, time_unit=unit)
    _same(got, select_model(_lazy(text_tz_log), time_unit=unit))
    assert got.n_new_in_holdout > 0  # customers whose first purchase is in the holdout


def test_discrete_log_equals_the_engine_path() -> None:
    log = _discrete_log(1500, seed=7)
    got = select_model(log, time_unit="W")
    assert got.discrete and "BGBB" in got.models
    _same(got, select_model(_lazy(log), time_unit="W"))
    # discrete forced on a continuous log: whole periods as opportunities
    sim = simulate_transactions(600, seed=3, observation_weeks=50)
    sim["date"] = sim["date"].dt.floor("s")  # polars keeps microseconds
    _same(
        select_model(sim, time_unit="W", discrete=True, candidates=["BGNBD", "BGBB"]),
        select_model(_lazy(sim), time_unit="W", discrete=True, candidates=["BGNBD", "BGBB"]),
    )


def test_calibration_end_given_and_forced_model_equal_the_engine_path(
    cdnow: pd.DataFrame,
) -> None:
    kw: dict[str, Any] = {"calibration_end": "1997-09-30", "model": "ParetoNBD"}
    _same(select_model(cdnow, **kw), select_model(_lazy(cdnow), **kw))


def test_the_callers_frame_is_unchanged(text_tz_log: pd.DataFrame) -> None:
    before = text_tz_log.copy(deep=True)
    select_model(text_tz_log, time_unit="W")
    pd.testing.assert_frame_equal(text_tz_log, before)


@settings(max_examples=6, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_row_order_does_not_change_the_result(seed: int) -> None:
    log = simulate_transactions(300, model="bgnbd", seed=21, observation_weeks=45)
    ref = select_model(log, time_unit="W")
    shuffled = log.sample(frac=1.0, random_state=seed % (2**31), ignore_index=True)
    _same(select_model(shuffled, time_unit="W"), ref)


# ------------------------------------------------------------------- with a summary
# ----------------------------------------------------------------------- the kernel
def _rows(data: st.DataObject) -> tuple[np.ndarray, np.ndarray]:
    n = data.draw(st.integers(1, 60))
    codes = np.array(data.draw(st.lists(st.integers(0, 9), min_size=n, max_size=n)))
    days = np.array(data.draw(st.lists(st.integers(0, 25), min_size=n, max_size=n)))
    return codes, days


@settings(max_examples=60, deadline=None)
@given(data=st.data(), block=st.integers(1, 8), cal=st.integers(0, 25))
def test_kernel_counts_match_group_bys(data: st.DataObject, block: int, cal: int) -> None:
    codes, days = _rows(data)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(cells, "BLOCK", block)
        keys = cells.sorted_keys(codes + 5, 5, 10, days + 100, 1, None, int(days.min()) + 100)
        active, cohorts = cells.period_counts(keys)
        per = cells.customer_periods(keys, int(np.unique(codes).size), cal - keys.lo + 100)
    rel = days - days.min()
    cells_ = pd.DataFrame({"c": codes, "p": rel}).drop_duplicates()
    want_active = np.bincount(cells_["p"], minlength=keys.span)
    firsts = cells_.groupby("c")["p"].min()
    assert active.tolist() == want_active.tolist()
    assert cohorts.tolist() == np.bincount(firsts, minlength=keys.span).tolist()
    g = cells_.groupby("c")["p"]
    assert per.first.tolist() == g.min().tolist()
    assert per.last.tolist() == g.max().tolist()
    assert per.n_periods.tolist() == g.size().tolist()
    cal_rel = cal - int(days.min())
    in_cal = cells_[cells_["p"] <= cal_rel].groupby("c")["p"]
    n_cal = in_cal.size().reindex(g.size().index, fill_value=0)
    last_cal = in_cal.max().reindex(g.size().index, fill_value=0)
    assert per.n_cal.tolist() == n_cal.tolist()
    assert per.last_cal.tolist() == last_cal.tolist()


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(
        st.tuples(st.integers(0, 6), st.integers(0, 30), st.integers(0, 40)),
        min_size=1,
        max_size=80,
    )
)
def test_distinct_histories_are_those_of_compress_rows(rows: list[tuple[int, int, int]]) -> None:
    f, r, a = (np.array(c) for c in zip(*rows, strict=True))
    distinct, counts, inverse = cells.distinct_histories(f, r, a)
    ref, ref_counts, ref_inverse = compress_rows([c.astype(np.float64) for c in (f, r, a)])
    assert [d.astype(np.float64).tolist() for d in distinct] == [x.tolist() for x in ref]
    assert counts.tolist() == ref_counts.tolist()
    assert inverse is not None and inverse.tolist() == ref_inverse.tolist()
