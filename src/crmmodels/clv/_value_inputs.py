"""Inputs of the value calculations: the models, the settings and the summary columns.

The summary is read with the columns the models were fitted with (their ``columns_``)
unless the caller names them; the customer id is always carried (see
:func:`read_summary`).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmmodels._ingest.arguments import check_column_name, check_int, check_number
from crmmodels._ingest.frames import check_columns, to_narwhals, to_pandas
from crmmodels._ingest.periods import check_period, unit_name
from crmmodels.clv._bgbb import BGBB
from crmmodels.clv._bgnbd import BGNBD
from crmmodels.clv._gamma_gamma import GammaGamma
from crmmodels.clv._mbgnbd import MBGNBD
from crmmodels.clv._pareto_nbd import ParetoNBD
from crmmodels.clv._predict import UNKNOWN_UNIT
from crmmodels.errors import (
    ArgumentError,
    DataError,
    NotFittedError,
    SchemaError,
    missing_column_message,
)

__all__ = [
    "FACTORED",
    "POSITION_COL",
    "Settings",
    "Summary",
    "check_draws",
    "check_settings",
    "check_spend_model",
    "check_transaction_model",
    "is_discrete",
    "rate",
    "read_summary",
    "unit_of",
]

FloatArray = npt.NDArray[np.float64]

_TRANSACTION_MODELS = (BGNBD, MBGNBD, ParetoNBD, BGBB)
_TRANSACTION_NAMES = "BGNBD, MBGNBD, ParetoNBD or BGBB"
#: models whose conditional expectation is P(alive | x, t_x, T) * g(x, T, t): the time
#: integrals are computed once per distinct (x, T) and scaled by P(alive) per history
FACTORED = (BGNBD, MBGNBD, ParetoNBD)
#: the id column of a result when neither the caller nor the models name one and the
#: summary has no ``customer_id``: the row position 0..n-1
POSITION_COL = "customer"
_DEFAULT_ID = "customer_id"
_BGBB_AGES = ("n_periods", "periods")


# ----------------------------------------------------------------------------- models


def is_discrete(model: Any) -> bool:
    """Whether the model counts discrete opportunities (BG/BB: ``n_periods``)."""
    return "n_periods" in getattr(model, "_data_names", ())


def _check_fitted(model: Any) -> None:
    fitted = model.is_fitted
    if not (fitted() if callable(fitted) else fitted):
        raise NotFittedError(
            f"This {type(model).__name__} instance is not fitted yet. Call 'fit' or build "
            "it with 'from_params' before computing CLV."
        )


def check_transaction_model(model: Any) -> None:
    """A fitted model of purchases, or an :class:`ArgumentError` saying where it goes."""
    if isinstance(model, GammaGamma):
        raise ArgumentError(
            f"transaction_model takes a model of purchases ({_TRANSACTION_NAMES}); got a "
            "GammaGamma model, which models the spend per transaction: pass it as "
            "spend_model."
        )
    if not (hasattr(model, "conditional_expected_purchases") and hasattr(model, "is_fitted")):
        raise ArgumentError(
            f"transaction_model must be a crmmodels CLV model of purchases "
            f"({_TRANSACTION_NAMES}); got {type(model).__name__}."
        )
    _check_fitted(model)


def check_spend_model(spend_model: Any) -> GammaGamma | float | None:
    """The spend model: a fitted GammaGamma, a constant value per transaction, or None."""
    if spend_model is None:
        return None
    if isinstance(spend_model, GammaGamma):
        _check_fitted(spend_model)
        return spend_model
    if isinstance(spend_model, _TRANSACTION_MODELS):
        raise ArgumentError(
            "spend_model takes a GammaGamma model (expected spend per transaction), a "
            f"number or None; got a {type(spend_model).__name__} model, which models "
            "purchases: pass it as transaction_model."
        )
    if isinstance(spend_model, numbers.Real) and not isinstance(spend_model, (bool, np.bool_)):
        return check_number(spend_model, "spend_model")
    raise ArgumentError(
        "spend_model must be a fitted GammaGamma model, a number (the value of one "
        f"transaction) or None (value transactions at 1); got {type(spend_model).__name__}."
    )


# ----------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class Settings:
    """The validated horizon, discounting, margin and quadrature nodes of a valuation."""

    horizon: float
    discount_rate: float
    discount_period: float
    margin: float
    n_nodes: int | None


def check_settings(
    horizon: Any,
    discount_rate: Any,
    discount_period: Any,
    margin: Any,
    n_nodes: Any,
) -> Settings:
    """Validate the settings shared by CLV and equity (:class:`ArgumentError` otherwise)."""
    if (
        isinstance(horizon, numbers.Real)
        and not isinstance(horizon, (bool, np.bool_))
        and float(horizon) == math.inf
    ):
        h = math.inf
    else:
        h = check_number(
            horizon,
            "horizon",
            low=0.0,
            low_open=True,
            fix="Use math.inf for the residual lifetime.",
        )
    discount = check_number(
        discount_rate,
        "discount_rate",
        low=0.0,
        fix="It is a rate per discount_period, e.g. 0.1 for 10%; 0 for no discounting.",
    )
    period = check_number(discount_period, "discount_period", low=0.0, low_open=True)
    m = check_number(margin, "margin")
    nodes = None if n_nodes is None else check_int(n_nodes, "n_nodes", low=4, high=200)
    return Settings(h, discount, period, m, nodes)


def check_draws(level: Any, n_draws: Any, seed: Any) -> tuple[float, int, int]:
    """Validate the interval ``level`` (0 <= level < 1), ``n_draws`` (>= 0) and ``seed``.

    A level of 0 collapses the interval onto the median of the draws.
    """
    lvl = check_number(
        level,
        "level",
        low=0.0,
        high=1.0,
        high_open=True,
        fix="It is the interval's coverage, e.g. 0.9 for a 90% interval.",
    )
    return lvl, check_int(n_draws, "n_draws", low=0), check_int(seed, "seed", low=0)


def rate(discount_rate: float, discount_period: float) -> float:
    """Continuously compounded rate per time unit: ``ln(1 + d) / P``."""
    return math.log1p(discount_rate) / discount_period


def unit_of(model: Any, time_unit: Any) -> str:
    """The unit named in a result (``"weeks"``): as given, else the model's, else ``"periods"``."""
    if time_unit is not None:
        return unit_name(check_period(time_unit, "time_unit", subdaily=True))
    unit = getattr(model, "time_unit_", UNKNOWN_UNIT)
    return "periods" if unit == UNKNOWN_UNIT else unit_name(unit)


