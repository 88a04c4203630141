"""RFM scores and rule-based RFM segments of a customer summary."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from crmmodels._ingest.arguments import check_column_name, check_int, validation_message
from crmmodels._ingest.frames import (
    check_columns,
    like_input,
    python_scalar,
    to_narwhals,
    to_pandas,
)
from crmmodels._ingest.renames import renamed_arguments
from crmmodels.errors import ArgumentError, DataError, SchemaError, bad_rows_message


def quantile_scores(
    values: np.ndarray[Any, np.dtype[np.float64]], bins: int
) -> np.ndarray[Any, np.dtype[np.int64]]:
    """Score 1..bins by quantile of the min-rank; ties share the lower score."""
    n = values.size
    order = np.argsort(values, kind="stable")
    sorted_vals = values[order]
    # min-rank (0-based) of each value: position of the first equal value, found on the
    # sorted values (a run of equal values shares its first position) and put back in
    # place, instead of one binary search per value
    starts = np.empty(n, dtype=bool)
    starts[:1] = True
    np.not_equal(sorted_vals[1:], sorted_vals[:-1], out=starts[1:])
    del sorted_vals
    first_sorted = np.arange(n)
    first_sorted[~starts] = 0
    np.maximum.accumulate(first_sorted, out=first_sorted)
    first_pos = np.empty(n, dtype=np.int64)
    first_pos[order] = first_sorted
    del order, first_sorted
    first_pos *= bins
    first_pos //= n
    first_pos += 1
    return first_pos


def _score_codes(scores: list[np.ndarray[Any, np.dtype[np.int64]]]) -> Any:
    """The scores written side by side ("534"), as text, from a table of the combinations.

    Scores are single digits (``bins <= 9``): the code of a row is looked up among the
    at most 9**3 combinations instead of formatting every row.
    """
    key = np.zeros(scores[0].size, dtype=np.int64)
    for sc in scores:
        key = key * 10 + sc
    table = pd.array([str(k).zfill(len(scores)) for k in range(10 ** len(scores))], dtype="str")
    return table.take(key)


def _check_summary_values(
    df: pd.DataFrame,
    customer_col: str,
    frequency_col: str,
    recency_col: str,
    T_col: str,
) -> None:
    """A customer summary's values: finite; frequency, recency and T >= 0; recency <= T."""
    values = {c: df[c].to_numpy(dtype=np.float64) for c in df.columns if c != customer_col}
    recency, age = values[recency_col], values[T_col]
    checks: list[tuple[str, str, np.ndarray[Any, np.dtype[np.bool_]], str]] = [
        (c, "is infinite", np.isinf(v), "Summary values must be finite.") for c, v in values.items()
    ]
    checks += [
        (c, "is negative", values[c] < 0, "Pass the output of summarize_transactions.")
        for c in (frequency_col, recency_col, T_col)
    ]
    checks.append(
        (
            recency_col,
            f"is greater than '{T_col}' (a last purchase after the end of observation)",
            recency > age,
            f"Recency is the age at the last purchase, at most the customer's age '{T_col}'.",
        )
    )
    for col, problem, bad, fix in checks:
        if bad.any():
            first = df[customer_col].to_numpy()[np.argmax(bad)]
            example = f"{customer_col}={python_scalar(first)!r}"
            raise DataError(
                "summary: " + bad_rows_message(col, problem, int(bad.sum()), example, fix)
            )


