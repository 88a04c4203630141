"""``crmmodels analyze``: CSV, Parquet and DuckDB in; the table, report and models out.

The customer table the command writes must equal :func:`crmmodels.analyze` on the same
data with the same settings; bad input ends with one line on standard error and a
non-zero exit code, never a traceback.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import crmmodels as crm
from crmmodels import clv
from crmmodels.cli import DEFAULT_OUT, DEMO_STEPS, build_parser, main
from crmmodels.datasets import load_cdnow_sample

duckdb = pytest.importorskip("duckdb")


def _run(argv: list[str]) -> tuple[int, str, str]:
    """``main(argv)`` in this process: exit code, stdout, stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def _one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    assert "error:" in lines[0]
    return lines[0]


def _same_table(written: pd.DataFrame, expected: pd.DataFrame, key: str) -> None:
    """Equal column names, customers and values (dtypes may differ after a file)."""
    assert list(written.columns) == list(expected.columns)
    a = written.sort_values(key).reset_index(drop=True)
    b = expected.sort_values(key).reset_index(drop=True)
    assert len(a) == len(b)
    for col in b.columns:
        left, right = a[col], b[col]
        if pd.api.types.is_numeric_dtype(right) and not pd.api.types.is_bool_dtype(right):
            np.testing.assert_allclose(
                left.to_numpy(dtype="float64", na_value=np.nan),
                right.to_numpy(dtype="float64", na_value=np.nan),
                rtol=1e-9,
                err_msg=col,
            )
        elif pd.api.types.is_datetime64_any_dtype(right):
            assert (pd.to_datetime(left) == right).all(), col
        else:
            lhs = left.astype(object).where(left.notna(), None).map(str).tolist()
            rhs = right.astype(object).where(right.notna(), None).map(str).tolist()
            assert lhs == rhs, col


@pytest.fixture(scope="module")
def log() -> pd.DataFrame:
    """A small CDNOW log: 299 customers, 923 purchases."""
    sample = load_cdnow_sample()
    return sample.loc[sample["customer_id"] < 300, ["customer_id", "date", "amount"]].reset_index(
        drop=True
    )


@pytest.fixture(scope="module")
def reference(log: pd.DataFrame) -> crm.CustomerAnalysis:
    return crm.analyze(log)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("analyze")


@pytest.fixture(scope="module")
def csv_path(log: pd.DataFrame, folder: Path) -> Path:
    path = folder / "orders.csv"
    log.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def db_path(log: pd.DataFrame, folder: Path) -> Path:
    path = folder / "crm.duckdb"
    con = duckdb.connect(str(path))
    con.register("log_frame", log)
    con.execute("CREATE TABLE orders AS SELECT * FROM log_frame")
    con.close()
    return path


@pytest.fixture(scope="module")
def csv_run(csv_path: Path, folder: Path) -> tuple[int, str, str, Path]:
    out = folder / "csv_out"
    code, stdout, stderr = _run(["analyze", str(csv_path), "--out", str(out)])
    return code, stdout, stderr, out


# ------------------------------------------------------------------ the outputs


def test_csv_input_writes_the_table_of_analyze(
    csv_run: tuple[int, str, str, Path], reference: crm.CustomerAnalysis
) -> None:
    code, _, stderr, out = csv_run
    assert code == 0, stderr
    written = pd.read_parquet(out / "customers.parquet")
    _same_table(written, reference.to_frame(), "customer_id")
    assert sorted(p.name for p in out.iterdir()) == [
        "analysis.json",
        "customers.parquet",
        "models",
        "report.html",
    ]
    assert "<html" in (out / "report.html").read_text(encoding="utf-8")[:200].lower()


def test_the_models_are_written_as_json_and_load(
    csv_run: tuple[int, str, str, Path], reference: crm.CustomerAnalysis
) -> None:
    out = csv_run[3]
    names = sorted(p.stem for p in (out / "models").glob("*.json"))
    assert names == sorted(reference.models)
    for name, model in reference.models.items():
        loaded = getattr(clv, name).load(out / "models" / f"{name}.json")
        assert loaded.params_ == pytest.approx(model.params_, rel=1e-9)


