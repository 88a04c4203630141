"""Fitters with the lifetimes API, computed by the crmmodels CLV engine.

Every fitter here is a thin adapter: the likelihood, the optimiser, the standard errors
and every prediction come from :mod:`crmmodels.clv` (``BGNBD``, ``MBGNBD``,
``ParetoNBD``, ``BGBB``, ``GammaGamma``). The adapter only translates names, argument
orders, return types and the penalty convention of lifetimes.

Penalty convention reproduced here
----------------------------------
lifetimes minimises, for BG/NBD, MBG/NBD, BG/BB and Gamma-Gamma,

    ``-sum(w * loglik) / sum(w) + penalizer_coef * sum(theta ** 2)``

and for Pareto/NBD ``-sum(w * loglik) / mean(w) + penalizer_coef * sum(theta ** 2)``,
where ``theta`` are the natural parameters *after* the time axis has been rescaled so
that the oldest customer has ``T = 1`` (BG/NBD, MBG/NBD and Pareto/NBD only; the rate
parameters ``alpha`` and ``beta`` are divided back afterwards). The crmmodels base
minimises the mean negative log-likelihood plus ``penalizer * sum(theta ** 2)``, so the
adapters fit the engine on the rescaled time axis with ``penalizer = penalizer_coef``
(divided by the number of rows for Pareto/NBD) and rescale the parameters back.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from scipy.special import betaln

from crmmodels._ingest.arguments import check_int, check_number
from crmmodels.clv import _persist
from crmmodels.clv._base import MLEModel, _check, as_float_array
from crmmodels.clv._bgbb import BGBB
from crmmodels.clv._bgnbd import BGNBD
from crmmodels.clv._gamma_gamma import GammaGamma
from crmmodels.clv._mbgnbd import MBGNBD
from crmmodels.clv._pareto_nbd import ParetoNBD
from crmmodels.errors import DataError, NotFittedError
from crmmodels.kernels import bgnbd as _kbg
from crmmodels.kernels import pareto_nbd as _kpn

__all__ = [
    "BaseFitter",
    "BetaGeoBetaBinomFitter",
    "BetaGeoFitter",
    "GammaGammaFitter",
    "ModifiedBetaGeoFitter",
    "ParetoNBDFitter",
]

_Z = 1.96  # the rounded normal quantile lifetimes uses for its 95% bounds
_FORMAT = "crmmodels.compat.lifetimes"


def _series_index(*values: Any) -> pd.Index | None:
    """Index of the first pandas Series among ``values`` (lifetimes keeps it)."""
    for v in values:
        if isinstance(v, pd.Series):
            return v.index
    return None


def _wrap(result: Any, *inputs: Any) -> Any:
    """Return ``result`` as lifetimes would: a Series when an input is a Series.

    Scalars in give a numpy scalar out; arrays in give an array out.
    """
    arr = np.asarray(result, dtype=np.float64)
    index = _series_index(*inputs)
    if index is not None and arr.ndim == 1 and arr.size == len(index):
        return pd.Series(arr, index=index)
    if arr.ndim == 0:
        return np.float64(arr)
    return arr


class BaseFitter:
    """Shared behaviour of the lifetimes-style fitters (repr, summary, persistence).

    Subclasses set ``_engine`` (the crmmodels model class) and ``_param_names`` (the
    lifetimes parameter order).
    """

    _engine: ClassVar[type[MLEModel]]
    _param_names: ClassVar[tuple[str, ...]]

    penalizer_coef: float
    params_: pd.Series
    data: pd.DataFrame
    variance_matrix_: pd.DataFrame
    standard_errors_: pd.Series
    confidence_intervals_: pd.DataFrame
    model_: MLEModel

    def __init__(self, penalizer_coef: float = 0.0) -> None:
        self.penalizer_coef = penalizer_coef

    # ----------------------------------------------------------------- display
    def __repr__(self) -> str:
        name = type(self).__name__
        subjects = f" fitted with {self.data.shape[0]:d} subjects," if hasattr(self, "data") else ""
        if not hasattr(self, "params_"):
            return f"<lifetimes.{name}>"
        params = ", ".join(f"{k}: {v:.2f}" for k, v in sorted(self.params_.items()))
        return f"<lifetimes.{name}:{subjects} {params}>"

    def _unload_params(self, *args: str) -> list[float]:
        if not hasattr(self, "params_"):
            raise NotFittedError("Model has not been fit yet. Please call the .fit method first.")
        return [float(self.params_[x]) for x in args]

    @property
    def summary(self) -> pd.DataFrame:
        """Parameter table: ``coef``, ``se(coef)``, ``lower 95% bound``, ``upper 95% bound``."""
        self._check_fitted()
        df = pd.DataFrame(index=self.params_.index)
        df["coef"] = self.params_
        df["se(coef)"] = self.standard_errors_
        df["lower 95% bound"] = self.confidence_intervals_["lower 95% bound"]
        df["upper 95% bound"] = self.confidence_intervals_["upper 95% bound"]
        return df

    def _check_fitted(self) -> None:
        if not hasattr(self, "params_"):
            raise NotFittedError(
                f"This {type(self).__name__} is not fitted yet. Call 'fit' (or 'load_model') first."
            )

    def _model(self) -> Any:
        """The engine model holding ``params_`` (rebuilt if ``params_`` was assigned)."""
        self._check_fitted()
        params = {k: float(self.params_[k]) for k in self._param_names}
        model = getattr(self, "model_", None)
        if model is None or model.params_ != {k: params[k] for k in model._param_names}:
            model = self._engine.from_params(**params)
            self.model_ = model
        return model

    # ------------------------------------------------------------------ fitting
    def _engine_kwargs(self, tol: float, kwargs: dict[str, Any]) -> dict[str, Any]:
        check_number(self.penalizer_coef, "penalizer_coef", low=0.0)
        out: dict[str, Any] = {"tol": check_number(tol, "tol", low=0.0, low_open=True)}
        maxiter = kwargs.get("maxiter")
        if maxiter is not None:
            out["max_iter"] = check_int(maxiter, "maxiter", low=1)
        return out

    def _initial(
        self, initial_params: Any, scales: Sequence[float], log_scale: bool
    ) -> dict[str, float] | None:
        """Lifetimes' ``initial_params`` (log or natural, rescaled time) as an engine dict."""
        if initial_params is None:
            return None
        arr = as_float_array(initial_params, "initial_params").ravel()
        if arr.size != len(self._param_names):
            raise DataError(
                f"initial_params must hold {len(self._param_names)} values "
                f"({', '.join(self._param_names)}); got {arr.size}."
            )
        nat = np.exp(arr) if log_scale else arr
        return dict(zip(self._param_names, map(float, nat), strict=True))

    def _store(
        self,
        engine: MLEModel,
        scales: Sequence[float],
        data: pd.DataFrame,
        verbose: bool,
    ) -> None:
        """Rescale the engine's fitted parameters back and set lifetimes' attributes."""
        names = self._param_names
        s = np.asarray(scales, dtype=np.float64)
        fitted = np.array([engine.params_[k] for k in names]) * s
        cov = np.asarray(engine.covariance_, dtype=np.float64)
        order = [engine._param_names.index(k) for k in names]
        cov = cov[np.ix_(order, order)] * np.outer(s, s)
        params = dict(zip(names, map(float, fitted), strict=True))
        model = type(engine).from_params(**params)
        se = np.sqrt(np.clip(np.diag(cov), 0.0, None))
        model._set_fitted(
            {k: params[k] for k in model._param_names},
            log_likelihood=engine.log_likelihood_,
            n_customers=engine.n_customers_,
            standard_errors={k: float(se[names.index(k)]) for k in model._param_names},
            covariance=cov[np.ix_(*[[names.index(k) for k in model._param_names]] * 2)],
            diagnostics=dict(engine.diagnostics_),
        )
        self.model_ = model
        self.params_ = pd.Series(fitted, index=list(names), dtype=np.float64)
        self.data = data
        self._set_inference(cov)
        if verbose:
            print(engine.diagnostics_)

    def _set_inference(self, cov: Any) -> None:
        names = list(self._param_names)
        self.variance_matrix_ = pd.DataFrame(cov, index=names, columns=names)
        self.standard_errors_ = pd.Series(
            np.sqrt(np.clip(np.diag(np.asarray(cov, dtype=np.float64)), 0.0, None)), index=names
        )
        self.confidence_intervals_ = pd.DataFrame(
            {
                "lower 95% bound": self.params_ - _Z * self.standard_errors_,
                "upper 95% bound": self.params_ + _Z * self.standard_errors_,
            },
            index=names,
        )

    # -------------------------------------------------------------- persistence
    def save_model(
        self,
        path: str | Path,
        save_data: bool = True,
        save_generate_data_method: bool = True,
        values_to_save: Any = None,
    ) -> None:
        """Write the fitted model as JSON (never pickle); ``save_data`` keeps ``data``.

        ``save_generate_data_method`` and ``values_to_save`` are accepted for
        compatibility: the data generator is rebuilt from the parameters on load.
        """
        self._model()
        payload: dict[str, Any] = {
            "format": _FORMAT,
            "fitter": type(self).__name__,
            "penalizer_coef": float(self.penalizer_coef),
            "model": self.model_.to_dict(),
            "params": {k: float(v) for k, v in self.params_.items()},
            "variance_matrix": np.asarray(self.variance_matrix_, dtype=np.float64).tolist(),
        }
        if save_data and hasattr(self, "data"):
            payload["data"] = json.loads(self.data.to_json(orient="split"))
        text = json.dumps(payload, indent=1, default=_json_default)
        Path(path).write_text(text, encoding="utf-8")

    def load_model(self, path: str | Path) -> None:
        """Read a model written by :meth:`save_model` (JSON, at most 10 MB; never pickle).

        Every field is validated; ``params`` must agree with the engine model stored
        beside it.

        Raises
        ------
        DataError
            When the file is a lifetimes pickle (dill), not a model of this class, larger
            than 10 MB, not UTF-8 JSON, or has a missing or invalid field (named).
        """
        name = type(self).__name__
        where = f"{name}.load_model"
        if Path(path).stat().st_size <= _persist.MAX_BYTES:
            with Path(path).open("rb") as fh:
                head = fh.read(64)
            if head[:1] == b"\x80" or not head.lstrip()[:1] == b"{":
                raise DataError(
                    f"{where}: {str(path)!r} is not a crmmodels JSON model (it looks like a "
                    "lifetimes pickle/dill file). crmmodels never unpickles files. Refit the "
                    "model on your data, or rebuild it from the fitted parameters, e.g. "
                    f"`{name}().fit(...)` or crmmodels.clv models' `from_params(...)`, then "
                    "call save_model to write JSON."
                )
        payload = _persist.parse_json(_persist.read_text(path, where), where)
        if not isinstance(payload, Mapping):
            raise DataError(f"{where}: the file holds JSON that is not an object.")
        if payload.get("format") != _FORMAT or payload.get("fitter") != name:
            raise DataError(f"{where}: the file holds {payload.get('fitter')!r:.60}, not a {name}.")
        for key in ("model", "params", "variance_matrix"):
            if key not in payload:
                raise DataError(f"{where}: field {key!r} is missing; the file is incomplete.")
        try:
            penalizer = check_number(payload.get("penalizer_coef", 0.0), "penalizer_coef", low=0)
        except DataError as exc:
            raise DataError(f"{where}: field {exc}") from None
        model = self._engine.from_dict(payload["model"])
        params_in = payload["params"]
        if not isinstance(params_in, Mapping):
            raise DataError(f"{where}: field 'params' must be a JSON object.")
        try:
            params = self._engine._check_param_dict(params_in, "params")
        except DataError as exc:
            raise DataError(f"{where}: field 'params': {exc}") from None
        differ = [
            k
            for k in self._param_names
            if not math.isclose(params[k], model.params_[k], rel_tol=1e-9)
        ]
        if differ:
            raise DataError(
                f"{where}: field 'params' disagrees with the model stored in field 'model' "
                f"for {differ} ({differ[0]}: {params[differ[0]]!r} vs "
                f"{model.params_[differ[0]]!r}); the file was edited or is corrupt."
            )
        k = len(self._param_names)
        cov = _persist.check_covariance(
            _nan_to_none(payload["variance_matrix"]), k, "variance_matrix", where
        )
        data = None
        if "data" in payload:
            d = payload["data"]
            try:
                if not isinstance(d, Mapping):
                    raise TypeError("not an object")
                data = pd.DataFrame(d["data"], index=d["index"], columns=d["columns"])
            except (TypeError, ValueError, KeyError) as exc:
                raise DataError(
                    f"{where}: field 'data' must hold 'data', 'index' and 'columns' as "
                    f"written by save_model ({exc})."
                ) from None
        self.penalizer_coef = penalizer
        self.model_ = model
        self.params_ = pd.Series(params, dtype=np.float64)[list(self._param_names)]
        if data is not None:
            self.data = data
        self._set_inference(cov)
        self._after_load()

    def _after_load(self) -> None:
        """Hook for subclasses (e.g. to restore ``predict``)."""


