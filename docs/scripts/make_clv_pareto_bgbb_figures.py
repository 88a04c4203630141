"""Regenerate the Pareto/NBD and BG/BB figures.

Run: python docs/scripts/make_clv_pareto_bgbb_figures.py
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np

from crmmodels.clv._bgbb import BGBB
from crmmodels.clv._pareto_nbd import ParetoNBD
from crmmodels.datasets import load_cdnow_summary, load_donations

HERE = Path(__file__).resolve().parents[1] / "img"


def pareto_figure() -> None:
    """P(alive) matrix and expected purchases by frequency, CDNOW."""
    summary = load_cdnow_summary()
    model = ParetoNBD().fit(summary)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    grid = model.probability_alive_matrix(max_frequency=25, max_recency=39, T=38.86)
    im = ax1.imshow(grid, origin="lower", aspect="auto", cmap="viridis", vmin=0, vmax=1)
    ax1.set_xlabel("recency t_x (weeks)")
    ax1.set_ylabel("frequency x")
    ax1.set_title("Pareto/NBD P(alive) at T = 38.86 weeks")
    fig.colorbar(im, ax=ax1, label="P(alive)")
    x = np.arange(0, 8)
    for tx in (10.0, 25.0, 38.0):
        rec = np.where(x > 0, tx, 0.0)
        ax2.plot(
            x,
            model.conditional_expected_purchases(39.0, x, rec, np.full(x.size, 38.86)),
            marker="o",
            label=f"t_x = {tx:g}",
        )
    ax2.set_xlabel("repeat purchases x in the 39-week calibration period")
    ax2.set_ylabel("expected purchases, next 39 weeks")
    ax2.set_title("Conditional expectations (CDNOW)")
    ax2.legend()
    fig.tight_layout()
    fig.savefig(HERE / "clv_pareto_nbd.png", dpi=110)
    plt.close(fig)


def bgbb_figure() -> None:
    """Model vs actual frequency histogram and P(alive) per pattern, donations."""
    don = load_donations()
    model = BGBB().fit(don, weights_col="weights")
    n_cust = float(don["weights"].sum())
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    xs = np.arange(7)
    actual = don.groupby("frequency")["weights"].sum().reindex(xs, fill_value=0)
    ax1.bar(xs - 0.2, actual.to_numpy(), width=0.4, label="actual")
    ax1.bar(xs + 0.2, model.probability_of_purchases(xs, 6) * n_cust, width=0.4, label="BG/BB")
    ax1.set_xlabel("repeat donations in 1996-2001 (6 opportunities)")
    ax1.set_ylabel("donors")
    ax1.set_title("Donations: frequency distribution")
    ax1.legend()
    pa = model.probability_alive(don["frequency"], don["recency"], don["periods"])
    labels = [f"{x}/{t}" for x, t in zip(don["frequency"], don["recency"], strict=True)]
    order = np.argsort(pa)
    ax2.barh(np.array(labels)[order], pa[order], color="tab:green")
    ax2.set_xlabel("P(alive in 2002)")
    ax2.set_ylabel("pattern x / t_x")
    ax2.set_title("BG/BB P(alive) by (x, t_x)")
    ax2.tick_params(axis="y", labelsize=7)
    fig.tight_layout()
    fig.savefig(HERE / "clv_bgbb.png", dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    pareto_figure()
    bgbb_figure()
