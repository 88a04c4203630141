"""Draw the figures of docs/clv_value.md (run from the repository root)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from crmmodels.clv._bgnbd import BGNBD
from crmmodels.clv._gamma_gamma import GammaGamma
from crmmodels.clv._value import customer_lifetime_value
from crmmodels.datasets import load_cdnow_sample, load_cdnow_summary
from crmmodels.plotting import clv as P
from crmmodels.transactions import calibration_holdout

OUT = Path("docs/img")
summary = load_cdnow_summary()
sample = load_cdnow_sample()
bg = BGNBD().fit(summary)
gg = GammaGamma().fit(summary[summary["frequency"] > 0])
ch = calibration_holdout(
    sample, calibration_end="1997-09-30", observation_end="1998-06-30", time_unit="W"
).to_frame()

fig, axes = plt.subplots(2, 2, figsize=(12, 9))
P.plot_period_transactions(bg, summary, ax=axes[0, 0])
P.plot_calibration_vs_holdout(bg, ch, ax=axes[0, 1])
P.plot_cumulative_transactions(bg, sample, calibration_end="1997-09-30", ax=axes[1, 0])
P.plot_probability_alive_matrix(bg, T=38.86, max_frequency=20, ax=axes[1, 1])
fig.tight_layout()
fig.savefig(OUT / "clv_bgnbd_diagnostics.png", dpi=80)

fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
res = customer_lifetime_value(
    bg, gg, summary, horizon=52, discount_rate=0.1, discount_period=52, time_unit="weeks"
)
res.plot(ax=axes[0])
P.plot_alive_history(bg, [0.0, 4.0, 9.0, 30.43], end=78.0, ax=axes[1])
fig.tight_layout()
fig.savefig(OUT / "clv_value.png", dpi=80)
print("written")
