r"""Customer lifetime value and customer equity from a transaction model and a spend model.

For a customer with history :math:`(x, t_x, T)` the value over a horizon :math:`H` is

.. math::

    \mathrm{CLV} = m \cdot \bar z \cdot \int_0^H e^{-\delta t}\, dE[X(t) \mid x, t_x, T],

with :math:`m` the margin, :math:`\bar z` the expected spend per transaction (Gamma-Gamma
conditional expectation) and :math:`\delta = \ln(1 + d) / P` the continuously compounded
rate equivalent to a rate :math:`d` per :math:`P` time units. The integral is the
*discounted expected transactions* (DET; with :math:`H = \infty` the DERT of Fader, Hardie
& Lee 2005, "RFM and CLV").

How the integral is computed:

* Pareto/NBD, infinite horizon: the closed form with Tricomi's function (the model's
  ``expected_discounted_residual_transactions``);
* BG/BB (discrete opportunities): the exact discounted sum over whole future periods,
  :math:`\sum_{k=1}^{H} (E_k - E_{k-1}) / (1 + d)^k`, or the closed-form DERT for an
  infinite horizon;
* otherwise (BG/NBD, MBG/NBD, Pareto/NBD over a finite horizon): integration by parts,
  :math:`e^{-\delta H} E(H) + \delta \int_0^H e^{-\delta t} E(t)\,dt`, with Gauss-Legendre
  quadrature on :math:`[0, H]`; for :math:`H = \infty`, the same on geometric panels
  :math:`[0, 1], [1, 2], [2, 4], \dots` up to :math:`50 / \delta`. :math:`E(t)` is the model's
  conditional expected number of purchases, smooth in :math:`t`. The node count is
  chosen adaptively (doubled until a check sample of the hardest histories is stable to
  1e-10 relative); the tests compare with a brute-force discounted sum and, for
  Pareto/NBD, with the closed form.

Everything runs on the distinct (x, t_x, T) histories, so 1e6 customers cost what their
distinct histories cost. For BG/NBD, MBG/NBD and Pareto/NBD the conditional expectation
factorises as :math:`E[X(t) \mid x, t_x, T] = P(\text{alive} \mid x, t_x, T)\, g(x, T, t)`,
so the time integral is computed once per distinct :math:`(x, T)` and scaled by the
ratio of P(alive) for the other recencies (exact up to rounding).
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmmodels._frames import check_columns, to_narwhals, to_pandas
from crmmodels._ingest.arguments import (
    check_column_name,
    check_int,
    check_level,
    check_number,
)
from crmmodels._ingest.periods import check_period, unit_name
from crmmodels._progress import Progress
from crmmodels._results import Result
from crmmodels.clv._base import unique_rows
from crmmodels.clv._bgbb import BGBB
from crmmodels.clv._bgnbd import BGNBD
from crmmodels.clv._gamma_gamma import GammaGamma
from crmmodels.clv._mbgnbd import MBGNBD
from crmmodels.clv._pareto_nbd import ParetoNBD
from crmmodels.clv._predict import AUTO_ID as _AUTO_ID
from crmmodels.clv._predict import UNKNOWN_UNIT
from crmmodels.clv._predict import DefaultName as _DefaultName
from crmmodels.clv._predict import draw_models as _draw_models
from crmmodels.errors import (
    ArgumentError,
    DataError,
    NotFittedError,
    SchemaError,
    missing_column_message,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["CLVResult", "EquityResult", "customer_equity", "customer_lifetime_value"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]
_CHUNK = 50_000


@dataclass(frozen=True, repr=False)
class CLVResult(Result):
    """Customer lifetime value per customer, from :func:`customer_lifetime_value`.

    Attributes
    ----------
    data : pandas.DataFrame
        One row per input customer, in input order: the id (when given), ``frequency``,
        ``recency``, ``T`` (or ``n_periods``), ``expected_purchases`` (undiscounted, over
        the horizon), ``discounted_purchases``, ``expected_spend`` and ``clv``.
    horizon : float
        Horizon in the model's time unit (``inf`` for the residual lifetime).
    discount_rate : float
        Rate per ``discount_period`` time units.
    discount_period : float
        Length of the discounting period in the model's time unit.
    time_unit : str
        The model's time unit, as stated by the caller (e.g. ``"weeks"``).
    method : str
        How the discounted transactions were computed.
    total : float
        Sum of ``clv``.
    n_customers : int
    """

    data: pd.DataFrame
    horizon: float
    discount_rate: float
    discount_period: float
    time_unit: str
    method: str
    total: float
    n_customers: int

    def to_frame(self) -> pd.DataFrame:
        """Return the per-customer table (a copy)."""
        return self.data.copy()

    def plot(self, ax: Axes | None = None, **kwargs: Any) -> Axes:
        """Plot the concentration of value: share of total CLV by share of customers."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 4.5))
        clv = np.sort(self.data["clv"].to_numpy(dtype=np.float64))[::-1]
        share = np.cumsum(clv) / clv.sum() if clv.sum() > 0 else np.zeros_like(clv)
        x = np.arange(1, clv.size + 1) / clv.size
        ax.plot(np.r_[0.0, x], np.r_[0.0, share], **kwargs)
        ax.plot([0, 1], [0, 1], color="grey", linestyle=":")
        ax.set_xlabel("share of customers (highest CLV first)")
        ax.set_ylabel("share of total CLV")
        ax.set_title(f"CLV over {self.horizon:g} {self.time_unit}: total {self.total:,.0f}")
        return ax


