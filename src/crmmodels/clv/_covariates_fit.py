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
hypergeometric terms once per (covariate pattern, x, t). The search starts from the fit
without covariates; on many distinct rows, from the optimum of a weighted subsample of
them, whose Hessian is the first curvature of a BFGS search on all rows (L-BFGS-B when
that fails; :mod:`crmmodels.clv._covariates_optim`). Standard errors come from the
Hessian of the negative log-likelihood at the optimum, taken exactly through the four
row parameters (differences of the analytic row derivatives); those of the base
parameters by the delta method from the log scale.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from crmmodels._ingest.frames import to_narwhals
from crmmodels.clv._covariates import PROCESSES, CovariateSpec, build_spec_design
from crmmodels.clv._covariates_ab import dropout_form_argument, shapes
from crmmodels.clv._covariates_optim import (
    bounds,
    lbfgsb,
    maximise,
    mean_objective,
    penalty_hessian,
    quasi_newton,
    row_hessian,
    subsample,
)
from crmmodels.clv._covariates_rows import _compress, _Groups, _groups
from crmmodels.clv._covariates_rows import _pattern_ids as _pattern_ids
from crmmodels.clv._inputs import check, column_arguments, read_columns
from crmmodels.clv._predict import fit_columns
from crmmodels.errors import ArgumentError, CRMModelsError, DataError
from crmmodels.kernels import bgnbd_covariates as _kbg
from crmmodels.kernels import pareto_nbd_covariates as _kpn
from crmmodels.kernels._optim import FloatArray, IntArray, single_thread_blas

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
_SLOT: dict[str, int | tuple[tuple[int, float], ...]] = {"purchase": 1, "dropout": 3}
#: BG/NBD's "ab" form: the dropout coefficients raise the log of both shapes, a and b
_SLOTS_AB: dict[str, int | tuple[tuple[int, float], ...]] = {
    "purchase": 1,
    "dropout": ((2, 1.0), (3, 1.0)),
}
#: a fit on at least 4 x this many distinct rows starts from a weighted subsample of
#: max(_SUBSAMPLE_MIN, rows // _SUBSAMPLE_SHARE) rows
_SUBSAMPLE_MIN = 4_000
_SUBSAMPLE_SHARE = 20
#: the subsample's own optimum is a few standard errors from the full one: a loose
#: gradient tolerance there costs nothing in the full search
_SUBSAMPLE_GTOL = 1e-5
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


def _row_terms(
    kernel: Any,
    theta: FloatArray,
    hist: tuple[FloatArray, FloatArray, FloatArray],
    design: Mapping[str, FloatArray],
    n_purchase: int,
    groups: _Groups | None = None,
    cells: tuple[IntArray, IntArray] | None = None,
    pattern: IntArray | None = None,
    form: str | None = None,
) -> tuple[FloatArray, FloatArray]:
    """Per-row log-likelihood and its derivatives in the four log row parameters.

    The row parameters are ``(r, alpha_i, a or s, b_i or beta_i)``; the derivatives (shape
    ``(4, n)``) are taken on their log scale, which the coefficients shift linearly.
    ``groups`` (BG/NBD) and ``cells`` (Pareto/NBD) let the kernels evaluate their special
    functions once per distinct argument; without them every row is evaluated. With
    ``pattern`` (the covariate pattern of every row), ``design`` holds one row per pattern
    and the scales are computed per pattern. ``form`` is BG/NBD's dropout form: with
    ``"ab"`` the third row parameter is ``a_i``, scaled with ``b_i`` (see
    :mod:`crmmodels.clv._covariates_ab`).
    """
    base, sp, _ = _row_params(theta, design, n_purchase)
    sa, sd = shapes(theta, design["dropout"], n_purchase, form)
    if pattern is not None:
        sp, sd = sp[pattern], sd[pattern]
        sa = sa if np.ndim(sa) == 0 else np.asarray(sa)[pattern]
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        if groups is not None and kernel is _kbg:
            a_pat, b_pat = shapes(theta, groups.patterns, n_purchase, form)
            a_group = a_pat if np.ndim(a_pat) == 0 else np.asarray(a_pat)[groups.pattern]
            ll, d = _kbg.loglik_rows_grouped(
                base[0], sp, a_group, b_pat[groups.pattern], groups.x, groups.group, *hist
            )
            if np.ndim(a_group) > 0:
                sa = np.asarray(a_group)[groups.group]
        elif cells is not None and kernel is _kpn:
            ll, d = _kpn.loglik_rows(base[0], sp, base[2], sd, *hist, cells=cells)
        else:
            ll, d = kernel.loglik_rows(base[0], sp, sa, sd, *hist)
        d[0] *= base[0]
        d[1] *= sp
        d[2] *= sa
        d[3] *= sd
    return ll, d


