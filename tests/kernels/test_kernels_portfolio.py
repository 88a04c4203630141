from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from crmmodels.kernels import portfolio as kc

# ---------------------------------------------------------------- plain references


def _gini_pairs(x: np.ndarray) -> float:
    """Mean absolute difference over twice the mean, O(n^2), straight from the definition."""
    n = len(x)
    return float(np.abs(x[:, None] - x[None, :]).sum() / (2 * n * n * x.mean()))


def _gini_area(x: np.ndarray) -> float:
    """1 - 2 * (trapezoid area under the ascending Lorenz curve)."""
    s = np.sort(x)
    lor = np.concatenate([[0.0], np.cumsum(s) / s.sum()])
    n = len(s)
    area = ((lor[1:] + lor[:-1]) / 2).sum() / n
    return float(1 - 2 * area)


def _best_first(x: np.ndarray) -> np.ndarray:
    return np.sort(x)[::-1].copy()


# ---------------------------------------------------------------- hand-computed


@pytest.mark.parametrize(
    ("values", "population", "sample"),
    [
        ([3.0, 1.0], 0.25, 0.5),
        ([1.0, 1.0, 1.0, 1.0], 0.0, 0.0),
        ([0.0, 0.0, 0.0, 1.0], 0.75, 1.0),
        ([50.0, 30.0, 10.0, 5.0, 5.0], 0.46, 0.575),
        # |1-2|+|1-3|+|2-3| = 4, times 2 = 8; 8 / (2 * 9 * 2) = 2/9
        ([1.0, 2.0, 3.0], 2 / 9, 1 / 3),
    ],
)
def test_gini_by_hand(values: list[float], population: float, sample: float) -> None:
    x = _best_first(np.array(values))
    assert kc.gini(x) == pytest.approx(population, abs=1e-12)
    assert kc.gini(x, "sample") == pytest.approx(sample, abs=1e-12)


def test_gini_single_customer() -> None:
    assert kc.gini(np.array([5.0])) == 0.0
    assert np.isnan(kc.gini(np.array([5.0]), "sample"))


def test_gini_bad_form() -> None:
    with pytest.raises(ValueError, match="population"):
        kc.gini(np.array([1.0, 2.0]), "other")  # type: ignore[arg-type]


def test_hhi_by_hand() -> None:
    # shares 0.5, 0.3, 0.2 -> 0.25 + 0.09 + 0.04
    x = np.array([5.0, 3.0, 2.0])
    assert kc.hhi(x) == pytest.approx(0.38)
    assert kc.hhi_normalized(x) == pytest.approx((0.38 - 1 / 3) / (2 / 3))
    assert kc.hhi(np.array([7.0])) == 1.0
    assert np.isnan(kc.hhi_normalized(np.array([7.0])))
    assert kc.hhi_normalized(np.array([2.0, 2.0, 2.0])) == pytest.approx(0.0, abs=1e-15)
    assert kc.hhi_normalized(np.array([9.0, 0.0, 0.0])) == pytest.approx(1.0)


def test_curves_by_hand() -> None:
    x = np.array([5.0, 3.0, 1.0, 1.0])
    c = kc.concentration_curve(x)
    np.testing.assert_allclose(c, [0, 0.5, 0.8, 0.9, 1.0])
    np.testing.assert_allclose(kc.lorenz_curve(x), [0, 0.1, 0.2, 0.5, 1.0])
    # top share: exact at whole customers, linear in between
    assert kc.top_share(c, 0.25) == pytest.approx(0.5)
    assert kc.top_share(c, 0.5) == pytest.approx(0.8)
    assert kc.top_share(c, 0.125) == pytest.approx(0.25)
    assert kc.top_share(c, 0.0) == 0.0
    assert kc.top_share(c, 1.0) == 1.0
    # smallest k / n with C_k >= q
    assert kc.customer_share_for_value(c, 0.5) == 0.25
    assert kc.customer_share_for_value(c, 0.8) == 0.5
    assert kc.customer_share_for_value(c, 0.80001) == 0.75
    assert kc.customer_share_for_value(c, 1.0) == 1.0


