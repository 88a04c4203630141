"""The maximum-likelihood fit of a CLV model, as named steps.

:class:`SummaryModel` holds the one ``fit`` of the models: it reads the columns a model
declares and checks them (:mod:`crmmodels.clv._inputs`, the model's ``_check_inputs``);
:func:`fit_model` then runs the steps in order:

1. :func:`compress`: identical rows become one distinct row with a count
   (:func:`crmmodels.kernels._optim.compress_rows`; weights multiply the counts);
2. :func:`refuse_unidentifiable`: a single customer, or data that cannot identify the
   model (the model's ``_degenerate_reason``), raise
   :class:`~crmmodels.errors.ConvergenceError`;
3. :func:`starting_values`: ``initial_params`` or the model's own guess;
4. :func:`maximise`: L-BFGS-B on the log scale with restarts, the observed information
   and a Newton polish (:func:`make_solver`), then, when the optimum runs along a ridge,
   the search of the limiting models (:func:`crmmodels.clv._limits.search_limits`);
5. :func:`judge`: the boundary warning, or the convergence error or warning;
6. :func:`standard_errors`, and the fitted attributes (``model._set_fitted``).
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Self

import numpy as np
import pandas as pd

from crmmodels import engines
from crmmodels._progress import Progress
from crmmodels.clv._base import MLEModel
from crmmodels.clv._covariates import covariate_lists
from crmmodels.clv._inputs import column_arguments, fit_signature, read_inputs
from crmmodels.clv._limits import BoundaryFit, Solution, looks_like_boundary, search_limits
from crmmodels.clv._predict import AUTO_ID, fit_columns
from crmmodels.errors import BoundaryWarning, ConvergenceError, warn
from crmmodels.kernels._optim import (
    FloatArray,
    IntArray,
    compress_rows,
    describe_status,
    maximize_loglik,
    numeric_hessian,
    single_thread_blas,
)

__all__ = ["SummaryModel", "compress", "fit_model", "levels", "make_solver"]

LoglikFn = Callable[[FloatArray], tuple[float, FloatArray]]


def compress(
    names: tuple[str, ...], data: Mapping[str, FloatArray], weights: FloatArray | None
) -> tuple[dict[str, FloatArray], FloatArray]:
    """The distinct rows of the data columns ``names`` and their (weighted) counts.

    Sorted by the first column (the count ``x``); rows of zero weight are dropped.
    Continuous data that cannot compress is only sorted (``compress_rows(exact=False)``).

    Examples
    --------
    >>> import numpy as np
    >>> d, c = compress(("x", "t"), {"x": np.array([1.0, 0.0, 1.0]),
    ...                              "t": np.array([2.0, 2.0, 2.0])}, None)
    >>> d["x"].tolist(), c.tolist()
    ([0.0, 1.0], [1.0, 2.0])
    """
    cols = [np.asarray(data[k], dtype=np.float64) for k in names]
    distinct, counts, _ = compress_rows(cols, weights, exact=False, levels=levels(cols))
    return dict(zip(names, distinct, strict=True)), counts


def levels(cols: list[FloatArray]) -> list[tuple[FloatArray, IntArray]]:
    """Sorted distinct values and row codes of each column, by hashing (pandas)."""
    out = []
    for col in cols:
        codes, uniques = pd.factorize(col, sort=True)
        out.append((np.asarray(uniques, dtype=np.float64), codes.astype(np.int64, copy=False)))
    return out


def refuse_unidentifiable(model: Any, data: dict[str, FloatArray], counts: FloatArray) -> float:
    """The number of customers, or :class:`ConvergenceError` when nothing can be estimated."""
    name = type(model).__name__
    n_obs = float(counts.sum())
    if n_obs < 2.0:
        raise ConvergenceError(
            f"{name} cannot be fitted on a single customer (total weight {n_obs:g}): "
            "the model describes how customers differ, which one customer cannot show. "
            "Fit on more customers, or build the model with 'from_params'.",
            {"reason": "single_customer", "n_customers": n_obs},
        )
    reason = model._degenerate_reason(data, counts)
    if reason is not None:
        raise ConvergenceError(f"{name} cannot be fitted: {reason}", {"reason": reason})
    return n_obs


def starting_values(model: Any, data: dict[str, FloatArray], counts: FloatArray) -> FloatArray:
    """``initial_params`` when given, else the model's own starting guess."""
    if model.initial_params is not None:
        init = model._check_param_dict(model.initial_params, "initial_params")
        return np.array([init[k] for k in model._param_names])
    return np.asarray(model._initial_params(data, counts), dtype=np.float64)


