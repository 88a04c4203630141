"""The shared base of the lifetimes-style fitters: display, inference and JSON persistence."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from crmmodels._ingest.arguments import check_int, check_number
from crmmodels.clv import _persist
from crmmodels.clv._base import MLEModel, _check, as_float_array
from crmmodels.errors import DataError, NotFittedError

__all__ = ["BaseFitter"]

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


class UnfittedParamsError(NotFittedError, ValueError):
    """Parameters were read from a fitter that has none (a ``ValueError`` in lifetimes)."""


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
        data = getattr(self, "data", None)
        shape = getattr(data, "shape", None)
        subjects = f" fitted with {int(shape[0]):d} subjects," if shape else ""
        if not hasattr(self, "params_"):
            return f"<lifetimes.{name}>"
        params = ", ".join(f"{k}: {v:.2f}" for k, v in sorted(self.params_.items()))
        return f"<lifetimes.{name}:{subjects} {params}>"

    def _unload_params(self, *args: str) -> list[float]:
        """The fitted values of the named parameters, in that order.

        Raises
        ------
        UnfittedParamsError
            (a ``NotFittedError`` and a ``ValueError``, as in lifetimes) before ``fit``.
        """
        if not hasattr(self, "params_"):
            raise UnfittedParamsError(
                "Model has not been fit yet. Please call the .fit method first."
            )
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
        model = self._engine.from_params(**params)
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
        """Write the fitter as JSON (never pickle), as lifetimes' ``save_model`` does with dill.

        ``save_data=False`` stores the first of ``values_to_save`` (default ``None``) in
        place of ``data``; ``save_generate_data_method=False`` stores the next one in place
        of ``generate_new_data`` (the method itself is rebuilt from the parameters on
        load). Placeholders must be JSON values (``None``, text, numbers, booleans). An
        unfitted fitter is saved too, and loads unfitted.
        """
        payload: dict[str, Any] = {
            "format": _FORMAT,
            "fitter": type(self).__name__,
            "penalizer_coef": float(self.penalizer_coef),
        }
        placeholders = _placeholders(save_data, save_generate_data_method, values_to_save)
        if not hasattr(self, "params_"):
            text = json.dumps(payload, indent=1)
            Path(path).write_text(text, encoding="utf-8")
            return
        self._model()
        payload["model"] = self.model_.to_dict()
        payload["params"] = {k: float(v) for k, v in self.params_.items()}
        payload["variance_matrix"] = np.asarray(self.variance_matrix_, dtype=np.float64).tolist()
        for key in ("_scale", "_negative_log_likelihood_"):
            if key in self.__dict__:
                payload[key] = float(self.__dict__[key])
        data = self.__dict__.get("data")
        if "data" in placeholders:
            payload["data_placeholder"] = placeholders["data"]
        elif isinstance(data, pd.DataFrame):
            payload["data"] = json.loads(data.to_json(orient="split"))
        if "generate_new_data" in placeholders:
            payload["generate_new_data_placeholder"] = placeholders["generate_new_data"]
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
        if not any(key in payload for key in ("model", "params", "variance_matrix")):
            self.penalizer_coef = _checked_penalizer(payload, where)
            return
        for key in ("model", "params", "variance_matrix"):
            if key not in payload:
                raise DataError(f"{where}: field {key!r} is missing; the file is incomplete.")
        penalizer = _checked_penalizer(payload, where)
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
        extras = {}
        for key in ("_scale", "_negative_log_likelihood_"):
            if key in payload:
                try:
                    extras[key] = check_number(payload[key], key)
                except DataError as exc:
                    raise DataError(f"{where}: field {exc}") from None
        self.penalizer_coef = penalizer
        self.model_ = model
        self.params_ = pd.Series(params, dtype=np.float64)[list(self._param_names)]
        self.__dict__.update(extras)
        if data is not None:
            self.data = data
        elif "data_placeholder" in payload:
            self.data = _placeholder(payload["data_placeholder"], "data_placeholder", where)
        self._set_inference(cov)
        self._after_load()
        if "generate_new_data_placeholder" in payload:
            value = payload["generate_new_data_placeholder"]
            self.__dict__["generate_new_data"] = _placeholder(
                value, "generate_new_data_placeholder", where
            )

    def _after_load(self) -> None:
        """Hook for subclasses (e.g. to restore ``predict``)."""


_JSON_SCALARS = (str, int, float, bool, type(None))


def _placeholders(save_data: bool, save_method: bool, values: Any) -> dict[str, Any]:
    """The values stored instead of ``data`` / ``generate_new_data`` (lifetimes' rule).

    lifetimes pairs ``values_to_save`` with the list ``[data?, generate_new_data?]``, in
    that order, whatever is excluded; a missing value means ``None``.
    """
    names = ["data", "generate_new_data"]
    excluded = [not save_data, not save_method]
    given = [None, None] if values is None else list(values)
    out: dict[str, Any] = {}
    for name, skip, value in zip(names, excluded, given, strict=False):
        if not skip:
            continue
        if not isinstance(value, _JSON_SCALARS):
            raise DataError(
                f"values_to_save: the value stored in place of {name!r} must be None, text, "
                f"a number or a boolean (models are saved as JSON); got {type(value).__name__}."
            )
        out[name] = value
    return out


def _placeholder(value: Any, field: str, where: str) -> Any:
    if not isinstance(value, _JSON_SCALARS):
        raise DataError(f"{where}: field {field!r} must be null, text, a number or a boolean.")
    return value


def _checked_penalizer(payload: Mapping[str, Any], where: str) -> float:
    try:
        return check_number(payload.get("penalizer_coef", 0.0), "penalizer_coef", low=0)
    except DataError as exc:
        raise DataError(f"{where}: field {exc}") from None


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
