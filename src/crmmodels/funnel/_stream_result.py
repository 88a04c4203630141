"""The result of :func:`~crmmodels.funnel.stream_funnel` and its tables."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmmodels._results import Result
from crmmodels.errors import ArgumentError
from crmmodels.kernels import funnel as kf
from crmmodels.kernels.intervals import difference_interval

if TYPE_CHECKING:
    from matplotlib.axes import Axes

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

_TIME_COLS = ["time_to_convert_mean", "time_to_convert_median", "time_to_convert_p90"]


def _counts(reach: IntArray, n_steps: int) -> IntArray:
    """Entities that reached each step: ``entered[k] = #(reach > k)``."""
    by_len = np.bincount(reach, minlength=n_steps + 1)
    out: IntArray = by_len[::-1].cumsum()[::-1][1:].astype(np.int64)
    return out


def _rates(entered: IntArray) -> tuple[FloatArray, FloatArray]:
    """Conversion to the next step and cumulative conversion from step 1."""
    e = entered.astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        conversion = np.append(e[1:] / e[:-1], np.nan)
        cumulative = e / e[0] if e[0] > 0 else np.full_like(e, np.nan)
    return conversion, cumulative


def _step_table(stages: tuple[str, ...], reach: IntArray, times: FloatArray) -> pd.DataFrame:
    """One row per step: counts, conversions and the time to convert (days)."""
    k = len(stages)
    entered = _counts(reach, k)
    conversion, cumulative = _rates(entered)
    some = reach > 0  # entities that never reached step 1 hold only NaN times
    r, tm = reach[some], times[some]
    since = np.where(np.arange(k)[None, :] < r[:, None], tm - tm[:, :1], np.nan)
    q = kf.quantiles_by_column(since, (0.5, 0.9))
    table = pd.DataFrame(
        {
            "step": np.arange(1, k + 1),
            "stage": list(stages),
            "entered": entered,
            "dropped": entered - np.append(entered[1:], 0),
            "conversion": conversion,
            "cumulative_conversion": cumulative,
            _TIME_COLS[0]: kf.column_means(since),
            _TIME_COLS[1]: q[0],
            _TIME_COLS[2]: q[1],
        }
    )
    table.loc[k - 1, "dropped"] = 0
    return table


def _segment_table(
    stages: tuple[str, ...],
    reach: IntArray,
    seg: npt.NDArray[Any],
    reference: Any,
    level: float,
) -> tuple[pd.DataFrame, Any]:
    """Per segment and step: counts, conversions, and the difference to the reference."""
    k = len(stages)
    codes, index = pd.factorize(pd.Series(seg, dtype=object), sort=True, use_na_sentinel=False)
    labels = list(index)
    entered = np.stack(
        [_counts(reach[codes == g], k) for g in range(len(labels))]
    )  # (n_segments, k)
    if reference is None:
        ref = int(np.argmax(entered[:, 0]))
    else:
        matches = [g for g, v in enumerate(labels) if v == reference]
        if not matches:
            raise ArgumentError(
                f"reference {reference!r} is not one of the segments {labels[:10]}."
            )
        ref = matches[0]
    rows = []
    for g, name in enumerate(labels):
        conversion, cumulative = _rates(entered[g])
        n1 = np.full(k, float(entered[g, 0]))
        n2 = np.full(k, float(entered[ref, 0]))
        d, lo, hi = difference_interval(
            entered[g].astype(np.float64), n1, entered[ref].astype(np.float64), n2, level
        )
        if g == ref:  # a segment against itself: no interval
            lo, hi = np.full(k, np.nan), np.full(k, np.nan)
        rows.append(
            pd.DataFrame(
                {
                    "segment": name,
                    "step": np.arange(1, k + 1),
                    "stage": list(stages),
                    "entered": entered[g],
                    "conversion": conversion,
                    "cumulative_conversion": cumulative,
                    "difference": d,
                    "difference_low": lo,
                    "difference_high": hi,
                }
            )
        )
    return pd.concat(rows, ignore_index=True), labels[ref]