def _newton_polish(
    loglik: LoglikFn,
    neg_grad: Callable[[FloatArray], FloatArray],
    params: FloatArray,
    cov: FloatArray,
    lam: float,
    n_obs: float,
) -> tuple[FloatArray, float, int]:
    """Refine an L-BFGS-B optimum with up to three chord-Newton steps.

    Uses the inverse Hessian already computed for the standard errors; a step is kept
    only when it improves the (penalised) objective, so the result is never worse.
    """
    ll, _ = loglik(params)

    def objective(p: FloatArray, value: float) -> float:
        return -value + lam * n_obs * float(np.sum(p * p))

    best = objective(params, ll)
    steps = 0
    for _ in range(3):
        step = cov @ neg_grad(params)
        candidate = params - step
        if not np.all(candidate > 0) or not np.all(np.isfinite(candidate)):
            break
        ll_c, _ = loglik(candidate)
        value = objective(candidate, ll_c)
        if not np.isfinite(value) or value > best:
            break
        params, ll, best = candidate, ll_c, value
        steps += 1
        if np.max(np.abs(step) / params) < 1e-12:
            break
    return params, float(ll), steps


def _inverse_hessian(hess: FloatArray) -> tuple[FloatArray, bool]:
    """The covariance (inverse of a positive definite Hessian), or NaN and False."""
    k = hess.shape[0]
    if np.all(np.isfinite(hess)):
        try:
            inv_chol = np.linalg.inv(np.linalg.cholesky(hess))
            return inv_chol.T @ inv_chol, True
        except np.linalg.LinAlgError:
            pass
    return np.full((k, k), np.nan), False


def make_solver(
    model: Any, n_obs: float, lam: float, report: Progress | None = None
) -> Callable[[LoglikFn, FloatArray], Solution]:
    """One maximum-likelihood run with curvature: the optimiser, Hessian, Newton polish."""
    tol, max_iter, n_restarts = float(model.tol), int(model.max_iter), int(model.n_restarts)
    n_params = len(model._param_names)

    def on_start(start: int, loglik: float, gradient_norm: float) -> None:
        if report is not None and report.active:
            report.info(
                "optimiser start %d: log-likelihood %.10g, gradient norm %.3g",
                start,
                loglik,
                gradient_norm,
            )

    def solve(loglik: LoglikFn, start: FloatArray) -> Solution:
        def neg_grad(p: FloatArray) -> FloatArray:
            return -np.asarray(loglik(p)[1]) + 2.0 * lam * n_obs * p

        res = maximize_loglik(
            loglik,
            start,
            n_obs=n_obs,
            penalizer=lam,
            log_bounds=model._log_bounds if start.size == n_params else None,
            n_restarts=n_restarts,
            tol=tol,
            max_iter=max_iter,
            callback=on_start,
        )
        cov, hessian_ok = _inverse_hessian(numeric_hessian(neg_grad, res.params))
        params, ll_best = res.params, res.loglik
        diagnostics = dict(res.diagnostics)
        if hessian_ok and res.converged:
            params, ll_best, n_polish = _newton_polish(loglik, neg_grad, params, cov, lam, n_obs)
            diagnostics["newton_steps"] = n_polish
            if n_polish:
                g_log = neg_grad(params) * params / n_obs
                diagnostics["gradient_norm"] = float(np.max(np.abs(g_log)))
        return Solution(params, float(ll_best), cov, hessian_ok, res.converged, diagnostics)

    return solve