def test_analysis_json_holds_key_figures_settings_and_the_command(
    csv_run: tuple[int, str, str, Path], csv_path: Path, reference: crm.CustomerAnalysis
) -> None:
    record = json.loads((csv_run[3] / "analysis.json").read_text(encoding="utf-8"))
    k = reference.key_figures
    assert record["key_figures"]["n_customers"] == k.n_customers == 299
    assert record["key_figures"]["customer_equity"] == pytest.approx(k.customer_equity)
    assert record["settings"]["horizon"] == 52.0
    assert record["reproduce"].startswith(f"crmmodels analyze {csv_path}")
    assert "--horizon 52" in record["reproduce"]
    assert record["files"]["customers"] == "customers.parquet"
    assert {s["step"] for s in record["steps"]} == {s.name for s in reference.steps.steps}


def test_progress_on_stderr_key_figures_and_paths_on_stdout(
    csv_run: tuple[int, str, str, Path], reference: crm.CustomerAnalysis
) -> None:
    _, stdout, stderr, out = csv_run
    assert "analyze: Customer equity" in stderr
    assert "analyze: done in" in stderr
    assert "analyze:" not in stdout
    assert "Key figures:" in stdout
    for label, text in reference.key_figures.lines():
        assert label in stdout
        if label != "Customer equity, next 52 weeks":  # the interval is random
            assert text in stdout
    model_file = f"{reference.transaction_model}.json"
    for name in ("customers.parquet", "report.html", "analysis.json", model_file):
        assert str(out / name) in stdout or str(out / "models" / name) in stdout


def test_parquet_input_with_every_setting_option(log: pd.DataFrame, folder: Path) -> None:
    renamed = log.rename(columns={"date": "day", "amount": "value"})
    renamed["day"] = renamed["day"].dt.strftime("%d/%m/%Y")
    src = folder / "orders.parquet"
    renamed.to_parquet(src, index=False)
    out = folder / "every_option"
    argv = [
        "analyze",
        str(src),
        "--customer-col=customer_id",
        "--date-col=day",
        "--amount-col=value",
        "--date-format=%d/%m/%Y",
        "--observation-end=1998-06-30",
        "--time-unit=D",
        "--horizon=180",
        "--holdout=90",
        "--model=paretonbd",
        "--discount-rate=0.05",
        "--margin=0.3",
        "--format=csv",
        f"--out={out}",
        "--quiet",
    ]
    code, stdout, stderr = _run(argv)
    assert code == 0, stderr
    assert stderr == ""
    assert "Key figures:" in stdout
    assert not (out / "customers.parquet").exists()
    expected = crm.analyze(
        renamed,
        date_col="day",
        amount_col="value",
        date_format="%d/%m/%Y",
        observation_end="1998-06-30",
        time_unit="D",
        horizon=180,
        holdout=90,
        model="ParetoNBD",
        discount_rate=0.05,
        margin=0.3,
    )
    written = pd.read_csv(out / "customers.csv", parse_dates=["first_purchase", "last_purchase"])
    _same_table(written, expected.to_frame(), "customer_id")
    assert expected.transaction_model == "ParetoNBD"
    assert (out / "models" / "ParetoNBD.json").exists()
    record = json.loads((out / "analysis.json").read_text(encoding="utf-8"))
    assert record["settings"] == expected.to_dict()["settings"]
    assert record["settings"]["margin"] == 0.3
    command = record["reproduce"]
    for part in ("--time-unit D", "--horizon 180", "--holdout 90", "--model ParetoNBD"):
        assert part in command
    assert "--date-format %d/%m/%Y" in command