def _whole_counts(values: Any, name: str) -> Any:
    """Integer counts, truncated as lifetimes does; NaN and inf are refused first."""
    arr = np.asarray(as_float_array(values, name))
    _check(arr, ~np.isfinite(arr), name, "is not finite (NaN or inf)")
    return arr.astype(np.int64)


def _nan_to_none(matrix: Any) -> Any:
    """Nested lists with NaN (written by ``json.dumps``) as ``None``, for validation."""
    if isinstance(matrix, list):
        return [_nan_to_none(v) for v in matrix]
    if isinstance(matrix, float) and math.isnan(matrix):
        return None
    return matrix


def _json_default(value: Any) -> Any:
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    return str(value)


class _RFMFitter(BaseFitter):
    """BG/NBD, MBG/NBD and Pareto/NBD: fitted on frequency, recency, T."""

    _rate_params: ClassVar[tuple[str, ...]] = ("alpha",)
    _penalty_per_row: ClassVar[bool] = False
    _log_initial: ClassVar[bool] = True

    def fit(
        self,
        frequency: Any,
        recency: Any,
        T: Any,
        weights: Any = None,
        initial_params: Any = None,
        verbose: bool = False,
        tol: float = 1e-7,
        index: Any = None,
        **kwargs: Any,
    ) -> Any:
        """Fit the model on customer histories (lifetimes' signature).

        Parameters
        ----------
        frequency, recency, T : array_like
            Repeat purchases, time of the last purchase, customer age.
        weights : array_like, optional
            Number of customers each row stands for.
        initial_params : array_like, optional
            Starting values in lifetimes' convention (log parameters on the rescaled time
            axis; natural parameters for Pareto/NBD).
        verbose : bool
            Print the optimiser diagnostics.
        tol : float
            Optimiser tolerance.
        index : array_like, optional
            Index of ``self.data``.
        **kwargs
            ``maxiter`` is honoured; other scipy options are ignored.

        Returns
        -------
        self
        """
        x = _whole_counts(frequency, "frequency").astype(np.float64)
        tx = as_float_array(recency, "recency")
        tt = as_float_array(T, "T")
        w = (
            np.ones(tx.shape[0], dtype=np.int64)
            if weights is None
            else np.asarray(as_float_array(weights, "weights"))
        )
        if tt.size == 0:
            raise DataError("There exists a zero length vector in one of frequency, recency or T.")
        scale = 1.0 / float(np.max(tt))
        scales = [1.0 / scale if k in self._rate_params else 1.0 for k in self._param_names]
        engine_kw = self._engine_kwargs(tol, kwargs)
        lam = float(self.penalizer_coef)
        if self._penalty_per_row:
            lam = lam / float(tx.shape[0])
        engine = self._engine(
            penalizer=lam,
            initial_params=self._initial(initial_params, scales, self._log_initial),
            **engine_kw,
        )
        engine.fit(frequency=x, recency=tx * scale, T=tt * scale, weights=w)  # type: ignore[attr-defined]
        data = pd.DataFrame(
            {"frequency": x.astype(int), "recency": tx, "T": tt, "weights": w}, index=index
        )
        self._store(engine, scales, data, verbose)
        self._after_load()
        return self

    def _after_load(self) -> None:
        self.predict = self.conditional_expected_number_of_purchases_up_to_time

    def generate_new_data(self, size: int = 1, seed: Any = None) -> pd.DataFrame:
        """Simulate ``size`` customers from the fitted model with the fitted ages ``T``.

        lifetimes sets this attribute after ``fit``; ``T`` must hold ``size`` values
        (the default ``size=1`` only works for one fitted customer, as in lifetimes).
        """
        from crmmodels.compat.lifetimes import generate_data as _g

        fn: Any = {
            "BetaGeoFitter": _g.beta_geometric_nbd_model,
            "ModifiedBetaGeoFitter": _g.modified_beta_geometric_nbd_model,
            "ParetoNBDFitter": _g.pareto_nbd_model,
        }[type(self).__name__]
        params = self._unload_params(*self._param_names)
        out: pd.DataFrame = fn(self.data["T"].to_numpy(), *params, size=size, seed=seed)
        return out

    @property
    def _rfm(self) -> Any:
        return self._model()

    def conditional_expected_number_of_purchases_up_to_time(
        self, t: Any, frequency: Any, recency: Any, T: Any
    ) -> Any:
        """Expected repeat purchases in ``(T, T + t]`` given the history (x, t_x, T)."""
        out = self._rfm.conditional_expected_purchases(t, frequency, recency, T)
        return _wrap(out, t, frequency, recency, T)

    def conditional_probability_alive(self, frequency: Any, recency: Any, T: Any) -> Any:
        """Probability that a customer with history (x, t_x, T) is alive at T."""
        out = self._rfm.probability_alive(frequency, recency, T)
        return np.atleast_1d(np.asarray(out, dtype=np.float64))

    def expected_number_of_purchases_up_to_time(self, t: Any) -> Any:
        """Expected repeat purchases of a new customer in ``(0, t]``."""
        return _wrap(self._rfm.expected_purchases(t), t)

    def _alive_kernel(self, x: Any, tx: Any, tt: Any) -> Any:
        raise NotImplementedError

    def conditional_probability_alive_matrix(
        self, max_frequency: int | None = None, max_recency: int | None = None
    ) -> Any:
        """P(alive) with rows recency ``0..max_recency`` and columns frequency.

        Customers have age ``T = max_recency``; lifetimes' defaults (largest observed
        frequency and age) apply.
        """
        self._check_fitted()
        max_frequency = max_frequency or int(self.data["frequency"].max())
        max_recency = max_recency or int(self.data["T"].max())
        tx, x = np.meshgrid(
            np.arange(max_recency + 1, dtype=np.float64),
            np.arange(max_frequency + 1, dtype=np.float64),
            indexing="ij",
        )
        return self._alive_kernel(x, tx, np.full(x.shape, float(max_recency)))


