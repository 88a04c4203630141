"""The results of lifecycle_stages and lifecycle_transitions."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd

from crmmodels._ingest.arguments import check_choice
from crmmodels._ingest.renames import renamed_property
from crmmodels._results import Result
from crmmodels.errors import DataError
from crmmodels.lifecycle._rules import LifecycleRules

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["LifecycleStagesResult", "LifecycleTransitionsResult"]


@dataclass(frozen=True, repr=False)
class LifecycleStagesResult(Result):
    """Lifecycle stage of every customer at one date.

    Attributes
    ----------
    stages : pandas.DataFrame
        One row per customer: the id, ``stage`` and the features the rules used
        (``purchase_days``, ``first_purchase``, ``last_purchase``, ``days_since_last``,
        ``value``; ``p_alive`` with a model; ``recent_value``, ``history_value``, ``trend``
        under the relationship scheme).
    summary : pandas.DataFrame
        Per stage (in stage order): ``customers``, ``share``, ``value`` (total value up to
        ``observation_end``: amounts with ``amount_col``, else purchase days), ``mean_value`` and
        ``mean_purchase_days``.
    scheme : str
        ``"purchase"`` or ``"relationship"``.
    observation_end : str
        Snapshot date (ISO): the cut-off date, purchases on that day included.
    n_customers : int
        Customers classified (each exactly once).
    n_prospects : int
        Customers without a purchase on or before ``observation_end``.
    n_excluded : int
        Customers whose purchases are all after ``observation_end`` and who were left out because
        ``future_customers="exclude"`` (0 otherwise).
    alive_model : object or None
        The model that gave ``p_alive`` (the one passed, or the BG/NBD fitted with
        ``model="bgnbd"``); None without one or when its fit was skipped.
    notes : tuple of str
        Steps that were skipped (e.g. a BG/NBD fit that cannot be resolved on a few
        customers) and what was used instead; empty otherwise.
    rules : LifecycleRules
        The scheme and thresholds used.
    as_of : str
        Old name of ``observation_end`` (deprecated, warns).

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({
    ...     "customer_id": [1, 2, 2, 3],
    ...     "date": pd.to_datetime(["2024-03-01", "2024-01-05", "2024-03-10", "2022-06-01"]),
    ... })
    >>> from crmmodels.lifecycle import lifecycle_stages
    >>> res = lifecycle_stages(tx, observation_end="2024-03-31", customers=[4])
    >>> res  # doctest: +NORMALIZE_WHITESPACE
    LifecycleStagesResult(scheme=purchase, observation_end=2024-03-31, n_customers=4,
    n_prospects=1, n_excluded=0, rows=4)
    >>> res.to_frame()["stage"].tolist()
    ['first_time', 'loyal', 'churned', 'prospect']
    >>> res.summary["customers"].tolist()
    [1, 1, 1, 1]
    >>> ax = res.plot()
    >>> type(ax).__name__
    'Axes'
    >>> import matplotlib.pyplot as plt
    >>> plt.close(ax.figure)
    """

    stages: pd.DataFrame
    summary: pd.DataFrame
    scheme: str
    observation_end: str
    n_customers: int
    n_prospects: int
    n_excluded: int
    _alive_model: Any = field(default=None, repr=False)
    _notes: tuple[str, ...] = field(default=(), repr=False)
    _rules: LifecycleRules = field(default_factory=LifecycleRules, repr=False)

    as_of = renamed_property("as_of", "observation_end")

    @property
    def rules(self) -> LifecycleRules:
        """The scheme and thresholds used."""
        return self._rules

    @property
    def alive_model(self) -> Any:
        """The model that gave ``p_alive`` (None without one or when its fit was skipped)."""
        return self._alive_model

    @property
    def notes(self) -> tuple[str, ...]:
        """Skipped steps and what was used instead, in plain words."""
        return self._notes

    def to_frame(self) -> pd.DataFrame:
        """One row per customer with ``stage`` and the features used."""
        return self.stages.copy()

    def plot(self, ax: Axes | None = None, **kwargs: Any) -> Axes:
        """Bar chart of customers per stage.

        Draws :func:`crmmodels.plotting.lifecycle.plot_stage_counts`; ``kwargs`` go to it.
        """
        from crmmodels.plotting.lifecycle import plot_stage_counts

        return plot_stage_counts(self, ax=ax, **kwargs)


@dataclass(frozen=True, repr=False)
class LifecycleTransitionsResult(Result):
    """Stages at a sequence of snapshots and the transitions between consecutive ones.

    Attributes
    ----------
    stages : pandas.DataFrame
        Customers (rows, indexed by id) x snapshots (columns): the stage at each snapshot,
        ``"not_yet_customer"`` where the customer is not yet known.
    stage_counts : pandas.DataFrame
        Snapshots x stages: customers per stage (each customer once per snapshot).
    counts : pandas.DataFrame
        Transition counts pooled over all consecutive snapshot pairs: rows the stage at
        the earlier snapshot, columns the stage at the next one (``not_yet_customer`` rows
        are customers who appear; a ``not_yet_customer`` column would be customers who
        disappear).
    rates : pandas.DataFrame
        ``counts`` normalised by row (NaN for empty rows).
    transitions : pandas.DataFrame
        Long table per pair: ``from_snapshot``, ``to_snapshot``, ``from_stage``,
        ``to_stage``, ``customers``, ``rate``.
    time_in_stage : pandas.DataFrame
        Per stage: ``customers`` ever in it, ``mean_snapshots`` (snapshots spent in the
        stage per such customer), ``spells`` (runs of consecutive snapshots),
        ``censored_spells`` (runs still going at the last snapshot), ``mean_spell``
        (snapshots per run) and ``mean_spell_days`` (``mean_spell`` x mean snapshot
        spacing in days).
    scheme : str
        The stage scheme.
    snapshots : tuple of str
        Snapshot dates (ISO).
    n_customers : int
        Customers seen at any snapshot.
    rules : LifecycleRules
        The scheme and thresholds used.
    notes : tuple of str
        Steps skipped at some snapshot (prefixed with its date), e.g. a BG/NBD fit that
        cannot be resolved on the few customers known then; empty otherwise.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({
    ...     "customer_id": [1, 2, 2, 3],
    ...     "date": pd.to_datetime(["2024-03-01", "2024-01-05", "2024-03-10", "2022-06-01"]),
    ... })
    >>> from crmmodels.lifecycle import lifecycle_transitions
    >>> res = lifecycle_transitions(tx, snapshots=["2024-01-31", "2024-03-31"])
    >>> res.snapshots
    ('2024-01-31', '2024-03-31')
    >>> res.stage_counts.loc["2024-03-31"].tolist()
    [0, 1, 1, 1, 0]
    >>> list(res.to_frame().columns)
    ['from_snapshot', 'to_snapshot', 'from_stage', 'to_stage', 'customers', 'rate']
    >>> int(res.counts.loc["not_yet_customer", "first_time"])
    1
    >>> ax = res.plot(kind="heatmap")
    >>> type(ax).__name__
    'Axes'
    >>> import matplotlib.pyplot as plt
    >>> plt.close(ax.figure)
    """

    stages: pd.DataFrame
    stage_counts: pd.DataFrame
    counts: pd.DataFrame
    rates: pd.DataFrame
    transitions: pd.DataFrame
    time_in_stage: pd.DataFrame
    scheme: str
    snapshots: tuple[str, ...]
    n_customers: int
    _notes: tuple[str, ...] = field(default=(), repr=False)
    _rules: LifecycleRules = field(default_factory=LifecycleRules, repr=False)

    @property
    def notes(self) -> tuple[str, ...]:
        """Skipped steps per snapshot and what was used instead, in plain words."""
        return self._notes

    @property
    def rules(self) -> LifecycleRules:
        """The scheme and thresholds used."""
        return self._rules

    def matrix(self, pair: int | None = None, *, normalize: bool = False) -> pd.DataFrame:
        """Transition matrix of one consecutive pair (``pair`` = 0, 1, ...) or all pooled.

        Parameters
        ----------
        pair : int, optional
            Index of the pair (snapshots ``pair`` -> ``pair + 1``); None pools them all.
        normalize : bool
            Row-normalised rates instead of counts.

        Returns
        -------
        pandas.DataFrame
        """
        if pair is None:
            return (self.rates if normalize else self.counts).copy()
        if not 0 <= pair < len(self.snapshots) - 1:
            raise DataError(f"pair must be between 0 and {len(self.snapshots) - 2}; got {pair!r}.")
        sub = self.transitions[self.transitions["from_snapshot"] == self.snapshots[pair]]
        value = "rate" if normalize else "customers"
        out = sub.pivot(index="from_stage", columns="to_stage", values=value)
        return out.reindex(index=self.counts.index, columns=self.counts.columns)

    def to_frame(self) -> pd.DataFrame:
        """The long transition table (one row per pair and from/to stage)."""
        return self.transitions.copy()

    def plot(
        self, ax: Axes | None = None, kind: Literal["mix", "heatmap"] = "mix", **kwargs: Any
    ) -> Axes:
        """Stage mix over time (``kind="mix"``) or the transition heatmap (``"heatmap"``).

        ``kind="mix"`` draws :func:`crmmodels.plotting.lifecycle.plot_stage_mix`,
        ``kind="heatmap"`` :func:`crmmodels.plotting.lifecycle.plot_transition_heatmap`;
        ``kwargs`` go to that function.
        """
        from crmmodels.plotting.lifecycle import plot_stage_mix, plot_transition_heatmap

        check_choice(kind, "kind", ["mix", "heatmap"])
        if kind == "heatmap":
            return plot_transition_heatmap(self, ax=ax, **kwargs)
        return plot_stage_mix(self, ax=ax, **kwargs)