@dataclass(frozen=True, repr=False)
class EquityResult(Result):
    """Customer equity (sum of CLV) with an interval, from :func:`customer_equity`.

    Attributes
    ----------
    total : float
        Customer equity at the fitted parameters.
    low, high : float
        Percentile interval from parameter draws (NaN when the models carry no
        covariance, e.g. built with ``from_params``).
    level : float
        Interval level.
    n_draws : int
        Parameter draws used for the interval.
    n_customers : int
    horizon, discount_rate : float
    time_unit : str
    draws : tuple of float
        Equity under each parameter draw.
    """

    total: float
    low: float
    high: float
    level: float
    n_draws: int
    n_customers: int
    horizon: float
    discount_rate: float
    time_unit: str
    draws: tuple[float, ...]

    def to_frame(self) -> pd.DataFrame:
        """Return a one-row table of the equity and its interval."""
        return pd.DataFrame(
            {
                "customer_equity": [self.total],
                "low": [self.low],
                "high": [self.high],
                "level": [self.level],
                "n_customers": [self.n_customers],
            }
        )

    def _scalar_fields(self) -> dict[str, Any]:
        # the draws stay available as ``draws``; the repr and ``to_dict`` leave them out
        out = super()._scalar_fields()
        out.pop("draws", None)
        return out

    def plot(self, ax: Axes | None = None, **kwargs: Any) -> Axes:
        """Histogram of the equity under the parameter draws with the interval."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 4))
        if self.draws:
            ax.hist(self.draws, bins=30, **kwargs)
            ax.axvline(self.low, color="grey", linestyle=":")
            ax.axvline(self.high, color="grey", linestyle=":")
        ax.axvline(self.total, color="black")
        ax.set_xlabel("customer equity")
        ax.set_title(f"Customer equity {self.total:,.0f} ({self.level:.0%} interval)")
        return ax


# ----------------------------------------------------------------------------- inputs

_TRANSACTION_MODELS = (BGNBD, MBGNBD, ParetoNBD, BGBB)
_TRANSACTION_NAMES = "BGNBD, MBGNBD, ParetoNBD or BGBB"
# models whose conditional expectation is P(alive | x, t_x, T) * g(x, T, t): the time
# integrals are computed once per distinct (x, T) and scaled by P(alive) per history
_FACTORED = (BGNBD, MBGNBD, ParetoNBD)


def _is_discrete(model: Any) -> bool:
    return "n_periods" in getattr(model, "_data_names", ())


def _check_fitted(model: Any) -> None:
    fitted = model.is_fitted
    if not (fitted() if callable(fitted) else fitted):
        raise NotFittedError(
            f"This {type(model).__name__} instance is not fitted yet. Call 'fit' or build "
            "it with 'from_params' before computing CLV."
        )


def _check_transaction_model(model: Any) -> None:
    if isinstance(model, GammaGamma):
        raise ArgumentError(
            f"transaction_model takes a model of purchases ({_TRANSACTION_NAMES}); got a "
            "GammaGamma model, which models the spend per transaction: pass it as "
            "spend_model."
        )
    if not (hasattr(model, "conditional_expected_purchases") and hasattr(model, "is_fitted")):
        raise ArgumentError(
            f"transaction_model must be a crmmodels CLV model of purchases "
            f"({_TRANSACTION_NAMES}); got {type(model).__name__}."
        )
    _check_fitted(model)


def _check_spend_model(spend_model: Any) -> GammaGamma | float | None:
    """The spend model: a fitted GammaGamma, a constant value per transaction, or None."""
    if spend_model is None:
        return None
    if isinstance(spend_model, GammaGamma):
        _check_fitted(spend_model)
        return spend_model
    if isinstance(spend_model, _TRANSACTION_MODELS):
        raise ArgumentError(
            "spend_model takes a GammaGamma model (expected spend per transaction), a "
            f"number or None; got a {type(spend_model).__name__} model, which models "
            "purchases: pass it as transaction_model."
        )
    if isinstance(spend_model, numbers.Real) and not isinstance(spend_model, (bool, np.bool_)):
        return check_number(spend_model, "spend_model")
    raise ArgumentError(
        "spend_model must be a fitted GammaGamma model, a number (the value of one "
        f"transaction) or None (value transactions at 1); got {type(spend_model).__name__}."
    )


def _history(
    model: Any, summary: Any, customer_col: str | None, spend_needed: bool
) -> tuple[pd.DataFrame, str]:
    frame = to_narwhals(summary, what="summary")
    schema = frame.collect_schema()
    present = list(schema.names())
    age = "T"
    if _is_discrete(model):  # BG/BB: n_periods, or periods as in the donations data
        age = "periods" if "n_periods" not in present and "periods" in present else "n_periods"
    cols = ["frequency", "recency", age] + (["monetary_value"] if spend_needed else [])
    check_columns(frame, cols, what="summary")
    for col in cols:
        if not schema[col].is_numeric():
            raise SchemaError(
                f"summary: column '{col}' must be numeric; its type is {schema[col]}. "
                f"Cast it first, e.g. summary['{col}'].astype(float)."
            )
    keep: list[str] = []
    if customer_col is not None and customer_col not in cols:
        if customer_col in present:
            keep = [customer_col]
        elif not isinstance(customer_col, _DefaultName):
            raise SchemaError(
                missing_column_message(customer_col, present, "summary")
                + " Pass customer_col=None to value customers without ids."
            )
    df = to_pandas(frame.select(keep + cols))
    if df.empty:
        raise DataError("summary is empty: no customers to value.")
    return df, age


def _unit(model: Any, time_unit: Any) -> str:
    """The unit named in a result (``"weeks"``): as given, else the model's, else ``"periods"``."""
    if time_unit is not None:
        return unit_name(check_period(time_unit, "time_unit"))
    unit = getattr(model, "time_unit_", UNKNOWN_UNIT)
    return "periods" if unit == UNKNOWN_UNIT else unit_name(unit)


