"""Models fitted on an hourly summary remember hours: predict, save/load and CLV accept them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import crmmodels as crm
from crmmodels import clv
from crmmodels.datasets import load_cdnow_sample


@pytest.fixture(scope="module")
def hourly() -> pd.DataFrame:
    # CDNOW sample purchases spread over hours: each purchase day becomes an hour offset
    tx = load_cdnow_sample()[["customer_id", "date", "amount"]]
    rng = np.random.default_rng(0)
    hours = pd.to_timedelta(rng.integers(0, 24, len(tx)), unit="h")
    return tx.assign(date=tx["date"] + hours)


def test_fit_predict_save_and_value_in_hours(hourly, tmp_path) -> None:
    summary = crm.summarize_transactions(hourly, period="h", time_unit="D", amount_col="amount")
    model = clv.BGNBD().fit(summary)
    assert model.time_unit_ == "D"
    hours = crm.summarize_transactions(hourly, period="h", amount_col="amount")
    hourly_model = clv.BGNBD().fit(hours)
    assert hourly_model.time_unit_ == "h"
    pred = hourly_model.predict(hours, horizon=24 * 7)
    assert pred.attrs["time_unit"] == "h"
    assert np.isfinite(pred["expected_purchases"]).all()
    path = tmp_path / "hourly.json"
    hourly_model.save(path)
    loaded = clv.BGNBD.load(path)
    assert loaded.time_unit_ == "h"
    np.testing.assert_allclose(
        loaded.predict(hours, horizon=24)["expected_purchases"],
        hourly_model.predict(hours, horizon=24)["expected_purchases"],
    )
    spend = clv.GammaGamma().fit(hours[hours["frequency"] > 0])
    value = clv.customer_lifetime_value(
        hourly_model, spend, hours, horizon=24 * 7, discount_rate=0.1, discount_period=24 * 365
    )
    assert value.time_unit == "hours"
    assert np.isfinite(value.to_frame()["clv"]).all()
