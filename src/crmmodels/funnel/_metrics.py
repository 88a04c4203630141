"""Funnel metrics from a stage-history log: :func:`funnel_metrics`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmmodels._ingest.arguments import check_choice, check_column_name
from crmmodels._ingest.frames import python_scalar
from crmmodels._ingest.periods import check_period_code
from crmmodels._ingest.renames import renamed_arguments
from crmmodels.errors import ArgumentError, DataError, SchemaError
from crmmodels.funnel._aggregate import _Aggregate, _aggregate
from crmmodels.funnel._result import (
    DEFAULT_EXIT_STAGES,
    DEFAULT_STAGES,
    FloatArray,
    FunnelResult,
    Mode,
    _days_to_label,
    _group_table,
    _scalar_days,
    _stage_table,
)
from crmmodels.kernels import funnel as kf


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


@renamed_arguments(as_of="observation_end", time_col="date_col")
def funnel_metrics(
    history: Any,
    *,
    stages: Sequence[str] = DEFAULT_STAGES,
    entity_col: str = "entity_id",
    stage_col: str = "stage",
    date_col: str = "entered_at",
    mode: Mode = "any",
    exit_stages: Sequence[str] = DEFAULT_EXIT_STAGES,
    won_stage: str | None = None,
    observation_end: Any = None,
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
    entity_col, stage_col, date_col : str
        Column names: entity (lead / opportunity) id, stage name, entry time (datetime,
        date, ISO 8601 text, or a number of days). ``time_col`` is the old name of
        ``date_col`` (``FutureWarning``).
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
    observation_end : date or number, optional
        The cut-off (default: the last event): a date for a datetime date column, a
        finite number for a numeric one (missing or unparsable values raise
        :class:`~crmmodels.errors.ArgumentError`). Events after it are ignored
        (reported); duplicate and re-entry counts cover the whole log. Dates are read
        on the data's local calendar: timezone-aware dates are moved to their local wall
        time, and an aware ``observation_end`` is converted to the data's zone first.
        ``as_of`` is its old name (``FutureWarning``).
    amount_col : str, optional
        Deal amount, on every row (missing, infinite or negative amounts raise
        :class:`~crmmodels.errors.DataError`); per entity the largest amount recorded at
        its most advanced stage (else at its exit event). Used by the forecast and
        velocity.
    segment_col : str, optional
        Segment column (constant per entity); fills :attr:`FunnelResult.segments`.
    cohort : {"D", "W", "M", "Q", "Y"}, optional
        The grid of entry cohorts: days, weeks (Monday to Sunday), months, quarters or
        years; fills
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
        strftime layout (e.g. ``"%d/%m/%Y %H:%M"``) of a text ``date_col``; without it
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
        Missing columns, bad stage arguments, a date column that holds no dates.
    DataError
        Empty log, null ids / stages / times, missing (null or NaN), infinite or
        negative amounts, unknown stage names (listed with counts), a segment that
        changes within an entity, backwards timestamps with ``on_backwards="raise"``.
        :class:`~crmmodels.errors.ArgumentError` (a ``DataError``) for a bad ``mode``,
        ``on_backwards``, ``observation_end``, ``cohort`` or column-name argument.

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
        ("date_col", date_col),
        ("amount_col", amount_col),
        ("segment_col", segment_col),
    ):
        if value is not None:
            check_column_name(value, arg)
    cohort_code = None if cohort is None else check_period_code(cohort, "cohort")
    agg = _aggregate(
        history,
        entity_col=entity_col,
        stage_col=stage_col,
        date_col=date_col,
        amount_col=amount_col,
        segment_col=segment_col,
        date_format=date_format,
    )
    code = _event_codes(agg, st, ex, markers, stage_col)
    end_days = (
        agg.t_max
        if observation_end is None
        else _scalar_days(observation_end, agg.is_datetime, "observation_end", agg.time_zone)
    )
    late = agg.first > end_days
    first, exit_time = _entry_times(agg, code, late, len(st), several=(bool(markers), len(ex) > 1))
    state = kf.funnel_state(first, exit_time, mode)
    backwards = kf.backwards_mask(first)
    if on_backwards == "raise" and backwards.any():
        ex_id = python_scalar(agg.ids[np.argmax(backwards)])
        raise DataError(
            f"history: column '{date_col}' goes backwards against funnel order for "
            f"{int(backwards.sum())} entities (first example: {entity_col}={ex_id!r}): a "
            "later stage was entered before an earlier one. Fix the log or pass "
            "on_backwards='report'."
        )
    counts = kf.stage_counts(state, len(st))
    finished, still = kf.stay_durations(first, exit_time, state, end_days)
    table, bottleneck = _table(counts, finished, still, st, code, late, agg.n_times)
    issues = _issues(
        ids_arr=agg.ids,
        entity_col=entity_col,
        mode=mode,
        state=state,
        backwards=backwards,
        n_evt=agg.n_rows,
        n_times=agg.n_times,
        ent_codes=agg.ent_codes,
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
        observation_end=_days_to_label(end_days, agg.is_datetime),
        n_entities=len(agg.ids),
        n_events=agg.n_events,
        n_duplicates=int((agg.n_rows - agg.n_times).sum()),
        win_rate=win_rate,
        _ids=agg.ids,
        _first=first,
        _exit=exit_time,
        _amount=None if amount_col is None else _entity_amounts(agg, code, len(st)),
        _segment=agg.segment,
        _end_days=end_days,
        _is_datetime=agg.is_datetime,
        _time_zone=agg.time_zone,
        _finished=finished,
        _open=still,
    )
    cohorts = _group_table(result, "cohort", cohort_code) if cohort_code else None
    segments = _group_table(result, "segment", None) if segment_col is not None else None
    if cohorts is None and segments is None:
        return result
    object.__setattr__(result, "cohorts", cohorts)
    object.__setattr__(result, "segments", segments)
    return result


def _event_codes(
    agg: _Aggregate,
    st: tuple[str, ...],
    ex: tuple[str, ...],
    markers: dict[str, int],
    stage_col: str,
) -> npt.NDArray[np.int64]:
    """Stage position of each aggregate row (-1 for an exit); unknown names raise."""
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
    codes: npt.NDArray[np.int64] = np.array([code_of[s] for s in agg.stage_labels], dtype=np.int64)[
        agg.stage_codes
    ]
    return codes


def _entry_times(
    agg: _Aggregate,
    code: npt.NDArray[np.int64],
    late: npt.NDArray[np.bool_],
    n_stages: int,
    *,
    several: tuple[bool, bool],
) -> tuple[FloatArray, FloatArray]:
    """First entry per (entity, stage) and first exit per entity, up to the cut.

    ``several``: whether several event names share a stage (promotion markers) and
    whether there are several exit names; otherwise a plain assignment is enough, since
    (entity, stage name) rows are unique.
    """
    first_t = np.where(late, np.nan, agg.first)
    is_exit = code < 0
    fun = ~is_exit
    ent = agg.ent_codes
    first = np.full((len(agg.ids), n_stages), np.nan, order="F")  # stage columns contiguous
    exit_time = np.full(len(agg.ids), np.nan)
    if several[0]:
        np.fmin.at(first, (ent[fun], code[fun]), first_t[fun])
    else:
        first[ent[fun], code[fun]] = first_t[fun]
    if several[1]:
        np.fmin.at(exit_time, ent[is_exit], first_t[is_exit])
    else:
        exit_time[ent[is_exit]] = first_t[is_exit]
    return first, exit_time


def _table(
    counts: dict[str, npt.NDArray[np.int64]],
    finished: FloatArray,
    still: FloatArray,
    st: tuple[str, ...],
    code: npt.NDArray[np.int64],
    late: npt.NDArray[np.bool_],
    n_times: npt.NDArray[np.int64],
) -> tuple[pd.DataFrame, str | None]:
    """The per-stage table (counts, rates, times in stage, re-entries) and the bottleneck."""
    table = _stage_table(counts, 0)
    table.insert(0, "stage", list(st))
    q = kf.quantiles_by_column(finished, (0.5, 0.9))
    table["time_mean"] = kf.column_means(finished)
    table["time_median"] = q[0]
    table["time_p90"] = q[1]
    table["time_n"] = (~np.isnan(finished)).sum(axis=0)
    table["open_time_mean"] = kf.column_means(still)
    table["open_time_median"] = kf.quantiles_by_column(still, (0.5,))[0]
    reentries = np.zeros(len(st), dtype=np.int64)
    counted = (code >= 0) & ~late
    np.add.at(reentries, code[counted], n_times[counted] - 1)
    table["reentries"] = reentries
    table["implied"] = counts["implied"][0]
    table["left_path"] = counts["left_path"][0]
    conv = table["conversion"].to_numpy()[:-1]
    bottleneck: str | None = None
    if np.isfinite(conv).any():
        bottleneck = st[int(np.nanargmin(conv))]
    table["bottleneck"] = table["stage"] == bottleneck
    return table, bottleneck


def _entity_amounts(agg: _Aggregate, code: npt.NDArray[np.int64], n_stages: int) -> FloatArray:
    """Amount per entity: at the most advanced stage with an amount, else at its exit."""
    n_ent = len(agg.ids)
    ent = agg.ent_codes
    amt = agg.amount if agg.amount is not None else np.full(len(code), np.nan)
    amt_mat = np.full((n_ent, n_stages), np.nan, order="F")
    ok = (code >= 0) & ~np.isnan(amt)
    np.fmax.at(amt_mat, (ent[ok], code[ok]), amt[ok])
    amount = np.full(n_ent, np.nan)
    for k in range(n_stages):  # stages, not rows: a handful of vectorised passes
        amount = np.where(np.isnan(amt_mat[:, k]), amount, amt_mat[:, k])
    exit_amt = np.full(n_ent, np.nan)
    okx = (code < 0) & ~np.isnan(amt)
    np.fmax.at(exit_amt, ent[okx], amt[okx])
    out: FloatArray = np.where(np.isnan(amount), exit_amt, amount)
    return out


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
        "after_observation_end",
        int(n_evt[late].sum()),
        by_entity(late),
        "events after observation_end ignored",
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
