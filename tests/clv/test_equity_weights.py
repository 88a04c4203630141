"""``customer_equity(weights=...)``: a row standing for several customers.

The reference is the same summary with each row repeated ``weight`` times.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmmodels.clv import BGNBD, GammaGamma, ParetoNBD, customer_equity
from crmmodels.datasets import load_cdnow_summary
from crmmodels.errors import ArgumentError

ARGS = {"horizon": 52.0, "discount_rate": 0.1, "discount_period": 52.0}


@pytest.fixture(scope="module")
def fitted() -> tuple[pd.DataFrame, BGNBD, GammaGamma]:
    s = load_cdnow_summary()
    return s, BGNBD().fit(s), GammaGamma().fit(s[s["frequency"] > 0])


def _repeated(rows: pd.DataFrame, counts: np.ndarray) -> pd.DataFrame:
    return rows.loc[rows.index.repeat(counts.astype(np.int64))].reset_index(drop=True)


@pytest.mark.parametrize("method", ["delta", "draws"])
def test_distinct_rows_with_counts_equal_every_customer(fitted, method) -> None:
    s, bg, gg = fitted
    cols = ["frequency", "recency", "T", "monetary_value"]
    grouped = s.groupby(cols, as_index=False).size()
    rows, counts = grouped[cols], grouped["size"].to_numpy(dtype=float)
    assert len(rows) < len(s)
    kw = {"method": method, "n_draws": 30, **ARGS}
    weighted = customer_equity(bg, gg, rows, weights=counts, **kw)
    every = customer_equity(bg, gg, s, **kw)
    assert weighted.n_customers == len(s)
    assert weighted.total == pytest.approx(every.total, rel=1e-10)
    assert weighted.low == pytest.approx(every.low, rel=1e-8)
    assert weighted.high == pytest.approx(every.high, rel=1e-8)


def test_a_zero_weight_row_counts_for_nothing(fitted) -> None:
    s, bg, gg = fitted
    head = s.head(300)
    w = np.ones(len(head))
    w[::3] = 0.0
    weighted = customer_equity(bg, gg, head, weights=w, method="delta", **ARGS)
    kept = customer_equity(bg, gg, head[w > 0], method="delta", **ARGS)
    assert weighted.total == pytest.approx(kept.total, rel=1e-12)
    assert weighted.low == pytest.approx(kept.low, rel=1e-9)
    assert weighted.n_customers == int((w > 0).sum())


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(5, 60))
def test_integer_weights_equal_repeated_rows(seed, n) -> None:
    rng = np.random.default_rng(seed)
    T = rng.uniform(5, 40, n).round(1)
    x = rng.integers(0, 6, n)
    rows = pd.DataFrame(
        {
            "frequency": x,
            "recency": np.where(x > 0, (T * rng.uniform(0, 1, n)).round(1), 0.0),
            "T": T,
            "monetary_value": np.where(x > 0, rng.gamma(3.0, 10.0, n).round(2), 0.0),
        }
    )
    counts = rng.integers(0, 4, n).astype(float)
    counts[0] = 1.0
    pn = ParetoNBD.from_params(r=0.55, alpha=10.6, s=0.61, beta=11.7)
    gg = GammaGamma.from_params(p=6.25, q=3.74, v=15.44)
    weighted = customer_equity(pn, gg, rows, weights=counts, n_draws=0, **ARGS)
    every = customer_equity(pn, gg, _repeated(rows, counts), n_draws=0, **ARGS)
    assert weighted.total == pytest.approx(every.total, rel=1e-10)
    assert weighted.n_customers == int(counts.sum())


@pytest.mark.parametrize(
    ("weights", "word"),
    [
        (np.ones(3), "3 values for 10"),
        (np.r_[np.ones(9), -1.0], "non-negative"),
        (np.r_[np.ones(9), np.nan], "finite"),
        (["a"] * 10, "numbers"),
    ],
)
def test_bad_weights_are_named(fitted, weights, word) -> None:
    s, bg, gg = fitted
    with pytest.raises(ArgumentError, match=word):
        customer_equity(bg, gg, s.head(10), weights=weights, method="delta", **ARGS)
