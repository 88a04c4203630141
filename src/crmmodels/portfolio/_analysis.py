"""The public function :func:`pareto_analysis`: check, collect, concentrate, report."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from crmmodels._ingest.arguments import check_choice, check_column_name, check_number
from crmmodels._ingest.renames import renamed_arguments
from crmmodels.errors import ArgumentError, DataError
from crmmodels.portfolio._collect import _collect_customer_values
from crmmodels.portfolio._concentration import _concentration, _trend
from crmmodels.portfolio._result import CLASS_LABELS, ParetoResult


def _check_params(
    top: float, value_share: float, abc: Sequence[float], gini: str
) -> tuple[float, ...]:
    check_number(top, "top", low=0.0, high=1.0, fix="It is a fraction of customers.")
    check_number(
        value_share, "value_share", low=0.0, high=1.0, low_open=True, fix="It is a fraction."
    )
    if isinstance(abc, (str, bytes)) or not isinstance(abc, Iterable):
        raise ArgumentError(
            f"abc must be increasing cut-offs in (0, 1], e.g. (0.8, 0.95); got {abc!r}."
        )
    cut = tuple(check_number(a, "abc cut-offs", low=0.0, high=1.0, low_open=True) for a in abc)
    ok = 1 <= len(cut) < len(CLASS_LABELS)
    ok = ok and all(b > a for a, b in itertools.pairwise(cut))
    if not ok:
        raise ArgumentError(
            f"abc must be increasing cut-offs in (0, 1], e.g. (0.8, 0.95); got {abc!r}."
        )
    check_choice(gini, "gini", ("population", "sample"))
    return cut


@renamed_arguments(value_col="amount_col")
def pareto_analysis(
    data: Any,
    *,
    amount_col: str | None = None,
    customer_col: str | None = None,
    top: float = 0.2,
    value_share: float = 0.8,
    abc: Sequence[float] = (0.8, 0.95),
    gini: Literal["population", "sample"] = "population",
    period_col: str | None = None,
) -> ParetoResult:
    r"""Customer portfolio analysis: the 80/20 rule, Lorenz curve, Gini, HHI and ABC classes.

    Parameters
    ----------
    data : array-like, Series or DataFrame-like
        Customer values: a numpy array or list (customers are positions), a pandas Series
        (customers are the index; repeated ids are summed) or a dataframe on any engine
        with ``amount_col`` and optionally ``customer_col``. A frame with repeated customer
        ids (a transaction log) is summed per customer on the caller's engine.
    amount_col : str
        Value column of a frame (revenue, margin, CLV...). Required for frames. Its old
        name ``value_col`` still works, with a ``FutureWarning``.
    customer_col : str, optional
        Customer id column. Without it each row of an eager frame is one customer
        (ids ``0..n-1``); lazy frames need it.
    top : float, default 0.2
        Customer fraction for :attr:`ParetoResult.top_share`.
    value_share : float, default 0.8
        Value fraction for :attr:`ParetoResult.customer_share_for_value`.
    abc : sequence of float, default (0.8, 0.95)
        Increasing cumulative-value cut-offs of the classes A, B, (C ...); the last class
        takes the rest.
    gini : {"population", "sample"}, default "population"
        Form of the Gini coefficient.
    period_col : str, optional
        Period column of a frame: adds the per-period concentration trend
        (:attr:`ParetoResult.trend`); the main results use all periods summed.

    Returns
    -------
    ParetoResult

    Raises
    ------
    SchemaError
        Missing or non-numeric columns, ``amount_col`` missing for a frame.
    DataError
        Empty input, nulls or non-finite values (naming the customer), a total net value
        that is not positive, or invalid ``top`` / ``value_share`` / ``abc`` / ``gini``.

    Notes
    -----
    Customers are ranked best first, equal values by customer id ascending. With
    :math:`S` the net total and :math:`x_{(i)}` the ranked values, the cumulative share is
    :math:`C_k = \sum_{i \le k} x_{(i)} / S`. Negative-value customers are kept and rank
    last, so :math:`C_k` can exceed 1 before they pull it back to :math:`C_n = 1`; all
    shares are of the net total. ``top_share`` interpolates :math:`C` linearly at
    ``top``; ``customer_share_for_value`` is the smallest :math:`k/n` with
    :math:`C_k \ge q`.

    Gini (population form):

    $$ G = \frac{\sum_i\sum_j |x_i - x_j|}{2 n^2 \bar x} = 1 - 2\int_0^1 L(p)\,dp $$

    on the net values (with negative values :math:`G` can exceed 1); the sample form
    multiplies by :math:`n/(n-1)`. HHI is :math:`\sum_i s_i^2`, :math:`s_i = x_i/S`.

    ABC: a customer is in A when the cumulative share of the customers ranked *above*
    it is below ``abc[0]``; the customer that crosses or lands exactly on the cut-off is
    in A, so A is the smallest best-first set holding ``abc[0]`` of the value. Likewise B
    with ``abc[1]``; C is the rest (negative and zero values always fall there).

    References
    ----------
    Buttle, F. (2009), *Customer Relationship Management: Concepts and Technologies*,
    2nd ed., ch. 2 (customer portfolio analysis).

    Examples
    --------
    >>> import numpy as np
    >>> r = pareto_analysis(np.array([50.0, 30.0, 10.0, 5.0, 5.0]))
    >>> round(r.top_share, 2), r.customer_share_for_value, round(r.gini, 2)
    (0.5, 0.4, 0.46)
    >>> r.classes["class"].tolist()
    ['A', 'A', 'B', 'B', 'C']
    """
    what = "data"
    cut = _check_params(top, value_share, abc, gini)
    for arg, name in (
        ("amount_col", amount_col),
        ("customer_col", customer_col),
        ("period_col", period_col),
    ):
        if name is not None:
            check_column_name(name, arg)
    vals, per_period = _collect_customer_values(
        data, amount_col=amount_col, customer_col=customer_col, period_col=period_col, what=what
    )
    if len(vals.values) == 0:
        raise DataError(f"{what} is empty: pareto_analysis needs at least one customer.")
    c = _concentration(
        vals.ids, vals.values, top=float(top), value_share=float(value_share), abc=cut, gini=gini
    )
    trend = None
    period_curves: tuple[tuple[Any, npt.NDArray[np.float64]], ...] = ()
    if per_period is not None and period_col is not None:
        trend, period_curves = _trend(
            per_period,
            period_col=period_col,
            customer_col=vals.customer_col,
            amount_col=vals.amount_col,
            top=float(top),
            value_share=float(value_share),
            abc=cut,
            gini=gini,
            what=what,
        )
    counts = np.bincount(c.classes, minlength=len(cut) + 1)
    return ParetoResult(
        gini=c.gini,
        hhi=c.hhi,
        hhi_normalized=c.hhi_normalized,
        top_share=c.top_share,
        customer_share_for_value=c.customer_share_for_value,
        n_customers=len(c.sorted_values),
        n_negative=c.n_negative,
        negative_value=c.negative_value,
        total_value=c.total,
        top=float(top),
        value_share=float(value_share),
        abc=cut,
        gini_form=gini,
        class_counts=tuple(int(k) for k in counts),
        customer_col=vals.customer_col,
        amount_col=vals.amount_col,
        period_col=period_col,
        trend=trend,
        _ids=vals.ids[c.order],
        _values=c.sorted_values,
        _curve=c.curve,
        _classes=c.classes,
        _period_curves=period_curves,
    )
