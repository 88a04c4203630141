"""The per-(entity, stage) aggregate of a stage-history log, computed on the caller's engine."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import narwhals.stable.v2 as nw
import numpy as np
import numpy.typing as npt
import pandas as pd

from crmmodels._frames import (
    check_columns,
    check_not_null,
    collect,
    count_true,
    python_scalar,
    to_narwhals,
    to_pandas,
)
from crmmodels._ingest.amounts import check_amounts
from crmmodels._ingest.dates import parse_dates
from crmmodels.errors import DataError, SchemaError
from crmmodels.funnel._result import FloatArray, _to_days
from crmmodels.kernels import stage_history as kf


@dataclass(frozen=True)
class _Aggregate:
    """One row per (entity, stage name) with codes instead of labels."""

    ent_codes: npt.NDArray[np.int64]
    ids: npt.NDArray[Any]
    stage_codes: npt.NDArray[np.int64]
    stage_labels: list[str]
    first: FloatArray
    t_max: float
    n_rows: npt.NDArray[np.int64]
    n_times: npt.NDArray[np.int64]
    amount: FloatArray | None
    segment: npt.NDArray[Any] | None
    n_events: int
    is_datetime: bool


def _validate(
    frame: Any, *, cols: list[str], extra: list[str], time_col: str, amount_col: str | None
) -> tuple[int, bool]:
    """Check columns, types and nulls (one engine-side pass); return rows and time kind."""
    what = "history"
    check_columns(frame, cols + extra, what=what)
    schema = frame.collect_schema()
    tdtype = schema[time_col]
    is_datetime = tdtype == nw.Date or isinstance(tdtype, nw.Datetime) or tdtype == nw.Datetime
    if not is_datetime and not tdtype.is_numeric():
        raise SchemaError(
            f"{what}: column '{time_col}' must hold datetimes, dates or numbers (days); "
            f"its type is {tdtype}. Convert it first (e.g. pandas.to_datetime)."
        )
    if amount_col is not None and not schema[amount_col].is_numeric():
        raise SchemaError(
            f"{what}: column '{amount_col}' must be numeric; its type is {schema[amount_col]}."
        )
    stats = collect(
        frame.select(
            nw.len().alias("n"),
            *[count_true(nw.col(c).is_null()).alias(c) for c in cols],
        )
    ).rows(named=True)[0]
    n_rows = int(stats["n"])
    if n_rows == 0:
        raise DataError(f"{what} is empty: no stage events to count.")
    if any(int(stats[c] or 0) for c in cols):
        check_not_null(frame, cols, what=what, id_col=cols[0])
    if amount_col is not None:
        check_amounts(
            frame,
            amount_col,
            what=what,
            id_col=cols[0],
            negative_fix="A deal amount cannot be negative; fix or drop those rows.",
        )
    return n_rows, bool(is_datetime)


def _segment_error(segment_col: str, entity_col: str, n_bad: int, example: Any) -> DataError:
    return DataError(
        f"history: column '{segment_col}' changes within an entity for {n_bad} "
        f"entities (first example: {entity_col}={python_scalar(example)!r}); a segment "
        "must be constant per entity."
    )


def _aggregate_narwhals(
    frame: Any,
    *,
    entity_col: str,
    stage_col: str,
    time_col: str,
    amount_col: str | None,
    segment_col: str | None,
    n_events: int,
    is_datetime: bool,
) -> _Aggregate:
    """Per-(entity, stage) aggregate computed on the caller's engine, then collected."""
    keys = [entity_col, stage_col] + ([segment_col] if segment_col else [])
    if frame.implementation is nw.Implementation.DASK:
        # Dask's grouped n_unique is not exact across partitions: count distinct events
        # with their multiplicity first, then aggregate to one row per (entity, stage)
        ev_aggs = [nw.len().alias("_n_rows")]
        if amount_col is not None:
            ev_aggs.append(nw.col(amount_col).max().alias("_amount"))
        source = frame.group_by([*keys, time_col]).agg(*ev_aggs)
        aggs = [
            nw.len().alias("_n_times"),
            nw.col("_n_rows").sum().alias("_n_rows"),
        ]
    else:
        source = frame
        aggs = [
            nw.col(time_col).n_unique().alias("_n_times"),
            nw.len().alias("_n_rows"),
        ]
    aggs += [
        nw.col(time_col).min().alias("_first"),
        nw.col(time_col).max().alias("_last"),
    ]
    if amount_col is not None:
        aggs.append(nw.col("_amount" if source is not frame else amount_col).max().alias("_amount"))
    agg = to_pandas(source.group_by(keys).agg(*aggs))
    ent_codes, ids = pd.factorize(agg[entity_col], sort=True)
    stage_codes, stage_idx = pd.factorize(agg[stage_col])
    segment = None
    if segment_col is not None:
        pairs = pd.DataFrame({"e": ent_codes, "s": agg[segment_col].to_numpy()})
        pairs = pairs.drop_duplicates()
        if len(pairs) != len(ids):
            dup = pairs["e"].duplicated(keep=False).to_numpy()
            bad = pairs["e"].to_numpy()[dup]
            ex = np.asarray(ids)[bad.min()]
            raise _segment_error(segment_col, entity_col, len(np.unique(bad)), ex)
        segment = np.empty(len(ids), dtype=object)
        segment[pairs["e"].to_numpy()] = pairs["s"].to_numpy()
    return _Aggregate(
        ent_codes=ent_codes.astype(np.int64),
        ids=np.asarray(ids),
        stage_codes=stage_codes.astype(np.int64),
        stage_labels=[str(v) for v in stage_idx],
        first=_to_days(agg["_first"], is_datetime),
        t_max=float(np.max(_to_days(agg["_last"], is_datetime))),
        n_rows=agg["_n_rows"].to_numpy(dtype=np.int64),
        n_times=agg["_n_times"].to_numpy(dtype=np.int64),
        amount=(
            agg["_amount"].to_numpy(dtype=np.float64, na_value=np.nan)
            if amount_col is not None
            else None
        ),
        segment=segment,
        n_events=n_events,
        is_datetime=is_datetime,
    )


