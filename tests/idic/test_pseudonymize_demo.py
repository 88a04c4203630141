"""The privacy demo step: resolve, pseudonymise, join."""

from __future__ import annotations

from pathlib import Path

from crmmodels._demo import privacy


def test_the_demo_step_pseudonymises_and_joins(tmp_path: Path) -> None:
    lines = privacy.run(tmp_path)
    assert (tmp_path / "privacy_collisions.png").stat().st_size > 0
    text = "\n".join(lines)
    assert "identical pseudonyms: True" in text
    assert "Another key: 0 pseudonyms in common" in text
    assert "2972 of 2972 purchase rows" in text
