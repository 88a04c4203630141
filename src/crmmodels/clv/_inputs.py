"""Reading and checking the inputs of the CLV models: summary frames, arrays, numbers.

One reader serves every model: :func:`read_inputs` takes the data columns a model
declares (``_data_names``, with their summary columns) from a summary frame or from
keyword arrays, plus the optional weights, and checks what every model needs (numbers,
not dates; one dimension; equal lengths; finite values; non-negative weights). The
model-specific rules (``recency <= T``, whole periods, ...) are checked by the model
afterwards. The small checks here (:func:`whole_numbers`, :func:`nonnegative`,
:func:`discount_rate`, :func:`broadcast`) are shared by the prediction methods.
"""

from __future__ import annotations

import datetime as dt
import inspect
from collections.abc import Mapping, Sequence
from typing import Any

import narwhals.stable.v2 as nw
import numpy as np

from crmmodels import engines
from crmmodels._ingest.frames import check_columns, collect, to_narwhals
from crmmodels.errors import ArgumentError, DataError, bad_rows_message
from crmmodels.kernels._optim import FloatArray, IntArray, compress_rows

__all__ = [
    "as_float_array",
    "broadcast",
    "check",
    "check_column_values",
    "column_arguments",
    "discount_rate",
    "fit_signature",
    "nonnegative",
    "read_columns",
    "read_inputs",
    "unique_rows",
    "whole_numbers",
]

#: the key of the weights column among the columns read
_WEIGHTS = "\0weights"

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
        check_column_values(series, name)
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


def check_column_values(series: Any, col: str) -> None:
    """Reject a date/duration column and report nulls as missing (narwhals Series).

    NaN in a NumPy float column of pandas is left to the finiteness checks ("not
    finite"); real nulls (polars, pyarrow, pandas nullable dtypes) are "missing (null)".
    """
    if series.dtype.is_temporal():
        raise DataError(
            f"column '{col}' holds dates or durations ({series.dtype}), not numbers. {_DATE_HINT}"
        )
    n_null = int(series.null_count())
    if n_null and engines.row_counts() is not None:
        n_null = engines.count_rows(series.is_null().to_numpy())
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


