r"""Gamma-Gamma spend with time-invariant covariates.

The scale of the spend heterogeneity depends on the covariates,
:math:`v_i = v_0 e^{\gamma' z_i}`, so the mean transaction value
:math:`p v_i/(q-1)` of a customer is multiplied by :math:`e^{\gamma' z_i}` (a positive
coefficient raises spend); ``p`` and ``q`` are shared. Numeric covariates are centred
and categorical ones one-hot encoded with the most frequent level as reference, as for
the purchase models (:mod:`crmmodels.clv._covariates`), on the customers the spend model
uses (repeat buyers with a positive mean spend). ``fit`` maximises the likelihood over
``(log p, log q, log v0, gamma)`` with the analytic gradient and computes standard
errors from the Hessian (:func:`crmmodels.clv._covariates_fit.maximise`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from crmmodels._ingest.frames import to_narwhals
from crmmodels.clv._covariates import build_spec_design
from crmmodels.clv._covariates_fit import maximise, read_with_covariates, set_fitted
from crmmodels.clv._inputs import column_arguments, read_columns
from crmmodels.clv._predict import fit_columns, prediction_customer_column, result_frame
from crmmodels.errors import ArgumentError, CRMModelsError
from crmmodels.kernels import gamma_gamma_covariates as _k
from crmmodels.kernels._optim import FloatArray, compress_rows

__all__ = ["fit_spend_covariates", "predict_spend_covariates"]


def _objective(
    theta: FloatArray, x: FloatArray, m: FloatArray, z: FloatArray, counts: FloatArray
) -> tuple[float, FloatArray]:
    p, q, v0 = np.exp(theta[:3])
    v = v0 * np.exp(z @ theta[3:])
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        ll, d = _k.loglik_rows(p, q, v, x, m)
    wv = counts * d[2] * v
    grad = np.concatenate([[p * (counts @ d[0]), q * (counts @ d[1]), wv.sum()], z.T @ wv])
    return float(counts @ ll), grad


def fit_spend_covariates(
    model: Any,
    summary: Any,
    covariates: list[str],
    *,
    weights: Any,
    weights_col: str | None,
    customer_col: Any,
    time_unit: Any,
    columns: Mapping[str, Any],
) -> Any:
    """``GammaGamma().fit(summary, covariates=[...])`` (see the module docstring)."""
    where = f"{type(model).__name__}.fit"
    model._validate_hyperparameters()
    _, names = column_arguments(where, model._data_names, model._default_column_names, columns)
    meta = fit_columns(summary, names, customer_col, time_unit)
    data, w_all, df = read_with_covariates(
        model, where, summary, names, weights, weights_col, covariates, model_checks=False
    )
    kept, w, left_out = model._check_inputs(data, w_all, where)
    x_all, m_all = data["frequency"], data["monetary_value"]
    keep = (x_all > 0) & (m_all > 0)
    if w_all is not None:
        keep &= w_all > 0
    df = df[np.flatnonzero(keep).tolist()]
    spec, design = build_spec_design(df, {"spend": covariates}, where)
    z_rows = design["spend"]
    k = z_rows.shape[1]
    cols, counts, _ = compress_rows([kept["frequency"], kept["monetary_value"], *z_rows.T], w)
    x, m = cols[0], cols[1]
    z = np.column_stack(cols[2:])
    n = float(counts.sum())
    plain = type(model)(**model.get_params())
    try:
        plain._fit_arrays(kept, w)
        start = np.log(plain._params_array())
    except CRMModelsError:
        start = np.log(np.asarray(model._initial_params(kept, np.ones(x_all.size)), float))
    theta0 = np.concatenate([start, np.zeros(k)])
    theta, cov, ll, diagnostics = maximise(
        model, where, lambda t: _objective(t, x, m, z, counts), theta0, n
    )
    diagnostics["n_distinct_rows"] = int(counts.size)
    set_fitted(model, theta, cov, ll, n, diagnostics, spec, k)
    model._record_left_out(left_out)
    model.columns_, model.time_unit_ = meta
    return model


def predict_spend_covariates(model: Any, summary: Any, level: Any, customer_col: Any) -> Any:
    """``GammaGamma.predict`` of a covariate model: expected spend with each customer's ``v_i``."""
    where = f"{type(model).__name__}.predict"
    if level is not None:
        raise ArgumentError(
            f"{where}: level= is not available for a model with covariates yet; call "
            "predict(summary) without it."
        )
    frame = to_narwhals(summary, what="summary")
    id_col = prediction_customer_column(model, summary, customer_col)
    columns = {k: str(model.columns_.get(k, k)) for k in model._data_names}
    keep = ([] if id_col is None else [id_col]) + model.covariates_.columns
    data, collected = read_columns(frame, columns, keep)
    x, m = data["frequency"], data["monetary_value"]
    model._validate_spend(x, m)
    theta = model.covariate_fit_.theta
    p, q, v0 = np.exp(theta[:3])
    v = v0 * np.exp(model.covariates_.design(collected, where)["spend"] @ theta[3:])
    out = {"expected_spend": _k.conditional_expected_spend(p, q, v, x, m)}
    return result_frame(frame, collected, id_col, out, {"time_unit": model.time_unit_})