# ----------------------------------------------------------------------------- summary


@dataclass(frozen=True)
class Summary:
    """The summary as read: the id and data columns (the caller's names) and the arrays.

    ``frame`` holds the id column first (``id_col``; the row position in
    :data:`POSITION_COL` when there is no id), then the data columns.
    """

    frame: pd.DataFrame
    id_col: str
    frequency: FloatArray
    recency: FloatArray
    age: FloatArray
    monetary_value: FloatArray | None


def _remembered(model: Any, key: str) -> str | None:
    """The column the model was fitted with for ``key`` (None when it has none)."""
    columns = getattr(model, "columns_", None)
    value = columns.get(key) if isinstance(columns, Mapping) else None
    return str(value) if value is not None else None


def _data_columns(
    model: Any,
    spend_model: GammaGamma | float | None,
    present: list[str],
    given: Mapping[str, str | None],
) -> dict[str, str]:
    """Summary column of each data name: as given, else the models' ``columns_``."""
    keys = ["frequency", "recency", "n_periods" if is_discrete(model) else "T"]
    if isinstance(spend_model, GammaGamma):
        keys.append("monetary_value")
    wrong = "T" if is_discrete(model) else "n_periods"
    if given.get(wrong) is not None:
        raise ArgumentError(
            f"{wrong}_col does not apply to a {type(model).__name__} model; pass "
            f"{keys[2]}_col for its {'opportunities' if is_discrete(model) else 'ages'}."
        )
    out: dict[str, str] = {}
    for key in keys:
        name = given.get(key)
        if name is not None:
            out[key] = check_column_name(name, f"{key}_col")
            continue
        owner = spend_model if key == "monetary_value" else model
        out[key] = _remembered(owner, key) or key
    # BG/BB: its default column is "periods" (the donations data); "n_periods" is the
    # summary's name for the same thing, read when "periods" is absent (and vice versa)
    age = out.get("n_periods")
    if given.get("n_periods") is None and age in _BGBB_AGES and age not in present:
        out["n_periods"] = next((c for c in _BGBB_AGES if c in present), age)
    return out


