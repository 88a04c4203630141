"""The funnel result: default stages, day conversions and :class:`FunnelResult` with its tables."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmmodels._ingest.arguments import check_choice, check_number
from crmmodels._ingest.dates import to_timestamp
from crmmodels._ingest.periods import check_period_code, numpy_period_index, period_labels
from crmmodels._ingest.renames import renamed_property
from crmmodels._results import Result
from crmmodels.errors import SchemaError
from crmmodels.kernels import funnel as kf

if TYPE_CHECKING:
    from matplotlib.axes import Axes


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


def _scalar_days(value: Any, is_datetime: bool, name: str, tz: str | None) -> float:
    """A time argument (``observation_end``, ``cut``) in days; :class:`ArgumentError` if unusable.

    A date is read on the data's local calendar: an aware one is converted to the data's
    zone ``tz`` first (see :func:`crmmodels._ingest.dates.to_timestamp`).
    """
    if not is_datetime:
        return check_number(value, name, fix="The date column is numeric (days).")
    ts = to_timestamp(value, name, tz=tz)  # ISO 8601 text or a date object
    return float(ts.as_unit("ns").value / _NS_PER_DAY)


def _days_to_label(days: float, is_datetime: bool) -> str:
    if not np.isfinite(days):
        return "nan"
    if not is_datetime:
        return f"{days:g}"
    ts = pd.Timestamp(round(days * _NS_PER_DAY), unit="ns")
    return str(ts.date()) if ts == ts.normalize() else str(ts)


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
    mode, won_stage, bottleneck, observation_end : str
        Counting mode, the stage that means won, the stage with the lowest conversion and
        the cut-off (``as_of`` is its old name, kept for now with a ``FutureWarning``).
    stages : tuple of str
        The funnel stages in order.
    n_entities, n_events, n_duplicates : int
        Distinct entities in the log, events (rows), and exact duplicate events removed.
    win_rate : float
        Entities that reached ``won_stage`` divided by those that entered the first stage.

    Examples
    --------
    >>> from crmmodels.funnel import funnel_metrics
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
    'closed_won'], won_stage=closed_won, bottleneck=lead_generation, observation_end=10,
    n_entities=3,
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
    observation_end: str
    n_entities: int
    n_events: int
    n_duplicates: int
    win_rate: float
    _ids: npt.NDArray[Any]
    _first: FloatArray
    _exit: FloatArray
    _amount: FloatArray | None
    _segment: npt.NDArray[Any] | None
    _end_days: float
    _is_datetime: bool
    _time_zone: str | None
    _finished: FloatArray
    _open: FloatArray

    as_of = renamed_property("as_of", "observation_end")

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
        period : {"D", "W", "M", "Q", "Y"}
            Entry cohorts: calendar days, weeks (Monday to Sunday), months, quarters or
            years (the plural words ``"months"`` ... are read too).

        Returns
        -------
        pandas.DataFrame
            Indexed by cohort: ``entered`` (first-stage entries), one conversion column per
            stage but the last, and ``win_rate``. Recent cohorts still have open entities,
            so their rates are lower bounds.
        """
        period = check_period_code(period, "period")
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


def _cohort_codes(index: npt.NDArray[np.int64], period: str) -> tuple[npt.NDArray[Any], Any]:
    """Group codes of period numbers (ascending) and the periods' labels."""
    numbers, codes = np.unique(index, return_inverse=True)
    return codes, period_labels(numbers, period).astype(str)


def _group_table(result: FunnelResult, kind: str, period: str | None) -> pd.DataFrame:
    """Long per-group funnel table (cohort by entry period, or segment)."""
    state = kf.funnel_state(result._first, result._exit, result.mode)
    keep = state.n > 0
    if kind == "cohort":
        if not result._is_datetime:
            raise SchemaError("cohort funnels need a datetime date column; it is numeric.")
        entry = kf.row_fmin(result._first)[keep]
        index = numpy_period_index(_label_array(entry, True).to_numpy(), period or "M")
        codes, uniques = _cohort_codes(index, period or "M")
    else:
        assert result._segment is not None
        segments = pd.Series(result._segment)[keep]
        codes, uniques = pd.factorize(segments, sort=True, use_na_sentinel=False)
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
