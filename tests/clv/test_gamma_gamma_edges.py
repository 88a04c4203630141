"""Gamma-Gamma edge cases: zero mean spend of a repeat buyer, infinite posterior means."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import crmmodels as crm
from crmmodels.clv import GammaGamma
from crmmodels.errors import CRMModelsWarning, DataError
from crmmodels.kernels import gamma_gamma as kernel


# ------------------------------------------------------- item 2: the documented idiom
def test_documented_idiom_works_on_the_bundled_full_cdnow_log() -> None:
    summary = crm.summarize_transactions(crm.datasets.load_cdnow(), amount_col="amount")
    repeat = summary[summary["frequency"] > 0]
    zero = int((repeat["monetary_value"] == 0).sum())
    assert zero == 1  # the data fact behind the issue
    with pytest.warns(CRMModelsWarning, match=r"left out 1 customer with frequency > 0"):
        gg = GammaGamma().fit(repeat)
    assert gg.n_excluded_ == 1
    assert gg.diagnostics_["n_zero_spend_excluded"] == 1
    assert gg.diagnostics_["n_no_repeat_excluded"] == 0
    assert gg.n_customers_ == len(repeat) - 1
    assert all(v > 0 for v in gg.params_.values())
    # the left-out customer still gets a (finite, positive) prediction
    row = repeat[repeat["monetary_value"] == 0]
    spend = gg.conditional_expected_spend(row["frequency"], row["monetary_value"])
    assert np.all(np.isfinite(spend) & (spend > 0))


def test_no_warning_when_nothing_but_non_repeat_buyers_is_left_out() -> None:
    summary = crm.datasets.load_cdnow_summary()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gg = GammaGamma().fit(summary)
    assert gg.diagnostics_["n_zero_spend_excluded"] == 0
    assert gg.n_excluded_ == gg.diagnostics_["n_no_repeat_excluded"] == 1411


def test_zero_spend_rows_are_counted_in_score_too() -> None:
    gg = GammaGamma.from_params(p=6.25, q=3.74, v=15.44)
    with pytest.warns(CRMModelsWarning, match="GammaGamma.score: left out 1 customer"):
        got = gg.score(frequency=[1, 2, 3], monetary_value=[20.0, 0.0, 35.0])
    assert got == pytest.approx(float(np.mean(gg.log_likelihood([1, 3], [20.0, 35.0]))))


# --------------------------------------------- item 3: infinite posterior mean spend
def test_posterior_mean_is_infinite_not_negative_when_px_plus_q_le_1() -> None:
    gg = GammaGamma.from_params(p=0.1, q=0.5, v=10)
    with pytest.warns(CRMModelsWarning, match=r"infinite for 2 customers.*p \* frequency \+ q"):
        out = gg.conditional_expected_spend([1, 2], [20.0, 20.0])
    assert np.all(np.isposinf(out))
    with pytest.warns(CRMModelsWarning, match="infinite for 1 customer"):
        mixed = gg.conditional_expected_spend([6, 5], [20.0, 20.0])  # 1.1 > 1, 1.0 <= 1
    assert mixed[0] == pytest.approx(0.1 * (10 + 6 * 20.0) / 0.1)
    assert np.isposinf(mixed[1])


def test_clv_is_never_negative_with_such_a_spend_model() -> None:
    summary = crm.datasets.load_cdnow_summary().head(50)
    bg = crm.clv.BGNBD.from_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
    gg = GammaGamma.from_params(p=0.1, q=0.5, v=10)
    # infinite expected spend: said by a warning, and the CLV refuses (never negative)
    with (
        pytest.warns(CRMModelsWarning, match="infinite"),
        pytest.raises(DataError, match="not finite"),
    ):
        crm.clv.customer_lifetime_value(bg, gg, summary, horizon=10, discount_rate=0.01)


@given(
    p=st.floats(1e-3, 50),
    q=st.floats(1e-3, 50),
    v=st.floats(1e-3, 1e3),
    x=st.integers(0, 200),
    m=st.floats(0, 1e4),
)
def test_kernel_spend_is_positive_or_infinite(
    p: float, q: float, v: float, x: int, m: float
) -> None:
    out = float(kernel.conditional_expected_spend([p, q, v], x, m))
    assert out > 0
    assert np.isinf(out) == ((p * x + q <= 1) if x > 0 else (q <= 1))