def test_duckdb_table_in_duckdb_table_out(
    db_path: Path, folder: Path, reference: crm.CustomerAnalysis
) -> None:
    out = folder / "duckdb_out"
    target = folder / "shop.duckdb"  # a pipeline reads its orders and writes back
    shutil.copy(db_path, target)
    argv = ["analyze", str(target), "--table", "orders", "--out", str(out), "--quiet"]
    argv += ["--to-duckdb", str(target), "--duckdb-table", "crm_customers", "--format", "none"]
    code, stdout, stderr = _run(argv)
    assert code == 0, stderr
    assert not (out / "customers.parquet").exists() and not (out / "customers.csv").exists()
    assert f"{target}::crm_customers" in stdout
    con = duckdb.connect(str(target), read_only=True)
    try:
        table = con.execute("SELECT * FROM crm_customers").df()
    finally:
        con.close()
    _same_table(table, reference.to_frame(), "customer_id")
    record = json.loads((out / "analysis.json").read_text(encoding="utf-8"))
    assert record["reproduce"].endswith("--table orders")


def test_duckdb_query_input(db_path: Path, folder: Path, reference: crm.CustomerAnalysis) -> None:
    out = folder / "query_out"
    query = "SELECT customer_id, date AS bought, amount AS paid FROM orders"
    argv = ["analyze", str(db_path), "--query", query, "--amount-col", "paid"]
    argv += ["--date-col", "bought", "--out", str(out), "--quiet"]
    code, _, stderr = _run(argv)
    assert code == 0, stderr
    written = pd.read_parquet(out / "customers.parquet")
    _same_table(written, reference.to_frame(), "customer_id")
    record = json.loads((out / "analysis.json").read_text(encoding="utf-8"))
    assert "--query 'SELECT customer_id, date AS bought" in record["reproduce"]
    # the report shows the exact command of the run (HTML-escaped)
    import html

    report = (out / "report.html").read_text(encoding="utf-8")
    assert record["reproduce"] in html.unescape(report)


def test_a_customer_column_of_another_name(log: pd.DataFrame, tmp_path: Path) -> None:
    src = tmp_path / "orders.csv"
    log.rename(columns={"customer_id": "client"}).to_csv(src, index=False)
    argv = ["analyze", str(src), "--customer-col", "client", "--out", str(tmp_path), "--quiet"]
    code, _, stderr = _run(argv)
    assert code == 0, stderr
    assert pd.read_parquet(tmp_path / "customers.parquet").columns[0] == "client"


