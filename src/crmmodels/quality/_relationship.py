"""Relationship quality (:func:`relationship_quality`): score, measure, compare the sides."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from crmmodels._ingest.arguments import check_number
from crmmodels.errors import DataError, bad_rows_message
from crmmodels.kernels import quality as kr
from crmmodels.quality._items import (
    FloatArray,
    NanPolicy,
    _check_level,
    _check_policy,
    _col_means,
    _col_sd,
    _scale_stats,
)
from crmmodels.quality._result import RelationshipQualityResult
from crmmodels.quality._survey import _check_scale, _read_survey, _Survey, _weights


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
    (:func:`crmmodels.kernels.quality.one_factor`).

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
    data = _read_survey(
        survey,
        constructs=constructs,
        scale=(lo, hi),
        reverse=reverse,
        respondent_col=respondent_col,
        side_col=side_col,
        relationship_col=relationship_col,
    )
    names = list(data.constructs)
    w = _weights(weights, names)
    parts = [
        _measure_construct(data, k, float(w[k]), float(min_answered), nan_policy, ci)
        for k in range(len(names))
    ]
    scores = _scores_frame(data, parts, w, respondent_col)
    dyadic: pd.DataFrame | None = None
    sides: tuple[str, ...] = ()
    n_unpaired = 0
    if side_col is not None and relationship_col is not None:
        dyadic, sides, n_unpaired = _dyadic(scores, names, side_col, relationship_col)
    return RelationshipQualityResult(
        scores=scores,
        reliability=pd.DataFrame([p.reliability for p in parts]).set_index("construct"),
        items=pd.concat([p.items for p in parts]),
        htmt=_htmt_table(data, nan_policy),
        dyadic=dyadic,
        sides=sides,
        n_respondents=len(scores),
        n_index_missing=int(scores["rq_index"].isna().sum()),
        n_unpaired=n_unpaired,
        min_answered=float(min_answered),
        nan_policy=nan_policy,
        scale=(lo, hi),
    )


@dataclass(frozen=True)
class _Construct:
    """One construct measured: its scores, its reliability row and its item rows."""

    name: str
    score: FloatArray
    reliability: dict[str, Any]
    items: pd.DataFrame


def _construct_scores(x: FloatArray, answered: FloatArray, min_answered: float) -> FloatArray:
    """Mean of each respondent's answered items, or NaN below ``min_answered`` of them."""
    n_ans = answered.sum(axis=1)
    ok = n_ans >= min_answered * x.shape[1] - 1e-12
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.nansum(x, axis=1) / n_ans
    return np.asarray(np.where(ok & (n_ans > 0), mean, np.nan), dtype=np.float64)


def _measure_construct(
    data: _Survey, k: int, weight: float, min_answered: float, nan_policy: NanPolicy, ci: float
) -> _Construct:
    """Scores, reliability (alpha, omega, CR, AVE) and item diagnostics of construct ``k``."""
    name = list(data.constructs)[k]
    sel = data.groups == k
    xc = data.x[:, sel]
    answered = ~np.isnan(xc)
    score = _construct_scores(xc, answered, min_answered)
    st = _scale_stats(xc, nan_policy, ci)
    fit = kr.one_factor(kr.cov_to_corr(st.cov))
    cr, ave = kr.composite_reliability(fit.loadings)
    reliability = {
        "construct": name,
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
        "weight": weight,
        "mean_score": _col_means(score[:, None])[0],
        "sd_score": _col_sd(score),
        "n_scored": int(np.isfinite(score).sum()),
        "n_unscored": int((~np.isfinite(score)).sum()),
    }
    items = pd.DataFrame(
        {
            "construct": name,
            "reversed": data.reversed[sel],
            "n": answered.sum(axis=0),
            "mean": _col_means(xc),
            "sd": np.sqrt(np.diag(st.cov)),
            "loading": fit.loadings,
            "item_total_corr": st.item_total,
            "alpha_if_deleted": st.if_deleted,
        },
        index=pd.Index(data.constructs[name], name="item"),
    )
    return _Construct(name=name, score=score, reliability=reliability, items=items)


def _htmt_table(data: _Survey, nan_policy: NanPolicy) -> pd.DataFrame:
    """Heterotrait-monotrait ratios between the constructs, from every item's covariance."""
    names = list(data.constructs)
    full_cov, _ = kr.covariance(data.x, nan_policy)
    ht = kr.htmt(kr.cov_to_corr(full_cov), data.groups, len(names))
    return pd.DataFrame(ht, index=pd.Index(names, name="construct"), columns=names)


def _scores_frame(
    data: _Survey, parts: Sequence[_Construct], w: FloatArray, respondent_col: str | None
) -> pd.DataFrame:
    """One row per respondent: ids, a score per construct and the weighted ``rq_index``."""
    scores = pd.DataFrame({(respondent_col or "respondent"): data.ids})
    for c in data.id_cols:
        if c != respondent_col:
            scores[c] = data.frame[c].to_numpy()
    for p in parts:
        scores[p.name] = p.score
    # NaN propagates when any construct score is missing
    scores["rq_index"] = np.column_stack([p.score for p in parts]) @ w
    return scores


def _dyadic(
    scores: pd.DataFrame, names: Sequence[str], side_col: str, relationship_col: str
) -> tuple[pd.DataFrame, tuple[str, ...], int]:
    side_vals = scores[side_col]
    if side_vals.isna().any():
        n = int(side_vals.isna().sum())
        raise DataError("survey: " + bad_rows_message(side_col, "is null", n, "null"))
    labels = sorted({str(v) for v in side_vals})  # two: checked when the survey was read
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
