"""The factorised Pareto/NBD likelihood of the fit and the outer-grid hypergeometric.

The fit's likelihood (:mod:`crmmodels.kernels.pareto_nbd_fit`) must equal the documented
per-customer likelihood summed row by row, its gradient must be the derivative of that sum
(central differences), on both of its routes (dense grid and distinct pairs) and far out
in the parameter space; the outer grid of ``2F1(a, b; a + 1; z)`` must equal mpmath.
"""

from __future__ import annotations

from collections.abc import Callable
from unittest import mock

import mpmath as mp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.typing import NDArray

from crmmodels.kernels import pareto_nbd, pareto_nbd_fit
from crmmodels.kernels.hypergeometric import log_hyp2f1_a_a1, log_hyp2f1_a_a1_outer

FloatArray = NDArray[np.float64]


def _day_grid(seed: int, n: int = 400, x_max: int = 30) -> tuple[FloatArray, ...]:
    """Histories on a day grid in weeks (T over a year), with weights."""
    rng = np.random.default_rng(seed)
    T = rng.integers(1, 365, n) / 7.0
    x = np.minimum(rng.geometric(0.3, n) - 1, x_max).astype(np.float64)
    tx = np.where(x > 0, np.floor(rng.uniform(0.0, 1.0, n) * T * 7.0) / 7.0, 0.0)
    tx = np.where(x > 0, np.maximum(tx, 1.0 / 7.0), 0.0)
    tx = np.minimum(tx, T)
    w = rng.integers(1, 5, n).astype(np.float64)
    return x, tx, T, w


def _levels(x: FloatArray, tx: FloatArray, T: FloatArray, dense: bool) -> pareto_nbd_fit.Levels:
    """The factorisation on the dense grid or on the distinct pairs, as asked."""
    ratio, allowance = (10**9, 10**9) if dense else (0, 0)
    with (
        mock.patch.object(pareto_nbd_fit, "_DENSE_RATIO", ratio),
        mock.patch.object(pareto_nbd_fit, "_DENSE_ALLOWANCE", allowance),
    ):
        lv = pareto_nbd_fit.factorise(x, tx, T)
    assert lv.dense is dense
    return lv


def _row_sum(params: FloatArray, x: FloatArray, tx: FloatArray, T: FloatArray, w: FloatArray):
    return float(np.dot(w, pareto_nbd.log_likelihood(params, x, tx, T)))


def _central(f: Callable[[FloatArray], float], p: FloatArray, h: float = 1e-6) -> FloatArray:
    out = np.empty(p.size)
    for j in range(p.size):
        up, dn = p.copy(), p.copy()
        up[j] *= np.exp(h)
        dn[j] *= np.exp(-h)
        out[j] = (f(up) - f(dn)) / (up[j] - dn[j])
    return out


log_param = st.floats(min_value=-3.0, max_value=3.0)


@given(
    lr=log_param,
    la=log_param,
    ls=log_param,
    lb=log_param,
    seed=st.integers(0, 50),
    dense=st.booleans(),
)
def test_equals_the_row_sum_and_its_gradient(
    lr: float, la: float, ls: float, lb: float, seed: int, dense: bool
) -> None:
    params = np.exp([lr, la, ls, lb])
    x, tx, T, w = _day_grid(seed, n=120)
    ll, grad = pareto_nbd_fit.loglik_grad(tuple(params), _levels(x, tx, T, dense), w)
    expected = _row_sum(params, x, tx, T, w)
    assert ll == pytest.approx(expected, rel=1e-11)
    fd = _central(lambda p: _row_sum(p, x, tx, T, w), params)
    scale = np.abs(grad) + np.abs(ll) / params * 1e-6
    assert np.all(np.abs(grad - fd) <= 1e-4 * scale)


@pytest.mark.parametrize("params", [(0.55, 10.8, 0.61, 12.4), (0.55, 12.4, 0.61, 10.8)])
def test_dense_grid_and_distinct_pairs_agree(params: tuple[float, ...]) -> None:
    x, tx, T, w = _day_grid(7, n=3000, x_max=200)
    ll_d, g_d = pareto_nbd_fit.loglik_grad(params, _levels(x, tx, T, True), w)  # type: ignore[arg-type]
    ll_s, g_s = pareto_nbd_fit.loglik_grad(params, _levels(x, tx, T, False), w)  # type: ignore[arg-type]
    assert ll_d == pytest.approx(ll_s, rel=1e-13)
    np.testing.assert_allclose(g_d, g_s, rtol=1e-10)


def test_public_gradient_uses_the_factorisation_of_the_pairs() -> None:
    x, tx, T, w = _day_grid(3)
    params = (0.8, 6.0, 1.3, 9.0)
    pairs = pareto_nbd.distinct_pairs(x, tx, T)
    assert pairs.levels is not None
    with_pairs = pareto_nbd.log_likelihood_grad(params, x, tx, T, w, pairs=pairs)
    without = pareto_nbd.log_likelihood_grad(params, x, tx, T, w)
    assert with_pairs[0] == without[0]
    np.testing.assert_array_equal(with_pairs[1], without[1])


def test_factorise_rebuilds_the_rows() -> None:
    x, tx, T, _ = _day_grid(5)
    for dense in (True, False):
        lv = _levels(x, tx, T, dense)
        np.testing.assert_array_equal(lv.x[lv.row_x], x)
        np.testing.assert_array_equal(lv.x[lv.pair_x[lv.pair_inverse]], np.r_[x, x])
        np.testing.assert_array_equal(lv.t[lv.pair_t[lv.pair_inverse]], np.r_[tx, T])
        pairs = set(zip(lv.pair_x.tolist(), lv.pair_t.tolist(), strict=True))
        assert len(pairs) == lv.pair_x.size


