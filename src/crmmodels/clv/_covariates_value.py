r"""Customer lifetime value and equity with covariate models: each customer at its own parameters.

:func:`crmmodels.clv.customer_lifetime_value` and :func:`crmmodels.clv.customer_equity`
hand over to :func:`covariate_lifetime_value` and :func:`covariate_equity` when the
transaction model or the Gamma-Gamma spend model was fitted with covariates. The value
is the same integral,

$$ \mathrm{CLV}_i = m\, \bar z_i \int_0^H e^{-\delta t}\, dE[X_i(t)]
   = m\, \bar z_i \left[\delta \int_0^H e^{-\delta t} E[X_i(t)]\, dt
   + e^{-\delta H} E[X_i(H)]\right], $$

with :math:`E[X_i(t)]` the conditional expected purchases at customer :math:`i`'s own
:math:`\alpha_i`, :math:`a_i` and :math:`b_i` or :math:`\beta_i` (per-row kernels),
computed by Gauss-Legendre quadrature (on geometric panels for an infinite horizon, as
for the models without covariates), vectorised over customers and nodes in bounded
chunks.

Uncertainty uses the method of the models without covariates: each model's parameter
vector is drawn from its asymptotic normal distribution (a covariate model's
:math:`\theta` = log base parameters and coefficients, with ``covariate_fit_``'s
covariance; a model without covariates its log parameters), first the transaction
model's, then the spend model's, from one generator; CLV is recomputed for each draw
with every customer at its drawn parameters, on the distinct (history, mean spend,
covariate) rows. ``level=`` gives per-customer percentile intervals; the equity's
interval is the percentile interval of the summed CLV (``method="draws"``) or the delta
method on those parameter vectors (``method="delta"``, central differences).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import narwhals.stable.v2 as nw
import numpy as np
import pandas as pd
from scipy.special import ndtri

from crmmodels._ingest.frames import to_narwhals, to_pandas
from crmmodels.clv._covariates_fit import _kernel, parameters_at
from crmmodels.clv._covariates_predict import Distinct, draw_blocks
from crmmodels.clv._inputs import unique_rows
from crmmodels.clv._value_inputs import (
    Settings,
    _data_columns,
    _id_column,
    check_settings,
    rate,
    read_summary,
    unit_of,
)
from crmmodels.clv._value_integrals import _rule
from crmmodels.clv._value_results import CLVResult
from crmmodels.errors import ArgumentError, DataError
from crmmodels.kernels import gamma_gamma_covariates as _kgg
from crmmodels.kernels._optim import FloatArray

__all__ = ["covariate_equity", "covariate_lifetime_value", "has_covariates"]

_CELLS = 1 << 20  # customers x nodes per chunk
_DEFAULT_NODES = 32

#: E[X_i(t_j)] of rows: fn(t, x, t_x, T, design) -> (rows, nodes)
Expected = Callable[[FloatArray, FloatArray, FloatArray, FloatArray, Mapping[str, Any]], FloatArray]
#: expected spend of rows: fn(x, mean spend, design) -> (rows,)
Spend = Callable[[FloatArray, Any, Mapping[str, Any]], FloatArray]


def has_covariates(model: Any) -> bool:
    """Whether a model was fitted with covariates."""
    return hasattr(model, "covariates_")


@dataclass(frozen=True)
class _Vector:
    """A model's parameter vector, its covariance (None: not finite) and its evaluator."""

    center: FloatArray
    covariance: FloatArray | None
    at: Callable[[FloatArray], Any]


