"""Build notebooks/04_lifecycle_funnel_retention.ipynb (no stored outputs).

Run: python docs/scripts/make_lifecycle_retention_notebook.py
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

OUT = Path(__file__).resolve().parents[2] / "notebooks" / "04_lifecycle_funnel_retention.ipynb"

CELLS = [
    (
        "md",
        "# Customer lifecycle, sales funnel and retention\n\n"
        "The customer lifecycle (Buttle 2009; Dwyer, Schurr & Oh 1987), the sales funnel "
        "(Söhnchen & Albers 2010) and retention (Grönroos 1994; Berger & Nasr 1998) in one "
        "tour (full citations: docs/references.md):\n\n"
        "1. lifecycle stages and transitions (`crmmodels.lifecycle`) and cohort retention "
        "(`crmmodels.retention`) on the CDNOW transaction log (23,570 customers who first "
        "bought in the first quarter of 1997, followed to the end of June 1998);\n"
        "2. the sales funnel (`crmmodels.funnel`) on a simulated stage-history log with "
        "known per-stage conversion and mean stay, so the numbers can be checked.",
    ),
    (
        "code",
        "import matplotlib\n"
        "matplotlib.use('Agg')\n"
        "import pandas as pd\n\n"
        "from crmmodels.datasets import load_cdnow, simulate_funnel\n"
        "from crmmodels.funnel import (\n"
        "    forecast_backtest,\n"
        "    funnel_metrics,\n"
        "    pipeline_forecast,\n"
        "    sales_velocity,\n"
        ")\n"
        "from crmmodels.lifecycle import lifecycle_stages, lifecycle_transitions\n"
        "from crmmodels.retention import cohort_retention, retention_metrics\n\n"
        "tx = load_cdnow()\n"
        "tx.head()",
    ),
    (
        "md",
        "## 1. Lifecycle stages at a date (purchase scheme)\n\n"
        "Prospect / first-time / loyal / churned. Churned here means no purchase in the "
        "180 days before `as_of`. Two made-up customer ids stand for leads that never "
        "bought: they are prospects.",
    ),
    (
        "code",
        "stages = lifecycle_stages(\n"
        "    tx, as_of='1997-09-30', amount_col='amount', churn_after_days=180,\n"
        "    customers=[900001, 900002],\n"
        ")\n"
        "stages.summary",
    ),
    ("code", "stages.to_frame().head()"),
    ("code", "stages.plot();"),
    (
        "md",
        "### Churn from a CLV model\n\n"
        "Any object with `probability_alive(frequency, recency, T)` can decide who is "
        "churned (a fitted `crmmodels.clv.BGNBD`, for instance). Here a toy rule stands "
        "in for a model: P(alive) falls with the weeks since the last purchase.",
    ),
    (
        "code",
        "import numpy as np\n\n"
        "class WeeksSinceLast:\n"
        "    def probability_alive(self, frequency, recency, T):\n"
        "        return np.exp(-(np.asarray(T) - np.asarray(recency)) / 26.0)\n\n"
        "by_model = lifecycle_stages(tx, as_of='1997-09-30', model=WeeksSinceLast(),\n"
        "                            alive_threshold=0.5, time_unit='W')\n"
        "by_model.summary[['customers', 'share']]",
    ),
    (
        "md",
        "## 2. Relationship stages (relationship scheme)\n\n"
        "Exploration / formation / stability / decline from the number of purchase days "
        "and the trend of the customer's value in the last 90 days against their own "
        "history (rules and thresholds in the docs page).",
    ),
    (
        "code",
        "rel = lifecycle_stages(tx, as_of='1998-06-30', scheme='relationship',\n"
        "                       amount_col='amount')\n"
        "rel.summary",
    ),
    ("code", "rel.to_frame().sort_values('trend', ascending=False).head()"),
    (
        "md",
        "## 3. Transitions between quarterly snapshots\n\n"
        "Every customer is counted once per snapshot; the row `not_yet_customer` counts "
        "customers who appear between two snapshots.",
    ),
    (
        "code",
        "snapshots = list(pd.date_range('1997-01-31', '1998-06-30', freq='QE'))\n"
        "moves = lifecycle_transitions(tx, snapshots=snapshots, churn_after_days=180)\n"
        "moves.stage_counts",
    ),
    ("code", "moves.rates.round(2)"),
    ("code", "moves.time_in_stage.round(2)"),
    ("code", "moves.plot();"),
    ("code", "moves.plot(kind='heatmap');"),
    (
        "md",
        "## 4. Sales funnel\n\n"
        "Stage-history log -> per-stage funnel metrics, cohorts, weighted pipeline forecast "
        "with a backtest, and sales velocity. The log is simulated with known per-stage "
        "conversion and mean stay.",
    ),
    ("code", "sim = simulate_funnel(20_000, seed=7)\nsim.history.head()"),
    ("code", "sim.truth"),
    (
        "md",
        "### Per-stage metrics\n\n"
        'Mode `"any"`: reaching a later stage implies the earlier ones. Times are in days, '
        "finished stays only; open stays are reported separately.",
    ),
    (
        "code",
        'res = funnel_metrics(sim.history, amount_col="amount", segment_col="segment", '
        'cohort="Q")\n'
        'res.to_frame()[["stage", "entered", "advanced", "dropped", "open", "conversion",\n'
        '                "cumulative_conversion", "time_mean", "time_median", "time_p90",\n'
        '                "open_time_median", "bottleneck"]].round(3)',
    ),
    ("md", "The truth is recovered: conversion among closed entities and mean stays."),
    (
        "code",
        't = res.to_frame().set_index("stage").iloc[:-1]\n'
        'check = sim.truth.set_index("stage").assign(\n'
        '    conversion_hat=t["advanced"] / (t["advanced"] + t["dropped"]),\n'
        '    mean_days_hat=t["time_mean"],\n'
        ")\n"
        "check.round(3)",
    ),
    ("code", "res.plot();"),
    ("code", 'res.plot(kind="time");'),
    (
        "md",
        "### Data problems are reported, never dropped silently\n\n"
        "A hand-made log with a duplicate, a skipped stage, a re-entry and an entity that "
        "only has an exit event:",
    ),
    (
        "code",
        "log = pd.DataFrame({\n"
        '    "entity_id": [1, 1, 1, 2, 2, 2, 3, 3, 4],\n'
        '    "stage": ["lead_generation", "lead_generation", "proposal_quote",\n'
        '              "lead_generation", "needs_analysis", "lead_generation",\n'
        '              "lead_generation", "closed_won", "closed_lost"],\n'
        '    "entered_at": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-01-09",\n'
        '                                  "2024-01-02", "2024-01-05", "2024-01-07",\n'
        '                                  "2024-01-03", "2024-01-20", "2024-01-04"]),\n'
        "})\n"
        "small = funnel_metrics(log)\n"
        "small.issues",
    ),
    (
        "code",
        'pd.concat({m: funnel_metrics(log, mode=m).to_frame().set_index("stage")[\n'
        '    ["entered", "advanced", "dropped", "open", "implied", "left_path", "reentries"]]\n'
        '    for m in ("any", "ordered")}, axis=1)',
    ),
    ("md", "### Cohorts, segments and the conversion trend"),
    ("code", 'res.conversion_trend("Q").round(3)'),
    ("code", "res.segments.round(3)"),
    ("md", "### Weighted pipeline forecast, backtest and sales velocity"),
    ("code", "pipeline_forecast(res).to_frame().round(2)"),
    (
        "code",
        'bt = forecast_backtest(res, "2024-10-01")\n'
        'print(f"predicted {bt.predicted_wins:.1f} wins, actual {bt.actual_wins:.0f}")\n'
        "bt.to_frame().round(2)",
    ),
    ("code", "sales_velocity(res)"),
    (
        "md",
        "## 5. Cohort retention\n\n"
        "Monthly first-purchase cohorts. Cells not yet observable are NaN; the recurring "
        "view starts the clock at each customer's first repeat purchase.",
    ),
    (
        "code",
        "cohorts = cohort_retention(tx, period='M')\ncohorts.rates.iloc[:, :8].round(3)",
    ),
    ("code", "cohorts.first_vs_recurring.head(8).round(3)"),
    ("code", "cohorts.plot(max_periods=18);"),
    ("code", "cohorts.plot(kind='curves');"),
    (
        "md",
        "## 6. Retention per period: transactional vs relationship view\n\n"
        "Grönroos (1994) contrasts transactional marketing (each sale, acquisition) with "
        "relationship marketing (keeping the customer). The same quarterly table "
        "split into the two views:",
    ),
    (
        "code",
        "metrics = retention_metrics(tx, period='Q', amount_col='amount')\n"
        "metrics.views().round(3)",
    ),
    (
        "code",
        "print(f'pooled retention {metrics.retention_rate:.3f}, '\n"
        "      f'expected relationship length {metrics.expected_lifetime:.2f} quarters, '\n"
        "      f'repeat-purchase rate {metrics.repeat_purchase_rate:.3f}')\n"
        "metrics.plot();",
    ),
]


def main() -> None:
    """Write the notebook."""
    nb = new_notebook()
    nb.cells = [new_markdown_cell(s) if k == "md" else new_code_cell(s) for k, s in CELLS]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    OUT.write_text(nbformat.writes(nb))
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
