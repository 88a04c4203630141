"""JSON persistence of the CLV models: writing, and reading with every field validated.

The layout (``schema_version`` 1)::

    {"schema_version": 1, "model": "BGNBD",
     "params": {"r": ..., ...},
     "hyperparameters": {"penalizer": ..., "initial_params": ..., ...},
     "time_unit": "weeks",
     "columns": {"frequency": "frequency", "recency": "recency", "T": "T",
                 "customer": "customer_id"},
     "fit": {"log_likelihood": ..., "n_customers": ...,
             "standard_errors": {"r": ..., ...}, "covariance": [[...], ...],
             "diagnostics": {...}}}

Reading never unpickles and never trusts the file: the text is at most
:data:`MAX_BYTES` (10 MB) of UTF-8 JSON, nested at most :data:`MAX_DEPTH` levels, and
every field is checked (type, finiteness, range, shape; the covariance must be a
symmetric positive semi-definite matrix) before a model is built. A bad field raises
:class:`~crmmodels.errors.DataError` naming it.

``time_unit`` and ``columns`` (the model's ``time_unit_`` and ``columns_``) are optional:
files written before they existed load with the unit ``"unknown"`` and the default
column names.

The models call these functions through their ``to_dict``, ``to_json``, ``from_dict``,
``from_json``, ``save`` and ``load`` methods, which :class:`Persistent` gives them.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

import numpy as np

from crmmodels._ingest.arguments import check_int, check_number
from crmmodels._ingest.periods import check_period
from crmmodels.clv._predict import UNKNOWN_UNIT
from crmmodels.errors import ArgumentError, DataError

if TYPE_CHECKING:
    from crmmodels.clv._base import MLEModel
    from crmmodels.kernels._optim import FloatArray

__all__ = [
    "MAX_BYTES",
    "MAX_DEPTH",
    "SCHEMA_VERSION",
    "Persistent",
    "check_covariance",
    "from_dict",
    "from_json",
    "load",
    "read_text",
    "save",
    "to_dict",
    "to_json",
]

#: version of the JSON layout written by :func:`to_dict`
SCHEMA_VERSION = 1
#: largest model file (or JSON text) that is read: 10 MB
MAX_BYTES = 10 * 1024 * 1024
#: deepest nesting of JSON arrays and objects that is read
MAX_DEPTH = 64

_TOP_KEYS = (
    "schema_version",
    "model",
    "params",
    "hyperparameters",
    "fit",
    "time_unit",
    "columns",
    "covariates",
)
#: longest column name or time unit read from a file
_MAX_NAME = 1000
_FIT_KEYS = ("log_likelihood", "n_customers", "standard_errors", "covariance", "diagnostics")
_COUNT_DIAGNOSTICS = ("n_excluded", "n_no_repeat_excluded", "n_zero_spend_excluded", "n_rows")

M = TypeVar("M", bound="MLEModel")


# ---------------------------------------------------------------- writing
def _json_float(value: float) -> float | None:
    return float(value) if math.isfinite(float(value)) else None


def _plain(value: Any) -> Any:
    """Make a diagnostics value JSON-friendly."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer, int)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return _json_float(float(value))
    if value is None or isinstance(value, str):
        return value
    return str(value)


def to_dict(model: MLEModel) -> dict[str, Any]:
    """JSON-friendly dict of a fitted model: name, schema version, params, fit results.

    Examples
    --------
    >>> from crmmodels.clv import GammaGamma
    >>> d = to_dict(GammaGamma.from_params(p=6.25, q=3.74, v=15.44))
    >>> d["model"], d["params"]["q"], d["fit"]["log_likelihood"]
    ('GammaGamma', 3.74, None)
    """
    model._check_fitted()
    return {
        "schema_version": SCHEMA_VERSION,
        "model": type(model).__name__,
        "params": dict(model.params_),
        "hyperparameters": _plain(model._hyperparameters()),
        "time_unit": model.time_unit_,
        "columns": dict(model.columns_),
        "fit": {
            "log_likelihood": _json_float(model.log_likelihood_),
            "n_customers": _json_float(model.n_customers_),
            "standard_errors": {k: _json_float(v) for k, v in model.standard_errors_.items()},
            "covariance": _plain(model.covariance_.tolist()),
            "diagnostics": _plain(model.diagnostics_),
        },
    } | _covariates_out(model)


