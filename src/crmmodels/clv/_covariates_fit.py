r"""Fitting and predicting BG/NBD and Pareto/NBD with time-invariant covariates.

Parameterisation (sign convention: a positive coefficient raises the rate)
-------------------------------------------------------------------------
Customer :math:`i` with purchase covariates :math:`z^p_i` and dropout covariates
:math:`z^d_i` (centred numeric columns and 0/1 indicators, :mod:`crmmodels.clv._covariates`):

* purchase process, both models: :math:`\alpha_i = \alpha_0 e^{-\gamma_p' z^p_i}`, so the
  mean purchase rate :math:`r / \alpha_i` is multiplied by :math:`e^{\gamma_p' z^p_i}`
  (Fader & Hardie 2007; CLVTools);
* Pareto/NBD dropout: :math:`\beta_i = \beta_0 e^{-\gamma_d' z^d_i}`, so the mean dropout
  rate :math:`s / \beta_i` is multiplied by :math:`e^{\gamma_d' z^d_i}` (idem);
* BG/NBD dropout: :math:`b_i = b_0 e^{-\gamma_d' z^d_i}` with ``a`` shared, so the
  expected odds of staying after a purchase, :math:`E[(1-p)/p] = b_i / (a - 1)`, are
  divided by :math:`e^{\gamma_d' z^d_i}`, and the mean dropout probability
  :math:`a / (a + b_i)` rises with :math:`\gamma_d' z^d_i` (by about that factor when
  :math:`b_i \gg a`). CLVTools scales ``a`` and ``b`` by the same factor instead, which
  leaves the mean dropout probability unchanged (a covariate then changes only how
  spread out the dropout probabilities are); the form here lets a covariate make
  customers leave sooner or later, which is what the churn drivers report. CLVTools' form
  is available as ``dropout_form="ab"`` (:mod:`crmmodels.clv._covariates_ab`).

The fit maximises the likelihood over :math:`(\log r, \log\alpha_0, \log a \text{ or }
\log s, \log b_0 \text{ or } \log\beta_0, \gamma_p, \gamma_d)` with the analytic
gradient (per-row kernel derivatives chained through the exponentials), on rows
compressed by (history, covariate pattern). The special functions run once per distinct
argument: BG/NBD's terms in ``b_i`` once per (dropout pattern, x), Pareto/NBD's
hypergeometric terms once per (covariate pattern, x, t). Standard errors come from the Hessian of
the negative log-likelihood (central differences of the analytic gradient); those of the
base parameters by the delta method from the log scale.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.optimize
from scipy import stats

from crmmodels._ingest.frames import to_narwhals
from crmmodels.clv._covariates import PROCESSES, CovariateSpec, build_spec_design
from crmmodels.clv._covariates_ab import dropout_form_argument, objective_ab, shapes
from crmmodels.clv._inputs import check, column_arguments, read_columns
from crmmodels.clv._predict import fit_columns
from crmmodels.errors import ArgumentError, ConvergenceError, CRMModelsError, DataError, warn
from crmmodels.kernels import bgnbd_covariates as _kbg
from crmmodels.kernels import pareto_nbd_covariates as _kpn
from crmmodels.kernels._optim import FloatArray, IntArray, compress_rows, single_thread_blas

__all__ = [
    "CovariateFit",
    "coefficient_table",
    "fit_covariates",
    "maximise",
    "parameters_at",
    "read_with_covariates",
    "restore_covariates",
    "set_fitted",
]

#: position of the per-customer scale of each process in the base parameters
_SLOT = {"purchase": 1, "dropout": 3}
_WEIGHTS = "\0weights"


@dataclass(frozen=True)
class CovariateFit:
    """The full estimate: ``theta`` = (log base parameters, coefficients) and its covariance."""

    theta: FloatArray
    covariance: FloatArray
    n_purchase: int

    def gammas(self, process: str) -> FloatArray:
        """Coefficient vector of one process."""
        k = self.n_purchase
        return self.theta[4 : 4 + k] if process == "purchase" else self.theta[4 + k :]


def _kernel(model: Any) -> Any:
    name = type(model).__name__
    if name == "BGNBD":
        return _kbg
    if name == "ParetoNBD":
        return _kpn
    raise ArgumentError(
        f"{name}.fit: covariates are available for BGNBD, ParetoNBD and GammaGamma; "
        f"fit {name} without covariates."
    )


def _row_params(
    theta: FloatArray, design: Mapping[str, FloatArray], n_purchase: int
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Base parameters and the per-row scales of the purchase and dropout process."""
    base = np.exp(theta[:4])
    gp, gd = theta[4 : 4 + n_purchase], theta[4 + n_purchase :]
    scale_p = base[1] * np.exp(-(design["purchase"] @ gp))
    scale_d = base[3] * np.exp(-(design["dropout"] @ gd))
    return base, scale_p, scale_d


