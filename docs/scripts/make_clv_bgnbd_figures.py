"""Regenerate the BG/NBD and Gamma-Gamma figures: python docs/scripts/make_clv_bgnbd_figures.py.

The figures are drawn by :mod:`crmmodels._demo.clv_figures`, which ``crmmodels demo``
also uses.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

from crmmodels._demo.clv_figures import bgnbd_figure, gamma_gamma_figure

IMG = Path(__file__).resolve().parents[1] / "img"


def main() -> None:
    """Write docs/img/clv_bgnbd.png and docs/img/clv_gamma_gamma.png."""
    matplotlib.use("Agg")
    print(bgnbd_figure(IMG), gamma_gamma_figure(IMG))


if __name__ == "__main__":
    main()