def _rate(discount_rate: float, discount_period: float) -> float:
    return math.log1p(discount_rate) / discount_period


# ----------------------------------------------------------------------------- histories


@dataclass(frozen=True)
class _Histories:
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


def _histories(
    f: FloatArray, r: FloatArray, age: FloatArray, spend: FloatArray | None = None
) -> _Histories:
    (uf, ur, ua), inverse = unique_rows([f, r, age])  # hash-based, linear time
    counts = np.bincount(inverse, minlength=uf.size).astype(np.float64)
    mean_spend = None
    if spend is not None:
        mean_spend = np.bincount(inverse, weights=spend, minlength=uf.size) / counts
    _, group = unique_rows([uf, ua])
    order = np.lexsort((ur, group))  # by (x, T) pair, then recency
    last = np.flatnonzero(np.r_[np.diff(group[order]) != 0, True])
    return _Histories(uf, ur, ua, inverse, counts, mean_spend, group, order[last])


def _per_history(
    model: Any, h: _Histories, fn: Callable[[FloatArray, FloatArray, FloatArray], FloatArray]
) -> FloatArray:
    """``fn(frequency, recency, age)`` for every history, linear in E[X(t) | history].

    For BG/NBD, MBG/NBD and Pareto/NBD, ``E[X(t) | x, t_x, T] = P(alive | x, t_x, T)
    g(x, T, t)``: ``fn`` runs once per distinct (x, T) (on the history with the largest
    P(alive)) and is scaled by the ratio of P(alive) for the others. Exact up to rounding.
    """
    if type(model) not in _FACTORED or h.rep.size == h.f.size:
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


@dataclass(frozen=True)
class _Settings:
    horizon: float
    discount_rate: float
    discount_period: float
    margin: float
    n_nodes: int | None


