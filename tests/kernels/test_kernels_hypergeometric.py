"""Tests of the stable log 2F1 kernel against scipy and mpmath (high precision)."""

from __future__ import annotations

import mpmath as mp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.special import hyp2f1

from crmmodels.kernels.hypergeometric import (
    _quadrature,
    _series,
    log_hyp2f1_a_a1,
    log_hyp2f1_one,
)


def _mp_log_f_mp(a: object, b: object, z: object) -> object:
    """log 2F1(a, b; a+1; z) from its Euler integral, by mpmath quadrature (30 digits).

    mpmath's own ``hyp2f1`` is not used at the extremes: it returns a wrong value for
    e.g. a=3024, b=336, z=0.9625 (log 1174.5 where the integral gives 1103.1).
    """
    f = lambda y: mp.exp(-y - b * mp.log(1 - z * mp.exp(-y / a)))  # noqa: E731
    scale = float(a * (1 - z) / max(b, 1.0))
    pts = sorted({scale * 10.0**k for k in range(-3, 4)} | {1.0, 10.0, 100.0, 1e3})
    return mp.log(mp.quad(f, [0, *pts, mp.inf]))


def _mp_log_f(a: float, b: float, z: float) -> float:
    with mp.workdps(30):
        return float(_mp_log_f_mp(mp.mpf(a), mp.mpf(b), mp.mpf(z)))


MODERATE = [
    (0.5, 0.3, 0.1),
    (2.5, 1.5, 0.3),
    (10.0, 4.0, 0.5),
    (1.16, 1.61, 0.09),
    (30.0, 1.6, 0.85),
    (0.01, 0.5, 0.7),
]


@pytest.mark.parametrize(("a", "b", "z"), MODERATE)
def test_matches_scipy_at_moderate_arguments(a: float, b: float, z: float) -> None:
    out = log_hyp2f1_a_a1(a, b, z)
    assert np.exp(out.value) == pytest.approx(hyp2f1(a, b, a + 1.0, z), rel=1e-13)


@pytest.mark.parametrize(("a", "b", "z"), MODERATE)
def test_matches_mpmath_hyp2f1_at_moderate_arguments(a: float, b: float, z: float) -> None:
    with mp.workdps(40):
        ref = float(mp.log(mp.hyp2f1(a, b, a + 1, z)))
    assert float(log_hyp2f1_a_a1(a, b, z).value) == pytest.approx(ref, rel=1e-13, abs=1e-15)


EXTREME = [
    (1e4, 1e4, 0.999999),
    (3023.98, 336.38, 0.962499),
    (5.0, 2000.0, 0.99),
    (1e-4, 1e-4, 1 - 1e-9),
    (1.5e-4, 8.8e-4, 0.9999999991),
    (255.5, 0.708, 0.99989),
    (1e4, 0.5, 0.5),
    (1e-4, 1e4, 0.3),
]


@pytest.mark.parametrize(("a", "b", "z"), EXTREME)
def test_extreme_arguments_match_mpmath_integral(a: float, b: float, z: float) -> None:
    out = log_hyp2f1_a_a1(a, b, z)
    ref = _mp_log_f(a, b, z)
    assert np.isfinite(out.value)
    assert float(out.value) == pytest.approx(ref, rel=1e-12, abs=1e-14)


def test_scipy_fails_where_we_do_not() -> None:
    # scipy overflows at large parameters near z = 1; our log value is finite and exact
    a, b, z = 1e4, 1e4, 0.999999
    with np.errstate(all="ignore"):
        assert not np.isfinite(hyp2f1(a, b, a + 1, z))
    assert np.isfinite(log_hyp2f1_a_a1(a, b, z).value)


