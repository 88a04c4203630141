"""Identify, probabilistic step 1: comparison levels, blocking passes and random pairs.

A :class:`Comparison` names a field (one column, or several joined) and how two values
of it are compared. Each compared pair of records gets one *level* per field: ``0``
different, ``1..k`` close (one level per threshold, closer levels higher), ``k + 1``
exact, and ``-1`` when either value is missing. The levels feed the Fellegi-Sunter model
of :mod:`crmmodels.kernels.identity`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmmodels._ingest.arguments import check_choice, check_column_name
from crmmodels.errors import ArgumentError
from crmmodels.idic._identity_keys import _join_parts
from crmmodels.idic._normalize import normalize_email, normalize_name, normalize_phone
from crmmodels.kernels.identity import within_block_pairs

__all__ = ["Comparison"]

IntArray = npt.NDArray[np.int64]

_METHODS = ("jaro_winkler", "levenshtein", "exact")
_DEFAULT_THRESHOLDS: dict[str, tuple[float, ...]] = {
    "jaro_winkler": (0.8, 0.92),
    "levenshtein": (2.0, 1.0),
    "exact": (),
}


@dataclass(frozen=True)
class Comparison:
    """How one field of two records is compared, as ordered comparison levels.

    Parameters
    ----------
    column : str or tuple of str
        The column compared; several columns are normalised and joined with spaces
        (e.g. street number and street name).
    method : {"jaro_winkler", "levenshtein", "exact"}
        ``"jaro_winkler"``: similarity of the normalised text (names, towns);
        ``"levenshtein"``: edit distance of the normalised value without spaces
        (identity numbers, dates of birth, postcodes: catches typos and transposed
        digits); ``"exact"``: equal or different.
    thresholds : tuple of float, optional
        The close levels: Jaro-Winkler similarities in (0, 1) (default 0.8 and 0.92) or
        Levenshtein distances >= 1 (default 2 and 1). Each threshold is one level
        between "different" and "exact".
    label : str, optional
        Name of the field in the parameters and explanations (default: the column(s)).
    normalize : {"text", "email", "phone"}, optional
        How values are normalised before comparing: ``"text"`` (default) by
        :func:`~crmmodels.idic.normalize_name`, ``"email"`` by
        :func:`~crmmodels.idic.normalize_email`, ``"phone"`` by
        :func:`~crmmodels.idic.normalize_phone` (default country code 1).

    Examples
    --------
    >>> Comparison("surname").levels
    ('different', 'jaro_winkler>=0.8', 'jaro_winkler>=0.92', 'exact')
    >>> Comparison("soc_sec_id", method="levenshtein", thresholds=(1,)).levels
    ('different', 'levenshtein<=1', 'exact')
    """

    column: str | tuple[str, ...]
    method: str = "jaro_winkler"
    thresholds: tuple[float, ...] | None = None
    label: str | None = None
    normalize: str = "text"

    def __post_init__(self) -> None:
        cols = (self.column,) if isinstance(self.column, str) else self.column
        if not isinstance(cols, tuple) or not cols:
            raise ArgumentError(
                f"Comparison.column must be a column name or a tuple of them; got {self.column!r}."
            )
        for c in cols:
            check_column_name(c, "Comparison.column")
        check_choice(self.method, "Comparison.method", _METHODS)
        check_choice(self.normalize, "Comparison.normalize", ("text", "email", "phone"))
        if self.normalize != "text" and len(cols) > 1:
            raise ArgumentError(
                f"Comparison.normalize={self.normalize!r} reads one column; got {cols}."
            )
        raw = _DEFAULT_THRESHOLDS[self.method] if self.thresholds is None else self.thresholds
        try:
            values = tuple(float(t) for t in raw)
        except (TypeError, ValueError):
            raise ArgumentError(
                f"Comparison.thresholds must be a tuple of numbers; got {self.thresholds!r}."
            ) from None
        if self.method == "exact" and values:
            raise ArgumentError("Comparison.thresholds: method='exact' has no close levels.")
        if self.method == "jaro_winkler" and any(not 0.0 < t < 1.0 for t in values):
            raise ArgumentError(
                f"Comparison.thresholds: Jaro-Winkler similarities lie in (0, 1); got {values}."
            )
        if self.method == "levenshtein" and any(t < 1 or t != int(t) for t in values):
            raise ArgumentError(
                f"Comparison.thresholds: Levenshtein distances are whole numbers >= 1; "
                f"got {values}."
            )
        if len(set(values)) != len(values):
            raise ArgumentError(f"Comparison.thresholds repeat a value: {values}.")
        # close levels ordered from the loosest to the tightest
        ordered = tuple(sorted(values, reverse=self.method == "levenshtein"))
        object.__setattr__(self, "thresholds", ordered)
        if self.label is None:
            object.__setattr__(self, "label", "+".join(cols))
        elif not isinstance(self.label, str) or not self.label:
            raise ArgumentError(f"Comparison.label must be a non-empty string; got {self.label!r}.")

    @property
    def columns(self) -> tuple[str, ...]:
        """The compared columns."""
        return (self.column,) if isinstance(self.column, str) else tuple(self.column)

    @property
    def name(self) -> str:
        """The field's label."""
        return str(self.label)

    @property
    def levels(self) -> tuple[str, ...]:
        """Level names, from ``0`` (different) to the last (exact)."""
        t = self.thresholds or ()
        op = ">=" if self.method == "jaro_winkler" else "<="
        close = tuple(f"{self.method}{op}{v:g}" for v in t)
        return ("different", *close, "exact")

    @property
    def n_levels(self) -> int:
        """Number of levels (missing not counted)."""
        return len(self.levels)