@dataclass(frozen=True)
class _Groups:
    """Distinct (dropout covariate pattern, x) pairs of the rows (BG/NBD's terms in b)."""

    patterns: FloatArray  # distinct dropout design rows
    pattern: IntArray  # pattern of each pair
    x: FloatArray  # count of each pair
    group: IntArray  # pair of each row


def _groups(x: FloatArray, dropout: FloatArray) -> _Groups:
    cols, _, pid = compress_rows([*dropout.T]) if dropout.shape[1] else ([], None, None)
    if pid is None:
        pid = np.zeros(x.size, dtype=np.int64)
        patterns = np.zeros((1, 0))
    else:
        patterns = np.column_stack(cols)
    (ux, upid), _, group = compress_rows([x, pid.astype(np.float64)])
    return _Groups(patterns, upid.astype(np.int64), ux, group)


def _codes(column: FloatArray) -> tuple[FloatArray, IntArray]:
    """Sorted distinct values of a column and the code of every row (0/1 without a sort)."""
    if bool(np.all((column == 0.0) | (column == 1.0))):
        return np.array([0.0, 1.0]), column.astype(np.int64)
    values, codes = np.unique(column, return_inverse=True)
    return values, codes.reshape(-1).astype(np.int64)


def _mixed_radix(levels: list[tuple[FloatArray, IntArray]]) -> IntArray | None:
    """One int64 number per row from the columns' codes (None when it could overflow)."""
    if math.prod(max(v.size, 1) for v, _ in levels) >= 2**62:
        return None
    key = levels[0][1].copy()
    for values, codes in levels[1:]:
        key *= values.size
        key += codes
    return key


def _pattern_ids(design: Mapping[str, FloatArray]) -> IntArray:
    """The covariate pattern (distinct purchase and dropout design row) of every row.

    A column that repeats another (the same covariate in both processes) is skipped.
    """
    columns = [*design["purchase"].T, *design["dropout"].T]
    n = design["purchase"].shape[0]
    distinct_cols: list[FloatArray] = []
    for c in columns:
        if not any(np.array_equal(c, d) for d in distinct_cols):
            distinct_cols.append(np.ascontiguousarray(c))
    if not distinct_cols or n == 0:
        return np.zeros(n, dtype=np.int64)
    key = _mixed_radix([_codes(c) for c in distinct_cols])
    if key is None:
        return compress_rows(distinct_cols)[2]
    return np.unique(key, return_inverse=True)[1].reshape(-1).astype(np.int64)


