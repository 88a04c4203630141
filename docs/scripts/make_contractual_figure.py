"""Draw the figure of docs/contractual.md: python docs/scripts/make_contractual_figure.py."""

from __future__ import annotations

from pathlib import Path

import matplotlib

IMG = Path(__file__).resolve().parents[1] / "img"

#: Fader & Hardie (2007), Table 1: customers of 1,000 still subscribed, years 0 to 12
SEGMENTS = {
    "regular": [1000, 631, 468, 382, 326, 289, 262, 241, 223, 207, 194, 183, 173],
    "high end": [1000, 869, 743, 653, 593, 551, 517, 491, 468, 445, 427, 409, 394],
}


def main() -> None:
    """Write docs/img/contractual.png: sBG fitted on years 0-7, projected to year 12."""
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from crmmodels.retention import ShiftedBetaGeometric

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5), sharey=True)
    for ax, (name, series) in zip(axes, SEGMENTS.items(), strict=True):
        model = ShiftedBetaGeometric().fit({name: series[:8]}, time_unit="Y")
        result = model.project(12, actual={name: series})
        result.plot(ax=ax)
        ax.set_title(f"{name}: sBG fitted on years 0-7 (alpha {model.params_['alpha']:.3f}, "
                     f"beta {model.params_['beta']:.3f})")  # fmt: skip
        print(name, model.params_, model.log_likelihood_)
    fig.tight_layout()
    path = IMG / "contractual.png"
    fig.savefig(path, dpi=100, bbox_inches="tight")
    print(path)


if __name__ == "__main__":
    main()
