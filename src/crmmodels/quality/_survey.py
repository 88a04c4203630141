"""Reading a relationship-quality survey: arguments, constructs, answers and reversal."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmmodels._ingest.arguments import check_column_name, check_number
from crmmodels._ingest.frames import check_columns, python_scalar, to_narwhals, to_pandas
from crmmodels.errors import ArgumentError, DataError, SchemaError, bad_rows_message
from crmmodels.quality._items import FloatArray, _numeric_matrix

#: Construct names looked up by prefix when ``constructs`` is not given.
DEFAULT_CONSTRUCTS: tuple[str, ...] = ("trust", "satisfaction", "commitment")


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


@dataclass(frozen=True)
class _Survey:
    """The checked answers: one row per respondent, items grouped by construct."""

    frame: pd.DataFrame  # the id and item columns, collected
    x: FloatArray  # answers, reverse-coded items already turned around
    constructs: dict[str, list[str]]
    items: list[str]  # every item, construct by construct
    groups: npt.NDArray[np.intp]  # construct index of each item
    reversed: npt.NDArray[np.bool_]  # whether each item was reverse-coded
    ids: npt.NDArray[Any]  # respondent ids (row numbers without respondent_col)
    id_cols: list[str]


def _check_id_columns(
    respondent_col: str | None, side_col: str | None, relationship_col: str | None
) -> list[str]:
    """The id-column arguments given, checked; a side needs the relationship it rates."""
    for arg, name in (
        ("respondent_col", respondent_col),
        ("side_col", side_col),
        ("relationship_col", relationship_col),
    ):
        if name is not None:
            check_column_name(name, arg)
    if side_col is not None and relationship_col is None:
        raise SchemaError("side_col needs relationship_col: the id pairing the two sides.")
    return [c for c in (respondent_col, side_col, relationship_col) if c is not None]


def _check_construct_sizes(cmap: Mapping[str, Sequence[str]]) -> None:
    for name, items in cmap.items():
        if len(items) < 2:
            raise SchemaError(
                f"construct '{name}' has {len(items)} item(s) {list(items)}; reliability "
                "(alpha, item-total correlations, HTMT) needs at least two items per construct."
            )


def _check_reverse(reverse: Sequence[str], all_items: Sequence[str]) -> None:
    unknown = [r for r in reverse if r not in all_items]
    if isinstance(reverse, str) or unknown:
        bad = [reverse] if isinstance(reverse, str) else unknown
        raise SchemaError(
            f"reverse items {bad} are not items of any construct; items: {list(all_items)}."
        )


def _read_survey(
    survey: Any,
    *,
    constructs: Mapping[str, Sequence[str]] | None,
    scale: tuple[float, float],
    reverse: Sequence[str],
    respondent_col: str | None,
    side_col: str | None,
    relationship_col: str | None,
) -> _Survey:
    """Check the survey's columns and answers and turn the reverse-coded items around."""
    lo, hi = scale
    id_cols = _check_id_columns(respondent_col, side_col, relationship_col)
    frame_nw = to_narwhals(survey, what="survey")
    cmap = _resolve_constructs(constructs, list(frame_nw.collect_schema().names()))
    _check_construct_sizes(cmap)
    all_items = [i for items in cmap.values() for i in items]
    check_columns(frame_nw, id_cols + all_items, what="survey")
    _check_reverse(reverse, all_items)
    frame = to_pandas(frame_nw.select(list(dict.fromkeys(id_cols + all_items))))
    x = _numeric_matrix(frame, all_items, "survey")
    ids = frame[respondent_col].to_numpy() if respondent_col else np.arange(len(frame))
    _check_answers(x, all_items, ids, respondent_col or "row", lo, hi)
    if side_col is not None:
        _check_sides(frame[side_col], side_col)
    if len(frame) < 2:
        raise DataError(f"survey needs at least two respondents; got {len(frame)}.")
    rev = np.isin(np.array(all_items), np.array(list(reverse), dtype=object))
    x[:, rev] = lo + hi - x[:, rev]
    groups = np.concatenate([np.full(len(items), k) for k, items in enumerate(cmap.values())])
    return _Survey(
        frame=frame,
        x=x,
        constructs=cmap,
        items=all_items,
        groups=groups.astype(np.intp),
        reversed=rev,
        ids=ids,
        id_cols=id_cols,
    )
