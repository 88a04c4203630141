r"""Base classes of the CLV models: one small maximum-likelihood engine.

Contract for a model class
--------------------------
A model *declares*; this module *fits*. A concrete model subclasses :class:`MLEModel`
(or :class:`RFMModel` for the models fitted on ``frequency``, ``recency``, ``T``) and
provides:

``_param_names`` : ``ClassVar[tuple[str, ...]]``
    Parameter names in the papers' notation, in a fixed order (e.g. ``("r", "alpha",
    "a", "b")``). Every parameter is strictly positive and is optimised on the log scale.
``_data_names`` : ``ClassVar[tuple[str, ...]]``
    Names of the data arrays the likelihood reads, in order (``RFMModel`` sets
    ``("frequency", "recency", "T")``). The first one should be the count ``x``: after
    compression it comes out sorted, so kernels can evaluate terms in ``x`` alone once per
    distinct ``x`` (:func:`crmmodels.kernels._optim.distinct` takes a linear fast path).
``_loglik_grad(self, params, data, counts)``
    ``params``: natural-scale float array in ``_param_names`` order; ``data``: dict from
    ``_data_names`` to the *compressed* (distinct-row) float arrays; ``counts``: the
    weight of each distinct row. Returns ``(sum(counts * loglik_i), gradient)`` with the
    gradient (float array, same order) with respect to the natural parameters. Pure
    kernel calls; analytic gradient.
``_initial_params(self, data, counts)``
    Natural-scale starting values (float array), used when ``initial_params`` is None.

Optionally ``_log_bounds`` (bounds on the log parameters; default about 1e-10 to 1e10).
During one fit ``self._fit_cache`` (a dict, emptied when the fit ends) may hold work that
depends on the data only, e.g. the grouping of rows by ``x`` (see
:func:`crmmodels.kernels.bgnbd.prepare`).

Helpers for model files: :func:`as_float_array` (array-likes to float arrays with a
``DataError`` on non-numeric input), ``_check(values, mask, name, problem, fix)`` (raise
the standard ``DataError`` message for the masked rows), :func:`unique_rows` (hash-based
distinct rows plus inverse, to evaluate expensive predictions once per distinct input),
``RFMModel._validate_rfm`` and ``RFMModel._horizon``.

A model's own ``fit`` validates its inputs and calls :meth:`MLEModel._fit_arrays`
(``RFMModel.fit`` already does this for ``frequency``/``recency``/``T`` models; a model
with other inputs, e.g. BG/BB with ``n_periods``, writes a ``fit`` that gathers its
columns with :meth:`MLEModel._gather` and validates them, then calls ``_fit_arrays``).
Predictions start with ``self._check_fitted()`` and read ``self.params_`` (dict) or
``self._params_array()``.

What the base provides
----------------------
* hyper-parameters in ``__init__`` only: ``penalizer``, ``initial_params``,
  ``n_restarts``, ``tol``, ``max_iter``, ``on_nonconvergence`` (``"raise"``/``"warn"``),
  validated when ``fit`` runs with :mod:`crmmodels._ingest.arguments` (scikit-learn
  convention); :meth:`MLEModel.get_params`, :meth:`MLEModel.set_params` and
  :meth:`MLEModel.score` (mean log-likelihood per customer) so that ``sklearn.base.clone``,
  ``GridSearchCV`` and pipelines work. ``score`` reads its input through the model's
  ``_inputs`` hook (the gathering and validation half of ``fit``);
* compression of identical rows to distinct rows with counts (weights multiply counts);
* L-BFGS-B on the log-parameter scale with restarts and diagnostics
  (:func:`crmmodels.kernels._optim.maximize_loglik`), :class:`~crmmodels.errors.ConvergenceError`
  or a ``RuntimeWarning`` when the fit does not converge;
* fitted attributes ``params_``, ``log_likelihood_``, ``n_customers_``,
  ``standard_errors_``, ``confidence_intervals_``, ``covariance_``, ``aic_``, ``bic_``,
  ``diagnostics_``; :meth:`MLEModel.summary`, a readable ``repr``;
* :meth:`MLEModel.from_params`, and JSON persistence (:meth:`MLEModel.to_json`,
  :meth:`MLEModel.from_json`, :meth:`MLEModel.save`, :meth:`MLEModel.load`) with a
  schema version, implemented in :mod:`crmmodels.clv._persist` (every field validated
  on load, files of at most 10 MB); never pickle.

Standard errors come from the observed information: the Hessian of the (penalised)
negative log-likelihood in natural parameters at the optimum, computed by central
differences of the analytic gradient (:func:`crmmodels.kernels._optim.numeric_hessian`).
The 95% intervals are Wald intervals ``estimate +- 1.96 * se``.
"""

from __future__ import annotations

import datetime as dt
import inspect
import math
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, ClassVar, Literal, Self

import narwhals.stable.v2 as nw
import numpy as np
import pandas as pd

