r"""CLV quadrants: current value x potential value (Verhoef & Donkers 2001).

Each customer has a current value (realised value in a recent window) and a potential
value (predicted future value, e.g. CLV). Each axis is split at a threshold into high
and low, giving four groups:

| current vs potential | high potential | low potential |
|---|---|---|
| high current | ``vip`` (protect) | ``maintain`` (keep cost low) |
| low current | ``improve`` (develop) | ``abandon`` (cut cost) |
"""

from __future__ import annotations

import dataclasses
import importlib
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import narwhals.stable.v2 as nw
import numpy as np
import numpy.typing as npt
import pandas as pd

from crmmodels._activity import local_log
from crmmodels._frames import (
    check_columns,
    collect,
    count_true,
    day_number,
    python_scalar,
    to_narwhals,
    to_pandas,
)
from crmmodels._ingest.arguments import check_choice, check_number
from crmmodels._ingest.dates import to_timestamp
from crmmodels._results import Result
from crmmodels.errors import (
    ConvergenceError,
    CRMModelsWarning,
    DataError,
    SchemaError,
    SkippedStepWarning,
    bad_rows_message,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "QUADRANTS",
    "EmptyQuadrantWarning",
    "QuadrantResult",
    "clv_quadrants",
    "clv_quadrants_from_transactions",
]

#: Group names in display order: (high, high), (low, high), (high, low), (low, low)
#: for (current, potential).
QUADRANTS: tuple[str, str, str, str] = ("vip", "improve", "maintain", "abandon")

_AXES = ("current", "potential")


class EmptyQuadrantWarning(CRMModelsWarning):
    """A split left at least one of the four quadrants without customers.

    Usually a sign that a threshold sits on a pile of tied values (for example a median
    current value of 0 when most customers bought nothing in the window).
    """


# ------------------------------------------------------------------ split rules


@dataclass(frozen=True)
class _Rule:
    kind: str  # "median", "positive_median", "quantile" or "absolute"
    value: float  # quantile level or absolute threshold (nan for the medians)

    def describe(self) -> str:
        if self.kind in ("median", "positive_median"):
            return self.kind
        if self.kind == "quantile":
            return f"quantile({self.value:g})"
        return f"absolute({self.value:g})"

    def threshold(self, x: npt.NDArray[np.float64]) -> float:
        if self.kind == "median":
            return float(np.median(x))
        if self.kind == "positive_median":
            positive = x[x > 0]
            return float(np.median(positive if positive.size else x))
        if self.kind == "quantile":
            return float(np.quantile(x, self.value))
        return self.value


def _is_number(v: object) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(
        v, (bool, np.bool_)
    )


def _is_quantile_pair(v: object) -> bool:
    return (
        isinstance(v, (tuple, list))
        and len(v) == 2
        and isinstance(v[0], str)
        and v[0] == "quantile"
        and _is_number(v[1])
    )


def _one_rule(rule: object, axis: str) -> _Rule:
    if isinstance(rule, str) and rule in ("median", "positive_median"):
        return _Rule(rule, float("nan"))
    if _is_quantile_pair(rule):
        q = float(rule[1])  # type: ignore[index]
        if not 0.0 <= q <= 1.0:
            raise DataError(f"split for {axis}: quantile level must be in [0, 1]; got {q!r}.")
        return _Rule("quantile", q)
    if _is_number(rule):
        value = float(rule)  # type: ignore[arg-type]
        if not np.isfinite(value):
            raise DataError(f"split for {axis}: threshold must be finite; got {value!r}.")
        return _Rule("absolute", value)
    raise DataError(
        f"split for {axis} must be 'median', 'positive_median', ('quantile', q) or a number; "
        f"got {rule!r}."
    )