def as_comparisons(comparisons: Any) -> tuple[Comparison, ...]:
    """Read ``comparisons``: Comparison objects, mappings of their arguments or column names."""
    if isinstance(comparisons, (str, Comparison, Mapping)) or not isinstance(comparisons, Sequence):
        comparisons = [comparisons]
    out: list[Comparison] = []
    for c in comparisons:  # a handful of fields
        if isinstance(c, Comparison):
            out.append(c)
        elif isinstance(c, str):
            out.append(Comparison(c))
        elif isinstance(c, Mapping):
            try:
                out.append(Comparison(**dict(c)))
            except TypeError as exc:
                raise ArgumentError(f"comparisons: {exc}; got {dict(c)!r}.") from None
        else:
            raise ArgumentError(
                "comparisons must hold Comparison objects, dicts of their arguments or column "
                f"names; got {c!r}."
            )
    if not out:
        raise ArgumentError("comparisons is empty: name at least one field to compare.")
    names = [c.name for c in out]
    if len(set(names)) != len(names):
        raise ArgumentError(f"comparisons: two fields have the same label ({names}); set label=.")
    return tuple(out)


def as_blocks(block_cols: Any) -> tuple[tuple[str, ...], ...]:
    """Read ``block_cols``: each entry a column or a tuple of columns that must all agree."""
    if isinstance(block_cols, str) or not isinstance(block_cols, Sequence):
        block_cols = [block_cols]
    out = []
    for b in block_cols:
        cols = (b,) if isinstance(b, str) else b
        if not isinstance(cols, (tuple, list)) or not cols:
            raise ArgumentError(f"block_cols must hold column names or tuples of them; got {b!r}.")
        out.append(tuple(check_column_name(c, "block_cols") for c in cols))
    if not out:
        raise ArgumentError(
            "block_cols is empty: probabilistic matching compares only pairs that share a "
            "block; pass e.g. block_cols=['surname', 'date_of_birth', 'postcode']."
        )
    return tuple(out)


def field_values(df: pd.DataFrame, comparison: Comparison) -> pd.Series:
    """The normalised values a comparison works on (``<NA>`` when missing)."""
    if comparison.normalize == "email":
        text = normalize_email(df[comparison.columns[0]])
    elif comparison.normalize == "phone":
        text = normalize_phone(df[comparison.columns[0]])
    else:
        parts = [normalize_name(df[c].astype("string")) for c in comparison.columns]
        text = parts[0] if len(parts) == 1 else _join_parts(parts)
    if comparison.method != "jaro_winkler":
        text = text.str.replace(" ", "", regex=False)
        text = text.where(text != "")
    return text.astype("string")