def _discounted(model: Any, h: _Histories, s: _Settings) -> tuple[FloatArray, str, int | None]:
    """Discounted expected transactions of every history, how, and the nodes used."""
    if _is_discrete(model):
        values, how = _discounted_discrete(model, h.f, h.r, h.age, s.horizon, s.discount_rate)
        return values, how, None
    delta = _rate(s.discount_rate, s.discount_period)
    method: list[tuple[str, int | None]] = []

    def one(f: FloatArray, r: FloatArray, age: FloatArray) -> FloatArray:
        values, how, n = _discounted_continuous(model, f, r, age, s.horizon, delta, s.n_nodes)
        method.append((how, n))
        return values

    return _per_history(model, h, one), *method[0]


def _expected(model: Any, h: _Histories, horizon: float) -> FloatArray:
    """Undiscounted expected transactions over the horizon (NaN for an infinite one)."""
    if math.isinf(horizon):
        return np.full(h.f.size, np.nan)
    return _per_history(
        model, h, lambda f, r, age: _cond(model, np.full(f.size, horizon), f, r, age)
    )


def _check_args(
    horizon: Any,
    discount_rate: Any,
    discount_period: Any,
    margin: Any,
    n_nodes: Any,
) -> _Settings:
    if (
        isinstance(horizon, numbers.Real)
        and not isinstance(horizon, (bool, np.bool_))
        and float(horizon) == math.inf
    ):
        h = math.inf
    else:
        h = check_number(
            horizon,
            "horizon",
            low=0.0,
            low_open=True,
            fix="Use math.inf for the residual lifetime.",
        )
    rate = check_number(
        discount_rate,
        "discount_rate",
        low=0.0,
        fix="It is a rate per discount_period, e.g. 0.1 for 10%; 0 for no discounting.",
    )
    period = check_number(discount_period, "discount_period", low=0.0, low_open=True)
    m = check_number(margin, "margin")
    nodes = None if n_nodes is None else check_int(n_nodes, "n_nodes", low=4, high=200)
    return _Settings(h, rate, period, m, nodes)


def _lifetime_value(
    transaction_model: Any,
    spend_model: GammaGamma | float | None,
    summary: Any,
    settings: _Settings,
    customer_col: str | None,
    report: Progress,
) -> tuple[pd.DataFrame, str, _Histories, int | None]:
    needs_spend = isinstance(spend_model, GammaGamma)
    df, age = _history(transaction_model, summary, customer_col, needs_spend)
    f = df["frequency"].to_numpy(dtype=np.float64)
    r = df["recency"].to_numpy(dtype=np.float64)
    a = df[age].to_numpy(dtype=np.float64)
    m = df["monetary_value"].to_numpy(dtype=np.float64) if needs_spend else None
    h = _histories(f, r, a, m)
    report.info(
        "%d customers, %d distinct histories, %d distinct (frequency, age) pairs",
        f.size,
        h.f.size,
        h.rep.size,
    )
    if isinstance(spend_model, GammaGamma):
        spend = np.asarray(spend_model.conditional_expected_spend(f, m), dtype=np.float64)
    else:
        spend = np.full(f.size, 1.0 if spend_model is None else float(spend_model))
    det, method, nodes = _discounted(transaction_model, h, settings)
    expected = _expected(transaction_model, h, settings.horizon)
    report.info("discounted transactions by %s", method)
    data = df.reset_index(drop=True).copy()
    data["expected_purchases"] = expected[h.inverse]
    data["discounted_purchases"] = det[h.inverse]
    data["expected_spend"] = spend
    data["clv"] = settings.margin * spend * det[h.inverse]
    clv = data["clv"].to_numpy()
    bad = ~np.isfinite(clv)
    if bad.any():
        raise DataError(
            f"CLV is not finite for {int(bad.sum())} customers (first row "
            f"{int(np.flatnonzero(bad)[0])}); check the inputs and parameters."
        )
    return data, method, h, nodes


