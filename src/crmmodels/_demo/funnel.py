"""Demo step: simulated sales funnel -> stage metrics, forecast, backtest, velocity."""

from __future__ import annotations

from pathlib import Path

from crmmodels.datasets._funnel import simulate_funnel
from crmmodels.funnel import forecast_backtest, funnel_metrics, pipeline_forecast, sales_velocity


def run(out_dir: Path) -> list[str]:
    """Simulate a stage-history log, measure the funnel and plot it."""
    import matplotlib.pyplot as plt

    sim = simulate_funnel(20_000, seed=7)
    res = funnel_metrics(sim.history, amount_col="amount", segment_col="segment", cohort="Q")
    cols = ["stage", "entered", "advanced", "dropped", "open", "conversion", "time_mean"]
    table = res.to_frame()[cols].round(3)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.5))
    res.plot(ax=ax1)
    res.plot(ax=ax2, kind="time")
    fig.tight_layout()
    path = out_dir / "funnel.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    forecast = pipeline_forecast(res)
    backtest = forecast_backtest(res, "2024-10-01")
    velocity = sales_velocity(res)
    truth = sim.truth.set_index("stage")
    return [
        f"Simulated funnel: {res.n_events:,} stage events of {res.n_entities:,} "
        f"opportunities (as of {res.observation_end}); true conversion "
        f"{truth['conversion'].tolist()}, true mean days {truth['mean_days'].tolist()}.",
        "Per-stage metrics (mode 'any'):\n" + table.to_string(index=False),
        f"Bottleneck stage: {res.bottleneck}; overall win rate {res.win_rate:.3f}.",
        "Conversion trend by entry quarter:\n" + res.conversion_trend("Q").round(3).to_string(),
        "Weighted pipeline forecast:\n" + forecast.to_frame().round(2).to_string(index=False),
        f"Backtest at {backtest.cut}: predicted {backtest.predicted_wins:.1f} wins, actual "
        f"{backtest.actual_wins:.0f} ({backtest.still_open:.0f} still open).",
        f"Sales velocity: {velocity.opportunities} open x {velocity.win_rate:.3f} win rate x "
        f"{velocity.avg_deal_size:,.0f} avg deal / {velocity.cycle_days:.1f} days = "
        f"{velocity.velocity:,.0f} per day.",
        f"figure: {path}",
    ]
