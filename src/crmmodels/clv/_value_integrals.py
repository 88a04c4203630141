"""Discounted expected transactions: distinct histories, quadrature and discrete sums.

See :mod:`crmmodels.clv._value` for the formulas. Everything runs on the distinct
(x, t_x, T) histories of a customer base.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from crmmodels.clv._base import unique_rows
from crmmodels.clv._value_inputs import FACTORED, Settings, is_discrete, rate
from crmmodels.errors import DataError

__all__ = ["Histories", "discounted", "expected", "histories"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]
_CHUNK = 50_000


@dataclass(frozen=True)
class Histories:
    """Distinct (x, t_x, T) histories of a customer base, found once.

    ``inverse`` maps each customer to its history, ``counts`` holds the customers per
    history and ``mean_spend`` their mean ``monetary_value`` (when given). ``group`` maps
    each history to its distinct (x, T) pair and ``rep`` holds, per pair, the history
    with the largest recency (the largest P(alive)).
    """

    f: FloatArray
    r: FloatArray
    age: FloatArray
    inverse: IntArray
    counts: FloatArray
    mean_spend: FloatArray | None
    group: IntArray
    rep: IntArray


def histories(
    f: FloatArray,
    r: FloatArray,
    age: FloatArray,
    spend: FloatArray | None = None,
    weights: FloatArray | None = None,
) -> Histories:
    """The distinct histories; ``weights`` counts the customers each row stands for."""
    (uf, ur, ua), inverse = unique_rows([f, r, age])
    counts = np.bincount(inverse, weights=weights, minlength=uf.size).astype(np.float64)
    mean_spend = None
    if spend is not None:
        spent = spend if weights is None else spend * weights
        with np.errstate(invalid="ignore", divide="ignore"):  # a history of weight 0
            mean_spend = np.bincount(inverse, weights=spent, minlength=uf.size) / counts
        mean_spend[counts == 0] = 0.0
    _, group = unique_rows([uf, ua])
    order = np.lexsort((ur, group))  # by (x, T) pair, then recency
    last = np.flatnonzero(np.r_[np.diff(group[order]) != 0, True])
    return Histories(uf, ur, ua, inverse, counts, mean_spend, group, order[last])


def _per_history(
    model: Any, h: Histories, fn: Callable[[FloatArray, FloatArray, FloatArray], FloatArray]
) -> FloatArray:
    """``fn(frequency, recency, age)`` for every history, linear in E[X(t) | history].

    For BG/NBD, MBG/NBD and Pareto/NBD, ``E[X(t) | x, t_x, T] = P(alive | x, t_x, T)
    g(x, T, t)``: ``fn`` runs once per distinct (x, T) (on the history with the largest
    P(alive)) and is scaled by the ratio of P(alive) for the others. Exact up to rounding.
    """
    if type(model) not in FACTORED or h.rep.size == h.f.size:
        return fn(h.f, h.r, h.age)
    rep = h.rep
    values = fn(h.f[rep], h.r[rep], h.age[rep])
    alive = np.asarray(model.probability_alive(h.f, h.r, h.age), dtype=np.float64)
    alive_rep = alive[rep]
    per_alive = np.divide(values, alive_rep, out=np.zeros_like(values), where=alive_rep > 0)
    return np.asarray(alive * per_alive[h.group], dtype=np.float64)


# ----------------------------------------------------------------------------- integrals


def _cond(model: Any, t: Any, f: FloatArray, r: FloatArray, age: FloatArray) -> FloatArray:
    return np.asarray(model.conditional_expected_purchases(t, f, r, age), dtype=np.float64)


def _rule(horizon: float, delta: float, n: int) -> tuple[FloatArray, FloatArray]:
    """Nodes and weights for ``delta * int_0^H e^{-delta t} E(t) dt``.

    Finite horizon: ``n``-point Gauss-Legendre on [0, H]. Infinite horizon: ``n``-point
    Gauss-Legendre on geometric panels [0, 1], [1, 2], [2, 4], ... up to ``50 / delta``
    (where the discount factor is below 1e-21), so that every time scale of E(t) is
    resolved. The weights include the discount factor and ``delta``.
    """
    x, w = np.polynomial.legendre.leggauss(n)
    if math.isinf(horizon):
        n_panels = max(1, math.ceil(math.log2(max(50.0 / delta, 2.0))) + 1)
        edges = np.concatenate([[0.0], 2.0 ** np.arange(n_panels)])
    else:
        edges = np.array([0.0, horizon])
    lo, hi = edges[:-1, None], edges[1:, None]
    t = (0.5 * (hi - lo) * (x[None, :] + 1.0) + lo).ravel()
    weights = (0.5 * (hi - lo) * w[None, :]).ravel()
    return t, delta * weights * np.exp(-delta * t)


def _quadrature(
    model: Any, f: FloatArray, r: FloatArray, age: FloatArray, t: FloatArray, w: FloatArray
) -> FloatArray:
    out = np.empty(f.size)
    step = max(1, _CHUNK * 16 // t.size)  # bounded memory, not a loop over customers
    for lo in range(0, f.size, step):
        sl = slice(lo, lo + step)
        out[sl] = _cond(model, t[None, :], f[sl, None], r[sl, None], age[sl, None]) @ w
    return out


def _check_rows(f: FloatArray, age: FloatArray, k: int = 64) -> npt.NDArray[np.intp]:
    """Rows that are hardest to integrate: the most frequent, the youngest, and a spread."""
    idx = np.unique(
        np.concatenate(
            [
                np.argsort(f)[-k:],
                np.argsort(age)[:k],
                np.linspace(0, f.size - 1, min(k, f.size)).astype(np.intp),
            ]
        )
    )
    return idx


def _choose_nodes(
    model: Any, f: FloatArray, r: FloatArray, age: FloatArray, horizon: float, delta: float
) -> int:
    """Smallest node count (doubling from 8) whose result on check rows is stable to 1e-10."""
    idx = _check_rows(f, age)
    cf, cr, ca = f[idx], r[idx], age[idx]
    n = 8
    prev = _quadrature(model, cf, cr, ca, *_rule(horizon, delta, n))
    while n < 128:
        cur = _quadrature(model, cf, cr, ca, *_rule(horizon, delta, 2 * n))
        scale = np.maximum(np.abs(cur), 1e-300)
        if np.max(np.abs(cur - prev) / scale) < 1e-10:
            return n
        n, prev = 2 * n, cur
    return n


def _discounted_continuous(
    model: Any,
    f: FloatArray,
    r: FloatArray,
    age: FloatArray,
    horizon: float,
    delta: float,
    n_nodes: int | None,
) -> tuple[FloatArray, str, int | None]:
    """Discounted expected transactions over [0, horizon] for continuous-time models.

    Returns the values, how they were computed and the quadrature nodes used (None
    without quadrature).
    """
    if math.isinf(horizon):
        if delta <= 0:
            raise DataError("an infinite horizon needs a discount_rate > 0.")
        if hasattr(model, "expected_discounted_residual_transactions"):
            dert = model.expected_discounted_residual_transactions(f, r, age, delta)
            return np.asarray(dert, dtype=np.float64), "closed-form DERT", None
    elif delta == 0:
        expected = _cond(model, np.full(f.size, horizon), f, r, age)
        return expected, "undiscounted expectation", None
    n = n_nodes if n_nodes is not None else _choose_nodes(model, f, r, age, horizon, delta)
    t, w = _rule(horizon, delta, n)
    if math.isinf(horizon):
        out = _quadrature(model, f, r, age, t, w)
        return out, f"Gauss-Legendre quadrature on geometric panels ({n} nodes a panel)", n
    # the boundary term e^{-delta H} E(H) of the integration by parts, in the same call
    t = np.append(t, horizon)
    w = np.append(w, math.exp(-delta * horizon))
    return _quadrature(model, f, r, age, t, w), f"Gauss-Legendre quadrature ({n} nodes)", n


def _discounted_discrete(
    model: Any, f: FloatArray, r: FloatArray, n: FloatArray, horizon: float, rate: float
) -> tuple[FloatArray, str]:
    """Discounted expected transactions over whole future periods (BG/BB)."""
    if math.isinf(horizon):
        if rate <= 0:
            raise DataError("an infinite horizon needs a discount_rate > 0.")
        dert = model.expected_discounted_residual_transactions(f, r, n, rate)
        return np.asarray(dert, dtype=np.float64), "closed-form DERT"
    if horizon != round(horizon) or horizon < 1:
        raise DataError(
            f"BG/BB counts whole periods: horizon must be a whole number >= 1; got {horizon!r}."
        )
    k = np.arange(0, int(horizon) + 1, dtype=np.float64)
    out = np.empty(f.size)
    disc = (1.0 + rate) ** -k[1:]
    for lo in range(0, f.size, _CHUNK):
        sl = slice(lo, lo + _CHUNK)
        e = _cond(model, k[None, :], f[sl, None], r[sl, None], n[sl, None])
        out[sl] = np.diff(e, axis=1) @ disc
    return out, "exact discounted sum over periods"


def discounted(model: Any, h: Histories, s: Settings) -> tuple[FloatArray, str, int | None]:
    """Discounted expected transactions of every history, how, and the nodes used."""
    if is_discrete(model):
        values, how = _discounted_discrete(model, h.f, h.r, h.age, s.horizon, s.discount_rate)
        return values, how, None
    delta = rate(s.discount_rate, s.discount_period)
    method: list[tuple[str, int | None]] = []

    def one(f: FloatArray, r: FloatArray, age: FloatArray) -> FloatArray:
        values, how, n = _discounted_continuous(model, f, r, age, s.horizon, delta, s.n_nodes)
        method.append((how, n))
        return values

    return _per_history(model, h, one), *method[0]


def expected(model: Any, h: Histories, horizon: float) -> FloatArray:
    """Undiscounted expected transactions over the horizon (NaN for an infinite one)."""
    if math.isinf(horizon):
        return np.full(h.f.size, np.nan)
    return _per_history(
        model, h, lambda f, r, age: _cond(model, np.full(f.size, horizon), f, r, age)
    )