def _pandas_times(col: pd.Series) -> tuple[npt.NDArray[Any], float] | None:
    """Integer ticks and ticks per day of a datetime64 column (None: not datetime64)."""
    dtype = col.dtype
    if isinstance(dtype, pd.DatetimeTZDtype):
        col = col.dt.tz_convert("UTC").dt.tz_localize(None)
        dtype = col.dtype
    if not (isinstance(dtype, np.dtype) and dtype.kind == "M"):
        return None
    unit = np.datetime_data(cast(Any, dtype))[0]
    per_day = {"s": 86_400.0, "ms": 86_400e3, "us": 86_400e6, "ns": 86_400e9}.get(unit)
    if per_day is None:
        return None
    return col.to_numpy().view(np.int64), per_day


def _aggregate_pandas(
    df: pd.DataFrame,
    *,
    entity_col: str,
    stage_col: str,
    time_col: str,
    amount_col: str | None,
    segment_col: str | None,
    n_events: int,
    is_datetime: bool,
) -> _Aggregate | None:
    """The same aggregate for pandas input with hash factorisation and numpy reductions.

    Returns None when the time column is not a numpy datetime64 / numeric column (then
    the generic path runs).
    """
    tcol = df[time_col]
    if is_datetime:
        ticks = _pandas_times(tcol)
        if ticks is None:
            return None
        t, per_day = ticks
    else:
        if not (isinstance(tcol.dtype, np.dtype) and tcol.dtype.kind in "iuf"):
            return None
        t, per_day = tcol.to_numpy(), 1.0
    ent, ids = pd.factorize(df[entity_col], sort=True)
    stg, stage_idx = pd.factorize(df[stage_col])
    n_lab = len(stage_idx)
    key = ent.astype(np.int64) * n_lab + stg
    amt = None
    if amount_col is not None:
        amt = df[amount_col].to_numpy(dtype=np.float64, na_value=np.nan)
    out = kf.aggregate_events(key, t, len(ids) * n_lab, amt)
    segment = None
    if segment_col is not None:
        seg, seg_idx = pd.factorize(df[segment_col])
        lo = np.full(len(ids), np.iinfo(np.int64).max)
        hi = np.full(len(ids), -1)
        np.minimum.at(lo, ent, seg)
        np.maximum.at(hi, ent, seg)
        bad = lo != hi
        if bad.any():
            raise _segment_error(
                segment_col, entity_col, int(bad.sum()), np.asarray(ids)[int(np.argmax(bad))]
            )
        segment = np.asarray(seg_idx, dtype=object)[lo]
    scale = 1.0 / per_day
    return _Aggregate(
        ent_codes=out["key"] // n_lab,
        ids=np.asarray(ids),
        stage_codes=out["key"] % n_lab,
        stage_labels=[str(v) for v in stage_idx],
        first=out["first"].astype(np.float64) * scale,
        t_max=float(out["t_max"]) * scale,
        n_rows=out["n_rows"].astype(np.int64),
        n_times=out["n_times"].astype(np.int64),
        amount=out.get("amount"),
        segment=segment,
        n_events=n_events,
        is_datetime=is_datetime,
    )


def _aggregate(
    history: Any,
    *,
    entity_col: str,
    stage_col: str,
    time_col: str,
    amount_col: str | None,
    segment_col: str | None,
    date_format: str | None = None,
) -> _Aggregate:
    """Validate the log and build the per-(entity, stage) aggregate."""
    frame = to_narwhals(history, what="history")
    schema = frame.collect_schema()
    if time_col in schema and schema[time_col] in (nw.String, nw.Object):  # text or objects
        frame = parse_dates(frame, time_col, date_format=date_format, what="history")
    cols = [entity_col, stage_col, time_col]
    extra = [c for c in (amount_col, segment_col) if c is not None]
    n_events, is_datetime = _validate(
        frame, cols=cols, extra=extra, time_col=time_col, amount_col=amount_col
    )
    kw: dict[str, Any] = {
        "entity_col": entity_col,
        "stage_col": stage_col,
        "time_col": time_col,
        "amount_col": amount_col,
        "segment_col": segment_col,
        "n_events": n_events,
        "is_datetime": is_datetime,
    }
    native = nw.to_native(frame)
    if isinstance(native, pd.DataFrame):
        fast = _aggregate_pandas(native, **kw)
        if fast is not None:
            return fast
    return _aggregate_narwhals(frame, **kw)
