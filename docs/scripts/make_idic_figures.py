"""Regenerate the IDIC figures of docs/idic.md: python docs/scripts/make_idic_figures.py.

The figures are those of the IDIC step of ``crmmodels demo`` (simulated CRM data), drawn
by the same code.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

from crmmodels._demo.idic import run

IMG = Path(__file__).resolve().parents[1] / "img"


def main() -> None:
    """Write docs/img/idic_identify_differentiate.png and idic_interact_customize.png."""
    matplotlib.use("Agg")
    run(IMG)
    print(f"wrote figures to {IMG}")


if __name__ == "__main__":
    main()
