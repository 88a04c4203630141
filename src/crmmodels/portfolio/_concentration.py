"""Concentration of value over the ranked customers, overall and per period."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmmodels._ingest.frames import python_scalar
from crmmodels.errors import DataError
from crmmodels.kernels import portfolio as kc
from crmmodels.portfolio._collect import _numeric_array


@dataclass(frozen=True)
class _Concentration:
    order: npt.NDArray[np.intp]
    sorted_values: npt.NDArray[np.float64]
    curve: npt.NDArray[np.float64]
    gini: float
    hhi: float
    hhi_normalized: float
    top_share: float
    customer_share_for_value: float
    classes: npt.NDArray[np.int8]
    n_negative: int
    negative_value: float
    total: float


def _concentration(
    ids: npt.NDArray[Any],
    values: npt.NDArray[np.float64],
    *,
    top: float,
    value_share: float,
    abc: tuple[float, ...],
    gini: Literal["population", "sample"],
) -> _Concentration:
    order = kc.descending_order(values, ids)
    x = values[order]
    total = kc.net_total(x)
    neg = x < 0
    if total <= 0:
        raise DataError(
            f"total net value is {total:.6g}; shares of value (and the 80/20 analysis) "
            "need a positive total. Check the sign of the value column."
        )
    curve = kc.concentration_curve(x)
    return _Concentration(
        order=order,
        sorted_values=x,
        curve=curve,
        gini=kc.gini(x, gini),
        hhi=kc.hhi(x),
        hhi_normalized=kc.hhi_normalized(x),
        top_share=kc.top_share(curve, top),
        customer_share_for_value=kc.customer_share_for_value(curve, value_share),
        classes=kc.abc_classes(curve, abc),
        n_negative=int(neg.sum()),
        negative_value=kc.net_total(x[neg]),
        total=total,
    )


def _trend(
    per_period: pd.DataFrame,
    *,
    period_col: str,
    customer_col: str,
    amount_col: str,
    top: float,
    value_share: float,
    abc: tuple[float, ...],
    gini: Literal["population", "sample"],
    what: str,
) -> tuple[pd.DataFrame, tuple[tuple[Any, npt.NDArray[np.float64]], ...]]:
    periods = per_period[period_col].to_numpy()
    uniq, inverse = np.unique(periods, return_inverse=True)
    order = np.argsort(inverse, kind="stable")
    bounds = np.searchsorted(inverse[order], np.arange(len(uniq) + 1))
    ids_all = per_period[customer_col].to_numpy()[order]
    vals_all = _numeric_array(per_period[amount_col].to_numpy(), amount_col, what)[order]
    rows: list[dict[str, Any]] = []
    curves: list[tuple[Any, npt.NDArray[np.float64]]] = []
    nan = float("nan")
    for j, period in enumerate(uniq):  # one pass per period (a handful), vectorised inside
        ids = ids_all[bounds[j] : bounds[j + 1]]
        vals = vals_all[bounds[j] : bounds[j + 1]]
        row: dict[str, Any] = {
            period_col: python_scalar(period),
            "n_customers": len(vals),
            "total_value": kc.net_total(vals),
            "n_negative": int((vals < 0).sum()),
        }
        if row["total_value"] > 0:
            c = _concentration(ids, vals, top=top, value_share=value_share, abc=abc, gini=gini)
            row.update(
                gini=c.gini,
                hhi=c.hhi,
                hhi_normalized=c.hhi_normalized,
                top_share=c.top_share,
                customer_share_for_value=c.customer_share_for_value,
                n_class_a=int((c.classes == 0).sum()),
            )
            curves.append((row[period_col], c.curve))
        else:
            row.update(
                gini=nan,
                hhi=nan,
                hhi_normalized=nan,
                top_share=nan,
                customer_share_for_value=nan,
                n_class_a=0,
            )
        rows.append(row)
    out = pd.DataFrame(rows)
    if len(out) and np.issubdtype(uniq.dtype, np.datetime64):
        out[period_col] = pd.to_datetime(out[period_col])
        curves = [(pd.Timestamp(p), cv) for p, cv in curves]
    return out, tuple(curves)
