"""``analyze(pseudonymize_key=...)`` and ``crmmodels analyze --pseudonymize-key-env``.

With a key, every output (the customer table, the report, the saved files) carries keyed
pseudonyms only: no raw id and never the key. The tests search the written files.
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import crmmodels as crm
from crmmodels.cli import main
from crmmodels.datasets import load_cdnow_sample
from crmmodels.idic import pseudonymize

KEY = "a test secret that is long enough"
VAR = "CRMMODELS_TEST_PSEUDONYMIZE_KEY"


@pytest.fixture(scope="module")
def log() -> pd.DataFrame:
    tx = load_cdnow_sample()[["customer_id", "date", "amount"]]
    return tx.assign(customer_id="RAWID-" + tx["customer_id"].astype(str).str.zfill(6))


@pytest.fixture(scope="module")
def hidden(log: pd.DataFrame) -> crm.CustomerAnalysis:
    return crm.analyze(log, pseudonymize_key=KEY)


@pytest.fixture(scope="module")
def plain(log: pd.DataFrame) -> crm.CustomerAnalysis:
    return crm.analyze(log)


def _files_text(folder: Path) -> dict[str, str]:
    """Every written file as text (binary files decoded leniently)."""
    return {
        str(p.relative_to(folder)): p.read_bytes().decode("utf-8", errors="replace")
        for p in folder.rglob("*")
        if p.is_file()
    }


def test_the_table_carries_the_pseudonyms_and_the_same_values(
    log: pd.DataFrame, hidden: crm.CustomerAnalysis, plain: crm.CustomerAnalysis
) -> None:
    mapping = pseudonymize(
        pd.DataFrame({"customer_id": plain.customers["customer_id"]}), "customer_id", key=KEY
    )["customer_id"]
    expected = plain.customers.assign(customer_id=mapping.to_numpy())
    got = hidden.customers.set_index("customer_id").loc[expected["customer_id"]]
    np.testing.assert_allclose(got["clv"].to_numpy(), expected["clv"].to_numpy(), rtol=1e-10)
    assert (got["lifecycle_stage"].to_numpy() == expected["lifecycle_stage"].to_numpy()).all()
    assert not hidden.customers["customer_id"].str.contains("RAWID").any()
    assert hidden.settings.pseudonymized and not plain.settings.pseudonymized
    assert "pseudonymize_key=key" in hidden.settings.python_call()
    assert KEY not in repr(hidden) and KEY not in str(hidden.to_dict())


def test_same_key_same_ids_other_key_other_ids(
    log: pd.DataFrame, hidden: crm.CustomerAnalysis
) -> None:
    again = crm.analyze(log, pseudonymize_key=KEY)
    assert again.customers["customer_id"].tolist() == hidden.customers["customer_id"].tolist()
    other = crm.analyze(log, pseudonymize_key=KEY + " but another one")
    assert not set(other.customers["customer_id"]) & set(hidden.customers["customer_id"])


def test_no_raw_id_and_no_key_in_any_written_file(
    hidden: crm.CustomerAnalysis, plain: crm.CustomerAnalysis, tmp_path: Path
) -> None:
    shown = plain.save(tmp_path / "plain", table_format="csv")
    assert "RAWID" in shown.report.read_text(encoding="utf-8")  # the search finds raw ids
    files = hidden.save(tmp_path / "hidden", table_format="csv")
    texts = _files_text(files.out_dir)
    assert {"customers.csv", "report.html", "analysis.json"} <= set(texts)
    for name, text in texts.items():
        assert "RAWID" not in text, name
        assert KEY not in text, name
    table = pd.read_csv(files.out_dir / "customers.csv")
    assert set(table["customer_id"]) == set(hidden.customers["customer_id"])
    parquet = hidden.to_parquet(tmp_path / "customers.parquet")
    assert not pd.read_parquet(parquet)["customer_id"].str.contains("RAWID").any()


def test_a_short_key_is_refused(log: pd.DataFrame) -> None:
    with pytest.raises(crm.errors.ArgumentError, match="at least 16 bytes"):
        crm.analyze(log, pseudonymize_key="short")


def _run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def test_the_command_reads_the_key_from_the_environment(
    log: pd.DataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "log.csv"
    log.to_csv(source, index=False)
    monkeypatch.setenv(VAR, KEY)
    out_dir = tmp_path / "out"
    code, out, err = _run(
        ["analyze", str(source), "--out", str(out_dir), "--pseudonymize-key-env", VAR, "--quiet"]
    )
    assert code == 0, err
    texts = _files_text(out_dir)
    assert "report.html" in texts and "customers.parquet" in texts
    for name, text in texts.items():
        assert "RAWID" not in text, name
        assert KEY not in text, name
    assert KEY not in out + err and "RAWID" not in out
    assert f"--pseudonymize-key-env {VAR}" in texts["analysis.json"]
    table = pd.read_parquet(out_dir / "customers.parquet")
    expected = crm.analyze(log, pseudonymize_key=KEY).customers
    assert sorted(table["customer_id"]) == sorted(expected["customer_id"])


@pytest.mark.parametrize(("value", "message"), [(None, "not set"), ("short", "shorter than 16")])
def test_a_missing_or_short_key_is_a_usage_error(
    log: pd.DataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value, message
) -> None:
    source = tmp_path / "log.csv"
    log.head(50).to_csv(source, index=False)
    if value is None:
        monkeypatch.delenv(VAR, raising=False)
    else:
        monkeypatch.setenv(VAR, value)
    code, _, err = _run(
        ["analyze", str(source), "--out", str(tmp_path / "o"), "--pseudonymize-key-env", VAR]
    )
    assert code == 2
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "o").exists()
