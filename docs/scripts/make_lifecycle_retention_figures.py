"""Regenerate docs/img/lifecycle_transitions.png and docs/img/retention_cohorts.png.

Run: python docs/scripts/make_lifecycle_retention_figures.py (the figures of the
lifecycle / retention demo on the bundled CDNOW data).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

from crmmodels._demo.lifecycle import run

IMG = Path(__file__).resolve().parents[1] / "img"


def main() -> None:
    """Write the two figures."""
    matplotlib.use("Agg")
    run(IMG)
    print(f"wrote figures to {IMG}")


if __name__ == "__main__":
    main()