def _expected_at(model: Any, theta: FloatArray | None) -> Expected:
    """E[X_i(t_j)] at theta (covariate model) or of a model without covariates."""

    def covariate(t: FloatArray, x: FloatArray, tx: FloatArray, tt: FloatArray, d: Any) -> Any:
        # E_i(t) = P(alive)_i G(x, T, customer's parameters; t): G does not depend on the
        # recency, so it runs once per distinct (x, T, design row), and is taken as E / P
        # at the recency T (where P(alive) is largest); exact up to rounding
        assert theta is not None
        kernel = _kernel(model)
        widths = [d[p].shape[1] for p in ("purchase", "dropout")]
        cols = [c for p in ("purchase", "dropout") for c in d[p].T]
        distinct, inverse = unique_rows([x, tt, *cols])
        xu, tu = distinct[0], distinct[1]
        design_u = {
            "purchase": _stack(distinct[2 : 2 + widths[0]], xu.size),
            "dropout": _stack(distinct[2 + widths[0] :], xu.size),
        }
        txu = np.where(xu > 0, tu, 0.0)
        r, sp_u, shape_u, sd_u = parameters_at(model, theta, design_u)
        shape_col = shape_u if np.ndim(shape_u) == 0 else np.asarray(shape_u)[:, None]
        e_u = kernel.conditional_expected_purchases(
            r, sp_u[:, None], shape_col, sd_u[:, None], t[None, :], xu[:, None], txu[:, None],
            tu[:, None],
        )  # fmt: skip
        e_u = np.asarray(e_u, dtype=np.float64).reshape(xu.size, t.size)
        p_u = kernel.probability_alive(r, sp_u, shape_u, sd_u, xu, txu, tu)
        with np.errstate(divide="ignore", invalid="ignore"):
            g = np.where(p_u[:, None] > 0, e_u / p_u[:, None], 0.0)
        _, sp, shape, sd = parameters_at(model, theta, d)
        alive = kernel.probability_alive(r, sp, shape, sd, x, tx, tt)
        return alive[:, None] * g[inverse]

    def plain(t: FloatArray, x: FloatArray, tx: FloatArray, tt: FloatArray, d: Any) -> Any:
        return model.conditional_expected_purchases(
            t[None, :], x[:, None], tx[:, None], tt[:, None]
        )

    return covariate if has_covariates(model) else plain


def _stack(columns: list[FloatArray], n: int) -> FloatArray:
    return np.column_stack(columns) if columns else np.zeros((n, 0))


def _spend_at(model: Any, theta: FloatArray | None) -> Spend:
    """Expected spend per transaction at theta (covariates), of a model, or a constant."""
    if model is None or isinstance(model, float):
        value = 1.0 if model is None else float(model)
        return lambda x, m, d: np.full(x.size, value)
    if has_covariates(model):
        assert theta is not None
        p, q, v0 = np.exp(theta[:3])
        return lambda x, m, d: np.asarray(
            _kgg.conditional_expected_spend(p, q, v0 * np.exp(d["spend"] @ theta[3:]), x, m),
            dtype=np.float64,
        )
    return lambda x, m, d: np.asarray(model.conditional_expected_spend(x, m), dtype=np.float64)


def _vector(model: Any, spend: bool) -> _Vector | None:
    """The parameter vector of a model (None for a constant spend)."""
    if spend and (model is None or isinstance(model, float)):
        return None
    build = _spend_at if spend else _expected_at
    if has_covariates(model):
        fit = model.covariate_fit_
        cov = np.asarray(fit.covariance, dtype=np.float64)
        return _Vector(
            fit.theta, cov if np.all(np.isfinite(cov)) else None, lambda th: build(model, th)
        )
    names = list(model.params_)
    p = np.array([model.params_[k] for k in names], dtype=np.float64)
    raw = getattr(model, "covariance_", None)
    cov_log: FloatArray | None = None
    if raw is not None:
        arr = np.asarray(
            raw.loc[names, names] if isinstance(raw, pd.DataFrame) else raw, dtype=np.float64
        )
        if np.all(np.isfinite(arr)) and np.all(p > 0):
            cov_log = arr / np.outer(p, p)

    def at(log_p: FloatArray) -> Any:
        drawn = type(model).from_params(**dict(zip(names, np.exp(log_p), strict=True)))
        return build(drawn, None)

    return _Vector(np.log(p), cov_log, at)


@dataclass
class _Valuation:
    """What a valuation of covariate models reads, once."""

    data: pd.DataFrame
    id_col: str
    x: FloatArray
    tx: FloatArray
    big_t: FloatArray
    monetary_value: FloatArray | None
    design: dict[str, FloatArray]
    t: FloatArray  # quadrature nodes (with H last for a finite horizon)
    w: FloatArray  # their weights
    n_nodes: int