class BetaGeoFitter(_RFMFitter):
    """BG/NBD model with lifetimes' API (``BetaGeoFitter``), computed by ``BGNBD``.

    Parameters
    ----------
    penalizer_coef : float, default 0.0
        L2 penalty on the parameters (lifetimes' convention, see the module docstring).

    Examples
    --------
    >>> from crmmodels.compat.lifetimes import BetaGeoFitter
    >>> from crmmodels.compat.lifetimes.datasets import load_cdnow_summary
    >>> data = load_cdnow_summary(index_col=[0])
    >>> bgf = BetaGeoFitter().fit(data["frequency"], data["recency"], data["T"])
    >>> bgf
    <lifetimes.BetaGeoFitter: fitted with 2357 subjects, a: 0.79, alpha: 4.41, b: 2.43, r: 0.24>
    >>> float(round(bgf.conditional_expected_number_of_purchases_up_to_time(1, 2, 30.43, 38.86), 4))
    0.0374
    """

    _engine: ClassVar[type[MLEModel]] = BGNBD
    _param_names: ClassVar[tuple[str, ...]] = ("r", "alpha", "a", "b")
    _modified: ClassVar[bool] = False

    def _alive_kernel(self, x: Any, tx: Any, tt: Any) -> Any:
        params = np.array(self._unload_params(*self._param_names))
        out = _kbg.probability_alive(params, x, tx, tt, modified=self._modified)
        if not self._modified:
            out = np.where(x == 0, 1.0, out)
        return out

    def probability_of_n_purchases_up_to_time(self, t: Any, n: Any) -> Any:
        """Probability of exactly ``n`` repeat purchases in ``(0, t]`` for a new customer."""
        return _wrap(self._rfm.probability_of_purchases(n, t), t, n)