def _compress(
    hist_cols: list[FloatArray], design: Mapping[str, FloatArray], w: FloatArray | None
) -> tuple[tuple[FloatArray, FloatArray, FloatArray], dict[str, FloatArray], FloatArray, IntArray]:
    """Distinct rows of (history, covariate pattern) with their weights.

    Returns the histories, the design rows and the weight of every distinct row and its
    pattern. Rows are keyed by the codes of ``x``, ``t_x``, ``T`` and the pattern (one
    int64 number and one sort), not by a lexicographic sort of every design column; rows
    of zero total weight are dropped.
    """
    pid = _pattern_ids(design)
    n = pid.size
    weights = np.ones(n) if w is None else w
    levels = [_codes(c) for c in hist_cols]
    levels.append((np.arange(int(pid.max()) + 1 if n else 0, dtype=np.float64), pid))
    key = _mixed_radix(levels) if n else None
    if key is None:  # continuous histories with very many levels: a lexicographic sort
        _, counts, inverse = compress_rows([*hist_cols, pid.astype(np.float64)], weights)
        first = np.empty(counts.size, dtype=np.int64)
        rows = np.flatnonzero(inverse >= 0)
        first[inverse[rows]] = rows  # one row of each distinct row
    else:
        _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
        inverse = inverse.reshape(-1)
        counts = np.bincount(inverse, weights=weights, minlength=first.size).astype(np.float64)
    keep = counts > 0
    first, counts = first[keep], counts[keep]
    hist = (hist_cols[0][first], hist_cols[1][first], hist_cols[2][first])
    cdesign = {p: np.ascontiguousarray(design[p][first]) for p in ("purchase", "dropout")}
    return hist, cdesign, counts, pid[first]


def _objective(
    kernel: Any,
    theta: FloatArray,
    hist: tuple[FloatArray, FloatArray, FloatArray],
    design: Mapping[str, FloatArray],
    counts: FloatArray,
    n_purchase: int,
    groups: _Groups | None = None,
    cells: tuple[IntArray, IntArray] | None = None,
) -> tuple[float, FloatArray]:
    """Summed weighted log-likelihood and its gradient in ``theta``.

    ``groups`` (BG/NBD) and ``cells`` (Pareto/NBD) let the kernels evaluate their special
    functions once per distinct argument; without them every row is evaluated.
    """
    base, sp, sd = _row_params(theta, design, n_purchase)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        if groups is not None and kernel is _kbg:
            b_pat = base[3] * np.exp(-(groups.patterns @ theta[4 + n_purchase :]))
            b_group = b_pat[groups.pattern]
            ll, d = _kbg.loglik_rows_grouped(
                base[0], sp, base[2], b_group, groups.x, groups.group, *hist
            )
        elif cells is not None and kernel is _kpn:
            ll, d = _kpn.loglik_rows(base[0], sp, base[2], sd, *hist, cells=cells)
        else:
            ll, d = kernel.loglik_rows(base[0], sp, base[2], sd, *hist)
    total = float(counts @ ll)
    wp = counts * d[1] * sp  # d ll / d log(scale_p), weighted
    wd = counts * d[3] * sd
    grad = np.concatenate(
        [
            [base[0] * (counts @ d[0]), wp.sum(), base[2] * (counts @ d[2]), wd.sum()],
            -(design["purchase"].T @ wp),
            -(design["dropout"].T @ wd),
        ]
    )
    return total, grad


def _hessian(fun: Any, theta: FloatArray, step: float = 1e-4) -> FloatArray:
    """Hessian by central differences of the analytic gradient (symmetrised)."""
    k = theta.size
    h = np.empty((k, k))
    for j in range(k):  # k = a handful of parameters, not rows
        e = np.zeros(k)
        e[j] = step
        h[:, j] = (fun(theta + e)[1] - fun(theta - e)[1]) / (2 * step)
    return np.asarray(0.5 * (h + h.T), dtype=np.float64)


def _start(model: Any, data: dict[str, FloatArray], w: FloatArray | None) -> FloatArray:
    """Log base parameters of the fit without covariates (the starting point)."""
    plain = type(model)(**model.get_params())
    try:
        plain._fit_arrays(data, w)
        return np.asarray(np.log(plain._params_array()), dtype=np.float64)
    except CRMModelsError:
        n = data["frequency"].size
        counts = np.ones(n) if w is None else w
        start = np.asarray(model._initial_params(data, counts), dtype=np.float64)
        return np.asarray(np.log(start), dtype=np.float64)


