"""Model selection of ``analyze`` on an engine frame, from aggregates computed there.

:func:`crmmodels.clv.select_model` collects the calibration and whole-period summaries
(one row per customer) before it fits and judges the candidates. On a PySpark, Dask,
DuckDB or lazy polars log the same selection needs far less at the driver:

- the per-period counts of the tracking curve (one row per period, engine-side);
- the distinct calibration histories ``(frequency, recency, T)`` together with each
  customer's holdout purchases, and how many customers share each such row (one
  ``group_by`` on the engine): the candidates are fitted on the distinct histories
  weighted by their counts, exactly as ``select_model`` fits them, and the holdout
  MAE and RMSE are the count-weighted means of the errors of these rows;
- the whole-period summary stays on the engine; the chosen model is refitted on it
  through its distinct rows (:func:`crmmodels.engines.distinct_rows`).

The steps, rules and messages are those of ``select_model`` (its functions are called,
not copied), so the result equals the pandas path's.
"""

from __future__ import annotations

import math
from typing import Any

import narwhals.stable.v2 as nw
import numpy as np
import pandas as pd

from crmmodels import engines
from crmmodels._ingest.frames import collect
from crmmodels._ingest.periods import Period, period_days, scalar_period_index, unit_name
from crmmodels.analysis._engine_store import stored
from crmmodels.clv._selection import (
    _candidates,
    _check_refit,
    _chosen,
    _fit,
    _reason,
)
from crmmodels.clv._selection_data import (
    LogSplit,
    _calibration_part,
    _counts,
    _holdout_split,
    _period_end,
    _tracking,
    grid_of,
    is_discrete,
)
from crmmodels.clv._selection_result import ModelSelectionResult, curve_errors, tracking_frame
from crmmodels.errors import DataError
from crmmodels.kernels._optim import compress_rows
from crmmodels.transactions._summary import summarize_transactions

__all__ = ["EngineSplit", "select_on_engine"]

_HISTORY = ("frequency", "recency", "T")
_HOLDOUT = "frequency_holdout"


class EngineSplit:
    """The parts of a split that stay on the engine or are aggregates (see the module)."""

    def __init__(
        self,
        split: LogSplit,
        whole: Any,
        rows: pd.DataFrame,
        counts: Any,
    ) -> None:
        self.split = split  # calibration and whole are empty: the data stay on the engine
        self.whole = whole  # narwhals LazyFrame: the whole-period summary on the engine
        self.rows = rows  # distinct (frequency, recency, T, frequency_holdout)
        self.counts = np.asarray(counts, dtype=np.float64)  # customers behind each row


def _summary(
    frame: Any, customer_col: str, date_col: str, end: Any, grid: Period, unit: Period
) -> Any:
    out = summarize_transactions(
        nw.to_native(frame),
        customer_col=customer_col,
        date_col=date_col,
        observation_end=end,
        period=grid,
        time_unit=None if grid == unit else unit,
    )
    return stored(nw.from_native(out))


def _repeat_stats(summary: Any) -> tuple[int, bool]:
    stats = collect(
        summary.select(
            nw.len().alias("n"), (nw.col("frequency") > 0).cast(nw.Int64).sum().alias("repeat")
        )
    ).rows(named=True)[0]
    return int(stats["n"]), int(stats["repeat"] or 0) > 0


def split_on_engine(
    frame: Any,
    *,
    customer_col: str,
    date_col: str,
    end: pd.Timestamp,
    tz: str | None,
    unit: Period,
    calibration_end: Any,
    holdout: Any,
) -> EngineSplit:
    """:func:`crmmodels.clv._selection_data.split_log` with the summaries on the engine."""
    days = _counts(frame, customer_col, date_col, "D")
    discrete = is_discrete(days[0], unit)
    grid = grid_of(unit, discrete)
    scale = 1.0 if grid == unit else period_days(grid) / period_days(unit)
    end_index = scalar_period_index(end, grid)
    tracking = _tracking(days, grid, frame, customer_col, date_col, end_index)
    cal, rule = _holdout_split(
        tracking.first, end_index, grid, unit, scale, calibration_end, holdout, tz
    )
    cal_end = _period_end(cal, grid)
    whole = _summary(frame, customer_col, date_col, end, grid, unit)
    n_whole, any_repeat = _repeat_stats(whole)
    if not any_repeat:
        raise DataError(
            f"no customer bought twice: all {n_whole} customers made one purchase "
            f"({unit_name(grid)} merged), so a repeat-purchase model has nothing to learn. "
            "Select a model on a log with repeat purchases."
        )
    part = _calibration_part(frame, date_col, grid, cal)
    cal_summary = _summary(part, customer_col, date_col, cal_end, grid, unit)
    n_cal, any_cal_repeat = _repeat_stats(cal_summary)
    if not any_cal_repeat:
        raise DataError(
            f"no customer bought twice by calibration_end ({cal_end.date()}): the calibration "
            "period has no repeat purchase to fit the models on. Pass a later "
            "calibration_end or a shorter holdout."
        )
    later = whole.select(nw.col(customer_col), nw.col("frequency").alias("__whole_frequency"))
    joined = (
        cal_summary.select(customer_col, *_HISTORY)
        .join(later, on=customer_col, how="left")
        .select(
            nw.col("frequency"),
            nw.col("recency").cast(nw.Float64),
            nw.col("T").cast(nw.Float64),
            (nw.col("__whole_frequency") - nw.col("frequency")).alias(_HOLDOUT),
        )
    )
    table, counts = engines.distinct_rows(joined, [*_HISTORY, _HOLDOUT], what="calibration")
    rows = table.to_pandas()
    empty = pd.DataFrame({customer_col: [], **{c: [] for c in (*_HISTORY, _HOLDOUT)}})
    split = LogSplit(
        grid=grid,
        time_unit=unit,
        scale=scale,
        discrete=discrete,
        first_index=tracking.first,
        cal_index=cal,
        end_index=end_index,
        calibration_end=cal_end,
        observation_end=end,
        holdout=float((end_index - cal) * scale),
        holdout_rule=rule,
        calibration=empty,
        whole=empty,
        tracking=tracking,
        n_new_in_holdout=n_whole - n_cal,
    )
    return EngineSplit(split, whole, rows, counts)


