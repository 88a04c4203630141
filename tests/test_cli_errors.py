"""The command line reports a user's mistake as one clear line, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from crmmodels.cli import main


@pytest.fixture
def tx_csv(tmp_path: Path) -> Path:
    path = tmp_path / "tx.csv"
    pd.DataFrame(
        {
            "customer_id": [1, 1, 2],
            "date": ["2024-01-01", "2024-01-15", "2024-01-02"],
            "Amount": [1.0, 2.0, 3.0],
        }
    ).to_csv(path, index=False)
    return path


@pytest.fixture
def bad_date_csv(tmp_path: Path) -> Path:
    path = tmp_path / "bad_dates.csv"
    path.write_text("customer_id,date\n1,2024-01-01\n2,not a date\n", encoding="utf-8")
    return path


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    src = str(Path(__file__).resolve().parents[1] / "src")
    env["PYTHONPATH"] = os.pathsep.join([src, env.get("PYTHONPATH", "")])
    return subprocess.run(
        [sys.executable, "-m", "crmmodels.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=120,
    )


def _one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    assert "error:" in lines[0]
    return lines[0]


# ------------------------------------------------------------------- main(argv)


def test_missing_file_is_a_data_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope.csv"
    assert main(["summarize", str(missing)]) == 1
    line = _one_error_line(capsys.readouterr().err)
    assert "nope.csv" in line and "does not exist" in line


def test_missing_column_suggests_the_close_name(
    tx_csv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["summarize", str(tx_csv), "--amount-col", "amount"]) == 1
    line = _one_error_line(capsys.readouterr().err)
    assert "no column 'amount'" in line
    assert "Did you mean 'Amount'?" in line
    assert "--amount-col" in line


def test_bad_date_is_a_data_error(bad_date_csv: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["summarize", str(bad_date_csv)]) == 1
    line = _one_error_line(capsys.readouterr().err)
    assert "'date'" in line and "--date-format" in line


def test_unknown_option_is_a_usage_error(tx_csv: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["summarize", str(tx_csv), "--currency", "EUR"]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "--currency" in line and "--help" in line


def test_bad_time_unit_is_a_usage_error(tx_csv: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["summarize", str(tx_csv), "--time-unit", "fortnight"]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "--time-unit" in line and "'fortnight'" in line


def test_bad_period_is_a_usage_error(tx_csv: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["summarize", str(tx_csv), "--period", "0"]) == 2
    assert "--period" in _one_error_line(capsys.readouterr().err)


def test_no_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    _one_error_line(capsys.readouterr().err)


def test_unknown_demo_step_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--out", str(tmp_path), "--only", "summary", "nope"]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "nope" in line and "quality_price" in line


def test_unwritable_output_is_a_data_error(
    tx_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dst = tmp_path / "no_such_folder" / "out.csv"
    assert main(["summarize", str(tx_csv), "-o", str(dst)]) == 1
    assert "no_such_folder" in _one_error_line(capsys.readouterr().err)


def test_time_unit_and_date_format_are_passed_through(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "dmy.csv"
    src.write_text("customer_id,date\n1,01/02/2024\n1,15/02/2024\n2,10/02/2024\n", encoding="utf-8")
    dst = tmp_path / "out.csv"
    argv = ["summarize", str(src), "--date-format", "%d/%m/%Y", "--time-unit", "W"]
    assert main([*argv, "--observation-end", "2024-02-29", "-o", str(dst)]) == 0
    out = pd.read_csv(dst)
    assert out["recency"].tolist() == [2.0, 0.0]  # 14 days = 2 weeks
    assert out["T"].tolist() == pytest.approx([28 / 7, 19 / 7])
    assert str(pd.Timestamp(out["first_purchase"].iloc[0]).date()) == "2024-02-01"


# ------------------------------------------------------------------- subprocess


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (("summarize", "{missing}"), 1, "does not exist"),
        (("summarize", "{tx}", "--amount-col", "amount"), 1, "Did you mean 'Amount'?"),
        (("summarize", "{bad}"), 1, "--date-format"),
        (("summarize", "{tx}", "--colour"), 2, "unrecognized arguments: --colour"),
        (("summarize", "{tx}", "--time-unit", "Q"), 2, "--time-unit"),
    ],
)
def test_subprocess_prints_one_line_and_exit_code(
    tmp_path: Path,
    tx_csv: Path,
    bad_date_csv: Path,
    args: tuple[str, ...],
    code: int,
    needle: str,
) -> None:
    paths = {"missing": str(tmp_path / "missing.csv"), "tx": str(tx_csv), "bad": str(bad_date_csv)}
    proc = _run(*(a.format(**paths) for a in args))
    assert proc.returncode == code, proc.stderr
    assert proc.stdout == ""
    assert needle in _one_error_line(proc.stderr)


def test_subprocess_success_with_time_unit(tx_csv: Path) -> None:
    proc = _run("summarize", str(tx_csv), "--amount-col", "Amount", "--time-unit", "W")
    assert proc.returncode == 0, proc.stderr
    assert "monetary_value" in proc.stdout
