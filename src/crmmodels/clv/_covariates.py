"""Time-invariant covariates of the CLV models: the specification and the design matrix.

A :class:`CovariateSpec` records, for the purchase and the dropout process, which summary
columns enter the model and how: a numeric column is used as given and centred at its
mean on the fitting data (the slope, and so the reported coefficient, is that of the
original scale; only the base parameters change meaning: they are those of a customer at
the mean of every numeric covariate and the reference level of every categorical one);
a categorical column (string, categorical or boolean dtype) is expanded into one
indicator per level other than its reference level, the most frequent level on the
fitting data (ties: the first in sorted order). The spec is recorded in the fitted model
(``covariates_``) and builds the same design matrix at prediction time, where an unknown
level is an error. For BG/NBD the spec also records the form of the dropout covariates
(``dropout_form``: ``"b"`` or ``"ab"``, see :mod:`crmmodels.clv._covariates_ab`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import narwhals.stable.v2 as nw
import numpy as np
import pandas as pd
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.compute as pc  # type: ignore[import-untyped]

from crmmodels.errors import ArgumentError, DataError, bad_rows_message
from crmmodels.kernels._optim import FloatArray, IntArray

__all__ = [
    "PROCESSES",
    "CovariateSpec",
    "Term",
    "build_spec",
    "build_spec_design",
    "covariate_lists",
]

#: the two processes, in the order of the coefficient vector
PROCESSES = ("purchase", "dropout")


@dataclass(frozen=True)
class Term:
    """One covariate column: numeric (with its centre) or categorical (with its levels)."""

    column: str
    kind: Literal["numeric", "categorical"]
    center: float = 0.0
    levels: tuple[str, ...] = ()
    reference: str | None = None

    @property
    def names(self) -> list[str]:
        """Names of the design columns: ``column``, or ``column=level`` per non-reference level."""
        if self.kind == "numeric":
            return [self.column]
        return [f"{self.column}={lvl}" for lvl in self.levels if lvl != self.reference]

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form."""
        return {
            "column": self.column,
            "kind": self.kind,
            "center": self.center,
            "levels": list(self.levels),
            "reference": self.reference,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Term:
        """Inverse of :meth:`to_dict` (checked)."""
        kind = d.get("kind")
        if kind not in ("numeric", "categorical") or not isinstance(d.get("column"), str):
            raise DataError(f"a covariate term must have a column name and a kind; got {d!r}.")
        levels = tuple(str(v) for v in d.get("levels", ()))
        ref = d.get("reference")
        if kind == "categorical" and (ref not in levels or len(levels) < 2):
            raise DataError(f"covariate '{d['column']}': bad levels {levels} / reference {ref!r}.")
        return cls(str(d["column"]), kind, float(d.get("center", 0.0)), levels, ref)


@dataclass(frozen=True)
class CovariateSpec:
    """The covariates of each process, as fitted (see the module docstring)."""

    purchase: tuple[Term, ...]
    dropout: tuple[Term, ...]
    #: the spend covariates of Gamma-Gamma (the purchase models leave it empty)
    spend: tuple[Term, ...] = ()
    #: BG/NBD: the dropout covariates scale ``"b"`` or ``"ab"`` (None for other models)
    dropout_form: str | None = None

    @property
    def processes(self) -> tuple[str, ...]:
        """The processes of the model: purchase and dropout, or spend (Gamma-Gamma)."""
        return ("spend",) if self.spend else PROCESSES

    def terms(self, process: str) -> tuple[Term, ...]:
        """The terms of ``"purchase"``, ``"dropout"`` or ``"spend"``."""
        return {"purchase": self.purchase, "dropout": self.dropout, "spend": self.spend}[process]

    def names(self, process: str) -> list[str]:
        """Design-column names of one process."""
        return [n for t in self.terms(process) for n in t.names]

    @property
    def columns(self) -> list[str]:
        """Every summary column the covariates read (each once)."""
        return list(dict.fromkeys(t.column for p in self.processes for t in self.terms(p)))

    def design(
        self,
        df: nw.DataFrame[Any],
        where: str,
        factored: Mapping[str, tuple[np.ndarray[Any, Any], IntArray] | None] | None = None,
    ) -> dict[str, FloatArray]:
        """Design matrix of each process (``n x k``) from a collected frame.

        Raises :class:`DataError` for missing values and, for a categorical covariate,
        for a level not seen in the fit (naming the column, the value and the levels).
        ``factored`` (the fit's own columns, checked and factorised once) skips both.
        """
        cache: dict[str, FloatArray] = {}
        out: dict[str, FloatArray] = {}
        for process in self.processes:
            blocks = []
            for term in self.terms(process):
                key = term.column
                if key not in cache:
                    done = None if factored is None else factored.get(key)
                    skip = factored is not None and key in factored
                    cache[key] = _encode(df[term.column], term, where, done, checked=skip)
                blocks.append(cache[key])
            n = len(df)
            out[process] = np.column_stack(blocks) if blocks else np.zeros((n, 0))
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form (persistence)."""
        out: dict[str, Any] = {p: [t.to_dict() for t in self.terms(p)] for p in self.processes}
        if self.dropout_form is not None:
            out["dropout_form"] = self.dropout_form
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> CovariateSpec:
        """Inverse of :meth:`to_dict` (checked)."""
        if isinstance(d, Mapping) and set(d) == {"spend"} and isinstance(d["spend"], list):
            spend = tuple(Term.from_dict(t) for t in d["spend"])
            if not spend:
                raise DataError("covariates: 'spend' lists no covariate.")
            return cls((), (), spend)
        if not isinstance(d, Mapping) or any(not isinstance(d.get(p), list) for p in PROCESSES):
            raise DataError(f"covariates must map 'purchase' and 'dropout' to lists; got {d!r}.")
        extra = set(d) - {*PROCESSES, "dropout_form"}
        if extra:
            raise DataError(f"covariates: unknown fields {sorted(extra)}.")
        form = d.get("dropout_form")
        if form is not None and form not in ("b", "ab"):
            raise DataError(f"covariates: dropout_form must be 'b' or 'ab'; got {form!r}.")
        purchase, dropout = (tuple(Term.from_dict(t) for t in d[p]) for p in PROCESSES)
        return cls(purchase, dropout, (), form)

    def __repr__(self) -> str:
        parts = [f"{p}={self.names(p)}" for p in self.processes]
        if self.dropout_form is not None:
            parts.append(f"dropout_form={self.dropout_form!r}")
        return f"CovariateSpec({', '.join(parts)})"


def covariate_lists(
    where: str, covariates: Any, purchase: Any, dropout: Any
) -> dict[str, list[str]] | None:
    """The column lists of each process from ``fit``'s arguments (None: no covariates).

    ``covariates`` is shorthand for the same columns in both processes; it may not be
    combined with the process-specific lists.
    """
    if covariates is None and purchase is None and dropout is None:
        return None
    if covariates is not None and (purchase is not None or dropout is not None):
        raise ArgumentError(
            f"{where}: give covariates= (the same columns for both processes) or "
            "purchase_covariates= / dropout_covariates=, not both."
        )
    out: dict[str, list[str]] = {}
    for process, value in zip(PROCESSES, (purchase, dropout), strict=True):
        given = covariates if covariates is not None else value
        arg = "covariates" if covariates is not None else f"{process}_covariates"
        if given is None:
            out[process] = []
            continue
        if isinstance(given, str):
            given = [given]
        if not isinstance(given, Sequence) or not all(isinstance(c, str) for c in given):
            raise ArgumentError(f"{where}: {arg} must be a list of column names; got {given!r}.")
        if len(set(given)) != len(given):
            raise ArgumentError(f"{where}: {arg} names a column twice: {list(given)}.")
        out[process] = list(given)
    if not out["purchase"] and not out["dropout"]:
        raise ArgumentError(f"{where}: the covariate lists are empty; pass column names.")
    return out


def _is_categorical(series: Any) -> bool:
    dtype = series.dtype
    if dtype == nw.Boolean:
        return True
    return not dtype.is_numeric()


def _missing(series: Any, col: str, where: str) -> None:
    categorical = _is_categorical(series)
    if categorical and int(series.null_count()) == 0:  # the common case: no pass per row
        return
    mask = series.is_null().to_numpy()
    if not categorical:
        values = series.to_numpy().astype(np.float64)
        mask = mask | ~np.isfinite(values)
    n_bad = int(np.count_nonzero(mask))
    if n_bad:
        row = int(np.flatnonzero(mask)[0])
        raise DataError(
            bad_rows_message(
                col,
                "is missing (null, NaN or inf) as a covariate",
                n_bad,
                f"row {row}",
                f"{where}: every customer needs a covariate value: fill the gaps (e.g. an "
                "explicit 'unknown' level) or drop those customers explicitly.",
            )
        )


def _factor(series: Any) -> tuple[np.ndarray[Any, Any], IntArray]:
    """Sorted distinct labels (``str`` of the values) and the label of every row.

    The values are hashed once (Arrow's dictionary encoding, else
    :func:`pandas.factorize`); only the distinct values are turned into strings, so a
    column of a million rows with a few levels costs one pass.
    """
    codes, uniques = _distinct(series)
    text = np.asarray([str(v) for v in uniques], dtype=object)  # per distinct value
    labels, back = np.unique(text, return_inverse=True)  # values with one str share a label
    return labels, np.asarray(back.reshape(-1)[codes], dtype=np.int64)


def _distinct(series: Any) -> tuple[IntArray, list[Any]]:
    """The code of every row and the distinct values (no nulls: checked before)."""
    try:
        arr = series.to_arrow()
        if isinstance(arr, pa.ChunkedArray):
            arr = arr.combine_chunks()
        if pa.types.is_dictionary(arr.type):  # categoricals: the values, not unused levels
            arr = arr.cast(arr.type.value_type)
        encoded = pc.dictionary_encode(arr)
        codes = np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.int64)
        return codes, encoded.dictionary.to_pylist()
    except (pa.ArrowException, NotImplementedError, TypeError, ValueError):
        values = np.asarray(series.to_numpy())  # objects Arrow cannot type (mixed kinds)
        found, uniques = pd.factorize(values, use_na_sentinel=False)
        return np.asarray(found, dtype=np.int64), list(uniques)


def _encode(
    series: Any,
    term: Term,
    where: str,
    factored: tuple[np.ndarray[Any, Any], IntArray] | None = None,
    *,
    checked: bool = False,
) -> FloatArray:
    col = term.column
    if series.dtype.is_temporal():
        raise DataError(
            f"{where}: covariate '{col}' holds dates ({series.dtype}); use a number derived "
            "from it (e.g. the age in years) or a category."
        )
    if not checked:  # (``checked``: the fit's own column, checked by its term already)
        _missing(series, col, where)
    if term.kind == "numeric":
        if _is_categorical(series):
            raise DataError(
                f"{where}: covariate '{col}' was numeric in the fit; got {series.dtype}."
            )
        return np.asarray(series.to_numpy(), dtype=np.float64)[:, None] - term.center
    uniq, inverse = _factor(series) if factored is None else factored
    known = set(term.levels)
    unknown = [u for u in uniq if u not in known]
    if unknown:
        bad = np.asarray([u not in known for u in uniq], dtype=bool)
        n_bad = int(np.count_nonzero(bad[inverse]))
        raise DataError(
            f"{where}: covariate '{col}' has the level {unknown[0]!r} (in {n_bad} rows"
            f"{'' if len(unknown) == 1 else f'; other unknown levels: {unknown[1:6]}'}), which "
            f"the model was not fitted on; the known levels are {list(term.levels)}. Map it to "
            "a known level or refit with customers of that level."
        )
    index = {lvl: i for i, lvl in enumerate(term.levels)}
    codes = np.asarray([index[u] for u in uniq], dtype=np.int64)[inverse]  # per distinct level
    keep = [i for i, lvl in enumerate(term.levels) if lvl != term.reference]
    return np.asarray(codes[:, None] == np.asarray(keep)[None, :], dtype=np.float64)


def _make_term(
    series: Any, col: str, where: str
) -> tuple[Term, tuple[np.ndarray[Any, Any], IntArray] | None]:
    """The term of a column and, for a categorical, its factorisation (reused by the design)."""
    if series.dtype.is_temporal():
        raise DataError(
            f"{where}: covariate '{col}' holds dates ({series.dtype}); use a number derived "
            "from it (e.g. the age in years) or a category."
        )
    _missing(series, col, where)
    if _is_categorical(series):
        levels, inverse = _factor(series)
        counts = np.bincount(inverse, minlength=levels.size)
        if levels.size < 2:
            raise DataError(
                f"{where}: covariate '{col}' is constant (every customer has "
                f"{levels[0]!r}); a constant has no effect to estimate: drop it."
            )
        ref = str(levels[int(np.argmax(counts))])  # most frequent; ties: first sorted
        return Term(col, "categorical", 0.0, tuple(str(v) for v in levels), ref), (
            levels,
            inverse,
        )
    values = np.asarray(series.to_numpy(), dtype=np.float64)
    if np.ptp(values) == 0:
        raise DataError(
            f"{where}: covariate '{col}' is constant (every customer has {values[0]:g}); "
            "a constant has no effect to estimate: drop it."
        )
    return Term(col, "numeric", float(values.mean())), None


def _check_collinear(names: list[str], z: FloatArray, process: str, where: str) -> None:
    """Refuse a design whose columns (with the intercept) are linearly dependent."""
    if z.shape[1] == 0:
        return
    # the correlation matrix from one product (no centred copy of the rows): the columns
    # are one-hot or centred numbers, so the moments do not cancel
    mean = z.mean(axis=0)
    cov = z.T @ z / z.shape[0] - np.outer(mean, mean)
    scale = np.sqrt(np.maximum(np.diag(cov), 0.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        gram = cov / np.outer(scale, scale)
    for k in range(1, gram.shape[0] + 1):
        eig = np.linalg.eigvalsh(gram[:k, :k])
        if eig[0] < 1e-10 * max(eig[-1], 1.0):
            partners = [names[j] for j in range(k - 1) if abs(gram[j, k - 1]) > 1e-6]
            raise DataError(
                f"{where}: the {process} covariate '{names[k - 1]}' is perfectly collinear "
                f"with {partners or 'the other covariates'} (together with the intercept): "
                "its effect cannot be separated. Drop one of them."
            )


def build_spec(df: nw.DataFrame[Any], lists: Mapping[str, list[str]], where: str) -> CovariateSpec:
    """The spec of the covariates ``lists`` (by process) on a collected frame, checked.

    Raises :class:`DataError` for missing values, a constant column and perfectly
    collinear columns, each naming the column.
    """
    return build_spec_design(df, lists, where)[0]


def build_spec_design(
    df: nw.DataFrame[Any], lists: Mapping[str, list[str]], where: str
) -> tuple[CovariateSpec, dict[str, FloatArray]]:
    """:func:`build_spec` and the design matrices of the frame (built once for both)."""
    processes = tuple(lists)
    terms: dict[str, Term] = {}
    factored: dict[str, tuple[np.ndarray[Any, Any], IntArray] | None] = {}
    for col in dict.fromkeys(c for p in processes for c in lists[p]):
        terms[col], factored[col] = _make_term(df[col], col, where)
    if processes == ("spend",):
        spec = CovariateSpec((), (), tuple(terms[c] for c in lists["spend"]))
    else:
        purchase, dropout = (tuple(terms[c] for c in lists[p]) for p in PROCESSES)
        spec = CovariateSpec(purchase, dropout)
    design = spec.design(df, where, factored)
    for process in spec.processes:
        _check_collinear(spec.names(process), design[process], process, where)
    return spec, design