def maximise(
    model: Any, loglik: LoglikFn, start: FloatArray, n_obs: float, n_rows: int
) -> tuple[Solution, BoundaryFit | None]:
    """The interior optimum and, when it runs along a ridge, the best limiting model."""
    name = type(model).__name__
    lam = float(model.penalizer)
    with (
        Progress(f"{name}.fit", enabled=model.progress, logger=__name__) as report,
        single_thread_blas(),
    ):
        report.info("%.10g customers in %d distinct rows", n_obs, n_rows)
        sol = make_solver(model, n_obs, lam, report)(loglik, start)
        boundary = None
        if lam == 0.0 and model._limits and looks_like_boundary(sol):
            report.info("no interior maximum found: fitting the limiting models")
            solve = make_solver(model, n_obs, lam)
            boundary = search_limits(loglik, model._param_names, model._limits, sol, solve, n_obs)
    return sol, boundary


def _diverging(names: tuple[str, ...], params: FloatArray, hints: Mapping[str, str]) -> str:
    """A sentence naming parameters that ran off towards 0 or infinity (empty if none)."""
    big = [f"{n} = {v:.3g}" for n, v in zip(names, params, strict=True) if v > 1e6]
    small = [f"{n} = {v:.3g}" for n, v in zip(names, params, strict=True) if v < 1e-6]
    parts = []
    if big:
        parts.append(f"{', '.join(big)} grew without bound")
    if small:
        parts.append(f"{', '.join(small)} went to 0")
    if not parts:
        return ""
    extreme = [n for n, v in zip(names, params, strict=True) if v > 1e6 or v < 1e-6]
    meaning = "".join(f" {hints[n]}" for n in extreme if n in hints)
    return (
        f" Along the way {' and '.join(parts)}: the likelihood has no interior maximum in "
        f"that direction and no limiting model of this class explains the data.{meaning}"
    )


def judge(
    model: Any, sol: Solution, boundary: BoundaryFit | None
) -> tuple[Solution, dict[str, Any]]:
    """The solution to keep and its diagnostics.

    Warns when the fit reached a limiting model; raises or warns when it did not
    converge (``on_nonconvergence``).
    """
    name = type(model).__name__
    diagnostics = dict(sol.diagnostics)
    diagnostics["optimizer_message"] = diagnostics.get("message", "")
    diagnostics["message"] = describe_status(diagnostics["optimizer_message"])
    if boundary is not None:
        diagnostics["converged"] = True
        diagnostics["boundary"] = boundary.to_dict(model._param_names)
        warn(
            f"{name} fit reached a limiting model: {boundary.describe(model._param_names)}. "
            "Predictions use that limit; see diagnostics_['boundary'].",
            BoundaryWarning,
        )
        return boundary.solution, diagnostics
    if not sol.converged:
        msg = (
            f"{name} fit did not converge: {diagnostics['message']} (gradient norm "
            f"{diagnostics['gradient_norm']:.3g} after {diagnostics['iterations']} "
            f"iterations and {diagnostics['n_starts']} starts)."
            f"{_diverging(model._param_names, sol.params, model._divergence_hints)} Try "
            "other initial_params, more "
            "n_restarts or a small penalizer, or check the data."
        )
        if model.on_nonconvergence == "raise":
            raise ConvergenceError(msg, diagnostics)
        warn(msg, RuntimeWarning)
    return sol, diagnostics


def standard_errors(sol: Solution) -> FloatArray:
    """Square roots of the covariance diagonal (NaN without a positive definite Hessian)."""
    k = sol.params.size
    if not sol.hessian_ok:
        return np.full(k, np.nan)
    return np.asarray(np.sqrt(np.clip(np.diag(sol.covariance), 0.0, None)), dtype=np.float64)


