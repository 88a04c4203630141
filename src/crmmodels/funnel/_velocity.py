"""Sales velocity of a funnel: :func:`sales_velocity`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from crmmodels._results import Result
from crmmodels.funnel._forecast import _open_deals, _state_at
from crmmodels.funnel._result import FunnelResult
from crmmodels.kernels import funnel as kf

if TYPE_CHECKING:
    from matplotlib.axes import Axes


@dataclass(frozen=True, repr=False, eq=False)
class SalesVelocityResult(Result):
    r"""Sales velocity (returned by :func:`sales_velocity`).

    Attributes
    ----------
    opportunities : int
        Open deals at ``observation_end`` (not yet won or lost).
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


def sales_velocity(result: FunnelResult) -> SalesVelocityResult:
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
    SalesVelocityResult

    Examples
    --------
    >>> from crmmodels.funnel import funnel_metrics
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
    state = _state_at(result, result._end_days)
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
    return SalesVelocityResult(
        opportunities=opp,
        win_rate=p,
        avg_deal_size=deal,
        cycle_days=cycle_days,
        velocity=per_day * deal,
        deals_per_day=per_day,
    )
