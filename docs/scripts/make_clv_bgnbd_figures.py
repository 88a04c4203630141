"""Regenerate the BG/NBD and Gamma-Gamma figures: python docs/scripts/make_clv_bgnbd_figures.py."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from crmmodels.clv import BGNBD, MBGNBD, GammaGamma
from crmmodels.datasets import load_cdnow_sample, load_cdnow_summary

HERE = Path(__file__).resolve().parents[1] / "img"
CALIBRATION_END = pd.Timestamp("1997-09-30")


def holdout_purchases() -> pd.Series:
    """Purchases (distinct days) of each sample customer in the 39 holdout weeks."""
    tx = load_cdnow_sample()
    hold = tx[tx["date"] > CALIBRATION_END].drop_duplicates(["customer_id", "date"])
    counts = hold.groupby("customer_id").size()
    return counts.reindex(range(1, 2358), fill_value=0)


def bgnbd_figure() -> None:
    """Holdout check by calibration frequency and the P(alive) matrix."""
    summary = load_cdnow_summary()
    actual = holdout_purchases().to_numpy()
    x, tx, t = (summary[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    bins = np.minimum(x, 7).astype(int)
    ax1.plot(range(8), [actual[bins == k].mean() for k in range(8)], "k-o", label="actual")
    for cls, style in ((BGNBD, "b--s"), (MBGNBD, "g:^")):
        pred = cls().fit(summary).conditional_expected_purchases(39.0, x, tx, t)
        ax1.plot(range(8), [pred[bins == k].mean() for k in range(8)], style, label=cls.__name__)
    ax1.set_xticks(range(8), [str(k) for k in range(7)] + ["7+"])
    ax1.set_xlabel("repeat purchases in weeks 1-39")
    ax1.set_ylabel("mean purchases in weeks 40-78")
    ax1.set_title("CDNOW: conditional expectations vs holdout")
    ax1.legend()
    model = BGNBD().fit(summary)
    grid = model.probability_alive_matrix(max_frequency=25, max_recency=39, T=38.86)
    im = ax2.imshow(grid, origin="lower", aspect="auto", cmap="viridis", vmin=0, vmax=1)
    ax2.set_xlabel("recency t_x (weeks)")
    ax2.set_ylabel("frequency x")
    ax2.set_title("BG/NBD P(alive) at T = 38.86 weeks")
    fig.colorbar(im, ax=ax2)
    fig.tight_layout()
    fig.savefig(HERE / "clv_bgnbd.png", dpi=90)
    plt.close(fig)


def gamma_gamma_figure() -> None:
    """Fitted spend density and shrinkage of the conditional expectation."""
    summary = load_cdnow_summary()
    rep = summary[summary["frequency"] > 0]
    gg = GammaGamma().fit(summary)
    p, q, v = (gg.params_[k] for k in ("p", "q", "v"))
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    ax1.hist(
        rep["monetary_value"],
        bins=np.linspace(0, 150, 61),
        density=True,
        alpha=0.5,
        label="observed mean spend",
    )
    # model density of the mean of x transactions, mixed over the observed x
    grid = np.linspace(0.5, 150, 300)
    from crmmodels.kernels.gamma_gamma import loglik

    xs, counts = np.unique(rep["frequency"], return_counts=True)
    dens = sum(c * np.exp(loglik([p, q, v], xv, grid)) for xv, c in zip(xs, counts, strict=True))
    ax1.plot(grid, dens / counts.sum(), "r-", label="Gamma-Gamma")
    ax1.set_xlabel("mean repeat-transaction value ($)")
    ax1.set_ylabel("density")
    ax1.set_title("CDNOW: fitted spend distribution")
    ax1.legend()
    e = gg.conditional_expected_spend(rep["frequency"], rep["monetary_value"])
    sc = ax2.scatter(
        rep["monetary_value"], e, c=np.minimum(rep["frequency"], 10), s=8, cmap="plasma"
    )
    lim = [0, 300]
    ax2.plot(lim, lim, "k:", lw=1)
    ax2.axhline(gg.population_mean_spend(), color="grey", lw=1, ls="--")
    ax2.set_xlim(lim)
    ax2.set_ylim(lim)
    ax2.set_xlabel("observed mean spend m_x ($)")
    ax2.set_ylabel("E[M | x, m_x] ($)")
    ax2.set_title("Shrinkage toward the population mean")
    fig.colorbar(sc, ax=ax2, label="x (capped at 10)")
    fig.tight_layout()
    fig.savefig(HERE / "clv_gamma_gamma.png", dpi=90)
    plt.close(fig)


if __name__ == "__main__":
    bgnbd_figure()
    gamma_gamma_figure()