def read_with_covariates(
    model: Any,
    where: str,
    summary: Any,
    names: Mapping[str, str],
    weights: Any,
    weights_col: str | None,
    cov_columns: list[str],
    *,
    model_checks: bool = True,
) -> tuple[dict[str, FloatArray], FloatArray | None, Any]:
    """The model's columns, the weights and the collected frame (with the covariates).

    With ``model_checks`` the model's own rules run (``_check_inputs``); the rows must
    stay aligned with the frame, which holds for the purchase models.
    """
    if summary is None:
        raise ArgumentError(
            f"{where}: covariates are read from a summary frame: pass the frame (with the "
            "covariate columns) instead of keyword arrays."
        )
    columns = dict(names)
    if weights_col is not None:
        columns[_WEIGHTS] = weights_col
    data, df = read_columns(to_narwhals(summary, what="summary"), columns, cov_columns)
    w = data.pop(_WEIGHTS, None)
    if weights is not None:
        w = np.asarray(weights, dtype=np.float64)
    for key, arr in data.items():
        check(arr, ~np.isfinite(arr), key, "is not finite (NaN or inf)")
    if w is not None:
        check(w, ~np.isfinite(w) | (w < 0), "weights", "is negative or not finite")
    if model_checks:
        data, w, _ = model._check_inputs(data, w, where)
    return data, w, df


def fit_covariates(
    model: Any,
    summary: Any,
    lists: Mapping[str, list[str]],
    *,
    weights: Any,
    weights_col: str | None,
    customer_col: Any,
    time_unit: Any,
    columns: Mapping[str, Any],
) -> Any:
    """``model.fit(summary, covariates=...)``: see the module docstring."""
    where = f"{type(model).__name__}.fit"
    if type(model).__name__ == "GammaGamma":
        from crmmodels.clv._covariates_spend import fit_spend_covariates

        if lists["purchase"] != lists["dropout"]:
            raise ArgumentError(
                f"{where}: the spend model has one process: pass covariates=[...], not "
                "purchase_covariates= or dropout_covariates=."
            )
        return fit_spend_covariates(
            model,
            summary,
            lists["purchase"],
            weights=weights,
            weights_col=weights_col,
            customer_col=customer_col,
            time_unit=time_unit,
            columns=columns,
        )
    kernel = _kernel(model)
    form, columns = dropout_form_argument(model, where, columns)  # BG/NBD: "b" or "ab"
    model._validate_hyperparameters()
    _, names = column_arguments(where, model._data_names, model._default_column_names, columns)
    meta = fit_columns(summary, names, customer_col, time_unit)
    cov_cols = list(dict.fromkeys(c for p in PROCESSES for c in lists[p]))
    data, w, df = read_with_covariates(model, where, summary, names, weights, weights_col, cov_cols)
    spec, design = build_spec_design(df, lists, where)
    spec = dataclasses.replace(spec, dropout_form=form)
    kp, kd = design["purchase"].shape[1], design["dropout"].shape[1]
    hist_cols = [data[k] for k in model._data_names]
    hist, cdesign, counts, pid = _compress(hist_cols, design, w)
    n = float(counts.sum())
    groups = _groups(hist[0], cdesign["dropout"]) if kernel is _kbg else None
    cells = _kpn.hypergeometric_cells(*hist, pid) if kernel is _kpn else None

    def loglik(theta: FloatArray) -> tuple[float, FloatArray]:
        objective = objective_ab if form == "ab" else _objective
        return objective(kernel, theta, hist, cdesign, counts, kp, groups, cells)

    theta0 = np.concatenate([_start(model, data, w), np.zeros(kp + kd)])
    theta, cov, ll_total, diagnostics = maximise(model, where, loglik, theta0, n)
    diagnostics["n_distinct_rows"] = int(counts.size)
    diagnostics["data_range"] = {
        "max_frequency": float(np.max(hist_cols[0])),
        "max_T": float(np.max(hist_cols[2])),
    }
    set_fitted(model, theta, cov, ll_total, n, diagnostics, spec, kp)
    model.columns_, model.time_unit_ = meta
    return model