def broadcast(arrays: Mapping[str, FloatArray]) -> list[FloatArray]:
    """Broadcast named arrays together, or raise :class:`DataError` naming their shapes.

    Examples
    --------
    >>> import numpy as np
    >>> [a.tolist() for a in broadcast({"t": np.array(1.0), "x": np.array([1.0, 2.0])})]
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


def check(values: FloatArray, mask: Any, name: str, problem: str, fix: str = "") -> None:
    """Raise the standard :class:`DataError` for the rows of ``values`` where ``mask`` holds.

    Examples
    --------
    >>> import numpy as np
    >>> check(np.array([1.0, -2.0]), np.array([False, True]), "T", "is negative")
    Traceback (most recent call last):
    ...
    crmmodels.errors.DataError: column 'T' is negative in 1 row (first example: -2.0).
    """
    n_bad = engines.count_rows(mask)  # customers: distinct rows of an engine weigh their count
    if n_bad:
        raise DataError(bad_rows_message(name, problem, n_bad, _first(values, mask), fix))


def nonnegative(value: Any, name: str) -> FloatArray:
    """A float array of finite values ``>= 0`` (a horizon, a time), or :class:`DataError`.

    Examples
    --------
    >>> nonnegative([0, 2.5], "t").tolist()
    [0.0, 2.5]
    """
    arr = as_float_array(value, name)
    check(arr, ~np.isfinite(arr), name, "is not finite (NaN or inf)")
    check(arr, arr < 0, name, "is negative")
    return arr


def whole_numbers(value: Any, name: str, fix: str = "") -> FloatArray:
    """A float array of whole numbers ``>= 0`` (a count of purchases or periods).

    Examples
    --------
    >>> whole_numbers([0, 3], "n").tolist()
    [0.0, 3.0]
    """
    arr = nonnegative(value, name)
    check(arr, arr != np.round(arr), name, "is not an integer", fix)
    return arr


def discount_rate(value: Any) -> float:
    """A discount rate: a finite number ``> 0``, or :class:`DataError`.

    Examples
    --------
    >>> discount_rate(0.1)
    0.1
    """
    try:
        rate = float(value)
    except (TypeError, ValueError) as exc:
        raise DataError(f"discount_rate must be a number > 0; got {value!r}.") from exc
    if not np.isfinite(rate) or rate <= 0:
        raise DataError(f"discount_rate must be a finite number > 0; got {value!r}.")
    return rate


def unique_rows(columns: list[FloatArray]) -> tuple[list[FloatArray], IntArray]:
    """Distinct rows of equal-length arrays (flattened) and the inverse index.

    Uses :func:`crmmodels.kernels._optim.compress_rows`, the one row compression of the
    package, so that expensive predictions run once per distinct input.

    Examples
    --------
    >>> import numpy as np
    >>> u, inv = unique_rows([np.array([1.0, 2.0, 1.0]), np.array([5.0, 5.0, 5.0])])
    >>> [c.tolist() for c in u], inv.tolist()
    ([[1.0, 2.0], [5.0, 5.0]], [0, 1, 0])
    """
    flat = [np.asarray(c, dtype=np.float64).ravel() for c in columns]
    distinct, _, inverse = compress_rows(flat)
    return distinct, inverse


def read_columns(
    frame: nw.DataFrame[Any] | nw.LazyFrame[Any],
    columns: Mapping[str, str],
    keep: Sequence[str] = (),
) -> tuple[dict[str, FloatArray], nw.DataFrame[Any]]:
    """Collect ``columns`` (and the ``keep`` columns, e.g. an id) from a narwhals frame.

    Returns the named columns as float arrays (dates, durations and nulls refused) and
    the collected frame of every column read.

    Examples
    --------
    >>> import narwhals.stable.v2 as nw
    >>> import pandas as pd
    >>> frame = nw.from_native(pd.DataFrame({"id": ["a"], "f": [2]}))
    >>> data, df = read_columns(frame, {"frequency": "f"}, ["id"])
    >>> data["frequency"].tolist(), df.columns
    ([2.0], ['id', 'f'])
    """
    wanted = list(dict.fromkeys([*keep, *columns.values()]))
    check_columns(frame, wanted, what="summary")
    df = collect(frame.select(wanted))
    out: dict[str, FloatArray] = {}
    for key, col in columns.items():
        check_column_values(df[col], col)
        out[key] = as_float_array(df[col].to_numpy(), col)
    return out, df


def _from_frame(
    where: str, summary: Any, arrays: Mapping[str, tuple[str, Any]], weights_col: str | None
) -> tuple[dict[str, FloatArray], FloatArray | None]:
    given = [k for k, (_, arr) in arrays.items() if arr is not None]
    if given:
        raise DataError(
            f"{where}: pass either a summary frame or keyword arrays, not both "
            f"(got the frame and {given})."
        )
    columns = {key: col for key, (col, _) in arrays.items()}
    if weights_col is not None:
        columns[_WEIGHTS] = weights_col
    frame = to_narwhals(summary, what="summary")
    if engines.counting() and engines.on_engine(frame):  # a fit: only the distinct rows
        frame, distinct_counts = engines.distinct_rows(frame, list(columns.values()))
        engines.set_counts(distinct_counts)
    out, _ = read_columns(frame, columns)
    w, counts = out.pop(_WEIGHTS, None), engines.row_counts()
    if counts is None:  # the frame's own rows
        return out, w
    return out, counts if w is None else w * counts


def _from_arrays(where: str, arrays: Mapping[str, tuple[str, Any]]) -> dict[str, FloatArray]:
    missing = [k for k, (_, arr) in arrays.items() if arr is None]
    if missing:
        raise DataError(
            f"{where}: give a summary frame or all of the keyword arrays "
            f"{list(arrays)}; missing {missing}."
        )
    return {key: as_float_array(arr, key) for key, (_, arr) in arrays.items()}


def _check_shapes(where: str, data: Mapping[str, FloatArray], w: FloatArray | None) -> None:
    for key, arr in data.items():
        if arr.ndim != 1:
            raise DataError(f"'{key}' must be one-dimensional; got shape {arr.shape}.")
    lengths = {k: a.size for k, a in data.items()}
    if w is not None:
        if w.ndim != 1:
            raise DataError(f"'weights' must be one-dimensional; got shape {w.shape}.")
        lengths["weights"] = w.size
    if len(set(lengths.values())) > 1:
        raise DataError(f"{where}: inputs must have equal lengths; got {lengths}.")
    if next(iter(lengths.values())) == 0:
        raise DataError(f"{where}: the input is empty (0 rows); nothing to fit.")


def read_inputs(
    where: str,
    summary: Any,
    arrays: Mapping[str, tuple[str, Any]],
    weights: Any = None,
    weights_col: str | None = None,
) -> tuple[dict[str, FloatArray], FloatArray | None]:
    """Collect a model's input columns from a summary frame or from keyword arrays.

    Parameters
    ----------
    where : str
        The caller, for messages (e.g. ``"BGNBD.fit"``).
    summary : DataFrame-like or None
        Any narwhals-supported frame; when given, keyword arrays must be None.
    arrays : mapping
        ``data name -> (column name in summary, keyword array or None)``.
    weights, weights_col :
        Keyword weights array, or the name of a weights column in ``summary``.

    Returns
    -------
    (dict of float arrays, weights array or None)
        One-dimensional, of equal non-zero length, finite; the weights are ``>= 0`` with
        a positive sum.

    Examples
    --------
    >>> data, w = read_inputs("M.fit", None, {"x": ("x", [1, 2])}, weights=[1, 3])
    >>> data["x"].tolist(), w.tolist()
    ([1.0, 2.0], [1.0, 3.0])
    """
    if summary is not None:
        out, w = _from_frame(where, summary, arrays, weights_col)
        if weights is not None:
            if weights_col is not None:
                raise DataError(f"{where}: give weights or weights_col, not both.")
            w = as_float_array(weights, "weights")
    else:
        out = _from_arrays(where, arrays)
        w = None if weights is None else as_float_array(weights, "weights")
    _check_shapes(where, out, w)
    for key, arr in out.items():
        check(arr, ~np.isfinite(arr), key, "is not finite (NaN or inf)")
    if w is not None:
        check(w, ~np.isfinite(w), "weights", "is not finite (NaN or inf)")
        check(w, w < 0, "weights", "is negative")
        if not w.sum() > 0:
            raise DataError(f"{where}: the weights sum to 0; nothing to fit.")
    return out, w


def column_arguments(
    where: str, names: tuple[str, ...], defaults: Mapping[str, str], kwargs: Mapping[str, Any]
) -> tuple[dict[str, tuple[str, Any]], dict[str, str]]:
    """Read a model's ``<name>`` arrays and ``<name>_col`` column names from keywords.

    Parameters
    ----------
    where : str
        The caller, for messages.
    names : tuple of str
        The model's data names (``_data_names``).
    defaults : mapping
        Default column of a data name where it differs from the name.
    kwargs : mapping
        The call's keyword arguments (every one must be an array or a column name).

    Returns
    -------
    (dict, dict)
        ``name -> (column, array or None)`` and ``name -> column``.

    Raises
    ------
    ArgumentError
        A keyword that names no column of the model (a ``TypeError``, as Python raises
        for an unexpected keyword argument).

    Examples
    --------
    >>> arrays, cols = column_arguments("M.fit", ("x", "n"), {"n": "periods"}, {"x": [1]})
    >>> arrays["x"], cols
    (('x', [1]), {'x': 'x', 'n': 'periods'})
    """
    rest = dict(kwargs)
    arrays: dict[str, tuple[str, Any]] = {}
    for key in names:
        col = rest.pop(f"{key}_col", defaults.get(key, key))
        arrays[key] = (col, rest.pop(key, None))
    if rest:
        valid = list(names) + [f"{k}_col" for k in names]
        raise ArgumentError(
            f"{where}() got unexpected keyword argument(s) {sorted(rest)}; the columns "
            f"are given as {valid}, plus weights, weights_col, customer_col and time_unit."
        )
    return arrays, {k: str(col) for k, (col, _) in arrays.items()}


def fit_signature(names: tuple[str, ...], defaults: Mapping[str, str]) -> inspect.Signature:
    """The signature of a model's ``fit``: its column arrays, then their ``*_col`` names.

    Examples
    --------
    >>> str(fit_signature(("x",), {}))
    "(self, summary=None, y=None, *, x=None, weights=None, x_col='x', weights_col=None, \
customer_col='customer_id', time_unit=None)"
    """
    keyword = inspect.Parameter.KEYWORD_ONLY
    plain = inspect.Parameter.POSITIONAL_OR_KEYWORD
    params = [
        inspect.Parameter("self", plain),
        inspect.Parameter("summary", plain, default=None),
        inspect.Parameter("y", plain, default=None),
    ]
    params += [inspect.Parameter(k, keyword, default=None) for k in names]
    params.append(inspect.Parameter("weights", keyword, default=None))
    params += [inspect.Parameter(f"{k}_col", keyword, default=defaults.get(k, k)) for k in names]
    params += [
        inspect.Parameter("weights_col", keyword, default=None),
        inspect.Parameter("customer_col", keyword, default="customer_id"),
        inspect.Parameter("time_unit", keyword, default=None),
    ]
    return inspect.Signature(params)
