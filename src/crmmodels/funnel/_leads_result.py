"""The result of :func:`crmmodels.funnel.lead_scores`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from crmmodels._ingest.arguments import check_choice
from crmmodels._results import Result

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["LeadScoresResult"]

_VALIDATION = (
    "auc",
    "auc_low",
    "auc_high",
    "level",
    "brier",
    "brier_base",
    "hosmer_lemeshow",
    "hosmer_lemeshow_p",
    "n_train",
    "n_validation",
    "validation_start",
)


@dataclass(frozen=True, repr=False, eq=False)
class LeadScoresResult(Result):
    """Scored open leads and the validation of the score (returned by ``lead_scores``).

    Attributes
    ----------
    table : pandas.DataFrame
        One row per open lead, most likely first: the id (``entity_col``), the creation
        date, the stage (with ``stage_col``), ``probability`` (calibrated chance of a
        won deal), ``rank`` (1 = most likely; ties share the best rank) and ``decile``
        (1 = the top 10%).
    gains : pandas.DataFrame
        Validation part, by decile of the score (1 = top): ``n``, ``won``, ``won_rate``,
        ``predicted_mean``, ``lift``, ``cumulative_share``, ``cumulative_gain``,
        ``cumulative_lift``.
    calibration : pandas.DataFrame
        Validation part, by bin of the score (1 = lowest): ``n``, ``predicted_mean``,
        ``observed_rate`` and its Wilson interval ``observed_low``/``observed_high``.
    effects : pandas.DataFrame
        Logistic regression: ``feature``, ``column``, ``coefficient`` and ``odds_ratio``
        (per standard deviation for numeric features). Gradient boosting: ``column``,
        ``importance`` and ``importance_std`` (permutation importance, AUC drop).
    leak_check : pandas.DataFrame
        Per feature column: ``validation_auc`` of that feature alone, the share missing
        among open (``missing_open``) and closed (``missing_closed``) leads,
        ``suspect`` and ``reason``.
    entity_col, model, calibration_method : str
        The id column, the classifier and the calibration map.
    auc, auc_low, auc_high, level : float
        Validation AUC and DeLong's interval at ``level``.
    brier, brier_base : float
        Brier score of the score and of the training won rate on the validation part.
    hosmer_lemeshow, hosmer_lemeshow_p : float
        Hosmer-Lemeshow statistic of the calibration table and its p-value.
    n_train, n_validation, n_won, n_lost, n_open : int
        Closed leads in the training and validation parts; closed leads won and lost;
        open leads scored.
    validation_start : str
        Creation date of the first validation lead.
    expected_wins : float
        Sum of the open leads' probabilities: the expected number of won deals.
    leak_suspects : tuple of str
        Feature columns flagged by the leak check.
    estimator : object
        The fitted scikit-learn model (refitted on all closed leads); its
        ``predict_proba`` scores new leads given as a pandas frame of ``feature_cols``.

    Examples
    --------
    >>> from crmmodels.datasets import simulate_leads
    >>> from crmmodels.funnel import lead_scores
    >>> res = lead_scores(simulate_leads(2000, seed=3).leads,
    ...                   feature_cols=["source", "engagement", "budget"])
    >>> sorted(res.validation)[:3]
    ['auc', 'auc_high', 'auc_low']
    >>> ax = res.plot(kind="calibration")
    >>> type(ax).__name__
    'Axes'
    >>> import matplotlib.pyplot as plt
    >>> plt.close(ax.figure)
    """

    table: pd.DataFrame
    gains: pd.DataFrame
    calibration: pd.DataFrame
    effects: pd.DataFrame
    leak_check: pd.DataFrame
    entity_col: str
    model: str
    calibration_method: str
    auc: float
    auc_low: float
    auc_high: float
    level: float
    brier: float
    brier_base: float
    hosmer_lemeshow: float
    hosmer_lemeshow_p: float
    n_train: int
    n_validation: int
    n_won: int
    n_lost: int
    n_open: int
    validation_start: str
    expected_wins: float
    leak_suspects: tuple[str, ...]
    estimator: Any

    @property
    def validation(self) -> dict[str, Any]:
        """The validation metrics (AUC and interval, Brier, Hosmer-Lemeshow, sizes)."""
        return {name: getattr(self, name) for name in _VALIDATION}

    @property
    def probabilities(self) -> pd.Series:
        """The open leads' probabilities indexed by lead id (for ``pipeline_forecast``)."""
        return pd.Series(
            self.table["probability"].to_numpy(),
            index=pd.Index(self.table[self.entity_col], name=self.entity_col),
            name="probability",
        )

    def to_frame(self) -> pd.DataFrame:
        """Return the scored open leads (a copy)."""
        return self.table.copy()

    def plot(self, ax: Axes | None = None, *, kind: str = "gains", **kwargs: Any) -> Axes:
        """Cumulative gains chart, calibration curve or effects of the features.

        Parameters
        ----------
        ax : matplotlib Axes, optional
        kind : {"gains", "calibration", "effects"}
        """
        kind = check_choice(kind, "kind", ("gains", "calibration", "effects"))
        if kind == "gains":
            from crmmodels.plotting.funnel import plot_lead_gains

            return plot_lead_gains(self, ax=ax, **kwargs)
        if kind == "calibration":
            from crmmodels.plotting.funnel import plot_lead_calibration

            return plot_lead_calibration(self, ax=ax, **kwargs)
        from crmmodels.plotting.funnel import plot_lead_effects

        return plot_lead_effects(self, ax=ax, **kwargs)
