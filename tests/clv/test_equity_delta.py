"""The delta-method interval of customer equity against the parameter draws' interval."""

from __future__ import annotations

import math

import numpy as np
import pytest

import crmmodels as crm
from crmmodels import clv
from crmmodels.datasets import load_cdnow
from crmmodels.errors import ArgumentError

SETTINGS = {"horizon": 52, "discount_rate": 0.1, "discount_period": 52}


@pytest.fixture(scope="module")
def summary():
    return crm.summarize_transactions(load_cdnow(), amount_col="amount", time_unit="W")


@pytest.fixture(scope="module")
def spend(summary):
    keep = (summary["frequency"] > 0) & (summary["monetary_value"] > 0)
    return clv.GammaGamma().fit(summary[keep])


@pytest.mark.parametrize("cls", [clv.BGNBD, clv.ParetoNBD])
def test_delta_interval_agrees_with_many_draws(cls, summary, spend) -> None:
    model = cls().fit(summary)
    draws = clv.customer_equity(model, spend, summary, n_draws=1000, seed=1, **SETTINGS)
    delta = clv.customer_equity(model, spend, summary, method="delta", **SETTINGS)
    assert delta.method == "delta" and delta.draws == () and delta.n_draws == 0
    assert delta.total == pytest.approx(draws.total, rel=1e-12)
    assert delta.low < delta.total < delta.high
    half_draws = (draws.high - draws.low) / 2
    half_delta = (delta.high - delta.low) / 2
    # both approximate the same sampling distribution: widths within 15%, centres close
    assert half_delta == pytest.approx(half_draws, rel=0.15)
    assert (delta.low + delta.high) / 2 == pytest.approx((draws.low + draws.high) / 2, rel=0.01)


def test_delta_width_scales_with_the_level(summary, spend) -> None:
    model = clv.BGNBD().fit(summary)
    d90 = clv.customer_equity(model, spend, summary, method="delta", level=0.9, **SETTINGS)
    d95 = clv.customer_equity(model, spend, summary, method="delta", level=0.95, **SETTINGS)
    # log-normal interval: log-widths in the ratio of the normal quantiles
    ratio = math.log(d95.high / d95.low) / math.log(d90.high / d90.low)
    assert ratio == pytest.approx(1.959964 / 1.644854, rel=1e-6)


def test_constant_spend_is_the_transaction_models_uncertainty_only(summary) -> None:
    model = clv.BGNBD().fit(summary)
    a = clv.customer_equity(model, 10.0, summary, method="delta", **SETTINGS)
    b = clv.customer_equity(model, 20.0, summary, method="delta", **SETTINGS)
    # equity is linear in a constant spend: the interval scales with it
    assert b.low / a.low == pytest.approx(2.0, rel=1e-9)
    assert b.high / a.high == pytest.approx(2.0, rel=1e-9)


def test_models_without_covariance_give_no_interval(summary, spend) -> None:
    fitted = clv.BGNBD().fit(summary)
    bare = clv.BGNBD.from_params(**fitted.params_)
    out = clv.customer_equity(bare, spend, summary, method="delta", **SETTINGS)
    assert np.isnan(out.low) and np.isnan(out.high)
    assert out.total == pytest.approx(
        clv.customer_equity(fitted, spend, summary, n_draws=0, **SETTINGS).total
    )


def test_bad_method(summary, spend) -> None:
    model = clv.BGNBD().fit(summary)
    with pytest.raises(ArgumentError, match="method"):
        clv.customer_equity(model, spend, summary, method="bootstrap", **SETTINGS)
