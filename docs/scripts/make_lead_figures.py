"""Regenerate docs/img/lead_scoring.png (gains chart and calibration curve of the demo).

Run: python docs/scripts/make_lead_figures.py
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

from crmmodels._demo.leads import run

IMG = Path(__file__).resolve().parents[1] / "img"


def main() -> None:
    """Write the figure."""
    matplotlib.use("Agg")
    for line in run(IMG):
        print(line)


if __name__ == "__main__":
    main()