def fit_model(model: Any, data: Mapping[str, FloatArray], weights: FloatArray | None) -> None:
    """Fit ``model`` on checked data (keys ``model._data_names``) and set its attributes."""
    started = time.perf_counter()
    cdata, counts = compress(model._data_names, data, weights)
    n_obs = refuse_unidentifiable(model, cdata, counts)
    start = starting_values(model, cdata, counts)

    def loglik(p: FloatArray) -> tuple[float, FloatArray]:
        return model._loglik_grad(p, cdata, counts)  # type: ignore[no-any-return]

    sol, boundary = maximise(model, loglik, start, n_obs, counts.size)
    sol, diagnostics = judge(model, sol, boundary)
    se = standard_errors(sol)
    diagnostics.update(
        {
            "hessian_positive_definite": sol.hessian_ok,
            "n_rows": engines.n_rows(next(iter(data.values())).size),
            "n_distinct_rows": int(counts.size),
            "fit_seconds": time.perf_counter() - started,
        }
    )
    names = model._param_names
    model._set_fitted(
        dict(zip(names, map(float, sol.params), strict=True)),
        log_likelihood=sol.loglik,
        n_customers=n_obs,
        standard_errors=dict(zip(names, map(float, se), strict=True)),
        covariance=sol.covariance,
        diagnostics=diagnostics,
    )


