"""The CLV figures of the demo and of the documentation, each drawn by one function here.

``crmmodels demo`` and ``docs/scripts/make_clv_*_figures.py`` both call these, so a
figure is drawn in one place. Each function fits what it needs (or takes a fitted model),
saves ``out_dir / <name>.png`` and returns the path.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from crmmodels.clv import (
    BGBB,
    BGNBD,
    MBGNBD,
    GammaGamma,
    ParetoNBD,
    alive_history,
    cumulative_transactions,
    customer_lifetime_value,
)
from crmmodels.datasets import load_cdnow_sample, load_cdnow_summary, load_donations

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "bgbb_figure",
    "bgnbd_figure",
    "diagnostics_figure",
    "gamma_gamma_figure",
    "p_alive_panel",
    "pareto_figure",
    "value_figure",
]

CALIBRATION_END = pd.Timestamp("1997-09-30")


def _save(fig: Figure, out_dir: Path, name: str, dpi: int) -> Path:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    path = Path(out_dir) / name
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return path


def p_alive_panel(ax: Axes, model: Any, title: str) -> Axes:
    """P(alive) by frequency and recency at T = 38.86 weeks (the CDNOW calibration age)."""
    grid = model.probability_alive_matrix(max_frequency=25, max_recency=39, T=38.86)
    image = ax.imshow(grid, origin="lower", aspect="auto", cmap="viridis", vmin=0, vmax=1)
    ax.set_xlabel("recency t_x (weeks)")
    ax.set_ylabel("frequency x")
    ax.set_title(title)
    ax.figure.colorbar(image, ax=ax, label="P(alive)")
    return ax


def _holdout_purchases() -> pd.Series:
    """Purchases (distinct days) of each sample customer in the 39 holdout weeks."""
    tx = load_cdnow_sample()
    hold = tx[tx["date"] > CALIBRATION_END].drop_duplicates(["customer_id", "date"])
    counts = hold.groupby("customer_id").size()
    return counts.reindex(range(1, 2358), fill_value=0)


def bgnbd_figure(out_dir: Path, model: BGNBD | None = None, dpi: int = 90) -> Path:
    """``clv_bgnbd.png``: the holdout check by calibration frequency and the P(alive) matrix."""
    import matplotlib.pyplot as plt

    summary = load_cdnow_summary()
    model = model or BGNBD().fit(summary)
    actual = _holdout_purchases().to_numpy()
    x, tx, t = (summary[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    bins = np.minimum(x, 7).astype(int)
    means = np.bincount(bins, weights=actual, minlength=8) / np.bincount(bins, minlength=8)
    ax1.plot(range(8), means, "k-o", label="actual")
    for fitted, style in ((model, "b--s"), (MBGNBD().fit(summary), "g:^")):
        pred = fitted.conditional_expected_purchases(39.0, x, tx, t)
        mean = np.bincount(bins, weights=pred, minlength=8) / np.bincount(bins, minlength=8)
        ax1.plot(range(8), mean, style, label=type(fitted).__name__)
    ax1.set_xticks(range(8), [str(k) for k in range(7)] + ["7+"])
    ax1.set_xlabel("repeat purchases in weeks 1-39")
    ax1.set_ylabel("mean purchases in weeks 40-78")
    ax1.set_title("CDNOW: conditional expectations vs holdout")
    ax1.legend()
    p_alive_panel(ax2, model, "BG/NBD P(alive) at T = 38.86 weeks")
    return _save(fig, out_dir, "clv_bgnbd.png", dpi)


def gamma_gamma_figure(out_dir: Path, dpi: int = 90) -> Path:
    """``clv_gamma_gamma.png``: fitted spend density and shrinkage of the expected spend."""
    import matplotlib.pyplot as plt

    from crmmodels.kernels.gamma_gamma import loglik

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
    xs, counts = np.unique(rep["frequency"], return_counts=True)
    dens = np.exp(loglik([p, q, v], xs[:, None], grid[None, :]))
    ax1.plot(grid, counts @ dens / counts.sum(), "r-", label="Gamma-Gamma")
    ax1.set_xlabel("mean repeat-transaction value ($)")
    ax1.set_ylabel("density")
    ax1.set_title("CDNOW: fitted spend distribution")
    ax1.legend()
    expected = gg.conditional_expected_spend(rep["frequency"], rep["monetary_value"])
    points = ax2.scatter(
        rep["monetary_value"], expected, c=np.minimum(rep["frequency"], 10), s=8, cmap="plasma"
    )
    lim = [0, 300]
    ax2.plot(lim, lim, "k:", lw=1)
    ax2.axhline(gg.population_mean_spend(), color="grey", lw=1, ls="--")
    ax2.set_xlim(lim)
    ax2.set_ylim(lim)
    ax2.set_xlabel("observed mean spend m_x ($)")
    ax2.set_ylabel("E[M | x, m_x] ($)")
    ax2.set_title("Shrinkage toward the population mean")
    fig.colorbar(points, ax=ax2, label="x (capped at 10)")
    return _save(fig, out_dir, "clv_gamma_gamma.png", dpi)


def pareto_figure(out_dir: Path, dpi: int = 110) -> Path:
    """``clv_pareto_nbd.png``: P(alive) matrix and expected purchases by frequency, CDNOW."""
    import matplotlib.pyplot as plt

    model = ParetoNBD().fit(load_cdnow_summary())
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    p_alive_panel(ax1, model, "Pareto/NBD P(alive) at T = 38.86 weeks")
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
    return _save(fig, out_dir, "clv_pareto_nbd.png", dpi)


def bgbb_figure(out_dir: Path, dpi: int = 110) -> Path:
    """``clv_bgbb.png``: model vs actual frequencies and P(alive) per pattern, donations."""
    import matplotlib.pyplot as plt

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
    labels = np.array([f"{x}/{t}" for x, t in zip(don["frequency"], don["recency"], strict=True)])
    order = np.argsort(pa)
    ax2.barh(labels[order], pa[order], color="tab:green")
    ax2.set_xlabel("P(alive in 2002)")
    ax2.set_ylabel("pattern x / t_x")
    ax2.set_title("BG/BB P(alive) by (x, t_x)")
    ax2.tick_params(axis="y", labelsize=7)
    return _save(fig, out_dir, "clv_bgbb.png", dpi)


def diagnostics_figure(out_dir: Path, model: BGNBD | None = None, dpi: int = 80) -> Path:
    """``clv_bgnbd_diagnostics.png``: the BTYD diagnostics of BG/NBD on CDNOW."""
    import matplotlib.pyplot as plt

    from crmmodels.plotting import clv as P
    from crmmodels.transactions import calibration_holdout

    summary = load_cdnow_summary()
    sample = load_cdnow_sample()
    model = model or BGNBD().fit(summary)
    holdout = calibration_holdout(
        sample, calibration_end=CALIBRATION_END, observation_end="1998-06-30", time_unit="W"
    ).to_frame()
    fig, axes = plt.subplots(2, 2, figsize=(12, 9))
    P.plot_period_transactions(model, summary, ax=axes[0, 0])
    P.plot_calibration_vs_holdout(model, holdout, ax=axes[0, 1])
    tracking = cumulative_transactions(model, sample, calibration_end=CALIBRATION_END, time_unit=7)
    tracking.plot(ax=axes[1, 0])
    P.plot_probability_alive_matrix(model, T=38.86, max_frequency=20, ax=axes[1, 1])
    return _save(fig, out_dir, "clv_bgnbd_diagnostics.png", dpi)


def value_figure(out_dir: Path, model: BGNBD | None = None, dpi: int = 80) -> Path:
    """``clv_value.png``: CLV concentration and the P(alive) history of one customer."""
    import matplotlib.pyplot as plt

    summary = load_cdnow_summary()
    model = model or BGNBD().fit(summary)
    gg = GammaGamma().fit(summary[summary["frequency"] > 0])
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    clv = customer_lifetime_value(
        model, gg, summary, horizon=52, discount_rate=0.1, discount_period=52, time_unit="weeks"
    )
    clv.plot(ax=axes[0])
    alive_history(model, [0.0, 4.0, 9.0, 30.43], end=78.0).plot(ax=axes[1])
    return _save(fig, out_dir, "clv_value.png", dpi)