from crmmodels._frames import check_columns, collect, to_narwhals
from crmmodels._ingest.arguments import check_bool, check_choice, check_int, check_number
from crmmodels._progress import Progress
from crmmodels.clv import _persist
from crmmodels.clv._limits import Limit, Solution, looks_like_boundary, search_limits
from crmmodels.clv._persist import SCHEMA_VERSION
from crmmodels.clv._predict import (
    AUTO_ID,
    UNKNOWN_UNIT,
    check_predict_args,
    customer_column,
    interval_columns,
    read_frame,
    resolve_time_unit,
    result_frame,
    split_arguments,
    summary_frame,
)
from crmmodels.errors import (
    ArgumentError,
    BoundaryWarning,
    ConvergenceError,
    DataError,
    NotFittedError,
    bad_rows_message,
    warn,
)
from crmmodels.kernels._optim import (
    FloatArray,
    IntArray,
    describe_status,
    maximize_loglik,
    numeric_hessian,
    single_thread_blas,
)

__all__ = [
    "SCHEMA_VERSION",
    "MLEModel",
    "PurchaseModel",
    "RFMModel",
    "as_float_array",
    "unique_rows",
]


_Z95 = 1.959963984540054
#: largest frequency x recency grid the matrix methods build
_MAX_GRID_CELLS = 10_000_000


_DATE_HINT = (
    "The models take numbers in one time unit, not dates or durations: build the summary "
    "with crmmodels.summarize_transactions, or convert the column to numbers first (e.g. "
    "days: `(T / pd.Timedelta(days=1))`, or `.dt.total_days()` in polars)."
)


def _is_temporal(arr: np.ndarray[Any, Any]) -> bool:
    """Whether an array holds dates, datetimes or durations (numpy or Python objects)."""
    if arr.dtype.kind in "mM":
        return True
    if arr.dtype == object and arr.size:
        first = next((v for v in arr.ravel()[:1000] if v is not None), None)
        return isinstance(first, (dt.date, dt.timedelta, np.datetime64, np.timedelta64))
    return False


def as_float_array(value: Any, name: str) -> FloatArray:
    """Convert an array-like (list, numpy, pandas/polars Series) to a float array.

    Raises :class:`DataError` when the values are not numeric, in particular for dates,
    datetimes and durations (a Timedelta column would otherwise become nanoseconds).

    Examples
    --------
    >>> as_float_array([1, 2], "frequency").tolist()
    [1.0, 2.0]
    """
    series = nw.from_native(value, series_only=True, pass_through=True)
    if isinstance(series, nw.Series):
        _check_column_values(series, name)
    if hasattr(value, "to_numpy") and not isinstance(value, np.ndarray):
        value = value.to_numpy()
    raw = value if isinstance(value, np.ndarray) else None
    if raw is None and isinstance(value, (list, tuple, dt.date, dt.timedelta, np.generic)):
        try:
            raw = np.asarray(value)
        except (TypeError, ValueError):
            raw = None
    if raw is not None and _is_temporal(raw):
        raise DataError(
            f"'{name}' holds dates or durations (dtype {raw.dtype}), not numbers. {_DATE_HINT}"
        )
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError, OverflowError) as exc:
        raise DataError(f"'{name}' must be numeric; got {type(value).__name__}.") from exc
    return arr


def _check_column_values(series: Any, col: str) -> None:
    """Reject a date/duration column and report nulls as missing (narwhals Series).

    NaN in a NumPy float column of pandas is left to the finiteness checks ("not
    finite"); real nulls (polars, pyarrow, pandas nullable dtypes) are "missing (null)".
    """
    if series.dtype.is_temporal():
        raise DataError(
            f"column '{col}' holds dates or durations ({series.dtype}), not numbers. {_DATE_HINT}"
        )
    n_null = int(series.null_count())
    if n_null and series.implementation.is_pandas_like():
        dtype = series.to_native().dtype
        if isinstance(dtype, np.dtype) and dtype.kind == "f":
            n_null = 0  # NumPy floats: NaN is the only marker, reported as not finite
    if n_null:
        raise DataError(
            bad_rows_message(
                col,
                "is missing (null)",
                n_null,
                None,
                "Every customer needs a value: fill the gaps (or rebuild the summary with "
                "crmmodels.summarize_transactions) before calling the model.",
            )
        )


def _broadcast(arrays: Mapping[str, FloatArray]) -> list[FloatArray]:
    """Broadcast named arrays together, or raise :class:`DataError` naming their shapes.

    Examples
    --------
    >>> import numpy as np
    >>> [a.tolist() for a in _broadcast({"t": np.array(1.0), "x": np.array([1.0, 2.0])})]
    [[1.0, 1.0], [1.0, 2.0]]
    """
    try:
        return list(np.broadcast_arrays(*arrays.values()))
    except ValueError:
        shapes = ", ".join(f"{k} {np.shape(v)}" for k, v in arrays.items())
        raise DataError(
            f"the inputs must have equal lengths (or be single values); got shapes {shapes}. "
            "Pass one value per customer, or a single value to use for every customer."
        ) from None


def _first(values: FloatArray, mask: Any) -> object:
    idx = np.flatnonzero(np.asarray(mask).ravel())
    return float(np.ravel(values)[idx[0]]) if idx.size else None