class SummaryModel(MLEModel):
    """A model fitted on a customer summary: the one ``fit`` (and ``score``) of the models.

    The model declares the summary columns it reads (``_data_names``, with
    ``_default_column_names``) and checks its own rules in ``_check_inputs``; ``fit``
    reads them with :func:`crmmodels.clv._inputs.read_inputs` and runs :func:`fit_model`.
    """

    #: whether ``fit`` takes time-invariant covariates (:mod:`crmmodels.clv._covariates_fit`)
    _takes_covariates: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Give each model a ``fit`` whose signature names its own columns.

        The one implementation is :meth:`SummaryModel.fit`; the subclass's copy only carries
        the signature built from ``_data_names`` (for ``help``, ``inspect`` and editors).
        """
        super().__init_subclass__(**kwargs)
        if not cls._data_names or "fit" in cls.__dict__:
            return

        def fit(self: SummaryModel, summary: Any = None, y: Any = None, **kw: Any) -> Any:
            return SummaryModel.fit(self, summary, y, **kw)

        fit.__doc__ = SummaryModel.fit.__doc__
        fit.__qualname__ = f"{cls.__qualname__}.fit"
        sig = fit_signature(cls._data_names, cls._default_column_names)
        if cls._takes_covariates:  # the covariate lists (crmmodels.clv._covariates)
            kw = inspect.Parameter.KEYWORD_ONLY
            extra = ("covariates", "purchase_covariates", "dropout_covariates")
            sig = sig.replace(
                parameters=[
                    *sig.parameters.values(),
                    *(inspect.Parameter(n, kw, default=None) for n in extra),
                ]
            )
        fit.__signature__ = sig  # type: ignore[attr-defined]
        setattr(cls, "fit", fit)  # noqa: B010

    # ------------------------------------------------------------ data intake
    def _check_inputs(
        self, data: dict[str, FloatArray], weights: FloatArray | None, where: str
    ) -> tuple[dict[str, FloatArray], FloatArray | None, dict[str, int]]:
        """Check the model's own rules on the inputs read by ``fit`` and ``score``.

        Returns the rows the likelihood uses, their weights and the number of rows left
        out, by diagnostics key (empty when every row is used).
        """
        raise NotImplementedError

    def _read(
        self,
        where: str,
        summary: Any,
        arrays: Mapping[str, tuple[str, Any]],
        weights: Any,
        weights_col: str | None,
    ) -> tuple[dict[str, FloatArray], FloatArray | None, dict[str, int]]:
        """Read the columns (:func:`crmmodels.clv._inputs.read_inputs`) and check them."""
        data, w = read_inputs(where, summary, arrays, weights, weights_col)
        return self._check_inputs(data, w, where)

    # -------------------------------------------------------------------- fit
    def fit(
        self,
        summary: Any = None,
        y: Any = None,
        *,
        weights: Any = None,
        weights_col: str | None = None,
        customer_col: str | None = AUTO_ID,
        time_unit: str | None = None,
        **columns: Any,
    ) -> Self:
        """Fit the model by maximum likelihood.

        Parameters
        ----------
        summary : DataFrame-like, optional
            Customer summary (any narwhals-supported frame, e.g. from
            ``summarize_transactions``) with the model's columns. Alternatively pass
            the keyword arrays.
        y : None
            Ignored; accepted so that scikit-learn pipelines can call ``fit(X, y)``.
        frequency, recency, T : array-like, optional
            BG/NBD, MBG/NBD and Pareto/NBD: repeat purchases x (integers >= 0), time of
            the last purchase t_x and length of observation T (same time unit,
            ``0 <= t_x <= T``; ``t_x = 0`` when x = 0).
        frequency, recency, n_periods : array-like, optional
            BG/BB: transactions x, opportunity of the last transaction t_x and number
            of opportunities n (integers, ``x <= t_x <= n``).
        frequency, monetary_value : array-like, optional
            Gamma-Gamma: repeat transactions and their mean value. Customers with
            ``frequency == 0`` carry no spend information and are left out; repeat
            buyers with a mean spend of exactly 0 have no Gamma-Gamma density and are
            left out with a :class:`~crmmodels.errors.CRMModelsWarning`. Both are
            counted in ``n_excluded_`` and ``diagnostics_`` (``n_no_repeat_excluded``,
            ``n_zero_spend_excluded``).
        weights : array-like, optional
            Number of customers each row stands for (default 1 each).
        frequency_col, recency_col, T_col, n_periods_col, monetary_value_col : str
            Column names in ``summary`` (defaults: the data names; ``"periods"`` for
            ``n_periods``); remembered in ``columns_`` so that the prediction methods and
            ``predict`` read a summary frame the same way.
        weights_col : str, optional
            Column of ``summary`` with the weights.
        customer_col : str or None, default "customer_id"
            Id column of ``summary``, remembered in ``columns_["customer"]`` and used
            as the key of ``predict``. The default is used when the summary has it;
            a column named explicitly must exist.
        time_unit : str, optional
            Time unit of the summary (e.g. ``"weeks"``; for BG/BB the name of one
            opportunity), stored in ``time_unit_``. By default it is read from a pandas
            summary made by :func:`crmmodels.summarize_transactions`
            (``summary.attrs["time_unit"]``), else ``"unknown"``.

        Returns
        -------
        self

        Raises
        ------
        DataError
            On empty input, unequal lengths, NaN/inf, negative values, or values that
            break the model's rules (non-integer frequency, recency > T, recency != 0
            when frequency is 0, ...).
        SchemaError
            Missing columns, or a ``customer_col`` named explicitly that is missing.
        ArgumentError
            A keyword argument that names no column of the model.
        ConvergenceError
            When the optimiser does not converge (unless ``on_nonconvergence="warn"``).

        Examples
        --------
        >>> from crmmodels.clv import BGNBD
        >>> from crmmodels.datasets import load_cdnow_summary
        >>> m = BGNBD().fit(load_cdnow_summary(), time_unit="weeks")
        >>> m.columns_["T"], m.time_unit_, m.diagnostics_["n_distinct_rows"]
        ('T', 'W', 1016)
        """
        where = f"{type(self).__name__}.fit"
        for key in ("covariates_", "covariate_fit_", "coefficients_"):
            self.__dict__.pop(key, None)  # a refit starts without the previous covariates
        lists = covariate_lists(
            where,
            columns.pop("covariates", None),
            columns.pop("purchase_covariates", None),
            columns.pop("dropout_covariates", None),
        )
        if lists is not None:  # time-invariant covariates: crmmodels.clv._covariates_fit
            from crmmodels.clv._covariates_fit import fit_covariates

            fitted: Self = fit_covariates(
                self,
                summary,
                lists,
                weights=weights,
                weights_col=weights_col,
                customer_col=customer_col,
                time_unit=time_unit,
                columns=columns,
            )
            return fitted
        arrays, names = column_arguments(
            where, self._data_names, self._default_column_names, columns
        )
        meta = fit_columns(summary, names, customer_col, time_unit)
        with engines.counted_rows(weights is None):  # an engine's summary: distinct rows
            data, w, left_out = self._read(where, summary, arrays, weights, weights_col)
            self._fit_arrays(data, w)
        self._record_left_out(left_out)
        self.columns_, self.time_unit_ = meta
        return self

    def _record_left_out(self, left_out: Mapping[str, int]) -> None:
        """Store the counts of rows ``fit`` left out in ``diagnostics_``."""
        self.diagnostics_.update(left_out)

    def score(self, summary: Any = None, y: Any = None, **kwargs: Any) -> float:
        """Mean log-likelihood per customer of ``summary`` under the fitted parameters.

        Higher is better; the penalty is not included. This is the score scikit-learn's
        ``GridSearchCV`` and ``cross_val_score`` maximise (e.g. to choose ``penalizer``).

        Parameters
        ----------
        summary : DataFrame-like, optional
            Customer summary in the layout ``fit`` takes, read by default with the
            columns of the fit (``columns_``).
        y : None
            Ignored (scikit-learn passes ``None``).
        **kwargs
            The keyword arrays, weights and column names ``fit`` accepts.

        Returns
        -------
        float
            ``sum(w * loglik_i) / sum(w)`` over the customers (weights default to 1);
            for :class:`~crmmodels.clv.GammaGamma`, over the customers its ``fit`` uses
            (repeat buyers with a positive mean spend).

        Examples
        --------
        >>> from crmmodels.clv import BGNBD
        >>> m = BGNBD.from_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
        >>> round(m.score(frequency=[0, 2], recency=[0.0, 30.43], T=[38.86, 38.86]), 4)
        -5.0067
        """
        self._check_fitted()
        if summary is not None:  # read a frame with the columns of the fit by default
            for key, col in self.columns_.items():
                if key != "customer" and col is not None:
                    kwargs.setdefault(f"{key}_col", col)
        where = f"{type(self).__name__}.score"
        weights, weights_col = kwargs.pop("weights", None), kwargs.pop("weights_col", None)
        arrays, _ = column_arguments(where, self._data_names, self._default_column_names, kwargs)
        data, w, _ = self._read(where, summary, arrays, weights, weights_col)
        cdata, counts = compress(self._data_names, data, w)
        self._fit_cache = {}
        try:
            ll, _ = self._loglik_grad(self._params_array(), cdata, counts)
        finally:
            self._fit_cache = {}
        return float(ll) / float(counts.sum())

    def _fit_arrays(self, data: Mapping[str, FloatArray], weights: FloatArray | None) -> Self:
        """Compress, maximise the likelihood and set the fitted attributes (:func:`fit_model`).

        ``data`` must already be validated; keys in ``_data_names`` order.
        """
        self._validate_hyperparameters()
        self._fit_cache = {}
        try:
            fit_model(self, data, weights)
            return self
        finally:
            self._fit_cache = {}

    def _degenerate_reason(self, data: dict[str, FloatArray], counts: FloatArray) -> str | None:
        """Why the data cannot identify the model at all (None when they can).

        The default refuses data without a single repeat purchase (a ``frequency``
        column of zeros): the purchase rate then runs to 0 and nothing is left to
        estimate. Models override this for other such data.
        """
        x = data.get("frequency")
        if x is not None and not np.any(x > 0):
            return (
                "no customer made a repeat purchase (frequency is 0 for all "
                f"{float(counts.sum()):g} customers), so the purchase rate runs to 0 and "
                "nothing is left to estimate. Fit on a longer period or more customers."
            )
        return None