def maximise(
    model: Any,
    where: str,
    loglik: Callable[[FloatArray], tuple[float, FloatArray]],
    theta0: FloatArray,
    n: float,
) -> tuple[FloatArray, FloatArray, float, dict[str, Any]]:
    """Maximise a covariate likelihood over ``theta`` = (log base parameters, coefficients).

    ``loglik`` returns the summed log-likelihood and its gradient in ``theta``. Returns
    the estimate, its covariance (inverse Hessian of the negative log-likelihood, NaN
    when singular), the log-likelihood and the diagnostics.
    """
    n_base = len(model._param_names)
    pen = float(model.penalizer)

    def fun(theta: FloatArray) -> tuple[float, FloatArray]:
        ll, g = loglik(theta)
        base = np.exp(theta[:n_base])
        value = -ll / n + pen * float(np.sum(base**2) + np.sum(theta[n_base:] ** 2))
        grad = -g / n + pen * np.concatenate([2 * base**2, 2 * theta[n_base:]])
        if not np.isfinite(value):
            return 1e300, np.zeros_like(theta)
        return value, grad

    bounds = [(-23.0, 23.0)] * n_base + [(-50.0, 50.0)] * (theta0.size - n_base)
    with single_thread_blas():
        res = scipy.optimize.minimize(
            fun,
            theta0,
            jac=True,
            method="L-BFGS-B",
            bounds=bounds,
            options={"maxiter": model.max_iter, "gtol": model.tol, "ftol": 1e-15},
        )
        theta = np.asarray(res.x, dtype=np.float64)
        gnorm = float(np.max(np.abs(fun(theta)[1])))
        if gnorm > 100 * model.tol:
            message = (
                f"{where}: the covariate fit did not converge ({res.message}; gradient "
                f"sup-norm {gnorm:.3g}). Try fewer covariates, centred or rescaled numeric "
                "covariates, or a small penalizer."
            )
            if model.on_nonconvergence == "raise":
                raise ConvergenceError(message)
            warn(message, RuntimeWarning)
        hess = _hessian(fun, theta) * n
    try:
        cov = np.asarray(np.linalg.inv(hess), dtype=np.float64)
        if np.any(np.diag(cov) < 0):
            raise np.linalg.LinAlgError
    except np.linalg.LinAlgError:
        cov = np.full(hess.shape, np.nan)
    diagnostics: dict[str, Any] = {
        "converged": bool(gnorm <= 100 * model.tol),
        "optimizer_message": str(res.message),
    }
    return theta, cov, loglik(theta)[0], diagnostics


def set_fitted(
    model: Any,
    theta: FloatArray,
    cov: FloatArray,
    log_likelihood: float,
    n: float,
    diagnostics: dict[str, Any],
    spec: CovariateSpec,
    n_first: int,
) -> None:
    """The fitted attributes of a covariate model (``params_`` are the base parameters)."""
    n_base = len(model._param_names)
    base = np.exp(theta[:n_base])
    se_base = base * np.sqrt(np.diag(cov)[:n_base])
    model._set_fitted(
        dict(zip(model._param_names, base.tolist(), strict=True)),
        log_likelihood=log_likelihood,
        n_customers=n,
        standard_errors=dict(zip(model._param_names, se_base.tolist(), strict=True)),
        covariance=cov[:n_base, :n_base] * np.outer(base, base),
        diagnostics=diagnostics,
    )
    k = theta.size
    model.aic_ = 2.0 * k - 2.0 * model.log_likelihood_
    model.bic_ = k * np.log(n) - 2.0 * model.log_likelihood_
    model.covariates_ = spec
    model.covariate_fit_ = CovariateFit(theta, cov, n_first)
    model.coefficients_ = coefficient_table(spec, model.covariate_fit_)


