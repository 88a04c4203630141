"""The fast paths of the covariate fits equal the row by row evaluation they replace."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from _covariate_sim import simulate

from crmmodels.clv import BGNBD, ParetoNBD
from crmmodels.clv._covariates import _factor
from crmmodels.clv._covariates_fit import _compress, _groups, _objective, _pattern_ids
from crmmodels.errors import DataError
from crmmodels.kernels import bgnbd_covariates as kbgc
from crmmodels.kernels import pareto_nbd_covariates as kpnc
from crmmodels.kernels._optim import compress_rows


def _data(model: str, n: int, seed: int, patterns: str) -> pd.DataFrame:
    df = simulate(model, n, seed)
    df["recency"] = np.round(df["recency"] * 7) / 7  # a day grid: rows share histories
    df["age"] = np.round(df["age"] * 10) / 10 if patterns == "many" else 0.0
    if patterns == "one":
        df["channel"] = "store"
    return df


def _design(df: pd.DataFrame) -> dict[str, np.ndarray]:
    z = np.c_[(df["channel"] == "app").to_numpy(float), (df["channel"] == "web"), df["age"]]
    return {"purchase": z.astype(float), "dropout": z[:, [1, 2]].astype(float)}


def _theta(rng: np.random.Generator, model: str) -> np.ndarray:
    base = [0.7, 6.0, 0.8, 4.0] if model == "bgnbd" else [0.6, 9.0, 0.9, 12.0]
    log_base = np.log(base) + rng.normal(0.0, 0.4, 4)
    return np.concatenate([log_base, rng.normal(0.0, 0.5, 5)])


@pytest.mark.parametrize("patterns", ["many", "one"])
@pytest.mark.parametrize("model", ["bgnbd", "pareto"])
def test_compressed_objective_equals_the_row_objective(model: str, patterns: str) -> None:
    df = _data(model, 3000, 5, patterns)
    hist_cols = [df[c].to_numpy(float) for c in ("frequency", "recency", "T")]
    design = _design(df)
    w = np.random.default_rng(1).integers(1, 4, len(df)).astype(float)
    hist, cdesign, counts, pid = _compress(hist_cols, design, w)
    kernel = kbgc if model == "bgnbd" else kpnc
    groups = _groups(hist[0], cdesign["dropout"]) if model == "bgnbd" else None
    cells = kpnc.hypergeometric_cells(*hist, pid) if model == "pareto" else None
    rng = np.random.default_rng(2)
    for _ in range(5):
        theta = _theta(rng, model)
        rows = _objective(kernel, theta, tuple(hist_cols), design, w, 3)  # type: ignore[arg-type]
        fast = _objective(kernel, theta, hist, cdesign, counts, 3, groups, cells)
        assert fast[0] == pytest.approx(rows[0], rel=1e-10)
        np.testing.assert_allclose(fast[1], rows[1], rtol=1e-10, atol=1e-10 * abs(rows[0]))


def test_pareto_cells_are_fewer_than_the_entries_and_read_back_exactly() -> None:
    df = _data("pareto", 2000, 3, "many")
    x, tx, tt = (df[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    pid = _pattern_ids(_design(df))
    first, cell = kpnc.hypergeometric_cells(x, tx, tt, pid)
    assert first.size < 0.6 * 2 * x.size  # the terms at T are shared within (pattern, x)
    t2 = np.concatenate([tx, tt])
    key = np.c_[np.r_[x, x], np.r_[pid, pid], t2]
    np.testing.assert_array_equal(key[first][cell], key)  # every entry reads its own cell
    rng = np.random.default_rng(4)
    al = np.exp(rng.normal(2.0, 0.5, pid.max() + 1))[pid]
    be = np.exp(rng.normal(2.5, 0.5, pid.max() + 1))[pid]
    ll, d = kpnc.loglik_rows(0.6, al, 0.9, be, x, tx, tt)
    ll_c, d_c = kpnc.loglik_rows(0.6, al, 0.9, be, x, tx, tt, cells=(first, cell))
    np.testing.assert_allclose(ll_c, ll, rtol=1e-12)
    np.testing.assert_allclose(d_c, d, rtol=1e-10, atol=1e-14)


def test_compression_equals_the_distinct_rows_of_every_column() -> None:
    df = _data("bgnbd", 4000, 8, "many")
    hist_cols = [df[c].to_numpy(float) for c in ("frequency", "recency", "T")]
    design = _design(df)
    w = np.random.default_rng(3).integers(0, 3, len(df)).astype(float)  # some zero
    hist, cdesign, counts, pid = _compress(hist_cols, design, w)
    ref_cols, ref_counts, _ = compress_rows(
        [*hist_cols, *design["purchase"].T, *design["dropout"].T], w
    )
    ours = np.c_[np.column_stack(hist), cdesign["purchase"], cdesign["dropout"], counts]
    ref = np.c_[np.column_stack(ref_cols), ref_counts]
    order = np.lexsort(ours.T[::-1])
    ref_order = np.lexsort(ref.T[::-1])
    np.testing.assert_array_equal(ours[order], ref[ref_order])
    assert counts.sum() == w.sum() and np.all(counts > 0)
    # the pattern of a distinct row is that of its design rows
    both = np.c_[cdesign["purchase"], cdesign["dropout"]]
    for p in np.unique(pid)[:20]:
        assert (both[pid == p] == both[pid == p][0]).all()
        assert not any((both[pid != p] == both[pid == p][0]).all(axis=1))


def test_labels_are_the_strings_of_the_values() -> None:
    import narwhals.stable.v2 as nw

    values = ["web", "store", "web", "app", "store", "store"]
    for series in (
        pd.Series(values),
        pd.Series(values, dtype="category"),
        pd.Series([True, False, True, True, False, False]),
        pd.Series([1, "1", 2, "b", 2, 1], dtype=object),
    ):
        labels, inverse = _factor(nw.from_native(series, series_only=True))
        expected = np.asarray([str(v) for v in series.tolist()], dtype=object)
        ref_labels, ref_inverse = np.unique(expected, return_inverse=True)
        assert labels.tolist() == ref_labels.tolist()
        np.testing.assert_array_equal(inverse, ref_inverse)


@pytest.mark.parametrize("cls", [BGNBD, ParetoNBD])
def test_fit_with_zero_weights_equals_the_fit_without_those_rows(cls: type) -> None:
    name = "bgnbd" if cls is BGNBD else "pareto"
    df = _data(name, 1500, 9, "many")
    w = np.ones(len(df))
    w[::5] = 0.0
    with_zero = cls().fit(df, covariates=["channel", "age"], weights=w)
    kept = cls().fit(df[w > 0].reset_index(drop=True), covariates=["channel", "age"])
    assert with_zero.log_likelihood_ == pytest.approx(kept.log_likelihood_, rel=1e-9)
    np.testing.assert_allclose(
        with_zero.coefficients_["estimate"], kept.coefficients_["estimate"], rtol=1e-4, atol=1e-6
    )


def test_unknown_level_counts_the_rows() -> None:
    df = _data("bgnbd", 500, 2, "many")
    fit = BGNBD().fit(df, covariates=["channel", "age"])
    new = df.copy()
    new.loc[:2, "channel"] = "kiosk"
    with pytest.raises(DataError, match=r"'kiosk' \(in 3 rows"):
        fit.predict(new, horizon=10.0)
