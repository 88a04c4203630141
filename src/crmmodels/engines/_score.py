"""Score a frame where it lives: the model travels as JSON, each batch runs the pandas path.

:class:`BatchScorer` is what the workers receive: the function to run (a model method by
name, or a module-level function such as :func:`crmmodels.clv.customer_lifetime_value`),
the models as ``(argument, class, JSON text)`` and the keyword arguments. The class is
pickled by reference and the model rebuilt with its own ``from_json`` loader, so no
fitted object is ever pickled.

:func:`score_batches` first computes the distinct rows of the columns read on the engine
(:func:`crmmodels.engines.distinct_rows`) and runs the pandas path on them at the
driver, weighing each row by its count: the checks raise the same error, with the same
count of customers, as on pandas, before any scoring starts, and the result gives the
output columns. Then every batch is scored on the engine (:func:`map_frame`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pandas as pd

from crmmodels.engines._counts import FloatArray, counted_rows, set_counts
from crmmodels.engines._distinct import distinct_rows
from crmmodels.engines._kinds import engine_of
from crmmodels.engines._map import map_frame

__all__ = ["BatchScorer", "EngineScore", "score_batches", "score_frame"]

_MODELS: dict[tuple[type, str], Any] = {}


def _rebuild(cls: type, text: str) -> Any:
    """The model of ``text``, rebuilt once per worker process (its own JSON loader)."""
    key = (cls, text)
    model = _MODELS.get(key)
    if model is None:
        model = cls.from_json(text)  # type: ignore[attr-defined]
        if len(_MODELS) > 16:
            _MODELS.clear()
        _MODELS[key] = model
    return model


@dataclasses.dataclass(frozen=True)
class BatchScorer:
    """A picklable ``pdf -> pdf`` that rebuilds the models from JSON and runs the pandas path.

    Parameters
    ----------
    function : str or callable
        The name of a method of the one model, or a module-level function called as
        ``function(**models, summary=pdf, **kwargs)``.
    models : tuple of (str, type, str)
        ``(argument name, model class, model.to_json())``.
    kwargs : mapping
        The other keyword arguments of the call.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmmodels.clv import BGNBD
    >>> bg = BGNBD.from_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
    >>> scorer = BatchScorer("predict", (("model", BGNBD, bg.to_json()),), {"horizon": 39})
    >>> s = pd.DataFrame({"frequency": [2], "recency": [30.43], "T": [38.86]})
    >>> scorer(s).round(3).to_dict("list")
    {'p_alive': [0.727], 'expected_purchases': [1.226]}
    """

    function: str | Callable[..., Any]
    models: tuple[tuple[str, type, str], ...]
    kwargs: Mapping[str, Any]

    def __call__(self, pdf: pd.DataFrame) -> pd.DataFrame:
        """The pandas path on one batch."""
        models = {name: _rebuild(cls, text) for name, cls, text in self.models}
        if isinstance(self.function, str):
            (model,) = models.values()
            out = getattr(model, self.function)(pdf, **self.kwargs)
        else:
            out = self.function(**models, summary=pdf, **self.kwargs)
        frame: pd.DataFrame = out if isinstance(out, pd.DataFrame) else out.to_frame()
        return frame


@dataclasses.dataclass(frozen=True)
class EngineScore:
    """What :func:`score_batches` gives: the scored frame and what the driver computed.

    Attributes
    ----------
    frame : native frame
        The scored frame, on the input's engine (lazy where the engine is).
    distinct : pandas.DataFrame
        The pandas path's output on the distinct rows of the columns read.
    counts : ndarray
        The number of input rows behind each row of ``distinct``.
    """

    frame: Any
    distinct: pd.DataFrame
    counts: FloatArray


def score_batches(
    frame: Any,
    scorer: Callable[[pd.DataFrame], pd.DataFrame],
    columns: Sequence[str],
    key: str | None,
    *,
    what: str = "summary",
) -> EngineScore:
    """Check on the distinct rows, then score every batch of ``frame`` on its engine.

    Parameters
    ----------
    frame : DataFrame-like
        A PySpark, Dask, DuckDB or lazy polars frame.
    scorer : callable
        ``pdf -> pdf``, the pandas path (a :class:`BatchScorer` for Spark and Dask).
    columns : sequence of str
        The data columns the pandas path reads; the output depends on them only.
    key : str or None
        The id column carried through (read from every row; one value per distinct row
        at the driver).
    what : str
        The name of the frame, for messages.

    Returns
    -------
    EngineScore
    """
    table, counts = distinct_rows(frame, columns, carry=key, what=what)
    distinct = table.to_pandas()
    if key is not None:
        distinct = distinct[[key, *[c for c in distinct.columns if c != key]]]
    with counted_rows():
        set_counts(counts)
        out = scorer(distinct)
    read = list(dict.fromkeys(([key] if key is not None else []) + list(columns)))
    scored = map_frame(frame, scorer, list(out.columns), read=read)
    return EngineScore(scored, out, counts)


def score_frame(
    model: Any,
    frame: Any,
    method: str = "predict",
    *,
    columns: Sequence[str] | None = None,
    customer_col: str | None = None,
    **kwargs: Any,
) -> Any:
    """Run ``model.<method>(batch, **kwargs)`` on every batch of a frame, on its engine.

    Parameters
    ----------
    model : fitted model
        Any crmmodels model with ``to_json`` / ``from_json`` (the CLV models).
    frame : DataFrame-like
        A PySpark, Dask, DuckDB or lazy polars frame.
    method : str, default "predict"
        The method, which takes a pandas frame and returns a pandas frame (or a result
        with ``to_frame()``), one row per input row.
    columns : sequence of str, optional
        The data columns the method reads (default: the model's ``columns_``).
    customer_col : str, optional
        The id column to carry (passed on to the method as ``customer_col``).
    **kwargs
        The method's other arguments.

    Returns
    -------
    native frame
        The output of ``method``, as a frame of the input's engine.

    Raises
    ------
    TypeError
        ``frame`` is not a lazy frame of PySpark, Dask, DuckDB or polars.
    SchemaError, DataError
        From the checks of the pandas path, run on the distinct rows first.

    Examples
    --------
    >>> import polars as pl
    >>> from crmmodels.clv import BGNBD
    >>> bg = BGNBD.from_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
    >>> s = pl.LazyFrame({"customer_id": ["a", "b"], "frequency": [0, 2],
    ...                   "recency": [0.0, 30.43], "T": [38.86, 38.86]})
    >>> out = score_frame(bg, s, "predict", customer_col="customer_id", horizon=39)
    >>> out.collect()["expected_purchases"].round(3).to_list()
    [0.195, 1.226]
    """
    if engine_of(frame) is None:
        raise TypeError(
            "score_frame needs a PySpark, Dask, DuckDB or lazy polars frame; got "
            f"{type(frame).__name__}. Call the model's method directly on other frames."
        )
    if columns is None:
        names = getattr(model, "_data_names", ())
        columns = [str(model.columns_.get(k) or k) for k in names]
    call = dict(kwargs, customer_col=customer_col)
    scorer = BatchScorer(method, (("model", type(model), model.to_json()),), call)
    return score_batches(frame, scorer, columns, customer_col).frame
