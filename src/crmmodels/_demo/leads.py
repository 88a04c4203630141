"""Demo step: simulated leads -> calibrated lead scores -> the pipeline forecast."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from crmmodels.datasets import simulate_leads
from crmmodels.funnel import funnel_metrics, lead_scores, pipeline_forecast

FEATURES = ["source", "industry", "engagement", "budget"]


def _lead_log(leads: pd.DataFrame) -> pd.DataFrame:
    """A two-stage log of the leads: created, then won or lost a week later if closed."""
    closed = leads[leads["outcome"] != "open"]
    created = pd.DataFrame(
        {
            "entity_id": leads["lead_id"],
            "stage": "lead_generation",
            "entered_at": leads["created_at"],
        }
    )
    ends = pd.DataFrame(
        {
            "entity_id": closed["lead_id"],
            "stage": np.where(closed["outcome"] == "won", "closed_won", "closed_lost"),
            "entered_at": closed["created_at"] + pd.Timedelta(days=7),
        }
    )
    return pd.concat([created, ends], ignore_index=True)


def run(out_dir: Path) -> list[str]:
    """Score simulated leads, check the score on the latest closed ones, plot it."""
    import matplotlib.pyplot as plt

    sim = simulate_leads(8000, seed=3)
    res = lead_scores(sim.leads, feature_cols=FEATURES, stage_col="stage")
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.5))
    res.plot(ax=ax1, kind="gains")
    res.plot(ax=ax2, kind="calibration")
    fig.tight_layout()
    path = out_dir / "lead_scoring.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    is_open = (sim.leads["outcome"] == "open").to_numpy()
    funnel = funnel_metrics(
        _lead_log(sim.leads),
        stages=["lead_generation", "closed_won"],
        observation_end=sim.leads["created_at"].max(),
    )
    plain = pipeline_forecast(funnel)
    scored = pipeline_forecast(funnel, entry_probabilities=res)
    top = res.to_frame().head(5).round({"probability": 3})
    effects = res.effects.head(6)[["feature", "odds_ratio"]].round(2)
    return [
        f"Simulated leads: {len(sim.leads):,} ({res.n_won:,} won, {res.n_lost:,} lost, "
        f"{res.n_open:,} open).",
        f"Validation on the {res.n_validation:,} latest closed leads (from "
        f"{res.validation_start}): AUC {res.auc:.3f} [{res.auc_low:.3f}, {res.auc_high:.3f}], "
        f"Brier {res.brier:.4f} (base rate {res.brier_base:.4f}), Hosmer-Lemeshow p "
        f"{res.hosmer_lemeshow_p:.2f}.",
        "Gains by decile:\n"
        + res.gains[["decile", "n", "won_rate", "lift", "cumulative_gain"]]
        .round(3)
        .to_string(index=False),
        "Largest effects (odds ratios):\n" + effects.to_string(index=False),
        "Top open leads:\n" + top.to_string(index=False),
        f"Expected won deals from the open leads: {res.expected_wins:.1f} by their scores, "
        f"{plain.expected_wins:.1f} by the funnel's historical rate, "
        f"{sim.probability[is_open].sum():.1f} by the simulation's truth "
        f"(forecast with scores: {scored.expected_wins:.1f}).",
        f"figure: {path}",
    ]
