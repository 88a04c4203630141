"""Which churn drivers apply to which customer.

A driver is a row of ``crmmodels.clv.churn_drivers(model).to_frame()`` (or of any frame
with its columns ``process``, ``covariate``, ``effect`` and ``p_value``). It applies to
the win-back list when it raises the dropout rate (``process == "dropout"``,
``effect > 1``) and is significant (``p_value < 1 - level``). It applies to a customer
when the customer has it:

* ``"name=value"`` (a level of a categorical covariate): the customer's ``name`` is
  ``value`` (compared as text);
* ``"name"`` (a numeric covariate, effect per unit): a 0/1 column applies at 1, any other
  numeric column when the customer's value is above the median of the table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from crmmodels._ingest.frames import check_columns, to_narwhals, to_pandas
from crmmodels.errors import SchemaError, missing_column_message

__all__ = ["DRIVER_COLUMNS", "Driver", "applicable_drivers", "driver_matrix"]

#: the columns a drivers table must have
DRIVER_COLUMNS = ("process", "covariate", "effect", "p_value")


@dataclass(frozen=True)
class Driver:
    """One dropout driver: the covariate, its column, the level (None: numeric), effect."""

    covariate: str
    column: str
    value: str | None
    effect: float


def _driver_frame(drivers: Any) -> pd.DataFrame:
    to_frame = getattr(drivers, "to_frame", None)
    table = to_frame() if callable(to_frame) and not isinstance(drivers, pd.DataFrame) else drivers
    frame = to_narwhals(table, what="drivers")
    check_columns(frame, DRIVER_COLUMNS, what="drivers")
    return to_pandas(frame)


def applicable_drivers(drivers: Any, *, level: float, columns: list[str]) -> list[Driver]:
    """The significant dropout drivers with ``effect > 1``, each mapped to a column.

    Raises
    ------
    SchemaError
        The drivers lack a column, or a driver's covariate is no column of the customers.
    """
    table = _driver_frame(drivers)
    effect = pd.to_numeric(table["effect"], errors="coerce").to_numpy(dtype=np.float64)
    p = pd.to_numeric(table["p_value"], errors="coerce").to_numpy(dtype=np.float64)
    keep = (table["process"].astype(str).to_numpy() == "dropout") & (effect > 1.0)
    keep &= p < 1.0 - level
    out: list[Driver] = []
    for cov, eff in zip(table["covariate"].astype(str)[keep], effect[keep], strict=True):
        if cov in columns or "=" not in cov:
            column, value = cov, None
        else:
            column, value = cov.split("=", 1)
        if column not in columns:
            raise SchemaError(
                f"the churn driver {cov!r} needs a column '{column}' in customers. "
                + missing_column_message(column, columns, "customers")
            )
        out.append(Driver(cov, column, value, float(eff)))
    return out


def driver_matrix(
    data: pd.DataFrame, drivers: list[Driver]
) -> tuple[np.ndarray[Any, Any], list[str]]:
    """Customers x drivers: True where the driver applies; and the label of each driver."""
    hits = np.zeros((len(data), len(drivers)), dtype=bool)
    labels: list[str] = []
    for j, d in enumerate(drivers):  # one column per driver
        values = data[d.column]
        missing = pd.isna(values).to_numpy()
        if d.value is not None:
            hits[:, j] = (values.astype(str).to_numpy() == d.value) & ~missing
            labels.append(f"{d.covariate} (x{d.effect:.3g})")
            continue
        if not pd.api.types.is_numeric_dtype(values.dtype):
            raise SchemaError(
                f"the churn driver {d.covariate!r} is numeric but column '{d.column}' of "
                f"customers has type {values.dtype}."
            )
        x = values.to_numpy(dtype=np.float64, na_value=np.nan)
        seen = x[~missing]
        if seen.size and np.isin(seen, (0.0, 1.0)).all():
            hits[:, j] = x == 1.0
            labels.append(f"{d.covariate} (x{d.effect:.3g})")
        else:
            median = float(np.median(seen)) if seen.size else np.inf
            hits[:, j] = x > median
            labels.append(f"{d.covariate} above median {median:.4g} (x{d.effect:.3g} per unit)")
    return hits, labels
