r"""The estimator contract of the CLV models: parameters, hyper-parameters, fitted state.

Contract for a model class
--------------------------
A model *declares*; the base *fits*. A concrete model subclasses
:class:`~crmmodels.clv._fitting.SummaryModel` (an :class:`MLEModel` with the one
``fit``), :class:`~crmmodels.clv._purchase.PurchaseModel` (adds ``predict``) or
:class:`~crmmodels.clv._purchase.RFMModel` (the models fitted on ``frequency``,
``recency``, ``T``) and provides:

``_param_names`` : ``ClassVar[tuple[str, ...]]``
    Parameter names in the papers' notation, in a fixed order (e.g. ``("r", "alpha",
    "a", "b")``). Every parameter is strictly positive and is optimised on the log scale.
``_data_names`` : ``ClassVar[tuple[str, ...]]``
    The summary columns the model reads, by data name, in order (``RFMModel``:
    ``("frequency", "recency", "T")``; BG/BB: ``("frequency", "recency", "n_periods")``;
    Gamma-Gamma: ``("frequency", "monetary_value")``). Each one is a keyword array of
    ``fit`` and has a ``<name>_col`` argument naming its column, by default the name
    itself or the entry of ``_default_column_names`` (BG/BB reads ``n_periods`` from
    ``"periods"``). The first one should be the count ``x``: after compression it comes
    out sorted, so kernels can evaluate terms in ``x`` alone once per distinct ``x``.
``_check_inputs(self, data, weights, where)``
    Checks the model's own rules on the arrays read by ``fit`` and ``score`` (e.g.
    ``recency <= T``) and returns the rows the likelihood uses, the weights, and the
    counts of rows left out (by diagnostics key; empty for most models).
``_loglik_grad(self, params, data, counts)``
    ``params``: natural-scale float array in ``_param_names`` order; ``data``: dict from
    ``_data_names`` to the *compressed* (distinct-row) float arrays; ``counts``: the
    weight of each distinct row. Returns ``(sum(counts * loglik_i), gradient)`` with the
    gradient (float array, same order) with respect to the natural parameters. Pure
    kernel calls; analytic gradient.
``_initial_params(self, data, counts)``
    Natural-scale starting values (float array), used when ``initial_params`` is None.

Optionally ``_log_bounds`` (bounds on the log parameters; default about 1e-10 to 1e10),
``_limits`` (the limiting models, :mod:`crmmodels.clv._limits`) and
``_degenerate_reason``. During one fit ``self._fit_cache`` (a dict, emptied when the
fit ends) may hold work that depends on the data only, e.g. the grouping of rows by
``x`` (see :func:`crmmodels.kernels.bgnbd.prepare`).

Where things live
-----------------
This module: hyper-parameters (validated when ``fit`` runs, scikit-learn convention),
``get_params``/``set_params``, the fitted
attributes (``params_``, ``log_likelihood_``, ``n_customers_``, ``standard_errors_``,
``confidence_intervals_``, ``covariance_``, ``aic_``, ``bic_``, ``diagnostics_``,
``columns_``, ``time_unit_``), ``from_params``, ``summary`` and the ``repr``.
:mod:`crmmodels.clv._inputs` reads and checks the inputs; :mod:`crmmodels.clv._fitting`
holds ``fit`` and ``score`` and the steps of a fit (compress, maximise, search the
limits, standard errors);
:mod:`crmmodels.clv._purchase` holds ``predict`` of the purchase models;
:mod:`crmmodels.clv._persist` the JSON persistence (never pickle).

Standard errors come from the observed information: the Hessian of the (penalised)
negative log-likelihood in natural parameters at the optimum, computed by central
differences of the analytic gradient (:func:`crmmodels.kernels._optim.numeric_hessian`).
The 95% intervals are Wald intervals ``estimate +- 1.96 * se``.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Mapping
from typing import Any, ClassVar, Literal, Self

import numpy as np
import pandas as pd

from crmmodels._ingest.arguments import check_bool, check_choice, check_int, check_number
from crmmodels.clv._inputs import (
    as_float_array,
    unique_rows,
)
from crmmodels.clv._inputs import check as _check
from crmmodels.clv._limits import Limit
from crmmodels.clv._persist import SCHEMA_VERSION, Persistent
from crmmodels.clv._predict import UNKNOWN_UNIT
from crmmodels.errors import ArgumentError, NotFittedError
from crmmodels.kernels._optim import FloatArray

#: ``_check``, ``as_float_array`` and ``unique_rows`` stay importable from here for the
#: modules that import them from this place (they live in :mod:`crmmodels.clv._inputs`)
__all__ = [
    "SCHEMA_VERSION",
    "MLEModel",
    "_check",
    "as_float_array",
    "unique_rows",
]


_Z95 = 1.959963984540054


class MLEModel(Persistent):
    r"""Base of every maximum-likelihood CLV model (see the module docstring).

    Parameters
    ----------
    penalizer : float, default 0.0
        L2 penalty coefficient :math:`\lambda`: the fit minimises the mean negative
        log-likelihood plus :math:`\lambda \sum_j \theta_j^2` over the natural
        parameters :math:`\theta` (the convention of the lifetimes package).
    initial_params : dict of float, optional
        Starting values by parameter name (all of them); default: a model-specific guess.
    n_restarts : int, default 3
        Maximum number of optimiser restarts when a run has not converged.
    tol : float, default 1e-7
        Optimiser tolerance; the fit is converged when L-BFGS-B reports success or the
        gradient sup-norm of the mean objective (log scale) is below ``100 * tol``.
    max_iter : int, default 1000
        Maximum iterations per optimiser run.
    on_nonconvergence : {"raise", "warn"}, default "raise"
        Raise :class:`~crmmodels.errors.ConvergenceError` or emit a ``RuntimeWarning``.
    progress : bool, default False
        Report the fit's steps (data size, each optimiser start, the limit search) on
        standard error; the same messages reach the ``logging`` module under
        ``"crmmodels"`` (see :mod:`crmmodels._progress`).
    """

    _param_names: ClassVar[tuple[str, ...]] = ()
    _data_names: ClassVar[tuple[str, ...]] = ()
    _log_bounds: ClassVar[tuple[tuple[float, float], ...] | None] = None
    #: the limiting models a fit may run into (see :mod:`crmmodels.clv._limits`)
    _limits: ClassVar[tuple[Limit, ...]] = ()
    #: what a parameter running to 0 or infinity means, for error messages
    _divergence_hints: ClassVar[dict[str, str]] = {}
    #: default summary column of a data name, where it differs from the name
    _default_column_names: ClassVar[dict[str, str]] = {}

    #: scratch space a model may use during one fit (emptied when the fit ends)
    _fit_cache: dict[str, Any]

    params_: dict[str, float]
    log_likelihood_: float
    n_customers_: float
    standard_errors_: dict[str, float]
    confidence_intervals_: dict[str, tuple[float, float]]
    covariance_: FloatArray
    aic_: float
    bic_: float
    diagnostics_: dict[str, Any]
    #: summary columns used by ``fit``, by data name, plus ``"customer"`` (the id column)
    columns_: dict[str, str | None]
    #: time unit of the data the model was fitted on (``"unknown"`` when never stated)
    time_unit_: str | int

    def __init__(
        self,
        *,
        penalizer: float = 0.0,
        initial_params: Mapping[str, float] | None = None,
        n_restarts: int = 3,
        tol: float = 1e-7,
        max_iter: int = 1000,
        on_nonconvergence: Literal["raise", "warn"] = "raise",
        progress: bool = False,
    ) -> None:
        self.penalizer = penalizer
        self.initial_params = initial_params
        self.n_restarts = n_restarts
        self.tol = tol
        self.max_iter = max_iter
        self.on_nonconvergence = on_nonconvergence
        self.progress = progress
        self._fit_cache = {}

    # ------------------------------------------------------------------ hooks
    def _loglik_grad(
        self, params: FloatArray, data: dict[str, FloatArray], counts: FloatArray
    ) -> tuple[float, FloatArray]:
        """Return the summed weighted log-likelihood and its natural-scale gradient."""
        raise NotImplementedError

    def _initial_params(self, data: dict[str, FloatArray], counts: FloatArray) -> FloatArray:
        """Return natural-scale starting values."""
        return np.ones(len(self._param_names))

    # ------------------------------------------------------------ state checks
    @property
    def is_fitted(self) -> bool:
        """Whether the model holds parameters (from ``fit``, ``from_params`` or JSON)."""
        return hasattr(self, "params_")

    def _check_fitted(self) -> None:
        if not self.is_fitted:
            raise NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet. Call 'fit' with "
                "appropriate arguments (or build it with 'from_params') before using "
                "this model."
            )

    def _params_array(self) -> FloatArray:
        self._check_fitted()
        return np.array([self.params_[k] for k in self._param_names], dtype=np.float64)

    def _hyperparameters(self) -> dict[str, Any]:
        init = None if self.initial_params is None else dict(self.initial_params)
        return {
            "penalizer": self.penalizer,
            "initial_params": init,
            "n_restarts": self.n_restarts,
            "tol": self.tol,
            "max_iter": self.max_iter,
            "on_nonconvergence": self.on_nonconvergence,
            "progress": self.progress,
        }

    def _validate_hyperparameters(self) -> None:
        name = type(self).__name__
        check_number(self.penalizer, f"{name}: penalizer", low=0.0)
        check_int(self.n_restarts, f"{name}: n_restarts", low=0)
        check_number(self.tol, f"{name}: tol", low=0.0, low_open=True)
        check_int(self.max_iter, f"{name}: max_iter", low=1)
        check_choice(self.on_nonconvergence, f"{name}: on_nonconvergence", ["raise", "warn"])
        check_bool(self.progress, f"{name}: progress")
        if self.initial_params is not None:
            self._check_param_dict(self.initial_params, "initial_params")

    @classmethod
    def _check_param_dict(cls, params: Mapping[str, Any], what: str) -> dict[str, float]:
        name = cls.__name__
        if not isinstance(params, Mapping):
            raise ArgumentError(f"{name}: {what} must be a dict of parameters; got {params!r}.")
        missing = [k for k in cls._param_names if k not in params]
        extra = [k for k in params if k not in cls._param_names]
        if missing or extra:
            raise ArgumentError(
                f"{name}: {what} must give exactly the parameters {list(cls._param_names)}; "
                f"missing {missing}, unexpected {extra}."
            )
        return {
            k: check_number(params[k], f"{name}: {what}['{k}']", low=0.0, low_open=True)
            for k in cls._param_names
        }

    # ------------------------------------------------- scikit-learn interface
    @classmethod
    def _get_param_names(cls) -> list[str]:
        """Names of the constructor's hyper-parameters (keyword arguments of ``__init__``)."""
        sig = inspect.signature(cls.__init__)
        return [
            p.name
            for p in sig.parameters.values()
            if p.name != "self" and p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Hyper-parameters of this model, by name (scikit-learn convention).

        Parameters
        ----------
        deep : bool, default True
            Accepted for scikit-learn; the models hold no nested estimators.

        Returns
        -------
        dict
            Constructor argument name to value, so that ``type(m)(**m.get_params())``
            builds an unfitted copy (this is what ``sklearn.base.clone`` does).

        Examples
        --------
        >>> from crmmodels.clv import BGNBD
        >>> BGNBD(penalizer=0.01).get_params()["penalizer"]
        0.01
        """
        return {k: getattr(self, k) for k in self._get_param_names()}

    def set_params(self, **params: Any) -> Self:
        """Set hyper-parameters by name (scikit-learn convention); returns ``self``.

        Values are validated when ``fit`` runs, as in scikit-learn; fitted attributes
        are kept until the next ``fit``.

        Raises
        ------
        ArgumentError
            For a name that is not a hyper-parameter of this model.

        Examples
        --------
        >>> from crmmodels.clv import BGNBD
        >>> BGNBD().set_params(penalizer=0.1, max_iter=500)
        BGNBD(penalizer=0.1, max_iter=500)
        """
        valid = self._get_param_names()
        for key, value in params.items():
            if key not in valid:
                raise ArgumentError(
                    f"{type(self).__name__}.set_params: unknown hyper-parameter {key!r}; "
                    f"valid names are {valid}."
                )
            setattr(self, key, value)
        return self

    def __sklearn_tags__(self) -> Any:
        """Tags for scikit-learn (only called by scikit-learn, which is then installed)."""
        from sklearn.utils import Tags, TargetTags

        return Tags(estimator_type=None, target_tags=TargetTags(required=False))

    def _set_fitted(
        self,
        params: dict[str, float],
        *,
        log_likelihood: float,
        n_customers: float,
        standard_errors: dict[str, float],
        covariance: FloatArray,
        diagnostics: dict[str, Any],
    ) -> None:
        boundary = diagnostics.get("boundary")
        # a limiting model has fewer free parameters: AIC and BIC count those
        k = len(boundary["free_parameters"]) if boundary else len(self._param_names)
        self.params_ = params
        self.log_likelihood_ = float(log_likelihood)
        self.n_customers_ = float(n_customers)
        self.standard_errors_ = standard_errors
        self.confidence_intervals_ = {
            n: (params[n] - _Z95 * standard_errors[n], params[n] + _Z95 * standard_errors[n])
            for n in self._param_names
        }
        self.covariance_ = covariance
        ll = self.log_likelihood_
        self.aic_ = 2.0 * k - 2.0 * ll
        self.bic_ = (
            k * math.log(self.n_customers_) - 2.0 * ll if self.n_customers_ > 0 else math.nan
        )
        self.diagnostics_ = diagnostics
        self.columns_ = self._default_columns()
        self.time_unit_ = UNKNOWN_UNIT

    @classmethod
    def _default_columns(cls) -> dict[str, str | None]:
        """Summary column of each data name before any fit, and no id column."""
        cols: dict[str, str | None] = {
            k: cls._default_column_names.get(k, k) for k in cls._data_names
        }
        cols["customer"] = None
        return cols

    # ------------------------------------------------------------ constructors
    @classmethod
    def from_params(cls, **params: float) -> Self:
        """Build a fitted model from known parameter values (no data, no fit).

        ``log_likelihood_``, the standard errors, AIC and BIC are NaN and
        ``n_customers_`` is 0 on such a model.

        Raises
        ------
        ArgumentError
            When a parameter is missing, unknown, non-finite, too large for a float or
            not positive.
        """
        clean = cls._check_param_dict(params, "params")
        model = cls()
        k = len(cls._param_names)
        model._set_fitted(
            clean,
            log_likelihood=math.nan,
            n_customers=0.0,
            standard_errors=dict.fromkeys(cls._param_names, math.nan),
            covariance=np.full((k, k), np.nan),
            diagnostics={"source": "from_params"},
        )
        return model

    # ------------------------------------------------------------ reporting
    def summary(self) -> pd.DataFrame:
        """Parameter table: estimate, standard error and 95% Wald interval.

        Returns
        -------
        pandas.DataFrame
            Index: parameter names; columns ``estimate``, ``std_error``, ``lower_95``,
            ``upper_95``.
        """
        self._check_fitted()
        rows = {
            n: {
                "estimate": self.params_[n],
                "std_error": self.standard_errors_[n],
                "lower_95": self.confidence_intervals_[n][0],
                "upper_95": self.confidence_intervals_[n][1],
            }
            for n in self._param_names
        }
        frame = pd.DataFrame.from_dict(rows, orient="index")
        frame.index.name = "parameter"
        return frame

    def __repr__(self) -> str:
        name = type(self).__name__
        if not self.is_fitted:
            hp = self._hyperparameters()
            defaults = MLEModel()._hyperparameters()
            changed = ", ".join(f"{k}={v!r}" for k, v in hp.items() if v != defaults[k])
            return f"{name}({changed})"
        ps = ", ".join(f"{k}={v:.4g}" for k, v in self.params_.items())
        if math.isnan(self.log_likelihood_):
            return f"<{name} (from params): {ps}>"
        n = self.n_customers_
        n_txt = f"{int(n):,}" if float(n).is_integer() else f"{n:.4g}"
        return (
            f"<{name} fitted on {n_txt} customers: {ps}; log-likelihood={self.log_likelihood_:.6g}>"
        )