def test_negative_values_curve_exceeds_one() -> None:
    x = np.array([8.0, 4.0, 0.0, -2.0])  # net total 10
    c = kc.concentration_curve(x)
    np.testing.assert_allclose(c, [0, 0.8, 1.2, 1.2, 1.0])
    assert kc.customer_share_for_value(c, 0.8) == 0.25
    assert kc.customer_share_for_value(c, 1.0) == 0.5
    # Gini on net values: the definition (pairs) still holds and exceeds what the
    # non-negative bound 1 - 1/n would allow
    assert kc.gini(x) == pytest.approx(_gini_pairs(x))
    assert kc.gini(x) == pytest.approx(_gini_area(x))
    big_neg = np.array([10.0, -9.0])
    assert kc.gini(big_neg) == pytest.approx(_gini_pairs(big_neg))
    assert kc.gini(big_neg) > 1
    # HHI on net shares
    assert kc.hhi(x) == pytest.approx(0.8**2 + 0.4**2 + 0.2**2)
    np.testing.assert_array_equal(kc.abc_classes(c), [0, 1, 2, 2])


def test_abc_edges_exactly_on_cutoff() -> None:
    # cumulative shares 0.4, 0.8 (exactly on A), 0.9, 0.95 (exactly on B), 1.0
    c = kc.concentration_curve(np.array([40.0, 40.0, 10.0, 5.0, 5.0]))
    # the customer landing exactly on 80% is A; the next one is B
    np.testing.assert_array_equal(kc.abc_classes(c), [0, 0, 1, 1, 2])
    # crossing (not landing on) the cut-off: customer 2 crosses 0.8 and is in A
    c2 = kc.concentration_curve(np.array([50.0, 40.0, 6.0, 4.0]))
    np.testing.assert_array_equal(kc.abc_classes(c2), [0, 0, 1, 2])


def test_abc_edge_with_rounding() -> None:
    # 0.7 + 0.1 = 0.7999999999999999 in floating point: still "on" the cut-off
    x = np.array([0.7, 0.1, 0.15, 0.05])
    c = kc.concentration_curve(x)
    np.testing.assert_array_equal(kc.abc_classes(c), [0, 0, 1, 2])
    assert kc.customer_share_for_value(c, 0.8) == 0.5


def test_abc_more_cutoffs() -> None:
    c = kc.concentration_curve(np.full(10, 1.0))
    np.testing.assert_array_equal(
        kc.abc_classes(c, (0.5, 0.7, 0.9)), [0, 0, 0, 0, 0, 1, 1, 2, 2, 3]
    )


def test_descending_order_ties_by_id() -> None:
    values = np.array([2.0, 5.0, 2.0, 2.0, 7.0])
    ids = np.array([30, 10, 5, 20, 99])
    order = kc.descending_order(values, ids)
    assert ids[order].tolist() == [99, 10, 5, 20, 30]
    # already sorted ids (fast path) and no ids: ties keep input order
    assert kc.descending_order(values, np.arange(5)).tolist() == [4, 1, 0, 2, 3]
    assert kc.descending_order(values).tolist() == [4, 1, 0, 2, 3]
    str_ids = np.array(["e", "d", "c", "b", "a"], dtype=object)
    assert str_ids[kc.descending_order(values, str_ids)].tolist() == ["a", "d", "b", "c", "e"]


# ---------------------------------------------------------------- large random vs plain numpy


