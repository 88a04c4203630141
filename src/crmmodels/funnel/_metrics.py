r"""Sales funnel metrics from a stage-history log (pipeline management: Söhnchen & Albers 2010).

A stage-history log has one row per event: an entity (lead or opportunity) entering a
stage at a time. From it :func:`funnel_metrics` computes, per stage of an ordered funnel,
how many entities entered, advanced, dropped out or are still open, the stage-to-stage
and cumulative conversion, the time spent in the stage, re-entries and skipped stages,
the bottleneck stage, cohort and segment funnels and a conversion trend.
:func:`pipeline_forecast`, :func:`forecast_backtest` and :func:`sales_velocity` turn the
result into a weighted pipeline forecast and the sales velocity.

The per-(entity, stage) aggregation (first entry, number of events, distinct entry
times, amount) runs on the caller's engine; only that aggregate is collected. See
:mod:`crmmodels.kernels.stage_history` for the counting rules.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, cast

import narwhals.stable.v2 as nw
import numpy as np
import numpy.typing as npt
import pandas as pd

from crmmodels._frames import (
    check_columns,
    check_not_null,
    collect,
    count_true,
    parse_dates,
    python_scalar,
    to_narwhals,
    to_pandas,
    to_timestamp,
)
from crmmodels._ingest.amounts import check_amounts
from crmmodels._ingest.arguments import check_choice, check_column_name, check_number
from crmmodels._results import Result
from crmmodels.errors import ArgumentError, DataError, SchemaError
from crmmodels.kernels import stage_history as kf

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "DEFAULT_EXIT_STAGES",
    "DEFAULT_STAGES",
    "ForecastBacktest",
    "FunnelResult",
    "PipelineForecast",
    "SalesVelocity",
    "forecast_backtest",
    "funnel_metrics",
    "pipeline_forecast",
    "sales_velocity",
]

DEFAULT_STAGES: tuple[str, ...] = (
    "lead_generation",
    "needs_analysis",
    "proposal_quote",
    "closed_won",
)
"""The default sales funnel: lead generation, needs analysis, proposal & quote, won."""

DEFAULT_EXIT_STAGES: tuple[str, ...] = ("closed_lost",)
"""Stages that mean the entity dropped out of the funnel."""

_NS_PER_DAY = 86_400e9
_COUNT_COLS = ("entered", "advanced", "dropped", "open")
Mode = Literal["any", "ordered"]
FloatArray = npt.NDArray[np.float64]


# ------------------------------------------------------------------ helpers


def _to_days(values: Any, is_datetime: bool) -> FloatArray:
    """Timestamps (pandas Series) to float days since 1970-01-01; numbers pass through."""
    if not is_datetime:
        return np.asarray(pd.to_numeric(values), dtype=np.float64)
    s = pd.to_datetime(pd.Series(values))
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        s = s.dt.tz_convert("UTC").dt.tz_localize(None)
    ns = s.to_numpy(dtype="datetime64[ns]").astype(np.int64).astype(np.float64)
    ns[s.isna().to_numpy()] = np.nan
    return ns / _NS_PER_DAY


def _scalar_days(value: Any, is_datetime: bool, name: str) -> float:
    """A time argument (``as_of``, ``cut``) in days; :class:`ArgumentError` if unusable."""
    if not is_datetime:
        return check_number(value, name, fix="The time column is numeric (days).")
    ts = to_timestamp(value, name, tz="UTC")  # ISO 8601 text or a date object
    return float(_to_days(pd.Series([ts]), True)[0])


def _days_to_label(days: float, is_datetime: bool) -> str:
    if not np.isfinite(days):
        return "nan"
    if not is_datetime:
        return f"{days:g}"
    ts = pd.Timestamp(round(days * _NS_PER_DAY), unit="ns")
    return str(ts.date()) if ts == ts.normalize() else str(ts)


def _names(values: Any, name: str) -> tuple[str, ...]:
    """Stage names: one name (a string, never split into characters) or a collection."""
    if isinstance(values, str):
        return (values,)
    if isinstance(values, bytes) or not isinstance(values, Iterable):
        raise ArgumentError(f"{name} must be a list of stage names; got {values!r}.")
    return tuple(str(s) for s in values)


def _check_stage_args(
    stages: Sequence[str],
    exit_stages: Sequence[str],
    won_stage: str | None,
    promotion: Mapping[str, str] | None,
    mode: str,
) -> tuple[tuple[str, ...], tuple[str, ...], int, dict[str, int]]:
    """Validate the stage arguments; return stages, exits, won index, marker -> stage."""
    st = _names(stages, "stages")
    ex = _names(exit_stages, "exit_stages")
    if promotion is not None and not isinstance(promotion, Mapping):
        raise ArgumentError(
            f"promotion must be a mapping {{stage: marker}}; got {type(promotion).__name__}."
        )
    if not st:
        raise SchemaError("stages must name at least one funnel stage.")
    if len(set(st)) != len(st):
        raise SchemaError(f"stages must be distinct; got {list(st)}.")
    if set(st) & set(ex):
        raise SchemaError(
            f"exit_stages {sorted(set(st) & set(ex))} are also funnel stages; "
            "an exit stage must not be part of the funnel order."
        )
    check_choice(mode, "mode", ("any", "ordered"))
    won = st[-1] if won_stage is None else str(won_stage)
    if won not in st:
        raise SchemaError(f"won_stage {won!r} is not one of the stages {list(st)}.")
    markers: dict[str, int] = {}
    for stage, marker in (promotion or {}).items():
        if stage not in st:
            raise SchemaError(f"promotion key {stage!r} is not one of the stages {list(st)}.")
        k = st.index(stage)
        if k == len(st) - 1:
            raise SchemaError(f"promotion: {stage!r} is the last stage; nothing follows it.")
        if marker == st[k + 1]:
            continue
        if marker in st or marker in ex or marker in markers:
            raise SchemaError(
                f"promotion marker {marker!r} for {stage!r} must be an event name that is "
                "neither a funnel stage, an exit stage nor another marker."
            )
        markers[str(marker)] = k + 1
    return st, ex, st.index(won), markers


# ------------------------------------------------------------------ results


@dataclass(frozen=True, repr=False, eq=False)
class FunnelResult(Result):
    """Per-stage funnel metrics (returned by :func:`funnel_metrics`).

    Attributes
    ----------
    table : pandas.DataFrame
        One row per stage in funnel order (see :func:`funnel_metrics`).
    issues : pandas.DataFrame
        Data problems found and what was done about them: ``issue``, ``rows``,
        ``entities``, ``example`` and ``action``. Nothing is dropped silently.
    cohorts, segments : pandas.DataFrame or None
        Long tables (``cohort`` or ``segment``, then ``stage`` and the counts and rates)
        when ``cohort=`` or ``segment_col=`` was given.
    mode, won_stage, bottleneck, as_of : str
        Counting mode, the stage that means won, the stage with the lowest conversion and
        the observation end.
    stages : tuple of str
        The funnel stages in order.
    n_entities, n_events, n_duplicates : int
        Distinct entities in the log, events (rows), and exact duplicate events removed.
    win_rate : float
        Entities that reached ``won_stage`` divided by those that entered the first stage.

    Examples
    --------
    >>> import pandas as pd
    >>> log = pd.DataFrame({
    ...     "entity_id": [1, 1, 2, 2, 3],
    ...     "stage": ["lead_generation", "closed_won", "lead_generation", "closed_lost",
    ...               "lead_generation"],
    ...     "entered_at": [0.0, 10.0, 0.0, 4.0, 6.0],
    ...     "amount": [100.0, 120.0, 50.0, 50.0, 80.0],
    ... })
    >>> res = funnel_metrics(log, stages=["lead_generation", "closed_won"], amount_col="amount")
    >>> res  # doctest: +NORMALIZE_WHITESPACE
    FunnelResult(cohorts=None, segments=None, mode=any, stages=['lead_generation',
    'closed_won'], won_stage=closed_won, bottleneck=lead_generation, as_of=10, n_entities=3,
    n_events=5, n_duplicates=0, win_rate=0.3333, rows=2)
    >>> res.to_frame()[["stage", "entered", "advanced", "dropped", "open"]].values.tolist()
    [['lead_generation', 3, 1, 1, 1], ['closed_won', 1, 0, 0, 0]]
    >>> ax = res.plot()
    >>> type(ax).__name__
    'Axes'
    >>> import matplotlib.pyplot as plt
    >>> plt.close(ax.figure)
    """

    table: pd.DataFrame
    issues: pd.DataFrame
    cohorts: pd.DataFrame | None
    segments: pd.DataFrame | None
    mode: str
    stages: tuple[str, ...]
    won_stage: str
    bottleneck: str | None
    as_of: str
    n_entities: int
    n_events: int
    n_duplicates: int
    win_rate: float
    _ids: npt.NDArray[Any]
    _first: FloatArray
    _exit: FloatArray
    _amount: FloatArray | None
    _segment: npt.NDArray[Any] | None
    _as_of_days: float
    _is_datetime: bool
    _finished: FloatArray
    _open: FloatArray

    @property
    def report(self) -> pd.DataFrame:
        """Alias of :attr:`issues`."""
        return self.issues

    @property
    def won_index(self) -> int:
        """Position of :attr:`won_stage` in :attr:`stages`."""
        return self.stages.index(self.won_stage)

    def to_frame(self) -> pd.DataFrame:
        """Return the per-stage table (a copy)."""
        return self.table.copy()

    def stage_durations(self, stage: str) -> FloatArray:
        """Finished stay lengths (days) in ``stage``, one per entity that left it."""
        k = self.stages.index(stage)
        col = self._finished[:, k]
        return np.asarray(col[~np.isnan(col)])

    def entities(self) -> pd.DataFrame:
        """One row per entity: id, ``stage`` reached, ``outcome``, ``entered_at``.

        ``outcome`` is ``"won"`` (reached the won stage), ``"lost"`` (dropped out),
        ``"open"`` or ``"not_in_funnel"``; ``stage`` is the last stage the entity counts
        as having entered (None when not in the funnel).
        """
        state = kf.funnel_state(self._first, self._exit, self.mode)
        names = np.array([None, *self.stages], dtype=object)
        outcome = np.full(state.n.shape[0], "open", dtype=object)
        outcome[(state.outcome == kf.DROPPED) | (state.outcome == kf.LEFT_PATH)] = "lost"
        outcome[state.n > self.won_index] = "won"
        outcome[state.n == 0] = "not_in_funnel"
        entry = kf.row_fmin(self._first)
        out = pd.DataFrame(
            {
                "entity_id": self._ids,
                "stage": names[state.n],
                "outcome": outcome,
                "entered_at": _label_array(entry, self._is_datetime),
            }
        )
        if self._amount is not None:
            out["amount"] = self._amount
        if self._segment is not None:
            out["segment"] = self._segment
        return out

    def conversion_trend(self, period: str = "M") -> pd.DataFrame:
        """Stage conversion and win rate per entry period.

        Parameters
        ----------
        period : str
            pandas period alias of the entry cohorts (``"M"``, ``"Q"``, ``"W"``, ``"Y"``).

        Returns
        -------
        pandas.DataFrame
            Indexed by cohort: ``entered`` (first-stage entries), one conversion column per
            stage but the last, and ``win_rate``. Recent cohorts still have open entities,
            so their rates are lower bounds.
        """
        if not isinstance(period, str) or not period:
            raise ArgumentError(
                f"period must be a pandas period alias such as 'M', 'Q', 'W' or 'Y'; "
                f"got {period!r}."
            )
        long = _group_table(self, "cohort", period)
        wide = long.pivot(index="cohort", columns="stage", values="conversion")
        wide = wide[list(self.stages[:-1])]
        first = long[long["stage"] == self.stages[0]].set_index("cohort")["entered"]
        won = long[long["stage"] == self.won_stage].set_index("cohort")["entered"]
        wide.insert(0, "entered", first)
        with np.errstate(invalid="ignore", divide="ignore"):
            wide["win_rate"] = won / first.where(first > 0)
        wide.columns.name = None
        return wide

    def plot(self, ax: Axes | None = None, **kwargs: Any) -> Axes:
        """Plot the funnel (``kind="funnel"``, default) or time in stage (``kind="time"``)."""
        from crmmodels.plotting.funnel import plot_funnel, plot_stage_times

        kind = check_choice(kwargs.pop("kind", "funnel"), "kind", ("funnel", "time"))
        if kind == "funnel":
            return plot_funnel(self, ax=ax, **kwargs)
        return plot_stage_times(self, ax=ax, **kwargs)


def _label_array(days: FloatArray | None, is_datetime: bool) -> Any:
    if days is None:
        return None
    if not is_datetime:
        return days
    ns = np.where(np.isnan(days), 0, np.round(days * _NS_PER_DAY)).astype(np.int64)
    out = pd.to_datetime(ns, unit="ns")
    return out.where(~np.isnan(days))


# ------------------------------------------------------------------ main entry point


def _stage_table(counts: dict[str, npt.NDArray[np.int64]], row: int) -> pd.DataFrame:
    entered = counts["entered"][row].astype(np.float64)
    adv = counts["advanced"][row].astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        conv = np.where(entered > 0, adv / np.where(entered > 0, entered, 1.0), np.nan)
        cum = entered / entered[0] if entered[0] > 0 else np.full_like(entered, np.nan)
    conv[-1] = np.nan
    return pd.DataFrame(
        {
            "entered": counts["entered"][row],
            "advanced": counts["advanced"][row],
            "dropped": counts["dropped"][row],
            "open": counts["open"][row],
            "conversion": conv,
            "cumulative_conversion": cum,
        }
    )


def _group_table(result: FunnelResult, kind: str, period: str | None) -> pd.DataFrame:
    """Long per-group funnel table (cohort by entry period, or segment)."""
    state = kf.funnel_state(result._first, result._exit, result.mode)
    keep = state.n > 0
    if kind == "cohort":
        if not result._is_datetime:
            raise SchemaError("cohort funnels need a datetime time column; it is numeric.")
        entry = kf.row_fmin(result._first)
        try:
            labels_all = pd.Series(_label_array(entry, True)).dt.to_period(period or "M")
        except (ValueError, TypeError) as exc:
            raise SchemaError(
                f"cohort must be a pandas period alias such as 'M', 'Q', 'W' or 'Y'; "
                f"got {period!r}."
            ) from exc
        labels = labels_all[keep]
    else:
        assert result._segment is not None
        labels = pd.Series(result._segment)[keep]
    codes, uniques = pd.factorize(labels, sort=True)
    sub = kf.FunnelState(
        n=state.n[keep],
        outcome=state.outcome[keep],
        observed=state.observed[keep],
        reopened=state.reopened[keep],
    )
    counts = kf.stage_counts(
        sub, len(result.stages), group=codes.astype(np.int64), n_groups=len(uniques)
    )
    frames = []
    for g, label in enumerate(uniques):
        t = _stage_table(counts, g)
        t.insert(0, "stage", list(result.stages))
        t.insert(0, kind, str(label))
        frames.append(t)
    cols = [kind, "stage", *_COUNT_COLS, "conversion", "cumulative_conversion"]
    if not frames:
        return pd.DataFrame(columns=cols)
    return pd.concat(frames, ignore_index=True)[cols]


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


def funnel_metrics(
    history: Any,
    *,
    stages: Sequence[str] = DEFAULT_STAGES,
    entity_col: str = "entity_id",
    stage_col: str = "stage",
    time_col: str = "entered_at",
    mode: Mode = "any",
    exit_stages: Sequence[str] = DEFAULT_EXIT_STAGES,
    won_stage: str | None = None,
    as_of: Any = None,
    amount_col: str | None = None,
    segment_col: str | None = None,
    cohort: str | None = None,
    promotion: Mapping[str, str] | None = None,
    on_backwards: Literal["report", "raise"] = "report",
    date_format: str | None = None,
) -> FunnelResult:
    r"""Per-stage funnel metrics of a stage-history log.

    Parameters
    ----------
    history : DataFrame
        One row per stage event (pandas, polars, pyarrow, DuckDB, Dask or PySpark).
    stages : sequence of str
        Funnel stages in order. Default :data:`DEFAULT_STAGES`: ``lead_generation``,
        ``needs_analysis``, ``proposal_quote``, ``closed_won``.
    entity_col, stage_col, time_col : str
        Column names: entity (lead / opportunity) id, stage name, entry time (datetime,
        date, or a number of days).
    mode : {"any", "ordered"}
        ``"any"``: reaching a later stage implies every earlier one (a skipped stage is
        counted as entered, in ``implied``). ``"ordered"``: an entity enters a stage only
        if it entered every earlier stage, in funnel order (non-decreasing first-entry
        times, ties allowed); a skipped stage or a step back in time ends its path at the
        last in-order stage, where it counts as dropped (``left_path``).
    exit_stages : sequence of str
        Event names that mean dropping out (default ``("closed_lost",)``).
    won_stage : str, optional
        The stage that means won (default: the last stage); later stages are post-sale.
    as_of : date or number, optional
        Observation end (default: the last event): a date for a datetime time column, a
        finite number for a numeric one (missing or unparsable values raise
        :class:`~crmmodels.errors.ArgumentError`). Events after it are ignored
        (reported); duplicate and re-entry counts cover the whole log.
    amount_col : str, optional
        Deal amount, on every row (missing, infinite or negative amounts raise
        :class:`~crmmodels.errors.DataError`); per entity the largest amount recorded at
        its most advanced stage (else at its exit event). Used by the forecast and
        velocity.
    segment_col : str, optional
        Segment column (constant per entity); fills :attr:`FunnelResult.segments`.
    cohort : str, optional
        pandas period alias (``"M"``, ``"Q"``, ...) of entry cohorts; fills
        :attr:`FunnelResult.cohorts`. The entry time is the entity's first funnel event.
    promotion : mapping of str to str, optional
        ``{stage: marker}``: an event named ``marker`` counts as advancing out of
        ``stage``, i.e. as entering the next stage at the marker's time. Without it (or
        with the next stage as marker) entering the next stage is the promotion marker.
    on_backwards : {"report", "raise"}
        What to do with entities whose first-entry times go backwards against funnel
        order: report them (their negative stays are left out of the time statistics)
        or raise :class:`~crmmodels.errors.DataError`.
    date_format : str, optional
        strftime layout (e.g. ``"%d/%m/%Y %H:%M"``) of a text ``time_col``; without it
        text times must be ISO 8601.

    Returns
    -------
    FunnelResult
        ``.to_frame()`` has one row per stage: ``stage``, ``entered``, ``advanced``,
        ``dropped``, ``open``, ``conversion`` (advanced / entered; NaN at the last
        stage), ``cumulative_conversion`` (entered / entered at the first stage),
        ``time_mean``, ``time_median``, ``time_p90`` (days, finished stays only),
        ``time_n`` (finished stays), ``open_time_mean``, ``open_time_median`` (days open
        entities have spent in their current stage so far), ``reentries``, ``implied``,
        ``left_path`` and ``bottleneck``.

    Raises
    ------
    SchemaError
        Missing columns, bad stage arguments, a time column that is not a time.
    DataError
        Empty log, null ids / stages / times, missing (null or NaN), infinite or
        negative amounts, unknown stage names (listed with counts), a segment that
        changes within an entity, backwards timestamps with ``on_backwards="raise"``.
        :class:`~crmmodels.errors.ArgumentError` (a ``DataError``) for a bad ``mode``,
        ``on_backwards``, ``as_of``, ``cohort`` or column-name argument.

    Notes
    -----
    Per stage :math:`k` (last stage :math:`K`):

    $$\text{conversion}_k = \frac{\text{advanced}_k}{\text{entered}_k}, \qquad
    \text{cumulative}_k = \frac{\text{entered}_k}{\text{entered}_1}, \qquad
    \text{entered}_k = \text{advanced}_k + \text{dropped}_k + \text{open}_k \; (k < K).$$

    An entity is *dropped* at its last stage when it has an exit event at or after
    entering that stage; with an exit event before it (it came back) it is open and
    reported. Re-entries: the first entry into a stage counts; every further distinct
    entry time is a re-entry (``reentries``); a stay lasts from the first entry to the
    first entry into any later stage (or to the exit event when dropped). Exact
    duplicate events (same entity, stage and time) count once and are reported. The
    last stage is terminal: it has no stays, conversion or drops. The bottleneck is the
    non-final stage with the lowest conversion (ties: the earliest).

    Examples
    --------
    >>> import pandas as pd
    >>> log = pd.DataFrame({
    ...     "entity_id": [1, 1, 1, 2, 2, 3],
    ...     "stage": ["lead_generation", "needs_analysis", "closed_won",
    ...               "lead_generation", "closed_lost", "lead_generation"],
    ...     "entered_at": pd.to_datetime(["2024-01-01", "2024-01-05", "2024-01-20",
    ...                                   "2024-01-02", "2024-01-04", "2024-01-10"]),
    ... })
    >>> res = funnel_metrics(log)
    >>> res.to_frame()[["stage", "entered", "advanced", "dropped", "open"]]
                 stage  entered  advanced  dropped  open
    0  lead_generation        3         1        1     1
    1   needs_analysis        1         1        0     0
    2   proposal_quote        1         1        0     0
    3       closed_won        1         0        0     0
    >>> round(res.win_rate, 3), res.bottleneck
    (0.333, 'lead_generation')
    """
    st, ex, won_k, markers = _check_stage_args(stages, exit_stages, won_stage, promotion, mode)
    check_choice(on_backwards, "on_backwards", ("report", "raise"))
    for arg, value in (
        ("entity_col", entity_col),
        ("stage_col", stage_col),
        ("time_col", time_col),
        ("amount_col", amount_col),
        ("segment_col", segment_col),
    ):
        if value is not None:
            check_column_name(value, arg)
    if cohort is not None and (not isinstance(cohort, str) or not cohort):
        raise ArgumentError(
            f"cohort must be a pandas period alias such as 'M', 'Q', 'W' or 'Y'; got {cohort!r}."
        )
    agg = _aggregate(
        history,
        entity_col=entity_col,
        stage_col=stage_col,
        time_col=time_col,
        amount_col=amount_col,
        segment_col=segment_col,
        date_format=date_format,
    )
    is_datetime = agg.is_datetime
    n_stages = len(st)
    code_of: dict[str, int] = {s: i for i, s in enumerate(st)}
    for e in ex:
        code_of[e] = -1
    code_of.update(markers)
    unknown = [s for s in agg.stage_labels if s not in code_of]
    if unknown:
        n_by = np.bincount(agg.stage_codes, weights=agg.n_rows, minlength=len(agg.stage_labels))
        rows_of = dict(zip(agg.stage_labels, n_by, strict=True))
        listed = ", ".join(f"{s!r} ({int(rows_of[s])} rows)" for s in sorted(unknown)[:10])
        raise DataError(
            f"history: column '{stage_col}' holds {len(unknown)} unknown stage name(s): "
            f"{listed}. Known: funnel stages {list(st)}, exit stages {list(ex)}"
            + (f", promotion markers {list(markers)}" if markers else "")
            + ". Add them to stages= / exit_stages= or filter the log first."
        )
    code = np.array([code_of[s] for s in agg.stage_labels], dtype=np.int64)[agg.stage_codes]

    ent_codes = agg.ent_codes
    ids_arr = agg.ids
    n_ent = len(ids_arr)
    first_raw = agg.first
    n_times = agg.n_times
    n_evt = agg.n_rows
    as_of_days = agg.t_max if as_of is None else _scalar_days(as_of, is_datetime, "as_of")
    late = first_raw > as_of_days
    first_t = np.where(late, np.nan, first_raw)

    is_exit = code < 0
    fun = ~is_exit
    first = np.full((n_ent, n_stages), np.nan, order="F")  # stage columns contiguous
    exit_time = np.full(n_ent, np.nan)
    # (entity, stage name) rows are unique: plain assignment unless names share a slot
    if markers:
        np.fmin.at(first, (ent_codes[fun], code[fun]), first_t[fun])
    else:
        first[ent_codes[fun], code[fun]] = first_t[fun]
    if len(ex) > 1:
        np.fmin.at(exit_time, ent_codes[is_exit], first_t[is_exit])
    else:
        exit_time[ent_codes[is_exit]] = first_t[is_exit]

    state = kf.funnel_state(first, exit_time, mode)
    backwards = kf.backwards_mask(first)
    if on_backwards == "raise" and backwards.any():
        ex_id = python_scalar(ids_arr[np.argmax(backwards)])
        raise DataError(
            f"history: column '{time_col}' goes backwards against funnel order for "
            f"{int(backwards.sum())} entities (first example: {entity_col}={ex_id!r}): a "
            "later stage was entered before an earlier one. Fix the log or pass "
            "on_backwards='report'."
        )
    counts = kf.stage_counts(state, n_stages)
    finished, still = kf.stay_durations(first, exit_time, state, as_of_days)

    table = _stage_table(counts, 0)
    table.insert(0, "stage", list(st))
    q = kf.quantiles_by_column(finished, (0.5, 0.9))
    table["time_mean"] = kf.column_means(finished)
    table["time_median"] = q[0]
    table["time_p90"] = q[1]
    table["time_n"] = (~np.isnan(finished)).sum(axis=0)
    table["open_time_mean"] = kf.column_means(still)
    table["open_time_median"] = kf.quantiles_by_column(still, (0.5,))[0]
    reentries = np.zeros(n_stages, dtype=np.int64)
    fun_ok = fun & ~late
    np.add.at(reentries, code[fun_ok], n_times[fun_ok] - 1)
    table["reentries"] = reentries
    table["implied"] = counts["implied"][0]
    table["left_path"] = counts["left_path"][0]
    conv = table["conversion"].to_numpy()[:-1]
    bottleneck: str | None = None
    if np.isfinite(conv).any():
        bottleneck = st[int(np.nanargmin(conv))]
    table["bottleneck"] = table["stage"] == bottleneck

    # amount per entity: at the most advanced stage with an amount, else the exit event
    amount: FloatArray | None = None
    if amount_col is not None:
        amt = agg.amount if agg.amount is not None else np.full(len(code), np.nan)
        amt_mat = np.full((n_ent, n_stages), np.nan, order="F")
        ok = fun & ~np.isnan(amt)
        np.fmax.at(amt_mat, (ent_codes[ok], code[ok]), amt[ok])
        amount = np.full(n_ent, np.nan)
        for k in range(n_stages):
            amount = np.where(np.isnan(amt_mat[:, k]), amount, amt_mat[:, k])
        exit_amt = np.full(n_ent, np.nan)
        okx = is_exit & ~np.isnan(amt)
        np.fmax.at(exit_amt, ent_codes[okx], amt[okx])
        amount = np.where(np.isnan(amount), exit_amt, amount)

    segment = agg.segment

    issues = _issues(
        ids_arr=ids_arr,
        entity_col=entity_col,
        mode=mode,
        state=state,
        backwards=backwards,
        n_evt=n_evt,
        n_times=n_times,
        ent_codes=ent_codes,
        code=code,
        late=late,
        exit_time=exit_time,
        first=first,
    )
    entered0 = int(counts["entered"][0][0])
    win_rate = float(counts["entered"][0][won_k] / entered0) if entered0 else float("nan")
    result = FunnelResult(
        table=table,
        issues=issues,
        cohorts=None,
        segments=None,
        mode=mode,
        stages=st,
        won_stage=st[won_k],
        bottleneck=bottleneck,
        as_of=_days_to_label(as_of_days, is_datetime),
        n_entities=n_ent,
        n_events=agg.n_events,
        n_duplicates=int((n_evt - n_times).sum()),
        win_rate=win_rate,
        _ids=ids_arr,
        _first=first,
        _exit=exit_time,
        _amount=amount,
        _segment=segment,
        _as_of_days=as_of_days,
        _is_datetime=is_datetime,
        _finished=finished,
        _open=still,
    )
    cohorts = _group_table(result, "cohort", cohort) if cohort is not None else None
    segments = _group_table(result, "segment", None) if segment_col is not None else None
    if cohorts is None and segments is None:
        return result
    object.__setattr__(result, "cohorts", cohorts)
    object.__setattr__(result, "segments", segments)
    return result


def _issues(
    *,
    ids_arr: npt.NDArray[Any],
    entity_col: str,
    mode: str,
    state: kf.FunnelState,
    backwards: npt.NDArray[np.bool_],
    n_evt: npt.NDArray[np.int64],
    n_times: npt.NDArray[np.int64],
    ent_codes: npt.NDArray[Any],
    code: npt.NDArray[np.int64],
    late: npt.NDArray[np.bool_],
    exit_time: FloatArray,
    first: FloatArray,
) -> pd.DataFrame:
    """The report of data problems: one row per kind found (none: an empty frame)."""
    rows: list[dict[str, Any]] = []

    def add(issue: str, n_rows: int, ent_mask: npt.NDArray[np.bool_], action: str) -> None:
        n_e = int(ent_mask.sum())
        if n_e == 0 and n_rows == 0:
            return
        example = f"{entity_col}={python_scalar(ids_arr[np.argmax(ent_mask)])!r}" if n_e else ""
        rows.append(
            {"issue": issue, "rows": n_rows, "entities": n_e, "example": example, "action": action}
        )

    def by_entity(row_mask: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
        out = np.zeros(ids_arr.shape[0], dtype=bool)
        out[ent_codes[row_mask]] = True
        return out

    dup = n_evt > n_times
    add(
        "duplicate_events",
        int((n_evt - n_times).sum()),
        by_entity(dup),
        "exact duplicates (same entity, stage, time) counted once",
    )
    re = (n_times > 1) & (code >= 0)
    add(
        "reentries",
        int((n_times - 1)[re].sum()),
        by_entity(re),
        "first entry counts; stays run from the first entry (column 'reentries')",
    )
    add(
        "after_as_of",
        int(n_evt[late].sum()),
        by_entity(late),
        "events after as_of ignored",
    )
    in_funnel = state.n > 0
    no_first = in_funnel & ~state.observed[:, 0]
    add(
        "no_first_stage",
        0,
        no_first,
        "earlier stages implied (mode 'any')"
        if mode == "any"
        else "path starts nowhere: not counted in any stage (mode 'ordered')",
    )
    has_events = ~np.isnan(kf.row_fmin(first))
    exit_only = ~has_events & ~np.isnan(exit_time)
    add("exit_only", 0, exit_only, "no funnel stage event: not counted in any stage")
    not_counted = ~in_funnel & has_events
    add(
        "not_in_funnel",
        0,
        not_counted,
        "no first-stage event in mode 'ordered': not counted in any stage",
    )
    skipped = np.zeros(first.shape[0], dtype=bool)
    for k in range(first.shape[1]):
        skipped |= (state.n > k) & ~state.observed[:, k]
    if mode == "any":
        add("skipped_stage", 0, skipped, "skipped stages counted as entered (column 'implied')")
    left = state.outcome == kf.LEFT_PATH
    add(
        "left_path",
        0,
        left,
        "skip or step back ends the ordered path: dropped there (column 'left_path')",
    )
    add(
        "backwards_time",
        0,
        backwards,
        "a later stage entered before an earlier one: negative stays left out of times",
    )
    add(
        "reopened_after_exit",
        0,
        state.reopened,
        "exit event before entering the current stage: counted as open",
    )
    final_exit = (state.outcome == kf.FINAL) & ~np.isnan(exit_time)
    add("exit_after_final", 0, final_exit, "exit event ignored: counted at the last stage")
    cols = ["issue", "rows", "entities", "example", "action"]
    return pd.DataFrame(rows, columns=cols)


# ------------------------------------------------------------------ forecast and velocity


def _state_at(result: FunnelResult, t: float) -> kf.FunnelState:
    first = np.where(result._first <= t, result._first, np.nan)
    exit_time = np.where(result._exit <= t, result._exit, np.nan)
    return kf.funnel_state(first, exit_time, result.mode)


def _win_rates(state: kf.FunnelState, n_stages: int, won_k: int) -> tuple[FloatArray, FloatArray]:
    """Historical win rate from each stage among closed entities, and their number."""
    won = state.n > won_k
    lost = ((state.outcome == kf.DROPPED) | (state.outcome == kf.LEFT_PATH)) & ~won
    closed = won | lost
    k = np.arange(n_stages)[None, :]
    reached = k < state.n[:, None]
    n_closed = (reached & closed[:, None]).sum(axis=0).astype(np.float64)
    n_won = (reached & won[:, None]).sum(axis=0).astype(np.float64)
    rate = np.full(n_stages, np.nan)
    np.divide(n_won, n_closed, out=rate, where=n_closed > 0)
    return rate, n_closed


def _open_deals(state: kf.FunnelState, won_k: int) -> npt.NDArray[np.bool_]:
    return np.asarray((state.outcome == kf.OPEN) & (state.n > 0) & (state.n <= won_k))


@dataclass(frozen=True, repr=False, eq=False)
class PipelineForecast(Result):
    """Weighted pipeline forecast (returned by :func:`pipeline_forecast`).

    Attributes
    ----------
    table : pandas.DataFrame
        Per stage before the won stage: ``open`` deals, ``open_amount``, ``win_rate``
        (historical, from that stage, among closed entities), ``n_closed`` (entities the
        rate is based on), ``expected_wins`` and ``weighted_amount``.
    deals : pandas.DataFrame
        One row per open deal: id, ``stage``, ``amount``, ``win_rate``, ``expected_amount``.
    expected_wins, weighted_amount, open_amount : float
        Totals over the open pipeline (amounts NaN without ``amount_col``).
    n_unrated : int
        Open deals whose stage has no closed history (``win_rate`` NaN): they are left
        out of ``expected_wins`` and ``weighted_amount`` (but counted in ``open_amount``).

    Examples
    --------
    >>> import pandas as pd
    >>> log = pd.DataFrame({
    ...     "entity_id": [1, 1, 2, 2, 3],
    ...     "stage": ["lead_generation", "closed_won", "lead_generation", "closed_lost",
    ...               "lead_generation"],
    ...     "entered_at": [0.0, 10.0, 0.0, 4.0, 6.0],
    ...     "amount": [100.0, 120.0, 50.0, 50.0, 80.0],
    ... })
    >>> res = funnel_metrics(log, stages=["lead_generation", "closed_won"], amount_col="amount")
    >>> fc = pipeline_forecast(res)
    >>> fc.to_frame()[["stage", "open", "open_amount", "win_rate"]].values.tolist()
    [['lead_generation', 1, 80.0, 0.5]]
    >>> ax = fc.plot()
    >>> type(ax).__name__
    'Axes'
    >>> import matplotlib.pyplot as plt
    >>> plt.close(ax.figure)
    """

    table: pd.DataFrame
    deals: pd.DataFrame
    expected_wins: float
    weighted_amount: float
    open_amount: float
    n_unrated: int = 0

    def to_frame(self) -> pd.DataFrame:
        """Return the per-stage table (a copy)."""
        return self.table.copy()

    def plot(self, ax: Axes | None = None, **kwargs: Any) -> Axes:
        """Bar chart of open and weighted amount (or deal counts) per stage."""
        from crmmodels.plotting.funnel import plot_forecast

        return plot_forecast(self, ax=ax, **kwargs)


def pipeline_forecast(result: FunnelResult) -> PipelineForecast:
    r"""Weighted pipeline forecast: open amount times the historical win rate of its stage.

    Every open deal (not dropped, not yet won) at the result's ``as_of`` is weighted by
    the win rate from its current stage :math:`k`, estimated on the closed deals:

    $$\hat p_k = \frac{\#\{\text{won, reached } k\}}{\#\{\text{won or lost, reached } k\}},
    \qquad \text{forecast} = \sum_{\text{open } i} \hat p_{k(i)}\, a_i.$$

    Parameters
    ----------
    result : FunnelResult
        From :func:`funnel_metrics` (pass ``amount_col`` for amounts).

    Returns
    -------
    PipelineForecast

    Examples
    --------
    >>> from crmmodels.datasets._funnel import simulate_funnel
    >>> sim = simulate_funnel(2000, seed=1)
    >>> res = funnel_metrics(sim.history, amount_col="amount")
    >>> fc = pipeline_forecast(res)
    >>> list(fc.to_frame().columns)[:4]
    ['stage', 'open', 'open_amount', 'win_rate']
    """
    won_k = result.won_index
    state = _state_at(result, result._as_of_days)
    rate, n_closed = _win_rates(state, len(result.stages), won_k)
    open_mask = _open_deals(state, won_k)
    cur = state.n[open_mask] - 1
    p = rate[cur]
    amt = result._amount[open_mask] if result._amount is not None else np.full(cur.shape[0], np.nan)
    deals = pd.DataFrame(
        {
            "entity_id": result._ids[open_mask],
            "stage": np.array(result.stages, dtype=object)[cur],
            "amount": amt,
            "win_rate": p,
            "expected_amount": p * amt,
        }
    )
    nk = won_k
    open_n = np.bincount(cur, minlength=nk)[:nk]
    has_amt = result._amount is not None
    amt0 = np.nan_to_num(amt)
    open_amt = np.bincount(cur, weights=amt0, minlength=nk)[:nk] if has_amt else np.full(nk, np.nan)
    table = pd.DataFrame(
        {
            "stage": list(result.stages[:nk]),
            "open": open_n.astype(np.int64),
            "open_amount": open_amt,
            "win_rate": rate[:nk],
            "n_closed": n_closed[:nk].astype(np.int64),
            "expected_wins": open_n * rate[:nk],
            "weighted_amount": open_amt * rate[:nk],
        }
    )
    return PipelineForecast(
        table=table,
        deals=deals,
        expected_wins=float(np.nansum(table["expected_wins"])),
        weighted_amount=float(np.nansum(table["weighted_amount"])) if has_amt else float("nan"),
        open_amount=float(np.nansum(open_amt)) if has_amt else float("nan"),
        n_unrated=int(np.isnan(p).sum()),
    )


@dataclass(frozen=True, repr=False, eq=False)
class ForecastBacktest(Result):
    """Backtest of the weighted pipeline forecast (returned by :func:`forecast_backtest`).

    Attributes
    ----------
    table : pandas.DataFrame
        Per stage (the deal's stage at the cut): ``open_at_cut``, ``win_rate`` (trained
        on deals closed before the cut), ``predicted_wins``, ``actual_wins``,
        ``still_open`` (unresolved at ``as_of``), ``predicted_amount``, ``actual_amount``.
    cut : str
        The cut date.
    predicted_wins, actual_wins, still_open : float
        Totals; deals still open at ``as_of`` count as not won.
    predicted_amount, actual_amount : float
        Totals of amounts (NaN without ``amount_col``).
    n_unrated : int
        Deals open at the cut whose stage had no closed history before the cut
        (``win_rate`` NaN): they count in ``actual_wins`` but predict no win.

    Examples
    --------
    >>> import pandas as pd
    >>> log = pd.DataFrame({
    ...     "entity_id": [1, 1, 2, 2, 3],
    ...     "stage": ["lead_generation", "closed_won", "lead_generation", "closed_lost",
    ...               "lead_generation"],
    ...     "entered_at": [0.0, 10.0, 0.0, 4.0, 6.0],
    ...     "amount": [100.0, 120.0, 50.0, 50.0, 80.0],
    ... })
    >>> res = funnel_metrics(log, stages=["lead_generation", "closed_won"], amount_col="amount")
    >>> bt = forecast_backtest(res, 5.0)
    >>> bt.predicted_wins, bt.actual_wins
    (0.0, 1.0)
    >>> list(bt.to_frame().columns)  # doctest: +NORMALIZE_WHITESPACE
    ['stage', 'open_at_cut', 'win_rate', 'predicted_wins', 'actual_wins', 'still_open',
    'predicted_amount', 'actual_amount']
    >>> ax = bt.plot()
    >>> type(ax).__name__
    'Axes'
    >>> import matplotlib.pyplot as plt
    >>> plt.close(ax.figure)
    """

    table: pd.DataFrame
    cut: str
    predicted_wins: float
    actual_wins: float
    still_open: float
    predicted_amount: float
    actual_amount: float
    n_unrated: int = 0

    def to_frame(self) -> pd.DataFrame:
        """Return the per-stage table (a copy)."""
        return self.table.copy()

    def plot(self, ax: Axes | None = None, **kwargs: Any) -> Axes:
        """Predicted against actual wins per stage."""
        from crmmodels.plotting.funnel import plot_backtest

        return plot_backtest(self, ax=ax, **kwargs)


def forecast_backtest(result: FunnelResult, cut: Any) -> ForecastBacktest:
    """Backtest the weighted pipeline forecast at a past cut date.

    Win rates are estimated on the entities closed (won or lost) by ``cut``; they are
    applied to the entities open at ``cut`` (by their stage at ``cut``) and compared with
    what those entities actually did by the result's ``as_of``.

    Parameters
    ----------
    result : FunnelResult
        From :func:`funnel_metrics`.
    cut : date or number
        The cut (same kind as the time column), before ``as_of``.

    Returns
    -------
    ForecastBacktest

    Examples
    --------
    >>> from crmmodels.datasets._funnel import simulate_funnel
    >>> sim = simulate_funnel(5000, seed=2)
    >>> bt = forecast_backtest(funnel_metrics(sim.history), "2024-10-01")
    >>> abs(bt.predicted_wins - bt.actual_wins) / bt.actual_wins < 0.2
    True
    """
    t = _scalar_days(cut, result._is_datetime, "cut")
    if not t < result._as_of_days:
        raise DataError(f"cut must be before as_of ({result.as_of}); got {cut!r}.")
    won_k = result.won_index
    at_cut = _state_at(result, t)
    rate, _ = _win_rates(at_cut, len(result.stages), won_k)
    open_mask = _open_deals(at_cut, won_k)
    cur = at_cut.n[open_mask] - 1
    p = rate[cur]
    end = _state_at(result, result._as_of_days)
    won = (end.n > won_k)[open_mask]
    still = (_open_deals(end, won_k) | ((end.outcome == kf.OPEN) & (end.n > won_k)))[open_mask]
    still = still & ~won
    nk = won_k
    has_amt = result._amount is not None
    amt = np.nan_to_num(result._amount[open_mask]) if result._amount is not None else None

    def per_stage(w: Any) -> FloatArray:
        return np.bincount(cur, weights=w, minlength=nk)[:nk].astype(np.float64)

    nan = np.full(nk, np.nan)
    table = pd.DataFrame(
        {
            "stage": list(result.stages[:nk]),
            "open_at_cut": per_stage(None).astype(np.int64),
            "win_rate": rate[:nk],
            "predicted_wins": per_stage(np.nan_to_num(p)),
            "actual_wins": per_stage(won.astype(np.float64)),
            "still_open": per_stage(still.astype(np.float64)),
            "predicted_amount": per_stage(np.nan_to_num(p) * amt) if amt is not None else nan,
            "actual_amount": per_stage(won * amt) if amt is not None else nan,
        }
    )
    return ForecastBacktest(
        table=table,
        cut=_days_to_label(t, result._is_datetime),
        predicted_wins=float(table["predicted_wins"].sum()),
        actual_wins=float(table["actual_wins"].sum()),
        still_open=float(table["still_open"].sum()),
        predicted_amount=float(table["predicted_amount"].sum()) if has_amt else float("nan"),
        actual_amount=float(table["actual_amount"].sum()) if has_amt else float("nan"),
        n_unrated=int(np.isnan(p).sum()),
    )


@dataclass(frozen=True, repr=False, eq=False)
class SalesVelocity(Result):
    r"""Sales velocity (returned by :func:`sales_velocity`).

    Attributes
    ----------
    opportunities : int
        Open deals at ``as_of`` (not yet won or lost).
    win_rate : float
        Won / (won + lost) among closed deals that entered the first stage.
    avg_deal_size : float
        Mean amount of won deals (NaN without ``amount_col``).
    cycle_days : float
        Mean days from the first funnel event to winning, over won deals.
    velocity : float
        ``opportunities * win_rate * avg_deal_size / cycle_days``: amount per day.
    deals_per_day : float
        ``opportunities * win_rate / cycle_days``.

    Examples
    --------
    >>> import pandas as pd
    >>> log = pd.DataFrame({
    ...     "entity_id": [1, 1, 2, 2, 3],
    ...     "stage": ["lead_generation", "closed_won", "lead_generation", "closed_lost",
    ...               "lead_generation"],
    ...     "entered_at": [0.0, 10.0, 0.0, 4.0, 6.0],
    ...     "amount": [100.0, 120.0, 50.0, 50.0, 80.0],
    ... })
    >>> res = funnel_metrics(log, stages=["lead_generation", "closed_won"], amount_col="amount")
    >>> v = sales_velocity(res)
    >>> v.opportunities, v.win_rate, v.avg_deal_size, v.cycle_days, v.velocity
    (1, 0.5, 120.0, 10.0, 6.0)
    >>> v.to_frame().shape
    (1, 6)
    >>> ax = v.plot()
    >>> type(ax).__name__
    'Axes'
    >>> import matplotlib.pyplot as plt
    >>> plt.close(ax.figure)
    """

    opportunities: int
    win_rate: float
    avg_deal_size: float
    cycle_days: float
    velocity: float
    deals_per_day: float

    def to_frame(self) -> pd.DataFrame:
        """One row with the components and the velocity."""
        return pd.DataFrame([self.to_dict()])

    def plot(self, ax: Axes | None = None, **kwargs: Any) -> Axes:
        """Bar chart of the four components (normalised labels)."""
        from crmmodels.plotting.funnel import plot_velocity

        return plot_velocity(self, ax=ax, **kwargs)


def sales_velocity(result: FunnelResult) -> SalesVelocity:
    r"""Sales velocity: how much the pipeline is expected to close per day.

    $$v = \frac{N_{\text{open}} \times p_{\text{win}} \times \bar a_{\text{won}}}
    {\bar L_{\text{cycle}}}$$

    with :math:`N_{\text{open}}` the open deals, :math:`p_{\text{win}}` the win rate of
    closed deals, :math:`\bar a_{\text{won}}` the mean won amount and
    :math:`\bar L_{\text{cycle}}` the mean days from first event to the win.

    Parameters
    ----------
    result : FunnelResult
        From :func:`funnel_metrics` (pass ``amount_col`` for the deal size).

    Returns
    -------
    SalesVelocity

    Examples
    --------
    >>> import pandas as pd
    >>> log = pd.DataFrame({
    ...     "entity_id": [1, 1, 2, 2, 3, 4],
    ...     "stage": ["lead_generation", "closed_won", "lead_generation", "closed_lost",
    ...               "lead_generation", "lead_generation"],
    ...     "entered_at": [0.0, 10.0, 0.0, 5.0, 8.0, 9.0],
    ...     "amount": [100.0, 120.0, 50.0, 50.0, 80.0, 90.0],
    ... })
    >>> v = sales_velocity(funnel_metrics(log, amount_col="amount"))
    >>> v.opportunities, v.win_rate, v.avg_deal_size, v.cycle_days, v.velocity
    (2, 0.5, 120.0, 10.0, 12.0)
    """
    won_k = result.won_index
    state = _state_at(result, result._as_of_days)
    won = state.n > won_k
    lost = ((state.outcome == kf.DROPPED) | (state.outcome == kf.LEFT_PATH)) & ~won
    n_closed = int((won | lost).sum())
    p = float(won.sum() / n_closed) if n_closed else float("nan")
    opp = int(_open_deals(state, won_k).sum())
    won_at = kf.row_fmin(result._first[:, won_k:])
    start = kf.row_fmin(result._first)
    cycle = (won_at - start)[won]
    cycle_days = float(cycle.mean()) if cycle.size else float("nan")
    if result._amount is not None and won.any():
        a = result._amount[won]
        deal = float(np.nanmean(a)) if (~np.isnan(a)).any() else float("nan")
    else:
        deal = float("nan")
    per_day = opp * p / cycle_days if cycle_days and np.isfinite(cycle_days) else float("nan")
    return SalesVelocity(
        opportunities=opp,
        win_rate=p,
        avg_deal_size=deal,
        cycle_days=cycle_days,
        velocity=per_day * deal,
        deals_per_day=per_day,
    )
