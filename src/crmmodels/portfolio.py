r"""Customer portfolio analysis and the 80/20 rule (Buttle's value chain, step 1).

Sort customers by value (revenue, margin or CLV; negative values allowed), then read
the concentration of value off the cumulative share curve: the share held by the top
20% of customers, the smallest share of customers holding 80% of the value, the Gini
and Herfindahl indices, ABC classes and the list of strategic (class A) customers.
See :mod:`crmmodels.kernels.concentration` for the formulas.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import narwhals.stable.v2 as nw
import numpy as np
import numpy.typing as npt
import pandas as pd

from crmmodels._frames import (
    check_columns,
    check_not_null,
    collect,
    is_lazy,
    python_scalar,
    to_narwhals,
    to_pandas,
)
from crmmodels._ingest.arguments import check_choice, check_column_name, check_number
from crmmodels._results import Result
from crmmodels.errors import ArgumentError, DataError, SchemaError, bad_rows_message
from crmmodels.kernels import concentration as kc

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["ParetoResult", "pareto_analysis"]

_CLASS_LABELS = "ABCDEFGHIJ"


# ------------------------------------------------------------------ input helpers


@dataclass(frozen=True)
class _Values:
    """Customer ids and values collected from any input (one row per customer)."""

    ids: npt.NDArray[Any]
    values: npt.NDArray[np.float64]
    customer_col: str
    value_col: str


def _first_ids(ids: npt.NDArray[Any], mask: npt.NDArray[np.bool_], k: int = 5) -> list[Any]:
    return [python_scalar(v) for v in ids[mask][:k]]


def _check_finite(v: _Values, what: str) -> None:
    bad = ~np.isfinite(v.values)
    if bad.any():
        n = int(bad.sum())
        example = f"{v.customer_col}={_first_ids(v.ids, bad, 1)[0]!r}"
        raise DataError(
            f"{what}: " + bad_rows_message(v.value_col, "is NaN or infinite", n, example)
        )


def _numeric_array(raw: Any, name: str, what: str) -> npt.NDArray[np.float64]:
    arr = np.asarray(raw)
    if arr.dtype == np.bool_ or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == object):
        raise SchemaError(f"{what}: column '{name}' must be numeric; got dtype {arr.dtype}.")
    try:
        return np.asarray(arr, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise SchemaError(
            f"{what}: column '{name}' must be numeric; it holds non-numeric values."
        ) from exc


def _check_numeric_schema(frame: Any, cols: Sequence[str], what: str) -> None:
    schema = frame.collect_schema()
    for c in cols:
        dtype = schema[c]
        if not dtype.is_numeric():
            raise SchemaError(
                f"{what}: column '{c}' must be numeric; got {dtype}. "
                "Cast it (e.g. to float) before the call."
            )


def _values_from_array(
    data: Any, customer_col: str | None, value_col: str | None, what: str
) -> _Values:
    """Array or Series input: ids are the Series index (or positions)."""
    ccol = customer_col or "customer_id"
    if isinstance(data, pd.Series):
        vcol = value_col or (str(data.name) if data.name is not None else "value")
        ccol = customer_col or (str(data.index.name) if data.index.name else "customer_id")
        if data.isna().any():
            mask = data.isna().to_numpy()
            n = int(mask.sum())
            ex = f"{ccol}={python_scalar(data.index[mask][0])!r}"
            raise DataError(f"{what}: " + bad_rows_message(vcol, "is null", n, ex))
        if not data.index.is_unique:
            data = data.groupby(level=0, sort=False).sum()
        ids = data.index.to_numpy()
        vals = _numeric_array(data.to_numpy(), vcol, what)
        return _Values(ids, vals, ccol, vcol)
    vcol = value_col or "value"
    arr = np.asarray(data)
    if arr.ndim != 1:
        raise SchemaError(f"{what} must be one-dimensional; got shape {arr.shape}.")
    vals = _numeric_array(arr, vcol, what)
    return _Values(np.arange(len(vals)), vals, ccol, vcol)


def _frame_values(
    frame: Any,
    *,
    value_col: str | None,
    customer_col: str | None,
    extra_value_cols: Sequence[str] = (),
    what: str,
) -> str:
    """Validate a narwhals frame; return the (checked) value column name."""
    if value_col is None:
        raise SchemaError(
            f"{what} is a dataframe: pass value_col= naming its value column "
            f"(columns: {list(frame.collect_schema().names())})."
        )
    vcols = [value_col, *extra_value_cols]
    cols = vcols + ([customer_col] if customer_col else [])
    check_columns(frame, cols, what=what)
    _check_numeric_schema(frame, vcols, what)
    check_not_null(frame, cols, what=what, id_col=customer_col)
    return value_col


def _collect_customer_values(
    data: Any,
    *,
    value_col: str | None,
    customer_col: str | None,
    period_col: str | None,
    what: str,
) -> tuple[_Values, pd.DataFrame | None]:
    """Collect (ids, values) per customer, and per (period, customer) with ``period_col``."""
    if isinstance(data, (np.ndarray, list, tuple, pd.Series)):
        if period_col is not None:
            raise SchemaError(f"period_col needs a dataframe {what}; got {type(data).__name__}.")
        v = _values_from_array(data, customer_col, value_col, what)
        _check_finite(v, what)
        return v, None
    try:
        native_series = nw.from_native(data, series_only=True)
    except TypeError:
        native_series = None
    if native_series is not None:
        if period_col is not None:
            raise SchemaError(f"period_col needs a dataframe {what}; got a Series.")
        name = value_col or (str(native_series.name) if native_series.name else None)
        v = _values_from_array(native_series.to_numpy(), customer_col, name, what)
        _check_finite(v, what)
        return v, None

    frame = to_narwhals(data, what=what)
    extra = [period_col] if period_col else []
    check_columns(frame, extra, what=what)
    if period_col:
        check_not_null(frame, [period_col], what=what, id_col=customer_col)
    value_col = _frame_values(frame, value_col=value_col, customer_col=customer_col, what=what)
    per_period: pd.DataFrame | None = None
    if customer_col is None:
        if is_lazy(frame):
            raise SchemaError(
                f"{what} is a lazy frame: pass customer_col= so customers can be identified."
            )
        cols = [value_col] + ([period_col] if period_col else [])
        small = collect(frame.select(cols)).to_pandas()
        ccol = "customer_id"
        small.insert(0, ccol, np.arange(len(small)))
        ids = small[ccol].to_numpy()
        vals = _numeric_array(small[value_col].to_numpy(), value_col, what)
        if period_col:
            per_period = small[[period_col, ccol, value_col]]
    else:
        ccol = customer_col
        agg = collect(frame.group_by(customer_col).agg(nw.col(value_col).sum()))
        ids = agg[customer_col].to_numpy()
        vals = _numeric_array(agg[value_col].to_numpy(), value_col, what)
        if period_col:
            per_period = to_pandas(
                frame.group_by([period_col, customer_col]).agg(nw.col(value_col).sum())
            )
    v = _Values(ids, vals, ccol, value_col)
    _check_finite(v, what)
    return v, per_period


# ------------------------------------------------------------------ core computation


@dataclass(frozen=True)
class _Concentration:
    order: npt.NDArray[np.intp]
    sorted_values: npt.NDArray[np.float64]
    curve: npt.NDArray[np.float64]
    gini: float
    hhi: float
    hhi_normalized: float
    top_share: float
    customer_share_for_value: float
    classes: npt.NDArray[np.int8]
    n_negative: int
    negative_value: float
    total: float


def _concentration(
    ids: npt.NDArray[Any],
    values: npt.NDArray[np.float64],
    *,
    top: float,
    value_share: float,
    abc: tuple[float, ...],
    gini: Literal["population", "sample"],
) -> _Concentration:
    order = kc.descending_order(values, ids)
    x = values[order]
    total = kc.net_total(x)
    neg = x < 0
    if total <= 0:
        raise DataError(
            f"total net value is {total:.6g}; shares of value (and the 80/20 analysis) "
            "need a positive total. Check the sign of the value column."
        )
    curve = kc.concentration_curve(x)
    return _Concentration(
        order=order,
        sorted_values=x,
        curve=curve,
        gini=kc.gini(x, gini),
        hhi=kc.hhi(x),
        hhi_normalized=kc.hhi_normalized(x),
        top_share=kc.top_share(curve, top),
        customer_share_for_value=kc.customer_share_for_value(curve, value_share),
        classes=kc.abc_classes(curve, abc),
        n_negative=int(neg.sum()),
        negative_value=kc.net_total(x[neg]),
        total=total,
    )


def _trend(
    per_period: pd.DataFrame,
    *,
    period_col: str,
    customer_col: str,
    value_col: str,
    top: float,
    value_share: float,
    abc: tuple[float, ...],
    gini: Literal["population", "sample"],
    what: str,
) -> tuple[pd.DataFrame, tuple[tuple[Any, npt.NDArray[np.float64]], ...]]:
    periods = per_period[period_col].to_numpy()
    uniq, inverse = np.unique(periods, return_inverse=True)
    order = np.argsort(inverse, kind="stable")
    bounds = np.searchsorted(inverse[order], np.arange(len(uniq) + 1))
    ids_all = per_period[customer_col].to_numpy()[order]
    vals_all = _numeric_array(per_period[value_col].to_numpy(), value_col, what)[order]
    rows: list[dict[str, Any]] = []
    curves: list[tuple[Any, npt.NDArray[np.float64]]] = []
    nan = float("nan")
    for j, period in enumerate(uniq):  # one pass per period (a handful), vectorised inside
        ids = ids_all[bounds[j] : bounds[j + 1]]
        vals = vals_all[bounds[j] : bounds[j + 1]]
        row: dict[str, Any] = {
            period_col: python_scalar(period),
            "n_customers": len(vals),
            "total_value": kc.net_total(vals),
            "n_negative": int((vals < 0).sum()),
        }
        if row["total_value"] > 0:
            c = _concentration(ids, vals, top=top, value_share=value_share, abc=abc, gini=gini)
            row.update(
                gini=c.gini,
                hhi=c.hhi,
                hhi_normalized=c.hhi_normalized,
                top_share=c.top_share,
                customer_share_for_value=c.customer_share_for_value,
                n_class_a=int((c.classes == 0).sum()),
            )
            curves.append((row[period_col], c.curve))
        else:
            row.update(
                gini=nan,
                hhi=nan,
                hhi_normalized=nan,
                top_share=nan,
                customer_share_for_value=nan,
                n_class_a=0,
            )
        rows.append(row)
    out = pd.DataFrame(rows)
    if len(out) and np.issubdtype(uniq.dtype, np.datetime64):
        out[period_col] = pd.to_datetime(out[period_col])
        curves = [(pd.Timestamp(p), cv) for p, cv in curves]
    return out, tuple(curves)


# ------------------------------------------------------------------ result


@dataclass(frozen=True, repr=False)
class ParetoResult(Result):
    r"""Result of :func:`pareto_analysis`.

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
    value_col: str
    period_col: str | None = None
    trend: pd.DataFrame | None = field(default=None, repr=False)
    _ids: npt.NDArray[Any] = field(default_factory=lambda: np.empty(0), repr=False)
    _values: npt.NDArray[np.float64] = field(default_factory=lambda: np.empty(0), repr=False)
    _curve: npt.NDArray[np.float64] = field(default_factory=lambda: np.zeros(1), repr=False)
    _classes: npt.NDArray[np.int8] = field(
        default_factory=lambda: np.empty(0, dtype=np.int8), repr=False
    )
    _period_curves: tuple[tuple[Any, npt.NDArray[np.float64]], ...] = field(default=(), repr=False)

    @property
    def classes(self) -> pd.DataFrame:
        """Customers best first: id, value, ``rank`` (1 = best), ``cumulative_share``, ``class``.

        A new frame on every access (the result itself stays unchanged).
        """
        labels = list(_CLASS_LABELS[: len(self.abc) + 1])
        cls = pd.Categorical.from_codes(self._classes, dtype=pd.CategoricalDtype(labels))
        return pd.DataFrame(
            {
                self.customer_col: self._ids,
                self.value_col: self._values,
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
        >>> r = pareto_analysis(pd.Series([50.0, 30.0, 10.0, 10.0], index=[1, 2, 3, 4]))
        >>> clv = pd.Series({1: 120.0, 2: 400.0}, name="clv")
        >>> r.strategic_customers(clv)[["customer_id", "value", "clv"]]
           customer_id  value    clv
        0            1   50.0  120.0
        1            2   30.0  400.0
        """
        strategic = self.classes[self.classes["class"] == _CLASS_LABELS[0]].copy()
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


# ------------------------------------------------------------------ public function


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
    ok = 1 <= len(cut) < len(_CLASS_LABELS)
    ok = ok and all(b > a for a, b in itertools.pairwise(cut))
    if not ok:
        raise ArgumentError(
            f"abc must be increasing cut-offs in (0, 1], e.g. (0.8, 0.95); got {abc!r}."
        )
    check_choice(gini, "gini", ("population", "sample"))
    return cut


def pareto_analysis(
    data: Any,
    *,
    value_col: str | None = None,
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
        with ``value_col`` and optionally ``customer_col``. A frame with repeated customer
        ids (a transaction log) is summed per customer on the caller's engine.
    value_col : str
        Value column of a frame (revenue, margin, CLV...). Required for frames.
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
        Missing or non-numeric columns, ``value_col`` missing for a frame.
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
        ("value_col", value_col),
        ("customer_col", customer_col),
        ("period_col", period_col),
    ):
        if name is not None:
            check_column_name(name, arg)
    vals, per_period = _collect_customer_values(
        data, value_col=value_col, customer_col=customer_col, period_col=period_col, what=what
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
            value_col=vals.value_col,
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
        value_col=vals.value_col,
        period_col=period_col,
        trend=trend,
        _ids=vals.ids[c.order],
        _values=c.sorted_values,
        _curve=c.curve,
        _classes=c.classes,
        _period_curves=period_curves,
    )
