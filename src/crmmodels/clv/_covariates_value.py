r"""Customer lifetime value with covariate models: each customer valued at its own parameters.

:func:`crmmodels.clv.customer_lifetime_value` hands over to :func:`covariate_lifetime_value`
when the transaction model or the Gamma-Gamma spend model was fitted with covariates.
The value is the same integral,

$$ \mathrm{CLV}_i = m\, \bar z_i \int_0^H e^{-\delta t}\, dE[X_i(t)]
   = m\, \bar z_i \left[\delta \int_0^H e^{-\delta t} E[X_i(t)]\, dt
   + e^{-\delta H} E[X_i(H)]\right], $$

with :math:`E[X_i(t)]` the conditional expected purchases at customer :math:`i`'s own
:math:`\alpha_i` and :math:`b_i` or :math:`\beta_i` (per-row kernels), computed by
Gauss-Legendre quadrature (on geometric panels for an infinite horizon, as for the models
without covariates), vectorised over customers and nodes in bounded chunks.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import narwhals.stable.v2 as nw
import numpy as np

from crmmodels._ingest.frames import to_narwhals, to_pandas
from crmmodels.clv._covariates_fit import _kernel, row_parameters
from crmmodels.clv._value_inputs import (
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

__all__ = ["covariate_lifetime_value", "has_covariates"]

_CELLS = 1 << 20  # customers x nodes per chunk
_DEFAULT_NODES = 32


def has_covariates(model: Any) -> bool:
    """Whether a model was fitted with covariates."""
    return hasattr(model, "covariates_")


def _expected(
    model: Any, frame: Any, t: FloatArray, x: FloatArray, tx: FloatArray, big_t: FloatArray
) -> FloatArray:
    """``E[X_i(t_j)]``, shape (customers, nodes), at each customer's parameters."""
    out = np.empty((x.size, t.size))
    step = max(1, _CELLS // max(t.size, 1))
    if has_covariates(model):
        kernel = _kernel(model)
        base, sp, sd = row_parameters(model, frame, "customer_lifetime_value")
        for lo in range(0, x.size, step):
            sl = slice(lo, lo + step)
            vals = kernel.conditional_expected_purchases(
                base[0],
                sp[sl, None],
                base[2],
                sd[sl, None],
                t[None, :],
                x[sl, None],
                tx[sl, None],
                big_t[sl, None],
            )
            out[sl] = vals.reshape(-1, t.size)
        return out
    for lo in range(0, x.size, step):
        sl = slice(lo, lo + step)
        out[sl] = model.conditional_expected_purchases(
            t[None, :], x[sl, None], tx[sl, None], big_t[sl, None]
        )
    return out


def _spend(spend_model: Any, frame: Any, x: FloatArray, m: FloatArray | None) -> FloatArray:
    if spend_model is None or isinstance(spend_model, float):
        return np.full(x.size, 1.0 if spend_model is None else float(spend_model))
    assert m is not None
    if not has_covariates(spend_model):
        return np.asarray(spend_model.conditional_expected_spend(x, m), dtype=np.float64)
    theta = spend_model.covariate_fit_.theta
    p, q, v0 = np.exp(theta[:3])
    z = spend_model.covariates_.design(frame, "customer_lifetime_value")["spend"]
    return _kgg.conditional_expected_spend(p, q, v0 * np.exp(z @ theta[3:]), x, m)


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
    level: Any,
    n_nodes: Any,
) -> CLVResult:
    """``customer_lifetime_value`` when a model has covariates (see the module docstring)."""
    if level is not None:
        raise ArgumentError(
            "customer_lifetime_value: level= is not available with covariate models yet; "
            "call it without level."
        )
    if has_covariates(transaction_model):
        _kernel(transaction_model)
    elif type(transaction_model).__name__ == "BGBB":
        raise ArgumentError(
            "customer_lifetime_value: a spend model with covariates works with BGNBD, "
            "MBGNBD or ParetoNBD here, not BGBB."
        )
    settings = check_settings(horizon, discount_rate, discount_period, margin, n_nodes)
    unit = unit_of(transaction_model, time_unit)
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
    values = _expected(transaction_model, covs, t, x, tx, big_t)
    det = values @ w
    if math.isinf(h):
        exp_h = np.full(x.size, np.nan)
    else:
        exp_h = values[:, -1] if delta != 0 else values[:, 0]
    spend_i = _spend(spend, covs, x, table.monetary_value)
    data = table.frame[
        [c for c in table.frame.columns if c not in cov_cols or c == table.id_col]
    ].copy()
    data["expected_purchases"] = exp_h
    data["discounted_purchases"] = det
    data["expected_spend"] = spend_i
    data["clv"] = settings.margin * spend_i * det
    if not np.all(np.isfinite(data["clv"].to_numpy())):
        raise DataError("CLV is not finite for some customers; check the inputs and parameters.")
    return CLVResult(
        data=data,
        horizon=h,
        discount_rate=settings.discount_rate,
        discount_period=settings.discount_period,
        time_unit=unit,
        method=f"Gauss-Legendre quadrature at each customer's parameters ({n} nodes)",
        total=float(data["clv"].sum()),
        n_customers=len(data),
        customer_col=table.id_col,
        level=None,
        n_draws=0,
    )