def customer_lifetime_value(
    transaction_model: Any,
    spend_model: Any,
    summary: Any,
    *,
    horizon: float,
    discount_rate: float,
    discount_period: float = 1.0,
    margin: float = 1.0,
    time_unit: str | None = None,
    customer_col: str | None = _AUTO_ID,
    n_nodes: int | None = None,
    progress: bool = False,
) -> CLVResult:
    r"""Expected discounted value of each customer over a horizon.

    Parameters
    ----------
    transaction_model : BGNBD, ParetoNBD, MBGNBD or BGBB
        A fitted transaction model (or one built with ``from_params``).
    spend_model : GammaGamma, float or None
        A fitted Gamma-Gamma model (conditional expected spend per transaction), a
        constant value per transaction, or None to value transactions at 1 (the result
        is then the discounted expected number of transactions).
    summary : DataFrame-like
        One row per customer with numeric ``frequency``, ``recency``, ``T``
        (``n_periods`` for BG/BB) and, with a Gamma-Gamma spend model,
        ``monetary_value``; in the model's time unit. Any engine.
    horizon : float
        Horizon in the model's time unit (whole periods for BG/BB); ``math.inf`` for the
        residual lifetime (needs ``discount_rate > 0``).
    discount_rate : float
        Discount rate per ``discount_period`` (0 for none). With a model in weeks, an
        annual rate of 10% is ``discount_rate=0.10, discount_period=52``. For BG/BB the
        rate is per period (opportunity).
    discount_period : float, default 1
        Length, in the model's time unit, of the period ``discount_rate`` refers to.
    margin : float, default 1
        Profit margin applied to spend.
    time_unit : str, optional
        Name of the model's time unit, stated in the result (e.g. ``"weeks"``). By
        default the transaction model's ``time_unit_`` (remembered by ``fit``), or
        ``"periods"`` when the model does not know its unit.
    customer_col : str or None, default "customer_id"
        Id column carried into the result. The default is used when the summary has it;
        a column named explicitly must exist. None: no id.
    n_nodes : int, optional
        Gauss-Legendre nodes (a panel, for an infinite horizon), 4 to 200. By default
        the count is chosen adaptively: doubled from 8 until the result on a check
        sample of the hardest histories (most frequent, youngest) changes by less than
        1e-10 relative.
    progress : bool, default False
        Report the steps on standard error (see :mod:`crmmodels._progress`; the logger
        is ``crmmodels.clv._value``).

    Returns
    -------
    CLVResult
        Per-customer ``expected_purchases``, ``discounted_purchases``,
        ``expected_spend`` and ``clv``, in input order, plus the settings and the total.

    Raises
    ------
    NotFittedError
        A model is not fitted.
    ArgumentError
        A model passed in the wrong place, or a wrongly typed or out-of-range argument
        (``horizon``, ``discount_rate``, ``discount_period``, ``margin``, ``n_nodes``).
    SchemaError
        Missing or non-numeric columns, or a missing ``customer_col`` named explicitly.
    DataError
        Invalid histories, or an infinite horizon without discounting.

    Notes
    -----
    :math:`\mathrm{CLV}_i = m\, \bar z_i \int_0^H e^{-\delta t} dE[X_i(t)]` with
    :math:`\delta = \ln(1 + d) / P`; see the module documentation for how the integral is
    computed for each model.

    Examples
    --------
    >>> from crmmodels.clv import BGNBD, GammaGamma
    >>> from crmmodels.datasets import load_cdnow_summary
    >>> s = load_cdnow_summary()
    >>> bg = BGNBD.from_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
    >>> gg = GammaGamma.from_params(p=6.25, q=3.74, v=15.44)
    >>> res = customer_lifetime_value(bg, gg, s, horizon=52, discount_rate=0.1,
    ...                               discount_period=52, time_unit="weeks")
    >>> res.to_frame().loc[0, ["expected_purchases", "clv"]].round(2).tolist()
    [1.56, 36.79]
    """
    _check_transaction_model(transaction_model)
    spend = _check_spend_model(spend_model)
    settings = _check_args(horizon, discount_rate, discount_period, margin, n_nodes)
    unit = _unit(transaction_model, time_unit)
    if customer_col is not None:
        check_column_name(customer_col, "customer_col")
    with Progress("customer_lifetime_value", enabled=progress, logger=__name__) as report:
        data, method, _, _ = _lifetime_value(
            transaction_model, spend, summary, settings, customer_col, report
        )
    return CLVResult(
        data=data,
        horizon=settings.horizon,
        discount_rate=settings.discount_rate,
        discount_period=settings.discount_period,
        time_unit=unit,
        method=method,
        total=float(data["clv"].sum()),
        n_customers=len(data),
    )