def test_save_replaces_the_duckdb_table_and_needs_no_rerun(
    reference: crm.CustomerAnalysis, tmp_path: Path
) -> None:
    db = tmp_path / "crm.duckdb"
    for _ in range(2):
        files = reference.save(tmp_path / "out", report=False, duckdb_database=db)
    assert files.report is None
    assert files.paths()[0] == tmp_path / "out" / "customers.parquet"
    con = duckdb.connect(str(db), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM customers").fetchall() == [(299,)]
    finally:
        con.close()
    with pytest.raises(crm.errors.ArgumentError, match="table_format"):
        reference.save(tmp_path / "x", table_format="xlsx")
    with pytest.raises(crm.errors.ArgumentError, match="duckdb_table"):
        reference.save(tmp_path / "x", duckdb_database=db, duckdb_table="")


def test_defaults_and_help() -> None:
    args = build_parser().parse_args(["analyze", "orders.csv"])
    assert args.out == DEFAULT_OUT == "crmmodels_output"
    assert (args.customer_col, args.date_col, args.amount_col) == ("customer_id", "date", "amount")
    assert (args.format, args.time_unit, args.horizon, args.model) == ("parquet", "W", None, None)
    with pytest.raises(SystemExit) as exc, contextlib.redirect_stdout(io.StringIO()) as out:
        main(["analyze", "--help"])
    assert exc.value.code == 0
    stdout = out.getvalue()
    for option in ("--table", "--query", "--to-duckdb", "--duckdb-table", "--quiet", "--holdout"):
        assert option in stdout


# ------------------------------------------------------------------ bad input


@pytest.fixture(scope="module")
def bad_files(folder: Path) -> dict[str, str]:
    empty = folder / "empty.csv"
    empty.write_text("customer_id,date,amount\n", encoding="utf-8")
    misnamed = folder / "misnamed.csv"
    misnamed.write_text("customer_id,date,Amount\n1,2024-01-01,5\n", encoding="utf-8")
    not_parquet = folder / "text.parquet"
    not_parquet.write_text("not parquet", encoding="utf-8")
    return {
        "missing": str(folder / "nope.csv"),
        "empty": str(empty),
        "misnamed": str(misnamed),
        "not_parquet": str(not_parquet),
        "sheet": str(folder / "orders.xlsx"),
    }


USAGE_CASES = [
    (["--horizon", "0"], "--horizon must be a finite number > 0"),
    (["--horizon", "abc"], "argument --horizon: invalid float value"),
    (["--holdout", "-4"], "--holdout must be"),
    (["--margin", "1.5"], "--margin must be"),
    (["--discount-rate", "-0.1"], "--discount-rate must be"),
    (["--model", "Weibull"], "--model must be one of ['BGNBD', 'MBGNBD', 'ParetoNBD', 'BGBB']"),
    (["--time-unit", "fortnight"], "--time-unit must be"),
    (["--observation-end", "31/12/1998"], "--observation-end must be a date"),
    (["--format", "xlsx"], "argument --format: invalid choice"),
    (["--format", "none"], "add --to-duckdb"),
    (["--to-duckdb", "x.duckdb", "--duckdb-table", ""], "--duckdb-table must be a table name"),
    (["--table", "orders"], "--table reads a DuckDB database"),
    (["--colour", "red"], "unrecognized arguments: --colour"),
]


@pytest.mark.parametrize(("options", "needle"), USAGE_CASES)
def test_bad_options_are_usage_errors(csv_path: Path, options: list[str], needle: str) -> None:
    code, stdout, stderr = _run(["analyze", str(csv_path), *options])
    assert code == 2
    assert stdout == ""
    line = _one_error_line(stderr)
    assert needle in line
    assert ".." not in line
    assert line.endswith("--help' for help.")
    if "unrecognized" not in needle:  # argparse reports unknown options at the top
        assert line.startswith("crmmodels analyze: error:")
        assert line.endswith("Run 'crmmodels analyze --help' for help.")


DATA_CASES = [
    ("missing", [], "does not exist"),
    ("misnamed", [], "no column 'amount'. Did you mean 'Amount'?"),
    ("misnamed", ["--customer-col", "customer"], "Name the column with --customer-col"),
    ("empty", [], "has no rows: the transaction log is empty"),
    ("not_parquet", [], "is not a readable Parquet file"),
    ("sheet", [], "cannot tell the kind of input"),
]


@pytest.mark.parametrize(("name", "options", "needle"), DATA_CASES)
def test_bad_files_are_data_errors(
    bad_files: dict[str, str], name: str, options: list[str], needle: str
) -> None:
    code, stdout, stderr = _run(["analyze", bad_files[name], *options])
    assert code == 1
    assert stdout == ""
    assert needle in _one_error_line(stderr)


def test_purchases_after_the_observation_end(csv_path: Path) -> None:
    code, stdout, stderr = _run(["analyze", str(csv_path), "--observation-end", "1997-06-30"])
    assert code == 1 and stdout == ""
    line = _one_error_line(stderr)
    assert "after the observation end 1997-06-30" in line
    assert "--observation-end" in line and "observation_end" not in line


def test_a_duckdb_table_that_does_not_exist(db_path: Path) -> None:
    code, _, stderr = _run(["analyze", str(db_path), "--table", "ordrs"])
    assert code == 1
    line = _one_error_line(stderr)
    assert "has no table 'ordrs'. Did you mean 'orders'?" in line


def test_a_duckdb_database_needs_a_table_or_a_query(db_path: Path) -> None:
    code, _, stderr = _run(["analyze", str(db_path)])
    assert code == 2
    assert "needs --table NAME or --query SQL" in _one_error_line(stderr)
    assert "['orders']" in stderr
    code, _, stderr = _run(["analyze", str(db_path), "--table", "orders", "--query", "SELECT 1"])
    assert code == 2
    assert "not allowed with argument" in _one_error_line(stderr)


def test_a_failing_query(db_path: Path) -> None:
    code, _, stderr = _run(["analyze", str(db_path), "--query", "SELECT * FROM nothing_here"])
    assert code == 1
    line = _one_error_line(stderr)
    assert "--query failed" in line and "nothing_here" in line


def test_a_missing_duckdb_database_is_not_created(folder: Path) -> None:
    path = folder / "absent.duckdb"
    code, _, stderr = _run(["analyze", str(path), "--table", "orders"])
    assert code == 1 and "does not exist" in _one_error_line(stderr)
    assert not path.exists()


def test_duckdb_not_installed(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "duckdb", None)  # import duckdb raises ImportError
    code, _, stderr = _run(["analyze", str(db_path), "--table", "orders"])
    assert code == 1
    assert 'pip install "crmmodels[duckdb]"' in _one_error_line(stderr)


def test_duckdb_output_without_duckdb_fails_before_the_analysis(
    csv_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "duckdb", None)
    out = tmp_path / "out"
    argv = [
        "analyze",
        str(csv_path),
        "--to-duckdb",
        str(tmp_path / "crm.duckdb"),
        "--out",
        str(out),
    ]
    code, stdout, stderr = _run(argv)
    assert code == 1 and stdout == ""
    assert 'pip install "crmmodels[duckdb]"' in _one_error_line(stderr)
    assert not out.exists()


def test_a_log_where_nobody_bought_twice_still_gives_the_table(tmp_path: Path) -> None:
    src = tmp_path / "once.csv"
    src.write_text(
        "customer_id,date,amount\n1,2024-01-01,10\n2,2024-01-05,20\n3,2024-02-01,5\n",
        encoding="utf-8",
    )
    code, stdout, stderr = _run(["analyze", str(src), "--out", str(tmp_path / "o"), "--quiet"])
    assert code == 0, stderr
    assert "Skipped steps:" in stdout and "Spend model (Gamma-Gamma)" in stdout
    table = pd.read_parquet(tmp_path / "o" / "customers.parquet")
    assert table["customer_id"].tolist() == [1, 2, 3]
    assert table["clv"].isna().all()


# ------------------------------------------------------------------ console script, demo


def _console_script() -> str:
    found = shutil.which("crmmodels") or str(Path(sys.executable).with_name("crmmodels"))
    if not Path(found).exists():
        pytest.skip("the crmmodels console script is not installed")
    return found


def _script(*args: str) -> subprocess.CompletedProcess[str]:
    env: dict[str, Any] = dict(os.environ)
    src = str(Path(__file__).resolve().parents[1] / "src")
    env["PYTHONPATH"] = os.pathsep.join([src, env.get("PYTHONPATH", "")])
    return subprocess.run(
        [_console_script(), *args], capture_output=True, text=True, env=env, timeout=600
    )


def test_console_script_success_and_failure(csv_path: Path, tmp_path: Path) -> None:
    proc = _script("analyze", str(csv_path), "--out", str(tmp_path), "--format", "csv")
    assert proc.returncode == 0, proc.stderr
    assert "Key figures:" in proc.stdout and "analyze: done in" in proc.stderr
    assert len(pd.read_csv(tmp_path / "customers.csv")) == 299
    proc = _script("analyze", str(csv_path), "--amount-col", "Amount")
    assert proc.returncode == 1 and proc.stdout == ""
    assert "Did you mean 'amount'?" in _one_error_line(proc.stderr)


def test_the_demo_runs_the_analysis_first(tmp_path: Path) -> None:
    assert DEMO_STEPS[0][0] == "analysis"
    code, stdout, stderr = _run(["demo", "--out", str(tmp_path), "--only", "analysis"])
    assert code == 0, stderr
    assert f"=== {DEMO_STEPS[0][1]} ===" in stdout
    assert "Customers" in stdout and "23,570" in stdout
    assert "Top 5 customers by CLV" in stdout
    table = pd.read_parquet(tmp_path / "customers.parquet")
    assert len(table) == 23_570 and table["customer_id"].is_unique
    assert (tmp_path / "report.html").exists() and (tmp_path / "analysis.json").exists()
    assert (tmp_path / "models" / "GammaGamma.json").exists()
    assert (tmp_path / "analysis_clv.png").stat().st_size > 1000
