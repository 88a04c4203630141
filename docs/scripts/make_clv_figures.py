"""Draw the figures of docs/clv_value.md: python docs/scripts/make_clv_figures.py.

The figures are drawn by :mod:`crmmodels._demo.clv_figures`, which ``crmmodels demo``
also uses (the diagnostics figure).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

from crmmodels._demo.clv_figures import diagnostics_figure, value_figure

IMG = Path(__file__).resolve().parents[1] / "img"


def main() -> None:
    """Write docs/img/clv_bgnbd_diagnostics.png and docs/img/clv_value.png."""
    matplotlib.use("Agg")
    print(diagnostics_figure(IMG), value_figure(IMG))


if __name__ == "__main__":
    main()