def test_against_plain_numpy_large() -> None:
    rng = np.random.default_rng(42)
    x = rng.lognormal(2.0, 1.3, 200_000)
    xs = _best_first(x)
    assert kc.gini(xs) == pytest.approx(_gini_area(x), rel=1e-9)
    n = len(x)
    assert kc.gini(xs, "sample") == pytest.approx(_gini_area(x) * n / (n - 1), rel=1e-9)
    shares = x / x.sum()
    assert kc.hhi(xs) == pytest.approx(float(np.sum(shares**2)), rel=1e-9)
    # top 20% share by direct sum (n * 0.2 is whole)
    c = kc.concentration_curve(xs)
    top = np.sort(x)[::-1][: n // 5].sum() / x.sum()
    assert kc.top_share(c, 0.2) == pytest.approx(top, rel=1e-12)
    # customers for 80% by counting
    cum = np.cumsum(np.sort(x)[::-1]) / x.sum()
    k = int(np.searchsorted(cum, 0.8)) + 1
    assert kc.customer_share_for_value(c, 0.8) == pytest.approx(k / n)
    # lognormal(sigma) population Gini = 2 Phi(sigma / sqrt 2) - 1
    from scipy.stats import norm

    assert kc.gini(xs) == pytest.approx(2 * norm.cdf(1.3 / np.sqrt(2)) - 1, abs=0.01)


def test_against_pairwise_definition_random() -> None:
    rng = np.random.default_rng(7)
    x = rng.normal(10.0, 8.0, 1500)  # includes negatives, positive total
    assert kc.gini(_best_first(x)) == pytest.approx(_gini_pairs(x), rel=1e-9)


# ---------------------------------------------------------------- hypothesis properties

nonneg = hnp.arrays(
    np.float64,
    st.integers(1, 60),
    elements=st.floats(0, 1e6, allow_nan=False, allow_infinity=False),
).filter(lambda a: a.sum() > 0)


@given(nonneg, st.floats(0, 1), st.floats(0, 1))
def test_shares_bounded_and_monotone(x: np.ndarray, p1: float, p2: float) -> None:
    c = kc.concentration_curve(_best_first(x))
    lo, hi = sorted((p1, p2))
    t_lo, t_hi = kc.top_share(c, lo), kc.top_share(c, hi)
    assert -1e-12 <= t_lo <= t_hi + 1e-12 <= 1 + 2e-12
    q_lo, q_hi = max(lo, 1e-9), max(hi, 1e-9)
    s_lo, s_hi = kc.customer_share_for_value(c, q_lo), kc.customer_share_for_value(c, q_hi)
    assert 0 <= s_lo <= s_hi <= 1
    # the best fraction of customers holds at least that fraction of value
    assert t_lo >= lo - 1e-9


@given(nonneg)
def test_lorenz_convex_and_gini_bounds(x: np.ndarray) -> None:
    xs = _best_first(x)
    lor = kc.lorenz_curve(xs)
    assert np.all(np.diff(lor, 2) >= -1e-9)
    assert np.all(lor <= np.arange(len(lor)) / (len(lor) - 1) + 1e-9)
    n = len(x)
    g = kc.gini(xs)
    assert -1e-9 <= g <= 1 - 1 / n + 1e-9
    assert g == pytest.approx(_gini_area(x), abs=1e-9)
    h = kc.hhi(xs)
    assert 1 / n - 1e-12 <= h <= 1 + 1e-12


@given(nonneg)
def test_abc_one_class_each_and_monotone(x: np.ndarray) -> None:
    c = kc.concentration_curve(_best_first(x))
    cls = kc.abc_classes(c)
    assert len(cls) == len(x)
    assert set(np.unique(cls)) <= {0, 1, 2}
    assert np.all(np.diff(cls) >= 0)
    assert cls[0] == 0  # the best customer is always A
    # A is the smallest best-first set reaching 80%
    n_a = int((cls == 0).sum())
    assert n_a / len(x) == kc.customer_share_for_value(c, 0.8)


@given(nonneg, st.floats(1e-3, 1e3))
def test_scaling_invariance(x: np.ndarray, k: float) -> None:
    xs = _best_first(x)
    assert kc.gini(xs * k) == pytest.approx(kc.gini(xs), abs=1e-9)
    assert kc.hhi(xs * k) == pytest.approx(kc.hhi(xs), rel=1e-9)
    np.testing.assert_allclose(kc.concentration_curve(xs * k), kc.concentration_curve(xs))
