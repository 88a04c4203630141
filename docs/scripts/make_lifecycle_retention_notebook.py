"""Build notebooks/04_lifecycle_retention.ipynb (no stored outputs).

Run: python docs/scripts/make_lifecycle_retention_notebook.py
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

OUT = Path(__file__).resolve().parents[2] / "notebooks" / "04_lifecycle_retention.ipynb"

CELLS = [
    (
        "md",
        "# Customer lifecycle and retention\n\n"
        "MODELS.md sections 6 and 8 with `crmmodels.lifecycle` and `crmmodels.retention`, "
        "on the CDNOW transaction log (23,570 customers who first bought in the first "
        "quarter of 1997, followed to the end of June 1998).",
    ),
    (
        "code",
        "import matplotlib\n"
        "matplotlib.use('Agg')\n"
        "import pandas as pd\n\n"
        "from crmmodels.datasets import load_cdnow\n"
        "from crmmodels.lifecycle import lifecycle_stages, lifecycle_transitions\n"
        "from crmmodels.retention import cohort_retention, retention_metrics\n\n"
        "tx = load_cdnow()\n"
        "tx.head()",
    ),
    (
        "md",
        "## 1. Lifecycle stages at a date (article D)\n\n"
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
        "## 2. Relationship stages (article B)\n\n"
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
        "## 4. Cohort retention\n\n"
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
        "## 5. Retention per period: transactional vs relationship view\n\n"
        "Article B contrasts transactional marketing (model 9: each sale, acquisition) with "
        "relationship marketing (model 11: keeping the customer). The same quarterly table "
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