@renamed_arguments(monetary_col="monetary_value_col")
def rfm_scores(
    summary: Any,
    bins: int = 5,
    *,
    customer_col: str = "customer_id",
    frequency_col: str = "frequency",
    recency_col: str = "recency",
    T_col: str = "T",
    monetary_value_col: str | None = "monetary_value",
) -> Any:
    """Quantile RFM scores (1 = worst, ``bins`` = best) from a customer summary.

    Parameters
    ----------
    summary : DataFrame-like
        Output of :func:`summarize_transactions` (any engine). Values must be finite,
        ``frequency``, ``recency`` and ``T`` non-negative and ``recency <= T``; anything
        else raises :class:`~crmmodels.errors.DataError` (with the count and the first
        customer).
    bins : int, default 5
        Number of score levels (2 to 9).
    customer_col, frequency_col, recency_col, T_col, monetary_value_col : str
        Column names. Pass ``monetary_value_col=None`` for R and F only.

    Returns
    -------
    DataFrame-like
        One row per customer, in the caller's frame kind (pandas in, pandas out; polars
        in, polars out; lazy stays lazy): ``customer_col``, ``time_since_last``
        (``T - recency``, in the unit of the summary's ``recency`` and ``T``: days by
        default, weeks for a summary made with ``time_unit="W"``), ``r_score``,
        ``f_score``, ``m_score`` (with monetary) and ``rfm`` (e.g. ``"545"``).

    Notes
    -----
    Recency is scored on the time since the last purchase (more recent is better),
    frequency on repeat purchases, monetary on the mean repeat value. Scores come from
    the *minimum rank* of each value: ``score = 1 + floor(bins * (rank_min - 1) / n)``,
    so equal values always share a score (the lower one) and the result does not depend
    on row order.

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.DataFrame({"customer_id": [1, 2, 3, 4], "frequency": [0, 1, 3, 3],
    ...                   "recency": [0.0, 5.0, 20.0, 28.0], "T": [30.0, 30.0, 30.0, 30.0],
    ...                   "monetary_value": [0.0, 10.0, 30.0, 20.0]})
    >>> rfm_scores(s, bins=4)[["customer_id", "r_score", "f_score", "m_score", "rfm"]]
       customer_id  r_score  f_score  m_score  rfm
    0            1        1        1        1  111
    1            2        2        2        2  222
    2            3        3        3        4  334
    3            4        4        3        3  433
    """
    bins = check_int(bins, "bins", low=2, high=9)
    cols = [customer_col, frequency_col, recency_col, T_col]
    for arg, name in zip(
        ("customer_col", "frequency_col", "recency_col", "T_col"), cols, strict=True
    ):
        check_column_name(name, arg)
    if monetary_value_col is not None:
        check_column_name(monetary_value_col, "monetary_value_col")
    frame = to_narwhals(summary, what="summary")
    if monetary_value_col:
        cols.append(monetary_value_col)
    check_columns(frame, cols, what="summary")
    df = to_pandas(frame.select(cols))
    if df.empty:
        raise DataError("summary is empty: no customers to score.")
    for c in cols[1:]:
        if not pd.api.types.is_numeric_dtype(df[c]):
            raise SchemaError(f"summary: column '{c}' must be numeric; its type is {df[c].dtype}.")
        bad = df[c].isna()
        if bad.any():
            raise DataError(
                "summary: "
                + bad_rows_message(c, "is null", int(bad.sum()), df.loc[bad, customer_col].iloc[0])
            )
    _check_summary_values(df, customer_col, frequency_col, recency_col, T_col)
    since = (df[T_col] - df[recency_col]).to_numpy(dtype=float)
    out = pd.DataFrame({customer_col: df[customer_col].to_numpy(), "time_since_last": since})
    out["r_score"] = quantile_scores(-since, bins)
    out["f_score"] = quantile_scores(df[frequency_col].to_numpy(dtype=float), bins)
    if monetary_value_col:
        out["m_score"] = quantile_scores(df[monetary_value_col].to_numpy(dtype=float), bins)
    score_cols = ["r_score", "f_score"] + (["m_score"] if monetary_value_col else [])
    out["rfm"] = _score_codes([out[c].to_numpy() for c in score_cols])
    return like_input(frame, out)