def test_gradient_is_continuous_where_alpha_meets_beta() -> None:
    # the hypergeometric branch changes at alpha = beta (z = 0 on both sides)
    x, tx, T, w = _day_grid(11)
    lv = pareto_nbd_fit.factorise(x, tx, T)
    below = pareto_nbd_fit.loglik_grad((0.7, 10.0 * (1 - 1e-9), 0.9, 10.0), lv, w)
    at = pareto_nbd_fit.loglik_grad((0.7, 10.0, 0.9, 10.0), lv, w)
    above = pareto_nbd_fit.loglik_grad((0.7, 10.0 * (1 + 1e-9), 0.9, 10.0), lv, w)
    for other in (below, above):
        assert other[0] == pytest.approx(at[0], rel=1e-9)
        np.testing.assert_allclose(other[1], at[1], rtol=1e-6)


@pytest.mark.parametrize(
    "params",
    [
        (1e-4, 1e-3, 1e-4, 1e5),
        (1e4, 1e-3, 1e-4, 1e5),
        (1e-4, 1e5, 1e4, 1e-3),
        (50.0, 1e4, 1e-3, 1e-3),
        (1e3, 1.0, 1e3, 1.0 + 1e-12),
    ],
)
def test_finite_at_extremes(params: tuple[float, ...]) -> None:
    x = np.array([0.0, 1.0, 50.0, 1e4, 1e4, 3.0])
    tx = np.array([0.0, 1e-3, 30.0, 9e3, 1e4, 1e4])
    T = np.array([1e4, 1e4, 40.0, 1e4, 1e4, 1e4])
    w = np.ones(6)
    for dense in (True, False):
        ll, grad = pareto_nbd_fit.loglik_grad(params, _levels(x, tx, T, dense), w)  # type: ignore[arg-type]
        assert np.isfinite(ll)
        assert np.all(np.isfinite(grad))
        # terms of log L reach 1e5 per customer here (r log(alpha + T) at r = 1e4), which
        # the two evaluations group differently: they agree to rounding at that scale
        assert ll == pytest.approx(_row_sum(np.array(params), x, tx, T, w), rel=1e-9)


# ---------------------------------------------------------------- the outer grid


def _mp_log_hyp(a: float, b: float, z: float) -> float:
    with mp.workdps(40):
        return float(mp.log(mp.hyp2f1(a, b, a + 1, z)))


@given(
    a=st.lists(st.floats(min_value=1e-3, max_value=300.0), min_size=1, max_size=4),
    b_frac=st.floats(min_value=0.0, max_value=1.0),
    z=st.lists(st.floats(min_value=0.0, max_value=0.9), min_size=1, max_size=4),
)
def test_outer_grid_matches_mpmath(a: list[float], b_frac: float, z: list[float]) -> None:
    # b <= a keeps the series route of every row (the Pareto/NBD family: b = s + 1 or r + x);
    # mpmath's hyp2f1 does not converge for a of several thousands: the grid is held to the
    # elementwise function there (below), which is checked against mpmath's integral
    b = [v * b_frac for v in a]
    out = log_hyp2f1_a_a1_outer(a, b, z)
    for i in range(len(a)):
        for j in range(len(z)):
            ref = _mp_log_hyp(a[i], b[i], z[j])
            assert out.value[i, j] == pytest.approx(ref, rel=1e-12, abs=1e-14)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ([1e4 + 0.5, 10.6, 0.3], [1.6, 1.6, 1.6]),  # alpha >= beta: b = s + 1
        ([1e4 + 0.5, 10.6, 0.3], [1e4 - 0.1, 10.0, 0.2]),  # alpha < beta: b = r + x
        ([2.0, 5.0], [40.0, 0.0]),  # a + 1 - b <= 0 on one row
    ],
)
def test_outer_grid_equals_the_elementwise_function(a: list[float], b: list[float]) -> None:
    z = np.array([0.0, 1e-12, 1e-6, 0.05, 0.3, 0.6, 0.8999, 0.9, 0.93, 0.999999])
    out = log_hyp2f1_a_a1_outer(a, b, z)
    ref = log_hyp2f1_a_a1(np.array(a)[:, None], np.array(b)[:, None], z[None, :])
    for got, want in zip(out, ref, strict=True):
        assert got.shape == (len(a), z.size)
        assert np.all(np.isfinite(got))
        np.testing.assert_allclose(got, want, rtol=1e-11, atol=1e-13)


@pytest.mark.parametrize(("a", "b", "z"), [(2.5, 1.5, 0.3), (1e4, 1.6, 0.85), (0.01, 0.005, 0.7)])
def test_outer_grid_derivatives_match_mpmath(a: float, b: float, z: float) -> None:
    out = log_hyp2f1_a_a1_outer([a], [b], [z])
    with mp.workdps(30):
        am, bm, zm = mp.mpf(a), mp.mpf(b), mp.mpf(z)

        def f(u: object, v: object, y: object) -> object:
            return mp.log(mp.hyp2f1(u, v, u + 1, y))

        refs = [
            mp.diff(lambda u: f(u, bm, zm), am),
            mp.diff(lambda v: f(am, v, zm), bm),
            mp.diff(lambda y: f(am, bm, y), zm),
        ]
    for got, ref in zip((out.d_a, out.d_b, out.d_z), refs, strict=True):
        assert float(got[0, 0]) == pytest.approx(float(ref), rel=1e-8, abs=1e-12)
