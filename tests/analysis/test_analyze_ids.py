"""Text ids are coded once inside ``analyze``: the outputs are those of the uncoded run."""

from __future__ import annotations

import pandas as pd
import pytest

import crmmodels as crm
from crmmodels.analysis import _analyze
from crmmodels.analysis._ids import code_ids
from crmmodels.datasets import load_cdnow_sample


@pytest.fixture(scope="module")
def text_log() -> pd.DataFrame:
    tx = load_cdnow_sample()
    # ids whose text order differs from their numeric order and from first appearance
    return tx.assign(customer_id="c" + (tx["customer_id"] * 7919 % 10007).astype(str))


def test_coded_run_equals_uncoded_run(
    text_log: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    coded = crm.analyze(text_log, amount_col="amount")
    monkeypatch.setattr(_analyze, "code_ids", lambda log, col: (log, None))
    plain = crm.analyze(text_log, amount_col="amount")
    pd.testing.assert_frame_equal(coded.customers, plain.customers)
    pd.testing.assert_frame_equal(coded.rfm, plain.rfm)
    for part in ("lifecycle", "relationship", "clv", "quadrants", "portfolio", "retention"):
        pd.testing.assert_frame_equal(
            getattr(coded, part).to_frame(), getattr(plain, part).to_frame()
        )
    assert coded.key_figures == plain.key_figures
    assert set(coded.customers["customer_id"]) == set(text_log["customer_id"])


def test_code_ids_leaves_the_log_and_integer_ids_alone(text_log: pd.DataFrame) -> None:
    before = text_log.copy()
    coded, codes = code_ids(text_log, "customer_id")
    pd.testing.assert_frame_equal(text_log, before)
    assert codes is not None
    assert coded["customer_id"].dtype == "int64"
    assert list(codes.ids) == sorted(set(text_log["customer_id"]))
    back = codes.decode(coded)
    pd.testing.assert_series_equal(back["customer_id"], text_log["customer_id"])
    ints = text_log.assign(customer_id=text_log["customer_id"].str[1:].astype("int64"))
    same, none = code_ids(ints, "customer_id")
    assert same is ints and none is None
