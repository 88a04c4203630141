"""Predictions on summary frames: reading a frame with a model's columns, one row per customer.

The models' prediction methods accept either arrays or a customer summary frame (any
narwhals-supported engine); the frame is read with the column names the model was fitted
with (``columns_``). ``predict`` returns one row per input customer, in input order,
keyed by the customer id column when the summary has one, in the caller's kind of frame:
pandas, polars and pyarrow in, the same kind out; DuckDB, Dask, PySpark and lazy polars
inputs are scored on their engine, batch by batch (:mod:`crmmodels.engines`), and the
same engine's frame comes back.

Intervals come from parameter uncertainty: parameters are drawn from the asymptotic
normal distribution of the log parameters (:func:`draw_models`, also used by
:func:`crmmodels.clv.customer_equity`), the prediction is recomputed for each draw on
the distinct histories, and the per-customer percentile interval is reported.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import narwhals.stable.v2 as nw
import numpy as np
import pandas as pd

from crmmodels._ingest.arguments import check_column_name, check_int, check_level
from crmmodels._ingest.frames import to_narwhals
from crmmodels._ingest.periods import check_period
from crmmodels.clv._inputs import read_columns, unique_rows
from crmmodels.errors import ArgumentError, SchemaError, missing_column_message
from crmmodels.kernels._optim import FloatArray

__all__ = [
    "AUTO_ID",
    "DefaultName",
    "as_frame",
    "draw_models",
    "interval_columns",
    "resolve_time_unit",
    "result_frame",
]


class DefaultName(str):
    """The default id column: used when present, not required."""

    __slots__ = ()


#: the default customer id column
AUTO_ID = DefaultName("customer_id")
#: time unit of a model that was never told its unit
UNKNOWN_UNIT = "unknown"


def as_frame(value: Any) -> nw.DataFrame[Any] | nw.LazyFrame[Any] | None:
    """The narwhals frame behind ``value``, or None for arrays, Series and scalars.

    Examples
    --------
    >>> import pandas as pd
    >>> as_frame(pd.DataFrame({"a": [1]})) is not None, as_frame([1, 2]) is None
    (True, True)
    """
    if isinstance(value, (nw.DataFrame, nw.LazyFrame)):
        return value
    if value is None or isinstance(value, (np.ndarray, np.generic, list, tuple, int, float)):
        return None
    out = nw.from_native(value, pass_through=True)
    return out if isinstance(out, (nw.DataFrame, nw.LazyFrame)) else None


def resolve_time_unit(summary: Any, time_unit: Any) -> str | int:
    """The time unit stated by the caller, else the summary's, else ``"unknown"``.

    A time unit is a period of :mod:`crmmodels._ingest.periods` (``"D"``, ``"W"``,
    ``"M"``, ``"Q"``, ``"Y"`` or a whole number of days). A pandas summary from
    :func:`crmmodels.summarize_transactions` carries its unit in
    ``DataFrame.attrs["time_unit"]``; other engines have no such place, so pass
    ``time_unit`` to ``fit``.

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.DataFrame({"T": [1.0]})
    >>> s.attrs["time_unit"] = "W"
    >>> resolve_time_unit(s, None), resolve_time_unit(s, "days"), resolve_time_unit(None, None)
    ('W', 'D', 'unknown')
    """
    if time_unit is not None:
        return check_period(time_unit, "time_unit", subdaily=True)
    attrs = getattr(summary, "attrs", None)
    if isinstance(attrs, Mapping):
        unit = attrs.get("time_unit")
        if unit is not None:
            return check_period(unit, 'summary.attrs["time_unit"]', subdaily=True)
    return UNKNOWN_UNIT


def customer_column(summary: Any, customer_col: Any) -> str | None:
    """The id column of ``summary`` to carry (None when there is none).

    The default ``"customer_id"`` is used when present; a column named explicitly must
    exist (:class:`~crmmodels.errors.SchemaError` otherwise); None means no id.
    """
    if summary is None or customer_col is None:
        return None
    name = check_column_name(customer_col, "customer_col")
    present = list(to_narwhals(summary, what="summary").collect_schema().names())
    if name in present:
        return name
    if isinstance(customer_col, DefaultName):
        return None
    raise SchemaError(
        missing_column_message(name, present, "summary")
        + " Pass customer_col=None for a summary without ids."
    )


def fit_columns(
    summary: Any, columns: Mapping[str, str], customer_col: Any, time_unit: Any
) -> tuple[dict[str, str | None], str | int]:
    """``columns_`` and ``time_unit_`` of a fit, validated before the fit runs.

    Examples
    --------
    >>> fit_columns(None, {"frequency": "f"}, "customer_id", "weeks")
    ({'frequency': 'f', 'customer': None}, 'W')
    """
    unit = resolve_time_unit(summary, time_unit)
    cols: dict[str, str | None] = {k: str(v) for k, v in columns.items()}
    cols["customer"] = customer_column(summary, customer_col)
    return cols, unit


def prediction_customer_column(model: Any, summary: Any, customer_col: Any) -> str | None:
    """The id column of a prediction: as asked, else the one of the fit, else the default."""
    fitted = model.columns_.get("customer")
    if customer_col is AUTO_ID and fitted is not None:
        names = summary_frame(model, summary, "predict").collect_schema().names()
        if fitted in names:
            return str(fitted)
    return customer_column(summary, customer_col)


def split_arguments(
    model: Any, method: str, args: Sequence[Any], names: Sequence[str], lead: int
) -> tuple[list[Any], list[Any]]:
    """Split a prediction call into its leading arguments and the per-customer inputs.

    ``args`` are the call's arguments named ``names``: ``lead`` leading ones (a horizon,
    a count) and then one per data column of the model. A summary frame may stand first
    or in place of the first data column; its columns (``model.columns_``) then give the
    data, and the other data arguments must be left out.
    """
    where = f"{type(model).__name__}.{method}"
    data_names = list(names[lead:])
    frames = [i for i, a in enumerate(args) if as_frame(a) is not None]
    if frames:
        i = frames[0]
        if len(frames) > 1 or i not in (0, lead):
            raise ArgumentError(
                f"{where}: pass one summary frame, as the first argument (or in place of "
                f"'{data_names[0]}'); got a frame in place of '{names[i]}'."
            )
        rest = [a for j, a in enumerate(args) if j != i]
        leading, extra = rest[:lead], rest[lead:]
        if any(a is not None for a in extra):
            raise ArgumentError(
                f"{where}: pass either a summary frame or the arrays {data_names}, not both."
            )
        missing = [n for n, a in zip(names[:lead], leading, strict=True) if a is None]
        if missing:
            raise ArgumentError(
                f"{where}: with a summary frame, also give {missing}, e.g. "
                f"{method}(summary, {', '.join(missing)}=...)."
            )
        frame = as_frame(args[i])
        assert frame is not None
        data, _ = read_frame(model, frame, None)
        return leading, [data[k] for k in model._data_names]
    missing = [n for n, a in zip(names, args, strict=True) if a is None]
    if missing:
        cols = [model.columns_.get(k, k) for k in model._data_names]
        raise ArgumentError(
            f"{where}: missing {missing}. Pass a summary frame with the columns {cols} "
            f"as the first argument, or every one of {list(names)}."
        )
    return list(args[:lead]), list(args[lead:])


def read_frame(
    model: Any, frame: nw.DataFrame[Any] | nw.LazyFrame[Any], id_col: str | None
) -> tuple[dict[str, FloatArray], nw.DataFrame[Any]]:
    """Read the model's data columns (by ``model.columns_``) and the id from a frame.

    Returns the float arrays by data name and the collected frame of the columns read.
    """
    columns = {k: str(model.columns_.get(k, k)) for k in model._data_names}
    return read_columns(frame, columns, [] if id_col is None else [id_col])


def draw_models(model: Any, n_draws: int, rng: np.random.Generator) -> list[Any] | None:
    """Models with parameters drawn from the asymptotic normal of the log parameters.

    None when the model carries no finite covariance (e.g. built with ``from_params``).
    """
    cov = getattr(model, "covariance_", None)
    if cov is None:
        return None
    names = list(model.params_)
    p = np.array([model.params_[k] for k in names], dtype=np.float64)
    cov_arr = np.asarray(
        cov.loc[names, names] if isinstance(cov, pd.DataFrame) else cov, dtype=np.float64
    )
    if not np.all(np.isfinite(cov_arr)):
        return None
    jac = np.diag(1.0 / p)
    cov_log = jac @ cov_arr @ jac
    draws = rng.multivariate_normal(np.log(p), cov_log, size=n_draws, method="eigh")
    return [type(model).from_params(**dict(zip(names, np.exp(d), strict=True))) for d in draws]


def interval_columns(
    model: Any,
    histories: Sequence[FloatArray],
    predictions: Mapping[str, Callable[..., FloatArray]],
    level: float,
    n_draws: int,
    seed: int,
) -> dict[str, FloatArray]:
    """Per-customer percentile intervals of predictions under parameter draws.

    ``predictions`` maps an output name to ``fn(draw_model, *distinct_histories)``; each
    is evaluated once per draw on the distinct histories. Returns ``<name>_low`` and
    ``<name>_high`` per customer (NaN when the model has no covariance).
    """
    n = int(np.size(histories[0]))
    models = draw_models(model, n_draws, np.random.default_rng(seed)) if n_draws else None
    out: dict[str, FloatArray] = {}
    if not models or n == 0:
        for name in predictions:
            out[f"{name}_low"] = np.full(n, np.nan)
            out[f"{name}_high"] = np.full(n, np.nan)
        return out
    distinct, inverse = unique_rows(list(histories))
    tail = (1.0 - level) / 2.0
    for name, fn in predictions.items():
        values = np.empty((len(models), distinct[0].size))
        for i, m in enumerate(models):  # a loop over parameter draws, not customers
            values[i] = np.asarray(fn(m, *distinct), dtype=np.float64)
        low, high = np.quantile(values, [tail, 1.0 - tail], axis=0)
        out[f"{name}_low"] = np.asarray(low[inverse], dtype=np.float64)
        out[f"{name}_high"] = np.asarray(high[inverse], dtype=np.float64)
    return out


def check_predict_args(level: Any, n_draws: Any, seed: Any) -> tuple[float | None, int, int]:
    """Validate ``level`` (of an interval, or None), ``n_draws`` and ``seed``."""
    level = None if level is None else check_level(level, "level")
    return level, check_int(n_draws, "n_draws", low=1), check_int(seed, "seed", low=0)


def summary_frame(model: Any, summary: Any, method: str) -> nw.DataFrame[Any] | nw.LazyFrame[Any]:
    """The narwhals frame of ``summary``, or an ArgumentError pointing to the array methods."""
    frame = as_frame(summary)
    if frame is None:
        raise ArgumentError(
            f"{type(model).__name__}.{method} takes a customer summary frame (pandas, "
            f"polars, pyarrow, DuckDB, Dask or PySpark); got {type(summary).__name__}. "
            "For arrays, call the per-quantity methods (e.g. probability_alive)."
        )
    return frame


def result_frame(
    frame: nw.DataFrame[Any] | nw.LazyFrame[Any],
    collected: nw.DataFrame[Any],
    id_col: str | None,
    columns: Mapping[str, FloatArray],
    attrs: Mapping[str, Any],
) -> Any:
    """One row per customer in the caller's kind of frame: the id, then ``columns``.

    pandas, polars and pyarrow give the same kind back (DuckDB, Dask, PySpark and lazy
    polars frames are scored on their engine by :mod:`crmmodels.engines` before this
    is reached). A pandas result carries ``attrs`` (e.g. the time unit) and a fresh
    0..n-1 index.
    """
    impl = frame.implementation
    if impl in (nw.Implementation.POLARS, nw.Implementation.PYARROW):
        series = [nw.new_series(k, v, nw.Float64(), backend=impl) for k, v in columns.items()]
        if id_col is not None:
            out = collected.select(id_col).with_columns(*series)
        else:
            out = nw.from_dict({s.name: s for s in series}, backend=impl)
        native = nw.to_native(out)
        if isinstance(frame, nw.LazyFrame):
            native = native.lazy()
        return native
    data: dict[str, Any] = {}
    if id_col is not None:
        data[id_col] = collected.select(id_col).to_pandas()[id_col].reset_index(drop=True)
    data.update({k: np.asarray(v, dtype=np.float64) for k, v in columns.items()})
    result = pd.DataFrame(data)
    result.attrs.update(attrs)
    return result
