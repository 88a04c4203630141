r"""Relationship quality from survey answers (Crosby, Evans & Cowles 1990).

Relationship quality is measured by a few *constructs* (by default trust, satisfaction
and commitment), each asked through several Likert items, some of them reverse-coded.
:func:`relationship_quality` scores every respondent, checks that each construct is
measured reliably and distinctly, and, when both sides of a relationship answered
(customer and company: "quality is judged by the two together"), compares the sides.

Rules, in order:

1. Reverse-coded items are turned around: :math:`x' = lo + hi - x` on the scale
   ``(lo, hi)``.
2. A respondent's construct score is the mean of the construct's answered items when at
   least ``min_answered`` of them are answered, otherwise missing (counted in
   ``reliability["n_unscored"]``).
3. The relationship-quality index is the weighted mean of the construct scores
   (weights normalised to sum to one); it is missing when a construct score is.
4. Reliability and validity statistics come from the item covariance matrix, computed
   pairwise (each pair of items on the respondents who answered both) or listwise (only
   respondents who answered every item of the construct; for HTMT every item).

See :mod:`crmmodels.kernels.reliability` for the formulas (Cronbach's alpha and Feldt's
interval, corrected item-total correlation, alpha if item deleted, the one-factor
minimum-residual fit behind McDonald's omega, composite reliability and AVE, HTMT).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmmodels._frames import check_columns, python_scalar, to_narwhals, to_pandas
from crmmodels._ingest.arguments import (
    check_choice,
    check_column_name,
    check_int,
    check_level,
    check_number,
)
from crmmodels._results import Result
from crmmodels.errors import ArgumentError, DataError, SchemaError, bad_rows_message
from crmmodels.kernels import reliability as kr

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "DEFAULT_CONSTRUCTS",
    "CronbachAlphaResult",
    "RelationshipQualityResult",
    "cronbach_alpha",
    "relationship_quality",
]

#: Construct names looked up by prefix when ``constructs`` is not given.
DEFAULT_CONSTRUCTS: tuple[str, ...] = ("trust", "satisfaction", "commitment")

NanPolicy = Literal["pairwise", "listwise"]
FloatArray = npt.NDArray[np.float64]


# ------------------------------------------------------------------ shared statistics


def _check_policy(nan_policy: str) -> None:
    check_choice(nan_policy, "nan_policy", ("pairwise", "listwise"))


def _check_level(ci: float) -> None:
    check_level(ci, "ci", fix="It is a confidence level such as 0.95.")


@dataclass(frozen=True)
class _ScaleStats:
    n: int
    usable: int
    alpha: float
    ci: tuple[float, float]
    cov: FloatArray
    item_total: FloatArray
    if_deleted: FloatArray


def _scale_stats(x: FloatArray, nan_policy: NanPolicy, level: float) -> _ScaleStats:
    """Alpha, its interval and the item diagnostics of one set of items.

    ``n`` (behind the interval) is the number of rows given, for both policies, as in
    pingouin; ``usable`` is the number of rows the covariances can use.
    """
    cov, _ = kr.covariance(x, nan_policy)
    n = int(x.shape[0])
    usable = int((~np.isnan(x)).all(axis=1).sum()) if nan_policy == "listwise" else n
    alpha = kr.alpha_from_cov(cov)  # NaN when the total's variance is only rounding error
    return _ScaleStats(
        n=n,
        usable=usable,
        alpha=alpha,
        ci=kr.alpha_ci(alpha, n, x.shape[1], level),
        cov=cov,
        item_total=kr.corrected_item_total(cov),
        if_deleted=kr.alpha_if_deleted(cov),
    )


def _numeric_matrix(frame: pd.DataFrame, columns: Sequence[str], what: str) -> FloatArray:
    for c in columns:
        dtype = frame[c].dtype
        if pd.api.types.is_bool_dtype(dtype) or not pd.api.types.is_numeric_dtype(dtype):
            bad = frame[c].dropna()
            example = python_scalar(bad.iloc[0]) if len(bad) else None
            raise SchemaError(
                f"{what}: column '{c}' must hold numeric answers; its type is {dtype} "
                f"(first value: {example!r}). Map text answers to numbers first."
            )
    x = np.column_stack(
        [frame[c].to_numpy(dtype=np.float64, na_value=np.nan) for c in columns]
    ).astype(np.float64)
    empty = np.isnan(x).all(axis=0)
    if len(x) and empty.any():
        names = [str(columns[int(i)]) for i in np.flatnonzero(empty)]
        raise DataError(
            f"{what}: {len(names)} item(s) have no answer at all (first: '{names[0]}'); "
            "no statistic can use them. Drop them from the items / constructs."
        )
    return x


def _col_means(x: FloatArray) -> FloatArray:
    """Column means ignoring NaN (``NaN`` for an all-missing column, without a warning)."""
    ok = ~np.isnan(x)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(np.where(ok, x, 0.0).sum(axis=0) / ok.sum(axis=0), dtype=np.float64)


def _col_sd(v: FloatArray) -> float:
    """Sample standard deviation ignoring NaN (``NaN`` with fewer than two values)."""
    v = v[np.isfinite(v)]
    return float(np.std(v, ddof=1)) if v.size > 1 else float("nan")


def _item_frame(data: Any, what: str) -> tuple[pd.DataFrame, list[str]]:
    """Collect an item table (any frame or a 2-D array) into pandas."""
    if isinstance(data, np.ndarray):
        if data.ndim != 2:
            raise SchemaError(f"{what} must be 2-dimensional; got shape {data.shape}.")
        frame = pd.DataFrame(data, columns=[f"item_{j + 1}" for j in range(data.shape[1])])
        return frame, list(frame.columns)
    frame = to_pandas(to_narwhals(data, what=what))
    # Integer column labels (a frame built from a 2-D array) are addressed by their text.
    frame = frame.set_axis([str(c) for c in frame.columns], axis=1)
    return frame, list(frame.columns)


# ------------------------------------------------------------------ Cronbach's alpha


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


# ------------------------------------------------------------------ relationship quality


@dataclass(frozen=True, repr=False)
class RelationshipQualityResult(Result):
    """Scores, reliability, validity and the dyadic view of a relationship-quality survey.

    Attributes
    ----------
    scores : pandas.DataFrame
        One row per respondent: the respondent id (and side / relationship when given),
        one score column per construct and ``rq_index`` (missing scores are ``NaN``).
    reliability : pandas.DataFrame
        One row per construct: ``n_items``, ``n`` (rows usable by the covariances),
        ``alpha``, ``alpha_ci_low``, ``alpha_ci_high``, ``omega``,
        ``composite_reliability``, ``ave``, ``rmsr`` (root mean square residual of the
        one-factor fit), ``heywood``, ``weight``,
        ``mean_score``, ``sd_score``, ``n_scored`` and ``n_unscored`` (respondents below
        ``min_answered``).
    items : pandas.DataFrame
        One row per item: ``construct``, ``reversed``, ``n``, ``mean`` (after reversal),
        ``sd``, ``loading`` (standardised), ``item_total_corr`` and ``alpha_if_deleted``.
    htmt : pandas.DataFrame
        Heterotrait-monotrait ratios between constructs (values below 0.85 usually read
        as discriminant validity).
    dyadic : pandas.DataFrame or None
        With sides: one row per relationship and construct (and ``rq_index``): the mean
        score of each side, ``gap`` (first side minus second) and ``abs_gap``.
    sides : tuple of str
        The two sides in the order of ``gap`` (empty without sides).
    n_respondents : int
        Respondents.
    n_index_missing : int
        Respondents without an index (a construct score missing).
    n_unpaired : int
        Relationships rated by one side only (their gap is ``NaN``).
    min_answered : float
        Minimum answered share of a construct's items for a score.
    nan_policy : str
        Missing-answer rule of the statistics.
    scale : (float, float)
        Scale bounds.

    Examples
    --------
    >>> from crmmodels.datasets import simulate_survey
    >>> sim = simulate_survey(60, seed=1)
    >>> res = relationship_quality(sim.survey, constructs=sim.constructs, reverse=sim.reverse)
    >>> list(res.reliability.index)
    ['trust', 'satisfaction', 'commitment']
    >>> res.scores.shape
    (120, 5)
    >>> ax = res.plot(kind="items")
    >>> type(ax).__name__
    'Axes'
    >>> import matplotlib.pyplot as plt
    >>> plt.close(ax.figure)
    """

    scores: pd.DataFrame
    reliability: pd.DataFrame
    items: pd.DataFrame
    htmt: pd.DataFrame
    dyadic: pd.DataFrame | None
    sides: tuple[str, ...]
    n_respondents: int
    n_index_missing: int
    n_unpaired: int
    min_answered: float
    nan_policy: str
    scale: tuple[float, float]

    def to_frame(self) -> pd.DataFrame:
        """Return the per-construct reliability table."""
        return self.reliability.copy()

    def largest_gaps(self, n: int = 10) -> pd.DataFrame:
        """Relationships with the largest absolute side gap (over the constructs).

        Returns one row per relationship: its gap on each construct (columns) and
        ``max_abs_gap``, sorted descending, ``n`` rows at most.
        """
        n = check_int(n, "n", low=1)
        if self.dyadic is None:
            raise DataError(
                "largest_gaps needs a survey with sides (side_col and relationship_col)."
            )
        d = self.dyadic[self.dyadic["construct"] != "rq_index"]
        wide = d.pivot(index="relationship", columns="construct", values="gap")
        wide = wide[[c for c in self.reliability.index if c in wide.columns]]
        wide.columns.name = None
        wide["max_abs_gap"] = wide.abs().max(axis=1)
        return wide.sort_values("max_abs_gap", ascending=False, kind="stable").head(n)

    def plot(self, ax: Axes | None = None, *, kind: str = "profile", **kwargs: Any) -> Axes:
        """Plot the result.

        Parameters
        ----------
        ax : matplotlib Axes, optional
            Where to draw.
        kind : {"profile", "items", "gap"}
            Construct profile (mean scores with intervals, per side), item diagnostics,
            or the dyadic gap chart.
        **kwargs
            Passed to the plotting function.
        """
        check_choice(kind, "kind", ("profile", "items", "gap"))
        from crmmodels.plotting import quality as pq

        if kind == "profile":
            return pq.plot_construct_profile(self, ax=ax, **kwargs)
        if kind == "items":
            return pq.plot_item_diagnostics(self, ax=ax, **kwargs)
        return pq.plot_dyadic_gaps(self, ax=ax, **kwargs)


def _resolve_constructs(
    constructs: Mapping[str, Sequence[str]] | None, columns: Sequence[str]
) -> dict[str, list[str]]:
    if constructs is None:
        found = {
            name: [c for c in columns if c.lower().startswith(name)] for name in DEFAULT_CONSTRUCTS
        }
        found = {k: v for k, v in found.items() if v}
        if not found:
            raise SchemaError(
                "survey: no constructs given and no column starts with "
                f"{list(DEFAULT_CONSTRUCTS)}. Pass constructs={{'trust': ['t1', 't2'], ...}}."
            )
        return found
    if not isinstance(constructs, Mapping) or not constructs:
        raise SchemaError("constructs must be a non-empty mapping: construct name -> item columns.")
    out: dict[str, list[str]] = {}
    owner: dict[str, str] = {}
    for name, items in constructs.items():
        if isinstance(items, str):
            raise SchemaError(
                f"construct '{name}': give a list of item columns, not the string {items!r}."
            )
        lst = [str(i) for i in items]
        for item in lst:
            if item in owner:
                where = "twice in" if owner[item] == name else f"in '{owner[item]}' and in"
                raise SchemaError(
                    f"item '{item}' is listed {where} construct '{name}'; "
                    "each item must measure exactly one construct."
                )
            owner[item] = str(name)
        out[str(name)] = lst
    return out


def _check_scale(scale: tuple[float, float]) -> tuple[float, float]:
    if isinstance(scale, (str, bytes)) or not isinstance(scale, Iterable):
        raise ArgumentError(f"scale must be (low, high); got {scale!r}.")
    bounds = tuple(scale)
    if len(bounds) != 2:
        raise ArgumentError(f"scale must be (low, high); got {scale!r}.")
    lo = check_number(bounds[0], "scale low")
    hi = check_number(bounds[1], "scale high")
    if not lo < hi:
        raise ArgumentError(f"scale must be (low, high) with low < high; got {scale!r}.")
    return lo, hi


def _check_sides(sides: pd.Series, side_col: str) -> None:
    """The side column of a dyadic survey holds exactly two values (nulls aside)."""
    labels = sorted({str(v) for v in sides.dropna()})
    if len(labels) != 2:
        raise ArgumentError(
            f"side_col: column '{side_col}' must hold exactly two sides of a dyad (e.g. "
            f"customer and company); found {len(labels)}: {labels[:5]}. Pass a side_col "
            "with two values, or no side_col for a one-sided survey."
        )


def _check_answers(
    x: FloatArray, cols: Sequence[str], ids: npt.NDArray[Any], id_name: str, lo: float, hi: float
) -> None:
    bad = ~np.isnan(x) & ((x < lo) | (x > hi))
    if bad.any():
        j = int(np.where(bad.any(axis=0))[0][0])
        rows = np.where(bad[:, j])[0]
        example = f"{id_name}={python_scalar(ids[rows[0]])!r}: {python_scalar(x[rows[0], j])!r}"
        raise DataError(
            "survey: "
            + bad_rows_message(
                cols[j],
                f"is outside the scale [{lo:g}, {hi:g}]",
                int(rows.size),
                example,
                "Pass the survey's scale=(low, high) or fix the answers.",
            )
        )


def _weights(weights: Mapping[str, float] | None, names: Sequence[str]) -> FloatArray:
    if weights is None:
        return np.full(len(names), 1.0 / len(names))
    unknown = [k for k in weights if k not in names]
    if unknown:
        raise SchemaError(f"weights name unknown constructs {unknown}; constructs: {list(names)}.")
    if not isinstance(weights, Mapping):
        raise ArgumentError(
            f"weights must be a mapping of construct name to weight; got {weights!r}."
        )
    w = np.array([check_number(weights.get(c, 0.0), f"weights[{c!r}]", low=0.0) for c in names])
    if (w < 0).any() or not np.isfinite(w).all() or w.sum() <= 0:
        raise DataError(f"weights must be non-negative with a positive sum; got {dict(weights)}.")
    return np.asarray(w / w.sum(), dtype=np.float64)


def relationship_quality(
    survey: Any,
    *,
    constructs: Mapping[str, Sequence[str]] | None = None,
    scale: tuple[float, float] = (1, 7),
    reverse: Sequence[str] = (),
    weights: Mapping[str, float] | None = None,
    respondent_col: str | None = None,
    side_col: str | None = None,
    relationship_col: str | None = None,
    min_answered: float = 0.5,
    nan_policy: NanPolicy = "pairwise",
    ci: float = 0.95,
) -> RelationshipQualityResult:
    r"""Score relationship quality and check its measurement (reliability and validity).

    Parameters
    ----------
    survey : DataFrame-like
        One row per respondent and one numeric column per item (any engine; null is a
        missing answer).
    constructs : mapping, optional
        Construct name -> item columns (any names). Default: the columns whose names
        start with ``trust``, ``satisfaction`` and ``commitment``.
    scale : (low, high)
        Scale bounds; answers outside raise :class:`DataError`.
    reverse : sequence of str
        Reverse-coded items (turned around as ``low + high - x``).
    weights : mapping, optional
        Construct weights of the index (default equal; normalised to sum to one). A
        construct left out of the mapping gets weight 0 (it is scored but does not enter
        the index).
    respondent_col : str, optional
        Respondent id column (default: row number ``respondent`` from 0).
    side_col, relationship_col : str, optional
        Rater side (exactly two values, e.g. customer and company) and the relationship
        both sides rate; give both for the dyadic view. Gaps are the first side minus
        the second, with ``("customer", "company")`` when both labels occur, otherwise
        the two labels in sorted order.
    min_answered : float
        Minimum share (0, 1] of a construct's items a respondent must answer to get a
        score on it (default 0.5).
    nan_policy : {"pairwise", "listwise"}
        Missing answers in the statistics (see :func:`cronbach_alpha`).
    ci : float
        Confidence level of alpha's interval.

    Returns
    -------
    RelationshipQualityResult

    Raises
    ------
    SchemaError
        Unknown item columns, an item in two constructs, a construct with fewer than two
        items, non-numeric answers, unknown reverse items or weights, a side column
        without a relationship column.
    DataError
        Answers outside the scale, null sides, weights with a zero sum.
        :class:`~crmmodels.errors.ArgumentError` (a ``DataError``) for a ``side_col``
        without exactly two values, or a bad ``scale``, ``min_answered``,
        ``nan_policy``, ``ci``, weight or column-name argument.

    Notes
    -----
    Score of respondent :math:`i` on construct :math:`c` with answered items
    :math:`A_{ic} \subseteq I_c`:
    :math:`s_{ic} = |A_{ic}|^{-1} \sum_{j \in A_{ic}} x'_{ij}` when
    :math:`|A_{ic}| \ge \text{min\_answered}\,|I_c|`; index
    :math:`RQ_i = \sum_c w_c s_{ic}`. Omega, composite reliability and AVE use the
    standardised loadings of a one-factor minimum-residual fit per construct
    (:func:`crmmodels.kernels.reliability.one_factor`).

    References
    ----------
    Hennig-Thurau, T. & Klee, A. (1997). The impact of customer satisfaction and
    relationship quality on customer retention. Psychology & Marketing 14(8).
    Henseler, J., Ringle, C. M. & Sarstedt, M. (2015). A new criterion for assessing
    discriminant validity in variance-based SEM. JAMS 43, 115-135.

    Examples
    --------
    >>> from crmmodels.datasets._survey import simulate_survey
    >>> sim = simulate_survey(100, seed=3)
    >>> res = relationship_quality(sim.survey, constructs=sim.constructs,
    ...                            reverse=sim.reverse, respondent_col="respondent_id",
    ...                            side_col="side", relationship_col="relationship_id")
    >>> res.reliability["alpha"].round(2).tolist()
    [0.87, 0.83, 0.85]
    >>> res.sides
    ('customer', 'company')
    """
    _check_policy(nan_policy)
    _check_level(ci)
    lo, hi = _check_scale(scale)
    check_number(min_answered, "min_answered", low=0.0, high=1.0, low_open=True)
    for arg, name in (
        ("respondent_col", respondent_col),
        ("side_col", side_col),
        ("relationship_col", relationship_col),
    ):
        if name is not None:
            check_column_name(name, arg)
    frame_nw = to_narwhals(survey, what="survey")
    available = list(frame_nw.collect_schema().names())
    cmap = _resolve_constructs(constructs, available)
    names = list(cmap)
    for name, items in cmap.items():
        if len(items) < 2:
            raise SchemaError(
                f"construct '{name}' has {len(items)} item(s) {items}; reliability "
                "(alpha, item-total correlations, HTMT) needs at least two items per construct."
            )
    all_items = [i for items in cmap.values() for i in items]
    if side_col is not None and relationship_col is None:
        raise SchemaError("side_col needs relationship_col: the id pairing the two sides.")
    id_cols = [c for c in (respondent_col, side_col, relationship_col) if c is not None]
    check_columns(frame_nw, id_cols + all_items, what="survey")
    unknown_rev = [r for r in reverse if r not in all_items]
    if isinstance(reverse, str) or unknown_rev:
        bad = [reverse] if isinstance(reverse, str) else unknown_rev
        raise SchemaError(
            f"reverse items {bad} are not items of any construct; items: {all_items}."
        )
    w = _weights(weights, names)
    frame = to_pandas(frame_nw.select(list(dict.fromkeys(id_cols + all_items))))
    x = _numeric_matrix(frame, all_items, "survey")
    id_name = respondent_col or "row"
    ids = frame[respondent_col].to_numpy() if respondent_col else np.arange(len(frame))
    _check_answers(x, all_items, ids, id_name, lo, hi)
    if side_col is not None:
        _check_sides(frame[side_col], side_col)
    if len(frame) < 2:
        raise DataError(f"survey needs at least two respondents; got {len(frame)}.")
    rev = np.isin(np.array(all_items), np.array(list(reverse), dtype=object))
    x[:, rev] = lo + hi - x[:, rev]

    groups = np.concatenate([np.full(len(cmap[c]), k) for k, c in enumerate(names)])
    answered = ~np.isnan(x)
    score_cols: dict[str, FloatArray] = {}
    rel_rows: list[dict[str, Any]] = []
    item_rows: list[pd.DataFrame] = []
    for k, c in enumerate(names):
        sel = groups == k
        xc = x[:, sel]
        n_ans = answered[:, sel].sum(axis=1)
        ok = n_ans >= min_answered * sel.sum() - 1e-12
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.nansum(xc, axis=1) / n_ans
        score = np.where(ok & (n_ans > 0), mean, np.nan)
        score_cols[c] = score
        st = _scale_stats(xc, nan_policy, ci)
        corr = kr.cov_to_corr(st.cov)
        fit = kr.one_factor(corr)
        cr, ave = kr.composite_reliability(fit.loadings)
        rel_rows.append(
            {
                "construct": c,
                "n_items": int(sel.sum()),
                "n": st.usable,
                "alpha": st.alpha,
                "alpha_ci_low": st.ci[0],
                "alpha_ci_high": st.ci[1],
                "omega": kr.omega_total(fit.loadings, st.cov),
                "composite_reliability": cr,
                "ave": ave,
                "rmsr": fit.rmsr,
                "heywood": fit.heywood,
                "weight": float(w[k]),
                "mean_score": _col_means(score[:, None])[0],
                "sd_score": _col_sd(score),
                "n_scored": int(np.isfinite(score).sum()),
                "n_unscored": int((~np.isfinite(score)).sum()),
            }
        )
        item_rows.append(
            pd.DataFrame(
                {
                    "construct": c,
                    "reversed": rev[sel],
                    "n": answered[:, sel].sum(axis=0),
                    "mean": _col_means(xc),
                    "sd": np.sqrt(np.diag(st.cov)),
                    "loading": fit.loadings,
                    "item_total_corr": st.item_total,
                    "alpha_if_deleted": st.if_deleted,
                },
                index=pd.Index(cmap[c], name="item"),
            )
        )
    reliability = pd.DataFrame(rel_rows).set_index("construct")
    items_tab = pd.concat(item_rows)

    full_cov, _ = kr.covariance(x, nan_policy)
    ht = kr.htmt(kr.cov_to_corr(full_cov), groups.astype(np.intp), len(names))
    htmt_tab = pd.DataFrame(ht, index=pd.Index(names, name="construct"), columns=names)

    smat = np.column_stack([score_cols[c] for c in names])
    index = smat @ w  # NaN propagates when any construct score is missing
    scores = pd.DataFrame({(respondent_col or "respondent"): ids})
    for c in id_cols:
        if c != respondent_col:
            scores[c] = frame[c].to_numpy()
    for c in names:
        scores[c] = score_cols[c]
    scores["rq_index"] = index

    dyadic: pd.DataFrame | None = None
    sides: tuple[str, ...] = ()
    n_unpaired = 0
    if side_col is not None and relationship_col is not None:
        dyadic, sides, n_unpaired = _dyadic(scores, names, side_col, relationship_col)
    return RelationshipQualityResult(
        scores=scores,
        reliability=reliability,
        items=items_tab,
        htmt=htmt_tab,
        dyadic=dyadic,
        sides=sides,
        n_respondents=len(scores),
        n_index_missing=int(np.isnan(index).sum()),
        n_unpaired=n_unpaired,
        min_answered=float(min_answered),
        nan_policy=nan_policy,
        scale=(lo, hi),
    )


def _dyadic(
    scores: pd.DataFrame, names: Sequence[str], side_col: str, relationship_col: str
) -> tuple[pd.DataFrame, tuple[str, ...], int]:
    side_vals = scores[side_col]
    if side_vals.isna().any():
        n = int(side_vals.isna().sum())
        raise DataError("survey: " + bad_rows_message(side_col, "is null", n, "null"))
    labels = sorted({str(v) for v in side_vals})
    if len(labels) != 2:
        raise DataError(
            f"survey: column '{side_col}' must hold exactly two sides (e.g. customer and "
            f"company); found {len(labels)}: {labels[:5]}."
        )
    sides: tuple[str, ...] = (
        ("customer", "company") if set(labels) == {"customer", "company"} else tuple(labels)
    )
    cols = [*names, "rq_index"]
    tmp = scores[[relationship_col, *cols]].copy()
    tmp["__side"] = side_vals.astype(str).to_numpy()
    means = tmp.groupby([relationship_col, "__side"], sort=True)[cols].mean().reset_index()
    long = means.melt(
        id_vars=[relationship_col, "__side"],
        value_vars=cols,
        var_name="construct",
        value_name="score",
    )
    wide = long.pivot_table(
        index=[relationship_col, "construct"], columns="__side", values="score", dropna=False
    )
    wide = wide.reindex(columns=list(sides))
    wide.columns.name = None
    wide = wide.reset_index().rename(columns={relationship_col: "relationship"})
    order = {c: i for i, c in enumerate(cols)}
    wide = wide.sort_values(
        ["relationship", "construct"], key=lambda s: s.map(order) if s.name == "construct" else s
    ).reset_index(drop=True)
    wide["gap"] = wide[sides[0]] - wide[sides[1]]
    wide["abs_gap"] = wide["gap"].abs()
    per_rel = tmp.groupby(relationship_col)["__side"].nunique()
    return wide, sides, int((per_rel < 2).sum())