class ModifiedBetaGeoFitter(BetaGeoFitter):
    """MBG/NBD model with lifetimes' API (``ModifiedBetaGeoFitter``), computed by ``MBGNBD``.

    Examples
    --------
    >>> from crmmodels.compat.lifetimes import ModifiedBetaGeoFitter
    >>> from crmmodels.compat.lifetimes.datasets import load_cdnow_summary
    >>> d = load_cdnow_summary()
    >>> m = ModifiedBetaGeoFitter().fit(d["frequency"], d["recency"], d["T"])
    >>> m  # doctest: +NORMALIZE_WHITESPACE
    <lifetimes.ModifiedBetaGeoFitter: fitted with 2357 subjects, a: 0.89, alpha: 6.18, b: 1.61,
    r: 0.52>
    """

    _engine: ClassVar[type[MLEModel]] = MBGNBD
    _modified: ClassVar[bool] = True


class ParetoNBDFitter(_RFMFitter):
    """Pareto/NBD model with lifetimes' API (``ParetoNBDFitter``), computed by ``ParetoNBD``.

    lifetimes fits this model with Nelder-Mead from random starts and reports no standard
    errors; the adapter uses the engine's gradient-based fit and reports them.

    Examples
    --------
    >>> from crmmodels.compat.lifetimes import ParetoNBDFitter
    >>> from crmmodels.compat.lifetimes.datasets import load_cdnow_summary
    >>> d = load_cdnow_summary()
    >>> m = ParetoNBDFitter().fit(d["frequency"], d["recency"], d["T"])
    >>> m  # doctest: +NORMALIZE_WHITESPACE
    <lifetimes.ParetoNBDFitter: fitted with 2357 subjects, alpha: 10.58, beta: 11.67, r: 0.55, s:
    0.61>
    """

    _engine: ClassVar[type[MLEModel]] = ParetoNBD
    _param_names: ClassVar[tuple[str, ...]] = ("r", "alpha", "s", "beta")
    _rate_params: ClassVar[tuple[str, ...]] = ("alpha", "beta")
    _penalty_per_row: ClassVar[bool] = True
    _log_initial: ClassVar[bool] = False

    def fit(  # type: ignore[override]
        self,
        frequency: Any,
        recency: Any,
        T: Any,
        weights: Any = None,
        iterative_fitting: int = 1,
        initial_params: Any = None,
        verbose: bool = False,
        tol: float = 1e-7,
        index: Any = None,
        fit_method: str = "Nelder-Mead",
        maxiter: int = 2000,
        **kwargs: Any,
    ) -> Any:
        """Fit the Pareto/NBD model (lifetimes' signature).

        ``iterative_fitting`` and ``fit_method`` are accepted and ignored: the engine
        restarts by itself when needed and uses L-BFGS-B with analytic gradients.
        ``initial_params`` are natural parameters on lifetimes' rescaled time axis.
        """
        if iterative_fitting <= 0:
            raise DataError(
                "iterative_fitting parameter should be greater than 0 as of lifetimes v0.2.1"
            )
        kwargs.setdefault("maxiter", max(int(maxiter), 1000))
        return super().fit(
            frequency, recency, T, weights, initial_params, verbose, tol, index, **kwargs
        )

    def _alive_kernel(self, x: Any, tx: Any, tt: Any) -> Any:
        params = np.array(self._unload_params(*self._param_names))
        return _kpn.probability_alive(params, x, tx, tt)

    def conditional_probability_alive(self, frequency: Any, recency: Any, T: Any) -> Any:
        """Probability that a customer with history (x, t_x, T) is alive at T."""
        out = self._rfm.probability_alive(frequency, recency, T)
        return _wrap(out, frequency, recency, T)

    def conditional_probability_of_n_purchases_up_to_time(
        self, n: Any, t: Any, frequency: Any, recency: Any, T: Any
    ) -> Any:
        """Probability of n purchases in the next t for a customer with history (x, t_x, T).

        lifetimes returns 0 for ``t <= 0``; so does this method.
        """
        if np.ndim(t) == 0 and float(t) <= 0:
            return 0
        out = self._rfm.conditional_probability_of_purchases(n, t, frequency, recency, T)
        if all(np.ndim(v) == 0 for v in (n, t, frequency, recency, T)):
            out = out.reshape(())
        return _wrap(out, frequency, recency, T)


