"""Cronbach's alpha of one set of items, with Feldt's interval and item diagnostics."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from crmmodels._results import Result
from crmmodels.errors import DataError, SchemaError, bad_rows_message
from crmmodels.quality._items import (
    NanPolicy,
    _check_level,
    _check_policy,
    _col_means,
    _item_frame,
    _numeric_matrix,
    _scale_stats,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes


@dataclass(frozen=True, repr=False)
class CronbachAlphaResult(Result):
    """Cronbach's alpha of a set of items, its confidence interval and item diagnostics.

    Attributes
    ----------
    alpha : float
        Cronbach's alpha.
    ci : (float, float)
        Feldt's confidence interval (low, high).
    ci_level : float
        Confidence level of ``ci``.
    n : int
        Respondents behind the interval: the rows given, for both policies (pingouin's
        convention).
    n_items : int
        Items.
    nan_policy : str
        How missing answers were handled.
    items : pandas.DataFrame
        Per item: ``n`` (answers), ``mean``, ``sd``, ``item_total_corr`` (corrected
        item-total correlation) and ``alpha_if_deleted``.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"q1": [1, 2, 3, 4, 5], "q2": [2, 2, 3, 5, 5], "q3": [1, 3, 3, 4, 4]})
    >>> res = cronbach_alpha(df)
    >>> round(res.alpha, 4)
    0.9538
    >>> res.to_frame().index.tolist()
    ['q1', 'q2', 'q3']
    >>> ax = res.plot()
    >>> type(ax).__name__
    'Axes'
    >>> import matplotlib.pyplot as plt
    >>> plt.close(ax.figure)
    """

    alpha: float
    ci: tuple[float, float]
    ci_level: float
    n: int
    n_items: int
    nan_policy: str
    items: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        """Return the item diagnostics."""
        return self.items.copy()

    def plot(self, ax: Axes | None = None, **kwargs: Any) -> Axes:
        """Item diagnostics chart (see :func:`crmmodels.plotting.quality.plot_item_diagnostics`)."""
        from crmmodels.plotting.quality import plot_item_diagnostics

        return plot_item_diagnostics(self, ax=ax, **kwargs)


def cronbach_alpha(
    items: Any, *, nan_policy: NanPolicy = "pairwise", ci: float = 0.95
) -> CronbachAlphaResult:
    r"""Cronbach's alpha with Feldt's confidence interval.

    .. math::

        \alpha = \frac{k}{k-1}\Bigl(1 - \frac{\operatorname{tr} C}{\mathbf 1^\top C
        \mathbf 1}\Bigr), \qquad
        \bigl[1 - (1-\alpha) F_{1-q/2},\; 1 - (1-\alpha) F_{q/2}\bigr]

    where :math:`C` is the item covariance matrix and :math:`F_p` the :math:`p` quantile
    of the F distribution with :math:`n-1` and :math:`(n-1)(k-1)` degrees of freedom,
    :math:`q = 1 - \text{ci}` (Cronbach 1951; Feldt, Woodruff & Salih 1987).

    Parameters
    ----------
    items : DataFrame-like or ndarray of shape (n, k)
        One row per respondent, one numeric column per item (reverse-coded items
        already reversed). Any engine; ``NaN``/null is a missing answer.
    nan_policy : {"pairwise", "listwise"}
        Pairwise: each covariance on the rows answering both items. Listwise: only
        complete rows. In both cases the interval uses ``n`` = all rows given (the rules
        of ``pingouin.cronbach_alpha``, so results agree with it).
    ci : float
        Confidence level.

    Returns
    -------
    CronbachAlphaResult

    Raises
    ------
    SchemaError
        Fewer than two items, or a non-numeric column.
    DataError
        Fewer than two usable rows, or a bad ``nan_policy`` / ``ci``.

    References
    ----------
    Cronbach, L. J. (1951). Coefficient alpha and the internal structure of tests.
    Psychometrika 16, 297-334. Feldt, L. S., Woodruff, D. J. & Salih, F. A. (1987).
    Statistical inference for coefficient alpha. Applied Psychological Measurement 11.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"q1": [1, 2, 3, 4, 5], "q2": [2, 2, 3, 5, 5], "q3": [1, 3, 3, 4, 4]})
    >>> res = cronbach_alpha(df)
    >>> round(res.alpha, 4), [round(v, 4) for v in res.ci]
    (0.9538, [0.7664, 0.9949])
    """
    _check_policy(nan_policy)
    _check_level(ci)
    frame, cols = _item_frame(items, "items")
    if len(cols) < 2:
        raise SchemaError(f"items: Cronbach's alpha needs at least two items; got {len(cols)}.")
    x = _numeric_matrix(frame, cols, "items")
    if np.isinf(x).any():
        j = int(np.where(np.isinf(x).any(axis=0))[0][0])
        bad = np.isinf(x[:, j])
        raise DataError(
            "items: " + bad_rows_message(cols[j], "is infinite", int(bad.sum()), x[bad, j][0])
        )
    st = _scale_stats(x, nan_policy, ci)
    if st.usable < 2 or not np.isfinite(st.alpha):
        raise DataError(
            f"items: Cronbach's alpha needs at least two respondents with answers "
            f"and a total score that varies between respondents; got {st.usable} usable "
            f"rows with nan_policy={nan_policy!r}. A constant total (every item constant, "
            "or items that cancel out) leaves alpha undefined."
        )
    table = pd.DataFrame(
        {
            "n": (~np.isnan(x)).sum(axis=0),
            "mean": _col_means(x),
            "sd": np.sqrt(np.diag(st.cov)),
            "item_total_corr": st.item_total,
            "alpha_if_deleted": st.if_deleted,
        },
        index=pd.Index(cols, name="item"),
    )
    return CronbachAlphaResult(
        alpha=st.alpha,
        ci=st.ci,
        ci_level=float(ci),
        n=st.n,
        n_items=len(cols),
        nan_policy=nan_policy,
        items=table,
    )
