"""Regenerate the figures of docs/referrals.md and docs/privacy.md.

Run ``python docs/scripts/make_referrals_privacy_figures.py``. The figures are those of
the referrals and privacy steps of ``crmmodels demo``, drawn by the same code.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

from crmmodels._demo import privacy, referrals

IMG = Path(__file__).resolve().parents[1] / "img"


def main() -> None:
    """Write docs/img/referrals.png and docs/img/privacy_collisions.png."""
    matplotlib.use("Agg")
    referrals.run(IMG)
    privacy.run(IMG)
    print(f"wrote figures to {IMG}")


if __name__ == "__main__":
    main()