def _objective(
    kernel: Any,
    theta: FloatArray,
    hist: tuple[FloatArray, FloatArray, FloatArray],
    design: Mapping[str, FloatArray],
    counts: FloatArray,
    n_purchase: int,
    groups: _Groups | None = None,
    cells: tuple[IntArray, IntArray] | None = None,
    form: str | None = None,
) -> tuple[float, FloatArray]:
    """Summed weighted log-likelihood and its gradient in ``theta`` (see :func:`_row_terms`)."""
    ll, d = _row_terms(kernel, theta, hist, design, n_purchase, groups, cells, form=form)
    return _sum_rows(ll, d, counts, design, form=form)


def _sum_rows(
    ll: FloatArray,
    d: FloatArray,
    counts: FloatArray,
    design: Mapping[str, FloatArray],
    pattern: IntArray | None = None,
    form: str | None = None,
) -> tuple[float, FloatArray]:
    """The weighted sum of the row terms and its gradient in ``theta`` (chain rule).

    With ``pattern``, ``design`` holds one row per pattern and the weighted derivatives
    are summed per pattern before the product with it. In the ``"ab"`` form the dropout
    coefficients raise both log shapes (``+z'gamma``); otherwise they lower the dropout
    scale (``-z'gamma``).
    """
    wp = counts * d[1]  # d ll / d log(scale_p), weighted
    wd = counts * d[3]
    # d ll / d (-z'gamma_d), weighted: "ab" moves both log shapes the other way
    wz = -(wd + counts * d[2]) if form == "ab" else wd
    sum_p, sum_d = wp, wz
    if pattern is not None:
        n_pat = design["purchase"].shape[0]
        sum_p = np.bincount(pattern, weights=wp, minlength=n_pat)
        sum_d = np.bincount(pattern, weights=wz, minlength=n_pat)
    grad = np.concatenate(
        [
            [counts @ d[0], wp.sum(), counts @ d[2], wd.sum()],
            -(design["purchase"].T @ sum_p),
            -(design["dropout"].T @ sum_d),
        ]
    )
    return float(counts @ ll), grad