class BetaGeoBetaBinomFitter(BaseFitter):
    """BG/BB model with lifetimes' API (``BetaGeoBetaBinomFitter``), computed by ``BGBB``.

    Examples
    --------
    >>> from crmmodels.compat.lifetimes import BetaGeoBetaBinomFitter
    >>> from crmmodels.compat.lifetimes.datasets import load_donations
    >>> d = load_donations()
    >>> m = BetaGeoBetaBinomFitter().fit(d["frequency"], d["recency"], d["periods"], d["weights"])
    >>> m  # doctest: +NORMALIZE_WHITESPACE
    <lifetimes.BetaGeoBetaBinomFitter: fitted with 22 subjects, alpha: 1.20, beta: 0.75, delta:
    2.78, gamma: 0.66>
    """

    _engine: ClassVar[type[MLEModel]] = BGBB
    _param_names: ClassVar[tuple[str, ...]] = ("alpha", "beta", "gamma", "delta")

    def fit(
        self,
        frequency: Any,
        recency: Any,
        n_periods: Any,
        weights: Any = None,
        initial_params: Any = None,
        verbose: bool = False,
        tol: float = 1e-7,
        index: Any = None,
        **kwargs: Any,
    ) -> Any:
        """Fit the BG/BB model (lifetimes' signature; ``initial_params`` are log values).

        Returns
        -------
        self
        """
        x = _whole_counts(frequency, "frequency")
        tx = _whole_counts(recency, "recency")
        n = _whole_counts(n_periods, "n_periods")
        w = np.ones_like(tx) if weights is None else np.asarray(weights)
        engine = BGBB(
            penalizer=check_number(self.penalizer_coef, "penalizer_coef", low=0.0),
            initial_params=self._initial(initial_params, [1.0] * 4, True),
            **self._engine_kwargs(tol, kwargs),
        )
        engine.fit(
            frequency=x.astype(np.float64),
            recency=tx.astype(np.float64),
            n_periods=n.astype(np.float64),
            weights=as_float_array(w, "weights"),
        )
        data = pd.DataFrame(
            {"frequency": x, "recency": tx, "n_periods": n, "weights": w}, index=index
        )
        self._store(engine, [1.0] * 4, data, verbose)
        return self

    @property
    def _bgbb(self) -> BGBB:
        model = self._model()
        assert isinstance(model, BGBB)
        return model

    def conditional_expected_number_of_purchases_up_to_time(
        self, m_periods_in_future: Any, frequency: Any, recency: Any, n_periods: Any
    ) -> Any:
        """Expected transactions in the next ``m_periods_in_future`` opportunities."""
        out = self._bgbb.conditional_expected_purchases(
            m_periods_in_future, frequency, recency, n_periods
        )
        return _wrap(out, m_periods_in_future, frequency, recency, n_periods)

    def conditional_probability_alive(
        self, m_periods_in_future: Any, frequency: Any, recency: Any, n_periods: Any
    ) -> Any:
        """Probability of being alive at opportunity ``n_periods + m_periods_in_future``.

        The engine's P(alive at ``n_periods + 1``) times the posterior probability of
        surviving to ``n + m``, ``B(gamma, delta + n + m) / B(gamma, delta + n + 1)``.
        """
        model = self._bgbb
        alive = model.probability_alive(frequency, recency, n_periods)
        g, d = self.params_["gamma"], self.params_["delta"]
        n = as_float_array(n_periods, "n_periods")
        m = as_float_array(m_periods_in_future, "m_periods_in_future")
        survive = np.exp(betaln(g, d + n + m) - betaln(g, d + n + 1.0))
        return _wrap(alive * survive, m_periods_in_future, frequency, recency, n_periods)

    def expected_number_of_transactions_in_first_n_periods(self, n: Any) -> pd.DataFrame:
        """Expected number of customers with ``x`` transactions in the first ``n`` opportunities.

        Returns
        -------
        pandas.DataFrame
            Index ``frequency`` (the values seen in the data), column ``model``.
        """
        model = self._bgbb
        counts = self.data.groupby("frequency")["weights"].sum()
        x = np.asarray(counts.index, dtype=np.float64)
        prob = model.probability_of_purchases(x, n)
        idx = pd.Index(np.asarray(counts.index), name="frequency")
        return pd.DataFrame(np.asarray(prob) * float(counts.sum()), index=idx, columns=["model"])


