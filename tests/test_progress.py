"""Progress reports of long steps: off by default, on with progress=True or logging."""

from __future__ import annotations

import logging

import pandas as pd
import pytest

from crmmodels._progress import Progress
from crmmodels.basket import frequent_itemsets
from crmmodels.clv import BGNBD, GammaGamma, customer_equity, customer_lifetime_value
from crmmodels.datasets import load_cdnow_summary
from crmmodels.errors import ArgumentError
from crmmodels.idic import resolve_identities


def _logging_state() -> tuple[object, ...]:
    lib = logging.getLogger("crmmodels")
    root = logging.getLogger()
    return (lib.level, tuple(lib.handlers), lib.propagate, root.level, tuple(root.handlers))


def test_silent_by_default(capsys: pytest.CaptureFixture[str]) -> None:
    with Progress("task", total=4) as report:
        report.info("a message")
        for i in range(1, 5):
            report.update(i)
    assert not report.active
    assert capsys.readouterr() == ("", "")


def test_enabled_writes_to_stderr_without_changing_logging(
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = _logging_state()
    with Progress("task", enabled=True, total=100, unit="block") as report:
        report.info("starting %d blocks", 100)
        for i in range(1, 101):
            report.update(i)
    assert _logging_state() == before
    out, err = capsys.readouterr()
    lines = err.splitlines()
    assert out == ""
    assert lines[0] == "task: starting 100 blocks"
    assert lines[1].startswith("task: block 1/100 (")
    assert lines[-2].startswith("task: block 100/100 (")
    assert lines[-1].startswith("task: done in ")
    assert lines[2].startswith("task: block 10/100 (")  # then every 10%
    assert len(lines) == 1 + 11 + 1


def test_logging_configuration_receives_the_messages_once(
    caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.INFO, logger="crmmodels")
    for enabled in (False, True):
        with Progress("task", enabled=enabled, logger="crmmodels.test") as report:
            report.info("step")
    messages = [r.getMessage() for r in caplog.records if r.name == "crmmodels.test"]
    assert messages[0::2] == ["task: step"] * 2
    assert all(m.startswith("task: done in ") for m in messages[1::2]) and len(messages) == 4
    assert capsys.readouterr().err == ""  # never twice


def test_progress_must_be_a_bool() -> None:
    with pytest.raises(ArgumentError, match="progress"):
        Progress("task", enabled="yes")  # type: ignore[arg-type]
    with pytest.raises(ArgumentError, match="progress"):
        frequent_itemsets(
            pd.DataFrame({"b": [1], "i": ["x"]}),
            basket_col="b",
            item_col="i",
            min_support=0.5,
            progress=1,  # type: ignore[arg-type]
        )


def test_customer_equity_and_clv_report_progress(capsys: pytest.CaptureFixture[str]) -> None:
    s = load_cdnow_summary()
    bg = BGNBD().fit(s)
    gg = GammaGamma().fit(s[s["frequency"] > 0])
    capsys.readouterr()
    customer_equity(bg, gg, s, horizon=52, discount_rate=0.1, n_draws=20, progress=True)
    err = capsys.readouterr().err
    assert "customer_equity: 2357 customers, " in err
    assert "customer_equity: draw 1/20 (" in err and "customer_equity: draw 20/20 (" in err
    assert err.splitlines()[-1].startswith("customer_equity: done in ")
    customer_equity(bg, gg, s, horizon=52, discount_rate=0.1, n_draws=20)
    assert capsys.readouterr().err == ""
    customer_lifetime_value(bg, gg, s, horizon=52, discount_rate=0.1, progress=True)
    err = capsys.readouterr().err
    assert "customer_lifetime_value: 2357 customers, " in err
    assert "customer_lifetime_value: discounted transactions by Gauss-Legendre" in err


def test_identity_resolution_reports_progress(capsys: pytest.CaptureFixture[str]) -> None:
    records = pd.DataFrame(
        {
            "id": ["a1", "a2", "b1"],
            "email": ["x@example.com", None, "X@example.com"],
            "name": ["Ann Lee", "Ann Lee", "Bob Roe"],
            "city": ["Oslo", "Oslo", "Rome"],
        }
    )
    res = resolve_identities(
        records,
        id_col="id",
        email_cols="email",
        name_cols="name",
        block_cols="city",
        fuzzy=True,
        progress=True,
    )
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "resolve_identities: 3 records"
    assert any(line.startswith("resolve_identities: fuzzy: scoring ") for line in err)
    assert f"resolve_identities: {res.n_customers} customers" in err
    assert err[-1].startswith("resolve_identities: done in ")
    resolve_identities(records, id_col="id", email_cols="email")
    assert capsys.readouterr().err == ""


def test_itemset_mining_reports_each_size(capsys: pytest.CaptureFixture[str]) -> None:
    tx = pd.DataFrame(
        {"order": [1, 1, 1, 2, 2, 2, 3, 3], "item": ["a", "b", "c", "a", "b", "c", "a", "b"]}
    )
    frequent_itemsets(tx, basket_col="order", item_col="item", min_support=0.5, progress=True)
    err = capsys.readouterr().err.splitlines()
    assert err[0] == (
        "frequent_itemsets: 3 baskets, 3 items, 8 (basket, item) pairs; "
        "itemsets in at least 2 baskets"
    )
    assert err[1:4] == [
        "frequent_itemsets: 3 frequent itemsets of size 1",
        "frequent_itemsets: 3 frequent itemsets of size 2",
        "frequent_itemsets: 1 frequent itemsets of size 3",
    ]
    assert err[-1].startswith("frequent_itemsets: done in ")
    frequent_itemsets(tx, basket_col="order", item_col="item", min_support=0.5)
    assert capsys.readouterr().err == ""


def test_model_fit_reports_its_steps(capsys) -> None:
    from crmmodels.clv import BGNBD
    from crmmodels.datasets import load_cdnow_summary

    summary = load_cdnow_summary()
    BGNBD().fit(summary)
    assert capsys.readouterr().err == ""
    model = BGNBD(progress=True).fit(summary)
    err = capsys.readouterr().err
    assert "BGNBD.fit: 2357 customers in" in err
    assert "BGNBD.fit: optimiser start 1: log-likelihood" in err
    assert "BGNBD.fit: done in" in err
    assert model.get_params()["progress"] is True
    with pytest.raises(ArgumentError, match="progress"):
        BGNBD(progress="yes").fit(summary)
