"""Draw the figure of docs/clv_selection.md: python docs/scripts/make_clv_selection_figure.py."""

from __future__ import annotations

from pathlib import Path

import matplotlib

IMG = Path(__file__).resolve().parents[1] / "img"


def main() -> None:
    """Write docs/img/clv_selection.png: the holdout tracking plot of CDNOW."""
    matplotlib.use("Agg")
    from crmmodels.clv import select_model
    from crmmodels.datasets import load_cdnow

    result = select_model(load_cdnow())
    ax = result.plot()
    path = IMG / "clv_selection.png"
    ax.figure.savefig(path, dpi=110, bbox_inches="tight")
    print(path)
    print(result)
    print(result.to_frame().round(4).to_string())


if __name__ == "__main__":
    main()
