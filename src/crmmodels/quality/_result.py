"""The result of :func:`crmmodels.quality.relationship_quality`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from crmmodels._ingest.arguments import check_choice, check_int
from crmmodels._results import Result
from crmmodels.errors import DataError

if TYPE_CHECKING:
    from matplotlib.axes import Axes


@dataclass(frozen=True, repr=False)
class RelationshipQualityResult(Result):
    """Scores, reliability, validity and the dyadic view of a relationship-quality survey.

    Attributes
    ----------
    scores : pandas.DataFrame
        One row per respondent: the respondent id (and side / relationship when given),
        one score column per construct and ``rq_index`` (missing scores are ``NaN``).
    reliability : pandas.DataFrame
        One row per construct: ``n_items``, ``n`` (rows usable by the covariances),
        ``alpha``, ``alpha_ci_low``, ``alpha_ci_high``, ``omega``,
        ``composite_reliability``, ``ave``, ``rmsr`` (root mean square residual of the
        one-factor fit), ``heywood``, ``weight``,
        ``mean_score``, ``sd_score``, ``n_scored`` and ``n_unscored`` (respondents below
        ``min_answered``).
    items : pandas.DataFrame
        One row per item: ``construct``, ``reversed``, ``n``, ``mean`` (after reversal),
        ``sd``, ``loading`` (standardised), ``item_total_corr`` and ``alpha_if_deleted``.
    htmt : pandas.DataFrame
        Heterotrait-monotrait ratios between constructs (values below 0.85 usually read
        as discriminant validity).
    dyadic : pandas.DataFrame or None
        With sides: one row per relationship and construct (and ``rq_index``): the mean
        score of each side, ``gap`` (first side minus second) and ``abs_gap``.
    sides : tuple of str
        The two sides in the order of ``gap`` (empty without sides).
    n_respondents : int
        Respondents.
    n_index_missing : int
        Respondents without an index (a construct score missing).
    n_unpaired : int
        Relationships rated by one side only (their gap is ``NaN``).
    min_answered : float
        Minimum answered share of a construct's items for a score.
    nan_policy : str
        Missing-answer rule of the statistics.
    scale : (float, float)
        Scale bounds.

    Examples
    --------
    >>> from crmmodels.datasets import simulate_survey
    >>> from crmmodels.quality import relationship_quality
    >>> sim = simulate_survey(60, seed=1)
    >>> res = relationship_quality(sim.survey, constructs=sim.constructs, reverse=sim.reverse)
    >>> list(res.reliability.index)
    ['trust', 'satisfaction', 'commitment']
    >>> res.scores.shape
    (120, 5)
    >>> ax = res.plot(kind="items")
    >>> type(ax).__name__
    'Axes'
    >>> import matplotlib.pyplot as plt
    >>> plt.close(ax.figure)
    """

    scores: pd.DataFrame
    reliability: pd.DataFrame
    items: pd.DataFrame
    htmt: pd.DataFrame
    dyadic: pd.DataFrame | None
    sides: tuple[str, ...]
    n_respondents: int
    n_index_missing: int
    n_unpaired: int
    min_answered: float
    nan_policy: str
    scale: tuple[float, float]

    def to_frame(self) -> pd.DataFrame:
        """Return the per-construct reliability table."""
        return self.reliability.copy()

    def largest_gaps(self, n: int = 10) -> pd.DataFrame:
        """Relationships with the largest absolute side gap (over the constructs).

        Returns one row per relationship: its gap on each construct (columns) and
        ``max_abs_gap``, sorted descending, ``n`` rows at most.
        """
        n = check_int(n, "n", low=1)
        if self.dyadic is None:
            raise DataError(
                "largest_gaps needs a survey with sides (side_col and relationship_col)."
            )
        d = self.dyadic[self.dyadic["construct"] != "rq_index"]
        wide = d.pivot(index="relationship", columns="construct", values="gap")
        wide = wide[[c for c in self.reliability.index if c in wide.columns]]
        wide.columns.name = None
        wide["max_abs_gap"] = wide.abs().max(axis=1)
        return wide.sort_values("max_abs_gap", ascending=False, kind="stable").head(n)

    def plot(self, ax: Axes | None = None, *, kind: str = "profile", **kwargs: Any) -> Axes:
        """Plot the result.

        Parameters
        ----------
        ax : matplotlib Axes, optional
            Where to draw.
        kind : {"profile", "items", "gap"}
            Construct profile (mean scores with intervals, per side), item diagnostics,
            or the dyadic gap chart.
        **kwargs
            Passed to the plotting function.
        """
        check_choice(kind, "kind", ("profile", "items", "gap"))
        from crmmodels.plotting import quality as pq

        if kind == "profile":
            return pq.plot_construct_profile(self, ax=ax, **kwargs)
        if kind == "items":
            return pq.plot_item_diagnostics(self, ax=ax, **kwargs)
        return pq.plot_dyadic_gaps(self, ax=ax, **kwargs)
