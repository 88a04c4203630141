"""JSON form of a fitted contractual retention model: written and validated on load."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, ClassVar, NamedTuple, Self

import numpy as np
import numpy.typing as npt

from crmmodels._ingest.periods import check_period
from crmmodels.errors import DataError
from crmmodels.retention._contractual_data import SurvivalData, read_survivors

__all__ = ["FORMAT", "JsonPersistence", "Saved", "read_payload", "write_payload"]

#: the format tag of the JSON payload
FORMAT = "crmmodels.contractual/1"


class Saved(NamedTuple):
    """What a payload holds, checked."""

    hyperparameters: dict[str, Any]
    params: dict[str, float]
    standard_errors: dict[str, float]
    covariance: npt.NDArray[np.float64]
    log_likelihood: float
    time_unit: str | int | None
    data: SurvivalData


def _json_float(v: float) -> float | None:
    return None if math.isnan(v) else v


def write_payload(model: str, saved: Saved) -> dict[str, Any]:
    """The JSON-friendly dict of a fitted model (NaN written as null).

    Examples
    --------
    >>> from crmmodels.retention import ShiftedBetaGeometric
    >>> m = ShiftedBetaGeometric().fit([1000, 631, 468])
    >>> sorted(m.to_dict())[:3]
    ['covariance', 'format', 'hyperparameters']
    """
    return {
        "format": FORMAT,
        "model": model,
        "hyperparameters": dict(saved.hyperparameters),
        "params": dict(saved.params),
        "standard_errors": {k: _json_float(v) for k, v in saved.standard_errors.items()},
        "covariance": [[_json_float(v) for v in row] for row in saved.covariance.tolist()],
        "log_likelihood": saved.log_likelihood,
        "time_unit": saved.time_unit,
        "survivors": saved.data.to_dict(),
    }


def read_payload(payload: Any, model: str, param_names: tuple[str, ...]) -> Saved:
    """Check a payload written by :func:`write_payload` for ``model``.

    Raises
    ------
    DataError
        Another format or model, missing or damaged fields, parameters not > 0.
    """
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise DataError(f"not a saved contractual model (expected format {FORMAT!r}).")
    if payload.get("model") != model:
        raise DataError(f"the payload holds a {payload.get('model')!r}; load it with that class.")
    k = len(param_names)
    try:
        params = {n: float(payload["params"][n]) for n in param_names}
        errors = {n: float(payload["standard_errors"].get(n) or math.nan) for n in param_names}
        raw_cov = [[math.nan if v is None else v for v in row] for row in payload["covariance"]]
        cov = np.array(raw_cov, dtype=np.float64).reshape(k, k)
        loglik = float(payload["log_likelihood"])
        data = read_survivors(payload["survivors"])
        hyper = dict(payload["hyperparameters"])
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise DataError(f"the saved contractual model is incomplete or damaged ({exc}).") from None
    if not all(math.isfinite(v) and v > 0 for v in params.values()):
        raise DataError(f"the saved parameters must be finite and > 0; got {params}.")
    unit = payload.get("time_unit")
    return Saved(
        hyper,
        params,
        errors,
        cov,
        loglik,
        None if unit is None else check_period(unit, "time_unit"),
        data,
    )


class JsonPersistence:
    """JSON save and load of a fitted contractual model (mixed into the estimator)."""

    _param_names: ClassVar[tuple[str, ...]] = ()
    params_: dict[str, float]
    standard_errors_: dict[str, float]
    covariance_: npt.NDArray[np.float64]
    log_likelihood_: float
    data_: SurvivalData
    time_unit_: str | int | None

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Hyper-parameters by name (the estimator defines them)."""
        raise NotImplementedError

    def _check_fitted(self) -> None:
        raise NotImplementedError

    def _set_fitted(
        self,
        params: dict[str, float],
        errors: dict[str, float],
        cov: npt.NDArray[np.float64],
        loglik: float,
        data: SurvivalData,
        unit: str | int | None,
    ) -> None:
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly parameters, errors, data and settings (see :meth:`from_dict`).

        Examples
        --------
        >>> from crmmodels.retention import ShiftedBetaGeometric
        >>> m = ShiftedBetaGeometric().fit([1000, 631, 468, 382, 326, 289, 262, 241])
        >>> m.to_dict()["params"] == m.params_
        True
        """
        self._check_fitted()
        saved = Saved(
            self.get_params(), self.params_, self.standard_errors_, self.covariance_,
            self.log_likelihood_, self.time_unit_, self.data_,
        )  # fmt: skip
        return write_payload(type(self).__name__, saved)

    @classmethod
    def from_dict(cls, payload: dict[str, Any]) -> Self:
        """Rebuild a fitted model from :meth:`to_dict` (validated; cohort labels as text).

        Raises
        ------
        DataError
            A payload of another format or model, or with bad parameters.

        Examples
        --------
        >>> from crmmodels.retention import ShiftedBetaGeometric
        >>> m = ShiftedBetaGeometric().fit([1000, 631, 468, 382, 326, 289, 262, 241])
        >>> ShiftedBetaGeometric.from_dict(m.to_dict()).params_ == m.params_
        True
        """
        saved = read_payload(payload, cls.__name__, cls._param_names)
        try:
            model = cls(**saved.hyperparameters)
        except TypeError as exc:
            raise DataError(f"the saved hyper-parameters are damaged ({exc}).") from None
        model._set_fitted(
            saved.params, saved.standard_errors, saved.covariance, saved.log_likelihood,
            saved.data, saved.time_unit,
        )  # fmt: skip
        return model

    def save(self, path: str | Path) -> None:
        """Write the fitted model as JSON (:meth:`to_dict`) to ``path``.

        Examples
        --------
        >>> from crmmodels.retention import ShiftedBetaGeometric
        >>> m = ShiftedBetaGeometric().fit([1000, 631, 468, 382, 326, 289, 262, 241])
        >>> import pathlib, tempfile
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "sbg.json"
        >>> m.save(path)
        >>> ShiftedBetaGeometric.load(path).params_ == m.params_
        True
        """
        Path(path).write_text(json.dumps(self.to_dict(), indent=1), encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> Self:
        """Read a model written by :meth:`save`.

        Examples
        --------
        See :meth:`save`.
        """
        try:
            payload = json.loads(Path(path).read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise DataError(f"{path} is not JSON ({exc}).") from None
        return cls.from_dict(payload)