def coefficient_table(spec: CovariateSpec, fit: CovariateFit, level: float = 0.95) -> pd.DataFrame:
    """One row per coefficient: process, covariate, estimate, std_error, lower, upper, p_value."""
    z = float(stats.norm.ppf(0.5 + level / 2))
    names = [(p, n) for p in spec.processes for n in spec.names(p)]
    n_base = fit.theta.size - len(names)
    est = fit.theta[n_base:]
    se = np.sqrt(np.maximum(np.diag(fit.covariance)[n_base:], 0.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        pval = 2 * stats.norm.sf(np.abs(est / se))
    return pd.DataFrame(
        {
            "process": [p for p, _ in names],
            "covariate": [n for _, n in names],
            "estimate": est,
            "std_error": se,
            "lower": est - z * se,
            "upper": est + z * se,
            "p_value": pval,
        }
    )


def parameters_at(
    model: Any, theta: FloatArray, design: Mapping[str, FloatArray]
) -> tuple[float, FloatArray, float | FloatArray, FloatArray]:
    """Each row's ``(r, alpha_i, a or a_i or s, b_i or beta_i)`` at the estimate ``theta``.

    The third parameter is one number except for a BG/NBD in the ``"ab"`` form.
    """
    n_purchase = model.covariate_fit_.n_purchase
    base, scale_p, _ = _row_params(theta, design, n_purchase)
    shape, scale_d = shapes(theta, design["dropout"], n_purchase, model.covariates_.dropout_form)
    return float(base[0]), scale_p, shape, scale_d


def row_parameters(
    model: Any, df: Any, where: str
) -> tuple[float, FloatArray, float | FloatArray, FloatArray]:
    """:func:`parameters_at` the fitted estimate, for the customers of a collected frame."""
    design = model.covariates_.design(df, where)
    return parameters_at(model, model.covariate_fit_.theta, design)


def restore_covariates(
    model: Any, payload: Mapping[str, Any], check_cov: Callable[[Any, int], FloatArray]
) -> None:
    """Set the covariate state of a model read from JSON (validated; see ``_persist``)."""
    spec = CovariateSpec.from_dict(payload.get("spec", {}))
    spend = type(model).__name__ == "GammaGamma"
    if spend != bool(spec.spend):
        raise DataError("the covariate processes do not fit this model.")
    if not spend:
        _kernel(model)
    if type(model).__name__ == "BGNBD":  # saved before the forms existed: "b"
        spec = dataclasses.replace(spec, dropout_form=spec.dropout_form or "b")
    elif spec.dropout_form is not None:
        raise DataError(f"dropout_form is a BGNBD setting; {type(model).__name__} has none.")
    kp, kd = len(spec.names("spend" if spend else "purchase")), len(spec.names("dropout"))
    theta_in = payload.get("theta")
    n_base = len(model._param_names)
    k = n_base + kp + kd
    if not isinstance(theta_in, list) or len(theta_in) != k:
        raise DataError(
            f"'theta' must be a list of {k} numbers ({n_base} base, {kp + kd} coefficients)."
        )
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in theta_in):
        raise DataError("'theta' must hold numbers only.")
    theta = np.asarray(theta_in, dtype=np.float64)
    if not np.all(np.isfinite(theta)):
        raise DataError("'theta' holds a value that is not finite.")
    if not np.allclose(np.exp(theta[:n_base]), model._params_array(), rtol=1e-9):
        raise DataError("the base parameters in 'theta' differ from 'params'.")
    cov_in = payload.get("covariance")
    cov = np.full((k, k), np.nan) if cov_in is None else check_cov(cov_in, k)
    model.covariates_ = spec
    model.covariate_fit_ = CovariateFit(theta, cov, kp)
    model.coefficients_ = coefficient_table(spec, model.covariate_fit_)