def customer_equity(
    transaction_model: Any,
    spend_model: Any,
    summary: Any,
    *,
    horizon: float,
    discount_rate: float,
    discount_period: float = 1.0,
    margin: float = 1.0,
    time_unit: str | None = None,
    level: float = 0.95,
    n_draws: int = 200,
    seed: int = 0,
    n_nodes: int | None = None,
    progress: bool = False,
) -> EquityResult:
    r"""Customer equity: the sum of CLV over the customer base, with an interval.

    The interval reflects parameter uncertainty: parameters are drawn from the
    asymptotic normal distribution of the log parameters (from each model's
    ``covariance_``, the inverse observed information), the equity is recomputed for
    each draw, and the percentile interval is reported.

    Each draw is computed once per distinct history: customers with the same
    (x, t_x, T) share their discounted transactions, and the Gamma-Gamma expected spend
    is affine in the mean spend for a given frequency, so the spend of the customers
    sharing a history sums to their count times the expected spend at their mean spend.
    For BG/NBD, MBG/NBD and Pareto/NBD the time integral is further computed once per
    distinct (x, T) and scaled by P(alive) (see :func:`customer_lifetime_value`). The
    quadrature node count is chosen once, at the fitted parameters, and used for every
    draw. The draws are those of the per-customer computation up to rounding (the
    tests compare both to 1e-10 relative).

    Parameters
    ----------
    transaction_model, spend_model, summary : objects
        As in :func:`customer_lifetime_value`.
    horizon, discount_rate, discount_period, margin, time_unit : settings
        As in :func:`customer_lifetime_value`.
    level : float, default 0.95
        Interval level, strictly between 0 and 1.
    n_draws : int, default 200
        Parameter draws (0 for no interval).
    seed : int, default 0
        Seed of the draws (a whole number >= 0).
    n_nodes : int, optional
        Quadrature nodes, as in :func:`customer_lifetime_value`.
    progress : bool, default False
        Report the steps (every 10% of the draws) on standard error (see
        :mod:`crmmodels._progress`; the logger is ``crmmodels.clv._value``).

    Returns
    -------
    EquityResult

    Raises
    ------
    ArgumentError
        As in :func:`customer_lifetime_value`, and for ``level``, ``n_draws``, ``seed``.

    Examples
    --------
    >>> from crmmodels.clv import BGNBD, GammaGamma
    >>> from crmmodels.datasets import load_cdnow_summary
    >>> s = load_cdnow_summary()
    >>> bg = BGNBD().fit(s)
    >>> gg = GammaGamma().fit(s[s["frequency"] > 0])
    >>> eq = customer_equity(bg, gg, s, horizon=52, discount_rate=0.1, discount_period=52,
    ...                      n_draws=20)
    >>> bool(eq.low < eq.total < eq.high)
    True
    """
    _check_transaction_model(transaction_model)
    spend = _check_spend_model(spend_model)
    settings = _check_args(horizon, discount_rate, discount_period, margin, n_nodes)
    unit = _unit(transaction_model, time_unit)
    lvl = check_level(level)
    n = check_int(n_draws, "n_draws", low=0)
    rng = np.random.default_rng(check_int(seed, "seed", low=0))
    with Progress(
        "customer_equity", enabled=progress, total=n, unit="draw", logger=__name__
    ) as report:
        data, _, h, nodes = _lifetime_value(
            transaction_model, spend, summary, settings, None, report
        )
        # the draws use the node count chosen at the fitted parameters
        at_draws = dataclasses.replace(settings, n_nodes=nodes or settings.n_nodes)
        total = float(data["clv"].sum())
        tm_draws = _draw_models(transaction_model, n, rng) if n else None
        sm_draws = _draw_models(spend, n, rng) if (n and isinstance(spend, GammaGamma)) else None
        draws: list[float] = []
        if tm_draws is not None and (sm_draws is not None or not isinstance(spend, GammaGamma)):
            report.info("%d parameter draws over %d distinct histories", n, h.f.size)
            for i in range(n):  # a loop over parameter draws, not customers
                det, _, _ = _discounted(tm_draws[i], h, at_draws)
                if sm_draws is not None:
                    z = sm_draws[i].conditional_expected_spend(h.f, h.mean_spend)
                    spend_sum = h.counts * np.asarray(z, dtype=np.float64)
                else:
                    spend_sum = h.counts * (1.0 if not isinstance(spend, float) else spend)
                draws.append(settings.margin * float(det @ spend_sum))
                report.update(i + 1)
    if draws:
        tail = (1.0 - lvl) / 2.0
        low, high = (float(v) for v in np.quantile(draws, [tail, 1.0 - tail]))
    else:
        low = high = float("nan")
    return EquityResult(
        total=total,
        low=low,
        high=high,
        level=lvl,
        n_draws=len(draws),
        n_customers=len(data),
        horizon=settings.horizon,
        discount_rate=settings.discount_rate,
        time_unit=unit,
        draws=tuple(draws),
    )