def _check(values: FloatArray, mask: Any, name: str, problem: str, fix: str = "") -> None:
    n_bad = int(np.count_nonzero(mask))
    if n_bad:
        raise DataError(bad_rows_message(name, problem, n_bad, _first(values, mask), fix))


def _factorize_rows(columns: list[FloatArray]) -> tuple[IntArray, IntArray]:
    """Row codes (0..k-1 in order of first appearance) and each code's first row.

    Hash-based and linear time: each column is factorised and the codes are combined
    column by column.
    """
    n = columns[0].size
    key = np.zeros(n, dtype=np.int64)
    for col in columns:
        codes, uniques = pd.factorize(col)
        combined = key * np.int64(len(uniques)) + codes.astype(np.int64)
        key, _ = pd.factorize(combined)
        key = key.astype(np.int64)
    n_unique = int(key.max()) + 1 if n else 0
    first = np.empty(n_unique, dtype=np.int64)
    first[key[::-1]] = np.arange(n - 1, -1, -1, dtype=np.int64)
    return key, first


def _compress(
    columns: list[FloatArray], weights: FloatArray | None
) -> tuple[list[FloatArray], FloatArray]:
    """Distinct rows with summed weights, sorted by the first column (hash-based, O(n)).

    Same result as :func:`crmmodels.kernels._optim.compress_rows` up to the order of rows
    sharing a first-column value, in linear time. When the last column alone already has
    more distinct values than half the rows (continuous-time data), compressing cannot pay
    off and the rows are only sorted by the first column (duplicates then stay separate
    rows, which leaves the likelihood unchanged).
    """
    n = columns[0].size
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)
    if n > 10_000 and pd.unique(columns[-1]).size > n // 2:
        # continuous-time data: rows are (almost) all distinct, so only sort by x
        order = np.argsort(columns[0], kind="stable")
        keep = w[order] > 0
        return [c[order][keep] for c in columns], w[order][keep]
    key, first = _factorize_rows(columns)
    counts = np.bincount(key, weights=w, minlength=first.size).astype(np.float64)
    order = np.argsort(columns[0][first], kind="stable")
    rows = first[order]
    counts = counts[order]
    keep = counts > 0
    return [c[rows][keep] for c in columns], counts[keep]


def unique_rows(columns: list[FloatArray]) -> tuple[list[FloatArray], IntArray]:
    """Distinct rows of equal-length 1-D arrays and the inverse index (hash-based).

    Examples
    --------
    >>> import numpy as np
    >>> u, inv = unique_rows([np.array([1.0, 2.0, 1.0]), np.array([5.0, 5.0, 5.0])])
    >>> [c.tolist() for c in u], inv.tolist()
    ([[1.0, 2.0], [5.0, 5.0]], [0, 1, 0])
    """
    flat = [np.asarray(c, dtype=np.float64).ravel() for c in columns]
    key, first = _factorize_rows(flat)
    return [c[first] for c in flat], key