def _read(
    transaction_model: Any,
    spend: Any,
    summary: Any,
    given: Mapping[str, str | None],
    customer_col: Any,
    settings: Settings,
) -> _Valuation:
    if has_covariates(transaction_model):
        _kernel(transaction_model)
    elif type(transaction_model).__name__ == "BGBB":
        raise ArgumentError(
            "customer_lifetime_value: a spend model with covariates works with BGNBD, "
            "MBGNBD or ParetoNBD here, not BGBB."
        )
    frame = to_narwhals(summary, what="summary")
    present = list(frame.collect_schema().names())
    cols = _data_columns(transaction_model, spend, present, given)
    id_col = _id_column(transaction_model, spend, present, customer_col)
    cov_cols = [
        c
        for mdl in (transaction_model, spend)
        if has_covariates(mdl)
        for c in mdl.covariates_.columns
    ]
    missing = [c for c in cov_cols if c not in present]
    if missing:
        raise DataError(
            f"customer_lifetime_value: the summary lacks the covariate columns {missing}."
        )
    keep = list(dict.fromkeys(([id_col] if id_col else []) + list(cols.values()) + cov_cols))
    pdf = to_pandas(frame.select(keep)).reset_index(drop=True)  # one collect: rows aligned
    table = read_summary(transaction_model, spend, pdf, given, customer_col)
    x, tx, big_t = transaction_model._validated_history(table.frequency, table.recency, table.age)
    covs = nw.from_native(pdf, eager_only=True)
    design: dict[str, FloatArray] = {}
    for mdl in (transaction_model, spend):
        if has_covariates(mdl):
            design.update(mdl.covariates_.design(covs, "customer_lifetime_value"))
    delta = rate(settings.discount_rate, settings.discount_period)
    h = settings.horizon
    if math.isinf(h) and delta <= 0:
        raise DataError("an infinite horizon needs a discount_rate > 0.")
    n = settings.n_nodes or _DEFAULT_NODES
    if delta == 0:
        t, w = np.array([h]), np.array([1.0])
    else:
        t, w = _rule(h, delta, n)
        if not math.isinf(h):
            t, w = np.append(t, h), np.append(w, math.exp(-delta * h))
    data = table.frame[
        [c for c in table.frame.columns if c not in cov_cols or c == table.id_col]
    ].copy()
    return _Valuation(data, table.id_col, x, tx, big_t, table.monetary_value, design, t, w, n)


