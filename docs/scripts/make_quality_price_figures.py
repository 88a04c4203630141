"""Regenerate the figures of docs/quality.md, docs/pricing.md and docs/scorecard.md.

Run: python docs/scripts/make_quality_price_figures.py. The figures are those of the
quality and pricing step of ``crmmodels demo`` (simulated data), drawn by the same code.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

from crmmodels._demo.quality_price import run

IMG = Path(__file__).resolve().parents[1] / "img"


def main() -> None:
    """Write the five figures of the quality and pricing step into docs/img."""
    matplotlib.use("Agg")
    run(IMG)
    print(f"wrote figures to {IMG}")


if __name__ == "__main__":
    main()
