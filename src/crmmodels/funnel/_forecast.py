"""The weighted pipeline forecast (:func:`pipeline_forecast`) and its backtest."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmmodels._results import Result
from crmmodels.errors import ArgumentError, DataError, bad_rows_message
from crmmodels.funnel._result import FloatArray, FunnelResult, _days_to_label, _scalar_days
from crmmodels.kernels import funnel as kf

if TYPE_CHECKING:
    from matplotlib.axes import Axes


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
class PipelineForecastResult(Result):
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
    n_scored, n_unused : int
        With ``entry_probabilities``: open first-stage deals weighted by their own
        probability, and given probabilities that matched no open first-stage deal.

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
    n_scored: int = 0
    n_unused: int = 0

    def to_frame(self) -> pd.DataFrame:
        """Return the per-stage table (a copy)."""
        return self.table.copy()

    def plot(self, ax: Axes | None = None, **kwargs: Any) -> Axes:
        """Bar chart of open and weighted amount (or deal counts) per stage."""
        from crmmodels.plotting.funnel import plot_forecast

        return plot_forecast(self, ax=ax, **kwargs)


def _entry_probabilities(value: Any) -> pd.Series:
    """Per-lead probabilities as a Series indexed by id, checked to lie in [0, 1]."""
    from crmmodels.funnel._leads_result import LeadScoresResult

    if isinstance(value, LeadScoresResult):
        probs = value.probabilities
    elif isinstance(value, pd.Series):
        probs = value
    elif isinstance(value, dict):
        probs = pd.Series(value, dtype=np.float64)
    else:
        raise ArgumentError(
            "entry_probabilities must be a LeadScoresResult, a pandas Series of "
            f"probabilities indexed by entity id, or a dict; got {type(value).__name__}."
        )
    p = pd.to_numeric(probs, errors="coerce").to_numpy(dtype=np.float64)
    bad = ~((p >= 0.0) & (p <= 1.0))
    if bad.any():
        example = probs.index[bad][0]
        raise DataError(
            bad_rows_message(
                "entry_probabilities",
                "is not a probability in [0, 1]",
                int(bad.sum()),
                f"id {example!r}: {probs.iloc[int(np.flatnonzero(bad)[0])]!r}",
            )
        )
    if probs.index.has_duplicates:
        dup = probs.index[probs.index.duplicated()]
        raise DataError(
            bad_rows_message(
                "entry_probabilities", "repeats an id", len(dup), dup[0], "Give one per id."
            )
        )
    return pd.Series(p, index=probs.index)


def pipeline_forecast(
    result: FunnelResult, *, entry_probabilities: Any = None
) -> PipelineForecastResult:
    r"""Weighted pipeline forecast: open amount times the historical win rate of its stage.

    Every open deal (not dropped, not yet won) at the result's ``observation_end`` is weighted by
    the win rate from its current stage :math:`k`, estimated on the closed deals:

    $$\hat p_k = \frac{\#\{\text{won, reached } k\}}{\#\{\text{won or lost, reached } k\}},
    \qquad \text{forecast} = \sum_{\text{open } i} \hat p_{k(i)}\, a_i.$$

    With ``entry_probabilities`` (lead scores), an open deal still in the first stage
    is weighted by its own probability instead of the first stage's historical rate, so
    the expected wins of the first stage are the sum of its open leads' probabilities;
    deals further down keep their stage's rate. The table then gains a column
    ``scored`` (open deals weighted by their own probability) and ``win_rate`` stays the
    historical rate; ``n_scored`` counts the scored deals and ``n_unused`` the
    probabilities whose id is not an open first-stage deal (left out).

    Parameters
    ----------
    result : FunnelResult
        From :func:`funnel_metrics` (pass ``amount_col`` for amounts).
    entry_probabilities : LeadScoresResult, pandas Series or dict, optional
        Probability of a won deal per entity id: the result of
        :func:`~crmmodels.funnel.lead_scores` (its open leads), or a Series indexed by
        id. The ids must be those of the funnel's ``entity_col``.

    Returns
    -------
    PipelineForecastResult

    Examples
    --------
    >>> from crmmodels.funnel import funnel_metrics
    >>> from crmmodels.datasets._funnel import simulate_funnel
    >>> sim = simulate_funnel(2000, seed=1)
    >>> res = funnel_metrics(sim.history, amount_col="amount")
    >>> fc = pipeline_forecast(res)
    >>> list(fc.to_frame().columns)[:4]
    ['stage', 'open', 'open_amount', 'win_rate']
    """
    won_k = result.won_index
    state = _state_at(result, result._end_days)
    rate, n_closed = _win_rates(state, len(result.stages), won_k)
    open_mask = _open_deals(state, won_k)
    cur = state.n[open_mask] - 1
    p = rate[cur]
    ids = result._ids[open_mask]
    scored = np.zeros(cur.shape[0], dtype=bool)
    n_unused = 0
    if entry_probabilities is not None:
        probs = _entry_probabilities(entry_probabilities)
        at = pd.Index(probs.index).get_indexer(ids)
        scored = (at >= 0) & (cur == 0)
        p = np.where(scored, probs.to_numpy()[np.maximum(at, 0)], p)
        n_unused = len(probs) - int(scored.sum())
    amt = result._amount[open_mask] if result._amount is not None else np.full(cur.shape[0], np.nan)
    deals = pd.DataFrame(
        {
            "entity_id": ids,
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
    if entry_probabilities is not None:
        first = cur == 0
        rated = first & ~np.isnan(p)
        table.loc[0, "expected_wins"] = float(p[rated].sum()) if rated.any() else np.nan
        if has_amt:
            table.loc[0, "weighted_amount"] = float(np.nansum(p[rated] * amt[rated]))
        table["scored"] = np.bincount(cur[scored], minlength=nk)[:nk].astype(np.int64)
    return PipelineForecastResult(
        table=table,
        deals=deals,
        expected_wins=float(np.nansum(table["expected_wins"])),
        weighted_amount=float(np.nansum(table["weighted_amount"])) if has_amt else float("nan"),
        open_amount=float(np.nansum(open_amt)) if has_amt else float("nan"),
        n_unrated=int(np.isnan(p).sum()),
        n_scored=int(scored.sum()),
        n_unused=n_unused,
    )


@dataclass(frozen=True, repr=False, eq=False)
class ForecastBacktestResult(Result):
    """Backtest of the weighted pipeline forecast (returned by :func:`forecast_backtest`).

    Attributes
    ----------
    table : pandas.DataFrame
        Per stage (the deal's stage at the cut): ``open_at_cut``, ``win_rate`` (trained
        on deals closed before the cut), ``predicted_wins``, ``actual_wins``,
        ``still_open`` (unresolved at ``observation_end``), ``predicted_amount``, ``actual_amount``.
    cut : str
        The cut date.
    predicted_wins, actual_wins, still_open : float
        Totals; deals still open at ``observation_end`` count as not won.
    predicted_amount, actual_amount : float
        Totals of amounts (NaN without ``amount_col``).
    n_unrated : int
        Deals open at the cut whose stage had no closed history before the cut
        (``win_rate`` NaN): they count in ``actual_wins`` but predict no win.

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


def forecast_backtest(result: FunnelResult, cut: Any) -> ForecastBacktestResult:
    """Backtest the weighted pipeline forecast at a past cut date.

    Win rates are estimated on the entities closed (won or lost) by ``cut``; they are
    applied to the entities open at ``cut`` (by their stage at ``cut``) and compared with
    what those entities actually did by the result's ``observation_end``.

    Parameters
    ----------
    result : FunnelResult
        From :func:`funnel_metrics`.
    cut : date or number
        The cut (same kind as the date column), before ``observation_end``; an aware
        date is converted to the data's time zone first.

    Returns
    -------
    ForecastBacktestResult

    Examples
    --------
    >>> from crmmodels.funnel import funnel_metrics
    >>> from crmmodels.datasets._funnel import simulate_funnel
    >>> sim = simulate_funnel(5000, seed=2)
    >>> bt = forecast_backtest(funnel_metrics(sim.history), "2024-10-01")
    >>> abs(bt.predicted_wins - bt.actual_wins) / bt.actual_wins < 0.2
    True
    """
    t = _scalar_days(cut, result._is_datetime, "cut", result._time_zone)
    if not t < result._end_days:
        raise DataError(
            f"cut must be before observation_end ({result.observation_end}); got {cut!r}."
        )
    won_k = result.won_index
    at_cut = _state_at(result, t)
    rate, _ = _win_rates(at_cut, len(result.stages), won_k)
    open_mask = _open_deals(at_cut, won_k)
    cur = at_cut.n[open_mask] - 1
    p = rate[cur]
    end = _state_at(result, result._end_days)
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
    return ForecastBacktestResult(
        table=table,
        cut=_days_to_label(t, result._is_datetime),
        predicted_wins=float(table["predicted_wins"].sum()),
        actual_wins=float(table["actual_wins"].sum()),
        still_open=float(table["still_open"].sum()),
        predicted_amount=float(table["predicted_amount"].sum()) if has_amt else float("nan"),
        actual_amount=float(table["actual_amount"].sum()) if has_amt else float("nan"),
        n_unrated=int(np.isnan(p).sum()),
    )
