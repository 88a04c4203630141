"""The referrals demo step runs and reports what it measured."""

from __future__ import annotations

from pathlib import Path

from crmmodels._demo import referrals


def test_the_demo_step_writes_its_figure_and_recovers_k(tmp_path: Path) -> None:
    lines = referrals.run(tmp_path)
    assert (tmp_path / "referrals.png").stat().st_size > 0
    text = "\n".join(lines)
    assert "Viral coefficient K within 60 days" in text
    assert "Top referrers" in text
