"""Tests of the contractual retention models (sBG and BdW) against published values,
closed forms, direct sums and parameter recovery on simulated cohorts."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import polars as pl
import pytest
from scipy.special import betaln, hyp2f1

from crmmodels.errors import DataError, NotFittedError
from crmmodels.kernels import contractual as kc
from crmmodels.retention import (
    BetaDiscreteWeibull,
    ContractualRetentionResult,
    ShiftedBetaGeometric,
    cohort_retention,
)

REF = json.loads(
    (Path(__file__).resolve().parents[1] / "reference" / "contractual_fader_hardie_2007.json")
    .read_text()
)  # fmt: skip


def counts(segment: str, years: int | None = None) -> list[int]:
    pct = REF[segment]["survival_percent"]
    n = REF["customers_at_start"]
    out = [round(p * n / 100) for p in pct]
    return out if years is None else out[: years + 1]


# ---------------------------------------------------------------------------------------
# published values (Fader & Hardie 2007)
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("segment", ["high_end", "regular"])
def test_sbg_reproduces_the_published_estimates(segment: str) -> None:
    model = ShiftedBetaGeometric().fit(counts(segment, REF["fit_years"]), time_unit="Y")
    decimals = REF["params_decimals"]
    for name, value in REF[segment]["params"].items():
        assert round(model.params_[name], decimals) == value
    assert model.n_customers_ == 1000
    assert all(np.isfinite(v) and v > 0 for v in model.standard_errors_.values())


@pytest.mark.parametrize("segment", ["high_end", "regular"])
def test_sbg_projects_the_held_out_years_as_published(segment: str) -> None:
    fit_years = REF["fit_years"]
    model = ShiftedBetaGeometric().fit(counts(segment, fit_years))
    actual = np.array(REF[segment]["survival_percent"]) / 100
    p = REF[segment]["params"]
    t = np.arange(actual.size)
    published = np.exp(betaln(p["alpha"], p["beta"] + t) - betaln(p["alpha"], p["beta"]))
    ours = model.survival(t)
    np.testing.assert_allclose(ours, published, atol=5e-4)
    assert np.max(np.abs(ours[fit_years + 1 :] - actual[fit_years + 1 :])) < 0.02
    res = model.project(12, actual=counts(segment))
    frame = res.to_frame()
    assert frame["fitted"].sum() == fit_years + 1
    np.testing.assert_allclose(frame["projected_survival"], ours)
    np.testing.assert_allclose(frame["actual_survival"], actual, atol=6e-4)
    held = frame[~frame["fitted"]]
    assert (held["survivors"].to_numpy(dtype=float) == counts(segment)[fit_years + 1 :]).all()


def test_derl_matches_an_independent_implementation() -> None:
    ref = REF["derl_cross_check"]
    model = ShiftedBetaGeometric().fit(counts(ref["segment"], REF["fit_years"]))
    got = float(model.expected_residual_lifetime(ref["discount_rate"], renewals=ref["renewals"]))
    assert round(got, ref["decimals"]) == ref["value"]


# ---------------------------------------------------------------------------------------
# closed forms and direct sums
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "d"), [(0.704, 1.182, 0.1), (0.668, 3.806, 0.05), (3.0, 0.4, 0.2)]
)
def test_sbg_derl_is_fader_hardie_2010_eq6_and_the_direct_sum(a: float, b: float, d: float) -> None:
    renewals = np.array([0, 1, 4, 11])
    n = renewals + 1
    closed = (b + n - 1) / (a + b + n - 1) * hyp2f1(1, b + n, a + b + n, 1 / (1 + d))
    got = kc.sbg_derl(a, b, d, renewals)
    np.testing.assert_allclose(got, closed, rtol=1e-10)
    k = np.arange(4000)
    for i, ni in enumerate(n):  # direct sum of discounted conditional survival
        s = np.exp(betaln(a, b + ni + k) - betaln(a, b + ni - 1))
        np.testing.assert_allclose(got[i], np.sum(s * np.exp(-k * np.log1p(d))), rtol=1e-9)
    np.testing.assert_allclose(kc.bdw_derl(a, b, 1.0, d, renewals), got, rtol=1e-10)


def test_bdw_derl_is_the_direct_sum_away_from_c_one() -> None:
    a, b, c, d = 0.8, 1.5, 0.6, 0.08
    k = np.arange(1, 20000, dtype=float)
    s = np.exp(kc.log_survival(a, b, c, k))
    direct = np.sum(s * np.exp(-(k - 1) * np.log1p(d)))  # renewals = 0: periods 1, 2, ...
    np.testing.assert_allclose(kc.bdw_derl(a, b, c, d, [0])[0], direct, rtol=1e-9)


def test_bdw_with_c_one_equals_the_sbg() -> None:
    data = {"a": counts("regular", 7), "b": counts("high_end", 4)}
    sbg = ShiftedBetaGeometric().fit(data)
    bdw = BetaDiscreteWeibull().fit(data)
    p = sbg.params_
    t = np.arange(1, 30, dtype=float)
    np.testing.assert_allclose(
        kc.log_survival(p["alpha"], p["beta"], 1.0, t),
        betaln(p["alpha"], p["beta"] + t) - betaln(p["alpha"], p["beta"]),
        rtol=1e-14,
    )
    np.testing.assert_allclose(
        kc.retention_rate(p["alpha"], p["beta"], 1.0, t),
        kc.sbg_retention_rate(p["alpha"], p["beta"], t),
        rtol=1e-12,
    )
    logp = np.log(np.exp(kc.log_survival(p["alpha"], p["beta"], 1.0, t - 1))
                  - np.exp(kc.log_survival(p["alpha"], p["beta"], 1.0, t)))  # fmt: skip
    np.testing.assert_allclose(kc.sbg_log_pmf(p["alpha"], p["beta"], t), logp, rtol=1e-10)
    tallies = sbg.data_.likelihood_counts()
    ll_s, g_s = kc.sbg_log_likelihood(p["alpha"], p["beta"], *tallies)
    ll_b, g_b = kc.bdw_log_likelihood(p["alpha"], p["beta"], 1.0, *tallies)
    assert ll_s == pytest.approx(ll_b, rel=1e-12)
    np.testing.assert_allclose(g_s, g_b[:2], atol=1e-7)
    # the BdW optimum can only be as good or better: it nests the sBG
    assert bdw.log_likelihood_ >= sbg.log_likelihood_ - 1e-6


def test_gradients_match_finite_differences() -> None:
    tallies = (np.array([1.0, 2, 3, 5]), np.array([40.0, 30, 20, 5]),
               np.array([3.0, 5]), np.array([300.0, 200]))  # fmt: skip
    x = np.array([0.9, 2.1, 0.7])
    _, g = kc.bdw_log_likelihood(*x, *tallies)
    for j in range(3):
        h = np.zeros(3)
        h[j] = 1e-6
        num = (kc.bdw_log_likelihood(*(x + h), *tallies)[0]
               - kc.bdw_log_likelihood(*(x - h), *tallies)[0]) / 2e-6  # fmt: skip
        assert g[j] == pytest.approx(num, rel=1e-5)
    _, g2 = kc.sbg_log_likelihood(0.9, 2.1, *tallies)
    for j in range(2):
        h = np.zeros(2)
        h[j] = 1e-6
        num = (kc.sbg_log_likelihood(*(x[:2] + h), *tallies)[0]
               - kc.sbg_log_likelihood(*(x[:2] - h), *tallies)[0]) / 2e-6  # fmt: skip
        assert g2[j] == pytest.approx(num, rel=1e-5)


def test_subscriber_clv_is_the_discounted_survival_sum() -> None:
    model = ShiftedBetaGeometric().fit(counts("regular", 7))
    a, b = model.params_["alpha"], model.params_["beta"]
    t = np.arange(5000)
    s = np.exp(betaln(a, b + t) - betaln(a, b))
    direct = 30.0 * 0.5 * np.sum(s * np.exp(-t * np.log(1.1)))
    got = float(model.subscriber_clv(30.0, margin=0.5, discount_rate=0.1))
    assert got == pytest.approx(direct, rel=1e-9)
    # an annual rate on monthly periods is the same as the monthly equivalent rate
    monthly = (1.1) ** (1 / 12) - 1
    assert float(model.expected_residual_lifetime(0.1, discount_period=12)) == pytest.approx(
        float(model.expected_residual_lifetime(monthly))
    )
    existing = model.subscriber_clv(30.0, discount_rate=0.1, renewals=[0, 3])
    np.testing.assert_allclose(existing, 30.0 * kc.sbg_derl(a, b, 0.1, [0, 3]))


def test_residual_value_of_several_cohorts() -> None:
    data = {"2019": counts("regular", 5), "2020": counts("regular", 3)}
    model = ShiftedBetaGeometric().fit(data)
    table = model.residual_value(10.0, discount_rate=0.1)
    assert table["renewals"].tolist() == [5, 3]
    assert table["survivors"].tolist() == [counts("regular")[5], counts("regular")[3]]
    derl = model.expected_residual_lifetime(0.1, renewals=[5, 3])
    np.testing.assert_allclose(table["residual_value"], table["survivors"] * 10.0 * derl)


# ---------------------------------------------------------------------------------------
# recovery on simulated cohorts
# ---------------------------------------------------------------------------------------


def simulate(alpha: float, beta: float, c: float, sizes: list[int], lengths: list[int],
             seed: int) -> dict[str, list[int]]:  # fmt: skip
    rng = np.random.default_rng(seed)
    out = {}
    for i, (size, length) in enumerate(zip(sizes, lengths, strict=True)):
        t = kc.simulate_churn_periods(alpha, beta, c, size, rng)
        out[f"c{i}"] = [int((t > k).sum()) for k in range(length + 1)]
    return out


def test_sbg_recovers_simulated_parameters_from_cohorts_of_different_lengths() -> None:
    data = simulate(0.8, 2.5, 1.0, [20000, 15000, 10000], [10, 6, 3], seed=1)
    model = ShiftedBetaGeometric().fit(data)
    for name, true in {"alpha": 0.8, "beta": 2.5}.items():
        assert abs(model.params_[name] - true) < 4 * model.standard_errors_[name]
        assert model.params_[name] == pytest.approx(true, rel=0.15)


def test_bdw_recovers_simulated_parameters() -> None:
    truth = {"alpha": 1.2, "beta": 3.0, "c": 0.7}
    data = simulate(1.2, 3.0, 0.7, [40000, 30000], [12, 8], seed=2)
    model = BetaDiscreteWeibull().fit(data)
    for name, true in truth.items():
        assert abs(model.params_[name] - true) < 4 * model.standard_errors_[name]
    assert model.params_["c"] == pytest.approx(0.7, abs=0.1)
    # duration dependence is real here: the BdW beats the sBG by a wide margin
    assert model.log_likelihood_ > ShiftedBetaGeometric().fit(data).log_likelihood_ + 10


def test_simulated_survival_follows_the_model() -> None:
    rng = np.random.default_rng(3)
    t = kc.simulate_churn_periods(0.7, 1.8, 1.4, 200_000, rng)
    k = np.arange(1, 8)
    empirical = np.array([(t > j).mean() for j in k])
    np.testing.assert_allclose(empirical, np.exp(kc.log_survival(0.7, 1.8, 1.4, k)), atol=4e-3)


# ---------------------------------------------------------------------------------------
# inputs: cohort_retention, long frames, dicts; results, plots, persistence
# ---------------------------------------------------------------------------------------


def subscription_log() -> pd.DataFrame:
    """Monthly payments: every customer pays each month from the start until churning."""
    rng = np.random.default_rng(4)
    rows = []
    for cohort, size in zip(pd.period_range("2023-01", periods=4, freq="M"), [400, 300, 350, 250],
                            strict=True):  # fmt: skip
        churn = kc.simulate_churn_periods(1.0, 3.0, 1.0, size, rng)
        last_month = pd.Period("2023-09", freq="M")
        for i, months in enumerate(np.minimum(churn, 30).astype(int)):
            for k in range(months):
                month = cohort + k
                if month <= last_month:
                    rows.append((f"{cohort}-{i}", month.to_timestamp() + pd.Timedelta(days=3)))
    return pd.DataFrame(rows, columns=["customer_id", "date"])


def test_fits_from_cohort_retention_output_and_its_long_frame() -> None:
    cohorts = cohort_retention(subscription_log(), period="M", observation_end="2023-09-30")
    model = ShiftedBetaGeometric().fit(cohorts)
    assert model.time_unit_ == "M" and model.n_cohorts_ == 4
    assert model.n_customers_ == 1300
    from_long = ShiftedBetaGeometric().fit(
        pl.from_pandas(cohorts.to_frame().astype({"cohort": str}))
    )
    assert from_long.params_ == pytest.approx(model.params_, rel=1e-9)
    res = model.project(12)
    assert isinstance(res, ContractualRetentionResult)
    assert res.time_unit == "months" and res.n_cohorts == 4 and res.fit_end == 8
    frame = res.to_frame()
    assert len(frame) == 4 * 13
    last = frame[frame["cohort"] == frame["cohort"].iloc[-1]]
    assert last["fitted"].sum() == 6  # the April cohort is seen for periods 0 to 5


def test_pooled_fit_equals_a_fit_on_summed_tallies() -> None:
    a, b = counts("regular", 6), counts("high_end", 6)
    pooled = ShiftedBetaGeometric().fit({"a": a, "b": b})
    summed = ShiftedBetaGeometric().fit((np.array(a) + np.array(b)).tolist())
    assert pooled.params_ == pytest.approx(summed.params_, rel=1e-6)


def test_plot_draws_actual_and_projected_with_the_end_of_the_fit() -> None:
    model = ShiftedBetaGeometric().fit({"x": counts("regular", 7), "y": counts("high_end", 4)})
    ax = model.project(12, actual={"x": counts("regular")}).plot()
    try:
        vertical = [line for line in ax.get_lines() if np.ptp(line.get_xdata()) == 0
                    and len(line.get_xdata()) == 2]  # fmt: skip
        assert [float(line.get_xdata()[0]) for line in vertical] == [7.0]
        assert ax.get_legend() is not None
    finally:
        plt.close(ax.figure)


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    model = BetaDiscreteWeibull().fit({"2020": counts("high_end", 7)}, time_unit="Y")
    path = tmp_path / "bdw.json"
    model.save(path)
    back = BetaDiscreteWeibull.load(path)
    assert back.params_ == model.params_
    assert back.time_unit_ == "Y"
    np.testing.assert_allclose(back.survival([3, 9]), model.survival([3, 9]))
    assert back.data_.cohorts == ("2020",)
    with pytest.raises(DataError, match="BetaDiscreteWeibull"):
        ShiftedBetaGeometric.load(path)
    path.write_text(
        json.dumps({"format": "crmmodels.contractual/1", "model": "BetaDiscreteWeibull"})
    )
    with pytest.raises(DataError, match="incomplete or damaged"):
        BetaDiscreteWeibull.load(path)


def test_unfitted_model_and_summary() -> None:
    with pytest.raises(NotFittedError, match="fit"):
        ShiftedBetaGeometric().survival(3)
    model = ShiftedBetaGeometric().fit(counts("regular", 7))
    table = model.summary()
    assert table.index.tolist() == ["alpha", "beta"]
    assert (table["lower_95"] < table["estimate"]).all()
    assert "alpha=0.704" in repr(model)
    assert model.score(counts("regular", 7)) == pytest.approx(model.log_likelihood_ / 1000)


def test_demo_step_writes_its_figure_and_table(tmp_path: Path) -> None:
    from crmmodels._demo import contractual

    lines = contractual.run(tmp_path)
    assert (tmp_path / "contractual_retention.png").stat().st_size > 0
    assert "0.704" in lines[0] and "3.806" in lines[0]
