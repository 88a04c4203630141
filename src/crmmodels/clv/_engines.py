"""Customer lifetime value on lazy engines, computed where the data live.

``predict`` of the models calls :func:`crmmodels.engines.score_frame` directly;
:func:`crmmodels.clv.customer_lifetime_value` calls :func:`value_on_engine` when a
summary is a PySpark, Dask, DuckDB or lazy polars frame. The distinct rows of the
columns read are checked at the driver (the same errors as on pandas, counting
customers), then each batch runs the pandas path on the engine with the models shipped
as their JSON text. Results equal the pandas path's row for row; with ``level``, every
batch draws the same parameters (the same ``seed``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from crmmodels import engines
from crmmodels._ingest.frames import check_columns, to_narwhals
from crmmodels._progress import Progress
from crmmodels.clv._gamma_gamma import GammaGamma
from crmmodels.clv._value_inputs import Settings, _data_columns, _id_column, read_summary
from crmmodels.clv._value_results import CLVResult
from crmmodels.errors import SchemaError

__all__ = ["value_on_engine"]


def value_on_engine(
    function: Callable[..., Any],
    transaction_model: Any,
    spend: GammaGamma | float | None,
    summary: Any,
    given: Mapping[str, str | None],
    customer_col: Any,
    settings: Settings,
    unit: str,
    call: Mapping[str, Any],
) -> CLVResult:
    """:func:`crmmodels.clv.customer_lifetime_value` on an engine frame.

    The quadrature nodes are chosen at the driver on the distinct histories (as the
    pandas path chooses them) and fixed for every batch; ``total`` and ``n_customers``
    come from the distinct rows and their counts. ``data`` is the engine's frame.
    """
    frame = to_narwhals(summary, what="summary")
    present = list(frame.collect_schema().names())
    cols = _data_columns(transaction_model, spend, present, given)
    id_col = _id_column(transaction_model, spend, present, customer_col)
    if id_col is None:
        raise SchemaError(
            "customer_lifetime_value on a PySpark, Dask, DuckDB or lazy polars summary needs "
            "an id column (rows of a lazy frame have no positions to number): pass "
            "customer_col naming it."
        )
    check_columns(frame, [id_col, *cols.values()], what="summary")
    table, counts = engines.distinct_rows(frame, list(cols.values()), carry=id_col)
    with engines.counted_rows(), Progress("customer_lifetime_value", enabled=False) as report:
        engines.set_counts(counts)
        read = read_summary(transaction_model, spend, table.to_pandas(), given, id_col)
        from crmmodels.clv._value import _lifetime_value  # the pandas path's own step

        _, method, _, nodes = _lifetime_value(transaction_model, spend, read, settings, report)
    models = [("transaction_model", type(transaction_model), transaction_model.to_json())]
    args = dict(call, customer_col=id_col, n_nodes=nodes or settings.n_nodes, progress=False)
    if isinstance(spend, GammaGamma):
        models.append(("spend_model", GammaGamma, spend.to_json()))
    else:
        args["spend_model"] = spend
    scorer = engines.BatchScorer(function, tuple(models), args)
    scored = engines.score_batches(frame, scorer, list(cols.values()), id_col)
    level = call.get("level")
    low = scored.distinct["clv_low"].to_numpy() if level is not None else np.array([np.nan])
    return CLVResult(
        data=scored.frame,
        horizon=settings.horizon,
        discount_rate=settings.discount_rate,
        discount_period=settings.discount_period,
        time_unit=unit,
        method=method,
        total=float(scored.distinct["clv"].to_numpy() @ scored.counts),
        n_customers=round(float(scored.counts.sum())),
        customer_col=id_col,
        level=level,
        n_draws=int(call["n_draws"]) if np.isfinite(low).any() else 0,
    )
