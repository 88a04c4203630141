"""The Van Westendorp (1976) price sensitivity meter, with Newton, Miller & Smith (1993)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmmodels._ingest.arguments import check_bool
from crmmodels._ingest.frames import check_columns, to_narwhals, to_pandas
from crmmodels._results import Result
from crmmodels.errors import DataError, SchemaError, bad_rows_message

if TYPE_CHECKING:
    from matplotlib.axes import Axes

FloatArray = npt.NDArray[np.float64]
_QUESTIONS = ("too_cheap", "cheap", "expensive", "too_expensive")


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
    if (purchase_cheap is None) != (purchase_expensive is None):
        raise SchemaError("give both purchase_cheap and purchase_expensive, or neither.")
    native = _answers_frame(
        data,
        [too_cheap, cheap, expensive, too_expensive, weights, purchase_cheap, purchase_expensive],
    )
    answers = _read_answers((too_cheap, cheap, expensive, too_expensive), native)
    n = len(answers)
    w = np.ones(n) if weights is None else _as_array(weights, "weights", native, n)
    _check_weights(w)
    complete, ordered = _complete_and_ordered(answers)
    n_invalid = int((~ordered).sum())
    use = ordered if validate else complete
    if not use.any() or w[use].sum() <= 0:
        raise DataError(
            f"van_westendorp: no usable respondent ({n_invalid} of {n} have missing or "
            "unordered answers, or all weights are zero)."
        )
    curves = _curves(answers[use], w[use])
    lower, upper, opp, idp = _price_points(curves, interpolate)
    nms = None
    if purchase_cheap is not None:
        probs = [
            _purchase_probabilities(p, name, native, n, ordered)
            for p, name in (
                (purchase_cheap, "purchase_cheap"),
                (purchase_expensive, "purchase_expensive"),
            )
        ]
        nms = _newton_miller_smith(answers, probs[0], probs[1], w, ordered, curves["price"])
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
        trial_optimal_price=None if nms is None else _best_price(nms, "trial"),
        revenue_optimal_price=None if nms is None else _best_price(nms, "revenue"),
        nms=nms,
    )


def _answers_frame(data: Any, names: list[Any]) -> pd.DataFrame | None:
    """With ``data``: the named columns (answers, weights, probabilities) in pandas."""
    if data is None:
        return None
    frame_nw = to_narwhals(data, what="data")
    names = [c for c in names if c is not None]
    if not all(isinstance(c, str) for c in names):
        raise SchemaError("with data=, the answers, weights and probabilities are column names.")
    check_columns(frame_nw, names, what="data")
    return to_pandas(frame_nw.select(list(dict.fromkeys(names))))


def _read_answers(questions: tuple[Any, ...], native: pd.DataFrame | None) -> FloatArray:
    """The four answers as an (n, 4) matrix; prices must be non-negative and finite."""
    first = _as_array(questions[0], _QUESTIONS[0], native, None)
    n = first.size
    answers = np.column_stack(
        [first]
        + [_as_array(v, q, native, n) for v, q in zip(questions[1:], _QUESTIONS[1:], strict=True)]
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
    return np.asarray(answers, dtype=np.float64)


def _complete_and_ordered(
    answers: FloatArray,
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """Respondents with all four answers, and those whose answers strictly increase."""
    complete = np.asarray(np.isfinite(answers).all(axis=1), dtype=np.bool_)
    steps = np.diff(np.where(complete[:, None], answers, 0.0), axis=1)
    ordered = np.asarray(complete & (steps > 0).all(axis=1), dtype=np.bool_)
    return complete, ordered


def _check_weights(w: FloatArray) -> None:
    bad = ~np.isfinite(w) | (w < 0)
    if bad.any():
        raise DataError(
            bad_rows_message(
                "weights", "is negative or not finite", int(bad.sum()), float(w[bad][0])
            )
        )


def _curves(x: FloatArray, w: FloatArray) -> pd.DataFrame:
    """The six curves on the grid of observed prices (weighted shares of respondents)."""
    grid = np.unique(x)
    ecdf = [_weighted_ecdf(x[:, j], w, grid) for j in range(4)]
    return pd.DataFrame(
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


def _price_points(curves: pd.DataFrame, interpolate: bool) -> tuple[float, float, float, float]:
    """Lower bound, upper bound, optimal and indifference prices: the curve crossings."""
    c = {k: curves[k].to_numpy() for k in curves.columns}
    grid = c["price"]
    return (
        _crossing(grid, c["not_cheap"], c["too_cheap"], interpolate),
        _crossing(grid, c["too_expensive"], c["not_expensive"], interpolate),
        _crossing(grid, c["too_expensive"], c["too_cheap"], interpolate),
        _crossing(grid, c["expensive"], c["cheap"], interpolate),
    )


def _purchase_probabilities(
    value: Any, name: str, native: pd.DataFrame | None, n: int, ordered: npt.NDArray[np.bool_]
) -> FloatArray:
    """Stated purchase probabilities; those of the ordered respondents must be in [0, 1]."""
    p = _as_array(value, name, native, n)
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
    return p


def _newton_miller_smith(
    answers: FloatArray,
    pc: FloatArray,
    pe: FloatArray,
    w: FloatArray,
    ordered: npt.NDArray[np.bool_],
    price: pd.Series,
) -> pd.DataFrame:
    """Trial and revenue per observed price, over the ordered respondents."""
    grid = price.to_numpy(dtype=np.float64)
    trial = _trial_curve(answers[ordered], pc[ordered], pe[ordered], w[ordered], grid)
    return pd.DataFrame({"price": grid, "trial": trial, "revenue": grid * trial})


def _best_price(nms: pd.DataFrame, column: str) -> float:
    return float(nms["price"].iloc[int(np.argmax(nms[column].to_numpy()))])