@dataclass(frozen=True, repr=False, eq=False)
class StreamFunnelResult(Result):
    """An ordered funnel of an event stream (returned by :func:`stream_funnel`).

    Attributes
    ----------
    table : pandas.DataFrame
        One row per step (see :func:`stream_funnel`).
    segments : pandas.DataFrame or None
        With ``segment_col=``: one row per segment and step with ``entered``,
        ``conversion``, ``cumulative_conversion`` and ``difference`` (cumulative
        conversion minus the reference segment's) with ``difference_low`` and
        ``difference_high`` at ``level`` (NaN on the reference's own rows).
    ignored : pandas.DataFrame
        Events that are not funnel steps and were left out: ``event``, ``events``,
        ``entities`` (empty unless ``other_events="ignore"`` found some).
    mode : str
        ``"sequence"`` or ``"ordered"``.
    stages : tuple of str
        The steps in order.
    window : float or None
        The conversion window in days (None: no window).
    reference : str or None
        The segment the others are compared to.
    level : float
        Level of the intervals.
    observation_end : str
        The cut-off.
    n_entities, n_events, n_ignored_events, n_after_end : int
        Distinct entities in the log (with or without a step event), events (rows),
        events left out as not steps, and step events after ``observation_end``.
    conversion : float
        Entities that reached the last step divided by those at the first.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmmodels.funnel import stream_funnel
    >>> log = pd.DataFrame({"entity_id": [1, 1, 2], "stage": ["a", "b", "a"],
    ...                     "entered_at": [0.0, 1.0, 0.0]})
    >>> res = stream_funnel(log, stages=["a", "b"])
    >>> res  # doctest: +NORMALIZE_WHITESPACE
    StreamFunnelResult(segments=None, mode=sequence, stages=['a', 'b'], window=None,
                       reference=None, level=0.95, observation_end=1, n_entities=2,
                       n_events=3, n_ignored_events=0, n_after_end=0, conversion=0.5, rows=2)
    >>> ax = res.plot()
    >>> import matplotlib.pyplot as plt
    >>> plt.close(ax.figure)
    """

    table: pd.DataFrame
    segments: pd.DataFrame | None
    ignored: pd.DataFrame
    mode: str
    stages: tuple[str, ...]
    window: float | None
    reference: Any
    level: float
    observation_end: str
    n_entities: int
    n_events: int
    n_ignored_events: int
    n_after_end: int
    conversion: float
    _ids: npt.NDArray[Any]
    _reach: IntArray
    _times: FloatArray
    _segment: npt.NDArray[Any] | None

    def to_frame(self) -> pd.DataFrame:
        """The per-step table (a copy)."""
        return self.table.copy()

    def entities(self) -> pd.DataFrame:
        """One row per entity: ``entity``, ``steps`` reached and the time of each step.

        Examples
        --------
        >>> import pandas as pd
        >>> from crmmodels.funnel import stream_funnel
        >>> log = pd.DataFrame({"entity_id": [1, 1, 2], "stage": ["a", "b", "b"],
        ...                     "entered_at": [0.0, 1.0, 0.0]})
        >>> print(stream_funnel(log, stages=["a", "b"]).entities().to_string(index=False))
         entity  steps   a   b
              1      2 0.0 1.0
              2      0 NaN NaN
        """
        out = pd.DataFrame({"entity": self._ids, "steps": self._reach})
        for j, s in enumerate(self.stages):
            out[s] = self._times[:, j]
        if self._segment is not None:
            out.insert(1, "segment", self._segment)
        return out

    def plot(self, ax: Axes | None = None, **kwargs: Any) -> Axes:
        """Cumulative conversion by step, per segment too (see ``plot_stream_funnel``)."""
        from crmmodels.plotting.funnel import plot_stream_funnel

        return plot_stream_funnel(self, ax=ax, **kwargs)
