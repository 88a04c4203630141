from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from crmmodels.cli import DEMO_STEPS, build_parser, main


def test_help_documents_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for command in ("demo", "summarize"):
        assert command in out


def test_demo_summary_step_writes_figure(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--out", str(tmp_path), "--only", "summary"]) == 0
    out = capsys.readouterr().out
    assert "RFM segments" in out and "23,570 customers" in out
    assert (tmp_path / "rfm_segments.png").stat().st_size > 1000


def test_demo_rejects_unknown_step(tmp_path: Path) -> None:
    assert main(["demo", "--out", str(tmp_path), "--only", "nope"]) == 2


def test_every_demo_step_is_importable() -> None:
    import importlib

    for name, _ in DEMO_STEPS:
        module = importlib.import_module(f"crmmodels._demo.{name}")
        assert callable(module.run)


def test_summarize_command(tmp_path: Path) -> None:
    src = tmp_path / "tx.csv"
    pd.DataFrame(
        {
            "customer_id": [1, 1, 2],
            "date": ["2024-01-01", "2024-01-03", "2024-01-02"],
            "amount": [1.0, 2.0, 3.0],
        }
    ).to_csv(src, index=False)
    dst = tmp_path / "summary.csv"
    assert main(["summarize", str(src), "--amount-col", "amount", "-o", str(dst)]) == 0
    out = pd.read_csv(dst)
    assert out["frequency"].tolist() == [1, 0]
    assert out["monetary_value"].tolist() == [2.0, 0.0]


def test_parser_prog_name() -> None:
    assert build_parser().prog == "crmmodels"


def test_import_is_cheap() -> None:
    code = (
        "import sys, crmmodels\n"
        "bad = [m for m in ('matplotlib', 'polars', 'duckdb', 'dask', 'pyspark', 'lifetimes',"
        " 'mlxtend', 'sklearn') if m in sys.modules]\n"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


@pytest.mark.slow
def test_full_demo_runs_every_step(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The README's main command: every model on the bundled data."""
    assert main(["demo", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    for _, title in DEMO_STEPS:
        assert f"=== {title} ===" in out
    assert "log-likelihood -9582.4" in out
    assert len(list(tmp_path.glob("*.png"))) >= len(DEMO_STEPS)