def _parse_split(split: object) -> tuple[_Rule, _Rule]:
    """Turn ``split`` into one rule per axis (current, potential)."""
    if isinstance(split, Mapping):
        unknown = set(split) - set(_AXES)
        if unknown:
            raise DataError(
                f"split keys must be 'current' and/or 'potential'; got {sorted(map(str, unknown))}."
            )
        return (
            _one_rule(split.get("current", "median"), "current"),
            _one_rule(split.get("potential", "median"), "potential"),
        )
    if isinstance(split, (tuple, list)) and len(split) == 2 and not _is_quantile_pair(split):
        return _one_rule(split[0], "current"), _one_rule(split[1], "potential")
    rule = _one_rule(split, "both axes")
    return rule, rule


# ------------------------------------------------------------------ result


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

    def to_frame(self) -> pd.DataFrame:
        """One row per customer (input order): id, current, potential and ``quadrant``."""
        return pd.DataFrame(
            {
                self.customer_col: self._ids,
                self.current_col: self._current,
                self.potential_col: self._potential,
                "quadrant": pd.Categorical.from_codes(
                    self._codes, dtype=pd.CategoricalDtype(list(QUADRANTS))
                ),
            }
        )

    def plot(self, ax: Axes | None = None, **kwargs: Any) -> Axes:
        """Scatter of current vs potential value with thresholds and group counts.

        See :func:`crmmodels.plotting.quadrants.plot_quadrants`.
        """
        from crmmodels.plotting.quadrants import plot_quadrants

        return plot_quadrants(self, ax=ax, **kwargs)


# ------------------------------------------------------------------ input


def _first_ids(ids: npt.NDArray[Any], mask: npt.NDArray[np.bool_], k: int = 5) -> list[Any]:
    return [python_scalar(v) for v in ids[mask][:k]]