def block_pairs(
    df: pd.DataFrame, blocks: Sequence[tuple[str, ...]], max_block_size: int
) -> tuple[IntArray, int]:
    """Distinct pairs sharing at least one block key, and the number of blocks too large."""
    pair_list = []
    n_skipped = 0
    for cols in blocks:  # one pass per blocking rule
        parts = [normalize_name(df[c].astype("string")) for c in cols]
        key = parts[0]
        for p in parts[1:]:  # the columns of one rule
            key = key + "\x1f" + p
        codes = pd.factorize(key)[0].astype(np.int64)
        sizes = np.bincount(codes[codes >= 0]) if (codes >= 0).any() else np.zeros(0)
        n_skipped += int(np.sum(sizes > max_block_size))
        pair_list.append(within_block_pairs(codes, max_block_size))
    if not pair_list:
        return np.empty((0, 2), dtype=np.int64), n_skipped
    both = np.concatenate(pair_list).astype(np.int64)
    n = np.int64(max(len(df), 1))
    code = np.unique(both[:, 0] * n + both[:, 1])
    return np.stack([code // n, code % n], axis=1), n_skipped


def block_agreement(
    df: pd.DataFrame, blocks: Sequence[tuple[str, ...]], i: IntArray, j: IntArray
) -> npt.NDArray[np.bool_]:
    """``out[k, r]``: pair ``k`` agrees on every column of blocking rule ``r``."""
    out = np.ones((i.size, len(blocks)), dtype=bool)
    for r, cols in enumerate(blocks):  # one pass per blocking rule
        for c in cols:  # the columns of one rule
            code = pd.factorize(normalize_name(df[c].astype("string")))[0]
            out[:, r] &= (code[i] == code[j]) & (code[i] >= 0)
    return out


def random_pairs(n: int, n_pairs: int, seed: int) -> IntArray:
    """All pairs when there are at most ``n_pairs``, else a uniform sample of distinct pairs."""
    total = n * (n - 1) // 2
    if total <= n_pairs:
        i, j = np.triu_indices(n, k=1)
        return np.stack([i, j], axis=1).astype(np.int64)
    rng = np.random.default_rng(seed)
    i = rng.integers(0, n, size=n_pairs)
    j = rng.integers(0, n - 1, size=n_pairs)
    j = j + (j >= i)  # uniform over the other records
    return np.stack([np.minimum(i, j), np.maximum(i, j)], axis=1).astype(np.int64)


def comparison_levels(
    values: pd.Series, comparison: Comparison, i: IntArray, j: IntArray
) -> npt.NDArray[np.int8]:
    """The level of each pair ``(i[k], j[k])`` for one field (``-1`` missing)."""
    valid_rec = values.notna().to_numpy()
    arr = values.fillna("").to_numpy(dtype=object)
    valid = valid_rec[i] & valid_rec[j]
    out = np.full(i.size, -1, dtype=np.int8)
    if not valid.any():
        return out
    a, b = arr[i[valid]], arr[j[valid]]
    exact = a == b
    level = np.zeros(a.size, dtype=np.int8)
    thresholds = comparison.thresholds or ()
    if thresholds:
        score = _scores(a, b, comparison.method, max(thresholds))
        for k, t in enumerate(thresholds, start=1):  # close levels, loosest first
            hit = score >= t if comparison.method == "jaro_winkler" else score <= t
            level[hit] = k
    level[exact] = len(thresholds) + 1
    out[valid] = level
    return out


def _scores(
    a: npt.NDArray[np.object_], b: npt.NDArray[np.object_], method: str, cutoff: float
) -> npt.NDArray[np.float64]:
    from rapidfuzz import process
    from rapidfuzz.distance import JaroWinkler, Levenshtein

    if method == "jaro_winkler":
        s = process.cpdist(a.tolist(), b.tolist(), scorer=JaroWinkler.similarity, workers=1)
    else:
        s = process.cpdist(
            a.tolist(), b.tolist(), scorer=Levenshtein.distance, workers=1, score_cutoff=int(cutoff)
        )
    return np.asarray(s, dtype=np.float64)


def random_u(
    values: pd.Series, comparison: Comparison, pairs: IntArray, min_share: float
) -> npt.NDArray[np.float64]:
    """Level probabilities among random pairs of records (non-matches, almost all of them).

    The exact level comes in closed form from the value frequencies (the chance that two
    distinct records with a value share it); the close levels split the rest in the
    proportions seen among the sampled pairs that are not exact.
    """
    counts = values.dropna().value_counts().to_numpy(dtype=np.float64)
    n_present = counts.sum()
    n_lev = comparison.n_levels
    u = np.zeros(n_lev)
    same = (
        float(np.sum(counts * (counts - 1)) / (n_present * (n_present - 1)))
        if (n_present > 1)
        else 0.0
    )
    u[-1] = min(max(same, min_share), 0.5)
    lev = comparison_levels(values, comparison, pairs[:, 0], pairs[:, 1])
    lev = lev[(lev >= 0) & (lev < n_lev - 1)]
    other = np.bincount(lev, minlength=n_lev - 1)[: n_lev - 1].astype(np.float64)
    other = np.maximum(other, min_share * max(lev.size, 1))
    u[:-1] = (1.0 - u[-1]) * other / other.sum()
    return u