def _covariates_out(model: MLEModel) -> dict[str, Any]:
    """The ``covariates`` entry of a model fitted with covariates (else nothing)."""
    fit = getattr(model, "covariate_fit_", None)
    spec = getattr(model, "covariates_", None)
    if fit is None or spec is None:
        return {}
    return {
        "covariates": {
            "spec": spec.to_dict(),
            "theta": _plain(fit.theta.tolist()),
            "covariance": _plain(fit.covariance.tolist()),
        }
    }


def to_json(model: MLEModel, indent: int | None = 2) -> str:
    """JSON text of :func:`to_dict` (no NaN tokens; never pickle)."""
    return json.dumps(to_dict(model), indent=indent, allow_nan=False)


def save(model: MLEModel, path: str | Path) -> None:
    """Write :func:`to_json` to ``path`` as UTF-8."""
    Path(path).write_text(to_json(model), encoding="utf-8")


# ---------------------------------------------------------------- reading
def _fail(where: str, text: str) -> DataError:
    return DataError(f"{where}: {text}")


def _type_name(value: Any) -> str:
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def _mapping(value: Any, field: str, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise _fail(
            where,
            f"field '{field}' must be a JSON object; got {_type_name(value)} ({value!r:.60}).",
        )
    return value


def _only_keys(value: Mapping[str, Any], allowed: tuple[str, ...], field: str, where: str) -> None:
    extra = [k for k in value if k not in allowed]
    if extra:
        raise _fail(
            where,
            f"field '{field}' has unknown entries {extra[:5]}; allowed are {list(allowed)}. "
            "Was the file written by another program or edited by hand?",
        )


def _number(
    value: Any, field: str, where: str, *, low: float | None = None, null: float | None = None
) -> float:
    """A finite number (``None`` gives ``null`` when allowed), else a DataError."""
    if value is None and null is not None:
        return null
    try:
        return check_number(value, f"field '{field}'", low=low)
    except DataError as exc:
        raise _fail(where, str(exc)) from None


def _depth_ok(text: str) -> bool:
    """Whether the JSON text nests arrays/objects at most :data:`MAX_DEPTH` deep.

    A cheap over-estimate: brackets inside strings count too, which only matters for
    files that are not models anyway.
    """
    depth = 0
    for ch in text:
        if ch in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return False
        elif ch in "]}":
            depth -= 1
    return True


def check_covariance(matrix: Any, k: int, field: str, where: str) -> FloatArray:
    """Validate a ``k x k`` covariance given as nested lists (numbers or null for NaN).

    The rows and columns of the parameters whose variance is known (finite) must form a
    symmetric positive semi-definite matrix.

    Examples
    --------
    >>> check_covariance([[1.0, 0.5], [0.5, 2.0]], 2, "fit.covariance", "BGNBD").tolist()
    [[1.0, 0.5], [0.5, 2.0]]
    >>> check_covariance([[1.0, 3.0], [3.0, 1.0]], 2, "fit.covariance", "BGNBD")
    Traceback (most recent call last):
    ...
    crmmodels.errors.DataError: BGNBD: field 'fit.covariance' is not positive semi-definite \
(smallest eigenvalue -2); it cannot be a covariance matrix.
    """
    shape_msg = f"field '{field}' must be a {k} x {k} list of lists of numbers (or null)"
    if not isinstance(matrix, list) or len(matrix) != k:
        raise _fail(where, f"{shape_msg}; got {_type_name(matrix)} ({matrix!r:.60}).")
    rows = []
    for row in matrix:
        if not isinstance(row, list) or len(row) != k:
            raise _fail(where, f"{shape_msg}; a row is {_type_name(row)} ({row!r:.60}).")
        vals = []
        for v in row:
            if v is None:
                vals.append(math.nan)
            elif isinstance(v, (int, float)) and not isinstance(v, bool):
                try:
                    vals.append(float(v))
                except OverflowError:
                    raise _fail(where, f"{shape_msg}; an entry is too large for a float.") from None
            else:
                raise _fail(where, f"{shape_msg}; an entry is {_type_name(v)} ({v!r:.60}).")
        rows.append(vals)
    cov = np.array(rows, dtype=np.float64).reshape(k, k)
    if np.any(np.isinf(cov)):
        raise _fail(where, f"field '{field}' holds an infinite entry.")
    known = np.flatnonzero(np.all(np.isfinite(cov), axis=1) & np.all(np.isfinite(cov), axis=0))
    sub = cov[np.ix_(known, known)]
    if sub.size:
        scale = max(float(np.max(np.abs(sub))), np.finfo(float).tiny)
        if not np.allclose(sub, sub.T, rtol=1e-8, atol=1e-12 * scale):
            raise _fail(where, f"field '{field}' is not symmetric; it cannot be a covariance.")
        smallest = float(np.min(np.linalg.eigvalsh(0.5 * (sub + sub.T))))
        if smallest < -1e-9 * scale:
            raise _fail(
                where,
                f"field '{field}' is not positive semi-definite (smallest eigenvalue "
                f"{smallest:.3g}); it cannot be a covariance matrix.",
            )
    return cov


def _diagnostics(value: Any, where: str) -> dict[str, Any]:
    diag = dict(_mapping(value, "fit.diagnostics", where))
    for key in _COUNT_DIAGNOSTICS:
        if key in diag:
            try:
                diag[key] = check_int(diag[key], f"field 'fit.diagnostics.{key}'", low=0)
            except DataError as exc:
                raise _fail(where, str(exc)) from None
    if "data_range" in diag:
        dr = _mapping(diag["data_range"], "fit.diagnostics.data_range", where)
        _only_keys(dr, ("max_frequency", "max_T"), "fit.diagnostics.data_range", where)
        diag["data_range"] = {
            k: _number(v, f"fit.diagnostics.data_range.{k}", where, low=0.0) for k, v in dr.items()
        }
    return diag


def _name(value: Any, field: str, where: str) -> str:
    if not isinstance(value, str) or not value or len(value) > _MAX_NAME:
        raise _fail(
            where,
            f"field '{field}' must be a non-empty text of at most {_MAX_NAME} characters; "
            f"got {_type_name(value)} ({value!r:.60}).",
        )
    return value


def _time_unit(value: Any, where: str) -> str | int:
    """The ``time_unit`` field: a period code, a number of days, or ``"unknown"``."""
    if value == UNKNOWN_UNIT:
        return UNKNOWN_UNIT
    try:
        return check_period(value, "time_unit", subdaily=True)
    except ArgumentError as exc:
        raise _fail(where, f"field 'time_unit': {exc}") from None


def _columns(value: Any, model: MLEModel, where: str) -> dict[str, str | None]:
    """The ``columns`` field: a known data name (or ``customer``) to a column name."""
    cols = dict(model._default_columns())
    given = _mapping(value, "columns", where)
    _only_keys(given, tuple(cols), "columns", where)
    for key, col in given.items():
        if key == "customer" and col is None:
            cols[key] = None
        else:
            cols[key] = _name(col, f"columns.{key}", where)
    return cols


def from_dict(cls: type[M], payload: Any) -> M:
    """Rebuild a fitted ``cls`` model from :func:`to_dict` output, validating every field.

    Raises
    ------
    DataError
        Naming the first bad field: not an object, unknown entries, a wrong model name
        or schema version, missing/unknown/non-finite/non-positive parameters, invalid
        hyper-parameters, a negative ``n_customers``, a covariance that is not a
        symmetric positive semi-definite ``k x k`` matrix, bad diagnostics.

    Examples
    --------
    >>> from crmmodels.clv import BGNBD
    >>> m = from_dict(BGNBD, {"schema_version": 1, "model": "BGNBD",
    ...                       "params": {"r": 0.24, "alpha": 4.4, "a": 0.79, "b": 2.4}})
    >>> m.params_["b"], m.n_customers_
    (2.4, 0.0)
    """
    name = cls.__name__
    where = f"{name}.from_json"
    if not isinstance(payload, Mapping):
        raise _fail(where, f"expected a JSON object; got {_type_name(payload)} ({payload!r:.60}).")
    _only_keys(payload, _TOP_KEYS, "(top level)", where)
    version = payload.get("schema_version")
    if type(version) is not int or version != SCHEMA_VERSION:
        raise _fail(
            where,
            f"unknown schema_version {version!r}; this version of crmmodels reads "
            f"schema_version {SCHEMA_VERSION}.",
        )
    if payload.get("model") != name:
        raise _fail(
            where,
            f"the JSON holds a {payload.get('model')!r:.60} model, not {name!r}; load it with "
            "that class.",
        )
    if "params" not in payload or not isinstance(payload["params"], Mapping):
        raise _fail(where, "field 'params' is missing or not an object.")
    try:
        clean = cls._check_param_dict(payload["params"], "params")
    except DataError as exc:
        raise _fail(where, f"field 'params': {exc}") from None

    hp = _mapping(payload.get("hyperparameters", {}), "hyperparameters", where)
    _only_keys(hp, tuple(cls._get_param_names()), "hyperparameters", where)
    model = cls(**hp)
    try:
        model._validate_hyperparameters()
    except DataError as exc:
        raise _fail(where, f"field 'hyperparameters': {exc}") from None

    fit = _mapping(payload.get("fit", {}), "fit", where)
    _only_keys(fit, _FIT_KEYS, "fit", where)
    names = cls._param_names
    k = len(names)
    se_in = _mapping(fit.get("standard_errors", {}), "fit.standard_errors", where)
    _only_keys(se_in, names, "fit.standard_errors", where)
    se = {
        p: _number(se_in.get(p), f"fit.standard_errors.{p}", where, low=0.0, null=math.nan)
        for p in names
    }
    cov_in = fit.get("covariance")
    cov = (
        np.full((k, k), np.nan)
        if cov_in is None
        else check_covariance(cov_in, k, "fit.covariance", where)
    )
    model._set_fitted(
        clean,
        log_likelihood=_number(
            fit.get("log_likelihood"), "fit.log_likelihood", where, null=math.nan
        ),
        n_customers=_number(fit.get("n_customers", 0.0), "fit.n_customers", where, low=0.0),
        standard_errors=se,
        covariance=cov,
        diagnostics=_diagnostics(fit.get("diagnostics", {}), where),
    )
    if payload.get("time_unit") is not None:
        model.time_unit_ = _time_unit(payload["time_unit"], where)
    if payload.get("columns") is not None:
        model.columns_ = _columns(payload["columns"], model, where)
    if payload.get("covariates") is not None:
        from crmmodels.clv._covariates_fit import restore_covariates

        cov_in = _mapping(payload["covariates"], "covariates", where)
        _only_keys(cov_in, ("spec", "theta", "covariance"), "covariates", where)
        try:
            restore_covariates(
                model, cov_in, lambda m, k: check_covariance(m, k, "covariates.covariance", where)
            )
        except DataError as exc:
            raise _fail(where, f"field 'covariates': {exc}") from None
    return model


def parse_json(text: Any, where: str) -> Any:
    """Parse model JSON text (``str`` or UTF-8 bytes) with the size and depth limits.

    Examples
    --------
    >>> parse_json('{"a": [1, 2]}', "here")
    {'a': [1, 2]}
    >>> parse_json("[" * 100 + "]" * 100, "here")
    Traceback (most recent call last):
    ...
    crmmodels.errors.DataError: here: the JSON nests deeper than 64 levels; a model file \
never does.
    """
    if isinstance(text, (bytes, bytearray)):
        if len(text) > MAX_BYTES:
            raise _too_large(where, len(text))
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _fail(
                where, f"the text is not UTF-8 ({exc.reason} at byte {exc.start})."
            ) from None
    if not isinstance(text, str):
        raise _fail(where, f"expected JSON text (str); got {type(text).__name__}.")
    if len(text) > MAX_BYTES:
        raise _too_large(where, len(text))
    if not _depth_ok(text):
        raise _fail(
            where, f"the JSON nests deeper than {MAX_DEPTH} levels; a model file never does."
        )
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise _fail(where, f"not valid JSON ({exc}).") from None


def _too_large(where: str, size: int) -> DataError:
    return _fail(
        where,
        f"the model JSON is {size:,} bytes, more than the limit of {MAX_BYTES:,} bytes "
        "(10 MB); a saved model is a few kB. Is this the right file?",
    )


def from_json(cls: type[M], text: Any) -> M:
    """Rebuild a model from :func:`to_json` text (see :func:`from_dict`)."""
    return cls.from_dict(parse_json(text, f"{cls.__name__}.from_json"))


def read_text(path: str | Path, where: str) -> str:
    """Read a model file: at most :data:`MAX_BYTES`, UTF-8, else a DataError."""
    p = Path(path)
    size = p.stat().st_size
    if size > MAX_BYTES:
        raise _too_large(where, size)
    with p.open("rb") as fh:
        raw = fh.read(MAX_BYTES + 1)
    if len(raw) > MAX_BYTES:
        raise _too_large(where, len(raw))
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _fail(
            where, f"{str(path)!r} is not a UTF-8 text file ({exc.reason} at byte {exc.start})."
        ) from None


def load(cls: type[M], path: str | Path) -> M:
    """Read a model written by :func:`save` (size-capped, validated; never pickle)."""
    return from_json(cls, read_text(path, f"{cls.__name__}.load"))


class Persistent:
    """The models' persistence methods (mixed into :class:`~crmmodels.clv._base.MLEModel`)."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly dict: model name, schema version, params, fit results.

        See :mod:`crmmodels.clv._persist` for the layout.
        """
        return to_dict(cast("MLEModel", self))

    def to_json(self, indent: int | None = 2) -> str:
        """Serialise the fitted model to JSON text (never pickle).

        Examples
        --------
        >>> from crmmodels.clv import BGNBD
        >>> text = BGNBD.from_params(r=0.24, alpha=4.4, a=0.79, b=2.4).to_json()
        >>> BGNBD.from_json(text).params_["alpha"]
        4.4
        """
        return to_json(cast("MLEModel", self), indent)

    @classmethod
    def from_dict(cls, payload: Mapping[str, Any]) -> Self:
        """Rebuild a model from :meth:`to_dict` output, validating every field.

        Raises
        ------
        DataError
            Naming the first invalid field (see :func:`from_dict`).
        """
        return cast(Self, from_dict(cast("type[MLEModel]", cls), payload))

    @classmethod
    def from_json(cls, text: str) -> Self:
        """Rebuild a model from :meth:`to_json` text.

        The text may be at most 10 MB (:data:`MAX_BYTES`).

        Raises
        ------
        DataError
            On text that is too large, too deeply nested or not valid JSON, a wrong
            model name, an unknown schema version, or any invalid field.
        """
        return cast(Self, from_json(cast("type[MLEModel]", cls), text))

    def save(self, path: str | Path) -> None:
        """Write :meth:`to_json` to ``path`` (UTF-8)."""
        save(cast("MLEModel", self), path)

    @classmethod
    def load(cls, path: str | Path) -> Self:
        """Read a model written by :meth:`save` (at most 10 MB of UTF-8 JSON; never pickle).

        Raises
        ------
        DataError
            As :meth:`from_json`, and for a file that is larger than 10 MB or not UTF-8.
        """
        return cast(Self, load(cast("type[MLEModel]", cls), path))
