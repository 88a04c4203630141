"""Funnels on event streams: :func:`stream_funnel`.

A click or event stream (home, catalog, product view, cart, purchase) is counted the way
product-analytics tools count an ordered funnel: an entity reaches step ``k`` when its
path holds steps 1 to ``k`` in order, other events in between (``mode="sequence"``). The
first-entry rule of :func:`~crmmodels.funnel.funnel_metrics` is available as
``mode="ordered"``, a conversion window limits the time from the first step, events that
are not steps can be ignored (and reported), and segments are compared step by step.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import narwhals.stable.v2 as nw
import numpy as np
import numpy.typing as npt
import pandas as pd

from crmmodels._ingest.arguments import check_choice, check_column_name, check_level, check_number
from crmmodels._ingest.frames import check_not_null, python_scalar, to_pandas
from crmmodels.errors import ArgumentError, DataError, SchemaError
from crmmodels.funnel._aggregate import _days, _key_values, _local_frame, _segments, _validate
from crmmodels.funnel._metrics import _names
from crmmodels.funnel._result import _days_to_label, _scalar_days
from crmmodels.funnel._stream_result import StreamFunnelResult, _segment_table, _step_table
from crmmodels.kernels import funnel_stream as ks

StreamMode = Literal["sequence", "ordered"]


def _window_days(window: Any, is_datetime: bool) -> float | None:
    """The conversion window in days (in the column's own unit for a numeric date column)."""
    if window is None:
        return None
    if isinstance(window, (str, dt.timedelta, np.timedelta64)):
        if not is_datetime:
            raise ArgumentError(
                f"window must be a number when the date column is numeric; got {window!r}."
            )
        try:
            delta = pd.Timedelta(window)
        except (ValueError, TypeError) as exc:
            raise ArgumentError(
                f"window must be a duration ('7D', '30min', a timedelta) or a number of days; "
                f"got {window!r}."
            ) from exc
        if pd.isna(delta):
            raise ArgumentError("window must be a duration, not a missing value (NaT).")
        days = delta / pd.Timedelta(days=1)
    else:
        days = check_number(window, "window", fix="Pass a number of days or a duration.")
    if days < 0:
        raise ArgumentError(f"window must not be negative; got {window!r}.")
    return float(days)


def _collect_events(
    frame: Any, cols: list[str], stage_col: str, stages: tuple[str, ...], ignore: bool
) -> tuple[nw.DataFrame[Any], pd.DataFrame | None, int | None]:
    """An eager frame of the needed columns; a lazy one is reduced on its engine first.

    Returns the frame, the event count per stage name (lazy engines only) and the number
    of distinct entities (lazy engines only, before events are left out).
    """
    if isinstance(frame, nw.DataFrame):
        return frame.select(cols), None, None
    pairs = frame.group_by([stage_col, cols[0]]).agg(nw.len().alias("_n"))
    names = to_pandas(
        pairs.group_by(stage_col).agg(nw.col("_n").sum().alias("_n"), nw.len().alias("_e"))
    )
    n_ent = len(to_pandas(frame.select(cols[0]).unique()))
    if ignore:
        # the step events, plus one row for each entity without any (it stays in the
        # result with no step reached, as on eager frames)
        steps_only = frame.filter(nw.col(stage_col).is_in(list(stages))).select(cols)
        without = frame.join(steps_only.select(cols[0]).unique(), on=cols[0], how="anti")
        one_row = without.group_by(cols[0]).agg(*[nw.col(c).min() for c in cols[1:]])
        frame = nw.concat([steps_only, one_row.select(cols)], how="vertical")
    return nw.from_native(to_pandas(frame.select(cols)), eager_only=True), names, n_ent


def _step_codes(
    labels: list[str],
    counts: npt.NDArray[np.int64],
    ent_counts: npt.NDArray[np.int64],
    stages: tuple[str, ...],
    stage_col: str,
    ignore: bool,
) -> tuple[npt.NDArray[np.int64], pd.DataFrame]:
    """Step position of each stage label (-1 for other events) and the ignored-events table."""
    pos = {s: i for i, s in enumerate(stages)}
    codes = np.array([pos.get(s, -1) for s in labels], dtype=np.int64)
    other = [i for i, s in enumerate(labels) if s not in pos and counts[i] > 0]
    other.sort(key=lambda i: (-int(counts[i]), labels[i]))
    if other and not ignore:
        listed = ", ".join(f"{labels[i]!r} ({int(counts[i])} rows)" for i in other[:10])
        raise DataError(
            f"history: column '{stage_col}' holds {len(other)} event name(s) that are not "
            f"funnel steps: {listed}. Pass other_events='ignore' to leave them out (they are "
            "counted in the result's 'ignored' table), or add them to stages=."
        )
    ignored = pd.DataFrame(
        {
            "event": [labels[i] for i in other],
            "events": [int(counts[i]) for i in other],
            "entities": [int(ent_counts[i]) for i in other],
        }
    )
    return codes, ignored


def stream_funnel(
    history: Any,
    *,
    stages: Sequence[str],
    entity_col: str = "entity_id",
    stage_col: str = "stage",
    date_col: str = "entered_at",
    mode: StreamMode = "sequence",
    window: Any = None,
    other_events: Literal["raise", "ignore"] = "raise",
    segment_col: str | None = None,
    reference: Any = None,
    level: float = 0.95,
    observation_end: Any = None,
    date_format: str | None = None,
) -> StreamFunnelResult:
    r"""Ordered funnel of an event stream, counted as product-analytics tools count it.

    Parameters
    ----------
    history : DataFrame
        One row per event (pandas, polars, pyarrow, DuckDB, Dask or PySpark).
    stages : sequence of str
        The funnel steps in order (event names in ``stage_col``).
    entity_col, stage_col, date_col : str
        Column names: who moves through the funnel (a user, a session, a deal), the event
        name, and its time (datetime, date, ISO 8601 text or a number).
    mode : {"sequence", "ordered"}
        ``"sequence"`` (default): an entity reaches step ``k`` when its events hold steps
        1 to ``k`` in this order, any other events in between (the steps form a
        subsequence of its path; a step may share the time of the step before it).
        ``"ordered"``: the first-entry rule of :func:`funnel_metrics` (``mode="ordered"``):
        the *first* events of steps 1 to ``k`` must come in order, so an entity whose
        first cart event precedes its first product view never passes the cart step.
    window : number, str or timedelta, optional
        Conversion window: a step counts only when reached no later than ``window`` after
        the first step (days as a number, or a duration such as ``"7D"``, ``"2h"``; for a
        numeric date column, a number in its unit). In ``"sequence"`` mode every
        first-step event starts an attempt and the entity's best attempt counts.
    other_events : {"raise", "ignore"}
        Events whose name is not a step: ``"raise"`` a :class:`~crmmodels.errors.DataError`
        listing them, or ``"ignore"`` them (counted in :attr:`StreamFunnelResult.ignored`).
    segment_col : str, optional
        A segment constant per entity (channel, platform, cohort label): fills
        :attr:`StreamFunnelResult.segments`, with each segment's conversion compared to
        the ``reference`` segment.
    reference : optional
        The segment the others are compared to (default: the one with most entities at
        the first step; ties: the first in sorted order).
    level : float
        Level of the intervals of the differences (default 0.95).
    observation_end : date or number, optional
        The cut-off (default: the last event): later events are left out and counted in
        ``n_after_end``.
    date_format : str, optional
        strftime layout of a text ``date_col``; without it text dates must be ISO 8601.

    Returns
    -------
    StreamFunnelResult
        ``.to_frame()`` has one row per step: ``step``, ``stage``, ``entered``,
        ``dropped``, ``conversion`` (to the next step; NaN at the last step),
        ``cumulative_conversion`` (entered / entered at step 1) and the time to convert
        (days from the first step): ``time_to_convert_mean``, ``_median``, ``_p90``.

    Raises
    ------
    SchemaError
        Missing columns, no or repeated steps, a date column that holds no dates.
    DataError
        Empty log; null ids, names or times; event names that are not steps (with
        ``other_events="raise"``); a segment that changes within an entity.
        :class:`~crmmodels.errors.ArgumentError` for a bad ``mode``, ``window``,
        ``other_events``, ``reference``, ``level`` or ``observation_end``.

    Notes
    -----
    With a ``window`` :math:`w`, an attempt started at a first-step event at time
    :math:`t_0` reaches step :math:`k` when steps 2 to :math:`k` follow it in order by
    :math:`t_0 + w`, each at the first event at or after the step before it. Times to
    convert come from the entity's earliest attempt of its best depth. The difference of
    a segment's cumulative conversion to the reference's has Newcombe's hybrid score
    interval (Wilson intervals of both proportions).

    Examples
    --------
    >>> import pandas as pd
    >>> log = pd.DataFrame({
    ...     "entity_id": [1, 1, 1, 1, 2, 2, 3],
    ...     "stage": ["cart", "view", "home", "cart", "view", "home", "home"],
    ...     "entered_at": [0.0, 1.0, 1.5, 2.0, 0.0, 3.0, 1.0],
    ... })
    >>> res = stream_funnel(log, stages=["view", "cart"], other_events="ignore")
    >>> res.to_frame()[["stage", "entered", "conversion"]].values.tolist()
    [['view', 2, 0.5], ['cart', 1, nan]]
    >>> stream_funnel(log, stages=["view", "cart"], mode="ordered",
    ...               other_events="ignore").to_frame()["entered"].tolist()
    [2, 0]
    >>> res.ignored.values.tolist()
    [['home', 3, 3]]
    """
    st = _names(stages, "stages")
    if not st:
        raise SchemaError("stages must name at least one funnel step.")
    if len(set(st)) != len(st):
        raise SchemaError(f"stages must be distinct; got {list(st)}.")
    check_choice(mode, "mode", ("sequence", "ordered"))
    check_choice(other_events, "other_events", ("raise", "ignore"))
    lvl = check_level(level, "level")
    for arg, value in (
        ("entity_col", entity_col),
        ("stage_col", stage_col),
        ("date_col", date_col),
        ("segment_col", segment_col),
    ):
        if value is not None:
            check_column_name(value, arg)
    ev = _read_events(
        history,
        cols=(entity_col, stage_col, date_col),
        segment_col=segment_col,
        stages=st,
        ignore=other_events == "ignore",
        date_format=date_format,
    )
    win = _window_days(window, ev.is_datetime)
    end = (
        (float(np.max(ev.days)) if ev.days.size else float("nan"))
        if observation_end is None
        else _scalar_days(observation_end, ev.is_datetime, "observation_end", ev.time_zone)
    )
    keep = ev.step >= 0
    n_after_end = 0
    if observation_end is not None or np.isnan(end):  # by default no event is after the end
        n_after_end = int(np.count_nonzero(keep & (ev.days > end)))
        keep &= ev.days <= end
    rows = np.flatnonzero(keep)
    n_ent, k = len(ev.ids), len(st)
    if rows.size == keep.size:  # every event is a step: no copies
        e, s, d = ev.ent, ev.step, ev.days
    else:
        e, s, d = ev.ent.take(rows), ev.step.take(rows), ev.days.take(rows)
    reach, times = _paths(e, s, d, n_ent, k, mode, win)
    table = _step_table(st, reach, times)
    segments, ref = (None, None)
    if ev.segment is not None:
        segments, ref = _segment_table(st, reach, ev.segment, reference, lvl)
    entered0 = int(table["entered"].iloc[0])
    return StreamFunnelResult(
        table=table,
        segments=segments,
        ignored=ev.ignored,
        mode=mode,
        stages=st,
        window=win,
        reference=None if ref is None else python_scalar(ref),
        level=lvl,
        observation_end=_days_to_label(end, ev.is_datetime),
        n_entities=ev.n_entities,
        n_events=ev.n_rows,
        n_ignored_events=int(ev.ignored["events"].sum()),
        n_after_end=n_after_end,
        conversion=float(table["entered"].iloc[-1] / entered0) if entered0 else float("nan"),
        _ids=ev.ids,
        _reach=reach,
        _times=times,
        _segment=ev.segment,
    )


@dataclass(frozen=True)
class _Events:
    """The step events of a stream as codes: entity, step (-1: not a step), time in days."""

    ent: npt.NDArray[np.int64]
    ids: npt.NDArray[Any]
    step: npt.NDArray[np.int64]
    days: npt.NDArray[np.float64]
    segment: npt.NDArray[Any] | None
    ignored: pd.DataFrame
    n_rows: int
    n_entities: int
    is_datetime: bool
    time_zone: str | None


def _read_events(
    history: Any,
    *,
    cols: tuple[str, str, str],
    segment_col: str | None,
    stages: tuple[str, ...],
    ignore: bool,
    date_format: str | None,
) -> _Events:
    """Validate the log and turn it into codes (steps, entities, segments) and days."""
    entity_col, stage_col, date_col = cols
    frame, tz = _local_frame(history, date_col, date_format)
    extra = [] if segment_col is None else [segment_col]
    n_rows, is_datetime = _validate_log(frame, list(cols), extra, date_col)
    eager, names, n_ent_all = _collect_events(frame, list(cols) + extra, stage_col, stages, ignore)
    ent, ids = _entity_codes(_key_values(eager, entity_col))
    polars_text = (
        eager.implementation is nw.Implementation.POLARS and eager.schema[stage_col] == nw.String
    )
    if names is None and polars_text:
        step, ignored = _polars_steps(eager, entity_col, stage_col, stages, ignore)
    else:
        step, ignored = _label_steps(eager, ent, len(ids), names, stage_col, stages, ignore)
    t = eager[date_col].to_numpy()
    return _finish(
        eager, ent, ids, step, ignored, t, cols, segment_col, n_rows, n_ent_all, is_datetime, tz
    )


def _validate_log(frame: Any, cols: list[str], extra: list[str], date_col: str) -> tuple[int, bool]:
    """Columns, types and nulls of the log; the rows and whether times are datetimes.

    A lazy frame is checked on its engine; an eager one has its types checked on its
    first row and its nulls counted per column (a null count is kept by arrow and polars
    columns, so no full pass is made for them).
    """
    if not isinstance(frame, nw.DataFrame):
        return _validate(frame, cols=cols, extra=extra, date_col=date_col, amount_col=None)
    _, is_datetime = _validate(
        frame.head(1), cols=cols, extra=extra, date_col=date_col, amount_col=None
    )
    if any(frame[c].null_count() for c in cols):
        check_not_null(frame, cols, what="history", id_col=cols[0])
    return len(frame), is_datetime


def _polars_steps(
    eager: nw.DataFrame[Any],
    entity_col: str,
    stage_col: str,
    stages: tuple[str, ...],
    ignore: bool,
) -> tuple[npt.NDArray[np.int64], pd.DataFrame]:
    """Step codes (-1: not a step) and the ignored-events table, computed by polars.

    The event names never leave the engine: they are mapped to step positions there,
    and the other names are counted there (events and distinct entities per name).
    """
    code = nw.col(stage_col).replace_strict(
        list(stages), list(range(len(stages))), default=-1, return_dtype=nw.Int32
    )
    coded = eager.select(nw.col(entity_col, stage_col), code.alias("_step"))
    names = to_pandas(
        coded.filter(nw.col("_step") < 0)
        .group_by(stage_col)
        .agg(nw.len().alias("_n"), nw.col(entity_col).n_unique().alias("_e"))
    )
    labels = [str(v) for v in names[stage_col]]
    _, ignored = _step_codes(
        labels,
        names["_n"].to_numpy(dtype=np.int64),
        names["_e"].to_numpy(dtype=np.int64),
        stages,
        stage_col,
        ignore,
    )
    return coded["_step"].to_numpy().astype(np.int64), ignored


def _label_steps(
    eager: nw.DataFrame[Any],
    ent: npt.NDArray[np.int64],
    n_ent: int,
    names: pd.DataFrame | None,
    stage_col: str,
    stages: tuple[str, ...],
    ignore: bool,
) -> tuple[npt.NDArray[np.int64], pd.DataFrame]:
    """Step codes (-1: not a step) and the ignored-events table, from factorised names."""
    lab_codes, lab_idx = pd.factorize(_key_values(eager, stage_col))
    labels = [str(v) for v in lab_idx]
    counts = np.bincount(lab_codes, minlength=len(labels)).astype(np.int64)
    if names is not None:  # a lazy engine: counts of every name come from the engine
        name_of = names[stage_col].astype(str)
        n_by = dict(zip(name_of, names["_n"], strict=True))
        e_by = dict(zip(name_of, names["_e"], strict=True))
        labels = labels + [s for s in n_by if s not in set(labels)]
        counts = np.array([int(n_by.get(s, 0)) for s in labels], dtype=np.int64)
        ent_counts = np.array([int(e_by.get(s, 0)) for s in labels], dtype=np.int64)
    else:
        ent_counts = _entities_per_label(ent, lab_codes, n_ent, labels, stages)
    code_of_label, ignored = _step_codes(labels, counts, ent_counts, stages, stage_col, ignore)
    return code_of_label[lab_codes], ignored


def _finish(
    eager: nw.DataFrame[Any],
    ent: npt.NDArray[np.int64],
    ids: npt.NDArray[Any],
    step: npt.NDArray[np.int64],
    ignored: pd.DataFrame,
    t: npt.NDArray[Any],
    cols: tuple[str, str, str],
    segment_col: str | None,
    n_rows: int,
    n_ent_all: int | None,
    is_datetime: bool,
    tz: str | None,
) -> _Events:
    """Times in days and the segment of each entity: the coded events."""
    entity_col = cols[0]
    if t.dtype.kind == "b":
        t = t.astype(np.int64)
    elif t.dtype.kind not in "iufM":
        t = pd.to_datetime(pd.Series(t)).to_numpy(dtype="datetime64[ns]")
    seg = None
    if segment_col is not None:
        seg_codes, seg_labels = pd.factorize(_key_values(eager, segment_col), use_na_sentinel=False)
        seg = _segments(
            seg_codes.astype(np.int64),
            np.asarray(seg_labels, dtype=object),
            ent,
            len(ids),
            ids=ids,
            segment_col=segment_col,
            entity_col=entity_col,
        )
    return _Events(
        ent=ent,
        ids=ids,
        step=step,
        days=_days(t, is_datetime),
        segment=seg,
        ignored=ignored,
        n_rows=n_rows,
        n_entities=len(ids) if n_ent_all is None else max(n_ent_all, len(ids)),
        is_datetime=is_datetime,
        time_zone=tz,
    )


def _entity_codes(values: Any) -> tuple[npt.NDArray[np.int64], npt.NDArray[Any]]:
    """Entity codes numbering the sorted distinct ids, and those ids.

    Whole-number ids spanning a range not much longer than the log are numbered by
    their offset in the range (no hashing); other ids by :func:`pandas.factorize`.
    """
    if isinstance(values, pd.Series) and values.dtype.kind in "iu":
        values = values.to_numpy()
    if isinstance(values, np.ndarray) and values.dtype.kind in "iu" and values.size:
        lo, hi = int(values.min()), int(values.max())
        if hi - lo <= 4 * values.size:
            offset = values.astype(np.int64, copy=True)
            offset -= lo
            present = np.bincount(offset, minlength=hi - lo + 1) > 0
            ids: npt.NDArray[Any] = (np.flatnonzero(present) + lo).astype(values.dtype)
            if ids.size == present.size:  # every id of the range occurs: codes are offsets
                return offset, ids
            number = np.cumsum(present) - 1
            return number[offset], ids
    codes, uniques = pd.factorize(values, sort=True)
    return codes.astype(np.int64), np.asarray(uniques)


def _entities_per_label(
    ent: npt.NDArray[np.int64],
    lab_codes: npt.NDArray[Any],
    n_ent: int,
    labels: list[str],
    stages: tuple[str, ...],
) -> npt.NDArray[np.int64]:
    """Distinct entities per event name, for the names that are not steps (0 for steps)."""
    out = np.zeros(len(labels), dtype=np.int64)
    other = [i for i, s in enumerate(labels) if s not in stages]
    if not other:
        return out
    slot = np.full(len(labels), -1, dtype=np.int64)
    slot[other] = np.arange(len(other))
    row_slot = slot[lab_codes]
    rows = np.flatnonzero(row_slot >= 0)
    if len(other) * n_ent <= 200_000_000:  # a dense (name, entity) grid of flags
        seen = np.zeros((len(other), n_ent), dtype=bool)
        seen[row_slot[rows], ent[rows]] = True
        out[other] = np.count_nonzero(seen, axis=1)
    else:
        pairs = np.unique(ent[rows] * len(other) + row_slot[rows])
        out[other] = np.bincount(pairs % len(other), minlength=len(other))
    return out


def _paths(
    ent: npt.NDArray[np.int64],
    step: npt.NDArray[np.int64],
    days: npt.NDArray[np.float64],
    n_ent: int,
    k: int,
    mode: str,
    window: float | None,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """Steps reached by each entity and the time of each step reached (NaN beyond)."""
    if mode == "sequence":
        if window is None:
            times = ks.sequence_times(ent, step, days, n_ent, k)
        else:
            times = ks.sequence_times_within(ent, step, days, n_ent, k, window)
        reach = (~np.isnan(times)).sum(axis=1).astype(np.int64)
        return reach, times
    first = np.full((n_ent, k), np.inf)
    np.minimum.at(first, (ent, step), days)
    first[np.isinf(first)] = np.nan
    reach = ks.first_entry_reach(first, window)
    return reach, np.where(np.arange(k)[None, :] < reach[:, None], first, np.nan)