@pytest.mark.parametrize(
    ("a", "b", "z"),
    [(2.5, 1.5, 0.3), (0.0015, 0.00034, 0.68), (0.5, 3.0, 0.95)],
)
def test_derivatives_match_mpmath(a: float, b: float, z: float) -> None:
    out = log_hyp2f1_a_a1(a, b, z)
    with mp.workdps(30):
        am, bm, zm = mp.mpf(a), mp.mpf(b), mp.mpf(z)
        da = float(mp.diff(lambda v: _mp_log_f_mp(v, bm, zm), am))
        db = float(mp.diff(lambda v: _mp_log_f_mp(am, v, zm), bm))
        dz = float(mp.diff(lambda v: _mp_log_f_mp(am, bm, v), zm))
    assert float(out.d_a) == pytest.approx(da, rel=1e-6)
    assert float(out.d_b) == pytest.approx(db, rel=1e-6)
    assert float(out.d_z) == pytest.approx(dz, rel=1e-6)


@pytest.mark.parametrize(
    ("a", "b", "z"), [(5.0, 2000.0, 0.99), (1e4, 1e4, 0.999999), (3023.98, 336.38, 0.962499)]
)
def test_derivatives_at_extremes_match_finite_differences(a: float, b: float, z: float) -> None:
    # the values themselves are checked against mpmath above; mpmath's numerical
    # differentiation of the integral is too slow at these parameters for a unit test
    out = log_hyp2f1_a_a1(a, b, z)
    for k, (v, h) in enumerate([(a, 1e-6 * a), (b, 1e-6 * b), (z, 1e-6 * (1 - z))]):
        args_up, args_dn = [a, b, z], [a, b, z]
        args_up[k] = v + h
        args_dn[k] = v - h
        fd = (log_hyp2f1_a_a1(*args_up).value - log_hyp2f1_a_a1(*args_dn).value) / (2 * h)
        # log F is ~1e5 at (1e4, 1e4, 0.999999): rounding limits the difference to ~1e-5
        assert float(out[k + 1]) == pytest.approx(float(fd), rel=1e-4)


def test_series_and_quadrature_routes_agree() -> None:
    rng = np.random.default_rng(3)
    a = 10.0 ** rng.uniform(-3, 3, 400)
    b = a * rng.uniform(0.0, 1.0, 400)
    z = rng.uniform(0.0, 0.9, 400)
    s, q = _series(a, b, z), _quadrature(a, b, z)
    for k in range(4):
        np.testing.assert_allclose(s[k], q[k], rtol=1e-10, atol=1e-12)


def test_z_zero_and_vectorised_shape() -> None:
    out = log_hyp2f1_a_a1(np.array([[1.0, 2.0], [3.0, 4.0]]), 0.5, 0.0)
    assert out.value.shape == (2, 2)
    np.testing.assert_allclose(out.value, 0.0, atol=1e-15)
    # dF/dz at 0 is a b / (a + 1)
    np.testing.assert_allclose(
        out.d_z, np.array([[1, 2], [3, 4]]) * 0.5 / (np.array([[2, 3], [4, 5]]))
    )


@pytest.mark.parametrize(("e", "c", "z"), [(7.0, 8.5, 0.95), (3.0, 3.5, 0.5), (10.0, 10.66, 0.909)])
def test_log_hyp2f1_one(e: float, c: float, z: float) -> None:
    assert np.exp(log_hyp2f1_one(e, c, z)) == pytest.approx(hyp2f1(1.0, e, c, z), rel=1e-12)


@given(
    a=st.floats(1e-4, 1e4),
    frac=st.floats(0.0, 1.0),
    z=st.floats(0.0, 0.999999),
)
def test_property_finite_and_bounded(a: float, frac: float, z: float) -> None:
    b = a * frac
    out = log_hyp2f1_a_a1(a, b, z)
    # 1 <= F <= (1 - z)^(-b): log between 0 and -b log(1 - z)
    assert np.isfinite(out.value) and np.isfinite(out.d_a) and np.isfinite(out.d_b)
    assert -1e-12 <= float(out.value) <= -b * np.log1p(-z) * (1 + 1e-10) + 1e-12
