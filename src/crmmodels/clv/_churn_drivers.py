"""Churn drivers: the covariate effects of a fitted model as multiplicative effects on rates."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from crmmodels._ingest.arguments import check_level
from crmmodels._results import Result
from crmmodels.clv._covariates_fit import coefficient_table
from crmmodels.errors import ArgumentError, NotFittedError

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["ChurnDriversResult", "churn_drivers"]

#: the columns of :meth:`ChurnDriversResult.to_frame`, in order
COLUMNS = ("process", "covariate", "effect", "low", "high", "p_value", "coefficient", "std_error")


@dataclass(frozen=True, repr=False)
class ChurnDriversResult(Result):
    """Covariate effects on the dropout and the purchase rate, from :func:`churn_drivers`.

    Attributes
    ----------
    data : pandas.DataFrame
        One row per coefficient, dropout process first: ``process`` (``"dropout"`` or
        ``"purchase"``), ``covariate`` (``"age"``, or ``"channel=web"`` for a level of a
        categorical covariate), ``effect`` (``exp(coefficient)``: the factor by which the
        rate is multiplied per unit of a numeric covariate, or for the level against the
        reference level), ``low`` and ``high`` (its interval), ``p_value`` (Wald test of
        no effect), ``coefficient`` and ``std_error`` (log scale).
    model : str
        The model's class name.
    level : float
        Level of the intervals.
    references : tuple of (str, str)
        ``(column, reference level)`` of each categorical covariate.
    n_customers : float
        Customers the model was fitted on.
    dropout_form : str or None
        BG/NBD: how the dropout covariates enter (``"b"`` or ``"ab"``, see
        :attr:`explanation`); None for Pareto/NBD.
    """

    data: pd.DataFrame
    model: str
    level: float
    references: tuple[tuple[str, str], ...]
    n_customers: float
    dropout_form: str | None = None

    @property
    def explanation(self) -> str:
        """What an ``effect`` of each process means, in plain words."""
        purchase = (
            "A purchase effect multiplies the mean purchase rate of a customer who is still "
            "active (per unit of a numeric covariate, or for the level against the "
            "reference level)."
        )
        if self.dropout_form == "ab":
            dropout = (
                "A dropout effect multiplies both shapes of the beta distribution of the "
                "probability of leaving after a purchase (CLVTools' form). The average "
                "probability of leaving does not move; an effect above 1 makes customers' "
                "probabilities more alike (fewer who almost never leave and fewer who leave "
                "at once), an effect below 1 more spread out."
            )
        elif self.dropout_form == "b":
            dropout = (
                "A dropout effect divides the expected odds of staying after a purchase: "
                "above 1, customers are more likely to leave after each purchase (they "
                "leave sooner); below 1, they stay longer."
            )
        else:
            dropout = (
                "A dropout effect multiplies the mean dropout rate: above 1, customers "
                "leave sooner; below 1, they stay longer."
            )
        return f"{dropout} {purchase}"

    def to_frame(self) -> pd.DataFrame:
        """Return the table of effects (a copy)."""
        return self.data.copy()

    def plot(self, ax: Axes | None = None, **kwargs: Any) -> Axes:
        """Forest plot of the effects (:func:`crmmodels.plotting.clv.plot_churn_drivers`)."""
        from crmmodels.plotting.clv import plot_churn_drivers

        return plot_churn_drivers(self, ax=ax, **kwargs)


def churn_drivers(model: Any, level: float = 0.95) -> ChurnDriversResult:
    r"""Each covariate's multiplicative effect on the dropout rate and the purchase rate.

    Parameters
    ----------
    model : BGNBD or ParetoNBD
        A model fitted with covariates (``fit(summary, covariates=[...])``).
    level : float, default 0.95
        Level of the Wald intervals.

    Returns
    -------
    ChurnDriversResult
        ``.to_frame()`` has the columns ``process``, ``covariate``, ``effect``, ``low``,
        ``high``, ``p_value``, ``coefficient``, ``std_error``; ``.plot()`` draws a forest
        plot.

    Notes
    -----
    ``effect = exp(coefficient)`` with the sign convention of
    :mod:`crmmodels.clv._covariates_fit`: an effect above 1 raises the rate. For the
    Pareto/NBD it multiplies the mean dropout rate :math:`s/\beta_i` (or the mean purchase
    rate :math:`r/\alpha_i`). For a BG/NBD fitted with ``dropout_form="b"`` it divides
    the expected odds of staying after a purchase, :math:`b_i/(a-1)`, which raises the
    probability of dropping out after each purchase; with ``dropout_form="ab"``
    (CLVTools' form) it multiplies both shapes :math:`a_i` and :math:`b_i`: the mean
    dropout probability does not move, its spread does (an effect above 1 makes the
    customers' dropout probabilities more alike). ``.explanation`` says this in words.
    The interval is ``exp(coefficient +- z * se)``.

    Raises
    ------
    NotFittedError
        The model is not fitted.
    ArgumentError
        The model has no covariates, or ``level`` is not in (0, 1).

    Examples
    --------
    >>> from crmmodels.clv import BGNBD, churn_drivers
    >>> from crmmodels.datasets import load_cdnow_summary
    >>> s = load_cdnow_summary()
    >>> s["heavy_first"] = s["customer_id"].astype(int) % 2 == 0
    >>> m = BGNBD().fit(s, dropout_covariates=["heavy_first"])
    >>> churn_drivers(m).to_frame().columns.tolist()
    ['process', 'covariate', 'effect', 'low', 'high', 'p_value', 'coefficient', 'std_error']
    """
    level = check_level(level, "level")
    if not getattr(model, "is_fitted", False):
        raise NotFittedError(f"churn_drivers: fit the {type(model).__name__} model first.")
    if not hasattr(model, "covariates_"):
        raise ArgumentError(
            f"churn_drivers: this {type(model).__name__} was fitted without covariates; fit "
            "it with covariates=[...] (or dropout_covariates=[...]) first."
        )
    if model.covariates_.spend:
        raise ArgumentError(
            "churn_drivers: a GammaGamma model has spend covariates only (no dropout or "
            "purchase process); read its coefficients_ (effect on spend: exp(estimate))."
        )
    table = coefficient_table(model.covariates_, model.covariate_fit_, level)
    table["order"] = (table["process"] != "dropout").astype(int)
    table = table.sort_values("order", kind="stable").drop(columns="order")
    with np.errstate(over="ignore"):
        data = pd.DataFrame(
            {
                "process": table["process"].to_numpy(),
                "covariate": table["covariate"].to_numpy(),
                "effect": np.exp(table["estimate"].to_numpy()),
                "low": np.exp(table["lower"].to_numpy()),
                "high": np.exp(table["upper"].to_numpy()),
                "p_value": table["p_value"].to_numpy(),
                "coefficient": table["estimate"].to_numpy(),
                "std_error": table["std_error"].to_numpy(),
            }
        )
    refs = {
        t.column: str(t.reference)
        for p in ("dropout", "purchase")
        for t in model.covariates_.terms(p)
        if t.kind == "categorical"
    }
    return ChurnDriversResult(
        data=data,
        model=type(model).__name__,
        level=float(level),
        references=tuple(refs.items()),
        n_customers=float(model.n_customers_),
        dropout_form=model.covariates_.dropout_form,
    )