@dataclass
class _Rows:
    """The compressed rows of a covariate fit and their likelihood (counts evaluations)."""

    kernel: Any
    hist: tuple[FloatArray, FloatArray, FloatArray]
    design: dict[str, FloatArray]
    counts: FloatArray
    pattern: IntArray
    n_purchase: int
    evaluations: int = 0
    form: str | None = None

    def __post_init__(self) -> None:
        n_pat = int(self.pattern.max()) + 1 if self.pattern.size else 0
        first = np.zeros(n_pat, dtype=np.int64)
        first[self.pattern] = np.arange(self.pattern.size, dtype=np.int64)
        self.patterns = {p: self.design[p][first] for p in PROCESSES}
        self.groups = None
        if self.kernel is _kbg:
            by_pattern = (self.pattern, self.patterns["dropout"])
            self.groups = _groups(self.hist[0], self.design["dropout"], by_pattern)
        self.cells = (
            _kpn.hypergeometric_cells(*self.hist, self.pattern) if self.kernel is _kpn else None
        )

    def row_terms(self, theta: FloatArray) -> tuple[FloatArray, FloatArray]:
        """:func:`_row_terms` (the last point's terms are kept: asking again is free)."""
        last = getattr(self, "_last", None)
        if last is not None and np.array_equal(last[0], theta):
            return last[1], last[2]
        self.evaluations += 1
        args = (self.hist, self.patterns, self.n_purchase, self.groups, self.cells, self.pattern)
        ll, d = _row_terms(self.kernel, theta, *args, form=self.form)
        self._last = (theta.copy(), ll, d)
        return ll, d

    def loglik(self, theta: FloatArray) -> tuple[float, FloatArray]:
        """Summed log-likelihood and its gradient (:func:`_objective`, summed per pattern)."""
        ll, d = self.row_terms(theta)
        return _sum_rows(ll, d, self.counts, self.patterns, self.pattern, form=self.form)

    def hessian(self, theta: FloatArray) -> FloatArray:
        """Hessian of the summed log-likelihood (:func:`row_hessian`, 8 evaluations)."""
        slots = _SLOTS_AB if self.form == "ab" else _SLOT
        return row_hessian(self.row_terms, theta, self.counts, self.pattern, self.patterns, slots)

    def take(self, rows: IntArray, weights: FloatArray) -> _Rows:
        """The rows ``rows`` with the weights ``weights`` (a subsample)."""
        hist = (self.hist[0][rows], self.hist[1][rows], self.hist[2][rows])
        design = {p: np.ascontiguousarray(v[rows]) for p, v in self.design.items()}
        return _Rows(
            self.kernel, hist, design, weights, self.pattern[rows], self.n_purchase, form=self.form
        )


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
    rows = _Rows(kernel, hist, cdesign, counts, pid, kp, form=form)
    with single_thread_blas():
        theta0, curvature, sub = _subsample_start(model, rows, kp + kd)
    theta, cov, ll_total, diagnostics = maximise(
        model, where, rows.loglik, theta0, n, hessian=rows.hessian, curvature=curvature
    )
    diagnostics["n_evaluations"] = rows.evaluations
    diagnostics["subsample_rows"] = 0 if sub is None else int(sub.counts.size)
    diagnostics["subsample_evaluations"] = 0 if sub is None else sub.evaluations
    diagnostics["n_distinct_rows"] = int(counts.size)
    diagnostics["data_range"] = {
        "max_frequency": float(np.max(hist_cols[0])),
        "max_T": float(np.max(hist_cols[2])),
    }
    set_fitted(model, theta, cov, ll_total, n, diagnostics, spec, kp)
    model.columns_, model.time_unit_ = meta
    return model


def _subsample_rows(n_rows: int) -> int:
    """Rows of the subsample that gives a large fit its start (see ``_covariates_optim``)."""
    return max(_SUBSAMPLE_MIN, n_rows // _SUBSAMPLE_SHARE)


def _subsample_start(
    model: Any, rows: _Rows, n_coef: int
) -> tuple[FloatArray, FloatArray | None, _Rows | None]:
    """The starting point and first curvature of the search on all rows.

    On many rows: the optimum and Hessian of a weighted subsample of them (whose own
    search starts from the fit without covariates on the subsample); on few: the fit
    without covariates and the Hessian there. No curvature when it is not finite (the
    search is then L-BFGS-B from the starting point).
    """
    drawn = subsample(rows.counts, rows.pattern, _subsample_rows(rows.counts.size))
    target = rows if drawn is None else rows.take(*drawn)
    names = model._data_names
    start = _start(model, dict(zip(names, target.hist, strict=True)), target.counts)
    theta0 = np.concatenate([start, np.zeros(n_coef)])
    if drawn is None:  # few rows: the exact Hessian at the start is the first curvature
        hess = rows.hessian(theta0)
        return theta0, (hess if np.all(np.isfinite(hess)) else None), None
    n_sub = float(target.counts.sum())
    pen, n_base = float(model.penalizer), len(model._param_names)
    fun = mean_objective(target.loglik, n_sub, pen, n_base)
    curv = -target.hessian(theta0) / n_sub + penalty_hessian(theta0, pen, n_base)
    box = np.array(bounds(theta0, n_base)).T
    found = None  # BFGS from the subsample's Hessian at the start, else L-BFGS-B
    if np.all(np.isfinite(curv)):
        found = quasi_newton(fun, theta0, curv, (box[0], box[1]), tol=_SUBSAMPLE_GTOL, max_iter=100)
    theta = found[0] if found is not None else lbfgsb(fun, theta0, model, gtol=_SUBSAMPLE_GTOL).x
    if not np.all(np.isfinite(theta)):
        return theta0, None, target
    theta = np.asarray(theta, dtype=np.float64)
    hess = target.hessian(theta) * (float(rows.counts.sum()) / n_sub)
    return theta, (hess if np.all(np.isfinite(hess)) else None), target


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