def _id_column(
    model: Any, spend_model: GammaGamma | float | None, present: list[str], customer_col: Any
) -> str | None:
    """The id column to carry: as given, else the models', else ``customer_id`` if present.

    None when there is no id at all (the result then numbers the rows). A column named
    by the caller or remembered by a model must exist.
    """
    if customer_col is not None:
        name = check_column_name(customer_col, "customer_col")
        if name not in present:
            raise SchemaError(
                missing_column_message(name, present, "summary")
                + " Pass customer_col naming the summary's id column."
            )
        return name
    for owner in (model, spend_model):
        remembered = _remembered(owner, "customer")
        if remembered is None:
            continue
        if remembered not in present:
            raise SchemaError(
                missing_column_message(remembered, present, "summary")
                + f" It is the id column the {type(owner).__name__} model was fitted with: "
                "pass customer_col naming the id column of this summary."
            )
        return remembered
    return _DEFAULT_ID if _DEFAULT_ID in present else None


def read_summary(
    model: Any,
    spend_model: GammaGamma | float | None,
    summary: Any,
    given: Mapping[str, str | None],
    customer_col: Any,
    *,
    ids: bool = True,
) -> Summary:
    """Read the id and the data columns of ``summary`` (any engine) for a valuation.

    ``given`` maps data names (``"frequency"``, ``"recency"``, ``"T"``,
    ``"n_periods"``, ``"monetary_value"``) to the caller's column names (None: the
    models' columns). Every row of the summary is one customer of the result, in order.
    With ``ids=False`` (customer equity) no id is read and the rows are numbered.
    """
    frame = to_narwhals(summary, what="summary")
    schema = frame.collect_schema()
    present = list(schema.names())
    cols = _data_columns(model, spend_model, present, given)
    id_col = _id_column(model, spend_model, present, customer_col) if ids else None
    check_columns(frame, list(cols.values()), what="summary")
    for col in cols.values():
        if not schema[col].is_numeric():
            raise SchemaError(
                f"summary: column '{col}' must be numeric; its type is {schema[col]}. "
                f"Cast it first, e.g. summary['{col}'].astype(float)."
            )
    keep = ([id_col] if id_col is not None else []) + list(cols.values())
    df = to_pandas(frame.select(list(dict.fromkeys(keep)))).reset_index(drop=True)
    if df.empty:
        raise DataError("summary is empty: no customers to value.")
    if id_col is None:
        id_col = POSITION_COL
        df.insert(0, id_col, np.arange(len(df), dtype=np.int64))

    def column(key: str) -> FloatArray:
        return df[cols[key]].to_numpy(dtype=np.float64)

    age_key = "n_periods" if is_discrete(model) else "T"
    return Summary(
        frame=df,
        id_col=id_col,
        frequency=column("frequency"),
        recency=column("recency"),
        age=column(age_key),
        monetary_value=column("monetary_value") if "monetary_value" in cols else None,
    )
