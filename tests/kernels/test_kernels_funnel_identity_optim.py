"""Kernels without tests of their own: stage histories, union-find and the optimiser helpers.

Vectorised kernels are compared with plain Python or pandas written straight from their
docstrings, on small random inputs.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmmodels.kernels import _optim
from crmmodels.kernels import funnel as funnel_kernel
from crmmodels.kernels import identity as identity_kernel
from crmmodels.kernels.funnel import DROPPED, FINAL, LEFT_PATH, NOT_IN_FUNNEL, OPEN

FloatArray = np.ndarray[Any, np.dtype[np.float64]]


# ---------------------------------------------------------------------------------------
# stage histories


def _random_history(seed: int, n: int = 40, k: int = 4) -> tuple[FloatArray, FloatArray]:
    rng = np.random.default_rng(seed)
    first = rng.integers(0, 6, (n, k)).astype(float)
    first[rng.random((n, k)) < 0.35] = np.nan
    exit_time = rng.integers(0, 8, n).astype(float)
    exit_time[rng.random(n) < 0.5] = np.nan
    return first, exit_time


def _state_of_one(row: FloatArray, exit_time: float, mode: str) -> tuple[int, int, bool]:
    """Path length, outcome and 'reopened' of one entity, from the docstrings."""
    seen = [not math.isnan(v) for v in row]
    k = len(row)
    if mode == "any":
        n = max((i + 1 for i in range(k) if seen[i]), default=0)
    else:
        n = 0
        while n < k and seen[n] and (n == 0 or row[n] >= row[n - 1]):
            n += 1
    if n == 0:
        return 0, NOT_IN_FUNNEL, False
    exit_after = not math.isnan(exit_time) and exit_time >= row[n - 1]
    outcome = DROPPED if exit_after else OPEN
    if mode == "ordered" and any(seen[i] for i in range(n, k)):
        outcome = LEFT_PATH
    if n == k:
        outcome = FINAL
    reopened = not math.isnan(exit_time) and not exit_after and outcome == OPEN
    return n, outcome, reopened


@pytest.mark.parametrize("mode", ["any", "ordered"])
@pytest.mark.parametrize("seed", range(5))
def test_funnel_state_matches_a_per_entity_reading(mode: str, seed: int) -> None:
    first, exit_time = _random_history(seed)
    state = funnel_kernel.funnel_state(first, exit_time, mode)
    rows = [_state_of_one(r, e, mode) for r, e in zip(first, exit_time, strict=True)]
    assert state.n.tolist() == [r[0] for r in rows]
    assert state.outcome.tolist() == [r[1] for r in rows]
    assert state.reopened.tolist() == [r[2] for r in rows]
    np.testing.assert_array_equal(state.observed, ~np.isnan(first))


@pytest.mark.parametrize("mode", ["any", "ordered"])
@pytest.mark.parametrize("seed", range(4))
def test_stage_counts_against_pandas(mode: str, seed: int) -> None:
    first, exit_time = _random_history(seed)
    n_ent, k = first.shape
    group = np.random.default_rng(seed).integers(0, 3, n_ent)
    state = funnel_kernel.funnel_state(first, exit_time, mode)
    counts = funnel_kernel.stage_counts(state, k, group, 3)
    table = pd.DataFrame({"g": group, "n": state.n, "outcome": state.outcome})
    table["last"] = table["n"] - 1
    for g in range(3):
        sub = table[table["g"] == g]
        obs = state.observed[group == g]
        entered = [int((sub["n"] > s).sum()) for s in range(k)]
        assert counts["entered"][g].tolist() == entered
        assert counts["advanced"][g].tolist() == [*entered[1:], 0]
        at = [sub[sub["last"] == s] for s in range(k)]
        dropped = [int(a["outcome"].isin([DROPPED, LEFT_PATH]).sum()) for a in at]
        assert counts["dropped"][g].tolist() == dropped
        assert counts["open"][g].tolist() == [int((a["outcome"] == OPEN).sum()) for a in at]
        assert counts["left_path"][g].tolist() == [
            int((a["outcome"] == LEFT_PATH).sum()) for a in at
        ]
        implied = [int(((sub["n"].to_numpy() > s) & ~obs[:, s]).sum()) for s in range(k)]
        assert counts["implied"][g].tolist() == implied
        # the docstring's balance: entered = advanced + dropped + open (not the last stage)
        balance = counts["advanced"][g] + counts["dropped"][g] + counts["open"][g]
        assert counts["entered"][g][:-1].tolist() == balance[:-1].tolist()
    ungrouped = funnel_kernel.stage_counts(state, k)
    assert ungrouped["entered"][0].tolist() == counts["entered"].sum(axis=0).tolist()


@pytest.mark.parametrize("seed", range(4))
def test_backwards_mask_and_later_entry(seed: int) -> None:
    first, _ = _random_history(seed)
    k = first.shape[1]
    for i, row in enumerate(first):
        seen = [(j, v) for j, v in enumerate(row) if not math.isnan(v)]
        back = any(v2 < v1 for (j1, v1), (j2, v2) in itertools.combinations(seen, 2))
        assert bool(funnel_kernel.backwards_mask(first)[i]) == back
        later = funnel_kernel.later_entry(first)[i]
        for j in range(k):
            rest = [v for v in row[j + 1 :] if not math.isnan(v)]
            expected = min(rest) if rest else math.nan
            assert later[j] == expected or (math.isnan(later[j]) and math.isnan(expected))


@pytest.mark.parametrize("seed", range(4))
def test_stay_durations_from_the_docstring(seed: int) -> None:
    first, exit_time = _random_history(seed)
    state = funnel_kernel.funnel_state(first, exit_time, "any")
    done, still = funnel_kernel.stay_durations(first, exit_time, state, 20.0)
    n_ent, k = first.shape
    for i in range(n_ent):
        for j in range(k):
            start = first[i, j]
            rest = [v for v in first[i, j + 1 :] if not math.isnan(v)]
            end = min(rest) if rest else math.nan
            if math.isnan(end) and state.n[i] == j + 1 and state.outcome[i] == DROPPED:
                end = exit_time[i]
            finished = math.nan
            if j < k - 1 and state.n[i] > j and end - start >= 0:
                finished = end - start
            current = math.nan
            if j < k - 1 and state.outcome[i] == OPEN and state.n[i] == j + 1:
                current = 20.0 - start
            np.testing.assert_equal(done[i, j], finished)
            np.testing.assert_equal(still[i, j], current)


@given(
    st.lists(
        st.lists(st.one_of(st.none(), st.floats(-50, 50)), min_size=3, max_size=3),
        min_size=1,
        max_size=8,
    )
)
def test_nan_ignoring_column_and_row_reductions(rows: list[list[float | None]]) -> None:
    values = np.array([[np.nan if v is None else v for v in r] for r in rows], dtype=float)
    frame = pd.DataFrame(values)
    np.testing.assert_allclose(
        funnel_kernel.row_fmin(values), frame.min(axis=1).to_numpy(), equal_nan=True
    )
    np.testing.assert_allclose(
        funnel_kernel.column_means(values), frame.mean().to_numpy(), rtol=1e-12, equal_nan=True
    )
    q = (0.1, 0.5, 0.9)
    expected = frame.quantile(list(q)).to_numpy()
    np.testing.assert_allclose(
        funnel_kernel.quantiles_by_column(values, q), expected, rtol=1e-12, equal_nan=True
    )


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("integer_times", [True, False])
def test_aggregate_events_against_groupby(seed: int, integer_times: bool) -> None:
    rng = np.random.default_rng(seed)
    n_keys = 12
    key = rng.integers(0, n_keys, 60)
    t = rng.integers(0, 6, 60)
    times = t.astype(np.int64) if integer_times else t.astype(float) / 2
    amount = rng.normal(10, 3, 60)
    amount[rng.random(60) < 0.3] = np.nan
    out = funnel_kernel.aggregate_events(key, times, n_keys, amount)
    grouped = pd.DataFrame({"key": key, "t": times, "amount": amount}).groupby("key")
    assert out["key"].tolist() == sorted(set(key.tolist()))
    assert out["first"].tolist() == grouped["t"].min().tolist()
    assert out["n_rows"].tolist() == grouped.size().tolist()
    assert out["n_times"].tolist() == grouped["t"].nunique().tolist()
    assert out["t_max"] == times.max()
    np.testing.assert_allclose(out["amount"], grouped["amount"].max().to_numpy(), equal_nan=True)
    assert "amount" not in funnel_kernel.aggregate_events(key, times, n_keys)


# ---------------------------------------------------------------------------------------
# union-find


def _brute_components(n_nodes: int, size: int, edges: list[tuple[int, int]]) -> list[int]:
    """Components by repeated relabelling, numbered by their smallest node."""
    label = list(range(size))
    changed = True
    while changed:
        changed = False
        for a, b in edges:
            low = min(label[a], label[b])
            if label[a] != low or label[b] != low:
                label[a] = label[b] = low
                changed = True
    first: dict[int, int] = {}
    return [first.setdefault(label[i], len(first)) for i in range(n_nodes)]


@settings(max_examples=50)
@given(st.integers(1, 12), st.integers(0, 4), st.data())
def test_components_against_brute_force(n_nodes: int, n_extra: int, data: st.DataObject) -> None:
    size = n_nodes + n_extra
    edges = data.draw(
        st.lists(st.tuples(st.integers(0, size - 1), st.integers(0, size - 1)), max_size=15)
    )
    rows = [a for a, _ in edges]
    cols = [b for _, b in edges]
    got = identity_kernel.components(n_nodes, rows, cols, n_extra=n_extra)
    assert got.tolist() == _brute_components(n_nodes, size, edges)


@settings(max_examples=50)
@given(st.lists(st.integers(0, 6), min_size=1, max_size=15), st.randoms(use_true_random=False))
def test_canonical_labels_number_components_by_smallest_key(labels: list[int], rnd: Any) -> None:
    key = list(range(len(labels)))
    rnd.shuffle(key)
    out = identity_kernel.canonical_labels(labels, order_key=key)
    # the same partition
    assert all(
        (labels[i] == labels[j]) == (out[i] == out[j])
        for i, j in itertools.combinations(range(len(labels)), 2)
    )
    # numbered 0..k-1 by the smallest key of each component
    smallest = {c: min(key[i] for i in range(len(labels)) if out[i] == c) for c in set(out)}
    assert sorted(smallest) == list(range(len(smallest)))
    assert sorted(smallest, key=smallest.__getitem__) == sorted(smallest)


def test_components_refuse_bad_edges() -> None:
    with pytest.raises(ValueError, match="same shape"):
        identity_kernel.components(3, [0, 1], [1])
    with pytest.raises(ValueError, match="out of range"):
        identity_kernel.components(3, [0], [3])
    assert identity_kernel.components(3, [], []).tolist() == [0, 1, 2]
    assert identity_kernel.canonical_labels([]).size == 0


@settings(max_examples=50)
@given(st.lists(st.integers(-1, 4), max_size=20), st.one_of(st.none(), st.integers(1, 5)))
def test_within_block_pairs_against_combinations(block: list[int], cap: int | None) -> None:
    sizes = pd.Series(block).value_counts().to_dict() if block else {}
    expected = [
        [i, j]
        for i, j in itertools.combinations(range(len(block)), 2)
        if block[i] == block[j] >= 0 and (cap is None or sizes[block[i]] <= cap)
    ]
    got = identity_kernel.within_block_pairs(block, max_block_size=cap)
    assert got.shape[1] == 2 and got.dtype == np.int64
    assert got.tolist() == expected


# ---------------------------------------------------------------------------------------
# optimiser helpers


@settings(max_examples=40)
@given(
    st.lists(st.tuples(st.integers(0, 3), st.integers(0, 2)), min_size=1, max_size=25),
    st.booleans(),
)
def test_compress_rows_against_groupby(rows: list[tuple[int, int]], weighted: bool) -> None:
    a = np.array([r[0] for r in rows], dtype=float)
    b = np.array([r[1] for r in rows], dtype=float)
    w = np.arange(len(rows), dtype=float) % 3 if weighted else None  # some zero weights
    (ua, ub), counts, inverse = _optim.compress_rows([a, b], w)
    frame = pd.DataFrame({"a": a, "b": b, "w": np.ones(len(rows)) if w is None else w})
    sums = frame.groupby(["a", "b"])["w"].sum()
    sums = sums[sums > 0]
    assert list(zip(ua.tolist(), ub.tolist(), strict=True)) == list(sums.index)
    assert counts.tolist() == sums.tolist()
    for i, (x, y) in enumerate(rows):
        if (x, y) in sums.index:
            assert (ua[inverse[i]], ub[inverse[i]]) == (x, y)
        else:
            assert inverse[i] == -1
    assert np.all(np.diff(ua) >= 0)  # the first column is sorted


@pytest.mark.parametrize("distinct", [5, 3000])
def test_both_compression_paths_agree_with_groupby(distinct: int) -> None:
    """Few values per column take the counting path, many the sorting path; same rows."""
    rng = np.random.default_rng(distinct)
    n = 5000
    cols = [rng.integers(0, 4, n) / 1.0] + [rng.integers(0, distinct, n) / 7.0 for _ in range(2)]
    w = rng.integers(0, 3, n).astype(float)
    unique, counts, inverse = _optim.compress_rows(cols, w)
    frame = pd.DataFrame({"a": cols[0], "b": cols[1], "c": cols[2], "w": w})
    sums = frame.groupby(["a", "b", "c"])["w"].sum()
    sums = sums[sums > 0]
    assert list(zip(*(u.tolist() for u in unique), strict=True)) == list(sums.index)
    np.testing.assert_array_equal(counts, sums.to_numpy())
    kept = inverse >= 0
    for u, c in zip(unique, cols, strict=True):
        np.testing.assert_array_equal(u[inverse[kept]], c[kept])


def test_compress_rows_of_nothing() -> None:
    unique, counts, inverse = _optim.compress_rows([np.zeros(0), np.zeros(0)])
    assert [u.size for u in unique] == [0, 0] and counts.size == 0 and inverse.size == 0


@given(st.lists(st.integers(-3, 3).map(float), max_size=20), st.booleans())
def test_distinct_against_unique(values: list[float], presort: bool) -> None:
    x = np.sort(np.array(values)) if presort else np.array(values)
    got, idx = _optim.distinct(x)
    expected, inverse = np.unique(x, return_inverse=True)
    assert got.tolist() == expected.tolist()
    assert idx.tolist() == inverse.tolist()


def _gamma_loglik(data: FloatArray) -> Any:
    """Gamma(shape k, rate b) log-likelihood of ``data`` and its analytic gradient."""
    n, s, slog = data.size, data.sum(), np.log(data).sum()

    def ll(p: FloatArray) -> tuple[float, FloatArray]:
        k, b = p
        value = n * k * np.log(b) - n * math.lgamma(k) + (k - 1) * slog - b * s
        from scipy.special import digamma

        return float(value), np.array([n * np.log(b) - n * digamma(k) + slog, n * k / b - s])

    return ll


def test_maximize_loglik_finds_the_gamma_mle() -> None:
    from scipy import stats

    data = np.random.default_rng(3).gamma(2.5, 1 / 1.5, 400)
    res = _optim.maximize_loglik(_gamma_loglik(data), np.array([1.0, 1.0]), n_obs=data.size)
    shape, _, scale = stats.gamma.fit(data, floc=0)
    np.testing.assert_allclose(res.params, [shape, 1 / scale], rtol=1e-5)
    assert res.converged and res.diagnostics["converged"]
    assert res.loglik == pytest.approx(_gamma_loglik(data)(res.params)[0])
    assert res.objective == pytest.approx(-res.loglik / data.size)
    assert set(res.diagnostics) >= {"iterations", "function_evaluations", "n_starts", "message"}
    assert res.diagnostics["at_bound"] == [False, False]


def test_maximize_loglik_penalty_and_bounds() -> None:
    data = np.random.default_rng(3).gamma(2.5, 1 / 1.5, 400)
    ll = _gamma_loglik(data)
    lam = 0.05
    res = _optim.maximize_loglik(ll, np.array([1.0, 1.0]), n_obs=data.size, penalizer=lam)
    grad = -ll(res.params)[1] / data.size + 2 * lam * res.params  # stationary point
    np.testing.assert_allclose(grad, 0.0, atol=1e-5)
    assert res.objective == pytest.approx(-res.loglik / data.size + lam * np.sum(res.params**2))
    capped = _optim.maximize_loglik(
        ll, np.array([1.0, 1.0]), n_obs=data.size, log_bounds=[(-5, 0.5), (-5, 5)]
    )
    assert capped.params[0] == pytest.approx(math.exp(0.5))
    assert capped.diagnostics["at_bound"] == [True, False]


def test_maximize_loglik_reports_progress_and_survives_nan() -> None:
    calls: list[tuple[int, float, float]] = []

    def ll(p: FloatArray) -> tuple[float, FloatArray]:
        lam = p[0]
        if lam > 50:
            return math.nan, np.array([math.nan])
        return 6.0 * math.log(lam) - 3.0 * lam, np.array([6.0 / lam - 3.0])

    res = _optim.maximize_loglik(
        ll, np.array([40.0]), n_obs=3.0, callback=lambda *a: calls.append(a)
    )
    assert res.params[0] == pytest.approx(2.0, rel=1e-6)
    assert calls and calls[-1][0] == res.diagnostics["n_starts"]


@pytest.mark.parametrize(
    ("message", "words"),
    [
        ("CONVERGENCE: NORM OF PROJECTED GRADIENT <= PGTOL", "the gradient vanished"),
        ("CONVERGENCE: REL_REDUCTION_OF_F_<=_FACTR*EPSMCH", "stopped improving"),
        ("ABNORMAL_TERMINATION_IN_LNSRCH", "the line search found no step"),
        ("STOP: TOTAL NO. of ITERATIONS REACHED LIMIT", "max_iter"),
        ("STOP: TOTAL NO. OF F,G EVALUATIONS EXCEEDS LIMIT", "likelihood evaluations"),
        ("NaN result encountered", "not a number"),
        ("Something Else:", "the optimiser stopped (something else)"),
        ("", "the optimiser stopped without giving a reason"),
    ],
)
def test_describe_status(message: str, words: str) -> None:
    assert words in _optim.describe_status(message)


def test_numeric_hessian_against_the_exact_one() -> None:
    def grad(p: FloatArray) -> FloatArray:  # of f = a^2 b^3 + log(a) b
        a, b = p
        return np.array([2 * a * b**3 + b / a, 3 * a**2 * b**2 + math.log(a)])

    a, b = p = np.array([1.7, 0.6])
    exact = np.array([[2 * b**3 - b / a**2, 6 * a * b**2 + 1 / a], [0.0, 6 * a**2 * b]])
    exact[1, 0] = exact[0, 1]
    got = _optim.numeric_hessian(grad, p)
    np.testing.assert_allclose(got, exact, rtol=1e-7)
    np.testing.assert_array_equal(got, got.T)


def test_single_thread_blas_limits_blas_inside_only() -> None:
    threadpoolctl = pytest.importorskip("threadpoolctl")
    with _optim.single_thread_blas():
        inside = threadpoolctl.threadpool_info()
    assert all(p["num_threads"] == 1 for p in inside if p["user_api"] == "blas")


def test_inexact_compression_keeps_continuous_rows_sorted_with_their_weights() -> None:
    """A likelihood needs each row once with its weight; continuous data is only sorted."""
    rng = np.random.default_rng(3)
    n = 20_000
    cols = [rng.integers(0, 5, n) / 1.0, rng.random(n), rng.random(n) + 1.0]
    w = rng.integers(0, 3, n).astype(float)
    unique, counts, inverse = _optim.compress_rows(cols, w, exact=False)
    assert np.all(np.diff(unique[0]) >= 0) and np.all(counts > 0)
    assert counts.sum() == w.sum() and counts.size == int((w > 0).sum())
    kept = inverse >= 0
    for u, c in zip(unique, cols, strict=True):
        np.testing.assert_array_equal(u[inverse[kept]], c[kept])
    few = [rng.integers(0, 5, n) / 1.0, rng.integers(0, 9, n) / 7.0]
    exact = _optim.compress_rows(few, exact=True)
    loose = _optim.compress_rows(few, exact=False)
    for a, b in zip(exact[0] + [exact[1]], loose[0] + [loose[1]], strict=True):
        np.testing.assert_array_equal(a, b)