def _collect(
    data: Any, current_col: str, potential_col: str, customer_col: str, what: str
) -> tuple[npt.NDArray[Any], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    frame = to_narwhals(data, what=what)
    cols = [customer_col, current_col, potential_col]
    check_columns(frame, cols, what=what)
    schema = frame.collect_schema()
    for c in (current_col, potential_col):
        if not schema[c].is_numeric():
            raise SchemaError(
                f"{what}: column '{c}' must be numeric; got {schema[c]}. Cast it first."
            )
    nulls = collect(frame.select([count_true(nw.col(c).is_null()).alias(c) for c in cols]))
    for c in cols:
        n = int(nulls[c].item(0) or 0)
        if n:
            if c == customer_col:
                raise DataError(f"{what}: " + bad_rows_message(c, "is null", n, None))
            first = collect(frame.filter(nw.col(c).is_null()).select(customer_col).head(5))
            bad_ids = [python_scalar(v) for v in first[customer_col].to_list()]
            raise DataError(
                f"{what}: column '{c}' is missing for {n} customer"
                f"{'s' if n > 1 else ''} ({customer_col} {bad_ids}{' ...' if n > 5 else ''}). "
                "Fill or drop them first: missing values are not a quadrant."
            )
    small = collect(frame.select(cols))
    ids = small[customer_col].to_numpy()
    cur = np.asarray(small[current_col].to_numpy(), dtype=np.float64)
    pot = np.asarray(small[potential_col].to_numpy(), dtype=np.float64)
    if len(ids) == 0:
        raise DataError(f"{what} is empty: clv_quadrants needs at least one customer.")
    for c, x in ((current_col, cur), (potential_col, pot)):
        bad = ~np.isfinite(x)
        if bad.any():
            n = int(bad.sum())
            raise DataError(
                f"{what}: column '{c}' is NaN or infinite for {n} customer"
                f"{'s' if n > 1 else ''} ({customer_col} {_first_ids(ids, bad)}"
                f"{' ...' if n > 5 else ''})."
            )
    index = pd.Index(ids)
    if not index.is_unique:
        dup = index.duplicated()
        raise DataError(
            f"{what}: "
            + bad_rows_message(
                customer_col,
                "has duplicate customer ids",
                int(dup.sum()),
                python_scalar(ids[dup][0]),
                "Pass one row per customer (aggregate a transaction log first).",
            )
        )
    return ids, cur, pot


def _summary(
    codes: npt.NDArray[np.int8],
    cur: npt.NDArray[np.float64],
    pot: npt.NDArray[np.float64],
    counts: npt.NDArray[np.intp],
) -> pd.DataFrame:
    n = len(codes)
    idx = codes.astype(np.intp)
    cur_sum = np.bincount(idx, weights=cur, minlength=4)
    pot_sum = np.bincount(idx, weights=pot, minlength=4)
    cur_tot, pot_tot = float(cur.sum()), float(pot.sum())
    nan = float("nan")
    return pd.DataFrame(
        {
            "quadrant": list(QUADRANTS),
            "n_customers": counts.astype(np.int64),
            "customer_share": counts / n,
            "current_value": cur_sum,
            "current_share": cur_sum / cur_tot if cur_tot != 0 else np.full(4, nan),
            "potential_value": pot_sum,
            "potential_share": pot_sum / pot_tot if pot_tot != 0 else np.full(4, nan),
        }
    )


def clv_quadrants(
    data: Any,
    *,
    current_col: str = "current_value",
    potential_col: str = "potential_value",
    customer_col: str = "customer_id",
    split: Any = "median",
) -> QuadrantResult:
    r"""Split customers into the four CLV quadrants: vip, improve, maintain, abandon.

    Parameters
    ----------
    data : DataFrame-like
        One row per customer, on any engine (pandas, polars, pyarrow, DuckDB, Dask,
        PySpark), with the three columns below.
    current_col : str, default "current_value"
        Current (realised) value, e.g. margin over the last 12 months.
    potential_col : str, default "potential_value"
        Potential (predicted) value, e.g. CLV.
    customer_col : str, default "customer_id"
        Customer id; ids must be unique.
    split : rule, pair of rules or dict, default "median"
        Threshold rule. A rule is ``"median"``, ``"positive_median"`` (the median of the
        positive values, or of all values when none is positive: use it when many
        values are 0), ``("quantile", q)`` (``numpy.quantile`` with linear
        interpolation) or a number (an absolute threshold). One rule applies
        to both axes; a pair ``(current_rule, potential_rule)`` or a dict
        ``{"current": rule, "potential": rule}`` (a missing key means ``"median"``) sets
        one per axis.

    Returns
    -------
    QuadrantResult

    Raises
    ------
    SchemaError
        Missing or non-numeric columns.
    DataError
        Empty input, duplicate customer ids, missing or non-finite values (the message
        names the customers), or an invalid ``split``.

    Warns
    -----
    EmptyQuadrantWarning
        The split leaves at least one quadrant without customers; the message gives
        both thresholds and how many customers are high on each axis.

    Notes
    -----
    With thresholds :math:`\tau_c, \tau_p`, a customer is *high* on an axis when its
    value is :math:`\ge \tau` (a value equal to the threshold counts as high):

    $$ q = \begin{cases} \text{vip} & c \ge \tau_c,\ p \ge \tau_p \\
       \text{improve} & c < \tau_c,\ p \ge \tau_p \\
       \text{maintain} & c \ge \tau_c,\ p < \tau_p \\
       \text{abandon} & c < \tau_c,\ p < \tau_p \end{cases} $$

    Value shares in :attr:`QuadrantResult.summary` are shares of the net totals (NaN
    when a total is 0).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({
    ...     "customer_id": [1, 2, 3, 4],
    ...     "current_value": [100.0, 10.0, 80.0, 5.0],
    ...     "potential_value": [500.0, 400.0, 20.0, 10.0],
    ... })
    >>> r = clv_quadrants(df)
    >>> r.to_frame()["quadrant"].tolist()
    ['vip', 'improve', 'maintain', 'abandon']
    >>> r.thresholds
    {'current': 45.0, 'potential': 210.0}
    """
    what = "data"
    rule_c, rule_p = _parse_split(split)
    ids, cur, pot = _collect(data, current_col, potential_col, customer_col, what)
    tc, tp = rule_c.threshold(cur), rule_p.threshold(pot)
    low_c = cur < tc
    low_p = pot < tp
    codes = (low_p.astype(np.int8) * 2 + low_c.astype(np.int8)).astype(np.int8)
    counts = np.bincount(codes.astype(np.intp), minlength=4)
    if not counts.all():
        _warn_empty(counts, tc, tp, rule_c, rule_p, int(np.sum(~low_c)), int(np.sum(~low_p)))
    return QuadrantResult(
        current_threshold=tc,
        potential_threshold=tp,
        current_rule=rule_c.describe(),
        potential_rule=rule_p.describe(),
        n_customers=len(codes),
        n_vip=int(counts[0]),
        n_improve=int(counts[1]),
        n_maintain=int(counts[2]),
        n_abandon=int(counts[3]),
        customer_col=customer_col,
        current_col=current_col,
        potential_col=potential_col,
        summary=_summary(codes, cur, pot, counts),
        _ids=ids,
        _current=cur,
        _potential=pot,
        _codes=codes,
    )


def _warn_empty(
    counts: npt.NDArray[np.intp],
    tc: float,
    tp: float,
    rule_c: _Rule,
    rule_p: _Rule,
    n_high_c: int,
    n_high_p: int,
) -> None:
    """Warn that the split leaves quadrants empty, with the numbers that explain it."""
    n = int(counts.sum())
    empty = [q for q, k in zip(QUADRANTS, counts, strict=True) if k == 0]
    text = (
        f"clv_quadrants: the split leaves {', '.join(empty)} empty. Current threshold "
        f"{tc:g} ({rule_c.describe()}): {n_high_c} of {n} customers high; potential "
        f"threshold {tp:g} ({rule_p.describe()}): {n_high_p} of {n} high."
    )
    one_sided = [
        axis for axis, k in (("current", n_high_c), ("potential", n_high_p)) if k in (0, n)
    ]
    if n < 4:
        text += " With fewer than four customers some quadrant is always empty."
    elif one_sided:
        text += (
            f" Every customer is on the same side of the {' and '.join(one_sided)} "
            "threshold: a value equal to a threshold counts as high, so a threshold on a "
            "pile of tied values (such as a median of 0) puts them all on the high side. "
            "Choose another split: 'positive_median', a quantile or an absolute threshold."
        )
    else:
        text += (
            " Check that this is expected (current and potential value can be strongly "
            "related) or choose another split."
        )
    warnings.warn(
        text,
        EmptyQuadrantWarning,
        stacklevel=3,
    )


def _current_values(
    transactions: Any,
    *,
    customer_col: str,
    date_col: str,
    amount_col: str,
    observation_end: Any,
    current_window_days: float,
) -> tuple[pd.DataFrame, pd.Timestamp]:
    """Value per customer in the last ``current_window_days`` days, summed engine-side.

    Days are those of the data's local calendar; a timezone-aware ``observation_end`` is
    read in the data's time zone (UTC for naive data), as in ``summarize_transactions``.
    """
    frame, last, tz = local_log(
        transactions,
        customer_col=customer_col,
        date_col=date_col,
        amount_col=amount_col,
        date_format=None,
    )
    if observation_end is None:
        end = last.normalize()
    else:
        end = to_timestamp(observation_end, "observation_end", tz=tz or "UTC").normalize()
    days = day_number(nw.col(date_col))
    end_day = int((end - _EPOCH).days)
    cutoff = end_day - float(current_window_days)
    in_window = (days > cutoff) & (days <= end_day)
    # row-wise first, then a plain sum: a conditional inside ``agg`` is not honoured by
    # every narwhals backend
    agg = (
        frame.select(
            nw.col(customer_col),
            nw.when(in_window).then(nw.col(amount_col)).otherwise(0).alias("current_value"),
        )
        .group_by(customer_col)
        .agg(nw.col("current_value").sum())
    )
    return to_pandas(agg), end


_EPOCH = pd.Timestamp("1970-01-01")


def _fit_or_skip(model: Any, data: pd.DataFrame) -> tuple[Any, str | None]:
    """Fit ``model`` on ``data``; (None, reason) when the data cannot support the fit.

    Only the reasons a valid log can produce are caught: no convergence (e.g. a limit
    that the fit cannot resolve on a handful of customers) and a summary the model
    cannot use (e.g. no repeat buyers for the spend model). Warnings of the fit (such
    as :class:`~crmmodels.errors.BoundaryWarning`) reach the caller unchanged.
    """
    try:
        return model.fit(data), None
    except (ConvergenceError, DataError) as exc:
        return None, str(exc)


def _boundary_note(name: str, model: Any) -> str | None:
    """A plain note when a fitted model ended at a limiting (boundary) solution."""
    diagnostics = getattr(model, "diagnostics_", None)
    boundary = diagnostics.get("boundary") if isinstance(diagnostics, dict) else None
    if not boundary:
        return None
    text = boundary.get("description", boundary) if isinstance(boundary, Mapping) else boundary
    return f"the {name} fit ended at a limiting model ({text}); see its diagnostics_['boundary']."


def clv_quadrants_from_transactions(
    transactions: Any,
    *,
    customer_col: str = "customer_id",
    date_col: str = "date",
    amount_col: str = "amount",
    observation_end: Any = None,
    current_window_days: float = 365,
    horizon: float = 52.0,
    discount_rate: float = 0.10,
    discount_period: float = 52.0,
    time_unit: str = "W",
    split: Any = "positive_median",
) -> QuadrantResult:
    r"""CLV quadrants straight from a transaction log (summary, BG/NBD, Gamma-Gamma, CLV).

    The log is summarised per customer (day grid, ``recency`` and ``T`` in
    ``time_unit``), a BG/NBD transaction model and a Gamma-Gamma spend model are fitted
    on the summary, and each customer's potential value is the CLV over ``horizon``.
    The current value is the customer's spend in the last ``current_window_days`` days
    up to ``observation_end``. Then :func:`clv_quadrants` splits the two axes.

    Parameters
    ----------
    transactions : DataFrame-like
        Transaction log on any engine, one row per purchase.
    customer_col, date_col, amount_col : str
        Column names (dates as date/datetime or ISO strings).
    observation_end : date-like, optional
        End of the observation (default: the last purchase date). Days are those of
        the data's local calendar; a timezone-aware value is converted to the data's
        time zone first (to UTC for naive dates), as in
        :func:`crmmodels.transactions.summarize_transactions`.
    current_window_days : float, default 365
        Length of the window of the current value, in days.
    horizon : float, default 52
        CLV horizon in ``time_unit`` (52 weeks: one year).
    discount_rate : float, default 0.10
        Discount rate per ``discount_period``.
    discount_period : float, default 52
        Length of the discounting period in ``time_unit`` (52 weeks: an annual rate).
    time_unit : {"W", "D"}, default "W"
        Unit of recency, T, ``horizon`` and ``discount_period``.
    split : rule, default "positive_median"
        Threshold rules, as in :func:`clv_quadrants`. The default splits each axis at
        the median of its positive values: most customers usually spent nothing in the
        current window, and the plain median (0) would make all of them "high".

    Returns
    -------
    QuadrantResult
        With ``bgnbd``, ``gamma_gamma``, ``customer_summary`` (the summary with
        ``current_value`` and ``potential_value``), ``potential_method`` and ``notes``.

    Raises
    ------
    SchemaError, DataError
        Invalid transactions (see :func:`crmmodels.transactions.summarize_transactions`)
        or arguments.

    Warns
    -----
    SkippedStepWarning
        A model could not be fitted on this log (typically a customer base of a few
        customers): the step is skipped and the fallback below is used. The message and
        ``notes`` say which step and why.
    BoundaryWarning
        From a fit that ended at a limiting model; passed on unchanged.
    EmptyQuadrantWarning
        The split leaves a quadrant empty (see :func:`clv_quadrants`).

    Notes
    -----
    Potential value: :func:`crmmodels.clv.customer_lifetime_value` (discounted expected
    purchases over the horizon times the Gamma-Gamma conditional expected spend) when the
    CLV engine provides it; otherwise the undiscounted product of the BG/NBD conditional
    expected purchases over ``horizon`` and the conditional expected spend,
    :math:`E[X(T, T + H) \mid x, t_x, T] \cdot E[Z \mid x, \bar z]`. ``potential_method``
    says which was used. Repeat buyers whose mean repeat spend is not positive (refunds,
    free orders) carry no spend information for the Gamma-Gamma model: they are left out
    of its fit and valued at the population mean spend, like customers without repeat
    purchases (their count is in ``potential_method``).

    Small customer bases: when the Gamma-Gamma fit is impossible (no repeat buyers, no
    convergence) every purchase is valued at the log's mean spend per purchase day;
    when the BG/NBD fit is impossible there is no CLV and the potential value is the
    customer's historical value (total spend up to ``observation_end``). Both are
    announced by a :class:`~crmmodels.errors.SkippedStepWarning` and kept in ``notes``;
    the function does not fail on a valid log.

    Examples
    --------
    >>> from crmmodels.datasets import load_cdnow_sample
    >>> tx = load_cdnow_sample()
    >>> q = clv_quadrants_from_transactions(tx, observation_end="1998-06-30")
    >>> q.n_customers, q.bgnbd is not None, q.notes
    (2357, True, ())
    >>> q.current_rule
    'positive_median'
    """
    from crmmodels.clv import BGNBD, GammaGamma
    from crmmodels.transactions import summarize_transactions

    check_choice(time_unit, "time_unit", ["W", "D"])
    current_window_days = check_number(
        current_window_days, "current_window_days", low=0.0, low_open=True
    )
    horizon = check_number(horizon, "horizon", low=0.0, low_open=True)
    discount_rate = check_number(discount_rate, "discount_rate", low=0.0)
    discount_period = check_number(discount_period, "discount_period", low=0.0, low_open=True)
    _parse_split(split)  # a bad split fails before any fit
    summary_native = summarize_transactions(
        transactions,
        customer_col=customer_col,
        date_col=date_col,
        amount_col=amount_col,
        observation_end=observation_end,
        time_unit=time_unit,  # type: ignore[arg-type]
    )
    summary = to_pandas(to_narwhals(summary_native, what="summary"))
    current, end = _current_values(
        transactions,
        customer_col=customer_col,
        date_col=date_col,
        amount_col=amount_col,
        observation_end=observation_end,
        current_window_days=current_window_days,
    )
    summary = summary.merge(current, on=customer_col, how="left", validate="one_to_one")
    x = summary["frequency"].to_numpy(dtype=np.float64)
    m = summary["monetary_value"].to_numpy(dtype=np.float64)
    no_spend_info = (x > 0) & (m <= 0)
    n_customers = len(summary)
    base = f"on this log of {n_customers} customer{'s' if n_customers != 1 else ''}"
    notes: list[str] = []  # skipped steps (warned) and boundary fits, in order
    skipped: list[str] = []
    bg, bg_reason = _fit_or_skip(BGNBD(), summary)
    gg: Any = None
    if bg is None:
        skipped.append(
            f"BG/NBD fit skipped {base}: {bg_reason} Without a transaction model there is "
            f"no CLV: the potential value is each customer's historical value (total "
            f"spend up to {end.date()}), and no Gamma-Gamma model was fitted."
        )
        notes += skipped
        potential = summary["total_value"].to_numpy(dtype=np.float64)
        method = f"historical value (total spend up to {end.date()}); BG/NBD fit skipped"
    else:
        notes += [n for n in (_boundary_note("BG/NBD", bg),) if n]
        gg, gg_reason = _fit_or_skip(GammaGamma(), summary[~no_spend_info])
        if gg is None:
            purchase_days = float((x + 1.0).sum())
            mean_spend = float(summary["total_value"].sum()) / purchase_days
            skipped.append(
                f"Gamma-Gamma fit skipped {base}: {gg_reason} Every purchase is valued at "
                f"the log's mean spend per purchase day, {mean_spend:.6g}."
            )
            notes += skipped
            spend: Any = mean_spend
            no_spend_info = np.zeros(n_customers, dtype=bool)
        else:
            notes += [n for n in (_boundary_note("Gamma-Gamma", gg),) if n]
            spend = gg
        potential, method = _potential(
            bg,
            spend,
            summary,
            no_spend_info,
            customer_col=customer_col,
            horizon=horizon,
            discount_rate=discount_rate,
            discount_period=discount_period,
            time_unit=time_unit,
        )
    for note in skipped:
        warnings.warn(f"clv_quadrants_from_transactions: {note}", SkippedStepWarning, stacklevel=2)
    n_bad = int(no_spend_info.sum())
    if n_bad:
        method += (
            f"; {n_bad} repeat buyer{'s' if n_bad > 1 else ''} with non-positive mean "
            "spend valued at the population mean spend"
        )
    summary["potential_value"] = potential
    result = clv_quadrants(
        summary,
        current_col="current_value",
        potential_col="potential_value",
        customer_col=customer_col,
        split=split,
    )
    return dataclasses.replace(
        result,
        _customer_summary=summary,
        _bgnbd=bg,
        _gamma_gamma=gg,
        _potential_method=method,
        _notes=tuple(notes),
    )


def _potential(
    bg: Any,
    spend_model: Any,
    summary: pd.DataFrame,
    no_spend_info: npt.NDArray[np.bool_],
    *,
    customer_col: str,
    horizon: float,
    discount_rate: float,
    discount_period: float,
    time_unit: str,
) -> tuple[npt.NDArray[np.float64], str]:
    """Potential value per customer (CLV when the engine has it) and how it was computed.

    ``spend_model`` is the fitted Gamma-Gamma model or, when its fit was skipped, a
    constant spend per purchase.
    """
    names = {"D": "days", "W": "weeks"}
    constant = isinstance(spend_model, float)
    mean_spend = spend_model if constant else spend_model.population_mean_spend()
    spend_words = (
        f"constant spend {spend_model:.6g} per purchase (Gamma-Gamma fit skipped)"
        if constant
        else "Gamma-Gamma"
    )
    clv_module = importlib.import_module("crmmodels.clv")
    customer_lifetime_value = getattr(clv_module, "customer_lifetime_value", None)
    out = np.empty(len(summary))
    if customer_lifetime_value is not None:
        cols = [customer_col, "frequency", "recency", "T", "monetary_value"]
        for mask, spend in ((~no_spend_info, spend_model), (no_spend_info, mean_spend)):
            if not mask.any():
                continue
            res = customer_lifetime_value(
                bg,
                spend,
                summary.loc[mask, cols],
                horizon=horizon,
                discount_rate=discount_rate,
                discount_period=discount_period,
                time_unit=names[time_unit],
                customer_col=customer_col,
            )
            out[mask] = res.to_frame()["clv"].to_numpy(dtype=np.float64)
        method = (
            f"CLV over {horizon:g} {names[time_unit]} (BG/NBD + {spend_words}, discount "
            f"{discount_rate:g} per {discount_period:g} {names[time_unit]})"
        )
        return out, method
    x = summary["frequency"].to_numpy(dtype=np.float64)
    m = summary["monetary_value"].to_numpy(dtype=np.float64)
    purchases = bg.conditional_expected_purchases(
        horizon, x, summary["recency"].to_numpy(dtype=np.float64), summary["T"].to_numpy()
    )
    spend = (
        np.full(len(summary), mean_spend)
        if constant
        else spend_model.conditional_expected_spend(
            np.where(no_spend_info, 0.0, x), np.where(no_spend_info, 0.0, m)
        )
    )
    out[:] = np.asarray(purchases, dtype=np.float64) * np.asarray(spend, dtype=np.float64)
    method = (
        f"conditional expected purchases over {horizon:g} {names[time_unit]} (BG/NBD) x "
        f"conditional expected spend ({spend_words}), undiscounted"
    )
    return out, method
