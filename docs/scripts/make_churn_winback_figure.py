"""Regenerate docs/img/churn_winback.png.

Run: python docs/scripts/make_churn_winback_figure.py (the figure of the churn and
win-back demo on the bundled CDNOW data).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

from crmmodels._demo.winback import run

IMG = Path(__file__).resolve().parents[1] / "img"


def main() -> None:
    """Write the figure."""
    matplotlib.use("Agg")
    run(IMG)
    print(f"wrote the figure to {IMG}")


if __name__ == "__main__":
    main()