class GammaGammaFitter(BaseFitter):
    """Gamma-Gamma spend model with lifetimes' API, computed by ``GammaGamma``.

    Examples
    --------
    >>> from crmmodels.compat.lifetimes import GammaGammaFitter
    >>> from crmmodels.compat.lifetimes.datasets import (
    ...     load_cdnow_summary_data_with_monetary_value)
    >>> d = load_cdnow_summary_data_with_monetary_value()
    >>> r = d[d["frequency"] > 0]
    >>> GammaGammaFitter().fit(r["frequency"], r["monetary_value"])
    <lifetimes.GammaGammaFitter: fitted with 946 subjects, p: 6.25, q: 3.74, v: 15.45>
    """

    _engine: ClassVar[type[MLEModel]] = GammaGamma
    _param_names: ClassVar[tuple[str, ...]] = ("p", "q", "v")

    def fit(
        self,
        frequency: Any,
        monetary_value: Any,
        weights: Any = None,
        initial_params: Any = None,
        verbose: bool = False,
        tol: float = 1e-7,
        index: Any = None,
        q_constraint: bool = False,
        **kwargs: Any,
    ) -> Any:
        """Fit the Gamma-Gamma model (lifetimes' signature).

        ``q_constraint=True`` restricts ``q >= 1`` (a positive population mean).

        Returns
        -------
        self
        """
        x = as_float_array(frequency, "frequency")
        m = as_float_array(monetary_value, "monetary_value")
        if np.any(m <= 0):
            raise DataError(
                "monetary_value: there exist non-positive (<= 0) values; the Gamma-Gamma "
                "model needs positive mean spends (fit on customers with frequency > 0)."
            )
        w = np.ones_like(x, dtype=int) if weights is None else np.asarray(weights)
        cls: type[GammaGamma] = _GammaGammaQ if q_constraint else GammaGamma
        engine = cls(
            penalizer=check_number(self.penalizer_coef, "penalizer_coef", low=0.0),
            initial_params=self._initial(initial_params, [1.0] * 3, True),
            **self._engine_kwargs(tol, kwargs),
        )
        engine.fit(frequency=x, monetary_value=m, weights=as_float_array(w, "weights"))
        data = pd.DataFrame({"monetary_value": m, "frequency": x, "weights": w}, index=index)
        plain = GammaGamma.from_params(**engine.params_)
        plain._set_fitted(
            dict(engine.params_),
            log_likelihood=engine.log_likelihood_,
            n_customers=engine.n_customers_,
            standard_errors=dict(engine.standard_errors_),
            covariance=engine.covariance_,
            diagnostics=dict(engine.diagnostics_),
        )
        self._store(plain, [1.0] * 3, data, verbose)
        return self

    def conditional_expected_average_profit(
        self, frequency: Any = None, monetary_value: Any = None
    ) -> Any:
        """Expected mean transaction value per customer (defaults: the fitted data)."""
        self._check_fitted()
        if monetary_value is None:
            monetary_value = self.data["monetary_value"]
        if frequency is None:
            frequency = self.data["frequency"]
        model = self._model()
        assert isinstance(model, GammaGamma)
        out = model.conditional_expected_spend(frequency, monetary_value)
        return _wrap(out, frequency, monetary_value)

    def customer_lifetime_value(
        self,
        transaction_prediction_model: Any,
        frequency: Any,
        recency: Any,
        T: Any,
        monetary_value: Any,
        time: int = 12,
        discount_rate: float = 0.01,
        freq: str = "D",
    ) -> pd.Series:
        """Lifetimes' CLV: monthly discounted expected purchases times expected spend.

        See :func:`crmmodels.compat.lifetimes.utils.customer_lifetime_value`.
        """
        from crmmodels.compat.lifetimes.utils import _customer_lifetime_value

        spend = self.conditional_expected_average_profit(frequency, monetary_value)
        return _customer_lifetime_value(
            transaction_prediction_model,
            frequency,
            recency,
            T,
            spend,
            time,
            discount_rate,
            freq=freq,
        )


class _GammaGammaQ(GammaGamma):
    """Gamma-Gamma with ``q >= 1`` (lifetimes' ``q_constraint``)."""

    _log_bounds: ClassVar[tuple[tuple[float, float], ...] | None] = (
        (-23.0, 23.0),
        (0.0, 23.0),
        (-23.0, 23.0),
    )
