"""JSON form of a fitted contractual retention model: written and validated on load."""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from crmmodels._ingest.periods import check_period
from crmmodels.errors import DataError
from crmmodels.retention._contractual_data import SurvivalData, read_survivors

__all__ = ["FORMAT", "Saved", "read_payload", "write_payload"]

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
