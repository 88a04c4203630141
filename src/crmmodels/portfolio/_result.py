"""The result of :func:`crmmodels.portfolio.pareto_analysis`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmmodels._ingest.arguments import check_choice
from crmmodels._ingest.frames import check_columns, python_scalar, to_narwhals, to_pandas
from crmmodels._ingest.renames import renamed_property
from crmmodels._results import Result
from crmmodels.errors import DataError, SchemaError, bad_rows_message

if TYPE_CHECKING:
    from matplotlib.axes import Axes

#: class labels, best first
CLASS_LABELS = "ABCDEFGHIJ"


@dataclass(frozen=True, repr=False)
class ParetoResult(Result):
    r"""Result of :func:`~crmmodels.portfolio.pareto_analysis`.

    Attributes
    ----------
    gini : float
        Gini coefficient (form in ``gini_form``).
    hhi, hhi_normalized : float
        Herfindahl index :math:`\sum s_i^2` and its normalised form
        :math:`(H - 1/n)/(1 - 1/n)` (NaN for one customer).
    top_share : float
        Share of net value held by the best ``top`` fraction of customers.
    customer_share_for_value : float
        Smallest fraction of customers (best first) holding ``value_share`` of the value.
    n_customers, n_negative : int
        Number of customers, and of customers with a negative value.
    negative_value : float
        Sum of the negative values (0 when there are none).
    total_value : float
        Net total value (``inf`` when it exceeds the float range, about 1.8e308; the
        shares, Gini and HHI are computed on rescaled values and stay exact).
    class_counts : tuple of int
        Customers per class (A, B, C, ...).
    customer_col, amount_col : str
        Names of the customer id and value columns of :attr:`classes` (``amount_col``
        was called ``value_col`` before; the old name still reads, with a
        ``FutureWarning``).
    trend : pandas.DataFrame or None
        With ``period_col``: one row per period with ``n_customers``, ``total_value``,
        ``n_negative``, ``gini``, ``hhi``, ``hhi_normalized``, ``top_share``,
        ``customer_share_for_value`` and ``n_class_a``.
    """

    gini: float
    hhi: float
    hhi_normalized: float
    top_share: float
    customer_share_for_value: float
    n_customers: int
    n_negative: int
    negative_value: float
    total_value: float
    top: float
    value_share: float
    abc: tuple[float, ...]
    gini_form: str
    class_counts: tuple[int, ...]
    customer_col: str
    amount_col: str
    period_col: str | None = None
    trend: pd.DataFrame | None = field(default=None, repr=False)
    _ids: npt.NDArray[Any] = field(default_factory=lambda: np.empty(0), repr=False)
    _values: npt.NDArray[np.float64] = field(default_factory=lambda: np.empty(0), repr=False)
    _curve: npt.NDArray[np.float64] = field(default_factory=lambda: np.zeros(1), repr=False)
    _classes: npt.NDArray[np.int8] = field(
        default_factory=lambda: np.empty(0, dtype=np.int8), repr=False
    )
    _period_curves: tuple[tuple[Any, npt.NDArray[np.float64]], ...] = field(default=(), repr=False)

    value_col = renamed_property("value_col", "amount_col")

    @property
    def classes(self) -> pd.DataFrame:
        """Customers best first: id, value, ``rank`` (1 = best), ``cumulative_share``, ``class``.

        A new frame on every access (the result itself stays unchanged).
        """
        labels = list(CLASS_LABELS[: len(self.abc) + 1])
        cls = pd.Categorical.from_codes(self._classes, dtype=pd.CategoricalDtype(labels))
        return pd.DataFrame(
            {
                self.customer_col: self._ids,
                self.amount_col: self._values,
                "rank": np.arange(1, self.n_customers + 1),
                "cumulative_share": self._curve[1:],
                "class": cls,
            }
        )

    @property
    def lorenz(self) -> pd.DataFrame:
        """The curves at ``customer_share = k / n``, ``k = 0..n``.

        ``cumulative_share`` is the best-first concentration curve :math:`C_k` (the
        Pareto curve; it can exceed 1 before negative customers pull it back) and
        ``lorenz`` the classical worst-first Lorenz curve :math:`L = 1 - C(1 - p)`.
        """
        n = self.n_customers
        return pd.DataFrame(
            {
                "customer_share": np.arange(n + 1) / n,
                "cumulative_share": self._curve,
                "lorenz": 1.0 - self._curve[::-1],
            }
        )

    def to_frame(self) -> pd.DataFrame:
        """Return :attr:`classes` (one row per customer, best first)."""
        return self.classes

    def strategic_customers(
        self, potential: Any = None, *, potential_col: str | None = None
    ) -> pd.DataFrame:
        """Class A customers, best first, optionally joined with their potential value.

        Parameters
        ----------
        potential : pandas.Series or DataFrame-like, optional
            Potential value per customer (e.g. CLV). A Series is keyed by customer id (its
            index); a frame (any engine) must have the result's customer column. Customers
            without a potential get NaN (they are kept).
        potential_col : str, optional
            With a frame, the column to join (default: every other column).

        Returns
        -------
        pandas.DataFrame
            The rows of :attr:`classes` in class A, plus the potential column(s).

        Raises
        ------
        SchemaError
            Missing customer or potential column.
        DataError
            Duplicate customer ids in ``potential``.

        Examples
        --------
        >>> import pandas as pd
        >>> from crmmodels.portfolio import pareto_analysis
        >>> r = pareto_analysis(pd.Series([50.0, 30.0, 10.0, 10.0], index=[1, 2, 3, 4]))
        >>> clv = pd.Series({1: 120.0, 2: 400.0}, name="clv")
        >>> r.strategic_customers(clv)[["customer_id", "value", "clv"]]
           customer_id  value    clv
        0            1   50.0  120.0
        1            2   30.0  400.0
        """
        strategic = self.classes[self.classes["class"] == CLASS_LABELS[0]].copy()
        if potential is None:
            return strategic.reset_index(drop=True)
        what = "potential"
        if isinstance(potential, pd.Series):
            name = str(potential.name) if potential.name is not None else "potential_value"
            pot = pd.DataFrame({self.customer_col: potential.index.to_numpy(), name: potential})
            pot = pot.reset_index(drop=True)
        else:
            frame = to_narwhals(potential, what=what)
            cols = [self.customer_col] + ([potential_col] if potential_col else [])
            check_columns(frame, cols, what=what)
            if potential_col:
                frame = frame.select(cols)
            pot = to_pandas(frame)
        dup = pot[self.customer_col].duplicated()
        if dup.any():
            raise DataError(
                f"{what}: "
                + bad_rows_message(
                    self.customer_col,
                    "has duplicate ids",
                    int(dup.sum()),
                    python_scalar(pot[self.customer_col][dup].iloc[0]),
                    "Pass one potential value per customer.",
                )
            )
        clash = [c for c in pot.columns if c != self.customer_col and c in strategic.columns]
        if clash:
            pot = pot.rename(columns={c: f"{c}_potential" for c in clash})
        try:
            out = strategic.merge(pot, on=self.customer_col, how="left")
        except ValueError as exc:
            raise SchemaError(
                f"{what}: customer ids in column '{self.customer_col}' cannot be matched "
                f"with the analysed ones ({exc})."
            ) from exc
        return out.reset_index(drop=True)

    def plot(self, ax: Axes | None = None, kind: str = "pareto", **kwargs: Any) -> Axes:
        """Plot the analysis.

        Parameters
        ----------
        ax : matplotlib Axes, optional
            Where to draw (a new figure when None).
        kind : {"pareto", "lorenz", "trend"}
            ``"pareto"``: bars of value share by customer (binned when there are many
            customers) and the cumulative share line, with the 80% / 20% guides;
            ``"lorenz"``: the Lorenz curve with the Gini area shaded (``by_period=True``
            overlays one curve per period); ``"trend"``: Gini and top share per period
            (both need ``period_col``).
        **kwargs
            Passed to the plotting function.
        """
        check_choice(kind, "kind", ("pareto", "lorenz", "trend"))
        from crmmodels.plotting import portfolio as pp

        if kind == "pareto":
            return pp.plot_pareto(self, ax=ax, **kwargs)
        if kind == "lorenz":
            return pp.plot_lorenz(self, ax=ax, **kwargs)
        return pp.plot_concentration_trend(self, ax=ax, **kwargs)
