"""Regenerate the figures of docs/quality.md, docs/pricing.md and docs/scorecard.md.

Run from the repository root: python docs/scripts/make_quality_price_figures.py
"""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from crmmodels.datasets._crm import simulate_crm
from crmmodels.datasets._survey import (
    simulate_demand,
    simulate_price_survey,
    simulate_survey,
)
from crmmodels.plotting.pricing import plot_demand_curves
from crmmodels.pricing import price_elasticity, van_westendorp
from crmmodels.quality import relationship_quality
from crmmodels.scorecard import kpi_scorecard

sim = simulate_survey(300, seed=0, missing_rate=0.03)
rq = relationship_quality(
    sim.survey,
    constructs=sim.constructs,
    reverse=sim.reverse,
    respondent_col="respondent_id",
    side_col="side",
    relationship_col="relationship_id",
)
fig, axes = plt.subplots(1, 2, figsize=(13, 4.5))
rq.plot(ax=axes[0])
rq.plot(ax=axes[1], kind="gap")
fig.tight_layout()
fig.savefig("docs/img/relationship_quality.png", dpi=80)
ax = rq.plot(kind="items")
ax.figure.tight_layout()
ax.figure.savefig("docs/img/item_diagnostics.png", dpi=80)
plt.close("all")

price = simulate_price_survey(500, seed=0)
vw = van_westendorp("too_cheap", "cheap", "expensive", "too_expensive", data=price.answers)
ax = vw.plot()
ax.figure.tight_layout()
ax.figure.savefig("docs/img/van_westendorp.png", dpi=80)
plt.close("all")

demand = simulate_demand(3000, seed=0)
el = price_elasticity(demand.transactions, group_col="product")
ax = plot_demand_curves(el, data=demand.transactions, group_col="product", max_points=600)
ax.figure.tight_layout()
ax.figure.savefig("docs/img/demand_curves.png", dpi=80)
plt.close("all")

crm = simulate_crm(300, seed=0)
sc = kpi_scorecard(
    crm.purchases, by="channel", interactions=crm.interactions, interaction_date_col="timestamp"
)
ax = sc.plot()
ax.figure.savefig("docs/img/kpi_scorecard.png", dpi=80)
plt.close("all")
