r"""Price sensitivity: the Van Westendorp (1976) meter and price elasticity (Tellis 1988).

* :func:`van_westendorp`: the Van Westendorp price sensitivity meter from the four
  survey questions (at what price is the product *too cheap* to trust, *cheap* (a
  bargain), *expensive* (but still worth considering), *too expensive*), with the
  Newton-Miller-Smith extension for trial- and revenue-optimal prices.
* :func:`price_elasticity`: the price elasticity of demand per product or segment from
  transactions, by log-log least squares computed from grouped sums on the caller's
  engine.

The curve and price-point definitions follow the R package *pricesensitivitymeter*
(Alletsee, M., pricesensitivitymeter: Van Westendorp Price Sensitivity Meter Analysis,
R package on CRAN), itself following Van Westendorp (1976) and Newton, Miller & Smith
(1993).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import narwhals.stable.v2 as nw
import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats

from crmmodels._frames import (
    check_columns,
    check_not_null,
    collect,
    count_true,
    python_scalar,
    to_narwhals,
    to_pandas,
)
from crmmodels._ingest.arguments import check_bool, check_column_name, check_level
from crmmodels._results import Result
from crmmodels.errors import ArgumentError, DataError, SchemaError, bad_rows_message

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["VanWestendorpResult", "price_elasticity", "van_westendorp"]

FloatArray = npt.NDArray[np.float64]
_QUESTIONS = ("too_cheap", "cheap", "expensive", "too_expensive")


# ------------------------------------------------------------------ Van Westendorp


@dataclass(frozen=True, repr=False)
class VanWestendorpResult(Result):
    """Price points, curves and (optionally) the Newton-Miller-Smith trial curve.

    Attributes
    ----------
    lower_bound : float
        Point of marginal cheapness: "too cheap" crosses "not cheap".
    upper_bound : float
        Point of marginal expensiveness: "too expensive" crosses "not expensive".
    optimal_price : float
        Optimal price point: "too cheap" crosses "too expensive".
    indifference_price : float
        Indifference price point: "cheap" crosses "expensive".
    acceptable_range : (float, float)
        ``(lower_bound, upper_bound)``.
    n_respondents : int
        Respondents given.
    n_invalid : int
        Respondents whose answers are not strictly ordered
        (too cheap < cheap < expensive < too expensive) or are missing.
    n_used : int
        Respondents behind the curves.
    validated : bool
        Whether invalid respondents were excluded.
    interpolated : bool
        Whether crossings were interpolated linearly between observed prices.
    curves : pandas.DataFrame
        Per observed price: ``too_cheap``, ``cheap``, ``expensive``, ``too_expensive``,
        ``not_cheap`` and ``not_expensive`` (shares of respondents).
    trial_optimal_price, revenue_optimal_price : float or None
        Newton-Miller-Smith prices maximising mean purchase probability (trial) and
        price times trial (revenue), when purchase probabilities were given.
    nms : pandas.DataFrame or None
        Per observed price: ``trial`` and ``revenue`` (Newton-Miller-Smith).

    Examples
    --------
    >>> res = van_westendorp([1, 2, 3], [2, 3, 4], [3, 4, 5], [4, 5, 6])
    >>> res.lower_bound, res.optimal_price, res.indifference_price, res.upper_bound
    (2.0, 3.0, 3.0, 4.0)
    >>> list(res.to_frame().columns)[:3]
    ['price', 'too_cheap', 'cheap']
    >>> ax = res.plot()
    >>> type(ax).__name__
    'Axes'
    >>> import matplotlib.pyplot as plt
    >>> plt.close(ax.figure)
    """

    lower_bound: float
    upper_bound: float
    optimal_price: float
    indifference_price: float
    acceptable_range: tuple[float, float]
    n_respondents: int
    n_invalid: int
    n_used: int
    validated: bool
    interpolated: bool
    curves: pd.DataFrame
    trial_optimal_price: float | None = None
    revenue_optimal_price: float | None = None
    nms: pd.DataFrame | None = None

    def to_frame(self) -> pd.DataFrame:
        """Return the curves (one row per observed price)."""
        return self.curves.copy()

    def plot(self, ax: Axes | None = None, **kwargs: Any) -> Axes:
        """Van Westendorp chart (see :func:`crmmodels.plotting.pricing.plot_van_westendorp`)."""
        from crmmodels.plotting.pricing import plot_van_westendorp

        return plot_van_westendorp(self, ax=ax, **kwargs)


def _as_array(value: Any, name: str, data: Any, n: int | None) -> FloatArray:
    """A numeric 1-D array from an array-like or (with ``data``) a column name."""
    if data is not None:
        if not isinstance(value, str):
            raise SchemaError(
                f"with data=, {name} must be a column name; got {type(value).__name__}."
            )
        col = data[value]
        if not pd.api.types.is_numeric_dtype(col.dtype) or pd.api.types.is_bool_dtype(col.dtype):
            raise SchemaError(
                f"column '{value}' ({name}) must be numeric; its type is {col.dtype}."
            )
        return np.asarray(col.to_numpy(dtype=np.float64, na_value=np.nan), dtype=np.float64)
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise SchemaError(f"{name} must be numeric; it holds non-numeric values.") from exc
    if arr.ndim != 1:
        raise SchemaError(f"{name} must be one-dimensional; got shape {arr.shape}.")
    if n is not None and arr.size != n:
        raise SchemaError(f"{name} has {arr.size} values; too_cheap has {n}.")
    return arr


def _weighted_ecdf(x: FloatArray, w: FloatArray, grid: FloatArray) -> FloatArray:
    """Share of weight with ``x <= grid`` (right-continuous, like R's ``ecdf``)."""
    order = np.argsort(x, kind="stable")
    cum = np.concatenate([[0.0], np.cumsum(w[order])])
    idx = np.searchsorted(x[order], grid, side="right")
    return np.asarray(cum[idx] / cum[-1], dtype=np.float64)


def _crossing(
    grid: FloatArray, rising: FloatArray, falling: FloatArray, interpolate: bool
) -> float:
    """First price where the rising curve reaches the falling one (``NaN`` if never)."""
    d = rising - falling
    hit = np.nonzero(d >= -1e-12)[0]
    if hit.size == 0:
        return float("nan")
    k = int(hit[0])
    if not interpolate or k == 0:
        return float(grid[k])
    d0, d1 = d[k - 1], max(d[k], 0.0)
    return float(grid[k - 1] + (grid[k] - grid[k - 1]) * (-d0) / (d1 - d0))


def _trial_curve(
    prices: FloatArray,
    probs_cheap: FloatArray,
    probs_exp: FloatArray,
    w: FloatArray,
    grid: FloatArray,
) -> FloatArray:
    """Weighted mean over respondents of a piecewise-linear purchase probability.

    Respondent ``i``: 0 at too cheap, ``probs_cheap`` at cheap, ``probs_exp`` at
    expensive, 0 at too expensive, linear in price in between and 0 outside. The sum of
    such hat functions is evaluated from the slope changes at the knots.
    """
    tc, ch, ex, te = prices.T
    s1 = probs_cheap / (ch - tc)
    s2 = (probs_exp - probs_cheap) / (ex - ch)
    s3 = -probs_exp / (te - ex)
    knots = np.concatenate([tc, ch, ex, te])
    dslope = np.concatenate([s1, s2 - s1, s3 - s2, -s3]) * np.tile(w / w.sum(), 4)
    order = np.argsort(knots, kind="stable")
    knots, dslope = knots[order], dslope[order]
    c1 = np.concatenate([[0.0], np.cumsum(dslope)])
    c2 = np.concatenate([[0.0], np.cumsum(dslope * knots)])
    idx = np.searchsorted(knots, grid, side="right")
    # sum over knots <= g of dslope * (g - knot)
    out = grid * c1[idx] - c2[idx]
    return np.asarray(np.clip(out, 0.0, 1.0), dtype=np.float64)


def van_westendorp(
    too_cheap: Any,
    cheap: Any,
    expensive: Any,
    too_expensive: Any,
    *,
    data: Any = None,
    weights: Any = None,
    interpolate: bool = True,
    validate: bool = True,
    purchase_cheap: Any = None,
    purchase_expensive: Any = None,
) -> VanWestendorpResult:
    r"""Van Westendorp price sensitivity meter (with the Newton-Miller-Smith extension).

    Each respondent names four prices. On the grid of all observed prices :math:`p`,
    with :math:`F_q` the (weighted) empirical distribution function of the answers to
    question :math:`q` (share of answers :math:`\le p`):

    .. math::

        \text{too cheap}(p) = 1 - F_{tc}(p), \quad \text{cheap}(p) = 1 - F_{ch}(p),
        \quad \text{expensive}(p) = F_{ex}(p), \quad \text{too expensive}(p) = F_{te}(p),

    "not cheap" :math:`= 1 - \text{cheap} = F_{ch}` and "not expensive"
    :math:`= 1 - \text{expensive}`. The price points are where a rising curve first
    reaches a falling one: lower bound (point of marginal cheapness) "not cheap" x "too
    cheap"; upper bound (point of marginal expensiveness) "too expensive" x "not
    expensive"; optimal price "too expensive" x "too cheap"; indifference price
    "expensive" x "cheap".

    Parameters
    ----------
    too_cheap, cheap, expensive, too_expensive : array-like or str
        The four answers per respondent; column names when ``data`` is given.
    data : DataFrame-like, optional
        A frame (any engine) holding the columns named above.
    weights : array-like or str, optional
        Respondent weights (non-negative); a column name with ``data``.
    interpolate : bool, default True
        Crossings by linear interpolation between observed prices (the exact crossing of
        the piecewise-linear curves). False: the first observed price where the rising
        curve is at least the falling one (pricesensitivitymeter's default rule).
    validate : bool, default True
        Exclude respondents whose answers are not strictly increasing
        (too cheap < cheap < expensive < too expensive). Respondents with a missing
        answer are always excluded. Both are counted in ``n_invalid``.
    purchase_cheap, purchase_expensive : array-like or str, optional
        Purchase probabilities in [0, 1] at the respondent's cheap and expensive prices
        (Newton-Miller-Smith). Map a purchase-intent scale to probabilities first (the
        usual calibration of a 5-point scale is 0.7, 0.5, 0.3, 0.1, 0).

    Returns
    -------
    VanWestendorpResult

    Raises
    ------
    SchemaError
        Non-numeric answers, arrays of different lengths, unknown columns.
    DataError
        Negative or infinite prices, bad weights or probabilities, no usable respondent.

    Notes
    -----
    Newton-Miller-Smith: a respondent's purchase probability is 0 at (and beyond) the
    too-cheap and too-expensive prices, the stated probabilities at the cheap and
    expensive prices, linear in price in between; trial is its weighted mean over the
    ordered respondents (always only those) and revenue is price x trial; the optimal
    prices maximise them over the observed prices. pricesensitivitymeter interpolates
    linearly in the rank of the price grid rather than in price, so its trial curve can
    differ slightly between knots.

    References
    ----------
    Van Westendorp, P. (1976). NSS Price Sensitivity Meter: a new approach to study
    consumer perception of price. ESOMAR Congress. Newton, D., Miller, J. & Smith, P.
    (1993). A market acceptance extension to traditional price sensitivity measurement.
    AMA ART Forum. Alletsee, M. pricesensitivitymeter (R package, CRAN).

    Examples
    --------
    >>> from crmmodels.datasets._survey import simulate_price_survey
    >>> sim = simulate_price_survey(400, seed=2)
    >>> res = van_westendorp("too_cheap", "cheap", "expensive", "too_expensive",
    ...                      data=sim.answers)
    >>> [round(v, 2) for v in (res.lower_bound, res.optimal_price,
    ...                        res.indifference_price, res.upper_bound)]
    [13.96, 20.1, 19.36, 26.79]
    >>> res.n_invalid
    20
    """
    check_bool(interpolate, "interpolate")
    check_bool(validate, "validate")
    native = None
    if data is not None:
        frame_nw = to_narwhals(data, what="data")
        names = [too_cheap, cheap, expensive, too_expensive]
        for extra in (weights, purchase_cheap, purchase_expensive):
            if extra is not None:
                names.append(extra)
        if not all(isinstance(c, str) for c in names):
            raise SchemaError(
                "with data=, the answers, weights and probabilities are column names."
            )
        check_columns(frame_nw, names, what="data")
        native = to_pandas(frame_nw.select(list(dict.fromkeys(names))))
    a0 = _as_array(too_cheap, "too_cheap", native, None)
    n = a0.size
    answers = np.column_stack(
        [a0]
        + [
            _as_array(v, q, native, n)
            for v, q in zip((cheap, expensive, too_expensive), _QUESTIONS[1:], strict=True)
        ]
    )
    if n == 0:
        raise DataError("van_westendorp needs at least one respondent; got none.")
    for j, q in enumerate(_QUESTIONS):
        col = answers[:, j]
        bad = np.isinf(col) | (col < 0)
        if bad.any():
            raise DataError(
                bad_rows_message(q, "is negative or infinite", int(bad.sum()), float(col[bad][0]))
            )
    w = np.ones(n) if weights is None else _as_array(weights, "weights", native, n)
    if not np.all(np.isfinite(w)) or (w < 0).any():
        bad = ~np.isfinite(w) | (w < 0)
        raise DataError(
            bad_rows_message(
                "weights", "is negative or not finite", int(bad.sum()), float(w[bad][0])
            )
        )
    complete = np.asarray(np.isfinite(answers).all(axis=1), dtype=np.bool_)
    steps = np.diff(np.where(complete[:, None], answers, 0.0), axis=1)
    ordered = np.asarray(complete & (steps > 0).all(axis=1), dtype=np.bool_)
    n_invalid = int((~ordered).sum())
    use = ordered if validate else complete
    if not use.any() or w[use].sum() <= 0:
        raise DataError(
            f"van_westendorp: no usable respondent ({n_invalid} of {n} have missing or "
            "unordered answers, or all weights are zero)."
        )
    x, wu = answers[use], w[use]
    grid = np.unique(x)
    ecdf = [_weighted_ecdf(x[:, j], wu, grid) for j in range(4)]
    curves = pd.DataFrame(
        {
            "price": grid,
            "too_cheap": 1.0 - ecdf[0],
            "cheap": 1.0 - ecdf[1],
            "expensive": ecdf[2],
            "too_expensive": ecdf[3],
            "not_cheap": ecdf[1],
            "not_expensive": 1.0 - ecdf[2],
        }
    )
    c = {k: curves[k].to_numpy() for k in curves.columns}
    lower = _crossing(grid, c["not_cheap"], c["too_cheap"], interpolate)
    upper = _crossing(grid, c["too_expensive"], c["not_expensive"], interpolate)
    opp = _crossing(grid, c["too_expensive"], c["too_cheap"], interpolate)
    idp = _crossing(grid, c["expensive"], c["cheap"], interpolate)

    trial_p = revenue_p = None
    nms = None
    if (purchase_cheap is None) != (purchase_expensive is None):
        raise SchemaError("give both purchase_cheap and purchase_expensive, or neither.")
    if purchase_cheap is not None:
        pc = _as_array(purchase_cheap, "purchase_cheap", native, n)
        pe = _as_array(purchase_expensive, "purchase_expensive", native, n)
        for name, p in (("purchase_cheap", pc), ("purchase_expensive", pe)):
            bad = ordered & ~((p >= 0) & (p <= 1))
            if bad.any():
                raise DataError(
                    bad_rows_message(
                        name,
                        "is not a probability in [0, 1]",
                        int(bad.sum()),
                        p[bad][0],
                        "Map purchase intent to probabilities first (e.g. 0.7, 0.5, 0.3, 0.1, 0).",
                    )
                )
        trial = _trial_curve(answers[ordered], pc[ordered], pe[ordered], w[ordered], grid)
        revenue = grid * trial
        nms = pd.DataFrame({"price": grid, "trial": trial, "revenue": revenue})
        trial_p = float(grid[int(np.argmax(trial))])
        revenue_p = float(grid[int(np.argmax(revenue))])
    return VanWestendorpResult(
        lower_bound=lower,
        upper_bound=upper,
        optimal_price=opp,
        indifference_price=idp,
        acceptable_range=(lower, upper),
        n_respondents=n,
        n_invalid=n_invalid,
        n_used=int(use.sum()),
        validated=bool(validate),
        interpolated=bool(interpolate),
        curves=curves,
        trial_optimal_price=trial_p,
        revenue_optimal_price=revenue_p,
        nms=nms,
    )


# ------------------------------------------------------------------ elasticity


def _group_list(group_col: str | Sequence[str] | None) -> list[str]:
    if group_col is None:
        return []
    if isinstance(group_col, str):
        return [group_col]
    if not isinstance(group_col, Iterable):
        raise ArgumentError(
            f"group_col must be a column name or a list of them; got {group_col!r}."
        )
    return list(group_col)


def price_elasticity(
    transactions: Any,
    *,
    price_col: str = "price",
    quantity_col: str = "quantity",
    group_col: str | Sequence[str] | None = None,
    ci: float = 0.95,
) -> pd.DataFrame:
    r"""Price elasticity of demand per group by log-log least squares.

    For each group, on its rows :math:`(p_i, q_i)` with :math:`x = \ln p`,
    :math:`y = \ln q`:

    .. math::

        \hat\varepsilon = \frac{S_{xy}}{S_{xx}}, \quad
        \operatorname{se}(\hat\varepsilon) = \sqrt{\frac{S_{yy} - \hat\varepsilon S_{xy}}
        {(n-2)\, S_{xx}}}, \quad
        \hat\varepsilon \pm t_{n-2,\,(1+\text{ci})/2}\, \operatorname{se},

    with :math:`S_{xy} = \sum (x - \bar x)(y - \bar y)` etc. The sums are computed on
    the caller's engine (group means first, then centred sums: numerically stable), so
    only one row per group is collected.

    Parameters
    ----------
    transactions : DataFrame-like
        One row per transaction (any engine).
    price_col, quantity_col : str
        Unit price and quantity columns (both must be positive).
    group_col : str or list of str, optional
        Product / segment column(s); one elasticity per group (overall when None).
    ci : float
        Confidence level.

    Returns
    -------
    pandas.DataFrame
        One row per group (sorted): the group columns, ``elasticity``, ``ci_low``,
        ``ci_high``, ``se``, ``intercept`` (:math:`\ln q` at :math:`p = 1`), ``r2``,
        ``n``, ``n_prices`` (distinct prices), ``price_min``, ``price_max`` and
        ``note``. A group with fewer than two distinct prices gets no elasticity and
        ``note = "fewer than 2 distinct prices"``; one with fewer than three rows gets
        no interval (``"fewer than 3 rows: no interval"``).

    Raises
    ------
    SchemaError
        Missing or non-numeric columns.
    DataError
        Null, zero, negative or infinite prices or quantities; bad ``ci``.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"price": [1.0, 2.0, 4.0, 1.0, 2.0, 4.0],
    ...                    "quantity": [16.0, 4.0, 1.0, 16.0, 4.0, 1.0]})
    >>> price_elasticity(tx)[["elasticity", "n", "n_prices"]]
       elasticity  n  n_prices
    0        -2.0  6         3
    """
    check_level(ci, "ci", fix="It is a confidence level such as 0.95.")
    check_column_name(price_col, "price_col")
    check_column_name(quantity_col, "quantity_col")
    groups = _group_list(group_col)
    for g in groups:
        check_column_name(g, "group_col")
    frame = to_narwhals(transactions, what="transactions")
    cols = [price_col, quantity_col]
    check_columns(frame, [*groups, *cols], what="transactions")
    schema = frame.collect_schema()
    for c in cols:
        if not schema[c].is_numeric() or schema[c] == nw.Boolean:
            raise SchemaError(
                f"transactions: column '{c}' must be numeric; its type is {schema[c]}."
            )
    check_not_null(frame, [*groups, *cols], what="transactions")
    bad_counts = collect(
        frame.select(
            *[count_true((nw.col(c) <= 0) | ~nw.col(c).is_finite()).alias(c) for c in cols],
            nw.len().alias("__n"),
        )
    ).rows(named=True)[0]
    if int(bad_counts["__n"]) == 0:
        raise DataError("transactions is empty: no rows to fit.")
    for c in cols:
        if bad_counts[c]:
            first = collect(
                frame.filter((nw.col(c) <= 0) | ~nw.col(c).is_finite()).select(c).head(1)
            ).item(0, 0)
            raise DataError(
                "transactions: "
                + bad_rows_message(
                    c,
                    "is zero, negative or infinite",
                    int(bad_counts[c]),
                    python_scalar(first),
                    "The log-log model needs positive values: filter such rows first.",
                )
            )
    key = groups if groups else ["__all"]
    base = frame.select(
        *([nw.col(g) for g in groups] if groups else [nw.lit(0).alias("__all")]),
        nw.col(price_col).cast(nw.Float64).log().alias("__x"),
        nw.col(quantity_col).cast(nw.Float64).log().alias("__y"),
        nw.col(price_col).cast(nw.Float64).alias("__p"),
    )
    means = base.group_by(key).agg(
        nw.len().alias("n"),
        nw.col("__x").mean().alias("__mx"),
        nw.col("__y").mean().alias("__my"),
        nw.col("__p").min().alias("price_min"),
        nw.col("__p").max().alias("price_max"),
    )
    dx = nw.col("__x") - nw.col("__mx")
    dy = nw.col("__y") - nw.col("__my")
    centred = base.join(means.select(*key, "__mx", "__my"), on=key, how="inner")  # type: ignore[arg-type]
    centred = centred.select(
        *key,
        (dx * dx).alias("__sxx"),
        (dx * dy).alias("__sxy"),
        (dy * dy).alias("__syy"),
    )
    sums = centred.group_by(key).agg(nw.col("__sxx", "__sxy", "__syy").sum())
    # distinct prices by unique + count (a grouped n_unique is unreliable on some engines)
    n_prices = base.select(*key, "__p").unique().group_by(key).agg(nw.len().alias("n_prices"))
    table = to_pandas(
        means.join(sums, on=key, how="inner").join(n_prices, on=key, how="inner")  # type: ignore[arg-type]
    )
    table = table.sort_values(key, kind="stable").reset_index(drop=True)
    n = table["n"].to_numpy(dtype=np.float64)
    sxx = table["__sxx"].to_numpy(dtype=np.float64)
    sxy = table["__sxy"].to_numpy(dtype=np.float64)
    syy = table["__syy"].to_numpy(dtype=np.float64)
    varies = table["n_prices"].to_numpy() >= 2
    with np.errstate(invalid="ignore", divide="ignore"):
        slope = np.where(varies, sxy / sxx, np.nan)
        rss = np.maximum(syy - slope * sxy, 0.0)
        df = n - 2.0
        se = np.where(varies & (df > 0), np.sqrt(rss / np.where(df > 0, df, 1.0) / sxx), np.nan)
        tq = stats.t.ppf(0.5 + float(ci) / 2.0, np.maximum(df, 1.0))
        r2 = np.where(varies & (syy > 0), 1.0 - rss / syy, np.nan)
    intercept = table["__my"].to_numpy() - slope * table["__mx"].to_numpy()
    note = np.where(
        ~varies,
        "fewer than 2 distinct prices",
        np.where(df <= 0, "fewer than 3 rows: no interval", ""),
    )
    out = table[groups].copy() if groups else pd.DataFrame(index=table.index)
    out["elasticity"] = slope
    out["ci_low"] = slope - tq * se
    out["ci_high"] = slope + tq * se
    out["se"] = se
    out["intercept"] = intercept
    out["r2"] = r2
    out["n"] = table["n"].to_numpy(dtype=np.int64)
    out["n_prices"] = table["n_prices"].to_numpy(dtype=np.int64)
    out["price_min"] = table["price_min"].to_numpy(dtype=np.float64)
    out["price_max"] = table["price_max"].to_numpy(dtype=np.float64)
    out["note"] = note
    return out