def _expected(fn: Expected, v: _Valuation, x: FloatArray, tx: FloatArray, tt: FloatArray,
              design: Mapping[str, FloatArray]) -> FloatArray:  # fmt: skip
    """``E[X_i(t_j)]``, shape (rows, nodes), in chunks of bounded memory."""
    out = np.empty((x.size, v.t.size))
    step = max(1, _CELLS // max(v.t.size, 1))
    for lo in range(0, x.size, step):
        sl = slice(lo, lo + step)
        part = {p: d[sl] for p, d in design.items()}
        out[sl] = np.asarray(fn(v.t, x[sl], tx[sl], tt[sl], part)).reshape(-1, v.t.size)
    return out


def _distinct(v: _Valuation) -> Distinct:
    """The distinct (history, mean spend, design) rows of a valuation."""
    extra = [] if v.monetary_value is None else [v.monetary_value]
    return Distinct([v.x, v.tx, v.big_t, *extra], v.design)


def _block_values(
    v: _Valuation,
    rows: Distinct,
    sl: slice,
    fns: list[tuple[Expected, Spend]],
    settings: Settings,
) -> FloatArray:
    """CLV of one block of distinct rows under each (transaction, spend) evaluator."""
    cols, design = rows.rows(sl)
    x, tx, tt = cols[:3]
    m = cols[3] if len(cols) > 3 else None
    values = np.empty((len(fns), x.size))
    for i, (expected, spend) in enumerate(fns):  # a loop over parameter draws, not customers
        det = _expected(expected, v, x, tx, tt, design) @ v.w
        values[i] = settings.margin * spend(x, m, design) * det
    return values


def _vectors(transaction_model: Any, spend: Any) -> tuple[_Vector, _Vector | None] | None:
    """Both models' parameter vectors; None when one has no finite covariance."""
    vt, vs = _vector(transaction_model, False), _vector(spend, True)
    if vt is None or vt.covariance is None or (vs is not None and vs.covariance is None):
        return None
    return vt, vs


def _draws(
    transaction_model: Any, spend: Any, n_draws: int, seed: int
) -> list[tuple[Expected, Spend]] | None:
    """Evaluators at ``n_draws`` parameter draws: the transaction model's, then the spend's."""
    vectors = _vectors(transaction_model, spend) if n_draws else None
    if vectors is None:
        return None
    vt, vs = vectors
    rng = np.random.default_rng(seed)
    assert vt.covariance is not None
    t_draws = rng.multivariate_normal(vt.center, vt.covariance, size=n_draws, method="eigh")
    if vs is None:
        constant = _spend_at(spend, None)
        return [(vt.at(d), constant) for d in t_draws]
    assert vs.covariance is not None
    s_draws = rng.multivariate_normal(vs.center, vs.covariance, size=n_draws, method="eigh")
    return [(vt.at(d), vs.at(e)) for d, e in zip(t_draws, s_draws, strict=True)]


def _point(
    v: _Valuation, transaction_model: Any, spend: Any, settings: Settings
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Expected purchases over the horizon, discounted purchases and spend per customer."""

    def theta(model: Any) -> FloatArray | None:
        return model.covariate_fit_.theta if has_covariates(model) else None

    fn = _expected_at(transaction_model, theta(transaction_model))
    values = _expected(fn, v, v.x, v.tx, v.big_t, v.design)
    det = values @ v.w
    if math.isinf(settings.horizon):
        exp_h = np.full(v.x.size, np.nan)
    else:
        exp_h = (
            values[:, -1]
            if rate(settings.discount_rate, settings.discount_period)
            else values[:, 0]
        )
    spend_fn = _spend_at(spend, theta(spend))
    return exp_h, det, spend_fn(v.x, v.monetary_value, v.design)


def covariate_lifetime_value(
    transaction_model: Any,
    spend: Any,
    summary: Any,
    given: Mapping[str, str | None],
    customer_col: Any,
    *,
    horizon: Any,
    discount_rate: Any,
    discount_period: Any,
    margin: Any,
    time_unit: Any,
    level: float | None,
    n_draws: int,
    seed: int,
    n_nodes: Any,
) -> CLVResult:
    """``customer_lifetime_value`` when a model has covariates (see the module docstring).

    ``level``, ``n_draws`` and ``seed`` come checked (``level`` None: no interval).
    """
    settings = check_settings(horizon, discount_rate, discount_period, margin, n_nodes)
    unit = unit_of(transaction_model, time_unit)
    v = _read(transaction_model, spend, summary, given, customer_col, settings)
    exp_h, det, spend_i = _point(v, transaction_model, spend, settings)
    data = v.data
    data["expected_purchases"] = exp_h
    data["discounted_purchases"] = det
    data["expected_spend"] = spend_i
    data["clv"] = settings.margin * spend_i * det
    if not np.all(np.isfinite(data["clv"].to_numpy())):
        raise DataError("CLV is not finite for some customers; check the inputs and parameters.")
    used = 0
    if level is not None:
        fns = _draws(transaction_model, spend, n_draws, seed)
        if fns is None:
            data["clv_low"] = data["clv_high"] = np.nan
        else:
            rows = _distinct(v)
            tail = (1.0 - level) / 2.0
            low, high = np.empty(rows.n_rows), np.empty(rows.n_rows)
            for sl in draw_blocks(rows.n_rows, n_draws):
                values = _block_values(v, rows, sl, fns, settings)
                low[sl], high[sl] = np.quantile(values, [tail, 1.0 - tail], axis=0)
            used = n_draws
            data["clv_low"], data["clv_high"] = low[rows.inverse], high[rows.inverse]
    return CLVResult(
        data=data,
        horizon=settings.horizon,
        discount_rate=settings.discount_rate,
        discount_period=settings.discount_period,
        time_unit=unit,
        method=f"Gauss-Legendre quadrature at each customer's parameters ({v.n_nodes} nodes)",
        total=float(data["clv"].sum()),
        n_customers=len(data),
        customer_col=v.id_col,
        level=level,
        n_draws=used,
    )


def _equities(
    v: _Valuation, rows: Distinct, fns: list[tuple[Expected, Spend]], settings: Settings
) -> FloatArray:
    """Customer equity under each evaluator pair (counts of the distinct rows)."""
    total = np.zeros(len(fns))
    for sl in draw_blocks(rows.n_rows, len(fns)):
        total += _block_values(v, rows, sl, fns, settings) @ rows.counts[sl]
    return total


def _delta(
    v: _Valuation, transaction_model: Any, spend: Any, settings: Settings, level: float
) -> tuple[float, float] | None:
    """Delta-method interval of the equity over both parameter vectors.

    As :func:`crmmodels.clv._value_draws.equity_delta`: the log equity is taken as normal.
    """
    vectors = _vectors(transaction_model, spend)
    if vectors is None:
        return None
    vt, vs = vectors
    rows = _distinct(v)
    constant = _spend_at(spend, None)
    s_center = constant if vs is None else vs.at(vs.center)
    t_center = vt.at(vt.center)
    step = 1e-4
    fns: list[tuple[Expected, Spend]] = [(t_center, s_center)]
    for j in range(vt.center.size):  # a loop over the parameters, not customers
        e = np.zeros(vt.center.size)
        e[j] = step
        fns += [(vt.at(vt.center + e), s_center), (vt.at(vt.center - e), s_center)]
    if vs is not None:
        for j in range(vs.center.size):
            e = np.zeros(vs.center.size)
            e[j] = step
            fns += [(t_center, vs.at(vs.center + e)), (t_center, vs.at(vs.center - e))]
    values = _equities(v, rows, fns, settings)
    total = float(values[0])
    if not (math.isfinite(total) and total > 0):
        return None
    diffs = (values[1::2] - values[2::2]) / (2 * step)
    kt = vt.center.size
    assert vt.covariance is not None
    var = float(diffs[:kt] @ vt.covariance @ diffs[:kt])
    if vs is not None and vs.covariance is not None:
        var += float(diffs[kt:] @ vs.covariance @ diffs[kt:])
    sd_log = math.sqrt(max(var, 0.0)) / total
    z = float(ndtri(0.5 + level / 2.0))
    return total * math.exp(-z * sd_log), total * math.exp(z * sd_log)


def covariate_equity(
    transaction_model: Any,
    spend: Any,
    summary: Any,
    given: Mapping[str, str | None],
    settings: Settings,
    *,
    level: float,
    n_draws: int,
    seed: int,
    method: str,
) -> tuple[float, float, float, int, tuple[float, ...]]:
    """``customer_equity`` when a model has covariates (see the module docstring).

    Returns the equity, the interval bounds (NaN without covariance), the customers and
    the equity under each draw (empty for the delta method).
    """
    v = _read(transaction_model, spend, summary, given, None, settings)
    _, det, spend_i = _point(v, transaction_model, spend, settings)
    clv = settings.margin * spend_i * det
    if not np.all(np.isfinite(clv)):
        raise DataError("CLV is not finite for some customers; check the inputs and parameters.")
    total = float(clv.sum())
    if method == "delta":
        bounds = _delta(v, transaction_model, spend, settings, level)
        low, high = bounds if bounds is not None else (math.nan, math.nan)
        return total, low, high, v.x.size, ()
    fns = _draws(transaction_model, spend, n_draws, seed)
    if fns is None:
        return total, math.nan, math.nan, v.x.size, ()
    values = _equities(v, _distinct(v), fns, settings)
    tail = (1.0 - level) / 2.0
    low, high = (float(q) for q in np.quantile(values, [tail, 1.0 - tail]))
    return total, low, high, v.x.size, tuple(float(e) for e in values)