class RFMRule(BaseModel):
    """One named RFM segment: inclusive score ranges on R, F and (optionally) M.

    Examples
    --------
    >>> RFMRule(segment="champions", r=(4, 5), f=(4, 5)).segment
    'champions'
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    segment: str = Field(min_length=1)
    r: tuple[int, int] = (1, 9)
    f: tuple[int, int] = (1, 9)
    m: tuple[int, int] = (1, 9)

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise ArgumentError(
                validation_message(exc, f"RFMRule (segment {data.get('segment', '?')!r})")
                + " Give segment (text) and inclusive score ranges r, f, m as (low, high) "
                "with 1 <= low <= high."
            ) from None

    @model_validator(mode="after")
    def _ranges(self) -> RFMRule:
        for name in ("r", "f", "m"):
            lo, hi = getattr(self, name)
            if lo > hi or lo < 1:
                raise ValueError(f"rule '{self.segment}': range {name}={lo, hi} is empty or < 1")
        return self


#: Default segment table for 5 bins (first matching rule wins). A customer who bought
#: once recently is "new", never "hibernating" or "lost".
DEFAULT_RFM_RULES: tuple[RFMRule, ...] = (
    RFMRule(segment="champions", r=(5, 5), f=(4, 5)),
    RFMRule(segment="loyal", r=(3, 5), f=(4, 5)),
    RFMRule(segment="new", r=(4, 5), f=(1, 1)),
    RFMRule(segment="potential_loyalist", r=(4, 5), f=(2, 3)),
    RFMRule(segment="promising", r=(3, 3), f=(1, 1)),
    RFMRule(segment="need_attention", r=(3, 3), f=(2, 3)),
    RFMRule(segment="cannot_lose", r=(1, 1), f=(5, 5)),
    RFMRule(segment="at_risk", r=(1, 2), f=(3, 5)),
    RFMRule(segment="about_to_sleep", r=(2, 2), f=(1, 2)),
    RFMRule(segment="hibernating", r=(1, 1), f=(2, 2)),
    RFMRule(segment="lost", r=(1, 1), f=(1, 1)),
)


def _rfm_rule(i: int, rule: Any) -> RFMRule:
    """One entry of ``rules`` as an :class:`RFMRule`; :class:`ArgumentError` naming it."""
    if isinstance(rule, RFMRule):
        return rule
    if not isinstance(rule, Mapping):
        raise ArgumentError(
            f"rules[{i}] must be an RFMRule or a dict of its fields (segment, r, f, m); "
            f"got {rule!r}."
        )
    try:
        return RFMRule(**{str(k): v for k, v in rule.items()})
    except ArgumentError as exc:
        raise ArgumentError(f"rules[{i}]: {exc}") from None


def rfm_segments(
    scores: Any,
    rules: Sequence[RFMRule | dict[str, Any]] | None = None,
    *,
    default: str = "other",
) -> Any:
    """Name RFM segments from scores with an ordered rule table (first match wins).

    Parameters
    ----------
    scores : DataFrame-like
        Output of :func:`rfm_scores` (any engine).
    rules : sequence of RFMRule or dict, optional
        Ordered rules; None (the default) means :data:`DEFAULT_RFM_RULES` (for 5 bins).
        An empty sequence is an error.
    default : str, default "other"
        Segment of customers no rule matches.

    Returns
    -------
    DataFrame-like
        ``scores`` plus a ``segment`` column, in the caller's frame kind (a new frame;
        the input is not modified).

    Raises
    ------
    ArgumentError
        Empty ``rules``, a rule that is not valid (named by its position and segment,
        with the field at fault) or a segment defined twice.
    SchemaError
        ``scores`` lacks ``r_score`` / ``f_score`` or holds non-numeric scores.
    DataError
        Missing (null or NaN) scores, counted, with the first row.

    Examples
    --------
    >>> import pandas as pd
    >>> sc = pd.DataFrame({"customer_id": [1, 2, 3], "r_score": [5, 1, 5],
    ...                    "f_score": [5, 1, 1], "m_score": [5, 1, 2]})
    >>> rfm_segments(sc)["segment"].tolist()
    ['champions', 'lost', 'new']
    """
    if rules is None:
        table = list(DEFAULT_RFM_RULES)
    elif isinstance(rules, (str, bytes, Mapping, RFMRule)) or not isinstance(rules, Sequence):
        raise ArgumentError(
            f"rules must be a list of RFMRule (or dicts with their fields); got {rules!r}."
        )
    else:
        table = [_rfm_rule(i, rule) for i, rule in enumerate(rules)]
    if not table:
        raise ArgumentError(
            "rules is empty: give at least one RFMRule, or rules=None for DEFAULT_RFM_RULES."
        )
    if not isinstance(default, str):
        raise ArgumentError(f"default must be a segment name (text); got {default!r}.")
    names = [r.segment for r in table]
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise ArgumentError(f"rules: segment '{dup}' is defined twice.")
    frame = to_narwhals(scores, what="scores")
    scores = to_pandas(frame)
    needed = ["r_score", "f_score"] + (["m_score"] if "m_score" in scores.columns else [])
    missing = [c for c in ("r_score", "f_score") if c not in scores.columns]
    if missing:
        raise SchemaError(f"scores has no column '{missing[0]}'; pass the output of rfm_scores.")
    for col in needed:
        values = scores[col]
        if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
            raise SchemaError(
                f"scores: column '{col}' must hold numeric scores; its type is {values.dtype}."
            )
        bad = values.isna().to_numpy()
        if bad.any():
            first = scores.index[int(np.argmax(bad))]
            raise DataError(
                "scores: "
                + bad_rows_message(
                    col,
                    "is missing",
                    int(bad.sum()),
                    f"row {python_scalar(first)!r}",
                    "Every customer needs a score; pass the output of rfm_scores.",
                )
            )
    r = scores["r_score"].to_numpy()
    f = scores["f_score"].to_numpy()
    m = scores["m_score"].to_numpy() if "m_score" in needed else None
    conds = []
    for rule in table:
        c = (r >= rule.r[0]) & (r <= rule.r[1]) & (f >= rule.f[0]) & (f <= rule.f[1])
        if m is not None:
            c &= (m >= rule.m[0]) & (m <= rule.m[1])
        conds.append(c)
    out = scores.copy()
    # the rule number of each row, then its name from the table (no text built per row)
    which = np.select(conds, list(range(len(names))), default=len(names))
    out["segment"] = pd.array([*names, default], dtype="str").take(which)
    return like_input(frame, out)
