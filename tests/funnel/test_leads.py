"""Lead scoring: recovery of simulated effects, calibration, leaks, bad input, the forecast join."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmmodels.datasets import simulate_leads
from crmmodels.errors import ArgumentError, CRMModelsWarning, DataError, SchemaError
from crmmodels.funnel import funnel_metrics, lead_scores, pipeline_forecast
from crmmodels.funnel._leads_metrics import delong_auc, gains_table

FEATURES = ["source", "industry", "engagement", "budget"]


def _validation_rows(leads: pd.DataFrame, n_train: int) -> np.ndarray:
    closed = leads[leads["outcome"] != "open"].sort_values(["created_at", "lead_id"])
    return closed.index.to_numpy()[n_train:]


@pytest.fixture(scope="module")
def big() -> tuple[object, object]:
    sim = simulate_leads(20_000, seed=5)
    return sim, lead_scores(sim.leads, feature_cols=FEATURES)


def test_the_score_reaches_the_bayes_auc_on_the_same_validation_leads(big) -> None:
    sim, res = big
    rows = _validation_rows(sim.leads, res.n_train)
    assert res.n_validation == rows.size
    bayes = delong_auc(sim.won[rows], sim.probability[rows]).auc
    assert abs(res.auc - bayes) < 0.02
    assert res.auc_low < res.auc < res.auc_high
    assert res.brier < res.brier_base


def test_the_probabilities_are_calibrated_per_decile(big) -> None:
    sim, res = big
    cal = res.calibration
    n = cal["n"].to_numpy()
    pred = cal["predicted_mean"].to_numpy()
    obs = cal["observed_rate"].to_numpy()
    # Hosmer-Lemeshow-like: every bin within 3 binomial standard errors (and 0.01)
    assert np.all(np.abs(obs - pred) <= 3 * np.sqrt(pred * (1 - pred) / n) + 0.01)
    assert res.hosmer_lemeshow_p > 0.001
    # open leads: the expected wins are those of the true probabilities
    is_open = (sim.leads["outcome"] == "open").to_numpy()
    truth = sim.probability[is_open].sum()
    assert abs(res.expected_wins - truth) / truth < 0.08
    assert res.n_open == int(is_open.sum())


def test_the_odds_ratios_recover_the_simulated_effects(big) -> None:
    sim, res = big
    e = res.effects.set_index("feature")["coefficient"]
    closed = sim.leads[sim.leads["outcome"] != "open"]
    sd = closed["engagement"].std(ddof=0)
    assert e["engagement"] / sd == pytest.approx(sim.effects["engagement"], abs=0.1)
    ref = e["source=referral"] - e["source=web"]
    cold = e["source=cold_call"] - e["source=web"]
    assert ref == pytest.approx(sim.effects["source:referral"], abs=0.15)
    assert cold == pytest.approx(sim.effects["source:cold_call"], abs=0.15)
    assert "budget missing" in e.index
    assert np.allclose(res.effects["odds_ratio"], np.exp(res.effects["coefficient"]))


def test_gains_and_lift_add_up(big) -> None:
    _, res = big
    g = res.gains
    assert g["n"].sum() == res.n_validation
    assert g["cumulative_gain"].iloc[-1] == pytest.approx(1.0)
    assert g["lift"].iloc[0] > 2.0 > 1.0 > g["lift"].iloc[-1]
    assert (np.diff(g["won_rate"]) <= 0.05).all()  # roughly decreasing from the top


def test_the_scored_table_ranks_the_open_leads(big) -> None:
    _, res = big
    t = res.to_frame()
    assert list(t.columns) == ["lead_id", "created_at", "probability", "rank", "decile"]
    assert t["lead_id"].is_unique
    assert (np.diff(t["probability"]) <= 0).all()
    assert t["rank"].iloc[0] == 1 and set(t["decile"]) == set(range(1, 11))
    assert res.probabilities.loc[t["lead_id"].iloc[0]] == t["probability"].iloc[0]
    assert set(res.validation) >= {"auc", "auc_low", "auc_high", "brier", "hosmer_lemeshow"}
    assert "LeadScoresResult(" in repr(res)


def test_delong_matches_the_pairwise_definition() -> None:
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(0)
    y = rng.random(60) < 0.4
    s = np.round(rng.random(60) + 0.5 * y, 1)  # ties on purpose
    pos, neg = s[y], s[~y]
    psi = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
    v10, v01 = psi.mean(axis=1), psi.mean(axis=0)
    var = v10.var(ddof=1) / pos.size + v01.var(ddof=1) / neg.size
    r = delong_auc(y, s, level=0.95)
    assert r.auc == pytest.approx(psi.mean()) == pytest.approx(roc_auc_score(y, s))
    assert r.se == pytest.approx(np.sqrt(var))
    assert r.high - r.auc == pytest.approx(1.959964 * r.se, rel=1e-5)


def test_gains_table_by_hand() -> None:
    y = np.array([1, 0, 1, 0, 0, 0, 1, 0], dtype=bool)
    p = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2])
    g = gains_table(y, p, n_bins=4)
    assert g["won"].tolist() == [1, 1, 0, 1]
    assert g["lift"].tolist() == pytest.approx([0.5 / 0.375, 0.5 / 0.375, 0.0, 0.5 / 0.375])
    assert g["cumulative_gain"].tolist() == pytest.approx([1 / 3, 2 / 3, 2 / 3, 1.0])


def test_gradient_boosting_on_request() -> None:
    sim = simulate_leads(6000, seed=11)
    res = lead_scores(sim.leads, feature_cols=FEATURES, model="gradient_boosting")
    rows = _validation_rows(sim.leads, res.n_train)
    bayes = delong_auc(sim.won[rows], sim.probability[rows]).auc
    assert res.model == "gradient_boosting"
    assert bayes - 0.03 < res.auc <= bayes + 0.02
    assert list(res.effects.columns) == ["column", "importance", "importance_std"]
    imp = res.effects.set_index("column")["importance"]
    # engagement moves the log-odds most (0.8 per sd), industry least (+-0.6, 20% missing)
    assert imp.index[0] == "engagement" and imp["engagement"] > 0.03
    assert imp["industry"] < imp["engagement"] and np.isfinite(imp).all()


def test_missing_values_and_categories_first_seen_among_open_leads() -> None:
    leads = simulate_leads(3000, seed=2).leads
    is_open = leads["outcome"] == "open"
    leads.loc[is_open, "source"] = "partner"  # unknown to the model
    leads.loc[is_open.to_numpy() & (np.arange(len(leads)) % 2 == 0), "engagement"] = np.nan
    leads["flag"] = leads["lead_id"] % 3 == 0  # a boolean feature
    res = lead_scores(leads, feature_cols=[*FEATURES, "flag"], calibration="isotonic")
    t = res.to_frame()
    assert len(t) == int(is_open.sum())
    assert t["probability"].between(0, 1).all() and t["probability"].notna().all()


def test_a_field_recorded_after_the_outcome_is_reported_as_a_leak() -> None:
    leads = simulate_leads(3000, seed=4, leak=True).leads
    with pytest.warns(CRMModelsWarning, match="days_to_close.*missing exactly for the open"):
        res = lead_scores(leads, feature_cols=[*FEATURES, "days_to_close"])
    assert res.leak_suspects == ("days_to_close",)
    row = res.leak_check.set_index("column").loc["days_to_close"]
    assert row["missing_open"] == 1.0 and row["missing_closed"] == 0.0
    # a field that separates won from lost among closed leads: the AUC rule
    leads["signed"] = np.where(leads["outcome"] == "won", 1.0, 0.0)
    leads.loc[leads["outcome"] == "open", "signed"] = 0.0
    with pytest.warns(CRMModelsWarning, match="'signed': alone it gives a validation AUC of 1"):
        lead_scores(leads, feature_cols=["source", "signed"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clean = lead_scores(leads, feature_cols=FEATURES)
    assert clean.leak_suspects == () and not clean.leak_check["suspect"].any()


def test_outcomes_as_booleans_or_numbers_with_missing_as_open() -> None:
    leads = simulate_leads(1500, seed=6).leads
    text = lead_scores(leads, feature_cols=FEATURES)
    as_bool = leads.assign(
        outcome=leads["outcome"].map({"won": True, "lost": False, "open": None}).astype("boolean")
    )
    as_num = leads.assign(outcome=leads["outcome"].map({"won": 1.0, "lost": 0.0, "open": np.nan}))
    for other in (as_bool, as_num):
        res = lead_scores(other, feature_cols=FEATURES)
        pd.testing.assert_frame_equal(res.to_frame(), text.to_frame())
    custom = leads.assign(outcome=leads["outcome"].map({"won": "W", "lost": "L", "open": "?"}))
    res = lead_scores(custom, feature_cols=FEATURES, won="W", lost=["L"], still_open="?")
    assert res.auc == text.auc


def test_bad_input_is_refused_with_counts_and_an_example() -> None:
    leads = simulate_leads(600, seed=8).leads
    with pytest.raises(SchemaError, match="leads has no column 'budgets'"):
        lead_scores(leads, feature_cols=["budgets"])
    dup = pd.concat([leads, leads.iloc[[3, 5]]])
    with pytest.raises(DataError, match=r"'lead_id' repeats a lead id .* in 4 rows .*example: 4"):
        lead_scores(dup, feature_cols=FEATURES)
    with pytest.raises(DataError, match="no closed lead"):
        lead_scores(leads.assign(outcome="open"), feature_cols=FEATURES)
    one = leads.assign(outcome=leads["outcome"].replace({"lost": "won"}))
    with pytest.raises(DataError, match="all won"):
        lead_scores(one, feature_cols=FEATURES)
    typo = leads.copy()
    typo.loc[[1, 2], "outcome"] = "Won"
    with pytest.raises(DataError, match=r"'outcome' is none of .* in 2 rows .*'Won'"):
        lead_scores(typo, feature_cols=FEATURES)
    nodate = leads.copy()
    nodate.loc[7, "created_at"] = pd.NaT
    with pytest.raises(DataError, match=r"'created_at' is missing in 1 row .*lead 8"):
        lead_scores(nodate, feature_cols=FEATURES)
    with pytest.raises(ArgumentError, match="feature_cols"):
        lead_scores(leads, feature_cols=["lead_id", "source"])
    with pytest.raises(ArgumentError, match="model"):
        lead_scores(leads, feature_cols=FEATURES, model="forest")
    late = leads.copy()  # every late closed lead lost: the validation part has one class
    late.loc[late["created_at"] > "2024-09-01", "outcome"] = "lost"
    with pytest.raises(DataError, match=r"validation part .* needs both"):
        lead_scores(late.assign(outcome=late["outcome"]), feature_cols=FEATURES)


def test_the_callers_frame_is_left_alone_and_polars_gives_the_same() -> None:
    pl = pytest.importorskip("polars")
    leads = simulate_leads(1500, seed=9).leads
    before = leads.copy()
    res = lead_scores(leads, feature_cols=FEATURES, stage_col="stage")
    pd.testing.assert_frame_equal(leads, before)
    assert "stage" in res.to_frame().columns
    res_pl = lead_scores(pl.from_pandas(leads), feature_cols=FEATURES, stage_col="stage")
    assert np.allclose(res_pl.to_frame()["probability"], res.to_frame()["probability"])


@settings(max_examples=4, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_every_open_lead_is_scored_once_whatever_the_row_order(seed: int) -> None:
    leads = simulate_leads(500, seed=seed % 7).leads
    res = lead_scores(leads, feature_cols=FEATURES)
    shuffled = leads.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    again = lead_scores(shuffled, feature_cols=FEATURES)
    open_ids = set(leads.loc[leads["outcome"] == "open", "lead_id"])
    assert sorted(res.to_frame()["lead_id"]) == sorted(open_ids)
    pd.testing.assert_frame_equal(res.to_frame(), again.to_frame())


@pytest.mark.parametrize("kind", ["gains", "calibration", "effects"])
def test_plots_return_axes(big, kind: str) -> None:
    import matplotlib.pyplot as plt

    _, res = big
    ax = res.plot(kind=kind)
    assert type(ax).__name__ == "Axes"
    plt.close(ax.figure)


# --- the funnel join: lead scores as the first stage's probabilities -----------------


def _log() -> pd.DataFrame:
    rows = [
        (1, "lead_generation", 0), (1, "proposal", 2), (1, "closed_won", 5),
        (2, "lead_generation", 0), (2, "closed_lost", 3),
        (3, "lead_generation", 1), (3, "proposal", 2), (3, "closed_lost", 6),
        (4, "lead_generation", 4), (5, "lead_generation", 5), (6, "lead_generation", 6),
        (7, "lead_generation", 3), (7, "proposal", 7),
    ]  # fmt: skip
    log = pd.DataFrame(rows, columns=["entity_id", "stage", "entered_at"])
    log["entered_at"] = log["entered_at"].astype(float)
    log["amount"] = log["entity_id"].map({1: 10, 2: 20, 3: 30, 4: 40, 5: 50, 6: 60, 7: 70}) * 1.0
    return log


def test_entry_probabilities_replace_the_first_stage_rate_by_hand() -> None:
    res = funnel_metrics(
        _log(), stages=["lead_generation", "proposal", "closed_won"], amount_col="amount"
    )
    plain = pipeline_forecast(res)
    # historical rates: from the first stage 1 won of 3 closed; from proposal 1 of 2
    assert plain.table["win_rate"].tolist() == pytest.approx([1 / 3, 1 / 2])
    assert plain.expected_wins == pytest.approx(3 / 3 + 1 / 2)
    scores = pd.Series({4: 0.2, 5: 0.5, 99: 0.7, 7: 0.9})  # 6 unscored; 7 is in proposal
    fc = pipeline_forecast(res, entry_probabilities=scores)
    first = fc.table.iloc[0]
    assert first["expected_wins"] == pytest.approx(0.2 + 0.5 + 1 / 3)
    assert first["weighted_amount"] == pytest.approx(0.2 * 40 + 0.5 * 50 + 60 / 3)
    assert fc.table["scored"].tolist() == [2, 0]
    assert fc.table.iloc[1]["expected_wins"] == pytest.approx(0.5)  # keeps its stage rate
    assert fc.expected_wins == pytest.approx(0.2 + 0.5 + 1 / 3 + 0.5)
    assert fc.table["win_rate"].tolist() == plain.table["win_rate"].tolist()
    assert (fc.n_scored, fc.n_unused) == (2, 2)
    assert fc.deals.set_index("entity_id").loc[5, "win_rate"] == 0.5
    assert "scored" not in plain.table.columns and plain.n_scored == 0


def test_lead_scores_feed_the_forecast_their_sum() -> None:
    sim = simulate_leads(2000, seed=12)
    res = lead_scores(sim.leads, feature_cols=FEATURES)
    leads = sim.leads
    log = pd.DataFrame(
        {
            "entity_id": leads["lead_id"],
            "stage": "lead_generation",
            "entered_at": leads["created_at"],
        }
    )
    closed = leads[leads["outcome"] != "open"]
    ends = pd.DataFrame(
        {
            "entity_id": closed["lead_id"],
            "stage": np.where(closed["outcome"] == "won", "closed_won", "closed_lost"),
            "entered_at": closed["created_at"] + pd.Timedelta(days=1),
        }
    )
    funnel = funnel_metrics(
        pd.concat([log, ends]),
        stages=["lead_generation", "closed_won"],
        observation_end=leads["created_at"].max(),
    )
    fc = pipeline_forecast(funnel, entry_probabilities=res)
    assert fc.n_scored == res.n_open
    assert fc.expected_wins == pytest.approx(res.expected_wins)


def test_entry_probabilities_must_be_probabilities() -> None:
    res = funnel_metrics(_log(), stages=["lead_generation", "proposal", "closed_won"])
    with pytest.raises(DataError, match=r"'entry_probabilities' is not a probability .* 1 row"):
        pipeline_forecast(res, entry_probabilities=pd.Series({4: 1.5, 5: 0.1}))
    with pytest.raises(ArgumentError, match="entry_probabilities must be"):
        pipeline_forecast(res, entry_probabilities=[0.1, 0.2])


def test_the_demo_step_runs_the_path_from_lead_to_won_deal(tmp_path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from crmmodels._demo.leads import run

    lines = run(tmp_path)
    assert (tmp_path / "lead_scoring.png").exists()
    assert any(line.startswith("Expected won deals from the open leads") for line in lines)
