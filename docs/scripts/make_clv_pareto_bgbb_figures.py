"""Regenerate the Pareto/NBD and BG/BB figures.

Run: python docs/scripts/make_clv_pareto_bgbb_figures.py. The figures are drawn by
:mod:`crmmodels._demo.clv_figures`.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

from crmmodels._demo.clv_figures import bgbb_figure, pareto_figure

IMG = Path(__file__).resolve().parents[1] / "img"


def main() -> None:
    """Write docs/img/clv_pareto_nbd.png and docs/img/clv_bgbb.png."""
    matplotlib.use("Agg")
    print(pareto_figure(IMG), bgbb_figure(IMG))


if __name__ == "__main__":
    main()