def _newton_polish(
    loglik: Callable[[FloatArray], tuple[float, FloatArray]],
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


class MLEModel:
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

    def _inputs(
        self, summary: Any, *args: Any, **kwargs: Any
    ) -> tuple[dict[str, FloatArray], FloatArray | None]:
        """Gather and validate the fit inputs (same arguments as ``fit``)."""
        raise NotImplementedError

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
            The keyword arrays and column names ``fit`` accepts.

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
        data, w = self._inputs(summary, **kwargs)
        names = self._data_names
        cols, counts = _compress([np.asarray(data[k], dtype=np.float64) for k in names], w)
        cdata = dict(zip(names, cols, strict=True))
        self._fit_cache = {}
        try:
            ll, _ = self._loglik_grad(self._params_array(), cdata, counts)
        finally:
            self._fit_cache = {}
        return float(ll) / float(counts.sum())

    # ------------------------------------------------------------ data intake
    @classmethod
    def _gather(
        cls,
        summary: Any,
        arrays: Mapping[str, tuple[str, Any]],
        weights: Any = None,
        weights_col: str | None = None,
    ) -> tuple[dict[str, FloatArray], FloatArray | None]:
        """Collect the input columns from a frame or from keyword arrays.

        Parameters
        ----------
        summary : DataFrame-like or None
            Any narwhals-supported frame; when given, keyword arrays must be None.
        arrays : mapping
            ``data name -> (column name in summary, keyword array or None)``.
        weights, weights_col :
            Keyword weights array, or the name of a weights column in ``summary``.

        Returns
        -------
        (dict of float arrays, weights array or None)
        """
        name = cls.__name__
        given = [k for k, (_, arr) in arrays.items() if arr is not None]
        out: dict[str, FloatArray] = {}
        w: FloatArray | None = None
        if summary is not None:
            if given:
                raise DataError(
                    f"{name}.fit: pass either a summary frame or keyword arrays, not both "
                    f"(got the frame and {given})."
                )
            frame = to_narwhals(summary, what="summary")
            cols = [col for col, _ in arrays.values()]
            if weights_col is not None:
                cols.append(weights_col)
            check_columns(frame, cols, what="summary")
            df = collect(frame.select(cols))
            for col in cols:
                _check_column_values(df[col], col)
            for key, (col, _) in arrays.items():
                out[key] = as_float_array(df[col].to_numpy(), col)
            if weights_col is not None:
                w = as_float_array(df[weights_col].to_numpy(), weights_col)
            if weights is not None:
                if weights_col is not None:
                    raise DataError(f"{name}.fit: give weights or weights_col, not both.")
                w = as_float_array(weights, "weights")
        else:
            missing = [k for k, (_, arr) in arrays.items() if arr is None]
            if missing:
                raise DataError(
                    f"{name}.fit: give a summary frame or all of the keyword arrays "
                    f"{list(arrays)}; missing {missing}."
                )
            for key, (_, arr) in arrays.items():
                out[key] = as_float_array(arr, key)
            if weights is not None:
                w = as_float_array(weights, "weights")
        for key, arr in out.items():
            if arr.ndim != 1:
                raise DataError(f"'{key}' must be one-dimensional; got shape {arr.shape}.")
        lengths = {k: a.size for k, a in out.items()}
        if w is not None:
            if w.ndim != 1:
                raise DataError(f"'weights' must be one-dimensional; got shape {w.shape}.")
            lengths["weights"] = w.size
        if len(set(lengths.values())) > 1:
            raise DataError(f"{name}.fit: inputs must have equal lengths; got {lengths}.")
        if next(iter(lengths.values())) == 0:
            raise DataError(f"{name}.fit: the input is empty (0 rows); nothing to fit.")
        for key, arr in out.items():
            _check(arr, ~np.isfinite(arr), key, "is not finite (NaN or inf)")
        if w is not None:
            _check(w, ~np.isfinite(w), "weights", "is not finite (NaN or inf)")
            _check(w, w < 0, "weights", "is negative")
            if not w.sum() > 0:
                raise DataError(f"{name}.fit: the weights sum to 0; nothing to fit.")
        return out, w

    # -------------------------------------------------------------------- fit
    def _fit_arrays(self, data: Mapping[str, FloatArray], weights: FloatArray | None) -> Self:
        """Compress, maximise the likelihood and set the fitted attributes.

        ``data`` must already be validated; keys in ``_data_names`` order.
        """
        self._validate_hyperparameters()
        self._fit_cache = {}
        try:
            return self._fit_compressed(data, weights)
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

    def _solver(
        self, n_obs: float, lam: float, report: Progress | None = None
    ) -> Callable[..., Solution]:
        """One maximum-likelihood run with curvature: the optimiser, Hessian, Newton polish."""
        tol, max_iter, n_restarts = float(self.tol), int(self.max_iter), int(self.n_restarts)

        def on_start(start: int, loglik: float, gradient_norm: float) -> None:
            if report is not None and report.active:
                report.info(
                    "optimiser start %d: log-likelihood %.10g, gradient norm %.3g",
                    start,
                    loglik,
                    gradient_norm,
                )

        def solve(
            loglik: Callable[[FloatArray], tuple[float, FloatArray]], start: FloatArray
        ) -> Solution:
            def neg_grad(p: FloatArray) -> FloatArray:
                return -np.asarray(loglik(p)[1]) + 2.0 * lam * n_obs * p

            res = maximize_loglik(
                loglik,
                start,
                n_obs=n_obs,
                penalizer=lam,
                log_bounds=self._log_bounds if start.size == len(self._param_names) else None,
                n_restarts=n_restarts,
                tol=tol,
                max_iter=max_iter,
                callback=on_start,
            )
            hess = numeric_hessian(neg_grad, res.params)
            k = res.params.size
            cov = np.full((k, k), np.nan)
            hessian_ok = False
            params, ll_best = res.params, res.loglik
            if np.all(np.isfinite(hess)):
                try:
                    inv_chol = np.linalg.inv(np.linalg.cholesky(hess))
                    cov = inv_chol.T @ inv_chol
                    hessian_ok = True
                except np.linalg.LinAlgError:
                    pass
            diagnostics = dict(res.diagnostics)
            if hessian_ok and res.converged:
                params, ll_best, n_polish = _newton_polish(
                    loglik, neg_grad, params, cov, lam, n_obs
                )
                diagnostics["newton_steps"] = n_polish
                if n_polish:
                    g_log = neg_grad(params) * params / n_obs
                    diagnostics["gradient_norm"] = float(np.max(np.abs(g_log)))
            return Solution(params, float(ll_best), cov, hessian_ok, res.converged, diagnostics)

        return solve

    def _fit_compressed(self, data: Mapping[str, FloatArray], weights: FloatArray | None) -> Self:
        started = time.perf_counter()
        name = type(self).__name__
        names = self._data_names
        cols, counts = _compress([np.asarray(data[k], dtype=np.float64) for k in names], weights)
        cdata = dict(zip(names, cols, strict=True))
        n_obs = float(counts.sum())
        if n_obs < 2.0:
            raise ConvergenceError(
                f"{name} cannot be fitted on a single customer (total weight {n_obs:g}): "
                "the model describes how customers differ, which one customer cannot show. "
                "Fit on more customers, or build the model with 'from_params'.",
                {"reason": "single_customer", "n_customers": n_obs},
            )
        reason = self._degenerate_reason(cdata, counts)
        if reason is not None:
            raise ConvergenceError(f"{name} cannot be fitted: {reason}", {"reason": reason})
        if self.initial_params is not None:
            init = self._check_param_dict(self.initial_params, "initial_params")
            start = np.array([init[k] for k in self._param_names])
        else:
            start = np.asarray(self._initial_params(cdata, counts), dtype=np.float64)

        def loglik(p: FloatArray) -> tuple[float, FloatArray]:
            return self._loglik_grad(p, cdata, counts)

        lam = float(self.penalizer)
        with (
            Progress(f"{name}.fit", enabled=self.progress, logger=__name__) as report,
            single_thread_blas(),
        ):
            report.info("%.10g customers in %d distinct rows", n_obs, counts.size)
            sol = self._solver(n_obs, lam, report)(loglik, start)
            boundary = None
            if lam == 0.0 and self._limits and looks_like_boundary(sol):
                report.info("no interior maximum found: fitting the limiting models")
                solve = self._solver(n_obs, lam)
                boundary = search_limits(loglik, self._param_names, self._limits, sol, solve, n_obs)
        diagnostics = dict(sol.diagnostics)
        diagnostics["optimizer_message"] = diagnostics.get("message", "")
        diagnostics["message"] = describe_status(diagnostics["optimizer_message"])
        if boundary is not None:
            sol = boundary.solution
            diagnostics["converged"] = True
            diagnostics["boundary"] = boundary.to_dict(self._param_names)
            warn(
                f"{name} fit reached a limiting model: {boundary.describe(self._param_names)}. "
                "Predictions use that limit; see diagnostics_['boundary'].",
                BoundaryWarning,
            )
        elif not sol.converged:
            msg = (
                f"{name} fit did not converge: {diagnostics['message']} (gradient norm "
                f"{diagnostics['gradient_norm']:.3g} after {diagnostics['iterations']} "
                f"iterations and {diagnostics['n_starts']} starts)."
                f"{_diverging(self._param_names, sol.params, self._divergence_hints)} Try "
                "other initial_params, more "
                "n_restarts or a small penalizer, or check the data."
            )
            if self.on_nonconvergence == "raise":
                raise ConvergenceError(msg, diagnostics)
            warn(msg, RuntimeWarning)
        k = len(self._param_names)
        se = (
            np.sqrt(np.clip(np.diag(sol.covariance), 0.0, None))
            if sol.hessian_ok
            else np.full(k, np.nan)
        )
        diagnostics.update(
            {
                "hessian_positive_definite": sol.hessian_ok,
                "n_rows": int(next(iter(data.values())).size),
                "n_distinct_rows": int(counts.size),
                "fit_seconds": time.perf_counter() - started,
            }
        )
        self._set_fitted(
            dict(zip(self._param_names, map(float, sol.params), strict=True)),
            log_likelihood=sol.loglik,
            n_customers=n_obs,
            standard_errors=dict(zip(self._param_names, map(float, se), strict=True)),
            covariance=sol.covariance,
            diagnostics=diagnostics,
        )
        return self

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

    @staticmethod
    def _fit_meta(
        summary: Any, columns: Mapping[str, str], customer_col: Any, time_unit: Any
    ) -> tuple[dict[str, str | None], str | int]:
        """``columns_`` and ``time_unit_`` of a fit, validated before the fit runs."""
        unit = resolve_time_unit(summary, time_unit)
        cols: dict[str, str | None] = {k: str(v) for k, v in columns.items()}
        cols["customer"] = customer_column(summary, customer_col)
        return cols, unit

    def _customer_column(self, summary: Any, customer_col: Any) -> str | None:
        """The id column for a prediction: as asked, else the one of the fit, else the default."""
        if customer_col is AUTO_ID and self.columns_.get("customer") is not None:
            names = summary_frame(self, summary, "predict").collect_schema().names()
            if self.columns_["customer"] in names:
                return self.columns_["customer"]
        return customer_column(summary, customer_col)

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

    # ------------------------------------------------------------ persistence
    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly dict: model name, schema version, params, fit results.

        See :mod:`crmmodels.clv._persist` for the layout.
        """
        return _persist.to_dict(self)

    def to_json(self, indent: int | None = 2) -> str:
        """Serialise the fitted model to JSON text (never pickle).

        Examples
        --------
        >>> from crmmodels.clv import BGNBD
        >>> text = BGNBD.from_params(r=0.24, alpha=4.4, a=0.79, b=2.4).to_json()
        >>> BGNBD.from_json(text).params_["alpha"]
        4.4
        """
        return _persist.to_json(self, indent)

    @classmethod
    def from_dict(cls, payload: Mapping[str, Any]) -> Self:
        """Rebuild a model from :meth:`to_dict` output, validating every field.

        Raises
        ------
        DataError
            Naming the first invalid field (see :func:`crmmodels.clv._persist.from_dict`).
        """
        return _persist.from_dict(cls, payload)

    @classmethod
    def from_json(cls, text: str) -> Self:
        """Rebuild a model from :meth:`to_json` text.

        The text may be at most 10 MB (:data:`crmmodels.clv._persist.MAX_BYTES`).

        Raises
        ------
        DataError
            On text that is too large, too deeply nested or not valid JSON, a wrong
            model name, an unknown schema version, or any invalid field.
        """
        return _persist.from_json(cls, text)

    def save(self, path: str | Path) -> None:
        """Write :meth:`to_json` to ``path`` (UTF-8)."""
        _persist.save(self, path)

    @classmethod
    def load(cls, path: str | Path) -> Self:
        """Read a model written by :meth:`save` (at most 10 MB of UTF-8 JSON; never pickle).

        Raises
        ------
        DataError
            As :meth:`from_json`, and for a file that is larger than 10 MB or not UTF-8.
        """
        return _persist.load(cls, path)


class PurchaseModel(MLEModel):
    """Base of the models of purchases (BG/NBD, MBG/NBD, Pareto/NBD, BG/BB): ``predict``."""

    def _check_horizon(self, horizon: Any) -> float:
        return check_number(horizon, "horizon", low=0.0)

    def _validated_history(
        self, frequency: Any, recency: Any, age: Any
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Validate one model's three history arrays (broadcast float arrays)."""
        raise NotImplementedError

    def _history_args(
        self, method: str, args: tuple[Any, ...], names: tuple[str, ...], lead: int = 0
    ) -> tuple[list[Any], FloatArray, FloatArray, FloatArray]:
        """Leading arguments and the validated history, from arrays or a summary frame."""
        self._check_fitted()
        leading, (frequency, recency, age) = split_arguments(self, method, args, names, lead)
        x, tx, tt = self._validated_history(frequency, recency, age)
        return leading, x, tx, tt

    def predict(
        self,
        summary: Any,
        *,
        horizon: float,
        pmf: int | None = None,
        interval: float | None = None,
        customer_col: str | None = AUTO_ID,
        n_draws: int = 200,
        seed: int = 0,
    ) -> Any:
        """Per-customer predictions on a summary frame: one row per input customer.

        Parameters
        ----------
        summary : DataFrame-like
            Customer summary on any engine, with the columns the model was fitted with
            (``columns_``; the defaults for a model built with ``from_params``).
        horizon : float
            Length of the prediction period after each customer's ``T``, in the model's
            time unit (``time_unit_``); whole periods for BG/BB.
        pmf : int, optional
            Also give ``p_0`` ... ``p_<pmf>``: the probability of exactly k purchases
            over the horizon (models with ``conditional_probability_of_purchases``).
        interval : float, optional
            Level (e.g. 0.9) of per-customer intervals from parameter uncertainty:
            adds ``<column>_lower`` and ``<column>_upper`` for ``p_alive`` and
            ``expected_purchases`` (NaN when the model has no covariance, e.g. built
            with ``from_params``).
        customer_col : str or None, default "customer_id"
            Key column carried into the result: the id column of the fit when the
            summary has it, else ``"customer_id"`` when present; a column named
            explicitly must exist; None: no key.
        n_draws, seed : int
            Parameter draws for ``interval`` and their seed.

        Returns
        -------
        DataFrame-like
            The key, ``p_alive``, ``expected_purchases``, then the optional columns, one
            row per input row in input order. pandas, polars (eager or lazy) and pyarrow
            inputs give the same kind back; DuckDB, Dask and PySpark inputs give pandas.
            A pandas result states the time unit and horizon in ``attrs``.

        Raises
        ------
        ArgumentError
            A non-frame ``summary``, or a bad ``horizon``, ``pmf``, ``interval``,
            ``n_draws`` or ``seed``.
        SchemaError
            Missing columns.
        DataError
            Invalid histories.

        Examples
        --------
        >>> import pandas as pd
        >>> from crmmodels.clv import BGNBD
        >>> bg = BGNBD.from_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
        >>> s = pd.DataFrame({"customer_id": ["a", "b"], "frequency": [0, 2],
        ...                   "recency": [0.0, 30.43], "T": [38.86, 38.86]})
        >>> bg.predict(s, horizon=39).round(3)
          customer_id  p_alive  expected_purchases
        0           a    1.000               0.195
        1           b    0.727               1.226
        """
        self._check_fitted()
        frame = summary_frame(self, summary, "predict")
        h = self._check_horizon(horizon)
        k = None if pmf is None else check_int(pmf, "pmf", low=0, high=1000)
        level, draws, rng_seed = check_predict_args(interval, n_draws, seed)
        if k is not None and not hasattr(self, "conditional_probability_of_purchases"):
            raise ArgumentError(
                f"{type(self).__name__}.predict: pmf is not available for this model (it "
                "has no conditional probability of purchases); leave pmf=None."
            )
        id_col = self._customer_column(summary, customer_col)
        data, collected = read_frame(self, frame, id_col)
        hist = [data[name] for name in self._data_names]
        me: Any = self  # the subclasses define the prediction methods
        columns: dict[str, FloatArray] = {
            "p_alive": me.probability_alive(*hist),
            "expected_purchases": me.conditional_expected_purchases(h, *hist),
        }
        if level is not None:
            columns.update(
                interval_columns(
                    self,
                    hist,
                    {
                        "p_alive": lambda m, *u: m.probability_alive(*u),
                        "expected_purchases": lambda m, *u: m.conditional_expected_purchases(h, *u),
                    },
                    level,
                    draws,
                    rng_seed,
                )
            )
        if k is not None:
            counts = np.arange(k + 1, dtype=np.float64)[None, :]
            probs = me.conditional_probability_of_purchases(counts, h, *(a[:, None] for a in hist))
            for j in range(k + 1):
                columns[f"p_{j}"] = np.asarray(probs[:, j], dtype=np.float64)
        attrs = {"time_unit": self.time_unit_, "horizon": h}
        return result_frame(frame, collected, id_col, columns, attrs)


class RFMModel(PurchaseModel):
    """Base of the models fitted on ``frequency`` (x), ``recency`` (t_x) and ``T``.

    Subclasses (BG/NBD, MBG/NBD, Pareto/NBD) implement ``_loglik_grad``,
    ``_initial_params``, ``probability_alive`` and ``conditional_expected_purchases``;
    this class provides ``fit`` with validation and the matrices used for plotting.
    """

    _data_names: ClassVar[tuple[str, ...]] = ("frequency", "recency", "T")

    def fit(
        self,
        summary: Any = None,
        y: Any = None,
        *,
        frequency: Any = None,
        recency: Any = None,
        T: Any = None,
        weights: Any = None,
        frequency_col: str = "frequency",
        recency_col: str = "recency",
        T_col: str = "T",
        weights_col: str | None = None,
        customer_col: str | None = AUTO_ID,
        time_unit: str | None = None,
    ) -> Self:
        """Fit the model by maximum likelihood.

        Parameters
        ----------
        summary : DataFrame-like, optional
            Customer summary (any narwhals-supported frame, e.g. from
            ``summarize_transactions``) with columns ``frequency_col``, ``recency_col``
            and ``T_col``. Alternatively pass the keyword arrays.
        y : None
            Ignored; accepted so that scikit-learn pipelines can call ``fit(X, y)``.
        frequency, recency, T : array-like, optional
            Repeat purchases x (integers >= 0), time of the last purchase t_x and length
            of observation T (same time unit, ``0 <= t_x <= T``; ``t_x = 0`` when x = 0).
        weights : array-like, optional
            Number of customers each row stands for (default 1 each).
        frequency_col, recency_col, T_col, weights_col : str
            Column names in ``summary``; remembered in ``columns_`` so that the
            prediction methods and :meth:`predict` read a summary frame the same way.
        customer_col : str or None, default "customer_id"
            Id column of ``summary``, remembered in ``columns_["customer"]`` and used
            as the key of :meth:`predict`. The default is used when the summary has it;
            a column named explicitly must exist.
        time_unit : str, optional
            Time unit of ``recency`` and ``T`` (e.g. ``"weeks"``), stored in
            ``time_unit_``. By default it is read from a pandas summary made by
            :func:`crmmodels.summarize_transactions` (``summary.attrs["time_unit"]``),
            else ``"unknown"``.

        Returns
        -------
        self

        Raises
        ------
        DataError
            On empty input, unequal lengths, NaN/inf, negative values, non-integer
            frequency, recency > T, or recency != 0 when frequency is 0.
        SchemaError
            Missing columns, or a ``customer_col`` named explicitly that is missing.
        ConvergenceError
            When the optimiser does not converge (unless ``on_nonconvergence="warn"``).
        """
        meta = self._fit_meta(
            summary,
            {"frequency": frequency_col, "recency": recency_col, "T": T_col},
            customer_col,
            time_unit,
        )
        data, w = self._inputs(
            summary,
            frequency=frequency,
            recency=recency,
            T=T,
            weights=weights,
            frequency_col=frequency_col,
            recency_col=recency_col,
            T_col=T_col,
            weights_col=weights_col,
        )
        self._fit_arrays(data, w)
        self.columns_, self.time_unit_ = meta
        return self

    def _inputs(
        self,
        summary: Any = None,
        *,
        frequency: Any = None,
        recency: Any = None,
        T: Any = None,
        weights: Any = None,
        frequency_col: str = "frequency",
        recency_col: str = "recency",
        T_col: str = "T",
        weights_col: str | None = None,
    ) -> tuple[dict[str, FloatArray], FloatArray | None]:
        data, w = self._gather(
            summary,
            {
                "frequency": (frequency_col, frequency),
                "recency": (recency_col, recency),
                "T": (T_col, T),
            },
            weights,
            weights_col,
        )
        self._validate_rfm(data["frequency"], data["recency"], data["T"])
        return data, w

    @staticmethod
    def _validate_rfm(
        frequency: FloatArray, recency: FloatArray, T: FloatArray, *, t_name: str = "T"
    ) -> None:
        """Raise :class:`DataError` for invalid (x, t_x, T) values (arrays broadcast)."""
        x, tx, tt = np.broadcast_arrays(frequency, recency, T)
        for arr, nm in ((x, "frequency"), (tx, "recency"), (tt, t_name)):
            _check(arr, ~np.isfinite(arr), nm, "is not finite (NaN or inf)")
            _check(arr, arr < 0, nm, "is negative")
        _check(
            x,
            x != np.round(x),
            "frequency",
            "is not an integer",
            "frequency counts repeat purchases.",
        )
        _check(
            tx,
            tx > tt * (1 + 1e-12) + 1e-12,
            "recency",
            f"is larger than {t_name}",
            f"recency (time of the last purchase) must lie in [0, {t_name}].",
        )
        _check(
            tx,
            (x == 0) & (tx != 0),
            "recency",
            "is not 0 although frequency is 0",
            "customers without repeat purchases have recency 0.",
        )

    def _rfm_arrays(
        self, frequency: Any, recency: Any, T: Any
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Validate prediction inputs and return broadcast float arrays."""
        x, tx, tt = _broadcast(
            {
                "frequency": as_float_array(frequency, "frequency"),
                "recency": as_float_array(recency, "recency"),
                "T": as_float_array(T, "T"),
            }
        )
        self._validate_rfm(x, tx, tt)
        return x, tx, tt

    def _validated_history(
        self, frequency: Any, recency: Any, age: Any
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        return self._rfm_arrays(frequency, recency, age)

    @staticmethod
    def _horizon(t: Any, name: str = "t") -> FloatArray:
        arr = as_float_array(t, name)
        _check(arr, ~np.isfinite(arr), name, "is not finite (NaN or inf)")
        _check(arr, arr < 0, name, "is negative")
        return arr

    # prediction hooks implemented by the subclasses
    def probability_alive(self, frequency: Any, recency: Any = None, T: Any = None) -> FloatArray:
        """Probability that a customer with history (x, t_x, T) is still alive at T."""
        raise NotImplementedError

    def conditional_expected_purchases(
        self, t: Any, frequency: Any = None, recency: Any = None, T: Any = None
    ) -> FloatArray:
        """Expected purchases in (T, T + t] given the history (x, t_x, T)."""
        raise NotImplementedError

    def probability_alive_matrix(
        self, max_frequency: int | None = None, max_recency: float | None = None, T: float = 0.0
    ) -> FloatArray:
        """P(alive) on a grid of frequency (rows, 0..max_frequency) x recency (columns).

        Recency runs over ``0, 1, ..., max_recency`` (whole time units); cells with
        recency > T get NaN. ``T`` defaults to ``max_recency``; without arguments the
        grid spans the data the model was fitted on.

        Returns
        -------
        ndarray of shape (max_frequency + 1, floor(max_recency) + 1)
        """
        x, tx, tt = self._grid(max_frequency, max_recency, T)
        out = np.full(x.shape, np.nan)
        ok = (tx <= tt) & ~((x == 0) & (tx > 0))
        out[ok] = self.probability_alive(x[ok], tx[ok], tt[ok])
        return out

    def frequency_recency_matrix(
        self,
        t: float = 1.0,
        max_frequency: int | None = None,
        max_recency: float | None = None,
        T: float = 0.0,
    ) -> FloatArray:
        """Conditional expected purchases in the next ``t`` on a frequency x recency grid.

        Same grid as :meth:`probability_alive_matrix`.

        Returns
        -------
        ndarray of shape (max_frequency + 1, floor(max_recency) + 1)
        """
        x, tx, tt = self._grid(max_frequency, max_recency, T)
        out = np.full(x.shape, np.nan)
        ok = (tx <= tt) & ~((x == 0) & (tx > 0))
        out[ok] = self.conditional_expected_purchases(t, x[ok], tx[ok], tt[ok])
        return out

    def _grid(
        self, max_frequency: int | None, max_recency: float | None, T: float
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        self._check_fitted()
        stats = self.diagnostics_.get("data_range", {})
        if max_frequency is None:
            max_frequency = int(stats.get("max_frequency", 20))
        if max_recency is None:
            max_recency = float(stats.get("max_T", 40.0))
        max_frequency = check_int(max_frequency, "max_frequency", low=0)
        max_recency = check_number(max_recency, "max_recency", low=0.0)
        T = check_number(T, "T", low=0.0)
        if not T:
            T = float(max_recency)
        cells = (max_frequency + 1) * (math.floor(max_recency) + 1)
        if cells > _MAX_GRID_CELLS:
            raise ArgumentError(
                f"the frequency x recency grid would have {cells:,} cells (max_frequency="
                f"{max_frequency}, max_recency={max_recency:g}), more than "
                f"{_MAX_GRID_CELLS:,}; pass smaller max_frequency and max_recency."
            )
        fr = np.arange(max_frequency + 1, dtype=np.float64)
        rc = np.arange(math.floor(max_recency) + 1, dtype=np.float64)
        x, tx = np.meshgrid(fr, rc, indexing="ij")
        return x, tx, np.full(x.shape, float(T))

    def _fit_arrays(self, data: Mapping[str, FloatArray], weights: FloatArray | None) -> Self:
        super()._fit_arrays(data, weights)
        self.diagnostics_["data_range"] = {
            "max_frequency": float(np.max(data["frequency"])),
            "max_T": float(np.max(data["T"])),
        }
        return self
