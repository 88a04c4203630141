"""The per-(entity, stage) aggregate of a stage-history log.

One rule, the customer summary's: an eager frame (pandas, polars, pyarrow) is viewed as
numpy arrays and aggregated by :func:`crmmodels.kernels.funnel.aggregate_events`;
a lazy frame (polars lazy, DuckDB, Dask, PySpark) is aggregated on its engine and only the
aggregate is collected. Timezone-aware dates are first moved to their local wall time, so
days are those of the data's own calendar.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import narwhals.stable.v2 as nw
import numpy as np
import numpy.typing as npt
import pandas as pd

from crmmodels._ingest.amounts import check_amounts
from crmmodels._ingest.dates import parse_dates
from crmmodels._ingest.frames import (
    check_columns,
    check_not_null,
    collect,
    count_true,
    local_dates,
    python_scalar,
    to_narwhals,
    to_pandas,
)
from crmmodels._ingest.log import pandas_wall_time, ticks_per_day, time_zone
from crmmodels.errors import DataError, SchemaError
from crmmodels.funnel._result import FloatArray
from crmmodels.kernels import funnel as kf


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
    time_zone: str | None


def _validate(
    frame: Any, *, cols: list[str], extra: list[str], date_col: str, amount_col: str | None
) -> tuple[int, bool]:
    """Check columns, types and nulls (one engine-side pass); return rows and time kind."""
    what = "history"
    check_columns(frame, cols + extra, what=what)
    schema = frame.collect_schema()
    tdtype = schema[date_col]
    is_datetime = tdtype == nw.Date or isinstance(tdtype, nw.Datetime) or tdtype == nw.Datetime
    if not is_datetime and not tdtype.is_numeric():
        raise SchemaError(
            f"{what}: column '{date_col}' must hold datetimes, dates or numbers (days); "
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


def _days(values: npt.NDArray[Any], is_datetime: bool) -> FloatArray:
    """Dates as float days since 1970-01-01 (numbers are days already).

    Days are ticks divided by ticks per day, so one instant gives the same float in every
    time unit (and a whole day is an exact number).
    """
    if not is_datetime:
        return np.asarray(values, dtype=np.float64)
    if values.dtype.kind != "M":  # date objects (a lazy engine's dates), or Timestamps
        values = pd.to_datetime(pd.Series(values)).to_numpy(dtype="datetime64[ns]")
    return values.view(np.int64) / float(ticks_per_day(values.dtype))


def _segments(
    seg_codes: npt.NDArray[np.int64],
    seg_labels: npt.NDArray[Any],
    ent_codes: npt.NDArray[np.int64],
    n_ent: int,
    *,
    ids: npt.NDArray[Any],
    segment_col: str,
    entity_col: str,
) -> npt.NDArray[Any]:
    """The one segment of each entity; :class:`DataError` when it changes within one."""
    lo = np.full(n_ent, np.iinfo(np.int64).max)
    hi = np.full(n_ent, -1)
    np.minimum.at(lo, ent_codes, seg_codes)
    np.maximum.at(hi, ent_codes, seg_codes)
    bad = lo != hi
    if bad.any():
        raise DataError(
            f"history: column '{segment_col}' changes within an entity for {int(bad.sum())} "
            f"entities (first example: {entity_col}="
            f"{python_scalar(ids[int(np.argmax(bad))])!r}); a segment must be constant per "
            "entity."
        )
    labels: npt.NDArray[Any] = np.asarray(seg_labels, dtype=object)[lo]
    return labels


def _from_keys(
    *,
    entity: Any,
    stage: Any,
    segment: Any,
    entity_col: str,
    segment_col: str | None,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[Any], npt.NDArray[np.int64], list[str], Any]:
    """Entity codes (sorted ids), stage codes and labels, and the entity segments."""
    ent, ids = pd.factorize(entity, sort=True)
    stg, stage_idx = pd.factorize(stage)
    ids = np.asarray(ids)
    seg = None
    if segment is not None:
        assert segment_col is not None
        seg_codes, seg_labels = pd.factorize(segment, use_na_sentinel=False)
        seg = _segments(
            seg_codes.astype(np.int64),
            np.asarray(seg_labels, dtype=object),
            ent.astype(np.int64),
            len(ids),
            ids=ids,
            segment_col=segment_col,
            entity_col=entity_col,
        )
    return ent.astype(np.int64), ids, stg.astype(np.int64), [str(v) for v in stage_idx], seg


def _key_values(frame: nw.DataFrame[Any], col: str) -> Any:
    """A key column for :func:`pandas.factorize`, without copying text into Python objects.

    pandas columns are used as they are; numbers become numpy arrays; other columns (text,
    categories) become arrow-backed pandas Series, which factorise in arrow (Python
    objects when pyarrow is not installed).
    """
    series = frame[col]
    native = series.to_native()
    if isinstance(native, pd.Series):
        return native
    if series.dtype.is_numeric():
        return series.to_numpy()
    try:
        import pyarrow as pa  # type: ignore[import-untyped]
    except ImportError:  # pragma: no cover - pyarrow is optional
        return series.to_numpy().astype(object)
    arrow = series.to_arrow()
    if pa.types.is_dictionary(arrow.type):
        arrow = arrow.cast(arrow.type.value_type)
    return pd.Series(pd.arrays.ArrowExtensionArray(arrow))


def _aggregate_eager(
    frame: nw.DataFrame[Any],
    *,
    entity_col: str,
    stage_col: str,
    date_col: str,
    amount_col: str | None,
    segment_col: str | None,
) -> dict[str, Any]:
    """The aggregate of an eager frame: numpy views and one kernel pass."""
    t = frame[date_col].to_numpy()
    if t.dtype.kind == "b":
        t = t.astype(np.int64)
    elif t.dtype.kind not in "iufM":  # dates as objects: read them as datetime64
        t = pd.to_datetime(pd.Series(t)).to_numpy(dtype="datetime64[ns]")
    ent, ids, stg, labels, segment = _from_keys(
        entity=_key_values(frame, entity_col),
        stage=_key_values(frame, stage_col),
        segment=None if segment_col is None else _key_values(frame, segment_col),
        entity_col=entity_col,
        segment_col=segment_col,
    )
    amt = None
    if amount_col is not None:
        amt = np.asarray(frame[amount_col].to_numpy(), dtype=np.float64)
    n_lab = len(labels)
    ticks = t.view(np.int64) if t.dtype.kind == "M" else t
    out = kf.aggregate_events(ent * n_lab + stg, ticks, len(ids) * n_lab, amt)
    key = out["key"]
    if t.dtype.kind == "M":  # the kernel's ticks back to the column's datetime unit
        first, t_max = out["first"].view(t.dtype), out["t_max"].view(t.dtype)
    else:
        first, t_max = out["first"], out["t_max"]
    return {
        "ent_codes": key // n_lab,
        "ids": ids,
        "stage_codes": key % n_lab,
        "stage_labels": labels,
        "first": first,
        "t_max": np.asarray(t_max).reshape(1),
        "n_rows": out["n_rows"].astype(np.int64),
        "n_times": out["n_times"].astype(np.int64),
        "amount": out.get("amount"),
        "segment": segment,
    }


def _aggregate_lazy(
    frame: Any,
    *,
    entity_col: str,
    stage_col: str,
    date_col: str,
    amount_col: str | None,
    segment_col: str | None,
) -> dict[str, Any]:
    """The aggregate of a lazy frame: computed on the caller's engine, then collected."""
    keys = [entity_col, stage_col] + ([segment_col] if segment_col else [])
    if frame.implementation is nw.Implementation.DASK:
        # Dask's grouped n_unique is not exact across partitions: count distinct events
        # with their multiplicity first, then aggregate to one row per (entity, stage)
        ev_aggs = [nw.len().alias("_n_rows")]
        if amount_col is not None:
            ev_aggs.append(nw.col(amount_col).max().alias("_amount"))
        source = frame.group_by([*keys, date_col]).agg(*ev_aggs)
        aggs = [
            nw.len().alias("_n_times"),
            nw.col("_n_rows").sum().alias("_n_rows"),
        ]
    else:
        source = frame
        aggs = [
            nw.col(date_col).n_unique().alias("_n_times"),
            nw.len().alias("_n_rows"),
        ]
    aggs += [
        nw.col(date_col).min().alias("_first"),
        nw.col(date_col).max().alias("_last"),
    ]
    if amount_col is not None:
        aggs.append(nw.col("_amount" if source is not frame else amount_col).max().alias("_amount"))
    agg = to_pandas(source.group_by(keys).agg(*aggs))
    ent, ids, stg, labels, segment = _from_keys(
        entity=agg[entity_col],
        stage=agg[stage_col],
        segment=None if segment_col is None else agg[segment_col],
        entity_col=entity_col,
        segment_col=segment_col,
    )
    return {
        "ent_codes": ent,
        "ids": ids,
        "stage_codes": stg,
        "stage_labels": labels,
        "first": agg["_first"].to_numpy(),
        "t_max": agg["_last"].to_numpy(),
        "n_rows": agg["_n_rows"].to_numpy(dtype=np.int64),
        "n_times": agg["_n_times"].to_numpy(dtype=np.int64),
        "amount": (
            agg["_amount"].to_numpy(dtype=np.float64, na_value=np.nan)
            if amount_col is not None
            else None
        ),
        "segment": segment,
    }


