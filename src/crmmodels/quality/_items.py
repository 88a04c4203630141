"""Item answers as a numeric matrix and the scale statistics shared by every construct."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmmodels._ingest.arguments import check_choice, check_level
from crmmodels._ingest.frames import python_scalar, to_narwhals, to_pandas
from crmmodels.errors import DataError, SchemaError
from crmmodels.kernels import quality as kr

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
