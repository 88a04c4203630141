"""The quadrant names, the empty-quadrant warning and :class:`QuadrantResult`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmmodels._results import Result

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["QUADRANTS", "QuadrantResult"]

#: Group names in display order: (high, high), (low, high), (high, low), (low, low)
#: for (current, potential).
QUADRANTS: tuple[str, str, str, str] = ("vip", "improve", "maintain", "abandon")


@dataclass(frozen=True, repr=False)
class QuadrantResult(Result):
    """Result of :func:`clv_quadrants`.

    Attributes
    ----------
    current_threshold, potential_threshold : float
        Thresholds used; a value equal to a threshold counts as high.
    current_rule, potential_rule : str
        How each threshold was chosen (``"median"``, ``"positive_median"``,
        ``"quantile(q)"``, ``"absolute(x)"``).
    n_customers, n_vip, n_improve, n_maintain, n_abandon : int
        Customer counts.
    summary : pandas.DataFrame
        One row per group (``vip``, ``improve``, ``maintain``, ``abandon``): customer count
        and share, summed current and potential value and their shares of the totals.
    customer_summary : pandas.DataFrame or None
        With :func:`clv_quadrants_from_transactions`: the customer summary with the
        current and potential values.
    bgnbd, gamma_gamma : object or None
        With :func:`clv_quadrants_from_transactions`: the fitted models.
    potential_method : str or None
        With :func:`clv_quadrants_from_transactions`: how the potential was computed.
    notes : tuple of str
        With :func:`clv_quadrants_from_transactions`: model steps that were skipped or
        ended at a boundary, and what was used instead (empty when the full chain ran).
    """

    current_threshold: float
    potential_threshold: float
    current_rule: str
    potential_rule: str
    n_customers: int
    n_vip: int
    n_improve: int
    n_maintain: int
    n_abandon: int
    customer_col: str
    current_col: str
    potential_col: str
    summary: pd.DataFrame = field(repr=False)
    _customer_summary: pd.DataFrame | None = field(default=None, repr=False)
    _bgnbd: Any = field(default=None, repr=False)
    _gamma_gamma: Any = field(default=None, repr=False)
    _potential_method: str | None = field(default=None, repr=False)
    _notes: tuple[str, ...] = field(default=(), repr=False)
    _ids: npt.NDArray[Any] = field(default_factory=lambda: np.empty(0), repr=False)
    _current: npt.NDArray[np.float64] = field(default_factory=lambda: np.empty(0), repr=False)
    _potential: npt.NDArray[np.float64] = field(default_factory=lambda: np.empty(0), repr=False)
    _codes: npt.NDArray[np.int8] = field(
        default_factory=lambda: np.empty(0, dtype=np.int8), repr=False
    )

    @property
    def customer_summary(self) -> pd.DataFrame | None:
        """Customer summary with current and potential value (transaction path only)."""
        return self._customer_summary

    @property
    def bgnbd(self) -> Any:
        """The fitted BG/NBD model (transaction path only, else None)."""
        return self._bgnbd

    @property
    def gamma_gamma(self) -> Any:
        """The fitted Gamma-Gamma model (transaction path only, else None)."""
        return self._gamma_gamma

    @property
    def potential_method(self) -> str | None:
        """How the potential value was computed (transaction path only, else None)."""
        return self._potential_method

    @property
    def notes(self) -> tuple[str, ...]:
        """Skipped model steps and boundary fits, in plain words (transaction path only)."""
        return self._notes

    @property
    def thresholds(self) -> dict[str, float]:
        """The thresholds used, by axis."""
        return {"current": self.current_threshold, "potential": self.potential_threshold}

    @property
    def labels(self) -> pd.Categorical:
        """The quadrant of each customer (input order), as a categorical.

        Examples
        --------
        >>> import pandas as pd
        >>> from crmmodels.quadrants import clv_quadrants
        >>> df = pd.DataFrame({"customer_id": [1, 2, 3, 4],
        ...                    "current_value": [9.0, 1.0, 9.0, 1.0],
        ...                    "potential_value": [9.0, 9.0, 1.0, 1.0]})
        >>> clv_quadrants(df, split=5.0).labels.tolist()
        ['vip', 'improve', 'maintain', 'abandon']
        """
        dtype = pd.CategoricalDtype(list(QUADRANTS))
        labels: pd.Categorical = pd.Categorical.from_codes(self._codes, dtype=dtype)
        return labels

    def to_frame(self) -> pd.DataFrame:
        """One row per customer (input order): id, current, potential and ``quadrant``."""
        return pd.DataFrame(
            {
                self.customer_col: self._ids,
                self.current_col: self._current,
                self.potential_col: self._potential,
                "quadrant": self.labels,
            }
        )

    def plot(self, ax: Axes | None = None, **kwargs: Any) -> Axes:
        """Scatter of current vs potential value with thresholds and group counts.

        See :func:`crmmodels.plotting.quadrants.plot_quadrants`.
        """
        from crmmodels.plotting.quadrants import plot_quadrants

        return plot_quadrants(self, ax=ax, **kwargs)