def _local_frame(history: Any, date_col: str, date_format: str | None) -> tuple[Any, str | None]:
    """The log as a narwhals frame with its dates parsed and on their local wall time."""
    history, tz = pandas_wall_time(history, date_col)
    frame = to_narwhals(history, what="history")
    schema = frame.collect_schema()
    if date_col in schema and schema[date_col] in (nw.String, nw.Object):  # text or objects
        frame = parse_dates(frame, date_col, date_format=date_format, what="history")
    if date_col in schema:
        tz = tz or time_zone(frame, date_col)
        frame = local_dates(frame, date_col)
    return frame, tz


def _aggregate(
    history: Any,
    *,
    entity_col: str,
    stage_col: str,
    date_col: str,
    amount_col: str | None,
    segment_col: str | None,
    date_format: str | None = None,
) -> _Aggregate:
    """Validate the log and build the per-(entity, stage) aggregate."""
    frame, tz = _local_frame(history, date_col, date_format)
    cols = [entity_col, stage_col, date_col]
    extra = [c for c in (amount_col, segment_col) if c is not None]
    n_events, is_datetime = _validate(
        frame, cols=cols, extra=extra, date_col=date_col, amount_col=amount_col
    )
    kw: dict[str, Any] = {
        "entity_col": entity_col,
        "stage_col": stage_col,
        "date_col": date_col,
        "amount_col": amount_col,
        "segment_col": segment_col,
    }
    if isinstance(frame, nw.DataFrame):
        parts = _aggregate_eager(frame, **kw)
    else:
        parts = _aggregate_lazy(frame, **kw)
    first = parts.pop("first")
    t_max = parts.pop("t_max")
    return _Aggregate(
        **parts,
        first=_days(first, is_datetime),
        t_max=float(np.max(_days(t_max, is_datetime))),
        n_events=n_events,
        is_datetime=is_datetime,
        time_zone=tz,
    )