def _histories(parts: EngineSplit) -> pd.DataFrame:
    """The distinct calibration histories and their counts, as ``select_model`` has them."""
    hist = [parts.rows[c].to_numpy(dtype=np.float64) for c in _HISTORY]
    distinct, counts, _ = compress_rows(hist, parts.counts)
    rows = pd.DataFrame(dict(zip(_HISTORY, distinct, strict=True)))
    return rows.assign(weights=counts)


def _row(
    name: str, model: Any, status: str, parts: EngineSplit, curve: pd.DataFrame
) -> dict[str, Any]:
    """One row of the selection table; the holdout errors weighted by the counts."""
    row: dict[str, Any] = {"model": name, "status": status}
    if model is None:
        keys = ("n_params", "log_likelihood", "aic", "bic", "mae", "rmse")
        return row | dict.fromkeys((*keys, "curve_mape", "curve_end_error"), math.nan)
    boundary = model.diagnostics_.get("boundary")
    rows, w = parts.rows, parts.counts
    expected = model.conditional_expected_purchases(
        parts.split.holdout, *(rows[c].to_numpy(dtype=np.float64) for c in _HISTORY)
    )
    error = np.asarray(expected, dtype=np.float64) - rows[_HOLDOUT].to_numpy(dtype=np.float64)
    total = float(w.sum())
    mape, end_error = curve_errors(curve, name)
    return row | {
        "n_params": len(boundary["free_parameters"]) if boundary else len(model.params_),
        "log_likelihood": model.log_likelihood_,
        "aic": model.aic_,
        "bic": model.bic_,
        "mae": float(np.abs(error) @ w / total),
        "rmse": float(np.sqrt((error * error) @ w / total)),
        "curve_mape": mape,
        "curve_end_error": end_error,
    }


def select_on_engine(
    frame: Any,
    *,
    customer_col: str,
    date_col: str,
    end: pd.Timestamp,
    tz: str | None,
    unit: Period,
    calibration_end: Any,
    holdout: Any,
    model: str | None,
) -> tuple[ModelSelectionResult, Any]:
    """``select_model`` (criterion "rmse", candidates by default) on an engine log.

    Returns the result and the whole-period summary (on the engine) the chosen model was
    refitted on.
    """
    parts = split_on_engine(
        frame,
        customer_col=customer_col,
        date_col=date_col,
        end=end,
        tz=tz,
        unit=unit,
        calibration_end=calibration_end,
        holdout=holdout,
    )
    split = parts.split
    criterion = "rmse"
    names = _candidates(None, model, split.discrete)
    histories = _histories(parts)
    fits = {name: _fit(name, histories, unit, None, weights_col="weights") for name in names}
    tracking = tracking_frame(split, {n: m for n, (m, _) in fits.items() if m is not None})
    table = pd.DataFrame([_row(n, m, s, parts, tracking) for n, (m, s) in fits.items()])
    chosen = _chosen(table, model, criterion, names)
    table["chosen"] = table["model"] == chosen
    final, status = _fit(chosen, nw.to_native(parts.whole), unit, customer_col)
    _check_refit(final, chosen, status)
    result = ModelSelectionResult(
        table=table,
        chosen=chosen,
        reason=_reason(table, chosen, criterion, model is not None),
        criterion=criterion,
        calibration_end=split.calibration_end,
        observation_end=split.observation_end,
        holdout=split.holdout,
        holdout_rule=split.holdout_rule,
        time_unit=unit,
        discrete=split.discrete,
        n_customers=round(float(parts.counts.sum())),
        n_new_in_holdout=split.n_new_in_holdout,
        models={n: m for n, (m, _) in fits.items() if m is not None},
        model=final,
        tracking=tracking,
    )
    return result, parts.whole
